"""The normal equations LM solves: the one-hidden-layer path built from the Jacobian's structure and the
general path built from the Jacobian itself agree with each other and with finite differences, for every
activation, several inputs and outputs, sample weights and leading batch axes."""

import numpy as np
import pytest

from mlpfit._activations import ACTIVATIONS
from mlpfit._network import Architecture, normal_equations, residuals_and_jacobian


def _problem(hidden, activation, n_features, n_outputs, batch=(), weighted=False, n=23, seed=0):
    rng = np.random.default_rng(seed)
    arch = Architecture((n_features, *hidden, n_outputs), activation)
    theta = rng.normal(size=(*batch, arch.n_params))
    X = rng.normal(size=(*batch, n, n_features))
    Y = rng.normal(size=(*batch, n, n_outputs))
    weights = rng.uniform(0.1, 3.0, size=(*batch, n)) if weighted else None
    return arch, theta, X, Y, weights


def _finite_difference_jacobian(arch, theta, X, Y, weights, eps=1e-6):
    columns = []
    for p in range(arch.n_params):
        step = np.zeros(arch.n_params)
        step[p] = eps
        plus = residuals_and_jacobian(arch, theta + step, X, Y, weights)[0]
        minus = residuals_and_jacobian(arch, theta - step, X, Y, weights)[0]
        columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=-1)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [(5,), (4, 3)])
@pytest.mark.parametrize("n_features, n_outputs", [(1, 1), (3, 2)])
@pytest.mark.parametrize("weighted", [False, True])
def test_normal_equations_match_finite_differences(activation, hidden, n_features, n_outputs, weighted):
    arch, theta, X, Y, weights = _problem(hidden, activation, n_features, n_outputs, weighted=weighted)
    residuals = residuals_and_jacobian(arch, theta, X, Y, weights)[0]
    numeric = _finite_difference_jacobian(arch, theta, X, Y, weights)
    jtj, jtr, sse = normal_equations(arch, theta, X, Y, chunk_rows=5, sample_weight=weights)
    np.testing.assert_allclose(jtj, numeric.T @ numeric, rtol=1e-6, atol=1e-6 * np.abs(jtj).max())
    np.testing.assert_allclose(jtr, numeric.T @ residuals, rtol=1e-6, atol=1e-6 * np.abs(jtr).max())
    assert sse == pytest.approx(residuals @ residuals, rel=1e-12)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("n_features, n_outputs", [(1, 1), (1, 4), (3, 1), (2, 3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_one_hidden_layer_products_equal_the_jacobians(activation, n_features, n_outputs, weighted):
    # leading batch axes (2, 3): each network's sums are those of its own Jacobian
    arch, theta, X, Y, weights = _problem((6,), activation, n_features, n_outputs, (2, 3), weighted, seed=1)
    residuals, jacobian = residuals_and_jacobian(arch, theta, X, Y, weights)
    jtj, jtr, sse = normal_equations(arch, theta, X, Y, chunk_rows=4, sample_weight=weights)
    transposed = np.swapaxes(jacobian, -1, -2)
    scale = np.abs(jtj).max()
    np.testing.assert_allclose(jtj, transposed @ jacobian, rtol=1e-12, atol=1e-13 * scale)
    np.testing.assert_allclose(jtr, (transposed @ residuals[..., None])[..., 0], rtol=1e-12, atol=1e-13 * scale)
    np.testing.assert_allclose(sse, np.sum(residuals**2, axis=-1), rtol=1e-13)
    np.testing.assert_array_equal(jtj, np.swapaxes(jtj, -1, -2))


def test_the_one_hidden_layer_path_is_the_single_network_arithmetic_inside_a_batch():
    arch, theta, X, Y, weights = _problem((7,), "softplus", 2, 3, (4,), weighted=True, n=50, seed=2)
    together = normal_equations(arch, theta, X, Y, chunk_rows=9, sample_weight=weights)
    for b in range(4):
        alone = normal_equations(arch, theta[b], X[b], Y[b], chunk_rows=9, sample_weight=weights[b])
        np.testing.assert_array_equal(together[0][b], alone[0])
        np.testing.assert_array_equal(together[1][b], alone[1])
        assert together[2][b] == alone[2]


@pytest.mark.parametrize("hidden", [(5,), (4, 3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_sums_over_row_blocks_added_in_order_are_the_sums_over_all_rows_bit_for_bit(monkeypatch, hidden, weighted):
    # what a cluster does: each block of rows summed where it lies, the blocks' sums added in order
    from mlpfit import _network

    monkeypatch.setattr(_network, "BLOCK_CHUNKS", 3)
    arch, theta, X, Y, weights = _problem(hidden, "tanh", 2, 2, weighted=weighted, n=100)
    chunk_rows = 7
    block = _network.block_rows(chunk_rows)
    sums = {
        "normal equations": lambda rows: _network.normal_equation_sums(
            arch, theta, X[rows], Y[rows], chunk_rows, None if weights is None else weights[rows]
        ),
        "loss and gradient": lambda rows: _network.sum_and_gradient(
            arch, theta, X[rows], Y[rows], None if weights is None else weights[rows], chunk_rows
        ),
        "squared errors": lambda rows: (
            _network.sum_squared_error(
                arch, theta, X[rows], Y[rows], chunk_rows, None if weights is None else weights[rows]
            ),
        ),
    }
    for name, summed in sums.items():
        whole = summed(slice(None))
        by_blocks = _network.add_in_order([summed(slice(start, start + block)) for start in range(0, 100, block)])
        for a, b in zip(whole, by_blocks, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)
        one_sum = _network.add_in_order([summed(slice(start, start + 5)) for start in range(0, 100, 5)])
        assert any(not np.array_equal(a, b) for a, b in zip(whole, one_sum)), f"{name}: the order is not tested"
