"""Curves from a Dask DataFrame or a Parquet dataset, fitted partition by partition on Dask's workers.

Each row is given its curve's part (:func:`mlpfit._curve_directory.part_of`, a hash of the group's text) and the
table is repartitioned so that partition ``i`` holds exactly the rows of part ``i``: no curve is split (a curve
split across partitions would be fitted as two), and a part's curves are where its file is written. Each
partition is a long table that a clone of the :class:`~mlpfit.CurveBatch` fits where it lies. What comes back is
decided in :func:`fit_partitions`: the fitted partitions, gathered into the batch; or, for a fit into a directory,
only each part's record and tally, its curves written where they were fitted. Every curve is seeded alike
whatever partition it lands in, so the curves are those of the in-process fit of the same table, on any number
of workers.
"""

import os

import numpy as np
from sklearn.base import clone

from ._curve_tally import CurveTally

PART_COLUMN = "_mlpfit_part"
"""The column holding each row's part while the table is repartitioned (it becomes the index)."""


def is_dask_source(X):
    """Whether ``X`` is a Dask DataFrame or a Parquet path (a string or path, a glob allowed)."""
    return isinstance(X, (str, os.PathLike)) or type(X).__module__.split(".")[0] in ("dask", "dask_expr")


def fit_partitions(batch, source, *, groups, x, y, sample_weight=None, directory=None, n_parts=None):
    """The curves of ``source`` (a Dask DataFrame or Parquet path) fitted with ``batch``'s settings: column
    ``groups`` names each row's curve, ``x`` (a name or a list of names) its inputs, ``y`` its target and
    ``sample_weight`` (or None) its weight. Runs on the active ``dask.distributed`` client, else Dask's default
    scheduler.

    Returns ``batch`` fitted when ``directory`` is None; else the
    :class:`~mlpfit._curve_directory.CurveDirectory` written there in ``n_parts`` parts (None: one per partition
    of ``source``).
    """
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:
        raise ImportError(
            "fitting curves from a Dask DataFrame or a Parquet dataset needs dask: pip install 'mlpfit[dask]'."
        ) from None
    from ._curve_directory import CurveDirectory, parts_of, prepare, write_index

    frame = dd.read_parquet(source) if isinstance(source, (str, os.PathLike)) else source
    x_columns, used = _columns(frame, groups, x, y, sample_weight)
    n_parts = frame.npartitions if n_parts is None else n_parts
    if not (isinstance(n_parts, (int, np.integer)) and not isinstance(n_parts, bool) and n_parts >= 1):
        raise ValueError(f"n_parts must be an integer >= 1 or None; got {n_parts!r}.")
    frame = frame[used]
    part = frame[groups].map_partitions(parts_of, int(n_parts), meta=(PART_COLUMN, "int64"))
    frame = frame.assign(**{PART_COLUMN: part}).set_index(PART_COLUMN, divisions=list(range(int(n_parts) + 1)))
    columns = groups, x_columns, y, sample_weight
    if directory is None:
        parts = [dask.delayed(_fit_partition)(part, batch, *columns) for part in frame.to_delayed()]
        return _gathered(batch, [part for part in dask.compute(*parts) if part is not None])
    if frame.dtypes[groups].kind == "f":
        raise ValueError(
            f"column {groups!r} holds {frame.dtypes[groups]}; the groups of curves written to a directory must be "
            "strings or integers."
        )
    directory = os.path.abspath(directory)  # as the workers, whose working directory may differ, must find it
    prepare(directory)
    saved_columns = {"x": x_columns, "y": [y], "group": groups}
    written = [
        dask.delayed(_write_partition)(part, batch, columns, directory, saved_columns) for part in frame.to_delayed()
    ]
    pairs = [pair for partition in dask.compute(*written) for pair in partition]
    if not pairs:
        raise ValueError("no curves given: the table has no rows.")
    records, tallies = zip(*pairs)
    write_index(directory, int(n_parts), records, CurveTally.merged(tallies), saved_columns)
    return CurveDirectory(directory)


def _columns(frame, groups, x, y, sample_weight):
    """``(x_columns, used)``: ``x`` as a list of names, and every column named, each once; all checked against
    ``frame``'s columns, the inputs, target and weights numeric."""
    named = {"groups": groups, "y": y}
    for name, column in named.items():
        if not isinstance(column, str):
            raise ValueError(f"{name} must name a column of the Dask DataFrame; got {column!r}.")
    x_columns = [x] if isinstance(x, str) else list(x or [])
    if not x_columns:
        raise ValueError("x must name the input column(s) of the Dask DataFrame; got none.")
    wanted = [groups, *x_columns, y, *([] if sample_weight is None else [sample_weight])]
    missing = [column for column in wanted if column not in frame.columns]
    if missing:
        raise ValueError(f"no column {missing[0]!r} in the table; its columns are {list(frame.columns)}.")
    for column in wanted[1:]:
        dtype = frame.dtypes[column]
        if dtype.kind not in "biuf":
            raise ValueError(
                f"column {column!r} holds {dtype}; curves from a Dask DataFrame or a Parquet dataset are fitted on "
                "numbers: convert dates to numbers (days since a start, say) and text to one 0/1 column per "
                "category first."
            )
    return x_columns, list(dict.fromkeys(wanted))


def _fit_rows(part, batch, groups, x_columns, y, sample_weight):
    """A clone of ``batch`` fitted on the rows of ``part`` (a pandas DataFrame), a long table."""
    weights = None if sample_weight is None else part[sample_weight].to_numpy(np.float64)
    X = part[x_columns].to_numpy(np.float64)
    return clone(batch).fit(X, part[y].to_numpy(np.float64), groups=part[groups].to_numpy(), sample_weight=weights)


def _fit_partition(part, batch, *columns):
    """A clone of ``batch`` fitted on one partition, or None when it has no rows."""
    return _fit_rows(part, batch, *columns) if len(part) else None


def _write_partition(part, batch, columns, directory, saved_columns):
    """``[(record, tally), ...]``: the curves of each part in one partition (its index), fitted and written in
    ``directory``."""
    from ._curve_directory import write_part

    return [
        write_part(_fit_rows(rows, batch, *columns), directory, int(number), saved_columns)
        for number, rows in part.groupby(level=0, sort=True)
    ]


def _gathered(batch, parts):
    """``batch`` holding the fitted partitions' curves, partition by partition."""
    if not parts:
        raise ValueError("no curves given: the table has no rows.")
    batch.groups_ = [group for part in parts for group in part.groups_]
    batch.estimators_ = {group: model for part in parts for group, model in part.estimators_.items()}
    batch.errors_ = {group: error for part in parts for group, error in part.errors_.items()}
    batch.summary_ = {name: np.concatenate([part.summary_[name] for part in parts]) for name in parts[0].summary_}
    return batch
