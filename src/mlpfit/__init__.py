"""mlpfit: neural-network curve fitting that works on raw data."""

from ._gradcheck import gradient_check
from .ensemble import EnsembleRegressor
from .estimator import FitSummary, NeuralRegressor

__version__ = "0.1.0"

__all__ = ["EnsembleRegressor", "FitSummary", "NeuralRegressor", "gradient_check", "__version__"]
