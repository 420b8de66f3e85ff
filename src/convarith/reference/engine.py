"""The one numeric implementation of the canonical op, in vectorised NumPy.

Canonical arrays: input ``(N, C, *spatial)``; ``conv`` weight ``(O, C/groups, *kernel)``;
``conv_transpose`` weight ``(C, O/groups, *kernel)``, which is the weight of the
matching forward convolution (PyTorch's own layout); bias ``(O,)``.

Every loop below runs over kernel offsets, batch groups, chunks of output rows or blocks
of channels, never over output elements: a convolution is im2col (a window view of the
padded input, copied a chunk at a time) and one batched matmul per chunk; a depthwise one
is one einsum per group of kernel offsets over shifted copies of a block of channels;
pooling is one strided slice and one reduction per kernel offset (a global pool one
reduction); a transposed convolution is one matmul and one strided add per kernel offset.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from itertools import product

import numpy as np

from ..core import arith
from ..core.op import ConvOp
from ..errors import ConvArithError
from .kernels import compiled_copy_rows, compiled_tap_sum

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
GROUPS_ONE_BY_ONE = 8  # up to this many groups, im2col works a group at a time (wider matmuls)
DEPTHWISE_MAX_MULTIPLIER = 4  # output channels per input channel up to which depthwise beats im2col
DEPTHWISE_MAX_PHASES = 64  # stride phases of the depthwise path (a huge stride takes im2col)
DEPTHWISE_BLOCK_BYTES = 2**22  # depthwise buffers per block of channels
DEPTHWISE_THREAD_WORK = 2**18  # multiply-adds from which the depthwise path uses several threads
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


@lru_cache(maxsize=256)
def estimate_bytes(op: ConvOp, itemsize: int) -> int:
    """Largest intermediates of ``run_op``: padded input, per-offset slice, product and output,
    plus a chunk of the conv path's im2col columns (CHUNK_BYTES or the output's size, or one
    output row of them if larger; at most the whole of them) or a block of the depthwise path's
    copies, plus adaptive pooling's gathered windows (with their masked copy and float64 sums)."""
    if op.kind == "resize":
        from .resize import resize_bytes

        return resize_bytes(op, itemsize)
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
    if op.kind == "conv" and all(out) and takes_depthwise(op, itemsize):
        phase_all, threads, block = depthwise_blocks(op, out, itemsize)
        columns = min(op.in_channels, threads * block) * depthwise_block(op, out, itemsize, phase_all)[1] // itemsize
    elif op.kind == "conv" and out:
        row = n * c * math.prod(op.kernel) * math.prod(out[1:])
        columns = min(row * out[0], max(row, CHUNK_BYTES // itemsize, n * o * math.prod(out)))
    elif op.kind.startswith("adaptive"):
        widest = [
            max((size for size, _ in arith.adaptive_sizes(s, m)), default=0) for s, m in zip(op.in_size, op.out_size)
        ]
        columns = 3 * n * c * math.prod(max(s, m * w) for s, m, w in zip(op.in_size, op.out_size, widest))
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
    spans = (arith.transpose_out(n, 1, s, 0, 0, 0) for n, s in zip(out, stride))  # (n-1)*s + 1 cells
    return xp[(Ellipsis, *(slice(o, o + span, s) for o, s, span in zip(offset, stride, spans)))]


def extend(xp, out, offsets_max, stride):
    """Grow ``xp`` at the end so every window (out-1)*s + last offset exists."""
    need = [arith.transpose_out(n, m + 1, s, 0, 0, 0) for n, s, m in zip(out, stride, offsets_max)]
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
    n, o, g, bg = op.batch, op.out_channels, op.groups, op.batch_groups
    w = w.astype(dtype, copy=False)
    if takes_depthwise(op, dtype.itemsize):
        return depthwise(op, x, w, b, out, dtype)
    xp = pad_input(x.astype(dtype, copy=False), op.pad_lo, op.pad_hi, op.pad_mode, op.lhs_dilation)
    xp = extend(xp, out, tuple(d * (k - 1) for k, d in zip(op.kernel, op.dilation)), op.stride)
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
    large matmuls, which a threaded BLAS needs, for at most the output's size again); up to
    GROUPS_ONE_BY_ONE groups are worked one at a time, so that each matmul gets that budget."""
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
    parts = g if 1 < g <= GROUPS_ONE_BY_ONE else 1  # groups one at a time: each matmul as wide as the budget allows
    row_bytes = max(n * c // parts * taps * rest * xp.dtype.itemsize, 1)  # 0 for an input without channels
    step = max(1, min(spatial[0], max(CHUNK_BYTES, y.nbytes) // row_bytes))
    for part, first in product(range(parts), range(0, spatial[0], step)):
        groups = slice(None) if parts == 1 else slice(part, part + 1)
        last = min(first + step, spatial[0])
        cols = view[(slice(None), groups) + (slice(None),) * (1 + op.rank) + (slice(first, last),)]
        np.matmul(
            wg[groups],
            cols.reshape(n, g // parts, cg * taps, (last - first) * rest),
            out=y[:, groups, :, first * rest : last * rest],
        )
    return y.reshape((n, o) + tuple(out))


def takes_depthwise(op: ConvOp, itemsize: int) -> bool:
    """One input channel per group, a few output channels each, at least one spatial axis, a few
    stride phases, and one channel's buffers within a block (else im2col, which works a chunk of
    rows at a time)."""
    return (
        op.groups == op.in_channels
        and op.batch_groups == 1
        and op.rank > 0
        and op.out_channels <= DEPTHWISE_MAX_MULTIPLIER * op.in_channels
        and math.prod(op.stride[: max(op.rank - 1, 1)]) <= DEPTHWISE_MAX_PHASES  # one copy per phase
        and depthwise_block(op, arith.output_spatial(op), itemsize)[1] <= DEPTHWISE_BLOCK_BYTES
    )


def depthwise(op: ConvOp, x, w, b, out, dtype):
    """groups == in_channels: output channel c*m + j reads input channel c alone, so a
    matmul would have one row; instead the shifted copies of the input are scaled by one weight
    per channel and offset and summed: by the compiled ``tap_sum`` (convarith[fast]), else by one
    einsum per group of kernel offsets.

    The input is copied, zero padding included, once per offset of the last axis (``shifts``,
    that offset and the stride applied: place u reads cell u*s + offset) and split on the other
    axes into stride phases (cell u*s + a goes to phase a, place u); each copy is flattened per
    channel with its lengths as pitches (the last axis exactly as long as the output's). Then
    every offset is a plain shift of a flat copy, and flat output position p reads cell p +
    shift; the first axis's offsets in one phase are a progression of shifts (``tap_groups``):
    one einsum over them and the last axis's copies writes the output, further groups (strides
    or a third axis) add in. A block of channels at a time (DEPTHWISE_BLOCK_BYTES of buffers,
    reused, only their padding cells zeroed, once) stays in cache, the bias added there too;
    with several threads (``worker_threads``) each takes its share of the blocks, in a buffer it
    keeps (``scratch``). The layout depends on the op alone and is cached (``depthwise_plan``); the compiled
    kernels take the last axis in phases too (one copy of the input, ``depthwise_layout``) and
    write the output rows cropped, straight from the flat sums."""
    n, c, rank = op.batch, op.in_channels, op.rank
    m = op.out_channels // c
    lo = op.pad_lo
    if op.pad_mode != "zeros" or any(d != 1 for d in op.lhs_dilation):
        x, lo = pad_input(x, op.pad_lo, op.pad_hi, op.pad_mode, op.lhs_dilation), (0,) * rank
    phase_all, threads, block = depthwise_blocks(op, out, np.dtype(dtype).itemsize)
    tap_sum = compiled_tap_sum() if phase_all else None
    grid_shape, copies, blanks, groups, positions, rows = depthwise_plan(op, out, x.shape[2:], lo, phase_all)
    item, per_copy, shifts = np.dtype(dtype).itemsize, math.prod(grid_shape[1:]), grid_shape[0]
    kernels = w.reshape((c, m) + tuple(op.kernel) + ((1,) if rank == 1 or phase_all else ()))
    bias = None if b is None else b.astype(dtype, copy=False).reshape(c, m, 1)
    y = np.empty((n, c, m, rows if tap_sum is None else math.prod(out)), dtype=dtype)
    if tap_sum is not None:  # each offset's start in a flat copy and its weight per channel, in the einsums' order
        starts = np.array([start + t * step + s * per_copy for start, _, count, step in groups
                           for t in range(count) for s in range(shifts)], dtype=np.int64)  # fmt: skip
        tap_weights = [kernels[(slice(None), slice(None), *index)].reshape(c, m, -1) for _, index, _, _ in groups]
        weights = np.ascontiguousarray(np.concatenate(tap_weights, axis=2), dtype=dtype)
        shift = np.zeros((c, m), dtype) if bias is None else np.ascontiguousarray(bias[:, :, 0])
        lengths = grid_shape[2:]  # the output written row by row straight from the flat sums, cropped
        row_starts = np.zeros(1, dtype=np.int64)
        for size, pitch in zip(out[:-1], [math.prod(lengths[axis + 1 :]) for axis in range(rank - 1)]):
            row_starts = (row_starts[:, None] + np.arange(size) * pitch).ravel()
    copy_rows = compiled_copy_rows() if tap_sum is not None and rank == 2 and op.stride[-1] > 1 else None  # strided
    if copy_rows is not None:  # the copies as rows of (shift, phase, r0, r1, c0, c1, h0, h_step, w0, w_step)
        table = np.array([(*place[:2], place[2].start, place[2].stop, place[3].start, place[3].stop,
                           cells[0].start, cells[0].step or 1, cells[1].start, cells[1].step or 1)
                          for place, cells in copies], dtype=np.int64).reshape(-1, 10)  # fmt: skip

    def work(begin: int, end: int) -> None:
        """Channels begin..end, a block at a time, in this thread's scratch buffer."""
        flat = scratch((n, block, math.prod(grid_shape)), dtype)
        grid = flat.reshape((n, block) + grid_shape)
        for cells in blanks:
            grid[(slice(None), slice(None), *cells)] = 0
        views = []  # per einsum group: (n, block, offsets, shifts, positions) over the flat copies
        for start, taps, count, step in groups if tap_sum is None else ():
            strides = flat.strides[:2] + (step * item, per_copy * item, item)
            views.append((np.ndarray((n, block, count, shifts, positions), dtype, flat, start * item, strides), taps))
        partial = np.empty((n, block, m, positions), dtype=dtype) if len(views) > 1 else None
        for first in range(begin, end, block):
            count = min(block, end - first)
            channels = slice(first, first + count)
            if copy_rows is not None:
                copy_rows(x, grid, first, count, table)
            for place, cells in copies if copy_rows is None else ():
                grid[(slice(None), slice(count), *place)] = x[(slice(None), channels, *cells)]
            if tap_sum is not None:
                tap_sum(flat, starts, weights, shift, y, first, count, positions, row_starts, out[-1])
                continue
            total = y[:, channels, :, :positions]
            for index, (view, taps) in enumerate(views):
                target = total if index == 0 else partial[:, :count]
                np.einsum("cmts,nctsp->ncmp", kernels[(channels, slice(None), *taps)], view[:, :count], out=target)
                if index:
                    total += target
            if bias is not None:
                total += bias[channels]

    share = -(-c // threads)  # channels per thread
    if share >= c:
        work(0, c)
    else:
        list(thread_pool(threads).map(lambda begin: work(begin, min(begin + share, c)), range(0, c, share)))
    if tap_sum is not None:
        return y.reshape((n, c * m) + tuple(out))
    lengths = grid_shape[2:]
    y = y.reshape((n, c * m, out[0]) + lengths[1:])
    if lengths[1:] == tuple(out[1:]):
        return y
    return np.ascontiguousarray(y[(Ellipsis, *(slice(o) for o in out[1:]))])


def depthwise_blocks(op: ConvOp, out, itemsize: int) -> tuple[bool, int, int]:
    """(the compiled kernels' layout, threads, channels per block) of ``depthwise``: the compiled
    path when numba is there and the phases are few, a thread per share of the channels (one
    below DEPTHWISE_THREAD_WORK multiply-adds, where starting threads costs more than it saves)."""
    phase_all = compiled_tap_sum() is not None and math.prod(op.stride) <= DEPTHWISE_MAX_PHASES
    work = op.batch * op.out_channels * math.prod(out) * math.prod(op.kernel)
    threads = min(worker_threads(), op.in_channels) if work >= DEPTHWISE_THREAD_WORK else 1
    block = depthwise_block(op, out, itemsize, phase_all)[0]
    return phase_all, threads, min(block, -(-op.in_channels // threads))


SCRATCH = threading.local()  # per thread: the depthwise buffer of the last call, reused


def scratch(shape: tuple, dtype) -> np.ndarray:
    """An uninitialised array of ``shape`` in this thread's kept buffer (grown when too small):
    a fresh buffer of megabytes costs a page fault per 4 KiB on every call (glibc maps and unmaps
    large blocks, in threads above all), as much time as the depthwise sums themselves."""
    count = math.prod(shape) * np.dtype(dtype).itemsize
    buffer = getattr(SCRATCH, "buffer", None)
    if buffer is None or buffer.nbytes < count:
        buffer = SCRATCH.buffer = np.empty(count, dtype=np.uint8)
    return buffer[:count].view(dtype).reshape(shape)


def worker_threads() -> int:
    """Threads for the loops that NumPy runs on one core (the depthwise blocks): the first of
    CONVARITH_NUM_THREADS and OMP_NUM_THREADS (as torch and OpenBLAS read it) that is a positive
    integer, else the cores this process may run on."""
    for name in ("CONVARITH_NUM_THREADS", "OMP_NUM_THREADS"):
        text = os.environ.get(name, "").strip()
        if text.isdigit() and int(text) > 0:
            return int(text)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@lru_cache(maxsize=4)
def thread_pool(threads: int) -> ThreadPoolExecutor:
    """A pool of ``threads`` threads, made once and kept (threads start when first used)."""
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="convarith")


@lru_cache(maxsize=256)
def depthwise_plan(op: ConvOp, out, size, lo, phase_all: bool = False):
    """The layout of ``depthwise`` for input cells ``size`` padded by ``lo``: (grid shape per
    channel (shifts, phases, *lengths), the copies (place in the grid, input cells), the grid
    cells no copy writes (padding, zeroed once), the einsum groups of ``tap_groups``, flat
    output positions computed, output pitch of the first axis). ``phase_all``: see
    ``depthwise_layout``."""
    phased, shifts, lengths, phases = depthwise_layout(op, out, phase_all)
    pitch = [math.prod(lengths[axis + 1 :]) for axis in range(op.rank)]
    copies, blanks = [], []
    for (index, phase), (shift_index, shift) in product(enumerate(phases), enumerate(shifts)):
        offsets = phase + (shift,) if phased < op.rank else phase
        seen = [cells_seen(*axis) for axis in zip(size, lo, offsets, op.stride, lengths)]
        if not all(seen):
            blanks.append((shift_index, index))
            continue
        copies.append(((shift_index, index, *(where for where, _ in seen)), tuple(cells for _, cells in seen)))
        for axis, ((where, _), length) in enumerate(zip(seen, lengths)):  # slabs before and after the copy
            before = (shift_index, index) + (slice(None),) * axis
            blanks += [
                (*before, cells)
                for cells in (slice(0, where.start), slice(where.stop, length))
                if cells.stop > cells.start
            ]
    positions = sum((o - 1) * p for o, p in zip(out, pitch)) + 1  # up to the last output
    groups = tuple(tap_groups(op, phased, lengths, pitch))
    shape = (len(shifts), len(phases), *lengths)
    return shape, tuple(copies), tuple(blanks), groups, positions, out[0] * pitch[0]


def depthwise_layout(op: ConvOp, out, phase_all: bool = False):
    """(axes split into phases, last-axis offsets copied, lengths of a copy, phases) of ``depthwise``.
    The last of two or more axes is copied once per offset, so that the output rows come out
    exactly as long as the output's (what NumPy's einsums want); ``phase_all`` splits it into
    phases like the others instead (one copy of the input in all, rows as long as the copy's,
    cropped at the end: what the compiled ``tap_sum`` wants)."""
    phased = op.rank if phase_all else max(op.rank - 1, 1)
    shifts = [j * op.dilation[-1] for j in range(op.kernel[-1])] if phased < op.rank else [0]
    lengths = tuple(
        o + (k - 1) * d // s if axis < phased else o
        for axis, (o, k, d, s) in enumerate(zip(out, op.kernel, op.dilation, op.stride))
    )
    return phased, shifts, lengths, list(product(*(range(s) for s in op.stride[:phased])))


@lru_cache(maxsize=256)
def depthwise_block(op: ConvOp, out, itemsize: int, phase_all: bool = False) -> tuple[int, int]:
    """(channels per block, bytes of buffers per channel) of ``depthwise``: the copies, one
    output block and one partial sum."""
    _, shifts, lengths, phases = depthwise_layout(op, out, phase_all)
    m = op.out_channels // op.in_channels
    rows = math.prod(lengths[1:]) * out[0]
    per_channel = op.batch * (len(shifts) * len(phases) * math.prod(lengths) + 2 * m * rows) * itemsize
    return max(1, min(op.in_channels, DEPTHWISE_BLOCK_BYTES // max(per_channel, 1))), per_channel


def tap_groups(op: ConvOp, phased: int, lengths, pitch):
    """The kernel offsets as einsum groups over the flat copies of ``depthwise``: per offset
    of the axes between the first and the last and phase of the first axis, (flat start,
    kernel index, how many, shift step) of the progression of first-axis offsets i,
    i + period, ... in that phase (the last axis's offsets are the copies)."""
    k0, d0, s0 = op.kernel[0], op.dilation[0], op.stride[0]
    period = s0 // math.gcd(s0, d0)  # first-axis offsets i and i + period share a phase
    strides = op.stride[:phased]
    for rest in product(*(range(k) for k in op.kernel[1:phased])):
        for first in range(min(period, k0)):
            offsets = [i * d for i, d in zip((first, *rest), op.dilation)]
            phase = sum(e % s * math.prod(strides[axis + 1 :]) for axis, (e, s) in enumerate(zip(offsets, strides)))
            start = phase * math.prod(lengths) + sum(e // s * p for e, s, p in zip(offsets, strides, pitch))
            index = (slice(first, None, period), *rest, slice(None))
            yield start, index, len(range(first, k0, period)), period * d0 // s0 * pitch[0]


def windows(xp, kernel, dilation, stride, out):
    """Read-only view (..., *kernel, *out) of ``xp``: element [..., i, j] = xp[..., i*d + j*s]
    (an axis of one tap or one window takes step 0: its stride or dilation may be any size)."""
    lead, steps = xp.strides[: xp.ndim - len(out)], xp.strides[xp.ndim - len(out) :]
    taps = tuple(st * d if k > 1 else 0 for st, d, k in zip(steps, dilation, kernel))
    moves = tuple(st * s if o > 1 else 0 for st, s, o in zip(steps, stride, out))
    return np.lib.stride_tricks.as_strided(
        xp,
        shape=xp.shape[: xp.ndim - len(out)] + tuple(kernel) + tuple(out),
        strides=lead + taps + moves,
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


def avg_divisor(op: ConvOp, out) -> np.ndarray:
    """Divisor per output position (``arith.window_cells`` per axis), as an array
    broadcastable over (N, C, *out)."""
    if op.divisor_override:
        return np.asarray(float(op.divisor_override))
    counts = np.ones((), dtype=np.float64)
    for axis in range(op.rank):
        c = arith.window_cells(
            np.arange(out[axis]),
            op.in_size[axis],
            op.kernel[axis],
            op.dilation[axis],
            op.stride[axis],
            op.pad_lo[axis],
            op.pad_hi[axis],
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
    if op.kind in ("max_pool", "avg_pool") and covers_input(op):
        return global_pool(x, op.kind == "avg_pool", op.divisor_override or math.prod(op.kernel))
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
    (output slice, input slice) of the j whose cell lies inside [0, n), or None if none does
    (the j whose cell lies before a length L are the windows of span 1 in L + lo - offset)."""
    first = max(0, arith.windows_in(lo - offset, 1, stride))
    last = min(out, arith.windows_in(n + lo - offset, 1, stride))
    if last <= first:
        return None
    start = first * stride - lo + offset
    return slice(first, last), slice(start, start + arith.transpose_out(last - first, 1, stride, 0, 0, 0), stride)


def covers_input(op: ConvOp) -> bool:
    """One window, unpadded and undilated, exactly as large as the input."""
    return (
        op.kernel == op.in_size
        and not any(op.pad_lo) and not any(op.pad_hi)
        and all(d == 1 or k == 1 for d, k in zip(op.dilation, op.kernel))
        and all(o == 1 for o in arith.output_spatial(op))
    )  # fmt: skip


def global_pool(x, average: bool, divisor) -> np.ndarray:
    """Max, or sum / divisor, over all spatial cells of each (batch, channel) at once:
    the sum is one matrix-vector product with ones (a mean of no cells is NaN)."""
    flat = x.reshape(x.shape[:2] + (-1,))
    kept = x.shape[:2] + (1,) * (x.ndim - 2)
    if not average:
        return flat.max(axis=2).reshape(kept)
    with np.errstate(invalid="ignore"):
        return (np.matmul(flat, np.ones(flat.shape[2], x.dtype)) / divisor).reshape(kept)


def adaptive(op: ConvOp, x, dtype):
    """Adaptive pooling: window i of an axis is [floor(i*n/out), ceil((i+1)*n/out)).

    Each window is reduced on its own (no running sums, which cancel for large values).
    Axes whose windows do not tile the axis are gathered and reduced one at a time (an empty
    window averages to NaN, as torch's mean of nothing); then the axes that tile are split
    into (window, cell) by a reshape and reduced together. Output size 1 everywhere is a
    global pool."""
    y = x.astype(dtype, copy=False)
    average = op.kind == "adaptive_avg_pool"
    if all(m == 1 for m in op.out_size) and (average or y.size):
        return global_pool(y, average, math.prod(op.in_size))
    for axis, (n, m) in enumerate(zip(op.in_size, op.out_size)):
        if n % m == 0:
            continue
        dim = axis + 2
        starts, stops = arith.adaptive_window(np.arange(m), n, m)
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
    out = arith.output_spatial(op)
    if any(s <= 0 for s in out) or op.batch == 0 or op.out_channels == 0:
        out = tuple(max(s, 0) for s in out)
        return np.zeros((op.batch // op.batch_groups, op.out_channels) + out, dtype=dtype)
    if op.kind in ("depth_to_space", "space_to_depth", "unfold", "fold") or op.init_value is not None:
        from . import rearrange  # wip8-rearr

        return rearrange.run(op, x, dtype)
    if op.kind == "conv":
        return conv(op, x, w, b, dtype)
    if op.kind == "conv_transpose":
        return conv_transpose(op, x, w, b, dtype)
    if op.kind.startswith("adaptive"):
        return adaptive(op, x, dtype)
    if op.kind == "resize":
        from .resize import resize

        return resize(op, x, dtype)
    if op.kind in ("pad", "max_unpool"):
        from .layers import run_layer

        return run_layer(op, x, w, dtype)
    return pool(op, x, dtype)
