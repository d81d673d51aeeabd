"""CurveBatch: many curves in one call, each fitted as NeuralRegressor fits it alone."""

import numpy as np
import pytest

from mlpfit import CurveBatch, NeuralRegressor
from mlpfit.curves import SUMMARY_COLUMNS


def _curve(n, seed):
    rng = np.random.default_rng(seed)
    a, b, c = rng.uniform(0.5, 2), rng.uniform(0.5, 2), rng.uniform(0.5, 3)
    x = rng.uniform(0, 10, n)
    return x, a * np.sqrt(x) + b * np.sin(c * x) + 0.1 * rng.normal(size=n)


def _alone(x, y, **params):
    return NeuralRegressor(random_state=0, **params).fit(x[:, None], y)


@pytest.mark.parametrize("params", [{}, {"hidden_layer_sizes": 8, "activation": "tanh", "alpha": "bayes"}])
def test_each_curve_is_fitted_as_the_estimator_fits_it_alone(params):
    curves = {f"c{i}": _curve(n, i) for i, n in enumerate([60, 100, 100, 80])}
    batch = CurveBatch(NeuralRegressor(random_state=0, **params)).fit(curves)
    assert batch.groups_ == list(curves)
    grid = np.linspace(0, 10, 50)
    for group, (x, y) in curves.items():
        alone = _alone(x, y, **params)
        np.testing.assert_array_equal(batch.predict(group, grid), alone.predict(grid[:, None]))
        assert batch.estimators_[group].fitted_.runs == alone.fitted_.runs


def test_a_batch_of_one_is_the_estimator():
    x, y = _curve(100, 7)
    batch = CurveBatch(NeuralRegressor(random_state=3)).fit([(x, y)])
    alone = NeuralRegressor(random_state=3).fit(x[:, None], y)
    np.testing.assert_array_equal(batch.predict(0, x), alone.predict(x[:, None]))


def test_networks_of_the_same_shape_run_as_one_batch(batch_sizes):
    curves = [_curve(100, i) for i in range(6)]
    n_networks = 6 * NeuralRegressor(8, "tanh").fit(curves[0][0][:, None], curves[0][1]).n_averaged_
    sizes = batch_sizes()
    CurveBatch(NeuralRegressor(8, "tanh", random_state=0), diagnose=False).fit(curves)
    assert sum(sizes) == n_networks and max(sizes) > 1


def test_arrays_of_curves_and_a_long_table_give_the_same_fits_as_pairs():
    curves = [_curve(50, i) for i in range(3)]
    X, Y = np.array([x for x, _ in curves]), np.array([y for _, y in curves])
    pairs = CurveBatch(NeuralRegressor(random_state=0), diagnose=False).fit(curves)
    arrays = CurveBatch(NeuralRegressor(random_state=0), diagnose=False).fit(X, Y)
    order = np.random.default_rng(0).permutation(150)  # the long table's rows in any order
    groups = np.repeat(["a", "b", "c"], 50)[order]
    table = CurveBatch(NeuralRegressor(random_state=0), diagnose=False).fit(
        X.ravel()[order], Y.ravel()[order], groups=groups
    )
    assert table.groups_ == [groups[0], *[g for g in dict.fromkeys(groups) if g != groups[0]]]
    grid = np.linspace(0, 10, 20)
    for i, name in enumerate("abc"):
        expected = pairs.predict(i, grid)
        np.testing.assert_array_equal(arrays.predict(i, grid), expected)
        np.testing.assert_array_equal(table.predict(name, grid), expected)  # a fit takes its rows as a set


def test_a_curve_that_cannot_be_fitted_is_reported_and_the_others_are_fitted():
    good = _curve(60, 0)
    with_nan = (good[0], np.where(np.arange(60) == 5, np.nan, good[1]))
    one_row = (np.ones(10), np.ones(10))  # ten equal rows: one distinct row
    batch = CurveBatch(NeuralRegressor(random_state=0)).fit({"good": good, "nan": with_nan, "flat": one_row})
    assert set(batch.estimators_) == {"good"} and set(batch.errors_) == {"nan", "flat"}
    status = dict(zip(batch.summary_["group"], batch.summary_["status"]))
    assert status["good"] == "fitted" and "NaN" in status["nan"] and "distinct" in status["flat"]
    with pytest.raises(ValueError, match="'nan' was not fitted: .*NaN"):
        batch.predict("nan", good[0])
    with pytest.raises(ValueError, match="no curve 'other'"):
        batch.predict("other", good[0])


def test_the_summary_has_a_row_per_curve_with_its_fit():
    curves = {"a": _curve(80, 1), "b": _curve(40, 2)}
    batch = CurveBatch(NeuralRegressor(random_state=0)).fit(curves)
    summary = batch.summary_
    assert list(summary) == list(SUMMARY_COLUMNS) and list(summary["group"]) == ["a", "b"]
    for i, (group, (x, y)) in enumerate(curves.items()):
        rmse = np.sqrt(np.mean((batch.predict(group, x) - y) ** 2))
        assert summary["rmse"][i] == pytest.approx(rmse, rel=1e-12) and summary["n_rows"][i] == len(x)
        assert summary["stop_reason"][i] == batch.estimators_[group].fitted_.stop_reason
        assert summary["n_iter"][i] == batch.estimators_[group].n_iter_
    assert batch.summary_frame().shape == (2, len(SUMMARY_COLUMNS))


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((np.zeros((2, 5)), np.zeros((2, 4))), {}, "shape"),
        (([(np.zeros(3),)],), {}, "pair"),
        (([],), {}, "no curves"),
        ((np.zeros(4), np.zeros(4)), {"groups": np.zeros(3)}, "one length"),
        (({"a": (np.zeros(3), np.zeros(3))},), {"sample_weight": np.ones(3)}, "long table"),
    ],
)
def test_malformed_curves_are_refused(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        CurveBatch().fit(*args, **kwargs)


def test_a_batch_too_large_for_its_memory_budget_runs_in_parts_with_the_same_fits(monkeypatch, batch_sizes):
    from mlpfit import _jobs

    curves = [_curve(60, i) for i in range(5)]
    whole = CurveBatch(NeuralRegressor(8, "tanh", random_state=0), diagnose=False).fit(curves)
    sizes = batch_sizes()
    problem_entries = 60 * 25 + 25**2  # one (1, 8, 1) network on 60 rows: its Jacobian and J^T J
    monkeypatch.setattr(_jobs, "BATCH_ENTRIES", 2 * problem_entries)
    parts = CurveBatch(NeuralRegressor(8, "tanh", random_state=0), diagnose=False).fit(curves)
    assert max(sizes) == 2 and sum(sizes) == 5 * whole.estimators_[0].n_averaged_
    for i in range(5):
        np.testing.assert_array_equal(parts.predict(i, curves[i][0]), whole.predict(i, curves[i][0]))
