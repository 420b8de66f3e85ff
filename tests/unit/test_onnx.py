"""ONNX mapping: hand-checked shapes, padding placement and refusal texts."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convarith
from convarith.api import map_call, plan_for
from convarith.frameworks._common import Inputs
from tests.unit.fast_paths import assert_fast_path_agrees

SEED = {"X": (1, 3, 32, 32), "W": (8, 3, 3, 3)}


@pytest.mark.parametrize(
    ("expr", "shapes", "shape"),
    [
        ("onnx.helper.make_node('Conv', ['X', 'W'], ['Y'])", SEED, (1, 8, 30, 30)),
        ("helper.make_node('Conv', ['X', 'W'], ['Y'], pads=[1, 1, 1, 1], strides=[2, 2])", SEED, (1, 8, 16, 16)),
        (
            "make_node('Conv', ['X', 'W', 'B'], ['Y'], auto_pad='SAME_LOWER', strides=[2, 2])",
            SEED | {"B": (8,)},
            (1, 8, 16, 16),
        ),
        (
            "make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[2, 2], auto_pad='SAME_UPPER')",
            {"X": (1, 3, 5, 5), "W": (3, 4, 4, 4)},
            (1, 4, 10, 10),
        ),
        (
            "make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[2], output_shape=[12])",
            {"X": (1, 3, 5), "W": (3, 4, 3)},
            (1, 4, 12),
        ),
        (
            "make_node('MaxPool', ['X'], ['Y'], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)",
            {"X": (1, 3, 8, 8)},
            (1, 3, 4, 4),
        ),
        (
            "make_node('MaxPool', ['X'], ['Y'], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=2)",
            {"X": (1, 3, 8, 8)},
            (1, 3, 3, 3),
        ),
        ("make_node('AveragePool', ['X'], ['Y'], kernel_shape=[2], strides=[2])", {"X": (1, 3, 1)}, (1, 3, 1)),
        ("make_node('LpPool', ['X'], ['Y'], kernel_shape=[9], p=3)", {"X": (1, 3, 8)}, (1, 3, 0)),
        (
            "make_node('MaxPool', ['X'], ['Y'], kernel_shape=[3], dilations=[2], auto_pad='SAME_UPPER')",
            {"X": (1, 3, 8)},
            (1, 3, 6),
        ),
    ],
)
def test_shapes(expr, shapes, shape):
    assert convarith.output_shape(expr, shapes=shapes) == shape


def test_output_shape_crops_the_odd_pixel_at_the_start():
    op = map_call(
        "make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[2], output_shape=[10])",
        shapes={"X": (1, 3, 5), "W": (3, 4, 3)},
    ).ops[0]
    assert (op.pad_lo, op.pad_hi) == ((1,), (0,))
    op = map_call(
        "make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[2], output_shape=[10], auto_pad='SAME_UPPER')",
        shapes={"X": (1, 3, 5), "W": (3, 4, 3)},
    ).ops[0]
    assert (op.pad_lo, op.pad_hi) == ((0,), (1,))


def test_same_lower_puts_the_odd_pixel_first():
    mapped = map_call(
        "make_node('Conv', ['X', 'W'], ['Y'], auto_pad='SAME_LOWER')", shapes={"X": (1, 3, 8), "W": (4, 3, 4)}
    )
    assert (mapped.ops[0].pad_lo, mapped.ops[0].pad_hi) == ((2,), (1,))
    assert mapped.padding_rules == (
        "auto_pad='SAME_LOWER': out = ceil(8/1) = 8; total pad = max((8-1)*1 + 4 - 8, 0) = 3 -> before 2, after 1, the odd pixel at the start",
    )


def test_overhanging_pool_window_is_a_rounding_rule_not_padding():
    mapped = map_call("make_node('AveragePool', ['X'], ['Y'], kernel_shape=[2], strides=[2])", shapes={"X": (1, 3, 1)})
    assert (mapped.ops[0].pad_hi, mapped.ops[0].rounding) == ((0,), "trunc")
    assert mapped.output_shape == (1, 3, 1)
    assert "trunc((1 + 0 + 0 - 2) / 2) + 1 = 1" in mapped.notes[0]


@pytest.mark.parametrize(
    ("expr", "shapes", "message"),
    [
        (
            "make_node('Conv', ['X', 'W'], ['Y'], auto_pad='SAME_UPPER', dilations=[2, 2])",
            SEED,
            "Conv: auto_pad='SAME_UPPER' with dilations=[2, 2]. Rule: onnxruntime's Conv computes SAME padding only without "
            "dilation (Dilation not supported for SAME_UPPER or SAME_LOWER). Fix: explicit pads, e.g. pads=[2, 2, 2, 2].",
        ),
        (
            "make_node('Conv', ['X', 'W'], ['Y'], auto_pad='SAME_LOWER', pads=[1, 1, 1, 1])",
            SEED,
            "Conv: pads=[1, 1, 1, 1] is given together with auto_pad='SAME_LOWER'. Rule: onnxruntime refuses a Conv with both "
            "'auto_pad' and 'pads'. Fix: drop pads, or drop auto_pad.",
        ),
        (
            "make_node('Conv', ['X', 'W'], ['Y'], kernel_shape=[5, 5])",
            SEED,
            "Conv: kernel_shape=[5, 5] does not match W's spatial dims (3, 3) (W shape (8, 3, 3, 3)). Rule: onnxruntime requires "
            "kernel_shape to equal W's shape (kernel_shape is not compatible with W shape). Fix: leave kernel_shape out; it is read from W.",
        ),
        (
            "make_node('Conv', ['X', 'W'], ['Y'], strides=2)",
            SEED,
            "Conv: attribute strides=2 is an int (INT), but Conv expects a list of ints (INTS). Rule: onnxruntime rejects the model "
            "(Mismatched attribute type). Fix: strides=[2, ...].",
        ),
        (
            "make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[2], output_padding=[2])",
            {"X": (1, 3, 5), "W": (3, 4, 3)},
            "ConvTranspose: output_padding=[2] is too large on the length axis. Rule: onnxruntime needs output_padding < "
            "max(stride, dilation) = 2. Fix: output_padding < 2.",
        ),
        (
            "make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[2], output_shape=[13])",
            {"X": (1, 3, 5), "W": (3, 4, 3)},
            "ConvTranspose: output_shape=[13] does not fit input size 5 on the length axis. Rule: onnxruntime maps the output back, "
            "(out + pads - k_eff) // stride + 1 = (13 + 0 - 3) // 2 + 1 = 6, and needs 5. Fix: output_shape between 1 and 12; "
            "11 needs no cropping.",
        ),
        (
            "make_node('MaxPool', ['X'], ['Y'], kernel_shape=[3], pads=[3, 0])",
            {"X": (1, 3, 8)},
            "MaxPool: pads=[3, 0] is not smaller than kernel_shape=[3] on the length axis. Rule: onnxruntime needs each pad < kernel "
            "size (Pad should be smaller than kernel), even when auto_pad ignores pads. Fix: pads <= 2.",
        ),
        (
            "make_node('MaxPool', ['X'], ['Y'], kernel_shape=[1], strides=[2], auto_pad='SAME_UPPER')",
            {"X": (1, 3, 2)},
            "MaxPool: auto_pad='SAME_UPPER' gives negative padding on the length axis (out = ceil(2/2) = 1; total pad = "
            "(1-1)*2 + 1 - 2 = -1 -> before 0, after -1, the odd pixel at the end). Rule: onnxruntime's MaxPool without dilation "
            "refuses it (padding values must be non-negative). Fix: kernel_shape >= strides, or explicit pads.",
        ),
        (
            "make_node('MaxPool', ['X'], ['Y'], kernel_shape=[10])",
            {"X": (1, 3, 8)},
            "MaxPool: input length 8 is too small: the output size would be negative. Rule: onnxruntime computes "
            "trunc((8 + 0 + 0 - 10) / 1) + 1 = -1 and refuses < 0 (0 gives an empty tensor). Fix: a larger input, more pads, "
            "or a smaller kernel_shape.",
        ),
        (
            "make_node('Conv', ['X', 'W'], ['Y'], auto_pad='same_upper')",
            SEED,
            "Conv: auto_pad='same_upper' is not one of 'NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'. Rule: onnxruntime compares "
            "the string exactly (Unknown AutoPadType String). Fix: auto_pad='SAME_UPPER'.",
        ),
        (
            "make_node('ConvTranspose', ['X', 'W'], ['Y'])",
            {"X": (1, 2, 0, 1, 1), "W": (2, 1, 2, 2, 2)},
            "ConvTranspose: X has shape (1, 2, 0, 1, 1): an empty depth or height axis with a non-empty width. Rule: "
            "onnxruntime 1.32's 3-D ConvTranspose kills the process (SIGSEGV) on such an input instead of refusing it "
            "(measured). Fix: skip the node for an empty input, or make every spatial axis non-empty.",
        ),
        (
            "make_node('ConvTranspose', ['X', 'W'], ['Y'], output_shape=[1, 3])",
            {"X": (1, 2, 0, 2), "W": (2, 1, 2, 2)},
            "ConvTranspose: output_shape=[1, 3] is given for an input with an empty height axis (X shape (1, 2, 0, 2)). "
            "Rule: onnxruntime needs every input spatial dimension positive when output_shape is set. Fix: drop "
            "output_shape, or a non-empty input.",
        ),
    ],
)
def test_refusals(expr, shapes, message):
    with pytest.raises(convarith.ConvArithError) as info:
        convarith.output_shape(expr, shapes=shapes)
    assert str(info.value) == message


def test_op_type_of_the_wrong_type_is_refused():
    """issue 7: make_node([], ...) was TypeError (unhashable)."""
    with pytest.raises(convarith.ConvArithError) as info:
        convarith.output_shape("onnx.helper.make_node([], ['X', 'W'], ['Y'])", shapes=SEED)
    assert str(info.value).startswith("onnx.helper.make_node: op_type=[] is not one of 'Conv', 'ConvTranspose'")


@pytest.mark.parametrize(("group", "shape"), [(-1, (1, 2, 3, 3)), (0, None)])
def test_conv_group_on_zero_channels_as_onnxruntime_runs_it(group, shape):
    """Measured (onnxruntime 1.32): group=-1 with C = W.shape[1] = 0 runs and gives (1, 2, 3, 3);
    group=0 kills the process (an integer division by zero), so it is refused."""
    expr = f"make_node('Conv', ['X', 'W'], ['Y'], group={group})"
    shapes = {"X": (1, 0, 5, 5), "W": (2, 0, 3, 3)}
    if shape is None:
        with pytest.raises(convarith.ConvArithError, match="group=0"):
            convarith.output_shape(expr, shapes=shapes)
    else:
        assert convarith.output_shape(expr, shapes=shapes) == shape


@settings(max_examples=300, deadline=None)
@given(
    n=st.tuples(st.integers(0, 12), st.integers(0, 12)),
    k=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    strides=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dilations=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    pads=st.tuples(*[st.integers(0, 3)] * 4),
    group=st.sampled_from([1, 2]),
    shape_k=st.booleans(),
)
def test_the_fast_conv_shape_is_the_full_mapping(n, k, strides, dilations, pads, group, shape_k):
    """plan.shape (the fast path: windows_in(n + lo + hi, k_eff, s)) and plan.map agree, refusals included."""
    kernel = f"kernel_shape={list(k)}, " if shape_k else ""
    expr = (
        f"onnx.helper.make_node('Conv', ['X', 'W'], ['Y'], {kernel}strides={list(strides)}, "
        f"dilations={list(dilations)}, pads={list(pads)}, group={group})"
    )
    plan = plan_for(expr)
    inputs = Inputs(None, (("W", (4, 2, *k)), ("X", (1, 2 * group, *n))))
    assert_fast_path_agrees(plan, inputs)
