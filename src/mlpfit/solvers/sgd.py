"""Stochastic gradient descent with heavy-ball momentum.

With ``momentum=0`` and a full batch this is plain gradient descent,
``theta -= learning_rate_init * grad``, as in the hand-written programs it is compared with.
"""

import numpy as np

from ._stochastic import run_epochs


def solve(problem, theta0, settings, rng):
    """Minimise ``problem``'s objective with momentum SGD."""
    velocity = np.zeros_like(theta0)

    def step(theta, grad):
        velocity[:] = settings.momentum * velocity - settings.learning_rate_init * grad
        return theta + velocity

    return run_epochs(problem, theta0, settings, rng, step)
