"""Saved models: bit-identical round trips, and every damaged or foreign file refused with a clear ValueError."""

import json
import os

import numpy as np
import pytest

import mlpfit
from mlpfit import EnsembleRegressor, NeuralRegressor, io

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(0)
X1 = RNG.uniform(-2, 3, size=(40, 1))
X3 = RNG.normal(size=(40, 3))

CONFIGURATIONS = {
    "relu 1-D": (dict(), X1, np.sin(X1[:, 0])),
    "tanh two layers, two outputs": (
        dict(hidden_layer_sizes=(6, 4), activation="tanh"), X3, np.c_[X3[:, 0] ** 2, X3[:, 1] - X3[:, 2]]
    ),
    "logistic unstandardised": (dict(activation="logistic", standardize=False), X3, X3 @ [1.0, -2.0, 0.5]),
    "leaky_relu early stopping, 2-D y with one column": (
        dict(activation="leaky_relu", early_stopping=True, n_restarts=2), X1, np.abs(X1)
    ),
    "softplus three layers, adam": (dict(hidden_layer_sizes=(3, 3, 3), activation="softplus", solver="adam"), X3, X3[:, 0]),
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
    for name in io.EVIDENCE_ATTRIBUTES:
        assert getattr(loaded, name, None) == getattr(model, name, None)


@pytest.mark.parametrize("noise, X, y", [
    ("heteroscedastic", X1, np.sin(X1[:, 0])),
    ("homoscedastic", X3, np.c_[X3[:, 0], X3[:, 1] * X3[:, 2]]),
])
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
    assert metadata["model"]["state"]["summary_"]["n_iter"] == model.n_iter_


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
    arrays = {"coefs_/0": np.ones(2), "loss_curve_": np.zeros(3)}
    nested = {**io.nest("estimators_/0", arrays), **io.nest("estimators_/1", {"x": np.ones(1)})}
    assert set(nested) == {"estimators_/0/coefs_/0", "estimators_/0/loss_curve_", "estimators_/1/x"}
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
    """Copy the archive at ``source`` to ``target`` after ``change(arrays, metadata)`` edits it."""
    with np.load(source, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    metadata = json.loads(str(arrays.pop(io.METADATA_KEY)))
    change(arrays, metadata)
    np.savez(target, **{io.METADATA_KEY: np.array(json.dumps(metadata))}, **arrays)
    return target


def set_version(arrays, metadata):
    metadata["format_version"] = io.FORMAT_VERSION + 1


def drop_layer(arrays, metadata):
    del arrays["coefs_/1"]


def reshape_weights(arrays, metadata):
    arrays["coefs_/0"] = arrays["coefs_/0"][:, :-1]


def integer_weights(arrays, metadata):
    arrays["intercepts_/0"] = arrays["intercepts_/0"].astype(np.int64)


def unknown_class(arrays, metadata):
    metadata["model"]["class"] = "os.system"


def bad_parameter(arrays, metadata):
    metadata["model"]["params"]["activation"] = "swish"


def foreign_format(arrays, metadata):
    metadata["format"] = "something-else"


def lost_summary_field(arrays, metadata):
    del metadata["model"]["state"]["summary_"]["solver"]


@pytest.mark.parametrize(
    "change, message",
    [
        (set_version, r"format version 2 .*reads up to version 1. Upgrade mlpfit"),
        (drop_layer, r"no array 'coefs_/1'"),
        (reshape_weights, r"array 'coefs_/0' has shape \(3, 11\) .*expected \(3, 12\)"),
        (integer_weights, r"array 'intercepts_/0' .*dtype int64"),
        (unknown_class, r"unknown model class 'os.system'"),
        (bad_parameter, r"activation must be one of"),
        (foreign_format, r"not an mlpfit model file: its metadata format is not"),
        (lost_summary_field, r"no 'solver' entry"),
    ],
)
def test_tampered_files_are_refused(saved, tmp_path, change, message):
    path = rewrite(saved[1], tmp_path / "bad.npz", change)
    with pytest.raises(ValueError, match=message):
        mlpfit.load(path)


def test_files_from_before_averaging_load_as_one_network(tmp_path):
    params, X, y = CONFIGURATIONS["relu 1-D"]
    model = fitted({**params, "n_averaged": 1}, X, y)
    mlpfit.save(model, tmp_path / "m.npz")

    def as_older_mlpfit_wrote_it(arrays, metadata):
        model_node = metadata["model"]
        del model_node["params"]["n_averaged"], model_node["state"]["n_averaged_"]
        del model_node["state"]["summary_"]["n_averaged"]

    loaded = mlpfit.load(rewrite(tmp_path / "m.npz", tmp_path / "old.npz", as_older_mlpfit_wrote_it))
    assert loaded.n_averaged_ == 1 and loaded.summary_ == model.summary_
    assert np.array_equal(loaded.predict(X), model.predict(X))


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
