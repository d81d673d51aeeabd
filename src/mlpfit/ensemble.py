"""EnsembleRegressor: deep ensembles of NeuralRegressors, for predictions with honest intervals.

Each member is a clone of a :class:`~mlpfit.NeuralRegressor` template trained from
its own initialisation; the members' predictive Gaussians are combined into one
Gaussian. The members share their data, so their solver runs go as one batch
(:func:`mlpfit._jobs.run_trainings`); with ``n_jobs``, or
``with joblib.parallel_config(backend="dask"):`` under a ``dask.distributed.Client``,
the batch is split among joblib's workers.
"""

from numbers import Integral, Real

import numpy as np
from scipy.stats import norm
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted

from . import _weights
from ._fitted import within
from ._jobs import run_trainings
from ._params import Constant, InstanceOf, Interval, Options, Seed, validate_params
from ._plan import make_plan
from .estimator import PARAMETER_CONSTRAINTS as MEMBER_CONSTRAINTS
from .estimator import NeuralRegressor, finish_training, start_training, validated_inputs, validated_training_data

MEMBER_LOSSES = {"heteroscedastic": "gaussian_nll", "homoscedastic": "squared_error"}
"""``noise`` -> the loss each member is trained on."""

PARAMETER_CONSTRAINTS = {
    "estimator": [InstanceOf(NeuralRegressor), Constant(None)],
    "n_estimators": [Interval(Integral, 1, None)],
    "noise": [Options(*MEMBER_LOSSES)],
    "holdout_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_jobs": [Interval(Integral, None, None), Constant(None)],
    "random_state": [Seed()],
}
"""EnsembleRegressor's parameters -> what each may be."""


def networks_of(model):
    """The networks a fitted model is made of: an ensemble's members, else the model itself."""
    return list(getattr(model, "estimators_", None) or [model])


def _start_member(template, X, y, seed, noise, holdout_fraction, sample_weight=None, encoding=None):
    """``(member, training, held_rows)``: one member set up to train (:func:`~mlpfit.estimator.start_training`)
    by its plan as an ensemble member; for homoscedastic noise on all rows but a held-out share, whose indices
    are ``held_rows`` (else None). ``sample_weight`` (positive, or None) weighs the rows; ``encoding`` (or None)
    encodes the dates and text of ``X``, the same for every member.
    """
    member = clone(template).set_params(random_state=seed, loss=MEMBER_LOSSES[noise])
    held_rows = None
    if noise == "homoscedastic":
        fit_rows, held_rows = train_test_split(np.arange(len(X)), test_size=holdout_fraction, random_state=seed)
        X, y = X[fit_rows], y[fit_rows]
        sample_weight = None if sample_weight is None else sample_weight[fit_rows]
    n_outputs = 1 if y.ndim == 1 else y.shape[1]
    n_features = X.shape[1] if encoding is None else encoding.n_features
    plan = make_plan(member.get_params(deep=False), len(X), n_features, n_outputs, ensemble_member=True)
    return member, start_training(member, X, y, sample_weight, plan, encoding), held_rows


def _noise_variances(members, held_rows, X, y, sample_weight=None):
    """Each member's noise variance: its held-out mean squared error less twice the members' spread there
    (both means weighted by ``sample_weight`` when given).

    With member errors of equal variance ``v`` and independent across members, a member's
    held-out error is ``noise + bias**2 + v`` while the ensemble mean's is
    ``noise + bias**2 + v / M``, and the spread of members about their mean is
    ``v (1 - 1/M)``; subtracting it twice leaves the noise the predictive variance
    ``noise + spread`` needs to match the ensemble's own error. Floored at a tenth of the
    held-out error.
    """
    means = np.array([member.predict(X) for member in members])
    spread = ((means - means.mean(axis=0)) ** 2).mean(axis=0)
    variances = []
    for mean, rows in zip(means, held_rows):
        weights = None if sample_weight is None else sample_weight[rows]
        error = _weights.mean((y[rows] - mean[rows]) ** 2, weights)
        variances.append(np.maximum(error - 2 * _weights.mean(spread[rows], weights), 0.1 * error))
    return np.array(variances)


class EnsembleRegressor(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """An ensemble of neural networks whose spread and predicted noise give prediction intervals.

    Parameters
    ----------
    estimator : NeuralRegressor or None, default=None
        The member template (None: ``NeuralRegressor()``). Its ``loss`` and
        ``random_state`` are set per member; each member follows the fit plan of an ensemble
        member (``make_plan(..., ensemble_member=True)``), where ``init="auto"`` starts from random
        breakpoints (members must start apart to disagree away from the data) and
        ``n_averaged="auto"`` is one network. Its ``input_transform`` applies to every member;
        a ``target_transform`` is refused (not yet supported).
    n_estimators : int, default=5
        Number of members.
    noise : {"heteroscedastic", "homoscedastic"}, default="heteroscedastic"
        ``"heteroscedastic"``: each member predicts a mean and a variance (``loss="gaussian_nll"``:
        the means by squared error, then a variance head by the Gaussian negative log-likelihood
        of their residuals; see ``mlpfit._nll``), on all rows. ``"homoscedastic"``: each member
        is trained on squared error on a random ``1 - holdout_fraction`` of the rows, and
        its noise variance is measured on the rows it held out (see Notes).
    holdout_fraction : float, default=0.2
        Share of rows each member holds out to estimate the noise level (homoscedastic only).
    n_jobs : int or None, default=None
        Joblib workers the members' batch is split among (None defers to ``joblib.parallel_config``:
        one under the default backend, the cluster's cores under Dask's). With one, the members train
        as one batch in this process, their Levenberg-Marquardt runs solved together; with more, each
        worker runs a share of the members as a batch of its own, which pays where the members are
        large enough to repay the workers' start-up and the data's transfer.
    random_state : None, int or RandomState, default=None
        Draws every member's seed before any training, so results do not depend on ``n_jobs``,
        the joblib backend, or the order members finish.

    Attributes
    ----------
    estimators_ : list of NeuralRegressor
        The fitted members.
    noise_variances_ : ndarray of shape (n_estimators,) or (n_estimators, n_outputs), or None
        Each member's noise variance in squared target units (homoscedastic; shaped like
        one row of ``y``), or None when members predict their own (heteroscedastic).
    n_features_in_ : int
    n_outputs_ : int

    Notes
    -----
    Member ``m`` predicts ``N(mean_m, var_m)``. The ensemble is the equal mixture of the
    members, summarised by the Gaussian with its mean and variance
    (Lakshminarayanan, Pritzel and Blundell 2017)::

        mean = mean_m(mean_m)
        var  = mean_m(var_m + mean_m**2) - mean**2 = mean_m(var_m) + mean_m((mean_m - mean)**2)

    The first term is the noise (aleatoric) part, the second the disagreement of the
    members (epistemic). For homoscedastic noise a member's held-out error contains its
    own estimation error as well as the noise; twice the members' spread on those rows is
    subtracted so the disagreement term is not counted twice (see ``_noise_variances``).
    """

    _parameter_constraints = PARAMETER_CONSTRAINTS

    def __init__(
        self,
        estimator=None,
        *,
        n_estimators=5,
        noise="heteroscedastic",
        holdout_fraction=0.2,
        n_jobs=None,
        random_state=None,
    ):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.noise = noise
        self.holdout_fraction = holdout_fraction
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        """Train the members on ``X`` (n_samples, n_features) and ``y`` (n_samples,) or (n_samples, n_outputs).

        ``sample_weight`` (n_samples,), optional: row weights as :meth:`NeuralRegressor.fit` takes them
        (frequencies; a zero weight drops the row). Every member is fitted with them, and a homoscedastic
        member's noise variance is the weighted mean of its held-out rows' squared errors.

        Dask arrays and DataFrames are read into memory whole: every member trains on all the rows in one process.
        For rows beyond one machine's memory fit a :class:`NeuralRegressor` on them, whose sums run on the workers.
        """
        validate_params(self.get_params(deep=False), PARAMETER_CONSTRAINTS)
        X, Y, y_ndim, sample_weight, encoding = validated_training_data(self, X, y, sample_weight)
        X, y, sample_weight = _weights.weighted_set(X, Y.ravel() if y_ndim == 1 else Y, sample_weight)
        if encoding is not None:  # the members encode the columns themselves, all with the encoding of every row
            X = encoding.decode(X)
        template = NeuralRegressor() if self.estimator is None else self.estimator
        validate_params(template.get_params(deep=False), MEMBER_CONSTRAINTS)
        if template.target_transform is not None:
            raise ValueError(
                f"EnsembleRegressor does not support a template with target_transform={template.target_transform!r} "
                "yet: its intervals combine the members' Gaussians in y's units. Fit a NeuralRegressor with the "
                "transform, or an ensemble on log(y) and exponentiate its intervals' bounds."
            )
        seeds = check_random_state(self.random_state).randint(np.iinfo(np.int32).max, size=self.n_estimators)
        started = [
            _start_member(template, X, y, seed, self.noise, self.holdout_fraction, sample_weight, encoding)
            for seed in seeds
        ]
        members, trainings, held_rows = zip(*started)
        runs = run_trainings(trainings, self.n_jobs)
        self.estimators_ = [finish_training(*member) for member in zip(members, trainings, runs)]
        self.n_outputs_ = self.estimators_[0].n_outputs_
        self.noise_variances_ = None
        if self.noise == "homoscedastic":
            self.noise_variances_ = _noise_variances(self.estimators_, held_rows, X, y, sample_weight)
        return self

    def _member_moments(self, X):
        """Every member's means and variances, stacked: shape (n_estimators, n_samples[, n_outputs])."""
        X = self._inputs(X)
        if self.noise_variances_ is None:
            means, stds = zip(*(member.predict(X, return_std=True) for member in self.estimators_))
            return np.array(means), np.array(stds) ** 2
        means = np.array([member.predict(X) for member in self.estimators_])
        return means, np.broadcast_to(self.noise_variances_[:, None], means.shape)

    def predict(self, X, return_std=False):
        """The ensemble mean, and with ``return_std=True`` its predictive standard deviation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        return_std : bool, default=False

        Returns
        -------
        mean : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        std : ndarray of the same shape, in the target's units (only with ``return_std``)
            Combines the predicted noise and the members' disagreement (see Notes).
        """
        means, variances = self._member_moments(X)
        mean = means.mean(axis=0)
        if not return_std:
            return mean
        return mean, np.sqrt(variances.mean(axis=0) + ((means - mean) ** 2).mean(axis=0))

    def predict_interval(self, X, coverage=0.95):
        """Central prediction interval that holds a new observation with probability ``coverage``.

        Returns
        -------
        lower, upper : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        validate_params({"coverage": coverage}, {"coverage": [Interval(Real, 0, 1, closed="neither")]})
        mean, std = self.predict(X, return_std=True)
        half_width = norm.ppf(0.5 + coverage / 2) * std
        return mean - half_width, mean + half_width

    def log_likelihood(self, X, y):
        """Mean over samples of the predictive Gaussian log-density of ``y`` (summed over outputs), in ``y``'s units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), as in ``fit``

        Returns
        -------
        float
            Higher is better; its negative is the test NLL per sample.
        """
        mean, std = self.predict(X, return_std=True)
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if y.shape != mean.shape:
            raise ValueError(f"y must have shape {mean.shape} to match X and the fitted targets; got {y.shape}.")
        return float(np.sum(norm.logpdf(y, mean, std)) / len(y))

    def in_range(self, X):
        """Boolean (n_samples,): True where every input of a row of ``X`` lies within the range of the rows the
        members were trained on (all rows, but with ``noise="homoscedastic"`` a row every member held out does
        not count), False where the members extrapolate and the intervals widen."""
        X = self.estimators_[0].fitted_.network.encoded(self._inputs(X))
        lows, highs = zip(*(member.fitted_.x_range for member in self.estimators_))
        return within(X, (np.min(lows, axis=0), np.max(highs, axis=0)))

    def _inputs(self, X):
        """``X`` checked as the members take it (their encoding of dates and text is the same)."""
        check_is_fitted(self)
        return validated_inputs(self, X, self.estimators_[0].fitted_.network.x_encoding)
