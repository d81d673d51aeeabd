"""NeuralRegressor on Dask arrays, on a local cluster of worker processes with one thread each (issue 20):

1. A fit of 10^7 rows generated lazily, block by block on the workers (never whole on the client), with the
   workers' memory limited below the rows so that each pass reads them from their source: the client's peak memory
   growth against a fit of 10^6 rows (it should not follow the rows) and each worker's, against its blocks' size.
   Both sizes are also fitted with the rows read at every pass (``PERSIST_SHARE`` 0), like for like.
2. The speedup from 1 to 2 workers on 10^6 rows (held on the workers), the same LM iterations on each.
3. The Dask fit against the in-memory fit of the same 10^5 rows (sorted and distinct, as a weighted set leaves
   them): the largest difference in prediction, for LM with Bayesian regularisation and for L-BFGS.

Each cluster is a scheduler process and worker processes started by the ``dask`` command, and its client runs
in a process of its own, so the client's peak is that fit's alone (a LocalCluster would run the scheduler inside
the client). The rows: four uniform inputs and Friedman's first function of them plus noise; each block drawn
from its own seed.

Every process keeps ``--message-log`` of its last messages for developers (Dask's
``distributed.admin.low-level-log-length``, 1,000 by default; 0 here unless given): the client's log holds the
passes' graphs, so its memory follows the rows until the log is full.

Usage: python benchmarks/dask_engine.py [--rows 10000000] [--message-log 0] [--output results/dask_engine.txt]
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

BLOCK_ROWS = 250_000
"""Rows per generated block (10 MB of four inputs and a target)."""
N_INPUTS = 4
LM = {"hidden_layer_sizes": (10,), "solver": "lm", "alpha": 1e-3, "n_averaged": 1, "random_state": 0}
"""The network fitted on the cluster: P = 61, a fixed penalty, so that every run takes the same iterations."""
STREAMED_LIMIT = "600MiB"
"""Each worker's memory limit in the first measure: room for its own work, and a quarter of two such holds 10^6
rows but not 10^7 (400 MB), which are then read from their source at every pass (the report says which)."""
MESSAGE_LOG = "DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH"
"""The environment variable of Dask's setting ``distributed.admin.low-level-log-length``: the messages each client,
scheduler and worker keeps for developers (``--message-log``)."""
HELD_LIMIT = "6GiB"
"""Each worker's memory limit in the speedup measure: the rows are held on the workers."""


def block(block_id):
    """Block ``block_id`` of the rows: inputs and the target in the last column, from the block's own seed."""
    rng = np.random.default_rng(block_id[0])
    X = rng.uniform(0, 1, (BLOCK_ROWS, N_INPUTS))
    y = np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2 + 10 * X[:, 3] + rng.normal(size=BLOCK_ROWS)
    return np.c_[X, y]


def lazy_rows(n_rows):
    """``(X, y)`` of ``n_rows`` rows as Dask arrays, each block generated where it is computed."""
    import dask.array as da

    n_blocks = -(-n_rows // BLOCK_ROWS)
    table = da.map_blocks(block, chunks=((BLOCK_ROWS,) * n_blocks, (N_INPUTS + 1,)), dtype=np.float64)
    return table[:n_rows, :N_INPUTS], table[:n_rows, N_INPUTS]


def _high_water_mark():
    """This process's peak resident memory so far, in bytes."""
    return _status_bytes("VmHWM")


def _resident():
    return _status_bytes("VmRSS")


def _status_bytes(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(f"{field}:")) * 1024


@contextmanager
def cluster_client(n_workers, memory_limit=None):
    """A ``dask.distributed`` client of a scheduler process and ``n_workers`` worker processes of one thread each
    (``memory_limit`` each), all started here and stopped on exit; the workers import this script's blocks."""
    from dask.distributed import Client

    dask_command = Path(sys.executable).with_name("dask")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parent)}
    with tempfile.TemporaryDirectory() as folder:
        address = Path(folder) / "scheduler.json"
        quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        scheduler = [dask_command, "scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", address]
        worker = [dask_command, "worker", "--scheduler-file", address, "--nworkers", str(n_workers), "--nthreads", "1"]
        worker += ["--no-dashboard", "--memory-limit", memory_limit or "0"]
        processes = [subprocess.Popen(scheduler, **quiet)]
        try:
            while not address.exists():
                time.sleep(0.1)
            processes.append(subprocess.Popen(worker, **quiet))
            with Client(scheduler_file=str(address)) as client:
                client.wait_for_workers(n_workers)
                yield client
        finally:
            for process in reversed(processes):
                process.terminate()
                process.wait()


def run_fit(n_rows, n_workers, memory_limit, max_iter, always_read=False):
    """Fit ``n_rows`` lazy rows on a cluster from this process; print one JSON line: seconds, iterations, whether
    the rows were held on the workers, the client's and each worker's peak memory growth (MiB). ``always_read``:
    the rows are read from their source at every pass whatever the workers' memory."""
    from mlpfit import NeuralRegressor, _dask_problem

    warnings.simplefilter("ignore")
    if always_read:
        _dask_problem.PERSIST_SHARE = 0.0
    with cluster_client(n_workers, memory_limit) as client:
        X, y = lazy_rows(2 * BLOCK_ROWS)
        NeuralRegressor(**{**LM, "max_iter": 1}).fit(X, y)  # every worker imports mlpfit and fits once
        X, y = lazy_rows(n_rows)
        held = (X.nbytes + y.nbytes) <= _dask_problem.PERSIST_SHARE * _dask_problem.workers_memory()
        client_before, workers_before = _high_water_mark(), client.run(_resident)
        start = time.perf_counter()
        model = NeuralRegressor(**{**LM, "max_iter": max_iter}).fit(X, y)
        seconds = time.perf_counter() - start
        workers_peak = client.run(_high_water_mark)
        growth = [(workers_peak[w] - workers_before[w]) / 2**20 for w in sorted(workers_peak)]
    row = {
        "seconds": seconds,
        "n_iter": model.n_iter_,
        "held": held,
        "client_mib": (_high_water_mark() - client_before) / 2**20,
        "workers_mib": growth,
    }
    print(json.dumps(row))


def run_agreement(n_rows):
    """Fit the same ``n_rows`` rows in memory and on a cluster of 2 workers; print one JSON line per solver with
    the largest difference in prediction and whether the iterations agree."""
    import dask.array as da

    from mlpfit import NeuralRegressor

    warnings.simplefilter("ignore")
    X, y = (np.asarray(A) for A in lazy_rows(n_rows))
    order = np.lexsort(X.T[::-1])
    X, y = X[order], y[order]  # distinct rows in sorted order: the in-memory weighted set keeps them as given
    solvers = {
        "lm, alpha='bayes'": {**LM, "alpha": "bayes", "max_iter": 100},
        "lbfgs, alpha=1e-3": {**LM, "solver": "lbfgs", "max_iter": 300},
    }
    with cluster_client(2):
        for name, params in solvers.items():
            expected = NeuralRegressor(**params).fit(X, y)
            chunks = n_rows // 4
            model = NeuralRegressor(**params).fit(da.from_array(X, chunks=(chunks, N_INPUTS)), da.from_array(y, chunks))
            difference = float(np.max(np.abs(model.predict(X) - expected.predict(X))))
            same = model.n_iter_ == expected.n_iter_
            row = {"solver": name, "difference": difference, "same_iterations": same, "n_iter": model.n_iter_}
            print(json.dumps(row))


def _child(*arguments):
    """The JSON lines of a ``--run`` in a fresh process."""
    done = subprocess.run([sys.executable, __file__, "--run", *map(str, arguments)], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the run {arguments} failed: {done.stderr.strip()[-2000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def report(n_rows, max_iter):
    """The report, line by line, as each run finishes."""
    block_mib = BLOCK_ROWS * (N_INPUTS + 1) * 8 / 2**20
    yield f"rows generated lazily in blocks of {BLOCK_ROWS:,} ({block_mib:.0f} MiB); LM on a 4-10-1 network (P = 61)"
    yield f"1. 2 workers of {STREAMED_LIMIT} each, {max_iter} LM iterations"
    for rows, always_read in ((n_rows // 10, 0), (n_rows // 10, 1), (n_rows, 0)):
        (row,) = _child("fit", rows, 2, STREAMED_LIMIT, max_iter, always_read)
        held = "held on the workers" if row["held"] else "read from the source at every pass"
        workers = ", ".join(f"{mib:.0f}" for mib in row["workers_mib"])
        yield (
            f"  {rows:>10,} rows ({held}): {row['seconds']:.1f} s, {row['n_iter']} iterations; peak growth: "
            f"client {row['client_mib']:.1f} MiB, workers {workers} MiB"
        )
    speed_rows = n_rows // 10
    yield f"2. {speed_rows:,} rows held on workers of {HELD_LIMIT}, {max_iter} LM iterations"
    seconds = {}
    for n_workers in (1, 2):
        (row,) = _child("fit", speed_rows, n_workers, HELD_LIMIT, max_iter, 0)
        seconds[n_workers] = row["seconds"]
        yield f"  {n_workers} worker(s): {row['seconds']:.1f} s, {row['n_iter']} iterations"
    yield f"  speedup from 1 to 2 workers: {seconds[1] / seconds[2]:.2f}"
    agreement_rows = n_rows // 100
    yield f"3. the same {agreement_rows:,} rows in memory and on 2 workers (4 chunks)"
    for row in _child("agreement", agreement_rows):
        yield (
            f"  {row['solver']}: largest difference in prediction {row['difference']:.2g}, "
            f"{row['n_iter']} iterations, the same as in memory: {row['same_iterations']}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the largest fit")
    parser.add_argument("--max-iter", type=int, default=10, help="LM iterations of the timed fits")
    parser.add_argument(
        "--message-log", type=int, default=0, help="messages Dask keeps for developers (its default: 1000)"
    )
    parser.add_argument("--output")
    parser.add_argument("--run", nargs="+", help=argparse.SUPPRESS)  # one child's measure
    args = parser.parse_args()
    if args.run:
        kind, *values = args.run
        if kind == "fit":
            rows, n_workers, limit, max_iter, always_read = values
            run_fit(int(rows), int(n_workers), limit, int(max_iter), bool(int(always_read)))
        else:
            run_agreement(int(values[0]))
        return
    os.environ[MESSAGE_LOG] = str(args.message_log)  # read by Dask in every process the runs start
    lines = [f"distributed.admin.low-level-log-length: {args.message_log}"]
    print(lines[0], flush=True)
    for line in report(args.rows, args.max_iter):
        print(line, flush=True)
        lines.append(line)
    if args.output:
        with open(args.output, "w") as out:
            out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
