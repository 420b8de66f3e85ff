"""The arithmetic of ConvOp: every size and padding formula, written once.

Each size and padding formula works elementwise on NumPy integer arrays as
well as on ints (one formula: ``//``, ``+``, ``*``, comparisons and the
``maximum``/``minimum``/``where``/``trunc_div`` helpers, which take the
plain-int path for ints and NumPy's for arrays, NumPy never imported for
ints); ``convarith.sweep`` evaluates them over whole grids. The ``*_text``
companions (ints only) render the same numbers for explanations and errors.
"""

from __future__ import annotations

from collections import namedtuple  # not typing.NamedTuple: typing is off the start-up path

from .op import ConvOp, place

__all__ = [
    "Cells",
    "DivisorRun",
    "Padding",
    "Run",
    "adaptive_sizes",
    "adaptive_window",
    "float32",
    "resize_copies_axis",
    "kept_aspect",
    "number_text",
    "repeat_size_text",
    "scaled_size",
    "scaled_size_float32",
    "scaled_size_text",
    "axis_names",
    "ceil_drops_last_window",
    "conv_out",
    "conv_out_text",
    "divisor_runs",
    "effective_kernel",
    "output_shape",
    "output_spatial",
    "output_padding_too_large",
    "padded_unreached",
    "pool_pad_over_half",
    "pool_ceil_out",
    "pool_trunc_out",
    "kernel_overhangs",
    "maximum",
    "minimum",
    "same_pads",
    "same_padding",
    "space_to_batch_out",
    "space_to_batch_start",
    "space_to_batch_text",
    "space_to_batch_unreached",
    "tf_valid_out",
    "tf_valid_out_text",
    "transpose_out",
    "transpose_out_text",
    "transpose_padding_for_size",
    "trunc_div",
    "unreached",
    "where",
    "window_cells",
    "windowed_out",
]


def is_scalar(value) -> bool:
    """An int, a NumPy scalar or a 0-d array: the plain Python path applies."""
    return getattr(value, "ndim", 0) == 0


def maximum(a, b):
    """max(a, b), elementwise on arrays."""
    if type(a) is int and type(b) is int or is_scalar(a) and is_scalar(b):
        return max(a, b)
    import numpy

    return numpy.maximum(a, b)


def minimum(a, b):
    """min(a, b), elementwise on arrays."""
    if type(a) is int and type(b) is int or is_scalar(a) and is_scalar(b):
        return min(a, b)
    import numpy

    return numpy.minimum(a, b)


def where(condition, if_true, if_false):
    """``if_true if condition else if_false``, elementwise on arrays (both sides evaluated)."""
    if type(condition) is bool or is_scalar(condition):
        return if_true if condition else if_false
    import numpy

    return numpy.where(condition, if_true, if_false)


def trunc_div(a, b):
    """a / b rounded toward zero (C++ integer division), for b > 0."""
    return where(a >= 0, a // b, -(-a // b))


def effective_kernel(kernel: int, dilation: int) -> int:
    """Span of a dilated kernel: d*(k-1)+1."""
    return dilation * (kernel - 1) + 1


def dilated_size(n: int, lhs_dilation: int) -> int:
    """Input length after inserting lhs_dilation-1 zeros between elements."""
    return ((n - 1) * lhs_dilation + 1) * (n > 0)  # a flag multiplies as 0 or 1: no branch, arrays too


def conv_out(n: int, k_eff: int, stride: int, lo: int, hi: int, lhs_dilation: int = 1) -> int:
    """floor((n_dilated + lo + hi - k_eff) / s) + 1; may be <= 0 (empty or refused)."""
    return windows_in(dilated_size(n, lhs_dilation) + lo + hi, k_eff, stride)


def windows_in(padded: int, k_eff: int, stride: int) -> int:
    """floor((padded - k_eff) / s) + 1 windows of span k_eff at stride s in a padded length."""
    return (padded - k_eff) // stride + 1


def pool_ceil_out(n: int, k_eff: int, stride: int, lo: int, hi: int) -> int:
    """ceil_mode: ceil((n + lo + hi - k_eff) / s) + 1, dropping a last window
    that would start in the right padding (PyTorch and onnxruntime rule)."""
    out = -(-(n + lo + hi - k_eff) // stride) + 1
    return out - ceil_drops_last_window(n, k_eff, stride, lo, hi)


def ceil_drops_last_window(n: int, k_eff: int, stride: int, lo: int, hi: int) -> bool:
    """Whether ``pool_ceil_out`` dropped a last window starting in the right padding."""
    out = -(-(n + lo + hi - k_eff) // stride) + 1
    return (out > 0) & ((out - 1) * stride >= n + lo)


def pool_trunc_out(n: int, k_eff: int, stride: int, lo: int, hi: int) -> int:
    """trunc((n + lo + hi - k_eff) / s) + 1, the division rounding toward zero
    (onnxruntime pooling): a window overhanging the end by less than one
    stride still counts, so the result is 1 where the floor rule gives 0."""
    return trunc_div(n + lo + hi - k_eff, stride) + 1


def windowed_out(n: int, k_eff: int, stride: int, lo: int, hi: int, rounding: str, lhs_dilation: int = 1) -> int:
    """The number of windows of a conv or pool whose division rounds by ``rounding``
    (``floor``, ``ceil`` or ``trunc``; see ConvOp; one rounding for a whole array)."""
    if rounding == "ceil":
        return pool_ceil_out(dilated_size(n, lhs_dilation), k_eff, stride, lo, hi)
    if rounding == "trunc":
        return pool_trunc_out(dilated_size(n, lhs_dilation), k_eff, stride, lo, hi)
    return conv_out(n, k_eff, stride, lo, hi, lhs_dilation)


def tf_valid_out(n: int, k_eff: int, stride: int) -> int:
    """TensorFlow's size check (n - k_eff + s) / s, divided in C++ (toward zero): it
    refuses a negative result. Where it is >= 0 it equals max(floor rule, 0), so TF
    ops carry rounding='floor' and this only decides between empty and refused."""
    return trunc_div(n - k_eff + stride, stride)


def tf_valid_out_text(n: int, k_eff: int, stride: int) -> str:
    """The TF VALID size with numbers, e.g. '(1 - 4 + 2) / 2 = 0 (rounded toward zero)'."""
    return f"({n} - {k_eff} + {stride}) / {stride} = {tf_valid_out(n, k_eff, stride)} (rounded toward zero)"


def transpose_out(n: int, k_eff: int, stride: int, lo: int, hi: int, output_padding: int) -> int:
    """(n-1)*s + k_eff - lo - hi + output_padding."""
    return (n - 1) * stride + k_eff - lo - hi + output_padding


# --- refusal predicates (masks on arrays): the conditions frameworks refuse ----------------------------------------


def kernel_overhangs(n: int, k_eff: int, lo: int, hi: int) -> bool:
    """The padded input is smaller than the effective kernel: no window fits (torch refuses)."""
    return n + lo + hi < k_eff


def pool_pad_over_half(pad: int, kernel: int) -> bool:
    """Pooling padding above half the kernel (torch: padding <= kernel_size // 2, dilation not counted)."""
    return pad > kernel // 2


def output_padding_too_large(output_padding: int, stride: int, dilation: int) -> bool:
    """A transposed conv's output padding not below the stride nor the dilation (torch refuses)."""
    return (output_padding >= stride) & (output_padding >= dilation)


def plus(value: int) -> str:
    """'+ 2' or '- 1': a term added to a sum, its sign shown once."""
    return f"- {-value}" if value < 0 else f"+ {value}"


def minus(value: int) -> str:
    """'- 2' or, for a negative amount, '+ 1': a term subtracted from a sum."""
    return f"- {value}" if value >= 0 else f"+ {-value}"


def conv_out_text(
    n: int, k: int, d: int, stride: int, lo: int, hi: int, lhs_dilation: int = 1, rounding: str = "floor"
) -> str:
    """The conv/pool size formula with numbers, e.g. 'floor((96 + 0 + 1 - 3) / 2) + 1 = 48'."""
    n_part = f"({n}-1)*{lhs_dilation}+1" if lhs_dilation != 1 else f"{n}"
    k_part = f"{d}*({k}-1) - 1" if d != 1 else f"{k}"
    value = windowed_out(n, effective_kernel(k, d), stride, lo, hi, rounding, lhs_dilation)
    inner = f"{n_part} {plus(lo)} {plus(hi)} - {k_part}"
    return f"{rounding}(({inner}) / {stride}) + 1 = {value}"


def transpose_out_text(n: int, k: int, d: int, stride: int, lo: int, hi: int, output_padding: int) -> str:
    """The transposed size formula with numbers substituted."""
    k_part = f"{d}*({k}-1)+1" if d != 1 else f"{k}"
    value = transpose_out(n, effective_kernel(k, d), stride, lo, hi, output_padding)
    return f"({n}-1)*{stride} + {k_part} {minus(lo)} {minus(hi)} {plus(output_padding)} = {value}"


class Padding(tuple):
    """(lo, hi) padding with the text of how it was derived."""

    text: str

    def __new__(cls, lo: int, hi: int, text: str) -> Padding:
        self = super().__new__(cls, (lo, hi))
        self.text = text
        return self

    @property
    def lo(self) -> int:
        return self[0]

    @property
    def hi(self) -> int:
        return self[1]


def same_padding(n: int, k_eff: int, stride: int, extra_at_start: bool = False, clamp: bool = True) -> Padding:
    """'SAME': out = ceil(n/s), total = max((out-1)*s + k_eff - n, 0); the odd
    pixel goes at the end (TF, Keras, SAME_UPPER) or the start (SAME_LOWER).

    ``clamp=False`` keeps a negative total (onnxruntime pooling, TF 3-D pooling):
    a stride larger than the window then starts it inside the input; halves are
    rounded toward zero, before = trunc(total/2) or trunc((total+1)/2)."""
    out, total, lo, hi = same_pads(n, k_eff, stride, extra_at_start, clamp)
    odd = ""
    if total % 2:
        odd = ", the odd pixel at the start" if extra_at_start else ", the odd pixel at the end"
    formula = f"max(({out}-1)*{stride} + {k_eff} - {n}, 0)" if clamp else f"({out}-1)*{stride} + {k_eff} - {n}"
    text = f"out = ceil({n}/{stride}) = {out}; total pad = {formula} = {total} -> before {lo}, after {hi}{odd}"
    return Padding(lo, hi, text)


def same_pads(n: int, k_eff: int, stride: int, extra_at_start: bool = False, clamp: bool = True):
    """(out, total, lo, hi) of ``same_padding``, elementwise on arrays."""
    out = same_out(n, stride)
    raw = (out - 1) * stride + k_eff - n
    total = maximum(raw, 0) if clamp else raw
    lo = trunc_div(total + 1 if extra_at_start else total, 2)
    return out, total, lo, total - lo


def stride1_same_padding(k_eff: int) -> tuple[int, int]:
    """'same' at stride 1 (PyTorch): total = k_eff - 1 = d*(k-1), before = floor(total/2), the odd pixel at the end."""
    total = k_eff - 1
    return total // 2, total - total // 2


def transpose_padding_for_size(n: int, k_eff: int, stride: int, lo: int, total: int, out: int) -> tuple[int, int]:
    """(pad_hi, output_padding) that make a transposed conv with pad_lo=lo and
    total padding ``total`` produce exactly ``out`` (extra cells at the end)."""
    hi = total - lo
    extra = out - transpose_out(n, k_eff, stride, lo, hi, 0)
    return where(extra < 0, hi - extra, hi), maximum(extra, 0)


def adaptive_window(i: int, n: int, out: int) -> tuple[int, int]:
    """Adaptive pooling window i: [floor(i*n/out), ceil((i+1)*n/out))."""
    return (i * n) // out, -(-((i + 1) * n) // out)


class Run(namedtuple("Run", "start stop period offsets", defaults=(0, ()))):
    """Cells ``start <= i < stop`` (ints); with a ``period``, only those whose offset
    ``(i - start) % period`` lies in one of the ``offsets`` ranges [a, b) (pairs of ints)."""

    __slots__ = ()

    def count(self) -> int:
        if not self.period:
            return self.stop - self.start
        full, rest = divmod(self.stop - self.start, self.period)
        return sum(full * (b - a) + max(0, min(b, rest) - a) for a, b in self.offsets)


class Cells(namedtuple("Cells", "runs count")):
    """A set of cells as runs (a tuple of Run) in increasing order, with how many cells they hold."""

    __slots__ = ()


def cells(runs) -> Cells:
    """Cells from runs in order: empty ones dropped, a pattern of plain runs
    repeated three or more times at a fixed spacing folded into a periodic run."""
    kept = [run for run in runs if run.stop > run.start and (not run.period or run.offsets)]
    folded: list[Run] = []
    index = 0
    while index < len(kept):
        repeat = repetition(kept, index)
        if repeat:
            length, count, period = repeat
            base = kept[index].start
            offsets = tuple((run.start - base, run.stop - base) for run in kept[index : index + length])
            folded.append(Run(base, kept[index + count - 1].stop, period, offsets))
            index += count
        else:
            folded.append(kept[index])
            index += 1
    index = 0
    while index < len(folded):
        if folded[index].period:
            folded, index = grown(folded, index)
        index += 1
    return Cells(tuple(folded), sum(run.count() for run in folded))


def repetition(runs: list[Run], index: int, longest: int = 8) -> tuple[int, int, int] | None:
    """(pattern length, runs covered, period) when the plain runs from ``index``
    repeat a pattern of up to ``longest`` runs at least three times."""
    for length in range(1, longest + 1):
        if index + 3 * length > len(runs):
            return None
        period = runs[index + length].start - runs[index].start
        count = 0
        while index + count + length < len(runs):
            a, b = runs[index + count], runs[index + count + length]
            if a.period or b.period or (b.start - a.start, b.stop - a.stop) != (period, period):
                break
            count += 1
        if count >= 2 * length:
            return length, count + length, period
    return None


def grown(runs: list[Run], index: int) -> tuple[list[Run], int]:
    """The periodic run at ``index`` taking in the plain runs before and after it
    that repeat its pattern, a whole period at a time (for shorter listings)."""
    run = runs[index]
    before, after = runs[:index], runs[index + 1 :]
    while True:
        base = run.start - run.period
        if len(before) < len(run.offsets) or before[-1] != (
            base + run.offsets[-1][0],
            base + run.offsets[-1][1],
            0,
            (),
        ):
            break
        want = [Run(base + a, base + b) for a, b in run.offsets]
        if before[len(before) - len(want) :] != want:
            break
        del before[len(before) - len(want) :]
        run = run._replace(start=base)
    while True:
        base = run.start + (run.stop - run.start) // run.period * run.period
        want = [
            Run(max(base + a, run.stop), base + b) for a, b in run.offsets[-len(after) - 1 :] if base + b > run.stop
        ]
        if not want or after[: len(want)] != want:
            break
        del after[: len(want)]
        run = run._replace(stop=base + run.offsets[-1][1])
    low = before[-1].stop if before else 0  # keep the runs in order (and inside the input)
    if run.start < low:
        run = clipped(run, run.stop, low)
    return [*before, run, *after], len(before)


#: Cells worked out one by one at most (the head and tail of a dilated kernel's
#: reach, its period); beyond this a dilated conv's unreached cells are not listed.
CELL_BUDGET = 1 << 13


def rotated(offsets: tuple[tuple[int, int], ...], shift: int, period: int) -> tuple[tuple[int, int], ...]:
    """Offset ranges of a periodic run whose start moves ``shift`` cells later."""
    pieces = []
    for a, b in offsets:
        a, b = a - shift % period, b - shift % period
        for lo, hi in ((a, b), (a + period, b + period)):
            if hi > 0 and lo < period:
                pieces.append((max(lo, 0), min(hi, period)))
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(pieces):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def clipped(run: Run, n: int, low: int = 0) -> Run:
    """``run`` restricted to the cells [low, n)."""
    start, stop = max(run.start, low), min(run.stop, n)
    if not run.period or start == run.start:
        return run._replace(start=start, stop=stop)
    return Run(start, stop, run.period, rotated(run.offsets, start - run.start, run.period))


def block_runs(first: int, width: int, period: int, blocks: int) -> tuple[list[Run], int]:
    """The gaps between ``blocks`` blocks of ``width`` cells, one every ``period``
    from ``first`` (as at most one periodic run), and where the last block ends."""
    last = first + (blocks - 1) * period
    if width >= period:
        return [], last + width
    return [Run(first, last, period, ((width, period),))], last + width


def block_gaps(n: int, first: int, width: int, period: int, blocks: int) -> Cells:
    """Cells of [0, n) outside ``blocks`` blocks of ``width`` cells, one every
    ``period`` from ``first``; O(1)."""
    if blocks <= 0:
        return cells([Run(0, n)])
    gaps, end = block_runs(first, width, period, blocks)
    return within(n, [Run(0, first), *gaps, Run(end, n)])


def within(n: int, runs) -> Cells:
    """The runs clipped to the input cells [0, n)."""
    return cells(clipped(run, n) for run in runs if min(run.stop, n) > max(run.start, 0))


def repunit(step: int, count: int) -> int:
    """Bits 0, step, 2*step, ... (``count`` of them)."""
    if count <= 1:
        return count
    return ((1 << (step * count)) - 1) // ((1 << step) - 1)


def progression_bits(start: int, step: int, count: int, x0: int, x1: int) -> int:
    """Bits (relative to x0) of start + i*step, i < count, that fall in [x0, x1)."""
    first = max(0, -(-(x0 - start) // step))
    last = min(count - 1, (x1 - 1 - start) // step)
    if last < first:
        return 0
    return repunit(step, last - first + 1) << (start + first * step - x0)


def interval_bits(start: int, stop: int, x0: int, x1: int) -> int:
    """Bits (relative to x0) of the cells [start, stop) that fall in [x0, x1)."""
    lo, hi = max(start, x0), min(stop, x1)
    return ((1 << (hi - lo)) - 1) << (lo - x0) if hi > lo else 0


def tap_bits(x0: int, x1: int, first: int, k: int, d: int, s: int, out: int) -> int | None:
    """Bit i set when some tap of the windows (start first + j*s, j < out; taps
    every d, k of them) lands on cell x0 + i, for cells in [x0, x1). Work
    bounded by the region, not the sizes; None when that needs more than
    CELL_BUDGET progressions (a huge kernel over a small stride)."""
    length = x1 - x0
    if length <= 0:
        return 0
    j_lo = max(0, -(-(x0 - (k - 1) * d - first) // s))
    j_hi = min(out - 1, (x1 - 1 - first) // s)
    if j_hi < j_lo:
        return 0
    width = effective_kernel(k, d)
    if k == 1 or d == 1:
        if width >= s:  # the windows overlap: one interval
            return interval_bits(first + j_lo * s, first + j_hi * s + width, x0, x1)
        if j_hi - j_lo < 64:
            bits = 0
            for j in range(j_lo, j_hi + 1):
                bits |= interval_bits(first + j * s, first + j * s + width, x0, x1)
            return bits
        bits = progression_bits(first + j_lo * s, s, j_hi - j_lo + 1, x0 - width + 1, x1) * ((1 << width) - 1)
        return bits >> (width - 1) & ((1 << length) - 1)
    reach = (k - 1) * d
    if reach <= 4 * CELL_BUDGET:  # OR of the starts shifted by t*d for t < k, by doubling: O(log k) steps
        base = x0 - reach
        starts = progression_bits(first + j_lo * s, s, j_hi - j_lo + 1, base, x1)
        limit = (1 << (x1 - base)) - 1
        bits, taps = 0, 0
        for digit in bin(k)[2:]:
            bits, taps = (bits | bits << (taps * d)) & limit, 2 * taps
            if digit == "1":
                bits, taps = (bits | starts << (taps * d)) & limit, taps + 1
        return bits >> reach
    t_lo = max(0, -(-(x0 - first - (out - 1) * s) // d))
    t_hi = min(k - 1, (x1 - 1 - first) // d)
    windows, taps = j_hi - j_lo + 1, t_hi - t_lo + 1
    if min(windows, taps) > CELL_BUDGET:
        return None
    bits = 0
    if windows <= taps:
        for j in range(j_lo, j_hi + 1):
            bits |= progression_bits(first + j * s, d, k, x0, x1)
    else:
        for t in range(t_lo, t_hi + 1):
            bits |= progression_bits(first + t * d, s, out, x0, x1)
    return bits


def zero_runs(bits: int, x0: int, length: int) -> list[Run]:
    """The cells of [x0, x0 + length) whose bit in ``bits`` is clear, as runs."""
    import re  # only for the dilated case

    text = format(bits, "b").zfill(length)[::-1][:length] if length else ""
    return [Run(x0 + m.start(), x0 + m.end()) for m in re.finditer("0+", text)]


def unreached(n: int, kernel: int, dilation: int, stride: int, lo: int, out: int) -> Cells | None:
    """Input cells (0-based) that no kernel tap of a forward conv reaches.

    Window j has taps at j*s - lo + t*d, t < kernel: a dilated kernel touches
    its taps, not its gaps. Contiguous windows give O(1) runs; dilated ones a
    head and a tail worked out cell by cell and a periodic middle (period s).
    None when a dilated kernel's reach or the stride is too large to work out."""
    if out <= 0:
        return cells([Run(0, n)])
    first = -lo
    if kernel == 1 or dilation == 1:
        return block_gaps(n, first, effective_kernel(kernel, dilation), stride, out)
    reach = (kernel - 1) * dilation
    end = first + (out - 1) * stride + reach + 1
    x0, x1 = max(first, 0), min(end, n)
    runs = [Run(0, min(first, n)), Run(max(end, 0), n)]
    m0, m1 = max(first + reach, x0), min(first + (out - 1) * stride + 1, x1)
    if m1 - m0 < 3 * stride or reach + stride > CELL_BUDGET:  # no long periodic middle
        bits = tap_bits(x0, x1, first, kernel, dilation, stride, out) if x1 - x0 <= 2 * CELL_BUDGET else None
        if bits is None:
            return None
        runs[1:1] = zero_runs(bits, x0, max(x1 - x0, 0))
        return cells(sorted(runs))
    parts = [tap_bits(a, b, first, kernel, dilation, stride, out) for a, b in ((m0, m0 + stride), (x0, m0), (m1, x1))]
    if None in parts:
        return None
    pattern, head, tail = parts
    offsets = tuple((run.start - m0, run.stop - m0) for run in zero_runs(pattern, m0, stride))
    runs[1:1] = [*zero_runs(head, x0, m0 - x0), Run(m0, m1, stride, offsets), *zero_runs(tail, m1, x1 - m1)]
    return cells(runs)


def padded_unreached(
    n: int, kernel: int, dilation: int, stride: int, lo: int, hi: int, out: int, mode: str
) -> Cells | None:
    """``unreached`` when the padding repeats input cells (``mode`` 'reflect',
    'replicate' or 'circular'): a tap in the padding reaches the cell it copies,
    which lies within max(lo, hi) cells of an edge; the cells further in are
    those of zero padding. None when the padding exceeds CELL_BUDGET cells."""
    if mode == "zeros" or out <= 0 or lo <= 0 and hi <= 0:
        return unreached(n, kernel, dilation, stride, lo, out)
    if lo + hi > CELL_BUDGET:
        return None
    copied = set()  # the input cells a padding tap copies
    for x0, x1 in ((0, lo), (lo + n, lo + n + hi)):
        bits = tap_bits(x0, x1, 0, kernel, dilation, stride, out)
        if bits is None:
            return None
        for q in range(x0, x1):
            if bits >> (q - x0) & 1:
                copied.add(copy_source(q - lo, n, mode))
    edge = max(lo, hi) + 1
    if n <= 2 * edge or n <= 2 * CELL_BUDGET:
        real = tap_bits(0, n, -lo, kernel, dilation, stride, out)
        return None if real is None else cells(zero_runs(real | sum(1 << i for i in copied), 0, n))
    inner = unreached(n, kernel, dilation, stride, lo, out)
    head = tap_bits(0, edge, -lo, kernel, dilation, stride, out)
    tail = tap_bits(n - edge, n, -lo, kernel, dilation, stride, out)
    if inner is None or head is None or tail is None:
        return None
    head |= sum(1 << i for i in copied if i < edge)
    tail |= sum(1 << (i - n + edge) for i in copied if i >= n - edge)
    middle = [clipped(run, n - edge, edge) for run in inner.runs if run.stop > edge and run.start < n - edge]
    return cells([*zero_runs(head, 0, edge), *middle, *zero_runs(tail, n - edge, edge)])


def copy_source(i: int, n: int, mode: str) -> int:
    """The input cell that padding position i (< 0 or >= n) repeats."""
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    if mode == "circular":
        return i % n
    i = abs(i) % (2 * n - 2) if n > 1 else 0  # reflect: the edge cell is not repeated
    return 2 * n - 2 - i if i >= n else i


def space_to_batch_unreached(n: int, kernel: int, rate: int, stride: int, lo: int, out: int) -> Cells:
    """Input cells no tap reaches when TF runs a dilated op as space-to-batch
    (``space_to_batch_start``): the ``rate`` windows of one row together cover
    ``kernel*rate`` adjacent cells, one row every ``stride*rate``; a last row
    cut short by the crop reaches only its first phases in every ``rate`` cells."""
    if out <= 0:
        return cells([Run(0, n)])
    rows, first, period = -(-out // rate), -lo, stride * rate
    phases = out - (rows - 1) * rate
    if phases == rate:
        return block_gaps(n, first, kernel * rate, period, rows)
    last = first + (rows - 1) * period
    gaps, end = block_runs(first, kernel * rate, period, rows - 1) if rows > 1 else ([], last)
    covered = max(0, min(kernel - 1, -(-(end - last) // rate)))  # periods of the last row the row before covers
    reach = last + (kernel - 1) * rate + phases
    runs = [Run(0, first), *gaps, Run(end, last), Run(last + covered * rate, reach, rate, ((phases, rate),))]
    return within(n, [*runs, Run(reach, n)])


def space_to_batch_start(o: int, rate: int, stride: int, lo: int) -> int:
    """First input cell of output o's window under space-to-batch: rows of
    ``rate`` adjacent windows, one row every ``stride*rate`` cells."""
    return (o // rate) * stride * rate + o % rate - lo


def space_to_batch_out(n: int, kernel: int, rate: int, stride: int, lo: int, hi: int) -> tuple[int, int, int, int]:
    """(out, padded, blocks, inner) of space-to-batch (block ``rate``) + VALID op
    (kernel, stride) + batch-to-space: n + lo + hi padded up to a multiple of
    the rate, split into ``rate`` blocks of ``padded/rate``, each giving
    ``inner = trunc((block - kernel + stride) / stride)`` outputs; interleaved,
    minus the padding added: out = inner*rate - (padded - (n + lo + hi))."""
    full = n + lo + hi
    padded = full + (-full) % rate
    block = padded // rate
    inner = tf_valid_out(block, kernel, stride)
    return inner * rate - (padded - full), padded, block, inner


def space_to_batch_text(n: int, kernel: int, rate: int, stride: int, lo: int, hi: int) -> str:
    """The space-to-batch size with numbers."""
    out, padded, block, inner = space_to_batch_out(n, kernel, rate, stride, lo, hi)
    full = n + lo + hi
    return (
        f"space-to-batch by {rate}: {n} + {lo} + {hi} = {full}, padded to {padded} ({padded - full} added at the end), "
        f"{rate} blocks of {block}; each block: {tf_valid_out_text(block, kernel, stride)}; "
        f"interleaved {inner}*{rate} = {inner * rate}, minus the {padded - full} added = {out}"
    )


def adaptive_sizes(n: int, out: int) -> tuple[tuple[int, int], ...]:
    """(window size, how many windows) of adaptive pooling, smallest size first, in O(1).

    With n = q*out + r: every window has q cells when r = 0; otherwise
    r - gcd(r, out) windows have q + 2 cells and the others q + 1 (window i
    has q + 2 exactly when i*r and (i+1)*r lie in different multiples of out,
    (i+1)*r not itself one)."""
    if out <= 0:
        return ()
    q, r = divmod(n, out)
    if r == 0:
        return ((q, out),)
    from math import gcd

    big = r - gcd(r, out)
    return tuple((size, count) for size, count in ((q + 1, out - big), (q + 2, big)) if count)


class DivisorRun(namedtuple("DivisorRun", "first stop low high")):
    """Windows ``first <= j < stop`` of one axis, dividing by ``low`` to ``high``
    cells (one value when equal; monotone in j unless the windows overhang both
    ends, where low and high bound the two possible values when the run is
    longer than CELL_BUDGET windows and the dilation larger too)."""

    __slots__ = ()


def window_cells(j: int, n: int, k: int, d: int, s: int, lo: int, hi: int, include_pad: bool) -> int:
    """How many taps of window j (at j*s - lo + t*d) the average counts: those
    inside [0, n), or inside [-lo, n + hi) when padding counts."""
    p = j * s - lo
    low, high = (-lo, n + hi) if include_pad else (0, n)
    return maximum(0, minimum(k, -((p - high) // d)) - maximum(0, -((p - low) // d)))


def divisor_runs(
    n: int, k: int, d: int, s: int, lo: int, hi: int, out: int, include_pad: bool
) -> tuple[DivisorRun, ...]:
    """The divisors of one axis's average-pooling windows, as runs of windows
    (in time independent of the size): windows overhanging the start, those
    inside, those overhanging the end (and those overhanging both)."""
    low, high = (-lo, n + hi) if include_pad else (0, n)
    left = min(max(-(-(low + lo) // s), 0), out)  # windows starting before ``low``
    right = min(max(-(-(high + lo - (k - 1) * d) // s), 0), out)  # first window reaching past ``high``

    def at(j: int) -> int:
        return window_cells(j, n, k, d, s, lo, hi, include_pad)

    runs = []
    for first, stop in ((0, min(left, right)), (right, left), (left, right), (max(left, right), out)):
        if stop <= first:
            continue
        if left <= first < stop <= right:
            values = (k,)
        elif right <= first < stop <= left and d > 1:  # overhangs both ends: W//d or W//d + 1 taps
            if min(stop - first, d) <= CELL_BUDGET:  # the residues of j*s mod d repeat after d windows
                values = tuple(at(j) for j in range(first, min(stop, first + d)))
            else:
                values = ((high - low) // d, -(-(high - low) // d))
        else:
            values = (at(first), at(stop - 1))
        runs.append(DivisorRun(first, stop, min(values), max(values)))
    return tuple(sorted(runs))


def output_spatial(op: ConvOp) -> tuple[int, ...]:
    """Spatial output sizes of ``op`` (values <= 0 mean empty or refused)."""
    if op.kind in ("adaptive_max_pool", "adaptive_avg_pool", "resize"):
        return op.out_size
    if op.kind in REARRANGED_KINDS:
        return rearranged_spatial(op)
    sizes = []
    for axis in range(op.rank):
        n = op.in_size[axis]
        k_eff = effective_kernel(op.kernel[axis], op.dilation[axis])
        s, lo, hi = op.stride[axis], op.pad_lo[axis], op.pad_hi[axis]
        if op.kind in ("conv_transpose", "max_unpool"):  # unpooling: the transposed size
            sizes.append(transpose_out(n, k_eff, s, lo, hi, op.output_padding[axis]))
        else:
            sizes.append(windowed_out(n, k_eff, s, lo, hi, op.rounding, op.lhs_dilation[axis]))
    return tuple(sizes)


def output_shape(op: ConvOp) -> tuple[int, ...]:
    """Full output shape of ``op`` in the layout of ``op.out_spec``."""
    spatial = tuple(max(size, 0) for size in output_spatial(op))
    return place(op.out_spec, op.batch // op.batch_groups, op.out_channels, spatial)


def axis_names(rank: int) -> tuple[str, ...]:
    """Human names of the spatial axes: width; height, width; depth, height, width."""
    return (
        (("length",), ("height", "width"), ("depth", "height", "width"))[rank - 1]
        if rank <= 3
        else tuple(f"axis {i}" for i in range(rank))
    )


def transposed_forward_pads(k_eff: int, lo: int, hi: int, output_padding: int = 0) -> tuple[int, int]:
    """A transposed conv's pads (cells cut from its full output) as the pads of the equal
    stride-1 forward conv over the zero-stuffed input: (k_eff-1-lo, k_eff-1-hi+output_padding).
    Without output_padding it is its own inverse (forward pads -> transposed pads)."""
    return k_eff - 1 - lo, k_eff - 1 - hi + output_padding


def keras_transpose_length(n: int, k_eff: int, stride: int, same: bool, output_padding=None) -> int:
    """The output length a Keras transposed conv asks TF for: n*s for 'same' (n*s when
    s > k_eff else (n-1)*s + k_eff for 'valid') without output_padding; with it,
    (n-1)*s + k_eff - 2*(k_eff//2 if 'same' else 0) + output_padding."""
    if output_padding is None:
        return (
            same_transpose_out(n, stride) if same else transpose_out(n, k_eff, stride, 0, 0, maximum(stride - k_eff, 0))
        )
    half = k_eff // 2 if same else 0
    return transpose_out(n, k_eff, stride, half, half, output_padding)


def same_out(n: int, stride: int) -> int:
    """'SAME' output size: ceil(n/s), whatever the kernel (elementwise on arrays)."""
    return -(-n // stride)


def same_transpose_out(n: int, stride: int) -> int:
    """'SAME' transposed output size: n*s, whatever the kernel (Keras; JAX's conv_transpose, whose
    pads of the s-dilated input total k_eff + s - 2: (n-1)*s + 1 + k_eff + s - 2 - k_eff + 1)."""
    return n * stride


def transpose_crop(full: int, out: int, extra_at_start: bool) -> tuple[int, int, int]:
    """(total, lo, hi): the cells a transposed conv of full size ``full`` crops to give ``out``
    (none when out >= full), the odd one at the start or at the end (ONNX SAME_* and output_shape)."""
    total = maximum(full - out, 0)
    lo = total - total // 2 if extra_at_start else total // 2
    return total, lo, total - lo


def jax_transpose_pads(k_eff: int, stride: int, mode) -> tuple[int, int]:
    """JAX's conv_transpose padding (lax._conv_transpose_padding): the pads (a, b) of the
    stride-dilated input for 'SAME' (total k_eff+s-2, the odd pixel first unless s > k_eff-1),
    'VALID' (total k_eff+s-2+max(k_eff-s, 0), a = k_eff-1) or a (lo, hi) pair (k_eff-1-p)."""
    if mode == "SAME":
        total = k_eff + stride - 2
        lo = where(stride > k_eff - 1, k_eff - 1, -(-total // 2))
        return lo, total - lo
    if mode == "VALID":
        return k_eff - 1, stride - 1 + maximum(k_eff - stride, 0)
    return transposed_forward_pads(k_eff, mode[0], mode[1])


# --- resize ---


def float32(value: float) -> float:
    """``value`` rounded to the nearest float32 (inf beyond its range), in pure Python."""
    import struct

    try:
        return struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def scaled_size(n: int, scale: float) -> float:
    """Resize by a scale factor: out = floor(n * scale), the product in double (PyTorch,
    Python's own floats). Returned as a float (inf or NaN stay so) for the caller to range-check."""
    product = n * scale
    return float(product // 1) if product == product and abs(product) != float("inf") else product


def scaled_size_float32(n: int, scale: float) -> float:
    """onnxruntime's out = floor(float32(n) * float32(scale)), the product rounded to float32
    (so 10 * 1.3 gives 13, not the 12 of the exact product 12.9999995 of float32(1.3))."""
    return scaled_size(1, float32(float32(n) * float32(scale)))


def number_text(value: float) -> str:
    """'2' for 2.0, '1.5', '0.3333333333333333': a scale as written, whole numbers without '.0'."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def scaled_size_text(n: int, scale: float, float32_product: bool = False) -> str:
    """'floor(5 x 2) = 10' (or with the float32 product spelled out)."""
    if float32_product:
        product = float32(float32(n) * float32(scale))
        return f"floor(float32({n} x {number_text(scale)}) = {product!r}) = {int(scaled_size(1, product))}"
    return f"floor({n} x {number_text(scale)}) = {int(scaled_size(n, scale))}"


def repeat_size_text(n: int, factor: int) -> str:
    """'5 x 2 = 10': an integer upsampling factor."""
    return f"{n} x {factor} = {n * factor}"


def kept_aspect(sizes, targets, larger: bool = False, half_even: bool = False) -> tuple[float, list[int]]:
    """(scale, sizes) of a resize that keeps the aspect ratio: one float32 scale, the smallest
    (or ``larger``: the largest) of float32(target) / float32(n), then out = round(float32(scale * n)),
    a tie away from zero (onnxruntime's std::round) or to even (``half_even``: tf.round). Sizes >= 1."""
    ratios = [float32(float32(t) / float32(n)) for n, t in zip(sizes, targets)]
    scale = max(ratios) if larger else min(ratios)
    products = [float32(scale * float32(n)) for n in sizes]
    if half_even:
        return scale, [round(p) for p in products]  # Python's round: ties to even
    return scale, [int(scaled_size(1, p + 0.5)) for p in products]


def resize_copies_axis(op: ConvOp, axis: int) -> bool:
    """Whether the framework copies this axis of a resize as is instead of resampling it:
    onnxruntime when the whole shape or the axis's scale is unchanged (an antialiased axis:
    when its size is); torch's linear kernels (not antialiased) when the axis keeps its size."""
    n, out = op.in_size[axis], op.out_size[axis]
    given = op.sample_scale[axis] if op.sample_scale else 0.0
    if op.resize_arith == "onnx":
        if op.antialias:
            return n == out
        return op.out_size == op.in_size or (given == 1 if given else float32(out) / float32(n) == 1)
    return op.resize_arith == "torch" and op.resize_mode == "linear" and not op.antialias and n == out


# --- rearranging (wip8-rearr): pixel shuffle, space/depth, fold --------------------------------------------------

#: Kinds whose output sizes are not the window formula's: blocks moved to space or to depth, fold's given size.
REARRANGED_KINDS = ("depth_to_space", "space_to_depth", "fold")


def depth_to_space_out(n: int, block: int) -> int:
    """depth to space (pixel shuffle): each cell becomes ``block`` cells, out = n*block."""
    return n * block


def space_to_depth_out(n: int, block: int) -> int:
    """space to depth (pixel unshuffle): out = n // block (frameworks refuse n % block != 0)."""
    return n // block


def rearranged_spatial(op: ConvOp) -> tuple[int, ...]:
    """Spatial output sizes of a REARRANGED_KINDS op (the block size is its ``kernel``)."""
    if op.kind == "fold":
        return op.out_size
    size = depth_to_space_out if op.kind == "depth_to_space" else space_to_depth_out
    return tuple(size(n, r) for n, r in zip(op.in_size, op.kernel))


def fold_blocks(size: int, kernel: int, dilation: int, stride: int, pad: int) -> int:
    """The sliding blocks torch's fold/unfold count on an axis of ``size`` cells: the conv formula
    floor((size + 2*pad - (d*(k-1)+1)) / s) + 1, which may be <= 0 (torch refuses then)."""
    return conv_out(size, effective_kernel(kernel, dilation), stride, pad, pad)


# --- explicit padding and unpooling (glpad) ---


def pad_out(n: int, lo: int, hi: int) -> int:
    """An explicitly padded (negative: cropped) length: the conv formula with kernel 1, stride 1."""
    return conv_out(n, 1, 1, lo, hi)


def pad_out_text(n: int, lo: int, hi: int) -> str:
    """'3 + 1 + 2 = 6' (a negative side shown as a crop: '5 - 1 - 2 = 2')."""
    return f"{n} {plus(lo)} {plus(hi)} = {pad_out(n, lo, hi)}"


def unpool_range(n: int, kernel: int, stride: int, pad: int) -> tuple[int, int, int]:
    """(default, smallest, largest) output sizes of max unpooling: default = (n-1)*s - 2p + k,
    and an output_size must lie strictly within a stride of it (torch's rule)."""
    default = transpose_out(n, kernel, stride, pad, pad, 0)
    return default, default - stride + 1, default + stride - 1


# --- dropped cells of transposed, input-dilated and cropping ops (inverse11) ---


def every_nth(found: Cells | None, step: int, n: int) -> Cells | None:
    """The cells i (of n) whose position i*step lies in ``found`` (cells of the step-dilated axis)."""
    if found is None or step == 1:
        return found
    from math import gcd

    runs = []
    for run in found.runs:
        first, stop = -(-run.start // step), -(-run.stop // step)
        if not run.period:
            runs.append(Run(first, stop))
            continue
        period = run.period // gcd(run.period, step)
        if period > CELL_BUDGET:
            return None
        hit = [
            j
            for j in range(period)
            if any(a <= ((first + j) * step - run.start) % run.period < b for a, b in run.offsets)
        ]
        offsets: list[tuple[int, int]] = []
        for j in hit:
            if offsets and offsets[-1][1] == j:
                offsets[-1] = (offsets[-1][0], j + 1)
            else:
                offsets.append((j, j + 1))
        runs.append(Run(first, stop, period, tuple(offsets)))
    return within(n, runs)


def lhs_dilated_unreached(n: int, kernel: int, dilation: int, stride: int, lo: int, out: int, lhs: int) -> Cells | None:
    """Input cells no kernel tap reaches when the input is dilated by ``lhs`` (cell i sits at
    i*lhs of the dilated axis, which ``unreached`` covers; the holes between cells are not input)."""
    return every_nth(unreached(dilated_size(n, lhs), kernel, dilation, stride, lo, out), lhs, n)


def transposed_unreached(n: int, kernel: int, dilation: int, stride: int, lo: int, out: int) -> Cells | None:
    """Input cells of a transposed conv whose every tap lands in the cut padding (``lo`` cells cut
    before; a negative lo adds cells): its equal stride-1 forward conv over the zero-stuffed input."""
    before = transposed_forward_pads(effective_kernel(kernel, dilation), lo, 0)[0]
    return lhs_dilated_unreached(n, kernel, dilation, 1, before, out, stride)


def cropped_cells(n: int, lo: int, hi: int) -> Cells:
    """The input cells a negative pad (a crop) removes from each side."""
    return within(n, [Run(0, -lo), Run(n + hi, n)])


# --- explicit padding: the input cells no output cell copies ---


def reflected(v: int, n: int) -> int:
    """The input cell that virtual cell ``v`` of an axis of ``n`` cells (n >= 2) reads under 'reflect'
    (mirrored about the edge cells, which are not repeated)."""
    folded = abs(v) % (2 * n - 2)
    return 2 * n - 2 - folded if folded >= n else folded


def pad_unread(n: int, lo: int, hi: int, mode: str) -> Cells:
    """The input cells no output cell of a padded (negative: cropped) axis reads: the cropped cells,
    less those 'reflect' and 'replicate' copy back (about the whole input's edges) or 'circular'
    wraps onto (the cropped input), as ``reference.layers.pad_sources`` reads them; in runs, in
    time independent of the sizes."""
    out = pad_out(n, lo, hi)
    if mode == "zeros" or out <= 0 or n == 0:
        return cropped_cells(n, lo, hi)
    first, last = -lo, out - 1 - lo  # the virtual cells the outputs read, in input coordinates
    if mode == "replicate":
        read = [(min(max(first, 0), n - 1), min(max(last, 0), n - 1) + 1)]
    elif mode == "reflect" and (n == 1 or last - first + 1 >= 2 * n - 2):
        read = [(0, n)]
    elif mode == "reflect":  # under one period: at most three monotone pieces between the fold points
        read, v = [], first
        while v <= last:
            end = min(last, (v // (n - 1) + 1) * (n - 1))
            a, b = reflected(v, n), reflected(end, n)
            read.append((min(a, b), max(a, b) + 1))
            v = end + 1
    else:  # circular wraps the cropped input: its cells from ``start``, ``out`` of them
        skip, kept = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
        if kept <= 0:
            return cropped_cells(n, lo, hi)
        start = -max(lo, 0) % kept
        read = [(skip, skip + kept)] if out >= kept else [(skip + start, skip + min(start + out, kept))]
        if out < kept and start + out > kept:
            read.append((skip, skip + start + out - kept))
    runs, reached = [], 0
    for a, b in sorted(read):
        if a > reached:
            runs.append(Run(reached, a))
        reached = max(reached, b)
    return within(n, [*runs, Run(reached, n)])
