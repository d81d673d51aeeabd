"""Finite-difference check of the analytic gradient any configuration trains with."""

from dataclasses import replace

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from ._selection import initialize
from .estimator import training_objective


def gradient_check(estimator, X, y, *, sample_weight=None, eps=1e-6):
    """Largest relative error between the analytic gradient and central finite differences.

    The objective is the one ``estimator.fit`` minimises on ``(X, y)`` (same
    standardisation, architecture, activation and penalty). Parameters are the
    fitted ones when the estimator is fitted to data of the same shape, else a
    fresh initialisation from ``estimator.random_state``.

    Parameters
    ----------
    estimator : NeuralRegressor
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,) or None
        Row weights, as ``fit`` takes them: the objective checked is then the weighted one.
    eps : float
        Central-difference step.

    Returns
    -------
    float
        ``max_i |g_i - f_i| / max(|g_i|, |f_i|, floor)`` over parameters, with ``g`` the
        analytic and ``f`` the finite-difference gradient; ``floor = 1e-3 * max(max|f|, 1e-8)``
        keeps components that are zero up to round-off from dividing by zero.
    """
    problem, plan = training_objective(clone(estimator), X, y, sample_weight)
    problem, theta = _parameters_to_check(estimator, plan, problem)
    analytic = problem.loss_and_grad(theta)[1]
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        numeric[i] = (problem.loss_and_grad(theta + step)[0] - problem.loss_and_grad(theta - step)[0]) / (2 * eps)
    floor = 1e-3 * max(np.abs(numeric).max(), 1e-8)
    denominator = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)
    return float(np.max(np.abs(analytic - numeric) / denominator))


def _parameters_to_check(estimator, plan, problem):
    """The problem with the fitted network and its weights when they fit it, else a fresh start.

    The fitted widths are the fit's own where its plan let the forward selection choose them or
    averaged several networks side by side, whatever ``plan``'s architecture says.
    """
    if hasattr(estimator, "fitted_"):
        fitted = estimator.architecture_
        chose_widths = estimator.plan_.selects_width or estimator.n_averaged_ > 1
        if fitted == problem.arch or (chose_widths and _outline(fitted) == _outline(problem.arch)):
            return replace(problem, arch=fitted), estimator.theta_
    rng = np.random.default_rng(check_random_state(estimator.random_state).randint(2**31 - 1))
    start = initialize(problem.arch, problem.X, problem.Y, plan.init, rng, estimator.init_scale, problem.sample_weight)
    return problem, start


def _outline(arch):
    """An architecture but for its hidden widths."""
    return arch.layer_sizes[0], arch.layer_sizes[-1], len(arch.layer_sizes), arch.activation
