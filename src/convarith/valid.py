"""``valid_sizes``: the input sizes along one axis that a model takes without silent cropping.

A model is a list of ``Step``s, each after its inputs: a call (``expr``) applied to one input, or a
shape function (``shape_of``, e.g. a merge that refuses unequal sizes) over several. Per step,
``convarith.sweep`` gives the output shape for every distinct input shape still alive (vectorised
over the candidate sizes). A size survives when every step accepts it (a merge whose inputs do not
line up refuses) and every input cell along the axis reaches some output cell: followed backward
from the output through each op's links (``tracing/links.py``: the input cells each output cell
reads), so a layer that skips cells the input still reaches through others (a 1x1 stride-2 conv
after a 3x3 conv) drops nothing; the layer blamed is the first that passes none of the cells fed
by the unreached ones on. Ops whose links are not followed fall back to ``explain``'s unreached
cells of that op. When the output has the input's rank and gives some size n ≥ 2 back unchanged
(an encoder→decoder), it must also give n back (the round trip). A pure encoder, or a model whose
output differs from its input by design (say, 'valid' convolutions), is held to the first
conditions only; ``round_trip=`` forces either.

``valid_sizes`` takes a list of calls (a chain) or any model ``trace`` reads
(``tracing/valid_model.py`` turns its layers into ``Step``s).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import islice
from typing import NamedTuple

from .api import check_input, map_call, size_text
from .core import arith
from .errors import ConvArithError
from .explain import axis_facts, unreached_line
from .frameworks._common import refuse
from .periods import periodic
from .tracing.links import backward, forward

__all__ = ["Step", "ValidSizes", "valid_over_steps", "valid_sizes"]

SIZE_NAME = "valid_size_n"  # the swept name in the input shape template


class Step(NamedTuple):
    """One layer: a label for messages, and either ``expr`` (a call, applied to one input) or
    ``shape_of`` (input shapes -> output shape, or ConvArithError; a layer that drops no cell, such
    as a merge). ``inbound``: the steps it takes, by index (-1 the model input; None the step before)."""

    label: str
    expr: str | None = None
    shape_of: Callable[[list], tuple] | None = None
    inbound: tuple[int, ...] | None = None
    sized: Callable[[list], dict] | None = None  # a call's shape keywords from its input shapes (input_shape=)
    moves: Callable[[int, tuple, tuple], int | None] | None = None  # where the axis goes (None: mixed away)


@dataclass(frozen=True)
class ValidSizes:
    """The accepted sizes, their rule, and how many sizes each step ruled out."""

    sizes: list
    rule: str
    modulus: int | None
    residue: int | None
    residues: tuple
    minimum: int | None
    round_trip: bool  # whether the output size had to equal the input size
    axis: int
    removed: tuple = field(default=())  # (step label, sizes it ruled out), in order

    def __str__(self) -> str:
        lines = [f"axis {self.axis}: {self.rule} ({len(self.sizes)} sizes)"]
        lines += [f"  {label} rules out {count}" for label, count in self.removed if count]
        if self.round_trip:
            lines.append("  (and the output size equals the input size)")
        return "\n".join(lines)


def valid_sizes(
    model, input_shape, *, axis: int, sizes=range(1, 1025), round_trip: bool | None = None, every_layer: bool = False
) -> ValidSizes:
    """The sizes along ``axis`` of ``input_shape`` for which no layer of ``model`` leaves an input
    cell unreached and, for an encoder→decoder, the output size equals the input size.

    ``model``: a list of calls applied in sequence, or any model ``trace`` reads (Keras JSON text or
    path, a Keras model, an ONNX file or ModelProto, a layer list, a torch nn.Module). ``round_trip``:
    None decides as described in the module docstring; True or False forces it. ``every_layer``: each
    layer must also read every cell of its own input (no feature map cropped, ResNet's 1x1 stride-2
    convs included), not only every cell of the model input reach the output.

    >>> valid_sizes(["nn.MaxPool2d(2)", "nn.MaxPool2d(2)", "nn.Upsample(scale_factor=4)"],
    ...             (1, 3, 64, 64), axis=2).rule
    'n ≡ 0 (mod 4), n ≥ 4'
    """
    if not is_chain(model):
        from .tracing.valid_model import model_valid_sizes

        return model_valid_sizes(model, input_shape, axis=axis, sizes=sizes, round_trip=round_trip,
                                 every_layer=every_layer)  # fmt: skip
    steps = [Step(f"layer {position} ({expr})", expr) for position, expr in enumerate(model)]
    return valid_over_steps(steps, input_shape, axis=axis, sizes=sizes, round_trip=round_trip, every_layer=every_layer)


def is_chain(model) -> bool:
    """A list of calls (True), a model ``trace`` reads (False), or a refusal."""
    if isinstance(model, (list, tuple)) and model and not all(isinstance(layer, str) for layer in model):
        if all(isinstance(layer, dict) for layer in model):
            return False  # convarith's layer list as Python
        position = next(i for i, layer in enumerate(model) if not isinstance(layer, str))
        raise ConvArithError(
            f"valid_sizes: model[{position}] is a {type(model[position]).__name__}. Rule: each layer is a call as "
            "text (or every layer a mapping of convarith's layer list). Fix: write it as a string, e.g. 'nn.MaxPool2d(2)'."
        )
    if isinstance(model, (list, tuple)) and model:
        return True
    looks_like_call = isinstance(model, str) and "\n" not in model and not model.lstrip().startswith(("{", "["))
    from .tracing import text_of

    if isinstance(model, (list, tuple, str)) and not model or looks_like_call and text_of(model) is model:
        raise ConvArithError(
            f"valid_sizes: model is a {type(model).__name__} ({size_text(model)}). Rule: a model is a non-empty list "
            "of calls applied in sequence, or a model trace reads (Keras JSON text or path, a Keras model, an ONNX "
            "file, a layer list, a torch module). Fix: valid_sizes(['nn.Conv2d(3, 16, 3, stride=2, padding=1)', ...], "
            "(1, 3, 64, 64), axis=2)."
        )
    return False


MAX_SIZES = 1 << 20  # the most candidate sizes swept


def checked_sizes(sizes) -> list[int]:
    """The candidate sizes: at most MAX_SIZES ints from 1 to 2**31, sorted, each once."""
    values = None
    if not isinstance(sizes, (str, bytes, dict)) and hasattr(sizes, "__iter__"):
        with suppress(TypeError):
            items = list(islice(sizes, MAX_SIZES + 1))
            if all(type(size) is not bool for size in items):
                values = [operator.index(size) for size in items]
    if not values or len(values) > MAX_SIZES or min(values) < 1 or max(values) > 1 << 31:
        raise ConvArithError(
            f"valid_sizes: sizes must be 1 to {MAX_SIZES} ints from 1 to 2**31, got {size_text(sizes)}. Rule: the "
            "candidate input sizes are swept. Fix: sizes=range(1, 1025)."
        )
    return sorted(set(values))


def checked_axis(axis, shape: tuple) -> int:
    rank = len(shape)
    try:
        index = None if isinstance(axis, bool) else operator.index(axis)  # an int or a NumPy integer
    except TypeError:
        index = None
    if index is None or not -rank <= index < rank:
        raise ConvArithError(
            f"valid_sizes: axis={axis!r} for an input of rank {rank}. Rule: axis indexes input_shape "
            f"({-rank} to {rank - 1}). Fix: the index of the size to vary, e.g. axis=2 for H of (N, C, H, W)."
        )
    return index % rank


def valid_over_steps(
    steps, input_shape, *, axis: int, sizes=range(1, 1025), round_trip: bool | None = None, every_layer: bool = False
):
    """``valid_sizes`` of ``Step``s in an order where each comes after its inputs; the last is the output."""
    import numpy as np

    shape = check_input(input_shape)
    if shape[0] is None:
        shape = (1, *shape[1:])
    axis = checked_axis(axis, shape)
    asked = checked_sizes(sizes)
    candidates = np.array(asked, dtype=np.int64)
    flow = Flow(list(steps), shape, axis, candidates)
    flow.shapes_forward()
    last = len(flow.steps) - 1
    alive = flow.alive
    out_axis = flow.axes[last]
    current = np.array([flow.size_of(last, k, out_axis) for k in flow.ids[last]], dtype=np.int64)
    back = alive & (current == candidates) if out_axis is not None else np.zeros_like(alive)
    if round_trip is None:
        round_trip = out_axis is not None and len(flow.shapes_at(last, alive)) == len(shape)
        round_trip = round_trip and bool((back & (candidates >= 2)).any())
    flow.reach(every_layer)
    alive = flow.alive
    if round_trip:
        back &= alive
        if not back.any():
            n = int(candidates[alive][0])
            raise refuse(
                "valid_sizes",
                f"no input size comes back along axis {axis}, e.g. n={n} -> {int(current[alive][0])}",
                "with round_trip=True the output size must equal the input size",
                "adjust the decoder (output_padding, padding or the upsampling) or pass round_trip=False",
            )
        flow.removed.append(("the round trip (output size = input size)", int(alive.sum() - back.sum())))
        alive = back
    found = [int(n) for n in candidates[alive]]
    rule = periodic(found, asked)
    residue = rule.residues[0] if rule.residues else None
    return ValidSizes(found, rule.text, rule.modulus, residue, rule.residues, rule.minimum, round_trip, axis,
                      tuple(flow.removed))  # fmt: skip


def with_size(rest, axis: int, size) -> tuple:
    return tuple(int(size) if i == axis else v for i, v in enumerate(rest))


ALL = None  # a demand on every cell of a step's output along the axis (or the axis is gone)


class Flow:
    """The candidate sizes through the steps: per step and candidate the index of its output shape
    (``ids``, -1 once a size is ruled out) among the distinct shapes it gives (``shapes``), and
    where the followed axis is in that output (``axes``, None once flattened or mixed away)."""

    def __init__(self, steps, shape: tuple, axis: int, candidates) -> None:
        import numpy as np

        self.steps, self.candidates = steps, candidates
        self.ids = {-1: np.arange(len(candidates))}
        self.shapes = {-1: [with_size(shape, axis, n) for n in candidates.tolist()]}
        self.axes = {-1: axis}
        self.alive = np.ones(len(candidates), dtype=bool)
        self.removed: list = []
        self.links: dict = {}  # (step index, input shapes) -> the call's per-op links along the axis

    def inbound(self, index: int) -> tuple[int, ...]:
        step = self.steps[index]
        return (index - 1,) if step.inbound is None else tuple(step.inbound)

    def size_of(self, index: int, shape_id: int, axis) -> int:
        return -1 if shape_id < 0 or axis is None else self.shapes[index][shape_id][axis]

    def shapes_at(self, index: int, alive) -> tuple:
        return self.shapes[index][int(self.ids[index][alive][0])]

    def shapes_forward(self) -> None:
        """Every step's output shape per candidate (swept), ruling out the sizes a step refuses."""
        import numpy as np

        for index, step in enumerate(self.steps):
            inbound = self.inbound(index)
            stacked = np.stack([self.ids[source] for source in inbound], axis=1)
            combos, where = np.unique(stacked[self.alive], axis=0, return_inverse=True)
            where = where.reshape(-1)
            inputs = [[self.shapes[s][k] for s, k in zip(inbound, row)] for row in combos.tolist()]
            outs, refused = evaluate(step, inputs)
            axis_in = self.axes[inbound[0]]
            axis_out, rank = None, None
            for ins, out in zip(inputs, outs):
                if out is not None:
                    axis_out, rank = moved_axis(step, axis_in, ins, out), len(out)
                    break
            distinct: dict = {}
            ids = np.full(len(combos), -1, dtype=np.int64)
            for row, out in enumerate(outs):
                if out is not None and len(out) == rank:
                    ids[row] = distinct.setdefault(out, len(distinct))
                elif out is not None and refused is None:
                    refused = (inputs[row][0][axis_in] if axis_in is not None else "?",
                               f"its output rank changes with the size ({len(out)}, not {rank})")  # fmt: skip
            column = np.full(len(self.candidates), -1, dtype=np.int64)
            column[self.alive] = ids[where]
            passed = column >= 0
            self.removed.append([step.label, int(self.alive.sum() - passed.sum())])
            if not passed.any():
                raise no_size(step, refused, None)
            self.alive = passed
            self.ids[index], self.shapes[index], self.axes[index] = column, list(distinct), axis_out
        self.removed = [tuple(entry) for entry in self.removed]

    def reach(self, every_layer: bool = False) -> None:
        """Rule out the sizes for which some input cell along the axis reaches no output cell (with
        ``every_layer``: some layer reads not every cell of its own input)."""
        import numpy as np

        counts = dict(self.removed)
        blamed_first = None
        for candidate in np.flatnonzero(self.alive):
            lost, blame = self.cropped(int(candidate)) if every_layer else (None, None)
            if lost is None:
                lost, blame = self.unreached(int(candidate))
            if lost is None:
                continue
            self.alive[candidate] = False
            counts[blame[0]] += 1
            blamed_first = blamed_first or (blame, int(self.candidates[candidate]))
        self.removed = list(counts.items())
        if not self.alive.any():
            (label, line), size = blamed_first
            step = next(step for step in self.steps if step.label == label)
            raise no_size(step, None, (size, line))

    def cropped(self, candidate: int):
        """(True, (the first layer that reads not every cell of its own input, a line)), else (None, None)."""
        import numpy as np

        for index, step in enumerate(self.steps):
            if step.expr is None or self.whole(index, candidate):
                continue
            axis = self.axes[self.inbound(index)[0]]
            mask, drops = self.call_back(index, self.step_inputs(index, candidate), axis, ALL)
            line = drops[1] if drops else f"it reads none of its input cells {cells_text(np.flatnonzero(~mask))}"
            return True, (step.label, line + " (every_layer=True)")
        return None, None

    def step_inputs(self, index: int, candidate: int) -> list[tuple]:
        return [self.shapes[s][int(self.ids[s][candidate])] for s in self.inbound(index)]

    def unreached(self, candidate: int):
        """(True, (the step blamed, a line)) when some input cell reaches no output, else (None, None)."""
        import numpy as np

        if all(self.steps[index].expr is None or self.whole(index, candidate) for index in range(len(self.steps))):
            return None, None  # every layer reads every cell of its input: so the whole model does
        need: dict = {len(self.steps) - 1: ALL}
        blamed = None
        for index in range(len(self.steps) - 1, -1, -1):
            if index not in need:
                continue  # a branch the output does not take
            demand, inbound = need.pop(index), self.inbound(index)
            inputs = self.step_inputs(index, candidate)
            axis_in = self.axes[inbound[0]]
            if axis_in is None:
                demands = [ALL] * len(inbound)
            elif self.steps[index].expr is not None:
                demand, drops = self.call_back(index, inputs, axis_in, demand)
                blamed = blamed or drops
                demands = [demand]
            else:
                demands = merged_back(demand, [self.sizes_in(s, shape) for s, shape in zip(inbound, inputs)])
            for source, wanted in zip(inbound, demands):
                if source in need and (need[source] is ALL or wanted is ALL):
                    need[source] = ALL
                elif source in need:
                    need[source] = need[source] | wanted
                else:
                    need[source] = wanted
        reached = need.get(-1, np.zeros(0, dtype=bool))
        if reached is ALL or reached.all():
            return None, None
        label, line = blamed or self.culprit(candidate, ~reached)
        return True, (label, f"input cells {cells_text(np.flatnonzero(~reached))} reach no output; {line}")

    def whole(self, index: int, candidate: int) -> bool:
        """Whether the call reads every input cell along the axis when every output cell is used."""
        axis = self.axes[self.inbound(index)[0]]
        if axis is None:
            return True
        inputs = self.step_inputs(index, candidate)
        key = (index, tuple(inputs), "whole")
        if key not in self.links:
            mask, drops = self.call_back(index, inputs, axis, ALL)
            self.links[key] = drops is None and bool(mask.all())
        return self.links[key]

    def sizes_in(self, source: int, shape: tuple):
        axis = self.axes[source]
        return None if axis is None else shape[axis]

    def call_links(self, index: int, inputs: list, axis: int) -> list:
        key = (index, tuple(inputs))
        if key not in self.links:
            self.links[key] = cached_links(self.steps[index], inputs, axis)
        return self.links[key]

    def call_back(self, index: int, inputs: list, axis: int, demand):
        """The input cells a call's demanded output cells read, and (label, line) if an op drops cells."""
        import numpy as np

        drops = None
        mask = demand
        for kind, data, n_in, n_out in reversed(self.call_links(index, inputs, axis)):
            if mask is ALL or len(mask) != n_out:
                mask = np.ones(n_out, dtype=bool) if mask is ALL else np.full(n_out, bool(mask.any()))
            if kind == "links":
                mask = backward(data, mask, n_in)
            else:
                if kind == "drops" and mask.any():
                    drops = drops or (self.steps[index].label, data)
                mask = np.full(n_in, bool(mask.any()))
        n = inputs[0][axis]
        if mask is ALL or len(mask) != n:
            mask = np.full(n, True if mask is ALL else bool(mask.any()))
        return mask, drops

    def culprit(self, candidate: int, touched):
        """The first step that reads cells fed by the unreached input cells and passes none of them on."""
        import numpy as np

        carried = {-1: touched}
        for index, step in enumerate(self.steps):
            inbound = self.inbound(index)
            got = [carried.get(source) for source in inbound]
            if not any(mask is not None and mask.any() for mask in got):
                continue
            axis_out = self.axes[index]
            out = self.shapes[index][int(self.ids[index][candidate])]
            n_out = 1 if axis_out is None else out[axis_out]
            if step.expr is not None:
                mask = got[0]
                for kind, data, _n_in, n_op in self.call_links(index, self.step_inputs(index, candidate),
                                                                self.axes[inbound[0]]):  # fmt: skip
                    mask = forward(data, mask, n_op) if kind == "links" else np.full(n_op, bool(mask.any()))
                mask = mask if len(mask) == n_out else np.full(n_out, bool(mask.any()))
            else:
                mask = merged_forward(got, n_out)
            if not mask.any():
                return step.label, "it reads none of the cells they feed"
            carried[index] = mask
        return self.steps[-1].label, "they feed no output cell"


def merged_back(demand, sizes: list):
    """The cells of each input of a merge, concatenation or rearrangement that its demanded outputs read."""
    import numpy as np

    out = None if demand is ALL else len(demand)
    if out is not None and sum(n or 0 for n in sizes) == out and len(sizes) > 1 and all(n != out for n in sizes):
        starts = np.cumsum([0, *sizes])  # a concatenation along the axis
        return [demand[a:b] for a, b in zip(starts[:-1], starts[1:])]
    found = []
    for n in sizes:
        if n is None or demand is ALL:
            found.append(ALL)
        elif n == out:
            found.append(demand)
        else:  # a broadcast size 1, or sizes mixed
            found.append(np.full(n, bool(demand.any())))
    return found


def merged_forward(got: list, n_out: int):
    """The output cells of a merge fed by the carried cells of its inputs (a concatenation: in place)."""
    import numpy as np

    sizes = [0 if mask is None else len(mask) for mask in got]
    if sum(sizes) == n_out and len(got) > 1 and all(n != n_out for n in sizes):
        return np.concatenate([np.zeros(0, dtype=bool) if m is None else m for m in got])
    mask = np.zeros(n_out, dtype=bool)
    for carried in got:
        if carried is None:
            continue
        mask |= carried if len(carried) == n_out else bool(carried.any())
    return mask


def moved_axis(step: Step, axis, inputs: list, out: tuple):
    """Where the followed axis is in a step's output (None: flattened, reshaped or pooled away)."""
    if axis is None:
        return None
    if step.moves is not None:
        return step.moves(axis, inputs[0], out)
    return axis if len(out) == len(inputs[0]) else None


LINKS: dict = {}  # (call, its shape keywords, axis) -> links_of: kept across calls, as the plans are
LINKS_LIMIT = 1 << 16


def cached_links(step: Step, inputs: list, axis: int) -> list:
    keywords = call_shapes(step, inputs)
    key = (step.expr, repr(sorted(keywords.items())), axis)
    if key not in LINKS:
        if len(LINKS) >= LINKS_LIMIT:
            LINKS.clear()
        LINKS[key] = links_of(step, inputs, axis)
    return LINKS[key]


def links_of(step: Step, inputs: list, axis: int) -> list:
    """Per op of a call, along the axis: ("links", (source, target), n_in, n_out), ("all", ...) for
    an op that mixes the axis or a non-spatial axis, ("drops", line, ...) for an op whose cells
    ``tracing.links`` does not follow and ``explain`` finds unreached cells in."""
    from .tracing.links import op_links

    mapped = map_call(step.expr, **call_shapes(step, inputs))
    x = inputs[0]
    found = []
    for index, op in enumerate(mapped.ops):
        offset = len(x) - len(op.input_shape)  # an unbatched input lacks the batch axis
        spatial = [tensor_axis + offset for tensor_axis in op.in_spec[2:]]
        if axis not in spatial:
            size = op.input_shape[axis - offset] if 0 <= axis - offset < len(op.input_shape) else 1
            found.append(("all", None, size, -1))
            continue
        j = spatial.index(axis)
        n_in, n_out = op.in_size[j], max(int(arith.output_spatial(op)[j]), 0)
        if op.kind == "pad" and n_out > 0:  # an explicit crop drops its cells on purpose, not silently
            found.append(("all", None, n_in, n_out))
            continue
        links = None if mapped.space_to_batch and index == 0 else op_links(op, j)
        if links is not None:
            found.append(("links", links, n_in, n_out))
            continue
        facts = axis_facts(op, j, "", mapped.space_to_batch and index == 0).get("unreached")
        if facts is None or facts["count"] != 0:
            line = unreached_line(facts).strip() if facts is not None else "cells explain cannot work out"
            found.append(("drops", f"it leaves input cells unreached ({line})", n_in, n_out))
        else:
            found.append(("all", None, n_in, n_out))
    for position, entry in enumerate(found):  # a non-spatial op's output size: the next op's input size
        if entry[3] == -1:
            following = found[position + 1][2] if position + 1 < len(found) else None
            found[position] = (*entry[:3], entry[2] if following is None else following)
    return found


def call_shapes(step: Step, inputs: list) -> dict:
    return step.sized(inputs) if step.sized is not None else {"input_shape": inputs[0]}


def evaluate(step: Step, inputs: list):
    """Each row of input shapes' output shape (None: refused), and the first refusal (size, reason)."""
    outs, refused = [None] * len(inputs), None
    if step.expr is None:
        for row, shapes in enumerate(inputs):
            try:
                outs[row] = tuple(step.shape_of(list(shapes)))
            except ConvArithError as error:
                refused = refused or (shapes[0], str(error))
        return outs, refused
    if any(len(shapes) != len(inputs[0]) for shapes in inputs):
        raise ConvArithError(f"valid_sizes: {step.label} is a call with inputs of changing count.")
    firsts = [shapes[0] for shapes in inputs]
    rest_vary = any(shapes[1:] != inputs[0][1:] for shapes in inputs)
    varying = [
        i for i in range(len(firsts[0])) if len({len(s) for s in firsts}) == 1 and len({s[i] for s in firsts}) > 1
    ]
    if len(varying) == 1 and not rest_vary and len({len(s) for s in firsts}) == 1:
        from .sweeps import sweep

        position = varying[0]
        template = tuple(SIZE_NAME if i == position else n for i, n in enumerate(firsts[0]))
        keywords = call_shapes(step, [template, *inputs[0][1:]])
        table = sweep(step.expr, **keywords, **{SIZE_NAME: [s[position] for s in firsts]})
        for row in range(len(inputs)):
            if table.ok[row]:
                outs[row] = tuple(int(v) for v in table.shapes[row])
            elif refused is None:
                refused = (firsts[row], table.reason(row) or "")
        return outs, refused
    from .api import output_shape

    for row, shapes in enumerate(inputs):
        try:
            outs[row] = tuple(output_shape(step.expr, **call_shapes(step, shapes)))
        except ConvArithError as error:
            refused = refused or (shapes[0], str(error))
    return outs, refused


def cells_text(cells) -> str:
    """Cell indices as runs: '0, 5-7'."""
    runs, start = [], None
    values = [int(c) for c in cells]
    for i, cell in enumerate(values):
        if start is None:
            start = cell
        if i + 1 == len(values) or values[i + 1] != cell + 1:
            runs.append(str(start) if start == cell else f"{start}-{cell}")
            start = None
    return ", ".join(runs[:6]) + (", ..." if len(runs) > 6 else "")


def no_size(step: Step, refused, dropped) -> ConvArithError:
    """The refusal naming the step that rules out every size still alive."""
    if dropped is None:
        size, reason = refused
        return refuse(
            f"valid_sizes: {step.label}",
            f"it refuses every size that reaches it (e.g. {size}: {reason.rstrip('.')})",
            "every layer must accept the size",
            "change that layer or the other sizes of input_shape",
        )
    size, line = dropped
    return refuse(
        f"valid_sizes: {step.label}",
        f"input cells are left unreached for every size (e.g. size {size}: {line})",
        "no layer may drop input cells silently: every input cell along the axis reaches some output cell",
        "a kernel at least as large as the stride, padding that makes the windows cover the input, less cut padding "
        "on a transposed conv, or an averaging (not nearest) downscale",
    )
