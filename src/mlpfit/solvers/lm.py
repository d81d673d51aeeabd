"""Levenberg-Marquardt on the penalised sum of squares, with optional Bayesian regularisation.

Notes
-----
With residuals ``r = output - Y`` flattened over samples and outputs, Jacobian ``J``
and weight mask ``M`` (biases are not penalised), LM minimises the training
objective of :func:`mlpfit._network.loss_and_grad` times ``2 n``,

    S(theta) = r @ r + alpha * theta @ M @ theta,

by solving the damped Gauss-Newton equations ``(J^T J + alpha M + mu I) step = -g``
with ``g = J^T r + alpha M theta`` through a Cholesky factorisation. The damping
follows MATLAB's trainlm (Hagan & Menhaj 1994): ``mu`` starts at 1e-3, is divided
by 10 after a step that lowers ``S`` and multiplied by 10 after one that does not
(or whose matrix is not numerically positive definite), and the search for a step
fails when ``mu`` exceeds 1e10. ``J^T J`` and ``J^T r`` are accumulated over row chunks
(:func:`mlpfit._network.normal_equations`), so memory does not grow with ``n``
beyond the data itself.

As scipy's ``least_squares`` keeps its trust-region update apart from its termination
test, each iteration here makes three separate decisions: :class:`_Damping` searches
for a step that lowers ``S``; :func:`_stop_reason` says whether a run at a fixed
penalty stops (a gradient below ``GRADIENT_FLOOR``, no step found below ``MU_MAX``, or
a gain of at most ``tol``); :class:`_BayesStart` says when re-estimation begins.

Bayesian regularisation (MacKay 1992; Foresee & Hagan 1997) treats the objective as
``F = beta * E_D + alpha_w * E_W`` with ``E_D = r @ r / 2`` and
``E_W = theta @ M @ theta / 2``, so the penalty above is ``alpha = alpha_w / beta``.
Before every LM step (at a new point) the precisions are re-estimated from the
Gauss-Newton Hessian ``A = J^T J + alpha M``:

    gamma   = trace(J^T J A^-1)                 effective number of parameters
    gamma_w = n_weights - alpha * trace(M A^-1) well-determined weights
    beta    = (N - gamma) / (2 E_D),  alpha_w = gamma_w / (2 E_W)

with ``N`` the number of residuals. Foresee & Hagan's ``P - 2 alpha trace(H^-1)``
is the same quantity written for ``E_D = r @ r`` and ``H = 2 (beta J^T J + alpha I)``
with every parameter penalised; here biases are free, so they enter ``gamma`` through
the first trace and are left out of ``gamma_w``. The run starts from the caller's
``alpha`` (0 for ``alpha="bayes"``, as Foresee & Hagan start from ``alpha_w = 0``); re-estimation
begins, by the plan's ``bayes_start``, once an accepted step fits better than the targets' mean
(``"fitted"``, ``BAYES_START_FIT``) or once that fit has settled (``"settled"``, ``BAYES_START_IMPROVEMENT``;
``"fitted"`` too begins there if it comes first), and at the latest where the fixed-penalty run
would stop. The measurements behind these constants are in ``benchmarks/README.md``.

References
----------
Marquardt (1963), SIAM J. Appl. Math. 11(2); Hagan & Menhaj (1994), IEEE Trans. Neural
Networks 5(6); MacKay (1992), Neural Computation 4(3); Foresee & Hagan (1997), Proc. ICNN.
"""

from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache, partial

import numpy as np
from scipy.linalg.lapack import dpotrf, dpotrs
from threadpoolctl import ThreadpoolController

from .. import _network, _weights
from ._base import SolverResult
from ._evidence import BAYES_START_FIT, BAYES_START_IMPROVEMENT, reestimate

MU_INIT = 1e-3
"""Marquardt's damping at the start, and for the search after a failed one (trainlm's mu)."""
MU_INCREASE = 10.0
"""Factor on ``mu`` after a step that does not lower the objective (trainlm's mu_inc)."""
MU_DECREASE = 0.1
"""Factor on ``mu`` after a step that does (trainlm's mu_dec)."""
MU_MAX = 1e10
"""The search for a step fails once ``mu`` exceeds this (trainlm's mu_max)."""
MU_MIN = 1e-20
"""Floor on ``mu`` so that a long run of accepted steps never rounds it to zero."""
GRADIENT_FLOOR = 1e-7
"""Stop when the gradient norm of the mean objective falls below this (MATLAB's min_grad)."""
SINGLE_THREAD_MAX_WORK = 1e9
"""Run BLAS on one thread while ``normal_equations_work`` is below this: for small matrices threads only contend."""


def _damped_step(hessian, gradient, mu):
    """``-(hessian + mu I)^-1 gradient`` by Cholesky, or None when the matrix is not positive definite.

    LAPACK's potrf/potrs directly: scipy.linalg's checked wrappers cost more than the
    factorisation itself at the sizes LM runs on. A non-finite matrix gives a non-finite
    step, which the caller rejects like any other.
    """
    factor, info = dpotrf(hessian + mu * np.eye(len(gradient)), lower=False, clean=False)
    if info != 0:
        return None
    step, info = dpotrs(factor, gradient, lower=False)
    return -step if info == 0 else None


class _Damping:
    """Marquardt's damping ``mu`` and the search for a step that lowers the objective.

    An object because ``mu`` carries over from one search to the next, so a run that keeps
    succeeding takes ever longer steps; above ``MU_MAX`` it records that the last search failed.
    """

    def __init__(self):
        self.mu = MU_INIT

    def search(self, hessian, gradient, current, objective_after):
        """The first damped step that lowers ``current``, and the objective after it.

        Parameters
        ----------
        hessian, gradient : ndarray
            The penalised Gauss-Newton system at the current weights.
        current : float
            The objective at the current weights.
        objective_after : callable
            step -> the objective at the current weights plus ``step``.

        Returns
        -------
        step : ndarray or None
            None when no step lowers the objective before ``mu`` exceeds ``MU_MAX``.
        trial : float
            The objective after ``step``; ``current`` when there is none.

        Notes
        -----
        ``mu`` grows by ``MU_INCREASE`` per rejected step and falls by ``MU_DECREASE`` after the
        accepted one. A search after a failed one (a run that goes on, see :class:`_BayesStart`)
        begins again from ``MU_INIT``.
        """
        if self.mu > MU_MAX:
            self.mu = MU_INIT
        while self.mu <= MU_MAX:
            step = _damped_step(hessian, gradient, self.mu)
            trial = np.inf if step is None else objective_after(step)
            if trial < current:
                self.mu = max(self.mu * MU_DECREASE, MU_MIN)
                return step, trial
            self.mu *= MU_INCREASE
        return None, current


def _stop_reason(gradient_norm, mu, current, trial, tol):
    """Why a run at a fixed penalty stops after this iteration, or None to go on.

    Apart from :class:`_BayesStart`, which decides whether a Bayesian run stops there or
    begins re-estimating instead.

    Parameters
    ----------
    gradient_norm : float
        The gradient norm of the mean objective at the start of the iteration.
    mu : float
        The damping after the iteration's search for a step.
    current, trial : float
        The objective before and after the iteration.
    tol : float
        A relative gain in the objective of at most this stops the run.

    Returns
    -------
    {"gradient", "mu_max", "tol"} or None
        In the order they arise: no step is sought below ``GRADIENT_FLOOR``, none was found
        below ``MU_MAX``, or the accepted one gained too little.
    """
    if gradient_norm < GRADIENT_FLOOR:
        return "gradient"
    if mu > MU_MAX:
        return "mu_max"
    if current - trial <= tol * current:
        return "tol"
    return None


@dataclass(frozen=True)
class _BayesStart:
    """When a Bayesian run begins re-estimating the penalty (``settings.bayes_start``).

    Not at once: at the random initial weights the update judges a network that has fitted
    nothing and can over-regularise it for good (``benchmarks/README.md``).

    Parameters
    ----------
    rule : {"fitted", "settled"} or None
        None for a fixed penalty: re-estimation never begins.
    fit_below : float or None
        With ``"fitted"``, the objective at or below which a step fits better than the targets' mean.
    """

    rule: str | None
    fit_below: float | None = None

    @classmethod
    def of(cls, rule, Y, sample_weight=None):
        """The rule ``rule`` for targets ``Y`` (rows weighted by ``sample_weight`` when given)."""
        if rule == "fitted":
            return cls(rule, BAYES_START_FIT * _weights.sum_of_squares_about_mean(Y, sample_weight))
        return cls(rule)

    def begins(self, reason, current, trial):
        """Whether re-estimation begins after an iteration from ``current`` to ``trial``.

        Every rule begins where a fixed-penalty run would stop (``reason``, from :func:`_stop_reason`)
        or once an accepted step gains at most ``BAYES_START_IMPROVEMENT`` of the objective (the fit
        has settled); ``"fitted"`` also at the first step at or below ``fit_below``.
        """
        if self.rule is None:
            return False
        if reason is not None:
            return True
        settled = current - trial <= BAYES_START_IMPROVEMENT * current
        return settled or (self.rule == "fitted" and trial <= self.fit_below)


def _penalised(jtj, jtr, sse, theta, mask, penalty):
    """The objective ``S``, the gradient ``g`` and the Hessian ``J^T J + alpha M`` at ``theta``."""
    weights = theta[mask]
    return sse + penalty * (weights @ weights), jtr + penalty * mask * theta, jtj + np.diag(penalty * mask)


def _objective(problem, theta, penalty, step=0.0):
    """``S`` at ``theta + step``: the (weighted) sum of squared errors plus ``penalty`` times the weights' squared
    norm."""
    theta = theta + step
    weights = theta[problem.arch.weight_mask]
    return problem.sum_squared_error(theta) + penalty * (weights @ weights)


@cache
def _thread_controller():
    return ThreadpoolController()


def _blas_threads(problem):
    """A context limiting BLAS to one thread for small problems (see ``SINGLE_THREAD_MAX_WORK``)."""
    if _network.normal_equations_work(problem.Y.size, problem.arch.n_params) < SINGLE_THREAD_MAX_WORK:
        return _thread_controller().limit(limits=1, user_api="blas")
    return nullcontext()


def solve(problem, theta0, settings, rng):
    """Minimise ``problem``'s objective from ``theta0`` with Levenberg-Marquardt.

    With ``settings.bayesian`` the penalty is re-estimated before every step once
    :class:`_BayesStart` allows, and the result carries its :class:`Evidence` (estimated
    once at the end if the run stopped before); ``problem.alpha`` is then the starting penalty.
    """
    monitor = settings.monitor(problem)
    mask, n = problem.arch.weight_mask, problem.total_weight
    theta, penalty, evidence, reestimating = theta0.copy(), problem.alpha, None, False
    damping, start = _Damping(), _BayesStart.of(settings.bayes_start, problem.Y, problem.sample_weight)
    with np.errstate(over="ignore", invalid="ignore"), _blas_threads(problem):
        for _ in range(settings.max_iter):
            jtj, jtr, sse = problem.normal_equations(theta)
            if reestimating:
                evidence = reestimate(jtj, sse, theta, mask, penalty, problem.n_residuals)
                penalty = evidence.penalty
                monitor.reestimated(penalty)
            current, gradient, hessian = _penalised(jtj, jtr, sse, theta, mask, penalty)
            gradient_norm = np.linalg.norm(gradient) / n
            if gradient_norm < GRADIENT_FLOOR:
                step, trial = None, current
            else:
                step, trial = damping.search(hessian, gradient, current, partial(_objective, problem, theta, penalty))
            if step is not None:
                theta = theta + step
                if monitor.update(theta, trial / (2 * n)):
                    reason = monitor.stop_reason
                    break
            reason = _stop_reason(gradient_norm, damping.mu, current, trial, settings.tol)
            if not reestimating and start.begins(reason, current, trial):
                reestimating, reason = True, None
            if reason is not None:
                break
        else:
            reason = "max_iter"
    theta = monitor.final_theta(theta)
    if settings.bayesian and evidence is None:
        jtj, _, sse = problem.normal_equations(theta)
        evidence = reestimate(jtj, sse, theta, mask, penalty, problem.n_residuals)
    loss = _objective(problem, theta, penalty) / (2 * n)
    return SolverResult(
        float(loss), len(monitor.loss_curve), reason, **monitor.records(), evidence=evidence, theta=theta
    )
