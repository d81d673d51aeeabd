"""Hidden-layer activations, each written beside its derivative.

Every entry maps a name to an :class:`Activation` holding ``forward(z)`` and
``derivative(z, a)``, where ``a = forward(z)``; passing both lets tanh and the
logistic reuse the output instead of recomputing it.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.special import expit

LEAKY_SLOPE = 0.01
"""Slope of ``leaky_relu`` below its breakpoint."""


class Activation(NamedTuple):
    """An activation, its derivative, and what kind of function it is."""

    forward: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray]
    kinked: bool
    """Linear on each side of one kink at 0, so each first-layer unit bends at ``-b/w`` (the ReLU family)."""
    piecewise_linear: bool
    """``f(z) = f'(z) z``: linear on each side of 0, so the whole network is piecewise linear."""
    hinge: bool
    """Off on one side of a hyperplane: the data-aware initialisers place its breakpoints in the data."""
    saturating: bool
    """Flat at both ends: a unit can saturate and pass almost no gradient."""


def _relu(z):
    return np.maximum(z, 0.0)


def _relu_derivative(z, a):
    return (z > 0).astype(z.dtype)


def _leaky_relu(z):
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def _leaky_relu_derivative(z, a):
    return np.where(z > 0, 1.0, LEAKY_SLOPE)


def _tanh(z):
    return np.tanh(z)


def _tanh_derivative(z, a):
    return 1.0 - a * a


def _logistic(z):
    return expit(z)


def _logistic_derivative(z, a):
    return a * (1.0 - a)


def _softplus(z):
    return np.logaddexp(0.0, z)


def _softplus_derivative(z, a):
    return expit(z)


def _identity(z):
    return z


def _identity_derivative(z, a):
    return np.ones_like(z)


ACTIVATIONS = {
    "relu": Activation(_relu, _relu_derivative, kinked=True, piecewise_linear=True, hinge=True, saturating=False),
    "leaky_relu": Activation(
        _leaky_relu, _leaky_relu_derivative, kinked=True, piecewise_linear=True, hinge=True, saturating=False
    ),
    "tanh": Activation(_tanh, _tanh_derivative, kinked=False, piecewise_linear=False, hinge=False, saturating=True),
    "logistic": Activation(
        _logistic, _logistic_derivative, kinked=False, piecewise_linear=False, hinge=False, saturating=True
    ),
    "softplus": Activation(
        _softplus, _softplus_derivative, kinked=False, piecewise_linear=False, hinge=True, saturating=False
    ),
    "identity": Activation(
        _identity, _identity_derivative, kinked=False, piecewise_linear=True, hinge=False, saturating=False
    ),
}
"""Name -> activation."""
