"""core/arith: every formula with hand-computed numbers, and the text renderers."""

import pytest

from convarith.core import arith
from convarith.core.op import ConvOp, channels_first, channels_last


@pytest.mark.parametrize(("kernel", "dilation", "span"), [(3, 1, 3), (3, 2, 5), (4, 3, 10), (1, 0, 1), (4, 0, 1)])
def test_effective_kernel(kernel, dilation, span):
    assert arith.effective_kernel(kernel, dilation) == span


def test_dilated_size():
    assert arith.dilated_size(4, 2) == 7  # x . x . x . x
    assert arith.dilated_size(5, 1) == 5
    assert arith.dilated_size(0, 3) == 0


@pytest.mark.parametrize(
    ("n", "k_eff", "stride", "lo", "hi", "lhs", "out"),
    [
        (7, 3, 2, 1, 1, 1, 4),  # floor((7 + 2 - 3) / 2) + 1
        (96, 3, 2, 0, 1, 1, 48),  # TF 'same' seed: floor(94 / 2) + 1
        (4, 7, 1, 0, 0, 1, -2),  # too small: may be negative
        (2, 5, 2, 0, 0, 1, -1),  # floor(-3 / 2) = -2, not -1
        (4, 3, 1, 0, 0, 2, 5),  # lhs dilation: 7 - 3 + 1
        (5, 3, 1, 2, 0, 1, 5),  # asymmetric padding counts both sides
    ],
)
def test_conv_out(n, k_eff, stride, lo, hi, lhs, out):
    assert arith.conv_out(n, k_eff, stride, lo, hi, lhs) == out


def test_pool_ceil_out_rounds_up():
    # ceil((5 - 2) / 2) + 1 = 3, where floor gives 2
    assert arith.pool_ceil_out(5, 2, 2, 0, 0) == 3
    assert arith.conv_out(5, 2, 2, 0, 0) == 2
    assert not arith.ceil_drops_last_window(5, 2, 2, 0, 0)


def test_pool_ceil_out_drops_a_last_window_starting_in_the_padding():
    # ceil((5 + 1 + 1 - 2) / 3) + 1 = 3, but window 2 starts at 2*3 = 6 >= 5 + 1: dropped
    assert arith.pool_ceil_out(5, 2, 3, 1, 1) == 2
    assert arith.ceil_drops_last_window(5, 2, 3, 1, 1)
    # the same window kept when it starts inside the input: ceil((6 + 2 - 2) / 3) + 1 = 3, 6 < 6 + 1
    assert arith.pool_ceil_out(6, 2, 3, 1, 1) == 3
    assert not arith.ceil_drops_last_window(6, 2, 3, 1, 1)


def test_pool_trunc_out_rounds_toward_zero():
    assert arith.pool_trunc_out(1, 2, 2, 0, 0) == 1  # trunc(-1/2) + 1 = 1; floor(-1/2) + 1 = 0
    assert arith.conv_out(1, 2, 2, 0, 0) == 0
    assert arith.pool_trunc_out(1, 4, 2, 0, 0) == 0  # trunc(-3/2) = -1
    assert arith.pool_trunc_out(7, 3, 2, 0, 0) == 3


def test_tf_valid_out():
    assert arith.tf_valid_out(7, 3, 2) == 3  # (7 - 3 + 2) / 2
    assert arith.tf_valid_out(1, 4, 2) == 0  # (1 - 4 + 2) / 2 = -0.5 -> 0
    assert arith.tf_valid_out_text(1, 4, 2) == "(1 - 4 + 2) / 2 = 0 (rounded toward zero)"


@pytest.mark.parametrize(
    ("n", "k_eff", "stride", "lo", "hi", "out_pad", "out"),
    [
        (5, 3, 2, 1, 1, 1, 10),  # (5-1)*2 + 3 - 2 + 1
        (5, 3, 1, 0, 0, 0, 7),
        (2, 1, 3, 2, 2, 0, 0),  # empty
        (1, 1, 1, 1, 1, 0, -1),
        (4, 5, 2, 0, 1, 0, 10),  # asymmetric crop
    ],
)
def test_transpose_out(n, k_eff, stride, lo, hi, out_pad, out):
    assert arith.transpose_out(n, k_eff, stride, lo, hi, out_pad) == out


def test_same_padding_asymmetric_odd_pixel_at_the_end():
    pad = arith.same_padding(6, 3, 2)
    # out = ceil(6/2) = 3, total = (3-1)*2 + 3 - 6 = 1
    assert (pad.lo, pad.hi) == (0, 1)
    assert pad == (0, 1)
    assert (
        pad.text
        == "out = ceil(6/2) = 3; total pad = max((3-1)*2 + 3 - 6, 0) = 1 -> before 0, after 1, the odd pixel at the end"
    )


def test_same_lower_puts_the_odd_pixel_at_the_start():
    pad = arith.same_padding(6, 3, 2, extra_at_start=True)
    assert (pad.lo, pad.hi) == (1, 0)
    assert pad.text.endswith("-> before 1, after 0, the odd pixel at the start")


def test_same_padding_symmetric_and_clamped():
    assert arith.same_padding(5, 3, 1) == (1, 1)
    assert arith.same_padding(96, 3, 2) == (0, 1)  # Keras seed: total 1, at the end
    clamped = arith.same_padding(5, 1, 3)  # (2-1)*3 + 1 - 5 = -1 -> 0
    assert clamped == (0, 0)
    assert clamped.text == "out = ceil(5/3) = 2; total pad = max((2-1)*3 + 1 - 5, 0) = 0 -> before 0, after 0"


def test_same_padding_unclamped_keeps_a_negative_total():
    assert arith.same_padding(5, 1, 3, clamp=False) == (0, -1)
    assert arith.same_padding(5, 1, 3, extra_at_start=True, clamp=False) == (0, -1)
    assert arith.same_padding(6, 3, 2, clamp=False) == (0, 1)
    assert arith.same_padding(6, 3, 2, extra_at_start=True, clamp=False) == (1, 0)


def test_transpose_padding_for_size():
    # (5-1)*2 + 3 - 1 - 1 = 9; asking 10 adds one output_padding cell
    assert arith.transpose_padding_for_size(5, 3, 2, 1, 2, 10) == (1, 1)
    assert arith.transpose_padding_for_size(5, 3, 2, 1, 2, 9) == (1, 0)
    # asking 8 crops one more cell at the end instead
    assert arith.transpose_padding_for_size(5, 3, 2, 1, 2, 8) == (2, 0)
    assert arith.transpose_out(5, 3, 2, 1, 2, 0) == 8


def test_adaptive_windows_overlap_when_sizes_do_not_divide():
    assert [arith.adaptive_window(i, 5, 3) for i in range(3)] == [(0, 2), (1, 4), (3, 5)]
    assert [arith.adaptive_window(i, 10, 4) for i in range(4)] == [(0, 3), (2, 5), (5, 8), (7, 10)]
    assert [arith.adaptive_window(i, 4, 2) for i in range(2)] == [(0, 2), (2, 4)]


def test_conv_out_text():
    assert arith.conv_out_text(96, 3, 1, 2, 0, 1) == "floor((96 + 0 + 1 - 3) / 2) + 1 = 48"
    assert arith.conv_out_text(10, 3, 2, 1, 0, 0) == "floor((10 + 0 + 0 - 2*(3-1) - 1) / 1) + 1 = 6"
    assert arith.conv_out_text(4, 3, 1, 1, 0, 0, lhs_dilation=2) == "floor(((4-1)*2+1 + 0 + 0 - 3) / 1) + 1 = 5"
    assert arith.conv_out_text(5, 2, 1, 2, 0, 0, rounding="ceil") == "ceil((5 + 0 + 0 - 2) / 2) + 1 = 3"
    assert arith.conv_out_text(4, 7, 1, 1, 0, 0) == "floor((4 + 0 + 0 - 7) / 1) + 1 = -2"


def test_transpose_out_text():
    assert arith.transpose_out_text(5, 3, 1, 2, 1, 1, 1) == "(5-1)*2 + 3 - 1 - 1 + 1 = 10"
    assert arith.transpose_out_text(5, 3, 2, 1, 0, 0, 0) == "(5-1)*1 + 2*(3-1)+1 - 0 - 0 + 0 = 9"


def make_op(kind="conv", **changes) -> ConvOp:
    fields = dict(
        kind=kind, batch=2, in_channels=3, out_channels=8, in_size=(9, 7), kernel=(3, 3), stride=(2, 2),
        dilation=(1, 1), pad_lo=(1, 0), pad_hi=(1, 1), in_spec=channels_first(2), out_spec=channels_first(2),
    )  # fmt: skip
    fields.update(changes)
    return ConvOp(**fields)


def test_output_spatial_and_shape_of_a_conv():
    op = make_op()
    # height floor((9 + 2 - 3) / 2) + 1 = 5, width floor((7 + 0 + 1 - 3) / 2) + 1 = 3
    assert arith.output_spatial(op) == (5, 3)
    assert arith.output_shape(op) == (2, 8, 5, 3)
    assert arith.output_shape(op.with_(out_spec=channels_last(2))) == (2, 5, 3, 8)


def test_output_shape_of_other_kinds():
    # (9-1)*2 + 3 - 2 + 0 = 17, (7-1)*2 + 3 - 1 + 1 = 15
    assert arith.output_spatial(make_op("conv_transpose", output_padding=(0, 1))) == (17, 15)
    # ceil((9 + 2 - 3) / 2) + 1 = 5, ceil((7 + 1 - 3) / 2) + 1 = 4
    assert arith.output_spatial(make_op("max_pool", rounding="ceil")) == (5, 4)
    assert arith.output_shape(make_op("adaptive_avg_pool", out_size=(4, 1))) == (2, 8, 4, 1)
    # batch groups divide the batch; a negative size (floor((1 - 3) / 1) + 1 = -1) is clamped to 0
    shrunk = make_op(batch=4, batch_groups=2, in_size=(1, 7), stride=(1, 2), pad_lo=(0, 0), pad_hi=(0, 0))
    assert arith.output_spatial(shrunk) == (-1, 3)
    assert arith.output_shape(shrunk) == (2, 8, 0, 3)


def test_axis_names():
    assert arith.axis_names(1) == ("length",)
    assert arith.axis_names(2) == ("height", "width")
    assert arith.axis_names(3) == ("depth", "height", "width")
    assert arith.axis_names(4) == ("axis 0", "axis 1", "axis 2", "axis 3")


def test_windowed_out_by_rounding_rule():
    # (2 - 4) / 3: floor gives 0 windows, trunc (onnxruntime) keeps the one overhanging window, ceil too
    assert [arith.windowed_out(2, 4, 3, 0, 0, r) for r in ("floor", "trunc", "ceil")] == [0, 1, 1]
    assert arith.conv_out_text(2, 4, 1, 3, 0, 0, rounding="trunc") == "trunc((2 + 0 + 0 - 4) / 3) + 1 = 1"


def test_tf_valid_size_is_the_floor_rule_wherever_tf_accepts_it():
    # TF's (n - k + s) / s toward zero only decides empty (>= 0) or refused (< 0): TF ops carry rounding='floor'
    for n in range(0, 9):
        for k in range(1, 9):
            for s in range(1, 6):
                if arith.tf_valid_out(n, k, s) >= 0:
                    assert arith.tf_valid_out(n, k, s) == max(arith.conv_out(n, k, s, 0, 0), 0), (n, k, s)


def test_transpose_crop_cuts_the_excess_and_places_the_odd_cell():
    # full 11, wanted 8: 3 cells cut, the odd one at the start (ONNX output_shape) or the end (SAME_UPPER)
    assert arith.transpose_crop(11, 8, True) == (3, 2, 1)
    assert arith.transpose_crop(11, 8, False) == (3, 1, 2)
    assert arith.transpose_crop(7, 10, True) == (0, 0, 0)  # nothing to cut when the output is larger
