"""CurveBatch on a Dask DataFrame or a Parquet dataset: partition by partition, the curves of the in-process fit."""

import sys

import numpy as np
import pytest

from mlpfit import CurveBatch, NeuralRegressor

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
