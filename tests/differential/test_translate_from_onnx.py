"""ONNX as the source of a translation: the source's ``run`` lines (a one-node model built with
onnx.helper, run by onnxruntime in the onnx worker) equal the oracle's own run of the node on the same
arrays, and ``to_canonical`` + convarith's reference + ``from_canonical`` equal it too."""

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
from tests.differential import test_global_pool, test_numerics_onnx, test_onnx_unpool, test_padding, test_resize
from tests.differential.translate_onnx_cases import TALLY, as_call, report  # noqa: F401 - report: the tally

pytestmark = pytest.mark.differential
SETTINGS = settings(
    max_examples=int(os.environ.get("CONVARITH_TRANSLATE_EXAMPLES", "80")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
NODES = st.one_of(
    test_numerics_onnx.conv_nodes().map(as_call),
    test_numerics_onnx.pool_nodes().map(as_call),
    test_padding.onnx_pads(numbers=True).map(as_call),
    test_global_pool.onnx_globals(numbers=True).map(as_call),
    test_resize.onnx_calls(numeric=True).map(as_call),
    test_onnx_unpool.unpool_nodes(numbers=True).map(as_call),
)


def run_lines(lines, names: dict) -> dict:
    namespace = {"np": np, **names}
    exec("\n".join(lines), namespace)  # the library's generated NumPy lines
    return namespace


def unpool_indices(rng, op):
    """Flat positions over the whole output, distinct within each plane (as MaxPool returns them); None
    when a plane of the output has fewer cells than the input's."""
    cells, plane = int(np.prod(op.in_size)), int(np.prod(onnx_translation.out_shape(op)[2:]))
    if cells > plane:
        return None
    planes = [rng.permutation(plane)[:cells] + p * plane for p in range(op.batch * op.in_channels)]
    return np.stack(planes).reshape((op.batch, op.in_channels, *op.in_size)).astype(np.int64)


def source_agrees(oracle, expr: str, shapes: dict, seed: int) -> None:
    try:
        mapped = map_call(expr, shapes=shapes)
    except ConvArithError:
        assume(False)
    source = onnx_translation.source(mapped)
    rng = np.random.default_rng(seed)
    arrays = {name: rng.standard_normal(shapes[name]).astype(np.float32) for name in source.signature.split(", ")}
    if mapped.ops[0].kind == "max_unpool":  # I: distinct positions within each (batch, channel) plane
        indices = unpool_indices(rng, mapped.ops[0])
        assume(indices is not None)
        arrays[source.signature.split(", ")[1]] = indices
    own = oracle.run({"expr": expr, "shapes": shapes, "arrays": arrays, "values": True})
    assert "values" in own, f"onnxruntime refused {expr}: {own.get('error') or own.get('crash')}"
    expected = np.asarray(own["values"])
    ran = oracle.run({"imports": list(source.run_imports), "lines": list(source.run), "variables": arrays})
    assert "values" in ran, f"the run lines failed: {ran.get('error') or ran.get('crash')}\n" + "\n".join(source.run)
    np.testing.assert_array_equal(np.asarray(ran["values"]), expected, err_msg="\n".join(source.run))
    canonical = run_lines(source.to_canonical, arrays)
    y = run_chain(adapters.Plan(mapped, canonical["x"], canonical["params"]))[-1]
    y = run_lines(source.from_canonical, {"y": y})["y"]
    assert y.shape == expected.shape, f"{expr}: {y.shape} against onnxruntime's {expected.shape}"
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4, equal_nan=True, err_msg=expr)
    TALLY["onnx", "source run and canonical round trip agreed"] += 1


@given(NODES, st.integers(0, 2**32 - 1))
@SETTINGS
def test_generated_nodes(oracle, case, seed):
    expr, input_shape, shapes, _ = case
    assert input_shape is None
    source_agrees(oracle("onnx"), expr, shapes, seed)


@pytest.mark.parametrize(
    ("expr", "shapes"),
    [
        ("onnx.helper.make_node('Conv', ['X', 'W', 'B'], ['Y'], auto_pad='SAME_UPPER', strides=[2, 2], group=2)",
         {"X": (1, 4, 7, 6), "W": (6, 2, 3, 3), "B": (6,)}),
        ("onnx.helper.make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[2], output_shape=[10])",
         {"X": (1, 2, 5), "W": (2, 3, 3)}),
        ("helper.make_node('Pad', ['X', 'pads', 'value'], ['Y'], pads=[0, 0, 1, -1, 0, 0, 2, 1], value=2.5)",
         {"X": (1, 2, 4, 5)}),
        ("helper.make_node('Pad', ['X', 'pads'], ['Y'], mode='reflect', pads=[0, 0, 0, 1, 0, 0, 0, 2])",
         {"X": (2, 3, 4, 5)}),
        ("helper.make_node('Resize', ['X', '', '', 'sizes'], ['Y'], mode='cubic', sizes=[1, 2, 5, 9])",
         {"X": (1, 2, 4, 6)}),
        ("make_node('DepthToSpace', ['X'], ['Y'], blocksize=2, mode='CRD')", {"X": (1, 8, 2, 3)}),
        ("make_node('SpaceToDepth', ['X'], ['Y'], blocksize=2)", {"X": (1, 2, 4, 6)}),
    ],
)  # fmt: skip
def test_nodes(oracle, expr, shapes):
    source_agrees(oracle("onnx"), expr, shapes, seed=7)
