"""The input sizes that line a model's merges up along one axis: each layer's size along that axis
as an array over candidate input sizes, window layers by ``convarith.sweep`` of their own call."""

from __future__ import annotations

from . import kinds

GONE = -2  # the axis is no longer a spatial axis (flattened, reshaped, pooled away)
REFUSED = -1  # the layer refuses this input size, or a merge's inputs do not line up


def sizes_along(nodes, layers: dict, axis: int, candidates):
    """{layer name: its size along ``axis`` per candidate input size} (NumPy int arrays)."""
    import numpy as np

    from ..sweeps import sweep

    sizes: dict = {}
    for node in nodes:
        if node.kind == "InputLayer":
            sizes[node.name] = np.asarray(candidates, dtype=np.int64)
            continue
        ins = [sizes[name] for name in node.inbound]
        x, layer = ins[0], layers[node.name]
        if node.kind in kinds.WINDOW_KINDS:
            out = np.full_like(x, REFUSED)
            out[x == GONE] = GONE
            live = x >= 0
            if live.any():
                shape = list(layer.input_shapes[0])
                shape[axis] = "n"
                values = np.unique(x[live])
                table = sweep(layer.call, tuple(shape), n=values.tolist()).shapes
                if len(layer.output_shape) != len(shape):  # pooled away
                    got = np.where(table[:, 0] >= 0, GONE, REFUSED)
                else:
                    got = table[:, axis]
                out[live] = got[np.searchsorted(values, x[live])]
            sizes[node.name] = out
        elif node.kind in kinds.MERGES or node.kind == "Concatenate":
            sizes[node.name] = merged(node, ins, axis, len(layer.output_shape))
        elif node.kind in kinds.REARRANGING:
            sizes[node.name] = np.where(x == REFUSED, REFUSED, GONE)
        else:
            sizes[node.name] = x
    return sizes


def merged(node, ins, axis: int, rank: int):
    """A merge's size along ``axis``: Concatenate's sum on its own axis, else equal sizes (a 1 broadcasts)."""
    import numpy as np

    out = ins[0].copy()
    concat_axis = node.config.get("axis", -1) % rank if node.kind == "Concatenate" else None
    for other in ins[1:]:
        if axis == concat_axis:
            out = np.where((out >= 0) & (other >= 0), out + other, np.minimum(out, other))
            continue
        broadcast = node.kind != "Concatenate"
        agree = (out == other) | (broadcast & (out == 1)) | (broadcast & (other == 1))
        out = np.where(agree, np.maximum(out, other) if broadcast else out, REFUSED)
        out = np.where((ins[0] == REFUSED) | (other == REFUSED), REFUSED, out)
    return out


def lined_up_sizes(nodes, layers: dict, axis: int, top: int) -> list[int]:
    """The input sizes 1..top along ``axis`` for which every layer takes its input and every merge lines up."""
    import numpy as np

    candidates = np.arange(1, top + 1)
    ok = np.ones(len(candidates), dtype=bool)
    for size in sizes_along(nodes, layers, axis, candidates).values():
        ok &= size != REFUSED
    return candidates[ok].tolist()


def aligned_sizes(nodes, layers: dict, input_shape, axis: int, limit: int = 512) -> str:
    """The input sizes (1 to twice the given one, at most ``limit``) that line every merge up along
    ``axis``, said as a rule when they repeat with a period."""
    given = input_shape[axis]
    top = min(max(2 * given, 64), limit)
    good = lined_up_sizes(nodes, layers, axis, top)
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
