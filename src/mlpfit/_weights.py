"""Sample weights: their check, and the weighted forms of the statistics a fit takes of its rows.

Notes
-----
Weights are frequencies: ``w_i`` multiplies row ``i``'s squared error, and a fit with integer
weights is the fit on the rows repeated that many times. A fit takes its data as a weighted set
(:func:`weighted_set`): rows equal in every input and target merge into one with their total
weight, rows of zero weight are dropped, and the rest are sorted. Integer weights and the rows
repeated that many times thus give the same arrays, as do the same rows in any order, and so the
same fit, bit for bit, whatever the solver and the random draws. What the fit computes weighs the rows:

- the objective is the weighted mean, ``(sum_i w_i |e_i|**2 + alpha |W|**2) / (2 sum_i w_i)``: the
  penalty's share is ``1 / sum(w)``, as it is ``1 / n`` for ``n`` rows, so scaling every weight by
  ``c`` acts as dividing ``alpha`` by ``c`` (repeating every row ``c`` times); only with
  ``alpha=0`` is the fit independent of the weights' scale;
- Levenberg-Marquardt's residuals and Jacobian rows are multiplied by ``sqrt(w_i)`` (its damping
  ``mu`` is absolute, so its path, not its optimum, depends on the weights' overall scale);
- Bayesian regularisation counts ``N = sum(w) * n_outputs`` residuals in its evidence;
- minibatches (Adam, SGD) take the penalty's share by their weight, ``sum(w[batch]) / sum(w)``;
- early stopping's validation rows keep their weights, and the validation loss is weighted;
- the standardisation uses weighted means and standard deviations;
- the start's quantiles (breakpoints on one input, the knots the hinge selection considers) are
  numpy's default linear quantiles of the repeated rows (:func:`quantile`); the hinge selection
  fits by weighted least squares and counts ``sum(w)`` rows in its candidates, end span and GCV;
  several inputs' breakpoints lie between two rows drawn in proportion to their weights (:func:`draw`);
- the variance head of ``loss="gaussian_nll"`` is fitted by the weighted likelihood.

What counts the distinct rows rather than weighing them: the fit plan (widths, solver, batch size and
averaging follow the rows the solver works through, and their cost); the rows held out for early
stopping or a homoscedastic ensemble member's noise, the minibatches and the selection's subset beyond
``GREEDY_MAX_ROWS`` rows, each drawn uniformly among the distinct rows, which keep their weights; and
the diagnosis after the fit. A row is held out whole: a repeated row lies on one side of a split, never
on both, where the validation would score the fit on a row it was trained on.

For known noise standard deviations ``sigma_i``, ``w_i = 1 / sigma_i**2`` (curve_fit's ``sigma``,
lmfit's ``weights**2``) scaled to mean 1, ``w / w.mean()``: then the weights only reshape the fit,
while the penalty and the evidence count the rows as they would without them.
"""

import numpy as np

MIN_WEIGHTED_ROWS = 2
"""Fewest rows of positive weight, and fewest distinct ones, a fit accepts (the estimator's minimum number of rows)."""


def check_sample_weight(sample_weight, X):
    """``sample_weight`` as a float64 array of X's rows (a number: the same weight for every row): finite,
    non-negative, at least ``MIN_WEIGHTED_ROWS`` of them positive.

    Raises ValueError naming ``sample_weight`` and what is wrong with it.
    """
    try:
        weights = np.array(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"sample_weight must be numeric: {error}") from None
    if weights.ndim == 0:
        weights = np.full(len(X), float(weights))
    if weights.ndim != 1:
        raise ValueError(f"sample_weight must be 1-D, one weight per row; got shape {weights.shape}.")
    if weights.shape != (len(X),):
        raise ValueError(f"sample_weight.shape == {weights.shape}, expected {(len(X),)}: one weight per row of X.")
    if np.isnan(weights).any():
        raise ValueError(f"sample_weight contains NaN (row {int(np.flatnonzero(np.isnan(weights))[0])}).")
    if np.isinf(weights).any():
        raise ValueError(f"sample_weight contains infinity (row {int(np.flatnonzero(np.isinf(weights))[0])}).")
    if (weights < 0).any():
        row = int(np.flatnonzero(weights < 0)[0])
        raise ValueError(f"sample_weight must be >= 0; row {row} has {weights[row]:g}.")
    if np.count_nonzero(weights) < MIN_WEIGHTED_ROWS:
        raise ValueError(
            f"sample_weight must give at least {MIN_WEIGHTED_ROWS} rows a positive weight; "
            f"{np.count_nonzero(weights)} have one, the other weights are zero."
        )
    return weights


def total(weights, n_rows):
    """How many rows the data stand for: ``n_rows`` without weights, else ``sum(weights)``."""
    return n_rows if weights is None else float(weights.sum())


def count(weights, n_rows):
    """``total`` as a whole number of rows (at least 1), for what counts rows (candidates, ranks)."""
    return n_rows if weights is None else max(1, round(float(weights.sum())))


def mean(A, weights):
    """Column means of ``A``, weighted when ``weights`` is not None."""
    return A.mean(axis=0) if weights is None else np.average(A, axis=0, weights=weights)


def var(A, weights):
    """Column variances (``ddof=0``) of ``A``, weighted when ``weights`` is not None."""
    if weights is None:
        return A.var(axis=0)
    return np.average((A - np.average(A, axis=0, weights=weights)) ** 2, axis=0, weights=weights)


def std(A, weights):
    """Column standard deviations (``ddof=0``) of ``A``, weighted when ``weights`` is not None."""
    return A.std(axis=0) if weights is None else np.sqrt(var(A, weights))


def sum_of_squares_about_mean(A, weights):
    """The (weighted) sum of squared deviations of ``A``'s columns from their (weighted) means."""
    if weights is None:
        return np.sum((A - A.mean(axis=0)) ** 2)
    return np.sum(weights[:, None] * (A - mean(A, weights)) ** 2)


def scaled_rows(A, weights):
    """``A`` with each row multiplied by ``sqrt(w)``: inner products of such arrays are weighted sums."""
    return A if weights is None else A * np.sqrt(weights).reshape(-1, *([1] * (A.ndim - 1)))


def quantile(x, levels, weights=None):
    """numpy's default (linear) quantiles of ``x``, of the rows repeated by ``weights`` when given.

    With weights the sorted rows stand for ``sum(w)`` repeated values; the quantile at level ``q``
    interpolates at position ``(sum(w) - 1) q`` among them, as ``np.quantile`` does among real
    repetitions, and so equals it (to the bit) for integer weights (and generalises it to any positive weights);
    without weights every row counts once, and the quantiles are ``np.quantile``'s to the bit.
    """
    order = np.argsort(x, kind="stable")
    values = x[order]
    cumulative = np.arange(1.0, len(x) + 1) if weights is None else np.cumsum(weights[order])
    position = (cumulative[-1] - 1) * np.asarray(levels, dtype=np.float64)
    below = np.floor(position)

    def value_at(index):
        return values[np.minimum(np.searchsorted(cumulative, index, side="right"), len(values) - 1)]

    low, high, fraction = value_at(below), value_at(below + 1), position - below
    # numpy's own interpolation, from the nearer end, so that the two agree to the last bit.
    return np.where(fraction >= 0.5, high - (high - low) * (1 - fraction), low + (high - low) * fraction)


def draw(rng, n_rows, size, weights=None):
    """Row indices drawn with replacement, each row with probability proportional to its weight (uniform
    without weights): a row of weight 2 is drawn as often as two equal rows of weight 1 together."""
    if weights is None:
        return rng.integers(n_rows, size=size)
    return rng.choice(n_rows, size=size, p=weights / weights.sum())


def weighted_set(X, Y, sample_weight):
    """``(X, Y, weights)``: the data as a weighted set, its distinct rows of positive weight in a canonical order.

    Rows equal in every input and target merge into one whose weight is their total, a row of zero weight
    is dropped, and the rows are sorted (by the first input, then the next, ..., then the targets), so that
    what a fit computes and draws depends on the rows and their weights, not on their order nor on whether
    a weight was given as a number or as repeated rows. ``weights`` is None where every one is 1.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), a number, or None
        Checked by :func:`check_sample_weight`.

    Raises ValueError when fewer than ``MIN_WEIGHTED_ROWS`` distinct rows are left.
    """
    weights = np.ones(len(X)) if sample_weight is None else check_sample_weight(sample_weight, X)
    order = np.lexsort([*Y.reshape(len(Y), -1).T[::-1], *X.T[::-1]])
    order = order[weights[order] > 0]
    X, Y, weights = X[order], Y[order], weights[order]
    # Equal rows now lie side by side (-0.0 == 0.0; adding 0.0 then gives a merged row one zero whatever the order).
    changes = np.column_stack([X[1:] != X[:-1], (Y[1:] != Y[:-1]).reshape(len(Y) - 1, -1)]).any(axis=1)
    first = np.flatnonzero(np.r_[True, changes])
    if len(first) < MIN_WEIGHTED_ROWS:
        raise ValueError(
            f"X and y must hold at least {MIN_WEIGHTED_ROWS} distinct rows of positive weight; all {len(X)} are "
            f"equal in every input and target, and equal rows count as one whose weight is their total."
        )
    weights = np.add.reduceat(weights, first)
    if len(first) < len(X):
        X, Y = X[first], Y[first]
    # Copies of the user's rows, so in place: adding 0.0 leaves every zero of one sign (-0.0 + 0.0 == 0.0).
    X += 0.0
    Y += 0.0
    return X, Y, None if np.all(weights == 1) else weights
