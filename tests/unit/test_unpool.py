"""Max unpooling: out = (n-1)*s - 2p + k (the transposed-conv size, one formula), or an output_size
strictly within a stride of it; indices place the values (weights=[indices] for modules)."""

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
    ("expr", "input_shape", "output_size", "expected"),
    [
        ("nn.MaxUnpool2d(2)", (1, 1, 3, 3), None, (1, 1, 6, 6)),
        ("nn.MaxUnpool2d(2)", (1, 3, 3), None, (1, 6, 6)),
        ("nn.MaxUnpool1d(2)", (1, 3), None, (1, 6)),
        ("nn.MaxUnpool2d(2)", (1, 1, 3, 3), (7, 7), (1, 1, 7, 7)),
        ("nn.MaxUnpool2d(2)", (1, 1, 3, 3), (1, 1, 5, 6), (1, 1, 5, 6)),
        ("nn.MaxUnpool2d(2, padding=1)", (1, 1, 1, 1), None, (1, 1, 0, 0)),
        ("nn.MaxUnpool2d(2, stride=0)", (1, 1, 3, 3), None, (1, 1, 2, 2)),
        ("nn.MaxUnpool3d(2, padding=-1)", (1, 1, 3, 3, 3), None, (1, 1, 8, 8, 8)),
        ("nn.MaxUnpool2d((2, 3), stride=(1, 2))", (1, 1, 3, 3), None, (1, 1, 4, 7)),
        ("nn.MaxUnpool1d(2)", (0, 1), None, (0, 2)),
    ],
)
def test_measured_shapes(expr, input_shape, output_size, expected):
    assert convarith.output_shape(expr, input_shape, output_size=output_size) == expected


def test_one_formula_the_transposed_size():
    op = map_call("nn.MaxUnpool1d(3, stride=2, padding=1)", (1, 1, 5), output_size=(10,)).ops[0]
    assert arith.output_spatial(op) == (arith.transpose_out(5, 3, 2, 1, 1, 1),) == (10,)
    assert arith.unpool_range(5, 3, 2, 1) == (9, 8, 10)


@pytest.mark.parametrize(
    ("expr", "input_shape", "output_size", "shapes", "words"),
    [
        ("nn.MaxUnpool2d(2)", (1, 1, 3, 3), (4, 6), None, "strictly between 4 and 8"),
        ("nn.MaxUnpool2d(2)", (1, 1, 3, 3), (1, 5, 6), None, "should be a sequence containing 2 or 4 elements"),
        ("nn.MaxUnpool2d(1, padding=1)", (1, 1, 1, 1), None, None, "non-negative spatial dimensions"),
        ("nn.MaxUnpool2d(2)", (3, 3), None, None, "takes 3D (unbatched) or 4D (batched) input"),
        ("nn.MaxUnpool3d(2, stride=0)", (1, 1, 3, 3, 3), None, None, "strides should be greater than zero"),
        ("nn.MaxUnpool2d(2)", (1, 0, 3, 3), None, None, "every dimension but the first non-empty"),
        ("F.max_unpool2d(x, i, 2)", None, None, {"x": (1, 1, 3, 3), "i": (1, 1, 3, 2)}, "same as that of the input"),
        ("F.max_unpool2d(x, i, 2)", None, (6, 6), {"x": (1, 1, 3, 3), "i": (1, 1, 3, 3)}, "output_size=(6, 6)"),
    ],
)
def test_refusals(expr, input_shape, output_size, shapes, words):
    assert words in refusal(expr, input_shape, output_size=output_size, shapes=shapes)


def test_explanation():
    text = str(convarith.explain("nn.MaxUnpool2d(2)", (1, 1, 3, 3), output_size=(7, 6)))
    assert (
        "out = (3-1)*2 + 2 - 0 - 0 + 1 = 7 (the transposed-conv size (n-1)*s - 2p + k; output_size moves it by +1"
        in text
    )
    assert "each input value goes to the flat output position its index names" in text


def test_numbers_and_bad_indices():
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2)
    indices = np.array([[[[0, 3], [9, 15]]]])
    y = convarith.forward("nn.MaxUnpool2d(2)", x, [indices])
    assert y.dtype == np.float32 and y.ravel().tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3]
    same = convarith.forward("F.max_unpool2d(x, i, 2)", arrays={"x": x, "i": indices})
    np.testing.assert_array_equal(y, same)
    with pytest.raises(convarith.ConvArithError, match="outside the output plane of 16 cells"):
        convarith.forward("nn.MaxUnpool2d(2)", x, [indices + 1])
    with pytest.raises(convarith.ConvArithError, match="int64 indices"):
        convarith.forward("nn.MaxUnpool2d(2)", x, [indices.astype(np.float32)])
