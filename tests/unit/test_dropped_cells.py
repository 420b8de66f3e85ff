"""The dropped input cells explain flags beyond a forward conv's unreached taps, against brute force:
a transposed conv's taps all in the cut padding, an input-dilated conv, a resize that never reads a
cell, an explicit crop; and valid_sizes counting them (explicit crops excepted)."""

import itertools
import random

import pytest

import convarith
from convarith.core import arith


def members(found: arith.Cells) -> set[int]:
    cells = set()
    for run in found.runs:
        for i in range(run.start, run.stop):
            if not run.period or any(a <= (i - run.start) % run.period < b for a, b in run.offsets):
                cells.add(i)
    assert len(cells) == found.count
    return cells


def test_transposed_unreached_by_brute_force():
    checked = 0
    for n, k, d, s, lo, hi, extra in itertools.product(
        range(1, 9), range(1, 4), range(1, 4), range(1, 4), range(-2, 7), range(-2, 7), range(2)
    ):
        out = (n - 1) * s + arith.effective_kernel(k, d) - lo - hi + extra
        if out <= 0:
            continue
        truth = {i for i in range(n) if not any(0 <= i * s + t * d - lo < out for t in range(k))}
        assert members(arith.transposed_unreached(n, k, d, s, lo, out)) == truth, (n, k, d, s, lo, hi, extra)
        checked += 1
    assert checked > 10000


def test_long_axes_stay_periodic_and_exact():
    rng = random.Random(3)
    for _ in range(300):
        n, k, d, s, lhs = (
            rng.randint(200, 3000),
            rng.randint(1, 4),
            rng.randint(1, 5),
            rng.randint(1, 6),
            rng.randint(1, 5),
        )
        lo = rng.randint(-6, 10)
        out = (arith.dilated_size(n, lhs) + lo + rng.randint(-6, 10) - arith.effective_kernel(k, d)) // s + 1
        if out <= 0:
            continue
        found = arith.lhs_dilated_unreached(n, k, d, s, lo, out, lhs)
        reached = {j * s - lo + t * d for j in range(out) for t in range(k)}
        assert members(found) == {i for i in range(n) if i * lhs not in reached}
        assert len(found.runs) <= 8  # folded into periodic runs, not listed cell by cell


def test_lhs_dilated_unreached_by_brute_force():
    for n, k, d, s, lo, hi, lhs in itertools.product(
        range(1, 10), range(1, 4), range(1, 3), range(1, 4), range(-3, 4), range(-3, 4), range(2, 4)
    ):
        out = (arith.dilated_size(n, lhs) + lo + hi - arith.effective_kernel(k, d)) // s + 1
        if out <= 0:
            continue
        reached = {j * s - lo + t * d for j in range(out) for t in range(k)}
        truth = {i for i in range(n) if i * lhs not in reached}
        assert members(arith.lhs_dilated_unreached(n, k, d, s, lo, out, lhs)) == truth


def unreached_of(expr, input_shape=None, shapes=None, axis=0) -> tuple[set[int], str]:
    facts = convarith.explain(expr, input_shape, shapes=shapes).to_dict()["steps"][0]["axes"][axis]["unreached"]
    cells = arith.cells([arith.Run(r["start"], r["stop"], r.get("period", 0),
                                   tuple(map(tuple, r.get("offsets", ())))) for r in facts["runs"]])  # fmt: skip
    return members(cells), facts["what"]


@pytest.mark.parametrize(
    ("expr", "input_shape", "shapes", "cells", "what"),
    [
        ("nn.ConvTranspose1d(1, 1, 1, padding=1)", (1, 1, 8), None, {0, 7}, "every tap lands in the cut padding"),
        ("nn.ConvTranspose1d(1, 1, 3, stride=2, padding=3)", (1, 1, 6), None, {0, 5}, "cut padding"),
        ("nn.ConvTranspose1d(1, 1, 3, stride=2, padding=1)", (1, 1, 6), None, set(), "cut padding"),
        ("nn.Upsample(scale_factor=0.5)", (1, 1, 9), None, {1, 3, 5, 7, 8}, "no output cell reads"),
        ("F.interpolate(x, scale_factor=0.25, mode='linear')", None, {"x": (1, 1, 8)}, {0, 3, 4, 7}, "reads"),
        ("nn.Upsample(scale_factor=0.5, mode='linear')", (1, 1, 8), None, set(), "reads"),
        ("nn.ZeroPad1d((-2, 1))", (1, 1, 8), None, {0, 1}, "cropped away"),
        ("lax.conv_general_dilated(x, w, (3,), ((0, 0),), lhs_dilation=(2,))", None,
         {"x": (1, 1, 9), "w": (1, 1, 1)}, {1, 2, 4, 5, 7, 8}, "no kernel tap reaches"),
    ],
)  # fmt: skip
def test_explain_names_the_dropped_cells(expr, input_shape, shapes, cells, what):
    found, said = unreached_of(expr, input_shape, shapes)
    assert found == cells and what in said
    text = str(convarith.explain(expr, input_shape, shapes=shapes))
    assert (f"{said} (" in text) == bool(cells)


def test_valid_sizes_sees_a_transposed_conv_crop():
    with pytest.raises(convarith.ConvArithError, match="cut padding"):
        convarith.valid_sizes(["nn.ConvTranspose1d(1, 1, 1, padding=1)"], (1, 1, 8), axis=2)
    found = convarith.valid_sizes(["nn.ConvTranspose1d(1, 1, 3, stride=2, padding=2)"], (1, 1, 8), axis=2,
                                  round_trip=False)  # fmt: skip
    assert found.rule == "every n ≥ 2"  # padding 2 < k_eff: every input keeps a tap (n = 1 is refused)
    with pytest.raises(convarith.ConvArithError, match="cut padding"):  # padding 3 = k_eff cuts both end cells
        convarith.valid_sizes(["nn.ConvTranspose1d(1, 1, 3, stride=2, padding=3)"], (1, 1, 8), axis=2)


def test_valid_sizes_sees_a_nearest_downscale_and_ignores_explicit_crops():
    found = convarith.valid_sizes(["nn.Upsample(scale_factor=0.5, mode='linear')"], (1, 1, 8), axis=2)
    assert found.rule == "n ≡ 0 (mod 2), n ≥ 2"  # an odd size leaves the last cell unread
    with pytest.raises(convarith.ConvArithError, match="reach no output"):
        convarith.valid_sizes(["nn.Upsample(scale_factor=0.5)"], (1, 1, 8), axis=2)
    assert convarith.valid_sizes(["nn.ZeroPad1d(-1)", "nn.ZeroPad1d(1)"], (1, 1, 8), axis=2).rule == "every n ≥ 3"


def test_pad_unread_is_what_pad_sources_never_reads():
    """Every mode, crops and pads on both sides: the runs equal the cells the reference's gather never reads."""
    from convarith.reference.layers import pad_sources

    checked = 0
    for n, lo, hi, mode in itertools.product(
        range(1, 8), range(-8, 10), range(-8, 10), ("zeros", "reflect", "replicate", "circular")
    ):
        kept = n - max(-lo, 0) - max(-hi, 0)
        if arith.pad_out(n, lo, hi) <= 0 or (mode == "circular" and kept <= 0):
            continue
        source, inside = pad_sources(n, lo, hi, mode)
        unread = arith.pad_unread(n, lo, hi, mode)
        assert members(unread) == set(range(n)) - set(source[inside].tolist()), (n, lo, hi, mode)
        checked += 1
    assert checked > 4000
