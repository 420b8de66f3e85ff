"""core/arith as intervals and rules: unreached cells, adaptive window sizes and
average-pooling divisors, each checked against brute force, and fast on any size."""

import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from convarith.core import arith

SETTINGS = settings(max_examples=400, deadline=None)
HUGE = 2**63 - 1


def members(found: arith.Cells) -> set[int]:
    """Every cell of a (small) Cells, from its runs."""
    cells = set()
    for run in found.runs:
        for i in range(run.start, run.stop):
            if not run.period or any(a <= (i - run.start) % run.period < b for a, b in run.offsets):
                cells.add(i)
    return cells


def tap_positions(k, d, s, lo, out):
    return {j * s - lo + t * d for j in range(out) for t in range(k)}


def check_cells(found, expected: set[int]) -> None:
    assert members(found) == expected
    assert found.count == len(expected)
    starts = [run.start for run in found.runs]
    assert starts == sorted(starts)


def test_the_issue_case_counts_taps_not_gaps():
    # nn.Conv1d(1, 1, 2, dilation=4, stride=8) on 16: taps 0, 4, 8, 12 only
    found = arith.unreached(16, 2, 4, 8, 0, 2)
    assert found.count == 12
    assert members(found) == set(range(16)) - {0, 4, 8, 12}


def test_contiguous_windows_give_o1_runs():
    # kernel 2, stride 3 over 7: windows [0, 2) and [3, 5): one period gap and the tail
    found = arith.unreached(7, 2, 1, 3, 0, 2)
    assert found.runs == (arith.Run(0, 3, 3, ((2, 3),)), arith.Run(5, 7))
    assert members(found) == {2, 5, 6}
    assert arith.unreached(4, 3, 1, 1, 0, 0).runs == (arith.Run(0, 4),)
    assert arith.unreached(5, 3, 1, 1, 1, 5).count == 0


@given(
    n=st.integers(0, 60),
    k=st.integers(1, 5),
    d=st.integers(1, 5),
    s=st.integers(1, 9),
    lo=st.integers(-6, 8),
    hi=st.integers(-6, 8),
)
@SETTINGS
def test_unreached_matches_brute_force(n, k, d, s, lo, hi):
    out = arith.conv_out(n, arith.effective_kernel(k, d), s, lo, hi)
    found = arith.unreached(n, k, d, s, lo, out)
    check_cells(found, set(range(n)) - tap_positions(k, d, s, lo, max(out, 0)))


@given(
    k=st.integers(2, 6),
    d=st.integers(2, 40),
    s=st.integers(1, 40),
    lo=st.integers(-50, 50),
    extra=st.integers(0, 3 * arith.CELL_BUDGET),
)
@settings(max_examples=25, deadline=None)
def test_unreached_periodic_middle_matches_brute_force(k, d, s, lo, extra):
    """Long inputs (beyond the cell budget) take the head / periodic middle / tail path."""
    n = 2 * arith.CELL_BUDGET + extra
    out = arith.conv_out(n, arith.effective_kernel(k, d), s, lo, lo)
    found = arith.unreached(n, k, d, s, lo, out)
    reached = np.zeros(n, bool)
    for t in range(k):
        first = t * d - lo
        positions = np.arange(first, first + out * s, s)
        reached[positions[(positions >= 0) & (positions < n)]] = True
    expected = set(np.flatnonzero(~reached).tolist())
    check_cells(found, expected)


@given(
    n=st.one_of(st.integers(1, 40), st.integers(2 * arith.CELL_BUDGET + 1, 2 * arith.CELL_BUDGET + 500)),
    k=st.integers(1, 4),
    d=st.integers(1, 4),
    s=st.integers(1, 5),
    lo=st.integers(0, 6),
    hi=st.integers(0, 6),
    mode=st.sampled_from(["reflect", "replicate", "circular"]),
)
@settings(max_examples=200, deadline=None)
def test_padded_unreached_follows_the_copied_cells(n, k, d, s, lo, hi, mode):
    if mode == "reflect" and (lo >= n or hi >= n) or mode == "circular" and (lo > n or hi > n):
        return  # torch refuses these pads
    out = arith.conv_out(n, arith.effective_kernel(k, d), s, lo, hi)
    source = np.pad(np.arange(n), (lo, hi), mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode])
    positions = {p + lo for p in tap_positions(k, d, s, lo, max(out, 0))}
    expected = set(range(n)) - {int(source[p]) for p in positions if 0 <= p < n + lo + hi}
    check_cells(arith.padded_unreached(n, k, d, s, lo, hi, out, mode), expected)


@given(
    n=st.integers(1, 40),
    k=st.integers(1, 4),
    rate=st.integers(1, 4),
    s=st.integers(1, 4),
    lo=st.integers(0, 6),
    hi=st.integers(0, 6),
)
@SETTINGS
def test_space_to_batch_unreached_matches_its_windows(n, k, rate, s, lo, hi):
    out = arith.space_to_batch_out(n, k, rate, s, lo, hi)[0]
    if out < 0:
        return
    starts = [arith.space_to_batch_start(o, rate, s, lo) for o in range(out)]
    reached = {start + t * rate for start in starts for t in range(k)}
    check_cells(arith.space_to_batch_unreached(n, k, rate, s, lo, out), set(range(n)) - reached)


def test_space_to_batch_windows_come_in_rows():
    # rate 2, stride 2, pad 2: rows of 2 adjacent windows every 4 cells (TF, measured)
    assert [arith.space_to_batch_start(o, 2, 2, 2) for o in range(5)] == [-2, -1, 2, 3, 6]
    assert arith.space_to_batch_out(5, 3, 2, 2, 2, 2)[0] == 3
    assert arith.space_to_batch_out(6, 3, 2, 2, 2, 2)[0] == 4


@given(n=st.integers(0, 300), out=st.integers(1, 120))
@SETTINGS
def test_adaptive_sizes_match_every_window(n, out):
    sizes = [stop - start for start, stop in (arith.adaptive_window(i, n, out) for i in range(out))]
    expected = tuple(sorted((size, sizes.count(size)) for size in set(sizes)))
    assert arith.adaptive_sizes(n, out) == expected
    assert len(expected) <= 2


@given(
    n=st.integers(1, 30),
    k=st.integers(1, 6),
    d=st.integers(1, 3),
    s=st.integers(1, 5),
    lo=st.integers(0, 4),
    hi=st.integers(0, 5),
    include_pad=st.booleans(),
)
@SETTINGS
def test_divisor_runs_match_the_reference_divisors(n, k, d, s, lo, hi, include_pad):
    out = max(arith.conv_out(n, arith.effective_kernel(k, d), s, lo, hi), 0)
    start, stop = (-lo, n + hi) if include_pad else (0, n)
    counts = [sum(start <= j * s - lo + i * d < stop for i in range(k)) for j in range(out)]  # cell by cell
    runs = arith.divisor_runs(n, k, d, s, lo, hi, out, include_pad)
    covered = [j for run in runs for j in range(run.first, run.stop)]
    assert covered == list(range(out))
    for run in runs:
        values = counts[run.first : run.stop]
        assert (min(values), max(values)) == (run.low, run.high)
        assert [arith.window_cells(j, n, k, d, s, lo, hi, include_pad) for j in range(run.first, run.stop)] == values


def test_divisor_runs_say_which_windows_divide_by_fewer():
    # AvgPool1d(3, 1, padding=1, count_include_pad=False) on 5: 2 at both ends, 3 inside
    assert arith.divisor_runs(5, 3, 1, 1, 1, 1, 5, False) == (
        arith.DivisorRun(0, 1, 2, 2),
        arith.DivisorRun(1, 4, 3, 3),
        arith.DivisorRun(4, 5, 2, 2),
    )
    assert arith.divisor_runs(5, 3, 1, 1, 1, 1, 5, True) == (arith.DivisorRun(0, 5, 3, 3),)


def test_everything_is_fast_and_exact_on_huge_sizes():
    began = time.perf_counter()
    found = arith.unreached(HUGE, 1, 1, 3, 1, arith.conv_out(HUGE, 1, 3, 1, 1))
    assert found.count == HUGE - (HUGE + 1) // 3
    found = arith.unreached(HUGE, 3, 5, 7, 4, arith.conv_out(HUGE, 11, 7, 4, 4))
    assert 0 < found.count < HUGE
    assert arith.adaptive_sizes(HUGE, 10**8) == ((92233720369, 10**8 - 54775807 + 1), (92233720370, 54775807 - 1))
    runs = arith.divisor_runs(HUGE, 3, 1, 2, 1, 1, arith.conv_out(HUGE, 3, 2, 1, 1), False)
    assert [run.low for run in runs] == [2, 3, 2]  # the last window starts at 2**63 - 3
    assert time.perf_counter() - began < 0.1


def test_a_grown_periodic_run_starts_after_the_run_before_it():
    """Found by hypothesis: taking in head cells moved a periodic run's start before an earlier run."""
    n, k, d, s, lo, hi = 16385, 4, 2, 5, 0, 3
    found = arith.padded_unreached(n, k, d, s, lo, hi, arith.conv_out(n, 7, 5, 0, 3), "reflect")
    source = np.pad(np.arange(n), (lo, hi), mode="reflect")
    out = arith.conv_out(n, arith.effective_kernel(k, d), s, lo, hi)
    positions = {p + lo for p in tap_positions(k, d, s, lo, out)}
    check_cells(found, set(range(n)) - {int(source[p]) for p in positions if 0 <= p < n + lo + hi})
