"""The fit plan: every ``"auto"`` of a NeuralRegressor resolved, with the reason for each choice.

:func:`make_plan` is a pure function of the estimator's parameters and the data's shape
(rows, inputs, outputs), so a plan can be computed, printed and tested without fitting.
``NeuralRegressor.fit`` executes the plan and keeps it as ``plan_``; the ensemble, the
gradient check, the CLI and the model file read it rather than deciding again. The
measurements behind each threshold are in ``benchmarks/README.md``.
"""

import math
from dataclasses import asdict, dataclass, field, fields
from numbers import Integral

from ._activations import ACTIVATIONS
from ._network import normal_equations_work
from ._selection import RESOLVED_INIT_METHODS
from .solvers import SOLVERS

AUTO_UNITS = 10
"""``hidden_layer_sizes="auto"`` with several inputs: the width up to ``AUTO_UNITS_ROWS`` training rows."""
AUTO_UNITS_ROWS = 1000
"""Beyond this many training rows the several-input width grows as the square root of the rows, while LM takes it."""
AUTO_UNITS_ONE_INPUT = 30
"""The one-input width where the selection of hinges does not set it, or finds the curve smooth."""
AUTO_MAX_HINGES = 50
"""The most hinge units the forward selection keeps where it sets the width (one input)."""
AUTO_MIN_UNITS = 5
"""The least width the selection gives; where it keeps fewer hinges the rest start free."""
LM_MAX_PARAMS = 200
"""``solver="auto"`` runs Levenberg-Marquardt only for networks with at most this many parameters..."""
LM_MAX_WORK = 3e10
"""...and while :func:`normal_equations_work` stays below this."""
LBFGS_MAX_ROWS = 20_000
"""Beyond LM's reach and Bayesian L-BFGS's: L-BFGS up to this many training rows, Adam's minibatches above."""
AUTO_ALPHA = 1e-4
"""``alpha="auto"`` wherever the plan does not choose Bayesian regularisation."""
EVIDENCE_MAX_PARAMS = 4000
"""Bayesian regularisation with L-BFGS beyond LM for networks of at most this many parameters..."""
EVIDENCE_MAX_WORK = 5e10
"""...and while :func:`normal_equations_work` stays below this."""
LBFGS_BAYES_START_ALPHA = 1.0
"""The penalty L-BFGS fits with before Bayesian re-estimation starts (LM starts from none)."""
AUTO_AVERAGED = 2
"""``n_averaged="auto"`` where LM or Bayesian L-BFGS is the solver and its work is within ``AVERAGE_MAX_WORK``."""
AVERAGE_MAX_WORK = 1e9
"""Averaging only while :func:`normal_equations_work` stays below this: fits of milliseconds to seconds."""
MAX_AVERAGED = 5
"""With several inputs, up to this many networks averaged while their work together is within ``AVERAGED_WORK``..."""
AVERAGED_WORK = 1e8
"""...this many flops of :func:`normal_equations_work`, summed over the averaged networks."""
LBFGS_MAX_ITER = 5000
"""``max_iter="auto"`` for L-BFGS, whose Bayesian rounds on a wide network need thousands of iterations."""
DEFAULT_MAX_ITER = 1000
"""``max_iter="auto"`` for the other solvers (LM iterations, Adam and SGD epochs)."""
LM_TOL = 1e-5
"""``tol="auto"`` for LM: stop once an accepted step lowers the objective by less than this fraction."""
DEFAULT_TOL = 1e-9
"""``tol="auto"`` for the other solvers."""
LM_MAX_FAIL = 6
"""``n_iter_no_change="auto"`` for LM: MATLAB's max_fail (an LM step moves further than an epoch)."""
DEFAULT_N_ITER_NO_CHANGE = 10
"""``n_iter_no_change="auto"`` for the other solvers."""
FULL_BATCH_MAX_ROWS = 1024
"""``batch_size="auto"``: the full batch up to this many rows, minibatches of ``AUTO_BATCH_SIZE`` above."""
AUTO_BATCH_SIZE = 200
"""``batch_size="auto"`` above ``FULL_BATCH_MAX_ROWS`` rows."""
BAYES_SOLVERS = ("lm", "lbfgs")
"""Solvers that can learn the penalty by Bayesian regularisation (full-batch, with ``J^T J`` at hand)."""
MEMBER_INIT = "breakpoints"
"""``init="auto"`` of an ensemble member: random breakpoints, so that members disagree away from the data."""
MEMBER_AVERAGED = 1
"""``n_averaged="auto"`` of an ensemble member: the ensemble averages its members itself."""


@dataclass(frozen=True)
class FitPlan:
    """What a fit will do, every ``"auto"`` resolved.

    Attributes
    ----------
    hidden_layer_sizes : tuple of int
        Each averaged network's hidden widths; where ``selects_width``, the most units the
        selection may keep.
    selects_width : bool
        The forward selection of hinges sets the width of each network (one input).
    init : {"selection", "breakpoints", "he", "glorot", "normal"}
        How a network starts; ``"selection"`` chooses its hinges by forward selection.
    solver : {"lm", "lbfgs", "adam", "sgd"}
    alpha : float or "bayes"
        The L2 penalty, or Bayesian regularisation (learned while LM runs).
    bayes_start : {"fitted", "settled"} or None
        With Bayesian regularisation, when re-estimating the penalty starts: at the first LM step
        that fits better than the targets' mean, or once the fit at ``bayes_start_alpha`` has settled.
    bayes_start_alpha : float
        The penalty the fit starts from (Bayesian regularisation re-estimates it; else ``alpha``).
    n_averaged : int
        Networks trained from their own starts whose mean is the model.
    max_iter, tol, n_iter_no_change, batch_size : as ``NeuralRegressor``'s, resolved.
    early_stopping : bool
    validation_fraction : float
    n_training_rows : int
        The rows the solver trains on (after any validation split), equal rows merged (``mlpfit._weights``).
    reasons : dict of str -> str
        A sentence per field that ``"auto"`` or another parameter decided.
    """

    hidden_layer_sizes: tuple
    selects_width: bool
    init: str
    solver: str
    alpha: object
    bayes_start: object
    bayes_start_alpha: float
    n_averaged: int
    max_iter: int
    tol: float
    n_iter_no_change: int
    batch_size: int
    early_stopping: bool
    validation_fraction: float
    n_training_rows: int
    reasons: dict = field(default_factory=dict, compare=False)

    def __str__(self):
        lines = ["fit plan:"]
        for name in (f.name for f in fields(self) if f.name != "reasons"):
            value = getattr(self, name)
            reason = self.reasons.get(name)
            lines.append(f"  {name} = {value!r}" + (f"  ({reason})" if reason else ""))
        return "\n".join(lines)

    def brief(self):
        """The plan in one line: what ran, on how many networks, with which penalty."""
        widths = self.hidden_layer_sizes
        width = f"selected widths up to {widths}" if self.selects_width else f"widths {widths}"
        alpha = "Bayesian regularisation" if self.alpha == "bayes" else f"alpha={self.alpha:g}"
        stopping = ", early stopping" if self.early_stopping else ""
        return f"{self.solver}, {alpha}, {self.n_averaged} x {width}, init {self.init}{stopping}"

    def to_dict(self):
        """A JSON-able dict (tuples become lists); :meth:`from_dict` reads it back."""
        return {**asdict(self), "hidden_layer_sizes": list(self.hidden_layer_sizes)}

    @classmethod
    def from_dict(cls, state):
        """The plan of :meth:`to_dict`; raises ValueError on missing, unknown or ill-typed fields."""
        if not isinstance(state, dict) or set(state) != set(_FIELD_TYPES):
            got = sorted(map(str, state)) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"a fit plan needs the fields {sorted(_FIELD_TYPES)}; got {got}.")
        for name, kind in _FIELD_TYPES.items():
            value = state[name]
            if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
                raise ValueError(f"fit plan field {name!r} has the wrong type: {value!r}.")
        sizes = state["hidden_layer_sizes"]
        if not sizes or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes):
            raise ValueError(f"fit plan field 'hidden_layer_sizes' must be positive ints; got {sizes!r}.")
        if (state["alpha"] == "bayes") != (state["bayes_start"] in ("fitted", "settled")):
            raise ValueError(f"fit plan: bayes_start {state['bayes_start']!r} does not fit alpha {state['alpha']!r}.")
        for name, allowed in _FIELD_VALUES.items():
            if not allowed(state[name]):
                raise ValueError(f"fit plan field {name!r} has an impossible value: {state[name]!r}.")
        return cls(**{**state, "hidden_layer_sizes": tuple(sizes), "reasons": dict(state["reasons"])})


_FIELD_TYPES = {
    "hidden_layer_sizes": list,
    "selects_width": bool,
    "init": str,
    "solver": str,
    "alpha": (int, float, str),
    "bayes_start": (str, type(None)),
    "bayes_start_alpha": (int, float),
    "n_averaged": int,
    "max_iter": int,
    "tol": (int, float),
    "n_iter_no_change": int,
    "batch_size": int,
    "early_stopping": bool,
    "validation_fraction": (int, float),
    "n_training_rows": int,
    "reasons": dict,
}
""":meth:`FitPlan.from_dict`'s check of a saved plan's JSON types..."""


def _non_negative(value):
    return math.isfinite(value) and value >= 0


_FIELD_VALUES = {
    "init": lambda v: v in RESOLVED_INIT_METHODS,
    "solver": lambda v: v in SOLVERS,
    "alpha": lambda v: v == "bayes" or (not isinstance(v, str) and _non_negative(v)),
    "bayes_start_alpha": _non_negative,
    "tol": _non_negative,
    "validation_fraction": lambda v: 0 < v < 1,
    **dict.fromkeys(("n_averaged", "max_iter", "n_iter_no_change", "batch_size", "n_training_rows"), lambda v: v >= 1),
}
"""...and of its values."""


def network_params(sizes):
    """Weights and biases of a fully connected network with these layer sizes."""
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))


def make_plan(params, n_samples, n_features, n_outputs, *, ensemble_member=False):
    """The plan a NeuralRegressor with ``params`` (its ``get_params(deep=False)``) follows on data
    of ``n_samples`` rows, ``n_features`` inputs and ``n_outputs`` targets.

    ``ensemble_member``: the network is one of an EnsembleRegressor's members, whose ``init`` and
    ``n_averaged`` resolve differently (``MEMBER_INIT``, ``MEMBER_AVERAGED``).
    """
    reasons = {}
    early_stopping, validation_fraction = params["early_stopping"], params["validation_fraction"]
    n_rows = n_samples - math.ceil(validation_fraction * n_samples) if early_stopping else n_samples
    if early_stopping and (n_rows < 2 or n_samples - n_rows < 1):
        raise ValueError(
            f"early_stopping needs at least 2 training rows and 1 validation row; "
            f"validation_fraction={validation_fraction} of {n_samples} rows leaves too few."
        )
    init = _init(params, n_features, ensemble_member, reasons)
    selects_width = params["hidden_layer_sizes"] == "auto" and init == "selection"
    sizes = _hidden_sizes(params, n_rows, n_features, n_outputs, selects_width, reasons)
    n_params = network_params((n_features, *sizes, n_outputs))
    work = normal_equations_work(n_rows * n_outputs, n_params)
    solver = _solver(params, n_rows, n_features, n_outputs, n_params, work, reasons)
    alpha = _alpha(params, solver, n_features, n_params, work, reasons)
    bayes_start = _bayes_start(alpha, solver, n_features, reasons)
    start_alpha = alpha if alpha != "bayes" else LBFGS_BAYES_START_ALPHA if solver == "lbfgs" else 0.0
    n_averaged = _n_averaged(params, solver, alpha, n_features, work, ensemble_member, reasons)
    tol, n_iter_no_change, max_iter = params["tol"], params["n_iter_no_change"], params["max_iter"]
    if max_iter == "auto":
        max_iter = LBFGS_MAX_ITER if solver == "lbfgs" else DEFAULT_MAX_ITER
        reasons["max_iter"] = f"max_iter='auto' for {solver!r}"
    if tol == "auto":
        tol = LM_TOL if solver == "lm" else DEFAULT_TOL
        reasons["tol"] = f"tol='auto' for {solver!r}"
    if n_iter_no_change == "auto":
        n_iter_no_change = LM_MAX_FAIL if solver == "lm" else DEFAULT_N_ITER_NO_CHANGE
        reasons["n_iter_no_change"] = f"n_iter_no_change='auto' for {solver!r}"
    batch_size = params["batch_size"]
    if batch_size == "auto":
        batch_size = n_rows if n_rows <= FULL_BATCH_MAX_ROWS else AUTO_BATCH_SIZE
        reasons["batch_size"] = (
            f"the full batch: {n_rows} rows <= {FULL_BATCH_MAX_ROWS}"
            if n_rows <= FULL_BATCH_MAX_ROWS
            else f"minibatches: {n_rows} rows > {FULL_BATCH_MAX_ROWS}"
        )
    return FitPlan(
        hidden_layer_sizes=sizes,
        selects_width=selects_width,
        init=init,
        solver=solver,
        alpha=alpha,
        bayes_start=bayes_start,
        bayes_start_alpha=start_alpha,
        n_averaged=n_averaged,
        max_iter=max_iter,
        tol=tol,
        n_iter_no_change=n_iter_no_change,
        batch_size=batch_size,
        early_stopping=early_stopping,
        validation_fraction=validation_fraction,
        n_training_rows=n_rows,
        reasons=reasons,
    )


def _init(params, n_features, ensemble_member, reasons):
    if params["init"] != "auto":
        return params["init"]
    if ensemble_member:
        reasons["init"] = "an ensemble member starts from random breakpoints, so members disagree away from the data"
        return MEMBER_INIT
    one_layer = params["hidden_layer_sizes"] == "auto" or len(_given_sizes(params)) == 1
    hinge = ACTIVATIONS[params["activation"]].hinge
    if n_features == 1 and one_layer and hinge and params["loss"] == "squared_error":
        reasons["init"] = "one input, one layer of hinges: chosen by forward selection, as MARS does"
        return "selection"
    reasons["init"] = "breakpoints placed inside the data" if hinge else "Glorot-scaled weights"
    return "breakpoints"


def _given_sizes(params):
    sizes = params["hidden_layer_sizes"]
    return (int(sizes),) if isinstance(sizes, Integral) else tuple(map(int, sizes))


def _hidden_sizes(params, n_rows, n_features, n_outputs, selects_width, reasons):
    if params["hidden_layer_sizes"] != "auto":
        return _given_sizes(params)
    if selects_width:
        reasons["hidden_layer_sizes"] = (
            f"as many hinges as the forward selection keeps, {AUTO_MIN_UNITS} to {AUTO_MAX_HINGES} "
            f"({AUTO_UNITS_ONE_INPUT} on a smooth curve)"
        )
        return (AUTO_MAX_HINGES,)
    if n_features == 1:
        reasons["hidden_layer_sizes"] = f"one layer of {AUTO_UNITS_ONE_INPUT} units for one input"
        return (AUTO_UNITS_ONE_INPUT,)
    units = max(AUTO_UNITS, round(AUTO_UNITS * math.sqrt(n_rows / AUTO_UNITS_ROWS)))
    while units > AUTO_UNITS and not _lm_affordable(n_rows, n_outputs, network_params((n_features, units, n_outputs))):
        units -= 1
    reasons["hidden_layer_sizes"] = f"one layer of {units} units for several inputs"
    if units > AUTO_UNITS:
        grown = f"{AUTO_UNITS} * sqrt({n_rows} rows / {AUTO_UNITS_ROWS})"
        reasons["hidden_layer_sizes"] += f": {grown}, at most what LM takes"
    return (units,)


def jtj_affordable(n_residuals, n_params):
    """Whether one ``J^T J`` (an LM step, a Bayesian re-estimate) is cheap enough to compute: its
    :func:`~mlpfit._network.normal_equations_work` within ``LM_MAX_WORK``."""
    return normal_equations_work(n_residuals, n_params) <= LM_MAX_WORK


def _lm_affordable(n_rows, n_outputs, n_params):
    """Whether ``solver="auto"`` runs LM: at most ``LM_MAX_PARAMS`` parameters and
    :func:`normal_equations_work` within ``LM_MAX_WORK``."""
    return n_params <= LM_MAX_PARAMS and jtj_affordable(n_rows * n_outputs, n_params)


def _solver(params, n_rows, n_features, n_outputs, n_params, work, reasons):
    solver = params["solver"]
    if solver != "auto":
        if params["alpha"] == "bayes" and solver not in BAYES_SOLVERS:
            raise ValueError(
                f"alpha='bayes' needs solver='lm', 'lbfgs' or 'auto' (it re-estimates the penalty from the "
                f"Gauss-Newton Hessian of a full-batch fit); got solver={solver!r}."
            )
        return solver
    if _lm_affordable(n_rows, n_outputs, n_params):
        reasons["solver"] = f"{n_params} parameters <= {LM_MAX_PARAMS} and J^T J work {work:.3g} <= {LM_MAX_WORK:.3g}"
        return "lm"
    too_big = f"too big for LM ({n_params} parameters, J^T J work {work:.3g})"
    if params["alpha"] == "bayes" or _bayesian_lbfgs(params, n_features, n_params, work):
        reasons["solver"] = f"{too_big}; Bayesian regularisation needs full batches"
        return "lbfgs"
    if n_rows <= LBFGS_MAX_ROWS:
        reasons["solver"] = f"{too_big}; {n_rows} rows <= {LBFGS_MAX_ROWS}"
        return "lbfgs"
    reasons["solver"] = f"{too_big}; {n_rows} rows > {LBFGS_MAX_ROWS}: minibatches"
    return "adam"


def _bayesian_lbfgs(params, n_features, n_params, work):
    """Whether ``alpha="auto"`` beyond LM is Bayesian L-BFGS: several inputs and ``J^T J`` affordable."""
    affordable = n_params <= EVIDENCE_MAX_PARAMS and work <= EVIDENCE_MAX_WORK
    return params["alpha"] == "auto" and n_features > 1 and affordable and params["solver"] in ("auto", "lbfgs")


def _alpha(params, solver, n_features, n_params, work, reasons):
    if params["alpha"] != "auto":
        return params["alpha"]
    if n_features == 1:
        reasons["alpha"] = f"the fixed penalty {AUTO_ALPHA:g}: one input"
        return AUTO_ALPHA
    if solver == "lm":
        reasons["alpha"] = "Bayesian regularisation: several inputs, re-estimated at every LM step"
        return "bayes"
    if solver == "lbfgs" and _bayesian_lbfgs(params, n_features, n_params, work):
        reasons["alpha"] = (
            f"Bayesian regularisation between L-BFGS rounds: J^T J of {n_params} parameters is affordable "
            f"(J^T J work {work:.3g} <= {EVIDENCE_MAX_WORK:.3g})"
        )
        return "bayes"
    reasons["alpha"] = f"the fixed penalty {AUTO_ALPHA:g}: no evidence with {solver!r} at this size"
    return AUTO_ALPHA


def _bayes_start(alpha, solver, n_features, reasons):
    if alpha != "bayes":
        return None
    if solver == "lbfgs":
        reasons["bayes_start"] = f"once the fit at alpha={LBFGS_BAYES_START_ALPHA:g} has settled (an L-BFGS round)"
        return "settled"
    if n_features > 1:
        reasons["bayes_start"] = "several inputs: once a step fits better than the mean, before the noise is learnt"
        return "fitted"
    reasons["bayes_start"] = "one input: once the unpenalised fit has settled"
    return "settled"


def _n_averaged(params, solver, alpha, n_features, work, ensemble_member, reasons):
    if params["n_averaged"] != "auto":
        return params["n_averaged"]
    if ensemble_member:
        reasons["n_averaged"] = "an ensemble member is one network: the ensemble averages its members"
        return MEMBER_AVERAGED
    averageable = solver == "lm" or alpha == "bayes"
    if averageable and work <= AVERAGE_MAX_WORK:
        n_averaged = AUTO_AVERAGED
        if n_features > 1:
            n_averaged = min(MAX_AVERAGED, max(AUTO_AVERAGED, int(AVERAGED_WORK // work)))
        reasons["n_averaged"] = f"{solver!r} fits are cheap here (J^T J work {work:.3g} <= {AVERAGE_MAX_WORK:.3g})" + (
            "" if n_features == 1 else f"; several inputs: up to {MAX_AVERAGED} within {AVERAGED_WORK:.3g} together"
        )
        return n_averaged
    reasons["n_averaged"] = (
        f"one network: {solver!r} fits this size are costly"
        if averageable
        else (f"one network: {solver!r} fits are costly")
    )
    return 1
