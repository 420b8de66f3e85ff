"""tf.nn: convarith.forward's numbers against the functions, arrays passed by name."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.differential.numerics import accepted, random, values_agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def conv_calls(draw):
    """conv1d/2d/3d (grouped 2d), convolution (dilated), depthwise_conv2d, conv*_transpose."""
    family = draw(st.sampled_from(["conv", "conv", "convolution", "depthwise", "transpose"]))
    rank = 2 if family == "depthwise" else draw(st.integers(1, 3))
    channels = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    stride = draw(st.integers(1, 2))
    padding = draw(st.sampled_from(["VALID", "SAME"]))
    spatial = tuple(draw(st.integers(1, 7)) for _ in range(rank))
    batch = draw(st.integers(1, 2))
    positional = draw(st.booleans())
    x = (batch, *spatial, channels)
    if family == "conv":
        groups = draw(st.sampled_from([1, 1, 2])) if rank == 2 else 1
        channels *= groups
        x = (batch, *spatial, channels)
        out = groups * draw(st.integers(1, 2))
        w = (*kernel, channels // groups, out)
        strides = stride if rank == 1 else [1, *(stride,) * rank, 1]
        key = "stride" if rank == 1 else "strides"
        expr = f"tf.nn.conv{rank}d(x, w, {key}={strides!r}, padding={padding!r})"
        if positional:
            expr = f"tf.nn.conv{rank}d(x, w, {strides!r}, {padding!r})"
    elif family == "convolution":
        dilation = draw(st.integers(1, 2))
        out = draw(st.integers(1, 3))
        w = (*kernel, channels, out)
        expr = f"tf.nn.convolution(x, w, padding={padding!r}, dilations={dilation})"
        if positional:
            expr = f"tf.nn.convolution(x, w, None, {padding!r}, None, {dilation})"
    elif family == "depthwise":
        multiplier = draw(st.integers(1, 2))
        w = (*kernel, channels, multiplier)
        dilation = draw(st.integers(1, 2)) if stride == 1 else 1
        expr = f"tf.nn.depthwise_conv2d(x, w, strides=[1, {stride}, {stride}, 1], padding={padding!r}, dilations=[{dilation}, {dilation}])"
    else:
        out = draw(st.integers(1, 3))
        w = (*kernel, out, channels)
        if padding == "SAME":
            sizes = [n * stride for n in spatial]
        else:
            sizes = [(n - 1) * stride + k for n, k in zip(spatial, kernel)]
        sizes = [
            s + draw(st.integers(0, stride - 1)) if padding == "VALID" and stride > k else s
            for s, k in zip(sizes, kernel)
        ]
        expr = f"tf.nn.conv{rank}d_transpose(x, w, output_shape={[batch, *sizes, out]!r}, strides={stride}, padding={padding!r})"
    return expr, {"x": x, "w": w}, draw(st.integers(0, 2**32 - 1))


@given(conv_calls())
@settings(SETTINGS, max_examples=100)
def test_conv_calls(oracle, case):
    expr, shapes, seed = case
    assume(accepted(expr, shapes=shapes))
    rng = np.random.default_rng(seed)
    values_agree(oracle("tf_nn"), expr, arrays={k: random(rng, s) for k, s in shapes.items()})


@st.composite
def pool_calls(draw):
    """max/avg pool{1,2,3}d, max_pool/avg_pool and tf.nn.pool, by keyword or by position; inputs smaller
    than the window (VALID gives an empty axis) and strides larger than it."""
    rank = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["max_pool", "avg_pool"]))
    ksize = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 5))
    padding = draw(st.sampled_from(["VALID", "SAME"]))
    spatial = tuple(draw(st.integers(1, 8)) for _ in range(rank))
    lead = (
        draw(st.sampled_from([(2,), (1,), (2, 2)])) if rank == 2 and kind == "avg_pool" else (draw(st.integers(1, 2)),)
    )
    spelling = draw(st.sampled_from(["keywords", "positional", "generic", "pool"]))
    if spelling == "positional":
        expr = f"tf.nn.{kind}{rank}d(x, {ksize}, {stride}, {padding!r})"
    elif spelling == "generic":
        expr = f"tf.nn.{kind}(x, {ksize}, {stride}, {padding!r})"
    elif spelling == "pool":
        stride = min(stride, ksize)  # tf.nn.pool refuses strides > window_shape
        expr = f"tf.nn.pool(x, {[ksize] * rank}, {kind[:3].upper()!r}, {[stride] * rank}, {padding!r})"
    else:
        expr = f"tf.nn.{kind}{rank}d(x, ksize={ksize}, strides={stride}, padding={padding!r})"
    return expr, {"x": (*lead, *spatial, draw(st.integers(1, 3)))}


@given(pool_calls(), st.integers(0, 2**32 - 1))
@settings(SETTINGS, max_examples=80)
def test_pool_calls(oracle, case, seed):
    expr, shapes = case
    assume(accepted(expr, shapes=shapes))
    rng = np.random.default_rng(seed)
    values_agree(oracle("tf_nn"), expr, arrays={k: random(rng, s) for k, s in shapes.items()})


@pytest.mark.parametrize("kind", ["max_pool3d", "avg_pool3d"])
@pytest.mark.parametrize(("n", "k", "s"), [(3, 1, 3), (5, 1, 3), (7, 1, 4), (2, 1, 5), (7, 2, 4)])
def test_pool3d_same_window_starts_inside_the_input(oracle, kind, n, k, s):
    """3-D SAME pooling does not clamp the first window's start at 0: stride > window offsets it."""
    rng = np.random.default_rng(n * 100 + k * 10 + s)
    x = random(rng, (1, n, n + 1, n, 2))
    values_agree(oracle("tf_nn"), f"tf.nn.{kind}(x, {k}, {s}, 'SAME')", arrays={"x": x})
    layer = "MaxPooling3D" if kind == "max_pool3d" else "AveragePooling3D"
    values_agree(oracle("keras"), f"keras.layers.{layer}({k}, {s}, padding='same')", x)
