"""A training problem whose rows are the blocks of Dask arrays on a cluster's workers.

Notes
-----
Every sum a full-batch solver needs is a sum over rows: ``J^T J``, ``J^T r`` and ``r^T r`` for
Levenberg-Marquardt and Bayesian re-estimation (:func:`mlpfit._network.normal_equations`), the sum of
squared errors of a trial step (:func:`mlpfit._network.sum_squared_error`), and the loss and gradient for
L-BFGS (:func:`mlpfit._network.loss_and_grad`). :class:`DaskProblem` maps those very functions over the
row blocks where the workers hold them, and one task on a worker adds the blocks' results in block order, so
only ``P x P`` matrices and ``P``-vectors travel and one of each reaches the solver (the pattern of dask-glm's
Newton method). The solver's own work, a Cholesky factorisation of a ``P x P`` matrix or an L-BFGS update, runs
where it is called.

The blocks are the row blocks the in-memory sums take (:data:`ROW_CHUNKS`, :func:`mlpfit._network.block_rows`:
of the normal equations for LM, of the gradient for L-BFGS), whatever the chunks the data came in; each block's
raw sums are added in block order and finished where the solver runs, as in memory. On the same standardised rows
LM's normal equations and trial errors, and L-BFGS's losses and gradients, and so their steps, are the in-memory
ones bit for bit, and so is the standardisation (:mod:`mlpfit._scaling`). What still differs by rounding: the
weights' sum and the targets' sum of squares, summed over the standardisation's blocks where the in-memory fit sums
all rows at once; and L-BFGS's Bayesian re-estimates, whose normal equations run on the gradient's blocks.

A pass over the rows goes to the cluster in waves of consecutive blocks (:func:`waves`), each wave's sums added to
the running total on a worker, so that the client builds and sends the graph of one wave at a time: its memory
follows the cluster's threads, not the rows.
"""

import os
from dataclasses import dataclass

import numpy as np

from . import _network
from ._memory import available_memory
from .solvers import TrainingProblem

WAVE_BLOCKS_PER_THREAD = 16
"""Blocks a wave of a pass (:func:`waves`) gives each of the cluster's threads: enough that the wait for a wave's
last block and its round trip are a small part of the wave."""

PERSIST_SHARE = 0.25
"""Largest share of the workers' memory a fit's rows may take to be held there between passes (:func:`held`): each
copy (the rows as given and standardised) is held, and the workers need room for the blocks' work besides."""

ROW_CHUNKS = {
    "lm": lambda arch, n_outputs: _network.block_rows(_network.default_chunk_rows(arch, n_outputs)),
    "lbfgs": lambda arch, n_outputs: _network.block_rows(_network.default_gradient_chunk_rows(arch)),
}
"""Solver -> the rows of a block for a network ``arch`` with ``n_outputs``: the row blocks of the sums it calls
most (``normal_equations``, ``loss_and_grad``) in memory."""


@dataclass
class DaskProblem(TrainingProblem):
    """:class:`~mlpfit.solvers.TrainingProblem` on (standardised) rows as Dask arrays, held on the workers when
    they fit there (:func:`held`).

    Parameters
    ----------
    arch, alpha : as :class:`~mlpfit.solvers.TrainingProblem`
    X : dask.array.Array of shape (n_samples, n_features)
    Y : dask.array.Array of shape (n_samples, n_outputs)
        Chunked by rows alike, each with its columns in one chunk.
    sample_weight : dask.array.Array of shape (n_samples,) or None
        Non-negative weights, chunked as the rows.
    weight_sum : float
        The weights' sum (``n_samples`` without weights), computed once.
    sum_of_squares : float
        :meth:`mean_sum_of_squares`, computed once.
    sample : tuple
        ``(X, Y, sample_weight)`` as NumPy arrays: the rows a start is chosen from (:meth:`start_rows`).
    solver : {"lm", "lbfgs"}
        The solver whose sums the blocks are cut for (:data:`ROW_CHUNKS`): the arrays are rechunked to them and
        held on creation (a copy with another ``arch`` may have other blocks).
    """

    weight_sum: float = 0.0
    sum_of_squares: float = 0.0
    sample: tuple = ()
    solver: str = "lm"

    def __post_init__(self):
        rows = ROW_CHUNKS[self.solver](self.arch, self.Y.shape[1])
        blocks = [None if A is None else A.rechunk({0: rows}) for A in (self.X, self.Y, self.sample_weight)]
        self.X, self.Y, self.sample_weight = held(*blocks)

    @property
    def total_weight(self):
        return self.weight_sum

    def mean_sum_of_squares(self):
        return self.sum_of_squares

    def start_rows(self):
        return self.sample

    def as_batch(self):
        return DaskBatch(self)

    def normal_equations(self, theta):
        """``J^T J``, ``J^T r`` and ``r^T r`` on all rows, from their sums over the blocks on the workers."""
        return _network.normal_equations_of(self.arch, theta, *self._summed(_block_normal_equation_sums, theta))

    def sum_squared_error(self, theta):
        """The (weighted) sum of squared errors on all rows, summed over the blocks on the workers."""
        (sse,) = self._summed(_block_sum_squared_error, theta)
        return sse

    def _summed(self, function, theta):
        return summed(function, self.X, self.Y, self.sample_weight, arch=self.arch, theta=theta)

    def loss_and_grad(self, theta, rows=None):
        """Objective and gradient on all rows (see :func:`mlpfit._network.loss_and_grad`); no minibatches."""
        if rows is not None:
            raise ValueError("a DaskProblem has no minibatches; its solvers work on all rows (lm, lbfgs).")
        sse, grad = self._summed(_block_sum_and_gradient, theta)
        return _network.penalised_mean(self.arch, theta, sse, grad, self.total_weight, self.alpha)


@dataclass
class DaskBatch:
    """A :class:`DaskProblem` as the batch of one that :func:`mlpfit.solvers.lm.solve_batch` runs: its arrays are
    not stacked, its sums are the problem's own."""

    single: DaskProblem

    arch = property(lambda self: self.single.arch)
    Y = property(lambda self: self.single.Y)
    alpha = property(lambda self: np.array([self.single.alpha], dtype=np.float64))

    def __len__(self):
        return 1

    def problem(self, b):
        return self.single

    def normal_equations(self, theta, networks):
        jtj, jtr, sse = self.single.normal_equations(theta[0])
        return jtj[None], jtr[None], np.array([sse])

    def sum_squared_error(self, theta, networks):
        return np.array([self.single.sum_squared_error(theta[0])])


def held(*arrays):
    """Dask ``arrays`` (None kept) as the sums read them: persisted (computed once, held by the workers) when they
    take at most ``PERSIST_SHARE`` of the workers' memory, else as they are, recomputed from their source at every
    pass, so that a worker holds a few blocks at a time whatever the rows."""
    import dask

    present = [A for A in arrays if A is not None]
    if sum(A.nbytes for A in present) > PERSIST_SHARE * workers_memory():
        return list(arrays)
    present = iter(dask.persist(*present))
    return [None if A is None else next(present) for A in arrays]


def workers_memory():
    """Bytes the workers may hold: the sum of their memory limits under a ``dask.distributed`` client that sets
    them, else what this machine has available (Dask's local schedulers run here)."""
    workers = _workers()
    limits = [worker.get("memory_limit") or 0 for worker in workers or ()]
    return sum(limits) if limits and all(limits) else available_memory()


def cluster_threads():
    """Threads that compute tasks: the workers' under a ``dask.distributed`` client, else this machine's cores."""
    workers = _workers()
    threads = sum(worker.get("nthreads") or 0 for worker in workers or ())
    return threads or os.cpu_count() or 1


def _workers():
    """The ``dask.distributed`` default client's workers' information, or None without one."""
    try:
        from distributed import default_client

        return list(default_client().scheduler_info()["workers"].values())
    except (ImportError, ValueError):  # no distributed, or no client
        return None


def waves(n_blocks):
    """Slices of consecutive blocks, ``WAVE_BLOCKS_PER_THREAD`` for each of the cluster's threads, that a pass over
    ``n_blocks`` blocks computes one after another: the client holds the graph of one wave, whatever the rows."""
    size = WAVE_BLOCKS_PER_THREAD * cluster_threads()
    for start in range(0, n_blocks, size):
        yield slice(start, min(start + size, n_blocks))


def _block_normal_equation_sums(X, Y, sample_weight, *, arch, theta):
    return _network.normal_equation_sums(arch, theta, X, Y, sample_weight=sample_weight)


def _block_sum_squared_error(X, Y, sample_weight, *, arch, theta):
    return (_network.sum_squared_error(arch, theta, X, Y, sample_weight=sample_weight),)


def _block_sum_and_gradient(X, Y, sample_weight, *, arch, theta):
    return _network.sum_and_gradient(arch, theta, X, Y, sample_weight)


def summed(function, X, Y=None, sample_weight=None, **arguments):
    """``function``'s tuple of sums over the row blocks of ``X``, ``Y`` and ``sample_weight`` (see :func:`per_block`),
    added in block order (:func:`mlpfit._network.add_in_order`): a wave of blocks at a time (:func:`waves`), each
    wave's results added to the running total by one task on a worker, so one tuple comes back from each wave."""
    import dask

    parts, total = per_block(function, X, Y, sample_weight, **arguments), None
    for wave in waves(parts.numblocks[0]):
        (total,) = dask.compute(dask.delayed(_added_to, pure=False)(total, parts[wave]))
    return total


def _added_to(total, parts):
    return _network.add_in_order([total, *parts])


def per_block(function, X, Y=None, sample_weight=None, **arguments):
    """``function(X, Y, sample_weight, **arguments)`` of each row block where it lies, lazily: a Dask array of
    objects, one per block (one blockwise layer, so the graph grows with the blocks, not with their square).

    ``X`` and ``Y`` (or None) are chunked alike by rows, each with its columns in one chunk; ``sample_weight`` (or
    None) by rows too.
    """
    import dask.array as da

    given = [(A, index) for A, index in ((Y, "ik"), (sample_weight, "i")) if A is not None]
    return da.blockwise(
        *(_block_result, "i", X, "ij", *(part for pair in given for part in pair)),
        function=function,
        arguments=arguments,
        present=(Y is not None, sample_weight is not None),
        dtype=object,
        concatenate=True,
        adjust_chunks={"i": 1},
        meta=np.empty(0, dtype=object),
    )


def _block_result(X, *blocks, function, arguments, present):
    """``function``'s result on one block, as the one element of an object array (a block of :func:`per_block`);
    ``present`` says which of ``Y`` and ``sample_weight`` ``blocks`` holds."""
    blocks = iter(blocks)
    Y, sample_weight = (next(blocks) if here else None for here in present)
    result = np.empty(1, dtype=object)
    result[0] = function(X, Y, sample_weight, **arguments)
    return result
