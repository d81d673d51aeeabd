"""Saved models: one ``.npz`` archive of float64 arrays plus a JSON metadata entry, never pickle.

The format is documented in ``docs/model-format.md``. Loading reads arrays with
``allow_pickle=False`` and JSON, checks every name, shape and dtype against the
metadata, and rebuilds the estimator from its class name through :data:`CODECS`;
nothing in the file is executed.

Each savable class has a :class:`Codec` that turns a fitted model into arrays and a
JSON-able state and back. A model that holds other models (an ensemble) stores each
member with :func:`encode` under a key prefix (:func:`nest`) and reads it back with
:func:`decode` on :func:`members_arrays`, so adding a class is one table entry.
"""

import json
import os
import zipfile
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._atomic import atomic_write
from ._nll import OUTPUTS_PER_TARGET
from ._params import validate_params
from ._plan import FitPlan
from ._scaling import Scaler
from .ensemble import EnsembleRegressor
from .estimator import FitSummary, NeuralRegressor

FORMAT_NAME = "mlpfit-model"
FORMAT_VERSION = 1
"""Bumped whenever a file written by this version could be misread by an older reader."""
METADATA_KEY = "metadata"
"""The archive entry holding the JSON metadata (a 0-d numpy unicode string)."""


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


def _array(arrays, key, shape):
    """``arrays[key]``, checked to be float64 of ``shape`` (None in ``shape``: any length)."""
    if key not in arrays:
        raise ValueError(f"model file has no array {key!r}.")
    value = arrays[key]
    if value.dtype != np.float64 or value.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(value.shape, shape)
    ):
        raise ValueError(
            f"array {key!r} has shape {value.shape} and dtype {value.dtype}; expected {shape} float64."
        )
    return value


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


def _decode_neural(model, arrays, state):
    sizes = _require(state, "layer_sizes", list)
    if len(sizes) < 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise ValueError(f"layer_sizes must be at least two positive ints; got {sizes!r}.")
    model.coefs_ = [_array(arrays, f"coefs_/{i}", shape) for i, shape in enumerate(zip(sizes[:-1], sizes[1:]))]
    model.intercepts_ = [_array(arrays, f"intercepts_/{i}", (n,)) for i, n in enumerate(sizes[1:])]
    per_target = OUTPUTS_PER_TARGET[model.loss]  # 2 when the network also predicts a variance
    if sizes[-1] % per_target:
        raise ValueError(f"loss={model.loss!r} needs a multiple of {per_target} outputs; got {sizes[-1]}.")
    n_targets = sizes[-1] // per_target
    model.n_features_in_, model.n_outputs_ = sizes[0], n_targets
    model.x_scaler_ = Scaler(_array(arrays, "x_scaler/mean", (sizes[0],)), _array(arrays, "x_scaler/scale", (sizes[0],)))
    model.y_scaler_ = Scaler(_array(arrays, "y_scaler/mean", (n_targets,)), _array(arrays, "y_scaler/scale", (n_targets,)))
    model._y_ndim = _require(state, "y_ndim", int)
    if model._y_ndim not in (1, 2) or (model._y_ndim == 1 and n_targets != 1):
        raise ValueError(f"y_ndim {model._y_ndim} does not fit {n_targets} target(s).")
    model.loss_ = float(_require(state, "loss_", (int, float)))
    model.n_iter_ = _require(state, "n_iter_", int)
    model.n_averaged_ = _require(state, "n_averaged_", int) if "n_averaged_" in state else 1  # older files: one network
    model.loss_curve_ = _array(arrays, "loss_curve_", (None,)).tolist()
    curve = arrays.get("validation_loss_curve_")
    model.validation_loss_curve_ = None if curve is None else _array(arrays, "validation_loss_curve_", (None,)).tolist()
    for name in EVIDENCE_ATTRIBUTES:
        if name in state:
            setattr(model, name, float(_require(state, name, (int, float))))
    plan = state.get("plan_")  # absent from files written before fit plans
    model.plan_ = None if plan is None else FitPlan.from_dict(plan)
    try:
        model.summary_ = FitSummary(**_require(state, "summary_", dict))
    except TypeError as error:
        raise ValueError(f"summary_ does not match this mlpfit's FitSummary: {error}") from None


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
    if any(type(member) is not NeuralRegressor for member in members):
        raise ValueError("every ensemble member must be a NeuralRegressor.")
    model.estimators_ = members
    model.n_features_in_, model.n_outputs_ = members[0].n_features_in_, members[0].n_outputs_
    model.noise_variances_ = None
    if model.noise == "homoscedastic":
        shape = (len(members),) if members[0]._y_ndim == 1 else (len(members), model.n_outputs_)
        model.noise_variances_ = _array(arrays, "noise_variances_", shape)


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
    """
    arrays, node = encode(model)
    from . import __version__  # here, not at the top: mlpfit/__init__ imports this module before defining it

    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "mlpfit_version": __version__,
        "model": node,
        "columns": _checked_columns(columns, model),
    }
    text = json.dumps(metadata, allow_nan=True)
    with atomic_write(path) as file:
        np.savez(file, **{METADATA_KEY: np.array(text)}, **arrays)


def _checked_columns(columns, model):
    if columns is None:
        return None
    x, y = list(map(str, columns["x"])), list(map(str, columns["y"]))
    if len(x) != model.n_features_in_ or len(y) != getattr(model, "n_outputs_", len(y)):
        raise ValueError(f"columns name {len(x)} inputs and {len(y)} outputs; the model has "
                         f"{model.n_features_in_} and {getattr(model, 'n_outputs_', '?')}.")
    return {"x": x, "y": y}


def load(path):
    """Read a model written by :func:`save`; predictions are bit-identical to the saved model's.

    Raises
    ------
    ValueError
        The file is not an mlpfit model, is corrupted or inconsistent, or was written by a newer
        format version than this mlpfit reads.
    """
    return load_with_metadata(path)[0]


def load_with_metadata(path):
    """``(model, metadata)``: the model as :func:`load` returns it and the file's JSON metadata.

    ``metadata`` has ``format``, ``format_version``, ``mlpfit_version``, ``model`` (class,
    params, state) and ``columns`` (None unless saved with column names).
    """
    arrays = _read_archive(path)
    metadata = _read_metadata(arrays.pop(METADATA_KEY, None), path)
    try:
        model = decode(arrays, _require(metadata, "model", dict))
        columns = metadata.get("columns")
        if columns is not None:
            metadata["columns"] = _checked_columns(columns, model)
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"{os.fspath(path)} is not a valid mlpfit model file: {error}") from None
    return model, metadata


def _read_archive(path):
    where = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an archive")
        with archive:
            return {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise ValueError(f"{where} is not an mlpfit model file ({error}).") from None


def _read_metadata(entry, path):
    where = os.fspath(path)
    if entry is None or entry.dtype.kind != "U" or entry.ndim != 0:
        raise ValueError(f"{where} is not an mlpfit model file (no {METADATA_KEY!r} entry).")
    try:
        metadata = json.loads(str(entry))
    except json.JSONDecodeError as error:
        raise ValueError(f"{where} is not a valid mlpfit model file: its metadata is not JSON ({error}).") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise ValueError(f"{where} is not an mlpfit model file (format is not {FORMAT_NAME!r}).")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{where} is not a valid mlpfit model file: format_version {version!r}.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{where} was written in model format version {version} (by mlpfit "
            f"{metadata.get('mlpfit_version', '?')}); this mlpfit reads up to version {FORMAT_VERSION}. "
            "Upgrade mlpfit to load it."
        )
    return metadata
