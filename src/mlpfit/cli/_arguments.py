"""The MODEL and DATA arguments that several commands take, and reading them."""

from ._common import UsageError, model_columns, open_model
from ._data import read_table, select


def add_model_data_arguments(parser):
    """MODEL, DATA, --x and --dropna: what ``predict`` and ``plot`` share."""
    parser.add_argument("model", metavar="MODEL", help="model file written by 'mlpfit fit' or mlpfit.save")
    parser.add_argument("data", metavar="DATA", help="CSV or Parquet file with the model's input columns")
    parser.add_argument(
        "--x",
        action="append",
        metavar="COL",
        help="input column, when DATA names it differently from the training data (repeat)",
    )
    parser.add_argument("--dropna", action="store_true", help="skip rows with empty or NaN cells instead of failing")


def add_model_labelled_data_arguments(parser):
    """MODEL, DATA with inputs and targets, --x, --y and --dropna: what ``plot`` and ``diagnose`` share."""
    add_model_data_arguments(parser)
    parser.add_argument(
        "--y",
        action="append",
        metavar="COL",
        help="target column, when DATA names it differently from the training data (repeat)",
    )


def read_model_and_labelled_data(args):
    """``(model, X, Y, x_names, y_names)``: the saved model and its input and target columns from DATA."""
    model, metadata = open_model(args.model)
    x_names, y_names = model_columns(model, metadata, x=args.x, y=args.y)
    if not y_names:
        raise UsageError("the model was saved without column names; name its target columns with --y.")
    A, _ = select(read_table(args.data), x_names + y_names, dropna=args.dropna)
    return model, A[:, : len(x_names)], A[:, len(x_names) :], x_names, y_names
