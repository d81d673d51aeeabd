"""A curve batch on the command line (``fit --group``): DATA's rows matched to curves by the group column, and
what ``fit``, ``predict`` and ``diagnose`` print or write for a batch.

A group cell is matched as text (a batch saved from Python with integer groups matches ``"3"`` to 3). A row
whose group the model lacks is refused naming the group and the row, as an unknown category is: its curve
cannot be guessed. ``predict`` also refuses a row of a curve the fit failed; ``diagnose`` lists such curves.

With ``--per-partition``, ``fit`` reads a Parquet dataset with Dask and writes the curves part by part into a
directory (:meth:`mlpfit.CurveBatch.fit_to_directory`); ``predict``, ``diagnose`` and ``plot`` take that directory
as their MODEL and read only the parts that DATA's groups lie in, ``info`` describes it from its index.
"""

import csv
import glob
import io
import os
import sys
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._curve_directory import INDEX_NAME, CurveDirectory, parts_of
from ..curves import SUMMARY_COLUMNS, CurveBatch
from ..diagnosis import FitWarning
from ._cluster import client_of
from ._common import EXIT_PROBLEMS, UsageError, diagnosis_of, open_model
from ._data import cells_of, named_columns, text_column
from ._tally import part_files, problems, report_lines, tally_of

CURVES = (CurveBatch, CurveDirectory)
"""The models of curves: a batch in one file, or a directory of parts."""


def open_directory(path):
    """``(curves, metadata)`` of a directory written by ``fit --per-partition``, as ``open_model`` gives a file's."""
    directory = CurveDirectory(path)
    return directory, {"columns": directory.columns_}


def open_model_or_directory(path):
    """``(model, metadata)`` of MODEL: the directory ``fit --per-partition`` wrote, else a model file."""
    return (open_directory if os.path.isdir(path) else open_model)(path)


def group_name(args, model, metadata):
    """The group column of a model of curves: ``--group``, else the one its file names; None for another model."""
    if not isinstance(model, CURVES):
        if args.group:
            raise UsageError(
                f"--group is for a model of curves ('mlpfit fit --group'); this is a {type(model).__name__}."
            )
        return None
    name = args.group or (metadata.get("columns") or {}).get("group")
    if not name:
        raise UsageError("the model of curves was saved without its group column; name it with --group.")
    return name


def first_curve(model):
    """The model whose inputs and outputs count DATA's columns: a first fitted curve of curves, else the model."""
    if isinstance(model, CurveDirectory):
        return model.first_curve()
    return next(iter(model.estimators_.values())) if isinstance(model, CurveBatch) else model


def grouped(table, name, complete, dropna, *arrays):
    """``(groups, *arrays)``: the group cell of each row ``complete`` keeps, and ``arrays`` (those rows), without the
    rows whose group cell is empty: dropped with ``--dropna``, else refused naming the first."""
    cells = np.array(text_column(table, name), dtype=object)[complete]
    empty = cells == ""
    if not empty.any():
        return cells, *arrays
    if not dropna:
        row = np.flatnonzero(complete)[np.argmax(empty)]
        raise UsageError(
            f"{table.source} has {int(empty.sum())} rows with an empty group cell (column {name!r}, first: "
            f"{table.where(row)}); pass --dropna to drop those rows."
        )
    return cells[~empty], *(array[~empty] for array in arrays)


def curve_rows(batch, groups, table, name, rows, *, failed_ok, n_curves=None):
    """``{group: indices into groups}``: the rows of each curve (``rows``: each entry's table row, for messages).

    A group the batch lacks is refused naming it, its first row and ``n_curves`` (None: the batch's); so is one
    whose curve was not fitted, unless ``failed_ok``. ``batch`` may be None: a part without a fitted curve.
    """
    by_text = {str(group): group for group in ([] if batch is None else batch.groups_)}
    n_curves = len(by_text) if n_curves is None else n_curves
    values, first, inverse = np.unique(groups.astype(str), return_index=True, return_inverse=True)
    members = np.split(np.argsort(inverse, kind="stable"), np.cumsum(np.bincount(inverse))[:-1])
    found = {}
    for value, start, indices in zip(values.tolist(), first, members):
        group = by_text.get(value)
        where = f"{table.source} {table.where(rows[start])}"
        if group is None:
            raise UsageError(
                f"{where}: group {value!r} (column {name!r}) is not a curve of the model, which has {n_curves} curves."
            )
        if group in batch.errors_ and not failed_ok:
            raise UsageError(f"{where}: the model's curve {value!r} was not fitted ({batch.errors_[group]})")
        found[group] = indices
    return found


def chosen(curves, texts):
    """The groups ``--groups`` names (matched as text), in its order; a name that is not a curve is refused. Of a
    directory, the parts the names lie in are read."""
    found = []
    for text in texts:
        batch = curves if isinstance(curves, CurveBatch) else _part(curves, curves.part_of(text))
        by_text = {str(group): group for group in ([] if batch is None else batch.groups_)}
        if text not in by_text:
            raise UsageError(f"--groups names {text!r}, which is not a curve of the model.")
        found.append(by_text[text])
    return found


# --- fit ------------------------------------------------------------------------------------


def fit_to_directory(args, estimator, input_transform):
    """``fit DATA --group COL --per-partition -o DIR``: the curves of a Parquet dataset fitted partition by partition
    with Dask (:meth:`mlpfit.CurveBatch.fit_to_directory`, on the cluster ``--scheduler`` or ``--workers`` ask for,
    else on the active Dask client or Dask's default scheduler) and written part by part into DIR; the report is the
    parts' tally. ``estimator``: every curve's settings; ``input_transform(args, x_names)``: what ``--log-x`` makes
    of them."""
    _check_per_partition(args)
    x_names, y_names = named_columns(args.x, [], "--x"), named_columns(args.y, [], "--y")
    estimator.set_params(verbose=0, input_transform=input_transform(args, x_names))  # no bars from many workers
    with warnings.catch_warnings(), client_of(args):
        # the report counts how the curves stopped and their findings; one warning per curve would bury it
        for category in (ConvergenceWarning, FitWarning):
            warnings.simplefilter("ignore", category)
        directory = CurveBatch(estimator).fit_to_directory(
            args.data,
            args.output,
            groups=args.group,
            x=x_names,
            y=y_names[0],
            sample_weight=args.weight,
            n_parts=args.parts,
        )
    if args.verbose:
        print(f"rows used: {directory.tally_.n_rows}; inputs {', '.join(x_names)}; target {y_names[0]}")
        print("\n".join(report_lines(directory, args.group)))
        print(f"curves written to {args.output}: {part_files(directory)} part files and their index {INDEX_NAME}")
    problem = problems(directory)
    if problem:
        print(f"mlpfit fit: {problem}", file=sys.stderr)
    return EXIT_PROBLEMS if problem else 0


PER_PARTITION_REFUSES = {
    "x_all": "--x-all (name the inputs with --x)",
    "summary": "--summary (each part's model file has its curves' summary)",
    "plot": "--plot",
    "ensemble": "--ensemble",
    "dropna": "--dropna (a curve with an empty or NaN cell is reported as not fitted)",
}
"""``fit`` options that ``--per-partition`` does not take -> how the refusal names them."""


def _check_per_partition(args):
    """Refuse, before any work, what ``--per-partition`` does not take."""
    refused = next((words for option, words in PER_PARTITION_REFUSES.items() if getattr(args, option)), None)
    if refused:
        raise UsageError(f"--per-partition cannot be combined with {refused}.")
    if args.group is None:
        raise UsageError("--per-partition fits one curve per group and writes them part by part; give --group COL.")
    if args.parts is not None and args.parts < 1:
        raise UsageError(f"--parts must be at least 1; got {args.parts}.")
    if len(named_columns(args.y, [], "--y")) != 1:
        raise UsageError("--per-partition fits one target column; name one with --y.")
    if not (os.path.isdir(args.data) or args.data.endswith(".parquet") or set("*?[") & set(args.data)):
        raise UsageError(
            f"--per-partition reads DATA as Parquet: a .parquet file, a directory of them or a glob; got {args.data}."
        )
    if not glob.glob(args.data):
        raise UsageError(f"data {args.data} does not exist.")
    parent = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(parent):
        raise UsageError(f"cannot write the curves to {args.output}: directory {parent} does not exist.")


def summary_csv(batch):
    """:attr:`~mlpfit.CurveBatch.summary_` as CSV text: one row per curve, an empty cell for a failed curve's RMSE."""
    columns = [batch.summary_[name] for name in SUMMARY_COLUMNS]
    cells = [
        cells_of(column) if column.dtype.kind == "f" else [str(cell) for cell in column.tolist()] for column in columns
    ]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    writer.writerows(zip(*cells))
    return text.getvalue()


# --- predict and diagnose ---------------------------------------------------------------------


def predictions(curves, X, groups, complete, rows, table, name):
    """``({"predicted": (n_rows, n_outputs)}, in_range)`` for rows of many curves, each row by its group's curve;
    NaN where ``complete`` is False. ``rows``: each row's table row, for messages."""
    n_outputs = first_curve(curves).n_outputs_
    predicted, in_range = np.full((len(X), n_outputs), np.nan), np.full(len(X), np.nan)
    index = np.flatnonzero(complete)
    for batch, n_curves, members in _by_part(curves, groups[index]):
        members = index[members]
        found = curve_rows(batch, groups[members], table, name, rows[members], failed_ok=False, n_curves=n_curves)
        for group, indices in found.items():
            estimator, indices = batch.estimators_[group], members[indices]
            predicted[indices] = np.asarray(estimator.predict(X[indices])).reshape(len(indices), -1)
            in_range[indices] = estimator.in_range(X[indices])
    return {"predicted": predicted}, in_range


def _by_part(curves, groups):
    """``(batch, n_curves, indices into groups)`` per part of ``curves`` that ``groups`` lie in: a batch is one
    part; a directory's part is read once for all its rows (None: it holds no fitted curve)."""
    if isinstance(curves, CurveBatch):
        yield curves, len(curves.groups_), np.arange(len(groups))
        return
    parts = parts_of(groups, curves.n_parts_) if len(groups) else np.zeros(0, dtype=np.int64)
    for part in np.unique(parts).tolist():
        yield _part(curves, part), curves.tally_.n_curves, np.flatnonzero(parts == part)


def _part(directory, part):
    """Part ``part`` of a directory as a batch (None: it holds no curve); one whose curves all failed as
    :func:`_failed_part`."""
    batch = directory.part(part)
    if batch is None and directory.errors_of(part):
        return _failed_part(directory.errors_of(part))
    return batch


def _failed_part(errors):
    """A part whose curves all failed, as :func:`curve_rows` reads a batch: its groups and their errors."""
    part = CurveBatch()
    part.groups_, part.errors_, part.estimators_ = list(errors), errors, {}
    return part


def row_curves(curves, groups, table, name, rows):
    """The curve of each row (its group as the model holds it), by :func:`curve_rows`: a group the model lacks is
    refused; a directory's parts are read as ``groups`` need them."""
    found = np.empty(len(groups), dtype=object)
    for batch, n_curves, members in _by_part(curves, groups):
        by_curve = curve_rows(batch, groups[members], table, name, rows[members], failed_ok=True, n_curves=n_curves)
        for group, indices in by_curve.items():
            found[members[indices]] = group
    return found


def diagnosis_lines(curves, X, Y, groups, table, name, rows):
    """``(lines, n_problems)``: a line per curve with a warning or an error on its rows (its codes and its worst
    finding), then one per curve not fitted, after a header counting them.

    Each row is matched to its curve by ``groups`` (``rows``: its table row, for messages); a directory's parts are
    read as the rows need them, and its curves not fitted are those its tally names.
    """
    lines, diagnosed = [], 0
    for batch, n_curves, members in _by_part(curves, groups):
        by_curve = curve_rows(batch, groups[members], table, name, rows[members], failed_ok=True, n_curves=n_curves)
        for group in batch.groups_:
            if group not in batch.estimators_ or group not in by_curve:
                continue
            diagnosed += 1
            indices = members[by_curve[group]]
            diagnosis = diagnosis_of(batch.estimators_[group], X[indices], Y[indices])
            if not diagnosis.ok:
                worst = diagnosis.findings[0]
                codes = ", ".join(dict.fromkeys(finding.code for finding in diagnosis.findings))
                lines.append(f"{group}: {codes}: [{worst.severity}] {worst.message}")
    tally = tally_of(curves)
    n_failed = tally.n_curves - tally.n_fitted
    n_problems = len(lines) + n_failed
    failed = tally.failed if isinstance(curves, CurveDirectory) else _failed(curves)
    lines += [f"{group}: not fitted: {error}" for group, error in failed]
    if n_failed > len(failed):
        lines.append(f"... and {n_failed - len(failed)} more not fitted (each part's model file lists its curves)")
    header = (
        f"{n_problems} of {tally.n_curves} curves have problems ({diagnosed} diagnosed on DATA's rows, "
        f"{n_failed} not fitted, {tally.n_fitted - diagnosed} without rows in DATA)"
    )
    return [header, *lines], n_problems


def _failed(batch):
    """``[(group, why), ...]``: the curves of a batch not fitted, in its order."""
    return [(group, batch.errors_[group]) for group in batch.groups_ if group in batch.errors_]
