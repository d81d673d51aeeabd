"""Accuracy and fit time of mlpfit against scikit-learn's MLPRegressor and a smoothing spline.

Data sets (``mlpfit.datasets`` has the curves and their truth):

- univariate, error = RMSE against the noise-free function on 2,000 fresh points from the same
  distribution: the origin problem (sqrt, n = 500), Donoho & Johnstone's Doppler, HeaviSine, Bumps
  and Blocks (n = 1024, signal-to-noise ratio 7), sinc on [-10, 10] (n = 200, noise sd 0.1) and a
  step on [-1, 1] (n = 200, noise sd 0.1);
- Friedman #1 (sklearn.datasets.make_friedman1, n = 1000, noise 1.0), error against its noise-free
  value on 2,000 fresh points;
- diabetes (sklearn.datasets.load_diabetes): RMSE on the held-out folds of a shuffled 10-fold CV.

Systems, side by side in one run, each at its own defaults: mlpfit defaults; mlpfit solver="lm";
mlpfit alpha="bayes", n_restarts=3 and n_averaged=1 (the measurements behind those defaults); scikit-learn's
MLPRegressor (solver "lbfgs" and "adam") inside StandardScaler + TransformedTargetRegressor; and for
univariate data scipy's make_smoothing_spline (smoothing chosen by GCV). Every system runs with one
BLAS thread (``--blas-threads``) so that timings on a shared machine measure the methods, not
contention. Reported per data set and system: median error and fit time over the seeds, the error
relative to mlpfit defaults, and the time relative to the sklearn lbfgs pipeline.

Usage: python benchmarks/accuracy.py [--seeds 20] [--quick] [--blas-threads 1]
"""

import argparse
import time
import warnings
from functools import partial

import numpy as np
from scipy.interpolate import make_smoothing_spline
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from mlpfit import NeuralRegressor
from mlpfit.datasets import CURVES, make_curve, make_origin, origin_truth

N_FRESH = 2000


class SmoothingSpline:
    """scipy's cubic smoothing spline with GCV smoothing, behind fit/predict.

    x values in one cell of a grid of 1e-4 of their range (a tenth of the mean spacing at n = 1024)
    are merged, y averaged and weighted by count: scipy's GCV fails as ill-posed on near-ties, which
    random designs produce now and then, and at 10^5 rows and more the grid keeps the spline's
    knots to at most 10,001.
    """

    def fit(self, X, y):
        x = X[:, 0]
        group = np.floor((x - x.min()) / (1e-4 * np.ptp(x))).astype(np.int64)
        cells, group = np.unique(group, return_inverse=True)
        counts = np.bincount(group)
        self.spline_ = make_smoothing_spline(np.bincount(group, x) / counts, np.bincount(group, y) / counts, w=counts)
        return self

    def predict(self, X):
        return self.spline_(X[:, 0])


def _sklearn_pipeline(solver, seed, **mlp_params):
    mlp = MLPRegressor(solver=solver, random_state=seed, **mlp_params)
    return TransformedTargetRegressor(regressor=make_pipeline(StandardScaler(), mlp), transformer=StandardScaler())


def systems(seed, univariate):
    out = {
        "mlpfit defaults": NeuralRegressor(random_state=seed),
        "mlpfit solver=lm": NeuralRegressor(solver="lm", random_state=seed),
        "mlpfit alpha=bayes": NeuralRegressor(alpha="bayes", random_state=seed),
        "mlpfit n_restarts=3": NeuralRegressor(n_restarts=3, random_state=seed),
        "mlpfit n_averaged=1": NeuralRegressor(n_averaged=1, random_state=seed),
        "sklearn lbfgs pipeline": _sklearn_pipeline("lbfgs", seed),
        "sklearn adam pipeline": _sklearn_pipeline("adam", seed),
    }
    if univariate:
        out["smoothing spline (GCV)"] = SmoothingSpline()
    return out


def _origin(seed):
    X, y = make_origin(random_state=seed)
    X_fresh, _ = make_origin(N_FRESH, random_state=100_000 + seed)
    return X, y, X_fresh, origin_truth(X_fresh)


def _curve(name):
    def generate(seed):
        X, y, _ = make_curve(name, random_state=seed)
        X_fresh, _, truth = make_curve(name, N_FRESH, noise=0.0, random_state=100_000 + seed)
        return X, y, X_fresh, truth

    return generate


def _friedman(seed):
    X, y = make_friedman1(1000, noise=1.0, random_state=seed)
    X_fresh, truth = make_friedman1(N_FRESH, noise=0.0, random_state=100_000 + seed)
    return X, y, X_fresh, truth


DATA_SETS = {"origin (sqrt)": _origin, **{name: _curve(name) for name in CURVES}, "friedman1": _friedman}
"""Name -> seed -> (X, y, X_fresh, truth at X_fresh); all univariate but Friedman #1."""


def _fit_timed(model, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - start


def _rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def run_fresh(generate, seed, univariate, record):
    X, y, X_fresh, truth = generate(seed)
    for name, model in systems(seed, univariate).items():
        elapsed = _fit_timed(model, X, y)
        record(name, _rmse(model.predict(X_fresh), truth), elapsed)


def run_diabetes(seed, record):
    X, y = load_diabetes(return_X_y=True)
    folds = list(KFold(10, shuffle=True, random_state=seed).split(X))
    for name in systems(seed, False):
        predictions, elapsed = np.empty_like(y), 0.0
        for train, test in folds:
            model = systems(seed, False)[name]
            elapsed += _fit_timed(model, X[train], y[train])
            predictions[test] = model.predict(X[test])
        record(name, _rmse(predictions, y), elapsed / len(folds))


def _record(per_system, system, error, elapsed):
    errors, times = per_system.setdefault(system, ([], []))
    errors.append(error)
    times.append(elapsed)


def run(n_seeds):
    results = {}  # data set -> system -> ([errors], [times])

    for data_name, generate in [*DATA_SETS.items(), ("diabetes (10-fold CV)", None)]:
        per_system = results.setdefault(data_name, {})
        record = partial(_record, per_system)
        for seed in range(n_seeds):
            if generate is None:
                run_diabetes(seed, record)
            else:
                run_fresh(generate, seed, data_name != "friedman1", record)
        print(table(data_name, per_system), flush=True)
    return results


def table(data_name, per_system):
    reference_error = np.median(per_system["mlpfit defaults"][0])
    reference_time = np.median(per_system["sklearn lbfgs pipeline"][1])
    rows = [
        f"\n### {data_name}\n",
        "| system | median error | error / mlpfit defaults | median fit time | time / sklearn lbfgs |",
        "|---|---|---|---|---|",
    ]
    for system, (errors, times) in per_system.items():
        error, fit_time = np.median(errors), np.median(times)
        rows.append(
            f"| {system} | {error:.4g} | {error / reference_error:.2f} | {fit_time * 1e3:.1f} ms "
            f"| {fit_time / reference_time:.2f} |"
        )
    return "\n".join(rows)


NEURAL = ("mlpfit defaults", "mlpfit solver=lm", "sklearn lbfgs pipeline", "sklearn adam pipeline")
"""The neural systems the targets compare (the alpha, restart and averaging rows measure the defaults' choices)."""


def summary(results):
    rows = [
        "\n### Summary: mlpfit defaults against scikit-learn and the spline",
        "| data set | lowest neural error | defaults / best scikit-learn | defaults / spline |",
        "|---|---|---|---|",
    ]
    for data_name, per_system in results.items():
        medians = {s: np.median(per_system[s][0]) for s in NEURAL}
        best_sklearn = min(NEURAL[2:], key=medians.get)
        spline = per_system.get("smoothing spline (GCV)")
        versus = f"{medians['mlpfit defaults'] / np.median(spline[0]):.2f}" if spline else "-"
        rows.append(
            f"| {data_name} | {min(medians, key=medians.get)} | "
            f"{medians['mlpfit defaults'] / medians[best_sklearn]:.2f} ({best_sklearn}) | {versus} |"
        )
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="2 seeds, for a smoke test")
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args()
    n_seeds = 2 if args.quick else args.seeds
    print(f"accuracy benchmark: {n_seeds} seeds, error = RMSE against the noise-free truth (diabetes: CV RMSE)")
    with threadpool_limits(args.blas_threads):
        results = run(n_seeds)
    print(summary(results))


if __name__ == "__main__":
    main()
