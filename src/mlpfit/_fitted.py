"""What a fit leaves: the trained network, the record of its training, and the plan it followed.

A fitted :class:`~mlpfit.NeuralRegressor` keeps one :class:`FittedState` as ``fitted_``; its
fitted attributes (``coefs_``, ``loss_``, ``summary_``, ...) are views of it, model files
store it field by field, and diagnostics, plots, the CLI and the ensemble read it. A
user's own weight arrays are read into the same form (:func:`as_fitted_state`), with no
training record.
"""

from dataclasses import dataclass, replace

import numpy as np

from . import _network, _nll, _transforms
from ._activations import ACTIVATIONS
from ._columns import Dates, InputEncoding, input_labels
from ._scaling import Scaler
from .solvers import STOP_MESSAGES, RunRecord


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
    y_ndim : int
        1 when predictions are returned as a vector (an estimator fitted on 1-D y, or layer
        pairs with one output), 2 for a matrix.
    variance_head : bool
        The network predicts a variance per target beside each mean (``loss="gaussian_nll"``),
        so it has twice as many outputs as targets.
    x_transforms, y_transforms : tuple of (str or None), or None
        The transform (a key of :data:`mlpfit._transforms.TRANSFORMS`) applied to each input column before
        ``x_scaler``, and to each target before ``y_scaler``, whose inverse maps the outputs back; None when
        no column is transformed (``input_transform``, ``target_transform``).
    x_encoding : InputEncoding or None
        How the user's input columns (dates, text) become the network's inputs, applied first of all
        (:mod:`mlpfit._columns`); None when every input is a number taken as it is.
    """

    arch: object
    theta: np.ndarray
    x_scaler: Scaler
    y_scaler: Scaler
    y_ndim: int = 2
    variance_head: bool = False
    x_transforms: tuple | None = None
    y_transforms: tuple | None = None
    x_encoding: InputEncoding | None = None

    @property
    def n_features(self):
        """The network's inputs (a text column gives one per category)."""
        return self.arch.layer_sizes[0]

    @property
    def n_inputs(self):
        """The user's input columns."""
        return self.n_features if self.x_encoding is None else self.x_encoding.n_inputs

    @property
    def n_targets(self):
        return self.arch.layer_sizes[-1] // (2 if self.variance_head else 1)

    def layers(self):
        """``(coefs, intercepts)``: each layer's weights (fan_in, fan_out) and biases, views of ``theta``."""
        return self.arch.unpack(self.theta)

    def means(self):
        """The network without its variance head: the means alone, whose squared error training recorded."""
        if not self.variance_head:
            return self
        arch, theta = _nll.mean_network(self.arch, self.theta)
        return replace(self, arch=arch, theta=theta, variance_head=False)

    @property
    def has_std(self):
        """Predictions come with a standard deviation in y's units: the network has a variance head, and no target
        transform (whose noise is Gaussian on the transformed scale, so no one standard deviation describes it)."""
        return self.variance_head and self.y_transforms is None

    @property
    def transformed(self):
        """Some input or target column is transformed before standardisation."""
        return self.x_transforms is not None or self.y_transforms is not None

    def encoded(self, X):
        """The user's columns ``X`` as the network's inputs (n_samples, n_features), before the transforms
        (:meth:`mlpfit._columns.InputEncoding.encode`); ``X`` itself without an encoding, or when None."""
        return X if self.x_encoding is None or X is None else self.x_encoding.encode(X)

    def in_fitted_space(self, X, Y=None):
        """``(X, Y)`` mapped by the transforms into the space the network was fitted in (``X`` encoded already,
        :meth:`encoded`; ``Y`` may be None), and the network there: the same with no encoding and no transforms.
        ValueError for a value outside a domain."""
        X = _transforms.forward(X, self.x_transforms, input_labels(self.x_encoding))
        Y = None if Y is None else _transforms.forward(Y, self.y_transforms, "target column")
        return X, Y, replace(self, x_transforms=None, y_transforms=None, x_encoding=None)

    def hidden_and_output(self, X):
        """``(hidden, output)`` for the user's ``X``: each hidden layer's pre-activations and the output layer,
        in the network's units."""
        X = _transforms.forward(self.encoded(X), self.x_transforms, input_labels(self.x_encoding))
        activations, pre_activations = _network.forward(self.arch, self.theta, self.x_scaler.transform(X))
        return pre_activations, activations[-1]

    def predict(self, X):
        """Outputs in the user's units, (n_samples, n_targets); with a variance head ``(means, stds)``.

        With target transforms the means are the inverse transform of the network's mean (for ``"log"``
        a median-type prediction, see :mod:`mlpfit._transforms`) and the stds stay in the transformed space.
        """
        X = _transforms.forward(self.encoded(X), self.x_transforms, input_labels(self.x_encoding))
        outputs = _network.predict(self.arch, self.theta, self.x_scaler.transform(X))
        if not self.variance_head:
            return _transforms.inverse(self.y_scaler.inverse_transform(outputs), self.y_transforms)
        mean, variance = _nll.mean_and_variance(outputs)
        mean = _transforms.inverse(self.y_scaler.inverse_transform(mean), self.y_transforms)
        return mean, np.sqrt(variance) * self.y_scaler.scale

    def as_target(self, Y):
        """``Y`` (n_samples, n_targets) shaped as the targets were: a vector when ``y_ndim`` is 1."""
        return Y.ravel() if self.y_ndim == 1 else Y

    def first_layer_breakpoints(self):
        """x positions ``-b / w`` of a one-input network's first-layer units, in the user's units (``datetime64``
        for a date input).

        Units with ``w = 0`` (no breakpoint) are left out.
        """
        coefs, intercepts = self.layers()
        with np.errstate(divide="ignore", invalid="ignore"):
            standardized = -intercepts[0] / coefs[0][0]
        raw = _transforms.inverse(self.x_scaler.inverse_transform(standardized[:, None]), self.x_transforms)[:, 0]
        raw = raw[np.isfinite(raw)]
        date = self.x_encoding and self.x_encoding.columns[0]
        return date.dates(raw) if isinstance(date, Dates) else raw


@dataclass(kw_only=True)
class TrainingRun(RunRecord):
    """The record of one trained network: its kept run among its restarts (the fields of
    :class:`~mlpfit.solvers.RunRecord`: per iteration its objective, the objective's data term, the
    penalty in force and, with Bayesian regularisation, where it was re-estimated), and every restart's
    final objective.

    Attributes
    ----------
    restart_losses : list of float
        The final objective of every restart of this network, the kept one's included.
    """

    restart_losses: list


@dataclass
class FitSummary:
    """How a fit went, in words and numbers.

    Attributes
    ----------
    success : bool
        Every network's solver met a convergence test (or early stopping) rather than running out
        of iterations or diverging.
    message : str
        The stop reason as a sentence.
    stop_reason : str
        One of the keys of :data:`mlpfit.solvers.STOP_MESSAGES`: the first network's that did not
        converge, else the first network's.
    solver : str
        The solver that ran (``"auto"`` resolved).
    n_iter : int
        Iterations (full-batch solvers) or epochs (minibatch solvers) of the longest kept run.
    loss : float
        Final training objective of the model on standardised data (for several networks, of their mean).
    restart_losses : list of float
        The final objective of every restart of every network, network by network.
    n_restarts : int
        Restarts per network.
    fit_time : float
        Seconds spent in ``fit``.
    n_averaged : int
        Networks averaged (see ``NeuralRegressor``'s ``n_averaged``).
    plan : str
        The fit plan in one line (``FitPlan.brief``; the whole plan is ``plan_``).
    """

    success: bool
    message: str
    stop_reason: str
    solver: str
    n_iter: int
    loss: float
    restart_losses: list
    n_restarts: int
    fit_time: float
    n_averaged: int
    plan: str

    def __str__(self):
        averaged = f", networks averaged={self.n_averaged}" if self.n_averaged > 1 else ""
        return (
            f"{self.message} solver={self.solver}, iterations={self.n_iter}, loss={self.loss:.6g}, "
            f"restarts={self.n_restarts}{averaged}, time={self.fit_time:.3g}s; plan: {self.plan}"
        )


@dataclass(frozen=True)
class FittedState:
    """Everything a fit learned and how: the model, one record per trained network, the plan.

    Attributes
    ----------
    network : FittedNetwork
        The model: one network (several averaged networks side by side) and its scalers.
    plan : FitPlan or None
        What the fit did (:func:`mlpfit.make_plan`); None for a user's raw network.
    runs : tuple of TrainingRun
        One record per network trained (``plan.n_averaged`` of them); empty for a raw network.
    loss : float
        The model's training objective on standardised data, at ``alpha``: for several networks,
        of their mean, which no solver ran, so no curve ends at it.
    evidence : Evidence or None
        Bayesian regularisation's estimates; for several networks, the mean of theirs.
    fit_time : float
        Seconds the fit took.
    x_range : tuple of two ndarrays of shape (n_features,), or None
        Each network input's least and greatest value over the training rows (validation rows included), before
        the transforms (a date in days, a category's indicator 0 or 1): where predictions interpolate
        (:func:`within`). None for a user's raw network.
    """

    network: FittedNetwork
    plan: object | None = None
    runs: tuple = ()
    loss: float = float("nan")
    evidence: object | None = None
    fit_time: float = 0.0
    x_range: tuple | None = None

    @property
    def alpha(self):
        """The penalty of ``loss``: the plan's fixed one, or the learned ``evidence.penalty`` (NaN: a raw network)."""
        if self.evidence is not None:
            return float(self.evidence.penalty)
        return float("nan") if self.plan is None else float(self.plan.alpha)

    def in_fitted_space(self, X, Y):
        """``(X, Y, state)``: the encoded data mapped by the network's transforms (see
        :meth:`FittedNetwork.in_fitted_space`) and this state with a network that takes them as they are."""
        X, Y, network = self.network.in_fitted_space(X, Y)
        return X, Y, replace(self, network=network)

    @property
    def stop_reason(self):
        """The first network's stop reason that is not a convergence, else the first network's."""
        return next((run.stop_reason for run in self.runs if not run.converged), self.runs[0].stop_reason)

    def penalty_line(self):
        """With Bayesian regularisation, one line on how the penalty and the loss's data term went over the
        networks' iterations (their records, as reports show them: the range over several); None with a fixed
        penalty."""
        if self.evidence is None:
            return None
        runs = [run for run in self.runs if run.loss_curve]
        networks = f" ({len(self.runs)} networks)" if len(self.runs) > 1 else ""
        if not runs:
            return f"Bayesian penalty{networks}: no iteration recorded"
        alpha = _span(run.alpha_curve[0] for run in runs), _span(run.alpha_curve[-1] for run in runs)
        data = _span(run.data_curve[0] for run in runs), _span(run.data_curve[-1] for run in runs)
        counts = _span(len(run.reestimations) for run in runs), _span(len(run.loss_curve) for run in runs)
        return (
            f"Bayesian penalty{networks}: alpha {alpha[0]} -> {alpha[1]}, re-estimated {counts[0]} times in "
            f"{counts[1]} iterations; data term (half MSE, standardised) {data[0]} -> {data[1]}"
        )

    @property
    def summary(self):
        stop_reason = self.stop_reason
        return FitSummary(
            success=all(run.converged for run in self.runs),
            message=STOP_MESSAGES[stop_reason],
            stop_reason=stop_reason,
            solver=self.plan.solver,
            n_iter=max(run.n_iter for run in self.runs),
            loss=self.loss,
            restart_losses=[loss for run in self.runs for loss in run.restart_losses],
            n_restarts=len(self.runs[0].restart_losses),
            fit_time=self.fit_time,
            n_averaged=len(self.runs),
            plan=self.plan.brief(),
        )


def _span(values):
    """``values`` in words: the one value, or the least to the greatest."""
    values = list(values)
    low, high = min(values), max(values)
    return f"{low:.3g}" if low == high else f"{low:.3g} to {high:.3g}"


def range_of(X):
    """``(low, high)``: each column's least and greatest value in ``X`` (n_samples, n_features)."""
    return X.min(axis=0), X.max(axis=0)


def within(X, x_range):
    """Boolean (n_samples,): True where every input of a row of ``X`` lies in ``x_range``'s ``[low, high]``.

    Outside it a network extrapolates: a ReLU network continues its outermost segments as straight
    lines, and an ensemble's members, which agree only near their data, spread, so its intervals widen.
    """
    low, high = x_range
    return np.all((X >= low) & (X <= high), axis=1)


def as_fitted_state(model, activation=None):
    """Read ``model``: a fitted NeuralRegressor, or a sequence of ``(W, b)`` pairs with ``activation`` named.

    Layer pairs compute ``a @ W + b`` with ``W`` of shape (fan_in, fan_out) and ``b`` of
    shape (fan_out,); every layer but the last applies ``activation``; there is no scaling.
    """
    # here: the estimator builds its state from this module, and reading a model file needs no scikit-learn
    from sklearn.base import BaseEstimator
    from sklearn.utils.validation import check_is_fitted

    from .estimator import NeuralRegressor

    if isinstance(model, BaseEstimator):
        if not isinstance(model, NeuralRegressor):
            raise ValueError(
                f"expected a NeuralRegressor or (W, b) layer pairs; got {type(model).__name__} "
                "(for an ensemble, pass each of its estimators_)."
            )
        check_is_fitted(model)
        state = model.fitted_
        if activation is not None:
            raise ValueError(
                f"activation={activation!r} is only for a network given as (W, b) pairs; "
                f"the estimator's own activation={state.network.arch.activation!r} is used."
            )
        return state
    coefs, intercepts = _layer_arrays(model)
    if len(coefs) > 1 and activation not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {', '.join(map(repr, ACTIVATIONS))} for a network given as "
            f"(W, b) pairs; got {activation!r}."
        )
    sizes = (coefs[0].shape[0], *(W.shape[1] for W in coefs))
    arch = _network.Architecture(sizes, activation or "identity")
    network = FittedNetwork(
        arch,
        arch.pack(coefs, intercepts),
        Scaler.identity(sizes[0]),
        Scaler.identity(sizes[-1]),
        y_ndim=1 if sizes[-1] == 1 else 2,
    )
    return FittedState(network)


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
            raise ValueError(
                f"layer {index}: the weights contain NaN or infinity; the training that made them diverged."
            )
        pairs[index] = (W, b)
        fan_in = W.shape[1]
    return [W for W, _ in pairs], [b for _, b in pairs]
