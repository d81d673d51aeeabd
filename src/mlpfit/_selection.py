"""Model selection for one input and the initial parameter vectors: MARS forward selection of
hinges with generalised cross-validation, a ridge spline that tells smooth curves, and the initialisers.

Notes
-----
A ReLU unit ``max(w x + b, 0)`` on one input bends at its breakpoint ``x = -b / w``.
With zero biases every breakpoint sits at ``x = 0``; on data that lie wholly on one
side of zero (raw ``x >= 0``, say) each unit is then either off or linear on all of
it and the network can only draw a straight line. The breakpoint initialiser places
every first-layer unit's kink inside the training data: on one input at stratified
quantiles of ``x``, on several inputs as a hyperplane with a random direction
through a random point between two training rows. Later layers use He (ReLU family) or Glorot
scaling, and the linear output layer Glorot scaling.

A network with one input and one hidden layer of hinge units is a free-knot spline, and
gradient methods move knots slowly ("knot lethargy"): from evenly spread breakpoints a
fit to a curve whose detail is local (sharp bumps, jumps, a chirp) stalls with too few
kinks where the detail is. For that network the initialiser chooses the kinks from the
data instead (:func:`greedy_hinges`), as the forward pass of MARS does (Friedman 1991):
from candidate knots (stratified random quantiles, none among the outermost points) it
adds, one at a time, the hinge that most reduces the residual sum of squares (orthogonal
forward selection), keeps as many as generalised cross-validation supports, and solves
the output layer by least squares. For ReLU-family units it scores every candidate from running
sums over the rows sorted by ``x``, without forming the candidates (:class:`_SortedHinges`).
Where the width is given, units it does not keep start at stratified quantiles with zero
output weight, free for the solver to use; where it is not (``hidden_layer_sizes="auto"``),
the network has just the units kept, unless the curve is smooth enough that many small bends
fit it better than a few free knots (:func:`selected_hinge_network`).
"""

import numpy as np

from . import _weights
from ._activations import ACTIVATIONS
from ._network import Architecture


def _he(fan_in, fan_out, rng, scale):
    return rng.normal(0.0, scale * np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))


def _glorot(fan_in, fan_out, rng, scale):
    bound = scale * np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


def _normal(fan_in, fan_out, rng, scale):
    return rng.normal(0.0, scale, size=(fan_in, fan_out))


GREEDY_CANDIDATES_PER_UNIT = 8
"""Random candidate knots per hidden unit for :func:`greedy_hinges` (each in both directions)."""
GREEDY_GCV_COST = 4.0
"""Parameters GCV charges per selected hinge (MARS charges 2-4 per knot): it decides the selected width."""
GREEDY_PATIENCE = 8
"""Selection stops once this many hinges in a row have not improved the GCV criterion."""
GREEDY_END_SPAN = 8
"""No candidate knot among this many outermost points at each end (MARS's end span): it swings the extrapolation."""
GREEDY_MAX_ROWS = 100_000
"""Rows the selection sees (a random subset of larger data): more let GCV keep more hinges, at more cost."""
DENSE_MAX_ENTRIES = 65_536
"""Rows times candidate knots up to which the selection holds the candidate columns as one matrix
(:class:`_DenseHinges`); beyond, a piecewise-linear activation's are never formed (:class:`_SortedHinges`),
whose products cost a pass over the rows plus one over the knots instead of one per entry."""


def greedy_hinges(x, Y, n_units, activation, rng, sample_weight=None):
    """Knots and directions of the hinges a forward selection keeps, most useful first.

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
        The one input, standardised.
    Y : ndarray of shape (n_samples, n_outputs)
    n_units : int
        At most this many hinges.
    activation : Activation
        The hinge shape: candidates are ``activation(x - t)`` and ``activation(t - x)``.
    rng : numpy.random.Generator
        Draws the candidate knots (quantiles of ``x`` at uniform random levels), so that
        restarts and ensemble members start from different selections.
    sample_weight : ndarray of shape (n_samples,) or None
        Positive row weights: the least squares, quantiles and row counts are those of the rows
        repeated by them (see :mod:`mlpfit._weights`).

    Returns
    -------
    knots : ndarray of shape (m,)
    directions : ndarray of shape (m,)
        +1 for a unit rising to the right of its knot, -1 to the left; ``m <= n_units``.
    gcv : float
        The generalised cross-validation of the least-squares fit on them (``GREEDY_GCV_COST``).
    """
    n, rows = _weights.total(sample_weight, len(x)), _weights.count(sample_weight, len(x))
    end, n_candidates = min(GREEDY_END_SPAN / n, 0.25), min(rows, GREEDY_CANDIDATES_PER_UNIT * n_units)
    knots = _stratified_quantiles(x, n_candidates, rng, end=end, sample_weight=sample_weight)
    # The output bias is free: select on centred columns. Candidates are the rising columns, then the falling
    # ones. A falling hinge is the rising one minus a line (f(-z) = f(z) - k z for every hinge activation), so
    # only the rising columns' products are taken.
    dense = not activation.piecewise_linear or len(x) * n_candidates <= DENSE_MAX_ENTRIES
    rising = (_DenseHinges if dense else _SortedHinges)(x, knots, activation, sample_weight)
    line = mirror_slope(activation) * (x - _weights.mean(x, sample_weight))
    residual = Y - _weights.mean(Y, sample_weight)
    # With weights every vector is scaled by sqrt(w), so that the inner products below are weighted sums.
    line, residual = (_weights.scaled_rows(A, sample_weight) for A in (line, residual))
    sq_norms = np.r_[rising.sq_norms, rising.sq_norms - 2 * rising.products(line) + line @ line]
    correlations = _with_falling(rising.products(residual), line @ residual)
    negligible = 1e-10 * sq_norms.max()
    max_hinges = min(n_units, rows)  # no more orthogonal directions than rows, however wide the layer
    basis, chosen = np.empty((len(x), max_hinges)), []
    best_count, best_gcv = 0, _gcv(np.sum(residual**2), n, 0)
    while len(chosen) < max_hinges and len(chosen) - best_count < GREEDY_PATIENCE:
        gain = np.sum(correlations**2, axis=1) / np.maximum(sq_norms, negligible)
        gain[sq_norms <= negligible] = -np.inf
        gain[chosen] = -np.inf
        best = int(np.argmax(gain))
        if not np.isfinite(gain[best]):
            break
        direction = rising.column(best % n_candidates) - (line if best >= n_candidates else 0.0)
        earlier = basis[:, : len(chosen)]
        for _ in range(2):  # Gram-Schmidt, twice to stay orthogonal, so each step measures only what is new
            direction = direction - earlier @ (earlier.T @ direction)
        direction /= np.sqrt(direction @ direction)
        basis[:, len(chosen)] = direction
        projections, coefficient = _with_falling(rising.products(direction), line @ direction), direction @ residual
        sq_norms = sq_norms - projections**2
        residual = residual - direction[:, None] * coefficient
        correlations = correlations - projections[:, None] * coefficient
        chosen.append(best)
        gcv = _gcv(np.sum(residual**2), n, len(chosen))
        if gcv < best_gcv:
            best_count, best_gcv = len(chosen), gcv
    chosen = np.array(chosen[:best_count], dtype=int)
    return np.r_[knots, knots][chosen], np.where(chosen < len(knots), 1.0, -1.0), best_gcv


class _DenseHinges:
    """The rising candidate columns ``f(x - t)`` of any hinge activation at the given knots, centred and scaled by
    ``sqrt(w)`` (:func:`mlpfit._weights.scaled_rows`), held as one matrix of shape (n_samples, n_knots)."""

    def __init__(self, x, knots, activation, sample_weight=None):
        columns = activation.forward(x[:, None] - knots)
        columns -= _weights.mean(columns, sample_weight)
        self.columns = _weights.scaled_rows(columns, sample_weight)
        self.sq_norms = np.einsum("ij,ij->j", self.columns, self.columns)

    def products(self, A):
        """Each column's inner products with ``A`` of shape (n_samples,) or (n_samples, k): (n_knots,) or
        (n_knots, k)."""
        return self.columns.T @ A

    def column(self, j):
        """Column ``j``, of shape (n_samples,)."""
        return self.columns[:, j]


class _SortedHinges:
    """The columns :class:`_DenseHinges` holds, for a piecewise-linear hinge activation, never formed: their
    squared norms and products come from running sums over the rows sorted by ``x``.

    Notes
    -----
    Such an activation is ``f(z) = low z + slope max(z, 0)`` (``low = -f(-1)``, ``slope = f(1) + f(-1)``). In
    coordinates centred on the weighted mean of ``x`` (``u = x - xbar``, knot ``c = t - xbar``), the centred
    column of knot ``t`` is ``slope (h_c - m_c) + low u`` with ``h_c = max(u - c, 0)`` and ``m_c`` its weighted
    mean: the line is the same for every knot. The product of ``h_c - m_c`` with ``v`` (weighted) is

        ``sum_{u > c} w v u - c sum_{u > c} w v - m_c sum w v``,

    whose sums over ``u > c`` are running sums from the top of the rows sorted by ``x``, read at every knot. A
    product thus costs one pass over the rows, not one per knot, as in Friedman's (1991) fast updates of the
    MARS forward pass; the means and squared norms follow the same way from the sums of ``w``, ``w u`` and
    ``w u**2``. Centring keeps these sums free of the cancellation an offset ``x`` would bring.
    """

    def __init__(self, x, knots, activation, sample_weight=None):
        self.x, self.knots, self.activation, self.sample_weight = x, knots, activation, sample_weight
        self.order = np.argsort(x, kind="stable")[::-1]  # the rows from the top down, as the running sums take them
        self.above = len(x) - np.searchsorted(x[self.order[::-1]], knots, side="right")  # rows with x > t, per knot
        self.root_weights = None if sample_weight is None else np.sqrt(sample_weight)[self.order]
        self.low = -float(activation.forward(-np.ones(1))[0])
        self.slope = float(activation.forward(np.ones(1))[0]) - self.low
        weights = np.ones(len(x)) if sample_weight is None else sample_weight[self.order]
        total = weights.sum()
        x_mean = np.sum(weights * x[self.order]) / total
        u, self.centred_knots = x[self.order] - x_mean, knots - x_mean
        # Sums of w, w u and w u**2 over the rows above each knot.
        w, wu, wuu = (np.r_[0.0, np.cumsum(weights * u**power)][self.above] for power in range(3))
        c = self.centred_knots
        self.hinge_means = (wu - c * w) / total
        hinge_sq_norms = wuu - 2 * c * wu + c**2 * w - total * self.hinge_means**2
        line_sq_norm = np.sum(weights * u**2)
        # The hinge's product with the centred line u is sum_{u > c} w (u - c) u.
        cross = 2 * self.slope * self.low * (wuu - c * wu)
        self.sq_norms = self.slope**2 * hinge_sq_norms + cross + self.low**2 * line_sq_norm
        self.centred_x = u  # top down, as the rows of the running sums

    def products(self, A):
        """As :meth:`_DenseHinges.products`."""
        V = A.reshape(len(A), -1)[self.order].T
        V = V if self.root_weights is None else V * self.root_weights
        k = len(V)
        # Rows along the last axis, so that the running sums run over contiguous memory; a first column of
        # zeros: the sums over no rows.
        terms = np.zeros((2 * k, V.shape[1] + 1))
        terms[:k, 1:] = V
        np.multiply(V, self.centred_x, out=terms[k:, 1:])
        sums = np.cumsum(terms, axis=1)
        above, total = np.take(sums, self.above, axis=1).T, sums[:, -1]
        hinge = above[:, k:] - self.centred_knots[:, None] * above[:, :k] - self.hinge_means[:, None] * total[:k]
        products = self.slope * hinge + self.low * total[k:]
        return products.reshape(len(self.knots), *A.shape[1:])

    def column(self, j):
        """As :meth:`_DenseHinges.column`."""
        mean = self.slope * self.hinge_means[j] - self.low * self.centred_knots[j]
        return _weights.scaled_rows(self.activation.forward(self.x - self.knots[j]) - mean, self.sample_weight)


def _stratified_quantiles(x, n, rng, end=0.0, shuffle=False, sample_weight=None):
    """Quantiles of ``x`` (weighted: :func:`mlpfit._weights.quantile`) at ``n`` random levels, one uniform in
    each of ``n`` equal slices of ``[end, 1 - end]``, so that no wide gap is left between them; ``shuffle`` puts
    them in random order."""
    levels = (np.arange(n) + rng.uniform(size=n)) / max(n, 1)
    if shuffle:
        levels = rng.permutation(levels)
    return _weights.quantile(x, end + (1 - 2 * end) * levels, sample_weight)


def mirror_slope(activation):
    """The ``k`` of ``f(-z) = f(z) - k z``, which holds for every hinge activation (1 for relu and softplus)."""
    return float(activation.forward(np.ones(1))[0] - activation.forward(-np.ones(1))[0])


def _with_falling(rising, line):
    """Products of the rising candidate columns with a vector, then of the falling ones (rising minus the line)."""
    return np.concatenate([rising, rising - line])


def _gcv(rss, n_samples, n_hinges):
    """Generalised cross-validation of a fit with ``m = n_hinges`` selected hinges:
    ``RSS / n / (1 - (1 + cost m) / n)**2`` with ``cost = GREEDY_GCV_COST``."""
    return _generalised_cv(rss, n_samples, 1.0 + GREEDY_GCV_COST * n_hinges)


def _generalised_cv(rss, n_samples, dof):
    """``RSS / n / (1 - dof / n)**2``, the denominator floored for fits that all but interpolate."""
    return rss / n_samples / np.maximum(1.0 - dof / n_samples, 1e-3) ** 2


SMOOTH_GCV_RATIO = 0.85
"""A curve is smooth when the ridge spline's GCV (:func:`_smoother_gcv`) is under this fraction of the hinges'."""
SMOOTHER_KNOTS = 30
"""Knots of that spline, at evenly spaced quantiles of ``x``."""
SMOOTHER_PENALTIES = np.logspace(-8, 2, 41)
"""The ridge penalties (standardised data) the spline's GCV is minimised over."""
EXACT_FIT = 1e-12
"""A GCV under this fraction of the target's variance is an exact fit, rounding aside."""


def _smoother_gcv(x, Y, sample_weight=None):
    """GCV of the best ridge-penalised linear spline on ``SMOOTHER_KNOTS`` fixed knots: a smoother whose
    bends are many and small, as a wide network's are, where the selection's are few and free."""
    knots = _weights.quantile(x, (np.arange(SMOOTHER_KNOTS) + 0.5) / SMOOTHER_KNOTS, sample_weight)
    columns = np.column_stack([np.maximum(x[:, None] - knots, 0.0), x])
    columns -= _weights.mean(columns, sample_weight)
    residual = Y - _weights.mean(Y, sample_weight)
    columns, residual = _weights.scaled_rows(columns, sample_weight), _weights.scaled_rows(residual, sample_weight)
    # The columns' principal coordinates from their Gram matrix, cheaper than an SVD of the tall matrix.
    eigenvalues, vectors = np.linalg.eigh(columns.T @ columns)
    keep = eigenvalues > 1e-12 * eigenvalues[-1]
    eigenvalues = eigenvalues[keep]
    coordinates = vectors[:, keep].T @ (columns.T @ residual) / np.sqrt(eigenvalues)[:, None]
    projections = np.sum(coordinates**2, axis=1)
    outside = max(np.sum(residual**2) - projections.sum(), 0.0)
    shrink = eigenvalues / (eigenvalues + SMOOTHER_PENALTIES[:, None])
    rss = outside + ((1 - shrink) ** 2) @ projections
    n = _weights.total(sample_weight, len(x))
    return float(np.min(_generalised_cv(rss, n, 1.0 + shrink.sum(axis=1))))


def _select(X, Y, n_units, activation, rng, sample_weight=None):
    """The rows the selection sees (a random subset of larger data) with their weights, and the hinges it keeps
    there with their GCV."""
    rows = rng.permutation(len(X))[:GREEDY_MAX_ROWS] if len(X) > GREEDY_MAX_ROWS else slice(None)
    x, Y = X[rows, 0], Y[rows]
    weights = None if sample_weight is None else sample_weight[rows]
    return x, Y, weights, *greedy_hinges(x, Y, n_units, activation, rng, weights)


def _hinge_network(arch, x, Y, knots, directions, rng, scale, sample_weight=None):
    """One hidden layer on one input: the given hinges, the rest at quantiles, output layer by (weighted) least
    squares."""
    n_units = arch.layer_sizes[1]
    activation = ACTIVATIONS[arch.activation]
    n_kept, n_rest = len(knots), n_units - len(knots)
    knots = np.r_[knots, _stratified_quantiles(x, n_rest, rng, sample_weight=sample_weight)]
    directions = np.r_[directions, rng.choice([-1.0, 1.0], n_rest)]
    # Slopes of about one on the standardised input; the output layer absorbs the scale.
    slopes = directions * scale * (0.2 + np.abs(rng.normal(1.0, 0.3, n_units)))
    kept = activation.forward(slopes[:n_kept] * (x[:, None] - knots[:n_kept]))
    design = np.column_stack([kept, np.ones(len(x))])
    solution = np.linalg.lstsq(*(_weights.scaled_rows(A, sample_weight) for A in (design, Y)), rcond=None)[0]
    output_W = np.zeros((n_units, Y.shape[1]))
    output_W[:n_kept] = solution[:-1]
    return arch.pack([slopes[None, :], output_W], [-slopes * knots, solution[-1]])


def _greedy_network(arch, X, Y, rng, scale, sample_weight=None):
    """A given number of hinge units: the selected ones, and any left over free for the solver."""
    x, Y, weights, knots, directions, _ = _select(
        X, Y, arch.layer_sizes[1], ACTIVATIONS[arch.activation], rng, sample_weight
    )
    return _hinge_network(arch, x, Y, knots, directions, rng, scale, weights)


def selected_hinge_network(
    X, Y, max_units, activation, rng, init_scale=None, min_units=1, smooth_units=1, sample_weight=None
):
    """A network on one input with as many hinge units as the forward selection keeps.

    The width is the selection's: it keeps a hinge only while generalised cross-validation
    says the data support it (``GREEDY_GCV_COST``), so a curve with local detail gets many
    units, up to ``max_units``, and a gentle one few. No unit starts free to fit the noise, but
    for those that make up ``min_units``, and on a smooth curve: where a linear spline with many
    small bends has the lower GCV by a clear margin (``SMOOTH_GCV_RATIO``), the width is
    ``smooth_units``, the units beyond the selected ones free at quantiles, because few free knots
    draw a smooth curve as a coarse polygon whose ends swing. ``sample_weight`` weighs the rows
    (see :func:`greedy_hinges`).

    Returns
    -------
    arch : Architecture
        One hidden layer of ``activation`` units.
    theta : ndarray of shape (arch.n_params,)
    """
    x, Y, weights, knots, directions, gcv = _select(X, Y, max_units, ACTIVATIONS[activation], rng, sample_weight)
    width = max(len(knots), min_units, 1)
    exact = EXACT_FIT * np.sum(_weights.var(Y, weights))  # both fits within rounding of exact: a tie, not a win
    if smooth_units > width and _smoother_gcv(x, Y, weights) + exact < SMOOTH_GCV_RATIO * (gcv + exact):
        width = smooth_units
    arch = Architecture((1, width, Y.shape[1]), activation)
    scale = 1.0 if init_scale is None else init_scale
    return arch, _hinge_network(arch, x, Y, knots, directions, rng, scale, weights)


def _breakpoint_layer(X, fan_out, rng, scale, sample_weight=None):
    """First-layer weights and biases whose breakpoints lie inside the data (on one input at weighted quantiles;
    on several between two rows drawn in proportion to their weights)."""
    n_samples, fan_in = X.shape
    spread = _weights.std(X, sample_weight)
    spread[spread == 0] = 1.0
    W = _he(fan_in, fan_out, rng, scale) / spread[:, None]
    if fan_in == 1:
        anchors = _stratified_quantiles(X[:, 0], fan_out, rng, shuffle=True, sample_weight=sample_weight)
        b = -(anchors * W[0])
    else:
        # A point between two random rows: inside the data's hull, yet on no sample's kink.
        first, second = X[_weights.draw(rng, n_samples, (2, fan_out), sample_weight)]
        anchors = first + rng.uniform(size=(fan_out, 1)) * (second - first)
        b = -np.einsum("ij,ji->i", anchors, W)
    return W, b


_WEIGHT_INITIALIZERS = {"he": _he, "glorot": _glorot, "normal": _normal}
DATA_AWARE = ("selection", "breakpoints")
"""Methods that place hinge units' breakpoints inside the data (``"selection"`` chooses them on one input)."""
INIT_METHODS = ("auto", "breakpoints", "he", "glorot", "normal")
"""``NeuralRegressor``'s ``init`` options; the fit plan resolves ``"auto"`` to ``"selection"`` or ``"breakpoints"``."""
RESOLVED_INIT_METHODS = ("selection", "breakpoints", "he", "glorot", "normal")
"""What :func:`initialize` accepts: ``INIT_METHODS`` with ``"auto"`` resolved by the fit plan."""


def initialize(arch, X, Y, method, rng, init_scale=None, sample_weight=None):
    """A packed parameter vector for ``arch``.

    Parameters
    ----------
    arch : Architecture
    X : ndarray of shape (n_samples, n_features)
        Inputs as the network sees them; used only by ``"selection"`` and ``"breakpoints"``.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets as the network sees them; used only by ``method="selection"`` for one input and one
        hidden layer of hinge units, whose knots it selects (see module notes).
    method : {"selection", "breakpoints", "he", "glorot", "normal"}
        ``"breakpoints"`` places hinge units' breakpoints at random points inside the data
        (see module notes) and uses Glorot scaling for tanh, logistic and identity units;
        ``"selection"`` selects the breakpoints from the data where the network has one input
        and one hidden layer of hinge units, and places them as ``"breakpoints"`` elsewhere.
    rng : numpy.random.Generator
    init_scale : float or None
        For ``"normal"``, the weights' standard deviation (default 0.01); for the
        others, a multiplier of their standard scale (default 1).
    sample_weight : ndarray of shape (n_samples,) or None
        Row weights for the data-aware methods (see :mod:`mlpfit._weights`).

    Biases are zero except for the breakpoint-placed first layer.
    """
    if method == "normal":
        scale = 0.01 if init_scale is None else init_scale
    else:
        scale = 1.0 if init_scale is None else init_scale
    hinge = ACTIVATIONS[arch.activation].hinge
    if method == "selection" and hinge and arch.layer_sizes[0] == 1 and len(arch.layer_sizes) == 3:
        return _greedy_network(arch, X, Y, rng, scale, sample_weight)
    coefs, intercepts = [], []
    n_layers = len(arch.shapes)
    for layer, (fan_in, fan_out) in enumerate(arch.shapes):
        is_output = layer == n_layers - 1
        b = np.zeros(fan_out)
        if method in DATA_AWARE and layer == 0 and hinge and not is_output:
            W, b = _breakpoint_layer(X, fan_out, rng, scale, sample_weight)
        elif method in DATA_AWARE:
            name = "he" if hinge and not is_output else "glorot"
            W = _WEIGHT_INITIALIZERS[name](fan_in, fan_out, rng, scale)
        else:
            W = _WEIGHT_INITIALIZERS[method](fan_in, fan_out, rng, scale)
        coefs.append(W)
        intercepts.append(b)
    return arch.pack(coefs, intercepts)
