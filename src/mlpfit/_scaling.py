"""Standardisation of inputs and targets.

Notes
-----
Networks are trained on centred, unit-scale data: it keeps initial breakpoints,
step sizes and the L2 penalty meaningful whatever the user's units. A constant
column gets scale 1 (it is only centred), so it never produces NaN.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Scaler:
    """An affine map ``(A - mean) / scale`` per column, and its inverse."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, A):
        """Column means and standard deviations of ``A`` (n_samples, n_columns)."""
        scale = A.std(axis=0)
        scale[~(scale > 10 * np.finfo(float).eps * np.maximum(np.abs(A).max(axis=0), 1.0))] = 1.0
        return cls(A.mean(axis=0), scale)

    @classmethod
    def identity(cls, n_columns):
        """The scaler that changes nothing (``standardize=False``)."""
        return cls(np.zeros(n_columns), np.ones(n_columns))

    def transform(self, A):
        return (A - self.mean) / self.scale

    def inverse_transform(self, A):
        return A * self.scale + self.mean
