"""Reading the user's table (CSV, or Parquet with pyarrow) and turning named columns into numbers, dates or text.

CSV is read with the standard library's csv module (strict quoting), so the command line needs
no pandas; the delimiter (comma, semicolon or tab) is sniffed from the file. One rule decides
what a cell is, whatever the format (:func:`mlpfit._cells.cell_kind`, :func:`mlpfit._cells.cell_value`): a
column whose first cell that is not empty is a date or text is kept as its cells, an input column of dates
(datetime64) or text (a categorical input) when every cell that is not empty is one; a refused cell is an
error only when its column is used, naming the file, the column and the row. The decimal mark is
``"."`` unless given, or detected for a ``;``-separated file whose numbers use a comma
(:func:`mlpfit._cells.decimal_mark`); a ``,``- or tab-separated file is never read with a comma.
Columns passed through to the output (``--keep``) are kept as their cell text.

Columns of numbers are converted to float64 as they are read, chunk by chunk, so a CSV costs about its
float64 size in memory rather than one Python string per cell (a column of dates or text keeps its cells).
"""

import csv
import os
from array import array
from dataclasses import dataclass, field

import numpy as np

from .._cells import NotANumber, cell_kind, cell_value, decimal_mark
from .._columns import MIXED, RawInputs, date_text, dates_of, missing_cells, mixed
from ._common import UsageError

PARQUET_SUFFIXES = (".parquet", ".pq")
SNIFF_BYTES = 64 * 1024
CHUNK_ROWS = 65_536
"""CSV rows held as text at once before their columns become float64."""


@dataclass
class Column:
    """One column read: its float64 values so far; or the first cell the rule refused, and the cells themselves
    when that cell is a date or text with no number before it (a column of dates or text, or a mixed one)."""

    decimal: str = "."
    chunks: list = field(default_factory=list)
    problem: tuple | None = None
    """``(row, NotANumber)`` for the first refused cell."""
    cells: list | None = None
    """Every cell (the empty ones before the first refused cell as None), once that cell is a date or text."""

    def add(self, cells, first_row):
        """Convert ``cells`` (rows ``first_row``...) and keep them, unless the column already failed."""
        if self.cells is not None:
            self.cells += cells.tolist() if isinstance(cells, np.ndarray) else list(cells)
            return
        if self.problem is not None:
            return
        values = _fast_floats(cells, self.decimal)
        if values is None:
            values = np.empty(len(cells))
            for row, cell in enumerate(cells):
                try:
                    values[row] = cell_value(cell, self.decimal)
                except NotANumber as error:
                    self._refused(cells, row, first_row, values, error)
                    return
        self.chunks.append(values)

    def _refused(self, cells, row, first_row, values, error):
        """Keep the refused cell, and the cells when it is a date or text after none but empty ones."""
        empty_before = all(np.isnan(chunk).all() for chunk in [*self.chunks, values[:row]])
        if empty_before and cell_kind(cells[row]) in ("date", "text"):
            self.cells = [None] * (first_row + row) + list(cells[row:])
        self.chunks, self.problem = [], (first_row + row, error)

    def values(self):
        """All values read, as one array (kept as the only chunk)."""
        self.chunks = [np.concatenate(self.chunks)] if self.chunks else []
        return self.chunks[0] if self.chunks else np.empty(0)


@dataclass
class TextColumn:
    """A column passed through as its cells' text (``--keep``), never converted."""

    cells: list = field(default_factory=list)

    def add(self, cells, first_row):
        self.cells += [_cell_text(cell) for cell in cells]


def _cell_text(cell):
    """A CSV cell as it is; a Parquet value as text, missing as empty."""
    if isinstance(cell, str):
        return cell
    return "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell)


def _fast_floats(cells, decimal):
    """``cells`` as float64 when numpy's parser gives what :func:`cell_value` would; else None (take the slow path).

    numpy reads ASCII decimal text as ``float`` does; it is trusted only on ASCII without underscores
    or commas, on numbers, and never on booleans or dates. Under a decimal comma, a cell with a point
    takes the slow path (which refuses it).
    """
    if isinstance(cells, np.ndarray) and cells.dtype.kind in "iuf":
        return cells.astype(np.float64)
    if not all(isinstance(cell, str) for cell in cells):
        return None
    text = "".join(cells)
    if not text.isascii() or "_" in text or ("." if decimal == "," else ",") in text:
        return None
    if decimal == ",":
        cells = [cell.replace(",", ".") for cell in cells]
    try:
        return np.asarray(cells, dtype=np.float64)
    except ValueError:
        return None  # an empty cell, a missing-value token or text: the slow path says which


@dataclass
class Table:
    """A table read from ``source``: column names, each column's values (or why it has none)."""

    source: str
    names: list
    columns: dict
    n_rows: int
    lines: np.ndarray | None = None
    """File line of each data row (CSV), to point the user at the right place."""
    decimal: str = "."
    decimal_detected: bool = False
    """Whether ``decimal`` was detected from the file rather than given."""
    kept: list = field(default_factory=list)
    """Columns read as text, to pass through (as :class:`TextColumn` in ``columns``)."""

    def where(self, row):
        """``row 7 (line 8)``: a 0-based data row as the user finds it in the file."""
        line = f" (line {self.lines[row]})" if self.lines is not None else ""
        return f"row {row + 1}{line}"


def read_table(path, *, decimal="auto", keep=()):
    """Read a CSV or Parquet file into a :class:`Table`.

    ``decimal``: ``"."``, ``","`` or ``"auto"`` (``","`` for a ``;``-separated file whose numbers use a
    comma, else ``"."``). ``keep``: ``--keep`` values (see :func:`named_columns`), columns read as text.
    """
    if not os.path.isfile(path):
        raise UsageError(f"data file {path} does not exist." if not os.path.exists(path) else f"{path} is not a file.")
    if path.lower().endswith(PARQUET_SUFFIXES):
        return _read_parquet(path, "." if decimal == "auto" else decimal, keep)
    return _read_csv(path, decimal, keep)


def _read_csv(path, decimal, keep):
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            sample = file.read(SNIFF_BYTES)
            file.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            reader = csv.reader(file, dialect, strict=True)
            header = next(reader, None)
            if not header:
                raise UsageError(f"{path} is empty: a CSV file needs a header line of column names.")
            names = [name.strip() for name in header]
            _check_unique(names, path)
            table = Table(path, names, {}, 0, decimal=decimal, kept=_kept(names, keep, path))
            if decimal == "auto":
                table.decimal = _sniffed_decimal(sample, dialect, len(sample) < SNIFF_BYTES)
                table.decimal_detected = table.decimal == ","
            table.columns, table.lines = _read_rows(reader, table)
            table.n_rows = len(table.lines)
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a readable CSV file (it is not UTF-8 text).") from None
    except csv.Error as error:
        raise UsageError(f"{path} is not a readable CSV file: {error} (line {reader.line_num}).") from None
    return table


def _sniffed_decimal(sample, dialect, whole):
    """The decimal mark of a CSV file from its first bytes: ``","`` only for ``;``-separated numbers with commas."""
    if dialect.delimiter != ";":
        return "."
    lines = sample.splitlines()[1 : None if whole else -1]  # the header, and a line the sample may cut
    try:
        return decimal_mark(cell for row in csv.reader(lines, dialect) for cell in row)
    except csv.Error:
        return "."  # a quoted cell the sample cut: let the reader say what is wrong, if anything


def _kept(names, keep, path):
    kept = named_columns(keep, names, "--keep")
    _check_present(kept, names, path)
    return kept


def _new_columns(table):
    return {name: TextColumn() if name in table.kept else Column(table.decimal) for name in table.names}


def _read_rows(reader, table):
    """Every data row of ``reader``, converted a chunk at a time: ``({name: Column}, line numbers)``.

    Blank lines are skipped, except in a one-column table, where a blank line before a data line is
    an empty cell (only trailing blank lines are skipped), so that no row goes missing.
    """
    names, path = table.names, table.source
    columns = _new_columns(table)
    rows, lines, n_rows, blanks = [], array("q"), 0, []
    for row in reader:
        if not any(cell.strip() for cell in row):
            blanks += [reader.line_num] if len(names) == 1 else []
            continue
        if len(row) != len(names):
            raise UsageError(f"{path} line {reader.line_num} has {len(row)} fields; the header has {len(names)}.")
        if blanks:
            rows += [[""] for _ in blanks]
            lines.extend(blanks)
            blanks.clear()
        rows.append(row)
        lines.append(reader.line_num)
        if len(rows) >= CHUNK_ROWS:
            n_rows = _add_rows(columns, rows, n_rows)
    _add_rows(columns, rows, n_rows)
    return columns, np.frombuffer(lines, dtype=np.int64)


def _add_rows(columns, rows, first_row):
    """Move ``rows`` into ``columns`` (emptying ``rows``); return the count of rows added so far."""
    for column, cells in zip(columns.values(), zip(*rows)):
        column.add(cells, first_row)
    first_row += len(rows)
    rows.clear()
    return first_row


def _read_parquet(path, decimal, keep):
    try:
        import pandas as pd
        import pyarrow  # noqa: F401  (pandas would otherwise fall back to a less clear error)
    except ImportError:
        raise ImportError("Reading Parquet needs pandas and pyarrow: pip install 'mlpfit[parquet]'.") from None
    try:
        frame = pd.read_parquet(path)
    except (ValueError, OSError) as error:
        raise UsageError(f"{path} is not a readable Parquet file: {error}") from None
    names = [str(name) for name in frame.columns]
    _check_unique(names, path)
    table = Table(path, names, {}, len(frame), decimal=decimal, kept=_kept(names, keep, path))
    table.columns = _new_columns(table)
    for name, label in zip(names, frame.columns):
        table.columns[name].add(_parquet_cells(frame[label], as_text=name in table.kept), 0)
    return table


def _parquet_cells(series, as_text=False):
    """A column's cells for :meth:`Column.add`: numbers as a float array (unless ``as_text``: passed through),
    timestamps as ``datetime64`` values (tz-aware ones in UTC), anything else as Python objects."""
    if series.dtype.kind in "iuf" and not as_text:
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    if series.dtype.kind == "M" and not as_text:
        if series.dt.tz is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return list(series.to_numpy().astype("datetime64[us]"))
    return series.astype(object).where(series.notna(), None).to_list()


def _check_unique(names, path):
    seen = set()
    for name in names:
        if name in seen:
            raise UsageError(f"{path} has two columns named {name!r}; column names must be unique.")
        seen.add(name)


def named_columns(values, names, option):
    """The column names an option's values give: each value a name, or names separated by commas.

    A value that is itself one of ``names`` (a header such as ``"weight, kg"``) is taken whole.
    A column named twice, or an empty name, is an error.
    """
    columns = []
    for value in values or ():
        parts = [value] if value in names else [part.strip() for part in value.split(",")]
        if not all(parts):
            raise UsageError(f"{option} {value!r} has an empty column name.")
        for part in parts:
            if part in columns:
                raise UsageError(f"column {part!r} is named twice in {option}.")
            columns.append(part)
    return columns


def _check_present(names, available, source):
    missing = [name for name in names if name not in available]
    if missing:
        raise UsageError(f"{source} has no column {missing[0]!r}; available columns: {', '.join(available)}.")


def _refusal(table, name):
    """Why a column is not numeric: its first refused cell, where, and the decimal mark that would read it."""
    row, error = table.columns[name].problem
    text = f"{error.what} in {table.where(row)}{f'; {error.why}' if error.why else ''}"
    if error.mark:
        detected = ", detected from the file's ';' separator and decimal commas" if table.decimal_detected else ""
        text += f" (pass --decimal {error.mark} if it is {error.mark!r}{detected})"
    return text


def _numeric_column(table, name):
    """One column as float64, empty cells as NaN; a refused or infinite cell is an error."""
    column = table.columns[name]
    if name in table.kept:
        raise UsageError(f"column {name!r} is passed through (--keep); it cannot also be an input or target.")
    if column.problem is not None:
        raise UsageError(f"column {name!r} of {table.source} has {_refusal(table, name)}.")
    values = column.values()
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        raise UsageError(f"column {name!r} of {table.source} has an infinite value in {table.where(infinite[0])}.")
    return values


def _input_column(table, name):
    """An input column: float64 numbers (as :func:`_numeric_column`), or, when every cell that is not empty is a
    date or every one is text, ``datetime64[us]`` dates or text (None where empty); any other mix is an error."""
    column = table.columns[name]
    if column.cells is None or name in table.kept:
        return _numeric_column(table, name)
    kinds = [cell_kind(cell) for cell in column.cells]
    where = f"column {name!r} of {table.source} has "
    if len({kind for kind in kinds if kind != "missing"}) > 1:
        raise UsageError(where + mixed(kinds, column.cells, table.where) + MIXED)
    if "date" in kinds:
        try:
            return dates_of(column.cells, kinds, lambda row, error: f"{where}{error} in {table.where(row)}.")
        except ValueError as error:
            raise UsageError(str(error)) from None
    return np.array([None if kind == "missing" else cell.strip() for cell, kind in zip(column.cells, kinds)], object)


def _holds_dates(table, name):
    column = table.columns[name]
    return column.cells is not None and {cell_kind(cell) for cell in column.cells} <= {"date", "missing"}


def inputs_but(table, targets):
    """``--x-all``: every column but ``targets``, the passed-through and the empty ones: numbers and dates.

    A column of text is an error naming it: a text column is a (categorical) input only when ``--x`` names it.
    """
    names = [name for name in table.names if name not in targets and name not in table.kept]
    text = [name for name in names if table.columns[name].problem is not None and not _holds_dates(table, name)]
    if text:
        which = f"column {text[0]!r}" if len(text) == 1 else f"columns {', '.join(map(repr, text))}"
        first = "" if len(text) == 1 else f"{text[0]!r}: "
        raise UsageError(
            f"--x-all: {which} of {table.source} {'is' if len(text) == 1 else 'are'} not numbers or dates "
            f"({first}{_refusal(table, text[0])}); a text column is a categorical input only when --x names it."
        )
    names = [
        name
        for name in names
        if _holds_dates(table, name) or not (table.n_rows and np.isnan(table.columns[name].values()).all())
    ]
    if not names:
        raise UsageError(f"--x-all: {table.source} has no column with numbers or dates besides the target(s).")
    return names


def select(table, names, *, missing="error", inputs=()):
    """The named columns, and the mask of the complete rows: an (n_rows, len(names)) float64 array, or, when a
    column named in ``inputs`` holds dates or text, the columns as :class:`~mlpfit._columns.RawInputs` (named,
    their rows located by file line), which the estimators take as they take a DataFrame.

    ``missing`` says what becomes of a row with an empty or NaN cell in these columns: ``"error"``
    (the default: refused, pointing at the first), ``"drop"`` (left out) or ``"keep"`` (kept, empty).
    """
    _check_present(names, table.names, table.source)
    arrays = [_input_column(table, name) if name in inputs else _numeric_column(table, name) for name in names]
    columns = RawInputs(tuple(arrays), tuple(names), table.source, table.lines)
    empty = np.column_stack([missing_cells(array) for array in arrays]) if table.n_rows else None
    complete = np.ones(table.n_rows, dtype=bool) if empty is None else ~empty.any(axis=1)
    if missing == "error" and not complete.all():
        row, column = np.argwhere(empty)[0]
        raise UsageError(
            f"{table.source} has {int(empty.sum())} empty or NaN cells in {int((~complete).sum())} rows "
            f"(first: column {names[column]!r}, {table.where(row)}); pass --dropna to drop those rows."
        )
    if missing == "drop" and not complete.all():
        columns = columns[complete]
    return (columns if columns.needs_encoding else _stacked(columns)), complete


def _stacked(columns):
    return np.column_stack(columns.arrays) if len(columns) else np.empty((0, len(columns.arrays)))


def split(A, n):
    """``(inputs, numbers)``: the first ``n`` columns of what :func:`select` gave (as it gives them) and the
    others as a float64 array."""
    if not isinstance(A, RawInputs):
        return A[:, :n], A[:, n:]
    inputs = RawInputs(A.arrays[:n], A.names[:n], A.source, A.lines)
    return (inputs if inputs.needs_encoding else _stacked(inputs)), _stacked(RawInputs(A.arrays[n:]))


def cells_of(values):
    """A selected column's values as CSV cells: numbers exactly (``repr``), dates in ISO form, text as it is;
    empty where missing."""
    if values.dtype.kind == "M":
        return ["" if text == "NaT" else text for text in date_text(values).tolist()]
    if values.dtype.kind == "O":
        return ["" if cell is None else cell for cell in values.tolist()]
    return ["" if value != value else repr(value) for value in values.tolist()]


def text_column(table, name):
    """A passed-through column's cells, as text."""
    return table.columns[name].cells
