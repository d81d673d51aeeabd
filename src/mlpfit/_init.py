"""Initial parameter vectors, among them the data-aware breakpoint initialiser.

Notes
-----
A ReLU unit ``max(w x + b, 0)`` on one input bends at its breakpoint ``x = -b / w``.
With zero biases every breakpoint sits at ``x = 0``; on data that lie wholly on one
side of zero (raw ``x >= 0``, say) each unit is then either off or linear on all of
it and the network can only draw a straight line. The breakpoint initialiser places
every first-layer unit's kink inside the training data: on one input at stratified
quantiles of ``x``, on several inputs as a hyperplane with a random direction
through a random point between two training rows. Later layers use He (ReLU family) or Glorot
scaling, and the linear output layer Glorot scaling.
"""

import numpy as np

from ._activations import RELU_FAMILY

HINGE_ACTIVATIONS = RELU_FAMILY | {"softplus"}
"""Activations whose units are off on one side of a hyperplane and so benefit from breakpoint placement."""


def _he(fan_in, fan_out, rng, scale):
    return rng.normal(0.0, scale * np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))


def _glorot(fan_in, fan_out, rng, scale):
    bound = scale * np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


def _normal(fan_in, fan_out, rng, scale):
    return rng.normal(0.0, scale, size=(fan_in, fan_out))


def _breakpoint_layer(X, fan_out, rng, scale):
    """First-layer weights and biases whose breakpoints lie inside the data."""
    n_samples, fan_in = X.shape
    spread = X.std(axis=0)
    spread[spread == 0] = 1.0
    W = _he(fan_in, fan_out, rng, scale) / spread[:, None]
    if fan_in == 1:
        levels = (np.arange(fan_out) + rng.uniform(size=fan_out)) / fan_out
        anchors = np.quantile(X[:, 0], rng.permutation(levels))[None, :]
        b = -(anchors[0] * W[0])
    else:
        # A point between two random rows: inside the data's hull, yet on no sample's kink.
        first, second = X[rng.integers(n_samples, size=(2, fan_out))]
        anchors = first + rng.uniform(size=(fan_out, 1)) * (second - first)
        b = -np.einsum("ij,ji->i", anchors, W)
    return W, b


_WEIGHT_INITIALIZERS = {"he": _he, "glorot": _glorot, "normal": _normal}
INIT_METHODS = ("auto", "he", "glorot", "normal")


def initialize(arch, X, method, rng, init_scale=None):
    """A packed parameter vector for ``arch``.

    Parameters
    ----------
    arch : Architecture
    X : ndarray of shape (n_samples, n_features)
        Inputs as the network sees them; used only by ``method="auto"``.
    method : {"auto", "he", "glorot", "normal"}
        ``"auto"`` places hinge units' breakpoints in the data (see module notes),
        and uses Glorot scaling for tanh, logistic and identity units.
    rng : numpy.random.Generator
    init_scale : float or None
        For ``"normal"``, the weights' standard deviation (default 0.01); for the
        others, a multiplier of their standard scale (default 1).

    Biases are zero except for the breakpoint-placed first layer.
    """
    if method == "normal":
        scale = 0.01 if init_scale is None else init_scale
    else:
        scale = 1.0 if init_scale is None else init_scale
    hinge = arch.activation in HINGE_ACTIVATIONS
    coefs, intercepts = [], []
    n_layers = len(arch.shapes)
    for layer, (fan_in, fan_out) in enumerate(arch.shapes):
        is_output = layer == n_layers - 1
        b = np.zeros(fan_out)
        if method == "auto" and layer == 0 and hinge and not is_output:
            W, b = _breakpoint_layer(X, fan_out, rng, scale)
        elif method == "auto":
            name = "he" if hinge and not is_output else "glorot"
            W = _WEIGHT_INITIALIZERS[name](fan_in, fan_out, rng, scale)
        else:
            W = _WEIGHT_INITIALIZERS[method](fan_in, fan_out, rng, scale)
        coefs.append(W)
        intercepts.append(b)
    return arch.pack(coefs, intercepts)
