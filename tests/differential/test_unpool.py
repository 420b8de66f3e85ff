"""nn.MaxUnpool1d-3d and F.max_unpool1d-3d: shapes (out = (n-1)*s - 2p + k, or output_size within a
stride of it), refusals and numbers against torch. Modules are called as module(x, indices,
output_size=...): forward takes the indices as weights=[indices], functionals by name in arrays=.
About half the cases break one thing (an output_size out of range, an empty axis, a wrong rank...)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from tests.differential.compare import agree
from tests.differential.numerics import random, values_agree

pytestmark = pytest.mark.differential
SHAPES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NUMBERS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
BROKEN = st.integers(0, 99).map(lambda roll: roll < 45)


def per_axis(draw, rank: int, values):
    return draw(values) if draw(st.booleans()) else tuple(draw(values) for _ in range(rank))


def axes(value, rank: int) -> tuple:
    return value if isinstance(value, tuple) else (value,) * rank


@st.composite
def unpools(draw, numbers: bool = False):
    """(expr, input shape, output_size or None, functional)."""
    rank = draw(st.integers(1, 3))
    broken = not numbers and draw(BROKEN)
    kernel = per_axis(draw, rank, st.integers(1, 3))
    stride = None if draw(st.booleans()) else per_axis(draw, rank, st.integers(1, 3))
    padding = per_axis(draw, rank, st.integers(0, 1))
    fault = draw(st.sampled_from(["size", "empty", "rank", "stride", "pad", "length"])) if broken else ""
    if fault == "stride":
        stride = 0
    elif fault == "pad":
        padding = draw(st.sampled_from([-1, 2, 3]))
    shape = [draw(st.sampled_from([1, 2] if numbers else [1, 2, 0])), draw(st.integers(1, 2))]
    shape += [draw(st.integers(1, 4)) for _ in range(rank)]
    if fault == "empty":
        shape[draw(st.integers(1, rank + 1))] = 0
    if fault == "rank" or draw(st.integers(0, 5)) == 0:
        shape = shape[1:] if fault != "rank" or draw(st.booleans()) else shape[2:]
    k, s, p = axes(kernel, rank), axes(kernel if stride is None else stride, rank), axes(padding, rank)
    defaults = [(n - 1) * si - 2 * pi + ki for n, ki, si, pi in zip(shape[-rank:], k, s, p)]
    output_size = None
    if draw(st.booleans()) or fault in ("size", "length"):
        spread = [max(si - 1, 0) + (1 if fault == "size" else 0) for si in s]
        output_size = [d + draw(st.integers(-w, w)) for d, w in zip(defaults, spread)]
        if fault == "length":
            output_size = output_size[1:] if rank > 1 else output_size + [1]
        elif draw(st.integers(0, 3)) == 0:
            output_size = list(shape[: len(shape) - rank]) + output_size
    functional = draw(st.booleans())
    args = [repr(kernel)]
    if stride is not None:
        args.append(f"stride={stride!r}")
    if padding != 0 or draw(st.booleans()):
        args.append(f"padding={padding!r}")
    if functional:
        if output_size is not None:
            args.append(f"output_size={output_size!r}")
        expr = f"F.max_unpool{rank}d(x, idx, {', '.join(args)})"
    else:
        expr = f"{draw(st.sampled_from(['nn.', 'torch.nn.']))}MaxUnpool{rank}d({', '.join(args)})"
    return expr, tuple(shape), None if output_size is None else tuple(output_size), functional


@given(unpools())
@SHAPES
def test_unpool_shapes(oracle, case):
    expr, shape, output_size, functional = case
    if functional:
        agree(oracle("torch"), expr, shapes={"x": shape, "idx": shape})
    else:
        agree(oracle("torch"), expr, shape, output_size=output_size)


@given(unpools(numbers=True), st.integers(0, 2**32 - 1))
@NUMBERS
def test_unpool_numbers(oracle, case, seed):
    """Distinct random indices per (N, C) plane (torch keeps one value of a repeated index, in no set order)."""
    expr, shape, output_size, functional = case
    try:
        if functional:
            out = convarith.output_shape(expr, shapes={"x": shape, "idx": shape})
        else:
            out = convarith.output_shape(expr, shape, output_size=output_size)
    except convarith.ConvArithError:
        assume(False)
    rank = int(expr.split("npool")[1][0])
    plane, count = int(np.prod(out[-rank:])), int(np.prod(shape[-rank:]))
    assume(0 < count <= plane)
    rng = np.random.default_rng(seed)
    planes = int(np.prod(shape)) // count
    indices = np.stack([rng.permutation(plane)[:count] for _ in range(planes)]).reshape(shape).astype(np.int64)
    x = random(rng, shape)
    if functional:
        values_agree(oracle("torch"), expr, arrays={"x": x, "idx": indices})
    else:
        values_agree(oracle("torch"), expr, x, [indices], output_size=output_size, request={"indices": indices})
