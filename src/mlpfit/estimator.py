"""NeuralRegressor: a scikit-learn estimator that fits curves from raw data.

The estimator is a thin shell: it validates parameters and data, standardises,
builds the network's :class:`~mlpfit._network.Architecture`, initialises, calls a
solver from :data:`mlpfit.solvers.SOLVERS` (once per restart of every network it
averages, through joblib), keeps each network's best run, and merges them into one
network with a readable summary.
"""

import time
import warnings
from dataclasses import dataclass, replace
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _network, _nll
from ._activations import ACTIVATIONS
from ._cells import validate_data
from ._selection import INIT_METHODS, initialize, selected_hinge_network
from ._memory import check_memory
from ._params import Boolean, Constant, Interval, LayerSizes, Options, Seed, validate_params
from ._plan import AUTO_MAX_HINGES, AUTO_MIN_UNITS, AUTO_UNITS_ONE_INPUT, LM_MAX_WORK, make_plan, normal_equations_work
from ._progress import progress
from ._scaling import Scaler
from .diagnose import warn_if_fit_failed
from .piecewise import piecewise_linear
from .solvers import SOLVERS, STOP_MESSAGES, SolverSettings, TrainingProblem
from .solvers._evidence import Evidence, evidence_at


@dataclass
class FitSummary:
    """How a fit went, in words and numbers.

    Attributes
    ----------
    success : bool
        The solver met a convergence test (or early stopping) rather than running out of iterations or diverging.
    message : str
        The stop reason as a sentence.
    stop_reason : str
        One of the keys of :data:`mlpfit.solvers.STOP_MESSAGES`.
    solver : str
        The solver that ran (``"auto"`` resolved).
    n_iter : int
        Iterations (full-batch solvers) or epochs (minibatch solvers) of the kept run (of the first
        network averaged).
    loss : float
        Final training objective of the fitted network, on standardised data.
    restart_losses : list of float
        The final objective of every restart of every network averaged, network by network; each
        network keeps its run with the lowest (the lowest validation loss under early stopping).
    fit_time : float
        Seconds spent in ``fit``.
    n_averaged : int
        Networks averaged (see ``NeuralRegressor``'s ``n_averaged``).
    plan : str
        The fit plan in one line (``FitPlan.brief``; the whole plan is ``plan_``).
    """

    success: bool
    message: str
    stop_reason: str
    solver: str
    n_iter: int
    loss: float
    restart_losses: list
    fit_time: float
    n_averaged: int = 1
    plan: str = ""

    @property
    def n_restarts(self):
        """Restarts per network averaged."""
        return len(self.restart_losses) // self.n_averaged

    def __str__(self):
        averaged = f", networks averaged={self.n_averaged}" if self.n_averaged > 1 else ""
        return (
            f"{self.message} solver={self.solver}, iterations={self.n_iter}, loss={self.loss:.6g}, "
            f"restarts={self.n_restarts}{averaged}, time={self.fit_time:.3g}s"
            + (f"; plan: {self.plan}" if self.plan else "")
        )


def _run_score(run, validated):
    """Lower is better: the best validation loss under early stopping, else the final objective; NaN loses."""
    score = min(run.validation_curve, default=np.inf) if validated else run.loss
    return score if np.isfinite(score) else np.inf


def _train_once(problem, solver, settings, init, init_scale, seed):
    """One initialisation (``init`` a method, or the start itself) and one solver run; picklable for joblib."""
    rng = np.random.default_rng(seed)
    if isinstance(init, np.ndarray):
        theta0 = init.copy()
    else:
        theta0 = initialize(problem.arch, problem.X, problem.Y, init, rng, init_scale)
    return SOLVERS[solver](problem, theta0, settings, rng)


def _averaged(problems, runs):
    """The training problem and run of the mean of the runs' networks (see ``n_averaged``): one network
    with their units side by side, its objective, and the members' mean evidence; the loss curves and
    iteration count stay the first network's, and the stop reason is the first that did not converge."""
    if len(runs) == 1:
        return problems[0], runs[0]
    arch, theta = _network.average([problem.arch for problem in problems], [run.theta for run in runs])
    problem = replace(problems[0], arch=arch)
    evidence = None if runs[0].evidence is None else Evidence.mean([run.evidence for run in runs])
    penalty = problem.alpha if evidence is None else evidence.penalty
    loss = _network.loss_and_grad(arch, theta, problem.X, problem.Y, penalty)[0]
    stop_reason = next((run.stop_reason for run in runs if not run.converged), runs[0].stop_reason)
    return problem, replace(runs[0], theta=theta, loss=float(loss), stop_reason=stop_reason, evidence=evidence)


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
        decrease of the objective in one accepted step). ``"auto"``: 1e-5 for LM (see
        ``mlpfit._plan.LM_TOL``: the errors of 1e-9 for under half of the time),
        1e-9 for the other solvers.
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
        Independent initialisations of each network averaged; the best run is kept. Measured
        (``benchmarks/accuracy.py``, 9 data sets, 20 seeds): 3 restarts multiplied the median error
        by 0.95-1.05 (median 1.01) for 2.2-3.3 times the fit time, so the default stays 1 (the
        origin problem is fitted within 0.40 in 100 of 100 seeds without restarts).
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
        when it is a terminal and the fit runs longer than 2 s. 2: print the loss every iteration.

    Attributes
    ----------
    coefs_ : list of ndarray
        Weight matrices, ``coefs_[i]`` of shape (fan_in, fan_out), acting on standardised data.
    intercepts_ : list of ndarray
    x_scaler_, y_scaler_ : Scaler
        The standardisation of inputs and targets (identity when ``standardize=False``).
    loss_ : float
        Final training objective on the standardised scale.
    loss_curve_ : list of float
        Training objective per iteration or epoch of the kept run (with several networks averaged,
        of the first one's; ``n_iter_`` and ``validation_loss_curve_`` too).
    validation_loss_curve_ : list of float or None
        Validation loss per iteration under early stopping.
    n_iter_ : int
    n_averaged_ : int
        Networks averaged: ``n_averaged`` with ``"auto"`` resolved.
    n_features_in_ : int
    n_outputs_ : int
    summary_ : FitSummary
    plan_ : FitPlan
        What the fit did, every ``"auto"`` resolved with its reason (:func:`mlpfit.make_plan`);
        ``print(model.plan_)`` shows it. None for a model loaded from a file saved before plans.
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

    _parameter_constraints = {
        "hidden_layer_sizes": [Options("auto"), LayerSizes()],
        "activation": [Options(*ACTIVATIONS)],
        "solver": [Options("auto", *SOLVERS)],
        "alpha": [Interval(Real, 0, None), Options("auto", "bayes")],
        "loss": [Options(*_nll.OUTPUTS_PER_TARGET)],
        "standardize": [Boolean()],
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

    def __init__(
        self,
        hidden_layer_sizes="auto",
        activation="relu",
        *,
        solver="auto",
        alpha="auto",
        loss="squared_error",
        standardize=True,
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

    def fit(self, X, y, *, plan=None):
        """Fit the network to ``X`` (n_samples, n_features) and ``y`` (n_samples,) or (n_samples, n_outputs).

        ``plan``: a :class:`~mlpfit.FitPlan` to execute instead of the one :func:`~mlpfit.make_plan`
        makes from the parameters (an ensemble passes its members' plans this way).
        """
        start = time.perf_counter()
        validate_params(self.get_params(deep=False), self._parameter_constraints)
        X, Y = self._validate_training_data(X, y)
        self.plan_ = plan or make_plan(self.get_params(deep=False), *X.shape, Y.shape[1])
        layer_sizes = (X.shape[1], *self.plan_.hidden_layer_sizes, Y.shape[1])
        check_memory(self.plan_.solver, self.plan_.n_training_rows, layer_sizes)
        if self.verbose >= 2:
            print(self.plan_)
        rng = check_random_state(self.random_state)
        problem, first_start = self._training_problem(X, Y, rng)
        self.n_averaged_ = self.plan_.n_averaged
        networks = [(problem, first_start)]
        networks += [self._another_network(problem, rng) for _ in range(self.n_averaged_ - 1)]
        settings = self._solver_settings()
        seeds = rng.randint(np.iinfo(np.int32).max, size=(self.n_averaged_, self.n_restarts))
        with progress(self.verbose, self.plan_.max_iter * seeds.size) as settings.on_iteration:
            runs = self._run_restarts(networks, settings, seeds)
        problems = [network_problem for network_problem, _ in networks]
        kept = [min(network_runs, key=lambda run: _run_score(run, problem.has_validation)) for network_runs in runs]
        averaged, best = _averaged(problems, kept)
        arch, theta = averaged.arch, best.theta
        if self.loss == "gaussian_nll":
            effective = np.mean([self._effective_parameters(*pair) for pair in zip(problems, kept)])
            arch, theta = self._with_variance_head(averaged, best, effective)
        every_run = [run for network_runs in runs for run in network_runs]
        self._store_result(arch, theta, best, every_run, time.perf_counter() - start)
        self._store_evidence(best.evidence)
        warn_if_fit_failed(self, X, Y)
        return self

    def _validate_training_data(self, X, y):
        if y is None:
            raise ValueError("NeuralRegressor requires y to be passed, but the target y is None.")
        try:
            y = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"y must be numeric: {error}") from None
        X, y = validate_data(
            self, X, y, multi_output=True, y_numeric=True, dtype=np.float64, ensure_min_samples=2
        )
        self._y_ndim = y.ndim
        Y = y.reshape(len(y), -1)
        self.n_outputs_ = Y.shape[1]
        return X, Y

    def _training_problem(self, X, Y, rng):
        """Standardise, split off validation rows when the plan says so, and package the objective
        (at the plan's starting penalty, which Bayesian regularisation then re-estimates); also the first
        network's start where the selection of hinges chose its width (else None)."""
        plan = self.plan_
        if self.standardize:
            self.x_scaler_, self.y_scaler_ = Scaler.fit(X), Scaler.fit(Y)
        else:
            self.x_scaler_, self.y_scaler_ = Scaler.identity(X.shape[1]), Scaler.identity(Y.shape[1])
        Xs, Ys = self.x_scaler_.transform(X), self.y_scaler_.transform(Y)
        validation = {}
        if plan.early_stopping:
            Xs, X_val, Ys, Y_val = train_test_split(Xs, Ys, train_size=plan.n_training_rows, random_state=rng)
            validation = dict(X_val=X_val, Y_val=Y_val)
        alpha = plan.bayes_start_alpha
        if plan.selects_width:
            arch, start = self._selected_network(Xs, Ys, rng)
        else:
            sizes = (X.shape[1], *plan.hidden_layer_sizes, Y.shape[1])
            arch, start = _network.Architecture(sizes, self.activation), None
        return TrainingProblem(arch, Xs, Ys, alpha=alpha, **validation), start

    def _selected_network(self, X, Y, rng):
        """The architecture and start the forward selection of hinges gives (see ``mlpfit._plan.AUTO_MAX_HINGES``)."""
        selection_rng = np.random.default_rng(rng.randint(np.iinfo(np.int32).max))
        return selected_hinge_network(
            X, Y, AUTO_MAX_HINGES, self.activation, selection_rng, self.init_scale, AUTO_MIN_UNITS,
            AUTO_UNITS_ONE_INPUT,
        )

    def _another_network(self, problem, rng):
        """The training problem and start of one more network to average (see ``n_averaged``): its own
        selection of hinges where the selection sets the width, else the same architecture and ``init``."""
        if not self.plan_.selects_width:
            return problem, None
        arch, start = self._selected_network(problem.X, problem.Y, rng)
        return replace(problem, arch=arch), start

    def _solver_settings(self):
        plan = self.plan_
        return SolverSettings(
            max_iter=plan.max_iter,
            tol=plan.tol,
            n_iter_no_change=plan.n_iter_no_change,
            learning_rate_init=self.learning_rate_init,
            momentum=self.momentum,
            batch_size=plan.batch_size,
            verbose=self.verbose >= 2,
            bayes_start=plan.bayes_start,
        )

    def _run_restarts(self, networks, settings, seeds):
        """For each network (its problem and start), one run per seed in its row of ``seeds``:
        the first from its start when it has one, the others from the plan's ``init``. Runs grouped by network."""
        solver, jobs = self.plan_.solver, []
        for (problem, start), network_seeds in zip(networks, seeds):
            inits = [self.plan_.init if start is None or i else start for i in range(len(network_seeds))]
            jobs += [(problem, init, seed) for init, seed in zip(inits, network_seeds)]
        if len(jobs) == 1:
            problem, init, seed = jobs[0]
            runs = [_train_once(problem, solver, settings, init, self.init_scale, seed)]
        else:
            train = delayed(_train_once)
            runs = Parallel(n_jobs=self.n_jobs)(
                train(problem, solver, settings, init, self.init_scale, seed) for problem, init, seed in jobs
            )
        per_network = seeds.shape[1]
        return [runs[i : i + per_network] for i in range(0, len(runs), per_network)]

    def _with_variance_head(self, problem, run, effective):
        """The fitted means' network with a variance head fitted to their training residuals (see ``mlpfit._nll``);
        ``effective`` is the means' effective number of parameters."""
        activations, _ = _network.forward(problem.arch, run.theta, problem.X)
        squared_residuals = (problem.Y - activations[-1]) ** 2
        n_residuals = problem.Y.size
        squared_residuals *= n_residuals / max(n_residuals - effective, 1.0)
        head = _nll.fit_variance_head(activations[-2], squared_residuals)
        return _nll.with_variance_head(problem.arch, run.theta, *head)

    def _effective_parameters(self, problem, run):
        """The means' effective number of parameters: learned by Bayesian regularisation, else the
        evidence's at the fitted weights (``mlpfit.solvers._evidence.evidence_at``) while ``J^T J`` is
        affordable (``mlpfit._plan.LM_MAX_WORK``), else 0, which on data that large changes little.

        Measured (sin(x) + 0.3 noise, 5 seeds; mean predicted noise variance over the true one):
        the hat-matrix trace at the fixed penalty counted loosely determined weights in full and
        overshot with many weights per row (1.37 with 61 weights on 60 rows, 1.14 with 91 on 200);
        the evidence's gamma gave 1.11 and 1.08, and 0.97-1.02 where rows far outnumber weights.
        """
        if run.evidence is not None:
            return run.evidence.effective_params
        arch = problem.arch
        if normal_equations_work(problem.Y.size, arch.n_params) > LM_MAX_WORK or not np.all(np.isfinite(run.theta)):
            return 0.0
        jtj, _, sse = _network.normal_equations(arch, run.theta, problem.X, problem.Y)
        return evidence_at(jtj, sse, run.theta, arch.weight_mask, problem.alpha, problem.Y.size).effective_params

    def _store_result(self, arch, theta, run, runs, fit_time):
        if not np.all(np.isfinite(theta)):
            raise ValueError(
                "Training produced non-finite weights; lower learning_rate_init or keep standardize=True."
            )
        self.coefs_, self.intercepts_ = (list(part) for part in arch.unpack(theta.copy()))
        self.loss_ = run.loss
        self.loss_curve_ = run.loss_curve
        self.validation_loss_curve_ = run.validation_curve or None
        self.n_iter_ = max(run.n_iter, 1)
        self.summary_ = FitSummary(
            success=run.converged,
            message=STOP_MESSAGES[run.stop_reason],
            stop_reason=run.stop_reason,
            solver=self.plan_.solver,
            n_iter=self.n_iter_,
            loss=run.loss,
            restart_losses=[r.loss for r in runs],
            fit_time=fit_time,
            n_averaged=self.n_averaged_,
            plan=self.plan_.brief(),
        )
        if run.stop_reason in ("max_iter", "diverged"):
            warnings.warn(
                f"NeuralRegressor (solver={self.plan_.solver}, max_iter={self.plan_.max_iter}): {self.summary_.message}",
                ConvergenceWarning, stacklevel=3,
            )

    def _store_evidence(self, evidence):
        """``alpha_``, and with Bayesian regularisation the precisions and ``effective_params_``."""
        names = ("weight_precision_", "noise_precision_", "effective_params_")
        if evidence is None:
            self.alpha_ = float(self.plan_.alpha)
            for name in names:
                self.__dict__.pop(name, None)  # a refit with a fixed alpha learns none of them
            return
        self.alpha_ = float(evidence.penalty)
        for name, value in zip(names, (evidence.weight_precision, evidence.noise_precision, evidence.effective_params)):
            setattr(self, name, float(value))

    # --- using the fit ----------------------------------------------------------------

    @property
    def architecture_(self):
        """The fitted network's :class:`~mlpfit._network.Architecture`."""
        check_is_fitted(self)
        sizes = (self.coefs_[0].shape[0], *(W.shape[1] for W in self.coefs_))
        return _network.Architecture(sizes, self.activation)

    @property
    def theta_(self):
        """The fitted parameters as one packed vector."""
        return self.architecture_.pack(self.coefs_, self.intercepts_)

    def breakpoints(self):
        """The exact piecewise-linear form of a ReLU-family network with one input, in the user's units.

        Returns a :class:`~mlpfit.piecewise.PiecewiseLinear`: ``.breakpoints`` (sorted x where the
        slope changes), ``.slopes`` and ``.intercepts`` per segment; calling it equals ``predict``.
        See :func:`mlpfit.piecewise_linear`; raises ValueError for other activations or several inputs.
        """
        return piecewise_linear(self)

    def predict(self, X, return_std=False):
        """Predictions of shape (n_samples,) for 1-D ``y`` in ``fit``, else (n_samples, n_outputs).

        With ``return_std=True`` (only for ``loss="gaussian_nll"``) also the predicted
        noise standard deviation in the target's units, of the same shape.
        """
        check_is_fitted(self)
        if return_std and not self._predicts_noise():
            raise ValueError(
                "predict(return_std=True) needs a model fitted with loss='gaussian_nll'; this one was fitted "
                "with loss='squared_error'."
            )
        X = validate_data(self, X, reset=False, dtype=np.float64)
        outputs = _network.predict(self.architecture_, self.theta_, self.x_scaler_.transform(X))
        mean, variance = _nll.mean_and_variance(outputs) if self._predicts_noise() else (outputs, None)
        mean = self._target_shape(self.y_scaler_.inverse_transform(mean))
        if not return_std:
            return mean
        return mean, self._target_shape(np.sqrt(variance) * self.y_scaler_.scale)

    def _predicts_noise(self):
        """Whether the fitted network has a variance head: read from the weights, not from ``loss``,
        which ``set_params`` may have changed since the fit."""
        return self.coefs_[-1].shape[1] == 2 * self.n_outputs_

    def _target_shape(self, Y):
        return Y.ravel() if self._y_ndim == 1 else Y
