"""The origin problem, 100 seeds: mlpfit defaults on raw data against scikit-learn's MLPRegressor.

For each seed: 500 points, x = |N(0,1)| * 1000, y = sqrt(x) + N(0, 0.5^2); error is the RMSE against the
noise-free sqrt on 2,000 fresh points. Systems, timed side by side in this one run:

- mlpfit: NeuralRegressor() with defaults, on raw data (for this one input, the mean of two networks, each
  with as many hidden units as its forward selection of hinges keeps: 7-11 here), and with the pipeline's
  10 units (hidden_layer_sizes=(10,), the other defaults kept: two networks of 10 averaged);
- sklearn pipeline: StandardScaler + MLPRegressor(hidden_layer_sizes=(10,), solver="lbfgs") inside
  TransformedTargetRegressor(StandardScaler) - the fix a practitioner writes by hand;
- sklearn raw: the same MLPRegressor on raw data, as a new user would try it.

Usage: python benchmarks/origin_problem.py [--seeds 100]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlpfit import NeuralRegressor
from mlpfit.datasets import make_origin, origin_truth

GOOD_ERROR = 0.40


def systems(seed):
    mlp = MLPRegressor(hidden_layer_sizes=(10,), solver="lbfgs", random_state=seed)
    return {
        "mlpfit defaults (raw data)": NeuralRegressor(random_state=seed),
        "mlpfit (10,) units (raw data)": NeuralRegressor((10,), random_state=seed),
        "sklearn lbfgs pipeline": TransformedTargetRegressor(
            regressor=make_pipeline(StandardScaler(), mlp), transformer=StandardScaler()
        ),
        "sklearn lbfgs (raw data)": MLPRegressor(hidden_layer_sizes=(10,), solver="lbfgs", random_state=seed),
    }


def run(n_seeds):
    errors, times = {}, {}
    for seed in range(n_seeds):
        X, y = make_origin(random_state=seed)
        X_test, _ = make_origin(2000, random_state=100_000 + seed)
        truth = origin_truth(X_test)
        for name, model in systems(seed).items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X, y)
            times.setdefault(name, []).append(time.perf_counter() - start)
            errors.setdefault(name, []).append(np.sqrt(np.mean((model.predict(X_test) - truth) ** 2)))
    return errors, times


def table(errors, times, n_seeds):
    reference = np.median(times["sklearn lbfgs pipeline"])
    rows = [
        f"| system | seeds with error <= {GOOD_ERROR} | median error | worst error | median fit time | time / sklearn "
        "pipeline |",
        "|---|---|---|---|---|---|",
    ]
    for name in errors:
        err, fit_time = np.array(errors[name]), np.median(times[name])
        rows.append(
            f"| {name} | {(err <= GOOD_ERROR).sum()}/{n_seeds} | {np.median(err):.3f} | {err.max():.3f} "
            f"| {fit_time * 1e3:.1f} ms | {fit_time / reference:.2f} |"
        )
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args()
    errors, times = run(args.seeds)
    print(table(errors, times, args.seeds))


if __name__ == "__main__":
    main()
