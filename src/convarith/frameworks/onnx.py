"""ONNX as onnxruntime executes it: ``onnx.helper.make_node`` for Conv,
ConvTranspose, MaxPool, AveragePool and LpPool.

Truth is onnxruntime 1.32 on the CPU provider with opset 21, measured; where
it differs from the ONNX spec this module follows onnxruntime. Tensors are
named inputs with shapes={name: shape}; layout N, C, spatial...; ``pads`` is
[x1_begin, x2_begin, ..., x1_end, x2_end].

- Conv: out = floor((n + lo + hi - k_eff) / s) + 1, must be >= 1. SAME_*:
  total = (ceil(n/s)-1)*s + k - n, dilation must be 1, the odd pixel at the end
  (UPPER) or the start (LOWER).
- Pooling: floor mode divides rounding toward zero (ConvOp rounding='trunc'),
  so one window overhanging the padded input by less than a stride still
  counts, its cells past the input never divided by; out = 0 gives an empty tensor,
  out < 0 is refused. ceil_mode=1 (only 1) rounds up and drops a last window
  that would start in the end padding. SAME_* takes total padding from the
  undilated kernel, unclamped.
- ConvTranspose: out = (n-1)*s + k_eff - lo - hi + output_padding, with
  output_padding < stride. SAME_*: total = max((n-1)*s + output_padding + k_eff
  - n*s, 0), odd pixel at the end (UPPER) or start (LOWER). output_shape: total
  = max(full - out, 0), odd pixel cropped at the START unless SAME_UPPER (the
  opposite of the ONNX spec).
"""

from __future__ import annotations

__all__ = ["CALLS", "FRAMEWORK"]


from ..core import arith
from ..core.op import ConvOp, channels_first
from ..core.record import Record, replace
from ._common import Inputs, Mapped, fail, refuse

FRAMEWORK = "ONNX (onnxruntime)"
FRAMEWORK_ID = "onnx"  # the numbers (reference.adapters) pick the framework by this
SPELLINGS = ("make_node", "helper.make_node", "onnx.helper.make_node")
NODE_PARAMS = ("op_type", "inputs", "outputs", "name", "doc_string", "domain", "overload")
AUTO_PADS = ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER")
GEOMETRY = {"auto_pad": "STRING", "dilations": "INTS", "kernel_shape": "INTS", "pads": "INTS", "strides": "INTS"}
ATTRIBUTES = {
    "Conv": GEOMETRY | {"group": "INT"},
    "ConvTranspose": GEOMETRY | {"group": "INT", "output_padding": "INTS", "output_shape": "INTS"},
    "MaxPool": GEOMETRY | {"ceil_mode": "INT", "storage_order": "INT"},
    "AveragePool": GEOMETRY | {"ceil_mode": "INT", "count_include_pad": "INT"},
    "LpPool": GEOMETRY | {"ceil_mode": "INT", "p": "INT"},
}
KINDS = {"MaxPool": "max_pool", "AveragePool": "avg_pool", "LpPool": "lp_pool"}
INPUT_RANGE = {"Conv": (2, 3), "ConvTranspose": (2, 3), "MaxPool": (1, 1), "AveragePool": (1, 1), "LpPool": (1, 1)}
TYPE_WORDS = {
    "INT": "an int",
    "INTS": "a list of ints",
    "STRING": "a string",
    "FLOAT": "a float",
    "FLOATS": "a list of floats",
    "STRINGS": "a list of strings",
}


def layout(rank: int) -> str:
    return "NC" + ("DHW"[3 - rank :] if rank <= 3 else f" + {rank} spatial axes")


def attribute_type(label: str, key: str, value) -> str:
    """The AttributeProto type onnx.helper.make_attribute gives ``value``."""
    if isinstance(value, int):
        return "INT"
    if isinstance(value, float):
        return "FLOAT"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, (list, tuple)):
        if not value:
            raise fail(
                label,
                f"{key}={value!r} is empty. Rule: onnx.helper.make_attribute cannot infer a type from an empty list. Fix: leave {key} out for its default.",
            )
        if any(isinstance(item, bool) for item in value):
            raise fail(
                label, f"{key}={value!r} holds a bool. Rule: an INTS attribute takes ints only. Fix: write 0 or 1."
            )
        if all(isinstance(item, int) for item in value):
            return "INTS"
        if all(isinstance(item, (int, float)) for item in value):
            return "FLOATS"
        if all(isinstance(item, str) for item in value):
            return "STRINGS"
    raise fail(
        label,
        f"{key}={value!r} is not an attribute value. Rule: make_node attributes are ints, floats, strings or flat lists of them. Fix: write the value, e.g. {key}=[1, 1].",
    )


def bind_node(call) -> tuple[str, list, list, dict]:
    """(op_type, inputs, outputs, attributes) of a make_node call, as make_node binds them."""
    label = call.name
    if len(call.args) > len(NODE_PARAMS):
        raise fail(
            label,
            f"takes at most {len(NODE_PARAMS)} positional arguments, got {len(call.args)}. Rule: make_node's positional "
            f"order is {', '.join(NODE_PARAMS)}; attributes are keywords. Fix: pass attributes by keyword, e.g. strides=[2, 2].",
        )
    params = dict(zip(NODE_PARAMS, call.args))
    attributes = {}
    for key, value in call.kwargs:
        if key in NODE_PARAMS:
            if key in params:
                raise refuse(
                    label,
                    f"got multiple values for argument {key!r}",
                    "it is already given by position",
                    "drop the keyword or the positional value",
                )
            params[key] = value
        elif value is not None:
            attributes[key] = value
    for required in NODE_PARAMS[:3]:
        if required not in params:
            raise refuse(
                label,
                f"missing required argument {required!r}",
                "make_node needs op_type, inputs and outputs",
                "make_node('Conv', ['X', 'W'], ['Y'], ...)",
            )
    op_type = params["op_type"]
    if op_type not in ATTRIBUTES:
        known = ", ".join(repr(name) for name in ATTRIBUTES)
        rule = (
            "onnxruntime has no such operator"
            if isinstance(op_type, str) and op_type.lower() in {k.lower() for k in ATTRIBUTES}
            else "convarith covers these operators"
        )
        raise fail(
            label,
            f"op_type={op_type!r} is not one of {known}. Rule: {rule} (op types are case-sensitive). Fix: one of {known}.",
        )
    label = op_type
    for key in ("name", "doc_string", "overload"):
        if params.get(key) is not None and not isinstance(params[key], str):
            raise refuse(
                label,
                f"{key}={params[key]!r} must be a string",
                f"make_node's {key} is text",
                f"{key}='...' or leave it out",
            )
    if params.get("domain") not in (None, "", "ai.onnx"):
        raise fail(
            label,
            f"domain={params['domain']!r} has no operator {op_type}. Rule: the model imports only the default ONNX domain ('' or 'ai.onnx'). Fix: leave domain out.",
        )
    names = {}
    for key in ("inputs", "outputs"):
        value = params[key]
        items = list(value) if isinstance(value, (str, list, tuple)) else None
        if items is None or not all(isinstance(item, str) for item in items):
            raise fail(
                label,
                f"{key}={value!r} must be a list of tensor names (strings). Rule: make_node names its {key} by string. Fix: e.g. {['X', 'W'] if key == 'inputs' else ['Y']!r}.",
            )
        names[key] = items
    for key, value in attributes.items():
        expected = ATTRIBUTES[op_type].get(key)
        if expected is None:
            raise fail(
                label,
                f"attribute {key}={value!r} does not exist for {op_type}. Rule: onnxruntime rejects the model (Unrecognized attribute). "
                f"Fix: use only {', '.join(sorted(ATTRIBUTES[op_type]))}.",
            )
        got = attribute_type(label, key, value)
        if got != expected:
            example = {
                "INTS": f"{key}=[{value!r}, ...]" if got == "INT" else f"{key}=[1, 1]",
                "INT": f"{key}=1",
                "STRING": f"{key}='NOTSET'",
            }[expected]
            raise fail(
                label,
                f"attribute {key}={value!r} is {TYPE_WORDS[got]} ({got}), but {op_type} expects {TYPE_WORDS[expected]} ({expected}). "
                f"Rule: onnxruntime rejects the model (Mismatched attribute type). Fix: {example}.",
            )
        attributes[key] = tuple(value) if expected == "INTS" else int(value) if expected == "INT" else value
    return op_type, names["inputs"], names["outputs"], attributes


def check_io(label: str, op_type: str, inputs: list, outputs: list, shapes: Inputs) -> list:
    """The shapes of the node's inputs, after onnxruntime's graph checks."""
    low, high = INPUT_RANGE[op_type]
    count = len(inputs)
    while count > low and inputs[count - 1] == "":
        count -= 1
    if not low <= len(inputs) <= high:
        raise fail(
            label,
            f"has {len(inputs)} inputs {inputs!r}, {op_type} takes {low} to {high}. Rule: the operator schema fixes the input count. Fix: {op_type} inputs are {['X', 'W', 'B'][:high]!r}.",
        )
    if "" in inputs[:low]:
        raise fail(
            label,
            f"inputs={inputs!r} leaves a required input empty. Rule: only an optional input (the bias B) may be ''. Fix: name every required tensor.",
        )
    most = 2 if op_type == "MaxPool" else 1
    if not 1 <= len(outputs) <= most or outputs[0] == "":
        raise fail(
            label,
            f"outputs={outputs!r} must name {'1 or 2 outputs (Y, Indices)' if most == 2 else 'exactly 1 output'}, the first not empty. Rule: the operator schema fixes the output count. Fix: outputs=['Y'].",
        )
    for name in outputs:
        if name and name in inputs:
            raise fail(
                label,
                f"output {name!r} is also an input. Rule: a tensor is defined once in an ONNX graph. Fix: outputs=['Y'].",
            )
    found = []
    for name in inputs[:count]:
        shape = shapes.shape_of(name)
        if shape is None:
            known = ", ".join(key for key, _ in shapes.shapes) or "none"
            raise fail(
                label,
                f"no shape given for input {name!r}. Rule: every input tensor needs its shape; shapes given: {known}. Fix: pass shapes={{'{name}': (...)}} (--shape {name}=... in the CLI).",
            )
        found.append(tuple(shape))
    return found


def ints_attr(label, attrs, key, rank, default, count=None, positive=False):
    """An INTS attribute with onnx shape inference's length and sign checks."""
    if key not in attrs:
        return (default,) * (count or rank)
    values = attrs[key]
    want = count or rank
    if len(values) != want:
        raise fail(
            label,
            f"{key}={list(values)} has {len(values)} entries, the input has {rank} spatial axes so it needs {want}. Rule: onnx shape inference (Attribute {key} has incorrect size). Fix: {want} entries.",
        )
    if positive and any(v <= 0 for v in values):
        raise fail(
            label,
            f"{key}={list(values)} must be positive on every axis. Rule: onnx shape inference ({key} must only contain positive values). Fix: {key}=[1]*{want} or larger.",
        )
    if not positive and any(v < 0 for v in values):
        raise fail(
            label,
            f"{key}={list(values)} must not be negative. Rule: onnx shape inference ({key} must not contain negative values). Fix: {key} >= 0, or crop with a Slice node.",
        )
    return values


def listed_padding(auto_pad: str, pads, axis: int, rank: int) -> arith.Padding:
    """Padding of one axis under auto_pad VALID (none) or NOTSET (the pads attribute)."""
    if auto_pad == "VALID":
        return arith.Padding(0, 0, "auto_pad='VALID': no padding")
    before, after = pads[axis], pads[rank + axis]
    return arith.Padding(before, after, f"pads: before {before}, after {after}")


def auto_pad_of(label: str, attrs: dict) -> str:
    value = attrs.get("auto_pad", "NOTSET") or "NOTSET"
    if value not in AUTO_PADS:
        raise fail(
            label,
            f"auto_pad={value!r} is not one of {', '.join(repr(a) for a in AUTO_PADS)}. Rule: onnxruntime compares the string exactly (Unknown AutoPadType String). Fix: auto_pad={value.upper() if value.upper() in AUTO_PADS else 'NOTSET'!r}.",
        )
    return value


def spatial_input(label: str, x_shape: tuple, what: str = "X") -> int:
    if len(x_shape) < 3:
        raise fail(
            label,
            f"input {what} has shape {x_shape}, {len(x_shape)} dimensions. Rule: onnx shape inference needs at least 3 (N, C, spatial...). Fix: add a batch and a channel axis.",
        )
    return len(x_shape) - 2


def kernel_from(label, attrs, w_shape, rank) -> tuple[int, ...]:
    """kernel_shape as onnxruntime takes it: the attribute if given (it must equal W's spatial dims), else W's."""
    kernel = (
        ints_attr(label, attrs, "kernel_shape", rank, 0, positive=True)
        if "kernel_shape" in attrs
        else tuple(w_shape[2:])
    )
    if "kernel_shape" not in attrs and any(k <= 0 for k in kernel):
        raise fail(
            label,
            f"W has shape {w_shape}, a kernel of {kernel}. Rule: onnx shape inference (kernel_shape must only contain positive values). Fix: a W with positive spatial sizes.",
        )
    return kernel


def check_kernel_matches(label, kernel, w_shape):
    if tuple(kernel) != tuple(w_shape[2:]):
        raise fail(
            label,
            f"kernel_shape={list(kernel)} does not match W's spatial dims {tuple(w_shape[2:])} (W shape {w_shape}). Rule: onnxruntime requires kernel_shape to equal W's shape (kernel_shape is not compatible with W shape). Fix: leave kernel_shape out; it is read from W.",
        )


def check_bias(label, b_shape, out_channels):
    if b_shape is not None and tuple(b_shape) != (out_channels,):
        raise fail(
            label,
            f"bias B has shape {b_shape}, expected ({out_channels},). Rule: onnxruntime needs a 1-D bias with one value per output channel. Fix: shapes={{'B': ({out_channels},)}}.",
        )


def explicit_rules(lo, hi) -> tuple[str, ...]:
    return tuple(f"pads: before {a}, after {b}" for a, b in zip(lo, hi))


def handle(call, inputs: Inputs) -> Mapped:
    """The handler of every make_node spelling: dispatch on op_type."""
    op_type, names_in, names_out, attrs = bind_node(call)
    mapped = dispatch(call, inputs, op_type, names_in, names_out, attrs)
    bound = (("op_type", op_type), ("inputs", tuple(names_in)), ("outputs", tuple(names_out)), *attrs.items())
    return replace(mapped, arguments=bound)


def dispatch(call, inputs: Inputs, op_type, names_in, names_out, attrs) -> Mapped:
    """The mapping of one bound node, by op_type."""
    if op_type == "Conv":
        return conv(call, inputs, names_in, names_out, attrs)
    if op_type == "ConvTranspose":
        return conv_transpose(call, inputs, names_in, names_out, attrs)
    return pool(call, inputs, op_type, names_in, names_out, attrs)


def conv_tensors(label, names_in, names_out, inputs: Inputs, w_layout: str) -> tuple:
    """(X shape, W shape, B shape or None, spatial rank) of a Conv/ConvTranspose node."""
    shapes = check_io(label, label, names_in, names_out, inputs)
    x_shape, w_shape = shapes[0], shapes[1]
    rank = spatial_input(label, x_shape)
    if len(w_shape) != len(x_shape):
        raise fail(
            label,
            f"W has shape {w_shape} ({len(w_shape) - 2} spatial axes) but X has shape {x_shape} ({rank}). Rule: onnx shape inference needs W as {w_layout} with one kernel size per spatial axis of X. Fix: W of rank {len(x_shape)}.",
        )
    return x_shape, w_shape, shapes[2] if len(shapes) > 2 else None, rank


def conv(call, inputs: Inputs, names_in, names_out, attrs) -> Mapped:
    label = "Conv"
    x_shape, w_shape, b_shape, rank = conv_tensors(label, names_in, names_out, inputs, "(M, C/group, k...)")
    kernel = kernel_from(label, attrs, w_shape, rank)
    dilation = ints_attr(label, attrs, "dilations", rank, 1, positive=True)
    stride = ints_attr(label, attrs, "strides", rank, 1, positive=True)
    pads = ints_attr(label, attrs, "pads", rank, 0, count=2 * rank)
    auto_pad = auto_pad_of(label, attrs)
    if "pads" in attrs and auto_pad != "NOTSET":
        raise fail(
            label,
            f"pads={list(pads)} is given together with auto_pad={auto_pad!r}. Rule: onnxruntime refuses a Conv with both 'auto_pad' and 'pads'. Fix: drop pads, or drop auto_pad.",
        )
    group = attrs.get("group", 1)
    batch, channels, spatial = x_shape[0], x_shape[1], tuple(x_shape[2:])
    out_channels = w_shape[0]
    if group == 0 or channels != w_shape[1] * group:
        raise fail(
            label,
            f"X has {channels} channels but W has {w_shape[1]} input channels with group={group}. Rule: onnxruntime needs C = W.shape[1] * group ({w_shape[1]}*{group} = {w_shape[1] * group}). Fix: W shape ({out_channels}, {channels // group if group > 0 and channels % group == 0 else channels}, ...) or group={channels // w_shape[1] if w_shape[1] and channels % w_shape[1] == 0 else 1}.",
        )
    if out_channels % group:
        raise fail(
            label,
            f"W has {out_channels} output channels, not divisible by group={group}. Rule: onnxruntime needs M % group == 0. Fix: a multiple of {group} output channels.",
        )
    check_kernel_matches(label, kernel, w_shape)
    check_bias(label, b_shape, out_channels)
    if auto_pad.startswith("SAME") and any(d != 1 for d in dilation):
        raise fail(
            label,
            f"auto_pad={auto_pad!r} with dilations={list(dilation)}. Rule: onnxruntime's Conv computes SAME padding only without dilation (Dilation not supported for SAME_UPPER or SAME_LOWER). Fix: explicit pads, e.g. pads={[d * (k - 1) // 2 for k, d in zip(kernel, dilation)] * 2}.",
        )
    if auto_pad.startswith("SAME"):
        padding = tuple(
            arith.same_padding(n, k, s, auto_pad == "SAME_LOWER") for n, k, s in zip(spatial, kernel, stride)
        )
        lo, hi = tuple(p.lo for p in padding), tuple(p.hi for p in padding)
        rules = tuple(f"auto_pad={auto_pad!r}: {p.text}" for p in padding)
    elif auto_pad == "VALID":
        lo = hi = (0,) * rank
        rules = tuple("auto_pad='VALID': no padding" for _ in range(rank))
    else:
        lo, hi = tuple(pads[:rank]), tuple(pads[rank:])
        rules = explicit_rules(lo, hi)
    op = ConvOp(
        "conv",
        batch,
        channels,
        out_channels,
        spatial,
        tuple(kernel),
        tuple(stride),
        tuple(dilation),
        lo,
        hi,
        channels_first(rank),
        channels_first(rank),
        groups=group,
        bias=b_shape is not None,
    )
    for axis, size in enumerate(arith.output_spatial(op)):
        if size <= 0:
            text = arith.conv_out_text(spatial[axis], kernel[axis], dilation[axis], stride[axis], lo[axis], hi[axis])
            raise fail(
                label,
                f"input {arith.axis_names(rank)[axis]} {spatial[axis]} is too small. Rule: out = {text}, onnxruntime needs >= 1 (Invalid input shape). Fix: a larger input, more pads, or a smaller kernel.",
            )
    return Mapped(FRAMEWORK, call, (op,), rules, layout=layout(rank), framework_id=FRAMEWORK_ID)


class TransposeNode(Record):
    """A ConvTranspose node's tensor shapes and attributes, checked and normalised per axis."""

    x_shape: tuple
    w_shape: tuple
    b_shape: tuple | None
    group: int
    kernel: tuple
    dilation: tuple
    stride: tuple
    pads: tuple
    out_pad: tuple
    wanted: tuple | None
    auto_pad: str

    @property
    def rank(self) -> int:
        return len(self.x_shape) - 2


def conv_transpose(call, inputs: Inputs, names_in, names_out, attrs) -> Mapped:
    """ConvTranspose: bind and normalise the node, its refusals, then the pads of each axis and the op."""
    label = "ConvTranspose"
    node = transpose_node(label, names_in, names_out, inputs, attrs)
    check_output_padding(label, node)
    axes = [transpose_axis(label, node, axis) for axis in range(node.rank)]
    lo, hi, extra, rules = (tuple(axis[i] for axis in axes) for i in range(4))
    notes = (
        (
            "onnxruntime places the odd cropped pixel of output_shape at the start unless auto_pad='SAME_UPPER', the opposite of the ONNX spec.",
        )
        if node.wanted is not None
        else ()
    )
    batch, channels, spatial = node.x_shape[0], node.x_shape[1], tuple(node.x_shape[2:])
    op = ConvOp(
        "conv_transpose", batch, channels, node.w_shape[1] * node.group, spatial, tuple(node.kernel),
        tuple(node.stride), tuple(node.dilation), lo, hi, channels_first(node.rank), channels_first(node.rank),
        output_padding=extra, groups=node.group, bias=node.b_shape is not None,
    )  # fmt: skip
    check_transposed_output(label, node, op)
    return Mapped(FRAMEWORK, call, (op,), rules, notes, layout=layout(node.rank), framework_id=FRAMEWORK_ID)


def transpose_node(label, names_in, names_out, inputs: Inputs, attrs) -> TransposeNode:
    """The node's shapes and attributes, refused in onnxruntime's order up to the kernel shape."""
    x_shape, w_shape, b_shape, rank = conv_tensors(label, names_in, names_out, inputs, "(C, M/group, k...)")
    channels = x_shape[1]
    group = attrs.get("group", 1)
    if group <= 0:
        raise fail(label, f"group={group} must be > 0. Rule: onnx shape inference. Fix: group=1.")
    if channels % group:
        raise fail(
            label,
            f"X has {channels} channels, not divisible by group={group}. Rule: onnx shape inference needs C % group == 0 for ConvTranspose. Fix: a group dividing {channels}.",
        )
    kernel = kernel_from(label, attrs, w_shape, rank)
    dilation = ints_attr(label, attrs, "dilations", rank, 1, positive=True)
    stride = ints_attr(label, attrs, "strides", rank, 1, positive=True)
    pads = ints_attr(label, attrs, "pads", rank, 0, count=2 * rank)
    out_pad = ints_attr(label, attrs, "output_padding", rank, 0)
    wanted = ints_attr(label, attrs, "output_shape", rank, 0) if "output_shape" in attrs else None
    if "pads" in attrs and attrs.get("auto_pad", "NOTSET") != "NOTSET":
        raise fail(
            label,
            f"pads={list(pads)} is given together with auto_pad={attrs['auto_pad']!r}. Rule: onnx shape inference (the pads attribute cannot be used simultaneously with auto_pad, even auto_pad=''). Fix: drop pads, or drop auto_pad.",
        )
    auto_pad = auto_pad_of(label, attrs)
    if w_shape[0] != channels:
        raise fail(
            label,
            f"W has shape {w_shape}, its first axis {w_shape[0]} should equal X's {channels} channels. Rule: onnxruntime ConvTranspose weights are (C, M/group, k...) (filter number not equal to input channel number). Fix: W shape ({channels}, {w_shape[1]}, ...).",
        )
    check_kernel_matches(label, kernel, w_shape)
    return TransposeNode(x_shape, w_shape, b_shape, group, kernel, dilation, stride, pads, out_pad, wanted, auto_pad)


def check_output_padding(label: str, node: TransposeNode) -> None:
    """onnxruntime needs output_padding < max(stride, dilation), then < stride."""
    for axis in range(node.rank):
        s, d, p = node.stride[axis], node.dilation[axis], node.out_pad[axis]
        if p >= max(s, d):
            raise fail(
                label,
                f"output_padding={list(node.out_pad)} is too large on the {arith.axis_names(node.rank)[axis]} axis. Rule: onnxruntime needs output_padding < max(stride, dilation) = {max(s, d)}. Fix: output_padding < {s}.",
            )
        if p >= s:
            raise fail(
                label,
                f"output_padding={list(node.out_pad)} is not smaller than stride={list(node.stride)} on the {arith.axis_names(node.rank)[axis]} axis. Rule: onnxruntime checks the output maps back to the input size (output_padding may be too large for stride). Fix: output_padding < {s}.",
            )


def transpose_axis(label: str, node: TransposeNode, axis: int) -> tuple[int, int, int, str]:
    """(pad_lo, pad_hi, output_padding, rule text) of one axis: from output_shape, auto_pad SAME_*, or pads."""
    rank, n, s = node.rank, node.x_shape[2 + axis], node.stride[axis]
    k_eff = arith.effective_kernel(node.kernel[axis], node.dilation[axis])
    full = arith.transpose_out(n, k_eff, s, 0, 0, node.out_pad[axis])
    if node.wanted is not None:
        return wanted_axis(label, node, axis, n, k_eff, full)
    if node.auto_pad.startswith("SAME"):
        total = max(full - n * s, 0)
        before = total - total // 2 if node.auto_pad == "SAME_LOWER" else total // 2
        where = ", the odd pixel at the start" if node.auto_pad == "SAME_LOWER" else ", the odd pixel at the end"
        rule = (
            f"auto_pad={node.auto_pad!r}: out = {n}*{s}; total pad = max({full} - {n * s}, 0) = {total} -> before {before}, after {total - before}"
            + (where if total % 2 else "")
        )
        return before, total - before, node.out_pad[axis], rule
    padding = listed_padding(node.auto_pad, node.pads, axis, rank)
    return padding.lo, padding.hi, node.out_pad[axis], padding.text


def wanted_axis(label: str, node: TransposeNode, axis: int, n: int, k_eff: int, full: int) -> tuple[int, int, int, str]:
    """One axis of an explicit output_shape: onnxruntime crops max(full - wanted, 0) cells
    (the odd one at the start unless SAME_UPPER) and adds zero cells past the full size."""
    rank, s, want, wanted = node.rank, node.stride[axis], node.wanted[axis], node.wanted
    if n == 0:
        raise fail(
            label,
            f"output_shape={list(wanted)} is given for an input with an empty {arith.axis_names(rank)[axis]} axis "
            f"(X shape {node.x_shape}). Rule: onnxruntime needs every input spatial dimension positive when "
            "output_shape is set. Fix: drop output_shape, or a non-empty input.",
        )
    if want <= 0:
        raise fail(
            label,
            f"output_shape={list(wanted)} asks for size 0. Rule: onnxruntime needs a positive explicit output size. Fix: output_shape entries >= 1.",
        )
    total = max(full - want, 0)
    back = arith.conv_out(want, k_eff, s, total, 0)
    if back != n:
        raise fail(
            label,
            f"output_shape={list(wanted)} does not fit input size {n} on the {arith.axis_names(rank)[axis]} axis. Rule: onnxruntime maps the output back, (out + pads - k_eff) // stride + 1 = ({want} + {total} - {k_eff}) // {s} + 1 = {back}, and needs {n}. Fix: output_shape between 1 and {full + s - 1 - node.out_pad[axis]}; {full} needs no cropping.",
        )
    before = total // 2 if node.auto_pad == "SAME_UPPER" else total - total // 2
    where = (
        "the odd pixel cropped at the end" if node.auto_pad == "SAME_UPPER" else "the odd pixel cropped at the start"
    )
    rule = (
        f"output_shape={want}: total pad = max({full} - {want}, 0) = {total} -> before {before}, after {total - before}"
        + (f", {where}" if total % 2 else "")
        + (f"; {want - full} extra zero cells at the end" if want > full else "")
    )
    return before, total - before, node.out_pad[axis] + max(want - full, 0), rule


def check_transposed_output(label: str, node: TransposeNode, op: ConvOp) -> None:
    """A positive output size on every axis, the bias, and the 3-D input that kills onnxruntime."""
    rank, x_shape = node.rank, node.x_shape
    for axis, size in enumerate(arith.output_spatial(op)):
        if size <= 0:
            text = arith.transpose_out_text(
                op.in_size[axis], op.kernel[axis], op.dilation[axis], op.stride[axis], op.pad_lo[axis],
                op.pad_hi[axis], op.output_padding[axis],
            )  # fmt: skip
            raise fail(
                label,
                f"output {arith.axis_names(rank)[axis]} would be {size}. Rule: out = {text}, onnxruntime needs >= 1 (Computed output dimension is <= 0). Fix: smaller pads.",
            )
    check_bias(label, node.b_shape, op.out_channels)
    if rank == 3 and op.batch > 0 and op.in_size[2] > 0 and 0 in op.in_size[:2]:
        raise fail(
            label,
            f"X has shape {x_shape}: an empty depth or height axis with a non-empty width. Rule: onnxruntime "
            "1.32's 3-D ConvTranspose kills the process (SIGSEGV) on such an input instead of refusing it "
            "(measured). Fix: skip the node for an empty input, or make every spatial axis non-empty.",
        )


class PoolNode(Record):
    """A pooling node's input shape and attributes, checked and normalised per axis."""

    op_type: str
    x_shape: tuple
    kernel: tuple
    dilation: tuple
    stride: tuple
    pads: tuple
    auto_pad: str
    storage_order: int
    single_output: bool

    @property
    def rank(self) -> int:
        return len(self.x_shape) - 2


def pool(call, inputs: Inputs, op_type, names_in, names_out, attrs) -> Mapped:
    """MaxPool/AveragePool/LpPool: bind and normalise the node, its refusals, the pads of each axis,
    the sizes (rounded toward zero unless ceil_mode=1), then the op."""
    label = op_type
    node = pool_node(label, op_type, names_in, names_out, inputs, attrs)
    pads = [pool_axis_padding(label, node, axis) for axis in range(node.rank)]
    lo, hi = tuple(p.lo for p in pads), tuple(p.hi for p in pads)
    ceil_mode = attrs.get("ceil_mode", 0) == 1
    rounding = "ceil" if ceil_mode else "trunc"
    notes = [note for axis in range(node.rank) if (note := pool_size_note(label, node, axis, lo, hi, rounding))]
    rules = [p.text + (", ceil_mode=1 rounds up" if ceil_mode else "") for p in pads]
    if not ceil_mode and "ceil_mode" in attrs and attrs["ceil_mode"] != 0:
        notes.append(f"ceil_mode={attrs['ceil_mode']} acts as 0: onnxruntime rounds up only for ceil_mode=1.")
    batch, channels, spatial = node.x_shape[0], node.x_shape[1], tuple(node.x_shape[2:])
    op = ConvOp(
        KINDS[op_type], batch, channels, channels, spatial, tuple(node.kernel), tuple(node.stride),
        tuple(node.dilation), lo, hi, channels_first(node.rank), channels_first(node.rank), rounding=rounding,
        empty_max="lowest", count_include_pad=attrs.get("count_include_pad", 0) != 0, norm_p=attrs.get("p", 2),
    )  # fmt: skip
    return Mapped(
        FRAMEWORK, call, (op,), tuple(rules), tuple(notes), layout=layout(node.rank), framework_id=FRAMEWORK_ID
    )


def pool_node(label, op_type, names_in, names_out, inputs: Inputs, attrs) -> PoolNode:
    """The node's input shape and attributes, refused in onnxruntime's order."""
    if "kernel_shape" not in attrs:
        raise fail(
            label,
            f"kernel_shape is missing. Rule: {op_type} requires the attribute kernel_shape. Fix: kernel_shape=[2, 2] (one size per spatial axis).",
        )
    (x_shape,) = check_io(label, op_type, names_in, names_out, inputs)
    rank = spatial_input(label, x_shape)
    kernel = ints_attr(label, attrs, "kernel_shape", rank, 0, positive=True)
    dilation = ints_attr(label, attrs, "dilations", rank, 1, positive=True)
    stride = ints_attr(label, attrs, "strides", rank, 1, positive=True)
    pads = ints_attr(label, attrs, "pads", rank, 0, count=2 * rank)
    auto_pad = auto_pad_of(label, attrs)
    storage_order = attrs.get("storage_order", 0)
    if storage_order not in (0, 1):
        raise fail(
            label,
            f"storage_order={storage_order} must be 0 (row major) or 1 (column major). Rule: onnxruntime's MaxPool. Fix: storage_order=0.",
        )
    for axis in range(rank):
        if pads[axis] >= kernel[axis] or pads[rank + axis] >= kernel[axis]:
            raise fail(
                label,
                f"pads={list(pads)} is not smaller than kernel_shape={list(kernel)} on the {arith.axis_names(rank)[axis]} axis. Rule: onnxruntime needs each pad < kernel size (Pad should be smaller than kernel), even when auto_pad ignores pads. Fix: pads <= {kernel[axis] - 1}.",
            )
    if x_shape[0] != 0 and 0 in x_shape:
        raise fail(
            label,
            f"input X has shape {x_shape} with a zero size. Rule: onnxruntime pooling allows only N to be zero (Invalid input shape). Fix: non-empty channel and spatial axes.",
        )
    if rank > 3:
        raise fail(
            label,
            f"input X has {rank} spatial axes. Rule: onnxruntime's CPU {op_type} supports 1 to 3 (Unsupported pooling size). Fix: reshape to at most 3 spatial axes.",
        )
    single = sum(1 for name in names_out if name) == 1
    return PoolNode(op_type, x_shape, kernel, dilation, stride, pads, auto_pad, storage_order, single)


def pool_axis_padding(label: str, node: PoolNode, axis: int) -> arith.Padding:
    """The padding of one axis: auto_pad SAME_* (from the undilated kernel, not clamped at 0), or pads."""
    if not node.auto_pad.startswith("SAME"):
        return listed_padding(node.auto_pad, node.pads, axis, node.rank)
    n, k, s, d = node.x_shape[2 + axis], node.kernel[axis], node.stride[axis], node.dilation[axis]
    padding = arith.same_padding(n, k, s, node.auto_pad == "SAME_LOWER", clamp=False)
    plain_max = node.op_type == "MaxPool" and all(d == 1 for d in node.dilation) and node.storage_order == 0
    if padding.lo + padding.hi < 0 and plain_max and node.single_output:
        raise fail(
            label,
            f"auto_pad={node.auto_pad!r} gives negative padding on the {arith.axis_names(node.rank)[axis]} axis ({padding.text}). Rule: onnxruntime's MaxPool without dilation refuses it (padding values must be non-negative). Fix: kernel_shape >= strides, or explicit pads.",
        )
    dil = f" (SAME uses kernel {k}, not the dilated {arith.effective_kernel(k, d)})" if d != 1 else ""
    return arith.Padding(padding.lo, padding.hi, f"auto_pad={node.auto_pad!r}: {padding.text}{dil}")


def pool_size_note(label: str, node: PoolNode, axis: int, lo, hi, rounding: str) -> str:
    """Refuses a negative output size; a note when rounding toward zero keeps a window floor would drop."""
    n, k, d, s = node.x_shape[2 + axis], node.kernel[axis], node.dilation[axis], node.stride[axis]
    k_eff = arith.effective_kernel(k, d)
    size = arith.windowed_out(n, k_eff, s, lo[axis], hi[axis], rounding)
    text = arith.conv_out_text(n, k, d, s, lo[axis], hi[axis], rounding=rounding)
    name = arith.axis_names(node.rank)[axis]
    if size < 0:
        raise fail(
            label,
            f"input {name} {n} is too small: the output size would be negative. Rule: onnxruntime computes {text} and refuses < 0 (0 gives an empty tensor). Fix: a larger input, more pads, or a smaller kernel_shape.",
        )
    if rounding == "trunc" and size == 1 and arith.conv_out(n, k_eff, s, lo[axis], hi[axis]) <= 0:
        return (
            f"{name}: onnxruntime divides rounding toward zero, {text}, so one window "
            f"reaching {k_eff - (n + lo[axis] + hi[axis])} cell(s) past the padded input still counts (floor would give 0); "
            "those cells are not padding and no divisor counts them."
        )
    return ""


CALLS = {spelling: handle for spelling in SPELLINGS}
