"""The origin problem and other synthetic curves, with their noise-free truth."""

import numpy as np
from sklearn.utils import check_random_state

ORIGIN_NOISE = 0.5
"""The origin problem's noise sd."""
ORIGIN_X_SCALE = 1000.0
"""The origin problem's ``x`` is ``|N(0, 1)|`` times this."""


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


# --- Univariate test curves with known truth (Donoho & Johnstone 1994, and two classics) -------

_DJ_CENTRES = np.array([0.10, 0.13, 0.15, 0.23, 0.25, 0.40, 0.44, 0.65, 0.76, 0.78, 0.81])
"""Where Bumps' bumps and Blocks' jumps sit (Donoho & Johnstone 1994)."""


def doppler(x):
    """``sqrt(x (1 - x)) sin(2.1 pi / (x + 0.05))`` on [0, 1]: oscillation ever faster towards 0."""
    return np.sqrt(x * (1 - x)) * np.sin(2 * np.pi * 1.05 / (x + 0.05))


def heavisine(x):
    """``4 sin(4 pi x) - sign(x - 0.3) - sign(0.72 - x)`` on [0, 1]: a sine with two jumps."""
    return 4 * np.sin(4 * np.pi * x) - np.sign(x - 0.3) - np.sign(0.72 - x)


def bumps(x):
    """Eleven narrow bumps ``h / (1 + |x - t| / w)**4`` on [0, 1]."""
    heights = np.array([4, 5, 3, 4, 5, 4.2, 2.1, 4.3, 3.1, 5.1, 4.2])
    widths = np.array([0.005, 0.005, 0.006, 0.01, 0.01, 0.03, 0.01, 0.01, 0.005, 0.008, 0.005])
    return (heights / (1 + np.abs(x[..., None] - _DJ_CENTRES) / widths) ** 4).sum(axis=-1)


def blocks(x):
    """A piecewise-constant signal with eleven jumps on [0, 1]."""
    heights = np.array([4, -5, 3, -4, 5, -4.2, 2.1, 4.3, -3.1, 2.1, -4.2])
    return (heights * (1 + np.sign(x[..., None] - _DJ_CENTRES)) / 2).sum(axis=-1)


def sinc(x):
    """``sin(x) / x`` (1 at 0)."""
    return np.sinc(x / np.pi)


def step(x):
    """0 below 0, 1 above."""
    return (x > 0).astype(float)


CURVES = {
    "doppler": (doppler, (0.0, 1.0), 1024, {"snr": 7.0}),
    "heavisine": (heavisine, (0.0, 1.0), 1024, {"snr": 7.0}),
    "bumps": (bumps, (0.0, 1.0), 1024, {"snr": 7.0}),
    "blocks": (blocks, (0.0, 1.0), 1024, {"snr": 7.0}),
    "sinc": (sinc, (-10.0, 10.0), 200, {"noise": 0.1}),
    "step": (step, (-1.0, 1.0), 200, {"noise": 0.1}),
}
"""Curve name -> (noise-free function, x domain, default n_samples, default noise as an sd or a signal-to-noise
ratio)."""


def curve_noise(name):
    """The noise sd of ``name``'s benchmark setting; for an SNR, the truth's sd over the domain divided by it."""
    truth, (low, high), _, noise = CURVES[name]
    if "noise" in noise:
        return noise["noise"]
    return truth(np.linspace(low, high, 100_001)).std() / noise["snr"]


def make_curve(name, n_samples=None, *, noise=None, random_state=None):
    """Noisy samples of a test curve at uniform random ``x`` in its domain.

    Parameters
    ----------
    name : {"doppler", "heavisine", "bumps", "blocks", "sinc", "step"}
        See :data:`CURVES`; the first four are Donoho & Johnstone's (1994) and default
        to a signal-to-noise ratio (sd of the truth / sd of the noise) of 7.
    n_samples : int or None
        None: the benchmark's size (1024 for Donoho & Johnstone's, 200 otherwise).
    noise : float or None
        Gaussian noise sd; None: :func:`curve_noise`. Use 0 for the truth at fresh points.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
    y : ndarray of shape (n_samples,)
    truth : ndarray of shape (n_samples,)
        The noise-free values at ``X``.
    """
    if name not in CURVES:
        raise ValueError(f"name must be one of {', '.join(map(repr, CURVES))}; got {name!r}.")
    function, (low, high), default_n, _ = CURVES[name]
    rng = check_random_state(random_state)
    X = rng.uniform(low, high, size=(default_n if n_samples is None else n_samples, 1))
    truth = function(X[:, 0])
    sd = curve_noise(name) if noise is None else noise
    return X, truth + rng.normal(0.0, sd, size=len(X)) if sd else truth.copy(), truth
