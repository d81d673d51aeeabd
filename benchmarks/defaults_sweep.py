"""Sweep of NeuralRegressor's defaults: hidden units, alpha, LM's tol, and LM versus L-BFGS by size.

The evidence behind the defaults in ``mlpfit.estimator`` and ``mlpfit.solvers._auto``. Data: every
set of ``benchmarks/accuracy.py`` (imported from there; diabetes as a random 80/20 split, error on the
held-out targets) and five sets that are not in that benchmark, so that the choice is not tuned to
it: a sum of two sines, a sawtooth, an exponential, scikit-learn's Friedman #2 and #3 (noise sd a
third of the truth's, Friedman's 3:1 signal-to-noise), and six functions of 2-10 inputs uniform on
[-1, 1]: two kinks (3 inputs, one irrelevant), a step across the diagonal, a linear function of 10
inputs, a product of two inputs plus a sine of a third (one irrelevant), a ridge along the diagonal,
and a Gaussian bump in 5 dimensions. Error is the RMSE against the noise-free truth
on 2,000 fresh points. Reference: scikit-learn's MLPRegressor (its defaults: 100 units, here lbfgs)
in the scaled pipeline of ``benchmarks/accuracy.py``. LM is skipped above ``MAX_LM_PARAMS`` weights
(tens of seconds per fit). One BLAS thread for every system.

"mlpfit defaults" is NeuralRegressor() as it stands (solver "auto"; two networks averaged wherever LM
runs), "mlpfit n_averaged=1" the same with one network. Printed: per data set the median error and fit time of every
configuration, then a summary row per
configuration: the geometric mean over data sets of (median error / the sklearn pipeline's), the
geometric mean of (median fit time / the sklearn pipeline's), and on how many sets it has the lower
median error.

Usage: python benchmarks/defaults_sweep.py [--seeds 5]  (about 9 minutes on one core)
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes, make_friedman2, make_friedman3
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from mlpfit import NeuralRegressor

sys.path.insert(0, str(Path(__file__).parent))
from accuracy import DATA_SETS, N_FRESH, _fit_timed, _rmse, _sklearn_pipeline  # noqa: E402

MAX_LM_PARAMS = 400
REFERENCE = "sklearn lbfgs pipeline"


def configurations():
    """Label -> keyword arguments of NeuralRegressor (random_state added per seed)."""
    out = {"mlpfit defaults": {}, "mlpfit n_averaged=1": dict(n_averaged=1)}
    for units in (10, 20, 30, 50):
        for tol in (1e-9, 1e-6, 1e-5):
            out[f"({units},) lm tol={tol:g}"] = dict(hidden_layer_sizes=(units,), solver="lm", tol=tol)
        for tol in (1e-9, 1e-5):
            out[f"({units},) lm bayes tol={tol:g}"] = dict(
                hidden_layer_sizes=(units,), solver="lm", alpha="bayes", tol=tol
            )
        out[f"({units},) lbfgs"] = dict(hidden_layer_sizes=(units,), solver="lbfgs")
    return out


def _n_params(params, X):
    (units,) = params["hidden_layer_sizes"]
    return units * (X.shape[1] + 2) + 1


def _univariate(function, low, high, n, noise):
    def generate(seed):
        rng = np.random.default_rng(seed)
        X = rng.uniform(low, high, (n, 1))
        X_fresh = np.random.default_rng(100_000 + seed).uniform(low, high, (N_FRESH, 1))
        return X, function(X[:, 0]) + noise * rng.standard_normal(n), X_fresh, function(X_fresh[:, 0])

    return generate


def _friedman(make, n):
    def generate(seed):
        X, truth = make(n, noise=0.0, random_state=seed)
        noise = truth.std() / 3
        y = truth + noise * np.random.default_rng(seed).standard_normal(n)
        X_fresh, truth_fresh = make(N_FRESH, noise=0.0, random_state=100_000 + seed)
        return X, y, X_fresh, truth_fresh

    return generate


def _multivariate(function, n_features, n, noise):
    """Inputs uniform on [-1, 1]^n_features."""

    def generate(seed):
        rng = np.random.default_rng(seed)
        X = rng.uniform(-1, 1, (n, n_features))
        X_fresh = np.random.default_rng(100_000 + seed).uniform(-1, 1, (N_FRESH, n_features))
        return X, function(X) + noise * rng.standard_normal(n), X_fresh, function(X_fresh)

    return generate


def _diabetes(seed):
    X, y = load_diabetes(return_X_y=True)
    X, X_test, y, y_test = train_test_split(X, y, test_size=0.2, random_state=seed)
    return X, y, X_test, y_test


EXTRA_SETS = {
    "sines (new)": _univariate(lambda x: np.sin(2 * np.pi * x) + 0.5 * np.sin(6 * np.pi * x), 0, 1, 300, 0.2),
    "sawtooth (new)": _univariate(lambda x: np.mod(3 * x, 1.0), 0, 1, 400, 0.05),
    "exp (new)": _univariate(np.exp, 0, 3, 200, 1.0),
    "friedman2 (new)": _friedman(make_friedman2, 500),
    "friedman3 (new)": _friedman(make_friedman3, 500),
    "two kinks, 3-D (new)": _multivariate(lambda X: np.abs(X[:, 0]) + np.maximum(X[:, 1], 0), 3, 500, 0.1),
    "diagonal step, 2-D (new)": _multivariate(lambda X: (X[:, 0] + X[:, 1] > 0).astype(float), 2, 1000, 0.1),
    "linear, 10-D (new)": _multivariate(lambda X: X @ np.linspace(-1, 1, 10), 10, 200, 0.5),
    "product and sine, 4-D (new)": _multivariate(lambda X: X[:, 0] * X[:, 1] + np.sin(3 * X[:, 2]), 4, 1000, 0.2),
    "diagonal ridge, 2-D (new)": _multivariate(
        lambda X: np.maximum(0, 1 - 3 * np.abs(X[:, 0] - X[:, 1])), 2, 1000, 0.1
    ),
    "Gaussian bump, 5-D (new)": _multivariate(lambda X: np.exp(-2 * np.sum(X**2, axis=1)), 5, 2000, 0.05),
}
SETS = {**DATA_SETS, "diabetes (80/20 split)": _diabetes, **EXTRA_SETS}


def run(n_seeds, set_names):
    configs = configurations()
    results = {}  # set -> system -> ([errors], [times])
    for set_name in set_names:
        per_system = results.setdefault(set_name, {})
        for seed in range(n_seeds):
            X, y, X_fresh, truth = SETS[set_name](seed)
            models = {REFERENCE: _sklearn_pipeline("lbfgs", seed)}
            for label, params in configs.items():
                if params.get("solver") != "lm" or _n_params(params, X) <= MAX_LM_PARAMS:
                    models[label] = NeuralRegressor(**params, random_state=seed)
            for label, model in models.items():
                elapsed = _fit_timed(model, X, y)
                errors, times = per_system.setdefault(label, ([], []))
                errors.append(_rmse(model.predict(X_fresh), truth))
                times.append(elapsed)
        print(set_table(set_name, per_system), flush=True)
    return results


def set_table(set_name, per_system):
    rows = [f"\n### {set_name}\n", "| system | median error | median fit time |", "|---|---|---|"]
    for label, (errors, times) in per_system.items():
        rows.append(f"| {label} | {np.median(errors):.4g} | {np.median(times) * 1e3:.1f} ms |")
    return "\n".join(rows)


def summary(results):
    labels = list(configurations())
    rows = [
        "\n### Summary over data sets (ratios to the sklearn lbfgs pipeline, 100 units)\n",
        "| configuration | sets | geo-mean error ratio | worst error ratio | sets with lower error | geo-mean time "
        "ratio |",
        "|---|---|---|---|---|---|",
    ]
    for label in labels:
        error_ratios, time_ratios = [], []
        for per_system in results.values():
            if label not in per_system:
                continue
            ref_errors, ref_times = per_system[REFERENCE]
            errors, times = per_system[label]
            error_ratios.append(np.median(errors) / np.median(ref_errors))
            time_ratios.append(np.median(times) / np.median(ref_times))
        if not error_ratios:
            continue
        error_ratios = np.array(error_ratios)
        rows.append(
            f"| {label} | {len(error_ratios)} | {np.exp(np.mean(np.log(error_ratios))):.3f} | "
            f"{error_ratios.max():.2f} | {(error_ratios < 1).sum()} | {np.exp(np.mean(np.log(time_ratios))):.2f} |"
        )
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sets", nargs="*", default=list(SETS), help=f"any of {list(SETS)}")
    args = parser.parse_args()
    print(f"defaults sweep: {args.seeds} seeds per data set, median over seeds")
    with threadpool_limits(1):
        results = run(args.seeds, args.sets)
    print(summary(results))


if __name__ == "__main__":
    main()
