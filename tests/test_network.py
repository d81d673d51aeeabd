"""The network's maths: gradients and Jacobians against finite differences, a hand-worked step."""

import numpy as np
import pytest
from sklearn.base import clone

from mlpfit import NeuralRegressor, _network, gradient_check
from mlpfit._activations import ACTIVATIONS
from mlpfit._network import Architecture, average, loss_and_grad, output_jacobian, predict, residuals_and_jacobian


def _data(n_features=2, n_outputs=1, n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    Y = np.sin(X @ rng.normal(size=(n_features, n_outputs))) + 0.1 * rng.normal(size=(n, n_outputs))
    return X, Y


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [(5,), (4, 3, 5)])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_gradient_check_is_small_for_every_configuration(activation, hidden, n_outputs):
    X, Y = _data(n_outputs=n_outputs)
    y = Y[:, 0] if n_outputs == 1 else Y
    # At a fresh start a deeper layer's biases are zero, so a row that the whole first ReLU layer leaves off lies
    # exactly on the next layer's kinks, where central differences see half the slope the gradient takes. Most
    # seeds draw such a row for (4, 3, 5) ReLU units on these 40 rows; this seed's start draws none.
    estimator = NeuralRegressor(hidden, activation, alpha=0.3, random_state=4)
    assert gradient_check(estimator, X, y) < 1e-6


def test_gradient_check_uses_fitted_parameters():
    X, Y = _data()
    estimator = NeuralRegressor((6,), "tanh", alpha=1e-4, random_state=0, max_iter=50).fit(X, Y[:, 0])
    assert gradient_check(estimator, X, Y[:, 0]) < 1e-6


def test_gradient_check_uses_the_fitted_width_the_selection_chose():
    # catches a check that falls back to a fresh start (the plan's width, new weights) after a width selection
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(100, 1))
    y = np.mod(x[:, 0], 1.0) + 0.05 * rng.normal(size=100)  # a sawtooth: its teeth need selected hinges
    estimator = NeuralRegressor(n_averaged=1, random_state=0).fit(x, y)
    assert (
        estimator.plan_.selects_width and estimator.architecture_.layer_sizes[1] < estimator.plan_.hidden_layer_sizes[0]
    )
    fitted = gradient_check(estimator, x, y)
    assert fitted < 1e-5  # ReLU kinks near rows blur central differences a little
    assert fitted != gradient_check(clone(estimator), x, y)  # a fresh start checks other parameters ...
    estimator.set_params(random_state=1)  # ... and another seed would start, and select, differently
    assert gradient_check(estimator, x, y) == fitted


def test_gradient_check_catches_a_wrong_gradient(monkeypatch):
    import mlpfit.solvers._base as base

    X, Y = _data()

    def off_by_a_bit(arch, theta, X, Y, alpha=0.0, sample_weight=None):
        loss, grad = loss_and_grad(arch, theta, X, Y, alpha, sample_weight)
        grad = grad.copy()
        grad[arch.weight_mask] *= 1.01  # e.g. a penalty or chain-rule factor gone wrong
        return loss, grad

    monkeypatch.setattr(base._network, "loss_and_grad", off_by_a_bit)  # no public way to break the gradient
    assert gradient_check(NeuralRegressor((5,), random_state=0), X, Y[:, 0]) > 1e-3


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_activation_derivative_matches_finite_differences(activation):
    act = ACTIVATIONS[activation]
    z = np.linspace(-3, 3, 101) + 0.013  # avoid the kink at exactly 0
    eps = 1e-6
    numeric = (act.forward(z + eps) - act.forward(z - eps)) / (2 * eps)
    np.testing.assert_allclose(act.derivative(z, act.forward(z)), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [(4,), (3, 4, 2)])
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_jacobian_matches_finite_differences(activation, hidden, n_outputs):
    X, Y = _data(n_outputs=n_outputs, n=15)
    arch = Architecture((2, *hidden, n_outputs), activation)
    theta = np.random.default_rng(3).normal(size=arch.n_params)
    residuals, jacobian = residuals_and_jacobian(arch, theta, X, Y)
    eps = 1e-6
    numeric = np.empty_like(jacobian)
    for p in range(arch.n_params):
        step = np.zeros_like(theta)
        step[p] = eps
        plus = residuals_and_jacobian(arch, theta + step, X, Y)[0]
        minus = residuals_and_jacobian(arch, theta - step, X, Y)[0]
        numeric[:, p] = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(jacobian, numeric, rtol=1e-5, atol=1e-7)


def test_jacobian_agrees_with_the_gradient():
    X, Y = _data(n_outputs=2)
    arch = Architecture((2, 5, 2), "tanh")
    theta = np.random.default_rng(0).normal(size=arch.n_params)
    residuals, jacobian = residuals_and_jacobian(arch, theta, X, Y)
    loss, grad = loss_and_grad(arch, theta, X, Y)
    assert loss == pytest.approx(residuals @ residuals / (2 * len(X)))
    np.testing.assert_allclose(grad, jacobian.T @ residuals / len(X), rtol=1e-12, atol=1e-14)


def test_one_gradient_step_worked_by_hand():
    # One hidden ReLU unit: out = v * relu(w x + b) + c on two points, alpha = 0.
    arch = Architecture((1, 1, 1), "relu")
    w, b, v, c = 2.0, -1.0, 3.0, 0.5
    theta = np.array([w, b, v, c])
    X = np.array([[1.0], [0.25]])  # hidden pre-activations 1.0 (on) and -0.5 (off)
    Y = np.array([[2.0], [1.0]])
    # outputs: 3*1 + 0.5 = 3.5 and 0.5; errors 1.5 and -0.5; loss = (2.25 + 0.25) / 4
    loss, grad = loss_and_grad(arch, theta, X, Y)
    assert loss == pytest.approx(0.625)
    # d/dc = mean(err) = 0.5; d/dv = mean(err * h) = 1.5 * 1 / 2 = 0.75
    # d/dw = mean(err * v * x * [on]) = 1.5 * 3 * 1 / 2 = 2.25; d/db = 1.5 * 3 / 2 = 2.25
    np.testing.assert_allclose(grad, [2.25, 2.25, 0.75, 0.5])
    _, jac = output_jacobian(arch, theta, X)
    np.testing.assert_allclose(jac[:, 0, :], [[3.0, 3.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0]])


def test_pack_and_unpack_are_inverse():
    arch = Architecture((3, 4, 2), "relu")
    theta = np.arange(arch.n_params, dtype=float)
    coefs, intercepts = arch.unpack(theta)
    assert [W.shape for W in coefs] == [(3, 4), (4, 2)]
    np.testing.assert_array_equal(arch.pack(coefs, intercepts), theta)
    assert arch.weight_mask.sum() == 3 * 4 + 4 * 2


@pytest.mark.parametrize("hidden_widths", [[(4,), (7,)], [(3, 2), (5, 4), (2, 6)]])
def test_averaged_network_predicts_the_mean_of_its_networks(hidden_widths):
    X, _ = _data(n_features=2)
    rng = np.random.default_rng(1)
    arches = [Architecture((2, *widths, 2), "tanh") for widths in hidden_widths]
    thetas = [rng.normal(size=arch.n_params) for arch in arches]
    merged, theta = average(arches, thetas)
    assert merged.layer_sizes == (2, *np.sum(hidden_widths, axis=0), 2)
    expected = np.mean([predict(arch, t, X) for arch, t in zip(arches, thetas)], axis=0)
    np.testing.assert_allclose(predict(merged, theta, X), expected, atol=1e-12)


def test_average_refuses_networks_of_different_outlines():
    arches = [Architecture((1, 3, 1), "relu"), Architecture((1, 3, 1), "tanh")]
    with pytest.raises(ValueError, match="same inputs, outputs, depth and activation"):
        average(arches, [np.zeros(arch.n_params) for arch in arches])


def test_penalized_hessian_diagonal_and_effective_parameters_match_the_full_inverse():
    rng = np.random.default_rng(0)
    J = rng.normal(size=(40, 12))
    jtj = J.T @ J
    mask = np.arange(12) % 3 != 0
    diagonal, ridge = _network.penalized_hessian_diagonal(jtj, 0.7, mask)
    inverse = np.linalg.inv(jtj + np.diag(ridge))
    np.testing.assert_allclose(diagonal, np.diag(inverse), rtol=1e-10)
    assert _network.effective_parameters(diagonal, ridge) == pytest.approx(np.trace(jtj @ inverse), rel=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
def test_the_loss_and_gradient_over_row_chunks_are_those_of_all_rows_at_once(weighted):
    rng = np.random.default_rng(0)
    arch = Architecture((3, 7, 4, 2), "tanh")
    X, Y = rng.normal(size=(500, 3)), rng.normal(size=(500, 2))
    theta, weights = rng.normal(size=arch.n_params), (rng.uniform(0.1, 2, 500) if weighted else None)
    whole = loss_and_grad(arch, theta, X, Y, 0.3, weights, chunk_rows=500)
    chunked = loss_and_grad(arch, theta, X, Y, 0.3, weights, chunk_rows=77)
    assert chunked[0] == pytest.approx(whole[0], rel=1e-13)
    np.testing.assert_allclose(chunked[1], whole[1], rtol=1e-12, atol=1e-14)


def test_the_loss_and_gradient_of_many_rows_hold_one_chunk_of_activations_at_a_time():
    import tracemalloc

    arch = Architecture((2, 64, 1), "relu")
    X = np.random.default_rng(0).normal(size=(200_000, 2))
    Y, theta = X[:, :1].copy(), np.random.default_rng(1).normal(size=arch.n_params)
    tracemalloc.start()
    loss_and_grad(arch, theta, X, Y, 1e-3)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    all_at_once = 200_000 * 64 * 8  # one layer's activations over every row: 102 MB, twice that with z
    assert peak < all_at_once / 2
