"""The model as a standalone Python module: NumPy statements on whole arrays, the weights inline."""

from .. import __version__
from .._activations import LEAKY_SLOPE
from ._program import Value, emit
from ._source import SourceOps, literal

ACTIVATIONS = {
    "relu": "np.maximum({0}, 0.0)",
    "leaky_relu": "np.where({0} > 0, {0}, LEAKY_SLOPE * {0})",
    "tanh": "np.tanh({0})",
    "logistic": "1.0 / (1.0 + np.exp(-{0}))",
    "softplus": "np.logaddexp(0.0, {0})",
    "identity": "{0}",
}
"""Activation name -> NumPy expression, as :mod:`mlpfit._activations` computes it (the logistic as SciPy's
``expit``)."""
FUNCTIONS = {name: f"np.{name}({{0}})" for name in ("log", "log1p", "exp", "expm1", "sqrt")}


class PythonOps(SourceOps):
    """Values are (N, width) arrays; constants module-level arrays that broadcast over the rows."""

    activations, functions = ACTIVATIONS, FUNCTIONS

    def input(self, width):
        return Value("X", width)

    def constant(self, array):
        name = self.fresh("C")
        self.constants.append(f"{name} = np.array({literal(array)})")
        return Value(name, array.shape[-1])

    def _assign(self, expression, width):
        name = self.fresh("v")
        self.statements.append(f"{name} = {expression}")
        return Value(name, width)

    def elementwise(self, template, *operands):
        return self._assign(template.format(*(operand.name for operand in operands)), operands[0].width)

    def column(self, value, j):
        return f"{value.name}[:, {j}]"

    def stacked(self, expressions):
        return self._assign(f"np.stack([{', '.join(expressions)}], axis=1)", len(expressions))

    def dense(self, value, W, b):
        return self._assign(f"{value.name} @ {self.constant(W).name} + {self.constant(b).name}", W.shape[1])

    def take(self, value, start, stop):
        return self._assign(f"{value.name}[:, {start}:{stop}]", stop - start)


def module_source(parts, header):
    """The module's text: ``header`` (lines saying what the model is) as its docstring, then the constants and
    ``predict``."""
    ops = PythonOps()
    mean, std = emit(parts, ops)
    shape = ".ravel()" if parts.y_ndim == 1 else ""
    if std is None:
        signature, returned = "predict(X)", f"{mean.name}{shape}"
        returns = "mean : ndarray, the predictions"
    else:
        signature = "predict(X, return_std=False)"
        returned = f"({mean.name}{shape}, {std.name}{shape}) if return_std else {mean.name}{shape}"
        returns = "mean : ndarray, the predictions; with ``return_std`` also their standard deviations"
    target_shape = "(n_samples,)" if parts.y_ndim == 1 else f"(n_samples, {parts.n_targets})"
    body = "\n".join(f"        {statement}" for statement in ops.statements)
    return f'''"""{chr(10).join(header)}

Written by ``mlpfit.export.to_python`` (mlpfit {__version__}); needs NumPy alone.
"""

import numpy as np

N_INPUTS = {parts.n_inputs}
LEAKY_SLOPE = {LEAKY_SLOPE!r}

{chr(10).join(ops.constants)}


def {signature}:
    """The model's predictions for ``X`` of shape (n_samples, {parts.n_inputs}), each of shape {target_shape}.

    Returns {returns}.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != N_INPUTS:
        raise ValueError(f"X must have shape (n_samples, {{N_INPUTS}}); got {{X.shape}}.")
    with np.errstate(over="ignore"):
{body}
    return {returned}
'''
