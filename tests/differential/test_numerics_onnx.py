"""ONNX as onnxruntime runs it: convarith.forward's numbers against one-node models."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.differential.numerics import accepted, random, values_agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def conv_nodes(draw):
    """Conv / ConvTranspose with pads, strides, dilations, group, auto_pad, output_padding/output_shape."""
    transposed = draw(st.booleans())
    rank = draw(st.integers(1, 3))
    group = draw(st.sampled_from([1, 1, 2]))
    c, m = group * draw(st.integers(1, 2)), group * draw(st.integers(1, 2))
    kernel = [draw(st.integers(1, 3)) for _ in range(rank)]
    strides = [draw(st.integers(1, 2)) for _ in range(rank)]
    dilations = [draw(st.integers(1, 2)) for _ in range(rank)]
    spatial = [draw(st.integers(1, 6)) for _ in range(rank)]
    attrs = [f"kernel_shape={kernel}", f"strides={strides}", f"dilations={dilations}", f"group={group}"]
    auto_pad = draw(st.sampled_from(["NOTSET", "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"]))
    if auto_pad == "NOTSET":
        attrs.append(f"pads={[draw(st.integers(0, 2)) for _ in range(2 * rank)]}")
    else:
        attrs.append(f"auto_pad={auto_pad!r}")
    bias = draw(st.booleans())
    if transposed:
        w = (c, m // group, *kernel)
        attrs.append(f"output_padding={[draw(st.integers(0, s - 1)) for s in strides]}")
        op = "ConvTranspose"
    else:
        w = (m, c // group, *kernel)
        op = "Conv"
    names = ["X", "W"] + (["B"] if bias else [])
    shapes = {"X": (draw(st.integers(1, 2)), c, *spatial), "W": w} | ({"B": (m,)} if bias else {})
    return f"onnx.helper.make_node({op!r}, {names}, ['Y'], {', '.join(attrs)})", shapes, draw(st.integers(0, 2**32 - 1))


@given(conv_nodes())
@settings(SETTINGS, max_examples=100)
def test_conv_nodes(oracle, case):
    expr, shapes, seed = case
    assume(accepted(expr, shapes=shapes))
    rng = np.random.default_rng(seed)
    values_agree(oracle("onnx"), expr, arrays={k: random(rng, s) for k, s in shapes.items()})


@st.composite
def pool_nodes(draw):
    """MaxPool (dilations), AveragePool (count_include_pad), LpPool (p), each with ceil_mode; small inputs,
    kernels larger than the input and strides larger than the kernel, so windows overhang the padded input."""
    op = draw(st.sampled_from(["MaxPool", "AveragePool", "AveragePool", "LpPool"]))
    rank = draw(st.integers(1, 3))
    kernel = [draw(st.integers(1, 4)) for _ in range(rank)]
    attrs = [f"kernel_shape={kernel}", f"strides={[draw(st.integers(1, 5)) for _ in range(rank)]}"]
    attrs.append(f"pads={[draw(st.integers(0, k - 1)) for k in kernel * 2]}")
    attrs.append(f"ceil_mode={int(draw(st.booleans()))}")
    if op == "MaxPool":
        attrs.append(f"dilations={[draw(st.integers(1, 2)) for _ in range(rank)]}")
    elif op == "AveragePool":
        attrs.append(f"count_include_pad={int(draw(st.booleans()))}")
    else:
        attrs.append(f"p={draw(st.integers(1, 3))}")
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *(draw(st.integers(1, 8)) for _ in range(rank)))
    if draw(st.booleans()):
        return f"onnx.helper.make_node({op!r}, ['X'], ['Y'], {', '.join(attrs)})", {"X": shape}
    return f"onnx.helper.make_node(op_type={op!r}, inputs=['X'], outputs=['Y'], {', '.join(attrs)})", {"X": shape}


@given(pool_nodes(), st.integers(0, 2**32 - 1))
@settings(SETTINGS, max_examples=120)
def test_pool_nodes(oracle, case, seed):
    expr, shapes = case
    assume(accepted(expr, shapes=shapes))
    rng = np.random.default_rng(seed)
    values_agree(oracle("onnx"), expr, arrays={k: random(rng, s) for k, s in shapes.items()})


OVERHANG = [
    # the last (or only) window runs past the padded input: onnxruntime rounds toward zero and never
    # divides by the cells past the input, with or without count_include_pad
    ("AveragePool", "kernel_shape=[4], strides=[3], count_include_pad=1", (1, 1, 2)),
    ("AveragePool", "kernel_shape=[4], strides=[3], count_include_pad=0", (1, 1, 2)),
    ("AveragePool", "kernel_shape=[5], strides=[3], pads=[1, 1], count_include_pad=1", (1, 2, 2)),
    ("AveragePool", "kernel_shape=[3, 4], strides=[4, 5], pads=[0, 1, 0, 0], count_include_pad=1", (1, 1, 2, 2)),
    ("MaxPool", "kernel_shape=[4], strides=[3]", (1, 1, 2)),
    # a dilated window of padding cells only: onnxruntime's max starts at the lowest float and stays there
    ("MaxPool", "kernel_shape=[2], strides=[1], pads=[1, 1], dilations=[3]", (1, 1, 2)),
    ("LpPool", "kernel_shape=[4], strides=[3], p=3", (1, 1, 2)),
    ("LpPool", "kernel_shape=[3, 2], strides=[2, 3], p=1, ceil_mode=1", (1, 1, 4, 5)),
]


@pytest.mark.parametrize(("op", "attrs", "shape"), OVERHANG)
def test_windows_past_the_padded_input(oracle, op, attrs, shape):
    x = random(np.random.default_rng(5), shape)
    values_agree(oracle("onnx"), f"onnx.helper.make_node({op!r}, ['X'], ['Y'], {attrs})", arrays={"X": x})
