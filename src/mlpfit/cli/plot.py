"""``mlpfit plot``: draw a saved model's fit against data again."""

from .. import plot
from .._curve_tally import TALLIED_CURVES
from ..plot import MAX_PANELS
from . import _curves
from ._arguments import add_columns, add_model_labelled_data_arguments, read_model_and_labelled_data
from ._common import UsageError, add_command, check_outputs
from ._data import named_columns


def add_parser(subparsers):
    parser = add_command(
        subparsers,
        "plot",
        summary="draw a saved model's fit against data to a PNG",
        description="Plot the model against DATA, which needs the model's input and target columns: the fitted "
        "curve (one input) or predicted against actual (several), the residuals and the loss curve. For a model "
        "of curves (fit --group), a grid of panels, one per curve: its rows and its fitted curve, for the curves "
        f"--groups names or else the {MAX_PANELS} worst fits by training RMSE (of a directory that fit "
        f"--per-partition wrote, the {TALLIED_CURVES} its index names).",
        example="mlpfit plot model.npz data.csv -o fit.png\nmlpfit plot curves.npz long.csv --groups s1,s7 -o two.png\n"
        "mlpfit plot curves_dir/ long.csv -o worst.png",
        run=run,
    )
    add_model_labelled_data_arguments(parser)
    parser.add_argument("-o", "--output", required=True, metavar="PNG", help="PNG file to write")
    add_columns(parser, "--groups", "for a model of curves: the curves to draw (default: the worst fits)")


def run(args):
    check_outputs({"plot": args.output}, {"model": args.model, "data": args.data})
    plot.require_matplotlib()
    model, X, Y, x_names, y_names, labelled = read_model_and_labelled_data(args)
    if labelled is None:
        if args.groups:
            raise UsageError("--groups chooses curves of a model of curves (fit --group); this model is one curve.")
        figure = plot.fit(model, X, Y, x_names=x_names, y_names=y_names)
    else:
        figure = _curves_figure(args, model, X, Y, x_names, y_names, labelled)
    plot.save_png(figure, args.output)
    return 0


def _curves_figure(args, model, X, Y, x_names, y_names, labelled):
    """The grid of the chosen curves (or the worst fits), each row matched to its curve by its group."""
    if len(x_names) != 1 or len(y_names) != 1:
        raise UsageError("plot draws curves of one input and one target; this model of curves has more.")
    which = _curves.chosen(model, named_columns(args.groups, [], "--groups")) if args.groups else None
    row_curves = _curves.row_curves(model, *labelled)
    return plot.curves(model, X, Y, row_curves, which=which, x_name=x_names[0], y_name=y_names[0])
