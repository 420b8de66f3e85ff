"""Calls of every source framework for the translation tests, from the generators the numeric tests use,
each as (expr, input_shape, shapes, output_size), and the tally of translated cases."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import strategies as st

from convarith.parse import parse_call
from convarith.reference.adapters import array_names
from tests.differential import (
    test_global_pool,
    test_numerics_jax_lax,
    test_numerics_keras,
    test_numerics_onnx,
    test_numerics_tf_nn,
    test_numerics_torch,
    test_padding,
    test_rearrange,
    test_resize,
)

TALLY: Counter = Counter()  # (source framework, 'agreed' | 'refused: <reason>')


@pytest.fixture(scope="module", autouse=True)
def report(request):
    """The tally per source framework, printed after each module that imports this fixture."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not TALLY:
        return
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        reporter.section(f"ONNX translations ({request.module.__name__.rsplit('.', 1)[-1]}), cumulative")
        for (framework, outcome), count in sorted(TALLY.items()):
            reporter.write_line(f"{framework:8s} {count:5d} {outcome}")


def as_call(case) -> tuple:
    """(expr, input_shape, shapes, output_size) from a generator's tuple: a dict is the named shapes, the
    first tuple of ints the input shape (a functional call's first tensor, when the call names tensors)."""
    expr, input_shape, shapes = case[0], None, None
    for item in case[1:]:
        if isinstance(item, dict) and shapes is None:
            shapes = {k: tuple(v) for k, v in item.items()}
        elif isinstance(item, (list, tuple)) and item and all(type(v) is int for v in item) and input_shape is None:
            input_shape = tuple(item)
    names = [name for _, name in array_names(parse_call(expr))]
    if input_shape is not None and names and shapes is None:
        shapes, input_shape = {names[0]: input_shape}, None
    return expr, input_shape, shapes, None


def transposed_with_size(case) -> tuple:
    expr, shape, _, output_size, _ = case
    return expr, tuple(shape), None, None if output_size is None else tuple(output_size)


SOURCES = {
    "torch": st.one_of(
        test_numerics_torch.conv_modules().map(as_call),
        test_numerics_torch.transpose_modules().map(transposed_with_size),
        test_numerics_torch.functional_convs().map(as_call),
        test_numerics_torch.pool_modules().map(as_call),
        test_numerics_torch.functional_pools().map(as_call),
        test_padding.torch_pads(numbers=True).map(as_call),
        test_global_pool.torch_globals().map(as_call),
        test_resize.torch_calls(numeric=True).map(as_call),
        test_rearrange.shuffle_calls().map(as_call),
        test_rearrange.unfold_calls().map(as_call),
        test_rearrange.fold_calls().map(as_call),
    ),
    "keras": st.one_of(
        test_numerics_keras.conv_layers().map(as_call),
        test_numerics_keras.pool_layers().map(as_call),
        test_padding.keras_pads().map(as_call),
        test_global_pool.keras_globals(numbers=True).map(as_call),
        test_resize.keras_calls(numeric=True).map(as_call),
    ),
    "tf_nn": st.one_of(
        test_numerics_tf_nn.conv_calls().map(as_call),
        test_numerics_tf_nn.pool_calls().map(as_call),
        test_resize.tf_image_calls(numeric=True).map(as_call),
        test_rearrange.block_calls().map(as_call),
        test_rearrange.separable_calls().map(as_call),
        test_rearrange.atrous_calls().map(as_call),
    ),
    "jax_lax": st.one_of(
        test_numerics_jax_lax.general_calls().map(as_call),
        test_numerics_jax_lax.transpose_calls().map(as_call),
        test_numerics_jax_lax.default_layout_calls().map(as_call),
        test_rearrange.window_calls().map(as_call),
    ),
    "onnx": st.one_of(
        test_numerics_onnx.conv_nodes().map(as_call),
        test_numerics_onnx.pool_nodes().map(as_call),
        test_padding.onnx_pads(numbers=True).map(as_call),
        test_global_pool.onnx_globals(numbers=True).map(as_call),
        test_resize.onnx_calls(numeric=True).map(as_call),
    ),
}

ACTIVATIONS = (
    "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "sigmoid", "hard_sigmoid", "sparse_sigmoid",
    "log_sigmoid", "silu", "hard_silu", "mish", "tanh", "hard_tanh", "tanh_shrink", "softplus", "sparse_plus",
    "squareplus", "softsign", "soft_shrink", "hard_shrink", "exponential", "softmax", "log_softmax", "linear",
)  # fmt: skip
# composite cases: asymmetric SAME, ceil pools, both divisor rules, negative pads and crops, output_padding,
# lhs dilation, activations (expr, input_shape, shapes, output_size)
COMPOSITES = [
    ("tf.nn.conv2d(x, w, 2, 'SAME')", None, {"x": (1, 8, 9, 3), "w": (3, 4, 3, 2)}, None),
    ("keras.layers.Conv2D(4, 3, strides=2, padding='same', activation='softmax')", (2, 8, 9, 3), None, None),
    ("keras.layers.Conv2D(4, 3, padding='same', activation='gelu')", (1, 6, 5, 2), None, None),
    ("keras.layers.Conv1D(3, 2, activation='selu')", (1, 7, 2), None, None),
    *((f"keras.layers.Conv1D(3, 2, activation={name!r})", (1, 9, 2), None, None) for name in ACTIVATIONS),
    ("keras.layers.Conv2DTranspose(3, 3, strides=2, padding='same')", (1, 5, 6, 2), None, None),
    ("keras.layers.Conv2DTranspose(3, 4, strides=3, padding='same', output_padding=2)", (1, 4, 3, 2), None, None),
    ("keras.layers.DepthwiseConv2D(3, strides=2, padding='same', depth_multiplier=2)", (1, 7, 6, 3), None, None),
    ("keras.layers.Conv1D(4, 3, padding='causal', dilation_rate=2, activation='swish')", (1, 9, 3), None, None),
    ("keras.layers.Cropping2D(((1, 2), (0, 1)))", (1, 7, 6, 2), None, None),
    ("keras.layers.UpSampling2D((2, 3), interpolation='area')", (1, 4, 3, 2), None, None),
    ("tf.image.resize(x, (3, 12), method='area')", None, {"x": (1, 6, 4, 2)}, None),
    ("keras.layers.AveragePooling2D(3, 2, padding='same')", (1, 8, 7, 2), None, None),
    ("keras.layers.MaxPooling1D(3, 2, padding='same')", (1, 8, 2), None, None),
    ("nn.MaxPool2d(3, 2, 1, ceil_mode=True)", (1, 2, 8, 7), None, None),
    ("nn.MaxPool1d(2, 1, 1, dilation=3)", (1, 1, 2), None, None),
    ("nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=True)", (1, 2, 8, 7), None, None),
    ("nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)", (1, 2, 8, 7), None, None),
    ("nn.AvgPool2d(3, 2, 1, divisor_override=5)", (1, 2, 6, 7), None, None),
    ("nn.LPPool2d(1.5, 3, stride=2, ceil_mode=True)", (1, 2, 8, 7), None, None),
    ("nn.AdaptiveAvgPool2d((3, 5))", (1, 2, 8, 7), None, None),
    ("nn.AdaptiveMaxPool1d(3)", (1, 2, 8), None, None),
    ("nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)", (1, 2, 4, 5), None, None),
    ("nn.ConvTranspose1d(2, 3, 3, stride=2, output_padding=2, dilation=3)", (1, 2, 5), None, None),
    ("nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1)", (1, 2, 4, 4), None, (8, 7)),
    ("nn.Conv2d(2, 3, 3, padding=2, padding_mode='circular')", (1, 2, 5, 6), None, None),
    ("F.pad(x, (1, -2, 0, 3), value=1.5)", None, {"x": (1, 2, 5, 6)}, None),
    ("nn.PixelUnshuffle(2)", (1, 2, 4, 6), None, None),
    ("nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=2)", (2, 3, 7, 8), None, None),
    ("nn.Fold((7, 8), (2, 3), stride=2)", (1, 12, 9), None, None),
    (
        "lax.conv_general_dilated(x, w, (1, 2), [(1, -1), (2, 0)], lhs_dilation=(2, 1), rhs_dilation=(1, 2))",
        None,
        {"x": (1, 2, 5, 6), "w": (3, 2, 3, 2)},
        None,
    ),  # fmt: skip
    ("lax.conv_transpose(x, w, (2, 2), 'SAME')", None, {"x": (1, 5, 4, 2), "w": (3, 3, 2, 3)}, None),
    ("lax.reduce_window(x, -jnp.inf, lax.max, (3, 3), (2, 2), [(2, 3), (-1, 1)], (2, 1))", None, {"x": (5, 6)}, None),
    ("lax.reduce_window(x, 0.5, lax.max, (2,), (1,), 'SAME')", None, {"x": (6,)}, None),
    ("lax.reduce_window(x, jnp.inf, lax.min, (2, 2), (1, 2), 'VALID', (1, 2))", None, {"x": (4, 5)}, None),
    ("lax.reduce_window(x, 0.0, lax.add, (1, 1, 3), (1, 1, 2), 'SAME')", None, {"x": (2, 2, 7)}, None),
    (
        "onnx.helper.make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[2], auto_pad='SAME_LOWER', output_padding=[1])",
        None,
        {"X": (1, 2, 5), "W": (2, 3, 3)},
        None,
    ),  # fmt: skip
    (
        "onnx.helper.make_node('MaxPool', ['X'], ['Y'], kernel_shape=[2], pads=[1, 1], dilations=[3], ceil_mode=1)",
        None,
        {"X": (1, 1, 4)},
        None,
    ),  # fmt: skip
]
