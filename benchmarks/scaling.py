"""Does the error keep falling as rows grow, and change smoothly where the fit plan switches?

Two problems, error = RMSE against the noise-free truth on 2,000 fresh points, one BLAS thread:

- one input: y = sin(3x) + 0.3 x^2 + N(0, 0.2^2), x ~ U(-3, 3); mlpfit defaults against scipy's
  smoothing spline (GCV) and the scikit-learn pipelines;
- Friedman #1 (10 inputs, noise 1.0): mlpfit with each width against the pipelines with the same width.

Rows run from 10^3 to ``--max-rows`` (10^6 by default) in decades, widths over ``--widths`` (one and two
layers); each cell is the median over ``--seeds``. Beside each mlpfit row the plan's solver and averaging
show where the plan switched, and the ratio to the reference (the spline, or the better pipeline).

Usage: python benchmarks/scaling.py [--max-rows 1000000] [--seeds 3] [--widths 10,50,200,50x50]
       (the results in results/ ran --seeds 2 --widths 10,50, Friedman #1 to 10^5 rows)
       [--problems curve,friedman1] [--pipelines] [--out results/scaling.txt]
"""

import argparse
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from mlpfit import NeuralRegressor

sys.path.insert(0, str(Path(__file__).parent))
from accuracy import N_FRESH, SmoothingSpline, _rmse, _sklearn_pipeline  # noqa: E402


def curve(n, seed):
    rng = np.random.default_rng(seed)
    X, X_fresh = rng.uniform(-3, 3, size=(n, 1)), rng.uniform(-3, 3, size=(N_FRESH, 1))
    truth = lambda X: np.sin(3 * X[:, 0]) + 0.3 * X[:, 0] ** 2  # noqa: E731
    return X, truth(X) + 0.2 * rng.normal(size=n), X_fresh, truth(X_fresh)


def friedman1(n, seed):
    X, y = make_friedman1(n, noise=1.0, random_state=seed)
    X_fresh, truth = make_friedman1(N_FRESH, noise=0.0, random_state=seed + 10_000)
    return X, y, X_fresh, truth


PROBLEMS = {"curve": curve, "friedman1": friedman1}


def _hidden(width):
    return tuple(int(w) for w in width.split("x"))


def _mlpfit(hidden_layer_sizes, seed):
    return NeuralRegressor(hidden_layer_sizes, random_state=seed)


def systems(problem, widths, pipelines):
    """Label -> factory(seed); the plan of each mlpfit system is read after its fit."""
    out = {"mlpfit defaults": lambda seed: NeuralRegressor(random_state=seed)}
    for width in widths:
        out[f"mlpfit {_hidden(width)}"] = partial(_mlpfit, _hidden(width))
    if problem == "curve":
        out["smoothing spline (GCV)"] = lambda seed: SmoothingSpline()
    if pipelines:
        for solver in ("adam", "lbfgs"):
            for width in widths[:1]:
                out[f"sklearn {solver} {_hidden(width)} pipeline"] = partial(
                    _sklearn_pipeline, solver, hidden_layer_sizes=_hidden(width), max_iter=5000
                )
    return out


def measure(make, generate, n, seeds):
    errors, times, plans = [], [], set()
    for seed in range(seeds):
        X, y, X_fresh, truth = generate(n, seed)
        model = make(seed)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        times.append(time.perf_counter() - start)
        errors.append(_rmse(model.predict(X_fresh), truth))
        plan = getattr(model, "plan_", None)
        if plan is not None:
            plans.add(f"{plan.solver} x{plan.n_averaged}" + (" bayes" if plan.alpha == "bayes" else ""))
    return float(np.median(errors)), float(np.median(times)), ", ".join(sorted(plans))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-rows", type=int, default=10**6)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--widths", default="10,50,200,50x50")
    parser.add_argument("--problems", default="curve,friedman1")
    parser.add_argument("--pipelines", action="store_true", help="also the scikit-learn pipelines (slow at 10^6 rows)")
    parser.add_argument("--out")
    args = parser.parse_args()
    widths = args.widths.split(",")
    lines = []
    with threadpool_limits(limits=1):
        for problem in args.problems.split(","):
            block = [f"## {problem}", "| rows | system | plan | median error | median time |", "|---|---|---|---|---|"]
            print("\n".join(block), flush=True)
            n = 1000
            while n <= args.max_rows:
                for label, make in systems(problem, widths, args.pipelines).items():
                    error, seconds, plan = measure(make, PROBLEMS[problem], n, args.seeds)
                    block.append(f"| {n} | {label} | {plan} | {error:.4g} | {seconds:.3g} s |")
                    print(block[-1], flush=True)
                n *= 10
            lines += block + [""]
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
