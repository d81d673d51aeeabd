"""Dates and text as inputs: dates fitted as days since an origin, text one-hot encoded, both kept in the model file,
read the same way from Python (numpy, pandas) and the command line (CSV without pandas, Parquet)."""

import csv
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import mlpfit
import mlpfit.plot
from mlpfit import EnsembleRegressor, NeuralRegressor, io
from mlpfit.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::mlpfit.FitWarning", "ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(0)
N = 120
DAYS = RNG.integers(0, 300, N)
DATES = np.datetime64("2024-01-01") + DAYS.astype("timedelta64[D]") + np.timedelta64(6, "h")
CURVE = np.sin(DAYS / 40) + 0.05 * RNG.normal(size=N)
LEVELS = {"north": 0.0, "south": 3.0, "east": -2.0}
SITE = RNG.choice(sorted(LEVELS), N)
X_NUM = RNG.uniform(0, 4, N)
LEVELLED = np.array([LEVELS[site] for site in SITE]) + np.sin(X_NUM) + 0.05 * RNG.normal(size=N)
FRAME = pd.DataFrame({"when": DATES, "site": SITE, "x": X_NUM, "curve": CURVE, "levelled": LEVELLED})


@pytest.fixture(scope="module")
def date_model():
    return NeuralRegressor(random_state=0).fit(DATES[:, None], CURVE)


@pytest.fixture(scope="module")
def site_model():
    return NeuralRegressor(random_state=0).fit(FRAME[["site", "x"]], LEVELLED)


def write_csv(path, frame):
    frame.to_csv(path, index=False)
    return str(path)


def predicted_column(text, name):
    rows = list(csv.DictReader(text.splitlines()))
    return np.array([float(row[name]) if row[name] else np.nan for row in rows])


# --- dates ----------------------------------------------------------------------------------------


def test_a_fit_on_dates_equals_a_fit_on_the_day_counts_since_the_first_day(date_model):
    days = (DATES - np.datetime64("2024-01-01")) / np.timedelta64(1, "D")  # the earliest date is in the data
    assert DATES.min().astype("datetime64[D]") == np.datetime64("2024-01-01")
    by_hand = NeuralRegressor(random_state=0).fit(days[:, None], CURVE)
    assert np.array_equal(date_model.predict(DATES[:, None]), by_hand.predict(days[:, None]))
    assert str(date_model.fitted_.network.x_encoding.columns[0].origin) == "2024-01-01"


def test_dates_are_taken_as_datetime64_pandas_datetimes_datetime_objects_and_iso_text(date_model):
    expected = date_model.predict(DATES[:, None])
    as_pandas = pd.DataFrame({"when": pd.to_datetime(DATES)})
    as_objects = DATES.astype("datetime64[us]").astype(object)[:, None]
    as_text = np.array([str(date) for date in DATES], dtype=object)[:, None]
    for X in (as_pandas, as_objects, as_text, DATES.astype("datetime64[ns]")[:, None]):
        assert np.array_equal(NeuralRegressor(random_state=0).fit(X, CURVE).predict(X), expected)
        assert np.array_equal(date_model.predict(np.asarray(X)), expected)


def test_tz_aware_times_are_taken_in_utc():
    local = pd.DataFrame({"when": pd.to_datetime(DATES).tz_localize("Europe/Berlin")})
    utc = pd.DataFrame({"when": local["when"].dt.tz_convert("UTC").dt.tz_localize(None)})
    model = NeuralRegressor(random_state=0, max_iter=20).fit(local, CURVE)
    assert np.array_equal(
        model.predict(local), NeuralRegressor(random_state=0, max_iter=20).fit(utc, CURVE).predict(utc)
    )
    text = pd.DataFrame({"when": ["2024-03-01T12:00:00+01:00", "2024-03-01T11:00:00Z"]})
    prediction = model.predict(text)
    assert prediction[0] == prediction[1]


def test_dates_round_trip_through_a_model_file(date_model, tmp_path):
    mlpfit.save(date_model, tmp_path / "m.npz")
    loaded = mlpfit.load(tmp_path / "m.npz")
    assert np.array_equal(loaded.predict(DATES[:, None]), date_model.predict(DATES[:, None]))
    assert loaded.fitted_.network.x_encoding == date_model.fitted_.network.x_encoding
    with np.load(tmp_path / "m.npz") as archive:
        saved = json.loads(str(archive["metadata"]))["model"]["state"]["network"]["x_encoding"]
    assert saved == [{"kind": "date", "origin": "2024-01-01", "unit": "day"}]


def test_in_range_works_on_dates(date_model):
    inside = np.array(["2024-01-01T06:00", "2024-06-01"], dtype="datetime64[us]")[:, None]
    outside = np.array(["2023-12-31", str(DATES.max() + np.timedelta64(1, "D"))], dtype="datetime64[us]")[:, None]
    assert date_model.in_range(inside).all() and not date_model.in_range(outside).any()


def test_breakpoints_of_a_date_input_are_dates_and_the_function_equals_predict(date_model):
    function = date_model.piecewise_linear()
    assert function.breakpoints.dtype == np.dtype("datetime64[us]") and function.breakpoints.size
    grid = DATES.min() + np.linspace(0, 300 * 86400e6, 400).astype("timedelta64[us]")
    np.testing.assert_allclose(function(grid), date_model.predict(grid[:, None]), atol=1e-9)
    assert "(x in days since 2024-01-01, edges as dates)" in str(function)
    assert f"<= x < {str(function.breakpoints[1])[:19]}" in str(function)


def test_missing_dates_are_refused_at_fit_and_an_input_transform_on_dates_too():
    X = DATES.astype("datetime64[us]")[:, None].copy()
    X[5, 0] = np.datetime64("NaT")
    with pytest.raises(ValueError, match=r"column 0 of X has a missing value in row 5 \(1 such rows\)"):
        NeuralRegressor().fit(X, CURVE)
    with pytest.raises(ValueError, match=r"input_transform 'log' cannot apply to input column 0, which holds dates"):
        NeuralRegressor(input_transform="log").fit(DATES[:, None], CURVE)


def test_a_model_fitted_on_dates_refuses_numbers_and_one_fitted_on_numbers_refuses_dates(date_model):
    with pytest.raises(ValueError, match="column 0 of X holds numbers; the model was fitted on dates there"):
        date_model.predict(np.array([[3.0]]))
    numbers = NeuralRegressor(max_iter=5).fit(DAYS[:, None], CURVE)
    with pytest.raises(ValueError, match="column 0 of X holds dates; the model was fitted on numbers there"):
        numbers.predict(DATES[:5, None])


# --- categories ---------------------------------------------------------------------------------


def test_a_categorical_fit_learns_each_levels_offset(site_model):
    x = np.linspace(0.5, 3.5, 7)
    curves = {site: site_model.predict(pd.DataFrame({"site": [site] * 7, "x": x})) for site in LEVELS}
    for site, offset in LEVELS.items():
        np.testing.assert_allclose(curves[site] - curves["north"], offset, atol=0.15)
        np.testing.assert_allclose(curves[site], offset + np.sin(x), atol=0.15)


def test_a_category_dtype_and_a_text_column_are_the_same_input(site_model):
    categorical = FRAME[["site", "x"]].astype({"site": "category"})
    model = NeuralRegressor(random_state=0).fit(categorical, LEVELLED)
    assert model.fitted_.network.x_encoding == site_model.fitted_.network.x_encoding
    assert np.array_equal(model.predict(categorical), site_model.predict(FRAME[["site", "x"]]))
    assert model.n_features_in_ == 2 and list(model.feature_names_in_) == ["site", "x"]
    assert model.fitted_.network.n_features == 4  # three categories and x


def test_an_unknown_category_is_refused_naming_the_value_and_the_column(site_model):
    new = pd.DataFrame({"site": ["north", "west"], "x": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"column 'site' of X has the category 'west' in row 1, which the model was "):
        site_model.predict(new)


def test_categories_round_trip_through_a_model_file(site_model, tmp_path):
    mlpfit.save(site_model, tmp_path / "m.npz")
    loaded = mlpfit.load(tmp_path / "m.npz")
    assert np.array_equal(loaded.predict(FRAME[["site", "x"]]), site_model.predict(FRAME[["site", "x"]]))
    assert loaded.fitted_.network.x_encoding.columns[0].categories == ("east", "north", "south")


def test_a_column_mixing_numbers_and_text_is_refused_by_row():
    X = np.array([[1.0], [2.0], ["high"], [4.0]], dtype=object)
    with pytest.raises(ValueError, match=r"column 0 of X has the text 'high' in row 2 among numbers; a column holds"):
        NeuralRegressor().fit(X, [1.0, 2.0, 3.0, 4.0])


def test_a_transform_after_a_text_column_is_named_by_the_users_column():
    X = FRAME[["site", "x"]].assign(x=np.exp(X_NUM))
    model = NeuralRegressor(input_transform=[None, "log"], max_iter=5).fit(X, LEVELLED)
    assert model.fitted_.network.x_transforms == (None, None, None, "log")
    X.loc[4, "x"] = -1.0
    for call in (lambda: model.predict(X), lambda: NeuralRegressor(input_transform=[None, "log"]).fit(X, LEVELLED)):
        with pytest.raises(ValueError, match=r"^input column 1 is transformed by 'log', which needs values > 0; row 4"):
            call()


def test_a_text_column_that_names_every_row_is_refused():
    ids = np.array([f"id{i}" for i in range(N)], dtype=object)
    with pytest.raises(ValueError, match=r"column 0 of X has a different text in each of its 120 rows: it names rows"):
        NeuralRegressor().fit(np.c_[ids, X_NUM], LEVELLED)


def test_a_damaged_encoding_in_a_model_file_is_refused(site_model, tmp_path):
    mlpfit.save(site_model, tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as archive:
        arrays = {key: archive[key] for key in archive.files}
    metadata = json.loads(str(arrays.pop(io.METADATA_KEY)))
    for encoding, message in [
        ([{"kind": "category", "categories": ["south", "north", "east"]}, {"kind": "number"}], "distinct sorted"),
        ([{"kind": "category", "categories": ["east", "north"]}, {"kind": "number"}], "makes 3 network inputs"),
    ]:
        metadata["model"]["state"]["network"]["x_encoding"] = encoding
        np.savez(tmp_path / "bad.npz", **{io.METADATA_KEY: np.array(json.dumps(metadata))}, **arrays)
        with pytest.raises(ValueError, match=message):
            mlpfit.load(tmp_path / "bad.npz")


def test_an_ensemble_takes_dates_and_categories_with_one_encoding_for_every_member(tmp_path):
    X = FRAME[["when", "site", "x"]]
    ensemble = EnsembleRegressor(NeuralRegressor(max_iter=30), n_estimators=2, noise="homoscedastic", random_state=0)
    ensemble.fit(X, LEVELLED)
    encodings = {member.fitted_.network.x_encoding for member in ensemble.estimators_}
    assert len(encodings) == 1 and ensemble.n_features_in_ == 3
    mlpfit.save(ensemble, tmp_path / "e.npz")
    loaded = mlpfit.load(tmp_path / "e.npz")
    assert np.array_equal(loaded.predict_interval(X)[0], ensemble.predict_interval(X)[0])
    assert ensemble.in_range(X).all()
    with pytest.raises(ValueError, match="category 'west'"):
        loaded.predict(X.assign(site="west"))


def test_decoding_the_networks_inputs_gives_back_the_columns():
    X = FRAME[["when", "site", "x"]]
    encoding = NeuralRegressor(max_iter=5).fit(X, LEVELLED).fitted_.network.x_encoding
    decoded = encoding.decode(encoding.encode(X))
    assert np.array_equal(decoded.arrays[0], DATES.astype("datetime64[us]"))
    assert list(decoded.arrays[1]) == list(SITE) and np.array_equal(decoded.arrays[2], X_NUM)


@pytest.mark.parametrize(
    "estimator", [NeuralRegressor(max_iter=20), EnsembleRegressor(NeuralRegressor(max_iter=20), n_estimators=2)]
)
def test_integer_weights_fit_dates_and_categories_as_the_rows_repeated(estimator):
    X, y = FRAME[["when", "site", "x"]].iloc[:40], LEVELLED[:40]
    weights = np.arange(40) % 3 + 1
    weights[[np.argmin(DATES[:40]), 5]] = 0  # dropped, the earliest date too: the origin is the earliest kept one
    repeated = X.loc[X.index.repeat(weights)].sample(frac=1.0, random_state=0)
    weighted = clone(estimator).set_params(random_state=0).fit(X, y, weights)
    by_rows = clone(estimator).set_params(random_state=0).fit(repeated, LEVELLED[repeated.index])
    assert np.array_equal(weighted.predict(X), by_rows.predict(X))


def test_numbers_alone_are_not_encoded(tmp_path):
    X = np.c_[X_NUM, DAYS]
    model = NeuralRegressor(random_state=0, max_iter=5).fit(X, CURVE)
    assert model.fitted_.network.x_encoding is None
    as_objects = NeuralRegressor(random_state=0, max_iter=5).fit(X.astype(object), CURVE)
    assert np.array_equal(as_objects.predict(X), model.predict(X))
    data = write_csv(tmp_path / "d.csv", FRAME[["x", "curve"]])
    assert main(["fit", data, "--x", "x", "--y", "curve", "-o", str(tmp_path / "m.npz"), "--max-iter", "5", "-q"]) == 0
    with np.load(tmp_path / "m.npz") as archive:
        assert json.loads(str(archive["metadata"]))["model"]["state"]["network"]["x_encoding"] is None


# --- the command line ---------------------------------------------------------------------------------


def test_cli_dates_from_csv_round_trip_through_fit_and_predict(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", FRAME)
    assert main(["fit", data, "--x", "when", "--y", "curve", "-o", str(tmp_path / "m.npz"), "--seed", "0", "-q"]) == 0
    model = mlpfit.load(tmp_path / "m.npz")
    assert main(["predict", str(tmp_path / "m.npz"), data]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split(",")[0] == str(DATES[0].astype("datetime64[m]"))  # written back in ISO form
    assert np.array_equal(predicted_column(out, "curve_predicted"), model.predict(DATES[:, None]))
    in_python = NeuralRegressor(**{**model.get_params(), "verbose": 0}).fit(DATES[:, None], CURVE)
    assert np.array_equal(in_python.predict(DATES[:, None]), model.predict(DATES[:, None]))


def test_cli_a_parquet_timestamp_is_a_date_not_microseconds(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    frame = FRAME.assign(when=FRAME["when"].dt.tz_localize("UTC").dt.tz_convert("Asia/Tokyo"))  # read in UTC
    frame.to_parquet(tmp_path / "d.parquet")
    csv_data = write_csv(tmp_path / "d.csv", FRAME)
    for data, name in ((str(tmp_path / "d.parquet"), "p.npz"), (csv_data, "c.npz")):
        assert main(["fit", data, "--x", "when", "--y", "curve", "-o", str(tmp_path / name), "--seed", "0", "-q"]) == 0
    from_parquet, from_csv = mlpfit.load(tmp_path / "p.npz"), mlpfit.load(tmp_path / "c.npz")
    assert np.array_equal(from_parquet.predict(DATES[:, None]), from_csv.predict(DATES[:, None]))
    assert main(["info", str(tmp_path / "p.npz")]) == 0
    last = str(DATES.max())[:10]
    assert (
        f"when: dates from 2024-01-01T06:00 to {last}T06:00, fitted as days since 2024-01-01" in capsys.readouterr().out
    )


def test_cli_categories_fit_predict_and_an_unknown_one_is_one_line_exit_2(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", FRAME)
    args = ["fit", data, "--x", "site,x", "--y", "levelled", "-o", str(tmp_path / "m.npz"), "--seed", "0", "-q"]
    assert main(args) == 0
    model = mlpfit.load(tmp_path / "m.npz")
    assert main(["predict", str(tmp_path / "m.npz"), data]) == 0
    predicted = predicted_column(capsys.readouterr().out, "levelled_predicted")
    assert np.array_equal(predicted, model.predict(FRAME[["site", "x"]].to_numpy(dtype=object)))
    unknown = write_csv(tmp_path / "u.csv", FRAME.assign(site=["north"] * 3 + ["west"] + ["south"] * (N - 4)))
    assert main(["predict", str(tmp_path / "m.npz"), unknown]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"mlpfit predict: error: column 'site' of {unknown} has the category 'west' in line 5, which the model was "
        "not fitted on; it knows 'east', 'north', 'south'.\n"
    )
    assert main(["info", str(tmp_path / "m.npz")]) == 0
    assert "site: 3 categories, 'east', 'north', 'south' (one input each)" in capsys.readouterr().out


def test_cli_predict_writes_an_empty_row_for_a_missing_date_or_category(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", FRAME)
    fit = ["fit", data, "--x", "when,site,x", "--y", "levelled", "-o", str(tmp_path / "m.npz"), "--max-iter", "20"]
    assert main([*fit, "-q"]) == 0
    new = FRAME.head(4).astype(object)
    new.loc[1, "when"], new.loc[2, "site"] = None, None
    assert main(["predict", str(tmp_path / "m.npz"), write_csv(tmp_path / "n.csv", new)]) == 0
    captured = capsys.readouterr()
    predicted = predicted_column(captured.out, "levelled_predicted")
    assert np.isnan(predicted[1:3]).all() and np.isfinite(predicted[[0, 3]]).all()
    assert "2 of 4 rows have a missing input" in captured.err


@pytest.mark.parametrize(
    "cells, message",
    [
        (["high", "2", "3", "4"], "column 'dose' of {} has the number '2' in row 2 (line 3) among text"),
        (["2024-01-01", "2024-01-02", "later", "2024-01-04"], "has the text 'later' in row 3 (line 4) among dates"),
        (["2024-01-01", "2024-13-02", "", "2024-01-04"], "has the invalid date '2024-13-02' in row 2 (line 3)."),
        (
            ["01/03/2024", "02/03/2024", "01/03/2024", "03/03/2024"],
            "has the date '01/03/2024' in a form other than ISO (write YYYY-MM-DD, with an optional time) in row 1",
        ),
    ],
    ids=["text then numbers", "dates then text", "invalid date", "not ISO"],
)
def test_cli_a_column_of_mixed_kinds_is_refused_naming_the_cell(tmp_path, capsys, cells, message):
    data = write_csv(tmp_path / "d.csv", pd.DataFrame({"dose": cells, "y": [1.0, 2.0, 3.0, 5.0]}))
    assert main(["fit", data, "--x", "dose", "--y", "y", "-o", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert message.format(data) in err and err.count("\n") == 1
    assert not (tmp_path / "m.npz").exists()


def test_cli_x_all_takes_a_date_column_and_a_date_target_is_refused(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", FRAME[["when", "x", "curve"]])
    assert main(["fit", data, "--x-all", "--y", "curve", "-o", str(tmp_path / "m.npz"), "--max-iter", "5", "-q"]) == 0
    assert io.load_with_metadata(tmp_path / "m.npz")[1]["columns"]["x"] == ["when", "x"]
    assert main(["fit", data, "--x", "x", "--y", "when", "-o", str(tmp_path / "t.npz")]) == 2
    assert "dates are read only as inputs, in a column of dates" in capsys.readouterr().err


# --- plots -----------------------------------------------------------------------------------------


def test_plot_of_a_date_input_draws_a_date_axis(date_model, tmp_path):
    pytest.importorskip("matplotlib")
    figure = mlpfit.plot.fit(date_model, DATES[:, None], CURVE, x_names=["when"])
    fit_axes = figure.axes[0]
    assert fit_axes.xaxis.get_converter() is not None  # matplotlib's date converter: the axis is one of dates
    mlpfit.plot.save_png(figure, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_of_a_category_beside_a_number_draws_one_curve_per_category(site_model):
    pytest.importorskip("matplotlib")
    figure = mlpfit.plot.fit(site_model, FRAME[["site", "x"]], LEVELLED, x_names=["site", "x"], y_names=["y"])
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert labels == ["fit: y, site=east", "fit: y, site=north", "fit: y, site=south"]
    assert figure.axes[0].get_xlabel() == "x"


def test_plot_of_a_category_beside_a_date_draws_one_curve_per_category_on_a_date_axis():
    pytest.importorskip("matplotlib")
    frame = pd.DataFrame({"date": DATES, "site": np.where(np.arange(len(DATES)) % 2, "north", "south")})
    y = CURVE + np.where(frame["site"] == "north", 1.0, 0.0)
    model = NeuralRegressor(random_state=0, max_iter=20).fit(frame, y)
    figure = mlpfit.plot.fit(model, frame, y, x_names=["date", "site"], y_names=["y"])
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert labels == ["fit: y, site=north", "fit: y, site=south"]
    assert figure.axes[0].get_lines()[0].get_xdata().dtype.kind == "M"


def test_plot_of_a_date_input_with_a_log_target_marks_its_kinks_as_dates():
    pytest.importorskip("matplotlib")
    model = NeuralRegressor(random_state=0, target_transform="log", max_iter=20).fit(DATES[:, None], np.exp(CURVE))
    kinks = mlpfit.plot.breakpoints(model)
    assert kinks.dtype == np.dtype("datetime64[us]") and kinks.size
    figure = mlpfit.plot.fit(model, DATES[:, None], np.exp(CURVE))
    assert figure.axes[0].get_lines()[-1].get_label().startswith("breakpoints")
