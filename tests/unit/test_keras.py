"""Keras mapping: hand-checked shapes, spellings, and the exact refusal texts."""

import pytest

import convarith
from convarith.api import map_call
from convarith.frameworks import keras

SEED_INPUT = (1, 96, 128, 3)


@pytest.mark.parametrize(
    ("strides", "padding", "height", "width"),
    [(1, "valid", 98, 130), (2, "valid", 193, 257), (1, "same", 96, 128), (2, "same", 192, 256), (3, "same", 288, 384)],
)
def test_seed_conv2d_transpose(strides, padding, height, width):
    expr = f"Conv2DTranspose(filters=3, kernel_size=3, strides={strides}, padding={padding!r})"
    assert convarith.output_shape(expr, SEED_INPUT) == (1, height, width, 3)


def test_all_prefixes_and_aliases_registered():
    for name in ("Conv2D", "Convolution2D", "Conv2DTranspose", "Convolution3DTranspose", "DepthwiseConv1D",
                 "SeparableConvolution2D", "MaxPool3D", "AvgPool1D", "AveragePooling2D"):  # fmt: skip
        for prefix in ("", "layers.", "keras.layers.", "tf.keras.layers."):
            assert prefix + name in keras.CALLS


def test_same_transposed_pads_like_tf_with_the_odd_cell_at_the_end():
    mapped = map_call("Conv2DTranspose(3, 3, strides=2, padding='same')", SEED_INPUT)
    op = mapped.ops[0]
    assert (op.kind, op.pad_lo, op.pad_hi, op.output_padding) == ("conv_transpose", (0, 0), (1, 1), (0, 0))
    assert mapped.notes[0] == "height: Keras 'same' transposed: out = n*s = 96*2 = 192"


def test_valid_transposed_with_stride_above_kernel_gives_n_times_s():
    mapped = map_call("Conv1DTranspose(2, 2, strides=3)", (1, 4, 1))
    assert mapped.output_shape == (1, 12, 2)
    assert mapped.notes == (
        "length: Keras 'valid' with stride 3 > kernel 2: out = n*s = 4*3 = 12; 1 extra cell(s) at the end",
    )


def test_conv3d_transpose_takes_data_format_before_output_padding():
    assert convarith.output_shape("Conv3DTranspose(2, 3, 2, 'valid', None, 1)", (1, 4, 4, 4, 1)) == (1, 10, 10, 10, 2)


def test_depthwise_and_separable_channels():
    depthwise = map_call("DepthwiseConv2D(3, depth_multiplier=2)", (1, 9, 9, 3))
    assert depthwise.output_shape == (1, 7, 7, 6) and depthwise.ops[0].groups == 3
    separable = map_call("SeparableConv2D(4, 3, depth_multiplier=2, data_format='channels_first')", (1, 3, 9, 9))
    assert separable.output_shape == (1, 4, 7, 7)
    assert [op.kernel for op in separable.ops] == [(3, 3), (1, 1)]


def test_pooling_same_valid_and_empty():
    assert convarith.output_shape("MaxPooling2D()", (1, 7, 7, 3)) == (1, 3, 3, 3)
    assert convarith.output_shape("layers.AvgPool2D(3, strides=2, padding='same')", (1, 7, 7, 3)) == (1, 4, 4, 3)
    assert convarith.output_shape("MaxPooling2D(4, strides=3)", (1, 2, 9, 3)) == (1, 0, 2, 3)


def test_causal_conv1d_pads_before_only():
    mapped = map_call("Conv1D(4, 3, padding='causal', dilation_rate=2)", (1, 10, 3))
    assert mapped.output_shape == (1, 10, 4)
    assert (mapped.ops[0].pad_lo, mapped.ops[0].pad_hi) == ((4,), (0,))


def test_ignored_arguments_are_accepted():
    expr = "keras.layers.Conv2D(8, 3, activation='relu', use_bias=False, kernel_initializer=keras.initializers.Zeros, name='c', dtype='float32')"
    assert convarith.output_shape(expr, (2, 9, 9, 3)) == (2, 7, 7, 8)


REFUSALS = [
    (
        "Conv2D(8, 3, padding='causal')",
        (1, 9, 9, 3),
        "Conv2D: padding='causal' is not supported here. Rule: Keras accepts 'causal' only in Conv1D. "
        "Fix: use Conv1D, or padding='valid' after ZeroPadding1D((d*(k-1), 0)).",
    ),
    (
        "Conv2D(8, 3, strides=2, dilation_rate=2)",
        (1, 9, 9, 3),
        "Conv2D: strides=(2, 2) together with dilation_rate=(2, 2) is refused. Rule: Keras supports strides > 1 or "
        "dilation_rate > 1, not both. Fix: strides=1, or dilation_rate=1.",
    ),
    (
        "Conv2D(6, 3, groups=4)",
        (1, 9, 9, 4),
        "Conv2D: filters=6 is not divisible by groups=4. Rule: each group makes filters/groups output channels. "
        "Fix: filters a multiple of 4, or groups dividing 6.",
    ),
    (
        "Conv2D(6, 3, groups=2)",
        (1, 9, 9, 3),
        "Conv2D: the input has 3 channels, not divisible by groups=2. Rule: each group sees channels/groups input "
        "channels. Fix: groups dividing 3.",
    ),
    (
        "Conv2DTranspose(3, 3, strides=2, output_padding=2)",
        (1, 4, 4, 3),
        "Conv2DTranspose: output_padding=(2, 2) is too large on the height axis. Rule: Keras needs output_padding < "
        "strides (2 >= 2). Fix: output_padding <= 1, or None to let Keras choose.",
    ),
    (
        "Conv2D(8, 0)",
        (1, 9, 9, 3),
        "Conv2D: kernel_size=0 must be > 0 on every axis. Rule: Keras refuses zero or negative kernel_size. "
        "Fix: kernel_size=1 or larger.",
    ),
    (
        "Conv2D(8, 3)",
        (9, 9, 3),
        "Conv2D: expected a 4D input (NHWC, batch included), got shape (9, 9, 3). Rule: Conv2D convolves 2 spatial "
        "axes of a batched input in data_format='channels_last'. Fix: add the batch axis, e.g. (1, ...), or pick the "
        "layer of matching rank.",
    ),
    (
        "Conv2D(8, 3, data_format='channels_first')",
        (1, 3, 9, 9),
        "Conv2D: data_format='channels_first' fails on CPU. Rule: TensorFlow's Conv2D kernel supports only NHWC on "
        "the CPU (Keras compiles grouped and 3D convolutions with XLA, which accepts channels_first, but not this "
        "one). Fix: data_format='channels_last' with the input transposed to (N, spatial..., C), or run on a GPU.",
    ),
    (
        "Conv2DTranspose(3, 4, strides=2, padding='same', output_padding=0)",
        (1, 5, 5, 3),
        "Conv2DTranspose: TensorFlow refuses the height output size 8. Rule: Keras 'same' with output_padding: "
        "out = (n-1)*s + k - 2*(k//2) + output_padding = (5-1)*2 + 4 - 4 + 0 = 8, but a forward conv of 8 with "
        "padding='same' gives 4, not the input's 5. Fix: output_padding=1, or an odd kernel_size.",
    ),
    (
        "Conv1DTranspose(3, 3, dilation_rate=2)",
        (1, 5, 3),
        "Conv1DTranspose: dilation_rate=(2,) fails on CPU. Rule: TensorFlow's CPU transposed convolution does not "
        "support dilation rates larger than 1. Fix: dilation_rate=1, or run on a GPU.",
    ),
    (
        "Conv2D(8, 5)",
        (1, 3, 9, 3),
        "Conv2D: input height 3 is too small for kernel_size 5 with padding='valid'. Rule: out = "
        "floor((3 + 0 + 0 - 5) / 1) + 1 = -1, must be >= 1 (Keras refuses zero or negative sizes). "
        "Fix: padding='same', kernel_size <= 3, or a larger input.",
    ),
    (
        "MaxPooling1D(5, strides=1)",
        (1, 2, 3),
        "MaxPooling1D: pool_size 5 does not fit the input length 2 with padding='valid'. Rule: TensorFlow computes "
        "out = (2 - 5 + 1) / 1 = -2 (rounded toward zero) and refuses a negative size (0 gives an empty tensor). "
        "Fix: padding='same', pool_size <= 2, or a larger input.",
    ),
    (
        "Conv1D(2, 3, padding='causal')",
        (1, 0, 3),
        "Conv1D: input length 0 gives an empty output. Rule: 'causal' pads 2 before, then out = "
        "floor((0 + 2 + 0 - 3) / 1) + 1 = 0; Keras refuses an empty result from a non-empty input. "
        "Fix: an input of length >= 1.",
    ),
    (
        "DepthwiseConv2D(3, strides=(1, 2))",
        (1, 9, 9, 3),
        "DepthwiseConv2D: strides=(1, 2) differ between height and width. Rule: TensorFlow's depthwise conv kernel "
        "only supports equal strides in the row and column dimensions. Fix: strides=(2, 2) or (1, 1).",
    ),
    (
        "DepthwiseConv2D(3, depth_multiplier=0)",
        (1, 9, 9, 3),
        "DepthwiseConv2D: depth_multiplier=0 must be >= 1. Rule: Keras needs a strictly positive depth_multiplier "
        "(output channels per input channel). Fix: depth_multiplier=1.",
    ),
    (
        "MaxPooling2D(2, strides=0)",
        (1, 9, 9, 3),
        "MaxPooling2D: strides=0 contains 0. Rule: Keras accepts it but TensorFlow refuses (stride must be > 0). "
        "Fix: strides >= 1, or None for strides = pool_size.",
    ),
]


@pytest.mark.parametrize(("expr", "shape", "message"), REFUSALS)
def test_refusal_messages(expr, shape, message):
    with pytest.raises(convarith.ConvArithError) as info:
        convarith.output_shape(expr, shape)
    assert str(info.value) == message


def test_conv3d_transpose_crash_is_refused():
    with pytest.raises(convarith.ConvArithError) as info:
        convarith.output_shape("Conv3DTranspose(2, 2, strides=2, output_padding=(1, 0, 0))", (2, 0, 2, 2, 3))
    assert str(info.value) == (
        "Conv3DTranspose: TensorFlow crashes on this input: the process dies (SIGFPE or SIGSEGV) in the CPU "
        "Conv3DBackpropInputV2 kernel for an empty input depth axis whose non-empty output gets extra cells at the "
        "end. Rule: convarith refuses what kills the real framework. Fix: non-empty inputs with at least one channel."
    )
    assert convarith.output_shape("Conv2DTranspose(2, 2, strides=2, output_padding=1)", (2, 0, 2, 3)) == (2, 1, 5, 2)


def test_activation_must_be_an_activation():
    with pytest.raises(convarith.ConvArithError, match=r"activation=False is not an activation\. Rule: Keras takes"):
        convarith.output_shape("Conv1D(3, 4, 2, 'same', 'channels_last', 1, 1, False)", (2, 4, 3))


def test_activation_table_matches_the_reference_functions():
    from convarith.reference import activations

    assert set(keras.ACTIVATIONS) == set(activations.FUNCTIONS)
    assert set(keras.ACTIVATION_ALIASES.values()) <= set(keras.ACTIVATIONS)
    assert set(keras.ACTIVATION_FUNCTIONS.values()) <= set(keras.ACTIVATIONS)


def test_activation_is_data_on_the_mapping_and_named_by_explain():
    mapped = map_call("keras.layers.Conv1D(4, 3, activation='swish')", (1, 6, 2))
    assert mapped.activation == "silu"
    data = convarith.explain("keras.layers.Conv1D(4, 3, activation=tf.nn.relu)", (1, 6, 2)).to_dict()
    assert data["activation"] == "relu"
    assert "then activation relu" in str(convarith.explain("keras.layers.Conv1D(4, 3, activation='relu')", (1, 6, 2)))
    # glu halves the last axis (here the filters)
    assert convarith.output_shape("keras.layers.Conv1D(4, 3, activation='glu')", (1, 6, 2)) == (1, 4, 2)


@pytest.mark.parametrize(
    ("activation", "message"),
    [
        ("'ReLU'", "activation='ReLU' is not a Keras activation. Rule: keras.activations.get takes an exact"),
        ("'threshold'", "keras.activations.threshold needs threshold and default_value"),
        ("'glu'", "activation='glu' needs an even last output axis, got 3"),
    ],
)
def test_activation_refusals(activation, message):
    with pytest.raises(convarith.ConvArithError, match=message.replace("(", r"\(").replace(")", r"\)")):
        convarith.output_shape(f"keras.layers.Conv1D(3, 3, activation={activation})", (1, 6, 2))


def test_unidentified_activation_function_keeps_the_shape_but_forward_refuses():
    import numpy as np

    expr = "keras.layers.Conv1D(3, 3, activation=keras.ops.gelu)"  # keras.ops.gelu defaults to the tanh approximation
    assert convarith.output_shape(expr, (1, 6, 2)) == (1, 4, 3)
    with pytest.raises(convarith.ConvArithError, match="activation=keras.ops.gelu is a function convarith cannot"):
        convarith.forward(expr, np.zeros((1, 6, 2)), [np.zeros((3, 2, 3)), np.zeros(3)])
