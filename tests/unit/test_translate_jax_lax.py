"""translate.jax_lax (issue 12): emit is the reverse of the jax.lax mapping, the source's layout code
is the adapters' layout, the target chooses jax's own padding spelling only when it is the same op,
and what jax.lax cannot express is refused with the rule and a fix. (No framework is run here: the
numbers are checked in tests/differential/test_translate_*_jax_lax.py.)"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
import convarith.translate.steps
from convarith.api import map_call
from convarith.core.op import ConvOp
from convarith.core.record import replace
from convarith.reference.adapters import prepare
from convarith.translate import jax_lax
from tests.differential import test_numerics_jax_lax, test_rearrange

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
OWN_CALLS = st.one_of(
    test_numerics_jax_lax.general_calls().map(lambda case: case[:2]),
    test_numerics_jax_lax.transpose_calls().map(lambda case: case[:2]),
    test_numerics_jax_lax.default_layout_calls().map(lambda case: case[:2]),
    test_rearrange.window_calls(),
)


def mapped_or_none(expr, shapes):
    try:
        convarith.output_shape(expr, shapes=shapes)
        return map_call(expr, shapes=shapes)
    except convarith.ConvArithError:
        return None


@given(OWN_CALLS)
@SETTINGS
def test_emit_maps_back_to_the_same_op(case):
    expr, shapes = case
    mapped = mapped_or_none(expr, shapes)
    assume(mapped is not None)
    op = mapped.ops[0]
    text = jax_lax.emit(op)
    assert map_call(text, shapes=jax_lax.emit_shapes(op)).ops[0] == op, (expr, text)


@given(OWN_CALLS, st.integers(0, 2**32 - 1))
@settings(SETTINGS, max_examples=150)
def test_source_layout_code_is_the_adapters_layout(case, seed):
    expr, shapes = case
    mapped = mapped_or_none(expr, shapes)
    assume(mapped is not None)
    rng = np.random.default_rng(seed)
    arrays = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()}
    try:
        plan = prepare(expr, arrays=arrays)
    except convarith.ConvArithError:
        assume(False)  # numbers not modelled (a lax.add init other than 0)
    source = jax_lax.source(mapped)
    names = {"np": np, **arrays}
    exec("\n".join(source.to_canonical), names)  # the library's generated NumPy lines
    assert np.array_equal(names["x"], plan.x) and names["x"].flags.c_contiguous  # torch.from_numpy needs it
    for (got, _), (want, _) in zip(names["params"], plan.params):
        assert (got is None and want is None) or (np.array_equal(got, want) and got.flags.c_contiguous)
    names["y"] = canonical_output(mapped, rng)
    expected = convarith.reference.adapters.finish(plan, names["y"])
    exec("\n".join(source.from_canonical), names)
    assert np.array_equal(names["y"], expected) and names["y"].flags.c_contiguous


def canonical_output(mapped, rng) -> np.ndarray:
    from convarith.core import arith

    op = mapped.ops[-1]
    shape = (op.batch // op.batch_groups, op.out_channels, *(max(s, 0) for s in arith.output_spatial(op)))
    return rng.standard_normal(shape).astype(np.float32)


def test_source_signature_and_run_are_the_call_written_out():
    mapped = map_call(
        "lax.conv_general_dilated(lhs, kernel, (2,), 'SAME', dimension_numbers=('NHC', 'OIH', 'CHN'))",
        shapes={"lhs": (2, 7, 4), "kernel": (6, 4, 3)},
    )
    source = jax_lax.source(mapped)
    assert source.signature == "lhs, kernel"
    assert source.run == (
        "y = np.asarray(lax.conv_general_dilated(jnp.asarray(lhs), jnp.asarray(kernel), (2,), 'SAME', "
        "dimension_numbers=('NHC', 'OIH', 'CHN')))",
    )
    assert source.from_canonical == ("y = np.ascontiguousarray(np.transpose(y, (1, 2, 0)))",)


@pytest.mark.parametrize(
    ("expr", "shapes", "intent"),
    [
        ("lax.conv(x, w, (2, 2), 'SAME')", {"x": (1, 3, 7, 7), "w": (4, 3, 3, 3)}, ("same_upper", "same_upper")),
        ("lax.conv_general_dilated(x, w, (1,), 'same_lower')", {"x": (1, 3, 7), "w": (4, 3, 2)}, ("same_lower",)),
        ("lax.conv(x, w, (1,), 'VALID')", {"x": (1, 3, 7), "w": (4, 3, 2)}, ("valid",)),
        ("lax.conv(x, w, (1,), [(1, 0)])", {"x": (1, 3, 7), "w": (4, 3, 2)}, ("explicit",)),
        ("lax.conv_transpose(x, w, (2,), 'SAME')", {"x": (1, 7, 3), "w": (3, 3, 4)}, ("same_upper",)),
        ("lax.conv_transpose(x, w, (3,), 'SAME')", {"x": (1, 7, 3), "w": (2, 3, 4)}, ("same_lower",)),
        ("lax.conv_transpose(x, w, (2,), 'VALID')", {"x": (1, 7, 3), "w": (3, 3, 4)}, ("valid",)),
        ("lax.conv_transpose(x, w, (3,), 'VALID')", {"x": (1, 7, 3), "w": (2, 3, 4)}, ("explicit",)),
        ("lax.reduce_window(x, -jnp.inf, lax.max, (3,), (2,), 'SAME')", {"x": (7,)}, ("same_upper",)),
    ],
)
def test_padding_intent(expr, shapes, intent):
    assert map_call(expr, shapes=shapes).padding_intent == intent


def test_target_prefers_jax_same_only_when_it_is_the_same_op():
    tf_same = map_call("tf.nn.conv2d(x, w, 2, 'SAME')", shapes={"x": (1, 8, 7, 3), "w": (3, 2, 3, 4)})
    assert "padding=[(0, 1), (0, 1)]" in jax_lax.target(replace(tf_same, padding_intent=())).call  # no intent
    assert "padding='SAME'" in jax_lax.target(replace(tf_same, padding_intent=("same_upper",) * 2)).call
    jax_same = map_call("lax.conv(x, w, (2, 2), 'SAME')", shapes={"x": (1, 3, 8, 7), "w": (4, 3, 3, 2)})
    assert "padding='SAME'" in jax_lax.target(jax_same).call
    lowered = replace(jax_same, padding_intent=("same_lower", "same_lower"))  # SAME_LOWER pads differ here: not taken
    assert "padding=[(0, 1), (0, 1)]" in jax_lax.target(lowered).call
    window = map_call("lax.reduce_window(x, -jnp.inf, lax.max, (3, 2), (2, 2), 'SAME_LOWER')", shapes={"x": (7, 8)})
    assert jax_lax.target(window).call.endswith("(1, 1, 2, 2), 'SAME_LOWER')")
    pooled = map_call("nn.MaxPool2d(3, 2, 1)", (1, 1, 7, 8))  # torch gives no padding intent: explicit
    assert jax_lax.target(pooled).call.endswith("[(0, 0), (0, 0), (1, 1), (1, 1)])")
    transposed = map_call(
        "lax.conv_transpose(x, w, (2, 2), 'SAME', transpose_kernel=True)", shapes={"x": (1, 4, 4, 2), "w": (3, 3, 4, 2)}
    )
    assert "padding='SAME'" in jax_lax.target(transposed).call


def test_target_body_lines_and_notes():
    grouped = map_call("nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)", (1, 4, 5, 5))
    target = jax_lax.target(grouped)
    assert "lhs_dilation=(2, 2)" in target.call and "feature_group_count=2" in target.call
    assert "padding=[(1, 2), (1, 2)]" in target.call  # k-1-p before, k-1-p+output_padding after
    assert any("flipped" in note for note in target.notes) and any("output_padding" in note for note in target.notes)
    assert target.body[0] == "x = jnp.asarray(x, jnp.float32)" and target.body[-1] == "y = np.asarray(y)"
    assert set(target.imports) <= {"import jax", "import jax.numpy as jnp", "from jax import lax", "import numpy as np"}
    pooled = jax_lax.target(map_call("nn.AvgPool1d(3, 2, 1, ceil_mode=True)", (1, 2, 6)))
    assert pooled.calls[0].startswith(
        "lax.reduce_window(x, 0.0, lax.add, (1, 1, 3), (1, 1, 2), [(0, 0), (0, 0), (1, 2)]"
    )  # ceil: 1 more
    assert "y = total / count" in pooled.body
    softmax = jax_lax.target(map_call("keras.layers.Conv2D(4, 3, activation='softmax')", (1, 6, 6, 2)))
    assert softmax.body[-2] == "y = jax.nn.softmax(y, axis=1)"  # canonical channels: Keras's last axis


def test_grouped_transposed_kernel_steps():
    op = map_call("nn.ConvTranspose1d(4, 6, 2, groups=2)", (1, 4, 5)).ops[0]
    w = np.arange(4 * 3 * 2).reshape(4, 3, 2)
    forward = convarith.translate.steps.apply(jax_lax.forward_kernel_steps(op), w)
    assert forward.shape == (6, 2, 2)
    # output channel 3 is group 1's first: its input channels 2, 3, the taps reversed
    assert forward[3].tolist() == [w[2, 0, ::-1].tolist(), w[3, 0, ::-1].tolist()]


@pytest.mark.parametrize(
    ("what", "make", "words"),
    [
        ("emit grouped transposed",
         lambda: jax_lax.emit(map_call("nn.ConvTranspose2d(4, 4, 3, groups=2)", (1, 4, 5, 5)).ops[0]),
         "no feature_group_count"),
        ("emit avg pool", lambda: jax_lax.emit(map_call("nn.AvgPool2d(2)", (1, 1, 4, 4)).ops[0]), "no single call"),
        ("emit reflect conv",
         lambda: jax_lax.emit(map_call("nn.Conv1d(1, 1, 3, padding=1, padding_mode='reflect')", (1, 1, 5)).ops[0]),
         "pad with zeros"),
        ("glu", lambda: jax_lax.target(map_call("keras.layers.Conv1D(4, 3, activation='glu')", (1, 6, 2))),
         "jax.nn.glu"),
        ("resize", lambda: jax_lax.target(map_call("tf.image.resize(x, (7, 5), method='bicubic')",
                                                   shapes={"x": (1, 3, 4, 2)})), "weights differ by 0.00025"),
    ],
)  # fmt: skip
def test_refusals_name_the_rule_and_a_fix(what, make, words):
    with pytest.raises(convarith.ConvArithError) as caught:
        make()
    text = str(caught.value)
    assert "Rule:" in text and "Fix:" in text and words in text, text


def test_every_kind_has_a_target_or_a_refusal():
    from convarith.core.op import KINDS

    handled = {"conv", "conv_transpose", "max_pool", "avg_pool", "lp_pool", "adaptive_max_pool", "adaptive_avg_pool",
               "resize", "min_pool", "sum_pool", "depth_to_space", "space_to_depth", "unfold", "fold", "pad",
               "max_unpool"}  # fmt: skip
    assert set(KINDS) == handled, "a new op kind: give it a jax.lax target (or a refusal) in op_part"
    assert isinstance(
        jax_lax.emit(ConvOp("max_pool", 1, 1, 1, (4,), (2,), (2,), (1,), (0,), (0,), (0, 1, 2), (0, 1, 2))), str
    )


@pytest.mark.parametrize(
    ("expr", "shape", "words"),
    [
        ("nn.Upsample(scale_factor=2, mode='bilinear')", (1, 1, 3, 4), "jax.image.resize(x, (1, 1, 6, 8), method='linear', antialias=False"),
        ("nn.Upsample(scale_factor=2, mode='bicubic')", (1, 1, 3, 4), "method='cubic-pytorch', antialias=False"),
        ("nn.Upsample(scale_factor=2, mode='nearest-exact')", (1, 1, 3, 4), "method='nearest'"),
        ("nn.Upsample(size=(5, 7), mode='bilinear', align_corners=True)", (1, 1, 3, 4),
         "jax.image.scale_and_translate(x, (1, 1, 5, 7), (2, 3), jnp.array([2.0, 2.0], jnp.float32), "
         "jnp.array([-0.5, -0.5], jnp.float32), method='linear'"),
        ("nn.Upsample(scale_factor=1.5, mode='nearest')", (1, 1, 2, 4), "jnp.take(y, jnp.array([0, 0, 1]), axis=2)"),
        ("helper.make_node('Resize', ['X', '', 'scales'], ['Y'], mode='linear', "
         "coordinate_transformation_mode='asymmetric', scales=[1.0, 1.0, 4.0])", {"X": (2, 2, 6)},
         "jnp.pad(x, [(0, 0), (0, 0), (1, 1)], mode='edge')"),  # samples past n - 0.5: jax drops them, ONNX clamps
    ],
)  # fmt: skip
def test_resize_spellings(expr, shape, words):
    mapped = map_call(expr, shapes=shape) if isinstance(shape, dict) else map_call(expr, shape)
    target = jax_lax.target(mapped)
    assert any(words in call for call in target.calls), target.calls


def test_robust_seeds_translate_or_refuse_with_convarith_error():
    """Every robust seed (tests/unit/robust_seeds.py) that maps: jax.lax's target, emit and (its own calls)
    source raise nothing but ConvArithError."""
    from tests.unit.robust_seeds import SEEDS

    answered = 0
    for expr, input_shape, shapes, output_size in SEEDS:
        try:
            convarith.output_shape(expr, input_shape, shapes=shapes, output_size=output_size)
            mapped = map_call(expr, input_shape, shapes=shapes, output_size=output_size)
        except convarith.ConvArithError:
            continue
        for make, argument in ((jax_lax.target, mapped), (jax_lax.emit, mapped.ops[0])):
            try:
                make(argument)
                answered += 1
            except convarith.ConvArithError as exc:
                assert "Rule:" in str(exc), (expr, str(exc))
        if mapped.framework_id == "jax_lax":
            jax_lax.source(mapped)
    assert answered > len(SEEDS) // 2
