"""The arguments that several commands take (MODEL, DATA, columns, the decimal mark), and reading them."""

import numpy as np

from . import _curves
from ._common import UsageError, model_columns
from ._data import named_columns, read_table, select, split

COLUMNS = "COL[,COL...]"
"""Metavar of an option naming columns: comma-separated, or the option repeated."""


def add_columns(parser, flag, what, **keywords):
    """An option naming columns, ``--x a,b`` or ``--x a --x b`` (expanded by :func:`named_columns`)."""
    parser.add_argument(flag, action="append", metavar=COLUMNS, help=f"{what}: a,b or the option repeated", **keywords)


def add_decimal(parser):
    parser.add_argument(
        "--decimal",
        choices=["auto", ".", ","],
        default="auto",
        metavar="MARK",
        help="decimal mark of DATA's numbers, . or , (default auto: ',' for a ';'-separated file whose numbers "
        "use a comma, else '.')",
    )


def add_dropna(parser):
    parser.add_argument("--dropna", action="store_true", help="drop rows with empty or NaN cells instead of failing")


def add_model_data_arguments(parser):
    """MODEL, DATA, --x, --group and --decimal: what ``predict``, ``plot`` and ``diagnose`` share."""
    parser.add_argument(
        "model",
        metavar="MODEL",
        help="model file written by 'mlpfit fit' or mlpfit.save, or the directory 'fit --per-partition' wrote",
    )
    parser.add_argument("data", metavar="DATA", help="CSV or Parquet file with the model's input columns")
    add_columns(parser, "--x", "input columns, when DATA names them differently from the training data")
    parser.add_argument(
        "--group",
        metavar="COL",
        help="for a model of curves (fit --group): the column naming each row's curve, when DATA names it "
        "differently from the training data",
    )
    add_decimal(parser)


def add_model_labelled_data_arguments(parser):
    """MODEL, DATA with inputs and targets, --x, --y, --decimal and --dropna: what ``plot`` and ``diagnose`` share."""
    add_model_data_arguments(parser)
    add_columns(parser, "--y", "target columns, when DATA names them differently from the training data")
    add_dropna(parser)


def check_roles(x, y):
    """Refuse a column that is both an input and a target: the model would fit the target from itself."""
    both = [name for name in x if name in y]
    if both:
        raise UsageError(f"column {both[0]!r} is both an input (--x) and a target (--y); a target cannot be an input.")


def read_model_and_labelled_data(args):
    """``(model, X, Y, x_names, y_names, labelled)``: the saved model and its input and target columns from DATA;
    ``labelled`` None, or for a model of curves ``(groups, table, group column, table row of each row)``."""
    model, metadata = _curves.open_model_or_directory(args.model)
    return model, *read_labelled_data(args, model, metadata)


def read_labelled_data(args, model, metadata):
    """``(X, Y, x_names, y_names, labelled)`` of :func:`read_model_and_labelled_data`, for a model already open."""
    group = _curves.group_name(args, model, metadata)
    table = read_table(args.data, decimal=args.decimal, keep=[group] if group else ())
    x_names, y_names = model_columns(
        _curves.first_curve(model),
        metadata,
        x=named_columns(args.x, table.names, "--x"),
        y=named_columns(args.y, table.names, "--y"),
    )
    if not y_names:
        raise UsageError("the model was saved without column names; name its target columns with --y.")
    check_roles(x_names, y_names)
    A, complete = select(table, x_names + y_names, missing="drop" if args.dropna else "error", inputs=x_names)
    if group is None:
        return *split(A, len(x_names)), x_names, y_names, None
    groups, A, rows = _curves.grouped(table, group, complete, args.dropna, A, np.flatnonzero(complete))
    return *split(A, len(x_names)), x_names, y_names, (groups, table, group, rows)
