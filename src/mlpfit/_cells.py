"""What a number in the user's data is: one rule for CSV cells and Parquet columns, and dates refused alike in arrays.

An empty or missing-value token is NaN, a plain ASCII decimal number is its value; booleans, dates
and any other text are refused, saying what was found. Dates are refused clearly, not read as
numbers, until they are a supported input; the estimators refuse date columns of a DataFrame the same way.

The decimal mark is ``"."`` or ``","`` for a whole table, never guessed cell by cell: under one mark
a number written with the other (``1,5`` when it is ``"."``) is refused, saying which mark would read it.
"""

import datetime
import re

import numpy as np
from sklearn.utils.validation import validate_data as sklearn_validate_data

MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none"})
"""Cell texts (case-insensitive, stripped) that count as an empty cell."""
DATE_TEXT = re.compile(r"\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}.*)?\s*")
"""A cell text that is an ISO date, with or without a time: refused as a date, not as text."""
DATES_REFUSED = "dates are not supported yet"
"""Why a date is refused, in every message that refuses one."""
DECIMAL_MARKS = (".", ",")
MARKED_NUMBER = {
    ".": re.compile(r"\s*[-+]?\d*\.\d+([eE][-+]?\d+)?\s*"),
    ",": re.compile(r"\s*[-+]?\d*,\d+([eE][-+]?\d+)?\s*"),
}
"""Decimal mark -> a number written with it (``-0,5``, ``1,5e-3``): what detection counts, and refusals point to."""


class NotANumber(ValueError):
    """A cell the reading rule refuses: ``what`` it is ("a date '2024-03-01'") and, when useful, ``why``.

    ``mark`` is the other decimal mark when the cell is a number written with it, else None.
    """

    def __init__(self, what, why="", mark=None):
        super().__init__(what, why, mark)
        self.what, self.why, self.mark = what, why, mark


def cell_value(cell, decimal="."):
    """The float a table cell stands for, under the one rule every format follows.

    ``decimal`` is the table's decimal mark, ``"."`` or ``","``. Raises NotANumber for a boolean, a
    date or time, or text other than a plain ASCII decimal number with that mark (Python's ``float``
    would also take ``6_369`` and non-ASCII digits; they are refused, and so is a number written
    with the other mark).
    """
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return np.nan
    if isinstance(cell, (bool, np.bool_)):
        raise NotANumber(f"a true/false value {cell!r}", "only numbers are read")
    if isinstance(cell, (datetime.date, datetime.time, datetime.timedelta, np.datetime64, np.timedelta64)):
        raise NotANumber(f"a date or time {str(cell)!r}", DATES_REFUSED)
    if isinstance(cell, (int, float, np.integer, np.floating)):
        return float(cell)
    if not isinstance(cell, str):
        raise NotANumber(f"a non-numeric value {cell!r}")
    if cell.strip().lower() in MISSING_TOKENS:
        return np.nan
    if DATE_TEXT.fullmatch(cell):
        raise NotANumber(f"a date {cell!r}", DATES_REFUSED)
    other = "," if decimal == "." else "."
    try:
        if cell.isascii() and "_" not in cell and other not in cell:
            return float(cell.replace(",", "."))
    except ValueError:
        pass
    if MARKED_NUMBER[other].fullmatch(cell):
        raise NotANumber(f"a non-numeric value {cell!r}", f"the decimal mark is {decimal!r}", mark=other)
    raise NotANumber(f"a non-numeric value {cell!r}")


def decimal_mark(cells):
    """``","`` when the cells written as numbers with a decimal mark all use a comma, else ``"."``.

    Meant for the cells of a ``;``-separated table, where a comma cannot be the separator: one cell
    with a decimal point among them keeps ``"."`` (the cells with a comma are then refused, not misread).
    """
    marks = {mark for cell in cells for mark, pattern in MARKED_NUMBER.items() if pattern.fullmatch(cell)}
    return "," if marks == {","} else "."


def validate_data(estimator, X, *args, **kwargs):
    """scikit-learn's ``validate_data``, after refusing a date column of ``X`` by name.

    numpy cannot turn dates into float64; without this the user sees a ``DTypePromotionError``.
    """
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None:
        kinds = {name: dtype.kind for name, dtype in dtypes.items()}
    else:
        kinds = {"X": getattr(getattr(X, "dtype", None), "kind", "")}
    dated = [name for name, kind in kinds.items() if kind and kind in "mM"]
    if dated:
        raise ValueError(
            f"column {dated[0]!r} of X holds dates or times; {DATES_REFUSED} (convert them to "
            "numbers, e.g. days since a start date)."
        )
    return sklearn_validate_data(estimator, X, *args, **kwargs)
