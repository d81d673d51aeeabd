"""mlpfit: neural-network curve fitting that works on raw data."""

from ._fitted import FitSummary, FittedNetwork, FittedState, TrainingRun
from ._gradcheck import gradient_check
from ._plan import FitPlan, make_plan
from .diagnosis import Diagnosis, Finding, FitWarning, diagnose
from .ensemble import EnsembleRegressor
from .estimator import NeuralRegressor
from .io import load, save
from .piecewise import PiecewiseLinear, piecewise_linear

__version__ = "0.1.0"

__all__ = [
    "Diagnosis",
    "EnsembleRegressor",
    "Finding",
    "FitPlan",
    "FitSummary",
    "FittedNetwork",
    "FittedState",
    "FitWarning",
    "NeuralRegressor",
    "PiecewiseLinear",
    "TrainingRun",
    "diagnose",
    "gradient_check",
    "load",
    "make_plan",
    "piecewise_linear",
    "save",
    "__version__",
]
