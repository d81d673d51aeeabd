"""The model file without the estimators: reading and checking what a ``.npz`` model file holds.

A model file (``docs/model-format.md``) is read here into a :class:`SavedModel`: the class name,
the parameters as saved, and the fitted state (:class:`~mlpfit._fitted.FittedState`, one per network),
every field and array checked. Nothing here imports scikit-learn, so ``mlpfit info`` describes a file in
a fraction of the time loading it takes; :mod:`mlpfit.io` builds the estimator from the same
:class:`SavedModel` after checking its parameters as ``fit`` does.
"""

import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace

import numpy as np

from ._activations import ACTIVATIONS
from ._columns import InputEncoding, Numbers
from ._fitted import FittedNetwork, FittedState, TrainingRun
from ._network import Architecture
from ._nll import OUTPUTS_PER_TARGET
from ._npz import Archive, NotAModelFile
from ._plan import FitPlan
from ._scaling import Scaler
from ._transforms import TRANSFORMS, per_column
from .solvers import STOP_MESSAGES
from .solvers._evidence import Evidence

FORMAT_NAME = "mlpfit-model"
FORMAT_VERSION = 2
"""Bumped whenever a file written by this version could be misread by an older reader. Version 1, whose
fitted attributes were stored one by one, is refused with a message to refit."""
METADATA_KEY = "metadata"
"""The archive entry holding the JSON metadata (a 0-d numpy unicode string)."""
MAX_METADATA_CHARS = 1 << 24
"""Longest metadata JSON read, in characters: room for thousands of ensemble members or tens of thousands of curves."""
MAX_METADATA_DEPTH = 32
"""Deepest nesting of JSON arrays and objects read: a few times what a saved ensemble needs."""
MAX_CURVE_LENGTH = 10**6
"""Longest loss curve read: one value per iteration or epoch."""
MAX_ARRAY_BYTES = 1 << 28
"""Bytes of array data one file may hold (32 Mi float64 numbers): the memory ``load`` may spend on them."""


# --- nesting: how a model stores the models it holds --------------------------------------


def nest(prefix, arrays):
    """The ``arrays`` dict with every key put under ``prefix/``."""
    return {f"{prefix}/{key}": value for key, value in arrays.items()}


def members_arrays(arrays, prefix):
    """The inverse of :func:`nest`: the entries under ``prefix/``, with the prefix removed."""
    start = len(prefix) + 1
    return {key[start:]: value for key, value in arrays.items() if key.startswith(prefix + "/")}


# --- fields: what a metadata entry may hold ------------------------------------------------


def require(mapping, key, kind):
    """``mapping[key]`` when it exists and is a ``kind``; else a ValueError naming the key."""
    if not isinstance(mapping, dict) or key not in mapping:
        raise ValueError(f"model metadata has no {key!r} entry.")
    if not isinstance(mapping[key], kind) or (kind is int and isinstance(mapping[key], bool)):
        raise ValueError(f"model metadata entry {key!r} has the wrong type ({type(mapping[key]).__name__}).")
    return mapping[key]


@dataclass(frozen=True)
class Rule:
    """What a metadata field may hold: ``test(value)`` and the words for it."""

    test: Callable
    allowed: str


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_texts(value):
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


COUNT = Rule(lambda v: is_int(v) and v >= 0, "an integer >= 0")
POSITIVE_COUNT = Rule(lambda v: is_int(v) and v >= 1, "an integer >= 1")
FINITE = Rule(lambda v: _is_number(v) and math.isfinite(v), "a finite number")
NON_NEGATIVE = Rule(lambda v: _is_number(v) and 0 <= v < math.inf, "a finite number >= 0")
TEXT = Rule(lambda v: isinstance(v, str), "a string")
FLAG = Rule(lambda v: isinstance(v, bool), "true or false")
NUMBERS = Rule(lambda v: isinstance(v, list) and all(map(_is_number, v)), "a list of numbers")
TEXTS = Rule(_is_texts, "a list of strings")
TEXTS_OR_NULL = Rule(lambda v: v is None or _is_texts(v), "null or a list of strings")


def field(mapping, key, rule):
    """``mapping[key]`` when it follows ``rule``; else a ValueError naming the field, what is allowed and what was
    found."""
    value = require(mapping, key, object)
    if not rule.test(value):
        raise ValueError(f"model metadata field {key!r} must be {rule.allowed}; got {shown(value)}.")
    return value


def shown(value):
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def array(arrays, key, shape, *, finite=True):
    """``arrays[key]`` as float64 of ``shape`` (None: any length up to :data:`MAX_CURVE_LENGTH`), checked before
    reading.

    ``arrays`` maps names to arrays or to :class:`mlpfit._npz.Entry` (whose data are read only once
    its header passed). With ``finite``, NaN and infinity are refused.
    """
    if key not in arrays:
        raise ValueError(f"model file has no array {key!r}.")
    value = arrays[key]
    if value.dtype != np.float64 or not _shape_fits(value.shape, shape):
        limits = tuple(f"<={MAX_CURVE_LENGTH}" if want is None else want for want in shape)
        raise ValueError(f"array {key!r} has shape {value.shape} and dtype {value.dtype}; expected {limits} float64.")
    value = np.asarray(value)
    if finite and not np.isfinite(value).all():
        raise ValueError(f"array {key!r} holds NaN or infinity; the fit that wrote it diverged or the file is damaged.")
    return value


def _shape_fits(got, want):
    return len(got) == len(want) and all(g <= MAX_CURVE_LENGTH if w is None else g == w for g, w in zip(got, want))


def _scaler(arrays, prefix, n_columns):
    """The :class:`Scaler` stored under ``prefix``; its scales must be positive."""
    scale = array(arrays, f"{prefix}/scale", (n_columns,))
    if not (scale > 0).all():
        raise ValueError(f"array '{prefix}/scale' must be positive; got {scale.min():g}.")
    return Scaler(array(arrays, f"{prefix}/mean", (n_columns,)), scale)


# --- what a file holds, checked ------------------------------------------------------------


@dataclass(frozen=True)
class SavedModel:
    """A model as its file describes it, every field and array checked, no estimator built.

    Attributes
    ----------
    name : str
        The class name, a key of :data:`READERS`.
    params : dict
        ``get_params(deep=False)`` as saved (JSON), not yet checked against the class's constraints.
    fitted : FittedState or None
        A NeuralRegressor's fitted state; None for an ensemble or a curve batch.
    members : tuple of SavedModel
        An ensemble's members, or a curve batch's fitted curves in the order of ``groups``; empty otherwise.
    noise_variances : ndarray or None
        A homoscedastic ensemble's ``noise_variances_``.
    feature_names : list of str or None
        ``feature_names_in_``: the DataFrame columns the model was fitted on.
    groups, errors : tuple
        A curve batch's groups (str or int), and per group why it was not fitted (None: fitted).
    summary : dict or None
        A curve batch's summary columns but ``group`` and ``status`` (those come from ``groups`` and
        ``errors``), one list entry per curve.
    """

    name: str
    params: dict
    fitted: FittedState | None = None
    members: tuple = ()
    noise_variances: np.ndarray | None = None
    feature_names: list | None = None
    groups: tuple = ()
    errors: tuple = ()
    summary: dict | None = None

    @property
    def networks(self):
        """The fitted state of each network: an ensemble's members', else the model's own."""
        return [member.fitted for member in self.members] if self.members else [self.fitted]

    @property
    def n_features_in(self):
        """The user's input columns (a text column is one, however many inputs its categories give the network)."""
        return self.networks[0].network.n_inputs

    @property
    def n_outputs(self):
        return self.networks[0].network.n_targets


def read_node(arrays, node):
    """The :class:`SavedModel` that ``node`` (``{"class", "params", "state"}``) and its ``arrays`` describe."""
    name = require(node, "class", str)
    if name not in READERS:
        raise ValueError(f"unknown model class {name!r}; this mlpfit reads: {', '.join(READERS)}.")
    params, state = require(node, "params", dict), require(node, "state", dict)
    saved = READERS[name](arrays, params, state)
    names = field(state, "feature_names_in", TEXTS_OR_NULL)
    if names is not None:
        if len(names) != saved.n_features_in:
            raise ValueError(f"feature_names_in names {len(names)} inputs; the model has {saved.n_features_in}.")
    return replace(saved, feature_names=names)


# --- NeuralRegressor: its FittedState, field by field -----------------------------------------

EVIDENCE_FIELDS = tuple(f.name for f in fields(Evidence))
"""The fields of a saved :class:`~mlpfit.solvers._evidence.Evidence` (null without Bayesian regularisation)."""
RUN_FIELDS = {
    "loss": FINITE,
    "n_iter": POSITIVE_COUNT,
    "stop_reason": Rule(lambda v: isinstance(v, str) and v in STOP_MESSAGES, "a stop reason"),
    "restart_losses": NUMBERS,
}
""":class:`~mlpfit._fitted.TrainingRun` field -> what a saved one may hold, besides its curves (arrays) and evidence
(``restart_losses`` may hold a diverged restart's inf)."""
RUN_CURVES = ("loss_curve", "data_curve", "alpha_curve")
"""The :class:`~mlpfit._fitted.TrainingRun` curves saved as arrays ``runs/<i>/<field>``, one value per iteration;
beside them ``reestimations`` (indices into them, as float64) and, under early stopping, ``validation_curve``."""
LOSS = Rule(lambda v: isinstance(v, str) and v in OUTPUTS_PER_TARGET, f"one of {', '.join(OUTPUTS_PER_TARGET)}")
TRANSFORM_NAMES = Rule(
    lambda v: (
        v is None
        or (isinstance(v, list) and all(name is None or (isinstance(name, str) and name in TRANSFORMS) for name in v))
    ),
    f"null or a list of null or {', '.join(map(repr, TRANSFORMS))} per column",
)
"""What ``x_transforms`` and ``y_transforms`` may hold: a transform this mlpfit does not know is refused."""
ACTIVATION = Rule(lambda v: isinstance(v, str) and v in ACTIVATIONS, f"one of {', '.join(ACTIVATIONS)}")


def encode_fitted(state, feature_names=None):
    """``(arrays, node)`` of a NeuralRegressor's :class:`FittedState` and its ``feature_names_in_`` (or None)."""
    network = state.network
    arrays = {
        "network/x_scaler/mean": network.x_scaler.mean,
        "network/x_scaler/scale": network.x_scaler.scale,
        "network/y_scaler/mean": network.y_scaler.mean,
        "network/y_scaler/scale": network.y_scaler.scale,
        "x_range/min": state.x_range[0],
        "x_range/max": state.x_range[1],
    }
    for i, (W, b) in enumerate(zip(*network.layers())):
        arrays[f"network/coefs/{i}"], arrays[f"network/intercepts/{i}"] = W, b
    runs = []
    for i, run in enumerate(state.runs):
        for name in (*RUN_CURVES, "reestimations"):
            arrays[f"runs/{i}/{name}"] = np.asarray(getattr(run, name), dtype=np.float64)
        if run.validation_curve is not None:
            arrays[f"runs/{i}/validation_curve"] = np.asarray(run.validation_curve, dtype=np.float64)
        runs.append({**{name: getattr(run, name) for name in RUN_FIELDS}, "evidence": _evidence_to_json(run.evidence)})
    return arrays, {
        "network": {
            "layer_sizes": list(network.arch.layer_sizes),
            "y_ndim": network.y_ndim,
            "variance_head": network.variance_head,
            "x_transforms": _names_to_json(network.x_transforms),
            "y_transforms": _names_to_json(network.y_transforms),
            "x_encoding": None if network.x_encoding is None else network.x_encoding.to_json(),
        },
        "plan": state.plan.to_dict(),
        "runs": runs,
        "loss": state.loss,
        "evidence": _evidence_to_json(state.evidence),
        "fit_time": state.fit_time,
        "feature_names_in": None if feature_names is None else [str(name) for name in feature_names],
    }


def _names_to_json(names):
    return None if names is None else list(names)


def _transforms_of(node, key, n_columns):
    """The saved transform names of ``n_columns`` columns (a tuple, or None: none)."""
    names = field(node, key, TRANSFORM_NAMES)
    if names is not None and len(names) != n_columns:
        raise ValueError(f"model metadata field {key!r} names {len(names)} columns; the network has {n_columns}.")
    return None if names is None or all(name is None for name in names) else tuple(names)


def _check_transforms(params, x_transforms, y_transforms, encoding, n_targets):
    """The saved transforms must be what ``input_transform`` and ``target_transform`` give per column (an input
    column's on each of the network inputs ``encoding`` makes of it)."""
    for param, names, n_columns in (
        ("input_transform", x_transforms, encoding.n_inputs),
        ("target_transform", y_transforms, n_targets),
    ):
        value = params.get(param)
        try:
            expected = per_column(value, n_columns)
            expected = encoding.per_feature(expected) if param == "input_transform" else expected
        except (TypeError, ValueError):
            expected = "not a transform"
        if expected != names:
            raise ValueError(f"the saved transforms {shown(_names_to_json(names))} do not fit {param}={shown(value)}.")


def _evidence_to_json(evidence):
    return None if evidence is None else {name: float(getattr(evidence, name)) for name in EVIDENCE_FIELDS}


def _evidence_from_json(value, where):
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != set(EVIDENCE_FIELDS):
        raise ValueError(f"model metadata field {where!r} must be null or an object with {', '.join(EVIDENCE_FIELDS)}.")
    return Evidence(**{name: float(field(value, name, NON_NEGATIVE)) for name in EVIDENCE_FIELDS})


def _read_neural(arrays, params, state):
    network = _read_network(arrays, require(state, "network", dict), field(params, "loss", LOSS), params)
    plan = FitPlan.from_dict(require(state, "plan", dict))
    nodes = require(state, "runs", list)
    if len(nodes) != plan.n_averaged:
        raise ValueError(f"the model has {len(nodes)} training runs; its plan averages {plan.n_averaged} networks.")
    runs = tuple(_read_run(arrays, f"runs/{i}", node) for i, node in enumerate(nodes))
    evidence = _evidence_from_json(require(state, "evidence", object), "evidence")
    if (evidence is None) != (plan.alpha != "bayes"):
        raise ValueError(
            f"evidence must be saved exactly when the plan's alpha is 'bayes'; its alpha is {plan.alpha!r}."
        )
    fitted = FittedState(
        network=network,
        plan=plan,
        runs=runs,
        loss=float(field(state, "loss", FINITE)),
        evidence=evidence,
        fit_time=float(field(state, "fit_time", NON_NEGATIVE)),
        x_range=_read_range(arrays, network.n_features),
    )
    return SavedModel("NeuralRegressor", params, fitted)


def _read_range(arrays, n_features):
    low, high = array(arrays, "x_range/min", (n_features,)), array(arrays, "x_range/max", (n_features,))
    if (low > high).any():
        raise ValueError("array 'x_range/min' exceeds 'x_range/max' for an input.")
    return low, high


def _read_network(arrays, node, loss, params):
    sizes = field(
        node,
        "layer_sizes",
        Rule(
            lambda v: isinstance(v, list) and len(v) >= 2 and all(is_int(n) and n >= 1 for n in v),
            "a list of at least two positive integers",
        ),
    )
    variance_head = field(node, "variance_head", FLAG)
    if variance_head != (loss == "gaussian_nll"):
        raise ValueError(f"variance_head {str(variance_head).lower()} does not fit loss={loss!r}.")
    per_target = OUTPUTS_PER_TARGET[loss]  # 2 when the network also predicts a variance
    if sizes[-1] % per_target:
        raise ValueError(f"loss={loss!r} needs a multiple of {per_target} outputs; got {sizes[-1]}.")
    n_targets = sizes[-1] // per_target
    y_ndim = field(node, "y_ndim", Rule(lambda v: v in (1, 2) and is_int(v), "1 or 2"))
    if y_ndim == 1 and n_targets != 1:
        raise ValueError(f"y_ndim 1 does not fit {n_targets} targets.")
    coefs = [array(arrays, f"network/coefs/{i}", shape) for i, shape in enumerate(zip(sizes[:-1], sizes[1:]))]
    intercepts = [array(arrays, f"network/intercepts/{i}", (n,)) for i, n in enumerate(sizes[1:])]
    arch = Architecture(tuple(sizes), field(params, "activation", ACTIVATION))
    x_transforms = _transforms_of(node, "x_transforms", sizes[0])
    y_transforms = _transforms_of(node, "y_transforms", n_targets)
    encoding = _encoding_of(node, sizes[0])
    _check_transforms(params, x_transforms, y_transforms, encoding or InputEncoding((Numbers(),) * sizes[0]), n_targets)
    return FittedNetwork(
        arch,
        arch.pack(coefs, intercepts),
        _scaler(arrays, "network/x_scaler", sizes[0]),
        _scaler(arrays, "network/y_scaler", n_targets),
        y_ndim,
        variance_head,
        x_transforms,
        y_transforms,
        encoding,
    )


def _encoding_of(node, n_features):
    """The saved :class:`~mlpfit._columns.InputEncoding` (None: every input a number), making ``n_features``
    network inputs."""
    value = require(node, "x_encoding", object)
    if value is None:
        return None
    encoding = InputEncoding.from_json(value)
    if encoding.n_features != n_features:
        raise ValueError(f"x_encoding makes {encoding.n_features} network inputs; the network has {n_features}.")
    return encoding


def _read_run(arrays, prefix, node):
    unknown = sorted(set(node) - {*RUN_FIELDS, "evidence"}) if isinstance(node, dict) else []
    if unknown:
        raise ValueError(f"{prefix} has a field {unknown[0]!r} this mlpfit does not know.")
    validation_key = f"{prefix}/validation_curve"
    return TrainingRun(
        **{name: field(node, name, rule) for name, rule in RUN_FIELDS.items()},
        **_read_curves(arrays, prefix),
        validation_curve=(
            array(arrays, validation_key, (None,), finite=False).tolist() if validation_key in arrays else None
        ),
        evidence=_evidence_from_json(require(node, "evidence", object), f"{prefix}/evidence"),
    )


def _read_curves(arrays, prefix):
    """A run's :data:`RUN_CURVES`, all of one length, and its re-estimations: increasing indices into them."""
    curves = {"loss_curve": array(arrays, f"{prefix}/loss_curve", (None,), finite=False)}
    for name in RUN_CURVES[1:]:
        curves[name] = array(arrays, f"{prefix}/{name}", curves["loss_curve"].shape, finite=False)
    key, n_iter = f"{prefix}/reestimations", len(curves["loss_curve"])
    reestimations = array(arrays, key, (None,))
    if not (np.all(reestimations == np.round(reestimations)) and np.all(np.diff(reestimations) > 0)):
        raise ValueError(f"array {key!r} must hold increasing whole numbers.")
    if len(reestimations) and not 0 <= reestimations[0] <= reestimations[-1] < n_iter:
        raise ValueError(
            f"array {key!r} must index the run's {n_iter} iterations; got {shown(reestimations.tolist())}."
        )
    lists = {name: curve.tolist() for name, curve in curves.items()}
    return {**lists, "reestimations": reestimations.astype(int).tolist()}


# --- EnsembleRegressor ---------------------------------------------------------------------


def _read_ensemble(arrays, params, state):
    """The members, each read as a model of its own, and the noise variances when the file holds them (whether
    it must, by ``noise``, :mod:`mlpfit.io` checks with the other parameters)."""
    nodes = require(state, "estimators_", list)
    if not nodes:
        raise ValueError("the ensemble has no saved members.")
    members = tuple(read_node(members_arrays(arrays, f"estimators_/{i}"), node) for i, node in enumerate(nodes))
    for i, member in enumerate(members):
        if member.name != "NeuralRegressor":
            raise ValueError(f"ensemble member {i} must be a NeuralRegressor; got {member.name}.")
        if _widths(member) != _widths(members[0]):
            raise ValueError(
                f"ensemble member {i} has (inputs, outputs, y_ndim) {_widths(member)}; "
                f"member 0 has {_widths(members[0])}."
            )
        if member.fitted.network.x_encoding != members[0].fitted.network.x_encoding:
            raise ValueError(f"ensemble member {i} encodes its input columns otherwise than member 0.")
    noise_variances = None
    if "noise_variances_" in arrays:
        y_ndim = members[0].fitted.network.y_ndim
        shape = (len(members),) if y_ndim == 1 else (len(members), members[0].n_outputs)
        noise_variances = array(arrays, "noise_variances_", shape)
        if (noise_variances < 0).any():
            raise ValueError("array 'noise_variances_' holds a negative variance.")
    return SavedModel("EnsembleRegressor", params, members=members, noise_variances=noise_variances)


def _widths(member):
    return member.n_features_in, member.n_outputs, member.fitted.network.y_ndim


# --- CurveBatch: every fitted curve's arrays stacked key by key --------------------------------------


def stack_curves(curves):
    """``(arrays, nodes, plans, keys)`` of a curve batch from each fitted curve's ``encode`` output ``(arrays,
    node)``: per array key ``K`` one entry ``curves/K`` (the curves' arrays raveled end to end) and ``shapes/K``
    (each curve's shape, -1 where it has no such array), so a file holds a few entries whatever the number of
    curves; the curves' plans kept once each (``nodes`` refer to them by index)."""
    keys = sorted({key for curve_arrays, _ in curves for key in curve_arrays})
    arrays = {}
    for key in keys:
        present = [curve_arrays.get(key) for curve_arrays, _ in curves]
        ndim = max(value.ndim for value in present if value is not None)
        arrays[f"shapes/{key}"] = np.array(
            [value.shape if value is not None else (-1,) * ndim for value in present], dtype=np.float64
        )
        arrays[f"curves/{key}"] = np.concatenate([value.ravel() for value in present if value is not None])
    plans, nodes = {}, []
    for _, node in curves:
        plan = json.dumps(node["state"]["plan"], sort_keys=True)
        plans.setdefault(plan, len(plans))
        nodes.append({**node["state"], "plan": plans[plan]})
    return arrays, nodes, [json.loads(plan) for plan in plans], keys


class _CurveArrays(Mapping):
    """One curve's arrays (views into the stacked entries) by their single-model names, remembering which were
    read, so that an array the curve's metadata does not call for is refused as in a single model's file."""

    def __init__(self, views):
        self.views, self.read = views, set()

    def __getitem__(self, key):
        value = self.views[key]
        self.read.add(key)
        return value

    def __contains__(self, key):
        return key in self.views

    def __iter__(self):
        return iter(self.views)

    def __len__(self):
        return len(self.views)


def _unstacked(arrays, keys, n_curves):
    """Each fitted curve's arrays (a dict of views) from the stacked entries of ``keys``, shapes checked first."""
    curves = [{} for _ in range(n_curves)]
    for key in keys:
        shapes = array(arrays, f"shapes/{key}", (n_curves, None))
        absent = (shapes == -1).all(axis=1)
        if shapes.shape[1] not in (1, 2) or not (
            np.all(shapes == np.round(shapes)) and np.all(shapes[~absent] >= 0) and np.all(shapes <= MAX_CURVE_LENGTH)
        ):
            raise ValueError(f"array 'shapes/{key}' must hold one or two whole numbers >= 0 (or all -1) per curve.")
        sizes = np.where(absent, 0, np.prod(shapes, axis=1)).astype(np.int64)
        flat = array(arrays, f"curves/{key}", (int(sizes.sum()),), finite=False)
        ends = np.cumsum(sizes)
        for i in np.flatnonzero(~absent):
            curves[i][key] = flat[ends[i] - sizes[i] : ends[i]].reshape(shapes[i].astype(np.int64))
    return curves


GROUPS = Rule(
    lambda v: isinstance(v, list) and bool(v) and all(isinstance(g, str) or is_int(g) for g in v),
    "a non-empty list of strings and integers",
)
ERRORS = Rule(
    lambda v: isinstance(v, list) and all(e is None or isinstance(e, str) for e in v), "a list of null or strings"
)
BATCH_SUMMARY = {
    "n_rows": Rule(lambda v: is_int(v) and v >= 0, "an integer >= 0"),
    "stop_reason": Rule(lambda v: v == "" or (isinstance(v, str) and v in STOP_MESSAGES), "a stop reason or ''"),
    "n_iter": COUNT,
    "rmse": Rule(lambda v: _is_number(v) and not v < 0, "a number >= 0 or NaN"),
    "effective_params": Rule(lambda v: _is_number(v) and not v < 0, "a number >= 0 or NaN"),
    "diagnosis": TEXT,
}
"""A curve batch's saved summary column -> what each of its entries may hold."""


def _read_batch(arrays, params, state):
    """The fitted curves, each read as a NeuralRegressor of its own with the batch's estimator parameters, and
    the batch's groups, errors and summary."""
    groups = field(state, "groups", GROUPS)
    if len(set(groups)) != len(groups):
        raise ValueError("model metadata field 'groups' holds a group twice.")
    errors = field(state, "errors", ERRORS)
    if len(errors) != len(groups):
        raise ValueError(f"model metadata field 'errors' has {len(errors)} entries; there are {len(groups)} groups.")
    fitted = [group for group, error in zip(groups, errors) if error is None]
    nodes, plans = require(state, "curves", list), require(state, "plans", list)
    if not fitted or len(nodes) != len(fitted):
        raise ValueError(f"the batch saves {len(nodes)} fitted curves; its errors leave {len(fitted)} (at least 1).")
    template = require(state, "estimator_params", dict)
    plan_index = Rule(lambda v: is_int(v) and 0 <= v < len(plans), f"an index into the {len(plans)} plans")
    members = []
    for group, node, views in zip(fitted, nodes, _unstacked(arrays, field(state, "arrays", TEXTS), len(nodes))):
        curve_arrays = _CurveArrays(views)
        try:
            plan = plans[field(node, "plan", plan_index)]
            member = read_node(
                curve_arrays, {"class": "NeuralRegressor", "params": template, "state": {**node, "plan": plan}}
            )
            unread = sorted(set(curve_arrays) - curve_arrays.read)
            if unread:
                raise ValueError(f"it has an array {unread[0]!r} its metadata does not call for.")
            if _widths(member) != _widths(members[0] if members else member):
                raise ValueError(f"its (inputs, outputs, y_ndim) {_widths(member)} differ from the first curve's.")
        except ValueError as error:
            raise ValueError(f"curve {group!r}: {error}") from None
        members.append(member)
    summary = require(state, "summary", dict)
    if set(summary) != set(BATCH_SUMMARY):
        raise ValueError(f"model metadata field 'summary' must have exactly {', '.join(BATCH_SUMMARY)}.")
    for name, rule in BATCH_SUMMARY.items():
        column = require(summary, name, list)
        if len(column) != len(groups) or not all(map(rule.test, column)):
            raise ValueError(
                f"model metadata field 'summary/{name}' must hold {len(groups)} entries, each {rule.allowed}."
            )
    _check_summary(summary, groups, errors, members)
    return SavedModel(
        "CurveBatch", params, members=tuple(members), groups=tuple(groups), errors=tuple(errors), summary=summary
    )


def _check_summary(summary, groups, errors, members):
    """The summary's stop reason and iterations of each curve must be its saved state's (a failed curve's: none)."""
    states = iter(members)
    for i, (group, error) in enumerate(zip(groups, errors)):
        expected = ("", 0) if error is not None else _stop_and_iterations(next(states).fitted)
        if (summary["stop_reason"][i], summary["n_iter"][i]) != expected:
            raise ValueError(
                f"model metadata field 'summary' gives curve {group!r} stop reason and iterations "
                f"{shown([summary['stop_reason'][i], summary['n_iter'][i]])}; its saved state {shown(list(expected))}."
            )


def _stop_and_iterations(fitted):
    summary = fitted.summary
    return summary.stop_reason, summary.n_iter


READERS = {"NeuralRegressor": _read_neural, "EnsembleRegressor": _read_ensemble, "CurveBatch": _read_batch}
"""Class name -> ``read(arrays, params, state) -> SavedModel``: the classes a model file may hold."""


# --- the file: metadata first, then the arrays it implies ---------------------------------------


def read_model(path):
    """``(saved, metadata)``: the :class:`SavedModel` in the file at ``path`` and its JSON metadata, every field and
    array checked (the parameters only as far as the state needs them; :func:`mlpfit.io.load` checks them all).

    Raises ValueError as :func:`mlpfit.io.load` does.
    """
    return read_file(path, MAX_ARRAY_BYTES, read_saved)


def read_saved(arrays, metadata):
    """The :class:`SavedModel` that the parsed ``metadata`` and its ``arrays`` describe; ``metadata["columns"]``
    checked against it."""
    saved = read_node(arrays, require(metadata, "model", dict))
    metadata["columns"] = _columns(metadata, saved)
    metadata["test_split"] = _test_split(metadata)
    return saved


def read_file(path, budget, read):
    """``(read(archive, metadata), metadata)`` for the model file at ``path``, reading at most ``budget`` bytes of
    arrays: the one place a model file is opened, its metadata parsed, its errors turned into one ValueError
    naming it, and any entry that ``read`` did not ask for refused.
    """
    where = os.fspath(path)
    try:
        with Archive(path, budget) as archive:
            metadata = parse_metadata(_metadata_text(archive))
            result = read(archive, metadata)
            unread = archive.unread()
    except NotAModelFile as error:
        raise ValueError(f"{where} is not an mlpfit model file: {error}.") from None
    except UnreadableVersion as error:
        raise ValueError(f"{where} {error}") from None
    except ValueError as error:
        raise ValueError(f"{where} is not a valid mlpfit model file: {error}") from None
    if unread:
        raise ValueError(f"{where} is not a valid mlpfit model file: entry {unread[0]!r} is not part of the format.")
    return result, metadata


def _columns(metadata, saved):
    """The metadata's ``columns``: None, or ``x`` names matching the inputs and ``y`` names matching the outputs
    (or null: unnamed targets), and for a curve batch possibly the ``group`` column; ``x`` must be
    ``feature_names_in_`` when the model has those."""
    columns = metadata.get("columns")
    if columns is None:
        return None
    x, y = field(columns, "x", TEXTS), field(columns, "y", TEXTS_OR_NULL)
    if len(x) != saved.n_features_in or (y is not None and len(y) != saved.n_outputs):
        raise ValueError(
            f"columns name {len(x)} inputs and {'no' if y is None else len(y)} outputs; the model has "
            f"{saved.n_features_in} and {saved.n_outputs}."
        )
    if saved.feature_names is not None and x != saved.feature_names:
        raise ValueError(
            f"columns x {shown(x)} differ from the feature names the model was fitted with, "
            f"{shown(saved.feature_names)}."
        )
    if "group" not in columns:
        return {"x": x, "y": y}
    if saved.name != "CurveBatch":
        raise ValueError(f"columns name a group column; a {saved.name} has no groups.")
    return {"x": x, "y": y, "group": field(columns, "group", TEXT)}


SHA256 = re.compile(r"[0-9a-f]{64}")
TEST_SPLIT = {
    "fraction": Rule(lambda v: _is_number(v) and 0 < v < 1, "a number in (0, 1)"),
    "seed": Rule(lambda v: is_int(v) and 0 <= v < 2**32, "an integer in [0, 2**32)"),
    "n_rows": Rule(lambda v: is_int(v) and v >= 3, "an integer >= 3"),
    "data": TEXT,
    "data_sha256": Rule(lambda v: isinstance(v, str) and SHA256.fullmatch(v) is not None, "64 hexadecimal digits"),
}
"""The metadata's optional ``test_split`` (written by ``mlpfit fit --test-fraction``) -> what each field may hold:
the rows held out are :func:`mlpfit.assessment.held_out_rows` of ``n_rows`` usable rows of the data file named
``data``, whose SHA-256 was ``data_sha256``."""


def _test_split(metadata):
    """The metadata's ``test_split``: None (a file written without one, as every file before it), or its fields
    checked."""
    split = metadata.get("test_split")
    if split is None:
        return None
    if not isinstance(split, dict) or set(split) != set(TEST_SPLIT):
        raise ValueError(f"model metadata field 'test_split' must be null or an object with {', '.join(TEST_SPLIT)}.")
    split = {key: field(split, key, rule) for key, rule in TEST_SPLIT.items()}
    if split["n_rows"] - math.ceil(split["fraction"] * split["n_rows"]) < 2:
        raise ValueError(f"model metadata field 'test_split' holds out all but one of its {split['n_rows']} rows.")
    return split


def _metadata_text(archive):
    """The JSON text of the ``metadata`` entry, its size checked from the header before it is read."""
    if METADATA_KEY not in archive:
        raise NotAModelFile(f"it has no {METADATA_KEY!r} entry")
    entry = archive[METADATA_KEY]
    if entry.dtype.kind != "U" or entry.shape != ():
        raise NotAModelFile(f"its {METADATA_KEY!r} entry is {entry.dtype} of shape {entry.shape}, not a string")
    check_metadata_length(entry.dtype.itemsize // 4)  # numpy stores 4 bytes per character
    return str(np.asarray(entry))


class UnreadableVersion(ValueError):
    """The file was written in a format version this mlpfit does not read (older or newer)."""


class TooLarge(ValueError):
    """A model that one model file cannot hold: its metadata or its arrays exceed the format's limits.

    ``reason`` says what exceeds which limit; the message adds ``advice``, what a Python user can do instead, which
    a caller with advice of its own (the command line's options) leaves out.
    """

    def __init__(self, reason, advice=None):
        super().__init__(reason if advice is None else f"{reason} {advice}")
        self.reason = reason


def check_metadata_length(n_characters):
    if n_characters > MAX_METADATA_CHARS:
        raise TooLarge(f"the metadata is {n_characters} characters long; the limit is {MAX_METADATA_CHARS}.")


STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
"""A JSON string, escapes included: its brackets do not nest anything."""


def _json_depth(text):
    """Deepest nesting of arrays and objects in JSON ``text`` (string contents skipped), without parsing it."""
    brackets = re.sub(r"[^\[\]{}]", "", STRING_LITERAL.sub("", text))
    steps = np.where(np.isin(np.frombuffer(brackets.encode(), np.uint8), (ord("["), ord("{"))), 1, -1)
    return int(np.cumsum(steps).max(initial=0))


def parse_metadata(text):
    """The metadata document from its JSON ``text``, format and version checked; nesting capped before parsing."""
    depth = _json_depth(text)
    if depth > MAX_METADATA_DEPTH:
        raise ValueError(f"the metadata nests {depth} levels deep; the limit is {MAX_METADATA_DEPTH}.")
    try:
        metadata = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"its metadata is not JSON ({error}).") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise NotAModelFile(f"its metadata format is not {FORMAT_NAME!r}")
    version = metadata.get("format_version")
    if not is_int(version) or version < 1:
        raise ValueError(f"format_version {shown(version)}.")
    if version < FORMAT_VERSION:
        raise UnreadableVersion(
            f"was written in model format version {version} (by mlpfit {shown(metadata.get('mlpfit_version', '?'))}), "
            f"before the fitted state was stored field by field; this mlpfit reads version {FORMAT_VERSION}. "
            "Refit the model and save it again."
        )
    if version > FORMAT_VERSION:
        raise UnreadableVersion(
            f"was written in model format version {version} (by mlpfit "
            f"{shown(metadata.get('mlpfit_version', '?'))}); this mlpfit reads up to version {FORMAT_VERSION}. "
            "Upgrade mlpfit to load it."
        )
    if "mlpfit_version" in metadata:
        field(metadata, "mlpfit_version", TEXT)
    return metadata
