"""ONNX (as onnxruntime runs it) in a translation: a make_node call as the source, a ModelProto
built with onnx.helper and run by onnxruntime (CPU, opset 21) as the target.

As a target, each canonical op becomes the node that gives the same op where onnxruntime has one
(checked by mapping the node with convarith's ONNX module, which models what onnxruntime does);
otherwise a few nodes that do: Slice for negative pads and crops, Pad for padding modes and for pads
a pool cannot take, an input with holes (Reshape, Pad, Reshape, Slice) for lhs dilation, a
depthwise Conv of ones divided by the divisor for averages onnxruntime cannot express, Slice,
ReduceMean/ReduceMax and Concat for adaptive pools. No user text is run: every node is written from
the op's values.
"""

from __future__ import annotations

import math
from keyword import iskeyword

from ..api import map_call
from ..core import arith
from ..core.op import ConvOp, channels_first
from ..errors import ConvArithError
from ..frameworks._common import Mapped, refuse
from .parts import Source, Target
from .steps import code as steps_code

__all__ = ["FRAMEWORK_ID", "emit", "source", "target"]

FRAMEWORK_ID = "onnx"
OPSET = 21  # what the ONNX module and the differential runner assume (Gelu needs 20)
IR_VERSION = 10
PREFIX = "onnx.helper.make_node"
POOL_TYPES = {"max_pool": "MaxPool", "avg_pool": "AveragePool", "lp_pool": "LpPool"}
GLOBAL_TYPES = {"max_pool": "GlobalMaxPool", "avg_pool": "GlobalAveragePool", "lp_pool": "GlobalLpPool"}
PAD_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
RESIZE_MODES = ("nearest", "linear", "cubic")
TARGET_IMPORTS = (
    "import numpy as np",
    "import onnxruntime as ort",
    "from onnx import TensorProto, helper, numpy_helper",
)
FLOAT32_LOWEST = -3.4028234663852886e38
MAX_NODES = 4096
PROBE_CELLS = 1 << 22  # the largest identity (input cells x output cells) a resize's sampling is compared on
WINDOW_TAPS = 1 << 22  # the most window taps searched for windows without an input cell


def label_of(op: ConvOp) -> str:
    return f"ONNX target ({op.kind})"


# --- emit: one make_node call whose mapping is the op ---------------------------------------------------------------


def attrs_text(attrs: dict) -> str:
    return "".join(f", {key}={list(v) if isinstance(v, tuple) else v!r}" for key, v in attrs.items())


def node_text(op_type: str, inputs: list, outputs: list, attrs: dict, prefix: str = PREFIX) -> str:
    return f"{prefix}({op_type!r}, {inputs!r}, {outputs!r}{attrs_text(attrs)})"


def pads_attr(lo, hi) -> tuple:
    return (*lo, *hi)


def pool_ceil_mode(op: ConvOp) -> int | None:
    """ONNX's ceil_mode for the op's rounding: ceil 1, trunc 0; floor 0 where truncation gives the same sizes."""
    if op.rounding == "ceil":
        return 1
    if op.rounding == "trunc":
        return 0
    sizes = [
        arith.pool_trunc_out(n, arith.effective_kernel(k, d), s, lo, hi)
        for n, k, d, s, lo, hi in zip(op.in_size, op.kernel, op.dilation, op.stride, op.pad_lo, op.pad_hi)
    ]
    return 0 if tuple(sizes) == tuple(arith.output_spatial(op)) else None


def is_global(op: ConvOp) -> bool:
    rank = op.rank
    return (
        op.kind in GLOBAL_TYPES
        and op.kernel == op.in_size
        and op.stride == (1,) * rank
        and op.dilation == (1,) * rank
        and op.pad_lo == op.pad_hi == (0,) * rank
        and op.rounding == "floor"
        and not op.count_include_pad
        and op.lp_mode == "abs_sum"
        and op.init_value is None
        and op.divisor_override == 0
    )


def cannot(op: ConvOp, what: str, closest: str):
    return refuse(
        label_of(op), what, "no single ONNX node computes it as onnxruntime runs it (opset 21)", f"closest: {closest}"
    )


def emit_node(op: ConvOp, strict: bool = True) -> tuple[str, list, dict]:
    """(op_type, input names, attributes) of the one node whose mapping is ``op``, or a ConvArithError;
    ``strict=False`` writes negative pads too (for an auto_pad to replace)."""
    rank, ones = op.rank, (1,) * op.rank
    if op.batch_groups != 1:
        raise cannot(op, f"batch_group_count={op.batch_groups}", "split the batch and concatenate grouped Convs")
    if op.lhs_dilation != ones:
        raise cannot(op, f"lhs_dilation={op.lhs_dilation}", "a ConvTranspose, or zeros inserted between the inputs")
    if op.kind in ("conv", "conv_transpose", "max_pool", "avg_pool", "lp_pool") and not is_global(op):
        if strict and min(op.pad_lo + op.pad_hi, default=0) < 0:
            raise cannot(op, f"negative padding {op.pad_lo}/{op.pad_hi}", "a Slice node cropping first")
        if op.pad_mode != "zeros":
            raise cannot(op, f"padding mode {op.pad_mode!r}", "a Pad node first")
    if op.kind == "conv":
        names = ["X", "W", "B"] if op.bias else ["X", "W"]
        attrs = {"kernel_shape": op.kernel, "strides": op.stride, "dilations": op.dilation}
        return "Conv", names, attrs | {"pads": pads_attr(op.pad_lo, op.pad_hi), "group": op.groups}
    if op.kind == "conv_transpose":
        names = ["X", "W", "B"] if op.bias else ["X", "W"]
        attrs = {"kernel_shape": op.kernel, "strides": op.stride, "dilations": op.dilation}
        attrs |= {"pads": pads_attr(op.pad_lo, op.pad_hi), "output_padding": op.output_padding, "group": op.groups}
        return "ConvTranspose", names, attrs
    if op.kind in POOL_TYPES:
        if op.init_value is not None and not (op.kind == "max_pool" and op.init_value == -math.inf):
            raise cannot(op, f"init_value={op.init_value}", "the pool, then Max with the init value")
        if is_global(op):
            return GLOBAL_TYPES[op.kind], ["X"], {"p": int(op.norm_p)} if op.kind == "lp_pool" else {}
        if op.divisor_override:
            raise cannot(
                op, f"divisor_override={op.divisor_override}", "AveragePool, then Mul by its divisor / the override"
            )
        if op.kind == "lp_pool" and (op.lp_mode != "abs_sum" or op.norm_p != int(op.norm_p)):
            raise cannot(op, f"an Lp pool of mode {op.lp_mode!r}, p={op.norm_p}", "Pow, AveragePool, Mul and Pow nodes")
        ceil_mode = pool_ceil_mode(op)
        if ceil_mode is None:
            raise cannot(op, "floor rounding that empties an axis", "onnxruntime rounds toward zero (one window)")
        attrs = {"kernel_shape": op.kernel, "strides": op.stride, "pads": pads_attr(op.pad_lo, op.pad_hi)}
        if op.dilation != ones:
            attrs["dilations"] = op.dilation
        attrs["ceil_mode"] = ceil_mode
        if op.kind == "avg_pool":
            attrs["count_include_pad"] = int(op.count_include_pad)
        if op.kind == "lp_pool":
            attrs["p"] = int(op.norm_p)
        return POOL_TYPES[op.kind], ["X"], attrs
    if op.kind == "pad":
        zeros = (0, 0)
        attrs = {"mode": PAD_MODES[op.pad_mode], "pads": (*zeros, *op.pad_lo, *zeros, *op.pad_hi)}
        if op.pad_mode == "zeros" and op.pad_value != 0:
            attrs["value"] = float(op.pad_value)
        return "Pad", ["X", "pads"], attrs
    if op.kind in ("depth_to_space", "space_to_depth"):
        if rank != 2 or op.kernel[0] != op.kernel[1]:
            raise cannot(op, f"blocks of {op.kernel}", "Reshape and Transpose nodes")
        if op.kind == "space_to_depth":
            if op.block_order != "DCR":
                raise cannot(op, "SpaceToDepth in channel-major (CRD) order", "Reshape, Transpose, Reshape")
            return "SpaceToDepth", ["X"], {"blocksize": op.kernel[0]}
        return "DepthToSpace", ["X"], {"blocksize": op.kernel[0], "mode": op.block_order}
    if op.kind == "resize":
        return resize_node(op)
    if op.kind == "max_unpool":
        attrs = {"kernel_shape": op.kernel, "strides": op.stride, "pads": pads_attr(op.pad_lo, op.pad_hi)}
        if op.output_padding == (0,) * rank:
            return "MaxUnpool", ["X", "I"], attrs
        return "MaxUnpool", ["X", "I", "output_shape"], attrs | {"output_shape": list(out_shape(op))}
    raise cannot(op, f"a {op.kind} op", "see the translation's composite nodes")


def resize_node(op: ConvOp) -> tuple[str, list, dict]:
    if op.resize_mode not in RESIZE_MODES:
        raise cannot(op, f"resize mode {op.resize_mode!r}", "mode='linear' or 'cubic'")
    if op.cubic_table:
        raise cannot(op, "TensorFlow's tabled cubic weights",
                     "mode='cubic' with exact Keys weights, which differ by up to about 3e-3")  # fmt: skip
    attrs = {"mode": op.resize_mode, "coordinate_transformation_mode": op.coordinate}
    if op.resize_mode == "nearest":
        attrs["nearest_mode"] = op.nearest_rounding
    if op.resize_mode == "cubic":
        attrs["cubic_coeff_a"] = float(op.cubic_a)
        if op.exclude_outside:
            attrs["exclude_outside"] = 1
    elif op.exclude_outside and op.antialias:
        attrs["exclude_outside"] = 1
    if op.antialias:
        attrs["antialias"] = 1
    if op.sample_scale:
        return "Resize", ["X", "", "scales"], attrs | {"scales": [1.0, 1.0, *map(float, op.sample_scale)]}
    return "Resize", ["X", "", "", "sizes"], attrs | {"sizes": [op.batch, op.in_channels, *op.out_size]}


def shapes_for(op: ConvOp) -> dict:
    """The tensor shapes a node emitted for ``op`` is mapped with."""
    shapes = {"X": (op.batch, op.in_channels, *op.in_size)}
    if op.kind == "max_unpool":
        shapes["I"] = shapes["X"]
    if op.kind == "conv":
        shapes["W"] = (op.out_channels, op.in_channels // max(op.groups, 1), *op.kernel)
    elif op.kind == "conv_transpose":
        shapes["W"] = (op.in_channels, op.out_channels // max(op.groups, 1), *op.kernel)
    if op.kind in ("conv", "conv_transpose") and op.bias:
        shapes["B"] = (op.out_channels,)
    return shapes


def emit(op: ConvOp) -> str:
    """The make_node call whose mapping is ``op`` (channels first, tensors X, W, B; checked by mapping it),
    or a ConvArithError saying why no single node gives it. A pool's negative SAME padding (onnxruntime
    does not clamp it) is written as its auto_pad."""
    try:
        op_type, names, attrs = emit_node(op)
        tries, error = [{}], None
    except ConvArithError as exc:
        op_type, names, attrs = emit_node(op, strict=False) if op.kind in POOL_TYPES else (None, None, None)
        tries, error = [], exc
    if op.kind in POOL_TYPES:
        tries += [{"pads": None, "auto_pad": word} for word in ("SAME_UPPER", "SAME_LOWER")]
    for changes in tries:
        found = spelled(op, changes, strict=not changes)
        if found is not None:
            return node_text(*found[:2], ["Y"], found[2])
    if error is not None:
        raise error
    raise cannot(op, f"this {op.kind} op on input {(op.batch, op.in_channels, *op.in_size)}",
                 node_text(op_type, names, ["Y"], attrs) + ", which onnxruntime refuses or computes otherwise")  # fmt: skip


DEFAULT = ConvOp("conv", 1, 1, 1, (1,), (1,), (1,), (1,), (0,), (0,), (0, 1, 2), (0, 1, 2))


def relevant(op: ConvOp) -> ConvOp:
    """``op`` with the fields its kind does not read set to their defaults (a torch max pool carries
    count_include_pad, a linear resize a nearest rounding)."""
    kind, keep = op.kind, set()
    if kind == "avg_pool":
        keep |= {"count_include_pad", "divisor_override"}
    if kind in ("lp_pool",):
        keep |= {"norm_p", "lp_mode"}
    if kind == "max_pool":
        keep.add("empty_max")
    if kind in ("max_pool", "min_pool", "sum_pool"):
        keep.add("init_value")
    if kind in ("conv", "pad"):
        keep |= {"pad_mode", "pad_value"} if kind == "pad" else {"pad_mode"}
    if kind in ("adaptive_max_pool", "adaptive_avg_pool", "resize", "fold"):
        keep.add("out_size")
    if kind in ("depth_to_space", "space_to_depth"):
        keep.add("block_order")
    if kind == "resize":
        keep |= {"resize_mode", "coordinate", "sample_scale", "resize_arith", "antialias"}
        keep |= {"nearest_rounding"} if op.resize_mode == "nearest" else set()
        keep |= {"cubic_a", "exclude_outside", "cubic_table"} if op.resize_mode == "cubic" else set()
        keep |= {"exclude_outside"} if op.resize_mode == "linear" and op.antialias else set()
    fields = ("count_include_pad", "divisor_override", "norm_p", "lp_mode", "empty_max", "init_value", "pad_mode",
              "pad_value", "out_size", "block_order", "resize_mode", "coordinate", "nearest_rounding", "sample_scale",
              "resize_arith", "cubic_a", "exclude_outside", "cubic_table", "antialias")  # fmt: skip
    return op.with_(**{name: getattr(DEFAULT, name) for name in fields if name not in keep})


def same_op(mine: ConvOp, theirs: ConvOp) -> bool:
    """Whether two ops give the same numbers: equal but for the layout, the fields their kind does not
    read, the name of a rounding that gives the same sizes, the empty-window max (fixed separately) and
    the float arithmetic of a resize."""
    spec = channels_first(theirs.rank)
    if tuple(arith.output_spatial(mine)) != tuple(arith.output_spatial(theirs)):
        return False
    mine, theirs = relevant(mine), relevant(theirs).with_(in_spec=spec, out_spec=spec)
    changes = {"rounding": theirs.rounding, "empty_max": theirs.empty_max, "in_spec": spec, "out_spec": spec}
    if mine.kind == "resize":
        if not same_sampling(mine, theirs):
            return False
        changes["resize_arith"] = theirs.resize_arith
    if mine.kind == "max_pool" and theirs.init_value == -math.inf:
        changes["init_value"] = theirs.init_value
    return mine.with_(**changes) == theirs


def same_sampling(mine: ConvOp, theirs: ConvOp) -> bool:
    """Whether two resizes read the same input cells with the same weights (each in its own float32
    arithmetic): the reference engine run on an identity, whole when small, else axis by axis (resizing
    is separable) where each axis is copied or resampled as in the whole op."""
    import numpy as np

    from ..reference.resize import resize

    cells, outs = math.prod(theirs.in_size), math.prod(theirs.out_size)
    if cells * outs <= PROBE_CELLS:
        basis = np.eye(cells, dtype=np.float32).reshape((1, cells, *theirs.in_size))
        whole = [resize(op.with_(batch=1, in_channels=cells, out_channels=cells), basis, np.dtype(np.float32))
                 for op in (mine, theirs)]  # fmt: skip
        return bool(np.allclose(whole[0], whole[1], rtol=0, atol=1e-6))
    for axis, (n, m) in enumerate(zip(theirs.in_size, theirs.out_size)):
        if n * m > PROBE_CELLS:
            return False  # too large to compare the sampling: not claimed equal
        weights = []
        for op in (mine, theirs):
            scale = (op.sample_scale[axis],) if op.sample_scale else ()
            line = op.with_(batch=1, in_channels=n, out_channels=n, in_size=(n,), out_size=(m,), sample_scale=scale,
                            kernel=(1,), stride=(1,), dilation=(1,), pad_lo=(0,), pad_hi=(0,), in_spec=(0, 1, 2),
                            out_spec=(0, 1, 2), lhs_dilation=(1,), output_padding=(0,))  # fmt: skip
            if arith.resize_copies_axis(line, 0) != arith.resize_copies_axis(op, axis):
                return False
            weights.append(resize(line, np.eye(n, dtype=np.float32)[None], np.dtype(np.float32)))
        if not np.allclose(weights[0], weights[1], rtol=0, atol=1e-6):
            return False
    return True


def spelled(op: ConvOp, attrs: dict | None = None, strict: bool = True) -> tuple[str, list, dict] | None:
    """The emitted node (with ``attrs`` changed), if onnxruntime (as convarith models it) gives ``op``."""
    try:
        op_type, names, emitted = emit_node(op, strict)
        emitted = {**emitted, **(attrs or {})}
        emitted = {k: v for k, v in emitted.items() if v is not None}
        mapped = map_call(node_text(op_type, names, ["Y"], emitted), shapes=shapes_for(op))
    except ConvArithError:
        return None
    if op.kind == "pad":  # Pad's op depends on which axes it pads; onnxruntime pads each axis alike
        return (op_type, names, emitted) if mapped.output_shape == out_shape(op) else None
    if len(mapped.ops) == 1 and same_op(mapped.ops[0], op):
        return op_type, names, emitted
    return None


# --- target: a ModelProto of onnx.helper nodes --------------------------------------------------------------------


def literal(value) -> str:
    if isinstance(value, float) and math.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    return repr(value)


class Graph:
    """The lines that build a model: initializers and nodes, with each tensor's canonical shape."""

    def __init__(self, x_shape: tuple) -> None:
        self.lines: list[str] = []
        self.calls: list[str] = []
        self.notes: list[str] = []
        self.shapes = {"X": tuple(x_shape)}
        self.count = 0
        self.main = ""
        self.weights: dict[int, str] = {}  # op index -> the NumPy expression of a weight the op makes itself

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}{self.count}"

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def init(self, expression: str, stem: str = "C") -> str:
        """An initializer holding the NumPy ``expression``."""
        name = self.name(stem)
        self.lines.append(f"inits.append(numpy_helper.from_array({expression}, {name!r}))")
        return name

    def ints(self, values) -> str:
        return self.init(f"np.array({[int(v) for v in values]!r}, np.int64)")

    def scalar(self, value: float) -> str:
        return self.init(f"np.array({literal(float(value))}, np.float32)")

    def node(self, op_type: str, inputs: list, attrs: dict, shape: tuple, main: bool = False) -> str:
        if len(self.calls) >= MAX_NODES:
            raise refuse(
                "ONNX target", f"more than {MAX_NODES} nodes", "the translation is kept small", "smaller sizes"
            )
        out = self.name("T")
        self.lines.append(f"nodes.append({node_text(op_type, inputs, [out], attrs, 'helper.make_node')})")
        self.calls.append(node_text(op_type, inputs, [out], attrs))
        if main:
            self.main = self.calls[-1]
        self.shapes[out] = tuple(shape)
        return out

    def slice(self, t: str, axis: int, start: int, stop: int) -> str:
        shape = list(self.shapes[t])
        shape[axis] = stop - start
        inputs = [t, self.ints([start]), self.ints([stop]), self.ints([axis])]
        return self.node("Slice", inputs, {}, tuple(shape))

    def pad_or_crop(self, t: str, lo, hi, mode: str = "zeros", value: float = 0.0) -> str:
        """Spatial axes of ``t`` cropped where lo/hi are negative (Slice), then padded where positive (Pad)."""
        shape = self.shapes[t]
        for axis, (a, b) in enumerate(zip(lo, hi)):
            if a < 0 or b < 0:
                n = self.shapes[t][2 + axis]
                t = self.slice(t, 2 + axis, max(-a, 0), n - max(-b, 0))
        lo, hi = [max(a, 0) for a in lo], [max(b, 0) for b in hi]
        if any(lo) or any(hi):
            shape = self.shapes[t]
            out = (*shape[:2], *(n + a + b for n, a, b in zip(shape[2:], lo, hi)))
            inputs = [t, self.ints([0, 0, *lo, 0, 0, *hi])]
            if mode == "zeros" and value != 0:
                inputs.append(self.scalar(value))
            t = self.node("Pad", inputs, {"mode": PAD_MODES[mode]}, out)
        return t

    def dilate(self, t: str, factors, value: float) -> str:
        """``factors - 1`` cells holding ``value`` inserted between the cells of each spatial axis."""
        for axis, f in enumerate(factors):
            shape = self.shapes[t]
            n = shape[2 + axis]
            if f == 1 or n <= 1:
                continue
            split = (*shape[: 3 + axis], 1, *shape[3 + axis :])
            t = self.node("Reshape", [t, self.ints(split)], {}, split)
            pads = [0] * (2 * len(split))
            pads[len(split) + 3 + axis] = f - 1
            inputs = [t, self.ints(pads)] + ([self.scalar(value)] if value != 0 else [])
            spread = (*split[: 3 + axis], f, *split[4 + axis :])
            t = self.node("Pad", inputs, {"mode": "constant"}, spread)
            merged = (*shape[: 2 + axis], n * f, *shape[3 + axis :])
            t = self.node("Reshape", [t, self.ints(merged)], {}, merged)
            t = self.slice(t, 2 + axis, 0, (n - 1) * f + 1)
        return t

    def code(self, out: str) -> tuple[str, ...]:
        x_shape = list(self.shapes["X"])
        return (
            "nodes, inits = [], []",
            *self.lines,
            "graph = helper.make_graph(",
            f"    nodes, 'layer', [helper.make_tensor_value_info('X', TensorProto.FLOAT, {x_shape!r})],",
            f"    [helper.make_tensor_value_info({out!r}, TensorProto.FLOAT, None)], initializer=inits,",
            ")",
            f"model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', {OPSET})], ir_version={IR_VERSION})",
            "options = ort.SessionOptions()",
            "options.log_severity_level = 3",
            "session = ort.InferenceSession(model.SerializeToString(), options, providers=['CPUExecutionProvider'])",
            f"y = session.run([{out!r}], {{'X': np.ascontiguousarray(x, dtype=np.float32)}})[0]",
        )


def out_shape(op: ConvOp) -> tuple:
    return (op.batch // op.batch_groups, op.out_channels, *(max(s, 0) for s in arith.output_spatial(op)))


def weight(g: Graph, i: int) -> str:
    return g.init(g.weights.get(i, f"np.asarray(params[{i}][0], dtype=np.float32)"), "W")


def bias_shaped(g: Graph, i: int, rank: int) -> str:
    return g.init(f"np.asarray(params[{i}][1], dtype=np.float32).reshape({(1, -1, *(1,) * rank)!r})", "B")


def native(g: Graph, op: ConvOp, i: int, t: str, attrs: dict | None = None) -> str | None:
    """The op as its own node, when onnxruntime gives the same op; None otherwise."""
    found = spelled(op, attrs)
    if found is None:
        return None
    op_type, names, emitted = found
    inputs = [t]
    if op_type in ("Conv", "ConvTranspose"):
        inputs.append(weight(g, i))
        if op.bias:
            inputs.append(g.init(f"np.asarray(params[{i}][1], dtype=np.float32)", "B"))
    if op_type == "Pad":
        inputs.append(g.ints(emitted.pop("pads")))
        if "value" in emitted:
            inputs.append(g.scalar(emitted.pop("value")))
    if op_type == "Resize":
        inputs.append("")
        if "scales" in emitted:
            inputs.append(g.init(f"np.array({emitted.pop('scales')!r}, np.float32)"))
        else:
            inputs += ["", g.ints(emitted.pop("sizes"))]
    return g.node(op_type, inputs, emitted, out_shape(op), main=True)


def intent_attrs(op: ConvOp, intent: tuple) -> list[dict]:
    """auto_pad spellings to try first, from the source's padding intent (one for every axis)."""
    if not intent or len(set(intent)) != 1:
        return []
    word = {"valid": "VALID", "same_upper": "SAME_UPPER", "same_lower": "SAME_LOWER"}.get(intent[0])
    return [{"auto_pad": word, "pads": None}] if word else []


def native_first(g: Graph, op: ConvOp, i: int, t: str, intent: tuple, what: str) -> str | None:
    """The op as its own ONNX node where onnxruntime gives the same op: the auto_pad the source's padding
    intent names first (noted: it gives the same ``what`` on this input), then explicit pads; else None."""
    for attrs in intent_attrs(op, intent):
        done = native(g, op, i, t, attrs)
        if done is not None:
            g.note(f"auto_pad={attrs['auto_pad']!r} gives the same {what} as the source on this input.")
            return done
    return native(g, op, i, t)


def conv(g: Graph, op: ConvOp, i: int, t: str, intent: tuple) -> str:
    done = native_first(g, op, i, t, intent, "padding")
    if done is not None:
        return done
    rank = op.rank
    if op.lhs_dilation != (1,) * rank:
        t = g.dilate(t, op.lhs_dilation, 0.0)
        g.note(
            f"lhs dilation {op.lhs_dilation}: zeros inserted between the input cells (Reshape, Pad, Reshape, Slice)."
        )
    lo, hi = op.pad_lo, op.pad_hi
    if op.pad_mode != "zeros" or min(lo + hi) < 0:
        mode = op.pad_mode
        t = g.pad_or_crop(t, lo, hi, mode)
        if min(lo + hi) < 0:
            g.note("negative padding crops the input first (Slice); ONNX Conv pads cannot be negative.")
        if mode != "zeros":
            g.note(f"padding mode {mode!r}: a Pad node (mode {PAD_MODES[mode]!r}) before the Conv.")
        lo = hi = (0,) * rank
    attrs = {"kernel_shape": op.kernel, "strides": op.stride, "dilations": op.dilation,
             "pads": pads_attr(lo, hi), "group": op.groups}  # fmt: skip
    if op.batch_groups != 1:
        return batch_grouped(g, op, i, t, attrs)
    inputs = [t, weight(g, i)] + ([g.init(f"np.asarray(params[{i}][1], dtype=np.float32)", "B")] if op.bias else [])
    return g.node("Conv", inputs, attrs, out_shape(op), main=True)


def batch_grouped(g: Graph, op: ConvOp, i: int, t: str, attrs: dict) -> str:
    """batch_group_count G: batch group j (a slice of the batch) convolved with output channels group j,
    the results side by side on the channel axis (Slice, Conv per group, Concat)."""
    groups = op.batch_groups
    batch, out = op.batch // groups, op.out_channels // groups
    single = op.with_(batch=batch, out_channels=out, batch_groups=1)
    parts = []
    for j in range(groups):
        part = g.slice(t, 0, j * batch, (j + 1) * batch)
        w = g.init(f"np.asarray(params[{i}][0][{j * out}:{(j + 1) * out}], dtype=np.float32)", "W")
        inputs = [part, w]
        if op.bias:
            inputs.append(g.init(f"np.asarray(params[{i}][1][{j * out}:{(j + 1) * out}], dtype=np.float32)", "B"))
        parts.append(g.node("Conv", inputs, attrs, out_shape(single), main=True))
    g.note(f"batch_group_count={groups}: each slice of the batch convolved with its group of output channels "
           "(Slice, Conv, Concat); ONNX Conv has no batch groups.")  # fmt: skip
    return g.node("Concat", parts, {"axis": 1}, out_shape(op))


def conv_transpose(g: Graph, op: ConvOp, i: int, t: str, intent: tuple) -> str:
    done = native_first(g, op, i, t, intent, "cropping")
    if done is not None:
        return done
    rank = op.rank
    # the full transposed output F, then [lo, F - hi + output_padding): cropped by pads, extended by zeros (and bias)
    full = [arith.transpose_out(n, arith.effective_kernel(k, d), s, 0, 0, 0)
            for n, k, d, s in zip(op.in_size, op.kernel, op.dilation, op.stride)]  # fmt: skip
    starts = [max(a, 0) for a in op.pad_lo]
    ends = [f - b + p for f, b, p in zip(full, op.pad_hi, op.output_padding)]
    extra = [max(e - f, 0) for e, f in zip(ends, full)]
    inner = op.with_(pad_lo=tuple(starts), pad_hi=tuple(max(f - e, 0) for f, e in zip(full, ends)),
                     output_padding=tuple(extra))  # fmt: skip
    before = [max(-a, 0) for a in op.pad_lo]
    if not any(before) and spelled(inner) is not None:
        g.note("ONNX ConvTranspose: pads and output_padding rewritten to an equal pair onnxruntime accepts.")
        return native(g, inner, i, t)
    bare = inner.with_(output_padding=(0,) * rank, bias=False)
    t = native(g, bare, i, t)
    if t is None:
        raise cannot(op, "this transposed convolution", "ConvTranspose with explicit pads")
    t = g.pad_or_crop(t, before, extra)
    g.note("cells the transposed convolution does not reach (output_padding, negative pads) are zeros added by Pad.")
    if op.bias:
        t = g.node("Add", [t, bias_shaped(g, i, rank)], {}, out_shape(op))
        g.note("the bias is added after the Pad, so the added cells hold it too.")
    return t


def empty_windows(op: ConvOp) -> list[list[int]]:
    """Per spatial axis, the output windows that hold no input cell (padding, holes or cells past the input).
    Without holes only a window reaching past either end can be one, so only those are searched."""
    found = []
    out = arith.output_spatial(op)
    holes = op.lhs_dilation != (1,) * op.rank
    if holes and sum(max(m, 0) * k for m, k in zip(out, op.kernel)) > WINDOW_TAPS:
        raise refuse(label_of(op), f"an output of {tuple(out)} windows of kernel {op.kernel} over an input with holes",
                     f"the translation looks for windows without an input cell tap by tap, up to {WINDOW_TAPS} taps",
                     "a smaller input")  # fmt: skip
    for n, k, d, s, lo, f, m in zip(op.in_size, op.kernel, op.dilation, op.stride, op.pad_lo, op.lhs_dilation, out):
        size, m = arith.dilated_size(n, f), max(m, 0)
        if holes:
            windows = range(m)
        else:  # windows starting before the input, and those ending past it
            first_inside = min(max(-(-lo // s), 0), m)
            last_inside = min(max((size - 1 - (k - 1) * d + lo) // s + 1, first_inside), m)
            windows = [*range(first_inside), *range(last_inside, m)]
        axis = []
        for j in windows:
            taps = (j * s - lo + t * d for t in range(k))
            if not any(0 <= p < size and p % f == 0 for p in taps):
                axis.append(j)
        found.append(axis)
    return found


def mask_windows(g: Graph, op: ConvOp, t: str, value: float) -> str:
    """Windows without an input cell set to ``value`` (Where over a mask built with NumPy)."""
    empty = empty_windows(op)
    if not any(empty):
        return t
    shape = out_shape(op)
    ones = (1, 1, *shape[2:])
    g.lines.append(f"empty = np.zeros({ones!r}, bool)")
    for axis, cells in enumerate(empty):
        if cells:
            index = ", ".join([":"] * (2 + axis) + [repr(cells)])
            g.lines.append(f"empty[{index}] = True")
    mask = g.init("empty", "M")
    g.note(f"windows holding no input cell are set to {value:g} (Where): onnxruntime's max starts elsewhere.")
    return g.node("Where", [mask, g.scalar(value), t], {}, shape)


def window_span(g: Graph, op: ConvOp, t: str, fill: float) -> tuple[str, ConvOp]:
    """``t`` padded (or cropped) so that every window of the op lies inside it: holes and padding holding
    ``fill``; the op of kernel, stride and dilation alone that then reads the same cells."""
    rank = op.rank
    if op.lhs_dilation != (1,) * rank:
        t = g.dilate(t, op.lhs_dilation, fill)
        g.note(
            f"input holes (base dilation {op.lhs_dilation}) hold {fill:g}: inserted with Reshape, Pad, Reshape, Slice."
        )
    out = arith.output_spatial(op)
    his = []
    for axis in range(rank):
        n = arith.dilated_size(op.in_size[axis], op.lhs_dilation[axis])
        span = (out[axis] - 1) * op.stride[axis] + arith.effective_kernel(op.kernel[axis], op.dilation[axis])
        his.append(span - n - op.pad_lo[axis])
    t = g.pad_or_crop(t, op.pad_lo, his, "zeros", fill)
    sizes = g.shapes[t][2:]
    plain = op.with_(in_size=tuple(sizes), pad_lo=(0,) * rank, pad_hi=(0,) * rank, lhs_dilation=(1,) * rank,
                     rounding="floor")  # fmt: skip
    return t, plain


def ones_sum(g: Graph, op: ConvOp, t: str) -> str:
    """The window sums of ``t`` (already spanning every window): a depthwise Conv with a kernel of ones."""
    c = op.in_channels
    w = g.init(f"np.ones({(c, 1, *op.kernel)!r}, np.float32)", "K")
    attrs = {"kernel_shape": op.kernel, "strides": op.stride, "dilations": op.dilation, "group": c}
    return g.node("Conv", [t, w], attrs, out_shape(op), main=True)


def divisor(g: Graph, op: ConvOp) -> str:
    """The divisor of each window of an average pool, as an initializer (outer product of the axes)."""
    shape = out_shape(op)
    factors = []
    for axis, m in enumerate(shape[2:]):
        if op.divisor_override:
            values = [op.divisor_override if axis == 0 else 1] * m
        else:
            n, k, d, s = op.in_size[axis], op.kernel[axis], op.dilation[axis], op.stride[axis]
            lo, hi = op.pad_lo[axis], op.pad_hi[axis]
            values = [arith.window_cells(j, n, k, d, s, lo, hi, op.count_include_pad) for j in range(m)]
        view = [1] * (2 + op.rank)
        view[2 + axis] = m
        factors.append(f"np.array({values!r}, np.float32).reshape({tuple(view)!r})")
    expression = " * ".join([f"np.ones({(1, 1, *shape[2:])!r}, np.float32)", *factors])
    return g.init(expression, "D")


def leading_axes_merged(op: ConvOp) -> tuple[ConvOp, int]:
    """The op with its leading spatial axes that no window spans (kernel, stride, dilation 1, no padding)
    folded into the channels, as many as needed for at most 3 spatial axes (onnxruntime's pools)."""
    merged = 0
    while op.rank - merged > 3:
        axis = merged
        if (op.kernel[axis], op.stride[axis], op.dilation[axis], op.pad_lo[axis], op.pad_hi[axis],
                op.lhs_dilation[axis]) != (1, 1, 1, 0, 0, 1):  # fmt: skip
            raise cannot(op, f"a pool over {op.rank} spatial axes", "onnxruntime pools 1 to 3 spatial axes")
        merged += 1
    if not merged:
        return op, 0
    channels = op.in_channels * math.prod(op.in_size[:merged])
    spec = channels_first(op.rank - merged)
    fields = ("in_size", "kernel", "stride", "dilation", "pad_lo", "pad_hi", "lhs_dilation", "output_padding")
    return op.with_(in_channels=channels, out_channels=channels, in_spec=spec, out_spec=spec,
                    **{name: getattr(op, name)[merged:] for name in fields}), merged  # fmt: skip


def pool(g: Graph, op: ConvOp, i: int, t: str, intent: tuple) -> str:
    inner, merged = leading_axes_merged(op)
    if merged:
        view = (inner.batch, inner.in_channels, *inner.in_size)
        t = g.node("Reshape", [t, g.ints(view)], {}, view)
        g.note(f"the first {merged} spatial axes have no window: folded into the channels (Reshape) for the pool.")
        t = window_pool(g, inner, i, t, ())
        return g.node("Reshape", [t, g.ints(out_shape(op))], {}, out_shape(op))
    return window_pool(g, op, i, t, intent)


def window_pool(g: Graph, op: ConvOp, i: int, t: str, intent: tuple) -> str:
    for attrs in intent_attrs(op, intent):
        done = native(g, op, i, t, attrs)
        if done is not None:
            g.note(f"auto_pad={attrs['auto_pad']!r} gives the same padding as the source on this input.")
            return empty_max_fix(g, op, done)
    done = native(g, op, i, t)
    if done is not None:
        return empty_max_fix(g, op, done)
    kind = op.kind
    if kind in ("max_pool", "min_pool"):
        sign = -1 if kind == "min_pool" else 1
        init = None if op.init_value is None else sign * op.init_value
        if sign < 0:
            t = g.node("Neg", [t], {}, g.shapes[t])
            g.note("a min pool is the max pool of -x, negated (Neg, MaxPool, Neg).")
        t, plain = window_span(g, op, t, -math.inf if init is None else init)
        attrs = {"kernel_shape": op.kernel, "strides": op.stride, "dilations": op.dilation}
        t = g.node("MaxPool", [t], attrs, out_shape(op), main=True)
        g.note("padding and the cells past the input are -inf (or the init value) cells added by Pad.")
        if init is not None and init != -math.inf:
            t = g.node("Max", [t, g.scalar(init)], {}, out_shape(op))
            g.note(f"every window starts from the init value {init:g}: Max with it.")
        else:
            t = mask_windows(g, op, t, -math.inf if op.empty_max == "-inf" or init is not None else FLOAT32_LOWEST)
        return g.node("Neg", [t], {}, out_shape(op)) if sign < 0 else t
    if kind == "lp_pool":
        p = float(op.norm_p)
        t = g.node("Abs", [t], {}, g.shapes[t]) if op.lp_mode == "abs_sum" else t
        t = g.node("Pow", [t, g.scalar(p)], {}, g.shapes[t])
        spanned, _ = window_span(g, op.with_(init_value=None), t, 0.0)
        t = ones_sum(g, op, spanned)
        if op.lp_mode == "signed_mean":
            t = g.node("Div", [t, divisor(g, op.with_(count_include_pad=False))], {}, out_shape(op))
            t = g.node("Mul", [t, g.scalar(math.prod(op.kernel))], {}, out_shape(op))
            g.note("PyTorch's Lp pool: the mean of x^p over the window's input cells times the kernel size, ^(1/p).")
        t = g.node("Pow", [t, g.scalar(1.0 / p)], {}, out_shape(op))
        g.note("the Lp pool as Pow, a depthwise Conv of ones (the window sums) and Pow(1/p).")
        return t
    if kind in ("avg_pool", "sum_pool"):
        if kind == "sum_pool" and op.init_value not in (None, 0, 0.0):
            raise cannot(op, f"a sum with init_value={op.init_value}", "init_value=0 and an Add afterwards")
        t, _ = window_span(g, op, t, 0.0)
        t = ones_sum(g, op, t)
        g.note("window sums as a depthwise Conv of ones over the input padded with zeros.")
        if kind == "avg_pool":
            t = g.node("Div", [t, divisor(g, op)], {}, out_shape(op))
            g.note("divided by each window's divisor (a constant tensor): AveragePool cannot give this divisor rule.")
        return t
    raise cannot(op, f"a {kind} op", "an ONNX pool")


def empty_max_fix(g: Graph, op: ConvOp, t: str) -> str:
    if op.kind == "max_pool" and op.empty_max == "-inf":
        return mask_windows(g, op, t, -math.inf)
    return t


def adaptive(g: Graph, op: ConvOp, i: int, t: str, intent: tuple) -> str:
    reduce = "ReduceMax" if op.kind == "adaptive_max_pool" else "ReduceMean"
    pool_type = "MaxPool" if op.kind == "adaptive_max_pool" else "AveragePool"
    sizes = op.in_size
    if all(m > 0 and n % m == 0 for n, m in zip(sizes, op.out_size)) and op.rank <= 3:
        if all(m == 1 for m in op.out_size):
            return g.node("Global" + pool_type, [t], {}, out_shape(op), main=True)
        kernel = [n // m for n, m in zip(sizes, op.out_size)]
        g.note("adaptive windows of equal size: one pool with kernel = stride = n / out.")
        return g.node(pool_type, [t], {"kernel_shape": kernel, "strides": kernel}, out_shape(op), main=True)
    g.note(f"adaptive windows of unequal sizes: per axis, each window is a Slice reduced by {reduce}, then Concat.")
    for axis, (n, m) in enumerate(zip(sizes, op.out_size)):
        if n == m:
            continue
        parts = []
        for j in range(m):
            start, stop = arith.adaptive_window(j, n, m)
            part = g.slice(t, 2 + axis, start, stop)
            shape = list(g.shapes[part])
            shape[2 + axis] = 1
            parts.append(g.node(reduce, [part, g.ints([2 + axis])], {"keepdims": 1}, tuple(shape)))
        shape = list(g.shapes[t])
        shape[2 + axis] = m
        t = g.node("Concat", parts, {"axis": 2 + axis}, tuple(shape), main=True)
    return t


def rearrange(g: Graph, op: ConvOp, i: int, t: str, intent: tuple) -> str:
    done = native(g, op, i, t)
    if done is not None:
        return done
    if op.kind != "space_to_depth" or op.rank != 2:
        raise cannot(op, f"{op.kind} with blocks {op.kernel}", "DepthToSpace / SpaceToDepth with square blocks")
    (bh, bw), (h, w) = op.kernel, op.in_size
    n, c = op.batch, op.in_channels
    split = (n, c, h // bh, bh, w // bw, bw)
    t = g.node("Reshape", [t, g.ints(split)], {}, split)
    moved = (n, c, bh, bw, h // bh, w // bw)
    t = g.node("Transpose", [t], {"perm": [0, 1, 3, 5, 2, 4]}, moved, main=True)
    g.note("channel-major (CRD) space to depth: Reshape, Transpose, Reshape (SpaceToDepth is block-major only).")
    return g.node("Reshape", [t, g.ints(out_shape(op))], {}, out_shape(op))


def pad(g: Graph, op: ConvOp, i: int, t: str, intent: tuple) -> str:
    done = native(g, op, i, t)
    if done is not None:
        return done
    grown = op.with_(pad_lo=tuple(max(a, 0) for a in op.pad_lo), pad_hi=tuple(max(b, 0) for b in op.pad_hi))
    if op.pad_mode not in ("reflect", "replicate") or spelled(grown) is None:
        raise cannot(op, f"padding ({op.pad_lo}, {op.pad_hi}) in mode {op.pad_mode!r}", "Pad with smaller pads")
    t = native(g, grown, i, t)
    g.note(f"{op.pad_mode} padding copies about the uncropped input's edges: Pad first, then Slice crops "
           "(onnxruntime's Pad crops first, and refuses these amounts).")  # fmt: skip
    return g.pad_or_crop(t, [min(a, 0) for a in op.pad_lo], [min(b, 0) for b in op.pad_hi])


def area(g: Graph, op: ConvOp, i: int, t: str) -> str:
    """TF's area resize by whole factors: an axis shrunk k times averages boxes of k cells (AveragePool),
    one grown k times repeats each cell k times (nearest Resize by k)."""
    sizes, outs = op.in_size, op.out_size
    if not all(m > 0 and (n % m == 0 or m % n == 0) for n, m in zip(sizes, outs)) or op.rank > 3:
        raise cannot(op, f"an area resize from {sizes} to {op.out_size} (not by whole factors)",
                     "AveragePool for whole shrink factors, a nearest Resize for whole growth factors")  # fmt: skip
    kernel = [n // m if m <= n else 1 for n, m in zip(sizes, outs)]
    middle = tuple(min(n, m) for n, m in zip(sizes, outs))
    if any(k > 1 for k in kernel):
        shape = (op.batch, op.in_channels, *middle)
        t = g.node("AveragePool", [t], {"kernel_shape": kernel, "strides": kernel}, shape, main=True)
        g.note("an area resize shrinking by whole factors averages boxes of that many cells: AveragePool.")
    if middle != tuple(outs):
        repeat = op.with_(in_size=middle, resize_mode="nearest", coordinate="asymmetric", nearest_rounding="floor",
                          sample_scale=tuple(float(m // n) for n, m in zip(middle, outs)), resize_arith="onnx")  # fmt: skip
        t = native(g, repeat, i, t)
        if t is None:
            raise cannot(op, f"an area resize to {op.out_size}", "a nearest Resize by whole factors")
        g.note("an area resize growing by whole factors repeats each cell: nearest Resize (asymmetric, floor).")
    return t


def resize(g: Graph, op: ConvOp, i: int, t: str, intent: tuple) -> str:
    if op.resize_mode == "area" and op.resize_arith == "tf":
        return area(g, op, i, t)
    emit_node(op)  # refuses what Resize has no attribute for
    done = native(g, op, i, t)
    if done is None:
        raise cannot(op, f"a resize to {op.out_size} sampled with scale {op.sample_scale or 'out/n'}",
                     f"Resize with sizes={[op.batch, op.in_channels, *op.out_size]} (samples with out/n)")  # fmt: skip
    if op.resize_arith not in ("onnx", "exact"):
        g.note(f"onnxruntime computes the sample positions in its own float32 arithmetic ({op.resize_arith}'s may "
               "differ in the last bit).")  # fmt: skip
    return done


def unpool(g: Graph, op: ConvOp, i: int, t: str, intent: tuple) -> str:
    n, c = op.batch, op.in_channels
    plane = math.prod(arith.output_spatial(op))
    view = (n, c, *(1,) * op.rank)
    expression = (f"np.asarray(params[{i}][0], np.int64) + np.arange({n * c}, dtype=np.int64).reshape({view!r}) "
                  f"* {plane}")  # fmt: skip
    indices = g.init(expression, "I")
    g.note("MaxUnpool's indices count over the whole tensor: each (batch, channel) plane's offset is added.")
    # onnxruntime checks output_shape >= (n-1)*stride + kernel - pads, pads < kernel; the indices and
    # output_shape alone place the values, so a window is chosen that passes the check
    kernel = [max(1, n + 1 - m) for n, m in zip(op.in_size, out_shape(op)[2:])]
    g.note("MaxUnpool: the indices and the output_shape input place the values; its kernel_shape and pads are "
           "chosen only to pass onnxruntime's size check.")  # fmt: skip
    attrs = {"kernel_shape": kernel, "strides": [1] * op.rank, "pads": [k - 1 for k in kernel] * 2}
    return g.node("MaxUnpool", [t, indices, g.ints(out_shape(op))], attrs, out_shape(op), main=True)


def one_hot(channels: int, kernel: tuple) -> str:
    """The (C*K, 1, *kernel) weight whose channel c*K + t holds a 1 at kernel offset t (row major)."""
    taps = math.prod(kernel)
    return f"np.tile(np.eye({taps}, dtype=np.float32).reshape({(taps, 1, *kernel)!r}), ({channels}, 1, 1, 1))"


def unfold(g: Graph, op: ConvOp, i: int, t: str, intent: tuple) -> str:
    """im2col as a depthwise Conv with one-hot kernels; fold (its adjoint) as the ConvTranspose of them."""
    if op.kind == "unfold":
        g.weights[i] = one_hot(op.in_channels, op.kernel)
        g.note("unfold (im2col) as a Conv with one-hot kernels (group = C): channel c*K + t copies kernel offset t.")
        as_conv = op.with_(kind="conv", groups=op.in_channels, bias=False)
        return conv(g, as_conv, i, t, ())
    channels = op.out_channels
    g.weights[i] = one_hot(channels, op.kernel)
    g.note("fold (col2im) as a ConvTranspose of one-hot kernels (group = C): overlapping blocks add up.")
    full = [arith.transpose_out(b, arith.effective_kernel(k, d), s, lo, hi, 0)
            for b, k, d, s, lo, hi in zip(op.in_size, op.kernel, op.dilation, op.stride, op.pad_lo, op.pad_hi)]  # fmt: skip
    extra = tuple(m - f for m, f in zip(op.out_size, full))
    as_transpose = op.with_(kind="conv_transpose", groups=channels, output_padding=extra, out_size=(), bias=False)
    return conv_transpose(g, as_transpose, i, t, ())


TRANSLATORS = {
    "unfold": unfold,
    "fold": unfold,
    "conv": conv,
    "conv_transpose": conv_transpose,
    "max_pool": pool,
    "avg_pool": pool,
    "lp_pool": pool,
    "min_pool": pool,
    "sum_pool": pool,
    "adaptive_max_pool": adaptive,
    "adaptive_avg_pool": adaptive,
    "depth_to_space": rearrange,
    "space_to_depth": rearrange,
    "pad": pad,
    "resize": resize,
    "max_unpool": unpool,
}


# --- activations (Keras's activation=, after the bias) ---

UNARY = {
    "relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus", "softsign": "Softsign",
    "gelu": "Gelu", "mish": "Mish", "exponential": "Exp", "hard_silu": "HardSwish",
}  # fmt: skip
WITH_ATTRS = {
    "elu": ("Elu", {"alpha": 1.0}),
    "selu": ("Selu", {}),
    "celu": ("Celu", {"alpha": 1.0}),
    "leaky_relu": ("LeakyRelu", {"alpha": 0.2}),
    "hard_sigmoid": ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}),
    "sparse_sigmoid": ("HardSigmoid", {"alpha": 0.5, "beta": 0.5}),
    "soft_shrink": ("Shrink", {"lambd": 0.5, "bias": 0.5}),
    "hard_shrink": ("Shrink", {"lambd": 0.5}),
}
CLIPS = {"relu6": (0.0, 6.0), "hard_tanh": (-1.0, 1.0)}


def activation(g: Graph, mapped: Mapped, t: str) -> str:
    name = mapped.activation
    if not name or name == "linear":
        return t
    shape = g.shapes[t]
    spec = mapped.ops[-1].out_spec
    last = spec.index(max(spec))  # the canonical axis that is the source layout's last axis
    g.note(f"activation {name!r} as ONNX nodes after the layer.")
    if name in UNARY:
        return g.node(UNARY[name], [t], {}, shape)
    if name in WITH_ATTRS:
        op_type, attrs = WITH_ATTRS[name]
        return g.node(op_type, [t], attrs, shape)
    if name in CLIPS:
        low, high = CLIPS[name]
        return g.node("Clip", [t, g.scalar(low), g.scalar(high)], {}, shape)
    if name in ("softmax", "log_softmax"):
        return g.node("Softmax" if name == "softmax" else "LogSoftmax", [t], {"axis": last}, shape)
    if name == "silu":
        return g.node("Mul", [t, g.node("Sigmoid", [t], {}, shape)], {}, shape)
    if name == "tanh_shrink":
        return g.node("Sub", [t, g.node("Tanh", [t], {}, shape)], {}, shape)
    if name == "log_sigmoid":
        inner = g.node("Softplus", [g.node("Neg", [t], {}, shape)], {}, shape)
        return g.node("Neg", [inner], {}, shape)
    if name == "sparse_plus":  # 0 below -1, (x + 1)^2 / 4 up to 1, x above
        shifted = g.node(
            "Add", [g.node("Clip", [t, g.scalar(-1.0), g.scalar(1.0)], {}, shape), g.scalar(1.0)], {}, shape
        )
        square = g.node("Mul", [g.node("Mul", [shifted, shifted], {}, shape), g.scalar(0.25)], {}, shape)
        above = g.node("GreaterOrEqual", [t, g.scalar(1.0)], {}, shape)
        return g.node("Where", [above, t, square], {}, shape)
    if name == "squareplus":
        root = g.node("Sqrt", [g.node("Add", [g.node("Mul", [t, t], {}, shape), g.scalar(4.0)], {}, shape)], {}, shape)
        return g.node("Div", [g.node("Add", [t, root], {}, shape), g.scalar(2.0)], {}, shape)
    raise refuse(
        mapped.call.base,
        f"activation={name!r}",
        "the ONNX translation writes the common activations as ONNX nodes (Relu, Sigmoid, Tanh, Softmax, Elu, Selu, "
        "Gelu, ...); this one has no node and no short formula here",
        "activation=None in the source and apply it to the output yourself",
    )


def target(mapped: Mapped) -> Target:
    """The canonical op chain as a ModelProto of onnx.helper nodes run by onnxruntime (CPU)."""
    first, last = mapped.ops[0], mapped.ops[-1]
    shape = out_shape(last)
    if mapped.space_to_batch and any(s > 1 for op in mapped.ops for s in op.stride):
        raise refuse(
            mapped.call.base,
            "a dilated depthwise convolution with strides > 1",
            "TensorFlow runs it as space-to-batch, whose windows are not those of the strided dilated convolution, "
            "and convarith translates only what it reproduces",
            "strides=1, then a strided slice",
        )
    if 0 in shape:
        note = "the output is empty: NumPy makes it (nothing to compute; onnxruntime refuses some empty outputs)."
        return Target("", ("import numpy as np",), (f"y = np.zeros({shape!r}, np.float32)",), (note,), ())
    g = Graph((first.batch, first.in_channels, *first.in_size))
    t = "X"
    for i, op in enumerate(mapped.ops):
        translate = TRANSLATORS.get(op.kind)
        if translate is None:
            raise cannot(op, f"a {op.kind} op", "unfold as a Conv with one-hot kernels is not written yet")
        intent = mapped.padding_intent if i == 0 else ()
        t = translate(g, op, i, t, intent)
    t = activation(g, mapped, t)
    return Target(g.main or (g.calls[-1] if g.calls else ""), TARGET_IMPORTS, g.code(t), tuple(g.notes), tuple(g.calls))


# --- source: a make_node call run by onnxruntime ---------------------------------------------------------------------

# names the generated lines use: a tensor of that name would be shadowed
RESERVED = frozenset(("np", "ort", "onnx", "helper", "TensorProto", "numpy_helper", "x", "y", "params", "inits",
                      "node", "nodes", "feeds", "types", "graph", "model", "options", "session", "empty"))  # fmt: skip
CONSTANT_TYPES = {
    "roi": "FLOAT",
    "scales": "FLOAT",
    "sizes": "INT64",
    "pads": "INT64",
    "value": "FLOAT",
    "axes": "INT64",
}


def tensor_names(mapped: Mapped) -> list[str]:
    from ..reference.adapters import array_names

    names = list(dict.fromkeys(name for _, name in array_names(mapped.call)))
    for name in names:
        if not name.isidentifier() or name in RESERVED or iskeyword(name):
            raise refuse(
                mapped.call.base,
                f"tensor name {name!r}",
                "a translated layer takes the node's tensors as Python parameters of the same names",
                "name the node's tensors with identifiers such as 'X', 'W', 'B'",
            )
    return names


def source(mapped: Mapped) -> Source:
    """A make_node call as the source: its named tensors (already canonical: N, C, spatial...) and the
    one-node model that runs it."""
    from ..reference import adapters

    if mapped.framework_id != FRAMEWORK_ID:
        raise refuse(mapped.call.base, f"a {mapped.framework} call", "ONNX's source side reads make_node calls",
                     "the source module of that framework")  # fmt: skip
    names = tensor_names(mapped)
    op, last = mapped.ops[0], mapped.ops[-1]
    x_steps, w_steps = adapters.onnx_steps(mapped)
    to_canonical = [f"x = np.asarray({steps_code(x_steps, names[0])}, dtype=np.float32)"]
    if op.kind == "max_unpool":  # I counts over the whole output; canonical indices within each plane
        plane = math.prod(max(s, 0) for s in arith.output_spatial(op))
        view = (op.batch, op.in_channels, *(1,) * op.rank)
        offsets = f"np.arange({op.batch * op.in_channels}, dtype=np.int64).reshape({view!r}) * {plane}"
        to_canonical.append(f"params = [(np.asarray({names[1]}, dtype=np.int64) - {offsets}, None)]")
    elif op.weightless:
        to_canonical.append("params = [(None, None)]")
    else:
        w = f"np.asarray({steps_code(w_steps, names[1])}, dtype=np.float32)"
        b = f"np.asarray({names[2]}, dtype=np.float32)" if len(names) > 2 else "None"
        to_canonical.append(f"params = [({w}, {b})]")
    canonical = arith.output_shape(last)
    from_canonical = () if canonical == tuple(mapped.output_shape) else (f"y = y.reshape({mapped.output_shape!r})",)
    return Source(
        ", ".join(names),
        tuple(to_canonical),
        from_canonical,
        TARGET_IMPORTS,
        run_lines(mapped, names),
        notes=("ONNX tensors are already channels first (N, C, spatial...); W is (M, C/group, k...).",),
    )


def run_lines(mapped: Mapped, names: list[str]) -> tuple[str, ...]:
    """onnx.helper lines building the one-node model of the call and running it in onnxruntime (opset 21)."""
    args = dict(mapped.arguments)
    op_type, inputs, outputs = args.pop("op_type"), list(args.pop("inputs")), list(args.pop("outputs"))
    lines = ["inits = []"]
    constants = {}
    if op_type == "Resize":
        for position, role in enumerate(("roi", "scales", "sizes"), start=1):
            if role in args:
                constants[inputs[position]] = (role, args.pop(role))
    if op_type == "MaxUnpool" and "output_shape" in args:
        constants[inputs[2]] = ("sizes", args.pop("output_shape"))
    if op_type == "Pad":
        inputs = inputs + [""] * (4 - len(inputs))
        for position, role in enumerate(("pads", "value", "axes"), start=1):
            if role in args:
                inputs[position] = inputs[position] or {"value": "constant_value"}.get(role, role)
                constants[inputs[position]] = (role, args.pop(role))
            else:
                inputs[position] = ""
        while inputs and inputs[-1] == "":
            inputs.pop()
    for name, (role, values) in constants.items():
        dtype = CONSTANT_TYPES[role]
        if dtype == "INT64":
            array = f"np.array({[int(v) for v in values]!r}, np.int64)"
        elif role == "value":
            array = f"np.array({float(values)!r}, np.float32)"
        else:
            array = f"np.array({[float(v) for v in values]!r}, np.float32)"
        lines.append(f"inits.append(numpy_helper.from_array({array}, {name!r}))")
    attrs = {key: list(value) if isinstance(value, tuple) else value for key, value in args.items()}
    lines.append(f"node = {node_text(op_type, inputs, outputs, attrs, 'helper.make_node')}")
    integer = {inputs[1]} if op_type == "MaxUnpool" else set()  # MaxUnpool's indices are int64
    feeds = ", ".join(
        f"{name!r}: np.asarray({name}, dtype=np.{'int64' if name in integer else 'float32'})" for name in names
    )
    lines += [
        f"feeds = {{{feeds}}}",
        "types = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64}",
        "graph = helper.make_graph(",
        "    [node], 'node', [helper.make_tensor_value_info(k, types[v.dtype], list(v.shape)) for k, v in feeds.items()],",
        f"    [helper.make_tensor_value_info({outputs[0]!r}, TensorProto.FLOAT, None)], initializer=inits,",
        ")",
        f"model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', {OPSET})], ir_version={IR_VERSION})",
        "options = ort.SessionOptions()",
        "options.log_severity_level = 3",
        "session = ort.InferenceSession(model.SerializeToString(), options, providers=['CPUExecutionProvider'])",
        f"y = session.run([{outputs[0]!r}], feeds)[0]",
    ]
    return tuple(lines)
