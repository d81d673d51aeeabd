"""Default fits of the origin problem against an earlier commit's, interleaved in one process.

The machine's speed drifts by more than the differences being measured, so the earlier commit's package is
extracted (``git archive``) under another name, ``mlpfit_then``, and both fit the same 20 seeds in turn in this one
process: for each seed, each version's best of ``--repeats`` fits, the order alternating from seed to seed. Each
round prints the two totals and their ratio, and the script checks that both selected the same hinges (each network's
start, the selection's knots as its weights, bit for bit) and says how far apart the fits' predictions are.

Usage: python benchmarks/origin_speed.py [--baseline 00f6c85] [--rounds 3] [--repeats 3]
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import io  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import mlpfit  # noqa: E402
from mlpfit.datasets import make_origin  # noqa: E402

SEEDS = 20


def earlier_package(commit, folder):
    """The package ``src/mlpfit`` at ``commit``, extracted into ``folder`` as ``mlpfit_then`` and imported (its
    imports within the package are relative, so the new name holds)."""
    root = Path(__file__).resolve().parent.parent
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", commit, "src/mlpfit"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        # the "data" filter where this Python has it (3.10.12, 3.11.4 and later): git's own archive, but no links out
        tar.extractall(folder, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    (Path(folder) / "src" / "mlpfit").rename(Path(folder) / "mlpfit_then")
    sys.path.insert(0, str(folder))
    return importlib.import_module("mlpfit_then")


def best_fit(package, X, y, seed, repeats):
    """The best time of ``repeats`` default fits, and the last fit."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        model = package.NeuralRegressor(random_state=seed).fit(X, y)
        best = min(best, time.perf_counter() - start)
    return best, model


def selected_starts(package, X, y, seed):
    """The start of each network of a default fit: the hinges its selection kept, as first-layer weights and biases
    with the output layer solved on them (``start_training``, the same function in both versions)."""
    estimator = importlib.import_module(f"{package.__name__}.estimator")
    training = estimator.start_training(package.NeuralRegressor(random_state=seed), X, y)
    return [job.init for job in training.jobs]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="00f6c85", help="the earlier commit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    data = [make_origin(random_state=seed) for seed in range(SEEDS)]
    with tempfile.TemporaryDirectory() as folder:
        versions = {"then": earlier_package(args.baseline, folder), "now": mlpfit}
        print(
            f"# OPENBLAS_NUM_THREADS=1 python benchmarks/origin_speed.py --baseline {args.baseline} "
            f"--rounds {args.rounds} --repeats {args.repeats}"
        )
        print(f"{SEEDS} seeds of the origin problem, each version's best of {args.repeats} fits per seed")
        same_hinges, largest_difference = True, 0.0
        for round_ in range(args.rounds):
            totals, models = dict.fromkeys(versions, 0.0), {}
            for seed, (X, y) in enumerate(data):
                order = list(versions) if (seed + round_) % 2 == 0 else list(versions)[::-1]
                for name in order:
                    seconds, models[name] = best_fit(versions[name], X, y, seed, args.repeats)
                    totals[name] += seconds
                starts = {name: selected_starts(package, X, y, seed) for name, package in versions.items()}
                same_hinges &= len(starts["then"]) == len(starts["now"]) and all(
                    np.array_equal(a, b) for a, b in zip(starts["then"], starts["now"])
                )
                difference = np.abs(models["then"].predict(X) - models["now"].predict(X))
                largest_difference = max(largest_difference, np.max(difference))
            print(
                f"round {round_ + 1}: {args.baseline} {totals['then']:.3f} s, now {totals['now']:.3f} s, "
                f"{totals['then'] / totals['now']:.2f} times as fast"
            )
        print(
            f"the same hinges on every seed: {'yes' if same_hinges else 'no'}; "
            f"largest difference of the training predictions: {largest_difference:.2g}"
        )


if __name__ == "__main__":
    main()
