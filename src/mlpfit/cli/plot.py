"""``mlpfit plot``: draw a saved model's fit against data again."""

from .. import plot
from ._common import UsageError, add_command, check_outputs, model_columns, open_model
from ._data import read_table, select
from .predict import add_model_data_arguments


def add_parser(subparsers):
    parser = add_command(
        subparsers, "plot",
        summary="draw a saved model's fit against data to a PNG",
        description="Plot the model against DATA, which needs the model's input and target columns: the fitted "
        "curve (one input) or predicted against actual (several), the residuals and the loss curve.",
        example="mlpfit plot model.npz data.csv -o fit.png",
        run=run,
    )
    add_model_labelled_data_arguments(parser)
    parser.add_argument("-o", "--output", required=True, metavar="PNG", help="PNG file to write")


def add_model_labelled_data_arguments(parser):
    """MODEL, DATA with inputs and targets, --x, --y and --dropna: what ``plot`` and ``diagnose`` share."""
    add_model_data_arguments(parser)
    parser.add_argument("--y", action="append", metavar="COL",
                        help="target column, when DATA names it differently from the training data (repeat)")


def read_model_and_labelled_data(args):
    """``(model, X, Y, x_names, y_names)``: the saved model and its input and target columns from DATA."""
    model, metadata = open_model(args.model)
    x_names, y_names = model_columns(model, metadata, x=args.x, y=args.y)
    if not y_names:
        raise UsageError("the model was saved without column names; name its target columns with --y.")
    A, _ = select(read_table(args.data), x_names + y_names, dropna=args.dropna)
    return model, A[:, : len(x_names)], A[:, len(x_names):], x_names, y_names


def run(args):
    check_outputs({"plot": args.output}, {"model": args.model, "data": args.data})
    plot.require_matplotlib()
    model, X, Y, x_names, y_names = read_model_and_labelled_data(args)
    plot.save_png(plot.fit(model, X, Y, x_names=x_names, y_names=y_names), args.output)
    return 0
