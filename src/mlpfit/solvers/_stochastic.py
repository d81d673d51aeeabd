"""The epoch loop shared by the minibatch solvers (Adam and SGD).

Each epoch shuffles the rows, takes one update per minibatch, and reports the
epoch's mean minibatch loss (each minibatch's weighted by its rows, or its sample weights'
sum), and the mean of their penalty terms, to the monitor, which stops the run when the loss
(or, under early stopping, the validation loss) has not improved by ``tol`` for
``n_iter_no_change`` epochs.
"""

import numpy as np

from ._base import SolverResult


def run_epochs(problem, theta0, settings, rng, step):
    """Train with minibatch gradients; ``step(theta, grad) -> theta`` is the update rule."""
    monitor = settings.monitor(problem, watch_training=True)
    theta = theta0.copy()
    n = problem.n_samples
    batch_size = min(settings.batch_size, n)
    full_batch = batch_size >= n
    for _ in range(settings.max_iter):
        order = None if full_batch else rng.permutation(n)
        epoch_loss = epoch_penalty = 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, n, batch_size):
                rows = None if full_batch else order[start : start + batch_size]
                loss, grad = problem.loss_and_grad(theta, rows)
                weight = problem.total_weight if full_batch else problem.rows_weight(rows)
                epoch_loss += loss * weight
                epoch_penalty += problem.penalty_term(theta, problem.alpha) * weight
                theta = step(theta, grad)
        if monitor.update(theta, epoch_loss / problem.total_weight, epoch_penalty / problem.total_weight):
            return SolverResult.from_monitor(problem, monitor, theta, "tol")
    return SolverResult.from_monitor(problem, monitor, theta, "max_iter")
