"""piecewise_linear: the exact table of a ReLU-family network on one input, in the user's units."""

import numpy as np
import pytest

from mlpfit import NeuralRegressor, PiecewiseLinear, piecewise_linear
from mlpfit.datasets import make_origin
from mlpfit.piecewise import SAME_LINE_RTOL

GRID = np.linspace(-1000.0, 4000.0, 10_000)[:, None]  # the origin problem's data and well beyond both ends
FAR = np.concatenate([-np.logspace(12, 0, 300), GRID[:, 0], np.logspace(0, 12, 300)])[:, None]
"""The data and up to 1e12 either side, where a unit of near-zero weight bends."""


def assert_lines_differ(table):
    """Each listed breakpoint changes the slope or the intercept by more than rounding."""
    slopes, intercepts = np.atleast_2d(table.slopes.T).T, np.atleast_2d(table.intercepts.T).T
    slope_change = np.abs(np.diff(slopes, axis=0)) > SAME_LINE_RTOL * np.abs(slopes).max(axis=0)
    intercept_change = np.abs(np.diff(intercepts, axis=0)) > SAME_LINE_RTOL * np.abs(intercepts).max(axis=0)
    assert np.all(np.any(slope_change | intercept_change, axis=1))


def assert_equal_up_to_rounding(table, x, expected):
    """``table(x)`` within 1e-9 of the function's scale at x, ``max|slope| |x| + max|intercept|``."""
    scale = np.abs(x) * np.abs(table.slopes).max() + np.abs(table.intercepts).max()
    assert np.all(np.abs(table(x) - expected) <= 1e-9 * scale)


@pytest.mark.parametrize("hidden, activation", [((10,), "relu"), ((10, 10), "relu"), ((8, 6), "leaky_relu")])
def test_table_equals_predict(hidden, activation):
    X, y = make_origin(200, random_state=0)
    model = NeuralRegressor(hidden, activation, random_state=0).fit(X, y)
    table = piecewise_linear(model)
    np.testing.assert_allclose(table(GRID), model.predict(GRID), rtol=0, atol=1e-9)
    assert np.all(np.diff(table.breakpoints) > 0)
    assert len(table.slopes) == len(table.intercepts) == len(table.breakpoints) + 1
    # every listed breakpoint is a real kink: the slope changes there
    assert np.all(np.diff(table.slopes) != 0)


def test_one_hidden_layer_breakpoints_are_minus_b_over_w_in_raw_units():
    X, y = make_origin(200, random_state=1)
    model = NeuralRegressor(random_state=1).fit(X, y)
    w, b = model.coefs_[0][0], model.intercepts_[0]
    v = model.coefs_[1][:, 0]
    raw = model.x_scaler_.inverse_transform((-b / w)[:, None])[:, 0]
    expected = np.sort(raw[(w != 0) & (v != 0)])
    np.testing.assert_allclose(piecewise_linear(model).breakpoints, expected, rtol=1e-12)


def test_first_layer_breakpoints_are_where_units_switch():
    X, y = make_origin(200, random_state=1)
    network = NeuralRegressor(random_state=1).fit(X, y).fitted_.network
    kinks = network.first_layer_breakpoints()
    W, b = network.layers()[0][0][0], network.layers()[1][0]
    z = network.x_scaler.transform(kinks[:, None])[:, 0] * W + b
    assert np.allclose(z, 0.0, atol=1e-9) and len(kinks) == len(W)


def test_deeper_net_bends_where_second_layer_units_cross_zero():
    X, y = make_origin(200, random_state=2)
    model = NeuralRegressor((5, 5), random_state=2).fit(X, y)
    first_layer = model.x_scaler_.inverse_transform((-model.intercepts_[0] / model.coefs_[0][0])[:, None])[:, 0]
    extra = np.setdiff1d(np.round(model.piecewise_linear().breakpoints, 6), np.round(first_layer, 6))
    assert len(extra) > 0  # kinks that no first-layer unit has: found by walking the pattern


def test_hand_built_network_gives_the_exact_table():
    # relu(x - 1) - relu(x - 2): flat at 0, slope 1 between 1 and 2, flat at 1
    layers = [(np.array([[1.0, 1.0]]), np.array([-1.0, -2.0])), (np.array([[1.0], [-1.0]]), np.zeros(1))]
    table = piecewise_linear(layers, activation="relu")
    np.testing.assert_array_equal(table.breakpoints, [1.0, 2.0])
    np.testing.assert_array_equal(table.slopes, [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(table.intercepts, [0.0, -1.0, 1.0])
    np.testing.assert_array_equal(table([0.0, 1.5, 3.0]), [0.0, 0.5, 1.0])
    assert "3 segments" in str(table)


def test_several_outputs_share_breakpoints():
    X, y = make_origin(200, random_state=0)
    Y = np.column_stack([y, -2 * y])
    model = NeuralRegressor(random_state=0).fit(X, Y)
    table = model.piecewise_linear()
    assert isinstance(table, PiecewiseLinear) and table.slopes.shape == (len(table.breakpoints) + 1, 2)
    np.testing.assert_allclose(table(GRID), model.predict(GRID), rtol=0, atol=1e-9)


def test_the_estimators_piecewise_linear_method_equals_the_function():
    X, y = make_origin(200, random_state=0)
    model = NeuralRegressor(random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.piecewise_linear().breakpoints, piecewise_linear(model).breakpoints)


@pytest.mark.parametrize(
    "activation, n_features, message",
    [
        ("tanh", 1, "needs a piecewise-linear activation.*'tanh'"),
        ("relu", 2, "one input of numbers or dates; this model has 2 input column"),
    ],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_unsupported_networks_raise(activation, n_features, message):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, n_features))
    model = NeuralRegressor(activation=activation, max_iter=20, random_state=0).fit(X, X.sum(axis=1))
    with pytest.raises(ValueError, match=message):
        piecewise_linear(model)


def test_kinks_that_change_the_line_by_rounding_are_merged():
    # glorot starts and a penalty shrink some units' weights to ~0: they bend near x = -1e11 with slopes equal
    # on both sides and intercepts equal to 1e-10, which the table listed as breakpoints
    X, y = make_origin(200, random_state=1)
    model = NeuralRegressor(init="glorot", alpha=1.0, random_state=1).fit(X, y)
    table = piecewise_linear(model)
    assert_lines_differ(table)
    assert table.breakpoints.min() > -1e5
    assert_equal_up_to_rounding(table, FAR[:, 0], model.predict(FAR))


def relu_network(x, layers):
    """The hand-built layers' function, computed directly."""
    (W, b), (V, c) = layers
    return (np.maximum(np.outer(x, W[0]) + b, 0.0) @ V + c)[:, 0]


@pytest.mark.parametrize(
    "unit, breakpoints",
    [((1e-10, 0.03, 1e-10), [1.0]), ((1.0, -2.0, 1e-6), [1.0, 2.0])],
    ids=["weight ~0: bends at -3e8 by 1e-20, merged", "small but real bend at 2: kept"],
)
def test_hand_built_redundant_kink(unit, breakpoints):
    # relu(x - 1) and one more unit v * relu(w x + b)
    w, b, v = unit
    layers = [(np.array([[1.0, w]]), np.array([-1.0, b])), (np.array([[1.0], [v]]), np.zeros(1))]
    table = piecewise_linear(layers, activation="relu")
    np.testing.assert_array_equal(table.breakpoints, breakpoints)
    assert_lines_differ(table)
    assert_equal_up_to_rounding(table, FAR[:, 0], relu_network(FAR[:, 0], layers))


def test_evaluation_refuses_several_columns():
    table = piecewise_linear([(np.ones((1, 1)), np.zeros(1))])
    with pytest.raises(ValueError, match=r"x must have shape \(n_samples,\) or \(n_samples, 1\)"):
        table(np.zeros((3, 2)))
