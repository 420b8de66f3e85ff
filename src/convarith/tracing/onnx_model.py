"""ONNX models read with the ``onnx`` package (the optional extra ``convarith[onnx]``): each node
becomes a ``graph.Node`` of kind ``onnx.<op_type>``. Window nodes carry their convarith call
(``make_node(...)`` text with the weight shapes from the initializers); the others carry their
attributes and constant inputs for the rules in ``kinds``. Initializers and Constant nodes are
values, not layers."""

from __future__ import annotations

from math import prod

from ..errors import ConvArithError
from .graph import Node

# the positional inputs of each window op, by the names convarith's call uses (values: keywords)
WINDOW_INPUTS = {
    "Conv": ("X", "W", "B"),
    "ConvTranspose": ("X", "W", "B"),
    "MaxPool": ("X",),
    "AveragePool": ("X",),
    "LpPool": ("X",),
    "GlobalAveragePool": ("X",),
    "GlobalMaxPool": ("X",),
    "GlobalLpPool": ("X",),
    "DepthToSpace": ("X",),
    "SpaceToDepth": ("X",),
    "Pad": ("X", "pads", "value", "axes"),
    "Resize": ("X", "roi", "scales", "sizes"),
}
FOLD_LIMIT = 1 << 16  # constant inputs of at most this many values are folded
NEVER_FOLDED = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}
VALUE_INPUTS = {"pads", "value", "axes", "roi", "scales", "sizes"}  # given to the call as keywords


def load_onnx():
    try:
        import onnx
    except ImportError:
        raise ConvArithError(
            "trace: an ONNX file needs the onnx package. Rule: ONNX models are read with onnx, an optional "
            "extra. Fix: pip install 'convarith[onnx]' (or pip install onnx)."
        ) from None
    return onnx


def is_onnx(model) -> bool:
    """An onnx.ModelProto, judged by its class's module (onnx is not imported to ask)."""
    return (type(model).__module__ or "").split(".")[0] == "onnx" and hasattr(model, "graph")


def read(model):
    """A path ending in .onnx or an onnx.ModelProto: (nodes, the first input's shape or None)."""
    onnx = load_onnx()
    if not is_onnx(model):
        try:
            model = onnx.load(str(model))
        except Exception as error:  # onnx raises DecodeError, OSError, ...: all mean the file is not ONNX
            raise ConvArithError(f"ONNX file {str(model)!r}: cannot be read ({type(error).__name__}: {error}). "
                                 "Rule: a model saved with onnx.save. Fix: export the model again.") from None  # fmt: skip
    from onnx import numpy_helper

    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
    values = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    weights = set(values)  # the initializers: a layer's parameters (a Constant node's value is not one)
    nodes: list[Node] = []
    producer: dict[str, str] = {}  # tensor name -> layer name
    found = None
    for given in graph.input:
        if given.name in values:
            continue
        dims = tuple(d.dim_value if d.HasField("dim_value") else None for d in given.type.tensor_type.shape.dim)
        found = found or dims
        nodes.append(Node(given.name, "InputLayer"))
        producer[given.name] = given.name
    taken = set(producer)
    for node in graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Constant":
            if "value" not in attrs:
                raise ConvArithError(f"Layer {node.name or node.output[0]!r} (onnx.Constant): no 'value' tensor. "
                                     "Rule: a constant's value is a tensor. Fix: value=numpy_helper.from_array(...).")  # fmt: skip
            values[node.output[0]] = numpy_helper.to_array(attrs["value"])
            continue
        given = [n for n in node.input if n]
        if given and all(n in values for n in given) and node.op_type not in NEVER_FOLDED:
            folded = fold(node, values)  # shape arithmetic on constants (torch's exports of pads and shapes)
            if folded is not None:
                values.update(folded)
                if node.op_type == "Identity" and node.input[0] in weights:
                    weights.add(node.output[0])
                continue
        name = node.name if node.name and node.name not in taken else node.output[0]
        taken.add(name)
        attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
        constants = {n: values[n] for n in node.input if n in values}
        for n in node.input:
            if n and n not in values and n not in producer:
                raise ConvArithError(f"Layer {name!r} (onnx.{node.op_type}): its input {n!r} is no tensor before "
                                     "it (a second output of a node, or a graph not in topological order). Rule: a "
                                     "trace follows each node's first output. Fix: export the model again.")  # fmt: skip
        config = {
            "attrs": attrs,
            "inputs": list(node.input),
            "constants": {n: tuple(v.shape) for n, v in constants.items()},
            "values": {n: v.tolist() for n, v in constants.items() if v.size <= 64},
            "params": sum(
                int(prod(constants[n].shape)) for n in weight_inputs(node.op_type, node.input, weights, values)
            ),
        }
        if node.op_type == "Resize" and opset < 11:
            raise ConvArithError(f"Layer {name!r} (onnx.Resize): opset {opset}. Rule: convarith sizes Resize as "
                                 "opset 11 on defines it (inputs X, roi, scales, sizes). Fix: convert the model, "
                                 "e.g. onnx.version_converter.convert_version(model, 13).")  # fmt: skip
        if node.op_type in WINDOW_INPUTS:
            config["call"] = call_text(name, node.op_type, list(node.input), attrs, config["values"])
        inbound = tuple(producer[n] for n in node.input if n and n not in values)
        nodes.append(Node(name, "onnx." + node.op_type, config, inbound))
        producer[node.output[0]] = name
    return nodes, found


def fold(node, values: dict) -> dict | None:
    """The outputs of a node all of whose inputs are constants, computed by onnx's reference
    evaluator (None for one too large to fold: it stays a layer)."""
    if node.op_type == "Identity":
        return {node.output[0]: values[node.input[0]]}
    if sum(values[n].size for n in node.input if n) > FOLD_LIMIT:
        return None
    from onnx.reference import ReferenceEvaluator

    try:
        results = ReferenceEvaluator(node).run(None, {n: values[n] for n in node.input if n})
    except Exception as error:  # the evaluator's refusal: the node is wrong on these constants
        raise ConvArithError(f"Layer {node.name or node.output[0]!r} (onnx.{node.op_type}): cannot be computed on its "
                             f"constant inputs ({type(error).__name__}: {str(error)[:160]}). Rule: a node on constants "
                             "is evaluated as onnx.reference does. Fix: export the model again.") from None  # fmt: skip
    return dict(zip(node.output, results))


def weight_inputs(op_type: str, inputs, weights: set, values: dict) -> list[str]:
    """The inputs of a node that are its parameters: floating-point initializers, not the value inputs
    of a window op (Pad's pads, Resize's scales) nor the shape or axes of a rearranging node."""
    roles = WINDOW_INPUTS.get(op_type, ())
    chosen = []
    for i, name in enumerate(inputs):
        role = roles[i] if i < len(roles) else ""
        shaping = i > 0 and op_type in ("Reshape", "Squeeze", "Unsqueeze", "Expand", "Tile")
        if name in weights and values[name].dtype.kind in "fc" and role not in VALUE_INPUTS and not shaping:
            chosen.append(name)
    return chosen


def literal(value) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return repr(value)


def call_text(name: str, op_type: str, inputs: list, attrs: dict, values: dict) -> str:
    """The convarith call of a window node: its inputs renamed to the call's names, constant value
    inputs (Pad's pads, Resize's scales or sizes) as keywords."""
    roles = WINDOW_INPUTS[op_type]
    if len(inputs) > len(roles):
        raise ConvArithError(f"Layer {name!r} (onnx.{op_type}): {len(inputs)} inputs. Rule: {op_type} takes "
                             f"{', '.join(roles)}. Fix: the node as the ONNX operator defines it.")  # fmt: skip
    names = [role if given else "" for role, given in zip(roles, inputs)]
    keywords = {key: literal(value) for key, value in attrs.items()}
    for role, given in zip(roles, inputs):
        if role in VALUE_INPUTS and given:
            if given not in values:
                raise ConvArithError(f"Layer {name!r} (onnx.{op_type}): its input {role!r} ({given!r}) is computed "
                                     f"in the graph. Rule: a trace sizes {op_type} from the values of {role!r}, "
                                     "so they must be an initializer or a Constant. Fix: export with constant "
                                     f"{role} (e.g. torch.onnx.export(..., dynamo=False) with fixed sizes).")  # fmt: skip
            keywords[role] = literal(values[given])
    text = ", ".join(f"{k}={v}" for k, v in keywords.items())
    return f"make_node({op_type!r}, {names!r}, ['Y']{', ' + text if text else ''})"
