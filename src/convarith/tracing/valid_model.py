"""A traced model as ``valid.Step``s: ``valid_sizes`` and the "input sizes that line every merge up"
of any model ``trace`` reads. Window layers become their call (sized by ``convarith.sweep`` over
the candidate sizes, ONNX weights and torch functionals through their shape keywords); the other
kinds their shape rule, a merge whose inputs do not line up refusing the size."""

from __future__ import annotations

from functools import partial

from ..errors import ConvArithError
from . import kinds
from .graph import Node, check_node, input_note, input_shapes

MIXES_LAST = {"Dense", "EinsumDense", "torch.Linear", "onnx.MatMul", "onnx.Gemm"}  # they mix the last axis


def label(node: Node) -> str:
    return f"layer {node.name!r} ({node.kind})"


def unreadable(node: Node, error: Exception) -> ConvArithError:
    return ConvArithError(
        f"Layer {node.name!r} ({node.kind}): its config {node.config!r:.200} cannot be read ({type(error).__name__}: "
        f"{error}). Rule: the layer's Keras config keys with values of their types. Fix: e.g. units=10 for Dense."
    )


def window_sized(node: Node, shapes: list) -> dict:
    try:
        return kinds.window_call(node.kind, node.config, list(shapes))[1]
    except (KeyError, TypeError, IndexError, AttributeError, StopIteration) as error:
        raise unreadable(node, error) from None


def node_shape(node: Node, names: tuple, lenient, shapes: list) -> tuple:
    try:
        return config_shape(node, names, lenient, shapes)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError) as error:
        if isinstance(error, ConvArithError):
            raise
        raise unreadable(node, error) from None


def config_shape(node: Node, names: tuple, lenient, shapes: list) -> tuple:
    """The node's output shape; a merge whose inputs do not line up refuses (naming them), but on
    another axis than ``lenient`` (when given) it goes on with the first input's sizes, as trace does."""
    out = kinds.shape_of(node.name, node.kind, node.config, list(shapes))
    if out[0] is None and lenient is not None and out[1] != lenient:  # the followed axis alone decides
        first = shapes[0]
        alike = [tuple(n if i == lenient or len(shape) != len(first) else first[i] for i, n in enumerate(shape))
                 for shape in shapes]  # fmt: skip
        if node.kind in kinds.CONCATS:
            joined = kinds.concat_axis(node.kind, node.config, len(first))
            alike = [tuple(shape[i] if i == joined else n for i, n in enumerate(alike_shape))
                     for shape, alike_shape in zip(shapes, alike)]  # fmt: skip
        out = kinds.shape_of(node.name, node.kind, node.config, alike)
    if out[0] is None and lenient is not None and out[1] != lenient:
        out = list(shapes[0])
        if node.kind in kinds.CONCATS:
            axis = kinds.concat_axis(node.kind, node.config, len(out))
            out[axis] = sum(shape[axis] for shape in shapes)
        return tuple(out)
    if out[0] is None:
        sizes = ", ".join(f"{name} {tuple(shape)}" for name, shape in zip(names, shapes))
        raise ConvArithError(f"Layer {node.name!r} ({node.kind}): inputs do not line up on axis {out[1]} ({sizes}).")
    return tuple(out)


def moved(node: Node, axis: int, x: tuple, out: tuple):
    """Where a non-window layer puts the followed axis (None: flattened, reshaped or mixed away)."""
    if node.kind == "Permute":  # dims count the axes after the batch from 1
        dims = list(node.config["dims"])
        return dims.index(axis) + 1 if axis in dims else None
    if node.kind == "onnx.Transpose":
        perm = list(node.config["attrs"].get("perm", range(len(x) - 1, -1, -1)))
        return perm.index(axis)
    if node.kind in kinds.REARRANGING:
        return axis if tuple(out) == tuple(x) else None
    if node.kind in MIXES_LAST and axis == len(x) - 1:
        return None
    return axis if len(out) == len(x) else None


def steps_of(nodes: list[Node], input_shape, lenient: int | None = None):
    """(steps, the input shape) of a model with one input; the last node is the output. ``lenient``:
    an axis; merges that do not line up on the other axes go on (see ``node_shape``)."""
    from ..valid import Step

    starts = [node for node in nodes if node.kind == "InputLayer"]
    if len(starts) != 1:
        raise ConvArithError(f"valid_sizes: the model has {len(starts)} inputs. Rule: valid_sizes varies the size "
                             "of one input. Fix: trace it, or split the model at its inputs.")  # fmt: skip
    shape = input_shapes(nodes, input_shape)[starts[0].name]
    input_note(starts[0], shape)
    index: dict[str, int] = {starts[0].name: -1}
    steps = []
    for node in nodes:
        if node.kind == "InputLayer":
            continue
        check_node(node, index)
        inbound = tuple(index[name] for name in node.inbound)
        if node.kind in kinds.WINDOWS:
            try:
                call = kinds.window_call(node.kind, node.config, [shape] * len(inbound))[0]  # shape-free text
            except (KeyError, TypeError, IndexError, AttributeError, StopIteration) as error:
                raise unreadable(node, error) from None
            steps.append(Step(label(node), call, inbound=inbound, sized=partial(window_sized, node)))
        else:
            steps.append(Step(label(node), shape_of=partial(node_shape, node, node.inbound, lenient), inbound=inbound,
                              moves=partial(moved, node)))  # fmt: skip
        index[node.name] = len(steps) - 1
    if not steps:
        raise ConvArithError("valid_sizes: the model has no layer after its input. Rule: sizes are followed through "
                             "layers. Fix: a model with layers.")  # fmt: skip
    return steps, shape


def model_valid_sizes(model, input_shape, *, axis, sizes, round_trip, every_layer=False):
    """``valid_sizes`` of a model ``trace`` reads."""
    from ..valid import valid_over_steps
    from . import input_of, read

    try:
        nodes, found = read(model)
    except ConvArithError as error:
        if not str(error).startswith("trace: a "):
            raise
        raise ConvArithError(
            f"valid_sizes: model is a {type(model).__name__}. Rule: a list of calls applied in sequence, or a model "
            "trace reads (Keras JSON text or path, a Keras model, an ONNX file, a layer list, a torch module). Fix: "
            "valid_sizes(['nn.Conv2d(3, 16, 3, stride=2, padding=1)', ...], (1, 3, 64, 64), axis=2)."
        ) from None
    steps, shape = steps_of(nodes, input_of(input_shape, found))
    return valid_over_steps(steps, shape, axis=axis, sizes=sizes, round_trip=round_trip, every_layer=every_layer)
