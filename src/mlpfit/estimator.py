"""NeuralRegressor: a scikit-learn estimator that fits curves from raw data.

The estimator is a thin shell: it validates parameters and data, asks the fit plan
(:func:`mlpfit.make_plan`) for every ``"auto"``, standardises, initialises, calls a
solver from :data:`mlpfit.solvers.SOLVERS` (once per restart of every network it
averages, through joblib), keeps each network's best run, and merges them into one
network. What the fit learned is one :class:`~mlpfit._fitted.FittedState`, ``fitted_``;
the fitted attributes are views of it.
"""

import time
import warnings
from dataclasses import dataclass, replace
from numbers import Integral, Real
from operator import attrgetter

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_consistent_length, check_is_fitted, check_X_y
from sklearn.utils.validation import validate_data as sklearn_validate_data

from . import _network, _nll, _transforms, _weights
from ._activations import ACTIVATIONS
from ._columns import InputEncoding, as_inputs, check_numbers, input_labels, read_inputs
from ._dask_data import dask_in_range, dask_predict, dask_training_data, is_dask_collection
from ._fitted import FittedNetwork, FittedState, TrainingRun, range_of, within
from ._jobs import TrainingJob, run_all
from ._memory import check_memory
from ._params import Boolean, Constant, Interval, LayerSizes, Options, PerColumn, Seed, validate_params
from ._plan import AUTO_MAX_HINGES, AUTO_MIN_UNITS, AUTO_UNITS_ONE_INPUT, jtj_affordable, make_plan
from ._progress import progress
from ._scaling import Scaler
from ._selection import INIT_METHODS, selected_hinge_network
from .diagnosis import fit_check_rows, warn_if_fit_failed
from .piecewise import piecewise_linear
from .solvers import SOLVERS, STOP_MESSAGES, SolverSettings, TrainingProblem
from .solvers._evidence import Evidence, evidence_at

PARAMETER_CONSTRAINTS = {
    "hidden_layer_sizes": [Options("auto"), LayerSizes()],
    "activation": [Options(*ACTIVATIONS)],
    "solver": [Options("auto", *SOLVERS)],
    "alpha": [Interval(Real, 0, None), Options("auto", "bayes")],
    "loss": [Options(*_nll.OUTPUTS_PER_TARGET)],
    "standardize": [Boolean()],
    "target_transform": [Constant(None), Options(*_transforms.TRANSFORMS)],
    "input_transform": [Constant(None), Options(*_transforms.TRANSFORMS), PerColumn(*_transforms.TRANSFORMS)],
    "init": [Options(*INIT_METHODS)],
    "init_scale": [Interval(Real, 0, None, closed="neither"), Constant(None)],
    "max_iter": [Options("auto"), Interval(Integral, 1, None)],
    "tol": [Options("auto"), Interval(Real, 0, None)],
    "n_iter_no_change": [Options("auto"), Interval(Integral, 1, None)],
    "early_stopping": [Boolean()],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "momentum": [Interval(Real, 0, 1, closed="left")],
    "batch_size": [Options("auto"), Interval(Integral, 1, None)],
    "n_restarts": [Interval(Integral, 1, None)],
    "n_averaged": [Options("auto"), Interval(Integral, 1, None)],
    "n_jobs": [Interval(Integral, None, None), Constant(None)],
    "random_state": [Seed()],
    "verbose": [Boolean(), Interval(Integral, 0, None)],
}
"""NeuralRegressor's parameters -> what each may be (checked by ``fit``, and by ``mlpfit.load``)."""


def validated_inputs(estimator, X, encoding=None, *, reset=False):
    """``X`` as a fitted network with ``encoding`` takes it, after scikit-learn's checks of its column names and
    count (``reset``: set them, as ``fit`` does): float64 numbers as scikit-learn's ``validate_data`` reads them
    (no encoding; dates or text then refused by name), else the columns as read
    (:func:`mlpfit._columns.read_inputs`), which the encoding turns into numbers."""
    if encoding is None:
        check_numbers(X)
        return sklearn_validate_data(estimator, X, reset=reset, dtype=np.float64)
    sklearn_validate_data(estimator, X, reset=reset, skip_check_array=True)
    return read_inputs(X) or X


def validated_training_data(estimator, X, y, sample_weight=None, encoding=None):
    """``(X, Y, y_ndim, sample_weight, encoding)``: the inputs as the network's float64 inputs and ``Y`` 2-D; sets
    ``estimator.n_features_in_`` (and ``feature_names_in_``) from the user's columns.

    ``encoding`` None: learned from ``X`` when a column holds dates or text (:mod:`mlpfit._columns`), else None
    and ``X`` read by scikit-learn's ``validate_data`` as ever; given (an ensemble's, learned from all its rows of
    positive weight): ``X`` encoded by it. Where ``X`` is encoded, the rows of zero weight are dropped first (with
    their weights), so that as everywhere they count as never given: they shape no origin and no category, nor are
    they encoded.
    """
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but the target y is None.")
    try:
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"y must be numeric: {error}") from None
    inputs = read_inputs(X)
    if inputs is None and encoding is None:
        X, y = sklearn_validate_data(
            estimator, X, y, multi_output=True, y_numeric=True, dtype=np.float64, ensure_min_samples=2
        )
    else:
        sklearn_validate_data(estimator, X, skip_check_array=True)  # the column names and count
        inputs = as_inputs(X)
        if sample_weight is not None:
            check_consistent_length(inputs, y)
            sample_weight = _weights.check_sample_weight(sample_weight, inputs)
            kept = sample_weight > 0
            inputs, y, sample_weight = inputs[kept], y[kept], sample_weight[kept]
        encoding = encoding or InputEncoding.fit(inputs)
        X, y = check_X_y(
            encoding.encode(inputs),
            y,
            multi_output=True,
            y_numeric=True,
            ensure_min_samples=2,
            estimator=estimator,
        )
    return X, y.reshape(len(y), -1), y.ndim, sample_weight, encoding


def _column_transforms(estimator, X, Y, encoding):
    """``(x_transforms, y_transforms)``: ``input_transform`` (per network input: a text column's transform, which
    must be None, on each of its inputs) and ``target_transform`` per column (None: none), every given row checked
    against their domains, so errors name the user's rows."""
    n_inputs = X.shape[1] if encoding is None else encoding.n_inputs
    x_transforms = _transforms.per_column(estimator.input_transform, n_inputs)
    x_transforms = x_transforms if encoding is None else encoding.per_feature(x_transforms)
    y_transforms = _transforms.per_column(estimator.target_transform, Y.shape[1])
    _transforms.check_domain(X, x_transforms, input_labels(encoding))
    _transforms.check_domain(Y, y_transforms, "target column")
    return x_transforms, y_transforms


def _in_fitted_space(X, Y, x_transforms, y_transforms, encoding):
    """``(X, Y)`` transformed column by column: what the network is fitted to, before standardisation."""
    X = _transforms.forward(X, x_transforms, input_labels(encoding))
    return X, _transforms.forward(Y, y_transforms, "target column")


def _scalers(X, Y, standardize, sample_weight=None):
    """The input and target standardisation (weighted by ``sample_weight`` when given), or identities."""
    if standardize:
        return Scaler.fit(X, sample_weight), Scaler.fit(Y, sample_weight)
    return Scaler.identity(X.shape[1]), Scaler.identity(Y.shape[1])


@dataclass
class TrainingData:
    """The rows a fit trains on: validated, taken as a weighted set (:func:`mlpfit._weights.weighted_set`) and
    transformed into the fitted space, with what was learned of them on the way; ``X`` and ``Y`` are the fit's own
    copies, which :meth:`problem` standardises. :func:`mlpfit._dask_data.dask_training_data` offers the same for Dask
    data."""

    X: np.ndarray
    Y: np.ndarray
    y_ndim: int
    sample_weight: np.ndarray | None
    encoding: object
    transforms: tuple
    x_range: tuple

    @classmethod
    def of(cls, estimator, X, y, sample_weight=None, encoding=None):
        """The data ``estimator.fit(X, y, sample_weight, encoding=encoding)`` trains on; sets
        ``estimator.n_features_in_`` (and ``feature_names_in_``)."""
        X, Y, y_ndim, sample_weight, encoding = validated_training_data(estimator, X, y, sample_weight, encoding)
        transforms = _column_transforms(estimator, X, Y, encoding)
        X, Y, sample_weight = _weights.weighted_set(X, Y, sample_weight)
        x_range = range_of(X)
        X, Y = _in_fitted_space(X, Y, *transforms, encoding)
        return cls(X, Y, y_ndim, sample_weight, encoding, transforms, x_range)

    @property
    def shape(self):
        """``(n_rows, n_features, n_outputs)``, what the fit plan is made for."""
        return (*self.X.shape, self.Y.shape[1])

    def check_plan(self, plan):
        """Refuse a ``plan`` that needs more memory than this machine has (:func:`mlpfit._memory.check_memory`)."""
        check_memory(plan.solver, plan.n_training_rows, (self.X.shape[1], *plan.hidden_layer_sizes, self.Y.shape[1]))

    def scalers(self, standardize):
        """The input and target standardisation (see ``standardize``)."""
        return _scalers(self.X, self.Y, standardize, self.sample_weight)

    def problem(self, plan, scalers, activation, rng):
        """The objective on the rows standardised by ``scalers`` (see :func:`_training_problem`). Standardised in
        place: a fit holds its rows once beside the user's, so ``X`` and ``Y`` are the problem's from then on."""
        standardized = scalers[0].transform_in_place(self.X), scalers[1].transform_in_place(self.Y)
        return _training_problem(plan, *standardized, activation, rng, self.sample_weight)


def _training_problem(plan, X, Y, activation, rng, sample_weight=None):
    """The objective on standardised ``X``, ``Y`` (rows weighted by ``sample_weight``): the plan's widths, its
    starting penalty (which Bayesian regularisation then re-estimates) and, when it says so, validation rows
    split off, with their weights."""
    validation = {}
    if plan.early_stopping:
        arrays = (X, Y) if sample_weight is None else (X, Y, sample_weight)
        split = train_test_split(*arrays, train_size=plan.n_training_rows, random_state=rng)
        X, X_val, Y, Y_val = split[:4]
        validation = dict(X_val=X_val, Y_val=Y_val)
        if sample_weight is not None:
            sample_weight, validation["sample_weight_val"] = split[4:]
    arch = _network.Architecture((X.shape[1], *plan.hidden_layer_sizes, Y.shape[1]), activation)
    return TrainingProblem(arch, X, Y, alpha=plan.bayes_start_alpha, sample_weight=sample_weight, **validation)


def training_objective(estimator, X, y, sample_weight=None):
    """``(problem, plan)``: the objective ``estimator.fit(X, y, sample_weight)`` would minimise, and the plan it
    would follow.

    The problem has the plan's widths; a fit whose plan selects them, or averages networks, trains
    others (see :func:`mlpfit.gradient_check`).
    """
    validate_params(estimator.get_params(deep=False), PARAMETER_CONSTRAINTS)
    data = TrainingData.of(estimator, X, y, sample_weight)
    plan = make_plan(estimator.get_params(deep=False), *data.shape)
    rng = check_random_state(estimator.random_state)
    return data.problem(plan, data.scalers(estimator.standardize), estimator.activation, rng), plan


def _solver_settings(plan, learning_rate_init, momentum, verbose):
    return SolverSettings(
        max_iter=plan.max_iter,
        tol=plan.tol,
        n_iter_no_change=plan.n_iter_no_change,
        learning_rate_init=learning_rate_init,
        momentum=momentum,
        batch_size=plan.batch_size,
        verbose=verbose >= 2,
        bayes_start=plan.bayes_start,
    )


def _run_score(run, validated):
    """Lower is better: the best validation loss under early stopping, else the final objective; NaN loses."""
    score = min(run.validation_curve, default=np.inf) if validated else run.loss
    return score if np.isfinite(score) else np.inf


def _training_run(kept, restarts):
    """The record of one network: its kept solver run, and its restarts' final objectives."""
    return TrainingRun(
        loss=kept.loss,
        loss_curve=kept.loss_curve,
        validation_curve=kept.validation_curve or None,
        data_curve=kept.data_curve,
        alpha_curve=kept.alpha_curve,
        reestimations=kept.reestimations,
        n_iter=max(kept.n_iter, 1),
        stop_reason=kept.stop_reason,
        restart_losses=[run.loss for run in restarts],
        evidence=kept.evidence,
    )


def _merged(problems, kept):
    """``(arch, theta, loss, evidence)`` of the model the kept runs make: the one network, or the mean
    of several (their units side by side; see ``n_averaged``) with its objective and their mean evidence."""
    if len(kept) == 1:
        return problems[0].arch, kept[0].theta, kept[0].loss, kept[0].evidence
    arch, theta = _network.average([problem.arch for problem in problems], [run.theta for run in kept])
    evidence = None if kept[0].evidence is None else Evidence.mean([run.evidence for run in kept])
    penalty = problems[0].alpha if evidence is None else evidence.penalty
    loss = replace(problems[0], arch=arch, alpha=penalty).loss_and_grad(theta)[0]
    return arch, theta, float(loss), evidence


def _effective_parameters(problem, run):
    """The means' effective number of parameters: learned by Bayesian regularisation, else the
    evidence's at the fitted weights (``mlpfit.solvers._evidence.evidence_at``) while ``J^T J`` is
    affordable (``mlpfit._plan.jtj_affordable``), else 0, which on data that large changes little.
    Why the evidence's and not the hat matrix's trace at the fixed penalty: ``benchmarks/README.md``."""
    if run.evidence is not None:
        return run.evidence.effective_params
    arch = problem.arch
    if not jtj_affordable(problem.Y.size, arch.n_params) or not np.all(np.isfinite(run.theta)):
        return 0.0
    jtj, _, sse = problem.normal_equations(run.theta)
    return evidence_at(jtj, sse, run.theta, arch.weight_mask, problem.alpha, problem.n_residuals).effective_params


def _with_variance_head(problem, arch, theta, effective):
    """The means' network ``(arch, theta)`` with a variance head fitted to their training residuals
    (see ``mlpfit._nll``); ``effective`` is the means' effective number of parameters. The residuals and the
    hidden units they are fitted on are held through the head's fit when small, else computed chunk by chunk for
    every evaluation (:func:`mlpfit._nll.head_rows`), never for all rows at once."""
    n_residuals = problem.n_residuals
    scale = n_residuals / max(n_residuals - effective, 1.0)
    chunks = _nll.head_rows(arch, theta, problem.X, problem.Y, scale, problem.sample_weight)
    head = _nll.fit_head_in_chunks(arch.layer_sizes[-2], chunks)
    return _nll.with_variance_head(arch, theta, *head)


@dataclass
class Training:
    """A fit between its set-up and its solver runs: the jobs to run (each network's restarts in turn), and
    what the fit makes of their results (:meth:`finished`). ``X`` and ``Y`` are the rows of the data as fitted (the
    weighted set, transformed) that the check after the fit looks at (:func:`mlpfit.diagnosis.fit_check_rows`)."""

    plan: object
    problems: list
    jobs: list
    settings: object
    scalers: tuple
    y_ndim: int
    transforms: tuple
    encoding: object
    variance_head: bool
    x_range: tuple
    X: np.ndarray
    Y: np.ndarray
    start_time: float

    def finished(self, results):
        """The :class:`FittedState` the jobs' ``results`` (in the order of :attr:`jobs`) make: each network's best
        run among its restarts, the networks merged, the variance head fitted where the loss asks for one.

        Raises ValueError for non-finite weights.
        """
        per_network = len(results) // len(self.problems)
        runs = [results[i : i + per_network] for i in range(0, len(results), per_network)]
        problems = self.problems
        validated = problems[0].has_validation
        kept = [min(network_runs, key=lambda run: _run_score(run, validated)) for network_runs in runs]
        arch, theta, loss, evidence = _merged(problems, kept)
        if self.variance_head:
            effective = np.mean([_effective_parameters(*pair) for pair in zip(problems, kept)])
            arch, theta = _with_variance_head(problems[0], arch, theta, effective)
        if not np.all(np.isfinite(theta)):
            raise ValueError("Training produced non-finite weights; lower learning_rate_init or keep standardize=True.")
        return FittedState(
            network=FittedNetwork(
                arch, theta, *self.scalers, self.y_ndim, self.variance_head, *self.transforms, self.encoding
            ),
            plan=self.plan,
            runs=tuple(_training_run(*pair) for pair in zip(kept, runs)),
            loss=loss,
            evidence=evidence,
            fit_time=time.perf_counter() - self.start_time,
            x_range=self.x_range,
        )


def start_training(estimator, X, y, sample_weight=None, plan=None, encoding=None):
    """The :class:`Training` that ``estimator.fit(X, y, sample_weight, plan=plan, encoding=encoding)`` runs: the
    data checked and taken as a weighted set, the plan made, the scalers fitted, each network's start chosen, the
    restarts' seeds drawn; sets ``estimator.n_features_in_`` (and ``feature_names_in_``)."""
    start_time = time.perf_counter()
    params = estimator.get_params(deep=False)
    validate_params(params, PARAMETER_CONSTRAINTS)
    prepare = dask_training_data if is_dask_collection(X) else TrainingData.of
    data = prepare(estimator, X, y, sample_weight, encoding)
    plan = plan or make_plan(params, *data.shape)
    data.check_plan(plan)
    if estimator.verbose >= 2:
        print(plan)
    rng = check_random_state(estimator.random_state)
    scalers = data.scalers(estimator.standardize)
    check_rows = fit_check_rows(data.X, data.Y)
    problem = data.problem(plan, scalers, estimator.activation, rng)
    networks = [_network_to_train(estimator, problem, plan, rng) for _ in range(plan.n_averaged)]
    settings = _solver_settings(plan, estimator.learning_rate_init, estimator.momentum, estimator.verbose)
    seeds = rng.randint(np.iinfo(np.int32).max, size=(plan.n_averaged, estimator.n_restarts))
    jobs = [
        TrainingJob(network_problem, plan.solver, settings, init, estimator.init_scale, seed)
        for (network_problem, network_start), network_seeds in zip(networks, seeds)
        for init, seed in zip(_restart_inits(plan, network_start, len(network_seeds)), network_seeds)
    ]
    problems = [network_problem for network_problem, _ in networks]
    variance_head = estimator.loss == "gaussian_nll"
    return Training(
        plan,
        problems,
        jobs,
        settings,
        scalers,
        data.y_ndim,
        data.transforms,
        data.encoding,
        variance_head,
        data.x_range,
        *check_rows,
        start_time,
    )


def finish_training(estimator, training, results):
    """``estimator`` as ``fit`` leaves it, from its ``training``'s job ``results``: ``fitted_`` set, and a run
    that did not converge (``ConvergenceWarning``) or a fit that failed (``FitWarning``) warned of. For fits whose
    jobs ran elsewhere, such as an ensemble's members batched together."""
    estimator.fitted_ = training.finished(results)
    plan = training.plan
    if estimator.fitted_.stop_reason in ("max_iter", "diverged"):
        warnings.warn(
            f"NeuralRegressor (solver={plan.solver}, max_iter={plan.max_iter}): "
            f"{STOP_MESSAGES[estimator.fitted_.stop_reason]}",
            ConvergenceWarning,
            stacklevel=3,
        )
    warn_if_fit_failed(estimator, training.X, training.Y, stacklevel=4)
    return estimator


def _restart_inits(plan, start, n_restarts):
    """Where each restart of a network starts: the first from its start when it has one, the others from the
    plan's ``init``."""
    return [plan.init if start is None or i else start for i in range(n_restarts)]


def _network_to_train(estimator, problem, plan, rng):
    """The training problem and start of one network (see ``n_averaged``): its own selection of
    hinges where the selection sets the width (``mlpfit._plan.AUTO_MAX_HINGES``), else the plan's
    architecture and no start (its runs start from ``init``)."""
    if not plan.selects_width:
        return problem, None
    selection_rng = np.random.default_rng(rng.randint(np.iinfo(np.int32).max))
    X, Y, sample_weight = problem.start_rows()
    arch, start = selected_hinge_network(
        X,
        Y,
        AUTO_MAX_HINGES,
        estimator.activation,
        selection_rng,
        estimator.init_scale,
        AUTO_MIN_UNITS,
        AUTO_UNITS_ONE_INPUT,
        sample_weight,
    )
    return replace(problem, arch=arch), start


class NeuralRegressor(RegressorMixin, BaseEstimator):
    """Multi-layer perceptron regressor that standardises and initialises for you.

    Parameters
    ----------
    hidden_layer_sizes : "auto", int or tuple of int, default="auto"
        Units in each hidden layer. ``"auto"``: one layer. With one input, hinge units and
        ``init="auto"``, as many units as the forward selection of hinges keeps, 5 to 50: a gentle
        curve gets a few, a curve with local detail many, and a smooth curve 30, the units beyond
        the selected ones free for the solver. With one input otherwise, and for
        ``loss="gaussian_nll"``, 30 units; with several inputs 10 up to 1,000 rows, then
        ``10 * sqrt(rows / 1000)`` while LM can still train it. The width is each network's
        (see ``n_averaged``). Every ``"auto"`` is decided by the fit plan (:func:`mlpfit.make_plan`,
        kept as ``plan_``); the measurements behind it are in ``benchmarks/README.md``.
    activation : {"relu", "leaky_relu", "tanh", "logistic", "softplus", "identity"}, default="relu"
        Hidden-layer activation; the output layer is linear.
    solver : {"auto", "lm", "lbfgs", "adam", "sgd"}, default="auto"
        ``"lm"`` is Levenberg-Marquardt (see ``mlpfit.solvers.lm``). ``"auto"`` picks LM while
        the network and ``n * P**2`` are small enough; beyond it L-BFGS (full batches, where
        Bayesian regularisation or the row count allows), else Adam for large data
        (``verbose=2`` prints the plan).
    alpha : "auto", float or "bayes", default="auto"
        L2 penalty on the weights (not biases), applied on the standardised scale.
        ``"bayes"``: Bayesian regularisation (MacKay; Foresee & Hagan) learns the penalty
        from the training data, with no validation split, re-estimating it from the Gauss-Newton
        Hessian ``J^T J`` at every LM step, or between rounds of L-BFGS for networks too large
        for LM (see ``mlpfit.solvers.lbfgs``); it needs ``solver`` "lm", "lbfgs" or "auto".
        ``"auto"``: ``"bayes"`` with several inputs wherever ``J^T J`` is affordable, else 1e-4
        (scikit-learn's); with one input 1e-4, where Bayesian regularisation did not pay.
        ``alpha_`` holds the penalty the fit used.
    loss : {"squared_error", "gaussian_nll"}, default="squared_error"
        ``"gaussian_nll"`` doubles the output layer so the network predicts a mean and a
        variance per target: the means are fitted as for squared error (every solver and
        ``alpha`` apply), then a variance head on the last hidden layer by the Gaussian
        negative log-likelihood of the residuals (see ``mlpfit._nll``).
        ``predict(X, return_std=True)`` then returns the noise level; ``loss_``, ``loss_curve_``
        and ``summary_`` describe the means' fit.
    standardize : bool, default=True
        Centre and scale each column of X and y before training; predictions are mapped back.
    target_transform : {None, "log", "log1p"}, default=None
        Fit the network to ``log(y)`` (``"log"``, needs y > 0) or ``log(1 + y)`` (``"log1p"``, needs
        y > -1), before standardisation, and predict ``exp`` (``expm1``) of its output: a positive quantity
        is then never predicted negative (``"log"``: never zero either), even far outside the data. The
        prediction is the inverse transform of the mean on the log scale, a median-type prediction below
        the mean of y when the noise is multiplicative; no bias correction is applied. The loss, ``alpha``
        and the diagnosis work on the transformed scale. With ``loss="gaussian_nll"``,
        ``predict(return_std=True)`` is refused (the noise is Gaussian in log y); ``piecewise_linear`` is
        refused too. See :mod:`mlpfit._transforms`.
    input_transform : None, "log", "log1p" or list, default=None
        Transform input columns the same way before standardisation: one name for every column, or a
        list with one entry per column of X, each None (unchanged) or a name. Rows outside a
        transform's domain raise ValueError in ``fit`` and ``predict``, naming column and row.
    init : {"auto", "breakpoints", "he", "glorot", "normal"}, default="auto"
        ``"breakpoints"`` places ReLU-family breakpoints at random points inside the data;
        ``"auto"`` does too, except that for one input and one hidden layer it chooses them by
        forward selection of hinges, as MARS does (see ``mlpfit._init``).
    init_scale : float or None, default=None
        Standard deviation for ``init="normal"`` (None: 0.01); a multiplier of the standard scale otherwise.
    max_iter : int or "auto", default="auto"
        Iterations (LM, L-BFGS) or epochs (Adam, SGD). ``"auto"``: 5000 for L-BFGS, whose
        iterations are cheap and whose Bayesian rounds need many to settle, 1000 for the others
        (``mlpfit._plan.LBFGS_MAX_ITER``, ``DEFAULT_MAX_ITER``).
    tol : float or "auto", default="auto"
        Loss improvement below which training is considered converged (for LM: the relative
        decrease of the objective in one accepted step). ``"auto"``: 1e-5 for LM
        (``mlpfit._plan.LM_TOL``), 1e-9 for the other solvers.
    n_iter_no_change : int or "auto", default="auto"
        Epochs (or iterations under early stopping) without ``tol`` improvement before stopping.
        ``"auto"``: 6 validation failures for LM (MATLAB's max_fail, since an LM step moves
        much further than an epoch), 10 for the other solvers.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and keep the weights with the best validation loss.
    validation_fraction : float, default=0.1
    learning_rate_init : float, default=1e-3
        Step size of Adam and SGD.
    momentum : float, default=0.9
        SGD momentum; 0 with a full batch is plain gradient descent.
    batch_size : "auto" or int, default="auto"
        Minibatch rows for Adam and SGD; ``"auto"`` is the full batch up to 1024 rows, else 200.
    n_restarts : int, default=1
        Independent initialisations of each network averaged; the best run is kept.
    n_averaged : "auto" or int, default="auto"
        Networks trained independently, each from its own start (with one input, its own selection
        of hinges) on all the training rows, whose mean is the model. Their hidden units sit side by
        side in one network (deeper layers block-diagonally) whose output layer averages theirs, so
        ``coefs_``, ``predict``, model files and diagnostics see one network. Averaging cuts the
        variance a single fit owes to its start, where restarts only pick one. ``"auto"``: where
        the fits are cheap (LM or Bayesian L-BFGS on small data) 2, and with several inputs up to 5
        while their cost together stays small; else 1 (see ``mlpfit._plan.AUTO_AVERAGED``).
    n_jobs : int or None, default=None
        Parallel restarts and averaged networks through joblib (any joblib backend, Dask included).
    random_state : None, int or RandomState, default=None
    verbose : bool or int, default=False
        0 (False): silent. 1 (True): a progress bar (tqdm, the ``progress`` extra) on stderr
        when it is a terminal and the fit runs longer than 2 s. 2: print the loss every iteration (with
        Bayesian regularisation also its data term and the penalty ``alpha`` in force).

    Attributes
    ----------
    fitted_ : FittedState
        Everything the fit learned, in one object that model files store field by field: the
        network and its scalers (``fitted_.network``), the plan, one :class:`TrainingRun` per
        network trained (``fitted_.runs``: its loss curve split into data term and penalty, iterations,
        stop reason, restarts and evidence), the model's loss and penalty. The attributes below are views of it.
    coefs_ : list of ndarray
        Weight matrices, ``coefs_[i]`` of shape (fan_in, fan_out), acting on standardised data.
    intercepts_ : list of ndarray
    x_scaler_, y_scaler_ : Scaler
        The standardisation of inputs and targets (identity when ``standardize=False``).
    loss_ : float
        The model's training objective on the standardised scale. With several networks averaged it
        is their mean's, which no solver ran: each network's own is in ``fitted_.runs``.
    loss_curve_ : list of float
        Training objective per iteration or epoch of the first network's kept run
        (every network's: ``fitted_.runs[i].loss_curve``).
    validation_loss_curve_ : list of float or None
        The first network's validation loss per iteration under early stopping.
    data_loss_curve_ : list of float
        The data term of ``loss_curve_`` (its penalty taken off): half the mean squared training error
        summed over outputs, standardised. With Bayesian regularisation the objective rises wherever the
        penalty is re-estimated upwards; this curve shows the fit. Each network's, with the penalty in
        force and the re-estimations: ``fitted_.runs[i]`` (``data_curve``, ``alpha_curve``, ``reestimations``).
    n_iter_ : int
        Iterations (or epochs) of the longest of the networks' kept runs.
    n_averaged_ : int
        Networks averaged: ``n_averaged`` with ``"auto"`` resolved.
    n_features_in_ : int
    n_outputs_ : int
    summary_ : FitSummary
        How the fit went, in words and numbers (``print(model.summary_)``).
    plan_ : FitPlan
        What the fit did, every ``"auto"`` resolved with its reason (:func:`mlpfit.make_plan`);
        ``print(model.plan_)`` shows it.
    alpha_ : float
        The penalty the fit used: ``alpha`` itself, ``AUTO_ALPHA``, or with Bayesian
        regularisation the learned ``weight_precision_ / noise_precision_`` (refitting one network
        with ``alpha=alpha_`` gives the same objective). With several networks averaged, the three
        Bayesian attributes are their means; the mean ``effective_params_`` is the trace of the
        average's linearised hat matrix.
    weight_precision_ : float
        Only with Bayesian regularisation: MacKay's ``alpha``, the prior precision of the weights.
    noise_precision_ : float
        Only with Bayesian regularisation: MacKay's ``beta``, the inverse noise variance of the
        standardised targets (noise sd in y's units: ``y_scaler_.scale / sqrt(noise_precision_)``).
        Named in words because scikit-learn's BayesianRidge calls the noise precision ``alpha_``.
    effective_params_ : float
        Only with Bayesian regularisation: ``gamma``, the number of parameters the data determine.
    """

    _parameter_constraints = PARAMETER_CONSTRAINTS

    def __init__(
        self,
        hidden_layer_sizes="auto",
        activation="relu",
        *,
        solver="auto",
        alpha="auto",
        loss="squared_error",
        standardize=True,
        target_transform=None,
        input_transform=None,
        init="auto",
        init_scale=None,
        max_iter="auto",
        tol="auto",
        n_iter_no_change="auto",
        early_stopping=False,
        validation_fraction=0.1,
        learning_rate_init=1e-3,
        momentum=0.9,
        batch_size="auto",
        n_restarts=1,
        n_averaged="auto",
        n_jobs=None,
        random_state=None,
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.loss = loss
        self.standardize = standardize
        self.target_transform = target_transform
        self.input_transform = input_transform
        self.init = init
        self.init_scale = init_scale
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.batch_size = batch_size
        self.n_restarts = n_restarts
        self.n_averaged = n_averaged
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    # --- fitting -------------------------------------------------------------------

    def fit(self, X, y, sample_weight=None, *, plan=None, encoding=None):
        """Fit the network to ``X`` (n_samples, n_features) and ``y`` (n_samples,) or (n_samples, n_outputs).

        A column of ``X`` may hold numbers, dates (``datetime64``, ``datetime`` objects, ISO text; a DataFrame's
        datetime columns, tz-aware ones converted to UTC) or text (a categorical input; a DataFrame's ``category``,
        string or object columns): dates are fitted as days since midnight of the earliest date, text as one
        indicator input per category seen, and ``predict`` takes them the same way, refusing a category the fit
        did not see (see :mod:`mlpfit._columns`). A missing value is refused in every kind of column.

        ``sample_weight`` (n_samples,), optional: non-negative weights, ``w_i`` multiplying row ``i``'s
        squared error. They are frequencies: integer weights fit as the rows repeated that many times,
        a zero weight drops the row, and scaling all weights by ``c`` acts as repeating every row ``c``
        times (the penalty ``alpha`` weighs ``1/c`` as much; Bayesian regularisation counts ``c`` times the
        rows). For known noise standard deviations use ``w = 1 / sigma**2`` (curve_fit's ``sigma``,
        lmfit's ``weights**2``) scaled to mean 1, ``w / w.mean()``, which keeps the penalty and the
        evidence's row count as without weights. Every solver and loss weighs them; what does and does
        not is listed in ``mlpfit._weights``.

        ``plan``: a :class:`~mlpfit.FitPlan` to execute instead of the one :func:`~mlpfit.make_plan`
        makes from the parameters (an ensemble passes its members' plans this way). Its row counts are
        those of the distinct rows of positive weight, whatever their weights (``mlpfit._weights.weighted_set``).
        ``encoding``: the :class:`~mlpfit._columns.InputEncoding` of ``X``'s dates and text to use instead of
        learning one (an ensemble learns one from all its rows, for every member).

        ``X`` may be a Dask array or DataFrame of numbers (``y`` and ``sample_weight`` Dask collections or arrays):
        the rows then stay on the workers, which sum the solver's normal equations or loss and gradient block by
        block, so only ``P x P`` matrices and ``P``-vectors travel; ``solver`` "lm" or "lbfgs". The rows are taken
        as given rather than as a weighted set; what else differs is in :mod:`mlpfit._dask_data`. A client whose
        memory should not follow the rows is created with Dask's ``distributed.admin.low-level-log-length`` set to
        0: by default it keeps its last 1,000 messages, the passes' graphs among them.
        """
        training = start_training(self, X, y, sample_weight, plan, encoding)
        with progress(self.verbose, training.plan.max_iter * len(training.jobs)) as training.settings.on_iteration:
            runs = run_all(training.jobs, self.n_jobs)
        return finish_training(self, training, runs)

    # --- the fit, as attributes: views of fitted_ (see the class docstring) ------------

    coefs_ = property(lambda self: self.fitted_.network.layers()[0])
    intercepts_ = property(lambda self: self.fitted_.network.layers()[1])
    x_scaler_ = property(attrgetter("fitted_.network.x_scaler"))
    y_scaler_ = property(attrgetter("fitted_.network.y_scaler"))
    n_outputs_ = property(attrgetter("fitted_.network.n_targets"))
    plan_ = property(attrgetter("fitted_.plan"))
    summary_ = property(attrgetter("fitted_.summary"))
    loss_ = property(attrgetter("fitted_.loss"))
    alpha_ = property(attrgetter("fitted_.alpha"))
    n_iter_ = property(attrgetter("fitted_.summary.n_iter"))
    n_averaged_ = property(lambda self: len(self.fitted_.runs))
    loss_curve_ = property(lambda self: self.fitted_.runs[0].loss_curve)
    validation_loss_curve_ = property(lambda self: self.fitted_.runs[0].validation_curve)
    data_loss_curve_ = property(lambda self: self.fitted_.runs[0].data_curve)
    weight_precision_ = property(lambda self: self._evidence("weight_precision_").weight_precision)
    noise_precision_ = property(lambda self: self._evidence("noise_precision_").noise_precision)
    effective_params_ = property(lambda self: self._evidence("effective_params_").effective_params)

    @property
    def architecture_(self):
        """The fitted network's :class:`~mlpfit._network.Architecture`."""
        check_is_fitted(self)
        return self.fitted_.network.arch

    @property
    def theta_(self):
        """The fitted parameters as one packed vector."""
        check_is_fitted(self)
        return self.fitted_.network.theta

    def _evidence(self, name):
        evidence = self.fitted_.evidence
        if evidence is None:
            raise AttributeError(
                f"{name} is learned only with Bayesian regularisation; this fit used alpha={self.alpha_:g}."
            )
        return evidence

    # --- using the fit ----------------------------------------------------------------

    def piecewise_linear(self):
        """The exact piecewise-linear form of a ReLU-family network with one input, in the user's units.

        Returns a :class:`~mlpfit.piecewise.PiecewiseLinear`: ``.breakpoints`` (sorted x where the
        slope changes), ``.slopes`` and ``.intercepts`` per segment; calling it equals ``predict``.
        See :func:`mlpfit.piecewise_linear`; raises ValueError for other activations or several inputs.
        """
        return piecewise_linear(self)

    def predict(self, X, return_std=False):
        """Predictions of shape (n_samples,) for 1-D ``y`` in ``fit``, else (n_samples, n_outputs).

        With ``return_std=True`` (only for ``loss="gaussian_nll"``) also the predicted
        noise standard deviation in the target's units, of the same shape. On a Dask array or DataFrame the
        predictions are a Dask array, computed block by block only when asked for.
        """
        check_is_fitted(self)
        network = self.fitted_.network
        if return_std and not network.variance_head:
            raise ValueError(
                "predict(return_std=True) needs a model fitted with loss='gaussian_nll'; this one was fitted "
                "with loss='squared_error'."
            )
        if return_std and not network.has_std:
            raise ValueError(
                f"predict(return_std=True) is not available with target_transform={self.target_transform!r}: "
                "the noise is Gaussian on the transformed scale, so no one standard deviation describes it in y's "
                "units. Predict the median alone, or use an EnsembleRegressor's predict_interval."
            )
        if is_dask_collection(X):
            return dask_predict(self, network, X, return_std)
        X = validated_inputs(self, X, network.x_encoding)
        if not network.variance_head:
            return network.as_target(network.predict(X))
        mean, std = network.predict(X)
        return (network.as_target(mean), network.as_target(std)) if return_std else network.as_target(mean)

    def in_range(self, X):
        """Boolean (n_samples,): True where every input of a row of ``X`` lies within the range of the
        training rows (validation rows included), False where the prediction extrapolates. On a Dask array or
        DataFrame a Dask array, lazily, as :meth:`predict` gives."""
        check_is_fitted(self)
        network = self.fitted_.network
        if is_dask_collection(X):
            return dask_in_range(self, network, X, self.fitted_.x_range)
        return within(network.encoded(validated_inputs(self, X, network.x_encoding)), self.fitted_.x_range)
