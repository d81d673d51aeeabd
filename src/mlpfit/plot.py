"""Figures of a fit: the curve through the data, the loss curves and the residuals.

matplotlib is imported inside the functions (the ``plot`` extra). Figures are built
with :class:`matplotlib.figure.Figure` directly, not pyplot, so no display or
backend is needed and nothing accumulates in pyplot's global state.

A 1-D ReLU-family network's exact kinks are marked, and the interval band is drawn
when the model has ``predict_interval(X, coverage=0.95)`` -> ``(lower, upper)``
shaped like ``predict(X)`` (duck typing, as for ensembles).
"""

import io

import numpy as np

from ._activations import ACTIVATIONS
from ._atomic import atomic_write
from .ensemble import networks_of
from .piecewise import piecewise_linear

GRID_POINTS = 500
"""Points of the fine grid the fitted curve is drawn on."""
INTERVAL_COVERAGE = 0.95


def _matplotlib_figure():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("Plotting needs matplotlib: pip install 'mlpfit[plot]'.") from None
    return Figure


def require_matplotlib():
    """Raise the ImportError naming the ``plot`` extra now, before a long fit, when matplotlib is missing."""
    _matplotlib_figure()


def breakpoints(model):
    """x positions of a 1-D model's kinks, in the data's units (empty when it has none).

    The exact kinks of the whole network (:func:`mlpfit.piecewise_linear`) for a
    ReLU-family network with one input; none for smooth activations or other models.
    """
    activation = ACTIVATIONS.get(getattr(model, "activation", None))
    if activation is None or not activation.piecewise_linear or model.n_features_in_ != 1:
        return np.empty(0)
    return piecewise_linear(model).breakpoints


def _as_columns(A):
    A = np.asarray(A, dtype=float)
    return A.reshape(len(A), -1)


def _loss_curves(model):
    """``[(label, curve), ...]``: training and validation losses, or each member's for an ensemble."""
    members = networks_of(model)
    curves = []
    for i, member in enumerate(members):
        runs = member.fitted_.runs if hasattr(member, "fitted_") else []
        for j, run in enumerate(runs):
            suffix = ", ".join(
                ([f"member {i}"] if len(members) > 1 else []) + ([f"network {j + 1}"] if len(runs) > 1 else [])
            )
            suffix = f" ({suffix})" if suffix else ""
            curves += [(f"training{suffix}", run.loss_curve), (f"validation{suffix}", run.validation_curve)]
    return [(label, curve) for label, curve in curves if curve]


def _draw_loss(ax, model):
    for label, curve in _loss_curves(model):
        ax.plot(np.arange(1, len(curve) + 1), curve, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss (standardised units)")
    ax.set_title("Loss curve")
    if ax.get_lines():
        ax.legend(fontsize="small")


def _draw_curve(ax, model, X, Y, names):
    x = X[:, 0]
    grid = np.linspace(x.min(), x.max(), GRID_POINTS)[:, None]
    curve = _as_columns(model.predict(grid))
    band = None
    if hasattr(model, "predict_interval"):
        band = [_as_columns(bound) for bound in model.predict_interval(grid, coverage=INTERVAL_COVERAGE)]
    for k in range(Y.shape[1]):
        (line,) = ax.plot(grid[:, 0], curve[:, k], label=f"fit: {names[1][k]}", zorder=3)
        ax.scatter(x, Y[:, k], s=8, alpha=0.3, color=line.get_color(), zorder=1)
        if band is not None:
            ax.fill_between(
                grid[:, 0],
                band[0][:, k],
                band[1][:, k],
                alpha=0.2,
                color=line.get_color(),
                label=f"{INTERVAL_COVERAGE:.0%} interval",
            )
    kinks = breakpoints(model)
    kinks = np.sort(kinks[(kinks >= x.min()) & (kinks <= x.max())])
    if kinks.size:
        ax.plot(
            kinks, _as_columns(model.predict(kinks[:, None]))[:, 0], "kx", zorder=4, label=f"breakpoints ({kinks.size})"
        )
    ax.set_xlabel(names[0][0])
    ax.set_ylabel(", ".join(names[1]))
    ax.set_title("Fit")
    ax.legend(fontsize="small")


def _draw_residuals(ax, against, residuals, xlabel):
    for k in range(residuals.shape[1]):
        ax.scatter(against[:, min(k, against.shape[1] - 1)], residuals[:, k], s=8, alpha=0.5)
    ax.axhline(0.0, color="k", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("residual (data - fit)")
    ax.set_title("Residuals")


def _draw_predicted_vs_actual(ax, Y, P, names):
    for k in range(Y.shape[1]):
        ax.scatter(Y[:, k], P[:, k], s=8, alpha=0.5, label=names[1][k])
    low, high = min(Y.min(), P.min()), max(Y.max(), P.max())
    ax.plot([low, high], [low, high], "k--", linewidth=0.8, label="predicted = actual")
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.set_title("Predicted against actual")
    ax.legend(fontsize="small")


def fit(model, X, y, *, x_names=None, y_names=None):
    """A figure of a fitted model against data.

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
        One input: the data with the fitted curve on a fine grid, breakpoints marked and the
        95% interval when the model has ``predict_interval``; residuals against x; the loss
        curve. Several inputs: predicted against actual; residuals against the prediction;
        the loss curve.
    """
    Figure = _matplotlib_figure()
    X, Y = _as_columns(X), _as_columns(y)
    names = (x_names or [f"x{j}" for j in range(X.shape[1])], y_names or [f"y{k}" for k in range(Y.shape[1])])
    P = _as_columns(model.predict(X))
    figure = Figure(figsize=(12, 4), layout="constrained")
    first, second, third = figure.subplots(1, 3)
    if X.shape[1] == 1:
        _draw_curve(first, model, X, Y, names)
        _draw_residuals(second, X, Y - P, names[0][0])
    else:
        _draw_predicted_vs_actual(first, Y, P, names)
        _draw_residuals(second, P, Y - P, "prediction")
    _draw_loss(third, model)
    return figure


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
