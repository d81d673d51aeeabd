"""The heteroscedastic Gaussian model: a network's means plus a variance head fitted by likelihood.

A model with ``loss="gaussian_nll"`` has ``2 * k`` outputs for ``k`` targets: columns
``[:k]`` are the means and columns ``[k:]`` raw variances, mapped to variances by
``variance = softplus(raw) + VARIANCE_FLOOR``. Softplus keeps the variance positive
with a gradient that never explodes (unlike ``exp``); the floor keeps a point fitted
exactly from driving the likelihood to infinity.

Notes
-----
It is fitted in two stages. The means are the squared-error network, trained by any
solver (LM and Bayesian regularisation included): squared error is the Gaussian
likelihood of the means with the variance held fixed. The variance head, a linear
layer from the last hidden layer's units to the raw variances, is then fitted by
the Gaussian negative log-likelihood of the residuals with the means held fixed,
a small smooth problem for L-BFGS::

    loss = (sum_ik [log(2 pi var_ik) + s_ik / var_ik] + HEAD_ALPHA * sum(V**2)) / (2 n)

with ``V`` the head's weights and ``s`` the squared residuals scaled by
``N / (N - gamma)`` (``N`` residuals, ``gamma`` the means' effective number of
parameters, MacKay's, from Bayesian regularisation or :func:`mlpfit.solvers._evidence.evidence_at`):
in-sample residuals are smaller than fresh ones by about that factor, and the variance
is wanted for fresh data. With sample weights ``w`` each row's terms count ``w_i`` times, ``n`` is
``sum(w)`` and ``N`` is ``sum(w)`` times the targets (see :mod:`mlpfit._weights`). The sums over the rows
run in row chunks (:func:`loss_and_grad_in_chunks`), each chunk's hidden activations and residuals computed
from the means' network (:func:`network_chunks`). Up to a fixed size they are computed once and held through
the head's fit; beyond it the fit holds no array that grows with the rows, and recomputes the means' forward pass
at every evaluation instead (:func:`head_rows`).

Training means and variances jointly on the likelihood (Lakshminarayanan, Pritzel and
Blundell 2017) lets the network trade the mean's fit for a smaller variance where it
fits well, which degrades the mean and under-covers on small data (Seitzer et al. 2022,
"On the pitfalls of heteroscedastic uncertainty estimation with probabilistic neural
networks"); fitting the mean first follows Nix and Weigend (1994). The measurements against
the joint fit are in ``benchmarks/README.md``.
"""

from functools import partial

import numpy as np
from scipy.special import expit

from . import _network, _weights

VARIANCE_FLOOR = 1e-6
"""Smallest variance the network can predict, on the standardised target scale."""
HEAD_ALPHA = 1.0
"""L2 penalty on the variance head's weights: a standard normal prior on them (standardised hidden activations)."""
OUTPUTS_PER_TARGET = {"squared_error": 1, "gaussian_nll": 2}
"""``loss`` -> network outputs per target column."""


def mean_and_variance(outputs):
    """Split network outputs (n_samples, 2 k) into means and variances, each (n_samples, k)."""
    k = outputs.shape[1] // 2
    return outputs[:, :k], np.logaddexp(0.0, outputs[:, k:]) + VARIANCE_FLOOR


def loss_and_grad_in_chunks(params, n_features, chunks, n, alpha=HEAD_ALPHA):
    """The variance head's penalised negative log-likelihood (module notes) and its gradient, the sums over rows
    added up chunk by chunk.

    Parameters
    ----------
    params : ndarray of shape (n_features * k + k,)
        The head's weights ``V`` (n_features, k) in C order, then its biases (k,).
    n_features : int
    chunks : iterable of (features, squared_residuals, sample_weight)
        Row chunks: the last hidden layer's activations (rows, n_features), the squared residuals (rows, k) and
        the chunk's sample weights (rows,) or None.
    n : float
        The rows the chunks stand for: their number, or their weights' sum.
    alpha : float

    Returns
    -------
    loss : float
    grad : ndarray like ``params``
    """
    k = len(params) // (n_features + 1)
    weights, biases = params[: n_features * k].reshape(n_features, k), params[n_features * k :]
    terms, grad = 0.0, np.zeros_like(params)
    for features, squared_residuals, sample_weight in chunks:
        chunk_terms, chunk_grad = _chunk_sums(weights, biases, features, squared_residuals, sample_weight, n)
        terms, grad = terms + chunk_terms, grad + chunk_grad
    grad[: n_features * k] += ((alpha / n) * weights).ravel()
    return (terms + alpha * np.einsum("ij,ij->", weights, weights)) / (2 * n), grad


def _chunk_sums(weights, biases, features, squared_residuals, sample_weight, n):
    """A chunk's sum of ``log(2 pi var) + s / var`` over its rows and targets, and that sum's gradient divided by
    ``2 n`` (weights then biases, packed)."""
    raw = features @ weights + biases
    variance = np.logaddexp(0.0, raw) + VARIANCE_FLOOR
    terms = np.log(2 * np.pi * variance) + squared_residuals / variance
    # d/dvar (log var + s/var) = 1/var - s/var^2; d var / d raw = sigmoid(raw).
    raw_grad = (1 / variance - squared_residuals / variance**2) * expit(raw) / (2 * n)
    if sample_weight is not None:
        terms, raw_grad = terms * sample_weight[:, None], raw_grad * sample_weight[:, None]
    return np.sum(terms), np.concatenate([(features.T @ raw_grad).ravel(), raw_grad.sum(axis=0)])


HELD_HEAD_ENTRIES = 2**20
"""Numbers the variance head's rows (the means' last hidden units and squared residuals) may take to be computed
once and held through the head's fit (:func:`head_rows`, 8 MiB of float64): beyond, every evaluation computes them
afresh chunk by chunk, so that memory does not grow with the rows."""


def head_rows(arch, theta, X, Y, scale=1.0, sample_weight=None):
    """The variance head's rows as :func:`fit_head_in_chunks` takes them, a callable returning
    :func:`network_chunks`: the chunks computed once and held when they take at most ``HELD_HEAD_ENTRIES`` numbers,
    else computed afresh at every call. The same chunks either way, so the same fit."""
    chunks = partial(network_chunks, arch, theta, X, Y, scale, sample_weight)
    if len(X) * (arch.layer_sizes[-2] + Y.shape[1]) > HELD_HEAD_ENTRIES:
        return chunks
    held = list(chunks())
    return lambda: held


def network_chunks(arch, theta, X, Y, scale=1.0, sample_weight=None, chunk_rows=None):
    """The variance head's rows in chunks, computed from the means' network ``(arch, theta)`` on ``X`` and ``Y``.

    Each chunk is its last hidden layer's activations, its squared residuals times ``scale`` (``N / (N - gamma)``,
    module notes) and its sample weights, as :func:`loss_and_grad_in_chunks` takes them. One chunk's forward pass
    exists at a time, so the head's fit needs no memory that grows with the rows beyond the data.

    Parameters
    ----------
    arch : Architecture
    theta : ndarray of shape (arch.n_params,)
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, k)
    scale : float
    sample_weight : ndarray of shape (n_samples,) or None
    chunk_rows : int or None
        Rows per chunk; None uses :func:`mlpfit._network.default_gradient_chunk_rows`.

    Yields
    ------
    features : ndarray of shape (chunk_rows, arch.layer_sizes[-2])
    squared_residuals : ndarray of shape (chunk_rows, k)
    sample_weight : ndarray of shape (chunk_rows,) or None
    """
    for rows in _network.row_chunks(len(X), chunk_rows or _network.default_gradient_chunk_rows(arch)):
        activations, _ = _network.forward(arch, theta, X[rows])
        weight = None if sample_weight is None else sample_weight[rows]
        yield activations[-2], scale * (Y[rows] - activations[-1]) ** 2, weight


def fit_head_in_chunks(n_features, chunks, alpha=HEAD_ALPHA, max_iter=1000):
    """The variance head's weights (n_features, k) and biases (k,) by L-BFGS from a constant variance, on the rows
    ``chunks()`` yields (see :func:`loss_and_grad_in_chunks`), called afresh for every evaluation so that the chunks
    can be computed as they are read (:func:`network_chunks`)."""
    from scipy.optimize import minimize  # here: every command reading a model file imports this module

    mean, n = _mean_squared_residuals(chunks())
    constant = np.maximum(mean, 1e-3)
    k = len(constant)
    start = np.concatenate([np.zeros(n_features * k), np.log(np.expm1(constant))])
    with np.errstate(over="ignore"):
        result = minimize(
            lambda params: loss_and_grad_in_chunks(params, n_features, chunks(), n, alpha),
            start,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter, "gtol": 1e-9},
        )
    return result.x[: n_features * k].reshape(n_features, k), result.x[n_features * k :]


def _mean_squared_residuals(chunks):
    """The (weighted) mean of each column of squared residuals over the row chunks, shape (k,), and the rows
    they stand for (their number, or their weights' sum)."""
    total, n = 0.0, 0.0
    for _, squared_residuals, sample_weight in chunks:
        weighted = squared_residuals if sample_weight is None else squared_residuals * sample_weight[:, None]
        total = total + weighted.sum(axis=0)
        n += _weights.total(sample_weight, len(squared_residuals))
    return total / n, n


def with_variance_head(arch, theta, head_weights, head_biases):
    """The mean network ``(arch, theta)`` with the variance head appended to its output layer."""
    coefs, intercepts = arch.unpack(theta)
    full = _network.Architecture((*arch.layer_sizes[:-1], 2 * arch.layer_sizes[-1]), arch.activation)
    coefs = [*coefs[:-1], np.hstack([coefs[-1], head_weights])]
    intercepts = [*intercepts[:-1], np.concatenate([intercepts[-1], head_biases])]
    return full, full.pack(coefs, intercepts)


def mean_network(arch, theta):
    """The network of the means alone: ``arch`` and ``theta`` without the raw-variance outputs.

    Returns
    -------
    mean_arch : Architecture
        ``arch`` with ``n_targets`` outputs.
    mean_theta : ndarray of shape (mean_arch.n_params,)
    """
    coefs, intercepts = arch.unpack(theta)
    k = arch.layer_sizes[-1] // 2
    mean_arch = _network.Architecture((*arch.layer_sizes[:-1], k), arch.activation)
    return mean_arch, mean_arch.pack([*coefs[:-1], coefs[-1][:, :k]], [*intercepts[:-1], intercepts[-1][:k]])
