"""convarith.trace on keras.applications models (the fixture tests/fixtures/keras_apps.json.gz:
model.to_json() texts, count_params() and Keras's own per-layer shapes at odd and non-square input
sizes, measured in the Keras worker by tests/differential/make_keras_apps.py), published receptive
fields, the U-Net example, the layer list, refusals, the table and the CLI."""

import contextlib
import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convarith
from convarith import ConvArithError
from convarith.cli import main
from convarith.tracing import kinds, trace

ROOT = Path(__file__).parents[2]
APPS = json.loads(gzip.decompress((ROOT / "tests/fixtures/keras_apps.json.gz").read_bytes()))
UNET = ROOT / "examples/unet.yaml"
TRACED = sorted(APPS)


@pytest.mark.parametrize("name", TRACED)
def test_keras_applications_match_keras(name):
    model = APPS[name]
    for case in model["shapes"]:
        if "error" in case["layers"]:  # Keras refuses the size: the trace names the merge Keras stops at
            first = trace(model["json"], tuple(case["input"])).mismatches[0]
            assert all(str(shape[1:]) in case["layers"]["error"] for shape in first.shapes), case
            continue
        traced = trace(model["json"], tuple(case["input"]))
        got = {layer.name: list(layer.output_shape) for layer in traced.layers}
        assert {k: got.get(k) for k in case["layers"]} == case["layers"], case["input"]
    assert {layer.name: layer.params for layer in traced.layers if layer.name in model["params"]} == model["params"]
    assert traced.params == model["total_params"]


def test_nested_model_is_inlined():
    """ConvNeXt's stem is a Sequential inside the functional model: its layers come first, named
    'stem/inner', then the stem itself with the inner count (Keras's count_params of the stem)."""
    traced = trace(APPS["ConvNeXtTiny"]["json"], (1, 224, 224, 3))
    inner = [layer for layer in traced.layers if layer.within == "convnext_tiny_stem"]
    assert [layer.kind for layer in inner] == ["Conv2D", "LayerNormalization"]
    assert inner[0].name.startswith("convnext_tiny_stem/") and inner[0].inbound == (
        "convnext_tiny_prestem_normalization",
    )
    stem = traced["convnext_tiny_stem"]
    assert stem.params == sum(layer.params for layer in inner) == 4896 and stem.receptive_field == (4, 4)


# Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019,
# https://distill.pub/2019/computing-receptive-fields/ Table 1 (r, S, P at the last feature map):
# VGG 16 212/32/90, Inception v3 1311/32/618, ResNet-50 483/32/239 (TF-slim SAME padding; Keras pads
# explicitly, so its start differs), MobileNet v2 491/32/245 (likewise).
@pytest.mark.parametrize(
    "name, layer, size, field, jump, padding",
    [
        ("VGG16", "block5_pool", 224, 212, 32, 90),
        ("InceptionV3", "mixed10", 299, 1311, 32, 618),
        ("ResNet50", "conv5_block3_out", 224, 483, 32, None),
        ("MobileNetV2", "out_relu", 224, 491, 32, None),
    ],
)
def test_published_receptive_fields(name, layer, size, field, jump, padding):
    traced = trace(APPS[name]["json"], (1, size, size, 3))[layer]
    assert traced.receptive_field == (field, field)
    assert traced.effective_stride == (jump, jump)
    if padding is not None:
        assert traced.effective_padding == (padding, padding)


def test_unet_lines_up_at_64_and_reports_65():
    assert trace(UNET).mismatches == [] and trace(UNET).output_shape == (1, 64, 64, 2)
    traced = trace(UNET, (1, 65, 64, 1))
    (mismatch,) = traced.mismatches
    assert (mismatch.layer, mismatch.inputs, mismatch.sizes, mismatch.axis) == ("cat1", ("up1", "enc1b"), (64, 65), 1)
    text = str(mismatch)
    assert "crop enc1b with Cropping2D(cropping=((0, 1), (0, 0)))" in text
    assert "pad up1 with ZeroPadding2D(padding=((0, 1), (0, 0)))" in text
    assert "64 or 68 (n ≡ 0 (mod 4), n ≥ 4" in text
    assert traced["cat1"].output_shape == (1, 64, 64, 32)
    assert "Mismatch: cat1" in str(traced)


def test_unet_receptive_field_through_transposed_layers():
    traced = trace(UNET)
    assert traced["mid_b"].receptive_field == (32, 32) and traced["mid_b"].effective_stride == (4, 4)
    assert traced["up2"].effective_stride == (2, 2) and traced["up2"].receptive_field == (32, 32)
    # the closed form r + (k-1)*jump would say 38: below the transposed layers the windows of neighbouring
    # outputs move by 0 or 2 cells, so some outputs see 40 (the Keras gradient agrees: test_trace differential)
    assert traced["head"].receptive_field == (40, 40) and traced["head"].effective_padding == (18, 18)


def test_layer_list_as_python_and_json():
    layers = [
        {"kind": "Conv2D", "filters": 4, "kernel_size": 3, "strides": 2},
        {"kind": "Flatten"},
        {"kind": "Dense", "units": 3},
    ]
    traced = trace(layers, (1, 9, 9, 2))
    assert [layer.output_shape for layer in traced.layers] == [(1, 9, 9, 2), (1, 4, 4, 4), (1, 64), (1, 3)]
    assert traced.params == 3 * 3 * 2 * 4 + 4 + 64 * 3 + 3
    flat = traced.layers[2]  # Flatten of 16 positions: every output may see the whole input (the 4 windows' span)
    assert (flat.receptive_field, flat.effective_stride, flat.effective_padding) == ((9, 9), (0, 0), (0, 0))
    assert "the whole input" in flat.note and traced.layers[3].receptive_field == (9, 9)
    assert trace(json.dumps({"input": [1, 9, 9, 2], "layers": layers})).output_shape == (1, 3)


def test_merge_broadcasting_and_refusals():
    base = [{"name": "x", "kind": "InputLayer"}, {"name": "g", "kind": "GlobalAveragePooling2D", "keepdims": True}]
    traced = trace([*base, {"name": "m", "kind": "Multiply", "inputs": ["x", "g"]}], (1, 5, 6, 3))
    assert traced["m"].output_shape == (1, 5, 6, 3) and traced["m"].receptive_field == (5, 6)
    with pytest.raises(ConvArithError, match="Layer 'b': kind 'Bogus' is not one convarith traces"):
        trace([{"kind": "Conv2D", "filters": 2, "kernel_size": 1}, {"name": "b", "kind": "Bogus"}], (1, 4, 4, 1))
    with pytest.raises(ConvArithError, match=r"^Layer 'p' \(Conv2D\) on input \(1, 2, 2, 1\)"):
        trace([{"name": "p", "kind": "Conv2D", "filters": 1, "kernel_size": 3}], (1, 2, 2, 1))
    with pytest.raises(ConvArithError, match="Layer 'r' \\(Reshape\\)"):
        trace([{"name": "r", "kind": "Reshape", "target_shape": [5, -1]}], (1, 4, 4, 1))
    with pytest.raises(ConvArithError, match="its input 'nope' is not a layer before it"):
        trace([{"kind": "Add", "inputs": ["input", "nope"]}], (1, 4, 4, 1))


def test_table_dict_html_and_callable_package():
    traced = convarith.trace(str(UNET))
    text = str(traced)
    assert "up2 (Conv2DTranspose)" in text and "105,202" in text and "-18x-18" in text
    row = traced.to_dict()["layers"][1]
    assert row["padding"] == [[1, 1], [1, 1]] and row["receptive_field"] == [3, 3]
    assert row["call"].startswith("keras.layers.Conv2D(filters=16")
    assert "<td>enc1 (Conv2D)</td>" in traced._repr_html_()


@pytest.mark.parametrize(
    "text",
    ["{not json", "layers:\n  - {kind: Conv2D, filters: [}\n", '{"class_name": "Functional", "config": {"layers": [{}]}}',
     "- {kind: Dense}\n", "layers: 3\n", "\x00\x01"],
)  # fmt: skip
def test_cli_trace_bad_files_give_one_error_line(tmp_path, capsys, text):
    path = tmp_path / "model.yaml"
    path.write_text(text)
    assert main(["trace", str(path), "--input", "1,8,8,1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "internal error" not in err


def test_cli_trace(capsys):
    assert main(["trace", str(UNET), "--input", "1,65,64,1"]) == 0
    assert "Mismatch: cat1" in capsys.readouterr().out
    assert main(["trace", str(UNET), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["params"] == 105202
    assert main(["trace", "no/such/file.json"]) == 1
    assert "no file" in capsys.readouterr().err


VALUES = st.one_of(
    st.integers(-3, 9), st.sampled_from(["same", "valid", "x", None, True]), st.lists(st.integers(-1, 4), max_size=3)
)
KEYS = st.sampled_from(["filters", "kernel_size", "strides", "padding", "units", "axis", "target_shape", "dims",
                        "pool_size", "cropping", "size", "keepdims", "depth_multiplier", "inputs"])  # fmt: skip
LAYER = st.fixed_dictionaries(
    {"kind": st.sampled_from(sorted(kinds.KNOWN) + ["Bogus"])}, optional={"name": st.sampled_from("abc")}
).flatmap(lambda base: st.dictionaries(KEYS, VALUES, max_size=3).map(lambda extra: {**extra, **base}))


@settings(max_examples=150, deadline=None)
@given(st.lists(LAYER, min_size=1, max_size=4), st.lists(st.integers(0, 9), min_size=3, max_size=5))
def test_random_layer_lists_raise_only_convarith_error(layers, shape):
    with contextlib.suppress(ConvArithError):  # any other exception fails
        trace(layers, tuple(shape))


def test_two_inputs_by_name():
    layers = [
        {"name": "a", "kind": "InputLayer"},
        {"name": "b", "kind": "InputLayer"},
        {"name": "ca", "kind": "Conv2D", "filters": 4, "kernel_size": 3, "inputs": "a"},
        {"name": "sum", "kind": "Add", "inputs": ["ca", "b"]},
    ]
    traced = trace(layers, {"a": (1, 10, 9, 2), "b": (1, 8, 1, 4)})
    assert traced["sum"].output_shape == (1, 8, 7, 4)  # b's width 1 broadcasts, as Keras's merges do
    assert traced["sum"].receptive_field == (3, 3)
    with pytest.raises(ConvArithError, match="the model has 2 inputs"):
        trace(layers, (1, 10, 9, 2))
    with pytest.raises(ConvArithError, match="no shape for the input 'b'"):
        trace(layers, {"a": (1, 10, 9, 2)})


def test_lined_up_sizes_agree_with_tracing_each_size():
    """The sizes the sweep finds are exactly those a plain trace at that size traces without a mismatch."""
    from convarith.tracing import layer_list
    from convarith.tracing.align import lined_up_sizes

    nodes, _ = layer_list.nodes_of(layer_list.load(UNET.read_text()))
    for axis in (1, 2):
        want = []
        for n in range(1, 81):
            shape = [1, 65, 64, 1]
            shape[axis] = n
            other = 1 if axis == 2 else 2  # the other axis at a size that lines up, so only this one decides
            shape[other] = 64
            with contextlib.suppress(ConvArithError):
                if not trace(UNET, tuple(shape)).mismatches:
                    want.append(n)
        assert lined_up_sizes(nodes, (1, 65, 64, 1), axis, 80) == want
    assert want[:3] == [4, 8, 12]


def test_nasnet_off_its_built_size_reports_the_cells_merges():
    traced = trace(APPS["NASNetMobile"]["json"], (1, 131, 131, 3))
    assert len(traced.mismatches) == 12 and traced.mismatches[0].layer == "normal_add_1_0"
    assert "n mod 32 in {0, 1, 2, 31}" in str(traced.mismatches[0])


def test_input_of_another_rank_or_channels_is_refused_another_size_noted():
    model = APPS["NASNetMobile"]["json"]  # built for (None, 224, 224, 3)
    with pytest.raises(ConvArithError, match=r"Layer 'input_layer' \(InputLayer\): input \(1, 3, 224, 224\)"):
        trace(model, (1, 3, 224, 224))
    with pytest.raises(ConvArithError, match="same rank and channel count"):
        trace(model, (1, 224, 3))
    assert "Keras's model refuses another size" in trace(model, (1, 256, 256, 3)).layers[0].note
    assert "Note: input_layer: built for (None, 224, 224, 3)" in str(trace(model, (1, 256, 256, 3)))
    assert trace(model, (1, 224, 224, 3)).layers[0].note == ""
    with pytest.raises(ConvArithError, match="input_shape names 'x', not an input"):
        trace(str(UNET), {"input": (1, 8, 8, 1), "x": (1, 8, 8, 1)})
