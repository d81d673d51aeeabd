"""mlpfit: neural-network curve fitting that works on raw data."""

from ._gradcheck import gradient_check
from .diagnose import Diagnosis, Finding, FitWarning, diagnose
from .estimator import FitSummary, NeuralRegressor
from .io import load, save
from .piecewise import PiecewiseLinear, piecewise_linear

__version__ = "0.1.0"

__all__ = [
    "Diagnosis",
    "Finding",
    "FitSummary",
    "FitWarning",
    "NeuralRegressor",
    "PiecewiseLinear",
    "diagnose",
    "gradient_check",
    "load",
    "piecewise_linear",
    "save",
    "__version__",
]
