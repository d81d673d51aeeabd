"""NeuralRegressor on Dask arrays and DataFrames: the fit of the same rows in memory, sums over chunks on workers."""

import numpy as np
import pytest

from mlpfit import NeuralRegressor

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")
distributed = pytest.importorskip("dask.distributed")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # runs cut short on purpose

CHUNK = 40
"""Rows per chunk: five chunks of the 200 rows, spread over the two workers."""
SAME = 1e-10
"""How close a Dask fit and the in-memory fit of the same rows are where their sums are split differently (the
standardisation's, over five chunks against one array): by rounding, which a fit may amplify."""


@pytest.fixture
def small_chunks(monkeypatch):
    """Row chunks of tens of rows for the sums, in memory and so for the Dask blocks, which are cut as they are:
    several blocks, on both workers, from small data."""
    from mlpfit import _network

    monkeypatch.setattr(_network, "CHUNK_ENTRIES", 1000)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        yield client


def rows(n_features, n_rows=200, seed=0):
    """Distinct rows in sorted order (as a weighted set leaves them, so that in memory they are fitted as given),
    noisy targets, and positive non-integer weights."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 3, (n_rows, n_features))
    X = X[np.lexsort(X.T[::-1])]
    y = np.sin(X).sum(axis=1) + 0.1 * rng.normal(size=n_rows)
    return X, y, rng.uniform(0.5, 2.0, n_rows)


def chunked(A):
    return da.from_array(A, chunks=(CHUNK, *A.shape[1:]))


@pytest.mark.parametrize(
    "n_features, params",
    [
        (1, {"solver": "lm", "alpha": 1e-4}),
        (1, {"solver": "lm", "alpha": "bayes"}),
        (2, {"solver": "lbfgs", "alpha": 1e-3, "max_iter": 10}),
    ],
    ids=["lm", "lm-bayes", "lbfgs"],
)
def test_a_dask_fit_is_the_in_memory_fit(client, small_chunks, n_features, params):
    X, y, _ = rows(n_features)
    params = {"hidden_layer_sizes": 5, "n_averaged": 1, "random_state": 0, **params}
    expected = NeuralRegressor(**params).fit(X, y)
    with distributed.get_task_stream(client) as tasks:
        model = NeuralRegressor(**params).fit(chunked(X), chunked(y))
    sums = [task for task in tasks.data if "block_result" in str(task["key"])]
    assert {task["worker"] for task in sums} == set(client.nthreads())  # on both workers
    assert model.n_iter_ == expected.n_iter_ and model.summary_.stop_reason == expected.summary_.stop_reason
    np.testing.assert_allclose(model.predict(X), expected.predict(X), rtol=0, atol=SAME)
    assert model.loss_ == pytest.approx(expected.loss_, abs=SAME)
    if params["alpha"] == "bayes":
        assert model.effective_params_ == pytest.approx(expected.effective_params_, rel=1e-8)


@pytest.mark.parametrize(
    "params",
    [{"solver": "lm", "alpha": "bayes"}, {"solver": "lbfgs", "alpha": 1e-3, "max_iter": 300}],
    ids=["lm-bayes", "lbfgs"],
)
def test_a_dask_fit_is_the_in_memory_fit_bit_for_bit_whatever_its_chunks(client, monkeypatch, params):
    from mlpfit import _dask_problem, _network, _scaling

    # several chunks per block and several blocks, on both workers: for LM's sums and for L-BFGS's
    monkeypatch.setattr(_network, "BLOCK_CHUNKS", 2)
    monkeypatch.setattr(_dask_problem, "WAVE_BLOCKS_PER_THREAD", 1)  # and several waves of a pass's blocks
    monkeypatch.setattr(_network, "FACTOR_CHUNK_ENTRIES", 500)
    monkeypatch.setattr(_network, "GRADIENT_CHUNK_ENTRIES", 250)
    monkeypatch.setattr(_scaling, "BLOCK_ROWS", 64)  # the standardisation's sums in several blocks
    X, y, _ = rows(2)
    params = {"hidden_layer_sizes": 5, "n_averaged": 1, "random_state": 0, **params}
    expected = NeuralRegressor(**params).fit(X, y)
    # the data in chunks of their own: the sums are cut into their in-memory blocks whatever the chunks
    model = NeuralRegressor(**params).fit(chunked(X), chunked(y))
    np.testing.assert_array_equal(model.theta_, expected.theta_)
    assert model.alpha_ == expected.alpha_ and model.loss_curve_ == expected.loss_curve_


def test_weights_and_averaged_networks_as_in_memory(client, small_chunks):
    X, y, weights = rows(1)
    params = {"hidden_layer_sizes": 4, "n_averaged": 2, "alpha": 1e-3, "max_iter": 5, "random_state": 1}
    expected = NeuralRegressor(**params).fit(X, y, weights)
    model = NeuralRegressor(**params).fit(chunked(X), chunked(y), chunked(weights))
    np.testing.assert_allclose(model.predict(X), expected.predict(X), rtol=0, atol=SAME)
    np.testing.assert_allclose(model.x_scaler_.scale, expected.x_scaler_.scale, rtol=1e-14)
    assert model.n_averaged_ == 2 and model.loss_ == pytest.approx(expected.loss_, abs=SAME)


GENERATED = []
"""The row blocks :func:`generated_block` has made, in this process (the test cluster's workers are threads)."""


def generated_block(block_id):
    GENERATED.append(block_id[0])
    X, y, _ = rows(1)
    start = block_id[0] * CHUNK
    return np.c_[X, y][start : start + CHUNK]


@pytest.mark.parametrize("share, passes", [(0.25, "once"), (0.0, "every pass")])
def test_rows_beyond_the_workers_share_of_memory_are_read_from_their_source_at_every_pass(
    client, small_chunks, monkeypatch, share, passes
):
    from mlpfit import _dask_problem

    monkeypatch.setattr(_dask_problem, "PERSIST_SHARE", share)
    GENERATED.clear()
    table = da.map_blocks(generated_block, chunks=((CHUNK,) * 5, (2,)), dtype=np.float64)
    X, y, _ = rows(1)
    params = {"hidden_layer_sizes": 5, "n_averaged": 1, "alpha": 1e-4, "max_iter": 20, "random_state": 0}
    model = NeuralRegressor(**params).fit(table[:, :1], table[:, 1])
    if passes == "once":
        assert sorted(GENERATED) == list(range(5))  # held on the workers from the start
    else:
        assert len(GENERATED) > 5 * model.n_iter_  # a normal-equations pass and trial passes per iteration
    np.testing.assert_allclose(model.predict(X), NeuralRegressor(**params).fit(X, y).predict(X), rtol=0, atol=SAME)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_the_graph_a_fit_computes_at_once_does_not_grow_with_the_rows(client, monkeypatch, weighted):
    from dask.callbacks import Callback

    from mlpfit import _dask_data, _dask_problem, _network, _scaling

    monkeypatch.setattr(_network, "BLOCK_CHUNKS", 1)
    monkeypatch.setattr(_network, "FACTOR_CHUNK_ENTRIES", 500)  # blocks of tens of rows
    monkeypatch.setattr(_scaling, "BLOCK_ROWS", 64)
    monkeypatch.setattr(_dask_problem, "WAVE_BLOCKS_PER_THREAD", 1)
    monkeypatch.setattr(_dask_problem, "PERSIST_SHARE", 0.0)  # every pass reads the rows from their source
    monkeypatch.setattr(_dask_data, "SAMPLE_ROWS", 50)
    graphs = {400: [], 1600: []}
    for n_rows, sizes in graphs.items():
        X, y, weights = rows(1, n_rows)
        with dask.config.set(scheduler="sync"), Callback(start=lambda graph, sizes=sizes: sizes.append(len(graph))):
            NeuralRegressor(4, n_averaged=1, alpha=1e-3, max_iter=3, random_state=0).fit(
                chunked(X), chunked(y), chunked(weights) if weighted else None
            )
    assert max(graphs[1600]) == max(graphs[400])  # four times the rows, the chunks and the blocks: the same graphs


def test_beyond_sample_rows_the_start_sees_a_fixed_sample_of_them(client, monkeypatch):
    from mlpfit import _dask_data

    monkeypatch.setattr(_dask_data, "SAMPLE_ROWS", 50)
    X, y, _ = rows(1)
    params = {"n_averaged": 1, "max_iter": 3, "random_state": 0}
    first, second = (NeuralRegressor(**params).fit(chunked(X), chunked(y)) for _ in range(2))
    np.testing.assert_array_equal(first.theta_, second.theta_)
    assert first.plan_.n_training_rows == 200 and np.isfinite(first.loss_)  # the solver saw every row


def test_a_dask_dataframe_gives_its_columns_as_feature_names(client):
    X, y, _ = rows(2, n_rows=60)
    frame = dd.from_pandas(pd.DataFrame({"dose": X[:, 0], "time": X[:, 1], "response": y}), npartitions=3)
    model = NeuralRegressor(hidden_layer_sizes=3, n_averaged=1, max_iter=3, random_state=0)
    model.fit(frame[["dose", "time"]], frame["response"])
    assert list(model.feature_names_in_) == ["dose", "time"]
    predicted = model.predict(frame[["dose", "time"]])
    assert isinstance(predicted, da.Array)
    np.testing.assert_array_equal(predicted.compute(), model.predict(pd.DataFrame(X, columns=["dose", "time"])))


def test_predict_on_a_dask_array_is_lazy(client):
    X, y, _ = rows(1, n_rows=50)
    model = NeuralRegressor(hidden_layer_sizes=3, n_averaged=1, max_iter=3, random_state=0).fit(X, y)
    with distributed.get_task_stream(client) as tasks:
        predicted = model.predict(chunked(X))
    assert isinstance(predicted, da.Array) and predicted.shape == (50,) and not tasks.data  # nothing ran
    np.testing.assert_array_equal(predicted.compute(), model.predict(X))


def test_in_range_on_a_dask_array_is_lazy_and_as_in_memory(client):
    X, y, _ = rows(2, n_rows=50)
    model = NeuralRegressor(hidden_layer_sizes=3, n_averaged=1, max_iter=3, random_state=0).fit(X, y)
    X_new = np.random.default_rng(1).uniform(-1.5, 1.5, size=(40, 2))  # some rows beyond the training range
    with distributed.get_task_stream(client) as tasks:
        inside = model.in_range(chunked(X_new))
    assert isinstance(inside, da.Array) and inside.dtype == bool and not tasks.data  # nothing ran
    expected = model.in_range(X_new)
    assert 0 < expected.sum() < len(X_new)
    np.testing.assert_array_equal(inside.compute(), expected)


@pytest.mark.parametrize(
    "change, params, message",
    [
        ("nan", {}, r"X has nan in input column 1, row 130 \(row 10 of chunk 3 of 5\): a fit needs finite numbers"),
        ("negative weight", {}, r"sample_weight must be finite and >= 0; it has a negative weight in row 7 \(row 7 "),
        (None, {"solver": "adam"}, r"solver='adam' trains on minibatches, which a fit on Dask data does not draw"),
        (None, {"early_stopping": True}, r"early_stopping=True is not supported on Dask data: the held-out rows"),
        (None, {"loss": "gaussian_nll"}, r"loss='gaussian_nll' is not supported on Dask data"),
        (None, {"target_transform": "log"}, r"target_transform='log' is not supported on Dask data"),
        (None, {"n_jobs": 2}, r"n_jobs=2 is not supported on Dask data"),
    ],
)
def test_what_a_dask_fit_does_not_take_is_refused_by_name(client, change, params, message):
    X, y, weights = rows(2)
    if change == "nan":
        X[130, 1] = np.nan
    if change == "negative weight":
        weights[7] = -1.0
    with pytest.raises(ValueError, match=message):
        NeuralRegressor(**params).fit(chunked(X), chunked(y), chunked(weights))


def test_a_text_column_is_refused_by_name(client):
    frame = pd.DataFrame({"dose": np.arange(10.0), "site": list("abababbaab"), "response": np.arange(10.0) ** 2})
    frame = dd.from_pandas(frame, npartitions=2)
    with pytest.raises(ValueError, match=r"column 'site' of X holds .*, not numbers: a fit on Dask data takes numbers"):
        NeuralRegressor().fit(frame[["dose", "site"]], frame["response"])


@pytest.fixture
def parquet_dataset(tmp_path):
    """Three Parquet files of one table in a directory, and the table's rows in order."""
    X, y, _ = rows(1, n_rows=90)
    for i in range(3):
        part = slice(30 * i, 30 * (i + 1))
        pd.DataFrame({"dose": X[part, 0], "response": y[part]}).to_parquet(tmp_path / f"part{i}.parquet")
    return tmp_path, X, y


def test_the_command_line_fits_a_parquet_directory_on_a_cluster(client, parquet_dataset, tmp_path, capsys):
    from mlpfit import load
    from mlpfit.cli import main

    directory, X, y = parquet_dataset
    options = ["--x", "dose", "--y", "response", "--hidden", "3", "--max-iter", "3", "--seed", "0"]
    address = client.scheduler.address
    assert main(["fit", str(directory), *options, "--scheduler", address, "-o", str(tmp_path / "m.npz")]) == 0
    report = capsys.readouterr()
    assert "rows used: 90; inputs dose; target response" in report.out and "training RMSE" in report.out
    assert f"on 2 Dask worker(s), scheduler {address}" in report.err
    expected = NeuralRegressor(hidden_layer_sizes=3, max_iter=3, random_state=0, verbose=1).fit(X, y)
    predicted = load(str(tmp_path / "m.npz")).predict(pd.DataFrame({"dose": X[:, 0]}))
    np.testing.assert_allclose(predicted, expected.predict(X), rtol=0, atol=SAME)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--workers", "2", "--plot", "fit.png"], "--plot needs the rows in memory; it cannot be combined with"),
        (["--workers", "0"], "--workers must be at least 1; got 0"),
        (["--scheduler", "tcp://127.0.0.1:9", "--x-all"], "--x-all reads the table in memory"),
        (["--workers", "2", "--weight", "w"], "has no column 'w'; available columns: dose, response"),
    ],
)
def test_the_command_line_refuses_on_a_cluster_what_needs_memory(parquet_dataset, tmp_path, capsys, options, message):
    from mlpfit.cli import main

    directory, _, _ = parquet_dataset
    args = ["fit", str(directory), "--y", "response", "-o", str(tmp_path / "m.npz"), *options]
    assert main(args if "--x-all" in options else [*args, "--x", "dose"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error


def test_the_sample_of_rows_is_distinct_sorted_and_spread_over_them():
    from mlpfit._dask_data import _distinct_rows

    rows = _distinct_rows(1000, 900, np.random.default_rng(0))  # most rows: several rounds of draws
    assert len(rows) == 900 and np.all(np.diff(rows) > 0) and rows[0] >= 0 and rows[-1] < 1000
    many = _distinct_rows(10**9, 10**4, np.random.default_rng(1))
    assert len(many) == 10**4 and np.all(np.diff(many) > 0)
    assert np.histogram(many, bins=10, range=(0, 10**9))[0].min() > 900  # about 1,000 in each tenth
