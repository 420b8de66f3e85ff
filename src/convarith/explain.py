"""Explanation: the derivation of an output shape, axis by axis, from ``Mapped``.

Per spatial axis it gives the input size, the (effective) kernel, the
framework's padding rule and the explicit padding before/after, the size
formula with numbers, the result and the input cells no kernel tap reaches;
average pooling adds its divisors, adaptive pooling its window sizes.
Transposed convolutions also get their equivalent forward convolution and a
comparison with the textbook ``(n-1)*s + f - 2p``. No formula lives here:
every number comes from ``core/arith.py``, in time independent of the sizes.
"""

from __future__ import annotations

from functools import cached_property

from .core import arith
from .core.op import ConvOp
from .explain_layers import LAYER_KINDS, layer_facts
from .frameworks._common import Mapped

__all__ = ["Explanation"]

KIND_TITLES = {
    "conv": "convolution",
    "conv_transpose": "transposed convolution",
    "max_pool": "max pooling",
    "avg_pool": "average pooling",
    "lp_pool": "Lp pooling",
    "adaptive_max_pool": "adaptive max pooling",
    "adaptive_avg_pool": "adaptive average pooling",
    "resize": "resize",
    # --- rearranging and reduce_window (wip8-rearr) ---
    "min_pool": "min pooling",
    "sum_pool": "sum pooling (the window sum)",
    "depth_to_space": "depth to space (blocks of channels moved into space)",
    "space_to_depth": "space to depth (blocks of space moved into channels)",
    "unfold": "unfold (every window kept whole, as channels)",
    "fold": "fold (windows summed back into an image)",
    "pad": "explicit padding (negative: cropping)",
    "max_unpool": "max unpooling",
}
MAX_LISTED = 8


def pad_words(value: int) -> str:
    """'pad 2' or, for a negative amount, 'crop 1' (a negative pad removes cells)."""
    return f"pad {value}" if value >= 0 else f"crop {-value}"


def pads_phrase(lo: int, hi: int) -> str:
    """'pad 2 before, 1 after', or with a negative side 'pad 1 before, crop 2 after'."""
    if lo >= 0 and hi >= 0:
        return f"pad {lo} before, {hi} after"
    return f"{pad_words(lo)} before, {pad_words(hi)} after"


def as_forward(n: int, k_eff: int, s: int, lo: int, hi: int, p_out: int, out: int) -> dict:
    """A transposed conv as a stride-1 forward conv over the zero-stuffed input."""
    stuffed = arith.dilated_size(n, s)
    before, after = arith.transposed_forward_pads(k_eff, lo, hi, p_out)
    zeros = {1: "no zeros", 2: "1 zero"}.get(s, f"{s - 1} zeros")
    return {
        "zeros_inserted": s - 1,
        "dilated_input": stuffed,
        "pad_before": before,
        "pad_after": after,
        "text": (
            f"{zeros} between inputs ({n} -> {stuffed}), {pads_phrase(before, after)}, "
            f"then a stride-1 conv: {stuffed} {arith.plus(before)} {arith.plus(after)} - {k_eff} + 1 = {out}"
        ),
    }


def textbook(n: int, k: int, d: int, s: int, lo: int, hi: int, p_out: int, out: int) -> dict:
    """The textbook (n-1)*s + f - 2p (p = padding before) and the terms it misses."""
    value = (n - 1) * s + k - 2 * lo
    terms = []
    if d != 1:
        terms.append(f"dilation {d} widens the kernel to {arith.effective_kernel(k, d)}: {(d - 1) * (k - 1):+d}")
    if lo != hi:
        terms.append(f"asymmetric padding ({cut_words(lo, hi)}): {lo - hi:+d}")
    if p_out:
        terms.append(f"output_padding {p_out}: {p_out:+d}")
    which = ", taking p = pad before:" if lo != hi else " ="
    text = f"textbook (n-1)*s + f - 2p{which} ({n}-1)*{s} + {k} - 2*{plain(lo)} = {value}"
    text += f"; differs by {out - value:+d}: " + ", ".join(terms) if terms else ", the same"
    return {"value": value, "differs_by": out - value, "text": text}


def plain(value: int) -> str:
    """A number inside a product: negative ones in parentheses."""
    return f"({value})" if value < 0 else f"{value}"


def cut_words(lo: int, hi: int) -> str:
    """A transposed conv's padding (cells cut from its full output) per side,
    a negative amount said as cells added: 'before 0, after 1 added'."""

    def side(value: int) -> str:
        return f"{value}" if value >= 0 else f"{-value} added"

    return f"before {side(lo)}, after {side(hi)}"


NO_TAP = "input cells no kernel tap reaches"
CUT_TAPS = "input cells whose every tap lands in the cut padding"
UNREAD = "input cells no output cell reads"
CROPPED = "input cells cropped away"


def cells_facts(found: arith.Cells | None, what: str = NO_TAP, why: str = "") -> dict:
    """Unreached cells for JSON: the runs (plain [start, stop) or periodic), the count and what they are."""
    if found is None:
        return {
            "count": None,
            "runs": [],
            "what": what,
            "why": why
            or f"not worked out: the kernel's reach, the stride or a copying padding exceeds {arith.CELL_BUDGET} cells",
        }
    runs = []
    for run in found.runs[:MAX_LISTED]:
        item = {"start": run.start, "stop": run.stop}
        if run.period:
            offsets = [list(pair) for pair in run.offsets[:MAX_LISTED]]
            item |= {"period": run.period, "offsets": offsets, "offsets_total": len(run.offsets)}
        runs.append(item)
    return {"count": found.count, "runs": runs, "runs_total": len(found.runs), "what": what}


def divisor_facts(op: ConvOp, axis: int, out: int) -> list[dict]:
    """Per run of windows: how many cells its average divides by on this axis."""
    n, k, d, s = op.in_size[axis], op.kernel[axis], op.dilation[axis], op.stride[axis]
    lo, hi = op.pad_lo[axis], op.pad_hi[axis]
    facts = []
    for run in arith.divisor_runs(n, k, d, s, lo, hi, out, op.count_include_pad):
        item = {"windows": [run.first, run.stop], "low": run.low, "high": run.high}
        if run.low != run.high and run.stop - run.first <= 4:
            item["values"] = [
                arith.window_cells(j, n, k, d, s, lo, hi, op.count_include_pad) for j in range(run.first, run.stop)
            ]
        facts.append(item)
    return facts


def axis_facts(op: ConvOp, axis: int, rule: str, space_to_batch: bool = False) -> dict:
    """Every number of one spatial axis, with its formula text (JSON-ready)."""
    n, k, d, s = op.in_size[axis], op.kernel[axis], op.dilation[axis], op.stride[axis]
    lo, hi = op.pad_lo[axis], op.pad_hi[axis]
    k_eff = arith.effective_kernel(k, d)
    out = arith.space_to_batch_out(n, k, d, s, lo, hi)[0] if space_to_batch else arith.output_spatial(op)[axis]
    facts = {
        "axis": arith.axis_names(op.rank)[axis],
        "in": n,
        "out": max(out, 0),
        "kernel": k,
        "dilation": d,
        "effective_kernel": k_eff,
        "stride": s,
        "pad_before": lo,
        "pad_after": hi,
        "padding_rule": rule,
    }
    if op.kind in arith.REARRANGED_KINDS:
        from .explain_rearrange import rearranged_facts

        return rearranged_facts(op, axis, facts)
    if op.kind == "resize":
        facts.update(resize_facts(op, axis))
        if out > 0 and n > 0:
            facts["unreached"] = resize_unread_facts(op, axis)
        return facts
    if op.kind in LAYER_KINDS:
        return layer_facts(op, axis, facts)
    if op.kind.startswith("adaptive"):
        facts["formula"] = f"output size given: {out}"
        facts["window_sizes"] = [list(pair) for pair in arith.adaptive_sizes(n, out)]
        return facts
    if op.kind == "conv_transpose":
        p_out = op.output_padding[axis]
        facts["output_padding"] = p_out
        facts["formula"] = arith.transpose_out_text(n, k, d, s, lo, hi, p_out)
        facts["as_forward"] = as_forward(n, k_eff, s, lo, hi, p_out, out)
        facts["textbook"] = textbook(n, k, d, s, lo, hi, p_out, out)
        if out > 0:
            facts["unreached"] = cells_facts(arith.transposed_unreached(n, k, d, s, lo, out), CUT_TAPS)
        return facts
    if space_to_batch:
        facts["space_to_batch"] = True
        facts["formula"] = arith.space_to_batch_text(n, k, d, s, lo, hi)
        if d > 1:
            facts["windows"] = (
                f"output i starts at ({'i//' + str(d) if d > 1 else 'i'})*{s * d} + i%{d} {arith.plus(-lo)}: "
                f"rows of {d} adjacent windows, one row every {s * d} cells"
                + (f" (a strided dilated conv would start one every {s})" if s > 1 else "")
            )
        if out > 0:
            facts["unreached"] = cells_facts(arith.space_to_batch_unreached(n, k, d, s, lo, out))
        return facts
    facts["lhs_dilation"] = op.lhs_dilation[axis]
    facts["rounding"] = op.rounding
    facts["formula"] = arith.conv_out_text(n, k, d, s, lo, hi, op.lhs_dilation[axis], rounding=op.rounding)
    if op.rounding == "ceil" and arith.ceil_drops_last_window(n, k_eff, s, lo, hi):
        rounded = facts["formula"].rpartition(" = ")[0]
        facts["formula"] = f"{rounded} = {out + 1}, minus the last window (it would start in the right padding) = {out}"
    if op.lhs_dilation[axis] == 1 and out > 0:
        found = arith.padded_unreached(n, k, d, s, lo, hi, out, op.pad_mode)
        facts["unreached"] = cells_facts(found)
    elif out > 0:
        facts["unreached"] = cells_facts(arith.lhs_dilated_unreached(n, k, d, s, lo, out, op.lhs_dilation[axis]))
    if op.kind == "avg_pool" and out > 0:
        if op.divisor_override:
            facts["divisor"] = [
                {"windows": [0, out], "low": op.divisor_override, "high": op.divisor_override, "override": True}
            ]
        else:
            facts["divisor"] = divisor_facts(op, axis, out)
    return facts


class Explanation:
    """How the output shape of one call comes about. ``str()`` reads in a
    terminal, ``to_dict()`` is JSON-ready, ``_repr_html_()`` shows in notebooks."""

    def __init__(self, mapped: Mapped, input_shape: tuple[int, ...] | None):
        self.mapped = mapped
        self.input_shape = input_shape
        self.output_shape = mapped.output_shape

    def to_dict(self) -> dict:
        """Plain dicts, lists, strings and ints only: ``json.dumps`` takes it as is."""
        from copy import deepcopy

        return deepcopy(self.facts)

    @cached_property
    def facts(self) -> dict:
        """The facts behind ``to_dict`` and ``str``, worked out once."""
        m = self.mapped
        steps = []
        for index, op in enumerate(m.ops):
            rules = m.padding_rules if index == 0 else ()
            steps.append(
                {
                    "kind": op.kind,
                    "in_channels": op.in_channels,
                    "out_channels": op.out_channels,
                    "groups": op.groups,
                    "axes": [
                        axis_facts(op, axis, rules[axis] if axis < len(rules) else "", m.space_to_batch and index == 0)
                        for axis in range(op.rank)
                    ],
                }
            )
            if op.kind == "avg_pool" and op.rank > 1 and all("divisor" in facts for facts in steps[-1]["axes"]):
                low = high = 1
                for facts in steps[-1]["axes"]:
                    low *= min(run["low"] for run in facts["divisor"])
                    high *= max(run["high"] for run in facts["divisor"])
                steps[-1]["divisor"] = {"low": low, "high": high}
        return {
            "framework": m.framework,
            "call": m.call.text,
            "layout": m.layout,
            "input_shape": list(self.input_shape) if self.input_shape is not None else None,
            "shape": list(self.output_shape),
            "steps": steps,
            "activation": m.activation or None,
            "notes": list(m.notes),
        }

    def __str__(self) -> str:
        data = self.facts
        layout = f", {data['layout']}" if data["layout"] else ""
        lines = [f"{data['call']}  [{data['framework']}{layout}]"]
        if data["input_shape"] is not None:
            lines.append(f"input {tuple(data['input_shape'])} -> output {tuple(data['shape'])}")
        else:
            lines.append(f"output {tuple(data['shape'])}")
        for number, step in enumerate(data["steps"], 1):
            title = KIND_TITLES[step["kind"]]
            if len(data["steps"]) > 1:
                title = f"step {number}: {title}"
            channels = f"channels {step['in_channels']} -> {step['out_channels']}"
            if step["groups"] != 1:
                channels += f" in {step['groups']} groups"
            if step["axes"] and step["axes"][0].get("space_to_batch"):
                title += " run as space-to-batch"
            lines.append(f"{title}, {channels}")
            for facts in step["axes"]:
                lines.extend(axis_lines(facts))
            if "divisor" in step:
                low, high = step["divisor"]["low"], step["divisor"]["high"]
                spread = f"{high} for every window" if low == high else f"from {low} to {high}"
                lines.append(f"  divisor of a window: the product of its per-axis counts, {spread}")
        if data["activation"]:
            lines.append(f"then activation {data['activation']} (after the bias)")
        lines.extend(f"note: {note}" for note in data["notes"])
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Explanation {self.mapped.call.text} -> {self.output_shape}>"

    def _repr_html_(self) -> str:
        """The derivation beside its picture (convarith.draw's SVG; the text alone if it cannot be drawn)."""
        from html import escape

        from .errors import ConvArithError
        from .render import draw_mapped

        text = f"<pre>{escape(str(self))}</pre>"
        try:
            picture = draw_mapped(self.mapped)
        except ConvArithError:
            return text
        return f'<div style="display:flex;gap:1em;align-items:flex-start">{text}<div>{picture}</div></div>'


def kernel_text(facts: dict) -> str:
    """'kernel 3, stride 2, pad before 0, after 1' for one axis."""
    if "sampling" in facts:
        return facts["sampling"]
    if "window_sizes" in facts:
        sizes = [f"{size} ({count} window{'s' if count != 1 else ''})" for size, count in facts["window_sizes"]]
        return f"window sizes {' or '.join(sizes)}"
    if "block" in facts:
        return f"block {facts['block']}"
    kernel = f"kernel {facts['kernel']}"
    if facts["dilation"] != 1:
        kernel += f" dilated by {facts['dilation']} (effective {facts['effective_kernel']})"
    parts = [kernel, f"stride {facts['stride']}"]
    if facts.get("lhs_dilation", 1) != 1:
        parts.append(f"input dilation {facts['lhs_dilation']}")
    lo, hi = facts["pad_before"], facts["pad_after"]
    if "as_forward" in facts and lo >= 0 and hi >= 0:
        parts.append(f"pad before {lo}, after {hi} (cut from the full output)")
    elif "as_forward" in facts:
        parts.append(f"cut from the full output: {cut_words(lo, hi)} (a negative pad adds cells)")
    elif lo >= 0 and hi >= 0:
        parts.append(f"pad before {lo}, after {hi}")
    else:
        parts.append(f"{pad_words(lo)} before, {pad_words(hi)} after (a negative pad crops the input)")
    if facts.get("output_padding"):
        parts.append(f"output_padding {facts['output_padding']}")
    return ", ".join(parts)


def span(start: int, stop: int) -> str:
    """'5' or '5-7' for the cells start..stop-1."""
    return f"{start}" if stop - start == 1 else f"{start}-{stop - 1}"


def run_text(run: dict) -> str:
    """A run of unreached cells: '5-7', or a periodic one by its first two periods."""
    if "period" not in run:
        return span(run["start"], run["stop"])
    start, stop, period = run["start"], run["stop"], run["period"]
    if run["offsets_total"] > len(run["offsets"]):  # a long pattern: its first ranges only
        shown = ", ".join(span(start + a, min(start + b, stop)) for a, b in run["offsets"])
        return f"[{shown}, ... ({run['offsets_total']} ranges in every {period} cells) up to {stop - 1}]"
    shown = []
    for base in (start, start + period):
        shown += [span(base + a, min(base + b, stop)) for a, b in run["offsets"] if base + a < stop]
    if start + 2 * period >= stop:
        return ", ".join(shown)
    return f"[{', '.join(shown)}, ... every {period} cells up to {stop - 1}]"


def unreached_line(found: dict) -> str | None:
    """The terminal line for the cells no kernel tap reaches (None when there are none)."""
    what = found.get("what", NO_TAP)
    if found["count"] is None:
        return f"    {what}: {found['why']}"
    if not found["count"]:
        return None
    shown = ", ".join(run_text(run) for run in found["runs"])
    more = ", ..." if found["runs_total"] > len(found["runs"]) else ""
    return f"    {what} ({found['count']}): {shown}{more}"


def windows_text(first: int, stop: int) -> str:
    return f"window {first}" if stop - first == 1 else f"windows {first}-{stop - 1}"


def divisor_line(runs: list[dict]) -> str:
    """'divisor: 2 for window 0; 3 for windows 1-30; 2 for window 31'."""
    if runs and runs[0].get("override"):
        return f"    divisor: divisor_override={runs[0]['low']} for every window"
    parts = []
    for run in runs:
        if "values" in run:
            value = ", ".join(map(str, run["values"]))
        else:
            value = f"{run['low']}" if run["low"] == run["high"] else f"{run['low']} to {run['high']}"
        parts.append(f"{value} for {windows_text(*run['windows'])}")
    return f"    divisor (cells counted on this axis): {'; '.join(parts)}"


def axis_lines(facts: dict) -> list[str]:
    """The terminal lines for one axis."""
    lines = [f"  {facts['axis']}: {facts['in']} -> {facts['out']}", f"    {kernel_text(facts)}"]
    if facts["padding_rule"]:
        label = "windows" if "window_sizes" in facts else "rule" if "sampling" in facts else "padding"
        lines.append(f"    {label}: {facts['padding_rule']}")
    lines.append(f"    out = {facts['formula']}")
    if "windows" in facts:
        lines.append(f"    windows: {facts['windows']}")
    if "fill" in facts:
        lines.append(f"    {facts['fill']}")
    if "as_forward" in facts:
        lines.append(f"    as a forward conv: {facts['as_forward']['text']}")
        lines.append(f"    {facts['textbook']['text']}")
    if "unreached" in facts:
        line = unreached_line(facts["unreached"])
        if line:
            lines.append(line)
    if "divisor" in facts:
        lines.append(divisor_line(facts["divisor"]))
    return lines


# --- resize ---

COORDINATE_TEXTS = {
    "asymmetric": "x / scale",
    "half_pixel": "(x + 0.5) / scale - 0.5",
    "pytorch_half_pixel": "(x + 0.5) / scale - 0.5 (0 when the output has one cell)",
    "align_corners": "x * (n - 1) / (out - 1), the corner cells aligned",
    "tf_half_pixel_for_nn": "(x + 0.5) / scale",
    "half_pixel_symmetric": "(x + 0.5) / scale - 0.5, shifted so the image centres align",
    "tf_crop_and_resize": "the roi's start + x * (its length) * (n - 1) / (out - 1)",
}
SAMPLING_WORDS = {
    "nearest": "nearest cell",
    "linear": "linear interpolation between the 2 nearest cells",
    "cubic": "cubic interpolation over 4 cells",
    "area": "average over the cells each output cell covers",
    "lanczos3": "Lanczos filter (3 lobes)",
    "lanczos5": "Lanczos filter (5 lobes)",
    "gaussian": "Gaussian filter (radius 1.5)",
    "mitchellcubic": "Mitchell-Netravali cubic filter",
}


def resize_facts(op: ConvOp, axis: int) -> dict:
    """The size rule and sampling of one resized axis."""
    n, out = op.in_size[axis], op.out_size[axis]
    given = op.sample_scale[axis] if op.sample_scale else 0.0
    if op.resize_arith == "exact" and given and float(given).is_integer():
        formula = arith.repeat_size_text(n, int(given))
    elif given:
        formula = arith.scaled_size_text(n, given, float32_product=op.resize_arith == "onnx")
    else:
        formula = f"output size given: {out}"
    scale = arith.number_text(given) if given else f"({out}/{n})"
    where = COORDINATE_TEXTS[op.coordinate].replace("scale", scale).replace("(n - 1)", f"{n - 1}")
    where = where.replace("(out - 1)", f"{out - 1}")
    words = SAMPLING_WORDS[op.resize_mode]
    if op.resize_mode == "nearest":
        words += f", position rounded by {op.nearest_rounding}"
    elif op.resize_mode == "cubic":
        words += f" (a = {op.cubic_a!r}{', cells outside dropped' if op.exclude_outside else ''})"
    if op.antialias:
        words += ", antialiased (the filter widened by the shrink factor)"
    if arith.resize_copies_axis(op, axis):
        return {"formula": formula, "sampling": "copied as is (the framework does not resample this axis)"}
    return {"formula": formula, "sampling": f"{words}; output x reads input position {where}"}


def resize_unread_facts(op: ConvOp, axis: int) -> dict:
    """The input cells no output cell of a resize reads (a nearest or linear downscale skips some):
    the reference engine's sampling table (NumPy), as draw shows them; an axis over 65536 cells is not worked out."""
    from .render.scene import RESIZE_INPUT, RESIZE_SAMPLED, resize_unread

    if arith.resize_copies_axis(op, axis):
        return cells_facts(arith.cells([]), UNREAD)
    if op.out_size[axis] > RESIZE_SAMPLED or op.in_size[axis] > RESIZE_INPUT:
        return cells_facts(None, UNREAD, f"not worked out: an axis over {RESIZE_SAMPLED} cells")
    return cells_facts(resize_unread(op, axis), UNREAD)
