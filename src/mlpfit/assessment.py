"""How well a fitted model predicts, split by split: RMSE, MAE, R^2 and, for a model with intervals, coverage.

A split is a named set of rows, ``{"train": (X, y), "test": (X_test, y_test)}``: the rows the model was fitted on
and rows it never saw. The rows that early stopping held out for validation are not kept by the fit; what the fit
recorded of them, the validation loss at the kept weights, gives that split's RMSE, and its other statistics are
left out rather than guessed (they need the rows themselves). :func:`held_out_rows` draws a seeded test split, as
``mlpfit fit --test-fraction`` does, so that the same seed gives the same rows again.
"""

import math
from dataclasses import dataclass

import numpy as np

from .ensemble import networks_of

COVERAGE = 0.95
"""The nominal coverage of the central prediction intervals whose share of the data is reported."""
MIN_TRAINING_ROWS = 2
"""Fewest rows :func:`held_out_rows` leaves to fit on (the estimator's own minimum)."""
VALIDATION = "validation"
"""The name of the split early stopping held out, reported from the training record."""


@dataclass(frozen=True)
class SplitStatistics:
    """The statistics of one split, one entry per output.

    Attributes
    ----------
    name : str
    n_rows : int or None
        The split's rows; None for the validation split, whose rows the fit does not keep.
    rmse : ndarray of shape (n_outputs,) or None
        Root-mean-square error ``sqrt(mean((y - prediction)**2))``, in the target's units. None where it is not
        known per output (a validation split of several outputs: its pooled value is in ``note``).
    mae : ndarray of shape (n_outputs,) or None
        Mean absolute error ``mean(|y - prediction|)``.
    r2 : ndarray of shape (n_outputs,) or None
        Coefficient of determination ``1 - sum((y - prediction)**2) / sum((y - mean(y))**2)``; NaN for a split of
        fewer than two rows or a constant target.
    coverage : ndarray of shape (n_outputs,) or None
        The share of ``y`` inside the model's central ``predict_interval`` at the assessment's nominal coverage;
        None for a model without intervals.
    note : str
        How the numbers were obtained, where that is not plain (the validation split).
    """

    name: str
    n_rows: int | None
    rmse: np.ndarray | None
    mae: np.ndarray | None = None
    r2: np.ndarray | None = None
    coverage: np.ndarray | None = None
    note: str = ""


@dataclass(frozen=True)
class Assessment:
    """Per-split statistics of a fitted model (:func:`assess`); ``str()`` gives them as a table.

    Attributes
    ----------
    splits : tuple of SplitStatistics
        In the order given, the validation split (when the fit recorded one) after the first.
    y_names : tuple of str
        The outputs' names.
    coverage : float
        The nominal coverage of the intervals whose share of ``y`` is ``SplitStatistics.coverage``.
    """

    splits: tuple
    y_names: tuple
    coverage: float

    def table(self):
        """``(header, rows)``: the statistics as text cells, a row per split and output ("-" where unknown)."""
        with_coverage = any(split.coverage is not None for split in self.splits)
        header = ["split", "rows", "output", "RMSE", "MAE", "R^2"]
        header += [f"coverage ({self.coverage:.0%} interval)"] if with_coverage else []
        rows = []
        for split in self.splits:
            for k, name in enumerate(self.y_names):
                cells = [split.name, "-" if split.n_rows is None else str(split.n_rows), name]
                cells += [_cell(split.rmse, k), _cell(split.mae, k), _cell(split.r2, k, ".4f")]
                cells += [_cell(split.coverage, k, ".1%")] if with_coverage else []
                rows.append(cells)
        return header, rows

    @property
    def notes(self):
        """The splits' notes, each as ``"name: note"``."""
        return [f"{split.name}: {split.note}" for split in self.splits if split.note]

    def __str__(self):
        header, rows = self.table()
        widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip() for cells in [header, *rows]
        ]
        return "\n".join(lines + self.notes)


def _cell(values, k, spec=".4g"):
    if values is None:
        return "-"
    value = values[k]
    return "-" if math.isnan(value) else format(value, spec)


def _as_columns(A):
    A = np.asarray(A, dtype=np.float64)
    return A.reshape(len(A), -1)


def statistics(y, prediction, interval=None):
    """``(rmse, mae, r2, coverage)`` of ``prediction`` against ``y``, each of shape (n_outputs,).

    ``y`` and ``prediction`` are (n_samples,) or (n_samples, n_outputs); ``interval`` is ``(lower, upper)`` shaped
    like them, or None (coverage None). Squares are taken after dividing by each output's largest magnitude, so
    that they neither overflow nor underflow for targets near the ends of the float64 range.
    """
    Y, P = _as_columns(y), _as_columns(prediction)
    magnitude = np.abs(Y).max(axis=0, initial=0.0)
    magnitude[magnitude == 0] = 1.0
    errors = (Y - P) / magnitude
    rmse = magnitude * np.sqrt(np.mean(errors**2, axis=0))
    mae = magnitude * np.mean(np.abs(errors), axis=0)
    centred = Y / magnitude - np.mean(Y / magnitude, axis=0)
    total = np.sum(centred**2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where((total > 0) & (len(Y) >= 2), 1 - np.sum(errors**2, axis=0) / total, np.nan)
    coverage = None
    if interval is not None:
        lower, upper = (_as_columns(bound) for bound in interval)
        coverage = np.mean((lower <= Y) & (Y <= upper), axis=0)
    return rmse, mae, r2, coverage


def _split_statistics(model, name, X, y, coverage):
    interval = model.predict_interval(X, coverage=coverage) if hasattr(model, "predict_interval") else None
    rmse, mae, r2, covered = statistics(y, model.predict(X), interval)
    return SplitStatistics(name, len(_as_columns(y)), rmse, mae, r2, covered)


def recorded_validation(model):
    """``(rmse, pooled, n_networks)`` of the rows early stopping held out, from the training record; None when
    the fit held none out, or when the record is not of squared error on one held-out set (an ensemble, whose
    members each held out rows of their own, or a loss other than squared error).

    ``rmse`` is at the kept weights (the best validation loss recorded): in the target's units for one output
    (of the transformed target with ``target_transform``), else ``pooled`` is True and it is the root mean over
    all outputs of the standardised squared error. With several networks averaged it is the mean of theirs, all
    validated on the same rows (the average itself was not validated).
    """
    if len(networks_of(model)) > 1 or not hasattr(model, "fitted_"):
        return None
    runs = model.fitted_.runs
    if not (runs and runs[0].validation_curve) or model.loss != "squared_error":
        return None
    standardized = float(np.mean([np.sqrt(2 * min(run.validation_curve) / model.n_outputs_) for run in runs]))
    if model.n_outputs_ == 1:
        return standardized * float(model.y_scaler_.scale[0]), False, len(runs)
    return standardized, True, len(runs)


def _validation_statistics(model):
    """The validation split as the training record gives it, or None."""
    recorded = recorded_validation(model)
    if recorded is None:
        return None
    rmse, pooled, n_networks = recorded
    averaged = f", the mean of {n_networks} networks'" if n_networks > 1 else ""
    scale = "" if model.target_transform is None else f" of {model.target_transform}(y)"
    what = f"pooled RMSE over all outputs, standardised: {rmse:.4g}" if pooled else f"RMSE{scale}"
    share = model.plan_.validation_fraction
    note = (
        f"{share:.0%} of the training rows held out by early stopping; {what} at the kept weights, from the "
        f"training record{averaged} (the rows are not kept, so MAE, R^2 and coverage are not known)"
    )
    return SplitStatistics(VALIDATION, None, None if pooled else np.array([rmse]), note=note)


def assess(model, splits, *, coverage=COVERAGE, y_names=None):
    """RMSE, MAE, R^2 and (for a model with ``predict_interval``) coverage of a fitted model, split by split.

    Parameters
    ----------
    model : fitted estimator
        A :class:`~mlpfit.NeuralRegressor`, an :class:`~mlpfit.EnsembleRegressor`, or any regressor with
        ``predict`` (and optionally ``predict_interval(X, coverage=...)``).
    splits : dict of str -> (X, y)
        Named sets of rows in the order to report them, e.g. ``{"train": (X, y), "test": (X_test, y_test)}``;
        ``X`` as the model's ``predict`` takes it, ``y`` of shape (n_samples,) or (n_samples, n_outputs).
    coverage : float, default=0.95
        The nominal coverage of the central intervals whose share of ``y`` is reported.
    y_names : list of str or None
        The outputs' names (default ``y0, y1, ...``).

    Returns
    -------
    Assessment
        One :class:`SplitStatistics` per split; where the model stopped early on rows it held out, a
        ``"validation"`` split after the first, with its RMSE from the training record (see
        :func:`recorded_validation`).

    Notes
    -----
    The statistics weigh every row equally, whatever weights the fit used.
    """
    check_splits(splits)
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be a float in (0, 1); got {coverage!r}.")
    computed = [_split_statistics(model, name, X, y, coverage) for name, (X, y) in splits.items()]
    validation = _validation_statistics(model)
    if validation is not None:
        computed.insert(1, validation)
    n_outputs = len(computed[0].rmse)
    if y_names is not None and len(y_names) != n_outputs:
        raise ValueError(f"y_names must name the {n_outputs} output(s); got {len(y_names)}.")
    return Assessment(tuple(computed), tuple(y_names or [f"y{k}" for k in range(n_outputs)]), coverage)


def check_splits(splits):
    """Raise ValueError unless ``splits`` names at least one set of rows."""
    if not splits:
        raise ValueError("splits must name at least one set of rows, e.g. {'train': (X, y)}; got none.")


def held_out_rows(n_rows, test_fraction, random_state):
    """The sorted indices of a random ``test_fraction`` of ``n_rows`` rows, held out as a test split.

    ``ceil(test_fraction * n_rows)`` rows (at least one), drawn by ``numpy.random.RandomState(random_state)``, whose
    stream numpy keeps stable across versions, so a saved seed draws the same rows again. At least
    :data:`MIN_TRAINING_ROWS` rows must remain to fit on.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be a float in (0, 1); got {test_fraction!r}.")
    n_test = math.ceil(test_fraction * n_rows)
    if n_rows - n_test < MIN_TRAINING_ROWS:
        raise ValueError(
            f"a test fraction of {test_fraction:g} of {n_rows} rows holds out {n_test}, leaving {n_rows - n_test} "
            f"to fit on; fitting needs at least {MIN_TRAINING_ROWS}."
        )
    return np.sort(np.random.RandomState(random_state).permutation(n_rows)[:n_test])
