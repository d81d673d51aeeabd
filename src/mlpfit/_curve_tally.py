"""The tally of a set of fitted curves: their counts, stop reasons and findings, and the few worst or failed ones
by name. A module of its own, light to import, so that a directory of curves is described from its index alone
(``mlpfit info DIR``) without the fitting machinery."""

from collections import Counter
from dataclasses import dataclass

import numpy as np

TALLIED_CURVES = 5
"""Failed curves and worst fits a :class:`CurveTally` names by group (it counts the others)."""


@dataclass(frozen=True)
class CurveTally:
    """How the fits of many curves went, in a size that does not grow with their number.

    A fit written part by part (:meth:`CurveBatch.fit_to_directory`) returns this instead of the curves: each
    part's tally is made where the part was fitted, and :meth:`merged` adds them up.

    Attributes
    ----------
    n_curves, n_fitted, n_rows : int
        Curves, those fitted, and their rows.
    stop_reasons : dict
        Stop reason -> how many fitted curves stopped so.
    diagnosis : dict
        Diagnosis code -> how many fitted curves have such a finding (empty when not diagnosed).
    n_with_findings : int
        Fitted curves with at least one finding.
    failed : tuple of (group, str)
        The first :data:`TALLIED_CURVES` curves that could not be fitted, and why.
    worst : tuple of (group, float)
        The :data:`TALLIED_CURVES` fitted curves of largest training RMSE and their RMSE, worst first.
    diagnosed : bool
        Whether the curves were diagnosed (:attr:`CurveBatch.diagnose`).
    """

    n_curves: int
    n_fitted: int
    n_rows: int
    stop_reasons: dict
    diagnosis: dict
    n_with_findings: int
    failed: tuple
    worst: tuple
    diagnosed: bool

    @classmethod
    def of(cls, batch):
        """The tally of a fitted :class:`CurveBatch`."""
        summary = batch.summary_
        fitted = summary["status"] == "fitted"
        codes = [code for text in summary["diagnosis"][fitted] for code in text.split(";") if code]
        rmse = dict(zip(batch.groups_, summary["rmse"].tolist()))
        return cls(
            n_curves=len(batch.groups_),
            n_fitted=len(batch.estimators_),
            n_rows=int(summary["n_rows"].sum()),
            stop_reasons=dict(Counter(summary["stop_reason"][fitted].tolist())),
            diagnosis=dict(Counter(codes)),
            n_with_findings=int(np.count_nonzero(summary["diagnosis"][fitted])),
            failed=tuple((group, batch.errors_[group]) for group in batch.groups_ if group in batch.errors_)[
                :TALLIED_CURVES
            ],
            worst=tuple((group, rmse[group]) for group in batch.worst(TALLIED_CURVES)),
            diagnosed=batch.diagnose,
        )

    @classmethod
    def merged(cls, tallies):
        """One tally of the curves of ``tallies`` (the tallies of disjoint sets of curves, in order)."""
        counts = {name: Counter() for name in ("stop_reasons", "diagnosis")}
        for tally in tallies:
            for name, counter in counts.items():
                counter.update(getattr(tally, name))
        worst = sorted((pair for tally in tallies for pair in tally.worst), key=lambda pair: -pair[1])
        return cls(
            n_curves=sum(tally.n_curves for tally in tallies),
            n_fitted=sum(tally.n_fitted for tally in tallies),
            n_rows=sum(tally.n_rows for tally in tallies),
            **{name: dict(counter) for name, counter in counts.items()},
            n_with_findings=sum(tally.n_with_findings for tally in tallies),
            failed=tuple(pair for tally in tallies for pair in tally.failed)[:TALLIED_CURVES],
            worst=tuple(worst[:TALLIED_CURVES]),
            diagnosed=all(tally.diagnosed for tally in tallies),
        )
