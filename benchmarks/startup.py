"""Start-up time of the ``mlpfit`` command: median wall time of each command run as a fresh process.

Each command runs ``--repeats`` times as ``python -m mlpfit.cli ...`` (what the ``mlpfit`` entry point runs),
interleaved so a busy machine slows every row alike; the table gives the median and its ratio to
``python -c pass`` measured in the same run. ``info`` and ``predict`` use a small model fitted and saved in a
temporary folder before the timing starts.

Usage: OPENBLAS_NUM_THREADS=1 python benchmarks/startup.py [--repeats 7]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "mlpfit --version": ["-m", "mlpfit.cli", "--version"],
    "mlpfit --help": ["-m", "mlpfit.cli", "--help"],
    "mlpfit fit --help": ["-m", "mlpfit.cli", "fit", "--help"],
    "mlpfit info model.npz": ["-m", "mlpfit.cli", "info", "{folder}/model.npz"],
    "mlpfit predict model.npz data.csv": ["-m", "mlpfit.cli", "predict", "{folder}/model.npz", "{folder}/data.csv"],
}
"""Row label -> arguments to ``python``; ``{folder}`` is the temporary folder with the model and data."""


def make_model(folder):
    """A 40-row one-input CSV and a small model fitted to it, saved with its column names."""
    x = np.linspace(0.0, 10.0, 40)
    with open(os.path.join(folder, "data.csv"), "w") as file:
        file.write("x,y\n" + "".join(f"{a:.17g},{np.sqrt(a):.17g}\n" for a in x))
    subprocess.run(
        [sys.executable, "-m", "mlpfit.cli", "fit", "data.csv", "--x", "x", "--y", "y", "-o", "model.npz", "-q"],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def wall_time(arguments):
    start = time.perf_counter()
    subprocess.run([sys.executable, *arguments], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        make_model(folder)
        commands = {label: [a.format(folder=folder) for a in arguments] for label, arguments in COMMANDS.items()}
        times = {label: [] for label in commands}
        for _ in range(args.repeats):
            for label, arguments in commands.items():
                times[label].append(wall_time(arguments))
    medians = {label: statistics.median(values) for label, values in times.items()}
    baseline = medians["python -c pass"]
    print(f"{'command':<36} {'median':>9} {'x python -c pass':>17}   ({args.repeats} runs each)")
    for label, median in medians.items():
        print(f"{label:<36} {median:>7.3f} s {median / baseline:>17.1f}")


if __name__ == "__main__":
    main()
