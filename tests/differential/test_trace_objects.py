"""convarith.trace on a live Keras model object (keras in-process), against the shapes Keras
itself gives every layer's output."""

import pytest

from convarith.tracing import trace

pytestmark = pytest.mark.differential


@pytest.mark.parametrize("size", [(1, 37, 50, 3), (2, 64, 31, 3)])
def test_a_keras_model_object_matches_keras(size):
    keras = pytest.importorskip("keras")
    layers = keras.layers
    x = keras.Input(size[1:], batch_size=size[0])
    a = layers.Conv2D(8, 3, strides=2, padding="same", name="a")(x)
    b = layers.MaxPooling2D(3, strides=2, padding="same", name="b")(layers.Conv2D(8, 1, name="p")(x))
    s = layers.Add(name="s")([a, b])
    t = layers.Conv2DTranspose(4, 3, strides=2, name="t")(layers.BatchNormalization(name="n")(s))
    model = keras.Model(x, layers.Dense(3, name="d")(layers.GlobalAveragePooling2D(name="g")(t)))
    traced = trace(model, size)
    want = {layer.name: tuple(layer.output.shape) for layer in model.layers}
    assert {layer.name: layer.output_shape for layer in traced.layers} == want
    assert traced.params == model.count_params()
