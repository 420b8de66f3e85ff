"""Translations into PyTorch: calls of all five frameworks, their torch target body run in the torch
worker on random canonical arrays, against convarith's reference engine (max |difference| <= 1e-4)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convarith import ConvArithError
from convarith.api import map_call
from convarith.reference import adapters, run_chain
from convarith.reference.adapters import finish, random_plan
from convarith.translate import torch as to_torch
from tests.differential import test_global_pool as global_pools
from tests.differential import test_numerics_jax_lax as jax_numbers
from tests.differential import test_numerics_keras as keras_numbers
from tests.differential import test_numerics_onnx as onnx_numbers
from tests.differential import test_numerics_tf_nn as tf_numbers
from tests.differential import test_numerics_torch as torch_numbers
from tests.differential import test_padding as pads
from tests.differential import test_rearrange as rearrange
from tests.differential import test_resize as resize

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TOLERANCE = 1e-4
AGREED: Counter = Counter()  # cases whose torch translation agreed, per source framework
REFUSED: Counter = Counter()  # cases torch cannot express (each refusal checked for its rule and fix)
REFUSALS: dict = {}
WORST: dict = {}

SOURCES = {
    "torch": st.one_of(
        torch_numbers.conv_modules(), torch_numbers.transpose_modules(), torch_numbers.functional_convs(),
        torch_numbers.pool_modules(), torch_numbers.functional_pools(), pads.torch_pads(numbers=True),
        resize.torch_calls(numeric=True), rearrange.shuffle_calls(), rearrange.unfold_calls(),
        rearrange.fold_calls(), global_pools.torch_globals(),
    ),
    "keras": st.one_of(
        keras_numbers.conv_layers(), keras_numbers.pool_layers(), pads.keras_pads(),
        resize.keras_calls(numeric=True), global_pools.keras_globals(numbers=True),
    ),
    "tf_nn": st.one_of(
        tf_numbers.conv_calls(), tf_numbers.pool_calls(), rearrange.separable_calls(), rearrange.block_calls(),
        rearrange.atrous_calls(),
    ),
    "jax_lax": st.one_of(
        jax_numbers.general_calls(), jax_numbers.transpose_calls(), jax_numbers.default_layout_calls(),
        rearrange.window_calls(),
    ),
    "onnx": st.one_of(
        onnx_numbers.conv_nodes(), onnx_numbers.pool_nodes(), pads.onnx_pads(numbers=True),
        resize.onnx_calls(numeric=True), global_pools.onnx_globals(numbers=True), rearrange.onnx_block_calls(),
    ),
}  # fmt: skip


def call_inputs(case) -> tuple:
    """(expr, input_shape, shapes, output_size) of a case from any of the call generators."""
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


def reference(expr: str, shape, shapes, output_size, seed: int):
    """(mapped, plan, the reference output in the source layout), or None when the library refuses it."""
    try:
        mapped = map_call(expr, shape, shapes=shapes, output_size=output_size)
        plan = random_plan(mapped, seed)
        if adapters.keras_bias_on_last_axis(mapped):  # as prepare does: the source side adds that bias
            w, plan.last_axis_bias = plan.params[-1]
            plan.params[-1] = (w, None)
        return mapped, plan, finish(plan, run_chain(plan)[-1])
    except ConvArithError:
        return None


def in_source_layout(plan, y: np.ndarray) -> np.ndarray:
    """A target body's canonical y (its activation applied: glu halves an axis) in the source's layout."""
    last = plan.mapped.ops[-1]
    y = adapters.from_canonical(y, last.out_spec)
    if plan.mapped.squeeze_batch:
        y = np.squeeze(y, axis=last.out_spec[0])
    y = y.reshape(plan.mapped.output_shape)
    return y if plan.last_axis_bias is None else y + plan.last_axis_bias


def translated_agrees(oracle, source, expr, shape=None, shapes=None, output_size=None, seed=0, fixed=False):
    """Run the torch target body of the call in the torch worker and compare it with the reference."""
    found = reference(expr, shape, shapes, output_size, seed)
    if fixed:
        assert found is not None, f"the library refuses {expr}"
    else:
        assume(found is not None)
    mapped, plan, ours = found
    try:
        target = to_torch.target(mapped)
    except ConvArithError as error:  # torch cannot express it: the message says why and what comes closest
        text = str(error)
        assert "Rule: " in text and "Fix: " in text, text
        REFUSED[source] += 1
        REFUSALS.setdefault(source, set()).add(text.split(":")[1].strip()[:90])
        return None
    answer = oracle("torch").run(
        {"translation": True, "imports": target.imports, "body": target.body, "x": plan.x, "params": plan.params}
    )
    where = f"{expr} on {shape or shapes} output_size={output_size}\n" + "\n".join(target.body)
    assert "y" in answer, f"torch could not run the translation: {answer.get('error') or answer.get('crash')}\n{where}"
    theirs = in_source_layout(plan, np.asarray(answer["y"]))
    assert theirs.shape == ours.shape, f"torch gives {theirs.shape}, the reference {ours.shape}\n{where}"
    assert np.array_equal(np.isnan(theirs), np.isnan(ours)), f"NaN positions differ\n{where}"
    both = ~np.isnan(ours)
    gap = np.abs(theirs[both].astype(np.float64) - ours[both])
    scale = np.maximum(1.0, np.abs(ours[both]))
    assert np.all((gap <= TOLERANCE * scale) | (theirs[both] == ours[both])), f"max |difference| {gap.max()}\n{where}"
    AGREED[source] += 1
    finite = np.isfinite(gap)
    WORST[source] = max(WORST.get(source, 0.0), float(gap[finite].max()) if finite.any() else 0.0)
    return target


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_calls_translated_to_torch(oracle, source):
    @given(SOURCES[source], st.integers(0, 2**32 - 1))
    @SETTINGS
    def check(case, seed):
        translated_agrees(oracle, source, *call_inputs(case), seed=seed)

    check()


COMPOSITES = [
    # (source framework, call, input shape, shapes, the torch call or step the translation must use)
    ("keras", "keras.layers.Conv2D(4, 3, strides=2, padding='same')", (1, 8, 8, 3), None, "F.pad(t, (0, 1, 0, 1))"),
    ("tf_nn", "tf.nn.conv2d(x, w, 2, 'SAME')", None, {"x": (1, 7, 6, 2), "w": (4, 4, 2, 3)}, "F.pad(t, (0, 0, 0, 1))"),
    ("keras", "keras.layers.Conv2DTranspose(3, 3, strides=2, padding='same')", (1, 5, 6, 2), None, "t[:, :, 0:10, 0:12]"),
    ("onnx", "make_node('Conv', ['X', 'W'], ['Y'], auto_pad='SAME_LOWER', strides=[2, 2])", None,
     {"X": (1, 2, 7, 7), "W": (3, 2, 4, 4)}, "F.pad(t, (1, 0, 1, 0))"),
    ("onnx", "make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[2, 2], pads=[0, 1, 2, 0], output_padding=[1, 0])",
     None, {"X": (1, 2, 4, 4), "W": (2, 3, 3, 3)}, "nn.ConvTranspose2d"),
    ("jax_lax", "lax.conv_transpose(x, w, (3,), ((3, 4),), dimension_numbers=('NCH', 'OIH', 'NCH'))", None,
     {"x": (1, 2, 4), "w": (3, 2, 2)}, "F.pad(t, (2, 1))"),
    ("jax_lax", "lax.conv_general_dilated(x, w, (1, 1), ((2, -1), (0, 1)), lhs_dilation=(2, 3))", None,
     {"x": (1, 2, 5, 4), "w": (3, 2, 3, 2)}, "z[:, :, ::2, ::3] = t"),
    ("jax_lax", "lax.conv_general_dilated(x, w, (1, 1), 'SAME', batch_group_count=2)", None,
     {"x": (4, 2, 5, 5), "w": (6, 2, 3, 3)}, "transpose(0, 1)"),
    ("onnx", "make_node('MaxPool', ['X'], ['Y'], kernel_shape=[3, 3], pads=[0, 1, 1, 0], ceil_mode=1, strides=[2, 2])",
     None, {"X": (1, 2, 7, 6)}, "float('-inf')"),
    ("onnx", "make_node('MaxPool', ['X'], ['Y'], kernel_shape=[2], pads=[1, 1], strides=[3])", None, {"X": (1, 1, 1)},
     "torch.finfo(t.dtype).min"),
    ("onnx", "make_node('AveragePool', ['X'], ['Y'], kernel_shape=[3, 3], pads=[1, 1, 1, 1], ceil_mode=1, "
     "strides=[2, 2], count_include_pad=1)", None, {"X": (1, 2, 6, 7)}, "t = t / count"),
    ("onnx", "make_node('AveragePool', ['X'], ['Y'], kernel_shape=[3, 3], pads=[1, 0, 1, 2], count_include_pad=0)",
     None, {"X": (1, 2, 6, 7)}, "t = t / count"),
    ("keras", "keras.layers.AveragePooling2D(3, strides=2, padding='same')", (1, 8, 7, 3), None, "t = t / count"),
    ("tf_nn", "tf.nn.avg_pool2d(x, 3, 2, 'VALID')", None, {"x": (1, 7, 8, 2)}, "nn.AvgPool2d"),
    ("onnx", "make_node('LpPool', ['X'], ['Y'], kernel_shape=[3, 3], pads=[1, 1, 1, 1], p=3, strides=[2, 2])", None,
     {"X": (1, 2, 7, 6)}, "t.abs() ** 3"),
    ("keras", "keras.layers.Cropping2D(((1, 2), (0, 1)))", (1, 6, 6, 3), None, "t[:, :, 1:4, 0:5]"),
    ("torch", "F.pad(x, (1, -2, -1, 3), mode='replicate')", None, {"x": (1, 2, 5, 5)}, "t[:, :, 1:8, 0:4]"),
    ("onnx", "make_node('DepthToSpace', ['X'], ['Y'], blocksize=2)", None, {"X": (1, 8, 3, 3)}, "transpose(1, 2)"),
    ("tf_nn", "tf.nn.space_to_depth(x, 2)", None, {"x": (1, 4, 6, 3)}, "transpose(1, 2)"),
    ("jax_lax", "lax.reduce_window(x, 1.0, lax.min, (2, 3), (1, 2), 'VALID', base_dilation=(2, 1))", None,
     {"x": (5, 7)}, "torch.clamp_max(t, 1.0)"),
    ("jax_lax", "lax.reduce_window(x, 0.0, lax.add, (1, 3, 1, 3), (1, 1, 1, 2), 'SAME')", None, {"x": (2, 5, 3, 7)},
     "permute"),
    ("keras", "keras.layers.Conv1D(4, 3, padding='causal', dilation_rate=2, activation='softmax')", (1, 9, 3), None,
     "torch.softmax(t, dim=1)"),
    ("keras", "keras.layers.Conv1D(4, 3, activation='glu')", (2, 9, 3), None, "F.glu(t, dim=1)"),
    ("keras", "keras.layers.SeparableConv2D(4, 3, padding='same', depth_multiplier=2, activation='gelu')",
     (1, 6, 6, 3), None, "F.gelu(t)"),
    ("keras", "keras.layers.Conv3D(2, 2, data_format='channels_first', activation='softmax')", (1, 3, 4, 4, 5), None,
     "torch.softmax(t, dim=4)"),
    ("keras", "keras.layers.Conv3D(3, 2, data_format='channels_first')", (1, 2, 4, 4, 4), None,
     "nn.Conv3d(2, 3, 2, bias=False)"),
    ("torch", "nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1)", (1, 2, 5, 5), None,
     "output_padding=1"),
    ("torch", "nn.Conv1d(2, 4, 4, padding='same')", (1, 2, 7), None, "padding='same'"),
    ("tf_nn", "tf.nn.max_pool2d(x, 2, 3, 'SAME')", None, {"x": (1, 4, 5, 2)}, "nn.MaxPool2d"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "expr", "shape", "shapes", "step"), COMPOSITES)
def test_composite_translations(oracle, source, expr, shape, shapes, step):
    target = translated_agrees(oracle, source, expr, shape, shapes, None, 3, fixed=True)
    assert target is not None, f"{expr}: refused"
    assert any(step in line for line in target.body), "\n".join(target.body)
    extra = [line for line in target.body if "F.pad" in line or "t[:, :" in line or "count = " in line]
    assert not extra or target.notes, "every extra step is explained"


def test_transposed_padding_beyond_output_padding_keeps_the_bias(oracle):
    """An op cropping less than nothing at both ends (a synthetic jax-like op, with a bias): torch's
    output_padding reaches 1 cell, F.pad the rest, and the bias is added after the padding."""
    from convarith.core.record import replace

    mapped = map_call("nn.ConvTranspose1d(2, 3, 3, stride=2)", (1, 2, 4))
    op = mapped.ops[0].with_(pad_lo=(-2,), pad_hi=(-4,))
    plan = random_plan(replace(mapped, ops=(op,)), 5)
    target = to_torch.target(plan.mapped)
    assert any("bias=False" in line for line in target.body) and any("t = t + " in line for line in target.body)
    answer = oracle("torch").run(
        {"translation": True, "imports": target.imports, "body": target.body, "x": plan.x, "params": plan.params}
    )
    np.testing.assert_allclose(answer["y"], run_chain(plan)[-1], atol=TOLERANCE, err_msg="\n".join(target.body))


def test_tally(request):
    """Prints the cases per source framework (run after the others in this file)."""
    lines = [
        f"{name:8s} {AGREED[name]:5d} agreed, {REFUSED[name]:3d} refused, max |difference| {WORST.get(name, 0):.1e}"
        for name in sorted(SOURCES)
    ]
    for name, texts in sorted(REFUSALS.items()):
        lines += [f"  {name} refused: {text}" for text in sorted(texts)]
    print("\ntranslations to torch:\n" + "\n".join(lines))
