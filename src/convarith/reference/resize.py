"""Resize (upsampling, interpolation) numbers: one separable engine for every framework.

Per axis, each output cell x is mapped to an input position p by the op's coordinate rule,
in the float32 arithmetic of the framework named by ``resize_arith`` (the order of its float
operations decides which cell a nearest lookup picks at a tie), then read by the mode:
nearest rounds p, linear weighs cells floor(p) and floor(p) + 1, cubic four cells with Keys'
weights. Cells outside the input repeat the edge cell, or are dropped with the weights
renormalised (``exclude_outside``). Filters (antialiasing, lanczos, gaussian, mitchellcubic,
TF's area) are weight tables over a span of cells per output cell, built the way each
framework builds them (torch and onnxruntime as PIL does, TF as scale_and_translate and
resize_area do). Axes are resampled one after another, the last first: a gather and a
weighted sum per tap.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import arith
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
    if op.resize_arith == "torch" and given > 0:
        return F32(1.0 / given), False
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
    size = np.abs(p)
    whole = np.floor(size)
    nearest = np.sign(p) * (whole + (size - whole >= F32(0.5)))  # not floor(|p| + 0.5): 0.49999997 + 0.5 rounds to 1
    if how == "round_prefer_floor":
        return np.where(p == np.trunc(p) + F32(0.5), np.floor(p), nearest)  # onnxruntime's tie test
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
    if arith.resize_copies_axis(op, axis):
        return np.arange(out)[:, None], np.ones((out, 1))
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


# --- filters: antialiasing, lanczos, gaussian, mitchell, TF's area -------------------------------------------------


def triangle(x):
    return np.maximum(1 - np.abs(x), 0)


def lanczos(radius: float):
    def kernel(x):
        x = np.abs(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi * np.pi * x * x)
        return np.where(x > radius, 0.0, np.where(x <= 1e-3, 1.0, value))

    return kernel


def gaussian(x):
    x = np.abs(x)
    sigma = 1.5 / 3
    return np.where(x >= 1.5, 0.0, np.exp(-x * x / (2 * sigma * sigma)))


def mitchell(x):
    x = np.abs(x)
    near = (7 / 6) * x**3 - 2 * x**2 + 8 / 9
    far = -(7 / 18) * x**3 + 2 * x**2 - (10 / 3) * x + 16 / 9
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


def filter_kernel(op: ConvOp):
    """(radius, kernel) of a filtering mode; cubic takes the op's a (torch and TF use -0.5 here)."""
    if op.resize_mode == "linear":
        return 1.0, triangle
    if op.resize_mode == "cubic":
        a = -0.5 if op.resize_arith in ("torch", "tf") else op.cubic_a
        return 2.0, lambda x: keys(x, a)
    if op.resize_mode in ("lanczos3", "lanczos5"):
        radius = float(op.resize_mode[-1])
        return radius, lanczos(radius)
    return (1.5, gaussian) if op.resize_mode == "gaussian" else (2.0, mitchell)


def table(starts, stops, weigh, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(cells, weights) of spans [start, stop) per output cell, each weight ``weigh(cells)``,
    normalised to sum 1 (a zero sum is left as is)."""
    starts = np.asarray(starts, np.int64)
    stops = np.maximum(np.asarray(stops, np.int64), starts)
    taps = max(int((stops - starts).max(initial=1)), 1)
    cells = starts[:, None] + np.arange(taps)[None, :]
    weights = np.where(cells < stops[:, None], weigh(cells), 0.0)
    total = weights.sum(axis=1, keepdims=True)
    return np.clip(cells, 0, n - 1), np.where(total != 0, weights / np.where(total == 0, 1, total), weights)


def torch_filter(op: ConvOp, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """torch's antialiased kernels (PIL's): the filter widened by the scale when shrinking,
    spans [trunc(center - support + 0.5), trunc(center + support + 0.5)) around center = scale * (x + 0.5)."""
    n, out = op.in_size[axis], op.out_size[axis]
    radius, kernel = filter_kernel(op)
    scale, _ = factor(op, axis, n, out)
    shrinks = scale >= 1
    support = F32(radius * scale) if shrinks else F32(radius)
    invscale = 1 / np.float64(scale) if shrinks else 1.0
    center = (np.float64(scale) * (np.arange(out) + 0.5)).astype(F32)
    starts = np.maximum(np.trunc((center - support).astype(np.float64) + 0.5), 0)
    stops = np.minimum(np.trunc((center + support).astype(np.float64) + 0.5), n)
    return table(starts, stops, lambda j: kernel((j - center[:, None].astype(np.float64) + 0.5) * invscale), n)


def tf_filter(op: ConvOp, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """TF's scale_and_translate: sample (x + 0.5) / scale, the kernel widened by 1/scale when
    shrinking with antialias, spans [ceil(sample - r - 0.5), floor(sample + r - 0.5)] clamped."""
    n, out = op.in_size[axis], op.out_size[axis]
    radius, kernel = filter_kernel(op)
    inv_scale = F32(1) / (F32(out) / F32(n))
    kernel_scale = max(inv_scale, F32(1)) if op.antialias else F32(1)
    reach = F32(radius) * kernel_scale
    sample = (np.arange(out, dtype=F32) + F32(0.5)) * inv_scale
    starts = np.clip(np.ceil(sample - reach - F32(0.5)), 0, n - 1)
    stops = np.clip(np.floor(sample + reach - F32(0.5)), 0, n - 1) + 1
    return table(starts, stops, lambda j: kernel((j.astype(F32) + F32(0.5) - sample[:, None]) / kernel_scale), n)


def onnx_filter(op: ConvOp, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """onnxruntime's antialias (PIL's, around its coordinate transform): centre = position + 0.5,
    span floor(centre -+ support + 0.5) at most ceil(support)*2 + 1 wide; cells outside repeat
    the edge cell unless exclude_outside; an axis whose size does not change is copied."""
    n, out = op.in_size[axis], op.out_size[axis]
    if arith.resize_copies_axis(op, axis):
        return np.arange(out)[:, None], np.ones((out, 1))
    rscale, _ = factor(op, axis, n, out)
    scale = F32(1) / rscale
    shrinks = scale >= 1
    radius = 1.0 if op.resize_mode == "linear" else 2.0
    support = F32(radius) * scale if shrinks else F32(radius)
    window = int(np.ceil(support)) * 2 + 1
    inv_scale = F32(1) / scale if shrinks else F32(1)
    where = np.arange(out, dtype=F32) if scale == 1 else positions(op, axis, n, out).astype(F32)
    center = F32(0.5) + where
    starts = np.floor(center - support + F32(0.5))
    stops = starts + np.clip(np.floor(center + support + F32(0.5)) - starts, 0, window)
    if op.exclude_outside:
        starts, stops = np.clip(starts, 0, n), np.clip(stops, 0, n)
    a = op.cubic_a
    kernel = triangle if op.resize_mode == "linear" else lambda x: keys(x, a)
    return table(starts, stops, lambda j: kernel(((j - center[:, None]).astype(F32) + F32(0.5)) * inv_scale), n)


def tf_area(op: ConvOp, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """TF's resize_area: output y averages [y, y + 1) * n/out, each cell weighed by its overlap."""
    n, out = op.in_size[axis], op.out_size[axis]
    scale = F32(n) / F32(out)
    low = np.arange(out, dtype=F32) * scale
    high = (np.arange(out, dtype=F32) + F32(1)) * scale
    starts, stops = np.floor(low), np.ceil(high)

    def overlap(i):
        i = i.astype(F32)
        lo, hi = low[:, None], high[:, None]
        inside = np.where(i + 1 > hi, hi - i, F32(1))
        return np.where(i < lo, np.where(i + 1 > hi, scale, i + 1 - lo), inside).astype(np.float64)

    return table(starts, stops, overlap, n)


def filtered(op: ConvOp, axis: int):
    """The (cells, weights) of a filtering op, None where plain sampling applies."""
    if op.resize_arith == "tf" and op.resize_mode == "area":
        return tf_area(op, axis)
    plain = op.resize_mode in TAPS and not op.antialias
    if plain:
        return None
    if op.resize_arith == "tf":
        return tf_filter(op, axis)
    if op.resize_arith == "torch":
        return torch_filter(op, axis)
    return onnx_filter(op, axis)


def resize_bytes(op: ConvOp, itemsize: int) -> int:
    """Largest intermediates of ``resize``: the input, each axis's result and a gathered tap."""
    biggest = math.prod(max(a, b) for a, b in zip(op.in_size, op.out_size))
    taps = TAPS.get(op.resize_mode, 1)
    return itemsize * op.batch * op.in_channels * (math.prod(op.in_size) + 3 * biggest) + 16 * taps * sum(op.out_size)


def unsupported(op: ConvOp) -> str:
    """What forward does not reproduce about ``op`` ('' when it does)."""
    if op.coordinate == "tf_crop_and_resize":
        return "coordinate_transformation_mode='tf_crop_and_resize'"
    if op.resize_mode == "area" and op.resize_arith != "tf":
        return "mode 'area'"
    kept = [axis for axis in range(op.rank) if op.in_size[axis] == op.out_size[axis]]
    scales = op.sample_scale or (0.0,) * op.rank
    if op.resize_arith == "torch" and op.antialias and any(scales[axis] not in (0.0, 1.0) for axis in kept):
        # measured: neither a copy of that axis nor a resampling at 1/s
        return f"torch's antialiased {op.resize_mode} on an axis that keeps its size under a scale_factor != 1"
    return ""


def resize(op: ConvOp, x, dtype) -> np.ndarray:
    """The resized input (N, C, *out_size)."""
    what = unsupported(op)
    if what:
        raise ConvArithError(
            f"resize: forward does not reproduce {what}. Rule: convarith's numbers cover nearest, linear, cubic, "
            "antialiasing, lanczos, gaussian, mitchellcubic and TF's area (output_shape and explain cover every "
            "mode). Fix: another mode."
        )
    y = x.astype(dtype, copy=False)
    for axis in reversed(range(op.rank)):  # the last axis first, as torch's separable kernels do
        found = filtered(op, axis)
        cells, weights = found if found is not None else sampling(op, axis)
        dim = axis + 2
        shape = (1,) * dim + (cells.shape[0],) + (1,) * (op.rank - axis - 1)
        if cells.shape[1] == 1 and np.all(weights == 1):
            y = np.take(y, cells[:, 0], axis=dim)
            continue
        total = None
        for tap in range(cells.shape[1]):
            term = np.take(y, cells[:, tap], axis=dim) * weights[:, tap].astype(dtype).reshape(shape)
            total = term if total is None else total + term
        y = total
    if op.resize_arith == "torch" and op.antialias and op.out_size[-1] == 1 and op.in_size[0] != op.out_size[0]:
        y = np.repeat(y[:, :, :1], op.out_size[0], axis=2)  # torch's vertical pass on a 1-wide output repeats row 0
    return np.ascontiguousarray(y)
