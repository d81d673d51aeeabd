"""Initialisation: where the first layer's kinks start, and the hinge selection for one-input networks."""

import numpy as np
import pytest

from mlpfit import NeuralRegressor, _weights
from mlpfit._activations import ACTIVATIONS
from mlpfit._network import Architecture, predict
from mlpfit._selection import (
    DENSE_MAX_ENTRIES,
    GREEDY_CANDIDATES_PER_UNIT,
    GREEDY_END_SPAN,
    GREEDY_MAX_ROWS,
    SMOOTHER_KNOTS,
    SMOOTHER_PENALTIES,
    _DenseHinges,
    _gcv,
    _smoother_gcv,
    _SortedHinges,
    _stratified_quantiles,
    greedy_hinges,
    initialize,
    mirror_slope,
    selected_hinge_network,
)
from mlpfit.datasets import make_curve

RELU = ACTIVATIONS["relu"]


def test_stratified_quantiles_put_one_level_in_each_slice():
    x = np.linspace(0.0, 1.0, 100_001)
    rng = np.random.default_rng(0)
    inside = _stratified_quantiles(x, 10, rng, end=0.1)
    assert np.all((inside >= 0.1 + 0.08 * np.arange(10) - 1e-9) & (inside <= 0.1 + 0.08 * np.arange(1, 11) + 1e-9))
    shuffled = _stratified_quantiles(x, 10, rng, shuffle=True)
    assert not np.all(np.diff(shuffled) > 0)
    assert np.all(np.floor(np.sort(shuffled) * 10) == np.arange(10))
    assert _stratified_quantiles(x, 0, rng).shape == (0,)


def _kinked(x):
    """A noiseless broken line with kinks at -1, 0.2 and 1.1."""
    return np.maximum(x + 1, 0) - 2 * np.maximum(x - 0.2, 0) + 1.5 * np.maximum(x - 1.1, 0)


# 800 rows hold their 80 candidates as a matrix, 2,000 take them from running sums (DENSE_MAX_ENTRIES).
@pytest.mark.parametrize("n_samples", [800, 2000])
def test_greedy_selection_finds_the_kinks_of_a_broken_line(n_samples):
    x = np.random.default_rng(0).uniform(-2, 2, n_samples)
    knots, directions, _ = greedy_hinges(x, _kinked(x)[:, None], 10, RELU, np.random.default_rng(1))
    assert set(directions) <= {-1.0, 1.0}
    for true_knot in (-1.0, 0.2, 1.1):
        assert np.min(np.abs(knots - true_knot)) < 0.1  # candidates are random quantiles, ~0.05 apart


@pytest.mark.parametrize("name", sorted(name for name, activation in ACTIVATIONS.items() if activation.hinge))
def test_every_hinge_is_its_mirror_image_plus_a_line(name):
    # The selection stores only rising hinges and derives the falling ones from this identity.
    z = np.linspace(-30, 30, 601)
    activation = ACTIVATIONS[name]
    np.testing.assert_allclose(activation.forward(-z), activation.forward(z) - mirror_slope(activation) * z, atol=1e-12)


def test_greedy_selection_picks_falling_hinges_too():
    # Only a hinge falling to the left of 0.5 fits this curve with one unit.
    x = np.random.default_rng(4).uniform(-2, 2, 400)
    knots, directions, _ = greedy_hinges(x, np.maximum(0.5 - x, 0)[:, None], 5, RELU, np.random.default_rng(5))
    assert directions[0] == -1.0 and abs(knots[0] - 0.5) < 0.1


def test_greedy_selection_keeps_almost_nothing_of_pure_noise():
    rng = np.random.default_rng(2)
    x = rng.uniform(-2, 2, 500)
    knots, *_ = greedy_hinges(x, rng.normal(size=(500, 1)), 30, RELU, np.random.default_rng(3))
    assert len(knots) <= 2


@pytest.mark.parametrize("n_samples", [300, 800])  # the candidates as a matrix, and from running sums
def test_greedy_gcv_is_that_of_least_squares_on_the_kept_hinges(n_samples):
    rng = np.random.default_rng(6)
    x = rng.uniform(-2, 2, n_samples)
    Y = np.column_stack([_kinked(x), np.sin(2 * x)]) + 0.1 * rng.normal(size=(n_samples, 2))
    knots, directions, gcv = greedy_hinges(x, Y, 20, RELU, np.random.default_rng(7))
    columns = np.column_stack([np.maximum(directions * (x[:, None] - knots), 0), np.ones(n_samples)])
    rss = np.sum((Y - columns @ np.linalg.lstsq(columns, Y, rcond=None)[0]) ** 2)
    np.testing.assert_allclose(gcv, _gcv(rss, n_samples, len(knots)), rtol=1e-9)


@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("offset", [0.0, 1e3])
def test_running_sums_give_the_candidate_matrix_products(name, weighted, offset):
    """The running sums' squared norms, products and columns are those of the centred, weighted matrix, also
    on unsorted rows, tied values, knots on rows and an input far from zero."""
    rng = np.random.default_rng(10)
    x = np.round(rng.normal(size=300), 1) + offset
    weights = rng.uniform(0.2, 3.0, 300) if weighted else None
    knots = np.r_[_stratified_quantiles(x, 100, rng, end=0.02, sample_weight=weights), x[:5]]
    dense, running = (kind(x, knots, ACTIVATIONS[name], weights) for kind in (_DenseHinges, _SortedHinges))
    np.testing.assert_allclose(running.sq_norms, dense.sq_norms, rtol=1e-10)
    for A in (rng.normal(size=300), rng.normal(size=(300, 3))):
        products = dense.products(A)
        np.testing.assert_allclose(running.products(A), products, rtol=0, atol=1e-12 * np.abs(products).max())
    for j in (0, 50, 103):
        np.testing.assert_allclose(running.column(j), dense.column(j), rtol=0, atol=1e-12)


def _refit_rss(columns, Y, weights):
    """The (weighted) residual sum of squares of least squares on ``columns`` and an intercept, solved anew."""
    design = np.column_stack([*columns, np.ones(len(Y))])
    root = np.sqrt(weights)[:, None]
    residual = root * Y - (root * design) @ np.linalg.lstsq(root * design, root * Y, rcond=None)[0]
    return np.sum(residual**2)


@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
@pytest.mark.parametrize("weighted", [False, True])
def test_each_selected_hinge_is_the_best_refit_of_every_candidate(name, weighted):
    """Forward selection by brute force: at each step, least squares refitted with each candidate hinge in turn
    (rising and falling, at the knots the selection draws) keeps the one the selection keeps, with the same
    GCV. 600 rows and 160 candidates: the running sums' size (``DENSE_MAX_ENTRIES``)."""
    rng = np.random.default_rng(11)
    x = rng.uniform(-2, 2, 600)
    Y = (_kinked(x) + 0.3 * rng.normal(size=600))[:, None]
    weights = rng.uniform(0.5, 2.0, 600) if weighted else None
    activation, n_units = ACTIVATIONS[name], 20
    assert 600 * GREEDY_CANDIDATES_PER_UNIT * n_units > DENSE_MAX_ENTRIES
    knots, directions, gcv = greedy_hinges(x, Y, n_units, activation, np.random.default_rng(12), weights)
    n = 600 if weights is None else weights.sum()
    candidates = _stratified_quantiles(
        x,
        GREEDY_CANDIDATES_PER_UNIT * n_units,
        np.random.default_rng(12),
        end=GREEDY_END_SPAN / n,
        sample_weight=weights,
    )
    weights = np.ones(600) if weights is None else weights
    chosen = []
    for knot, direction in zip(knots, directions):
        scores = {
            (t, d): _refit_rss([*chosen, activation.forward(d * (x - t))], Y, weights)
            for t in candidates
            for d in (1.0, -1.0)
        }
        assert min(scores, key=scores.get) == (knot, direction)
        chosen.append(activation.forward(direction * (x - knot)))
    assert len(knots) >= 3
    np.testing.assert_allclose(gcv, _gcv(_refit_rss(chosen, Y, weights), n, len(knots)), rtol=1e-9)


def test_unweighted_quantiles_are_numpys_to_the_bit():
    """The candidate knots and the units' breakpoints are np.quantile's, also on tied values and at the ends."""
    rng = np.random.default_rng(13)
    for n in (1, 2, 7, 500):
        x = np.round(rng.normal(size=n) * 100, 1)
        levels = np.r_[rng.uniform(size=20), 0.0, 0.5, 1.0]
        np.testing.assert_array_equal(_weights.quantile(x, levels), np.quantile(x, levels))


def test_smoother_gcv_is_the_best_ridge_fit_on_its_grid():
    rng = np.random.default_rng(8)
    x = rng.normal(size=120)
    Y = np.column_stack([np.sin(3 * x), x**2]) + 0.2 * rng.normal(size=(120, 2))
    knots = np.quantile(x, (np.arange(SMOOTHER_KNOTS) + 0.5) / SMOOTHER_KNOTS)
    H = np.column_stack([np.maximum(x[:, None] - knots, 0), x])
    H -= H.mean(axis=0)
    Yc = Y - Y.mean(axis=0)
    scores = []
    for penalty in SMOOTHER_PENALTIES:  # the ridge solution and its hat matrix, solved directly
        hat = H @ np.linalg.solve(H.T @ H + penalty * np.eye(H.shape[1]), H.T)
        rss = np.sum((Yc - hat @ Yc) ** 2)
        scores.append(rss / 120 / (1 - (1 + np.trace(hat)) / 120) ** 2)
    np.testing.assert_allclose(_smoother_gcv(x, Y), min(scores), rtol=1e-8)


def test_smooth_curves_get_free_units_and_curves_with_local_detail_do_not():
    # Where a spline of many small bends beats the few selected hinges by GCV, the width is
    # smooth_units (the rest free at quantiles); a broken line and an exact line keep the selection's.
    rng = np.random.default_rng(9)
    x = rng.uniform(-2, 2, (200, 1))
    noise = 0.1 * rng.normal(size=(200, 1))

    def width(Y):
        arch, _ = selected_hinge_network(x, Y, 50, "relu", np.random.default_rng(0), min_units=5, smooth_units=30)
        return arch.layer_sizes[1]

    assert width(np.sin(2 * x) + noise) == 30
    assert 3 <= width(_kinked(x) + 0.01 * noise) < 30
    assert width(2 * x) == 5


def test_greedy_start_already_fits_the_broken_line_and_differs_between_seeds():
    x = np.random.default_rng(4).uniform(-2, 2, (400, 1))
    Y = _kinked(x)
    arch = Architecture((1, 8, 1), "relu")
    starts = [initialize(arch, x, Y, "selection", np.random.default_rng(seed)) for seed in (0, 1)]
    for theta in starts:
        assert np.sqrt(np.mean((predict(arch, theta, x) - Y) ** 2)) < 0.02
    assert not np.allclose(*starts)  # restarts and ensemble members start apart


def test_greedy_start_selects_on_a_subset_of_large_data():
    rng = np.random.default_rng(5)
    x = rng.uniform(-2, 2, (3 * GREEDY_MAX_ROWS, 1))
    Y = _kinked(x) + 0.01 * rng.normal(size=x.shape)
    arch = Architecture((1, 6, 1), "relu")
    theta = initialize(arch, x, Y, "selection", np.random.default_rng(0))
    assert np.sqrt(np.mean((predict(arch, theta, x) - Y) ** 2)) < 0.05


@pytest.mark.parametrize("layer_sizes, activation", [((2, 5, 1), "relu"), ((1, 4, 3, 1), "relu"), ((1, 5, 1), "tanh")])
def test_other_networks_keep_the_breakpoint_start(layer_sizes, activation):
    """The selection is for one input and one hidden layer of hinges; the rest ignore Y."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(50, layer_sizes[0]))
    arch = Architecture(layer_sizes, activation)
    with_y = initialize(arch, X, rng.normal(size=(50, 1)), "selection", np.random.default_rng(0))
    other_y = initialize(arch, X, rng.normal(size=(50, 1)), "selection", np.random.default_rng(0))
    np.testing.assert_array_equal(with_y, other_y)


def test_default_fit_finds_the_jumps_of_blocks():
    """Donoho and Johnstone's Blocks: from evenly spread kinks LM stalled at an RMSE near 1.0 against the truth."""
    X, y, _ = make_curve("blocks", random_state=0)
    X_fresh, _, truth = make_curve("blocks", 2000, noise=0.0, random_state=1)
    model = NeuralRegressor(random_state=0).fit(X, y)
    assert np.sqrt(np.mean((model.predict(X_fresh) - truth) ** 2)) < 0.55
