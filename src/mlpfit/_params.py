"""Declarative checks of estimator parameters, with one message form.

A constraint table maps each parameter to a list of allowed kinds; a value is
accepted when any kind accepts it. A rejected value raises
``ValueError("<name> must be <allowed>; got <value>.")``.
"""

from numbers import Integral

import numpy as np


class Interval:
    """Numbers of ``kind`` (Integral or Real) between ``low`` and ``high`` (None: unbounded)."""

    def __init__(self, kind, low, high, closed="both"):
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, self.kind):
            return False
        if not np.isfinite(value):
            return False
        left = self.low is None or (value >= self.low if self.closed in ("both", "left") else value > self.low)
        right = self.high is None or (value <= self.high if self.closed in ("both", "right") else value < self.high)
        return left and right

    def __str__(self):
        kind = "an int" if self.kind is Integral else "a float"
        lo = "-inf" if self.low is None else self.low
        hi = "inf" if self.high is None else self.high
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        return f"{kind} in {left}{lo}, {hi}{right}"


class Options:
    """One of a fixed set of strings."""

    def __init__(self, *options):
        self.options = options

    def accepts(self, value):
        return isinstance(value, str) and value in self.options

    def __str__(self):
        return "one of " + ", ".join(repr(o) for o in self.options)


class Constant:
    """Exactly ``value`` (None, True, ...)."""

    def __init__(self, value):
        self.value = value

    def accepts(self, value):
        return value is self.value

    def __str__(self):
        return repr(self.value)


class Boolean:
    def accepts(self, value):
        return isinstance(value, (bool, np.bool_))

    def __str__(self):
        return "a bool"


class LayerSizes:
    """A non-empty sequence of positive ints (or one positive int)."""

    def accepts(self, value):
        sizes = (value,) if isinstance(value, Integral) else value
        try:
            return len(sizes) > 0 and all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes)
        except TypeError:
            return False

    def __str__(self):
        return "a positive int or a non-empty tuple of positive ints"


class Seed:
    """What sklearn.utils.check_random_state accepts."""

    def accepts(self, value):
        return value is None or isinstance(value, (Integral, np.random.RandomState)) and not isinstance(value, bool)

    def __str__(self):
        return "None, an int or a numpy RandomState"


def validate_params(params, constraints):
    """Raise ValueError for the first parameter in ``params`` that no constraint accepts."""
    for name, allowed in constraints.items():
        value = params[name]
        if not any(kind.accepts(value) for kind in allowed):
            described = " or ".join(str(kind) for kind in allowed)
            raise ValueError(f"{name} must be {described}; got {value!r}.")


class PerColumn:
    """A non-empty list or tuple with one entry per column, each None or one of ``options``."""

    def __init__(self, *options):
        self.options = options

    def accepts(self, value):
        return (
            isinstance(value, (list, tuple))
            and len(value) > 0
            and all(item is None or (isinstance(item, str) and item in self.options) for item in value)
        )

    def __str__(self):
        return "a list with one entry per column, each None or one of " + ", ".join(repr(o) for o in self.options)


class InstanceOf:
    """An instance of ``cls``."""

    def __init__(self, cls):
        self.cls = cls

    def accepts(self, value):
        return isinstance(value, self.cls)

    def __str__(self):
        return f"a {self.cls.__name__}"
