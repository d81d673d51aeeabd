"""L-BFGS through scipy.optimize, fed the fused loss-and-gradient function.

Notes
-----
scipy's L-BFGS-B stops when the relative loss reduction falls below ``ftol`` (set
to ``tol``) or the largest gradient component below ``gtol``. The monitor's
early stopping ends the run from the callback by raising StopIteration.
"""

import numpy as np
from scipy.optimize import minimize

from ._base import SolverResult

GRADIENT_TOLERANCE = 1e-9
_STATUS_REASONS = {0: "tol", 1: "max_iter"}  # scipy status -> stop reason; 2 is a failed line search


def solve(problem, theta0, settings, rng):
    """Minimise ``problem``'s objective from ``theta0`` with L-BFGS-B."""
    monitor = settings.monitor(problem)

    def callback(intermediate_result):
        if monitor.update(intermediate_result.x, intermediate_result.fun):
            raise StopIteration

    with np.errstate(over="ignore", invalid="ignore"):
        result = minimize(
            problem.loss_and_grad,
            theta0,
            jac=True,
            method="L-BFGS-B",
            callback=callback,
            options={
                "maxiter": settings.max_iter,
                "maxfun": 2 * settings.max_iter + 20,
                "ftol": settings.tol,
                "gtol": GRADIENT_TOLERANCE,
            },
        )
    reason = _STATUS_REASONS.get(result.status, "line_search")
    if reason == "tol" and "GRADIENT" in str(result.message).upper():
        reason = "gradient"
    return SolverResult.from_monitor(problem, monitor, result.x, reason)
