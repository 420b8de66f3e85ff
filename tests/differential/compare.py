"""Compare convarith with a framework's answer, and tally agreement per framework."""

from __future__ import annotations

from collections import Counter

import convarith

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
    if "shape" in answer:
        assert refusal is None, (
            f"{oracle.framework} gives {answer['shape']} but convarith refused: {refusal}\n  {where}"
        )
        assert ours == tuple(answer["shape"]), (
            f"{oracle.framework} gives {answer['shape']}, convarith {ours}\n  {where}"
        )
        TALLY[oracle.framework, "shape"] += 1
    else:
        said = answer.get("error") or answer.get("crash")
        assert refusal is not None, f"{oracle.framework} refuses ({said}) but convarith gives {ours}\n  {where}"
        TALLY[oracle.framework, "crash" if "crash" in answer else "refusal"] += 1
    return answer
