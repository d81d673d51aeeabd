"""``mlpfit fit`` on a Dask cluster (``--scheduler ADDRESS``) or a local one (``--workers N``): a Parquet dataset
(a file, a directory or a glob) read by Dask and fitted where its partitions lie (see :mod:`mlpfit._dask_data`).

The fit reports its progress as in memory (a progress bar, or with ``--verbose`` the loss of every iteration),
each iteration a round of sums on the workers; the report after it gives the rows, how training went and the
training RMSE, itself a reduction on the workers. What needs the rows in memory (``--plot``, ``--group``,
``--ensemble``, ``--summary``, dates or text as inputs) is refused before any work.
"""

import logging
import sys
from contextlib import contextmanager

import numpy as np

from ._common import EXIT_PROBLEMS, UsageError
from ._data import named_columns

IN_MEMORY_OPTIONS = {
    "plot": "--plot",
    "group": "--group",
    "ensemble": "--ensemble",
    "summary": "--summary",
    "log_x": "--log-x",
    "test_fraction": "--test-fraction",
}
"""``fit``'s options that need the rows in memory, refused with ``--scheduler`` and ``--workers``."""


def wanted(args):
    """Whether ``args`` ask for a fit on a cluster."""
    return args.scheduler is not None or args.workers is not None


def run(args, fitted_model):
    """Fit ``args.data`` on the cluster ``args`` name, print the report, save the model; return the exit code.

    ``fitted_model(args, X, Y, sample_weight, x_names)`` is ``fit``'s own: the model the options describe, fitted,
    and the warnings to show as notes.
    """
    from .. import io

    for name, flag in IN_MEMORY_OPTIONS.items():
        if getattr(args, name) is not None:
            raise UsageError(f"{flag} needs the rows in memory; it cannot be combined with --scheduler or --workers.")
    if args.x_all:
        raise UsageError("--x-all reads the table in memory; name the input columns with --x on a cluster.")
    dd, _ = _dask()
    frame = _read(dd, args.data)  # its schema only, read here: a missing column is named before any cluster starts
    x_names, y_names, weight = _columns(args, list(frame.columns))
    frame = frame[x_names + y_names + ([weight] if weight else [])]
    frame = frame.dropna() if args.dropna else frame
    with client_of(args) as client:
        if args.verbose:
            workers = len(client.nthreads())
            print(f"mlpfit fit: on {workers} Dask worker(s), scheduler {client.scheduler.address}", file=sys.stderr)
        Y = frame[y_names].to_dask_array(lengths=True)
        model, notes = fitted_model(args, frame[x_names], Y, None if weight is None else frame[weight], x_names)
        lines = [*_report(model, frame, x_names, y_names), *(f"note: {note}" for note in notes)] if args.verbose else []
    io.save(model, args.output, columns={"x": x_names, "y": y_names})
    if lines:
        print("\n".join([*lines, f"model written to {args.output}"]))
    if model.summary_.stop_reason == "diverged":
        print("mlpfit fit: the fit diverged; the model was written, and 'mlpfit diagnose' says what to change.")
        return EXIT_PROBLEMS
    return 0


def _dask():
    try:
        import dask.dataframe as dd
        import distributed
    except ImportError:
        raise ImportError("fitting on a Dask cluster needs dask: pip install 'mlpfit[dask]'.") from None
    return dd, distributed


@contextmanager
def client_of(args):
    """The Dask client ``args`` ask for: of the scheduler at ``--scheduler``, or of a new local cluster of
    ``--workers`` single-thread processes, closed (the local cluster too) on leaving; None when they ask for neither
    (the work then runs on Dask's default scheduler, or on a client the caller made)."""
    if not wanted(args):
        yield None
        return
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1; got {args.workers}.")
    _, distributed = _dask()
    with _client(distributed, args) as client:
        yield client


QUIET_CLIENT = {"distributed.admin.low-level-log-length": 0}
"""Dask settings of the clients (and local clusters) ``fit`` starts: no developers' log of the last messages sent,
which holds each pass's graph and so grows with the rows."""


@contextmanager
def _client(distributed, args):
    """A client of the scheduler at ``--scheduler``, or of a new local cluster of ``--workers`` single-thread
    processes, made with ``QUIET_CLIENT``'s settings; closed (the local cluster too) on leaving."""
    import dask

    with dask.config.set(QUIET_CLIENT):
        if args.scheduler is None:
            cluster = distributed.LocalCluster(
                n_workers=args.workers, threads_per_worker=1, dashboard_address=":0", silence_logs=logging.ERROR
            )
            with cluster, distributed.Client(cluster) as client:
                yield client
            return
        try:
            client = distributed.Client(args.scheduler, timeout="10s")
        except OSError as error:
            raise UsageError(f"cannot reach the Dask scheduler at {args.scheduler}: {error}") from None
        with client:
            yield client


def _read(dd, path):
    """The Parquet dataset at ``path`` (a file, a directory of files or a glob) as a Dask DataFrame."""
    try:
        return dd.read_parquet(path)
    except (ValueError, OSError) as error:
        raise UsageError(f"{path} is not a readable Parquet dataset: {error}") from None


def _columns(args, names):
    """``(x_names, y_names, weight)``: the columns ``--x``, ``--y`` and ``--weight`` name, each in the table."""
    x_names, y_names = named_columns(args.x, names, "--x"), named_columns(args.y, names, "--y")
    weight = args.weight
    for name in [*x_names, *y_names, *([weight] if weight else [])]:
        if name not in names:
            raise UsageError(f"{args.data} has no column {name!r}; available columns: {', '.join(names)}.")
    both = [name for name in x_names if name in y_names or name == weight]
    if both:
        raise UsageError(f"column {both[0]!r} is named twice among --x, --y and --weight; give it one role.")
    return x_names, y_names, weight


def _report(model, frame, x_names, y_names):
    """The report's lines: the rows, how training went, and each target's training RMSE (summed on the workers)."""
    summary, n_rows = model.summary_, model.plan_.n_training_rows
    yield f"rows used: {n_rows}; inputs {', '.join(x_names)}; target {', '.join(y_names)}"
    yield f"solver: {summary.solver}, {summary.n_iter} iterations, fit time {summary.fit_time:.3g} s"
    yield f"stopped: {summary.message}"
    if model.fitted_.penalty_line():
        yield model.fitted_.penalty_line()
    meta = {name: np.float64 for name in y_names}
    squares = frame.map_partitions(_squared_errors, model, x_names, y_names, meta=meta).sum().compute()
    for name in y_names:
        yield f"{name}: training RMSE {np.sqrt(squares[name] / n_rows):.4g} (in {name}'s units)"


def _squared_errors(part, model, x_names, y_names):
    """A partition's (a pandas DataFrame's) sums of squared training errors, one per target, as a one-row frame."""
    errors = part[y_names].to_numpy(np.float64) - model.predict(part[x_names]).reshape(len(part), len(y_names))
    return type(part)([(errors**2).sum(axis=0)], columns=y_names)
