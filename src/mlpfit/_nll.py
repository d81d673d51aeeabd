"""The Gaussian negative log-likelihood for networks that predict a mean and a variance.

A network trained on this loss has ``2 * k`` outputs for ``k`` targets: columns
``[:k]`` are the means and columns ``[k:]`` raw variances, mapped to variances by
``variance = softplus(raw) + VARIANCE_FLOOR``. Softplus keeps the variance positive
with a gradient that never explodes (unlike ``exp``); the floor keeps a point fitted
exactly from driving the loss to minus infinity.

Notes
-----
The objective mirrors :func:`mlpfit._network.loss_and_grad`'s scaling, so that with
every variance equal to 1 it is the squared-error loss plus a constant::

    loss = (sum_ik [log(2 pi var_ik) + (y_ik - mean_ik)**2 / var_ik] + alpha * sum(W**2)) / (2 n)

i.e. the mean per-sample negative log-likelihood (summed over targets) plus the
same L2 penalty on the weights (Lakshminarayanan, Pritzel and Blundell 2017,
"Simple and scalable predictive uncertainty estimation using deep ensembles").
"""

import numpy as np
from scipy.special import expit

from . import _network

VARIANCE_FLOOR = 1e-6
"""Smallest variance the network can predict, on the standardised target scale."""


def mean_and_variance(outputs):
    """Split network outputs (n_samples, 2 k) into means and variances, each (n_samples, k)."""
    k = outputs.shape[1] // 2
    return outputs[:, :k], np.logaddexp(0.0, outputs[:, k:]) + VARIANCE_FLOOR


def _twice_nll_and_output_grad(outputs, Y):
    """``sum(log(2 pi var) + r**2 / var)`` over all entries and its derivative by the outputs."""
    mean, variance = mean_and_variance(outputs)
    k = mean.shape[1]
    scaled = (Y - mean) / variance
    total = np.sum(np.log(2 * np.pi * variance)) + np.einsum("ij,ij->", scaled, Y - mean)
    output_grad = np.empty_like(outputs)
    output_grad[:, :k] = -2 * scaled
    # d/dvar (log var + r^2/var) = 1/var - r^2/var^2; d var / d raw = sigmoid(raw).
    output_grad[:, k:] = (1 / variance - scaled**2) * expit(outputs[:, k:])
    return total, output_grad


def loss_and_grad(arch, theta, X, Y, alpha=0.0):
    """Gaussian negative log-likelihood with L2 penalty and its gradient.

    Parameters
    ----------
    arch : Architecture
        Its output layer has ``2 * n_targets`` units (means, then raw variances).
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    alpha : float
        L2 penalty on the weights (not biases), scaled as in :func:`mlpfit._network.loss_and_grad`.

    Returns
    -------
    loss : float
        See the module notes.
    grad : ndarray of shape (n_params,)
    """
    n = X.shape[0]
    activations, pre_activations = _network.forward(arch, theta, X)
    total, output_grad = _twice_nll_and_output_grad(activations[-1], Y)
    weights = theta[arch.weight_mask]
    loss = (total + alpha * (weights @ weights)) / (2 * n)
    grad = _network.backward(arch, theta, activations, pre_activations, output_grad / (2 * n))
    if alpha:
        grad[arch.weight_mask] += (alpha / n) * weights
    return loss, grad


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
