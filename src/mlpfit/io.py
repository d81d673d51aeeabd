"""Saved models: one ``.npz`` archive of float64 arrays plus a JSON metadata entry, never pickle.

The format is documented in ``docs/model-format.md``. Loading reads the JSON metadata
first (its size and nesting capped before parsing), checks every field's type and range,
then reads only the arrays the metadata implies, each ``.npy`` header checked against the
expected shape and dtype before its data (:mod:`mlpfit._npz`). The estimator is rebuilt
from its class name through :data:`CODECS`; nothing in the file is executed.

Each savable class has a :class:`Codec` that turns a fitted model into arrays and a
JSON-able state and back. A model that holds other models (an ensemble) stores each
member with :func:`encode` under a key prefix (:func:`nest`) and reads it back with
:func:`decode` on :func:`members_arrays`, so adding a class is one table entry.
"""

import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from . import __version__
from ._atomic import atomic_write
from ._fitted import FittedNetwork, FittedState, TrainingRun
from ._network import Architecture
from ._nll import OUTPUTS_PER_TARGET
from ._npz import Archive, NotAModelFile
from ._params import validate_params
from ._plan import FitPlan
from ._scaling import Scaler
from .ensemble import MEMBER_LOSSES, EnsembleRegressor
from .ensemble import PARAMETER_CONSTRAINTS as ENSEMBLE_CONSTRAINTS
from .estimator import PARAMETER_CONSTRAINTS as NEURAL_CONSTRAINTS
from .estimator import NeuralRegressor
from .solvers import STOP_MESSAGES
from .solvers._evidence import Evidence

FORMAT_NAME = "mlpfit-model"
FORMAT_VERSION = 2
"""Bumped whenever a file written by this version could be misread by an older reader. Version 1, whose
fitted attributes were stored one by one, is refused with a message to refit."""
METADATA_KEY = "metadata"
"""The archive entry holding the JSON metadata (a 0-d numpy unicode string)."""
MAX_METADATA_CHARS = 1 << 22
"""Longest metadata JSON read, in characters: room for thousands of ensemble members."""
MAX_METADATA_DEPTH = 32
"""Deepest nesting of JSON arrays and objects read: a few times what a saved ensemble needs."""
MAX_CURVE_LENGTH = 10**6
"""Longest loss curve read: one value per iteration or epoch."""
MAX_ARRAY_BYTES = 1 << 28
"""Bytes of array data one file may hold (32 Mi float64 numbers): the memory ``load`` may spend on them."""


@dataclass(frozen=True)
class Codec:
    """How one estimator class is stored.

    Attributes
    ----------
    cls : type
        The estimator class, rebuilt from its saved ``get_params(deep=False)``.
    encode : callable
        ``encode(model) -> (arrays, state)``: a dict of name -> ndarray and a JSON-able dict.
    decode : callable
        ``decode(model, arrays, state)``: set the fitted attributes on the freshly built ``model``;
        raise ValueError when an array or state entry is missing or inconsistent.
    constraints : dict
        The class's parameter constraints, checked on load as ``fit`` checks them.
    """

    cls: type
    encode: Callable
    decode: Callable
    constraints: dict


# --- nesting: how a model stores the models it holds --------------------------------------


def nest(prefix, arrays):
    """The ``arrays`` dict with every key put under ``prefix/``."""
    return {f"{prefix}/{key}": value for key, value in arrays.items()}


def members_arrays(arrays, prefix):
    """The inverse of :func:`nest`: the entries under ``prefix/``, with the prefix removed."""
    start = len(prefix) + 1
    return {key[start:]: value for key, value in arrays.items() if key.startswith(prefix + "/")}


def encode(model):
    """``(arrays, node)`` for a fitted model of a class in :data:`CODECS`.

    ``node`` is ``{"class": name, "params": get_params(deep=False) as JSON, "state": ...}``.
    """
    name = type(model).__name__
    if name not in CODECS:
        raise ValueError(f"cannot save a {name}; savable classes: {', '.join(CODECS)}.")
    check_is_fitted(model)
    arrays, state = CODECS[name].encode(model)
    return arrays, {"class": name, "params": _params_to_json(model), "state": state}


def decode(arrays, node):
    """The fitted model described by ``node`` (from :func:`encode`) and its ``arrays``."""
    model = _build(node)
    CODECS[node["class"]].decode(model, arrays, _require(node, "state", dict))
    return model


def _build(node):
    """An unfitted estimator from ``{"class", "params"}``, parameters checked as ``fit`` would."""
    name = _require(node, "class", str)
    if name not in CODECS:
        raise ValueError(f"unknown model class {name!r}; this mlpfit reads: {', '.join(CODECS)}.")
    params = {key: _param_from_json(value) for key, value in _require(node, "params", dict).items()}
    try:
        model = CODECS[name].cls(**params)
    except TypeError as error:
        raise ValueError(f"parameters of {name} do not match this mlpfit: {error}") from None
    validate_params(model.get_params(deep=False), CODECS[name].constraints)
    return model


def _params_to_json(model):
    return {key: _param_to_json(key, value) for key, value in model.get_params(deep=False).items()}


def _param_to_json(key, value):
    """JSON for one parameter: tuples become lists, estimators nested nodes, a RandomState null."""
    if isinstance(value, BaseEstimator):
        return {"estimator": type(value).__name__, "params": _params_to_json(value)}
    if isinstance(value, np.random.RandomState):
        return None  # its state is not a parameter worth keeping; the fit it produced is saved
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return [_param_to_json(key, item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"cannot save parameter {key}={value!r} of type {type(value).__name__}.")


def _param_from_json(value):
    if isinstance(value, dict):
        return _build({"class": value.get("estimator"), "params": value.get("params")})
    if isinstance(value, list):
        return tuple(_param_from_json(item) for item in value)
    return value


def _require(mapping, key, kind):
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


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


COUNT = Rule(lambda v: _is_int(v) and v >= 0, "an integer >= 0")
POSITIVE_COUNT = Rule(lambda v: _is_int(v) and v >= 1, "an integer >= 1")
FINITE = Rule(lambda v: _is_number(v) and math.isfinite(v), "a finite number")
NON_NEGATIVE = Rule(lambda v: _is_number(v) and 0 <= v < math.inf, "a finite number >= 0")
TEXT = Rule(lambda v: isinstance(v, str), "a string")
FLAG = Rule(lambda v: isinstance(v, bool), "true or false")
NUMBERS = Rule(lambda v: isinstance(v, list) and all(map(_is_number, v)), "a list of numbers")
TEXTS = Rule(lambda v: isinstance(v, list) and all(isinstance(item, str) for item in v), "a list of strings")


def _field(mapping, key, rule):
    """``mapping[key]`` when it follows ``rule``; else a ValueError naming the field, what is allowed and what was
    found."""
    value = _require(mapping, key, object)
    if not rule.test(value):
        raise ValueError(f"model metadata field {key!r} must be {rule.allowed}; got {_shown(value)}.")
    return value


def _shown(value):
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _array(arrays, key, shape, *, finite=True):
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
    scale = _array(arrays, f"{prefix}/scale", (n_columns,))
    if not (scale > 0).all():
        raise ValueError(f"array '{prefix}/scale' must be positive; got {scale.min():g}.")
    return Scaler(_array(arrays, f"{prefix}/mean", (n_columns,)), scale)


# --- NeuralRegressor: its FittedState, field by field -----------------------------------------

EVIDENCE_FIELDS = tuple(field.name for field in fields(Evidence))
"""The fields of a saved :class:`~mlpfit.solvers._evidence.Evidence` (null without Bayesian regularisation)."""
RUN_FIELDS = {
    "loss": FINITE,
    "n_iter": POSITIVE_COUNT,
    "stop_reason": Rule(lambda v: isinstance(v, str) and v in STOP_MESSAGES, "a stop reason"),
    "restart_losses": NUMBERS,
}
""":class:`~mlpfit._fitted.TrainingRun` field -> what a saved one may hold, besides its curves (arrays) and evidence
(``restart_losses`` may hold a diverged restart's inf)."""


def _encode_neural(model):
    state = model.fitted_
    network = state.network
    arrays = {
        "network/x_scaler/mean": network.x_scaler.mean,
        "network/x_scaler/scale": network.x_scaler.scale,
        "network/y_scaler/mean": network.y_scaler.mean,
        "network/y_scaler/scale": network.y_scaler.scale,
    }
    for i, (W, b) in enumerate(zip(*network.layers())):
        arrays[f"network/coefs/{i}"], arrays[f"network/intercepts/{i}"] = W, b
    runs = []
    for i, run in enumerate(state.runs):
        arrays[f"runs/{i}/loss_curve"] = np.asarray(run.loss_curve, dtype=np.float64)
        if run.validation_curve is not None:
            arrays[f"runs/{i}/validation_curve"] = np.asarray(run.validation_curve, dtype=np.float64)
        runs.append({**{name: getattr(run, name) for name in RUN_FIELDS}, "evidence": _evidence_to_json(run.evidence)})
    return arrays, {
        "network": {
            "layer_sizes": list(network.arch.layer_sizes),
            "y_ndim": network.y_ndim,
            "variance_head": network.variance_head,
        },
        "plan": state.plan.to_dict(),
        "runs": runs,
        "loss": state.loss,
        "alpha": state.alpha,
        "evidence": _evidence_to_json(state.evidence),
        "fit_time": state.fit_time,
    }


def _evidence_to_json(evidence):
    return None if evidence is None else {name: float(getattr(evidence, name)) for name in EVIDENCE_FIELDS}


def _evidence_from_json(value, where):
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != set(EVIDENCE_FIELDS):
        raise ValueError(f"model metadata field {where!r} must be null or an object with {', '.join(EVIDENCE_FIELDS)}.")
    return Evidence(**{name: float(_field(value, name, NON_NEGATIVE)) for name in EVIDENCE_FIELDS})


def _decode_neural(model, arrays, state):
    network = _decode_network(model, arrays, _require(state, "network", dict))
    plan = FitPlan.from_dict(_require(state, "plan", dict))
    nodes = _require(state, "runs", list)
    if len(nodes) != plan.n_averaged:
        raise ValueError(f"the model has {len(nodes)} training runs; its plan averages {plan.n_averaged} networks.")
    runs = tuple(_decode_run(arrays, f"runs/{i}", node) for i, node in enumerate(nodes))
    evidence = _evidence_from_json(_require(state, "evidence", object), "evidence")
    if (evidence is None) != (plan.alpha != "bayes"):
        raise ValueError(
            f"evidence must be saved exactly when the plan's alpha is 'bayes'; its alpha is {plan.alpha!r}."
        )
    model.n_features_in_ = network.n_features
    model.fitted_ = FittedState(
        network=network,
        plan=plan,
        runs=runs,
        loss=float(_field(state, "loss", FINITE)),
        alpha=float(_field(state, "alpha", NON_NEGATIVE)),
        evidence=evidence,
        fit_time=float(_field(state, "fit_time", NON_NEGATIVE)),
    )


def _decode_network(model, arrays, node):
    sizes = _field(
        node,
        "layer_sizes",
        Rule(
            lambda v: isinstance(v, list) and len(v) >= 2 and all(_is_int(n) and n >= 1 for n in v),
            "a list of at least two positive integers",
        ),
    )
    variance_head = _field(node, "variance_head", FLAG)
    if variance_head != (model.loss == "gaussian_nll"):
        raise ValueError(f"variance_head {str(variance_head).lower()} does not fit loss={model.loss!r}.")
    per_target = OUTPUTS_PER_TARGET[model.loss]  # 2 when the network also predicts a variance
    if sizes[-1] % per_target:
        raise ValueError(f"loss={model.loss!r} needs a multiple of {per_target} outputs; got {sizes[-1]}.")
    n_targets = sizes[-1] // per_target
    y_ndim = _field(node, "y_ndim", Rule(lambda v: v in (1, 2) and _is_int(v), "1 or 2"))
    if y_ndim == 1 and n_targets != 1:
        raise ValueError(f"y_ndim 1 does not fit {n_targets} targets.")
    coefs = [_array(arrays, f"network/coefs/{i}", shape) for i, shape in enumerate(zip(sizes[:-1], sizes[1:]))]
    intercepts = [_array(arrays, f"network/intercepts/{i}", (n,)) for i, n in enumerate(sizes[1:])]
    arch = Architecture(tuple(sizes), model.activation)
    return FittedNetwork(
        arch,
        arch.pack(coefs, intercepts),
        _scaler(arrays, "network/x_scaler", sizes[0]),
        _scaler(arrays, "network/y_scaler", n_targets),
        y_ndim,
        variance_head,
    )


def _decode_run(arrays, prefix, node):
    unknown = sorted(set(node) - {*RUN_FIELDS, "evidence"}) if isinstance(node, dict) else []
    if unknown:
        raise ValueError(f"{prefix} has a field {unknown[0]!r} this mlpfit does not know.")
    validation_key = f"{prefix}/validation_curve"
    return TrainingRun(
        **{name: _field(node, name, rule) for name, rule in RUN_FIELDS.items()},
        loss_curve=_array(arrays, f"{prefix}/loss_curve", (None,), finite=False).tolist(),
        validation_curve=(
            _array(arrays, validation_key, (None,), finite=False).tolist() if validation_key in arrays else None
        ),
        evidence=_evidence_from_json(_require(node, "evidence", object), f"{prefix}/evidence"),
    )


# --- EnsembleRegressor ---------------------------------------------------------------------


def _encode_ensemble(model):
    arrays, members = {}, []
    for i, member in enumerate(model.estimators_):
        member_arrays, node = encode(member)
        arrays.update(nest(f"estimators_/{i}", member_arrays))
        members.append(node)
    if model.noise_variances_ is not None:
        arrays["noise_variances_"] = np.asarray(model.noise_variances_, dtype=np.float64)
    return arrays, {"estimators_": members}


def _decode_ensemble(model, arrays, state):
    nodes = _require(state, "estimators_", list)
    if len(nodes) != model.n_estimators:
        raise ValueError(f"the ensemble has {len(nodes)} saved members; its n_estimators is {model.n_estimators}.")
    members = [decode(members_arrays(arrays, f"estimators_/{i}"), node) for i, node in enumerate(nodes)]
    for i, member in enumerate(members):
        if type(member) is not NeuralRegressor or member.loss != MEMBER_LOSSES[model.noise]:
            raise ValueError(
                f"ensemble member {i} must be a NeuralRegressor with loss={MEMBER_LOSSES[model.noise]!r} "
                f"for noise={model.noise!r}."
            )
        if _widths(member) != _widths(members[0]):
            raise ValueError(
                f"ensemble member {i} has (inputs, outputs, y_ndim) {_widths(member)}; "
                f"member 0 has {_widths(members[0])}."
            )
    model.estimators_ = members
    model.n_features_in_, model.n_outputs_ = members[0].n_features_in_, members[0].n_outputs_
    model.noise_variances_ = None
    if model.noise == "homoscedastic":
        shape = (len(members),) if members[0].fitted_.network.y_ndim == 1 else (len(members), model.n_outputs_)
        model.noise_variances_ = _array(arrays, "noise_variances_", shape)
        if (model.noise_variances_ < 0).any():
            raise ValueError("array 'noise_variances_' holds a negative variance.")


def _widths(member):
    return member.n_features_in_, member.n_outputs_, member.fitted_.network.y_ndim


CODECS = {
    "NeuralRegressor": Codec(NeuralRegressor, _encode_neural, _decode_neural, NEURAL_CONSTRAINTS),
    "EnsembleRegressor": Codec(EnsembleRegressor, _encode_ensemble, _decode_ensemble, ENSEMBLE_CONSTRAINTS),
}
"""Class name -> :class:`Codec`: the classes :func:`save` can write and :func:`load` can rebuild."""


# --- files --------------------------------------------------------------------------------


def save(model, path, *, columns=None):
    """Write a fitted model to ``path`` as one ``.npz`` archive, atomically.

    Parameters
    ----------
    model : NeuralRegressor or EnsembleRegressor
        A fitted model of a class in :data:`CODECS`.
    path : str or os.PathLike
        The file to write (used as given; no suffix is added).
    columns : dict or None
        ``{"x": [names...], "y": [names...]}``: the table columns the model was fitted
        from, so the command line can match new data by name.

    Raises
    ------
    ValueError
        When :func:`load` would refuse the file, e.g. after ``set_params`` changed a parameter
        the fitted weights depend on: the file is then not written.
    """
    arrays, node = encode(model)
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "mlpfit_version": __version__,
        "model": node,
        "columns": None if columns is None else {"x": list(map(str, columns["x"])), "y": list(map(str, columns["y"]))},
    }
    text = json.dumps(metadata, allow_nan=True)
    try:
        _check_metadata_length(len(text))
        array_bytes = sum(array.nbytes for array in arrays.values())
        if array_bytes > MAX_ARRAY_BYTES:
            raise ValueError(f"the arrays take {array_bytes} bytes; the limit is {MAX_ARRAY_BYTES}.")
        _model_from(arrays, _parse_metadata(text))
    except ValueError as error:
        raise ValueError(
            f"cannot save this {type(model).__name__} to {os.fspath(path)}; load would refuse the "
            f"file: {error} If its parameters were changed after fitting, refit it or restore them."
        ) from None
    with atomic_write(path) as file:
        np.savez(file, **{METADATA_KEY: np.array(text)}, **arrays)


def _columns(metadata, model):
    """The metadata's ``columns``: None, or x and y name lists matching the model's inputs and outputs."""
    columns = metadata.get("columns")
    if columns is None:
        return None
    x, y = _field(columns, "x", TEXTS), _field(columns, "y", TEXTS)
    if len(x) != model.n_features_in_ or len(y) != model.n_outputs_:
        raise ValueError(
            f"columns name {len(x)} inputs and {len(y)} outputs; the model has "
            f"{model.n_features_in_} and {model.n_outputs_}."
        )
    return {"x": x, "y": y}


def load(path):
    """Read a model written by :func:`save`; predictions are bit-identical to the saved model's.

    Raises
    ------
    ValueError
        The file is not an mlpfit model, is corrupted or inconsistent, holds more than the
        format's limits (see ``docs/model-format.md``), or was written by a newer format version
        than this mlpfit reads.
    """
    return load_with_metadata(path)[0]


def load_with_metadata(path):
    """``(model, metadata)``: the model as :func:`load` returns it and the file's JSON metadata.

    ``metadata`` has ``format``, ``format_version``, ``mlpfit_version``, ``model`` (class,
    params, state) and ``columns`` (None unless saved with column names).
    """
    where = os.fspath(path)
    try:
        with Archive(path, MAX_ARRAY_BYTES) as archive:
            metadata = _parse_metadata(_metadata_text(archive))
            model = _model_from(archive, metadata)
            unread = archive.unread()
    except NotAModelFile as error:
        raise ValueError(f"{where} is not an mlpfit model file: {error}.") from None
    except UnreadableVersion as error:
        raise ValueError(f"{where} {error}") from None
    except ValueError as error:
        raise ValueError(f"{where} is not a valid mlpfit model file: {error}") from None
    if unread:
        raise ValueError(f"{where} is not a valid mlpfit model file: entry {unread[0]!r} is not part of the format.")
    return model, metadata


def _model_from(arrays, metadata):
    """The model that ``arrays`` and the parsed ``metadata`` describe, every field checked; columns checked too."""
    model = decode(arrays, _require(metadata, "model", dict))
    metadata["columns"] = _columns(metadata, model)
    return model


def _metadata_text(archive):
    """The JSON text of the ``metadata`` entry, its size checked from the header before it is read."""
    if METADATA_KEY not in archive:
        raise NotAModelFile(f"it has no {METADATA_KEY!r} entry")
    entry = archive[METADATA_KEY]
    if entry.dtype.kind != "U" or entry.shape != ():
        raise NotAModelFile(f"its {METADATA_KEY!r} entry is {entry.dtype} of shape {entry.shape}, not a string")
    _check_metadata_length(entry.dtype.itemsize // 4)  # numpy stores 4 bytes per character
    return str(np.asarray(entry))


class UnreadableVersion(ValueError):
    """The file was written in a format version this mlpfit does not read (older or newer)."""


def _check_metadata_length(n_characters):
    if n_characters > MAX_METADATA_CHARS:
        raise ValueError(f"the metadata is {n_characters} characters long; the limit is {MAX_METADATA_CHARS}.")


STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
"""A JSON string, escapes included: its brackets do not nest anything."""


def _json_depth(text):
    """Deepest nesting of arrays and objects in JSON ``text`` (string contents skipped), without parsing it."""
    brackets = re.sub(r"[^\[\]{}]", "", STRING_LITERAL.sub("", text))
    steps = np.where(np.isin(np.frombuffer(brackets.encode(), np.uint8), (ord("["), ord("{"))), 1, -1)
    return int(np.cumsum(steps).max(initial=0))


def _parse_metadata(text):
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
    if not _is_int(version) or version < 1:
        raise ValueError(f"format_version {_shown(version)}.")
    if version < FORMAT_VERSION:
        raise UnreadableVersion(
            f"was written in model format version {version} (by mlpfit {_shown(metadata.get('mlpfit_version', '?'))}), "
            f"before the fitted state was stored field by field; this mlpfit reads version {FORMAT_VERSION}. "
            "Refit the model and save it again."
        )
    if version > FORMAT_VERSION:
        raise UnreadableVersion(
            f"was written in model format version {version} (by mlpfit "
            f"{_shown(metadata.get('mlpfit_version', '?'))}); this mlpfit reads up to version {FORMAT_VERSION}. "
            "Upgrade mlpfit to load it."
        )
    if "mlpfit_version" in metadata:
        _field(metadata, "mlpfit_version", TEXT)
    return metadata
