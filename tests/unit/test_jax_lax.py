"""jax.lax mapping: hand-checked shapes and the exact text of key refusals."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convarith
from convarith.api import plan_for
from convarith.frameworks._common import Inputs
from tests.unit.fast_paths import assert_fast_path_agrees

NCHW = {"x": (1, 4, 5, 7), "w": (6, 2, 2, 3)}
NHWC = {"x": (1, 5, 7, 2), "w": (2, 3, 2, 4)}


@pytest.mark.parametrize(
    ("expr", "shapes", "expected"),
    [
        # SAME forward: ceil(n/s); SAME_LOWER the same size, odd pixel first.
        ("lax.conv_general_dilated(x, w, (2, 2), 'SAME')", {"x": (1, 3, 96, 128), "w": (8, 3, 3, 3)}, (1, 8, 48, 64)),
        ("jax.lax.conv(x, w, (1, 1), 'same')", NCHW | {"w": (3, 4, 2, 3)}, (1, 3, 5, 7)),
        # Spatial order follows the rhs spec: 'WHIO' makes W the first spatial axis.
        (
            "conv_general_dilated(x, w, (2, 1), 'VALID', dimension_numbers=('NHWC', 'WHIO', 'NWHC'))",
            {"x": (1, 5, 7, 2), "w": (2, 3, 2, 3)},
            (1, 3, 3, 3),
        ),
        # lhs_dilation: (5-1)*2+1 + 1 + 2 - 2 + 1 = 11, (7-1)*3+1 + 3 + 4 - 3 + 1 = 24.
        (
            "lax.conv_general_dilated(x, w, (1, 1), ((1, 2), (3, 4)), lhs_dilation=(2, 3))",
            {"x": (2, 4, 5, 7), "w": (4, 4, 2, 3)},
            (2, 4, 11, 24),
        ),
        ("lax.conv_general_dilated(x, w, (1, 1), 'VALID', feature_group_count=2)", NCHW, (1, 6, 4, 5)),
        (
            "lax.conv_general_dilated(x, w, (1, 1), 'VALID', batch_group_count=2)",
            {"x": (4, 2, 5, 7), "w": (6, 2, 2, 3)},
            (2, 6, 4, 5),
        ),
        # Too small gives an empty array, not an error.
        (
            "lax.conv_general_dilated(x, w, (1, 1), [(-2, -2), (0, 0)])",
            {"x": (1, 2, 5, 7), "w": (3, 2, 2, 3)},
            (1, 3, 0, 5),
        ),
        # conv_transpose: 'SAME' n*s, 'VALID' n*s + max(k-s, 0), pairs pad the dilated input.
        ("lax.conv_transpose(x, w, (2, 3), 'SAME')", NHWC, (1, 10, 21, 4)),
        ("lax.conv_transpose(x, w, (2, 2), 'VALID')", {"x": (1, 48, 64, 8), "w": (3, 3, 8, 3)}, (1, 97, 129, 3)),
        ("lax.conv_transpose(x, w, (2, 3), [(1, 0), (0, 2)])", NHWC, (1, 9, 19, 4)),
        (
            "lax.conv_transpose(x, w, (2, 3), [(1, 0), (0, 2)], rhs_dilation=(2, 1), use_consistent_padding=True)",
            NHWC,
            (1, 10, 19, 4),
        ),
        (
            "lax.conv_transpose(x, w, (2, 3), 'VALID', transpose_kernel=True)",
            {"x": (1, 5, 7, 2), "w": (2, 3, 4, 2)},
            (1, 10, 21, 4),
        ),
        # An empty axis is dilated to 0 and padded: 0 + 3 + 0 - 2 + 1 = 2.
        ("lax.conv_transpose(x, w, (2, 3), [(3, 0), (0, 0)])", {"x": (1, 0, 7, 2), "w": (2, 3, 2, 4)}, (1, 2, 17, 4)),
    ],
)
def test_shapes(expr, shapes, expected):
    assert convarith.output_shape(expr, shapes=shapes) == expected


@pytest.mark.parametrize(
    ("expr", "shapes", "message"),
    [
        (
            "lax.conv_general_dilated(x, w, (1, 1), 'VALID')",
            NCHW,
            "conv_general_dilated: input features C=4 / feature_group_count=1 = 4 must equal the kernel's in-features "
            "I=2 (rhs shape (6, 2, 2, 3)). Rule: C = I * feature_group_count. Fix: feature_group_count=2.",
        ),
        (
            "lax.conv_general_dilated(x, w, (1, 1), 'VALID', feature_group_count=3)",
            NCHW,
            "conv_general_dilated: feature_group_count=3 must divide the input features C=4 (lhs shape (1, 4, 5, 7)). "
            "Rule: each group takes C / feature_group_count features. Fix: feature_group_count among [1, 2, 4].",
        ),
        (
            "lax.conv_general_dilated(x, w, (1, 1), 'VALID', feature_group_count=2, batch_group_count=2)",
            {"x": (2, 4, 5, 7), "w": (4, 2, 2, 3)},
            "conv_general_dilated: feature_group_count=2 and batch_group_count=2 are both > 1. "
            "Rule: at most one of them may be > 1. Fix: set one of them to 1.",
        ),
        (
            "lax.conv_general_dilated(x, w, (1, 1), 'VALID', batch_group_count=2)",
            {"x": (3, 2, 5, 7), "w": (6, 2, 2, 3)},
            "conv_general_dilated: batch_group_count=2 must divide the lhs batch N=3 (lhs shape (3, 2, 5, 7)). "
            "Rule: the output batch is N / batch_group_count. Fix: a batch that is a multiple of 2.",
        ),
        (
            "lax.conv_general_dilated(x, w, (1, 1), 'SAME', lhs_dilation=(2, 2), feature_group_count=2)",
            NCHW,
            "conv_general_dilated: padding='SAME' cannot be combined with lhs_dilation=(2, 2). Rule: JAX does not compute "
            "string padding for a transposed convolution written with conv_general_dilated. "
            "Fix: explicit (low, high) pairs, or lax.conv_transpose.",
        ),
        (
            "lax.conv_general_dilated(x, w, (1, 1), [(-3, -3), (0, 0)], feature_group_count=2)",
            NCHW,
            "conv_general_dilated: negative padding (-3, -3) crops more than the height axis holds: 5 + -3 + -3 = -1. "
            "Rule: padded size must be >= 0 (smaller than the kernel gives an empty output). Fix: low + high >= -5.",
        ),
        (
            "lax.conv_general_dilated(x, w, (1, 1), [(0, 0)], feature_group_count=2)",
            NCHW,
            "conv_general_dilated: padding=[(0, 0)] has 1 (low, high) pairs, but the kernel has 2 spatial axes. "
            "Rule: one pair per spatial axis. Fix: padding=[(1, 1), (1, 1)].",
        ),
        (
            "lax.conv(x, w, 1, 'VALID')",
            {"x": (1, 2, 5, 7), "w": (3, 2, 2, 3)},
            "conv: window_strides=1 must be a sequence of 2 ints, one per spatial axis. "
            "Rule: jax.lax does not repeat a bare int. Fix: window_strides=(1, 1).",
        ),
        (
            "lax.conv(x, w, (0, 1), 'VALID')",
            {"x": (1, 2, 5, 7), "w": (3, 2, 2, 3)},
            "conv: window_strides=(0, 1) must be >= 1 on every axis. Rule: XLA needs positive strides and dilations. "
            "Fix: window_strides=(1, 1).",
        ),
        (
            "lax.conv_general_dilated(x, w, (1, 1), 'VALID', dimension_numbers=('NHWC', 'HWIO', 'NHXC'))",
            {"x": (1, 5, 7, 2), "w": (2, 3, 2, 3)},
            "conv_general_dilated: dimension_numbers=('NHWC', 'HWIO', 'NHXC'): the three specs must use the same "
            "spatial letters, got HW, HW, HX. Rule: every spec names the same spatial axes. Fix: e.g. ('NHWC', 'HWIO', 'NHWC').",
        ),
        (
            "lax.conv_transpose(x, w, (2, 2), 'SAME')",
            {"x": (1, 5, 7, 3), "w": (2, 3, 2, 4)},
            "conv_transpose: input features C=3 (lhs shape (1, 5, 7, 3)) must equal the kernel's in-features 2, its 'I' "
            "axis (rhs shape (2, 3, 2, 4), spec 'HWIO'). Rule: the kernel's in-features match the input's features. "
            "Fix: a kernel with I=3.",
        ),
        (
            "lax.conv_transpose(x, w, (2, 2), 'same')",
            NHWC,
            "conv_transpose: padding='same' needs strides of 1, got strides=(2, 2). Rule: conv_transpose computes only "
            "'SAME' and 'VALID' (upper case) itself; other strings go to conv_general_dilated, which refuses them with "
            "strides. Fix: padding='SAME' or 'VALID', or explicit (low, high) pairs.",
        ),
    ],
)
def test_refusals(expr, shapes, message):
    with pytest.raises(convarith.ConvArithError) as info:
        convarith.output_shape(expr, shapes=shapes)
    assert str(info.value) == message


def test_transpose_explains_three_views():
    text = str(convarith.explain("lax.conv_transpose(x, w, (2, 3), 'SAME')", shapes=NHWC))
    assert (
        "JAX 'SAME' transposed: total pad k_eff+s-2 = 2, before k_eff-1 = 1 as stride 2 > k_eff-1, after 1; out = n*s"
        in text
    )
    assert "(5-1)*2 + 2 - 0 - 0 + 0 = 10" in text
    assert "note: JAX 'SAME' transposed: out = n*s" in text


def test_xla_abort_is_refused_with_its_reason():
    with pytest.raises(convarith.ConvArithError) as info:
        convarith.output_shape(
            "lax.conv_general_dilated(x, w, (1, 1), [(0, 1), (0, 0)], lhs_dilation=(1, 2))",
            shapes={"x": (1, 1, 2, 3), "w": (1, 1, 3, 2)},
        )
    assert str(info.value) == (
        "conv_general_dilated: this call aborts the process in JAX instead of returning (SIGABRT in XLA's algebraic "
        "simplifier: 'Window dimensions do not match RHS shape'). Rule: measured with jaxlib 0.10.2 on CPU: the height "
        "axis (2) is shorter than its kernel (3) and padded (0, 1) while the width axis has lhs_dilation 2 with "
        "kernel 2. Fix: pad the width axis, or make the height input at least as long as the kernel."
    )


def refusal_of(expr, shapes) -> str:
    with pytest.raises(convarith.ConvArithError) as info:
        convarith.output_shape(expr, shapes=shapes)
    return str(info.value)


@pytest.mark.parametrize("count", ["feature_group_count", "batch_group_count"])
@pytest.mark.parametrize("value", [0, -1])
def test_group_counts_must_be_positive(count, value):
    """Measured in jax 0.10.2: 'conv_general_dilated {count} must be a positive integer, got {value}'."""
    message = refusal_of(
        f"lax.conv_general_dilated(x, w, (1,), 'VALID', {count}={value})", {"x": (2, 2, 5), "w": (2, 2, 3)}
    )
    assert message.startswith(f"conv_general_dilated: {count}={value} must be a positive integer.")


GROUPS_OF_11 = "lax.conv_general_dilated(x, w, (1,), 'VALID', feature_group_count=11)"


@pytest.mark.parametrize("channels", [6, 10**6, 10**12, 2**63 - 1])
def test_group_count_fix_is_bounded(channels):
    """issue 7: the fix listed every divisor of C one by one (10**12 channels never returned)."""
    start = time.perf_counter()
    message = refusal_of(GROUPS_OF_11, {"x": (1, channels, 5), "w": (11, 1, 3)})
    assert time.perf_counter() - start < 1
    listed = message.partition("Fix: feature_group_count ")[2]
    numbers = [int(item) for item in listed.partition("[")[2].partition("]")[0].split(", ")]
    if channels <= 10**6:
        assert listed.startswith("among [") and numbers == [d for d in range(1, channels + 1) if channels % d == 0]
    else:
        assert listed.startswith("such as [")
        assert listed.endswith(f"] (not every divisor of {channels} is listed).")
        assert numbers[0] == 1 and numbers[-1] == channels and all(channels % d == 0 for d in numbers)


@settings(max_examples=300, deadline=None)
@given(
    n=st.tuples(st.integers(0, 12), st.integers(0, 12)),
    k=st.tuples(st.integers(0, 5), st.integers(0, 5)),
    strides=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.sampled_from(["'SAME'", "'VALID'", "((1, 2), (0, 3))", "((-1, 0), (2, -2))"]),
    kind=st.sampled_from(["conv_transpose", "conv_general_dilated"]),
)
def test_the_fast_shape_is_the_full_mapping(n, k, strides, dilation, padding, kind):
    """plan.shape (the fast path: 'SAME' transposed is n*s whatever the kernel) and plan.map agree,
    refusals included, on NHWC/HWIO conv_transpose and NCHW/OIHW conv_general_dilated."""
    if kind == "conv_transpose":
        expr = f"lax.conv_transpose(x, w, {strides}, {padding}, rhs_dilation={dilation})"
        shapes = {"x": (2, *n, 3), "w": (*k, 3, 4)}
    else:
        expr = f"lax.conv_general_dilated(x, w, {strides}, {padding}, rhs_dilation={dilation})"
        shapes = {"x": (2, 3, *n), "w": (4, 3, *k)}
    plan = plan_for(expr)
    inputs = Inputs(None, tuple(sorted(shapes.items())))
    assert_fast_path_agrees(plan, inputs)
