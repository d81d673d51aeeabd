"""The training record: per iteration the objective, its data term, the penalty in force, and where Bayesian
regularisation re-estimated it; each averaged network's own.

The data term and the penalty are checked against weights the record did not see: a fit stopped at
``max_iter=k`` takes the same first ``k`` iterations, so its weights are the longer run's after iteration ``k``.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from mlpfit import NeuralRegressor
from mlpfit.diagnosis import FitWarning

X = np.linspace(-3, 3, 30)[:, None]
Y = np.sin(X[:, 0])  # noiseless: Bayesian regularisation's first re-estimate raises the objective tenfold

SOLVER_CASES = {
    "lm, Bayesian": dict(alpha="bayes"),
    "lm, fixed penalty": dict(alpha=1e-2),
    "lbfgs, Bayesian": dict(alpha="bayes", solver="lbfgs"),
}


def fit(**params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # stopped at max_iter on purpose
        warnings.simplefilter("ignore", FitWarning)  # an L-BFGS fit stopped early is still a line
        return NeuralRegressor(**{"n_averaged": 1, "random_state": 0, **params}).fit(X, Y)


def data_and_penalty(model, alpha):
    """The data term and the penalty term of the objective at ``model``'s weights, from its predictions."""
    residuals = (Y - model.predict(X)) / model.y_scaler_.scale[0]
    squared_weights = sum(np.sum(W**2) for W in model.coefs_)
    return np.mean(residuals**2) / 2, alpha * squared_weights / (2 * len(Y))


@pytest.mark.parametrize("case", SOLVER_CASES)
def test_data_term_plus_penalty_is_the_objective_at_every_iteration(case):
    run = fit(**SOLVER_CASES[case]).fitted_.runs[0]
    assert len(run.data_curve) == len(run.alpha_curve) == len(run.loss_curve) > 10
    for k in range(1, len(run.loss_curve) + 1):
        stopped = fit(**SOLVER_CASES[case], max_iter=k)
        assert stopped.loss_curve_ == run.loss_curve[:k]
        data, penalty = data_and_penalty(stopped, run.alpha_curve[k - 1])
        assert run.data_curve[k - 1] == pytest.approx(data, rel=1e-9, abs=1e-15)
        assert run.loss_curve[k - 1] == pytest.approx(data + penalty, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("case", ["lm, Bayesian", "lbfgs, Bayesian"])
def test_reestimations_are_the_iterations_where_alpha_changes(case):
    model = fit(**SOLVER_CASES[case])
    alpha = np.array([model.plan_.bayes_start_alpha, *model.fitted_.runs[0].alpha_curve])
    assert model.fitted_.runs[0].reestimations == np.flatnonzero(np.diff(alpha) != 0).tolist() != []


def test_a_fixed_penalty_is_in_force_throughout_with_no_reestimation():
    run = fit(alpha=1e-2).fitted_.runs[0]
    assert run.alpha_curve == [1e-2] * len(run.loss_curve) and run.reestimations == []
    assert run.progress_curve is run.loss_curve and not run.bayesian


def test_where_the_objective_rises_at_a_reestimation_the_data_term_stays_down():
    runs = fit(alpha="bayes", n_averaged=2).fitted_.runs
    for run in runs:
        objective, data = np.array(run.loss_curve), np.array(run.data_curve)
        rises = np.flatnonzero(np.diff(objective) > 0) + 1
        assert set(rises) <= set(run.reestimations)  # at a fixed penalty LM only ever lowers the objective
        assert np.all(np.diff(data)[rises - 1] < 0.1 * np.diff(objective)[rises - 1])
        assert data[-1] <= 1.01 * data.min() and run.progress_curve is run.data_curve
    assert max(run.loss_curve[-1] / min(run.loss_curve) for run in runs) > 10


def test_a_minibatch_epoch_records_the_data_term_at_the_weights_its_loss_was_taken_at():
    # full-batch gradient descent: epoch k's loss is taken at the weights after k - 1 epochs
    params = dict(hidden_layer_sizes=(5,), solver="sgd", momentum=0.0, learning_rate_init=0.1, alpha=0.1)
    run = fit(**params, max_iter=6).fitted_.runs[0]
    for k in range(2, 7):
        data, penalty = data_and_penalty(fit(**params, max_iter=k - 1), 0.1)
        assert run.data_curve[k - 1] == pytest.approx(data, rel=1e-9)
        assert run.loss_curve[k - 1] == pytest.approx(data + penalty, rel=1e-9)


def test_without_a_penalty_the_minibatch_data_term_is_the_loss():
    run = fit(hidden_layer_sizes=(5,), solver="adam", batch_size=8, alpha=0.0, max_iter=5).fitted_.runs[0]
    assert run.data_curve == run.loss_curve


def test_each_averaged_network_keeps_its_own_record():
    model = fit(alpha="bayes", n_averaged=3)
    runs = model.fitted_.runs
    assert len(runs) == 3 and model.data_loss_curve_ == runs[0].data_curve
    assert all(len(run.data_curve) == len(run.alpha_curve) == len(run.loss_curve) for run in runs)
    assert len({tuple(run.data_curve) for run in runs}) == 3 and all(run.reestimations for run in runs)


def test_verbose_bayesian_fit_prints_each_iterations_data_term_and_alpha(capsys):
    run = fit(alpha="bayes", verbose=2).fitted_.runs[0]
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Iteration ")]
    assert len(lines) == len(run.loss_curve)
    for line, data, alpha in zip(lines, run.data_curve, run.alpha_curve):
        assert f"data term = {data:.6g}, alpha = {alpha:.6g}" in line


def test_verbose_fixed_penalty_fit_prints_the_loss_alone(capsys):
    fit(alpha=1e-2, max_iter=3, verbose=2)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Iteration ")]
    assert lines and all("data term" not in line and "alpha" not in line for line in lines)


def test_reports_give_the_penalty_and_data_term_at_the_start_and_end_of_training():
    state = fit(alpha="bayes").fitted_
    run = state.runs[0]
    assert state.penalty_line() == (
        f"Bayesian penalty: alpha 0 -> {run.alpha_curve[-1]:.3g}, re-estimated {len(run.reestimations)} times in "
        f"{len(run.loss_curve)} iterations; data term (half MSE, standardised) {run.data_curve[0]:.3g} -> "
        f"{run.data_curve[-1]:.3g}"
    )
    averaged = fit(alpha="bayes", n_averaged=2).fitted_
    low, high = sorted(run.alpha_curve[-1] for run in averaged.runs)
    assert f"Bayesian penalty (2 networks): alpha 0 -> {low:.3g} to {high:.3g}, re-estimated" in averaged.penalty_line()
    assert fit(alpha=1e-2).fitted_.penalty_line() is None
