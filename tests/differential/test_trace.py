"""convarith.trace against Keras itself: models built in the Keras worker, serialised with
model.to_json(), traced without Keras, and compared layer by layer with Keras's own shapes and
count_params(); receptive fields against the gradient of one output with all-ones weights."""

import pytest

from convarith import ConvArithError, output_shape
from convarith.tracing import trace

pytestmark = pytest.mark.differential

SEQUENTIAL = """
model = keras.Sequential([
    keras.Input((None, None, 3)),
    layers.ZeroPadding2D(((1, 2), (0, 1))), layers.Conv2D(8, 3, strides=2, use_bias=False),
    layers.BatchNormalization(), layers.ReLU(), layers.MaxPooling2D(3, strides=2, padding="same"),
    layers.SeparableConv2D(12, 3, padding="same", depth_multiplier=2), layers.Cropping2D(((1, 0), (0, 1))),
    layers.DepthwiseConv2D(3, dilation_rate=2), layers.AveragePooling2D(2), layers.Conv2DTranspose(4, 3, strides=2),
    layers.Dropout(0.1), layers.GlobalAveragePooling2D(keepdims=True), layers.Reshape((4,)), layers.Dense(5),
    layers.Softmax(),
])
"""
FUNCTIONAL = """
x = keras.Input((None, None, 2))
a = layers.Conv2D(6, 3, padding="same", name="a")(x)
b = layers.Conv2D(6, 5, padding="same", name="b")(x)
s = layers.Add(name="s")([a, b])
g = layers.GlobalMaxPooling2D(keepdims=True, name="g")(s)
m = layers.Multiply(name="m")([s, g])
p = layers.MaxPooling2D(2, name="p")(m)
u = UPSAMPLE
c = layers.Concatenate(name="c")([layers.Cropping2D(((0, 0), (0, 0)), name="k")(u), u])
y = layers.LayerNormalization(name="n")(layers.Conv2D(3, 1, name="o")(c))
model = keras.Model(x, layers.Flatten(name="f")(y))
"""


def knows_upsampling() -> bool:
    """UpSampling2D comes with issue 8's resize layers (until they are merged: a transposed conv)."""
    try:
        output_shape("keras.layers.UpSampling2D(2)", (1, 2, 2, 1))
    except ConvArithError:
        return False
    return True


FUNCTIONAL = FUNCTIONAL.replace(
    "UPSAMPLE",
    'layers.UpSampling2D(2, name="u")(p)'
    if knows_upsampling()
    else 'layers.Conv2DTranspose(6, 2, strides=2, name="u")(p)',
)
NESTED = """
inner = keras.Sequential([layers.Conv2D(4, 3, strides=2, padding="same"), layers.BatchNormalization()], name="inner")
x = keras.Input((None, None, 3))
block_in = keras.Input((None, None, 4))
block = keras.Model(block_in, layers.Add()([block_in, layers.Conv2D(4, 1)(block_in)]), name="block")
model = keras.Model(x, layers.MaxPooling2D(2)(block(inner(x))))
"""
SIZES = ((1, 64, 64, 3), (2, 67, 95, 3), (1, 121, 40, 3), (1, 33, 47, 3))


@pytest.mark.parametrize("code", [SEQUENTIAL, FUNCTIONAL, NESTED], ids=["sequential", "functional", "nested"])
def test_small_models_match_keras(oracle, code):
    keras = oracle("keras")
    built = keras.run({"model_code": code})
    assert "error" not in built, built
    checked = 0
    for size in SIZES:
        size = (*size[:3], 2 if code is FUNCTIONAL else 3)
        want = keras.run({"model_json": built["json"], "input_shape": size})
        if "error" in want:  # Keras refuses the size: so does the trace, naming a layer
            with pytest.raises(ConvArithError, match="^Layer '"):
                trace(built["json"], size)
            continue
        want = want["shapes"]
        traced = trace(built["json"], size)
        for layer in traced.layers:
            if layer.name in want:
                assert tuple(layer.output_shape) == tuple(want[layer.name]), (layer.name, size)
                assert layer.params == built["params"][layer.name], layer.name
                checked += 1
        assert set(want) <= {layer.name for layer in traced.layers}
    assert checked >= 2 * (3 if code is NESTED else 9)


RF_MODEL = """
model = keras.Sequential([
    keras.Input((None, None, 1)),
    layers.Conv2D(2, 3, strides=2, padding="same"), layers.AveragePooling2D(3, strides=2, padding="same"),
    layers.ZeroPadding2D(((2, 0), (1, 1))), layers.Conv2D(2, (5, 3), strides=(1, 2)), layers.Cropping2D(((1, 0), (0, 0))),
    layers.DepthwiseConv2D(3, padding="same"),
])
"""


@pytest.mark.parametrize("index", [(0, 0), (2, 1), (3, 2)])
def test_receptive_field_is_the_gradient_support(oracle, index):
    """The input cells with a nonzero gradient of one output (all weights 1, biases 0, linear layers,
    average pooling) are exactly the window i*jump - padding .. + receptive_field - 1 clipped to the input."""
    keras = oracle("keras")
    built = keras.run({"model_code": RF_MODEL})
    shape = (1, 45, 38, 1)
    answer = keras.run({"model_json": built["json"], "input_shape": shape, "gradient": index})
    assert "error" not in answer, answer
    last = trace(built["json"], shape).layers[-1]
    windows = []
    for axis, i in enumerate(index):
        start = i * last.effective_stride[axis] - last.effective_padding[axis]
        cells = range(max(start, 0), min(start + last.receptive_field[axis], shape[axis + 1]))
        windows.append(set(cells))
    got = {tuple(cell) for cell in answer["nonzero"]}
    assert got == {(r, c) for r in windows[0] for c in windows[1]}


DILATED = """
model = keras.Sequential([
    keras.Input((None, None, 1)),
    layers.Conv2D(1, 3, dilation_rate=(2, 3), padding="same"), layers.AveragePooling2D(2), layers.Conv2D(1, 3, strides=2),
])
"""


@pytest.mark.parametrize("index", [(0, 0), (3, 2)])
def test_dilated_receptive_field_spans_the_gradient_support(oracle, index):
    """With dilation the window has holes: the gradient support spans exactly the window (clipped)."""
    keras = oracle("keras")
    built = keras.run({"model_code": DILATED})
    shape = (1, 41, 37, 1)
    answer = keras.run({"model_json": built["json"], "input_shape": shape, "gradient": index})
    last = trace(built["json"], shape).layers[-1]
    for axis, i in enumerate(index):
        start = i * last.effective_stride[axis] - last.effective_padding[axis]
        cells = [cell[axis] for cell in answer["nonzero"]]
        assert (min(cells), max(cells)) == (max(start, 0), min(start + last.receptive_field[axis], shape[axis + 1]) - 1)


TRANSPOSED = """
model = keras.Sequential([
    keras.Input((None, None, 1)), layers.Conv2D(1, 3, strides=2), layers.Conv2D(1, 3, padding="same"),
    layers.Conv2DTranspose(1, 3, strides=2, padding="same"), layers.Conv2DTranspose(1, 4, strides=2),
    layers.Conv2D(1, 3, strides=3),
])
"""


@pytest.mark.parametrize("upto", [4, 5])
def test_receptive_field_below_transposed_layers_is_the_largest_gradient_support(oracle, upto):
    """Below two stride-2 transposed layers the windows move every few outputs: the field is the largest
    gradient support over output positions (9, and 11 after a stride-3 conv; the closed form would say 10, 12)."""
    import json

    keras = oracle("keras")
    config = json.loads(keras.run({"model_code": TRANSPOSED})["json"])
    config["config"]["layers"] = config["config"]["layers"][: upto + 1]
    text, shape = json.dumps(config), (1, 61, 61, 1)
    last = trace(text, shape).layers[-1]
    spans = []
    for i in range(20, 28):  # two periods of four outputs
        rows = [
            cell[0] for cell in keras.run({"model_json": text, "input_shape": shape, "gradient": (i, 0)})["nonzero"]
        ]
        spans.append(max(rows) - min(rows) + 1)
    assert max(spans) == last.receptive_field[0] == (9 if upto == 4 else 11)


UNET = """
C = lambda f, k=3: layers.Conv2D(f, k, padding="same")
x = keras.Input((None, None, 1))
e1 = C(2)(C(2)(x))
e2 = C(2)(C(2)(layers.AveragePooling2D(2)(e1)))
m = C(2)(C(2)(layers.AveragePooling2D(2)(e2)))
d2 = C(2)(layers.Concatenate()([layers.Conv2DTranspose(2, 2, strides=2)(m), e2]))
d1 = C(2)(layers.Concatenate()([layers.Conv2DTranspose(2, 2, strides=2)(d2), e1]))
model = keras.Model(x, C(1, 1)(d1))
"""


def test_unet_receptive_field_is_the_largest_gradient_support(oracle):
    """examples/unet.yaml's structure (average pooling: a max pool's gradient picks one cell of a tie): every
    output's support starts where our windows say and the largest is our receptive field (40, not the
    closed form's 38)."""
    keras = oracle("keras")
    text, shape = keras.run({"model_code": UNET})["json"], (1, 96, 96, 1)
    last = trace(text, shape).layers[-1]
    spans = []
    for i in (40, 41, 42, 43):
        rows = [
            cell[0] for cell in keras.run({"model_json": text, "input_shape": shape, "gradient": (i, 0)})["nonzero"]
        ]
        spans.append((min(rows), max(rows) - min(rows) + 1))
    assert spans[0][0] == 40 - last.effective_padding[0] == 22
    assert max(size for _, size in spans) == last.receptive_field[0] == 40
