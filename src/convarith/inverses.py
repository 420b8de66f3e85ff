"""``inverse``: the layer of the same framework that maps a layer's output shape back to its input shape.

Each framework has one function that lists candidate inverse calls, simplest first, built from the
layer's canonical op (``ConvOp``) and its bound arguments: a convolution's transposed layer (with the
output_padding, pads or output shape that makes it exact) and the reverse, unpooling or upsampling for
a pool, pooling for an upsampling, ``depth_to_space`` for ``space_to_depth``, a crop for a pad. The
first candidate ``output_shape`` confirms is the answer; then, per spatial axis, the input sizes for
which the round trip gives the size back are swept (a reference such as ``output_shape=tf.shape(x)``
or torch's ``output_size=`` follows the input, as it does when the model runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from .api import explain, map_call, output_shape
from .core import arith
from .core.arith import axis_names
from .errors import ConvArithError
from .explain import Explanation
from .frameworks._common import refuse
from .parse import Name
from .periods import periodic

__all__ = ["Inverse", "inverse"]

SIZES = 1024  # the input sizes checked for the round trip


@dataclass(frozen=True)
class Inverse:
    """The layer that maps a layer's output shape back to its input shape, and the input
    sizes (per spatial axis, among 1..``SIZES``) for which the round trip gives the size back."""

    expr: str
    input_shape: tuple  # the inverse's input: the layer's output shape
    output_shape: tuple  # the layer's input shape
    sizes: tuple
    rules: tuple
    shapes: dict | None = field(default=None, compare=False)  # the inverse call's named tensors
    output_size: tuple | None = None  # torch's module(x, ..., output_size=...)
    note: str = ""
    paired: tuple = ()  # names in shapes whose shape is the inverse input's (unpooling indices)

    def explain(self) -> Explanation:
        if self.shapes is not None:
            return explain(self.expr, shapes=self.shapes, output_size=self.output_size)
        return explain(self.expr, self.input_shape, output_size=self.output_size)

    def __str__(self) -> str:
        lines = [f"{self.expr}: {self.input_shape} -> {self.output_shape}"]
        if self.output_size is not None:
            lines[0] = f"{self.expr} with output_size={self.output_size}: {self.input_shape} -> {self.output_shape}"
        if self.shapes:
            lines.append("  shapes: " + ", ".join(f"{name}={shape}" for name, shape in self.shapes.items()))
        names = axis_names(len(self.rules))
        lines += [f"  {name}: the round trip gives n back for {rule}" for name, rule in zip(names, self.rules)]
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)


class Candidate(NamedTuple):
    """One inverse call. ``shapes``: its named tensors (None: a layer taking input_shape); ``reference``:
    the name in ``shapes`` holding the layer's input shape (it follows the input size); ``output_size``:
    whether torch's output_size= is the layer's spatial input size (it follows too)."""

    expr: str
    shapes: dict | None = None
    reference: str | None = None
    output_size: bool = False
    note: str = ""
    paired: tuple = ()


class Layer:
    """The layer being inverted: its call, inputs, canonical op and bound arguments."""

    def __init__(self, expr: str, input_shape, shapes):
        self.expr, self.shapes = expr, shapes
        self.mapped = mapped = map_call(expr, input_shape, shapes=shapes)
        self.op = mapped.ops[0]
        self.args = dict(mapped.arguments)
        self.given = tuple(mapped.given_input_shape)
        self.out = tuple(mapped.output_shape)
        self.rank = self.op.rank
        self.offset = len(self.given) - len(self.op.input_shape)  # an unbatched input lacks the batch axis
        self.spatial = [axis + self.offset for axis in self.op.in_spec[2:]]
        first = mapped.arguments[0][1] if mapped.arguments else None
        self.tensor = first.dotted if isinstance(first, Name) else None  # a functional call's input tensor
        if shapes is not None and self.tensor is None and mapped.framework_id == "onnx":
            self.tensor = self.args["inputs"][0]
        self.base = mapped.call.base

    def sizes(self, axis: int) -> int:
        """The layer's input size on spatial axis ``axis``."""
        return self.given[self.spatial[axis]]

    def spatial_sizes(self) -> tuple:
        """The layer's input sizes on the spatial axes."""
        return tuple(self.given[axis] for axis in self.spatial)

    def free_name(self, wanted: str) -> str:
        """``wanted``, or with underscores added until no tensor of the call has that name."""
        taken = set(self.shapes or ())
        while wanted in taken:
            wanted += "_"
        return wanted

    def functional(self, weights: dict | None = None, reference: bool = False) -> tuple[str, dict, str | None]:
        """The inverse's input name, its shapes (input, the given weights by name, the reference) and
        the reference's name."""
        name = self.free_name("y")
        shapes = {name: self.out, **(weights or {})}
        ref = None
        if reference:
            ref = self.tensor
            shapes[ref] = self.given
        return name, shapes, ref


def text(values) -> str:
    """Per-axis values as call text: one int when all are equal."""
    values = tuple(values)
    return str(values[0]) if len(set(values)) == 1 else str(values)


def symmetric_pads(layer: Layer, what: str) -> tuple:
    op = layer.op
    if op.pad_lo != op.pad_hi:
        raise refuse(
            layer.base,
            f"it pads {op.pad_lo} before and {op.pad_hi} after",
            f"{what} crops the same amount on both sides, so no single layer of it undoes asymmetric padding",
            "an explicit odd kernel with symmetric padding, e.g. padding=k//2",
        )
    return op.pad_lo


def output_padding(layer: Layer) -> tuple:
    """Per axis, the cells a transposed conv with the layer's padding must add to give its input size back."""
    op = layer.op
    return tuple(
        layer.sizes(axis)
        - arith.transpose_out(
            layer.out[layer.spatial[axis]],
            arith.effective_kernel(op.kernel[axis], op.dilation[axis]),
            op.stride[axis],
            op.pad_lo[axis],
            op.pad_hi[axis],
            0,
        )
        for axis in range(layer.rank)
    )


def forward_pads(layer: Layer) -> tuple[tuple, tuple]:
    """A transposed conv's counterpart padding: the forward conv with (before, after - output_padding)."""
    op = layer.op
    return op.pad_lo, tuple(hi - extra for hi, extra in zip(op.pad_hi, op.output_padding or (0,) * op.rank))


def negated(value):
    """A pad argument with every amount negated (a pad becomes the crop that undoes it)."""
    if isinstance(value, int):
        return -value
    return type(value)(negated(v) for v in value)


# --- PyTorch ---


def torch_candidates(layer: Layer) -> list[Candidate]:
    op, args, r = layer.op, layer.args, layer.rank
    functional = layer.tensor is not None
    k, s, d = text(op.kernel), text(op.stride), text(op.dilation)
    channels = op.in_channels
    if op.kind == "conv" and layer.base.lower().startswith("conv"):
        p = text(symmetric_pads(layer, "a transposed convolution"))
        extra = text(output_padding(layer))
        if functional:
            w = args["weight"].dotted
            name, shapes, _ = layer.functional({w: layer.shapes[w]})
            expr = (f"F.conv_transpose{r}d({name}, {w}, stride={s}, padding={p}, output_padding={extra}, "
                    f"groups={op.groups}, dilation={d})")  # fmt: skip
            return [Candidate(expr, shapes)]
        return [Candidate(f"nn.ConvTranspose{r}d({op.out_channels}, {op.in_channels}, {k}, stride={s}, padding={p}, "
                          f"output_padding={extra}, dilation={d}, groups={op.groups})")]  # fmt: skip
    if op.kind == "conv_transpose":
        p = text(op.pad_lo)
        if functional:
            w = args["weight"].dotted
            name, shapes, _ = layer.functional({w: layer.shapes[w]})
            return [Candidate(f"F.conv{r}d({name}, {w}, stride={s}, padding={p}, dilation={d}, groups={op.groups})",
                              shapes)]  # fmt: skip
        return [Candidate(f"nn.Conv{r}d({op.out_channels}, {op.in_channels}, {k}, stride={s}, padding={p}, "
                          f"dilation={d}, groups={op.groups})")]  # fmt: skip
    if op.kind == "max_pool":
        p = text(op.pad_lo)
        if functional:
            name, shapes, _ = layer.functional({"indices": layer.out})
            expr = f"F.max_unpool{r}d({name}, indices, {k}, stride={s}, padding={p}"
            pair = ("indices",)
            return [Candidate(f"{expr})", shapes, paired=pair),
                    Candidate(f"{expr}, output_size={layer.spatial_sizes()})", shapes, paired=pair)]  # fmt: skip
        expr = f"nn.MaxUnpool{r}d({k}, stride={s}, padding={p})"
        note = "called as unpool(y, indices, output_size=x.shape[2:]), the sizes of the pool's input"
        return [Candidate(expr), Candidate(expr, output_size=True, note=note)]
    if op.kind in ("avg_pool", "lp_pool"):
        candidates = []
        if op.kernel == op.stride and not any(op.pad_lo):
            if functional:
                name, shapes, _ = layer.functional()
                candidates.append(Candidate(f"F.interpolate({name}, scale_factor={s})", shapes))
            else:
                candidates.append(Candidate(f"nn.Upsample(scale_factor={s})"))
        p, extra = text(op.pad_lo), output_padding(layer)
        if min(extra) >= 0:
            extra = text(extra)
            if functional:
                name, shapes, _ = layer.functional({"w": (channels, 1, *op.kernel)})
                expr = f"F.conv_transpose{r}d({name}, w, stride={s}, padding={p}, output_padding={extra}, groups={channels})"
                candidates.append(Candidate(expr, shapes))
            else:
                candidates.append(Candidate(f"nn.ConvTranspose{r}d({channels}, {channels}, {k}, stride={s}, padding={p}, "
                                            f"output_padding={extra}, groups={channels})"))  # fmt: skip
        return candidates
    if op.kind == "max_unpool":
        p = text(op.pad_lo)
        if functional:
            name, shapes, _ = layer.functional()
            return [Candidate(f"F.max_pool{r}d({name}, {k}, stride={s}, padding={p})", shapes)]
        return [Candidate(f"nn.MaxPool{r}d({k}, stride={s}, padding={p})")]
    if op.kind == "resize":
        return resize_back(layer, functional)
    if op.kind in ("depth_to_space", "space_to_depth"):
        inverse_name = "pixel_unshuffle" if op.kind == "depth_to_space" else "pixel_shuffle"
        if functional:
            name, shapes, _ = layer.functional()
            return [Candidate(f"F.{inverse_name}({name}, {op.kernel[0]})", shapes)]
        module = "PixelUnshuffle" if op.kind == "depth_to_space" else "PixelShuffle"
        return [Candidate(f"nn.{module}({op.kernel[0]})")]
    if op.kind == "pad":
        if functional:
            name, shapes, _ = layer.functional()
            return [Candidate(f"F.pad({name}, {negated(tuple(args['pad']))!r})", shapes)]
        dims = next(c for c in reversed(layer.base) if c.isdigit())
        return [Candidate(f"nn.ZeroPad{dims}d({negated(args['padding'])!r})")]
    return []


def resize_back(layer: Layer, functional: bool) -> list[Candidate]:
    """An upsampling's inverse: average pooling by the factor when the size is n*f on every axis, else
    adaptive average pooling to the input size."""
    r, spatial, out = layer.rank, layer.spatial_sizes(), [layer.out[axis] for axis in layer.spatial]
    factors = [o // n if n and o % n == 0 else 0 for n, o in zip(spatial, out)]
    candidates = []
    if all(f >= 1 for f in factors):
        if functional:
            name, shapes, _ = layer.functional()
            candidates.append(Candidate(f"F.avg_pool{r}d({name}, {text(factors)})", shapes))
        else:
            candidates.append(Candidate(f"nn.AvgPool{r}d({text(factors)})"))
    if functional:
        name, shapes, _ = layer.functional()
        candidates.append(Candidate(f"F.adaptive_avg_pool{r}d({name}, {text(spatial)})", shapes))
    else:
        candidates.append(Candidate(f"nn.AdaptiveAvgPool{r}d({text(spatial)})"))
    return candidates


# --- Keras ---


def keras_layout(layer: Layer) -> str:
    data_format = layer.args.get("data_format")
    return "" if data_format is None else f", data_format={data_format!r}"


def keras_candidates(layer: Layer) -> list[Candidate]:
    op, args, r = layer.op, layer.args, layer.rank
    layout, k, s, d = keras_layout(layer), text(op.kernel), text(op.stride), text(op.dilation)
    base = layer.base
    if op.kind == "conv":
        note = ""
        if "Depthwise" in base or "Separable" in base:
            note = f"Keras has no depthwise transposed layer: a dense Conv{r}DTranspose restores the shape"
        filters = op.in_channels
        return keras_solved(
            layer,
            f"keras.layers.Conv{r}DTranspose({filters}, {k}, strides={s}, padding=..., output_padding=..., "
            f"dilation_rate={d}{layout})",
            note,
        )
    if op.kind == "conv_transpose":
        return keras_solved(
            layer, f"keras.layers.Conv{r}D({op.in_channels}, {k}, strides={s}, padding=..., dilation_rate={d}{layout})"
        )
    if op.kind in ("max_pool", "avg_pool"):
        upsampling = f"keras.layers.UpSampling{r}D(size={s}{layout})"
        shape_back = output_shape(upsampling, layer.out)
        if shape_back == layer.given:
            return [Candidate(upsampling, note="UpSampling repeats each cell: it restores the shape, not the values")]
        note = (f"UpSampling{r}D(size={s}) would give {shape_back}, not {layer.given}: Keras has no unpooling, "
                "so a transposed convolution restores the shape")  # fmt: skip
        return keras_solved(
            layer,
            f"keras.layers.Conv{r}DTranspose({op.in_channels}, {k}, strides={s}, padding=..., output_padding=..."
            f"{layout})",
            note,
        )
    if op.kind == "resize":
        return [Candidate(f"keras.layers.AveragePooling{r}D({args['size']!r}{layout})")]
    if op.kind == "pad":
        if base.startswith("ZeroPadding"):
            return [Candidate(f"keras.layers.Cropping{r}D({args['padding']!r}{layout})")]
        return [Candidate(f"keras.layers.ZeroPadding{r}D({args['cropping']!r}{layout})")]
    return []


def keras_solved(layer: Layer, template: str, note: str = "") -> list[Candidate]:
    """The template's ``...`` filled by ``solve`` (Keras's default output_padding=None first)."""
    from .solver import solve

    answers = []
    if "output_padding=..." in template:
        try:
            answers = solve(
                template.replace("output_padding=...", "output_padding=None"), layer.out, target=layer.given
            )
        except ConvArithError:
            answers = []
    if not answers:
        search = {"output_padding": range(min(max(layer.op.stride), 16))} if "output_padding=..." in template else None
        try:
            answers = solve(template, layer.out, target=layer.given, search=search)
        except ConvArithError:
            return []
    return [Candidate(answers[0].expr, note=note)]


# --- tf.nn ---

TF_TRANSPOSE = {"conv1d": "conv1d_transpose", "conv2d": "conv2d_transpose", "conv3d": "conv3d_transpose",
                "convolution": "conv_transpose"}  # fmt: skip
TF_FORWARD = {value: key for key, value in TF_TRANSPOSE.items()}


def tf_candidates(layer: Layer) -> list[Candidate]:
    op, args, base = layer.op, layer.args, layer.base
    strides = args.get("strides", args.get("stride"))
    padding, dilations = args.get("padding"), args.get("dilations")
    data_format = args.get("data_format")
    tail = f", strides={strides!r}, padding={padding!r}"
    tail += "" if data_format is None else f", data_format={data_format!r}"
    tail += "" if dilations is None else f", dilations={dilations!r}"
    if base in TF_TRANSPOSE or base == "depthwise_conv2d":
        if base == "depthwise_conv2d":
            filters, shape = "w_t", (*op.kernel, op.in_channels, op.out_channels)
            note = "tf.nn has no depthwise transposed conv: a dense conv2d_transpose restores the shape"
            function = "conv2d_transpose"
        else:
            filters_name = args["filters"].dotted
            filters, shape, note, function = filters_name, layer.shapes[filters_name], "", TF_TRANSPOSE[base]
        name, shapes, ref = layer.functional({filters: shape}, reference=True)
        return [Candidate(f"tf.nn.{function}({name}, {filters}, output_shape=tf.shape({ref}){tail})", shapes, ref,
                          note=note)]  # fmt: skip
    if base in TF_FORWARD:
        filters = args["filters"].dotted
        name, shapes, _ = layer.functional({filters: layer.shapes[filters]})
        stride_word = "stride" if base == "conv1d_transpose" else "strides"
        tail = tail.replace(", strides=", f", {stride_word}=", 1)
        return [Candidate(f"tf.nn.{TF_FORWARD[base]}({name}, {filters}{tail})", shapes)]
    if op.kind in ("max_pool", "avg_pool"):
        function = {1: "conv1d_transpose", 2: "conv2d_transpose", 3: "conv3d_transpose"}[layer.rank]
        channels = op.in_channels
        name, shapes, ref = layer.functional({"w_t": (*op.kernel, channels, channels)}, reference=True)
        note = "tf.nn has no unpooling: a transposed conv with a (k, k, C, C) filter restores the shape"
        return [Candidate(f"tf.nn.{function}({name}, w_t, output_shape=tf.shape({ref}){tail})", shapes, ref,
                          note=note)]  # fmt: skip
    if op.kind in ("depth_to_space", "space_to_depth"):
        function = "space_to_depth" if op.kind == "depth_to_space" else "depth_to_space"
        name, shapes, _ = layer.functional()
        return [Candidate(f"tf.nn.{function}({name}, {op.kernel[0]})", shapes)]
    if op.kind == "resize":
        name, shapes, _ = layer.functional()
        spatial, out = layer.spatial_sizes(), [layer.out[axis] for axis in layer.spatial]
        candidates = []
        if all(n and o % n == 0 for n, o in zip(spatial, out)):
            factors = [o // n for n, o in zip(spatial, out)]
            candidates.append(Candidate(f"tf.nn.avg_pool2d({name}, {factors}, {factors}, 'VALID')", shapes))
        candidates.append(Candidate(f"tf.image.resize({name}, {list(spatial)})", shapes))
        return candidates
    return []


# --- jax.lax ---


def jax_specs(layer: Layer) -> tuple[str, str, str]:
    """The (lhs, rhs, out) layout strings of a jax convolution, from its explanation's layout text."""
    parts = dict(part.split(" ") for part in layer.mapped.layout.split(", "))
    return parts["lhs"], parts["rhs"], parts["out"]


def swapped(spec: str) -> str:
    """A kernel layout with its I and O swapped (the same tensor read the other way round)."""
    return spec.translate(str.maketrans("IO", "OI"))


def jax_candidates(layer: Layer) -> list[Candidate]:
    op, args = layer.op, layer.args
    if "lhs_dilation" not in args and op.kind not in ("conv", "conv_transpose"):
        return []
    lhs, rhs, out = jax_specs(layer)
    rhs_name = args["rhs"].dotted
    strides = tuple(op.stride)
    dilation = "" if set(op.dilation) == {1} else f", rhs_dilation={tuple(op.dilation)}"
    padding = args["padding"]
    if op.kind == "conv":
        if op.groups != 1 or op.batch_groups != 1 or set(op.lhs_dilation) != {1}:
            raise refuse(
                layer.base,
                "it has feature groups, batch groups or lhs_dilation",
                "lax.conv_transpose has none of them, so it cannot undo this convolution",
                "an ungrouped convolution without lhs_dilation",
            )
        name, shapes, _ = layer.functional({rhs_name: layer.shapes[rhs_name]})
        numbers = f"dimension_numbers=({lhs!r}, {rhs!r}, {out!r}), transpose_kernel=True"
        extra = output_padding(layer)
        explicit = tuple(
            (k_eff - 1 - lo, k_eff - 1 - hi + e)
            for k_eff, lo, hi, e in zip(
                (arith.effective_kernel(k, d) for k, d in zip(op.kernel, op.dilation)), op.pad_lo, op.pad_hi, extra
            )
        )
        candidates = []
        if isinstance(padding, str):
            candidates.append(
                Candidate(
                    f"lax.conv_transpose({name}, {rhs_name}, {strides}, {padding!r}{dilation}, {numbers})", shapes
                )
            )
        candidates.append(
            Candidate(f"lax.conv_transpose({name}, {rhs_name}, {strides}, {explicit}{dilation}, {numbers})", shapes)
        )
        return candidates
    transpose_kernel = bool(args.get("transpose_kernel"))
    kernel_spec = rhs if transpose_kernel else swapped(rhs)
    name, shapes, _ = layer.functional({rhs_name: layer.shapes[rhs_name]})
    numbers = f"dimension_numbers=({lhs!r}, {kernel_spec!r}, {out!r})"
    lo, hi = forward_pads(layer)
    candidates = []
    if isinstance(padding, str):
        candidates.append(
            Candidate(
                f"lax.conv_general_dilated({name}, {rhs_name}, {strides}, {padding!r}{dilation}, {numbers})", shapes
            )
        )
    explicit = tuple(zip(lo, hi))
    candidates.append(
        Candidate(f"lax.conv_general_dilated({name}, {rhs_name}, {strides}, {explicit}{dilation}, {numbers})", shapes)
    )
    return candidates


# --- ONNX ---


def onnx_candidates(layer: Layer) -> list[Candidate]:
    op, args = layer.op, layer.args
    spelling = layer.mapped.call.name
    op_type, (x_name, *weights), (y_name, *_) = args["op_type"], args["inputs"], args["outputs"]
    shapes = {y_name: layer.out}
    geometry = f"strides={list(op.stride)}"
    if set(op.dilation) != {1}:
        geometry += f", dilations={list(op.dilation)}"
    auto_pad = args.get("auto_pad", "NOTSET")

    def node(kind: str, inputs: list, attrs: str) -> str:
        return f"{spelling}({kind!r}, {inputs!r}, [{x_name!r}], {attrs})"

    if op_type == "Conv":
        w = weights[0]
        shapes[w] = layer.shapes[w]
        group = f", group={op.groups}" if op.groups != 1 else ""
        candidates = []
        if auto_pad.startswith("SAME"):
            candidates.append(
                Candidate(node("ConvTranspose", [y_name, w], f"{geometry}, auto_pad={auto_pad!r}{group}"), shapes)
            )
        pads = [*op.pad_lo, *op.pad_hi]
        extra = output_padding(layer)
        attrs = f"{geometry}, pads={pads}" + (f", output_padding={list(extra)}" if any(extra) else "") + group
        candidates.append(Candidate(node("ConvTranspose", [y_name, w], attrs), shapes))
        return candidates
    if op_type == "ConvTranspose":
        w = weights[0]
        shapes[w] = layer.shapes[w]
        lo, hi = forward_pads(layer)
        group = f", group={op.groups}" if op.groups != 1 else ""
        return [
            Candidate(node("Conv", [y_name, w], f"{geometry}, pads={[*lo, *(max(v, 0) for v in hi)]}{group}"), shapes)
        ]
    if op_type == "MaxPool" and set(op.dilation) == {1}:
        indices = layer.free_name("I")
        shapes[indices] = layer.out
        attrs = f"kernel_shape={list(op.kernel)}, strides={list(op.stride)}, pads={[*op.pad_lo, *op.pad_hi]}"
        return [
            Candidate(node("MaxUnpool", [y_name, indices], attrs), shapes, paired=(indices,)),
            Candidate(
                node("MaxUnpool", [y_name, indices, "output_shape"], f"{attrs}, output_shape={list(layer.given)}"),
                shapes,
                note="output_shape holds the pool's input shape",
                paired=(indices,),
            ),  # fmt: skip
            *onnx_pool_transpose(layer, node, y_name, geometry),
        ]
    if op_type in ("MaxPool", "AveragePool", "LpPool"):
        return onnx_pool_transpose(layer, node, y_name, geometry)
    if op_type in ("DepthToSpace", "SpaceToDepth"):
        block = op.kernel[0]
        if op_type == "SpaceToDepth":
            return [Candidate(node("DepthToSpace", [y_name], f"blocksize={block}, mode='DCR'"), shapes)]
        note = (
            ""
            if op.block_order == "DCR"
            else "SpaceToDepth gathers in DCR order: the shape comes back, not CRD's channel order"
        )
        return [Candidate(node("SpaceToDepth", [y_name], f"blocksize={block}"), shapes, note=note)]
    if op_type == "Pad":
        attrs = f"pads={negated(list(args['pads']))}"
        if "axes" in args:
            attrs += f", axes={list(args['axes'])}"
        return [Candidate(node("Pad", [y_name, "pads"], attrs), shapes)]
    if op_type == "Resize":
        spatial, out = layer.spatial_sizes(), [layer.out[axis] for axis in layer.spatial]
        candidates = []
        if all(n and o % n == 0 for n, o in zip(spatial, out)):
            factors = [o // n for n, o in zip(spatial, out)]
            candidates.append(
                Candidate(node("AveragePool", [y_name], f"kernel_shape={factors}, strides={factors}"), shapes)
            )
        candidates.append(Candidate(node("Resize", [y_name, "", "", "sizes"], f"sizes={list(layer.given)}"), shapes))
        return candidates
    return []


def onnx_pool_transpose(layer: Layer, node, y_name: str, geometry: str) -> list[Candidate]:
    """A pool's grouped ConvTranspose (W of shape (C, 1, k...)) with the output_padding that restores the shape."""
    op, op_type = layer.op, layer.args["op_type"]
    channels = op.in_channels
    w = layer.free_name("W_up")
    shapes = {y_name: layer.out, w: (channels, 1, *op.kernel)}
    extra = output_padding(layer)
    if min(extra) < 0:
        return []
    attrs = f"{geometry}, pads={[*op.pad_lo, *op.pad_hi]}" + (f", output_padding={list(extra)}" if any(extra) else "")
    note = "a grouped ConvTranspose (W of shape (C, 1, k...)) restores the shape"
    if op_type == "MaxPool":
        note += " (MaxUnpool cannot here)"
    return [Candidate(node("ConvTranspose", [y_name, w], f"{attrs}, group={channels}"), shapes, note=note)]


CANDIDATES = {"torch": torch_candidates, "keras": keras_candidates, "tf_nn": tf_candidates, "jax_lax": jax_candidates,
              "onnx": onnx_candidates}  # fmt: skip


def inverse(expr: str, input_shape=None, *, shapes=None) -> Inverse:
    """The layer of the same framework that maps this layer's output shape back to its input shape,
    and the input sizes per spatial axis for which that layer gives the size back.

    >>> print(inverse("nn.Conv2d(3, 8, 3, stride=2, padding=1)", (1, 3, 32, 32)).expr)
    nn.ConvTranspose2d(8, 3, 3, stride=2, padding=1, output_padding=1, dilation=1, groups=1)
    """
    layer = Layer(expr, input_shape, shapes)
    candidates = CANDIDATES[layer.mapped.framework_id](layer)
    if not candidates:
        raise refuse(
            f"inverse: {layer.base}",
            f"convarith has no inverse for the {layer.op.kind.replace('_', ' ')} layer of {layer.mapped.framework}",
            "inverse maps convolutions to transposed convolutions and back, pools to unpooling or upsampling, "
            "upsampling to pooling, space_to_depth to depth_to_space and padding to cropping",
            "write one of those layers",
        )
    tried = []
    for candidate in candidates:
        try:
            got = apply(candidate, layer.out, layer.given, layer)
        except ConvArithError as error:
            tried.append(f"{candidate.expr}: {str(error).split('. ')[0]}")
            continue
        if got == layer.given:
            sizes, rules = round_trips(layer, candidate)
            return Inverse(
                candidate.expr, layer.out, layer.given, sizes, rules, candidate.shapes,
                layer.spatial_sizes() if candidate.output_size else None, candidate.note, candidate.paired,
            )  # fmt: skip
        tried.append(f"{candidate.expr} gives {got}")
    raise refuse(
        f"inverse: {layer.base}",
        f"no counterpart maps {layer.out} back to {layer.given} ({'; '.join(tried)})",
        "the inverse must give the layer's input shape exactly",
        "change the input size (see the round-trip rule of a nearby size) or the layer's padding",
    )


def apply(candidate: Candidate, out: tuple, given: tuple, layer: Layer) -> tuple:
    """The inverse's output shape on ``out``, the layer's output for input ``given``."""
    size = tuple(given[axis] for axis in layer.spatial) if candidate.output_size else None
    if candidate.shapes is None:
        return output_shape(candidate.expr, out, output_size=size)
    shapes = dict(candidate.shapes)
    name = next(iter(shapes))  # the inverse's input comes first
    shapes[name] = out
    shapes.update(dict.fromkeys(candidate.paired, out))
    if candidate.reference is not None:
        shapes[candidate.reference] = given
    return output_shape(candidate.expr, shapes=shapes, output_size=size)


def round_trips(layer: Layer, candidate: Candidate) -> tuple[tuple, tuple]:
    """Per spatial axis, the sizes n in 1..SIZES (the other axes as given) that the layer and then
    its inverse give back, and the rule they follow."""
    from .sweeps import sweep

    found, rules = [], []
    given = layer.given if layer.given[0] is not None else (1, *layer.given[1:])
    for position in layer.spatial:
        template = list(given)
        template[position] = "n"
        if layer.shapes is None:
            table = sweep(layer.expr, tuple(template), n=range(1, SIZES + 1))
        else:
            table = sweep(layer.expr, shapes={**layer.shapes, layer.tensor: tuple(template)}, n=range(1, SIZES + 1))
        holds, seen = [], {}
        for row in range(SIZES):
            if not table.ok[row]:
                continue
            shape = list(given)
            shape[position] = row + 1
            out = tuple(int(v) for v in table.shapes[row])
            key = out if candidate.reference is None and not candidate.output_size else (out, row)
            if key not in seen:
                try:
                    seen[key] = apply(candidate, out, tuple(shape), layer)
                except ConvArithError:
                    seen[key] = None
            if seen[key] == tuple(shape):
                holds.append(row + 1)
        found.append(tuple(holds))
        rules.append(periodic(holds, range(1, SIZES + 1)).text)
    return tuple(found), tuple(rules)
