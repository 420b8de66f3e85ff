"""The one numeric implementation of the canonical op, in vectorised NumPy.

Canonical arrays: input ``(N, C, *spatial)``; ``conv`` weight ``(O, C/groups, *kernel)``;
``conv_transpose`` weight ``(C, O/groups, *kernel)``, which is the weight of the
matching forward convolution (PyTorch's own layout); bias ``(O,)``.

Every loop below runs over kernel offsets or groups, never over output elements:
each step is one strided slice of the padded input and one matmul or reduction.
"""

from __future__ import annotations

import math
import os
from itertools import product

import numpy as np

from ..core import arith
from ..core.op import ConvOp
from ..errors import ConvArithError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "avg_divisor",
    "check_budget",
    "compute_dtype",
    "estimate_bytes",
    "kernel_offsets",
    "max_bytes",
    "pad_input",
    "run_op",
    "scatter",
]

DEFAULT_MAX_BYTES = 512 * 2**20
NP_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def compute_dtype(*arrays) -> np.dtype:
    """float32 stays float32 (and float16 computes in float32); anything else is float64."""
    kinds = [a.dtype for a in arrays if a is not None]
    dtype = np.result_type(*kinds) if kinds else np.dtype(np.float32)
    if dtype in (np.float16, np.float32):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def max_bytes(limit: int | None = None) -> int:
    """The memory budget: ``limit``, else $CONVARITH_MAX_BYTES, else 512 MiB."""
    if limit is not None:
        return int(limit)
    text = os.environ.get("CONVARITH_MAX_BYTES", "")
    try:
        return int(text) if text else DEFAULT_MAX_BYTES
    except ValueError:
        raise ConvArithError(f"CONVARITH_MAX_BYTES={text!r} must be an integer number of bytes.") from None


def estimate_bytes(op: ConvOp, itemsize: int) -> int:
    """Largest intermediates of ``run_op``: padded input, per-offset slice, product and output,
    plus the im2col columns of the unit-stride path (kernel size x padded input)."""
    out = tuple(max(s, 0) for s in arith.output_spatial(op))
    n, c, o = op.batch, op.in_channels, op.out_channels
    padded = (
        n
        * c
        * math.prod(
            arith.dilated_size(s, ld) + max(lo, 0) + max(hi, 0) + k * d
            for s, ld, lo, hi, k, d in zip(op.in_size, op.lhs_dilation, op.pad_lo, op.pad_hi, op.kernel, op.dilation)
        )
    )
    if op.kind == "conv_transpose":
        cols = n * o * math.prod(op.kernel) * math.prod(op.in_size)
        full = (
            n
            * o
            * math.prod(
                (s - 1) * st + arith.effective_kernel(k, d) + abs(lo) + abs(hi) + p
                for s, st, k, d, lo, hi, p in zip(
                    op.in_size, op.stride, op.kernel, op.dilation, op.pad_lo, op.pad_hi, op.output_padding
                )
            )
        )
        return itemsize * (n * c * math.prod(op.in_size) + cols + full)
    outputs = n * max(o, c) * math.prod(out)
    stacked = math.prod(op.kernel) * padded if all(s == 1 for s in op.stride) else 0
    return itemsize * (padded + 3 * outputs + n * c * math.prod(out) + stacked)


def check_budget(op: ConvOp, itemsize: int, limit: int | None = None) -> None:
    """Refuse an op whose intermediates would exceed the memory budget."""
    need, allowed = estimate_bytes(op, itemsize), max_bytes(limit)
    if need > allowed:
        raise ConvArithError(
            f"{op.kind} on input {op.input_shape} needs about {need / 2**20:.1f} MiB of intermediates, "
            f"above the budget of {allowed / 2**20:.1f} MiB. Rule: the NumPy reference refuses rather than swap. "
            "Fix: a smaller input (output_shape answers any size), or raise the budget with max_bytes=... "
            "or CONVARITH_MAX_BYTES."
        )


def pad_input(x, lo, hi, mode: str = "zeros", fill: float = 0.0, lhs_dilation=None):
    """Insert lhs_dilation-1 zeros between elements, then pad each spatial axis by
    (lo, hi); a negative amount crops. ``mode`` reflect/replicate/circular copies cells."""
    rank = x.ndim - 2
    if lhs_dilation is not None and any(ld != 1 for ld in lhs_dilation):
        sizes = tuple(arith.dilated_size(s, ld) for s, ld in zip(x.shape[2:], lhs_dilation))
        spread = np.zeros(x.shape[:2] + sizes, dtype=x.dtype)
        spread[(Ellipsis, *(slice(None, None, ld) for ld in lhs_dilation))] = x
        x = spread
    crop = tuple(slice(max(-a, 0), max(s - max(-b, 0), max(-a, 0))) for a, b, s in zip(lo, hi, x.shape[2:]))
    x = x[(Ellipsis, *crop)]
    widths = [(0, 0), (0, 0)] + [(max(a, 0), max(b, 0)) for a, b in zip(lo, hi)]
    if not any(a or b for a, b in widths):
        return x
    if mode == "zeros":
        return np.pad(x, widths, constant_values=fill)
    assert len(widths) == rank + 2
    return np.pad(x, widths, mode=NP_PAD_MODES[mode])


def window(xp, offset, stride, out):
    """The strided slice of ``xp`` seen by kernel offset ``offset`` at every output position."""
    return xp[(Ellipsis, *(slice(o, o + (n - 1) * s + 1, s) for o, s, n in zip(offset, stride, out)))]


def extend(xp, out, offsets_max, stride, fill):
    """Grow ``xp`` at the end so every window (out-1)*s + last offset exists."""
    need = [(n - 1) * s + m + 1 for n, s, m in zip(out, stride, offsets_max)]
    extra = [max(a - b, 0) for a, b in zip(need, xp.shape[2:])]
    if any(extra):
        xp = np.pad(xp, [(0, 0), (0, 0)] + [(0, e) for e in extra], constant_values=fill)
    return xp


def kernel_offsets(op: ConvOp):
    """(kernel index, padded-input offset) pairs over the whole kernel."""
    for index in product(*(range(k) for k in op.kernel)):
        yield index, tuple(i * d for i, d in zip(index, op.dilation))


def conv(op: ConvOp, x, w, b, dtype):
    """General dilated convolution: lhs/rhs dilation, any pads, groups, batch groups."""
    out = arith.output_spatial(op)
    n, _c, o, g, bg = op.batch, op.in_channels, op.out_channels, op.groups, op.batch_groups
    xp = pad_input(x.astype(dtype, copy=False), op.pad_lo, op.pad_hi, op.pad_mode, 0.0, op.lhs_dilation)
    last = tuple(d * (k - 1) for k, d in zip(op.kernel, op.dilation))
    xp = extend(xp, out, last, op.stride, 0.0)
    w = w.astype(dtype, copy=False)
    if bg > 1:
        parts = [
            conv_groups(xp[i * (n // bg) : (i + 1) * (n // bg)], w[i * (o // bg) : (i + 1) * (o // bg)], op, out, 1)
            for i in range(bg)
        ]
        y = np.concatenate(parts, axis=1)
    else:
        y = conv_groups(xp, w, op, out, g)
    if b is not None:
        y += b.astype(dtype, copy=False).reshape((1, o) + (1,) * op.rank)
    return y


def conv_groups(xp, w, op: ConvOp, out, g):
    """Sum over kernel offsets of (weight slice) @ (strided input slice), per group."""
    n, c = xp.shape[:2]
    o = w.shape[0]
    cg, og, positions = c // g, o // g, math.prod(out)
    xg = xp.reshape((n, g, cg) + xp.shape[2:])
    wg = w.reshape((g, og, cg) + w.shape[2:])
    if all(s == 1 for s in op.stride):
        return conv_flat(xg, wg, op, out).reshape((n, o) + tuple(out))
    acc = np.zeros((n, g, og, positions), dtype=xp.dtype)
    for index, offset in kernel_offsets(op):
        cols = np.ascontiguousarray(window(xg, offset, op.stride, out)).reshape(n, g, cg, positions)
        acc += multiply(wg[(Ellipsis, *index)], cols)
    return acc.reshape((n, o) + tuple(out))


def multiply(wk, cols):
    """(g, og, cg) weights times (n, g, cg, P) columns -> (n, g, og, P)."""
    if wk.shape[2] == 1 and wk.shape[1] == 1:
        return wk[None, :, :, :] * cols
    return np.matmul(wk, cols)


def conv_flat(xg, wg, op: ConvOp, out):
    """Unit stride: every kernel offset is one contiguous shift of the flattened
    padded input, so each step is a plain matmul without copying windows."""
    n, g, cg = xg.shape[:3]
    og = wg.shape[1]
    padded = xg.shape[3:]
    steps = [math.prod(padded[a + 1 :]) for a in range(len(padded))]
    length = out[0] * steps[0] if padded else 1
    flat = xg.reshape(n, g, cg, -1)
    tail = max(sum(off * st for off, st in zip(offset, steps)) for _, offset in kernel_offsets(op)) + length
    if tail > flat.shape[-1]:
        flat = np.concatenate([flat, np.zeros((n, g, cg, tail - flat.shape[-1]), dtype=flat.dtype)], axis=-1)
    pairs = list(kernel_offsets(op))
    if og * cg > 1:
        # im2col from contiguous shifted slices, then one matmul over (offset, channel)
        starts = [sum(off * st for off, st in zip(offset, steps)) for _, offset in pairs]
        cols = np.stack([flat[..., start : start + length] for start in starts], axis=2)
        cols = cols.reshape(n, g, len(pairs) * cg, length)
        kernel = np.stack([wg[(Ellipsis, *index)] for index, _ in pairs], axis=2).reshape(g, og, len(pairs) * cg)
        acc = np.matmul(kernel, cols)
    else:
        acc = np.zeros((n, g, og, length), dtype=xg.dtype)
        for index, offset in pairs:
            start = sum(off * st for off, st in zip(offset, steps))
            acc += multiply(wg[(Ellipsis, *index)], flat[..., start : start + length])
    grid = acc.reshape((n, g, og, out[0]) + tuple(padded[1:]))
    return grid[(Ellipsis, *(slice(0, s) for s in out[1:]))]


def scatter(op: ConvOp, x, w, dtype):
    """Every input value stamps its kernel (times the value) at stride s onto a
    buffer covering the uncropped output; returns (buffer, crop slices).

    The buffer starts at output position -max(-pad_lo, 0) and is long enough for
    both the stamps and the cropped output, which pad_lo/pad_hi/output_padding select."""
    out = arith.output_spatial(op)
    n, c, o, g = op.batch, op.in_channels, op.out_channels, op.groups
    cg, og = c // g, o // g
    positions = math.prod(op.in_size)
    wg = w.astype(dtype, copy=False).reshape((g, cg, og * math.prod(op.kernel)))
    cols = np.matmul(np.swapaxes(wg, 1, 2), x.astype(dtype, copy=False).reshape(n, g, cg, positions))
    cols = cols.reshape((n, g, og) + tuple(op.kernel) + tuple(op.in_size))
    shift = tuple(max(-lo, 0) for lo in op.pad_lo)
    full = tuple(
        max((s - 1) * st + arith.effective_kernel(k, d), lo + m) + sh
        for s, st, k, d, lo, m, sh in zip(op.in_size, op.stride, op.kernel, op.dilation, op.pad_lo, out, shift)
    )
    buffer = np.zeros((n, g, og) + full, dtype=dtype)
    for index, offset in kernel_offsets(op):
        start = tuple(off + sh for off, sh in zip(offset, shift))
        window(buffer, start, op.stride, op.in_size)[...] += cols[(slice(None),) * 3 + index]
    crop = tuple(slice(lo + sh, lo + sh + m) for lo, sh, m in zip(op.pad_lo, shift, out))
    return buffer.reshape((n, o) + full), crop


def conv_transpose(op: ConvOp, x, w, b, dtype):
    """Scatter form: stamp kernels at stride s, crop pad_lo and pad_hi, extend by output_padding."""
    buffer, crop = scatter(op, x, w, dtype)
    y = np.ascontiguousarray(buffer[(Ellipsis, *crop)])
    if b is not None:
        y += b.astype(dtype, copy=False).reshape((1, op.out_channels) + (1,) * op.rank)
    return y


def axis_counts(n, k, d, s, lo, hi, out, include_pad) -> np.ndarray:
    """Per output position on one axis: how many window cells the divisor counts.

    Cells at j*s - lo + i*d; counted if inside [0, n), or inside [-lo, n + hi)
    when padding counts (cells of a window past the padded input never count)."""
    pos = np.arange(out)[:, None] * s - lo + np.arange(k)[None, :] * d
    start, stop = (-lo, n + hi) if include_pad else (0, n)
    return ((pos >= start) & (pos < stop)).sum(axis=1)


def avg_divisor(op: ConvOp, out) -> np.ndarray:
    """Divisor per output position, as an array broadcastable over (N, C, *out)."""
    if op.divisor_override:
        return np.asarray(float(op.divisor_override))
    counts = np.ones((), dtype=np.float64)
    for axis in range(op.rank):
        c = axis_counts(
            op.in_size[axis],
            op.kernel[axis],
            op.dilation[axis],
            op.stride[axis],
            op.pad_lo[axis],
            op.pad_hi[axis],
            out[axis],
            op.count_include_pad,
        )
        counts = np.multiply.outer(counts, c)
    return counts


def pool(op: ConvOp, x, dtype):
    """max/avg/lp pooling over each window; padded cells never win a max and are
    counted in an average only by the op's divisor rule."""
    out = arith.output_spatial(op)
    x = x.astype(dtype, copy=False)
    if op.kind == "max_pool":
        fill = -np.inf
    else:
        fill = 0.0
        if op.kind == "lp_pool":
            with np.errstate(invalid="ignore"):
                x = (x if op.lp_mode == "signed_mean" else np.abs(x)) ** op.norm_p
    xp = pad_input(x, op.pad_lo, op.pad_hi, "zeros", fill)
    last = tuple(d * (k - 1) for k, d in zip(op.kernel, op.dilation))
    xp = extend(xp, out, last, op.stride, fill)
    acc = None
    for _, offset in kernel_offsets(op):
        part = window(xp, offset, op.stride, out)
        if acc is None:
            acc = part.copy()
        elif op.kind == "max_pool":
            np.maximum(acc, part, out=acc)
        else:
            acc += part
    if op.kind == "max_pool" and op.empty_max == "lowest":
        np.maximum(acc, np.finfo(dtype).min, out=acc)
    elif op.kind == "avg_pool":
        acc = (acc / avg_divisor(op, out)).astype(dtype, copy=False)
    elif op.kind == "lp_pool":
        if op.lp_mode == "signed_mean":
            inside = avg_divisor(op.with_(count_include_pad=False, divisor_override=0), out)
            acc = (acc / inside * math.prod(op.kernel)).astype(dtype, copy=False)
        with np.errstate(invalid="ignore"):
            acc = acc ** (1.0 / op.norm_p)
    return acc


def adaptive(op: ConvOp, x, dtype):
    """Adaptive pooling, one axis at a time: window i is [floor(i*n/out), ceil((i+1)*n/out))."""
    y = x.astype(dtype, copy=False)
    for axis, (n, m) in enumerate(zip(op.in_size, op.out_size)):
        starts = (np.arange(m) * n) // m
        stops = -((-(np.arange(1, m + 1) * n)) // m)
        dim = axis + 2
        if op.kind == "adaptive_avg_pool":
            sums = np.cumsum(y, axis=dim, dtype=np.float64)
            sums = np.concatenate([np.zeros_like(np.take(sums, [0], axis=dim)), sums], axis=dim)
            shape = [1] * y.ndim
            shape[dim] = m
            y = (
                (np.take(sums, stops, axis=dim) - np.take(sums, starts, axis=dim)) / (stops - starts).reshape(shape)
            ).astype(dtype)
        else:
            width = int((stops - starts).max())
            idx = np.minimum(starts[:, None] + np.arange(width)[None, :], (stops - 1)[:, None])
            gathered = np.take(y, idx.reshape(-1), axis=dim)
            shape = y.shape[:dim] + (m, width) + y.shape[dim + 1 :]
            y = gathered.reshape(shape).max(axis=dim + 1)
    return y


def run_op(op: ConvOp, x, w=None, b=None, *, max_bytes: int | None = None):
    """Apply one canonical op to canonical arrays; returns (N, O, *out) in the compute dtype."""
    dtype = compute_dtype(x, w, b)
    check_budget(op, dtype.itemsize, max_bytes)
    if any(s <= 0 for s in arith.output_spatial(op)) or op.batch == 0:
        out = tuple(max(s, 0) for s in arith.output_spatial(op))
        return np.zeros((op.batch // op.batch_groups, op.out_channels) + out, dtype=dtype)
    if op.kind == "conv":
        return conv(op, x, w, b, dtype)
    if op.kind == "conv_transpose":
        return conv_transpose(op, x, w, b, dtype)
    if op.kind.startswith("adaptive"):
        return adaptive(op, x, dtype)
    return pool(op, x, dtype)
