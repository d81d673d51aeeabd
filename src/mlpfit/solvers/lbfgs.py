"""L-BFGS through scipy.optimize, fed the fused loss-and-gradient function, with optional Bayesian regularisation.

Notes
-----
scipy's L-BFGS-B stops when the relative loss reduction falls below ``ftol`` (set
to ``tol``) or the largest gradient component below ``gtol``. The monitor's
early stopping ends the run from the callback by raising StopIteration.

With Bayesian regularisation (``settings.bayes_start``) the run alternates: L-BFGS at a fixed
penalty, then MacKay's re-estimate of the penalty from the Gauss-Newton Hessian ``J^T J`` at the
weights reached (:func:`mlpfit.solvers._evidence.reestimate`), then L-BFGS again from there, until
the penalty settles and a round no longer moves the fit. The first round runs at the problem's own
penalty (the plan's ``bayes_start_alpha``) and ends once the fit has settled (``"settled"``: its
relative improvement falls below ``BAYES_START_IMPROVEMENT``) or fits better than the targets' mean
(``"fitted"``), as LM's start rules do. ``J^T J`` is built once per round rather than once per
iteration as in LM, which is what makes the evidence affordable for networks too large for LM's steps.
"""

from dataclasses import replace

import numpy as np

from ._base import SolverResult
from ._evidence import BAYES_START_FIT, BAYES_START_IMPROVEMENT, reestimate

GRADIENT_TOLERANCE = 1e-9
"""scipy's ``gtol``: a run stops once the largest gradient component falls below this."""
_STATUS_REASONS = {0: "tol", 1: "max_iter"}  # scipy status -> stop reason; 2 is a failed line search
ROUND_MIN_ITER = 50
"""The most L-BFGS iterations between two Bayesian re-estimates (networks of up to 50 x 15 parameters)..."""
ROUND_ITER_PER_PARAMS = 15
"""...and one more per this many parameters beyond, since a re-estimate factorises ``J^T J``."""
PENALTY_SETTLED = 0.03
"""Bayesian rounds end once the re-estimated penalty moves by less than this fraction..."""
ROUND_TOL = 1e-3
"""...and the round after it converged or lowered the objective by less than this fraction."""


def _minimize(problem, theta, monitor, max_iter, ftol, stop_at=None, round_iter=None):
    """One L-BFGS-B run; returns the weights, the stop reason and its iterations.

    The monitor (early stopping, divergence) or ``stop_at(loss) -> bool`` may end the run after an
    iteration; the reason is then ``"stopped"``, which the monitor's own reason, if any, overrides.
    The evaluations are capped at ``2 * round_iter + 20`` (``round_iter`` defaults to ``max_iter``): a
    Bayesian round that the remaining budget cuts short keeps a whole round's cap, so that a run
    stopped at ``max_iter`` is the start of the longer run and not a run whose rounds end elsewhere.
    """
    from scipy.optimize import minimize  # here: every command reading a model file imports this module

    iterations = 0

    def callback(intermediate_result):
        nonlocal iterations
        iterations += 1
        if monitor.update(intermediate_result.x, intermediate_result.fun):
            raise StopIteration
        if stop_at is not None and stop_at(intermediate_result.fun):
            raise StopIteration

    with np.errstate(over="ignore", invalid="ignore"):
        result = minimize(
            problem.loss_and_grad,
            theta,
            jac=True,
            method="L-BFGS-B",
            callback=callback,
            options={
                "maxiter": max_iter,
                "maxfun": 2 * (round_iter or max_iter) + 20,
                "ftol": ftol,
                "gtol": GRADIENT_TOLERANCE,
            },
        )
    if result.status == 99:  # the callback raised StopIteration: the monitor's stop or the start rule's
        return result.x, "stopped", iterations
    reason = _STATUS_REASONS.get(result.status, "line_search")
    if reason == "tol" and "GRADIENT" in str(result.message).upper():
        reason = "gradient"
    return result.x, reason, iterations


def solve(problem, theta0, settings, rng):
    """Minimise ``problem``'s objective from ``theta0`` with L-BFGS-B (Bayesian when ``settings`` say so)."""
    monitor = settings.monitor(problem)
    if not settings.bayesian:
        theta, reason, _ = _minimize(problem, theta0, monitor, settings.max_iter, settings.tol)
        return SolverResult.from_monitor(problem, monitor, theta, reason)
    return _solve_bayesian(problem, theta0, settings, monitor)


def _start_rule(problem, settings):
    """When the unpenalised first round ends: at a loss below the mean's, or once it has settled."""
    if settings.bayes_start == "fitted":
        below = BAYES_START_FIT * problem.mean_sum_of_squares() / (2 * problem.total_weight)
        return lambda loss: loss <= below
    previous = [np.inf]

    def settled(loss):
        improved = previous[0] - loss
        previous[0] = loss
        return improved <= BAYES_START_IMPROVEMENT * loss

    return settled


def _solve_bayesian(problem, theta0, settings, monitor):
    arch, mask, n_residuals = problem.arch, problem.arch.weight_mask, problem.n_residuals
    budget = settings.max_iter
    theta, reason, used = _minimize(problem, theta0, monitor, budget, settings.tol, _start_rule(problem, settings))
    budget -= used
    penalty, evidence = problem.alpha, None
    round_max_iter = max(ROUND_MIN_ITER, arch.n_params // ROUND_ITER_PER_PARAMS)
    while budget > 0 and monitor.stop_reason is None and reason != "diverged":
        jtj, _, sse = problem.normal_equations(theta)
        evidence = reestimate(jtj, sse, theta, mask, penalty, n_residuals)
        settled = abs(evidence.penalty - penalty) <= PENALTY_SETTLED * max(penalty, np.finfo(float).tiny)
        penalty = evidence.penalty
        monitor.reestimated(penalty)
        round_problem = replace(problem, alpha=penalty)
        before = round_problem.loss_and_grad(theta)[0]
        theta, reason, used = _minimize(
            round_problem, theta, monitor, min(budget, round_max_iter), settings.tol, round_iter=round_max_iter
        )
        budget -= max(used, 1)  # a round that could not move still counts, so the loop ends
        if settled and (reason != "max_iter" or before - monitor.loss_curve[-1] <= ROUND_TOL * before):
            reason = "tol" if reason in ("max_iter", "stopped") else reason
            break
    if evidence is None or budget <= 0 or monitor.stop_reason is not None:
        jtj, _, sse = problem.normal_equations(monitor.final_theta(theta))
        evidence = reestimate(jtj, sse, monitor.final_theta(theta), mask, penalty, n_residuals)
    if budget <= 0 and reason in ("tol", "gradient", "stopped"):
        reason = "max_iter"
    result = SolverResult.from_monitor(replace(problem, alpha=penalty), monitor, theta, reason)
    return replace(result, evidence=evidence)
