"""Explanation: the derivation of an output shape, axis by axis, from ``Mapped``.

Per spatial axis it gives the input size, the (effective) kernel, the
framework's padding rule and the explicit padding before/after, the size
formula with numbers, the result and the input cells no window reaches.
Transposed convolutions also get their equivalent forward convolution and a
comparison with the textbook ``(n-1)*s + f - 2p``. No formula lives here:
every number comes from ``core/arith.py``.
"""

from __future__ import annotations

from .core import arith
from .core.op import ConvOp
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
}
MAX_LISTED = 8


def signed(value: int) -> str:
    """'+ 2' or '- 1', for sums written out."""
    return f"- {-value}" if value < 0 else f"+ {value}"


def as_forward(n: int, k_eff: int, s: int, lo: int, hi: int, p_out: int, out: int) -> dict:
    """A transposed conv as a stride-1 forward conv over the zero-stuffed input."""
    stuffed = arith.dilated_size(n, s)
    before, after = k_eff - 1 - lo, k_eff - 1 - hi + p_out
    crop = " (negative = cropped)" if before < 0 or after < 0 else ""
    zeros = {1: "no zeros", 2: "1 zero"}.get(s, f"{s - 1} zeros")
    return {
        "zeros_inserted": s - 1,
        "dilated_input": stuffed,
        "pad_before": before,
        "pad_after": after,
        "text": (
            f"{zeros} between inputs ({n} -> {stuffed}), pad {before} before, {after} after{crop}, "
            f"then a stride-1 conv: {stuffed} {signed(before)} {signed(after)} - {k_eff} + 1 = {out}"
        ),
    }


def textbook(n: int, k: int, d: int, s: int, lo: int, hi: int, p_out: int, out: int) -> dict:
    """The textbook (n-1)*s + f - 2p (p = padding before) and the terms it misses."""
    value = (n - 1) * s + k - 2 * lo
    terms = []
    if d != 1:
        terms.append(f"dilation {d} widens the kernel to {arith.effective_kernel(k, d)}: {(d - 1) * (k - 1):+d}")
    if lo != hi:
        terms.append(f"asymmetric padding (before {lo}, after {hi}): {lo - hi:+d}")
    if p_out:
        terms.append(f"output_padding {p_out}: {p_out:+d}")
    which = ", taking p = pad before:" if lo != hi else " ="
    text = f"textbook (n-1)*s + f - 2p{which} ({n}-1)*{s} + {k} - 2*{lo} = {value}"
    text += f"; differs by {out - value:+d}: " + ", ".join(terms) if terms else ", the same"
    return {"value": value, "differs_by": out - value, "text": text}


def axis_facts(op: ConvOp, axis: int, rule: str) -> dict:
    """Every number of one spatial axis, with its formula text (JSON-ready)."""
    n, k, d, s = op.in_size[axis], op.kernel[axis], op.dilation[axis], op.stride[axis]
    lo, hi = op.pad_lo[axis], op.pad_hi[axis]
    k_eff = arith.effective_kernel(k, d)
    out = arith.output_spatial(op)[axis]
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
    if op.kind.startswith("adaptive"):
        facts["formula"] = f"output size given: {out}"
        windows = [arith.adaptive_window(i, n, out) for i in range(out)]
        facts["window_sizes"] = sorted({stop - start for start, stop in windows})
        return facts
    if op.kind == "conv_transpose":
        p_out = op.output_padding[axis]
        facts["output_padding"] = p_out
        facts["formula"] = arith.transpose_out_text(n, k, d, s, lo, hi, p_out)
        facts["as_forward"] = as_forward(n, k_eff, s, lo, hi, p_out, out)
        facts["textbook"] = textbook(n, k, d, s, lo, hi, p_out, out)
        return facts
    facts["lhs_dilation"] = op.lhs_dilation[axis]
    facts["rounding"] = op.rounding
    facts["formula"] = arith.conv_out_text(n, k, d, s, lo, hi, op.lhs_dilation[axis], rounding=op.rounding)
    if op.rounding == "ceil" and arith.ceil_drops_last_window(n, k_eff, s, lo, hi):
        rounded = facts["formula"].rpartition(" = ")[0]
        facts["formula"] = f"{rounded} = {out + 1}, minus the last window (it would start in the right padding) = {out}"
    if op.lhs_dilation[axis] == 1 and out > 0:
        facts["unreached"] = list(arith.unreached(n, k_eff, s, lo, out))
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
                    "axes": [axis_facts(op, axis, rules[axis] if axis < len(rules) else "") for axis in range(op.rank)],
                    "notes": list(op.notes),
                }
            )
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
        data = self.to_dict()
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
            lines.append(f"{title}, {channels}")
            for facts in step["axes"]:
                lines.extend(axis_lines(facts))
            lines.extend(f"  note: {note}" for note in step["notes"])
        if data["activation"]:
            lines.append(f"then activation {data['activation']} (after the bias)")
        lines.extend(f"note: {note}" for note in data["notes"])
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Explanation {self.mapped.call.text} -> {self.output_shape}>"

    def _repr_html_(self) -> str:
        from html import escape

        return f"<pre>{escape(str(self))}</pre>"


def kernel_text(facts: dict) -> str:
    """'kernel 3, stride 2, pad before 0, after 1' for one axis."""
    if "window_sizes" in facts:
        return f"window sizes {' or '.join(map(str, facts['window_sizes']))}"
    kernel = f"kernel {facts['kernel']}"
    if facts["dilation"] != 1:
        kernel += f" dilated by {facts['dilation']} (effective {facts['effective_kernel']})"
    parts = [kernel, f"stride {facts['stride']}"]
    if facts.get("lhs_dilation", 1) != 1:
        parts.append(f"input dilation {facts['lhs_dilation']}")
    pads = f"pad before {facts['pad_before']}, after {facts['pad_after']}"
    parts.append(pads + (" (cut from the full output)" if "as_forward" in facts else ""))
    if facts.get("output_padding"):
        parts.append(f"output_padding {facts['output_padding']}")
    return ", ".join(parts)


def axis_lines(facts: dict) -> list[str]:
    """The terminal lines for one axis."""
    lines = [f"  {facts['axis']}: {facts['in']} -> {facts['out']}", f"    {kernel_text(facts)}"]
    if facts["padding_rule"]:
        label = "windows" if "window_sizes" in facts else "padding"
        lines.append(f"    {label}: {facts['padding_rule']}")
    lines.append(f"    out = {facts['formula']}")
    if "as_forward" in facts:
        lines.append(f"    as a forward conv: {facts['as_forward']['text']}")
        lines.append(f"    {facts['textbook']['text']}")
    if facts.get("unreached"):
        cells = facts["unreached"]
        shown = ", ".join(map(str, cells[:MAX_LISTED])) + (", ..." if len(cells) > MAX_LISTED else "")
        lines.append(f"    input indices no window reaches: {shown} ({len(cells)} dropped)")
    return lines
