"""The same intent in all five frameworks side by side: each one's call, its output shape in its own
layout (the emitted calls mapped by the library), its padding per side, or its refusal."""

from __future__ import annotations

from itertools import product

from ..api import map_call
from ..core import arith
from ..core.op import ConvOp
from ..core.record import Record
from ..errors import ConvArithError
from ..frameworks._common import Mapped
from . import TARGETS, module_for
from .code import DISPLAY, target_view

__all__ = ["Comparison", "Entry", "compare"]

CHANNELS_LAST = ("keras", "tf_nn")  # the frameworks whose users lay tensors out (N, *spatial, C)


class Entry(Record):
    """One framework's answer: its calls, output shape and padding per op, or why it refuses."""

    name: str  # as to= names it
    framework: str
    call: str = ""
    calls: tuple[str, ...] = ()
    output_shape: tuple | None = None
    padding: tuple[tuple[tuple[int, int], ...], ...] = ()  # per op of the calls: (before, after) per spatial axis
    refusal: str = ""

    def to_dict(self) -> dict:
        return {
            "framework": self.framework,
            "call": self.call,
            "calls": list(self.calls),
            "output_shape": None if self.output_shape is None else list(self.output_shape),
            "padding": [[list(side) for side in op] for op in self.padding],
            "refusal": self.refusal or None,
        }


def canonical(op: ConvOp, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape laid out by ``op.in_spec`` as (N, C, *spatial)."""
    return tuple(shape[axis] for axis in op.in_spec)


def laid_out(shape: tuple[int, ...], channels_last: bool) -> tuple[int, ...]:
    """A canonical (N, C, *spatial) shape in a framework's usual layout."""
    return (shape[0], *shape[2:], shape[1]) if channels_last else shape


def weight_candidates(op: ConvOp) -> list[tuple[int, ...]]:
    """The shapes a weight of ``op`` has in the frameworks' layouts: canonical, kernel-first
    (k..., I, O) and (k..., O, I), depthwise (k..., C, multiplier), and the bias."""
    from ..reference.adapters import canonical_weight_shape

    w = canonical_weight_shape(op)
    kernel, first, second = w[2:], w[0], w[1]
    multiplier = op.out_channels // max(op.in_channels, 1)
    shapes = [w, (*kernel, second, first), (*kernel, first, second), (*kernel, op.in_channels, multiplier)]
    return list(dict.fromkeys([*shapes, (op.out_channels,)]))


def map_one(text: str, shape: tuple[int, ...], weighted: list[ConvOp]) -> tuple[Mapped, bool]:
    """``text`` mapped on an input of ``shape``; a function's other tensors get the shapes of the next
    weighted op's weight in whichever layout maps. True when that op's weight was used."""
    from ..parse import parse_call
    from ..reference.adapters import array_names

    names = list(dict.fromkeys(name for _, name in array_names(parse_call(text))))
    if not names:
        return map_call(text, shape), False
    if len(names) == 1 or not weighted:
        return map_call(text, shapes={names[0]: shape}), False
    error = None
    for chosen in product(weight_candidates(weighted[0]), repeat=min(len(names) - 1, 3)):
        try:
            return map_call(text, shapes={names[0]: shape, **dict(zip(names[1:], chosen))}), True
        except ConvArithError as exc:
            error = exc
    raise error


def chain(framework_id: str, calls: tuple[str, ...], mapped: Mapped) -> tuple[tuple | None, tuple[ConvOp, ...]]:
    """The target's calls mapped in order on the input in its usual layout: the output shape and the
    ops. A call the library does not read (an activation) keeps the shape; when the calls do not
    give the source's output (a slice, a divisor computed beside the pool), the source's ops stand for
    them and the shape is the source's output in the target's usual layout."""
    first, last = mapped.ops[0], mapped.ops[-1]
    shape = laid_out(canonical(first, first.input_shape), framework_id in CHANNELS_LAST)
    weighted = [op for op in mapped.ops if not op.weightless]
    ops: list[ConvOp] = []
    for text in calls:
        try:
            result, used = map_one(text, shape, weighted)
        except ConvArithError:
            continue
        if used:
            weighted.pop(0)
        shape = result.output_shape
        ops.extend(result.ops)
    spatial = tuple(max(size, 0) for size in arith.output_spatial(last))
    wanted = laid_out((last.batch // last.batch_groups, last.out_channels, *spatial), framework_id in CHANNELS_LAST)
    if not ops or sorted(shape) != sorted(wanted):  # a step the library does not map (a slice, a divisor)
        return wanted, mapped.ops
    return shape, tuple(ops)


def entry(name: str, mapped: Mapped) -> Entry:
    framework_id = TARGETS[name]
    try:
        target = module_for(framework_id).target(target_view(mapped))
    except ConvArithError as exc:
        return Entry(name, DISPLAY[framework_id], refusal=str(exc))
    calls = target.calls or (target.call,)
    shape, ops = chain(framework_id, calls, mapped)
    if mapped.free_batch and shape:  # a None batch: computed on one sample, shown as None (batch first)
        shape = (None, *shape[1:])
    padding = tuple(tuple(zip(op.pad_lo, op.pad_hi)) for op in ops)
    return Entry(name, DISPLAY[framework_id], target.call, calls, shape, padding)


class Comparison:
    """One call's intent in every framework (``entries``, in the order keras, torch, tf, jax, onnx)."""

    def __init__(self, mapped: Mapped, entries: tuple[Entry, ...]):
        self.mapped = mapped
        self.entries = entries

    def __getitem__(self, name: str) -> Entry:
        return next(entry for entry in self.entries if entry.name == name)

    def to_dict(self) -> dict:
        return {
            "call": self.mapped.call.text,
            "framework": self.mapped.framework,
            "input_shape": list(self.mapped.given_input_shape),
            "output_shape": list(self.mapped.output_shape),
            "frameworks": {entry.name: entry.to_dict() for entry in self.entries},
        }

    def rows(self) -> list[tuple[str, str, str, str]]:
        rows = []
        for entry in self.entries:
            if entry.refusal:
                rows.append((entry.name, "refused: " + entry.refusal, "", ""))
                continue
            padding = "; ".join(", ".join(f"({lo}, {hi})" for lo, hi in op) for op in entry.padding)
            rows.append((entry.name, " -> ".join(entry.calls), str(entry.output_shape), padding))
        return rows

    def __str__(self) -> str:
        head = f"{self.mapped.call.text} on {self.mapped.given_input_shape} [{self.mapped.framework}]"
        rows = [("framework", "call", "output shape", "padding per side (before, after)"), *self.rows()]
        widths = [max(len(row[i]) for row in rows if not row[1].startswith("refused")) for i in range(3)]
        lines = [head]
        for row in rows:
            if row[1].startswith("refused"):
                lines.append(f"{row[0].ljust(widths[0])}  {row[1]}")
            else:
                lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
        return "\n".join(line.rstrip() for line in lines)

    def _repr_html_(self) -> str:
        from html import escape

        cells = "".join(
            f"<tr><th>{escape(name)}</th><td><code>{escape(call)}</code></td><td>{escape(shape)}</td>"
            f"<td>{escape(padding)}</td></tr>"
            for name, call, shape, padding in self.rows()
        )
        return (
            f"<p>{escape(self.mapped.call.text)} on {self.mapped.given_input_shape}</p><table><tr><th>framework</th>"
            f"<th>call</th><th>output shape</th><th>padding per side</th></tr>{cells}</table>"
        )


def compare(expr: str, input_shape=None, *, shapes=None, output_size=None) -> Comparison:
    """``expr`` (mapped once) in each of the five frameworks."""
    mapped = map_call(expr, input_shape, shapes=shapes, output_size=output_size)
    return Comparison(mapped, tuple(entry(name, mapped) for name in TARGETS))
