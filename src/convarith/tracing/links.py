"""Which input cells of one axis each output cell of a call reads: the links (input cell, output
cell) of every op, from the op's own window (``core/arith``'s adaptive windows, the reference
engine's resize sampling). ``valid_sizes`` follows them backward from the model output (the input
cells the output depends on) and forward from unreached cells (the layer that drops them)."""

from __future__ import annotations

from ..core import arith

WINDOWED = ("conv", "max_pool", "avg_pool", "lp_pool", "min_pool", "sum_pool", "unfold", "pad")
SCATTERED = ("conv_transpose", "max_unpool")  # each input cell writes to a window of outputs


def op_links(op, axis: int):
    """(source, target) int arrays: input cell source[i] feeds output cell target[i] along spatial
    ``axis`` of ``op`` (cells inside the input only; padding repeated by reflect/replicate/circular
    counts as the cell it copies). None for an op whose cells this does not follow."""
    import numpy as np

    n, out = op.in_size[axis], int(arith.output_spatial(op)[axis])
    if out <= 0 or n <= 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    if op.kind in WINDOWED:
        k, s, d, lo = op.kernel[axis], op.stride[axis], op.dilation[axis], op.pad_lo[axis]
        holes = op.lhs_dilation[axis] if op.lhs_dilation else 1
        if out * k > 1 << 24:
            return None
        target = np.repeat(np.arange(out, dtype=np.int64), k)
        position = (target * s - lo).reshape(out, k) + np.arange(k, dtype=np.int64) * d
        position = position.reshape(-1)
        span = (n - 1) * holes + 1
        if op.pad_mode != "zeros" and holes == 1:
            outside = (position < 0) | (position >= n)
            copied = copy_sources(position[outside], n, op.pad_mode)
            position = position.copy()
            position[outside] = copied
        keep = (position >= 0) & (position < span) & (position % holes == 0)
        return position[keep] // holes, target[keep]
    if op.kind in SCATTERED:
        k, s, d, lo = op.kernel[axis], op.stride[axis], op.dilation[axis], op.pad_lo[axis]
        if n * k > 1 << 24:
            return None
        source = np.repeat(np.arange(n, dtype=np.int64), k)
        target = (source * s - lo).reshape(n, k) + np.arange(k, dtype=np.int64) * d
        target = target.reshape(-1)
        keep = (target >= 0) & (target < out)
        return source[keep], target[keep]
    if op.kind in ("adaptive_max_pool", "adaptive_avg_pool"):
        first, stop = arith.adaptive_window(np.arange(out, dtype=np.int64), n, out)
        width = int((stop - first).max())
        cells = first[:, None] + np.arange(width)
        keep = cells < stop[:, None]
        return cells[keep], np.broadcast_to(np.arange(out)[:, None], cells.shape)[keep]
    if op.kind == "resize":
        from ..reference.resize import filtered, sampling

        try:
            cells, weights = filtered(op, axis) or sampling(op, axis)
        except (ValueError, NotImplementedError):
            return None
        keep = weights != 0
        return cells[keep].astype(np.int64), np.broadcast_to(np.arange(out)[:, None], cells.shape)[keep]
    if op.kind == "depth_to_space":  # output o copies input cell o // block
        target = np.arange(out, dtype=np.int64)
        return target // op.kernel[axis], target
    if op.kind == "space_to_depth":  # input cell u goes to output u // block
        source = np.arange(min(n, out * op.kernel[axis]), dtype=np.int64)
        return source, source // op.kernel[axis]
    return None


def copy_sources(position, n: int, mode: str):
    """The input cells that padding positions (< 0 or >= n) repeat (``arith.copy_source`` elementwise)."""
    import numpy as np

    if mode == "replicate":
        return np.clip(position, 0, n - 1)
    if mode == "circular":
        return position % n
    if n == 1:
        return np.zeros_like(position)
    folded = np.abs(position) % (2 * n - 2)  # reflect: the edge cell is not repeated
    return np.where(folded >= n, 2 * n - 2 - folded, folded)


def backward(links, reached_out, n: int):
    """The input cells (a bool array of ``n``) that feed some reached output cell."""
    import numpy as np

    source, target = links
    reached = np.zeros(n, dtype=bool)
    reached[source[reached_out[target]]] = True
    return reached


def forward(links, touched_in, out: int):
    """The output cells (a bool array of ``out``) that some touched input cell feeds."""
    import numpy as np

    source, target = links
    touched = np.zeros(out, dtype=bool)
    touched[target[touched_in[source]]] = True
    return touched
