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
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._atomic import atomic_write
from ._npz import Archive, NotAModelFile
from ._nll import OUTPUTS_PER_TARGET
from ._params import validate_params
from ._plan import FitPlan
from ._scaling import Scaler
from .ensemble import MEMBER_LOSSES, EnsembleRegressor
from .estimator import FitSummary, NeuralRegressor

FORMAT_NAME = "mlpfit-model"
FORMAT_VERSION = 1
"""Bumped whenever a file written by this version could be misread by an older reader."""
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
    """

    cls: type
    encode: Callable
    decode: Callable


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
    constraints = getattr(model, "_parameter_constraints", None)
    if constraints is not None:
        validate_params(model.get_params(deep=False), constraints)
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
    """``mapping[key]`` when it follows ``rule``; else a ValueError naming the field, what is allowed and what was found."""
    value = _require(mapping, key, object)
    if not rule.test(value):
        raise ValueError(f"model metadata field {key!r} must be {rule.allowed}; got {_shown(value)}.")
    return value


def _shown(value):
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _array(arrays, key, shape, *, finite=True):
    """``arrays[key]`` as float64 of ``shape`` (None: any length up to :data:`MAX_CURVE_LENGTH`), checked before reading.

    ``arrays`` maps names to arrays or to :class:`mlpfit._npz.Entry` (whose data are read only once
    its header passed). With ``finite``, NaN and infinity are refused.
    """
    if key not in arrays:
        raise ValueError(f"model file has no array {key!r}.")
    value = arrays[key]
    if value.dtype != np.float64 or not _shape_fits(value.shape, shape):
        limits = tuple(f"<={MAX_CURVE_LENGTH}" if want is None else want for want in shape)
        raise ValueError(
            f"array {key!r} has shape {value.shape} and dtype {value.dtype}; expected {limits} float64."
        )
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


# --- NeuralRegressor ----------------------------------------------------------------------

EVIDENCE_ATTRIBUTES = ("alpha_", "weight_precision_", "noise_precision_", "effective_params_")
"""The penalty's fitted attributes, stored when present: ``alpha_`` (the penalty the fit used; absent
from files written before it was set on every fit), the other three only after Bayesian regularisation."""



def _encode_neural(model):
    arrays = {
        "x_scaler/mean": model.x_scaler_.mean,
        "x_scaler/scale": model.x_scaler_.scale,
        "y_scaler/mean": model.y_scaler_.mean,
        "y_scaler/scale": model.y_scaler_.scale,
        "loss_curve_": np.asarray(model.loss_curve_, dtype=np.float64),
    }
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        arrays[f"coefs_/{i}"], arrays[f"intercepts_/{i}"] = W, b
    if model.validation_loss_curve_ is not None:
        arrays["validation_loss_curve_"] = np.asarray(model.validation_loss_curve_, dtype=np.float64)
    state = {
        "layer_sizes": list(model.architecture_.layer_sizes),
        "y_ndim": model._y_ndim,
        "loss_": model.loss_,
        "n_iter_": model.n_iter_,
        "n_averaged_": model.n_averaged_,
        "summary_": asdict(model.summary_),
        "plan_": None if model.plan_ is None else model.plan_.to_dict(),
        **{name: getattr(model, name) for name in EVIDENCE_ATTRIBUTES if hasattr(model, name)},
    }
    return arrays, state


SUMMARY_FIELDS = {
    "success": FLAG, "message": TEXT, "stop_reason": TEXT, "solver": TEXT, "n_iter": COUNT, "loss": FINITE,
    "restart_losses": NUMBERS, "fit_time": NON_NEGATIVE, "n_averaged": POSITIVE_COUNT, "plan": TEXT,
}
""":class:`FitSummary` field -> what a saved one may hold (``restart_losses`` may hold a diverged run's inf)."""


def _decode_neural(model, arrays, state):
    sizes = _field(state, "layer_sizes", Rule(
        lambda v: isinstance(v, list) and len(v) >= 2 and all(_is_int(n) and n >= 1 for n in v),
        "a list of at least two positive integers"))
    model.coefs_ = [_array(arrays, f"coefs_/{i}", shape) for i, shape in enumerate(zip(sizes[:-1], sizes[1:]))]
    model.intercepts_ = [_array(arrays, f"intercepts_/{i}", (n,)) for i, n in enumerate(sizes[1:])]
    per_target = OUTPUTS_PER_TARGET[model.loss]  # 2 when the network also predicts a variance
    if sizes[-1] % per_target:
        raise ValueError(f"loss={model.loss!r} needs a multiple of {per_target} outputs; got {sizes[-1]}.")
    n_targets = sizes[-1] // per_target
    model.n_features_in_, model.n_outputs_ = sizes[0], n_targets
    model.x_scaler_ = _scaler(arrays, "x_scaler", sizes[0])
    model.y_scaler_ = _scaler(arrays, "y_scaler", n_targets)
    model._y_ndim = _field(state, "y_ndim", Rule(lambda v: v in (1, 2) and _is_int(v), "1 or 2"))
    if model._y_ndim == 1 and n_targets != 1:
        raise ValueError(f"y_ndim 1 does not fit {n_targets} targets.")
    model.loss_ = float(_field(state, "loss_", FINITE))
    model.n_iter_ = _field(state, "n_iter_", COUNT)
    model.n_averaged_ = _field(state, "n_averaged_", POSITIVE_COUNT) if "n_averaged_" in state else 1  # older files: one network
    model.loss_curve_ = _array(arrays, "loss_curve_", (None,), finite=False).tolist()
    model.validation_loss_curve_ = (
        _array(arrays, "validation_loss_curve_", (None,), finite=False).tolist()
        if "validation_loss_curve_" in arrays else None
    )
    for name in EVIDENCE_ATTRIBUTES:
        if name in state:
            setattr(model, name, float(_field(state, name, NON_NEGATIVE)))
    summary = _require(state, "summary_", dict)
    unknown = sorted(set(summary) - set(SUMMARY_FIELDS))
    if unknown:
        raise ValueError(f"summary_ has a field {unknown[0]!r} this mlpfit's FitSummary does not know.")
    older = ("n_averaged", "plan")  # fields files written before them lack
    model.summary_ = FitSummary(**{key: _field(summary, key, rule) for key, rule in SUMMARY_FIELDS.items()
                                   if key in summary or key not in older})
    plan = state.get("plan_")  # absent from files written before fit plans
    model.plan_ = None if plan is None else FitPlan.from_dict(plan)


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
            raise ValueError(f"ensemble member {i} must be a NeuralRegressor with loss={MEMBER_LOSSES[model.noise]!r} "
                             f"for noise={model.noise!r}.")
        if _widths(member) != _widths(members[0]):
            raise ValueError(f"ensemble member {i} has (inputs, outputs, y_ndim) {_widths(member)}; "
                             f"member 0 has {_widths(members[0])}.")
    model.estimators_ = members
    model.n_features_in_, model.n_outputs_ = members[0].n_features_in_, members[0].n_outputs_
    model.noise_variances_ = None
    if model.noise == "homoscedastic":
        shape = (len(members),) if members[0]._y_ndim == 1 else (len(members), model.n_outputs_)
        model.noise_variances_ = _array(arrays, "noise_variances_", shape)
        if (model.noise_variances_ < 0).any():
            raise ValueError("array 'noise_variances_' holds a negative variance.")


def _widths(member):
    return member.n_features_in_, member.n_outputs_, member._y_ndim


CODECS = {
    "NeuralRegressor": Codec(NeuralRegressor, _encode_neural, _decode_neural),
    "EnsembleRegressor": Codec(EnsembleRegressor, _encode_ensemble, _decode_ensemble),
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
    from . import __version__  # here, not at the top: mlpfit/__init__ imports this module before defining it

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
        raise ValueError(f"cannot save this {type(model).__name__} to {os.fspath(path)}; load would refuse the "
                         f"file: {error} If its parameters were changed after fitting, refit it or restore them.") from None
    with atomic_write(path) as file:
        np.savez(file, **{METADATA_KEY: np.array(text)}, **arrays)


def _columns(metadata, model):
    """The metadata's ``columns``: None, or x and y name lists matching the model's inputs and outputs."""
    columns = metadata.get("columns")
    if columns is None:
        return None
    x, y = _field(columns, "x", TEXTS), _field(columns, "y", TEXTS)
    if len(x) != model.n_features_in_ or len(y) != model.n_outputs_:
        raise ValueError(f"columns name {len(x)} inputs and {len(y)} outputs; the model has "
                         f"{model.n_features_in_} and {model.n_outputs_}.")
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
    except NewerFormat as error:
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


class NewerFormat(ValueError):
    """The file was written in a format version newer than this mlpfit reads."""


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
    if version > FORMAT_VERSION:
        raise NewerFormat(
            f"was written in model format version {version} (by mlpfit "
            f"{_shown(metadata.get('mlpfit_version', '?'))}); this mlpfit reads up to version {FORMAT_VERSION}. "
            "Upgrade mlpfit to load it."
        )
    if "mlpfit_version" in metadata:
        _field(metadata, "mlpfit_version", TEXT)
    return metadata
