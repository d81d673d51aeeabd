"""``mlpfit demo``: the origin problem, fitted with defaults on raw data."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .. import plot
from .._activations import ACTIVATIONS
from ..datasets import make_origin, origin_truth
from ..diagnosis import FitWarning, diagnose
from ..estimator import NeuralRegressor
from ._common import add_command, check_outputs

BROKEN_MAX_ITER = 30_000
"""Gradient-descent steps of ``--broken``: a tenth of the original 300,000, which end at the same straight line."""
BROKEN_CONFIGURATION = dict(
    hidden_layer_sizes=(10,),
    init="normal",
    init_scale=0.01,
    standardize=False,
    solver="sgd",
    momentum=0.0,
    learning_rate_init=1e-6,
    max_iter=BROKEN_MAX_ITER,
    tol=0.0,
)
"""The failing NumPy program's set-up: 10 ReLUs, tiny normal weights, zero biases, raw data, plain gradient descent
(full batch: ``batch_size="auto"`` takes all 500 rows)."""


def add_parser(subparsers):
    parser = add_command(
        subparsers,
        "demo",
        summary="fit the origin problem (y = sqrt(x) on raw x) with defaults",
        description="Generate 500 noisy points of y = sqrt(x), x = |N(0,1)| * 1000, fit them with "
        "mlpfit's defaults on the raw data, and compare with a least-squares line.",
        example="mlpfit demo --seed 3 --plot origin.png\nmlpfit demo --broken",
        run=run,
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the data and the fit (default 0)")
    parser.add_argument("--plot", metavar="PNG", help="also draw the fit to this PNG file")
    parser.add_argument(
        "--broken",
        action="store_true",
        help=f"first fit the failing program's configuration ({BROKEN_MAX_ITER:,} gradient-descent steps, a few "
        "seconds) and print its diagnosis next to the default fit's",
    )


def _rmse_against_truth(predict, X):
    return float(np.sqrt(np.mean((predict(X) - origin_truth(X)) ** 2)))


def breakpoints_inside(model, X):
    """How many first-layer ReLU-family breakpoints -b/w lie inside the range of X (raw units)."""
    raw = model.fitted_.network.first_layer_breakpoints()
    return int(np.sum((raw > X.min()) & (raw < X.max()))), model.coefs_[0].shape[1]


def _print_broken(X, y, X_test, seed):
    broken = NeuralRegressor(**BROKEN_CONFIGURATION, random_state=seed)
    with warnings.catch_warnings():  # the diagnosis below says it all, and better
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", FitWarning)
        broken.fit(X, y)
    settings = ", ".join(f"{key}={value!r}" for key, value in BROKEN_CONFIGURATION.items())
    print(f"The failing program's configuration (full batch, {settings}; the original ran 300,000 steps):")
    print(f"  broken fit           RMSE against the true sqrt: {_rmse_against_truth(broken.predict, X_test):.3f}")
    print("  " + str(diagnose(broken, X, y)).replace("\n", "\n  "))
    print()


def run(args):
    check_outputs({"plot": args.plot}, {})
    if args.plot:
        plot.require_matplotlib()
    X, y = make_origin(random_state=args.seed)
    X_test, _ = make_origin(2000, random_state=args.seed + 10_000)
    print("The origin problem: 500 points, x = |N(0,1)| * 1000, y = sqrt(x) + N(0, 0.5^2), raw data.")
    if args.broken:
        _print_broken(X, y, X_test, args.seed)
    model = NeuralRegressor(random_state=args.seed).fit(X, y)
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    model_error = _rmse_against_truth(model.predict, X_test)
    line_error = _rmse_against_truth(lambda A: slope * A[:, 0] + intercept, X_test)
    print(f"  mlpfit defaults      RMSE against the true sqrt: {model_error:.3f}")
    print(f"  least-squares line   RMSE against the true sqrt: {line_error:.3f}")
    print(f"  fit: {model.summary_}")
    if ACTIVATIONS[model.activation].kinked:
        inside, total = breakpoints_inside(model, X)
        print(
            f"  breakpoints: {inside} of {total} first-layer units bend inside the data "
            f"[{X.min():.3g}, {X.max():.3g}]; the rest are off or linear on all of it."
        )
    if args.plot:
        plot.save_png(plot.fit(model, X, y, x_names=["x"], y_names=["y"]), args.plot)
        print(f"  plot written to {args.plot}")
    if args.broken:
        print("  " + str(diagnose(model, X, y)).replace("\n", "\n  "))
    return 0
