"""Explicit padding and cropping: the pad op (out = n + before + after, the conv size with kernel 1,
stride 1), torch's padding modules and F.pad, Keras ZeroPadding/Cropping, ONNX Pad: shapes measured
on the frameworks, the refusals they make, the explanation and the numbers."""

import numpy as np
import pytest

import convarith
from convarith.core import arith
from convarith.core.op import ConvOp, channels_first
from convarith.reference.layers import pad_sources


def refusal(expr, input_shape=None, **kwargs) -> str:
    with pytest.raises(convarith.ConvArithError) as info:
        convarith.output_shape(expr, input_shape, **kwargs)
    return str(info.value)


def test_pad_size_is_the_conv_size_with_kernel_1():
    op = ConvOp("pad", 1, 1, 1, (5,), (1,), (1,), (1,), (2,), (-1,), channels_first(1), channels_first(1))
    assert arith.output_spatial(op) == (6,) == (arith.conv_out(5, 1, 1, 2, -1),)
    assert arith.pad_out_text(5, 2, -1) == "5 + 2 - 1 = 6"


@pytest.mark.parametrize(
    ("expr", "input_shape", "shapes", "expected"),
    [
        # the pad tuple lists the last axis first; constant pads any trailing axes, batch and channels too
        ("F.pad(x, (1, 2))", None, {"x": (1, 2, 3)}, (1, 2, 6)),
        ("F.pad(x, (1, 2, 3, 4, 5, 6))", None, {"x": (1, 2, 3)}, (12, 9, 6)),
        ("F.pad(x, (-1, -2))", None, {"x": (1, 2, 3)}, (1, 2, 0)),
        ("F.pad(x, (2, 2), mode='reflect')", None, {"x": (2, 3)}, (2, 7)),
        ("F.pad(x, (-1, -1), mode='circular')", None, {"x": (1, 2, 3)}, (1, 2, 1)),
        ("F.pad(x, (0, 0, 0, -1), mode='reflect')", None, {"x": (1, 1, 1)}, (1, 0, 1)),
        ("F.pad(x, ())", None, {"x": (1, 2, 3)}, (1, 2, 3)),
        ("nn.ZeroPad1d(1)", (1, 1, 3, 3), None, (1, 1, 3, 5)),
        ("nn.ZeroPad2d((1, 2))", (1, 1, 5, 5), None, (1, 1, 5, 8)),
        ("nn.ReflectionPad2d((1, 2, 3, 4))", (1, 1, 5, 5), None, (1, 1, 12, 8)),
        ("nn.CircularPad1d((2, 2, 1, 1))", (2, 3, 3), None, (2, 5, 7)),
        ("nn.ConstantPad3d(1, 2)", (3, 3, 3), None, (5, 5, 5)),
        ("layers.ZeroPadding2D(((1, 2), 3))", (1, 3, 3, 2), None, (1, 6, 9, 2)),
        ("layers.ZeroPadding2D(((1, 2), (0, 3)), data_format='channels_first')", (1, 3, 3, 2), None, (1, 3, 6, 5)),
        ("layers.Cropping2D((1, 2))", (1, 3, 5, 2), None, (1, 1, 1, 2)),
        ("layers.Cropping3D(((1, 0), (0, 1), (1, 1)), data_format='channels_first')", (1, 2, 3, 3, 3), None,
         (1, 2, 2, 2, 1)),
        ("make_node('Pad', ['X', 'pads'], ['Y'], pads=[0, 0, -4, 0, 0, 2])", None, {"X": (1, 2, 3)}, (1, 2, 1)),
        ("make_node('Pad', ['X'], ['Y'], mode='wrap', pads=[0, 0, 7, 0, 0, 1])", None, {"X": (1, 2, 3)}, (1, 2, 11)),
        ("make_node('Pad', ['X'], ['Y'], pads=[1, 2, 3, 4], axes=[0, -1])", None, {"X": (1, 2, 3)}, (5, 2, 9)),
    ],
)  # fmt: skip
def test_measured_shapes(expr, input_shape, shapes, expected):
    assert convarith.output_shape(expr, input_shape, shapes=shapes) == expected
    assert convarith.explain(expr, input_shape, shapes=shapes).output_shape == expected


@pytest.mark.parametrize(
    ("expr", "input_shape", "shapes", "words"),
    [
        ("F.pad(x, (1, 2, 3))", None, {"x": (1, 2, 3)}, "Padding length must be divisible by 2"),
        ("F.pad(x, (1, 1, 1, 1))", None, {"x": (3,)}, "less than or equal to two times the input dimension"),
        ("F.pad(x, (-2, -2))", None, {"x": (1, 2, 3)}, "constant padding crops first"),
        ("F.pad(x, (3, 1), mode='reflect')", None, {"x": (1, 2, 3)}, "should be less than the corresponding input"),
        ("F.pad(x, (2, 2), mode='reflect')", None, {"x": (3,)}, "Padding size 2 is not supported for 1D input"),
        ("F.pad(x, (4, 0), mode='circular')", None, {"x": (1, 2, 3)}, "wrapping around more than once"),
        ("F.pad(x, (1, 1), mode='reflect', value=3)", None, {"x": (1, 2, 3)}, "doesn't take in value argument"),
        ("F.pad(x, (1, 1), mode='zeros')", None, {"x": (1, 2, 3)}, "mode='zeros' is not accepted"),
        ("F.pad(x, (1, 1), mode='replicate')", None, {"x": (1, 2, 0)}, "every dimension but the batch non-empty"),
        ("F.pad(x, (0, -1, 0, -1), mode='replicate')", None, {"x": (1, 1, 1)}, "at least one padded axis"),
        ("nn.ZeroPad1d(1.5)", (3, 3), None, "not a tuple of ints"),
        ("nn.CircularPad2d(1)", (3, 3), None, "expects 3D or 4D input"),
        ("nn.ConstantPad1d(2)", (2, 3, 3), None, "missing required argument 'value'"),
        ("layers.ZeroPadding1D(-1)", (1, 3, 2), None, "is negative"),
        ("layers.ZeroPadding2D((1, 2, 3))", (1, 3, 3, 2), None, "should have two elements"),
        ("layers.Cropping1D((1, 2))", (1, 3, 2), None, "out = 3 - 1 - 2 = 0 must be >= 1"),
        ("layers.Cropping1D(1, data_format='channels_first')", (1, 3, 2), None, "unexpected keyword"),
        ("make_node('Pad', ['X', 'pads'], ['Y'])", None, {"X": (1, 2, 3)}, "values of the pads input are not given"),
        ("make_node('Pad', ['X'], ['Y'], pads=[1, 1, 1])", None, {"X": (1, 2, 3)}, "Expected 2 * 3 values"),
        ("make_node('Pad', ['X'], ['Y'], mode='reflect', pads=[0, 0, 3, 0, 0, 2])", None, {"X": (1, 2, 3)},
         "pads <= length - 1"),
        ("make_node('Pad', ['X'], ['Y'], mode='reflect', pads=[0, 0, -1, 0, 0, 2])", None, {"X": (1, 2, 3)},
         "2 cells after cropping"),
        ("make_node('Pad', ['X'], ['Y'], mode='edge', pads=[0, 0, 1, 0, 0, 1])", None, {"X": (1, 2, 0)},
         "pad a dimension of size 0"),
        ("make_node('Pad', ['X'], ['Y'], mode='wrap', pads=[0, 0, -3, 0, 0, 2])", None, {"X": (1, 2, 3)},
         "cropped to nothing"),
        ("make_node('Pad', ['X'], ['Y'], pads=[1, 2], axes=[3])", None, {"X": (1, 2, 3)}, "Expected range [-3, 3)"),
        ("make_node('Pad', ['X'], ['Y'], pads=[1, 1, 1, 1], axes=[2, -1])", None, {"X": (1, 2, 3)},
         "names an axis twice"),
        ("make_node('Pad', ['X'], ['Y'], mode='bad', pads=[1, 1])", None, {"X": (3,)}, "is not one of 'constant'"),
    ],
)  # fmt: skip
def test_refusals(expr, input_shape, shapes, words):
    assert words in refusal(expr, input_shape, shapes=shapes)


def test_explanation_says_the_rule_in_words_and_numbers():
    text = str(convarith.explain("nn.ReflectionPad1d((2, 1))", (1, 1, 5)))
    assert "out = 5 + 2 + 1 = 8 (n + before + after: the conv size with kernel 1, stride 1)" in text
    assert "reflect: padded cells are mirrored about the edge cell" in text
    assert "before: input cells 2, 1; after: input cell 3" in text
    text = str(convarith.explain("layers.Cropping1D((1, 2))", (1, 6, 3)))
    assert "out = 6 - 1 - 2 = 3" in text and "crop 1 before, crop 2 after" in text
    facts = convarith.explain("F.pad(x, (1, 1), value=2.5)", shapes={"x": (3,)}).to_dict()
    assert facts["input_shape"] == [3] and facts["shape"] == [5]
    assert facts["steps"][0]["axes"][0]["fill"] == "padded cells hold 2.5"


@pytest.mark.parametrize(("mode", "numpy_mode"), [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_copying_modes_match_numpy_pad(mode, numpy_mode):
    x = np.arange(5.0)
    for lo, hi in ((2, 1), (0, 3), (4, 4) if mode != "reflect" else (4, 3)):
        if mode == "circular" and max(lo, hi) > 5:
            continue
        source, inside = pad_sources(5, lo, hi, mode)
        assert inside.all()
        np.testing.assert_array_equal(x[source], np.pad(x, (lo, hi), mode=numpy_mode))


def test_negative_pads_crop_before_copying():
    # torch and onnxruntime: circular wraps the cropped input; reflect mirrors about the input's own edge
    source, _ = pad_sources(3, 2, -1, "circular")
    assert source.tolist() == [0, 1, 0, 1]
    source, _ = pad_sources(3, -1, 1, "reflect")
    assert source.tolist() == [1, 2, 1]


def test_forward_numbers():
    x = np.arange(5, dtype=np.float32).reshape(1, 1, 5)
    assert convarith.forward("nn.ConstantPad1d((2, -1), 7)", x).tolist() == [[[7, 7, 0, 1, 2, 3]]]
    assert convarith.forward("nn.ReflectionPad1d((2, 3))", x).ravel().tolist() == [2, 1, 0, 1, 2, 3, 4, 3, 2, 1]
    y = convarith.forward("F.pad(x, (1, 1, 1, 0))", arrays={"x": np.ones((2, 2), np.float32)})
    assert y.tolist() == [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0]]
    keras = convarith.forward("layers.Cropping1D((1, 2))", np.arange(12, dtype=np.float32).reshape(1, 6, 2))
    assert keras.tolist() == [[[2, 3], [4, 5], [6, 7]]]
    onnx = convarith.forward(
        "make_node('Pad', ['X', 'pads'], ['Y'], mode='wrap', pads=[0, 0, -1, 0, 0, 2])",
        arrays={"X": np.arange(6, dtype=np.float32).reshape(1, 2, 3)},
    )
    assert onnx.tolist() == [[[1, 2, 1, 2], [4, 5, 4, 5]]]


def test_trace_element_refuses_a_copy():
    with pytest.raises(convarith.ConvArithError, match="no window sum to list"):
        convarith.trace_element("nn.ZeroPad1d(1)", (0, 0, 0), np.zeros((1, 1, 3), np.float32))


@pytest.mark.parametrize(
    ("name", "expr", "input_shape", "output_size"),
    [
        ("explain_torch_reflection_pad2d", "nn.ReflectionPad2d((2, -1, 1, 3))", (1, 2, 5, 6), None),
        ("explain_keras_global_average_pooling2d", "layers.GlobalAveragePooling2D()", (1, 7, 5, 8), None),
        ("explain_torch_max_unpool2d_output_size", "nn.MaxUnpool2d(3, stride=2, padding=1)", (1, 4, 5, 5), (10, 9)),
    ],
)
def test_golden_explanations(golden, name, expr, input_shape, output_size):
    golden(name, str(convarith.explain(expr, input_shape, output_size=output_size)))


def test_constant_pad_of_an_empty_axis_and_undefined_circular_values():
    y = convarith.forward("F.pad(x, (1, 1), value=2.0)", arrays={"x": np.zeros((1, 2, 0), np.float32)})
    assert y.tolist() == [[[2.0, 2.0], [2.0, 2.0]]]
    # torch gives this shape, but its circular copy reads cells it has not written (the pad exceeds the crop)
    assert convarith.output_shape("F.pad(x, [1, -1], mode='circular')", shapes={"x": (1, 1)}) == (1, 1)
    with pytest.raises(convarith.ConvArithError, match="copies cells torch has not written yet"):
        convarith.forward("F.pad(x, [1, -1], mode='circular')", arrays={"x": np.ones((1, 1), np.float32)})
    # where its slices are dense torch sees the overlap and refuses; with two rows it does not look
    assert "refer to a single memory location" in refusal("F.pad(x, [-1, 2], mode='circular')", shapes={"x": (1, 2)})
    assert convarith.output_shape("F.pad(x, [-1, 2, 0, 0], mode='circular')", shapes={"x": (1, 2, 2)}) == (1, 2, 3)
