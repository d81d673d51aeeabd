"""``mlpfit predict``: a saved model's predictions for new rows, columns matched by name.

Every row of DATA is written, in order: a row with an empty or NaN input gets empty cells for that
input and for its predictions, and the count of such rows goes to stderr (``--dropna`` leaves them
out instead). Dates and text in an input column are read as the model's date and category inputs were (an
unknown category is an error naming it); text among numbers is an error. For a model of curves (``fit --group``)
each row is predicted by its group's curve (:mod:`mlpfit.cli._curves`); an empty group cell counts as a
missing input, and the group column is written after the ``--keep`` columns. MODEL may be the directory that
``fit --per-partition`` wrote: only the parts DATA's groups lie in are read.

The last column, ``in_range``, is 1 where every input lies within the range the model was trained on
and 0 where the prediction extrapolates (empty where an input is missing); stderr counts the rows
outside. It comes last so that the columns before it keep their places.
"""

import csv
import sys

import numpy as np

from .._atomic import atomic_write
from . import _curves
from ._arguments import add_columns, add_model_data_arguments
from ._common import add_command, check_outputs, model_columns
from ._data import cells_of, named_columns, read_table, select, text_column


def add_parser(subparsers):
    parser = add_command(
        subparsers,
        "predict",
        summary="predict new rows with a saved model",
        description="Read the model's input columns (by name) from DATA and write, for every row, the columns "
        "passed through with --keep, the inputs and one prediction column per target, named TARGET_predicted "
        "(and, for an ensemble, the interval's TARGET_lower and TARGET_upper), then in_range: 1 where every "
        "input lies within the training range, 0 where the prediction extrapolates (an ensemble's interval "
        "widens there). CSV goes to OUT or standard output. A row with an empty or NaN input keeps its place "
        "with empty predictions; stderr says how many there are, and how many rows lie outside the range. "
        "For a model of curves (fit --group), each row is predicted by the curve its group column names; a group "
        "the model lacks, or whose curve was not fitted, is an error naming it and its row. MODEL may also be the "
        "directory that fit --per-partition wrote; only the parts DATA's groups lie in are read.",
        example="mlpfit predict model.npz new.csv -o predictions.csv\n"
        "mlpfit predict model.npz new.csv --keep id | head\n"
        "mlpfit predict curves.npz new.csv -o predictions.csv   # each row by its group's curve\n"
        "mlpfit predict curves_dir/ new.csv -o predictions.csv  # curves written by fit --per-partition",
        run=run,
    )
    add_model_data_arguments(parser)
    add_columns(parser, "--keep", "columns written first, as they are (ids, labels)")
    parser.add_argument(
        "--dropna",
        action="store_true",
        help="leave out rows with an empty or NaN input (default: write them with empty predictions)",
    )
    parser.add_argument("-o", "--output", metavar="OUT", help="CSV file to write (default: standard output)")
    parser.add_argument(
        "--coverage",
        type=float,
        default=0.95,
        help="for an ensemble model: the prediction interval's coverage, written as "
        "TARGET_lower and TARGET_upper columns (default 0.95)",
    )


def _predictions(model, X, complete, coverage):
    """``{suffix: (n_rows, n_outputs) array}`` of predictions and interval bounds; NaN where an input is missing."""
    suffixes = ["predicted", "lower", "upper"] if hasattr(model, "predict_interval") else ["predicted"]
    found = {}
    if complete.any():
        found["predicted"] = model.predict(X[complete])
        if "lower" in suffixes:
            found["lower"], found["upper"] = model.predict_interval(X[complete], coverage)
    columns = {}
    for suffix in suffixes:
        columns[suffix] = np.full((len(X), model.n_outputs_), np.nan)
        if suffix in found:
            columns[suffix][complete] = np.asarray(found[suffix]).reshape(int(complete.sum()), -1)
    return columns


def _in_range(model, X, complete):
    """``in_range`` per row: 1.0 where every input lies within the training range, 0.0 outside, NaN where an input
    is missing."""
    column = np.full(len(X), np.nan)
    if complete.any():
        column[complete] = model.in_range(X[complete])
    return column


def run(args):
    check_outputs({"predictions": args.output}, {"model": args.model, "data": args.data})
    model, metadata = _curves.open_model_or_directory(args.model)
    group = _curves.group_name(args, model, metadata)
    keep = args.keep
    if group is not None and group not in named_columns(args.keep, [group], "--keep"):
        keep = [*(args.keep or []), group]  # written after the --keep columns, to say which curve predicted
    table = read_table(args.data, decimal=args.decimal, keep=keep)
    shape = _curves.first_curve(model)
    x_names, y_names = model_columns(shape, metadata, x=named_columns(args.x, table.names, "--x"))
    y_names = y_names or [f"y{k}" for k in range(shape.n_outputs_)]
    X, complete = select(table, x_names, missing="keep", inputs=x_names)
    if group is not None:
        complete &= np.array(text_column(table, group), dtype=object) != ""
    rows = complete if args.dropna else np.ones(table.n_rows, dtype=bool)
    X = X[rows]
    header = table.kept + x_names
    columns = [[cell for cell, kept in zip(text_column(table, name), rows) if kept] for name in table.kept]
    columns += [cells_of(column) for column in (X.T if isinstance(X, np.ndarray) else X.arrays)]
    if group is None:
        predictions, in_range = (
            _predictions(model, X, complete[rows], args.coverage),
            _in_range(model, X, complete[rows]),
        )
    else:
        groups = np.array(text_column(table, group), dtype=object)[rows]
        predictions, in_range = _curves.predictions(
            model, X, groups, complete[rows], np.flatnonzero(rows), table, group
        )
    for suffix, values in predictions.items():
        header += [f"{name}_{suffix}" for name in y_names]
        columns += [cells_of(column) for column in values.T]
    header.append("in_range")
    columns.append(["" if value != value else str(int(value)) for value in in_range.tolist()])
    if args.output is None:
        _write_csv(sys.stdout, header, columns)
    else:
        with atomic_write(args.output, "w") as file:
            _write_csv(file, header, columns)
    n_missing = int((~complete).sum())
    if n_missing:
        what = "left out (--dropna)" if args.dropna else f"{'its' if n_missing == 1 else 'their'} predictions are empty"
        have = "rows has" if n_missing == 1 else "rows have"
        print(f"mlpfit predict: {n_missing} of {table.n_rows} {have} a missing input; {what}.", file=sys.stderr)
    n_outside = int((in_range == 0).sum())
    if n_outside:
        lie = "rows lies" if n_outside == 1 else "rows lie"
        print(
            f"mlpfit predict: {n_outside} of {table.n_rows} {lie} outside the training range of an input; "
            "predictions there extrapolate.",
            file=sys.stderr,
        )
    return 0


def _write_csv(file, header, columns):
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(zip(*columns))
