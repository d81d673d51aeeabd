"""``mlpfit report``: one self-contained HTML page on a saved model's fit to data, to share."""

import os

import numpy as np

from .. import plot, report
from .._atomic import atomic_write
from .._digest import file_sha256
from ..assessment import COVERAGE, held_out_rows
from ..curves import CurveBatch
from ._arguments import add_columns, add_decimal, add_dropna, read_labelled_data
from ._common import UsageError, add_command, check_outputs, diagnosis_of, open_model


def add_parser(subparsers):
    parser = add_command(
        subparsers,
        "report",
        summary="write a self-contained HTML report of a saved model's fit to data",
        description="Write one HTML file (figures embedded, no network or JavaScript needed to read it) on the model "
        "and DATA, which needs the model's input and target columns: the data summary, the fit plan that ran (every "
        "'auto' and what it chose), RMSE, MAE, R^2 and an ensemble's coverage per split, the figures, the diagnosis "
        "with its fixes, and the provenance (mlpfit version, the files' SHA-256, the date). A model fitted with "
        "'fit --test-fraction' on this DATA is assessed on the same train and test rows; otherwise DATA is one split.",
        example="mlpfit report model.npz data.csv -o report.html\n"
        "mlpfit report model.npz other.csv --x dose --y response -o other.html",
        run=run,
    )
    parser.add_argument("model", metavar="MODEL", help="model file written by 'mlpfit fit' or mlpfit.save")
    parser.add_argument("data", metavar="DATA", help="CSV or Parquet file with the model's input and target columns")
    parser.add_argument("-o", "--output", required=True, metavar="HTML", help="HTML file to write")
    add_columns(parser, "--x", "input columns, when DATA names them differently from the training data")
    add_columns(parser, "--y", "target columns, when DATA names them differently from the training data")
    parser.add_argument(
        "--coverage",
        type=float,
        default=COVERAGE,
        metavar="P",
        help=f"nominal coverage of the intervals whose share of the data is reported, for an ensemble (default "
        f"{COVERAGE:g})",
    )
    parser.add_argument("--title", help="the report's title (default: 'mlpfit report: MODEL')")
    add_dropna(parser)
    add_decimal(parser)
    parser.set_defaults(group=None)  # no --group: a model of curves is refused


def splits_of(data, metadata, X, Y):
    """``(splits, notes)``: the train and test rows of the model's ``--test-fraction`` when ``data`` is the file it
    was drawn from (the same SHA-256 and usable rows), else every row as one split, ``"data"``, and why."""
    split = metadata.get("test_split")
    if split is None:
        return {"data": (X, Y)}, [
            "The model file records no test split (mlpfit fit --test-fraction): every row is assessed as one split, "
            "'data', which may hold the rows the model was fitted on."
        ]
    digest = file_sha256(data)
    if digest != split["data_sha256"] or len(Y) != split["n_rows"]:
        return {"data": (X, Y)}, [
            f"The model's test split was drawn from {split['data']} ({split['n_rows']} usable rows, SHA-256 "
            f"{split['data_sha256']}); {os.path.basename(data)} differs ({len(Y)} usable rows, SHA-256 {digest}), "
            "so every row is assessed as one split, 'data'."
        ]
    test = np.zeros(len(Y), dtype=bool)
    test[held_out_rows(split["n_rows"], split["fraction"], split["seed"])] = True
    return {"train": (X[~test], Y[~test]), "test": (X[test], Y[test])}, []


def _provenance(args, metadata):
    split = metadata.get("test_split")
    pairs = [
        ("model file", os.path.basename(args.model)),
        ("model file SHA-256", file_sha256(args.model)),
        (
            "model written by",
            f"mlpfit {metadata.get('mlpfit_version', '?')}, model format {metadata['format_version']}",
        ),
        ("data file", os.path.basename(args.data)),
        ("data file SHA-256", file_sha256(args.data)),
    ]
    if split is not None:
        pairs.append(
            (
                "test split",
                f"{split['fraction']:g} of {split['n_rows']} rows of {split['data']}, seed {split['seed']}",
            )
        )
    return pairs


def run(args):
    """Read, assess, draw and diagnose; write the page only once all of it has succeeded."""
    check_outputs({"report": args.output}, {"model": args.model, "data": args.data})
    if not 0 < args.coverage < 1:
        raise UsageError(f"--coverage must be a number between 0 and 1; got {args.coverage:g}.")
    plot.require_matplotlib()
    model, metadata = open_model(args.model)
    if isinstance(model, CurveBatch):
        raise UsageError(
            "a model of curves (fit --group) holds a fit per curve; 'mlpfit plot' and 'mlpfit diagnose' show them."
        )
    X, Y, x_names, y_names, _ = read_labelled_data(args, model, metadata)
    splits, notes = splits_of(args.data, metadata, X, Y)
    held_out = splits.get("test", (None, None))
    fitted_on = splits.get("train", splits.get("data"))
    page = report.html_report(
        model,
        splits,
        x_names=x_names,
        y_names=y_names,
        diagnosis=diagnosis_of(model, *fitted_on, *held_out),
        data_facts=[("file", os.path.basename(args.data)), ("rows used", str(len(Y)))],
        provenance=_provenance(args, metadata),
        notes=notes,
        title=args.title or f"mlpfit report: {os.path.basename(args.model)}",
        coverage=args.coverage,
    )
    with atomic_write(args.output, "w") as file:
        file.write(page)
    print(f"report written to {args.output}")
    return 0
