"""Keras as the target of a translation: calls from all five source frameworks, mapped; the
generated Keras body run in the Keras worker on random canonical x and params against
convarith's reference engine (max |difference| <= 1e-4, shapes equal), tallied per source."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from convarith.api import map_call
from convarith.reference import run_chain
from convarith.reference.adapters import Plan
from convarith.translate import keras as translate_keras
from tests.differential import translate_checks as checks
from tests.differential.test_global_pool import keras_globals, onnx_globals, torch_globals
from tests.differential.test_numerics_jax_lax import default_layout_calls, general_calls, transpose_calls
from tests.differential.test_numerics_keras import conv_layers, pool_layers
from tests.differential.test_numerics_onnx import conv_nodes, pool_nodes
from tests.differential.test_numerics_tf_nn import conv_calls, pool_calls
from tests.differential.test_numerics_torch import (
    conv_modules,
    functional_convs,
    functional_pools,
    pool_modules,
    transpose_modules,
)
from tests.differential.test_padding import keras_pads, onnx_pads, torch_pads
from tests.differential.test_rearrange import (
    atrous_calls,
    block_calls,
    fold_calls,
    separable_calls,
    shuffle_calls,
    unfold_calls,
    window_calls,
)
from tests.differential.test_resize import keras_calls as keras_upsampling
from tests.differential.test_resize import onnx_calls as onnx_resizes
from tests.differential.test_resize import tf_image_calls
from tests.differential.test_resize import torch_calls as torch_resizes

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**32 - 1)

SOURCES = {
    "torch": st.one_of(
        conv_modules().map(checks.normalised),
        transpose_modules().map(checks.normalised),
        functional_convs().map(checks.normalised),
        pool_modules().map(checks.normalised),
        functional_pools().map(lambda case: checks.normalised(case, functional=True)),
        torch_pads(numbers=True).map(checks.normalised),
        torch_globals().map(checks.normalised),
        shuffle_calls().map(checks.normalised),
        unfold_calls().map(checks.normalised),
        fold_calls().map(checks.normalised),
        torch_resizes(numeric=True).map(checks.normalised),
    ),
    "keras": st.one_of(
        conv_layers().map(checks.normalised),
        pool_layers().map(checks.normalised),
        keras_pads().map(checks.normalised),
        keras_globals(numbers=True).map(checks.normalised),
        keras_upsampling(numeric=True).map(checks.normalised),
    ),
    "tf_nn": st.one_of(
        conv_calls().map(checks.normalised),
        pool_calls().map(checks.normalised),
        block_calls().map(checks.normalised),
        atrous_calls().map(checks.normalised),
        separable_calls().map(checks.normalised),
        tf_image_calls(numeric=True).map(checks.normalised),
    ),
    "jax_lax": st.one_of(
        general_calls().map(checks.normalised),
        transpose_calls().map(checks.normalised),
        default_layout_calls().map(checks.normalised),
        window_calls().map(checks.normalised),
    ),
    "onnx": st.one_of(
        conv_nodes().map(checks.normalised),
        pool_nodes().map(checks.normalised),
        onnx_pads(numbers=True).map(checks.normalised),
        onnx_globals(numbers=True).map(checks.normalised),
        onnx_resizes(numeric=True).map(checks.normalised),
    ),
}
# what Keras cannot express (each refusal says so with a rule and a fix); any other refusal fails the test
EXPECTED_REFUSALS = (
    "input or output is empty",
    "convarith does not reproduce",
    "spatial axes",
    "space-to-batch",
)


@pytest.fixture(scope="module", autouse=True)
def tally(request):
    yield
    checks.report(request, "translations to Keras run in Keras == convarith's reference (per source framework)")


def translated_agrees(oracle, case, seed: int, source: str) -> bool:
    """True when the translation ran and agreed, False when Keras cannot express it (an expected refusal)."""
    found = checks.mapped_case(case, seed)
    assert found is not None, f"{case[0]}: convarith refuses the call or its numbers"
    mapped, plan, y_ref = found
    try:
        body = translate_keras.target(mapped)
    except convarith.ConvArithError as error:
        message = str(error)
        assert "Rule:" in message and "Fix:" in message
        assert any(reason in message for reason in EXPECTED_REFUSALS), f"{case[0]}: unexpected refusal {message}"
        checks.TALLY[source, "refused"] += 1
        checks.REFUSED[source, message.split(". Rule:")[0].split(": ", 1)[1][:110]] += 1
        return False
    request = {"translation": True, "imports": list(body.imports), "lines": list(body.body)}
    answer = oracle("keras").run({**request, "x": plan.x, "params": plan.params})
    assert "values" in answer, f"{case[0]}: Keras failed: {answer.get('error') or answer.get('crash')}\n" + "\n".join(
        body.body
    )
    theirs = checks.in_source_layout(mapped, plan, np.asarray(answer["values"]))
    checks.agree(source, case[0], theirs, y_ref)
    return True


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_translations_to_keras(oracle, source):
    @given(SOURCES[source], SEEDS)
    @SETTINGS
    def check(case, seed):
        assume(checks.mapped_case(case, seed) is not None)
        translated_agrees(oracle, case, seed, source)

    check()


COMPOSITES = [
    # asymmetric explicit pads, SAME with an odd total, negative pads (crops)
    ("torch", ("nn.Conv2d(2, 3, (4, 2), padding='same', dilation=(1, 3))", (1, 2, 5, 6), None, None)),
    ("torch", ("F.pad(x, (0, 1, 2, 0), mode='reflect')", None, {"x": (1, 2, 5, 6)}, None)),
    ("tf_nn", ("tf.nn.conv2d(x, w, 2, 'SAME')", None, {"x": (1, 6, 7, 2), "w": (4, 4, 2, 3)}, None)),
    ("onnx", ("helper.make_node('Conv', ['X', 'W'], ['Y'], pads=[0, 2, 1, 0], strides=[2, 1])", None,
              {"X": (1, 2, 6, 7), "W": (3, 2, 3, 2)}, None)),
    ("onnx", ("helper.make_node('Conv', ['X', 'W'], ['Y'], auto_pad='SAME_LOWER', strides=[2, 2])", None,
              {"X": (1, 2, 6, 7), "W": (3, 2, 2, 3)}, None)),
    ("jax_lax", ("lax.conv_general_dilated(x, w, (1, 2), ((-1, 2), (1, -1)), (2, 1), (1, 2))", None,
                 {"x": (1, 2, 7, 8), "w": (3, 2, 2, 3)}, None)),
    ("torch", ("nn.ConstantPad2d((-1, 2, 1, -2), 1.5)", (1, 2, 5, 6), None, None)),
    ("onnx", ("helper.make_node('Pad', ['X'], ['Y'], mode='wrap', pads=[0, 0, 3, 0, 0, 1])", None, {"X": (1, 1, 2)},
              None)),
    ("onnx", ("helper.make_node('Pad', ['X'], ['Y'], mode='edge', pads=[0, 0, 1, -2, 0, 0, 3, 0, 1, 1])", None,
              {"X": (1, 2, 4, 3, 2)}, None)),
    ("torch", ("nn.ReplicationPad2d((1, -1, 0, 0))", (1, 1, 2), None, None)),
    # ceil pools, count_include_pad both ways, divisor_override
    ("torch", ("nn.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=True)", (1, 2, 6, 7), None, None)),
    ("torch", ("nn.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False)", (1, 2, 6, 7), None, None)),
    ("torch", ("nn.AvgPool2d(3, 2, padding=1, divisor_override=4)", (1, 2, 6, 7), None, None)),
    ("torch", ("nn.MaxPool2d(3, 2, padding=1, dilation=2, ceil_mode=True)", (1, 2, 8, 7), None, None)),
    ("onnx", ("helper.make_node('AveragePool', ['X'], ['Y'], kernel_shape=[3], strides=[2], pads=[1, 1], "
              "ceil_mode=1, count_include_pad=1)", None, {"X": (1, 2, 6)}, None)),
    ("onnx", ("helper.make_node('LpPool', ['X'], ['Y'], kernel_shape=[2, 2], strides=[2, 2], p=3)", None,
              {"X": (1, 2, 5, 5)}, None)),
    # transposed with output_padding, groups, dilation; Keras 'same' transposed
    ("torch", ("nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2)",
               (1, 4, 4, 5), None, None)),
    ("torch", ("nn.ConvTranspose1d(2, 2, 3, stride=3, padding=0, output_padding=2)", (1, 2, 4), None, None)),
    ("keras", ("keras.layers.Conv2DTranspose(3, 4, strides=3, padding='same', output_padding=2)", (1, 4, 5, 2),
               None, None)),
    ("jax_lax", ("lax.conv_transpose(x, w, (2, 2), 'SAME')", None, {"x": (1, 5, 4, 2), "w": (3, 3, 2, 3)}, None)),
    ("jax_lax", ("lax.conv_general_dilated(x, w, (1, 2), 'SAME', None, None, None, 1, 2)", None,
                 {"x": (4, 2, 5, 6), "w": (4, 2, 2, 3)}, None)),
    ("jax_lax", ("lax.reduce_window(x, -jnp.inf, lax.min, (2, 2), (1, 2), ((1, 0), (0, 1)), (2, 1))", None,
                 {"x": (3, 4)}, None)),
    ("jax_lax", ("lax.reduce_window(x, -jnp.inf, lax.max, (1,), None, 'VALID', (2,))", None, {"x": (3,)}, None)),
    ("jax_lax", ("lax.reduce_window(x, 0.5, lax.max, (2,), None, 'VALID', (2,))", None, {"x": (4,)}, None)),
    # a strided dilated conv (Keras refuses both together), depthwise with unequal strides
    ("torch", ("nn.Conv2d(4, 4, 3, stride=2, padding=1, dilation=2, groups=2)", (1, 4, 9, 9), None, None)),
    ("torch", ("nn.Conv2d(3, 6, 3, stride=(1, 2), padding=1, groups=3)", (1, 3, 9, 9), None, None)),
    ("keras", ("keras.layers.SeparableConv1D(5, 3, activation='softmax', data_format='channels_first')",
               (1, 3, 8), None, None)),
    ("keras", ("keras.layers.Conv2D(4, 3, activation='glu', padding='same')", (1, 5, 5, 2), None, None)),
    ("keras", ("keras.layers.Conv3D(4, 3, activation='glu', data_format='channels_first')", (1, 2, 4, 5, 6), None,
               None)),
    ("keras", ("keras.layers.DepthwiseConv2D(3, depth_multiplier=2, activation='log_softmax', strides=2, "
               "dilation_rate=2, padding='same')", (1, 9, 9, 2), None, None)),
    # unfold/fold, a bilinear resize of torch, a cubic one (a sampling table)
    ("torch", ("nn.Unfold((2, 3), dilation=(2, 1), padding=(0, 1), stride=(1, 2))", (2, 2, 6, 7), None, None)),
    ("torch", ("nn.Fold((5, 6), 2, padding=1, stride=2)", (1, 12, 12), None, None)),
    ("torch", ("nn.Upsample(scale_factor=1.5, mode='bilinear')", (1, 2, 4, 4), None, None)),
    ("torch", ("nn.Upsample(size=(5, 3), mode='bicubic', align_corners=True)", (1, 2, 4, 4), None, None)),
]  # fmt: skip


@pytest.mark.parametrize(("source", "case"), COMPOSITES, ids=[case[0] for _, case in COMPOSITES])
def test_composite_translations_to_keras(oracle, source, case):
    assert translated_agrees(oracle, case, 0, source), "a composite case was refused"


@pytest.mark.parametrize(
    ("expr", "shape"),
    [("nn.MaxUnpool2d(2)", (2, 3, 3, 4)), ("nn.MaxUnpool1d(3, stride=2, padding=1)", (1, 2, 5)),
     ("nn.MaxUnpool3d(2, stride=(1, 2, 2))", (1, 2, 2, 2, 3))],
)  # fmt: skip
def test_max_unpool_to_keras(oracle, expr, shape):
    mapped = map_call(expr, shape)
    op = mapped.ops[0]
    rng = np.random.default_rng(len(shape))
    plane, cells = math.prod(convarith.core.arith.output_spatial(op)), math.prod(op.in_size)
    indices = np.stack([rng.choice(plane, cells, replace=False) for _ in range(op.batch * op.in_channels)])
    plan = Plan(
        mapped, rng.standard_normal(op.input_shape).astype(np.float32), [(indices.reshape(op.input_shape), None)]
    )
    body = translate_keras.target(mapped)
    answer = oracle("keras").run({"translation": True, "imports": list(body.imports), "lines": list(body.body),
                                  "x": plan.x, "params": plan.params})  # fmt: skip
    checks.agree("torch", expr, np.asarray(answer["values"]), run_chain(plan)[-1])
