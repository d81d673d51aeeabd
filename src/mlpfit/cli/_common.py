"""What every command shares: the user-error type, parser construction, output-path checks, model files
and the diagnosis's lines.

The estimators and the diagnosis are imported where they are used: ``mlpfit info`` reads a model file
without scikit-learn, whose import takes most of a second.
"""

import argparse
import os
import tempfile

from .._atomic import target_of

EXIT_PROBLEMS = 3
"""Exit code when the diagnosis has a warning or an error, so scripts can test a fit (2 stays bad input)."""
REPORT_CURVES = 5
"""Curves of a model of curves that ``fit`` and ``info`` name (failed ones, the worst fits); ``--summary`` has all."""


class UsageError(Exception):
    """A problem with the user's input that ends the command with exit code 2."""


def add_command(subparsers, name, *, summary, description, example, run):
    """A sub-command parser whose ``--help`` ends with ``example`` (one or more command lines)."""
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog="example:\n  " + "\n  ".join(example.splitlines()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=run)
    return parser


def add_verbosity(parser):
    """``--quiet`` / ``--verbose``, stored as the estimator's ``verbose`` level (default 1: progress bar)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--quiet",
        "-q",
        dest="verbose",
        action="store_const",
        const=0,
        default=1,
        help="print nothing but errors; no progress bar",
    )
    group.add_argument(
        "--verbose",
        "-v",
        dest="verbose",
        action="store_const",
        const=2,
        help="print the loss at every iteration (with Bayesian regularisation also its data term and alpha)",
    )


def check_outputs(outputs, inputs):
    """Fail before any work when an output cannot be written, or is an input or another output.

    ``outputs`` and ``inputs`` map what a file is ("model", "plot", "data") to its path (None: not used).
    Paths are compared as the write will resolve them: through symlinks, and by inode for hard links.
    """
    claimed = [(f"{what} input", path) for what, path in inputs.items() if path is not None]
    for what, path in outputs.items():
        if path is None:
            continue
        _check_writable(path, what)
        clash = next((name for name, other in claimed if _same_file(path, other)), None)
        if clash:
            raise UsageError(f"cannot write the {what} to {path}: it is also the {clash}.")
        claimed.append((f"{what} output", path))


def _check_writable(path, what):
    target = target_of(path)
    directory = os.path.dirname(target)
    if os.path.isdir(target):
        raise UsageError(f"cannot write the {what} to {path}: it is a directory.")
    if not os.path.isdir(directory):
        raise UsageError(f"cannot write the {what} to {path}: directory {directory} does not exist.")
    try:
        tempfile.TemporaryFile(dir=directory).close()
    except OSError as error:
        raise UsageError(
            f"cannot write the {what} to {path}: directory {directory} does not take new files ({error.strerror})."
        ) from None


def _same_file(path, other):
    if target_of(path) == target_of(other):
        return True
    return os.path.exists(path) and os.path.exists(other) and os.path.samefile(path, other)


def open_model(path):
    """``(model, metadata)`` from a model file; a missing file or a non-model is a one-line error.

    The commands match a table's columns by name themselves (:func:`model_columns`) and pass arrays, so a model
    fitted on a DataFrame loses its ``feature_names_in_`` here: scikit-learn would warn that arrays have no names.
    """
    from ..io import load_with_metadata

    _check_model_exists(path)
    model, metadata = load_with_metadata(path)
    if hasattr(model, "feature_names_in_"):
        del model.feature_names_in_
    return model, metadata


def read_model(path):
    """``(saved, metadata)``: what a model file holds (:class:`mlpfit._model_file.SavedModel`), checked as
    :func:`open_model` checks it but for the parameters' constraints, without building the estimator."""
    from .._model_file import read_model

    _check_model_exists(path)
    return read_model(path)


def _check_model_exists(path):
    if not os.path.isfile(path):
        raise UsageError(f"model file {path} does not exist.")


def model_columns(model, metadata, x=None, y=None):
    """Input and target column names: ``--x``/``--y`` when given, else those saved in the model.

    The targets are None when neither names them (a model saved from Python without ``columns=``).
    """
    saved = metadata.get("columns") or {}
    x, y = x or saved.get("x"), y or saved.get("y")
    if not x:
        raise UsageError("the model was saved without column names; name its input columns with --x.")
    if len(x) != model.n_features_in_:
        raise UsageError(f"the model takes {model.n_features_in_} input column(s); got {len(x)}: {', '.join(x)}.")
    if y and len(y) != model.n_outputs_:
        raise UsageError(f"the model has {model.n_outputs_} output(s); got {len(y)} target column(s): {', '.join(y)}.")
    return list(x), y and list(y)


DIAGNOSIS_MIN_HELD_OUT = 3
"""Fewest held-out rows the diagnosis's ``overfit`` check compares with the training rows."""


def diagnosis_of(model, X, Y, X_held_out=None, Y_held_out=None):
    """:func:`mlpfit.diagnose` of a model (an ensemble as a whole, its members' findings labelled) on
    columns ``Y`` (one column: a 1-D target, as the model was fitted); rows held out from the fit, when there
    are at least :data:`DIAGNOSIS_MIN_HELD_OUT`, are its ``overfit`` check's validation rows."""
    from ..diagnosis import diagnose

    def target(Y):
        return Y[:, 0] if Y.shape[1] == 1 else Y

    if Y_held_out is None or len(Y_held_out) < DIAGNOSIS_MIN_HELD_OUT:
        return diagnose(model, X, target(Y))
    return diagnose(model, X, target(Y), X_val=X_held_out, y_val=target(Y_held_out))
