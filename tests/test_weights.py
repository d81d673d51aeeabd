"""Sample weights: a weighted fit is the fit of its rows repeated by integer weights (see mlpfit._weights)."""

import csv
import warnings
from dataclasses import replace

import _head
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from mlpfit import EnsembleRegressor, NeuralRegressor, _network, gradient_check, load
from mlpfit._network import Architecture
from mlpfit._selection import initialize
from mlpfit._weights import draw, quantile, weighted_set
from mlpfit.cli import main
from mlpfit.diagnosis import FitWarning
from mlpfit.estimator import training_objective
from mlpfit.solvers import TrainingProblem


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", FitWarning)  # a few fits stop after a handful of steps on purpose
        yield


def _two_inputs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    return X, np.sin(X[:, 0]) * X[:, 1] + 0.1 * rng.normal(size=n), rng.integers(0, 4, size=n)


def _one_input(n=60, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    return x[:, None], np.sin(x) + 0.1 * rng.normal(size=n), rng.integers(0, 4, size=n)


def _repeated(X, y, w):
    return np.repeat(X, w, axis=0), np.repeat(y, w)


def _weighted_and_repeated(model, X, y, w):
    """``model`` fitted to the rows weighted by ``w`` in a shuffled order, and a clone to the rows repeated by it."""
    order = np.random.default_rng(0).permutation(len(y))
    weighted = clone(model).fit(X[order], y[order], sample_weight=w[order])
    return weighted, clone(model).fit(*_repeated(X, y, w))


FIXED = dict(hidden_layer_sizes=6, activation="tanh", alpha=1e-3, init="he", n_averaged=1, random_state=0)
SOLVERS = {
    "lm": dict(solver="lm"),
    "lbfgs": dict(solver="lbfgs", max_iter=40),  # a fixed number of steps: see test_weights_scale_as_repeating_...
    "adam": dict(solver="adam", max_iter=100, learning_rate_init=1e-2),
    "sgd": dict(solver="sgd", max_iter=100, learning_rate_init=1e-2),
}


@pytest.mark.parametrize("solver", SOLVERS)
def test_integer_weights_fit_as_the_rows_repeated(solver):
    """Every solver, minibatches included: the rows repeated and the weights are one weighted set, bit for bit."""
    X, y, w = _two_inputs()
    weighted, repeated = _weighted_and_repeated(NeuralRegressor(**FIXED, **SOLVERS[solver], batch_size=8), X, y, w)
    np.testing.assert_array_equal(weighted.theta_, repeated.theta_)
    assert weighted.n_iter_ == repeated.n_iter_ and weighted.loss_ == repeated.loss_


def test_bayesian_lm_counts_weighted_rows_as_repeated_ones():
    X, y, w = _two_inputs()
    weighted, repeated = _weighted_and_repeated(NeuralRegressor(**{**FIXED, "solver": "lm", "alpha": "bayes"}), X, y, w)
    np.testing.assert_array_equal(weighted.theta_, repeated.theta_)
    assert weighted.alpha_ == repeated.alpha_ and weighted.effective_params_ == repeated.effective_params_


@pytest.mark.parametrize(
    "data, params",
    [
        (_one_input, {}),
        (_one_input, {"init": "breakpoints"}),
        (_one_input, {"loss": "gaussian_nll"}),
        (_two_inputs, {}),
        (_two_inputs, {"early_stopping": True}),
        (_two_inputs, {"solver": "lbfgs"}),
    ],
    ids=str,
)
def test_defaults_fit_weighted_rows_in_any_order_as_the_rows_repeated(data, params):
    """The hinge selection, the breakpoints (quantiles, or rows drawn by weight), the scaling, the validation
    split, Bayesian regularisation, averaging and the solvers run to their tolerance: all equal to the bit."""
    X, y, w = data()
    weighted, repeated = _weighted_and_repeated(NeuralRegressor(random_state=0, **params), X, y, w)
    assert weighted.architecture_ == repeated.architecture_
    np.testing.assert_array_equal(weighted.theta_, repeated.theta_)
    assert weighted.plan_ == repeated.plan_


def test_the_weighted_set_merges_equal_rows_drops_zero_weights_and_forgets_the_order():
    X, y, w = _two_inputs(12)
    w = w + 1
    X[3], y[3] = X[7], y[7]  # an equal row, merged into one whose weight is the two rows' total
    X[5, 0] = -0.0  # equal to 0.0, and merged to one zero, whatever comes first
    X_set, y_set, weights = weighted_set(*_repeated(X, y, w), None)
    assert len(X_set) == 11 and weights.sum() == w.sum() and np.all(np.diff(X_set[:, 0]) >= 0)
    order = np.random.default_rng(1).permutation(12)
    X[5, 0] = 0.0
    for given, expected in zip(weighted_set(X[order], y[order], w[order]), (X_set, y_set, weights)):
        np.testing.assert_array_equal(given, expected)
        np.testing.assert_array_equal(np.signbit(given), np.signbit(expected))
    w[2] = 0
    X_kept, _, _ = weighted_set(X, y, w)
    assert len(X_kept) == 10 and not np.any(np.all(X_kept == X[2], axis=1))
    X, y, _ = _two_inputs(12)
    assert weighted_set(X, y, np.ones(12))[2] is None  # weights of 1 are no weights
    with pytest.raises(ValueError, match="at least 2 distinct rows of positive weight; all 3 are equal"):
        weighted_set(np.ones((3, 2)), np.ones(3), None)


def test_the_start_on_several_inputs_is_that_of_the_weighted_set():
    """The breakpoints of the rows repeated are those of the rows weighted, in any order, to the bit."""
    X, y, w = _two_inputs()
    order = np.random.default_rng(1).permutation(len(y))
    arch = Architecture((2, 8, 1), "relu")
    starts = [
        initialize(arch, X_set, y_set[:, None], "breakpoints", np.random.default_rng(0), sample_weight=weights)
        for X_set, y_set, weights in (
            weighted_set(X[order], y[order], w[order]),
            weighted_set(*_repeated(X, y, w), None),
        )
    ]
    np.testing.assert_array_equal(*starts)


def test_rows_are_drawn_in_proportion_to_their_weights():
    counts = np.bincount(draw(np.random.default_rng(0), 3, 40_000, np.array([2.0, 1.0, 1.0])))
    np.testing.assert_allclose(counts / 40_000, [0.5, 0.25, 0.25], atol=0.01)


def test_weighted_quantiles_are_numpys_of_the_repeated_rows():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = rng.integers(1, 20)
        x, w, levels = rng.normal(size=n), rng.integers(1, 5, size=n), rng.uniform(size=7)
        np.testing.assert_allclose(quantile(x, levels, w.astype(float)), np.quantile(np.repeat(x, w), levels))


@pytest.mark.parametrize("params", [FIXED, {"random_state": 0}], ids=["fixed", "default"])
def test_a_zero_weight_drops_the_row(params):
    X, y, _ = _one_input() if params is not FIXED else _two_inputs()
    y_spoiled = y.copy()
    y_spoiled[::5] += 100.0
    w = np.ones(len(y))
    w[::5] = 0
    weighted = NeuralRegressor(**params).fit(X, y_spoiled, sample_weight=w)
    removed = NeuralRegressor(**params).fit(X[w > 0], y[w > 0])
    np.testing.assert_array_equal(weighted.theta_, removed.theta_)


def test_weights_scale_as_repeating_every_row():
    """3w is every row three times: without a penalty the same objective, with one the objective at a third
    of it. L-BFGS, which sees the mean objective, then takes the same steps; LM's damping is absolute, so
    its path (not its optimum) depends on the weights' scale."""
    X, y, w = _two_inputs()
    w = w + 0.5
    problem, theta = _problem(alpha=0.0)
    tripled = replace(problem, sample_weight=3 * problem.sample_weight)
    np.testing.assert_allclose(tripled.loss_and_grad(theta)[1], problem.loss_and_grad(theta)[1], rtol=1e-12)
    penalised = replace(tripled, alpha=0.9), replace(problem, alpha=0.3)
    np.testing.assert_allclose(penalised[0].loss_and_grad(theta)[1], penalised[1].loss_and_grad(theta)[1], rtol=1e-12)
    lbfgs = {**FIXED, **SOLVERS["lbfgs"]}
    for alpha, tripled_alpha in ((0.0, 0.0), (1e-3, 3e-3)):
        np.testing.assert_allclose(
            NeuralRegressor(**{**lbfgs, "alpha": tripled_alpha}).fit(X, y, sample_weight=3 * w).predict(X),
            NeuralRegressor(**{**lbfgs, "alpha": alpha}).fit(X, y, sample_weight=w).predict(X),
            rtol=0,
            atol=1e-8,
        )


@pytest.mark.parametrize(
    "weights, message",
    [
        (-np.ones(40), "sample_weight must be >= 0; row 0 has -1"),
        (np.r_[np.nan, np.ones(39)], r"sample_weight contains NaN \(row 0\)"),
        (np.r_[np.ones(39), np.inf], r"sample_weight contains infinity \(row 39\)"),
        (np.ones(39), r"sample_weight.shape == \(39,\), expected \(40,\)"),
        (np.ones((40, 2)), r"sample_weight must be 1-D, one weight per row; got shape \(40, 2\)"),
        (["a"] * 40, "sample_weight must be numeric"),
        (np.zeros(40), "at least 2 rows a positive weight; 0 have one, the other weights are zero"),
        (np.r_[1.0, np.zeros(39)], "sample_weight must give at least 2 rows a positive weight; 1 have one"),
    ],
)
def test_bad_weights_are_refused_by_name(weights, message):
    X, y, _ = _two_inputs()
    for model in (NeuralRegressor(), EnsembleRegressor()):
        with pytest.raises(ValueError, match=message):
            model.fit(X, y, sample_weight=weights)


def test_weights_are_not_changed_in_place():
    X, y, w = _two_inputs()
    w = w.astype(float)
    before = w.copy()
    NeuralRegressor(**FIXED, max_iter=3).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(w, before)


def _problem(alpha=0.3, n=30, seed=2):
    rng = np.random.default_rng(seed)
    arch = _network.Architecture((2, 4, 2), "tanh")
    X, Y = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
    problem = TrainingProblem(arch, X, Y, alpha=alpha, sample_weight=rng.uniform(0.1, 3.0, n))
    return problem, rng.normal(size=arch.n_params)


def test_weighted_gradient_agrees_with_finite_differences():
    problem, theta = _problem()
    analytic = problem.loss_and_grad(theta)[1]
    eps = 1e-6
    numeric = [
        (problem.loss_and_grad(theta + eps * e)[0] - problem.loss_and_grad(theta - eps * e)[0]) / (2 * eps)
        for e in np.eye(len(theta))
    ]
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)
    X, y, w = _two_inputs()
    assert gradient_check(NeuralRegressor(5, "tanh", random_state=0), X, y, sample_weight=w + 0.5) < 1e-6


def test_weighted_jacobian_agrees_with_finite_differences_and_the_gradient():
    problem, theta = _problem(alpha=0.0)
    residuals, jacobian = problem.residuals_and_jacobian(theta)
    eps = 1e-6
    numeric = np.column_stack(
        [
            (problem.residuals_and_jacobian(theta + eps * e)[0] - problem.residuals_and_jacobian(theta - eps * e)[0])
            / (2 * eps)
            for e in np.eye(len(theta))
        ]
    )
    np.testing.assert_allclose(jacobian, numeric, rtol=1e-6, atol=1e-9)
    loss, grad = problem.loss_and_grad(theta)
    total = problem.sample_weight.sum()
    assert residuals @ residuals / (2 * total) == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(jacobian.T @ residuals / total, grad, rtol=1e-10, atol=1e-14)
    jtj, jtr, sse = _network.normal_equations(
        problem.arch, theta, problem.X, problem.Y, chunk_rows=7, sample_weight=problem.sample_weight
    )
    np.testing.assert_allclose(jtj, jacobian.T @ jacobian, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(jtr, jacobian.T @ residuals, rtol=1e-12, atol=1e-12)
    assert sse == pytest.approx(problem.sum_squared_error(theta), rel=1e-12)
    assert problem.n_residuals == pytest.approx(2 * total)


def test_minibatches_take_the_penalty_by_their_weight():
    """Batch losses weighted by their batches' weights add up to the full objective times the total weight."""
    problem, theta = _problem()
    batches = np.array_split(np.random.default_rng(0).permutation(problem.n_samples), 4)
    summed = sum(problem.loss_and_grad(theta, rows)[0] * problem.rows_weight(rows) for rows in batches)
    assert summed == pytest.approx(problem.loss_and_grad(theta)[0] * problem.total_weight, rel=1e-12)


def test_validation_loss_is_weighted_as_repeated_rows():
    problem, theta = _problem()
    w = np.arange(1, 6)
    X_val, Y_val = problem.X[:5], problem.Y[:5]
    weighted = TrainingProblem(problem.arch, problem.X, problem.Y, X_val=X_val, Y_val=Y_val, sample_weight_val=w)
    repeated = TrainingProblem(
        problem.arch, problem.X, problem.Y, X_val=np.repeat(X_val, w, 0), Y_val=np.repeat(Y_val, w, 0)
    )
    assert weighted.validation_loss(theta) == pytest.approx(repeated.validation_loss(theta), rel=1e-12)


def test_early_stopping_splits_the_rows_of_positive_weight():
    X, y, _ = _two_inputs()
    y_spoiled, w = y.copy(), np.ones(len(y))
    y_spoiled[::4], w[::4] = 50.0, 0.0
    params = {**FIXED, "solver": "adam", "max_iter": 50, "early_stopping": True, "learning_rate_init": 1e-2}
    weighted = NeuralRegressor(**params).fit(X, y_spoiled, sample_weight=w)
    removed = NeuralRegressor(**params).fit(X[w > 0], y[w > 0])
    np.testing.assert_array_equal(weighted.validation_loss_curve_, removed.validation_loss_curve_)


def test_a_repeated_row_is_held_out_whole():
    """The validation split draws among distinct rows: a row repeated lies on one side, with its weight, never on
    both, where the validation would score the fit on rows it was trained on."""
    X, y, w = _two_inputs()
    X, y = _repeated(X, y, w + 1)
    problem, plan = training_objective(NeuralRegressor(early_stopping=True, random_state=0), X, y)
    assert plan.n_training_rows == len(problem.X) == 36 and len(problem.X_val) == 4
    assert not np.any(np.all(problem.X_val[:, None] == problem.X[None], axis=2))
    assert problem.sample_weight.sum() + problem.sample_weight_val.sum() == len(y)


def test_weighted_variance_head_gradient_agrees_with_finite_differences():
    rng = np.random.default_rng(3)
    features, squared, w = rng.normal(size=(20, 3)), rng.uniform(0.1, 2, size=(20, 2)), rng.uniform(0.1, 3, 20)
    params = rng.normal(size=8) * 0.3
    analytic = _head.loss_and_grad(params, features, squared, sample_weight=w)[1]
    eps = 1e-6
    numeric = [
        (
            _head.loss_and_grad(params + eps * e, features, squared, sample_weight=w)[0]
            - _head.loss_and_grad(params - eps * e, features, squared, sample_weight=w)[0]
        )
        / (2 * eps)
        for e in np.eye(8)
    ]
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def _ensemble(noise="heteroscedastic"):
    member = NeuralRegressor(5, "tanh", solver="lm", alpha=1e-3, init="he")
    return EnsembleRegressor(member, n_estimators=3, noise=noise, random_state=0)


@pytest.mark.parametrize("noise", ["heteroscedastic", "homoscedastic"])
def test_ensemble_weights_fit_as_repeated_rows(noise):
    """Default members, which start between rows drawn by weight; homoscedastic ones hold out distinct rows."""
    X, y, w = _two_inputs()
    ensemble = EnsembleRegressor(NeuralRegressor(max_iter=50), n_estimators=3, noise=noise, random_state=0)
    weighted, repeated = _weighted_and_repeated(ensemble, X, y, w)
    np.testing.assert_array_equal(weighted.predict(X, return_std=True), repeated.predict(X, return_std=True))


def test_homoscedastic_ensemble_drops_zero_weights_before_holding_rows_out():
    X, y, _ = _two_inputs()
    y_spoiled, w = y.copy(), np.ones(len(y))
    y_spoiled[::4], w[::4] = 50.0, 0.0
    weighted = _ensemble("homoscedastic").fit(X, y_spoiled, sample_weight=w)
    removed = _ensemble("homoscedastic").fit(X[w > 0], y[w > 0])
    np.testing.assert_array_equal(weighted.noise_variances_, removed.noise_variances_)


def _write(path, rows):
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows([["dose", "response", "w"], *rows])
    return str(path)


def test_cli_weight_column_fits_as_the_api_does(tmp_path, capsys):
    X, y, w = _one_input(30)
    data = _write(tmp_path / "d.csv", [[a, b, c] for a, b, c in zip(X[:, 0], y, w)])
    out = tmp_path / "m.npz"
    assert main(f"fit {data} --x dose --y response --weight w --seed 0 -o {out}".split()) == 0
    report = capsys.readouterr().out
    assert f"weights: column 'w' (each row's squared error times its weight); {np.sum(w == 0)} row(s)" in report
    expected = NeuralRegressor(random_state=0).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(load(out).predict(X), expected.predict(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "options, message",
    [
        ("--x dose,w --y response --weight w", "column 'w' is both the weights (--weight) and an input (--x)"),
        ("--x dose --y response,w --weight w", "column 'w' is both the weights (--weight) and a target (--y)"),
        ("--x dose --y response --weight v", "has no column 'v'"),
        ("--x dose --y response --weight w", "empty or NaN cells in 1 rows (first: column 'w'"),
    ],
)
def test_cli_weight_column_is_refused_by_name(tmp_path, capsys, options, message):
    rows = [[i, np.sqrt(i), 1.0] for i in range(10)]
    rows[4][2] = ""
    data = _write(tmp_path / "d.csv", rows)
    assert main(f"fit {data} {options} -o {tmp_path / 'm.npz'}".split()) == 2
    assert message in capsys.readouterr().err


def test_cli_weight_column_missing_cells_drop_with_dropna_and_negative_weights_are_refused(tmp_path, capsys):
    rows = [[i, np.sqrt(i), 1.0] for i in range(10)]
    rows[4][2] = ""
    data = _write(tmp_path / "d.csv", rows)
    assert (
        main(f"fit {data} --x dose --y response --weight w --dropna --max-iter 5 -o {tmp_path / 'm.npz'}".split()) == 0
    )
    assert "rows used: 9 of 10" in capsys.readouterr().out
    rows[4][2] = -1.0
    data = _write(tmp_path / "e.csv", rows)
    assert main(f"fit {data} --x dose --y response --weight w -o {tmp_path / 'n.npz'}".split()) == 2
    assert "weight column 'w' must hold finite non-negative numbers; got -1" in capsys.readouterr().err
