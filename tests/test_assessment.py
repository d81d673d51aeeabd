"""Per-split statistics: worked by hand, the validation split from the training record, the seeded test split,
and ``mlpfit fit --test-fraction`` with what the model file keeps of it."""

import csv
import json

import numpy as np
import pytest

import mlpfit
from mlpfit import EnsembleRegressor, NeuralRegressor, io
from mlpfit.assessment import VALIDATION, assess, held_out_rows, statistics
from mlpfit.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(0)
X1 = RNG.uniform(0, 10, size=(60, 1))
y1 = np.sqrt(X1[:, 0]) + 0.05 * RNG.normal(size=60)

Y_HAND = np.array([1.0, 2.0, 3.0, 4.0])
P_HAND = np.array([1.5, 2.0, 2.0, 4.0])
"""Errors -0.5, 0, 1, 0: RMSE sqrt(1.25 / 4), MAE 1.5 / 4, R^2 1 - 1.25 / 5 (about the mean 2.5)."""


class Fixed:
    """A duck-typed regressor: predicts ``P_HAND`` with the interval ``P_HAND -+ 0.6``, whatever ``X``."""

    def predict(self, X):
        return P_HAND[: len(X)]

    def predict_interval(self, X, coverage=0.95):
        self.coverage = coverage
        return P_HAND[: len(X)] - 0.6, P_HAND[: len(X)] + 0.6


def test_statistics_equal_the_hand_computed_values():
    rmse, mae, r2, coverage = statistics(Y_HAND, P_HAND, (P_HAND - 0.6, P_HAND + 0.6))
    assert rmse == pytest.approx([np.sqrt(0.3125)]) and mae == pytest.approx([0.375])
    assert r2 == pytest.approx([0.75]) and coverage == pytest.approx([0.75])  # |error| 1 is outside +-0.6


def test_statistics_are_per_output_and_survive_targets_near_the_float64_limit():
    Y, P = np.column_stack([Y_HAND, Y_HAND * 1e300]), np.column_stack([P_HAND, P_HAND * 1e300])
    rmse, mae, r2, coverage = statistics(Y, P)
    assert rmse == pytest.approx([np.sqrt(0.3125), np.sqrt(0.3125) * 1e300])
    assert mae == pytest.approx([0.375, 0.375e300]) and r2 == pytest.approx([0.75, 0.75])
    assert coverage is None


def test_r2_is_undefined_for_one_row_or_a_constant_target_and_shown_as_a_dash():
    assert np.isnan(statistics([2.0], [2.5])[2]).all()
    assert np.isnan(statistics([3.0, 3.0, 3.0], [2.0, 3.0, 4.0])[2]).all()
    result = assess(Fixed(), {"tiny": (np.zeros((1, 1)), [2.0])})
    header, rows = result.table()
    assert rows == [["tiny", "1", "y0", "0.5", "0.5", "-", "100.0%"]]


def test_assess_reports_every_split_in_order_with_coverage_at_the_stated_level():
    model = Fixed()
    result = assess(model, {"train": (np.zeros((4, 1)), Y_HAND), "test": (np.zeros((2, 1)), Y_HAND[:2])}, coverage=0.8)
    assert [split.name for split in result.splits] == ["train", "test"] and model.coverage == 0.8
    train, test = result.splits
    assert train.n_rows == 4 and train.coverage == pytest.approx([0.75]) and train.r2 == pytest.approx([0.75])
    assert test.rmse == pytest.approx([np.sqrt(0.125)]) and test.r2 == pytest.approx([0.5])  # errors -0.5, 0
    text = str(result)
    assert text.splitlines()[0].split() == [
        "split",
        "rows",
        "output",
        "RMSE",
        "MAE",
        "R^2",
        "coverage",
        "(80%",
        "interval)",
    ]
    assert text.splitlines()[2].split() == ["test", "2", "y0", "0.3536", "0.25", "0.5000", "100.0%"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"splits": {}}, "splits must name at least one set of rows"),
        ({"coverage": 1.5}, r"coverage must be a float in \(0, 1\); got 1.5"),
        ({"y_names": ["a", "b"]}, r"y_names must name the 1 output\(s\); got 2"),
    ],
)
def test_assess_refuses_bad_arguments(kwargs, message):
    arguments = {"splits": {"train": (np.zeros((4, 1)), Y_HAND)}, **kwargs}
    with pytest.raises(ValueError, match=message):
        assess(Fixed(), **arguments)


def test_early_stopping_adds_the_validation_split_from_the_training_record():
    model = NeuralRegressor(8, max_iter=30, early_stopping=True, n_averaged=1, random_state=0).fit(X1, y1)
    result = assess(model, {"train": (X1, y1)}, y_names=["response"])
    train, validation = result.splits
    assert validation.name == VALIDATION and validation.n_rows is None
    expected = np.sqrt(2 * min(model.validation_loss_curve_)) * model.y_scaler_.scale[0]
    assert validation.rmse == pytest.approx([expected]) and validation.mae is None and validation.r2 is None
    assert "rows are not kept" in validation.note and "10% of the training rows" in validation.note
    assert str(result).splitlines()[2].split()[:5] == ["validation", "-", "response", f"{expected:.4g}", "-"]
    assert train.rmse == pytest.approx([np.sqrt(np.mean((model.predict(X1) - y1) ** 2))])


def test_several_outputs_get_a_pooled_validation_rmse_in_the_note_only():
    Y = np.column_stack([y1, 2 * y1])
    model = NeuralRegressor(8, max_iter=20, early_stopping=True, n_averaged=1, random_state=0).fit(X1, Y)
    validation = assess(model, {"train": (X1, Y)}).splits[1]
    pooled = np.sqrt(2 * min(model.validation_loss_curve_) / 2)
    assert validation.rmse is None and f"standardised: {pooled:.4g}" in validation.note


def test_an_ensemble_reports_coverage_and_no_validation_split_of_its_own():
    template = NeuralRegressor(6, max_iter=20, early_stopping=True)
    model = EnsembleRegressor(template, n_estimators=2, random_state=0).fit(X1[:40], y1[:40])
    result = assess(model, {"train": (X1[:40], y1[:40]), "test": (X1[40:], y1[40:])})
    assert [split.name for split in result.splits] == ["train", "test"]
    lower, upper = model.predict_interval(X1[40:], coverage=0.95)
    assert result.splits[1].coverage == pytest.approx([np.mean((lower <= y1[40:]) & (y1[40:] <= upper))])


def test_the_test_rows_are_a_seeded_draw_of_the_stated_share():
    rows = held_out_rows(120, 0.15, 7)
    assert len(rows) == 18 and np.array_equal(rows, np.unique(rows)) and rows.max() < 120
    assert np.array_equal(rows, held_out_rows(120, 0.15, 7))
    assert not np.array_equal(rows, held_out_rows(120, 0.15, 8))
    assert len(held_out_rows(10, 0.01, 0)) == 1  # at least one row
    with pytest.raises(ValueError, match="holds out 3, leaving 1 to fit on; fitting needs at least 2"):
        held_out_rows(4, 0.6, 0)
    with pytest.raises(ValueError, match=r"test_fraction must be a float in \(0, 1\); got 1"):
        held_out_rows(4, 1, 0)


# --- mlpfit fit --test-fraction -------------------------------------------------------------------


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "data.csv"
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows([["dose", "response"], *zip(X1[:, 0], y1)])
    return str(path)


def fit_with_test_split(data, capsys, *extra):
    code = main(["fit", data, "--x", "dose", "--y", "response", "--hidden", "5", "--max-iter", "20", *extra])
    return code, capsys.readouterr().out


def test_fit_holds_out_the_test_rows_reports_each_split_and_records_the_split(data, tmp_path, capsys):
    output = str(tmp_path / "m.npz")
    code, out = fit_with_test_split(data, capsys, "--test-fraction", "0.25", "--seed", "3", "-o", output)
    assert code == 0
    assert "test split: 15 of 60 rows held out (--test-fraction 0.25, seed 3); fitted on the other 45" in out
    model, metadata = io.load_with_metadata(output)
    split = metadata["test_split"]
    assert split["fraction"] == 0.25 and split["seed"] == 3 and split["n_rows"] == 60 and split["data"] == "data.csv"
    test = np.zeros(60, dtype=bool)
    test[held_out_rows(60, 0.25, 3)] = True
    expected = assess(model, {"train": (X1[~test], y1[~test]), "test": (X1[test], y1[test])}, y_names=["response"])
    table = str(expected).splitlines()
    assert table[0] in out and table[1] in out and table[2] in out
    again = str(tmp_path / "again.npz")
    assert fit_with_test_split(data, capsys, "--test-fraction", "0.25", "--seed", "3", "-o", again)[0] == 0
    assert io.load_with_metadata(again)[1]["test_split"] == split  # the same seed holds out the same rows


def test_fit_without_the_flag_records_no_split_and_prints_no_table(data, tmp_path, capsys):
    output = str(tmp_path / "m.npz")
    code, out = fit_with_test_split(data, capsys, "--seed", "0", "-o", output)
    assert code == 0 and "test split" not in out and "training RMSE" in out
    assert io.load_with_metadata(output)[1]["test_split"] is None
    with np.load(output) as archive:
        assert "test_split" not in json.loads(str(archive[io.METADATA_KEY]))


def test_fit_draws_and_records_a_seed_when_none_is_given(data, tmp_path, capsys):
    output = str(tmp_path / "m.npz")
    assert fit_with_test_split(data, capsys, "--test-fraction", "0.2", "-q", "-o", output)[0] == 0
    seed = io.load_with_metadata(output)[1]["test_split"]["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**32


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--test-fraction", "1.5"], "--test-fraction must be a number between 0 and 1; got 1.5."),
        (["--test-fraction", "0.2", "--group", "dose"], "--test-fraction holds out rows of one model"),
    ],
)
def test_fit_refuses_a_bad_test_fraction_in_one_line(data, tmp_path, capsys, extra, message):
    output = tmp_path / "m.npz"
    assert main(["fit", data, "--x", "dose", "--y", "response", "-o", str(output), *extra]) == 2
    err = capsys.readouterr().err
    assert err == f"mlpfit fit: error: {err.split('error: ', 1)[1]}" and message in err and err.count("\n") == 1
    assert not output.exists()


def test_fit_refuses_a_test_split_that_leaves_too_few_rows(tmp_path, capsys):
    path = tmp_path / "three.csv"
    path.write_text("x,y\n1,2\n2,3\n3,5\n")
    assert main(["fit", str(path), "--x", "x", "--y", "y", "--test-fraction", "0.5", "-o", str(tmp_path / "m")]) == 2
    assert "--test-fraction: a test fraction of 0.5 of 3 rows holds out 2, leaving 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    "split, message",
    [
        ({"fraction": 2.0}, "model metadata field 'fraction' must be a number in (0, 1); got 2.0"),
        ({"data_sha256": "abc"}, "model metadata field 'data_sha256' must be 64 hexadecimal digits"),
        ({"n_rows": 3, "fraction": 0.9}, "holds out all but one of its 3 rows"),
        ({"extra": 1}, "'test_split' must be null or an object with fraction, seed, n_rows, data, data_sha256"),
    ],
)
def test_a_damaged_test_split_is_refused_on_load(tmp_path, split, message):
    model = NeuralRegressor(3, max_iter=5, random_state=0).fit(X1, y1)
    good = {"fraction": 0.2, "seed": 0, "n_rows": 60, "data": "d.csv", "data_sha256": "0" * 64}
    path = tmp_path / "m.npz"
    with pytest.raises(ValueError, match="load would refuse") as error:
        io.save(model, path, test_split={**good, **split})  # save checks the file as load will
    assert message in str(error.value) and not path.exists()


def test_a_model_saved_with_a_test_split_loads_and_predicts_as_saved(tmp_path):
    model = NeuralRegressor(3, max_iter=5, random_state=0).fit(X1, y1)
    split = {"fraction": 0.2, "seed": 0, "n_rows": 60, "data": "d.csv", "data_sha256": "0" * 64}
    mlpfit.save(model, tmp_path / "m.npz", test_split=split)
    loaded, metadata = io.load_with_metadata(tmp_path / "m.npz")
    assert metadata["test_split"] == split and np.array_equal(loaded.predict(X1), model.predict(X1))
