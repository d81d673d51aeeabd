"""``mlpfit fit``: fit a table's columns, report how it went, save the model and draw the plot."""

import argparse
import os
import secrets
import sys
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

from .. import io, plot
from .._activations import ACTIVATIONS
from .._atomic import atomic_write
from .._digest import file_sha256
from .._model_file import TooLarge
from .._plan import (
    AUTO_ALPHA,
    AUTO_BATCH_SIZE,
    DEFAULT_MAX_ITER,
    DEFAULT_TOL,
    FULL_BATCH_MAX_ROWS,
    LBFGS_MAX_ITER,
    LM_TOL,
)
from .._selection import INIT_METHODS
from ..assessment import assess, held_out_rows, recorded_validation
from ..curves import CurveBatch
from ..diagnosis import FitWarning
from ..ensemble import EnsembleRegressor, networks_of
from ..estimator import NeuralRegressor
from ..solvers import SOLVERS
from . import _cluster, _curves, _tally
from ._arguments import add_columns, add_decimal, add_dropna, check_roles
from ._common import EXIT_PROBLEMS, UsageError, add_command, add_verbosity, check_outputs, diagnosis_of
from ._data import inputs_but, named_columns, read_table, select, split

MIN_ROWS = 2
"""Fewest usable rows ``fit`` accepts (the estimator's own minimum)."""


def layer_sizes(text):
    """``"10"`` -> ``(10,)``, ``"20,20"`` -> ``(20, 20)``; ``"auto"`` stays (the estimator's choice)."""
    if text == "auto":
        return text
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes such as 10 or 20,20; got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"layer sizes must be positive; got {text!r}")
    return sizes


def penalty(text):
    """``"1e-4"`` -> 0.0001; ``"auto"`` and ``"bayes"`` (Bayesian regularisation) stay."""
    if text in ("auto", "bayes"):
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, 'auto' or 'bayes'; got {text!r}") from None


def tolerance(text):
    """``"1e-6"`` -> 1e-06; ``"auto"`` stays (chosen per solver)."""
    return text if text == "auto" else float(text)


def count(text):
    """``"200"`` -> 200; ``"auto"`` stays (the fit plan's choice)."""
    return text if text == "auto" else int(text)


MODEL_OPTIONS = {
    "--hidden": (
        "hidden_layer_sizes",
        {
            "type": layer_sizes,
            "help": "units per hidden layer: 10, or 20,20 for two layers; auto: one layer as wide as the fit "
            "plan decides (one input: as many hinges as the data support; several: 10, more beyond 1,000 rows)",
        },
    ),
    "--activation": (
        "activation",
        {"choices": list(ACTIVATIONS), "help": "hidden-layer activation (the output is linear)"},
    ),
    "--solver": (
        "solver",
        {
            "choices": ["auto", *SOLVERS],
            "help": "training algorithm: lm (Levenberg-Marquardt), lbfgs, adam or sgd; auto: LM while the network "
            "and the rows allow it, else L-BFGS, else Adam for large data",
        },
    ),
    "--alpha": (
        "alpha",
        {
            "type": penalty,
            "help": "L2 penalty on the weights (standardised scale); bayes: learn it from the data (solver lm, "
            f"lbfgs or auto); auto: bayes with several inputs where affordable, else {AUTO_ALPHA:g}",
        },
    ),
    "--max-iter": (
        "max_iter",
        {
            "type": count,
            "help": f"most iterations (LM, L-BFGS) or epochs (Adam, SGD); auto: {LBFGS_MAX_ITER} for L-BFGS, "
            f"{DEFAULT_MAX_ITER} for the others",
        },
    ),
    "--tol": (
        "tol",
        {
            "type": tolerance,
            "help": "loss improvement below which training has converged (LM: relative, per accepted step); "
            f"auto: {LM_TOL:g} for LM, {DEFAULT_TOL:g} for the others",
        },
    ),
    "--restarts": ("n_restarts", {"type": int, "help": "independent starts of each network; the best run is kept"}),
    "--averaged": (
        "n_averaged",
        {
            "type": count,
            "help": "networks trained from their own starts whose mean is the model; auto: 2 where fits are "
            "cheap (up to 5 with several inputs), else 1",
        },
    ),
    "--jobs": (
        "n_jobs",
        {
            "type": int,
            "help": "parallel workers (joblib; -1: every core) for restarts, averaged networks and ensemble members",
            "default_text": "one, unless a joblib context says otherwise",
        },
    ),
    "--seed": (
        "random_state",
        {"type": int, "help": "random seed, for a reproducible fit", "default_text": "a new start every run"},
    ),
    "--init": (
        "init",
        {
            "choices": list(INIT_METHODS),
            "help": "weight initialisation; breakpoints: ReLU kinks at random points inside the data; auto: the "
            "same, but with one input and one layer chosen by forward selection of hinges (MARS)",
        },
    ),
    "--early-stopping": (
        "early_stopping",
        {"action": "store_true", "help": "hold out --validation-fraction of the rows; keep the best weights"},
    ),
    "--validation-fraction": (
        "validation_fraction",
        {"type": float, "help": "share of rows held out by --early-stopping"},
    ),
    "--learning-rate": ("learning_rate_init", {"type": float, "help": "step size of Adam and SGD"}),
    "--momentum": ("momentum", {"type": float, "help": "SGD momentum; 0 with a full batch is plain gradient descent"}),
    "--batch-size": (
        "batch_size",
        {
            "type": count,
            "help": f"minibatch rows of Adam and SGD; auto: the full batch up to {FULL_BATCH_MAX_ROWS} rows, "
            f"else {AUTO_BATCH_SIZE}",
        },
    ),
    "--log-y": (
        "target_transform",
        {
            "action": "store_const",
            "const": "log",
            "help": "fit log(y) and predict exp of the network, so a positive target is never predicted negative "
            "(a median-type prediction; every y must be > 0)",
        },
    ),
    "--no-standardize": (
        "standardize",
        {"action": "store_false", "help": "train on the raw numbers (default: centre and scale every column)"},
    ),
}
"""Command-line flag -> (NeuralRegressor parameter, argparse keywords). Flags not given keep the estimator's
defaults."""


def add_parser(subparsers):
    parser = add_command(
        subparsers,
        "fit",
        summary="fit a curve to columns of a CSV or Parquet file and save the model",
        description="Fit a neural network to columns of DATA (CSV, or Parquet with the parquet extra), print "
        "how the fit went, save the model (-o) and optionally draw the fit (--plot).",
        example="mlpfit fit data.csv --x dose --y response -o model.npz --plot fit.png\n"
        "mlpfit fit data.csv --x a,b --y c --hidden 20,20 --early-stopping --seed 0 -o model.npz\n"
        "mlpfit fit data.csv --x-all --y c -o model.npz\n"
        "mlpfit fit data.csv --x dose --y response --test-fraction 0.15 --seed 0 -o model.npz\n"
        "mlpfit fit long.csv --group sensor --x t --y value -o curves.npz --summary summary.csv --plot worst.png\n"
        "mlpfit fit measurements/ --x dose,time --y response --workers 4 -o model.npz",
        run=run,
    )
    parser.add_argument(
        "data",
        metavar="DATA",
        help="CSV or Parquet file with a header of column names; with --scheduler or --workers a Parquet file, "
        "directory or glob",
    )
    cluster = parser.add_mutually_exclusive_group()
    cluster.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="fit on the Dask cluster of this scheduler (tcp://host:8786): the rows stay on its workers "
        "(the dask extra; inputs of numbers; solver lm or lbfgs)",
    )
    cluster.add_argument(
        "--workers", type=int, metavar="N", help="fit on a local Dask cluster of N worker processes, as --scheduler"
    )
    inputs = parser.add_mutually_exclusive_group(required=True)
    add_columns(
        inputs,
        "--x",
        "input columns: numbers, ISO dates (fitted as days since the first), or text (one input per category)",
    )
    inputs.add_argument(
        "--x-all",
        action="store_true",
        help="every column of numbers or dates but the targets is an input (a text column is an error naming it)",
    )
    add_columns(parser, "--y", "target columns", required=True)
    add_columns(parser, "--log-x", "input columns fitted on their log (values > 0; one input: a log x axis in --plot)")
    parser.add_argument(
        "--weight",
        metavar="COL",
        help="column of non-negative row weights: w multiplies the row's squared error, so use 1/sigma**2 for "
        "known noise sd sigma (scaled to mean 1 to keep the penalty as without weights); weight 0 drops the row",
    )
    parser.add_argument("-o", "--output", required=True, metavar="MODEL", help="model file to write (.npz)")
    parser.add_argument(
        "--group",
        metavar="COL",
        help="fit one curve per value of this column (a CurveBatch, every curve with the model options; inputs of "
        "numbers); --plot then draws the worst fits",
    )
    parser.add_argument(
        "--per-partition",
        action="store_true",
        help="with --group, for more curves than memory holds: read DATA (Parquet) with Dask, fit it partition by "
        "partition and write the curves part by part into the directory MODEL (predict reads it as a model)",
    )
    parser.add_argument(
        "--parts",
        type=int,
        metavar="N",
        help="with --per-partition: spread the curves over N parts, a model file each (default: one per partition "
        "of DATA); more parts when a part holds more curves than a model file takes",
    )
    parser.add_argument(
        "--summary",
        metavar="CSV",
        help="with --group: write one row per curve (status, stop reason, "
        "iterations, RMSE, effective parameters, diagnosis codes)",
    )
    parser.add_argument("--plot", metavar="PNG", help="also draw the fit to this PNG file")
    parser.add_argument(
        "--test-fraction",
        type=float,
        metavar="F",
        help="hold out this share of the rows (at random; --seed makes it repeatable) as a test split, fit on the "
        "rest and report RMSE, MAE, R^2 (and an ensemble's coverage) per split; the model file records the split, "
        "so 'mlpfit report' assesses the same test rows",
    )
    add_dropna(parser)
    add_decimal(parser)
    parser.add_argument(
        "--ensemble",
        type=int,
        metavar="N",
        help="fit a deep ensemble of N networks (EnsembleRegressor), for prediction intervals",
    )
    parser.add_argument(
        "--noise",
        choices=["heteroscedastic", "homoscedastic"],
        default="heteroscedastic",
        help="with --ensemble: each member predicts a noise level varying with x (heteroscedastic, the default), "
        "or measures one on rows it holds out (homoscedastic)",
    )
    add_verbosity(parser)
    defaults = NeuralRegressor().get_params()
    options = parser.add_argument_group("model options (NeuralRegressor parameters)")
    for flag, (param, keywords) in MODEL_OPTIONS.items():
        if not keywords.get("action"):
            keywords = {
                "help": f"{keywords['help']} (default {keywords.get('default_text', defaults[param])})",
                "metavar": None if "choices" in keywords else flag[2:].upper().replace("-", "_"),
                **{key: value for key, value in keywords.items() if key not in ("help", "default_text")},
            }
        options.add_argument(flag, dest=param, default=argparse.SUPPRESS, **keywords)


def model_params(args):
    """The NeuralRegressor parameters the user set on the command line."""
    params = {param: getattr(args, param) for param, _ in MODEL_OPTIONS.values() if hasattr(args, param)}
    return {**params, "verbose": args.verbose}


@dataclass
class FitReport:
    """What the report sections read: the fitted model, its data and how the data were read."""

    model: object
    X: np.ndarray
    Y: np.ndarray
    x_names: list
    y_names: list
    rows_read: int
    notes: list
    decimal: str = "."
    decimal_detected: bool = False
    weight_name: str | None = None
    sample_weight: np.ndarray | None = None
    groups: np.ndarray | None = None
    group_name: str | None = None
    test_split: dict | None = None
    """The model file's record of the rows ``--test-fraction`` held out (:func:`hold_out_test_rows`), or None."""
    X_test: object = None
    Y_test: np.ndarray | None = None


def _data_lines(report):
    used = len(report.X) if report.test_split is None else report.test_split["n_rows"]
    dropped = report.rows_read - used
    extra = f" ({dropped} dropped for empty or NaN cells)" if dropped else ""
    mark = ""
    if report.decimal != ".":
        mark = f"; decimal mark {report.decimal!r}" + (" (detected)" if report.decimal_detected else "")
    yield (
        f"rows used: {used} of {report.rows_read}{extra}; inputs {', '.join(report.x_names)}; "
        f"target {', '.join(report.y_names)}{mark}"
    )
    if report.weight_name is not None:
        zero = int(np.count_nonzero(report.sample_weight == 0))
        dropped = f"; {zero} row(s) of weight 0 left out of the fit" if zero else ""
        yield f"weights: column {report.weight_name!r} (each row's squared error times its weight){dropped}"
    if report.test_split is not None:
        split = report.test_split
        yield (
            f"test split: {len(report.Y_test)} of {split['n_rows']} rows held out (--test-fraction "
            f"{split['fraction']:g}, seed {split['seed']}); fitted on the other {len(report.Y)}"
        )


def _training_lines(report):
    members = networks_of(report.model)
    if len(members) > 1:
        yield f"ensemble: {len(members)} networks, noise {report.model.noise}"
    for i, member in enumerate(members):
        summary = member.summary_
        prefix = f"member {i}: " if len(members) > 1 else ""
        averaged = f", mean of {summary.n_averaged} networks" if summary.n_averaged > 1 else ""
        yield (
            f"{prefix}solver: {summary.solver}, {summary.n_iter} iterations, "
            f"{summary.n_restarts} restart(s){averaged}, fit time {summary.fit_time:.3g} s"
        )
        yield f"{prefix}stopped: {summary.message}"
        if member.fitted_.penalty_line():
            yield f"{prefix}{member.fitted_.penalty_line()}"
        if summary.plan:
            yield f"{prefix}plan: {summary.plan} ('mlpfit info' shows every choice and why)"


def _validation_rmse(model):
    """RMSE on the held-out rows at the kept weights (:func:`mlpfit.assessment.recorded_validation`), as text."""
    recorded = recorded_validation(model)
    if recorded is None:
        return None
    rmse, pooled, n_networks = recorded
    of = f", the mean of {n_networks} networks'" if n_networks > 1 else ""
    if pooled:
        return f"{rmse:.4g} (standardised, all outputs{of})"
    # with target_transform the held-out loss, and so this error, is on the transformed scale
    scale = "" if model.target_transform is None else f" (of {model.target_transform}(y))"
    return f"{rmse:.4g}{scale}{of}"


def _error_lines(report):
    # Divided by each target's largest magnitude first, so that squares neither overflow nor underflow.
    magnitude = np.abs(report.Y).max(axis=0)
    Y, P = report.Y / magnitude, report.model.predict(report.X).reshape(report.Y.shape) / magnitude
    rmse = magnitude * np.sqrt(np.mean((Y - P) ** 2, axis=0))
    r2 = r2_score(Y, P, multioutput="raw_values")
    for name, error, score in zip(report.y_names, rmse, r2):
        yield f"{name}: training RMSE {error:.4g} (in {name}'s units), R^2 {score:.4f}"
    validation = _validation_rmse(report.model)
    yield (
        f"validation RMSE: {validation}"
        if validation
        else "validation: none held out (--early-stopping holds out rows)"
    )


def _split_lines(report):
    """The statistics of each split: the rows fitted on, the validation rows early stopping held out, the test rows."""
    splits = {"train": (report.X, report.Y), "test": (report.X_test, report.Y_test)}
    yield from str(assess(report.model, splits, y_names=report.y_names)).splitlines()


def _diagnosis_lines(report):
    yield from str(diagnosis_of(report.model, report.X, report.Y, report.X_test, report.Y_test)).splitlines()


def _note_lines(report):
    yield from (f"note: {note}" for note in report.notes)


def _curve_lines(report):
    yield from _tally.report_lines(report.model, report.group_name)


REPORT_SECTIONS = [_data_lines, _training_lines, _error_lines, _diagnosis_lines, _note_lines]
"""The fit report, section by section: each maps a :class:`FitReport` to lines."""
TEST_REPORT_SECTIONS = [_data_lines, _training_lines, _split_lines, _diagnosis_lines, _note_lines]
"""The report of a fit with ``--test-fraction``: the errors as a table of splits."""
CURVES_REPORT_SECTIONS = [_data_lines, _curve_lines, _note_lines]
"""The report of a fit with ``--group``: the curves' outcomes counted (``--summary`` has each curve's)."""


def training_columns(args, table):
    """``(x_names, y_names)``: the columns ``--x`` (or ``--x-all``) and ``--y`` name, each once, none both,
    and none the ``--weight`` or ``--group`` column."""
    y_names = named_columns(args.y, table.names, "--y")
    others = [name for name in (args.weight, args.group) if name is not None]
    x_names = inputs_but(table, y_names + others) if args.x_all else named_columns(args.x, table.names, "--x")
    check_roles(x_names, y_names)
    for what, name in (("weights (--weight)", args.weight), ("group (--group)", args.group)):
        if name in x_names + y_names:
            role = "an input (--x)" if name in x_names else "a target (--y)"
            raise UsageError(f"column {name!r} is both the {what} and {role}; give it one role.")
    if args.group is not None and args.group == args.weight:
        raise UsageError(f"column {args.group!r} is both the group (--group) and the weights (--weight).")
    return x_names, y_names


def _checked_weights(weights, name):
    """The ``--weight`` column's values, refused by name unless finite, non-negative and not all zero."""
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        raise UsageError(
            f"weight column {name!r} must hold finite non-negative numbers; got {weights[bad][0]:g} "
            f"({int(bad.sum())} such row(s))."
        )
    if np.count_nonzero(weights) < MIN_ROWS:
        raise UsageError(
            f"weight column {name!r} gives {np.count_nonzero(weights)} row(s) a positive weight; "
            f"fitting needs at least {MIN_ROWS}."
        )
    return weights


def read_training_data(args):
    """``(X, Y, report)``: the training columns, and a :class:`FitReport` of how they were read (with the
    ``--weight`` column's values as ``report.sample_weight``)."""
    table = read_table(args.data, decimal=args.decimal, keep=[args.group] if args.group else ())
    x_names, y_names = training_columns(args, table)
    weight = [args.weight] if args.weight is not None else []
    A, complete = select(table, x_names + y_names + weight, missing="drop" if args.dropna else "error", inputs=x_names)
    groups = None
    if args.group:
        groups, A = _curves.grouped(table, args.group, complete, args.dropna, A)
    if len(A) < MIN_ROWS:
        raise UsageError(f"{args.data} has {len(A)} usable row(s); fitting needs at least {MIN_ROWS}.")
    X, numbers = split(A, len(x_names))
    Y = numbers[:, : len(y_names)]
    weights = _checked_weights(numbers[:, -1], args.weight) if weight else None
    for name, column in zip(y_names, Y.T):
        if np.ptp(column) == 0:
            raise UsageError(
                f"target column {name!r} is constant ({column[0]:g} in every row); there is nothing to fit."
            )
    report = FitReport(
        None,
        X,
        Y,
        x_names,
        y_names,
        table.n_rows,
        [],
        table.decimal,
        table.decimal_detected,
        args.weight,
        weights,
        groups,
        args.group,
    )
    return X, Y, report


def hold_out_test_rows(args, report):
    """Take ``--test-fraction`` of the rows out of ``report``'s training data into its test split, and record in
    ``report.test_split`` what the model file keeps of it: the fraction, the seed (``--seed``, else one drawn now),
    the rows it was drawn from and the data file's name and SHA-256."""
    seed = getattr(args, "random_state", None)
    seed = secrets.randbelow(2**32) if seed is None else seed
    try:
        rows = held_out_rows(len(report.Y), args.test_fraction, seed)
    except ValueError as error:
        raise UsageError(f"--test-fraction: {error}") from None
    test = np.zeros(len(report.Y), dtype=bool)
    test[rows] = True
    report.test_split = {
        "fraction": args.test_fraction,
        "seed": seed,
        "n_rows": len(report.Y),
        "data": os.path.basename(args.data),
        "data_sha256": file_sha256(args.data),
    }
    report.X_test, report.Y_test = report.X[test], report.Y[test]
    report.X, report.Y = report.X[~test], report.Y[~test]
    if report.sample_weight is not None:
        report.sample_weight = report.sample_weight[~test]
        _checked_weights(report.sample_weight, report.weight_name)


def _input_transform(args, x_names):
    """``input_transform`` from ``--log-x``: "log" for the columns it names (each an input), else None."""
    logged = named_columns(getattr(args, "log_x", None), x_names, "--log-x")
    for name in logged:
        if name not in x_names:
            raise UsageError(f"--log-x names {name!r}, which is not an input; inputs: {', '.join(x_names)}.")
    return [("log" if name in logged else None) for name in x_names] if logged else None


def fitted_model(args, X, Y, sample_weight=None, x_names=None, groups=None):
    """The model the options describe, fitted (rows weighted by ``sample_weight``; one curve per group when
    ``groups`` are given); and the warnings to show as notes, each once. ``x_names``: the input columns, which
    ``--log-x`` names."""
    model = NeuralRegressor(**model_params(args))
    if x_names is not None:
        model.set_params(input_transform=_input_transform(args, x_names))
    if args.ensemble is not None:
        model = EnsembleRegressor(
            model, n_estimators=args.ensemble, noise=args.noise, n_jobs=model.n_jobs, random_state=model.random_state
        )
    y = Y[:, 0] if Y.shape[1] == 1 else Y
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if groups is None:
            model.fit(X, y, sample_weight)
        else:
            model = CurveBatch(model).fit(X, y, groups=groups, sample_weight=sample_weight)
    # A ConvergenceWarning repeats the report's "stopped:" line and a FitWarning its diagnosis;
    # other warnings become notes.
    ignored = (ConvergenceWarning, FitWarning)
    return model, list(dict.fromkeys(str(w.message) for w in caught if not issubclass(w.category, ignored)))


def run(args):
    """Fit, then build the report, the plot and the summary, and only then write them and the model: a failure
    anywhere before leaves every existing file as it was."""
    if args.per_partition:
        return _curves.fit_to_directory(args, NeuralRegressor(**model_params(args)), _input_transform)
    if args.parts is not None:
        raise UsageError("--parts spreads the curves of --per-partition over model files; give --per-partition.")
    check_outputs({"model": args.output, "plot": args.plot, "summary": args.summary}, {"data": args.data})
    if _cluster.wanted(args):
        return _cluster.run(args, fitted_model)
    _check_group_options(args)
    if args.plot:
        plot.require_matplotlib()
    X, Y, report = read_training_data(args)
    if report.groups is not None:
        _check_curves_data(args, X, Y)
    if args.test_fraction is not None:
        hold_out_test_rows(args, report)
        X, Y = report.X, report.Y
    model, report.notes = fitted_model(args, X, Y, report.sample_weight, report.x_names, report.groups)
    report.model = model
    x_names, y_names = report.x_names, report.y_names
    sections = REPORT_SECTIONS if report.test_split is None else TEST_REPORT_SECTIONS
    sections = sections if report.groups is None else CURVES_REPORT_SECTIONS
    lines = [line for section in sections for line in section(report)] if args.verbose else []
    png = plot.png_bytes(_figure(report)) if args.plot else None
    summary = _curves.summary_csv(model) if args.summary else None
    group = {} if args.group is None else {"group": args.group}
    try:
        io.save(model, args.output, columns={"x": x_names, "y": y_names, **group}, test_split=report.test_split)
    except TooLarge as error:
        if args.group is None:
            raise
        raise UsageError(
            f"{error.reason} Write the curves into a directory of parts instead: give DATA as Parquet with "
            "--per-partition (and --parts N)."
        ) from None
    if png is not None:
        with atomic_write(args.plot) as file:
            file.write(png)
    if summary is not None:
        with atomic_write(args.summary, "w") as file:
            file.write(summary)
    if lines:
        print("\n".join(lines))
        written = [f"plot to {args.plot}"] * bool(args.plot) + [f"summary to {args.summary}"] * bool(args.summary)
        print(", ".join([f"model written to {args.output}", *written]))
    problem = _divergence(model) if report.groups is None else _tally.problems(model)
    if problem:
        print(f"mlpfit fit: {problem}", file=sys.stderr)
    return EXIT_PROBLEMS if problem else 0


def _check_group_options(args):
    """Refuse options that do not go with ``--group`` (or need it) before any work."""
    if args.group is None and args.summary:
        raise UsageError("--summary writes one row per curve of a fit with --group; give --group COL.")
    if args.group is not None and args.ensemble is not None:
        raise UsageError("--group fits a NeuralRegressor per curve; --ensemble cannot be combined with it.")
    if args.group is not None and args.test_fraction is not None:
        raise UsageError("--test-fraction holds out rows of one model; it cannot be combined with --group.")
    if args.test_fraction is not None and not 0 < args.test_fraction < 1:
        raise UsageError(f"--test-fraction must be a number between 0 and 1; got {args.test_fraction:g}.")


def _check_curves_data(args, X, Y):
    """Refuse, before the fit, data that ``--group`` does not take: inputs of dates or text, or (with ``--plot``)
    other than one input and one target."""
    if not isinstance(X, np.ndarray):
        raise UsageError("--group fits curves of numbers: the inputs cannot hold dates or text.")
    if args.plot and (X.shape[1] != 1 or Y.shape[1] != 1):
        raise UsageError("--plot with --group draws curves of one input and one target; leave out --plot.")


def _figure(report):
    """The fit's figure: the fit against the data, or with ``--group`` the worst-fitting curves."""
    if report.groups is None:
        return plot.fit(report.model, report.X, report.Y, x_names=report.x_names, y_names=report.y_names)
    return plot.curves(
        report.model, report.X, report.Y, report.groups, x_name=report.x_names[0], y_name=report.y_names[0]
    )


def _divergence(model):
    """The line saying which networks' training diverged, or None."""
    members = networks_of(model)
    diverged = [str(i) for i, member in enumerate(members) if member.summary_.stop_reason == "diverged"]
    if not diverged:
        return None
    which = f" (member {', '.join(diverged)})" if len(members) > 1 else ""
    return f"the fit diverged{which}; the model was written, and 'mlpfit diagnose' says what to change."
