"""The shape path never falls over: random and adversarial calls, shapes and
sizes through output_shape and explain raise only ConvArithError, each fast.

CONVARITH_ROBUST_EXAMPLES=50000 runs a long search (the default is small)."""

from __future__ import annotations

import ast
import os
import signal
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convarith import ConvArithError, explain, output_shape
from convarith.frameworks import table
from tests.unit.robust_seeds import SEEDS

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")  # the adversarial texts

EXAMPLES = int(os.environ.get("CONVARITH_ROBUST_EXAMPLES", "100"))
HANG_SECONDS = 5  # a hang detector, not a speed target: calls take milliseconds
EXPLAIN_MAX_SIZE = 10**6  # explain's cost on huge sizes (input or output) is checked by test_explain

SPELLINGS = sorted(table()[0])
TENSORS = ("x", "w", "b", "X", "W", "B", "lhs", "rhs", "input", "filters", "k")
KEYWORDS = (
    "kernel_size", "stride", "strides", "padding", "dilation", "dilations", "dilation_rate", "groups", "group",
    "filters", "in_channels", "out_channels", "output_padding", "data_format", "ceil_mode", "count_include_pad",
    "divisor_override", "padding_mode", "bias", "use_bias", "depth_multiplier", "pool_size", "norm_type",
    "output_size", "output_shape", "return_indices", "auto_pad", "kernel_shape", "pads", "storage_order",
    "window_strides", "lhs_dilation", "rhs_dilation", "dimension_numbers", "feature_group_count",
    "batch_group_count", "window_dimensions", "init_value", "computation", "base_dilation", "window_dilation",
    "ksize", "pooling_type", "window_shape", "input", "filter", "weight", "activation", "name", "inputs",
    "outputs", "p", "transpose_kernel", "precision", "dtype", "device", "unknown_keyword",
)  # fmt: skip
WORDS = (
    "same", "valid", "SAME", "VALID", "causal", "full", "EXPLICIT", "NOTSET", "SAME_UPPER", "SAME_LOWER",
    "channels_first", "channels_last", "NHWC", "NCHW", "NWC", "NCW", "NDHWC", "NCDHW", "zeros", "reflect",
    "replicate", "circular", "MAX", "AVG", "relu", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool",
    "GlobalAveragePool", "GlobalMaxPool", "X", "W", "B", "Y", "", "\u00e9", "\\N{BULLET}", "\\x00",
)  # fmt: skip

# (base, exponent, offset, sign): hypothesis cannot print 10**5000 itself
huge = st.sampled_from(
    [(2, 63, -1, 1), (2, 63, 0, 1), (2, 63, 0, -1), (10, 19, 0, 1), (10, 40, 0, 1), (10, 5000, 0, 1), (2, 62, 0, 1)]
).map(lambda spec: spec[3] * (spec[0] ** spec[1] + spec[2]))
ints = st.one_of(st.integers(-3, 12), st.integers(-(2**70), 2**70), huge)
floats = st.one_of(
    st.sampled_from(["1e400", "-1e400", "1e308", "0.5", "2.0", "8.7", "-0.0", "1e-400"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)


def source(value: int) -> str:
    """An int as the user would type it (giant ones in hex, beyond Python's decimal limit)."""
    return hex(value) if abs(value) > 10**4000 else str(value)


atoms = st.one_of(
    ints.map(source),
    floats,
    st.sampled_from(WORDS).map(repr),
    st.text(max_size=12).map(repr),
    st.sampled_from(TENSORS + ("tf.float32", "torch.float32", "a.b.c", "lax.Precision.HIGHEST")),
    st.sampled_from(["None", "True", "False", "()", "[]", "float('nan')", "-x", "not x", "x[0]", "{}"]),
)
values = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5).map(lambda items: "(" + "".join(item + ", " for item in items) + ")"),
        st.lists(inner, max_size=5).map(lambda items: "[" + ", ".join(items) + "]"),
    ),
    max_leaves=12,
)
adversarial = st.sampled_from(
    [
        "-" * 1000 + "3",
        "(" * 150 + "3" + ")" * 150,
        "[" * 150 + "3" + "]" * 150,
        "(" * 60 + "3," + ",)" * 59 + ")",
        ".".join(["a"] * 1500),
        "not " * 500 + "x",
        "x" + "[0]" * 500,
        "'" + "s" * 3500 + "'",
        "0x" + "f" * 3600,
        "9" * 4400,
        "1e400",
        "'\\N{LATIN SMALL LETTER E WITH ACUTE}'",
    ]
)


@st.composite
def calls(draw) -> str:
    name = draw(st.sampled_from(SPELLINGS))
    if draw(st.integers(0, 30)) == 0:
        return name + "(1)" * draw(st.integers(1, 500))
    arg = st.one_of(values, adversarial) if draw(st.integers(0, 10)) == 0 else values
    args = draw(st.lists(arg, max_size=8))
    keywords = draw(st.dictionaries(st.sampled_from(KEYWORDS), arg, max_size=5))
    parts = args + [f"{key}={value}" for key, value in keywords.items()]
    return f"{name}({', '.join(parts)})"


sizes = st.one_of(st.integers(0, 12), st.integers(-2, 2), huge, st.integers(0, 2**64))
plain_shapes = st.lists(sizes, min_size=0, max_size=9).map(tuple)
odd_items = st.sampled_from(
    [8.0, 8.7, np.float64(8), np.array(8.7), np.array(8), np.int64(8), np.int32(-1), True, None, "8", [8], (8,)]
)
shape_values = st.one_of(
    plain_shapes,
    plain_shapes.map(list),
    st.lists(st.integers(0, 9), min_size=1, max_size=5).map(np.array),
    st.lists(st.integers(0, 9), min_size=1, max_size=6).map(lambda items: np.array(items).reshape(1, -1)),
    st.tuples(st.integers(1, 4), st.integers(1, 4), odd_items, st.integers(1, 9)),
    st.sampled_from([None, 8, "1,3,8,8", (), np.array(8.7), {1: 2}, b"abc", iter([1, 3, 8])]),
)


def timed(function, *args, **kwargs):
    """Run ``function``; ConvArithError or a result is fine, anything else fails, and so does a hang."""

    def hang(*_):
        raise TimeoutError(f"no answer within {HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(HANG_SECONDS)
    start = time.perf_counter()
    try:
        return function(*args, **kwargs)
    except ConvArithError:
        return None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        assert time.perf_counter() - start < HANG_SECONDS


def small(value) -> bool:
    """Whether every size in a shape-like value is small enough for explain (see EXPLAIN_MAX_SIZE)."""
    try:
        return not any(isinstance(item, int) and abs(item) > EXPLAIN_MAX_SIZE for item in value)
    except TypeError:  # not iterable: refused before explain looks at sizes
        return True


def check(expr, input_shape, shapes, output_size) -> None:
    shape = timed(output_shape, expr, input_shape, shapes=shapes, output_size=output_size)
    named = shapes.values() if isinstance(shapes, dict) else ()
    if all(small(sizes) for sizes in (shape or (), () if input_shape is None else input_shape, *named)):
        timed(lambda: str(explain(expr, input_shape, shapes=shapes, output_size=output_size)))


def replace_segment(text: str, node: ast.AST, new: str) -> str:
    """``text`` with the source of ``node`` (on its one line) replaced by ``new``."""
    return text[: node.col_offset] + new + text[node.end_col_offset :]


@st.composite
def mutated_calls(draw) -> str:
    """A valid seed call with one to three pieces replaced, added or dropped."""
    expr = draw(st.sampled_from(SEEDS))[0]
    for _ in range(draw(st.integers(1, 3))):
        try:
            call = ast.parse(expr, mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            break  # already broken beyond Python: that is a case too
        if not isinstance(call, ast.Call):
            break
        arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
        pieces = [node for arg in arguments for node in ast.walk(arg) if isinstance(node, ast.expr)]
        action = draw(st.integers(0, 5))
        value = draw(st.one_of(values, adversarial) if draw(st.integers(0, 8)) == 0 else values)
        if pieces and action <= 2:
            expr = replace_segment(expr, draw(st.sampled_from(pieces)), value)
        elif call.keywords and action == 3:
            keyword = draw(st.sampled_from(call.keywords))
            expr = replace_segment(expr, keyword, f"{draw(st.sampled_from(KEYWORDS))}={keyword.value and value}")
        elif pieces and action == 4:
            expr = replace_segment(expr, draw(st.sampled_from(pieces)), "")
        else:
            expr = expr[:-1] + f", {draw(st.sampled_from(KEYWORDS))}={value})"
    return expr


def mutated_shape(draw, shape):
    """A seed shape, sometimes with a size, the rank or the type changed."""
    if shape is None or draw(st.integers(0, 2)):
        return shape
    items = list(shape)
    action = draw(st.integers(0, 4))
    if action == 0 and items:
        items[draw(st.integers(0, len(items) - 1))] = draw(st.one_of(sizes, odd_items))
    elif action == 1:
        items.insert(draw(st.integers(0, len(items))), draw(st.integers(0, 4)))
    elif action == 2 and items:
        items.pop(draw(st.integers(0, len(items) - 1)))
    elif action == 3:
        return np.array(items)
    else:
        return draw(shape_values)
    return tuple(items)


@st.composite
def mutated_cases(draw):
    expr = draw(mutated_calls())
    _, input_shape, shapes, output_size = draw(st.sampled_from(SEEDS))
    for seed in SEEDS:  # the seed's own shapes fit it best
        if seed[0].split("(")[0] == expr.split("(")[0] and draw(st.booleans()):
            _, input_shape, shapes, output_size = seed
            break
    shapes = None if shapes is None else {key: mutated_shape(draw, value) for key, value in shapes.items()}
    return expr, mutated_shape(draw, input_shape), shapes, mutated_shape(draw, output_size)


@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    calls(),
    shape_values,
    st.none() | st.dictionaries(st.sampled_from(TENSORS), shape_values, max_size=4),
    st.none() | shape_values,
)
def test_random_calls_raise_only_convarith_error(expr, input_shape, shapes, output_size):
    check(expr, input_shape, shapes, output_size)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(mutated_cases())
def test_mutated_valid_calls_raise_only_convarith_error(case):
    """Valid calls of every kind with a piece broken reach each handler's deepest checks."""
    check(*case)


def test_most_seeds_are_answered():
    """The seeds reach the handlers' shape arithmetic, not only their first checks."""
    answered = 0
    for expr, input_shape, shapes, output_size in SEEDS:
        answered += timed(output_shape, expr, input_shape, shapes=shapes, output_size=output_size) is not None
    assert answered >= 0.6 * len(SEEDS)


TENSOR_SHAPES = st.lists(st.integers(0, 6), min_size=1, max_size=5).map(tuple)


@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(calls(), st.dictionaries(st.sampled_from(TENSORS), TENSOR_SHAPES, min_size=3, max_size=8), TENSOR_SHAPES)
def test_plausible_calls_raise_only_convarith_error(expr, shapes, input_shape):
    """Small plausible shapes reach the handlers' deeper checks."""
    check(expr, input_shape, shapes, None)


WRONG = ("[]", "None", "'same'", "2.5", "k", "-1", "[[1]]", "True")


@pytest.mark.parametrize("seed", SEEDS, ids=[seed[0][:50] for seed in SEEDS])
def test_every_argument_of_wrong_type(seed):
    """Each argument (and each piece inside one) of each seed given each kind of wrong value."""
    expr, input_shape, shapes, output_size = seed
    call = ast.parse(expr, mode="eval").body
    arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
    for node in [node for arg in arguments for node in ast.walk(arg) if isinstance(node, ast.expr)]:
        for value in WRONG:
            check(replace_segment(expr, node, value), input_shape, shapes, output_size)


# --- glpad: padding, cropping, global pooling and unpooling arguments ---
KEYWORDS += ("cropping", "keepdims", "value", "mode", "axes", "indices", "pad")
WORDS += ("constant", "edge", "wrap", "Pad", "GlobalLpPool")
