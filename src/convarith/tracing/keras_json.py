"""Keras models as ``model.to_json()`` writes them (Keras 3; Keras 2's inbound_nodes too), read
without Keras: the layers, their configs and which layers feed each."""

from __future__ import annotations

import json

from ..errors import ConvArithError
from .graph import Node

MODEL_CLASSES = ("Functional", "Model", "Sequential")


def is_keras_json(data) -> bool:
    return isinstance(data, dict) and data.get("class_name") in MODEL_CLASSES and "config" in data


def load(text: str) -> dict:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ConvArithError(
            f"Keras model JSON: not JSON ({error}). Rule: the text of model.to_json(). Fix: pass that text or its file."
        ) from None
    if not is_keras_json(data):
        raise ConvArithError(
            "Keras model JSON: no 'class_name' Functional/Sequential with a 'config'. Rule: the text of "
            "model.to_json(). Fix: pass that text or its file."
        )
    return data


def history(tensor) -> str:
    """The layer name a serialised tensor comes from (Keras 3 ``__keras_tensor__``, Keras 2 list)."""
    if isinstance(tensor, dict) and tensor.get("class_name") == "__keras_tensor__":
        return tensor["config"]["keras_history"][0]
    if isinstance(tensor, list) and tensor and isinstance(tensor[0], str):
        return tensor[0]
    raise ConvArithError(f"Keras model JSON: an input {str(tensor)[:80]} is not a Keras tensor. Rule: inbound_nodes "
                         "hold __keras_tensor__ entries. Fix: the unedited text of model.to_json().")  # fmt: skip


def tensors(value) -> list:
    """Every serialised tensor in a node's args (a tensor, or a list of them)."""
    if isinstance(value, dict):
        return [value] if value.get("class_name") == "__keras_tensor__" else []
    if isinstance(value, list):
        if value and isinstance(value[0], str):  # Keras 2: [name, node, index, kwargs]
            return [value]
        return [t for item in value for t in tensors(item)]
    return []


def inbound(layer: dict) -> tuple[str, ...]:
    nodes = layer.get("inbound_nodes") or []
    if len(nodes) > 1:
        raise ConvArithError(f"Layer {layer['config'].get('name')!r}: called {len(nodes)} times (a shared layer). "
                             "Rule: a trace follows one call per layer. Fix: one layer per call.")  # fmt: skip
    if not nodes:
        return ()
    node = nodes[0]
    args = node.get("args", node) if isinstance(node, dict) else node
    return tuple(history(t) for t in tensors(args))


def nodes_of(data: dict) -> tuple[list[Node], tuple | None]:
    """The model's layers as Nodes, and its input's batch_shape when the JSON gives one. A model
    inside the model is inlined: its layers named 'outer/inner', then a node of the inner model's
    own name (kind Sequential/Functional) passing its output on."""
    nodes: list[Node] = []
    shape = expand(data, "", None, nodes)[1]
    return nodes, shape


def expand(data: dict, prefix: str, feeds: tuple[str, ...] | None, nodes: list[Node]) -> tuple[str, tuple | None]:
    """Append the layers of ``data`` to ``nodes`` (inputs fed by ``feeds`` when nested); the name of
    its output, and the batch_shape of its input."""
    config = data["config"]
    sequential = data["class_name"] == "Sequential"
    renamed: dict[str, str] = {}
    previous, shape, fed = None, None, 0
    for i, layer in enumerate(config.get("layers", [])):
        kind, cfg = layer["class_name"], dict(layer.get("config", {}))
        if str(layer.get("module", "")).startswith("keras.src.ops"):  # an op on tensors (x + 3.0), not a layer
            kind = "ops." + kind
        name = str(cfg.get("name") or layer.get("name") or f"layer_{i}")
        if kind == "InputLayer" or (sequential and previous is None):
            if feeds is not None:  # a nested model's input: the outer tensor feeding it
                if fed >= len(feeds):
                    raise nested_inputs(prefix, len(feeds))
                previous = renamed[name] = feeds[fed]
                fed += 1
            else:
                built = (
                    cfg.get("batch_shape")
                    or cfg.get("batch_input_shape")
                    or (layer.get("build_config") or {}).get("input_shape")
                )
                shape = shape or (tuple(built) if built else None)
                first = name if kind == "InputLayer" else "input"
                nodes.append(Node(prefix + first, "InputLayer", cfg if kind == "InputLayer" else {}, (), prefix[:-1]))
                previous = renamed[first] = prefix + first
            if kind == "InputLayer":
                continue
        if sequential:
            sources = (previous,)
        else:
            sources = tuple(renamed.get(source, prefix + source) for source in inbound(layer))
        full = prefix + name
        if kind in MODEL_CLASSES:
            out = expand(layer, full + "/", sources, nodes)[0]
            nodes.append(Node(full, kind, {}, (out,), prefix[:-1]))
        else:
            nodes.append(Node(full, kind, cfg, sources, prefix[:-1]))
        previous = renamed[name] = full
    if sequential or feeds is None:
        return previous, shape
    outputs = config.get("output_layers") or []
    if outputs and isinstance(outputs[0], str):  # one output: [name, node, index]
        outputs = [outputs]
    if len(outputs) != 1:
        raise ConvArithError(f"Layer {prefix[:-1]!r}: a model inside the model with {len(outputs)} outputs. Rule: a "
                             "nested model is inlined when it has one output. Fix: trace it on its own.")  # fmt: skip
    return renamed.get(outputs[0][0], prefix + outputs[0][0]), shape


def nested_inputs(prefix: str, given: int) -> ConvArithError:
    return ConvArithError(
        f"Layer {prefix[:-1]!r}: a model inside the model takes more inputs than the {given} it is called on. "
        "Rule: each input of the inner model is fed by one tensor. Fix: the unedited text of model.to_json()."
    )
