"""translate.torch without torch: emit round trips, the source steps against reference.adapters,
the target's spelling choices and notes, and its refusals."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convarith import ConvArithError
from convarith.api import map_call
from convarith.reference import run_chain
from convarith.reference.adapters import array_names, canonical_weight_shape, finish, prepare
from convarith.translate import torch as to_torch
from tests.differential import test_global_pool as global_pools
from tests.differential import test_numerics_torch as torch_numbers
from tests.differential import test_padding as pads
from tests.differential import test_rearrange as rearrange
from tests.differential import test_resize as resize
from tests.differential import test_unpool as unpools

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODULE_CALLS = st.one_of(
    torch_numbers.conv_modules(), torch_numbers.transpose_modules(), torch_numbers.pool_modules(),
    pads.torch_pads(numbers=True), rearrange.shuffle_calls(), rearrange.unfold_calls(), rearrange.fold_calls(),
    global_pools.torch_globals(), resize.torch_calls(numeric=True),
)  # fmt: skip
UNPOOLS = unpools.unpools(numbers=True).map(
    lambda case: (case[0], {"x": case[1], "idx": case[1]}) if case[3] else (case[0], case[1], case[2])
)
ALL_CALLS = st.one_of(MODULE_CALLS, torch_numbers.functional_convs(), torch_numbers.functional_pools(), UNPOOLS)


def inputs(case) -> tuple:
    """(expr, input_shape, shapes, output_size) of a generated torch case."""
    expr, *rest = case
    shape = shapes = output_size = None
    for item in rest:
        if isinstance(item, dict) and shapes is None and shape is None:
            shapes = item
        elif isinstance(item, (list, tuple)) and item and all(type(v) is int for v in item):
            if shape is None and shapes is None:
                shape = tuple(item)
            elif "ConvTranspose" in expr or "MaxUnpool" in expr:
                output_size = tuple(item)
    return expr, shape, shapes, output_size


def mapped_or_none(case):
    expr, shape, shapes, output_size = inputs(case)
    try:
        return expr, shape, shapes, output_size, map_call(expr, shape, shapes=shapes, output_size=output_size)
    except ConvArithError:
        return None


@given(MODULE_CALLS)
@SETTINGS
def test_emit_maps_back_onto_the_same_op(case):
    found = mapped_or_none(case)
    if found is None or not found[0].startswith("nn."):
        return
    mapped = found[-1]
    op = mapped.ops[0]
    if (op.kind == "resize" and op.antialias) or not 0 < op.rank <= 3:
        return  # nn.Upsample has no antialias; a pad of no axes, or of a 6-D input, no module: emit refuses them
    text = to_torch.emit(op)
    shape = mapped.given_input_shape if op.kind == "fold" else op.input_shape
    again = map_call(text, shape)
    assert again.ops[0] == op, f"{found[0]} -> {text}"


def test_emit_spells_what_torch_writes():
    cases = {
        ("nn.Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2), groups=1, bias=False)", (1, 3, 9, 9)):
            "nn.Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2), bias=False)",
        ("nn.Conv1d(2, 4, 4, padding='same', padding_mode='reflect')", (1, 2, 9)):
            "nn.Conv1d(2, 4, 4, padding='same', padding_mode='reflect')",
        ("nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1)", (1, 2, 5, 5)):
            "nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1)",
        ("nn.MaxPool2d(3, 2, 1, ceil_mode=True)", (1, 2, 8, 8)): "nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)",
        ("nn.AvgPool2d(3, 2, count_include_pad=False, divisor_override=4)", (1, 2, 8, 8)):
            "nn.AvgPool2d(3, stride=2, count_include_pad=False, divisor_override=4)",
        ("nn.ReflectionPad2d((1, 2, 0, 3))", (1, 2, 5, 5)): "nn.ReflectionPad2d((1, 2, 0, 3))",
        ("nn.PixelUnshuffle(2)", (1, 2, 4, 6)): "nn.PixelUnshuffle(2)",
    }  # fmt: skip
    for (expr, shape), text in cases.items():
        assert to_torch.emit(map_call(expr, shape).ops[0]) == text


def test_emit_refuses_what_no_single_module_is():
    keras = map_call("keras.layers.Conv2D(4, 3, strides=2, padding='same')", (1, 8, 8, 3)).ops[0]
    with pytest.raises(ConvArithError, match=r"layout .* Rule: .* Fix: transpose"):
        to_torch.emit(keras)
    with pytest.raises(ConvArithError, match=r"padding before \(0, 0\) and after \(1, 1\)\. Rule: .* Fix: F\.pad"):
        to_torch.emit(to_torch.canonical_op(keras))
    onnx = map_call("make_node('MaxPool', ['X'], ['Y'], kernel_shape=[2], strides=[2])", shapes={"X": (1, 1, 5)})
    with pytest.raises(ConvArithError, match="rounding='trunc'. Rule: "):
        to_torch.emit(onnx.ops[0])


def user_arrays(mapped, shape, shapes, rng):
    """The arrays a torch call takes, in torch's own layout: (x, weights) or {name: array}."""
    if shapes is not None:
        arrays = {name: rng.standard_normal(shapes[name]).astype(np.float32) for name in shapes}
        roles = {name for _, name in array_names(mapped.call)}
        if mapped.ops[0].kind == "max_unpool":
            index = [name for name in roles if name != to_torch_input(mapped)][0]
            arrays[index] = np.zeros(shapes[index], np.int64)
        return None, None, arrays
    op = mapped.ops[0]
    x = rng.standard_normal(shape).astype(np.float32)
    if op.kind == "max_unpool":
        return x, [np.zeros(shape, np.int64)], None
    if op.weightless:
        return x, [], None
    weights = [rng.standard_normal(canonical_weight_shape(op)).astype(np.float32)]
    if op.bias:
        weights.append(rng.standard_normal(op.out_channels).astype(np.float32))
    return x, weights, None


def to_torch_input(mapped) -> str:
    from convarith.reference.adapters import input_name

    return input_name(mapped)


@given(ALL_CALLS, st.integers(0, 2**32 - 1))
@SETTINGS
def test_source_steps_are_what_the_adapters_do(case, seed):
    found = mapped_or_none(case)
    if found is None:
        return
    expr, shape, shapes, output_size, mapped = found
    x, weights, arrays = user_arrays(mapped, shape, shapes, np.random.default_rng(seed))
    try:
        plan = prepare(expr, x, weights, arrays, output_size)
    except ConvArithError:
        return  # forward refuses these numbers (a circular pad longer than the cropped input)
    source = to_torch.source(mapped)
    names = dict(arrays) if arrays is not None else {"x": x, "weights": weights}
    if arrays is None:
        assert source.signature == "x, weights=None"
    else:
        assert source.signature.split(", ") == list(dict.fromkeys(name for _, name in array_names(mapped.call)))
    namespace = {"np": np, **names}
    exec("\n".join(source.to_canonical), namespace)  # code convarith.translate wrote
    np.testing.assert_array_equal(namespace["x"], plan.x)
    assert len(namespace["params"]) == len(plan.params)
    for (w, b), (w0, b0) in zip(namespace["params"], plan.params):
        assert (w is None) == (w0 is None) and (b is None) == (b0 is None)
        if w is not None:
            np.testing.assert_array_equal(w, w0)
        if b is not None:
            np.testing.assert_array_equal(b, b0)
    namespace["y"] = run_chain(plan)[-1]
    exec("\n".join(source.from_canonical), namespace)
    np.testing.assert_array_equal(namespace["y"], finish(plan, run_chain(plan)[-1]))


def test_source_reshapes_an_unbatched_input_and_back():
    source = to_torch.source(map_call("nn.Conv2d(3, 8, 3, stride=2, padding=1)", (3, 9, 9)))
    assert source.signature == "x, weights=None"
    assert source.to_canonical[0] == "x = np.asarray(x).reshape((1, 3, 9, 9))"
    assert source.from_canonical == ("y = y.reshape((8, 5, 5))",)
    assert "m = nn.Conv2d(3, 8, 3, stride=2, padding=1)" in source.run


def test_source_writes_the_call_from_its_parsed_values():
    mapped = map_call("torch.nn.functional.conv2d(inp, weight=k, bias=None, stride=(2,1))",
                      shapes={"inp": (1, 2, 5, 5), "k": (3, 2, 3, 3)})  # fmt: skip
    source = to_torch.source(mapped)
    assert source.signature == "inp, k"
    assert (
        "    out = F.conv2d(torch.as_tensor(np.asarray(inp)), weight=torch.as_tensor(np.asarray(k)), bias=None, "
        "stride=(2, 1))" in source.run
    )
    transposed = to_torch.source(map_call("nn.ConvTranspose2d(2, 3, 3, stride=2)", (1, 2, 4, 4), output_size=(10, 10)))
    assert (
        "    out = m(torch.from_numpy(np.array(x, dtype=np.float32, order='C')), output_size=[10, 10])"
        in transposed.run
    )


def test_padding_intent_is_set_by_the_torch_mappings():
    assert map_call("nn.Conv2d(1, 1, 4, padding='same')", (1, 1, 8, 8)).padding_intent == ("same_upper",) * 2
    assert map_call("nn.Conv1d(1, 1, 3, padding='valid')", (1, 1, 8)).padding_intent == ("valid",)
    assert map_call("F.conv2d(x, w, padding=1)", shapes={"x": (1, 1, 5, 5), "w": (1, 1, 3, 3)}).padding_intent == (
        "explicit",
        "explicit",
    )
    assert map_call("nn.MaxPool3d(2)", (1, 1, 4, 4, 4)).padding_intent == ("explicit",) * 3


def target_of(expr, shape=None, shapes=None):
    return to_torch.target(map_call(expr, shape, shapes=shapes))


def test_target_uses_torch_same_when_the_source_says_same():
    target = target_of("keras.layers.Conv2D(4, 4, padding='same')", (1, 8, 8, 3))
    assert target.call == "nn.Conv2d(3, 4, 4, padding='same')"  # keras's odd cell at the end is torch's too
    lower = target_of(
        "make_node('Conv', ['X', 'W'], ['Y'], auto_pad='SAME_LOWER')", shapes={"X": (1, 3, 8, 8), "W": (4, 3, 4, 4)}
    )
    assert "F.pad(t, (1, 0, 1, 0))" in "\n".join(lower.body) and lower.notes  # SAME_LOWER puts it at the start


def test_every_extra_step_has_a_note():
    cases = [
        ("keras.layers.AveragePooling2D(3, strides=2, padding='same')", (1, 8, 7, 3), None, "divisor correction"),
        ("keras.layers.Conv2DTranspose(3, 3, strides=2, padding='same')", (1, 5, 6, 2), None, "from the full output"),
        ("lax.conv_general_dilated(x, w, (1, 1), ((0, 0), (0, 0)), lhs_dilation=(2, 2))", None,
         {"x": (1, 2, 5, 5), "w": (3, 2, 3, 3)}, "lhs_dilation=(2, 2)"),
        ("make_node('MaxPool', ['X'], ['Y'], kernel_shape=[2], strides=[2], pads=[1, 1])", None, {"X": (1, 1, 5)},
         "lowest value"),
        ("tf.nn.depth_to_space(x, 2)", None, {"x": (1, 3, 3, 8)}, "block-major (DCR)"),
    ]  # fmt: skip
    for expr, shape, shapes, note in cases:
        target = target_of(expr, shape, shapes)
        assert any(note in text for text in target.notes), (expr, target.notes)
        assert target.imports == to_torch.IMPORTS
        assert target.body[-1] == "y = t.numpy()"


def test_target_refusals_say_why_and_what_comes_closest():
    cubic = "helper.make_node('Resize', ['X', '', '', 'sizes'], ['Y'], mode='cubic', cubic_coeff_a=-0.5, sizes=[1, 1, 6, 6])"
    with pytest.raises(ConvArithError, match=r"Rule: torch's interpolate .* Fix: F\.interpolate"):
        target_of(cubic, shapes={"X": (1, 1, 3, 3)})
    with pytest.raises(ConvArithError, match=r"activation='sparsemax'\. Rule: .* torch has none .* Fix: "):
        target_of("keras.layers.Conv2D(2, 3, activation='sparsemax')", (1, 5, 5, 1))
    strided = "tf.nn.separable_conv2d(x, d, p, [1, 2, 2, 1], 'SAME', dilations=[2, 2])"
    with pytest.raises(ConvArithError, match="space-to-batch. Rule: .* Fix: strides=1"):
        target_of(strided, shapes={"x": (1, 5, 5, 1), "d": (2, 2, 1, 1), "p": (1, 1, 1, 1)})


def test_every_robust_seed_translates_or_is_refused():
    """Each seed call of every framework (tests/unit/robust_seeds.py): target, source (torch calls)
    and emit give their result or a ConvArithError, never another exception."""
    from tests.unit.robust_seeds import SEEDS

    translated = 0
    for expr, shape, shapes, output_size in SEEDS:
        try:
            mapped = map_call(expr, shape, shapes=shapes, output_size=output_size)
        except ConvArithError:
            continue
        for step in (to_torch.target, *((to_torch.source,) if mapped.framework_id == "torch" else ())):
            try:
                step(mapped)
                translated += 1
            except ConvArithError as error:
                assert "Rule: " in str(error) and "Fix: " in str(error), str(error)
        for op in mapped.ops:
            with contextlib.suppress(ConvArithError):
                to_torch.emit(op)
    assert translated > 50
