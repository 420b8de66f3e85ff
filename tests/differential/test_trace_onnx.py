"""convarith.trace on ONNX files against onnxruntime: models built with onnx.helper (and one exported
by torch.onnx.export), every node's output shape compared with the shape onnxruntime gives it (all
outputs exposed, run in a subprocess), at several input sizes; a size onnxruntime refuses is a
mismatch the trace names."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from convarith import ConvArithError
from convarith.tracing import trace

pytestmark = pytest.mark.differential
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, numpy_helper  # noqa: E402
from onnx import helper as h  # noqa: E402

WORKER = Path(__file__).with_name("onnx_shapes.py")


def init(name, shape=None, values=None, dtype=np.float32):
    array = np.asarray(values, dtype) if values is not None else np.ones(shape, dtype)
    return numpy_helper.from_array(array, name)


def encoder_decoder(channels):
    """Conv, pools, a transposed conv, Resize, Pad, a broadcast Add, Concat, BatchNormalization, global pool, Gemm."""
    nodes = [
        h.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        h.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        h.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        h.make_node("Conv", ["p1", "w2"], ["c2"], name="conv2", strides=[2, 2], auto_pad="SAME_UPPER"),
        h.make_node("Add", ["c2", "bias"], ["a2"], name="add_bias"),
        h.make_node("ConvTranspose", ["a2", "w3"], ["t3"], name="up", strides=[2, 2]),
        h.make_node("Pad", ["t3", "pads"], ["pd"], name="pad"),
        h.make_node("Resize", ["p1", "", "scales"], ["rs"], name="resize", mode="nearest"),
        h.make_node("AveragePool", ["rs"], ["ap"], name="avg", kernel_shape=[3, 3], strides=[2, 2], pads=[2] * 4),
        h.make_node("Concat", ["pd", "ap"], ["cat"], name="cat", axis=1),
        h.make_node("BatchNormalization", ["cat", "g", "beta", "mean", "var"], ["bn"], name="bn"),
        h.make_node("GlobalAveragePool", ["bn"], ["gap"], name="gap"),
        h.make_node("Flatten", ["gap"], ["flat"], name="flat"),
        h.make_node("Gemm", ["flat", "wg", "bg"], ["y"], name="fc", transB=1),
    ]
    inits = [
        init("w1", (8, channels, 3, 3)), init("b1", (8,)), init("w2", (8, 8, 3, 3)), init("bias", (1, 8, 1, 1)),
        init("w3", (8, 4, 2, 2)), init("pads", values=[0, 0, 0, 0, 0, 0, 1, 1], dtype=np.int64),
        init("scales", values=[1, 1, 2, 2]), *(init(n, (12,)) for n in ("g", "beta", "mean", "var")),
        init("wg", (5, 12)), init("bg", (5,)),
    ]  # fmt: skip
    return nodes, inits, 1 + 8 * channels * 9 + 8 + 576 + 8 + 128 + 48 + 65


def rearranging():
    """DepthToSpace, Transpose, Reshape with a 0 and a -1, MatMul, Unsqueeze/Squeeze, a Mul."""
    nodes = [
        h.make_node("DepthToSpace", ["x"], ["d"], name="d2s", blocksize=2, mode="CRD"),
        h.make_node("Transpose", ["d"], ["t"], name="tr", perm=[0, 2, 3, 1]),
        h.make_node("Reshape", ["t", "shape"], ["rs"], name="rs"),
        h.make_node("MatMul", ["rs", "wm"], ["mm"], name="mm"),
        h.make_node("Unsqueeze", ["mm", "axes"], ["u"], name="unsq"),
        h.make_node("Mul", ["u", "scale"], ["mu"], name="mul"),
        h.make_node("Squeeze", ["mu", "axes"], ["y"], name="sq"),
    ]
    inits = [init("shape", values=[0, -1, 2], dtype=np.int64), init("wm", (2, 6)),
             init("axes", values=[1], dtype=np.int64), init("scale", (1, 1, 1, 6))]  # fmt: skip
    return nodes, inits, 12 + 6


def save(built, channels, path):
    nodes, inits, _ = built
    graph = h.make_graph(
        nodes, "g", [h.make_tensor_value_info("x", TensorProto.FLOAT, [None, channels, None, None])],
        [h.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)], inits,
    )  # fmt: skip
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 21)]), str(path))
    return {node.name: node.output[0] for node in nodes}


def runtime_shapes(path, shape) -> dict:
    done = subprocess.run([sys.executable, str(WORKER), str(path), ",".join(map(str, shape))],
                          capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    return json.loads(done.stdout)


def compare(path, outputs, shape) -> int:
    """Every layer's traced shape against onnxruntime's; the number of layers checked."""
    want = runtime_shapes(path, shape)
    if "error" in want:  # onnxruntime refuses the size: the trace refuses it too, or names the merge
        try:
            first = trace(path, shape).mismatches[0]  # onnxruntime names the node it stops at, and the sizes
            assert f"Name:'{first.layer}'" in want["error"] and all(f" {n}" in want["error"] for n in first.sizes), want
        except ConvArithError as error:
            assert str(error).startswith("Layer '"), error
        return 0
    traced = trace(path, shape)
    assert not traced.mismatches, shape
    got = {outputs[layer.name]: list(layer.output_shape) for layer in traced.layers if layer.name in outputs}
    assert got == want, shape
    return len(got)


@pytest.mark.parametrize("shape", [(1, 3, 32, 40), (2, 3, 64, 24), (1, 3, 33, 41), (1, 3, 17, 100), (1, 3, 30, 40)])
def test_encoder_decoder_matches_onnxruntime(tmp_path, shape):
    built = encoder_decoder(3)
    outputs = save(built, 3, tmp_path / "m.onnx")
    compare(tmp_path / "m.onnx", outputs, shape)
    assert trace(tmp_path / "m.onnx", shape).params == built[2] - 1


@pytest.mark.parametrize("shape", [(1, 16, 5, 7), (3, 8, 4, 1)])
def test_rearranging_nodes_match_onnxruntime(tmp_path, shape):
    built = rearranging()
    outputs = save(built, shape[1], tmp_path / "m.onnx")
    assert compare(tmp_path / "m.onnx", outputs, shape) == len(built[0])
    assert trace(tmp_path / "m.onnx", shape).params == built[2]


# torch's legacy (TorchScript) exporter, chosen on purpose for opset 17, warns about itself
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:Constant folding:UserWarning")
def test_a_torch_export_matches_onnxruntime(tmp_path):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    module = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(8, 16, 3, dilation=2, groups=2), nn.ConvTranspose2d(16, 4, 4, stride=2, padding=1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10),
    ).eval()  # fmt: skip
    path = tmp_path / "t.onnx"
    try:
        torch.onnx.export(module, (torch.zeros(1, 3, 45, 38),), str(path), dynamo=False, opset_version=17,
                          input_names=["x"], dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}})  # fmt: skip
    except Exception as error:  # an exporter this torch build lacks
        pytest.skip(f"torch.onnx.export: {error}")
    model = onnx.load(str(path))
    outputs = {node.name or node.output[0]: node.output[0] for node in model.graph.node if node.op_type != "Constant"}
    for shape in [(1, 3, 45, 38), (2, 3, 64, 64), (1, 3, 31, 57)]:
        assert compare(path, outputs, shape) >= 8
    folded = 4 * 8  # the exporter folds BatchNorm2d(8) (weight, bias, mean, var) into the conv before it
    assert "BatchNormalization" not in {node.op_type for node in model.graph.node}
    params = sum(p.numel() for p in module.state_dict().values() if p.ndim)
    assert trace(path, (1, 3, 45, 38)).params == params - folded
