"""One view of a trained network, whether a NeuralRegressor or a user's own weight arrays.

Diagnostics and the piecewise-linear form read a network through
:class:`FittedNetwork`: its :class:`~mlpfit._network.Architecture` and packed
parameters, the affine maps between the user's units and the units the network
works in, and the training record when there is one.
"""

from dataclasses import dataclass
from typing import Optional

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from . import _network, _nll
from ._activations import ACTIVATIONS
from ._scaling import Scaler


@dataclass(frozen=True)
class FittedNetwork:
    """A trained network and how it maps the user's units to its own.

    Attributes
    ----------
    arch : Architecture
    theta : ndarray of shape (n_params,)
    x_scaler, y_scaler : Scaler
        ``x_scaler.transform(X)`` is what the network sees; its outputs are
        ``y_scaler.transform(Y)`` units. Identity for a user's raw network.
    loss_curve : list of float or None
        Training objective per iteration (network units, penalty included); None for raw weights.
    validation_curve : list of float or None
        Half mean squared validation error per iteration, summed over outputs (network units).
    y_ndim : int
        1 when predictions are returned as a vector (an estimator fitted on 1-D y, or layer
        pairs with one output), 2 for a matrix.
    solver : str or None
        The solver that trained an estimator; None for raw weights.
    stop_reason : str or None
        Why that solver stopped (a key of ``mlpfit.solvers.STOP_MESSAGES``); None for raw weights.
    """

    arch: object
    theta: np.ndarray
    x_scaler: Scaler
    y_scaler: Scaler
    loss_curve: Optional[list] = None
    validation_curve: Optional[list] = None
    y_ndim: int = 2
    solver: Optional[str] = None
    stop_reason: Optional[str] = None

    @property
    def n_features(self):
        return self.arch.layer_sizes[0]

    @property
    def n_outputs(self):
        return self.arch.layer_sizes[-1]

    def forward(self, X):
        """Pre-activations of the hidden layers and outputs (network units) for raw ``X``."""
        activations, pre_activations = _network.forward(self.arch, self.theta, self.x_scaler.transform(X))
        return pre_activations, activations[-1]

    def predict(self, X):
        """Predictions in the user's units, of shape (n_samples, n_outputs)."""
        return self.y_scaler.inverse_transform(self.forward(X)[1])


def as_fitted_network(model, activation=None):
    """Read ``model``: a fitted NeuralRegressor, or a sequence of ``(W, b)`` pairs with ``activation`` named.

    Layer pairs compute ``a @ W + b`` with ``W`` of shape (fan_in, fan_out) and ``b`` of
    shape (fan_out,); every layer but the last applies ``activation``; there is no scaling.
    """
    if isinstance(model, BaseEstimator):
        if not hasattr(type(model), "architecture_"):
            raise ValueError(
                f"expected a NeuralRegressor or (W, b) layer pairs; got {type(model).__name__} "
                "(for an ensemble, pass each of its estimators_)."
            )
        check_is_fitted(model)
        if activation is not None:
            raise ValueError(
                f"activation={activation!r} is only for a network given as (W, b) pairs; "
                f"the estimator's own activation={model.activation!r} is used."
            )
        arch, theta = model.architecture_, model.theta_
        if model._predicts_noise():  # the mean outputs alone, whose squared error the curves record
            arch, theta = _nll.mean_network(arch, theta)
        return FittedNetwork(
            arch, theta, model.x_scaler_, model.y_scaler_,
            list(model.loss_curve_), model.validation_loss_curve_, model._y_ndim,
            model.summary_.solver, model.summary_.stop_reason,
        )
    coefs, intercepts = _layer_arrays(model)
    if len(coefs) > 1 and activation not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {', '.join(map(repr, ACTIVATIONS))} for a network given as "
            f"(W, b) pairs; got {activation!r}."
        )
    sizes = (coefs[0].shape[0], *(W.shape[1] for W in coefs))
    arch = _network.Architecture(sizes, activation or "identity")
    return FittedNetwork(
        arch, arch.pack(coefs, intercepts), Scaler.identity(sizes[0]), Scaler.identity(sizes[-1]),
        y_ndim=1 if sizes[-1] == 1 else 2,
    )


def _layer_arrays(layers):
    """Check ``(W, b)`` pairs for shape and finiteness; return lists of float64 arrays."""
    try:
        pairs = [(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)) for W, b in layers]
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"model must be a fitted NeuralRegressor or a sequence of numeric (W, b) layer pairs: {error}"
        ) from None
    if not pairs:
        raise ValueError("model has no layers; give at least one (W, b) pair.")
    fan_in = None
    for index, (W, b) in enumerate(pairs):
        b = b.ravel()
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(
                f"layer {index}: W must have shape (fan_in, fan_out) and b shape (fan_out,); "
                f"got W {W.shape} and b {np.shape(pairs[index][1])}."
            )
        if fan_in is not None and W.shape[0] != fan_in:
            raise ValueError(f"layer {index}: W has {W.shape[0]} rows but the layer before has {fan_in} units.")
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise ValueError(f"layer {index}: the weights contain NaN or infinity; the training that made them diverged.")
        pairs[index] = (W, b)
        fan_in = W.shape[1]
    return [W for W, _ in pairs], [b for _, b in pairs]
