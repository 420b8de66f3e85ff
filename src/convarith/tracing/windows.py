"""Exact receptive fields below a transposed layer or an upsampling: there the windows of
neighbouring outputs move by whole input steps every few outputs, so the window size and start
come from mapping each output position of one period back to the model input."""

from __future__ import annotations

from fractions import Fraction
from math import gcd, lcm
from typing import NamedTuple

from ..core import arith

PERIOD_LIMIT = 1024  # beyond this many positions per period the fields stay the closed-form bound


TABLED = ("adaptive_max_pool", "adaptive_avg_pool", "resize")  # windows read from the op's links, per output


def steps_of(ops) -> list[list[tuple]] | None:
    """Per spatial axis, the ops of a window layer in order: (transposed, kernel, stride, pad_lo), or
    ("table", first, last, period) for an op whose windows are listed per output (``table``)."""
    axes = None
    for op in ops:
        if op.kind in TABLED:
            per_axis = [table(op, axis) for axis in range(op.rank)]
            if None in per_axis:
                return None
        else:
            k_eff = [d * (k - 1) + 1 for k, d in zip(op.kernel, op.dilation)]
            per_axis = [(op.kind == "conv_transpose", k, s, lo) for k, s, lo in zip(k_eff, op.stride, op.pad_lo)]
        axes = [[step] for step in per_axis] if axes is None else [a + [step] for a, step in zip(axes, per_axis)]
    return axes


def table(op, axis: int) -> tuple:
    """("table", first, last, period): the first and last input cell each output reads along ``axis``
    (``links.op_links``: adaptive windows, the resize's sampling), and the outputs per repeat (None:
    links not followed, or no output)."""
    import numpy as np

    from .links import op_links

    n, out = op.in_size[axis], max(int(arith.output_spatial(op)[axis]), 0)
    links = op_links(op, axis)
    if links is None or not out:
        return None
    source, target = links
    first, last = np.full(out, n, dtype=np.int64), np.full(out, -1, dtype=np.int64)
    np.minimum.at(first, target, source)
    np.maximum.at(last, target, source)
    return ("table", first, last, out // gcd(n, out) if n and out else 1)


def step_period(step: tuple) -> int:
    """How many outputs of the step make its windows repeat (by whole input steps)."""
    return step[3] if step[0] == "table" else step[2] if step[0] else 1


def back(step: tuple, a: int, b: int) -> tuple[int, int]:
    """The input cells that reach outputs a..b of one op (unclipped: padding cells counted; a table's
    outputs beyond its ends read what its edge outputs read)."""
    if step[0] == "table":
        _, first, last, _ = step
        a, b = min(max(a, 0), len(first) - 1), min(max(b, 0), len(first) - 1)
        return int(first[a : b + 1].min()), int(last[a : b + 1].max())
    transposed, k, s, lo = step
    if transposed:  # output o = u*s + t - lo, t < k
        return -(-(a + lo - k + 1) // s), (b + lo) // s
    return a * s - lo, b * s - lo + k - 1


class Whole(NamedTuple):
    """The steps of a layer that mixes the spatial axes (Flatten, Reshape): its input's spatial sizes."""

    sizes: tuple[int, ...]


class Windows:
    """Each traced layer's way back to its inputs, and the windows of output positions."""

    def __init__(self) -> None:
        self.layers: dict = {}
        self.memo: dict = {}

    def add(self, layer, steps, merge: bool, period: int) -> None:
        self.layers[layer.name] = (layer, steps, merge, period)

    def period(self, names) -> int:
        return lcm(*(self.layers[name][3] for name in names)) if names else 1

    def window(self, name: str, axis: int, a: int, b: int) -> tuple[int, int]:
        key = (name, axis, a, b)
        if key in self.memo:
            return self.memo[key]
        layer, steps, merge, _ = self.layers[name]
        if not layer.inbound:
            found = (a, b)
        elif merge:
            from .kinds import channels_first

            spans = []
            first = 2 if channels_first(layer.kind) else 1  # the first spatial axis (ONNX and torch: NCHW)
            for source in layer.inbound:
                shape = self.layers[source][0].output_shape
                broadcast = len(shape) == len(layer.output_shape) and shape[axis + first] == 1
                spans.append(self.window(source, axis, *((0, 0) if broadcast else (a, b))))
            found = (min(s[0] for s in spans), max(s[1] for s in spans))
        elif isinstance(steps, Whole):  # every output sees every position of the input
            found = self.window(layer.inbound[0], axis, 0, steps.sizes[axis] - 1)
        else:
            for step in reversed(steps[axis] if steps else ()):
                a, b = back(step, a, b)
            found = self.window(layer.inbound[0], axis, a, b)
        self.memo[key] = found
        return found

    def whole(self, layer, source, sizes: tuple[int, ...]):
        """Add a layer that mixes the spatial axes; its fields: the span of every position of ``source``."""
        from .model import Field

        self.add(layer, Whole(sizes), False, 1)
        spans = [self.window(source, axis, 0, n - 1) for axis, n in enumerate(sizes)]
        return tuple(Field(hi - lo + 1, Fraction(0), Fraction(-lo)) for lo, hi in spans)

    def exact(self, name: str, fields, period: int):
        """The fields of ``name`` from the windows of one period of output positions."""
        from .model import Field

        if period == 1 or period > PERIOD_LIMIT or fields is None:
            return fields
        exact = []
        for axis, field in enumerate(fields):
            spans = [self.window(name, axis, o, o) for o in range(period)]
            exact.append(Field(max(hi - lo + 1 for lo, hi in spans), field.jump, -spans[0][0]))
        return tuple(exact)
