"""NeuralRegressor as a scikit-learn estimator and as a curve fitter on raw data."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlpfit import NeuralRegressor, _selection
from mlpfit._network import loss_and_grad
from mlpfit._plan import AUTO_AVERAGED, AUTO_MAX_HINGES, AUTO_MIN_UNITS, AUTO_UNITS_ONE_INPUT
from mlpfit._selection import selected_hinge_network
from mlpfit.cli.demo import BROKEN_CONFIGURATION
from mlpfit.datasets import make_curve, make_origin, origin_truth


@parametrize_with_checks(
    [NeuralRegressor(random_state=0), NeuralRegressor(solver="lm", alpha=1e-3, init="he", random_state=0)],
)
def test_scikit_learn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def _rmse_to_truth(predict, seed):
    X_test, _ = make_origin(2000, random_state=1000 + seed)
    return np.sqrt(np.mean((predict(X_test) - origin_truth(X_test)) ** 2))


@pytest.mark.parametrize("seed", range(5))
def test_origin_problem_is_fitted_from_raw_data_with_defaults(seed):
    X, y = make_origin(random_state=seed)
    model = NeuralRegressor(random_state=seed).fit(X, y)
    line = np.polyfit(X[:, 0], y, 1)
    assert _rmse_to_truth(model.predict, seed) <= 0.40 < _rmse_to_truth(lambda A: np.polyval(line, A[:, 0]), seed)


def test_failing_program_configuration_draws_a_straight_line():
    """init="normal", init_scale=0.01, raw data, plain gradient descent: the trap mlpfit avoids."""
    X, y = make_origin(random_state=0)
    broken = NeuralRegressor(**{**BROKEN_CONFIGURATION, "max_iter": 2000}, random_state=0)  # the same line, sooner
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        broken.fit(X, y)
    # Zero biases put every breakpoint at x = 0, the edge of the data.
    np.testing.assert_array_less(np.abs(broken.intercepts_[0]), 1e-4 * np.abs(broken.coefs_[0][0]) * 1000)
    assert _rmse_to_truth(broken.predict, 0) > 2.0


def test_same_random_state_gives_identical_fits():
    X, y = make_origin(random_state=1)
    first = NeuralRegressor(random_state=7, n_restarts=2).fit(X, y).predict(X)
    second = NeuralRegressor(random_state=7, n_restarts=2).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("weighted", [False, True])
def test_a_fit_leaves_the_callers_arrays_as_they_were(weighted):
    # the fit standardises its own copy of the rows in place; the caller's must not be that copy
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 2)), rng.normal(size=300)
    w = rng.uniform(0.5, 2, 300) if weighted else None
    given = [A.copy() for A in (X, y, w) if A is not None]
    NeuralRegressor((5,), max_iter=3, random_state=0).fit(X, y, w)
    for before, after in zip(given, (X, y, w)):
        np.testing.assert_array_equal(before, after)


def test_restarts_keep_the_lowest_loss():
    X, y = make_origin(random_state=2)
    model = NeuralRegressor(n_restarts=4, n_averaged=1, random_state=0).fit(X, y)
    assert len(model.summary_.restart_losses) == 4
    assert model.loss_ == min(model.summary_.restart_losses)


def test_averaging_halves_the_variance_a_fit_owes_to_its_start():
    X, y, _ = make_curve("sinc", random_state=0)
    grid = np.linspace(X.min(), X.max(), 500)[:, None]

    def spread(n_averaged):
        fits = [NeuralRegressor(n_averaged=n_averaged, random_state=seed).fit(X, y).predict(grid) for seed in range(6)]
        return np.mean(np.var(fits, axis=0))

    assert spread(2) < 0.75 * spread(1)  # 0.49 measured; independent starts would give 0.5


def test_averaged_networks_sit_side_by_side_in_one_network():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(120, 2))
    y = np.sin(X[:, 0]) * X[:, 1] + 0.05 * rng.normal(size=120)
    model = NeuralRegressor(6, "tanh", alpha=1e-3, n_averaged=2, n_restarts=2, random_state=0).fit(X, y)
    assert model.n_averaged_ == 2 and model.architecture_.layer_sizes == (2, 12, 1)
    assert model.summary_.n_restarts == 2 and len(model.summary_.restart_losses) == 4
    W = model.coefs_[0]
    assert not np.allclose(W[:, :6], W[:, 6:])  # two networks from their own starts
    assert np.sqrt(np.mean((model.predict(X) - y) ** 2)) < 0.1
    standardized = model.x_scaler_.transform(X), model.y_scaler_.transform(y[:, None])
    assert model.loss_ == pytest.approx(loss_and_grad(model.architecture_, model.theta_, *standardized, 1e-3)[0])


def test_averaged_networks_trained_in_processes_match_the_serial_fit():
    X, y = make_origin(random_state=3)
    serial = NeuralRegressor(n_averaged=2, n_restarts=2, random_state=0).fit(X, y)
    parallel = NeuralRegressor(n_averaged=2, n_restarts=2, n_jobs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(parallel.theta_, serial.theta_)
    assert parallel.summary_.restart_losses == serial.summary_.restart_losses


def test_averaged_bayesian_networks_report_their_mean_evidence():
    X = np.random.default_rng(1).uniform(-2, 2, size=(150, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * np.random.default_rng(2).normal(size=150)
    model = NeuralRegressor(n_averaged=2, random_state=0).fit(X, y)
    assert model.n_averaged_ == 2 and model.summary_.solver == "lm" and model.effective_params_ > 0
    assert model.alpha_ == pytest.approx(model.weight_precision_ / model.noise_precision_)
    assert model.effective_params_ < model.architecture_.n_params / 2  # below one network's weight count


@pytest.mark.parametrize("solver, n_rows, expected", [("lm", 500, AUTO_AVERAGED), ("lbfgs", 500, 1), ("lm", 20_000, 1)])
def test_auto_averages_where_fits_are_cheap(solver, n_rows, expected):
    X, y = make_origin(n_rows, random_state=0)
    model = NeuralRegressor(100, solver=solver, max_iter=2, random_state=0).fit(X, y)  # 20,000 x 301**2 > 1e9
    assert model.n_averaged_ == expected


@pytest.mark.parametrize("solver, learning_rate", [("lbfgs", None), ("adam", 1e-2), ("sgd", 5e-2)])
def test_every_solver_fits_a_sine(solver, learning_rate):
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(300, 1))
    y = np.sin(X[:, 0]) + 0.05 * rng.normal(size=300)
    model = NeuralRegressor((20,), "tanh", solver=solver, max_iter=3000, random_state=0)
    if learning_rate:
        model.set_params(learning_rate_init=learning_rate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    grid = np.linspace(-3, 3, 200)[:, None]
    assert np.sqrt(np.mean((model.predict(grid) - np.sin(grid[:, 0])) ** 2)) < 0.1
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_multi_output_and_multivariate_input():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(400, 3)) * [1, 100, 0.01]  # wildly different column scales
    Z = X / [1, 100, 0.01]
    Y = np.column_stack([Z[:, 0] * Z[:, 1], np.sin(Z[:, 2]) + Z[:, 0]])
    model = NeuralRegressor((20,), random_state=0).fit(X, Y)
    assert model.predict(X).shape == (400, 2)
    assert model.score(X, Y) > 0.95


def test_two_dimensional_y_with_one_column_keeps_its_shape():
    X, y = make_origin(60, random_state=0)
    model = NeuralRegressor(max_iter=20).fit(X, y[:, None])
    assert model.predict(X).shape == (60, 1)
    assert NeuralRegressor(max_iter=20).fit(X, y).predict(X).shape == (60,)


def test_constant_column_does_not_produce_nan():
    X, y = make_origin(100, random_state=0)
    X = np.column_stack([X, np.full(100, 5.0)])
    model = NeuralRegressor(random_state=0).fit(X, y)
    assert np.all(np.isfinite(model.predict(X)))
    constant_target = NeuralRegressor(random_state=0).fit(X, np.full(100, 3.0))
    np.testing.assert_allclose(constant_target.predict(X), 3.0, atol=1e-3)


def test_early_stopping_restores_the_best_validation_weights():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(60, 1))
    y = rng.normal(size=60)  # pure noise: validation loss rises as the net overfits
    model = NeuralRegressor(
        (50,), solver="adam", early_stopping=True, learning_rate_init=1e-2, max_iter=2000, random_state=0
    ).fit(X, y)
    assert model.summary_.stop_reason == "early_stopping"
    assert len(model.validation_loss_curve_) == len(model.loss_curve_)
    best = int(np.argmin(model.validation_loss_curve_))
    assert best < len(model.validation_loss_curve_) - 1


def test_pipeline_and_grid_search():
    X, y = make_origin(200, random_state=0)
    search = GridSearchCV(NeuralRegressor(random_state=0), {"activation": ["identity", "relu"]}, cv=3)
    search.fit(X, y)
    assert (
        search.best_params_["activation"] == "relu"
    )  # a straight line cannot follow sqrt(x): set_params reached the fit
    pipe = make_pipeline(PolynomialFeatures(1), clone(search.best_estimator_)).fit(X, y)
    assert pipe.score(X, y) > 0.9


def test_non_convergence_warns():
    X, y = make_origin(random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        model = NeuralRegressor(max_iter=3, random_state=0).fit(X, y)
    assert not model.summary_.success and "max_iter" in model.summary_.message


def test_divergence_warns_and_non_finite_weights_raise():
    X, y = make_origin(random_state=0)
    diverging = NeuralRegressor(solver="sgd", standardize=False, learning_rate_init=1e-3, random_state=0)
    with pytest.warns(ConvergenceWarning, match="Diverged"):
        diverging.fit(X, y)
    assert diverging.summary_.stop_reason == "diverged" and not diverging.summary_.success
    with pytest.raises(ValueError, match="non-finite weights"):
        diverging.set_params(learning_rate_init=1e300).fit(X, y)


@pytest.mark.parametrize(
    "X, y, message",
    [
        ([[1.0], [np.nan], [3.0]], [1.0, 2.0, 3.0], "NaN"),
        ([[1.0], [np.inf], [3.0]], [1.0, 2.0, 3.0], "infinity"),
        ([[1.0], [2.0], [3.0]], [1.0, np.nan, 3.0], "NaN"),
        ([[1.0], [2.0], [3.0]], [1.0, 2.0], "inconsistent numbers of samples"),
        ([[1.0]], [1.0], "1 sample"),
        ([[1.0], ["a"], [3.0]], [1.0, 2.0, 3.0], "column 0 of X has the text 'a' in row 1 among numbers"),
        ([[1.0], [2.0], [3.0]], ["x", "y", "z"], "numeric|could not convert"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], "2D array"),
    ],
)
def test_bad_data_raises_a_clear_value_error(X, y, message):
    with pytest.raises(ValueError, match=message):
        NeuralRegressor().fit(X, y)


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"hidden_layer_sizes": (10, 0)},
            r"hidden_layer_sizes must be one of 'auto' or a positive int or a non-empty tuple",
        ),
        ({"activation": "sigmoid"}, r"activation must be one of 'relu'.*got 'sigmoid'"),
        ({"solver": "newton"}, r"solver must be one of 'auto'.*got 'newton'"),
        ({"alpha": -1.0}, r"alpha must be a float in \[0, inf\) or one of 'auto', 'bayes'; got -1.0"),
        ({"max_iter": 0}, r"max_iter must be one of 'auto' or an int in \[1, inf\); got 0"),
        ({"n_averaged": 0}, r"n_averaged must be one of 'auto' or an int in \[1, inf\); got 0"),
        ({"validation_fraction": 1.0}, r"validation_fraction must be a float in \(0, 1\); got 1.0"),
        ({"batch_size": 0}, r"batch_size must be one of 'auto' or an int"),
        ({"init": "zeros"}, r"init must be one of 'auto', 'breakpoints', 'he', 'glorot', 'normal'; got 'zeros'"),
        ({"learning_rate_init": 0.0}, r"learning_rate_init must be a float in \(0, inf\)"),
        ({"standardize": "yes"}, r"standardize must be a bool; got 'yes'"),
        ({"tol": float("nan")}, r"tol must be one of 'auto' or a float"),
    ],
)
def test_bad_parameters_raise_a_value_error_naming_them(params, message):
    X, y = make_origin(50, random_state=0)
    with pytest.raises(ValueError, match=message):
        NeuralRegressor(**params).fit(X, y)


@pytest.mark.filterwarnings("ignore")  # three iterations: ConvergenceWarning and FitWarning are expected
def test_auto_hidden_layer_is_wider_for_one_input():
    rng = np.random.default_rng(0)
    X1, X3 = rng.uniform(size=(40, 1)), rng.uniform(size=(40, 3))
    one = dict(max_iter=3, n_averaged=1)
    assert NeuralRegressor("auto", "tanh", **one).fit(X1, X1[:, 0]).architecture_.layer_sizes == (1, 30, 1)
    assert NeuralRegressor(init="breakpoints", **one).fit(X1, X1[:, 0]).architecture_.layer_sizes == (1, 30, 1)
    assert NeuralRegressor(**one).fit(X3, X3.sum(axis=1)).architecture_.layer_sizes == (3, 10, 1)
    assert NeuralRegressor(7, **one).fit(X1, X1[:, 0]).architecture_.layer_sizes == (1, 7, 1)
    nll = NeuralRegressor(loss="gaussian_nll", **one).fit(X1, X1[:, 0])
    assert nll.architecture_.layer_sizes == (1, 30, 2)  # a mean and a variance on the same 30 units


def test_auto_width_on_one_input_is_the_selected_hinges():
    # hinge units from init="auto": as many as the forward selection keeps, so a line gets the
    # fewest (AUTO_MIN_UNITS) and a wiggly curve many, up to AUTO_MAX_HINGES
    x = np.linspace(0, 1, 400)[:, None]
    wiggly = np.sin(40 * x) + 0.01 * np.cos(97 * x)
    line = NeuralRegressor(n_averaged=1, random_state=0).fit(x, 2 * x[:, 0])
    wiggle = NeuralRegressor(n_averaged=1, random_state=0).fit(x, wiggly[:, 0])
    assert line.architecture_.layer_sizes[1] == AUTO_MIN_UNITS
    assert 15 <= wiggle.architecture_.layer_sizes[1] <= AUTO_MAX_HINGES
    assert wiggle.score(x, np.sin(40 * x[:, 0])) > 0.99
    # every unit starts in use: the selection's own start, not free units at zero output weight
    assert wiggle.plan_.selects_width and wiggle.plan_.init == "selection"
    xs = (x - x.mean()) / x.std()
    arch, start = selected_hinge_network(
        xs, wiggly, AUTO_MAX_HINGES, "relu", np.random.default_rng(0), None, AUTO_MIN_UNITS, AUTO_UNITS_ONE_INPUT
    )
    assert arch.layer_sizes[1] < AUTO_UNITS_ONE_INPUT or np.all(arch.unpack(start)[0][1] != 0)


def test_free_units_on_a_smooth_curve_bring_the_fit_closer_to_the_truth(monkeypatch):
    # sin on 100 noisy points: the selection keeps 5-6 hinges, the smoothness rule widens to 30
    grid = np.linspace(0, 2 * np.pi, 500)[:, None]

    def fits():
        errors, widths = [], []
        for seed in range(6):
            rng = np.random.default_rng(seed)
            X = rng.uniform(0, 2 * np.pi, (100, 1))
            model = NeuralRegressor(n_averaged=1, random_state=seed).fit(
                X, np.sin(X[:, 0]) + 0.1 * rng.normal(size=100)
            )
            errors.append(np.sqrt(np.mean((model.predict(grid) - np.sin(grid[:, 0])) ** 2)))
            widths.append(model.architecture_.layer_sizes[1])
        return np.mean(errors), widths

    widened, wide = fits()
    monkeypatch.setattr(_selection, "SMOOTH_GCV_RATIO", 0.0)
    selected, narrow = fits()
    assert wide == [AUTO_UNITS_ONE_INPUT] * 6 and max(narrow) < AUTO_UNITS_ONE_INPUT
    assert widened < 0.9 * selected


@pytest.mark.parametrize("solver, tol", [("lm", 1e-5), ("lbfgs", 1e-9)])
def test_auto_tol_is_chosen_per_solver(solver, tol):
    X, y = make_origin(random_state=0)
    auto = NeuralRegressor(solver=solver, random_state=0).fit(X, y)
    explicit = NeuralRegressor(solver=solver, tol=tol, random_state=0).fit(X, y)
    other = NeuralRegressor(solver=solver, tol=tol * 1e3, random_state=0).fit(X, y)
    assert auto.n_iter_ == explicit.n_iter_ >= other.n_iter_
    np.testing.assert_array_equal(auto.predict(X), explicit.predict(X))
