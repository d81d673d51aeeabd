"""Standardisation of inputs and targets.

Notes
-----
Networks are trained on centred, unit-scale data: it keeps initial breakpoints,
step sizes and the L2 penalty meaningful whatever the user's units. A constant
column gets scale 1 (it is only centred), so it never produces NaN.

Means and standard deviations are computed on each column divided by its largest
magnitude, so that squaring neither overflows (data near 1e300) nor underflows to
zero (data near 1e-300): any finite column whose range is finite standardises.
"""

from dataclasses import dataclass

import numpy as np

from . import _weights

CONSTANT_RELATIVE_SPREAD = 10 * np.finfo(float).eps
"""A column whose standard deviation is below this fraction of its largest magnitude counts as constant."""


@dataclass(frozen=True)
class Scaler:
    """An affine map ``(A - mean) / scale`` per column, and its inverse."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, A, sample_weight=None):
        """Column means and standard deviations of finite ``A`` (n_samples, n_columns), weighted by
        ``sample_weight`` (n_samples,) when given (those of the rows repeated by integer weights).

        Raises ValueError when a column's values span more than float64 can hold (``max - min``
        overflows), since centring it would then produce infinity. ``A`` (and ``sample_weight``) may be Dask
        arrays: the statistics are then reductions over their chunks, lazy until ``dask.compute``.
        """
        span = np.ptp(A, axis=0)
        if not np.all(np.isfinite(span)):
            column = int(np.flatnonzero(~np.isfinite(span))[0])
            raise ValueError(
                f"column {column} spans from {float(A[:, column].min()):.3g} to {float(A[:, column].max()):.3g}, "
                "a range float64 cannot hold; rescale it (e.g. to other units) before fitting."
            )
        magnitude = np.abs(A).max(axis=0)
        unit = np.where(magnitude > 0, magnitude, 1.0)
        scaled = A / unit
        mean, scale = _weights.mean(scaled, sample_weight) * unit, _weights.std(scaled, sample_weight) * unit
        scale[~(scale > CONSTANT_RELATIVE_SPREAD * magnitude)] = 1.0
        return cls(mean, scale)

    @classmethod
    def identity(cls, n_columns):
        """The scaler that changes nothing (``standardize=False``)."""
        return cls(np.zeros(n_columns), np.ones(n_columns))

    def transform(self, A):
        return (A - self.mean) / self.scale

    def inverse_transform(self, A):
        return A * self.scale + self.mean
