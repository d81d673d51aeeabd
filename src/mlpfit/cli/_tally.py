"""The report on fitted curves from their tally (:class:`~mlpfit.CurveTally`): what ``fit --group`` prints after
the fit and ``info`` prints of a directory of curves from its index. Light to import: no scikit-learn."""

from .._curve_directory import CurveDirectory
from .._curve_tally import CurveTally
from ._common import REPORT_CURVES


def part_files(directory):
    """How many part files a directory of curves has (a part whose curves all failed has none)."""
    return sum(record.file is not None for record in directory.parts_.values())


def report_lines(curves, name):
    """The fit report's lines on the curves (a batch or a directory of them): fitted and failed, stop reasons
    counted, the worst fits, findings."""
    tally = tally_of(curves)
    n_failed = tally.n_curves - tally.n_fitted
    yield f"curves: {tally.n_curves} (column {name!r}), {tally.n_fitted} fitted, {n_failed} failed"
    for group, error in tally.failed[:REPORT_CURVES]:
        yield f"  not fitted: {group}: {error}"
    if n_failed > REPORT_CURVES:
        directory = isinstance(curves, CurveDirectory)
        where = "each part's model file lists its curves" if directory else "--summary lists every curve"
        yield f"  ... and {n_failed - REPORT_CURVES} more ({where})"
    yield "stopped: " + ", ".join(f"{reason} {n}" for reason, n in _most_common(tally.stop_reasons))
    yield "worst training RMSE: " + ", ".join(f"{group} {rmse:.4g}" for group, rmse in tally.worst[:REPORT_CURVES])
    if tally.diagnosis:
        counted = ", ".join(f"{code} {n}" for code, n in _most_common(tally.diagnosis))
        yield f"diagnosis: {tally.n_with_findings} curves with findings ({counted}); 'mlpfit diagnose' lists them"
    elif tally.diagnosed:
        yield "diagnosis: no findings"


def tally_of(curves):
    """The :class:`~mlpfit.CurveTally` of a fitted batch or a directory of curves."""
    return curves.tally_ if isinstance(curves, CurveDirectory) else CurveTally.of(curves)


def _most_common(counts):
    """``counts``' items, most frequent first (ties in their order)."""
    return sorted(counts.items(), key=lambda item: -item[1])


def problems(curves):
    """The line saying how many curves failed or diverged, or None."""
    tally = tally_of(curves)
    failed, diverged = tally.n_curves - tally.n_fitted, tally.stop_reasons.get("diverged", 0)
    if not failed and not diverged:
        return None
    return (
        f"{failed} curve(s) could not be fitted and {diverged} diverged; the model of the others was written "
        "('mlpfit diagnose' says what to change)."
    )
