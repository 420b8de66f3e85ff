"""Explanation facts of the rearranging ops (wip8-rearr): depth to space, space to depth, fold.

Each axis says the rule in words and numbers; the sizes come from ``core.arith``.
"""

from __future__ import annotations

from .core import arith
from .core.op import ConvOp

__all__ = ["axis_facts"]


def axis_facts(op: ConvOp, axis: int, rule: str) -> dict:
    """The facts of one spatial axis of a REARRANGED_KINDS op (the same keys as explain.axis_facts)."""
    n, k, d, s = op.in_size[axis], op.kernel[axis], op.dilation[axis], op.stride[axis]
    lo, hi = op.pad_lo[axis], op.pad_hi[axis]
    out = arith.output_spatial(op)[axis]
    facts = {
        "axis": arith.axis_names(op.rank)[axis],
        "in": n,
        "out": max(out, 0),
        "kernel": k,
        "dilation": d,
        "effective_kernel": arith.effective_kernel(k, d),
        "stride": s,
        "pad_before": lo,
        "pad_after": hi,
        "padding_rule": rule,
    }
    if op.kind == "fold":
        facts["in"] = out  # the image's size; n is the number of blocks on this axis
        facts["blocks"] = n
        facts["formula"] = (
            f"output_size given: {out}; blocks = {arith.conv_out_text(out, k, d, s, lo, hi)} "
            "(the blocks of all axes multiply to the input's L)"
        )
        return facts
    facts["block"] = k
    if op.kind == "depth_to_space":
        facts["formula"] = f"{n}*{k} = {out} (each cell becomes {k} cells, taken from the channels)"
    else:
        facts["formula"] = f"{n} / {k} = {out} (each {k} cells become channels)"
    return facts
