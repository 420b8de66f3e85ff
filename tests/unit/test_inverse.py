"""inverse in every framework: the counterpart maps the layer's output shape back, and its round-trip
sizes equal a brute force over the sizes (each size asked of output_shape, the inverse's references and
output_size following the input as they do when the model runs)."""

import pytest

import convarith
from convarith.inverses import Layer

X4 = {"x": (1, 3, 33, 32), "w": (8, 3, 3, 3)}
CASES = [  # (layer, input_shape, shapes, the inverse's call starts with)
    ("nn.Conv2d(3, 8, 3, stride=2, padding=1)", (1, 3, 32, 32), None, "nn.ConvTranspose2d(8, 3, 3,"),
    ("nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1)", (1, 8, 16, 16), None, "nn.Conv2d(3, 8, 4,"),
    ("F.conv2d(x, w, stride=2, padding=1)", None, X4, "F.conv_transpose2d(y, w,"),
    ("F.conv_transpose1d(x, w, stride=2, padding=1, output_padding=1)", None, {"x": (1, 8, 16), "w": (8, 3, 3)},
     "F.conv1d(y, w,"),
    ("nn.MaxPool2d(2)", (1, 3, 10, 11), None, "nn.MaxUnpool2d(2,"),
    ("nn.MaxPool1d(3, stride=2, padding=1)", (1, 3, 12), None, "nn.MaxUnpool1d(3,"),
    ("F.max_pool2d(x, 2)", None, {"x": (1, 3, 10, 12)}, "F.max_unpool2d(y, indices, 2,"),
    ("nn.AvgPool2d(2)", (1, 3, 10, 10), None, "nn.Upsample(scale_factor=2)"),
    ("nn.AvgPool2d(3, stride=2, padding=1)", (1, 3, 11, 10), None, "nn.ConvTranspose2d(3, 3, 3,"),
    ("nn.MaxUnpool2d(2)", (1, 3, 5, 5), None, "nn.MaxPool2d(2,"),
    ("nn.Upsample(scale_factor=2)", (1, 3, 5, 7), None, "nn.AvgPool2d(2)"),
    ("nn.Upsample(scale_factor=(2, 3), mode='bilinear')", (1, 3, 5, 7), None, "nn.AvgPool2d((2, 3))"),
    ("F.interpolate(x, scale_factor=2, mode='nearest')", None, {"x": (1, 3, 5)}, "F.avg_pool1d(y, 2)"),
    ("nn.PixelShuffle(2)", (1, 8, 5, 7), None, "nn.PixelUnshuffle(2)"),
    ("nn.PixelUnshuffle(2)", (1, 2, 10, 14), None, "nn.PixelShuffle(2)"),
    ("F.pixel_shuffle(x, 3)", None, {"x": (1, 9, 5, 7)}, "F.pixel_unshuffle(y, 3)"),
    ("nn.ReflectionPad2d((1, 2, 0, 1))", (1, 3, 8, 8), None, "nn.ZeroPad2d((-1, -2, 0, -1))"),
    ("nn.ZeroPad2d(-1)", (1, 3, 8, 8), None, "nn.ZeroPad2d(1)"),
    ("F.pad(x, (1, 2))", None, {"x": (1, 3, 8)}, "F.pad(y, (-1, -2))"),
    ("keras.layers.Conv2D(8, 3, strides=2, padding='same')", (1, 32, 32, 3), None, "keras.layers.Conv2DTranspose(3,"),
    ("keras.layers.MaxPooling2D(2)", (1, 32, 32, 3), None, "keras.layers.UpSampling2D(size=2)"),
    ("keras.layers.MaxPooling2D(2)", (1, 33, 32, 3), None, "keras.layers.Conv2DTranspose(3, 2,"),
    ("keras.layers.AveragePooling1D(3, strides=2, padding='same')", (1, 33, 3), None, "keras.layers.Conv1DTranspose("),
    ("keras.layers.UpSampling2D(2)", (1, 5, 7, 3), None, "keras.layers.AveragePooling2D(2)"),
    ("keras.layers.ZeroPadding2D(((1, 2), (0, 1)))", (1, 8, 8, 3), None, "keras.layers.Cropping2D(((1, 2), (0, 1)))"),
    ("keras.layers.Cropping1D((1, 2))", (1, 8, 3), None, "keras.layers.ZeroPadding1D((1, 2))"),
    ("keras.layers.DepthwiseConv2D(3, strides=2)", (1, 9, 9, 3), None, "keras.layers.Conv2DTranspose(3, 3,"),
    ("tf.nn.conv2d(x, w, strides=2, padding='SAME')", None, {"x": (1, 33, 32, 3), "w": (3, 3, 3, 8)},
     "tf.nn.conv2d_transpose(y, w, output_shape=tf.shape(x),"),
    ("tf.nn.conv1d(x, w, stride=2, padding='VALID')", None, {"x": (1, 33, 3), "w": (3, 3, 8)},
     "tf.nn.conv1d_transpose(y, w, output_shape=tf.shape(x),"),
    ("tf.nn.conv3d(x, w, strides=[1, 2, 1, 2, 1], padding='SAME')", None,
     {"x": (1, 5, 6, 7, 2), "w": (3, 3, 3, 2, 4)}, "tf.nn.conv3d_transpose("),
    ("tf.nn.conv2d_transpose(x, w, output_shape=[1, 33, 32, 3], strides=2, padding='SAME')", None,
     {"x": (1, 17, 16, 8), "w": (3, 3, 3, 8)}, "tf.nn.conv2d(y, w, strides=2, padding='SAME'"),
    ("tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], 'SAME')", None, {"x": (1, 9, 9, 3), "w": (3, 3, 3, 2)},
     "tf.nn.conv2d_transpose(y, w_t,"),
    ("tf.nn.max_pool2d(x, 3, 2, 'VALID')", None, {"x": (1, 9, 10, 3)}, "tf.nn.conv2d_transpose(y, w_t,"),
    ("tf.nn.avg_pool1d(x, 2, 2, 'SAME')", None, {"x": (1, 9, 3)}, "tf.nn.conv1d_transpose(y, w_t,"),
    ("tf.nn.space_to_depth(x, 2)", None, {"x": (1, 8, 6, 3)}, "tf.nn.depth_to_space(y, 2)"),
    ("tf.nn.depth_to_space(x, 2)", None, {"x": (1, 4, 3, 12)}, "tf.nn.space_to_depth(y, 2)"),
    ("lax.conv_general_dilated(x, w, (2, 2), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))", None,
     {"x": (1, 33, 32, 3), "w": (3, 3, 3, 8)}, "lax.conv_transpose(y, w, (2, 2),"),
    ("lax.conv(x, w, (2, 2), ((1, 1), (0, 2)))", None, X4, "lax.conv_transpose(y, w, (2, 2),"),
    ("lax.conv_general_dilated(x, w, (3,), 'VALID', rhs_dilation=(2,))", None, {"x": (1, 3, 40), "w": (8, 3, 3)},
     "lax.conv_transpose(y, w, (3,),"),
    ("lax.conv_transpose(x, w, (2, 2), 'SAME', dimension_numbers=('NCHW', 'OIHW', 'NCHW'))", None,
     {"x": (1, 8, 16, 16), "w": (3, 8, 3, 3)}, "lax.conv_general_dilated(y, w, (2, 2), 'SAME'"),
    ("lax.conv_transpose(x, w, (2,), 'VALID', dimension_numbers=('NCH', 'OIH', 'NCH'), transpose_kernel=True)", None,
     {"x": (1, 8, 16), "w": (8, 3, 4)}, "lax.conv_general_dilated(y, w, (2,), 'VALID'"),
    ("make_node('Conv', ['X', 'W'], ['Y'], strides=[2, 2], pads=[1, 1, 1, 1])", None,
     {"X": (1, 3, 33, 32), "W": (8, 3, 3, 3)}, "make_node('ConvTranspose', ['Y', 'W'], ['X'],"),
    ("make_node('Conv', ['X', 'W'], ['Y'], strides=[2, 2], auto_pad='SAME_UPPER')", None,
     {"X": (1, 3, 32, 32), "W": (8, 3, 3, 3)}, "make_node('ConvTranspose', ['Y', 'W'], ['X'], strides=[2, 2], auto_pad"),
    ("make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])", None,
     {"X": (1, 8, 16, 16), "W": (8, 3, 3, 3)}, "make_node('Conv', ['Y', 'W'], ['X'],"),
    ("make_node('MaxPool', ['X'], ['Y'], kernel_shape=[2, 2], strides=[2, 2])", None, {"X": (1, 3, 9, 8)},
     "make_node('MaxUnpool', ['Y', 'I', 'output_shape'], ['X'],"),
    ("make_node('MaxPool', ['X'], ['Y'], kernel_shape=[3], strides=[2], pads=[1, 1])", None, {"X": (1, 3, 9)},
     "make_node('MaxUnpool', ['Y', 'I'], ['X'],"),
    ("make_node('MaxPool', ['X'], ['Y'], kernel_shape=[2], dilations=[2])", None, {"X": (1, 3, 9)},
     "make_node('ConvTranspose', ['Y', 'W_up'], ['X'],"),
    ("make_node('AveragePool', ['X'], ['Y'], kernel_shape=[3], strides=[2], pads=[1, 1])", None, {"X": (1, 3, 9)},
     "make_node('ConvTranspose', ['Y', 'W_up'], ['X'],"),
    ("make_node('SpaceToDepth', ['X'], ['Y'], blocksize=2)", None, {"X": (1, 3, 8, 6)}, "make_node('DepthToSpace',"),
    ("make_node('DepthToSpace', ['X'], ['Y'], blocksize=2, mode='CRD')", None, {"X": (1, 12, 4, 3)},
     "make_node('SpaceToDepth',"),
    ("make_node('Pad', ['X', 'pads'], ['Y'], pads=[0, 0, 1, 2, 0, 0, 3, 0])", None, {"X": (1, 3, 8, 6)},
     "make_node('Pad', ['Y', 'pads'], ['X'], pads=[0, 0, -1, -2, 0, 0, -3, 0])"),
    ("make_node('Resize', ['X', '', 'scales'], ['Y'], scales=[1, 1, 2, 2])", None, {"X": (1, 3, 8, 6)},
     "make_node('AveragePool', ['Y'], ['X'], kernel_shape=[2, 2], strides=[2, 2])"),
]  # fmt: skip


def inverse_output(back, layer_out, given, shapes, tensor, spatial):
    """The inverse's output shape on the layer's output for input ``given`` (its reference and
    output_size set from ``given``), or None when refused."""
    size = tuple(given[a] for a in spatial) if back.output_size is not None else None
    try:
        if back.shapes is None:
            return convarith.output_shape(back.expr, layer_out, output_size=size)
        named = dict(back.shapes)
        named[next(iter(named))] = layer_out
        named.update(dict.fromkeys(back.paired, layer_out))
        if tensor in named and shapes is not None:
            named[tensor] = given  # tf.shape(x): the reference follows the input
        return convarith.output_shape(back.expr, shapes=named, output_size=size)
    except convarith.ConvArithError:
        return None


@pytest.mark.parametrize(("expr", "input_shape", "shapes", "starts"), CASES)
def test_inverse_maps_the_output_back_and_its_sizes_by_brute_force(expr, input_shape, shapes, starts):
    back = convarith.inverse(expr, input_shape, shapes=shapes)
    assert back.expr.startswith(starts), back.expr
    tensor = None if shapes is None else next(iter(shapes))
    given = input_shape if shapes is None else shapes[tensor]
    out = convarith.output_shape(expr, input_shape, shapes=shapes)
    assert back.input_shape == out and back.output_shape == given
    assert back.explain().output_shape == given
    spatial = Layer(expr, input_shape, shapes).spatial  # the axes; their sizes are brute-forced below
    assert len(spatial) == len(back.sizes)
    for axis, sizes in zip(spatial, back.sizes):
        brute = []
        for n in range(1, 120):
            shape = tuple(n if a == axis else v for a, v in enumerate(given))
            try:
                layer_out = convarith.output_shape(expr, shape, shapes=None) if shapes is None else \
                    convarith.output_shape(expr, shapes={**shapes, tensor: shape})  # fmt: skip
            except convarith.ConvArithError:
                continue
            if inverse_output(back, layer_out, shape, shapes, tensor, spatial) == shape:
                brute.append(n)
        assert [n for n in sizes if n < 120] == brute, (axis, back.rules)
