"""tf.nn as the source of a translation: the ``run`` lines, executed in the tf_nn worker, give what the oracle's own
run of the call gives on the same arrays; ``to_canonical`` + the reference engine + ``from_canonical`` give it too."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convarith.api import map_call
from convarith.reference import adapters, run_chain
from convarith.translate import tf_nn
from tests.differential import test_numerics_tf_nn as tf_calls
from tests.differential.numerics import ATOL, MAX_DIFF, NUMERIC_TALLY, RTOL, accepted, random

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

CALLS = [
    ("tf.nn.separable_conv2d(x, dw, pw, strides=[1, 2, 2, 1], padding='SAME')",
     {"x": (2, 7, 6, 3), "dw": (3, 2, 3, 2), "pw": (1, 1, 6, 4)}),
    ("tf.nn.separable_conv2d(x, dw, pw, [1, 1, 1, 1], 'VALID', dilations=[2, 2])",
     {"x": (1, 8, 7, 2), "dw": (2, 3, 2, 1), "pw": (1, 1, 2, 3)}),
    ("tf.nn.depth_to_space(x, 2)", {"x": (2, 3, 4, 8)}),
    ("tf.nn.space_to_depth(x, block_size=3)", {"x": (1, 6, 9, 2)}),
    ("tf.nn.atrous_conv2d(value, filters, rate=2, padding='SAME')", {"value": (1, 7, 8, 2), "filters": (3, 3, 2, 4)}),
    ("tf.nn.max_pool_with_argmax(x, 3, 2, 'SAME')", {"x": (1, 7, 8, 3)}),
    ("tf.image.resize(images, (5, 9), method='bicubic', antialias=True)", {"images": (4, 7, 2)}),
    ("tf.image.resize(images, [9, 4], 'nearest')", {"images": (2, 3, 5, 1)}),
    ("tf.nn.conv2d(x, w, 1, [[0, 0], [2, 0], [1, 3], [0, 0]])", {"x": (2, 2, 5, 6, 3), "w": (3, 2, 3, 2)}),
    ("tf.nn.conv3d(x, w, [1, 3, 1, 4, 1], 'SAME')", {"x": (1, 3, 4, 7, 2), "w": (1, 2, 1, 2, 3)}),  # not clamped
    ("tf.nn.convolution(x, w, [1, 3, 4], 'SAME')", {"x": (1, 3, 5, 7, 1), "w": (1, 1, 1, 1, 2)}),
    ("tf.nn.conv2d_transpose(x, w, [1, 10, 9, 2], 2, [[0, 0], [1, 1], [0, 2], [0, 0]])",
     {"x": (1, 5, 5, 3), "w": (3, 3, 2, 3)}),
    ("tf.nn.conv_transpose(x, w, [2, 11, 3], [3], 'VALID')", {"x": (2, 3, 4), "w": (3, 3, 4)}),
    ("tf.nn.max_pool2d(x, [3, 2], [2, 1], [[0, 0], [1, 2], [0, 1], [0, 0]])", {"x": (1, 6, 5, 2)}),
    ("tf.nn.pool(x, [2, 2], 'AVG', padding='VALID', dilations=[2, 1])", {"x": (1, 7, 6, 2)}),
    ("tf.nn.avg_pool3d(x, 2, 3, 'SAME')", {"x": (1, 7, 5, 4, 2)}),
]  # fmt: skip


def source_agrees(oracle, expr: str, shapes: dict, seed: int) -> None:
    """``run`` in the worker equals the oracle's own run; the source steps around the reference equal it too."""
    mapped = map_call(expr, shapes=shapes)
    source = tf_nn.source(mapped)
    assert sorted(source.signature.split(", ")) == sorted(shapes), source.signature
    rng = np.random.default_rng(seed)
    arrays = {name: random(rng, shape) for name, shape in shapes.items()}
    theirs = oracle.run({"expr": expr, "arrays": arrays, "values": True})
    ran = oracle.run({"run": source.run, "imports": source.run_imports, "arrays": arrays})
    where = f"{expr} on {shapes}\n" + "\n".join(source.run)
    assert "values" in theirs and "values" in ran, f"{theirs.get('error')} / {ran.get('error')}\n{where}"
    expected = np.asarray(theirs["values"])
    np.testing.assert_array_equal(np.asarray(ran["values"]), expected, err_msg=where)
    scope = {"np": np, **arrays}
    exec("\n".join(source.to_canonical), scope)  # code the library wrote: NumPy only
    plan = adapters.prepare(expr, arrays=arrays)
    np.testing.assert_array_equal(scope["x"], plan.x, err_msg=where)
    for (w, b), (w_ref, b_ref) in zip(scope["params"], plan.params, strict=True):
        assert (w is None) == (w_ref is None) and b is None and b_ref is None, where
        if w is not None:
            np.testing.assert_array_equal(w, w_ref, err_msg=where)
    scope["y"] = run_chain(adapters.Plan(mapped, scope["x"], scope["params"]))[-1]
    exec("\n".join(source.from_canonical), scope)
    ours = np.asarray(scope["y"])
    assert ours.shape == expected.shape, f"{ours.shape} != {expected.shape}\n{where}"
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=where)
    NUMERIC_TALLY["tf>source"] += 1
    if expected.size:
        MAX_DIFF["tf>source"] = max(MAX_DIFF.get("tf>source", 0.0), float(np.abs(ours - expected).max()))


@given(st.one_of(tf_calls.conv_calls().map(lambda c: c[:2]), tf_calls.pool_calls()), st.integers(0, 2**32 - 1))
@SETTINGS
def test_generated_calls(oracle, case, seed):
    expr, shapes = case
    assume(accepted(expr, shapes=shapes))
    source_agrees(oracle("tf_nn"), expr, shapes, seed)


@pytest.mark.parametrize(("expr", "shapes"), CALLS)
def test_calls(oracle, expr, shapes):
    source_agrees(oracle("tf_nn"), expr, shapes, 7)
