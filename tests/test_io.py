"""Saved models: bit-identical round trips, and every damaged or foreign file refused with a clear ValueError."""

import io as io_module
import json
import os
import re
import shutil
import zipfile

import numpy as np
import pytest
from _peak import run_measured
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlpfit
from mlpfit import EnsembleRegressor, NeuralRegressor, io
from mlpfit.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(0)
X1 = RNG.uniform(-2, 3, size=(40, 1))
X3 = RNG.normal(size=(40, 3))

CONFIGURATIONS = {
    "relu 1-D": (dict(), X1, np.sin(X1[:, 0])),
    "tanh two layers, two outputs": (
        dict(hidden_layer_sizes=(6, 4), activation="tanh"),
        X3,
        np.c_[X3[:, 0] ** 2, X3[:, 1] - X3[:, 2]],
    ),
    "logistic unstandardised": (dict(activation="logistic", standardize=False), X3, X3 @ [1.0, -2.0, 0.5]),
    "leaky_relu early stopping, 2-D y with one column": (
        dict(activation="leaky_relu", early_stopping=True, n_restarts=2),
        X1,
        np.abs(X1),
    ),
    "softplus three layers, adam": (
        dict(hidden_layer_sizes=(3, 3, 3), activation="softplus", solver="adam"),
        X3,
        X3[:, 0],
    ),
    "identity": (dict(activation="identity", hidden_layer_sizes=2), X1, 3 * X1[:, 0] + 1),
    "lm with Bayesian regularisation": (dict(solver="lm", alpha="bayes"), X1, np.sin(X1[:, 0])),
    "gaussian_nll, two outputs": (dict(loss="gaussian_nll"), X3, np.c_[X3[:, 0] ** 2, X3[:, 1]]),
}


def fitted(params, X, y):
    return NeuralRegressor(**{"max_iter": 40, "random_state": 0, **params}).fit(X, y)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A fitted model and the file it was saved to."""
    model = fitted(*CONFIGURATIONS["tanh two layers, two outputs"])
    path = tmp_path_factory.mktemp("io") / "model.npz"
    mlpfit.save(model, path, columns={"x": ["a", "b", "c"], "y": ["u", "v"]})
    return model, path


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_round_trip_predicts_bit_identically(tmp_path, name):
    params, X, y = CONFIGURATIONS[name]
    model = fitted(params, X, y)
    mlpfit.save(model, tmp_path / "m.npz")
    loaded = mlpfit.load(tmp_path / "m.npz")
    X_new = np.random.default_rng(1).normal(size=(25, X.shape[1])) * 3
    assert np.array_equal(loaded.predict(X_new), model.predict(X_new))
    assert loaded.predict(X_new).shape == model.predict(X_new).shape
    assert loaded.get_params() == model.get_params()
    assert loaded.summary_ == model.summary_
    assert loaded.loss_curve_ == model.loss_curve_
    assert loaded.validation_loss_curve_ == model.validation_loss_curve_
    assert loaded.n_iter_ == model.n_iter_ and loaded.loss_ == model.loss_
    assert loaded.n_averaged_ == model.n_averaged_
    assert loaded.fitted_.runs == model.fitted_.runs and loaded.plan_ == model.plan_
    assert loaded.data_loss_curve_ == model.data_loss_curve_
    assert (loaded.alpha_, loaded.fitted_.evidence) == (model.alpha_, model.fitted_.evidence)


def test_the_training_record_round_trips_with_its_reestimations(tmp_path):
    model = fitted(*CONFIGURATIONS["lm with Bayesian regularisation"])
    mlpfit.save(model, tmp_path / "m.npz")
    loaded = mlpfit.load(tmp_path / "m.npz")
    for got, want in zip(loaded.fitted_.runs, model.fitted_.runs, strict=True):
        assert want.reestimations and got.reestimations == want.reestimations
        assert (got.data_curve, got.alpha_curve) == (want.data_curve, want.alpha_curve)


@pytest.mark.parametrize(
    "noise, X, y",
    [
        ("heteroscedastic", X1, np.sin(X1[:, 0])),
        ("homoscedastic", X3, np.c_[X3[:, 0], X3[:, 1] * X3[:, 2]]),
    ],
)
def test_ensembles_round_trip_with_their_intervals(tmp_path, noise, X, y):
    template = NeuralRegressor((4,), max_iter=30)
    model = EnsembleRegressor(template, n_estimators=3, noise=noise, random_state=0).fit(X, y)
    mlpfit.save(model, tmp_path / "ensemble.npz")
    loaded = mlpfit.load(tmp_path / "ensemble.npz")
    X_new = np.random.default_rng(2).normal(size=(20, X.shape[1]))
    for got, want in zip(loaded.predict_interval(X_new, 0.9), model.predict_interval(X_new, 0.9)):
        assert np.array_equal(got, want)
    assert loaded.get_params(deep=False)["n_estimators"] == 3 and loaded.n_outputs_ == model.n_outputs_


def test_an_ensemble_file_missing_a_member_is_refused(tmp_path):
    model = EnsembleRegressor(NeuralRegressor((3,), max_iter=10), n_estimators=2, random_state=0).fit(X1, X1[:, 0])
    mlpfit.save(model, tmp_path / "ensemble.npz")
    with np.load(tmp_path / "ensemble.npz") as archive:
        entries = {key: archive[key] for key in archive.files if not key.startswith("estimators_/1/")}
    np.savez(tmp_path / "broken.npz", **entries)
    with pytest.raises(ValueError, match="estimators_/1/|no array"):
        mlpfit.load(tmp_path / "broken.npz")


def test_metadata_holds_version_columns_and_summary(saved):
    model, path = saved
    loaded, metadata = io.load_with_metadata(path)
    assert metadata["format"] == io.FORMAT_NAME and metadata["format_version"] == io.FORMAT_VERSION
    assert metadata["mlpfit_version"] == mlpfit.__version__
    assert metadata["columns"] == {"x": ["a", "b", "c"], "y": ["u", "v"]}
    assert metadata["model"]["class"] == "NeuralRegressor"
    assert metadata["model"]["params"]["hidden_layer_sizes"] == [6, 4]
    assert [run["n_iter"] for run in metadata["model"]["state"]["runs"]] == [run.n_iter for run in model.fitted_.runs]


def test_the_file_is_a_plain_npz_of_float_arrays(saved):
    _, path = saved
    with np.load(path, allow_pickle=False) as archive:
        assert io.METADATA_KEY in archive.files
        arrays = [archive[key] for key in archive.files if key != io.METADATA_KEY]
    assert arrays and all(a.dtype == np.float64 for a in arrays)


def test_random_state_instance_is_saved_as_none(tmp_path):
    model = fitted({"random_state": np.random.RandomState(3)}, *CONFIGURATIONS["relu 1-D"][1:])
    mlpfit.save(model, tmp_path / "m.npz")
    assert mlpfit.load(tmp_path / "m.npz").random_state is None


def test_nest_and_members_arrays_are_inverse():
    arrays = {"network/coefs/0": np.ones(2), "runs/0/loss_curve": np.zeros(3)}
    nested = {**io.nest("estimators_/0", arrays), **io.nest("estimators_/1", {"x": np.ones(1)})}
    assert set(nested) == {"estimators_/0/network/coefs/0", "estimators_/0/runs/0/loss_curve", "estimators_/1/x"}
    assert io.members_arrays(nested, "estimators_/0").keys() == arrays.keys()


def test_unsupported_or_unfitted_models_are_refused(tmp_path):
    from sklearn.linear_model import LinearRegression

    with pytest.raises(ValueError, match="cannot save a LinearRegression; savable classes: NeuralRegressor"):
        mlpfit.save(LinearRegression().fit(X1, X1[:, 0]), tmp_path / "m.npz")
    with pytest.raises(ValueError, match="not fitted"):
        mlpfit.save(NeuralRegressor(), tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


def test_failed_write_leaves_the_old_file_and_no_temporary(saved, tmp_path, monkeypatch):
    model, _ = saved
    path = tmp_path / "m.npz"
    path.write_bytes(b"old contents")

    def broken_savez(file, **arrays):
        file.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(io.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        mlpfit.save(model, path)
    assert path.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["m.npz"]


# --- damaged and foreign files --------------------------------------------------------------


def rewrite(source, target, change):
    """Copy the archive at ``source`` to ``target`` after ``change(arrays, metadata)`` edits it (or returns new metadata
    text)."""
    with np.load(source, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    metadata = json.loads(str(arrays.pop(io.METADATA_KEY)))
    text = change(arrays, metadata) or json.dumps(metadata)  # a change may return the metadata text itself
    np.savez(target, **{io.METADATA_KEY: np.array(text)}, **arrays)
    return target


def set_version(arrays, metadata):
    metadata["format_version"] = io.FORMAT_VERSION + 1


def set_older_version(arrays, metadata):
    metadata["format_version"] = io.FORMAT_VERSION - 1


def drop_layer(arrays, metadata):
    del arrays["network/coefs/1"]


def reshape_weights(arrays, metadata):
    arrays["network/coefs/0"] = arrays["network/coefs/0"][:, :-1]


def integer_weights(arrays, metadata):
    arrays["network/intercepts/0"] = arrays["network/intercepts/0"].astype(np.int64)


def unknown_class(arrays, metadata):
    metadata["model"]["class"] = "os.system"


def bad_parameter(arrays, metadata):
    metadata["model"]["params"]["activation"] = "swish"


def foreign_format(arrays, metadata):
    metadata["format"] = "something-else"


def lost_run_field(arrays, metadata):
    del metadata["model"]["state"]["runs"][0]["stop_reason"]


@pytest.mark.parametrize(
    "change, message",
    [
        (set_version, r"format version 3 .*reads up to version 2. Upgrade mlpfit"),
        (
            set_older_version,
            r"bad.npz was written in model format version 1 \(by mlpfit .*\), before the fitted state .* Refit",
        ),
        (drop_layer, r"no array 'network/coefs/1'"),
        (reshape_weights, r"array 'network/coefs/0' has shape \(3, \d+\) .*expected \(3, \d+\)"),
        (integer_weights, r"array 'network/intercepts/0' .*dtype int64"),
        (unknown_class, r"unknown model class 'os.system'"),
        (bad_parameter, r"activation must be one of"),
        (foreign_format, r"not an mlpfit model file: its metadata format is not"),
        (lost_run_field, r"no 'stop_reason' entry"),
    ],
)
def test_tampered_files_are_refused(saved, tmp_path, change, message):
    path = rewrite(saved[1], tmp_path / "bad.npz", change)
    with pytest.raises(ValueError, match=message):
        mlpfit.load(path)


def test_metadata_that_is_not_json_is_refused(saved, tmp_path):
    with np.load(saved[1], allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays[io.METADATA_KEY] = np.array("{not json")
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="metadata is not JSON"):
        mlpfit.load(tmp_path / "bad.npz")


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda path: path.write_text("x,y\n1,2\n"), "not an mlpfit model file"),
        (lambda path: np.save(path, np.ones(3)), "not an mlpfit model file: it is not a zip archive"),
        (lambda path: np.savez(path, weights=np.ones(3)), "not an mlpfit model file: it has no 'metadata' entry"),
        (lambda path: np.savez(path, metadata=np.array([{"a": 1}], dtype=object)), "expected numbers"),
    ],
    ids=["csv", "npy", "npz without metadata", "pickled object array"],
)
def test_files_that_are_not_models_are_refused(tmp_path, write, message):
    path = tmp_path / "model.npz"
    write(path)
    os.replace(next(tmp_path.iterdir()), path)  # np.save appends .npy
    with pytest.raises(ValueError, match=message):
        mlpfit.load(path)


def test_truncated_file_is_refused(saved, tmp_path):
    data = saved[1].read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not an mlpfit model file"):
        mlpfit.load(tmp_path / "cut.npz")


# --- hostile files: each refused cheaply with one ValueError ------------------------------


def add_entry(path, name, header, zero_bytes, compression=zipfile.ZIP_DEFLATED):
    """Append ``name.npy`` to the archive at ``path``: ``header`` bytes, then ``zero_bytes`` zeros, in chunks."""
    with zipfile.ZipFile(path, "a", compression=compression, compresslevel=1) as archive:
        with archive.open(name + ".npy", "w", force_zip64=True) as member:
            member.write(header)
            chunk = bytes(1 << 20)
            for start in range(0, zero_bytes, len(chunk)):
                member.write(chunk[: zero_bytes - start])
    return path


def npy_header(shape):
    """The ``.npy`` header numpy writes for a float64 array of ``shape``."""
    buffer = io_module.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def without(source, target, *names):
    """Copy the archive at ``source`` to ``target`` without the entries ``names``."""

    def drop(arrays, metadata):
        for name in names:
            del arrays[name]

    return rewrite(source, target, drop)


GIB = 1 << 30
LOAD_PEAK = """
import sys, mlpfit
try:
    mlpfit.load(sys.argv[1])
    print("loaded")
except ValueError as error:
    print(error)
print(peak_bytes())
"""


@pytest.mark.parametrize(
    "craft, message",
    [
        (
            lambda source, path: add_entry(shutil.copy(source, path), "junk", npy_header((GIB // 8,)), GIB),
            "entry 'junk' is not part of the format",
        ),
        (
            lambda source, path: add_entry(
                without(source, path, "runs/0/loss_curve"), "runs/0/loss_curve", npy_header((GIB // 8,)), GIB
            ),
            r"array 'runs/0/loss_curve' has shape \(134217728,\)",
        ),
        (
            lambda source, path: add_entry(
                without(source, path, "network/coefs/0"), "network/coefs/0", npy_header((10**5, 10**5)), 0
            ),
            r"entry 'network/coefs/0' declares shape \(100000, 100000\) of float64, but the archive stores",
        ),
    ],
    ids=["extra 1 GiB entry", "1 GiB loss curve", "header claiming 1e10 elements"],
)
def test_huge_entries_are_refused_in_bounded_memory(saved, tmp_path, craft, message):
    path = craft(saved[1], tmp_path / "huge.npz")
    outcome, peak = run_measured(LOAD_PEAK, path)
    assert re.search(message, outcome), outcome
    assert int(peak) < 300 * 2**20, f"peak {int(peak) / 2**20:.0f} MiB"


def nest_metadata(depth):
    def change(arrays, metadata):
        metadata["model"]["state"]["deep"] = "DEEP"
        return json.dumps(metadata).replace('"DEEP"', "[" * depth + "]" * depth)

    return change


def nest_estimators(depth):
    def change(arrays, metadata):
        node = {"estimator": "NeuralRegressor", "params": {}}
        for _ in range(depth):
            node = {"estimator": "EnsembleRegressor", "params": {"estimator": node}}
        metadata["model"]["params"]["hidden_layer_sizes"] = node

    return change


def set_field(*keys, value):
    """A change setting ``metadata[keys...]`` to ``value`` (keys below ``model/state`` when the first is not
    top-level)."""

    def change(arrays, metadata):
        target = metadata if keys[0] in metadata else metadata["model"]["state"]
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


def set_array(name, update):
    def change(arrays, metadata):
        arrays[name] = update(arrays[name].copy())

    return change


def assign(index, value):
    def update(array):
        array[index] = value
        return array

    return update


@pytest.mark.parametrize(
    "change, message",
    [
        (nest_metadata(100_000), "the metadata nests 1000\\d\\d levels deep; the limit is 32"),
        (nest_estimators(300), "the metadata nests .* levels deep; the limit is 32"),
        (set_field("runs", value=[]), r"the model has 0 training runs; its plan averages \d+ networks"),
        (set_field("runs", 0, "n_iter", value=0), "field 'n_iter' must be an integer >= 1; got 0"),
        (set_field("runs", 0, "n_iter", value="2"), "field 'n_iter' must be an integer >= 1; got \"2\""),
        (set_field("runs", 0, "stop_reason", value="bored"), "field 'stop_reason' must be a stop reason"),
        (set_field("runs", 0, "restart_losses", value=0.5), "field 'restart_losses' must be a list of numbers"),
        (set_field("runs", 0, "extra", value=1), "runs/0 has a field 'extra'"),
        (
            set_field("runs", 0, "evidence", value={"weight_precision": 1.0}),
            "'runs/0/evidence' must be null or an object",
        ),
        (set_field("fit_time", value=None), "field 'fit_time' must be a finite number >= 0; got null"),
        (set_field("evidence", value=None), "evidence must be saved exactly when the plan's alpha is 'bayes'"),
        (set_field("plan", "n_averaged", value=0), "fit plan field 'n_averaged' has an impossible value: 0"),
        (set_field("loss", value=float("nan")), "field 'loss' must be a finite number; got NaN"),
        (set_field("plan", "alpha", value=-1.0), "fit plan: bayes_start 'fitted' does not fit alpha -1.0"),
        (
            set_field("network", "layer_sizes", value=[3, "12", 2]),
            "field 'layer_sizes' must be a list of at least two positive",
        ),
        (set_field("network", "y_ndim", value=True), "field 'y_ndim' must be 1 or 2"),
        (set_field("network", "variance_head", value=True), "variance_head true does not fit loss='squared_error'"),
        (set_field("mlpfit_version", value=[1]), "field 'mlpfit_version' must be a string"),
        (set_field("columns", value={"x": ["a", "b", "c"], "y": "uv"}), "field 'y' must be null or a list of strings"),
        (set_field("columns", value={"x": ["a"], "y": ["u", "v"]}), "columns name 1 inputs and 2 outputs"),
        (set_array("network/coefs/1", assign((0, 0), np.nan)), "array 'network/coefs/1' holds NaN or infinity"),
        (set_array("network/intercepts/0", assign(0, -np.inf)), "array 'network/intercepts/0' holds NaN or infinity"),
        (set_array("network/x_scaler/scale", assign(1, 0.0)), "array 'network/x_scaler/scale' must be positive; got 0"),
        (
            set_array("network/y_scaler/scale", assign(0, -2.0)),
            "array 'network/y_scaler/scale' must be positive; got -2",
        ),
        (set_array("network/y_scaler/mean", assign(0, np.inf)), "array 'network/y_scaler/mean' holds NaN or infinity"),
        (lambda arrays, metadata: arrays.update(extra=np.ones(2)), "entry 'extra' is not part of the format"),
        (set_array("runs/0/data_curve", lambda curve: curve[1:]), r"array 'runs/0/data_curve' has shape \(\d+,\)"),
        (set_array("runs/0/alpha_curve", lambda curve: np.r_[curve, 1.0]), "array 'runs/0/alpha_curve' has shape"),
        (set_array("runs/0/reestimations", lambda _: np.array([2.0, 1.0])), "must hold increasing whole numbers"),
        (set_array("runs/0/reestimations", lambda _: np.array([0.5])), "must hold increasing whole numbers"),
        (set_array("runs/0/reestimations", lambda _: np.array([1e6])), r"must index the run's \d+ iterations"),
        (set_array("runs/0/reestimations", lambda _: np.array([-1.0])), r"must index the run's \d+ iterations"),
        (set_array("runs/0/reestimations", lambda _: np.array([np.nan])), "reestimations' holds NaN or infinity"),
    ],
)
def test_crafted_metadata_and_arrays_are_refused(saved, tmp_path, change, message):
    path = rewrite(saved[1], tmp_path / "bad.npz", change)
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))} is not a valid mlpfit model file: .*{message}"):
        mlpfit.load(path)


def test_ensemble_members_of_different_widths_are_refused(tmp_path):
    model = EnsembleRegressor(NeuralRegressor((3,), max_iter=5), n_estimators=2, random_state=0).fit(X3, X3[:, 0])
    other = EnsembleRegressor(NeuralRegressor((3,), max_iter=5), n_estimators=2, random_state=0).fit(X1, X1[:, 0])
    arrays, node = io.encode(model)
    other_arrays, other_node = io.encode(other)
    arrays.update(io.nest("estimators_/1", io.members_arrays(other_arrays, "estimators_/1")))
    node["state"]["estimators_"][1] = other_node["state"]["estimators_"][1]
    metadata = {"format": io.FORMAT_NAME, "format_version": io.FORMAT_VERSION, "model": node, "columns": None}
    np.savez(tmp_path / "mixed.npz", metadata=np.array(json.dumps(metadata)), **arrays)
    with pytest.raises(
        ValueError, match=r"member 1 has \(inputs, outputs, y_ndim\) \(1, 1, 1\); member 0 has \(3, 1, 1\)"
    ):
        mlpfit.load(tmp_path / "mixed.npz")


@pytest.mark.parametrize(
    "contents",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(100),
        np.random.default_rng(5).bytes(3000),
        b"",
    ],
    ids=["png", "random bytes", "empty"],
)
def test_foreign_bytes_are_not_a_model_file(tmp_path, contents):
    (tmp_path / "model.npz").write_bytes(contents)
    with pytest.raises(ValueError, match="model.npz is not an mlpfit model file: it is not a zip archive") as error:
        mlpfit.load(tmp_path / "model.npz")
    assert "pickle" not in str(error.value)


def test_the_array_budget_binds_save_and_load(saved, tmp_path, monkeypatch):
    model, path = saved
    monkeypatch.setattr(io, "MAX_ARRAY_BYTES", 1000)
    with pytest.raises(
        ValueError, match=r"cannot save .*load would refuse the file: the arrays take \d+ bytes; the limit is 1000"
    ):
        mlpfit.save(model, tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"entry '.*' would take the array data read past 1000 bytes"):
        mlpfit.load(path)
    assert os.listdir(tmp_path) == []


def test_a_batch_of_curves_too_large_for_one_file_is_refused_with_the_way_to_save_it(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    curves = [(x, np.sqrt(x) + 0.1 * rng.normal(size=40)) for x in rng.uniform(0, 4, (3, 40))]
    batch = mlpfit.CurveBatch(NeuralRegressor(hidden_layer_sizes=3, max_iter=5, random_state=0)).fit(curves)
    monkeypatch.setattr(mlpfit._model_file, "MAX_METADATA_CHARS", 2000)
    with pytest.raises(ValueError, match=r"the limit is 2000\. Fit the curves with CurveBatch\.fit_to_directory"):
        mlpfit.save(batch, tmp_path / "curves.npz")
    assert os.listdir(tmp_path) == []


def test_a_fifo_or_device_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "model.npz")
    for path in (tmp_path / "model.npz", "/dev/zero"):
        with pytest.raises(ValueError, match="is not an mlpfit model file: it is not a regular file"):
            mlpfit.load(path)


@pytest.mark.parametrize(
    "change",
    [
        {"loss": "gaussian_nll"},
        {"activation": "swish"},
    ],
    ids=["loss changed", "invalid parameter"],
)
def test_save_refuses_a_model_whose_parameters_changed_after_fit(tmp_path, change):
    model = fitted(*CONFIGURATIONS["relu 1-D"])
    model.set_params(**change)
    with pytest.raises(ValueError, match=r"cannot save this NeuralRegressor to .*m.npz; load would refuse the file: "):
        mlpfit.save(model, tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


def test_cli_reports_a_crafted_file_in_one_line(saved, tmp_path, capsys):
    path = rewrite(saved[1], tmp_path / "bad.npz", set_field("fit_time", value=None))
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "fit_time" in err


# --- any damage: a ValueError, or the model as saved -----------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


def metadata_paths(node, path=()):
    """Every key path into a JSON document."""
    yield path
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield from metadata_paths(child, (*path, key))


@st.composite
def damaged(draw, original):
    """A mutated copy of the ``original`` file's bytes: flipped bytes, an entry dropped or added, or a metadata field
    replaced.

    Entries are not replaced by valid arrays of the same shape: that is a different model, not damage.
    """
    with np.load(io_module.BytesIO(original), allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    kind = draw(st.sampled_from(["bytes", "entry", "field"]))
    if kind == "bytes":
        data = bytearray(original)
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    metadata = json.loads(str(arrays.pop(io.METADATA_KEY)))
    if kind == "entry":
        name = draw(st.sampled_from(sorted(arrays)))
        if draw(st.booleans()):
            del arrays[name]
        else:
            arrays[draw(st.sampled_from([name + "x", "extra"]))] = np.full(draw(st.integers(0, 3)), 1.5)
    else:
        *parents, key = draw(st.sampled_from(list(metadata_paths(metadata))[1:]))
        target = metadata
        for parent in parents:
            target = target[parent]
        target[key] = draw(JSON_VALUES)
    buffer = io_module.BytesIO()
    np.savez(buffer, **{io.METADATA_KEY: np.array(json.dumps(metadata))}, **arrays)
    return buffer.getvalue()


SMALL_MODELS = {
    "network": lambda: fitted(dict(hidden_layer_sizes=(3,)), X3, X3[:, 0]),
    "homoscedastic ensemble": lambda: EnsembleRegressor(
        NeuralRegressor((2,), max_iter=10), n_estimators=2, noise="homoscedastic", random_state=0
    ).fit(X3, X3[:, 0]),
}


def check_damaged_copies(path, original, check_loaded):
    """Write 200 damaged copies of the file bytes ``original`` to ``path`` in turn: each raises ValueError on
    ``mlpfit.load``, or loads and passes ``check_loaded(loaded)``."""

    @settings(max_examples=200, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(damaged(original))
    def check(contents):
        path.write_bytes(contents)
        try:
            loaded = mlpfit.load(path)
        except ValueError:
            return
        check_loaded(loaded)

    check()


@pytest.mark.parametrize("kind", SMALL_MODELS)
def test_damaged_files_load_as_saved_or_raise_value_error(tmp_path_factory, kind):
    model = SMALL_MODELS[kind]()
    path = tmp_path_factory.mktemp("damaged") / "m.npz"
    mlpfit.save(model, path)

    def predicts_as_saved(loaded):
        predictions = loaded.predict(X3)
        assert np.all(np.isfinite(predictions))
        assert np.array_equal(np.ravel(predictions), model.predict(X3))

    check_damaged_copies(path, path.read_bytes(), predicts_as_saved)
