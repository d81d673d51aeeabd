"""The network's maths on a batch of networks: each equals the single-network maths on its own rows,
bit for bit, and the batched Jacobian and gradient match finite differences."""

import numpy as np
import pytest

from mlpfit._activations import ACTIVATIONS
from mlpfit._network import (
    Architecture,
    loss_and_grad,
    normal_equations,
    output_jacobian,
    residuals_and_jacobian,
    sum_squared_error,
)

BATCH = 4


def _batch(hidden=(5,), activation="tanh", n_features=2, n_outputs=1, n=30, seed=0):
    """``(arch, Theta, X, Y, W)``: BATCH networks, each with its own rows and weights (some rows weight 0, as
    padding is)."""
    rng = np.random.default_rng(seed)
    arch = Architecture((n_features, *hidden, n_outputs), activation)
    Theta = rng.normal(size=(BATCH, arch.n_params))
    X = rng.normal(size=(BATCH, n, n_features)) * rng.uniform(0.5, 3, size=(BATCH, 1, 1))
    Y = np.sin(X @ rng.normal(size=(BATCH, n_features, n_outputs))) + 0.1 * rng.normal(size=(BATCH, n, n_outputs))
    W = rng.uniform(0.2, 2.0, size=(BATCH, n))
    W[1, -7:] = 0.0  # the second network's last rows are padding
    return arch, Theta, X, Y, W


CONFIGURATIONS = [((5,), "tanh", 1), ((4, 3), "relu", 2), ((6,), "softplus", 3)]


@pytest.mark.parametrize("hidden, activation, n_outputs", CONFIGURATIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_each_network_of_a_batch_gets_the_single_network_results_exactly(hidden, activation, n_outputs, weighted):
    arch, Theta, X, Y, W = _batch(hidden, activation, n_outputs=n_outputs)
    W = W if weighted else None
    alpha = np.array([0.0, 0.1, 1.0, 3.0])
    loss, grad = loss_and_grad(arch, Theta, X, Y, alpha, W)
    jtj, jtr, sse = normal_equations(arch, Theta, X, Y, chunk_rows=7, sample_weight=W)
    sse_only = sum_squared_error(arch, Theta, X, Y, chunk_rows=7, sample_weight=W)
    outputs, jacobian = output_jacobian(arch, Theta, X)
    for b in range(BATCH):
        w = None if W is None else W[b]
        one_loss, one_grad = loss_and_grad(arch, Theta[b], X[b], Y[b], alpha[b], w)
        assert loss[b] == one_loss
        np.testing.assert_array_equal(grad[b], one_grad)
        one = normal_equations(arch, Theta[b], X[b], Y[b], chunk_rows=7, sample_weight=w)
        np.testing.assert_array_equal(jtj[b], one[0])
        np.testing.assert_array_equal(jtr[b], one[1])
        assert sse[b] == one[2]
        assert sse_only[b] == sum_squared_error(arch, Theta[b], X[b], Y[b], chunk_rows=7, sample_weight=w)
        one_outputs, one_jacobian = output_jacobian(arch, Theta[b], X[b])
        np.testing.assert_array_equal(outputs[b], one_outputs)
        np.testing.assert_array_equal(jacobian[b], one_jacobian)


def test_padding_rows_change_nothing():
    arch, Theta, X, Y, W = _batch()
    spoiled_X, spoiled_Y = X.copy(), Y.copy()
    spoiled_X[1, -7:], spoiled_Y[1, -7:] = 1e3, -1e3  # padding holds anything
    for before, after in zip(
        normal_equations(arch, Theta, X, Y, sample_weight=W),
        normal_equations(arch, Theta, spoiled_X, spoiled_Y, sample_weight=W),
    ):
        np.testing.assert_allclose(after, before, rtol=1e-13, atol=0)
    np.testing.assert_allclose(
        loss_and_grad(arch, Theta, spoiled_X, spoiled_Y, 0.1, W)[1],
        loss_and_grad(arch, Theta, X, Y, 0.1, W)[1],
        rtol=1e-13,
    )


@pytest.mark.parametrize("activation", sorted(name for name, a in ACTIVATIONS.items() if not a.kinked))
def test_batched_jacobian_and_gradient_match_finite_differences(activation):
    arch, Theta, X, Y, W = _batch((4, 3), activation, n_outputs=2, n=12)
    residuals, jacobian = residuals_and_jacobian(arch, Theta, X, Y, W)
    alpha = np.array([0.0, 0.5, 1.0, 2.0])
    _, grad = loss_and_grad(arch, Theta, X, Y, alpha, W)
    eps = 1e-6
    for p in range(arch.n_params):
        step = np.zeros(arch.n_params)
        step[p] = eps
        plus, minus = (
            residuals_and_jacobian(arch, Theta + step, X, Y, W)[0],
            residuals_and_jacobian(arch, Theta - step, X, Y, W)[0],
        )
        np.testing.assert_allclose(jacobian[..., p], (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-8)
        numeric = (
            loss_and_grad(arch, Theta + step, X, Y, alpha, W)[0] - loss_and_grad(arch, Theta - step, X, Y, alpha, W)[0]
        ) / (2 * eps)
        np.testing.assert_allclose(grad[:, p], numeric, rtol=1e-6, atol=1e-9)
