"""Levenberg-Marquardt on the penalised sum of squares, with optional Bayesian regularisation.

Notes
-----
With residuals ``r = output - Y`` flattened over samples and outputs, Jacobian ``J``
and weight mask ``M`` (biases are not penalised), LM minimises the training
objective of :func:`mlpfit._network.loss_and_grad` times ``2 n``,

    S(theta) = r @ r + alpha * theta @ M @ theta,

by solving the damped Gauss-Newton equations ``(J^T J + alpha M + mu I) step = g``
with ``g = J^T r + alpha M theta`` through a Cholesky factorisation. The damping
follows MATLAB's trainlm (Hagan & Menhaj 1994): ``mu`` starts at 1e-3, is divided
by 10 after a step that lowers ``S`` and multiplied by 10 after one that does not
(or whose matrix is not numerically positive definite), and the run stops when
``mu`` exceeds 1e10. ``J^T J`` and ``J^T r`` are accumulated over row chunks
(:func:`mlpfit._network.normal_equations`), so memory does not grow with ``n``
beyond the data itself.

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
(``"fitted"``, ``BAYES_START_FIT``) or once that fit has settled (``"settled"``, ``BAYES_START_IMPROVEMENT``).

References
----------
Marquardt (1963), SIAM J. Appl. Math. 11(2); Hagan & Menhaj (1994), IEEE Trans. Neural
Networks 5(6); MacKay (1992), Neural Computation 4(3); Foresee & Hagan (1997), Proc. ICNN.
"""

from contextlib import nullcontext
from functools import cache

import numpy as np
from scipy.linalg.lapack import dpotrf, dpotrs
from threadpoolctl import ThreadpoolController

from .. import _network
from ._base import SolverResult
from ._evidence import reestimate

MU_INIT, MU_INCREASE, MU_DECREASE, MU_MAX = 1e-3, 10.0, 0.1, 1e10
MU_MIN = 1e-20
"""Floor on ``mu`` so that a long run of accepted steps never rounds it to zero."""
GRADIENT_FLOOR = 1e-7
"""Stop when the gradient norm of the mean objective falls below this (MATLAB's min_grad)."""
SINGLE_THREAD_MAX_WORK = 1e9
"""Run BLAS on one thread while ``n_residuals * n_params**2`` is below this: for small matrices
threads only contend (measured on a shared 2-core machine: a 121-parameter, 100-row fit took
0.45 s on one BLAS thread and 6 s on two)."""
BAYES_START_IMPROVEMENT = 1e-3
"""With one input, Bayesian re-estimation starts once a step improves the fixed-penalty objective by
less than this fraction (or the fixed-penalty fit stops): from a poor initial fit the update
over-regularises and can settle at a near-constant function. Measured (5 seeds, default network,
median error against the truth): starting at once multiplied the error by 1.69 on HeaviSine, 1.47
on sinc and 3.1 on a sum of sines relative to waiting.

With several inputs it starts earlier (``BAYES_START_FIT``), before the unpenalised fit has learnt
the noise."""
BAYES_START_FIT = 1.0
"""With several inputs, re-estimation starts at the first accepted step whose sum of squared errors
is below this fraction of the targets' total sum of squares about their mean: once the network
fits better than its output bias alone. At the random initial weights, or a step later while the
fit is still worse than the mean, the update judges a network that has fitted nothing: the penalty
it sets can keep the weights too small ever to fit a sharp feature, and the run settles at a smooth
ramp. On a step across the diagonal of the square (300 rows, 20 seeds; RMSE near 0.27 against the
truth for a run so settled, 0.03-0.12 for the others) 8 runs settled so when re-estimating from the
initial weights, 3 from after the first step and 1 from this point; on Friedman #1 (1,000 rows, 15
fits) one run of 15 settled at a penalty four times the others' from after the first step, none
from here. Measured (the ten sets of several inputs in ``benchmarks/defaults_sweep.py``, 10 seeds,
median error against the truth, relative to starting after the first step): 0.93-1.01 on the
step, a product plus a sine, a Gaussian bump, diabetes and Friedman #1 and #3; 1.03-1.10 on
Friedman #2, a linear function, a ridge along the diagonal and two kinks; geometric mean 1.01.
Relative to starting after the first step, starting at the initial weights multiplied the error by
1.08 (geometric mean), and starting once a step gained under 1% of the objective by 1.21: the
unpenalised fit had learnt the noise by then."""


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


@cache
def _thread_controller():
    return ThreadpoolController()


def _blas_threads(problem):
    """A context limiting BLAS to one thread for small problems (see ``SINGLE_THREAD_MAX_WORK``)."""
    if problem.Y.size * problem.arch.n_params**2 < SINGLE_THREAD_MAX_WORK:
        return _thread_controller().limit(limits=1, user_api="blas")
    return nullcontext()


def solve(problem, theta0, settings, rng):
    """Minimise ``problem``'s objective from ``theta0`` with Levenberg-Marquardt.

    With ``settings.bayesian`` the penalty is re-estimated before every step once the
    fit has settled, and the result carries its :class:`Evidence`; ``problem.alpha`` is
    then the starting penalty.
    """
    monitor = settings.monitor(problem)
    arch, X, Y = problem.arch, problem.X, problem.Y
    mask = arch.weight_mask
    n_residuals = Y.size
    penalty, evidence = problem.alpha, None
    theta, mu, reason = theta0.copy(), MU_INIT, "max_iter"

    def objective(theta, penalty):
        weights = theta[mask]
        return _network.sum_squared_error(arch, theta, X, Y) + penalty * (weights @ weights)

    reestimating = False
    # bayes_start="fitted": start once an accepted step fits better than the mean; see BAYES_START_FIT.
    start_below = BAYES_START_FIT * np.sum((Y - Y.mean(axis=0)) ** 2) if settings.bayes_start == "fitted" else -np.inf

    def finished(why):
        """True to stop for ``why``; a Bayesian run instead starts re-estimating the penalty."""
        nonlocal reason, reestimating
        if settings.bayesian and not reestimating:
            reestimating = True
            return False
        reason = why
        return True

    with np.errstate(over="ignore", invalid="ignore"), _blas_threads(problem):
        for _ in range(settings.max_iter):
            jtj, jtr, sse = _network.normal_equations(arch, theta, X, Y)
            if reestimating:
                evidence = reestimate(jtj, sse, theta, mask, penalty, n_residuals)
                penalty = evidence.penalty
            weights = theta[mask]
            current = sse + penalty * (weights @ weights)
            gradient = jtr + penalty * mask * theta
            if np.linalg.norm(gradient) / problem.n_samples < GRADIENT_FLOOR:
                if finished("gradient"):
                    break
                continue
            hessian = jtj + np.diag(penalty * mask)
            while mu <= MU_MAX:
                step = _damped_step(hessian, gradient, mu)
                trial = np.inf if step is None else objective(theta + step, penalty)
                if trial < current:
                    break
                mu *= MU_INCREASE
            else:
                if finished("mu_max"):
                    break
                mu = MU_INIT
                continue
            theta = theta + step
            mu = max(mu * MU_DECREASE, MU_MIN)
            if monitor.update(theta, trial / (2 * problem.n_samples)):
                break
            if current - trial <= settings.tol * current:
                if finished("tol"):
                    break
            elif current - trial <= BAYES_START_IMPROVEMENT * current or trial <= start_below:
                reestimating = settings.bayesian
    theta = monitor.final_theta(theta)
    if settings.bayesian and evidence is None:  # stopped before the fit settled: estimate once at the end
        jtj, _, sse = _network.normal_equations(arch, theta, X, Y)
        evidence = reestimate(jtj, sse, theta, mask, penalty, n_residuals)
    loss = objective(theta, penalty) / (2 * problem.n_samples)
    return SolverResult(
        theta,
        float(loss),
        len(monitor.loss_curve),
        monitor.stop_reason or reason,
        monitor.loss_curve,
        monitor.validation_curve,
        evidence,
    )
