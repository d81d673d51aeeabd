"""A curve batch on the command line (``fit --group``): DATA's rows matched to curves by the group column, and
what ``fit``, ``predict`` and ``diagnose`` print or write for a batch.

A group cell is matched as text (a batch saved from Python with integer groups matches ``"3"`` to 3). A row
whose group the model lacks is refused naming the group and the row, as an unknown category is: its curve
cannot be guessed. ``predict`` also refuses a row of a curve the fit failed; ``diagnose`` lists such curves.
"""

import csv
import io
from collections import Counter

import numpy as np

from ..curves import SUMMARY_COLUMNS, CurveBatch
from ._common import REPORT_CURVES, UsageError, diagnosis_of
from ._data import cells_of, text_column


def group_name(args, model, metadata):
    """The group column of a curve batch: ``--group``, else the one its file names; None for another model."""
    if not isinstance(model, CurveBatch):
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
    """The model whose inputs and outputs count DATA's columns: a batch's first fitted curve, else the model."""
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


def curve_rows(batch, groups, table, name, rows, *, failed_ok):
    """``{group: indices into groups}``: the rows of each curve (``rows``: each entry's table row, for messages).

    A group the batch lacks is refused naming it and its first row; so is one whose curve was not fitted, unless
    ``failed_ok``.
    """
    by_text = {str(group): group for group in batch.groups_}
    values, first, inverse = np.unique(groups.astype(str), return_index=True, return_inverse=True)
    members = np.split(np.argsort(inverse, kind="stable"), np.cumsum(np.bincount(inverse))[:-1])
    found = {}
    for value, start, indices in zip(values.tolist(), first, members):
        group = by_text.get(value)
        where = f"{table.source} {table.where(rows[start])}"
        if group is None:
            raise UsageError(
                f"{where}: group {value!r} (column {name!r}) is not a curve of the model, which has "
                f"{len(batch.groups_)} curves."
            )
        if group in batch.errors_ and not failed_ok:
            raise UsageError(f"{where}: the model's curve {value!r} was not fitted ({batch.errors_[group]})")
        found[group] = indices
    return found


def chosen(batch, texts):
    """The groups ``--groups`` names (matched as text), in its order; a name the batch lacks is refused."""
    by_text = {str(group): group for group in batch.groups_}
    missing = [text for text in texts if text not in by_text]
    if missing:
        raise UsageError(f"--groups names {missing[0]!r}, which is not a curve of the model.")
    return [by_text[text] for text in texts]


# --- fit ------------------------------------------------------------------------------------


def report_lines(batch, name):
    """The fit report's lines on the curves: fitted and failed, stop reasons counted, the worst fits, findings."""
    summary, failed = batch.summary_, [group for group in batch.groups_ if group in batch.errors_]
    yield f"curves: {len(batch.groups_)} (column {name!r}), {len(batch.estimators_)} fitted, {len(failed)} failed"
    for group in failed[:REPORT_CURVES]:
        yield f"  not fitted: {group}: {batch.errors_[group]}"
    if len(failed) > REPORT_CURVES:
        yield f"  ... and {len(failed) - REPORT_CURVES} more (--summary lists every curve)"
    fitted = summary["status"] == "fitted"
    yield "stopped: " + ", ".join(f"{reason} {n}" for reason, n in _counted(summary["stop_reason"][fitted]))
    rmse = dict(zip(batch.groups_, summary["rmse"]))
    worst = ", ".join(f"{group} {rmse[group]:.4g}" for group in batch.worst(REPORT_CURVES))
    yield f"worst training RMSE: {worst}"
    codes = [code for text in summary["diagnosis"][fitted] for code in text.split(";") if code]
    if codes:
        with_findings = int(np.count_nonzero(summary["diagnosis"][fitted]))
        counted = ", ".join(f"{code} {n}" for code, n in _counted(codes))
        yield f"diagnosis: {with_findings} curves with findings ({counted}); 'mlpfit diagnose' lists them"
    elif batch.diagnose:
        yield "diagnosis: no findings"


def _counted(values):
    return Counter(values).most_common()


def problems(batch):
    """The line saying how many curves failed or diverged, or None."""
    failed = len(batch.errors_)
    diverged = int(np.count_nonzero(batch.summary_["stop_reason"] == "diverged"))
    if not failed and not diverged:
        return None
    return (
        f"{failed} curve(s) could not be fitted and {diverged} diverged; the model of the others was written "
        "('mlpfit diagnose' says what to change)."
    )


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


def predictions(batch, X, groups, complete, rows, table, name):
    """``({"predicted": (n_rows, n_outputs)}, in_range)`` for rows of many curves, each row by its group's curve;
    NaN where ``complete`` is False. ``rows``: each row's table row, for messages."""
    n_outputs = first_curve(batch).n_outputs_
    predicted, in_range = np.full((len(X), n_outputs), np.nan), np.full(len(X), np.nan)
    index = np.flatnonzero(complete)
    for group, members in curve_rows(batch, groups[index], table, name, rows[index], failed_ok=False).items():
        estimator, members = batch.estimators_[group], index[members]
        predicted[members] = np.asarray(estimator.predict(X[members])).reshape(len(members), -1)
        in_range[members] = estimator.in_range(X[members])
    return {"predicted": predicted}, in_range


def diagnosis_lines(batch, X, Y, by_curve):
    """``(lines, n_problems)``: a line per curve with a warning or an error on its rows (its codes and its worst
    finding) or not fitted, after a header counting them."""
    lines = []
    for group in batch.groups_:
        if group in batch.errors_:
            lines.append(f"{group}: not fitted: {batch.errors_[group]}")
        elif group in by_curve:
            rows = by_curve[group]
            diagnosis = diagnosis_of(batch.estimators_[group], X[rows], Y[rows])
            if not diagnosis.ok:
                worst = diagnosis.findings[0]
                codes = ", ".join(dict.fromkeys(finding.code for finding in diagnosis.findings))
                lines.append(f"{group}: {codes}: [{worst.severity}] {worst.message}")
    diagnosed = sum(group in by_curve for group in batch.estimators_)
    header = (
        f"{len(lines)} of {len(batch.groups_)} curves have problems ({diagnosed} diagnosed on DATA's rows, "
        f"{len(batch.errors_)} not fitted, {len(batch.estimators_) - diagnosed} without rows in DATA)"
    )
    return [header, *lines], len(lines)
