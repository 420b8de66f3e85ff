"""tf.nn mapping: hand-checked shapes and the exact text of key refusals."""

import pytest

import convarith
from convarith.frameworks import _tf_rules, tf_nn


def shape(expr, **shapes):
    return convarith.output_shape(expr, shapes=shapes)


def refusal(expr, **shapes):
    with pytest.raises(convarith.ConvArithError) as info:
        convarith.output_shape(expr, shapes=shapes)
    return str(info.value)


def test_same_and_valid_shapes():
    assert shape("tf.nn.conv2d(x, w, 2, 'SAME')", x=(1, 96, 128, 3), w=(3, 3, 3, 8)) == (1, 48, 64, 8)
    assert shape("tf.nn.conv2d(x, w, 1, 'VALID')", x=(1, 5, 5, 3), w=(3, 3, 3, 4)) == (1, 3, 3, 4)
    assert shape("tf.nn.conv2d(x, w, 1, [[0, 0], [1, 2], [3, 4], [0, 0]])", x=(1, 5, 5, 3), w=(3, 3, 3, 4)) == (
        1,
        6,
        10,
        4,
    )


def test_valid_window_slightly_too_large_is_empty_not_refused():
    # TF truncates (4 - 7 + 2) / 2 toward zero: 0, an empty tensor
    assert shape("tf.nn.conv2d(x, w, 2, 'VALID')", x=(1, 4, 5, 3), w=(7, 3, 3, 4)) == (1, 0, 2, 4)
    assert shape("tf.nn.max_pool2d(x, 4, 3, 'VALID')", x=(1, 2, 5, 3)) == (1, 0, 1, 3)


def test_grouped_conv2d_and_extra_batch_dims():
    assert shape("tf.nn.conv2d(x, w, 1, 'SAME')", x=(1, 5, 5, 6), w=(3, 3, 3, 4)) == (1, 5, 5, 4)
    assert shape("tf.nn.conv2d(x, w, 1, 'VALID')", x=(2, 7, 1, 5, 5, 3), w=(3, 3, 3, 4)) == (2, 7, 1, 3, 3, 4)


def test_transpose_output_shape_and_depthwise():
    assert shape("tf.nn.conv2d_transpose(x, w, [1, 9, 9, 4], 2)", x=(1, 5, 5, 3), w=(3, 3, 4, 3)) == (1, 9, 9, 4)
    assert shape("tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], 'SAME')", x=(1, 5, 5, 3), w=(3, 3, 3, 2)) == (1, 3, 3, 6)
    # dilation with strides runs as space-to-batch: not the dilated-conv formula
    assert shape(
        "tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], 'VALID', dilations=[2, 2])", x=(1, 9, 9, 3), w=(3, 3, 3, 2)
    ) == (1, 3, 3, 6)


def test_transpose_padding_helper():
    assert _tf_rules.transpose_axis_padding("t", "height", "SAME", 5, 10, 3, 2) == (
        0,
        1,
        0,
        "output 10 given; forward check: out = ceil(10/2) = 5; total pad = max((5-1)*2 + 3 - 10, 0) = 1 -> before 0, after 1, the odd pixel at the end",
    )
    assert _tf_rules.axis_padding("VALID", 7, 3, 2) == (0, 0)


def test_refuses_inconsistent_output_shape():
    assert refusal("tf.nn.conv2d_transpose(x, w, [1, 11, 11, 4], 2)", x=(1, 5, 5, 3), w=(3, 3, 4, 3)) == (
        "tf.nn.conv2d_transpose: output_shape gives height 11, but the forward convolution of 11 with padding='SAME' "
        "and stride 2 has size 6, not the input's 5. Rule: TF checks that ceil(out/stride) equals the input size. "
        "Fix: an output height in 9..10."
    )


def test_refuses_channels_first_on_cpu():
    assert refusal("tf.nn.conv2d(x, w, 1, 'SAME', data_format='NCHW')", x=(1, 3, 5, 5), w=(3, 3, 3, 4)) == (
        "tf.nn.conv2d: data_format='NCHW' is refused on CPU. Rule: TensorFlow's CPU kernels only support the "
        "channels-last format NHWC. Fix: data_format='NHWC' with the input transposed to NHWC."
    )


def test_refuses_negative_size_and_bad_padding():
    assert refusal("tf.nn.conv2d(x, w, 1, 'VALID')", x=(1, 1, 5, 3), w=(3, 3, 3, 4)) == (
        "tf.nn.conv2d: input height 1 is too small. Rule: TF computes out = (1 + 0 + 0 - 3 + 1) / 1 truncated = -1, "
        "which must be >= 0 (0 gives an empty tensor). Fix: a larger input, padding='SAME', or a smaller kernel."
    )
    assert refusal("tf.nn.conv2d(x, w, 1, 'same')", x=(1, 5, 5, 3), w=(3, 3, 3, 4)) == (
        "tf.nn.conv2d: padding='same' is not allowed. Rule: TF accepts exactly 'SAME' or 'VALID' (upper case). "
        "Fix: padding='SAME'."
    )


def test_refuses_mismatched_channels_and_stride_with_dilation():
    assert "input depth 5 is not divisible by the filter's in-channels 3" in refusal(
        "tf.nn.conv2d(x, w, 1, 'SAME')", x=(1, 5, 5, 5), w=(3, 3, 3, 4)
    )
    assert "does not support strides > 1 together with dilation > 1" in refusal(
        "tf.nn.convolution(x, w, 2, 'SAME', dilations=2)", x=(1, 9, 9, 3), w=(3, 3, 3, 4)
    )


def test_bare_names_do_not_clash():
    assert "tf.nn.max_pool" in tf_nn.CALLS and "max_pool" not in tf_nn.CALLS
    assert "conv2d" in tf_nn.CALLS


def test_conv2d_transpose_takes_spatial_output_shape():
    shapes = {"x": (2, 5, 5, 3), "w": (3, 3, 4, 3)}
    assert convarith.output_shape("tf.nn.conv2d_transpose(x, w, [10, 9], 2, 'SAME')", shapes=shapes) == (2, 10, 9, 4)


def test_conv1d_transpose_with_one_output_size_is_read_as_2d_sizes():
    with pytest.raises(convarith.ConvArithError) as info:
        convarith.output_shape("tf.nn.conv1d_transpose(x, w, [10], 2, 'SAME')", shapes={"x": (1, 5, 3), "w": (3, 4, 3)})
    assert str(info.value) == (
        "tf.nn.conv1d_transpose: output_shape=[10] has 1 value. Rule: conv1d_transpose inserts the height axis after "
        "the first entry, so [W] is read as the 2-D spatial sizes (height W, width 1), and only [1] gives a size TF "
        "accepts. Fix: the full output shape [N, W, C]."
    )


def test_depth_pooling_1d_counts_the_hidden_height_window():
    # measured: TF runs max_pool1d as a 2-D pool whose height window is ksize[0]; with a depth window that is
    # pooling across both depth and space, which TF refuses; a height *stride* alone is fine
    assert "exactly one of pooling across depth" in refusal(
        "tf.nn.max_pool1d(x, [2, 1, 2], [1, 1, 2], 'SAME')", x=(1, 1, 2)
    )
    assert shape("tf.nn.max_pool1d(x, [1, 1, 2], [2, 1, 2], 'SAME')", x=(1, 1, 2)) == (1, 1, 1)


def test_convolution_with_extra_batch_dims_reads_channels_first_strides_shifted():
    # measured: [1, *strides, 1] read in NCHW/NCDHW order, so the first stride is a channel stride
    x, w = (2, 1, 1, 5, 0), (1, 1, 1, 2)
    assert shape("tf.nn.convolution(x, w, [1, 2], 'SAME', data_format='NCHW')", x=x, w=w) == (2, 1, 2, 3, 0)
    assert shape("tf.nn.convolution(x, w, [1, 2], 'VALID', data_format='NCHW')", x=x, w=w[:2] + (1, 1)) == (
        2,
        1,
        1,
        3,
        0,
    )
    message = refusal(
        "tf.nn.convolution(x, w, 2, padding='VALID', data_format='NCDHW')", x=(2, 1, 1, 1, 1, 1), w=(1, 1, 2, 1, 2)
    )
    assert "reads as a channel stride of 2" in message and "Fix: a first stride of 1" in message
    assert shape("tf.nn.conv2d(x, w, [1, 1, 2, 1], 'VALID', data_format='NCHW')", x=x, w=w) == (2, 1, 2, 3, 0)


def test_transpose_size_hint_is_arithmetic():
    """issue 7: the hint scanned every output size up to (n + 1) * stride (never returned for stride 10**12)."""
    message = refusal("tf.nn.conv2d_transpose(x, w, [1, 9, 9, 4], 1000000000000)", x=(1, 5, 5, 3), w=(3, 3, 4, 3))
    assert message.endswith("Fix: an output height in 4000000000001..5000000000000.")
    sizes = [
        (padding, n, k, s, _tf_rules.transpose_sizes(padding, n, k, s))
        for padding in ("SAME", "VALID", (1, 2), (0, -2))
        for n in range(6)
        for k in range(1, 5)
        for s in range(1, 4)
    ]
    for padding, n, k, s, text in sizes:  # the range is exactly the outputs whose forward size is n
        good = [o for o in range(0, (n + 1) * s + k + 2) if _tf_rules.transposed_forward(padding, o, k, s) == n]
        assert text == (
            f"{good[0]}..{good[-1]}"
            if len(good) > 1
            else str(good[0])
            if good
            else "no size (none maps back to the input size)"
        )


def test_wrong_types_are_refused():
    # issue 7: a list as pooling_type was TypeError (unhashable)
    assert refusal("tf.nn.pool(x, [3], [])", x=(1, 5, 3)).startswith("tf.nn.pool: pooling_type=[] is not supported.")
    assert refusal("tf.nn.conv2d(x, w, [], 'SAME')", x=(1, 5, 5, 3), w=(3, 3, 3, 4)).startswith("tf.nn.conv2d:")
    assert refusal("tf.nn.conv2d(x, w, 1, ['SAME'])", x=(1, 5, 5, 3), w=(3, 3, 3, 4)).startswith("tf.nn.conv2d:")
