"""Transposed convolution computed three ways that must agree.

1. scatter: each input value stamps value*kernel onto the output at stride s;
   the stamped buffer is cropped by pad_lo/pad_hi and extended by output_padding.
2. zero insertion: put s-1 zeros between inputs, pad by k_eff-1-pad_lo before and
   k_eff-1-pad_hi+output_padding after, and run an ordinary stride-1 convolution
   (rhs dilation d) with the spatially flipped kernel, in/out channels swapped.
3. matrix: C is the matrix of the matching forward convolution (output size ->
   input size); the transposed convolution is C^T x.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core import arith
from ..core.op import ConvOp
from ..errors import ConvArithError
from . import engine
from .adapters import finish, prepare, warn_nan
from .engine import compute_dtype, pad_input, run_op, scatter, short_repr

__all__ = ["TransposedViews", "transposed_views"]

GRID_LIMIT = 24


def flipped_swapped(op: ConvOp, w: np.ndarray) -> np.ndarray:
    """(C, O/g, k...) transposed weight -> (O, C/g, k...) conv weight, spatially flipped."""
    g = op.groups
    c, og = w.shape[:2]
    grouped = w.reshape((g, c // g, og) + w.shape[2:])
    swapped = np.swapaxes(grouped, 1, 2).reshape((g * og, c // g) + w.shape[2:])
    return np.ascontiguousarray(swapped[(Ellipsis, *(slice(None, None, -1),) * op.rank)])


def zero_insertion_op(op: ConvOp) -> ConvOp:
    """The ordinary convolution equal to ``op``: lhs_dilation = stride, pads k_eff-1-p."""
    pads = [
        arith.transposed_forward_pads(arith.effective_kernel(k, d), lo, hi, p)
        for k, d, lo, hi, p in zip(op.kernel, op.dilation, op.pad_lo, op.pad_hi, op.output_padding)
    ]
    return op.with_(
        kind="conv",
        stride=(1,) * op.rank,
        lhs_dilation=op.stride,
        pad_lo=tuple(lo for lo, _ in pads),
        pad_hi=tuple(hi for _, hi in pads),
        output_padding=(0,) * op.rank,
    )


def forward_matrix(op: ConvOp, dtype) -> np.ndarray:
    """C with rows = forward-conv outputs (C, *in_size) and columns = forward-conv
    inputs (O, *out_size): C[(c, j), (o, j*s - pad_lo + k*d)] = w[c, o, k]."""
    out = arith.output_spatial(op)
    rows_n, cols_n = op.in_channels * math.prod(op.in_size), op.out_channels * math.prod(out)
    return np.zeros((rows_n, cols_n), dtype=dtype), out


def fill_matrix(op: ConvOp, w: np.ndarray, matrix: np.ndarray, out) -> None:
    g = op.groups
    cg, og = op.in_channels // g, op.out_channels // g
    grids = np.meshgrid(
        np.arange(op.in_channels),
        np.arange(og),
        *(np.arange(k) for k in op.kernel),
        *(np.arange(n) for n in op.in_size),
        indexing="ij",
    )
    c, o_local = grids[0], grids[1]
    ks, js = grids[2 : 2 + op.rank], grids[2 + op.rank :]
    pos = [j * s - lo + k * d for j, k, s, lo, d in zip(js, ks, op.stride, op.pad_lo, op.dilation)]
    valid = np.ones(c.shape, dtype=bool)
    for p, m in zip(pos, out):
        valid &= (p >= 0) & (p < m)
    row = np.ravel_multi_index((c, *js), (op.in_channels, *op.in_size))
    o = (c // cg) * og + o_local
    col = np.ravel_multi_index((o, *[np.clip(p, 0, m - 1) for p, m in zip(pos, out)]), (op.out_channels, *out))
    values = w[(c, o_local, *ks)]
    np.add.at(matrix, (row[valid], col[valid]), values[valid])


@dataclass
class TransposedViews:
    """The three results (framework layout), the forward result, and the check."""

    expr: str
    op: ConvOp
    scatter: np.ndarray
    zero_insertion: np.ndarray
    matrix: np.ndarray
    forward: np.ndarray
    max_difference: float
    agree: bool
    scatter_buffer: np.ndarray
    inserted_input: np.ndarray
    flipped_kernel: np.ndarray
    kernel: np.ndarray
    canonical_input: np.ndarray
    forward_matrix: np.ndarray
    canonical_result: np.ndarray

    def to_dict(self) -> dict:
        return {
            "expr": self.expr,
            "scatter": self.scatter.tolist(),
            "zero_insertion": self.zero_insertion.tolist(),
            "matrix": self.matrix.tolist(),
            "forward": self.forward.tolist(),
            "max_difference": self.max_difference,
            "agree": self.agree,
        }

    def __str__(self) -> str:
        op = self.op
        lines = [
            f"{self.expr}: transposed convolution computed three ways",
            f"  stride {op.stride}, kernel {op.kernel}, dilation {op.dilation}, pad {op.pad_lo}/{op.pad_hi}, "
            f"output_padding {op.output_padding}, groups {op.groups}",
            "",
            "1. scatter: each input value stamps value*kernel at stride s; crop pad_lo before, pad_hi after, "
            "output_padding extends the end.",
        ]
        small = op.rank <= 2 and max(self.scatter_buffer.shape[2:] + self.inserted_input.shape[2:]) <= GRID_LIMIT
        if small:
            lines += grid("input[0, 0]", self.canonical_input[0, 0])
            lines += grid("kernel[0, 0]", self.kernel[0, 0])
            lines += grid("stamped buffer[0, 0] (before cropping)", self.scatter_buffer[0, 0])
        lines += [
            "",
            "2. zero insertion: s-1 zeros between inputs, pad k_eff-1-p (+output_padding at the end), "
            "ordinary convolution with the flipped, in/out-swapped kernel.",
        ]
        if small:
            lines += grid("zero-inserted, padded input[0, 0]", self.inserted_input[0, 0])
            lines += grid("flipped kernel[0, 0]", self.flipped_kernel[0, 0])
        lines += [
            "",
            f"3. matrix: C is {self.forward_matrix.shape[0]}x{self.forward_matrix.shape[1]} "
            "(forward conv of the output size back to the input size); result = C^T x.",
        ]
        if self.forward_matrix.shape[0] <= GRID_LIMIT and self.forward_matrix.shape[1] <= 2 * GRID_LIMIT:
            lines += grid("C", self.forward_matrix)
        if small:
            lines += grid("result[0, 0] (all three views)", self.canonical_result[0, 0])
        verdict = "agree" if self.agree else "DISAGREE"
        lines += [
            "",
            f"check: scatter, zero insertion, matrix and forward {verdict} (max |difference| = {self.max_difference:.3g})",
        ]
        return "\n".join(lines)


def grid(title: str, array: np.ndarray) -> list[str]:
    """An ASCII grid of a 1-D or 2-D array."""
    array = np.atleast_2d(array)
    cells = [[fmt(v) for v in row] for row in array]
    width = max((len(c) for row in cells for c in row), default=1)
    lines = [f"  {title}:"]
    lines += ["    " + " ".join(c.rjust(width) for c in row) for row in cells]
    return lines


def fmt(value) -> str:
    text = f"{float(value):.3g}"
    return "0" if text in ("0", "-0") else text


def transposed_views(
    expr: str, x=None, weights=None, *, arrays=None, output_size=None, max_bytes: int | None = None
) -> TransposedViews:
    """Compute ``expr`` (a transposed convolution) as scatter, zero insertion and C^T x."""
    limit = engine.max_bytes(max_bytes)
    plan = prepare(expr, x, weights, arrays, output_size)
    ops = plan.mapped.ops
    if len(ops) != 1 or ops[0].kind != "conv_transpose":
        raise ConvArithError(
            f"{plan.mapped.call.base}: transposed_views needs a transposed convolution, got {ops[0].kind}. "
            "Rule: the three views are of a transposed convolution. Fix: use ConvTranspose/Conv2DTranspose/conv_transpose calls."
        )
    op = ops[0]
    out = arith.output_spatial(op)
    if min((op.batch, op.in_channels, op.out_channels, *op.in_size, *out)) <= 0:
        raise ConvArithError(
            f"{plan.mapped.call.base}: transposed_views needs a non-empty input and output, got input "
            f"{short_repr(op.input_shape)} (canonical N, C, spatial) and output spatial size {short_repr(tuple(out))}. "
            "Rule: the three views show cells, and an empty array has none. Fix: every size >= 1 "
            "(forward returns the empty result)."
        )
    w, b = plan.params[0]
    dtype = compute_dtype(plan.x, w, b)
    forward_result = run_op(op, plan.x, w, b, max_bytes=limit)
    buffer, crop = scatter(op, plan.x, w, dtype)
    scattered = np.ascontiguousarray(buffer[(Ellipsis, *crop)])
    conv_op = zero_insertion_op(op)
    flipped = flipped_swapped(op, w.astype(dtype))
    inserted = run_op(conv_op, plan.x, flipped, None, max_bytes=limit)
    padded = pad_input(plan.x[:1, :1].astype(dtype), conv_op.pad_lo, conv_op.pad_hi, lhs_dilation=conv_op.lhs_dilation)
    matrix, out = forward_matrix_checked(op, dtype, limit)
    fill_matrix(op, w.astype(dtype), matrix, out)
    product = (plan.x.reshape(op.batch, -1).astype(dtype) @ matrix).reshape((op.batch, op.out_channels) + tuple(out))
    results = []
    for y in (scattered, inserted, product):
        if b is not None:
            y = y + b.astype(dtype).reshape((1, -1) + (1,) * op.rank)
        results.append(y)
    warn_nan(plan, forward_result)
    diff = max(float(np.abs(r - forward_result).max(initial=0.0)) for r in results)
    scale = float(np.abs(forward_result).max(initial=0.0)) + 1.0
    tolerance = (1e-4 if dtype == np.float32 else 1e-10) * scale
    return TransposedViews(
        expr,
        op,
        *(finish(plan, r.astype(dtype)) for r in results),
        finish(plan, forward_result),
        diff,
        diff <= tolerance,
        buffer,
        padded,
        flipped,
        w.astype(dtype),
        plan.x,
        matrix,
        results[1],
    )


def forward_matrix_checked(op: ConvOp, dtype, limit):
    """The zero matrix C, after checking that it and the index grids that fill it fit in the budget."""
    out = arith.output_spatial(op)
    matrix = op.in_channels * math.prod(op.in_size) * op.out_channels * math.prod(out) * np.dtype(dtype).itemsize
    entries = op.in_channels * (op.out_channels // op.groups) * math.prod(op.kernel) * math.prod(op.in_size)
    grids = entries * 8 * (3 * op.rank + 6)  # meshgrid, positions, validity, rows, columns, values (int64)
    need, allowed = matrix + grids, engine.max_bytes(limit)
    if need > allowed:
        raise ConvArithError(
            f"{op.kind}: the matrix C of the forward convolution and its index grids need about {engine.mib(need)}, "
            f"above the budget of {engine.mib(allowed)}. Rule: transposed_views builds C densely and refuses rather "
            "than swap. Fix: a smaller input for transposed_views (forward has no matrix), or raise max_bytes=..."
        )
    return forward_matrix(op, dtype)
