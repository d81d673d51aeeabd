"""The normal-equations engine: LM iterations against their flop limit, memory per solver, and default fits.

One BLAS thread, in one run (issue 20):

1. The machine's dgemm rate, measured on two 2,000 x 2,000 matrices.
2. Levenberg-Marquardt iterations on n rows of a 4-input tanh network with P parameters, P from 19 to 601
   and n from 500 to 10^6: seconds per iteration (a step with its damping search) against the flop limit
   ``(n P^2 + P^3 / 3) / rate``, the symmetric product ``J^T J`` and the Cholesky factor at dgemm's speed; and
   against BLAS's own symmetric product on the same chunks of the factor matrix, timed alone (``syrk``): how far
   below dgemm's speed BLAS runs on these shapes, and what the engine adds to it.
   The origin problem's row is a default network's size there (one input, 11 hinges: P = 34).
3. Peak memory a fit adds (the process's high-water mark after the data exist, in a child process each) for
   LM, L-BFGS and Adam on 10^4 to 10^6 rows.
4. Default fits (``NeuralRegressor()``) at each size, time (below 10^4 rows the best of ``SMALL_FIT_REPEATS``) and
   test RMSE, against a stored baseline of the same figures (``results/engine_baseline.json``, written by
   ``--save-baseline`` on the code it names).

Usage: python benchmarks/engine.py [--quick] [--parts lm,memory,defaults] [--default-rows 500,10000]
       [--output results/engine.txt] [--save-baseline FILE]
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.datasets import make_friedman1  # noqa: E402

from mlpfit import NeuralRegressor  # noqa: E402
from mlpfit._network import Architecture, default_chunk_rows  # noqa: E402
from mlpfit.datasets import make_origin, origin_truth  # noqa: E402
from mlpfit.solvers import lm  # noqa: E402
from mlpfit.solvers._base import SolverSettings, TrainingProblem  # noqa: E402

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "results" / "engine_baseline.json"
ROWS = (500, 10_000, 100_000, 1_000_000)
HIDDEN = (3, 10, 33, 100)
"""Hidden units of the 4-input network: P = 6 H + 1 = 19, 61, 199, 601 parameters."""
FLOP_BUDGET = 2e10
"""Flops of ``n P^2`` per grid cell (iterations are cut to stay near this) so the largest cells take seconds."""
MEMORY_ROWS = (10_000, 100_000, 1_000_000)
SOLVERS = ("lm", "lbfgs", "adam")
ORIGIN_HIDDEN = 11
"""Hinges of the larger of the origin problem's two default networks (one input: P = 34)."""
DEFAULT_ROWS = (500, 10_000, 100_000, 1_000_000)
SMALL_FIT_REPEATS = 5
"""A default fit below 10^4 rows is timed as the best of this many (the first in a process pays start-up costs)."""


def dgemm_rate(size=2000, repeats=3):
    """Flops per second of one ``size`` x ``size`` matrix product (best of ``repeats``)."""
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(size, size)), rng.normal(size=(size, size))
    best = min(_timed(lambda: A @ B) for _ in range(repeats))
    return 2 * size**3 / best


def _timed(work):
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _settings(max_iter):
    return SolverSettings(
        max_iter=max_iter, tol=0.0, n_iter_no_change=10**9, learning_rate_init=1e-3, momentum=0.9, batch_size=200
    )


def lm_iteration_seconds(n_rows, n_inputs, n_hidden, max_iter, seed=0):
    """``(seconds per LM iteration, parameters, iterations)`` on a random ``n_inputs``-``n_hidden``-1 tanh network."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.7, 1.7, size=(n_rows, n_inputs))
    y = np.sin(X @ rng.normal(size=n_inputs)) + 0.1 * rng.normal(size=n_rows)
    arch = Architecture((n_inputs, n_hidden, 1), "tanh")
    theta0 = rng.normal(scale=0.5, size=arch.n_params)
    problem = TrainingProblem(arch, X, y[:, None], alpha=1e-3)
    best = np.inf
    for _ in range(2 if n_rows * arch.n_params**2 < 1e10 else 1):
        start = time.perf_counter()
        result = lm.solve(problem, theta0, _settings(max_iter), rng)
        best = min(best, (time.perf_counter() - start) / max(result.n_iter, 1))
    return best, arch.n_params, result.n_iter


def symmetric_product_seconds(n_rows, n_inputs, n_hidden, repeats=3):
    """Seconds BLAS's symmetric product alone takes over ``n_rows`` rows as an LM pass cuts them: the factor matrix
    of one row chunk (:func:`mlpfit._network.normal_equations`) times its transpose, once per chunk."""
    arch = Architecture((n_inputs, n_hidden, 1), "tanh")
    chunk_rows = min(default_chunk_rows(arch, 1), n_rows)
    factors = np.random.default_rng(0).normal(size=(arch.n_params, chunk_rows))
    best = min(_timed(lambda: factors @ factors.T) for _ in range(repeats))
    return best * n_rows / chunk_rows


def lm_grid(rate, rows, quick):
    """Lines of the LM table: each cell's seconds per iteration against its flop limit, and against what BLAS's
    symmetric product alone takes on the pass's chunks (the part of the limit the engine cannot beat)."""
    lines = [
        f"{'rows':>9s} {'P':>5s} {'iters':>5s} {'s/iteration':>12s} {'limit':>10s} {'x limit':>8s} "
        f"{'syrk':>10s} {'syrk x limit':>12s} {'x syrk':>7s}"
    ]
    cells = [(n, 4, h) for n in rows for h in HIDDEN]
    cells.insert(0, (500, 1, ORIGIN_HIDDEN))
    for n, inputs, hidden in cells:
        n_params = hidden * (inputs + 2) + 1
        if quick and n * n_params**2 > 1e10:
            continue
        max_iter = int(np.clip(FLOP_BUDGET / (n * n_params**2), 2, 50))
        seconds, n_params, n_iter = lm_iteration_seconds(n, inputs, hidden, max_iter)
        limit = (n * n_params**2 + n_params**3 / 3) / rate
        syrk = symmetric_product_seconds(n, inputs, hidden)
        label = " (origin)" if inputs == 1 else ""
        lines.append(
            f"{n:9d} {n_params:5d} {n_iter:5d} {seconds:12.3g} {limit:10.3g} {seconds / limit:8.1f} "
            f"{syrk:10.3g} {syrk / limit:12.1f} {seconds / syrk:7.1f}{label}"
        )
        print(lines[-1], flush=True)
    return lines


def _friedman(n_rows, seed):
    X, y = make_friedman1(n_samples=n_rows, n_features=5, noise=1.0, random_state=seed)
    return X, y


def memory_child(solver, n_rows):
    """Fit ``solver`` on ``n_rows`` rows in this process; print the peak memory the fit added (MiB)."""
    warnings.simplefilter("ignore")
    X, y = _friedman(n_rows, 0)
    before = _high_water_mark()
    NeuralRegressor((20,), solver=solver, alpha=1e-3, max_iter=3, random_state=0).fit(X, y)
    print(json.dumps({"added_mib": (_high_water_mark() - before) / 2**20, "data_mib": (X.nbytes + y.nbytes) / 2**20}))


def _high_water_mark():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) * 1024


def memory_table(rows):
    lines = [f"{'rows':>9s} {'data':>9s} " + " ".join(f"{solver:>11s}" for solver in SOLVERS)]
    for n in rows:
        added, data = [], 0.0
        for solver in SOLVERS:
            done = subprocess.run(
                [sys.executable, __file__, "--memory-child", solver, str(n)], capture_output=True, text=True
            )
            if done.returncode:
                added.append("failed")
                continue
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            data = figures["data_mib"]
            added.append(f"{figures['added_mib']:7.1f} MiB")
        lines.append(f"{n:9d} {data:5.1f} MiB " + " ".join(f"{cell:>11s}" for cell in added))
        print(lines[-1], flush=True)
    return lines


def default_fits(rows):
    """``{rows: {"seconds", "rmse"}}``: default fits, the origin problem at 500 rows (RMSE against sqrt) and
    Friedman #1 (5 inputs, noise 1; RMSE on 10,000 fresh rows against the noise-free function) beyond."""
    figures = {}
    for n in rows:
        warnings.simplefilter("ignore")
        if n == 500:
            X, y = make_origin(500, random_state=0)
            X_test = np.linspace(X.min(), X.max(), 2000)[:, None]
            truth = origin_truth(X_test)
        else:
            X, y = _friedman(n, 0)
            X_test, _ = _friedman(10_000, 1)
            truth = make_friedman1(n_samples=10_000, n_features=5, noise=0.0, random_state=1)[1]
        repeats = SMALL_FIT_REPEATS if n < 10_000 else 1
        seconds = min(_timed(partial(NeuralRegressor(random_state=0).fit, X, y)) for _ in range(repeats))
        model = NeuralRegressor(random_state=0).fit(X, y)
        rmse = float(np.sqrt(np.mean((model.predict(X_test) - truth) ** 2)))
        figures[str(n)] = {"seconds": seconds, "rmse": rmse, "solver": model.plan_.solver}
        print(f"  default fit, {n} rows: {seconds:.2f} s, RMSE {rmse:.4f} ({model.plan_.solver})", flush=True)
    return figures


def defaults_table(figures, baseline):
    lines = [
        f"{'rows':>9s} {'solver':>7s} {'seconds':>9s} {'baseline':>9s} {'x faster':>9s} {'RMSE':>8s} {'baseline':>9s}"
    ]
    for n, now in figures.items():
        then = baseline.get("defaults", {}).get(n)
        if then:
            ratio = then["seconds"] / now["seconds"]
            lines.append(
                f"{int(n):9d} {now['solver']:>7s} {now['seconds']:9.2f} {then['seconds']:9.2f} {ratio:9.2f} "
                f"{now['rmse']:8.4f} {then['rmse']:9.4f}"
            )
        else:
            lines.append(
                f"{int(n):9d} {now['solver']:>7s} {now['seconds']:9.2f} {'-':>9s} {'-':>9s} {now['rmse']:8.4f}"
            )
    return lines


def _commit():
    """The commit of the mlpfit being measured (which may be another checkout's, by ``PYTHONPATH``)."""
    source = Path(sys.modules["mlpfit"].__file__).parent
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=source)
    return done.stdout.strip() or "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip cells above 10^10 flops and 10^6-row fits")
    parser.add_argument("--parts", default="lm,memory,defaults", help="comma-separated, of lm, memory, defaults")
    parser.add_argument("--default-rows", help="comma-separated rows of the default fits (all of DEFAULT_ROWS)")
    parser.add_argument("--output")
    parser.add_argument("--save-baseline", metavar="FILE", help="write the default fits' figures as a baseline")
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)  # solver, rows: one child
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child[0], int(args.memory_child[1]))
        return
    parts = args.parts.split(",")
    rate = dgemm_rate()
    lines = [
        f"# OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']} python benchmarks/engine.py, commit {_commit()}",
        f"dgemm: {rate / 1e9:.1f} GFLOP/s",
    ]
    print("\n".join(lines), flush=True)
    rows = ROWS[:-1] if args.quick else ROWS
    if "lm" in parts:
        lines += ["", "Levenberg-Marquardt: seconds per iteration against (n P^2 + P^3/3) / dgemm rate"]
        lines += lm_grid(rate, rows, args.quick)
    if "memory" in parts:
        lines += ["", "Peak memory a fit adds (20 hidden units, 3 iterations or epochs)"]
        lines += memory_table(MEMORY_ROWS[:-1] if args.quick else MEMORY_ROWS)
    if "defaults" in parts:
        default_rows = [int(n) for n in args.default_rows.split(",")] if args.default_rows else DEFAULT_ROWS
        figures = default_fits(default_rows[:-1] if args.quick else default_rows)
        if args.save_baseline:
            Path(args.save_baseline).write_text(json.dumps({"commit": _commit(), "defaults": figures}, indent=1))
        baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
        lines += ["", f"Default fits against the baseline (commit {baseline.get('commit', 'none')})"]
        lines += defaults_table(figures, baseline)
    print("\n".join(lines[-6:]))
    if args.output:
        Path(args.output).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
