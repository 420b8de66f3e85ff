"""Keras 3 layers on the TensorFlow backend, as measured on CPU.

Layout is ``data_format``: 'channels_last' (N, spatial..., C, the default) or
'channels_first' (N, C, spatial...); the input shape includes the batch.
Padding rules: 'valid' none; 'same' TF SAME, out = ceil(n/s), total =
max((out-1)*s + k_eff - n, 0), the odd pixel at the end; 'causal' (Conv1D
only) d*(k-1) before, none after. Transposed layers choose their output
length first (Keras), then TensorFlow places the padding of the forward conv
that length would need; extra cells appear at the end.
"""

from __future__ import annotations

import re
from itertools import repeat

from ..core import arith
from ..core.op import ConvOp, channels_first, channels_last, split
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
    check_ints,
    fail,
    names_in,
    neutral_values,
    per_axis,
    refuse,
    with_values,
)
from ._tf_rules import axis_padding as tf_axis_padding
from ._tf_rules import conv3d_same_padding, pool3d_same_padding, transposed_placement

FRAMEWORK = "Keras"
FRAMEWORK_ID = "keras"  # the numbers (reference.adapters) pick the framework by this
PREFIXES = ("", "layers.", "keras.layers.", "tf.keras.layers.")
# the base Layer's keywords (Layer.__init__ pops input_dim and input_shape, refuses any other it does not know)
COMMON_KEYWORDS = (
    ("name", None), ("dtype", None), ("trainable", True), ("autocast", True), ("input_shape", None),
    ("input_dim", None),
)  # fmt: skip
CONV_EXTRAS = (
    ("activation", None),
    ("use_bias", True),
    ("kernel_initializer", "glorot_uniform"),
    ("bias_initializer", "zeros"),
    ("kernel_regularizer", None),
    ("bias_regularizer", None),
    ("activity_regularizer", None),
    ("kernel_constraint", None),
    ("bias_constraint", None),
)
DEPTHWISE_EXTRAS = (
    ("activation", None),
    ("use_bias", True),
    ("depthwise_initializer", "glorot_uniform"),
    ("bias_initializer", "zeros"),
    ("depthwise_regularizer", None),
    ("bias_regularizer", None),
    ("activity_regularizer", None),
    ("depthwise_constraint", None),
    ("bias_constraint", None),
)
SEPARABLE_EXTRAS = (
    ("activation", None),
    ("use_bias", True),
    ("depthwise_initializer", "glorot_uniform"),
    ("pointwise_initializer", "glorot_uniform"),
    ("bias_initializer", "zeros"),
    ("depthwise_regularizer", None),
    ("pointwise_regularizer", None),
    ("bias_regularizer", None),
    ("activity_regularizer", None),
    ("depthwise_constraint", None),
    ("pointwise_constraint", None),
    ("bias_constraint", None),
)
LORA = (("lora_rank", None), ("lora_alpha", None))
CONV_PARAMS = (
    ("filters", REQUIRED),
    ("kernel_size", REQUIRED),
    ("strides", 1),
    ("padding", "valid"),
    ("data_format", None),
    ("dilation_rate", 1),
    ("groups", 1),
) + CONV_EXTRAS


def transpose_params(rank: int) -> tuple:
    """Conv{rank}DTranspose's positional order (3-D puts data_format before output_padding)."""
    params = (("filters", REQUIRED), ("kernel_size", REQUIRED), ("strides", 1), ("padding", "valid"))
    if rank == 3:
        params += (("data_format", None), ("output_padding", None))
    else:
        params += (("output_padding", None), ("data_format", None))
    return params + (("dilation_rate", 1),) + CONV_EXTRAS


def pool_params(kind: str) -> tuple:
    """MaxPooling/AveragePooling's positional order (max pooling defaults pool_size to 2)."""
    default = 2 if kind == "max_pool" else REQUIRED
    return (("pool_size", default), ("strides", None), ("padding", "valid"), ("data_format", None), ("name", None))


def sizes(value, rank: int, name: str, label: str, minimum: int = 1) -> tuple[int, ...]:
    """An int or a tuple/list of ``rank`` ints, each >= ``minimum`` (Keras standardize_tuple)."""
    items = check_ints(value, rank, name, label)
    if any(item < minimum for item in items):
        raise fail(
            label,
            f"{name}={value!r} must be {'> 0' if minimum == 1 else '>= 0'} on every axis. "
            f"Rule: Keras refuses {'zero or negative' if minimum == 1 else 'negative'} {name}. "
            f"Fix: {name}={max(minimum, 1)} or larger.",
        )
    return items


def positive(value, name: str, label: str, meaning: str, fix: str) -> int:
    """An int >= 1 (filters, groups, depth_multiplier)."""
    check_int(value, name, label)
    if value < 1:
        raise fail(label, f"{name}={value} must be >= 1. Rule: Keras needs a strictly positive {meaning}. Fix: {fix}.")
    return value


def padding_arg(value, rank: int, label: str, causal: bool) -> str:
    """'valid', 'same' (any case), or 'causal' where the layer allows it."""
    allowed = ("valid", "same", "causal") if causal else ("valid", "same")
    if not isinstance(value, str):
        raise fail(
            label,
            f"padding={value!r} is not supported. Rule: Keras layers take padding as one of "
            f"{', '.join(repr(a) for a in allowed)}; explicit amounts are refused. "
            f"Fix: padding='same', or add a ZeroPadding{rank}D layer before this one.",
        )
    key = value.lower()
    if key == "causal" and not causal:
        raise fail(
            label,
            "padding='causal' is not supported here. Rule: Keras accepts 'causal' only in Conv1D. "
            "Fix: use Conv1D, or padding='valid' after ZeroPadding1D((d*(k-1), 0)).",
        )
    if key not in allowed:
        raise refuse(
            label,
            f"padding={value!r} is not accepted",
            f"Keras takes one of {', '.join(repr(a) for a in allowed)} (any case)",
            "padding='same' or 'valid'",
        )
    return key


def layout(value, rank: int, label: str) -> str:
    """'channels_last' (default) or 'channels_first', case-insensitive."""
    if value is None:
        return "channels_last"
    key = str(value).lower() if isinstance(value, str) else value
    if key not in ("channels_last", "channels_first"):
        raise refuse(
            label,
            f"data_format={value!r} is not accepted",
            "Keras takes 'channels_last' or 'channels_first' (any case)",
            "data_format='channels_last'",
        )
    return key


def layout_name(data_format: str, rank: int) -> str:
    axes = "DHW"[3 - rank :]
    return "NC" + axes if data_format == "channels_first" else "N" + axes + "C"


def split_input(shape, rank: int, data_format: str, label: str) -> tuple[int, int, tuple[int, ...], tuple[int, ...]]:
    """(batch, channels, spatial, spec) of a full input shape in ``data_format``."""
    spec = channels_first(rank) if data_format == "channels_first" else channels_last(rank)
    order = layout_name(data_format, rank)
    if shape is None:
        raise refuse(
            label,
            "input shape is missing",
            "a layer's output shape depends on its input's",
            f"pass input_shape with the batch, in {order} order",
        )
    if len(shape) != rank + 2:
        raise fail(
            label,
            f"expected a {rank + 2}D input ({order}, batch included), got shape {tuple(shape)}. "
            f"Rule: {label} convolves {rank} spatial axes of a batched input in data_format='{data_format}'. "
            "Fix: add the batch axis, e.g. (1, ...), or pick the layer of matching rank.",
        )
    batch, channels, spatial = split(spec, tuple(shape))
    return batch, channels, spatial, spec


def axis_padding(padding: str, n: int, k: int, d: int, s: int, rank: int = 2) -> tuple[int, int, str]:
    """(before, after, rule text) for one axis of a forward conv or pooling (a 3-D conv's 'same' is
    TF's Conv3D SAME, not clamped at 0)."""
    k_eff = arith.effective_kernel(k, d)
    if padding == "valid":
        return 0, 0, "'valid': no padding"
    if padding == "causal":
        return k_eff - 1, 0, f"'causal': {d}*({k}-1) = {k_eff - 1} before, 0 after"
    pad = conv3d_same_padding(n, k_eff, s) if rank == 3 else tf_axis_padding("SAME", n, k_eff, s)
    return pad.lo, pad.hi, f"'same' (TF SAME): {pad.text}"


# keras.activations.get(name) of Keras 3.15, measured on a layer: each name -> what the layer computes
# after its bias (the last-axis ones act on the output's last axis, whatever the data_format)
ACTIVATIONS = {
    "linear": "x (no activation)",
    "relu": "max(x, 0)",
    "relu6": "min(max(x, 0), 6)",
    "leaky_relu": "x if x > 0 else 0.2*x",
    "elu": "x if x > 0 else exp(x) - 1",
    "selu": "1.0507*(x if x > 0 else 1.6733*(exp(x) - 1))",
    "celu": "max(x, 0) + min(exp(x) - 1, 0)",
    "gelu": "0.5*x*(1 + erf(x/sqrt(2))) (exact, not the tanh approximation)",
    "sigmoid": "1/(1 + exp(-x))",
    "hard_sigmoid": "relu6(x + 3)/6 (slope 1/6)",
    "sparse_sigmoid": "clip((x + 1)/2, 0, 1)",
    "log_sigmoid": "-softplus(-x)",
    "silu": "x*sigmoid(x)",
    "hard_silu": "x*hard_sigmoid(x)",
    "mish": "x*tanh(softplus(x))",
    "tanh": "tanh(x)",
    "hard_tanh": "clip(x, -1, 1)",
    "tanh_shrink": "x - tanh(x)",
    "softplus": "log(1 + exp(x))",
    "sparse_plus": "0 if x <= -1, (x + 1)^2/4 if x < 1, else x",
    "squareplus": "(x + sqrt(x^2 + 4))/2",
    "softsign": "x/(1 + |x|)",
    "soft_shrink": "x - 0.5 if x > 0.5, x + 0.5 if x < -0.5, else 0",
    "hard_shrink": "x if |x| > 0.5 else 0",
    "exponential": "exp(x)",
    "softmax": "softmax over the output's last axis",
    "log_softmax": "log(softmax) over the output's last axis",
    "sparsemax": "sparsemax over the output's last axis",
    "glu": "a*sigmoid(b) of the two halves a, b of the output's last axis, which halves",
}
ACTIVATION_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}
# functions passed as activation=...: Keras calls them with the output only, so their defaults apply
ACTIVATION_FUNCTIONS = {f"tf.nn.{name}": name for name in ("relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax",
                                                            "elu", "selu", "gelu", "silu", "softplus", "softsign",
                                                            "leaky_relu")}  # fmt: skip
ACTIVATION_FUNCTIONS |= {"tf.nn.swish": "silu", "tf.math.sigmoid": "sigmoid", "tf.math.tanh": "tanh"}
ACTIVATION_FUNCTIONS |= {"tf.sigmoid": "sigmoid", "tf.tanh": "tanh", "tf.math.softplus": "softplus"}
ACTIVATION_MODULES = ("keras.activations.", "tf.keras.activations.", "activations.")


def activation_name(value, label: str) -> str:
    """The canonical Keras activation name of ``activation=`` ('' for None), or the dotted
    spelling of a function convarith cannot identify; refuses names Keras does not know."""
    if value is None:
        return ""
    if isinstance(value, str):
        name, spelled = value, repr(value)
    elif isinstance(value, Name):
        spelled = value.dotted
        module = next((m for m in ACTIVATION_MODULES if value.dotted.startswith(m)), None)
        name = value.dotted[len(module) :] if module else ACTIVATION_FUNCTIONS.get(value.dotted)
        if name is None:
            return spelled  # a function convarith cannot identify: shapes are fine, forward refuses it
    else:
        raise fail(
            label,
            f"activation={value!r} is not an activation. Rule: Keras takes None, a name such as 'relu', or a "
            "function such as keras.activations.relu. Fix: activation=None.",
        )
    name = ACTIVATION_ALIASES.get(name, name)
    if name == "threshold":
        raise fail(
            label,
            f"activation={spelled} fails when the layer runs. Rule: keras.activations.threshold needs threshold and "
            "default_value, which a layer never passes (TypeError). Fix: activation=None, then "
            "keras.layers.ReLU(threshold=...) after the layer.",
        )
    if name not in ACTIVATIONS:
        import difflib  # only on this error path: keeps start-up lean

        close = difflib.get_close_matches(name.lower(), [*ACTIVATIONS, *ACTIVATION_ALIASES], n=1)
        raise fail(
            label,
            f"activation={spelled} is not a Keras activation. Rule: keras.activations.get takes an exact, "
            f"lower-case name (Could not interpret activation function identifier). Fix: activation="
            f"{close[0] if close else 'relu'!r}.",
        )
    return name


def with_activation(mapped: Mapped, name: str, label: str) -> Mapped:
    """``mapped`` with the layer's activation applied after the bias (glu halves the last axis)."""
    if not name:
        return mapped
    shape = mapped.output_shape
    if name not in ACTIVATIONS:
        note = f"activation {name} after the bias: not identified, so forward() refuses it"
        return replace(mapped, activation=name, notes=(*mapped.notes, note))
    notes = (*mapped.notes, f"activation {name!r} after the bias: {ACTIVATIONS[name]}")
    if name != "glu":
        return replace(mapped, activation=name, notes=notes)
    if shape[-1] % 2:
        raise fail(
            label,
            f"activation='glu' needs an even last output axis, got {shape[-1]} (output {shape}). Rule: glu splits "
            "the last axis into two halves (axis size must be divisible by 2). Fix: an even number of filters "
            "(channels_last) or of output columns (channels_first), or another activation.",
        )
    halved = (*shape[:-1], shape[-1] // 2)
    return replace(mapped, activation=name, notes=notes, shape_override=halved)


def check_stride_dilation(label: str, strides, dilation) -> None:
    if max(strides) > 1 and max(dilation) > 1:
        raise fail(
            label,
            f"strides={strides} together with dilation_rate={dilation} is refused. Rule: Keras supports "
            "strides > 1 or dilation_rate > 1, not both. Fix: strides=1, or dilation_rate=1.",
        )


def check_fits(label: str, rank: int, op: ConvOp, padding: str) -> None:
    """Keras refuses a 'valid' conv whose output would be zero or negative."""
    if padding != "valid":
        return
    for axis, out in enumerate(arith.output_spatial(op)):
        if out <= 0:
            n, k, d, s = op.in_size[axis], op.kernel[axis], op.dilation[axis], op.stride[axis]
            raise fail(
                label,
                f"input {arith.axis_names(rank)[axis]} {n} is too small for kernel_size {k} with padding='valid'. "
                f"Rule: out = {arith.conv_out_text(n, k, d, s, 0, 0)}, must be >= 1 (Keras refuses zero or negative "
                f"sizes). Fix: padding='same', kernel_size <= {max((n - 1) // d + 1, 1)}, or a larger input.",
            )


def check_channels(label: str, channels: int, what: str) -> None:
    if channels == 0:
        raise fail(
            label,
            f"the input has 0 channels. Rule: TensorFlow's {what} needs a filter depth >= 1 "
            "(filter depth must be strictly positive). Fix: give the input at least one channel.",
        )


def cpu_nhwc_only(label: str, why: str) -> ConvArithError:
    return fail(
        label,
        f"data_format='channels_first' fails on CPU. Rule: {why} Fix: data_format='channels_last' "
        "with the input transposed to (N, spatial..., C), or run on a GPU.",
    )


# padding= -> Mapped.padding_intent: 'same' is TF SAME (the odd cell at the end), 'causal' all before (explicit)
PADDING_INTENTS = {"valid": "valid", "same": "same_upper", "causal": "explicit"}


class LayerPlan(Plan):
    """A Keras layer compiled: bound, its call-only checks done; ``map`` reads the input.

    ``shape`` takes a fast path (arithmetic only, no ConvOp) where the input can make no
    refusal or note, and the full mapping otherwise."""

    __slots__ = ("rank", "label", "v", "data_format", "activation", "fast", "default_input")

    def __init__(self, call, rank: int) -> None:
        super().__init__(call)
        self.default_input = base_keywords(call)
        self.rank, self.label = rank, call.base
        self.activation = ""
        self.fast = False

    def mapped(self, ops: tuple, rules: tuple, notes: tuple, layer: str = "") -> Mapped:
        mapped = Mapped(
            FRAMEWORK, self.call, ops, rules, notes, layout=layout_name(self.data_format, self.rank),
            arguments=tuple(self.v.items()), framework_id=FRAMEWORK_ID, layer=layer,
            padding_intent=self.padding_intent(),
        )  # fmt: skip
        return with_activation(mapped, self.activation, self.label)

    def padding_intent(self) -> tuple[str, ...]:
        """The padding rule per spatial axis as data (translation): the layer's padding= string."""
        return (PADDING_INTENTS[getattr(self, "padding", "valid")],) * self.rank

    def placed(self, batch: int, channels: int, spatial: tuple) -> tuple[int, ...]:
        """The full shape in the layer's data_format."""
        if self.data_format == "channels_last":
            return (batch, *spatial, channels)
        return (batch, channels, *spatial)


def window_sizes(padding: str, spatial, k_eff, strides) -> tuple[int, ...]:
    """The output sizes of a forward conv or pooling under a Keras padding rule."""
    if padding == "valid":
        return tuple(map(arith.conv_out, spatial, k_eff, strides, repeat(0), repeat(0)))
    if padding == "causal":
        return tuple(map(arith.conv_out, spatial, k_eff, strides, [k - 1 for k in k_eff], repeat(0)))
    return tuple(map(arith.same_out, spatial, strides))  # the padded conv gives exactly ceil(n/s)


class ConvPlan(LayerPlan):
    """Conv{rank}D / Convolution{rank}D, compiled."""

    __slots__ = ("filters", "groups", "kernel", "strides", "dilation", "padding", "use_bias", "k_eff")

    def __init__(self, call, rank: int) -> None:
        super().__init__(call, rank)
        label = self.label
        self.v = v = bind(call, CONV_PARAMS, label, LORA + COMMON_KEYWORDS)
        filters = positive(v["filters"], "filters", label, "number of filters (output channels)", "filters=1 or more")
        groups = positive(v["groups"], "groups", label, "number of groups", "groups=1")
        if filters % groups:
            raise fail(
                label,
                f"filters={filters} is not divisible by groups={groups}. Rule: each group makes filters/groups "
                f"output channels. Fix: filters a multiple of {groups}, or groups dividing {filters}.",
            )
        self.filters, self.groups = filters, groups
        self.kernel = sizes(v["kernel_size"], rank, "kernel_size", label)
        self.strides = sizes(v["strides"], rank, "strides", label)
        self.dilation = sizes(v["dilation_rate"], rank, "dilation_rate", label)
        self.padding = padding_arg(v["padding"], rank, label, causal=rank == 1)
        self.data_format = layout(v["data_format"], rank, label)
        check_stride_dilation(label, self.strides, self.dilation)
        self.use_bias = check_bool(v["use_bias"], "use_bias", label)
        self.activation = activation_name(v["activation"], label)
        self.k_eff = tuple(map(arith.effective_kernel, self.kernel, self.dilation))
        self.fast = self.data_format == "channels_last" and self.activation != "glu" and filters <= MAX_INT

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        x = inputs.input_shape
        if self.fast and x is not None and len(x) == self.rank + 2 and x[-1] > 0 and x[-1] % self.groups == 0:
            out = window_sizes(self.padding, x[1:-1], self.k_eff, self.strides)
            if min(out) >= 1:  # else map() refuses or notes as Keras does
                return (x[0], *out, self.filters)
        return super().shape(inputs)

    @staticmethod
    def sweep_rule(got: dict, padding: str):
        """Over arrays (sweep): refused on a kernel, stride or dilation below 1, a stride and a
        dilation above 1 together, or a 'valid' size below 1; an empty 'same'/'causal' axis is
        left to output_shape. The sizes are the fast path's ``window_sizes``."""
        kernel, strides, dilation = got["kernel_size"], got["strides"], got["dilation_rate"]
        out = window_sizes(padding, got["n"], list(map(arith.effective_kernel, kernel, dilation)), strides)
        small = any_of(size < 1 for size in out)
        refused = any_of(v < 1 for v in (*kernel, *strides, *dilation))
        refused = refused | any_of(s > 1 for s in strides) & any_of(d > 1 for d in dilation)
        if padding == "valid":
            return out, refused | small, False
        return out, refused, small

    def map(self, inputs: Inputs) -> Mapped:
        label, rank, padding, groups = self.label, self.rank, self.padding, self.groups
        kernel, strides, dilation, data_format = self.kernel, self.strides, self.dilation, self.data_format
        batch, channels, spatial, spec = split_input(inputs.input_shape, rank, data_format, label)
        if channels % groups:
            raise fail(
                label,
                f"the input has {channels} channels, not divisible by groups={groups}. Rule: each group sees "
                f"channels/groups input channels. Fix: groups dividing {channels}.",
            )
        check_channels(label, channels, "Conv op")
        padded = [
            axis_padding(padding, n, k, d, s, rank)
            for n, k, d, s in zip(spatial, kernel, dilation, strides, strict=True)
        ]
        op = ConvOp(
            "conv", batch, channels, self.filters, spatial, kernel, strides, dilation,
            tuple(p[0] for p in padded), tuple(p[1] for p in padded), spec, spec, groups=groups, bias=self.use_bias,
        )  # fmt: skip
        check_fits(label, rank, op, padding)
        out = arith.output_spatial(op)
        if padding == "causal" and batch and 0 in out and spatial[0] + op.pad_lo[0] > 0:
            raise fail(
                label,
                f"input length {spatial[0]} gives an empty output. Rule: 'causal' pads {op.pad_lo[0]} before, then "
                f"out = {arith.conv_out_text(spatial[0], kernel[0], dilation[0], strides[0], op.pad_lo[0], 0)}; "
                "Keras refuses an empty result from a non-empty input. Fix: an input of length >= 1.",
            )
        if padding == "causal" and groups > 1 and spatial[0] == 0:
            raise fail(
                label,
                f"input length 0 is refused with groups={groups} and padding='causal'. Rule: Keras runs grouped "
                f"convolutions through XLA, whose shape check needs the causally padded length 0 + {op.pad_lo[0]} "
                f"to reach the kernel span {op.pad_lo[0] + 1}, even for an empty batch. Fix: an input of length >= 1.",
            )
        xla = groups > 1 or (rank == 3 and data_format == "channels_first")
        if xla and padding == "same" and max(dilation) > 1 and 0 in spatial:
            raise fail(
                label,
                f"an empty input {spatial} is refused with dilation_rate={dilation} here. Rule: Keras runs "
                "grouped and channels_first 3D convolutions through XLA, where TensorFlow builds a dilated 'same' "
                "conv from SpaceToBatch and its shape check fails on an empty axis. Fix: a non-empty input, or "
                "dilation_rate=1.",
            )
        # TF returns an empty result early, before it looks at the layout; causal padding makes the input non-empty.
        fed = spatial if padding != "causal" else (spatial[0] + op.pad_lo[0],)
        empty = batch == 0 or 0 in fed
        notes = ()
        if data_format == "channels_first" and rank < 3 and groups == 1:
            if not empty:
                raise cpu_nhwc_only(
                    label,
                    "TensorFlow's Conv2D kernel supports only NHWC on the CPU (Keras compiles grouped and 3D "
                    "convolutions with XLA, which accepts channels_first, but not this one).",
                )
            notes = ("channels_first passes on CPU only because the input is empty; TensorFlow refuses NCHW otherwise",)
        return self.mapped((op,), tuple(p[2] for p in padded), notes)


def conv(rank: int):
    """Compile function for Conv{rank}D / Convolution{rank}D."""
    return lambda call: ConvPlan(call, rank)


def transpose_length(n: int, k_eff: int, s: int, padding: str, output_padding) -> tuple[int, str]:
    """The output length Keras asks TensorFlow for, with the rule that gave it."""
    out = arith.keras_transpose_length(n, k_eff, s, padding == "same", output_padding)
    if output_padding is None:
        if padding == "same":
            return out, f"Keras 'same' transposed: out = n*s = {n}*{s} = {out}"
        if s > k_eff:
            return out, f"Keras 'valid' with stride {s} > kernel {k_eff}: out = n*s = {n}*{s} = {out}"
        return out, f"Keras 'valid' transposed: out = (n-1)*s + k = ({n}-1)*{s} + {k_eff} = {out}"
    if padding == "same":
        half = k_eff // 2
        return out, (
            f"Keras 'same' with output_padding: out = (n-1)*s + k - 2*(k//2) + output_padding = "
            f"({n}-1)*{s} + {k_eff} - {2 * half} + {output_padding} = {out}"
        )
    return out, (
        f"Keras 'valid' with output_padding: out = (n-1)*s + k + output_padding = "
        f"({n}-1)*{s} + {k_eff} + {output_padding} = {out}"
    )


def transpose_round_trip(n: int, k_eff: int, s: int, same: bool, output_padding):
    """(size, back): the length Keras asks TF for and the forward conv of it under the same padding,
    which TF checks gives the input's n back (elementwise on arrays)."""
    size = arith.keras_transpose_length(n, k_eff, s, same, output_padding)
    if same:
        _, _, lo, hi = arith.same_pads(size, k_eff, s)
        return size, arith.conv_out(size, k_eff, s, lo, hi)
    return size, arith.conv_out(size, k_eff, s, 0, 0)


def check_conv3d_backprop(label: str, op: ConvOp) -> None:
    """Conv3DTranspose on CPU runs TF's Conv3DBackpropInputV2 (the custom kernel), which
    refuses or kills the process on some empty inputs; 1D and 2D return the shape.

    Measured, and explained by the kernel: it needs input or channels non-empty; it
    divides by the total element count (0 for an empty batch without channels); with 0
    channels its Eigen fallback (taken for batch != 1, or a temporary buffer over 25x
    the tensors) dies; and an empty input axis whose output has extra cells at the end
    makes it read windows that do not exist."""
    empty_axes = [axis for axis, n in enumerate(op.in_size) if n == 0]
    if op.in_channels == 0 and empty_axes:
        raise fail(
            label,
            f"the input {tuple(op.input_shape)} has 0 channels and an empty spatial axis. Rule: TensorFlow's CPU "
            "Conv3DBackpropInputV2 refuses it (input, filter_sizes and out_backprop tensors must all have at "
            "least 1 element). Fix: at least one input channel and non-empty spatial axes.",
        )
    out = arith.output_spatial(op)
    crash = ""
    if op.in_channels == 0:
        in_cells = op.in_size[0] * op.in_size[1] * op.in_size[2]
        out_cells = out[0] * out[1] * out[2]
        taps = op.kernel[0] * op.kernel[1] * op.kernel[2]
        if op.batch == 0:
            crash = "0 input channels and an empty batch (it divides by the element count, 0)"
        elif op.batch > 1:
            crash = f"0 input channels and batch {op.batch}"
        elif in_cells * taps // out_cells > 25:
            crash = (
                f"0 input channels when its temporary buffer is {in_cells}*{taps} // {out_cells} = "
                f"{in_cells * taps // out_cells} > 25 times the tensors"
            )
    elif op.batch and empty_axes and min(out) > 0 and all(op.output_padding[axis] for axis in empty_axes):
        names = " and ".join(arith.axis_names(3)[axis] for axis in empty_axes)
        crash = f"an empty input {names} axis whose non-empty output gets extra cells at the end"
    if crash:
        raise fail(
            label,
            "TensorFlow crashes on this input: the process dies (SIGFPE or SIGSEGV) in the CPU "
            f"Conv3DBackpropInputV2 kernel for {crash}. Rule: convarith refuses what kills the real framework. "
            "Fix: non-empty inputs with at least one channel.",
        )


class TransposePlan(LayerPlan):
    """Conv{rank}DTranspose / Convolution{rank}DTranspose, compiled. The CPU refusals that
    read only the call wait in ``pending`` until the input's rank is checked, as before."""

    __slots__ = ("filters", "kernel", "strides", "dilation", "padding", "out_pad", "use_bias", "k_eff", "pending")

    def __init__(self, call, rank: int) -> None:
        super().__init__(call, rank)
        label = self.label
        self.v = v = bind(call, transpose_params(rank), label, COMMON_KEYWORDS)
        self.filters = positive(
            v["filters"], "filters", label, "number of filters (output channels)", "filters=1 or more"
        )
        self.kernel = kernel = sizes(v["kernel_size"], rank, "kernel_size", label)
        self.strides = strides = sizes(v["strides"], rank, "strides", label)
        self.dilation = dilation = sizes(v["dilation_rate"], rank, "dilation_rate", label)
        self.padding = padding_arg(v["padding"], rank, label, causal=False)
        out_pad = None if v["output_padding"] is None else sizes(v["output_padding"], rank, "output_padding", label, 0)
        self.data_format = layout(v["data_format"], rank, label)
        self.use_bias = check_bool(v["use_bias"], "use_bias", label)
        self.activation = activation_name(v["activation"], label)
        if out_pad is not None:
            for axis in range(rank):
                if out_pad[axis] >= strides[axis]:
                    raise fail(
                        label,
                        f"output_padding={out_pad} is too large on the {arith.axis_names(rank)[axis]} axis. Rule: "
                        f"Keras needs output_padding < strides ({out_pad[axis]} >= {strides[axis]}). "
                        f"Fix: output_padding <= {strides[axis] - 1}, or None to let Keras choose.",
                    )
        self.out_pad = (None,) * rank if out_pad is None else out_pad
        check_stride_dilation(label, strides, dilation)
        self.pending = None
        if self.data_format == "channels_first":
            self.pending = str(
                cpu_nhwc_only(
                    label,
                    "TensorFlow's transposed convolution (Conv*DBackpropInput) supports only NHWC/NDHWC on the CPU.",
                )
            )
        elif max(dilation) > 1:
            self.pending = str(
                fail(
                    label,
                    f"dilation_rate={dilation} fails on CPU. Rule: TensorFlow's CPU transposed convolution does not "
                    "support dilation rates larger than 1. Fix: dilation_rate=1, or run on a GPU.",
                )
            )
        self.k_eff = tuple(map(arith.effective_kernel, kernel, dilation))
        self.fast = self.pending is None and self.activation != "glu" and self.filters <= MAX_INT

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        x = inputs.input_shape
        if self.fast and x is not None and len(x) == self.rank + 2:
            same = self.padding == "same"
            out = []
            for n, k, s, extra in zip(x[1:-1], self.k_eff, self.strides, self.out_pad):
                size, back = transpose_round_trip(n, k, s, same, extra)
                if size < 0 or back != n or size > MAX_INT:
                    break  # map() refuses as TensorFlow does
                out.append(size)
            else:
                if self.rank < 3 or (x[-1] > 0 and min(x[1:-1]) > 0):  # else the 3-D CPU kernel's checks
                    return (x[0], *out, self.filters)
        return super().shape(inputs)

    @staticmethod
    def sweep_rule(got: dict, padding: str, rank: int):
        """Over arrays (sweep): refused on a kernel, stride or dilation below 1, a negative
        output_padding or one not below the stride, any dilation above 1 (CPU), a negative
        length or one TF's forward check does not take back to the input; a 3-D layer's
        empty axis is left to output_shape."""
        kernel, strides, dilation = got["kernel_size"], got["strides"], got["dilation_rate"]
        extras = got.get("output_padding", [None] * rank)
        refused = any_of(v < 1 for v in (*kernel, *strides, *dilation)) | any_of(d > 1 for d in dilation)
        if "output_padding" in got:
            refused = refused | any_of((p < 0) | (p >= s) for p, s in zip(extras, strides))
        sizes = []
        for n, k, s, extra in zip(got["n"], map(arith.effective_kernel, kernel, dilation), strides, extras):
            size, back = transpose_round_trip(n, k, s, padding == "same", extra)
            refused = refused | (size < 0) | (back != n)
            sizes.append(size)
        return sizes, refused, any_of(n == 0 for n in got["n"]) if rank == 3 else False

    def map(self, inputs: Inputs) -> Mapped:
        label, rank, padding, strides = self.label, self.rank, self.padding, self.strides
        batch, channels, spatial, spec = split_input(inputs.input_shape, rank, self.data_format, label)
        if self.pending is not None:
            raise ConvArithError(self.pending)
        lo, hi, extra, rules, notes = [], [], [], [], []
        for axis in range(rank):
            n, s, k_eff, out_pad = spatial[axis], strides[axis], self.k_eff[axis], self.out_pad[axis]
            out, rule = transpose_length(n, k_eff, s, padding, out_pad)
            name = arith.axis_names(rank)[axis]
            if out < 0:
                raise fail(
                    label,
                    f"the {name} axis would have negative size. Rule: {rule}; TensorFlow refuses it. "
                    "Fix: an input of size >= 1, or a larger output_padding.",
                )
            pad = tf_axis_padding(padding.upper(), out, k_eff, s)
            text = f"TF SAME for a forward conv of the output: {pad.text}" if padding == "same" else pad.text.lower()
            back = arith.conv_out(out, k_eff, s, pad.lo, pad.hi)
            if back != n:
                raise fail(
                    label,
                    f"TensorFlow refuses the {name} output size {out}. Rule: {rule}, but a forward conv of {out} with "
                    f"padding='{padding}' gives {back}, not the input's {n}. Fix: output_padding="
                    f"{'None' if out_pad is None else min(s - 1, out_pad + 1)}, or an odd kernel_size.",
                )
            before, after, added = transposed_placement(n, k_eff, s, pad, out)
            lo.append(before)
            hi.append(after)
            extra.append(added)
            rules.append(text)
            notes.append(f"{name}: {rule}" + (f"; {added} extra cell(s) at the end" if added else ""))
        op = ConvOp(
            "conv_transpose", batch, channels, self.filters, spatial, self.kernel, strides, self.dilation, tuple(lo),
            tuple(hi), spec, spec, output_padding=tuple(extra), bias=self.use_bias,
        )  # fmt: skip
        if rank == 3:
            check_conv3d_backprop(label, op)
        return self.mapped((op,), tuple(rules), tuple(notes))


def conv_transpose(rank: int):
    """Compile function for Conv{rank}DTranspose / Convolution{rank}DTranspose."""
    return lambda call: TransposePlan(call, rank)


def depthwise_op(label, rank, spatial, batch, channels, multiplier, kernel, strides, dilation, padding, spec, use_bias):
    """The depthwise conv (groups = input channels), with Keras/TF refusals."""
    padded = [axis_padding(padding, n, k, d, s) for n, k, d, s in zip(spatial, kernel, dilation, strides, strict=True)]
    op = ConvOp(
        "conv", batch, channels, channels * multiplier, spatial, kernel, strides, dilation,
        tuple(p[0] for p in padded), tuple(p[1] for p in padded), spec, spec, groups=max(channels, 1), bias=use_bias,
    )  # fmt: skip
    check_fits(label, rank, op, padding)
    decomposed = max(strides) > 1 and max(dilation) > 1
    if rank == 2 and strides[0] != strides[1] and not decomposed:
        raise fail(
            label,
            f"strides={strides} differ between height and width. Rule: TensorFlow's depthwise conv kernel only "
            "supports equal strides in the row and column dimensions. Fix: strides="
            f"{(max(strides), max(strides))} or {(min(strides), min(strides))}.",
        )
    if decomposed:
        # TF cannot stride a dilated depthwise conv: Keras runs it at stride 1 on the padded input, then subsamples.
        for axis in range(rank):
            k_eff = arith.effective_kernel(kernel[axis], dilation[axis])
            if arith.conv_out(spatial[axis], k_eff, 1, op.pad_lo[axis], op.pad_hi[axis]) < 0:
                raise fail(
                    label,
                    f"input {arith.axis_names(rank)[axis]} {spatial[axis]} is empty. Rule: with strides > 1 and "
                    "dilation_rate > 1 Keras runs the dilated conv at stride 1 on the 'same'-padded input and "
                    "subsamples; TensorFlow refuses that for an empty axis. Fix: a non-empty input.",
                )
    return op, tuple(p[2] for p in padded)


class DepthwisePlan(LayerPlan):
    """DepthwiseConv{rank}D (out channels = in channels * depth_multiplier) and, with
    ``filters``, SeparableConv{rank}D (then a 1x1 pointwise conv to ``filters``), compiled."""

    __slots__ = ("separable", "filters", "multiplier", "kernel", "strides", "dilation", "padding", "use_bias", "k_eff")

    def __init__(self, call, rank: int, separable: bool) -> None:
        super().__init__(call, rank)
        label = self.label
        self.separable = separable
        if separable:
            params = (
                ("filters", REQUIRED),
                ("kernel_size", REQUIRED),
                ("strides", 1),
                ("padding", "valid"),
                ("data_format", None),
                ("dilation_rate", 1),
                ("depth_multiplier", 1),
            ) + SEPARABLE_EXTRAS
        else:
            params = (
                ("kernel_size", REQUIRED),
                ("strides", 1),
                ("padding", "valid"),
                ("depth_multiplier", 1),
                ("data_format", None),
                ("dilation_rate", 1),
            ) + DEPTHWISE_EXTRAS
        self.v = v = bind(call, params, label, COMMON_KEYWORDS)
        self.multiplier = positive(
            v["depth_multiplier"],
            "depth_multiplier",
            label,
            "depth_multiplier (output channels per input channel)",
            "depth_multiplier=1",
        )
        self.filters = None
        if separable:
            self.filters = positive(
                v["filters"], "filters", label, "number of filters (output channels)", "filters=1 or more"
            )
        self.kernel = sizes(v["kernel_size"], rank, "kernel_size", label)
        self.strides = strides = sizes(v["strides"], rank, "strides", label)
        self.dilation = dilation = sizes(v["dilation_rate"], rank, "dilation_rate", label)
        self.padding = padding_arg(v["padding"], rank, label, causal=False)
        self.data_format = layout(v["data_format"], rank, label)
        self.use_bias = check_bool(v["use_bias"], "use_bias", label)
        self.activation = activation_name(v["activation"], label)
        self.k_eff = tuple(map(arith.effective_kernel, self.kernel, dilation))
        decomposed = max(strides) > 1 and max(dilation) > 1
        unequal = rank == 2 and strides[0] != strides[1] and not decomposed  # refused once the input fits
        self.fast = not unequal and self.activation != "glu" and (self.filters or 0) <= MAX_INT

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        x = inputs.input_shape
        if self.fast and x is not None and len(x) == self.rank + 2:
            last = self.data_format == "channels_last"
            channels = x[-1] if last else x[1]
            out = window_sizes(self.padding, x[1:-1] if last else x[2:], self.k_eff, self.strides)
            depth = channels * self.multiplier
            if min(out) >= 1 and channels > 0 and depth <= MAX_INT:  # else map() refuses as Keras does
                return self.placed(x[0], self.filters or depth, out)
        return super().shape(inputs)

    def map(self, inputs: Inputs) -> Mapped:
        label, rank, multiplier = self.label, self.rank, self.multiplier
        batch, channels, spatial, spec = split_input(inputs.input_shape, rank, self.data_format, label)
        op, rules = depthwise_op(
            label, rank, spatial, batch, channels, multiplier, self.kernel, self.strides, self.dilation,
            self.padding, spec, self.use_bias and not self.separable,
        )  # fmt: skip
        if not self.separable:
            notes = (f"depthwise: groups = input channels = {channels}, out channels = {channels}*{multiplier}",)
            return self.mapped((op,), rules, notes, layer="depthwise")
        check_channels(label, channels, "pointwise Conv2D")
        mid = arith.output_spatial(op)
        ones = (1,) * rank
        zeros = (0,) * rank
        pointwise = ConvOp(
            "conv", batch, channels * multiplier, self.filters, mid, ones, ones, ones, zeros, zeros, spec, spec,
            bias=self.use_bias,
        )  # fmt: skip
        notes = (
            f"separable: depthwise conv ({channels} -> {channels * multiplier} channels), "
            f"then a 1x1 pointwise conv ({channels * multiplier} -> {self.filters} channels)",
        )
        return self.mapped((op, pointwise), rules, notes, layer="separable")


def depthwise(rank: int):
    """Compile function for DepthwiseConv{rank}D."""
    return lambda call: DepthwisePlan(call, rank, separable=False)


def separable(rank: int):
    """Compile function for SeparableConv{rank}D."""
    return lambda call: DepthwisePlan(call, rank, separable=True)


class PoolPlan(LayerPlan):
    """MaxPooling{rank}D / AveragePooling{rank}D (and the MaxPool/AvgPool aliases), compiled."""

    __slots__ = ("kind", "kernel", "strides", "padding")

    def __init__(self, call, rank: int, kind: str) -> None:
        super().__init__(call, rank)
        label = self.label
        self.kind = kind
        self.v = v = bind(call, pool_params(kind), label, (*COMMON_KEYWORDS[1:], ("activity_regularizer", None)))
        self.kernel = kernel = sizes(v["pool_size"], rank, "pool_size", label)
        self.strides = kernel if v["strides"] is None else sizes(v["strides"], rank, "strides", label, 0)
        if 0 in self.strides:
            raise fail(
                label,
                f"strides={v['strides']!r} contains 0. Rule: Keras accepts it but TensorFlow refuses "
                "(stride must be > 0). Fix: strides >= 1, or None for strides = pool_size.",
            )
        self.padding = padding_arg(v["padding"], rank, label, causal=False)
        self.data_format = layout(v["data_format"], rank, label)
        self.fast = True

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        x = inputs.input_shape
        if x is not None and len(x) == self.rank + 2:
            last = self.data_format == "channels_last"
            out = window_sizes(self.padding, x[1:-1] if last else x[2:], self.kernel, self.strides)
            if min(out) >= 1:  # else map() refuses or notes as TensorFlow does
                return self.placed(x[0], x[-1] if last else x[1], out)
        return super().shape(inputs)

    @staticmethod
    def sweep_rule(got: dict, padding: str):
        """Over arrays (sweep): refused on a pool_size or stride below 1, or a 'valid' window
        TF's size check makes negative (0 is an empty axis); an empty 'same' axis is left to
        output_shape. The sizes are the fast path's ``window_sizes``."""
        kernel, strides, spatial = got["pool_size"], got["strides"], got["n"]
        out = window_sizes(padding, spatial, kernel, strides)
        refused = any_of(v < 1 for v in (*kernel, *strides))
        if padding == "valid":
            fits = any_of(arith.tf_valid_out(n, k, s) < 0 for n, k, s in zip(spatial, kernel, strides))
            return [arith.maximum(size, 0) for size in out], refused | fits, False
        return out, refused, any_of(size < 1 for size in out)

    def map(self, inputs: Inputs) -> Mapped:
        label, rank, kernel, strides, padding = self.label, self.rank, self.kernel, self.strides, self.padding
        batch, channels, spatial, spec = split_input(inputs.input_shape, rank, self.data_format, label)
        padded = [axis_padding(padding, n, k, 1, s) for n, k, s in zip(spatial, kernel, strides, strict=True)]
        if rank == 3 and padding == "same":
            padded = [pool3d_same_padding(n, k, s) for n, k, s in zip(spatial, kernel, strides, strict=True)]
            padded = [(p.lo, p.hi, f"'same' (TF SAME): {p.text}") for p in padded]
        ones = (1,) * rank
        op = ConvOp(
            self.kind, batch, channels, channels, spatial, kernel, strides, ones,
            tuple(p[0] for p in padded), tuple(p[1] for p in padded), spec, spec,
        )  # fmt: skip
        notes = []
        for axis, out in enumerate(arith.output_spatial(op)):
            n, k, s = spatial[axis], kernel[axis], strides[axis]
            name = arith.axis_names(rank)[axis]
            if padding == "valid" and arith.tf_valid_out(n, k, s) < 0:
                raise fail(
                    label,
                    f"pool_size {k} does not fit the input {name} {n} with padding='valid'. Rule: TensorFlow "
                    f"computes out = {arith.tf_valid_out_text(n, k, s)} and refuses a negative size "
                    f"(0 gives an empty tensor). Fix: padding='same', pool_size <= {max(n, 1)}, or a larger input.",
                )
            if out <= 0 and n:
                notes.append(
                    f"{name}: the window does not fit ({n} < {k}), but TensorFlow returns an empty axis: "
                    f"out = {arith.tf_valid_out_text(n, k, s)}"
                )
        return Mapped(
            FRAMEWORK, self.call, (op,), tuple(p[2] for p in padded), tuple(notes),
            layout=layout_name(self.data_format, rank), arguments=tuple(self.v.items()), framework_id=FRAMEWORK_ID,
            padding_intent=self.padding_intent(),
        )  # fmt: skip


def pool(rank: int, kind: str):
    """Compile function for MaxPooling{rank}D / AveragePooling{rank}D."""
    return lambda call: PoolPlan(call, rank, kind)


def calls() -> dict:
    names = {}
    for rank in (1, 2, 3):
        names[f"Conv{rank}D"] = names[f"Convolution{rank}D"] = conv(rank)
        names[f"Conv{rank}DTranspose"] = names[f"Convolution{rank}DTranspose"] = conv_transpose(rank)
        names[f"MaxPooling{rank}D"] = names[f"MaxPool{rank}D"] = pool(rank, "max_pool")
        names[f"AveragePooling{rank}D"] = names[f"AvgPool{rank}D"] = pool(rank, "avg_pool")
    for rank in (1, 2):
        names[f"DepthwiseConv{rank}D"] = depthwise(rank)
        names[f"SeparableConv{rank}D"] = names[f"SeparableConvolution{rank}D"] = separable(rank)
    return {prefix + name: compile_layer for prefix in PREFIXES for name, compile_layer in names.items()}


CALLS = calls()


# --- the base Layer's keywords (issue 8: names) ---------------------------------------------------------------------

# Keras 3.15, measured: the strings keras.initializers/regularizers/constraints.get and a layer's dtype= accept
INITIALIZERS = frozenset({
    "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "IdentityInitializer", "Initializer",
    "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "OrthogonalInitializer", "RandomNormal", "RandomUniform",
    "STFT", "STFTInitializer", "TruncatedNormal", "VarianceScaling", "Zeros", "glorot_normal", "glorot_uniform",
    "he_normal", "he_uniform", "identity", "initializer", "lecun_normal", "lecun_uniform", "normal", "one", "ones",
    "orthogonal", "random_normal", "random_uniform", "stft", "truncated_normal", "uniform", "variance_scaling", "zero",
    "zeros",
})  # fmt: skip
REGULARIZERS = frozenset({
    "L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "l1", "l1l2", "l2", "orthogonal_regularizer",
    "regularizer",
})  # fmt: skip
CONSTRAINTS = frozenset({
    "Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "constraint", "max_norm", "min_max_norm", "non_neg",
    "unit_norm",
})  # fmt: skip
DTYPES = frozenset({
    "bfloat16", "bool", "complex128", "complex64", "float16", "float32", "float64", "int16", "int32", "int64",
    "string", "uint16", "uint32", "uint64", "uint8", "int", "mixed_float16", "mixed_bfloat16",
})  # fmt: skip
# the dtypes each layer runs in on CPU (TensorFlow 2.21, measured on every layer and rank): other dtypes
# fail (no float16 3-D pooling kernel, no integer average pooling or convolution, ...)
FLOATS = frozenset({"bfloat16", "float16", "float32", "float64", "mixed_float16", "mixed_bfloat16"})
RUNS_IN = {
    "conv": FLOATS,
    "max_pool": FLOATS | {"int", "int16", "int32", "int64", "uint8", "uint16"},
    "avg_pool": FLOATS,
    "pool3d": frozenset({"bfloat16", "float32", "mixed_bfloat16"}),
}
LAYER_FAMILY = re.compile(r"(?P<max>MaxPool(?:ing)?)(?P<r1>[123])D$|(?:AveragePooling|AvgPool)(?P<r2>[123])D$|"
                          r"(?:Conv|Convolution|DepthwiseConv|SeparableConv|SeparableConvolution)[123]D(?:Transpose)?$")  # fmt: skip
KERAS2_KEYWORDS = ("batch_size", "batch_input_shape", "input_length", "weights")
OBJECT_KINDS = (("_initializer", "initializer", INITIALIZERS), ("_regularizer", "regularizer", REGULARIZERS),
                ("_constraint", "constraint", CONSTRAINTS))  # fmt: skip


def keras_object(key: str, value, label: str):
    """An initializer/regularizer/constraint argument: None, a name Keras knows, or a function or
    object written as a name or a call (kept as text, never run)."""
    for suffix, kind, known in OBJECT_KINDS:
        if not key.endswith(suffix):
            continue
        if value is None or isinstance(value, (Name, Call)) or (isinstance(value, str) and value in known):
            return
        import difflib  # only on this error path: keeps start-up lean

        close = difflib.get_close_matches(str(value), sorted(known), n=1)
        raise refuse(
            label,
            f"{key}={value!r} is not a Keras {kind}",
            f"keras.{kind}s.get takes None, an exact name it knows, or a {kind} object "
            f"(Could not interpret {kind} identifier)",
            f"{key}={close[0] if close else sorted(known)[0]!r}, or keras.{kind}s.<Class>(...)",
        )


def runs_in(label: str, dtype) -> None:
    """Refuse a dtype= name the layer has no CPU kernel for (RUNS_IN); other layers are not checked."""
    match = LAYER_FAMILY.match(label)
    if match is None or not isinstance(dtype, str):
        return
    if "3" in (match["r1"], match["r2"]):
        family = "pool3d"
    else:
        family = "max_pool" if match["max"] else "avg_pool" if match["r2"] else "conv"
    if dtype not in RUNS_IN[family]:
        raise refuse(
            label,
            f"dtype={dtype!r} fails when the layer runs on CPU",
            f"TensorFlow has no CPU kernel for {label} in that dtype (measured); it runs in "
            f"{', '.join(sorted(RUNS_IN[family]))}",
            "dtype='float32'",
        )


def no_cast(label: str, dtype, autocast) -> None:
    """Refuse autocast=False on a layer with weights whose dtype is not float32: its float32 input is
    not cast to the weights' dtype and TensorFlow refuses the mix (measured on Conv, ConvTranspose,
    DepthwiseConv; pooling has no weights and runs)."""
    match = LAYER_FAMILY.match(label)
    if autocast is not False or not isinstance(dtype, str) or dtype == "float32" or match is None or match["r2"]:
        return
    if match["max"] is None:
        raise refuse(
            label,
            f"autocast=False with dtype={dtype!r}",
            f"the layer computes in {dtype.removeprefix('mixed_')} and, with autocast=False, its float32 input is "
            "not cast to that, so TensorFlow refuses the mixed dtypes",
            "autocast=True (the default), or dtype='float32'",
        )


def base_keywords(call) -> tuple | None:
    """The base Layer's keywords, checked as Keras 3 checks them before the layer's own arguments
    (each is kept, as given, in the plan's bound arguments); returns the input that input_shape= or
    input_dim= give when none is passed: (None, *input_shape), as Keras's Sequential builds it."""
    label = call.base
    given = dict(call.kwargs)
    for key in KERAS2_KEYWORDS:
        if key in given:
            raise refuse(
                label,
                f"{key}={given[key]!r} is a Keras 2 keyword",
                f"Keras 3 layers refuse it (Unrecognized keyword arguments passed to {label})",
                f"drop {key}; put the batch in the input shape, e.g. (8, 28, 28, 1), or in keras.Input(shape=..., "
                "batch_size=...)"
                if key == "batch_size"
                else f"drop {key}",
            )
    name = given.get("name")
    if isinstance(name, str) and "/" in name or not isinstance(name, (str, Name, Call, type(None))):
        raise refuse(
            label,
            f"name={name!r} is refused",
            "Keras needs a string without '/' (Argument `name` must be a string and cannot contain character `/`)",
            f"name={str(name).replace('/', '_')!r}",
        )
    dtype = given.get("dtype")
    if not (dtype is None or isinstance(dtype, (Name, Call)) or isinstance(dtype, str) and dtype in DTYPES):
        raise refuse(
            label,
            f"dtype={dtype!r} is not a dtype or policy Keras takes",
            f"a layer's dtype is a dtype name or policy: {', '.join(sorted(DTYPES))}",
            "dtype='float32', or 'mixed_float16'",
        )
    runs_in(label, dtype)
    no_cast(label, dtype, given.get("autocast", True))
    trainable = given.get("trainable", True)
    if not isinstance(trainable, (bool, Name)):
        raise refuse(label, f"trainable={trainable!r} is not a bool", "Keras expects `trainable` to be a boolean",
                     "trainable=True or False")  # fmt: skip
    for key, value in given.items():
        keras_object(key, value, label)
    shape = given.get("input_shape")
    if given.get("input_dim") is not None:
        shape = (given["input_dim"],)  # Keras: input_dim wins over input_shape
    sized = isinstance(shape, (tuple, list)) and 0 < len(shape) < 8
    if sized and all(
        item is None or isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= MAX_INT for item in shape
    ):
        return (None, *shape)  # a None size (a variable length) is refused when this input is used
    return None  # none given, or one Keras keeps but no input is built from: the input must be passed


# --- resize: UpSampling1D/2D/3D ----------------------------------------------------------------------------------

UPSAMPLING_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")


def tf_resize_sampling(method: str) -> dict:
    """The ConvOp sampling fields of tf.image.resize(method, antialias=False) on TensorFlow."""
    if method == "nearest":
        return {"resize_mode": "nearest", "coordinate": "tf_half_pixel_for_nn", "resize_arith": "tf"}
    if method == "bicubic":  # Keys' cubic, a = -0.5, its fraction read from a 1024-entry table, outside cells dropped
        return {"resize_mode": "cubic", "coordinate": "half_pixel", "resize_arith": "tf", "cubic_a": -0.5,
                "cubic_table": 1024, "exclude_outside": True}  # fmt: skip
    return {
        "resize_mode": "linear" if method == "bilinear" else method,
        "coordinate": "half_pixel",
        "resize_arith": "tf",
    }  # fmt: skip (area: resize_area; lanczos, gaussian, mitchellcubic: scale_and_translate)


class UpSamplingPlan(LayerPlan):
    """UpSampling{rank}D, compiled: out = n x size per axis. 'nearest' repeats each cell size
    times (ops.repeat); UpSampling2D's other interpolations are tf.image.resize to n x size."""

    __slots__ = ("factors", "interpolation")

    def __init__(self, call, rank: int) -> None:
        super().__init__(call, rank)
        label = self.label
        if rank == 1:
            self.v = v = bind(call, (("size", 2),), label, COMMON_KEYWORDS)
            if isinstance(v["size"], (tuple, list)) or not isinstance(v["size"], int) or isinstance(v["size"], bool):
                raise refuse(label, f"size={v['size']!r} is not an int", "UpSampling1D expects an integer value for "
                             "size", "size=2")  # fmt: skip
            if v["size"] <= 0:
                raise refuse(label, f"size={v['size']!r}", "Argument `size` should be a positive integer",
                             "size=2")  # fmt: skip
            self.factors, self.data_format, self.interpolation = (v["size"],), "channels_last", "nearest"
            return
        params = (("size", (2,) * rank), ("data_format", None))
        params += (("interpolation", "nearest"),) if rank == 2 else ()
        self.v = v = bind(call, params, label, COMMON_KEYWORDS)
        self.factors = sizes(v["size"], rank, "size", label)
        self.data_format = layout(v["data_format"], rank, label)
        method = v.get("interpolation", "nearest")
        if not isinstance(method, str) or method.lower() not in UPSAMPLING_INTERPOLATIONS:
            raise refuse(label, f"interpolation={method!r} is not accepted",
                         f"Keras (TF backend) takes one of {', '.join(map(repr, UPSAMPLING_INTERPOLATIONS))}",
                         "interpolation='nearest' or 'bilinear'")  # fmt: skip
        self.interpolation = method.lower()

    def map(self, inputs: Inputs) -> Mapped:
        label, rank, method = self.label, self.rank, self.interpolation
        batch, channels, spatial, spec = split_input(inputs.input_shape, rank, self.data_format, label)
        out = tuple(n * f for n, f in zip(spatial, self.factors))
        if method != "nearest":
            if min(out) <= 0:
                raise refuse(label, f"the input {tuple(spatial)} is empty", "tf.image.resize (interpolation "
                             f"{method!r}) needs a positive height and width", "a non-empty input")  # fmt: skip
            if channels == 0:
                raise refuse(label, "the input has 0 channels", "TensorFlow's resize: image must have at least one "
                             "channel", "give at least one channel")  # fmt: skip
            sampling = tf_resize_sampling(method)
            rules = tuple(f"{method} upsampling by {f} (tf.image.resize to n x {f})" for f in self.factors)
        else:
            sampling = {"resize_mode": "nearest", "coordinate": "asymmetric", "resize_arith": "exact"}
            rules = tuple(f"nearest upsampling by {f}: each cell repeated {f} times, out = n x {f}"
                          for f in self.factors)  # fmt: skip
        ones = (1,) * rank
        op = ConvOp(
            "resize", batch, channels, channels, spatial, ones, ones, ones, (0,) * rank, (0,) * rank, spec, spec,
            out_size=out, sample_scale=tuple(float(f) for f in self.factors), **sampling,
        )  # fmt: skip
        return Mapped(
            FRAMEWORK, self.call, (op,), rules, layout=layout_name(self.data_format, rank),
            arguments=tuple(self.v.items()), framework_id=FRAMEWORK_ID, padding_intent=self.padding_intent(),
        )  # fmt: skip


def upsampling(rank: int):
    """Compile function for UpSampling{rank}D."""
    return lambda call: UpSamplingPlan(call, rank)


for _rank in (1, 2, 3):
    _compile = upsampling(_rank)  # one function for every prefix: the bare name resolves to it too
    CALLS.update({prefix + f"UpSampling{_rank}D": _compile for prefix in PREFIXES})
# --- sweeps: the layer rules over arrays (convarith.sweep) -------------------------------------------------------

VECTOR_LAYERS = {
    f"{name}{rank}D{suffix}": (family, rank)
    for rank in (1, 2, 3)
    for names, suffix, family in (
        (("Conv", "Convolution"), "", "conv"),
        (("Conv", "Convolution"), "Transpose", "conv_transpose"),
        (("MaxPooling", "MaxPool"), "", "max_pool"),
        (("AveragePooling", "AvgPool"), "", "avg_pool"),
    )
    for name in names
}
VECTOR_AXES = {
    "conv": ("kernel_size", "strides", "dilation_rate"),
    "conv_transpose": ("kernel_size", "strides", "dilation_rate", "output_padding"),
    "max_pool": ("pool_size", "strides"),
    "avg_pool": ("pool_size", "strides"),
}


def vector_rule(call, inputs, candidates: set, strict: bool = True):
    """sweep's rule for Conv/ConvTranspose (channels_last) and MaxPooling/AveragePooling layers
    (None for anything else): their kernel, strides, dilation_rate, output_padding and spatial
    sizes as arrays. The plan compiled with neutral values (``neutral_values``) says the rest."""
    entry = VECTOR_LAYERS.get(call.base) if (call.prefix and call.prefix + ".") in PREFIXES else None
    shape = inputs.input_shape
    if entry is None or inputs.shapes or inputs.output_size or not isinstance(shape, tuple):
        return None
    family, rank = entry
    if len(shape) != rank + 2:
        return None
    params = {"conv": CONV_PARAMS, "conv_transpose": transpose_params(rank)}.get(family) or pool_params(family)
    try:
        bound = bind(call, params, call.base, (LORA if family == "conv" else ()) + COMMON_KEYWORDS)
    except ConvArithError:
        return None
    axes = {}
    for param in VECTOR_AXES[family]:
        given = bound[param]
        if param == "strides" and given is None:
            given = bound["pool_size"]
        if param == "output_padding" and given is None:
            continue
        axes[param] = per_axis(given, rank, False)
        if axes[param] is None:
            return None
    last = bound["data_format"] in (None, "channels_last")
    spatial, leading = (shape[1:-1], shape[:: rank + 1]) if last else (shape[2:], shape[:2])
    others = set().union(*(names_in(value) for key, value in bound.items() if key not in axes), names_in(leading))
    if not strict:  # the grouping: which names sit in the axes
        return array_rule(axes, spatial, others, candidates, False, rank + 2, (), None)
    try:
        filled = with_values(call, neutral_values(bound, candidates, ("output_padding",)))
        compile_plan = {"conv": ConvPlan, "conv_transpose": TransposePlan}.get(family)
        plan = compile_plan(filled, rank) if compile_plan else PoolPlan(filled, rank, family)
    except ConvArithError:
        return None
    channels = leading[-1]
    if last != (plan.data_format == "channels_last"):
        return None
    if plan.activation == "glu" or type(channels) is not int:
        return None
    if family in ("conv", "conv_transpose") and (not last or channels < 1 or channels % getattr(plan, "groups", 1)):
        return None
    slots = range(1, rank + 1) if last else range(2, rank + 2)
    if family == "conv_transpose":
        evaluate = lambda got: TransposePlan.sweep_rule(got, plan.padding, rank)  # noqa: E731
    else:
        evaluate = lambda got: type(plan).sweep_rule(got, plan.padding)  # noqa: E731
    return array_rule(axes, spatial, others, candidates, True, rank + 2, slots, evaluate)


# --- explicit padding, cropping and global pooling (glpad) ------------------------------------------------------

ORDINALS = ("1st", "2nd", "3rd")


def standard_pair(value, name: str, label: str) -> tuple[int, int]:
    """Keras standardize_tuple(value, 2, name, allow_zero=True): an int twice, or 2 ints >= 0
    (a bool counts as an int, as in Python)."""
    items = (value, value) if isinstance(value, int) else tuple(value) if isinstance(value, (tuple, list)) else None
    if items is None or len(items) != 2 or not all(isinstance(item, int) for item in items):
        raise refuse(
            label,
            f"{name}={value!r} is not a tuple of 2 integers",
            f"Keras reads {name} as an int or a (before, after) pair of ints",
            f"{name}=(1, 1)",
        )
    if min(items) < 0:
        raise refuse(
            label,
            f"{name}={value!r} is negative",
            f"Keras needs {name} >= 0 (value >= 0)",
            "use ZeroPadding to add cells and Cropping to remove them" if "crop" not in name else f"{name}=0",
        )
    return int(items[0]), int(items[1])


def axis_pairs(value, rank: int, name: str, label: str) -> tuple[tuple[int, int], ...]:
    """(before, after) per spatial axis from Keras's padding/cropping argument: an int for every side;
    in 1D a pair; in 2D/3D one entry per axis, each an int (both sides) or a pair."""
    if rank == 1:
        return (standard_pair(value, name, label),)
    if isinstance(value, int):
        if value < 0:
            raise refuse(
                label,
                f"{name}={value!r} is negative",
                "Keras keeps an int as is for every side, and TensorFlow refuses negative amounts when the layer runs",
                f"{name}=0 or more" if "crop" in name else "Cropping to remove cells",
            )
        return ((value, value),) * rank
    if not isinstance(value, (tuple, list)):
        raise refuse(
            label,
            f"{name}={value!r} is neither an int nor a tuple",
            f"Keras takes an int, a tuple of {rank} ints (symmetric per axis) or a tuple of {rank} (before, after) pairs",
            f"{name}={(1,) * rank}",
        )
    if len(value) != rank:
        raise refuse(
            label,
            f"{name}={value!r} has {len(value)} elements",
            f"`{name}` should have {('two', 'three')[rank - 2]} elements, one per spatial axis",
            f"{name}={(1,) * rank}",
        )
    return tuple(standard_pair(item, f"{ORDINALS[axis]} entry of {name}", label) for axis, item in enumerate(value))


class KerasPadPlan(LayerPlan):
    """ZeroPadding{rank}D and Cropping{rank}D, compiled: one ``pad`` op (cropping as negative
    padding), out = n + before + after; a cropped axis must keep at least one cell."""

    __slots__ = ("crop", "pairs")

    def __init__(self, call, rank: int, crop: bool) -> None:
        super().__init__(call, rank)
        label, self.crop = self.label, crop
        name = "cropping" if crop else "padding"
        default = ((1, 1), ((0, 0), (0, 0)), ((1, 1),) * 3)[rank - 1] if crop else 1
        params = ((name, default),) + (() if crop and rank == 1 else (("data_format", None),))  # Cropping1D: NWC only
        self.v = v = bind(call, params, label, COMMON_KEYWORDS)
        self.pairs = axis_pairs(v[name], rank, name, label)
        self.data_format = layout(v.get("data_format"), rank, label)

    def padding_intent(self) -> tuple[str, ...]:
        return ("explicit",) * self.rank

    def map(self, inputs: Inputs) -> Mapped:
        label, rank, sign = self.label, self.rank, -1 if self.crop else 1
        batch, channels, spatial, spec = split_input(inputs.input_shape, rank, self.data_format, label)
        lo = tuple(sign * a for a, _ in self.pairs)
        hi = tuple(sign * b for _, b in self.pairs)
        for axis, (n, a, b) in enumerate(zip(spatial, lo, hi)):
            if self.crop and arith.pad_out(n, a, b) < 1:
                raise refuse(
                    label,
                    f"cropping {self.pairs[axis]} leaves nothing of the {arith.axis_names(rank)[axis]} axis (size {n})",
                    f"out = {arith.pad_out_text(n, a, b)} must be >= 1 (Keras refuses the empty slice)",
                    f"crop at most {max(n - 1, 0)} cells in all from that axis",
                )
        ones = (1,) * rank
        op = ConvOp("pad", batch, channels, channels, spatial, ones, ones, ones, lo, hi, spec, spec)
        word = "cropping" if self.crop else "padding"
        rules = tuple(f"{word} {a} before, {b} after" for a, b in self.pairs)
        return self.mapped((op,), rules, ())


def keras_pad(rank: int, crop: bool):
    """Compile function for ZeroPadding{rank}D (crop False) and Cropping{rank}D (crop True)."""
    return lambda call: KerasPadPlan(call, rank, crop)


class GlobalPoolPlan(LayerPlan):
    """GlobalAveragePooling{rank}D / GlobalMaxPooling{rank}D, compiled: a pool whose window is the
    whole input (kernel = the input's spatial size, stride 1, no padding: out = 1 on every axis);
    keepdims=False drops the spatial axes (the op's out_spec is just (batch, channel))."""

    __slots__ = ("kind", "keepdims")

    def __init__(self, call, rank: int, kind: str) -> None:
        super().__init__(call, rank)
        label, self.kind = self.label, kind
        self.v = v = bind(call, (("data_format", None), ("keepdims", False)), label, COMMON_KEYWORDS)
        self.data_format = layout(v["data_format"], rank, label)
        keepdims = v["keepdims"]
        if not isinstance(keepdims, (bool, int)):
            raise refuse(label, f"keepdims={keepdims!r} is not a flag", "keepdims is True or False", "keepdims=True")
        self.keepdims = bool(keepdims)

    def map(self, inputs: Inputs) -> Mapped:
        label, rank = self.label, self.rank
        batch, channels, spatial, spec = split_input(inputs.input_shape, rank, self.data_format, label)
        if self.kind == "max_pool" and 0 in inputs.input_shape:
            raise refuse(
                label,
                f"the input {tuple(inputs.input_shape)} is empty",
                "TensorFlow's reduce_max refuses an input with no elements (a batch of 0 included)",
                "a non-empty input",
            )
        ones, zeros = (1,) * rank, (0,) * rank
        out_spec = spec if self.keepdims else (0, 1)
        op = ConvOp(self.kind, batch, channels, channels, spatial, spatial, ones, ones, zeros, zeros, spec, out_spec)
        rules = tuple(
            f"global: one window over the whole axis (kernel = n = {n}, stride 1, no padding)" for n in spatial
        )
        notes = () if self.keepdims else ("keepdims=False: the spatial axes (each of size 1) are dropped",)
        if self.kind == "avg_pool" and 0 in spatial:
            notes += ("an empty spatial axis averages nothing: the values are NaN",)
        return self.mapped((op,), rules, notes)


def global_pool(rank: int, kind: str):
    """Compile function for GlobalAveragePooling{rank}D / GlobalMaxPooling{rank}D."""
    return lambda call: GlobalPoolPlan(call, rank, kind)


def glpad_calls() -> dict:
    names = {}
    for rank in (1, 2, 3):
        names[f"ZeroPadding{rank}D"] = keras_pad(rank, False)
        names[f"Cropping{rank}D"] = keras_pad(rank, True)
        names[f"GlobalAveragePooling{rank}D"] = names[f"GlobalAvgPool{rank}D"] = global_pool(rank, "avg_pool")
        names[f"GlobalMaxPooling{rank}D"] = names[f"GlobalMaxPool{rank}D"] = global_pool(rank, "max_pool")
    return {prefix + name: compile_layer for prefix in PREFIXES for name, compile_layer in names.items()}


CALLS.update(glpad_calls())
