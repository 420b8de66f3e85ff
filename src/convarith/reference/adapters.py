"""User arrays in each framework's own layout <-> canonical arrays of the op chain.

Canonical: input ``(N, C, *spatial)``; conv weight ``(O, C/groups, *kernel)``;
conv_transpose weight ``(C, O/groups, *kernel)``; bias ``(O,)``. Each framework
function below says how its arrays are laid out and returns one (weight, bias)
pair per op of ``Mapped.ops``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..api import map_call
from ..core import arith
from ..core.op import ConvOp
from ..errors import ConvArithError
from ..frameworks._common import Mapped
from ..parse import Call, Name, expr_type_error, parse_call
from . import activations

__all__ = ["Plan", "finish", "prepare", "random_plan", "warn_nan"]


@dataclass
class Plan:
    """A call mapped onto canonical ops, with its arrays in canonical layout."""

    mapped: Mapped
    x: np.ndarray
    params: list
    last_axis_bias: np.ndarray | None = None
    given: tuple = ()  # (name, array) of every array the user gave, for warn_nan


def label_of(mapped: Mapped) -> str:
    return mapped.call.base


def as_array(value, name: str, label: str) -> np.ndarray:
    """A numeric ndarray (NaN allowed, reported as a warning)."""
    try:
        array = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - anything NumPy cannot take is bad input
        raise ConvArithError(
            f"{label}: {name} is not an array ({exc}). Rule: the numbers are NumPy arrays of real numbers. "
            "Fix: pass a numpy.ndarray."
        ) from None
    if array.dtype.kind not in "biuf" or array.dtype.kind == "b":
        raise ConvArithError(
            f"{label}: {name} has dtype {array.dtype}, which is not a real number type. Rule: the numbers are ints or "
            "floats. Fix: x.astype('float32')."
        )
    return array


def warn_nan(plan: Plan, y: np.ndarray) -> None:
    """Warn, naming each given array that holds NaN, when the result holds NaN: the inputs are
    only scanned then (a pass over a large input costs as much as a small layer's work)."""
    if y.dtype.kind != "f" or not y.size or not np.isnan(y.min()):  # min propagates NaN, in one pass
        return
    for name, given in plan.given:
        array = np.asarray(given)
        if array.dtype.kind == "f" and array.size and np.isnan(array.min()):
            warnings.warn(
                f"{label_of(plan.mapped)}: {name} holds {int(np.isnan(array).sum())} NaN value(s); they propagate.",
                RuntimeWarning,
                stacklevel=3,
            )


def expect(array: np.ndarray, shape: tuple, name: str, label: str, layout: str) -> np.ndarray:
    if tuple(array.shape) != tuple(shape):
        raise ConvArithError(
            f"{label}: {name} has shape {tuple(array.shape)}, expected {tuple(shape)}. Rule: {layout}. "
            f"Fix: an array of shape {tuple(shape)}."
        )
    return array


def no_pool_weights(label: str, weights) -> ConvArithError:
    return ConvArithError(
        f"{label}: pooling has no weights, got {len(weights)} weight array(s). Rule: a pooling layer has no "
        "parameters. Fix: weights=None (or [])."
    )


def tensor_roles(mapped: Mapped, params: tuple[str, ...]) -> dict[str, str]:
    """{parameter: array name} for the tensor parameters ``params`` written as
    names in the call, read from the bound arguments (never from positions)."""
    return {param: mapped.argument(param).dotted for param in params if isinstance(mapped.argument(param), Name)}


def take(arrays: dict, roles: dict, role: str, label: str, required: bool = True):
    name = roles.get(role)
    if name is None:
        if required:
            raise ConvArithError(
                f"{label}: the call names no {role} array. Rule: a function's tensors are written as names. "
                f"Fix: write {role}=<name> in the call."
            )
        return None
    if name not in arrays:
        given = ", ".join(sorted(arrays)) or "none"
        raise ConvArithError(
            f"{label}: no array given for {role}={name}. Rule: every tensor named in the call needs its array; "
            f"arrays given: {given}. Fix: pass arrays={{'{name}': ...}}."
        )
    return as_array(arrays[name], f"{role} array {name!r}", label)


def weight_list(weights, count: int, label: str, order: str) -> list:
    items = [] if weights is None else list(weights)
    if len(items) != count:
        raise ConvArithError(
            f"{label}: expected {count} weight array(s) ({order}), got {len(items)}. "
            "Rule: weights are given in the framework's own order and layout. "
            f"Fix: pass the {count} array(s) {order}."
        )
    return items


def to_canonical(x: np.ndarray, spec: tuple[int, ...]) -> np.ndarray:
    """(batch, channel, spatial...) axes of a tensor laid out by ``spec``."""
    return x if spec == tuple(range(len(spec))) else np.transpose(x, spec)


def from_canonical(y: np.ndarray, spec: tuple[int, ...]) -> np.ndarray:
    if len(spec) < y.ndim:  # an out_spec without spatial axes (keepdims=False): each of them is 1 long
        y = y.reshape(y.shape[: len(spec)])
    if spec == tuple(range(len(spec))):
        return y
    return np.transpose(y, sorted(range(len(spec)), key=spec.__getitem__))  # the inverse permutation


def spatial_last(w: np.ndarray, rank: int) -> np.ndarray:
    """(k..., a, b) -> (b, a, k...): Keras/TF kernels to canonical conv order."""
    return np.transpose(w, (rank + 1, rank, *range(rank)))


# -- PyTorch -------------------------------------------------------------------------

# torch's weight layouts as steps (translate.steps) from torch to canonical, per op kind: canonical already.
# translate.torch writes the same steps into a translation's code.
TORCH_WEIGHT_LAYOUT = {"conv": (), "conv_transpose": ()}


def torch_params(mapped: Mapped, weights, arrays) -> list:
    """nn modules: parameters() = [weight, bias]; F.*: arrays by name (input, weight, bias).
    Conv weight (O, C/groups, k...), ConvTranspose weight (C, O/groups, k...)."""
    op = mapped.ops[0]
    label = label_of(mapped)
    if op.kind == "max_unpool":
        return [(unpool_indices(mapped, weights, arrays), None)]
    if op.kind == "pad" and op.pad_mode == "circular":
        for n, lo, hi in zip(op.in_size, op.pad_lo, op.pad_hi):
            kept = n + min(lo, 0) + min(hi, 0)
            if max(lo, hi) > kept:
                raise ConvArithError(
                    f"{label}: circular padding ({lo}, {hi}) of an axis of {n} cropped to {kept}. Rule: torch wraps "
                    "the cropped input, and a pad longer than it copies cells torch has not written yet (its values "
                    "are not defined). Fix: pads of at most the cropped length, or crop in a separate step."
                )
    if op.weightless:
        if weights:
            raise no_pool_weights(label, weights)
        return [(None, None)]
    if arrays is not None:
        roles = tensor_roles(mapped, ("input", "weight", "bias"))
        w = take(arrays, roles, "weight", label)
        b = take(arrays, roles, "bias", label, required=False)
    else:
        order = "weight, bias" if op.bias else "weight (bias=False)"
        items = weight_list(weights, 2 if op.bias else 1, label, order)
        w = as_array(items[0], "weight", label)
        b = as_array(items[1], "bias", label) if op.bias else None
    layout = "PyTorch weight layout is (out_channels, in_channels/groups, *kernel_size)"
    if op.kind == "conv_transpose":
        layout = "PyTorch ConvTranspose weight layout is (in_channels, out_channels/groups, *kernel_size)"
    out_channels = op.out_channels
    if op.in_channels == 0:  # the op keeps the input's 0 channels; the weight has the declared ones
        out_channels = w.shape[0] if mapped.argument("out_channels") is None else mapped.argument("out_channels")
    expect(w, canonical_weight_shape(op, out_channels), "weight", label, layout)
    if b is not None:
        expect(b, (out_channels,), "bias", label, "bias has one value per output channel")
    from ..translate import steps  # here, not at the top: translate may import this module

    return [(steps.apply(TORCH_WEIGHT_LAYOUT[op.kind], w), b)]


def unpool_indices(mapped: Mapped, weights, arrays) -> np.ndarray:
    """MaxUnpool's second input: module(x, indices) takes it as weights=[indices], F.max_unpool*d
    by name in arrays=; integer flat positions, of the input's shape (canonical: batched)."""
    label = label_of(mapped)
    if arrays is not None:
        indices = take(arrays, tensor_roles(mapped, ("input", "indices")), "indices", label)
    else:
        indices = as_array(weight_list(weights, 1, label, "indices, as in module(x, indices)")[0], "indices", label)
    if indices.dtype.kind not in "iu":
        raise ConvArithError(
            f"{label}: indices has dtype {indices.dtype}. Rule: torch's max_unpool takes int64 indices. "
            "Fix: indices.astype('int64')."
        )
    op = mapped.ops[0]
    given = mapped.given_input_shape
    expect(indices, given, "indices", label, "indices has the input's shape (what MaxPool returned with it)")
    return indices.reshape(op.input_shape)


def canonical_weight_shape(op: ConvOp, out_channels: int | None = None) -> tuple[int, ...]:
    """The weight's shape in canonical layout; ``out_channels`` when the weight declares
    other output channels than the op gives (torch on an input of 0 channels)."""
    out_channels = op.out_channels if out_channels is None else out_channels
    if op.kind == "conv_transpose":
        return (op.in_channels, out_channels // op.groups, *op.kernel)
    return (out_channels, op.in_channels // op.groups, *op.kernel)


# -- Keras -----------------------------------------------------------------------------


def depthwise_canonical(w: np.ndarray, rank: int) -> np.ndarray:
    """(k..., C, multiplier) -> (C*multiplier, 1, k...): output channel c*multiplier + m."""
    merged = w.reshape(w.shape[:rank] + (w.shape[rank] * w.shape[rank + 1],))
    return np.moveaxis(merged, rank, 0)[:, None]


def keras_params(mapped: Mapped, weights, arrays) -> list:
    """layer.get_weights(): Conv kernel (k..., C/groups, filters); ConvTranspose kernel
    (k..., filters, C); DepthwiseConv depthwise_kernel (k..., C, multiplier);
    SeparableConv depthwise_kernel, pointwise_kernel (1..., C*multiplier, filters); then bias."""
    op, label = mapped.ops[0], label_of(mapped)
    if op.weightless:
        if weights:
            raise no_pool_weights(label, weights)
        return [(None, None)]
    if mapped.activation and mapped.activation not in activations.FUNCTIONS:
        from ..frameworks.keras import ACTIVATION_FUNCTIONS

        raise ConvArithError(
            f"{label}: activation={mapped.activation} is a function convarith cannot identify. Rule: the numbers "
            "need a known activation: a name string, keras.activations.<name>, or one of "
            f"{', '.join(sorted(ACTIVATION_FUNCTIONS))}. Fix: activation='relu' (or another name Keras accepts)."
        )
    rank = op.rank
    last = mapped.ops[-1]
    if mapped.layer == "separable":
        names = ["depthwise_kernel", "pointwise_kernel"] + (["bias"] if last.bias else [])
    elif mapped.layer == "depthwise":
        names = ["depthwise_kernel"] + (["bias"] if op.bias else [])
    else:
        names = ["kernel"] + (["bias"] if op.bias else [])
    items = weight_list(weights, len(names), label, ", ".join(names) + " (layer.get_weights() order)")
    arrays_ = {name: as_array(item, name, label) for name, item in zip(names, items, strict=True)}
    bias = arrays_.get("bias")
    if bias is not None:
        expect(bias, (last.out_channels,), "bias", label, "bias has one value per filter")
    from ..translate import keras as keras_layout  # the layouts as data, shared with the translation
    from ..translate.steps import apply

    if mapped.layer in ("depthwise", "separable"):
        multiplier = op.out_channels // op.in_channels
        dk = expect(
            arrays_["depthwise_kernel"], (*op.kernel, op.in_channels, multiplier), "depthwise_kernel", label,
            "Keras depthwise_kernel layout is (*kernel_size, input channels, depth_multiplier)",
        )  # fmt: skip
        depthwise = apply(keras_layout.depthwise_steps(op.kernel, op.in_channels, multiplier), dk)
        if mapped.layer == "depthwise":
            return [(depthwise, bias)]
        pk = expect(
            arrays_["pointwise_kernel"], (*(1,) * rank, op.out_channels, last.out_channels), "pointwise_kernel", label,
            "Keras pointwise_kernel layout is (1, ..., input channels * depth_multiplier, filters)",
        )  # fmt: skip
        return [(depthwise, None), (apply(keras_layout.kernel_steps(rank), pk), bias)]
    kernel = arrays_["kernel"]
    if op.kind == "conv_transpose":
        expect(kernel, (*op.kernel, op.out_channels, op.in_channels), "kernel", label,
               "Keras Conv*Transpose kernel layout is (*kernel_size, filters, input channels)")  # fmt: skip
    else:
        expect(kernel, (*op.kernel, op.in_channels // op.groups, op.out_channels), "kernel", label,
               "Keras kernel layout is (*kernel_size, input channels/groups, filters)")  # fmt: skip
    return [(apply(keras_layout.kernel_steps(rank), kernel), bias)]


def keras_bias_on_last_axis(mapped: Mapped) -> bool:
    """Keras 3.15 on TensorFlow, channels_first: when the output's last axis is as long as
    the number of filters, the bias is added along that last axis, not along the channels
    (measured for Conv, Depthwise and Separable layers of every rank)."""
    last = mapped.ops[-1]
    return (
        mapped.framework_id == "keras"
        and last.bias
        and last.out_spec[1] == 1
        and arith.output_shape(last)[-1] == last.out_channels
    )


# -- tf.nn -----------------------------------------------------------------------------


def tf_nn_params(mapped: Mapped, weights, arrays) -> list:
    """filters (k..., C/groups, O) for conv*/convolution; conv*_transpose filters (k..., O, C);
    depthwise_conv2d filter (kh, kw, C, multiplier); pools take only input."""
    op, label = mapped.ops[0], label_of(mapped)
    if op.weightless:
        return [(None, None)]
    if mapped.layer == "separable":  # wip8-rearr
        return tf_separable_params(mapped, arrays)
    shape = mapped.output_shape
    if arith_spatial(op) != tuple(shape[-op.rank - 1 : -1]):
        raise ConvArithError(
            f"{label}: numbers for a dilated depthwise convolution with strides > 1 are not modelled "
            "(TensorFlow runs it as space-to-batch, whose output is not the dilated convolution). Rule: convarith "
            "computes only what it reproduces. Fix: strides=1."
        )
    depthwise = "depthwise" in label
    roles = tensor_roles(mapped, ("input", "filter" if depthwise else "filters"))
    w = take(arrays, roles, "filter" if depthwise else "filters", label)
    from ..translate import steps
    from ..translate.tf_nn import filter_steps  # the layouts as data, written into translations too

    if depthwise:
        expect(w, (*op.kernel, op.in_channels, op.out_channels // op.in_channels), "filter", label,
               "tf.nn.depthwise_conv2d filter layout is (kh, kw, in_channels, channel_multiplier)")  # fmt: skip
    elif op.kind == "conv_transpose":
        expect(w, (*op.kernel, op.out_channels, op.in_channels), "filters", label,
               "tf.nn transposed filters layout is (*kernel, out_channels, in_channels)")  # fmt: skip
    else:
        expect(w, (*op.kernel, op.in_channels // op.groups, op.out_channels), "filters", label,
               "tf.nn filters layout is (*kernel, in_channels/groups, out_channels)")  # fmt: skip
    return [(steps.apply(filter_steps(mapped)[0], w), None)]


def tf_separable_params(mapped: Mapped, arrays) -> list:
    """tf.nn.separable_conv2d: depthwise_filter (kh, kw, C, multiplier), pointwise_filter (1, 1, C*multiplier, O)."""
    depth, point = mapped.ops
    label = label_of(mapped)
    if mapped.space_to_batch and any(s > 1 for s in depth.stride):
        raise ConvArithError(
            f"{label}: numbers for a dilated depthwise convolution with strides > 1 are not modelled "
            "(TensorFlow runs it as space-to-batch, whose output is not the dilated convolution). Fix: strides=1."
        )
    roles = tensor_roles(mapped, ("depthwise_filter", "pointwise_filter"))
    dw, pw = take(arrays, roles, "depthwise_filter", label), take(arrays, roles, "pointwise_filter", label)
    multiplier = depth.out_channels // depth.in_channels
    expect(dw, (*depth.kernel, depth.in_channels, multiplier), "depthwise_filter", label,
           "tf.nn.separable_conv2d depthwise_filter layout is (kh, kw, in_channels, channel_multiplier)")  # fmt: skip
    from ..translate import steps
    from ..translate.tf_nn import filter_steps  # the layouts as data, written into translations too

    depth_steps, point_steps = filter_steps(mapped)
    if depth.out_channels == 0:  # a channel multiplier of 0: TF's pointwise conv of no channels gives zeros
        return [(steps.apply(depth_steps, dw), None), (np.zeros((point.out_channels, 0, 1, 1), pw.dtype), None)]
    return [(steps.apply(depth_steps, dw), None), (steps.apply(point_steps, pw), None)]


def arith_spatial(op: ConvOp) -> tuple[int, ...]:
    from ..core import arith

    return tuple(max(s, 0) for s in arith.output_spatial(op))


# -- jax.lax ---------------------------------------------------------------------------


def jax_params(mapped: Mapped, weights, arrays) -> list:
    """rhs laid out by dimension_numbers (O, I and spatial letters). conv_transpose runs
    the rhs (flipped and I/O-swapped first if transpose_kernel=True) as a stride-1
    convolution of the stride-dilated input. The layout is data: ``translate.jax_lax.rhs_steps``
    (the translations write the same steps out as code)."""
    from ..translate import steps
    from ..translate.jax_lax import rhs_steps

    op, label = mapped.ops[0], label_of(mapped)
    if op.init_value is not None:  # reduce_window (wip8-rearr)
        return reduce_window_params(mapped)
    roles = tensor_roles(mapped, ("lhs", "rhs"))
    lhs, rhs = take(arrays, roles, "lhs", label), take(arrays, roles, "rhs", label)
    return [(np.ascontiguousarray(steps.apply(rhs_steps(mapped, lhs.ndim), rhs)), None)]


def reduce_window_params(mapped: Mapped) -> list:
    """jax.lax.reduce_window takes no weights; a sum whose init_value is not 0 is refused: XLA may apply
    the init value any number of times (measured on CPU: once per window, not once per padding cell)."""
    op = mapped.ops[0]
    if op.kind == "sum_pool" and op.init_value != 0:
        raise ConvArithError(
            f"{label_of(mapped)}: numbers for a lax.add reduction with init_value={op.init_value:g} are not modelled. "
            "Rule: XLA leaves how often a non-identity init value is added to the implementation. "
            "Fix: init_value=0.0 and add the constant afterwards."
        )
    return [(None, None)]


# -- ONNX ------------------------------------------------------------------------------


def onnx_steps(mapped: Mapped) -> tuple[tuple, tuple]:
    """(X steps, W steps) from the node's layouts to canonical, as data (translate.steps): ONNX is
    channels first and W is already (M, C/group, k...) or (C, M/group, k...), so only a Pad over
    some trailing axes reshapes X into its op's (N, C, padded axes...) view."""
    from ..translate.steps import Reshape

    op = mapped.ops[0]
    given = tuple(mapped.given_input_shape)
    return (() if given == op.input_shape else (Reshape(op.input_shape, given),)), ()


def onnx_params(mapped: Mapped, weights, arrays) -> list:
    """X (N, C, spatial...), W (M, C/group, k...) for Conv and (C, M/group, k...) for
    ConvTranspose, B (M,): arrays keyed by the node's input names."""
    op, label = mapped.ops[0], label_of(mapped)
    names = mapped.argument("inputs")
    if op.kind == "max_unpool":
        return [(onnx_unpool_indices(mapped, arrays[names[1]]), None)]
    if op.weightless:
        return [(None, None)]
    from ..translate.steps import apply

    w = apply(onnx_steps(mapped)[1], as_array(arrays[names[1]], f"W ({names[1]!r})", label))
    b = as_array(arrays[names[2]], f"B ({names[2]!r})", label) if len(names) > 2 and names[2] else None
    return [(w, b)]


def onnx_plane_offsets(op: ConvOp) -> np.ndarray:
    """The flat position at which each (batch, channel) plane of a MaxUnpool output starts, shaped to
    broadcast over I: ONNX counts I over the whole output, canonical indices within a plane."""
    plane = math.prod(max(s, 0) for s in arith.output_spatial(op))
    return (
        np.arange(op.batch * op.in_channels, dtype=np.int64).reshape((op.batch, op.in_channels) + (1,) * op.rank)
        * plane
    )


def onnx_unpool_indices(mapped: Mapped, indices) -> np.ndarray:
    """MaxUnpool's I (int64, flat over the whole output) as canonical per-plane positions; an index
    outside its own (batch, channel) plane is refused (onnxruntime writes it there; canonical cannot say so)."""
    op, label = mapped.ops[0], label_of(mapped)
    indices = as_array(indices, "I", label)
    if indices.dtype.kind not in "iu":
        raise ConvArithError(f"{label}: I has dtype {indices.dtype}. Rule: onnxruntime's MaxUnpool takes int64 "
                             "indices. Fix: I.astype('int64').")  # fmt: skip
    expect(indices, op.input_shape, "I", label, "I has X's shape")
    local = indices.astype(np.int64) - onnx_plane_offsets(op)
    plane = math.prod(max(s, 0) for s in arith.output_spatial(op))
    if local.size and (local.min() < 0 or local.max() >= plane):
        raise ConvArithError(
            f"{label}: I holds positions outside their own (batch, channel) plane of {plane} cells. Rule: "
            "onnxruntime writes each value at its flat position over the whole output (out-of-range positions "
            "are an error); convarith computes unpooling within each plane, as MaxPool's indices are. Fix: the "
            "indices MaxPool returned with X."
        )
    return local


ADAPTERS = {
    "torch": torch_params,
    "keras": keras_params,
    "tf_nn": tf_nn_params,
    "jax_lax": jax_params,
    "onnx": onnx_params,
}


def adapter_for(mapped: Mapped):
    """The weights adapter of the framework module that mapped the call."""
    if mapped.framework_id in ADAPTERS:
        return ADAPTERS[mapped.framework_id]
    raise ConvArithError(
        f"{label_of(mapped)}: numbers for {mapped.framework} are not available. Rule: forward covers the "
        "frameworks with a weights adapter. Fix: use output_shape or explain for this call."
    )


def input_name(mapped: Mapped) -> str:
    """The array name of the call's input tensor, from the bound arguments."""
    inputs = mapped.argument("inputs")
    if inputs is not None:
        return inputs[0]
    return tensor_roles(mapped, ("input", "lhs", "images", "operand")).popitem()[1]


def array_names(call: Call) -> list[tuple[str, str]]:
    """(where, name) of every tensor named in the call: bare names anywhere in
    it, or the input names of an ONNX make_node as the ONNX module binds them."""
    if call.base == "make_node":
        from ..frameworks.onnx import bind_node, constant_inputs

        op_type, inputs = bind_node(call)[:2]
        given = constant_inputs(call)  # Resize's scales/sizes/roi: their values are in the call
        inputs = inputs[:1] if op_type == "Pad" else inputs  # Pad's other inputs are values, given as keywords
        return [(f"input {i + 1}", name) for i, name in enumerate(inputs) if name and name not in given]
    found = [(f"argument {i + 1}", v.dotted) for i, v in enumerate(call.args) if isinstance(v, Name)]
    found += [(key, v.dotted) for key, v in call.kwargs if isinstance(v, Name)]
    return [(where, name) for where, name in found if "." not in name]


def prepare(expr: str, x=None, weights=None, arrays=None, output_size=None) -> Plan:
    """Map ``expr`` on the given arrays and bring them into canonical layout."""
    if not isinstance(expr, str):
        raise expr_type_error(expr)
    call = parse_call(expr)
    names = array_names(call)
    if arrays is not None:
        if not isinstance(arrays, dict):
            raise ConvArithError(
                f"arrays must be a dict {{name: ndarray}}, got {type(arrays).__name__}. Rule: arrays= gives each "
                "tensor named in the call its values. Fix: arrays={'x': x, 'w': w}."
            )
        if x is not None or weights is not None:
            raise ConvArithError(
                "x, weights and arrays are given together. Rule: a layer or module takes x and weights, a function "
                "arrays={name: ndarray}. Fix: give either x and weights, or arrays, not both."
            )
        if not names:
            raise ConvArithError(
                f"{call.base} is a layer, but arrays= is given. Rule: a layer or module takes its input and weights "
                "as x and weights. Fix: pass x=... and weights=[...], not arrays=."
            )
        missing = [f"{where}={name}" for where, name in names if name not in arrays]
        if missing:
            given = ", ".join(sorted(arrays)) or "none"
            raise ConvArithError(
                f"{call.base}: no array given for {', '.join(missing)}. Rule: every tensor named in the call needs "
                f"its array; arrays given: {given}. Fix: pass arrays={{name: ndarray}} for each."
            )
        checked = {str(k): as_array(v, f"array {k!r}", call.base) for k, v in arrays.items()}
        mapped = map_call(expr, shapes={k: v.shape for k, v in checked.items()}, output_size=output_size)
        x_array = checked[input_name(mapped)]
        params = adapter_for(mapped)(mapped, None, checked)
    else:
        if names:
            raise ConvArithError(
                f"{call.base} is a function, but x=/weights= are given. Rule: a function's tensors are the names in "
                f"the call ({', '.join(name for _, name in names)}). Fix: pass arrays={{name: ndarray}} keyed by them."
            )
        if x is None:
            raise ConvArithError(
                f"{call.base}: no input x is given. Rule: forward needs the input x=ndarray in the framework's "
                "layout. Fix: pass x=numpy.ndarray of the input shape."
            )
        x_array = as_array(x, "input x", call.base)
        mapped = map_call(expr, x_array.shape, output_size=output_size)
        params = adapter_for(mapped)(mapped, weights, None)
    first = mapped.ops[0]
    if mapped.squeeze_batch:
        x_array = np.expand_dims(x_array, first.in_spec[0])
    elif x_array.shape != first.input_shape and x_array.size == math.prod(first.input_shape):
        x_array = x_array.reshape(first.input_shape)  # tf.nn: extra leading batch dimensions fold into one
    x_array = expect(x_array, first.input_shape, "input", call.base, f"layout {mapped.layout or first.in_spec}")
    if arrays is not None:
        given = tuple((f"array {k!r}", v) for k, v in checked.items())
    else:
        given = (("input x", x_array), *((f"weights[{i}]", w) for i, w in enumerate(weights or ())))
    if keras_bias_on_last_axis(mapped):
        w, b = params[-1]
        return Plan(mapped, to_canonical(x_array, first.in_spec), [*params[:-1], (w, None)], b, given)
    return Plan(mapped, to_canonical(x_array, first.in_spec), params, None, given)


def finish(plan: Plan, y: np.ndarray, activate: bool = True) -> np.ndarray:
    """Canonical result of the last op -> the framework's output layout and shape, then the
    layer's activation (after Keras's channels_first last-axis bias)."""
    last = plan.mapped.ops[-1]
    y = from_canonical(y, last.out_spec)
    if plan.mapped.squeeze_batch:
        y = np.squeeze(y, axis=last.out_spec[0])
    shape = activations.shape_before(plan.mapped.activation, plan.mapped.output_shape)
    if tuple(y.shape) != tuple(shape):
        y = y.reshape(shape)
    if plan.last_axis_bias is not None:
        y = (y + plan.last_axis_bias).astype(y.dtype)
    return np.ascontiguousarray(activations.apply(plan.mapped.activation, y) if activate else y)


def random_plan(mapped: Mapped, seed: int = 0, x: np.ndarray | None = None, limit: int = 64 << 20) -> Plan:
    """``mapped`` with seeded random weights (canonical layout) and ``x`` (the framework's
    layout; random when None): the numbers of a worksheet nobody gave arrays for.
    Refused when those arrays would take more than ``limit`` bytes."""
    rng = np.random.default_rng(seed)
    first = mapped.ops[0]
    cells = math.prod(first.input_shape) + sum(
        math.prod(canonical_weight_shape(op)) + op.out_channels for op in mapped.ops if not op.weightless
    )
    if cells * 8 > limit:
        raise ConvArithError(
            f"{label_of(mapped)}: random values for this call need about {cells * 8 >> 20} MiB. Rule: random "
            f"inputs and weights are made only up to {limit >> 20} MiB. Fix: a smaller input shape."
        )
    if x is None:
        x_canonical = rng.standard_normal(tuple(first.input_shape[axis] for axis in first.in_spec))
    else:
        given = as_array(x, "input x", label_of(mapped))
        if mapped.squeeze_batch:
            given = np.expand_dims(given, first.in_spec[0])
        expect(given, first.input_shape, "input", label_of(mapped), f"layout {mapped.layout or first.in_spec}")
        x_canonical = to_canonical(given, first.in_spec)
    params = []
    for op in mapped.ops:
        w = None if op.weightless else rng.standard_normal(canonical_weight_shape(op))
        params.append((w, rng.standard_normal(op.out_channels) if op.bias and not op.weightless else None))
    return Plan(
        mapped, x_canonical.astype(np.float32), [(None if w is None else w.astype(np.float32), b) for w, b in params]
    )
