"""Compare convarith.forward's numbers with a framework's, and tally per framework."""

from __future__ import annotations

from collections import Counter

import numpy as np

import convarith

NUMERIC_TALLY: Counter = Counter()
NAN_CASES: Counter = Counter()
MAX_DIFF: dict = {}
RTOL = ATOL = 2e-5


def accepted(expr: str, input_shape=None, shapes=None) -> bool:
    """Whether convarith accepts the call (numeric tests only draw accepted calls)."""
    try:
        convarith.output_shape(expr, input_shape, shapes=shapes)
    except convarith.ConvArithError:
        return False
    return True


def random(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.standard_normal(tuple(shape)).astype(np.float32)


def values_agree(oracle, expr: str, x=None, weights=None, *, arrays=None, output_size=None, request=None) -> np.ndarray:
    """Assert convarith.forward equals the framework's output at float32 tolerance.

    Layers: ``x`` and ``weights``; functions: ``arrays``. ``request`` adds
    runner-specific keys. Returns convarith's result."""
    message = {
        "expr": expr,
        "input_shape": None if x is None else tuple(np.shape(x)),
        "arrays": dict(arrays) if arrays is not None else {"input": x},
        "weights": weights,
        "output_size": output_size,
        "values": True,
        **(request or {}),
    }
    if arrays is not None:
        message["shapes"] = {k: tuple(np.shape(v)) for k, v in arrays.items()}
    answer = oracle.run(message)
    where = f"{expr} on x={message['input_shape']} arrays={message.get('shapes')} output_size={output_size}"
    assert "values" in answer, (
        f"{oracle.framework} gave no values ({answer.get('error') or answer.get('crash')})\n  {where}"
    )
    if arrays is not None:
        ours = convarith.forward(expr, arrays=arrays, output_size=output_size)
    else:
        ours = convarith.forward(expr, x, weights, output_size=output_size)
    theirs = np.asarray(answer["values"])
    assert ours.shape == theirs.shape, (
        f"{oracle.framework} gives shape {theirs.shape}, convarith {ours.shape}\n  {where}"
    )
    assert ours.dtype == np.float32, f"convarith returned {ours.dtype} for float32 inputs\n  {where}"
    nan = np.isnan(theirs)
    assert np.array_equal(np.isnan(ours), nan), f"NaN positions differ from {oracle.framework}'s\n  {where}"
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=where)
    NUMERIC_TALLY[oracle.framework] += 1
    NAN_CASES[oracle.framework] += bool(nan.any())
    finite = np.isfinite(theirs)  # NaN and +-inf positions are compared exactly above
    if finite.any():
        diff = float(np.abs(ours[finite] - theirs[finite]).max())
        MAX_DIFF[oracle.framework] = max(MAX_DIFF.get(oracle.framework, 0.0), diff)
    return ours
