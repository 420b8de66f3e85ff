"""jax.lax as the source of a translation (issue 12): ``Source.run`` executed in the jax worker equals
the oracle's own run of the call on the same arrays, and ``to_canonical`` + convarith's reference +
``from_canonical`` (NumPy only) equals it too."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from convarith.api import map_call
from convarith.reference import run_chain
from convarith.reference.adapters import Plan
from convarith.translate import jax_lax
from tests.differential import test_numerics_jax_lax, test_rearrange
from tests.differential.numerics import accepted, random

pytestmark = pytest.mark.differential
SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
CALLS = st.one_of(
    test_numerics_jax_lax.general_calls().map(lambda case: case[:2]),
    test_numerics_jax_lax.transpose_calls().map(lambda case: case[:2]),
    test_numerics_jax_lax.default_layout_calls().map(lambda case: case[:2]),
    test_rearrange.window_calls(),
)
CHECKED: Counter = Counter()


def source_agrees(oracle, expr: str, shapes: dict, seed: int) -> None:
    mapped = map_call(expr, shapes=shapes)
    try:
        convarith.forward(expr, arrays={k: np.zeros(s, np.float32) for k, s in shapes.items()})
    except convarith.ConvArithError:
        assume(False)  # numbers convarith does not model (a lax.add init other than 0)
    source = jax_lax.source(mapped)
    rng = np.random.default_rng(seed)
    arrays = {name: random(rng, shape) for name, shape in shapes.items()}
    assert source.signature == ", ".join(arrays), (source.signature, expr)
    theirs = oracle.run({"expr": expr, "arrays": arrays, "shapes": shapes, "values": True})
    where = f"{expr} on {shapes}\n  " + "\n  ".join(source.to_canonical + source.run + source.from_canonical)
    assert "values" in theirs, f"jax refused: {theirs.get('error') or theirs.get('crash')}\n  {where}"
    theirs = np.asarray(theirs["values"])
    run = oracle.run({"imports": list(source.run_imports), "lines": list(source.run), "names": arrays})
    assert "values" in run, f"the run lines failed: {run.get('error') or run.get('crash')}\n  {where}"
    assert run["shape"] == theirs.shape, where
    np.testing.assert_allclose(run["values"], theirs, rtol=1e-6, atol=1e-6, equal_nan=True, err_msg=where)
    names = {"np": np, **arrays}
    exec("\n".join(source.to_canonical), names)  # the library's own generated NumPy code
    y = run_chain(Plan(mapped, names["x"], names["params"]))[-1]
    names["y"] = y
    exec("\n".join(source.from_canonical), names)
    ours = names["y"]
    assert ours.shape == theirs.shape, f"to_canonical + reference + from_canonical gives {ours.shape}\n  {where}"
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-4, equal_nan=True, err_msg=where)
    CHECKED[mapped.call.base] += 1


@given(CALLS, st.integers(0, 2**32 - 1))
@SETTINGS
def test_source_run_and_canonical_steps_equal_jax(oracle, case, seed):
    expr, shapes = case
    assume(accepted(expr, shapes=shapes))
    source_agrees(oracle("jax_lax"), expr, shapes, seed)


CASES = [
    ("lax.conv_general_dilated(x, w, (1, 1), 'SAME', dimension_numbers=lax.conv_dimension_numbers(x.shape, "
     "w.shape, ('NHWC', 'HWIO', 'NHWC')))", {"x": (1, 5, 6, 3), "w": (3, 3, 3, 4)}),
    ("lax.conv_general_dilated(lhs, kernel, window_strides=(2,), padding='SAME_LOWER', "
     "dimension_numbers=('NHC', 'OIH', 'CHN'), feature_group_count=2)", {"lhs": (2, 7, 4), "kernel": (6, 2, 3)}),
    ("lax.conv_transpose(x, w, (2, 1), 'VALID', rhs_dilation=(1, 2), transpose_kernel=True)",
     {"x": (1, 5, 6, 3), "w": (3, 2, 4, 3)}),
    ("jax.lax.conv_transpose(x, w, [2], [(0, 3)], dimension_numbers=('NCH', 'IOH', 'NCH'), use_consistent_padding=True)",
     {"x": (2, 3, 5), "w": (3, 4, 3)}),
    ("lax.reduce_window(x, math.inf, jnp.minimum, (3,), (2,), 'SAME_LOWER', base_dilation=(2,))", {"x": (7,)}),
    ("lax.reduce_window(x, -1.0, lax.max, (2, 2, 1), (1, 2, 1), [(0, 0), (-1, 1), (1, 0)])", {"x": (2, 5, 4)}),
    ("lax.conv_general_dilated(x, w, (1,), [(0, 0)], batch_group_count=2)", {"x": (4, 3, 6), "w": (4, 3, 2)}),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "shapes"), CASES, ids=[case[0][:50] for case in CASES])
def test_named_cases(oracle, expr, shapes):
    source_agrees(oracle("jax_lax"), expr, shapes, 3)
