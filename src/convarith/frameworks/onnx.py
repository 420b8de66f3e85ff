"""ONNX as onnxruntime executes it: ``onnx.helper.make_node`` for Conv,
ConvTranspose, MaxPool, AveragePool and LpPool (and DepthToSpace/SpaceToDepth, at the end).

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

import math
from operator import add

__all__ = ["CALLS", "FRAMEWORK"]


from ..core import arith
from ..core.op import ConvOp, channels_first
from ..errors import ConvArithError
from ..parse import MAX_INT
from ._common import (
    Inputs,
    Mapped,
    Plan,
    any_of,
    array_rule,
    deferred,
    fail,
    fits,
    names_in,
    neutral_inputs,
    neutral_values,
    per_axis,
    raise_deferred,
    refuse,
    trailing_pad,
    unevaluated,
    with_values,
)

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
    for item in value if isinstance(value, (list, tuple)) else (value,):
        unread = unevaluated(item, key, label)
        if unread is not None:
            raise unread
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
        if got != expected and not (got == "INTS" and key in ("roi", "scales")):  # Resize's values, any numbers
            example = {
                "INTS": f"{key}=[{value!r}, ...]" if got == "INT" else f"{key}=[1, 1]",
                "INT": f"{key}=1",
                "STRING": f"{key}='NOTSET'",
                "FLOAT": f"{key}=-0.75",
                "FLOATS": f"{key}=[1.0, 2.0]",
            }[expected]
            raise fail(
                label,
                f"attribute {key}={value!r} is {TYPE_WORDS[got]} ({got}), but {op_type} expects {TYPE_WORDS[expected]} ({expected}). "
                f"Rule: onnxruntime rejects the model (Mismatched attribute type). Fix: {example}.",
            )
        attributes[key] = tuple(value) if expected == "INTS" else int(value) if expected == "INT" else value
    return op_type, names["inputs"], names["outputs"], attributes


def check_names(label: str, op_type: str, inputs: list, outputs: list) -> tuple[str, ...]:
    """The input tensors whose shapes the node needs (a trailing '' bias dropped), after
    onnxruntime's graph checks of the names."""
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
    return tuple(inputs[:count])


def no_shape(label: str, name: str, shapes: Inputs):
    known = ", ".join(key for key, _ in shapes.shapes) or "none"
    return fail(
        label,
        f"no shape given for input {name!r}. Rule: every input tensor needs its shape; shapes given: {known}. Fix: pass shapes={{'{name}': (...)}} (--shape {name}=... in the CLI).",
    )


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


def set_listed_padding(axes, auto_pad: str, pads, rank: int, rule_suffix: str = "") -> None:
    """``axes.lo``, ``axes.hi`` and ``axes.rules`` under auto_pad VALID or NOTSET, every axis."""
    padding = [listed_padding(auto_pad, pads, axis, rank) for axis in range(rank)]
    axes.lo, axes.hi = tuple(p.lo for p in padding), tuple(p.hi for p in padding)
    axes.rules = tuple(p.text + rule_suffix for p in padding)


def auto_pad_of(label: str, attrs: dict) -> str:
    value = attrs.get("auto_pad", "NOTSET") or "NOTSET"
    if value not in AUTO_PADS:
        raise fail(
            label,
            f"auto_pad={value!r} is not one of {', '.join(repr(a) for a in AUTO_PADS)}. Rule: onnxruntime compares the string exactly (Unknown AutoPadType String). Fix: auto_pad={value.upper() if value.upper() in AUTO_PADS else 'NOTSET'!r}.",
        )
    return value


def spatial_input(label: str, x_shape: tuple):
    return fail(
        label,
        f"input X has shape {x_shape}, {len(x_shape)} dimensions. Rule: onnx shape inference needs at least 3 (N, C, spatial...). Fix: add a batch and a channel axis.",
    )


def weight_rank(label: str, x_shape: tuple, w_shape: tuple, w_layout: str):
    return fail(
        label,
        f"W has shape {w_shape} ({len(w_shape) - 2} spatial axes) but X has shape {x_shape} ({len(x_shape) - 2}). Rule: onnx shape inference needs W as {w_layout} with one kernel size per spatial axis of X. Fix: W of rank {len(x_shape)}.",
    )


def weight_kernel(label: str, w_shape: tuple):
    return fail(
        label,
        f"W has shape {w_shape}, a kernel of {w_shape[2:]}. Rule: onnx shape inference (kernel_shape must only contain positive values). Fix: a W with positive spatial sizes.",
    )


def kernel_mismatch(label, kernel, w_shape):
    return fail(
        label,
        f"kernel_shape={list(kernel)} does not match W's spatial dims {tuple(w_shape[2:])} (W shape {w_shape}). Rule: onnxruntime requires kernel_shape to equal W's shape (kernel_shape is not compatible with W shape). Fix: leave kernel_shape out; it is read from W.",
    )


def bias_mismatch(label, b_shape, out_channels):
    return fail(
        label,
        f"bias B has shape {b_shape}, expected ({out_channels},). Rule: onnxruntime needs a 1-D bias with one value per output channel. Fix: shapes={{'B': ({out_channels},)}}.",
    )


def compile_node(call) -> Plan:
    """The compile function of every make_node spelling: bind the node, then its op_type's plan."""
    op_type, names_in, names_out, attrs = bind_node(call)
    bound = (("op_type", op_type), ("inputs", tuple(names_in)), ("outputs", tuple(names_out)), *attrs.items())
    family = FAMILIES.get(op_type) or (
        ConvPlan if op_type == "Conv" else TransposePlan if op_type == "ConvTranspose" else PoolPlan
    )
    return family(call, op_type, names_in, names_out, attrs, bound)


class Axes:
    """A node's attributes for one spatial rank, normalised per axis, or the first refusal
    they make (``error``); ``late`` is a call-only refusal onnxruntime makes after input checks
    (for Conv a flag: its message names the kernel, which may come from W)."""

    __slots__ = (
        "error", "late", "kernel", "dilation", "stride", "k_eff", "auto_pad", "lo", "hi", "rules", "out_pad",
        "wanted", "plain_max", "fast",
    )  # fmt: skip

    def __init__(self) -> None:
        self.error = self.late = self.kernel = self.k_eff = self.lo = self.hi = self.rules = self.wanted = None
        # where shape() may take its fast path: Conv (lo + hi, k_eff, stride), pools (k_eff, stride, lo, hi)
        self.fast = None
        self.dilation = self.stride = self.out_pad = ()
        self.auto_pad, self.plain_max = "NOTSET", False


class NodePlan(Plan):
    """A make_node call compiled: bound, its names checked; per spatial rank (read from the
    input) its attributes are normalised once (``axes``)."""

    __slots__ = ("label", "attrs", "arguments", "names", "ranks", "kernel_given")

    def __init__(self, call, op_type, names_in, names_out, attrs, arguments) -> None:
        super().__init__(call)
        self.label, self.attrs, self.arguments, self.ranks = op_type, attrs, arguments, {}
        self.kernel_given = "kernel_shape" in attrs

    def conv_operands(self, inputs: Inputs, w_layout: str) -> list:
        """The shapes of X, W (and B) of a Conv/ConvTranspose node, X at least 3-D and W of its rank."""
        found = self.tensors(inputs)
        x, w = found[0], found[1]
        if len(x) < 3:
            raise spatial_input(self.label, x)
        if len(w) != len(x):
            raise weight_rank(self.label, x, w, w_layout)
        return found

    def tensors(self, inputs: Inputs) -> list:
        """The shapes of the node's input tensors, in order."""
        shapes, found = inputs.shapes, []
        for name in self.names:  # a plain loop over a few pairs: faster than a dict
            for key, shape in shapes:
                if key == name:
                    found.append(shape)
                    break
            else:
                raise no_shape(self.label, name, inputs)
        return found

    def axes(self, rank: int) -> Axes:
        axes = Axes()
        axes.error = deferred(self.compile_rank, axes, rank)
        self.ranks[rank] = axes
        return axes

    def compile_rank(self, axes: Axes, rank: int) -> None:
        raise NotImplementedError

    def kernel_of(self, axes: Axes, w: tuple) -> tuple:
        """The kernel: the attribute (checked per rank: None if refused), else W's spatial dims, which must be positive."""
        if self.kernel_given:
            return axes.kernel
        if min(w[2:]) <= 0:
            raise weight_kernel(self.label, w)
        return w[2:]


class ConvPlan(NodePlan):
    """Conv: out = floor((n + lo + hi - k_eff) / s) + 1 >= 1; SAME_* (no dilation) or pads."""

    __slots__ = ("group", "bias")

    def __init__(self, call, op_type, names_in, names_out, attrs, arguments) -> None:
        super().__init__(call, op_type, names_in, names_out, attrs, arguments)
        self.names = check_names(op_type, op_type, names_in, names_out)
        self.group = attrs.get("group", 1)
        self.bias = len(self.names) > 2

    def compile_rank(self, axes: Axes, rank: int) -> None:
        label, attrs = self.label, self.attrs
        if "kernel_shape" in attrs:
            axes.kernel = ints_attr(label, attrs, "kernel_shape", rank, 0, positive=True)
        axes.dilation = dilation = ints_attr(label, attrs, "dilations", rank, 1, positive=True)
        axes.stride = ints_attr(label, attrs, "strides", rank, 1, positive=True)
        pads = ints_attr(label, attrs, "pads", rank, 0, count=2 * rank)
        axes.auto_pad = auto_pad = auto_pad_of(label, attrs)
        if "pads" in attrs and auto_pad != "NOTSET":
            raise fail(
                label,
                f"pads={list(pads)} is given together with auto_pad={auto_pad!r}. Rule: onnxruntime refuses a Conv with both 'auto_pad' and 'pads'. Fix: drop pads, or drop auto_pad.",
            )
        if axes.kernel is not None:
            axes.k_eff = tuple(map(arith.effective_kernel, axes.kernel, dilation))
        if auto_pad.startswith("SAME"):
            axes.late = any(d != 1 for d in dilation)
            return
        set_listed_padding(axes, auto_pad, pads, rank)
        if axes.kernel is not None:  # conv_out(n, k_eff, s, lo, hi) is windows_in(n + lo + hi, k_eff, s) for n >= 0
            axes.fast = (tuple(map(add, axes.lo, axes.hi)), axes.k_eff, axes.stride)

    def resolve(self, inputs: Inputs):
        """(x, w, b, axes, kernel, lo, hi, output sizes) after every refusal, in onnxruntime's order."""
        label = self.label
        found = self.conv_operands(inputs, "(M, C/group, k...)")
        x, w = found[0], found[1]
        rank = len(x) - 2
        axes = self.ranks.get(rank) or self.axes(rank)
        kernel = axes.kernel if self.kernel_given else self.kernel_of(axes, w)
        raise_deferred(axes.error)
        group, channels, out_channels = self.group, x[1], w[0]
        if group == 0 or channels != w[1] * group:
            raise fail(
                label,
                f"X has {channels} channels but W has {w[1]} input channels with group={group}. Rule: onnxruntime needs C = W.shape[1] * group ({w[1]}*{group} = {w[1] * group}). Fix: W shape ({out_channels}, {channels // group if group > 0 and channels % group == 0 else channels}, ...) or group={channels // w[1] if w[1] and channels % w[1] == 0 else 1}.",
            )
        if out_channels % group:
            raise fail(
                label,
                f"W has {out_channels} output channels, not divisible by group={group}. Rule: onnxruntime needs M % group == 0. Fix: a multiple of {group} output channels.",
            )
        if kernel != w[2:]:
            raise kernel_mismatch(label, kernel, w)
        b = found[2] if self.bias else None
        if b is not None and b != (out_channels,):
            raise bias_mismatch(label, b, out_channels)
        spatial, stride = x[2:], axes.stride
        if axes.lo is None:  # SAME_*
            if axes.late:
                raise fail(
                    label,
                    f"auto_pad={axes.auto_pad!r} with dilations={list(axes.dilation)}. Rule: onnxruntime's Conv computes SAME padding only without dilation (Dilation not supported for SAME_UPPER or SAME_LOWER). Fix: explicit pads, e.g. pads={[d * (k - 1) // 2 for k, d in zip(kernel, axes.dilation)] * 2}.",
                )
            lower = axes.auto_pad == "SAME_LOWER"
            pads = [arith.same_pads(n, k, s, lower) for n, k, s in zip(spatial, kernel, stride)]
            lo, hi = tuple(p[2] for p in pads), tuple(p[3] for p in pads)
        else:
            lo, hi = axes.lo, axes.hi
        k_eff = axes.k_eff or tuple(map(arith.effective_kernel, kernel, axes.dilation))
        sizes = tuple(map(arith.conv_out, spatial, k_eff, stride, lo, hi))
        if min(sizes) <= 0:
            axis = next(axis for axis, size in enumerate(sizes) if size <= 0)
            text = arith.conv_out_text(
                spatial[axis], kernel[axis], axes.dilation[axis], stride[axis], lo[axis], hi[axis]
            )
            raise fail(
                label,
                f"input {arith.axis_names(rank)[axis]} {spatial[axis]} is too small. Rule: out = {text}, onnxruntime needs >= 1 (Invalid input shape). Fix: a larger input, more pads, or a smaller kernel.",
            )
        return x, w, b, axes, kernel, lo, hi, sizes

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        if not self.bias:  # the fast path: X and W with a listed kernel and padding, every check passed
            x, w = inputs.pair(*self.names[:2])
            axes = self.ranks.get(len(x) - 2) if x is not None and w is not None and len(x) == len(w) else None
            fast = axes.fast if axes is not None else None
            if fast is not None:
                group = self.group
                if x[1] == w[1] * group and group > 0 and w[0] % group == 0 and w[2:] == axes.kernel:
                    padding, k_eff, stride = fast
                    sizes = tuple(map(arith.windows_in, map(add, x[2:], padding), k_eff, stride))
                    if min(sizes) > 0 and max(sizes) <= MAX_INT:  # else resolve() refuses as onnxruntime
                        return (x[0], w[0], *sizes)
        x, w, _, _, _, _, _, sizes = self.resolve(inputs)
        shape = (x[0], w[0], *sizes)
        return shape if max(sizes) <= MAX_INT else fits(self.call.base, shape)  # the input's sizes fit

    def sweep_rule(self, got: dict, batch: int):
        """Over arrays (sweep): refused on a kernel (W's or kernel_shape, which must agree), stride or
        dilation below 1, a negative pad, SAME_* with a dilation, or a size below 1."""
        kernel, stride, dilation, spatial = got["kernel"], got["stride"], got["dilation"], got["n"]
        refused = any_of(v < 1 for v in (*kernel, *stride, *dilation)) | any_of(p < 0 for p in (*got["lo"], *got["hi"]))
        refused = refused | any_of(a != k for a, k in zip(got.get("kernel_shape", kernel), kernel))
        auto_pad = self.attrs.get("auto_pad", "NOTSET") or "NOTSET"
        lo, hi = got["lo"], got["hi"]
        if auto_pad == "VALID":
            lo = hi = [0] * len(spatial)
        elif auto_pad.startswith("SAME"):
            refused = refused | any_of(d != 1 for d in dilation)
            pads = [arith.same_pads(n, k, s, auto_pad == "SAME_LOWER") for n, k, s in zip(spatial, kernel, stride)]
            lo, hi = [p[2] for p in pads], [p[3] for p in pads]
        sizes = list(map(arith.conv_out, spatial, map(arith.effective_kernel, kernel, dilation), stride, lo, hi))
        return sizes, refused | any_of(size <= 0 for size in sizes), False

    def map(self, inputs: Inputs) -> Mapped:
        x, w, b, axes, kernel, lo, hi, _ = self.resolve(inputs)
        rank = len(x) - 2
        rules = axes.rules
        if rules is None:
            lower = axes.auto_pad == "SAME_LOWER"
            rules = tuple(
                f"auto_pad={axes.auto_pad!r}: {arith.same_padding(n, k, s, lower).text}"
                for n, k, s in zip(x[2:], kernel, axes.stride)
            )
        spec = channels_first(rank)
        op = ConvOp(
            "conv", x[0], x[1], w[0], x[2:], kernel, axes.stride, axes.dilation, lo, hi, spec, spec,
            groups=self.group, bias=b is not None,
        )  # fmt: skip
        return Mapped(
            FRAMEWORK, self.call, (op,), rules, layout=layout(rank), arguments=self.arguments,
            framework_id=FRAMEWORK_ID, padding_intent=padding_intent(axes.auto_pad, rank),
        )  # fmt: skip


def output_padding_error(label: str, stride, dilation, out_pad) -> str | None:
    """onnxruntime needs output_padding < max(stride, dilation), then < stride."""
    rank = len(stride)
    for axis in range(rank):
        s, d, p = stride[axis], dilation[axis], out_pad[axis]
        if p >= max(s, d):
            return str(
                fail(
                    label,
                    f"output_padding={list(out_pad)} is too large on the {arith.axis_names(rank)[axis]} axis. Rule: onnxruntime needs output_padding < max(stride, dilation) = {max(s, d)}. Fix: output_padding < {s}.",
                )
            )
        if p >= s:
            return str(
                fail(
                    label,
                    f"output_padding={list(out_pad)} is not smaller than stride={list(stride)} on the {arith.axis_names(rank)[axis]} axis. Rule: onnxruntime checks the output maps back to the input size (output_padding may be too large for stride). Fix: output_padding < {s}.",
                )
            )
    return None


class TransposePlan(NodePlan):
    """ConvTranspose: out = (n-1)*s + k_eff - lo - hi + output_padding; pads, SAME_* or output_shape."""

    __slots__ = ("group", "group_error", "bias")

    def __init__(self, call, op_type, names_in, names_out, attrs, arguments) -> None:
        super().__init__(call, op_type, names_in, names_out, attrs, arguments)
        self.names = check_names(op_type, op_type, names_in, names_out)
        self.bias = len(self.names) > 2
        self.group = group = attrs.get("group", 1)
        self.group_error = None
        if group <= 0:
            self.group_error = str(
                fail(op_type, f"group={group} must be > 0. Rule: onnx shape inference. Fix: group=1.")
            )

    def compile_rank(self, axes: Axes, rank: int) -> None:
        label, attrs = self.label, self.attrs
        if "kernel_shape" in attrs:
            axes.kernel = ints_attr(label, attrs, "kernel_shape", rank, 0, positive=True)
        axes.dilation = dilation = ints_attr(label, attrs, "dilations", rank, 1, positive=True)
        axes.stride = stride = ints_attr(label, attrs, "strides", rank, 1, positive=True)
        pads = ints_attr(label, attrs, "pads", rank, 0, count=2 * rank)
        axes.out_pad = out_pad = ints_attr(label, attrs, "output_padding", rank, 0)
        if "output_shape" in attrs:
            axes.wanted = ints_attr(label, attrs, "output_shape", rank, 0)
        if "pads" in attrs and attrs.get("auto_pad", "NOTSET") != "NOTSET":
            raise fail(
                label,
                f"pads={list(pads)} is given together with auto_pad={attrs['auto_pad']!r}. Rule: onnx shape inference (the pads attribute cannot be used simultaneously with auto_pad, even auto_pad=''). Fix: drop pads, or drop auto_pad.",
            )
        axes.auto_pad = auto_pad = auto_pad_of(label, attrs)
        axes.late = output_padding_error(label, stride, dilation, out_pad)
        if axes.kernel is not None:
            axes.k_eff = tuple(map(arith.effective_kernel, axes.kernel, dilation))
        if "output_shape" not in attrs and not auto_pad.startswith("SAME"):
            set_listed_padding(axes, auto_pad, pads, rank)

    def resolve(self, inputs: Inputs):
        """(x, w, b, axes, kernel, lo, hi, output_padding, output sizes) after every refusal, in onnxruntime's order."""
        label = self.label
        found = self.conv_operands(inputs, "(C, M/group, k...)")
        x, w = found[0], found[1]
        raise_deferred(self.group_error)
        group, channels = self.group, x[1]
        if channels % group:
            raise fail(
                label,
                f"X has {channels} channels, not divisible by group={group}. Rule: onnx shape inference needs C % group == 0 for ConvTranspose. Fix: a group dividing {channels}.",
            )
        rank = len(x) - 2
        axes = self.ranks.get(rank) or self.axes(rank)
        kernel = self.kernel_of(axes, w)
        raise_deferred(axes.error)
        if w[0] != channels:
            raise fail(
                label,
                f"W has shape {w}, its first axis {w[0]} should equal X's {channels} channels. Rule: onnxruntime ConvTranspose weights are (C, M/group, k...) (filter number not equal to input channel number). Fix: W shape ({channels}, {w[1]}, ...).",
            )
        if kernel != w[2:]:
            raise kernel_mismatch(label, kernel, w)
        raise_deferred(axes.late)
        spatial, stride, out_pad = x[2:], axes.stride, axes.out_pad
        k_eff = axes.k_eff or tuple(map(arith.effective_kernel, kernel, axes.dilation))
        if axes.lo is not None:
            lo, hi, extra = axes.lo, axes.hi, out_pad
        else:
            lo, hi, extra = self.derived_padding(x, axes, k_eff)
        sizes = tuple(map(arith.transpose_out, spatial, k_eff, stride, lo, hi, extra))
        out_channels = w[1] * group
        if min(sizes) <= 0:
            axis = next(axis for axis, size in enumerate(sizes) if size <= 0)
            text = arith.transpose_out_text(
                spatial[axis], kernel[axis], axes.dilation[axis], stride[axis], lo[axis], hi[axis], extra[axis]
            )
            raise fail(
                label,
                f"output {arith.axis_names(rank)[axis]} would be {sizes[axis]}. Rule: out = {text}, onnxruntime needs >= 1 (Computed output dimension is <= 0). Fix: smaller pads.",
            )
        b = found[2] if self.bias else None
        if b is not None and b != (out_channels,):
            raise bias_mismatch(label, b, out_channels)
        if rank == 3 and x[0] > 0 and spatial[2] > 0 and 0 in spatial[:2]:
            raise fail(
                label,
                f"X has shape {x}: an empty depth or height axis with a non-empty width. Rule: onnxruntime "
                "1.32's 3-D ConvTranspose kills the process (SIGSEGV) on such an input instead of refusing it "
                "(measured). Fix: skip the node for an empty input, or make every spatial axis non-empty.",
            )
        return x, w, b, axes, kernel, lo, hi, extra, sizes

    def derived_padding(self, x: tuple, axes: Axes, k_eff: tuple) -> tuple:
        """(pad_lo, pad_hi, output_padding) from output_shape or auto_pad SAME_*, axis by axis."""
        label, rank, wanted, auto_pad = self.label, len(x) - 2, axes.wanted, axes.auto_pad
        lo, hi, extra = [], [], []
        for axis in range(rank):
            n, s, p = x[2 + axis], axes.stride[axis], axes.out_pad[axis]
            full = arith.transpose_out(n, k_eff[axis], s, 0, 0, p)
            if wanted is None:  # SAME_*: the output is n * s
                _, before, after = arith.transpose_crop(full, n * s, auto_pad == "SAME_LOWER")
                lo.append(before), hi.append(after), extra.append(p)
                continue
            want = wanted[axis]
            if n == 0:
                raise fail(
                    label,
                    f"output_shape={list(wanted)} is given for an input with an empty {arith.axis_names(rank)[axis]} axis "
                    f"(X shape {x}). Rule: onnxruntime needs every input spatial dimension positive when "
                    "output_shape is set. Fix: drop output_shape, or a non-empty input.",
                )
            if want <= 0:
                raise fail(
                    label,
                    f"output_shape={list(wanted)} asks for size 0. Rule: onnxruntime needs a positive explicit output size. Fix: output_shape entries >= 1.",
                )
            total, before, after = arith.transpose_crop(full, want, auto_pad != "SAME_UPPER")
            back = arith.conv_out(want, k_eff[axis], s, total, 0)
            if back != n:
                raise fail(
                    label,
                    f"output_shape={list(wanted)} does not fit input size {n} on the {arith.axis_names(rank)[axis]} axis. Rule: onnxruntime maps the output back, (out + pads - k_eff) // stride + 1 = ({want} + {total} - {k_eff[axis]}) // {s} + 1 = {back}, and needs {n}. Fix: output_shape between 1 and {full + s - 1 - p}; {full} needs no cropping.",
                )
            lo.append(before), hi.append(after), extra.append(p + max(want - full, 0))
        return tuple(lo), tuple(hi), tuple(extra)

    def rules(self, x: tuple, axes: Axes, k_eff: tuple, lo: tuple, hi: tuple) -> tuple[str, ...]:
        """The rule text of each axis's padding."""
        if axes.rules is not None:
            return axes.rules
        rules, auto_pad = [], axes.auto_pad
        for axis in range(len(x) - 2):
            n, s, p = x[2 + axis], axes.stride[axis], axes.out_pad[axis]
            full = arith.transpose_out(n, k_eff[axis], s, 0, 0, p)
            before, total = lo[axis], lo[axis] + hi[axis]
            if axes.wanted is None:
                where = ", the odd pixel at the start" if auto_pad == "SAME_LOWER" else ", the odd pixel at the end"
                rules.append(
                    f"auto_pad={auto_pad!r}: out = {n}*{s}; total pad = max({full} - {n * s}, 0) = {total} -> before {before}, after {total - before}"
                    + (where if total % 2 else "")
                )
                continue
            want = axes.wanted[axis]
            where = (
                "the odd pixel cropped at the end" if auto_pad == "SAME_UPPER" else "the odd pixel cropped at the start"
            )
            rules.append(
                f"output_shape={want}: total pad = max({full} - {want}, 0) = {total} -> before {before}, after {total - before}"
                + (f", {where}" if total % 2 else "")
                + (f"; {want - full} extra zero cells at the end" if want > full else "")
            )
        return tuple(rules)

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        x, w, *_, sizes = self.resolve(inputs)
        return fits(self.call.base, (x[0], w[1] * self.group, *sizes))

    def sweep_rule(self, got: dict, batch: int):
        """Over arrays (sweep): refused on a kernel (W's or kernel_shape, which must agree), stride or
        dilation below 1, a negative pad or output_padding, output_padding not below the stride, a
        size below 1, or (3-D) the empty depth or height with a non-empty width that kills onnxruntime."""
        kernel, stride, dilation, spatial, extra = (
            got["kernel"],
            got["stride"],
            got["dilation"],
            got["n"],
            got["out_pad"],
        )
        refused = any_of(v < 1 for v in (*kernel, *stride, *dilation)) | any_of(
            p < 0 for p in (*got["lo"], *got["hi"], *extra)
        )
        refused = refused | any_of(a != k for a, k in zip(got.get("kernel_shape", kernel), kernel))
        refused = refused | any_of(p >= s for p, s in zip(extra, stride))
        k_eff = list(map(arith.effective_kernel, kernel, dilation))
        auto_pad = self.attrs.get("auto_pad", "NOTSET") or "NOTSET"
        lo, hi = got["lo"], got["hi"]
        if auto_pad == "VALID":
            lo = hi = [0] * len(spatial)
        elif auto_pad.startswith("SAME"):  # the output is n * s
            full = map(arith.transpose_out, spatial, k_eff, stride, [0] * len(spatial), [0] * len(spatial), extra)
            crops = [arith.transpose_crop(f, n * s, auto_pad == "SAME_LOWER") for f, n, s in zip(full, spatial, stride)]
            lo, hi = [c[1] for c in crops], [c[2] for c in crops]
        sizes = list(map(arith.transpose_out, spatial, k_eff, stride, lo, hi, extra))
        refused = refused | any_of(size <= 0 for size in sizes)
        if len(spatial) == 3:
            refused = refused | (batch > 0) & (spatial[2] > 0) & ((spatial[0] == 0) | (spatial[1] == 0))
        return sizes, refused, False

    def map(self, inputs: Inputs) -> Mapped:
        x, w, b, axes, kernel, lo, hi, extra, _ = self.resolve(inputs)
        rank = len(x) - 2
        k_eff = axes.k_eff or tuple(map(arith.effective_kernel, kernel, axes.dilation))
        notes = (
            (
                "onnxruntime places the odd cropped pixel of output_shape at the start unless auto_pad='SAME_UPPER', the opposite of the ONNX spec.",
            )
            if axes.wanted is not None
            else ()
        )
        spec = channels_first(rank)
        op = ConvOp(
            "conv_transpose", x[0], x[1], w[1] * self.group, x[2:], kernel, axes.stride, axes.dilation, lo, hi,
            spec, spec, output_padding=extra, groups=self.group, bias=b is not None,
        )  # fmt: skip
        return Mapped(
            FRAMEWORK, self.call, (op,), self.rules(x, axes, k_eff, lo, hi), notes, layout=layout(rank),
            arguments=self.arguments, framework_id=FRAMEWORK_ID,
            padding_intent=padding_intent("NOTSET" if axes.wanted is not None else axes.auto_pad, rank),
        )  # fmt: skip


class PoolPlan(NodePlan):
    """MaxPool/AveragePool/LpPool: sizes rounded toward zero unless ceil_mode=1; SAME_* from the
    undilated kernel, not clamped at 0."""

    __slots__ = ("rounding", "windows", "single", "notes")

    def __init__(self, call, op_type, names_in, names_out, attrs, arguments) -> None:
        super().__init__(call, op_type, names_in, names_out, attrs, arguments)
        if "kernel_shape" not in attrs:
            raise fail(
                op_type,
                f"kernel_shape is missing. Rule: {op_type} requires the attribute kernel_shape. Fix: kernel_shape=[2, 2] (one size per spatial axis).",
            )
        self.names = check_names(op_type, op_type, names_in, names_out)
        self.single = sum(1 for name in names_out if name) == 1
        ceil_mode = attrs.get("ceil_mode", 0) == 1
        self.rounding = "ceil" if ceil_mode else "trunc"
        self.windows = arith.pool_ceil_out if ceil_mode else arith.pool_trunc_out
        self.notes = ()
        if not ceil_mode and "ceil_mode" in attrs and attrs["ceil_mode"] != 0:
            self.notes = (f"ceil_mode={attrs['ceil_mode']} acts as 0: onnxruntime rounds up only for ceil_mode=1.",)

    def compile_rank(self, axes: Axes, rank: int) -> None:
        label, attrs = self.label, self.attrs
        axes.kernel = kernel = ints_attr(label, attrs, "kernel_shape", rank, 0, positive=True)
        axes.dilation = dilation = ints_attr(label, attrs, "dilations", rank, 1, positive=True)
        axes.stride = ints_attr(label, attrs, "strides", rank, 1, positive=True)
        pads = ints_attr(label, attrs, "pads", rank, 0, count=2 * rank)
        axes.auto_pad = auto_pad = auto_pad_of(label, attrs)
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
        if rank > 3:
            axes.late = str(
                fail(
                    label,
                    f"input X has {rank} spatial axes. Rule: onnxruntime's CPU {label} supports 1 to 3 (Unsupported pooling size). Fix: reshape to at most 3 spatial axes.",
                )
            )
        axes.k_eff = tuple(map(arith.effective_kernel, kernel, dilation))
        # onnxruntime's plain MaxPool (no dilation, row major, one output) refuses a negative SAME padding
        axes.plain_max = self.plain_max(dilation)
        if not auto_pad.startswith("SAME"):
            set_listed_padding(axes, auto_pad, pads, rank, self.ceil_rule())
            if axes.late is None:
                axes.fast = (axes.k_eff, axes.stride, axes.lo, axes.hi)

    def plain_max(self, dilation):
        """onnxruntime's plain MaxPool (no dilation, row major, one output), which refuses a negative
        SAME padding (elementwise on arrays of dilations)."""
        plain = self.label == "MaxPool" and self.attrs.get("storage_order", 0) == 0 and self.single
        return arith.where(any_of(d != 1 for d in dilation), False, plain)

    def sweep_rule(self, got: dict, batch: int):
        """Over arrays (sweep): refused on a kernel, stride or dilation below 1, a negative pad or one
        not below the kernel, an empty axis with a batch, a plain MaxPool's negative SAME padding,
        or a negative size; the sizes are the plan's own rounding (``windows``)."""
        kernel, stride, dilation, spatial = got["kernel_shape"], got["stride"], got["dilation"], got["n"]
        refused = any_of(v < 1 for v in (*kernel, *stride, *dilation)) | any_of(n == 0 for n in spatial) & (batch != 0)
        refused = refused | any_of(
            (lo < 0) | (hi < 0) | (lo >= k) | (hi >= k) for lo, hi, k in zip(got["lo"], got["hi"], kernel)
        )
        auto_pad = self.attrs.get("auto_pad", "NOTSET") or "NOTSET"
        lo, hi = got["lo"], got["hi"]
        if auto_pad == "VALID":
            lo = hi = [0] * len(spatial)
        elif auto_pad.startswith("SAME"):
            pads = [
                arith.same_pads(n, k, s, auto_pad == "SAME_LOWER", clamp=False)
                for n, k, s in zip(spatial, kernel, stride)
            ]
            lo, hi = [p[2] for p in pads], [p[3] for p in pads]
            refused = refused | self.plain_max(dilation) & any_of(p[1] < 0 for p in pads)
        sizes = list(map(self.windows, spatial, map(arith.effective_kernel, kernel, dilation), stride, lo, hi))
        return sizes, refused | any_of(size < 0 for size in sizes), False

    def ceil_rule(self) -> str:
        return ", ceil_mode=1 rounds up" if self.rounding == "ceil" else ""

    def resolve(self, inputs: Inputs):
        """(x, axes, lo, hi, output sizes) after every refusal, in onnxruntime's order."""
        label = self.label
        x = self.tensors(inputs)[0]
        if len(x) < 3:
            raise spatial_input(label, x)
        rank = len(x) - 2
        axes = self.ranks.get(rank) or self.axes(rank)
        raise_deferred(axes.error)
        if x[0] != 0 and 0 in x:
            raise fail(
                label,
                f"input X has shape {x} with a zero size. Rule: onnxruntime pooling allows only N to be zero (Invalid input shape). Fix: non-empty channel and spatial axes.",
            )
        raise_deferred(axes.late)
        spatial, stride = x[2:], axes.stride
        if axes.lo is None:  # SAME_*
            lower = axes.auto_pad == "SAME_LOWER"
            pads = [arith.same_pads(n, k, s, lower, clamp=False) for n, k, s in zip(spatial, axes.kernel, stride)]
            lo, hi = tuple(p[2] for p in pads), tuple(p[3] for p in pads)
            if axes.plain_max and min(p[1] for p in pads) < 0:
                axis = next(axis for axis, p in enumerate(pads) if p[1] < 0)
                text = arith.same_padding(spatial[axis], axes.kernel[axis], stride[axis], lower, clamp=False).text
                raise fail(
                    label,
                    f"auto_pad={axes.auto_pad!r} gives negative padding on the {arith.axis_names(rank)[axis]} axis ({text}). Rule: onnxruntime's MaxPool without dilation refuses it (padding values must be non-negative). Fix: kernel_shape >= strides, or explicit pads.",
                )
        else:
            lo, hi = axes.lo, axes.hi
        sizes = tuple(map(self.windows, spatial, axes.k_eff, stride, lo, hi))
        if min(sizes) < 0:
            axis = next(axis for axis, size in enumerate(sizes) if size < 0)
            text = arith.conv_out_text(
                spatial[axis], axes.kernel[axis], axes.dilation[axis], stride[axis], lo[axis], hi[axis],
                rounding=self.rounding,
            )  # fmt: skip
            raise fail(
                label,
                f"input {arith.axis_names(rank)[axis]} {spatial[axis]} is too small: the output size would be negative. Rule: onnxruntime computes {text} and refuses < 0 (0 gives an empty tensor). Fix: a larger input, more pads, or a smaller kernel_shape.",
            )
        return x, axes, lo, hi, sizes

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        x = inputs.shape_of(self.names[0])  # the fast path: listed padding, a non-empty input, every check passed
        axes = self.ranks.get(len(x) - 2) if x is not None else None
        fast = axes.fast if axes is not None else None
        if fast is not None and 0 not in x:
            sizes = tuple(map(self.windows, x[2:], *fast))
            if min(sizes) >= 0 and max(sizes) <= MAX_INT:  # else resolve() refuses as onnxruntime
                return (x[0], x[1], *sizes)
        x, _, _, _, sizes = self.resolve(inputs)
        shape = (x[0], x[1], *sizes)
        return shape if max(sizes) <= MAX_INT else fits(self.call.base, shape)  # the input's sizes fit

    def map(self, inputs: Inputs) -> Mapped:
        x, axes, lo, hi, sizes = self.resolve(inputs)
        rank, rounding, attrs = len(x) - 2, self.rounding, self.attrs
        spatial, kernel, dilation, stride = x[2:], axes.kernel, axes.dilation, axes.stride
        rules = axes.rules
        if rules is None:
            lower, rules = axes.auto_pad == "SAME_LOWER", []
            for n, k, s, d in zip(spatial, kernel, stride, dilation):
                text = arith.same_padding(n, k, s, lower, clamp=False).text
                dil = f" (SAME uses kernel {k}, not the dilated {arith.effective_kernel(k, d)})" if d != 1 else ""
                rules.append(f"auto_pad={axes.auto_pad!r}: {text}{dil}{self.ceil_rule()}")
            rules = tuple(rules)
        notes = []
        for axis in range(rank):
            n, k_eff = spatial[axis], axes.k_eff[axis]
            if (
                rounding == "trunc"
                and sizes[axis] == 1
                and arith.conv_out(n, k_eff, stride[axis], lo[axis], hi[axis]) <= 0
            ):
                text = arith.conv_out_text(
                    n, kernel[axis], dilation[axis], stride[axis], lo[axis], hi[axis], rounding=rounding
                )
                notes.append(
                    f"{arith.axis_names(rank)[axis]}: onnxruntime divides rounding toward zero, {text}, so one window "
                    f"reaching {k_eff - (n + lo[axis] + hi[axis])} cell(s) past the padded input still counts (floor would give 0); "
                    "those cells are not padding and no divisor counts them."
                )
        spec = channels_first(rank)
        op = ConvOp(
            KINDS[self.label], x[0], x[1], x[1], spatial, kernel, stride, dilation, lo, hi, spec, spec,
            rounding=rounding, empty_max="lowest", count_include_pad=attrs.get("count_include_pad", 0) != 0,
            norm_p=attrs.get("p", 2),
        )  # fmt: skip
        return Mapped(
            FRAMEWORK, self.call, (op,), rules, tuple(notes) + self.notes, layout=layout(rank),
            arguments=self.arguments, framework_id=FRAMEWORK_ID, padding_intent=padding_intent(axes.auto_pad, rank),
        )  # fmt: skip


CALLS = {spelling: compile_node for spelling in SPELLINGS}


# --- resize: Resize (opset 19 semantics, as onnxruntime runs it under opset 21) ------------------------------------
# The values of the constant inputs roi, scales and sizes are given in the call by keyword, named after the role
# (convarith's convention): make_node('Resize', ['X', '', 'scales'], ['Y'], mode='linear', scales=[1, 1, 2, 2]).
# The differential runner turns them into initializers of those names.

RESIZE_CONSTANTS = {"roi": "FLOATS", "scales": "FLOATS", "sizes": "INTS"}
ATTRIBUTES["Resize"] = {
    "mode": "STRING", "coordinate_transformation_mode": "STRING", "nearest_mode": "STRING", "cubic_coeff_a": "FLOAT",
    "exclude_outside": "INT", "extrapolation_value": "FLOAT", "antialias": "INT", "axes": "INTS",
    "keep_aspect_ratio_policy": "STRING", **RESIZE_CONSTANTS,
}  # fmt: skip
INPUT_RANGE["Resize"] = (1, 4)
RESIZE_MODES = ("nearest", "linear", "cubic")
RESIZE_COORDINATES = (
    "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn",
    "tf_crop_and_resize",
)  # fmt: skip
RESIZE_ROUNDINGS = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")
ASPECT_POLICIES = ("stretch", "not_larger", "not_smaller")


def constant_inputs(call) -> set:
    """The input names of a Resize node whose values the call gives (roi=, scales=, sizes=)."""
    op_type, names, _, attrs = bind_node(call)
    if op_type == "MaxUnpool":  # issue 12: its output_shape input's values, given as output_shape=
        return {names[2]} if len(names) > 2 and names[2] and "output_shape" in attrs else set()
    if op_type != "Resize":
        return set()
    return {names[i] for i, role in ((1, "roi"), (2, "scales"), (3, "sizes")) if i < len(names) and role in attrs}


def choice_attr(label: str, attrs: dict, key: str, choices: tuple) -> str:
    value = attrs.get(key, choices[0])
    if value not in choices:
        raise fail(
            label,
            f"{key}={value!r} is not accepted. Rule: onnxruntime's Resize takes {', '.join(map(repr, choices))} "
            f"(rejected when the session is created). Fix: {key}={choices[0]!r}.",
        )
    return value


class ResizePlan(NodePlan):
    """Resize: out = floor(float32(n) * float32(scale)) per axis, or the sizes given (scaled as a
    whole by keep_aspect_ratio_policy); N and C must keep their size (convarith's canonical op)."""

    __slots__ = ("mode", "coordinate", "rounding", "values", "policy")

    def __init__(self, call, op_type, names_in, names_out, attrs, arguments) -> None:
        super().__init__(call, op_type, names_in, names_out, attrs, arguments)
        label = op_type
        names = check_names(label, op_type, names_in, names_out)
        self.names = names[:1]
        slots = {
            role: names_in[i] if i < len(names_in) else "" for i, role in ((1, "roi"), (2, "scales"), (3, "sizes"))
        }
        for role, name in slots.items():
            if name and role not in attrs:
                raise refuse(
                    label,
                    f"the values of input {role} ({name!r}) are not given",
                    "Resize's output shape depends on the values of scales or sizes, not only on their shape",
                    f"give them in the call, e.g. {role}=[1.0, 1.0, 2.0, 2.0] (convarith's convention; the node's "
                    f"input {name!r} holds them)",
                )
            if role in attrs and not name:
                raise refuse(
                    label,
                    f"{role}= values were given but the node has no {role} input",
                    f"the values belong to the node's input {['X', 'roi', 'scales', 'sizes'].index(role) + 1} ({role})",
                    "name it, e.g. inputs=['X', '', 'scales'] for scales=",
                )
        self.values = {role: attrs[role] for role in RESIZE_CONSTANTS if role in attrs}
        given = [role for role in ("scales", "sizes") if self.values.get(role)]
        if len(given) != 1:
            raise refuse(
                label,
                f"{'both' if given else 'neither of'} scales and sizes {'are' if given else 'is'} given (non-empty)",
                "Either `sizes` or `scales` must be provided, but not both of them (onnxruntime's shape inference)",
                "give one of them, e.g. scales=[1.0, 1.0, 2.0, 2.0]",
            )
        self.mode = choice_attr(label, attrs, "mode", RESIZE_MODES)
        self.coordinate = choice_attr(label, attrs, "coordinate_transformation_mode", RESIZE_COORDINATES)
        self.rounding = choice_attr(label, attrs, "nearest_mode", RESIZE_ROUNDINGS)
        self.policy = choice_attr(label, attrs, "keep_aspect_ratio_policy", ASPECT_POLICIES)
        if self.policy != "stretch" and given == ["scales"]:
            raise refuse(label, f"keep_aspect_ratio_policy={self.policy!r} with scales",
                         "providing scales is incompatible with a keep_aspect_ratio_policy other than 'stretch'",
                         "give sizes, or keep_aspect_ratio_policy='stretch'")  # fmt: skip
        antialias = attrs.get("antialias", 0) != 0
        if attrs.get("exclude_outside", 0) != 0 and not (self.mode == "cubic" or self.mode == "linear" and antialias):
            raise refuse(label, f"exclude_outside={attrs['exclude_outside']} with mode={self.mode!r}",
                         "exclude_outside can be set to 1 when mode is cubic, or linear with antialias=1",
                         "drop exclude_outside")  # fmt: skip
        if attrs.get("antialias", 0) != 0 and self.mode == "nearest":
            raise refuse(label, "antialias=1 with mode='nearest'", "onnxruntime antialiases linear and cubic only",
                         "antialias=0, or mode='linear'")  # fmt: skip

    def resolve(self, inputs: Inputs):
        """(x shape, output shape, sampling scale per axis or ()) after every refusal."""
        label, attrs = self.label, self.attrs
        (x,) = self.tensors(inputs)
        rank = len(x)
        axes = attrs.get("axes")
        if axes is None:
            axes = tuple(range(rank))
        elif len(set(a % rank if -rank <= a < rank else a for a in axes)) != len(axes) or not all(
            -rank <= a < rank for a in axes
        ):
            raise refuse(label, f"axes={list(axes)} for an input of rank {rank}", "each axis in [-rank, rank) once",
                         f"e.g. axes={list(range(2, rank))}")  # fmt: skip
        axes = tuple(a % rank for a in axes)
        role = "scales" if self.values.get("scales") else "sizes"
        values = self.values[role]
        if len(values) != len(axes):
            raise refuse(label, f"{role}={list(values)} has {len(values)} values for {len(axes)} axes",
                         f"the number of elements of {role} must be the rank of X ({rank}) or the number of axes",
                         f"one value per axis of X {tuple(x)}")  # fmt: skip
        scale = [1.0] * rank
        out = list(x)
        if role == "scales":
            for a, s in zip(axes, values):
                if not s > 0:
                    raise refuse(label, f"scales={list(values)} holds {s!r}", "Scale value should be greater than 0",
                                 "positive scales")  # fmt: skip
                scale[a], out[a] = float(s), arith.scaled_size_float32(x[a], s)
                if out[a] > MAX_INT or out[a] != out[a]:
                    raise fail(label, f"scales={list(values)} gives an output size beyond 64 bits. Rule: sizes are "
                               "int64. Fix: a smaller scale.")  # fmt: skip
                out[a] = int(out[a])
        else:
            if any(v < 0 or v == 0 < x[a] for a, v in zip(axes, values)):  # scale = v / n; 0/0 (NaN) passes
                raise refuse(label, f"sizes={list(values)} on X {tuple(x)}",
                             "onnxruntime derives scale = size / n and refuses a scale <= 0",
                             "sizes >= 1")  # fmt: skip
            if self.policy == "stretch":
                for a, v in zip(axes, values):
                    out[a] = v
            elif any(x[a] == 0 for a in axes):
                raise fail(label, f"keep_aspect_ratio_policy={self.policy!r} over an empty axis of X {tuple(x)}. "
                           "Rule: its scale divides by the axis size (not modelled for 0). Fix: a non-empty input.")  # fmt: skip
            else:
                common, sizes = arith.kept_aspect(
                    [x[a] for a in axes], values, larger=self.policy == "not_smaller", half_even=False
                )
                for a, size in zip(axes, sizes):
                    out[a], scale[a] = size, common
        if rank < 3 or out[0] != x[0] or out[1] != x[1]:
            raise fail(
                label,
                f"X {tuple(x)} resized to {tuple(out)} changes the batch or channel axis (or has no spatial axis). "
                "Rule: onnxruntime resizes any axis, but convarith models Resize of the spatial axes of an "
                "(N, C, spatial...) tensor. Fix: scale 1 on the first two axes.",
            )
        if self.mode != "nearest" and rank > 3 and (scale[0] != 1 or scale[1] != 1):
            raise fail(
                label,
                f"keep_aspect_ratio_policy={self.policy!r} scales the batch and channel axes too (scale "
                f"{scale[0]!r}). Rule: onnxruntime's {self.mode} Resize needs scale 1 on the outermost 2 axes "
                f"(ScalesValidation). Fix: axes={list(range(2, rank))} to apply the policy to the spatial axes only.",
            )
        if self.mode == "linear" and rank > 5:
            raise fail(label, f"mode='linear' on a {rank}-D input. Rule: onnxruntime's linear Resize takes 2-D to 5-D "
                       "inputs. Fix: reshape to at most 3 spatial axes.")  # fmt: skip
        if self.mode == "cubic" and rank != 4:
            raise fail(label, f"mode='cubic' on a {rank}-D input. Rule: onnxruntime's cubic Resize takes 2-D or 4-D "
                       "(N, C, H, W) inputs. Fix: a 4-D input.")  # fmt: skip
        sample = tuple(scale[2:]) if role == "scales" or self.policy != "stretch" else ()
        return tuple(x), tuple(out), sample

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        return fits(self.label, self.resolve(inputs)[1])

    def map(self, inputs: Inputs) -> Mapped:
        x, out, sample = self.resolve(inputs)
        rank, attrs = len(x) - 2, self.attrs
        spec = channels_first(rank)
        ones = (1,) * rank
        op = ConvOp(
            "resize", x[0], x[1], x[1], x[2:], ones, ones, ones, (0,) * rank, (0,) * rank, spec, spec,
            out_size=out[2:], resize_mode=self.mode, coordinate=self.coordinate, nearest_rounding=self.rounding,
            sample_scale=sample, resize_arith="onnx", cubic_a=float(attrs.get("cubic_coeff_a", -0.75)),
            exclude_outside=attrs.get("exclude_outside", 0) != 0, antialias=attrs.get("antialias", 0) != 0,
        )  # fmt: skip
        if sample:
            rules = tuple(f"{self.mode} resize by {s!r}: out = floor(float32(n) x float32({s!r}))" for s in sample)
        else:
            rules = tuple(f"{self.mode} resize to the given size {m} (sampled with scale {m}/{n})"
                          for n, m in zip(x[2:], out[2:]))  # fmt: skip
        if self.policy != "stretch":
            rules = tuple(f"{rule}; keep_aspect_ratio_policy={self.policy!r}: one scale for every axis, "
                          "out = round(scale x n)" for rule in rules)  # fmt: skip
        return Mapped(
            FRAMEWORK, self.call, (op,), rules, layout=layout(rank), arguments=self.arguments,
            framework_id=FRAMEWORK_ID,
        )  # fmt: skip


def compile_node_or_resize(call) -> Plan:
    """make_node: Resize here, every other op_type as ``compile_node``."""
    op_type, names_in, names_out, attrs = bind_node(call)
    if op_type != "Resize":
        return compile_node(call)
    bound = (("op_type", op_type), ("inputs", tuple(names_in)), ("outputs", tuple(names_out)), *attrs.items())
    return ResizePlan(call, op_type, names_in, names_out, attrs, bound)


CALLS.update({spelling: compile_node_or_resize for spelling in SPELLINGS})
# --- rearranging (wip8-rearr): DepthToSpace (mode DCR or CRD) and SpaceToDepth (DCR) ---------------------------------

ATTRIBUTES.update({"DepthToSpace": {"blocksize": "INT", "mode": "STRING"}, "SpaceToDepth": {"blocksize": "INT"}})
INPUT_RANGE.update({"DepthToSpace": (1, 1), "SpaceToDepth": (1, 1)})


class BlockPlan(NodePlan):
    """DepthToSpace / SpaceToDepth on (N, C, H, W): blocksize >= 1 (1 keeps the shape), DepthToSpace's
    mode 'DCR' (block-major, the default) or 'CRD' (channel-major), case-sensitive."""

    __slots__ = ("kind", "block", "order")

    def __init__(self, call, op_type, names_in, names_out, attrs, arguments) -> None:
        super().__init__(call, op_type, names_in, names_out, attrs, arguments)
        if "blocksize" not in attrs:
            raise refuse(op_type, "blocksize is missing", f"{op_type} requires the attribute blocksize", "blocksize=2")
        self.names = check_names(op_type, op_type, names_in, names_out)
        self.kind = "depth_to_space" if op_type == "DepthToSpace" else "space_to_depth"
        self.block = attrs["blocksize"]
        if self.block <= 0:
            raise refuse(op_type, f"blocksize={self.block}", "blocksize must be positive", "blocksize=2")
        self.order = attrs.get("mode", "DCR")
        if self.order not in ("DCR", "CRD"):
            raise refuse(op_type, f"mode={self.order!r}", "mode is 'DCR' or 'CRD' (upper case)", "mode='DCR'")

    def map(self, inputs: Inputs) -> Mapped:
        label, b = self.label, self.block
        (x,) = self.tensors(inputs)
        if len(x) != 4:
            raise refuse(
                label, f"input X has shape {x}", "the input tensor must be 4-dimensional (N, C, H, W)", "a 4-D X"
            )
        n, c, h, w = x
        if self.kind == "depth_to_space":
            if c % (b * b):
                raise refuse(
                    label, f"X has {c} channels, not divisible by blocksize**2 = {b * b}",
                    "DepthToSpace moves each group of blocksize**2 channels into a block of space",
                    f"a channel count that is a multiple of {b * b}",
                )  # fmt: skip
            out_ch, spatial, verb = c // (b * b), (h * b, w * b), f"out = n*{b}"
        else:
            if h % b or w % b:
                raise refuse(
                    label, f"X is {h} x {w}, not divisible by blocksize={b}",
                    "SpaceToDepth cuts space into blocksize x blocksize blocks", f"a height and width that are multiples of {b}",
                )  # fmt: skip
            out_ch, spatial, verb = c * b * b, (h // b, w // b), f"out = n/{b}"
        op = ConvOp(
            self.kind, n, c, out_ch, (h, w), (b, b), (b, b), (1, 1), (0, 0), (0, 0), channels_first(2),
            channels_first(2), block_order=self.order,
        )  # fmt: skip
        where = "(i*b + j)*C + c (block-major)" if self.order == "DCR" else "c*b*b + i*b + j (channel-major)"
        note = f"blocksize={b}: {verb}; channels {c} -> {out_ch}; mode {self.order!r}: channel {where} holds offset (i, j)."
        return Mapped(
            FRAMEWORK, self.call, (op,), ("none: whole blocks move",) * 2, (note,), layout="NCHW",
            shape_override=(n, out_ch, *spatial), arguments=self.arguments, framework_id=FRAMEWORK_ID,
        )  # fmt: skip


FAMILIES = {"DepthToSpace": BlockPlan, "SpaceToDepth": BlockPlan}
# --- sweeps: the node rules over arrays (convarith.sweep) --------------------------------------------------------


def vector_rule(call, inputs, candidates: set, strict: bool = True):
    """sweep's rule for Conv, ConvTranspose (no output_shape) and pooling nodes: the X and W
    spatial sizes and the kernel_shape, strides, dilations, pads and output_padding entries as
    arrays. The node compiled and answered with neutral values says the rest is sound."""
    given = dict(call.kwargs)
    op_type = call.args[0] if call.args else given.get("op_type")
    if op_type not in ATTRIBUTES or inputs.input_shape is not None or inputs.output_size or not inputs.shapes:
        return None
    tensors = call.args[1] if len(call.args) > 1 else given.get("inputs")
    if not isinstance(tensors, (list, tuple)) or not all(isinstance(name, str) for name in tensors):
        return None  # (the compiled node refuses it)
    shapes = [inputs.shapes.get(name) for name in tensors[:2] if name]
    if not shapes or not all(isinstance(shape, tuple) and len(shape) >= 3 for shape in shapes):
        return None
    x, rank = shapes[0], len(shapes[0]) - 2
    defaults = {
        "strides": (1,) * rank,
        "dilations": (1,) * rank,
        "pads": (0,) * (2 * rank),
        "output_padding": (0,) * rank,
    }
    axes = {}
    for key, param, count in (("strides", "stride", rank), ("dilations", "dilation", rank), ("pads", "pads", 2 * rank),
                              ("kernel_shape", "kernel_shape", rank), ("output_padding", "out_pad", rank)):  # fmt: skip
        if key in given or key in defaults and (key != "output_padding" or op_type == "ConvTranspose"):
            axes[param] = per_axis(given.get(key, defaults.get(key)), count, False)
            if axes[param] is None:
                return None
    pads = axes.pop("pads")
    axes["lo"], axes["hi"] = pads[:rank], pads[rank:]
    leading = x[:2]
    if op_type in ("Conv", "ConvTranspose"):
        if len(shapes) < 2 or len(shapes[1]) != len(x) or "output_shape" in given:
            return None
        axes["kernel"] = shapes[1][2:]
        leading += shapes[1][:2]
    elif "kernel_shape" not in axes:
        return None
    others = set().union(
        *(names_in(value) for key, value in given.items() if key not in defaults and key != "kernel_shape")
    )
    others |= names_in(leading)
    rule = None
    if strict:
        try:
            plan = compile_node(with_values(call, neutral_values(given, candidates, ("pads", "output_padding"))))
            plan.shape(neutral_inputs(inputs))
        except ConvArithError:
            return None
        rule = lambda got: plan.sweep_rule(got, x[0])  # noqa: E731
    return array_rule(axes, x[2:], others, candidates, strict, rank + 2, range(2, rank + 2), rule)


# --- global pooling and Pad (glpad) --------------------------------------------------------------------------------
# GlobalAveragePool/GlobalMaxPool/GlobalLpPool: a pool whose window is the whole input (kernel = the
# spatial size, stride 1, no padding), out = 1 per spatial axis. Pad: the values of its pads (and
# constant_value, axes) inputs are not shapes, so they are written as keywords of the node:
# make_node('Pad', ['X', 'pads'], ['Y'], mode='reflect', pads=[...], value=0.0, axes=[...]);
# onnxruntime (opset 21) runs it with those values as constant inputs. A negative pad crops first.

GLOBAL_KINDS = {"GlobalAveragePool": "avg_pool", "GlobalMaxPool": "max_pool", "GlobalLpPool": "lp_pool"}
ONNX_PAD_MODES = {"constant": "zeros", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}
ATTRIBUTES.update({"GlobalAveragePool": {}, "GlobalMaxPool": {}, "GlobalLpPool": {"p": "INT"}})
ATTRIBUTES["Pad"] = {"mode": "STRING", "pads": "INTS", "value": "FLOAT", "axes": "INTS"}
INPUT_RANGE.update({name: (1, 1) for name in GLOBAL_KINDS} | {"Pad": (1, 4)})


class GlobalPoolPlan(NodePlan):
    """GlobalAveragePool / GlobalMaxPool / GlobalLpPool (p, default 2): (N, C, 1, ...), 1 to 3 spatial
    axes, only N may be 0."""

    def __init__(self, call, op_type, names_in, names_out, attrs, arguments) -> None:
        super().__init__(call, op_type, names_in, names_out, attrs, arguments)
        self.names = check_names(op_type, op_type, names_in, names_out)

    def map(self, inputs: Inputs) -> Mapped:
        label = self.label
        x = self.tensors(inputs)[0]
        if len(x) < 3:
            raise fail(
                label,
                f"input X has shape {x}, {len(x)} dimensions. Rule: onnxruntime's {label} needs (N, C, spatial...) "
                "(Input dimension cannot be less than 3). Fix: add a spatial axis.",
            )
        rank = len(x) - 2
        if rank > 3:
            raise fail(
                label,
                f"input X has {rank} spatial axes. Rule: onnxruntime's CPU {label} supports 1 to 3 "
                "(Unsupported pooling size). Fix: reshape to at most 3 spatial axes.",
            )
        if label != "GlobalLpPool" and rank == 2 and x[1] == 0:
            raise fail(
                label,
                f"input X has shape {x}, no channels. Rule: onnxruntime rewrites a 2-D {label} into its blocked "
                "channel layout, which refuses 0 channels even for an empty batch (ReorderOutput: invalid channel "
                "count). Fix: at least one channel.",
            )
        if x[0] != 0 and 0 in x[1:]:  # an empty batch skips every check
            raise fail(
                label,
                f"input X has shape {x} with a zero size. Rule: onnxruntime pooling allows only N to be zero. "
                "Fix: non-empty channel and spatial axes.",
            )
        spec, ones, zeros = channels_first(rank), (1,) * rank, (0,) * rank
        op = ConvOp(
            GLOBAL_KINDS[label], x[0], x[1], x[1], x[2:], x[2:], ones, ones, zeros, zeros, spec, spec,
            norm_p=self.attrs.get("p", 2),
        )  # fmt: skip
        rules = tuple(f"global: one window over the whole axis (kernel = n = {n}, stride 1, no padding)" for n in x[2:])
        notes = (
            (f"Lp norm with p={op.norm_p}: (sum of |x|^p)^(1/p) over each window",) if label == "GlobalLpPool" else ()
        )
        return Mapped(
            FRAMEWORK, self.call, (op,), rules, notes, layout=layout(rank), arguments=self.arguments,
            framework_id=FRAMEWORK_ID, padding_intent=("valid",) * rank,
        )  # fmt: skip


class PadPlan(NodePlan):
    """Pad (opset 21, onnxruntime): pads = [x1_begin, x2_begin, ..., x1_end, x2_end] over every axis,
    or over ``axes``; out = n + begin + end. constant fills with value; reflect/edge/wrap crop first,
    then copy from what is left (reflect needs it >= 2 long and a pad below its length)."""

    __slots__ = ("mode",)

    def __init__(self, call, op_type, names_in, names_out, attrs, arguments) -> None:
        super().__init__(call, op_type, names_in, names_out, attrs, arguments)
        self.names = check_names(op_type, op_type, names_in, names_out)[:1]
        if "pads" not in attrs:
            raise refuse(
                op_type,
                "the values of the pads input are not given",
                "a shape does not tell how much to pad: convarith reads the pads values from a pads=[...] keyword "
                "(Pad's opset-2 attribute), and onnxruntime runs them as the opset-21 pads input",
                "write the values, e.g. make_node('Pad', ['X', 'pads'], ['Y'], pads=[0, 0, 1, 1, 0, 0, 1, 1])",
            )
        mode = attrs.get("mode", "constant")
        if mode not in ONNX_PAD_MODES:
            raise fail(
                op_type,
                f"mode={mode!r} is not one of {', '.join(map(repr, ONNX_PAD_MODES))}. Rule: onnxruntime's Pad "
                "(Invalid 'mode' attribute value). Fix: mode='constant'.",
            )
        self.mode = mode

    def resolve(self, inputs: Inputs):
        """(x, per-axis before, after, first padded axis) after every refusal, in onnxruntime's order."""
        label, attrs, mode = self.label, self.attrs, self.mode
        x = self.tensors(inputs)[0]
        rank, pads = len(x), attrs["pads"]
        axes = attrs.get("axes")
        if axes is not None:
            for axis in axes:
                if not -rank <= axis < rank:
                    raise fail(
                        label,
                        f"axes={list(axes)} holds {axis}. Rule: onnx shape inference (Unexpected axis value: {axis}. "
                        f"Expected range [{-rank}, {rank})). Fix: axes inside that range.",
                    )
            normal = [axis % rank for axis in axes]
            if len(set(normal)) != len(normal):
                raise fail(
                    label,
                    f"axes={list(axes)} names an axis twice. Rule: onnx shape inference (Axis is referred to more "
                    "than once). Fix: each axis once.",
                )
        else:
            normal = list(range(rank))
        if len(pads) != 2 * len(normal):
            raise fail(
                label,
                f"pads={list(pads)} has {len(pads)} values. Rule: onnx shape inference (Pads has incorrect number of "
                f"values. Expected 2 * {len(normal)} values: begins then ends, one per padded axis). Fix: "
                f"{2 * len(normal)} values.",
            )
        lo, hi = [0] * rank, [0] * rank
        for index, axis in enumerate(normal):
            lo[axis], hi[axis] = pads[index], pads[len(normal) + index]
        for axis in range(rank):
            n, a, b = x[axis], lo[axis], hi[axis]
            out, kept = arith.pad_out(n, a, b), n + min(a, 0) + min(b, 0)
            where = f"axis {axis} (size {n}, pads {a} before, {b} after)"
            if out < 0:
                raise fail(
                    label,
                    f"{where} would have size {out}. Rule: onnxruntime's Pad needs n + begin + end = "
                    f"{arith.pad_out_text(n, a, b)} >= 0. Fix: less negative pads.",
                )
            if mode == "constant":
                continue
            if mode == "wrap" and 0 in x:
                raise fail(
                    label,
                    f"input X {x} is empty. Rule: onnxruntime's Pad in mode 'wrap' refuses an empty input "
                    "(Unexpected mode). Fix: mode='constant', or a non-empty input.",
                )
            if n == 0 and out > 0:
                raise fail(
                    label,
                    f"{where} is empty. Rule: onnxruntime cannot use {mode!r} mode to pad a dimension of size 0. "
                    "Fix: mode='constant', or pads of 0 on that axis.",
                )
            if 0 in x:
                continue  # an empty input: nothing is copied, so only the size-0 axis check applies
            if n > 0 and kept <= 0:
                raise fail(
                    label,
                    f"{where} is cropped to nothing ({kept} cells left). Rule: onnxruntime's Pad in mode {mode!r} "
                    "crops first and needs a non-empty remainder to copy from (zero effective input extent). "
                    "Fix: less negative pads.",
                )
            if mode == "reflect" and (a > 0 or b > 0) and (kept < 2 or max(a, b) > kept - 1):
                raise fail(
                    label,
                    f"reflect pads on {where}, {kept} cells after cropping. Rule: onnxruntime's Pad reflect needs an "
                    "axis of length >= 2 and pads <= length - 1 (pre-pad/post-pad exceeds maximum). "
                    f"Fix: pads <= {max(kept - 1, 0)}, or mode='edge'.",
                )
        first = next((axis for axis in range(rank) if lo[axis] or hi[axis]), rank)
        return x, lo[first:], hi[first:], first

    def map(self, inputs: Inputs) -> Mapped:
        x, lo, hi, first = self.resolve(inputs)
        value = float(self.attrs.get("value", 0.0)) if self.mode == "constant" else 0.0
        op, shape, batch_dims, squeeze, given = trailing_pad(x, lo, hi, ONNX_PAD_MODES[self.mode], value, self.label)
        rules = tuple(f"pads: begin {a}, end {b} (axis {first + i})" for i, (a, b) in enumerate(zip(lo, hi)))
        notes = ()
        if self.mode != "constant" and "value" in self.attrs:
            notes = (f"value={self.attrs['value']} is not used: mode {self.mode!r} copies cells",)
        return Mapped(
            FRAMEWORK, self.call, (op,), rules, notes,
            layout=layout(len(lo)) if len(lo) <= 3 else f"NC + {len(lo)} padded axes", squeeze_batch=squeeze,
            shape_override=shape, batch_dims=batch_dims, arguments=self.arguments, framework_id=FRAMEWORK_ID,
            given_shape=given, padding_intent=("explicit",) * op.rank,
        )  # fmt: skip


node_plan = compile_node_or_resize


def compile_glpad_node(call) -> Plan:
    """compile_node, with the global pools and Pad added."""
    op_type, names_in, names_out, attrs = bind_node(call)
    family = GlobalPoolPlan if op_type in GLOBAL_KINDS else PadPlan if op_type == "Pad" else None
    if family is None:
        return node_plan(call)
    bound = (("op_type", op_type), ("inputs", tuple(names_in)), ("outputs", tuple(names_out)), *attrs.items())
    return family(call, op_type, names_in, names_out, attrs, bound)


CALLS.update({spelling: compile_glpad_node for spelling in SPELLINGS})


# --- translation (issue 12): the padding rule as data ---------------------------------------------------------------

INTENTS = {"NOTSET": "explicit", "VALID": "valid", "SAME_UPPER": "same_upper", "SAME_LOWER": "same_lower"}


def padding_intent(auto_pad: str, rank: int) -> tuple[str, ...]:
    """Mapped.padding_intent of a node: auto_pad SAME_UPPER (the odd cell at the end) -> 'same_upper',
    SAME_LOWER -> 'same_lower', VALID -> 'valid', NOTSET (the pads as written, or output_shape) -> 'explicit'."""
    return (INTENTS[auto_pad],) * rank


# --- MaxUnpool (issue 12): X, I (flat indices over the whole output tensor, as MaxPool returns them) and an
# optional output_shape input, whose values the call gives as output_shape=[...] (convarith's convention) ----------

ATTRIBUTES["MaxUnpool"] = {"kernel_shape": "INTS", "strides": "INTS", "pads": "INTS", "output_shape": "INTS"}
INPUT_RANGE["MaxUnpool"] = (2, 3)


class UnpoolPlan(NodePlan):
    """MaxUnpool: out = (n-1)*stride + kernel - pads (>= 1), or output_shape (the full shape, N and C as X's,
    at least as many cells in all: onnxruntime compares the counts, measured); pads < kernel; 1 to 3 spatial
    axes; I of X's shape."""

    def __init__(self, call, op_type, names_in, names_out, attrs, arguments) -> None:
        super().__init__(call, op_type, names_in, names_out, attrs, arguments)
        if "kernel_shape" not in attrs:
            raise refuse(op_type, "kernel_shape is missing", "MaxUnpool requires the attribute kernel_shape",
                         "kernel_shape=[2, 2] (the pool's window)")  # fmt: skip
        names = check_names(op_type, op_type, names_in, names_out)
        self.names = names[:2]
        third = names[2] if len(names) > 2 else ""
        if third and "output_shape" not in attrs:
            raise refuse(op_type, f"the values of input output_shape ({third!r}) are not given",
                         "the output shape depends on that input's values, not only on its shape",
                         f"give them in the call, e.g. output_shape=[1, 1, 8, 8] (the node's input {third!r} holds them)")  # fmt: skip
        if "output_shape" in attrs and not third:
            raise refuse(op_type, "output_shape= values were given but the node has no third input",
                         "the values belong to MaxUnpool's input 3 (output_shape)",
                         "name it, e.g. inputs=['X', 'I', 'output_shape']")  # fmt: skip

    def map(self, inputs: Inputs) -> Mapped:
        label, attrs = self.label, self.attrs
        x, indices = self.tensors(inputs)
        if len(x) < 3:
            raise spatial_input(label, x)
        rank = len(x) - 2
        kernel = ints_attr(label, attrs, "kernel_shape", rank, 0, positive=True)
        stride = ints_attr(label, attrs, "strides", rank, 1, positive=True)
        pads = ints_attr(label, attrs, "pads", rank, 0, count=2 * rank)
        lo, hi = tuple(pads[:rank]), tuple(pads[rank:])
        if any(a >= k or b >= k for a, b, k in zip(lo, hi, kernel)):
            raise refuse(label, f"pads={list(pads)} with kernel_shape={list(kernel)}",
                         "onnxruntime's MaxUnpool needs each pad < kernel size (Pad should be smaller than kernel)",
                         f"pads below {list(kernel)}")  # fmt: skip
        if rank > 3:
            raise refuse(label, f"input X has {rank} spatial axes", "onnxruntime's CPU MaxUnpool supports 1 to 3 "
                         "(Unsupported pooling size)", "reshape to at most 3 spatial axes")  # fmt: skip
        if tuple(indices) != tuple(x):
            raise refuse(label, f"I has shape {tuple(indices)}, X {tuple(x)}",
                         "onnxruntime needs the index tensor of the input's shape", f"I of shape {tuple(x)}")  # fmt: skip
        spatial = x[2:]
        inferred = tuple(
            arith.transpose_out(n, k, s, a, b, 0) for n, k, s, a, b in zip(spatial, kernel, stride, lo, hi)
        )
        wanted = attrs.get("output_shape")
        for axis, size in enumerate(inferred):
            if size <= 0:
                raise refuse(label, f"the {arith.axis_names(rank)[axis]} axis of X {tuple(x)} unpools to {size}",
                             "out = (n-1)*stride + kernel - pads must be positive (onnxruntime: Computed output "
                             "dimension is not positive)", "a larger input or smaller pads")  # fmt: skip
        if wanted is not None:
            if len(wanted) != len(x):
                raise refuse(label, f"output_shape={list(wanted)} for X of rank {len(x)}",
                             "output_shape must have as many elements as X has dimensions",
                             f"output_shape=[{x[0]}, {x[1]}, ...]")  # fmt: skip
            if tuple(wanted[:2]) != tuple(x[:2]):
                raise refuse(label, f"output_shape={list(wanted)} for X {tuple(x)}",
                             "onnxruntime needs output_shape's batch and channel dimensions to match the input",
                             f"output_shape=[{x[0]}, {x[1]}, ...]")  # fmt: skip
            if min(wanted) < 0:
                raise refuse(label, f"output_shape={list(wanted)} holds a negative size",
                             "a tensor's sizes are >= 0", "output_shape >= 0 on every axis")  # fmt: skip
            if math.prod(wanted) < math.prod((*x[:2], *inferred)):
                raise refuse(label, f"output_shape={list(wanted)} holds fewer cells than the unpooled {[*x[:2], *inferred]}",
                             "onnxruntime compares the element counts (output_shape is smaller than minimum "
                             "required), not each size", f"output_shape with at least {math.prod((*x[:2], *inferred))} cells")  # fmt: skip
            extra = tuple(w - m for w, m in zip(wanted[2:], inferred))
        else:
            extra = (0,) * rank
        spec = channels_first(rank)
        op = ConvOp(
            "max_unpool", x[0], x[1], x[1], spatial, kernel, stride, (1,) * rank, lo, hi, spec, spec,
            output_padding=extra,
        )  # fmt: skip
        rules = tuple(
            f"pads: before {a}, after {b}; out = (n-1)*{s} + {k} - {a + b}" + (f" + {e} (output_shape)" if e else "")
            for a, b, s, k, e in zip(lo, hi, stride, kernel, extra)
        )
        notes = ("I holds flat positions over the whole output tensor (N, C and space), as MaxPool returns them.",)
        return Mapped(
            FRAMEWORK, self.call, (op,), rules, notes, layout=layout(rank), arguments=self.arguments,
            framework_id=FRAMEWORK_ID, padding_intent=("explicit",) * rank,
        )  # fmt: skip


glpad_plan = compile_glpad_node


def compile_unpool_node(call) -> Plan:
    """compile_glpad_node, with MaxUnpool added."""
    op_type, names_in, names_out, attrs = bind_node(call)
    if op_type != "MaxUnpool":
        return glpad_plan(call)
    bound = (("op_type", op_type), ("inputs", tuple(names_in)), ("outputs", tuple(names_out)), *attrs.items())
    return UnpoolPlan(call, op_type, names_in, names_out, attrs, bound)


CALLS.update({spelling: compile_unpool_node for spelling in SPELLINGS})
