"""Initialisation: where the first layer's kinks start, and the hinge selection for one-input networks."""

import numpy as np
import pytest

from mlpfit import NeuralRegressor
from mlpfit._activations import ACTIVATIONS
from mlpfit._init import GREEDY_MAX_ROWS, HINGE_ACTIVATIONS, greedy_hinges, initialize, mirror_slope
from mlpfit._network import Architecture, predict
from mlpfit.datasets import make_curve

RELU = ACTIVATIONS["relu"]


def _kinked(x):
    """A noiseless broken line with kinks at -1, 0.2 and 1.1."""
    return np.maximum(x + 1, 0) - 2 * np.maximum(x - 0.2, 0) + 1.5 * np.maximum(x - 1.1, 0)


def test_greedy_selection_finds_the_kinks_of_a_broken_line():
    x = np.random.default_rng(0).uniform(-2, 2, 800)
    knots, directions = greedy_hinges(x, _kinked(x)[:, None], 10, RELU, np.random.default_rng(1))
    assert set(directions) <= {-1.0, 1.0}
    for true_knot in (-1.0, 0.2, 1.1):
        assert np.min(np.abs(knots - true_knot)) < 0.1  # candidates are random quantiles, ~0.05 apart


@pytest.mark.parametrize("name", sorted(HINGE_ACTIVATIONS))
def test_every_hinge_is_its_mirror_image_plus_a_line(name):
    # The selection stores only rising hinges and derives the falling ones from this identity.
    z = np.linspace(-30, 30, 601)
    activation = ACTIVATIONS[name]
    np.testing.assert_allclose(activation.forward(-z), activation.forward(z) - mirror_slope(activation) * z, atol=1e-12)


def test_greedy_selection_picks_falling_hinges_too():
    # Only a hinge falling to the left of 0.5 fits this curve with one unit.
    x = np.random.default_rng(4).uniform(-2, 2, 400)
    knots, directions = greedy_hinges(x, np.maximum(0.5 - x, 0)[:, None], 5, RELU, np.random.default_rng(5))
    assert directions[0] == -1.0 and abs(knots[0] - 0.5) < 0.1


def test_greedy_selection_keeps_almost_nothing_of_pure_noise():
    rng = np.random.default_rng(2)
    x = rng.uniform(-2, 2, 500)
    knots, _ = greedy_hinges(x, rng.normal(size=(500, 1)), 30, RELU, np.random.default_rng(3))
    assert len(knots) <= 2


def test_greedy_start_already_fits_the_broken_line_and_differs_between_seeds():
    x = np.random.default_rng(4).uniform(-2, 2, (400, 1))
    Y = _kinked(x)
    arch = Architecture((1, 8, 1), "relu")
    starts = [initialize(arch, x, Y, "auto", np.random.default_rng(seed)) for seed in (0, 1)]
    for theta in starts:
        assert np.sqrt(np.mean((predict(arch, theta, x) - Y) ** 2)) < 0.02
    assert not np.allclose(*starts)  # restarts and ensemble members start apart


def test_greedy_start_selects_on_a_subset_of_large_data():
    rng = np.random.default_rng(5)
    x = rng.uniform(-2, 2, (3 * GREEDY_MAX_ROWS, 1))
    Y = _kinked(x) + 0.01 * rng.normal(size=x.shape)
    arch = Architecture((1, 6, 1), "relu")
    theta = initialize(arch, x, Y, "auto", np.random.default_rng(0))
    assert np.sqrt(np.mean((predict(arch, theta, x) - Y) ** 2)) < 0.05


@pytest.mark.parametrize("layer_sizes, activation", [((2, 5, 1), "relu"), ((1, 4, 3, 1), "relu"), ((1, 5, 1), "tanh")])
def test_other_networks_keep_the_breakpoint_start(layer_sizes, activation):
    """The selection is for one input and one hidden layer of hinges; the rest ignore Y."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(50, layer_sizes[0]))
    arch = Architecture(layer_sizes, activation)
    with_y = initialize(arch, X, rng.normal(size=(50, 1)), "auto", np.random.default_rng(0))
    other_y = initialize(arch, X, rng.normal(size=(50, 1)), "auto", np.random.default_rng(0))
    np.testing.assert_array_equal(with_y, other_y)


def test_default_fit_finds_the_jumps_of_blocks():
    """Donoho and Johnstone's Blocks: from evenly spread kinks LM stalled at an RMSE near 1.0 against the truth."""
    X, y, _ = make_curve("blocks", random_state=0)
    X_fresh, _, truth = make_curve("blocks", 2000, noise=0.0, random_state=1)
    model = NeuralRegressor(random_state=0).fit(X, y)
    assert np.sqrt(np.mean((model.predict(X_fresh) - truth) ** 2)) < 0.55
