"""translate.keras without running Keras: emit round trips, the source's NumPy lines against
reference.adapters, and the refusals (rule and fix)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from convarith.api import map_call
from convarith.reference import adapters
from convarith.translate import keras as translate_keras
from convarith.translate import steps
from tests.differential.test_global_pool import keras_globals
from tests.differential.test_numerics_keras import conv_layers, pool_layers
from tests.differential.test_padding import keras_pads
from tests.differential.test_resize import keras_calls
from tests.unit.robust_seeds import SEEDS

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def mapped_or_none(expr, shape):
    try:
        return map_call(expr, shape)
    except convarith.ConvArithError:
        return None


keras_cases = st.one_of(
    conv_layers().map(lambda case: case[:2]),
    pool_layers(),
    keras_pads(),
    keras_globals(numbers=True).map(lambda case: case[:2]),
    keras_calls(numeric=True),
)


@given(keras_cases)
@SETTINGS
def test_emit_maps_back_to_the_same_op(case):
    expr, shape = case
    mapped = mapped_or_none(expr, tuple(shape))
    assume(mapped is not None)
    for op in mapped.ops[:1] if mapped.layer == "separable" else mapped.ops:
        text = translate_keras.emit(op)
        assert map_call(text, op.input_shape).ops[0] == op, f"{expr} -> {text}"


def test_emit_writes_the_layer_a_user_would():
    op = map_call("keras.layers.Conv2D(4, 3, strides=2, padding='same')", (1, 7, 7, 2)).ops[0]
    assert translate_keras.emit(op) == "keras.layers.Conv2D(4, kernel_size=3, strides=2, padding='same')"
    op = map_call("nn.Conv2d(3, 6, 3, padding=1, groups=3, bias=False)", (1, 3, 8, 8)).ops[0]
    op = op.with_(in_spec=(0, 3, 1, 2), out_spec=(0, 3, 1, 2))
    assert translate_keras.emit(op) == (
        "keras.layers.DepthwiseConv2D(kernel_size=3, padding='same', depth_multiplier=2, use_bias=False)"
    )
    op = map_call("keras.layers.Conv2DTranspose(2, 4, strides=2, padding='same', output_padding=1)", (1, 3, 3, 1))
    assert "output_padding=1" in translate_keras.emit(op.ops[0])


@pytest.mark.parametrize(
    ("expr", "shape", "why"),
    [
        ("nn.Conv2d(2, 2, 3, padding=(1, 0))", (1, 2, 5, 5), "none of its padding rules"),  # same on one axis only
        ("nn.Conv2d(2, 2, 3, padding=1)", (1, 2, 5, 5), "neither channels_last nor channels_first"),
        ("nn.Unfold(2)", (1, 2, 5, 5), "Keras has no such layer"),
        ("nn.Conv2d(2, 2, 3, padding=1)", (1, 2, 5, 5), "channels_first on the CPU; channels_last it is"),
    ],
)
def test_emit_refuses_with_rule_and_fix(expr, shape, why):
    op = map_call(expr, shape).ops[0]
    if "neither" in why:
        op = op.with_(in_spec=(1, 0, 2, 3))
    elif "padding rules" in why:
        op = op.with_(in_spec=(0, 3, 1, 2), out_spec=(0, 3, 1, 2))
    with pytest.raises(convarith.ConvArithError, match=why) as error:
        translate_keras.emit(op)
    assert "Rule:" in str(error.value) and "Fix:" in str(error.value)


def run_lines(lines, scope):
    exec("\n".join(lines), scope)  # test: the NumPy lines convarith generated
    return scope


source_cases = st.one_of(
    conv_layers(),
    pool_layers().map(lambda case: (*case, [], 0)),
    keras_globals(numbers=True).map(lambda case: (*case[:2], [], 0)),
)


@given(source_cases)
@SETTINGS
def test_source_lines_do_what_the_adapters_do(case):
    expr, shape, weight_shapes, seed = case
    mapped = mapped_or_none(expr, tuple(shape))
    assume(mapped is not None and mapped.activation in ("", "relu"))
    assume(not (mapped.activation and adapters.keras_bias_on_last_axis(mapped)))  # refused: see below
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(tuple(shape)).astype(np.float32)
    weights = [rng.standard_normal(s).astype(np.float32) for s in weight_shapes]
    plan = adapters.prepare(expr, x, weights)
    source = translate_keras.source(mapped)
    scope = run_lines(source.to_canonical, {"np": np, "x": x, "weights": weights})
    np.testing.assert_array_equal(scope["x"], plan.x)
    assert len(scope["params"]) == len(plan.params)
    for (w, b), (w_ref, b_ref) in zip(scope["params"], plan.params):
        for ours, theirs in ((w, w_ref), (b, b_ref)):
            assert (ours is None) == (theirs is None)
            if ours is not None:
                np.testing.assert_array_equal(ours, theirs)
    y = rng.standard_normal(convarith.core.arith.output_shape(mapped.ops[-1])).astype(np.float32)
    last = mapped.ops[-1]
    canonical = (
        np.transpose(y, last.out_spec) if len(last.out_spec) == y.ndim else y.reshape(y.shape[:2] + (1,) * last.rank)
    )
    ours = run_lines(source.from_canonical, {"np": np, "y": canonical, **scope})["y"]
    np.testing.assert_array_equal(ours, adapters.finish(plan, canonical, activate=False))


def test_layouts_are_the_adapters_own():
    w = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(steps.apply(translate_keras.kernel_steps(2), w), adapters.spatial_last(w, 2))
    dk = np.arange(3 * 2 * 4 * 2).reshape(3, 2, 4, 2)
    np.testing.assert_array_equal(
        steps.apply(translate_keras.depthwise_steps((3, 2), 4, 2), dk), adapters.depthwise_canonical(dk, 2)
    )
    back = steps.inverse(translate_keras.depthwise_steps((3, 2), 4, 2))
    np.testing.assert_array_equal(steps.apply(back, adapters.depthwise_canonical(dk, 2)), dk)


def test_source_refuses_an_activation_after_the_last_axis_bias():
    mapped = map_call("keras.layers.Conv3D(3, 1, activation='relu', data_format='channels_first')", (1, 1, 3, 3, 3))
    with pytest.raises(convarith.ConvArithError, match="last axis") as error:
        translate_keras.source(mapped)
    assert "Rule:" in str(error.value) and "Fix: activation=None" in str(error.value)


def test_source_writes_the_call_from_its_values():
    mapped = map_call(
        "keras.layers.Conv2D(4, (3, 3), 2, 'same', activation=keras.activations.relu, kernel_initializer='zeros', "
        "name='c', dtype='float32')",
        (1, 5, 5, 2),
    )
    run = translate_keras.source(mapped).run
    assert run[0] == "keras_layer = keras.layers.Conv2D(4, (3, 3), 2, 'same', activation='relu')"


@pytest.mark.parametrize(
    ("expr", "shape", "match"),
    [
        ("keras.layers.ZeroPadding1D(1)", (1, 0, 2), "input or output is empty"),
    ],
)
def test_target_refusals_say_why_and_what_comes_closest(expr, shape, match):
    shapes = shape if isinstance(shape, dict) else None
    with pytest.raises(convarith.ConvArithError, match=match) as error:
        translate_keras.target(map_call(expr, None if shapes else shape, shapes=shapes))
    assert "Rule:" in str(error.value) and "Fix:" in str(error.value)


@pytest.mark.parametrize(
    ("expr", "shape", "calls"),
    [
        ("nn.Conv2d(3, 4, 3, padding=1)", (1, 3, 5, 5), ["keras.layers.Conv2D(4, kernel_size=3, padding='same')"]),
        (
            "tf.nn.conv2d(x, w, 2, 'SAME')",
            None,
            ["keras.layers.Conv2D(4, kernel_size=3, strides=2, padding='same', use_bias=False)"],
        ),
        (
            "nn.Conv2d(3, 4, 3, stride=2, padding=1)",
            (1, 3, 6, 6),
            [
                "keras.layers.ZeroPadding2D(((1, 1), (1, 1)))",
                "keras.layers.Conv2D(4, kernel_size=3, strides=2, padding='valid')",
            ],
        ),
        (
            "nn.Conv2d(2, 2, 3, stride=2, dilation=2)",
            (1, 2, 9, 9),
            ["keras.layers.Conv2D(2, kernel_size=5, strides=2, padding='valid')"],
        ),
    ],
)
def test_target_prefers_keras_padding_when_it_is_the_same_op(expr, shape, calls):
    shapes = {"x": (1, 6, 6, 3), "w": (3, 3, 3, 4)} if shape is None else None
    assert list(translate_keras.target(map_call(expr, shape, shapes=shapes)).calls) == calls


def test_target_notes_each_extra_step():
    target = translate_keras.target(map_call("nn.AvgPool2d(3, 2, padding=1, ceil_mode=True)", (1, 2, 6, 7)))
    assert any("divisor correction" in note for note in target.notes)
    assert any("ZeroPadding2D" in note for note in target.notes)
    target = translate_keras.target(map_call("nn.ConvTranspose2d(4, 4, 3, groups=2, dilation=2)", (1, 4, 5, 5)))
    assert any("block-diagonal" in note for note in target.notes)
    assert any("spread" in note for note in target.notes)
    target = translate_keras.target(map_call("nn.Upsample(scale_factor=2, mode='bicubic')", (1, 2, 3, 3)))
    assert target.calls == ("keras.ops.take (a sampling table per axis)",)
    target = translate_keras.target(map_call("nn.Upsample(scale_factor=3)", (1, 2, 3, 3)))
    assert target.calls == ("keras.layers.UpSampling2D(3)",)


@pytest.mark.parametrize("seed", SEEDS, ids=[seed[0] for seed in SEEDS])
def test_every_robust_seed_translates_or_refuses(seed):
    """target, emit and (for Keras) source on every call of the robust seeds: a result or a ConvArithError."""
    expr, input_shape, shapes, output_size = seed
    try:
        mapped = map_call(expr, input_shape, shapes=shapes, output_size=output_size)
    except convarith.ConvArithError:
        return
    for step in [lambda: translate_keras.target(mapped)] + [
        lambda op=op: translate_keras.emit(op) for op in mapped.ops
    ]:
        try:
            step()
        except convarith.ConvArithError as error:
            assert "Rule:" in str(error) and "Fix:" in str(error)
    if mapped.framework_id == "keras":
        try:
            translate_keras.source(mapped)
        except convarith.ConvArithError as error:
            assert "Rule:" in str(error) and "Fix:" in str(error)


def test_target_keeps_the_source_padding_rule_where_both_give_the_op():
    same = translate_keras.target(map_call("keras.layers.Conv2D(3, 1, padding='same')", (1, 5, 5, 2)))
    valid = translate_keras.target(map_call("keras.layers.Conv2D(3, 1)", (1, 5, 5, 2)))
    assert same.calls == ("keras.layers.Conv2D(3, kernel_size=1, padding='same')",)
    assert valid.calls == ("keras.layers.Conv2D(3, kernel_size=1, padding='valid')",)


@pytest.mark.parametrize("source", ["jax_lax", "keras", "onnx", "tf_nn", "torch"])
def test_generated_calls_translate_or_refuse(source):
    """target and emit on calls from every framework's generators (refused ones included, no Keras run):
    a result or a ConvArithError, never another exception."""
    from tests.differential.test_translate_to_keras import SOURCES

    @given(SOURCES[source])
    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case):
        expr, input_shape, shapes, output_size = case
        try:
            mapped = map_call(expr, input_shape, shapes=shapes, output_size=output_size)
        except convarith.ConvArithError:
            return
        for step in [lambda: translate_keras.target(mapped)] + [
            lambda op=op: translate_keras.emit(op) for op in mapped.ops
        ]:
            try:
                step()
            except convarith.ConvArithError as error:
                assert "Rule:" in str(error) and "Fix:" in str(error)

    check()


@pytest.mark.parametrize(
    ("expr", "shape", "shapes", "zeros"),
    [
        ("nn.Conv2d(2, 3, 3)", (0, 2, 5, 5), None, "t = keras.ops.zeros((0, 3, 3, 3))"),
        ("tf.nn.max_pool1d(x, 3, 1, 'VALID')", None, {"x": (1, 2, 1)}, "t = keras.ops.zeros((1, 0, 1))"),
    ],
)
def test_an_empty_output_is_an_empty_tensor_of_its_shape(expr, shape, shapes, zeros):
    target = translate_keras.target(map_call(expr, shape, shapes=shapes))
    assert target.calls == ("keras.ops.zeros",)
    assert target.body[0] == zeros


def test_an_activation_folds_into_the_keras_conv_it_follows():
    """A conv's activation goes into the layer's activation= (no separate keras.activations step)."""
    translation = convarith.translate("nn.Conv2d(3, 4, 3)", "keras", (1, 3, 8, 8))
    assert len(translation.calls) == 1
    folded = convarith.translate("keras.layers.Conv2D(4, 3, activation='relu')", "keras", (1, 8, 8, 3))
    assert folded.calls == ("keras.layers.Conv2D(4, kernel_size=3, padding='valid', activation='relu')",)
    assert "keras_layer = keras.layers.Conv2D(" in folded.code and "def layer(" in folded.code
