"""The engine's depthwise path (groups == in_channels) against its general im2col path, and the
global pools against the per-offset pooling they replace: same numbers on any op."""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convarith.core import arith
from convarith.core.op import ConvOp, channels_first
from convarith.reference import engine, kernels

SETTINGS = settings(max_examples=300, deadline=None)


@st.composite
def depthwise_ops(draw):
    rank = draw(st.integers(1, 3))
    axes = st.lists(st.integers(1, 4), min_size=rank, max_size=rank).map(tuple)
    channels, multiplier = draw(st.integers(1, 5)), draw(st.integers(1, engine.DEPTHWISE_MAX_MULTIPLIER))
    size = draw(st.lists(st.integers(1, 11), min_size=rank, max_size=rank).map(tuple))
    mode = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
    pads = st.lists(st.integers(-2, 4), min_size=rank, max_size=rank).map(tuple)
    lo, hi, lhs = draw(pads), draw(pads), (1,) * rank
    if mode == "zeros":
        lhs = draw(st.lists(st.sampled_from([1, 1, 2]), min_size=rank, max_size=rank).map(tuple))
    else:  # framework pads of these modes are at most the input less one, never negative
        lo, hi = (tuple(min(max(p, 0), n - 1) for p, n in zip(side, size)) for side in (lo, hi))
    spec = channels_first(rank)
    op = ConvOp(
        "conv", draw(st.integers(1, 3)), channels, channels * multiplier, size, draw(axes), draw(axes), draw(axes),
        lo, hi, spec, spec, lhs_dilation=lhs, groups=channels, pad_mode=mode,
    )  # fmt: skip
    if min(arith.output_spatial(op)) <= 0:
        op = op.with_(kernel=(1,) * rank, dilation=(1,) * rank, pad_lo=(0,) * rank, pad_hi=(0,) * rank)
    return op, draw(st.sampled_from([None, 1, 2]))


@given(
    depthwise_ops(),
    st.booleans(),
    st.sampled_from(["compiled", "numpy"]),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([np.float32, np.float64]),
)
@SETTINGS
def test_depthwise_equals_the_im2col_path(case, with_bias, path, threads, dtype):
    """Both depthwise paths (the compiled kernels of convarith[fast], installed with the test
    extras, and NumPy's einsums) on 1 to 3 threads, in blocks of 1, 2 or all channels."""
    op, channels_per_block = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal(op.input_shape).astype(dtype)
    w = rng.standard_normal((op.out_channels, 1, *op.kernel)).astype(dtype)
    b = rng.standard_normal(op.out_channels).astype(dtype) if with_bias else None
    assert engine.takes_depthwise(op, 4)
    assert kernels.compiled_tap_sum() is not None, "numba (convarith[fast]) is part of the test extras"
    expected = engine.conv_groups(
        engine.extend(
            engine.pad_input(x, op.pad_lo, op.pad_hi, op.pad_mode, op.lhs_dilation),
            arith.output_spatial(op),
            tuple(d * (k - 1) for k, d in zip(op.kernel, op.dilation)),
            op.stride,
        ),
        w,
        op,
        arith.output_spatial(op),
        op.groups,
    )
    if b is not None:
        expected += b.reshape((1, -1) + (1,) * op.rank)
    block = engine.depthwise_block
    with pytest.MonkeyPatch.context() as patch:
        if channels_per_block:  # blocks of 1 or 2 channels (the last one shorter)
            patch.setattr(engine, "depthwise_block", lambda *args: (channels_per_block, block(*args)[1]))
        if path == "numpy":
            patch.setattr(engine, "compiled_tap_sum", lambda: None)
        patch.setattr(engine, "worker_threads", lambda: threads)
        patch.setattr(engine, "DEPTHWISE_THREAD_WORK", 0)  # threads even on these small ops
        result = engine.run_op(op, x, w, b)
    assert result.shape == expected.shape and result.flags.c_contiguous
    assert result.dtype == dtype
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)


@given(
    rank=st.integers(1, 3),
    size=st.integers(1, 6),
    kind=st.sampled_from(["max_pool", "avg_pool", "adaptive_max_pool", "adaptive_avg_pool"]),
    divisor=st.sampled_from([0, 0, 5]),
)
@SETTINGS
def test_global_pools_equal_the_window_reduction(rank, size, kind, divisor):
    spec = channels_first(rank)
    shape = tuple(size + axis for axis in range(rank))
    ones, zeros = (1,) * rank, (0,) * rank
    if kind.startswith("adaptive"):
        op = ConvOp(kind, 2, 3, 3, shape, ones, ones, ones, zeros, zeros, spec, spec, out_size=ones)
    else:
        op = ConvOp(kind, 2, 3, 3, shape, shape, ones, ones, zeros, zeros, spec, spec, divisor_override=divisor)
    x = np.random.default_rng(1).standard_normal(op.input_shape).astype(np.float32)
    reduce = np.max if "max" in kind else np.sum
    expected = reduce(x.reshape(2, 3, -1), axis=2)
    if "avg" in kind:
        expected = expected / (divisor if divisor and kind == "avg_pool" else x[0, 0].size)
    np.testing.assert_allclose(engine.run_op(op, x), expected.reshape((2, 3) + ones), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("ours", "omp", "expected"),
    [("3", "1", 3), ("", "2", 2), ("zero", "1", 1), ("0", "", None), (None, None, None)],
)
def test_worker_threads_read_the_environment(monkeypatch, ours, omp, expected):
    """CONVARITH_NUM_THREADS, else OMP_NUM_THREADS, else the cores this process may run on."""
    for name, value in (("CONVARITH_NUM_THREADS", ours), ("OMP_NUM_THREADS", omp)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    cores = len(os.sched_getaffinity(0))
    assert engine.worker_threads() == (cores if expected is None else expected)


def test_compiled_0_turns_the_kernels_off(monkeypatch):
    monkeypatch.setenv("CONVARITH_COMPILED", "0")
    assert kernels.compiler() is None
    monkeypatch.delenv("CONVARITH_COMPILED")
    assert kernels.compiler() is not None


@pytest.mark.parametrize("stride", [(2, 2), (1, 2), (2, 3), (3, 2)])
@pytest.mark.parametrize("pad", [0, 1, 2])
@pytest.mark.parametrize("width", [8, 9])
def test_compiled_phase_copies_equal_numpys(stride, pad, width):
    """The compiled copies into stride phases (both column phases of stride 2 in one pass when the
    second starts a cell earlier, as a pad of 1 makes it) against the NumPy path, on 1 and 2 threads."""
    op = ConvOp(
        "conv", 2, 3, 6, (7, width), (3, 3), stride, (1, 1), (pad, pad), (pad, 1), channels_first(2), channels_first(2),
        groups=3,
    )  # fmt: skip
    rng = np.random.default_rng(1)
    x = rng.standard_normal(op.input_shape).astype(np.float32)
    w = rng.standard_normal((6, 1, 3, 3)).astype(np.float32)
    assert kernels.compiled_copy_rows() is not None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "compiled_tap_sum", lambda: None)
        expected = engine.run_op(op, x, w, None)
    for threads in (1, 2):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(engine, "worker_threads", lambda count=threads: count)
            patch.setattr(engine, "DEPTHWISE_THREAD_WORK", 0)
            np.testing.assert_allclose(engine.run_op(op, x, w, None), expected, rtol=1e-5, atol=1e-5)
