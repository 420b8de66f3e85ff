"""Keras 3 runner (TensorFlow backend): evaluates the layer call and applies it to zeros."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from runners.generated import routed  # noqa: E402 - after the framework's own set-up

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


# --- names (issue 8): calls as keyword values, symbolic shapes with a None batch, keras.layers' aliases -------------

NAMESPACE.update({name: getattr(keras.regularizers, name) for name in ("l1", "l2", "L1", "L2", "L1L2")})
NAMESPACE["regularizers"], NAMESPACE["initializers"], NAMESPACE["constraints"] = (
    keras.regularizers,
    keras.initializers,
    keras.constraints,
)
run_concrete = run


def run_names(request: dict) -> dict:
    """Keras's own shape inference: the layer applied to keras.Input(batch_shape=input_shape), or
    (no input_shape) the output_shape of keras.Sequential([layer]), which builds the layer's input_shape=."""
    layer = eval(request["expr"], dict(NAMESPACE))  # test oracle: runs the real framework call
    if request.get("input_shape") is None:
        return {"shape": tuple(keras.Sequential([layer]).output_shape)}
    return {"shape": tuple(layer(keras.Input(batch_shape=tuple(request["input_shape"]))).shape)}


def exists(dotted: str) -> bool:
    """Whether a dotted name such as keras.layers.Dense or tf.nn.relu is in this framework's namespace."""
    head, *rest = dotted.split(".")
    value = NAMESPACE.get(head)
    for part in rest:
        value = getattr(value, part, None)
    return value is not None


def alias_groups() -> dict:
    """keras.layers' names grouped by the class they name (the groups of more than one)."""
    groups: dict = {}
    for name in dir(keras.layers):
        value = getattr(keras.layers, name)
        if isinstance(value, type):
            groups.setdefault(value.__name__, []).append(name)
    return {"groups": sorted(sorted(names) for names in groups.values() if len(names) > 1)}


def run(request: dict) -> dict:  # noqa: F811 - the names requests, then the concrete run
    if request.get("symbolic"):
        return run_names(request)
    if request.get("alias_groups"):
        return alias_groups()
    if request.get("exists"):
        return {"exists": [exists(name) for name in request["exists"]]}
    return run_concrete(request)


# --- model tracing (issue 11) ---------------------------------------------------------------------------------------


def model_layers(model, input_shape) -> dict:
    """Keras's own per-layer output shapes for an input of ``input_shape`` (symbolic inference on the
    model's graph, no data)."""
    outputs = [layer._inbound_nodes[-1].output_tensors[0] for layer in model.layers]  # a nested model: its outer call
    spec = keras.Model(model.inputs, outputs).compute_output_spec(keras.KerasTensor(tuple(input_shape)))
    return {layer.name: tuple(out.shape) for layer, out in zip(model.layers, spec)}


def free_size(model):
    """The model rebuilt from its JSON with a free input size, so that a size it was not built for meets
    its layers (a skip connection that does not line up) rather than the input's own size check."""
    import json

    config = json.loads(model.to_json())
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "InputLayer":
            shape = layer["config"]["batch_shape"]
            layer["config"]["batch_shape"] = [None] * (len(shape) - 1) + shape[-1:]
    try:
        return keras.models.model_from_json(json.dumps(config))
    except ValueError:  # a layer needs the size (Flatten into Dense): the model as built
        return model


def run_trace(request: dict) -> dict:
    """``application``: a keras.applications model (weights=None) built once with a free input size:
    its to_json() text, per-layer count_params(), and per-layer shapes at each of ``sizes``.
    ``model_json``: a model rebuilt from its JSON, its per-layer shapes on ``input_shape``.
    ``gradient``: the model of ``model_json`` with every weight 1 (biases 0): which input cells
    the output cell ``index`` (summed over channels) has a nonzero gradient for."""
    import tensorflow as tf

    keras.backend.clear_session()
    if "application" in request:
        build = getattr(keras.applications, request["application"])
        model = build(weights=None, **request.get("options", {}))
        answer = {"json": model.to_json(), "params": {layer.name: layer.count_params() for layer in model.layers}}
        answer["total_params"] = model.count_params()
        answer["shapes"] = {}
        free = free_size(model)
        for size in request["sizes"]:
            try:
                answer["shapes"][tuple(size)] = model_layers(free, size)
            except ValueError as error:  # Keras refuses this size (a skip connection that does not line up)
                answer["shapes"][tuple(size)] = {"error": " ".join(str(error).split())[:300]}
        return answer
    if "model_code" in request:  # test oracle: the model built by the test's Keras code
        scope = {"keras": keras, "layers": keras.layers}
        exec(request["model_code"], scope)
        return {
            "json": scope["model"].to_json(),
            "params": {lay.name: lay.count_params() for lay in scope["model"].layers},
        }
    model = keras.models.model_from_json(request["model_json"])
    if "gradient" not in request:
        return {"shapes": model_layers(model, request["input_shape"])}
    for weight in model.weights:
        weight.assign(np.zeros(weight.shape) if "bias" in weight.path else np.ones(weight.shape))
    x = tf.Variable(np.ones(request["input_shape"], np.float32))
    with tf.GradientTape() as tape:
        y = model(x)
        picked = tf.reduce_sum(y[(0, *request["gradient"])])
    grad = tape.gradient(picked, x).numpy()
    return {"nonzero": np.argwhere(np.abs(grad).sum(axis=(0, -1)) > 0).tolist()}


def run(request: dict, _before=run) -> dict:  # noqa: F811 - model tracing requests, then the others
    if "application" in request or "model_json" in request or "model_code" in request:
        return run_trace(request)
    return _before(request)


# --- translation (issue 12): a generated Keras body, or a Keras layer's source run lines ------------------------------


def run_translation(request: dict) -> dict:
    """Exec the lines convarith generated (test worker only): ``body`` with canonical ``x`` and
    ``params`` gives canonical ``y``; ``run`` with the layer's ``x`` and ``weights`` gives its output."""
    scope = {key: request[key] for key in ("x", "params", "weights") if key in request}
    exec("\n".join([*request["imports"], *request["lines"]]), scope)  # test worker: code convarith generated
    return {"values": np.asarray(scope["y"])}


def run(request: dict, _before=run) -> dict:  # noqa: F811 - translation requests, then the others
    if "translation" in request:
        return run_translation(request)
    return _before(request)


# --- translation (issue 12, core): code convarith generated (runners/generated.py) ---

run = routed(run)
# --- valid input sizes of traced models (issue 11) -----------------------------------------------------------------


def averaging(model) -> None:
    """Every kernel a positive weighting about an average over its fan-in (a depthwise kernel over its
    window; random, so channels differ and a LayerNormalization does not zero them), biases and shifts 0,
    batch norm the identity: positive inputs stay positive and of the same scale through deep models."""
    rng = np.random.default_rng(0)
    for weight in model.weights:
        shape, path = tuple(weight.shape), weight.path
        if path.endswith(("bias", "beta", "moving_mean")):
            value = np.zeros(shape)
        elif path.endswith(("gamma", "moving_variance")) or len(shape) < 2:
            value = np.ones(shape)
        elif path.endswith("depthwise_kernel"):
            value = rng.uniform(0.5, 1.5, shape) / np.prod(shape[:-2])
        else:
            value = rng.uniform(0.5, 1.5, shape) / np.prod(shape[:-1])
        weight.assign(value.astype(weight.dtype))


def run_rows(request: dict) -> dict:
    """``rows``: the model of ``model_json`` (``averaging`` weights) on a batch of copies of one positive
    draw of ``input_shape``, item i+1 with row i along ``axis`` raised by 100: per row, whether the output
    changes (by more than the noise between copies of item 0), and the output shape; or Keras's refusal of the size."""
    keras.backend.clear_session()
    model = free_size(keras.models.model_from_json(request["model_json"]))
    averaging(model)
    shape, axis = tuple(request["input_shape"]), request["axis"]
    n = shape[axis]
    x = np.repeat(np.random.default_rng(n).uniform(1, 2, (1, *shape[1:])).astype(np.float32), n + 3, axis=0)
    for row in range(n):  # items n+1 and n+2 stay copies of item 0: the noise of float32 batch items
        index = [slice(None)] * len(shape)
        index[0], index[axis] = row + 1, row
        x[tuple(index)] += 100
    try:
        y = np.asarray(model(x, training=False))
    except Exception as error:  # Keras refuses the size (a merge that does not line up)
        return {"error": " ".join(str(error).split())[:300]}
    flat = y.reshape(n + 3, -1).astype(np.float64)
    changes = [float(np.abs(flat[item] - flat[0]).max()) for item in range(1, n + 3)]
    tolerance = 10 * max(changes[-2:]) + 1e-7 * float(np.abs(flat[0]).max())
    return {
        "reached": [change > tolerance for change in changes[:n]],
        "shape": [1, *y.shape[1:]],
        "changes": changes[:n],
        "tolerance": tolerance,
    }


def run(request: dict, _before=run) -> dict:  # noqa: F811 - valid-size rows, then the others
    if "rows" in request:
        return run_rows(request)
    return _before(request)


def run_call_shapes(request: dict) -> dict:
    """``call_shapes``: the model of ``model_json`` on ``input_shape``: the output shape of every call of
    every layer (a shared layer's calls as 'name', 'name (2)', ..., in Keras's node order)."""
    keras.backend.clear_session()
    model = keras.models.model_from_json(request["model_json"])
    names, outputs = [], []
    for layer in model.layers:
        for call, node in enumerate(layer._inbound_nodes):  # a model fresh from JSON: its own calls only
            names.append(layer.name if call == 0 else f"{layer.name} ({call + 1})")
            outputs.append(node.output_tensors[0])
    spec = keras.Model(model.inputs, outputs).compute_output_spec(keras.KerasTensor(tuple(request["input_shape"])))
    return {"shapes": {name: tuple(out.shape) for name, out in zip(names, spec)}}


def run(request: dict, _before=run) -> dict:  # noqa: F811 - call shapes, then the others
    if "call_shapes" in request:
        return run_call_shapes(request)
    return _before(request)
