"""The user's input columns as the network sees them: numbers as they are, dates as days since an origin, and
text as one indicator input per category.

Each column of ``X`` is read by one rule (:func:`mlpfit._cells.cell_kind`), whatever holds it (a DataFrame, a
numpy array, the command line's table): numbers; dates (``datetime64``, ``datetime`` objects, ISO text such as
``2024-03-01`` or ``2024-03-01T12:30:00``); or text, every cell that is not missing being neither a number nor a
date (a category is its text without surrounding spaces). An :class:`InputEncoding` learned by ``fit`` turns
each column into the network's inputs; the fitted network keeps it (:class:`mlpfit._fitted.FittedNetwork`), so
``predict`` takes the columns as they came. Data of numbers alone are not encoded at all (:func:`read_inputs`
returns None): they go through scikit-learn's validation as before.

Notes
-----
Dates become days (fractional with a time of day) since the origin, midnight of the earliest training date: day 0
is the first day of the data, so the numbers, the fitted slopes (per day) and the breakpoints read as calendar
days. Times with a UTC offset (a tz-aware pandas column, ``+01:00`` or ``Z`` in text) are converted to UTC; times
without one are taken as they are. Resolution: the microsecond (:data:`mlpfit._cells.DATE_UNIT`).

Categories are the distinct texts of the training rows, sorted; each becomes one input, 1 in its rows and 0
elsewhere (one-hot; a category dtype's unused categories are not among them). A text not among them is refused
at predict, naming it and the column: the network has learned nothing about it.
"""

import datetime
from dataclasses import dataclass

import numpy as np

from ._cells import DATE_UNIT, cell_kind, date_value

DAY = np.timedelta64(1, "D")
DATE_SPAN_DAYS = 1e8
"""Days either side of a date column's origin that dates are shown within (``datetime64[us]`` holds some 290,000
years either side of 1970): a breakpoint further out, where no data lie, is shown at this bound."""
KIND_WORDS = {"f": "numbers", "M": "dates", "O": "text", "number": "numbers", "date": "dates", "text": "text"}
"""A read column's dtype kind, or a cell's kind (:func:`~mlpfit._cells.cell_kind`) -> what it holds, in messages."""


# --- reading: the user's X as typed columns ------------------------------------------------------


@dataclass(frozen=True)
class RawInputs:
    """The columns of ``X`` as read, one 1-D array each: float64 (numbers), ``datetime64[us]`` (dates) or object
    (text, None where missing). Rows are taken with ``inputs[rows]``.

    Messages name a column ``column 'dose' of <source>`` (by ``names``: a DataFrame's columns, or the command
    line's) or ``column j of <source>``, and a row by its index, or by its file line when ``lines`` are given.
    """

    arrays: tuple
    names: tuple | None = None
    source: str = "X"
    lines: np.ndarray | None = None

    @property
    def shape(self):
        return (len(self.arrays[0]) if self.arrays else 0, len(self.arrays))

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, rows):
        lines = None if self.lines is None else self.lines[rows]
        return RawInputs(tuple(array[rows] for array in self.arrays), self.names, self.source, lines)

    def label(self, j):
        return f"column {self.names[j]!r} of {self.source}" if self.names else f"column {j} of {self.source}"

    def where(self, row):
        return f"row {row}" if self.lines is None else f"line {self.lines[row]}"

    @property
    def needs_encoding(self):
        """Some column holds dates or text."""
        return any(array.dtype.kind != "f" for array in self.arrays)


def read_inputs(X):
    """``X``'s columns as :class:`RawInputs` when one of them holds dates or text (or ``X`` is read already);
    None when numpy reads ``X`` as numbers, for scikit-learn's validation to take as it always did.

    Raises ValueError for a column that mixes numbers, dates and text, or holds durations, naming it and the row.
    """
    if isinstance(X, RawInputs):
        return X
    if hasattr(X, "dtypes") and hasattr(X, "columns"):
        inputs = _frame_inputs(X)
    else:
        try:
            array = X if hasattr(X, "dtype") and hasattr(X, "shape") else np.asarray(X)
        except (TypeError, ValueError):
            return None  # ragged: scikit-learn says what is wrong
        if array.dtype.kind in "biufc" or array.ndim != 2:
            return None  # scikit-learn reads it, and says what is wrong with its shape
        inputs = RawInputs(tuple(_typed(column, f"column {j} of X") for j, column in enumerate(array.T)))
    return inputs if inputs.needs_encoding else None


def as_inputs(X):
    """``X``'s columns as :class:`RawInputs`, whether they need encoding (:func:`read_inputs`) or are numbers."""
    return read_inputs(X) or RawInputs(tuple(np.asarray(X, dtype=np.float64).T))


def check_numbers(X):
    """Raise ValueError naming the first column of ``X`` that holds dates or text: a model fitted on numbers alone
    takes numbers alone."""
    inputs = read_inputs(X)
    if inputs is not None:
        j = next(j for j, values in enumerate(inputs.arrays) if values.dtype.kind != "f")
        raise ValueError(
            f"{inputs.label(j)} holds {KIND_WORDS[inputs.arrays[j].dtype.kind]}; the model was fitted on numbers there."
        )


def _frame_inputs(frame):
    """A DataFrame's columns, each read by its dtype: numbers, dates (tz-aware ones in UTC), categories, or cells."""
    if all(dtype.kind in "biuf" for dtype in frame.dtypes):
        return RawInputs(())
    names = tuple(str(name) for name in frame.columns)
    arrays = []
    for j, (_, series) in enumerate(frame.items()):
        label = f"column {names[j]!r} of X"
        if getattr(series.dtype, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        if series.dtype.kind in "biuf":
            arrays.append(series.to_numpy(dtype=np.float64, na_value=np.nan))
        elif series.dtype.kind == "M":
            arrays.append(series.to_numpy().astype(f"datetime64[{DATE_UNIT}]"))
        elif series.dtype.name == "category":
            arrays.append(np.array([None if cell is None else str(cell).strip() for cell in _cells_of(series)], object))
        else:
            arrays.append(_typed(np.asarray(_cells_of(series), dtype=object), label))
    return RawInputs(tuple(arrays), names)


def _cells_of(series):
    return series.astype(object).where(series.notna(), None).to_list()


def _typed(cells, label):
    """One column of cells as float64, ``datetime64[us]`` or text, by :func:`~mlpfit._cells.cell_kind`."""
    if cells.dtype.kind == "M":
        return cells.astype(f"datetime64[{DATE_UNIT}]")
    if cells.dtype.kind == "m" or any(isinstance(cell, (datetime.timedelta, np.timedelta64)) for cell in cells):
        raise ValueError(f"{label} holds durations; convert them to numbers (e.g. days).")
    kinds = [cell_kind(cell) for cell in cells]
    present = {kind for kind in kinds if kind != "missing"}
    if None in present or present <= {"number"}:
        # float() reads the numbers, and says what is wrong with any other object (a dict: TypeError)
        return np.asarray([np.nan if kind == "missing" else cell for cell, kind in zip(cells, kinds)], np.float64)
    if len(present) > 1:
        raise ValueError(f"{label} has {mixed(kinds, cells, 'row {}'.format)}{MIXED}")
    if present == {"date"}:
        return dates_of(cells, kinds, lambda row, error: f"{label} has {error} in row {row}.")
    return np.array([None if kind == "missing" else cell.strip() for cell, kind in zip(cells, kinds)], dtype=object)


MIXED = "; a column holds numbers, dates or text (a categorical input) throughout."


def mixed(kinds, cells, where):
    """``the text 'a' in row 3 among numbers``: the first cell of a column whose kind (:func:`~mlpfit._cells.cell_kind`)
    is not its first cell's, ``where(row)`` saying where it is."""
    first = next(kind for kind in kinds if kind != "missing")
    row = next(i for i, kind in enumerate(kinds) if kind not in ("missing", first))
    cell = cells[row].item() if isinstance(cells[row], np.generic) else cells[row]  # 'a', not np.str_('a')
    return f"the {kinds[row] or 'value'} {cell!r} in {where(row)} among {KIND_WORDS[first]}"


def dates_of(cells, kinds, refusal):
    """The date cells (kinds from :func:`~mlpfit._cells.cell_kind`) as ``datetime64[us]``, NaT where missing;
    ``refusal(row, error)`` is the message for a text that is no valid date."""
    values = np.full(len(cells), np.datetime64("NaT"), dtype=f"datetime64[{DATE_UNIT}]")
    for row, (cell, kind) in enumerate(zip(cells, kinds)):
        if kind == "date":
            try:
                values[row] = date_value(cell)
            except ValueError as error:
                raise ValueError(refusal(row, error)) from None
    return values


def missing_cells(values):
    """Mask of the missing cells of a read column: NaN, NaT or None."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "M":
        return np.isnat(values)
    return np.array([cell is None for cell in values], dtype=bool)


# --- encoding: read columns -> the network's inputs ----------------------------------------------------


@dataclass(frozen=True)
class Numbers:
    """A column of numbers, taken as it is."""

    width = 1

    def encode(self, values, label, where):
        _check_kind(values, "f", label)
        infinite = np.flatnonzero(np.isinf(values))
        if infinite.size:
            raise ValueError(f"{label} has an infinite value in {where(int(infinite[0]))}.")
        return values[:, None]

    def decode(self, inputs):
        return inputs[:, 0]

    def to_json(self):
        return {"kind": "number"}


@dataclass(frozen=True)
class Dates:
    """A column of dates, as days since ``origin`` (midnight, ``datetime64[D]``)."""

    origin: np.datetime64
    width = 1
    unit = "day"

    def encode(self, values, label, where):
        _check_kind(values, "M", label)
        return self.days(values)[:, None]

    def decode(self, inputs):
        return self.dates(inputs[:, 0])

    def days(self, values):
        """Days since the origin (float64) of 1-D dates: ``datetime64``, or cells :func:`read_inputs` reads as dates."""
        values = np.asarray(values)
        if values.dtype.kind != "M":
            values = _typed(np.asarray(values, dtype=object), "x")
            _check_kind(values, "M", "x")
        return (values.astype(f"datetime64[{DATE_UNIT}]") - self.origin) / DAY

    def dates(self, days):
        """The inverse of :meth:`days`: ``datetime64[us]`` dates, to the microsecond, within
        :data:`DATE_SPAN_DAYS` of the origin."""
        days = np.clip(np.asarray(days, dtype=np.float64), -DATE_SPAN_DAYS, DATE_SPAN_DAYS)
        microseconds = np.round(days * (DAY / np.timedelta64(1, DATE_UNIT)))
        return self.origin.astype(f"datetime64[{DATE_UNIT}]") + microseconds.astype(np.int64).astype(
            f"timedelta64[{DATE_UNIT}]"
        )

    def to_json(self):
        return {"kind": "date", "origin": str(self.origin), "unit": self.unit}


@dataclass(frozen=True)
class Categories:
    """A column of text, as one indicator per category (``categories``, sorted)."""

    categories: tuple

    @property
    def width(self):
        return len(self.categories)

    def encode(self, values, label, where):
        _check_kind(values, "O", label)
        index = {category: k for k, category in enumerate(self.categories)}
        codes = np.array([index.get(cell, -1) for cell in values], dtype=np.intp)
        unknown = np.flatnonzero(codes < 0)
        if unknown.size:
            row = int(unknown[0])
            raise ValueError(
                f"{label} has the category {values[row]!r} in {where(row)}, which the model was not fitted on; "
                f"it knows {_listed(self.categories)}."
            )
        return (codes[:, None] == np.arange(self.width)).astype(np.float64)

    def decode(self, inputs):
        return np.array(self.categories, dtype=object)[inputs.argmax(axis=1)]

    def to_json(self):
        return {"kind": "category", "categories": list(self.categories)}


def _listed(texts, most=10):
    shown = ", ".join(map(repr, texts[:most]))
    return shown + (f" and {len(texts) - most} more" if len(texts) > most else "")


def _check_kind(values, kind, label):
    if values.dtype.kind != kind:
        raise ValueError(
            f"{label} holds {KIND_WORDS[values.dtype.kind]}; the model was fitted on {KIND_WORDS[kind]} there."
        )


@dataclass(frozen=True)
class InputEncoding:
    """How each of the user's input columns becomes the network's inputs: one :class:`Numbers`, :class:`Dates` or
    :class:`Categories` per column, their inputs side by side in column order."""

    columns: tuple

    @classmethod
    def fit(cls, inputs):
        """The encoding of :class:`RawInputs` ``inputs``: dates from the earliest day, the categories seen."""
        columns = []
        for j, values in enumerate(inputs.arrays):
            present = values[~missing_cells(values)]
            if values.dtype.kind == "M" and present.size:
                columns.append(Dates(present.min().astype("datetime64[D]")))
            elif values.dtype.kind == "O" and present.size:
                categories = tuple(sorted(set(present)))
                if len(categories) == present.size > 2:
                    raise ValueError(
                        f"{inputs.label(j)} has a different text in each of its {present.size} rows: it names rows, "
                        "and a category seen once teaches the network nothing; leave it out of the inputs."
                    )
                columns.append(Categories(categories))
            else:
                columns.append(Numbers())
        return cls(tuple(columns))

    @property
    def n_inputs(self):
        return len(self.columns)

    @property
    def n_features(self):
        """The network's inputs: one per number or date column, one per category."""
        return sum(column.width for column in self.columns)

    def slices(self):
        """Per column, the slice of the network's inputs it becomes."""
        ends = np.cumsum([column.width for column in self.columns])
        return [slice(end - column.width, end) for column, end in zip(self.columns, ends)]

    def encode(self, X):
        """``X`` (its columns as :class:`RawInputs`, or anything :func:`read_inputs` reads) as the network's
        float64 inputs (n_samples, n_features). Raises ValueError, naming the column and row, for a missing or
        infinite value, an unknown category, or a column of another kind than the fit's."""
        inputs = as_inputs(X)
        if inputs.shape[1] != self.n_inputs:
            raise ValueError(f"X has {inputs.shape[1]} columns; the model takes {self.n_inputs}.")
        for j, values in enumerate(inputs.arrays):
            missing = np.flatnonzero(missing_cells(values))
            if missing.size:
                raise ValueError(
                    f"{inputs.label(j)} has a missing value in {inputs.where(int(missing[0]))} ({missing.size} such "
                    "rows); drop or fill those rows."
                )
        encoded = [
            column.encode(values, inputs.label(j), inputs.where)
            for j, (column, values) in enumerate(zip(self.columns, inputs.arrays))
        ]
        return np.hstack(encoded)

    def decode(self, A):
        """The inverse of :meth:`encode`: network inputs ``A`` (n_samples, n_features) back to the columns, as
        :class:`RawInputs` (dates to the microsecond they were read with)."""
        return RawInputs(tuple(column.decode(A[:, where]) for column, where in zip(self.columns, self.slices())))

    def per_feature(self, names):
        """Per-column ``names`` (transforms; None: none) given to each of the column's inputs; ValueError for a
        transform of a date or text column."""
        if names is None:
            return None
        for j, (column, name) in enumerate(zip(self.columns, names)):
            if name is not None and not isinstance(column, Numbers):
                kind = "dates" if isinstance(column, Dates) else "text (categories)"
                raise ValueError(
                    f"input_transform {name!r} cannot apply to input column {j}, which holds {kind}; give None for it."
                )
        return tuple(name for column, name in zip(self.columns, names) for _ in range(column.width))

    def to_json(self):
        return [column.to_json() for column in self.columns]

    @classmethod
    def from_json(cls, value):
        """The encoding a model file saved (:meth:`to_json`); ValueError for anything else."""
        if not isinstance(value, list) or not value:
            raise ValueError("x_encoding must be null or a list with one entry per input column.")
        return cls(tuple(_column_from_json(item) for item in value))

    def described(self, names, x_range):
        """Lines for ``mlpfit info``: each date column's range and origin, each text column's categories;
        ``names`` the columns' names, ``x_range`` the network inputs' training ``(low, high)``."""
        lines = []
        for name, column, where in zip(names, self.columns, self.slices()):
            if isinstance(column, Dates):
                low, high = date_text(column.dates([x_range[0][where][0], x_range[1][where][0]]))
                lines.append(f"{name}: dates from {low} to {high}, fitted as days since {column.origin}")
            elif isinstance(column, Categories):
                lines.append(f"{name}: {column.width} categories, {_listed(column.categories)} (one input each)")
        return lines


def date_text(dates):
    """ISO text of ``datetime64`` values, as short as each allows (``2024-03-01``, ``2024-03-01T12:30``)."""
    return np.datetime_as_string(np.asarray(dates), unit="auto")


def input_labels(encoding):
    """How messages name the network's inputs: ``"input column"`` (then numbered), or with an encoding (or None)
    per input, ``input column j`` of the user's column ``j`` it comes from."""
    if encoding is None:
        return "input column"
    return tuple(f"input column {j}" for j, column in enumerate(encoding.columns) for _ in range(column.width))


def _column_from_json(item):
    kind = item.get("kind") if isinstance(item, dict) else None
    if kind == "number" and set(item) == {"kind"}:
        return Numbers()
    if kind == "date" and set(item) == {"kind", "origin", "unit"} and item["unit"] == Dates.unit:
        try:
            return Dates(np.datetime64(item["origin"], "D"))
        except (TypeError, ValueError):
            raise ValueError(f"x_encoding date origin {item['origin']!r} is not a date.") from None
    if kind == "category" and set(item) == {"kind", "categories"}:
        categories = item["categories"]
        if (
            isinstance(categories, list)
            and categories
            and all(isinstance(c, str) for c in categories)
            and categories == sorted(set(categories))
        ):
            return Categories(tuple(categories))
    raise ValueError(
        'each x_encoding entry must be {"kind": "number"}, {"kind": "date", "origin": ISO day, "unit": "day"} or '
        '{"kind": "category", "categories": distinct sorted strings}; got ' + repr(item)[:80] + "."
    )
