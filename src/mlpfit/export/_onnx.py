"""The model as one ONNX graph: operations of :func:`mlpfit.export._program.emit` as ONNX nodes.

Every operation is in float64 (``DoubleTensorType``) unless float32 is asked for, with only operators that
onnxruntime's CPU provider implements for doubles: ``Softplus`` and ``LeakyRelu`` are not (nor would
``LeakyRelu``'s float32 slope attribute be exact), so they are written from ``Where``, ``Max``, ``Exp`` and an
exact ``log1p``. ONNX has no ``log1p`` or ``expm1``; both are written in forms accurate to a few units in the last
place (Goldberg's ``log1p``; ``expm1(x) = tanh(x/2) (exp(x) + 1)``), not as ``log(1 + x)``.
"""

import numpy as np

from .._activations import LEAKY_SLOPE
from ._program import Value

OPSET = 17
"""The ONNX operator set the graph uses (onnxruntime 1.13 and later run it)."""


class Graph:
    """Nodes and initializers of a standalone ONNX graph, named in order."""

    def __init__(self):
        self.nodes, self.initializers, self.count = [], [], 0

    def fresh(self, stem):
        self.count += 1
        return f"{stem}_{self.count}"

    def node(self, op, inputs, **attrs):
        from onnx import helper

        output = self.fresh(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def initializer(self, array):
        from onnx import numpy_helper

        name = self.fresh("constant")
        self.initializers.append(numpy_helper.from_array(array, name))
        return name


class ContainerGraph:
    """The same interface over skl2onnx's scope and container, for a converter inside a pipeline's graph."""

    def __init__(self, scope, container):
        self.scope, self.container = scope, container

    def fresh(self, stem):
        return self.scope.get_unique_variable_name(f"mlpfit_{stem}")

    def node(self, op, inputs, **attrs):
        output = self.fresh(op.lower())
        self.container.add_node(op, inputs, [output], name=self.scope.get_unique_operator_name(op), **attrs)
        return output

    def initializer(self, array):
        from onnx import numpy_helper

        name = self.fresh("constant")
        self.container.add_initializer(name, None, None, numpy_helper.from_array(array, name))
        return name


class OnnxOps:
    """The operations :func:`~mlpfit.export._program.emit` calls, each a few nodes on (N, width) tensors of
    ``dtype``, read from the graph input ``input_name``."""

    def __init__(self, graph, dtype, input_name):
        self.graph, self.dtype, self.input_name = graph, np.dtype(dtype), input_name
        self.activations = {
            "relu": lambda z: self._node("Relu", z),
            "leaky_relu": lambda z: self._node(
                "Where",
                self._node("Greater", z, self._constant(0.0)),
                z,
                self._node("Mul", z, self._constant(LEAKY_SLOPE)),
            ),
            "tanh": lambda z: self._node("Tanh", z),
            "logistic": lambda z: self._node("Sigmoid", z),
            "softplus": self._softplus,
            "identity": lambda z: z,
        }
        self.functions = {
            "log": lambda x: self._node("Log", x),
            "log1p": self._log1p,
            "exp": lambda x: self._node("Exp", x),
            "expm1": self._expm1,
        }

    def _node(self, op, *inputs, **attrs):
        return self.graph.node(op, list(inputs), **attrs)

    def _constant(self, array):
        return self.graph.initializer(np.asarray(array, dtype=self.dtype))

    def _softplus(self, z):
        """``log(1 + exp(z))`` as NumPy's ``logaddexp(0, z)``: ``max(z, 0) + log1p(exp(-|z|))``."""
        tail = self._log1p(self._node("Exp", self._node("Neg", self._node("Abs", z))))
        return self._node("Add", self._node("Max", z, self._constant(0.0)), tail)

    def _log1p(self, x):
        """``log(u) x / (u - 1)`` with ``u = 1 + x`` (Goldberg 1991), and ``x`` where ``u`` rounds to 1."""
        u = self._node("Add", x, self._constant(1.0))
        u_minus_1 = self._node("Sub", u, self._constant(1.0))
        ratio = self._node("Div", self._node("Mul", self._node("Log", u), x), u_minus_1)
        return self._node("Where", self._node("Equal", u_minus_1, self._constant(0.0)), x, ratio)

    def _expm1(self, x):
        """``tanh(x / 2) (exp(x) + 1)``: exact in real numbers, and without ``exp(x) - 1``'s cancellation."""
        half = self._node("Tanh", self._node("Mul", x, self._constant(0.5)))
        return self._node("Mul", half, self._node("Add", self._node("Exp", x), self._constant(1.0)))

    def input(self, width):
        return Value(self.input_name, width)

    def columns(self, value, functions):
        parts = []
        for j, function in enumerate(functions):
            column = self._node(
                "Slice",
                value.name,
                self.graph.initializer(np.array([j])),
                self.graph.initializer(np.array([j + 1])),
                self.graph.initializer(np.array([1])),
            )
            parts.append(column if function is None else self.functions[function](column))
        return Value(self._node("Concat", *parts, axis=1), value.width)

    def standardize(self, value, mean, scale):
        centred = self._node("Sub", value.name, self._constant(mean))
        return Value(self._node("Div", centred, self._constant(scale)), value.width)

    def unstandardize(self, value, scale, mean):
        scaled = self._node("Mul", value.name, self._constant(scale))
        return Value(self._node("Add", scaled, self._constant(mean)), value.width)

    def dense(self, value, W, b):
        product = self._node("MatMul", value.name, self._constant(W))
        return Value(self._node("Add", product, self._constant(b)), W.shape[1])

    def activation(self, value, name):
        return Value(self.activations[name](value.name), value.width)

    def take(self, value, start, stop):
        starts, stops = self.graph.initializer(np.array([start])), self.graph.initializer(np.array([stop]))
        return Value(
            self._node("Slice", value.name, starts, stops, self.graph.initializer(np.array([1]))), stop - start
        )

    def multiply(self, value, factor):
        return Value(self._node("Mul", value.name, self._constant(factor)), value.width)

    def add_constant(self, value, constant):
        return Value(self._node("Add", value.name, self._constant(constant)), value.width)

    def add(self, first, second):
        return Value(self._node("Add", first.name, second.name), first.width)

    def subtract(self, first, second):
        return Value(self._node("Sub", first.name, second.name), first.width)

    def square(self, value):
        return Value(self._node("Mul", value.name, value.name), value.width)

    def sqrt(self, value):
        return Value(self._node("Sqrt", value.name), value.width)

    def mean(self, values):
        total = values[0].name
        for value in values[1:]:  # in order, as NumPy's mean over a stack's first axis adds them
            total = self._node("Add", total, value.name)
        return Value(self._node("Div", total, self._constant(float(len(values)))), values[0].width)
