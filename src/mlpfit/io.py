"""Saved models: one ``.npz`` archive of float64 arrays plus a JSON metadata entry, never pickle.

The format is documented in ``docs/model-format.md``. Loading reads the JSON metadata
first (its size and nesting capped before parsing), checks every field's type and range,
then reads only the arrays the metadata implies, each ``.npy`` header checked against the
expected shape and dtype before its data (:mod:`mlpfit._npz`). What the file holds is read
and checked without the estimators (:mod:`mlpfit._model_file`, which ``mlpfit info`` uses
alone); the estimator is then rebuilt from its class name through :data:`CODECS`, its
parameters checked as ``fit`` checks them. Nothing in the file is executed.

Each savable class has a :class:`Codec` that turns a fitted model into arrays and a
JSON-able state, and sets a freshly built model's fitted attributes from what the file
held. A model that holds other models (an ensemble) stores each member with
:func:`encode` under a key prefix (:func:`nest`), so adding a class is one table entry
here and one reader in :data:`mlpfit._model_file.READERS`.
"""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from . import __version__
from ._atomic import atomic_write
from ._model_file import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_ARRAY_BYTES,
    METADATA_KEY,
    TooLarge,
    check_metadata_length,
    encode_fitted,
    members_arrays,
    nest,
    parse_metadata,
    read_file,
    read_node,
    read_saved,
    require,
    stack_curves,
)
from ._params import validate_params
from .curves import PARAMETER_CONSTRAINTS as BATCH_CONSTRAINTS
from .curves import SUMMARY_COLUMNS, CurveBatch
from .ensemble import MEMBER_LOSSES, EnsembleRegressor
from .ensemble import PARAMETER_CONSTRAINTS as ENSEMBLE_CONSTRAINTS
from .estimator import PARAMETER_CONSTRAINTS as NEURAL_CONSTRAINTS
from .estimator import NeuralRegressor

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "METADATA_KEY",
    "load",
    "load_with_metadata",
    "members_arrays",
    "nest",
    "save",
]


@dataclass(frozen=True)
class Codec:
    """How one estimator class is stored.

    Attributes
    ----------
    cls : type
        The estimator class, rebuilt from its saved ``get_params(deep=False)``.
    encode : callable
        ``encode(model) -> (arrays, state)``: a dict of name -> ndarray and a JSON-able dict.
    restore : callable
        ``restore(model, saved)``: set the fitted attributes of the freshly built ``model`` from the
        :class:`~mlpfit._model_file.SavedModel` its file held; raise ValueError where the saved state does
        not fit the model's parameters.
    constraints : dict
        The class's parameter constraints, checked on load as ``fit`` checks them.
    """

    cls: type
    encode: Callable
    restore: Callable
    constraints: dict


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
    CODECS[type(model).__name__].restore(model, read_node(arrays, node))
    return model


def _restored(saved):
    """The fitted model a :class:`~mlpfit._model_file.SavedModel` describes, its parameters checked."""
    model = _build({"class": saved.name, "params": saved.params})
    CODECS[saved.name].restore(model, saved)
    return model


def _build(node):
    """An unfitted estimator from ``{"class", "params"}``, parameters checked as ``fit`` would."""
    name = require(node, "class", str)
    if name not in CODECS:
        raise ValueError(f"unknown model class {name!r}; this mlpfit reads: {', '.join(CODECS)}.")
    params = {key: _param_from_json(value) for key, value in require(node, "params", dict).items()}
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


def _feature_names(model):
    """``feature_names_in_`` (set by ``fit`` on a DataFrame with string column names) as a list, or None."""
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(name) for name in names]


def _restore_feature_names(model, saved):
    if saved.feature_names is not None:
        model.feature_names_in_ = np.asarray(saved.feature_names, dtype=object)  # as scikit-learn stores them


# --- NeuralRegressor: its FittedState ----------------------------------------------------------


def _encode_neural(model):
    return encode_fitted(model.fitted_, _feature_names(model))


def _restore_neural(model, saved):
    model.n_features_in_ = saved.n_features_in
    model.fitted_ = saved.fitted
    _restore_feature_names(model, saved)


# --- EnsembleRegressor ---------------------------------------------------------------------


def _encode_ensemble(model):
    arrays, members = {}, []
    for i, member in enumerate(model.estimators_):
        member_arrays, node = encode(member)
        arrays.update(nest(f"estimators_/{i}", member_arrays))
        members.append(node)
    if model.noise_variances_ is not None:
        arrays["noise_variances_"] = np.asarray(model.noise_variances_, dtype=np.float64)
    return arrays, {"estimators_": members, "feature_names_in": _feature_names(model)}


def _restore_ensemble(model, saved):
    if len(saved.members) != model.n_estimators:
        raise ValueError(
            f"the ensemble has {len(saved.members)} saved members; its n_estimators is {model.n_estimators}."
        )
    members = [_restored(member) for member in saved.members]
    for i, member in enumerate(members):
        if member.loss != MEMBER_LOSSES[model.noise]:
            raise ValueError(
                f"ensemble member {i} must be a NeuralRegressor with loss={MEMBER_LOSSES[model.noise]!r} "
                f"for noise={model.noise!r}."
            )
    if (saved.noise_variances is None) == (model.noise == "homoscedastic"):
        raise ValueError(
            f"the array 'noise_variances_' is saved exactly for noise='homoscedastic'; noise is {model.noise!r}."
        )
    model.estimators_ = members
    model.n_features_in_, model.n_outputs_ = saved.n_features_in, saved.n_outputs
    model.noise_variances_ = saved.noise_variances
    _restore_feature_names(model, saved)


# --- CurveBatch ----------------------------------------------------------------------------

SPLIT_CURVES_ADVICE = (
    "Fit the curves with CurveBatch.fit_to_directory instead, which writes them as a directory of model files."
)
"""What a CurveBatch too large for one file is advised to do (:class:`~mlpfit._model_file.TooLarge`)."""

SAVED_SUMMARY = SUMMARY_COLUMNS[1:2] + SUMMARY_COLUMNS[3:]
"""The summary columns a batch's file keeps: all but ``group`` and ``status``, which its groups and errors give."""


def _template(model):
    """The estimator every curve of ``model`` (a CurveBatch) was fitted as."""
    return NeuralRegressor() if model.estimator is None else model.estimator


def _encode_batch(model):
    odd = next((group for group in model.groups_ if not isinstance(group, (str, int)) or isinstance(group, bool)), None)
    if odd is not None:
        raise ValueError(f"a saved batch's groups must be strings or integers; got {odd!r}.")
    if not model.estimators_:
        raise ValueError("no curve of the batch was fitted; there is nothing to save.")
    curves = [encode(model.estimators_[group]) for group in model.groups_ if group in model.estimators_]
    arrays, nodes, plans, keys = stack_curves(curves)
    return arrays, {
        "groups": list(model.groups_),
        "errors": [model.errors_.get(group) for group in model.groups_],
        "estimator_params": _params_to_json(_template(model)),
        "plans": plans,
        "curves": nodes,
        "arrays": keys,
        "summary": {name: model.summary_[name].tolist() for name in SAVED_SUMMARY},
        "feature_names_in": None,
    }


def _restore_batch(model, saved):
    template = _template(model)
    if saved.members[0].params != _params_to_json(template):
        raise ValueError("the curves' saved estimator_params differ from the batch's estimator parameters.")
    model.groups_ = list(saved.groups)
    model.errors_ = {group: error for group, error in zip(saved.groups, saved.errors) if error is not None}
    fitted = [group for group in saved.groups if group not in model.errors_]
    model.estimators_, params = {}, template.get_params(deep=False)
    for group, member in zip(fitted, saved.members):
        estimator = NeuralRegressor(**params)  # as clone(template) makes it, without its cost per curve
        _restore_neural(estimator, member)
        model.estimators_[group] = estimator
    columns = {
        "group": model.groups_,
        "status": [model.errors_.get(group, "fitted") for group in model.groups_],
        **saved.summary,
    }
    model.summary_ = {name: np.array(columns[name]) for name in SUMMARY_COLUMNS}


CODECS = {
    "NeuralRegressor": Codec(NeuralRegressor, _encode_neural, _restore_neural, NEURAL_CONSTRAINTS),
    "EnsembleRegressor": Codec(EnsembleRegressor, _encode_ensemble, _restore_ensemble, ENSEMBLE_CONSTRAINTS),
    "CurveBatch": Codec(CurveBatch, _encode_batch, _restore_batch, BATCH_CONSTRAINTS),
}
"""Class name -> :class:`Codec`: the classes :func:`save` can write and :func:`load` can rebuild."""


# --- files --------------------------------------------------------------------------------


def save(model, path, *, columns=None, test_split=None):
    """Write a fitted model to ``path`` as one ``.npz`` archive, atomically.

    Parameters
    ----------
    model : NeuralRegressor, EnsembleRegressor or CurveBatch
        A fitted model of a class in :data:`CODECS` (a batch's groups strings or integers).
    path : str or os.PathLike
        The file to write (used as given; no suffix is added).
    columns : dict or None
        ``{"x": [names...], "y": [names...] or None}``, for a CurveBatch optionally with ``"group": name``:
        the table columns the model was fitted from, so the command line can match new data by name.
        None: for a model fitted on a DataFrame, ``x`` is its ``feature_names_in_`` and ``y`` unnamed
        (scikit-learn does not keep the target's name); else no names.
    test_split : dict or None
        ``{"fraction", "seed", "n_rows", "data", "data_sha256"}``: the test rows ``mlpfit fit --test-fraction``
        held out of the data file ``data`` (see ``docs/model-format.md``), so that a report can assess them again.

    Raises
    ------
    ValueError
        When :func:`load` would refuse the file, e.g. after ``set_params`` changed a parameter
        the fitted weights depend on, or when ``columns["x"]`` differs from ``feature_names_in_``:
        the file is then not written. Also when the model exceeds what one file holds (``docs/model-format.md``
        has the limits): for a CurveBatch, :meth:`~mlpfit.CurveBatch.fit_to_directory` writes the curves as a
        directory of such files instead.
    """
    arrays, node = encode(model)
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "mlpfit_version": __version__,
        "model": node,
        "columns": _columns_to_json(model, columns),
        **({} if test_split is None else {"test_split": test_split}),
    }
    text = json.dumps(metadata, allow_nan=True)
    try:
        check_metadata_length(len(text))
        array_bytes = sum(array.nbytes for array in arrays.values())
        if array_bytes > MAX_ARRAY_BYTES:
            raise TooLarge(f"the arrays take {array_bytes} bytes; the limit is {MAX_ARRAY_BYTES}.")
    except TooLarge as error:
        raise TooLarge(
            f"cannot save this {type(model).__name__} to {os.fspath(path)}; load would refuse the file: {error}",
            SPLIT_CURVES_ADVICE if isinstance(model, CurveBatch) else None,
        ) from None
    try:
        _model_from(arrays, parse_metadata(text))
    except ValueError as error:
        raise ValueError(
            f"cannot save this {type(model).__name__} to {os.fspath(path)}; load would refuse the "
            f"file: {error} If its parameters were changed after fitting, refit it or restore them."
        ) from None
    with atomic_write(path) as file:
        np.savez(file, **{METADATA_KEY: np.array(text)}, **arrays)


def _columns_to_json(model, columns):
    if columns is None:
        names = _feature_names(model)
        return None if names is None else {"x": names, "y": None}
    y = columns.get("y")
    group = {"group": str(columns["group"])} if "group" in columns else {}
    return {"x": list(map(str, columns["x"])), "y": None if y is None else list(map(str, y)), **group}


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
    params, state), ``columns`` (None unless saved with column names or fitted on a DataFrame;
    its ``y`` None when the targets are unnamed) and ``test_split`` (None unless saved with one).
    """
    return read_file(path, MAX_ARRAY_BYTES, _model_from)


def _model_from(arrays, metadata):
    """The model that ``arrays`` and the parsed ``metadata`` describe: its parameters checked first, as ``fit``
    checks them, then every field and array of its state, and the columns."""
    model = _build(require(metadata, "model", dict))
    CODECS[type(model).__name__].restore(model, read_saved(arrays, metadata))
    return model
