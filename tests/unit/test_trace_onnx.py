"""convarith.trace on ONNX models built with onnx.helper (no onnxruntime): the kinds rules
(MatMul's and broadcasting's shapes against NumPy's), parameter counts, refusals, and the
refusal when the onnx package is missing."""

import json
import sys

import numpy as np
import pytest

from convarith import ConvArithError
from convarith.tracing import kinds, trace

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, numpy_helper  # noqa: E402
from onnx import helper as h  # noqa: E402


def model(nodes, inits=(), shape=(None, 3, None, None)):
    graph = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                         [h.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)], list(inits))  # fmt: skip
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 21)])


def init(name, shape=None, values=None, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(values, dtype) if values is not None else np.ones(shape, dtype), name)


@pytest.mark.parametrize(
    "a, b",
    [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 1, 2, 3), (7, 3, 4)), ((1, 2, 3), (6, 3, 4))],
)
def test_matmul_and_broadcast_shapes_are_numpys(a, b):
    want = np.matmul(np.ones(a), np.ones(b)).shape
    assert kinds.matmul("m", "onnx.MatMul", a, b) == want
    assert kinds.broadcast("m", "onnx.Add", [(5, 1, 4), (3, 1)]) == np.broadcast_shapes((5, 1, 4), (3, 1))
    assert kinds.matmul("m", "onnx.MatMul", (2, 3), (4, 5)) == (None, 1)


def test_weights_and_constant_inputs():
    nodes = [
        h.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3], strides=[2, 2]),
        h.make_node("Resize", ["c", "", "", "sizes"], ["r"], name="resize", mode="linear"),
        h.make_node("Constant", [], ["shape"], value=numpy_helper.from_array(np.array([0, -1], np.int64))),
        h.make_node("Reshape", ["r", "shape"], ["y"], name="flat"),
    ]
    m = model(nodes, [init("w", (4, 3, 3, 3)), init("sizes", values=[1, 4, 6, 5], dtype=np.int64)])
    traced = trace(m, (1, 3, 15, 9))
    assert [layer.output_shape for layer in traced.layers] == [(1, 3, 15, 9), (1, 4, 7, 4), (1, 4, 6, 5), (1, 120)]
    assert traced["conv"].params == 108 and traced.params == 108 and traced["conv"].receptive_field == (3, 3)
    assert traced["conv"].call == "make_node('Conv', ['X', 'W'], ['Y'], kernel_shape=[3, 3], strides=[2, 2])"


def test_a_concat_that_does_not_line_up_names_onnx_fixes():
    nodes = [
        h.make_node("MaxPool", ["x"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        h.make_node("Resize", ["p", "", "scales"], ["u"], name="up", mode="nearest"),
        h.make_node("Concat", ["x", "u"], ["y"], name="cat", axis=1),
    ]
    traced = trace(model(nodes, [init("scales", values=[1, 1, 2, 2])]), (1, 3, 9, 8))
    (mismatch,) = traced.mismatches
    assert (mismatch.layer, mismatch.axis, mismatch.sizes) == ("cat", 2, (9, 8))
    assert "Fix: Pad up or Slice x by 1 on axis 2." in str(mismatch)
    assert traced["cat"].output_shape == (1, 6, 9, 8)


def test_refusals_name_the_layer():
    computed = [h.make_node("Shape", ["x"], ["s"], name="shape"), h.make_node("Reshape", ["x", "s"], ["y"], name="r")]
    with pytest.raises(ConvArithError, match="^Layer 'shape': kind 'onnx.Shape' is not one convarith traces"):
        trace(model(computed), (1, 3, 4, 4))
    pad = [h.make_node("Relu", ["x"], ["r"], name="relu"), h.make_node("Pad", ["x", "r"], ["y"], name="pad")]
    with pytest.raises(ConvArithError, match=r"^Layer 'pad' \(onnx.Pad\): its input 'pads' \('r'\) is computed"):
        trace(model(pad), (1, 3, 4, 4))
    gemm = [h.make_node("Gemm", ["x", "w"], ["y"], name="fc")]
    with pytest.raises(ConvArithError, match=r"^Layer 'fc' \(onnx.Gemm\): inputs of shapes"):
        trace(model(gemm, [init("w", (3, 2))]), (1, 3, 4, 4))


def test_an_onnx_path_without_the_onnx_package(monkeypatch, tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save(model([h.make_node("Flatten", ["x"], ["y"], axis=2)]), str(path))
    assert trace(path, (2, 3, 5, 2)).layers[-1].output_shape == (6, 10)
    (tmp_path / "bad.onnx").write_text("not onnx")
    with pytest.raises(ConvArithError, match=r"^ONNX file .*bad.onnx'?: cannot be read"):
        trace(tmp_path / "bad.onnx", (1, 3, 2, 2))
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ConvArithError, match=r"needs the onnx package.*pip install 'convarith\[onnx\]'"):
        trace(str(path), (1, 3, 2, 2))


def test_constant_inputs_are_folded():
    """torch's exports compute Pad's pads from constants (Concat, Reshape, Cast ...) and pass weights
    through Identity nodes: both are values, not layers, and the weights still count."""
    const = numpy_helper.from_array(np.array([0, 0, 1, 2], np.int32))
    nodes = [
        h.make_node("Identity", ["w0"], ["w"], name="wid"),
        h.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
        h.make_node("Constant", [], ["lo"], value=const),
        h.make_node("ConstantOfShape", ["four"], ["zeros"], value=numpy_helper.from_array(np.array([0], np.int32))),
        h.make_node("Concat", ["lo", "zeros"], ["both"], axis=0),
        h.make_node("Cast", ["both"], ["pads"], to=TensorProto.INT64),
        h.make_node("Pad", ["c", "pads"], ["y"], name="pad"),
    ]
    inits = [init("w0", (2, 3, 1, 1)), init("four", values=[4], dtype=np.int64)]
    traced = trace(model(nodes, inits), (1, 3, 5, 5))
    assert [layer.name for layer in traced.layers] == ["x", "conv", "pad"]
    assert traced["pad"].output_shape == (1, 2, 6, 7) and traced["pad"].padding == ((1, 0), (2, 0))
    assert traced.params == 6


def test_cli_traces_an_onnx_file(tmp_path, capsys):
    from convarith.cli import main

    path = tmp_path / "m.onnx"
    nodes = [h.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3], pads=[0, 1, 0, 1])]
    onnx.save(model(nodes, [init("w", (2, 3, 3, 3))], shape=(1, 3, 8, 8)), str(path))
    assert main(["trace", str(path)]) == 0  # the file's own input shape
    out = capsys.readouterr().out
    assert "conv (onnx.Conv)" in out and "(1, 2, 6, 8)" in out
    assert main(["trace", str(path), "--input", "1,3,5,9", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["layers"][-1]["output_shape"] == [1, 2, 3, 9]
    path.write_bytes(b"\x00garbage")
    assert main(["trace", str(path)]) == 1
    assert capsys.readouterr().err.startswith("error: ONNX file")


def test_a_flatten_after_global_pooling_keeps_the_field():
    """(N, C, 1, 1) flattened has one position: the field of the pool goes on (channels first)."""
    nodes = [
        h.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3], strides=[2, 2]),
        h.make_node("GlobalMaxPool", ["c"], ["g"], name="gap"),
        h.make_node("Flatten", ["g"], ["f"], name="flat"),
        h.make_node("Flatten", ["c"], ["y"], name="flat_all"),
    ]
    traced = trace(model(nodes, [init("w", (4, 3, 3, 3))]), (1, 3, 9, 11))
    assert traced["gap"].receptive_field == traced["flat"].receptive_field == (9, 11)
    assert traced["flat_all"].receptive_field == (9, 11)  # 4 x 5 positions mixed: the whole input (the span)
    assert "the whole input" in traced["flat_all"].note


def test_opset_10_pad_and_resize():
    """Before opset 11 Pad's pads were an attribute (read as the call's keyword) and Resize took
    (X, scales) with other coordinates: refused, not guessed."""
    pad = [h.make_node("Pad", ["x"], ["y"], name="pad", pads=[0, 0, 1, 0, 0, 0, 2, 3])]
    old = model(pad)
    old.opset_import[0].version = 10
    assert trace(old, (1, 3, 4, 4))["pad"].output_shape == (1, 3, 7, 7)
    resize = [h.make_node("Resize", ["x", "scales"], ["y"], name="up")]
    old = model(resize, [init("scales", values=[1, 1, 2, 2])])
    old.opset_import[0].version = 10
    with pytest.raises(ConvArithError, match=r"^Layer 'up' \(onnx.Resize\): opset 10"):
        trace(old, (1, 3, 4, 4))


BAD = {
    "concat without axis": [h.make_node("Concat", ["x", "x"], ["y"])],
    "transpose perm": [h.make_node("Transpose", ["x"], ["y"], perm=[0, 1])],
    "flatten axis": [h.make_node("Flatten", ["x"], ["y"], axis=9)],
    "gemm inner size": [h.make_node("Flatten", ["x"], ["f"]), h.make_node("Gemm", ["f", "w"], ["y"])],
    "matmul inner size": [h.make_node("MatMul", ["x", "w2"], ["y"])],
    "reshape cells": [h.make_node("Reshape", ["x", "s"], ["y"])],
    "conv weight rank": [h.make_node("Conv", ["x", "w2"], ["y"])],
    "pad unknown input": [h.make_node("Pad", ["x", "s", "", "", "q"], ["y"])],
    "unsqueeze twice": [h.make_node("Unsqueeze", ["x", "a2"], ["y"])],
    "add weight shape": [h.make_node("Add", ["x", "w2"], ["y"])],
    "squeeze size": [h.make_node("Squeeze", ["x", "a1"], ["y"])],
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_nodes_are_refused_naming_the_layer(case):
    inits = [init("w", (5, 3)), init("w2", (3, 3)), init("s", values=[5, -1], dtype=np.int64),
             init("a2", values=[0, 0], dtype=np.int64), init("a1", values=[1], dtype=np.int64)]  # fmt: skip
    used = {name for node in BAD[case] for name in node.input}
    with pytest.raises(ConvArithError, match="^Layer 'y'"):
        trace(model(BAD[case], [i for i in inits if i.name in used], shape=(1, 3, 4, 4)), (1, 3, 4, 4))
