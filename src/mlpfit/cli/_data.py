"""Reading the user's table (CSV, or Parquet with pyarrow) and turning named columns into numbers.

CSV is read with the standard library's csv module, so the command line needs no
pandas; the delimiter (comma, semicolon or tab) is sniffed from the file. Every
problem becomes a :class:`UsageError` naming the file, the column and the row.
"""

import csv
import os
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ._common import UsageError

MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none"})
"""Cell texts (case-insensitive, stripped) that count as an empty cell."""
PARQUET_SUFFIXES = (".parquet", ".pq")
SNIFF_BYTES = 64 * 1024


@dataclass
class Table:
    """A table read from ``source``: column names and a way to get one column's raw cells."""

    source: str
    names: list
    cells: Callable
    lines: Optional[list] = None
    """File line of each data row (CSV), to point the user at the right place."""

    @property
    def n_rows(self):
        return len(self.cells(self.names[0])) if self.names else 0

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
            reader = csv.reader(file, dialect)
            header = next(reader, None)
            rows, lines = [], []
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if header is not None and len(row) != len(header):
                    raise UsageError(f"{path} line {reader.line_num} has {len(row)} fields; the header has {len(header)}.")
                rows.append(row)
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a readable CSV file (it is not UTF-8 text).") from None
    except csv.Error as error:
        raise UsageError(f"{path} is not a readable CSV file: {error}.") from None
    if not header:
        raise UsageError(f"{path} is empty: a CSV file needs a header line of column names.")
    names = [name.strip() for name in header]
    _check_unique(names, path)
    columns = dict(zip(names, zip(*rows))) if rows else {name: () for name in names}
    return Table(path, names, columns.__getitem__, lines)


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
    columns = {name: frame[column].to_numpy() for name, column in zip(names, frame.columns)}
    return Table(path, list(columns), columns.__getitem__)


def _check_unique(names, path):
    seen = set()
    for name in names:
        if name in seen:
            raise UsageError(f"{path} has two columns named {name!r}; column names must be unique.")
        seen.add(name)


def _numeric_column(table, name):
    """One column as float64, empty cells as NaN; a non-numeric or infinite cell is an error."""
    cells = table.cells(name)
    try:
        values = np.asarray(cells, dtype=np.float64)
    except (TypeError, ValueError):
        values = np.array([_cell_value(table, name, row, cell) for row, cell in enumerate(cells)], dtype=np.float64)
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        raise UsageError(f"column {name!r} of {table.source} has an infinite value in {table.where(infinite[0])}.")
    return values


def _cell_value(table, name, row, cell):
    if cell is None or (isinstance(cell, str) and cell.strip().lower() in MISSING_TOKENS):
        return np.nan
    try:
        return float(cell)
    except (TypeError, ValueError):
        raise UsageError(
            f"column {name!r} of {table.source} has a non-numeric value {cell!r} in {table.where(row)}."
        ) from None


def select(table, names, *, dropna=False):
    """The named columns as an (n_rows, len(names)) float64 array and the mask of the rows kept.

    Rows with an empty or NaN cell in these columns are an error unless ``dropna``.
    """
    missing = [name for name in names if name not in table.names]
    if missing:
        raise UsageError(
            f"{table.source} has no column {missing[0]!r}; available columns: {', '.join(table.names)}."
        )
    A = np.column_stack([_numeric_column(table, name) for name in names]) if table.n_rows else np.empty((0, len(names)))
    empty = np.isnan(A)
    keep = ~empty.any(axis=1)
    if not dropna and empty.any():
        row, column = np.argwhere(empty)[0]
        raise UsageError(
            f"{table.source} has {int(empty.sum())} empty or NaN cells in {int((~keep).sum())} rows "
            f"(first: column {names[column]!r}, {table.where(row)}); pass --dropna to drop those rows."
        )
    return A[keep], keep
