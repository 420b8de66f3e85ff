"""Tracing a graph of layers (Keras vocabulary) on one input shape, without running it."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import lcm, prod

from ..errors import ConvArithError
from . import kinds
from .model import Field, Layer, Mismatch, Trace, merge_fields
from .windows import TABLED, Windows, step_period, steps_of, table


@dataclass(frozen=True)
class Node:
    """One layer: ``kind`` a Keras class name, ``config`` its Keras config, ``inbound`` the names of
    the layers it takes (in order; none for an input)."""

    name: str
    kind: str
    config: dict = field(default_factory=dict, hash=False)
    inbound: tuple[str, ...] = ()
    within: str = ""  # the name of the model inside the model this layer belongs to ('' at the top)
    shares: str = ""  # a shared layer's later call: the node of its first call (its weights counted there)


def window_fields(fields, ops) -> tuple[Field, ...] | None:
    """The fields after a window layer's ops (its spatial axes in the model input's order)."""
    for op in ops:
        if fields is None or op.kind not in FIELD_KINDS or len(fields) != op.rank:
            return None
        if op.kind in TABLED:  # windows per output (adaptive pools, any resize): the widest, and the first's start
            steps = [table(op, axis) for axis in range(op.rank)]
            if None in steps:
                return None
            fields = tuple(tabled(f, step, n) for f, step, n in zip(fields, steps, op.in_size))
            continue
        k_eff = [d * (k - 1) + 1 for k, d in zip(op.kernel, op.dilation)]
        if op.kind == "conv_transpose":
            fields = tuple(f.transposed(k, s, lo) for f, k, s, lo in zip(fields, k_eff, op.stride, op.pad_lo))
        else:
            fields = tuple(f.window(k, s, lo) for f, k, s, lo in zip(fields, k_eff, op.stride, op.pad_lo))
    return fields


FIELD_KINDS = ("conv", "conv_transpose", "max_pool", "avg_pool", "pad", *TABLED)


def tabled(field: Field, step: tuple, n: int) -> Field:
    """A field after a tabled op: jump times n/out, the widest window, the first output's start
    (``Windows.exact`` then takes the windows of one period)."""
    _, first, last, _ = step
    width = int((last - first).max()) + 1
    return Field(field.size + (width - 1) * field.jump, field.jump * Fraction(n, len(first)),
                 field.padding - int(first[0]) * field.jump)  # fmt: skip


def input_note(node: Node, given: tuple[int, ...]) -> str:
    """Refuse an input of another rank or channel count than the model's own; note another size."""
    built = node.config.get("batch_shape") or node.config.get("batch_input_shape")
    if not built:
        return ""
    if len(built) != len(given) or built[-1] not in (None, given[-1]):
        raise ConvArithError(
            f"Layer {node.name!r} (InputLayer): input {given} for a model built for {tuple(built)}. Rule: the "
            "same rank and channel count (channels last). Fix: an input like "
            f"{tuple(1 if n is None else n for n in built)}."
        )
    if any(b is not None and b != g for b, g in zip(built[1:], given[1:])):
        return f"built for {tuple(built)}: Keras's model refuses another size; traced as if rebuilt for {given}"
    return ""


def input_shapes(nodes: list[Node], input_shape) -> dict[str, tuple[int, ...]]:
    """The shape of each input layer: ``input_shape`` for the one input, or a dict by input name."""
    starts = [node.name for node in nodes if node.kind == "InputLayer"]
    if isinstance(input_shape, dict):
        missing = [name for name in starts if name not in input_shape]
        if missing:
            raise ConvArithError(f"trace: no shape for the input {missing[0]!r}. Rule: input_shape gives every input "
                                 f"({', '.join(starts)}) by name. Fix: {{{', '.join(repr(n) + ': (...)' for n in starts)}}}.")  # fmt: skip
        extra = [name for name in input_shape if name not in starts]
        if extra:
            raise ConvArithError(f"trace: input_shape names {extra[0]!r}, not an input of the model. Rule: the "
                                 f"inputs are {', '.join(starts)}. Fix: one shape per input, by its name.")  # fmt: skip
        return {name: tuple(input_shape[name]) for name in starts}
    if len(starts) > 1:
        raise ConvArithError(f"trace: the model has {len(starts)} inputs ({', '.join(starts)}). Rule: one input_shape "
                             "is for a model with one input. Fix: input_shape={name: shape} for each.")  # fmt: skip
    return {name: tuple(input_shape) for name in starts}


def check_node(node: Node, before) -> None:
    """A layer's refusals before it is sized: a kind trace knows, a name of its own, and inputs
    among the layers ``before`` it (names; none only for an InputLayer)."""
    if node.kind not in kinds.KNOWN:
        raise kinds.unknown(node.name, node.kind)
    if node.name in before:
        raise ConvArithError(f"Layer {node.name!r}: a second layer of that name. Rule: every layer has its own "
                             "name (the inputs name them). Fix: rename one of them.")  # fmt: skip
    missing = [n for n in node.inbound if n not in before]
    if missing:
        raise ConvArithError(
            f"Layer {node.name!r}: its input {missing[0]!r} is not a layer before it. Rule: every layer "
            "takes layers listed before it. Fix: list the layers in order, or correct the input's name."
        )
    if not node.inbound and node.kind != "InputLayer":
        raise ConvArithError(f"Layer {node.name!r} ({node.kind}): takes no layer. Rule: every layer but an "
                             "InputLayer takes the output of a layer before it. Fix: name its inputs.")  # fmt: skip


def trace_nodes(nodes: list[Node], input_shape, align: bool = True) -> Trace:
    """Trace ``nodes`` (in an order where every layer comes after its inputs) on ``input_shape``
    (a shape, or {input name: shape} for a model with several inputs)."""
    from ..api import map_call

    starts = input_shapes(nodes, input_shape)
    windows = Windows()
    align = align and len(starts) == 1
    by_name: dict[str, Layer] = {}
    layers, mismatches = [], []
    for node in nodes:
        check_node(node, by_name)
        inputs = [by_name[n] for n in node.inbound]
        shapes = [i.output_shape for i in inputs]
        try:
            if node.kind == "InputLayer":
                given = starts[node.name]
                layer = Layer(
                    node.name,
                    node.kind,
                    (),
                    given,
                    fields=tuple(Field(1, Fraction(1), Fraction(0)) for _ in range(len(given) - 2)),
                    note=input_note(node, given),
                )
            elif node.kind in kinds.WINDOWS:
                call, sized = kinds.window_call(node.kind, node.config, shapes)
                try:
                    mapped = map_call(call, **sized)
                except ConvArithError as error:
                    raise ConvArithError(f"Layer {node.name!r} ({node.kind}) on input {shapes[0]}: {error}") from None
                layer = Layer(
                    node.name, node.kind, tuple(shapes), tuple(mapped.output_shape),
                    padding=tuple(zip(mapped.ops[0].pad_lo, mapped.ops[0].pad_hi)),
                    fields=window_fields(inputs[0].fields, mapped.ops),
                    params=kinds.params_of(node.kind, node.config, shapes, mapped.ops), call=call,
                )  # fmt: skip
            else:
                out = kinds.shape_of(node.name, node.kind, node.config, shapes)
                if out[0] is None:
                    mismatch = misaligned(node, inputs, out[1])
                    mismatches.append(mismatch)
                    out = list(shapes[0])  # traced on with the first input's sizes; the mismatch is reported
                    if node.kind in kinds.CONCATS:
                        axis = kinds.concat_axis(node.kind, node.config, len(out))
                        out[axis] = sum(s[axis] for s in shapes)
                fields, field_note = layer_fields(node, inputs)
                layer = Layer(
                    node.name, node.kind, tuple(shapes), tuple(out), fields=fields,
                    params=kinds.params_of(node.kind, node.config, shapes), note=field_note,
                )  # fmt: skip
        except (KeyError, TypeError, IndexError, AttributeError) as error:  # a config the rules cannot read
            raise ConvArithError(
                f"Layer {node.name!r} ({node.kind}): its config {node.config!r:.200} cannot be read ({type(error).__name__}: "
                f"{error}). Rule: the layer's Keras config keys with values of their types. Fix: e.g. units=10 for Dense."
            ) from None
        layer.inbound, layer.within = node.inbound, node.within
        steps = steps_of(mapped.ops) if node.kind in kinds.WINDOWS and layer.fields is not None else None
        period = windows.period(node.inbound)
        if steps:
            period *= lcm(*(step_period(step) for axis in steps for step in axis))  # a stride below stacks
        mixed = mixed_sizes(node, inputs)
        if mixed:  # Flatten/Reshape of several positions: each output sees the whole input
            layer.fields = windows.whole(layer, inputs[0].name, mixed)
            layer.note = layer.note or (f"receptive field: the whole input ({node.kind} mixes the spatial axes, so "
                                        "every output may see every position)")  # fmt: skip
        else:
            windows.add(layer, steps, node.kind in kinds.MERGES or node.kind in kinds.CONCATS, period)
            layer.fields = windows.exact(node.name, layer.fields, period)
        if node.shares:  # one layer called again: its weights are counted once, at its first call
            layer.params = 0
            layer.note = layer.note or f"shares the weights of {node.shares!r} (another call of the same layer)"
        if node.kind in kinds.NESTED:  # the inner model's count, as Keras gives it
            layer.params = sum(inner.params for inner in layers if inner.within == node.name)
        by_name[node.name] = layer
        layers.append(layer)
    if not layers:
        raise ConvArithError("The model has no layers. Rule: a trace needs at least an input. Fix: add layers.")
    given = next(iter(starts.values()))
    if align and mismatches:  # the input sizes that line every merge up, once per axis
        from .align import aligned_sizes

        said: dict[int, str] = {}
        for mismatch in mismatches:
            first = 2 if kinds.channels_first(by_name[mismatch.layer].kind) else 1  # the first spatial axis
            if first <= mismatch.axis < first + len(given) - 2:
                if mismatch.axis not in said:
                    said[mismatch.axis] = aligned_sizes(nodes, given, mismatch.axis)
                mismatch.fixes += (said[mismatch.axis],)
    for mismatch in mismatches:
        by_name[mismatch.layer].note = str(mismatch)
    return Trace(layers, given, mismatches, windows)


def layer_fields(node: Node, inputs: list[Layer]) -> tuple[tuple[Field, ...] | None, str]:
    """The receptive fields of a non-window layer: kept, merged (max over branches), or ended."""
    first = inputs[0]
    if node.kind in kinds.MERGES or node.kind in kinds.CONCATS:
        if any(i.fields is None for i in inputs):
            return None, ""
        per_axis = list(zip(*(i.fields for i in inputs)))
        for axis, fields in enumerate(per_axis):
            if len({f.jump for f in fields}) > 1:
                jumps = ", ".join(f"{i.name}: {f.jump}" for i, f in zip(inputs, fields))
                return None, f"receptive field not defined on axis {axis}: the inputs' jumps differ ({jumps})"
        return tuple(merge_fields(list(fields)) for fields in per_axis), ""
    if node.kind in kinds.REARRANGING:
        positions = 1
        shape = first.output_shape
        for size in shape[2:] if kinds.channels_first(node.kind) else shape[1:-1]:
            positions *= size
        return (first.fields, "") if positions <= 1 else (None, "")
    return first.fields, ""


MIXING = {"Flatten", "Reshape", "onnx.Flatten", "onnx.Reshape", "torch.Flatten", "torch.flatten"}


def mixed_sizes(node: Node, inputs: list[Layer]) -> tuple[int, ...] | None:
    """The spatial sizes of the input of a layer that mixes several positions (None: another layer)."""
    if node.kind not in MIXING or not inputs or inputs[0].fields is None:
        return None
    shape = inputs[0].output_shape
    spatial = tuple(shape[2:] if kinds.channels_first(node.kind) else shape[1:-1])
    if len(spatial) != len(inputs[0].fields) or prod(spatial) <= 1:
        return None
    return spatial


def misaligned(node: Node, inputs: list[Layer], axis: int) -> Mismatch:
    """The mismatch at a merge, with the crop or pad that fixes it."""
    sizes = tuple(i.output_shape[axis] for i in inputs)
    small, large = min(sizes), max(sizes)
    d = large - small
    rank = len(inputs[0].output_shape) - 2
    fixes = []
    if kinds.channels_first(node.kind):  # the axis as ONNX and torch count it
        fixes.append(f"Fix: Pad {', '.join(i.name for i in inputs if i.output_shape[axis] == small)} or Slice "
                     f"{', '.join(i.name for i in inputs if i.output_shape[axis] == large)} by {d} on axis {axis}.")  # fmt: skip
    elif 1 <= axis <= rank:
        sides = [(0, 0)] * rank
        sides[axis - 1] = (d // 2, d - d // 2)
        big = [i.name for i in inputs if i.output_shape[axis] == large]
        few = [i.name for i in inputs if i.output_shape[axis] == small]
        fixes.append(
            f"Fix: crop {', '.join(big)} with Cropping{rank}D(cropping={tuple(sides)}), or pad {', '.join(few)} "
            f"with ZeroPadding{rank}D(padding={tuple(sides)})."
        )
    return Mismatch(node.name, tuple(i.name for i in inputs), tuple(i.output_shape for i in inputs), axis, sizes,
                    tuple(fixes))  # fmt: skip
