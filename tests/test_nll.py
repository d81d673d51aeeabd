"""The heteroscedastic model: the variance head's likelihood and gradient, and fits through every solver."""

import warnings
from functools import partial

import _head
import numpy as np
import pytest
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlpfit import NeuralRegressor, _network, _nll, diagnose, gradient_check, load, save
from mlpfit._network import Architecture


@parametrize_with_checks([NeuralRegressor(loss="gaussian_nll", random_state=0)])
def test_scikit_learn_compatible_with_the_nll(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


ACTIVATIONS = ["relu", "leaky_relu", "tanh", "logistic", "softplus", "identity"]


def _data(n_outputs, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 2))
    Y = np.column_stack([np.sin(X[:, 0] + j) * (1 + j) for j in range(n_outputs)]) + 0.2 * rng.normal(
        size=(30, n_outputs)
    )
    return X, Y


def _head_problem(n_outputs, raw_shift=0.0, seed=2):
    rng = np.random.default_rng(seed)
    features = np.maximum(rng.normal(size=(40, 5)), 0.0)
    squared_residuals = rng.chisquare(1, size=(40, n_outputs)) * 0.3
    params = rng.normal(size=5 * n_outputs + n_outputs)
    params[-n_outputs:] += raw_shift  # the raw-variance biases
    return params, features, squared_residuals


@pytest.mark.parametrize("raw_shift", [-12.0, 0.0, 6.0])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_variance_head_gradient_matches_finite_differences_from_tiny_to_large_variances(raw_shift, n_outputs):
    params, features, squared_residuals = _head_problem(n_outputs, raw_shift)
    analytic = _head.loss_and_grad(params, features, squared_residuals, alpha=0.7)[1]
    eps = 1e-6
    numeric = np.array(
        [
            (
                _head.loss_and_grad(params + eps * e, features, squared_residuals, 0.7)[0]
                - _head.loss_and_grad(params - eps * e, features, squared_residuals, 0.7)[0]
            )
            / (2 * eps)
            for e in np.eye(params.size)
        ]
    )
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7 * np.abs(numeric).max())


def test_variance_head_loss_is_the_mean_negative_log_likelihood_plus_the_penalty():
    params, features, squared_residuals = _head_problem(2)
    weights, biases = params[:10].reshape(5, 2), params[10:]
    variance = np.logaddexp(0.0, features @ weights + biases) + _nll.VARIANCE_FLOOR
    nll = -np.sum(norm.logpdf(np.sqrt(squared_residuals), 0.0, np.sqrt(variance))) / len(features)
    loss = _head.loss_and_grad(params, features, squared_residuals, alpha=0.4)[0]
    assert loss == pytest.approx(nll + 0.4 * np.sum(weights**2) / (2 * len(features)), rel=1e-12)


def test_fitted_variance_head_recovers_the_variance_it_was_drawn_from():
    rng = np.random.default_rng(7)
    feature = rng.uniform(0, 3, 20_000)
    variance = np.logaddexp(0.0, 1.5 * feature - 1.0)  # a variance the head can represent exactly
    squared_residuals = (np.sqrt(variance) * rng.normal(size=feature.size))[:, None] ** 2
    weights, biases = _head.fit(feature[:, None], squared_residuals, alpha=1e-3)
    np.testing.assert_allclose([weights[0, 0], biases[0]], [1.5, -1.0], atol=0.1)


def _chunk_problem(weighted):
    """A deeper means' network (the head reads its last hidden layer), its 30 rows, what they stand for and the
    parameters of a head of 2 targets."""
    rng = np.random.default_rng(4)
    X, Y = _data(2)
    arch = Architecture((2, 5, 3, 2), "tanh")
    theta = rng.normal(size=arch.n_params)
    sample_weight = rng.uniform(0.1, 3, len(X)) if weighted else None
    n = sample_weight.sum() if weighted else len(X)
    return arch, theta, X, Y, sample_weight, n, rng.normal(size=3 * 2 + 2) * 0.5


@pytest.mark.parametrize("weighted", [False, True])
def test_the_head_over_row_chunks_of_the_means_network_is_the_head_on_all_rows_at_once(weighted):
    arch, theta, X, Y, w, n, params = _chunk_problem(weighted)
    activations, _ = _network.forward(arch, theta, X)
    features, squared_residuals = activations[-2], 1.3 * (Y - activations[-1]) ** 2
    loss, grad = _head.loss_and_grad(params, features, squared_residuals, 0.7, w)
    for chunk_rows in (1, 7, 29, 30, 100):
        chunks = _nll.network_chunks(arch, theta, X, Y, 1.3, w, chunk_rows)
        chunked_loss, chunked_grad = _nll.loss_and_grad_in_chunks(params, 3, chunks, n, 0.7)
        assert chunked_loss == pytest.approx(loss, rel=1e-12)
        np.testing.assert_allclose(chunked_grad, grad, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("weighted", [False, True])
def test_the_head_gradient_over_row_chunks_matches_finite_differences(weighted):
    arch, theta, X, Y, w, n, params = _chunk_problem(weighted)

    def loss_and_grad(params):
        return _nll.loss_and_grad_in_chunks(params, 3, _nll.network_chunks(arch, theta, X, Y, 1.3, w, 7), n, 0.7)

    eps = 1e-6
    numeric = [(loss_and_grad(params + eps * e)[0] - loss_and_grad(params - eps * e)[0]) / (2 * eps) for e in np.eye(8)]
    np.testing.assert_allclose(loss_and_grad(params)[1], numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_the_head_fitted_over_row_chunks_is_the_head_fitted_on_all_rows_at_once(weighted):
    arch, theta, X, Y, w, *_ = _chunk_problem(weighted)
    activations, _ = _network.forward(arch, theta, X)
    squared_residuals = 1.3 * (Y - activations[-1]) ** 2
    expected = _head.fit(activations[-2], squared_residuals, sample_weight=w)
    chunks = partial(_nll.network_chunks, arch, theta, X, Y, 1.3, w, 7)
    for fitted, wanted in zip(_nll.fit_head_in_chunks(3, chunks), expected):
        np.testing.assert_allclose(fitted, wanted, rtol=1e-9, atol=1e-10)


def test_the_head_rows_held_through_the_fit_are_those_computed_at_every_evaluation(monkeypatch):
    X, Y = _data(2)
    held = NeuralRegressor(6, "tanh", loss="gaussian_nll", random_state=0).fit(X, Y)
    monkeypatch.setattr(_nll, "HELD_HEAD_ENTRIES", 0)  # every evaluation computes the rows afresh
    fresh = NeuralRegressor(6, "tanh", loss="gaussian_nll", random_state=0).fit(X, Y)
    np.testing.assert_array_equal(held.theta_, fresh.theta_)


def test_the_head_rows_are_computed_once_when_small_and_at_every_call_when_not(monkeypatch):
    arch, theta, X, Y, w, *_ = _chunk_problem(False)
    calls = []
    monkeypatch.setattr(_network, "forward", _counted(_network.forward, calls))
    for entries, computed in [(len(X) * 5, 1), (len(X) * 5 - 1, 3)]:
        monkeypatch.setattr(_nll, "HELD_HEAD_ENTRIES", entries)  # the rows take len(X) * (3 hidden + 2 targets)
        calls.clear()
        rows = _nll.head_rows(arch, theta, X, Y)
        for _ in range(3):
            list(rows())
        assert len(calls) == computed * -(-len(X) // _network.default_gradient_chunk_rows(arch))


def _counted(function, calls):
    def counted(*args, **kwargs):
        calls.append(1)
        return function(*args, **kwargs)

    return counted


def test_the_nll_model_keeps_the_squared_error_means_and_appends_the_head():
    X, Y = _data(2)
    means = NeuralRegressor(6, "tanh", random_state=0).fit(X, Y)
    model = NeuralRegressor(6, "tanh", loss="gaussian_nll", random_state=0).fit(X, Y)
    np.testing.assert_allclose(model.predict(X), means.predict(X), rtol=1e-12, atol=1e-14)
    width = 6 * model.n_averaged_  # the averaged networks of 6 units side by side
    assert model.n_averaged_ > 1 and model.coefs_[-1].shape == (width, 4) and model.intercepts_[-1].shape == (4,)
    assert gradient_check(model, X, Y) < 1e-6  # the means' objective, at the fitted weights


def test_variance_is_inflated_by_the_effective_number_of_parameters():
    """In-sample residuals are smaller than fresh ones by (N - gamma) / N; the head undoes it."""
    rng = np.random.default_rng(8)
    x = rng.uniform(-3, 3, (60, 1))
    y = np.sin(x[:, 0]) + 0.3 * rng.normal(size=60)
    model = NeuralRegressor(20, loss="gaussian_nll", random_state=0).fit(x, y)
    in_sample = np.mean((y - model.predict(x)) ** 2)
    predicted = np.mean(model.predict(rng.uniform(-3, 3, (5000, 1)), return_std=True)[1] ** 2)
    assert in_sample < 0.75 * 0.3**2  # the residuals the head is fitted to run small ...
    assert abs(predicted - 0.3**2) < 0.8 * abs(
        in_sample - 0.3**2
    )  # ... and the inflation brings it closer to the truth


@pytest.mark.parametrize("solver", ["lm", "lbfgs", "adam", "sgd"])
def test_every_solver_learns_the_noise_level(solver):
    rng = np.random.default_rng(5)
    x = rng.uniform(-3, 3, 600)
    true_std = 0.1 + 0.2 * np.abs(x)
    y = np.sin(x) + true_std * rng.normal(size=x.size)
    model = NeuralRegressor(
        loss="gaussian_nll",
        solver=solver,
        learning_rate_init=0.01,
        max_iter=1500,
        n_iter_no_change=100,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x[:, None], y)
    grid = np.linspace(-2.5, 2.5, 50)[:, None]
    mean, std = model.predict(grid, return_std=True)
    assert np.sqrt(np.mean((mean - np.sin(grid[:, 0])) ** 2)) < 0.1
    # The variance head reads the means' hidden units, which have few kinks where sin(x) is straight,
    # so the noise's own kink at 0 comes out rounded: judge the whole curve, and bound the worst point.
    log_ratio = np.log(std / (0.1 + 0.2 * np.abs(grid[:, 0])))
    assert np.sqrt(np.mean(log_ratio**2)) < 0.2 and np.abs(log_ratio).max() < 0.5


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_return_std_needs_the_nll_loss():
    X, Y = _data(1)
    model = NeuralRegressor(max_iter=20).fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="return_std=True.*needs a model fitted with loss='gaussian_nll'"):
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


def test_diagnose_and_breakpoints_read_the_mean_network_of_an_nll_model():
    rng = np.random.default_rng(6)
    x = rng.uniform(-3, 3, 300)
    y = np.sin(x) + (0.1 + 0.2 * np.abs(x)) * rng.normal(size=x.size)
    model = NeuralRegressor(loss="gaussian_nll", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x[:, None], y)
    grid = np.linspace(-3, 3, 101)[:, None]
    np.testing.assert_allclose(model.piecewise_linear()(grid[:, 0]), model.predict(grid), atol=1e-9)
    assert not [f for f in diagnose(model, x[:, None], y).findings if f.severity == "error"]


def test_a_saved_nll_model_predicts_the_same_noise(tmp_path):
    X, Y = _data(2)
    model = NeuralRegressor(loss="gaussian_nll", max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, Y)
    save(model, tmp_path / "nll.npz")
    np.testing.assert_array_equal(
        load(tmp_path / "nll.npz").predict(X, return_std=True), model.predict(X, return_std=True)
    )


def test_bayesian_regularisation_fits_the_means_of_an_nll_model():
    X, Y = _data(1)
    model = NeuralRegressor(loss="gaussian_nll", alpha="bayes", random_state=0).fit(X, Y)
    assert model.summary_.solver == "lm" and 0 < model.effective_params_ < model.architecture_.n_params
    assert np.all(model.predict(X, return_std=True)[1] > 0)


def test_predictions_follow_the_fitted_network_not_a_later_loss_parameter():
    X, Y = _data(2)
    model = NeuralRegressor(6, "tanh", loss="gaussian_nll", random_state=0).fit(X, Y)
    mean, std = model.predict(X, return_std=True)
    model.set_params(loss="squared_error")
    np.testing.assert_array_equal(model.predict(X), mean)
    np.testing.assert_array_equal(model.predict(X, return_std=True)[1], std)
