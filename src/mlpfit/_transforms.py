"""Transforms of inputs and targets applied before standardisation: name -> forward map, inverse, domain.

A positive quantity fitted on its logarithm is predicted as ``exp`` of the network, so never negative or zero
(``target_transform="log"``); an input spanning decades is often a straighter curve against its logarithm
(``input_transform``). The network is trained on the transformed columns, standardised as usual, and its
predictions are mapped back through the inverse.

Notes
-----
The inverse of a transform is applied to the network's mean in the transformed space. For ``"log"`` that is
the exponential of the mean of ``log y``: a median-type prediction (the geometric mean), below the mean of
``y`` when the noise is multiplicative (by ``exp(sigma**2 / 2)`` for log-normal noise). No bias correction is
applied or offered: the fit does not know ``sigma`` reliably, and the median is what a log fit estimates.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Transform:
    """One transform: ``forward`` (user's units -> fitted space), its ``inverse``, and its domain ``x > low``."""

    forward: Callable
    inverse: Callable
    low: float

    @property
    def domain(self):
        return f"> {self.low:g}"


TRANSFORMS = {
    "log": Transform(np.log, np.exp, 0.0),
    "log1p": Transform(np.log1p, np.expm1, -1.0),
}
"""Transform name -> :class:`Transform`: what ``target_transform`` and ``input_transform`` may name."""


def per_column(input_transform, n_features):
    """``input_transform`` as a tuple of one name or None per column, or None when no column is transformed.

    Raises ValueError when a sequence does not have ``n_features`` entries.
    """
    if input_transform is None:
        return None
    if isinstance(input_transform, str):
        return (input_transform,) * n_features
    names = tuple(input_transform)
    if len(names) != n_features:
        raise ValueError(
            f"input_transform has {len(names)} entries (one per column, None or a transform name); "
            f"X has {n_features} columns."
        )
    return names if any(name is not None for name in names) else None


def check_domain(A, names, what):
    """Raise ValueError naming the first column and row of ``A`` (n_samples, n_columns) outside the domain of
    its transform ``names[j]``; ``what`` names the columns (``"input column"``, ``"target column"``; or a tuple of
    each column's name)."""
    for j, name in enumerate(names or ()):
        if name is None:
            continue
        transform = TRANSFORMS[name]
        outside = np.flatnonzero(~(A[:, j] > transform.low))
        if outside.size:
            row, column = int(outside[0]), what[j] if isinstance(what, tuple) else f"{what} {j}"
            raise ValueError(
                f"{column} is transformed by {name!r}, which needs values {transform.domain}; row {row} has "
                f"{float(A[row, j])!r} ({outside.size} of {len(A)} rows outside). Drop or shift those rows, or fit "
                "without the transform."
            )


def forward(A, names, what):
    """``A`` (n_samples, n_columns) with column ``j`` mapped by ``names[j]`` (``names`` None: ``A`` itself),
    its domain checked first (:func:`check_domain`)."""
    if names is None:
        return A
    check_domain(A, names, what)
    A = A.copy()
    for j, name in enumerate(names):
        if name is not None:
            A[:, j] = TRANSFORMS[name].forward(A[:, j])
    return A


def inverse(A, names):
    """The inverse of :func:`forward`: the fitted space back to the user's units (``names`` None: ``A`` itself)."""
    if names is None:
        return A
    A = A.copy()
    for j, name in enumerate(names):
        if name is not None:
            with np.errstate(over="ignore"):
                A[:, j] = TRANSFORMS[name].inverse(A[:, j])
    return A


def described(x_transforms, y_transforms):
    """``"log(x0), log(y0)"``: the transformed input and target columns; empty when none is."""
    parts = []
    for kind, names in (("x", x_transforms), ("y", y_transforms)):
        parts += [f"{name}({kind}{j})" for j, name in enumerate(names or ()) if name is not None]
    return ", ".join(parts)
