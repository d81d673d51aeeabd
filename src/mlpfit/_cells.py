"""What a cell of the user's data is: one rule for CSV cells, Parquet columns and arrays.

An empty or missing-value token is missing; a number is its value (in a table, only a plain ASCII decimal with
the table's mark); an ISO date (``2024-03-01``, ``2024-03-01T12:30:00``, with or without a UTC offset) or a date
object is a date, and a date in another form (``01/03/2024``) is refused; other text is text. A column is
numbers, dates or text (a categorical input, :mod:`mlpfit._columns`) throughout: a date or text among numbers
is refused, saying what was found, and so are booleans among numbers in a table.

The decimal mark is ``"."`` or ``","`` for a whole table, never guessed cell by cell: under one mark
a number written with the other (``1,5`` when it is ``"."``) is refused, saying which mark would read it.
"""

import datetime
import re

import numpy as np

MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none"})
"""Cell texts (case-insensitive, stripped) that count as an empty cell."""
DATE_TEXT = re.compile(r"\s*\d{4}-\d{2}-\d{2}([ T].*)?\s*")
"""A cell text that is an ISO date, with or without a time: read as a date (or refused as an invalid one), never as
text."""
OTHER_DATE_TEXT = re.compile(r"\s*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}([ T].*)?\s*")
"""A cell text shaped like a date in another form (``01/03/2024``, ``1.3.2024``), whose day and month order no
rule can tell: a date, refused with a request for ISO form, never taken for a category."""
DATES_REFUSED = "dates are read only as inputs, in a column of dates"
"""Why a date is refused where a number is needed, in every message that refuses one."""
DATE_UNIT = "us"
"""Dates are held as ``datetime64[us]``: microseconds over +-290,000 years, where nanoseconds end in 2262."""
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
    if isinstance(cell, np.datetime64) and np.isnat(cell):
        return np.nan
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


def cell_kind(cell):
    """What ``cell`` is: ``"missing"``, ``"number"``, ``"date"`` or ``"text"``; None for any other object
    (a dict, bytes), which only ``float`` judges.

    A text ``float`` reads, or one written with either decimal mark, is a number (which :func:`cell_value` may
    still refuse, saying why), so that a mistyped number is never taken for a category.
    """
    if cell is None or type(cell).__name__ in ("NAType", "NaTType"):  # pandas' missing values, without pandas
        return "missing"
    if isinstance(cell, (datetime.date, np.datetime64)):
        return "missing" if isinstance(cell, np.datetime64) and np.isnat(cell) else "date"
    if isinstance(cell, (int, float, np.integer, np.floating, np.bool_)):
        return "missing" if cell != cell else "number"
    if not isinstance(cell, str):
        return None
    if cell.strip().lower() in MISSING_TOKENS:
        return "missing"
    if DATE_TEXT.fullmatch(cell) or OTHER_DATE_TEXT.fullmatch(cell):
        return "date"
    try:
        float(cell)
        return "number"
    except ValueError:
        return "number" if any(pattern.fullmatch(cell) for pattern in MARKED_NUMBER.values()) else "text"


def date_value(cell):
    """The ``datetime64[us]`` a date cell stands for (see :func:`cell_kind`); a time with a UTC offset is
    converted to UTC, one without is taken as it is. Raises ValueError for text that is no valid ISO date."""
    if isinstance(cell, str):
        cell = str(cell)  # numpy's str_ is shown as np.str_('...')
        if not DATE_TEXT.fullmatch(cell):
            raise ValueError(f"the date {cell!r} in a form other than ISO (write YYYY-MM-DD, with an optional time)")
        try:
            cell = datetime.datetime.fromisoformat(cell.strip())
        except ValueError:
            raise ValueError(f"the invalid date {cell!r}") from None
    if isinstance(cell, datetime.datetime) and cell.tzinfo is not None:
        cell = cell.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return np.datetime64(cell, DATE_UNIT)


def decimal_mark(cells):
    """``","`` when the cells written as numbers with a decimal mark all use a comma, else ``"."``.

    Meant for the cells of a ``;``-separated table, where a comma cannot be the separator: one cell
    with a decimal point among them keeps ``"."`` (the cells with a comma are then refused, not misread).
    """
    marks = {mark for cell in cells for mark, pattern in MARKED_NUMBER.items() if pattern.fullmatch(cell)}
    return "," if marks == {","} else "."
