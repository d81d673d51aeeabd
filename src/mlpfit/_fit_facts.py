"""What the diagnosis reads about a fitted model and its data, each piece computed once and only when a
check asks for it: predictions and errors, the least-squares line, the noise estimate (see
:mod:`mlpfit.diagnosis`'s notes for the estimators and their references), the training record.
"""

from functools import cached_property

import numpy as np
from scipy.spatial import cKDTree

from ._scaling import Scaler

NOISE_FLOOR = 1e-3
"""Noise below 0.1% of the target's variance is treated as that floor: a near noise-free curve need not be followed
closer."""
NOISE_MIN_SAMPLES = 20
"""Below 20 rows the noise estimate is too uncertain to judge by: the checks that need it stay silent."""
NOISE_MAX_ROWS = 2000
"""The nearest-neighbour noise estimate queries at most this many rows, a sample that bounds its cost."""
NEIGHBOUR_EPS = 1.0
"""Approximate neighbours (within 2x the nearest distance) cost a fraction of exact ones; the estimate is an upper one
anyway."""


class FitFacts:
    """What the checks read, each piece computed once and only when a check asks for it.

    Targets and predictions are held divided by :func:`target_unit` (1 but for targets near 1e300
    or 1e-300), so that squared errors stay representable; :meth:`root` prints them back.
    """

    def __init__(self, state, X, Y, X_val, Y_val):
        self.unit = target_unit(Y)
        self.network = state.network.means()  # the means alone, whose squared error training recorded
        self.runs, self.plan, self.evidence = state.runs, state.plan, state.evidence
        self.solver = state.plan and state.plan.solver
        self.unfinished = any(not run.converged for run in state.runs)  # unknown for a raw network: False
        self.X, self.Y, self.X_val = X, Y / self.unit, X_val
        self.Y_val = None if Y_val is None else Y_val / self.unit
        self.n_samples, self.n_features = X.shape

    @property
    def user_start(self):
        """The start was the user's: a raw network, an ``init`` other than ``"auto"``, or ``standardize=False``."""
        scaler = self.network.x_scaler
        unscaled = np.all(scaler.mean == 0) and np.all(scaler.scale == 1)
        return self.plan is None or "init" not in self.plan.reasons or bool(unscaled)

    def predict(self, X):
        """Predictions on other rows, in held units."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self.network.predict(X) / self.unit

    @cached_property
    def validation_prediction(self):
        return self.predict(self.X_val)

    @cached_property
    def hidden_and_output(self):
        with np.errstate(over="ignore", invalid="ignore"):
            return self.network.hidden_and_output(self.X)

    @cached_property
    def prediction(self):
        with np.errstate(over="ignore", invalid="ignore"):
            return self.network.y_scaler.inverse_transform(self.hidden_and_output[1]) / self.unit

    @cached_property
    def finite(self):
        return bool(np.all(np.isfinite(self.prediction)))

    @cached_property
    def model_mse(self):
        """Mean squared training error per output, user's units."""
        return np.mean((self.prediction - self.Y) ** 2, axis=0)

    @cached_property
    def varying(self):
        """Standardised non-constant input columns."""
        X = self.X[:, np.ptp(self.X, axis=0) > 0]
        return Scaler.fit(X).transform(X)  # robust to data near 1e300 or 1e-300, where X.std() over- or underflows

    @cached_property
    def linear_mse(self):
        """Mean squared error of the least-squares line or plane, per output."""
        design = np.column_stack([np.ones(self.n_samples), self.varying])
        # Normal equations on standardised columns: well conditioned, and far cheaper than QR on 10^5 rows.
        coef = np.linalg.lstsq(design.T @ design, design.T @ self.Y, rcond=None)[0]
        return np.mean((design @ coef - self.Y) ** 2, axis=0)

    @cached_property
    def target_variance(self):
        return self.Y.var(axis=0)

    @cached_property
    def replicates(self):
        """``(group, size)``: each row's group of rows with the same whole X, and each row's group size."""
        _, group, counts = np.unique(self.X, axis=0, return_inverse=True, return_counts=True)
        group = group.ravel()
        return group, counts[group]

    @cached_property
    def pure_error(self):
        """``(sum of squares, degrees of freedom)`` of the targets about their group means where X repeats."""
        group, size = self.replicates
        totals = np.zeros((group.max() + 1, self.Y.shape[1]))
        np.add.at(totals, group, self.Y)
        deviations = self.Y - totals[group] / size[:, None]
        return np.sum(deviations**2, axis=0), int(np.sum(size > 1) - len(np.unique(group[size > 1])))

    @cached_property
    def floor_mse(self):
        """Per output, the mean squared error of the per-X means: no function of X gets below it on these rows."""
        return self.pure_error[0] / self.n_samples

    @cached_property
    def noise(self):
        """Noise variance estimate per output (see the module notes); NaN (no judgement) on too few rows."""
        if self.n_samples < NOISE_MIN_SAMPLES:
            return np.full(self.Y.shape[1], np.nan)
        squares, degrees = self.pure_error
        single = self.replicates[1] == 1
        variance, count = self._difference_noise(single)
        return (squares + count * variance) / (degrees + count)

    def _difference_noise(self, rows):
        """``(variance, count)``: the difference estimate of the noise on these rows (whose X does not repeat)
        and the number of differences it averages; count 0 where there are too few rows for one."""
        varying, Y = self.varying[rows], self.Y[rows]
        if varying.shape[1] <= 1:
            if len(Y) < 3:
                return np.zeros(Y.shape[1]), 0
            x = varying[:, 0] if varying.shape[1] else np.zeros(len(Y))
            return _local_linear_noise(x, Y), len(Y) - 2
        if len(Y) < 2:
            return np.zeros(Y.shape[1]), 0
        rows = np.arange(len(Y))
        if len(Y) > NOISE_MAX_ROWS:
            rows = np.random.default_rng(0).choice(len(Y), NOISE_MAX_ROWS, replace=False)
        _, neighbours = cKDTree(varying).query(varying[rows], k=2, eps=NEIGHBOUR_EPS)
        other = np.where(neighbours[:, 0] == rows, neighbours[:, 1], neighbours[:, 0])
        return np.mean((Y[rows] - Y[other]) ** 2, axis=0) / 2, len(rows)

    @cached_property
    def noise_level(self):
        """The noise estimate, floored at ``NOISE_FLOOR`` of the target's variance."""
        return np.maximum(self.noise, NOISE_FLOOR * self.target_variance)

    @property
    def noise_method(self):
        group, size = self.replicates
        repeated = size > 1
        differences = (
            "differences from neighbours' lines on x-sorted data"
            if self.varying.shape[1] <= 1
            else "nearest-neighbour differences, an upper estimate"
        )
        if not repeated.any():
            return differences
        pure = f"replicates: the spread of y at {len(np.unique(group[repeated]))} repeated x over {repeated.sum()} rows"
        return pure if repeated.all() else f"{pure}; {differences} on the other {np.sum(~repeated)}"

    def to_network_loss(self, mse):
        """Per-output mean squared errors (held units) -> the half-MSE loss the network's curves record."""
        return float(np.sum(mse / (self.network.y_scaler.scale / self.unit) ** 2) / 2)

    def root(self, values, k):
        """``values[k]``, a mean squared error or variance of output ``k`` in held units, as its root in the
        user's units (an RMSE, a standard deviation): the unit every message speaks."""
        return f"{np.sqrt(values[k]) * self.unit[k]:.4g}"

    def curves(self):
        """``(network, curve, run)`` per network trained: ``network`` words that name it among several
        ("network 2 of 5's "; "the " for one), its ``progress_curve`` as an array (the objective, or with
        Bayesian regularisation its data term), and its TrainingRun."""
        label = (lambda i: f"network {i + 1} of {len(self.runs)}'s ") if len(self.runs) > 1 else (lambda i: "the ")
        return [
            (label(i), np.asarray(run.progress_curve, dtype=np.float64), run)
            for i, run in enumerate(self.runs)
            if run.loss_curve
        ]

    def hidden_layers(self):
        """Pre-activations of each hidden layer on the data, (n_samples, units) each."""
        return self.hidden_and_output[0]


EXTREME_MAGNITUDE = 2.0**500
"""Targets larger than this (about 3e150) or smaller than its inverse have squared errors that over- or
underflow float64; they are diagnosed in units of a power of two near their size."""


def target_unit(Y):
    """Per output: 1, or for extreme targets the power of two nearest their largest magnitude (dividing by it is
    exact)."""
    magnitude = np.abs(Y).max(axis=0)
    extreme = (magnitude > EXTREME_MAGNITUDE) | ((magnitude > 0) & (magnitude < 1 / EXTREME_MAGNITUDE))
    return np.where(extreme, 2.0 ** np.round(np.log2(np.where(magnitude > 0, magnitude, 1.0))), 1.0)


def _local_linear_noise(x, Y):
    """Noise variance per column of ``Y`` from pseudo-residuals on x-sorted data (Gasser et al. 1986).

    ``e_i = a_i y_(i-1) + b_i y_(i+1) - y_i`` with ``a_i, b_i`` the linear-interpolation
    weights from the neighbours' x, scaled by ``1 / (a_i**2 + b_i**2 + 1)`` to be unbiased.
    """
    order = np.argsort(x, kind="stable")
    x, Y = x[order], Y[order]
    span = x[2:] - x[:-2]
    a = np.divide(x[2:] - x[1:-1], span, out=np.full_like(span, 0.5), where=span > 0)[:, None]
    residual = a * Y[:-2] + (1 - a) * Y[2:] - Y[1:-1]
    return np.mean(residual**2 / (a**2 + (1 - a) ** 2 + 1), axis=0)


class EnsembleFacts(FitFacts):
    """What the checks of an ensemble's mean fit read: its mean prediction in place of one network's.

    ``inputs`` are the rows of ``X`` and ``X_val`` as the ensemble's own ``predict`` takes them (the user's columns;
    ``X`` and ``X_val`` are the network's inputs, dates and text encoded).
    """

    def __init__(self, ensemble, X, Y, X_val, Y_val, inputs):
        members = [member.fitted_ for member in ensemble.estimators_]
        self.ensemble, self.unit = ensemble, target_unit(Y)
        self.runs, self.plan, self.evidence = (), members[0].plan, None  # runs: no one curve is the mean's
        self.solver = self.plan.solver
        self.unfinished = any(not run.converged for member in members for run in member.runs)
        self.X, self.Y, self.X_val = X, Y / self.unit, X_val
        self.Y_val = None if Y_val is None else Y_val / self.unit
        self.n_samples, self.n_features = X.shape
        self.inputs = inputs

    user_start = False

    @cached_property
    def prediction(self):
        return self.predict(self.inputs[0])

    @cached_property
    def validation_prediction(self):
        return self.predict(self.inputs[1])

    def predict(self, X):
        with np.errstate(over="ignore", invalid="ignore"):
            return self.ensemble.predict(X).reshape(len(X), -1) / self.unit
