"""Compare convarith with a framework's answer, and tally agreement per framework."""

from __future__ import annotations

from collections import Counter

import convarith
from convarith import api

TALLY: Counter = Counter()


def agree(oracle, expr: str, input_shape=None, *, shapes=None, output_size=None) -> dict:
    """Assert convarith gives the framework's shape, or refuses where it refuses.

    Returns the framework's answer. A crash of the framework counts as a
    refusal that convarith must also make."""
    request = {"expr": expr, "input_shape": input_shape, "shapes": shapes, "output_size": output_size}
    answer = oracle.run(request)
    try:
        ours = convarith.output_shape(expr, input_shape, shapes=shapes, output_size=output_size)
        refusal = None
    except convarith.ConvArithError as exc:
        ours, refusal = None, str(exc)
    where = f"{expr} on input_shape={input_shape} shapes={shapes} output_size={output_size}"
    plan_agrees(expr, input_shape, shapes, output_size, ours, refusal, where)
    if "shape" in answer:
        assert refusal is None, (
            f"{oracle.framework} gives {answer['shape']} but convarith refused: {refusal}\n  {where}"
        )
        assert ours == tuple(answer["shape"]), (
            f"{oracle.framework} gives {answer['shape']}, convarith {ours}\n  {where}"
        )
        TALLY[oracle.framework, "shape"] += 1
        explanation_agrees(expr, input_shape, shapes, output_size, ours, where)
        TALLY[oracle.framework, "explained"] += 1
    else:
        said = answer.get("error") or answer.get("crash")
        assert refusal is not None, f"{oracle.framework} refuses ({said}) but convarith gives {ours}\n  {where}"
        TALLY[oracle.framework, "crash" if "crash" in answer else "refusal"] += 1
    return answer


def outcome(function):
    """(shape, None) or (None, refusal text) of ``function()``."""
    try:
        return function(), None
    except convarith.ConvArithError as exc:
        return None, str(exc)


def plan_agrees(expr, input_shape, shapes, output_size, ours, refusal, where) -> None:
    """The compiled plan's fast path (plan.shape) and its full mapping (plan.map, as
    map_call runs it) give the same shape or the same refusal, and output_shape is the fast path."""
    inputs = outcome(lambda: api.make_inputs(input_shape, shapes, output_size))[0]
    if inputs is None:
        fast = full = (None, refusal)  # the input itself is refused before any plan runs
    else:
        fast = outcome(lambda: api.plan_for(expr).shape(inputs))
        full = outcome(lambda: api.map_call(expr, input_shape, shapes=shapes, output_size=output_size))
        full = (None, full[1]) if full[0] is None else (full[0].output_shape, None)
    assert fast == full, f"plan.shape gives {fast}, plan.map {full}\n  {where}"
    assert fast == (ours, refusal), f"plan.shape gives {fast}, output_shape {(ours, refusal)}\n  {where}"


def spatial_positions(layout: str, rank: int, ndim: int) -> list[int]:
    """Where the spatial axes sit in an output of ``ndim`` dims, read from the
    layout text alone ('NHWC', 'NCW', or JAX's 'lhs .., rhs .., out ..'),
    counted from the end so that leading batch dims do not matter."""
    if layout.startswith("lhs "):
        _, rhs, out = (part.split()[1] for part in layout.split(", "))
        return [ndim - len(out) + out.index(letter) for letter in rhs if letter not in "OI"]
    if layout[1] == "C":
        return list(range(ndim - rank, ndim))
    return list(range(ndim - rank - 1, ndim - 1))


def input_name(expr: str, shapes: dict) -> str:
    """The tensor a functional call (or ONNX node) takes first: its first argument, else x or X."""
    head = expr[expr.index("(") + 1 :]
    if head.lstrip().startswith(("'", '"')):  # make_node('Op', ['X', ...], ...)
        head = head.split("[", 1)[1] if "[" in head else ""
    name = head.split(",")[0].split(")")[0].split("]")[0].strip().strip("'\"")
    return name if name in shapes else next(n for n in ("x", "X") if n in shapes)


def explanation_agrees(expr, input_shape, shapes, output_size, shape, where) -> None:
    """The explanation never contradicts the shape: same output shape, each axis's
    output size at its place in it, the input shown as given, str/to_dict work."""
    explanation = convarith.explain(expr, input_shape, shapes=shapes, output_size=output_size)
    data = explanation.to_dict()
    text = str(explanation)
    assert explanation.output_shape == shape and tuple(data["shape"]) == shape, (
        f"explain gives {data['shape']}\n  {where}"
    )
    given = input_shape
    if given is None:
        given = shapes[input_name(expr, shapes)]
    assert tuple(data["input_shape"]) == tuple(given), f"explain shows input {data['input_shape']}\n  {where}"
    assert f"input {tuple(given)} -> output {shape}" in text, f"header contradicts the shape:\n{text}\n  {where}"
    steps = data["steps"]
    for before, after in zip(steps, steps[1:]):
        assert [axis["out"] for axis in before["axes"]] == [axis["in"] for axis in after["axes"]], where
    last = steps[-1]["axes"]
    for position, axis in zip(spatial_positions(data["layout"], len(last), len(shape)), last, strict=True):
        assert shape[position] == axis["out"], f"{axis['axis']} out {axis['out']} but the shape {shape}\n  {where}"
