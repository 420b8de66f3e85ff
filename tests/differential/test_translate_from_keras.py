"""Keras as the source of a translation: the Source's ``run`` lines, run in the Keras worker, give
what the Keras oracle gives for the call on the same arrays; and ``to_canonical`` + the reference
engine + ``from_canonical`` (+ the layer's activation) give it too."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from convarith.api import map_call
from convarith.reference import activations, run_chain
from convarith.reference.adapters import Plan, keras_bias_on_last_axis
from convarith.translate import keras as translate_keras
from tests.differential import translate_checks as checks
from tests.differential.test_global_pool import keras_globals
from tests.differential.test_numerics_keras import BIAS_ON_LAST_AXIS, conv_layers, pool_layers
from tests.differential.test_padding import keras_pads
from tests.differential.test_resize import keras_calls

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

layers = st.one_of(
    conv_layers(),
    pool_layers().map(lambda case: (*case, [], 0)),
    keras_pads().map(lambda case: (*case, [], 0)),
    keras_globals(numbers=True).map(lambda case: (*case[:2], [], 0)),
    keras_calls(numeric=True).map(lambda case: (*case, [], 0)),
)


@pytest.fixture(scope="module", autouse=True)
def tally(request):
    yield
    checks.report(request, "Keras as the source: run lines and to/from_canonical == the Keras oracle")


def source_agrees(oracle, expr: str, shape, weight_shapes, seed: int) -> None:
    mapped = map_call(expr, tuple(shape))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(tuple(shape)).astype(np.float32)
    weights = [rng.standard_normal(s).astype(np.float32) for s in weight_shapes]
    source = translate_keras.source(mapped)
    keras = oracle("keras")
    theirs = keras.run({"expr": expr, "arrays": {"input": x}, "weights": weights or None, "values": True})
    assert "values" in theirs, f"{expr}: the oracle failed: {theirs.get('error')}"
    theirs = np.asarray(theirs["values"])
    ran = keras.run({"translation": True, "imports": list(source.run_imports), "lines": list(source.run),
                     "x": x, "weights": weights or None})  # fmt: skip
    assert "values" in ran, f"{expr}: the run lines failed: {ran.get('error')}\n" + "\n".join(source.run)
    np.testing.assert_allclose(ran["values"], theirs, rtol=1e-6, atol=1e-6, err_msg=expr)
    scope = {"np": np, "x": x, "weights": weights}
    exec("\n".join(source.to_canonical), scope)  # test: the NumPy lines convarith generated
    y = run_chain(Plan(mapped, scope["x"], scope["params"]))[-1]
    scope["y"] = y
    exec("\n".join(source.from_canonical), scope)
    checks.agree("keras", expr, activations.apply(mapped.activation, scope["y"]), theirs)


@given(layers)
@SETTINGS
def test_keras_source_lines(oracle, case):
    expr, shape, weight_shapes, seed = case
    try:
        mapped = map_call(expr, tuple(shape))
        translate_keras.source(mapped)
        convarith.forward(expr, np.zeros(shape, np.float32), [np.zeros(s, np.float32) for s in weight_shapes])
    except convarith.ConvArithError:
        assume(False)
    source_agrees(oracle, expr, shape, weight_shapes, seed)


@pytest.mark.parametrize(("expr", "shape", "weight_shapes"), BIAS_ON_LAST_AXIS)
def test_bias_on_the_last_axis_is_added_back(oracle, expr, shape, weight_shapes):
    mapped = map_call(expr, shape)
    source = translate_keras.source(mapped)
    assert ("y = y + last_axis_bias" in source.from_canonical) == keras_bias_on_last_axis(mapped)
    source_agrees(oracle, expr, shape, weight_shapes, len(shape))
