"""Keras 3 (TensorFlow backend) in a translation: its layers as the source, keras.layers
as the target, and ``emit`` (a canonical op back to one Keras layer call).

As the target, every body works channels_last (N, spatial..., C), the layout Keras runs
on the CPU: a layer is used where its own padding gives the same op for this input
(checked by mapping the emitted call); else explicit ZeroPadding/Cropping layers or
``keras.ops`` steps wrap a 'valid' layer, with a divisor correction for averages.
Measured on Keras 3.15 CPU and worked around here: a conv with strides > 1 and
dilation_rate > 1 (refused: the kernel is dilated with zeros instead), transposed convs
with dilation_rate > 1 (refused on CPU: dilated kernel) or groups (no groups=: one
block-diagonal kernel), DepthwiseConv2D with unequal strides (refused: Conv2D groups=).
"""

from __future__ import annotations

from ..api import map_call
from ..core import arith
from ..core.op import ConvOp, channels_first, channels_last
from ..errors import ConvArithError
from ..frameworks import keras as rules
from ..frameworks._common import Mapped, refuse
from . import steps
from .parts import Source, Target

__all__ = ["FRAMEWORK_ID", "emit", "source", "target"]

FRAMEWORK_ID = "keras"
IMPORTS = ("import keras", "import numpy as np")
# arguments a translation leaves out: they do not change the numbers once the weights are set
UNUSED = ("name", "dtype", "trainable", "autocast", "input_shape", "input_dim", "lora_rank", "lora_alpha")
WEIGHT_OBJECTS = ("_initializer", "_regularizer", "_constraint")
# activations that act on the output's last axis (the others are elementwise)
LAST_AXIS = ("softmax", "log_softmax", "sparsemax", "glu")
CONV_LAYERS = tuple(f"keras_layer = keras.layers.{name}" for name in ("Conv", "DepthwiseConv", "SeparableConv"))


# --- layouts as data (reference.adapters.keras_params applies the same steps) ----------------------------------


def kernel_steps(rank: int) -> tuple:
    """Keras kernel (k..., a, b) -> canonical (b, a, k...): Conv (k..., C/groups, filters),
    Conv*Transpose (k..., filters, C), SeparableConv's pointwise kernel (1..., C*m, filters)."""
    return (steps.Transpose((rank + 1, rank, *range(rank))),)


def depthwise_steps(kernel: tuple[int, ...], channels: int, multiplier: int) -> tuple:
    """depthwise_kernel (k..., C, multiplier) -> canonical (C*multiplier, 1, k...): output
    channel c*multiplier + m."""
    rank, depth = len(kernel), channels * multiplier
    return (
        steps.Reshape((*kernel, depth), (*kernel, channels, multiplier)),
        steps.Transpose((rank, *range(rank))),
        steps.Reshape((depth, 1, *kernel), (depth, *kernel)),
    )


def input_steps(spec: tuple[int, ...]) -> tuple:
    """A tensor laid out by ``spec`` -> canonical (N, C, spatial...)."""
    return (steps.Transpose(tuple(spec)),)


def weight_layout(mapped: Mapped) -> tuple[tuple[str, int, str, tuple], ...]:
    """(name, op index, 'w' or 'b', steps to canonical) of each array of layer.get_weights(), in order."""
    op, last = mapped.ops[0], mapped.ops[-1]
    if op.weightless:
        return ()
    if mapped.layer in ("depthwise", "separable"):
        multiplier = op.out_channels // op.in_channels if op.in_channels else 1
        layout = [("depthwise_kernel", 0, "w", depthwise_steps(op.kernel, op.in_channels, multiplier))]
        if mapped.layer == "separable":
            layout.append(("pointwise_kernel", 1, "w", kernel_steps(op.rank)))
    else:
        layout = [("kernel", 0, "w", kernel_steps(op.rank))]
    if last.bias:
        layout.append(("bias", len(mapped.ops) - 1, "b", ()))
    return tuple(layout)


# --- Keras as the source -----------------------------------------------------------------------------------------


def layer_text(mapped: Mapped) -> str:
    """The layer call written out from its parsed values (never the user's text): the
    arguments that change the numbers, the activation by its canonical name."""
    call, label = mapped.call, mapped.call.base
    activation = repr(mapped.activation) if mapped.activation else "None"
    names = [key for key, _ in mapped.arguments]
    parts = [
        activation if names[index] == "activation" else literal(value, label) for index, value in enumerate(call.args)
    ]
    for key, value in call.kwargs:
        if key in UNUSED or key.endswith(WEIGHT_OBJECTS):
            continue
        parts.append(f"{key}={activation if key == 'activation' else literal(value, label)}")
    return f"keras.layers.{call.base}({', '.join(parts)})"


def literal(value, label: str) -> str:
    """repr() of a parsed literal; a name or call there is refused (it would have to be run)."""
    if isinstance(value, (int, float, str, type(None))):
        return repr(value)
    if isinstance(value, (tuple, list)):
        items = ", ".join(literal(item, label) for item in value)
        if isinstance(value, list):
            return f"[{items}]"
        return f"({items},)" if len(value) == 1 else f"({items})"
    raise refuse(
        label,
        f"the argument {value!r} is a name or a call",
        "a translation writes the layer out from literal values only and never runs the user's text",
        "write the value as a number, string or tuple",
    )


def source(mapped: Mapped) -> Source:
    """Keras layer as the source: ``layer(x, weights=None)`` with x in the layer's data_format and
    weights as layer.get_weights() gives them. Keras's channels_first bias on the output's last axis
    (see ``reference.adapters.keras_bias_on_last_axis``) is added back in ``from_canonical``."""
    from ..reference.adapters import keras_bias_on_last_axis

    label, first, last = mapped.call.base, mapped.ops[0], mapped.ops[-1]
    if mapped.activation and mapped.activation not in rules.ACTIVATIONS:
        raise refuse(
            label,
            f"activation={mapped.activation} is a function convarith cannot identify",
            "a translation needs a known activation to write it in the target",
            "activation='relu' (or another name Keras accepts)",
        )
    quirk = keras_bias_on_last_axis(mapped)
    if quirk and mapped.activation:
        raise refuse(
            label,
            f"activation={mapped.activation!r} follows a bias Keras adds along the output's last axis "
            f"(channels_first, last axis {arith.output_shape(last)[-1]} = filters)",
            "the target applies the activation to the op's output, before the source layout is restored",
            "activation=None and the activation after the layer, or data_format='channels_last'",
        )
    lines = [f"x = {steps.code(input_steps(first.in_spec), 'np.asarray(x, dtype=np.float32)')}"]
    layout = weight_layout(mapped)
    params = [["None", "None"] for _ in mapped.ops]
    notes = []
    if layout:
        names = ", ".join(name for name, *_ in layout)
        lines += [
            "weights = [np.asarray(w, dtype=np.float32) for w in (weights or ())]",
            f"if len(weights) != {len(layout)}:",
            f"    raise ValueError(f'{label} takes {len(layout)} weight arrays ({names}, layer.get_weights() order), "
            "got {len(weights)}')",
        ]
        for position, (name, index, role, to_canonical) in enumerate(layout):
            text = steps.code(to_canonical, f"weights[{position}]")
            if role == "b" and quirk:
                lines.append(f"last_axis_bias = {text}")
                notes.append("Keras adds this bias along the output's last axis (channels_first, as long as filters)")
                continue
            params[index][0 if role == "w" else 1] = text
            if to_canonical:
                notes.append(f"Keras {name} {keras_axes(name, first)} -> canonical {canonical_axes(name, first)}")
    lines.append(f"params = [{', '.join(f'({w}, {b})' for w, b in params)}]")
    back = []
    if len(last.out_spec) < len(last.in_spec):
        back.append("y = y.reshape(y.shape[:2])")
    back.append(f"y = {steps.code(steps.inverse(input_steps(last.out_spec)), 'y')}")
    if back[-1] == "y = y":
        back.pop()
    if quirk:
        back.append("y = y + last_axis_bias")
    run = [f"keras_layer = {layer_text(mapped)}", "x = np.asarray(x, dtype=np.float32)"]
    if layout:
        run += [
            "keras_layer.build(x.shape)",
            "if weights is not None:",
            "    keras_layer.set_weights([np.asarray(w, dtype=np.float32) for w in weights])",
        ]
    run.append("y = keras.ops.convert_to_numpy(keras_layer(x))")
    return Source("x, weights=None", tuple(lines), tuple(back), IMPORTS, tuple(run), tuple(notes))


def keras_axes(name: str, op: ConvOp) -> str:
    spatial = tuple(f"k{axis}" for axis in arith.axis_names(op.rank))
    if name == "depthwise_kernel":
        return f"({', '.join(spatial)}, C, multiplier)"
    if op.kind == "conv_transpose":
        return f"({', '.join(spatial)}, filters, C)"
    return f"({', '.join(spatial)}, C/groups, filters)" if name == "kernel" else "(1..., C*m, filters)"


def canonical_axes(name: str, op: ConvOp) -> str:
    spatial = ", ".join(f"k{axis}" for axis in arith.axis_names(op.rank))
    if name == "depthwise_kernel":
        return f"(C*multiplier, 1, {spatial})"
    if op.kind == "conv_transpose":
        return f"(C, filters, {spatial})"
    return f"(filters, C/groups, {spatial})" if name == "kernel" else "(filters, C*m, 1...)"


# --- emit: a canonical op back to one Keras layer call -------------------------------------------------------------


def data_format(op: ConvOp) -> str:
    """The data_format argument text for the op's layout ('' for channels_last)."""
    if op.in_spec == channels_last(op.rank) and (op.out_spec == op.in_spec or len(op.out_spec) == 2):
        return ""
    if op.in_spec == channels_first(op.rank) and (op.out_spec == op.in_spec or len(op.out_spec) == 2):
        return "data_format='channels_first'"
    raise no_layer(op, f"its layout {op.in_spec} -> {op.out_spec} is neither channels_last nor channels_first")


def no_layer(op: ConvOp, why: str) -> ConvArithError:
    return refuse(
        "Keras",
        f"no single Keras layer computes this {op.kind} op: {why}",
        "keras.layers take their padding as 'valid'/'same' (Conv1D 'causal'), one layout and one rule for all axes",
        "translate(..., to='keras'), which adds ZeroPadding/Cropping and keras.ops steps around a layer",
    )


def joined(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


def ints(values: tuple[int, ...]) -> str:
    return repr(values[0]) if len(set(values)) == 1 else repr(tuple(values))


def strides_text(op: ConvOp) -> str:
    return "" if set(op.stride) == {1} else f"strides={ints(op.stride)}"


def conv_candidates(op: ConvOp) -> list[str]:
    rank, fmt = op.rank, data_format(op)
    common = joined(f"kernel_size={ints(op.kernel)}", strides_text(op))
    dilation = "" if set(op.dilation) == {1} else f"dilation_rate={ints(op.dilation)}"
    bias = "" if op.bias else "use_bias=False"
    texts = []
    for padding in ("valid", "same", "causal") if rank == 1 else ("valid", "same"):
        pad = f"padding={padding!r}"
        groups = "" if op.groups == 1 else f"groups={op.groups}"
        texts.append(f"Conv{rank}D({joined(str(op.out_channels), common, pad, dilation, groups, bias, fmt)})")
        if op.groups == op.in_channels and op.out_channels % op.in_channels == 0 and rank <= 2:
            multiplier = op.out_channels // op.in_channels
            depth = "" if multiplier == 1 else f"depth_multiplier={multiplier}"
            depthwise = f"DepthwiseConv{rank}D({joined(common, pad, depth, dilation, bias, fmt)})"
            texts.insert(len(texts) - (op.groups > 1), depthwise)  # before Conv unless one channel
    return texts


def transpose_candidates(op: ConvOp) -> list[str]:
    """Conv*DTranspose calls that may give ``op``: 'valid'/'same', output_padding None or the
    one per axis that gives the op's output size (Keras needs 0 <= output_padding < strides)."""
    rank, fmt = op.rank, data_format(op)
    if op.groups != 1:
        return []
    common = joined(f"{op.out_channels}, kernel_size={ints(op.kernel)}", strides_text(op))
    dilation = "" if set(op.dilation) == {1} else f"dilation_rate={ints(op.dilation)}"
    bias = "" if op.bias else "use_bias=False"
    out = arith.output_spatial(op)
    texts = []
    for padding in ("valid", "same"):
        texts.append(f"Conv{rank}DTranspose({joined(common, f'padding={padding!r}', dilation, bias, fmt)})")
        extra = []
        for n, k, d, s, m in zip(op.in_size, op.kernel, op.dilation, op.stride, out):
            k_eff = arith.effective_kernel(k, d)
            base = (n - 1) * s + k_eff - (2 * (k_eff // 2) if padding == "same" else 0)
            extra.append(m - base)
        if all(0 <= p < s for p, s in zip(extra, op.stride)):
            given = f"output_padding={ints(tuple(extra))}"
            texts.append(f"Conv{rank}DTranspose({joined(common, f'padding={padding!r}', given, dilation, bias, fmt)})")
    return texts


def pool_candidates(op: ConvOp) -> list[str]:
    rank, fmt = op.rank, data_format(op)
    name = "Max" if op.kind == "max_pool" else "Average"
    texts = []
    if op.kernel == op.in_size and not any(op.pad_lo + op.pad_hi) and set(op.stride) == {1}:
        keep = "" if len(op.out_spec) == 2 else "keepdims=True"
        texts.append(f"Global{name}Pooling{rank}D({joined(fmt, keep)})")
    if len(op.out_spec) == 2:
        return texts
    for padding in ("valid", "same"):
        strides = f"strides={ints(op.stride)}"  # a pooling's strides default to its pool_size
        texts.append(f"{name}Pooling{rank}D({joined(ints(op.kernel), strides, f'padding={padding!r}', fmt)})")
    return texts


def pad_candidates(op: ConvOp) -> list[str]:
    rank, fmt = op.rank, data_format(op)
    pairs = tuple(zip(op.pad_lo, op.pad_hi))
    if op.pad_mode != "zeros" or op.pad_value != 0:
        return []
    if all(lo >= 0 and hi >= 0 for lo, hi in pairs):
        return [f"ZeroPadding{rank}D({joined(pair_text(pairs, 1), fmt)})"]
    if all(lo <= 0 and hi <= 0 for lo, hi in pairs) and (rank > 1 or not fmt):
        return [f"Cropping{rank}D({joined(pair_text(pairs, -1), fmt)})"]
    return []


def pair_text(pairs: tuple[tuple[int, int], ...], sign: int) -> str:
    pairs = tuple((sign * lo, sign * hi) for lo, hi in pairs)
    return repr(pairs[0]) if len(pairs) == 1 else repr(pairs)


def resize_candidates(op: ConvOp) -> list[str]:
    rank, fmt = op.rank, data_format(op)
    factors = tuple(round(scale) for scale in op.sample_scale)
    if not factors or any(f < 1 or f != scale for f, scale in zip(factors, op.sample_scale)):
        return []
    size = ints(factors) if rank > 1 else str(factors[0])
    texts = [f"UpSampling{rank}D({joined(size, fmt)})"]
    if rank == 2:
        texts += [
            f"UpSampling2D({joined(size, fmt, f'interpolation={method!r}')})"
            for method in rules.UPSAMPLING_INTERPOLATIONS if method != "nearest"
        ]  # fmt: skip
    return texts


CANDIDATES = {
    "conv": conv_candidates,
    "conv_transpose": transpose_candidates,
    "max_pool": pool_candidates,
    "avg_pool": pool_candidates,
    "pad": pad_candidates,
    "resize": resize_candidates,
}


def layer_ops(text: str, op: ConvOp) -> tuple[ConvOp, ...] | None:
    """The ops Keras's mapping gives ``keras.layers.<text>`` on the op's input (None if refused)."""
    try:
        return map_call(f"keras.layers.{text}", op.input_shape).ops
    except ConvArithError:
        return None


def emit(op: ConvOp) -> str:
    """One keras.layers call whose mapping on ``op.input_shape`` is ``op`` (field by field)."""
    if op.rank not in (1, 2, 3) or op.kind not in CANDIDATES:
        raise no_layer(op, "Keras has no such layer" if op.rank in (1, 2, 3) else f"it has {op.rank} spatial axes")
    for text in CANDIDATES[op.kind](op):
        if layer_ops(text, op) == (op,):
            return f"keras.layers.{text}"
    last = matching(op) if op.in_spec != channels_last(op.rank) else None
    if last is not None:
        raise no_layer(op, f"Keras refuses it channels_first on the CPU; channels_last it is keras.layers.{last}")
    raise no_layer(op, "none of its padding rules gives these pads, sizes and options for this input")


def matching(op: ConvOp, alike=lambda a, b: a == b, same_first: bool = False) -> str | None:
    """The first candidate layer (channels_last) whose op is ``alike`` the op, or None; with
    ``same_first`` (the source said 'same') a 'same' layer is preferred where both give the op."""
    op = op.with_(in_spec=channels_last(op.rank), out_spec=channels_last(op.rank))
    if op.rank not in (1, 2, 3) or op.kind not in CANDIDATES:
        return None
    texts = CANDIDATES[op.kind](op)
    for text in sorted(texts, key=lambda text: "padding='same'" not in text) if same_first else texts:
        got = layer_ops(text, op)
        if got is not None and len(got) == 1 and alike(got[0], op):
            return text
    return None


def same_transposed(a: ConvOp, b: ConvOp) -> bool:
    """The same numbers: a transposed conv is its full scatter read from pad_lo for out cells."""
    ignored = {"pad_hi": (0,) * a.rank, "output_padding": (0,) * a.rank}
    return a.with_(**ignored) == b.with_(**ignored) and arith.output_spatial(a) == arith.output_spatial(b)


# --- Keras as the target -----------------------------------------------------------------------------------------


class Writer:
    """The body being written: ``t`` is the current tensor, channels_last."""

    def __init__(self, rank: int) -> None:
        self.rank = rank
        self.same_first = False  # the op being written came with 'same' padding (Mapped.padding_intent)
        self.lines: list[str] = []
        self.notes: list[str] = []
        self.calls: list[str] = []

    def layer(self, text: str, weights: str = "") -> None:
        """Build keras.layers.<text>, set ``weights`` (a list expression), apply it to t."""
        self.lines.append(f"keras_layer = keras.layers.{text}")
        if weights:
            self.lines += ["keras_layer.build(tuple(t.shape))", f"keras_layer.set_weights({weights})"]
        self.lines.append("t = keras_layer(t)")
        self.calls.append(f"keras.layers.{text}")

    def ops_call(self, line: str, call: str) -> None:
        self.lines.append(line)
        self.calls.append(call)

    def axes(self, pairs) -> str:
        """keras.ops.pad widths over (N, spatial..., C)."""
        return repr([[0, 0], *([lo, hi] for lo, hi in pairs), [0, 0]])

    def crop_pad(self, sizes, lo, hi, fill: float = 0.0, mode: str = "zeros", why: str = "") -> None:
        """Negative sides of axes of ``sizes`` cells cropped, positive ones padded: a constant pad
        first (ZeroPadding, or keras.ops.pad with the fill), then the crop (a side is one or the
        other, so the order does not matter and no axis empties); reflect by keras.ops.pad where
        TensorFlow's MirrorPad takes it, else every copying mode as keras.ops.take of the cells
        each output cell copies (TF has no edge or wrap mode; measured)."""
        crop = tuple((max(-a, 0), max(-b, 0)) for a, b in zip(lo, hi))
        pad = tuple((max(a, 0), max(b, 0)) for a, b in zip(lo, hi))
        if mode == "zeros":
            self.pad(pad, fill, why)
            self.crop(crop, why)
            return
        mirrored = mode == "reflect" and self.rank <= 3 and not any(sum(pair) for pair in crop)
        if mirrored and all(max(pair) < n for pair, n in zip(pad, sizes)):
            self.ops_call(f"t = keras.ops.pad(t, {self.axes(pad)}, mode='reflect')", "keras.ops.pad(mode='reflect')")
            self.notes.append("keras.ops.pad(mode='reflect'): reflect padding")
            return
        from ..reference.layers import pad_sources  # NumPy: the copied cells, as the reference copies them

        for axis, (n, a, b) in enumerate(zip(sizes, lo, hi)):
            if a or b:
                source = pad_sources(n, a, b, mode)[0].tolist()
                self.ops_call(f"t = keras.ops.take(t, {source}, axis={axis + 1})", f"keras.ops.take(axis={axis + 1})")
        self.notes.append(
            f"{mode} padding {tuple(zip(lo, hi))}: keras.ops.take of the cells each output cell copies "
            "(keras.ops.pad on TensorFlow has no edge or wrap mode, and mirrors only pads below the axis length)"
        )

    def crop(self, crop, why: str) -> None:
        if any(sum(pair) for pair in crop) and self.rank > 3:  # no Cropping layer: a slice
            kept = ", ".join(f"{a}:{-b if b else ''}" for a, b in crop)
            self.ops_call(f"t = t[:, {kept}, :]", "slice")
            self.notes.append(f"a slice {crop}: negative padding{why} removes cells (no Cropping{self.rank}D)")
        elif any(sum(pair) for pair in crop):
            self.layer(f"Cropping{self.rank}D({pair_text(crop, 1)})")
            self.notes.append(f"Cropping{self.rank}D {crop}: negative padding{why} removes cells")

    def pad(self, pad, fill: float, why: str) -> None:
        if not any(sum(pair) for pair in pad):
            return
        if fill == 0.0 and self.rank <= 3:
            self.layer(f"ZeroPadding{self.rank}D({pair_text(pad, 1)})")
            self.notes.append(f"ZeroPadding{self.rank}D {pad}: explicit padding{why} that no Keras padding= rule gives")
            return
        value = number(fill)
        self.ops_call(
            f"t = keras.ops.pad(t, {self.axes(pad)}, constant_values={value})",
            f"keras.ops.pad(x, {self.axes(pad)}, constant_values={value})",
        )
        self.notes.append(f"keras.ops.pad with {value}: padding{why} filled with that value")


def number(value: float) -> str:
    """A float as code: infinities as np.inf."""
    if value in (float("inf"), float("-inf")):
        return "np.inf" if value > 0 else "-np.inf"
    return repr(value)


def unsupported(op: ConvOp, why: str, closest: str) -> ConvArithError:
    return refuse(
        "Keras",
        f"this {op.kind} op cannot be written in Keras: {why}",
        "a translation uses keras.layers and keras.ops only, and these have no equivalent",
        closest,
    )


def target(mapped: Mapped) -> Target:
    """keras.layers computing the canonical chain of ``mapped`` (from any framework)."""
    first = mapped.ops[0]
    rank = first.rank
    if mapped.space_to_batch and any(s > 1 for op in mapped.ops for s in op.stride):
        raise unsupported(first, "TensorFlow runs it as space-to-batch, whose strided windows are not those of a "
                          "strided dilated op", "strides=1, or dilations=1")  # fmt: skip
    if not 1 <= rank <= 3 and any(op.kind != "pad" for op in mapped.ops):  # pads: keras.ops, any rank
        raise unsupported(first, f"it has {rank} spatial axes", "Keras layers have 1 to 3 spatial axes")
    writer = Writer(rank)
    last = mapped.ops[-1]
    out = (last.batch // last.batch_groups, last.out_channels, *(max(m, 0) for m in arith.output_spatial(last)))
    if 0 in out and mapped.activation != "glu":  # nothing to compute, and Keras layers refuse empty windows
        writer.ops_call(f"t = keras.ops.zeros({(out[0], *out[2:], out[1])})", "keras.ops.zeros")
        writer.notes.append(f"the output {out} is empty: an empty tensor of its shape (Keras refuses empty windows)")
        writer.lines.append(f"y = np.transpose(keras.ops.convert_to_numpy(t), {(0, rank + 1, *range(1, rank + 1))})")
        return Target("keras.ops.zeros", IMPORTS, tuple(writer.lines), tuple(writer.notes), tuple(writer.calls))
    to_last = (0, *range(2, rank + 2), 1)
    writer.lines.append(f"t = np.transpose(np.asarray(x, dtype=np.float32), {to_last})")
    separable = separable_layer(mapped.ops)
    if separable:
        write_separable(writer, mapped.ops, separable)
    for index, op in enumerate(() if separable else mapped.ops):
        if (
            0 in (op.batch, op.in_channels, op.out_channels, *op.in_size)
            or min(arith.output_spatial(op), default=1) <= 0
        ):
            raise unsupported(op, "its input or output is empty (Keras layers refuse empty crops and windows)",
                              "a non-empty input and output")  # fmt: skip
        if op.rank != rank:
            raise unsupported(op, "the chain changes its number of spatial axes", "one op at a time")
        writer.same_first = index == 0 and "same_upper" in mapped.padding_intent
        write_op(writer, op, index)
    if mapped.activation:
        activate(writer, mapped)
    if not writer.calls:
        writer.layer("Identity()")
        writer.notes.append("the op changes nothing (no padding, no window): keras.layers.Identity")
    back = (0, rank + 1, *range(1, rank + 1))
    writer.lines.append(f"y = np.transpose(keras.ops.convert_to_numpy(t), {back})")
    call = writer.calls[-1] if len(writer.calls) == 1 else next(
        (c for c in writer.calls if c.startswith("keras.layers.") and "Padding" not in c and "Cropping" not in c),
        writer.calls[-1],
    )  # fmt: skip
    return Target(call, IMPORTS, tuple(writer.lines), tuple(writer.notes), tuple(writer.calls))


def separable_layer(ops: tuple[ConvOp, ...]) -> str:
    """The SeparableConv layer (channels_last) giving a depthwise conv then a 1x1 conv, or ''."""
    if len(ops) != 2 or ops[0].rank > 2 or ops[0].kind != "conv" or ops[1].kind != "conv":
        return ""
    rank = ops[0].rank
    depth, point = (op.with_(in_spec=channels_last(rank), out_spec=channels_last(rank)) for op in ops)
    if depth.groups != depth.in_channels or depth.bias or depth.out_channels % max(depth.in_channels, 1):
        return ""
    if min(arith.output_spatial(depth)) <= 0 or depth.batch == 0 or depth.in_channels == 0:
        return ""
    multiplier = (
        "" if depth.out_channels == depth.in_channels else f"depth_multiplier={depth.out_channels // depth.in_channels}"
    )
    dilation = "" if set(depth.dilation) == {1} else f"dilation_rate={ints(depth.dilation)}"
    for padding in ("valid", "same"):
        args = joined(str(point.out_channels), f"kernel_size={ints(depth.kernel)}", strides_text(depth),
                      f"padding={padding!r}", multiplier, dilation, "" if point.bias else "use_bias=False")  # fmt: skip
        text = f"SeparableConv{rank}D({args})"
        if layer_ops(text, depth) == (depth, point):
            return text
    return ""


def write_separable(writer: Writer, ops: tuple[ConvOp, ...], text: str) -> None:
    depth, point = ops
    multiplier = depth.out_channels // depth.in_channels
    depthwise = steps.code(steps.inverse(depthwise_steps(depth.kernel, depth.in_channels, multiplier)), "dw")
    pointwise = steps.code(steps.inverse(kernel_steps(depth.rank)), "w")
    writer.lines.append("(dw, _), (w, b) = params")
    writer.layer(text, f"[{depthwise}, {pointwise}] + {bias_text(point)}")
    writer.notes.append(f"the depthwise and the 1x1 pointwise conv: one SeparableConv{depth.rank}D")


def write_op(writer: Writer, op: ConvOp, index: int) -> None:
    if op.kind == "conv":
        write_conv(writer, op, index)
    elif op.kind == "conv_transpose":
        write_transposed(writer, op, index)
    elif op.kind in ("max_pool", "avg_pool", "lp_pool", "min_pool", "sum_pool"):
        write_pool(writer, op)
    elif op.kind == "pad":
        write_pad(writer, op)
    elif op.kind in ("adaptive_avg_pool", "adaptive_max_pool"):
        write_adaptive(writer, op)
    elif op.kind == "resize":
        write_resize(writer, op)
    elif op.kind in ("depth_to_space", "space_to_depth"):
        write_rearrange(writer, op)
    elif op.kind in ("unfold", "fold"):
        write_patches(writer, op)
    elif op.kind == "max_unpool":
        write_unpool(writer, op, index)
    else:
        raise unsupported(op, f"Keras has no {op.kind} layer", "the op in its source framework")


def bias_text(op: ConvOp) -> str:
    return f"[b if b is not None else np.zeros({op.out_channels}, np.float32)]" if op.bias else "[]"


def lhs_dilate(writer: Writer, op: ConvOp, fill: float = 0.0) -> ConvOp:
    """Holes between the input cells (JAX lhs_dilation): a new axis of ``fill`` after each cell, merged."""
    sizes = list(op.in_size)
    for axis, factor in enumerate(op.lhs_dilation):
        if factor == 1 or sizes[axis] == 0:
            continue
        dim = axis + 1
        widths = [[0, 0]] * (writer.rank + 3)
        widths[dim + 1] = [0, factor - 1]
        shape = ["-1" if i == 0 else str(s) for i, s in enumerate([0, *sizes, op.in_channels])]
        shape[dim] = str(sizes[axis] * factor)
        value = "" if fill == 0.0 else f", constant_values={number(fill)}"
        writer.ops_call(f"t = keras.ops.pad(keras.ops.expand_dims(t, {dim + 1}), {widths}{value})", "keras.ops.pad")
        writer.lines.append(f"t = keras.ops.reshape(t, ({', '.join(shape)}))")
        sizes[axis] = arith.dilated_size(sizes[axis], factor)
        writer.lines.append("t = t[" + ":, " * dim + f":{sizes[axis]}]")
    what = "zeros" if fill == 0.0 else repr(fill)
    writer.notes.append(f"lhs_dilation {op.lhs_dilation}: {what} put between the input cells (keras.ops pad, reshape)")
    return op.with_(in_size=tuple(sizes), lhs_dilation=(1,) * op.rank)


def windows_end(op: ConvOp) -> tuple[int, ...]:
    """Per axis, the cells past the padded input the last window reaches (ceil/trunc rounding)."""
    out = arith.output_spatial(op)
    return tuple(
        max((m - 1) * s + arith.effective_kernel(k, d) - (n + lo + hi), 0)
        for m, s, k, d, n, lo, hi in zip(out, op.stride, op.kernel, op.dilation, op.in_size, op.pad_lo, op.pad_hi)
    )


def padded_valid(writer: Writer, op: ConvOp, fill: float = 0.0, why: str = "") -> ConvOp:
    """Explicit pads (and the cells a ceil/trunc window reaches past them) as steps; the op left is 'valid'."""
    extra = windows_end(op)
    hi = tuple(h + e for h, e in zip(op.pad_hi, extra))
    writer.crop_pad(op.in_size, op.pad_lo, hi, fill=fill, why=why)
    if any(extra):
        writer.notes.append(f"{extra} more cells at the end: windows of {op.rounding} rounding reach past the padding")
    size = tuple(arith.pad_out(n, lo, h) for n, lo, h in zip(op.in_size, op.pad_lo, hi))
    zeros = (0,) * op.rank
    return op.with_(in_size=size, pad_lo=zeros, pad_hi=zeros, rounding="floor")


def write_conv(writer: Writer, op: ConvOp, index: int) -> None:
    rank = op.rank
    if index >= 0:
        writer.lines.append(f"w, b = params[{index}]")
    if op.lhs_dilation != (1,) * rank:
        op = lhs_dilate(writer, op)
    if op.batch_groups != 1:  # batch group i (a run of the batch) meets output feature group i: channel groups
        groups, part = op.batch_groups, op.batch // op.batch_groups
        writer.ops_call(
            f"t = keras.ops.concatenate([t[i * {part}:(i + 1) * {part}] for i in range({groups})], axis=-1)",
            "keras.ops.concatenate(axis=-1)",
        )
        writer.notes.append(
            f"batch_group_count={groups}: the {groups} runs of the batch side by side as channel groups, then groups={groups}"
        )
        op = op.with_(batch=part, in_channels=op.in_channels * groups, groups=groups, batch_groups=1)
    if op.pad_mode != "zeros":  # torch's padding_mode: the input padded by copying, then a 'valid' conv
        writer.crop_pad(op.in_size, op.pad_lo, op.pad_hi, mode=op.pad_mode, why=f" ({op.pad_mode} padding_mode)")
        size = tuple(map(arith.pad_out, op.in_size, op.pad_lo, op.pad_hi))
        op = op.with_(in_size=size, pad_lo=(0,) * rank, pad_hi=(0,) * rank, pad_mode="zeros")
    text = matching(op, same_first=writer.same_first)
    if text is None:
        op = padded_valid(writer, op)
        text = matching(op, same_first=writer.same_first)
    if text is None and max(op.stride) > 1 and max(op.dilation) > 1:
        k_eff = tuple(map(arith.effective_kernel, op.kernel, op.dilation))
        spread = ", ".join(f"::{d}" for d in op.dilation)
        writer.lines += [
            f"spread = np.zeros(w.shape[:2] + {k_eff}, np.float32)",
            f"spread[:, :, {spread}] = w",
            "w = spread",
        ]
        writer.notes.append(
            f"dilation_rate {op.dilation} with strides {op.stride}: Keras refuses both, so the kernel is spread "
            f"to {k_eff} with zeros between its taps (dilation_rate=1)"
        )
        op = op.with_(kernel=k_eff, dilation=(1,) * rank)
        text = matching(op, same_first=writer.same_first)
    if text is None:
        raise unsupported(op, "no Keras Conv layer gives it, even with explicit padding", "Conv with groups=1")
    if text.startswith("DepthwiseConv"):
        multiplier = op.out_channels // op.in_channels
        kernel = steps.code(steps.inverse(depthwise_steps(op.kernel, op.in_channels, multiplier)), "w")
        if op.groups > 1:
            writer.notes.append(f"depthwise (groups = channels = {op.groups}): DepthwiseConv{rank}D")
    else:
        kernel = steps.code(steps.inverse(kernel_steps(rank)), "w")
        if op.groups == op.in_channels > 1 and rank == 2 and op.stride[0] != op.stride[1]:
            writer.notes.append(
                f"depthwise with strides {op.stride}: TensorFlow's DepthwiseConv2D refuses unequal strides on CPU, "
                f"so Conv2D with groups={op.groups}"
            )
    writer.layer(text, f"[{kernel}] + {bias_text(op)}")


def write_transposed(writer: Writer, op: ConvOp, index: int) -> None:
    rank = op.rank
    if index >= 0:
        writer.lines.append(f"w, b = params[{index}]")
    text = matching(op, same_transposed, writer.same_first)
    if text is None and max(op.dilation) > 1:
        k_eff = tuple(map(arith.effective_kernel, op.kernel, op.dilation))
        spread = ", ".join(f"::{d}" for d in op.dilation)
        writer.lines += [f"spread = np.zeros(w.shape[:2] + {k_eff}, np.float32)", f"spread[:, :, {spread}] = w",
                         "w = spread"]  # fmt: skip
        writer.notes.append(
            f"dilation_rate {op.dilation}: Keras's CPU transposed conv refuses it, so the kernel is spread to {k_eff} "
            "with zeros between its taps"
        )
        op = op.with_(kernel=k_eff, dilation=(1,) * rank)
        text = matching(op, same_transposed, writer.same_first)
    if op.groups > 1:
        c, o, g = op.in_channels, op.out_channels, op.groups
        writer.lines += [
            f"full = np.zeros(({c}, {o}) + w.shape[2:], np.float32)",
            f"for g in range({g}):",
            f"    full[g * {c // g}:(g + 1) * {c // g}, g * {o // g}:(g + 1) * {o // g}] = w[g * {c // g}:(g + 1) * {c // g}]",
            "w = full",
        ]  # fmt: skip
        writer.notes.append(f"groups={g}: Conv{rank}DTranspose has no groups, so one block-diagonal kernel ({c}, {o})")
        op = op.with_(groups=1)
        text = matching(op, same_transposed, writer.same_first)
    kernel = steps.code(steps.inverse(kernel_steps(rank)), "w")
    if text is not None:
        writer.layer(text, f"[{kernel}] + {bias_text(op)}")
        return
    # the full scatter ('valid', output_padding 0), then the op's window [pad_lo, pad_lo + out) of it
    full = tuple(
        arith.transpose_out(n, arith.effective_kernel(k, d), s, 0, 0, 0)
        for n, k, d, s in zip(op.in_size, op.kernel, op.dilation, op.stride)
    )
    out = arith.output_spatial(op)
    lo = tuple(-p for p in op.pad_lo)
    hi = tuple(m + p - f for m, p, f in zip(out, op.pad_lo, full))
    grows = any(a > 0 for a in lo + hi)
    bare = op.with_(pad_lo=(0,) * rank, pad_hi=(0,) * rank, output_padding=(0,) * rank, bias=op.bias and not grows)
    text = matching(bare, same_transposed, writer.same_first)
    if text is None:
        raise unsupported(op, "no Conv*DTranspose gives its full output", "groups=1, dilation 1")
    writer.layer(text, f"[{kernel}] + {bias_text(bare)}")
    writer.crop_pad(full, lo, hi, why=" of the transposed output")
    if grows and op.bias:
        writer.ops_call("t = t + (b if b is not None else 0.0)", "keras.ops.add(bias)")
        writer.notes.append("the bias is added after the padding: the added output cells hold the bias too")


def write_pool(writer: Writer, op: ConvOp) -> None:
    rank = op.rank
    if op.kind in ("max_pool", "avg_pool") and not op.divisor_override and op.empty_max == "-inf":
        text = matching(op, same_first=writer.same_first)
        if text is not None:
            writer.layer(text)
            return
    kind = op.kind
    if kind == "min_pool":
        writer.ops_call("t = -t", "keras.ops.negative")
        writer.notes.append("min pooling: the max pooling of -x, negated")
    if kind == "lp_pool":
        p = op.norm_p
        base = "t" if op.lp_mode == "signed_mean" else "keras.ops.abs(t)"
        writer.ops_call(f"t = keras.ops.power({base}, {p!r})", "keras.ops.power")
        writer.notes.append(f"Lp pooling (p={p:g}): the window sum of {'x' if op.lp_mode == 'signed_mean' else '|x|'}^p, "
                            "then the 1/p power")  # fmt: skip
    maxed = kind in ("max_pool", "min_pool")
    fill = 0.0
    if maxed:
        fill = float("-inf") if op.empty_max == "-inf" and kind == "max_pool" else -3.4028234663852886e38
        fill = float("-inf") if kind == "min_pool" else fill
        if op.init_value is not None:  # reduce_window: padding holds init_value, every window starts from it
            fill = op.init_value if kind == "max_pool" else -op.init_value
    holes = op.lhs_dilation != (1,) * rank
    if holes:
        op = lhs_dilate(writer, op, fill)
    valid = padded_valid(writer, op, fill=fill, why=" of the pooling")
    cells = 1
    for k in op.kernel:
        cells *= k
    counts = None if maxed or kind == "sum_pool" else divisor_counts(op)
    if set(op.dilation) == {1}:
        name = "MaxPooling" if maxed else "AveragePooling"
        writer.layer(f"{name}{rank}D({ints(op.kernel)}, strides={ints(op.stride)})")
        if maxed and fill == float("-inf") and (holes or valid.in_size != op.in_size):
            writer.ops_call("t = keras.ops.where(t <= np.finfo(np.float32).min, -np.inf, t)", "keras.ops.where")
            writer.notes.append(
                "TensorFlow's MaxPool starts each window from float32's lowest value, so a window of -inf padding "
                "only gives that value: mapped back to -inf"
            )
        if not maxed and (counts is not None or kind in ("sum_pool", "lp_pool") or op.divisor_override):
            writer.ops_call(f"t = t * {cells}", "keras.ops.multiply")
            if kind == "sum_pool":
                writer.notes.append("window sum: the average pooling times the window's cell count")
    else:
        out = arith.output_spatial(valid)
        reach = tuple((m - 1) * s + 1 for m, s in zip(out, op.stride))
        combine = "keras.ops.maximum(s, part)" if maxed else "s + part"
        writer.lines += [
            "s = None",
            f"for tap in np.ndindex({op.kernel}):",
            "    part = t[(slice(None),) + tuple(slice(i * d, i * d + r, st) for i, d, r, st in "
            f"zip(tap, {op.dilation}, {reach}, {op.stride})) + (slice(None),)]",
            f"    s = part if s is None else {combine}",
            "t = s",
        ]
        writer.calls.append("keras.ops slices (one per kernel tap)")
        writer.notes.append(f"dilation {op.dilation}: Keras pooling has none, so each kernel tap is a strided slice")
    if maxed and op.init_value is not None and fill != float("-inf"):
        writer.ops_call(f"t = keras.ops.maximum(t, {number(fill)})", "keras.ops.maximum")
        writer.notes.append(f"init_value={op.init_value!r}: every window's result is clamped by it (reduce_window)")
    if kind == "min_pool":
        writer.ops_call("t = -t", "keras.ops.negative")
    if op.kind == "max_pool" and op.empty_max == "lowest":
        writer.notes.append("padding holds float32's lowest value: a window of padding only gives it (onnxruntime)")
    if kind in ("avg_pool", "lp_pool") and (counts is not None or op.divisor_override or set(op.dilation) != {1}):
        divide(writer, op, cells, counts)
    if kind == "lp_pool":
        writer.ops_call(f"t = keras.ops.power(t, {1.0 / op.norm_p!r})", "keras.ops.power")


def divisor_counts(op: ConvOp) -> list | None:
    """Per axis, the cells each window's divisor counts (``arith.window_cells``), or None where
    every window counts the whole kernel (no correction: a plain window average)."""
    include = op.count_include_pad and op.kind == "avg_pool"
    out = arith.output_spatial(op)
    counts = [
        [arith.window_cells(j, n, k, d, s, lo, hi, include) for j in range(m)]
        for m, n, k, d, s, lo, hi in zip(out, op.in_size, op.kernel, op.dilation, op.stride, op.pad_lo, op.pad_hi)
    ]
    if op.kind == "lp_pool" and op.lp_mode == "abs_sum":
        return None
    return None if all(c == k for row, k in zip(counts, op.kernel) for c in row) else counts


def divide(writer: Writer, op: ConvOp, cells: int, counts: list | None) -> None:
    """t holds window sums: divide by the op's divisor (K where ``counts`` is None)."""
    if op.kind == "avg_pool" and op.divisor_override:
        writer.ops_call(f"t = t / {op.divisor_override}", "keras.ops.divide")
        writer.notes.append(f"divisor_override={op.divisor_override}: the window sums divided by it")
        return
    if counts is None:
        if op.kind == "avg_pool":
            writer.ops_call(f"t = t / {cells}", "keras.ops.divide")
        return
    letters = "abc"[: op.rank]
    factors = ", ".join(f"np.array({row}, np.float32)" for row in counts)
    spec = ",".join(letters) + "->" + letters
    writer.lines.append(f"count = np.einsum({spec!r}, {factors})[None, ..., None]")
    if op.kind == "lp_pool":  # torch: K times the mean of the window's cells inside the input
        writer.ops_call(f"t = t * ({cells} / count)", "keras.ops.multiply")
        writer.notes.append("Lp pooling of a window partly outside the input: scaled by K / cells inside (torch)")
        return
    writer.ops_call("t = t / count", "keras.ops.divide")
    include = op.count_include_pad
    rule = "input and padding cells" if include else "input cells only"
    writer.notes.append(f"divisor correction: each window sum divided by the number of {rule} it covers "
                        f"(count_include_pad={include}, {op.rounding} rounding), which no Keras pooling gives")  # fmt: skip


def write_pad(writer: Writer, op: ConvOp) -> None:
    text = matching(op, same_first=writer.same_first)
    if text is not None:
        writer.layer(text)
        return
    writer.crop_pad(op.in_size, op.pad_lo, op.pad_hi, fill=op.pad_value, mode=op.pad_mode)


def write_adaptive(writer: Writer, op: ConvOp) -> None:
    name = "Average" if op.kind == "adaptive_avg_pool" else "Max"
    writer.layer(f"Adaptive{name}Pooling{op.rank}D({ints(op.out_size)})")
    writer.notes.append(f"Adaptive{name}Pooling{op.rank}D: windows [floor(i*n/out), ceil((i+1)*n/out))")


def write_resize(writer: Writer, op: ConvOp) -> None:
    """A Keras layer where one samples as the op does (UpSampling, Resizing), else keras.ops.take
    with the op's sampling table per axis (cells and weights, as convarith's reference builds them)."""
    import numpy as np  # the sampling tables are NumPy (reference.resize): loaded for a resize only

    from ..reference import resize as sampled

    text = matching(op, same_first=writer.same_first)
    if text is not None:
        writer.layer(text)
        return
    what = sampled.unsupported(op)
    if what:
        raise unsupported(op, f"convarith does not reproduce {what}", "another resize mode")
    tables = [sampled.filtered(op, axis) or sampled.sampling(op, axis) for axis in range(op.rank)]
    factors = tuple(m // n for m, n in zip(op.out_size, op.in_size))
    repeats = all(
        cells.shape[1] == 1 and (weights == 1).all() and m == n * f and (cells[:, 0] == np.arange(m) // f).all()
        for (cells, weights), m, n, f in zip(tables, op.out_size, op.in_size, factors)
    )
    if repeats:
        writer.layer(f"UpSampling{op.rank}D({ints(factors) if op.rank > 1 else factors[0]})")
        writer.notes.append("nearest resize by whole factors that picks cell i // factor: UpSampling")
        return
    found = resizing_method(op)
    if found:
        method, antialias = found
        smooth = ", antialias=True" if antialias else ""
        writer.layer(f"Resizing({op.out_size[0]}, {op.out_size[1]}, interpolation={method!r}{smooth})")
        writer.notes.append(f"{method} resize: keras.layers.Resizing (tf.image.resize on TensorFlow) samples the same")
        return
    for axis in reversed(range(op.rank)):  # the last axis first, as the reference (and torch) resample
        cells, weights = tables[axis]
        dim = axis + 1
        shape = (1,) * dim + (cells.shape[0],) + (1,) * (op.rank - axis)
        if cells.shape[1] == 1 and (weights == 1).all():
            writer.lines.append(f"t = keras.ops.take(t, {cells[:, 0].tolist()}, axis={dim})")
            continue
        terms = [
            f"keras.ops.take(t, {cells[:, tap].tolist()}, axis={dim}) * "
            f"np.array({weights[:, tap].tolist()}, np.float32).reshape({shape})"
            for tap in range(cells.shape[1])
        ]
        writer.lines.append(f"t = {' + '.join(terms)}")
    if op.resize_arith == "torch" and op.antialias and op.out_size[-1] == 1 and op.in_size[0] != op.out_size[0]:
        writer.lines.append(f"t = keras.ops.repeat(t[:, :1], {op.out_size[0]}, axis=1)")
    writer.calls.append("keras.ops.take (a sampling table per axis)")
    smooth = ", antialias" if op.antialias else ""
    writer.notes.append(
        f"{op.resize_mode} resize ({op.coordinate} coordinates{smooth}, {op.resize_arith} arithmetic): no Keras layer "
        "samples so, so each axis is a gather of its cells and a weighted sum (the table computed for this size)"
    )


# keras.ops.image.resize on TensorFlow (measured: it refuses gaussian and mitchellcubic)
RESIZING_METHODS = ("nearest", "bilinear", "bicubic", "area", "lanczos3", "lanczos5")


def resizing_method(op: ConvOp) -> tuple[str, bool] | None:
    """(interpolation, antialias) of the keras.layers.Resizing giving the op, or None. On TensorFlow,
    Resizing is tf.image.resize(method, antialias): checked by mapping that call on the op's input;
    also any 2-D linear half-pixel sampling (torch's bilinear: out > 1 for its variant), whose
    float arithmetic agrees with TF's."""
    if op.rank != 2:
        return None
    scales = op.sample_scale or (0.0,) * op.rank
    half_pixel = op.coordinate == "half_pixel" or op.coordinate == "pytorch_half_pixel" and min(op.out_size) > 1
    scaled = all(s in (0.0, m / n) for s, m, n in zip(scales, op.out_size, op.in_size))
    if op.resize_mode == "linear" and not op.antialias and half_pixel and scaled:
        return "bilinear", False
    shape = {"x": (op.batch, *op.in_size, op.in_channels)}
    spec = channels_last(op.rank)
    for method in RESIZING_METHODS:
        call = f"tf.image.resize(x, {op.out_size!r}, method={method!r}, antialias={op.antialias})"
        try:
            got = map_call(call, shapes=shape).ops
        except ConvArithError:
            continue
        if got == (op.with_(in_spec=spec, out_spec=spec),):
            return method, op.antialias
    return None


def write_unpool(writer: Writer, op: ConvOp, index: int) -> None:
    """Max unpooling: each value written at the flat position of its (N, C) output plane that its
    index (the op's second input, params[index][0]) names, with keras.ops.scatter_update on zeros."""
    rank, planes, cells = op.rank, op.batch * op.in_channels, 1
    out = tuple(arith.output_spatial(op))
    for n in op.in_size:
        cells *= n
    size = 1
    for m in out:
        size *= m
    first = (0, rank + 1, *range(1, rank + 1))
    writer.lines += [
        f"indices = np.asarray(params[{index}][0], np.int64).reshape({planes}, {cells})",
        f"rows = np.repeat(np.arange({planes}), {cells})",
        "where = np.stack([rows, indices.reshape(-1)], axis=1)",
        f"values = keras.ops.reshape(keras.ops.transpose(t, {first}), (-1,))",
        f"t = keras.ops.scatter_update(keras.ops.zeros(({planes}, {size})), where, values)",
        f"t = keras.ops.transpose(keras.ops.reshape(t, ({op.batch}, {op.in_channels}, *{out})), "
        f"{(0, *range(2, rank + 2), 1)})",
    ]
    writer.calls.append("keras.ops.scatter_update")
    writer.notes.append(
        "max unpooling: each value scattered to the flat output position its index names (zeros elsewhere)"
    )


def write_patches(writer: Writer, op: ConvOp) -> None:
    """unfold (im2col) as a grouped conv and fold (col2im) as a grouped transposed conv, each with a
    one-hot kernel: channel c*K + j is input channel c at kernel offset j (K the kernel's cells)."""
    channels = op.in_channels if op.kind == "unfold" else op.out_channels
    cells = 1
    for k in op.kernel:
        cells *= k
    writer.lines += [
        f"w = np.zeros(({channels * cells}, 1) + {op.kernel}, np.float32)",
        f"for c in range({channels}):",
        f"    for j, tap in enumerate(np.ndindex({op.kernel})):",
        f"        w[(c * {cells} + j, 0) + tap] = 1.0",
        "b = None",
    ]
    if op.kind == "unfold":
        writer.notes.append(f"unfold: a conv with groups={channels} and a one-hot kernel (one output channel per tap)")
        write_conv(writer, op.with_(kind="conv", groups=channels, bias=False), -1)
        return
    full = tuple(
        arith.transpose_out(n, arith.effective_kernel(k, d), s, 0, 0, 0)
        for n, k, d, s in zip(op.in_size, op.kernel, op.dilation, op.stride)
    )
    hi = tuple(max(f - lo - m, 0) for f, lo, m in zip(full, op.pad_lo, op.out_size))
    extra = tuple(max(m + lo - f, 0) for f, lo, m in zip(full, op.pad_lo, op.out_size))
    scatter = op.with_(kind="conv_transpose", groups=channels, bias=False, pad_hi=hi, output_padding=extra, out_size=())
    writer.notes.append(f"fold: a transposed conv with groups={channels} and a one-hot kernel (each tap added back)")
    write_transposed(writer, scatter, -1)


def write_rearrange(writer: Writer, op: ConvOp) -> None:
    """depth_to_space / space_to_depth as keras.ops reshape and transpose (channels_last)."""
    rank, blocks = op.rank, op.kernel
    if op.kind == "depth_to_space":
        out = arith.output_spatial(op)
        c = op.out_channels
        inner = (*blocks, c) if op.block_order == "DCR" else (c, *blocks)
        shape = (-1, *op.in_size, *inner)
        first = 1 + rank
        block_axes = (
            tuple(range(first, first + rank)) if op.block_order == "DCR" else tuple(range(first + 1, first + 1 + rank))
        )
        channel_axis = first + rank if op.block_order == "DCR" else first
        perm = (0, *(a for pair in zip(range(1, rank + 1), block_axes) for a in pair), channel_axis)
        final = (-1, *out, c)
    else:
        out = arith.output_spatial(op)
        c = op.in_channels
        split = sum(((m, b) for m, b in zip(out, blocks)), ())
        shape = (-1, *split, c)
        sizes = tuple(range(1, 2 * rank, 2))
        offsets = tuple(range(2, 2 * rank + 1, 2))
        chan = 2 * rank + 1
        perm = (0, *sizes, *offsets, chan) if op.block_order == "DCR" else (0, *sizes, chan, *offsets)
        final = (-1, *out, op.out_channels)
    writer.lines += [
        f"t = keras.ops.reshape(t, {shape})",
        f"t = keras.ops.transpose(t, {perm})",
        f"t = keras.ops.reshape(t, {final})",
    ]
    writer.calls.append(f"keras.ops.reshape/transpose ({op.kind}, {op.block_order})")
    writer.notes.append(f"{op.kind} ({op.block_order} channel order): keras.ops reshape and transpose")


def activate(writer: Writer, mapped: Mapped) -> None:
    """The Keras layer's activation, on the output's last axis in the source layout where it needs one."""
    name, last = mapped.activation, mapped.ops[-1]
    rank = last.rank
    if name not in rules.ACTIVATIONS:
        raise refuse(mapped.call.base, f"activation={name} is not identified", "a translation writes a known "
                     "activation", "activation='relu' (or another Keras name)")  # fmt: skip
    if name not in LAST_AXIS or last.out_spec == channels_last(rank):
        built = next(
            (i for i in range(len(writer.lines) - 1, -1, -1) if writer.lines[i].startswith("keras_layer = ")), None
        )
        if writer.lines[-1] == "t = keras_layer(t)" and writer.lines[built].startswith(CONV_LAYERS):
            writer.lines[built] = writer.lines[built][:-1] + f", activation={name!r})"
            writer.calls[-1] = writer.calls[-1][:-1] + f", activation={name!r})"
            return
        writer.ops_call(f"t = keras.activations.{name}(t)", f"keras.activations.{name}")
        return
    # to the source layout (its last axis), activate, and back to channels_last
    source_perm = [0] * (rank + 2)
    last_of = (0, rank + 1, *range(1, rank + 1))  # the channels_last axis of each canonical axis
    for canonical, axis in enumerate(last.out_spec):
        source_perm[axis] = last_of[canonical]
    back = tuple(sorted(range(rank + 2), key=source_perm.__getitem__))
    writer.lines += [
        f"t = keras.ops.transpose(t, {tuple(source_perm)})",
        f"t = keras.activations.{name}(t)",
        f"t = keras.ops.transpose(t, {back})",
    ]
    writer.calls.append(f"keras.activations.{name}")
    writer.notes.append(f"{name} acts on the source layout's last axis: applied there, between two transposes")
