"""Keras 3 runner (TensorFlow backend): evaluates the layer call and applies it to zeros."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

NAMESPACE = {
    "keras": keras,
    "layers": keras.layers,
    "tf": tf,
    **{name: getattr(keras.layers, name) for name in dir(keras.layers) if name[:1].isupper()},
}


def run(request: dict) -> dict:
    if request.get("ping"):
        return {"version": keras.__version__, "backend": keras.backend.backend(), "tensorflow": tf.__version__}
    if request.get("activation_names"):
        from keras.src.activations import ALL_OBJECTS_DICT

        return {"names": sorted(ALL_OBJECTS_DICT)}
    layer = eval(request["expr"], dict(NAMESPACE))  # test oracle: runs the real framework call
    arrays = request.get("arrays") or {}
    x = arrays.get("input")
    x = np.asarray(x, dtype=np.float32) if x is not None else np.zeros(tuple(request["input_shape"]), np.float32)
    if request.get("weights") is not None:
        layer.build(x.shape)
        layer.set_weights([np.asarray(w) for w in request["weights"]])
    out = layer(x)
    answer = {"shape": tuple(int(d) for d in out.shape)}
    if request.get("values"):
        answer["values"] = np.asarray(out)
    return answer
