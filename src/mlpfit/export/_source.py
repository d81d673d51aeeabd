"""Source code of a model's prediction: operations of :func:`mlpfit.export._program.emit` written as statements.

The NumPy and the C backend share every elementwise operation, written as one expression template over its
operands (``({0} - {1}) / {2}``); they differ in how a value is declared (a whole (N, width) array, or one row's
array of width), how constants are written, and the matrix product. Constants are the exact float64 values, as
``repr`` writes them, which Python and every C99 compiler read back to the same bits.
"""


def literal(array, brackets="[]"):
    """``array`` (float64, any dimension) as nested lists of exact float literals: ``[[0.5, -1e-05], ...]``, or
    with ``brackets="{}"`` a C initializer; a matrix has one row per line."""
    if array.ndim == 0:
        return repr(float(array))
    separator = ",\n    " if array.ndim == 2 else ", "
    return brackets[0] + separator.join(literal(item, brackets) for item in array) + brackets[1]


class SourceOps:
    """The operations every source backend writes the same way; a subclass gives ``activations`` and
    ``functions`` (name -> template of one operand ``{0}``) and the declarations."""

    activations: dict
    functions: dict

    def __init__(self):
        self.constants, self.statements, self.count = [], [], 0

    def fresh(self, stem):
        self.count += 1
        return f"{stem}{self.count}"

    def standardize(self, value, mean, scale):
        return self.elementwise("({0} - {1}) / {2}", value, self.constant(mean), self.constant(scale))

    def unstandardize(self, value, scale, mean):
        return self.elementwise("{0} * {1} + {2}", value, self.constant(scale), self.constant(mean))

    def activation(self, value, name):
        return self.elementwise(self.activations[name], value)

    def columns(self, value, functions):
        template = [self.functions[f] if f else "{0}" for f in functions]
        return self.stacked([template[j].format(self.column(value, j)) for j in range(value.width)])

    def multiply(self, value, factor):
        return self.elementwise("{0} * {1}", value, self.constant(factor))

    def add_constant(self, value, constant):
        return self.elementwise("{0} + {1}", value, self.constant(constant))

    def add(self, first, second):
        return self.elementwise("{0} + {1}", first, second)

    def subtract(self, first, second):
        return self.elementwise("{0} - {1}", first, second)

    def square(self, value):
        return self.elementwise("{0} * {0}", value)

    def sqrt(self, value):
        return self.elementwise(self.functions["sqrt"], value)

    def mean(self, values):
        terms = " + ".join(f"{{{i}}}" for i in range(len(values)))  # left to right, as NumPy adds a stack's rows
        return self.elementwise(f"({terms}) / {float(len(values))!r}", *values)

    def constant(self, array):
        """The name of a new constant holding ``array``, as a value of its last axis's width."""
        raise NotImplementedError

    def elementwise(self, template, *operands):
        """A new value: ``template`` over each column of the values (or constants) ``operands``."""
        raise NotImplementedError

    def column(self, value, j):
        """Column ``j`` of ``value`` as an operand of a template."""
        raise NotImplementedError

    def stacked(self, expressions):
        """A new value whose column ``j`` is ``expressions[j]``."""
        raise NotImplementedError
