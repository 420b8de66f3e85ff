"""The input sizes that line a model's merges up along one axis (any layout: channels last for Keras,
first for ONNX and torch), followed through the model's layers as ``valid_sizes`` follows them."""

from __future__ import annotations

from ..errors import ConvArithError


def lined_up_sizes(nodes, input_shape, axis: int, top: int) -> list[int]:
    """The input sizes 1..top along ``axis`` for which every layer takes its input and every merge lines up
    (``valid.Flow`` over the model's steps: each window layer one sweep over the sizes reaching it)."""
    import numpy as np

    from ..valid import Flow
    from .valid_model import steps_of

    steps, shape = steps_of(nodes, input_shape, lenient=axis)
    flow = Flow(steps, tuple(shape), axis, np.arange(1, top + 1, dtype=np.int64))
    try:
        flow.shapes_forward()
    except ConvArithError:  # some layer refuses every size
        return []
    return (np.flatnonzero(flow.alive) + 1).tolist()


def aligned_sizes(nodes, input_shape, axis: int, limit: int = 512) -> str:
    """The input sizes (1 to twice the given one, at most ``limit``) that line every merge up along
    ``axis``, said as a rule when they repeat with a period."""
    given = input_shape[axis]
    top = min(max(2 * given, 64), limit)
    good = lined_up_sizes(nodes, input_shape, axis, top)
    if not good:
        return f"No input size 1..{top} on axis {axis} lines every merge up: the crop or pad is the fix."
    below = [n for n in good if n < given][-1:]
    above = [n for n in good if n > given][:1]
    near = " or ".join(str(n) for n in below + above)
    period = periodic(good, top)
    if period:
        m, residues = period
        rule = (
            f"n ≡ {residues[0]} (mod {m})"
            if len(residues) == 1
            else f"n mod {m} in {{{', '.join(map(str, residues))}}}"
        )
        return f"Or an input size on axis {axis} that lines every merge up: {near} ({rule}, n ≥ {good[0]}, checked 1..{top})."
    shown = ", ".join(map(str, good[:8])) + (", ..." if len(good) > 8 else "")
    return f"Or an input size on axis {axis} that lines every merge up: {near} (of 1..{top}: {shown})."


def periodic(good: list[int], top: int):
    """(m, residues) when the good sizes from the first one to ``top`` are exactly those with
    n mod m in residues, for the smallest such m that repeats at least twice; else None."""
    first, good_set = good[0], set(good)
    for m in range(1, (top - first + 1) // 2 + 1):
        residues = sorted({n % m for n in good})
        if len(residues) < m and all((n in good_set) == (n % m in residues) for n in range(first, top + 1)):
            return m, residues
    return None
