"""The network's mathematics as pure functions over one packed parameter vector.

A network maps ``X`` of shape (n_samples, n_features) through hidden layers
``a = activation(a_prev @ W + b)`` to a linear output layer. All parameters live
in one float64 vector ``theta`` laid out layer by layer as ``[W_1, b_1, W_2, b_2, ...]``
(each ``W`` in C order); :class:`Architecture` knows the layout. Every solver and
every gradient check uses exactly these functions:

- :func:`loss_and_grad` for the squared-error objective (L-BFGS, Adam, SGD),
- :func:`residuals_and_jacobian` for least-squares solvers (Levenberg-Marquardt),
- :func:`forward` and :func:`backward` for other losses built on the same network.

Each also takes a batch of independent networks of one architecture: ``theta`` of shape
(..., n_params) with ``X`` (..., n_samples, n_features) and ``Y`` (..., n_samples, n_outputs),
every leading index one network on its own rows (padding rows carry ``sample_weight`` 0). With one
network the arithmetic is the single-network arithmetic, operation for operation.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.linalg import block_diag
from scipy.linalg.lapack import dpotrf, dtrtri

from ._activations import ACTIVATIONS


@dataclass(frozen=True)
class Architecture:
    """Layer sizes ``(n_inputs, hidden..., n_outputs)`` and the hidden activation."""

    layer_sizes: tuple
    activation: str

    @cached_property
    def shapes(self):
        """``[(fan_in, fan_out), ...]`` for each weight matrix."""
        return list(zip(self.layer_sizes[:-1], self.layer_sizes[1:]))

    @cached_property
    def slices(self):
        """``[(weight_slice, bias_slice), ...]`` into ``theta`` for each layer."""
        out, start = [], 0
        for fan_in, fan_out in self.shapes:
            w_end = start + fan_in * fan_out
            out.append((slice(start, w_end), slice(w_end, w_end + fan_out)))
            start = w_end + fan_out
        return out

    @cached_property
    def n_params(self):
        return self.slices[-1][1].stop

    @cached_property
    def weight_mask(self):
        """Boolean mask of ``theta`` selecting weights (the L2 penalty skips biases)."""
        mask = np.zeros(self.n_params, dtype=bool)
        for w, _ in self.slices:
            mask[w] = True
        return mask

    def unpack(self, theta):
        """Views ``(coefs, intercepts)`` of ``theta`` (..., n_params): lists of (..., fan_in, fan_out) and
        (..., fan_out) arrays."""
        batch = theta.shape[:-1]
        coefs = [theta[..., w].reshape(*batch, *shape) for (w, _), shape in zip(self.slices, self.shapes)]
        intercepts = [theta[..., b] for _, b in self.slices]
        return coefs, intercepts

    def pack(self, coefs, intercepts):
        """Inverse of :meth:`unpack`: one float64 vector of length ``n_params``."""
        parts = []
        for W, b in zip(coefs, intercepts):
            parts += [np.ravel(W), np.ravel(b)]
        return np.concatenate(parts).astype(np.float64)


def average(arches, thetas):
    """One network whose output is the mean of the given networks' outputs.

    Their hidden units are put side by side: the first layer's weights side by side (the inputs
    are shared), deeper layers' block-diagonally (no unit reads another network's units), and the
    output layer's weights stacked and divided by their number, with the output biases averaged.
    The networks must share inputs, outputs, depth and activation; widths may differ.
    """
    if len({(a.layer_sizes[0], a.layer_sizes[-1], len(a.layer_sizes), a.activation) for a in arches}) != 1:
        raise ValueError("average needs networks of the same inputs, outputs, depth and activation.")
    unpacked = [arch.unpack(theta) for arch, theta in zip(arches, thetas)]
    coefs_by_network, intercepts_by_network = zip(*unpacked)
    n_layers, count = len(arches[0].shapes), len(arches)
    coefs, intercepts = [], []
    layers = zip(zip(*coefs_by_network), zip(*intercepts_by_network))
    for layer, (layer_coefs, layer_intercepts) in enumerate(layers):
        if layer == n_layers - 1:
            coefs.append(np.vstack(layer_coefs) / count)
            intercepts.append(np.mean(layer_intercepts, axis=0))
        else:
            coefs.append(np.hstack(layer_coefs) if layer == 0 else block_diag(*layer_coefs))
            intercepts.append(np.concatenate(layer_intercepts))
    sizes = (arches[0].layer_sizes[0], *(W.shape[1] for W in coefs))
    merged = Architecture(sizes, arches[0].activation)
    return merged, merged.pack(coefs, intercepts)


def forward(arch, theta, X):
    """Run the network, keeping what backpropagation needs.

    Returns
    -------
    activations : list of ndarray
        ``[X, a_1, ..., output]``; the output has shape (..., n_samples, n_outputs).
    pre_activations : list of ndarray
        ``[z_1, ..., z_L]`` of the hidden layers.
    """
    act = ACTIVATIONS[arch.activation]
    coefs, intercepts = arch.unpack(theta)
    activations, pre_activations = [X], []
    a = X
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        z = a @ W + b[..., None, :]
        a = act.forward(z)
        pre_activations.append(z)
        activations.append(a)
    activations.append(a @ coefs[-1] + intercepts[-1][..., None, :])
    return activations, pre_activations


def predict(arch, theta, X):
    """Network output of shape (..., n_samples, n_outputs)."""
    return forward(arch, theta, X)[0][-1]


def backward(arch, theta, activations, pre_activations, output_grad):
    """Gradient of a loss with respect to ``theta`` given ``dLoss/dOutput``.

    ``output_grad`` has the output's shape (..., n_samples, n_outputs); the result is
    the packed gradient (..., n_params), summed over samples.
    """
    act = ACTIVATIONS[arch.activation]
    coefs, _ = arch.unpack(theta)
    batch = theta.shape[:-1]
    grad = np.empty((*batch, arch.n_params))
    delta = output_grad
    for layer in range(len(coefs) - 1, -1, -1):
        w_slice, b_slice = arch.slices[layer]
        grad[..., w_slice] = (_transposed(activations[layer]) @ delta).reshape(*batch, -1)
        grad[..., b_slice] = delta.sum(axis=-2)
        if layer:
            z = pre_activations[layer - 1]
            delta = (delta @ _transposed(coefs[layer])) * act.derivative(z, activations[layer])
    return grad


def _transposed(A):
    """Each matrix of a stack (..., m, k) transposed: ``A.T`` of one matrix."""
    return A.swapaxes(-1, -2)


def inner(u, v):
    """``u @ v`` of each pair of vectors of stacks (..., k), summed for each as ``u @ v`` sums one pair."""
    return (u[..., None, :] @ v[..., :, None])[..., 0, 0]


def loss_and_grad(arch, theta, X, Y, alpha=0.0, sample_weight=None, chunk_rows=None):
    """Squared-error loss with L2 penalty and its gradient.

    ``loss = (sum((output - Y)**2) + alpha * sum(W**2)) / (2 * n_samples)``,
    i.e. half the mean over samples of the squared error summed over outputs,
    with the weights (not biases) penalised as in scikit-learn's MLP. With
    ``sample_weight`` ``w`` the mean is weighted: row ``i``'s squared error counts ``w_i``
    times and ``n_samples`` becomes ``sum(w)`` (see :mod:`mlpfit._weights`). The sums run over
    row chunks, so memory does not grow with the rows beyond the data (see :func:`normal_equations`).

    Parameters
    ----------
    X : ndarray of shape (..., n_samples, n_features)
    Y : ndarray of shape (..., n_samples, n_outputs)
    alpha : float or ndarray of shape (...)
    sample_weight : ndarray of shape (..., n_samples) or None
    chunk_rows : int or None
        Rows per chunk; None uses :func:`default_gradient_chunk_rows`.

    Returns
    -------
    loss : float, or ndarray of shape (...) for a batch
    grad : ndarray of shape (..., n_params)
    """
    n = X.shape[-2] if sample_weight is None else sample_weight.sum(axis=-1)
    squared_error, grad = sum_and_gradient(arch, theta, X, Y, sample_weight, chunk_rows)
    return penalised_mean(arch, theta, squared_error, grad, n, alpha)


def sum_and_gradient(arch, theta, X, Y, sample_weight=None, chunk_rows=None):
    """The (weighted) sum of squared errors and the gradient of half of it, summed over row chunks
    (:func:`_blocked_sum`): the sums :func:`loss_and_grad` takes its mean of (:func:`penalised_mean`)."""

    def chunk_sums(rows):
        activations, pre_activations = forward(arch, theta, X[..., rows, :])
        error = activations[-1] - Y[..., rows, :]
        weighted_error = error if sample_weight is None else error * sample_weight[..., rows, None]
        squared_error = np.einsum("...ij,...ij->...", weighted_error, error)
        return squared_error, backward(arch, theta, activations, pre_activations, weighted_error)

    return _blocked_sum(chunk_sums, X.shape[-2], chunk_rows or default_gradient_chunk_rows(arch))


def penalised_mean(arch, theta, squared_error, grad, n, alpha=0.0):
    """:func:`loss_and_grad` from the sums of :func:`sum_and_gradient` over ``n`` rows (their weights' sum)."""
    n = np.asarray(n)
    weights = np.ascontiguousarray(theta[..., arch.weight_mask])  # a strided dot sums in another order
    loss = (squared_error + alpha * inner(weights, weights)) / (2 * n)
    grad = grad / n[..., None]
    if np.any(alpha):
        grad[..., arch.weight_mask] += (np.asarray(alpha) / n)[..., None] * weights
    return loss, grad


def output_jacobian(arch, theta, X):
    """Per-sample derivative of every output with respect to every parameter.

    Returns
    -------
    outputs : ndarray of shape (..., n_samples, n_outputs)
    jacobian : ndarray of shape (..., n_samples, n_outputs, n_params)
        ``jacobian[i, k, p] = d output[i, k] / d theta[p]``.
    """
    act = ACTIVATIONS[arch.activation]
    coefs, _ = arch.unpack(theta)
    activations, pre_activations = forward(arch, theta, X)
    rows = activations[-1].shape
    jacobian = np.empty((*rows, arch.n_params))
    # delta[..., i, k, j] = d output[i, k] / d z_layer[i, j], starting at the linear output.
    delta = np.broadcast_to(np.eye(rows[-1]), (*rows, rows[-1]))
    for layer in range(len(coefs) - 1, -1, -1):
        w_slice, b_slice = arch.slices[layer]
        a_prev = activations[layer]
        block = jacobian[..., w_slice].reshape(*rows, *arch.shapes[layer])
        np.multiply(a_prev[..., :, None, :, None], delta[..., :, :, None, :], out=block)
        jacobian[..., b_slice] = delta
        if layer:
            derivative = act.derivative(pre_activations[layer - 1], activations[layer])
            delta = (delta @ _transposed(coefs[layer])[..., None, :, :]) * derivative[..., :, None, :]
    return activations[-1], jacobian


def residuals_and_jacobian(arch, theta, X, Y, sample_weight=None):
    """Residuals ``output - Y`` flattened sample-major and their Jacobian.

    The least-squares form of :func:`loss_and_grad` without the penalty:
    ``loss = residuals @ residuals / (2 n)`` and ``grad = jacobian.T @ residuals / n``.
    With ``sample_weight`` each row's residuals and Jacobian rows are multiplied by
    ``sqrt(w)`` (in place), so that the same sums are the weighted ones and ``n`` is ``sum(w)``.

    Returns
    -------
    residuals : ndarray of shape (..., n_samples * n_outputs)
    jacobian : ndarray of shape (..., n_samples * n_outputs, n_params)
    """
    outputs, jacobian = output_jacobian(arch, theta, X)
    residuals = outputs - Y
    if sample_weight is not None:
        root = np.sqrt(sample_weight)
        residuals *= root[..., None]
        jacobian *= root[..., None, None]
    batch = outputs.shape[:-2]
    return residuals.reshape(*batch, -1), jacobian.reshape(*batch, -1, arch.n_params)


CHUNK_ENTRIES = 2**20
"""Numbers a row chunk's Jacobian holds (8 MiB of float64) in :func:`normal_equations` of a deeper network."""
GRADIENT_CHUNK_ENTRIES = 2**17
"""Numbers a row chunk's activations hold in :func:`loss_and_grad`: its few per-row arrays stay in cache."""
FACTOR_CHUNK_ENTRIES = 2**18
"""Numbers a row chunk's factor matrix holds in :func:`normal_equations` of a one-hidden-layer network: a chunk
small enough for its elementwise work to stay in cache, large enough for the symmetric product to run at speed."""


BLOCK_CHUNKS = 16
"""Row chunks per block of a sum over rows (:func:`_blocked_sum`): a block is what one task of a cluster sums
(:mod:`mlpfit._dask_problem`), large enough for its work to outweigh a task's overhead."""


def row_chunks(n_rows, chunk_rows, start=0):
    """Slices of ``chunk_rows`` consecutive rows (the last may be shorter) from row ``start`` to ``n_rows``."""
    for first in range(start, n_rows, chunk_rows):
        yield slice(first, min(first + chunk_rows, n_rows))


def block_rows(chunk_rows):
    """Rows per block of :func:`_blocked_sum` for chunks of ``chunk_rows`` rows."""
    return BLOCK_CHUNKS * chunk_rows


def _blocked_sum(chunk_sums, n_rows, chunk_rows):
    """The tuple of arrays ``chunk_sums(rows)`` summed over the row chunks: in order within each block of
    ``BLOCK_CHUNKS`` chunks, then the blocks' sums in order.

    The order is a block's own: the sums of rows held as blocks of :func:`block_rows` rows on a cluster's workers,
    each summed there by this function and added in block order (:func:`add_in_order`), are these bit for bit.
    """
    if n_rows <= chunk_rows:  # one chunk, the sum of small data: without the loops' overhead, the same sums
        return chunk_sums(slice(0, n_rows))
    total = None
    for start in range(0, n_rows, block_rows(chunk_rows)):
        end = min(start + block_rows(chunk_rows), n_rows)
        block = add_in_order(map(chunk_sums, row_chunks(end, chunk_rows, start)))
        total = add_in_order([total, block])
    return total


def add_in_order(parts):
    """Tuples of arrays added element by element, in order (None entries skipped)."""
    total = None
    for part in parts:
        if part is not None:
            total = part if total is None else tuple(a + b for a, b in zip(total, part))
    return total


def default_chunk_rows(arch, n_outputs):
    """Rows per chunk of :func:`normal_equations`: one chunk's Jacobian (deeper networks) holds about
    ``CHUNK_ENTRIES`` numbers, its factor matrix (one hidden layer) about ``FACTOR_CHUNK_ENTRIES``."""
    if len(arch.shapes) == 2:
        return max(1, FACTOR_CHUNK_ENTRIES // _n_factors(arch))
    return max(1, CHUNK_ENTRIES // (n_outputs * arch.n_params))


def normal_equations_chunk_entries(arch, n_outputs, n_rows):
    """Numbers the factor matrix (one hidden layer) or the Jacobian of one chunk of :func:`normal_equations` holds
    for data of ``n_rows`` rows."""
    per_row = _n_factors(arch) if len(arch.shapes) == 2 else n_outputs * arch.n_params
    return min(n_rows, default_chunk_rows(arch, n_outputs)) * per_row


def default_gradient_chunk_rows(arch):
    """Rows per chunk of :func:`loss_and_grad` so one chunk's activations hold about ``GRADIENT_CHUNK_ENTRIES``
    numbers."""
    return max(1, GRADIENT_CHUNK_ENTRIES // sum(arch.layer_sizes))


def normal_equations(arch, theta, X, Y, chunk_rows=None, sample_weight=None):
    """``J^T J``, ``J^T r`` and ``r^T r`` of :func:`residuals_and_jacobian`, built over row chunks.

    Only one chunk's factors exist at a time, so memory is
    O(n_params**2 + chunk_rows * n_outputs * n_params) however many rows there are.

    Parameters
    ----------
    X : ndarray of shape (..., n_samples, n_features)
    Y : ndarray of shape (..., n_samples, n_outputs)
    chunk_rows : int or None
        Rows per chunk (of every network of a batch); None uses :func:`default_chunk_rows`.
    sample_weight : ndarray of shape (..., n_samples) or None
        Sample weights: the sums are over weighted residuals (see :func:`residuals_and_jacobian`).

    Returns
    -------
    jtj : ndarray of shape (..., n_params, n_params)
    jtr : ndarray of shape (..., n_params)
    sse : float, or ndarray of shape (...) for a batch
        Sum of squared residuals.

    Notes
    -----
    Each chunk gives a factor matrix ``F`` and residuals ``R`` (both transposed, a row per column of
    ``F``) whose products ``F^T F`` and ``F^T R`` are summed over the chunks (``F^T F`` by BLAS's
    symmetric rank-k update, which numpy's matmul uses for a matrix times its own transpose: half a
    general product's flops). For a deeper network ``F`` is the Jacobian itself. For one hidden layer
    it is the Jacobian's structure without the output weights ``V``: a row holds ``u ⊗ f'(z)``
    (``u = [x, 1]``) and ``[a, 1]``, the same for every output, so the 3-D Jacobian is never built and
    the work does not grow with the outputs; :func:`_one_hidden_layer_products` then brings in ``V``.
    """
    return normal_equations_of(arch, theta, *normal_equation_sums(arch, theta, X, Y, chunk_rows, sample_weight))


def normal_equation_sums(arch, theta, X, Y, chunk_rows=None, sample_weight=None):
    """The sums over rows :func:`normal_equations` is made of (:func:`normal_equations_of`): ``F^T F``, ``F^T R``
    and ``R^T R`` of the chunks' factors ``F`` and residuals ``R`` (see :func:`normal_equations`' notes)."""
    factors_of = _one_hidden_layer_factors if len(arch.shapes) == 2 else _jacobian_factors

    def chunk_sums(rows):
        chunk_weight = None if sample_weight is None else sample_weight[..., rows]
        factors, residuals = factors_of(arch, theta, X[..., rows, :], Y[..., rows, :], chunk_weight)
        gram, cross = factors @ _transposed(factors), factors @ _transposed(residuals)
        return gram, cross, np.einsum("...ij,...ij->...", residuals, residuals)

    return _blocked_sum(chunk_sums, X.shape[-2], chunk_rows or default_chunk_rows(arch, Y.shape[-1]))


def normal_equations_of(arch, theta, gram, cross, sse):
    """``(J^T J, J^T r, r^T r)`` from the sums of :func:`normal_equation_sums`."""
    if len(arch.shapes) == 2:
        jtj, jtr = _one_hidden_layer_products(arch, theta, gram, cross)
    else:
        jtj, jtr = gram, cross[..., 0]
    return jtj, jtr, sse if theta.ndim > 1 else float(sse)


def _jacobian_factors(arch, theta, X, Y, sample_weight):
    """The transposed Jacobian of :func:`residuals_and_jacobian` and its residuals as a row
    (..., 1, n_samples * n_outputs)."""
    residuals, jacobian = residuals_and_jacobian(arch, theta, X, Y, sample_weight)
    return _transposed(jacobian), residuals[..., None, :]


def _n_factors(arch):
    """Factors per row of :func:`_one_hidden_layer_factors`: ``(n_features + 1) * n_hidden`` then ``n_hidden + 1``."""
    n_features, n_hidden = arch.shapes[0]
    return (n_features + 2) * n_hidden + 1


def _one_hidden_layer(arch, theta, X):
    """Pre-activations, activations and outputs of a one-hidden-layer network, transposed so that every
    elementwise operation runs along the rows: (..., n_hidden, n_samples) twice, (..., n_outputs, n_samples)."""
    (W, V), (b, c) = arch.unpack(theta)
    # On one input ``z`` is an outer product, which broadcasting forms without matmul's loop over an axis of one;
    # the biases are added in place, sparing a new array of the outputs' size.
    z = _transposed(W) * _transposed(X) if X.shape[-1] == 1 else _transposed(W) @ _transposed(X)
    z += b[..., :, None]
    a = ACTIVATIONS[arch.activation].forward(z)
    outputs = _transposed(V) @ a
    outputs += c[..., :, None]
    return z, a, outputs


def _transposed_outputs(arch, theta, X):
    """The network's outputs transposed, (..., n_outputs, n_samples): for one hidden layer computed so."""
    if len(arch.shapes) == 2:
        return _one_hidden_layer(arch, theta, X)[2]
    return _transposed(predict(arch, theta, X))


def _one_hidden_layer_factors(arch, theta, X, Y, sample_weight):
    """The columns ``[u ⊗ f'(z), a, 1]`` (``u = [x, 1]``) of a one-hidden-layer network, and its residuals.

    Row ``i``'s Jacobian row for output ``k`` is ``[u_i ⊗ (f'(z_i) * V[:, k]), [a_i, 1] ⊗ e_k]``, so the
    Jacobian is these factors with the output weights ``V`` brought in. With ``sample_weight`` the
    factors and the residuals are multiplied by ``sqrt(w)``, as in :func:`residuals_and_jacobian`. Both
    are built transposed (a row per factor) so that every elementwise operation runs along the rows.

    Returns
    -------
    factors : ndarray of shape (..., (n_features + 2) * n_hidden + 1, n_samples)
    residuals : ndarray of shape (..., n_outputs, n_samples)
    """
    z, a, outputs = _one_hidden_layer(arch, theta, X)
    derivative = ACTIVATIONS[arch.activation].derivative(z, a)
    residuals = outputs - _transposed(Y)
    inputs = _transposed(X)
    (n_features, n_hidden), n_samples = arch.shapes[0], X.shape[-2]
    first = (n_features + 1) * n_hidden
    factors = np.empty((*theta.shape[:-1], first + n_hidden + 1, n_samples))
    if sample_weight is None:
        factors[..., -1, :] = 1.0
    else:
        root = np.sqrt(sample_weight)[..., None, :]
        derivative, a = derivative * root, a * root
        residuals *= root
        factors[..., -1, :] = root[..., 0, :]
    weights_block = factors[..., : first - n_hidden, :].reshape(*factors.shape[:-2], n_features, n_hidden, n_samples)
    np.multiply(inputs[..., :, None, :], derivative[..., None, :, :], out=weights_block)
    factors[..., first - n_hidden : first, :] = derivative
    factors[..., first:-1, :] = a
    return factors, residuals


def _one_hidden_layer_products(arch, theta, gram, cross):
    """``J^T J`` and ``J^T r`` from the sums ``F^T F`` and ``F^T R`` of :func:`_one_hidden_layer_factors`.

    With ``F = [G, A]`` (``G`` the rows ``u ⊗ f'(z)``, ``A`` the rows ``[a, 1]``) and the output weights
    ``V``: the first layer's block ``[(j, h), (j', h')]`` is ``(G^T G)[(j, h), (j', h')] (V V^T)[h, h']``,
    the cross block ``[(j, h), (h', k)]`` is ``(G^T A)[(j, h), h'] V[h, k]``, the output layer's block is
    ``A^T A ⊗ I``; ``J^T r`` is ``sum_k (G^T R)[(j, h), k] V[h, k]`` and ``A^T R`` flattened.
    """
    (_, V), _ = arch.unpack(theta)
    (n_features, n_hidden), (_, n_outputs) = arch.shapes
    inputs, batch = n_features + 1, theta.shape[:-1]
    first = inputs * n_hidden
    by_input = (*batch, inputs, n_hidden)
    jtj = np.empty((*batch, arch.n_params, arch.n_params))
    first_block = gram[..., :first, :first].reshape(*by_input, inputs, n_hidden)
    jtj[..., :first, :first] = (first_block * (V @ V.swapaxes(-1, -2))[..., None, :, None, :]).reshape(
        *batch, first, first
    )
    cross_block = gram[..., :first, first:].reshape(*by_input, n_hidden + 1, 1) * V[..., None, :, None, :]
    jtj[..., :first, first:] = cross_block.reshape(*batch, first, -1)
    jtj[..., first:, :first] = jtj[..., :first, first:].swapaxes(-1, -2)
    outputs = gram[..., first:, None, first:, None] * np.eye(n_outputs)[:, None, :]
    jtj[..., first:, first:] = outputs.reshape(*batch, (n_hidden + 1) * n_outputs, -1)
    jtr = np.empty((*batch, arch.n_params))
    jtr[..., :first] = (
        (cross[..., :first, :].reshape(*by_input, n_outputs) * V[..., None, :, :]).sum(axis=-1).reshape(*batch, first)
    )
    jtr[..., first:] = cross[..., first:, :].reshape(*batch, -1)
    return jtj, jtr


def normal_equations_work(n_residuals, n_params):
    """Flops to build ``J^T J`` and factorise it, ``n_residuals * n_params**2 + n_params**3``: the cost of
    one LM step or one Bayesian re-estimate, which decides where LM, the evidence, averaging and BLAS
    threads pay."""
    return n_residuals * n_params**2 + n_params**3


def sum_squared_error(arch, theta, X, Y, chunk_rows=None, sample_weight=None):
    """``sum((output - Y)**2)``, each row's times its weight if ``sample_weight``, over row chunks (memory bounded
    like :func:`normal_equations`)."""

    def chunk_sums(rows):
        error = _transposed_outputs(arch, theta, X[..., rows, :]) - _transposed(Y[..., rows, :])
        weighted_error = error if sample_weight is None else error * sample_weight[..., None, rows]
        return (np.einsum("...ij,...ij->...", weighted_error, error),)

    (sse,) = _blocked_sum(chunk_sums, X.shape[-2], chunk_rows or default_chunk_rows(arch, Y.shape[-1]))
    return sse if theta.ndim > 1 else float(sse)


_JITTER = 1e-10
"""Relative ridge that keeps the Gauss-Newton Hessian invertible when a dead unit leaves a free bias undetermined."""


def penalized_hessian_diagonal(jtj, alpha, mask):
    """The diagonal of ``H^-1`` for ``H = J^T J + alpha M + r I``, and ``H``'s ridge ``alpha M + r I``.

    ``M`` is the diagonal weight mask (biases unpenalised) and ``r`` a tiny relative jitter that
    keeps ``H`` invertible (a pseudo-inverse is the fallback). The diagonal comes from the
    inverse Cholesky factor, ``diag(H^-1) = column sums of (L^-1)**2``: a third of the work of
    the full inverse, which the evidence never needs (see :func:`effective_parameters`).
    """
    n_params = len(jtj)
    ridge = alpha * mask + _JITTER * max(np.trace(jtj) / n_params, 1.0)
    hessian = jtj + np.diag(ridge)
    factor, info = dpotrf(hessian, lower=True, clean=True)
    if info == 0:
        inverse_factor, info = dtrtri(factor, lower=True)
    if info != 0:
        return np.diag(np.linalg.pinv(hessian, hermitian=True)).copy(), ridge
    return np.einsum("ij,ij->j", inverse_factor, inverse_factor), ridge


def effective_parameters(inverse_diagonal, ridge):
    """``trace(J^T J H^-1)``: how many parameters the data determine (MacKay's gamma).

    Since ``J^T J H^-1 = I - diag(ridge) H^-1`` it is ``n_params - ridge @ diag(H^-1)``. It is
    the trace of the hat matrix of the linearised fit, so the in-sample residuals' expected sum
    of squares is ``(n_residuals - gamma)`` times the noise variance.
    """
    return float(len(ridge) - ridge @ inverse_diagonal)
