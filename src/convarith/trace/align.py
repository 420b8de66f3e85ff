"""The input sizes that line a mismatched merge up: the model re-traced over input sizes."""

from __future__ import annotations

from ..errors import ConvArithError


def lined_up(nodes, input_shape, axis: int, size: int) -> bool:
    """Whether every merge of the model lines up (and every layer takes its input) for input size
    ``size`` on ``axis``."""
    from .graph import trace_nodes

    shape = list(input_shape)
    shape[axis] = size
    try:
        return not trace_nodes(nodes, tuple(shape), align=False).mismatches
    except ConvArithError:
        return False


def aligned_sizes(nodes, input_shape, axis: int, limit: int = 512) -> str:
    """The input sizes (1 to twice the given one, at most ``limit``) for which every merge of the
    model lines up, said as a rule when they are every m-th size."""
    given = input_shape[axis]
    top = min(max(2 * given, 64), limit)
    good = [n for n in range(1, top + 1) if lined_up(nodes, input_shape, axis, n)]
    if not good:
        return f"No input size 1..{top} on axis {axis} lines every merge up: the crop or pad is the fix."
    below = [n for n in good if n < given][-1:]
    above = [n for n in good if n > given][:1]
    near = " or ".join(str(n) for n in below + above)
    steps = {b - a for a, b in zip(good, good[1:])}
    if len(good) > 2 and len(steps) == 1:
        m = steps.pop()
        rule = f"n ≡ {good[0] % m} (mod {m}), n ≥ {good[0]}"
        return f"Or an input size on axis {axis} that lines every merge up: {near} ({rule}, checked 1..{top})."
    shown = ", ".join(map(str, good[:8])) + (", ..." if len(good) > 8 else "")
    return f"Or an input size on axis {axis} that lines every merge up: {near} (of 1..{top}: {shown})."
