"""What an unknown name means: "did you mean" among the spellings that mean the same thing,
and the layers convarith knows of but does not compute. Imported on that error path only.

Two spellings mean the same thing when they are of the same family (the name without its
dimension, separators and the usual abbreviations: MaxPooling2D, MaxPool2D and max_pool2d are
all 'maxpool'), the same dimension and the same style (a layer/module class or a function). The style comes from
the namespace where it holds one style only (keras.layers and nn. hold classes; F., tf.nn.,
lax. and torch. functions), else from the case of the name (classes are CamelCase).
"""

from __future__ import annotations

import difflib
import re

from ..errors import ConvArithError
from ..parse import short

__all__ = ["KNOWN", "family", "meaning", "unknown"]

CLASS_PREFIXES = ("layers", "keras.layers", "tf.keras.layers", "nn", "torch.nn")
FUNCTION_PREFIXES = ("F", "nn.functional", "torch.nn.functional", "torch", "tf.nn", "lax", "jax.lax", "helper",
                     "onnx.helper")  # fmt: skip
WORDS = (("convolution", "conv"), ("pooling", "pool"), ("average", "avg"), ("upsampling", "upsample"),
         ("padding", "pad"))  # fmt: skip
DIMENSION = re.compile(r"[123]d")

SHAPE_KEEPING = "it keeps the shape of its input (the output shape is the input shape)"
LAST_AXIS = "it changes only the last axis (to units / out_features), not the spatial sizes"
RESHAPING = "it reshapes or joins tensors rather than sliding a window"
RECURRENT = "it is a recurrent or attention layer, not a convolution or pooling"
CONV_LSTM = "it is a convolutional recurrent layer: convarith computes the convolution layers themselves"
GRID = "its output follows the sampling grid it is given, not a window rule"
FRACTIONAL = "its windows are drawn at random, so no fixed size rule gives them"
KERAS_OPS = "it is the backend-neutral keras.ops function; convarith computes the Keras layers and tf.nn"

# a short list from the real namespaces (Keras 3.15 keras.layers, torch 2.13 torch.nn and torch.nn.functional,
# tf 2.21 tf.nn, keras.ops); a test checks each exists there and that none is a spelling convarith computes
KNOWN = {
    **{f"keras.layers.{name}": SHAPE_KEEPING for name in (
        "BatchNormalization", "LayerNormalization", "GroupNormalization", "Dropout", "SpatialDropout1D",
        "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU",
        "Softmax", "Rescaling", "Normalization")},
    **{f"keras.layers.{name}": LAST_AXIS for name in ("Dense", "EinsumDense")},
    **{f"keras.layers.{name}": RESHAPING for name in (
        "Flatten", "Reshape", "Permute", "RepeatVector", "Concatenate", "Add", "Multiply", "Embedding")},
    **{f"keras.layers.{name}": RECURRENT for name in (
        "LSTM", "GRU", "SimpleRNN", "Bidirectional", "MultiHeadAttention", "Attention")},
    **{f"keras.layers.{name}": CONV_LSTM for name in ("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")},
    **{f"nn.{name}": SHAPE_KEEPING for name in (
        "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
        "InstanceNorm3d", "LocalResponseNorm", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "ReLU", "ReLU6",
        "LeakyReLU", "PReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax", "Identity")},
    **{f"nn.{name}": LAST_AXIS for name in ("Linear", "LazyLinear", "Bilinear")},
    **{f"nn.{name}": RESHAPING for name in ("Flatten", "Unflatten", "Embedding", "Sequential")},
    **{f"nn.{name}": RECURRENT for name in (
        "LSTM", "GRU", "RNN", "MultiheadAttention", "Transformer", "TransformerEncoderLayer")},
    **{f"nn.{name}": FRACTIONAL for name in ("FractionalMaxPool2d", "FractionalMaxPool3d")},
    **{f"F.{name}": SHAPE_KEEPING for name in (
        "relu", "gelu", "silu", "sigmoid", "softmax", "dropout", "batch_norm", "layer_norm", "group_norm",
        "instance_norm")},
    **{f"F.{name}": LAST_AXIS for name in ("linear",)},
    **{f"F.{name}": GRID for name in ("grid_sample", "affine_grid")},
    **{f"F.{name}": FRACTIONAL for name in ("fractional_max_pool2d", "fractional_max_pool3d")},
    **{f"tf.nn.{name}": SHAPE_KEEPING for name in (
        "relu", "relu6", "leaky_relu", "gelu", "silu", "sigmoid", "softmax", "dropout", "bias_add",
        "batch_normalization", "local_response_normalization")},
    **{f"tf.nn.{name}": FRACTIONAL for name in ("fractional_max_pool", "fractional_avg_pool")},
    **{f"keras.ops.{name}": KERAS_OPS for name in (
        "conv", "conv_transpose", "depthwise_conv", "separable_conv", "max_pool", "average_pool")},
}  # fmt: skip
ALIASES = {"layers": "keras.layers", "tf.keras.layers": "keras.layers", "torch.nn": "nn",
           "nn.functional": "F", "torch.nn.functional": "F", "ops": "keras.ops"}  # fmt: skip


def family(name: str) -> str:
    """The family of a spelling: its last component lower-cased, without separators and
    dimension, the usual long words shortened ('MaxPooling2D' -> 'maxpool')."""
    word = name.rpartition(".")[2].lower().replace("_", "")
    word = DIMENSION.sub("", word)
    for long, brief in WORDS:
        word = word.replace(long, brief)
    return word


def style(name: str) -> str:
    """'class' or 'function': by the namespace where it holds one style, else by case."""
    prefix, _, base = name.rpartition(".")
    if prefix in CLASS_PREFIXES:
        return "class"
    if prefix in FUNCTION_PREFIXES:
        return "function"
    return "class" if base[:1].isupper() else "function"


def meaning(name: str) -> tuple[str, str, str]:
    """(family, dimension, style): spellings with the same meaning may be suggested for one another."""
    dimension = DIMENSION.search(name.rpartition(".")[2].lower())
    return family(name), dimension.group() if dimension else "", style(name)


def known(name: str) -> str | None:
    """Why convarith does not compute ``name``, if it is a layer it knows of."""
    prefix, _, base = name.rpartition(".")
    return KNOWN.get(f"{ALIASES.get(prefix, prefix)}.{base}")


def suggestions(name: str, spellings) -> list[str]:
    """Up to three known spellings close to ``name`` that mean the same thing, those with
    the same prefix first (the user's namespace), then any other framework's. A misspelt family
    ('globalavgpoling') is read as the closest known one if it is close (ratio >= 0.8), never
    as a shorter or longer family that means something else ('avgpool')."""
    bare = "." not in name  # a bare name may get a bare suggestion; a prefixed one, prefixed ones
    pool = [s for s in spellings if ("." not in s) == bare]
    wanted = meaning(name)
    families = {family(s) for s in pool}
    if wanted[0] not in families:
        close = difflib.get_close_matches(wanted[0], families, n=1, cutoff=0.8)
        if not close:
            return []
        wanted = (close[0], *wanted[1:])
    same = [s for s in pool if meaning(s) == wanted]
    prefix = name.rpartition(".")[0]
    local = [s for s in same if s.rpartition(".")[0] == prefix]
    return difflib.get_close_matches(name, local, n=3, cutoff=0.6) or difflib.get_close_matches(
        name, same, n=3, cutoff=0.6
    )


def unknown(name: str, spellings) -> ConvArithError:
    """The refusal of a name that is not a spelling convarith computes."""
    why = known(name)
    if why is not None:
        return ConvArithError(
            f"convarith knows {name} but does not compute it: {why}. Rule: convarith computes convolution, pooling "
            "and their neighbouring layers' shapes. Fix: compute the convolution or pooling layers around it, and "
            "this layer's shape from its own documentation."
        )
    close = suggestions(name, spellings)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    return ConvArithError(
        f"unknown layer or function {short(name)}.{hint} Rule: convarith knows the convolution, pooling, padding, "
        "resizing and rearranging calls of Keras layers, torch.nn modules and torch.nn.functional, tf.nn, jax.lax "
        "and onnx.helper.make_node. Fix: "
        + (
            "use the suggested spelling."
            if close
            else "check the spelling and the module prefix (nn., F., layers., tf.nn., lax.)."
        )
    )
