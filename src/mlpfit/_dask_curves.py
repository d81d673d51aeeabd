"""Curves from a Dask DataFrame or a Parquet dataset, fitted partition by partition on Dask's workers.

The table is shuffled by its group column first, so that each curve's rows lie in one partition (a curve
split across partitions would be fitted as two). Each partition is then a long table that a clone of the
:class:`~mlpfit.CurveBatch` fits where it lies, and the fitted partitions are gathered into the batch.
Every curve is seeded alike whatever partition it lands in, so the curves are those of the in-process fit
of the same table, on any number of workers.
"""

import os

import numpy as np
from sklearn.base import clone


def is_dask_source(X):
    """Whether ``X`` is a Dask DataFrame or a Parquet path (a string or path, a glob allowed)."""
    return isinstance(X, (str, os.PathLike)) or type(X).__module__.split(".")[0] in ("dask", "dask_expr")


def fit_partitions(batch, source, *, groups, x, y, sample_weight=None):
    """``batch`` fitted on the curves of ``source`` (a Dask DataFrame or Parquet path): column ``groups`` names
    each row's curve, ``x`` (a name or a list of names) its inputs, ``y`` its target and ``sample_weight`` (or
    None) its weight. Runs on the active ``dask.distributed`` client, else Dask's default scheduler."""
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:
        raise ImportError(
            "fitting curves from a Dask DataFrame or a Parquet dataset needs dask: pip install 'mlpfit[dask]'."
        ) from None
    frame = dd.read_parquet(source) if isinstance(source, (str, os.PathLike)) else source
    x_columns, used = _columns(frame, groups, x, y, sample_weight)
    frame = frame[used].shuffle(on=groups)
    columns = groups, x_columns, y, sample_weight
    parts = [dask.delayed(_fit_partition)(part, batch, *columns) for part in frame.to_delayed()]
    return _gathered(batch, [part for part in dask.compute(*parts) if part is not None])


def _columns(frame, groups, x, y, sample_weight):
    """``(x_columns, used)``: ``x`` as a list of names, and every column named, each once; all checked against
    ``frame``'s columns."""
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
    return x_columns, list(dict.fromkeys(wanted))


def _fit_partition(part, batch, groups, x_columns, y, sample_weight):
    """A clone of ``batch`` fitted on one partition (a pandas DataFrame), or None when it has no rows."""
    if not len(part):
        return None
    weights = None if sample_weight is None else part[sample_weight].to_numpy(np.float64)
    X = part[x_columns].to_numpy(np.float64)
    return clone(batch).fit(X, part[y].to_numpy(np.float64), groups=part[groups].to_numpy(), sample_weight=weights)


def _gathered(batch, parts):
    """``batch`` holding the fitted partitions' curves, partition by partition."""
    if not parts:
        raise ValueError("no curves given: the table has no rows.")
    batch.groups_ = [group for part in parts for group in part.groups_]
    batch.estimators_ = {group: model for part in parts for group, model in part.estimators_.items()}
    batch.errors_ = {group: error for part in parts for group, error in part.errors_.items()}
    batch.summary_ = {name: np.concatenate([part.summary_[name] for part in parts]) for name in parts[0].summary_}
    return batch
