"""Numbers of the weightless layer ops: explicit padding/cropping (``pad``) and max unpooling."""

from __future__ import annotations

import math

import numpy as np

from ..core import arith
from ..core.op import ConvOp
from ..errors import ConvArithError

__all__ = ["pad_sources", "run_layer"]


def pad_sources(n: int, lo: int, hi: int, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(source index, inside mask) of each output cell of one padded axis: output j reads input
    j - lo; 'reflect' and 'replicate' fold that about the input's own edges, 'circular' wraps
    the cropped input (torch's order: crop first), 'zeros' keeps it where it lies inside."""
    out = max(arith.pad_out(n, lo, hi), 0)
    j = np.arange(out)
    source = j - lo
    if mode == "circular":
        first, kept = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
        source = first + (j - max(lo, 0)) % max(kept, 1)
    elif mode == "replicate":
        source = np.clip(source, 0, n - 1)
    elif mode == "reflect" and n > 1:
        folded = np.abs(source) % (2 * n - 2)
        source = np.where(folded >= n, 2 * n - 2 - folded, folded)
    elif mode == "reflect":
        source = np.zeros_like(source)
    inside = (source >= 0) & (source < n)
    return np.clip(source, 0, max(n - 1, 0)), inside


def pad(op: ConvOp, x, dtype):
    """Gather each axis in turn; cells reading outside the input take ``pad_value``."""
    y = x.astype(dtype, copy=False)
    for axis, (n, lo, hi) in enumerate(zip(op.in_size, op.pad_lo, op.pad_hi)):
        if n == 0:  # an empty axis padded with a constant: nothing to read, every cell is the fill
            shape = list(y.shape)
            shape[axis + 2] = max(arith.pad_out(n, lo, hi), 0)
            y = np.full(shape, op.pad_value, dtype=dtype)
            continue
        source, inside = pad_sources(n, lo, hi, op.pad_mode)
        y = np.take(y, source, axis=axis + 2)
        if not inside.all():
            shape = [1] * y.ndim
            shape[axis + 2] = inside.size
            y = np.where(inside.reshape(shape), y, dtype.type(op.pad_value))
    return np.ascontiguousarray(y)


def max_unpool(op: ConvOp, x, indices, dtype):
    """Each input value goes to the flat position (within its (N, C) plane of the output)
    that its index names; the other cells are 0. An index outside the plane is refused,
    as torch refuses it (a repeated index keeps one of its values, here the last)."""
    out = tuple(arith.output_spatial(op))
    plane = math.prod(out)
    flat = np.asarray(indices).reshape(op.batch * op.in_channels, -1)
    if flat.size and (flat.min() < 0 or flat.max() >= plane):
        bad = flat.min() if flat.min() < 0 else flat.max()
        raise ConvArithError(
            f"max_unpool: an index is {int(bad)}, outside the output plane of {plane} cells {out}. "
            f"Rule: each index names a flat position 0 <= i < {plane} (torch: Found an invalid max index). "
            "Fix: the indices of the matching MaxPool (return_indices=True), and its input size as output_size."
        )
    y = np.zeros((op.batch * op.in_channels, plane), dtype=dtype)
    rows = np.repeat(np.arange(flat.shape[0]), flat.shape[1])
    y[rows, flat.reshape(-1).astype(np.int64)] = x.astype(dtype, copy=False).reshape(-1)
    return y.reshape((op.batch, op.in_channels) + out)


def run_layer(op: ConvOp, x, w, dtype):
    """The ``pad`` or ``max_unpool`` op on canonical arrays (``w``: the unpooling indices)."""
    if op.kind == "pad":
        return pad(op, x, dtype)
    return max_unpool(op, x, w, dtype)
