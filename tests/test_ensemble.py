"""EnsembleRegressor: calibrated intervals, scikit-learn conventions, the same model on every joblib backend."""

import warnings

import joblib
import numpy as np
import pytest
from scipy.stats import norm
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from mlpfit import EnsembleRegressor, NeuralRegressor, make_plan

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def one_blas_thread():
    """The members' matrices are tiny: BLAS threads only add contention on a busy 2-core machine (5-15x slower)."""
    with threadpool_limits(1):
        yield


def _sine(n, seed, heteroscedastic=True):
    """y = sin(x) + noise on x ~ U(-3, 3); noise sd 0.1 + 0.2|x| (heteroscedastic) or 0.3."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, n)
    std = 0.1 + 0.2 * np.abs(x) if heteroscedastic else np.full(n, 0.3)
    return x[:, None], np.sin(x) + std * rng.normal(size=n), std


def _small(**params):
    """A quick ensemble: three short-trained members."""
    return EnsembleRegressor(
        **{"estimator": NeuralRegressor(max_iter=200), "n_estimators": 3, "random_state": 3, **params}
    )


@parametrize_with_checks([_small(), _small(noise="homoscedastic")])
def test_scikit_learn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.mark.parametrize(
    "heteroscedastic_data, noise",
    [(True, "heteroscedastic"), (False, "homoscedastic"), (False, "heteroscedastic")],
)
def test_intervals_are_calibrated_on_fresh_data(heteroscedastic_data, noise):
    X, y, _ = _sine(2000, 0, heteroscedastic_data)
    X_test, y_test, true_std = _sine(20_000, 1, heteroscedastic_data)
    model = EnsembleRegressor(noise=noise, random_state=0).fit(X, y)
    coverage = {}
    for level in (0.5, 0.95):
        lower, upper = model.predict_interval(X_test, level)
        coverage[level] = np.mean((lower <= y_test) & (y_test <= upper))
    assert 0.92 <= coverage[0.95] <= 0.98 and 0.44 <= coverage[0.5] <= 0.56, coverage
    # Judged against the noise-free truth too: the mean is sin(x), the log-likelihood that of the true model.
    mean = model.predict(X_test)
    assert np.sqrt(np.mean((mean - np.sin(X_test[:, 0])) ** 2)) < 0.08
    true_log_likelihood = np.mean(norm.logpdf(y_test, np.sin(X_test[:, 0]), true_std))
    assert model.log_likelihood(X_test, y_test) == pytest.approx(true_log_likelihood, abs=0.03)


def test_heteroscedastic_members_track_the_noise_and_beat_a_constant_noise_level():
    X, y, _ = _sine(2000, 2)
    X_test, y_test, true_std = _sine(2000, 3)
    heteroscedastic = EnsembleRegressor(random_state=0).fit(X, y)
    homoscedastic = EnsembleRegressor(noise="homoscedastic", random_state=0).fit(X, y)
    std = heteroscedastic.predict(X_test, return_std=True)[1]
    np.testing.assert_allclose(np.median(std / true_std), 1.0, atol=0.1)
    assert np.corrcoef(std, true_std)[0, 1] > 0.95
    assert heteroscedastic.log_likelihood(X_test, y_test) > homoscedastic.log_likelihood(X_test, y_test) + 0.1


def test_homoscedastic_noise_is_estimated_on_held_out_rows():
    X, y, _ = _sine(1000, 4, heteroscedastic=False)
    model = EnsembleRegressor(noise="homoscedastic", random_state=0).fit(X, y)
    assert model.noise_variances_.shape == (5,)
    np.testing.assert_allclose(model.noise_variances_, 0.3**2, rtol=0.25)
    assert all(member.loss == "squared_error" for member in model.estimators_)


def test_standard_deviation_combines_noise_and_disagreement():
    X, y, _ = _sine(200, 5)
    model = _small().fit(X, y)
    members = [member.predict(X, return_std=True) for member in model.estimators_]
    means, stds = np.array([m for m, _ in members]), np.array([s for _, s in members])
    mean, std = model.predict(X, return_std=True)
    np.testing.assert_allclose(mean, means.mean(axis=0))
    np.testing.assert_allclose(std**2, np.mean(stds**2 + means**2, axis=0) - mean**2, rtol=1e-8)
    lower, upper = model.predict_interval(X, 0.9)
    np.testing.assert_allclose((upper - lower) / 2, norm.ppf(0.95) * std)


@pytest.mark.parametrize("noise", ["heteroscedastic", "homoscedastic"])
def test_several_outputs_keep_their_shape(noise):
    X, y, _ = _sine(200, 6)
    Y = np.column_stack([y, 100 * y])
    model = _small(noise=noise).fit(X, Y)
    mean, std = model.predict(X, return_std=True)
    lower, upper = model.predict_interval(X)
    assert mean.shape == std.shape == lower.shape == upper.shape == (200, 2)
    assert 50 < np.median(std[:, 1] / std[:, 0]) < 200
    assert np.isfinite(model.log_likelihood(X, Y))
    if noise == "homoscedastic":
        assert model.noise_variances_.shape == (3, 2)


def test_members_are_single_networks_unless_the_template_says_otherwise():
    X, y, _ = _sine(200, 8)
    model = EnsembleRegressor(NeuralRegressor(5, max_iter=20), n_estimators=2, random_state=0).fit(X, y)
    assert [member.n_averaged_ for member in model.estimators_] == [1, 1]
    template = NeuralRegressor(5, max_iter=20, n_averaged=2)
    model = EnsembleRegressor(template, n_estimators=2, random_state=0).fit(X, y)
    assert [member.n_averaged_ for member in model.estimators_] == [2, 2]


def test_members_trained_as_one_batch_equal_members_fitted_one_by_one(monkeypatch, batch_sizes):
    X, y, _ = _sine(300, 9)
    sizes = batch_sizes()
    model = _small().fit(X, y)
    assert sizes == [3]  # the three members' runs, solved together
    monkeypatch.undo()
    template = NeuralRegressor(max_iter=200, loss="gaussian_nll")
    plan = make_plan(template.get_params(), 300, 1, 1, ensemble_member=True)
    seeds = np.random.RandomState(3).randint(np.iinfo(np.int32).max, size=3)
    for member, seed in zip(model.estimators_, seeds):
        alone = clone(template).set_params(random_state=seed).fit(X, y, plan=plan)
        np.testing.assert_array_equal(member.predict(X, return_std=True), alone.predict(X, return_std=True))
        assert member.fitted_.runs == alone.fitted_.runs


def _predictions(**params):
    X, y, _ = _sine(300, 7)
    return _small(**params).fit(X, y).predict(X, return_std=True)


def test_same_random_state_same_model_serially_and_with_processes():
    serial = _predictions()
    np.testing.assert_array_equal(serial, _predictions())
    np.testing.assert_array_equal(serial, _predictions(n_jobs=2))
    assert not np.array_equal(
        serial, _small().set_params(random_state=4).fit(*_sine(300, 7)[:2]).predict(_sine(300, 7)[0], return_std=True)
    )


def test_members_run_on_a_dask_cluster_and_match_the_serial_run():
    distributed = pytest.importorskip("dask.distributed")
    serial = _predictions()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            with distributed.get_task_stream(client) as tasks, joblib.parallel_config(backend="dask"):
                on_dask = _predictions()
            workers = set(client.scheduler_info()["workers"])
    assert len(tasks.data) == 2 and {task["worker"] for task in tasks.data} <= workers  # a batch per worker
    np.testing.assert_array_equal(serial, on_dask)


@pytest.fixture(scope="module")
def fitted():
    X, y, _ = _sine(50, 8)
    return _small().fit(X, y), X, y


@pytest.mark.parametrize("coverage", [0, 1, 1.5, -0.1, np.nan, "95%"])
def test_coverage_outside_the_open_unit_interval_is_a_value_error(fitted, coverage):
    model, X, _ = fitted
    with pytest.raises(ValueError, match=r"coverage must be a float in \(0, 1\); got"):
        model.predict_interval(X, coverage)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_estimators": 0}, r"n_estimators must be an int in \[1, inf\); got 0"),
        ({"noise": "poisson"}, "noise must be one of 'heteroscedastic', 'homoscedastic'; got 'poisson'"),
        ({"holdout_fraction": 1.0}, r"holdout_fraction must be a float in \(0, 1\); got 1.0"),
        ({"estimator": "mlp"}, "estimator must be a NeuralRegressor or None; got 'mlp'"),
        ({"random_state": 1.5}, "random_state must be None, an int or a numpy RandomState; got 1.5"),
    ],
)
def test_bad_parameters_raise_a_value_error_naming_them(params, message):
    X, y, _ = _sine(50, 9)
    with pytest.raises(ValueError, match=message):
        _small(**params).fit(X, y)


def test_bad_data_raises_a_clear_value_error(fitted):
    model, X, y = fitted
    with pytest.raises(NotFittedError):
        _small().predict(X)
    with pytest.raises(ValueError, match=r"y must have shape \(50,\) to match X and the fitted targets; got \(49,\)"):
        model.log_likelihood(X, y[:-1])
    with pytest.raises(ValueError, match="X has 2 features, but EnsembleRegressor is expecting 1"):
        model.predict(np.hstack([X, X]))
    with pytest.raises(ValueError, match="Input y contains NaN"):
        model.log_likelihood(X, np.full(50, np.nan))


def test_template_parameters_reach_the_members_and_clone_keeps_them():
    template = NeuralRegressor(hidden_layer_sizes=(7,), alpha=0.01, max_iter=100)
    model = EnsembleRegressor(template, n_estimators=2, random_state=0)
    assert model.get_params()["estimator__alpha"] == 0.01
    assert clone(model).get_params()["estimator__hidden_layer_sizes"] == (7,)
    model.fit(*_sine(100, 11)[:2])
    assert [m.coefs_[0].shape for m in model.estimators_] == [(1, 7), (1, 7)]
    assert len({m.random_state for m in model.estimators_}) == 2
    assert template.loss == "squared_error" and template.random_state is None


def test_members_start_apart_so_intervals_widen_away_from_the_data():
    rng = np.random.default_rng(11)
    x = rng.uniform(-3, 3, 800)
    y = np.sin(x) + 0.3 * rng.normal(size=x.size)
    model = EnsembleRegressor(random_state=0).fit(x[:, None], y)
    assert {member.plan_.init for member in model.estimators_} == {"breakpoints"}
    inside = model.predict(np.linspace(-3, 3, 200)[:, None], return_std=True)[1].mean()
    beyond = model.predict(np.linspace(4, 5, 200)[:, None], return_std=True)[1].mean()
    assert beyond > 1.3 * inside
    explicit = EnsembleRegressor(NeuralRegressor(init="he"), n_estimators=2, random_state=0).fit(x[:, None], y)
    assert {member.init for member in explicit.estimators_} == {"he"}
