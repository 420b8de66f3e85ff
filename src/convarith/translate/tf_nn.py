"""tf.nn in a translation: as the source (arrays by the call's tensor names, channels-last) and as
the target (functions on tf tensors, NHWC, as TensorFlow runs them on CPU).

The target computes every canonical op with the tf.nn call whose mapping is that op where one
exists (``emit``: each candidate spelling is mapped by convarith and kept only when it gives
the same op), and otherwise with explicit steps in TensorFlow's own ops: ``tf.pad`` (zeros,
-inf, REFLECT, edge copies, wrap-around), slicing (negative pads, crops, strides TF refuses with
a dilation), zeros spread between input cells (lhs_dilation), a kernel dilated by zeros (TF's
CPU transposed convolution takes no dilation), a split into groups where TF has no grouped
kernel, and the window sums and counts of an average pool whose divisor TF does not use.
"""

from __future__ import annotations

from math import prod

from ..core import arith
from ..core.op import ConvOp, channels_last
from ..errors import ConvArithError
from ..frameworks._common import Mapped, refuse
from ..parse import Name, ShapeRef
from . import steps
from .parts import Source, Target

__all__ = ["FRAMEWORK_ID", "emit", "emit_shapes", "filter_steps", "source", "target"]

FRAMEWORK_ID = "tf_nn"
LABEL = "tf.nn"
IMPORTS = ("import numpy as np", "import tensorflow as tf")
RESIZE_METHODS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")
CPU_RULE = "TensorFlow's CPU kernels take channels-last tensors (NWC, NHWC, NDHWC)"
TABLE_LIMIT = 1 << 16  # entries of a table written into the code (gathered cells, listed windows)

# -- layouts as data (reference.adapters.tf_nn_params applies the same steps) ------------------------------------


def filters_steps(rank: int) -> tuple:
    """conv*/convolution filters (*k, C/groups, O) and conv*_transpose filters (*k, O, C) -> (b, a, *k)."""
    return (steps.Transpose((rank + 1, rank, *range(rank))),)


def depthwise_steps(kernel: tuple[int, ...], channels: int, multiplier: int) -> tuple:
    """depthwise filter (*k, C, multiplier) -> (C*multiplier, 1, *k): output channel c*multiplier + m."""
    rank = len(kernel)
    return (
        steps.Reshape((*kernel, channels * multiplier, 1), (*kernel, channels, multiplier)),
        steps.Transpose((rank, rank + 1, *range(rank))),
    )


def filter_steps(mapped: Mapped) -> tuple:
    """Per op of a tf.nn mapping: the steps from its filter array to the canonical weight (None: no filter)."""
    found = []
    for index, op in enumerate(mapped.ops):
        if op.weightless:
            found.append(None)
        elif depthwise_filter(mapped, index):
            found.append(depthwise_steps(op.kernel, op.in_channels, op.out_channels // max(op.in_channels, 1)))
        else:
            found.append(filters_steps(op.rank))
    return tuple(found)


def depthwise_filter(mapped: Mapped, index: int) -> bool:
    """Whether op ``index`` takes a depthwise filter (depthwise_conv2d, separable_conv2d's first)."""
    return index == 0 and (mapped.layer == "separable" or "depthwise" in mapped.call.base)


def input_steps(mapped: Mapped) -> tuple:
    """The input as given (extra leading batch dims, an unbatched image) -> canonical (N, C, *spatial)."""
    first = mapped.ops[0]
    given = tuple(mapped.given_input_shape)
    reshape = (steps.Reshape(first.input_shape, given),) if given != first.input_shape else ()
    return (*reshape, steps.Transpose(first.in_spec))


def output_steps(mapped: Mapped) -> tuple:
    """Canonical y -> the call's output layout and shape (extra batch dims, an unbatched image)."""
    last = mapped.ops[-1]
    shape = arith.output_shape(last)
    back = steps.inverse((steps.Transpose(last.out_spec),))
    final = tuple(mapped.output_shape)
    return (*back, steps.Reshape(final, shape)) if final != shape else back


# -- tf.nn as the source -------------------------------------------------------------------------------------------


def source(mapped: Mapped) -> Source:
    """The call's tensors by name -> canonical arrays and back; ``run`` calls the real tf.nn function."""
    from ..reference.adapters import array_names, input_name

    names = [name for _, name in array_names(mapped.call)]
    x_name = input_name(mapped)
    roles = {param: value.dotted for param, value in mapped.arguments if isinstance(value, Name)}
    filters = [roles.get(key) for key in ("filters", "filter", "depthwise_filter", "pointwise_filter") if key in roles]
    per_op = filter_steps(mapped)
    pairs, notes = [], []
    for index, layout in enumerate(per_op):
        if layout is None:
            pairs.append("(None, None)")
            continue
        name = filters[index]
        pairs.append(f"({steps.code(layout, name)}, None)")
        notes.append(
            f"{name}: tf.nn filter layout -> canonical {'(C*multiplier, 1, *k)' if len(layout) > 1 else '(out, in, *k)'}."
        )
    lines = (
        f"x = {steps.code(input_steps(mapped), x_name)}",
        f"params = [{', '.join(pairs)}]",
    )
    return Source(
        signature=", ".join(names),
        to_canonical=lines,
        from_canonical=(f"y = {steps.code(output_steps(mapped), 'y')}",),
        run_imports=IMPORTS,
        run=(f"y = {run_text(mapped, set(names))}",),
        notes=(f"{x_name}: {mapped.layout or 'channels-last'} -> canonical (N, C, *spatial).", *notes),
    )


def run_text(mapped: Mapped, arrays: set) -> str:
    """The call written out from its parsed values: tensors as float32 constants, shape references
    as the sizes they name; the result as a NumPy array (max_pool_with_argmax: its output)."""
    call = mapped.call
    names = [param for param, _ in mapped.arguments]

    def text(param: str, value) -> str:
        if isinstance(value, Name) and value.dotted in arrays:
            return f"tf.constant({value.dotted}, tf.float32)"
        if holds_shape(value):
            return repr(list(mapped.output_shape) if param == "output_shape" else list(mapped.ops[0].out_size))
        return repr(value)

    items = [text(names[i], value) for i, value in enumerate(call.args)]
    items += [f"{key}={text(key, value)}" for key, value in call.kwargs]
    function = "tf.image.resize" if call.base == "resize" else f"tf.nn.{call.base}"
    picked = "[0]" if call.base == "max_pool_with_argmax" else ""
    return f"{function}({', '.join(items)}){picked}.numpy()"


def holds_shape(value) -> bool:
    if isinstance(value, ShapeRef):
        return True
    return isinstance(value, (list, tuple)) and any(holds_shape(item) for item in value)


# -- emit: one tf.nn call whose mapping is the op --------------------------------------------------------------


def emit(op: ConvOp) -> str:
    """The tf.nn call (tensors ``x`` and ``w``, shapes from ``emit_shapes``) that maps onto ``op``."""
    return emitted(op)[0]


def emit_shapes(op: ConvOp) -> dict:
    """The shapes= of ``emit(op)``'s tensors."""
    return emitted(op)[1]


def emitted(op: ConvOp, x: str = "x", w: str = "w") -> tuple[str, dict]:
    """(call text, shapes) of the first candidate spelling convarith maps onto exactly ``op``, checked with the
    tensors named x and w (the shapes' keys), written with the expressions ``x`` and ``w``."""
    from ..api import map_call

    if op.rank and op.in_spec != channels_last(op.rank):
        raise refuse(
            LABEL,
            f"the op's layout {op.in_spec} is channels-first",
            CPU_RULE,
            "transpose the input to channels-last (the translation's target code does)",
        )
    tried = candidates(op)
    for template, shapes in tried:
        try:
            mapped = map_call(template.format(x="x", w="w"), shapes=shapes)
        except ConvArithError:
            continue
        if mapped.ops == (op,) and not (mapped.space_to_batch and max(op.stride) > 1):  # (strided space-to-batch
            return template.format(x=x, w=w), shapes  # windows are not the op's)
    closest = tried[0][0].format(x=x, w=w) if tried else "none"
    raise refuse(
        LABEL,
        f"no single tf.nn call maps onto this {op.kind} op (kernel {op.kernel}, stride {op.stride}, dilation "
        f"{op.dilation}, pads {op.pad_lo}/{op.pad_hi}, groups {op.groups})",
        "each tf.nn function takes only its own padding spellings, strides and dilations",
        f"explicit pad/crop steps around a call such as {closest} (tf_nn.target writes them)",
    )


def pairs_text(lo, hi) -> str:
    """Full-rank channels-last padding [[0, 0], [lo, hi], ..., [0, 0]]."""
    return repr([[0, 0], *([a, b] for a, b in zip(lo, hi)), [0, 0]])


def candidates(op: ConvOp) -> list:
    """(call template with {x} and {w}, shapes) in order of preference; each is checked by mapping."""
    r = op.rank
    x_shape = op.input_shape
    paddings = ["'SAME'", "'VALID'"]
    explicit = pairs_text(op.pad_lo, op.pad_hi) if min(op.pad_lo + op.pad_hi, default=0) >= 0 else None
    if op.bias or op.lhs_dilation != (1,) * r or op.batch_groups != 1 or op.pad_mode != "zeros":
        return []
    found = []
    if op.kind == "conv" and op.rounding == "floor" and op.groups:
        k, s, d = list(op.kernel), list(op.stride), list(op.dilation)
        c, o, g = op.in_channels, op.out_channels, op.groups
        dilated = d != [1] * r
        if g == c and c and o % c == 0 and r == 2 and s[0] == s[1]:
            shapes = {"x": x_shape, "w": (*k, c, o // c)}
            for pad in paddings + ([explicit] if explicit else []):
                rate = f", dilations={d}" if dilated else ""
                found.append((f"tf.nn.depthwise_conv2d({{x}}, {{w}}, strides={[1, *s, 1]}, padding={pad}{rate})",
                              shapes))  # fmt: skip
        shapes = {"x": x_shape, "w": (*k, c // g, o)}
        if r == 1:
            for pad in paddings:
                rate = f", dilations={d[0]}" if dilated else ""
                found.append((f"tf.nn.conv1d({{x}}, {{w}}, stride={s[0]}, padding={pad}{rate})", shapes))
        elif r == 2:
            for pad in paddings + ([explicit] if explicit else []):
                rate = f", dilations={[1, *d, 1]}" if dilated else ""
                found.append((f"tf.nn.conv2d({{x}}, {{w}}, strides={[1, *s, 1]}, padding={pad}{rate})", shapes))
        elif r == 3:
            for pad in paddings:
                if d == [1] * 3:
                    found.append((f"tf.nn.conv3d({{x}}, {{w}}, strides={[1, *s, 1]}, padding={pad})", shapes))
                else:
                    found.append(
                        (f"tf.nn.convolution({{x}}, {{w}}, strides={s}, padding={pad}, dilations={d})", shapes)
                    )
    elif op.kind == "conv_transpose" and op.groups == 1 and op.dilation == (1,) * r and 1 <= r <= 3:
        out = [op.batch, *arith.output_spatial(op), op.out_channels]
        shapes = {"x": x_shape, "w": (*op.kernel, op.out_channels, op.in_channels)}
        for pad in paddings + ([explicit] if explicit and r == 2 else []):
            found.append((f"tf.nn.conv{r}d_transpose({{x}}, {{w}}, output_shape={out}, strides={list(op.stride)}, "
                          f"padding={pad})", shapes))  # fmt: skip
    elif op.kind in ("max_pool", "avg_pool") and op.rounding == "floor" and 1 <= r <= 3:
        k, s = list(op.kernel), list(op.stride)
        shapes = {"x": x_shape}
        if op.dilation != (1,) * r:
            if op.stride == (1,) * r:
                kind = "MAX" if op.kind == "max_pool" else "AVG"
                found.append((f"tf.nn.pool({{x}}, window_shape={k}, pooling_type={kind!r}, padding='VALID', "
                              f"dilations={list(op.dilation)})", shapes))  # fmt: skip
        else:
            allowed = paddings + ([explicit] if explicit and op.kind == "max_pool" and r <= 2 else [])
            for pad in allowed:
                found.append((f"tf.nn.{op.kind}{r}d({{x}}, ksize={k}, strides={s}, padding={pad})", shapes))
    elif op.kind in ("depth_to_space", "space_to_depth") and r == 2 and op.kernel[0] == op.kernel[1]:
        if op.block_order == "DCR":
            found.append((f"tf.nn.{op.kind}({{x}}, block_size={op.kernel[0]})", {"x": x_shape}))
    elif op.kind == "resize" and r == 2:
        for method in RESIZE_METHODS:
            for antialias in (False, True):
                flag = ", antialias=True" if antialias else ""
                found.append((f"tf.image.resize({{x}}, size={list(op.out_size)}, method={method!r}{flag})",
                              {"x": x_shape}))  # fmt: skip
    return found


# -- tf.nn as the target -------------------------------------------------------------------------------------------


class Writer:
    """The body being written: lines, the TF calls in order (as written, on the tensor h), a note per extra step."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.calls: list[str] = []
        self.notes: list[str] = []
        self.main = ""
        self.first = ""  # the first line calling TF: the main call where no step names one

    def line(self, text: str, call: str | None = None, note: str | None = None) -> None:
        """One line; ``call`` (any non-empty value) marks it as a TF step, listed in ``calls`` as written."""
        self.lines.append(text)
        if call:
            self.calls.append(text.partition(" = ")[2])
            self.first = self.first or text.partition(" = ")[2]
        if note and note not in self.notes:
            self.notes.append(note)


def to_last(rank: int) -> tuple[int, ...]:
    """Canonical (N, C, *spatial) -> channels-last."""
    return (0, *range(2, rank + 2), 1)


def from_last(rank: int) -> tuple[int, ...]:
    return (0, rank + 1, *range(1, rank + 1))


def last_form(op: ConvOp, **changes) -> ConvOp:
    """``op`` as a tf.nn call would carry it: channels-last, with ``changes``."""
    spec = channels_last(op.rank)
    return op.with_(in_spec=spec, out_spec=spec, **changes)


def target(mapped: Mapped) -> Target:
    """Canonical x, params -> canonical y with tf.nn functions on NHWC tensors."""
    writer = Writer()
    first = mapped.ops[0]
    writer.line(f"h = tf.constant(np.transpose(x, {to_last(first.rank)}), tf.float32)",
                note="The input goes channels-last (TensorFlow's CPU layout) and back at the end.")  # fmt: skip
    for index, op in enumerate(mapped.ops):
        translate_op(writer, op, index)
    activation(writer, mapped)
    last = mapped.ops[-1]
    writer.line(f"y = np.transpose(h.numpy(), {from_last(last.rank)})")
    return Target(
        call=writer.main or writer.first,
        imports=IMPORTS,
        body=tuple(writer.lines),
        notes=tuple(writer.notes),
        calls=tuple(writer.calls),
    )


def translate_op(writer: Writer, op: ConvOp, index: int) -> None:
    out = arith.output_spatial(op)
    if min(out, default=1) <= 0 or 0 in (op.batch, op.out_channels, op.in_channels):
        shape = (op.batch // op.batch_groups, *(max(n, 0) for n in out), op.out_channels)
        writer.line(f"h = tf.zeros({shape})", "tf.zeros",
                    "The output is empty or reads no channel (a size of 0), so it is made directly.")  # fmt: skip
    elif op.kind == "conv":
        conv(writer, op, index)
    elif op.kind == "conv_transpose":
        conv_transpose(writer, op, index)
    elif op.kind in ("max_pool", "min_pool", "avg_pool", "sum_pool", "lp_pool"):
        if op.rank > 3:
            folded_pool(writer, op)
        else:
            pool(writer, op)
    elif op.kind in ("adaptive_max_pool", "adaptive_avg_pool"):
        adaptive(writer, op)
    elif op.kind == "pad":
        pad_op(writer, op)
    elif op.kind in ("depth_to_space", "space_to_depth"):
        blocks(writer, op)
    elif op.kind == "resize":
        resize(writer, op)
    elif op.kind == "unfold":
        unfold(writer, op)
    elif op.kind == "fold":
        fold(writer, op, index)
    elif op.kind == "max_unpool":
        unpool(writer, op, index)
    else:
        raise refuse(
            LABEL,
            f"a {op.kind} op has no tf.nn counterpart",
            "the tf.nn target writes convolutions, pools, padding, rearranging, resizing, unfold, fold and unpooling",
            "translate to another framework",
        )
    if op.bias:
        writer.line(f"h = tf.nn.bias_add(h, np.asarray(params[{index}][1], np.float32))", "tf.nn.bias_add")


# -- shared steps: spreading, cropping, padding, the window geometry -----------------------------------------------


def check_table(count: int, what: str) -> None:
    """Refuse writing a table of more than TABLE_LIMIT entries into the code."""
    if count > TABLE_LIMIT:
        raise refuse(
            LABEL,
            f"{what} would be written out as {count} entries",
            f"the tf.nn code lists such tables only up to {TABLE_LIMIT} entries",
            "a smaller size, or translate to a framework with this op (torch, onnx)",
        )


def index_text(rank: int, slices: list[str]) -> str:
    """h[:, <slices>, :] over the spatial axes of a channels-last tensor."""
    return "h[:, " + ", ".join(slices) + ", :]"


def spread(writer: Writer, op: ConvOp, fill: str) -> tuple[int, ...]:
    """lhs_dilation: ``fill`` between input cells, axis by axis (TF has no lhs-dilated conv); the new sizes."""
    sizes = list(op.in_size)
    for axis, step in enumerate(op.lhs_dilation):
        if step == 1:
            continue
        n = sizes[axis]
        shape = (op.batch, *sizes, op.in_channels)
        grown = list(shape)
        grown[axis + 1] = n * step
        where = ", ".join([":"] * (axis + 2) + ["None"]) + ", :"
        pads = [[0, 0]] * (axis + 2) + [[0, step - 1]] + [[0, 0]] * (op.rank - axis)
        sizes[axis] = arith.dilated_size(n, step)
        keep = [":"] * op.rank
        keep[axis] = f":{sizes[axis]}"
        writer.line(
            f"h = tf.reshape(tf.pad(h[{where}], {pads}, constant_values={fill}), {tuple(grown)})[:, {', '.join(keep)}, :]",
            "tf.pad",
            f"lhs_dilation {op.lhs_dilation}: {fill} is spread between the input cells (TensorFlow has no "
            "lhs-dilated convolution).",
        )
    return tuple(sizes)


def geometry(op: ConvOp, sizes: tuple[int, ...]):
    """Per axis (crop_lo, crop_hi, pad_lo, pad_hi, declared_hi): the windows of ``op`` over an input of
    ``sizes`` as a floor-rounded window op on a cropped and padded input; ``declared_hi`` of pad_hi is the
    op's own padding, the rest cells past it (ceil/trunc rounding), which never count."""
    out = arith.output_spatial(op)
    result = []
    for n, k, d, s, lo, hi, m in zip(sizes, op.kernel, op.dilation, op.stride, op.pad_lo, op.pad_hi, out):
        k_eff = arith.effective_kernel(k, d)
        if lo >= 0 and hi >= 0 and arith.windows_in(n + lo + hi, k_eff, s) == m:
            result.append((0, 0, lo, hi, hi))
            continue
        start, end = -lo, (m - 1) * s - lo + k_eff
        crop_lo, crop_hi = min(max(start, 0), n), max(min(n - end, n - max(start, 0)), 0)
        pad_lo, pad_hi = crop_lo - start, end - (n - crop_hi)
        if pad_lo < 0:
            raise refuse(
                LABEL,
                f"the windows start {start} cells into an input of {n}, past its end",
                "a window op reads the input cells its windows cover",
                "less negative padding",
            )
        result.append((crop_lo, crop_hi, pad_lo, pad_hi, min(max(hi, 0), pad_hi)))
    return result


def crop(writer: Writer, cuts, sizes) -> tuple[int, ...]:
    """Slice away cells no window reads (negative padding); the new sizes."""
    if not any(a or b for a, b, *_ in cuts):
        return tuple(sizes)
    slices = [f"{a}:{n - b}" if a or b else ":" for (a, b, *_), n in zip(cuts, sizes)]
    writer.line(f"h = {index_text(len(sizes), slices)}", "slice",
                "Negative padding crops the input: a slice (tf.nn takes no negative padding).")  # fmt: skip
    return tuple(n - a - b for (a, b, *_), n in zip(cuts, sizes))


def pad(writer: Writer, lo, hi, mode: str = "zeros", value: str = "0.0", why: str = "", sizes=()) -> None:
    """Pad the spatial axes in TensorFlow's own ops: tf.pad (constant or REFLECT), edge copies, wrap-around."""
    if not any(lo) and not any(hi):
        return
    if (mode == "zeros" and len(lo) > 4) or (mode == "reflect" and len(lo) > 3):  # one axis at a time, in a 3-D
        # view: tf.pad takes tensors of rank <= 6, its REFLECT mode (MirrorPad) rank <= 5 (measured)
        how = f"constant_values={value}" if mode == "zeros" else "mode='REFLECT'"
        for axis, (a, b) in enumerate(zip(lo, hi)):
            if a or b:
                t = axis + 1
                writer.line(
                    f"h = tf.reshape(tf.pad(tf.reshape(h, (-1, h.shape[{t}], int(np.prod(h.shape[{t + 1}:])))), "
                    f"[[0, 0], [{a}, {b}], [0, 0]], {how}), (*h.shape[:{t}], h.shape[{t}] + {a + b}, "
                    f"*h.shape[{t + 1}:]))",
                    "tf.pad",
                    f"{why} tf.pad takes at most 6 axes (REFLECT 5): each padded axis is padded in a 3-D view.".strip(),
                )
        return
    if mode == "zeros":
        fill = "" if value == "0.0" else f", constant_values={value}"
        writer.line(f"h = tf.pad(h, {pairs_text(lo, hi)}{fill})", "tf.pad", why)
    elif mode == "reflect":
        writer.line(f"h = tf.pad(h, {pairs_text(lo, hi)}, mode='REFLECT')", "tf.pad", why)
    else:
        for axis, (a, b) in enumerate(zip(lo, hi)):
            if not a and not b:
                continue
            t = axis + 1
            before = [":"] * (len(lo) + 2)
            after = list(before)
            if mode == "replicate":
                before[t], after[t] = "0:1", "-1:"
                parts = [f"tf.repeat(h[{', '.join(before)}], {a}, axis={t})", "h",
                         f"tf.repeat(h[{', '.join(after)}], {b}, axis={t})"]  # fmt: skip
                how = "edge cells repeated with tf.repeat (tf.pad has no replicate mode)"
            elif max(a, b) > sizes[axis]:  # wraps more than once
                check_table(a + sizes[axis] + b, f"the cells circular padding copies on axis {axis}")
                cells = [i % sizes[axis] for i in range(-a, sizes[axis] + b)]
                writer.line(f"h = tf.gather(h, {cells}, axis={t})", "tf.gather",
                            f"{why} wrapping around more than once: the cells gathered (tf.pad has no circular "
                            "mode).".strip())  # fmt: skip
                continue
            else:
                before[t], after[t] = f"h.shape[{t}] - {a}:", f":{b}"
                parts = [f"h[{', '.join(before)}]", "h", f"h[{', '.join(after)}]"]
                how = "the other end's cells concatenated (tf.pad has no circular mode)"
            kept = [part for part, size in zip(parts, (a, 1, b)) if size]
            writer.line(f"h = tf.concat([{', '.join(kept)}], axis={t})", "tf.concat", f"{why} {how}.".strip())


def padded(op: ConvOp) -> ConvOp:
    """``op`` on its input already padded by tf.pad: the padded sizes, no padding of its own."""
    sizes = tuple(n + a + b for n, a, b in zip(op.in_size, op.pad_lo, op.pad_hi))
    return op.with_(in_size=sizes, pad_lo=(0,) * op.rank, pad_hi=(0,) * op.rank)


def call_op(op: ConvOp, x: str = "h", w: str = "w") -> str | None:
    """The emitted tf.nn call on ``x`` (and ``w``) computing ``op`` (channels-last form), or None."""
    try:
        return emitted(op, x, w)[0]
    except ConvArithError:
        return None


def split_text(c: int) -> str:
    """The channel slice of group i (the ``i`` of a comprehension over the groups)."""
    return f"[..., i * {c}:(i + 1) * {c}]"


# -- convolution ---------------------------------------------------------------------------------------------------


def conv(writer: Writer, op: ConvOp, index: int) -> None:
    """Spread (lhs_dilation), crop, pad (mode), then the tf.nn call: TF's own padding where it is the op's,
    else tf.pad first; a stride TF refuses with the dilation taken by slicing; groups and batch groups
    split where TF has no kernel for them."""
    rank = op.rank
    sizes = spread(writer, op, "0.0")
    cuts = geometry(op, sizes)
    sizes = crop(writer, cuts, sizes)
    lo, hi = tuple(c[2] for c in cuts), tuple(c[3] for c in cuts)
    core = last_form(op, in_size=sizes, pad_lo=lo, pad_hi=hi, lhs_dilation=(1,) * rank, rounding="floor",
                     bias=False, pad_mode="zeros")  # fmt: skip
    if op.pad_mode != "zeros":
        pad(writer, lo, hi, op.pad_mode, why=f"padding_mode {op.pad_mode!r}: the input is padded first.", sizes=sizes)
        core = padded(core)
    bg = op.batch_groups
    if bg > 1:
        if op.groups > 1:
            raise refuse(LABEL, f"feature_group_count={op.groups} with batch_group_count={bg}",
                         "the tf.nn target splits one kind of group at a time", "one of them 1")  # fmt: skip
        core = core.with_(batch=op.batch // bg, out_channels=op.out_channels // bg, batch_groups=1)
    w = f"w{index}"
    pre_padded, strided, split, part, text = conv_variant(core, w)
    weights(writer, index, "conv", op, text.startswith("tf.nn.depthwise_conv2d"))
    if pre_padded:
        pad(writer, core.pad_lo, core.pad_hi, why="The padding TF's own spellings do not give is added by tf.pad.")
    if split:
        c, o = part.in_channels, part.out_channels
        text = call_op(part, "h" + split_text(c), w + split_text(o))
        writer.line(f"h = tf.concat([{text} for i in range({op.groups})], axis=-1)", text.partition("(")[0],
                    f"groups={op.groups}: one call per group, concatenated (TensorFlow's CPU kernel here takes no "
                    "groups).")  # fmt: skip
    elif bg > 1:
        n, o = core.batch, core.out_channels
        text = call_op(part, f"h[i * {n}:(i + 1) * {n}]", w + split_text(o))
        writer.line(f"h = tf.concat([{text} for i in range({bg})], axis=-1)", text.partition("(")[0],
                    f"batch_group_count={bg}: the batch is split into {bg} groups, each with its share of the output "
                    "channels, concatenated.")  # fmt: skip
    else:
        writer.line(f"h = {text}", text.partition("(")[0])
    writer.main = writer.main or text
    if strided:
        writer.line(f"h = {index_text(rank, [f'::{s}' for s in core.stride])}", "slice",
                    f"strides {core.stride}: TF refuses them with this dilation, so the stride-1 result is "
                    "subsampled.")  # fmt: skip


def conv_variant(core: ConvOp, w: str):
    """(padded, strided, split, op, call) of the first form TF computes: its own padding, else tf.pad
    first; the stride, else stride 1 then slicing; all groups at once, else one call per group."""
    rank = core.rank
    for pre_padded in (False, True):
        if pre_padded and not any(core.pad_lo + core.pad_hi):
            continue
        geo = padded(core) if pre_padded else core
        for strided in (False, True):
            if strided and geo.stride == (1,) * rank:
                continue
            variant = geo.with_(stride=(1,) * rank) if strided else geo
            for split in (False, True):
                if split and variant.groups == 1:
                    continue
                g = variant.groups
                part = variant.with_(in_channels=variant.in_channels // g, out_channels=variant.out_channels // g,
                                     groups=1) if split else variant  # fmt: skip
                text = call_op(part, "h", w)
                if text is not None:
                    return pre_padded, strided, split, part, text
    raise refuse(
        LABEL,
        f"no tf.nn call computes this conv (kernel {core.kernel}, stride {core.stride}, dilation {core.dilation}, "
        f"groups {core.groups})",
        "tf.nn's CPU kernels refuse it in every form tried (padded, stride 1, per group)",
        "a smaller dilation or stride",
    )


def weights(writer: Writer, index: int, kind: str, op: ConvOp, depthwise: bool, weight: str = "") -> None:
    """The canonical weight (``weight``, else the op's params) in tf.nn's filter layout (the inverse of the
    source steps)."""
    rank = op.rank
    if depthwise:
        layout = steps.inverse(depthwise_steps(op.kernel, op.in_channels, op.out_channels // op.in_channels))
        what = "(C*multiplier, 1, kh, kw) -> depthwise (kh, kw, C, multiplier)"
    else:
        layout = steps.inverse(filters_steps(rank))
        what = (
            "(in, out/groups, *k) -> (*k, out/groups, in)"
            if kind == "conv_transpose"
            else "(out, in/groups, *k) -> (*k, in/groups, out)"
        )
    weight = weight or f"np.asarray(params[{index}][0], np.float32)"
    writer.line(f"w{index} = {steps.code(layout, weight)}",
                note=f"The weight goes from canonical {what}, tf.nn's filter layout.")  # fmt: skip


# -- transposed convolution ------------------------------------------------------------------------------------------


def conv_transpose(writer: Writer, op: ConvOp, index: int, weight: str = "") -> None:
    """tf.nn.conv*_transpose: TF's own padding where it is the op's; else VALID with output_shape chosen
    (up to stride - 1 extra cells at the end), then the op's window cropped by slicing and cells beyond
    the kernel's reach added by tf.pad; a dilated kernel spread with zeros; groups one call each."""
    rank = op.rank
    if op.lhs_dilation != (1,) * rank or op.batch_groups != 1:
        raise refuse(LABEL, "a transposed convolution with lhs_dilation or batch groups",
                     "tf.nn.conv_transpose has neither", "translate to jax")  # fmt: skip
    weights(writer, index, "conv_transpose", op, False, weight)
    w = f"w{index}"
    k_eff = tuple(arith.effective_kernel(k, d) for k, d in zip(op.kernel, op.dilation))
    if op.dilation != (1,) * rank:
        spaced = ", ".join(f"::{d}" for d in op.dilation)
        writer.line(f"spread = np.zeros({(*k_eff, op.out_channels // op.groups, op.in_channels)}, np.float32)",
                    note=f"dilation {op.dilation}: the kernel is spread with zeros (TF's CPU transposed convolution "
                    "takes no dilation).")  # fmt: skip
        writer.line(f"spread[{spaced}] = {w}")
        writer.line(f"{w} = spread")
    groups = op.groups
    core = last_form(op, kernel=k_eff, dilation=(1,) * rank, bias=False, groups=1,
                     in_channels=op.in_channels // groups, out_channels=op.out_channels // groups)  # fmt: skip
    x_text, w_text = ("h" + split_text(core.in_channels), w + split_text(core.in_channels)) if groups > 1 else ("h", w)
    text = call_op(core, x_text, w_text)
    cuts = grow = [(0, 0)] * rank
    if text is None:
        full = tuple((n - 1) * s + k for n, s, k in zip(op.in_size, op.stride, k_eff))
        starts = op.pad_lo
        ends = tuple(a + m for a, m in zip(starts, arith.output_spatial(op)))
        tf_out = tuple(min(max(e, f), f + s - 1) for e, f, s in zip(ends, full, op.stride))
        plain = core.with_(pad_lo=(0,) * rank, pad_hi=(0,) * rank,
                           output_padding=tuple(t - f for t, f in zip(tf_out, full)))  # fmt: skip
        text = call_op(plain, x_text, w_text)
        if text is None:
            raise refuse(LABEL, f"no tf.nn transposed call of rank {rank} computes this op",
                         "tf.nn.conv_transpose takes 1 to 3 spatial axes", "translate to torch")  # fmt: skip
        cuts = [(max(a, 0), t - min(e, t)) for a, e, t in zip(starts, ends, tf_out)]
        grow = [(max(-a, 0), max(e - t, 0)) for a, e, t in zip(starts, ends, tf_out)]
        writer.notes.append(
            f"output_shape {list(tf_out)} is chosen (VALID: the whole stamp of the kernels, with output_padding "
            "up to stride - 1), the op's padding is then cropped and padded around it."
        )
    if groups > 1:
        writer.line(f"h = tf.concat([{text} for i in range({groups})], axis=-1)", text.partition("(")[0],
                    f"groups={groups}: one transposed call per group, concatenated (TF's CPU kernel takes no "
                    "groups).")  # fmt: skip
    else:
        writer.line(f"h = {text}", text.partition("(")[0])
    writer.main = writer.main or text
    if any(a or b for a, b in cuts):
        slices = [f"{a}:{t - b}" if a or b else ":" for (a, b), t in zip(cuts, tf_out)]
        writer.line(f"h = {index_text(rank, slices)}", "slice",
                    "The output is cropped to the op's padding (TF's output_shape only adds cells at the end).")  # fmt: skip
    if any(a or b for a, b in grow):
        pad(writer, [a for a, _ in grow], [b for _, b in grow],
            why="Cells beyond the kernels' reach are zeros, added by tf.pad (negative padding, a large "
            "output_padding).")  # fmt: skip


# -- pooling -------------------------------------------------------------------------------------------------------


def holds_empty_windows(op: ConvOp) -> bool:
    """Whether some output window of the pool holds no input cell (only padding, holes or cells past it)."""
    return any(
        run.low == 0
        for n, k, d, s, lo, hi, out in zip(
            op.in_size, op.kernel, op.dilation, op.stride, op.pad_lo, op.pad_hi, arith.output_spatial(op)
        )
        for run in arith.divisor_runs(n, k, d, s, lo, hi, out, False)
    )


def pool(writer: Writer, op: ConvOp) -> None:
    """max/min: tf's max pool over -inf (or init value) padding; avg/sum/lp: window sums over zero padding,
    divided by the op's divisor (TF's own when it is the same)."""
    rank = op.rank
    kind = op.kind
    init = op.init_value
    if kind == "min_pool":
        writer.line("h = -h", note="A min pool is the negated max pool of -x.")
    if kind == "lp_pool":
        p = float(op.norm_p)
        inner = "h" if op.lp_mode == "signed_mean" else "tf.abs(h)"
        writer.line(f"h = tf.pow({inner}, {p!r})", "tf.pow", f"Lp pooling: the {p:g}-th powers are summed per window.")
    maxlike = kind in ("max_pool", "min_pool")
    if maxlike:
        fill = "-np.inf" if init is None or abs(init) == float("inf") else repr(-init if kind == "min_pool" else init)
    else:
        fill = "0.0"
    sizes = spread(writer, op, fill)
    cuts = geometry(op, sizes)
    sizes = crop(writer, cuts, sizes)
    lo, hi = tuple(c[2] for c in cuts), tuple(c[3] for c in cuts)
    past = any(c[3] != c[4] for c in cuts)
    declared = any(lo) or any(c[4] for c in cuts)
    base = ConvOp("max_pool" if maxlike else "avg_pool", op.batch, op.in_channels, op.in_channels, sizes, op.kernel,
                  op.stride, op.dilation, lo, hi, channels_last(rank), channels_last(rank))  # fmt: skip
    taps = prod(op.kernel)
    if maxlike:
        text = call_op(base)
        if text is None:
            pad(writer, lo, hi, value=fill, why=f"The padding is {fill} (never the max), added by tf.pad.")
            text = window_call(writer, padded(base))
        else:
            writer.line(f"h = {text}", text.partition("(")[0])
        writer.main = writer.main or text
        if init is not None and abs(init) != float("inf"):
            writer.line(f"h = tf.maximum(h, {fill})", "tf.maximum", "Every window starts from the init value.")
        elif op.empty_max == "-inf" and holds_empty_windows(op):
            writer.line("h = tf.where(h <= np.finfo(np.float32).min, -np.inf, h)", "tf.where",
                        "TensorFlow's max pool starts each window from float32's lowest value: a window holding no "
                        "input cell is set back to -inf.")  # fmt: skip
        if op.empty_max == "lowest":
            writer.line("h = tf.maximum(h, np.finfo(np.float32).min)", "tf.maximum",
                        "A window of only padding gives the lowest float32, as onnxruntime's max starts there.")  # fmt: skip
        if kind == "min_pool":
            writer.line("h = -h")
        return
    average = kind == "avg_pool" and not op.divisor_override
    if average and (not op.count_include_pad or not declared):
        text = call_op(base)
        if text is not None:
            writer.line(f"h = {text}", text.partition("(")[0])
            writer.main = writer.main or text
            return
    if average and op.count_include_pad and not past:
        pad(writer, lo, hi, why="count_include_pad: the zero padding is added by tf.pad, so TF's average counts it.")
        text = window_call(writer, padded(base))
        writer.main = writer.main or text
        return
    pad(writer, lo, hi, why="Zero padding adds nothing to the window sums (tf.pad).")
    text = window_call(writer, padded(base), scale=taps)
    writer.main = writer.main or text
    if kind == "sum_pool":
        return
    if kind == "avg_pool" and op.divisor_override:
        writer.line(f"h = h / {float(op.divisor_override)!r}", note="divisor_override divides every window sum.")
        return
    include = kind == "avg_pool" and op.count_include_pad
    mask_lo = lo if include else (0,) * rank
    mask_hi = tuple(c[4] for c in cuts) if include else (0,) * rank
    counted = f"tf.ones({(1, *(a + n + b for a, n, b in zip(mask_lo, sizes, mask_hi)), 1)})"
    rest_lo = tuple(a - b for a, b in zip(lo, mask_lo))
    rest_hi = tuple(a - b for a, b in zip(hi, mask_hi))
    if any(rest_lo) or any(rest_hi):
        counted = f"tf.pad({counted}, {pairs_text(rest_lo, rest_hi)})"
    count_call = window_text(padded(base).with_(batch=1, in_channels=1, out_channels=1), counted)
    rule = "the input's cells and the declared padding" if include else "the input's cells only"
    writer.line(f"count = tf.round({count_call} * {taps})", count_call.partition("(")[0],
                f"The divisor counts {rule} per window: the same window sum of a mask of ones (TF's own average "
                "divides otherwise).")  # fmt: skip
    if op.dilation != (1,) * rank and op.stride != (1,) * rank:
        writer.line(f"count = count[:, {', '.join(f'::{s}' for s in op.stride)}, :]")
    if kind == "avg_pool":
        writer.line("h = h / count")
    else:
        if op.lp_mode == "signed_mean":
            writer.line(
                f"h = h * ({taps}.0 / count)", note="torch's LPPool rescales a partial window to the whole kernel."
            )
        writer.line(f"h = tf.pow(h, {1.0 / float(op.norm_p)!r})", "tf.pow")


def folded_pool(writer: Writer, op: ConvOp) -> None:
    """A window over more than 3 axes (jax.lax.reduce_window over every axis): the axes it leaves alone
    (window 1, stride 1, no padding) join the batch, the others (at most 3) are pooled by tf.nn."""
    r = op.rank
    fields = ("in_size", "kernel", "stride", "dilation", "pad_lo", "pad_hi", "lhs_dilation", "output_padding")
    alone = [
        a for a in range(r)
        if (op.kernel[a], op.stride[a], op.pad_lo[a], op.pad_hi[a], op.lhs_dilation[a]) == (1, 1, 0, 0, 1)
    ]  # fmt: skip
    active = [a for a in range(r) if a not in alone] or [r - 1]
    alone = [a for a in alone if a not in active]
    if len(active) > 3:
        raise refuse(LABEL, f"a window over {len(active)} axes", "tf.nn pools 1 to 3 spatial axes",
                     "a window of 1 (stride 1, no padding) on all but 3 axes")  # fmt: skip
    kept = prod(op.in_size[a] for a in alone)
    perm = (0, *(1 + a for a in alone), *(1 + a for a in active), r + 1)
    inner = tuple(op.in_size[a] for a in active)
    writer.line(f"h = tf.reshape(tf.transpose(h, {perm}), {(op.batch * kept, *inner, op.in_channels)})", "tf.reshape",
                "The axes the window leaves alone join the batch (tf.nn pools 1 to 3 spatial axes).")  # fmt: skip
    spec = channels_last(len(active))
    part = op.with_(batch=op.batch * kept, in_spec=spec, out_spec=spec,
                    **{name: tuple(getattr(op, name)[a] for a in active) for name in fields})  # fmt: skip
    pool(writer, part)
    shape = (op.batch, *(op.in_size[a] for a in alone), *arith.output_spatial(part), op.out_channels)
    back = tuple(sorted(range(len(perm)), key=perm.__getitem__))
    writer.line(f"h = tf.transpose(tf.reshape(h, {shape}), {back})")


def window_text(op: ConvOp, tensor: str) -> str:
    """An unpadded tf.nn pool of ``tensor`` (stride 1 when TF refuses the stride with a dilation)."""
    return emitted(op if op.dilation == (1,) * op.rank else op.with_(stride=(1,) * op.rank), tensor)[0]


def window_call(writer: Writer, op: ConvOp, scale: int = 0) -> str:
    """``h = <unpadded pool>`` (times ``scale``: TF's VALID average times the taps is the window sum)."""
    rank = op.rank
    dilated = op.dilation != (1,) * rank
    text = emitted(op.with_(stride=(1,) * rank) if dilated else op, "h")[0]
    times = f" * {scale}" if scale else ""
    note = "TF's VALID average times the number of taps is the window sum." if scale else None
    writer.line(f"h = {text}{times}", text.partition("(")[0], note)
    if dilated and op.stride != (1,) * rank:
        writer.line(f"h = {index_text(rank, [f'::{s}' for s in op.stride])}", "slice",
                    f"strides {op.stride}: tf.nn.pool refuses them with a dilation, so the stride-1 result is subsampled.")  # fmt: skip
    return text


def adaptive(writer: Writer, op: ConvOp) -> None:
    """Adaptive pooling: each window [floor(i*n/m), ceil((i+1)*n/m)) reduced, axis by axis (tf.nn has none)."""
    reduce = "tf.reduce_max" if op.kind == "adaptive_max_pool" else "tf.reduce_mean"
    if all(m == 1 for m in op.out_size):
        axes = list(range(1, op.rank + 1))
        writer.line(f"h = {reduce}(h, axis={axes}, keepdims=True)", reduce, "One window per axis: a global reduction.")
        return
    for axis, (n, m) in enumerate(zip(op.in_size, op.out_size)):
        check_table(m, f"the adaptive pool's {m} windows of axis {axis}")
        windows = tuple(arith.adaptive_window(i, n, m) for i in range(m))
        where = ", ".join([":"] * (axis + 1) + ["a:b"])
        writer.line(f"h = tf.stack([{reduce}(h[{where}], axis={axis + 1}) for a, b in {windows}], axis={axis + 1})",
                    reduce, "Adaptive pooling has no tf.nn function: each window is reduced by slicing.")  # fmt: skip


def pad_op(writer: Writer, op: ConvOp) -> None:
    """Explicit padding: zeros (or pad_value) by cropping the negative sides and tf.pad; the copying modes by
    tf.pad / edge copies where the pads are within the input, else by gathering the cells each output cell
    copies (negative pads fold about the input's own edges, as torch does)."""
    sizes = op.in_size
    simple = all(0 <= a < n and 0 <= b < n for n, a, b in zip(sizes, op.pad_lo, op.pad_hi))
    if op.pad_mode == "zeros" or simple:
        cuts, lo, hi = [], [], []
        for n, a, b in zip(sizes, op.pad_lo, op.pad_hi):
            if n + min(a, 0) + min(b, 0) < 0 or n == 0:  # nothing of the input is left: every cell is the fill
                cuts.append((n, 0))
                lo.append(max(arith.pad_out(n, a, b), 0))
                hi.append(0)
            else:
                cuts.append((max(-a, 0), max(-b, 0)))
                lo.append(max(a, 0))
                hi.append(max(b, 0))
        sizes = crop(writer, cuts, sizes)
        pad(writer, lo, hi, op.pad_mode, repr(float(op.pad_value)), why=f"{op.pad_mode} padding", sizes=sizes)
        return
    from ..reference.layers import pad_sources

    for axis, (n, a, b) in enumerate(zip(sizes, op.pad_lo, op.pad_hi)):
        if (a, b) == (0, 0):
            continue
        t = axis + 1
        if n == 0:  # nothing to copy: every cell is the fill
            pairs = [[0, 0]] * (op.rank + 2)
            pairs[t] = [max(arith.pad_out(n, a, b), 0), 0]
            writer.line(f"h = tf.pad(h, {pairs}, constant_values={float(op.pad_value)!r})", "tf.pad")
            continue
        check_table(arith.pad_out(n, a, b), f"the cells {op.pad_mode} padding copies on axis {axis}")
        cells, inside = pad_sources(n, a, b, op.pad_mode)
        text = f"tf.gather(h, {cells.tolist()}, axis={t})"
        if not inside.all():  # cells with nothing to copy take the fill
            shape = (1,) * t + (len(cells),) + (1,) * (op.rank + 1 - t)
            text = f"tf.where(np.reshape({inside.tolist()}, {shape}), {text}, {float(op.pad_value)!r})"
        writer.line(f"h = {text}", "tf.gather",
                    f"{op.pad_mode} padding with negative or long pads: each output cell gathers the input cell it "
                    "copies (tf.pad takes neither).")  # fmt: skip


def blocks(writer: Writer, op: ConvOp) -> None:
    """depth_to_space / space_to_depth: tf.nn's (DCR, square 2-D blocks), else reshape and transpose."""
    text = call_op(last_form(op))
    if text is not None:
        writer.line(f"h = {text}", text.partition("(")[0])
        writer.main = writer.main or text
        return
    r, b, c = op.rank, op.kernel, op.in_channels
    n = op.batch
    if op.kind == "depth_to_space":
        inner = c // prod(b)
        split = (*b, inner) if op.block_order == "DCR" else (inner, *b)
        shape = (n, *op.in_size, *split)
        offsets = [r + 1 + i + (op.block_order == "CRD") for i in range(r)]
        chan = r + 1 + r if op.block_order == "DCR" else r + 1
        perm = (0, *sum(((1 + i, offsets[i]) for i in range(r)), ()), chan)
        final = (n, *(s * k for s, k in zip(op.in_size, b)), inner)
    else:
        shape = (n, *sum(((s // k, k) for s, k in zip(op.in_size, b)), ()), c)
        cells = tuple(1 + 2 * i for i in range(r))
        offs = tuple(2 + 2 * i for i in range(r))
        perm = (0, *cells, *offs, 2 * r + 1) if op.block_order == "DCR" else (0, *cells, 2 * r + 1, *offs)
        final = (n, *(s // k for s, k in zip(op.in_size, b)), c * prod(b))
    writer.line(f"h = tf.reshape(tf.transpose(tf.reshape(h, {shape}), {perm}), {final})", "tf.reshape",
                f"{op.kind} with {op.block_order} order and blocks {b}: reshape and transpose (tf.nn's takes square "
                "2-D DCR blocks only).")  # fmt: skip


def resize(writer: Writer, op: ConvOp) -> None:
    """tf.image.resize with the method whose sampling is the op's (float32 arithmetic aside); otherwise each
    axis gathered (tf.gather) at the cells the op's rule samples and weighed, the cells and weights written out."""
    from ..api import map_call

    for template, shapes in candidates(last_form(op)):
        text = template.format(x="x", w="w")
        try:
            mapped = map_call(text, shapes=shapes)
        except ConvArithError:
            continue
        if mapped.ops[0].with_(resize_arith=op.resize_arith) == last_form(op):
            text = text.replace("(x,", "(h,", 1)
            writer.line(f"h = {text}", "tf.image.resize")
            writer.main = writer.main or text
            return
    gathered(writer, op)


def gathered(writer: Writer, op: ConvOp) -> None:
    """A resize no tf.image.resize method gives: per axis (the last first, as the reference), the sampled
    cells gathered and summed with their weights."""
    from ..reference import resize as sampled

    what = sampled.unsupported(op)
    if what:
        raise refuse(LABEL, f"resize with {what}", "the tf.nn target writes the resizes convarith reproduces",
                     "another mode")  # fmt: skip
    for axis in reversed(range(op.rank)):
        check_table(op.out_size[axis], f"the resize's sampling table of axis {axis}")
        found = sampled.filtered(op, axis)
        cells, weights = found if found is not None else sampled.sampling(op, axis)
        t = axis + 1
        out, taps = cells.shape
        check_table(cells.size, f"the resize's sampling table of axis {axis}")
        if taps == 1 and (weights == 1).all():
            if out == op.in_size[axis] and cells[:, 0].tolist() == list(range(out)):
                continue  # the axis is copied
            writer.line(f"h = tf.gather(h, {cells[:, 0].tolist()}, axis={t})", "tf.gather")
            continue
        shape = (out, taps) + (1,) * (op.rank - axis)
        weights32 = weights.astype("float32").tolist()
        writer.line(f"h = tf.reduce_sum(tf.gather(h, {cells.tolist()}, axis={t}) * np.reshape(np.array({weights32}, "
                    f"np.float32), {shape}), axis={t + 1})", "tf.gather")  # fmt: skip
    if op.resize_arith == "torch" and op.antialias and op.out_size[-1] == 1 and op.in_size[0] != op.out_size[0]:
        writer.line(f"h = tf.repeat(h[:, :1], {op.out_size[0]}, axis=1)", "tf.repeat",
                    "torch's antialiased vertical pass on a 1-wide output repeats row 0 (measured).")  # fmt: skip
    writer.notes.append(
        f"No tf.image.resize method samples as this {op.resize_mode} resize ({op.coordinate}): each axis gathers the "
        "cells the rule reads (tf.gather) and weighs them, the cells and weights written out."
    )


def fold(writer: Writer, op: ConvOp, index: int) -> None:
    """col2im (fold) has no tf.nn function: it is the transposed convolution whose kernel is one-hot, input
    channel c*K + t feeding output channel c at kernel offset t; output_padding reaches the size asked."""
    c, taps = op.out_channels, prod(op.kernel)
    k_eff = [arith.effective_kernel(k, d) for k, d in zip(op.kernel, op.dilation)]
    reach = [arith.transpose_out(n, k, s, a, b, 0) for n, k, s, a, b in zip(op.in_size, k_eff, op.stride, op.pad_lo,
                                                                              op.pad_hi)]  # fmt: skip
    transposed = op.with_(
        kind="conv_transpose", out_size=(), output_padding=tuple(m - r for m, r in zip(op.out_size, reach))
    )
    writer.line(f"onehot = np.einsum('ab,tk->atbk', np.eye({c}, dtype=np.float32), np.eye({taps}, dtype=np.float32))"
                f".reshape({(c * taps, c, *op.kernel)})",
                note="fold sums each block into place: a transposed convolution with a one-hot kernel (channel "
                "c*K + t goes to channel c at kernel offset t).")  # fmt: skip
    conv_transpose(writer, transposed, index, "onehot")


def unpool(writer: Writer, op: ConvOp, index: int) -> None:
    """Max unpooling: each value scattered to the flat position of its (N, C) plane its index names
    (params[index][0], canonical (N, C, *in)), every other cell 0 (tf.tensor_scatter_nd_update)."""
    r, n, c = op.rank, op.batch, op.in_channels
    out = arith.output_spatial(op)
    planes, cells = n * c, prod(out)
    writer.line(f"where = np.asarray(params[{index}][0], np.int64).reshape({planes}, -1)",
                note="Max unpooling has no tf.nn function: the values are scattered to the positions their indices "
                "name (tf.tensor_scatter_nd_update; a repeated index keeps one of its values).")  # fmt: skip
    writer.line("where = np.stack([np.repeat(np.arange(where.shape[0]), where.shape[1]), where.reshape(-1)], axis=1)")
    values = f"tf.reshape(tf.transpose(h, {from_last(r)}), [-1])"
    writer.line(f"h = tf.tensor_scatter_nd_update(tf.zeros({(planes, cells)}), where, {values})",
                "tf.tensor_scatter_nd_update")  # fmt: skip
    writer.line(f"h = tf.transpose(tf.reshape(h, {(n, c, *out)}), {to_last(r)})")


def unfold(writer: Writer, op: ConvOp) -> None:
    """im2col: tf.image.extract_patches (2-D) over the padded input, channels reordered to c*K + offset."""
    if op.rank != 2:
        raise refuse(LABEL, f"unfold of {op.rank} spatial axes", "tf.image.extract_patches is 2-D", "a 2-D input")
    cuts = geometry(op, op.in_size)
    crop(writer, cuts, op.in_size)
    pad(writer, [c[2] for c in cuts], [c[3] for c in cuts], why="The padding is added by tf.pad.")
    out = arith.output_spatial(op)
    taps, c = prod(op.kernel), op.in_channels
    text = (f"tf.image.extract_patches(h, sizes={[1, *op.kernel, 1]}, strides={[1, *op.stride, 1]}, "
            f"rates={[1, *op.dilation, 1]}, padding='VALID')")  # fmt: skip
    writer.line(f"h = {text}", "tf.image.extract_patches")
    writer.line(f"h = tf.reshape(tf.transpose(tf.reshape(h, {(op.batch, *out, taps, c)}), (0, 1, 2, 4, 3)), "
                f"{(op.batch, *out, c * taps)})", "tf.reshape",
                "extract_patches orders a patch (kernel offset, channel); the op's order is (channel, offset).")  # fmt: skip
    writer.main = writer.main or text


# -- activations -------------------------------------------------------------------------------------------------

ACTIVATIONS = {
    "linear": "",
    "relu": "tf.nn.relu(h)",
    "relu6": "tf.nn.relu6(h)",
    "leaky_relu": "tf.nn.leaky_relu(h, alpha=0.2)",
    "elu": "tf.nn.elu(h)",
    "selu": "tf.nn.selu(h)",
    "celu": "tf.nn.relu(h) + tf.math.expm1(tf.minimum(h, 0.0))",
    "gelu": "tf.nn.gelu(h, approximate=False)",
    "sigmoid": "tf.nn.sigmoid(h)",
    "hard_sigmoid": "tf.nn.relu6(h + 3.0) / 6.0",
    "sparse_sigmoid": "tf.clip_by_value(0.5 * (h + 1.0), 0.0, 1.0)",
    "log_sigmoid": "tf.math.log_sigmoid(h)",
    "silu": "tf.nn.silu(h)",
    "hard_silu": "h * tf.nn.relu6(h + 3.0) / 6.0",
    "mish": "h * tf.math.tanh(tf.nn.softplus(h))",
    "tanh": "tf.math.tanh(h)",
    "hard_tanh": "tf.clip_by_value(h, -1.0, 1.0)",
    "tanh_shrink": "h - tf.math.tanh(h)",
    "softplus": "tf.nn.softplus(h)",
    "softsign": "tf.nn.softsign(h)",
    "squareplus": "(h + tf.sqrt(h * h + 4.0)) / 2.0",
    "soft_shrink": "tf.sign(h) * tf.nn.relu(tf.abs(h) - 0.5)",
    "hard_shrink": "tf.where(tf.abs(h) > 0.5, h, 0.0)",
    "exponential": "tf.exp(h)",
    "softmax": "tf.nn.softmax(h, axis={axis})",
    "log_softmax": "tf.nn.log_softmax(h, axis={axis})",
}


def activation(writer: Writer, mapped: Mapped) -> None:
    """The layer's activation (Keras's activation=), on the output's last axis as Keras applies softmax."""
    name = mapped.activation
    if not name:
        return
    if name not in ACTIVATIONS:
        raise refuse(
            LABEL,
            f"activation={name!r} has no tf.nn spelling here",
            f"the tf.nn target writes {', '.join(sorted(k for k in ACTIVATIONS if k != 'linear'))}",
            "apply it to the translated output yourself, or translate to keras",
        )
    if not ACTIVATIONS[name]:
        return
    last = mapped.ops[-1]
    keras_last = len(last.out_spec) - 1  # Keras acts on its output's last axis: which canonical axis that is
    canonical = last.out_spec.index(keras_last) if keras_last in last.out_spec else 1
    axis = -1 if canonical == 1 else canonical - 1
    text = ACTIVATIONS[name].format(axis=axis)
    writer.line(f"h = {text}", text.partition("(")[0], f"activation={name!r} is applied after the bias.")
