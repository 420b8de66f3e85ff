"""jax.lax: convarith.forward's numbers against conv_general_dilated and conv_transpose."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from tests.differential.numerics import accepted, random, values_agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
LAYOUTS = {
    1: [("NCH", "OIH", "NCH"), ("NHC", "HIO", "NHC"), ("HNC", "IOH", "CHN")],
    2: [("NCHW", "OIHW", "NCHW"), ("NHWC", "HWIO", "NHWC"), ("CHWN", "OHWI", "NWHC")],
}


def place(spec: str, sizes: dict) -> tuple:
    return tuple(sizes[c] for c in spec)


@st.composite
def general_calls(draw):
    """conv_general_dilated: strides, explicit (maybe negative) or SAME/VALID padding, lhs/rhs
    dilation, feature or batch groups, any dimension_numbers."""
    rank = draw(st.integers(1, 2))
    lhs_s, rhs_s, out_s = draw(st.sampled_from(LAYOUTS[rank]))
    groups = draw(st.sampled_from([1, 1, 2]))
    batch_groups = 1 if groups > 1 else draw(st.sampled_from([1, 1, 2]))
    letters = "HW"[:rank]
    sizes = {"N": batch_groups * draw(st.integers(1, 2)), "C": groups * draw(st.integers(1, 2))}
    sizes |= {c: draw(st.integers(1, 7)) for c in letters}  # smaller than the kernel too, where padding allows
    kernel = {c: draw(st.integers(1, 3)) for c in letters}
    out_features = groups * batch_groups * draw(st.integers(1, 2))
    rhs_sizes = {"O": out_features, "I": sizes["C"] // groups, **kernel}
    strides = [draw(st.integers(1, 2)) for _ in range(rank)]
    lhs_dil = [draw(st.integers(1, 2)) for _ in range(rank)]
    rhs_dil = [draw(st.integers(1, 2)) for _ in range(rank)]
    padding = draw(
        st.one_of(
            st.sampled_from(["VALID", "SAME"]),
            st.lists(st.tuples(st.integers(-1, 2), st.integers(-1, 2)), min_size=rank, max_size=rank),
        )
    )
    if padding == "SAME":
        lhs_dil = [1] * rank
    numbers = (lhs_s, rhs_s, out_s)
    expr = (
        f"lax.conv_general_dilated(x, w, window_strides={strides!r}, padding={padding!r}, lhs_dilation={lhs_dil!r}, "
        f"rhs_dilation={rhs_dil!r}, dimension_numbers={numbers!r}, feature_group_count={groups}, "
        f"batch_group_count={batch_groups})"
    )
    if draw(st.booleans()):  # every argument by position
        expr = (
            f"lax.conv_general_dilated(x, w, {strides!r}, {padding!r}, {lhs_dil!r}, {rhs_dil!r}, {numbers!r}, "
            f"{groups}, {batch_groups})"
        )
    return expr, {"x": place(lhs_s, sizes), "w": place(rhs_s, rhs_sizes)}, draw(st.integers(0, 2**32 - 1))


@given(general_calls())
@SETTINGS
def test_conv_general_dilated(oracle, case):
    expr, shapes, seed = case
    assume(accepted(expr, shapes=shapes))
    rng = np.random.default_rng(seed)
    values_agree(oracle("jax_lax"), expr, arrays={k: random(rng, s) for k, s in shapes.items()})


@st.composite
def transpose_calls(draw):
    rank = draw(st.integers(1, 2))
    lhs_s, rhs_s, out_s = draw(st.sampled_from(LAYOUTS[rank][:2]))
    letters = "HW"[:rank]
    sizes = {"N": draw(st.integers(1, 2)), "C": draw(st.integers(1, 3))}
    sizes |= {c: draw(st.integers(1, 5)) for c in letters}
    out_features = draw(st.integers(1, 3))
    flip = draw(st.booleans())
    rhs_sizes = {"O": sizes["C"] if flip else out_features, "I": out_features if flip else sizes["C"]}
    rhs_sizes |= {c: draw(st.integers(1, 4)) for c in letters}
    strides = [draw(st.integers(1, 3)) for _ in range(rank)]
    padding = draw(
        st.one_of(
            st.sampled_from(["VALID", "SAME"]),
            st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=rank, max_size=rank),
        )
    )
    numbers = (lhs_s, rhs_s, out_s)
    expr = (
        f"lax.conv_transpose(x, w, strides={strides!r}, padding={padding!r}, dimension_numbers={numbers!r}, "
        f"transpose_kernel={flip})"
    )
    if draw(st.booleans()):  # every argument by position (rhs_dilation None)
        expr = f"lax.conv_transpose(x, w, {strides!r}, {padding!r}, None, {numbers!r}, {flip})"
    return expr, {"x": place(lhs_s, sizes), "w": place(rhs_s, rhs_sizes)}, draw(st.integers(0, 2**32 - 1))


@given(transpose_calls())
@SETTINGS
def test_conv_transpose(oracle, case):
    expr, shapes, seed = case
    assume(accepted(expr, shapes=shapes))
    rng = np.random.default_rng(seed)
    arrays = {k: random(rng, s) for k, s in shapes.items()}
    theirs = values_agree(oracle("jax_lax"), expr, arrays=arrays)
    if convarith.api.map_call(expr, shapes=shapes).ops[0].kind == "conv_transpose" and theirs.size:
        views = convarith.transposed_views(expr, arrays=arrays)
        assert views.agree, str(views)
        np.testing.assert_allclose(views.zero_insertion, theirs, rtol=2e-5, atol=2e-5)


@st.composite
def default_layout_calls(draw):
    """lax.conv and lax.conv_with_general_padding (NCHW / OIHW), arguments by position or keyword."""
    rank = draw(st.integers(1, 2))
    sizes = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *(draw(st.integers(1, 6)) for _ in range(rank)))
    rhs = (draw(st.integers(1, 3)), sizes[1], *(draw(st.integers(1, 3)) for _ in range(rank)))
    strides = [draw(st.integers(1, 3)) for _ in range(rank)]
    padding = draw(
        st.one_of(
            st.sampled_from(["VALID", "SAME"]),
            st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=rank, max_size=rank),
        )
    )
    if draw(st.booleans()) or padding in ("VALID", "SAME"):
        expr = f"lax.conv(x, w, {strides!r}, {padding!r})"
    else:
        lhs_dil, rhs_dil = (
            [draw(st.integers(1, 2)) for _ in range(rank)],
            [draw(st.integers(1, 2)) for _ in range(rank)],
        )
        expr = f"lax.conv_with_general_padding(x, w, {strides!r}, {padding!r}, {lhs_dil!r}, {rhs_dil!r})"
        if draw(st.booleans()):
            expr = (
                f"lax.conv_with_general_padding(lhs=x, rhs=w, window_strides={strides!r}, padding={padding!r}, "
                f"lhs_dilation={lhs_dil!r}, rhs_dilation={rhs_dil!r})"
            )
    return expr, {"x": sizes, "w": rhs}, draw(st.integers(0, 2**32 - 1))


@given(default_layout_calls())
@settings(SETTINGS, max_examples=40)
def test_default_layout_calls(oracle, case):
    expr, shapes, seed = case
    assume(accepted(expr, shapes=shapes))
    rng = np.random.default_rng(seed)
    values_agree(oracle("jax_lax"), expr, arrays={k: random(rng, s) for k, s in shapes.items()})
