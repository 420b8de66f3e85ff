"""Explanation facts of the rearranging ops (wip8-rearr): depth to space, space to depth, fold.

Each axis says the rule in words and numbers; the sizes come from ``core.arith``.
"""

from __future__ import annotations

from .core import arith
from .core.op import ConvOp

__all__ = ["rearranged_facts"]


def rearranged_facts(op: ConvOp, axis: int, facts: dict) -> dict:
    """``facts`` (explain's common numbers of one spatial axis) completed for a REARRANGED_KINDS op."""
    n, k, d, s = op.in_size[axis], op.kernel[axis], op.dilation[axis], op.stride[axis]
    lo, hi = op.pad_lo[axis], op.pad_hi[axis]
    out = facts["out"]
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
