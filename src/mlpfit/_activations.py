"""Hidden-layer activations, each written beside its derivative.

Every entry maps a name to an :class:`Activation` holding ``forward(z)`` and
``derivative(z, a)``, where ``a = forward(z)``; passing both lets tanh and the
logistic reuse the output instead of recomputing it.
"""

from typing import Callable, NamedTuple

import numpy as np
from scipy.special import expit

LEAKY_SLOPE = 0.01
"""Slope of ``leaky_relu`` below its breakpoint."""


class Activation(NamedTuple):
    forward: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray]
    piecewise_linear: bool  # True for the ReLU family: units have a breakpoint -b/w
    is_hinge: bool  # off on one side of a hyperplane (ReLU family, softplus): breakpoints can be placed


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
    "relu": Activation(_relu, _relu_derivative, True, True),
    "leaky_relu": Activation(_leaky_relu, _leaky_relu_derivative, True, True),
    "tanh": Activation(_tanh, _tanh_derivative, False, False),
    "logistic": Activation(_logistic, _logistic_derivative, False, False),
    "softplus": Activation(_softplus, _softplus_derivative, False, True),
    "identity": Activation(_identity, _identity_derivative, False, False),
}
"""Name -> activation. ``piecewise_linear`` marks the units that have an exact kink, ``is_hinge`` those
whose breakpoints the data-aware initialisers place."""

RELU_FAMILY = frozenset(name for name, act in ACTIVATIONS.items() if act.piecewise_linear)
"""Names of the activations with an exact kink (relu, leaky_relu)."""
HINGE_ACTIVATIONS = frozenset(name for name, act in ACTIVATIONS.items() if act.is_hinge)
"""Names of the activations whose breakpoints the data-aware initialisers place (the ReLU family, softplus)."""
