"""PyTorch as the source and the target of a translation (issue 12).

Source: an ``nn`` module takes ``x, weights=None`` (``list(module.parameters())``: weight, bias),
an ``F.*`` / ``torch.*`` function its tensors by the names in the call. torch's layouts are the
canonical ones (NC + spatial, weights (O, C/groups, k...) and (C, O/groups, k...)), so the only
layout steps are the reshapes of an unbatched or flattened input and of the output.

Target: each canonical op becomes the torch module a user would write (``nn.Conv2d``,
``nn.MaxPool2d``, ...) with its weights copied in, when the library maps that module onto the
same op; otherwise the module plus explicit steps in torch's own ops (``F.pad``, slicing, a
zero-inserted input, a divisor correction), each explained in a note.
"""

from __future__ import annotations

import math

from ..core import arith
from ..core.op import ConvOp, channels_first
from ..errors import ConvArithError
from ..frameworks._common import Mapped, refuse
from ..parse import Name, ShapeRef
from . import steps
from .parts import Source, Target

__all__ = ["FRAMEWORK_ID", "emit", "input_steps", "output_steps", "source", "target"]

FRAMEWORK_ID = "torch"
IMPORTS = ("import numpy as np", "import torch", "from torch import nn", "import torch.nn.functional as F")
PAD_MODULES = {"reflect": "ReflectionPad", "replicate": "ReplicationPad", "circular": "CircularPad"}
F_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}
RESIZE_NAMES = {("linear", 1): "linear", ("linear", 2): "bilinear", ("linear", 3): "trilinear", ("cubic", 2): "bicubic",
                ("lanczos3", 2): "lanczos"}  # fmt: skip
# Keras activation names (frameworks.keras's canonical ones) as torch expressions of the tensor t
ACTIVATIONS = {
    "linear": None,
    "relu": "torch.relu(t)",
    "relu6": "F.relu6(t)",
    "leaky_relu": "F.leaky_relu(t, 0.2)",
    "elu": "F.elu(t)",
    "selu": "torch.selu(t)",
    "celu": "F.celu(t)",
    "gelu": "F.gelu(t)",
    "sigmoid": "torch.sigmoid(t)",
    "hard_sigmoid": "F.hardsigmoid(t)",
    "sparse_sigmoid": "torch.clamp(0.5 * (t + 1.0), 0.0, 1.0)",
    "log_sigmoid": "F.logsigmoid(t)",
    "silu": "F.silu(t)",
    "hard_silu": "F.hardswish(t)",
    "mish": "F.mish(t)",
    "tanh": "torch.tanh(t)",
    "hard_tanh": "F.hardtanh(t)",
    "tanh_shrink": "F.tanhshrink(t)",
    "softplus": "F.softplus(t)",
    "sparse_plus": "torch.where(t <= -1, 0.0, torch.where(t < 1, 0.25 * (t + 1.0) ** 2, t))",
    "squareplus": "(t + torch.sqrt(t * t + 4.0)) / 2.0",
    "softsign": "F.softsign(t)",
    "soft_shrink": "F.softshrink(t, 0.5)",
    "hard_shrink": "F.hardshrink(t, 0.5)",
    "exponential": "torch.exp(t)",
    "softmax": "torch.softmax(t, dim={dim})",
    "log_softmax": "torch.log_softmax(t, dim={dim})",
    "glu": "F.glu(t, dim={dim})",
}


def label_of(op: ConvOp) -> str:
    return f"torch target ({op.kind})"


def ints(values) -> str:
    """An int when every axis has the same value, else the tuple."""
    values = tuple(values)
    return str(values[0]) if len(set(values)) == 1 else repr(values)


def number(value: float) -> str:
    """A float as Python text (inf and nan written as float(...))."""
    value = float(value)
    if math.isinf(value) or math.isnan(value):
        return f"float({str(value)!r})"
    return repr(value)


def canonical_op(op: ConvOp) -> ConvOp:
    """``op`` laid out as torch lays tensors out: (N, C, spatial...) in and out."""
    spec = channels_first(op.rank)
    return op.with_(in_spec=spec, out_spec=spec)


# --- emit: one torch call whose mapping is the op ------------------------------------------------------------------


def cannot(op: ConvOp, what: str, closest: str) -> ConvArithError:
    return refuse(
        label_of(op), what, "no single torch module takes it (torch pads symmetrically, rounds by floor or "
        "ceil_mode, and has one layout per module)", closest,
    )  # fmt: skip


def emit(op: ConvOp) -> str:
    """The torch module call (NC + spatial layout) whose mapping is ``op``; ConvArithError if none is."""
    rank, kind = op.rank, op.kind
    if op.in_spec != channels_first(rank) or op.out_spec != channels_first(rank):
        raise cannot(op, f"the layout {op.in_spec} -> {op.out_spec} is not (N, C, spatial...)",
                     "transpose the input to NCHW first (translate does)")  # fmt: skip
    if kind in ("depth_to_space", "space_to_depth"):
        return emit_blocks(op)
    if not 1 <= rank <= 3 and not (kind in ("unfold", "fold") and rank == 2):
        raise cannot(op, f"{rank} spatial axes", "torch's modules take 1 to 3 spatial axes")
    if any(ld != 1 for ld in op.lhs_dilation):
        raise cannot(op, f"lhs_dilation={op.lhs_dilation}", "a zero-inserted input, or a transposed convolution")
    if op.init_value is not None:
        raise cannot(op, f"a window reduction with init_value={op.init_value}", "MaxPool with a clamp")
    builders = {
        "conv": emit_conv, "conv_transpose": emit_transpose, "max_pool": emit_pool, "avg_pool": emit_pool,
        "lp_pool": emit_pool, "adaptive_max_pool": emit_adaptive, "adaptive_avg_pool": emit_adaptive,
        "pad": emit_pad, "resize": emit_resize, "unfold": emit_unfold, "fold": emit_unfold,
        "max_unpool": emit_unpool,
    }  # fmt: skip
    if kind not in builders:
        raise cannot(op, f"the op kind {kind!r}", "explicit steps in torch's own ops")
    return builders[kind](op)


def symmetric(op: ConvOp, what: str = "padding") -> tuple[int, ...]:
    if op.pad_lo != op.pad_hi or min(op.pad_lo, default=0) < 0:
        raise cannot(op, f"{what} before {op.pad_lo} and after {op.pad_hi}",
                     "F.pad with the asymmetric or negative amounts, then the module with padding=0")  # fmt: skip
    return op.pad_lo


def emit_conv(op: ConvOp) -> str:
    same = tuple(arith.stride1_same_padding(arith.effective_kernel(k, d)) for k, d in zip(op.kernel, op.dilation))
    if op.pad_lo != op.pad_hi and all(s == 1 for s in op.stride) and (op.pad_lo, op.pad_hi) == tuple(zip(*same)):
        return conv_call(op, "'same'")
    return conv_call(op, ints(symmetric(op)))


def conv_call(op: ConvOp, padding: str) -> str:
    """``nn.ConvNd(...)`` of the op with the padding argument ``padding`` (text)."""
    if op.rounding != "floor" or op.batch_groups != 1:
        raise cannot(op, f"rounding={op.rounding!r}, batch_groups={op.batch_groups}", "extra padding at the end")
    args = [str(op.in_channels), str(op.out_channels), ints(op.kernel)]
    args += keywords(op, stride=(op.stride, 1), padding=(padding, "0"), dilation=(op.dilation, 1))
    args += [f"groups={op.groups}"] * (op.groups != 1) + ["bias=False"] * (not op.bias)
    args += [f"padding_mode={op.pad_mode!r}"] * (op.pad_mode != "zeros")
    return f"nn.Conv{op.rank}d({', '.join(args)})"


def keywords(op: ConvOp, **values) -> list[str]:
    """``name=value`` for each value (per-axis ints or text) that is not its default."""
    out = []
    for name, (value, default) in values.items():
        text = value if isinstance(value, str) else ints(value)
        if text != str(default):
            out.append(f"{name}={text}")
    return out


def emit_transpose(op: ConvOp) -> str:
    padding = symmetric(op)
    if op.pad_mode != "zeros" or any(
        not 0 <= p < max(s, d) for p, s, d in zip(op.output_padding, op.stride, op.dilation)
    ):
        raise cannot(op, f"output_padding={op.output_padding}", "a crop or F.pad of the output")
    args = [str(op.in_channels), str(op.out_channels), ints(op.kernel)]
    args += keywords(op, stride=(op.stride, 1), padding=(padding, 0), output_padding=(op.output_padding, 0))
    args += [f"groups={op.groups}"] * (op.groups != 1) + ["bias=False"] * (not op.bias)
    args += keywords(op, dilation=(op.dilation, 1))
    return f"nn.ConvTranspose{op.rank}d({', '.join(args)})"


def emit_pool(op: ConvOp) -> str:
    kind, rank = op.kind, op.rank
    padding = symmetric(op)
    if any(2 * p > k for p, k in zip(padding, op.kernel)):
        raise cannot(op, f"padding {padding} over half the kernel {op.kernel}", "F.pad, then the pool with padding 0")
    if op.rounding == "trunc":
        raise cannot(op, "rounding='trunc'", "extra padding at the end and a slice")
    ceil = ["ceil_mode=True"] if op.rounding == "ceil" else []
    if kind == "max_pool":
        if op.empty_max != "-inf":
            raise cannot(op, f"empty_max={op.empty_max!r}", "MaxPool then torch.clamp_min(t, finfo.min)")
        args = [ints(op.kernel), f"stride={ints(op.stride)}"]
        args += keywords(op, padding=(padding, 0), dilation=(op.dilation, 1)) + ceil
        return f"nn.MaxPool{rank}d({', '.join(args)})"
    if any(d != 1 for d in op.dilation):
        raise cannot(op, f"dilation={op.dilation}", "a window sum by a grouped convolution of ones")
    if kind == "avg_pool":
        if op.divisor_override and rank == 1:
            raise cannot(op, f"divisor_override={op.divisor_override}", "AvgPool1d times the kernel, divided")
        args = [ints(op.kernel), f"stride={ints(op.stride)}"] + keywords(op, padding=(padding, 0)) + ceil
        args += ["count_include_pad=False"] * (not op.count_include_pad)
        args += [f"divisor_override={op.divisor_override}"] * bool(op.divisor_override)
        return f"nn.AvgPool{rank}d({', '.join(args)})"
    if any(padding) or op.lp_mode != "signed_mean":
        raise cannot(op, f"an Lp pool ({op.lp_mode}) with padding {padding}", "LPPool of F.pad(t.abs())")
    kernel = str(op.kernel[0]) if rank == 1 else ints(op.kernel)
    args = [repr(op.norm_p), kernel, f"stride={ints(op.stride)}"] + ceil
    return f"nn.LPPool{rank}d({', '.join(args)})"


def emit_adaptive(op: ConvOp) -> str:
    name = "AdaptiveMaxPool" if op.kind == "adaptive_max_pool" else "AdaptiveAvgPool"
    return f"nn.{name}{op.rank}d({ints(op.out_size)})"


def pad_tuple(lo, hi) -> tuple[int, ...]:
    """torch's pad tuple: (before, after) of the last axis first."""
    return tuple(value for a, b in zip(reversed(lo), reversed(hi)) for value in (a, b))


def emit_pad(op: ConvOp) -> str:
    pads = pad_tuple(op.pad_lo, op.pad_hi)
    if op.pad_mode != "zeros":
        return f"nn.{PAD_MODULES[op.pad_mode]}{op.rank}d({pads!r})"
    if op.pad_value:
        return f"nn.ConstantPad{op.rank}d({pads!r}, {number(op.pad_value)})"
    return f"nn.ZeroPad{op.rank}d({pads!r})"


def emit_blocks(op: ConvOp) -> str:
    r = op.kernel[0]
    if op.rank != 2 or op.kernel != (r, r) or op.block_order != "CRD":
        raise cannot(op, f"blocks {op.kernel} in {op.block_order} order",
                     "permute the channels to torch's channel-major order around PixelShuffle")  # fmt: skip
    return f"nn.PixelShuffle({r})" if op.kind == "depth_to_space" else f"nn.PixelUnshuffle({r})"


def emit_unfold(op: ConvOp) -> str:
    padding = symmetric(op)
    args = [ints(op.kernel)] + keywords(op, dilation=(op.dilation, 1), padding=(padding, 0), stride=(op.stride, 1))
    if op.kind == "fold":
        return f"nn.Fold({ints(op.out_size)}, {', '.join(args)})"
    return f"nn.Unfold({', '.join(args)})"


def emit_unpool(op: ConvOp) -> str:
    padding = symmetric(op)
    if any(op.output_padding):
        raise cannot(op, f"an output {op.output_padding} past the default size", "module(x, indices, output_size=...)")
    args = [ints(op.kernel), f"stride={ints(op.stride)}"] + keywords(op, padding=(padding, 0))
    return f"nn.MaxUnpool{op.rank}d({', '.join(args)})"


def emit_resize(op: ConvOp) -> str:
    mode = resize_mode(op)
    if op.antialias:
        raise cannot(op, "antialias=True", "F.interpolate(..., antialias=True)")
    return f"nn.Upsample({resize_arguments(op, mode)})"


def resize_mode(op: ConvOp) -> str:
    """torch's interpolate mode for a resize op (its sampling rule), or a refusal."""
    if op.resize_mode == "nearest":
        if op.nearest_rounding == "floor" and op.coordinate in ("asymmetric", "tf_half_pixel_for_nn"):
            return "nearest" if op.coordinate == "asymmetric" else "nearest-exact"
    elif (op.resize_mode, op.rank) in RESIZE_NAMES and op.coordinate in ("half_pixel", "align_corners"):
        return RESIZE_NAMES[op.resize_mode, op.rank]
    raise refuse(
        label_of(op),
        f"a {op.resize_mode} resize with coordinate {op.coordinate!r} on {op.rank} axes",
        "torch's interpolate samples nearest (floor, asymmetric or half-pixel), linear (1-3 axes), bicubic and "
        "lanczos (2 axes) at half-pixel or aligned corners",
        "the nearest of these modes, or resize in the source framework",
    )


def resize_arguments(op: ConvOp, mode: str) -> str:
    text = f"scale_factor={scale_text(op.sample_scale)}" if op.sample_scale else f"size={ints(op.out_size)}"
    text += f", mode={mode!r}"
    if op.resize_mode != "nearest":
        text += f", align_corners={op.coordinate == 'align_corners'}"
    return text


# --- target: canonical x, params -> canonical y in torch ----------------------------------------------------------


def same_op(a: ConvOp, b: ConvOp) -> bool:
    """Whether two ops compute the same thing (layouts aside, and fields the kind does not read)."""

    def plain(op: ConvOp) -> ConvOp:
        op = canonical_op(op)
        if op.kind not in ("avg_pool", "lp_pool"):
            op = op.with_(count_include_pad=False, divisor_override=0)
        if op.kind != "lp_pool":
            op = op.with_(norm_p=2, lp_mode="abs_sum")
        if op.kind not in ("conv", "conv_transpose"):
            op = op.with_(bias=False, groups=1)
        if op.kind != "pad" and op.kind != "conv":
            op = op.with_(pad_mode="zeros")
        if op.kind == "resize" and op.resize_mode != "nearest":
            op = op.with_(nearest_rounding="floor")
        if op.kind == "resize" and op.resize_mode != "cubic":
            op = op.with_(cubic_a=-0.75, cubic_table=0)
        return op

    return plain(a) == plain(b)


def maps_to(call: str, op: ConvOp, functional: bool = False) -> bool:
    """Whether the library maps the torch ``call`` on op's input onto ``op``."""
    from ..api import map_call

    shape = op.input_shape
    try:
        mapped = map_call(call, shapes={"x": shape}) if functional else map_call(call, shape)
    except ConvArithError:
        return False
    return len(mapped.ops) == 1 and same_op(mapped.ops[0], op)


class Body:
    """The target lines being written, the tensor ``t``'s canonical shape, notes and calls."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.lines: list[str] = []
        self.notes: list[str] = []
        self.calls: list[str] = []
        self.shape = tuple(shape)
        self.modules = 0

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def module(self, call: str, index: int | None = None, bias: bool = False, use: str = "t = {m}(t)") -> str:
        """``m<i> = call``, its weight (and bias) copied from params[index], then ``use``."""
        name = f"m{self.modules}"
        self.modules += 1
        self.add(f"{name} = {call}")
        if index is not None:
            self.add(
                f"{name}.weight.copy_(torch.from_numpy(np.array(params[{index}][0], dtype=np.float32, order='C')))"
            )
        if bias:
            self.add(f"{name}.bias.copy_(torch.from_numpy(np.array(params[{index}][1], dtype=np.float32, order='C')))")
        self.add(use.format(m=name))
        self.calls.append(call)
        return name

    def spatial(self) -> tuple[int, ...]:
        return self.shape[2:]

    def slice(self, starts, stops, why: str = "") -> None:
        """``t = t[:, :, a:b, ...]`` on the axes whose range is not the whole axis."""
        sizes = self.spatial()
        if all(a == 0 and b == n for a, b, n in zip(starts, stops, sizes)):
            return
        parts = [":" if a == 0 and b == n else f"{a}:{b}" for a, b, n in zip(starts, stops, sizes)]
        self.add(f"t = t[:, :, {', '.join(parts)}]")
        self.calls.append(f"t[:, :, {', '.join(parts)}]")
        self.shape = self.shape[:2] + tuple(b - a for a, b in zip(starts, stops))
        if why:
            self.notes.append(why)

    def crop(self, lo, hi, why: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Slice off the negative amounts of (lo, hi); returns what is left to pad."""
        sizes = self.spatial()
        self.slice([max(-a, 0) for a in lo], [n - max(-b, 0) for n, b in zip(sizes, hi)], why)
        return tuple(max(a, 0) for a in lo), tuple(max(b, 0) for b in hi)

    def pad(self, lo, hi, why: str, mode: str = "zeros", value: float = 0.0) -> None:
        """``t = F.pad(t, ...)`` with non-negative amounts (nothing when all are 0)."""
        if not any(lo) and not any(hi):
            return
        pads = pad_tuple(lo, hi)
        extra = f", mode={F_PAD_MODE[mode]!r}" if mode != "zeros" else (f", value={number(value)}" if value else "")
        call = f"F.pad(t, {pads!r}{extra})"
        self.add(f"t = {call}")
        self.calls.append(call)
        self.shape = self.shape[:2] + tuple(n + a + b for n, a, b in zip(self.spatial(), lo, hi))
        self.notes.append(why)


def target(mapped: Mapped) -> Target:
    """torch lines computing canonical ``y`` from canonical ``x`` and ``params`` for ``mapped``'s ops."""
    first = mapped.ops[0]
    if mapped.space_to_batch and any(s > 1 for s in first.stride):
        raise refuse(
            f"torch target ({mapped.call.base})", "a dilated convolution with strides > 1 that TensorFlow runs as "
            "space-to-batch", "its windows are not those of a strided dilated convolution (convarith.forward does "
            "not model them either)", "strides=1, or the dilated convolution nn.Conv2d(..., stride, dilation)",
        )  # fmt: skip
    from ..reference.adapters import keras_bias_on_last_axis

    body = Body((first.batch, first.in_channels, *first.in_size))
    last_axis_bias = keras_bias_on_last_axis(mapped)
    for index, op in enumerate(mapped.ops):
        intent = mapped.padding_intent if index == 0 else ()
        if last_axis_bias and mapped.activation not in ("", "linear"):
            raise refuse(
                f"torch target ({mapped.call.base})", f"activation={mapped.activation!r} follows a bias Keras adds "
                "along the output's last axis (channels_first)", "the target applies the activation before the "
                "source side adds that bias", "activation=None and the activation after the layer",
            )  # fmt: skip
        if last_axis_bias and index == len(mapped.ops) - 1:
            op = op.with_(bias=False)
            body.notes.append("Keras adds this layer's bias along the output's last axis (channels_first, last axis "
                              "as long as the filters): the source side adds it, the torch module has none.")  # fmt: skip
        write_op(body, op, index, intent)
    activation(body, mapped)
    lines = ["t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))", "with torch.no_grad():"]
    lines += ["    " + line for line in body.lines] or ["    pass"]
    lines.append("y = t.numpy()")
    main = next(
        (call for call in body.calls if call.startswith(("nn.", "F.interp"))), body.calls[0] if body.calls else "t"
    )
    return Target(main, IMPORTS, tuple(lines), tuple(dict.fromkeys(body.notes)), tuple(body.calls))


def write_op(body: Body, op: ConvOp, index: int, intent: tuple[str, ...]) -> None:
    out = arith.output_spatial(op)
    empty = min(out, default=1) <= 0 or op.batch == 0 or op.out_channels == 0
    if empty or (op.in_channels == 0 and op.kind in ("conv", "conv_transpose")):
        shape = (op.batch // op.batch_groups, op.out_channels, *(max(s, 0) for s in out))
        body.add(f"t = torch.zeros({shape!r})")
        if empty:
            body.notes.append("the output is empty: torch.zeros of its shape stands for it.")
        else:
            body.notes.append("a convolution of no input channels sums nothing: zeros (and the bias).")
            if op.bias:
                body.add(f"t = t + torch.from_numpy(np.array(params[{index}][1], dtype=np.float32, order='C')).reshape("
                         f"{(1, -1) + (1,) * op.rank!r})")  # fmt: skip
        body.shape = shape
        return
    writers = {
        "conv": write_conv, "conv_transpose": write_transpose, "max_pool": write_pool, "avg_pool": write_pool,
        "lp_pool": write_pool, "min_pool": write_pool, "sum_pool": write_pool,
        "adaptive_max_pool": write_native, "adaptive_avg_pool": write_native, "pad": write_pad,
        "resize": write_resize, "depth_to_space": write_blocks, "space_to_depth": write_blocks,
        "unfold": write_native, "fold": write_native, "max_unpool": write_native,
    }  # fmt: skip
    if op.kind == "pad" and not any(op.pad_lo) and not any(op.pad_hi):
        return  # padding by nothing
    if not 1 <= op.rank <= 3 and (op.kind != "pad" or op.pad_mode != "zeros"):
        fold_window_free_axes(body, op, index, writers[op.kind])
    else:
        writers[op.kind](body, op, index, intent)
    body.shape = (op.batch // op.batch_groups, op.out_channels, *out)


def fold_window_free_axes(body: Body, op: ConvOp, index: int, writer) -> None:
    """An op on more than 3 axes (jax's reduce_window windows every axis): the axes its window leaves
    alone (kernel 1, stride 1, no padding) move into the channels, the op runs on the rest, and back."""
    rank = op.rank
    window = zip(op.kernel, op.stride, op.pad_lo, op.pad_hi, op.lhs_dilation)
    free = [a for a, axis in enumerate(window) if axis == (1, 1, 0, 0, 1)]
    if rank == 0:
        raise refuse(
            label_of(op), "an op on no spatial axes", "torch's convolution and pooling modules take 1 to 3 spatial "
            "axes", "a matrix product (torch.einsum) is what comes closest; add a spatial axis of size 1",
        )  # fmt: skip
    kept = [a for a in range(rank) if a not in free] or [free.pop()]
    if len(kept) > 3 or op.kind in ("conv", "conv_transpose"):
        raise refuse(
            label_of(op), f"an op on {rank} spatial axes, {len(kept)} of them windowed",
            "torch's convolution and pooling modules take 1 to 3 spatial axes", "at most 3 windowed axes",
        )  # fmt: skip
    n, c, sizes, out = op.batch, op.in_channels, op.in_size, arith.output_spatial(op)
    moved = math.prod(sizes[a] for a in free)
    order = (0, 1, *(a + 2 for a in free), *(a + 2 for a in kept))
    body.add(f"t = t.permute{order}.reshape({(n, c * moved, *(sizes[a] for a in kept))!r})")
    body.notes.append(f"the {len(free)} axes the window leaves alone move into the channels (torch pools 1 to 3 axes).")

    def pick(values) -> tuple:
        return tuple(values[a] for a in kept)

    sub = op.with_(
        in_channels=c * moved, out_channels=c * moved, in_size=pick(sizes), kernel=pick(op.kernel),
        stride=pick(op.stride), dilation=pick(op.dilation), pad_lo=pick(op.pad_lo), pad_hi=pick(op.pad_hi),
        lhs_dilation=pick(op.lhs_dilation), output_padding=pick(op.output_padding), in_spec=channels_first(len(kept)),
        out_spec=channels_first(len(kept)),
    )  # fmt: skip
    body.shape = (n, c * moved, *pick(sizes))
    writer(body, sub, index, ())
    back = tuple(sorted(range(rank + 2), key=order.__getitem__))
    body.add(f"t = t.reshape({(n, c, *(sizes[a] for a in free), *pick(out))!r}).permute{back}")


def write_native(body: Body, op: ConvOp, index: int, intent=()) -> bool:
    """The op as its one torch module, when the library maps that module onto the op; False if none is."""
    op = canonical_op(op)
    try:
        call = emit(op)
    except ConvArithError:
        if op.kind in ("adaptive_max_pool", "adaptive_avg_pool", "unfold", "fold", "max_unpool"):
            raise
        return False
    if op.kind == "fold":
        blocks = math.prod(op.in_size)
        body.module(call, use=f"t = {{m}}(t.reshape({op.batch}, {op.in_channels}, {blocks}))")
        return True
    if not maps_to(call, op):
        if op.kind in ("adaptive_max_pool", "adaptive_avg_pool", "unfold", "max_unpool"):
            raise cannot(op, "this op", "explicit steps")
        return False
    weighted = op.kind in ("conv", "conv_transpose")
    if op.kind == "unfold":
        out = arith.output_spatial(op)
        body.module(call, use=f"t = {{m}}(t).reshape({(op.batch, op.out_channels, *out)!r})")
    elif op.kind == "max_unpool":
        sizes = list(arith.output_spatial(op))
        indices = f"torch.from_numpy(np.array(params[{index}][0], dtype=np.int64, order='C'))"
        body.module(call, use=f"t = {{m}}(t, {indices}, output_size={sizes!r})")
    else:
        body.module(call, index if weighted else None, bias=weighted and op.bias)
    return True


# --- convolution ---


def write_conv(body: Body, op: ConvOp, index: int, intent: tuple[str, ...]) -> None:
    rank = op.rank
    op = canonical_op(op)
    if intent and set(intent) <= {"same_upper", "same_lower"} and all(s == 1 for s in op.stride):
        # the source said 'same': torch's own padding='same' when it puts the pads where the op has them
        text = same_call(op)
        if text and maps_to(text, op):
            body.module(text, index, bias=op.bias)
            return
    if write_native(body, op, index):
        return
    if op.groups > 1 and op.batch_groups > 1:
        raise refuse(label_of(op), f"groups={op.groups} with batch_groups={op.batch_groups}",
                     "jax takes one of them above 1", "one of them 1")  # fmt: skip
    if any(ld != 1 for ld in op.lhs_dilation):
        lhs_dilate(body, op.lhs_dilation, 0.0)
    out = arith.output_spatial(op)
    k_eff = tuple(map(arith.effective_kernel, op.kernel, op.dilation))
    lo, hi = tuple(max(a, 0) for a in op.pad_lo), tuple(max(b, 0) for b in op.pad_hi)
    sizes = tuple(n - max(-a, 0) - max(-b, 0) for n, a, b in zip(body.spatial(), op.pad_lo, op.pad_hi))
    extra = tuple(
        max(0, (o - 1) * s + k - (n + a + b)) for o, s, k, n, a, b in zip(out, op.stride, k_eff, sizes, lo, hi)
    )
    why = (
        f"asymmetric padding (before {op.pad_lo}, after {op.pad_hi}): F.pad adds what torch's symmetric padding= cannot"
    )
    if any(extra):
        why = (f"rounding={op.rounding!r}: the last window runs past the padded input; F.pad adds zeros after it, "
               "which count for nothing")  # fmt: skip
    if op.pad_mode == "zeros":
        body.crop(op.pad_lo, op.pad_hi, "negative padding crops: a slice before the convolution.")
        common = tuple(min(a, b + e) for a, b, e in zip(lo, hi, extra))
        body.pad(tuple(a - c for a, c in zip(lo, common)), tuple(b + e - c for b, e, c in zip(hi, extra, common)),
                 why + ".")  # fmt: skip
        padding = common
    else:
        why_mode = (f"padding_mode={op.pad_mode!r} with padding before {op.pad_lo}, after {op.pad_hi}: "
                    f"F.pad(mode={F_PAD_MODE[op.pad_mode]!r}) first, then the convolution with padding 0.")  # fmt: skip
        padded_first(body, op, lambda: body.pad(lo, hi, why_mode, op.pad_mode))
        body.pad((0,) * rank, extra, why + ".")
        padding = (0,) * rank
    channels, groups = op.in_channels, op.groups
    if op.batch_groups > 1:
        bg, n = op.batch_groups, op.batch
        body.add(f"t = t.reshape({(bg, n // bg, channels, *body.spatial())!r}).transpose(0, 1).reshape("
                 f"{(n // bg, bg * channels, *body.spatial())!r})")  # fmt: skip
        body.notes.append(f"batch_group_count={bg}: batch group i moves into channel group i of a grouped conv.")
        channels, groups = bg * channels, bg
    args = [str(channels), str(op.out_channels), ints(op.kernel)]
    args += keywords(op, stride=(op.stride, 1), padding=(padding, 0), dilation=(op.dilation, 1))
    args += [f"groups={groups}"] * (groups != 1) + ["bias=False"] * (not op.bias)
    body.module(f"nn.Conv{rank}d({', '.join(args)})", index, bias=op.bias)
    padded = tuple(n + 2 * p for n, p in zip(body.spatial(), padding))
    got = tuple(arith.conv_out(n, k, s, 0, 0) for n, k, s in zip(padded, k_eff, op.stride))
    body.shape = (op.batch // op.batch_groups, op.out_channels, *got)
    body.slice((0,) * rank, out, "the extra windows the padding at the end made are cut off.")


def same_call(op: ConvOp) -> str | None:
    """``nn.ConvNd(..., padding='same')`` for the op (the library then says whether torch's 'same' fits)."""
    try:
        return conv_call(op, "'same'")
    except ConvArithError:
        return None


def lhs_dilate(body: Body, dilation: tuple[int, ...], fill: float) -> None:
    """Insert dilation-1 cells of ``fill`` between the input cells (an lhs-dilated input)."""
    sizes = tuple(arith.dilated_size(n, d) for n, d in zip(body.spatial(), dilation))
    shape = (*body.shape[:2], *sizes)
    body.add(f"z = t.new_full({shape!r}, {number(fill)})" if fill else f"z = t.new_zeros({shape!r})")
    body.add(f"z[:, :, {', '.join(f'::{d}' for d in dilation)}] = t")
    body.add("t = z")
    body.notes.append(f"lhs_dilation={dilation}: {'zeros' if not fill else 'cells of ' + number(fill)} inserted "
                      "between the input cells first (torch convolutions have no input dilation).")  # fmt: skip
    body.shape = shape


# --- transposed convolution ---


def write_transpose(body: Body, op: ConvOp, index: int, intent=()) -> None:
    op = canonical_op(op)
    if write_native(body, op, index):
        return
    if any(ld != 1 for ld in op.lhs_dilation) or op.pad_mode != "zeros":
        raise cannot(op, f"a transposed convolution with lhs_dilation={op.lhs_dilation}, pad_mode={op.pad_mode!r}",
                     "the forward convolution of the zero-inserted input")  # fmt: skip
    rank = op.rank
    k_eff = tuple(map(arith.effective_kernel, op.kernel, op.dilation))
    full = tuple((n - 1) * s + k for n, s, k in zip(op.in_size, op.stride, k_eff))  # the uncropped output
    padding, out_pad, start, end = [], [], [], []
    for axis in range(rank):
        lo, hi_eff, most = (
            op.pad_lo[axis],
            op.pad_hi[axis] - op.output_padding[axis],
            max(op.stride[axis], op.dilation[axis]) - 1,
        )
        if lo >= 0 and 0 <= lo - hi_eff <= most:  # torch's padding=lo, output_padding=lo - hi_eff is exact
            p, q = lo, lo - hi_eff
        else:
            p = max(0, min(lo, hi_eff))
            q = min(max(p - hi_eff, 0), most)
        padding.append(p)
        out_pad.append(q)
        start.append(lo - p)  # > 0: crop, < 0: pad
        end.append(hi_eff - p + q)
    needs_pad = any(a < 0 for a in start + end)
    args = [str(op.in_channels), str(op.out_channels), ints(op.kernel)]
    args += keywords(op, stride=(op.stride, 1), padding=(padding, 0), output_padding=(out_pad, 0))
    bias = op.bias and not needs_pad
    args += [f"groups={op.groups}"] * (op.groups != 1) + ["bias=False"] * (not bias)
    args += keywords(op, dilation=(op.dilation, 1))
    body.module(f"nn.ConvTranspose{rank}d({', '.join(args)})", index, bias=bias)
    body.shape = (op.batch, op.out_channels, *(f - 2 * p + q for f, p, q in zip(full, padding, out_pad)))
    if any(out_pad):
        body.notes.append(f"output_padding={tuple(out_pad)} chosen: torch cuts padding={tuple(padding)} from both "
                          "ends, then extends the end by output_padding.")  # fmt: skip
    grown = f", then adds output_padding {op.output_padding}" if any(op.output_padding) else ""
    why = (f"the op cuts (before {op.pad_lo}, after {op.pad_hi}) from the full output{grown}; torch cuts "
           "padding= from both ends alike, so the rest is sliced off or padded here.")  # fmt: skip
    sizes = body.spatial()
    body.slice([max(a, 0) for a in start], [n - max(b, 0) for n, b in zip(sizes, end)], why)
    body.pad([max(-a, 0) for a in start], [max(-b, 0) for b in end], why)
    if needs_pad and op.bias:
        body.add(f"t = t + torch.from_numpy(np.array(params[{index}][1], dtype=np.float32, order='C')).reshape("
                 f"{(1, -1) + (1,) * rank!r})")  # fmt: skip
        body.notes.append("the bias is added after the padding: the padded cells hold the bias too.")


# --- pooling ---


def write_pool(body: Body, op: ConvOp, index: int, intent=()) -> None:
    op = canonical_op(op)
    kind, rank = op.kind, op.rank
    if kind in ("max_pool", "avg_pool") and op.init_value is None and global_pool(op):
        name = "AdaptiveMaxPool" if kind == "max_pool" else "AdaptiveAvgPool"
        body.module(f"nn.{name}{rank}d(1)")
        return
    if op.init_value is None and kind in ("max_pool", "avg_pool", "lp_pool") and write_native(body, op, index):
        return
    if kind == "sum_pool" and op.init_value not in (None, 0):
        raise refuse(label_of(op), f"a sum with init_value={op.init_value}", "XLA leaves how often a non-identity "
                     "init value is added open", "init_value=0.0 and add the constant afterwards")  # fmt: skip
    out = arith.output_spatial(op)
    k_eff = tuple(map(arith.effective_kernel, op.kernel, op.dilation))
    fill = -math.inf if kind in ("max_pool", "min_pool") else 0.0
    if kind == "min_pool":
        body.add("t = -t")
        body.notes.append("a min pool is a max pool of -x, negated.")
    if kind == "lp_pool":
        body.add(f"t = t.abs() ** {op.norm_p!r}" if op.lp_mode == "abs_sum" else f"t = t ** {op.norm_p!r}")
        body.notes.append(f"the Lp pool sums {'|x|' if op.lp_mode == 'abs_sum' else 'x'}^{op.norm_p!r} over each "
                          "window, then takes the root.")  # fmt: skip
    original = body.spatial()
    if any(ld != 1 for ld in op.lhs_dilation):
        lhs_dilate(body, op.lhs_dilation, fill)
    lo, hi = body.crop(op.pad_lo, op.pad_hi, "negative padding crops: a slice before the pool.")
    cropped = body.spatial()
    extra = tuple(
        max(0, (o - 1) * s + k - (n + a + b)) for o, s, k, n, a, b in zip(out, op.stride, k_eff, cropped, lo, hi)
    )
    filled = "-inf" if fill else "zeros"
    body.pad(lo, hi, f"padding (before {op.pad_lo}, after {op.pad_hi}) written out with F.pad ({filled}, which "
             "no window counts), then the pool with padding 0: torch pools pad symmetrically, at most half the kernel.",
             value=fill)  # fmt: skip
    body.pad((0,) * rank, extra, f"rounding={op.rounding!r}: windows run past the padded input; F.pad adds cells "
             f"({filled}) that count for nothing, so torch's floor rounding gives every window.", value=fill)  # fmt: skip
    padded = body.spatial()
    if kind in ("max_pool", "min_pool"):
        args = [ints(op.kernel), f"stride={ints(op.stride)}"] + keywords(op, dilation=(op.dilation, 1))
        body.module(f"nn.MaxPool{rank}d({', '.join(args)})")
    else:
        window_sum(body, op, "t")
    got = tuple(arith.conv_out(n, k, s, 0, 0) for n, k, s in zip(padded, k_eff, op.stride))
    body.shape = (op.batch, op.in_channels, *got)
    body.slice((0,) * rank, out, "windows beyond the op's last one are cut off.")
    finish_pool(body, op, original, lo, hi, extra, out)


def finish_pool(body: Body, op: ConvOp, original, lo, hi, extra, out) -> None:
    """The divisor, root, sign or clamp that turns the window max or sum into the op's value."""
    kind = op.kind
    if kind == "min_pool":
        body.add("t = -t")
        if op.init_value is not None and op.init_value != math.inf:
            body.add(f"t = torch.clamp_max(t, {number(op.init_value)})")
    elif kind == "max_pool":
        if op.init_value is not None and op.init_value != -math.inf:
            body.add(f"t = torch.clamp_min(t, {number(op.init_value)})")
            body.notes.append(f"every window starts from init_value={op.init_value!r}: a clamp from below.")
        elif op.empty_max == "lowest":
            body.add("t = torch.clamp_min(t, torch.finfo(t.dtype).min)")
            body.notes.append("every max starts from the dtype's lowest value (a window of padding only gives it).")
    elif kind == "avg_pool":
        if op.divisor_override:
            body.add(f"t = t / {op.divisor_override}")
            body.notes.append(f"the window sum is divided by divisor_override={op.divisor_override}.")
        elif constant_divisor(op) is not None:
            body.add(f"t = t / {constant_divisor(op)}")
        else:
            count_cells(body, op, original, lo, hi, extra, out, op.count_include_pad)
            body.add("t = t / count")
            body.notes.append(
                f"divisor correction: each window divides by the cells it covers {'with' if op.count_include_pad else 'without'} "
                "the padding (a mask of ones pooled the same way); torch's AvgPool cannot express this divisor."
            )
    elif kind == "lp_pool":
        if op.lp_mode == "signed_mean":
            count_cells(body, op, original, lo, hi, extra, out, False)
            body.add(f"t = t * {math.prod(op.kernel)} / count")
        body.add(f"t = t ** (1.0 / {op.norm_p!r})")


def window_sum(body: Body, op: ConvOp, var: str, channels: int | None = None) -> None:
    """``var`` = the sum over each window (padding 0): AvgPool with divisor_override=1 (2D, 3D),
    AvgPool1d times the kernel, or a grouped convolution of ones (a dilated window)."""
    rank = op.rank
    channels = op.in_channels if channels is None else channels
    if any(d != 1 for d in op.dilation):
        weight = f"torch.ones({(channels, 1, *op.kernel)!r})"
        call = (
            f"F.conv{rank}d({var}, {weight}, stride={ints(op.stride)}, dilation={ints(op.dilation)}, groups={channels})"
        )
        body.add(f"{var} = {call}")
        body.calls.append(call)
        body.notes.append("a dilated window sum: a grouped convolution with a kernel of ones (torch's AvgPool has no "
                          "dilation).")  # fmt: skip
    elif rank == 1:
        body.module(
            f"nn.AvgPool1d({op.kernel[0]}, stride={op.stride[0]})", use=f"{var} = {{m}}({var}) * {op.kernel[0]}"
        )
    else:
        body.module(f"nn.AvgPool{rank}d({ints(op.kernel)}, stride={ints(op.stride)}, divisor_override=1)",
                    use=f"{var} = {{m}}({var})")  # fmt: skip


def count_cells(body: Body, op: ConvOp, original, lo, hi, extra, out, include_pad: bool) -> None:
    """``count``: how many cells each window covers (the input, and the padding when ``include_pad``)."""
    rank = op.rank
    body.add(f"count = torch.ones({(1, 1, *body_cropped(original, op))!r})")
    pads = pad_tuple(lo, hi)
    if any(pads):
        body.add(f"count = F.pad(count, {pads!r}, value={1.0 if include_pad else 0.0})")
    if any(extra):
        body.add(f"count = F.pad(count, {pad_tuple((0,) * rank, extra)!r})")
    sum_op = op.with_(in_channels=1)
    window_sum(body, sum_op, "count", channels=1)
    body.add(f"count = count[:, :, {', '.join(f':{o}' for o in out)}]")


def body_cropped(original, op: ConvOp) -> tuple[int, ...]:
    """The input sizes after lhs dilation and the crop of negative padding."""
    sizes = tuple(arith.dilated_size(n, d) for n, d in zip(original, op.lhs_dilation))
    return tuple(n - max(-a, 0) - max(-b, 0) for n, a, b in zip(sizes, op.pad_lo, op.pad_hi))


def constant_divisor(op: ConvOp) -> int | None:
    """The divisor when every window of an average pool divides by the same count (else None)."""
    total = 1
    for axis in range(op.rank):
        n, k, d, s = op.in_size[axis], op.kernel[axis], op.dilation[axis], op.stride[axis]
        runs = arith.divisor_runs(n, k, d, s, op.pad_lo[axis], op.pad_hi[axis], arith.output_spatial(op)[axis],
                                  op.count_include_pad)  # fmt: skip
        values = {v for run in runs for v in (run.low, run.high)} if runs else set()
        if len(values) != 1:
            return None
        total *= values.pop()
    return total


def global_pool(op: ConvOp) -> bool:
    """One unpadded window over the whole input, its divisor the cell count."""
    return (
        op.kernel == op.in_size and not any(op.pad_lo) and not any(op.pad_hi) and all(o == 1 for o in arith.output_spatial(op))
        and all(d == 1 or k == 1 for d, k in zip(op.dilation, op.kernel))
        and op.divisor_override in (0, math.prod(op.kernel)) and op.empty_max == "-inf"
        and all(ld == 1 for ld in op.lhs_dilation)
    )  # fmt: skip


# --- padding, resize, rearranging ---


def write_pad(body: Body, op: ConvOp, index: int, intent=()) -> None:
    op = canonical_op(op)
    if all(a <= 0 for a in op.pad_lo + op.pad_hi):
        body.crop(op.pad_lo, op.pad_hi, "a crop is a slice.")
        return
    if 1 <= op.rank <= 3 and op.pad_mode == "zeros" and write_native(body, op, index):
        return
    lo, hi = tuple(max(a, 0) for a in op.pad_lo), tuple(max(b, 0) for b in op.pad_hi)

    def padding() -> None:
        sizes = body.spatial()
        if op.pad_mode == "circular" and any(max(a, b) > n for n, a, b in zip(sizes, lo, hi)):
            for axis, (n, a, b) in enumerate(zip(sizes, lo, hi)):
                if a or b:
                    gather = f"t.index_select({axis + 2}, torch.remainder(torch.arange({-a}, {n + b}), {n}))"
                    body.add(f"t = {gather}")
                    body.calls.append(gather)
            body.notes.append("circular padding that wraps more than once: the cells are gathered by index "
                              "(torch's CircularPad wraps at most once).")  # fmt: skip
        elif 1 <= op.rank <= 3:
            body.module(emit_pad(op.with_(in_size=sizes, pad_lo=lo, pad_hi=hi)))
        else:
            body.pad(lo, hi, f"F.pad pads the {op.rank} trailing axes.", op.pad_mode, op.pad_value)
            return
        body.shape = body.shape[:2] + tuple(n + a + b for n, a, b in zip(sizes, lo, hi))

    padded_first(body, op, padding)


def padded_first(body: Body, op: ConvOp, padding) -> None:
    """``padding()`` and the crop of the negative amounts in the order the op's mode reads the input:
    reflect and replicate fold about the input's own edges (pad, then crop); zeros and circular crop first."""
    if op.pad_mode in ("reflect", "replicate") and any(a < 0 for a in op.pad_lo + op.pad_hi):
        padding()
        body.crop(op.pad_lo, op.pad_hi, f"negative padding crops after the {op.pad_mode} padding, which reads "
                  "about the uncropped input's edges.")  # fmt: skip
    else:
        body.crop(op.pad_lo, op.pad_hi, "negative padding crops: a slice first, then the padding.")
        padding()


def write_resize(body: Body, op: ConvOp, index: int, intent=()) -> None:
    """F.interpolate with the mode and sizing whose sampling table (cells and weights per axis) is the op's."""
    op = canonical_op(op)
    for text in resize_candidates(op):
        if same_sampling(op, text):
            body.add(f"t = {text.replace('(x, ', '(t, ', 1)}")
            body.calls.append(text.replace("(x, ", "(t, ", 1))
            if op.resize_arith != "torch":
                body.notes.append(f"torch computes the sample positions in its own float arithmetic (the source: "
                                  f"{op.resize_arith}); they pick the same cells with the same weights here.")  # fmt: skip
            return
    modes = {"nearest": "nearest", "linear": "bilinear", "cubic": "bicubic"}
    raise refuse(
        label_of(op), f"a resize ({op.resize_mode}) {op.in_size} -> {op.out_size} with coordinate {op.coordinate!r} "
        f"(scale {op.sample_scale or 'out/n'})", "torch's interpolate (nearest, nearest-exact, linear, bicubic, "
        "lanczos; half-pixel or aligned corners; the given scale_factor or out/n) reads other cells or weights here",
        f"F.interpolate(x, size={op.out_size}, mode={modes.get(op.resize_mode, 'bilinear')!r}) comes closest",
    )  # fmt: skip


def resize_candidates(op: ConvOp) -> list[str]:
    """F.interpolate calls that might sample as the op does: its own mode's torch spellings, the
    coordinate rule it names first, its scale and then its size."""
    rank, mode = op.rank, op.resize_mode
    if mode in ("nearest", "area"):  # an area upsampling by whole factors repeats cells, as nearest does
        names = ["nearest-exact", "nearest"] if "half" in op.coordinate else ["nearest", "nearest-exact"]
    elif (mode, rank) in RESIZE_NAMES:
        names = [RESIZE_NAMES[mode, rank]]
    else:
        return []
    aligned = [True, False] if op.coordinate == "align_corners" else [False, True]
    sizings = [f"scale_factor={scale_text(op.sample_scale)}"] * bool(op.sample_scale) + [f"size={ints(op.out_size)}"]
    extra = ", antialias=True" if op.antialias else ""
    texts = []
    for name in names:
        for align in aligned if name not in ("nearest", "nearest-exact") else [None]:
            corners = "" if align is None else f", align_corners={align}"
            texts += [f"F.interpolate(x, {sizing}, mode={name!r}{corners}{extra})" for sizing in sizings]
    return texts


def scale_text(scale) -> str:
    scale = tuple(scale)
    return repr(scale[0]) if len(set(scale)) == 1 else repr(scale)


def same_sampling(op: ConvOp, call: str, limit: int = 1 << 20) -> bool:
    """Whether torch's resize ``call`` reads the same input cells with the same weights (within 1e-6) as the
    op on every axis (the reference's sampling tables, as dense (out, n) matrices of at most ``limit`` cells)."""
    import numpy as np

    from ..api import map_call
    from ..reference import resize as sampler

    try:
        theirs = map_call(call, shapes={"x": op.input_shape}).ops[0]
    except ConvArithError:
        return False
    if theirs.kind != "resize" or theirs.out_size != op.out_size or theirs.antialias != op.antialias:
        return False
    if same_op(theirs, op):
        return True
    if op.antialias and op.out_size[-1] == 1:
        return False  # torch's antialiased pass on a 1-wide output repeats a row: not in the tables
    for axis, (n, out) in enumerate(zip(op.in_size, op.out_size)):
        if n * out > limit:
            return False
        matrices = []
        for one in (op, theirs):
            found = sampler.filtered(one, axis)
            cells, weights = found if found is not None else sampler.sampling(one, axis)
            matrix = np.zeros((out, n))
            np.add.at(matrix, (np.arange(out)[:, None].repeat(cells.shape[1], 1), cells), weights)
            matrices.append(matrix)
        if not np.allclose(*matrices, rtol=0, atol=1e-6):
            return False
    return True


def write_blocks(body: Body, op: ConvOp, index: int, intent=()) -> None:
    op = canonical_op(op)
    r = op.kernel[0]
    if op.rank != 2 or op.kernel != (r, r):
        raise cannot(op, f"blocks of {op.kernel}", "square blocks: PixelShuffle(r)")
    n, h, w = op.batch, op.in_size[0], op.in_size[1]
    if op.kind == "depth_to_space":
        if op.block_order == "DCR":
            body.add(f"t = t.reshape({(n, r * r, op.out_channels, h, w)!r}).transpose(1, 2).reshape("
                     f"{(n, op.in_channels, h, w)!r})")  # fmt: skip
            body.notes.append("the channels are reordered from block-major (DCR) to torch's channel-major order first.")
        body.module(f"nn.PixelShuffle({r})")
        return
    body.module(f"nn.PixelUnshuffle({r})")
    if op.block_order == "DCR":
        body.add(f"t = t.reshape({(n, op.in_channels, r * r, h // r, w // r)!r}).transpose(1, 2).reshape("
                 f"{(n, op.out_channels, h // r, w // r)!r})")  # fmt: skip
        body.notes.append("the channels are reordered from torch's channel-major order to block-major (DCR).")


def activation(body: Body, mapped: Mapped) -> None:
    """The layer's activation (Keras's activation=) as a torch function of t."""
    name = mapped.activation
    if not name or ACTIVATIONS.get(name, "") is None:
        return
    if name not in ACTIVATIONS:
        raise refuse(
            f"torch target ({mapped.call.base})", f"activation={name!r}", "the translation applies the activation with "
            f"a torch function; torch has none for {name}", "activation=None and apply it separately",
        )  # fmt: skip
    last = mapped.ops[-1]
    spec = last.out_spec
    last_axis = len(spec) - 1 if len(spec) == last.rank + 2 else None
    dim = spec.index(last_axis) if last_axis is not None else 1  # the source's last axis, in canonical order
    body.add(f"t = {ACTIVATIONS[name].format(dim=dim)}")
    body.calls.append(ACTIVATIONS[name].format(dim=dim))


# --- source: a torch call's arrays <-> canonical ----------------------------------------------------------------


def input_steps(mapped: Mapped) -> tuple:
    """The input as given -> canonical (N, C, spatial...): a reshape (unbatched, flattened leading axes,
    fold's (N, C*K, L)), then the op's axis order."""
    first = mapped.ops[0]
    given, shape = tuple(mapped.given_input_shape), tuple(first.input_shape)
    reshape = (steps.Reshape(shape, given),) if given != shape else ()
    return (*reshape, steps.Transpose(first.in_spec))


def output_steps(mapped: Mapped) -> tuple:
    """Canonical (N, O, spatial...) of the last op -> the call's output as torch gives it."""
    last = mapped.ops[-1]
    out = tuple(max(s, 0) for s in arith.output_spatial(last))
    canonical = (last.batch // last.batch_groups, last.out_channels, *out)
    order = steps.inverse((steps.Transpose(last.out_spec),)) if len(last.out_spec) == len(canonical) else ()
    laid = arith.output_shape(last) if order else canonical
    shape = tuple(mapped.output_shape)
    return (*order, *((steps.Reshape(shape, tuple(laid)),) if shape != tuple(laid) else ()))


def written(value, tensors: set, size: tuple = ()) -> str:
    """A parsed argument value as Python text; a tensor name becomes that array as a torch tensor, a shape
    reference (``size=y.shape[2:]``, read from shapes=) the ``size`` it gave."""
    if isinstance(value, Name) and value.dotted in tensors:
        return f"torch.as_tensor(np.asarray({value.dotted}))"
    if isinstance(value, ShapeRef) or (
        isinstance(value, (tuple, list)) and any(isinstance(v, ShapeRef) for v in value)
    ):
        return repr(tuple(size))
    if isinstance(value, tuple):
        items = [written(item, tensors) for item in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(written(item, tensors) for item in value)}]"
    return repr(value)


def call_name(mapped: Mapped) -> str:
    """The call's name with torch's usual prefix: nn.<Module>, F.<function> or torch.<alias>."""
    call = mapped.call
    if call.prefix == "torch":
        return call.name
    return ("nn." if call.base[:1].isupper() else "F.") + call.base


def source(mapped: Mapped) -> Source:
    """How a torch call takes its arrays, brings them to canonical layout and back, and runs in torch."""
    from ..reference.adapters import TORCH_WEIGHT_LAYOUT, array_names, input_name, tensor_roles

    op = mapped.ops[0]
    names = list(dict.fromkeys(name for _, name in array_names(mapped.call)))
    functional = bool(names)
    x_name = input_name(mapped) if functional else "x"
    lines = [f"x = {steps.code(input_steps(mapped), f'np.asarray({x_name})')}"]
    notes = []
    if op.kind == "max_unpool":
        indices = tensor_roles(mapped, ("indices",)).get("indices") if functional else "weights[0]"
        lines.append(f"params = [(np.asarray({indices}).reshape({tuple(op.input_shape)!r}), None)]")
    elif op.weightless:
        lines.append("params = [(None, None)]")
    else:
        if functional:
            roles = tensor_roles(mapped, ("weight", "bias"))
            w, b = roles["weight"], roles.get("bias")
        else:
            w, b = "weights[0]", "weights[1]" if op.bias else None
        weight = steps.code(TORCH_WEIGHT_LAYOUT[op.kind], f"np.asarray({w})")
        lines.append(f"params = [({weight}, {f'np.asarray({b})' if b else None})]")
        notes.append("torch's weight layout is the canonical one: (out, in/groups, k...) for a convolution, "
                     "(in, out/groups, k...) for a transposed one.")  # fmt: skip
    back = steps.code(output_steps(mapped), "y")
    from_canonical = (f"y = {back}",) if back != "y" else ()
    run = run_lines(mapped, names, functional)
    signature = ", ".join(names) if functional else "x, weights=None"
    return Source(signature, tuple(lines), from_canonical, IMPORTS, run, tuple(notes))


def run_lines(mapped: Mapped, names: list, functional: bool) -> tuple[str, ...]:
    """Lines running the real torch call on the signature's arrays, setting NumPy ``y``."""
    call, op = mapped.call, mapped.ops[0]
    tensors = set(names)
    given = call.args[1:] if "Lazy" in call.base else call.args  # the mapping puts the in_channels it read first
    size = op.out_size if op.kind in ("resize", "adaptive_avg_pool") else ()  # what a shape reference gave
    args = [written(value, tensors, size) for value in given]
    args += [f"{key}={written(value, tensors, size)}" for key, value in call.kwargs]
    text = f"{call_name(mapped)}({', '.join(args)})"
    if functional:
        return ("with torch.no_grad():", f"    out = {text}", "y = (out[0] if isinstance(out, tuple) else out).numpy()")
    x = "torch.from_numpy(np.array(x, dtype=np.float32, order='C'))"
    lines = [f"m = {text}", "with torch.no_grad():"]
    if "Lazy" in call.base:
        lines.append(f"    m({x})  # a lazy module builds its weights on the first call")
    if not op.weightless:
        lines += ["    for p, w in zip(m.parameters(), [] if weights is None else weights):",
                  "        p.copy_(torch.from_numpy(np.array(w, dtype=np.float32, order='C')))"]  # fmt: skip
    size = list(arith.output_spatial(mapped.ops[-1]))
    if op.kind == "max_unpool":
        indices = "torch.from_numpy(np.array(weights[0], dtype=np.int64, order='C'))"
        lines.append(f"    out = m({x}, {indices}, output_size={size!r})")
    elif op.kind == "conv_transpose" and op.output_padding != given_output_padding(mapped):
        lines.append(f"    out = m({x}, output_size={size!r})")
    else:
        lines.append(f"    out = m({x})")
    lines.append("y = out.numpy()")
    return tuple(lines)


def given_output_padding(mapped: Mapped) -> tuple[int, ...]:
    rank = mapped.ops[0].rank
    value = mapped.argument("output_padding", 0)
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * rank
    return items * rank if len(items) == 1 else items
