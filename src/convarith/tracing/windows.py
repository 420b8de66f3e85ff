"""Exact receptive fields below a transposed layer or an upsampling: there the windows of
neighbouring outputs move by whole input steps every few outputs, so the window size and start
come from mapping each output position of one period back to the model input."""

from __future__ import annotations

from math import lcm

PERIOD_LIMIT = 1024  # beyond this many positions per period the fields stay the closed-form bound


def steps_of(ops) -> list[list[tuple]] | None:
    """Per spatial axis, the ops of a window layer as (transposed, kernel, stride, pad_lo) in order."""
    axes = None
    for op in ops:
        if op.kind == "resize":
            factors = [o // n if n else 1 for o, n in zip(op.out_size, op.in_size)]
            per_axis = [(True, f, f, 0) for f in factors]
        else:
            k_eff = [d * (k - 1) + 1 for k, d in zip(op.kernel, op.dilation)]
            per_axis = [(op.kind == "conv_transpose", k, s, lo) for k, s, lo in zip(k_eff, op.stride, op.pad_lo)]
        axes = [[step] for step in per_axis] if axes is None else [a + [step] for a, step in zip(axes, per_axis)]
    return axes


def back(step: tuple, a: int, b: int) -> tuple[int, int]:
    """The input cells that reach outputs a..b of one op (unclipped: padding cells counted)."""
    transposed, k, s, lo = step
    if transposed:  # output o = u*s + t - lo, t < k
        return -(-(a + lo - k + 1) // s), (b + lo) // s
    return a * s - lo, b * s - lo + k - 1


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
        else:
            for step in reversed(steps[axis] if steps else ()):
                a, b = back(step, a, b)
            found = self.window(layer.inbound[0], axis, a, b)
        self.memo[key] = found
        return found

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
