"""JAX: convarith's shapes and refusals against jax.lax itself."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.differential.compare import agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=110, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

GENERAL = ("conv_general_dilated", "conv", "conv_with_general_padding")
FAULTS = (
    "none",
    "features",
    "stride",
    "kernel",
    "pad_count",
    "seq_length",
    "dimension_numbers",
    "dilation",
    "string_with_lhs_dilation",
    "bad_string",
    "precision",
)


def spec(draw, pair: str, letters: str) -> str:
    return "".join(draw(st.permutations(pair + letters)))


def place(spec_text: str, sizes: dict) -> tuple:
    return tuple(sizes[c] for c in spec_text)


def pairs(draw, rank: int, low: int = -2) -> list:
    return [(draw(st.integers(low, 3)), draw(st.integers(low, 3))) for _ in range(rank)]


def seq(draw, rank: int, values) -> tuple:
    return tuple(draw(values) for _ in range(rank))


def break_dimension_numbers(draw, dn: tuple) -> object:
    lhs, rhs, out = dn
    return draw(
        st.sampled_from(
            [
                (lhs, rhs),
                (lhs, rhs, out[:-1]),
                (lhs.lower(), rhs, out),
                (lhs, rhs, out.replace("N", "C", 1)),
                (lhs, rhs.replace("O", "Q"), out),
                lhs,
                (lhs, rhs, out[:-1] + "Z") if len(out) > 2 else (lhs, rhs, "NN"),
            ]
        )
    )


@st.composite
def general_calls(draw):
    """conv_general_dilated / conv / conv_with_general_padding with one fault or none."""
    fault = draw(st.sampled_from(FAULTS[:1] * 8 + FAULTS[1:]))
    name = draw(st.sampled_from(GENERAL))
    prefix = draw(st.sampled_from(["lax.", "jax.lax.", ""]))
    rank = (
        draw(st.sampled_from([1, 1, 2, 2, 2, 3, 0, 4])) if name == "conv_general_dilated" else draw(st.integers(1, 3))
    )
    letters = "HWDT"[:rank]
    general = name == "conv_general_dilated"
    groups = batch_groups = 1
    if general and draw(st.booleans()):
        if draw(st.booleans()):
            groups = draw(st.integers(0, 3))
        else:
            batch_groups = draw(st.integers(0, 3))
    per = max(groups, 1)
    in_f = draw(st.integers(1, 2))
    features = in_f * per
    out_f = max(groups, batch_groups, 1) * draw(st.integers(1, 2))
    batch = max(batch_groups, 1) * draw(st.integers(1, 2))
    if draw(st.integers(0, 7)) == 0:
        out_f += 1
    if draw(st.integers(0, 7)) == 0:
        batch += 1
    if fault == "features":
        features += 1
    sizes = {c: draw(st.integers(0 if draw(st.integers(0, 9)) == 0 else 1, 7)) for c in letters}
    kernel = {c: draw(st.integers(1, 4)) for c in letters}
    if fault == "kernel" and rank:
        kernel[letters[0]] = 0
    dn = None
    if general and draw(st.booleans()):
        dn = (spec(draw, "NC", letters), spec(draw, "OI", letters), spec(draw, "NC", letters))
    lhs_spec, rhs_spec, out_spec = dn or ("NC" + letters, "OI" + letters, "NC" + letters)
    x = place(lhs_spec, {"N": batch, "C": features, **sizes})
    w = place(rhs_spec, {"O": out_f, "I": in_f, **kernel})
    strides = seq(draw, rank, st.integers(1, 3))
    if fault == "stride" and rank:
        strides = strides[:-1] + (draw(st.integers(-1, 0)),)
    lhs_dil = seq(draw, rank, st.integers(1, 3)) if draw(st.booleans()) else None
    rhs_dil = seq(draw, rank, st.integers(1, 3)) if draw(st.booleans()) else None
    if fault == "dilation" and rank:
        lhs_dil = (0,) + (lhs_dil or (1,) * rank)[1:]
    if fault == "seq_length":
        which = draw(st.sampled_from(["strides", "lhs", "rhs"]))
        longer = (1,) * (rank + 1)
        strides, lhs_dil, rhs_dil = (
            longer if which == "strides" else strides,
            longer if which == "lhs" else lhs_dil,
            longer if which == "rhs" else rhs_dil,
        )
    if name == "conv":
        lhs_dil = rhs_dil = None
    string_ok = lhs_dil is None or all(d == 1 for d in lhs_dil)
    if fault == "string_with_lhs_dilation" and name != "conv" and rank:
        lhs_dil = (2,) * rank
        string_ok = True
    if fault == "bad_string":
        padding = repr(draw(st.sampled_from(["FULL", "same_upper", "causal"])))
    elif fault == "pad_count":
        padding = repr(pairs(draw, rank + draw(st.sampled_from([-1, 1])))) if rank else "[(0, 0)]"
    elif string_ok and draw(st.booleans()):
        padding = repr(draw(st.sampled_from(["SAME", "VALID", "SAME_LOWER", "same", "valid"])))
    else:
        padding = repr(pairs(draw, rank))
    args = ["x", "w", repr(strides), padding]
    if name == "conv_with_general_padding":
        args += [repr(lhs_dil), repr(rhs_dil)]
    elif general:
        if lhs_dil is not None:
            args.append(f"lhs_dilation={lhs_dil!r}")
        if rhs_dil is not None:
            args.append(f"rhs_dilation={rhs_dil!r}")
        if dn is not None or fault == "dimension_numbers":
            given = dn or (lhs_spec, rhs_spec, out_spec)
            args.append(
                f"dimension_numbers={break_dimension_numbers(draw, given) if fault == 'dimension_numbers' else given!r}"
            )
        if groups != 1:
            args.append(f"feature_group_count={groups}")
        if batch_groups != 1:
            args.append(f"batch_group_count={batch_groups}")
    if fault == "precision":
        args.append(
            f"precision={draw(st.sampled_from(['bogus', 'highest', 'lax.Precision.HIGH', ('default', 'high')]))!r}"
        )
    elif draw(st.integers(0, 5)) == 0:
        args.append(draw(st.sampled_from(["precision=lax.Precision.HIGHEST", "preferred_element_type=jnp.float32"])))
    expr = f"{prefix}{name}({', '.join(args)})".replace("'lax.Precision.HIGH'", "lax.Precision.HIGH")
    return expr, {"x": x, "w": w}


@given(general_calls())
@settings(SETTINGS, max_examples=300)
def test_conv_general_dilated(oracle, case):
    expr, shapes = case
    agree(oracle("jax_lax"), expr, shapes=shapes)


@st.composite
def transpose_calls(draw):
    """conv_transpose with default or explicit dimension numbers, one fault or none."""
    fault = draw(
        st.sampled_from(("none",) * 6 + ("features", "stride", "kernel", "pad_count", "seq_length", "dn", "string"))
    )
    rank = draw(st.sampled_from([1, 2, 2, 3, 0]))
    letters = "HWD"[:rank]
    default = {
        0: ("NC", "IO", "NC"),
        1: ("NHC", "HIO", "NHC"),
        2: ("NHWC", "HWIO", "NHWC"),
        3: ("NHWDC", "HWDIO", "NHWDC"),
    }
    dn = None
    if draw(st.booleans()):
        dn = (spec(draw, "NC", letters), spec(draw, "OI", letters), spec(draw, "NC", letters))
    lhs_spec, rhs_spec, out_spec = dn or default[rank]
    flip = draw(st.booleans())
    in_f, out_f = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    features = in_f + (1 if fault == "features" else 0)
    sizes = {c: draw(st.integers(0 if draw(st.integers(0, 9)) == 0 else 1, 6)) for c in letters}
    kernel = {c: draw(st.integers(1, 4)) for c in letters}
    if fault == "kernel" and rank:
        kernel[letters[-1]] = 0
    x = place(lhs_spec, {"N": draw(st.integers(1, 2)), "C": features, **sizes})
    w = place(rhs_spec, {"O": in_f if flip else out_f, "I": out_f if flip else in_f, **kernel})
    strides = seq(draw, rank, st.integers(1, 3))
    if fault == "stride" and rank:
        strides = (draw(st.integers(-1, 0)),) + strides[1:]
    rhs_dil = seq(draw, rank, st.integers(1, 3)) if draw(st.booleans()) else None
    if fault == "seq_length":
        if draw(st.booleans()):
            strides = strides + (1,)
        else:
            rhs_dil = (1,) * (rank + 1)
    consistent = draw(st.integers(0, 3)) == 0
    if fault == "string":
        padding = repr(draw(st.sampled_from(["same", "SAME_LOWER", "valid", "FULL"])))
    elif fault == "pad_count":
        padding = repr(pairs(draw, rank + draw(st.sampled_from([-1, 1])))) if rank else "[(0, 0)]"
    elif draw(st.booleans()):
        padding = repr(draw(st.sampled_from(["SAME", "VALID"])))
    else:
        padding = repr(pairs(draw, rank, -3))
    args = ["x", "w", repr(strides), padding]
    if rhs_dil is not None:
        args.append(f"rhs_dilation={rhs_dil!r}")
    if dn is not None or fault == "dn":
        given = dn or default[rank]
        args.append(f"dimension_numbers={break_dimension_numbers(draw, given) if fault == 'dn' else given!r}")
    if flip:
        args.append("transpose_kernel=True")
    if consistent:
        args.append("use_consistent_padding=True")
    prefix = draw(st.sampled_from(["lax.", "jax.lax."]))
    return f"{prefix}conv_transpose({', '.join(args)})", {"x": x, "w": w}


@given(transpose_calls())
@settings(SETTINGS, max_examples=220)
def test_conv_transpose(oracle, case):
    expr, shapes = case
    agree(oracle("jax_lax"), expr, shapes=shapes)


@st.composite
def rank_mismatches(draw):
    """Operands of unequal rank, too few dims, or conv_transpose without default layouts."""
    name = draw(st.sampled_from(["lax.conv_general_dilated", "lax.conv_transpose", "lax.conv"]))
    rank = draw(st.integers(1, 4))
    x = (1, 2) + (5,) * rank
    w = (3, 2) + (2,) * (rank + draw(st.sampled_from([-1, 1, 0])))
    if name == "lax.conv_transpose":
        w = (2,) * rank + (2, 3)
    return f"{name}(x, w, {(1,) * rank!r}, 'VALID')", {"x": x, "w": w}


@given(rank_mismatches())
@settings(SETTINGS, max_examples=30)
def test_ranks(oracle, case):
    expr, shapes = case
    agree(oracle("jax_lax"), expr, shapes=shapes)


XLA_ABORT_CASES = [
    # (lhs, rhs, padding, lhs_dilation, window_strides): measured aborts and their non-aborting neighbours
    ((1, 1, 2, 3), (1, 1, 3, 2), [(0, 1), (0, 0)], (1, 2), (1, 1)),
    ((1, 1, 2, 3), (1, 1, 3, 2), [(1, 0), (0, 0)], (1, 2), (1, 1)),
    ((2, 1, 2, 4), (1, 1, 3, 2), [(0, 1), (0, 0)], (1, 2), (1, 1)),
    ((1, 1, 3, 2), (1, 1, 2, 3), [(0, 0), (0, 1)], (2, 1), (1, 1)),
    ((1, 1, 2, 3), (1, 1, 3, 2), [(0, 1), (0, 0)], (1, 2), (2, 1)),
    ((1, 1, 1, 3), (1, 1, 2, 2), [(0, 1), (0, 0)], (1, 2), (1, 1)),
    ((1, 1, 3, 3), (1, 1, 5, 2), [(1, 1), (0, 0)], (1, 2), (1, 1)),
    ((1, 1, 2, 2), (1, 1, 3, 2), [(0, 1), (0, 0)], (1, 2), (1, 1)),
    ((1, 1, 3, 3), (1, 1, 3, 2), [(0, 0), (0, 0)], (1, 2), (1, 1)),
    ((1, 1, 2, 3), (1, 1, 3, 3), [(0, 1), (0, 0)], (1, 3), (1, 1)),
    ((1, 1, 2, 3), (1, 1, 3, 2), [(0, 1), (0, 1)], (1, 2), (1, 1)),
    ((1, 1, 2, 3), (1, 1, 3, 2), [(0, 1), (0, 0)], (1, 2), (1, 2)),
    ((1, 1, 4, 3), (1, 1, 3, 2), [(0, -1), (0, 0)], (1, 2), (1, 1)),
    ((1, 1, 3, 1), (1, 1, 2, 2), [(0, 0), (0, 2)], (2, 1), (1, 1)),
    ((1, 1, 3, 2), (1, 1, 2, 3), [(0, 0), (2, 2)], (2, 1), (1, 1)),
    ((1, 1, 3, 1), (1, 1, 2, 2), [(0, 0), (1, 0)], (2, 1), (1, 1)),
    ((1, 1, 3, 2), (1, 1, 2, 2), [(0, 0), (1, 1)], (2, 1), (1, 1)),
    ((1, 1, 2, 1), (1, 1, 2, 2), [(0, 0), (0, 2)], (2, 1), (1, 1)),
]


@pytest.mark.parametrize(("lhs", "rhs", "padding", "lhs_dilation", "strides"), XLA_ABORT_CASES)
def test_xla_simplifier_abort_is_refused(oracle, lhs, rhs, padding, lhs_dilation, strides):
    """XLA's CPU simplifier kills the process on a narrow 2-D case: convarith refuses exactly that case."""
    expr = f"lax.conv_general_dilated(x, w, {strides}, {padding}, lhs_dilation={lhs_dilation})"
    agree(oracle("jax_lax"), expr, shapes={"x": lhs, "w": rhs})


def test_xla_simplifier_abort_through_conv_transpose(oracle):
    expr = (
        "lax.conv_transpose(x, w, strides=[1, 2], padding=[(0, 1), (0, 0)], dimension_numbers=('NCHW', 'OIHW', 'NCHW'))"
    )
    answer = agree(oracle("jax_lax"), expr, shapes={"x": (1, 1, 2, 3), "w": (1, 1, 3, 2)})
    assert "crash" in answer
