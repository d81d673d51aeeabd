"""Figures of a fit: the curve through the data, the loss curves and the residuals; and, split by split
(:mod:`mlpfit.assessment`'s ``{"train": (X, y), "test": (X_test, y_test)}``), the figures of an assessment.

matplotlib is imported inside the functions (the ``plot`` extra). Figures are built
with :class:`matplotlib.figure.Figure` directly, not pyplot, so no display or
backend is needed and nothing accumulates in pyplot's global state.

A 1-D ReLU-family network's exact kinks are marked, and the interval band is drawn
when the model has ``predict_interval(X, coverage=0.95)`` -> ``(lower, upper)``
shaped like ``predict(X)`` (duck typing, as for ensembles). A date input is drawn on a date axis
(matplotlib's own for ``datetime64``); a text (categorical) input beside one of numbers or dates, as
one curve per category.
"""

import io

import numpy as np

from ._activations import ACTIVATIONS
from ._atomic import atomic_write
from ._columns import RawInputs, read_inputs
from .assessment import check_splits
from .ensemble import networks_of
from .piecewise import piecewise_linear

GRID_POINTS = 500
"""Points of the fine grid the fitted curve is drawn on."""
INTERVAL_COVERAGE = 0.95
MAX_PANELS = 12
"""Curves :func:`curves` draws unless told which: the worst fits, as many as a screen shows readably."""
PANEL_COLUMNS = 4
REESTIMATED_LABEL = "penalty re-estimated"
"""The legend entry of the marks on a Bayesian fit's data term where the penalty was re-estimated."""
REESTIMATED_STYLE = {"marker": "|", "markersize": 8, "color": "0.4"}
"""Grey ticks across the curve: light enough that an LM fit, re-estimating at every step, keeps a readable line."""
HISTOGRAM_BINS = 20
PARTIAL_DEPENDENCE_POINTS = 50
"""Values of an input of numbers or dates at which :func:`partial_dependence` averages the model."""
PARTIAL_DEPENDENCE_ROWS = 200
"""Rows :func:`partial_dependence` averages over: all of them up to this many, else a fixed random sample."""


def _matplotlib_figure():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("Plotting needs matplotlib: pip install 'mlpfit[plot]'.") from None
    return Figure


def _shown(text):
    """``text`` from the user's data (a column name, a split, a category, a group) as matplotlib shows it as
    written: each ``$`` escaped, since matplotlib reads the text between two as mathtext, which fails to parse on
    names such as ``price $ $``."""
    return str(text).replace("$", r"\$")


def require_matplotlib():
    """Raise the ImportError naming the ``plot`` extra now, before a long fit, when matplotlib is missing."""
    _matplotlib_figure()


def breakpoints(model):
    """x positions of a 1-D model's kinks, in the data's units (``datetime64`` for a date input; empty when it
    has none).

    The exact kinks of the whole network (:func:`mlpfit.piecewise_linear`) for a
    ReLU-family network with one input; none for smooth activations or other models.
    """
    activation = ACTIVATIONS.get(getattr(model, "activation", None))
    if activation is None or not activation.piecewise_linear or model.n_features_in_ != 1:
        return np.empty(0)
    if model.fitted_.network.transformed:  # piecewise linear on the log scale: its first layer's kinks
        return np.sort(model.fitted_.network.first_layer_breakpoints())
    return piecewise_linear(model).breakpoints


def _log_axes(model):
    """``(log x, log y per output)``: where the model's one input or its targets were fitted as ``"log"``
    (not ``"log1p"``, whose data may hold zeros a log axis cannot show)."""
    member = networks_of(model)[0]
    if not hasattr(member, "fitted_"):
        return False, ()
    network = member.fitted_.network
    x_log = network.n_features == 1 and (network.x_transforms or (None,))[0] == "log"
    return x_log, tuple(name == "log" for name in network.y_transforms or ())


def _as_columns(A):
    A = np.asarray(A, dtype=float)
    return A.reshape(len(A), -1)


def _labelled_runs(model):
    """``[(suffix, run), ...]``: each network's :class:`~mlpfit.TrainingRun`, or each member's for an ensemble,
    with the legend suffix that tells them apart (empty for a model of one network)."""
    members = networks_of(model)
    labelled = []
    for i, member in enumerate(members):
        runs = member.fitted_.runs if hasattr(member, "fitted_") else []
        for j, run in enumerate(runs):
            suffix = ", ".join(
                ([f"member {i}"] if len(members) > 1 else []) + ([f"network {j + 1}"] if len(runs) > 1 else [])
            )
            labelled.append((f" ({suffix})" if suffix else "", run))
    return labelled


def _loss_curves(model):
    """``[(label, curve, marks), ...]``: each network's training and validation curves. The training curve is
    its ``progress_curve``: with Bayesian regularisation the data term, whose ``marks`` are the indices where the
    penalty was re-estimated (the objective there jumps with the penalty)."""
    curves = []
    for suffix, run in _labelled_runs(model):
        training = "training data term" if run.bayesian else "training"
        curves += [
            (f"{training}{suffix}", run.progress_curve, run.reestimations),
            (f"validation{suffix}", run.validation_curve, []),
        ]
    return [(label, curve, marks) for label, curve, marks in curves if curve]


def _draw_loss(ax, model):
    _draw_record(ax, _loss_curves(model))
    ax.set_yscale("log")
    ax.set_ylabel("loss (standardised units)")
    ax.set_title("Loss curve")


def _draw_record(ax, curves):
    """Curves per iteration, ``[(label, curve, marks), ...]``, ticked at ``marks`` (one legend entry for all the
    ticks)."""
    legend = REESTIMATED_LABEL
    for label, curve, marks in curves:
        iterations, curve = np.arange(1, len(curve) + 1), np.asarray(curve)
        ax.plot(iterations, curve, label=label)
        if marks:
            ax.plot(iterations[marks], curve[marks], linestyle="none", label=legend, **REESTIMATED_STYLE)
            legend = "_nolegend_"  # one entry for every network's marks
    ax.set_xlabel("iteration")
    if ax.get_lines():
        ax.legend(fontsize="small")


def _input_columns(X):
    """The columns of ``X``: float64, ``datetime64`` (dates) or object (text), as the estimators read them."""
    inputs = read_inputs(X)
    return list(_as_columns(X).T) if inputs is None else list(inputs.arrays)


def _curve_layout(columns):
    """``(j, c)`` when the inputs are one column of numbers or dates, ``j``, drawn along x, and at most one of
    text, ``c`` (None: none), drawn as one curve per category; None otherwise (predicted against actual)."""
    along = [j for j, values in enumerate(columns) if values.dtype.kind in "fM"]
    text = [j for j, values in enumerate(columns) if values.dtype.kind == "O"]
    if len(along) != 1 or len(text) > 1 or len(columns) != 1 + len(text):
        return None
    return along[0], (text[0] if text else None)


def _grid(x, points=GRID_POINTS):
    """``points`` evenly spaced values from ``x.min()`` to ``x.max()``: numbers, or dates to the microsecond."""
    low, high = x.min(), x.max()
    if x.dtype.kind != "M":
        return np.linspace(low, high, points)
    steps = np.linspace(0, (high - low).astype(np.int64), points).round().astype(np.int64)
    return low + steps.astype(high.dtype.str.replace("M8", "m8"))


def _curves_on_grid(model, columns, layout):
    """``[(category, rows, on_grid), ...]``: per category (None without a text input) its rows and the fitted
    curve over their x (:func:`_curve_on_grid`)."""
    j, c = layout
    if c is None:
        rows = np.ones(len(columns[j]), dtype=bool)
        return [(None, rows, _curve_on_grid(model, columns[j], lambda grid: _model_input(model, [grid])))]
    curves = []
    for category in sorted(set(columns[c])):
        rows = columns[c] == category

        def inputs(grid, category=category):
            arrays = [grid, np.full(len(grid), category, dtype=object)]
            return _model_input(model, arrays if j < c else arrays[::-1])

        curves.append((category, rows, _curve_on_grid(model, columns[j][rows], inputs)))
    return curves


def _model_input(model, arrays):
    """The columns ``arrays`` as the model takes them: a DataFrame with its feature names when it was fitted on
    one (so scikit-learn does not warn), else the columns."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        import pandas  # the model was fitted on a DataFrame

        return pandas.DataFrame(dict(zip(names, arrays)))
    inputs = RawInputs(tuple(arrays))
    return inputs if inputs.needs_encoding else np.column_stack(arrays)


def _curve_on_grid(model, x, inputs):
    """The fitted curve on a fine grid over ``x``: ``(grid, curve, band, kinks, at_kinks)``, curves as columns;
    ``inputs(values)`` is the model's X with ``values`` along x.

    ``band`` is ``(lower, upper)`` or None; ``kinks`` are the breakpoints inside the data, ``at_kinks`` the
    model there.
    """
    grid = _grid(x)
    curve = _as_columns(model.predict(inputs(grid)))
    band = None
    if hasattr(model, "predict_interval"):
        band = [_as_columns(bound) for bound in model.predict_interval(inputs(grid), coverage=INTERVAL_COVERAGE)]
    kinks = breakpoints(model)  # none (an empty float array) for a model of several inputs
    if kinks.size:
        kinks = np.sort(kinks[(kinks >= x.min()) & (kinks <= x.max())])
    at_kinks = _as_columns(model.predict(inputs(kinks))) if kinks.size else None
    return grid, curve, band, kinks, at_kinks


def _draw_curves(ax, x, y, curves, k, names):
    """Output ``k`` against the one input of numbers or dates: data, fitted curve, interval band and
    breakpoints; one curve, in its own colour, per category of a text input."""
    for category, rows, on_grid in curves:
        label = names[1][k] if category is None else f"{names[1][k]}, {names[0][1]}={_shown(category)}"
        _draw_curve(ax, x[rows], y[rows], on_grid, k, label)
    ax.set_xlabel(names[0][0])
    ax.set_ylabel(names[1][k])
    ax.legend(fontsize="small")


def _draw_curve(ax, x, y, on_grid, k, label):
    grid, curve, band, kinks, at_kinks = on_grid
    (line,) = ax.plot(grid, curve[:, k], label=f"fit: {label}", zorder=3)
    ax.scatter(x, y, s=8, alpha=0.3, color=line.get_color(), zorder=1)
    if band is not None:
        ax.fill_between(
            grid,
            band[0][:, k],
            band[1][:, k],
            alpha=0.2,
            color=line.get_color(),
            label=f"{INTERVAL_COVERAGE:.0%} interval",
        )
    if kinks.size:
        ax.plot(kinks, at_kinks[:, k], "kx", zorder=4, label=f"breakpoints ({kinks.size})")


def _draw_residuals(ax, groups, xlabel):
    """Residuals against a value, ``groups`` ``[(label, against, residuals), ...]`` (label None: no legend)."""
    for label, against, residuals in groups:
        ax.scatter(against, residuals, s=8, alpha=0.5, label=label)
    ax.axhline(0.0, color="k", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("residual (data - fit)")
    if any(label is not None for label, _, _ in groups):
        ax.legend(fontsize="small")


def _draw_predicted_vs_actual(ax, y, prediction, name, color=None):
    ax.scatter(y, prediction, s=8, alpha=0.5, label=name, color=color)
    low, high = min(y.min(), prediction.min()), max(y.max(), prediction.max())
    ax.plot([low, high], [low, high], "k--", linewidth=0.8, label="predicted = actual")
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.legend(fontsize="small")


def fit(model, X, y, *, x_names=None, y_names=None):
    """A figure of a fitted model against data: one row of panels per output, the loss curve once.

    Parameters
    ----------
    model : fitted estimator
        A :class:`~mlpfit.NeuralRegressor`, an :class:`~mlpfit.EnsembleRegressor`, or any regressor
        with ``predict`` (and optionally ``predict_interval``).
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    x_names, y_names : list of str or None
        Axis labels (default ``x0, x1, ...`` and ``y0, y1, ...``).

    Returns
    -------
    matplotlib.figure.Figure
        A grid of ``n_outputs`` rows and 3 columns. Each row is one output, titled with its name when
        there are several (outputs may have different units, so each has its own axes). One input of
        numbers or dates (a date axis): the data with the fitted curve on a fine grid, breakpoints marked
        and the 95% interval when the model has ``predict_interval``; residuals against x. The same, one
        curve per category, for such an input beside one text (categorical) input. Other inputs: predicted
        against actual; residuals against the prediction. The third column is the loss curve, drawn once
        over all rows: each network's objective, or with Bayesian regularisation its data term (the
        objective rises wherever the penalty grew), ticked where the penalty was re-estimated.
        ``figure.axes`` lists each row's two panels, the loss curve after the first row's. Where the model
        was fitted with ``target_transform`` or (one input) ``input_transform``, those axes are logarithmic.
    """
    Figure = _matplotlib_figure()
    columns, Y = _input_columns(X), _as_columns(y)
    names = _names(x_names, y_names, len(columns), Y.shape[1])
    P = _as_columns(model.predict(X))
    n_outputs = Y.shape[1]
    figure = Figure(figsize=(12, 4 * n_outputs), layout="constrained")
    grid = figure.add_gridspec(n_outputs, 3)
    layout = _curve_layout(columns)
    curves = _curves_on_grid(model, columns, layout) if layout else None
    if layout:
        x, names = columns[layout[0]], ([names[0][j] for j in layout if j is not None], names[1])
    for k in range(n_outputs):
        first, second = figure.add_subplot(grid[k, 0]), figure.add_subplot(grid[k, 1])
        if curves is not None:
            _draw_curves(first, x, Y[:, k], curves, k, names)
            _draw_residuals(second, [(None, x, Y[:, k] - P[:, k])], names[0][0])
            for ax in (first, second) if x.dtype.kind == "M" else ():
                _date_axis(ax)
            titles = ("Fit", "Residuals")
        else:
            _draw_predicted_vs_actual(first, Y[:, k], P[:, k], names[1][k])
            _draw_residuals(second, [(None, P[:, k], Y[:, k] - P[:, k])], "prediction")
            titles = ("Predicted against actual", "Residuals")
        for ax, title in zip((first, second), titles):
            ax.set_title(f"{title}: {names[1][k]}" if n_outputs > 1 else title)
        _set_log_axes(first, second, curves is not None, k, *_log_axes(model))
        if k == 0:
            _draw_loss(figure.add_subplot(grid[:, 2]), model)
    return figure


def curves(batch, X, y, groups, *, which=None, x_name="x", y_name="y"):
    """A grid of panels, one per curve of a fitted :class:`~mlpfit.CurveBatch`: its rows and its fitted curve.

    Parameters
    ----------
    batch : CurveBatch or CurveDirectory
        Fitted on curves of one input; of a directory (:meth:`~mlpfit.CurveBatch.fit_to_directory`), the parts of
        the curves drawn are read.
    X : array-like of shape (n_rows,) or (n_rows, 1)
    y : array-like of shape (n_rows,)
    groups : array-like of shape (n_rows,)
        The curve of each row (a long table, as ``CurveBatch.fit`` takes one).
    which : list or None
        The groups to draw, in order; default the :data:`MAX_PANELS` worst fits by training RMSE
        (:meth:`~mlpfit.CurveBatch.worst`; of a directory, those its tally names).
    x_name, y_name : str
        Axis labels.

    Returns
    -------
    matplotlib.figure.Figure
        Up to :data:`PANEL_COLUMNS` panels a row, each titled with its group and training RMSE, with the
        curve's rows, its fitted curve on a fine grid and its breakpoints. A group that is not a fitted curve
        or has no rows is a ValueError.
    """
    Figure = _matplotlib_figure()
    x, y, groups = _as_columns(X), np.asarray(y, dtype=float).ravel(), np.asarray(groups)
    if x.shape[1] != 1:
        raise ValueError(f"plot.curves draws curves of one input; X has {x.shape[1]} columns.")
    which = batch.worst(MAX_PANELS) if which is None else list(which)
    n_columns = min(PANEL_COLUMNS, max(len(which), 1))
    n_rows = -(-len(which) // n_columns)
    figure = Figure(figsize=(4 * n_columns, 3 * max(n_rows, 1)), layout="constrained")
    for k, group in enumerate(which):
        estimator, rows = batch.curve_estimator(group), groups == group
        if not rows.any():
            raise ValueError(f"curve {group!r} has no rows in the data.")
        ax = figure.add_subplot(n_rows, n_columns, k + 1)
        on_grid = _curve_on_grid(estimator, x[rows, 0], lambda grid: grid[:, None])
        _draw_curve(ax, x[rows, 0], y[rows], on_grid, 0, _shown(group))
        ax.set_title(f"{_shown(group)}: RMSE {_training_rmse(batch, group):.3g}", fontsize="medium")
        ax.set_xlabel(_shown(x_name))
        ax.set_ylabel(_shown(y_name))
    return figure


def _training_rmse(curves, group):
    """Curve ``group``'s training RMSE, from the summary of its batch (of a directory, of its part)."""
    from ._curve_directory import CurveDirectory

    batch = curves.part(curves.part_of(group)) if isinstance(curves, CurveDirectory) else curves
    return batch.summary_["rmse"][batch.groups_.index(group)]


# --- the figures of an assessment: each takes the splits {name: (X, y)} of mlpfit.assessment.assess -------------


def _first_inputs(splits):
    """The input columns of the first split (:func:`_input_columns`); no split is a ValueError."""
    check_splits(splits)
    return _input_columns(next(iter(splits.values()))[0])


def _split_data(model, splits):
    """``[(name, columns, Y, P), ...]``: each split's name as a label (:func:`_shown`), input columns
    (:func:`_input_columns`), targets and predictions, both as columns."""
    _first_inputs(splits)
    return [
        (_shown(name), _input_columns(X), _as_columns(y), _as_columns(model.predict(X)))
        for name, (X, y) in splits.items()
    ]


def _all_rows(data):
    """The splits' input columns, targets and predictions, each split's rows after the previous one's."""
    columns = [np.concatenate(parts) for parts in zip(*(split[1] for split in data))]
    return columns, np.vstack([split[2] for split in data]), np.vstack([split[3] for split in data])


def _names(x_names, y_names, n_inputs, n_outputs):
    """``(x labels, y labels)``: the names given (:func:`_shown`), else ``x0, x1, ...`` and ``y0, y1, ...``."""
    return (
        [_shown(name) for name in x_names or [f"x{j}" for j in range(n_inputs)]],
        [_shown(name) for name in y_names or [f"y{k}" for k in range(n_outputs)]],
    )


def _output_title(title, names, k):
    """``title``, followed by output ``k``'s name when there are several outputs."""
    return f"{title}: {names[1][k]}" if len(names[1]) > 1 else title


def regression(model, splits, *, y_names=None):
    """Predicted against actual, a panel per split and output, with the least-squares line through the points and
    the correlation ``R`` of prediction and target.

    Parameters
    ----------
    model : fitted estimator
        Any regressor with ``predict``.
    splits : dict of str -> (X, y)
        Named sets of rows, as :func:`mlpfit.assessment.assess` takes them.
    y_names : list of str or None

    Returns
    -------
    matplotlib.figure.Figure
        One row of panels per output, one column per split, each titled with its split and ``R``; a perfect fit
        puts every point on the dashed line ``predicted = actual``, which the fitted line then covers.
    """
    Figure = _matplotlib_figure()
    data = _split_data(model, splits)
    n_outputs = data[0][2].shape[1]
    names = _names(None, y_names, 0, n_outputs)
    figure = Figure(figsize=(4 * len(data), 4 * n_outputs), layout="constrained")
    for k in range(n_outputs):
        for s, (name, _, Y, P) in enumerate(data):
            ax = figure.add_subplot(n_outputs, len(data), k * len(data) + s + 1)
            _draw_fitted_line(ax, Y[:, k], P[:, k])
            _draw_predicted_vs_actual(ax, Y[:, k], P[:, k], name, color=f"C{s}")
            split = f"{names[1][k]}, {name}" if n_outputs > 1 else name
            ax.set_title(f"{split}: R = {_correlation(Y[:, k], P[:, k])}")
    return figure


def _correlation(y, prediction):
    """Pearson's R of ``y`` and ``prediction`` as text ("n/a" for fewer than two rows or a constant)."""
    if len(y) < 2 or np.ptp(y) == 0 or np.ptp(prediction) == 0:
        return "n/a"
    return f"{np.corrcoef(y, prediction)[0, 1]:.4f}"


def _draw_fitted_line(ax, y, prediction):
    """The least-squares line ``prediction ~ slope * y + intercept`` over the range of ``y`` (none for fewer than
    two distinct values of ``y``)."""
    if np.ptp(y) == 0:
        return
    slope, intercept = np.polyfit(y, prediction, 1)
    ends = np.array([y.min(), y.max()])
    sign = "-" if intercept < 0 else "+"
    label = f"fit: {slope:.3g} actual {sign} {abs(intercept):.3g}"
    ax.plot(ends, slope * ends + intercept, color="C3", label=label)


def error_histogram(model, splits, *, y_names=None, bins=HISTOGRAM_BINS):
    """The errors ``y - prediction``, a histogram per output with each split's rows stacked in its own colour.

    Parameters
    ----------
    model : fitted estimator
    splits : dict of str -> (X, y)
    y_names : list of str or None
    bins : int, default=20
        Bins shared by every split, over the range of all the errors.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per output, a vertical line at zero error.
    """
    Figure = _matplotlib_figure()
    data = _split_data(model, splits)
    n_outputs = data[0][2].shape[1]
    names = _names(None, y_names, 0, n_outputs)
    figure = Figure(figsize=(6, 3.5 * n_outputs), layout="constrained")
    for k in range(n_outputs):
        ax = figure.add_subplot(n_outputs, 1, k + 1)
        errors = [Y[:, k] - P[:, k] for _, _, Y, P in data]
        edges = np.histogram_bin_edges(np.concatenate(errors), bins=bins)
        ax.hist(errors, bins=edges, stacked=True, label=[name for name, _, _, _ in data])
        ax.axvline(0.0, color="k", linewidth=0.8)
        ax.set_xlabel("error (data - fit)")
        ax.set_ylabel("rows")
        ax.set_title(_output_title("Error histogram", names, k))
        ax.legend(fontsize="small")
    return figure


def residuals(model, splits, *, x_names=None, y_names=None):
    """Residuals against each input and against the prediction, each split's rows in its own colour.

    Parameters
    ----------
    model : fitted estimator
    splits : dict of str -> (X, y)
    x_names, y_names : list of str or None

    Returns
    -------
    matplotlib.figure.Figure
        One row of panels per output: one per input (a date input on a date axis, a text input by category),
        then one against the prediction.
    """
    Figure = _matplotlib_figure()
    data = _split_data(model, splits)
    n_inputs, n_outputs = len(data[0][1]), data[0][2].shape[1]
    names = _names(x_names, y_names, n_inputs, n_outputs)
    x_log = _log_axes(model)[0]
    labelled = len(data) > 1
    figure = Figure(figsize=(3.5 * (n_inputs + 1), 3 * n_outputs), layout="constrained")
    for k in range(n_outputs):
        for j in range(n_inputs + 1):
            ax = figure.add_subplot(n_outputs, n_inputs + 1, k * (n_inputs + 1) + j + 1)
            groups = [
                (name if labelled else None, P[:, k] if j == n_inputs else _along(columns[j]), Y[:, k] - P[:, k])
                for name, columns, Y, P in data
            ]
            _draw_residuals(ax, groups, "prediction" if j == n_inputs else names[0][j])
            if j < n_inputs and data[0][1][j].dtype.kind == "M":
                _date_axis(ax)
            if j < n_inputs and x_log:
                ax.set_xscale("log")
            ax.set_title(_output_title("Residuals", names, k), fontsize="medium")
    return figure


def training_record(model):
    """How training went, per network trained (each member's for an ensemble): the data term of the objective
    (and the validation loss under early stopping), the penalty term, and the penalty ``alpha`` in force; with
    Bayesian regularisation ticked where ``alpha`` was re-estimated.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels over the iterations: the loss (as :func:`fit`'s loss panel), the penalty term (the
        objective less its data term) and ``alpha``. A model with no training record draws empty panels.
    """
    Figure = _matplotlib_figure()
    figure = Figure(figsize=(15, 4), layout="constrained")
    loss, penalty, alpha = (figure.add_subplot(1, 3, i + 1) for i in range(3))
    _draw_loss(loss, model)
    runs = _labelled_runs(model)
    terms = [
        (f"penalty term{suffix}", np.asarray(run.loss_curve) - np.asarray(run.data_curve), run.reestimations)
        for suffix, run in runs
    ]
    _draw_penalty(penalty, terms, "penalty term (standardised units)", "Penalty term")
    alphas = [(f"alpha{suffix}", run.alpha_curve, run.reestimations) for suffix, run in runs]
    _draw_penalty(alpha, alphas, "alpha (penalty in force)", "Penalty weight alpha")
    return figure


def _draw_penalty(ax, curves, ylabel, title):
    """A penalty's record (:func:`_draw_record`), on a log axis unless it is zero somewhere (``alpha=0``)."""
    _draw_record(ax, curves)
    if curves and all(np.all(np.asarray(curve) > 0) for _, curve, _ in curves):
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)


def curve(model, splits, *, x_names=None, y_names=None):
    """The fitted curve of a model of one input (numbers or dates, beside at most one text input drawn as a curve
    per category) through every split's rows: its breakpoints, and the 95% interval band when the model has
    ``predict_interval``; the rows of every split after the first ringed, labelled with their split.

    Parameters
    ----------
    model : fitted estimator
    splits : dict of str -> (X, y)
    x_names, y_names : list of str or None

    Returns
    -------
    matplotlib.figure.Figure
        One panel per output (log axes where the model was fitted on a log scale). Other inputs are a ValueError:
        :func:`partial_dependence` draws them.
    """
    Figure = _matplotlib_figure()
    data = _split_data(model, splits)
    columns, Y, _ = _all_rows(data)
    layout = _curve_layout(columns)
    if layout is None:
        raise ValueError(
            "plot.curve draws a model of one input of numbers or dates (beside at most one of text); this model "
            f"takes {len(columns)} inputs: plot.partial_dependence draws each."
        )
    names = _names(x_names, y_names, len(columns), Y.shape[1])
    x, on_grid = columns[layout[0]], _curves_on_grid(model, columns, layout)
    names = ([names[0][j] for j in layout if j is not None], names[1])
    figure = Figure(figsize=(7, 4.5 * Y.shape[1]), layout="constrained")
    for k in range(Y.shape[1]):
        ax = figure.add_subplot(Y.shape[1], 1, k + 1)
        _draw_curves(ax, x, Y[:, k], on_grid, k, names)
        for s, (name, split_columns, split_Y, _) in enumerate(data[1:], start=1):
            rings = {"facecolors": "none", "edgecolors": f"C{s + 1}", "linewidths": 1.0}
            ax.scatter(split_columns[layout[0]], split_Y[:, k], s=24, label=f"{name} rows", zorder=2, **rings)
        ax.legend(fontsize="small")
        if x.dtype.kind == "M":
            _date_axis(ax)
        _set_log_axes(ax, ax, True, k, *_log_axes(model))
        ax.set_title(_output_title("Fitted curve", names, k))
    return figure


def partial_dependence(model, splits, *, x_names=None, y_names=None):
    """Partial dependence: for each input, the model's prediction averaged over the data's rows as that input
    alone moves over its range (Friedman 2001), with the data's values of it marked along the axis.

    Parameters
    ----------
    model : fitted estimator
    splits : dict of str -> (X, y)
        The rows averaged over: every split's, up to :data:`PARTIAL_DEPENDENCE_ROWS` (a fixed random sample of
        more).
    x_names, y_names : list of str or None

    Returns
    -------
    matplotlib.figure.Figure
        A panel per input and output, up to :data:`PANEL_COLUMNS` a row: an input of numbers or dates over
        :data:`PARTIAL_DEPENDENCE_POINTS` values from its least to its greatest, a text input at each category.
        Where the other inputs vary with this one, the curve also shows values of it that the data never pair
        with theirs.
    """
    Figure = _matplotlib_figure()
    columns, Y, _ = _all_rows(_split_data(model, splits))
    names = _names(x_names, y_names, len(columns), Y.shape[1])
    sample = columns
    if len(Y) > PARTIAL_DEPENDENCE_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(len(Y), PARTIAL_DEPENDENCE_ROWS, replace=False))
        sample = [column[rows] for column in columns]
    n_panels = len(columns) * Y.shape[1]
    n_columns = min(PANEL_COLUMNS, n_panels)
    n_rows = -(-n_panels // n_columns)
    figure = Figure(figsize=(4 * n_columns, 3.2 * n_rows), layout="constrained")
    for j, column in enumerate(columns):
        values = _values(column)
        averaged = _partial_dependence(model, sample, values, j)
        for k in range(Y.shape[1]):
            ax = figure.add_subplot(n_rows, n_columns, k * len(columns) + j + 1)
            if column.dtype.kind == "O":
                ax.plot(_along(values), averaged[:, k], "o")  # categories have no order to join them in
            else:
                ax.plot(values, averaged[:, k])
                ax.plot(column, np.zeros(len(column)), "|", color="0.5", transform=ax.get_xaxis_transform())
            if column.dtype.kind == "M":
                _date_axis(ax)
            ax.set_xlabel(names[0][j])
            ax.set_ylabel(f"mean prediction: {names[1][k]}")
            ax.set_title("Partial dependence", fontsize="medium")
    return figure


def response(model, splits, *, x_names=None, y_names=None):
    """How the prediction responds to the inputs: :func:`curve` for a model of one input of numbers or dates
    (beside at most one of text), else :func:`partial_dependence`."""
    draw = curve if _curve_layout(_first_inputs(splits)) else partial_dependence
    return draw(model, splits, x_names=x_names, y_names=y_names)


def _along(column):
    """A column as drawn along an axis: a text column's categories as tick labels (:func:`_shown`)."""
    return [_shown(value) for value in column] if column.dtype.kind == "O" else column


def _values(column):
    """The values :func:`partial_dependence` sets an input to: its categories, or a grid over its range."""
    if column.dtype.kind == "O":
        return np.array(sorted(set(column)), dtype=object)
    return _grid(column, PARTIAL_DEPENDENCE_POINTS)


def _partial_dependence(model, columns, values, j):
    """For each of ``values``, the prediction averaged over the rows of ``columns`` with input ``j`` set to it,
    (n_values, n_outputs); one ``predict`` call on every row repeated once per value."""
    n_rows = len(columns[j])
    arrays = [np.repeat(values, n_rows) if i == j else np.tile(other, len(values)) for i, other in enumerate(columns)]
    predictions = _as_columns(model.predict(_model_input(model, arrays)))
    return predictions.reshape(len(values), n_rows, -1).mean(axis=1)


def _date_axis(ax):
    """Short date labels on the x axis (matplotlib's concise formatter), so that they do not overlap."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _set_log_axes(first, second, one_input, k, x_log, y_log):
    """Log axes where the data were fitted on a log scale: x (one input) on the fit and residual panels, the
    target on the fit panel's y axis, or on both axes of predicted against actual."""
    target_log = k < len(y_log) and y_log[k]
    if one_input:
        for ax in (first, second) if x_log else ():
            ax.set_xscale("log")
        if target_log:
            first.set_yscale("log")
    elif target_log:
        first.set_xscale("log")
        first.set_yscale("log")


def png_bytes(figure, *, dpi=100):
    """``figure`` rendered as PNG, in memory (so a caller can render before it writes anything)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def save_png(figure, path, *, dpi=100):
    """Write ``figure`` to ``path`` as PNG, atomically."""
    data = png_bytes(figure, dpi=dpi)
    with atomic_write(path) as file:
        file.write(data)
