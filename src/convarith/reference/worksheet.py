"""One output element, worked out term by term.

conv: value = bias + sum over in-group channels c and kernel offsets k of
x[c, j*s - pad_lo + k*d] * w[o, c, k] (positions in the lhs-dilated input;
cells outside it are padding, cells between dilated inputs are holes).
conv_transpose: the inputs j with j*s + k*d - pad_lo == output position.
Pooling: the window cells, reduced by max, average (sum / divisor) or Lp norm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import product

import numpy as np

from ..core import arith
from ..core.op import ConvOp, place
from ..errors import ConvArithError
from . import activations, engine, run_chain
from .adapters import finish, prepare, warn_nan
from .engine import avg_divisor, compute_dtype, mib, short_repr

__all__ = ["Term", "Worksheet", "trace_element"]

SHOWN_ROWS = 60
TERM_BYTES = 512  # one Term with its tuples and floats: about 445 bytes measured with tracemalloc


@dataclass
class Term:
    """One cell that reached the element: its position in the (lhs-dilated) input
    coordinates, which may lie in the padding, where it was read from, and what it added."""

    source: str
    position: tuple
    input_index: tuple | None
    input_value: float
    weight_index: tuple | None = None
    weight_value: float | None = None
    product: float | None = None

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "position": list(self.position),
            "input_index": None if self.input_index is None else list(self.input_index),
            "input_value": self.input_value,
            "weight_index": None if self.weight_index is None else list(self.weight_index),
            "weight_value": self.weight_value,
            "product": self.product,
        }


@dataclass
class Worksheet:
    """Every term of one output element, the reduction, and the check against forward."""

    expr: str
    index: tuple
    kind: str
    terms: list
    reduction: str
    total: float
    bias: float | None
    divisor: float | None
    value: float
    forward_value: float
    notes: list = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        both_nan = np.isnan(self.value) and np.isnan(self.forward_value)
        return bool(both_nan or np.isclose(self.value, self.forward_value, rtol=1e-4, atol=1e-5))

    @property
    def padding_terms(self) -> list:
        return [t for t in self.terms if t.source.startswith("padding")]

    def to_dict(self) -> dict:
        return {
            "expr": self.expr,
            "index": list(self.index),
            "kind": self.kind,
            "terms": [t.to_dict() for t in self.terms],
            "reduction": self.reduction,
            "sum": self.total,
            "bias": self.bias,
            "divisor": self.divisor,
            "value": self.value,
            "forward_value": self.forward_value,
            "agrees": self.agrees,
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        weighted = self.kind in ("conv", "conv_transpose")
        header = ["source", "position", "input index", "input value"] + (
            ["weight index", "weight value", "product"] if weighted else []
        )
        rows = []
        for term in self.terms[:SHOWN_ROWS]:
            row = [term.source, idx(term.position), idx(term.input_index), num(term.input_value)]
            if weighted:
                row += [idx(term.weight_index), num(term.weight_value), num(term.product)]
            rows.append(row)
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
        lines = [f"{self.expr}: output{list(self.index)} ({self.kind}, {len(self.terms)} terms)"]
        lines += [f"  {note}" for note in self.notes]
        lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths)))
        lines += ["  " + "  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
        if len(self.terms) > SHOWN_ROWS:
            lines.append(f"  ... {len(self.terms) - SHOWN_ROWS} more terms (to_dict() has all)")
        lines.append(f"  {self.reduction} = {num(self.total)}")
        if self.divisor is not None:
            lines.append(f"  divisor = {num(self.divisor)}")
        if self.bias is not None:
            lines.append(f"  bias = {num(self.bias)}")
        verdict = "equals" if self.agrees else "DIFFERS FROM"
        lines.append(f"  value = {num(self.value)} ({verdict} forward: {num(self.forward_value)})")
        return "\n".join(lines)


def idx(index) -> str:
    return "-" if index is None else "[" + ", ".join(str(i) for i in index) + "]"


def num(value) -> str:
    return "-" if value is None else f"{float(value):.6g}"


def source_cell(op: ConvOp, p: int, axis: int) -> tuple[str, int | None]:
    """Where padded coordinate ``p`` on ``axis`` reads from: ('input', i), a hole, or padding."""
    n, ld = op.in_size[axis], op.lhs_dilation[axis]
    size = arith.dilated_size(n, ld)
    if 0 <= p < size:
        return ("input", p // ld) if p % ld == 0 else ("hole (lhs_dilation)", None)
    if op.pad_mode == "zeros" or op.weightless:
        inside = -op.pad_lo[axis] <= p < size + op.pad_hi[axis]
        return ("padding" if inside else "outside (past the padded input)"), None
    if op.pad_mode == "reflect":
        return "padding (reflect)", -p if p < 0 else 2 * (n - 1) - p
    if op.pad_mode == "replicate":
        return "padding (replicate)", min(max(p, 0), n - 1)
    return "padding (circular)", p % n


def combine(kinds) -> tuple[str, tuple | None]:
    """Combine per-axis (source, index) pairs: any padding/hole axis makes the cell padding/hole."""
    names = [k for k, _ in kinds if k != "input"]
    where = tuple(i for _, i in kinds)
    if not names:
        return "input", where
    name = next((k for k in names if k.startswith("outside")), None) or next(
        (k for k in names if k.startswith("hole")), names[0]
    )
    if any(i is None for i in where):
        return name, None
    return name, where


def trace_element(
    expr: str, index, x=None, weights=None, *, arrays=None, output_size=None, max_bytes: int | None = None
) -> Worksheet:
    """The worksheet of output element ``index`` (in the framework's output layout)."""
    return worksheet_of(prepare(expr, x, weights, arrays, output_size), index, max_bytes, expr)


def worksheet_of(plan, index, max_bytes: int | None = None, expr: str | None = None) -> Worksheet:
    """The worksheet of output element ``index`` of a prepared plan (arrays in canonical layout)."""
    limit = engine.max_bytes(max_bytes)
    expr = plan.mapped.call.text if expr is None else expr
    full_index = check_index(index, plan.mapped.output_shape, plan.mapped.call.base)
    op = plan.mapped.ops[-1]
    if op.kind in ("resize", "depth_to_space", "space_to_depth", "unfold", "fold", "pad", "max_unpool") or (
        op.init_value is not None or len(op.out_spec) < op.rank + 2
    ):
        raise ConvArithError(
            f"{plan.mapped.call.base}: trace_element lists the terms of one convolution or pooling window; this "
            f"call is a {op.kind.replace('_', ' ')}{' with its spatial axes dropped' if len(op.out_spec) < op.rank + 2 else ''}"
            ", with no window sum to list. Rule: its worksheet covers convolution and pooling. Fix: forward() gives "
            "its values (explain gives the rule; keepdims=True for a global pool's worksheet)."
        )
    canonical = full_index
    if plan.mapped.squeeze_batch:
        canonical = canonical[: op.out_spec[0]] + (0,) + canonical[op.out_spec[0] :]
    batch, out_ch, spatial = (
        canonical[op.out_spec[0]],
        canonical[op.out_spec[1]],
        tuple(canonical[a] for a in op.out_spec[2:]),
    )
    check_worksheet_budget(op, spatial, limit, plan.mapped.call.base)
    results = run_chain(plan, max_bytes=limit)
    output = finish(plan, results[-1])
    warn_nan(plan, output)
    first = len(plan.mapped.ops) == 1
    source = plan.x if first else results[-2]
    w, b = plan.params[-1]
    notes = []
    if not first:
        notes.append(
            f"input of this step is the output of step {len(plan.mapped.ops) - 1} (canonical N, C, spatial index)"
        )

    def show(n, c, where):
        if where is None:
            return None
        if first:
            full = place(op.in_spec, n, c, where)
            return full[: op.in_spec[0]] + full[op.in_spec[0] + 1 :] if plan.mapped.squeeze_batch else full
        return (n, c, *where)

    if op.kind == "conv":
        terms, total = conv_terms(op, source, w, batch, out_ch, spatial, show)
        reduction = "sum of products"
        divisor = None
    elif op.kind == "conv_transpose":
        terms, total = transpose_terms(op, source, w, batch, out_ch, spatial, show)
        reduction = "sum of products"
        divisor = None
    elif op.kind.startswith("adaptive"):
        terms, total, reduction, divisor = adaptive_terms(op, source, batch, out_ch, spatial, show)
    else:
        terms, total, reduction, divisor = pool_terms(op, source, batch, out_ch, spatial, show)
    bias = None if b is None or op.weightless else float(np.asarray(b, dtype=np.float64)[out_ch])
    if plan.last_axis_bias is not None:  # Keras channels_first quirk: bias indexed by the last axis
        bias = float(np.asarray(plan.last_axis_bias, dtype=np.float64)[full_index[-1]])
    # an empty adaptive window (an empty input) averages to NaN, as in forward and torch
    value = total if divisor is None else total / divisor if divisor else float("nan")
    if op.kind == "lp_pool":
        with np.errstate(invalid="ignore"):
            value = np.float64(total) ** (1.0 / op.norm_p)
    value = value + (bias or 0.0)
    activation = plan.mapped.activation
    if activation:
        # the activation acts on the output's last axis: put this value into its row of the output before it
        row = np.array(finish(plan, results[-1], activate=False)[full_index[:-1]], dtype=np.float64)
        row[full_index[-1]] = value
        value = activations.apply(activation, row)[full_index[-1]]
        notes.append(f"then activation {activation} after the bias (over the output's last axis where it mixes)")
    value = float(np.asarray(value).astype(output.dtype))
    return Worksheet(
        expr,
        full_index,
        op.kind,
        terms,
        reduction,
        float(total),
        bias,
        divisor,
        value,
        float(output[full_index]),
        notes,
    )


def check_index(index, shape, label: str) -> tuple[int, ...]:
    """``index`` as a tuple of non-negative ints inside ``shape`` (negatives count from the end)."""
    if isinstance(index, np.ndarray) and index.ndim == 1 and index.dtype.kind in "iu":
        index = tuple(index.tolist())
    items = (index,) if isinstance(index, (int, np.integer)) else index
    if not isinstance(items, (tuple, list)) or len(items) != len(shape) or not all(is_int(i) for i in items):
        raise ConvArithError(
            f"{label}: index {short_repr(index)} is not {len(shape)} ints for the output of shape "
            f"{short_repr(tuple(shape))}. Rule: one int per output axis, in the framework's layout. "
            f"Fix: e.g. index={(0,) * len(shape)}."
        )
    fixed = []
    for i, n in zip(items, shape):
        if not -n <= i < n:
            raise ConvArithError(
                f"{label}: index {short_repr(tuple(items))} is outside the output of shape {short_repr(tuple(shape))}. "
                "Rule: each index i satisfies -size <= i < size. Fix: an index inside the shape."
            )
        fixed.append(int(i) % n)
    return tuple(fixed)


def is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def term_count(op: ConvOp, spatial) -> int:
    """How many terms the worksheet of output position ``spatial`` lists."""
    if op.kind == "conv":
        return op.in_channels // op.groups * math.prod(op.kernel)
    if op.kind == "conv_transpose":
        return op.in_channels // op.groups * math.prod(len(pairs) for pairs in transpose_pairs(op, spatial))
    if op.kind.startswith("adaptive"):
        return math.prod(
            stop - start
            for start, stop in (arith.adaptive_window(i, n, m) for i, n, m in zip(spatial, op.in_size, op.out_size))
        )
    return math.prod(op.kernel)


def check_worksheet_budget(op: ConvOp, spatial, limit: int, label: str) -> None:
    """Refuse a worksheet whose terms would not fit in the memory budget."""
    count = term_count(op, spatial)
    if count * TERM_BYTES > limit:
        raise ConvArithError(
            f"{label}: the worksheet of this element has {short_repr(count)} terms, about {mib(count * TERM_BYTES)}, "
            f"above the budget of {mib(limit)}. Rule: trace_element lists every term and refuses rather than swap. "
            "Fix: a smaller kernel or fewer channels, or raise the budget with max_bytes=... or CONVARITH_MAX_BYTES."
        )


def kernel_cells(op: ConvOp, spatial) -> list:
    """(kernel index, position, source name, input cell) for every kernel offset at output ``spatial``,
    classifying each axis once and combining per offset."""
    per_axis = []
    for axis, (j, s, lo, k, d) in enumerate(zip(spatial, op.stride, op.pad_lo, op.kernel, op.dilation)):
        per_axis.append([(i, j * s - lo + i * d, *source_cell(op, j * s - lo + i * d, axis)) for i in range(k)])
    cells = []
    for combo in product(*per_axis):
        where = tuple(c[1] for c in combo)
        cells.append((tuple(c[0] for c in combo), where, *combine(tuple((c[2], c[3]) for c in combo))))
    return cells


def gather(x, n, channels, cells, fill: float) -> np.ndarray:
    """float64 values x[n, c, *cell] for each channel and cell (``fill`` where the cell is None)."""
    values = np.full((len(channels), len(cells)), fill, dtype=np.float64)
    inside = [i for i, cell_at in enumerate(cells) if cell_at is not None]
    if inside:
        at = tuple(np.array([cells[i][axis] for i in inside]) for axis in range(x.ndim - 2))
        values[:, inside] = x[n][(np.asarray(channels)[:, None], *(a[None, :] for a in at))]
    return values


def conv_terms(op: ConvOp, x, w, batch, out_ch, spatial, show):
    groups, cg, og = op.groups, op.in_channels // op.groups, op.out_channels // op.groups
    per_batch = op.out_channels // op.batch_groups
    n = (out_ch // per_batch) * (op.batch // op.batch_groups) + batch
    group = out_ch // og if groups > 1 else 0
    cells = kernel_cells(op, spatial)
    channels = [group * cg + c_local for c_local in range(cg)]
    values = gather(x, n, channels, [at for _, _, _, at in cells], 0.0)
    weights = np.asarray(w[out_ch], dtype=np.float64).reshape(cg, -1)
    products = values * weights
    terms = [
        Term(name, where, show(n, c, at), value, (out_ch, c_local, *k), weight, prod)
        for c_local, (c, row_v, row_w, row_p) in enumerate(
            zip(channels, values.tolist(), weights.tolist(), products.tolist())
        )
        for (k, where, name, at), value, weight, prod in zip(cells, row_v, row_w, row_p)
    ]
    return terms, float(products.sum())


def transpose_pairs(op: ConvOp, spatial) -> list:
    """Per axis: the (kernel index, input index) pairs that land on output position ``spatial``."""
    return [
        [(k, (q + lo - k * d) // s) for k in range(kk) if (q + lo - k * d) % s == 0 and 0 <= (q + lo - k * d) // s < n]
        for q, s, lo, d, kk, n in zip(spatial, op.stride, op.pad_lo, op.dilation, op.kernel, op.in_size)
    ]


def transpose_terms(op: ConvOp, x, w, batch, out_ch, spatial, show):
    cg, og = op.in_channels // op.groups, op.out_channels // op.groups
    group, o_local = divmod(out_ch, og)
    terms, total = [], 0.0
    for c_local in range(cg):
        c = group * cg + c_local
        for combo in product(*transpose_pairs(op, spatial)):
            k = tuple(p[0] for p in combo)
            j = tuple(p[1] for p in combo)
            value, weight = float(x[(batch, c, *j)]), float(w[(c, o_local, *k)])
            terms.append(Term("input", j, show(batch, c, j), value, (c, o_local, *k), weight, value * weight))
            total += value * weight
    return terms, total


def pool_terms(op: ConvOp, x, batch, ch, spatial, show):
    cells = kernel_cells(op, spatial)
    padding_value = float("-inf") if op.kind == "max_pool" else 0.0
    read = gather(x, batch, [ch], [at for _, _, _, at in cells], padding_value)[0].tolist()
    terms = [Term(name, where, show(batch, ch, at), v) for (_, where, name, at), v in zip(cells, read)]
    values = [v for (_, _, name, _), v in zip(cells, read) if name == "input" or op.kind != "max_pool"]
    if op.kind == "max_pool":
        start = float(np.finfo(compute_dtype(x)).min) if op.empty_max == "lowest" else float("-inf")
        return terms, max(values, default=start), "max over the window (padding never wins)", None
    if op.kind == "lp_pool" and op.lp_mode == "signed_mean":
        inside = avg_divisor(op.with_(count_include_pad=False, divisor_override=0), arith.output_spatial(op))
        count = float(np.broadcast_to(inside, arith.output_spatial(op))[spatial])
        with np.errstate(invalid="ignore"):
            total = float(np.sum(np.power(np.array(values, dtype=np.float64), op.norm_p)))
        scale = math.prod(op.kernel) / count
        return (
            terms,
            total * scale,
            f"sum of x^{op.norm_p} * {math.prod(op.kernel)}/{count:g} (kernel/cells inside)",
            None,
        )
    if op.kind == "lp_pool":
        return terms, float(sum(abs(v) ** op.norm_p for v in values)), f"sum of |x|^{op.norm_p}", None
    divisor = float(np.broadcast_to(avg_divisor(op, arith.output_spatial(op)), arith.output_spatial(op))[spatial])
    return terms, float(sum(values)), "sum over the window", divisor


def adaptive_terms(op: ConvOp, x, batch, ch, spatial, show):
    ranges = [range(*arith.adaptive_window(i, n, m)) for i, n, m in zip(spatial, op.in_size, op.out_size)]
    terms = [Term("input", at, show(batch, ch, at), float(x[(batch, ch, *at)])) for at in product(*ranges)]
    values = [t.input_value for t in terms]
    if op.kind == "adaptive_max_pool":
        return terms, max(values), "max over the window", None
    return terms, float(sum(values)), "sum over the window", float(len(values))
