"""Many curves in one call: each fitted as a NeuralRegressor fits it alone, their solver runs batched.

A dose-response per compound, a calibration per sensor, a decay per pixel: :class:`CurveBatch` fits
every curve with the settings of one estimator. Each curve is set up as ``estimator.fit`` sets up one
(its own checks, weighted set, plan, standardisation, hinge selection, seeds), the Levenberg-Marquardt
runs of all curves' networks go through the solver together (:func:`mlpfit._jobs.run_trainings`), and each
curve's runs make its model as ``fit`` makes one. Every curve is seeded by the estimator's ``random_state``
alike, so each curve's model is the one ``estimator.fit`` gives on that curve alone, bit for bit.
A curve whose data cannot be fitted (NaN, one distinct row, ...) is reported by its group and the others go on.
Curves too many for one machine's memory are fitted from a Dask DataFrame or a Parquet dataset, gathered into the
batch or written part by part into a directory (:mod:`mlpfit._dask_curves`, :mod:`mlpfit._curve_directory`).
"""

import os
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from ._dask_curves import fit_partitions, is_dask_source
from ._jobs import run_trainings
from ._params import Boolean, Constant, InstanceOf
from .diagnosis import diagnose
from .estimator import NeuralRegressor, start_training

SUMMARY_COLUMNS = ("group", "n_rows", "status", "stop_reason", "n_iter", "rmse", "effective_params", "diagnosis")
"""The columns of :attr:`CurveBatch.summary_`, in order."""
PARAMETER_CONSTRAINTS = {"estimator": [InstanceOf(NeuralRegressor), Constant(None)], "diagnose": [Boolean()]}
"""CurveBatch's parameters -> what each may be (checked when a model file is loaded)."""


@dataclass(frozen=True)
class _Curve:
    """One curve's data: its group, inputs (n, n_features), targets and weights (None: all 1)."""

    group: object
    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None = None


class CurveBatch(BaseEstimator):
    """Fit many independent curves in one call, each as ``estimator`` fits it alone.

    Parameters
    ----------
    estimator : NeuralRegressor or None, default=None
        The settings every curve is fitted with (``NeuralRegressor()`` when None). Its ``random_state``
        seeds every curve alike.
    diagnose : bool, default=True
        Run :func:`mlpfit.diagnose` on each fitted curve for the summary's ``diagnosis`` column.

    Attributes
    ----------
    groups_ : list
        The curves' groups, in the order they were given.
    estimators_ : dict
        Group -> the curve's fitted :class:`NeuralRegressor`; a curve that failed has none.
    errors_ : dict
        Group -> why the curve could not be fitted (the message of the error it raised).
    summary_ : dict of str -> ndarray
        One row per curve (:data:`SUMMARY_COLUMNS`): its group, rows, ``status`` ("fitted" or the error),
        stop reason, iterations, training RMSE in y's units, effective parameters (0 when not estimated) and
        diagnosis codes (";"-separated; empty when none or not diagnosed). :meth:`summary_frame` gives it as a
        pandas DataFrame.
    """

    def __init__(self, estimator=None, *, diagnose=True):
        self.estimator = estimator
        self.diagnose = diagnose

    def fit(self, X, y=None, *, groups=None, sample_weight=None, x=None):
        """Fit every curve.

        The curves come as one of:

        - ``X`` a mapping group -> ``(x, y)`` or a sequence of ``(x, y)`` pairs (groups 0, 1, ...), of any
          lengths, ``x`` 1-D (one input) or 2-D;
        - ``X`` and ``y`` of shape (n_curves, n_points): curve ``i`` is ``(X[i], y[i])``, one input;
        - a long table: ``X`` (n_rows,) or (n_rows, n_features), ``y`` (n_rows,) and ``groups`` (n_rows,),
          a curve per distinct group in order of first appearance; ``sample_weight`` (n_rows,) optional;
        - a long table too large for one machine: ``X`` a Dask DataFrame, or the path of a Parquet dataset
          (a glob allowed), and ``groups``, ``x`` (one name or a list), ``y`` and optionally ``sample_weight``
          the names of its numeric columns. The curves are fitted partition by partition on the active
          ``dask.distributed`` client's workers (else Dask's default scheduler) after the rows are regrouped
          by a hash of their group, so that no curve is split; each is the curve the in-process fit gives, on
          any number of workers (see :mod:`mlpfit._dask_curves`; the ``dask`` extra). For more curves than the
          client's memory holds, :meth:`fit_to_directory` writes them part by part instead.
        """
        if is_dask_source(X):
            return fit_partitions(self, X, groups=groups, x=x, y=y, sample_weight=sample_weight)
        if x is not None:
            raise ValueError("x names the input columns of a Dask DataFrame or Parquet dataset; give arrays as X.")
        curves = _curves(X, y, groups, sample_weight)
        template = NeuralRegressor() if self.estimator is None else self.estimator
        self.groups_ = [curve.group for curve in curves]
        if len(set(map(_key, self.groups_))) != len(curves):
            raise ValueError("groups must be distinct: two curves have the same group.")
        self.estimators_, self.errors_, trainings = {}, {}, {}
        for curve in curves:
            estimator = clone(template)
            try:
                trainings[curve.group] = estimator, start_training(estimator, curve.X, curve.y, curve.sample_weight)
            except ValueError as error:
                self.errors_[curve.group] = str(error)
        all_runs = run_trainings([training for _, training in trainings.values()])
        for (group, (estimator, training)), runs in zip(trainings.items(), all_runs):
            try:
                estimator.fitted_ = training.finished(runs)
            except ValueError as error:
                self.errors_[group] = str(error)
                continue
            self.estimators_[group] = estimator
        self.summary_ = self._summary(curves)
        return self

    def fit_to_directory(self, X, directory, *, groups, x, y, sample_weight=None, n_parts=None):
        """Fit the curves of a Dask DataFrame or Parquet dataset, each part written as a model file where it was
        fitted; the client holds none of the curves.

        Parameters
        ----------
        X : dask DataFrame, str or os.PathLike
            The long table, or the path of a Parquet dataset (a glob allowed); ``groups``, ``x``, ``y`` and
            ``sample_weight`` name its columns, as in :meth:`fit`.
        directory : str or os.PathLike
            Where the parts go: created when missing; if it exists, it must be empty or hold an earlier fit
            written here, which this one replaces. Every worker must reach it at this path (a shared file
            system on a cluster).
        n_parts : int or None, default=None
            Into how many parts the groups are spread, by a hash of each group's text (None: the table's number
            of partitions). Each part is one model file, so it must stay within the file's limits (tens of
            thousands of curves).

        Returns
        -------
        CurveDirectory
            The written directory, opened (its curves are read when asked for); its ``tally_`` says how the
            fits went. The batch itself stays unfitted.

        Notes
        -----
        The rows are shuffled by part, so no curve is split, and each partition's curves are fitted and written
        where the partition lies; only each part's :class:`CurveTally` and the checksum of its file come back.
        The index (``curves.json``) is written last, atomically: a directory without one holds no complete fit.
        Each curve is the one :meth:`fit` gives on the same table.
        """
        if not is_dask_source(X):
            raise ValueError(
                "fit_to_directory fits a Dask DataFrame or a Parquet dataset; for arrays in memory use fit and "
                "mlpfit.save."
            )
        return fit_partitions(
            self, X, groups=groups, x=x, y=y, sample_weight=sample_weight, directory=directory, n_parts=n_parts
        )

    @staticmethod
    def load(path):
        """The curves saved at ``path``: a model file (:func:`mlpfit.save`) as a :class:`CurveBatch`, or a directory
        (:meth:`fit_to_directory`) as a :class:`~mlpfit._curve_directory.CurveDirectory`, which reads a part when
        one of its curves is asked for. Both ``predict(group, X)`` and ``curve_estimator(group)``."""
        if os.path.isdir(path):
            from ._curve_directory import CurveDirectory

            return CurveDirectory(path)
        from .io import load

        model = load(path)
        if not isinstance(model, CurveBatch):
            raise ValueError(f"{os.fspath(path)} holds a {type(model).__name__}, not a CurveBatch.")
        return model

    def predict(self, group, X):
        """Predictions of curve ``group`` at ``X`` (as its estimator's ``predict``: 1-D ``X`` is one input)."""
        return self.curve_estimator(group).predict(_as_inputs(np.asarray(X)))

    def curve_estimator(self, group):
        """The fitted :class:`NeuralRegressor` of curve ``group``; a ValueError saying why when there is none."""
        check_is_fitted(self)
        if group in self.errors_:
            raise ValueError(f"curve {group!r} was not fitted: {self.errors_[group]}")
        if group not in self.estimators_:
            raise ValueError(f"no curve {group!r}; the batch has {len(self.groups_)} curves.")
        return self.estimators_[group]

    def summary_frame(self):
        """:attr:`summary_` as a pandas DataFrame (the ``tables`` extra)."""
        check_is_fitted(self)
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("summary_frame needs pandas: pip install 'mlpfit[tables]'.") from None
        return pd.DataFrame(self.summary_)

    def worst(self, n):
        """The groups of the ``n`` fitted curves of largest training RMSE, worst first: where to look first."""
        check_is_fitted(self)
        fitted = self.summary_["status"] == "fitted"
        order = np.argsort(-self.summary_["rmse"][fitted], kind="stable")
        return [self.groups_[i] for i in np.flatnonzero(fitted)[order[:n]]]

    def __sklearn_is_fitted__(self):
        return hasattr(self, "summary_")

    def _summary(self, curves):
        rows = [self._summary_row(curve) for curve in curves]
        return {name: np.array([row[k] for row in rows]) for k, name in enumerate(SUMMARY_COLUMNS)}

    def _summary_row(self, curve):
        """One curve's row of :attr:`summary_`."""
        if curve.group in self.errors_:
            return curve.group, len(curve.X), self.errors_[curve.group], "", 0, np.nan, np.nan, ""
        estimator = self.estimators_[curve.group]
        state = estimator.fitted_
        residuals = np.asarray(estimator.predict(curve.X)).reshape(len(curve.X), -1) - curve.y.reshape(len(curve.X), -1)
        weights = np.ones(len(curve.X)) if curve.sample_weight is None else curve.sample_weight
        rmse = float(np.sqrt(np.average(np.sum(residuals**2, axis=1), weights=weights)))
        effective = 0.0 if state.evidence is None else state.evidence.effective_params
        findings = diagnose(estimator, curve.X, curve.y).findings if self.diagnose else []
        codes = ";".join(dict.fromkeys(finding.code for finding in findings))  # most severe first, each once
        return curve.group, len(curve.X), "fitted", state.stop_reason, state.summary.n_iter, rmse, effective, codes


def _key(group):
    """A group as a dictionary key: numpy scalars as the Python values they hold."""
    return group.item() if isinstance(group, np.generic) else group


def _as_inputs(x):
    """A curve's ``x`` as a 2-D input array: 1-D is one input."""
    return x[:, None] if x.ndim == 1 else x


def _curves(X, y, groups, sample_weight):
    """The :class:`_Curve` list of :meth:`CurveBatch.fit`'s arguments."""
    if groups is not None:
        return _long_table(X, y, groups, sample_weight)
    if sample_weight is not None:
        raise ValueError("sample_weight is for a long table (with groups); give a curve's weights with its rows there.")
    if y is not None:
        X, y = np.asarray(X), np.asarray(y)
        if X.ndim != 2 or y.shape != X.shape:
            raise ValueError(
                f"X and y as arrays of curves must both have shape (n_curves, n_points); got {X.shape} and {y.shape}."
            )
        pairs = enumerate(zip(X, y))
    elif hasattr(X, "items"):
        pairs = X.items()
    else:
        pairs = enumerate(X)
    curves = []
    for group, pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"curve {group!r} must be an (x, y) pair; got {len(pair)} items.")
        curves.append(_Curve(_key(group), _as_inputs(np.asarray(pair[0])), np.asarray(pair[1])))
    if not curves:
        raise ValueError("no curves given.")
    return curves


def _long_table(X, y, groups, sample_weight):
    """The curves of a long table: one per distinct group, in order of first appearance."""
    X, y, groups = _as_inputs(np.asarray(X)), np.asarray(y), np.asarray(groups)
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    lengths = {"X": len(X), "y": len(y), "groups": len(groups)}
    if weights is not None:
        lengths["sample_weight"] = len(weights)
    if len(set(lengths.values())) != 1:
        raise ValueError(f"a long table's columns must have one length each; got {lengths}.")
    if not len(groups):
        raise ValueError("no curves given: the table has no rows.")
    distinct, first, codes = np.unique(groups, return_index=True, return_inverse=True)
    rows_of = np.split(np.argsort(codes, kind="stable"), np.cumsum(np.bincount(codes))[:-1])
    curves = []
    for code in np.argsort(first, kind="stable"):
        rows = rows_of[code]
        curves.append(_Curve(_key(distinct[code]), X[rows], y[rows], None if weights is None else weights[rows]))
    return curves
