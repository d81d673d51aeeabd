"""The origin problem and other synthetic curves, with their noise-free truth."""

import numpy as np
from sklearn.utils import check_random_state

ORIGIN_NOISE = 0.5
ORIGIN_X_SCALE = 1000.0


def origin_truth(X):
    """The noise-free function of the origin problem, ``sqrt(x)``, for X of shape (n, 1) or (n,)."""
    return np.sqrt(np.ravel(X))


def make_origin(n_samples=500, *, noise=ORIGIN_NOISE, random_state=None):
    """The origin problem: ``x = |N(0, 1)| * 1000``, ``y = sqrt(x) + N(0, noise**2)``.

    The trap that motivates mlpfit: an unscaled ReLU network with zero biases
    fits a straight line to it.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
    y : ndarray of shape (n_samples,)
    """
    rng = check_random_state(random_state)
    X = np.abs(rng.normal(size=(n_samples, 1))) * ORIGIN_X_SCALE
    y = origin_truth(X) + rng.normal(0.0, noise, size=n_samples)
    return X, y
