"""Trace and Layer: the shape of every layer of a model, and how far each output sees.

Receptive fields are per spatial axis of the model input: output cell i of a layer sees the
input cells ``i*effective_stride - effective_padding`` to that plus ``receptive_field - 1``
(the window of the first output starts ``effective_padding`` cells before the input). After a
transposed layer or an upsampling the jump is a fraction (``Fraction(1, 2)``): the windows move
by whole steps every few outputs, ``receptive_field`` is the largest over output positions and
``effective_padding`` is the first output's. ``None``: not defined (axes rearranged by a
Reshape/Permute/Flatten of a tensor with more than one position, or a sampling with no fixed window).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from html import escape
from math import ceil


@dataclass(frozen=True)
class Field:
    """One spatial axis's window from the model input: size, jump and start offset."""

    size: int
    jump: Fraction
    padding: Fraction

    def window(self, kernel: int, stride: int, pad_lo: int) -> Field:
        """After a window op (conv, pool, explicit pad with kernel 1, crop as a negative pad)."""
        return Field(self.size + (kernel - 1) * self.jump, self.jump * stride, self.padding + pad_lo * self.jump)

    def transposed(self, kernel: int, stride: int, pad_lo: int) -> Field:
        """After a transposed window op: output o receives input u for u*stride + t - pad_lo = o,
        t < kernel; at most ceil(kernel/stride) inputs per output."""
        first = ceil(Fraction(pad_lo - kernel + 1, stride))  # the first input reaching output 0
        taps = ceil(Fraction(kernel, stride))
        return Field(self.size + (taps - 1) * self.jump, self.jump / stride, self.padding - first * self.jump)

    @property
    def end(self) -> Fraction:
        """The last input cell the first output sees."""
        return self.size - 1 - self.padding


def merge_fields(fields: list[Field]) -> Field:
    """The fields of a merge's inputs (equal jumps): the span covering every branch's window."""
    start = min(-f.padding for f in fields)
    end = max(f.end for f in fields)
    return Field(end - start + 1, fields[0].jump, -start)


def number(value) -> str:
    """An int, or a fraction as 'a/b'."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return str(value.numerator)
    return str(value)


def axis_text(values) -> str:
    if values is None:
        return "-"
    return "x".join(number(v) for v in values)


@dataclass
class Layer:
    """One traced layer. ``padding``: (before, after) per spatial axis of its input, as the layer
    pads (negative: crops), () for layers without a window; receptive fields from the model input."""

    name: str
    kind: str
    input_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...]
    padding: tuple[tuple[int, int], ...] = ()
    fields: tuple[Field, ...] | None = None
    params: int = 0
    inbound: tuple[str, ...] = ()
    call: str = ""  # the convarith call text the shape came from, '' for the small rules of kinds.py
    note: str = ""  # why a receptive field ends, or the mismatch at this merge
    within: str = ""  # the model inside the model this layer is inlined from ('' at the top)

    @property
    def receptive_field(self) -> tuple | None:
        return None if self.fields is None else tuple(normal(f.size) for f in self.fields)

    @property
    def effective_stride(self) -> tuple | None:
        return None if self.fields is None else tuple(normal(f.jump) for f in self.fields)

    @property
    def effective_padding(self) -> tuple | None:
        return None if self.fields is None else tuple(normal(f.padding) for f in self.fields)

    def to_dict(self) -> dict:
        def plain(values):
            return None if values is None else [v if isinstance(v, int) else str(v) for v in values]

        return {
            "name": self.name,
            "kind": self.kind,
            "inbound": list(self.inbound),
            "input_shapes": [list(s) for s in self.input_shapes],
            "output_shape": list(self.output_shape),
            "padding": [list(p) for p in self.padding],
            "receptive_field": plain(self.receptive_field),
            "effective_stride": plain(self.effective_stride),
            "effective_padding": plain(self.effective_padding),
            "params": self.params,
            "call": self.call,
            "note": self.note,
            "within": self.within,
        }


def normal(value):
    """A whole Fraction as an int."""
    return int(value) if isinstance(value, Fraction) and value.denominator == 1 else value


@dataclass
class Mismatch:
    """A merge whose inputs do not line up (a concat or add of 47 and 48)."""

    layer: str
    inputs: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    axis: int
    sizes: tuple[int, ...]
    fixes: tuple[str, ...]

    def __str__(self) -> str:
        got = ", ".join(f"{n} {tuple(s)}" for n, s in zip(self.inputs, self.shapes))
        traced = f"traced on with {self.inputs[0]}'s sizes"
        return f"{self.layer}: inputs do not line up on axis {self.axis} ({got}; {traced}). " + " ".join(self.fixes)


COLUMNS = ("Layer (kind)", "Output shape", "Padding", "RF", "Jump", "Start", "Params")


@dataclass
class Trace:
    """Every layer of a model traced on one input shape (``layers`` in order)."""

    layers: list[Layer]
    input_shape: tuple[int, ...]
    mismatches: list[Mismatch] = field(default_factory=list)
    windows: object = field(default=None, repr=False, compare=False)  # windows.Windows: each output's window

    def window(self, name: str, position) -> tuple[tuple[int, int], ...]:
        """Per spatial axis of the model input: the first and last input cell that output ``position``
        (its spatial indices) of layer ``name`` sees, unclipped (below 0 or past the input: padding)."""
        from ..errors import ConvArithError

        layer = self[name]
        position = tuple(position)
        if layer.fields is None or self.windows is None or len(position) != len(layer.fields):
            raise ConvArithError(
                f"Trace.window: layer {name!r} at {position}. Rule: a position gives one index per spatial axis "
                f"({0 if layer.fields is None else len(layer.fields)}) of a layer with a receptive field. Fix: a "
                "layer whose receptive field the table shows."
            )
        return tuple(self.windows.window(name, axis, int(i), int(i)) for axis, i in enumerate(position))

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers if not layer.within)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].output_shape

    def __getitem__(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def rows(self) -> list[tuple[str, ...]]:
        return [
            (
                f"{layer.name} ({layer.kind})",
                str(tuple(layer.output_shape)),
                " ".join(f"{a}/{b}" for a, b in layer.padding) if layer.padding else "",
                axis_text(layer.receptive_field),
                axis_text(layer.effective_stride),
                axis_text(None if layer.fields is None else [-p for p in layer.effective_padding]),
                f"{layer.params:,}",
            )
            for layer in self.layers
        ]

    def __str__(self) -> str:
        rows = [COLUMNS, *self.rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))

        def line(row):
            return "  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))

        lines = [rule, line(COLUMNS), rule, *map(line, rows[1:]), rule]
        lines.append(f"Input {tuple(self.input_shape)}, output {tuple(self.output_shape)}, params {self.params:,}")
        lines.append("RF: receptive field per spatial axis; Jump: input cells between neighbouring outputs;")
        lines.append("Start: the input cell where the first output's window starts (negative: in the padding).")
        lines += [f"Mismatch: {m}" for m in self.mismatches]
        merged = {m.layer for m in self.mismatches}
        lines += [
            f"Note: {layer.name}: {layer.note}" for layer in self.layers if layer.note and layer.name not in merged
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "params": self.params,
            "layers": [layer.to_dict() for layer in self.layers],
            "mismatches": [str(m) for m in self.mismatches],
        }

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in self.rows())
        notes = "".join(f"<p>Mismatch: {escape(str(m))}</p>" for m in self.mismatches)
        return (
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>Input {escape(str(tuple(self.input_shape)))}, params {self.params:,}</p>{notes}"
        )


__all__ = ["Field", "Layer", "Mismatch", "Trace", "merge_fields"]
