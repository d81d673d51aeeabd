"""mlpfit: neural-network curve fitting that works on raw data."""

from ._gradcheck import gradient_check
from .estimator import FitSummary, NeuralRegressor
from .io import load, save

__version__ = "0.1.0"

__all__ = ["FitSummary", "NeuralRegressor", "gradient_check", "load", "save", "__version__"]
