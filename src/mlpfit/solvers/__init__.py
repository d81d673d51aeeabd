"""Training algorithms behind one interface: ``solve(problem, theta0, settings, rng) -> SolverResult``."""

from . import adam, lbfgs, lm, sgd
from ._base import STOP_MESSAGES, Monitor, ProblemBatch, RunRecord, SolverResult, SolverSettings, TrainingProblem

SOLVERS = {
    "lm": lm.solve,
    "lbfgs": lbfgs.solve,
    "adam": adam.solve,
    "sgd": sgd.solve,
}
"""Solver name -> ``solve`` function."""

__all__ = [
    "SOLVERS",
    "STOP_MESSAGES",
    "Monitor",
    "ProblemBatch",
    "RunRecord",
    "SolverResult",
    "SolverSettings",
    "TrainingProblem",
]
