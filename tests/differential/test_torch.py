"""PyTorch: convarith's shapes and refusals against torch itself."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.differential.compare import agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

small = st.integers(0, 4)
positive = st.integers(1, 4)


def per_axis(rank, values):
    return st.one_of(values, st.tuples(*[values] * rank))


@st.composite
def conv_calls(draw, transposed: bool):
    rank = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    in_ch = groups * draw(st.integers(1, 2)) + draw(st.sampled_from([0, 0, 0, 1]))
    out_ch = groups * draw(st.integers(1, 2)) + draw(st.sampled_from([0, 0, 0, 1]))
    kernel = draw(per_axis(rank, st.integers(0, 4)))
    stride = draw(per_axis(rank, st.integers(0, 3)))
    dilation = draw(per_axis(rank, st.integers(0, 3)))
    args = [f"{in_ch}", f"{out_ch}", repr(kernel), f"stride={stride!r}", f"dilation={dilation!r}", f"groups={groups}"]
    if transposed:
        args.append(f"padding={draw(per_axis(rank, small))!r}")
        args.append(f"output_padding={draw(per_axis(rank, st.integers(0, 3)))!r}")
        name = f"nn.ConvTranspose{rank}d"
    else:
        args.append(f"padding={draw(st.one_of(per_axis(rank, small), st.sampled_from(['same', 'valid'])))!r}")
        args.append(f"padding_mode={draw(st.sampled_from(['zeros', 'zeros', 'reflect', 'replicate', 'circular']))!r}")
        name = draw(st.sampled_from([f"nn.Conv{rank}d", f"torch.nn.Conv{rank}d", f"Conv{rank}d"]))
    batch = draw(st.integers(1, 2))
    spatial = draw(st.lists(st.integers(1, 9), min_size=rank, max_size=rank))
    channels = in_ch if draw(st.integers(0, 9)) else in_ch + 1
    shape = [batch, channels, *spatial]
    if draw(st.integers(0, 5)) == 0:
        shape = shape[1:]
    output_size = None
    if transposed and draw(st.booleans()):
        output_size = draw(st.lists(st.integers(1, 30), min_size=rank, max_size=rank))
    return f"{name}({', '.join(args)})", shape, output_size


@given(conv_calls(False))
@SETTINGS
def test_conv_modules(oracle, case):
    expr, shape, _ = case
    agree(oracle("torch"), expr, shape)


@given(conv_calls(True))
@SETTINGS
def test_conv_transpose_modules(oracle, case):
    expr, shape, output_size = case
    agree(oracle("torch"), expr, shape, output_size=output_size)


@st.composite
def pool_calls(draw):
    rank = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["MaxPool", "AvgPool"]))
    kernel = draw(per_axis(rank, st.integers(0, 4)))
    args = [repr(kernel)]
    if draw(st.booleans()):
        args.append(f"stride={draw(per_axis(rank, st.integers(0, 3)))!r}")
    args.append(f"padding={draw(per_axis(rank, st.integers(0, 3)))!r}")
    args.append(f"ceil_mode={draw(st.booleans())}")
    if kind == "MaxPool":
        args.append(f"dilation={draw(per_axis(rank, st.integers(1, 3)))!r}")
    else:
        args.append(f"count_include_pad={draw(st.booleans())}")
        if rank > 1 and draw(st.booleans()):
            args.append(f"divisor_override={draw(st.integers(0, 3))}")
    spatial = draw(st.lists(st.integers(1, 9), min_size=rank, max_size=rank))
    shape = [draw(st.integers(1, 2)), 2, *spatial]
    return f"nn.{kind}{rank}d({', '.join(args)})", shape


@given(pool_calls())
@SETTINGS
def test_pool_modules(oracle, case):
    expr, shape = case
    agree(oracle("torch"), expr, shape)


@st.composite
def adaptive_calls(draw):
    rank = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["AdaptiveMaxPool", "AdaptiveAvgPool"]))
    size = draw(per_axis(rank, st.one_of(st.integers(0, 6), st.none())))
    spatial = draw(st.lists(st.integers(0, 9), min_size=rank, max_size=rank))
    return f"nn.{kind}{rank}d({size!r})", [1, 2, *spatial]


@given(adaptive_calls())
@SETTINGS
def test_adaptive_pool_modules(oracle, case):
    expr, shape = case
    agree(oracle("torch"), expr, shape)
