"""What every solver shares: the problem it minimises, its settings, its record of progress.

A solver is a function ``solve(problem, theta0, settings, rng) -> SolverResult``. It calls
``problem.loss_and_grad`` (or ``problem.residuals_and_jacobian``) and reports each
iteration or epoch to the :class:`Monitor` in ``settings``, which records the loss
curves, runs early stopping, prints in verbose mode, and tells the solver when to stop.
A solver that re-estimates the penalty (Bayesian regularisation) tells the monitor too, so
the record says which penalty each iteration ran at and splits the objective into its data
term and its penalty term.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import _network, _weights


@dataclass
class TrainingProblem:
    """The training objective on (standardised) training rows, and validation rows if any.

    Parameters
    ----------
    arch : Architecture
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    alpha : float
        L2 penalty on the weights, as in :func:`mlpfit._network.loss_and_grad`.
    X_val, Y_val : ndarray or None
        Held-out rows for early stopping.
    sample_weight, sample_weight_val : ndarray of shape (n_samples,) or None
        Positive weights of the training and validation rows (see :mod:`mlpfit._weights`); None: all 1.
    """

    arch: object
    X: np.ndarray
    Y: np.ndarray
    alpha: float = 0.0
    X_val: np.ndarray | None = None
    Y_val: np.ndarray | None = None
    sample_weight: np.ndarray | None = None
    sample_weight_val: np.ndarray | None = None

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def total_weight(self):
        """The rows the training rows stand for: ``n_samples``, or the weights' sum."""
        return _weights.total(self.sample_weight, self.n_samples)

    @property
    def n_residuals(self):
        """The residuals the Bayesian evidence counts: ``total_weight`` times the outputs."""
        return self.Y.size if self.sample_weight is None else self.total_weight * self.Y.shape[1]

    @property
    def has_validation(self):
        return self.X_val is not None

    def rows_weight(self, rows):
        """The weight of the minibatch ``rows`` (its row count without sample weights)."""
        return len(rows) if self.sample_weight is None else self.sample_weight[rows].sum()

    def start_rows(self):
        """``(X, Y, sample_weight)``: the rows a start is chosen from (the selection of hinges, the breakpoints), all
        of the training rows here; a sample where they are not in memory (:class:`mlpfit._dask_problem.DaskProblem`)."""
        return self.X, self.Y, self.sample_weight

    def as_batch(self):
        """The problem as a batch of one for :func:`mlpfit.solvers.lm.solve_batch` (see :meth:`ProblemBatch.of`)."""
        return ProblemBatch.of(self)

    def mean_sum_of_squares(self):
        """The (weighted) sum of squared errors of the targets' (weighted) mean: the fit of a constant."""
        return _weights.sum_of_squares_about_mean(self.Y, self.sample_weight)

    def loss_and_grad(self, theta, rows=None):
        """Objective and gradient on all training rows, or on the minibatch ``rows``.

        On a minibatch the penalty is scaled by its share of the rows (of their weight), so the
        expected minibatch gradient equals the full-batch gradient.
        """
        if rows is None:
            return _network.loss_and_grad(self.arch, theta, self.X, self.Y, self.alpha, self.sample_weight)
        alpha = self.alpha * self.rows_weight(rows) / self.total_weight
        weights = None if self.sample_weight is None else self.sample_weight[rows]
        return _network.loss_and_grad(self.arch, theta, self.X[rows], self.Y[rows], alpha, weights)

    def residuals_and_jacobian(self, theta, rows=slice(None)):
        """Residuals and Jacobian on training rows (see :func:`mlpfit._network.residuals_and_jacobian`)."""
        weights = None if self.sample_weight is None else self.sample_weight[rows]
        return _network.residuals_and_jacobian(self.arch, theta, self.X[rows], self.Y[rows], weights)

    def normal_equations(self, theta):
        """``J^T J``, ``J^T r`` and ``r^T r`` on all training rows (see :func:`mlpfit._network.normal_equations`)."""
        return _network.normal_equations(self.arch, theta, self.X, self.Y, sample_weight=self.sample_weight)

    def sum_squared_error(self, theta):
        """The (weighted) sum of squared errors on the training rows."""
        return _network.sum_squared_error(self.arch, theta, self.X, self.Y, sample_weight=self.sample_weight)

    def penalty_term(self, theta, alpha):
        """The penalty's share of the objective at ``theta``: ``alpha * sum(W**2) / (2 * total_weight)``."""
        weights = theta[self.arch.weight_mask]
        return alpha * (weights @ weights) / (2 * self.total_weight)

    def validation_loss(self, theta):
        """The training loss on the validation rows, without the penalty (half the MSE for squared error)."""
        return _network.loss_and_grad(self.arch, theta, self.X_val, self.Y_val, sample_weight=self.sample_weight_val)[0]


@dataclass
class ProblemBatch:
    """Independent training problems of one architecture and one shape, stacked for the batched maths of
    :mod:`mlpfit._network`; ``problem(b)`` is the ``b``-th alone, a :class:`TrainingProblem` of views.

    Parameters
    ----------
    arch : Architecture
    X : ndarray of shape (n_problems, n_samples, n_features)
    Y : ndarray of shape (n_problems, n_samples, n_outputs)
    alpha : ndarray of shape (n_problems,)
    X_val, Y_val, sample_weight, sample_weight_val : ndarray or None
        As in :class:`TrainingProblem`, one more leading axis; rows of weight 0 pad a problem with fewer rows.
    """

    arch: object
    X: np.ndarray
    Y: np.ndarray
    alpha: np.ndarray
    X_val: np.ndarray | None = None
    Y_val: np.ndarray | None = None
    sample_weight: np.ndarray | None = None
    sample_weight_val: np.ndarray | None = None

    @classmethod
    def of(cls, problem):
        """``problem`` as a batch of one (views of its arrays)."""

        def stacked(A):
            return None if A is None else A[None]

        return cls(
            problem.arch,
            problem.X[None],
            problem.Y[None],
            np.array([problem.alpha], dtype=np.float64),
            stacked(problem.X_val),
            stacked(problem.Y_val),
            stacked(problem.sample_weight),
            stacked(problem.sample_weight_val),
        )

    def __len__(self):
        return len(self.X)

    def problem(self, b):
        """The ``b``-th problem alone."""

        def row(A):
            return None if A is None else A[b]

        return TrainingProblem(
            self.arch,
            self.X[b],
            self.Y[b],
            float(self.alpha[b]),
            row(self.X_val),
            row(self.Y_val),
            row(self.sample_weight),
            row(self.sample_weight_val),
        )

    def _of(self, A, networks):
        """``A``'s rows for ``networks`` (ascending indices), as a view when they are every problem."""
        if A is None or len(networks) == len(self):
            return A
        return A[networks]

    def normal_equations(self, theta, networks):
        """``J^T J``, ``J^T r`` and ``r^T r`` of the problems ``networks`` at their ``theta`` rows (stacked)."""
        arrays = (self._of(self.X, networks), self._of(self.Y, networks))
        weights = self._of(self.sample_weight, networks)
        return _network.normal_equations(self.arch, theta, *arrays, sample_weight=weights)

    def sum_squared_error(self, theta, networks):
        """The (weighted) sums of squared errors of the problems ``networks`` at their ``theta`` rows."""
        arrays = (self._of(self.X, networks), self._of(self.Y, networks))
        weights = self._of(self.sample_weight, networks)
        return _network.sum_squared_error(self.arch, theta, *arrays, sample_weight=weights)


STOP_MESSAGES = {
    "tol": "Converged: the loss improved by less than tol.",
    "gradient": "Converged: the gradient norm fell below its floor.",
    "max_iter": "Stopped at max_iter before converging; raise max_iter or loosen tol.",
    "early_stopping": "Stopped early: the validation loss stopped improving; the best weights were restored.",
    "diverged": "Diverged: the loss became NaN, infinite or far above its start; "
    "lower learning_rate_init or standardize the data.",
    "mu_max": "Stopped: Levenberg-Marquardt damping mu reached mu_max, no step lowers the loss.",
    "line_search": "Stopped: the line search found no step that lowers the loss.",
}
"""Stop reason -> the sentence a user reads in ``summary_.message``."""
DIVERGENCE_FACTOR = 1e4
"""A loss this many times its first recorded value counts as diverged."""
CONVERGED_REASONS = frozenset({"tol", "gradient", "early_stopping", "mu_max", "line_search"})
"""Stop reasons after which :attr:`SolverResult.converged` is True."""


@dataclass
class Monitor:
    """Records progress and decides when an iterative solver should stop.

    ``update`` is called once per iteration (full-batch solvers) or epoch
    (minibatch solvers) with the current parameters and training loss.
    With validation rows it runs early stopping: after ``n_iter_no_change``
    updates without the validation loss improving by ``tol`` it stops, and
    :attr:`best_theta` holds the best parameters seen. ``watch_training`` makes
    the same rule apply to the training loss (for solvers with no stopping test
    of their own). Each update also records the objective's data term and the
    penalty ``alpha`` in force, which starts at ``problem.alpha`` and changes only
    through :meth:`reestimated` (see :class:`RunRecord` for the curves); ``bayesian``
    adds both to the verbose line.
    """

    problem: TrainingProblem
    tol: float
    n_iter_no_change: int
    watch_training: bool = False
    verbose: bool = False
    on_iteration: Callable | None = None
    bayesian: bool = False
    loss_curve: list = field(default_factory=list)
    validation_curve: list = field(default_factory=list)
    data_curve: list = field(default_factory=list)
    alpha_curve: list = field(default_factory=list)
    reestimations: list = field(default_factory=list)
    best_theta: np.ndarray | None = None
    stop_reason: str | None = None
    alpha: float = field(init=False)
    _reestimated: bool = False
    _best: float = np.inf
    _stalled: int = 0

    def __post_init__(self):
        self.alpha = self.problem.alpha

    def reestimated(self, alpha):
        """Bayesian regularisation set the penalty to ``alpha``: the next recorded iteration runs at it, and is
        marked as one that follows a re-estimation."""
        self.alpha, self._reestimated = alpha, True

    def update(self, theta, loss, penalty_term=None):
        """Record one iteration; return True when the solver should stop.

        ``loss`` is the objective at ``theta`` and the penalty in force; ``penalty_term`` its penalty term when
        that is not :meth:`TrainingProblem.penalty_term` at ``theta`` (a minibatch epoch's mean).
        """
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run's terms are recorded as they are
            if penalty_term is None:
                penalty_term = self.problem.penalty_term(theta, self.alpha)
            self._record(loss, penalty_term)
        if not np.isfinite(loss) or loss > DIVERGENCE_FACTOR * abs(self.loss_curve[0]):
            self.stop_reason = "diverged"
            return True
        watched = loss
        if self.problem.has_validation:
            watched = self.problem.validation_loss(theta)
            self.validation_curve.append(float(watched))
        if self.verbose:
            self._print(watched)
        if self.on_iteration is not None:
            self.on_iteration(
                len(self.loss_curve), float(loss), self.validation_curve[-1] if self.validation_curve else None
            )
        if not (self.problem.has_validation or self.watch_training):
            return False
        if watched < self._best - self.tol:
            self._best, self._stalled = watched, 0
            self.best_theta = theta.copy()
            return False
        self._stalled += 1
        if self._stalled >= self.n_iter_no_change:
            self.stop_reason = "early_stopping" if self.problem.has_validation else "tol"
            return True
        return False

    def _record(self, loss, penalty_term):
        self.loss_curve.append(float(loss))
        self.data_curve.append(float(loss - penalty_term))
        self.alpha_curve.append(float(self.alpha))
        if self._reestimated:
            self.reestimations.append(len(self.loss_curve) - 1)
            self._reestimated = False

    def _print(self, validation_loss):
        line = f"Iteration {len(self.loss_curve)}, loss = {self.loss_curve[-1]:.6g}"
        if self.bayesian:
            line += f", data term = {self.data_curve[-1]:.6g}, alpha = {self.alpha:.6g}"
        if self.problem.has_validation:
            line += f", validation loss = {validation_loss:.6g}"
        print(line)

    def records(self):
        """The per-iteration fields of a :class:`RunRecord`, as recorded."""
        return {
            "loss_curve": self.loss_curve,
            "validation_curve": self.validation_curve,
            "data_curve": self.data_curve,
            "alpha_curve": self.alpha_curve,
            "reestimations": self.reestimations,
        }

    def final_theta(self, theta):
        """The parameters to keep: the best validated ones under early stopping, else the last."""
        if self.problem.has_validation and self.best_theta is not None:
            return self.best_theta
        return theta


@dataclass
class SolverSettings:
    """The estimator's options that solvers read."""

    max_iter: int
    tol: float
    n_iter_no_change: int
    learning_rate_init: float
    momentum: float
    batch_size: int
    verbose: bool = False
    on_iteration: Callable | None = None
    bayes_start: str | None = None
    """With Bayesian regularisation (``alpha="bayes"``; LM and L-BFGS), when re-estimating the penalty starts:
    ``"fitted"`` at the first step that fits better than the targets' mean, ``"settled"`` once the
    first fit has settled (see ``mlpfit.solvers.lm`` and ``mlpfit.solvers.lbfgs``); None without it."""

    @property
    def bayesian(self):
        return self.bayes_start is not None

    def monitor(self, problem, watch_training=False):
        return Monitor(
            problem, self.tol, self.n_iter_no_change, watch_training, self.verbose, self.on_iteration, self.bayesian
        )


@dataclass
class RunRecord:
    """How one solver run went.

    Attributes
    ----------
    loss : float
        The final objective (penalty included, network units).
    n_iter : int
        Iterations (full-batch solvers) or epochs (minibatch solvers).
    stop_reason : str
        Why the solver stopped (a key of :data:`STOP_MESSAGES`).
    loss_curve : list of float
        The objective per iteration or epoch: half the (weighted) mean squared error summed over outputs,
        on the standardised targets, plus the penalty ``alpha * sum(W**2) / (2 n)`` (``n`` the rows, or
        their weights' sum); for minibatch solvers the epoch's mean over its minibatches.
    validation_curve : list of float or None
        Half the mean squared validation error per iteration, summed over outputs, under early stopping.
    data_curve : list of float
        The data term of ``loss_curve``, in its units: the objective less its penalty term, so half the
        (weighted) mean squared training error summed over outputs. The penalty term is
        ``loss_curve - data_curve``.
    alpha_curve : list of float
        The penalty ``alpha`` each iteration ran at: constant but for Bayesian regularisation.
    reestimations : list of int
        Indices into the curves of the iterations that ran at a newly re-estimated penalty (Bayesian
        regularisation): there the objective may rise, as its penalty changed, while the data term need not.
    evidence : Evidence or None
        The run's Bayesian-regularisation estimates, or None with a fixed penalty.
    """

    loss: float
    n_iter: int
    stop_reason: str
    loss_curve: list
    validation_curve: list | None
    data_curve: list
    alpha_curve: list
    reestimations: list
    evidence: object | None = None

    @property
    def converged(self):
        return self.stop_reason in CONVERGED_REASONS

    @property
    def bayesian(self):
        """Bayesian regularisation learned the run's penalty (it has an ``evidence``)."""
        return self.evidence is not None

    @property
    def progress_curve(self):
        """The curve that shows how the fit progressed: the objective at a fixed penalty, and with Bayesian
        regularisation its data term, since the objective jumps with every change of the penalty."""
        return self.data_curve if self.bayesian else self.loss_curve


@dataclass(kw_only=True)
class SolverResult(RunRecord):
    """How one solver run ended, and the parameters it ended at."""

    theta: np.ndarray

    @classmethod
    def from_monitor(cls, problem, monitor, theta, stop_reason):
        """Finish a run: keep the monitor's best parameters and evaluate their loss."""
        theta = monitor.final_theta(theta)
        stop_reason = monitor.stop_reason or stop_reason
        loss = problem.loss_and_grad(theta)[0]
        return cls(float(loss), len(monitor.loss_curve), stop_reason, **monitor.records(), theta=theta)
