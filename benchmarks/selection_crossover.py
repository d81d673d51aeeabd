"""Where the hinge selection stops holding its candidate columns: the dense matrix against the running sums.

``mlpfit._selection.greedy_hinges`` scores candidate knots from their columns' products with the residual. Up to
``DENSE_MAX_ENTRIES`` rows times candidates it holds the columns as one matrix (``_DenseHinges``: a product costs
one pass over every entry); beyond, for a piecewise-linear activation, it never forms them (``_SortedHinges``: a
product costs a pass over the rows sorted by x plus one over the knots). This script times one selection (relu, the
default's 50 hinges at most) both ways, side by side in one run (each the best of ``--repeats``, alternating), on
the origin problem's curve at several row counts, and with fewer candidates (a narrower ``n_units``), so that the
crossover in rows times candidates can be read off. It also says whether the two kept the same hinges: they sum in
different orders, so a near-tie may go either way.

Usage: python benchmarks/selection_crossover.py [--repeats 7]
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from mlpfit import _selection  # noqa: E402
from mlpfit._activations import ACTIVATIONS  # noqa: E402
from mlpfit.datasets import make_origin  # noqa: E402

CASES = [(rows, units) for units in (10, 50) for rows in (100, 200, 500, 1000, 2000, 5000)]
"""(rows, n_units): candidates are ``GREEDY_CANDIDATES_PER_UNIT * n_units``, at most the rows."""


def _selection_seconds(x, Y, units, dense_max_entries, repeats):
    """The best time of ``repeats`` selections with ``DENSE_MAX_ENTRIES`` set to ``dense_max_entries``, and the
    kept knots and directions."""
    saved, best = _selection.DENSE_MAX_ENTRIES, np.inf
    _selection.DENSE_MAX_ENTRIES = dense_max_entries
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            knots, directions, _ = _selection.greedy_hinges(x, Y, units, ACTIVATIONS["relu"], np.random.default_rng(0))
            best = min(best, time.perf_counter() - start)
    finally:
        _selection.DENSE_MAX_ENTRIES = saved
    return best, np.r_[knots, directions]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"# OPENBLAS_NUM_THREADS=1 python benchmarks/selection_crossover.py --repeats {args.repeats}")
    print(f"DENSE_MAX_ENTRIES = {_selection.DENSE_MAX_ENTRIES}")
    print(
        f"{'rows':>6} {'units':>6} {'candidates':>10} {'entries':>9} {'dense ms':>9} {'sorted ms':>9} "
        f"{'dense/sorted':>12}  same hinges"
    )
    for rows, units in CASES:
        X, y = make_origin(rows, random_state=0)
        x, Y = (X[:, 0] - X[:, 0].mean()) / X[:, 0].std(), ((y - y.mean()) / y.std())[:, None]
        candidates = min(rows, _selection.GREEDY_CANDIDATES_PER_UNIT * units)
        dense, sorted_ = (0.0, None), (0.0, None)
        dense_times, sorted_times = [], []
        for _ in range(2):  # alternate, so that a slow spell of the machine falls on both
            dense = _selection_seconds(x, Y, units, np.inf, args.repeats)
            sorted_ = _selection_seconds(x, Y, units, 0, args.repeats)
            dense_times.append(dense[0])
            sorted_times.append(sorted_[0])
        d, s = min(dense_times), min(sorted_times)
        same = "yes" if np.array_equal(dense[1], sorted_[1]) else "no"
        print(
            f"{rows:>6} {units:>6} {candidates:>10} {rows * candidates:>9} {d * 1e3:>9.2f} {s * 1e3:>9.2f} "
            f"{d / s:>12.2f}  {same}"
        )


if __name__ == "__main__":
    main()
