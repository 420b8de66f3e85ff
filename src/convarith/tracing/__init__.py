"""convarith.tracing (``convarith.trace``): the shape and receptive field of every layer of a model, without running it.

``trace(model, input_shape)`` takes a Keras model JSON (the text of ``model.to_json()``, or a
path to it; Keras is not needed), a Keras model object (read through its ``to_json()``), an
ONNX file or ``onnx.ModelProto`` (read with the ``onnx`` package; see ``onnx_model``), a torch
``nn.Module`` (walked with ``torch.fx``; see ``torch_model``), or convarith's own layer list (JSON or YAML text, a path, or a
Python list/dict; see ``layer_list``). Each reader turns the model into ``graph.Node``s in
Keras's vocabulary and ``graph.trace_nodes`` traces them. Other model kinds add a branch to
``readers`` (a reader: model -> (nodes, input shape or None), or None when it is not its kind).
"""

from __future__ import annotations

import json
import os

from ..errors import ConvArithError
from .model import Layer, Mismatch, Trace

__all__ = ["Layer", "Mismatch", "Trace", "read", "trace"]


def text_of(model) -> str | None:
    """The text of a model given as text or as a path to a file (None: neither)."""
    if isinstance(model, os.PathLike) or (isinstance(model, str) and "\n" not in model and len(model) < 4096
                                          and not model.lstrip().startswith(("{", "[")) and os.path.isfile(model)):  # fmt: skip
        with open(model, encoding="utf-8") as handle:
            return handle.read()
    return model if isinstance(model, str) else None


def keras_json_reader(model):
    from . import keras_json

    text = text_of(model)
    data = model if isinstance(model, dict) else None
    if text is not None and text.lstrip().startswith("{") and '"class_name"' in text[:200]:
        data = keras_json.load(text)
    if not keras_json.is_keras_json(data):
        return None
    try:
        return keras_json.nodes_of(data)
    except (KeyError, TypeError, IndexError, AttributeError) as error:  # JSON not as model.to_json() writes it
        raise ConvArithError(
            f"Keras model JSON: cannot be read ({type(error).__name__}: {error}). Rule: the unedited text of "
            "model.to_json() (each layer with class_name, config and inbound_nodes). Fix: serialise the model again."
        ) from None


def is_keras_object(model) -> bool:
    """A Keras model object (judged by its class's module, so Keras is never imported to ask)."""
    return hasattr(model, "to_json") and any(
        (getattr(cls, "__module__", "") or "").split(".")[0] in ("keras", "tf_keras") for cls in type(model).__mro__
    )


def keras_object_reader(model):
    """A Keras model object, read through the text of its ``model.to_json()``."""
    if not is_keras_object(model):
        return None
    text = model.to_json()
    if not isinstance(text, str):
        raise ConvArithError(f"Keras model: to_json() gave a {type(text).__name__}. Rule: a Keras model serialises "
                             "to JSON text. Fix: trace(model.to_json(), input_shape).")  # fmt: skip
    from . import keras_json

    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not keras_json.is_keras_json(data):
        raise ConvArithError("Keras model: its to_json() is not a Functional/Sequential model. Rule: a subclassed "
                             "model has no layer graph in its JSON. Fix: build it with keras.Model(inputs, outputs).")  # fmt: skip
    return keras_json_reader(data)


def onnx_reader(model):
    """An ONNX file (a path ending in .onnx) or an onnx.ModelProto, read with the onnx package."""
    from . import onnx_model

    path = os.fspath(model) if isinstance(model, (str, os.PathLike)) else None
    if not onnx_model.is_onnx(model) and not (path is not None and path.lower().endswith(".onnx")):
        return None
    return onnx_model.read(model)


def torch_reader(model):
    """A torch nn.Module, walked with torch.fx (symbolically)."""
    from . import torch_model

    return torch_model.read(model) if torch_model.is_torch_module(model) else None


def layer_list_reader(model):
    from . import layer_list

    if isinstance(model, (list, dict)):
        return layer_list.nodes_of(model)
    text = text_of(model)
    return None if text is None else layer_list.nodes_of(layer_list.load(text))


# tried in order; the first that recognises the model reads it
readers = [keras_object_reader, torch_reader, onnx_reader, keras_json_reader, layer_list_reader]


def input_of(given, found):
    """The input shape: the one given (or {input name: shape}), else the model's own with a None batch read as 1."""
    if isinstance(given, dict):
        return {name: input_of(shape, None) for name, shape in given.items()}
    shape = given if given is not None else found
    if shape is None:
        raise ConvArithError("trace: no input shape. Rule: the model does not fix its input size. "
                             "Fix: trace(model, (1, 224, 224, 3)) or --input 1,224,224,3.")  # fmt: skip
    shape = tuple(shape)
    if given is None and shape and shape[0] is None:
        shape = (1, *shape[1:])
    if any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in shape) or len(shape) < 2:
        raise ConvArithError(f"trace: input shape {shape} is not sizes. Rule: (batch, spatial..., channels) as "
                             "non-negative ints, every size known. Fix: e.g. (1, 224, 224, 3).")  # fmt: skip
    return shape


def read(model):
    """The model's nodes (in an order where every layer comes after its inputs) and its own input
    shape (None when it gives none), by the first reader that recognises it."""
    for reader in readers:
        read_nodes = reader(model)
        if read_nodes is not None:
            return read_nodes
    raise ConvArithError(f"trace: a {type(model).__name__} is not a model convarith reads. Rule: Keras model JSON "
                         "(text or path), a Keras model, an ONNX file, or a layer list (JSON/YAML text, path, list). "
                         "Fix: model.to_json().")  # fmt: skip


def trace(model, input_shape=None) -> Trace:
    """Every layer's output shape, padding, receptive field and parameter count (a ``Trace``)."""
    from .graph import trace_nodes

    nodes, found = read(model)
    return trace_nodes(nodes, input_of(input_shape, found))
