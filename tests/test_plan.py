"""The fit plan: every "auto" decided in one pure function, checked without fitting, then executed."""

import json

import numpy as np
import pytest

from mlpfit import EnsembleRegressor, FitPlan, NeuralRegressor, load, make_plan, save
from mlpfit._network import normal_equations_work
from mlpfit._plan import (
    AUTO_ALPHA,
    AUTO_AVERAGED,
    AUTO_MAX_HINGES,
    AUTO_UNITS,
    AUTO_UNITS_ONE_INPUT,
    AUTO_UNITS_ROWS,
    AVERAGE_MAX_WORK,
    AVERAGED_WORK,
    DEFAULT_MAX_ITER,
    EVIDENCE_MAX_PARAMS,
    EVIDENCE_MAX_WORK,
    LBFGS_BAYES_START_ALPHA,
    LBFGS_MAX_ITER,
    LBFGS_MAX_ROWS,
    LM_MAX_PARAMS,
    LM_MAX_WORK,
    MAX_AVERAGED,
    network_params,
)


def _plan(n_samples, n_features, n_outputs=1, **params):
    return make_plan(NeuralRegressor(**params).get_params(deep=False), n_samples, n_features, n_outputs)


def test_one_input_defaults_select_hinges_on_lm_and_average():
    plan = _plan(500, 1)
    assert plan.selects_width and plan.init == "selection" and plan.hidden_layer_sizes == (AUTO_MAX_HINGES,)
    assert plan.solver == "lm" and plan.alpha == AUTO_ALPHA and plan.n_averaged == AUTO_AVERAGED
    assert plan.batch_size == 500 and not plan.early_stopping and plan.n_training_rows == 500


def test_several_inputs_default_to_bayesian_regularisation_on_ten_units():
    plan = _plan(400, 5)
    assert not plan.selects_width and plan.init == "breakpoints" and plan.hidden_layer_sizes == (AUTO_UNITS,)
    assert plan.solver == "lm" and plan.alpha == "bayes"
    assert "Bayesian" in plan.reasons["alpha"]


@pytest.mark.parametrize("n_features", [2, 6, 10])
def test_the_default_width_grows_with_rows_within_lms_reach(n_features):
    rows = [100, 1_000, 2_000, 4_000, 30_000, 300_000, 3_000_000]
    plans = [_plan(n_samples, n_features) for n_samples in rows]
    widths = [plan.hidden_layer_sizes[0] for plan in plans]
    assert widths[:2] == [AUTO_UNITS, AUTO_UNITS] and widths[3] > widths[1]
    ten_units = [_plan(n_samples, n_features, hidden_layer_sizes=(AUTO_UNITS,)) for n_samples in rows]
    assert [plan.solver for plan in plans] == [plan.solver for plan in ten_units]  # never pushed off LM
    for n_samples, width in zip(rows, widths):
        wanted = max(AUTO_UNITS, round(AUTO_UNITS * np.sqrt(n_samples / AUTO_UNITS_ROWS)))
        wider = network_params((n_features, width + 1, 1))
        lm_takes_wider = wider <= LM_MAX_PARAMS and normal_equations_work(n_samples, wider) <= LM_MAX_WORK
        assert width == wanted or (AUTO_UNITS <= width < wanted and not lm_takes_wider)


@pytest.mark.parametrize("n_samples", [30, 1_000, 30_000, 300_000])
@pytest.mark.parametrize("n_features", [1, 3, 13])
@pytest.mark.parametrize("hidden", ["auto", (5,), (50,), (200,), (50, 50)])
def test_the_solver_follows_the_cost_of_lm(n_samples, n_features, hidden):
    plan = _plan(n_samples, n_features, hidden_layer_sizes=hidden)
    n_params = network_params((n_features, *plan.hidden_layer_sizes, 1))
    work = normal_equations_work(n_samples, n_params)
    lm = n_params <= LM_MAX_PARAMS and work <= LM_MAX_WORK
    bayesian_lbfgs = n_features > 1 and n_params <= EVIDENCE_MAX_PARAMS and work <= EVIDENCE_MAX_WORK
    expected = "lm" if lm else "lbfgs" if bayesian_lbfgs or n_samples <= LBFGS_MAX_ROWS else "adam"
    assert plan.solver == expected
    assert plan.alpha == ("bayes" if n_features > 1 and (lm or bayesian_lbfgs) else AUTO_ALPHA)
    assert plan.bayes_start == (None if plan.alpha != "bayes" else "fitted" if expected == "lm" else "settled")
    start_alpha = {"settled": LBFGS_BAYES_START_ALPHA, "fitted": 0.0, None: AUTO_ALPHA}[plan.bayes_start]
    assert plan.bayes_start_alpha == start_alpha
    averageable = expected == "lm" or plan.alpha == "bayes"
    several = min(MAX_AVERAGED, max(AUTO_AVERAGED, int(AVERAGED_WORK // work)))
    cheap_n_averaged = AUTO_AVERAGED if n_features == 1 else several
    assert plan.n_averaged == (cheap_n_averaged if averageable and work <= AVERAGE_MAX_WORK else 1)
    assert plan.max_iter == (LBFGS_MAX_ITER if expected == "lbfgs" else DEFAULT_MAX_ITER)
    assert set(plan.reasons) >= {"solver", "alpha", "n_averaged", "tol", "batch_size"}


def test_given_parameters_are_kept_and_given_no_reason():
    plan = _plan(
        100,
        2,
        hidden_layer_sizes=(7, 3),
        solver="adam",
        alpha=0.5,
        n_averaged=3,
        tol=1e-3,
        n_iter_no_change=4,
        batch_size=16,
        init="he",
    )
    assert (plan.hidden_layer_sizes, plan.solver, plan.alpha, plan.n_averaged) == ((7, 3), "adam", 0.5, 3)
    assert (plan.tol, plan.n_iter_no_change, plan.batch_size, plan.init) == (1e-3, 4, 16, "he")
    assert not {"hidden_layer_sizes", "solver", "alpha", "n_averaged", "tol", "init"} & set(plan.reasons)


def test_width_is_not_selected_where_the_network_cannot_use_it():
    assert not _plan(200, 1, activation="tanh").selects_width
    assert _plan(200, 1, activation="tanh").hidden_layer_sizes == (AUTO_UNITS_ONE_INPUT,)
    assert not _plan(200, 1, loss="gaussian_nll").selects_width
    assert not _plan(200, 1, init="breakpoints").selects_width
    assert _plan(200, 1, hidden_layer_sizes=(20,)).init == "selection"  # a given width: selected hinges, rest free
    assert _plan(200, 1, hidden_layer_sizes=(20, 20)).init == "breakpoints"


def test_early_stopping_trains_on_the_rest_and_refuses_too_few_rows():
    plan = _plan(100, 2, early_stopping=True, validation_fraction=0.2)
    assert plan.early_stopping and plan.n_training_rows == 80
    with pytest.raises(ValueError, match="early_stopping needs at least 2 training rows"):
        _plan(2, 2, early_stopping=True, validation_fraction=0.5)


def test_bayes_runs_on_lm_where_affordable_else_full_batch_lbfgs():
    assert _plan(300, 13, alpha="bayes").solver == "lm"
    assert _plan(10**6, 13, hidden_layer_sizes=(200,), alpha="bayes").solver == "lbfgs"
    with pytest.raises(ValueError, match="alpha='bayes' needs solver='lm'"):
        _plan(100, 2, alpha="bayes", solver="adam")


def test_an_ensemble_member_starts_from_breakpoints_as_one_network():
    params = NeuralRegressor().get_params(deep=False)
    plan = make_plan(params, 500, 1, 1, ensemble_member=True)
    assert plan.init == "breakpoints" and plan.n_averaged == 1 and not plan.selects_width
    assert "ensemble" in plan.reasons["init"] and "ensemble" in plan.reasons["n_averaged"]


def test_the_plan_reads_and_round_trips_through_json():
    plan = _plan(300, 4)
    text = str(plan)
    assert "solver = 'lm'" in text and "Bayesian" in text and plan.brief().startswith("lm, Bayesian")
    assert FitPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


@pytest.mark.parametrize(
    "change",
    [{"solver": 3}, {"n_averaged": True}, {"hidden_layer_sizes": [0]}, {"reasons": []}, {"extra": 1}, {"alpha": 0.1}],
)
def test_a_damaged_saved_plan_is_refused(change):
    state = {**_plan(300, 4).to_dict(), **change}
    with pytest.raises(ValueError, match="fit plan"):
        FitPlan.from_dict(state)


def _data(n_features, n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, n_features))
    return X, np.sin(X.sum(axis=1)) + 0.1 * rng.normal(size=n)


@pytest.mark.filterwarnings("ignore")  # short adam and sgd runs stop unconverged; only the plan is checked
@pytest.mark.parametrize(
    "params, n_features, solver",
    [
        ({}, 1, "lm"),
        ({}, 3, "lm"),
        ({"hidden_layer_sizes": (LM_MAX_PARAMS,)}, 3, "lbfgs"),
        ({"solver": "adam", "max_iter": 30}, 2, "adam"),
        ({"solver": "sgd", "max_iter": 30}, 2, "sgd"),
        ({"early_stopping": True}, 2, "lm"),
    ],
)
def test_fit_executes_its_plan(params, n_features, solver, tmp_path):
    X, y = _data(n_features)
    model = NeuralRegressor(random_state=0, **params).fit(X, y)
    plan = model.plan_
    assert plan == make_plan(model.get_params(deep=False), *X.shape, 1)
    assert plan.solver == solver and model.summary_.solver == solver and model.n_averaged_ == plan.n_averaged
    assert model.summary_.plan == plan.brief()
    assert (model.validation_loss_curve_ is not None) == plan.early_stopping
    if not plan.selects_width:
        assert model.architecture_.layer_sizes[1:-1] == tuple(n * plan.n_averaged for n in plan.hidden_layer_sizes)
    save(model, tmp_path / "m.npz")
    assert load(tmp_path / "m.npz").plan_ == plan


def test_fit_follows_a_given_plan():
    X, y = _data(2)
    plan = make_plan(NeuralRegressor().get_params(deep=False), *X.shape, 1)
    changes = {"hidden_layer_sizes": [4], "n_averaged": 1, "alpha": 0.1, "bayes_start": None}
    changed = FitPlan.from_dict({**plan.to_dict(), **changes})
    model = NeuralRegressor(random_state=0).fit(X, y, plan=changed)
    assert model.plan_ == changed and model.architecture_.layer_sizes == (2, 4, 1) and model.alpha_ == 0.1


def test_ensemble_members_carry_their_member_plans():
    X, y = _data(1, n=200)
    model = EnsembleRegressor(NeuralRegressor(max_iter=50), n_estimators=2, random_state=0).fit(X, y)
    assert all(m.plan_.init == "breakpoints" and m.plan_.n_averaged == 1 for m in model.estimators_)


def test_a_wide_network_on_small_noisy_data_fits_no_worse_than_a_narrow_one():
    # beyond LM's reach the plan keeps Bayesian regularisation (with L-BFGS); a fixed 1e-4 had 3 times the error
    def truth(X):
        return np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]

    errors = {(10,): [], (50,): []}
    for seed in range(3):
        rng = np.random.default_rng(seed)
        X, X_fresh = rng.uniform(-1, 1, (300, 4)), rng.uniform(-1, 1, (1000, 4))
        y = truth(X) + 0.5 * rng.normal(size=300)
        for hidden in errors:
            model = NeuralRegressor(hidden, random_state=seed).fit(X, y)
            errors[hidden].append(np.sqrt(np.mean((model.predict(X_fresh) - truth(X_fresh)) ** 2)))
    assert NeuralRegressor((50,)).fit(X, y).plan_.solver == "lbfgs"
    assert np.mean(errors[(50,)]) <= 1.1 * np.mean(errors[(10,)])
