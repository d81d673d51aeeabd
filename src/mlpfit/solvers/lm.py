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
(:func:`mlpfit._network.normal_equations`; for one hidden layer from the Jacobian's structure,
without building it), so memory does not grow with ``n`` beyond the data itself.

As scipy's ``least_squares`` keeps its trust-region update apart from its termination
test, each iteration here makes three separate decisions: :class:`_Damping` searches
for a step that lowers ``S``; :func:`_stop_reason` says whether a run at a fixed
penalty stops (a gradient below ``GRADIENT_FLOOR``, no step found below ``MU_MAX``, or
a gain of at most ``tol``); :class:`_BayesStart` says when re-estimation begins.

:func:`solve_batch` runs many independent problems of one architecture at once (one curve each,
say): their normal equations and trial objectives are computed together by the batched maths of
:mod:`mlpfit._network`, and each network keeps its own damping, penalty and stop, so it ends
where it would alone (bit for bit; :func:`solve` is the batch of one).

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

from .. import _network
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
    damped = hessian.copy()
    damped.flat[:: len(gradient) + 1] += mu
    factor, info = dpotrf(damped, lower=False, clean=False, overwrite_a=True)
    if info != 0:
        return None
    step, info = dpotrs(factor, gradient, lower=False)
    return -step if info == 0 else None


class _Damping:
    """Marquardt's damping ``mu`` of each network of a batch, and the search for steps that lower their objectives.

    An object because ``mu`` carries over from one search to the next, so a run that keeps
    succeeding takes ever longer steps; above ``MU_MAX`` it records that the last search failed.
    """

    def __init__(self, n_networks=1):
        self.mu = np.full(n_networks, MU_INIT)

    def search(self, networks, hessian, gradient, current, objective_after):
        """For each of ``networks``, the first damped step that lowers its objective, and the objective after it.

        Parameters
        ----------
        networks : ndarray of int
            The networks that seek a step.
        hessian, gradient : ndarray of shape (len(networks), n_params, n_params) and (len(networks), n_params)
            Their penalised Gauss-Newton systems at their current weights.
        current : ndarray of shape (len(networks),)
            Their objectives at their current weights.
        objective_after : callable
            ``(which, steps)`` -> the objectives of networks ``networks[which]`` at their weights plus ``steps``.

        Returns
        -------
        steps : ndarray of shape (len(networks), n_params)
            The step of each network that found one.
        trial : ndarray of shape (len(networks),)
            The objective after the step; ``current`` for a network that found none.
        found : ndarray of bool
            Whether a step lowered the objective before ``mu`` exceeded ``MU_MAX``.

        Notes
        -----
        Each network's ``mu`` grows by ``MU_INCREASE`` per rejected step and falls by ``MU_DECREASE``
        after the accepted one. A search after a failed one (a run that goes on, see
        :class:`_BayesStart`) begins again from ``MU_INIT``.
        """
        mu = self.mu[networks]
        mu[mu > MU_MAX] = MU_INIT
        steps, trial, found = np.zeros_like(gradient), current.copy(), np.zeros(len(networks), dtype=bool)
        pending = np.arange(len(networks))
        while pending.size:
            candidates = [_damped_step(hessian[i], gradient[i], mu[i]) for i in pending]
            solved = np.array([i for i, step in zip(pending, candidates) if step is not None], dtype=int)
            trials = np.full(len(networks), np.inf)
            if solved.size:
                steps[solved] = [step for step in candidates if step is not None]
                trials[solved] = objective_after(solved, steps[solved])
            lowers = trials[pending] < current[pending]
            accepted, rejected = pending[lowers], pending[~lowers]
            mu[accepted] = np.maximum(mu[accepted] * MU_DECREASE, MU_MIN)
            trial[accepted], found[accepted] = trials[accepted], True
            mu[rejected] *= MU_INCREASE
            pending = rejected[mu[rejected] <= MU_MAX]
        self.mu[networks] = mu
        return steps, trial, found


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
    def of(cls, rule, problem):
        """The rule ``rule`` for ``problem``'s targets."""
        if rule == "fitted":
            return cls(rule, BAYES_START_FIT * problem.mean_sum_of_squares())
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
    """The objectives ``S``, the gradients ``g`` and the Hessians ``J^T J + alpha M`` of stacked networks."""
    weights = np.ascontiguousarray(theta[:, mask])
    hessian = jtj.copy()
    diagonal = np.arange(len(mask))
    hessian[:, diagonal, diagonal] += penalty[:, None] * mask
    return sse + penalty * _network.inner(weights, weights), jtr + penalty[:, None] * mask * theta, hessian


def _objectives(batch, networks, theta, penalty):
    """``S`` of ``batch``'s problems ``networks`` at ``theta`` (their stacked weights): the (weighted) sums of
    squared errors plus ``penalty`` times the weights' squared norms."""
    weights = np.ascontiguousarray(theta[:, batch.arch.weight_mask])
    return batch.sum_squared_error(theta, networks) + penalty * _network.inner(weights, weights)


@cache
def _thread_controller():
    return ThreadpoolController()


def _blas_threads(batch):
    """A context limiting BLAS to one thread for small problems (see ``SINGLE_THREAD_MAX_WORK``)."""
    if _network.normal_equations_work(batch.Y.size, batch.arch.n_params) < SINGLE_THREAD_MAX_WORK:
        return _thread_controller().limit(limits=1, user_api="blas")
    return nullcontext()


def solve(problem, theta0, settings, rng):
    """Minimise ``problem``'s objective from ``theta0`` with Levenberg-Marquardt: :func:`solve_batch` on one."""
    return solve_batch(problem.as_batch(), theta0[None], settings)[0]


def solve_batch(batch, theta0, settings):
    """Minimise each problem of ``batch`` from its row of ``theta0`` with Levenberg-Marquardt.

    Every network takes its own path, as it would alone: its own damping, its own start of
    re-estimation and its own stop, after which it leaves the batch. With ``settings.bayesian`` the
    penalty is re-estimated before every step once :class:`_BayesStart` allows, and the result
    carries its :class:`Evidence` (estimated once at the end if the run stopped before); the
    batch's ``alpha`` is then the starting penalty. Returns one :class:`SolverResult` per problem.
    """
    problems = [batch.problem(b) for b in range(len(batch))]
    monitors = [settings.monitor(problem) for problem in problems]
    mask = batch.arch.weight_mask
    n = np.array([problem.total_weight for problem in problems], dtype=np.float64)
    theta, penalty, evidence = theta0.copy(), batch.alpha.astype(np.float64), [None] * len(batch)
    reestimating, reasons = np.zeros(len(batch), dtype=bool), [None] * len(batch)
    starts = [_BayesStart.of(settings.bayes_start, problem) for problem in problems]
    damping = _Damping(len(batch))
    with np.errstate(over="ignore", invalid="ignore"), _blas_threads(batch):
        for _ in range(settings.max_iter):
            active = np.flatnonzero([reason is None for reason in reasons])
            if not active.size:
                break
            jtj, jtr, sse = batch.normal_equations(theta[active], active)
            for i in np.flatnonzero(reestimating[active]):
                b = active[i]
                evidence[b] = reestimate(jtj[i], sse[i], theta[b], mask, penalty[b], problems[b].n_residuals)
                penalty[b] = evidence[b].penalty
                monitors[b].reestimated(penalty[b])
            current, gradient, hessian = _penalised(jtj, jtr, sse, theta[active], mask, penalty[active])
            gradient_norm = np.sqrt(_network.inner(gradient, gradient)) / n[active]
            seeking = np.flatnonzero(gradient_norm >= GRADIENT_FLOOR)
            steps, trials = {}, current.copy()
            if seeking.size:
                objective_after = partial(_objectives_after, batch, active[seeking], theta, penalty)
                found_steps, trials[seeking], found = damping.search(
                    active[seeking], hessian[seeking], gradient[seeking], current[seeking], objective_after
                )
                steps = {i: step for i, step, ok in zip(seeking, found_steps, found) if ok}
            for i, b in enumerate(active):
                if i in steps:
                    theta[b] += steps[i]
                    if monitors[b].update(theta[b], trials[i] / (2 * n[b])):
                        reasons[b] = monitors[b].stop_reason
                        continue
                reason = _stop_reason(gradient_norm[i], damping.mu[b], current[i], trials[i], settings.tol)
                if not reestimating[b] and starts[b].begins(reason, current[i], trials[i]):
                    reestimating[b], reason = True, None
                reasons[b] = reason
    theta = np.array([monitor.final_theta(row) for monitor, row in zip(monitors, theta)])
    if settings.bayesian:
        _estimate_at_the_end(batch, theta, penalty, evidence, problems)
    loss = _objectives(batch, np.arange(len(batch)), theta, penalty) / (2 * n)
    return [
        SolverResult(
            float(loss[b]),
            len(monitor.loss_curve),
            reasons[b] or "max_iter",
            **monitor.records(),
            evidence=evidence[b],
            theta=theta[b],
        )
        for b, monitor in enumerate(monitors)
    ]


def _objectives_after(batch, networks, theta, penalty, which, steps):
    """:func:`_objectives` of networks ``networks[which]`` at their weights plus ``steps``."""
    networks = networks[which]
    return _objectives(batch, networks, theta[networks] + steps, penalty[networks])


def _estimate_at_the_end(batch, theta, penalty, evidence, problems):
    """Fill in the evidence of the networks whose runs stopped before re-estimation began, at their final weights."""
    late = np.flatnonzero([estimate is None for estimate in evidence])
    if late.size:
        jtj, _, sse = batch.normal_equations(theta[late], late)
        for i, b in enumerate(late):
            evidence[b] = reestimate(
                jtj[i], sse[i], theta[b], batch.arch.weight_mask, penalty[b], problems[b].n_residuals
            )
