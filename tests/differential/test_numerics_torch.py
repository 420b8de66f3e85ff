"""PyTorch: convarith.forward's numbers, worksheets and transposed views against torch."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from tests.differential.numerics import accepted, random, values_agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def per_axis(rank, values):
    return st.one_of(values, st.tuples(*[values] * rank))


def axis(value, i):
    return value[i] if isinstance(value, tuple) else value


@st.composite
def conv_modules(draw):
    """A valid nn.Conv{1,2,3}d with its input and random weights."""
    rank = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    in_ch, out_ch = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = draw(per_axis(rank, st.integers(1, 3)))
    stride = draw(per_axis(rank, st.integers(1, 3)))
    dilation = draw(per_axis(rank, st.integers(1, 2)))
    mode = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
    padding = draw(st.one_of(per_axis(rank, st.integers(0, 2)), st.just("valid"), st.just("same")))
    if padding == "same":
        stride = 1
    bias = draw(st.booleans())
    spatial = [draw(st.integers(1, 8)) for i in range(rank)]  # smaller than the kernel too, where padding allows
    batch = draw(st.integers(1, 2))
    shape = [batch, in_ch, *spatial] if draw(st.integers(0, 4)) else [in_ch, *spatial]
    expr = (
        f"nn.Conv{rank}d({in_ch}, {out_ch}, {kernel!r}, stride={stride!r}, padding={padding!r}, "
        f"dilation={dilation!r}, groups={groups}, bias={bias}, padding_mode={mode!r})"
    )
    k = kernel if isinstance(kernel, tuple) else (kernel,) * rank
    return expr, shape, [(out_ch, in_ch // groups, *k)] + ([(out_ch,)] if bias else []), draw(st.integers(0, 2**32 - 1))


@given(conv_modules())
@SETTINGS
def test_conv_modules(oracle, case):
    expr, shape, weight_shapes, seed = case
    assume(accepted(expr, shape))
    rng = np.random.default_rng(seed)
    values_agree(oracle("torch"), expr, random(rng, shape), [random(rng, s) for s in weight_shapes])


@st.composite
def transpose_modules(draw):
    """A valid nn.ConvTranspose{1,2,3}d, sometimes called with output_size."""
    rank = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2]))
    in_ch, out_ch = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    padding = tuple(draw(st.integers(0, (d * (k - 1)) // 2)) for k, d in zip(kernel, dilation))
    out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    spatial = [draw(st.integers(1, 5)) for _ in range(rank)]
    bias = draw(st.booleans())
    output_size = None
    if draw(st.booleans()):
        smallest = [
            (n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in zip(spatial, stride, padding, dilation, kernel)
        ]
        output_size = [m + draw(st.integers(0, s - 1)) for m, s in zip(smallest, stride)]
        out_pad = (0,) * rank
    expr = (
        f"nn.ConvTranspose{rank}d({in_ch}, {out_ch}, {kernel!r}, stride={stride!r}, padding={padding!r}, "
        f"output_padding={out_pad!r}, groups={groups}, bias={bias}, dilation={dilation!r})"
    )
    weights = [(in_ch, out_ch // groups, *kernel)] + ([(out_ch,)] if bias else [])
    return expr, [draw(st.integers(1, 2)), in_ch, *spatial], weights, output_size, draw(st.integers(0, 2**32 - 1))


@given(transpose_modules())
@SETTINGS
def test_conv_transpose_modules(oracle, case):
    expr, shape, weight_shapes, output_size, seed = case
    rng = np.random.default_rng(seed)
    values_agree(
        oracle("torch"), expr, random(rng, shape), [random(rng, s) for s in weight_shapes], output_size=output_size
    )


@given(transpose_modules())
@SETTINGS
def test_transposed_views_agree_with_torch(oracle, case):
    expr, shape, weight_shapes, output_size, seed = case
    rng = np.random.default_rng(seed)
    x, weights = random(rng, shape), [random(rng, s) for s in weight_shapes]
    theirs = values_agree(oracle("torch"), expr, x, weights, output_size=output_size)
    views = convarith.transposed_views(expr, x, weights, output_size=output_size)
    assert views.agree, str(views)
    for result in (views.scatter, views.zero_insertion, views.matrix, views.forward):
        np.testing.assert_allclose(result, theirs, rtol=2e-5, atol=2e-5, err_msg=expr)


@st.composite
def functional_convs(draw):
    """F.conv{n}d / F.conv_transpose{n}d with arrays named in the call."""
    rank = draw(st.integers(1, 3))
    transposed = draw(st.booleans())
    groups = draw(st.sampled_from([1, 2]))
    in_ch, out_ch = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    stride = draw(st.integers(1, 2))
    padding = draw(st.integers(0, 1))
    spatial = [draw(st.integers(1, 6)) for _ in range(rank)]
    names = draw(st.sampled_from([("x", "w", "b"), ("inp", "weight", "bias")]))
    bias = draw(st.booleans())
    b = names[2] if bias else None
    if draw(st.booleans()):  # every argument by position
        w_shape = (in_ch, out_ch // groups, *kernel) if transposed else (out_ch, in_ch // groups, *kernel)
        tail = f"{stride}, {padding}, 0, {groups}" if transposed else f"{stride}, {padding}, 1, {groups}"
        call = f"F.conv{'_transpose' if transposed else ''}{rank}d({names[0]}, {names[1]}, {b}, {tail})"
    elif transposed:
        w_shape = (in_ch, out_ch // groups, *kernel)
        call = f"F.conv_transpose{rank}d({names[0]}, {names[1]}, {names[2] if bias else None}, stride={stride}, padding={padding}, groups={groups})"
    else:
        w_shape = (out_ch, in_ch // groups, *kernel)
        call = f"F.conv{rank}d({names[0]}, weight={names[1]}, bias={names[2] if bias else None}, stride={stride}, padding={padding}, groups={groups})"
    shapes = {names[0]: (2, in_ch, *spatial), names[1]: w_shape}
    if bias:
        shapes[names[2]] = (out_ch,)
    return call, shapes, draw(st.integers(0, 2**32 - 1))


@given(functional_convs())
@SETTINGS
def test_functional_convs(oracle, case):
    expr, shapes, seed = case
    assume(accepted(expr, shapes=shapes))
    rng = np.random.default_rng(seed)
    values_agree(oracle("torch"), expr, arrays={k: random(rng, s) for k, s in shapes.items()})


@st.composite
def pool_modules(draw):
    """Max/Avg/LP pooling with padding, ceil_mode, dilation, count_include_pad, divisor_override; adaptive.
    Inputs may be smaller than the kernel and strides larger than it (windows overhanging the input)."""
    rank = draw(st.integers(1, 3))
    kind = draw(
        st.sampled_from(["MaxPool", "AvgPool", "AvgPool", "LPPool", "LPPool", "AdaptiveMaxPool", "AdaptiveAvgPool"])
    )
    spatial = [draw(st.integers(1, 9)) for _ in range(rank)]
    batch_channels = [draw(st.integers(1, 2)), draw(st.integers(1, 3))]
    if kind.startswith("Adaptive"):
        size = tuple(draw(st.integers(1, n + 2)) for n in spatial)
        return f"nn.{kind}{rank}d({size!r})", batch_channels + spatial
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    stride = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    ceil_mode = f"ceil_mode={draw(st.booleans())}"
    if kind == "LPPool":
        norm = draw(st.sampled_from([1, 2, 3, 1.5]))
        size = kernel[0] if rank == 1 or draw(st.booleans()) else kernel
        return f"nn.LPPool{rank}d({norm}, {size!r}, stride={stride!r}, {ceil_mode})", batch_channels + spatial
    args = [
        repr(kernel),
        f"stride={stride!r}",
        ceil_mode,
        f"padding={tuple(draw(st.integers(0, k // 2)) for k in kernel)!r}",
    ]
    if kind == "MaxPool":
        args.append(f"dilation={tuple(draw(st.integers(1, 2)) for _ in range(rank))!r}")
    else:
        args.append(f"count_include_pad={draw(st.booleans())}")
        if rank > 1 and draw(st.booleans()):
            args.append(f"divisor_override={draw(st.integers(1, 5))}")
    return f"nn.{kind}{rank}d({', '.join(args)})", batch_channels + spatial


@given(pool_modules(), st.integers(0, 2**32 - 1))
@settings(SETTINGS, max_examples=100)
def test_pool_modules(oracle, case, seed):
    expr, shape = case
    assume(accepted(expr, shape))
    values_agree(oracle("torch"), expr, random(np.random.default_rng(seed), shape))


@st.composite
def functional_pools(draw):
    """F.max_pool / avg_pool / lp_pool / adaptive_* spelled positionally or by keyword."""
    rank = draw(st.integers(1, 3))
    kind = draw(
        st.sampled_from(["max_pool", "avg_pool", "lp_pool", "lp_pool", "adaptive_max_pool", "adaptive_avg_pool"])
    )
    spatial = [draw(st.integers(1, 8)) for _ in range(rank)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *spatial)
    positional = draw(st.booleans())
    k, s = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    ceil = draw(st.booleans())
    if kind.startswith("adaptive"):
        size = tuple(draw(st.integers(1, n + 1)) for n in spatial)
        return f"F.{kind}{rank}d(x, {size!r})" if positional else f"F.{kind}{rank}d(x, output_size={size!r})", shape
    if kind == "lp_pool":
        p = draw(st.sampled_from([1, 2, 3, 1.5]))
        if positional:
            return f"F.lp_pool{rank}d(x, {p}, {k}, {s}, {ceil})", shape
        return f"F.lp_pool{rank}d(x, norm_type={p}, kernel_size={k}, stride={s}, ceil_mode={ceil})", shape
    pad = draw(st.integers(0, k // 2))
    if kind == "max_pool":
        d = draw(st.integers(1, 2))
        if positional:
            return f"F.max_pool{rank}d(x, {k}, {s}, {pad}, {d}, {ceil})", shape
        return (
            f"F.max_pool{rank}d(x, kernel_size={k}, stride={s}, padding={pad}, dilation={d}, ceil_mode={ceil})",
            shape,
        )
    include = draw(st.booleans())
    if positional:
        return f"F.avg_pool{rank}d(x, {k}, {s}, {pad}, {ceil}, {include})", shape
    return f"F.avg_pool{rank}d(x, {k}, stride={s}, padding={pad}, ceil_mode={ceil}, count_include_pad={include})", shape


@given(functional_pools(), st.integers(0, 2**32 - 1))
@settings(SETTINGS, max_examples=60)
def test_functional_pools(oracle, case, seed):
    expr, shape = case
    assume(accepted(expr, shapes={"x": shape}))
    values_agree(oracle("torch"), expr, arrays={"x": random(np.random.default_rng(seed), shape)})


LP_POOL_CASES = [
    # (expr, input): torch rescales a partial ceil_mode window by kernel/cells, raises the signed input to p
    ("nn.LPPool1d(2, 2, stride=2, ceil_mode=True)", (1, 1, 7)),
    ("nn.LPPool1d(1, 2)", (1, 2, 6)),
    ("nn.LPPool1d(3, 2)", (1, 2, 6)),
    ("nn.LPPool2d(1.5, (2, 3), stride=(3, 2), ceil_mode=True)", (1, 2, 5, 6)),
    ("F.lp_pool3d(x, 3, 2, 3, True)", (1, 1, 4, 5, 5)),
]


@pytest.mark.parametrize(("expr", "shape"), LP_POOL_CASES)
def test_lp_pool_signed_powers_and_partial_windows(oracle, expr, shape):
    x = random(np.random.default_rng(3), shape)
    if expr.startswith("F."):
        values_agree(oracle("torch"), expr, arrays={"x": x})
    else:
        values_agree(oracle("torch"), expr, x)


@given(st.one_of(conv_modules(), pool_modules(), transpose_modules()), st.data())
@SETTINGS
def test_worksheet_value_is_forward_value(oracle, case, data):
    expr, shape, *rest = case
    assume(accepted(expr, shape))
    seed = rest[-1] if rest and isinstance(rest[-1], int) else 0
    rng = np.random.default_rng(seed)
    weights = [random(rng, s) for s in rest[0]] if rest and isinstance(rest[0], list) else None
    output_size = rest[1] if len(rest) == 3 else None
    x = random(rng, shape)
    theirs = values_agree(oracle("torch"), expr, x, weights, output_size=output_size)
    index = tuple(data.draw(st.integers(0, n - 1)) for n in theirs.shape)
    sheet = convarith.trace_element(expr, index, x, weights, output_size=output_size)
    assert sheet.agrees, str(sheet)
    np.testing.assert_allclose(sheet.value, theirs[index], rtol=1e-4, atol=1e-5, err_msg=str(sheet))
    for term in sheet.terms:
        if term.source.startswith("padding") and term.input_index is None:
            assert term.input_value in (0.0, float("-inf")), str(sheet)
