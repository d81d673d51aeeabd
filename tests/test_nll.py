"""The Gaussian negative log-likelihood: its gradient, its value, and the solvers that train on it."""

import warnings

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlpfit import NeuralRegressor, diagnose, gradient_check, load, save
from mlpfit import _nll
from mlpfit._network import Architecture, loss_and_grad
from mlpfit.solvers import Monitor, TrainingProblem

@parametrize_with_checks([NeuralRegressor(loss="gaussian_nll", random_state=0)])
def test_scikit_learn_compatible_with_the_nll(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


ACTIVATIONS = ["relu", "leaky_relu", "tanh", "logistic", "softplus", "identity"]


def _data(n_outputs, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 2))
    Y = np.column_stack([np.sin(X[:, 0] + j) * (1 + j) for j in range(n_outputs)]) + 0.2 * rng.normal(size=(30, n_outputs))
    return X, Y


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("hidden", [(6,), (4, 3, 5)])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_gradient_check_is_small_for_the_nll(activation, hidden, n_outputs):
    X, Y = _data(n_outputs)
    estimator = NeuralRegressor(hidden, activation, loss="gaussian_nll", alpha=0.5, random_state=1)
    assert gradient_check(estimator, X, Y) < 1e-6


@pytest.mark.parametrize("raw_shift", [-12.0, 0.0, 6.0])
def test_nll_gradient_matches_finite_differences_from_tiny_to_large_variances(raw_shift):
    X, Y = _data(2)
    arch = Architecture((2, 5, 4), "tanh")
    theta = np.random.default_rng(2).normal(size=arch.n_params)
    theta[arch.slices[-1][1]][2:] += raw_shift  # the raw-variance biases
    analytic = _nll.loss_and_grad(arch, theta, X, Y, alpha=0.1)[1]
    eps = 1e-6
    numeric = np.array([
        (_nll.loss_and_grad(arch, theta + eps * e, X, Y, 0.1)[0] - _nll.loss_and_grad(arch, theta - eps * e, X, Y, 0.1)[0]) / (2 * eps)
        for e in np.eye(arch.n_params)
    ])
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7 * np.abs(numeric).max())


def test_nll_with_unit_variance_is_squared_error_plus_a_constant():
    X, Y = _data(3)
    arch, mean_arch = Architecture((2, 4, 6), "relu"), Architecture((2, 4, 3), "relu")
    mean_theta = np.random.default_rng(3).normal(size=mean_arch.n_params)
    (W1, W2), (b1, b2) = mean_arch.unpack(mean_theta)
    raw_bias = np.full(3, np.log(np.expm1(1.0 - _nll.VARIANCE_FLOOR)))  # softplus(raw) + floor == 1
    theta = arch.pack([W1, np.hstack([W2, np.zeros((4, 3))])], [b1, np.r_[b2, raw_bias]])
    nll = _nll.loss_and_grad(arch, theta, X, Y, alpha=0.3)[0]
    squared = loss_and_grad(mean_arch, mean_theta, X, Y, alpha=0.3)[0]
    assert nll == pytest.approx(squared + 3 * np.log(2 * np.pi) / 2, rel=1e-12)


def test_validation_loss_is_the_mean_negative_log_likelihood():
    X, Y = _data(1)
    arch = Architecture((2, 5, 2), "tanh")
    theta = np.random.default_rng(4).normal(size=arch.n_params)
    problem = TrainingProblem(arch, X[:20], Y[:20], 1.0, X[20:], Y[20:], loss="gaussian_nll")
    mean, variance = _nll.mean_and_variance(np.tanh(X[20:] @ arch.unpack(theta)[0][0] + arch.unpack(theta)[1][0])
                                            @ arch.unpack(theta)[0][1] + arch.unpack(theta)[1][1])
    expected = -np.mean(norm.logpdf(Y[20:], mean, np.sqrt(variance)))
    assert problem.validation_loss(theta) == pytest.approx(expected, rel=1e-12)


def test_least_squares_solvers_refuse_the_nll():
    X, Y = _data(1)
    problem = TrainingProblem(Architecture((2, 3, 2), "relu"), X, Y, loss="gaussian_nll")
    with pytest.raises(ValueError, match="loss='gaussian_nll' is not a sum of squares"):
        problem.residuals_and_jacobian(np.zeros(problem.arch.n_params))


@pytest.mark.parametrize("solver", ["lbfgs", "adam", "sgd"])
def test_every_gradient_solver_learns_the_noise_level(solver):
    rng = np.random.default_rng(5)
    x = rng.uniform(-3, 3, 600)
    true_std = 0.1 + 0.2 * np.abs(x)
    y = np.sin(x) + true_std * rng.normal(size=x.size)
    # The NLL plateaus early while the variance head explains everything as noise: give Adam/SGD patience.
    model = NeuralRegressor(
        20, loss="gaussian_nll", solver=solver, learning_rate_init=0.01, max_iter=1500,
        n_iter_no_change=100, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x[:, None], y)
    grid = np.linspace(-2.5, 2.5, 50)[:, None]
    mean, std = model.predict(grid, return_std=True)
    assert np.sqrt(np.mean((mean - np.sin(grid[:, 0])) ** 2)) < 0.1
    np.testing.assert_allclose(std, 0.1 + 0.2 * np.abs(grid[:, 0]), rtol=0.35)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_return_std_needs_the_nll_loss():
    X, Y = _data(1)
    model = NeuralRegressor(max_iter=20).fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="return_std=True.*needs loss='gaussian_nll'"):
        model.predict(X, return_std=True)


def test_nll_predictions_keep_the_target_shape_and_units():
    X, Y = _data(3)
    model = NeuralRegressor(loss="gaussian_nll", max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mean, std = model.fit(X, 1000 * Y).predict(X, return_std=True)
        mean_1d, std_1d = model.fit(X, 1000 * Y[:, 0]).predict(X, return_std=True)
    assert mean.shape == std.shape == (30, 3) and mean_1d.shape == std_1d.shape == (30,)
    assert 10 < np.median(std) < 1000 and np.all(std_1d > 0)


def test_bad_loss_is_a_value_error():
    with pytest.raises(ValueError, match="loss must be one of 'squared_error', 'gaussian_nll'; got 'l1'"):
        NeuralRegressor(loss="l1").fit(*_data(1))


def test_a_negative_first_loss_does_not_count_as_divergence():
    """The NLL can be negative; the divergence test compares against the first loss's magnitude."""
    X, Y = _data(1)
    monitor = Monitor(TrainingProblem(Architecture((2, 3, 2), "relu"), X, Y, loss="gaussian_nll"), 0.0, 10)
    theta = np.zeros(monitor.problem.arch.n_params)
    assert not monitor.update(theta, -1.0) and not monitor.update(theta, -0.5)
    assert monitor.update(theta, 2e4) and monitor.stop_reason == "diverged"


def test_diagnose_and_breakpoints_read_the_mean_network_of_an_nll_model():
    rng = np.random.default_rng(6)
    x = rng.uniform(-3, 3, 300)
    y = np.sin(x) + (0.1 + 0.2 * np.abs(x)) * rng.normal(size=x.size)
    model = NeuralRegressor(loss="gaussian_nll", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x[:, None], y)
    grid = np.linspace(-3, 3, 101)[:, None]
    np.testing.assert_allclose(model.breakpoints()(grid[:, 0]), model.predict(grid), atol=1e-9)
    assert not [f for f in diagnose(model, x[:, None], y).findings if f.severity == "error"]


def test_a_saved_nll_model_predicts_the_same_noise(tmp_path):
    X, Y = _data(2)
    model = NeuralRegressor(loss="gaussian_nll", max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, Y)
    save(model, tmp_path / "nll.npz")
    np.testing.assert_array_equal(load(tmp_path / "nll.npz").predict(X, return_std=True), model.predict(X, return_std=True))


@pytest.mark.parametrize("params", [{"solver": "lm"}, {"alpha": "bayes"}])
def test_levenberg_marquardt_refuses_the_nll(params):
    with pytest.raises(ValueError, match="loss='gaussian_nll' is not a sum of squares, so Levenberg-Marquardt cannot"):
        NeuralRegressor(loss="gaussian_nll", **params).fit(*_data(1))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_auto_picks_a_gradient_solver_for_the_nll():
    X, Y = _data(1)
    assert NeuralRegressor(max_iter=20).fit(X, Y).summary_.solver == "lm"
    assert NeuralRegressor(loss="gaussian_nll", max_iter=20).fit(X, Y).summary_.solver == "lbfgs"
