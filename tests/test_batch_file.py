"""A CurveBatch in one model file: bit-identical round trips, a layout whose entries do not grow with the number
of curves, and every damaged field refused with a ValueError naming it."""

import re
import zipfile

import numpy as np
import pytest
from test_io import assign, check_damaged_copies, rewrite, set_array, set_field

import mlpfit
from mlpfit import CurveBatch, NeuralRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning", "ignore::UserWarning")


def _curves(n_curves, seed=0):
    """Curves of different lengths, kinked (few hinges) and smooth ones, by name; and one that cannot be fitted
    ("broken": NaN)."""
    rng = np.random.default_rng(seed)
    curves = {}
    for i in range(n_curves):
        x = np.sort(rng.uniform(0, 10, 40 + 10 * i))
        shape = np.abs(x - 3) + np.abs(x - 7) if i % 2 == 0 else np.sqrt(x) + np.sin(rng.uniform(0.5, 3) * x)
        curves[f"c{i}"] = x, shape + 0.02 * rng.normal(size=len(x))
    curves["broken"] = np.arange(5.0), np.array([1.0, np.nan, 2.0, 3.0, 4.0])
    return curves


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A fitted batch (default-width networks, which hinge selection makes of different widths per curve) and its
    file."""
    batch = CurveBatch(NeuralRegressor(random_state=0, n_averaged=1, max_iter=60)).fit(_curves(4))
    path = tmp_path_factory.mktemp("batch") / "curves.npz"
    mlpfit.save(batch, path)
    return batch, path


def test_a_batch_round_trips_bit_for_bit(saved):
    batch, path = saved
    loaded = mlpfit.load(path)
    widths = {estimator.fitted_.network.arch.layer_sizes for estimator in batch.estimators_.values()}
    assert len(widths) > 1  # the stacked layout is exercised with networks of different widths
    assert loaded.groups_ == batch.groups_ and loaded.errors_ == batch.errors_ and "broken" in loaded.errors_
    assert loaded.get_params()["estimator"].get_params() == batch.estimator.get_params()
    grid = np.linspace(-1, 12, 101)
    for group, estimator in batch.estimators_.items():
        np.testing.assert_array_equal(loaded.predict(group, grid), batch.predict(group, grid))
        assert loaded.estimators_[group].fitted_.runs == estimator.fitted_.runs
        assert loaded.estimators_[group].fitted_.plan == estimator.fitted_.plan
    for name, column in batch.summary_.items():
        assert loaded.summary_[name].dtype == column.dtype
        np.testing.assert_array_equal(loaded.summary_[name], column)


def test_integer_groups_and_a_default_estimator_round_trip(tmp_path):
    x = np.linspace(0, 1, 20)
    batch = CurveBatch(diagnose=False).fit(np.stack([x, x]), np.stack([x**2, np.sin(3 * x)]))
    mlpfit.save(batch, tmp_path / "b.npz")
    loaded = mlpfit.load(tmp_path / "b.npz")
    assert loaded.groups_ == [0, 1] and loaded.estimator is None
    np.testing.assert_array_equal(loaded.predict(1, x), batch.predict(1, x))


def _entries(path):
    with zipfile.ZipFile(path) as archive:
        return sorted(archive.namelist())


def test_the_file_has_a_few_stacked_entries_whatever_the_number_of_curves(saved, tmp_path):
    batch, path = saved
    more = CurveBatch(batch.estimator, diagnose=False).fit(_curves(8, seed=1))
    mlpfit.save(more, tmp_path / "more.npz")
    assert _entries(tmp_path / "more.npz") == _entries(path)
    assert all(re.fullmatch(r"(metadata|(curves|shapes)/.*)\.npy", name) for name in _entries(path))


@pytest.mark.parametrize(
    "groups, message",
    [([0.5, 1.5], "groups must be strings or integers; got 0.5"), ([(1, 2), (3, 4)], r"got \(1, 2\)")],
)
def test_groups_other_than_strings_and_integers_are_not_saved(tmp_path, groups, message):
    x = np.linspace(0, 1, 12)
    batch = CurveBatch(NeuralRegressor(hidden_layer_sizes=2, max_iter=5), diagnose=False)
    batch.fit({group: (x, x**2) for group in groups})
    with pytest.raises(ValueError, match=message):
        mlpfit.save(batch, tmp_path / "b.npz")
    assert not (tmp_path / "b.npz").exists()


def test_a_batch_without_a_fitted_curve_is_not_saved(tmp_path):
    batch = CurveBatch(diagnose=False).fit({"a": (np.arange(3.0), np.full(3, np.nan))})
    with pytest.raises(ValueError, match="no curve of the batch was fitted"):
        mlpfit.save(batch, tmp_path / "b.npz")


def _state(*keys, value):
    return set_field(*keys, value=value)


def _curve_field(index, key, value):
    def change(arrays, metadata):
        metadata["model"]["state"]["curves"][index][key] = value

    return change


def _summary_entry(name, index, value):
    def change(arrays, metadata):
        metadata["model"]["state"]["summary"][name][index] = value

    return change


@pytest.mark.parametrize(
    "change, message",
    [
        (_state("groups", value=["c0", "c0", "c2", "c3", "broken"]), "field 'groups' holds a group twice"),
        (_state("groups", value=[]), "field 'groups' must be a non-empty list of strings and integers"),
        (_state("groups", value=["c0", 1.5, "c2", "c3", "broken"]), "field 'groups' must be a non-empty list"),
        (_state("errors", value=[None, None]), "field 'errors' has 2 entries; there are 5 groups"),
        (_state("errors", value=[None, None, None, None, 7]), "field 'errors' must be a list of null or strings"),
        (_state("errors", value=[None, None, None, "gone", "why"]), "the batch saves 4 fitted curves; its errors"),
        (_curve_field(1, "plan", 9), r"curve 'c1': model metadata field 'plan' must be an index into the \d plans"),
        (_curve_field(2, "loss", None), "curve 'c2': model metadata field 'loss' must be a finite number"),
        (_state("summary", "rmse", value=[0.1] * 4), "'summary/rmse' must hold 5 entries"),
        (_state("summary", "n_iter", value=[1, 2, 3, -4, 0]), "'summary/n_iter' must hold 5 entries, each an integer"),
        (_state("summary", "stop_reason", value=["tol"] * 4 + ["bored"]), "'summary/stop_reason' must hold"),
        (_state("summary", "extra", value=[]), "field 'summary' must have exactly n_rows"),
        (_summary_entry("n_iter", 1, 999), r"'summary' gives curve 'c1' stop reason and iterations \[\"\w+\", 999\]"),
        (
            _summary_entry("stop_reason", 4, "tol"),
            r"gives curve 'broken' .* \[\"tol\", 0\]; its saved state \[\"\", 0\]",
        ),
        (_state("estimator_params", "activation", value="tanh"), "differ from the batch's estimator parameters"),
        (_state("estimator_params", "activation", value="swish"), "field 'activation' must be one of"),
        (lambda arrays, metadata: metadata["model"]["params"].update(diagnose="yes"), "diagnose must be"),
        (_state("arrays", value=["network/coefs/0", "oops"]), "no array 'shapes/oops'"),
        (set_array("shapes/network/coefs/0", assign((0, 1), 2.5)), "'shapes/network/coefs/0' must hold one or two"),
        (set_array("shapes/network/coefs/0", assign((0, 1), -3.0)), "'shapes/network/coefs/0' must hold one or two"),
        (set_array("shapes/network/coefs/1", assign(1, -1.0)), r"'curves/network/coefs/1' has shape \(\d+,\)"),
        (set_array("curves/network/coefs/0", lambda flat: flat[1:]), r"'curves/network/coefs/0' has shape \(\d+,\)"),
        (set_array("curves/network/coefs/0", assign(-1, np.nan)), "curve 'c3': array 'network/coefs/0' holds NaN"),
        (set_array("curves/x_range/min", assign(0, 99.0)), "curve 'c0': array 'x_range/min' exceeds"),
        (lambda arrays, metadata: arrays.update({"curves/extra": np.ones(2)}), "entry 'curves/extra' is not part"),
        (_state("columns", value={"x": ["t"], "y": ["v"], "group": 3}), "field 'group' must be a string"),
    ],
)
def test_crafted_batch_files_are_refused(saved, tmp_path, change, message):
    path = rewrite(saved[1], tmp_path / "bad.npz", change)
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))} is not a valid mlpfit model file: .*{message}"):
        mlpfit.load(path)


def test_a_curve_with_an_array_its_metadata_does_not_call_for_is_refused(saved, tmp_path):
    def add_run(arrays, metadata):
        n_curves = len(metadata["model"]["state"]["curves"])
        arrays["shapes/runs/5/loss_curve"] = np.array([[3.0]] + [[-1.0]] * (n_curves - 1))
        arrays["curves/runs/5/loss_curve"] = np.ones(3)
        metadata["model"]["state"]["arrays"].append("runs/5/loss_curve")

    path = rewrite(saved[1], tmp_path / "bad.npz", add_run)
    with pytest.raises(ValueError, match="curve 'c0': it has an array 'runs/5/loss_curve' its metadata does not call"):
        mlpfit.load(path)


def test_a_group_column_on_a_single_model_is_refused(tmp_path):
    model = NeuralRegressor(hidden_layer_sizes=2, max_iter=5).fit(np.arange(6.0)[:, None], np.arange(6.0))
    mlpfit.save(model, tmp_path / "m.npz", columns={"x": ["t"], "y": ["v"]})
    path = rewrite(tmp_path / "m.npz", tmp_path / "bad.npz", set_field("columns", "group", value="sensor"))
    with pytest.raises(ValueError, match="columns name a group column; a NeuralRegressor has no groups"):
        mlpfit.load(path)


def test_a_truncated_batch_file_is_refused(saved, tmp_path):
    data = saved[1].read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.npz is not an mlpfit model file"):
        mlpfit.load(tmp_path / "cut.npz")


def test_damaged_batch_files_load_as_saved_or_raise_value_error(tmp_path):
    x = np.linspace(0, 3, 12)
    curves = {"a": (x, x**2), "b": (x, np.sin(x)), "c": (x[:1], x[:1])}
    batch = CurveBatch(NeuralRegressor((2,), max_iter=10, random_state=0), diagnose=False).fit(curves)
    path = tmp_path / "b.npz"
    mlpfit.save(batch, path)

    def predicts_as_saved(loaded):
        assert len(loaded.estimators_) == len(batch.estimators_)
        for old, new in zip(batch.estimators_, loaded.estimators_):  # a group's name may have been changed
            predictions = loaded.predict(new, x)
            assert np.all(np.isfinite(predictions)) and np.array_equal(predictions, batch.predict(old, x))

    check_damaged_copies(path, path.read_bytes(), predicts_as_saved)


def test_curve_batch_load_reads_a_batch_file_and_refuses_another_model(saved, tmp_path):
    batch, path = saved
    loaded = CurveBatch.load(path)
    np.testing.assert_array_equal(
        loaded.predict("c1", np.linspace(0, 10, 9)), batch.predict("c1", np.linspace(0, 10, 9))
    )
    model = NeuralRegressor(hidden_layer_sizes=2, max_iter=5).fit(np.arange(6.0)[:, None], np.arange(6.0))
    mlpfit.save(model, tmp_path / "m.npz")
    with pytest.raises(ValueError, match="m.npz holds a NeuralRegressor, not a CurveBatch"):
        CurveBatch.load(tmp_path / "m.npz")
