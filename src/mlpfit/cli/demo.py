"""``mlpfit demo``: the origin problem, fitted with defaults on raw data."""

import numpy as np

from .. import plot
from .._activations import RELU_FAMILY
from ..datasets import make_origin, origin_truth
from ..estimator import NeuralRegressor
from ._common import add_command, check_writable


def add_parser(subparsers):
    parser = add_command(
        subparsers, "demo",
        summary="fit the origin problem (y = sqrt(x) on raw x) with defaults",
        description="Generate 500 noisy points of y = sqrt(x), x = |N(0,1)| * 1000, fit them with "
        "mlpfit's defaults on the raw data, and compare with a least-squares line.",
        example="mlpfit demo --seed 3 --plot origin.png",
        run=run,
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the data and the fit (default 0)")
    parser.add_argument("--plot", metavar="PNG", help="also draw the fit to this PNG file")


def _rmse_against_truth(predict, X):
    return float(np.sqrt(np.mean((predict(X) - origin_truth(X)) ** 2)))


def breakpoints_inside(model, X):
    """How many first-layer ReLU-family breakpoints -b/w lie inside the range of X (raw units)."""
    raw = plot.first_layer_breakpoints(model)
    return int(np.sum((raw > X.min()) & (raw < X.max()))), model.coefs_[0].shape[1]


def run(args):
    check_writable(args.plot, "plot")
    if args.plot:
        plot.require_matplotlib()
    X, y = make_origin(random_state=args.seed)
    X_test, _ = make_origin(2000, random_state=args.seed + 10_000)
    model = NeuralRegressor(random_state=args.seed).fit(X, y)
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    model_error = _rmse_against_truth(model.predict, X_test)
    line_error = _rmse_against_truth(lambda A: slope * A[:, 0] + intercept, X_test)
    print("The origin problem: 500 points, x = |N(0,1)| * 1000, y = sqrt(x) + N(0, 0.5^2), raw data.")
    print(f"  mlpfit defaults      RMSE against the true sqrt: {model_error:.3f}")
    print(f"  least-squares line   RMSE against the true sqrt: {line_error:.3f}")
    print(f"  fit: {model.summary_}")
    if model.activation in RELU_FAMILY:
        inside, total = breakpoints_inside(model, X)
        print(f"  breakpoints: {inside} of {total} first-layer units bend inside the data "
              f"[{X.min():.3g}, {X.max():.3g}]; the rest are off or linear on all of it.")
    if args.plot:
        plot.save_png(plot.fit(model, X, y, x_names=["x"], y_names=["y"]), args.plot)
        print(f"  plot written to {args.plot}")
    return 0
