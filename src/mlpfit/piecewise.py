"""The exact piecewise-linear form of a ReLU-family network on one input.

Notes
-----
A network whose hidden activations are linear on each side of zero (ReLU, leaky
ReLU, identity) is, along its single input, a continuous piecewise-linear function.
:func:`piecewise_linear` finds it exactly, layer by layer: with the cuts found so
far, every earlier unit keeps one activation pattern on each segment, so the
current layer's pre-activations are affine there, ``z = p s + q``, and its new
kinks are the zeros ``s = -q / p`` that fall inside their segment. Propagating the
affine maps through the pattern at each segment's midpoint gives the next layer's
maps; after the last hidden layer the output map is each segment's line. Scalers
are undone at the end, so the table is in the user's units.

A unit whose weight has shrunk to nearly zero still bends, at ``-b / w``, often
far outside the data (``-1.8e11`` for ``x`` in ``[0, 3000]``), where it changes the
slope by a rounding error. Neighbouring segments whose lines agree to
:data:`SAME_LINE_RTOL` are therefore one segment, so every breakpoint listed is one
where the function bends.
"""

from dataclasses import dataclass, replace

import numpy as np

from ._activations import ACTIVATIONS
from ._columns import Categories, Dates, date_text
from ._fitted import as_fitted_state
from ._transforms import described

SAME_LINE_RTOL = 1e-9
"""Neighbouring segments are one line when their slopes differ by at most this fraction of the largest |slope|
and their intercepts by at most this fraction of the largest |intercept| (per output): the kink is rounding."""


@dataclass(frozen=True)
class PiecewiseLinear:
    """A continuous piecewise-linear function of one variable, ``y = slopes[k] * x + intercepts[k]``.

    Attributes
    ----------
    breakpoints : ndarray of shape (n_segments - 1,)
        Sorted positions (user's x units; ``datetime64[us]`` for a date input) where the line changes by more
        than rounding (:data:`SAME_LINE_RTOL`); segment ``k`` runs from ``breakpoints[k - 1]`` to
        ``breakpoints[k]`` (unbounded at both ends).
    slopes, intercepts : ndarray of shape (n_segments,) or (n_segments, n_outputs)
        Each segment's line in the user's units; 2-D when the model has a 2-D target. For a date input the
        line is in days since ``date.origin``: slopes per day, intercepts at the origin.
    date : Dates or None
        The date input's encoding (:class:`mlpfit._columns.Dates`), or None for a number.
    """

    breakpoints: np.ndarray
    slopes: np.ndarray
    intercepts: np.ndarray
    date: Dates | None = None

    def __call__(self, x):
        """The function at ``x`` of shape (n_samples,) or (n_samples, 1) (dates for a date input), shaped like
        ``predict``'s output."""
        x = np.asarray(x) if self.date else np.asarray(x, dtype=np.float64)
        if x.ndim > 2 or (x.ndim == 2 and x.shape[1] != 1):
            raise ValueError(f"x must have shape (n_samples,) or (n_samples, 1); got {x.shape}.")
        x = x.reshape(-1)
        breakpoints = self.breakpoints
        if self.date:
            x, breakpoints = self.date.days(x), self.date.days(breakpoints)
        segment = np.searchsorted(breakpoints, x, side="right")
        if self.slopes.ndim == 2:
            x = x[:, None]
        return self.slopes[segment] * x + self.intercepts[segment]

    def __str__(self):
        lines = [f"Piecewise-linear function, {len(self.slopes)} segments:"]
        if self.date:
            edges = ["-inf", *date_text(self.breakpoints), "inf"]
            lines[0] = lines[0][:-1] + f" (x in days since {self.date.origin}, edges as dates):"
        else:
            edges = [f"{edge:.6g}" for edge in (-np.inf, *self.breakpoints, np.inf)]
        for k, (slope, intercept) in enumerate(zip(self.slopes, self.intercepts)):
            span = f"{edges[k]:>12} <= x < {edges[k + 1]:<12}"
            lines.append(f"  {span}  y = {np.round(slope, 6)} * x + {np.round(intercept, 6)}")
        return "\n".join(lines)


def piecewise_linear(model, *, activation=None):
    """The exact piecewise-linear function computed by a ReLU-family network with one input.

    Parameters
    ----------
    model : NeuralRegressor or sequence of (W, b)
        A fitted estimator, or layer pairs ``a @ W + b`` (last layer linear, no scaling).
    activation : str or None
        The hidden activation of layer pairs; not used with an estimator.

    Returns
    -------
    PiecewiseLinear
        Sorted breakpoints and each segment's slope and intercept in the user's units (a date input:
        breakpoints as dates, lines in days since the origin); evaluating it equals ``model.predict`` up to
        rounding.

    Raises
    ------
    ValueError
        If the network has more than one input or a hidden activation that is not
        piecewise linear (tanh, logistic, softplus), its input is text (categories), or it was fitted with
        ``input_transform`` or ``target_transform`` (then it is piecewise linear only on the transformed scale).
    """
    network = as_fitted_state(model, activation).network.means()
    if network.transformed:
        scale = described(network.x_transforms, network.y_transforms)
        raise ValueError(
            "piecewise_linear needs a model fitted without input_transform and target_transform; this one is "
            f"piecewise linear only on the transformed scale ({scale}), not in the user's units."
        )
    if not ACTIVATIONS[network.arch.activation].piecewise_linear and len(network.arch.layer_sizes) > 2:
        allowed = sorted(name for name, activation in ACTIVATIONS.items() if activation.piecewise_linear)
        raise ValueError(
            f"piecewise_linear needs a piecewise-linear activation ({', '.join(allowed)}); "
            f"the network uses {network.arch.activation!r}."
        )
    encoding = network.x_encoding
    if network.n_features != 1 or encoding is not None and isinstance(encoding.columns[0], Categories):
        inputs = f"{network.n_inputs} input column(s), {network.n_features} network input(s)"
        raise ValueError(f"piecewise_linear needs one input of numbers or dates; this model has {inputs}.")
    cuts = np.empty(0)
    for layer in range(len(network.arch.shapes) - 1):
        p, q = _segment_maps(network, cuts)[layer]
        low, high = _segment_bounds(cuts)
        with np.errstate(divide="ignore", invalid="ignore"):
            zeros = -q / p
        inside = (p != 0) & (zeros > low[:, None]) & (zeros < high[:, None])
        cuts = np.unique(np.concatenate([cuts, zeros[inside]]))
    p, q = _segment_maps(network, cuts)[-1]
    function = _in_user_units(network, cuts, p, q)
    if encoding is None or not isinstance(encoding.columns[0], Dates):
        return function
    date = encoding.columns[0]
    return replace(function, breakpoints=date.dates(function.breakpoints), date=date)


def _segment_bounds(cuts):
    return np.concatenate([[-np.inf], cuts]), np.concatenate([cuts, [np.inf]])


def _segment_maps(network, cuts):
    """Per layer, the affine pre-activation ``p * s + q`` on each segment, arrays (n_segments, units).

    ``s`` is the input as the network sees it; each earlier layer's pattern is read at the segment's midpoint.
    """
    low, high = _segment_bounds(cuts)
    if len(cuts):
        midpoints = np.where(np.isfinite(low), np.where(np.isfinite(high), (low + high) / 2, low + 1), high - 1)
    else:
        midpoints = np.zeros(1)
    activation = ACTIVATIONS[network.arch.activation]
    coefs, intercepts = network.arch.unpack(network.theta)
    p, q = np.ones((len(midpoints), 1)), np.zeros((len(midpoints), 1))
    maps = []
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        if layer:
            z = p * midpoints[:, None] + q
            slope = activation.derivative(z, activation.forward(z))
            p, q = p * slope, q * slope
        p, q = p @ W, q @ W + b
        maps.append((p, q))
    return maps


def _in_user_units(network, cuts, p, q):
    """Undo the scalers: ``x = s * x_scale + x_mean`` and ``y = out * y_scale + y_mean``; merge equal neighbours."""
    x_mean, x_scale = network.x_scaler.mean[0], network.x_scaler.scale[0]
    y_mean, y_scale = network.y_scaler.mean, network.y_scaler.scale
    slopes = p * y_scale / x_scale
    intercepts = (q - p * x_mean / x_scale) * y_scale + y_mean
    starts = _line_starts(slopes, intercepts)
    keep = _nearest_the_data(starts, cuts)
    breakpoints = cuts[starts[1:]] * x_scale + x_mean
    slopes, intercepts = slopes[keep], intercepts[keep]
    if network.y_ndim == 1:
        slopes, intercepts = slopes[:, 0], intercepts[:, 0]
    return PiecewiseLinear(breakpoints, slopes, intercepts)


def _line_starts(slopes, intercepts):
    """Mask (n_segments,): True where a segment's line differs from the line of the run before it by more than
    :data:`SAME_LINE_RTOL` (compared with the run's first segment, so a run cannot drift)."""
    slope_tolerance = SAME_LINE_RTOL * np.abs(slopes).max(axis=0)
    intercept_tolerance = SAME_LINE_RTOL * np.abs(intercepts).max(axis=0)
    starts = np.zeros(len(slopes), dtype=bool)
    starts[0], first = True, 0
    for k in range(1, len(slopes)):
        if np.any(np.abs(slopes[k] - slopes[first]) > slope_tolerance) or np.any(
            np.abs(intercepts[k] - intercepts[first]) > intercept_tolerance
        ):
            starts[k], first = True, k
    return starts


def _nearest_the_data(starts, cuts):
    """Per run of one line, the index of its segment nearest the data's centre (``s = 0``), whose line has the
    least rounding where the model is used."""
    low, high = _segment_bounds(cuts)
    distance = np.maximum(np.maximum(low, -high), 0.0)
    run = np.cumsum(starts) - 1
    order = np.lexsort((distance, run))
    return order[np.concatenate([[True], np.diff(run[order]) > 0])]
