"""Levenberg-Marquardt, Bayesian regularisation and solver="auto".

The Jacobian itself is checked against finite differences for every activation,
depth and output count in test_network.py; here the normal equations built from it.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

from mlpfit import NeuralRegressor, gradient_check
from mlpfit._network import Architecture, loss_and_grad, normal_equations, residuals_and_jacobian
from mlpfit._plan import AUTO_ALPHA, LM_MAX_FAIL
from mlpfit.solvers import SOLVERS, ProblemBatch, SolverSettings, TrainingProblem, lm
from mlpfit.solvers._evidence import evidence_at, reestimate


def _sine(n=200, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    return X, np.sin(2 * X[:, 0]) + noise * rng.normal(size=n)


def _settings(**changes):
    values = dict(max_iter=200, tol=1e-9, n_iter_no_change=6, learning_rate_init=1e-3, momentum=0.9, batch_size=1)
    return SolverSettings(**{**values, **changes})


@pytest.mark.parametrize("chunk_rows", [1, 7, 50, 1000])
def test_chunked_normal_equations_match_the_full_jacobian(chunk_rows):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(103, 3)), rng.normal(size=(103, 2))
    arch = Architecture((3, 6, 4, 2), "tanh")
    theta = rng.normal(size=arch.n_params)
    residuals, jacobian = residuals_and_jacobian(arch, theta, X, Y)
    jtj, jtr, sse = normal_equations(arch, theta, X, Y, chunk_rows=chunk_rows)
    np.testing.assert_allclose(jtj, jacobian.T @ jacobian, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(jtr, jacobian.T @ residuals, rtol=1e-10, atol=1e-10)
    assert sse == pytest.approx(residuals @ residuals, rel=1e-10)


def _search_alone(damping, hessian, gradient, current, objective_after):
    """``damping``'s search for one network: ``(step or None, trial)``."""
    steps, trial, found = damping.search(
        np.array([0]),
        hessian[None],
        gradient[None],
        np.array([current]),
        lambda which, steps: objective_after(steps[0]),
    )
    return (steps[0] if found[0] else None), trial[0]


def test_damping_accepts_the_first_mu_whose_step_lowers_the_objective_then_lowers_mu():
    damping = lm._Damping()
    # with an identity Hessian the step is -g / (1 + mu): only mu >= 1e2 shortens it below 0.01
    step, trial = _search_alone(damping, np.eye(1), np.array([1.0]), 0.0, lambda s: abs(s[0]) - 0.01)
    assert step[0] == pytest.approx(-1 / 101) and trial < 0
    assert damping.mu[0] == pytest.approx(10.0)


def test_damping_reports_a_failed_search_and_starts_the_next_from_mu_init():
    damping = lm._Damping()
    assert _search_alone(damping, np.eye(2), np.ones(2), 1.0, lambda s: np.inf) == (None, 1.0)
    assert damping.mu[0] > lm.MU_MAX
    step, trial = _search_alone(damping, np.eye(2), np.ones(2), 1.0, lambda s: 0.0)
    assert step is not None and damping.mu[0] == pytest.approx(lm.MU_INIT * lm.MU_DECREASE)


def test_damping_raises_mu_past_a_matrix_that_is_not_positive_definite_and_never_below_mu_min():
    damping = lm._Damping()
    step, _ = _search_alone(
        damping, -0.5 * np.eye(2), np.ones(2), 1.0, lambda s: 0.0
    )  # positive definite once mu > 0.5
    assert step is not None and damping.mu[0] == pytest.approx(0.1)  # accepted at mu = 1
    for _ in range(40):
        _search_alone(damping, np.eye(2), np.ones(2), 1.0, lambda s: 0.0)
    assert damping.mu[0] == lm.MU_MIN


def test_damping_searches_a_batch_as_each_network_would_alone():
    # network 0 accepts the first step, 1 needs mu >= 1e2, 2 never finds one, 3 sits out (not seeking)
    objectives = [lambda s: 0.0, lambda s: abs(s[0]) - 0.01, lambda s: np.inf]
    hessians, gradients = np.stack([np.eye(1)] * 3), np.ones((3, 1))
    batch = lm._Damping(4)
    steps, trial, found = batch.search(
        np.array([0, 1, 2]),
        hessians,
        gradients,
        np.zeros(3),
        lambda which, steps: np.array([objectives[i](step) for i, step in zip(which, steps)]),
    )
    for i, objective in enumerate(objectives):
        alone = lm._Damping()
        step, alone_trial = _search_alone(alone, hessians[i], gradients[i], 0.0, objective)
        assert found[i] == (step is not None) and trial[i] == alone_trial and batch.mu[i] == alone.mu[0]
        if found[i]:
            np.testing.assert_array_equal(steps[i], step)
    assert batch.mu[3] == lm.MU_INIT


@pytest.mark.parametrize(
    "bayes_start, alpha, validated",
    [("fitted", 0.0, False), ("settled", 0.0, False), (None, 1e-3, False), (None, 1e-3, True)],
)
def test_a_batch_of_problems_fits_each_as_it_would_be_fitted_alone(bayes_start, alpha, validated):
    # five curves of their own shapes and noise: they stop at different iterations, for different reasons
    rng = np.random.default_rng(0)
    arch = Architecture((1, 6, 1), "tanh")
    X = rng.uniform(-2, 2, size=(5, 60, 1))
    Y = np.sin(rng.uniform(0.5, 3, size=(5, 1, 1)) * X) + rng.uniform(0.01, 0.3, size=(5, 1, 1)) * rng.normal(
        size=(5, 60, 1)
    )
    validation = dict(X_val=X[:, 45:], Y_val=Y[:, 45:]) if validated else {}
    batch = ProblemBatch(arch, X[:, :45], Y[:, :45], np.full(5, alpha), **validation)
    theta0 = rng.normal(size=(5, arch.n_params))
    settings = _settings(max_iter=300, tol=1e-5, bayes_start=bayes_start)
    together = lm.solve_batch(batch, theta0, settings)
    assert len({result.n_iter for result in together}) > 1  # the batch kept going after some had stopped
    for b, result in enumerate(together):
        alone = lm.solve(batch.problem(b), theta0[b], settings, None)
        np.testing.assert_array_equal(result.theta, alone.theta)
        assert (result.loss, result.n_iter, result.stop_reason) == (alone.loss, alone.n_iter, alone.stop_reason)
        for curve in ("loss_curve", "validation_curve", "data_curve", "alpha_curve", "reestimations"):
            assert getattr(result, curve) == getattr(alone, curve)
        assert result.evidence == alone.evidence


def test_a_problem_padded_with_rows_of_weight_zero_is_fitted_as_without_them():
    # the padding changes only the order of the sums' terms, so the runs agree to rounding, step for step
    rng = np.random.default_rng(1)
    arch = Architecture((1, 6, 1), "tanh")
    X = rng.uniform(-2, 2, size=(3, 60, 1))
    Y = np.sin(2 * X) + 0.1 * rng.normal(size=(3, 60, 1))
    lengths = [40, 60, 55]
    weights = (np.arange(60) < np.array(lengths)[:, None]).astype(float)
    theta0 = rng.normal(size=(3, arch.n_params))
    settings = _settings(max_iter=300, tol=1e-6, bayes_start="fitted")
    padded = lm.solve_batch(ProblemBatch(arch, X, Y, np.zeros(3), sample_weight=weights), theta0, settings)
    for b, length in enumerate(lengths):
        alone = lm.solve(TrainingProblem(arch, X[b, :length], Y[b, :length]), theta0[b], settings, None)
        assert padded[b].n_iter == alone.n_iter
        np.testing.assert_allclose(padded[b].theta, alone.theta, rtol=0, atol=1e-7)


def test_stop_reason_in_the_order_they_arise():
    floor, below = lm.GRADIENT_FLOOR, lm.GRADIENT_FLOOR / 2
    assert lm._stop_reason(below, 2 * lm.MU_MAX, 1.0, 1.0, 1e-5) == "gradient"
    assert lm._stop_reason(floor, 10 * lm.MU_MAX, 1.0, 1.0, 1e-5) == "mu_max"
    assert lm._stop_reason(floor, lm.MU_MAX, 1000.0, 999.0, 1e-3) == "tol"  # a gain of exactly tol stops
    assert lm._stop_reason(floor, lm.MU_MAX, 1000.0, 998.0, 1e-3) is None


def test_bayes_start_fitted_begins_at_the_first_step_at_or_below_the_means_sum_of_squares():
    targets = TrainingProblem(None, None, np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]]))  # about the means: 8 + 6
    fitted, settled = lm._BayesStart.of("fitted", targets), lm._BayesStart.of("settled", targets)
    assert fitted.fit_below == 14.0 and settled.fit_below is None
    assert fitted.begins(None, 100.0, 14.0) and not fitted.begins(None, 100.0, 14.5)
    assert not settled.begins(None, 100.0, 14.0)


def test_bayes_start_begins_once_settled_or_where_a_fixed_penalty_run_stops_and_never_without_a_rule():
    targets = TrainingProblem(None, None, np.array([[1.0], [2.0], [3.0]]))
    for rule in ("fitted", "settled"):
        start = lm._BayesStart.of(rule, targets)
        assert start.begins(None, 1000.0, 999.0)  # a gain of BAYES_START_IMPROVEMENT
        assert not start.begins(None, 1000.0, 998.0)
        assert all(start.begins(reason, 1000.0, 500.0) for reason in ("gradient", "mu_max", "tol"))
    never = lm._BayesStart.of(None, targets)
    assert not any(never.begins(reason, 1000.0, 999.0) for reason in (None, "gradient", "mu_max", "tol"))


def test_lm_fitted_start_re_estimates_from_the_first_accepted_step_better_than_the_mean(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (120, 2))
    Y = (np.sin(3 * X[:, :1]) + X[:, 1:] ** 2) + 0.05 * rng.normal(size=(120, 1))
    arch = Architecture((2, 6, 1), "tanh")
    problem = TrainingProblem(arch, X, Y, 0.0)
    reestimated_at = []  # the sum of squared errors at each re-estimate

    def recording(jtj, sse, *rest):
        reestimated_at.append(sse)
        return reestimate(jtj, sse, *rest)

    monkeypatch.setattr(lm, "reestimate", recording)
    theta0 = np.random.default_rng(3).normal(scale=2.0, size=arch.n_params)
    result = SOLVERS["lm"](problem, theta0, _settings(max_iter=30, bayes_start="fitted"), None)
    mean_ss = np.sum((Y - Y.mean(axis=0)) ** 2)
    sse_curve = 2 * problem.n_samples * np.array(result.loss_curve)
    first_fitted = int(np.argmax(sse_curve <= mean_ss))
    assert first_fitted > 0  # the run starts worse than the mean, so the rule has something to wait for
    assert reestimated_at[0] == pytest.approx(sse_curve[first_fitted], rel=1e-9)


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_lm_reports_the_objective_loss_and_grad_computes(alpha):
    X, y = _sine(60)
    arch = Architecture((1, 5, 1), "tanh")
    problem = TrainingProblem(arch, X, y[:, None], alpha)
    theta0 = np.random.default_rng(1).normal(size=arch.n_params)
    result = SOLVERS["lm"](problem, theta0, _settings(max_iter=20), None)
    assert result.loss == pytest.approx(loss_and_grad(arch, result.theta, X, y[:, None], alpha)[0], rel=1e-12)
    assert result.loss_curve[-1] == pytest.approx(result.loss, rel=1e-12)
    assert np.all(np.diff(result.loss_curve) < 0)  # LM accepts only steps that lower the objective
    assert result.loss < loss_and_grad(arch, theta0, X, y[:, None], alpha)[0]


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_lm_reaches_a_lower_training_loss_than_lbfgs_at_convergence(seed):
    X, y = _sine()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lm = NeuralRegressor((8,), "tanh", solver="lm", random_state=seed).fit(X, y)
        lbfgs = NeuralRegressor((8,), "tanh", solver="lbfgs", max_iter=5000, random_state=seed).fit(X, y)
    assert lm.summary_.success and lm.summary_.solver == "lm"
    assert lm.loss_ < lbfgs.loss_


def test_lm_stops_at_the_gradient_floor_on_an_exactly_solvable_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = X @ [2.0, -1.0] + 0.5  # a linear network fits this exactly
    model = NeuralRegressor((3,), "identity", solver="lm", alpha=0.0, random_state=0).fit(X, y)
    assert model.summary_.stop_reason in ("gradient", "mu_max")
    np.testing.assert_allclose(model.predict(X), y, atol=1e-6)


def test_lm_early_stopping_allows_six_validation_failures_and_restores_the_best():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(80, 1))
    y = rng.normal(size=80)  # pure noise: the validation loss rises as the net overfits
    model = NeuralRegressor((30,), "tanh", solver="lm", early_stopping=True, random_state=0).fit(X, y)
    assert model.summary_.stop_reason == "early_stopping"
    curve = model.validation_loss_curve_
    best = int(np.argmin(curve))
    assert len(curve) - 1 - best == LM_MAX_FAIL  # MATLAB's max_fail
    assert model.loss_ == pytest.approx(model.summary_.loss)
    best_loss = NeuralRegressor(
        (30,), "tanh", solver="lm", early_stopping=True, n_iter_no_change=2, random_state=0
    ).fit(X, y)
    assert len(best_loss.validation_loss_curve_) < len(curve)


def test_bayes_does_not_fit_pure_noise():
    rng = np.random.default_rng(0)
    X, y = rng.uniform(-2, 2, size=(100, 1)), rng.normal(size=100)
    X_new, y_new = rng.uniform(-2, 2, size=(2000, 1)), rng.normal(size=2000)
    model = NeuralRegressor((20,), "tanh", alpha="bayes", random_state=0).fit(X, y)
    assert r2_score(y_new, model.predict(X_new)) <= 0.05
    assert model.effective_params_ < 0.5 * model.architecture_.n_params
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        unpenalised = NeuralRegressor((20,), "tanh", alpha=0.0, solver="lm", random_state=0).fit(X, y)
    # without the learned penalty the same net chases the noise far worse than the mean would
    assert r2_score(y_new, unpenalised.predict(X_new)) < -1 < r2_score(y_new, model.predict(X_new))


def test_bayes_uses_few_effective_parameters_of_an_oversized_net():
    X, y = _sine(100)
    model = NeuralRegressor((40,), "tanh", alpha="bayes", random_state=0).fit(X, y)
    n_params = model.architecture_.n_params
    assert model.summary_.solver == "lm"
    assert model.effective_params_ < 0.3 * n_params
    grid = np.linspace(-3, 3, 200)[:, None]
    assert np.sqrt(np.mean((model.predict(grid) - np.sin(2 * grid[:, 0])) ** 2)) < 0.1
    assert model.alpha_ == pytest.approx(model.weight_precision_ / model.noise_precision_)
    # the learned noise precision matches the true noise sd of 0.1 (on y's scale) within a factor of 2
    noise_sd = model.y_scaler_.scale[0] / np.sqrt(model.noise_precision_)
    assert 0.05 < noise_sd < 0.2


def test_bayes_with_several_inputs_rarely_settles_at_a_ramp_on_a_sharp_step():
    # Re-estimating at the random initial weights set penalties near 0.4 on 8 of these 20 seeds and
    # drew a smooth ramp (RMSE about 0.27); from after the first step on 3; from a fit better than
    # the mean (BAYES_START_FIT) on 1.
    penalties, errors = [], []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        X, X_new = rng.uniform(-1, 1, size=(300, 2)), rng.uniform(-1, 1, size=(2000, 2))
        y = (X.sum(axis=1) > 0) + 0.1 * rng.normal(size=300)
        model = NeuralRegressor(random_state=seed).fit(X, y)
        assert model.summary_.solver == "lm" and hasattr(model, "effective_params_")
        penalties.append(model.alpha_)
        errors.append(np.sqrt(np.mean((model.predict(X_new) - (X_new.sum(axis=1) > 0)) ** 2)))
    assert np.sum(np.array(penalties) > 0.1) <= 4  # a start rule that regressed settled on 8 of the 20
    assert np.median(errors) < 0.1


def test_bayes_attributes_exist_only_after_a_bayes_fit():
    X, y = _sine(60)
    model = NeuralRegressor((5,), "tanh", alpha="bayes", random_state=0).fit(X, y)
    assert hasattr(model, "effective_params_") and model.alpha_ != 1e-3
    model.set_params(alpha=1e-3).fit(X, y)
    assert not hasattr(model, "effective_params_") and not hasattr(model, "noise_precision_")
    assert model.alpha_ == 1e-3


def test_auto_alpha_is_bayes_for_several_inputs_where_the_evidence_is_affordable_and_fixed_otherwise():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 3))
    y = X[:, 0] - X[:, 1] ** 2 + 0.1 * rng.normal(size=200)
    several = NeuralRegressor((5,), random_state=0).fit(X, y)
    assert several.summary_.solver == "lm" and hasattr(several, "effective_params_")
    assert several.effective_params_ < several.architecture_.n_params
    one = NeuralRegressor((5,), random_state=0).fit(X[:, :1], y)
    assert one.alpha_ == AUTO_ALPHA and not hasattr(one, "effective_params_")
    beyond_lm = NeuralRegressor((5,), solver="lbfgs", random_state=0).fit(X, y)
    assert beyond_lm.plan_.alpha == "bayes" and 0 < beyond_lm.effective_params_ < beyond_lm.architecture_.n_params
    minibatches = NeuralRegressor((5,), solver="adam", max_iter=20, random_state=0).fit(X, y)
    assert minibatches.alpha_ == AUTO_ALPHA and not hasattr(minibatches, "effective_params_")


def test_bayes_reports_its_estimates_even_when_stopped_early():
    X, y = _sine(60)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        model = NeuralRegressor((5,), "tanh", alpha="bayes", max_iter=2, random_state=0).fit(X, y)
    assert 0 < model.effective_params_ <= model.architecture_.n_params
    assert model.noise_precision_ > 0 and model.weight_precision_ > 0


def test_gradient_check_accepts_bayes():
    X, y = _sine(30)
    assert gradient_check(NeuralRegressor((4,), "tanh", alpha="bayes", random_state=0), X, y) < 1e-6


def test_bayes_with_a_first_order_solver_raises():
    X, y = _sine(30)
    with pytest.raises(ValueError, match="alpha='bayes' needs solver='lm', 'lbfgs' or 'auto'.*got solver='adam'"):
        NeuralRegressor(alpha="bayes", solver="adam").fit(X, y)


def test_bayesian_lbfgs_keeps_an_oversized_network_from_fitting_noise():
    rng = np.random.default_rng(3)
    X, X_fresh = rng.uniform(-1, 1, (100, 3)), rng.uniform(-1, 1, (500, 3))
    y, y_fresh = rng.normal(size=100), rng.normal(size=500)
    bayes = NeuralRegressor((50,), solver="lbfgs", alpha="bayes", random_state=0).fit(X, y)
    fixed = NeuralRegressor((50,), solver="lbfgs", alpha=1e-4, random_state=0).fit(X, y)
    assert bayes.summary_.solver == "lbfgs" and bayes.effective_params_ < 0.2 * bayes.architecture_.n_params
    assert bayes.score(X_fresh, y_fresh) > -0.25 and fixed.score(X_fresh, y_fresh) < -1


def test_bayesian_lbfgs_ends_at_the_penalty_its_evidence_chooses():
    X, y = _sine(150, noise=0.2)
    X = np.column_stack([X, np.random.default_rng(1).uniform(-3, 3, 150)])
    model = NeuralRegressor((30,), solver="lbfgs", alpha="bayes", n_averaged=1, random_state=0).fit(X, y)
    problem = TrainingProblem(model.architecture_, model.x_scaler_.transform(X), model.y_scaler_.transform(y[:, None]))
    jtj, _, sse = normal_equations(problem.arch, model.theta_, problem.X, problem.Y)
    again = evidence_at(jtj, sse, model.theta_, problem.arch.weight_mask, model.alpha_, y.size)
    assert again.penalty == pytest.approx(model.alpha_, rel=0.05)
