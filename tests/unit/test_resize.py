"""Resize and upsampling: size rules, refusals, explanations and numbers by hand (no framework imported)."""

import numpy as np
import pytest

import convarith
from convarith.core import arith
from convarith.core.op import ConvOp, channels_first
from convarith.reference.resize import rounded, sampling

X4 = {"x": (1, 2, 5, 7)}


def refusal(expr, input_shape=None, **kwargs) -> str:
    with pytest.raises(convarith.ConvArithError) as info:
        convarith.output_shape(expr, input_shape, **kwargs)
    return str(info.value)


def test_torch_size_is_floor_of_the_double_product_onnx_of_the_float32_one():
    assert arith.scaled_size(5, 1.5) == 7.0
    # float32(1.3) = 1.29999995...: 10 x it is 12.9999995 exactly, but onnxruntime rounds the product to float32 first
    assert arith.scaled_size(10, arith.float32(1.3)) == 12.0
    assert arith.scaled_size_float32(10, 1.3) == 13.0
    assert arith.scaled_size(3, float("inf")) == float("inf")
    assert "floor(float32(10 x 1.3) = 13.0) = 13" in arith.scaled_size_text(10, 1.3, float32_product=True)


@pytest.mark.parametrize(
    ("expr", "input_shape", "shapes", "expected"),
    [
        ("F.interpolate(x, scale_factor=1.5)", None, X4, (1, 2, 7, 10)),  # floor(5*1.5), floor(7*1.5)
        ("F.interpolate(x, size=(3, 4), mode='area')", None, X4, (1, 2, 3, 4)),
        ("F.interpolate(x, scale_factor=0.5, mode='area')", None, X4, (1, 2, 2, 3)),
        ("nn.Upsample(scale_factor=(2, 3), mode='bilinear')", (0, 2, 5, 7), None, (0, 2, 10, 21)),  # empty batch
        ("nn.UpsamplingNearest2d(scale_factor=2)", (1, 2, 3), None, (1, 2, 6)),  # any rank, despite the name
        ("keras.layers.UpSampling2D((2, 3))", (1, 5, 7, 2), None, (1, 10, 21, 2)),
        ("layers.UpSampling2D(2, data_format='channels_first')", (1, 5, 7, 2), None, (1, 5, 14, 4)),
        ("UpSampling1D(3)", (1, 5, 7), None, (1, 15, 7)),
        ("layers.UpSampling3D((1, 2, 3), data_format='channels_first')", (1, 2, 3, 4, 5), None, (1, 2, 3, 8, 15)),
        ("layers.UpSampling2D(2)", (1, 0, 7, 2), None, (1, 0, 14, 2)),  # nearest repeats: an empty axis is fine
        (
            "helper.make_node('Resize', ['X', '', 'scales'], ['Y'], scales=[1, 1, 1.3, 0.05])",
            None,
            {"X": (1, 2, 10, 7)},
            (1, 2, 13, 0),
        ),
        (
            "make_node('Resize', ['X', '', '', 'sizes'], ['Y'], sizes=[5, 5], axes=[2, 3], keep_aspect_ratio_policy='not_larger')",
            None,
            {"X": (1, 2, 10, 7)},
            (1, 2, 5, 4),  # one scale min(5/10, 5/7) = 0.5; round(0.5 x 7) = 4 (half away from zero)
        ),
        ("tf.image.resize(x, (8, 9), method='bicubic')", None, {"x": (4, 5, 3)}, (8, 9, 3)),
    ],
)
def test_shapes_by_hand(expr, input_shape, shapes, expected):
    assert convarith.output_shape(expr, input_shape, shapes=shapes) == expected


@pytest.mark.parametrize(
    ("expr", "input_shape", "shapes", "words"),
    [
        ("F.interpolate(x, scale_factor=2, align_corners=True)", None, X4, "align_corners option can only be set"),
        ("F.interpolate(x, size=3, scale_factor=2)", None, X4, "only one of size or scale_factor"),
        ("F.interpolate(x)", None, X4, "either size or scale_factor"),
        ("F.interpolate(x, scale_factor=2, mode='linear')", None, X4, "linear mode needs 3D input"),
        ("F.interpolate(x, size=(3,))", None, X4, "same number of spatial dimensions"),
        (
            "F.interpolate(x, size=(3, 4), recompute_scale_factor=True)",
            None,
            X4,
            "not meaningful with an explicit size",
        ),
        ("F.interpolate(x, scale_factor=2, antialias=True)", None, X4, "Anti-alias option is restricted"),
        ("F.interpolate(x, scale_factor=0.1)", None, X4, "greater than 0"),
        ("F.interpolate(x, scale_factor=1e300)", None, X4, "without overflow"),
        ("F.interpolate(x, scale_factor=2)", None, {"x": (1, 0, 5, 7)}, "Non-empty 4D data tensor"),
        ("F.interpolate(x, scale_factor=2, mode='lanczos')", None, X4, "requires antialias=True"),
        ("nn.UpsamplingBilinear2d(scale_factor=2)", (1, 2, 3, 4, 5), None, "bilinear mode needs 4D input"),
        ("layers.UpSampling2D(0)", (1, 5, 7, 2), None, "> 0"),
        ("layers.UpSampling2D(2, interpolation='gaussian')", (1, 5, 7, 2), None, "interpolation='gaussian'"),
        ("layers.UpSampling1D((2,))", (1, 5, 7), None, "not an int"),
        ("layers.UpSampling3D(2, interpolation='bilinear')", (1, 2, 3, 4, 5), None, "unexpected keyword"),
        ("layers.UpSampling2D(2, interpolation='bilinear')", (1, 5, 7, 0), None, "at least one channel"),
        ("make_node('Resize', ['X', '', 'scales'], ['Y'])", None, {"X": (1, 2, 3)}, "values of input scales"),
        ("make_node('Resize', ['X'], ['Y'], scales=[1, 1, 2])", None, {"X": (1, 2, 3)}, "has no scales input"),
        (
            "make_node('Resize', ['X', '', 'scales', 'sizes'], ['Y'], scales=[1, 1, 2], sizes=[1, 2, 6])",
            None,
            {"X": (1, 2, 3)},
            "not both",
        ),
        ("make_node('Resize', ['X', '', 'scales'], ['Y'], scales=[1, 2, 2])", None, {"X": (1, 2, 3)}, "channel axis"),
        ("make_node('Resize', ['X', '', 'scales'], ['Y'], scales=[1, 1, 0])", None, {"X": (1, 2, 3)}, "greater than 0"),
        (
            "make_node('Resize', ['X', '', 'scales'], ['Y'], mode='cubic', scales=[1, 1, 2])",
            None,
            {"X": (1, 2, 3)},
            "4-D",
        ),
        (
            "make_node('Resize', ['X', '', 'scales'], ['Y'], exclude_outside=1, scales=[1, 1, 2])",
            None,
            {"X": (1, 2, 3)},
            "exclude_outside",
        ),
        ("tf.image.resize(x, (8, 9), method='bogus')", None, {"x": (4, 5, 3)}, "method='bogus'"),
    ],
)
def test_refusals(expr, input_shape, shapes, words):
    assert words in refusal(expr, input_shape, shapes=shapes)


def test_explanation_says_the_rule_in_words_and_numbers():
    text = str(convarith.explain("nn.Upsample(scale_factor=2)", (1, 3, 5, 7)))
    assert "nearest upsampling by 2: out = floor(n x 2)" in text
    assert "out = floor(5 x 2) = 10" in text and "out = floor(7 x 2) = 14" in text
    keras = str(convarith.explain("layers.UpSampling1D(3)", (1, 5, 2)))
    assert "each cell repeated 3 times" in keras and "out = 5 x 3 = 15" in keras
    onnx = convarith.explain(
        "make_node('Resize', ['X', '', 'scales'], ['Y'], scales=[1, 1, 1.3])", shapes={"X": (1, 1, 10)}
    )
    assert "floor(float32(10 x 1.3) = 13.0) = 13" in str(onnx)
    assert "(x + 0.5) / 1.3 - 0.5" in str(onnx)


def op(n: int, out: int, **fields) -> ConvOp:
    return ConvOp("resize", 1, 1, 1, (n,), (1,), (1,), (1,), (0,), (0,), channels_first(1), channels_first(1),
                  out_size=(out,), **fields)  # fmt: skip


def test_sampling_by_hand():
    cells, _ = sampling(op(3, 6, resize_arith="exact"), 0)  # Keras repeat: x // 2
    assert cells[:, 0].tolist() == [0, 0, 1, 1, 2, 2]
    # half pixel, scale 2: positions -0.25, 0.25, 0.75, ... -> cells (0, 1) with weights (0.75, 0.25) at x = 1
    cells, weights = sampling(op(3, 6, resize_mode="linear", coordinate="half_pixel", resize_arith="tf"), 0)
    assert cells[1].tolist() == [0, 1] and weights[1].tolist() == [0.75, 0.25]
    assert cells[0].tolist() == [0, 0]  # -0.25: the edge cell repeated
    # onnxruntime round_prefer_floor: (x + 0.5) / 2 - 0.5 at x = 2 is 0.75 -> 1; asymmetric 3 / 2 = 1.5 -> tie -> 1
    nearest = op(3, 6, coordinate="asymmetric", nearest_rounding="round_prefer_floor", resize_arith="onnx")
    assert sampling(nearest, 0)[0][:, 0].tolist() == [0, 0, 1, 1, 2, 2]
    ceil = nearest.with_(nearest_rounding="round_prefer_ceil")
    assert sampling(ceil, 0)[0][:, 0].tolist() == [0, 1, 1, 2, 2, 2]
    # cubic, exclude_outside: a tap outside the input weighs 0 and the rest sum to 1
    _, w = sampling(
        op(4, 8, resize_mode="cubic", coordinate="half_pixel", resize_arith="onnx", exclude_outside=True), 0
    )
    assert w[0, 0] == 0 and np.allclose(w.sum(axis=1), 1)


def test_forward_by_hand():
    x = np.arange(6, dtype=np.float32).reshape(1, 3, 2)  # (N, L, C)
    y = convarith.forward("layers.UpSampling1D(2)", x, [])
    assert np.array_equal(y, np.repeat(x, 2, axis=1))
    corners = convarith.forward(
        "nn.UpsamplingBilinear2d(scale_factor=3)", np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2)
    )
    assert corners.shape == (1, 1, 6, 6) and corners[0, 0, 0, 0] == 0 and corners[0, 0, -1, -1] == 3
    assert np.isclose(corners[0, 0, 0, 1], 0.2)  # align_corners: x * (2-1)/(6-1)
    same = convarith.forward(
        "make_node('Resize', ['X', '', 'scales'], ['Y'], mode='linear', scales=[1, 1, 1.2])", arrays={"X": x}
    )
    assert np.array_equal(same, x)  # floor(3 x 1.2) = 3: onnxruntime copies a tensor whose shape does not change


def test_forward_refuses_what_it_does_not_reproduce_and_huge_outputs():
    x = np.zeros((1, 1, 4, 4), np.float32)
    crop = "make_node('Resize', ['X', '', 'scales'], ['Y'], coordinate_transformation_mode='tf_crop_and_resize', scales=[1, 1, 2, 2])"
    with pytest.raises(convarith.ConvArithError, match="tf_crop_and_resize"):
        convarith.forward(crop, arrays={"X": x})
    with pytest.raises(convarith.ConvArithError, match="budget"):
        convarith.forward("F.interpolate(x, scale_factor=1e9)", arrays={"x": x})
    with pytest.raises(convarith.ConvArithError, match="trace_element"):
        convarith.trace_element("F.interpolate(x, scale_factor=2)", (0, 0, 0, 0), arrays={"x": x})
    assert convarith.output_shape("F.interpolate(x, scale_factor=1e9)", shapes={"x": (1, 1, 4, 4)}) == (
        1, 1, 4000000000, 4000000000,
    )  # fmt: skip


def test_torch_antialias_by_hand():
    # shrinking 4 -> 2: the triangle widens to support 2 around centres 1 and 3, weights 1/8, 3/8, 3/8, 1/8 (cut at the edge)
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 1, 4)
    y = convarith.forward("F.interpolate(x, size=(1, 2), mode='bilinear', antialias=True)", arrays={"x": x})
    assert np.allclose(y.ravel(), [(0 * 3 + 1 * 3 + 2 * 1) / 7, (1 * 1 + 2 * 3 + 3 * 3) / 7])
    # torch's vertical pass on a 1-wide output repeats its first row (measured on torch 2.13)
    tall = np.arange(8, dtype=np.float32).reshape(1, 1, 8, 1)
    rows = convarith.forward("F.interpolate(x, size=(4, 1), mode='bilinear', antialias=True)", arrays={"x": tall})
    assert np.all(rows == rows[0, 0, 0, 0])


@pytest.mark.parametrize(
    ("name", "expr", "input_shape", "shapes"),
    [
        ("explain_torch_upsample_bilinear", "nn.Upsample(scale_factor=1.5, mode='bilinear')", (1, 3, 5, 7), None),
        (
            "explain_onnx_resize_sizes",
            "make_node('Resize', ['X', '', '', 'sizes'], ['Y'], mode='nearest', nearest_mode='floor', sizes=[1, 3, 9, 4])",
            None,
            {"X": (1, 3, 4, 4)},
        ),
    ],
)
def test_explanation_golden(golden, name, expr, input_shape, shapes):
    golden(name, str(convarith.explain(expr, input_shape, shapes=shapes)))


def test_nearest_rounding_is_std_round_with_onnxruntimes_tie_test():
    """round_prefer_ceil is std::round (half away from zero) and round_prefer_floor takes x == trunc(x) + 0.5
    as the tie; the largest float32 below 0.5 rounds to 0 (floor(x + 0.5) in float32 would give 1)."""
    below_half = np.nextafter(np.float32(0.5), np.float32(0))
    p = np.array([below_half, 0.5, 1.5, 2.5, -below_half, -0.5, -1.5, 2.4999998], np.float32)
    assert rounded(p, "round_prefer_ceil").tolist() == [0, 1, 2, 3, 0, -1, -2, 2]
    assert rounded(p, "round_prefer_floor").tolist() == [0, 0, 1, 2, 0, -1, -2, 2]
