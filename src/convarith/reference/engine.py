"""The one numeric implementation of the canonical op, in vectorised NumPy.

Canonical arrays: input ``(N, C, *spatial)``; ``conv`` weight ``(O, C/groups, *kernel)``;
``conv_transpose`` weight ``(C, O/groups, *kernel)``, which is the weight of the
matching forward convolution (PyTorch's own layout); bias ``(O,)``.

Every loop below runs over kernel offsets, batch groups or chunks of output rows, never
over output elements: a convolution is im2col (a window view of the padded input, copied a
chunk at a time) and one batched matmul per chunk; pooling is one strided slice and one
reduction per kernel offset; a transposed convolution is one matmul and one strided add
per kernel offset.
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
    "mib",
    "pad_input",
    "run_op",
    "scatter",
    "short_repr",
]

DEFAULT_MAX_BYTES = 512 * 2**20
CHUNK_BYTES = 2 * 2**20  # im2col columns built at a time
NP_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def compute_dtype(*arrays) -> np.dtype:
    """float32 stays float32 (and float16 computes in float32); anything else is float64."""
    kinds = [a.dtype for a in arrays if a is not None]
    dtype = np.result_type(*kinds) if kinds else np.dtype(np.float32)
    if dtype in (np.float16, np.float32):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def max_bytes(limit: int | None = None) -> int:
    """The memory budget in bytes: ``limit``, else $CONVARITH_MAX_BYTES, else 512 MiB."""
    if limit is None:
        text = os.environ.get("CONVARITH_MAX_BYTES", "").strip()
        if not text:
            return DEFAULT_MAX_BYTES
        try:
            value = int(text)
        except ValueError:
            value = None
        where = f"CONVARITH_MAX_BYTES={text[:40]!r}"
    else:
        value = int(limit) if isinstance(limit, (int, np.integer)) and not isinstance(limit, bool) else None
        where = f"max_bytes={short_repr(limit)}"
    if value is None or value <= 0:
        raise ConvArithError(
            f"{where} is not a budget. Rule: the memory budget is a positive whole number of bytes. "
            "Fix: e.g. max_bytes=2**30 (or CONVARITH_MAX_BYTES=1073741824), or leave it unset for 512 MiB."
        )
    return value


def mib(count: int) -> str:
    """A byte count as '226.8 MiB' (or '2^N bytes' when too large for a float)."""
    if count.bit_length() > 1000:
        return f"2^{count.bit_length() - 1} bytes"
    return f"{count / 2**20:.1f} MiB"


def short_repr(value) -> str:
    """repr(value) cut to a readable length; never turns a huge int into digits."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        text = f"<int of {value.bit_length()} bits>"
    elif isinstance(value, tuple):
        inner = ", ".join(short_repr(v) for v in value[:9]) + (", ..." if len(value) > 9 else "")
        text = f"({inner},)" if len(value) == 1 else f"({inner})"
    elif isinstance(value, np.ndarray):
        text = f"<ndarray shape {value.shape} dtype {value.dtype}>"
    else:
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def estimate_bytes(op: ConvOp, itemsize: int) -> int:
    """Largest intermediates of ``run_op``: padded input, per-offset slice, product and output,
    plus a chunk of the conv path's im2col columns (CHUNK_BYTES or the output's size, or one
    output row of them if larger; at most the whole of them), plus adaptive pooling's gathered windows
    (with their masked copy and float64 sums)."""
    out = tuple(max(s, 0) for s in arith.output_spatial(op))
    n, c, o = op.batch, op.in_channels, op.out_channels
    sizes = [
        arith.dilated_size(s, ld) + max(lo, 0) + max(hi, 0) + k * d
        for s, ld, lo, hi, k, d in zip(op.in_size, op.lhs_dilation, op.pad_lo, op.pad_hi, op.kernel, op.dilation)
    ]
    padded = n * c * math.prod(sizes)
    if op.kind == "conv_transpose":
        cols = n * o * math.prod(op.kernel) * math.prod(op.in_size)
        full = (
            n
            * o
            * math.prod(
                arith.transpose_out(s, arith.effective_kernel(k, d), st, 0, 0, 0) + abs(lo) + abs(hi) + p
                for s, st, k, d, lo, hi, p in zip(
                    op.in_size, op.stride, op.kernel, op.dilation, op.pad_lo, op.pad_hi, op.output_padding
                )
            )
        )
        return itemsize * (n * c * math.prod(op.in_size) + cols + full)
    outputs = n * max(o, c) * math.prod(out)
    columns = 0
    if op.kind == "conv" and out:
        row = n * c * math.prod(op.kernel) * math.prod(out[1:])
        columns = min(row * out[0], max(row, CHUNK_BYTES // itemsize, n * o * math.prod(out)))
    elif op.kind.startswith("adaptive"):
        columns = 3 * n * c * math.prod(max(s, m * (-(-s // max(m, 1)) + 1)) for s, m in zip(op.in_size, op.out_size))
    return itemsize * (padded + 3 * outputs + n * c * math.prod(out) + columns)


def check_budget(op: ConvOp, itemsize: int, limit: int | None = None) -> None:
    """Refuse an op whose intermediates would exceed the memory budget."""
    need, allowed = estimate_bytes(op, itemsize), max_bytes(limit)
    if need > allowed:
        raise ConvArithError(
            f"{op.kind} on input {short_repr(op.input_shape)} needs about {mib(need)} of intermediates, "
            f"above the budget of {mib(allowed)}. Rule: the NumPy reference refuses rather than swap. "
            "Fix: a smaller input (output_shape answers any size), or raise the budget with max_bytes=... "
            "or CONVARITH_MAX_BYTES."
        )


def pad_input(x, lo, hi, mode: str = "zeros", lhs_dilation=None):
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
    if mode == "zeros":  # np.pad's own bookkeeping costs more than the copy on small inputs
        padded = np.zeros(tuple(s + a + b for s, (a, b) in zip(x.shape, widths)), dtype=x.dtype)
        padded[tuple(slice(a, a + s) for s, (a, _) in zip(x.shape, widths))] = x
        return padded
    assert len(widths) == rank + 2
    return np.pad(x, widths, mode=NP_PAD_MODES[mode])


def window(xp, offset, stride, out):
    """The strided slice of ``xp`` seen by kernel offset ``offset`` at every output position."""
    return xp[(Ellipsis, *(slice(o, o + (n - 1) * s + 1, s) for o, s, n in zip(offset, stride, out)))]


def extend(xp, out, offsets_max, stride):
    """Grow ``xp`` at the end so every window (out-1)*s + last offset exists."""
    need = [(n - 1) * s + m + 1 for n, s, m in zip(out, stride, offsets_max)]
    extra = [max(a - b, 0) for a, b in zip(need, xp.shape[2:])]
    if any(extra):
        xp = np.pad(xp, [(0, 0), (0, 0)] + [(0, e) for e in extra])
    return xp


def kernel_offsets(op: ConvOp):
    """(kernel index, padded-input offset) pairs over the whole kernel."""
    for index in product(*(range(k) for k in op.kernel)):
        yield index, tuple(i * d for i, d in zip(index, op.dilation))


def conv(op: ConvOp, x, w, b, dtype):
    """General dilated convolution: lhs/rhs dilation, any pads, groups, batch groups."""
    out = arith.output_spatial(op)
    n, _c, o, g, bg = op.batch, op.in_channels, op.out_channels, op.groups, op.batch_groups
    xp = pad_input(x.astype(dtype, copy=False), op.pad_lo, op.pad_hi, op.pad_mode, op.lhs_dilation)
    last = tuple(d * (k - 1) for k, d in zip(op.kernel, op.dilation))
    xp = extend(xp, out, last, op.stride)
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
    """im2col per group over the window view of ``xp`` (no copy): a chunk of output rows at
    a time, the windows are copied into (group, channel x kernel, positions) columns and one
    batched matmul with the (group, out channel, channel x kernel) weights writes the output.
    A chunk's columns are at most CHUNK_BYTES or the output's size, whichever is larger (few
    large matmuls, which a threaded BLAS needs, for at most the output's size again)."""
    n, c = xp.shape[:2]
    o = w.shape[0]
    cg, og, taps = c // g, o // g, math.prod(op.kernel)
    spatial = tuple(out)
    view = windows(xp.reshape((n, g, cg) + xp.shape[2:]), op.kernel, op.dilation, op.stride, spatial)
    if not spatial:  # no spatial axis: one position
        view, spatial = view[..., None], (1,)
    wg = w.reshape(g, og, cg * taps)
    rest = math.prod(spatial[1:])
    y = np.empty((n, g, og, spatial[0] * rest), dtype=xp.dtype)
    row_bytes = max(n * c * taps * rest * xp.dtype.itemsize, 1)  # 0 for an input without channels
    step = max(1, min(spatial[0], max(CHUNK_BYTES, y.nbytes) // row_bytes))
    for first in range(0, spatial[0], step):
        last = min(first + step, spatial[0])
        cols = view[(slice(None),) * (3 + op.rank) + (slice(first, last),)]
        np.matmul(wg, cols.reshape(n, g, cg * taps, (last - first) * rest), out=y[..., first * rest : last * rest])
    return y.reshape((n, o) + tuple(out))


def windows(xp, kernel, dilation, stride, out):
    """Read-only view (..., *kernel, *out) of ``xp``: element [..., i, j] = xp[..., i*d + j*s]."""
    lead, steps = xp.strides[: xp.ndim - len(out)], xp.strides[xp.ndim - len(out) :]
    return np.lib.stride_tricks.as_strided(
        xp,
        shape=xp.shape[: xp.ndim - len(out)] + tuple(kernel) + tuple(out),
        strides=lead + tuple(st * d for st, d in zip(steps, dilation)) + tuple(st * s for st, s in zip(steps, stride)),
        writeable=False,
    )


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
        max(arith.transpose_out(s, arith.effective_kernel(k, d), st, 0, 0, 0), lo + m) + sh  # uncropped length
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
    """max/avg/lp pooling over each window, without padding the input: each kernel offset
    reads the input cells it sees (a strided slice) into the output positions that see them.
    Padded cells and cells past the input never win a max and add nothing to a sum; an
    average counts them only by the op's divisor rule."""
    out = tuple(arith.output_spatial(op))
    x = x.astype(dtype, copy=False)
    if op.kind == "max_pool":
        acc = np.full(x.shape[:2] + out, -np.inf, dtype=dtype)
        combine = np.maximum
    else:
        acc = np.zeros(x.shape[:2] + out, dtype=dtype)
        combine = np.add
        if op.kind == "lp_pool":
            with np.errstate(invalid="ignore", divide="ignore"):  # p <= 0 (ONNX GlobalLpPool): inf, as onnxruntime
                x = (x if op.lp_mode == "signed_mean" else np.abs(x)) ** op.norm_p
    for _, offset in kernel_offsets(op):
        seen = [cells_seen(n, lo, off, s, m) for n, lo, off, s, m in zip(op.in_size, op.pad_lo, offset, op.stride, out)]
        if all(seen):
            target = acc[(Ellipsis, *(where for where, _ in seen))]
            combine(target, x[(Ellipsis, *(cells for _, cells in seen))], out=target)
    if op.kind == "max_pool" and op.empty_max == "lowest":
        np.maximum(acc, np.finfo(dtype).min, out=acc)
    elif op.kind == "avg_pool":
        with np.errstate(invalid="ignore"):  # a global pool of an empty axis divides by 0 cells: NaN, as Keras
            np.divide(acc, avg_divisor(op, out), out=acc, casting="unsafe")
    elif op.kind == "lp_pool":
        if op.lp_mode == "signed_mean":
            inside = avg_divisor(op.with_(count_include_pad=False, divisor_override=0), out)
            np.multiply(acc, math.prod(op.kernel) / inside, out=acc, casting="unsafe")
        with np.errstate(invalid="ignore", divide="ignore"):
            acc = acc ** (acc.dtype.type(1.0) / op.norm_p)
    return acc


def cells_seen(n: int, lo: int, offset: int, stride: int, out: int):
    """On one axis, kernel offset ``offset`` of output j reads input cell j*stride - lo + offset:
    (output slice, input slice) of the j whose cell lies inside [0, n), or None if none does."""
    first = max(0, -((offset - lo) // stride))
    last = min(out, (n - 1 + lo - offset) // stride + 1)
    if last <= first:
        return None
    start = first * stride - lo + offset
    return slice(first, last), slice(start, start + (last - first - 1) * stride + 1, stride)


def adaptive(op: ConvOp, x, dtype):
    """Adaptive pooling: window i of an axis is [floor(i*n/out), ceil((i+1)*n/out)).

    Each window is reduced on its own (no running sums, which cancel for large values).
    Axes whose windows do not tile the axis are gathered and reduced one at a time (an empty
    window averages to NaN, as torch's mean of nothing); then the axes that tile are split
    into (window, cell) by a reshape and reduced together."""
    y = x.astype(dtype, copy=False)
    average = op.kind == "adaptive_avg_pool"
    for axis, (n, m) in enumerate(zip(op.in_size, op.out_size)):
        if n % m == 0:
            continue
        dim = axis + 2
        starts = (np.arange(m) * n) // m
        stops = -((-(np.arange(1, m + 1) * n)) // m)
        taps = starts[:, None] + np.arange(int((stops - starts).max()))[None, :]
        inside = (taps < stops[:, None]).reshape((1,) * dim + taps.shape + (1,) * (y.ndim - dim - 1))
        gathered = np.take(y, np.minimum(taps, max(n - 1, 0)).reshape(-1), axis=dim)
        gathered = gathered.reshape(y.shape[:dim] + taps.shape + y.shape[dim + 1 :])
        if average:
            counts = (stops - starts).reshape((m,) + (1,) * (y.ndim - dim - 1))
            with np.errstate(invalid="ignore"):
                y = (np.where(inside, gathered, 0).sum(axis=dim + 1, dtype=np.float64) / counts).astype(dtype)
        else:
            y = np.where(inside, gathered, -np.inf).max(axis=dim + 1).astype(dtype)
    cells = [n // m if n % m == 0 else 1 for n, m in zip(op.in_size, op.out_size)]
    split = y.reshape(y.shape[:2] + sum(((m, k) for m, k in zip(op.out_size, cells)), ()))
    if not average:
        return split.max(axis=tuple(range(3, split.ndim, 2)))
    kept = [0, 1, *range(2, split.ndim, 2)]
    total = np.einsum(split, list(range(split.ndim)), kept, dtype=np.float64, casting="safe")
    with np.errstate(invalid="ignore"):
        return (total / math.prod(cells)).astype(dtype)


def run_op(op: ConvOp, x, w=None, b=None, *, max_bytes: int | None = None):
    """Apply one canonical op to canonical arrays; returns (N, O, *out) in the compute dtype."""
    dtype = compute_dtype(x) if op.kind == "max_unpool" else compute_dtype(x, w, b)  # unpooling: w is the indices
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
    if op.kind in ("pad", "max_unpool"):
        from .layers import run_layer

        return run_layer(op, x, w, dtype)
    return pool(op, x, dtype)
