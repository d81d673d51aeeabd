"""mlpfit: neural-network curve fitting that works on raw data.

The public names are imported on first use (PEP 562), so ``import mlpfit`` and the command line's
``--version`` and ``--help`` do not pay for scikit-learn and SciPy (over a second) until a name needs them.
"""

import importlib
import importlib.util

__version__ = "0.1.0"

_HOMES = {
    "CurveBatch": "curves",
    "CurveDirectory": "_curve_directory",
    "CurveTally": "_curve_tally",
    "Diagnosis": "diagnosis",
    "EnsembleRegressor": "ensemble",
    "Finding": "diagnosis",
    "FitPlan": "_plan",
    "FitSummary": "_fitted",
    "FittedNetwork": "_fitted",
    "FittedState": "_fitted",
    "FitWarning": "diagnosis",
    "NeuralRegressor": "estimator",
    "PiecewiseLinear": "piecewise",
    "TrainingRun": "_fitted",
    "diagnose": "diagnosis",
    "gradient_check": "_gradcheck",
    "load": "io",
    "make_plan": "_plan",
    "piecewise_linear": "piecewise",
    "save": "io",
}
"""Public name -> the module (in this package) that defines it."""

__all__ = [*_HOMES, "__version__"]


def __getattr__(name):
    """A public name, imported from its module on first use; a submodule (``mlpfit.io``) likewise."""
    if name in _HOMES:
        value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    elif name.isidentifier() and not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}"):
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
