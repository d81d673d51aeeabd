"""Bayesian regularisation's estimates (MacKay 1992), shared by the solvers that learn the penalty.

With residuals ``r``, Jacobian ``J`` and weight mask ``M`` (biases unpenalised), the precisions are
re-estimated at weights ``theta`` from the Gauss-Newton Hessian ``A = J^T J + alpha M``:

    gamma   = trace(J^T J A^-1)                 effective number of parameters
    gamma_w = n_weights - alpha * trace(M A^-1) well-determined weights
    beta    = (N - gamma) / (r @ r),  alpha_w = gamma_w / (theta @ M @ theta)

with ``N`` the number of residuals; the penalty of :func:`mlpfit._network.loss_and_grad` is then
``alpha = alpha_w / beta`` (see :mod:`mlpfit.solvers.lm` for how LM interleaves it with its steps).
"""

from dataclasses import astuple, dataclass

import numpy as np

from .. import _network

BAYES_START_IMPROVEMENT = 1e-3
"""Re-estimation begins once an accepted step gains at most this fraction of the objective: the fit has settled."""
BAYES_START_FIT = 1.0
"""Under ``"fitted"``, re-estimation begins at a step whose objective is at most this times the mean's sum of
squares."""


@dataclass(frozen=True)
class Evidence:
    """The Bayesian-regularisation estimates at the end of a run (standardised data).

    Attributes
    ----------
    weight_precision : float
        ``alpha_w``, the prior precision of the weights.
    noise_precision : float
        ``beta``, the inverse noise variance of the standardised targets.
    effective_params : float
        ``gamma``, the number of parameters the data determine.
    """

    weight_precision: float
    noise_precision: float
    effective_params: float

    @property
    def penalty(self):
        """The equivalent fixed L2 penalty ``alpha = alpha_w / beta`` of ``loss_and_grad``."""
        return self.weight_precision / self.noise_precision

    @classmethod
    def mean(cls, evidences):
        """The mean of several networks' estimates, for the average of their fits: its ``effective_params``
        is the trace of the mean of their (linearised) hat matrices."""
        return cls(*np.mean([astuple(evidence) for evidence in evidences], axis=0).tolist())


def reestimate(jtj, sse, theta, mask, penalty, n_residuals):
    """MacKay's Gauss-Newton update of the precisions at ``theta`` (see module notes)."""
    inverse_diagonal, ridge = _network.penalized_hessian_diagonal(jtj, penalty, mask)
    effective = _network.effective_parameters(inverse_diagonal, ridge)
    effective_weights = mask.sum() - penalty * inverse_diagonal[mask].sum()
    weights = theta[mask]
    tiny = np.finfo(float).tiny
    return Evidence(
        weight_precision=max(effective_weights, tiny) / max(weights @ weights, tiny),
        noise_precision=max(n_residuals - effective, 1.0) / max(sse, tiny),
        effective_params=effective,
    )


EVIDENCE_UPDATES = 20
"""Re-estimations :func:`evidence_at` iterates at fixed weights (the fixed point settles within a few)."""


def evidence_at(jtj, sse, theta, mask, penalty, n_residuals):
    """The Bayesian-regularisation estimates for weights fitted with a fixed penalty.

    MacKay's update iterated at ``theta`` from ``penalty``: the penalty the evidence would
    choose for these weights and the effective number of parameters under it. Weights the
    data barely determine (a unit a fixed small penalty left free) then count for less than
    one each, as they would after Bayesian regularisation.
    """
    for _ in range(EVIDENCE_UPDATES):
        evidence = reestimate(jtj, sse, theta, mask, penalty, n_residuals)
        penalty = evidence.penalty
    return evidence
