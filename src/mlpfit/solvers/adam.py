"""Adam (Kingma & Ba 2015) on minibatches."""

import numpy as np

from ._stochastic import run_epochs

BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8
"""Decay rates of the first and second moment estimates, and the step's denominator floor (Kingma & Ba's)."""


def solve(problem, theta0, settings, rng):
    """Minimise ``problem``'s objective with Adam at step size ``learning_rate_init``."""
    first = np.zeros_like(theta0)
    second = np.zeros_like(theta0)
    t = 0

    def step(theta, grad):
        nonlocal t
        t += 1
        first[:] = BETA1 * first + (1 - BETA1) * grad
        second[:] = BETA2 * second + (1 - BETA2) * grad * grad
        rate = settings.learning_rate_init * np.sqrt(1 - BETA2**t) / (1 - BETA1**t)
        return theta - rate * first / (np.sqrt(second) + EPSILON)

    return run_epochs(problem, theta0, settings, rng, step)
