"""A model fitted on a DataFrame keeps its column names through its file: ``predict`` on a DataFrame checks them as
scikit-learn does, and the file's ``columns`` name the inputs for ``mlpfit info`` and ``mlpfit predict``."""

import csv
import json

import numpy as np
import pandas as pd
import pytest

import mlpfit
from mlpfit import EnsembleRegressor, NeuralRegressor, io
from mlpfit.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(3)
FRAME = pd.DataFrame({"dose": RNG.uniform(0, 4, 40), "age": RNG.uniform(20, 60, 40)})
TARGET = pd.Series(np.sqrt(FRAME["dose"]) + 0.01 * FRAME["age"], name="response")


def fitted(kind):
    model = NeuralRegressor((3,), max_iter=5, random_state=0)
    if kind == "ensemble":
        model = EnsembleRegressor(model, n_estimators=2, random_state=0)
    return model.fit(FRAME, TARGET)


@pytest.fixture(params=["network", "ensemble"])
def saved(request, tmp_path):
    model = fitted(request.param)
    mlpfit.save(model, tmp_path / "m.npz")
    return model, tmp_path / "m.npz"


def test_feature_names_survive_save_and_load(saved):
    model, path = saved
    loaded, metadata = io.load_with_metadata(path)
    assert list(loaded.feature_names_in_) == ["dose", "age"] and loaded.feature_names_in_.dtype == object
    assert np.array_equal(loaded.predict(FRAME), model.predict(FRAME))
    assert metadata["columns"] == {"x": ["dose", "age"], "y": None}  # scikit-learn keeps no target name


def test_a_loaded_model_refuses_reordered_columns_as_the_fitted_one_does(saved):
    model, path = saved
    reordered = FRAME[["age", "dose"]]
    with pytest.raises(ValueError) as fitted_error:
        model.predict(reordered)
    with pytest.raises(ValueError) as loaded_error:
        mlpfit.load(path).predict(reordered)
    assert str(loaded_error.value) == str(fitted_error.value)
    assert "Feature names must be in the same order as they were in fit" in str(loaded_error.value)


def test_an_ensembles_members_keep_no_names_of_their_own(saved):
    model, path = saved
    if isinstance(model, EnsembleRegressor):
        loaded = mlpfit.load(path)
        assert not any(hasattr(member, "feature_names_in_") for member in loaded.estimators_)


def test_a_model_fitted_on_an_array_has_no_names_in_its_file(tmp_path):
    model = NeuralRegressor((3,), max_iter=5, random_state=0).fit(FRAME.to_numpy(), TARGET.to_numpy())
    mlpfit.save(model, tmp_path / "m.npz")
    loaded, metadata = io.load_with_metadata(tmp_path / "m.npz")
    assert not hasattr(loaded, "feature_names_in_") and metadata["columns"] is None


def test_columns_that_contradict_the_feature_names_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"columns x \[\"age\", \"dose\"\] differ from the feature names"):
        mlpfit.save(fitted("network"), tmp_path / "m.npz", columns={"x": ["age", "dose"], "y": ["response"]})
    assert not (tmp_path / "m.npz").exists()
    mlpfit.save(fitted("network"), tmp_path / "m.npz", columns={"x": ["dose", "age"], "y": ["response"]})
    assert io.load_with_metadata(tmp_path / "m.npz")[1]["columns"]["y"] == ["response"]


def test_feature_names_of_the_wrong_length_are_refused(saved, tmp_path):
    _, path = saved
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    metadata = json.loads(str(arrays.pop(io.METADATA_KEY)))
    metadata["model"]["state"]["feature_names_in"] = ["dose"]
    np.savez(tmp_path / "bad.npz", **{io.METADATA_KEY: np.array(json.dumps(metadata))}, **arrays)
    with pytest.raises(ValueError, match="feature_names_in names 1 inputs; the model has 2"):
        mlpfit.load(tmp_path / "bad.npz")


@pytest.mark.filterwarnings("error::UserWarning")  # no "X does not have valid feature names"
def test_cli_predict_and_info_match_by_the_saved_names(saved, tmp_path, capsys):
    model, path = saved
    new = FRAME.iloc[:5][["age", "dose"]].assign(id=range(5))  # another order, and a column the model ignores
    new.to_csv(tmp_path / "new.csv", index=False)
    assert main(["predict", str(path), str(tmp_path / "new.csv")]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0][:3] == ["dose", "age", "y0_predicted"]
    predicted = np.array([row[2] for row in rows[1:]], dtype=float)
    assert np.array_equal(predicted, model.predict(FRAME.iloc[:5]))
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "inputs (2): dose, age\noutputs (1): unnamed\n" in out
