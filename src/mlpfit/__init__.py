"""mlpfit: neural-network curve fitting that works on raw data."""

from ._gradcheck import gradient_check
from .diagnose import Diagnosis, Finding, FitWarning, diagnose
from .ensemble import EnsembleRegressor
from .estimator import FitSummary, NeuralRegressor
from .io import load, save
from ._plan import FitPlan, make_plan
from .piecewise import PiecewiseLinear, piecewise_linear

__version__ = "0.1.0"

__all__ = [
    "Diagnosis",
    "EnsembleRegressor",
    "Finding",
    "FitPlan",
    "FitSummary",
    "FitWarning",
    "NeuralRegressor",
    "PiecewiseLinear",
    "diagnose",
    "gradient_check",
    "load",
    "make_plan",
    "piecewise_linear",
    "save",
    "__version__",
]
