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
``sum(w)`` and ``N`` is ``sum(w)`` times the targets (see :mod:`mlpfit._weights`).

Training means and variances jointly on the likelihood (Lakshminarayanan, Pritzel and
Blundell 2017) lets the network trade the mean's fit for a smaller variance where it
fits well, which degrades the mean and under-covers on small data (Seitzer et al. 2022,
"On the pitfalls of heteroscedastic uncertainty estimation with probabilistic neural
networks"); fitting the mean first follows Nix and Weigend (1994). The measurements against
the joint fit are in ``benchmarks/README.md``.
"""

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


def variance_loss_and_grad(params, features, squared_residuals, alpha=HEAD_ALPHA, sample_weight=None):
    """The variance head's penalised negative log-likelihood (module notes) and its gradient.

    Parameters
    ----------
    params : ndarray of shape (n_features * k + k,)
        The head's weights ``V`` (n_features, k) in C order, then its biases (k,).
    features : ndarray of shape (n_samples, n_features)
        The last hidden layer's activations.
    squared_residuals : ndarray of shape (n_samples, k)
    alpha : float
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    loss : float
    grad : ndarray like ``params``
    """
    k = squared_residuals.shape[1]
    n = _weights.total(sample_weight, len(squared_residuals))
    weights, biases = params[: features.shape[1] * k].reshape(-1, k), params[features.shape[1] * k :]
    raw = features @ weights + biases
    variance = np.logaddexp(0.0, raw) + VARIANCE_FLOOR
    terms = np.log(2 * np.pi * variance) + squared_residuals / variance
    # d/dvar (log var + s/var) = 1/var - s/var^2; d var / d raw = sigmoid(raw).
    raw_grad = (1 / variance - squared_residuals / variance**2) * expit(raw) / (2 * n)
    if sample_weight is not None:
        terms, raw_grad = terms * sample_weight[:, None], raw_grad * sample_weight[:, None]
    loss = (np.sum(terms) + alpha * np.einsum("ij,ij->", weights, weights)) / (2 * n)
    grad = np.concatenate([(features.T @ raw_grad + (alpha / n) * weights).ravel(), raw_grad.sum(axis=0)])
    return loss, grad


def fit_variance_head(features, squared_residuals, alpha=HEAD_ALPHA, max_iter=1000, sample_weight=None):
    """The variance head's weights (n_features, k) and biases (k,) by L-BFGS from a constant variance
    (rows weighted by ``sample_weight`` when given)."""
    from scipy.optimize import minimize  # here: every command reading a model file imports this module

    n_features, k = features.shape[1], squared_residuals.shape[1]
    constant = np.maximum(_weights.mean(squared_residuals, sample_weight), 1e-3)
    start = np.concatenate([np.zeros(n_features * k), np.log(np.expm1(constant))])
    with np.errstate(over="ignore"):
        result = minimize(
            variance_loss_and_grad,
            start,
            (features, squared_residuals, alpha, sample_weight),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter, "gtol": 1e-9},
        )
    return result.x[: n_features * k].reshape(n_features, k), result.x[n_features * k :]


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
