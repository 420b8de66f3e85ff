"""convarith.trace on model objects: a Keras model object is read through its to_json() text
(recognised by its class's module, so Keras is not imported); anything else is refused."""

import gzip
import json
from pathlib import Path

import pytest

from convarith import ConvArithError
from convarith.tracing import is_keras_object, trace

ROOT = Path(__file__).parents[2]
APPS = json.loads(gzip.decompress((ROOT / "tests/fixtures/keras_apps.json.gz").read_bytes()))


def keras_like(text, module="keras.src.models.functional"):
    """An object whose class lives in a Keras module and serialises to ``text``."""
    cls = type("Functional", (), {"__module__": module, "to_json": lambda self: text})
    return cls()


def test_a_keras_object_is_traced_as_its_json():
    text = APPS["MobileNetV2"]["json"]
    by_object = trace(keras_like(text), (1, 97, 130, 3))
    by_text = trace(text, (1, 97, 130, 3))
    assert [(layer.name, layer.output_shape) for layer in by_object.layers] == [
        (layer.name, layer.output_shape) for layer in by_text.layers
    ]
    assert by_object.params == APPS["MobileNetV2"]["total_params"]


def test_only_a_keras_class_is_asked_for_its_json():
    assert is_keras_object(keras_like("{}")) and is_keras_object(keras_like("{}", "tf_keras.models"))
    assert not is_keras_object(keras_like("{}", "mylib.models"))
    with pytest.raises(ConvArithError, match="is not a model convarith reads"):
        trace(keras_like(APPS["MobileNetV2"]["json"], "mylib.models"), (1, 32, 32, 3))


def test_a_subclassed_keras_model_is_refused():
    text = json.dumps({"class_name": "MyModel", "config": {}})
    with pytest.raises(ConvArithError, match=r"^Keras model: .*keras.Model\(inputs, outputs\)"):
        trace(keras_like(text), (1, 32, 32, 3))
