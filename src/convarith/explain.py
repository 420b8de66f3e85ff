"""Explanation: the derivation of an output shape, axis by axis, from ``Mapped``."""

from __future__ import annotations

import html

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


def axis_facts(op: ConvOp, axis: int, rule: str) -> dict:
    """Every number of one spatial axis, with its formula text."""
    n, k, d, s = op.in_size[axis], op.kernel[axis], op.dilation[axis], op.stride[axis]
    lo, hi = op.pad_lo[axis], op.pad_hi[axis]
    k_eff = arith.effective_kernel(k, d)
    out = arith.output_spatial(op)[axis]
    facts = {
        "axis": arith.axis_names(op.rank)[axis],
        "in": n,
        "out": out,
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
        return facts
    if op.kind == "conv_transpose":
        p_out = op.output_padding[axis]
        facts["output_padding"] = p_out
        facts["formula"] = arith.transpose_out_text(n, k, d, s, lo, hi, p_out)
        facts["as_forward"] = {
            "zeros_inserted": s - 1,
            "dilated_input": (n - 1) * s + 1,
            "pad_before": k_eff - 1 - lo,
            "pad_after": k_eff - 1 - hi + p_out,
            "text": (
                f"insert {s - 1} zero(s) between inputs ({n} -> {(n - 1) * s + 1}), pad {k_eff - 1 - lo} before and "
                f"{k_eff - 1 - hi} + {p_out} after (k_eff-1-pad, + output_padding), then a stride-1 convolution "
                f"with the flipped kernel: {(n - 1) * s + 1} + {k_eff - 1 - lo} + {k_eff - 1 - hi + p_out} - {k_eff} + 1 = {out}"
            ),
        }
        textbook = (n - 1) * s + k - 2 * lo
        if d != 1 or lo != hi or p_out or textbook != out:
            facts["textbook"] = (
                f"textbook (n-1)*s + f - 2p = ({n}-1)*{s} + {k} - 2*{lo} = {textbook}"
                + (" (same)" if textbook == out else f" differs: here pad before {lo}, after {hi}, "
                   f"output_padding {p_out}, dilation {d}")
            )
        return facts
    facts["lhs_dilation"] = op.lhs_dilation[axis]
    facts["formula"] = arith.conv_out_text(n, k, d, s, lo, hi, op.lhs_dilation[axis], ceil=op.ceil_mode)
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
                }
            )
        return {
            "framework": m.framework,
            "call": m.call.text,
            "layout": m.layout,
            "input_shape": list(self.input_shape) if self.input_shape is not None else None,
            "shape": list(self.output_shape),
            "steps": steps,
            "notes": list(m.notes),
        }

    def __str__(self) -> str:
        data = self.to_dict()
        head = f"{data['call']}  [{data['framework']}{', ' + data['layout'] if data['layout'] else ''}]"
        lines = [head]
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
        lines.extend(f"note: {note}" for note in data["notes"])
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Explanation {self.mapped.call.text} -> {self.output_shape}>"

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"


def axis_lines(facts: dict) -> list[str]:
    """The terminal lines for one axis."""
    lines = [f"  {facts['axis']}: {facts['in']} -> {facts['out']}"]
    if facts["dilation"] != 1:
        lines.append(f"    effective kernel {facts['dilation']}*({facts['kernel']}-1)+1 = {facts['effective_kernel']}")
    if facts["padding_rule"]:
        lines.append(f"    padding: {facts['padding_rule']}")
    lines.append(f"    out = {facts['formula']}")
    if "as_forward" in facts:
        lines.append(f"    as a forward conv: {facts['as_forward']['text']}")
    if "textbook" in facts:
        lines.append(f"    {facts['textbook']}")
    if facts.get("unreached"):
        cells = facts["unreached"]
        shown = ", ".join(map(str, cells[:8])) + (", ..." if len(cells) > 8 else "")
        lines.append(f"    input indices no window reaches: {shown} ({len(cells)} dropped)")
    return lines
