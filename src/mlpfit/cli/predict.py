"""``mlpfit predict``: a saved model's predictions for new rows, columns matched by name."""

import csv
import sys

import numpy as np

from .._atomic import atomic_write
from ._arguments import add_model_data_arguments
from ._common import add_command, check_outputs, model_columns, open_model
from ._data import read_table, select


def add_parser(subparsers):
    parser = add_command(
        subparsers,
        "predict",
        summary="predict new rows with a saved model",
        description="Read the model's input columns (by name) from DATA and write them with one prediction "
        "column per target, named TARGET_predicted (and, for an ensemble, the interval's TARGET_lower and "
        "TARGET_upper), as CSV to OUT or standard output.",
        example="mlpfit predict model.npz new.csv -o predictions.csv\nmlpfit predict model.npz new.csv | head",
        run=run,
    )
    add_model_data_arguments(parser)
    parser.add_argument("-o", "--output", metavar="OUT", help="CSV file to write (default: standard output)")
    parser.add_argument(
        "--coverage",
        type=float,
        default=0.95,
        help="for an ensemble model: the prediction interval's coverage, written as "
        "TARGET_lower and TARGET_upper columns (default 0.95)",
    )


def _write_csv(file, header, rows):
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([repr(float(v)) for v in row] for row in rows)


def run(args):
    check_outputs({"predictions": args.output}, {"model": args.model, "data": args.data})
    model, metadata = open_model(args.model)
    x_names, y_names = model_columns(model, metadata, x=args.x)
    y_names = y_names or [f"y{k}" for k in range(model.n_outputs_)]
    X, _ = select(read_table(args.data), x_names, dropna=args.dropna)
    columns = [np.asarray(model.predict(X)).reshape(len(X), -1)]
    header = x_names + [f"{name}_predicted" for name in y_names]
    if hasattr(model, "predict_interval"):
        columns += [np.asarray(bound).reshape(len(X), -1) for bound in model.predict_interval(X, args.coverage)]
        header += [f"{name}_{bound}" for bound in ("lower", "upper") for name in y_names]
    rows = np.hstack([X, *columns])
    if args.output is None:
        _write_csv(sys.stdout, header, rows)
    else:
        with atomic_write(args.output, "w") as file:
            _write_csv(file, header, rows)
    return 0
