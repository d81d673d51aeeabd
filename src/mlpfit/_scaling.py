"""Standardisation of inputs and targets.

Notes
-----
Networks are trained on centred, unit-scale data: it keeps initial breakpoints,
step sizes and the L2 penalty meaningful whatever the user's units. A constant
column gets scale 1 (it is only centred), so it never produces NaN.

Means and standard deviations are computed on each column divided by its largest
magnitude, so that squaring neither overflows (data near 1e300) nor underflows to
zero (data near 1e-300): any finite column whose range is finite standardises.

Their sums run over blocks of ``BLOCK_ROWS`` rows, added in order: a Dask fit sums the same blocks on its
workers (:mod:`mlpfit._dask_data`), so it standardises as the in-memory fit of the same rows, bit for bit,
whatever the chunks its data came in.
"""

from dataclasses import dataclass
from functools import partial

import numpy as np

from ._network import add_in_order

CONSTANT_RELATIVE_SPREAD = 10 * np.finfo(float).eps
"""A column whose standard deviation is below this fraction of its largest magnitude counts as constant."""
BLOCK_ROWS = 2**16
"""Rows per block of the statistics' sums (module notes)."""


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
        overflows), since centring it would then produce infinity.
        """
        low, high = A.min(axis=0), A.max(axis=0)
        return cls.of_sums(low, high, partial(_summed_in_blocks, A, sample_weight))

    @classmethod
    def of_sums(cls, low, high, summed):
        """The scaler of columns whose least and greatest values are ``low`` and ``high``, from their sums:
        ``summed(function, **arguments)`` adds ``function(A, sample_weight, **arguments)`` (a tuple of arrays) over
        the columns' blocks of ``BLOCK_ROWS`` rows, in order."""
        with np.errstate(over="ignore"):
            span = high - low
        if not np.all(np.isfinite(span)):
            column = int(np.flatnonzero(~np.isfinite(span))[0])
            raise ValueError(
                f"column {column} spans from {low[column]:.3g} to {high[column]:.3g}, "
                "a range float64 cannot hold; rescale it (e.g. to other units) before fitting."
            )
        magnitude = np.maximum(np.abs(low), np.abs(high))
        unit = np.where(magnitude > 0, magnitude, 1.0)
        total, first = summed(weighted_sums, unit=unit)
        (second,) = summed(squared_deviation_sums, unit=unit, center=first / total)
        mean, scale = first / total * unit, np.sqrt(second / total) * unit
        scale[~(scale > CONSTANT_RELATIVE_SPREAD * magnitude)] = 1.0
        return cls(mean, scale)

    @classmethod
    def identity(cls, n_columns):
        """The scaler that changes nothing (``standardize=False``)."""
        return cls(np.zeros(n_columns), np.ones(n_columns))

    def transform(self, A):
        return (A - self.mean) / self.scale

    def transform_in_place(self, A):
        """:meth:`transform` written over ``A`` (float64), the same numbers: for rows of one's own, not copied."""
        A -= self.mean
        A /= self.scale
        return A

    def inverse_transform(self, A):
        return A * self.scale + self.mean


def weighted_sums(A, sample_weight, *, unit):
    """A block's weight (its rows without weights) and its columns' weighted sums, each divided by ``unit``.

    Computed in C order, row after row, as every sum here, so that the order does not follow ``A``'s layout."""
    scaled = np.divide(A, unit, order="C")
    if sample_weight is None:
        return np.float64(len(A)), scaled.sum(axis=0)
    return sample_weight.sum(), (sample_weight[:, None] * scaled).sum(axis=0)


def squared_deviation_sums(A, sample_weight, *, unit, center):
    """A block's weighted sums of squared deviations of its columns, divided by ``unit``, from ``center``."""
    deviations = (np.divide(A, unit, order="C") - center) ** 2
    return ((deviations if sample_weight is None else sample_weight[:, None] * deviations).sum(axis=0),)


def _summed_in_blocks(A, sample_weight, function, **arguments):
    """``function``'s sums over ``A``'s blocks of ``BLOCK_ROWS`` rows (and their weights), added in order."""
    blocks = (slice(start, start + BLOCK_ROWS) for start in range(0, len(A), BLOCK_ROWS))
    return add_in_order(
        function(A[rows], None if sample_weight is None else sample_weight[rows], **arguments) for rows in blocks
    )
