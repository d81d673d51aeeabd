"""Prediction intervals: mlpfit's EnsembleRegressor against scikit-learn's Gaussian process, side by side.

Data sets (training rows n, fresh test rows 5,000 from the same distribution):

- heteroscedastic sine: x ~ U(-3, 3), y = sin(x) + (0.1 + 0.2|x|) N(0, 1), n = 2,000;
- homoscedastic sine: the same with noise sd 0.3;
- Friedman #1: sklearn's make_friedman1, 10 inputs (5 irrelevant), noise sd 1, n = 1,000;
- origin problem: x = |N(0,1)| * 1000, y = sqrt(x) + N(0, 0.5^2), n = 500, raw (unscaled) x;
- heteroscedastic sine, small: as the first with n = 200;
- homoscedastic sine, tested on [3, 5]: trained on [-3, 3] as the second, tested beyond it, where only
  the members' disagreement can tell that the curve is unknown.

The last three are not targets of the issue; they check that the defaults were not tuned to the first three,
and how the intervals behave away from the data.

Systems, fitted on the same rows in this one run:

- ensemble: ``EnsembleRegressor(random_state=seed)`` with defaults (5 NeuralRegressor() members trained
  on the Gaussian NLL), and ``noise="homoscedastic"`` (squared error plus a held-out noise level);
- GP: GaussianProcessRegressor(ConstantKernel * RBF(one length scale per input) + WhiteKernel,
  normalize_y=True), hyperparameters by maximum marginal likelihood - the reference.

Per system and set, averaged over seeds: coverage of the 50/90/95% central intervals, mean width of the
95% interval, test NLL per point (negative mean Gaussian log-density, in y's units), RMSE of the mean
against the noise-free truth, and fit time. Targets: coverage within 3 points of nominal at every level;
ensemble NLL no worse than the GP's on the univariate sets.

Usage: python benchmarks/uncertainty.py [--seeds 3] [--output benchmarks/results/uncertainty.txt]
"""

import argparse
import os
import tempfile
import time
import warnings

import numpy as np
from scipy.stats import norm
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

from mlpfit import EnsembleRegressor
from mlpfit.datasets import make_origin, origin_truth

LEVELS = (0.5, 0.9, 0.95)
N_TEST = 5000
UNIVARIATE = (
    "heteroscedastic sine",
    "homoscedastic sine",
    "origin problem",
    "heteroscedastic sine, n=200",
    "homoscedastic sine, tested on [3, 5]",
)


def _sine(noise_sd, test_domain=(-3, 3)):
    def make(n, rng, test=False):
        x = rng.uniform(*(test_domain if test else (-3, 3)), n)
        return x[:, None], np.sin(x) + noise_sd(x) * rng.normal(size=n), np.sin(x)

    return make


def _friedman(n, rng, test=False):
    X, y = make_friedman1(n, noise=1.0, random_state=rng.integers(2**31))
    truth = 10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2 + 10 * X[:, 3] + 5 * X[:, 4]
    return X, y, truth


def _origin(n, rng, test=False):
    X, y = make_origin(n, random_state=rng.integers(2**31))
    return X, y, origin_truth(X)


DATASETS = {
    "heteroscedastic sine": (2000, _sine(lambda x: 0.1 + 0.2 * np.abs(x))),
    "homoscedastic sine": (2000, _sine(lambda x: np.full_like(x, 0.3))),
    "Friedman #1": (1000, _friedman),
    "origin problem": (500, _origin),
    "heteroscedastic sine, n=200": (200, _sine(lambda x: 0.1 + 0.2 * np.abs(x))),
    "homoscedastic sine, tested on [3, 5]": (2000, _sine(lambda x: np.full_like(x, 0.3), test_domain=(3, 5))),
}
"""Name -> (training rows, ``make(n, rng, test=False) -> (X, y, noise-free truth)``); ``test=True`` draws
the test rows, from outside the training range for the last set."""


def _gaussian_process(n_features, seed):
    kernel = ConstantKernel() * RBF(np.ones(n_features), (1e-3, 1e5)) + WhiteKernel(0.1, (1e-6, 1e2))
    return GaussianProcessRegressor(kernel, normalize_y=True, random_state=seed)


SYSTEMS = {
    "ensemble (heteroscedastic)": lambda n_features, seed: EnsembleRegressor(random_state=seed),
    "ensemble (homoscedastic)": lambda n_features, seed: EnsembleRegressor(noise="homoscedastic", random_state=seed),
    "GP (RBF + White)": _gaussian_process,
}
"""Name -> ``factory(n_features, seed) -> estimator`` with ``predict(X, return_std=True)``."""


def evaluate(model, X, y, truth):
    """Coverage per level, mean 95% width, NLL per point, RMSE against the truth."""
    mean, std = model.predict(X, return_std=True)
    z = np.abs(y - mean) / std
    coverage = [np.mean(z <= norm.ppf(0.5 + level / 2)) for level in LEVELS]
    width = np.mean(2 * norm.ppf(0.975) * std)
    nll = -np.mean(norm.logpdf(y, mean, std))
    return [*coverage, width, nll, np.sqrt(np.mean((mean - truth) ** 2))]


def run(n_seeds):
    """``results[(data set, system)]`` = list over seeds of the metrics of :func:`evaluate` plus fit time."""
    results = {}
    for name, (n_train, make) in DATASETS.items():
        for seed in range(n_seeds):
            rng = np.random.default_rng([seed, len(name)])
            X, y, _ = make(n_train, rng)
            X_test, y_test, truth = make(N_TEST, rng, test=True)
            for system, factory in SYSTEMS.items():
                model = factory(X.shape[1], seed)
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model.fit(X, y)
                fit_time = time.perf_counter() - start
                results.setdefault((name, system), []).append([*evaluate(model, X_test, y_test, truth), fit_time])
    return results


def table(results, n_seeds):
    rows = [
        f"Means over {n_seeds} seeds; test rows {N_TEST}. Coverage target: nominal +- 0.03.",
        "",
        "| data set | system | cover 50% | cover 90% | cover 95% | 95% width | test NLL | RMSE vs truth | fit time | "
        "time / GP |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    misses = []
    for (name, system), values in results.items():
        values = np.mean(values, axis=0)
        gp = np.mean(results[(name, "GP (RBF + White)")], axis=0)
        rows.append(
            f"| {name} | {system} | "
            + " | ".join(f"{c:.3f}" for c in values[:3])
            + f" | {values[3]:.3g} | {values[4]:.3f} | {values[5]:.3g} | {values[6]:.2f} s | {values[6] / gp[6]:.2f} |"
        )
        if not system.startswith("ensemble"):
            continue
        off = [f"{level:.0%}: {c:.3f}" for level, c in zip(LEVELS, values[:3]) if abs(c - level) > 0.03]
        if off:
            misses.append(f"{name}, {system}: coverage off by more than 0.03 at {', '.join(off)}")
        if name in UNIVARIATE and values[4] > gp[4]:
            misses.append(f"{name}, {system}: NLL {values[4]:.3f} worse than the GP's {gp[4]:.3f}")
    rows += ["", "Misses against the targets:" if misses else "Misses against the targets: none"]
    rows += [f"- {miss}" for miss in misses]
    return "\n".join(rows)


def _write_atomically(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, suffix=".tmp") as handle:
        handle.write(text)
    os.replace(handle.name, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "results", "uncertainty.txt"))
    args = parser.parse_args()
    text = table(run(args.seeds), args.seeds)
    print(text)
    _write_atomically(args.output, text + "\n")


if __name__ == "__main__":
    main()
