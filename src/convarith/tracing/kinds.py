"""The layer kinds a trace knows, in Keras's vocabulary (class name and config keys).

Window layers (convolution, pooling, padding, cropping, upsampling, global pooling) are compiled
to the convarith call text of the same Keras layer and sized by the library (``call_text``):
no size formula lives here. The other kinds get small shape rules (``shape_of``), the
broadcasting of Keras 3's merge layers, and their parameter counts (``params_of``).
"""

from __future__ import annotations

from math import prod

from ..errors import ConvArithError

# config keys passed on to the library's Keras layer, per window kind (family: keys)
CONV_KEYS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "use_bias")
WINDOW_KEYS = {
    "Conv": CONV_KEYS,
    "ConvTranspose": ("filters", "kernel_size", "strides", "padding", "output_padding", "data_format",
                      "dilation_rate", "use_bias"),
    "DepthwiseConv": ("kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate",
                      "use_bias"),
    "SeparableConv": ("filters", "kernel_size", "strides", "padding", "depth_multiplier", "data_format",
                      "dilation_rate", "use_bias"),
    "Pooling": ("pool_size", "strides", "padding", "data_format"),
    "ZeroPadding": ("padding", "data_format"),
    "Cropping": ("cropping", "data_format"),
    "GlobalPooling": ("keepdims", "data_format"),
    "UpSampling": ("size", "data_format", "interpolation"),
}  # fmt: skip
WINDOW_KINDS = {}
for rank in (1, 2, 3):
    WINDOW_KINDS |= {
        f"Conv{rank}D": "Conv",
        f"Convolution{rank}D": "Conv",
        f"Conv{rank}DTranspose": "ConvTranspose",
        f"Convolution{rank}DTranspose": "ConvTranspose",
        f"DepthwiseConv{rank}D": "DepthwiseConv",
        f"SeparableConv{rank}D": "SeparableConv",
        f"SeparableConvolution{rank}D": "SeparableConv",
        f"MaxPooling{rank}D": "Pooling",
        f"MaxPool{rank}D": "Pooling",
        f"AveragePooling{rank}D": "Pooling",
        f"AvgPool{rank}D": "Pooling",
        f"ZeroPadding{rank}D": "ZeroPadding",
        f"Cropping{rank}D": "Cropping",
        f"GlobalAveragePooling{rank}D": "GlobalPooling",
        f"GlobalMaxPooling{rank}D": "GlobalPooling",
        f"GlobalAvgPool{rank}D": "GlobalPooling",
        f"GlobalMaxPool{rank}D": "GlobalPooling",
        f"UpSampling{rank}D": "UpSampling",
    }
# kinds whose output has the shape of their (first) input, with their parameter count per channel
ELEMENTWISE = {
    "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "ThresholdedReLU", "Dropout", "SpatialDropout1D",
    "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "Rescaling",
    "Identity", "ActivityRegularization", "StochasticDepth", "BatchNormalization", "LayerNormalization",
    "GroupNormalization", "UnitNormalization", "Normalization", "LayerScale", "PReLU",
}  # fmt: skip
NESTED = {"Sequential", "Functional", "Model"}  # a model inside the model: its layers come before it, inlined
ELEMENTWISE |= NESTED
MERGES = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}
# Keras 3 serialises arithmetic on tensors (x + 3.0, x * y) as ops: elementwise, broadcast like the merges
MERGES |= {"CustomScaleLayer"}  # keras.applications' InceptionResNetV2: x + r * scale
MERGES |= {f"ops.{name}" for name in ("Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Maximum", "Minimum")}
REARRANGING = {"Flatten", "Reshape", "Permute"}  # positions rearranged: receptive fields end unless one position
OTHER = {"InputLayer", "Dense", "Concatenate"}
KNOWN = set(WINDOW_KINDS) | ELEMENTWISE | MERGES | REARRANGING | OTHER


def literal(value) -> str:
    """A config value as call text: JSON lists as tuples."""
    if isinstance(value, list):
        return "(" + ", ".join(literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def call_text(kind: str, config: dict) -> str:
    """The convarith call of a window layer, from its config (keys the layer does not set: defaults)."""
    keys = WINDOW_KEYS[WINDOW_KINDS[kind]]
    given = ", ".join(f"{key}={literal(config[key])}" for key in keys if key in config and config[key] is not None)
    return f"keras.layers.{kind}({given})"


def unknown(name: str, kind: str) -> ConvArithError:
    return ConvArithError(
        f"Layer {name!r}: kind {kind!r} is not one convarith traces. Rule: a trace computes every layer or "
        f"says it cannot; it never guesses a shape. Fix: one of the documented kinds ({', '.join(sorted(KNOWN)[:8])}, "
        "...; see convarith.tracing.kinds.KNOWN), or split the model before this layer."
    )


def refuse(name: str, kind: str, what: str, rule: str, fix: str) -> ConvArithError:
    return ConvArithError(f"Layer {name!r} ({kind}): {what}. Rule: {rule}. Fix: {fix}.")


def broadcast(name: str, kind: str, shapes: list[tuple]) -> tuple | tuple[None, int]:
    """Keras 3's merge shape: shapes aligned on the right, a 1 (or a missing leading axis) takes the
    other size. Returns the shape, or (None, axis) for the first axis whose sizes differ."""
    out = list(shapes[0])
    for shape in shapes[1:]:
        if len(shape) > len(out):
            out, shape = list(shape), out
        tail = len(out) - len(shape)
        for i, size in enumerate(shape):
            if out[tail + i] == 1:
                out[tail + i] = size
            elif size not in (1, out[tail + i]):
                return None, tail + i
    return tuple(out)


def concatenate(name: str, config: dict, shapes: list[tuple]) -> tuple | tuple[None, int]:
    """Concatenate along ``axis``: equal ranks, equal sizes elsewhere ((None, axis) where not)."""
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise refuse(name, "Concatenate", f"inputs of ranks {[len(s) for s in shapes]}",
                     "Keras concatenates tensors of one rank", "reshape the inputs to one rank")  # fmt: skip
    axis = config.get("axis", -1) % rank
    for other in range(rank):
        if other != axis and len({s[other] for s in shapes}) > 1:
            return None, other
    return (*shapes[0][:axis], sum(s[axis] for s in shapes), *shapes[0][axis + 1 :])


def reshape(name: str, config: dict, shape: tuple) -> tuple:
    target = list(config["target_shape"])
    cells = prod(shape[1:])
    if target.count(-1) == 1:
        known = prod(t for t in target if t != -1)
        if known == 0 or cells % known:
            raise refuse(name, "Reshape", f"{cells} cells into target_shape={tuple(target)}",
                         "the -1 axis takes the cells left over, which must be a whole number",
                         "a target_shape whose known sizes divide the input's cells")  # fmt: skip
        target[target.index(-1)] = cells // known
    if prod(target) != cells:
        raise refuse(name, "Reshape", f"input {shape} has {cells} cells per sample, target_shape={tuple(target)} "
                     f"holds {prod(target)}", "Reshape keeps the number of cells", "a target_shape with as many cells")  # fmt: skip
    return (shape[0], *target)


def shape_of(name: str, kind: str, config: dict, shapes: list[tuple]):
    """The output shape of a non-window kind; (None, axis) for a merge whose inputs do not line up."""
    if kind.startswith("torch."):
        return torch_shape_of(name, kind, config, shapes)
    if kind.startswith("onnx."):
        return onnx_shape_of(name, kind, config, shapes)
    x = shapes[0]
    if kind in ELEMENTWISE:
        return x
    if kind in MERGES:
        if not kind.startswith("ops.") and len({s[0] for s in shapes}) > 1:
            raise refuse(name, kind, f"inputs of batch sizes {[s[0] for s in shapes]}",
                         "Keras's merge layers take one batch size (Cannot merge tensors with different batch sizes)",
                         "inputs of one batch size")  # fmt: skip
        if kind == "Subtract" and len(shapes) != 2:  # the layer; ops.Subtract may take a constant
            raise refuse(name, kind, f"{len(shapes)} inputs", "Subtract takes exactly 2", "two inputs")
        return broadcast(name, kind, shapes)
    if kind == "Concatenate":
        return concatenate(name, config, shapes)
    if kind == "Dense":
        return (*x[:-1], config["units"])
    if kind == "Flatten":
        return (x[0], prod(x[1:]))
    if kind == "Reshape":
        return reshape(name, config, x)
    if kind == "Permute":
        dims = config["dims"]
        if sorted(dims) != list(range(1, len(x))):
            raise refuse(name, kind, f"dims={tuple(dims)} for an input of rank {len(x)}",
                         "Permute's dims reorder every axis but the batch, counted from 1",
                         f"a permutation of 1..{len(x) - 1}")  # fmt: skip
        return (x[0], *(x[d] for d in dims))
    raise unknown(name, kind)


def norm_axes(config: dict, shape: tuple) -> int:
    """The number of cells of the axes a normalisation layer keeps statistics over."""
    axes = config.get("axis", -1)
    axes = [axes] if isinstance(axes, int) else axes
    return prod(shape[a] for a in axes)


def params_of(kind: str, config: dict, shapes: list[tuple], ops=()) -> int:
    """The layer's parameter count (Keras's count_params(): trainable and not)."""
    if channels_first(kind):  # the sizes of its initializers, or its module's parameters
        return config["params"]
    x = shapes[0]
    if ops:  # window layers: the weights of their convolutions (pools and pads have none)
        total = 0
        for op in ops:
            if op.kind in ("conv", "conv_transpose"):
                total += prod(op.kernel) * op.in_channels // op.groups * op.out_channels
        bias = config.get("use_bias", True) and WINDOW_KINDS[kind] in ("Conv", "ConvTranspose", "DepthwiseConv",
                                                                       "SeparableConv")  # fmt: skip
        return total + (ops[-1].out_channels if bias else 0)
    if kind == "Dense":
        return x[-1] * config["units"] + (config["units"] if config.get("use_bias", True) else 0)
    if kind == "BatchNormalization":
        return norm_axes(config, x) * (2 + config.get("center", True) + config.get("scale", True))
    if kind in ("LayerNormalization", "GroupNormalization"):
        axes = norm_axes(config, x) if kind == "LayerNormalization" else x[config.get("axis", -1)]
        return axes * (config.get("center", True) + config.get("scale", True))
    if kind == "Normalization":  # mean, variance and the count adapted on; none when the config gives them
        return 0 if config.get("mean") is not None else 2 * norm_axes(config, x) + 1
    if kind == "LayerScale":
        return x[-1]
    if kind == "PReLU":
        shared = set(config.get("shared_axes") or ())
        return prod(1 if i in shared else n for i, n in enumerate(x) if i > 0)
    return 0


# --- ONNX (kinds onnx.<op_type>, read by onnx_model; channels first) ---
ONNX_WINDOWS = {"onnx." + op for op in ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool",
                                        "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "DepthToSpace",
                                        "SpaceToDepth", "Pad", "Resize")}  # fmt: skip
ONNX_ELEMENTWISE = {"onnx." + op for op in (
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Gelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
    "Softplus", "Softsign", "Mish", "Softmax", "LogSoftmax", "Hardmax", "Dropout", "Identity", "Cast", "Clip",
    "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Erf", "Floor", "Ceil", "Round", "Sign", "Not",
    "BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization", "LRN",
)}  # fmt: skip
ONNX_MERGES = {"onnx." + op for op in ("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean",
                                       "Equal", "Less", "Greater", "And", "Or", "Where")}  # fmt: skip
ONNX_OTHER = {"onnx." + op for op in ("Concat", "Flatten", "Gemm", "MatMul", "Reshape", "Transpose", "Squeeze",
                                      "Unsqueeze")}  # fmt: skip
WINDOWS = set(WINDOW_KINDS) | ONNX_WINDOWS  # the kinds sized by a library call
CONCATS = {"Concatenate", "onnx.Concat"}
MERGES |= ONNX_MERGES
REARRANGING |= {"onnx.Flatten", "onnx.Reshape", "onnx.Transpose", "onnx.Squeeze", "onnx.Unsqueeze"}
KNOWN |= ONNX_WINDOWS | ONNX_ELEMENTWISE | ONNX_MERGES | ONNX_OTHER


def window_call(kind: str, config: dict, shapes: list[tuple]) -> tuple[str, dict]:
    """A window layer's call text and the map_call keywords giving its input shapes."""
    if kind.startswith("torch.F."):
        return config["call"], {"shapes": {"x": shapes[0]}}
    if kind in TORCH_WINDOWS:
        return config["call"], {"input_shape": shapes[0]}
    if kind not in ONNX_WINDOWS:
        return call_text(kind, config), {"input_shape": shapes[0]}
    return config["call"], {"shapes": dict(zip(("X", "W", "B"), onnx_inputs(config, shapes)))}


def onnx_inputs(config: dict, shapes: list[tuple]) -> list[tuple]:
    """The shapes of every input of an ONNX node in order: traced ones, and constants' own."""
    traced = iter(shapes)
    return [tuple(config["constants"][n]) if n in config["constants"] else next(traced) for n in config["inputs"] if n]


def onnx_axis(name: str, kind: str, axis: int, rank: int, low: int = 0) -> int:
    if not -rank - low <= axis < rank:
        raise refuse(name, kind, f"axis={axis} for a rank-{rank} input", f"ONNX takes axis in [{-rank}, {rank - 1}]",
                     "an axis of the input")  # fmt: skip
    return axis % (rank + low) if axis < 0 else axis


def onnx_constant(name: str, kind: str, config: dict, role: str, position: int):
    """The values of a constant input (Reshape's shape, Squeeze's axes), or None if not given."""
    inputs = config["inputs"]
    if len(inputs) <= position or not inputs[position]:
        return None
    given = inputs[position]
    if given not in config["values"]:
        raise refuse(name, kind, f"its {role} input {given!r} is computed in the graph",
                     f"a trace reads {role} from an initializer or a Constant", f"export with a constant {role}")  # fmt: skip
    return config["values"][given]


def onnx_shape_of(name: str, kind: str, config: dict, shapes: list[tuple]):
    """The output shape of an ONNX node that no library call sizes ((None, axis) for a broadcast
    whose inputs do not line up)."""
    attrs = config["attrs"]
    full = onnx_inputs(config, shapes)
    x = full[0]
    op = kind[len("onnx.") :]
    if kind in ONNX_ELEMENTWISE:
        return x
    if kind in ONNX_MERGES:  # multidirectional (NumPy) broadcasting, the batch axis included
        out = broadcast(name, kind, full)
        if out[0] is None and len(full) > len(shapes):  # a weight that does not fit: no skip connection to fix
            raise refuse(name, kind, f"inputs of shapes {', '.join(map(str, full))} do not broadcast",
                         "ONNX broadcasts like NumPy (sizes equal or 1, aligned on the right)",
                         "a constant of a broadcastable shape")  # fmt: skip
        return out
    if op == "Concat":
        axis = onnx_axis(name, kind, attrs["axis"], len(x))
        return concatenate(name, {"axis": axis}, full)
    if op == "Flatten":
        axis = onnx_axis(name, kind, attrs.get("axis", 1), len(x), 1)
        return (prod(x[:axis]), prod(x[axis:]))
    if op == "Gemm":
        a, b = full[0], full[1]
        if len(a) != 2 or len(b) != 2:
            raise refuse(name, kind, f"inputs of shapes {a} and {b}", "Gemm multiplies two matrices",
                         "Flatten the input first")  # fmt: skip
        m, k = a[::-1] if attrs.get("transA") else a
        k2, n = b[::-1] if attrs.get("transB") else b
        if k != k2:
            raise refuse(name, kind, f"inputs {a} and {b} (transA={attrs.get('transA', 0)}, transB="
                         f"{attrs.get('transB', 0)}) share no inner size ({k} and {k2})",
                         "Gemm multiplies (M, K) by (K, N)", "a weight whose inner size is the input's")  # fmt: skip
        return (m, n)
    if op == "MatMul":
        out = matmul(name, kind, full[0], full[1])
        if out[0] is None:
            raise refuse(name, kind, f"inputs {full[0]} and {full[1]} do not multiply",
                         "MatMul is NumPy's matmul (inner sizes equal, batch axes broadcast)",
                         "operands whose inner sizes agree")  # fmt: skip
        return out
    if op == "Reshape":
        target = onnx_constant(name, kind, config, "shape", 1)
        if target is None:
            raise refuse(name, kind, "no shape input", "Reshape takes its shape as a second input", "give it")
        if not attrs.get("allowzero"):  # a 0 copies the input's size on that axis
            target = [x[i] if t == 0 and i < len(x) else t for i, t in enumerate(target)]
        return reshape(name, {"target_shape": target}, (1, *x))[1:]
    if op == "Transpose":
        perm = attrs.get("perm", list(range(len(x)))[::-1])
        if sorted(perm) != list(range(len(x))):
            raise refuse(name, kind, f"perm={perm} for a rank-{len(x)} input", "perm orders every axis once",
                         f"a permutation of 0..{len(x) - 1}")  # fmt: skip
        return tuple(x[p] for p in perm)
    if op in ("Squeeze", "Unsqueeze"):
        axes = attrs.get("axes", onnx_constant(name, kind, config, "axes", 1))
        if op == "Squeeze":
            if axes is None:
                return tuple(n for n in x if n != 1)
            axes = {onnx_axis(name, kind, a, len(x)) for a in axes}
            if any(x[a] != 1 for a in axes):
                raise refuse(name, kind, f"axes={sorted(axes)} of sizes {[x[a] for a in sorted(axes)]}",
                             "Squeeze removes axes of size 1", "axes whose size is 1")  # fmt: skip
            return tuple(n for i, n in enumerate(x) if i not in axes)
        rank = len(x) + len(axes)
        if len({onnx_axis(name, kind, a, rank) for a in axes}) < len(axes):
            raise refuse(name, kind, f"axes={list(axes)} name an axis twice", "each new axis once",
                         "distinct axes")  # fmt: skip
        axes = {onnx_axis(name, kind, a, rank) for a in axes}
        rest = iter(x)
        return tuple(1 if i in axes else next(rest) for i in range(rank))
    raise unknown(name, kind)


def matmul(name: str, kind: str, a: tuple, b: tuple):
    """NumPy matmul: 1-D operands promoted and the added axis dropped, batch axes broadcast."""
    a2, b2 = (1, *a) if len(a) == 1 else a, (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        return None, len(a) - 1
    batch = broadcast(name, kind, [a2[:-2] or (1,), b2[:-2] or (1,)])
    if batch and batch[0] is None:
        return None, batch[1]
    batch = batch if len(a2) > 2 or len(b2) > 2 else ()
    out = (*batch, a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


# --- PyTorch (kinds torch.<module class> or torch.<function>, read by torch_model; channels first) ---
TORCH_WINDOW_FAMILIES = ("Conv", "ConvTranspose", "MaxPool", "AvgPool", "LPPool", "AdaptiveAvgPool",
                         "AdaptiveMaxPool", "ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad")  # fmt: skip
TORCH_WINDOWS = {f"torch.{f}{n}d" for f in TORCH_WINDOW_FAMILIES for n in (1, 2, 3)}
TORCH_WINDOWS |= {"torch.Upsample", "torch.UpsamplingNearest2d", "torch.UpsamplingBilinear2d", "torch.PixelShuffle",
                  "torch.PixelUnshuffle"}  # fmt: skip
# torch.nn.functional windows sized by the library as F.<name>(x, ...) (their other arguments constants)
FUNCTIONAL_WINDOWS = tuple(
    f"{kind}{n}d"
    for kind in ("max_pool", "avg_pool", "lp_pool", "adaptive_avg_pool", "adaptive_max_pool")
    for n in (1, 2, 3)
)
FUNCTIONAL_WINDOWS += ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pad", "pixel_shuffle",
                       "pixel_unshuffle")  # fmt: skip
TORCH_WINDOWS |= {"torch.F." + name for name in FUNCTIONAL_WINDOWS}
TORCH_ELEMENTWISE = {"torch." + name for name in (
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh",
    "Hardswish", "Hardsigmoid", "Hardtanh", "Softplus", "Softmax", "LogSoftmax", "Dropout", "Dropout1d", "Dropout2d",
    "Dropout3d", "AlphaDropout", "Identity", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d",
    "InstanceNorm2d", "InstanceNorm3d", "GroupNorm", "LayerNorm", "LocalResponseNorm",
    "relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "softmax", "dropout", "leaky_relu", "hardswish", "elu",
    "contiguous",
)}  # fmt: skip
TORCH_MERGES = {"torch.add", "torch.sub", "torch.mul", "torch.div"}
TORCH_OTHER = {"torch.cat", "torch.Linear", "torch.Flatten", "torch.flatten"}
WINDOWS |= TORCH_WINDOWS
CONCATS |= {"torch.cat"}
MERGES |= TORCH_MERGES
REARRANGING |= {"torch.Flatten", "torch.flatten"}
KNOWN |= TORCH_WINDOWS | TORCH_ELEMENTWISE | TORCH_MERGES | TORCH_OTHER


def channels_first(kind: str) -> bool:
    return kind.startswith(("onnx.", "torch."))


def concat_axis(kind: str, config: dict, rank: int) -> int:
    """The axis a concatenation joins along, counted from 0."""
    if kind == "torch.cat":
        dim = config["kwargs"].get("dim", config["args"][1] if len(config["args"]) > 1 else 0)
    elif kind == "onnx.Concat":
        dim = config["attrs"]["axis"]
    else:
        dim = config.get("axis", -1)
    return dim % rank


def torch_shape_of(name: str, kind: str, config: dict, shapes: list[tuple]):
    x = shapes[0]
    if kind in TORCH_ELEMENTWISE:
        return x
    if kind in TORCH_MERGES:  # broadcast like NumPy; a Python number operand adds no shape
        return broadcast(name, kind, shapes)
    if kind == "torch.cat":
        return concatenate(name, {"axis": concat_axis(kind, config, len(x))}, shapes)
    if kind == "torch.Linear":
        if x[-1] != config["in_features"]:
            raise refuse(name, kind, f"input {x} has {x[-1]} features, the layer takes in_features="
                         f"{config['in_features']}", "Linear multiplies the last axis",
                         f"an input whose last size is {config['in_features']}")  # fmt: skip
        return (*x[:-1], config["out_features"])
    if kind in ("torch.Flatten", "torch.flatten"):
        if kind == "torch.Flatten":
            start, end = config.get("start_dim", 1), config.get("end_dim", -1)
        else:
            args, kwargs = config["args"], config["kwargs"]
            start = kwargs.get("start_dim", args[1] if len(args) > 1 else 0)
            end = kwargs.get("end_dim", args[2] if len(args) > 2 else -1)
        start, end = start % len(x), end % len(x)
        return (*x[:start], prod(x[start : end + 1]), *x[end + 1 :])
    raise unknown(name, kind)
