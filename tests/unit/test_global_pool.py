"""Global pooling: a pool whose window is the whole input (kernel = n, stride 1, no padding: out = 1),
keepdims=False as an out_spec of (batch, channel) only; Keras, ONNX and torch adaptive pools to 1."""

import numpy as np
import pytest

import convarith
from convarith.api import map_call
from convarith.core import arith


def refusal(expr, input_shape=None, **kwargs) -> str:
    with pytest.raises(convarith.ConvArithError) as info:
        convarith.output_shape(expr, input_shape, **kwargs)
    return str(info.value)


@pytest.mark.parametrize(
    ("expr", "input_shape", "shapes", "expected"),
    [
        ("layers.GlobalAveragePooling2D()", (1, 3, 3, 2), None, (1, 2)),
        ("layers.GlobalAveragePooling2D(keepdims=True)", (1, 3, 3, 2), None, (1, 1, 1, 2)),
        ("layers.GlobalAveragePooling2D(data_format='channels_first', keepdims=True)", (1, 3, 3, 2), None,
         (1, 3, 1, 1)),
        ("layers.GlobalMaxPooling3D(data_format='CHANNELS_FIRST')", (1, 3, 3, 3, 2), None, (1, 3)),
        ("layers.GlobalMaxPooling2D(keepdims=1)", (1, 3, 3, 2), None, (1, 1, 1, 2)),
        ("layers.GlobalAveragePooling1D()", (1, 0, 2), None, (1, 2)),
        ("make_node('GlobalAveragePool', ['X'], ['Y'])", None, {"X": (1, 2, 3, 4)}, (1, 2, 1, 1)),
        ("make_node('GlobalLpPool', ['X'], ['Y'], p=3)", None, {"X": (1, 2, 3)}, (1, 2, 1)),
        ("make_node('GlobalMaxPool', ['X'], ['Y'])", None, {"X": (0, 2, 3)}, (0, 2, 1)),
    ],
)  # fmt: skip
def test_measured_shapes(expr, input_shape, shapes, expected):
    assert convarith.output_shape(expr, input_shape, shapes=shapes) == expected


def test_keepdims_false_drops_the_spatial_axes_in_the_op():
    op = map_call("layers.GlobalMaxPooling2D()", (2, 5, 4, 3)).ops[0]
    assert (op.kind, op.kernel, op.stride, op.out_spec) == ("max_pool", (5, 4), (1, 1), (0, 1))
    assert arith.output_spatial(op) == (1, 1) and arith.output_shape(op) == (2, 3)


@pytest.mark.parametrize(
    ("expr", "input_shape", "shapes", "words"),
    [
        ("layers.GlobalMaxPooling1D()", (1, 0, 2), None, "reduce_max refuses an input with no elements"),
        ("layers.GlobalMaxPooling2D()", (0, 3, 3, 2), None, "reduce_max refuses"),
        ("layers.GlobalMaxPooling2D()", (3, 3, 2), None, "expected a 4D input"),
        ("layers.GlobalAveragePooling2D(keepdims='yes')", (1, 3, 3, 2), None, "not a flag"),
        ("make_node('GlobalAveragePool', ['X'], ['Y'])", None, {"X": (1, 2)}, "cannot be less than 3"),
        ("make_node('GlobalMaxPool', ['X'], ['Y'])", None, {"X": (1, 2, 0)}, "allows only N to be zero"),
        ("make_node('GlobalLpPool', ['X'], ['Y'])", None, {"X": (1, 2, 2, 2, 2, 2)}, "Unsupported pooling size"),
        ("make_node('GlobalAveragePool', ['X'], ['Y'], kernel_shape=[2])", None, {"X": (1, 2, 3)},
         "does not exist for GlobalAveragePool"),
    ],
)  # fmt: skip
def test_refusals(expr, input_shape, shapes, words):
    assert words in refusal(expr, input_shape, shapes=shapes)


def test_explanation_says_global():
    text = str(convarith.explain("layers.GlobalAveragePooling1D()", (1, 7, 2)))
    assert "global: one window over the whole axis (kernel = n = 7, stride 1, no padding)" in text
    assert "out = floor((7 + 0 + 0 - 7) / 1) + 1 = 1" in text and "divisor (cells counted on this axis): 7" in text
    assert "keepdims=False: the spatial axes (each of size 1) are dropped" in text
    text = str(convarith.explain("nn.AdaptiveAvgPool2d(1)", (1, 3, 5, 4)))
    assert "output size 1: a global pool, one window over the whole axis [0, 5)" in text


def test_numbers():
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 2, 2)  # N, H, W, C
    assert convarith.forward("layers.GlobalAveragePooling2D()", x).tolist() == [[5.0, 6.0]]
    assert convarith.forward("layers.GlobalMaxPooling2D(keepdims=True)", x).tolist() == [[[[10.0, 11.0]]]]
    empty = convarith.forward("layers.GlobalAveragePooling1D()", np.zeros((1, 0, 2), np.float32))
    assert np.isnan(empty).all() and empty.shape == (1, 2)
    lp = convarith.forward("make_node('GlobalLpPool', ['X'], ['Y'], p=1)", arrays={"X": -np.ones((1, 1, 4), "f4")})
    assert lp.tolist() == [[[4.0]]]
    with np.errstate(all="raise"):  # p = 0 gives inf, as onnxruntime, without a warning
        inf = convarith.forward("make_node('GlobalLpPool', ['X'], ['Y'], p=0)", arrays={"X": np.ones((1, 1, 3), "f4")})
    assert np.isinf(inf).all()
