"""A fitted model's prediction written once, as calls on a backend's operations.

:func:`emit` walks the model as :meth:`mlpfit.FittedNetwork.predict` and :meth:`mlpfit.EnsembleRegressor.predict`
compute it; each backend (ONNX, NumPy source, C source) implements the few operations it calls, on values of a
known width per row. The activations and transforms are named as :mod:`mlpfit._activations` and
:mod:`mlpfit._transforms` name them, so a backend that lacks one fails its tests rather than computing another.
"""

from typing import NamedTuple

import numpy as np

from .._columns import Categories, Dates
from .._nll import VARIANCE_FLOOR
from .._transforms import TRANSFORMS


class Value(NamedTuple):
    """A backend's handle on an intermediate result (``name``) of ``width`` columns per row."""

    name: str
    width: int


class Parts(NamedTuple):
    """What an export needs of a fitted model: its networks and how their predictions combine."""

    networks: tuple
    """One :class:`~mlpfit.FittedNetwork` per member (one for a NeuralRegressor)."""
    noise_variances: np.ndarray | None
    """An ensemble's homoscedastic members' noise variances (n_members, n_targets), else None."""
    ensemble: bool
    y_ndim: int
    input_names: tuple
    """Each input column's name in messages and notes: ``'dose'`` or ``column 0``."""

    @property
    def has_std(self):
        """The model predicts a standard deviation (``predict(return_std=True)`` works)."""
        return self.ensemble or self.networks[0].has_std

    @property
    def n_inputs(self):
        return self.networks[0].n_inputs

    @property
    def n_targets(self):
        return self.networks[0].n_targets

    def input_notes(self):
        """One line per input column saying what number it takes (a date column: days since its origin)."""
        encoding = self.networks[0].x_encoding
        columns = encoding.columns if encoding is not None else (None,) * self.n_inputs
        return [
            f"{name}: days since {column.origin} (a date column, as mlpfit encodes it)"
            if isinstance(column, Dates)
            else f"{name}: a number"
            for name, column in zip(self.input_names, columns)
        ]


def parts_of(model):
    """The :class:`Parts` of a fitted NeuralRegressor or EnsembleRegressor; ValueError for anything else, and for
    a model with a text (categorical) input, which exported models, taking one array of numbers, cannot hold."""
    from sklearn.utils.validation import check_is_fitted

    from ..ensemble import EnsembleRegressor, networks_of
    from ..estimator import NeuralRegressor

    if not isinstance(model, (NeuralRegressor, EnsembleRegressor)):
        raise ValueError(f"model must be a fitted NeuralRegressor or EnsembleRegressor; got {type(model).__name__}.")
    check_is_fitted(model)
    members = networks_of(model)
    networks = tuple(member.fitted_.network for member in members)
    names = getattr(model, "feature_names_in_", None)
    input_names = (
        tuple(f"column {name!r}" for name in names)
        if names is not None
        else tuple(f"column {j}" for j in range(networks[0].n_inputs))
    )
    encoding = networks[0].x_encoding
    for name, column in zip(input_names, encoding.columns if encoding is not None else ()):
        if isinstance(column, Categories):
            raise ValueError(
                f"input {name} holds text (categories {', '.join(map(repr, column.categories[:3]))}"
                f"{', ...' if column.width > 3 else ''}); an exported model takes numbers only. Refit with that "
                "column one-hot encoded as numbers (one 0/1 column per category), or predict with mlpfit."
            )
    noise = getattr(model, "noise_variances_", None)
    ensemble = isinstance(model, EnsembleRegressor)
    if noise is not None:
        noise = np.asarray(noise, dtype=np.float64).reshape(len(networks), -1)
    return Parts(networks, noise, ensemble, networks[0].y_ndim, input_names)


def emit(parts, ops):
    """Write the prediction of ``parts`` with ``ops``; return ``(mean, std)`` as values of ``n_targets``
    columns (``std`` None where the model predicts none). Shapes and names of the outputs are the caller's."""
    x = ops.input(parts.n_inputs)
    moments = [_member(network, ops, x) for network in parts.networks]
    if not parts.ensemble:
        return moments[0]
    # EnsembleRegressor.predict: the mixture's mean, and variance = mean(noise variances) + mean(spread)
    means = [mean for mean, _ in moments]
    mean = ops.mean(means)
    spread = ops.mean([ops.square(ops.subtract(member, mean)) for member in means])
    if parts.noise_variances is None:
        variance = ops.add(ops.mean([ops.square(std) for _, std in moments]), spread)
    else:
        variance = ops.add_constant(spread, parts.noise_variances.mean(axis=0))
    return mean, ops.sqrt(variance)


def _member(network, ops, x):
    """``(mean, std)`` of one network as :meth:`mlpfit.FittedNetwork.predict` computes them (std None where the
    network has none, :attr:`~mlpfit.FittedNetwork.has_std`)."""
    a = _columns(ops, x, network.x_transforms, "forward")
    a = ops.standardize(a, network.x_scaler.mean, network.x_scaler.scale)
    coefs, intercepts = network.layers()
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        a = ops.activation(ops.dense(a, W, b), network.arch.activation)
    outputs = ops.dense(a, coefs[-1], intercepts[-1])
    k, y_scaler = network.n_targets, network.y_scaler
    mean = outputs if not network.variance_head else ops.take(outputs, 0, k)
    mean = _columns(ops, ops.unstandardize(mean, y_scaler.scale, y_scaler.mean), network.y_transforms, "inverse")
    if not network.has_std:
        return mean, None
    # mlpfit._nll.mean_and_variance: variance = softplus(raw) + VARIANCE_FLOOR, on the standardised scale
    variance = ops.add_constant(ops.activation(ops.take(outputs, k, 2 * k), "softplus"), np.full(k, VARIANCE_FLOOR))
    return mean, ops.multiply(ops.sqrt(variance), y_scaler.scale)


def _columns(ops, value, transforms, direction):
    """``value`` with column ``j`` mapped by its transform's ``direction`` (``"forward"`` or ``"inverse"``):
    a NumPy function whose name the backends know (``log``, ``log1p``, ``exp``, ``expm1``)."""
    if transforms is None:
        return value
    functions = tuple(None if name is None else getattr(TRANSFORMS[name], direction).__name__ for name in transforms)
    return ops.columns(value, functions)
