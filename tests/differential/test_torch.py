"""PyTorch: convarith's shapes and refusals against torch itself.

Each generator draws a call torch mostly accepts, then, about half the time,
breaks one thing (a zero kernel, a wrong channel count, too much padding...),
so that shapes and refusals are both well covered.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.differential.compare import agree

pytestmark = pytest.mark.differential


def examples(n: int) -> settings:
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def per_axis(draw, rank: int, values, one_tuple: bool = False):
    """An int, a tuple with one value per axis, or (sometimes) a 1-element tuple."""
    choice = draw(st.integers(0, 9))
    if choice < 4:
        return draw(values)
    if one_tuple and choice == 9:
        return (draw(values),)
    return tuple(draw(values) for _ in range(rank))


def axes(value, rank: int) -> tuple:
    if isinstance(value, tuple):
        return value * rank if len(value) == 1 else value
    return (value,) * rank


def input_shape(draw, rank: int, channels: int, low: int = 1, high: int = 10) -> list:
    """(N, C, spatial...) or unbatched (C, spatial...); rarely a wrong channel count or batch 0."""
    batch = draw(st.sampled_from([1, 1, 2, 2, 3, 0]))
    spatial = [draw(st.integers(low, high)) for _ in range(rank)]
    shape = [batch, channels, *spatial]
    return shape[1:] if draw(st.integers(0, 4)) == 0 else shape


BROKEN = st.integers(0, 99).map(lambda roll: roll < 33)


@st.composite
def conv_calls(draw, transposed: bool, functional: bool):
    rank = draw(st.integers(1, 3))
    broken = draw(BROKEN)
    fault = draw(st.sampled_from(FAULTS["conv_transpose" if transposed else "conv"])) if broken else ""
    groups = draw(st.sampled_from([1, 1, 1, 2, 3]))
    in_ch = groups * draw(st.integers(1, 2))
    out_ch = groups * draw(st.integers(1, 2))
    kernel = per_axis(draw, rank, st.integers(1, 3))
    stride = per_axis(draw, rank, st.integers(1, 3), one_tuple=True)
    dilation = per_axis(draw, rank, st.sampled_from([1, 1, 2]), one_tuple=True)
    padding = per_axis(draw, rank, st.integers(0, 2), one_tuple=True)
    mode = "zeros"
    if not transposed and not functional:
        mode = draw(st.sampled_from(["zeros", "zeros", "zeros", "reflect", "replicate", "circular"]))
        if mode != "zeros" and isinstance(padding, tuple) and len(padding) == 1:
            padding = padding * rank
    if not transposed and draw(st.integers(0, 3)) == 0:
        padding = "valid" if draw(st.booleans()) else "same"
        stride = 1
    out_pad = 0
    if transposed and draw(st.booleans()):
        out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(axes(stride, rank), axes(dilation, rank)))
    channels = in_ch
    if fault == "kernel 0":
        kernel = tuple(draw(st.integers(0, 1)) for _ in range(rank)) if rank > 1 else 0
        kernel = kernel if 0 in axes(kernel, rank) else 0
    elif fault == "stride 0":
        stride = 0
    elif fault == "dilation 0":
        dilation = 0
        if draw(st.booleans()):
            kernel, groups, in_ch, out_ch, channels, out_pad = 1, 2, 2, 2, 2, 0
    elif fault == "negative padding":
        padding = -draw(st.integers(1, 2))
    elif fault == "channels":
        channels = in_ch + draw(st.sampled_from([-1, 1]))
    elif fault == "groups":
        groups = draw(st.sampled_from([0, -1, groups + 1]))
    elif fault == "negative channels" and not functional:  # a weight shape cannot be negative
        groups, out_ch = 1, -draw(st.integers(1, 3))  # a negative in_channels is also a channel mismatch
    elif fault == "same stride":
        padding, stride = "same", draw(st.integers(2, 3))
    elif fault == "bad padding mode":
        mode, padding = draw(st.sampled_from(["reflect", "circular"])), draw(st.integers(3, 6))
    elif fault == "output_padding":
        out_pad = max(max(axes(stride, rank)), max(axes(dilation, rank)))
    elif fault == "big padding":
        padding = draw(st.integers(3, 6))
    elif fault == "zero channels":
        groups, in_ch, channels = 1, 0, 0
    low, high = (0, 3) if fault == "small input" else (1, 9)
    shape = input_shape(draw, rank, max(channels, 0), low, high)
    if fault == "bad padding mode":
        shape[-1] = draw(st.integers(1, padding))
    output_size = None
    if transposed and not functional and draw(st.integers(0, 2)) == 0:
        k, s, d, p = (axes(x, rank) for x in (kernel, stride, dilation, padding))
        smallest = [(n - 1) * si + di * (ki - 1) + 1 - 2 * pi for n, ki, si, di, pi in zip(shape[-rank:], k, s, d, p)]
        output_size = [m + draw(st.integers(0, max(si - 1, 0) + (1 if broken else 0))) for m, si in zip(smallest, s)]
        if draw(st.integers(0, 3)) == 0:
            output_size = shape[: len(shape) - rank - (1 if broken and draw(st.booleans()) else 0)] + output_size
    if functional:
        name = draw(st.sampled_from(["F.", "nn.functional.", "torch.nn.functional."]))
        name += f"conv_transpose{rank}d" if transposed else f"conv{rank}d"
        k = axes(kernel, rank)
        weight = [in_ch, out_ch // max(groups, 1), *k] if transposed else [out_ch, in_ch // max(groups, 1), *k]
        shapes = {"x": shape, "w": weight}
        args = ["x", "w"]
        if draw(st.booleans()):
            shapes["b"] = [out_ch if fault != "bias" else out_ch + 1]
            args.append("b")
        args += [f"stride={stride!r}", f"padding={padding!r}", f"dilation={dilation!r}", f"groups={groups}"]
        if transposed:
            args.append(f"output_padding={out_pad!r}")
        return f"{name}({', '.join(args)})", None, shapes, None
    if transposed:
        name = draw(
            st.sampled_from([f"nn.ConvTranspose{rank}d", f"torch.nn.ConvTranspose{rank}d", f"ConvTranspose{rank}d"])
        )
        args = [f"{in_ch}", f"{out_ch}", repr(kernel), f"stride={stride!r}", f"padding={padding!r}"]
        args += [f"output_padding={out_pad!r}", f"groups={groups}", f"dilation={dilation!r}"]
    else:
        name = draw(st.sampled_from([f"nn.Conv{rank}d", f"torch.nn.Conv{rank}d", f"Conv{rank}d"]))
        args = [f"{in_ch}", f"{out_ch}", repr(kernel), f"stride={stride!r}", f"padding={padding!r}"]
        args += [f"dilation={dilation!r}", f"groups={groups}", f"padding_mode={mode!r}"]
    return f"{name}({', '.join(args)})", shape, None, output_size


FAULTS = {
    "conv": (
        "kernel 0",
        "stride 0",
        "dilation 0",
        "negative padding",
        "channels",
        "groups",
        "same stride",
        "bad padding mode",
        "small input",
        "bias",
        "zero channels",
        "negative channels",
    ),
    "conv_transpose": (
        "kernel 0",
        "stride 0",
        "dilation 0",
        "dilation 0",
        "negative padding",
        "channels",
        "groups",
        "output_padding",
        "big padding",
        "small input",
        "bias",
        "zero channels",
        "negative channels",
    ),
}


@given(conv_calls(False, False))
@examples(120)
def test_conv_modules(oracle, case):
    expr, shape, _, _ = case
    agree(oracle("torch"), expr, shape)


@given(conv_calls(True, False))
@examples(110)
def test_conv_transpose_modules(oracle, case):
    expr, shape, _, output_size = case
    agree(oracle("torch"), expr, shape, output_size=output_size)


@given(conv_calls(False, True))
@examples(60)
def test_conv_functionals(oracle, case):
    expr, _, shapes, _ = case
    agree(oracle("torch"), expr, shapes=shapes)


@given(conv_calls(True, True))
@examples(50)
def test_conv_transpose_functionals(oracle, case):
    expr, _, shapes, _ = case
    agree(oracle("torch"), expr, shapes=shapes)


@st.composite
def pool_calls(draw, functional: bool):
    rank = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["max", "avg", "lp"]))
    broken = draw(BROKEN)
    fault = draw(
        st.sampled_from(
            ["kernel 0", "stride 0", "padding", "dilation 0", "divisor 0", "small input", "empty channel", "norm 0"]
        )
    )
    kernel = per_axis(draw, rank, st.integers(1, 4), one_tuple=kind != "lp")
    stride = None if draw(st.integers(0, 2)) == 0 else per_axis(draw, rank, st.integers(1, 3), one_tuple=True)
    padding = tuple(draw(st.integers(0, k // 2)) for k in axes(kernel, rank))
    dilation = per_axis(draw, rank, st.sampled_from([1, 1, 2]), one_tuple=True)
    divisor = draw(st.sampled_from([None, None, 1, 2, -3]))
    norm = draw(st.sampled_from([1, 2, 1.5, 3]))
    channels = 2
    low = 1
    if broken:
        if fault == "kernel 0":
            kernel = 0
        elif fault == "stride 0":
            stride = 0
        elif fault == "padding":
            padding = (
                tuple(k // 2 + draw(st.integers(1, 2)) for k in axes(kernel, rank)) if draw(st.integers(0, 3)) else -1
            )
        elif fault == "dilation 0" and kind == "max":
            dilation = 0
        elif fault == "divisor 0" and kind == "avg" and rank > 1:
            divisor = 0
        elif fault == "empty channel":
            channels = 0
        elif fault == "norm 0" and kind == "lp":
            norm = 0
        else:
            low = 0
    shape = input_shape(draw, rank, channels, low, 3 if low == 0 else 10)
    ceil_mode = draw(st.booleans())
    if kind == "lp":
        args = [repr(norm), repr(kernel)]
        if stride is not None:
            args.append(f"stride={stride!r}")
        args.append(f"ceil_mode={ceil_mode}")
        base = f"LPPool{rank}d" if not functional else f"lp_pool{rank}d"
    else:
        args = [repr(kernel)]
        if stride is not None:
            args.append(f"stride={stride!r}")
        args += [f"padding={padding!r}", f"ceil_mode={ceil_mode}"]
        if kind == "max":
            args.append(f"dilation={dilation!r}")
            if draw(st.booleans()):
                args.append("return_indices=True")
            base = f"MaxPool{rank}d" if not functional else f"max_pool{rank}d"
        else:
            args.append(f"count_include_pad={draw(st.booleans())}")
            if rank > 1 and divisor is not None:
                args.append(f"divisor_override={divisor}")
            base = f"AvgPool{rank}d" if not functional else f"avg_pool{rank}d"
    if functional:
        prefix = draw(st.sampled_from(["F.", "nn.functional.", "torch.nn.functional."]))
        return f"{prefix}{base}(x, {', '.join(args)})", None, {"x": shape}
    prefix = draw(st.sampled_from(["nn.", "torch.nn.", ""]))
    return f"{prefix}{base}({', '.join(args)})", shape, None


@given(pool_calls(False))
@examples(110)
def test_pool_modules(oracle, case):
    expr, shape, _ = case
    agree(oracle("torch"), expr, shape)


@given(pool_calls(True))
@examples(70)
def test_pool_functionals(oracle, case):
    expr, _, shapes = case
    agree(oracle("torch"), expr, shapes=shapes)


@st.composite
def adaptive_calls(draw):
    rank = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["Max", "Avg"]))
    entry = st.one_of(st.integers(0, 6), st.integers(-1, 6), st.none()) if draw(BROKEN) else st.integers(1, 6)
    size = per_axis(draw, rank, entry, one_tuple=True)
    channels = draw(st.sampled_from([2, 2, 2, 0]))
    shape = input_shape(draw, rank, channels, 0 if draw(st.integers(0, 5)) == 0 else 1, 9)
    if draw(st.booleans()):
        prefix = draw(st.sampled_from(["F.", "nn.functional.", "torch.nn.functional."]))
        return f"{prefix}adaptive_{kind.lower()}_pool{rank}d(x, {size!r})", None, {"x": shape}
    prefix = draw(st.sampled_from(["nn.", "torch.nn.", ""]))
    return f"{prefix}Adaptive{kind}Pool{rank}d({size!r})", shape, None


@given(adaptive_calls())
@examples(80)
def test_adaptive_pools(oracle, case):
    expr, shape, shapes = case
    agree(oracle("torch"), expr, shape, shapes=shapes)


@pytest.mark.parametrize(
    ("expr", "shape"),
    [
        ("nn.Conv2d(1, -1, 3)", [1, 1, 8, 8]),  # issue 7: was answered (1, -1, 6, 6)
        ("nn.Conv1d(2, -4, 3, groups=2)", [1, 2, 8]),
        ("nn.Conv2d(-1, 4, 3)", [1, 0, 8, 8]),
        ("nn.ConvTranspose2d(1, -1, 3)", [1, 1, 8, 8]),
        ("nn.ConvTranspose1d(-2, 4, 3)", [1, 0, 8]),
        ("nn.Conv2d(0, 4, 3)", [1, 0, 8, 8]),
        ("nn.Conv2d(2, 0, 3)", [1, 2, 8, 8]),
        ("nn.Conv2d(2, 2, 3, groups=-1)", [1, 2, 8, 8]),
    ],
)
def test_zero_and_negative_channel_counts(oracle, expr, shape):
    agree(oracle("torch"), expr, shape)
