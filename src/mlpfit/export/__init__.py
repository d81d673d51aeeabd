"""Fitted models that run without mlpfit: one ONNX graph, a NumPy module, or a C99 header.

Each export computes what ``predict`` computes, from the user's columns to the predictions in their units: the
input transforms and standardisation, the network (any depth and activation; averaged networks as the one network
they are), the output's inverse standardisation and target transform, and where ``predict(X, return_std=True)``
works (``loss="gaussian_nll"`` without a target transform, or an ensemble) the standard deviation too. An
ensemble's mean and standard deviation combine its members as :meth:`mlpfit.EnsembleRegressor.predict` does.

Exports take numbers: a date column as days since its origin (as mlpfit encodes it; each export's notes name the
origin), and a model with a text (categorical) input is refused. They check neither a transform's domain nor for
missing values: where ``predict`` raises a ValueError, they give NaN or infinity.
"""

import numpy as np

from .. import __version__
from ._program import emit, parts_of

FORMATS = {"onnx": ".onnx", "python": ".py", "c": ".h"}
"""Export format -> its file suffix (``mlpfit export`` picks the format by it)."""


def _header(parts):
    """Lines that say what the exported model is, takes and gives."""
    arch = parts.networks[0].arch
    what = f"An EnsembleRegressor of {len(parts.networks)} networks" if parts.ensemble else "A NeuralRegressor"
    return [
        f"{what} ({' -> '.join(map(str, arch.layer_sizes))}, activation {arch.activation}) fitted by mlpfit.",
        "",
        "Inputs, the columns of X:",
        *(f"  {note}" for note in parts.input_notes()),
        "Outputs: mean" + (" and std, the predictive standard deviation." if parts.has_std else "."),
    ]


def to_onnx(model, *, dtype="float64"):
    """The fitted model as one ONNX graph: input ``X`` (N, n_inputs), outputs ``mean`` and, where the model
    predicts one, ``std``, each shaped as ``predict`` returns it.

    Parameters
    ----------
    model : NeuralRegressor or EnsembleRegressor, fitted
    dtype : {"float64", "float32"}, default="float64"
        The graph's numbers: float64 (``DoubleTensorType``) computes what ``predict`` does, to rounding; float32
        (``FloatTensorType``) rounds the weights and every step to single precision (the guide's "Export" page
        gives its error).

    Returns
    -------
    onnx.ModelProto
        Run it with ``onnxruntime.InferenceSession(onnx_model.SerializeToString())``, save it with ``onnx.save``.
    """
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32'; got {dtype!r}.")
    onnx = _require("onnx")
    from ._onnx import OPSET, Graph, OnnxOps

    parts = parts_of(model)
    graph = Graph()
    results = emit(parts, OnnxOps(graph, dtype, "X"))
    element = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    shape = [-1] if parts.y_ndim == 1 else [-1, parts.n_targets]
    outputs = []
    for name, value in zip(("mean", "std"), results):
        if value is not None:
            graph.nodes.append(
                onnx.helper.make_node("Reshape", [value.name, graph.initializer(np.array(shape))], [name])
            )
            outputs.append(onnx.helper.make_tensor_value_info(name, element, ["N", *shape[1:]]))
    inputs = [onnx.helper.make_tensor_value_info("X", element, ["N", parts.n_inputs])]
    return onnx.helper.make_model(
        onnx.helper.make_graph(graph.nodes, "mlpfit", inputs, outputs, graph.initializers),
        opset_imports=[onnx.helper.make_opsetid("", OPSET)],
        producer_name="mlpfit",
        producer_version=__version__,
        doc_string="\n".join(_header(parts)),
    )


def to_python(model):
    """The fitted model as the source of a standalone Python module (NumPy alone, the weights inline as exact
    literals) with ``predict(X)``, or ``predict(X, return_std=False)`` where the model predicts a standard
    deviation, returning what the model's ``predict`` returns."""
    from ._python import module_source

    parts = parts_of(model)
    return module_source(parts, _header(parts))


def to_c(model):
    """The fitted model as a C99 header: ``static void predict(const double *X, size_t n_rows, double *mean)``
    (and ``double *std`` where the model predicts one), row-major (n_rows, n_inputs) in and (n_rows, n_outputs)
    out, with no allocation; defining ``MLPFIT_HARNESS`` adds a ``main`` that predicts rows read from stdin.

    Compile with ``cc -std=c99 ... -lm``; the header comment says what each input column takes.
    """
    from ._c import header_source

    parts = parts_of(model)
    return header_source(parts, _header(parts))


def export(model, format):
    """The model in ``format`` (a key of :data:`FORMATS`): bytes of an ONNX file, or source text."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(map(repr, FORMATS))}; got {format!r}.")
    if format == "onnx":
        return to_onnx(model).SerializeToString()
    return (to_python if format == "python" else to_c)(model)


def register_skl2onnx():
    """Teach skl2onnx to convert NeuralRegressor and EnsembleRegressor, so ``skl2onnx.to_onnx(pipeline, X[:1])``
    converts a scikit-learn Pipeline that ends in one (after a StandardScaler, a ColumnTransformer of numbers, ...).

    Inside a pipeline the model gives the output ``variable`` of shape (N, n_outputs), as skl2onnx's regressors
    do, in the dtype of its input (float64 when ``X`` is); with the option ``{"return_std": True}`` (skl2onnx's
    ``options``, as for its BayesianRidge) also ``std``, for a model whose ``predict(X, return_std=True)`` works.
    Call it once, before converting.
    """
    skl2onnx = _require("skl2onnx")
    from ..ensemble import EnsembleRegressor
    from ..estimator import NeuralRegressor

    for cls in (NeuralRegressor, EnsembleRegressor):
        skl2onnx.update_registered_converter(
            cls,
            f"Mlpfit{cls.__name__}",
            _pipeline_shape,
            _pipeline_converter,
            parser=_pipeline_parser,
            options={"return_std": [False, True]},
        )


def _pipeline_parser(scope, model, inputs, custom_parsers=None):
    """skl2onnx's parser: the model's operator, with output ``variable`` and, asked for, ``std``."""
    from skl2onnx import get_model_alias
    from skl2onnx.common.data_types import guess_tensor_type

    return_std = scope.get_options(model, {"return_std": False})["return_std"]
    if return_std and not parts_of(model).has_std:
        raise ValueError(
            "the option return_std needs a model with a standard deviation (an EnsembleRegressor, or "
            "loss='gaussian_nll' without a target transform)."
        )
    operator = scope.declare_local_operator(get_model_alias(type(model)), model)
    operator.inputs = inputs
    for name in ("variable", "std")[: 1 + return_std]:
        operator.outputs.append(scope.declare_local_variable(name, guess_tensor_type(inputs[0].type)))
    return operator.outputs


def _pipeline_shape(operator):
    """skl2onnx's shape calculator: each output (N, n_outputs) in the input's type."""
    input_type = operator.inputs[0].type
    n_outputs = parts_of(operator.raw_operator).n_targets
    for output in operator.outputs:
        output.type = input_type.__class__([input_type.shape[0], n_outputs])


def _pipeline_converter(scope, operator, container):
    """skl2onnx's converter: the model's mean (and std), from the pipeline's input variable to its outputs."""
    from skl2onnx.common.data_types import guess_numpy_type

    from ._onnx import ContainerGraph, OnnxOps

    graph = ContainerGraph(scope, container)
    dtype = guess_numpy_type(operator.inputs[0].type)
    results = emit(parts_of(operator.raw_operator), OnnxOps(graph, dtype, operator.inputs[0].full_name))
    for value, output in zip(results, operator.outputs):
        container.add_node("Identity", [value.name], [output.full_name], name=scope.get_unique_operator_name("Id"))


def _require(name):
    """The optional module ``name``, or an ImportError that names the extra to install."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError(f"this export needs {name}: pip install 'mlpfit[export]'.") from None


__all__ = ["FORMATS", "export", "register_skl2onnx", "to_c", "to_onnx", "to_python"]
