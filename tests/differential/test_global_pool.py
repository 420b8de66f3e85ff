"""Global pooling: Keras GlobalAverage/MaxPooling1D-3D (keepdims, both layouts), ONNX GlobalAveragePool,
GlobalMaxPool and GlobalLpPool (p), torch adaptive pools to 1: shapes, refusals and numbers against
the real frameworks. About half the cases break one thing (a wrong rank, an empty axis, ...)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from tests.differential.compare import TALLY, agree, plan_agrees
from tests.differential.numerics import accepted, random, values_agree

pytestmark = pytest.mark.differential
SHAPES = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NUMBERS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
BROKEN = st.integers(0, 99).map(lambda roll: roll < 40)


def agree_dropped(oracle, expr: str, input_shape) -> None:
    """``compare.agree`` for a global pool with keepdims=False, whose output has no spatial axes (agree's
    explanation check places each axis's size in the output): the same shape or refusal, plan.shape ==
    plan.map, and an explanation of the same shape whose every axis gives 1."""
    answer = oracle.run({"expr": expr, "input_shape": input_shape, "shapes": None, "output_size": None})
    try:
        ours, refusal = convarith.output_shape(expr, input_shape), None
    except convarith.ConvArithError as exc:
        ours, refusal = None, str(exc)
    where = f"{expr} on input_shape={input_shape}"
    plan_agrees(expr, input_shape, None, None, ours, refusal, where)
    if "shape" not in answer:
        assert refusal is not None, (
            f"{oracle.framework} refuses ({answer.get('error')}) but convarith gives {ours}\n  {where}"
        )
        TALLY[oracle.framework, "refusal"] += 1
        return
    assert ours == tuple(answer["shape"]), (
        f"{oracle.framework} gives {answer['shape']}, convarith {ours} ({refusal})\n  {where}"
    )
    TALLY[oracle.framework, "shape"] += 1
    data = convarith.explain(expr, input_shape).to_dict()
    assert tuple(data["shape"]) == ours and tuple(data["input_shape"]) == tuple(input_shape), where
    assert [axis["out"] for axis in data["steps"][-1]["axes"]] == [1] * (len(input_shape) - 2), where
    TALLY[oracle.framework, "explained"] += 1


@st.composite
def keras_globals(draw, numbers: bool = False):
    rank = draw(st.integers(1, 3))
    broken = not numbers and draw(BROKEN)
    kind = draw(st.sampled_from(["GlobalAveragePooling", "GlobalMaxPooling"]))
    first = draw(st.sampled_from([None, "channels_last", "channels_first", "CHANNELS_FIRST"]))
    keepdims = draw(st.sampled_from([None, True, False, 1]))
    args = [] if first is None else [f"data_format={first!r}"]
    if keepdims is not None:
        args.append(f"keepdims={keepdims!r}")
    spatial = [draw(st.integers(0 if broken else 1, 5)) for _ in range(rank)]
    channels = draw(st.integers(1 if not broken else 0, 3))
    batch = draw(st.sampled_from([1, 2] if numbers else [1, 2, 0]))
    channels_first = first is not None and first.lower() == "channels_first"
    shape = [batch, channels, *spatial] if channels_first else [batch, *spatial, channels]
    if broken and draw(st.booleans()):
        shape = shape[1:]  # the wrong rank
    prefix = draw(st.sampled_from(["layers.", "keras.layers.", "tf.keras.layers."]))
    return f"{prefix}{kind}{rank}D({', '.join(args)})", tuple(shape), bool(keepdims)


@given(keras_globals())
@SHAPES
def test_keras_global_shapes(oracle, case):
    expr, shape, keepdims = case
    (agree if keepdims else agree_dropped)(oracle("keras"), expr, shape)


@given(keras_globals(numbers=True), st.integers(0, 2**32 - 1))
@NUMBERS
def test_keras_global_numbers(oracle, case, seed):
    expr, shape, _ = case
    assume(accepted(expr, shape))
    values_agree(oracle("keras"), expr, random(np.random.default_rng(seed), shape), [])


@st.composite
def onnx_globals(draw, numbers: bool = False):
    broken = not numbers and draw(BROKEN)
    op_type = draw(st.sampled_from(["GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"]))
    rank = draw(st.integers(0 if broken else 1, 4 if broken else 3))
    shape = [draw(st.sampled_from([1, 2] if numbers else [1, 2, 0])), draw(st.integers(0 if broken else 1, 3))]
    shape += [draw(st.integers(0 if broken else 1, 5)) for _ in range(rank)]
    keywords = ""
    if op_type == "GlobalLpPool" and draw(st.booleans()):
        keywords = f", p={draw(st.sampled_from([1, 2, 3, 0, -1] if not numbers else [1, 2, 3]))}"
    elif broken and draw(st.integers(0, 3)) == 0:
        keywords = ", kernel_shape=[2]"
    return f"helper.make_node({op_type!r}, ['X'], ['Y']{keywords})", {"X": tuple(shape)}


@given(onnx_globals())
@SHAPES
def test_onnx_global_shapes(oracle, case):
    expr, shapes = case
    agree(oracle("onnx"), expr, shapes=shapes)


@given(onnx_globals(numbers=True), st.integers(0, 2**32 - 1))
@NUMBERS
def test_onnx_global_numbers(oracle, case, seed):
    expr, shapes = case
    assume(accepted(expr, shapes=shapes))
    values_agree(oracle("onnx"), expr, arrays={"X": random(np.random.default_rng(seed), shapes["X"])})


@st.composite
def torch_globals(draw):
    rank = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["AdaptiveAvgPool", "AdaptiveMaxPool"]))
    size = draw(st.sampled_from([1, (1,) * rank, 1]))
    shape = [draw(st.sampled_from([1, 2])), draw(st.integers(1, 3))] + [draw(st.integers(1, 6)) for _ in range(rank)]
    return f"nn.{kind}{rank}d({size!r})", tuple(shape[draw(st.integers(0, 1)) :])


@given(torch_globals(), st.integers(0, 2**32 - 1))
@NUMBERS
def test_torch_adaptive_to_one(oracle, case, seed):
    """Adaptive pooling to 1 is a global pool: shapes, numbers, and the explanation says so."""
    expr, shape = case
    agree(oracle("torch"), expr, shape)
    values_agree(oracle("torch"), expr, random(np.random.default_rng(seed), shape), [])
    assert "global pool" in str(convarith.explain(expr, shape))
