"""``valid_sizes``: the input sizes along one axis that a model takes without silent cropping.

A model is a list of ``Step``s, each after its inputs: a call (``expr``) applied to one input, or a
shape function (``shape_of``, e.g. a merge that refuses unequal sizes) over several. Per step,
``convarith.sweep`` gives the output size for every distinct input size still alive (vectorised),
and the step's ``Explanation`` facts (``core/arith`` unreached cells, the numbers ``explain``
shows) say whether some input cell of the axis is reached by no kernel tap. A size survives when
every step accepts it and leaves no cell unreached (an empty output reaches none, and cells
explain could not work out count as unreached). When the output has the input's rank and gives
some size n ≥ 2 back unchanged (an encoder→decoder), it must also give n back (the round trip).
A pure encoder, or a model whose output differs from its input by design (say, 'valid'
convolutions), is held to the first condition only; ``round_trip=`` forces either.

``valid_sizes`` takes a list of calls (a chain); a traced model plugs in by turning its layers
into ``Step``s (window layers as their call, the others as ``shape_of``, merges with ``inbound``)
and calling ``valid_over_steps``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import islice
from typing import NamedTuple

from .api import check_input, map_call, size_text
from .errors import ConvArithError
from .explain import axis_facts, unreached_line
from .frameworks._common import refuse
from .periods import periodic

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


def valid_sizes(model, input_shape, *, axis: int, sizes=range(1, 1025), round_trip: bool | None = None) -> ValidSizes:
    """The sizes along ``axis`` of ``input_shape`` for which no layer of ``model`` leaves an input
    cell unreached and, for an encoder→decoder, the output size equals the input size.

    ``model``: a list of calls applied in sequence. ``round_trip``: None decides as described in
    the module docstring; True or False forces it.

    >>> valid_sizes(["nn.MaxPool2d(2)", "nn.MaxPool2d(2)", "nn.Upsample(scale_factor=4)"],
    ...             (1, 3, 64, 64), axis=2).rule
    'n ≡ 0 (mod 4), n ≥ 4'
    """
    if isinstance(model, (str, bytes)) or not isinstance(model, (list, tuple)) or not model:
        raise ConvArithError(
            f"valid_sizes: model is a {type(model).__name__}. Rule: a model is a non-empty list of calls applied in "
            "sequence. Fix: valid_sizes(['nn.Conv2d(3, 16, 3, stride=2, padding=1)', ...], (1, 3, 64, 64), axis=2)."
        )
    for position, expr in enumerate(model):
        if not isinstance(expr, str):
            raise ConvArithError(
                f"valid_sizes: model[{position}] is a {type(expr).__name__}. Rule: each layer is a call as text. "
                "Fix: write it as a string, e.g. 'nn.MaxPool2d(2)'."
            )
    steps = [Step(f"layer {position} ({expr})", expr) for position, expr in enumerate(model)]
    return valid_over_steps(steps, input_shape, axis=axis, sizes=sizes, round_trip=round_trip)


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


def dropped_cells(expr: str, shape: tuple, axis: int) -> str | None:
    """The explain line of cells some op of the call leaves unreached on tensor ``axis`` (None: none)."""
    mapped = map_call(expr, shape)
    for index, op in enumerate(mapped.ops):
        offset = len(shape) - len(op.input_shape)  # an unbatched input lacks the batch axis
        spatial = [tensor_axis + offset for tensor_axis in op.in_spec[2:]]
        if axis not in spatial or op.kind == "pad":  # an explicit crop removes cells on purpose, not silently
            continue
        op_axis = spatial.index(axis)
        facts = axis_facts(op, op_axis, "", mapped.space_to_batch and index == 0)
        found = facts.get("unreached")
        if found is not None and found["count"] != 0:
            return unreached_line(found).strip()
    return None


def valid_over_steps(steps, input_shape, *, axis: int, sizes=range(1, 1025), round_trip: bool | None = None):
    """``valid_sizes`` of ``Step``s in an order where each comes after its inputs; the last is the output."""
    import numpy as np

    shape = check_input(input_shape)
    if shape[0] is None:
        shape = (1, *shape[1:])
    axis = checked_axis(axis, shape)
    asked = checked_sizes(sizes)
    candidates = np.array(asked, dtype=np.int64)
    alive = np.ones(len(candidates), dtype=bool)
    outputs = {-1: (candidates, list(shape))}  # per step: its size along the axis per candidate, its shape
    removed = []
    for index, step in enumerate(steps):
        inbound = (index - 1,) if step.inbound is None else step.inbound
        sources = [outputs[source] for source in inbound]
        columns = np.stack([column for column, _ in sources], axis=1)
        distinct, where = np.unique(columns[alive], axis=0, return_inverse=True)
        result = step_sizes(step, distinct, [rest for _, rest in sources], axis)
        keeps, moved, rest = result[:3]
        passed = alive.copy()
        passed[alive] = keeps[where.reshape(-1)]
        removed.append((step.label, int(alive.sum() - passed.sum())))
        if not passed.any():
            raise no_size(step, distinct, *result[3:])
        column = np.full(len(candidates), -1, dtype=np.int64)
        column[alive] = moved[where.reshape(-1)]
        alive = passed
        outputs[index] = (np.where(alive, column, -1), rest)
    current, rest = outputs[len(steps) - 1]
    back = alive & (current == candidates)
    if round_trip is None:
        round_trip = len(rest) == len(shape) and bool((back & (candidates >= 2)).any())
    if round_trip:
        if not back.any():
            n = int(candidates[alive][0])
            raise refuse(
                "valid_sizes",
                f"no input size comes back along axis {axis}, e.g. n={n} -> {int(current[alive][0])}",
                "with round_trip=True the output size must equal the input size",
                "adjust the decoder (output_padding, padding or the upsampling) or pass round_trip=False",
            )
        removed.append(("the round trip (output size = input size)", int(alive.sum() - back.sum())))
        alive = back
    found = [int(n) for n in candidates[alive]]
    rule = periodic(found, asked)
    residue = rule.residues[0] if rule.residues else None
    return ValidSizes(found, rule.text, rule.modulus, residue, rule.residues, rule.minimum, round_trip, axis,
                      tuple(removed))  # fmt: skip


def with_size(rest: list, axis: int, size) -> tuple:
    return tuple(int(size) if i == axis else v for i, v in enumerate(rest))


def step_sizes(step: Step, distinct, rests: list, axis: int):
    """For each distinct row of input sizes: whether the step takes it whole, its output size
    along the axis; then the output shape, and for a refusal a refused row and a dropping one."""
    import numpy as np

    keeps, moved = np.zeros(len(distinct), dtype=bool), np.full(len(distinct), -1, dtype=np.int64)
    shapes, refused, dropped = [None] * len(distinct), None, None
    if step.expr is not None:
        from .sweeps import sweep

        if len(rests) != 1:
            raise ConvArithError(f"valid_sizes: {step.label} is a call with {len(rests)} inputs; a call takes one.")
        template = tuple(SIZE_NAME if i == axis else size for i, size in enumerate(rests[0]))
        table = sweep(step.expr, template, **{SIZE_NAME: [int(n) for n in distinct[:, 0]]})
        for row in range(len(distinct)):
            if table.ok[row]:
                shapes[row] = tuple(int(v) for v in table.shapes[row])
            elif refused is None:
                refused = (int(distinct[row, 0]), table.reason(row) or "")
    else:
        for row, sizes in enumerate(distinct):
            try:
                shapes[row] = tuple(step.shape_of([with_size(rest, axis, n) for rest, n in zip(rests, sizes)]))
            except ConvArithError as error:
                if refused is None:
                    refused = (tuple(int(n) for n in sizes), str(error))
    rest = None
    for row, out in enumerate(shapes):
        if out is None:
            continue
        if len(out) != len(rests[0]):
            raise refuse(
                f"valid_sizes: {step.label}",
                f"it changes the rank from {len(rests[0])} to {len(out)}",
                "the size along the axis is followed through layers that keep the rank",
                "end the list before the layer that flattens or reshapes",
            )
        if out[axis] == 0:  # arith.unreached: an empty output reaches no cell
            line = f"the output is empty, so all {int(distinct[row, 0])} input cells are dropped"
        elif step.expr is not None:
            line = dropped_cells(step.expr, with_size(rests[0], axis, distinct[row, 0]), axis)
        else:
            line = None
        if line is not None:
            dropped = dropped or (int(distinct[row, 0]), line)
            continue
        others = out[:axis] + out[axis + 1 :]
        if rest is not None and others != tuple(rest[:axis] + rest[axis + 1 :]):
            raise refuse(
                f"valid_sizes: {step.label}",
                "its other output sizes change with the size along the axis",
                "the axis is followed alone (the other sizes stay as given)",
                "choose the axis the layers treat independently, e.g. a spatial one",
            )
        keeps[row], moved[row], rest = True, out[axis], list(out)
    return keeps, moved, rest, refused, dropped


def no_size(step: Step, distinct, refused, dropped) -> ConvArithError:
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
        f"it leaves input cells unreached for every size that reaches it (e.g. size {size}: {line})",
        "no layer may drop input cells silently",
        "a kernel at least as large as the stride, padding that makes the windows cover the input, less cut padding "
        "on a transposed conv, or an averaging (not nearest) downscale",
    )
