"""Where Levenberg-Marquardt stops paying: LM against L-BFGS (and Adam) over network and data sizes.

Data: y = sin(2 x1) cos(x2) + N(0, 0.1^2), x uniform on [-2, 2]^2; tanh networks with one hidden
layer of h units (P = 4h + 1 parameters). Each solver runs to its own convergence (max_iter 300)
from the same initialisation; per cell the median over seeds of fit time, training loss and RMSE
against the noise-free truth on 2,000 fresh points, and for LM and Adam the time until their loss
first fell to L-BFGS's final loss (from the loss curve, at the run's mean cost per iteration; "never"
if it did not). ``work`` is n * P**2, the flops of one J^T J. The constants in
``mlpfit.solvers._auto`` are read off this table: LM where it reaches L-BFGS's loss sooner.

Every system runs with one BLAS thread (``--blas-threads``): on a shared machine threaded BLAS on
such small matrices mostly measures contention between processes, not the solvers.

Usage: python benchmarks/solver_thresholds.py [--seeds 2] [--quick] [--blas-threads 1]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from mlpfit import NeuralRegressor


def data(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    truth = np.sin(2 * X[:, 0]) * np.cos(X[:, 1])
    return X, truth + 0.1 * rng.normal(size=n), truth


def measure(n, hidden, solver, seed):
    X, y, _ = data(n, seed)
    X_test, _, truth = data(2000, 10_000 + seed)
    # One network per fit: the thresholds choose the solver of one (n_averaged multiplies every solver's time).
    model = NeuralRegressor((hidden,), "tanh", solver=solver, max_iter=300, n_averaged=1, random_state=seed)
    if solver == "adam":
        model.set_params(learning_rate_init=1e-2, max_iter=100)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    elapsed = time.perf_counter() - start
    return elapsed, model.loss_, np.sqrt(np.mean((model.predict(X_test) - truth) ** 2)), model.loss_curve_


def time_to_reach(run, target):
    """Seconds until the run's loss curve first reached ``target`` (inf if never)."""
    elapsed, _, _, curve = run
    reached = np.flatnonzero(np.asarray(curve) <= target * (1 + 1e-6))
    return elapsed * (reached[0] + 1) / len(curve) if reached.size else np.inf


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="a small grid, for a smoke test")
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args()
    with threadpool_limits(args.blas_threads):
        table(args)


def table(args):
    sizes = [300, 3000] if args.quick else [300, 3000, 30000]
    hiddens = [5, 20] if args.quick else [5, 10, 20, 40, 80]
    print(
        "| n | P | work n*P^2 | solver | median time | time / lbfgs | time to lbfgs loss / lbfgs time "
        "| median loss | median RMSE vs truth |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        for hidden in hiddens:
            n_params = 4 * hidden + 1
            solvers = ["lm", "lbfgs"] + (["adam"] if n >= 3000 else [])
            runs = {s: [measure(n, hidden, s, seed) for seed in range(args.seeds)] for s in solvers}
            for solver, seeds in runs.items():
                elapsed, loss, rmse = np.median([run[:3] for run in seeds], axis=0)
                lbfgs_time = np.median([run[0] for run in runs["lbfgs"]])
                catch_up = np.median([time_to_reach(run, ref[1]) / ref[0] for run, ref in zip(seeds, runs["lbfgs"])])
                print(
                    f"| {n} | {n_params} | {n * n_params**2:.2g} | {solver} | {elapsed * 1e3:.0f} ms "
                    f"| {elapsed / lbfgs_time:.2f} | {catch_up:.2f} | {loss:.5f} | {rmse:.4f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
