"""Resize (upsampling, interpolation) numbers: one separable engine for every framework.

Per axis, each output cell x is mapped to an input position p by the op's coordinate rule,
in the float32 arithmetic of the framework named by ``resize_arith`` (the order of its float
operations decides which cell a nearest lookup picks at a tie), then read by the mode:
nearest rounds p, linear weighs cells floor(p) and floor(p) + 1, cubic four cells with Keys'
weights. Cells outside the input repeat the edge cell, or are dropped with the weights
renormalised (``exclude_outside``). Axes are resampled one after another: a gather and a
weighted sum per tap.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.op import ConvOp
from ..errors import ConvArithError

__all__ = ["resize", "resize_bytes", "sampling"]

F32 = np.float32
TAPS = {"nearest": 1, "linear": 2, "cubic": 4}


def factor(op: ConvOp, axis: int, n: int, out: int):
    """The float32 number the framework multiplies (torch, tf) or divides (onnx) output
    coordinates by, and whether it divides."""
    given = op.sample_scale[axis] if op.sample_scale else 0.0
    if op.resize_arith == "onnx":
        return (F32(given) if given else F32(out) / F32(n)), True
    if op.coordinate == "align_corners":
        return (F32(n - 1) / F32(out - 1) if out > 1 else F32(0.0)), False
    if op.resize_arith == "torch" and given > 0 and (op.resize_mode == "nearest" or out != n):
        return F32(1.0 / given), False  # an interpolating mode keeps an axis whose size does not change
    return F32(n) / F32(out), False


def positions(op: ConvOp, axis: int, n: int, out: int) -> np.ndarray:
    """The input position (float32) each output cell of one axis samples."""
    x = np.arange(out, dtype=F32)
    half = F32(0.5)
    scale, divides = factor(op, axis, n, out)
    mode, rule = op.resize_mode, op.coordinate
    if not divides:
        if rule == "align_corners":
            return x * scale
        if mode == "nearest" and rule == "asymmetric":
            return x * scale
        if rule == "tf_half_pixel_for_nn":
            if op.resize_arith == "torch":  # nearest-exact: (x + 0.5) in double, the product rounded by floorf
                return (np.arange(out, dtype=np.float64) + 0.5) * np.float64(scale)
            return (x + half) * scale
        return (x + half) * scale - half
    if rule == "asymmetric":
        return x / scale
    if rule == "align_corners":
        return x * F32(n - 1) / F32(out - 1) if out > 1 else np.zeros(out, F32)
    if rule == "tf_half_pixel_for_nn":
        return (x + half) / scale
    if rule == "pytorch_half_pixel" and out <= 1:
        return np.zeros(out, F32)
    if rule == "half_pixel_symmetric":  # float32 offset, then (x + 0.5) / scale - 0.5 in double (a double 0.5)
        adjustment = F32(out) / (scale * F32(n))
        offset = F32(n) / F32(2) * (F32(1) - adjustment)
        wide = np.float64(offset) + (x.astype(np.float64) + 0.5) / np.float64(scale) - 0.5
        return wide.astype(F32)
    return (x + half) / scale - half


def rounded(p: np.ndarray, how: str) -> np.ndarray:
    """Nearest cell of positions p: floor, ceil, round_prefer_floor (a tie goes down) or
    round_prefer_ceil (a tie goes up, as std::round away from zero)."""
    p = p.astype(F32)
    if how == "floor":
        return np.floor(p)
    if how == "ceil":
        return np.ceil(p)
    nearest = np.sign(p) * np.floor(np.abs(p) + F32(0.5))
    if how == "round_prefer_floor":
        return np.where(p - np.floor(p) == F32(0.5), np.floor(p), nearest)
    return nearest


def keys(distance: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution weight at |distance| < 2 with coefficient a."""
    d = np.abs(distance)
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.where(d <= 1, near, np.where(d < 2, far, 0.0))


def sampling(op: ConvOp, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(cells, weights), each (out, taps): output cell x of ``axis`` is the weighted sum
    of input cells cells[x] (inside the input) with weights[x] (float64)."""
    n, out = op.in_size[axis], op.out_size[axis]
    if op.resize_arith == "onnx" and (op.out_size == op.in_size or factor(op, axis, n, out)[0] == 1):
        return np.arange(out)[:, None], np.ones((out, 1))  # onnxruntime copies an unscaled axis or tensor as is
    p = positions(op, axis, n, out)
    if op.resize_mode == "nearest":
        if op.resize_arith == "exact":  # integer arithmetic: cell floor(x * n / out)
            cells = (np.arange(out, dtype=np.int64) * n) // out
        elif op.resize_arith == "torch" and op.coordinate == "asymmetric" and op.rank == 2 and out in (n, 2 * n):
            cells = np.arange(out, dtype=np.int64) // (out // n)  # torch's 2-D kernel: same size and doubling exact
        else:
            cells = rounded(p, op.nearest_rounding).astype(np.int64)
        return np.clip(cells, 0, n - 1)[:, None], np.ones((out, 1))
    if op.resize_arith == "onnx" and op.resize_mode == "linear":
        p = np.clip(p, F32(0), F32(n - 1))
    base = np.floor(p)
    t = (p - base).astype(np.float64)
    base = base.astype(np.int64)
    if op.resize_mode == "linear":
        cells = base[:, None] + np.arange(2)[None, :]
        weights = np.stack([1 - t, t], axis=1)
    else:
        if op.resize_arith == "torch":
            t = np.clip(t, 0.0, 1.0)
        if op.cubic_table:
            t = np.rint(t * op.cubic_table) / op.cubic_table
        cells = base[:, None] + np.arange(-1, 3)[None, :]
        weights = keys(np.stack([1 + t, t, 1 - t, 2 - t], axis=1), op.cubic_a)
        if op.exclude_outside:
            weights = np.where((cells >= 0) & (cells < n), weights, 0.0)
            total = weights.sum(axis=1, keepdims=True)
            weights = np.where(np.abs(total) > 0, weights / np.where(total == 0, 1, total), weights)
    return np.clip(cells, 0, n - 1), weights


def resize_bytes(op: ConvOp, itemsize: int) -> int:
    """Largest intermediates of ``resize``: the input, each axis's result and a gathered tap."""
    biggest = math.prod(max(a, b) for a, b in zip(op.in_size, op.out_size))
    taps = TAPS.get(op.resize_mode, 1)
    return itemsize * op.batch * op.in_channels * (math.prod(op.in_size) + 3 * biggest) + 16 * taps * sum(op.out_size)


def resize(op: ConvOp, x, dtype) -> np.ndarray:
    """The resized input (N, C, *out_size)."""
    if op.resize_mode not in TAPS or op.antialias or op.coordinate == "tf_crop_and_resize":
        what = "antialias=True" if op.antialias else f"mode {op.resize_mode!r}"
        what = "coordinate_transformation_mode='tf_crop_and_resize'" if op.coordinate == "tf_crop_and_resize" else what
        raise ConvArithError(
            f"resize: forward does not reproduce {what} yet. Rule: convarith's numbers cover nearest, linear and "
            "cubic sampling without antialiasing (output_shape and explain cover every mode). "
            "Fix: use a nearest, linear or cubic mode for numbers."
        )
    for axis, (n, out) in enumerate(zip(op.in_size, op.out_size)):
        given = op.sample_scale[axis] if op.sample_scale else 0.0
        if op.resize_arith == "torch" and op.resize_mode == "cubic" and out == n and given not in (0.0, 1.0):
            raise ConvArithError(
                f"resize: forward does not reproduce torch's bicubic on an axis whose size stays {n} with "
                f"scale_factor={given!r}. Rule: torch's kernel samples such an axis off its documented grid (measured). "
                f"Fix: pass size= instead of scale_factor for numbers, or a scale_factor that changes the size."
            )
    y = x.astype(dtype, copy=False)
    for axis in range(op.rank):
        cells, weights = sampling(op, axis)
        dim = axis + 2
        shape = (1,) * dim + (cells.shape[0],) + (1,) * (op.rank - axis - 1)
        if cells.shape[1] == 1:
            y = np.take(y, cells[:, 0], axis=dim)
            continue
        total = None
        for tap in range(cells.shape[1]):
            term = np.take(y, cells[:, tap], axis=dim) * weights[:, tap].astype(dtype).reshape(shape)
            total = term if total is None else total + term
        y = total
    return np.ascontiguousarray(y)
