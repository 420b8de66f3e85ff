"""valid_sizes of traced models (layer list, Keras JSON of keras.applications, ONNX) against brute force:
trace() per size for the shapes and merges, the NumPy engine's rows for the cells (tests/unit/reach_brute.py)."""

import contextlib
import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convarith
from convarith import ConvArithError
from convarith.tracing import read, trace
from convarith.tracing.graph import trace_nodes
from tests.unit.reach_brute import model_rows_reached
from tests.unit.test_trace import LAYER

ROOT = Path(__file__).parents[2]
UNET = ROOT / "examples/unet.yaml"
APPS = json.loads(gzip.decompress((ROOT / "tests/fixtures/keras_apps.json.gz").read_bytes()))


def sized(shape, axis, n):
    return tuple(n if i == axis else size for i, size in enumerate(shape))


def traced_whole(model, shape):
    """The trace at ``shape`` when every layer takes it and every merge lines up (else None)."""
    with contextlib.suppress(ConvArithError):
        nodes, _ = read(model)
        traced = trace_nodes(nodes, shape, align=False)  # the fixes' sizes are not asked
        if not traced.mismatches and 0 not in traced.output_shape:
            return traced
    return None


@pytest.mark.parametrize("axis", [1, 2])
def test_unet_example_matches_brute_force(axis):
    """Per size: trace() lines every merge up, every input row changes the engine's output, the output
    size is the input size (the U-Net gives it back)."""
    shape, sizes = (1, 64, 64, 1), range(1, 57)
    got = convarith.valid_sizes(UNET, shape, axis=axis, sizes=sizes)
    small = sized((1, 8, 8, 1), axis, 0)
    want = []
    for n in sizes:
        traced = traced_whole(UNET, sized(shape, axis, n))
        if traced is None or traced.output_shape[axis] != n:
            continue
        if all(model_rows_reached(UNET, sized(small, axis, n), axis)):
            want.append(n)
    assert got.sizes == want and got.round_trip
    assert (got.rule, got.modulus, got.residue, got.minimum) == ("n ≡ 0 (mod 4), n ≥ 4", 4, 0, 4)
    removed = dict(got.removed)  # the first skip connection: n mod 4 in {2, 3}; the second: the odd ones left
    assert (removed["layer 'cat2' (Concatenate)"], removed["layer 'cat1' (Concatenate)"]) == (28, 14)


LEAKY = """
input: [1, 16, 1]
layers:
  - {name: down, kind: Conv1D, filters: 2, kernel_size: 2, strides: 3}
  - {name: up, kind: UpSampling1D, size: 3}
  - {name: fine, kind: Conv1D, filters: 2, kernel_size: 3, padding: same}
  - {name: add, kind: Add, inputs: [fine, up]}
"""


def test_cells_a_strided_layer_skips_are_found_in_a_branching_model():
    """A kernel of 2 with stride 3 skips every third cell: no size from 3 up is valid, the conv is named."""
    with pytest.raises(ConvArithError, match=r"layer 'down' \(Conv1D\): input cells are left unreached for every "
                       r"size \(e.g. size 3: input cells 2 reach no output; it reads none"):  # fmt: skip
        convarith.valid_sizes(LEAKY, (1, 16, 1), axis=1, sizes=range(3, 40))
    assert not any(model_rows_reached(LEAKY, (1, 9, 1), 1)[2::3])  # the engine: rows 2, 5, 8 change nothing


@pytest.mark.parametrize("name", ["ResNet50", "Xception", "InceptionV3", "VGG16", "NASNetMobile", "ConvNeXtTiny"])
def test_keras_applications_agree_with_trace_per_size(name):
    """Every size valid_sizes keeps traces whole; every size trace refuses (or finds a mismatch at) is out."""
    model, shape, sizes = APPS[name]["json"], (1, 224, 96, 3), range(1, 97)
    got = set(convarith.valid_sizes(model, shape, axis=1, sizes=sizes).sizes)
    for n in sizes:
        whole = traced_whole(model, sized(shape, 1, n)) is not None
        assert not (n in got and not whole), n
    assert got, name


# measured: the rules these give (1..256); their cells checked in Keras by tests/differential/test_valid_models.py
RULES = {
    "ResNet50": "every n ≥ 1",  # ResNet's 1x1 stride-2 convs skip cells the 3x3 convs before them also feed
    "VGG16": "every n ≥ 32",  # a pool drops an odd last row, but its cells reach the output through the row above
    "Xception": "n ≡ 1 (mod 2), n ≥ 7",  # a 3x3 stride-2 'valid' stem leaves the last row of an even size
    "InceptionV3": "n ≡ 3 or 5 (mod 8), n ≥ 75",
    "ConvNeXtTiny": "n ≡ 0 (mod 4), n ≥ 32",  # the 4x4 stride-4 stem
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_keras_application_rules(name):
    got = convarith.valid_sizes(APPS[name]["json"], (1, 224, 224, 3), axis=2, sizes=range(1, 257))
    assert got.rule == RULES[name]


def test_a_merge_on_another_axis_that_never_lines_up_is_named():
    with pytest.raises(ConvArithError, match=r"layer 'cat2' \(Concatenate\): it refuses every size .*inputs do not "
                       r"line up on axis 2"):  # fmt: skip
        convarith.valid_sizes(UNET, (1, 64, 63, 1), axis=1)


def test_layer_list_as_python_and_refusals():
    layers = [{"kind": "Conv2D", "filters": 2, "kernel_size": 3, "strides": 2}]
    assert convarith.valid_sizes(layers, (1, 9, 9, 1), axis=1, sizes=range(1, 12)).sizes == [3, 5, 7, 9, 11]
    with pytest.raises(ConvArithError, match=r"model\[1\] is a int"):
        convarith.valid_sizes(["nn.MaxPool2d(2)", 3], (1, 1, 4, 4), axis=2)
    with pytest.raises(ConvArithError, match="the model has 2 inputs"):
        convarith.valid_sizes({"layers": [{"name": "a", "kind": "InputLayer"}, {"name": "b", "kind": "InputLayer"},
                                          {"kind": "Add", "inputs": ["a", "b"]}]}, (1, 4, 4, 1), axis=1)  # fmt: skip


def test_onnx_model_matches_trace_per_size(tmp_path):
    """An ONNX U-Net step (Conv stride 2, ConvTranspose, Concat on channels): the sizes that line up and
    reach every row; the Concat names the sizes that do not."""
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w1 = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "w1")
    w2 = numpy_helper.from_array(np.ones((2, 2, 2, 2), np.float32), "w2")
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["d"], strides=[2, 2], pads=[1, 1, 1, 1], name="down"),
        helper.make_node("ConvTranspose", ["d", "w2"], ["u"], strides=[2, 2], name="up"),
        helper.make_node("Concat", ["u", "x"], ["y"], axis=1, name="cat"),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, None, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w1, w2])  # fmt: skip
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    got = convarith.valid_sizes(path, (1, 1, 16, 8), axis=2, sizes=range(1, 41))
    want = [n for n in range(1, 41) if traced_whole(path, (1, 1, n, 8)) is not None]
    assert got.sizes == want == list(range(2, 41, 2))
    mismatch = trace(path, (1, 1, 15, 8)).mismatches[0]
    assert mismatch.layer == "cat" and "lines every merge up: 14 or 16 (n ≡ 0 (mod 2), n ≥ 2" in str(mismatch)


@settings(max_examples=120, deadline=None)
@given(
    st.lists(LAYER, min_size=1, max_size=4),
    st.lists(st.integers(0, 9), min_size=3, max_size=5),
    st.integers(-2, 5),
    st.lists(st.integers(-3, 12), min_size=1, max_size=4),
)
def test_random_layer_lists_raise_only_convarith_error(layers, shape, axis, position):
    """valid_sizes, Trace.window and the lined-up sizes on random layer lists: a result or ConvArithError."""
    with contextlib.suppress(ConvArithError):
        found = convarith.valid_sizes(layers, tuple(shape), axis=axis, sizes=range(1, 24))
        assert set(found.sizes) <= set(range(1, 24))
    with contextlib.suppress(ConvArithError):
        traced = trace(layers, tuple(shape))
        for layer in traced.layers:
            with contextlib.suppress(ConvArithError):
                traced.window(layer.name, position)


SHARED = [
    {"name": "conv", "kind": "Conv2D", "filters": 1, "kernel_size": 3, "padding": "same"},
    {"name": "bad", "kind": "Conv2D", "filters": 1, "kernel_size": 3, "inputs": ["missing"]},
]


def test_window_and_layer_refusals():
    traced = trace(SHARED[:1], (1, 9, 9, 1))
    assert traced.window("conv", (4, 0)) == ((3, 5), (-1, 1))
    with pytest.raises(ConvArithError, match=r"Trace.window: layer 'conv' at \(1,\)"):
        traced.window("conv", (1,))
    with pytest.raises(ConvArithError, match="'missing' is not a layer before it"):
        convarith.valid_sizes(SHARED, (1, 9, 9, 1), axis=1)


def test_two_layers_of_one_name_are_refused():
    """Their inputs could not be told apart (the second would take itself)."""
    layers = [{"name": "a", "kind": "Conv2D", "filters": 1, "kernel_size": 3}, {"name": "a", "kind": "ReLU"}]
    with pytest.raises(ConvArithError, match="Layer 'a': a second layer of that name"):
        trace(layers, (1, 9, 9, 1))
    with pytest.raises(ConvArithError, match="Layer 'a': a second layer of that name"):
        convarith.valid_sizes(layers, (1, 9, 9, 1), axis=1)


def test_every_layer_holds_each_feature_map_to_its_own_cells():
    """every_layer=True: no layer may skip cells of its own input, the classic 'a multiple of 32' (VGG16),
    and ResNet's 1x1 stride-2 convs rule out all but the smallest sizes."""
    vgg = convarith.valid_sizes(APPS["VGG16"]["json"], (1, 224, 224, 3), axis=1, sizes=range(1, 257), every_layer=True)
    assert vgg.rule == "n ≡ 0 (mod 32), n ≥ 32"
    chain = ["nn.Conv2d(3, 8, 3, padding=1)", "nn.Conv2d(8, 8, 1, stride=2)"]
    assert convarith.valid_sizes(chain, (1, 3, 8, 8), axis=2, sizes=range(2, 20)).sizes == list(range(2, 20))
    with pytest.raises(
        ConvArithError,
        match=r"layer 1 \(nn.Conv2d\(8, 8, 1, stride=2\)\): input cells are left "
        r"unreached for every size \(e.g. size 2: it reads none of its input cells 1 \(every_layer",
    ):
        convarith.valid_sizes(chain, (1, 3, 8, 8), axis=2, sizes=range(2, 20), every_layer=True)


@pytest.mark.parametrize("model", [5, None, b"x", 2.5])
def test_what_is_not_a_model_is_named(model):
    with pytest.raises(ConvArithError, match=f"^valid_sizes: model is a {type(model).__name__}"):
        convarith.valid_sizes(model, (1, 3, 8, 8), axis=2)
