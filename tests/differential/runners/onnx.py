"""onnxruntime runner: builds a one-node model from the make_node call and runs it.

Opset 21 (IR version 10), CPUExecutionProvider. Every error, at model
creation, session creation or run, is a refusal.
"""

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from runners.generated import routed

OPSET = 21
IR_VERSION = 10
NAMESPACE = {"onnx": onnx, "helper": helper, "make_node": helper.make_node}


def build(node, shapes: dict) -> bytes:
    """Serialized model: the node's inputs as float32 graph inputs, its outputs unshaped."""
    names = list(dict.fromkeys(name for name in node.input if name))
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shapes[name])) for name in names]
    outputs = [helper.make_empty_tensor_value_info(name) for name in node.output if name]
    graph = helper.make_graph([node], "convarith", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    return model.SerializeToString()


def run(request: dict) -> dict:
    if request.get("ping"):
        return {"version": ort.__version__, "onnx": onnx.__version__, "opset": OPSET}
    node = eval(request["expr"], dict(NAMESPACE))  # test oracle: builds the real node
    shapes = request.get("shapes") or {}
    arrays = request.get("arrays") or {}
    options = ort.SessionOptions()
    options.log_severity_level = 4
    session = ort.InferenceSession(build(node, shapes), options, providers=["CPUExecutionProvider"])
    feeds = {
        name: np.asarray(arrays[name], dtype=np.float32) if name in arrays else np.zeros(shapes[name], np.float32)
        for name in dict.fromkeys(node.input)
        if name
    }
    out = session.run([node.output[0]], feeds)[0]
    answer = {"shape": tuple(out.shape)}
    if request.get("values"):
        answer["values"] = out
    return answer


# --- resize: Resize's roi/scales/sizes values given in the call become initializers ---------------------------------

RESIZE_CONSTANTS = {"roi": TensorProto.FLOAT, "scales": TensorProto.FLOAT, "sizes": TensorProto.INT64}
run_without_constants = run


def run(request: dict) -> dict:  # noqa: F811 - wraps the runner above for Resize
    if request.get("ping") or "'Resize'" not in request.get("expr", ""):
        return run_without_constants(request)
    node = eval(request["expr"], dict(NAMESPACE))  # test oracle: builds the real node
    roles = dict(zip(("roi", "scales", "sizes"), list(node.input[1:]) + ["", "", ""]))
    initializers = []
    for attribute in list(node.attribute):
        if attribute.name in RESIZE_CONSTANTS:
            values = list(attribute.floats) or list(attribute.ints)
            dtype = RESIZE_CONSTANTS[attribute.name]
            values = [int(v) for v in values] if dtype == TensorProto.INT64 else [float(v) for v in values]
            initializers.append(helper.make_tensor(roles[attribute.name], dtype, [len(values)], values))
            node.attribute.remove(attribute)
    shapes = request.get("shapes") or {}
    arrays = request.get("arrays") or {}
    x_name = node.input[0]
    inputs = [helper.make_tensor_value_info(x_name, TensorProto.FLOAT, list(shapes[x_name]))]
    outputs = [helper.make_empty_tensor_value_info(name) for name in node.output if name]
    graph = helper.make_graph([node], "convarith", inputs, outputs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    options = ort.SessionOptions()
    options.log_severity_level = 4
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    x = np.asarray(arrays[x_name], np.float32) if x_name in arrays else np.zeros(shapes[x_name], np.float32)
    out = session.run([node.output[0]], {x_name: x})[0]
    answer = {"shape": tuple(out.shape)}
    if request.get("values"):
        answer["values"] = out
    return answer


# --- glpad: Pad's pads/value/axes are written as keywords of the node; run them as opset-21 constant inputs ---------

node_run = run


def run_pad(node, request: dict) -> dict:
    """The Pad node rebuilt for opset 21: pads (int64), constant_value (float32) and axes (int64) as
    initializers named by the node's inputs (or by default names), mode kept as its attribute."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    names = list(node.input) + [""] * (4 - len(node.input))
    x_name = names[0]
    values = {"pads": ("pads", TensorProto.INT64), "value": ("constant_value", TensorProto.FLOAT)}
    values["axes"] = ("axes", TensorProto.INT64)
    inputs, initializers = [x_name], []
    for position, key in enumerate(("pads", "value", "axes"), start=1):
        default_name, kind = values[key]
        if key not in attrs:
            inputs.append("")
            continue
        name = names[position] or default_name
        data = np.asarray(attrs[key], dtype=np.int64 if kind == TensorProto.INT64 else np.float32)
        initializers.append(helper.make_tensor(name, kind, data.shape, data.ravel().tolist()))
        inputs.append(name)
    while inputs[-1] == "":
        inputs.pop()
    mode = attrs.get("mode", b"constant")
    rebuilt = helper.make_node(
        "Pad", inputs, list(node.output), mode=mode.decode() if isinstance(mode, bytes) else mode
    )
    shapes = request.get("shapes") or {}
    arrays = request.get("arrays") or {}
    graph = helper.make_graph(
        [rebuilt], "convarith", [helper.make_tensor_value_info(x_name, TensorProto.FLOAT, list(shapes[x_name]))],
        [helper.make_empty_tensor_value_info(name) for name in rebuilt.output if name], initializer=initializers,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    options = ort.SessionOptions()
    options.log_severity_level = 4
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    x = np.asarray(arrays[x_name], dtype=np.float32) if x_name in arrays else np.zeros(shapes[x_name], np.float32)
    out = session.run([rebuilt.output[0]], {x_name: x})[0]
    answer = {"shape": tuple(out.shape)}
    if request.get("values"):
        answer["values"] = out
    return answer


def run(request: dict) -> dict:  # noqa: F811 - make_node calls, with Pad routed to run_pad
    if request.get("ping"):
        return node_run(request)
    node = eval(request["expr"], dict(NAMESPACE))  # test oracle: builds the real node
    if node.op_type == "Pad":
        return run_pad(node, request)
    return node_run(request)


# --- translation (issue 12): lines convarith generated (a target body, or a source's run) -----------------------------

node_or_pad_run = run


def run_translation(request: dict) -> dict:
    """Exec the generated ``imports`` and ``lines`` with ``variables`` (x and params, or a node's named
    arrays) bound; the lines set NumPy ``y``."""
    namespace = dict(request.get("variables") or {})
    exec("\n".join([*request["imports"], *request["lines"]]), namespace)  # test worker: code convarith generated
    y = np.asarray(namespace["y"])
    return {"shape": tuple(y.shape), "values": y}


def run_unpool(request: dict) -> dict:
    """MaxUnpool: X float32, I int64 (given, or zeros), output_shape= values as the initializer of input 3."""
    node = eval(request["expr"], dict(NAMESPACE))  # test oracle: builds the real node
    initializers = []
    for attribute in list(node.attribute):
        if attribute.name == "output_shape":
            values = [int(v) for v in attribute.ints]
            initializers.append(helper.make_tensor(node.input[2], TensorProto.INT64, [len(values)], values))
            node.attribute.remove(attribute)
    shapes, arrays = request.get("shapes") or {}, request.get("arrays") or {}
    x_name, i_name = node.input[0], node.input[1]
    types = {x_name: (TensorProto.FLOAT, np.float32), i_name: (TensorProto.INT64, np.int64)}
    inputs = [helper.make_tensor_value_info(name, types[name][0], list(shapes[name])) for name in (x_name, i_name)]
    graph = helper.make_graph(
        [node], "convarith", inputs, [helper.make_empty_tensor_value_info(node.output[0])], initializer=initializers
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    options = ort.SessionOptions()
    options.log_severity_level = 4
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feeds = {
        name: np.asarray(arrays[name], dtype) if name in arrays else np.zeros(shapes[name], dtype)
        for name, (_, dtype) in types.items()
    }
    out = session.run([node.output[0]], feeds)[0]
    return {"shape": tuple(out.shape), **({"values": out} if request.get("values") else {})}


def run(request: dict) -> dict:  # noqa: F811 - generated lines, MaxUnpool, or a make_node call as above
    if "lines" in request:
        return run_translation(request)
    if "'MaxUnpool'" in request.get("expr", ""):
        return run_unpool(request)
    return node_or_pad_run(request)


# --- translation (issue 12, core): code convarith generated (runners/generated.py) ---

run = routed(run)
