"""Translations end to end: hypothesis-generated calls of every source framework, translated into every
framework (20 directions and the identity). The source framework's own call (``Translation.source_code``)
runs in the SOURCE framework's worker and ``Translation.code`` in the TARGET framework's worker, on the
same arrays in the source layout: the outputs must have the same shape (the library's too) and differ
by at most 1e-4. A refusal must say its rule and fix; refusals are tallied per direction, beside the
agreements, and printed at the end of the run."""

from __future__ import annotations

import ast
import os
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from convarith.translate import TARGETS
from convarith.translate.code import weight_shapes
from tests.differential import (
    test_numerics_jax_lax,
    test_numerics_keras,
    test_numerics_onnx,
    test_numerics_tf_nn,
    test_numerics_torch,
)
from tests.differential.numerics import accepted
from tests.differential.oracle import FRAMEWORKS

pytestmark = pytest.mark.differential
TOLERANCE = 1e-4
EXAMPLES = int(os.environ.get("CONVARITH_TRANSLATE_EXAMPLES", "12"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
TRANSLATED: Counter = Counter()  # (source, target, "agreed" | "refused")
LARGEST: dict = {}  # (source, target) -> max |difference| seen
REFUSALS: dict = {}  # (source, target) -> Counter of refusal texts (their first sentence)
IMPORTED = {
    "torch": {"torch"},
    "keras": {"keras"},
    "tf_nn": {"tensorflow"},
    "jax_lax": {"jax"},
    "onnx": {"onnx", "onnxruntime"},
}
SEED_INPUT = (1, 96, 128, 3)
SEED_CALLS = [
    f"keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides={s}, padding={p!r})"
    for p, s in (("valid", 1), ("valid", 2), ("same", 1), ("same", 2), ("same", 3))
]


def layer(strategy):
    """A layer/module generator's (expr, shape, ...) as (expr, input_shape, shapes, output_size)."""

    def case(drawn):
        output_size = drawn[3] if len(drawn) == 5 else None
        return drawn[0], tuple(drawn[1]), None, None if output_size is None else tuple(output_size)

    return strategy.map(case)


def function(strategy, name=None):
    """A function/node generator's (expr, shapes, ...) (or (expr, shape) of tensor ``name``)."""
    return strategy.map(lambda drawn: (drawn[0], None, drawn[1] if name is None else {name: drawn[1]}, None))


CASES = {
    "torch": st.one_of(
        layer(test_numerics_torch.conv_modules()),
        layer(test_numerics_torch.transpose_modules()),
        layer(test_numerics_torch.pool_modules()),
        function(test_numerics_torch.functional_convs()),
        function(test_numerics_torch.functional_pools(), "x"),
    ),
    "keras": st.one_of(layer(test_numerics_keras.conv_layers()), layer(test_numerics_keras.pool_layers())),
    "tf_nn": st.one_of(function(test_numerics_tf_nn.conv_calls()), function(test_numerics_tf_nn.pool_calls())),
    "jax_lax": st.one_of(
        function(test_numerics_jax_lax.general_calls()),
        function(test_numerics_jax_lax.transpose_calls()),
        function(test_numerics_jax_lax.default_layout_calls()),
    ),
    "onnx": st.one_of(function(test_numerics_onnx.conv_nodes()), function(test_numerics_onnx.pool_nodes())),
}
NAMES = {module: name for name, module in TARGETS.items()}


def run(oracle, framework: str, code: str, args, kwargs) -> np.ndarray:
    answer = oracle(framework).run({"generated": code, "args": args, "kwargs": kwargs})
    assert "values" in answer, (
        f"{framework} did not run the generated code: {answer.get('error') or answer.get('crash')}"
    )
    return np.asarray(answer["values"])


def agree(oracle, translation, seed: int) -> float:
    """Both programs in their own framework's worker on the same arrays; the max |difference|."""
    args, kwargs = translation.arrays(seed)
    source, target = translation.mapped.framework_id, translation.target_id
    where = f"{translation.mapped.call.text} -> {translation.target_framework}\n{translation.code}"
    theirs = run(oracle, source, translation.source_code, args, kwargs)
    ours = run(oracle, target, translation.code, args, kwargs)
    assert theirs.shape == ours.shape == tuple(1 if n is None else n for n in translation.output_shape), where
    assert np.array_equal(np.isnan(theirs), np.isnan(ours)), f"NaN positions differ\n{where}"
    finite = np.isfinite(theirs)
    difference = float(np.abs(ours[finite].astype(np.float64) - theirs[finite]).max()) if finite.any() else 0.0
    assert difference <= TOLERANCE, f"max |difference| {difference:.3g}\n{where}"
    return difference


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("source", FRAMEWORKS)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
@SETTINGS
def test_translation_agrees_with_the_source_framework(oracle, source, target, data, seed):
    expr, input_shape, shapes, output_size = data.draw(CASES[source])
    assume(accepted(expr, input_shape, shapes))
    oracle(source), oracle(TARGETS[target])  # both selected (else skipped) and importable
    try:
        translation = convarith.translate(expr, target, input_shape, shapes=shapes, output_size=output_size)
    except convarith.ConvArithError as refusal:
        assert "Rule:" in str(refusal) and "Fix:" in str(refusal), str(refusal)
        TRANSLATED[NAMES[source], target, "refused"] += 1
        REFUSALS.setdefault((NAMES[source], target), Counter())[str(refusal).split(". Rule:")[0][:160]] += 1
        return
    difference = agree(oracle, translation, seed)
    TRANSLATED[NAMES[source], target, "agreed"] += 1
    LARGEST[NAMES[source], target] = max(LARGEST.get((NAMES[source], target), 0.0), difference)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("expr", SEED_CALLS)
def test_the_seed_calls_agree_in_every_framework(oracle, expr, target):
    oracle("keras"), oracle(TARGETS[target])
    translation = convarith.translate(expr, target, SEED_INPUT)
    difference = agree(oracle, translation, 0)
    TRANSLATED["keras", target, "agreed"] += 1
    LARGEST["keras", target] = max(LARGEST.get(("keras", target), 0.0), difference)


def imported_roots(code: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    return roots


@pytest.mark.parametrize("target", list(TARGETS))
@given(case=st.one_of(*CASES.values()))
@settings(max_examples=30, deadline=None)
def test_the_code_imports_only_the_target_framework_and_numpy(target, case):
    expr, input_shape, shapes, output_size = case
    assume(accepted(expr, input_shape, shapes))
    try:
        translation = convarith.translate(expr, target, input_shape, shapes=shapes, output_size=output_size)
    except convarith.ConvArithError:
        return
    tree = ast.parse(translation.code)
    (function,) = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert function.name == "layer" and ast.get_docstring(function)
    assert imported_roots(translation.code) - {"numpy"} <= IMPORTED[TARGETS[target]], translation.code
    assert "numpy" in imported_roots(translation.code)


@pytest.mark.parametrize(
    ("expr", "to", "shapes"),
    [
        ("nn.Conv2d(3, 4, 3, stride=2, padding=1)", "onnx", None),
        ("nn.MaxPool2d(3, stride=2, ceil_mode=True)", "onnx", None),
        ("onnx.helper.make_node('Conv', ['X', 'W'], ['Y'], kernel_shape=[3, 3], auto_pad='SAME_UPPER', strides=[2, 2])",
         "torch", {"X": (1, 3, 8, 7), "W": (4, 3, 3, 3)}),
        ("onnx.helper.make_node('AveragePool', ['X'], ['Y'], kernel_shape=[3, 3], pads=[1, 0, 0, 1])",
         "torch", {"X": (1, 3, 8, 7)}),
    ],
)  # fmt: skip
def test_prove_in_process(expr, to, shapes):
    """prove() runs both frameworks in its child process (torch and onnxruntime, the cheapest pair)."""
    from tests.conftest import selected_frameworks

    if not {"torch", "onnx"} <= set(selected_frameworks()):
        pytest.skip("torch and onnx not both selected by CONVARITH_TEST_FRAMEWORKS")
    translation = convarith.translate(expr, to, None if shapes else (1, 3, 9, 8), shapes=shapes)
    assert translation.prove(seed=3) <= TOLERANCE


def summary(terminalreporter) -> None:
    """The tally per direction (printed by tests/conftest.py's pytest_terminal_summary)."""
    if not TRANSLATED:
        return
    terminalreporter.section("translations run in both real frameworks (source worker vs target worker)")
    for source, target in sorted({(s, t) for s, t, _ in TRANSLATED}):
        agreed, refused = TRANSLATED[source, target, "agreed"], TRANSLATED[source, target, "refused"]
        terminalreporter.write_line(
            f"{source:5s} -> {target:5s} {agreed:4d} agreed (max |difference| {LARGEST.get((source, target), 0.0):.1e})"
            f", {refused:3d} refused"
        )
        for text, count in REFUSALS.get((source, target), Counter()).most_common(2):
            terminalreporter.write_line(f"{'':15s} refused {count}x: {text}")


@pytest.mark.parametrize(
    ("expr", "to", "shape"),
    [
        ("nn.Conv2d(3, 4, 3, stride=2, padding=1)", "onnx", (None, 3, 9, 8)),
        ("keras.layers.Conv2D(4, 3, strides=2, padding='same')", "torch", (None, 9, 8, 3)),
        ("nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1)", "torch", (None, 3, 7)),
    ],
)
def test_a_none_batch_translates_for_any_batch(expr, to, shape):
    """A None batch: the code runs once per sample, so batch 3 (and 0) give the reference's numbers."""
    from tests.conftest import selected_frameworks

    if not {"torch", "onnx"} <= set(selected_frameworks()):
        pytest.skip("torch and onnx not both selected by CONVARITH_TEST_FRAMEWORKS")
    translation = convarith.translate(expr, to, shape)
    namespace = {}
    exec(compile(translation.code, "<translation>", "exec"), namespace)  # test: runs the generated code
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(s).astype(np.float32) for s in weight_shapes(translation.mapped)]
    for batch in (3, 0):
        x = rng.standard_normal((batch, *shape[1:])).astype(np.float32)
        ours = namespace["layer"](x, weights)
        expected = convarith.forward(expr, x, weights)
        assert ours.shape == expected.shape
        assert np.abs(ours - expected).max(initial=0.0) <= TOLERANCE
