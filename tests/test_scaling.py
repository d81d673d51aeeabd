"""Standardisation over the whole float64 range: data near 1e300 or 1e-300 fit, or fail with a reason."""

import re
import warnings

import numpy as np
import pytest
from sklearn.metrics import r2_score

import mlpfit
from mlpfit import NeuralRegressor, diagnose
from mlpfit.cli import main

RNG = np.random.default_rng(0)
X = RNG.uniform(0, 1, (60, 1))
Y = np.sin(3 * X[:, 0])


@pytest.mark.parametrize("magnitude", [1e-300, 1e-200, 1.0, 1e200, 1e300])
def test_standardisation_matches_numpy_where_numpy_does_not_overflow_and_keeps_working_where_it_does(magnitude):
    scaler = fitted_quietly(X * magnitude, Y, max_iter=1).x_scaler_
    assert np.allclose(scaler.mean / magnitude, X.mean(axis=0), rtol=1e-14)
    assert np.allclose(scaler.scale / magnitude, X.std(axis=0), rtol=1e-14)
    assert np.allclose(scaler.transform(X * magnitude), (X - X.mean(axis=0)) / X.std(axis=0))


def test_constant_and_zero_columns_get_scale_one():
    A = np.c_[np.zeros(5), np.full(5, 1e-300), np.full(5, 1e300), 1 + np.arange(5) * 1e-17]
    assert np.array_equal(fitted_quietly(A, np.arange(5.0), max_iter=1).x_scaler_.scale, np.ones(4))


def test_a_range_float64_cannot_hold_is_refused():
    A = np.array([[-1e308], [1e308], [0.0]])
    with pytest.raises(ValueError, match="column 0 spans from -1e\\+308 to 1e\\+308, a range float64 cannot hold"):
        NeuralRegressor(max_iter=1).fit(A, [0.0, 1.0, 2.0])


@pytest.mark.parametrize(
    "x_scale, y_scale",
    [(1e299, 1e299), (1, 1e-300), (1e300, 1), (1e-300, 1)],
    ids=["x and y near 1e299", "y near 1e-300", "x near 1e300", "x near 1e-300"],
)
def test_extreme_data_fit_as_well_as_unit_data(x_scale, y_scale):
    def relative_error(x_scale, y_scale):
        prediction = fitted_quietly(X * x_scale, Y * y_scale).predict(X * x_scale)
        assert np.all(np.isfinite(prediction))
        return np.sqrt(np.mean((prediction / y_scale - Y) ** 2))

    assert relative_error(x_scale, y_scale) == pytest.approx(relative_error(1, 1), rel=1e-3, abs=1e-6)


def fitted_quietly(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return NeuralRegressor(**{"random_state": 0, "max_iter": 50, **params}).fit(X, y)


@pytest.mark.parametrize("y_scale", [1e299, 1e-300])
def test_the_diagnosis_of_extreme_targets_matches_that_of_unit_targets(y_scale):
    # squared errors of such targets over- or underflow in their own units; the diagnosis holds them scaled
    unit = diagnose(fitted_quietly(X, Y, hidden_layer_sizes=(2,)), X, Y)
    extreme = diagnose(fitted_quietly(X, Y * y_scale, hidden_layer_sizes=(2,)), X, Y * y_scale)
    assert [f.code for f in extreme.findings] == [f.code for f in unit.findings] and "underfit" in str(unit)
    # the error is printed as an RMSE in the targets' own units, representable wherever the targets are
    rmse = [float(str(d).split("training RMSE ")[1].split()[0]) for d in (unit, extreme)]
    assert rmse[1] == pytest.approx(rmse[0] * y_scale, rel=1e-3)


@pytest.mark.parametrize("y_scale", [1e299, 1e-300])
def test_the_command_line_fits_and_reports_extreme_targets(tmp_path, capsys, y_scale):
    np.savetxt(tmp_path / "d.csv", np.c_[X, Y * y_scale], delimiter=",", header="x,y", comments="", fmt="%.17g")
    argv = ["fit", str(tmp_path / "d.csv"), "--x", "x", "--y", "y", "-o", str(tmp_path / "m.npz"), "--seed", "0"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow or invalid value along the way
        assert main(argv) == 0
    # the reported R^2 is the model's, computed without over- or underflow, and the fit is close
    reported = float(re.search(r"R\^2 (\S+)", capsys.readouterr().out).group(1))
    prediction = mlpfit.load(tmp_path / "m.npz").predict(X)
    assert np.all(np.isfinite(prediction))
    assert reported == pytest.approx(r2_score(Y, prediction / y_scale), abs=1e-4) and reported > 0.99
