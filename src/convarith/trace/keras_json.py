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


def nested(layer: dict) -> ConvArithError:
    return ConvArithError(
        f"Layer {layer['config'].get('name')!r}: a model inside the model ({layer['class_name']}). Rule: a trace "
        "reads a flat model's layers. Fix: trace the inner model on its own, or build the model flat."
    )


def nodes_of(data: dict) -> tuple[list[Node], tuple | None]:
    """The model's layers as Nodes, and its input's batch_shape when the JSON gives one."""
    config = data["config"]
    entries = config.get("layers", [])
    sequential = data["class_name"] == "Sequential"
    nodes, shape = [], None
    for i, layer in enumerate(entries):
        kind, cfg = layer["class_name"], dict(layer.get("config", {}))
        if str(layer.get("module", "")).startswith("keras.src.ops"):  # an op on tensors (x + 3.0), not a layer
            kind = "ops." + kind
        if kind in MODEL_CLASSES:
            raise nested(layer)
        name = cfg.get("name") or layer.get("name") or f"layer_{i}"
        if kind == "InputLayer":
            shape = shape or tuple(cfg.get("batch_shape") or cfg.get("batch_input_shape") or ())
            nodes.append(Node(name, kind, cfg))
            continue
        if sequential:
            if not nodes:  # no InputLayer: the first layer's build_config (or the given input) is the input
                built = (layer.get("build_config") or {}).get("input_shape")
                shape = tuple(built) if built else None
                nodes.append(Node("input", "InputLayer", {}))
            nodes.append(Node(name, kind, cfg, (nodes[-1].name,)))
        else:
            nodes.append(Node(name, kind, cfg, inbound(layer)))
    return nodes, shape
