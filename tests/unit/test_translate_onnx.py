"""translate/onnx.py: emit round trips, the source's layout lines equal the adapters', padding intent
as data, the target's extra steps and refusals (the numbers: tests/differential/test_translate_*_onnx.py)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convarith import ConvArithError
from convarith.api import map_call
from convarith.reference import adapters
from convarith.translate import onnx as translation

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def ints(draw, count, low, high):
    return [draw(st.integers(low, high)) for _ in range(count)]


@st.composite
def nodes(draw):
    """(make_node text, shapes) of every node kind the ONNX module maps, valid or not."""
    kind = draw(st.sampled_from(["Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "Global", "Pad",
                                 "Resize", "DepthToSpace", "SpaceToDepth", "MaxUnpool"]))  # fmt: skip
    rank = draw(st.integers(1, 3))
    c = draw(st.integers(1, 3))
    x = (draw(st.integers(1, 2)), c, *ints(draw, rank, 1, 7))
    auto_pad = draw(st.sampled_from(["NOTSET", "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"]))
    geometry = f"strides={ints(draw, rank, 1, 3)}"
    if auto_pad == "NOTSET":
        geometry += f", pads={ints(draw, 2 * rank, 0, 2)}"
    else:
        geometry += f", auto_pad={auto_pad!r}"
    if kind in ("Conv", "ConvTranspose"):
        k = ints(draw, rank, 1, 3)
        m = draw(st.integers(1, 3))
        w = (m, c, *k) if kind == "Conv" else (c, m, *k)
        names = ["X", "W", "B"] if draw(st.booleans()) else ["X", "W"]
        extra = f", dilations={ints(draw, rank, 1, 2)}"
        if kind == "ConvTranspose":
            if draw(st.booleans()):
                extra += f", output_shape={ints(draw, rank, 1, 12)}"
            else:
                extra += f", output_padding={ints(draw, rank, 0, 1)}"
        shapes = {"X": x, "W": w} | ({"B": (w[1] if kind == "ConvTranspose" else m,)} if len(names) == 3 else {})
        return f"make_node({kind!r}, {names}, ['Y'], {geometry}{extra})", shapes
    if kind in ("MaxPool", "AveragePool", "LpPool"):
        k = ints(draw, rank, 1, 4)
        extra = f", kernel_shape={k}, ceil_mode={draw(st.integers(0, 1))}"
        extra += f", dilations={ints(draw, rank, 1, 2)}" if kind != "LpPool" else f", p={draw(st.integers(1, 3))}"
        extra += f", count_include_pad={draw(st.integers(0, 1))}" if kind == "AveragePool" else ""
        return f"make_node({kind!r}, ['X'], ['Y'], {geometry}{extra})", {"X": x}
    if kind == "MaxUnpool":
        k = ints(draw, rank, 2, 3)
        extra = f", kernel_shape={k}, strides={ints(draw, rank, 1, 3)}, pads={ints(draw, 2 * rank, 0, 1)}"
        if draw(st.booleans()):
            names = ["X", "I", "output_shape"]
            extra += f", output_shape={[*x[:2], *ints(draw, rank, 1, 12)]}"
        else:
            names = ["X", "I"]
        return f"make_node('MaxUnpool', {names}, ['Y']{extra})", {"X": x, "I": x}
    if kind == "Global":
        name = draw(st.sampled_from(["GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"]))
        return f"make_node({name!r}, ['X'], ['Y'])", {"X": x}
    if kind == "Pad":
        mode = draw(st.sampled_from(["constant", "reflect", "edge", "wrap"]))
        pads = ints(draw, 2 * len(x), -1, 2)
        return f"make_node('Pad', ['X', 'pads'], ['Y'], mode={mode!r}, pads={pads}, value=1.5)", {"X": x}
    if kind == "Resize":
        mode = draw(st.sampled_from(["nearest", "linear", "cubic"]))
        coordinate = draw(st.sampled_from(["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"]))
        x4 = x if mode != "cubic" else (*x[:2], *ints(draw, 2, 1, 7))
        if draw(st.booleans()):
            values = f"['X', '', 'scales'], ['Y'], scales={[1.0, 1.0, *[draw(st.sampled_from([0.5, 1.5, 2.0, 3.0])) for _ in x4[2:]]]}"
        else:
            values = f"['X', '', '', 'sizes'], ['Y'], sizes={[*x4[:2], *ints(draw, len(x4) - 2, 1, 9)]}"
        return f"make_node('Resize', {values}, mode={mode!r}, coordinate_transformation_mode={coordinate!r})", {"X": x4}
    b = draw(st.integers(1, 3))
    x = (x[0], c * b * b if kind == "DepthToSpace" else c, *(b * draw(st.integers(1, 3)) for _ in range(2)))
    mode = f", mode={draw(st.sampled_from(['DCR', 'CRD']))!r}" if kind == "DepthToSpace" else ""
    return f"make_node({kind!r}, ['X'], ['Y'], blocksize={b}{mode})", {"X": x}


def mapped_node(case):
    try:
        return map_call(case[0], shapes=case[1])
    except ConvArithError:
        return None


@given(nodes())
@SETTINGS
def test_emit_round_trip(case):
    """map(emit(op)) == op, field by field, for the ops of ONNX's own nodes."""
    mapped = mapped_node(case)
    assume(mapped is not None)
    op = mapped.ops[0]
    text = translation.emit(op)
    assert map_call(text, shapes=translation.shapes_for(op)).ops[0] == op, text


def test_emit_writes_a_negative_same_padding_as_auto_pad():
    """onnxruntime's pool SAME padding is not clamped: a negative pad is emitted as the auto_pad."""
    call = "make_node('AveragePool', ['X'], ['Y'], strides=[2], auto_pad='SAME_UPPER', kernel_shape=[1])"
    op = map_call(call, shapes={"X": (1, 1, 2)}).ops[0]
    assert op.pad_hi == (-1,)
    assert "auto_pad='SAME_UPPER'" in translation.emit(op)


@pytest.mark.parametrize(
    ("expr", "shape", "why"),
    [
        ("lax.conv_general_dilated(x, w, (1,), [(1, 1)], lhs_dilation=(2,))", {"x": (1, 2, 5), "w": (3, 2, 3)},
         "lhs_dilation"),
        ("lax.conv_general_dilated(x, w, (1,), 'VALID')", {"x": (1, 2, 2), "w": (3, 2, 3)}, "this conv op"),
        ("nn.AvgPool2d(3, divisor_override=2)", (1, 2, 7, 7), "divisor_override"),
        ("nn.LPPool1d(2, 3)", (1, 2, 7), "Lp pool of mode 'signed_mean'"),
        ("nn.Conv1d(2, 3, 3, padding=1, padding_mode='reflect')", (1, 2, 7), "padding mode"),
    ],
)  # fmt: skip
def test_emit_refuses_what_no_node_says(expr, shape, why):
    mapped = map_call(expr, shapes=shape) if isinstance(shape, dict) else map_call(expr, shape)
    with pytest.raises(ConvArithError, match=why) as error:
        translation.emit(mapped.ops[0])
    assert "Rule:" in str(error.value) and "Fix: closest:" in str(error.value)


@pytest.mark.parametrize(
    ("auto_pad", "intent"),
    [("NOTSET", "explicit"), ("VALID", "valid"), ("SAME_UPPER", "same_upper"), ("SAME_LOWER", "same_lower")],
)
@pytest.mark.parametrize("op_type", ["Conv", "ConvTranspose", "MaxPool"])
def test_padding_intent(op_type, auto_pad, intent):
    weights = {"W": (2, 2, 3, 3)} if op_type != "MaxPool" else {}
    kernel = ", kernel_shape=[3, 3]" if op_type == "MaxPool" else ""
    names = ["X", "W"] if weights else ["X"]
    call = f"make_node({op_type!r}, {names}, ['Y'], strides=[2, 2], auto_pad={auto_pad!r}{kernel})"
    assert map_call(call, shapes={"X": (1, 2, 7, 6)} | weights).padding_intent == (intent, intent)


def test_padding_intent_of_output_shape_global_pools_and_pad():
    shapes = {"X": (1, 2, 5), "W": (2, 3, 3)}
    transposed = "make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[2], auto_pad='SAME_UPPER', output_shape=[9])"
    assert map_call(transposed, shapes=shapes).padding_intent == ("explicit",)
    assert map_call("make_node('GlobalMaxPool', ['X'], ['Y'])", shapes=shapes).padding_intent == ("valid",)
    pad = "make_node('Pad', ['X', 'pads'], ['Y'], pads=[0, 0, 1, 0, 0, 2])"
    assert map_call(pad, shapes=shapes).padding_intent == ("explicit",)


def run_lines(lines, names: dict) -> dict:
    namespace = {"np": np, **names}
    exec("\n".join(lines), namespace)  # the library's generated NumPy lines
    return namespace


@given(nodes(), st.integers(0, 2**16))
@SETTINGS
def test_source_to_canonical_is_the_adapters(case, seed):
    """The to_canonical lines give the x and params reference.adapters.prepare gives, on random arrays."""
    mapped = mapped_node(case)
    assume(mapped is not None)
    rng = np.random.default_rng(seed)
    arrays = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in case[1].items()}
    op = mapped.ops[0]
    if op.kind == "max_unpool":  # I: positions within each plane, counted over the whole output
        plane = int(np.prod(translation.out_shape(op)[2:]))
        local = rng.integers(0, plane, size=case[1]["I"])
        arrays["I"] = local + np.arange(op.batch * op.in_channels).reshape(local.shape[:2] + (1,) * op.rank) * plane
    source = translation.source(mapped)
    assert source.signature == ", ".join(name for _, name in adapters.array_names(mapped.call))
    got = run_lines(source.to_canonical, arrays)
    plan = adapters.prepare(case[0], arrays=arrays)
    np.testing.assert_array_equal(got["x"], plan.x)
    assert len(got["params"]) == len(plan.params)
    for (w, b), (w_ref, b_ref) in zip(got["params"], plan.params):
        for mine, theirs in ((w, w_ref), (b, b_ref)):
            assert (mine is None) == (theirs is None)
            if mine is not None:
                np.testing.assert_array_equal(mine, theirs)
    y = run_lines(source.from_canonical, {"y": np.zeros(translation.out_shape(mapped.ops[-1]), np.float32)})["y"]
    assert y.shape == tuple(mapped.output_shape)


def test_source_of_a_pad_over_the_last_axis_reshapes():
    mapped = map_call(
        "make_node('Pad', ['X', 'pads'], ['Y'], pads=[0, 0, 0, 1, 0, 0, 0, 2])", shapes={"X": (2, 3, 4, 5)}
    )
    source = translation.source(mapped)
    assert source.to_canonical[0] == "x = np.asarray(X.reshape((6, 4, 5)), dtype=np.float32)"
    assert source.from_canonical == ("y = y.reshape((2, 3, 4, 8))",)


def test_source_run_writes_the_node_from_its_values():
    mapped = map_call(
        "helper.make_node('Resize', ['X', '', 'scales'], ['Y'], mode='linear', scales=[1, 1, 2, 2])",
        shapes={"X": (1, 2, 3, 3)},
    )
    source = translation.source(mapped)
    assert source.signature == "X"
    assert "inits.append(numpy_helper.from_array(np.array([1.0, 1.0, 2.0, 2.0], np.float32), 'scales'))" in source.run
    assert "node = helper.make_node('Resize', ['X', '', 'scales'], ['Y'], mode='linear')" in source.run


@pytest.mark.parametrize("name", ["x.1", "model", "helper", "lambda"])
def test_source_refuses_tensor_names_that_are_not_parameters(name):
    mapped = map_call(f"make_node('MaxPool', [{name!r}], ['Y'], kernel_shape=[2])", shapes={name: (1, 2, 6)})
    with pytest.raises(ConvArithError, match=f"tensor name '{name}'.*Rule:.*Fix:"):
        translation.source(mapped)


def target_of(expr, shape):
    mapped = map_call(expr, shapes=shape) if isinstance(shape, dict) else map_call(expr, shape)
    return translation.target(mapped)


@pytest.mark.parametrize(
    ("expr", "shape", "calls", "note"),
    [
        ("nn.Conv2d(2, 3, 3, padding=1)", (1, 2, 6, 6), ["Conv"], None),
        ("tf.nn.conv2d(x, w, 2, 'SAME')", {"x": (1, 6, 7, 2), "w": (3, 3, 2, 4)}, ["Conv"], "auto_pad='SAME_UPPER'"),
        ("make_node('Conv', ['X', 'W'], ['Y'], auto_pad='SAME_LOWER', strides=[2])", {"X": (1, 2, 6), "W": (3, 2, 2)},
         ["Conv"], "auto_pad='SAME_LOWER'"),
        ("nn.Conv1d(2, 3, 3, padding=2, padding_mode='circular')", (1, 2, 6), ["Pad", "Conv"], "mode 'wrap'"),
        ("lax.conv_general_dilated(x, w, (1,), [(1, -1)], lhs_dilation=(2,))", {"x": (1, 2, 5), "w": (3, 2, 3)},
         ["Reshape", "Pad", "Reshape", "Slice", "Slice", "Pad", "Conv"], "lhs dilation"),
        ("nn.AvgPool2d(3, 2, 1, divisor_override=2)", (1, 2, 7, 7), ["Pad", "Conv", "Div"], "divisor"),
        ("nn.AvgPool1d(3, 2, 1, ceil_mode=True)", (1, 2, 8), ["AveragePool"], None),
        ("nn.MaxPool1d(2, 1, 1, dilation=3)", (1, 1, 2), ["MaxPool", "Where"], "no input cell"),
        ("nn.ConvTranspose1d(2, 3, 3, stride=2, output_padding=2, dilation=3)", (1, 2, 4),
         ["ConvTranspose", "Pad", "Add"], "the bias is added after the Pad"),
        ("nn.ConvTranspose1d(2, 3, 3, stride=2, padding=2, output_padding=1)", (1, 2, 4), ["ConvTranspose"], None),
        ("nn.AdaptiveAvgPool1d(3)", (1, 2, 7), ["Slice", "ReduceMean"] * 3 + ["Concat"], "unequal"),
        ("nn.PixelUnshuffle(2)", (1, 2, 4, 4), ["Reshape", "Transpose", "Reshape"], "CRD"),
        ("keras.layers.Conv1D(2, 3, activation='swish')", (1, 7, 2), ["Conv", "Sigmoid", "Mul"], "activation"),
        ("lax.conv_general_dilated(x, w, (1,), 'VALID', batch_group_count=2)", {"x": (4, 2, 5), "w": (4, 2, 3)},
         ["Slice", "Conv", "Slice", "Conv", "Concat"], "batch_group_count=2"),
    ],
)  # fmt: skip
def test_target_nodes(expr, shape, calls, note):
    target = target_of(expr, shape)
    assert [call.split("(")[1].split(",")[0].strip("'") for call in target.calls] == calls
    assert target.call in target.calls
    assert all(line.startswith(("nodes", "inits", "graph", "model", "options", "session", "y =", "empty", "    ", ")"))
               for line in target.body)  # fmt: skip
    if note is None:
        assert not target.notes
    else:
        assert any(note in text for text in target.notes), target.notes


def test_target_of_an_empty_output_is_numpy_zeros():
    target = target_of("nn.Conv1d(2, 3, 3)", (0, 2, 5))
    assert target.body == ("y = np.zeros((0, 3, 3), np.float32)",)


def test_target_softmax_on_the_source_layouts_last_axis():
    target = target_of("keras.layers.Conv2D(4, 3, activation='softmax')", (1, 6, 6, 2))
    assert target.calls[-1].endswith("axis=1)")  # channels_last: the last axis is the canonical channel axis


@pytest.mark.parametrize(
    ("expr", "shape", "what"),
    [
        ("keras.layers.Conv1D(4, 3, activation='glu')", (1, 7, 2), "activation='glu'"),
        ("tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], 'SAME', dilations=[2, 2])", {"x": (1, 7, 7, 2), "w": (3, 3, 2, 1)},
         "space-to-batch"),
        ("keras.layers.UpSampling2D(2, interpolation='bicubic')", (1, 4, 4, 2), "tabled cubic"),
        ("tf.image.resize(x, (6, 6), method='area')", {"x": (1, 4, 4, 2)}, "area resize.*not by whole factors"),
        ("tf.image.resize(x, (6, 6), method='gaussian')", {"x": (1, 4, 4, 2)}, "resize mode 'gaussian'"),
        ("F.pad(x, (1, -1), mode='circular')", {"x": (1, 2, 1)}, "mode 'circular'"),
    ],
)  # fmt: skip
def test_target_refusals_say_why_and_what_comes_closest(expr, shape, what):
    with pytest.raises(ConvArithError, match=what) as error:
        target_of(expr, shape)
    assert "Rule:" in str(error.value) and "Fix:" in str(error.value)


def test_every_robust_seed_translates_or_refuses():
    """source, target and emit on the ops of every robust seed: an answer or a ConvArithError, nothing else."""
    from tests.unit.robust_seeds import SEEDS

    answered = 0
    for expr, input_shape, shapes, output_size in SEEDS:
        try:
            mapped = map_call(expr, input_shape, shapes=shapes, output_size=output_size)
        except ConvArithError:
            continue
        for step in (translation.target, translation.source, lambda m: [translation.emit(op) for op in m.ops]):
            try:
                step(mapped)
                answered += 1
            except ConvArithError as exc:
                assert "Rule:" in str(exc) and "Fix:" in str(exc), (expr, str(exc))
    assert answered > len(SEEDS)


def test_target_tries_the_sources_padding_intent_first():
    """A TF SAME conv (odd total) whose intent says same_upper becomes auto_pad='SAME_UPPER' where
    onnxruntime gives the same op; with a dilation (onnxruntime's SAME refuses it) explicit pads."""
    from convarith.core.record import replace

    for dilation, spelled in ((1, "auto_pad='SAME_UPPER'"), (2, "pads=[")):
        mapped = map_call(
            f"tf.nn.conv2d(x, w, 1, 'SAME', dilations={dilation})", shapes={"x": (1, 6, 7, 2), "w": (2, 2, 2, 3)}
        )
        target = translation.target(replace(mapped, padding_intent=("same_upper", "same_upper")))
        assert spelled in target.call
        assert any("auto_pad" in note for note in target.notes) == (dilation == 1)
