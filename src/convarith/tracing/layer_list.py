"""convarith's own layer list: a JSON or YAML list of layers in Keras's vocabulary.

    input: [1, 64, 64, 1]          # optional: the input shape (batch, spatial..., channels)
    layers:
      - {name: c1, kind: Conv2D, filters: 16, kernel_size: 3, padding: same}
      - {name: p1, kind: MaxPooling2D, pool_size: 2}
      - {name: cat, kind: Concatenate, inputs: [up, c1]}

Each layer is a mapping: ``kind`` (a Keras class name), ``name`` (default: kind and position),
``inputs`` (layer names; default the layer before), and the layer's Keras config keys. The
first layer is the input unless it names ``kind: InputLayer``. One layer per line as a flow
mapping is read without PyYAML (and is YAML too); any other YAML needs PyYAML installed.
JSON: the same as an object, or just the list.
"""

from __future__ import annotations

import ast
import json
import re

from ..errors import ConvArithError
from .graph import Node

BARE = re.compile(r"(?<![\w'\".])([A-Za-z_][\w.]*)(?![\w'\"(])")
WORDS = {"true": "True", "false": "False", "null": "None", "True": "True", "False": "False", "None": "None"}


def flow_value(text: str, line: int):
    """A YAML flow mapping/list of plain words, numbers and quoted strings, read with ast literals."""
    quoted = BARE.sub(lambda m: WORDS.get(m.group(1), repr(m.group(1))), text)
    try:
        return ast.literal_eval(quoted)
    except (ValueError, SyntaxError):
        raise ConvArithError(
            f"Layer list line {line}: {text.strip()[:80]!r} is not a flow mapping of plain values. Rule: one layer "
            "per line as {key: value, ...} (or install PyYAML for any YAML). Fix: e.g. "
            "- {name: c1, kind: Conv2D, filters: 16, kernel_size: 3}."
        ) from None


def read_yaml(text: str):
    try:
        import yaml  # optional: full YAML
    except ImportError:
        yaml = None
    if yaml is not None:
        return yaml.safe_load(text)
    data: dict = {"layers": []}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        stripped = line.strip()
        if not stripped or stripped == "layers:":
            continue
        if stripped.startswith("- "):
            data["layers"].append(flow_value(stripped[2:], number))
        elif ":" in stripped and not raw.startswith(" "):
            key, value = stripped.split(":", 1)
            data[key.strip()] = flow_value(value, number)
        else:
            raise ConvArithError(
                f"Layer list line {number}: {stripped[:80]!r} is not 'key: value' or '- {{...}}'. Rule: the "
                "documented subset (or install PyYAML). Fix: one layer per line, - {name: ..., kind: ...}."
            )
    return data


def load(text: str):
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(text)
        except ValueError as error:
            raise ConvArithError(
                f"Layer list: not JSON ({error}). Rule: a JSON object or list. Fix: valid JSON."
            ) from None
    return read_yaml(text)


def nodes_of(data) -> tuple[list[Node], tuple | None]:
    """The layers as Nodes and the input shape the list gives (or None)."""
    if isinstance(data, dict):
        shape, layers = data.get("input"), data.get("layers")
    else:
        shape, layers = None, data
    if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
        raise ConvArithError("Layer list: no list of layers. Rule: 'layers' is a list of mappings, each with a "
                             "'kind'. Fix: layers: [{kind: Conv2D, filters: 8, kernel_size: 3}, ...].")  # fmt: skip
    nodes: list[Node] = []
    for i, layer in enumerate(layers):
        config = dict(layer)
        kind = config.pop("kind", None)
        if not isinstance(kind, str):
            raise ConvArithError(f"Layer list entry {i}: no 'kind'. Rule: every layer names its Keras class. "
                                 "Fix: kind: Conv2D (or MaxPooling2D, Concatenate, ...).")  # fmt: skip
        name = str(config.pop("name", f"{kind.lower()}_{i}"))
        inputs = config.pop("inputs", None)
        if not nodes and kind != "InputLayer":
            nodes.append(Node("input", "InputLayer"))
        if kind == "InputLayer":
            shape = shape or config.get("batch_shape") or config.get("shape")
            nodes.append(Node(name, kind, config))
            continue
        if not (
            inputs is None
            or isinstance(inputs, str)
            or (isinstance(inputs, list) and all(isinstance(n, str) for n in inputs))
        ):
            raise ConvArithError(f"Layer {name!r}: inputs={inputs!r} is not layer names. Rule: a name or a list of names "
                                 "of layers listed before it. Fix: inputs: [up1, enc1].")  # fmt: skip
        inbound = (nodes[-1].name,) if inputs is None else tuple([inputs] if isinstance(inputs, str) else inputs)
        nodes.append(Node(name, kind, config, tuple(str(n) for n in inbound)))
    return nodes, None if shape is None else tuple(shape)
