"""``mlpfit export``: a saved model as an ONNX file, a standalone NumPy module or a C99 header."""

import os

import numpy as np

from .._atomic import atomic_write
from ..export import FORMATS, export
from ._common import UsageError, add_command, check_outputs, open_model


def add_parser(subparsers):
    parser = add_command(
        subparsers,
        "export",
        summary="write a saved model as ONNX, a standalone NumPy module or a C header",
        description="Write MODEL as a file that predicts without mlpfit: an ONNX graph (float64; the 'export' "
        "extra), a Python module needing NumPy alone, or a C99 header (with a test harness behind "
        "-DMLPFIT_HARNESS). The format follows OUTPUT's suffix (.onnx, .py, .h) unless --format names it.",
        example="mlpfit export model.npz -o model.onnx\nmlpfit export model.npz -o predict_curve.py\n"
        "mlpfit export ens.npz --format c -o model.h && cc -std=c99 -DMLPFIT_HARNESS -x c model.h -lm -o harness",
        run=run,
    )
    parser.add_argument("model", metavar="MODEL", help="model file written by 'mlpfit fit' or mlpfit.save")
    parser.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="file to write")
    parser.add_argument("--format", choices=FORMATS, help="onnx, python or c (default: from OUTPUT's suffix)")


def format_of(path):
    """The export format ``path``'s suffix names; UsageError for any other suffix."""
    suffix = os.path.splitext(path)[1].lower()
    format = next((name for name, known in FORMATS.items() if known == suffix), None)
    if format is None:
        suffixes = ", ".join(FORMATS.values())
        raise UsageError(f"cannot tell the format from {path}'s suffix (one of {suffixes}); give --format.")
    return format


def run(args):
    format = args.format or format_of(args.output)
    check_outputs({"export": args.output}, {"model": args.model})
    model, metadata = open_model(args.model)
    names = (metadata.get("columns") or {}).get("x")
    if names:  # the export's notes name the input columns as the file does
        model.feature_names_in_ = np.asarray(names, dtype=object)
    content = export(model, format)
    with atomic_write(args.output, "wb" if isinstance(content, bytes) else "w") as file:
        file.write(content)
    print(f"{format} export of {args.model} written to {args.output}")
    return 0
