"""Translation to jax.lax (issue 12): calls of all five source frameworks, mapped; the jax.lax target
body run in the jax worker on random canonical arrays equals convarith's reference engine on them
(max |difference| <= 1e-4, shapes equal; the activation compared in the source layout)."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from convarith.api import map_call
from convarith.core import arith
from convarith.reference import run_chain
from convarith.reference.activations import FUNCTIONS as ACTIVATION_NAMES
from convarith.reference.adapters import finish, random_plan
from convarith.translate import jax_lax
from tests.differential import (
    test_global_pool,
    test_numerics_jax_lax,
    test_numerics_keras,
    test_numerics_onnx,
    test_numerics_tf_nn,
    test_numerics_torch,
    test_padding,
    test_rearrange,
    test_resize,
    test_unpool,
)

pytestmark = pytest.mark.differential
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much, HealthCheck.too_slow],
)
TOLERANCE = 1e-4
TRANSLATED: Counter = Counter()  # cases agreed per source framework
REFUSED: Counter = Counter()  # target refusals per source framework (each says why)


def call(expr, input_shape=None, shapes=None, output_size=None) -> dict:
    return {"expr": expr, "input_shape": input_shape, "shapes": shapes, "output_size": output_size}


def layer(case) -> dict:
    """(expr, input shape, ...) of a layer/module generator."""
    return call(case[0], input_shape=tuple(case[1]))


def function(case) -> dict:
    """(expr, shapes, ...) of a functional call / node generator."""
    return call(case[0], shapes=case[1])


def either(case) -> dict:
    """(expr, input shape or None, shapes or None)."""
    return call(case[0], input_shape=None if case[1] is None else tuple(case[1]), shapes=case[2])


def named_x(case) -> dict:
    """(expr, shape) of a functional call on x."""
    return call(case[0], shapes={"x": tuple(case[1])})


def unpool(case) -> dict:
    expr, shape, output_size, functional = case
    if functional:
        return call(expr, shapes={"x": shape, "idx": shape})
    return call(expr, input_shape=shape, output_size=output_size)


def transposed_module(case) -> dict:
    expr, shape, _, output_size, _ = case
    return call(expr, input_shape=tuple(shape), output_size=None if output_size is None else tuple(output_size))


SOURCES = {
    "torch": st.one_of(
        test_numerics_torch.conv_modules().map(layer),
        test_numerics_torch.transpose_modules().map(transposed_module),
        test_numerics_torch.functional_convs().map(function),
        test_numerics_torch.pool_modules().map(layer),
        test_numerics_torch.functional_pools().map(named_x),
        test_padding.torch_pads(numbers=True).map(either),
        test_rearrange.shuffle_calls().map(either),
        test_rearrange.unfold_calls().map(either),
        test_rearrange.fold_calls().map(either),
        test_global_pool.torch_globals().map(layer),
        test_unpool.unpools(numbers=True).map(unpool),
    ),
    "keras": st.one_of(
        test_numerics_keras.conv_layers().map(layer),
        test_numerics_keras.pool_layers().map(layer),
        test_padding.keras_pads().map(layer),
        test_global_pool.keras_globals().map(layer),
    ),
    "tf_nn": st.one_of(
        test_numerics_tf_nn.conv_calls().map(function),
        test_numerics_tf_nn.pool_calls().map(function),
        test_rearrange.block_calls().map(function),
        test_rearrange.atrous_calls().map(function),
        test_rearrange.separable_calls().map(function),
    ),
    "jax_lax": st.one_of(
        test_numerics_jax_lax.general_calls().map(function),
        test_numerics_jax_lax.transpose_calls().map(function),
        test_numerics_jax_lax.default_layout_calls().map(function),
        test_rearrange.window_calls().map(function),
    ),
    "onnx": st.one_of(
        test_numerics_onnx.conv_nodes().map(function),
        test_numerics_onnx.pool_nodes().map(function),
        test_padding.onnx_pads(numbers=True).map(function),
        test_global_pool.onnx_globals().map(function),
        test_rearrange.onnx_block_calls().map(function),
    ),
}

RESIZES = {  # resize has no one jax.lax op: jax.image.resize where it samples alike (else refused, saying why)
    "torch": test_resize.torch_calls(numeric=True).map(either),
    "keras": test_resize.keras_calls(numeric=True).map(layer),
    "tf_nn": test_resize.tf_image_calls(numeric=True).map(function),
    "onnx": test_resize.onnx_calls(numeric=True).map(function),
}

COMPOSITES = [
    # asymmetric pads, SAME with an odd total (the odd cell at the end / at the start)
    call("tf.nn.conv2d(x, w, strides=2, padding='SAME')", shapes={"x": (1, 8, 7, 3), "w": (3, 2, 3, 4)}),
    call("keras.layers.Conv2D(4, 4, strides=3, padding='same', activation='softmax')", (1, 10, 9, 2)),
    call(
        "helper.make_node('Conv', ['X', 'W'], ['Y'], auto_pad='SAME_LOWER', strides=[2, 2])",
        shapes={"X": (1, 2, 7, 8), "W": (3, 2, 4, 3)},
    ),  # fmt: skip
    call("F.conv2d(x, w, padding=(1, 2), stride=(2, 1))", shapes={"x": (1, 2, 6, 7), "w": (4, 2, 3, 3)}),
    # ceil pools, count_include_pad both ways, divisor_override
    call("nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)", (1, 2, 8, 7)),
    call("nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=True)", (1, 2, 8, 7)),
    call("nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)", (1, 2, 8, 7)),
    call("nn.AvgPool2d((3, 2), stride=(2, 3), padding=(1, 1), divisor_override=5)", (1, 2, 8, 7)),
    call(
        "helper.make_node('AveragePool', ['X'], ['Y'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 0, 1], "
        "ceil_mode=1, count_include_pad=1)",
        shapes={"X": (1, 2, 6, 6)},
    ),  # fmt: skip
    call(
        "helper.make_node('MaxPool', ['X'], ['Y'], kernel_shape=[2, 2], strides=[3, 3], pads=[1, 1, 1, 1], "
        "ceil_mode=1)",
        shapes={"X": (1, 2, 4, 4)},
    ),  # fmt: skip  an all-padding window: float32's lowest
    call("keras.layers.AveragePooling2D(3, 2, padding='same')", (1, 7, 8, 2)),
    call("nn.LPPool2d(1.5, (2, 3), stride=(3, 2), ceil_mode=True)", (1, 2, 5, 6)),
    # negative pads and crops
    call(
        "lax.conv_general_dilated(x, w, (1, 2), [(-1, 2), (2, -1)], (2, 1), (1, 2))",
        shapes={"x": (1, 2, 6, 7), "w": (3, 2, 2, 2)},
    ),  # fmt: skip
    call("F.pad(x, (1, -2, -1, 3), mode='reflect')", shapes={"x": (1, 2, 5, 6)}),
    call("F.pad(x, (2, -1, 3, -2), mode='circular')", shapes={"x": (1, 2, 5, 6)}),
    call("keras.layers.Cropping2D(((1, 0), (2, 1)))", (1, 5, 6, 2)),
    call(
        "lax.reduce_window(x, 0.5, lax.max, (2, 2), (1, 2), [(-1, 1), (1, -2)], base_dilation=(2, 1))",
        shapes={"x": (5, 6)},
    ),  # fmt: skip
    # transposed with output_padding, groups, Keras/ONNX SAME transposed
    call("nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)", (1, 4, 5, 5)),
    call(
        "nn.ConvTranspose2d(2, 3, (3, 2), stride=(3, 2), padding=(2, 0), output_padding=(1, 1), dilation=(1, 2))",
        (1, 2, 4, 5),
    ),  # fmt: skip
    call("keras.layers.Conv2DTranspose(3, 3, strides=2, padding='same')", (1, 6, 5, 2)),
    call(
        "helper.make_node('ConvTranspose', ['X', 'W', 'B'], ['Y'], strides=[2, 2], auto_pad='SAME_LOWER')",
        shapes={"X": (1, 2, 4, 3), "W": (2, 3, 4, 3), "B": (3,)},
    ),  # fmt: skip
    call(
        "lax.conv_transpose(x, w, (2, 3), 'SAME', transpose_kernel=True)", shapes={"x": (1, 4, 5, 2), "w": (3, 3, 4, 2)}
    ),
    # separable, depthwise, batch groups, lhs dilation, unpooling
    call("keras.layers.SeparableConv2D(5, 3, depth_multiplier=2, strides=2, padding='same')", (1, 7, 8, 3)),
    call(
        "tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], 'SAME', dilations=[2, 2])",
        shapes={"x": (1, 7, 8, 3), "w": (3, 3, 3, 2)},
    ),
    call(
        "lax.conv_general_dilated(x, w, (1,), [(1, 1)], batch_group_count=2)", shapes={"x": (4, 3, 6), "w": (4, 3, 2)}
    ),
    call("nn.MaxUnpool2d(2, stride=2)", (2, 3, 3, 4), output_size=(7, 8)),
    # shapes XLA aborts the process on: the target pads (and dilates) with lax.pad first
    call("nn.ConvTranspose2d(1, 2, (3, 2), stride=(1, 2), padding=(0, 1))", (1, 1, 2, 4)),
    call("nn.Conv2d(1, 1, (3, 2), padding=(1, 0))", (1, 1, 2, 4)),
]


def unpool_indices(plan, rng) -> None:
    """Valid indices (distinct flat positions per plane) for a max_unpool op's second input."""
    for index, op in enumerate(plan.mapped.ops):
        if op.kind == "max_unpool":
            plane = int(np.prod([max(s, 0) for s in arith.output_spatial(op)]))
            cells = int(np.prod(op.in_size))
            if plane < cells:  # an empty output: no index is read
                plan.params[index] = (np.zeros(op.input_shape, np.int64), None)
                continue
            rows = [rng.permutation(plane)[:cells] for _ in range(op.batch * op.in_channels)]
            plan.params[index] = (np.array(rows, np.int64).reshape(op.input_shape), None)


def translated_agree(oracle, case: dict, seed: int, source: str) -> bool:
    """Whether the case translates; if so, assert the jax body equals the reference (False: refused, with reason)."""
    try:
        convarith.output_shape(
            case["expr"], case["input_shape"], shapes=case["shapes"], output_size=case["output_size"]
        )
        mapped = map_call(case["expr"], case["input_shape"], shapes=case["shapes"], output_size=case["output_size"])
        plan = random_plan(mapped, seed)
        unpool_indices(plan, np.random.default_rng(seed))
        ref = finish(plan, run_chain(plan)[-1])
    except convarith.ConvArithError:
        return None  # not a call (or not numbers) convarith takes: nothing to translate
    try:
        target = jax_lax.target(mapped)
    except convarith.ConvArithError as exc:
        text = str(exc)
        assert "Rule:" in text and "Fix:" in text, text
        allowed = mapped.ops[-1].kind == "resize" or "activation" in text or "space-to-batch" in text
        assert allowed, f"refused: {text}"
        REFUSED[source] += 1
        return False
    answer = oracle.run({"imports": list(target.imports), "lines": list(target.body),
                         "names": {"x": plan.x, "params": plan.params}})  # fmt: skip
    where = f"{case}\n  " + "\n  ".join(target.body)
    assert "values" in answer, f"jax failed: {answer.get('error') or answer.get('crash')}\n  {where}"
    ours = finish(plan, np.asarray(answer["values"]), activate=False)
    assert ours.shape == ref.shape, f"jax gives {ours.shape}, the reference {ref.shape}\n  {where}"
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=TOLERANCE, equal_nan=True, err_msg=where)
    TRANSLATED[source] += 1
    return True


@pytest.fixture(scope="module", autouse=True)
def tally(request):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not (TRANSLATED or REFUSED):
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        for source in sorted(set(TRANSLATED) | set(REFUSED)):
            reporter.write_line(
                f"to jax_lax from {source:8s} {TRANSLATED[source]:5d} agreed with the reference, "
                f"{REFUSED[source]} refused by the target"
            )


@pytest.mark.parametrize("source", list(SOURCES))
def test_calls_from_every_framework(oracle, source):
    worker = oracle("jax_lax")

    @given(SOURCES[source], st.integers(0, 2**32 - 1))
    @SETTINGS
    def check(case, seed):
        assume(translated_agree(worker, case, seed, source) is not None)

    check()


@pytest.mark.parametrize("source", list(RESIZES))
def test_resizes(oracle, source):
    worker = oracle("jax_lax")

    @given(RESIZES[source], st.integers(0, 2**32 - 1))
    @SETTINGS
    def check(case, seed):
        assume(translated_agree(worker, case, seed, f"{source} resize") is not None)

    check()


@pytest.mark.parametrize("activation", sorted(ACTIVATION_NAMES))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_every_keras_activation(oracle, activation, data_format):
    shape = (2, 5, 6, 4) if data_format == "channels_last" else (2, 4, 5, 6)  # grouped: XLA takes channels_first
    expr = (
        f"keras.layers.Conv2D(4, 3, padding='same', groups=2, data_format={data_format!r}, activation={activation!r})"
    )
    translated = translated_agree(oracle("jax_lax"), call(expr, shape), 5, "keras activation")
    assert translated == (activation != "glu"), activation


@pytest.mark.parametrize("case", COMPOSITES, ids=lambda case: case["expr"][:60])
def test_composite_cases(oracle, case):
    source = map_call(case["expr"], case["input_shape"], shapes=case["shapes"], output_size=case["output_size"])
    assert translated_agree(oracle("jax_lax"), case, 7, source.framework_id), "refused"
