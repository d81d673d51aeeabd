"""Where a model extrapolates: ``in_range`` marks rows outside the training range of any input, for a network,
an ensemble and a model read back from its file; ``mlpfit predict`` writes it as a column."""

import numpy as np
import pandas as pd
import pytest

import mlpfit
from mlpfit import EnsembleRegressor, NeuralRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(5)
X = np.c_[RNG.uniform(-1, 2, 50), RNG.uniform(10, 20, 50)]
Y = X[:, 0] + 0.1 * X[:, 1]
LOW, HIGH = X.min(axis=0), X.max(axis=0)


def rows_at_the_edges():
    """The two corners (inside), then each input just beyond its least and greatest value (outside)."""
    inside = [LOW, HIGH]
    outside = []
    for j in range(2):
        for edge, step in ((LOW, -1e-9), (HIGH, 1e-9)):
            row = (LOW + HIGH) / 2
            row[j] = edge[j] + step
            outside.append(row)
    return np.array(inside + outside), np.array([True, True] + [False] * 4)


def test_in_range_is_true_inside_and_false_beyond_each_input():
    model = NeuralRegressor((3,), max_iter=5, random_state=0).fit(X, Y)
    rows, expected = rows_at_the_edges()
    assert model.in_range(rows).tolist() == expected.tolist()


def test_the_range_counts_the_validation_rows_too():
    # early stopping trains on 70% of the rows; the range is every row's
    model = NeuralRegressor((3,), early_stopping=True, validation_fraction=0.3, max_iter=5, random_state=0).fit(X, Y)
    low, high = model.fitted_.x_range
    assert np.array_equal(low, LOW) and np.array_equal(high, HIGH)


@pytest.mark.parametrize("noise", ["heteroscedastic", "homoscedastic"])
def test_an_ensemble_marks_the_rows_beyond_its_members_data(noise):
    model = EnsembleRegressor(NeuralRegressor((3,), max_iter=5), n_estimators=6, noise=noise, random_state=0)
    model.fit(X, Y)
    rows, expected = rows_at_the_edges()
    assert model.in_range(rows).tolist() == expected.tolist()


@pytest.mark.parametrize("kind", ["network", "ensemble"])
def test_in_range_survives_save_and_load(tmp_path, kind):
    model = NeuralRegressor((3,), max_iter=5, random_state=0)
    if kind == "ensemble":
        model = EnsembleRegressor(model, n_estimators=2, random_state=0)
    model.fit(X, Y)
    mlpfit.save(model, tmp_path / "m.npz")
    rows, expected = rows_at_the_edges()
    assert mlpfit.load(tmp_path / "m.npz").in_range(rows).tolist() == expected.tolist()


def test_in_range_checks_its_input_as_predict_does():
    model = NeuralRegressor((3,), max_iter=5, random_state=0).fit(pd.DataFrame(X, columns=["a", "b"]), Y)
    assert model.in_range(pd.DataFrame([LOW], columns=["a", "b"])).tolist() == [True]
    with pytest.raises(ValueError, match="Feature names must be in the same order as they were in fit"):
        model.in_range(pd.DataFrame([LOW], columns=["b", "a"]))
    with pytest.raises(ValueError, match="X has 1 features, but NeuralRegressor is expecting 2"):
        NeuralRegressor((3,), max_iter=5, random_state=0).fit(X, Y).in_range(np.ones((2, 1)))
