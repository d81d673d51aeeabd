"""Solver runs as jobs: one network's training problem and start, run alone (in joblib's workers when there are
several) or, for Levenberg-Marquardt, many at once (:func:`mlpfit.solvers.lm.solve_batch`) with the same results."""

from collections import defaultdict
from dataclasses import astuple, dataclass

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from ._selection import initialize
from .solvers import SOLVERS, ProblemBatch, lm

BATCH_ENTRIES = 2**23
"""Numbers one batch's Jacobians and normal equations hold together (64 MiB of float64): a batch larger than this
is run in parts."""


@dataclass(frozen=True)
class TrainingJob:
    """One solver run on ``problem``: from ``init`` (a method of :data:`mlpfit._selection.INIT_METHODS`, or the
    start itself), its random draws from ``seed``."""

    problem: object
    solver: str
    settings: object
    init: object
    init_scale: float | None
    seed: int

    def start(self):
        """``(theta0, rng)``: the start, and the generator the solver goes on drawing from."""
        rng = np.random.default_rng(self.seed)
        if isinstance(self.init, np.ndarray):
            return self.init.copy(), rng
        X, Y, sample_weight = self.problem.start_rows()
        return initialize(self.problem.arch, X, Y, self.init, rng, self.init_scale, sample_weight), rng

    def run(self):
        """The solver's result (a :class:`~mlpfit.solvers.SolverResult`)."""
        theta0, rng = self.start()
        return SOLVERS[self.solver](self.problem, theta0, self.settings, rng)


def run_all(jobs, n_jobs=None):
    """Each job's result, in order: in this process for one job, else through joblib's ``n_jobs`` workers."""
    if len(jobs) == 1:
        return [jobs[0].run()]
    return Parallel(n_jobs=n_jobs)(delayed(TrainingJob.run)(job) for job in jobs)


def run_batched(jobs):
    """Each job's result, in order, as :func:`run_all` gives it, bit for bit: the Levenberg-Marquardt jobs of
    one shape (:func:`_batch_key`) run as one batch, the others one by one."""
    results = [None] * len(jobs)
    groups = defaultdict(list)
    for i, job in enumerate(jobs):
        groups[_batch_key(job)].append(i)
    for key, members in groups.items():
        if key is None:
            for i in members:
                results[i] = jobs[i].run()
            continue
        for part in _parts(members, jobs[members[0]].problem):
            batch = _stacked([jobs[i].problem for i in part])
            theta0 = np.stack([jobs[i].start()[0] for i in part])
            for i, result in zip(part, lm.solve_batch(batch, theta0, jobs[part[0]].settings)):
                results[i] = result
    return results


def run_trainings(trainings, n_jobs=1):
    """Each training's results (a list in the order of its ``jobs``), all trainings' jobs run together: as one
    batch (:func:`run_batched`) in this process when joblib's effective ``n_jobs`` is 1, else split into that many
    batches, each run by a joblib worker (any backend, Dask's included).

    One batch in this process is the default (``n_jobs`` None or 1 under joblib's default backend): workers must
    start and receive the data first, which small fits do not repay. The results are the same either way.
    """
    jobs = [job for training in trainings for job in training.jobs]
    n_batches = min(effective_n_jobs(n_jobs), len(jobs))
    if n_batches <= 1:
        results = run_batched(jobs)
    else:
        bounds = np.linspace(0, len(jobs), n_batches + 1).astype(int)
        batches = Parallel(n_jobs=n_jobs)(delayed(run_batched)(jobs[a:b]) for a, b in zip(bounds, bounds[1:]))
        results = [result for batch in batches for result in batch]
    results = iter(results)
    return [[next(results) for _ in training.jobs] for training in trainings]


def _parts(members, problem):
    """``members`` split into batches whose Jacobians and normal equations hold about ``BATCH_ENTRIES`` numbers
    together, so memory does not grow with the number of problems; each problem's run is the same in any batch."""
    per_network = problem.Y.size * problem.arch.n_params + problem.arch.n_params**2
    size = max(1, BATCH_ENTRIES // per_network)
    return [members[start : start + size] for start in range(0, len(members), size)]


def _batch_key(job):
    """What jobs must share to run as one batch, or None for a job that runs alone (not Levenberg-Marquardt)."""
    if job.solver != "lm":
        return None
    problem = job.problem

    def shape(A):
        return None if A is None else A.shape

    arrays = (problem.X, problem.Y, problem.X_val, problem.Y_val, problem.sample_weight, problem.sample_weight_val)
    return (problem.arch, *map(shape, arrays), astuple(job.settings))


def _stacked(problems):
    """Problems of one shape as a :class:`~mlpfit.solvers.ProblemBatch`."""

    def stacked(name):
        arrays = [getattr(problem, name) for problem in problems]
        return None if arrays[0] is None else np.stack(arrays)

    alpha = np.array([problem.alpha for problem in problems], dtype=np.float64)
    names = ("X_val", "Y_val", "sample_weight", "sample_weight_val")
    return ProblemBatch(problems[0].arch, stacked("X"), stacked("Y"), alpha, *map(stacked, names))
