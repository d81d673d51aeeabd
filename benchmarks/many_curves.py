"""Many curves at once: fits per second and error against the truth, one curve per group, side by side.

Each curve is ``y = a sqrt(x) + b sin(c x) + 0.1 N(0, 1)`` at ``n`` points ``x ~ U(0, 10)``, with its own
``a ~ U(0.5, 2)``, ``b ~ U(0.5, 2)``, ``c ~ U(0.5, 3)``. Systems, on the same curves in this one run:

- mlpfit defaults, one by one: ``NeuralRegressor(random_state=0).fit`` per curve;
- mlpfit (10,), one by one: the same with ``hidden_layer_sizes=10``;
- sklearn L-BFGS (10), one by one: ``MLPRegressor(10, solver="lbfgs", max_iter=2000)`` between
  ``StandardScaler``s of x and y (``TransformedTargetRegressor``);
- PyTorch, batched: every curve's own (10,) tanh network in one tensor (``bmm``), x and y standardised per curve,
  Adam (learning rate 0.01) for 2,000 full-batch steps;
- curve_fit, true form: ``scipy.optimize.curve_fit`` of ``a sqrt(x) + b sin(c x)`` from three starts
  (``c`` = 0.5, 1.5, 2.5; ``a = b = 1``), the lowest sum of squares kept: the parametric bar;
- mlpfit CurveBatch: ``CurveBatch(NeuralRegressor(random_state=0), diagnose=False).fit(x, y)``, every curve in
  one call; each curve's model is the one-by-one defaults' (the same seed), so the two rows' errors agree where
  they fit the same curves.

Per system: fits per second (wall time of the fitting alone, one BLAS thread), the median and 90th percentile
over curves of the RMSE against the noise-free truth on 200 points spanning each curve's x, and the peak memory
the fitting adds (each system runs in its own process; its maximum resident size after fitting less that before).
One-by-one systems fit at most ``--loop-curves`` of the curves (their rate and errors are taken on those), so
that B = 10,000 runs in minutes.

With ``--cluster``, the issue's scale-out measures instead, each fit by ``CurveBatch.fit_to_directory`` from a
Parquet dataset (``curve``, ``x``, ``y``; written file by file, ``--curves-per-file`` curves each, never all in
memory) on a ``dask.distributed`` LocalCluster of worker processes with one thread each:

- the speedup from 1 to 2 workers on ``--cluster-size`` curves (default 10,000 of 100 points; the issue's target
  is 1.7 or more): fits per second on each cluster, after every worker has fitted a first file, so imports are
  not timed;
- ``--many`` curves of 50 points (default 10^6) and a tenth of them, each in ``--many-files`` files (so the
  partitions, and with them the task graph and the parts' records, are as many at both sizes), on 2 workers,
  written part by part: the client's peak memory growth during the fit (its maximum resident size less that
  before), which should not grow with the number of curves.

Each cluster runs from its own client process, so each peak is that fit's alone.

Usage: OPENBLAS_NUM_THREADS=1 python benchmarks/many_curves.py [--sizes 100x100,1000x100,10000x100,1000x1000]
    [--loop-curves 300] [--systems ...] [--output benchmarks/results/many_curves.txt]
    OPENBLAS_NUM_THREADS=1 python benchmarks/many_curves.py --cluster [--cluster-size 10000x100]
    [--many 1000000] [--many-files 100] [--curves-per-file 1000] [--output ...]
PyTorch is a peer here, not a dependency: ``pip install torch`` to include its row.
"""

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

GRID = 200
SEED = 0
STARTS = (0.5, 1.5, 2.5)


def make_curves(n_curves, n_points, seed=SEED):
    """``(x, y, params)``: arrays (n_curves, n_points) and the true ``(a, b, c)`` of each curve."""
    rng = np.random.default_rng(seed)
    params = np.column_stack(
        [rng.uniform(0.5, 2, n_curves), rng.uniform(0.5, 2, n_curves), rng.uniform(0.5, 3, n_curves)]
    )
    x = rng.uniform(0, 10, (n_curves, n_points))
    return x, truth(x, params) + 0.1 * rng.normal(size=x.shape), params


def truth(x, params):
    a, b, c = (params[:, k : k + 1] for k in range(3))
    return a * np.sqrt(x) + b * np.sin(c * x)


def grids(x):
    """200 points spanning each curve's x: (n_curves, GRID)."""
    return np.linspace(x.min(axis=1), x.max(axis=1), GRID, axis=1)


def _one_by_one(make_model):
    def fit(x, y):
        predictions = np.empty((len(x), GRID))
        grid = grids(x)
        start = time.perf_counter()
        for i in range(len(x)):
            predictions[i] = make_model(i).fit(x[i, :, None], y[i]).predict(grid[i, :, None])
        return time.perf_counter() - start, grid, predictions

    return fit


def _mlpfit(**params):
    from mlpfit import NeuralRegressor

    return _one_by_one(lambda i: NeuralRegressor(random_state=0, **params))


def _sklearn():
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def make(i):
        network = MLPRegressor(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=2000, random_state=i)
        return TransformedTargetRegressor(make_pipeline(StandardScaler(), network), transformer=StandardScaler())

    return _one_by_one(make)


def _torch():
    import torch

    return lambda x, y: _torch_fit(torch, x, y)


def _torch_fit(torch, x, y, steps=2000, width=10, learning_rate=0.01):
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    grid = grids(x)
    start = time.perf_counter()
    x_mean, x_std = x.mean(axis=1, keepdims=True), x.std(axis=1, keepdims=True)
    y_mean, y_std = y.mean(axis=1, keepdims=True), y.std(axis=1, keepdims=True)
    inputs = torch.tensor(((x - x_mean) / x_std)[:, :, None])
    targets = torch.tensor(((y - y_mean) / y_std)[:, :, None])
    n_curves = len(x)
    bound = 1.0  # PyTorch's default Linear init for one input: U(-1, 1); 1/sqrt(width) for the output layer
    W1 = torch.empty(n_curves, 1, width, dtype=torch.float64).uniform_(-bound, bound).requires_grad_()
    b1 = torch.empty(n_curves, 1, width, dtype=torch.float64).uniform_(-bound, bound).requires_grad_()
    out_bound = 1 / np.sqrt(width)
    W2 = torch.empty(n_curves, width, 1, dtype=torch.float64).uniform_(-out_bound, out_bound).requires_grad_()
    b2 = torch.empty(n_curves, 1, 1, dtype=torch.float64).uniform_(-out_bound, out_bound).requires_grad_()
    optimizer = torch.optim.Adam([W1, b1, W2, b2], lr=learning_rate)
    for _ in range(steps):
        optimizer.zero_grad()
        output = torch.bmm(torch.tanh(torch.bmm(inputs, W1) + b1), W2) + b2
        loss = ((output - targets) ** 2).mean(dim=(1, 2)).sum()  # each curve's own mean: independent fits
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        g = torch.tensor(((grid - x_mean) / x_std)[:, :, None])
        predictions = (torch.bmm(torch.tanh(torch.bmm(g, W1) + b1), W2) + b2).numpy()[:, :, 0] * y_std + y_mean
    return time.perf_counter() - start, grid, predictions


def _form(x, a, b, c):
    return a * np.sqrt(x) + b * np.sin(c * x)


def _curve_fit():
    from scipy.optimize import curve_fit

    return lambda x, y: _curve_fit_each(curve_fit, x, y)


def _curve_fit_each(curve_fit, x, y):
    grid = grids(x)
    predictions = np.empty_like(grid)
    start = time.perf_counter()
    for i in range(len(x)):
        best, best_sse = None, np.inf
        for c in STARTS:
            try:
                params, _ = curve_fit(_form, x[i], y[i], p0=(1.0, 1.0, c), maxfev=2000)
            except RuntimeError:  # no convergence from this start
                continue
            sse = np.sum((_form(x[i], *params) - y[i]) ** 2)
            if sse < best_sse:
                best, best_sse = params, sse
        predictions[i] = _form(grid[i], *best) if best is not None else np.nan
    return time.perf_counter() - start, grid, predictions


def _curve_batch():
    from mlpfit import CurveBatch, NeuralRegressor

    def fit(x, y):
        grid = grids(x)
        start = time.perf_counter()
        batch = CurveBatch(NeuralRegressor(random_state=0), diagnose=False).fit(x, y)
        seconds = time.perf_counter() - start
        return seconds, grid, np.array([batch.predict(i, grid[i]) for i in range(len(x))])

    return fit


SYSTEMS = {
    "defaults": ("mlpfit defaults, one by one", _mlpfit),
    "mlpfit10": ("mlpfit (10,), one by one", lambda: _mlpfit(hidden_layer_sizes=10)),
    "sklearn": ("sklearn L-BFGS (10), one by one", _sklearn),
    "torch": ("PyTorch (10,) batched, Adam 2,000 steps", _torch),
    "curve_fit": ("curve_fit, true form, 3 starts", _curve_fit),
    "batch": ("mlpfit CurveBatch, defaults, one call", _curve_batch),
}
"""System -> (row label, its set-up: imports what it needs, returns ``fit(x, y) -> (seconds, grid, predictions
on the grid)``)."""
ONE_BY_ONE = {"defaults", "mlpfit10", "sklearn"}


def run_system(system, n_curves, n_points, loop_curves):
    """Fit ``system`` in this process; print one JSON line: fits/s, error quantiles, peak memory added (MiB)."""
    warnings.simplefilter("ignore")
    x, y, params = make_curves(n_curves, n_points)
    if system in ONE_BY_ONE and n_curves > loop_curves:
        chosen = np.random.default_rng(SEED + 1).choice(n_curves, loop_curves, replace=False)
        x, y, params = x[chosen], y[chosen], params[chosen]
    fit = SYSTEMS[system][1]()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds, grid, predictions = fit(x, y)
    added = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    rmse = np.sqrt(np.mean((predictions - truth(grid, params)) ** 2, axis=1))
    rmse = np.where(np.isfinite(rmse), rmse, np.inf)
    median, p90 = np.quantile(rmse, [0.5, 0.9])
    print(json.dumps({"fits_per_s": len(x) / seconds, "median": median, "p90": p90, "memory_mib": added}))


# --- --cluster: the scale-out measures ---------------------------------------------------------

CLUSTER_POINTS = 50
"""Points per curve of the ``--many`` run, as the issue has it."""


def write_parquet(folder, n_curves, n_points, curves_per_file):
    """A Parquet dataset of ``n_curves`` curves (columns ``curve``, ``x``, ``y``) in ``folder``, one file of
    ``curves_per_file`` curves at a time (each file's curves from their own seed); the paths of its files."""
    import pandas as pd

    folder.mkdir(parents=True)
    paths = []
    for k, start in enumerate(range(0, n_curves, curves_per_file)):
        count = min(curves_per_file, n_curves - start)
        x, y, _ = make_curves(count, n_points, seed=SEED + k)
        curve = np.repeat(np.arange(start, start + count), n_points)
        paths.append(folder / f"part-{k:05d}.parquet")
        pd.DataFrame({"curve": curve, "x": x.ravel(), "y": y.ravel()}).to_parquet(paths[-1], index=False)
    return paths


def run_cluster(data, n_workers):
    """Fit the Parquet dataset ``data`` into a scratch directory on a LocalCluster of ``n_workers`` processes (one
    thread each); print one JSON line: curves, seconds, fits/s and the client's peak memory growth (MiB)."""
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    from mlpfit import CurveBatch, NeuralRegressor

    warnings.simplefilter("ignore")
    batch = CurveBatch(NeuralRegressor(random_state=0), diagnose=False)
    columns = {"groups": "curve", "x": "x", "y": "y"}
    files = sorted(pathlib.Path(data).glob("*.parquet"))
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env={"OPENBLAS_NUM_THREADS": "1"},
    )
    with tempfile.TemporaryDirectory() as scratch, cluster, Client(cluster):
        first = dd.read_parquet([str(path) for path in files[:n_workers]])
        batch.fit_to_directory(first, pathlib.Path(scratch) / "warm", **columns)  # every worker imports and fits
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        written = batch.fit_to_directory(data, pathlib.Path(scratch) / "curves", **columns)
        seconds = time.perf_counter() - start
        added = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    n_curves = written.tally_.n_curves
    print(json.dumps({"curves": n_curves, "seconds": seconds, "fits_per_s": n_curves / seconds, "memory_mib": added}))


def _cluster_child(data, n_workers):
    """The JSON line of :func:`run_cluster` in a fresh process (its own client, its own peak)."""
    child = [sys.executable, __file__, "--run-cluster", str(data), str(n_workers)]
    done = subprocess.run(child, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the cluster run failed: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cluster_lines(size, many, many_files, curves_per_file):
    """The ``--cluster`` report, line by line, as each run finishes."""
    n_curves, n_points = map(int, size.split("x"))
    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        files = write_parquet(folder / "speedup", n_curves, n_points, curves_per_file)
        yield f"{n_curves} curves of {n_points} points in {len(files)} Parquet files, LocalCluster, 1 thread per worker"
        rates = {}
        for n_workers in (1, 2):
            row = _cluster_child(folder / "speedup", n_workers)
            rates[n_workers] = row["fits_per_s"]
            yield f"  {n_workers} worker(s): {row['fits_per_s']:.1f} fits/s ({row['seconds']:.1f} s)"
        yield f"  speedup from 1 to 2 workers: {rates[2] / rates[1]:.2f} (target >= 1.7)"
        yield f"curves of {CLUSTER_POINTS} points in {many_files} Parquet files, 2 workers, written part by part"
        sizes = {"tenth": many // 10, "many": many}
        for name, n_curves in sizes.items():
            write_parquet(folder / name, n_curves, CLUSTER_POINTS, -(-n_curves // many_files))
        for name in sizes:
            row = _cluster_child(folder / name, 2)
            yield (
                f"  {row['curves']} curves: {row['fits_per_s']:.1f} fits/s ({row['seconds']:.1f} s), "
                f"client peak memory growth {row['memory_mib']:.1f} MiB"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100x100,1000x100,10000x100,1000x1000", help="CURVESxPOINTS,...")
    parser.add_argument("--loop-curves", type=int, default=300)
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, of {', '.join(SYSTEMS)}")
    parser.add_argument("--output")
    parser.add_argument("--cluster", action="store_true", help="the scale-out measures on a LocalCluster instead")
    parser.add_argument("--cluster-size", default="10000x100", help="CURVESxPOINTS of the 1 to 2 workers speedup")
    parser.add_argument("--many", type=int, default=10**6, help="curves of the client memory run (and a tenth)")
    parser.add_argument("--many-files", type=int, default=100, help="Parquet files (partitions) of each --many run")
    parser.add_argument("--curves-per-file", type=int, default=1000, help="curves per Parquet file of the speedup")
    parser.add_argument("--run", nargs=4, help=argparse.SUPPRESS)  # system, curves, points, loop curves: one child
    parser.add_argument("--run-cluster", nargs=2, help=argparse.SUPPRESS)  # dataset, workers: one child
    args = parser.parse_args()
    if args.run:
        system, n_curves, n_points, loop_curves = args.run
        run_system(system, int(n_curves), int(n_points), int(loop_curves))
        return
    if args.run_cluster:
        run_cluster(args.run_cluster[0], int(args.run_cluster[1]))
        return
    command = "python benchmarks/many_curves.py" + (" --cluster" if args.cluster else "")
    lines = [f"# OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} {command}"]
    if args.cluster:
        for line in cluster_lines(args.cluster_size, args.many, args.many_files, args.curves_per_file):
            lines.append(line)
            print(line, flush=True)
    else:
        lines += system_lines(args)
    if args.output:
        with open(args.output, "w") as file:
            file.write("\n".join(lines) + "\n")


def system_lines(args):
    """The systems' table per size, each line printed as it is made."""
    lines = []
    for size in args.sizes.split(","):
        n_curves, n_points = map(int, size.split("x"))
        lines += ["", f"{n_curves} curves of {n_points} points", _header()]
        print("\n".join(lines[-3:]), flush=True)
        rows = {}
        for system in args.systems.split(","):
            label = SYSTEMS[system][0]
            child = [sys.executable, __file__, "--run", system, str(n_curves), str(n_points), str(args.loop_curves)]
            done = subprocess.run(child, capture_output=True, text=True)
            if done.returncode:
                lines.append(f"{label:42s} failed: {done.stderr.strip().splitlines()[-1]}")
            else:
                rows[label] = json.loads(done.stdout.strip().splitlines()[-1])
                lines.append(_row(label, rows[label], rows))
            print(lines[-1], flush=True)
    return lines


def _header():
    return f"{'system':42s} {'fits/s':>9s} {'x defaults':>10s} {'median':>7s} {'90th pct':>8s} {'memory':>9s}"


def _row(label, row, rows):
    reference = rows.get(SYSTEMS["defaults"][0])
    ratio = f"{row['fits_per_s'] / reference['fits_per_s']:10.1f}" if reference else f"{'':10s}"
    return (
        f"{label:42s} {row['fits_per_s']:9.1f} {ratio} {row['median']:7.3f} {row['p90']:8.3f} "
        f"{row['memory_mib']:7.1f} MiB"
    )


if __name__ == "__main__":
    main()
