"""Why is my fit bad? Findings that say what is wrong with a trained network, with numbers, and what to change.

Notes
-----
Every check reads the data and the network (and, for an estimator, its training
record: loss curves, judged by their data term where Bayesian regularisation moved the
penalty, and its plan: the solver and start that ran), so it applies as well to weights
from someone's own NumPy program, which get generic advice. Three
reference levels recur:

- the *noise estimate*, the variance of the target around the true curve. Where X
  repeats (the same x, or on several inputs the same whole row) it is the *pure
  error*: the pooled variance of y about its mean at each repeated X, with one
  degree of freedom per row less one per group (Draper and Smith 1998, lack of fit).
  Elsewhere, on one input, it is a difference estimator on x-sorted data (von
  Neumann 1941; Rice 1984) in the form of Gasser, Sroka and Jennen-Steinmetz
  (1986): each point's distance from the line through its two neighbours is noise,
  because a smooth curve is locally linear; unlike plain neighbour differences it
  is not inflated where the curve is steep and the data sparse. On several inputs
  each row is paired with its nearest neighbour in standardised X, which counts
  some of the curve's own variation as noise: an upper estimate, so checks built on
  it err towards silence. Data with some repeated and some single X pool both,
  each weighted by the number of terms it averages;
- the *least-squares line* (plane on several inputs), the best linear function, and
  where X repeats the *per-X means*, whose mean squared error is the least any
  function of X reaches on these rows: ``underfit`` compares with the larger of the
  noise and that floor;
- the target's variance, which bounds how small a noise level is worth resolving.

Every message speaks root-mean-square errors and noise standard deviations, in the
units of y; thresholds compare their squares. Notes about idle units and
breakpoints (info) are reported only where they can matter: the start was the
user's (a raw network, ``init`` other than ``"auto"``, or ``standardize=False``),
the fit is poor (``underfit`` or ``effectively-linear``), or at least half the units
are idle; warnings and errors are always reported. Fixes follow the solver that
ran. An ensemble is diagnosed as a whole (:data:`ENSEMBLE_CHECKS` on its mean
prediction and its intervals), then member by member.

Checks live in :data:`CHECKS` (code -> function of the evidence); each returns a
:class:`Finding` or None. :func:`diagnose` runs them and sorts the findings by severity.
"""

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from ._activations import ACTIVATIONS
from ._fit_facts import NOISE_FLOOR, NOISE_MIN_SAMPLES, EnsembleFacts, FitFacts
from ._fitted import as_fitted_state
from ._plan import network_params
from ._transforms import described
from .solvers._base import CONVERGED_REASONS

SEVERITIES = ("error", "warning", "info")
"""Most serious first; a Diagnosis is ``ok`` when it has no error or warning."""

SCALE_LIMIT = 10.0
"""A column the network sees with standard deviation beyond 10x or below 1/10 is off the unit scale initialisers
assume."""
OFFSET_LIMIT = 3.0
"""A column mean beyond +-3 in the network's units puts zero-bias breakpoints (at 0) at the edge of the data or
outside."""
BREAKPOINTS_MIN_INSIDE = 0.5
"""Fewer than half of the first-layer breakpoints inside the data is noted (an error when none is inside)."""
IDLE_NOTE_FRACTION = 0.5
"""With the default start and a good fit, idle units are noted only once they are at least half of all units."""
UNIT_WARNING_FRACTION = 0.8
"""Dead, always-active or saturated units are noted; a warning once they are 4 in 5 of all units."""
LINEAR_MATCH = 0.9
"""A network that removes less than 10% of the least-squares line's squared error is no better than the line."""
NOISE_RATIO = 2.0
"""A mean squared error twice the noise variance (an RMSE 1.41 times its standard deviation) is clearly more than
noise (the estimate's own scatter is far smaller for n >= 50)."""
OVERFIT_RATIO = 2.0
"""Validation error twice the training error: the network learned the training rows' noise."""
OVERFIT_NOISE_FRACTION = 0.5
"""On one input, a training error under half the noise estimate means the network is following the noise."""
CURVE_WINDOW = 0.1
"""The end of a loss curve is its last 10% of iterations."""
NOT_CONVERGED_DROP = 0.01
"""A loss still falling by more than 1% over the end of its curve, while above the noise level, had not converged."""
NOT_CONVERGED_SHARE = 0.01
"""A curve whose last tenth still made over 1% of its whole decrease had not converged, whatever its level."""
DIVERGED_RISE = 10.0
"""A final loss ten times the lowest one reached means training blew up."""
SLOW_MIN_ITERATIONS = 10
"""Fewer iterations than this say nothing about the learning rate."""
NO_LEARNING_RATE_SOLVERS = ("lm", "lbfgs")
"""Solvers without a step size to blame: learning-rate-too-small is not checked for their fits."""
SLOW_STEPS_FACTOR = 10.0
"""Reaching the noise level would take more than 10x the iterations already run at the final pace."""
SLOW_PROGRESS = 0.5
"""...while less than half of the way from the first loss to the noise level has been covered."""
SLOW_MONOTONE = 0.95
"""A too-small step makes the loss fall on (almost) every iteration; larger steps oscillate."""
SATURATED_DERIVATIVE = 0.05
"""A unit whose derivative is below 5% of its peak passes almost no gradient: it is saturated."""
SATURATED_SAMPLES = 0.9
"""A unit saturated on more than 90% of the samples acts as a constant."""
EFFECTIVE_PARAMS_SHARE = 0.5
"""Bayesian regularisation's effective parameters at half the data values (rows x outputs) or more: too many."""
PARAMETERS_SHARE = 0.75
"""Without that estimate, a parameter count (per averaged network) at 3/4 of the data values or more: too many
(higher than with the evidence, since a count overstates what the data determine)."""
CALIBRATION_COVERAGES = (0.5, 0.9)
"""The ensemble's central intervals whose share of y is compared with their nominal coverage."""
CALIBRATION_Z = 3.0
"""A share further than 3 binomial standard deviations from nominal is not chance..."""
CALIBRATION_MIN_GAP = 0.05
"""...and it must be off by 5 points or more to matter."""


class FitWarning(UserWarning):
    """A fit ended in a state :func:`diagnose` calls an error (effectively linear, diverged)."""


@dataclass(frozen=True)
class Finding:
    """One problem: a stable ``code``, its ``severity``, a ``message`` with the numbers and a ``fix``."""

    code: str
    severity: str
    message: str
    fix: str

    def __str__(self):
        return f"[{self.severity}] {self.code}: {self.message}\n    fix: {self.fix}"


@dataclass
class Diagnosis:
    """The findings about one network on one data set, most serious first."""

    findings: list = field(default_factory=list)
    scale: str = ""
    """The transformed columns the checks read, e.g. ``"log(y0)"`` (``target_transform``, ``input_transform``):
    errors and noise are then on that scale. Empty when the network takes the data as they are."""

    @property
    def codes(self):
        return {finding.code for finding in self.findings}

    @property
    def ok(self):
        """No error and no warning (notes are allowed)."""
        return all(finding.severity == "info" for finding in self.findings)

    def __str__(self):
        title = f"Diagnosis (on the fitted scale: {self.scale})" if self.scale else "Diagnosis"
        if not self.findings:
            return f"{title}: no problems found."
        counts = ", ".join(
            f"{count} {severity}{'s' if count > 1 and severity != 'info' else ''}"
            for severity in SEVERITIES
            if (count := sum(finding.severity == severity for finding in self.findings))
        )
        return "\n".join([f"{title}: {counts}.", *map(str, self.findings)])


def _worst(ratio, n_outputs):
    """Index of the worst output and the text naming it (empty for one output)."""
    k = int(np.nanargmax(ratio))
    return k, (f" (output {k})" if n_outputs > 1 else "")


def _poor_fit(facts):
    """The fit is far from what the data allow: underfit or effectively linear."""
    return _underfit(facts) is not None or _effectively_linear(facts) is not None


# --- scale -------------------------------------------------------------------------------


def _off_scale(A, what):
    """Sentence about columns of ``A`` (network's units) whose mean or spread is far from unit, or None."""
    mean, std = A.mean(axis=0), A.std(axis=0)
    varying = std > 0
    off = varying & ((np.abs(mean) > OFFSET_LIMIT) | (std > SCALE_LIMIT) | (std < 1 / SCALE_LIMIT))
    if not off.any():
        return None
    j = int(np.argmax(np.where(off, np.abs(mean) + std + 1 / np.where(varying, std, 1), -np.inf)))
    return (
        f"{off.sum()} of {varying.sum()} {what} are far from unit scale as the network sees them: "
        f"column {j} has mean {mean[j]:.4g} and standard deviation {std[j]:.4g} (expected: mean within "
        f"+-{OFFSET_LIMIT:g}, standard deviation between {1 / SCALE_LIMIT:g} and {SCALE_LIMIT:g}). "
        "Initial weights, zero-bias breakpoints and step sizes all assume unit scale, so training crawls or stalls."
    )


def _inputs_not_standardized(facts):
    message = _off_scale(facts.network.x_scaler.transform(facts.X), "input columns")
    return message and Finding(
        "inputs-not-standardized",
        "warning",
        message,
        "Use standardize=True (the default), or centre and scale each input column to mean 0 and "
        "standard deviation 1 before training your own network.",
    )


def _target_not_standardized(facts):
    message = _off_scale(facts.network.y_scaler.transform(facts.Y * facts.unit), "target columns")
    return message and Finding(
        "target-not-standardized",
        "warning",
        message,
        "Use standardize=True (the default), or train on (y - mean) / std and map predictions back.",
    )


def _constant_feature(facts):
    constant = np.flatnonzero(np.ptp(facts.X, axis=0) == 0)
    if not len(constant):
        return None
    return Finding(
        "constant-feature",
        "warning",
        f"Input column(s) {', '.join(map(str, constant))} take a single value on all {facts.n_samples} rows "
        f"(column {constant[0]} is always {facts.X[0, constant[0]]:.6g}): they carry no information.",
        "Drop the constant column(s), or check that the right columns were selected.",
    )


# --- advice that fits the solver that ran -------------------------------------------------

TRAIN_LONGER = {
    "lm": "raise max_iter (Levenberg-Marquardt stopped before its convergence test passed)",
    "lbfgs": "raise max_iter (L-BFGS stopped before its convergence test passed)",
    "adam": "raise max_iter or learning_rate_init, or use solver='lm' or 'lbfgs', full-batch solvers that converge in "
    "far fewer iterations on data of up to ~10^4 rows",
    None: "train longer, or with a full-batch second-order method (NeuralRegressor's default solver='auto' runs "
    "Levenberg-Marquardt or L-BFGS)",
}
"""Solver that ran (None: a raw network) -> how to train further; SGD's advice is Adam's."""
TRAIN_LONGER["sgd"] = TRAIN_LONGER["adam"]

DIVERGED_FIX = {
    "adam": "Lower learning_rate_init (by 10x at a time), keep standardize=True, or use solver='lm' or 'lbfgs' "
    "(no learning rate to choose).",
    "lm": "Keep standardize=True, raise alpha (or use alpha='bayes'), or use n_restarts: Levenberg-Marquardt only "
    "accepts steps that lower its objective, so a blow-up comes from the data's scale or a degenerate start.",
    "lbfgs": "Keep standardize=True, raise alpha, or use n_restarts: L-BFGS only accepts steps that lower its "
    "objective, so a blow-up comes from the data's scale or a degenerate start.",
    None: "Lower the learning rate (by 10x at a time) and standardize the data, or train with NeuralRegressor "
    "(standardized data and a solver without a learning rate by default).",
}
"""Solver that ran -> what to change after a divergence; SGD's advice is Adam's."""
DIVERGED_FIX["sgd"] = DIVERGED_FIX["adam"]


def _capacity_advice(facts):
    """Ways to fit closer: train on where training stopped early, more units, a smaller penalty, restarts."""
    if facts.plan is None:
        return [TRAIN_LONGER[None], "add hidden units", "lower the weight penalty"]
    advice = [TRAIN_LONGER[facts.solver]] if facts.unfinished else []
    advice.append("add hidden units")
    if facts.plan.alpha != "bayes" and facts.plan.alpha > 0:
        advice.append("lower alpha")
    return [*advice, "use n_restarts (the best of several starts)"]


def _sentence(parts):
    """``["a", "b", "c"]`` -> ``"A, b, or c."``."""
    text = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])}, or {parts[-1]}"
    return text[0].upper() + text[1:] + "."


def _start_advice(facts, own_network, estimator):
    """How to start units inside the data: for a raw network ``own_network``, for an estimator whose start
    was the user's ``estimator``, and for a default start (which already does it) the capacity advice."""
    if facts.plan is None:
        return own_network
    if facts.user_start:
        return estimator
    return (
        "The start already placed the breakpoints inside the data (init='auto', standardize=True), and idle "
        "units are spare capacity the solver parked. Where the fit is poor: " + _sentence(_capacity_advice(facts))
    )


# --- units --------------------------------------------------------------------------------


def _breakpoints_outside_data(facts):
    arch = facts.network.arch
    if not ACTIVATIONS[arch.activation].kinked or facts.n_features != 1 or len(arch.layer_sizes) < 3:
        return None
    breakpoints = facts.network.first_layer_breakpoints()
    low, high = facts.X[:, 0].min(), facts.X[:, 0].max()
    inside = int(np.sum((breakpoints > low) & (breakpoints < high)))
    units = arch.layer_sizes[1]
    if inside >= BREAKPOINTS_MIN_INSIDE * units or (inside and not (facts.user_start or _poor_fit(facts))):
        return None
    if len(arch.layer_sizes) == 3:
        consequence = (
            "so the network is one straight line on the data"
            if inside == 0
            else f"so the fit can bend at only {inside} place(s) on the data"
        )
    else:
        consequence = "so the first layer is (nearly) linear on the data and later layers have little to bend"
    shown = ", ".join(f"{x:.3g}" for x in np.sort(breakpoints)[:5])
    return Finding(
        "breakpoints-outside-data",
        "error" if inside == 0 else "info",
        f"{inside} of {units} first-layer breakpoints (-b/w) lie inside the data range [{low:.4g}, {high:.4g}], "
        f"{consequence} (breakpoints at {shown or 'none'}{', ...' if units > 5 else ''}).",
        _start_advice(
            facts,
            "Start the breakpoints inside the data: standardize the inputs and set each bias to b = -w * x0 for "
            "points x0 spread over the data (NeuralRegressor's init='auto' with standardize=True does so).",
            "Start the breakpoints inside the data: init='auto' (the default) with standardize=True.",
        ),
    )


def _unit_finding(facts, code, flags, description, fix):
    """A finding about hidden units flagged per layer (list of boolean arrays), or None.

    A warning once they are ``UNIT_WARNING_FRACTION`` of the units; a note only where it can matter
    (the user's start, a poor fit, or at least ``IDLE_NOTE_FRACTION`` of the units idle).
    """
    count, total = sum(int(f.sum()) for f in flags), sum(len(f) for f in flags)
    if not count:
        return None
    if count < IDLE_NOTE_FRACTION * total and not (facts.user_start or _poor_fit(facts)):
        return None
    per_layer = "; ".join(f"layer {i + 1}: {int(f.sum())} of {len(f)}" for i, f in enumerate(flags))
    severity = "warning" if count >= UNIT_WARNING_FRACTION * total else "info"
    return Finding(code, severity, f"{count} of {total} hidden units {description} ({per_layer}).", fix)


def _dead_units(facts):
    if not ACTIVATIONS[facts.network.arch.activation].hinge:
        return None
    return _unit_finding(
        facts,
        "dead-units",
        [np.all(z <= 0, axis=0) for z in facts.hidden_layers()],
        f"are off (pre-activation <= 0) on every one of the {facts.n_samples} samples: they bend nothing there "
        "(a ReLU unit also adds and learns nothing)",
        _start_advice(
            facts,
            "Start breakpoints inside the data (standardize the inputs, b = -w * x0 for data points x0), lower a "
            "learning rate that knocks units off, or use leaky ReLU.",
            "Start breakpoints inside the data (init='auto' with standardize=True), lower a learning rate that "
            "knocks units off, or use activation='leaky_relu'.",
        ),
    )


def _always_active_units(facts):
    if not ACTIVATIONS[facts.network.arch.activation].hinge:
        return None
    return _unit_finding(
        facts,
        "always-active-units",
        [np.all(z > 0, axis=0) for z in facts.hidden_layers()],
        f"are on for every one of the {facts.n_samples} samples, so each is linear on the data and none bends the fit",
        _start_advice(
            facts,
            "Standardize the inputs and place each bias at b = -w * x0 for a data point x0 (NeuralRegressor's "
            "init='auto' with standardize=True does so).",
            "Start breakpoints inside the data: init='auto' (the default) with standardize=True.",
        ),
    )


def _saturated_units(facts):
    activation = ACTIVATIONS[facts.network.arch.activation]
    if not activation.saturating:
        return None
    peak = activation.derivative(np.zeros(1), activation.forward(np.zeros(1)))[0]
    flags = []
    for z in facts.hidden_layers():
        with np.errstate(over="ignore"):
            flat = activation.derivative(z, activation.forward(z)) < SATURATED_DERIVATIVE * peak
        flags.append(flat.mean(axis=0) > SATURATED_SAMPLES)
    return _unit_finding(
        facts,
        "saturated-units",
        flags,
        f"are saturated ({facts.network.arch.activation} derivative below {SATURATED_DERIVATIVE:.0%} of its peak) on "
        "more than "
        f"{SATURATED_SAMPLES:.0%} of the samples: they act as constants and pass almost no gradient",
        _start_advice(
            facts,
            "Standardize the inputs and start from smaller weights, or add a weight penalty.",
            "Standardize the inputs (standardize=True), start from smaller weights (init='auto' or a smaller "
            "init_scale), or raise alpha.",
        ),
    )


# --- error levels -------------------------------------------------------------------------


def _effectively_linear(facts):
    if not facts.finite:
        return None
    model, line = facts.model_mse, facts.linear_mse
    near_line = model >= LINEAR_MATCH * line
    if not near_line.any():  # the noise's estimate, the dearer fact, is needed only then (a check after every fit)
        return None
    noise = facts.noise_level
    flagged = near_line & (line > NOISE_RATIO * noise)
    if not flagged.any():
        return None
    k, which = _worst(np.where(flagged, line / noise, -np.inf), len(line))
    shape = "line" if facts.varying.shape[1] <= 1 else "plane"
    if facts.plan is None:
        fix = (
            "Standardize the data and start the breakpoints inside the data (b = -w * x0 for data points x0); "
            "NeuralRegressor does both by default. If training stopped early, train longer."
        )
    elif facts.user_start:
        fix = "Use standardize=True and init='auto' (the defaults): breakpoints start inside the data."
        fix += f" Then {TRAIN_LONGER[facts.solver]}." if facts.unfinished else ""
    else:
        fix = _sentence(_capacity_advice(facts))
    return Finding(
        "effectively-linear",
        "error",
        f"The network fits no better than a least-squares {shape}{which}: its RMSE {facts.root(model, k)} is "
        f"{np.sqrt(model[k] / line[k]):.3g} times the {shape}'s {facts.root(line, k)}, yet the data are not linear: "
        f"the {shape}'s RMSE is {np.sqrt(line[k] / noise[k]):.3g} times the noise standard deviation "
        f"{facts.root(noise, k)} ({facts.noise_method}).",
        fix + " The unit findings say which units stopped bending.",
    )


def _underfit(facts):
    if not facts.finite:
        return None
    reference = np.maximum(facts.noise_level, facts.floor_mse)
    ratio = facts.model_mse / reference
    if not np.any(ratio > NOISE_RATIO):
        return None
    k, which = _worst(ratio, len(ratio))
    against = f"the noise standard deviation {facts.root(reference, k)} ({facts.noise_method})"
    if facts.floor_mse[k] > facts.noise_level[k]:
        against = (
            f"{facts.root(reference, k)}, the RMSE of the means of y at each repeated x (no function of x does "
            "better on these rows)"
        )
    return Finding(
        "underfit",
        "warning",
        f"The training RMSE{which} {facts.root(facts.model_mse, k)} is {np.sqrt(ratio[k]):.3g} times {against}: "
        "the network follows the data less closely than the noise allows.",
        _sentence(_capacity_advice(facts)),
    )


def _overfit(facts):
    if not facts.finite:
        return None
    if facts.X_val is not None:
        validation = np.mean((facts.validation_prediction - facts.Y_val) ** 2, axis=0)
        ratio = validation / facts.model_mse
        k, which = _worst(ratio, len(ratio))
        evidence = (
            f"the validation RMSE{which} {facts.root(validation, k)} is {np.sqrt(ratio[k]):.3g} times the training "
            f"RMSE {facts.root(facts.model_mse, k)}"
        )
        flagged = ratio[k] > OVERFIT_RATIO
    elif facts.runs and facts.runs[0].validation_curve:
        validation = np.mean([min(run.validation_curve) for run in facts.runs])
        training = facts.to_network_loss(facts.model_mse)
        # the curves record half the mean squared error summed over outputs, on the standardised scale
        rms = np.sqrt(2 * np.array([validation, training]) / facts.Y.shape[1])
        evidence = (
            f"the best validation RMSE on the estimator's early-stopping split, {rms[0]:.4g}"
            f"{' (the mean over the networks)' if len(facts.runs) > 1 else ''}, is {rms[0] / rms[1]:.3g} times "
            f"the training RMSE {rms[1]:.4g} (both in standard deviations of y)"
        )
        flagged = validation > OVERFIT_RATIO * training
    elif facts.varying.shape[1] == 1 and facts.n_samples >= NOISE_MIN_SAMPLES:
        ratio = facts.model_mse / facts.noise
        k, which = _worst(-ratio, len(ratio))
        evidence = (
            f"the training RMSE{which} {facts.root(facts.model_mse, k)} is only {np.sqrt(ratio[k]):.2f} times the "
            f"noise standard deviation {facts.root(facts.noise, k)} ({facts.noise_method})"
        )
        flagged = ratio[k] < OVERFIT_NOISE_FRACTION and facts.noise[k] > NOISE_FLOOR * facts.target_variance[k]
    else:
        return None
    if not flagged:
        return None
    if facts.plan is None:
        fix = "Use fewer hidden units, a weight penalty, early stopping on held-out rows, or more data."
    else:
        penalty = "a larger alpha" if facts.plan.alpha == "bayes" else "a larger alpha or alpha='bayes'"
        fix = f"Use fewer hidden units, {penalty}, early_stopping=True, or more data."
    return Finding("overfit", "warning", f"The network learned the training rows' noise: {evidence}.", fix)


def _parameter_count(facts):
    """Weights and biases of one of the averaged networks (their mean width), the model's own count."""
    sizes = facts.network.arch.layer_sizes
    networks = max(1, len(facts.runs))
    return network_params((sizes[0], *(width / networks for width in sizes[1:-1]), sizes[-1]))


def _too_many_parameters(facts):
    values = facts.n_samples * facts.Y.shape[1]
    if facts.evidence is not None:
        count, share = facts.evidence.effective_params, EFFECTIVE_PARAMS_SHARE
        what = f"{count:.1f} effective parameters (Bayesian regularisation's estimate of those the data determine)"
    else:
        count, share = _parameter_count(facts), PARAMETERS_SHARE
        what = f"{count:.0f} parameters" + (" per averaged network" if len(facts.runs) > 1 else "")
    if count < share * values:
        return None
    rows = f"{facts.n_samples} rows" + (f" x {facts.Y.shape[1]} outputs" if facts.Y.shape[1] > 1 else "")
    if facts.plan is None:
        fix = "Use fewer hidden units, a weight penalty, or more data."
    else:
        bayes = "" if facts.plan.alpha == "bayes" else ", alpha='bayes' (the data then set how many count)"
        fix = f"Use fewer hidden units{bayes}, or more data."
    return Finding(
        "too-many-parameters",
        "warning",
        f"The model has {what} for {rows}: {count / values:.3g} per data value (at most {share:g} is judged sane). "
        "It can follow each row's noise, and between the rows its shape is barely constrained by the data.",
        fix,
    )


# --- training record ----------------------------------------------------------------------


def _curve_end(curve):
    """Index where the last ``CURVE_WINDOW`` of the curve starts (at least one step back)."""
    return len(curve) - 1 - max(1, int(np.ceil(CURVE_WINDOW * len(curve))))


def _diverged(facts):
    evidence = next(filter(None, (_divergence(*curve) for curve in facts.curves())), None)
    if evidence is None and not facts.finite:
        evidence = "its predictions on the data are NaN or infinite"
    if evidence is None:
        return None
    return Finding("diverged", "error", f"Training diverged: {evidence}.", DIVERGED_FIX[facts.solver])


def _divergence(network, curve, run):
    """Why ``network``'s training ``curve`` (its ``progress_curve``) shows a divergence, or None.

    The curve diverged when it ends ``DIVERGED_RISE`` times above the lowest objective the run
    reached. With Bayesian regularisation the objective rises wherever the penalty was re-estimated
    upwards, so the curve judged is its data term, which is never above the objective of the same
    iteration: a penalty that grew does not count, a fit that got worse does.
    """
    name, finite = _curve_name(run), np.isfinite(curve)
    if not finite.all():
        return f"{network}{name} became {curve[~finite][0]} at iteration {np.argmin(finite) + 1}"
    lowest = min(run.loss_curve)
    if curve[-1] > DIVERGED_RISE * lowest:
        of = "the lowest training loss (penalty included)" if run.bayesian else "the lowest value"
        return (
            f"{network}{name} ended at {curve[-1]:.4g}, {curve[-1] / lowest:.3g} times {of} it reached "
            f"({lowest:.4g} at iteration {np.argmin(run.loss_curve) + 1})"
        )
    return None


def _curve_name(run):
    """What a run's ``progress_curve`` is, in words."""
    return "training data term" if run.bayesian else "training loss"


def _not_converged(facts):
    return next(filter(None, (_unconverged_run(facts, *run) for run in facts.curves())), None)


def _unconverged_run(facts, network, curve, run):
    if len(curve) < 2 or not np.all(np.isfinite(curve)):
        return None
    if run.stop_reason in CONVERGED_REASONS:
        return None  # the solver's own test passed; a curve that starts near its end only looks unfinished
    start = _curve_end(curve)
    drop = (curve[start] - curve[-1]) / abs(curve[-1]) if curve[-1] else np.inf
    share = (curve[start] - curve[-1]) / (curve[0] - curve[-1]) if curve[0] > curve[-1] else 0.0
    above_noise = curve[-1] > NOISE_RATIO * facts.to_network_loss(facts.noise_level)
    if not (share > NOT_CONVERGED_SHARE or (drop > NOT_CONVERGED_DROP and above_noise)):
        return None
    return Finding(
        "not-converged",
        "warning",
        f"{network.capitalize()}{_curve_name(run)} was still falling when training stopped: down {drop:.2%} over the "
        f"last {len(curve) - 1 - start} of {len(curve)} iterations, to {curve[-1]:.4g} ({share:.2%} of its whole "
        "decrease).",
        _sentence([TRAIN_LONGER[facts.solver]]),
    )


def _learning_rate_too_small(facts):
    if facts.solver in NO_LEARNING_RATE_SOLVERS:
        return None  # a slow, steady curve there means a good start, not a small step
    return next(filter(None, (_slow_run(facts, network, curve) for network, curve, _ in facts.curves())), None)


def _slow_run(facts, network, curve):
    if len(curve) < SLOW_MIN_ITERATIONS or not np.all(np.isfinite(curve)):
        return None
    start = _curve_end(curve)
    pace = (curve[start] - curve[-1]) / (len(curve) - 1 - start)
    floor = facts.to_network_loss(facts.noise_level)
    gap, progress = curve[-1] - floor, (curve[0] - curve[-1]) / (curve[0] - floor)
    if not (pace > 0 and gap > 0 and progress < SLOW_PROGRESS):
        return None
    steps = gap / pace
    if steps <= SLOW_STEPS_FACTOR * len(curve) or np.mean(np.diff(curve) <= 0) < SLOW_MONOTONE:
        return None
    k = int(np.argmax(facts.noise_level / facts.target_variance))
    return Finding(
        "learning-rate-too-small",
        "warning",
        f"{network.capitalize()}loss falls steadily but far too slowly: after {len(curve)} iterations it has covered "
        f"{progress:.1%} of the way from {curve[0]:.4g} to {floor:.4g}, the loss of a fit as close as the noise "
        f"(standard deviation {facts.root(facts.noise_level, k)}), and at its final pace of {pace:.3g} per "
        f"iteration it would need about {steps:.3g} more.",
        "Raise learning_rate_init (10x at a time), use solver='lm' or 'lbfgs' (no learning rate to choose), or "
        "standardize the data so that one step size suits every weight.",
    )


CHECKS = {
    "diverged": _diverged,
    "effectively-linear": _effectively_linear,
    "breakpoints-outside-data": _breakpoints_outside_data,
    "inputs-not-standardized": _inputs_not_standardized,
    "target-not-standardized": _target_not_standardized,
    "constant-feature": _constant_feature,
    "too-many-parameters": _too_many_parameters,
    "dead-units": _dead_units,
    "always-active-units": _always_active_units,
    "saturated-units": _saturated_units,
    "underfit": _underfit,
    "overfit": _overfit,
    "learning-rate-too-small": _learning_rate_too_small,
    "not-converged": _not_converged,
}
"""Code -> check; findings of equal severity keep this order."""

FIT_WARNING_CODES = ("diverged", "effectively-linear")
"""The findings NeuralRegressor.fit warns about (:class:`FitWarning`)."""


# --- ensembles ----------------------------------------------------------------------------


def _interval_calibration(facts):
    """The share of ``y`` inside the ensemble's central intervals against their nominal coverage."""
    shares, scatters = [], []
    for coverage in CALIBRATION_COVERAGES:
        lower, upper = facts.ensemble.predict_interval(facts.inputs[0], coverage)
        Y = facts.Y * facts.unit
        inside = (lower.reshape(Y.shape) <= Y) & (Y <= upper.reshape(Y.shape))
        shares.append(inside.mean(axis=0))
        scatters.append(np.sqrt(coverage * (1 - coverage) / facts.n_samples))
    gaps = [np.abs(share - coverage) for share, coverage in zip(shares, CALIBRATION_COVERAGES)]
    off = [(gap > CALIBRATION_Z * scatter) & (gap > CALIBRATION_MIN_GAP) for gap, scatter in zip(gaps, scatters)]
    if not np.any(off):
        return None
    k, which = _worst(np.max(np.array(gaps) / np.array(scatters)[:, None], axis=0), facts.Y.shape[1])
    held = " and ".join(
        f"the {coverage:.0%} intervals {share[k]:.1%}" for coverage, share in zip(CALIBRATION_COVERAGES, shares)
    )
    scatter = " and ".join(f"{CALIBRATION_Z:g} x {s:.1%}" for s in scatters)
    nominal = " and ".join(f"{coverage:.0%}" for coverage in CALIBRATION_COVERAGES)
    wide = np.mean([share[k] - coverage for share, coverage in zip(shares, CALIBRATION_COVERAGES)]) > 0
    fix = (
        "The members disagree, or predict noise, beyond the data's scatter: if these are the training rows, "
        "check on held-out rows before trusting the intervals; fit the members closer (more units, longer "
        "training) or use noise='homoscedastic'."
        if wide
        else "Use more members (n_estimators), noise='heteroscedastic' where the noise varies with x, and check on "
        "held-out rows: members that agree on a fit which misses the data understate its error."
    )
    return Finding(
        "interval-calibration",
        "warning",
        f"The ensemble's prediction intervals are {'too wide' if wide else 'too narrow'}{which}: of the "
        f"{facts.n_samples} rows given, {held} hold y (expected {nominal}, give or take {scatter} by chance).",
        fix,
    )


ENSEMBLE_CHECKS = {
    "effectively-linear": _effectively_linear,
    "underfit": _underfit,
    "overfit": _overfit,
    "interval-calibration": _interval_calibration,
}
"""Code -> check of an ensemble's mean fit and its intervals; each member gets the :data:`CHECKS` as well."""


def _diagnose_ensemble(ensemble, X, y, X_val, y_val, codes):
    check_is_fitted(ensemble)
    member = ensemble.estimators_[0].fitted_.network
    inputs = (X, X_val)  # as the ensemble's own predict takes them
    X, Y = _validated(X, y, member, "X", "y")
    if X_val is not None:
        X_val, y_val = _validated(X_val, y_val, member, "X_val", "y_val")
    facts = EnsembleFacts(ensemble, X, Y, X_val, y_val, inputs)
    findings = [
        finding for code in ENSEMBLE_CHECKS if code in codes for finding in [ENSEMBLE_CHECKS[code](facts)] if finding
    ]
    for i, estimator in enumerate(ensemble.estimators_):
        member_facts = _facts(as_fitted_state(estimator), X, Y, X_val, y_val)
        for finding in _run_checks(member_facts, [code for code in codes if code in CHECKS]).findings:
            findings.append(replace(finding, message=f"member {i}: {finding.message}"))
    return Diagnosis(sorted(findings, key=lambda finding: SEVERITIES.index(finding.severity)))


def diagnose(model, X, y, *, activation=None, X_val=None, y_val=None, codes=None):
    """Explain what is wrong with a trained network on data ``X``, ``y``.

    Parameters
    ----------
    model : NeuralRegressor, EnsembleRegressor or sequence of (W, b)
        A fitted estimator, or a raw network as layer pairs ``a @ W + b`` with ``W`` of
        shape (fan_in, fan_out) (the last layer linear, no scaling): pass the arrays of
        your own program straight in. An ensemble is diagnosed as a whole (its mean fit
        and its intervals, :data:`ENSEMBLE_CHECKS`), and each member's findings follow,
        their messages starting "member i: ".
    X : array-like of shape (n_samples, n_features)
        Inputs in the user's units, normally the training data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    activation : str or None
        Hidden activation of layer pairs (``"relu"``, ``"tanh"``, ...); not used with an estimator.
    X_val, y_val : array-like or None
        Held-out rows for the ``overfit`` check. Without them ``overfit`` uses the
        estimator's early-stopping validation curve when there is one, else (one input)
        a training error far below the noise estimate.
    codes : iterable of str or None
        Run only these checks (keys of :data:`CHECKS` or :data:`ENSEMBLE_CHECKS`); all by default.

    Returns
    -------
    Diagnosis
        Findings sorted by severity (errors first).
    """
    from .ensemble import EnsembleRegressor  # here: the ensemble's estimators warn through this module

    known = {**CHECKS, **ENSEMBLE_CHECKS}
    codes = list(known) if codes is None else list(codes)
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise ValueError(f"codes must be among {', '.join(known)}; got {', '.join(unknown)}.")
    if (X_val is None) != (y_val is None):
        raise ValueError("Pass both X_val and y_val, or neither.")
    if isinstance(model, EnsembleRegressor):
        if activation is not None:
            raise ValueError(f"activation={activation!r} is only for a network given as (W, b) pairs.")
        return _diagnose_ensemble(model, X, y, X_val, y_val, codes)
    state = as_fitted_state(model, activation)
    X, Y = _validated(X, y, state.network, "X", "y")
    if X_val is not None:
        X_val, y_val = _validated(X_val, y_val, state.network, "X_val", "y_val")
    diagnosis = _run_checks(_facts(state, X, Y, X_val, y_val), codes)
    return replace(diagnosis, scale=described(state.network.x_transforms, state.network.y_transforms))


def _facts(state, X, Y, X_val, Y_val):
    """The :class:`FitFacts` of ``state`` on data in the user's units, read in the space the network was fitted
    in (``X`` encoded already, :func:`_validated`): with ``input_transform`` or ``target_transform`` every check
    (errors, noise, units) sees the transformed columns, as training did, and the diagnosis says so."""
    if X_val is not None:
        X_val, Y_val, _ = state.network.in_fitted_space(X_val, Y_val)
    X, Y, state = state.in_fitted_space(X, Y)
    return FitFacts(state, X, Y, X_val, Y_val)


def _run_checks(facts, codes):
    findings = [finding for code in CHECKS if code in codes for finding in [CHECKS[code](facts)] if finding]
    return Diagnosis(sorted(findings, key=lambda finding: SEVERITIES.index(finding.severity)))


def _validated(X, y, network, x_name, y_name):
    """``(X, Y)``: ``X`` as the network's inputs (dates and text encoded), ``Y`` 2-D, both checked."""
    X = check_array(network.encoded(X), dtype=np.float64, ensure_min_samples=3, input_name=x_name)
    Y = check_array(y, dtype=np.float64, ensure_2d=False, input_name=y_name)
    Y = Y.reshape(len(Y), -1) if Y.ndim == 1 else Y
    if len(X) != len(Y):
        raise ValueError(f"{x_name} has {len(X)} rows but {y_name} has {len(Y)}.")
    if X.shape[1] != network.n_features:
        raise ValueError(f"{x_name} has {X.shape[1]} columns but the network takes {network.n_features} inputs.")
    if Y.shape[1] != network.n_targets:
        raise ValueError(f"{y_name} has {Y.shape[1]} columns but the network has {network.n_targets} outputs.")
    return X, Y


FIT_CHECK_MAX_ROWS = 20_000
"""``fit``'s own check looks at a fixed random sample of this many rows of larger data: its findings compare
mean squared errors, which a sample estimates well, at a bounded cost in memory."""


def fit_check_rows(X, Y):
    """The rows :func:`warn_if_fit_failed` looks at, a copy: ``X`` and ``Y`` (2-D) whole, or a fixed random sample of
    ``FIT_CHECK_MAX_ROWS`` of them. Taken when a fit starts, so that the fit need not keep its data for the check."""
    if len(X) > FIT_CHECK_MAX_ROWS:
        rows = np.random.default_rng(0).choice(len(X), FIT_CHECK_MAX_ROWS, replace=False)
        return X[rows], Y[rows]
    return X.copy(), Y.copy()


def warn_if_fit_failed(model, X, Y, stacklevel=3):
    """Warn (:class:`FitWarning`, with the top finding) when a fit ended effectively linear or diverged.

    ``X`` and ``Y`` (2-D) are the rows of the training data :func:`fit_check_rows` took, as ``fit`` validated and
    transformed them: skipping :func:`diagnose`'s own validation halves the cost of this check on small fits.
    ``stacklevel``: the warning's, so that it points at the user's call to ``fit``.
    """
    state = as_fitted_state(model)
    state = replace(state, network=state.network.in_fitted_space(X[:0])[2])  # X, Y are already transformed
    diagnosis = _run_checks(FitFacts(state, X, Y, None, None), FIT_WARNING_CODES)
    if diagnosis.findings:
        top = diagnosis.findings[0]
        warnings.warn(f"{top.code}: {top.message} Fix: {top.fix}", FitWarning, stacklevel=stacklevel)
