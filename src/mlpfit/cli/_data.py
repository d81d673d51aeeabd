"""Reading the user's table (CSV, or Parquet with pyarrow) and turning named columns into numbers.

CSV is read with the standard library's csv module (strict quoting), so the command line needs
no pandas; the delimiter (comma, semicolon or tab) is sniffed from the file. One rule decides
what a cell is, whatever the format (:func:`mlpfit._cells.cell_value`); a refused cell is an
error only when its column is used, naming the file, the column and the row.

Columns are converted to float64 as they are read, chunk by chunk, so a CSV costs about its
float64 size in memory rather than one Python string per cell.
"""

import csv
import os
from array import array
from dataclasses import dataclass, field

import numpy as np

from .._cells import NotANumber, cell_value
from ._common import UsageError

PARQUET_SUFFIXES = (".parquet", ".pq")
SNIFF_BYTES = 64 * 1024
CHUNK_ROWS = 65_536
"""CSV rows held as text at once before their columns become float64."""


@dataclass
class Column:
    """One column read: its float64 values so far, or the first cell the rule refused."""

    chunks: list = field(default_factory=list)
    problem: tuple | None = None
    """``(row, NotANumber)`` for the first refused cell."""

    def add(self, cells, first_row):
        """Convert ``cells`` (rows ``first_row``...) and keep them, unless the column already failed."""
        if self.problem is not None:
            return
        values = _fast_floats(cells)
        if values is None:
            values = np.empty(len(cells))
            for row, cell in enumerate(cells):
                try:
                    values[row] = cell_value(cell)
                except NotANumber as error:
                    self.chunks, self.problem = [], (first_row + row, error)
                    return
        self.chunks.append(values)

    def values(self):
        """All values read, as one array (kept as the only chunk)."""
        self.chunks = [np.concatenate(self.chunks)] if self.chunks else []
        return self.chunks[0] if self.chunks else np.empty(0)


def _fast_floats(cells):
    """``cells`` as float64 when numpy's parser gives what :func:`cell_value` would; else None (take the slow path).

    numpy reads ASCII decimal text as ``float`` does; it is trusted only on ASCII without underscores,
    on numbers, and never on booleans or dates.
    """
    if isinstance(cells, np.ndarray) and cells.dtype.kind in "iuf":
        return cells.astype(np.float64)
    if not all(isinstance(cell, str) for cell in cells):
        return None
    text = "".join(cells)
    if not text.isascii() or "_" in text:
        return None
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

    def where(self, row):
        """``row 7 (line 8)``: a 0-based data row as the user finds it in the file."""
        line = f" (line {self.lines[row]})" if self.lines is not None else ""
        return f"row {row + 1}{line}"


def read_table(path):
    """Read a CSV or Parquet file into a :class:`Table`."""
    if not os.path.isfile(path):
        raise UsageError(f"data file {path} does not exist." if not os.path.exists(path) else f"{path} is not a file.")
    if path.lower().endswith(PARQUET_SUFFIXES):
        return _read_parquet(path)
    return _read_csv(path)


def _read_csv(path):
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
            columns, lines = _read_rows(reader, names, path)
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a readable CSV file (it is not UTF-8 text).") from None
    except csv.Error as error:
        raise UsageError(f"{path} is not a readable CSV file: {error} (line {reader.line_num}).") from None
    return Table(path, names, columns, len(lines), lines)


def _read_rows(reader, names, path):
    """Every data row of ``reader``, converted a chunk at a time: ``({name: Column}, line numbers)``."""
    columns = {name: Column() for name in names}
    rows, lines, n_rows = [], array("q"), 0
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            raise UsageError(f"{path} line {reader.line_num} has {len(row)} fields; the header has {len(names)}.")
        rows.append(row)
        lines.append(reader.line_num)
        if len(rows) == CHUNK_ROWS:
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


def _read_parquet(path):
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
    columns = {}
    for name, label in zip(names, frame.columns):
        columns[name] = Column()
        columns[name].add(_parquet_cells(frame[label]), 0)
    return Table(path, names, columns, len(frame))


def _parquet_cells(series):
    """A column's cells for :meth:`Column.add`: numbers as a float array, anything else as Python objects."""
    if series.dtype.kind in "iuf":
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    return series.astype(object).where(series.notna(), None).to_list()


def _check_unique(names, path):
    seen = set()
    for name in names:
        if name in seen:
            raise UsageError(f"{path} has two columns named {name!r}; column names must be unique.")
        seen.add(name)


def _numeric_column(table, name):
    """One column as float64, empty cells as NaN; a refused or infinite cell is an error."""
    column = table.columns[name]
    if column.problem is not None:
        row, error = column.problem
        why = f"; {error.why}" if error.why else ""
        raise UsageError(f"column {name!r} of {table.source} has {error.what} in {table.where(row)}{why}.")
    values = column.values()
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        raise UsageError(f"column {name!r} of {table.source} has an infinite value in {table.where(infinite[0])}.")
    return values


def select(table, names, *, dropna=False):
    """The named columns as an (n_rows, len(names)) float64 array and the mask of the rows kept.

    Rows with an empty or NaN cell in these columns are an error unless ``dropna``.
    """
    missing = [name for name in names if name not in table.names]
    if missing:
        raise UsageError(f"{table.source} has no column {missing[0]!r}; available columns: {', '.join(table.names)}.")
    A = np.column_stack([_numeric_column(table, name) for name in names]) if table.n_rows else np.empty((0, len(names)))
    empty = np.isnan(A)
    keep = ~empty.any(axis=1)
    if not dropna and empty.any():
        row, column = np.argwhere(empty)[0]
        raise UsageError(
            f"{table.source} has {int(empty.sum())} empty or NaN cells in {int((~keep).sum())} rows "
            f"(first: column {names[column]!r}, {table.where(row)}); pass --dropna to drop those rows."
        )
    return (A, keep) if keep.all() else (A[keep], keep)
