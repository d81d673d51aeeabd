"""CurveBatch on a Dask DataFrame or a Parquet dataset: partition by partition, the curves of the in-process fit."""

import json
import os
import shutil
import sys

import numpy as np
import pytest

import mlpfit
from mlpfit import CurveBatch, CurveDirectory, CurveTally, NeuralRegressor

pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("dask.distributed")

GRID = np.linspace(0, 10, 30)


@pytest.fixture(scope="module")
def table():
    """Ten curves of 40 to 80 rows, the rows shuffled (so each curve's rows are spread over every partition),
    a weight column, and one curve with a NaN target."""
    rng = np.random.default_rng(0)
    parts = []
    for i in range(10):
        n = int(rng.integers(40, 80))
        x = rng.uniform(0, 10, n)
        y = (1 + i / 5) * np.sqrt(x) + np.sin((1 + i / 10) * x) + 0.1 * rng.normal(size=n)
        parts.append(pd.DataFrame({"sensor": f"s{i}", "t": x, "value": y, "w": rng.integers(1, 3, n).astype(float)}))
    frame = pd.concat(parts, ignore_index=True).sample(frac=1, random_state=0, ignore_index=True)
    frame.loc[frame.index[frame["sensor"] == "s9"][0], "value"] = np.nan
    return frame


def _batch():
    return CurveBatch(NeuralRegressor(random_state=0), diagnose=False)


@pytest.fixture(scope="module")
def in_process(table):
    return _batch().fit(table["t"], table["value"], groups=table["sensor"], sample_weight=table["w"])


def _assert_same_curves(batch, expected):
    assert sorted(batch.groups_) == sorted(expected.groups_) and batch.errors_ == expected.errors_
    for group in expected.estimators_:
        np.testing.assert_array_equal(batch.predict(group, GRID), expected.predict(group, GRID))
    rows = dict(zip(batch.summary_["group"], batch.summary_["n_rows"]))
    assert rows == dict(zip(expected.summary_["group"], expected.summary_["n_rows"]))


@pytest.mark.parametrize("n_workers", [1, 2])
def test_a_dask_frame_gives_the_in_process_curves_on_any_number_of_workers(table, in_process, n_workers):
    frame = dd.from_pandas(table, npartitions=3, sort=False)
    assert all(part["sensor"].nunique().compute() == 10 for part in frame.partitions)  # each curve in every one
    cluster = distributed.LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client, distributed.get_task_stream(client) as tasks:
        batch = _batch().fit(frame, groups="sensor", x="t", y="value", sample_weight="w")
        workers = set(client.scheduler_info()["workers"])
    fitting = [task for task in tasks.data if "_fit_partition" in str(task["key"])]
    assert len(fitting) == 3 and {task["worker"] for task in fitting} <= workers  # a task per partition
    _assert_same_curves(batch, in_process)
    assert "NaN" in batch.errors_["s9"]


def test_a_parquet_dataset_is_fitted_from_its_path(table, in_process, tmp_path):
    dd.from_pandas(table, npartitions=2, sort=False).to_parquet(tmp_path / "curves")
    batch = _batch().fit(str(tmp_path / "curves" / "*.parquet"), groups="sensor", x=["t"], y="value", sample_weight="w")
    _assert_same_curves(batch, in_process)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"groups": "sensor", "x": "t", "y": "volume"}, "no column 'volume' in the table; its columns are"),
        ({"groups": "sensor", "y": "value"}, "x must name the input column"),
        ({"groups": None, "x": "t", "y": "value"}, "groups must name a column"),
    ],
)
def test_columns_that_are_not_in_the_table_are_refused(table, kwargs, message):
    with pytest.raises(ValueError, match=message):
        _batch().fit(dd.from_pandas(table, npartitions=2), **kwargs)


def test_x_columns_are_refused_for_arrays():
    with pytest.raises(ValueError, match="x names the input columns of a Dask DataFrame"):
        _batch().fit(np.zeros((2, 5)), np.zeros((2, 5)), x="t")


def test_without_dask_a_parquet_path_asks_for_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.dataframe", None)
    with pytest.raises(ImportError, match=r"needs dask: pip install 'mlpfit\[dask\]'"):
        _batch().fit("curves/*.parquet", groups="sensor", x="t", y="value")


# --- a fit written part by part into a directory ----------------------------------------------


@pytest.fixture(scope="module")
def directory(table, tmp_path_factory):
    """The table fitted into a directory of 4 parts on a LocalCluster of 2 workers."""
    path = tmp_path_factory.mktemp("curves") / "out"
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    with cluster, distributed.Client(cluster):
        frame = dd.from_pandas(table, npartitions=3, sort=False)
        columns = {"groups": "sensor", "x": "t", "y": "value", "sample_weight": "w"}
        written = _batch().fit_to_directory(frame, path, **columns, n_parts=4)
    return path, written


def test_a_directory_fit_holds_the_in_process_curves_part_by_part(directory, in_process):
    path, written = directory
    loaded = CurveBatch.load(path)
    assert isinstance(loaded, CurveDirectory) and isinstance(loaded.tally_, CurveTally)  # both public names
    assert sorted(os.listdir(path)) == ["curves.json", *(f"part-{i:05d}.npz" for i in sorted(written.parts_))]
    for group in in_process.estimators_:
        np.testing.assert_array_equal(loaded.predict(group, GRID), in_process.predict(group, GRID))
        assert loaded.curve_estimator(group).fitted_.runs == in_process.estimators_[group].fitted_.runs
        part = mlpfit.load(path / f"part-{loaded.part_of(group):05d}.npz")  # each part an ordinary model file
        np.testing.assert_array_equal(part.predict(group, GRID), in_process.predict(group, GRID))
    with pytest.raises(ValueError, match="curve 's9' was not fitted: .*NaN"):
        loaded.predict("s9", GRID)
    with pytest.raises(ValueError, match="no curve 'zz'; the directory has 10 curves"):
        loaded.predict("zz", GRID)


def test_the_tally_of_the_parts_is_that_of_the_whole(directory, in_process):
    whole, tally = CurveTally.of(in_process), directory[1].tally_
    assert tally == CurveBatch.load(directory[0]).tally_
    assert (tally.n_curves, tally.n_fitted, tally.n_rows) == (10, 9, int(in_process.summary_["n_rows"].sum()))
    assert tally.stop_reasons == whole.stop_reasons and tally.worst == whole.worst and tally.failed == whole.failed


def test_a_fit_into_a_directory_replaces_an_earlier_one_and_nothing_else(table, tmp_path, monkeypatch):
    frame = dd.from_pandas(table, npartitions=2, sort=False)
    monkeypatch.chdir(tmp_path)
    first = _batch().fit_to_directory(frame, "out", groups="sensor", x="t", y="value", n_parts=5)
    assert first.path == str(tmp_path / "out")  # absolute, as workers elsewhere must find it
    again = _batch().fit_to_directory(frame, tmp_path / "out", groups="sensor", x="t", y="value", n_parts=2)
    assert sorted(os.listdir(tmp_path / "out")) == ["curves.json", *(f"part-{i:05d}.npz" for i in sorted(again.parts_))]
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="out holds 'notes.txt', which no fit of curves wrote"):
        _batch().fit_to_directory(frame, tmp_path / "out", groups="sensor", x="t", y="value")
    with pytest.raises(ValueError, match="out/notes.txt is a file; the curves are written into a directory"):
        _batch().fit_to_directory(frame, tmp_path / "out" / "notes.txt", groups="sensor", x="t", y="value")


def _copy(directory, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(directory[0], copy)
    return copy


def _index(path):
    return json.loads((path / "curves.json").read_text())


def test_a_missing_or_replaced_part_is_refused_by_name(directory, tmp_path):
    copy = _copy(directory, tmp_path)
    first, second = [record for record in directory[1].parts_.values() if record.file][:2]
    loaded = CurveBatch.load(copy)
    shutil.copy(copy / second.file, copy / first.file)  # another part's file in its place
    with pytest.raises(ValueError, match=rf"copy/{first.file} is not the part the fit wrote \(its SHA-256 differs"):
        loaded.part(first.part)
    (copy / first.file).unlink()
    with pytest.raises(ValueError, match=rf"copy/{first.file} is missing: the index lists it as part {first.part}"):
        loaded.part(first.part)
    assert len(loaded.part(second.part).groups_) == second.n_curves  # the other parts are still read
    (copy / "curves.json").unlink()
    with pytest.raises(ValueError, match="has no index curves.json: it is not a directory of curves, or its fit did"):
        CurveBatch.load(copy)


def _part_with_curves(index):
    return next(record for record in index["parts"] if record["file"])


def _set(key, value):
    def change(index):
        index[key] = value

    return change


def _set_part(key, value):
    def change(index):
        _part_with_curves(index)[key] = value

    return change


@pytest.mark.parametrize(
    "change, message",
    [
        (_set("format", "other"), "its format is not 'mlpfit-curve-directory'"),
        (_set("format_version", 2), "format_version 2; this mlpfit reads version 1"),
        (_set("n_parts", 0), "field 'n_parts' must be an integer >= 1"),
        (_set_part("file", "../../etc/passwd"), r"field 'file' must be 'part-\d{5}.npz'"),
        (_set_part("part", 99), r"field 'part' must be an integer in \[0, 4\)"),
        (_set_part("n_fitted", 50), "field 'n_fitted' must be 0 to"),
        (_set_part("sha256", "x"), "field 'sha256' must be hex"),
        (_set("parts", []), "the tally's curves and fitted curves are not the parts' sums"),
        (lambda index: index["parts"].append(index["parts"][0]), "a part is listed twice"),
        (lambda index: index["tally"].update(worst=[["s1", "bad"]]), "field 'worst' must hold pairs of a group and a"),
    ],
)
def test_a_crafted_index_is_refused(directory, tmp_path, change, message):
    copy = _copy(directory, tmp_path)
    index = _index(copy)
    change(index)
    (copy / "curves.json").write_text(json.dumps(index))
    with pytest.raises(ValueError, match=f"copy/curves.json is not a valid index of curves: .*{message}"):
        CurveBatch.load(copy)


def test_a_part_holding_curves_of_another_part_is_refused(directory, tmp_path):
    copy = _copy(directory, tmp_path)
    index = _index(copy)
    one, other = [record for record in index["parts"] if record["file"]][:2]
    for key in ("part", "file"):  # the records, and so the files, of two parts swapped: each file as written
        one[key], other[key] = other[key], one[key]
    (copy / one["file"]).rename(copy / "swap")
    (copy / other["file"]).rename(copy / one["file"])
    (copy / "swap").rename(copy / other["file"])
    (copy / "curves.json").write_text(json.dumps(index))
    with pytest.raises(ValueError, match=rf"{one['file']} holds curve '\w+', which belongs in part {other['part']}"):
        CurveBatch.load(copy).part(one["part"])


def test_a_part_too_large_for_one_model_file_asks_for_more_parts(table, tmp_path, monkeypatch):
    monkeypatch.setattr(mlpfit._model_file, "MAX_METADATA_CHARS", 5000)  # a few curves' metadata, not ten
    frame = dd.from_pandas(table, npartitions=2, sort=False)
    with pytest.raises(
        ValueError,
        match=r"part 0 holds 10 curves, more than one model file takes: cannot save .*part-00000.npz; load would "
        r"refuse the file: the metadata is \d+ characters long; the limit is 5000. Spread the curves over more parts: "
        r"a larger n_parts",
    ):
        _batch().fit_to_directory(frame, tmp_path / "out", groups="sensor", x="t", y="value", n_parts=1)
    assert os.listdir(tmp_path / "out") == []  # no index, no part: nothing a reader could take for a fit


def test_dates_text_and_float_groups_are_refused_naming_the_column(table, tmp_path):
    dated = table.assign(day=pd.Timestamp("2024-01-01") + pd.to_timedelta(table["t"], unit="D"), kind="a")
    frame = dd.from_pandas(dated.assign(code=table["t"].round()), npartitions=2)
    for column, dtype in (("day", "datetime64"), ("kind", "object|str")):
        with pytest.raises(ValueError, match=f"column '{column}' holds ({dtype}).*convert dates to numbers"):
            _batch().fit(frame, groups="sensor", x=["t", column], y="value")
    with pytest.raises(ValueError, match="column 'code' holds float64; the groups of curves written to a directory"):
        _batch().fit_to_directory(frame, tmp_path / "out", groups="code", x="t", y="value")
    with pytest.raises(ValueError, match="fit_to_directory fits a Dask DataFrame or a Parquet dataset"):
        _batch().fit_to_directory(np.zeros((2, 5)), tmp_path / "out", groups="g", x="t", y="v")
