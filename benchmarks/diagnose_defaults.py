"""Does ``diagnose`` stay quiet on good fits? Every default fit of the sweep and of the real curves, diagnosed.

The fits are those the defaults make in ``defaults_sweep.py`` (every set, ``--seeds`` seeds, the set's own
data) and in ``real_curves.py`` (every pair, on all its rows, one fit per seed): ``NeuralRegressor(random_state=seed)``.
Each is diagnosed on its training data, as ``mlpfit fit`` reports it. Printed: per data set the fits, the
warnings and errors (their codes), and the info notes per fit; then the totals. Issue 16's measure: no
warning or error on any default fit.

Usage: python benchmarks/diagnose_defaults.py [--seeds 5]
"""

import argparse
import sys
import warnings
from collections import Counter
from pathlib import Path

from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from mlpfit import NeuralRegressor, diagnose

sys.path.insert(0, str(Path(__file__).parent))
from defaults_sweep import SETS  # noqa: E402
from real_curves import PAIRS, load_pair  # noqa: E402


def _findings(X, y, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = NeuralRegressor(random_state=seed).fit(X, y)
    return diagnose(model, X, y).findings


def _data(n_seeds):
    """``(name, seed, X, y)`` of every default fit."""
    for name, generate in SETS.items():
        for seed in range(n_seeds):
            X, y, _, _ = generate(seed)
            yield name, seed, X, y
    for loader, x_name, y_name in PAIRS:
        X, y = load_pair(loader, x_name, y_name)
        for seed in range(n_seeds):
            yield f"{x_name} -> {y_name}", seed, X, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    per_set, totals = {}, Counter()
    with threadpool_limits(1):
        for name, seed, X, y in _data(args.seeds):
            findings = _findings(X, y, seed)
            fits, alarms, notes = per_set.setdefault(name, [0, Counter(), Counter()])
            per_set[name][0] = fits + 1
            for finding in findings:
                (notes if finding.severity == "info" else alarms)[finding.code] += 1
                totals[finding.severity] += 1
    print(f"diagnose on every default fit, {args.seeds} seeds per data set, on the training data\n")
    print("| data set | fits | warnings and errors | info notes per fit | info codes |")
    print("|---|---|---|---|---|")
    for name, (fits, alarms, notes) in per_set.items():
        shown = ", ".join(f"{code} x{count}" for code, count in alarms.items()) or "none"
        codes = ", ".join(f"{code} x{count}" for code, count in notes.items()) or "-"
        print(f"| {name} | {fits} | {shown} | {sum(notes.values()) / fits:.2f} | {codes} |")
    n_fits = sum(fits for fits, _, _ in per_set.values())
    print(
        f"\n{n_fits} fits: {totals['error']} errors, {totals['warning']} warnings, "
        f"{totals['info']} info notes ({totals['info'] / n_fits:.2f} per fit)"
    )


if __name__ == "__main__":
    main()
