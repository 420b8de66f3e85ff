"""Numbers of the rearranging ops and of jax.lax.reduce_window (wip8-rearr), on canonical
(N, C, *spatial) arrays: depth to space and back (either block order), unfold and fold
(im2col and its adjoint), and window reductions whose padding and input holes hold the
reduction's init value (min pooling as max pooling of -x)."""

from __future__ import annotations

import math

import numpy as np

from ..core import arith
from ..core.op import ConvOp
from ..translate import steps
from . import engine

__all__ = ["KINDS", "run"]

KINDS = frozenset(("depth_to_space", "space_to_depth", "unfold", "fold"))


def run(op: ConvOp, x, dtype):
    """The canonical result of ``op`` (a KINDS op, or a window reduction with an init_value)."""
    x = x.astype(dtype, copy=False)
    if op.kind in ("depth_to_space", "space_to_depth"):
        return blocks_moved(op, x)
    if op.kind == "unfold":
        return unfold(op, x)
    if op.kind == "fold":
        return fold(op, x, dtype)
    return reduce_window(op, x, dtype)


def blocks_moved(op: ConvOp, x):
    """depth to space: channel (DCR) b*C + c or (CRD) c*B + b, b the block offset in C order,
    goes to offset b of cell's block; space to depth is the inverse permutation (``block_steps``)."""
    return steps.apply(block_steps(op), x)


def block_steps(op: ConvOp) -> tuple:
    """depth_to_space / space_to_depth on canonical arrays as data: reshape, transpose, reshape (the
    translations write the same steps out as code)."""
    rank, block, n = op.rank, op.kernel, op.batch
    out = tuple(arith.output_spatial(op))
    if op.kind == "depth_to_space":
        deep = op.out_channels
        split = (n, *block, deep) if op.block_order == "DCR" else (n, deep, *block)
        channel = rank + 1 if op.block_order == "DCR" else 1
        blocks = tuple(range(1, 1 + rank)) if op.block_order == "DCR" else tuple(range(2, 2 + rank))
        cells = tuple(range(rank + 2, 2 * rank + 2))
        order = (0, channel) + sum(((c, b) for c, b in zip(cells, blocks)), ())
        before = (n, op.in_channels, *op.in_size)
        middle = tuple((split + tuple(op.in_size))[axis] for axis in order)
        return (
            steps.Reshape(split + tuple(op.in_size), before),
            steps.Transpose(order),
            steps.Reshape((n, deep, *out), middle),
        )
    deep = op.in_channels
    split = (n, deep) + sum(((m, r) for m, r in zip(out, block)), ())
    cells = tuple(range(2, 2 + 2 * rank, 2))
    blocks = tuple(range(3, 3 + 2 * rank, 2))
    order = ((0, *blocks, 1) if op.block_order == "DCR" else (0, 1, *blocks)) + cells
    middle = tuple(split[axis] for axis in order)
    return (
        steps.Reshape(split, (n, deep, *op.in_size)),
        steps.Transpose(order),
        steps.Reshape((n, op.out_channels, *out), middle),
    )


def unfold(op: ConvOp, x):
    """im2col: (N, C, *kernel, *blocks) windows of the zero-padded input, channels c*K + kernel offset."""
    out = tuple(arith.output_spatial(op))
    xp = engine.pad_input(x, op.pad_lo, op.pad_hi)
    view = engine.windows(xp, op.kernel, op.dilation, op.stride, out)
    return np.ascontiguousarray(view).reshape((x.shape[0], op.out_channels) + out)


def fold(op: ConvOp, x, dtype):
    """col2im: each block's C*K values are added at their kernel offsets into the padded image, then the padding is cut."""
    n, size = x.shape[0], tuple(op.out_size)
    cols = x.reshape((n, op.out_channels, *op.kernel, *op.in_size))
    padded = tuple(m + lo + hi for m, lo, hi in zip(size, op.pad_lo, op.pad_hi))
    need = tuple(
        max(p, (b - 1) * s + d * (k - 1) + 1)
        for p, b, s, d, k in zip(padded, op.in_size, op.stride, op.dilation, op.kernel)
    )
    image = np.zeros((n, op.out_channels) + need, dtype=dtype)
    for index, offset in engine.kernel_offsets(op):
        engine.window(image, offset, op.stride, op.in_size)[...] += cols[(slice(None), slice(None), *index)]
    return np.ascontiguousarray(image[(Ellipsis, *(slice(lo, lo + m) for lo, m in zip(op.pad_lo, size)))])


def reduce_window(op: ConvOp, x, dtype):
    """A max/min/sum window reduction whose padding cells and input holes (lhs_dilation) hold
    ``init_value``; a max (min) is clamped from below (above) by it, as XLA starts from it."""
    if any(ld != 1 for ld in op.lhs_dilation):  # holes hold the init value: spread the input first
        sizes = tuple(arith.dilated_size(s, ld) for s, ld in zip(op.in_size, op.lhs_dilation))
        spread = np.full(x.shape[:2] + sizes, identity(op.kind), dtype=dtype)
        spread[(Ellipsis, *(slice(None, None, ld) for ld in op.lhs_dilation))] = x
        x, op = spread, op.with_(in_size=sizes, lhs_dilation=())
    if op.kind == "min_pool":
        y = -engine.pool(op.with_(kind="max_pool"), -x, dtype)
        return np.minimum(y, np.asarray(op.init_value, dtype=dtype))
    if op.kind == "sum_pool":
        return engine.pool(op.with_(kind="avg_pool", divisor_override=1), x, dtype)
    y = engine.pool(op, x, dtype)
    if op.kind == "max_pool":
        return np.maximum(y, np.asarray(op.init_value, dtype=dtype))
    return y


def identity(kind: str) -> float:
    """The value that changes no max, min or sum."""
    return {"max_pool": -math.inf, "min_pool": math.inf}.get(kind, 0.0)
