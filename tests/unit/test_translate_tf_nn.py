"""translate.tf_nn without TensorFlow: emit round trips, the source steps equal the adapters', the target's
choices of padding spelling and extra steps, padding_intent, refusals with rule and fix."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convarith.api import map_call
from convarith.core.op import channels_first
from convarith.errors import ConvArithError
from convarith.reference import adapters
from convarith.translate import tf_nn
from tests.differential import test_numerics_tf_nn as tf_calls
from tests.differential import test_numerics_torch as torch_calls
from tests.unit.robust_seeds import SEEDS
from tests.unit.test_robust import mutated_cases

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def mapped_or_none(expr, input_shape=None, shapes=None, output_size=None):
    try:
        return map_call(expr, input_shape, shapes=shapes, output_size=output_size)
    except ConvArithError:
        return None


@given(st.one_of(tf_calls.conv_calls().map(lambda c: c[:2]), tf_calls.pool_calls()))
@SETTINGS
def test_emit_round_trips_the_ops_of_tf_nn_calls(case):
    expr, shapes = case
    mapped = mapped_or_none(expr, shapes=shapes)
    assume(mapped is not None)
    op = mapped.ops[0]
    text = tf_nn.emit(op)
    assert map_call(text, shapes=tf_nn.emit_shapes(op)).ops[0] == op, text


@given(st.one_of(torch_calls.pool_modules(), torch_calls.conv_modules().map(lambda c: c[:2])))
@SETTINGS
def test_emit_gives_the_op_or_refuses_for_other_frameworks_ops(case):
    """A torch op in channels-last form: emitted exactly, or a ConvArithError naming a rule and a fix."""
    expr, shape = case
    mapped = mapped_or_none(expr, tuple(shape))
    assume(mapped is not None)
    op = tf_nn.last_form(mapped.ops[0])
    try:
        text = tf_nn.emit(op)
    except ConvArithError as error:
        assert "Rule:" in str(error) and "Fix:" in str(error)
        return
    assert map_call(text, shapes=tf_nn.emit_shapes(op)).ops[0] == op, text


def test_emit_spells_each_family():
    cases = {
        "tf.nn.conv2d(x, w, strides=[1, 2, 2, 1], padding=[[0, 0], [1, 0], [2, 1], [0, 0]])": {
            "x": (1, 7, 8, 2), "w": (3, 3, 2, 4)},
        "tf.nn.depthwise_conv2d(x, w, strides=[1, 1, 1, 1], padding='SAME', dilations=[2, 2])": {
            "x": (1, 7, 8, 2), "w": (3, 3, 2, 2)},
        "tf.nn.conv3d(x, w, strides=[1, 1, 2, 1, 1], padding='SAME')": {"x": (1, 4, 5, 6, 2), "w": (2, 2, 2, 2, 3)},
        "tf.nn.conv2d_transpose(x, w, [1, 10, 9, 2], 2, 'SAME')": {"x": (1, 5, 5, 3), "w": (3, 3, 2, 3)},
        "tf.nn.max_pool1d(x, 3, 2, [[0, 0], [2, 1], [0, 0]])": {"x": (1, 7, 2)},
        "tf.nn.avg_pool3d(x, 2, 3, 'SAME')": {"x": (1, 7, 5, 4, 2)},
        "tf.nn.depth_to_space(x, 2)": {"x": (1, 3, 4, 8)},
        "tf.image.resize(x, (5, 9), method='area')": {"x": (1, 7, 3, 2)},
    }  # fmt: skip
    for expr, shapes in cases.items():
        op = map_call(expr, shapes=shapes).ops[0]
        assert map_call(tf_nn.emit(op), shapes=tf_nn.emit_shapes(op)).ops[0] == op, expr


def refusal(call) -> str:
    with pytest.raises(ConvArithError) as caught:
        call()
    text = str(caught.value)
    assert "Rule:" in text and "Fix:" in text, text
    return text


def test_emit_refusals_name_rule_and_fix():
    op = map_call("nn.Conv2d(2, 3, 3)", (1, 2, 5, 5)).ops[0]
    assert op.in_spec == channels_first(2)
    assert "channels-first" in refusal(lambda: tf_nn.emit(op))
    assert "no single tf.nn call" in refusal(lambda: tf_nn.emit(tf_nn.last_form(op, bias=True)))
    lhs = map_call(
        "jax.lax.conv_general_dilated(x, w, (1,), ((0, 0),), lhs_dilation=(2,))",
        shapes={"x": (1, 2, 5), "w": (3, 2, 2)},
    )
    assert "no single tf.nn call" in refusal(lambda: tf_nn.emit(tf_nn.last_form(lhs.ops[0])))


def test_target_refusals_name_rule_and_fix():
    window = map_call("jax.lax.reduce_window(x, 0.0, jax.lax.add, (2, 2, 2, 2), (1, 1, 1, 1), 'VALID')",
                      shapes={"x": (3, 3, 3, 3)})  # fmt: skip
    assert "a window over 4 axes" in refusal(lambda: tf_nn.target(window))
    glu = map_call("keras.layers.Conv2D(4, 3, activation='glu')", (1, 5, 5, 2))
    assert "glu" in refusal(lambda: tf_nn.target(glu))


def target(expr, input_shape=None, shapes=None):
    return tf_nn.target(map_call(expr, input_shape, shapes=shapes))


def called(translated, start: str) -> bool:
    return any(call.startswith(start) for call in translated.calls)


def test_target_prefers_tf_padding_then_explicit_then_tf_pad():
    same = target("nn.Conv2d(3, 4, 3, padding=1)", (1, 3, 8, 8))  # TF's SAME is (1, 1) here
    assert "padding='SAME'" in same.call and not called(same, "tf.pad(")
    explicit = target("nn.Conv2d(3, 4, 3, stride=2, padding=1)", (1, 3, 8, 8))  # SAME would be (0, 1)
    assert "padding=[[0, 0], [1, 1], [1, 1], [0, 0]]" in explicit.call and not called(explicit, "tf.pad(")
    padded = target("nn.Conv1d(2, 3, 4, padding=2)", (1, 2, 7))  # conv1d takes no explicit list
    assert [c.partition("(")[0] for c in padded.calls[:2]] == ["tf.pad", "tf.nn.conv1d"]
    assert "padding='VALID'" in padded.call
    lower = target("onnx.helper.make_node('Conv', ['X', 'W'], ['Y'], kernel_shape=[2], auto_pad='SAME_LOWER')",
                   shapes={"X": (1, 2, 6), "W": (3, 2, 2)})  # fmt: skip
    assert called(lower, "tf.pad(") and "'SAME'" not in lower.call  # the odd cell at the start: not TF's SAME
    keras = target("keras.layers.Conv2D(4, 3, strides=2, padding='same')", (1, 9, 9, 3))
    assert "padding='SAME'" in keras.call


def test_target_steps_for_what_tf_nn_cannot_say():
    crop = target("jax.lax.conv_general_dilated(x, w, (1,), ((-2, 1),))", shapes={"x": (1, 2, 9), "w": (3, 2, 3)})
    assert called(crop, "h[") and any("Negative padding" in note for note in crop.notes)
    include = target("nn.AvgPool2d(3, stride=2, padding=1)", (1, 2, 8, 8))  # count_include_pad: pad, then VALID
    assert [c.partition("(")[0] for c in include.calls[:2]] == ["tf.pad", "tf.nn.avg_pool2d"]
    assert not any("count =" in line for line in include.body)
    exclude = target("nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)", (1, 2, 8, 9))
    assert any(line.startswith("count = ") for line in exclude.body)
    ceil = target("nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)", (1, 2, 8, 9))
    assert "padding=[[0, 0], [1, 2], [1, 1], [0, 0]]" in ceil.call  # a window past the input: -inf, as TF pads
    groups = target("nn.Conv3d(4, 6, 3, groups=2)", (1, 4, 5, 5, 5))
    assert any("for i in range(2)" in line for line in groups.body)
    dilated = target("nn.ConvTranspose2d(2, 3, 3, stride=2, dilation=2, padding=1)", (1, 2, 4, 4))
    assert any("spread" in line for line in dilated.body)
    spread = target(
        "jax.lax.conv_general_dilated(x, w, (1,), ((0, 0),), lhs_dilation=(2,))",
        shapes={"x": (1, 2, 5), "w": (3, 2, 2)},
    )
    assert any("lhs_dilation" in note for note in spread.notes)
    reduce = target(
        "jax.lax.reduce_window(x, 0.0, jax.lax.add, (1, 1, 2, 3), (1, 1, 2, 1), 'SAME')", shapes={"x": (1, 2, 5, 6)}
    )
    assert called(reduce, "tf.reshape(")


def test_softmax_acts_on_the_last_axis_keras_gives():
    last = target("keras.layers.Conv2D(4, 3, activation='softmax')", (1, 5, 5, 2))
    assert last.body[-2] == "h = tf.nn.softmax(h, axis=-1)"
    first = target("keras.layers.Conv3D(4, 3, activation='softmax', data_format='channels_first')", (1, 2, 5, 5, 6))
    assert first.body[-2] == "h = tf.nn.softmax(h, axis=3)"  # Keras's last axis is the last spatial one


CALLS = [
    ("tf.nn.conv2d(x, w, 2, 'SAME')", {"x": (2, 7, 6, 3), "w": (3, 2, 3, 4)}),
    ("tf.nn.conv2d(x, w, 1, [[0, 0], [2, 0], [1, 3], [0, 0]])", {"x": (2, 2, 5, 6, 3), "w": (3, 2, 3, 2)}),
    ("tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], 'VALID')", {"x": (1, 5, 6, 3), "w": (2, 2, 3, 2)}),
    ("tf.nn.conv3d_transpose(x, w, [1, 6, 4, 5, 2], 2, 'SAME')", {"x": (1, 3, 2, 3, 3), "w": (2, 2, 2, 2, 3)}),
    (
        "tf.nn.separable_conv2d(x, dw, pw, [1, 1, 1, 1], 'SAME')",
        {"x": (1, 5, 6, 2), "dw": (3, 3, 2, 2), "pw": (1, 1, 4, 3)},
    ),  # fmt: skip
    ("tf.image.resize(images, (5, 9))", {"images": (4, 7, 2)}),
    ("tf.nn.max_pool(x, 2, 2, 'VALID')", {"x": (1, 4, 6, 2)}),
]


@pytest.mark.parametrize(("expr", "shapes"), CALLS)
def test_source_steps_equal_the_adapters(expr, shapes):
    mapped = map_call(expr, shapes=shapes)
    source = tf_nn.source(mapped)
    rng = np.random.default_rng(3)
    arrays = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()}
    scope = {"np": np, **arrays}
    exec("\n".join(source.to_canonical), scope)  # code the library wrote: NumPy only
    plan = adapters.prepare(expr, arrays=arrays)
    np.testing.assert_array_equal(scope["x"], plan.x)
    assert len(scope["params"]) == len(plan.params)
    for (w, _), (w_ref, _) in zip(scope["params"], plan.params):
        assert (w is None) == (w_ref is None)
        if w is not None:
            np.testing.assert_array_equal(w, w_ref)
    last = mapped.ops[-1]
    canonical = (last.batch, last.out_channels, *adapters.arith_spatial(last))
    scope["y"] = rng.standard_normal(canonical).astype(np.float32)
    expected = adapters.finish(plan, scope["y"])
    exec("\n".join(source.from_canonical), scope)
    np.testing.assert_array_equal(scope["y"], expected)
    assert "tf.constant(" in source.run[0] and source.run[0].endswith(".numpy()")


def test_source_run_writes_shape_references_as_numbers():
    mapped = map_call("tf.nn.conv2d_transpose(x, w, tf.shape(y), 2, 'SAME')",
                      shapes={"x": (1, 5, 5, 3), "w": (3, 3, 2, 3), "y": (1, 10, 9, 2)})  # fmt: skip
    assert "[1, 10, 9, 2]" in tf_nn.source(mapped).run[0]


@pytest.mark.parametrize(
    ("expr", "shapes", "intent"),
    [
        ("tf.nn.conv2d(x, w, 1, 'SAME')", {"x": (1, 5, 5, 2), "w": (3, 3, 2, 2)}, ("same_upper",) * 2),
        ("tf.nn.conv1d(x, w, 1, 'VALID')", {"x": (1, 5, 2), "w": (3, 2, 2)}, ("valid",)),
        ("tf.nn.conv2d(x, w, 1, [[0, 0], [1, 0], [0, 0], [0, 0]])", {"x": (1, 5, 5, 2), "w": (3, 3, 2, 2)}, ("explicit",) * 2),
        ("tf.nn.conv2d_transpose(x, w, [1, 10, 10, 2], 2)", {"x": (1, 5, 5, 3), "w": (3, 3, 2, 3)}, ("same_upper",) * 2),
        ("tf.nn.max_pool3d(x, 2, 2, 'VALID')", {"x": (1, 4, 4, 4, 1)}, ("valid",) * 3),
        ("tf.nn.pool(x, [2], 'AVG', padding='SAME')", {"x": (1, 4, 1)}, ("same_upper",)),
        ("tf.nn.separable_conv2d(x, dw, pw, [1, 1, 1, 1], 'VALID')",
         {"x": (1, 5, 6, 2), "dw": (3, 3, 2, 1), "pw": (1, 1, 2, 3)}, ("valid",) * 2),
        ("tf.nn.atrous_conv2d(x, w, 2, 'SAME')", {"x": (1, 7, 7, 2), "w": (3, 3, 2, 2)}, ("same_upper",) * 2),
    ],
)  # fmt: skip
def test_padding_intent(expr, shapes, intent):
    assert map_call(expr, shapes=shapes).padding_intent == intent


def test_every_robust_seed_translates_or_is_refused_with_rule_and_fix():
    """Each seed call of every framework: tf_nn.target (and for tf.nn calls source and emit) give code or a
    ConvArithError naming a rule and a fix, never another exception."""
    written = 0
    for expr, input_shape, shapes, output_size in SEEDS:
        mapped = mapped_or_none(expr, input_shape, shapes, output_size)
        if mapped is None:
            continue
        steps = [lambda m=mapped: tf_nn.target(m)]
        if mapped.framework_id == "tf_nn":
            steps += [lambda m=mapped: tf_nn.source(m), lambda m=mapped: tf_nn.emit(m.ops[0])]
        for step in steps:
            try:
                step()
                written += 1
            except ConvArithError as error:
                assert "Rule:" in str(error) and "Fix:" in str(error), f"{expr}: {error}"
    assert written >= 0.6 * len(SEEDS)


def test_large_tables_are_refused():
    huge = map_call("nn.Upsample(size=(200000, 3), mode='nearest')", (1, 1, 2, 3))
    assert "entries" in refusal(lambda: tf_nn.target(huge))
    windows = map_call("nn.AdaptiveAvgPool1d(100000)", (1, 1, 5))
    assert "entries" in refusal(lambda: tf_nn.target(windows))


@given(mutated_cases())
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_mutated_calls_translate_or_raise_only_convarith_error(case):
    """Seeds with a piece broken: what maps translates to tf.nn, or is refused with ConvArithError."""
    expr, input_shape, shapes, output_size = case
    try:
        mapped = map_call(expr, input_shape, shapes=shapes, output_size=output_size)
    except (ConvArithError, TypeError, ValueError):  # mapping's own robustness is test_robust's
        return
    try:
        tf_nn.target(mapped)
        if mapped.framework_id == "tf_nn":
            tf_nn.source(mapped)
    except ConvArithError as error:
        assert "Rule:" in str(error) and "Fix:" in str(error), f"{expr}: {error}"
