"""NeuralRegressor on Dask arrays and Dask DataFrames: the data checked and standardised by reductions over
their chunks, the fit through a :class:`~mlpfit._dask_problem.DaskProblem`, and a lazy ``predict``.

Notes
-----
What differs from a fit in memory, and why:

- The rows are taken as they are: equal rows are not merged nor the rows sorted (the weighted set of
  :mod:`mlpfit._weights` would need the whole table in one place). A Dask fit equals the in-memory fit of the
  same rows, to the order of its sums, where that fit's weighted set is the rows as given: distinct rows in
  sorted order. Rows of weight 0 are kept and weigh nothing, and the fit plan counts them.
- The checks (finite numbers, as many targets and weights as rows, weights >= 0) run over the chunks at once, and
  an error names the column, the row and the chunk. Inputs must be numbers: dates and text are encoded only in
  memory.
- The standardisation's means and standard deviations (summed in the in-memory blocks, so equal bit for bit),
  the targets' sum of squares and the input range are reductions of all rows; the start (the selection of
  hinges, the breakpoints) and the checks after the fit see all rows up to ``SAMPLE_ROWS``, beyond that a fixed
  random sample of that many.
- Only the full-batch solvers run (``"lm"``, ``"lbfgs"``); minibatches, early stopping's held-out rows,
  column transforms and the variance head of ``loss="gaussian_nll"`` are refused by name, as is ``n_jobs``:
  the workers share each step's sums instead.
"""

from dataclasses import dataclass
from functools import partial

import numpy as np
from sklearn.utils.validation import validate_data

from . import _scaling, _weights
from ._dask_problem import DaskProblem, held, per_block, summed, waves
from ._fitted import within
from ._memory import check_memory
from ._network import Architecture
from ._scaling import Scaler
from ._selection import GREEDY_MAX_ROWS

SAMPLE_ROWS = GREEDY_MAX_ROWS
"""Rows the start and the checks after the fit see of larger Dask data: as many as the selection of hinges takes."""
DASK_SOLVERS = ("lm", "lbfgs")
"""The solvers a Dask fit runs: their sums over all rows are reductions on the workers."""


def is_dask_collection(X):
    """Whether ``X`` is a Dask array or DataFrame (checked without importing Dask)."""
    return type(X).__module__.split(".")[0] in ("dask", "dask_expr")


@dataclass
class DaskTrainingData:
    """The rows of a Dask fit, checked, with what was learned of them (the in-memory fit's
    :class:`mlpfit.estimator.TrainingData`). ``X``, ``Y`` and ``sample_weight`` are the sample (NumPy) that the
    start and the checks after the fit see; ``rows`` the Dask arrays ``(X, Y, sample_weight)`` of all rows."""

    X: np.ndarray
    Y: np.ndarray
    sample_weight: np.ndarray | None
    rows: tuple
    y_ndim: int
    x_range: tuple
    y_range: tuple
    encoding: object = None
    transforms: tuple = (None, None)

    @property
    def shape(self):
        """``(n_rows, n_features, n_outputs)``, what the fit plan is made for."""
        return (*self.rows[0].shape, self.rows[1].shape[1])

    def check_plan(self, plan):
        """Refuse a ``plan`` a Dask fit cannot run (a minibatch solver), or whose ``P x P`` matrices this machine
        cannot hold (the rows stay on the workers)."""
        if plan.solver not in DASK_SOLVERS:
            chosen = f" (solver='auto' chose it: {plan.reasons['solver']})" if "solver" in plan.reasons else ""
            raise ValueError(
                f"solver={plan.solver!r} trains on minibatches, which a fit on Dask data does not draw{chosen}; "
                "pass solver='lbfgs' or 'lm'."
            )
        _, n_features, n_outputs = self.shape
        check_memory(plan.solver, 0, (n_features, *plan.hidden_layer_sizes, n_outputs))

    def scalers(self, standardize):
        """The input and target standardisation, from reductions over all rows."""
        X, Y, weights = self.rows
        if not standardize:
            return Scaler.identity(X.shape[1]), Scaler.identity(Y.shape[1])
        return tuple(
            Scaler.of_sums(*extremes, partial(_summed_in_blocks, A, weights))
            for A, extremes in ((X, self.x_range), (Y, self.y_range))
        )

    def problem(self, plan, scalers, activation, rng):
        """The objective on all rows standardised by ``scalers``, held on the workers (``rng`` is unused:
        a Dask fit holds out no rows)."""
        (x_scaler, y_scaler), (X, Y, weights) = scalers, self.rows
        X, Y = x_scaler.transform(X), y_scaler.transform(Y)
        total, sum_of_squares = _weight_and_sum_of_squares(Y, weights)
        sample = x_scaler.transform(self.X), y_scaler.transform(self.Y), self.sample_weight
        arch = Architecture((X.shape[1], *plan.hidden_layer_sizes, Y.shape[1]), activation)
        return DaskProblem(
            arch,
            X,
            Y,
            alpha=plan.bayes_start_alpha,
            sample_weight=weights,
            weight_sum=float(total),
            sum_of_squares=float(sum_of_squares),
            sample=sample,
            solver=plan.solver,
        )


def dask_training_data(estimator, X, y, sample_weight=None, encoding=None):
    """The :class:`DaskTrainingData` of ``estimator.fit(X, y, sample_weight)`` for a Dask array or DataFrame ``X``;
    sets ``estimator.n_features_in_`` (and ``feature_names_in_`` from a DataFrame's columns).

    ``y`` and ``sample_weight`` may be Dask collections or arrays in memory (then split as ``X``'s rows). Raises
    ValueError for what a Dask fit does not take (see module notes), naming it.
    """
    import dask.array as da  # importable: X is a Dask collection

    _check_options(estimator, encoding)
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but the target y is None.")
    validate_data(estimator, _columns_of(X), skip_check_array=True)  # the column names and count
    X = _as_array(da, X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D Dask array (n_samples, n_features); got shape {X.shape}.")
    y = _as_array(da, y, "y", rows=X.chunks[0])
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D, or 2-D with one column per target; got shape {y.shape}.")
    Y = (y[:, None] if y.ndim == 1 else y).rechunk({1: -1})
    if sample_weight is not None and np.ndim(sample_weight) == 0:
        sample_weight = da.full(X.shape[0], float(sample_weight), chunks=X.chunks[0])
    weights = None if sample_weight is None else _as_array(da, sample_weight, "sample_weight", rows=X.chunks[0])
    if weights is not None and weights.ndim != 1:
        raise ValueError(f"sample_weight must be 1-D, one weight per row; got shape {weights.shape}.")
    X, Y, weights = held(X.rechunk({1: -1}), Y, weights)
    x_range, y_range, weights_all_one = _checked(X, Y, weights, getattr(estimator, "feature_names_in_", None))
    rows = X, Y, None if weights_all_one else weights
    return DaskTrainingData(*_sample(*rows), rows, y.ndim, x_range, y_range)


UNSUPPORTED = {
    "loss": (
        lambda value: value != "squared_error",
        "the variance head is fitted to the residuals in memory; a fit on Dask data takes loss='squared_error'.",
    ),
    "target_transform": (
        lambda value: value is not None,
        "transforms are applied in memory; transform the Dask columns (e.g. with da.log) before fitting.",
    ),
    "input_transform": (
        lambda value: value is not None,
        "transforms are applied in memory; transform the Dask columns (e.g. with da.log) before fitting.",
    ),
    "early_stopping": (
        lambda value: value,
        "the held-out rows are drawn in memory; a fit on Dask data trains on all rows (alpha='bayes' "
        "regularises without them).",
    ),
    "n_jobs": (
        lambda value: value not in (None, 1),
        "a fit on Dask data trains its networks one after another, each step's sums spread over the workers; "
        "leave n_jobs=None.",
    ),
}
"""Parameter -> (whether a value is one a fit on Dask data refuses, why)."""


def _check_options(estimator, encoding):
    """Refuse, by name, a parameter value (or a given input encoding) that a fit on Dask data does not take."""
    params = estimator.get_params(deep=False)
    for name, (refused, why) in UNSUPPORTED.items():
        if refused(params[name]):
            raise ValueError(f"{name}={params[name]!r} is not supported on Dask data: {why}")
    if encoding is not None:
        raise ValueError("an input encoding (dates, text) is not supported on Dask data: its inputs are numbers.")


def _as_array(da, A, what, rows=None):
    """``A`` (a Dask array, DataFrame or Series, or an array in memory) as a float64 Dask array of known chunk
    sizes; ``rows``: split into these row chunks. Refuses what is not numbers, naming the column."""
    if hasattr(A, "to_dask_array"):  # a Dask DataFrame or Series
        dtypes = A.dtypes.items() if A.ndim == 2 else [(A.name, A.dtype)]
        for name, dtype in dtypes:
            _check_numbers(dtype, f"column {name!r} of {what}")
        A = A.to_dask_array(lengths=True)
    elif not is_dask_collection(A):
        A = np.asarray(A)
        _check_numbers(A.dtype, what)
        if rows is not None and len(A) != sum(rows):
            raise ValueError(f"{what} has {len(A)} rows; X has {sum(rows)}.")
        A = da.from_array(A, chunks=(rows or "auto", *A.shape[1:]))
    _check_numbers(A.dtype, what)
    if any(np.isnan(size) for size in A.chunks[0]):
        A = A.compute_chunk_sizes()
    if rows is not None and A.shape[0] != sum(rows):
        raise ValueError(f"{what} has {A.shape[0]} rows; X has {sum(rows)}.")
    A = A.astype(np.float64)
    return A if rows is None else A.rechunk({0: rows})


def _summed_in_blocks(A, weights, function, **arguments):
    """The sums of the standardisation (:meth:`~mlpfit._scaling.Scaler.of_sums`) over ``A``'s blocks of
    :data:`~mlpfit._scaling.BLOCK_ROWS` rows on the workers, added in the in-memory order."""
    blocks = [None if B is None else B.rechunk({0: _scaling.BLOCK_ROWS}) for B in (A, weights)]
    return summed(_without_targets, blocks[0], None, blocks[1], sums=function, arguments=arguments)


def _without_targets(A, _, weights, *, sums, arguments):
    return sums(A, weights, **arguments)


def _weight_and_sum_of_squares(Y, weights):
    """The weights' sum (the rows without weights) and the sum of squared deviations of ``Y`` from its mean, weighted,
    from sums over blocks on the workers (as the standardisation's)."""
    unit = np.ones(Y.shape[1])
    total, first = _summed_in_blocks(Y, weights, _scaling.weighted_sums, unit=unit)
    (second,) = _summed_in_blocks(Y, weights, _scaling.squared_deviation_sums, unit=unit, center=first / total)
    return float(total), float(second.sum())


def _columns_of(X):
    """What scikit-learn reads the column names and count of: a Dask DataFrame's empty pandas frame, else ``X``."""
    if hasattr(X, "to_dask_array") and X.ndim == 2:
        from dask.dataframe.utils import make_meta

        return make_meta(X)
    return X


def _check_numbers(dtype, what):
    if getattr(dtype, "kind", "O") not in "biuf":  # a pandas extension type too (a string's kind is "O")
        raise ValueError(
            f"{what} holds {dtype}, not numbers: a fit on Dask data takes numbers only (encode dates and text as "
            "numbers first, or fit in memory, which encodes them)."
        )


def _block_summary(X, Y, weights):
    """What the checks need of one row block: the first non-finite value or negative weight as ``(what, row,
    column, value)`` or None, the least and greatest values of the inputs and of the targets, the positive weights,
    whether every weight is 1."""
    problem = None
    for what, A in (("X", X), ("y", Y), ("sample_weight", weights)):
        if A is None or problem is not None:
            continue
        bad = ~np.isfinite(A) if what != "sample_weight" else ~(np.isfinite(A) & (A >= 0))
        if bad.any():
            row, *column = np.argwhere(bad)[0]
            problem = what, int(row), int(column[0]) if column else None, float(A[(row, *column)])
    extremes = [(A.min(axis=0), A.max(axis=0)) if len(A) else (np.full(A.shape[1], np.nan),) * 2 for A in (X, Y)]
    positive = len(X) if weights is None else int(np.count_nonzero(weights > 0))
    return problem, extremes, positive, weights is None or bool(np.all(weights == 1))


def _checked(X, Y, weights, names):
    """``(x_range, y_range, weights_all_one)`` of the rows, after checking, block by block on the workers, that
    every value is finite and every weight non-negative, with at least two rows of positive weight."""
    blocks, starts = per_block(_block_summary, X, Y, weights), np.cumsum((0, *X.chunks[0]))
    ranges = [(np.full(A.shape[1], np.inf), np.full(A.shape[1], -np.inf)) for A in (X, Y)]
    positive, all_one = 0, True
    for wave in waves(blocks.numblocks[0]):
        for chunk, (problem, extremes, block_positive, block_all_one) in enumerate(
            blocks[wave].compute(), start=wave.start
        ):
            if problem is not None:
                raise ValueError(_problem_message(*problem, starts[chunk], chunk, blocks.numblocks[0], names))
            ranges = [(np.fmin(low, a), np.fmax(high, b)) for (low, high), (a, b) in zip(ranges, extremes)]
            positive, all_one = positive + block_positive, all_one and block_all_one
    if positive < _weights.MIN_WEIGHTED_ROWS:
        raise ValueError(
            f"a fit needs at least {_weights.MIN_WEIGHTED_ROWS} rows of positive weight; the Dask data have {positive}."
        )
    return (*ranges, all_one)


def _problem_message(what, row, column, value, first_row, chunk, n_chunks, names):
    """The error for a non-finite value (or a negative weight): what, which column, which row, which chunk."""
    where = f"row {first_row + row} (row {row} of chunk {chunk} of {n_chunks})"
    if what == "sample_weight":
        wrong = "a negative weight" if value < 0 else f"the weight {value}"
        return f"sample_weight must be finite and >= 0; it has {wrong} in {where}."
    label = {"X": "input", "y": "target"}[what]
    name = repr(str(names[column])) if what == "X" and names is not None else str(column)
    return f"{what} has {value} in {label} column {name}, {where}: a fit needs finite numbers."


def _sample(X, Y, weights):
    """``(X, Y, sample_weight)`` in memory: every row up to ``SAMPLE_ROWS``, else a fixed random sample of that many
    (the same rows on every call)."""
    import dask

    n_rows = X.shape[0]
    if n_rows <= SAMPLE_ROWS:
        return dask.compute(X, Y, weights)
    rows = _distinct_rows(n_rows, SAMPLE_ROWS, np.random.default_rng(0))
    present = [A for A in (X, Y, weights) if A is not None]
    starts = np.cumsum((0, *X.chunks[0]))
    parts = [
        dask.compute(*(_rows_of(A.blocks[wave], rows, starts[wave.start]) for A in present))
        for wave in waves(X.numblocks[0])
    ]
    taken = [np.concatenate(arrays) for arrays in zip(*parts)]
    return (*taken, None) if weights is None else tuple(taken)


def _distinct_rows(n_rows, size, rng):
    """``size`` distinct row numbers below ``n_rows``, sorted, uniformly drawn: by draws with replacement until as
    many are distinct, so that memory follows ``size`` (``rng.choice`` without replacement takes ``n_rows``)."""
    rows = np.unique(rng.integers(0, n_rows, size))
    while len(rows) < size:
        rows = np.unique(np.concatenate([rows, rng.integers(0, n_rows, size - len(rows))]))
    return rows


def _rows_of(A, rows, first):
    """The rows of the Dask array ``A`` (whose first row is row ``first`` of the data) that are among ``rows`` (sorted
    row numbers of the data), lazily: each block gives its own, by a task per block.

    Not ``A[rows]``: Dask's fancy indexing builds a graph whose size grows with ``A``'s rows."""
    import dask

    starts = first + np.cumsum((0, *A.chunks[0]))
    bounds = np.searchsorted(rows, starts)
    blocks = A.to_delayed().ravel()
    parts = [
        dask.delayed(np.take)(block, rows[a:b] - start, axis=0)
        for block, start, a, b in zip(blocks, starts, bounds, bounds[1:])
        if b > a
    ]
    return dask.delayed(np.concatenate)(parts) if parts else np.empty((0, *A.shape[1:]))


def dask_predict(estimator, network, X, return_std=False):
    """``estimator.predict(X)`` of a Dask array or DataFrame ``X``, lazily: a Dask array of the predictions, block by
    block as ``X``'s rows (``network`` is the estimator's :class:`~mlpfit._fitted.FittedNetwork`).

    A non-finite input gives a NaN prediction rather than an error: nothing is computed until asked.
    """
    if return_std:
        raise ValueError("predict(return_std=True) is not supported on Dask data; predict the mean alone.")
    X = _dask_inputs(estimator, network, X)
    if network.y_ndim == 1:
        return X.map_blocks(_predicted, network, dtype=np.float64, drop_axis=1, meta=np.empty(0))
    outputs = (network.n_targets,)
    return X.map_blocks(_predicted, network, dtype=np.float64, chunks=(X.chunks[0], outputs), meta=np.empty((0, 0)))


def dask_in_range(estimator, network, X, x_range):
    """``estimator.in_range(X)`` of a Dask array or DataFrame ``X``, lazily, as :func:`dask_predict` predicts."""
    X = _dask_inputs(estimator, network, X)
    return X.map_blocks(within, x_range, dtype=bool, drop_axis=1, meta=np.empty(0, dtype=bool))


def _dask_inputs(estimator, network, X):
    """``X``, a Dask array or DataFrame of the inputs ``estimator`` was fitted on, checked (its columns' names,
    number and kinds) and as a float64 Dask array whose blocks hold whole rows."""
    if network.x_encoding is not None:
        raise ValueError("a model fitted on dates or text predicts them in memory only; its Dask inputs are numbers.")
    validate_data(estimator, _columns_of(X), reset=False, skip_check_array=True)  # the column names and count
    if hasattr(X, "to_dask_array"):
        for name, dtype in X.dtypes.items():
            _check_numbers(dtype, f"column {name!r} of X")
        X = X.to_dask_array()
    _check_numbers(X.dtype, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D Dask array (n_samples, n_features); got shape {X.shape}.")
    return X.astype(np.float64).rechunk({1: -1})


def _predicted(X, network):
    return network.as_target(network.predict(X))
