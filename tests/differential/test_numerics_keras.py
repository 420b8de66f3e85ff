"""Keras 3 (TensorFlow backend): convarith.forward's numbers against layers given set_weights."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from convarith.api import map_call
from convarith.frameworks import keras as keras_rules
from tests.differential.numerics import accepted, random, values_agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ACTIVATION_SPELLINGS = (
    [repr(name) for name in (*keras_rules.ACTIVATIONS, *keras_rules.ACTIVATION_ALIASES)]
    + [f"keras.activations.{name}" for name in ("relu", "gelu", "softmax", "hard_swish")]
    + sorted(keras_rules.ACTIVATION_FUNCTIONS)
)


@st.composite
def conv_layers(draw, families=("Conv", "Conv", "ConvTranspose", "Depthwise", "Separable")):
    """Conv/ConvTranspose/DepthwiseConv/SeparableConv with their get_weights() shapes."""
    family = draw(st.sampled_from(families))
    rank = draw(st.integers(1, 2 if family in ("Depthwise", "Separable") else 3))
    channels = draw(st.integers(1, 4))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    stride = draw(st.integers(1, 2))
    dilation = 1 if stride > 1 or family == "ConvTranspose" else draw(st.integers(1, 2))
    paddings = ["valid", "same"] + (["causal"] if family == "Conv" and rank == 1 else [])
    padding = draw(st.sampled_from(paddings))
    use_bias = draw(st.booleans())
    spatial = [draw(st.integers(1 if padding == "same" else 3, 7)) for _ in range(rank)]
    fmt = draw(st.sampled_from(["channels_last", "channels_first"]))
    args = [f"kernel_size={kernel!r}", f"strides={stride}", f"padding={padding!r}", f"use_bias={use_bias}"]
    if draw(st.integers(0, 2)):
        args.append(f"activation={draw(st.sampled_from(ACTIVATION_SPELLINGS))}")
    bias = []
    if family == "Conv":
        groups = draw(st.sampled_from([1, 1, 2]))
        channels *= groups
        filters = groups * draw(st.integers(1, 3))
        args = [f"{filters}"] + args + [f"dilation_rate={dilation}", f"groups={groups}"]
        if draw(st.booleans()):  # filters, kernel_size, strides, padding by position
            args = [f"{filters}", f"{kernel!r}", f"{stride}", f"{padding!r}"] + args[4:]
        weights = [(*kernel, channels // groups, filters)]
        bias = [(filters,)]
        name = f"Conv{rank}D"
    elif family == "ConvTranspose":
        filters = draw(st.integers(1, 3))
        out_pad = draw(st.one_of(st.none(), st.integers(0, stride - 1)))
        args = [f"{filters}"] + args + [f"output_padding={out_pad}"]
        weights = [(*kernel, filters, channels)]
        bias = [(filters,)]
        name = f"Conv{rank}DTranspose"
    else:
        multiplier = draw(st.integers(1, 2))
        args += [f"depth_multiplier={multiplier}", f"dilation_rate={dilation}"]
        weights = [(*kernel, channels, multiplier)]
        if family == "Separable":
            filters = draw(st.integers(1, 3))
            args = [f"{filters}"] + args
            weights.append((*(1,) * rank, channels * multiplier, filters))
            bias = [(filters,)]
        else:
            bias = [(channels * multiplier,)]
        name = f"{family}Conv{rank}D"
    batch = draw(st.integers(1, 2))
    shape = [batch, *spatial, channels] if fmt == "channels_last" else [batch, channels, *spatial]
    expr = f"keras.layers.{name}({', '.join([*args, f'data_format={fmt!r}'])})"
    return expr, shape, weights + (bias if use_bias else []), draw(st.integers(0, 2**32 - 1))


@given(conv_layers())
@settings(SETTINGS, max_examples=90)
def test_conv_layers(oracle, case):
    expr, shape, weight_shapes, seed = case
    assume(accepted(expr, shape))
    rng = np.random.default_rng(seed)
    values_agree(oracle("keras"), expr, random(rng, shape), [random(rng, s) for s in weight_shapes])


@st.composite
def pool_layers(draw):
    """Max/Average pooling by keyword or position; inputs smaller than the pool ('valid' gives an
    empty axis) and strides larger than it."""
    rank = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["MaxPooling", "AveragePooling"]))
    pool = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    strides = draw(st.one_of(st.none(), st.integers(1, 5)))
    padding = draw(st.sampled_from(["valid", "same"]))
    fmt = draw(st.sampled_from(["channels_last", "channels_first"]))
    spatial = [draw(st.integers(1, 8)) for _ in range(rank)]
    channels = draw(st.integers(1, 3))
    shape = [2, *spatial, channels] if fmt == "channels_last" else [2, channels, *spatial]
    if draw(st.booleans()):
        return f"keras.layers.{kind}{rank}D({pool!r}, {strides}, {padding!r}, {fmt!r})", shape
    expr = (
        f"keras.layers.{kind}{rank}D(pool_size={pool!r}, strides={strides}, padding={padding!r}, data_format={fmt!r})"
    )
    return expr, shape


@given(pool_layers(), st.integers(0, 2**32 - 1))
@settings(SETTINGS, max_examples=60)
def test_pool_layers(oracle, case, seed):
    expr, shape = case
    assume(accepted(expr, shape))
    values_agree(oracle("keras"), expr, random(np.random.default_rng(seed), shape))


@given(conv_layers(families=("ConvTranspose",)))
@settings(SETTINGS, max_examples=15)
def test_transposed_views_agree_with_keras(oracle, case):
    expr, shape, weight_shapes, seed = case
    assume(accepted(expr, shape))
    rng = np.random.default_rng(seed)
    x, weights = random(rng, shape), [random(rng, s) for s in weight_shapes]
    theirs = values_agree(oracle("keras"), expr, x, weights)
    views = convarith.transposed_views(expr, x, weights)
    assert views.agree, str(views)
    np.testing.assert_allclose(views.matrix, theirs, rtol=2e-5, atol=2e-5)


BIAS_ON_LAST_AXIS = [
    # channels_first with the output's last axis as long as the filters: Keras adds the bias along that axis
    (
        "keras.layers.Conv3D(2, kernel_size=(1, 1, 1), strides=2, data_format='channels_first')",
        (1, 1, 3, 3, 3),
        [(1, 1, 1, 1, 2), (2,)],
    ),
    (
        "keras.layers.Conv3D(3, kernel_size=(2, 1, 2), padding='same', data_format='channels_first')",
        (2, 2, 4, 3, 3),
        [(2, 1, 2, 2, 3), (3,)],
    ),
    (
        "keras.layers.Conv2D(2, kernel_size=(1, 1), strides=2, groups=2, data_format='channels_first')",
        (1, 2, 3, 3),
        [(1, 1, 1, 2), (2,)],
    ),
    (
        "keras.layers.DepthwiseConv2D(1, depth_multiplier=2, data_format='channels_first')",
        (1, 1, 3, 2),
        [(1, 1, 1, 2), (2,)],
    ),
    ("keras.layers.SeparableConv1D(3, 1, data_format='channels_first')", (1, 2, 3), [(1, 2, 1), (1, 2, 3), (3,)]),
    ("keras.layers.Conv3D(3, 1, data_format='channels_first')", (1, 1, 3, 3, 4), [(1, 1, 1, 1, 3), (3,)]),
]


@pytest.mark.parametrize(("expr", "shape", "weight_shapes"), BIAS_ON_LAST_AXIS)
def test_channels_first_bias_rule(oracle, expr, shape, weight_shapes):
    rng = np.random.default_rng(len(shape))
    values_agree(oracle("keras"), expr, random(rng, shape), [random(rng, w) for w in weight_shapes])


def test_every_keras_activation_name_is_reproduced_or_refused(oracle):
    names = oracle("keras").run({"activation_names": True})["names"]
    known = {*keras_rules.ACTIVATIONS, *keras_rules.ACTIVATION_ALIASES}
    assert set(names) - known == {"threshold"}, "Keras 3.15 activations convarith does not know"
    assert known <= set(names)
    with pytest.raises(convarith.ConvArithError, match="threshold needs threshold and default_value"):
        convarith.output_shape("keras.layers.Conv1D(2, 3, activation='threshold')", (1, 5, 2))


@pytest.mark.parametrize("activation", ACTIVATION_SPELLINGS)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_every_activation(oracle, activation, data_format):
    # channels_first: Keras applies softmax-like activations and glu to the output's last axis (a spatial one),
    # after its last-axis bias quirk (5 filters, output length 5)
    shape = (2, 6, 4) if data_format == "channels_last" else (2, 4, 7)
    expr = f"keras.layers.SeparableConv1D(4, 3, activation={activation}, data_format={data_format!r})"
    if data_format == "channels_first":
        expr = f"keras.layers.SeparableConv1D(5, 3, activation={activation}, data_format='channels_first')"
    filters = 4 if data_format == "channels_last" else 5
    channels = shape[-1] if data_format == "channels_last" else shape[1]
    rng = np.random.default_rng(7)
    weights = [random(rng, (3, channels, 1)), random(rng, (1, channels, filters)), random(rng, (filters,))]
    x = random(rng, shape)
    if activation == "'glu'" and data_format == "channels_first":
        with pytest.raises(convarith.ConvArithError, match="glu"):
            convarith.output_shape(expr, shape)  # output length 5 is odd
        return
    values_agree(oracle("keras"), expr, x, weights)


@pytest.mark.parametrize(
    ("expr", "shape"),
    [
        ("keras.layers.Conv3D(2, 1, strides=3, padding='same')", (1, 3, 3, 3, 2)),
        ("keras.layers.Conv3D(2, (1, 2, 1), strides=(4, 3, 2), padding='same')", (1, 7, 5, 3, 1)),
        ("keras.layers.Conv3D(1, 2, strides=4, padding='same', dilation_rate=1)", (1, 5, 6, 9, 1)),
        ("keras.layers.Conv2D(2, 1, strides=3, padding='same')", (1, 3, 7, 2)),
    ],
)
def test_conv3d_same_is_not_clamped(oracle, expr, shape):
    """TF's Conv3D 'SAME' does not clamp its total padding at 0: a stride above the kernel starts
    the first window inside the input (Conv2D's does clamp: its first window starts at cell 0)."""
    rng = np.random.default_rng(0)
    op = map_call(expr, shape).ops[0]
    kernel = random(rng, (*op.kernel, op.in_channels, op.out_channels))
    values_agree(oracle("keras"), expr, random(rng, shape), [kernel, random(rng, (op.out_channels,))])
