"""ONNX as the target of a translation: calls of all five source frameworks, mapped; the target body
run by onnxruntime in the onnx worker on random canonical x and params equals convarith's reference
engine on the same arrays (shapes equal, max |difference| <= 1e-4)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convarith import ConvArithError
from convarith.api import map_call
from convarith.reference import adapters, run_chain
from convarith.translate import onnx as onnx_translation
from tests.differential import test_onnx_unpool, test_unpool
from tests.differential.translate_onnx_cases import COMPOSITES, SOURCES, TALLY, report  # noqa: F401 - report: the tally

pytestmark = pytest.mark.differential
SETTINGS = settings(
    max_examples=int(os.environ.get("CONVARITH_TRANSLATE_EXAMPLES", "80")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
TOLERANCE = 1e-4


def mapped_or_none(expr, input_shape, shapes, output_size):
    try:
        return map_call(expr, input_shape, shapes=shapes, output_size=output_size)
    except ConvArithError:
        return None


def translated_agrees(oracle, mapped, seed: int = 0) -> None:
    """The target body run by onnxruntime equals the reference (in the source layout), or a refusal
    that says why, with a rule and a fix."""
    source = mapped.framework_id
    try:
        target = onnx_translation.target(mapped)
    except ConvArithError as exc:
        text = str(exc)
        assert "Rule:" in text and "Fix:" in text, text
        TALLY[source, "refused: " + text.split(". Rule:")[0].split(": ", 1)[-1][:70]] += 1
        if os.environ.get("CONVARITH_TRANSLATE_SHOW"):
            print("REFUSED", mapped.call, mapped.given_input_shape, text)
        return
    try:
        plan = adapters.random_plan(mapped, seed)
    except ConvArithError:
        assume(False)
    expected = adapters.finish(plan, run_chain(plan)[-1])
    answer = oracle.run(
        {"imports": list(target.imports), "lines": list(target.body), "variables": {"x": plan.x, "params": plan.params}}
    )
    where = f"{mapped.call.text if hasattr(mapped.call, 'text') else mapped.call}\n" + "\n".join(target.body)
    assert "values" in answer, (
        f"onnxruntime refused the translation: {answer.get('error') or answer.get('crash')}\n{where}"
    )
    got = adapters.finish(plan, np.asarray(answer["values"]), activate=False)
    assert got.shape == expected.shape, f"shape {got.shape}, reference {expected.shape}\n{where}"
    assert np.array_equal(np.isnan(got), np.isnan(expected)), f"NaN positions differ\n{where}"
    finite = np.isfinite(expected)
    assert np.array_equal(got[~finite & ~np.isnan(expected)], expected[~finite & ~np.isnan(expected)]), where
    if finite.any():
        diff = float(np.abs(got[finite] - expected[finite]).max())
        assert diff <= TOLERANCE, f"max |difference| {diff:.2e}\n{where}"
    TALLY[source, "agreed"] += 1


@pytest.mark.parametrize("framework", sorted(SOURCES))
def test_generated_calls(oracle, framework):
    worker = oracle("onnx")

    @given(SOURCES[framework])
    @SETTINGS
    def check(case):
        mapped = mapped_or_none(*case)
        assume(mapped is not None)
        translated_agrees(worker, mapped, seed=len(case[0]))

    check()


@pytest.mark.parametrize("case", COMPOSITES, ids=[case[0][:60] for case in COMPOSITES])
def test_composites(oracle, case):
    mapped = map_call(case[0], case[1], shapes=case[2], output_size=case[3])
    onnx_translation.target(mapped)  # every composite case translates (no refusal)
    translated_agrees(oracle("onnx"), mapped, seed=3)


@given(test_unpool.unpools(numbers=True), st.integers(0, 2**32 - 1))
@SETTINGS
def test_max_unpool(oracle, case, seed):
    """MaxUnpool: distinct indices per (batch, channel) plane (what a max pool returns), torch's per-plane
    flat positions made whole-tensor ones for onnxruntime."""
    expr, shape, output_size, functional = case
    shapes = {"x": shape, "idx": shape} if functional else None
    try:
        mapped = map_call(expr, None if functional else shape, shapes=shapes, output_size=output_size)
    except ConvArithError:
        assume(False)
    op = mapped.ops[0]
    rng = np.random.default_rng(seed)
    cells, plane = int(np.prod(op.in_size)), int(np.prod(onnx_translation.out_shape(op)[2:]))
    assume(0 < cells <= plane)
    x = rng.standard_normal((op.batch, op.in_channels, *op.in_size)).astype(np.float32)
    indices = np.stack([rng.permutation(plane)[:cells] for _ in range(op.batch * op.in_channels)])
    plan = adapters.Plan(mapped, x, [(indices.reshape(x.shape).astype(np.int64), None)])
    expected = run_chain(plan)[-1]
    target = onnx_translation.target(mapped)
    answer = oracle("onnx").run(
        {"imports": list(target.imports), "lines": list(target.body), "variables": {"x": x, "params": plan.params}}
    )
    assert "values" in answer, f"{answer.get('error') or answer.get('crash')}\n" + "\n".join(target.body)
    np.testing.assert_array_equal(np.asarray(answer["values"]), expected, err_msg=expr)
    TALLY["torch", "agreed (MaxUnpool)"] += 1


@given(test_onnx_unpool.unpool_nodes(numbers=True), st.integers(0, 2**32 - 1))
@SETTINGS
def test_onnx_max_unpool(oracle, case, seed):
    """An ONNX MaxUnpool (its output_shape moving the size both ways) translated back to ONNX."""
    from tests.differential.test_translate_from_onnx import unpool_indices

    try:
        mapped = map_call(case[0], shapes=case[1])
    except ConvArithError:
        assume(False)
    op = mapped.ops[0]
    rng = np.random.default_rng(seed)
    indices = unpool_indices(rng, op)
    assume(indices is not None)
    x = rng.standard_normal((op.batch, op.in_channels, *op.in_size)).astype(np.float32)
    plan = adapters.Plan(mapped, x, adapters.onnx_params(mapped, None, {"X": x, "I": indices}))
    expected = run_chain(plan)[-1]
    target = onnx_translation.target(mapped)
    answer = oracle("onnx").run(
        {"imports": list(target.imports), "lines": list(target.body), "variables": {"x": x, "params": plan.params}}
    )
    assert "values" in answer, f"{answer.get('error') or answer.get('crash')}\n" + "\n".join(target.body)
    np.testing.assert_array_equal(np.asarray(answer["values"]), expected, err_msg=case[0])
    TALLY["onnx", "agreed (MaxUnpool)"] += 1
