"""Compiled inner loops for ``engine``, when the optional extra ``convarith[fast]`` (numba) is
installed: the same sums as the NumPy path they replace (terms in the same order; NumPy's
einsum may round through fused multiply-adds), which stays the path without numba and with
``CONVARITH_COMPILED=0``.

Two kernels, both of the depthwise convolution: ``tap_sum``, its sum of shifted copies scaled
by one weight per channel and offset (NumPy spends one einsum pass over memory per offset; the
compiled loop keeps one output row in cache for all offsets), and ``copy_rows``, the copies of a
2-D input into stride phases (NumPy's strided copy reads every other element one at a time).
Together they bring a depthwise layer within 2x of PyTorch's oneDNN kernel (numbers in the
README's benchmark section).
"""

from __future__ import annotations

import os
from functools import lru_cache

__all__ = ["compiled_copy_rows", "compiled_tap_sum"]


def compiler():
    """numba's njit with the kernels' options (no GIL, cached on disk, no bounds checks), or None
    without numba or with CONVARITH_COMPILED=0."""
    if os.environ.get("CONVARITH_COMPILED", "1") == "0":
        return None
    try:
        import numba
    except ImportError:
        return None
    return numba.njit(nogil=True, cache=True, boundscheck=False)


@lru_cache(maxsize=1)
def compiled_tap_sum():
    """The compiled ``tap_sum(flat, starts, weights, bias, out, first, count, positions, row_starts, width)``,
    or None without numba (or with CONVARITH_COMPILED=0); compiled on first use, cached on disk.

    For each batch n, channel c < count of the block ``flat`` (input channel first + c), multiplier m,
    the flat sums ``acc[p] = sum_t weights[first + c, m, t] * flat[n, c, starts[t] + p]`` for
    p < positions (the terms added in the order of t; each start >= 0 and start + positions
    within flat's last axis), and then output row q is ``out[n, first + c, m, q*width : (q+1)*width]
    = acc[row_starts[q] : row_starts[q] + width] + bias[first + c, m]``. Every array is
    C-contiguous, so one compilation per dtype serves every call."""
    jit = compiler()
    if jit is None:
        return None
    import numpy as np

    @jit
    def tap_sum(flat, starts, weights, bias, out, first, count, positions, row_starts, width):
        batch, multiplier = flat.shape[0], out.shape[2]
        acc = np.empty(positions, flat.dtype)
        for n in range(batch):
            for c in range(count):
                for m in range(multiplier):
                    for p in range(positions):
                        acc[p] = 0
                    for t in range(starts.shape[0]):
                        weight = weights[first + c, m, t]
                        source = flat[n, c, starts[t] :]
                        for p in range(positions):
                            acc[p] += weight * source[p]
                    target, shift = out[n, first + c, m], bias[first + c, m]
                    for q in range(row_starts.shape[0]):
                        row, place = acc[row_starts[q] :], target[q * width :]
                        for p in range(width):
                            place[p] = row[p] + shift

    return tap_sum


@lru_cache(maxsize=1)
def compiled_copy_rows():
    """The compiled ``copy_rows(x, grid, first, count, table)``, or None as ``compiled_tap_sum``.

    ``x`` is (N, C, H, W) and ``grid`` (N, block, shifts, phases, rows, cols); each row of the int
    table (shift, phase, r0, r1, c0, c1, h0, h_step, w0, w_step) is one copy, ``grid[n, c, shift,
    phase, r0:r1, c0:c1] = x[n, first + c, h0::h_step, w0::w_step]`` (as many as fit), for c < count.
    Two copies in a row that are the two column phases of stride 2 over the same rows (the second
    starting a cell earlier) are made in one pass over each input row."""
    jit = compiler()
    if jit is None:
        return None

    @jit
    def copy_rows(x, grid, first, count, table):
        copies = table.shape[0]
        for n in range(x.shape[0]):
            for c in range(count):
                k = 0
                while k < copies:
                    shift, phase, r0, r1, c0, c1, h0, h_step, w0, w_step = table[k]
                    paired = False  # with the next copy: the other column phase of the same rows, read in one pass
                    if w_step == 2 and k + 1 < copies:
                        shift_b, phase_b, q0, q1, d0, d1, g0, g_step, v0, v_step = table[k + 1]
                        paired = shift_b == shift and q0 == r0 and q1 == r1 and g0 == h0 and g_step == h_step
                        paired = paired and v_step == 2 and v0 == w0 - 1
                    for r in range(r1 - r0):
                        row = h0 + r * h_step
                        if paired:  # copy k + 1 takes the even cells from v0, copy k the odd ones
                            source = x[n, first + c, row, v0:]
                            even, odd = grid[n, c, shift_b, phase_b, q0 + r, d0:], grid[n, c, shift, phase, r0 + r, c0:]
                            both = min(d1 - d0, c1 - c0)
                            for q in range(both):
                                even[q] = source[2 * q]
                                odd[q] = source[2 * q + 1]
                            for q in range(both, d1 - d0):
                                even[q] = source[2 * q]
                            for q in range(both, c1 - c0):
                                odd[q] = source[2 * q + 1]
                            continue
                        source, target = x[n, first + c, row, w0:], grid[n, c, shift, phase, r0 + r, c0:]
                        if w_step == 1:
                            for q in range(c1 - c0):
                                target[q] = source[q]
                        elif w_step == 2:  # a constant step: loads the compiler can vectorise
                            for q in range(c1 - c0):
                                target[q] = source[2 * q]
                        else:
                            for q in range(c1 - c0):
                                target[q] = source[w_step * q]
                    k += 2 if paired else 1

    return copy_rows
