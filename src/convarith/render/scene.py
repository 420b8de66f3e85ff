"""The picture of one call as data: per drawn axis, what each cell of the input and output
grids is, and where the kernel taps of one output cell land. Built from the canonical op
(``Mapped.ops``) and ``core.arith`` only; the renderers (svg, text, gif) only lay it out.

A 2-D grid is the product of two strips (rows: the first drawn axis, columns: the second;
a 1-D op has a single neutral row). A cell's class follows from its two strips' classes:
padding on the first axis wins, then padding on the second (a corner cell takes the
first axis's side), then an inserted zero, then a dropped cell (a cell is reached only
when its row and its column both are), else the grid's own class (input or output).

Each kind family (``FAMILIES``) gives the strips of one axis: windows over the padded input (conv,
pools, unfold, space to depth), adaptive windows, a transposed conv's two views, explicit padding
(cropped cells dropped), resize and depth to space (the cells one output cell reads), and the
scatter onto the output (fold, max unpooling, a transposed conv's scatter view).
"""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache
from math import gcd

from ..core import arith
from ..core.op import ConvOp
from ..explain import pads_phrase
from ..explain_layers import FILLS, copied_text
from ..frameworks._common import Mapped, refuse

__all__ = ["CLASSES", "LIMIT", "Grid", "Scene", "build_scene"]

CLASSES = ("input", "pad-before", "pad-after", "inserted-zero", "dropped", "output")
PADDING = ("pad-before", "pad-after")
LIMIT = 64  # cells drawn per axis in full; a longer axis has its middle elided
KEPT = 12  # cells kept at each end of an elided axis, and around the kernel or the chosen output cell
PERIODS_COUNTED = 1 << 12  # periods of an unreached run scanned to count the real cells of a zero-stuffed input
VIEWS = ("forward", "scatter")


def in_cells(found: arith.Cells, u: int) -> bool:
    """Whether cell ``u`` is one of ``found``'s runs (plain or periodic)."""
    runs = found.runs
    index = bisect_right(runs, (u, float("inf"))) - 1
    if index < 0:
        return False
    run = runs[index]
    if u >= run.stop:
        return False
    if not run.period:
        return True
    offset = (u - run.start) % run.period
    return any(a <= offset < b for a, b in run.offsets)


def multiples_in(found: arith.Cells, step: int) -> int | None:
    """How many cells of ``found`` are multiples of ``step`` (the real cells of a zero-stuffed
    input, whose input cell i sits at i*step); None when a periodic run is too long to scan."""
    if step == 1:
        return found.count
    total = 0
    for run in found.runs:
        if not run.period:
            total += (run.stop - 1) // step - (run.start - 1) // step
            continue
        periods = -(-(run.stop - run.start) // run.period)
        if periods > PERIODS_COUNTED:
            return None
        for base in range(run.start, run.stop, run.period):
            for a, b in run.offsets:
                lo, hi = base + a, min(base + b, run.stop)
                if hi > lo:
                    total += (hi - 1) // step - (lo - 1) // step
    return total


class Strip:
    """One axis of a grid: ``length`` cells (grid positions 0..length-1), their classes, the
    taps of the chosen window that land on them and the cells shown when the axis is long."""

    base = "input"
    length = 1

    def cls(self, g: int) -> str | None:
        """The class of grid position ``g`` (None outside the grid)."""
        return self.base if 0 <= g < self.length else None

    def tap(self, g: int) -> int | None:
        """The index of the chosen window's tap at ``g`` (None when no tap lands there)."""
        return None

    def excluded(self, g: int) -> bool:
        """Whether a tap at ``g`` is left out of the window's count (past the padded input,
        or padding an average leaves out of its divisor)."""
        return not 0 <= g < self.length

    def stamps(self, g: int) -> int | None:
        """How many kernel stamps land on ``g`` (scatter view only)."""
        return None

    def span(self) -> tuple[int, int]:
        """The positions [first, stop) that must be shown: the taps (or the chosen cell)."""
        return 0, 0

    def counts(self) -> dict[str, int]:
        """Cells per class on this axis (the base class, padding, inserted zeros, dropped cells)."""
        return {self.base: self.length}

    def shown(self) -> list[int | None]:
        """Grid positions drawn, in order; None marks an elided run of cells. Positions outside
        [0, length) appear only where a tap lands past the padded input."""
        first, stop = self.span()
        lo, hi = min(0, first), max(self.length, stop)
        if hi - lo <= LIMIT:
            return list(range(lo, hi))
        focus = max(first, lo)
        ranges = sorted([(lo, lo + KEPT), (focus, min(focus + KEPT, max(stop, focus + 1))), (hi - KEPT, hi)])
        merged: list[list[int]] = []
        for a, b in ranges:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        shown: list[int | None] = []
        for a, b in merged:
            if shown:
                shown.append(None)
            shown.extend(range(a, b))
        return shown


class UnitStrip(Strip):
    """The single row of a 1-D grid: neutral, so the columns decide every class."""

    def __init__(self, base: str) -> None:
        self.base = base

    def tap(self, g: int) -> int | None:
        return 0 if g == 0 else None

    def excluded(self, g: int) -> bool:
        return False


class WindowStrip(Strip):
    """An input axis seen by windows: ``n`` cells spaced ``spacing`` apart (spacing-1 zeros
    between, lhs dilation), ``lo``/``hi`` padding (a negative side crops, drawn as dropped
    cells), and the chosen window's ``kernel`` taps every ``dilation`` from ``start``
    (positions u of the spaced input, u = 0 its first cell)."""

    def __init__(self, name, n, spacing, lo, hi, kernel, dilation, start, unreached, pads_counted=True):
        self.name, self.n, self.spacing, self.lo, self.hi = name, n, spacing, lo, hi
        self.kernel, self.dilation, self.start = kernel, dilation, start
        found = None if unreached is None else multiples_in(unreached, spacing)
        self.unreached = None if found is None else unreached  # arith.Cells over u, or None when not worked out
        self.dropped_count = found or 0  # the real input cells among them
        self.pads_counted = pads_counted
        self.spaced = arith.dilated_size(n, spacing)
        self.before, self.after = max(lo, 0), max(hi, 0)
        self.length = self.before + self.spaced + self.after

    def cls(self, g: int) -> str | None:
        if not 0 <= g < self.length:
            return None
        if g < self.before:
            return "pad-before"
        if g >= self.before + self.spaced:
            return "pad-after"
        u = g - self.before
        if u % self.spacing:
            return "inserted-zero"
        if self.unreached is not None and in_cells(self.unreached, u):
            return "dropped"
        return "input"

    def tap(self, g: int) -> int | None:
        if self.start is None:
            return None
        return tap_index(g - self.before - self.start, self.dilation, self.kernel)

    def excluded(self, g: int) -> bool:
        """Past the padded input (padding is -lo..spaced+hi in u), or padding left out of a divisor."""
        u = g - self.before
        if not -self.lo <= u < self.spaced + self.hi:
            return True
        return not self.pads_counted and not 0 <= u < self.spaced

    def span(self) -> tuple[int, int]:
        if self.start is None:
            return 0, 0
        first = self.before + self.start
        return first, first + arith.effective_kernel(self.kernel, self.dilation)

    def counts(self) -> dict[str, int]:
        dropped = self.dropped_count
        return {
            "pad-before": self.before,
            "pad-after": self.after,
            "inserted-zero": self.spaced - self.n,
            "dropped": dropped,
            "input": self.n - dropped,
        }


class OutputStrip(Strip):
    """An output axis: ``out`` cells and the chosen one. In the scatter view the grid is the
    stamped buffer before the crop (``full`` cells, input cell i stamping kernel tap t at
    i*stride + t*dilation): the cells cut ``crop`` before and after the output are padding."""

    base = "output"

    def __init__(self, name, out, at, crop=0, full=None, stamp=None):
        out = max(out, 0)  # an empty (negative-sized) output has no cells
        self.name, self.out, self.at, self.crop = name, out, at, crop
        self.full = out if full is None else full
        self.origin = min(0, crop)  # position of grid cell 0 in the buffer
        self.length = max(self.full, crop + out) - self.origin
        self.stamp = stamp  # (n, kernel, stride, dilation) in the scatter view

    def cls(self, g: int) -> str | None:
        if not 0 <= g < self.length:
            return None
        p = g + self.origin
        if p < self.crop:
            return "pad-before"
        return "output" if p < self.crop + self.out else "pad-after"

    def chosen(self) -> int | None:
        """The grid position of the chosen output cell."""
        return None if self.at is None else self.at + self.crop - self.origin

    def span(self) -> tuple[int, int]:
        g = self.chosen()
        return (0, 0) if g is None else (max(g - KEPT // 2, 0), g + 1)

    def stamps(self, g: int) -> int | None:
        if self.stamp is None:
            return None
        n, k, s, d = self.stamp
        return stamp_count(g + self.origin, n, k, s, d)

    def counts(self) -> dict[str, int]:
        before = max(self.crop - self.origin, 0)
        return {"pad-before": before, "pad-after": self.length - before - self.out, "output": self.out}


class ScatterInputStrip(Strip):
    """An input axis in the scatter view: plain input cells; the taps are those whose stamp
    lands on the chosen output cell (buffer position ``target``): i*stride + t*dilation = target."""

    def __init__(self, name, n, kernel, stride, dilation, target):
        self.name, self.length = name, n
        self.kernel, self.stride, self.dilation, self.target = kernel, stride, dilation, target

    def tap(self, g: int) -> int | None:
        if self.target is None:
            return None
        return tap_index(self.target - g * self.stride, self.dilation, self.kernel)

    def excluded(self, g: int) -> bool:
        return False

    def span(self) -> tuple[int, int]:
        if self.target is None:
            return 0, 0
        if self.stride == 0:  # every cell lands on the same positions
            return (0, self.length) if tap_index(self.target, self.dilation, self.kernel) is not None else (0, 0)
        first = -(-(self.target - arith.effective_kernel(self.kernel, self.dilation) + 1) // self.stride)
        return max(first, 0), min(self.target // self.stride + 1, self.length)


def tap_index(offset: int, dilation: int, kernel: int) -> int | None:
    """The tap t < kernel at ``offset`` = t*dilation from a window's start (dilation 0: every tap
    on the first cell, drawn as tap 0), or None."""
    if dilation == 0:
        return 0 if offset == 0 and kernel > 0 else None
    t, rest = divmod(offset, dilation)
    return t if not rest and 0 <= t < kernel else None


def stamp_count(p: int, n: int, k: int, s: int, d: int) -> int:
    """How many (input cell i < n, tap t < k) pairs stamp buffer position p = i*s + t*d, in O(1)."""
    if s == 0:  # stride 0 (max_unpool1d accepts it): every input cell stamps the same taps
        return n * (k if p == 0 else 0) if d == 0 else n * (p % d == 0 and 0 <= p // d < k)
    if d == 0:  # every tap on the input cell's own position
        return k if p % s == 0 and 0 <= p // s < n else 0
    common = gcd(d, s)
    if p % common:
        return 0
    period = s // common
    t0 = (p // common) * pow(d // common, -1, period) % period if period > 1 else 0
    t_lo = max(0, -(-(p - (n - 1) * s) // d))
    t_hi = min(k - 1, p // d)
    if t_hi < t_lo:
        return 0
    first = t_lo + (t0 - t_lo) % period
    return 0 if first > t_hi else (t_hi - first) // period + 1


def corner_rule(row: str | None, col: str | None) -> str | None:
    """A cell's class from its row's and column's: padding of the first axis, then of the second,
    then an inserted zero, then a dropped cell, else the row's (input or output); None outside."""
    if row is None or col is None:
        return None
    if row in PADDING:
        return row
    if col in PADDING:
        return col
    for name in ("inserted-zero", "dropped"):
        if name in (row, col):
            return name
    return row


class Grid:
    """One drawn grid: its ``role`` (input or output), two strips, title and label lines."""

    def __init__(self, role: str, rows: Strip, cols: Strip, title: str, labels: list[str]):
        self.role, self.rows, self.cols, self.title, self.labels = role, rows, cols, title, labels

    def cls(self, r: int, c: int) -> str | None:
        """The class of cell (r, c) by the corner rule (None outside the grid)."""
        return corner_rule(self.rows.cls(r), self.cols.cls(c))

    def cells(self) -> list[tuple[int, int, str | None, tuple[int, int] | None, bool, int | None] | None]:
        """The shown cells row by row: (row slot, column slot, class, tap, excluded, stamps); each
        strip is read once per shown position (elided slots give None)."""
        rows, cols = self.rows.shown(), self.cols.shown()
        per_row = [None if r is None else (r, self.rows.cls(r), self.rows.tap(r), self.rows.excluded(r)) for r in rows]
        per_col = [None if c is None else (c, self.cols.cls(c), self.cols.tap(c), self.cols.excluded(c)) for c in cols]
        row_stamps = [None if r is None else self.rows.stamps(r) for r in rows]
        col_stamps = [None if c is None else self.cols.stamps(c) for c in cols]
        found = []
        for i, row in enumerate(per_row):
            for j, col in enumerate(per_col):
                if row is None or col is None:
                    continue
                tap = None if row[2] is None or col[2] is None else (row[2], col[2])
                stamps = (
                    col_stamps[j] if row_stamps[i] is None or col_stamps[j] is None else row_stamps[i] * col_stamps[j]
                )
                found.append((i, j, corner_rule(row[1], col[1]), tap, row[3] or col[3], stamps))
        return found

    def chosen(self) -> tuple[int, int] | None:
        if self.role != "output":
            return None
        row = self.rows.chosen() if isinstance(self.rows, OutputStrip) else 0
        col = self.cols.chosen()
        return None if row is None or col is None else (row, col)

    def counts(self) -> dict[str, int]:
        """Cells per class in the whole grid (elided ones included), by the corner rule."""
        rc, cc = self.rows.counts(), self.cols.counts()
        rows, cols = sum(rc.values()), sum(cc.values())
        base = "output" if self.role == "output" else "input"
        pads_r = rc.get("pad-before", 0) + rc.get("pad-after", 0)
        pads_c = cc.get("pad-before", 0) + cc.get("pad-after", 0)
        inner_r, inner_c = rows - pads_r, cols - pads_c
        real_r = rc.get("dropped", 0) + rc.get(base, 0)
        real_c = cc.get("dropped", 0) + cc.get(base, 0)
        found = {
            "pad-before": rc.get("pad-before", 0) * cols + inner_r * cc.get("pad-before", 0),
            "pad-after": rc.get("pad-after", 0) * cols + inner_r * cc.get("pad-after", 0),
            "inserted-zero": inner_r * inner_c - real_r * real_c,
            "dropped": real_r * real_c - rc.get(base, 0) * cc.get(base, 0),
            base: rc.get(base, 0) * cc.get(base, 0),
        }
        return {name: found[name] for name in CLASSES if name in found}

    @property
    def size(self) -> tuple[int, int]:
        return self.rows.length, self.cols.length


class Scene:
    """Everything a renderer draws: heading lines, the grids, notes."""

    def __init__(self, heading: list[str], grids: list[Grid], notes: list[str]):
        self.heading, self.grids, self.notes = heading, grids, notes


class AxisPicture:
    """What a kind family gives for one drawn axis: the input and output strips and their label lines."""

    def __init__(self, source: Strip, result: Strip, source_words: str, result_words: str):
        self.source, self.result, self.source_words, self.result_words = source, result, source_words, result_words


def kernel_words(k: int, d: int, s: int) -> str:
    dilated = f" dilated by {d} (spans {arith.effective_kernel(k, d)})" if d != 1 else ""
    return f"kernel {k}{dilated}, stride {s}"


def dropped_words(strip: WindowStrip, out: int) -> str:
    if out <= 0:
        return ""
    if strip.unreached is None:
        return "; unreached cells not worked out (too long a kernel reach or padding)"
    dropped = strip.dropped_count
    return f"; {dropped} cell{'s' if dropped != 1 else ''} no window reaches" if dropped else ""


def window_axis(name, n, spacing, k, d, s, lo, hi, out, at, unreached, start_of, pads_counted=True) -> AxisPicture:
    """A sliding-window axis (conv, pooling, and a transposed conv's forward view)."""
    start = start_of(at) if at is not None else None
    strip = WindowStrip(name, n, spacing, lo, hi, k, d, start, unreached, pads_counted)
    spaced = f", {spacing - 1} zero{'s' if spacing != 2 else ''} between -> {strip.spaced}" if spacing > 1 else ""
    words = (
        f"{name}: {n} cells{spaced}, {pads_phrase(lo, hi)} -> {strip.length}; "
        f"{kernel_words(k, d, s)}{dropped_words(strip, out)}"
    )
    return AxisPicture(strip, OutputStrip(name, out, at), words, f"{name}: {max(out, 0)} cells")


def windowed(op: ConvOp, axis: int, at: int | None, context: dict) -> AxisPicture:
    """conv, max/avg/Lp pooling: windows of the kernel over the padded (maybe lhs-dilated) input."""
    name = arith.axis_names(op.rank)[axis]
    n, k, d, s = op.in_size[axis], op.kernel[axis], op.dilation[axis], op.stride[axis]
    lo, hi, spacing = op.pad_lo[axis], op.pad_hi[axis], op.lhs_dilation[axis]
    if context["space_to_batch"]:
        out = arith.space_to_batch_out(n, k, d, s, lo, hi)[0]
        found = arith.space_to_batch_unreached(n, k, d, s, lo, out) if out > 0 else None
        return window_axis(
            name, n, 1, k, d, s, lo, hi, out, at, found, lambda j: arith.space_to_batch_start(j, d, s, lo)
        )
    out = arith.output_spatial(op)[axis]
    found = None
    if out > 0:
        if spacing == 1:
            found = arith.padded_unreached(n, k, d, s, lo, hi, out, op.pad_mode)
        else:
            found = arith.unreached(arith.dilated_size(n, spacing), k, d, s, lo, out)
    counted = not (op.kind == "avg_pool" and not op.count_include_pad and not op.divisor_override)
    return window_axis(name, n, spacing, k, d, s, lo, hi, out, at, found, lambda j: j * s - lo, counted)


def adaptive(op: ConvOp, axis: int, at: int | None, context: dict) -> AxisPicture:
    """Adaptive pooling: window j covers [floor(j*n/out), ceil((j+1)*n/out)), every cell reached."""
    name = arith.axis_names(op.rank)[axis]
    n, out = op.in_size[axis], op.out_size[axis]
    start, stop = arith.adaptive_window(at, n, out) if at is not None else (0, 1)
    strip = WindowStrip(name, n, 1, 0, 0, stop - start, 1, start if at is not None else None, None)
    sizes = " or ".join(f"{size} ({count} windows)" for size, count in arith.adaptive_sizes(n, out))
    words = f"{name}: {n} cells, no padding; adaptive windows of {sizes or 'no cells'}"
    return AxisPicture(strip, OutputStrip(name, out, at), words, f"{name}: {out} cells")


def transposed(op: ConvOp, axis: int, at: int | None, context: dict) -> AxisPicture:
    """A transposed conv: forward view (zeros inserted, the forward pads, a stride-1 conv,
    the equivalent op of reference.views) or scatter view (stamps, then the crop per side)."""
    name = arith.axis_names(op.rank)[axis]
    n, k, d, s = op.in_size[axis], op.kernel[axis], op.dilation[axis], op.stride[axis]
    lo, hi, extra = op.pad_lo[axis], op.pad_hi[axis], op.output_padding[axis]
    out = arith.output_spatial(op)[axis]
    if context["view"] == "scatter":
        words = f"{name}: {n} cells, each stamps the kernel ({kernel_words(k, d, s)}) at stride {s}"
        picture = scatter_axis(name, n, k, d, s, lo, out, at, words, "stamped")
        picture.result_words += f" (output_padding {extra})" if extra else ""
        return picture
    forward = context["forward_op"]  # the equivalent forward conv (reference.views.zero_insertion_op)
    picture = windowed(forward, axis, at, {"space_to_batch": False})
    picture.result = OutputStrip(name, out, at)  # the transposed size (an empty input has no zero-stuffed equal)
    picture.source_words += f" (the transposed conv's {pads_phrase(lo, hi)} cut from its full output)"
    return picture


def scatter_axis(name, n, k, d, s, lo, out, at, source_words: str, what: str) -> AxisPicture:
    """An axis that scatters: input cell i writes kernel offset t at buffer position i*s + t*d, the
    buffer ((n-1)*s + k_eff cells) then cut ``lo`` before and the rest after (transposed conv's scatter
    view, fold's overlapping blocks, max unpooling's windows); the chosen output cell is at + lo."""
    k_eff = arith.effective_kernel(k, d)
    full = arith.transpose_out(n, k_eff, s, 0, 0, 0)
    target = None if at is None else at + lo
    source = ScatterInputStrip(name, n, k, s, d, target)
    result = OutputStrip(name, out, at, crop=lo, full=full, stamp=(n, k, s, d))
    words = (
        f"{name}: {full} {what} cells ((n-1)*s + k_eff = ({n}-1)*{s} + {k_eff}), "
        f"{pads_phrase(lo, full - lo - out)} cut -> {out} cells"
    )
    return AxisPicture(source, result, source_words, words)


class SourceStrip(Strip):
    """An input axis read cell by cell (resize, depth to space): the chosen output cell reads
    the cells ``sources`` (tap i on the i-th of them; None: not worked out); ``unread`` (arith.Cells)
    are the cells no output cell reads, drawn as dropped."""

    def __init__(self, name, n, sources, unread=None):
        self.name, self.length, self.sources, self.unread = name, n, sources, unread

    def cls(self, g: int) -> str | None:
        if not 0 <= g < self.length:
            return None
        return "dropped" if self.unread is not None and in_cells(self.unread, g) else "input"

    def tap(self, g: int) -> int | None:
        return None if not self.sources or g not in self.sources else self.sources.index(g)

    def excluded(self, g: int) -> bool:
        return False

    def span(self) -> tuple[int, int]:
        return (min(self.sources), max(self.sources) + 1) if self.sources else (0, 0)

    def counts(self) -> dict[str, int]:
        dropped = 0 if self.unread is None else self.unread.count
        return {"input": self.length - dropped, "dropped": dropped}


def padded(op: ConvOp, axis: int, at: int | None, context: dict) -> AxisPicture:
    """Explicit padding or cropping: a window of one cell, stride 1 (output j reads input j - lo, or
    the cell the padding copies); cropped cells are dropped (no output cell reads them)."""
    name = arith.axis_names(op.rank)[axis]
    n, lo, hi = op.in_size[axis], op.pad_lo[axis], op.pad_hi[axis]
    out = arith.output_spatial(op)[axis]
    start = None if at is None else at - lo
    unread = arith.pad_unread(n, lo, hi, op.pad_mode) if out > 0 else arith.cells([])  # empty: none dropped
    strip = WindowStrip(name, n, 1, lo, hi, 1, 1, start, unread)
    cropped = unread.count  # the cropped cells no copy reads back
    words = f"{name}: {n} cells, {pads_phrase(lo, hi)} -> {arith.pad_out_text(n, lo, hi)}"
    if op.pad_mode == "zeros":
        words += f"; padded cells hold {op.pad_value:g}" if lo > 0 or hi > 0 else ""
    else:
        copied = copied_text(op, axis) if max(lo, hi) <= COPIES_LISTED else ""  # it lists a range's head
        words += f"; {op.pad_mode}: padded cells are {FILLS[op.pad_mode]}" + (f" ({copied})" if copied else "")
    if cropped:
        words += f"; {cropped} cropped cell{'s' if cropped != 1 else ''} drawn as dropped"
    read = ""
    if start is not None and 0 <= start < n:
        read = f"; cell {at} is input cell {start}"
    elif start is not None and op.pad_mode != "zeros" and min(lo, hi) >= 0 and n > 0:
        read = f"; cell {at} copies input cell {arith.copy_source(start, n, op.pad_mode)}"
    elif start is not None and op.pad_mode == "zeros":
        read = f"; cell {at} holds {op.pad_value:g}"
    return AxisPicture(strip, OutputStrip(name, out, at), words, f"{name}: {out} cells{read}")


COPIES_LISTED = 1 << 12  # padding per side up to which the label lists the cells it copies
RESIZE_SAMPLED = 1 << 16  # output cells per axis up to which draw works out the cells one of them reads
RESIZE_INPUT = 1 << 16  # and input cells


@lru_cache(maxsize=8)  # a GIF draws one scene per frame
def resize_table(op: ConvOp, axis: int):
    """(cells, weights), one row per output cell, of a resize axis: the reference engine's sampling
    table, so the picture is the numbers' rule; None for an axis over RESIZE_SAMPLED output cells
    (or over RESIZE_INPUT input cells: a filter's span grows with the input)."""
    if op.out_size[axis] > RESIZE_SAMPLED or op.in_size[axis] > RESIZE_INPUT:
        return None
    import numpy as np

    from ..reference.resize import filtered, sampling

    if axis == 0 and op.rank > 1 and torch_repeats_row_0(op):
        return np.zeros((op.out_size[0], 1), np.int64), np.ones((op.out_size[0], 1))
    found = filtered(op, axis)
    return found if found is not None else sampling(op, axis)


def torch_repeats_row_0(op: ConvOp) -> bool:
    """torch's antialiased vertical pass on a 1-wide output repeats row 0 (reference.resize.resize does the same)."""
    return op.resize_arith == "torch" and op.antialias and op.out_size[-1] == 1 and op.in_size[0] != op.out_size[0]


def resize_sources(table, x: int) -> tuple[list[int], list[float]]:
    """The input cells output cell x reads (a weight other than 0) and their weights."""
    cells, weights = table
    total: dict[int, float] = {}
    for cell, weight in zip(cells[x].tolist(), weights[x].tolist()):
        if weight:
            total[cell] = total.get(cell, 0.0) + weight
    return list(total), list(total.values())


@lru_cache(maxsize=8)
def resize_unread(op: ConvOp, axis: int) -> arith.Cells:
    """The input cells no output cell reads (a nearest downscale skips some), as runs."""
    import numpy as np

    n = op.in_size[axis]
    cells, weights = resize_table(op, axis)
    runs, reached = [], 0
    for cell in np.unique(cells[weights != 0]).tolist():
        if cell > reached:
            runs.append(arith.Run(reached, cell))
        reached = cell + 1
    return arith.within(n, [*runs, arith.Run(reached, n)])


def resampled(op: ConvOp, axis: int, at: int | None, context: dict) -> AxisPicture:
    """Resize: output cell ``at`` reads one input cell (nearest) or its neighbours, weighted (linear:
    2, cubic: 4, filters: a span); the coordinate rule names how a cell maps to an input position."""
    name = arith.axis_names(op.rank)[axis]
    n, out = op.in_size[axis], op.out_size[axis]
    table = resize_table(op, axis) if out > 0 and n > 0 else None
    found = None if at is None or table is None else resize_sources(table, at)
    unread = None if table is None else resize_unread(op, axis)
    strip = SourceStrip(name, n, None if found is None else found[0], unread)
    scale = op.sample_scale[axis] if op.sample_scale and op.sample_scale[axis] else None
    rule = f"{op.resize_mode}, {op.coordinate}" + (f", scale {scale:g}" if scale else "")
    words = f"{name}: {n} cells -> {out} ({rule})"
    read = ""
    if at is not None and found is None:
        read = f"; the cells cell {at} reads are not worked out (over {RESIZE_SAMPLED} cells, or {RESIZE_INPUT} in)"
    elif found is not None:
        parts = ", ".join(f"{cell} ({weight:.3g})" for cell, weight in zip(*found))
        read = f"; cell {at} reads input cell{'s' if len(found[0]) != 1 else ''} {parts}"
    if arith.resize_copies_axis(op, axis):
        read += " (the framework copies this axis as is)"
    if unread is not None and unread.count:
        words += f"; {unread.count} cell{'s' if unread.count != 1 else ''} no output cell reads"
    return AxisPicture(strip, OutputStrip(name, out, at), words, f"{name}: {out} cells{read}")


def shuffled(op: ConvOp, axis: int, at: int | None, context: dict) -> AxisPicture:
    """Depth to space (pixel shuffle): input cell i becomes the block of r output cells
    [i*r, (i+1)*r), each from its own channel; output cell x is offset x % r of input cell x // r."""
    name = arith.axis_names(op.rank)[axis]
    n, r = op.in_size[axis], op.kernel[axis]
    out = arith.output_spatial(op)[axis]
    strip = SourceStrip(name, n, None if at is None else [at // r])
    words = f"{name}: {n} cells, each becomes a block of {r} output cells (its channels)"
    read = "" if at is None else f"; cell {at} is offset {at % r} of input cell {at // r}'s block"
    return AxisPicture(
        strip, OutputStrip(name, out, at), words, f"{name}: {arith.depth_to_space_out(n, r)} cells{read}"
    )


def blocked(op: ConvOp, axis: int, at: int | None, context: dict) -> AxisPicture:
    """Space to depth: windows of r cells at stride r (each block becomes channels)."""
    picture = windowed(op, axis, at, context)
    picture.source_words += f" (each block of {op.kernel[axis]} cells becomes channels)"
    return picture


def unfolded(op: ConvOp, axis: int, at: int | None, context: dict) -> AxisPicture:
    """Unfold (im2col): the windows of a conv, each kept whole as one column of the output."""
    picture = windowed(op, axis, at, context)
    picture.result_words += " (one block per cell: a column of the output's L)"
    return picture


def folded(op: ConvOp, axis: int, at: int | None, context: dict) -> AxisPicture:
    """Fold: each block (a column of the input) is added onto its window of the padded image, the
    padding then cut; the chosen image cell shows the blocks that add onto it (stamps: how many)."""
    name = arith.axis_names(op.rank)[axis]
    n, k, d, s, lo = op.in_size[axis], op.kernel[axis], op.dilation[axis], op.stride[axis], op.pad_lo[axis]
    out = arith.output_spatial(op)[axis]
    words = f"{name}: {n} blocks, each added onto a window of the image ({kernel_words(k, d, s)})"
    return scatter_axis(name, n, k, d, s, lo, out, at, words, "covered")


def unpooled(op: ConvOp, axis: int, at: int | None, context: dict) -> AxisPicture:
    """Max unpooling: input cell i goes to one cell of its window [i*s, i*s + k) of the output (its
    index picks which), every other cell 0; stamps count the windows that can write a cell."""
    name = arith.axis_names(op.rank)[axis]
    n, k, s, lo = op.in_size[axis], op.kernel[axis], op.stride[axis], op.pad_lo[axis]
    out = arith.output_spatial(op)[axis]
    words = f"{name}: {n} cells, each to one cell (its index) of a window of {k}, stride {s}"
    picture = scatter_axis(name, n, k, 1, s, lo, out, at, words, "window")
    extra = op.output_padding[axis]
    picture.result_words += f" (output_size moves it by {extra:+d})" if extra else ""
    return picture


FAMILIES = {
    "conv": windowed,
    "max_pool": windowed,
    "avg_pool": windowed,
    "lp_pool": windowed,
    "min_pool": windowed,
    "sum_pool": windowed,
    "adaptive_max_pool": adaptive,
    "adaptive_avg_pool": adaptive,
    "conv_transpose": transposed,
    "pad": padded,
    "resize": resampled,
    "depth_to_space": shuffled,
    "space_to_depth": blocked,
    "unfold": unfolded,
    "fold": folded,
    "max_unpool": unpooled,
}
SCATTERED = ("fold", "max_unpool")  # kinds drawn as a scatter onto the output (the transposed conv's view)


def drawn_axes(axes, rank: int, label: str) -> tuple[int, ...]:
    """The spatial axes to draw: ``axes`` as one or two distinct axis indices or names
    (default the first two), negative indices from the end."""
    if rank == 0:
        raise refuse(
            label,
            "the op has no spatial axis to draw",
            "a drawing is a grid of the spatial axes, and a call on (batch, channels) alone has none",
            "use explain or output_shape for it",
        )
    names = arith.axis_names(rank)
    if axes is None:
        return tuple(range(min(rank, 2)))
    items = (axes,) if isinstance(axes, (int, str)) else axes
    if not isinstance(items, (tuple, list)) or not 1 <= len(items) <= 2:
        raise refuse(
            label,
            f"axes={axes!r} is not one or two spatial axes",
            f"a drawing is a grid of at most two of the {rank} spatial axes ({', '.join(names)})",
            "axes=(0, 1) or axes=('height', 'width')",
        )
    chosen = []
    for item in items:
        if isinstance(item, str) and item in names:
            item = names.index(item)
        if isinstance(item, bool) or not isinstance(item, int) or not -rank <= item < rank:
            raise refuse(
                label,
                f"axes={axes!r} names {item!r}, not a spatial axis",
                f"spatial axes are 0 to {rank - 1} (or {', '.join(names)})",
                f"axes=(0, {min(1, rank - 1)})",
            )
        chosen.append(item % rank)
    if len(set(chosen)) != len(chosen):
        raise refuse(label, f"axes={axes!r} names one axis twice", "the two axes drawn differ", "axes=(0, 1)")
    return tuple(chosen)


def chosen_cell(at, out: tuple[int, ...], label: str) -> tuple[int, ...] | None:
    """The output cell whose kernel footprint is drawn: ``at`` (one index per spatial axis),
    default the first; None when the output is empty."""
    if min(out, default=1) <= 0:
        if at is not None:
            raise refuse(
                label,
                f"at={at!r} names an output cell, but the output is empty",
                "an empty output has no cells",
                "drop at=",
            )
        return None
    if at is None:
        return (0,) * len(out)
    items = (at,) if isinstance(at, int) and not isinstance(at, bool) else at
    ok = isinstance(items, (tuple, list)) and len(items) == len(out)
    ok = ok and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n for i, n in zip(items, out))
    if not ok:
        raise refuse(
            label,
            f"at={at!r} is not a cell of the spatial output {tuple(out)}",
            "at= gives one index per spatial axis, each 0 <= index < that axis's output size",
            f"at={(0,) * len(out)!r}",
        )
    return tuple(items)


def build_scene(mapped: Mapped, *, axes=None, at=None, view: str = "forward") -> Scene:
    """The scene of ``mapped``'s first op (a later step, such as a separable conv's pointwise
    conv, is named in a note): the grids of its drawn axes, the footprint of output ``at``."""
    label = mapped.call.base
    op = mapped.ops[0]
    family = FAMILIES.get(op.kind)
    if family is None:
        raise refuse(
            label,
            f"cannot draw an op of kind {op.kind!r}",
            f"convarith.draw has a picture for the kinds {', '.join(FAMILIES)}",
            "use output_shape or explain for this call (they cover every kind)",
        )
    if view not in VIEWS:
        raise refuse(label, f"view={view!r} is not a view", "view is 'forward' or 'scatter'", "view='forward'")
    if view == "scatter" and op.kind != "conv_transpose":
        raise refuse(
            label,
            f"view='scatter' needs a transposed convolution, got a {op.kind} op",
            "only a transposed conv stamps its kernel onto the output",
            "view='forward' (the default)",
        )
    chosen = drawn_axes(axes, op.rank, label)
    context = {"view": view, "space_to_batch": mapped.space_to_batch}
    if op.kind == "conv_transpose" and view == "forward":
        from ..reference.views import zero_insertion_op

        context["forward_op"] = zero_insertion_op(op)
    outs = [
        arith.space_to_batch_out(
            *(f[a] for f in (op.in_size, op.kernel, op.dilation, op.stride, op.pad_lo, op.pad_hi))
        )[0]
        if mapped.space_to_batch
        else arith.output_spatial(op)[a]
        for a in range(op.rank)
    ]
    cell = chosen_cell(at, tuple(max(o, 0) for o in outs), label)
    pictures = [family(op, a, None if cell is None else cell[a], context) for a in chosen]
    if len(pictures) == 1:
        pictures.insert(0, None)
    rows_in = UnitStrip("input") if pictures[0] is None else pictures[0].source
    rows_out = UnitStrip("output") if pictures[0] is None else pictures[0].result
    cols = pictures[1]
    words_in = [p.source_words for p in pictures if p is not None]
    words_out = [p.result_words for p in pictures if p is not None]
    names = " x ".join(arith.axis_names(op.rank)[a] for a in chosen)
    source = Grid("input", rows_in, cols.source, f"input ({names})", words_in)
    result = Grid("output", rows_out, cols.result, f"output ({names})", words_out)
    notes = heading_notes(mapped, op, chosen, cell, view, outs)
    if view == "scatter":
        source.title += ": the cells whose stamps reach the chosen output cell"
        result.title += ": the stamped buffer, overlaps summed (numbers), then the crop per side"
    elif op.kind in TITLES:
        source.title += TITLES[op.kind][0]
        result.title += TITLES[op.kind][1]
    elif op.kind == "conv_transpose":
        zeros = "zeros inserted, then padded" if max(op.stride, default=1) > 1 else "padded"
        source.title += f": {zeros}, as the equivalent stride-1 forward conv"
    heading = [f"{mapped.call.text}  [{mapped.framework}{', ' + mapped.layout if mapped.layout else ''}]"]
    heading.append(f"input {tuple(mapped.given_input_shape)} -> output {tuple(mapped.output_shape)}")
    return Scene(heading, [source, result], notes)


def heading_notes(mapped, op, chosen, cell, view, outs) -> list[str]:
    """The notes under the picture: the chosen cell, its divisor, undrawn axes and steps."""
    names = arith.axis_names(op.rank)
    notes = []
    if cell is None:
        notes.append("the output is empty: no kernel footprint")
    else:
        what = "taps whose stamps reach" if view == "scatter" or op.kind in SCATTERED else "kernel footprint of"
        what = READS.get(op.kind, what)
        notes.append(f"{what} output cell {cell if op.rank > 1 else cell[0]} (at=)")
    if op.kind == "avg_pool" and cell is not None:
        if op.divisor_override:
            notes.append(f"divisor: divisor_override={op.divisor_override}")
        else:
            divisor = 1
            for a in range(op.rank):
                n, k, d, s = op.in_size[a], op.kernel[a], op.dilation[a], op.stride[a]
                divisor *= arith.window_cells(cell[a], n, k, d, s, op.pad_lo[a], op.pad_hi[a], op.count_include_pad)
            notes.append(f"divisor of this window: {divisor} cells (dashed taps are left out)")
    for a in range(op.rank):
        if a not in chosen:
            how = {
                "pad": f", {pads_phrase(op.pad_lo[a], op.pad_hi[a])}",
                "resize": f", {op.resize_mode}",
                "depth_to_space": f", blocks of {op.kernel[a]}",
            }.get(op.kind, f", kernel {op.kernel[a]}, stride {op.stride[a]}, {pads_phrase(op.pad_lo[a], op.pad_hi[a])}")
            notes.append(
                f"{names[a]} not drawn: {op.in_size[a]} -> {max(outs[a], 0)}{how} (axes= picks the drawn axes)"
            )
    notes += kind_notes(op, cell, len(mapped.output_shape))
    if len(mapped.ops) > 1:
        later = ", then ".join(
            f"{later_op.kind} (kernel {'x'.join(map(str, later_op.kernel))}, "
            f"{later_op.in_channels} -> {later_op.out_channels} channels)"
            for later_op in mapped.ops[1:]
        )
        notes.append(f"step 1 of {len(mapped.ops)} drawn; then {later}")
    if mapped.space_to_batch:
        notes.append("run as space-to-batch: windows in rows of `dilation` adjacent windows")
    return notes


TITLES = {  # (input, output) title suffixes of the kinds that are not a window sliding over the input
    "pad": (": padded (copied or constant) and cropped (dropped) cells", ": the padded input"),
    "resize": (": the cells the chosen output cell reads", ": resampled"),
    "depth_to_space": (": each cell a block of the output", ": the blocks, side by side"),
    "space_to_depth": (": blocks that become channels", ""),
    "unfold": ("", ": one cell per block (the output's L)"),
    "fold": (": the blocks (the input's L), laid out per axis", ": the image, overlapping blocks summed (numbers), then the padding cut"),
    "max_unpool": (": the cells that can land on the chosen output cell", ": each cell's window (numbers: windows over it), then the padding cut"),
}  # fmt: skip
READS = {
    "pad": "the input cell read by",
    "resize": "the input cells read by",
    "depth_to_space": "the input cell of",
    "fold": "the blocks (and their kernel offsets) that add onto",
    "max_unpool": "the input cells whose window holds",
}


def kind_notes(op: ConvOp, cell, output_rank: int) -> list[str]:
    """Notes of a kind's own: a global pool, a depth-to-space channel, a reduce_window's fill."""
    notes = []
    pads = any(op.pad_lo) or any(op.pad_hi)
    if op.kind in ("max_pool", "avg_pool", "lp_pool") and op.kernel == op.in_size and not pads:
        dropped = " (keepdims=False: the output has no spatial axes, drawn as one cell)" if output_rank == 2 else ""
        notes.append(f"global pooling: one window over the whole input{dropped}")
    if op.kind in ("min_pool", "sum_pool", "max_pool") and op.init_value is not None and pads:
        notes.append(f"padding cells hold init_value {op.init_value:g}")
    if op.kind == "depth_to_space" and cell is not None:
        flat = 0
        for x, r in zip(cell, op.kernel):
            flat = flat * r + x % r
        blocks = 1
        for r in op.kernel:
            blocks *= r
        channel = flat * op.out_channels if op.block_order == "DCR" else flat
        step = "" if op.block_order == "DCR" else f" (channel c reads {blocks}*c + {flat})"
        notes.append(f"output channel 0 of this cell is input channel {channel} ({op.block_order} order){step}")
    return notes
