"""TensorFlow ``tf.nn``: functional convolution and pooling calls.

Tensors are given by name with their shapes in ``shapes=``. Layouts are
channels-last (NWC, NHWC, NDHWC); the channels-first formats exist but the CPU
kernels refuse them, and so does convarith. Padding per axis:

- ``'VALID'``: none; out = (n - k_eff + s) // s, truncated toward zero, so a
  window slightly larger than the input gives an empty tensor, not an error.
- ``'SAME'``: out = ceil(n / s), total = max((out-1)*s + k_eff - n, 0), the odd
  pixel at the end.
- explicit ``[[0, 0], [lo, hi], ..., [0, 0]]`` (full rank, zero on batch and
  channels) where the op accepts it.

A dilated ``convolution``, ``pool`` or ``depthwise_conv2d`` runs as
space-to-batch + undilated op + batch-to-space; with strides 1 this is the
ordinary dilated size, with strides > 1 (depthwise only) it is not.
"""

from __future__ import annotations

from functools import partial
from math import prod

from ..core import arith
from ..core.op import ConvOp, channels_first, channels_last
from ..core.record import replace
from ..errors import ConvArithError
from ..parse import MAX_INT, Call, Name
from ._common import (
    REQUIRED,
    Inputs,
    Mapped,
    Plan,
    any_of,
    array_rule,
    bind,
    check_bool,
    check_int,
    divisors_text,
    fail,
    mapped_fits,
    names_in,
    neutral_inputs,
    neutral_values,
    per_axis,
    ref_shape,
    refuse,
    resolve_shapes,
    shape_value,
    tensors_of,
    with_values,
)
from ._tf_rules import (
    axis_padding,
    conv3d_same_padding,
    pool3d_same_padding,
    space_to_batch_size,
    transpose_axis_padding,
    transposed_forward,
    windowed_size,
)

__all__ = ["CALLS", "FRAMEWORK"]

FRAMEWORK = "TensorFlow (tf.nn)"
FRAMEWORK_ID = "tf_nn"  # the numbers (reference.adapters) pick the framework by this
LAST = {1: "NWC", 2: "NHWC", 3: "NDHWC"}
FIRST = {1: "NCW", 2: "NCHW", 3: "NCDHW"}
FORMATS = {1: (None, "NWC", "NHWC", "NCW", "NCHW"), 2: (None, "NHWC", "NCHW"), 3: (None, "NDHWC", "NCDHW")}
CPU_REFUSAL = "Rule: TensorFlow's CPU kernels only support the channels-last format {last}. Fix: data_format='{last}' with the input transposed to {last}."


# -- argument checks -------------------------------------------------------------------------------


def label_of(call: Call) -> str:
    return f"tf.nn.{call.base}"


def ints_list(value, name: str, label: str) -> tuple[int, ...]:
    items = tuple(value)
    for item in items:
        check_int(item, name, label)
    return items


def sequence(value, rank: int, first: bool, name: str, label: str) -> tuple[int, int, tuple[int, ...]]:
    """TF's _get_sequence: None, an int, or 1, N or N+2 values -> (batch, channel, spatial)."""
    if value is None:
        return 1, 1, (1,) * rank
    items = ints_list(value, name, label) if isinstance(value, (list, tuple)) else (check_int(value, name, label),)
    if len(items) == rank + 2:
        if first:
            return items[0], items[1], items[2:]
        return items[0], items[-1], items[1:-1]
    if len(items) == 1:
        return 1, 1, items * rank
    if len(items) == rank:
        return 1, 1, items
    raise fail(
        label,
        f"{name}={value!r} has {len(items)} values. Rule: {name} must be an int or a list of length 1, {rank} "
        f"or {rank + 2}. Fix: {name}={list((items or (1,))[:1] * rank)!r}.",
    )


def full_rank(items, first: bool) -> tuple[int, int, tuple[int, ...]]:
    """(batch, channel, spatial) entries of a full-rank list in data_format order."""
    return (items[0], items[1], tuple(items[2:])) if first else (items[0], items[-1], tuple(items[1:-1]))


def exact_list(value, length: int, name: str, label: str) -> tuple[int, ...]:
    """A raw op attribute: a list of exactly ``length`` ints."""
    if not isinstance(value, (list, tuple)):
        raise fail(
            label,
            f"{name}={value!r} must be a list of {length} ints. Rule: this op takes the full-rank list. Fix: {name}={[1] + [value] * (length - 2) + [1]!r}.",
        )
    items = ints_list(value, name, label)
    if len(items) != length:
        raise fail(
            label,
            f"{name}={value!r} has {len(items)} values. Rule: {name} must specify {length} dimensions (batch, spatial..., channels). Fix: {name}={[1] * length!r}.",
        )
    return items


def check_format(value, rank: int, label: str, accepted: tuple, defer: bool = False) -> bool:
    """Whether data_format is channels-first; refuses unknown names and, on CPU, channels-first
    (unless ``defer``: the caller refuses later, after an empty output returned early)."""
    if value not in accepted:
        raise fail(
            label,
            f"data_format={value!r} is not accepted. Rule: use one of {', '.join(repr(a) for a in accepted if a)}. "
            f"Fix: data_format='{LAST[rank]}'.",
        )
    first = value is not None and value.startswith("NC")
    if first and not defer:
        raise cpu_refusal(label, value, rank)
    return first


def cpu_refusal(label: str, value: str, rank: int):
    return fail(label, f"data_format={value!r} is refused on CPU. " + CPU_REFUSAL.format(last=LAST[rank]))


def check_padding(padding, rank: int, label: str, explicit: bool, first: bool = False) -> object:
    """'SAME', 'VALID', or (when the op accepts it) a full-rank explicit list -> per-axis pairs."""
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID"):
            hint = (
                f" Fix: padding={padding.upper()!r}."
                if padding.upper() in ("SAME", "VALID")
                else " Fix: 'SAME' or 'VALID'."
            )
            raise fail(
                label,
                f"padding={padding!r} is not allowed. Rule: TF accepts exactly 'SAME' or 'VALID' (upper case).{hint}",
            )
        return padding
    if not isinstance(padding, (list, tuple)):
        raise refuse(
            label,
            f"padding={padding!r} is not accepted",
            "TF takes 'SAME', 'VALID' or (where the op allows it) a list of [before, after] pairs",
            "padding='SAME'",
        )
    if not explicit:
        raise fail(
            label,
            f"padding={padding!r}: this op does not accept explicit padding. Rule: only 'SAME' or 'VALID'. Fix: pad the input with tf.pad first.",
        )
    return explicit_pairs(padding, rank, label, first=first)


def explicit_pairs(
    padding, rank: int, label: str, length: int | None = None, first: bool = False
) -> tuple[tuple[int, int], ...]:
    """Full-rank explicit padding (in data_format order) -> spatial pairs, refusing batch/channel padding."""
    length = rank + 2 if length is None else length
    pairs = []
    for pair in padding:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise refuse(
                label,
                f"padding={padding!r} has an entry that is not a pair",
                "each entry of explicit padding is a [before, after] pair",
                "padding=[[0, 0], [1, 1], [1, 1], [0, 0]] (one pair per dimension)",
            )
        pairs.append(ints_list(pair, "padding", label))
    if len(pairs) != length:
        raise fail(
            label,
            f"padding={padding!r} has {len(pairs)} pairs. Rule: explicit padding lists every dimension, batch and "
            f"channels included ({length} pairs). Fix: padding={[[0, 0]] + [[1, 1]] * (length - 2) + [[0, 0]]!r}.",
        )
    if any(v < 0 for pair in pairs for v in pair):
        raise refuse(
            label,
            f"padding={padding!r} has a negative value",
            "all explicit paddings must be >= 0",
            "0 or more on each side",
        )
    if any(pairs[0]) or any(pairs[1] if first else pairs[-1]):
        raise fail(
            label,
            f"padding={padding!r} pads the batch or channel dimension. Rule: nonzero explicit padding is only supported on spatial axes. Fix: [0, 0] for batch and channels.",
        )
    return tuple(pairs[2:] if first else pairs[1:-1])


def tensor(value, inputs: Inputs, name: str, label: str) -> tuple[int, ...]:
    return tuple(ref_shape(value, inputs, name, label))


def check_rank(shape, rank: int, name: str, label: str, at_least: bool = False) -> None:
    ok = len(shape) >= rank if at_least else len(shape) == rank
    if not ok:
        need = f"at least {rank}" if at_least else f"{rank}"
        raise fail(
            label,
            f"{name} must be {need}-dimensional, got shape {shape}. Rule: {name} is (N, {', '.join(arith.axis_names(rank - 2))}, C) in {LAST.get(rank - 2, 'NHWC')}. "
            f"Fix: a shape of {rank} sizes.",
        )


def size_rules(
    label, rank, spatial, kernel, stride, dilation, padding
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[str, ...]]:
    """Pads per axis and their rule texts; refuses an output size TF computes as negative."""
    lo, hi, rules = [], [], []
    for axis in range(rank):
        k_eff = arith.effective_kernel(kernel[axis], dilation[axis])
        pad = axis_padding(padding if isinstance(padding, str) else padding[axis], spatial[axis], k_eff, stride[axis])
        check_window(label, rank, axis, spatial[axis], kernel[axis], dilation[axis], stride[axis], pad)
        lo.append(pad.lo)
        hi.append(pad.hi)
        rules.append(pad.text)
    return tuple(lo), tuple(hi), tuple(rules)


def check_window(label, rank, axis, n, k, d, s, pad) -> None:
    k_eff = arith.effective_kernel(k, d)
    size = windowed_size(n, k_eff, s, pad.lo, pad.hi)
    if size < 0:
        name = arith.axis_names(rank)[axis]
        raise fail(
            label,
            f"input {name} {n} is too small. Rule: TF computes out = ({n} + {pad.lo} + {pad.hi} - {k_eff} + {s}) / {s} "
            f"truncated = {size}, which must be >= 0 (0 gives an empty tensor). Fix: a larger input, padding='SAME', "
            "or a smaller kernel.",
        )


def split_last(shape, rank: int, first: bool = False) -> tuple[tuple[int, ...], int, tuple[int, ...]]:
    """(leading batch dims, channels, spatial) of a channels-last (or channels-first) shape."""
    if first:
        return tuple(shape[: len(shape) - rank - 1]), shape[-rank - 1], tuple(shape[-rank:])
    return tuple(shape[: len(shape) - rank - 1]), shape[-1], tuple(shape[-rank - 1 : -1])


def make_op(
    kind, lead, channels, out_channels, spatial, kernel, stride, dilation, lo, hi, first=False, **extra
) -> ConvOp:
    rank = len(spatial)
    spec = channels_first(rank) if first else channels_last(rank)
    return ConvOp(
        kind, prod(lead), channels, out_channels, spatial, kernel, stride, dilation, lo, hi, spec, spec, **extra
    )


def padding_intent(padding, rank: int) -> tuple[str, ...]:
    """The padding rule as data per spatial axis (issue 12): 'SAME' puts the odd cell at the end."""
    return (
        {"SAME": "same_upper", "VALID": "valid"}.get(padding, "explicit") if isinstance(padding, str) else "explicit",
    ) * rank


def result(
    call, op: ConvOp, lead, rules, arguments: dict, notes=(), spatial_out=None, first=False, padding=None
) -> Mapped:
    """Mapped with the output laid out as lead + spatial + channels (extra batch dims kept);
    ``arguments`` are the call's bound arguments; ``spatial_out`` (the space-to-batch
    sizes) marks the op as run by space-to-batch."""
    spatial = arith.output_spatial(op) if spatial_out is None else spatial_out
    spatial = tuple(max(size, 0) for size in spatial)
    override = (*lead, op.out_channels, *spatial) if first else (*lead, *spatial, op.out_channels)
    return Mapped(
        FRAMEWORK, call, (op,), tuple(rules), tuple(notes), layout=(FIRST if first else LAST)[op.rank],
        shape_override=override, arguments=tuple(arguments.items()), batch_dims=tuple(lead),
        space_to_batch=spatial_out is not None, framework_id=FRAMEWORK_ID,
        padding_intent=() if padding is None else padding_intent(padding, op.rank),
    )  # fmt: skip


def empty_or_refuse(label, mapped: Mapped, fmt, rank) -> Mapped:
    """Conv2D and Conv3D return an empty output before their CPU channels-last check; otherwise refuse."""
    if 0 in mapped.output_shape:
        return mapped
    raise cpu_refusal(label, fmt, rank)


def check_positive(values, name: str, label: str, what: str = "") -> None:
    if any(v < 1 for v in values):
        raise refuse(
            label,
            f"{name}={values} must be >= 1 on every spatial axis{what}",
            f"TF needs positive {name}",
            f"{name} of 1 or more",
        )


def check_unit(batch: int, channel: int, name: str, label: str) -> None:
    if batch != 1 or channel != 1:
        raise fail(
            label,
            f"{name} has batch entry {batch} and channel entry {channel}. Rule: TF does not support {name} in the batch and depth dimensions; they must be 1. Fix: 1 for batch and channels.",
        )


# -- convolution -------------------------------------------------------------------------------------


def conv_entries(v: dict, rank: int, first: bool, label: str) -> tuple[tuple, object]:
    """The (batch, channel, spatial) entries of conv1d/2d/3d's strides and dilations
    (Conv3D takes exactly 5 of each) and the checked padding."""
    stride_name = "stride" if rank == 1 else "strides"
    if rank == 3:
        strides = full_rank(exact_list(v["strides"], 5, "strides", label), first)
        dil = (1,) * 5 if v["dilations"] is None else exact_list(v["dilations"], 5, "dilations", label)
        dilations = full_rank(dil, first)
    else:
        strides = sequence(v[stride_name], rank, first, stride_name, label)
        dilations = sequence(v["dilations"], rank, first, "dilations", label)
    return (strides, dilations), check_padding(v["padding"], rank, label, explicit=rank == 2, first=first)


def conv_steps(entries: tuple, rank: int, label: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Spatial strides and dilations, refusing batch/channel entries other than 1 and sizes < 1."""
    stride_name = "stride" if rank == 1 else "strides"
    (sb, sc, stride), (db, dc, dilation) = entries
    if rank == 1:
        # conv1d runs Conv2D on [1, b, s, c]: the batch entry lands on the dummy height axis
        check_positive((sb, db), f"{stride_name}/dilations batch entry", label)
        sb = db = 1
    check_unit(sb, sc, stride_name, label)
    check_positive(stride, stride_name, label)
    check_unit(db, dc, "dilations", label)
    check_positive(dilation, "dilations", label)
    return stride, dilation


def conv(rank: int):
    """tf.nn.conv1d / conv2d / conv3d (the native ops; conv2d supports groups)."""

    def handle(call, v: dict, inputs: Inputs) -> Mapped:
        label = label_of(call)
        x = tensor(v["input"], inputs, "input", label)
        w = tensor(v["filters"], inputs, "filters", label)
        first = check_format(v["data_format"], rank, label, FORMATS[rank], defer=True)
        entries, padding = conv_entries(v, rank, first, label)
        check_rank(x, rank + 2, "input", label, at_least=True)
        check_rank(w, rank + 2, "filters", label)
        stride, dilation = conv_steps(entries, rank, label)
        lead, channels, spatial = split_last(x, rank, first)
        kernel, w_in, out_ch = tuple(w[:rank]), w[rank], w[rank + 1]
        check_filter(label, w, kernel, w_in, zero_out_ok=rank != 3)
        lo, hi, rules = size_rules(label, rank, spatial, kernel, stride, dilation, padding)
        if rank == 3 and padding == "SAME":
            lo, hi, rules = conv3d_same_pads(spatial, kernel, stride, dilation)
        groups = conv_groups(label, rank, lead, channels, spatial, kernel, stride, dilation, lo, hi, w_in, out_ch)
        op = make_op("conv", lead, channels, out_ch, spatial, kernel, stride, dilation, lo, hi, first, groups=groups)
        mapped = result(call, op, lead, rules, v, first=first, padding=padding)
        if 0 in mapped.output_shape:
            return mapped
        if rank == 3 and any(d != 1 for d in dilation):
            raise fail(
                label,
                f"dilations={v['dilations']!r} is refused on CPU. Rule: the CPU Conv3D kernel only supports dilation 1. Fix: use tf.nn.convolution, which dilates by space-to-batch, or dilations=None.",
            )
        return empty_or_refuse(label, mapped, v["data_format"], rank) if first else mapped

    return handle


def conv3d_same_pads(spatial, kernel, stride, dilation):
    """Conv3D 'SAME' pads per axis (``_tf_rules.conv3d_same_padding``: not clamped at 0) and their rules."""
    pads = [
        conv3d_same_padding(n, arith.effective_kernel(k, d), s) for n, k, d, s in zip(spatial, kernel, dilation, stride)
    ]
    return tuple(p.lo for p in pads), tuple(p.hi for p in pads), tuple(p.text for p in pads)


def check_filter(label, w, kernel, w_in, zero_out_ok: bool) -> None:
    if any(k == 0 for k in kernel) or w_in == 0 or (not zero_out_ok and w[-1] == 0):
        raise fail(
            label,
            f"filters shape {w} has a zero dimension. Rule: TF refuses a filter with zero elements. Fix: every kernel size and the filter's in-channels >= 1.",
        )


def conv_groups(label, rank, lead, channels, spatial, kernel, stride, dilation, lo, hi, w_in, out_ch) -> int:
    """Groups of conv1d/conv2d, or Conv3D's check: input depth divisible by the filter's, then
    an empty output is returned before the exact channel match (no grouped Conv3D on CPU).
    conv1d/conv2d likewise skip the out-channels-per-group check for an empty output (measured)."""
    sizes = [
        windowed_size(n, arith.effective_kernel(k, d), s, a, b)
        for n, k, d, s, a, b in zip(spatial, kernel, dilation, stride, lo, hi)
    ]
    empty = prod(lead) == 0 or 0 in sizes
    if rank == 3:
        if w_in and channels % w_in == 0 and empty:
            return 1
        if w_in and channels % w_in:
            check_groups(label, channels, w_in, out_ch, grouped=True)
    return check_groups(label, channels, w_in, out_ch, grouped=rank != 3, empty=empty)


def check_groups(label, channels, w_in, out_ch, grouped: bool, empty: bool = False) -> int:
    """Input channels = groups * filter in-channels; refuses what TF refuses (an empty
    output skips the out-channels check)."""
    if not grouped:
        if channels != w_in:
            raise fail(
                label,
                f"filters have {w_in} in-channels but the input has {channels}. Rule: the filter's in-channels must equal the input's last dimension (no grouped conv here). Fix: filters of shape (..., {channels}, {out_ch}).",
            )
        return 1
    if channels % w_in:
        raise fail(
            label,
            f"input depth {channels} is not divisible by the filter's in-channels {w_in}. Rule: input channels = groups * filter in-channels. Fix: filters of shape (..., {channels}, {out_ch}), or a divisor of {channels}.",
        )
    groups = channels // w_in
    if groups == 0 or out_ch % groups and not empty:
        raise fail(
            label,
            f"out channels {out_ch} are not divisible by groups = {channels}/{w_in} = {groups}. Rule: for a grouped convolution the filter's out-channels must be a multiple of the number of groups. Fix: out-channels a multiple of {groups}.",
        )
    return groups


def convolution(call, v: dict, inputs: Inputs) -> Mapped:
    """tf.nn.convolution: rank from the filter; dilation by space-to-batch (strides must then be 1)."""
    label = label_of(call)
    x = tensor(v["input"], inputs, "input", label)
    w = tensor(v["filters"], inputs, "filters", label)
    rank = len(w) - 2
    if not 1 <= rank <= 3:
        raise fail(
            label,
            f"filters shape {w} has rank {len(w)}. Rule: filters.rank - 2 (the number of spatial dims) must be 1, 2 or 3. Fix: filters of shape (k..., in, out) with 1 to 3 kernel sizes.",
        )
    fmt = v["data_format"]
    first = isinstance(fmt, str) and fmt.startswith("NC")
    db, dc, dilation = sequence(v["dilations"], rank, first, "dilations", label)
    sb, sc, stride = sequence(v["strides"], rank, first, "strides", label)
    if v["dilations"] is not None and any(d != 1 for d in (db, dc, *dilation)):
        return convolution_dilated(call, v, x, w, rank, stride, dilation, label)
    check_format(fmt, rank, label, FORMATS[rank], defer=True)
    padding = check_padding(v["padding"], rank, label, explicit=False)
    check_rank(x, rank + 2, "input", label, at_least=True)
    if rank == 1:
        check_positive((sb,), "strides batch entry", label)
        sb = 1
    notes = ()
    if first and rank > 1 and len(x) > rank + 2:
        stride, notes = shifted_strides(label, v["strides"], fmt, stride)
    check_unit(sb, sc, "strides", label)
    check_positive(stride, "strides", label)
    lead, channels, spatial = split_last(x, rank, first)
    kernel, w_in, out_ch = tuple(w[:rank]), w[rank], w[rank + 1]
    check_filter(label, w, kernel, w_in, zero_out_ok=rank != 3)
    lo, hi, rules = size_rules(label, rank, spatial, kernel, stride, (1,) * rank, padding)
    if rank == 3 and padding == "SAME":
        lo, hi, rules = conv3d_same_pads(spatial, kernel, stride, (1,) * rank)
    groups = conv_groups(label, rank, lead, channels, spatial, kernel, stride, (1,) * rank, lo, hi, w_in, out_ch)
    op = make_op("conv", lead, channels, out_ch, spatial, kernel, stride, (1,) * rank, lo, hi, first, groups=groups)
    mapped = result(call, op, lead, rules, v, notes, first=first, padding=padding)
    return empty_or_refuse(label, mapped, fmt, rank) if first else mapped


def shifted_strides(label, given, fmt, stride) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Measured: with extra leading batch dims and a channels-first format, tf.nn.convolution lays the
    strides out channels-last, [1, *strides, 1], and the NC kernel reads that list in its own order:
    the first stride lands on the channels (refused unless 1), the others move one axis forward."""
    if stride[0] != 1:
        raise fail(
            label,
            f"strides={given!r} with data_format={fmt!r} and extra batch dimensions. Rule: tf.nn.convolution then "
            f"passes the strides as [1, *strides, 1], which the {fmt} kernel reads as a channel stride of "
            f"{stride[0]}; TF does not support strides in the batch and depth dimensions. "
            "Fix: a first stride of 1, or a single batch dimension.",
        )
    moved = (*stride[1:], 1)
    note = (
        f"strides {tuple(stride)} act as {moved}: with extra batch dimensions tf.nn.convolution passes them as "
        f"[1, *strides, 1] and the {fmt} kernel reads that list in its own order (measured).",
    )
    return moved, note


def convolution_dilated(call, v, x, w, rank, stride, dilation, label) -> Mapped:
    """The dilated path (class Convolution): batch/channel entries of strides and dilations are
    dropped, strides > 1 with dilation > 1 refused, then space-to-batch."""
    if len(x) < rank + 2:
        raise fail(
            label,
            f"input shape {x} has rank {len(x)}. Rule: input.rank must be >= num_spatial_dims + 2 = {rank + 2}. "
            f"Fix: an input of shape (N, {', '.join(arith.axis_names(rank))}, C).",
        )
    lead, channels, spatial = split_last(x, rank)
    kernel, w_in, out_ch = tuple(w[:rank]), w[rank], w[rank + 1]
    if w_in == 0 or channels % w_in:
        raise fail(
            label,
            f"input channels {channels} are not divisible by the filter's in-channels {w_in}. Rule: input channels = groups * filter in-channels. Fix: filters of shape (..., {channels}, {out_ch}).",
        )
    check_positive(dilation, "dilations", label)
    check_positive(stride, "strides", label)
    if any(s > 1 for s in stride) and any(d > 1 for d in dilation):
        raise fail(
            label,
            f"strides={v['strides']!r} with dilations={v['dilations']!r}. Rule: tf.nn.convolution does not support "
            "strides > 1 together with dilation > 1. Fix: strides=1, or subsample the output afterwards.",
        )
    dilated = any(d > 1 for d in dilation)
    padding = v["padding"]
    if isinstance(padding, (list, tuple)):
        if not dilated or rank != 2:
            raise fail(
                label,
                f"padding={padding!r} is refused. Rule: tf.nn.convolution accepts explicit padding only for a dilated 2-D convolution. Fix: 'SAME' or 'VALID', or tf.nn.conv2d.",
            )
        padding = explicit_pairs_loose(padding, 2, label)
    else:
        padding = check_padding(padding, rank, label, explicit=False)
    check_format(v["data_format"], rank, label, FORMATS[rank])
    check_filter(label, w, kernel, w_in, zero_out_ok=rank != 3)
    groups = check_groups(label, channels, w_in, out_ch, grouped=rank != 3)
    if dilated:
        lo, hi, rules = dilated_pads(label, rank, spatial, kernel, dilation, padding)
        notes = ("dilation > 1 runs as space-to-batch, an undilated convolution, then batch-to-space.",)
    else:
        lo, hi, rules = size_rules(label, rank, spatial, kernel, stride, dilation, padding)
        notes = ()
    op = make_op("conv", lead, channels, out_ch, spatial, kernel, stride, dilation, lo, hi, groups=groups)
    return result(call, op, lead, rules, v, notes, padding=padding)


def dilated_pads(label, rank, spatial, kernel, dilation, padding):
    """Space-to-batch padding: 'SAME' pads d*(k-1) as if stride 1 (odd pixel at the end);
    refuses when n + pads - k_eff + 1 < 0."""
    lo, hi, rules = [], [], []
    for axis in range(rank):
        k_eff = arith.effective_kernel(kernel[axis], dilation[axis])
        pad = axis_padding(padding if isinstance(padding, str) else padding[axis], spatial[axis], k_eff, 1)
        check_window(label, rank, axis, spatial[axis], kernel[axis], dilation[axis], 1, pad)
        lo.append(pad.lo)
        hi.append(pad.hi)
        rules.append(pad.text)
    return tuple(lo), tuple(hi), tuple(rules)


def depthwise(call, v: dict, inputs: Inputs) -> Mapped:
    """tf.nn.depthwise_conv2d: filter (kh, kw, in, multiplier), out channels in*multiplier."""
    label = label_of(call)
    x = tensor(v["input"], inputs, "input", label)
    w = tensor(v["filter"], inputs, "filter", label)
    sb, sh, sw, sc = exact_list(v["strides"], 4, "strides", label)
    rate = (1, 1)
    if v["dilations"] is not None:
        if not isinstance(v["dilations"], (list, tuple)):
            raise fail(
                label,
                f"dilations={v['dilations']!r} must be a list. Rule: depthwise_conv2d takes 2 ints, the rate on height and width. Fix: dilations=[{v['dilations']!r}, {v['dilations']!r}].",
            )
        rate = ints_list(v["dilations"], "dilations", label)
        if len(rate) != 2:
            raise fail(
                label,
                f"dilations={v['dilations']!r} has {len(rate)} values. Rule: depthwise_conv2d takes the rate on height and width only. Fix: dilations=[2, 2].",
            )
        check_positive(rate, "dilations", label)
    dilated = any(r != 1 for r in rate)
    padding = v["padding"]
    if dilated and isinstance(padding, (list, tuple)):
        padding = explicit_pairs_loose(padding, 2, label)
    else:
        padding = check_padding(padding, 2, label, explicit=True)
    check_format(v["data_format"], 2, label, (None, "NHWC", "NCHW"))
    check_rank(x, 4, "input", label)
    check_rank(w, 4, "filter", label)
    check_unit(sb, sc, "strides", label)
    if sh < 1 or sw < 1:
        raise refuse(
            label,
            f"strides={v['strides']!r} must be >= 1 on height and width",
            "TF needs positive strides",
            f"strides=[1, {max(sh, 1)}, {max(sh, 1)}, 1]",
        )
    if sh != sw:
        raise fail(
            label,
            f"strides={v['strides']!r} differ on height and width. Rule: the depthwise kernel only supports equal strides on height and width. Fix: strides=[1, {sh}, {sh}, 1].",
        )
    lead, channels, spatial = split_last(x, 2)
    kernel = tuple(w[:2])
    if w[2] != channels:
        raise fail(
            label,
            f"filter has {w[2]} in-channels but the input has {channels}. Rule: input and filter must have the same depth. Fix: filter of shape ({kernel[0]}, {kernel[1]}, {channels}, multiplier).",
        )
    out_ch = channels * w[3]
    stride = (sh, sw)
    if not dilated:
        lo, hi, rules = size_rules(label, 2, spatial, kernel, stride, (1, 1), padding)
        op = make_op("conv", lead, channels, out_ch, spatial, kernel, stride, (1, 1), lo, hi, groups=channels)
        return result(call, op, lead, rules, v, padding=padding)
    lo, hi, rules = [], [], []
    sizes = []
    for axis in range(2):
        d, k, n, s = rate[axis], kernel[axis], spatial[axis], stride[axis]
        pad = axis_padding(padding if isinstance(padding, str) else padding[axis], n, arith.effective_kernel(k, d), 1)
        sizes.append(space_to_batch_size(label, axis, n, k, d, s, pad))
        lo.append(pad.lo)
        hi.append(pad.hi)
        rules.append(f"space-to-batch pads as for stride 1: {pad.text}" if padding == "SAME" else pad.text)
    op = make_op("conv", lead, channels, out_ch, spatial, kernel, stride, rate, tuple(lo), tuple(hi), groups=channels)
    notes = ("dilation > 1 runs as space-to-batch, an undilated depthwise convolution, then batch-to-space.",)
    if any(s > 1 for s in stride):
        notes += (
            "with strides > 1 the stride applies inside each block: the windows come in rows of `rate` adjacent ones, "
            "a row every stride*rate cells, so neither the size nor the windows are those of a strided dilated convolution.",
        )
    return result(call, op, lead, rules, v, notes, spatial_out=tuple(sizes), padding=padding)


def explicit_pairs_loose(padding, rank, label):
    """Explicit padding on the space-to-batch path: 4 pairs; TF keeps only the spatial ones."""
    pairs = []
    for pair in padding:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise refuse(
                label,
                f"padding={padding!r} has an entry that is not a pair",
                "each entry of explicit padding is a [before, after] pair",
                "padding=[[0, 0], [1, 1], [1, 1], [0, 0]] (one pair per dimension)",
            )
        pairs.append(ints_list(pair, "padding", label))
    if len(pairs) != rank + 2:
        raise fail(
            label,
            f"padding={padding!r} has {len(pairs)} pairs. Rule: explicit padding lists all {rank + 2} dimensions. Fix: padding={[[0, 0]] * (rank + 2)!r} with the spatial pairs filled in.",
        )
    if any(v < 0 for pair in pairs[1:-1] for v in pair):
        raise refuse(
            label, f"padding={padding!r} has a negative value", "paddings must be >= 0", "0 or more on each side"
        )
    return tuple(pairs[1:-1])


# -- transposed convolution ------------------------------------------------------------------------


def conv_transpose(rank: int | None):
    """tf.nn.conv{1,2,3}d_transpose, or conv_transpose (rank from len(output_shape))."""

    def handle(call, v: dict, inputs: Inputs) -> Mapped:
        label = label_of(call)
        x = tensor(v["input"], inputs, "input", label)
        w = tensor(v["filters"], inputs, "filters", label)
        out_shape = resolve_shapes(v["output_shape"], inputs, "output_shape", label)  # tf.shape(y), [x.shape[0], ...]
        if not isinstance(out_shape, (list, tuple)):
            raise refuse(
                label,
                f"output_shape={out_shape!r} must be a literal list",
                "convarith reads the output shape from the call",
                "a list such as [1, 10, 10, 4]",
            )
        out_shape = ints_list(out_shape, "output_shape", label)
        r = rank
        if r is None:
            r = len(out_shape) - 2
            if not 1 <= r <= 3:
                raise fail(
                    label,
                    f"output_shape={list(out_shape)} has {len(out_shape)} values. Rule: it must have length 3, 4 or 5 (N, spatial..., C). Fix: the full output shape, e.g. [1, 10, 10, 4].",
                )
        spatial_only = rank == 2 and len(out_shape) == 2 or rank == 1 and len(out_shape) == 1
        if rank == 1 and spatial_only and out_shape[0] != 1:
            raise fail(
                label,
                f"output_shape={list(out_shape)} has 1 value. Rule: conv1d_transpose inserts the height axis after "
                "the first entry, so [W] is read as the 2-D spatial sizes (height W, width 1), and only [1] gives "
                "a size TF accepts. Fix: the full output shape [N, W, C].",
            )
        if len(out_shape) != r + 2 and not spatial_only:
            raise fail(
                label,
                f"output_shape={list(out_shape)} has {len(out_shape)} values. Rule: it must be the full output shape (N, {', '.join(arith.axis_names(r))}, C), {r + 2} values. Fix: [N, {', '.join(arith.axis_names(r))}, C] in numbers.",
            )
        if r == 1:
            check_format(v["data_format"], 1, label, (None, "NWC", "NCW"))
        else:
            check_format(v["data_format"], r, label, (None, LAST[r], FIRST[r]))
        sb, sc, stride = sequence(v["strides"], r, False, "strides", label)
        db, dc, dilation = sequence(v["dilations"], r, False, "dilations", label)
        padding = check_padding(v["padding"], r, label, explicit=r == 2)
        check_rank(x, r + 2, "input", label)
        check_rank(w, r + 2, "filters", label)
        if spatial_only:  # conv2d_transpose also takes (height, width) alone: N from input, C from filters
            out_shape = (x[0], *out_shape, w[r])  # (conv1d_transpose: [1] ends up here as width 1)
        if r == 1:
            check_positive((sb,), "strides batch entry", label)
            sb = 1
        check_unit(sb, sc, "strides", label)
        check_positive(stride, "strides", label)
        if any(d != 1 for d in (db, dc, *dilation)):
            raise fail(
                label,
                f"dilations={v['dilations']!r} is refused on CPU. Rule: TF's CPU transposed convolution does not support dilation rates other than 1. Fix: dilations=None.",
            )
        batch, channels, spatial = x[0], x[-1], tuple(x[1:-1])
        kernel, w_out, w_in = tuple(w[:r]), w[r], w[r + 1]
        if channels != w_in:
            raise fail(
                label,
                f"input has {channels} channels but filters (k..., out, in) have in-channels {w_in}. Rule: the filter's last dimension must equal the input's channels. Fix: filters of shape (..., {out_shape[-1]}, {channels}).",
            )
        if out_shape[-1] != w_out:
            raise fail(
                label,
                f"output_shape has {out_shape[-1]} channels but filters (k..., out, in) have out-channels {w_out}. Rule: output_shape[-1] must equal filters.shape[-2]. Fix: output_shape[-1]={w_out}.",
            )
        if out_shape[0] != batch:
            raise fail(
                label,
                f"output_shape has batch {out_shape[0]} but the input has batch {batch}. Rule: the batch size must match. Fix: output_shape[0]={batch}.",
            )
        lo, hi, extra, rules = [], [], [], []
        for axis in range(r):
            k_eff = kernel[axis]
            pad = padding if isinstance(padding, str) else padding[axis]
            a, b, c, text = transpose_axis_padding(
                label, arith.axis_names(r)[axis], pad, spatial[axis], out_shape[axis + 1], k_eff, stride[axis]
            )
            lo.append(a)
            hi.append(b)
            extra.append(c)
            rules.append(text)
        op = ConvOp(
            "conv_transpose", batch, channels, w_out, spatial, kernel, stride, (1,) * r, tuple(lo), tuple(hi),
            channels_last(r), channels_last(r), output_padding=tuple(extra),
        )  # fmt: skip
        return Mapped(
            FRAMEWORK,
            call,
            (op,),
            tuple(rules),
            layout=LAST[r],
            shape_override=tuple(out_shape),
            arguments=tuple(v.items()),
            framework_id=FRAMEWORK_ID,
            padding_intent=padding_intent(padding, r),
        )

    return handle


# -- pooling -----------------------------------------------------------------------------------------


def pool_nd(rank: int | None, kind: str):
    """max_pool{1,2,3}d / avg_pool{1,2,3}d, or max_pool / avg_pool (rank from the input)."""

    def handle(call, v: dict, inputs: Inputs) -> Mapped:
        label = label_of(call)
        x = tensor(v["input"], inputs, "input", label)
        r = rank
        if r is None:
            r = len(x) - 2
            if not 1 <= r <= 3:
                raise refuse(
                    label,
                    f"input shape {x} has rank {len(x)}",
                    "input.rank must be 3, 4 or 5",
                    "an input of shape (N, spatial..., C) with 1 to 3 spatial axes",
                )
        fmt = v["data_format"]
        first = isinstance(fmt, str) and fmt.startswith("NC")
        kb, kc, ksize = sequence(v["ksize"], r, first, "ksize", label)
        sb, sc, stride = sequence(v["strides"], r, first, "strides", label)
        explicit = kind == "max_pool" and r in (1, 2) and not (rank is None and r == 3)
        if rank is None and r == 3 and isinstance(v["padding"], (list, tuple)):
            raise fail(
                label,
                f"padding={v['padding']!r} is refused with an input of rank 5. Rule: TF's 3-D pooling has no explicit padding. Fix: 'SAME' or 'VALID'.",
            )
        dummy_pad = (0, 0)
        if r == 1 and explicit and isinstance(v["padding"], (list, tuple)):
            pairs = explicit_pairs_loose(v["padding"], 1, label)
            dummy_pad = tuple(v["padding"][0])
            if any(v["padding"][-1]):
                raise fail(
                    label,
                    f"padding={v['padding']!r} pads the channel dimension. Rule: nonzero explicit padding is not supported on depth. Fix: [0, 0] for the channels.",
                )
            padding = pairs
        else:
            padding = check_padding(v["padding"], r, label, explicit=explicit)
        check_format(fmt, r, label, (None, LAST[r], FIRST[r]) if r != 1 else (None, "NWC", "NCW"))
        check_rank(x, r + 2, "input", label)
        batch, channels, spatial = x[0], x[-1], tuple(x[1:-1])
        if any(k < 1 for k in (kb, kc, *ksize)):
            raise fail(
                label,
                f"ksize={v['ksize']!r} must be >= 1 everywhere. Rule: the sliding window must be positive. Fix: ksize of 1 or more.",
            )
        if any(s < 1 for s in (sb, sc, *stride)):
            raise refuse(label, f"strides={v['strides']!r} must be >= 1", "stride must be > 0", "strides of 1 or more")
        window = ksize
        if r == 1:
            one_d_height(label, kb, sb, dummy_pad, padding)
            window = (kb, *ksize)  # the hidden height window counts as spatial pooling too
            kb = sb = 1
        if kb != 1:
            raise fail(
                label,
                f"ksize={v['ksize']!r} pools over the batch. Rule: pooling is not supported on the batch dimension. Fix: a batch entry of 1.",
            )
        if r == 3 and (kc != 1 or sc != 1 or sb != 1):
            raise fail(
                label,
                "ksize/strides have a channel or batch entry other than 1. Rule: 3-D pooling is not supported on the depth (channel) dimension. Fix: 1 for the batch and channel entries.",
            )
        out_channels = channels
        if kc != 1:
            out_channels = depth_pool(label, kind, kc, sc, window, channels)
        elif r != 3 and sb != 1:
            raise fail(
                label,
                f"strides={v['strides']!r} strides over the batch. Rule: pooling is not supported on the batch dimension. Fix: a batch entry of 1.",
            )
        if isinstance(padding, tuple):
            for axis, (lo, hi) in enumerate(padding):
                if lo >= ksize[axis] or hi >= ksize[axis]:
                    raise fail(
                        label,
                        f"padding={v['padding']!r}: padding {max(lo, hi)} on the {arith.axis_names(r)[axis]} axis is not smaller than the window {ksize[axis]}. Rule: explicit pooling padding must be smaller than the window size. Fix: padding < {ksize[axis]}.",
                    )
        lo, hi, rules = size_rules(label, r, spatial, ksize, stride, (1,) * r, padding)
        if r == 3 and padding == "SAME":
            pads = [pool3d_same_padding(n, k, s) for n, k, s in zip(spatial, ksize, stride)]
            lo, hi, rules = tuple(p.lo for p in pads), tuple(p.hi for p in pads), tuple(p.text for p in pads)
        op = ConvOp(
            kind, batch, channels, out_channels, spatial, ksize, stride, (1,) * r, lo, hi,
            channels_last(r), channels_last(r), count_include_pad=False,
        )  # fmt: skip
        notes = (
            ("average pooling divides by the number of real (unpadded) cells in each window.",)
            if kind == "avg_pool"
            else ()
        )
        return Mapped(
            FRAMEWORK, call, (op,), rules, notes, layout=LAST[r], arguments=tuple(v.items()), framework_id=FRAMEWORK_ID,
            padding_intent=padding_intent(padding, r),
        )  # fmt: skip

    return handle


def one_d_height(label, k, s, pad, padding) -> None:
    """1-D pooling runs the 2-D op on a height-1 input; the batch entries of a full-rank ksize,
    strides or padding land on that height, which must stay 1 for the final squeeze."""
    if pad[0] >= k and any(pad) or pad[1] >= k and any(pad):
        raise fail(
            label,
            f"padding {pad} on the hidden height axis is not smaller than the window {k}. Rule: explicit pooling padding must be smaller than the window size. Fix: [0, 0] for the batch entry.",
        )
    height = -(-1 // s) if padding == "SAME" else windowed_size(1, k, s, *pad)
    if height != 1:
        raise fail(
            label,
            f"the first entry of ksize/strides/padding ({k}, {s}, {pad}) acts on the hidden height axis of size 1 "
            f"and gives height {height}. Rule: 1-D pooling runs the 2-D op on (N, 1, W, C) and squeezes that axis, "
            "which must stay 1. Fix: leave the batch entries at 1 and [0, 0].",
        )


def depth_pool(label, kind, kc, sc, ksize, channels) -> int:
    """Max pooling across channels: window == stride on depth, dividing the depth; no spatial window."""
    if kind != "max_pool":
        raise fail(
            label,
            "ksize pools across channels. Rule: TF's average pooling does not support non-spatial pooling. "
            "Fix: a channel entry of 1 in ksize and strides.",
        )
    if any(k != 1 for k in ksize):
        raise fail(
            label,
            "ksize pools across both channels and space. Rule: max pooling supports exactly one of pooling across depth or across width/height. Fix: two max_pool calls, one across depth, one across space.",
        )
    if kc != sc:
        raise fail(
            label,
            f"depth window {kc} differs from depth stride {sc}. Rule: depthwise max pooling requires the depth window to equal the depth stride. Fix: a depth stride of {kc}.",
        )
    if channels % kc:
        raise fail(
            label,
            f"depth window {kc} does not divide the input depth {channels}. Rule: depthwise max pooling needs the window to divide the depth evenly. Fix: a depth window {divisors_text(channels) if channels else 'of 1'}.",
        )
    return channels // kc


def pool(call, v: dict, inputs: Inputs) -> Mapped:
    """tf.nn.pool(input, window_shape, pooling_type, strides, padding, data_format, dilations)."""
    label = label_of(call)
    x = tensor(v["input"], inputs, "input", label)
    window = v["window_shape"]
    if not isinstance(window, (list, tuple)):
        raise fail(
            label,
            f"window_shape={window!r} must be a list. Rule: tf.nn.pool takes one size per spatial axis. Fix: window_shape=[{window!r}, {window!r}].",
        )
    window = ints_list(window, "window_shape", label)
    r = len(window)
    if not 1 <= r <= 3:
        raise refuse(
            label,
            f"window_shape={list(window)} has length {r}",
            "len(window_shape) must be 1, 2 or 3",
            "one size per spatial axis, e.g. window_shape=[2, 2]",
        )
    check_rank(x, r + 2, "input", label)
    stride, dilation = (1,) * r, (1,) * r
    for name in ("dilations", "strides"):
        value = v[name]
        if value is None:
            continue
        if not isinstance(value, (list, tuple)):
            raise fail(
                label,
                f"{name}={value!r} must be a list of {r} ints. Rule: tf.nn.pool does not broadcast an int. Fix: {name}={[value] * r!r}.",
            )
        items = ints_list(value, name, label)
        if len(items) != r:
            raise fail(
                label,
                f"{name}={value!r} has {len(items)} values. Rule: len({name}) must equal len(window_shape) = {r}. Fix: {name}={[1] * r!r}.",
            )
        check_positive(items, name, label)
        if name == "strides":
            stride = items
        else:
            dilation = items
    dilated = any(d > 1 for d in dilation)
    if any(s > 1 for s in stride) and dilated:
        raise fail(
            label,
            f"strides={v['strides']!r} with dilations={v['dilations']!r}. Rule: tf.nn.pool does not support strides > 1 together with dilation > 1. Fix: strides=None, or dilations=None.",
        )
    padding = v["padding"]
    if padding == "SAME" and dilated:
        raise fail(
            label,
            "padding='SAME' with dilations > 1. Rule: pooling with 'SAME' padding is not implemented for dilation > 1. Fix: padding='VALID'.",
        )
    if any(s > k for s, k in zip(stride, window)):
        raise fail(
            label,
            f"strides={list(stride)} exceed window_shape={list(window)}. Rule: tf.nn.pool refuses strides > window_shape (CPU and GPU disagree there). Fix: strides <= window_shape.",
        )
    kind = {"MAX": "max_pool", "AVG": "avg_pool"}.get(v["pooling_type"])
    if kind is None:
        raise refuse(
            label,
            f"pooling_type={v['pooling_type']!r} is not supported",
            "'MAX' or 'AVG' (upper case)",
            "pooling_type='MAX'",
        )
    fmt = v["data_format"]
    if r == 1:
        if fmt not in (None, "NWC", "NCW"):
            raise refuse(
                label, f"data_format={fmt!r} is not accepted", "1-D pooling takes 'NWC' or 'NCW'", "data_format='NWC'"
            )
        check_format(fmt, 1, label, (None, "NWC", "NCW"))
    else:
        check_format(fmt, r, label, (None, LAST[r], FIRST[r]))
    if isinstance(padding, (list, tuple)):
        if dilated:
            if r != 2:
                raise fail(
                    label,
                    f"padding={padding!r} is refused on the dilated path. Rule: TF converts explicit padding there for 2-D only (4 pairs). Fix: 'SAME' or 'VALID'.",
                )
            padding = explicit_pairs_loose(padding, 2, label)
        elif kind != "max_pool" or r != 2:
            raise fail(
                label,
                f"padding={padding!r} is refused. Rule: tf.nn.pool takes explicit padding only for 2-D 'MAX' pooling. Fix: 'SAME' or 'VALID'.",
            )
        else:
            padding = explicit_pairs(padding, 2, label)
            for axis, (lo, hi) in enumerate(padding):
                if lo >= window[axis] or hi >= window[axis]:
                    raise fail(
                        label,
                        f"padding {max(lo, hi)} on the {arith.axis_names(2)[axis]} axis is not smaller than the window {window[axis]}. Rule: explicit pooling padding must be smaller than the window size. Fix: padding < {window[axis]}.",
                    )
    else:
        padding = check_padding(padding, r, label, explicit=False)
    batch, channels, spatial = x[0], x[-1], tuple(x[1:-1])
    if dilated:
        lo, hi, rules = dilated_pads(label, r, spatial, window, dilation, padding)
    else:
        lo, hi, rules = size_rules(label, r, spatial, window, stride, dilation, padding)
    op = ConvOp(
        kind, batch, channels, channels, spatial, window, stride, dilation, lo, hi,
        channels_last(r), channels_last(r), count_include_pad=False,
    )  # fmt: skip
    return Mapped(
        FRAMEWORK, call, (op,), rules, layout=LAST[r], arguments=tuple(v.items()), framework_id=FRAMEWORK_ID,
        padding_intent=padding_intent(padding, r),
    )  # fmt: skip


# -- compiled plans ----------------------------------------------------------------------------------


def conv_params(rank: int) -> tuple:
    stride_name = "stride" if rank == 1 else "strides"
    params = (("input", REQUIRED), ("filters", REQUIRED), (stride_name, REQUIRED), ("padding", REQUIRED))
    return params + (("data_format", LAST[rank]), ("dilations", None), ("name", None))


CONVOLUTION_PARAMS = (("input", REQUIRED), ("filters", REQUIRED), ("strides", None), ("padding", "VALID"))
CONVOLUTION_PARAMS += (("data_format", None), ("dilations", None), ("name", None))
DEPTHWISE_PARAMS = (("input", REQUIRED), ("filter", REQUIRED), ("strides", REQUIRED), ("padding", REQUIRED))
DEPTHWISE_PARAMS += (("data_format", None), ("dilations", None), ("name", None))
POOL_PARAMS = (("input", REQUIRED), ("window_shape", REQUIRED), ("pooling_type", REQUIRED), ("strides", None))
POOL_PARAMS += (("padding", "VALID"), ("data_format", None), ("dilations", None), ("name", None))


def transpose_params(rank: int | None) -> tuple:
    params = (("input", REQUIRED), ("filters", REQUIRED), ("output_shape", REQUIRED), ("strides", REQUIRED))
    return params + (
        ("padding", "SAME"),
        ("data_format", None if rank is None else LAST[rank]),
        ("dilations", None),
        ("name", None),
    )


def pool_nd_params(rank: int | None) -> tuple:
    params = (("input", REQUIRED), ("ksize", REQUIRED), ("strides", REQUIRED), ("padding", REQUIRED))
    return params + (("data_format", None if rank is None else LAST[rank]), ("name", None))


def name_of(value) -> str | None:
    return value.dotted if isinstance(value, Name) else None


def padding_totals(padding, rank: int):
    """'SAME' as is, else the total padding per axis (0 for 'VALID', lo + hi for explicit pairs)."""
    if padding == "SAME":
        return padding
    return (0,) * rank if padding == "VALID" else tuple(lo + hi for lo, hi in padding)


def window_outs(spatial, k_effs, stride, totals) -> list[int] | None:
    """The output sizes of a floor-rounded window op under TF's padding (``padding_totals``),
    or None when one is <= 0 or beyond 64 bits (empty, refused or too large: the full mapping says which).
    Plain loops: the fastest spelling for one to three axes."""
    outs = []
    if totals == "SAME":
        for n, s in zip(spatial, stride):
            if not n:
                return None
            outs.append(arith.same_out(n, s))  # n >= 1 gives 1 <= out <= n
        return outs
    for n, total, k_eff, s in zip(spatial, totals, k_effs, stride):
        out = arith.windows_in(n + total, k_eff, s)
        if not 0 < out <= MAX_INT:
            return None
        outs.append(out)
    return outs


def unclamped_same_outs(spatial, ksize, stride) -> list[int] | None:
    """``window_outs`` of TF's 3-D pooling 'SAME', whose total padding is not clamped at 0."""
    outs = []
    for n, k, s in zip(spatial, ksize, stride):
        _, _, lo, hi = arith.same_pads(n, k, s, clamp=False)
        outs.append(arith.conv_out(n, k, s, lo, hi))
    return outs if min(outs) > 0 else None


class TfPlan(Plan):
    """One tf.nn call, bound once. ``map`` runs the full mapping; ``shape`` answers the
    common case from ``fast`` (the call-only checks passed at compile, the numbers ready)
    with arithmetic only, and leaves every other input (a refusal, an empty output, an
    unusual layout) to the full mapping, so both refuse alike and in the same order."""

    __slots__ = ("body", "v", "fast")

    def __init__(self, call: Call, params: tuple, body) -> None:
        super().__init__(call)
        self.v = bind(call, params, label_of(call))
        self.body = body
        self.fast = None

    def map(self, inputs: Inputs) -> Mapped:
        return self.body(self.call, self.v, inputs)

    def slow(self, inputs: Inputs) -> tuple[int, ...]:
        return mapped_fits(self.map(inputs)).output_shape


class ConvPlan(TfPlan):
    """conv1d/conv2d/conv3d and the undilated tf.nn.convolution (rank from the filters)."""

    __slots__ = ("rank", "by_rank")

    def __init__(self, call: Call, rank: int | None) -> None:
        super().__init__(
            call, conv_params(rank) if rank else CONVOLUTION_PARAMS, convolution if rank is None else CONV_BODIES[rank]
        )
        self.rank = rank
        self.by_rank = {}
        if rank is not None:
            self.fast = self.compile_fast(rank)

    def compile_fast(self, rank: int):
        """(rank, input name, filters name, strides, dilations or None for all 1, padding totals),
        or None when the call needs the full mapping (a refusal, channels-first, a dilated Conv3D)."""
        v, label = self.v, label_of(self.call)
        names = (name_of(v["input"]), name_of(v["filters"]))
        if None in names:
            return None
        try:
            if self.rank is None:
                if v["dilations"] is not None:
                    return None
                if check_format(v["data_format"], rank, label, FORMATS[rank], defer=True):
                    return None
                sb, sc, stride = sequence(v["strides"], rank, False, "strides", label)
                padding = check_padding(v["padding"], rank, label, explicit=False)
                check_unit(1 if rank == 1 else sb, sc, "strides", label)
                check_positive((sb, *stride) if rank == 1 else stride, "strides", label)
                return (rank, *names, stride, None, padding_totals(padding, rank))
            if check_format(v["data_format"], rank, label, FORMATS[rank], defer=True):
                return None
            entries, padding = conv_entries(v, rank, False, label)
            stride, dilation = conv_steps(entries, rank, label)
        except ConvArithError:
            return None
        if rank == 3 and any(d != 1 for d in dilation):
            return None
        dilated = None if set(dilation) == {1} else dilation
        return (rank, *names, stride, dilated, padding_totals(padding, rank))

    def fast_for(self, inputs: Inputs):
        """tf.nn.convolution: the compiled numbers for the rank its filters give, made once per rank."""
        w = inputs.shape_of(name_of(self.v["filters"]))
        if w is None or not 3 <= len(w) <= 5:
            return None
        rank = len(w) - 2
        fast = self.by_rank.get(rank, False)
        if fast is False:
            fast = self.by_rank[rank] = self.compile_fast(rank)
        return fast

    @staticmethod
    def sweep_rule(got: dict, padding: str, rank: int, lead_empty: bool):
        """conv1d/2d/3d over arrays (sweep): refused on a kernel, stride or dilation below 1, a size
        TF's check makes negative, or (CPU Conv3D) a dilation other than 1 on a non-empty output; an
        empty 'SAME' axis is left to output_shape."""
        kernel, stride, dilation, spatial = got["kernel"], got["stride"], got["dilation"], got["n"]
        refused = any_of(v < 1 for v in (*kernel, *stride, *dilation))
        if padding == "SAME":
            sizes = list(map(arith.same_out, spatial, stride))
            unsure = any_of(n == 0 for n in spatial)
        else:
            k_effs = list(map(arith.effective_kernel, kernel, dilation))
            refused = refused | any_of(windowed_size(n, k, s, 0, 0) < 0 for n, k, s in zip(spatial, k_effs, stride))
            sizes = [arith.maximum(arith.windows_in(n, k, s), 0) for n, k, s in zip(spatial, k_effs, stride)]
            unsure = False
        if rank == 3 and not lead_empty:
            refused = refused | any_of(d != 1 for d in dilation) & ~any_of(size == 0 for size in sizes)
        return sizes, refused, unsure

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        fast = self.fast if self.rank else self.fast_for(inputs)
        if fast is None:
            return self.slow(inputs)
        rank, x_name, w_name, stride, dilation, totals = fast
        x, w = inputs.pair(x_name, w_name)
        if x is None or w is None or len(w) != rank + 2 or len(x) < rank + 2:
            return self.slow(inputs)
        channels, w_in, out_ch = x[-1], w[-2], w[-1]
        if not (channels and w_in and out_ch) or channels % w_in or min(w[:rank]) < 1:
            return self.slow(inputs)
        if out_ch % (channels // w_in) if rank != 3 else channels != w_in:  # Conv3D on CPU takes no groups
            return self.slow(inputs)
        lead = x[: len(x) - rank - 1]
        k_effs = w[:rank] if dilation is None else tuple(map(arith.effective_kernel, w[:rank], dilation))
        outs = window_outs(x[-rank - 1 : -1], k_effs, stride, totals)
        if outs is None or not 0 < (lead[0] if len(lead) == 1 else prod(lead)) <= MAX_INT:
            return self.slow(inputs)
        return (*lead, *outs, out_ch)


class DepthwisePlan(TfPlan):
    """tf.nn.depthwise_conv2d; the dilated (space-to-batch) path takes the full mapping."""

    __slots__ = ()

    def __init__(self, call: Call) -> None:
        super().__init__(call, DEPTHWISE_PARAMS, depthwise)
        v, label = self.v, label_of(call)
        names = (name_of(v["input"]), name_of(v["filter"]))
        if None in names or v["dilations"] is not None:
            return
        try:
            sb, sh, sw, sc = exact_list(v["strides"], 4, "strides", label)
            padding = check_padding(v["padding"], 2, label, explicit=True)
            check_format(v["data_format"], 2, label, (None, "NHWC", "NCHW"))
        except ConvArithError:
            return
        if sb == sc == 1 and sh == sw >= 1:
            self.fast = (*names, (sh, sw), padding_totals(padding, 2))

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        if self.fast is None:
            return self.slow(inputs)
        x_name, w_name, stride, totals = self.fast
        x, w = inputs.shape_of(x_name), inputs.shape_of(w_name)
        if x is None or w is None or len(x) != 4 or len(w) != 4 or w[2] != x[3] or not (x[0] and x[3] and w[3]):
            return self.slow(inputs)
        out_ch = x[3] * w[3]
        outs = window_outs(x[1:3], w[:2], stride, totals)
        if outs is None or min(w[:2]) < 1 or out_ch > MAX_INT:
            return self.slow(inputs)
        return (x[0], *outs, out_ch)


class TransposePlan(TfPlan):
    """conv{1,2,3}d_transpose and conv_transpose: the output shape is in the call, checked per input."""

    __slots__ = ()

    def __init__(self, call: Call, rank: int | None) -> None:
        super().__init__(call, transpose_params(rank), CONV_TRANSPOSE_BODIES[rank])
        v, label = self.v, label_of(call)
        names = (name_of(v["input"]), name_of(v["filters"]))
        out_shape = v["output_shape"]
        if None in names or not isinstance(out_shape, (list, tuple)):
            return
        try:
            out_shape = ints_list(out_shape, "output_shape", label)
            r = len(out_shape) - 2 if rank is None else rank
            if not 1 <= r <= 3 or len(out_shape) != r + 2 or not 0 < min(out_shape) <= max(out_shape) <= MAX_INT:
                return
            check_format(v["data_format"], r, label, (None, "NWC", "NCW") if r == 1 else (None, LAST[r], FIRST[r]))
            sb, sc, stride = sequence(v["strides"], r, False, "strides", label)
            db, dc, dilation = sequence(v["dilations"], r, False, "dilations", label)
            padding = check_padding(v["padding"], r, label, explicit=r == 2)
            check_positive((sb,), "strides batch entry", label)
            check_unit(1 if r == 1 else sb, sc, "strides", label)
            check_positive(stride, "strides", label)
        except ConvArithError:
            return
        if all(d == 1 for d in (db, dc, *dilation)):
            self.fast = (*names, r, out_shape, stride, padding)

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        if self.fast is None:
            return self.slow(inputs)
        x_name, w_name, r, out_shape, stride, padding = self.fast
        x, w = inputs.shape_of(x_name), inputs.shape_of(w_name)
        if x is None or w is None or len(x) != r + 2 or len(w) != r + 2:
            return self.slow(inputs)
        if x[-1] != w[r + 1] or out_shape[-1] != w[r] or out_shape[0] != x[0] or min(w[:r]) < 1 or not x[-1]:
            return self.slow(inputs)
        for axis in range(r):
            pad = padding if isinstance(padding, str) else padding[axis]
            if transposed_forward(pad, out_shape[axis + 1], w[axis], stride[axis]) != x[axis + 1]:
                return self.slow(inputs)
        return out_shape


class PoolNdPlan(TfPlan):
    """max_pool{1,2,3}d / avg_pool{1,2,3}d, and max_pool / avg_pool (rank from the input)."""

    __slots__ = ("rank", "kind", "input_name", "by_rank")

    def __init__(self, call: Call, rank: int | None, kind: str) -> None:
        super().__init__(call, pool_nd_params(rank), POOL_ND_BODIES[rank, kind])
        self.rank, self.kind = rank, kind
        self.input_name = name_of(self.v["input"])
        self.by_rank = {}
        if rank is not None and self.input_name is not None:
            self.fast = self.compile_rank(rank)

    def fast_for(self, r: int):
        """max_pool / avg_pool: the compiled numbers for an input of rank r + 2, made once per rank."""
        fast = self.by_rank.get(r, False)
        if fast is False:
            fast = self.by_rank[r] = self.compile_rank(r) if 1 <= r <= 3 else None
        return fast

    def compile_rank(self, r: int):
        """(ksize, strides, padding totals or 'unclamped' for 3-D SAME) for an input of rank r + 2, or None."""
        v, label, rank = self.v, label_of(self.call), self.rank
        padding = v["padding"]
        if isinstance(padding, (list, tuple)) and (r == 1 or rank is None and r == 3):
            return None
        fmt = v["data_format"]
        first = isinstance(fmt, str) and fmt.startswith("NC")
        try:
            kb, kc, ksize = sequence(v["ksize"], r, first, "ksize", label)
            sb, sc, stride = sequence(v["strides"], r, first, "strides", label)
            explicit = self.kind == "max_pool" and r in (1, 2)
            padding = check_padding(padding, r, label, explicit=explicit)
            check_format(fmt, r, label, (None, LAST[r], FIRST[r]) if r != 1 else (None, "NWC", "NCW"))
            if min(kb, kc, *ksize) < 1 or min(sb, sc, *stride) < 1:
                return None
            if r == 1:
                one_d_height(label, kb, sb, (0, 0), padding)
                kb = sb = 1
        except ConvArithError:
            return None
        if (kb, kc, sb, sc) != (1, 1, 1, 1):
            return None
        if isinstance(padding, tuple) and any(lo >= k or hi >= k for (lo, hi), k in zip(padding, ksize)):
            return None
        return ksize, stride, "unclamped" if r == 3 and padding == "SAME" else padding_totals(padding, r)

    @staticmethod
    def sweep_rule(got: dict, padding: str, r: int):
        """max_pool/avg_pool over arrays (sweep): refused on a window or stride below 1 or a 'VALID'
        size TF's check makes negative (0 is an empty axis); 3-D 'SAME' is not clamped at 0; an
        empty 'SAME' axis is left to output_shape."""
        ksize, stride, spatial = got["ksize"], got["stride"], got["n"]
        refused = any_of(v < 1 for v in (*ksize, *stride))
        if padding == "VALID":
            refused = refused | any_of(windowed_size(n, k, s, 0, 0) < 0 for n, k, s in zip(spatial, ksize, stride))
            return (
                [arith.maximum(arith.windows_in(n, k, s), 0) for n, k, s in zip(spatial, ksize, stride)],
                refused,
                False,
            )
        if r == 3:
            pads = [arith.same_pads(n, k, s, clamp=False) for n, k, s in zip(spatial, ksize, stride)]
            sizes = [arith.conv_out(n, k, s, p[2], p[3]) for n, k, s, p in zip(spatial, ksize, stride, pads)]
        else:
            sizes = list(map(arith.same_out, spatial, stride))
        return sizes, refused, any_of(size < 1 for size in sizes)

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        x = inputs.shape_of(self.input_name)
        if x is None:
            return self.slow(inputs)
        fast = self.fast if self.rank else self.fast_for(len(x) - 2)
        if fast is None or len(x) != len(fast[0]) + 2:
            return self.slow(inputs)
        ksize, stride, totals = fast
        if totals == "unclamped":
            outs = unclamped_same_outs(x[1:-1], ksize, stride)
        else:
            outs = window_outs(x[1:-1], ksize, stride, totals)
        if outs is None or not (x[0] and x[-1]):
            return self.slow(inputs)
        return (x[0], *outs, x[-1])


class PoolPlan(TfPlan):
    """tf.nn.pool; the dilated and the explicitly padded paths take the full mapping."""

    __slots__ = ()

    def __init__(self, call: Call) -> None:
        super().__init__(call, POOL_PARAMS, pool)
        v, label = self.v, label_of(call)
        window, name = v["window_shape"], name_of(v["input"])
        if name is None or not isinstance(window, (list, tuple)) or v["dilations"] is not None:
            return
        if v["pooling_type"] not in ("MAX", "AVG") or not isinstance(v["padding"], str):
            return
        try:
            window = ints_list(window, "window_shape", label)
            r = len(window)
            if not 1 <= r <= 3:
                return
            stride = (1,) * r
            if v["strides"] is not None:
                if not isinstance(v["strides"], (list, tuple)):
                    return
                stride = ints_list(v["strides"], "strides", label)
            padding = check_padding(v["padding"], r, label, explicit=False)
            check_format(v["data_format"], r, label, (None, "NWC", "NCW") if r == 1 else (None, LAST[r], FIRST[r]))
        except ConvArithError:
            return
        if len(stride) == r and min(stride) >= 1 and min(window) >= 1 and all(s <= k for s, k in zip(stride, window)):
            self.fast = (name, r, window, stride, padding_totals(padding, r))

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        if self.fast is None:
            return self.slow(inputs)
        name, r, window, stride, totals = self.fast
        x = inputs.shape_of(name)
        if x is None or len(x) != r + 2:
            return self.slow(inputs)
        outs = window_outs(x[1:-1], window, stride, totals)
        if outs is None or not (x[0] and x[-1]):
            return self.slow(inputs)
        return (x[0], *outs, x[-1])


CONV_BODIES = {rank: conv(rank) for rank in (1, 2, 3)}
CONV_TRANSPOSE_BODIES = {rank: conv_transpose(rank) for rank in (None, 1, 2, 3)}
POOL_ND_BODIES = {(rank, kind): pool_nd(rank, kind) for rank in (None, 1, 2, 3) for kind in ("max_pool", "avg_pool")}


# -- registry ----------------------------------------------------------------------------------------


def calls() -> dict:
    """tf.nn.<name> always; the bare name where no other framework spells it the same way."""
    table = {f"conv{rank}d": partial(ConvPlan, rank=rank) for rank in (1, 2, 3)}
    table["depthwise_conv2d"] = DepthwisePlan
    table |= {f"conv{rank}d_transpose": partial(TransposePlan, rank=rank) for rank in (1, 2, 3)}
    for kind in ("max_pool", "avg_pool"):
        table |= {f"{kind}{rank}d": partial(PoolNdPlan, rank=rank, kind=kind) for rank in (1, 2, 3)}
    prefixed_only = {
        "convolution": partial(ConvPlan, rank=None),
        "conv_transpose": partial(TransposePlan, rank=None),
        "max_pool": partial(PoolNdPlan, rank=None, kind="max_pool"),
        "avg_pool": partial(PoolNdPlan, rank=None, kind="avg_pool"),
        "pool": PoolPlan,
    }
    spellings = {f"tf.nn.{name}": compile_function for name, compile_function in (table | prefixed_only).items()}
    return spellings | table


CALLS = calls()


# --- resize: tf.image.resize --------------------------------------------------------------------------------------

IMAGE_METHODS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")


class ImageResizePlan(Plan):
    """tf.image.resize(images, size, method, antialias): images (N, H, W, C) or (H, W, C); the
    output is the given size; the numbers follow the method (see keras.tf_resize_sampling)."""

    __slots__ = ("label", "v", "method")

    def __init__(self, call) -> None:
        super().__init__(call)
        self.label = label = call.base
        params = (("images", REQUIRED), ("size", REQUIRED), ("method", "bilinear"), ("preserve_aspect_ratio", False),
                  ("antialias", False), ("name", None))  # fmt: skip
        self.v = v = bind(call, params, label)
        method = v["method"]
        if not isinstance(method, str) or method.lower() not in IMAGE_METHODS:
            raise refuse(label, f"method={method!r} is not accepted", f"tf.image.resize takes {', '.join(IMAGE_METHODS)}",
                         "method='bilinear'")  # fmt: skip
        self.method = method.lower()
        check_bool(v["antialias"], "antialias", label)
        check_bool(v["preserve_aspect_ratio"], "preserve_aspect_ratio", label)

    def map(self, inputs: Inputs) -> Mapped:
        from .keras import tf_resize_sampling

        label = self.label
        x = ref_shape(self.v["images"], inputs, "images", label)
        given = shape_value(self.v["size"], inputs, "size", label)  # size=tf.shape(y)[1:3] once the parser reads it
        if not isinstance(given, (tuple, list)) or len(given) != 2:
            raise refuse(label, f"size={given!r} is not 2 sizes", "size is [new_height, new_width]", "size=(64, 64)")
        target = tuple(check_int(item, "size", label) for item in given)
        if len(x) not in (3, 4):
            raise refuse(label, f"images shape {tuple(x)} has {len(x)} dimensions",
                         "'images' must have either 3 or 4 dimensions", "(N, H, W, C) or (H, W, C)")  # fmt: skip
        unbatched = len(x) == 3
        batch, spatial, channels = (1, x[:2], x[2]) if unbatched else (x[0], x[1:3], x[3])
        if min(spatial) <= 0 or channels <= 0:
            what = "must be of non-zero size" if min(spatial) <= 0 else "must have at least one channel"
            raise refuse(label, f"images shape {tuple(x)} is empty", f"TensorFlow's resize: the input image {what}",
                         "a non-empty image (only the batch may be 0)")  # fmt: skip
        size, rule = target, "resize to the given size"
        if self.v["preserve_aspect_ratio"]:
            scale, size = arith.kept_aspect(spatial, target, half_even=True)
            rule = (
                f"preserve_aspect_ratio: one scale {scale!r} = min(size / n), out = round(scale x n) (ties to even) ="
            )
        if min(size) <= 0:
            raise refuse(label, f"size={size}", "the new height and width must be positive", "size=(64, 64)")
        sampling = tf_resize_sampling(self.method)
        antialias = bool(self.v["antialias"]) and self.method not in ("nearest", "area")  # those two ignore it
        if antialias and self.method == "bicubic":  # scale_and_translate's Keys cubic: no table, no exclusion
            sampling = {"resize_mode": "cubic", "coordinate": "half_pixel", "resize_arith": "tf"}
        spec = channels_last(2)
        op = ConvOp(
            "resize", batch, channels, channels, tuple(spatial), (1, 1), (1, 1), (1, 1), (0, 0), (0, 0), spec, spec,
            out_size=tuple(size), antialias=antialias, **sampling,
        )  # fmt: skip
        rules = tuple(f"{self.method} {rule} {m}" for m in size)
        return Mapped(
            FRAMEWORK, self.call, (op,), rules, layout="NHWC", squeeze_batch=unbatched,
            arguments=tuple(self.v.items()), framework_id=FRAMEWORK_ID,
        )  # fmt: skip


CALLS.update({"tf.image.resize": ImageResizePlan})
# -- rearranging and the functions built on others (wip8-rearr) ------------------------------------------------------
# depth_to_space / space_to_depth; atrous_conv2d (tf.nn.convolution with a dilation rate), separable_conv2d
# (depthwise_conv2d then a 1x1 conv2d, as TF builds it), max_pool_with_argmax (max_pool2d's first output).

BLOCK_PARAMS = (("input", REQUIRED), ("block_size", REQUIRED), ("data_format", "NHWC"), ("name", None))
BLOCK_FORMATS = ("NHWC", "NCHW", "NCHW_VECT_C")


def block_size_of(value, label: str) -> int:
    """TF's int attr: a float is truncated (measured: block_size=2.5 runs as 2), at least 2."""
    if isinstance(value, float) and value == value and abs(value) < 2**63:
        value = int(value)
    block = check_int(value, "block_size", label)
    if block < 2:
        raise refuse(label, f"block_size={block}", "TF's attr block_size has a minimum of 2", "block_size=2")
    return block


def blocks(kind: str):
    """tf.nn.depth_to_space / space_to_depth: NHWC, blocks of block_size x block_size in 'DCR' order
    (channel (i*b + j)*C + c holds block offset (i, j) of channel c); NCHW has no CPU kernel."""

    def handle(call, v: dict, inputs: Inputs) -> Mapped:
        label = label_of(call)
        block = block_size_of(v["block_size"], label)
        fmt = v["data_format"]
        if fmt not in BLOCK_FORMATS:
            raise refuse(
                label,
                f"data_format={fmt!r} is not accepted",
                f"TF allows {', '.join(BLOCK_FORMATS)}",
                "data_format='NHWC'",
            )
        x = tensor(v["input"], inputs, "input", label)
        if fmt != "NHWC":
            raise cpu_refusal(label, fmt, 2)
        if len(x) != 4:
            raise refuse(
                label, f"input shape {x} has rank {len(x)}", "the input is (N, H, W, C): rank 4", "an input of rank 4"
            )
        batch, h, w, depth = x
        square = block * block
        if kind == "depth_to_space":
            if depth % square:
                raise refuse(
                    label,
                    f"the input depth {depth} is not divisible by block_size**2 = {square}",
                    "each group of block_size**2 channels becomes a block of space",
                    f"a depth that is a multiple of {square}",
                )
            out_ch, spatial, verb = depth // square, (h * block, w * block), f"out = n*{block}"
        else:
            if h % block or w % block:
                raise refuse(
                    label,
                    f"the image width {w} and height {h} are not both divisible by block_size={block}",
                    "space is cut into block_size x block_size blocks",
                    f"a height and width that are multiples of {block}",
                )
            out_ch, spatial, verb = depth * square, (h // block, w // block), f"out = n/{block}"
        op = ConvOp(
            kind, batch, depth, out_ch, (h, w), (block, block), (block, block), (1, 1), (0, 0), (0, 0),
            channels_last(2), channels_last(2), block_order="DCR",
        )  # fmt: skip
        note = (
            f"block_size={block}: {verb}; channels {depth} -> {out_ch}; channel (i*{block} + j)*C + c "
            f"{'goes to' if kind == 'depth_to_space' else 'comes from'} offset (i, j) of channel c's block "
            "(block-major, 'DCR'; torch's pixel_shuffle is channel-major)."
        )
        return Mapped(
            FRAMEWORK, call, (op,), ("none: whole blocks move",) * 2, (note,), layout="NHWC",
            shape_override=(batch, *spatial, out_ch), arguments=tuple(v.items()), framework_id=FRAMEWORK_ID,
        )  # fmt: skip

    return handle


ATROUS_PARAMS = (("value", REQUIRED), ("filters", REQUIRED), ("rate", REQUIRED), ("padding", REQUIRED), ("name", None))


def atrous(call, v: dict, inputs: Inputs) -> Mapped:
    """tf.nn.atrous_conv2d(value, filters, rate, padding) is tf.nn.convolution(value, filters, padding,
    dilation_rate=broadcast_to(rate, (2,))) with 2-D filters."""
    label = label_of(call)
    rate = v["rate"]
    rates = tuple(rate) if isinstance(rate, (list, tuple)) else (rate,)
    rates = tuple(check_int(r, "rate", label) for r in rates)
    if len(rates) not in (1, 2):
        raise refuse(label, f"rate={rate!r} has {len(rates)} values", "rate broadcasts to (2,)", "rate=2")
    rates = rates * (2 // len(rates))
    if min(rates) < 1:
        raise refuse(
            label, f"rate={rate!r}", "all values of dilation_rate must be positive", "rate=1 (no dilation) or more"
        )
    w = tensor(v["filters"], inputs, "filters", label)
    if len(w) != 4:
        raise refuse(
            label, f"filters shape {w} has rank {len(w)}", "atrous_conv2d filters are (kh, kw, in, out)", "4-D filters"
        )
    padding = v["padding"]
    if isinstance(padding, str) and padding not in ("SAME", "VALID"):
        raise refuse(label, f"padding={padding!r}", "padding must be one of 'SAME' or 'VALID'", "padding='SAME'")
    conv_v = {"input": v["value"], "filters": v["filters"], "strides": None, "padding": padding}
    conv_v |= {"data_format": None, "dilations": list(rates), "name": None}
    return convolution(call, conv_v, inputs)


SEPARABLE_PARAMS = (("input", REQUIRED), ("depthwise_filter", REQUIRED), ("pointwise_filter", REQUIRED))
SEPARABLE_PARAMS += (("strides", REQUIRED), ("padding", REQUIRED), ("data_format", None), ("dilations", None))
SEPARABLE_PARAMS += (("name", None),)


def separable(call, v: dict, inputs: Inputs) -> Mapped:
    """tf.nn.separable_conv2d: depthwise_conv2d(input, depthwise_filter, strides, padding, dilations),
    then conv2d(., pointwise_filter, [1, 1, 1, 1], 'VALID'); the filters' ranks and the pointwise
    filter's 1 x 1 size are checked first (static shapes)."""
    label = label_of(call)
    dw = tensor(v["depthwise_filter"], inputs, "depthwise_filter", label)
    pw = tensor(v["pointwise_filter"], inputs, "pointwise_filter", label)
    for name, shape in (("depthwise_filter", dw), ("pointwise_filter", pw)):
        if len(shape) != 4:
            raise refuse(label, f"{name} shape {shape} has rank {len(shape)}", f"{name} must be 4-D", f"a 4-D {name}")
    if pw[0] != 1 or pw[1] != 1:
        raise refuse(
            label,
            f"pointwise_filter shape {pw} is {pw[0]} x {pw[1]}",
            "the pointwise filter is 1 x 1: (1, 1, in_channels * channel_multiplier, out_channels)",
            f"pointwise_filter of shape (1, 1, {pw[2]}, {pw[3]})",
        )
    dw_v = {"input": v["input"], "filter": v["depthwise_filter"], "strides": v["strides"], "padding": v["padding"]}
    dw_v |= {"data_format": v["data_format"], "dilations": v["dilations"], "name": None}
    first = depthwise(call, dw_v, inputs)
    depth = first.ops[0]
    lead, spatial = first.batch_dims, first.output_shape[len(first.batch_dims) : -1]
    if pw[2] == 0:
        raise refuse(
            label, f"pointwise_filter shape {pw} has depth 0", "conv2d's filter depth must be strictly positive",
            f"pointwise_filter of shape (1, 1, {depth.out_channels or 1}, {pw[3]})",
        )  # fmt: skip
    # measured: an input of depth 0 (channel_multiplier 0) runs, giving zeros with the pointwise out-channels
    empty = 0 in (*lead, *spatial)
    groups = 1 if depth.out_channels == 0 else check_groups(label, depth.out_channels, pw[2], pw[3], True, empty)
    point = make_op("conv", lead, depth.out_channels, pw[3], spatial, (1, 1), (1, 1), (1, 1), (0, 0), (0, 0))
    point = point.with_(groups=groups)
    notes = first.notes + (
        f"then a 1 x 1 pointwise conv2d, channels {depth.out_channels} -> {pw[3]}"
        + (f" in {groups} groups" if groups > 1 else "")
        + " (VALID, stride 1: the size stays).",
    )
    return Mapped(
        FRAMEWORK, call, (depth, point), first.padding_rules, notes, layout="NHWC",
        shape_override=(*lead, *spatial, pw[3]), arguments=tuple(v.items()), batch_dims=lead,
        space_to_batch=first.space_to_batch, framework_id=FRAMEWORK_ID, layer="separable",
        padding_intent=first.padding_intent,
    )  # fmt: skip


ARGMAX_PARAMS = (("input", REQUIRED), ("ksize", REQUIRED), ("strides", REQUIRED), ("padding", REQUIRED))
ARGMAX_PARAMS += (("data_format", "NHWC"), ("output_dtype", None), ("include_batch_in_index", False), ("name", None))


def argmax_sequence(value, name: str, label: str) -> list[int]:
    """ksize/strides of max_pool_with_argmax: an int or 1, 2 or 4 ints, as the 4 entries of NHWC."""
    items = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    items = tuple(check_int(item, name, label) for item in items)
    if len(items) not in (1, 2, 4):
        raise refuse(label, f"{name}={value!r} has {len(items)} values", f"{name} has length 1, 2 or 4", f"{name}=2")
    return list(items) if len(items) == 4 else [1, *(items * (2 // len(items))), 1]


def argmax(call, v: dict, inputs: Inputs) -> Mapped:
    """tf.nn.max_pool_with_argmax: the pair (output, argmax), both the shape of max_pool2d's output;
    convarith answers for the first. NHWC only, 'SAME'/'VALID', no empty input."""
    label = label_of(call)
    if v["data_format"] != "NHWC":
        raise refuse(
            label,
            f"data_format={v['data_format']!r}",
            "values other than 'NHWC' are not supported",
            "data_format='NHWC'",
        )
    ksize = argmax_sequence(v["ksize"], "ksize", label)
    strides = argmax_sequence(v["strides"], "strides", label)
    if not isinstance(v["padding"], str):
        raise refuse(
            label, f"padding={v['padding']!r}", "max_pool_with_argmax takes 'SAME' or 'VALID'", "padding='SAME'"
        )
    check_padding(v["padding"], 2, label, explicit=False)
    x = tensor(v["input"], inputs, "input", label)
    check_rank(x, 4, "input", label)
    if 0 in x:
        raise refuse(label, f"input shape {x} is empty", "tensor_in must not be empty", "an input with every size >= 1")
    pool_v = {"input": v["input"], "ksize": ksize, "strides": strides, "padding": v["padding"]}
    mapped = POOL_ND_BODIES[(2, "max_pool")](call, pool_v | {"data_format": "NHWC", "name": None}, inputs)
    if mapped.ops[0].out_channels != mapped.ops[0].in_channels:
        raise refuse(
            label,
            f"ksize={v['ksize']!r} pools over the depth",
            "max_pool_with_argmax pools height and width only",
            "a depth entry of 1",
        )
    batch = (
        " including the batch, ((b*H + y)*W + x)*C + c" if v["include_batch_in_index"] is True else ", (y*W + x)*C + c"
    )
    note = (
        "returns the pair (output, argmax): the shape shown is the output's; argmax has the same shape and holds "
        f"each maximum's flat index in the input{batch} (output_dtype int64 unless given)."
    )
    return replace(mapped, notes=mapped.notes + (note,), arguments=tuple(v.items()))


CALLS.update(  # the bare names are registered by frameworks.table(), to these same functions
    {
        f"tf.nn.{name}": partial(TfPlan, params=params, body=body)
        for name, params, body in (
            ("depth_to_space", BLOCK_PARAMS, blocks("depth_to_space")),
            ("space_to_depth", BLOCK_PARAMS, blocks("space_to_depth")),
            ("atrous_conv2d", ATROUS_PARAMS, atrous),
            ("separable_conv2d", SEPARABLE_PARAMS, separable),
            ("max_pool_with_argmax", ARGMAX_PARAMS, argmax),
        )
    }
)
# -- sweeps: the rules over arrays (convarith.sweep) ------------------------------------------------


def sequence_axes(value, rank: int):
    """The spatial entries (ints or Names) of a strides/ksize/dilations value in TF's
    _get_sequence forms (channels last), and the names in its batch and channel entries."""
    if value is None:
        return (1,) * rank, set()
    if isinstance(value, (list, tuple)) and len(value) == rank + 2:
        return per_axis(tuple(value[1:-1]), rank, False), names_in([value[0], value[-1]])
    return per_axis(value, rank, True), set()


def vector_rule(call, inputs, candidates: set, strict: bool = True):
    """sweep's rule for conv1d/2d/3d and max_pool/avg_pool(1d/2d/3d) channels last with 'SAME' or
    'VALID': their input and kernel spatial sizes, strides, ksize and dilations as arrays. The call
    compiled and answered with neutral values says the rest is sound."""
    function = CALLS.get(call.name)
    plan_class = getattr(function, "func", None)
    if plan_class not in (ConvPlan, PoolNdPlan) or inputs.input_shape is not None or not inputs.shapes:
        return None
    rank = function.keywords["rank"]
    conv = plan_class is ConvPlan
    if conv and rank is None:
        return None  # tf.nn.convolution
    try:
        v = bind(call, conv_params(rank) if conv else pool_nd_params(rank), label_of(call))
    except ConvArithError:
        return None
    x = inputs.shapes.get(name_of(v["input"]))
    w = inputs.shapes.get(name_of(v["filters"])) if conv else ()
    if not isinstance(x, tuple) or not isinstance(w, tuple):
        return None
    rank = rank or len(x) - 2
    if len(x) < rank + 2 or (not conv and len(x) != rank + 2) or (conv and len(w) != rank + 2):
        return None
    keys = {"stride": "stride" if rank == 1 and conv else "strides"}
    keys |= {"kernel": None, "dilation": "dilations"} if conv else {"ksize": "ksize"}
    axes, others = {}, set()
    for param, key in keys.items():
        if key is None:
            axes[param] = w[:rank]
            continue
        axes[param], held = sequence_axes(v[key], rank)
        others |= held
        if axes[param] is None:
            return None
    lead = x[: len(x) - rank - 1]
    used = {*keys.values(), "input", "filters"}  # (the tensors are named, not swept)
    others |= set().union(*(names_in(value) for key, value in v.items() if key not in used))
    others |= names_in(lead + x[-1:] + w[rank:])
    rule = None
    if strict:
        if v["padding"] not in ("SAME", "VALID") or v["data_format"] not in (None, LAST.get(rank)):
            return None
        try:
            plan = function(with_values(call, neutral_values(v, candidates - tensors_of(v, ("input", "filters")))))
            plan.shape(neutral_inputs(inputs))
        except ConvArithError:
            return None
        lead_empty = 0 in lead
        if conv:
            rule = lambda got: ConvPlan.sweep_rule(got, v["padding"], rank, lead_empty)  # noqa: E731
        else:
            rule = lambda got: PoolNdPlan.sweep_rule(got, v["padding"], rank)  # noqa: E731
    slots = range(len(lead), len(lead) + rank)
    return array_rule(axes, x[len(lead) : len(lead) + rank], others, candidates, strict, len(x), slots, rule)
