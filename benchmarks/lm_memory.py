"""Peak memory of a Levenberg-Marquardt fit on 10^6 rows: J^T J is built in row chunks.

10^6 rows, 5 inputs, one hidden layer of 40 tanh units (281 parameters), a few LM iterations.
The full Jacobian would take 10^6 * 281 * 8 bytes = 2.2 GB; chunked, the fit's peak resident
memory stays near the data's own size.

Usage: python benchmarks/lm_memory.py [--rows 1000000] [--max-iter 3]
"""

import argparse
import resource
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from mlpfit import NeuralRegressor


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--max-iter", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(args.rows, 5))
    y = np.sin(X @ [1.0, -2.0, 0.5, 0.0, 1.5]) + 0.1 * rng.normal(size=args.rows)
    before = peak_rss_mib()
    model = NeuralRegressor((40,), "tanh", solver="lm", max_iter=args.max_iter, random_state=0)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    n_params = model.architecture_.n_params
    print(
        f"rows={args.rows}, parameters={n_params}, LM iterations={model.n_iter_}, "
        f"fit time={time.perf_counter() - start:.1f} s"
    )
    print(
        f"peak RSS before fit (data loaded) = {before:.0f} MiB, after fit = {peak_rss_mib():.0f} MiB; "
        f"a full Jacobian alone would be {args.rows * n_params * 8 / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    main()
