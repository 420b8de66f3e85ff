"""ONNX as the target of a translation: calls of all five source frameworks, mapped; the target body
run by onnxruntime in the onnx worker on random canonical x and params equals convarith's reference
engine on the same arrays (shapes equal, max |difference| <= 1e-4)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

from convarith import ConvArithError
from convarith.api import map_call
from convarith.reference import adapters, run_chain
from convarith.translate import onnx as onnx_translation
from tests.differential.translate_onnx_cases import COMPOSITES, SOURCES, TALLY

pytestmark = pytest.mark.differential
SETTINGS = settings(
    max_examples=int(os.environ.get("CONVARITH_TRANSLATE_EXAMPLES", "80")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
TOLERANCE = 1e-4


@pytest.fixture(scope="module", autouse=True)
def report(request):
    """The tally per source framework, printed after the module's tests."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not TALLY:
        return
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        reporter.section("translations to ONNX (onnxruntime) against convarith's reference")
        for (framework, outcome), count in sorted(TALLY.items()):
            reporter.write_line(f"{framework:8s} {count:5d} {outcome}")


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
