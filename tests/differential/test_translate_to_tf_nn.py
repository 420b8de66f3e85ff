"""tf.nn as the target of a translation: calls from all five frameworks, mapped; the generated tf.nn body run in
the tf_nn worker on random canonical arrays equals convarith's reference engine (max |diff| <= 1e-4, same shape)."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convarith.api import map_call
from convarith.errors import ConvArithError
from convarith.reference import adapters, run_chain
from convarith.translate import tf_nn
from tests.differential import test_global_pool as global_calls
from tests.differential import test_numerics_jax_lax as jax_calls
from tests.differential import test_numerics_keras as keras_calls
from tests.differential import test_numerics_onnx as onnx_calls
from tests.differential import test_numerics_tf_nn as tf_calls
from tests.differential import test_numerics_torch as torch_calls
from tests.differential import test_padding as padding_calls
from tests.differential import test_rearrange as rearrange_calls
from tests.differential import test_resize as resize_calls
from tests.differential.numerics import MAX_DIFF, NUMERIC_TALLY

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TOLERANCE = 1e-4  # absolute, and RTOL of large outputs (exponential activations reach ~1e3)
RTOL = 1e-5
REFUSED: Counter = Counter()  # per source framework: calls the tf.nn target refused (each message checked)


def layer(case):
    """(expr, input_shape, shapes, output_size) of a layer case (expr, shape, ...)."""
    return case[0], tuple(case[1]), None, None


def functional(case):
    return case[0], None, case[1], None


def named_x(case):
    return case[0], None, {"x": tuple(case[1])}, None


def transposed(case):
    return case[0], tuple(case[1]), None, case[3]


SOURCES = {
    "torch": st.one_of(
        torch_calls.conv_modules().map(layer),
        torch_calls.transpose_modules().map(transposed),
        torch_calls.functional_convs().map(functional),
        torch_calls.pool_modules().map(layer),
        torch_calls.functional_pools().map(named_x),
    ),
    "keras": st.one_of(keras_calls.conv_layers().map(layer), keras_calls.pool_layers().map(layer)),
    "tf_nn": st.one_of(tf_calls.conv_calls().map(functional), tf_calls.pool_calls().map(functional)),
    "jax_lax": st.one_of(
        jax_calls.general_calls().map(functional),
        jax_calls.transpose_calls().map(functional),
        jax_calls.default_layout_calls().map(functional),
    ),
    "onnx": st.one_of(onnx_calls.conv_nodes().map(functional), onnx_calls.pool_nodes().map(functional)),
}

FAMILIES = {
    "padding": st.one_of(
        padding_calls.torch_pads(numbers=True).map(lambda c: (c[0], c[1], c[2], None)),
        padding_calls.keras_pads().map(layer),
        padding_calls.onnx_pads(numbers=True).map(functional),
    ),
    "rearrange": st.one_of(
        rearrange_calls.shuffle_calls().map(lambda c: (c[0], c[1], c[2], None)),
        rearrange_calls.unfold_calls().map(lambda c: (c[0], c[1], c[2], None)),
        rearrange_calls.fold_calls().map(lambda c: (c[0], c[1], c[2], None)),
        rearrange_calls.block_calls().map(functional),
    ),
    "resize": st.one_of(
        resize_calls.torch_calls(numeric=True).map(lambda c: (c[0], c[1], c[2], None)),
        resize_calls.keras_calls(numeric=True).map(layer),
        resize_calls.onnx_calls(numeric=True).map(functional),
        resize_calls.tf_image_calls(numeric=True).map(functional),
    ),
    "global": st.one_of(
        global_calls.keras_globals(numbers=True).map(layer),
        global_calls.onnx_globals(numbers=True).map(functional),
        global_calls.torch_globals().map(layer),
    ),
}

COMPOSITE = [
    # (expr, input_shape, shapes, output_size): padding TF's own spellings do not give, and steps around the call
    ("nn.Conv2d(3, 4, 3, stride=2, padding=1)", (1, 3, 8, 9), None, None),  # symmetric: explicit list
    ("nn.Conv1d(2, 3, 4, padding=2)", (1, 2, 7), None, None),  # conv1d takes no list: tf.pad
    ("nn.Conv3d(2, 4, 3, padding=(1, 0, 2), dilation=(1, 2, 1), stride=(2, 1, 1))", (1, 2, 6, 9, 7), None, None),
    ("nn.Conv3d(4, 6, 3, stride=2, padding=1, groups=2)", (1, 4, 6, 7, 5), None, None),  # no grouped Conv3D
    ("nn.Conv2d(2, 4, 3, stride=3, dilation=2, padding='valid', padding_mode='circular')", (2, 2, 9, 11), None, None),
    ("nn.Conv2d(2, 2, 3, padding=2, padding_mode='replicate', groups=2)", (1, 2, 5, 6), None, None),
    ("nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=3, groups=2, padding_mode='reflect')", (1, 4, 16), None, None),
    ("keras.layers.Conv3D(4, 4, strides=2, padding='same', data_format='channels_first')", (1, 3, 5, 7, 8), None, None),
    ("keras.layers.Conv2D(4, 3, padding='same', activation='softmax')", (2, 5, 6, 3), None, None),
    ("keras.layers.Conv1D(4, 3, padding='causal', dilation_rate=2, activation='gelu')", (1, 9, 2), None, None),
    ("keras.layers.Conv2DTranspose(3, 3, strides=2, padding='same', output_padding=1)", (1, 4, 5, 2), None, None),
    ("keras.layers.SeparableConv2D(4, 3, padding='same', depth_multiplier=2)", (1, 7, 7, 3), None, None),
    ("keras.layers.DepthwiseConv2D(3, strides=2, padding='same', depth_multiplier=2)", (1, 7, 8, 3), None, None),
    ("keras.layers.AveragePooling2D(3, 2, padding='same')", (1, 7, 8, 2), None, None),
    ("keras.layers.GlobalAveragePooling2D(keepdims=False)", (2, 5, 6, 3), None, None),
    (
        "nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2)",
        (1, 4, 5, 6),
        None,
        None,
    ),
    ("nn.ConvTranspose1d(2, 3, 4, stride=3, padding=0, output_padding=2)", (1, 2, 5), None, None),
    ("nn.ConvTranspose3d(2, 2, 3, stride=(2, 1, 3), padding=(2, 0, 1))", (1, 2, 3, 4, 3), None, None),
    ("nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)", (1, 3, 8, 9), None, None),
    ("nn.MaxPool3d(2, stride=2, padding=1, dilation=2)", (1, 2, 7, 6, 5), None, None),
    ("nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)", (1, 3, 8, 9), None, None),
    ("nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)", (1, 3, 8, 9), None, None),
    ("nn.AvgPool2d(3, stride=2, padding=1)", (1, 3, 8, 9), None, None),
    ("nn.AvgPool2d(3, stride=2, padding=1, divisor_override=4)", (1, 3, 8, 9), None, None),
    ("nn.AvgPool1d(4, stride=3, padding=2, ceil_mode=True)", (1, 2, 10), None, None),
    ("nn.LPPool2d(2, 3, stride=2, ceil_mode=True)", (1, 3, 8, 9), None, None),
    ("nn.LPPool1d(1.5, 2, stride=2, ceil_mode=True)", (1, 2, 7), None, None),
    ("nn.AdaptiveAvgPool2d((3, 2))", (1, 3, 8, 9), None, None),
    ("nn.AdaptiveMaxPool3d((2, 3, 1))", (1, 2, 5, 7, 4), None, None),
    ("nn.PixelShuffle(2)", (1, 8, 3, 4), None, None),
    ("nn.PixelUnshuffle(2)", (1, 2, 4, 6), None, None),
    ("F.pad(x, (1, -1, 2, 0), mode='constant', value=1.5)", None, {"x": (1, 2, 5, 6)}, None),
    ("F.pad(x, (1, 2, 2, 0), mode='replicate')", None, {"x": (1, 2, 5, 6)}, None),
    ("F.pad(x, (1, 2, 2, 0), mode='circular')", None, {"x": (1, 2, 5, 6)}, None),
    ("F.pad(x, (2, 1), mode='reflect')", None, {"x": (1, 2, 5)}, None),
    ("nn.Unfold(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))", (1, 2, 5, 6), None, None),
    ("nn.Fold((5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))", (1, 12, 12), None, None),  # one-hot kernel
    ("tf.nn.max_pool3d(x, 1, 3, 'SAME')", None, {"x": (1, 5, 5, 5, 2)}, None),  # window starts inside the input
    ("tf.nn.avg_pool3d(x, 2, 3, 'SAME')", None, {"x": (1, 7, 5, 4, 2)}, None),
    (
        "tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], 'SAME', dilations=[2, 2])",
        None,
        {"x": (1, 7, 8, 2), "w": (3, 3, 2, 2)},
        None,
    ),
    ("tf.nn.depth_to_space(x, 2)", None, {"x": (1, 3, 4, 8)}, None),
    ("tf.image.resize(x, (7, 5), method='bilinear')", None, {"x": (1, 4, 6, 2)}, None),
    ("tf.image.resize(x, (3, 9), method='nearest')", None, {"x": (2, 6, 5, 1)}, None),
    (
        "jax.lax.conv_general_dilated(x, w, (2, 1), ((1, -1), (0, 2)), lhs_dilation=(2, 1), rhs_dilation=(1, 2))",
        None,
        {"x": (1, 2, 5, 6), "w": (3, 2, 2, 3)},
        None,
    ),  # fmt: skip
    (
        "jax.lax.conv_general_dilated(x, w, (1,), ((-2, 1),), feature_group_count=2)",
        None,
        {"x": (1, 4, 9), "w": (2, 2, 3)},
        None,
    ),
    (
        "jax.lax.conv_general_dilated(x, w, (1,), 'SAME', batch_group_count=2)",
        None,
        {"x": (4, 2, 9), "w": (4, 2, 3)},
        None,
    ),
    ("jax.lax.conv_transpose(x, w, (2, 2), 'SAME')", None, {"x": (1, 5, 6, 2), "w": (3, 3, 2, 3)}, None),
    (
        "jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 3, 3), (1, 1, 2, 2), ((0, 0), (0, 0), (1, 2), (0, 1)))",
        None,
        {"x": (1, 2, 7, 8)},
        None,
    ),  # fmt: skip
    ("jax.lax.reduce_window(x, 0.0, jax.lax.add, (1, 1, 2, 3), (1, 1, 2, 1), 'SAME')", None, {"x": (1, 2, 5, 6)}, None),
    (
        "jax.lax.reduce_window(x, jnp.inf, jax.lax.min, (1, 1, 2), (1, 1, 2), ((0, 0), (0, 0), (1, 1)), base_dilation=(1, 1, 2))",
        None,
        {"x": (1, 2, 6)},
        None,
    ),  # fmt: skip
    (
        "onnx.helper.make_node('Conv', ['X', 'W'], ['Y'], kernel_shape=[3, 3], auto_pad='SAME_LOWER', strides=[2, 2])",
        None,
        {"X": (1, 2, 6, 7), "W": (3, 2, 3, 3)},
        None,
    ),  # fmt: skip
    (
        "onnx.helper.make_node('ConvTranspose', ['X', 'W'], ['Y'], kernel_shape=[3], strides=[2], pads=[2, 0], output_padding=[1])",
        None,
        {"X": (1, 2, 5), "W": (2, 3, 3)},
        None,
    ),  # fmt: skip
    (
        "onnx.helper.make_node('AveragePool', ['X'], ['Y'], kernel_shape=[3, 2], pads=[1, 0, 1, 1], ceil_mode=1, count_include_pad=1, strides=[2, 2])",
        None,
        {"X": (1, 2, 6, 7)},
        None,
    ),  # fmt: skip
    (
        "onnx.helper.make_node('MaxPool', ['X'], ['Y'], kernel_shape=[2], auto_pad='SAME_LOWER', strides=[3])",
        None,
        {"X": (1, 2, 7)},
        None,
    ),  # fmt: skip
    (
        "onnx.helper.make_node('LpPool', ['X'], ['Y'], kernel_shape=[2, 2], p=3, pads=[1, 0, 0, 1])",
        None,
        {"X": (1, 2, 5, 5)},
        None,
    ),
]


def agree(oracle, source: str, expr: str, input_shape, shapes, output_size, seed: int = 0) -> bool:
    """The tf.nn translation of ``expr`` run in the tf_nn worker equals the reference's numbers; False when the
    target refused (with a message naming the rule and a fix)."""
    mapped = map_call(expr, input_shape, shapes=shapes, output_size=output_size)
    try:
        translated = tf_nn.target(mapped)
    except ConvArithError as error:
        assert "Rule:" in str(error) and "Fix:" in str(error), str(error)
        REFUSED[source] += 1
        return False
    try:
        plan = adapters.random_plan(mapped, seed)
        expected = adapters.finish(plan, run_chain(plan)[-1])
    except ConvArithError:  # the reference refuses these numbers (a space-to-batch stride, a huge input)
        return False
    answer = oracle.run({"body": translated.body, "imports": translated.imports, "x": plan.x, "params": plan.params})
    where = f"{expr} on {input_shape or shapes}\n" + "\n".join(translated.body)
    assert "values" in answer, f"the tf.nn body failed: {answer.get('error') or answer.get('crash')}\n{where}"
    got = adapters.finish(plan, np.asarray(answer["values"], np.float32), activate=False)
    assert got.shape == expected.shape, f"shape {got.shape}, reference {expected.shape}\n{where}"
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=TOLERANCE, equal_nan=True, err_msg=where)
    finite = np.isfinite(expected)
    diff = float(np.abs(got[finite] - expected[finite]).max()) if finite.any() else 0.0
    NUMERIC_TALLY[f"{source}>tf"] += 1
    MAX_DIFF[f"{source}>tf"] = max(MAX_DIFF.get(f"{source}>tf", 0.0), diff)
    return True


def accepted(expr, input_shape, shapes, output_size) -> bool:
    try:
        map_call(expr, input_shape, shapes=shapes, output_size=output_size)
    except ConvArithError:
        return False
    return True


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_generated_calls_translate_to_tf_nn(oracle, source):
    worker = oracle("tf_nn")

    @given(SOURCES[source], st.integers(0, 2**32 - 1))
    @SETTINGS
    def check(case, seed):
        assume(accepted(*case))
        agree(worker, source, *case, seed=seed)

    check()


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_generated_families_translate_to_tf_nn(oracle, family):
    """Padding of every mode, rearranging, resizing and global pools from the frameworks that spell them."""
    worker = oracle("tf_nn")

    @given(FAMILIES[family], st.integers(0, 2**32 - 1))
    @SETTINGS
    def check(case, seed):
        assume(accepted(*case))
        source = map_call(case[0], case[1], shapes=case[2], output_size=case[3]).framework_id
        agree(worker, source, *case, seed=seed)

    check()


@pytest.mark.parametrize(("expr", "input_shape", "shapes", "output_size"), COMPOSITE)
def test_composite_translations(oracle, expr, input_shape, shapes, output_size):
    source = map_call(expr, input_shape, shapes=shapes, output_size=output_size).framework_id
    assert agree(oracle("tf_nn"), source, expr, input_shape, shapes, output_size), f"tf.nn refused {expr}"


@pytest.mark.parametrize(("expr", "shape"), [("nn.MaxUnpool2d(2)", (1, 2, 3, 3)), ("nn.MaxUnpool1d(3, 2)", (2, 3, 4))])
def test_max_unpool_translation(oracle, expr, shape):
    """Unpooling takes its indices as params (the random plan has none): distinct positions in each plane."""
    mapped = map_call(expr, shape)
    op = mapped.ops[0]
    rng = np.random.default_rng(5)
    plane, cells = op.batch * op.in_channels, int(np.prod(op.in_size))
    out = int(np.prod(tf_nn.arith.output_spatial(op)))
    indices = np.stack([rng.permutation(out)[:cells] for _ in range(plane)]).reshape(op.input_shape)
    x = rng.standard_normal(op.input_shape).astype(np.float32)
    plan = adapters.Plan(mapped, x, [(indices, None)])
    expected = run_chain(plan)[-1]
    translated = tf_nn.target(mapped)
    answer = oracle("tf_nn").run(
        {"body": translated.body, "imports": translated.imports, "x": x, "params": plan.params}
    )
    np.testing.assert_array_equal(np.asarray(answer["values"]), expected, err_msg="\n".join(translated.body))
