"""What each JSON endpoint answers, as plain functions of the query (no web library here):
``(status, content_type, body)`` with ``body`` a dict (sent as JSON) or text.

Every library refusal is a 400 with the library's own message; nothing in a request is
evaluated (the call goes through the library's whitelisted parser).
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from ..api import explain, map_call
from ..cli import parse_named, parse_sizes
from ..errors import ConvArithError
from . import knobs

__all__ = ["MAX_BODY", "MAX_EXPR", "MAX_QUERY", "cell", "draw", "edit", "shape"]

MAX_EXPR = 2000  # characters in a call
MAX_QUERY = 8192  # characters in a query string
MAX_BODY = 1 << 20  # bytes in an uploaded input (.npy)
FORMATS = {"svg": "image/svg+xml", "ascii": "text/plain; charset=utf-8"}


def bad_request(message: str) -> tuple[int, str, dict]:
    return 400, "application/json", {"error": " ".join(message.split())}


def call_arguments(query: dict) -> tuple[str, dict]:
    """The call and its output_shape keyword arguments from ``expr``, ``input``, ``shapes``
    (``x=1,3,8,8;w=8,3,3,3``) and ``output_size``."""
    expr = query.get("expr", "")
    if not expr.strip():
        raise ConvArithError("expr is empty. Rule: the page needs a call. Fix: type one, e.g. nn.Conv2d(3, 8, 3).")
    if len(expr) > MAX_EXPR:
        raise ConvArithError(
            f"expr is {len(expr)} characters long. Rule: a call holds at most {MAX_EXPR} characters here. "
            "Fix: a shorter call."
        )
    given = {
        "input_shape": parse_sizes(query["input"], "input", batch_none=True)
        if query.get("input", "").strip()
        else None,
        "shapes": parse_named([item for item in query.get("shapes", "").split(";") if item.strip()]),
        "output_size": parse_sizes(query["output_size"], "output_size")
        if query.get("output_size", "").strip()
        else None,
    }
    return expr, given


def refused(function):
    """A handler whose ConvArithError becomes a 400 with the library's message."""

    def handle(query: dict, *args):
        try:
            return function(query, *args)
        except ConvArithError as exc:
            return bad_request(str(exc))

    handle.__doc__ = function.__doc__
    handle.__name__ = function.__name__
    return handle


@refused
def shape(query: dict) -> tuple[int, str, dict]:
    """The shape, the explanation (as data and as text), the call's number fields and the
    same call in each framework (``compare``: calls, shape or refusal, padding per side)."""
    from ..translate import compare

    expr, given = call_arguments(query)
    explanation = explain(expr, **given)
    mapped = map_call(expr, **given)
    return (
        200,
        "application/json",
        {
            "shape": list(explanation.output_shape),
            "explanation": explanation.to_dict(),
            "text": str(explanation),
            "framework": mapped.framework,
            "knobs": knobs.knobs(mapped),
            "compare": compare(expr, **given).to_dict()["frameworks"],
        },
    )


@refused
def draw(query: dict) -> tuple[int, str, str]:
    """The picture: ``fmt`` svg (default) or ascii, ``at`` the output cell, ``view`` for transposed ops."""
    from ..render import draw as render

    expr, given = call_arguments(query)
    fmt = query.get("fmt", "svg")
    if fmt not in FORMATS:
        raise ConvArithError(f"fmt={fmt!r} is not served. Rule: the page draws svg or ascii. Fix: fmt=svg.")
    options = {"fmt": fmt}
    if query.get("at", "").strip():
        options["at"] = drawn_cell(
            map_call(expr, **given), parse_sizes(query["at"], "at"), query.get("view", "forward")
        )
    if query.get("view", "").strip():
        options["view"] = query["view"]
    return 200, FORMATS[fmt], render(expr, **given, **options)


@refused
def edit(query: dict) -> tuple[int, str, dict]:
    """The call with argument ``name`` set to ``value``, and its new shape."""
    expr, given = call_arguments(query)
    mapped = map_call(expr, **given)
    return 200, "application/json", {"expr": knobs.edit(expr, mapped, query.get("name", ""), query.get("value", ""))}


@refused
def cell(query: dict, upload: bytes | None = None) -> tuple[int, str, dict]:
    """The worksheet of one output cell: ``at`` its position in the drawn output grid (rows,
    columns of the first two spatial axes; ``channel``, default 0). ``values``: ``positions``
    (the input cells and kernel taps only), ``random`` (seeded by ``seed``) or the uploaded
    input (a .npy body, in the framework's layout; the weights are random)."""
    from ..reference.adapters import random_plan
    from ..reference.worksheet import worksheet_of

    expr, given = call_arguments(query)
    mapped = map_call(expr, **given)
    at = drawn_cell(mapped, parse_sizes(query.get("at", "0"), "at"), query.get("view", "forward"))
    index = output_index(mapped, at, int_field(query, "channel"))
    x = None if upload is None else read_upload(upload)
    sheet = worksheet_of(random_plan(mapped, int_field(query, "seed"), x), index, 64 << 20, expr)
    values = query.get("values", "positions" if upload is None else "upload")
    data = sheet.to_dict()
    if values == "positions":
        for term in data["terms"]:
            for key in ("input_value", "weight_value", "product"):
                term.pop(key)
        for key in ("sum", "bias", "divisor", "value", "forward_value", "agrees"):
            data.pop(key)
    return (
        200,
        "application/json",
        {"index": list(index), "worksheet": data, "text": "" if values == "positions" else str(sheet)},
    )


def int_field(query: dict, name: str) -> int:
    text = query.get(name, "0").strip() or "0"
    if not text.isdigit() or len(text) > 9:
        raise ConvArithError(f"{name}={text!r} is not a small int. Rule: {name} is a count. Fix: {name}=0.")
    return int(text)


def drawn_cell(mapped, at: tuple[int, ...], view: str) -> tuple[int, ...]:
    """The output position of the drawn output cell ``at`` (its data-r, data-c). A 1-D drawing
    is one row (its cells say row 0); a grid that shows the cut padding too (the scatter view,
    fold, max_unpool) starts pad_lo cells before the output."""
    op = mapped.ops[-1]
    if op.rank == 1 and len(at) == 2 and at[0] == 0:
        at = at[1:]
    if (view == "scatter" and op.kind == "conv_transpose") or op.kind in ("fold", "max_unpool"):
        at = tuple(position - cut for position, cut in zip(at, op.pad_lo))
    return at


def output_index(mapped, at: tuple[int, ...], channel: int) -> tuple[int, ...]:
    """The full output index of output position ``at`` (first spatial axes; the others 0), batch 0."""
    op = mapped.ops[-1]
    spatial = [0] * op.rank
    if len(at) > op.rank:
        raise ConvArithError(
            f"at={at} has {len(at)} entries. Rule: one per drawn spatial axis ({op.rank} here). Fix: at=0,0."
        )
    spatial[: len(at)] = at
    index = [0] * len(op.out_spec)
    index[op.out_spec[1]] = channel
    for axis, position in zip(op.out_spec[2:], spatial):
        index[axis] = position
    if mapped.squeeze_batch:
        del index[op.out_spec[0]]
    return tuple(index)


def read_upload(body: bytes):
    """An uploaded .npy input, read with the library's bounded loader."""
    from ..reference.files import load_array

    handle, path = tempfile.mkstemp(suffix=".npy")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(body)
        return load_array(path, "the uploaded input", MAX_BODY * 2)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
