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


def history(tensor) -> tuple[str, int]:
    """The layer name a serialised tensor comes from and which call of that layer made it (Keras 3
    ``__keras_tensor__``, Keras 2 list)."""
    if isinstance(tensor, dict) and tensor.get("class_name") == "__keras_tensor__":
        found = tensor["config"]["keras_history"]
        return found[0], int(found[1]) if len(found) > 1 else 0
    if isinstance(tensor, list) and tensor and isinstance(tensor[0], str):
        return tensor[0], int(tensor[1]) if len(tensor) > 1 and isinstance(tensor[1], int) else 0
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


def calls(layer: dict) -> list[tuple[tuple[str, int], ...]]:
    """Per call of the layer (a shared layer has several), the (layer, call) of each input tensor."""
    found = []
    for node in layer.get("inbound_nodes") or []:
        args = node.get("args", node) if isinstance(node, dict) else node
        found.append(tuple(history(t) for t in tensors(args)))
    return found


def call_name(name: str, call: int) -> str:
    """A shared layer's calls as rows: 'conv1', 'conv1 (2)', ..."""
    return name if call == 0 else f"{name} ({call + 1})"


def nodes_of(data: dict) -> tuple[list[Node], tuple | None]:
    """The model's layers as Nodes, and its input's batch_shape when the JSON gives one. A model
    inside the model is inlined: its layers named 'outer/inner', then a node of the inner model's
    own name (kind Sequential/Functional) passing its output on. A layer called several times (a
    shared layer) gives one node per call: 'conv1', 'conv1 (2)', ..."""
    nodes: list[Node] = []
    shape = expand(data, "", None, nodes)[1]
    return nodes, shape


def expand(data: dict, prefix: str, feeds: tuple[str, ...] | None, nodes: list[Node]) -> tuple[str, tuple | None]:
    """Append the layers of ``data`` to ``nodes`` (inputs fed by ``feeds`` when nested); the name of
    its output, and the batch_shape of its input."""
    config = data["config"]
    sequential = data["class_name"] == "Sequential"
    renamed: dict[tuple[str, int], str] = {}  # (layer, call) -> node name
    previous, shape, fed = None, None, 0
    pending = []  # functional layers' calls: (kind, config, layer, call, sources), emitted once their inputs are
    names = set()
    for i, layer in enumerate(config.get("layers", [])):
        kind, cfg = layer["class_name"], dict(layer.get("config", {}))
        if str(layer.get("module", "")).startswith("keras.src.ops"):  # an op on tensors (x + 3.0), not a layer
            kind = "ops." + kind
        name = str(cfg.get("name") or layer.get("name") or f"layer_{i}")
        names.add(name)
        if kind == "InputLayer" or (sequential and previous is None):
            if feeds is not None:  # a nested model's input: the outer tensor feeding it
                if fed >= len(feeds):
                    raise nested_inputs(prefix, len(feeds))
                previous = renamed[name, 0] = feeds[fed]
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
                previous = renamed[first, 0] = prefix + first
            if kind == "InputLayer":
                continue
        if sequential:
            previous = renamed[name, 0] = emit(kind, cfg, layer, prefix + name, (previous,), prefix, nodes)
            continue
        pending += [(kind, cfg, layer, call, sources) for call, sources in enumerate(calls(layer) or [()])]
    while pending:  # the calls in JSON order, each once its inputs are made (a shared layer's later calls wait)
        waiting = []
        for kind, cfg, layer, call, sources in pending:
            name = str(cfg.get("name") or layer.get("name"))
            if any(source[0] in names and source not in renamed for source in sources):
                waiting.append((kind, cfg, layer, call, sources))
                continue
            inbound = tuple(renamed.get(source, prefix + source[0]) for source in sources)
            if kind in MODEL_CLASSES and call:
                raise ConvArithError(f"Layer {prefix + name!r}: a model inside the model called {call + 1} times. "
                                     "Rule: a nested model is inlined once. Fix: trace it on its own.")  # fmt: skip
            shares = prefix + name if call else ""
            renamed[name, call] = emit(kind, cfg, layer, prefix + call_name(name, call), inbound, prefix, nodes, shares)
        if len(waiting) == len(pending):
            name = waiting[0][1].get("name")
            raise ConvArithError(f"Layer {prefix + str(name)!r}: its inputs are never made (a cycle, or a call of a "
                                 "layer that is not in the model). Rule: each call takes tensors of calls before it. "
                                 "Fix: the unedited text of model.to_json().")  # fmt: skip
        pending = waiting
    if sequential or feeds is None:
        return previous, shape
    outputs = config.get("output_layers") or []
    if outputs and isinstance(outputs[0], str):  # one output: [name, node, index]
        outputs = [outputs]
    if len(outputs) != 1:
        raise ConvArithError(f"Layer {prefix[:-1]!r}: a model inside the model with {len(outputs)} outputs. Rule: a "
                             "nested model is inlined when it has one output. Fix: trace it on its own.")  # fmt: skip
    out = (outputs[0][0], int(outputs[0][1]) if len(outputs[0]) > 1 else 0)
    return renamed.get(out, prefix + outputs[0][0]), shape


def emit(
    kind: str, cfg: dict, layer: dict, full: str, sources: tuple, prefix: str, nodes: list[Node], shares: str = ""
) -> str:
    """Append one call of a layer (a nested model: its layers, then its own node); the node's name.
    ``shares``: the node of the layer's first call, for its later calls."""
    if kind in MODEL_CLASSES:
        out = expand(layer, full + "/", sources, nodes)[0]
        nodes.append(Node(full, kind, {}, (out,), prefix[:-1]))
    else:
        nodes.append(Node(full, kind, cfg, sources, prefix[:-1], shares))
    return full


def nested_inputs(prefix: str, given: int) -> ConvArithError:
    return ConvArithError(
        f"Layer {prefix[:-1]!r}: a model inside the model takes more inputs than the {given} it is called on. "
        "Rule: each input of the inner model is fed by one tensor. Fix: the unedited text of model.to_json()."
    )
