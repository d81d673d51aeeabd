"""How long diagnose() takes on 10^3 to 10^5 rows, and what the check run after every fit adds to a fit.

For each size: the origin problem (one input) and Friedman #1 (ten inputs), a default NeuralRegressor
fitted on the first 2,000 rows (max_iter=200), then timed side by side in this run: the fit, the full
diagnose() on all rows, and the fit-time check (codes "diverged" and "effectively-linear"), each the
median of --repeats runs. The ratio column is the fit-time check over the fit.

Usage: python benchmarks/diagnose_speed.py [--repeats 5]
"""

import argparse
import time
import warnings
from functools import partial

import numpy as np
from sklearn.datasets import make_friedman1

from mlpfit import NeuralRegressor, diagnose
from mlpfit.datasets import make_origin
from mlpfit.diagnosis import FIT_WARNING_CODES

PROBLEMS = {
    "origin (1 input)": lambda n: make_origin(n, random_state=0),
    "Friedman #1 (10 inputs)": lambda n: make_friedman1(n, noise=1.0, random_state=0),
}


def _median_seconds(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'problem':<26}{'rows':>8}{'fit s':>9}{'diagnose s':>12}{'fit check s':>13}{'check/fit':>11}")
    for name, make in PROBLEMS.items():
        for n in (1_000, 10_000, 100_000):
            X, y = make(n)
            model = NeuralRegressor(max_iter=200, random_state=0)
            fit = _median_seconds(partial(model.fit, X[:2000], y[:2000]), args.repeats)
            full = _median_seconds(partial(diagnose, model, X, y), args.repeats)
            check = _median_seconds(partial(diagnose, model, X[:2000], y[:2000], codes=FIT_WARNING_CODES), args.repeats)
            print(f"{name:<26}{n:>8}{fit:>9.3f}{full:>12.4f}{check:>13.4f}{check / fit:>11.3f}")


if __name__ == "__main__":
    main()
