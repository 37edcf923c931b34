"""ONNX export of a network's inference graph, built with the ``onnx`` package's helpers.

The graph takes ``X: (N, n_x)`` (examples as **rows**, as every ONNX runtime
expects) and returns ``(N, n_out)``: the probabilities for a sigmoid or softmax
output (named ``probabilities``), the regression values for an identity output
(named ``predictions``). Each layer is one ``Gemm(A, W, b, transB=1)``, i.e.
``A @ W.T + b`` with the course's ``W_l: (n_l, n_{l-1})`` stored as it is, followed
by its activation. A model that standardizes its inputs (``mean``, ``scale``) first
computes ``(X - mean) / scale``, as the network does. Tensors are in the model's dtype
(float32 or float64); opset 17.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import __version__
from .activations import LEAKY_SLOPE
from .saving import write_atomically

OPSET = 17
# Each activation as (ONNX operator, its attributes). Leaky ReLU is PRelu with the slope as a
# tensor in the model's dtype: LeakyRelu's ``alpha`` attribute is a 32-bit float, which would
# round 0.01 in a float64 model.
HIDDEN_OPS = {
    "relu": ("Relu", {}),
    "tanh": ("Tanh", {}),
    "sigmoid": ("Sigmoid", {}),
    "leaky_relu": ("PRelu", {}),
    "identity": ("Identity", {}),
}
OUTPUT_OPS = {
    "sigmoid": ("Sigmoid", {}),
    "softmax": ("Softmax", {"axis": 1}),  # over the classes: axis 1 of (N, C)
    "identity": ("Identity", {}),
}


def require_onnx():
    """The ``onnx`` module, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError:
        raise ImportError('ONNX export needs the onnx package: pip install "dnn_xp[onnx]"') from None
    return onnx


def output_name(output: str) -> str:
    """The graph output's name: ``"predictions"`` for an identity output, else ``"probabilities"``."""
    return "predictions" if output == "identity" else "probabilities"


def network_nodes(layers, hidden: str, output: str, prefix: str = "", scaling=None):
    """The nodes and weights computing a network's output from the graph input ``X``.

    ``layers`` are host arrays ``[(W1: (n_1, n_0), b1: (n_1, 1)), ...]``; ``scaling`` is
    ``None`` or the host ``(mean, scale)``, each ``(n_0, 1)``, applied to ``X`` first. Returns
    ``(nodes, initializers, name)`` where ``name`` is the tensor holding ``(N, n_L)``.
    """
    require_onnx()
    from onnx import helper, numpy_helper

    for kind, name, table in (("hidden", hidden, HIDDEN_OPS), ("output", output, OUTPUT_OPS)):
        if name not in table:
            raise ValueError(f"{kind}={name!r} has no ONNX export; exportable: {', '.join(table)}")
    nodes, weights, A = [], [], "X"
    if scaling is not None:
        dtype = layers[0][0].dtype
        for name, values in zip(("mean", "scale"), scaling):
            weights.append(numpy_helper.from_array(np.asarray(values, dtype).reshape(-1), f"{prefix}{name}"))
        nodes += [helper.make_node("Sub", ["X", f"{prefix}mean"], [f"{prefix}centered"], name=f"{prefix}center"),
                  helper.make_node("Div", [f"{prefix}centered", f"{prefix}scale"], [f"{prefix}X_scaled"],
                                   name=f"{prefix}standardize")]
        A = f"{prefix}X_scaled"
    slope = []
    if hidden == "leaky_relu" and len(layers) > 1:
        weights.append(numpy_helper.from_array(np.full(1, LEAKY_SLOPE, layers[0][0].dtype), f"{prefix}slope"))
        slope = [f"{prefix}slope"]
    for l, (W, b) in enumerate(layers, start=1):
        last = l == len(layers)
        weights += [numpy_helper.from_array(np.ascontiguousarray(W), f"{prefix}W{l}"),
                    numpy_helper.from_array(np.ascontiguousarray(b).reshape(-1), f"{prefix}b{l}")]
        nodes.append(helper.make_node("Gemm", [A, f"{prefix}W{l}", f"{prefix}b{l}"], [f"{prefix}Z{l}"],
                                      name=f"{prefix}linear{l}", transB=1))
        op, attributes = (OUTPUT_OPS[output] if last else HIDDEN_OPS[hidden])
        A = output_name(output) if last and not prefix else f"{prefix}A{l}"
        extra = [] if last else slope
        nodes.append(helper.make_node(op, [f"{prefix}Z{l}", *extra], [A], name=f"{prefix}activation{l}",
                                      **attributes))
    return nodes, weights, A


def make_model(nodes, weights, inputs, outputs, doc: str):
    """A checked opset-17 ``ModelProto`` from graph parts made by ``onnx.helper``."""
    onnx = require_onnx()
    from onnx import helper

    graph = helper.make_graph(nodes, "dnn_xp", inputs, outputs, weights, doc_string=doc)
    opsets = [helper.make_opsetid("", OPSET)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="dnn_xp",
                              producer_version=__version__, doc_string=doc,
                              ir_version=helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(model, full_check=True)
    return model


def tensor_info(name: str, dtype: np.dtype, columns: int | None):
    """A ``(N, columns)`` tensor description with a symbolic batch size ``N``."""
    from onnx import helper

    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), ["N", columns])


def network_to_onnx(layers, hidden: str, output: str, scaling=None):
    """The ``ModelProto`` of a network given by host ``layers``, ``hidden`` and ``output`` names,
    standardizing ``X`` first when ``scaling`` is its host ``(mean, scale)``."""
    dtype = layers[0][0].dtype
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"ONNX export needs float32 or float64 parameters; got {dtype}")
    nodes, weights, result = network_nodes(layers, hidden, output, scaling=scaling)
    dims = [layers[0][0].shape[1]] + [W.shape[0] for W, _ in layers]
    doc = f"dnn_xp network {dims}, hidden {hidden}, output {output}; X: (N, {dims[0]}), examples as rows"
    return make_model(nodes, weights, [tensor_info("X", dtype, dims[0])],
                      [tensor_info(result, dtype, dims[-1])], doc)


def save_onnx(model, path) -> Path:
    """Write a ``ModelProto`` to ``path`` atomically; returns the path."""
    data = model.SerializeToString()
    return write_atomically(path, lambda handle: handle.write(data))


def classifier_to_onnx(layers, hidden: str, output: str, classes: np.ndarray):
    """The graph of a fitted ``DNNClassifier``: outputs ``label: (N,)`` and ``probabilities: (N, C)``.

    A sigmoid network's ``p: (N, 1)`` becomes ``[1 - p, p]``; ``label`` is the class of
    the largest probability, taken from ``classes`` (numbers or strings).
    """
    require_onnx()
    from onnx import helper, numpy_helper

    dtype = layers[0][0].dtype
    nodes, weights, P = network_nodes(layers, hidden, output, prefix="net_")
    if output == "sigmoid":
        weights.append(numpy_helper.from_array(np.ones((1, 1), dtype), "one"))
        nodes += [helper.make_node("Sub", ["one", P], ["net_complement"], name="complement"),
                  helper.make_node("Concat", ["net_complement", P], ["probabilities"], name="both_classes", axis=1)]
    else:
        nodes.append(helper.make_node("Identity", [P], ["probabilities"], name="probabilities"))
    labels = classes.astype(object) if classes.dtype.kind in "US" else classes
    weights.append(numpy_helper.from_array(np.asarray(labels), "classes"))
    nodes += [helper.make_node("ArgMax", ["probabilities"], ["index"], name="most_probable", axis=1, keepdims=0),
              helper.make_node("Gather", ["classes", "index"], ["label"], name="label", axis=0)]
    label_type = helper.make_tensor_value_info("label", weights[-1].data_type, ["N"])
    n_x = layers[0][0].shape[1]
    doc = f"dnn_xp DNNClassifier, {len(classes)} classes; X: (N, {n_x}), examples as rows"
    return make_model(nodes, weights, [tensor_info("X", dtype, n_x)],
                      [label_type, tensor_info("probabilities", dtype, len(classes))], doc)


def regressor_to_onnx(layers, hidden: str, single_output: bool):
    """The graph of a fitted ``DNNRegressor``: ``predictions`` ``(N,)`` for one target, else ``(N, k)``."""
    require_onnx()
    from onnx import helper, numpy_helper

    dtype = layers[0][0].dtype
    nodes, weights, Y = network_nodes(layers, hidden, "identity", prefix="net_" if single_output else "")
    n_x, k = layers[0][0].shape[1], layers[-1][0].shape[0]
    result = tensor_info("predictions", dtype, k)
    if single_output:
        weights.append(numpy_helper.from_array(np.array([-1], np.int64), "flat"))
        nodes.append(helper.make_node("Reshape", [Y, "flat"], ["predictions"], name="one_target"))
        result = helper.make_tensor_value_info("predictions", helper.np_dtype_to_tensor_dtype(dtype), ["N"])
    doc = f"dnn_xp DNNRegressor, {k} target(s); X: (N, {n_x}), examples as rows"
    return make_model(nodes, weights, [tensor_info("X", dtype, n_x)], [result], doc)
