"""Explanation facts of the weightless layer ops: explicit padding/cropping and max unpooling
(``explain.axis_facts`` hands them over). Every number comes from ``core/arith.py``."""

from __future__ import annotations

from .core import arith
from .core.op import ConvOp

__all__ = ["LAYER_KINDS", "layer_facts"]

LAYER_KINDS = ("pad", "max_unpool")
LISTED = 6  # copied cells named per side
FILLS = {
    "reflect": "mirrored about the edge cell (the edge itself not repeated)",
    "replicate": "copies of the edge cell",
    "circular": "wrapped around from the other end",
}


def copied_text(op: ConvOp, axis: int) -> str:
    """Which input cells the padding of one axis repeats, e.g. 'before: cells 2, 1; after: cell 3'."""
    n, lo, hi = op.in_size[axis], op.pad_lo[axis], op.pad_hi[axis]
    if n <= 0 or lo < 0 or hi < 0:
        return ""  # a cropped side: circular wraps the cropped input, listed by forward() alone
    parts = []
    for side, positions in (("before", range(-lo, 0)), ("after", range(n, n + hi))):
        cells = [arith.copy_source(i, n, op.pad_mode) for i in positions[:LISTED]]  # a range slice: lazy
        if cells:
            more = ", ..." if len(positions) > LISTED else ""
            parts.append(f"{side}: input cell{'s' if len(cells) > 1 else ''} {', '.join(map(str, cells))}{more}")
    return "; ".join(parts)


def layer_facts(op: ConvOp, axis: int, facts: dict) -> dict:
    """``facts`` (the common per-axis numbers) completed for a pad or max_unpool op."""
    n, s, lo, hi = op.in_size[axis], op.stride[axis], op.pad_lo[axis], op.pad_hi[axis]
    if op.kind == "max_unpool":
        extra = op.output_padding[axis]
        facts["output_padding"] = extra
        default = arith.transpose_out(n, op.kernel[axis], s, lo, hi, 0)
        facts["formula"] = arith.transpose_out_text(n, op.kernel[axis], 1, s, lo, hi, extra) + (
            f" (the transposed-conv size (n-1)*s - 2p + k; output_size moves it by {extra:+d} from {default})"
            if extra
            else " (the transposed-conv size (n-1)*s - 2p + k)"
        )
        facts["fill"] = "each input value goes to the flat output position its index names; every other cell is 0"
        return facts
    facts["formula"] = f"{arith.pad_out_text(n, lo, hi)} (n + before + after: the conv size with kernel 1, stride 1)"
    from .explain import CROPPED, cells_facts

    facts["unreached"] = cells_facts(arith.pad_unread(n, lo, hi, op.pad_mode), CROPPED)
    if op.pad_mode == "zeros":
        facts["fill"] = f"padded cells hold {op.pad_value:g}" if lo > 0 or hi > 0 else "cropping only"
    else:
        copied = copied_text(op, axis)
        facts["fill"] = f"{op.pad_mode}: padded cells are {FILLS[op.pad_mode]}" + (f" ({copied})" if copied else "")
    return facts
