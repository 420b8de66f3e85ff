"""core/arith on NumPy arrays: every size and padding formula, elementwise, equals
the same formula on ints (one formula serves both); NumPy is not needed for ints."""

import numpy as np
import pytest

from convarith.core import arith

RNG = np.random.default_rng(9)
COUNT = 4000


def ints(low: int, high: int) -> np.ndarray:
    return RNG.integers(low, high, COUNT, dtype=np.int64)


def columns():
    """Random sizes, kernels, strides, pads (negative ones too), dilations."""
    return {
        "n": ints(0, 40),
        "k_eff": ints(1, 12),
        "stride": ints(1, 6),
        "lo": ints(-3, 6),
        "hi": ints(-3, 6),
        "lhs": ints(1, 4),
        "k": ints(1, 6),
        "d": ints(1, 4),
        "out_pad": ints(0, 4),
        "out": ints(1, 30),
        "j": ints(0, 30),
    }


def rows(c: dict, names: tuple[str, ...]):
    return [tuple(int(c[name][i]) for name in names) for i in range(COUNT)]


CASES = [
    (arith.effective_kernel, ("k", "d")),
    (arith.dilated_size, ("n", "lhs")),
    (arith.conv_out, ("n", "k_eff", "stride", "lo", "hi", "lhs")),
    (arith.pool_ceil_out, ("n", "k_eff", "stride", "lo", "hi")),
    (arith.ceil_drops_last_window, ("n", "k_eff", "stride", "lo", "hi")),
    (arith.pool_trunc_out, ("n", "k_eff", "stride", "lo", "hi")),
    (arith.tf_valid_out, ("n", "k_eff", "stride")),
    (arith.transpose_out, ("n", "k_eff", "stride", "lo", "hi", "out_pad")),
    (arith.trunc_div, ("lo", "stride")),
    (arith.window_cells, ("j", "n", "k", "d", "stride", "lo", "hi")),
]


@pytest.mark.parametrize(("formula", "names"), CASES, ids=[case[0].__name__ for case in CASES])
def test_formula_on_arrays_equals_it_on_ints(formula, names):
    c = columns()
    extra = (True,) if formula is arith.window_cells else ()
    vectorised = np.broadcast_to(formula(*(c[name] for name in names), *extra), (COUNT,))
    plain = [formula(*row, *extra) for row in rows(c, names)]
    assert plain == vectorised.tolist()
    assert {type(value) for value in plain} <= {int, bool}  # ints in, plain Python numbers out


@pytest.mark.parametrize("rounding", ["floor", "ceil", "trunc"])
def test_windowed_out_on_arrays(rounding):
    c = columns()
    names = ("n", "k_eff", "stride", "lo", "hi")
    vectorised = arith.windowed_out(*(c[name] for name in names), rounding, c["lhs"])
    expected = [arith.windowed_out(*row[:5], rounding, row[5]) for row in rows(c, (*names, "lhs"))]
    assert vectorised.tolist() == expected


@pytest.mark.parametrize(("extra_at_start", "clamp"), [(False, True), (True, True), (False, False), (True, False)])
def test_same_pads_on_arrays_are_same_padding(extra_at_start, clamp):
    c = columns()
    n, k_eff, stride = c["n"] + 1, c["k_eff"], c["stride"] + 2  # strides above the window: negative totals
    out, total, lo, hi = arith.same_pads(n, k_eff, stride, extra_at_start, clamp)
    for i in range(COUNT):
        pad = arith.same_padding(int(n[i]), int(k_eff[i]), int(stride[i]), extra_at_start, clamp)
        assert (pad.lo, pad.hi) == (lo[i], hi[i])
        assert f"= {total[i]} -> before {lo[i]}, after {hi[i]}" in pad.text
        assert f"ceil({n[i]}/{stride[i]}) = {out[i]}" in pad.text


def test_transpose_padding_for_size_on_arrays():
    c = columns()
    names = ("n", "k_eff", "stride", "lo", "hi", "out")
    total = c["lo"] + c["hi"]
    hi, extra = arith.transpose_padding_for_size(c["n"], c["k_eff"], c["stride"], c["lo"], total, c["out"])
    for i, (n, k_eff, stride, lo, high, out) in enumerate(rows(c, names)):
        assert arith.transpose_padding_for_size(n, k_eff, stride, lo, lo + high, out) == (hi[i], extra[i])


def test_space_to_batch_out_on_arrays():
    c = columns()
    names = ("n", "k", "d", "stride", "lo", "hi")
    rate = c["d"]
    vectorised = arith.space_to_batch_out(c["n"], c["k"], rate, c["stride"], c["lo"] + 3, c["hi"] + 3)
    for i, (n, k, d, stride, lo, hi) in enumerate(rows(c, names)):
        assert arith.space_to_batch_out(n, k, d, stride, lo + 3, hi + 3) == tuple(int(v[i]) for v in vectorised)


def test_helpers_keep_ints_plain():
    assert type(arith.maximum(2, 3)) is int and type(arith.where(False, 1, 2)) is int
    assert arith.trunc_div(-7, 2) == -3 and arith.trunc_div(7, 2) == 3
    assert arith.minimum(np.array([1, 5]), 3).tolist() == [1, 3]
    assert arith.where(np.array([True, False]), 1, np.array([7, 8])).tolist() == [1, 8]
