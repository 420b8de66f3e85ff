"""torch as the source of a translation: the ``run`` lines translate.torch writes, executed in the torch
worker, equal the oracle's own run of the call on the same arrays; and ``to_canonical`` + convarith's
reference + ``from_canonical`` equal it too."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convarith import ConvArithError
from convarith.api import map_call
from convarith.reference import run_chain
from convarith.reference.adapters import Plan, canonical_weight_shape
from convarith.translate import torch as to_torch
from tests.differential import test_global_pool as global_pools
from tests.differential import test_numerics_torch as torch_numbers
from tests.differential import test_padding as pads
from tests.differential import test_rearrange as rearrange
from tests.differential import test_resize as resize
from tests.differential import test_unpool as unpools
from tests.differential.test_translate_to_torch import call_inputs

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
AGREED: Counter = Counter()
UNPOOLS = unpools.unpools(numbers=True).map(
    lambda case: (case[0], {"x": case[1], "idx": case[1]}) if case[3] else (case[0], case[1], case[2])
)
CALLS = st.one_of(
    torch_numbers.conv_modules(), torch_numbers.transpose_modules(), torch_numbers.functional_convs(),
    torch_numbers.pool_modules(), torch_numbers.functional_pools(), pads.torch_pads(numbers=True),
    resize.torch_calls(numeric=True), rearrange.shuffle_calls(), rearrange.unfold_calls(), rearrange.fold_calls(),
    global_pools.torch_globals(), UNPOOLS,
)  # fmt: skip


def unpool_indices(mapped, shape, rng) -> np.ndarray:
    """Distinct flat output positions per (N, C) plane (torch keeps one value of a repeated index)."""
    op = mapped.ops[0]
    from convarith.core import arith

    plane, count = int(np.prod(arith.output_spatial(op))), int(np.prod(op.in_size))
    assume(0 < count <= plane)
    planes = int(np.prod(shape)) // count
    return np.stack([rng.permutation(plane)[:count] for _ in range(planes)]).reshape(shape).astype(np.int64)


def arrays_of(mapped, shape, shapes, rng) -> dict:
    """The signature's arrays in torch's own layout: {'x', 'weights'} or the call's tensor names."""
    op = mapped.ops[0]
    if shapes is not None:
        arrays = {name: rng.standard_normal(s).astype(np.float32) for name, s in shapes.items()}
        if op.kind == "max_unpool":
            arrays["idx"] = unpool_indices(mapped, shapes["idx"], rng)
        return arrays
    x = rng.standard_normal(shape).astype(np.float32)
    if op.kind == "max_unpool":
        return {"x": x, "weights": [unpool_indices(mapped, shape, rng)]}
    if op.weightless:
        return {"x": x, "weights": []}
    weights = [rng.standard_normal(canonical_weight_shape(op)).astype(np.float32)]
    if op.bias:
        weights.append(rng.standard_normal(op.out_channels).astype(np.float32))
    return {"x": x, "weights": weights}


def oracle_request(expr, shape, shapes, output_size, arrays) -> dict:
    """The torch worker's own run of the call (as tests/differential/numerics.py asks it)."""
    if shapes is not None:
        return {"expr": expr, "arrays": arrays, "shapes": {k: v.shape for k, v in arrays.items()}, "values": True}
    request = {"expr": expr, "input_shape": shape, "arrays": {"input": arrays["x"]}, "weights": arrays["weights"],
               "output_size": output_size, "values": True}  # fmt: skip
    if "MaxUnpool" in expr:
        request["indices"], request["weights"] = arrays["weights"][0], None
    return request


@given(CALLS, st.integers(0, 2**32 - 1))
@SETTINGS
def test_source_run_and_steps_equal_torch(oracle, case, seed):
    expr, shape, shapes, output_size = call_inputs(case)
    try:
        mapped = map_call(expr, shape, shapes=shapes, output_size=output_size)
    except ConvArithError:
        assume(False)
    assume(not any("forward() refuses" in note for note in mapped.notes))  # torch's values are undefined there
    source_agrees(oracle, expr, shape, shapes, output_size, mapped, seed)


SPELLINGS = [
    # (call, input shape, shapes, output_size): the torch.* aliases, lazy modules, unbatched and flattened inputs
    ("torch.conv2d(x, w, b, 2, 1)", None, {"x": (1, 2, 6, 6), "w": (3, 2, 3, 3), "b": (3,)}, None),
    ("torch.conv_transpose1d(x, w, stride=2, output_padding=1)", None, {"x": (2, 2, 5), "w": (2, 3, 3)}, None),
    ("torch.max_pool2d(x, 3, 2, 1, 1, True)", None, {"x": (1, 2, 7, 6)}, None),
    ("torch.avg_pool1d(x, 3, 2, 1, True, False)", None, {"x": (2, 3, 8)}, None),
    ("torch.adaptive_avg_pool1d(x, 3)", None, {"x": (1, 2, 7)}, None),
    ("nn.LazyConv2d(4, 3, padding=1)", (1, 3, 5, 5), None, None),
    ("nn.LazyConvTranspose1d(2, 3, stride=2)", (2, 3, 4), None, (10,)),
    ("nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)", (2, 5, 4), None, (10, 8)),
    ("nn.Conv3d(2, 2, 2, groups=2, bias=False)", (2, 3, 3, 3), None, None),
    ("F.pad(x, (1, 2), mode='constant', value=1.5)", None, {"x": (2, 3, 4, 5, 6)}, None),
    ("nn.PixelShuffle(2)", (2, 3, 8, 3, 3), None, None),
    ("nn.Fold((4, 5), 2)", (8, 12), None, None),
    ("F.interpolate(x, size=y.shape[2:], mode='bilinear')", None, {"x": (1, 2, 4, 4), "y": (1, 1, 8, 6)}, None),
    ("F.interpolate(x, size=(y.shape[2], 5), mode='nearest')", None, {"x": (1, 2, 4, 4), "y": (1, 1, 7, 6)}, None),
]


@pytest.mark.parametrize(("expr", "shape", "shapes", "output_size"), SPELLINGS)
def test_spellings_run_as_torch_runs_them(oracle, expr, shape, shapes, output_size):
    mapped = map_call(expr, shape, shapes=shapes, output_size=output_size)
    source_agrees(oracle, expr, shape, shapes, output_size, mapped, 7)


def source_agrees(oracle, expr, shape, shapes, output_size, mapped, seed) -> None:
    arrays = arrays_of(mapped, shape, shapes, np.random.default_rng(seed))
    source = to_torch.source(mapped)
    torch = oracle("torch")
    theirs = torch.run(oracle_request(expr, shape, shapes, output_size, arrays))
    assert "values" in theirs, f"torch refused {expr}: {theirs.get('error')}"
    theirs = np.asarray(theirs["values"])
    ran = torch.run({"source_run": True, "imports": source.run_imports, "lines": source.run, "names": arrays})
    where = f"{expr} on {shape or shapes} output_size={output_size}\n" + "\n".join(source.run)
    assert "y" in ran, f"the run lines failed: {ran.get('error')}\n{where}"
    np.testing.assert_array_equal(ran["y"], theirs, err_msg=where)
    namespace = {"np": np, **arrays}
    exec("\n".join(source.to_canonical), namespace)  # code convarith.translate wrote
    namespace["y"] = run_chain(Plan(mapped, namespace["x"], namespace["params"]))[-1]
    exec("\n".join(source.from_canonical), namespace)
    ours = namespace["y"]
    assert ours.shape == theirs.shape, f"{ours.shape} != {theirs.shape}\n" + "\n".join(source.to_canonical)
    np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=2e-5, equal_nan=True, err_msg=where)
    AGREED[mapped.ops[0].kind] += 1


def test_tally():
    print("\ntorch as the source, run lines and steps agreeing with torch, per op kind: " + str(dict(AGREED)))
