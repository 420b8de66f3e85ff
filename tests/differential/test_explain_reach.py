"""explain's "input cells no kernel tap reaches" against autograd in the real
frameworks: with all-ones weights, d(sum(output))/d(input) is zero exactly on
the cells no tap of any window reaches (dilated, strided, padded, cropped)."""

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import convarith
from tests.conftest import selected_frameworks
from tests.differential.compare import TALLY

pytestmark = pytest.mark.differential
WORKER = Path(__file__).with_name("reach_worker.py")


def torch_cases(rng: random.Random) -> list[dict]:
    cases = []
    for _ in range(260):
        rank = rng.choice([1, 1, 2])
        n = [rng.choice([rng.randint(1, 40), rng.randint(1, 40), rng.randint(60, 400)]) for _ in range(rank)]
        if rank == 1 and rng.random() < 0.08:
            n = [rng.randint(66000, 90000)]  # beyond the cell budget: the periodic-middle path
        k = [rng.randint(1, 4) for _ in range(rank)]
        s = [rng.randint(1, 9) for _ in range(rank)]
        p = [rng.randint(0, 4) for _ in range(rank)]
        one = (lambda v: v[0]) if rank == 1 else tuple
        kind = rng.choice(["conv", "conv", "conv", "avg"])
        if kind == "conv":
            d = [rng.randint(1, 6) for _ in range(rank)]
            mode = rng.choice(["zeros", "zeros", "zeros", "reflect", "replicate", "circular"])
            expr = (
                f"nn.Conv{rank}d(1, 1, {one(k)}, stride={one(s)}, padding={one(p)}, dilation={one(d)}, "
                f"padding_mode={mode!r}, bias=False)"
            )
        else:
            p = [rng.randint(0, kk // 2) for kk in k]
            expr = (
                f"nn.AvgPool{rank}d({one(k)}, stride={one(s)}, padding={one(p)}, ceil_mode={rng.random() < 0.5}, "
                f"count_include_pad={rng.random() < 0.5})"
            )
        cases.append({"framework": "torch", "expr": expr, "shape": [1, 1, *n]})
    return cases


def tf_cases(rng: random.Random) -> list[dict]:
    cases = []
    for _ in range(80):
        n = [rng.randint(1, 30), rng.randint(1, 30)]
        k = [rng.randint(1, 4), rng.randint(1, 4)]
        rate = [rng.randint(1, 4), rng.randint(1, 4)]
        s = rng.randint(1, 3)
        padding = rng.choice(["SAME", "VALID"])
        expr = f"tf.nn.depthwise_conv2d(x, w, [1, {s}, {s}, 1], {padding!r}, dilations={rate})"
        cases.append({"framework": "tf_nn", "expr": expr, "shape": [1, *n, 1], "filter": [*k, 1, 1]})
    return cases


def jax_cases(rng: random.Random) -> list[dict]:
    cases = []
    for _ in range(80):
        n, k, d, s = rng.randint(1, 60), rng.randint(1, 4), rng.randint(1, 6), rng.randint(1, 8)
        lo, hi = rng.randint(-5, 4), rng.randint(-5, 4)
        expr = f"lax.conv_general_dilated(x, w, ({s},), (({lo}, {hi}),), rhs_dilation=({d},))"
        cases.append({"framework": "jax_lax", "expr": expr, "shape": [1, 1, n], "filter": [1, 1, k]})
    return cases


def run_worker(cases: list[dict]) -> list[dict]:
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu")
    done = subprocess.run(
        [sys.executable, str(WORKER)], input=json.dumps(cases), capture_output=True, text=True, env=env, timeout=900
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def axis_cells(facts: dict) -> set[int]:
    """Every cell of an axis's ``unreached`` fact (the test inputs are listed in full)."""
    found = facts["unreached"]
    assert found["runs_total"] == len(found["runs"]), "listing cut short: use a smaller case"
    cells = set()
    for run in found["runs"]:
        assert run.get("offsets_total", 0) == len(run.get("offsets", ())), "pattern cut short: use a smaller case"
        for i in range(run["start"], run["stop"]):
            if "period" not in run or any(a <= (i - run["start"]) % run["period"] < b for a, b in run["offsets"]):
                cells.add(i)
    assert len(cells) == found["count"]
    return cells


def expected_zeros(explanation, spatial) -> list[int]:
    """Flat indices of (1, 1, *spatial) or (1, *spatial, 1) where some axis is unreached."""
    (step,) = explanation.to_dict()["steps"]
    unreached = np.zeros(spatial, bool)
    for axis, (n, facts) in enumerate(zip(spatial, step["axes"], strict=True)):
        mask = np.isin(np.arange(n), sorted(axis_cells(facts)))
        unreached |= mask.reshape([n if a == axis else 1 for a in range(len(spatial))])
    return np.flatnonzero(unreached.reshape(-1)).tolist()


@pytest.mark.parametrize("framework", ["torch", "tf_nn", "jax_lax"])
def test_unreached_cells_are_the_zero_gradient_cells(framework):
    if framework not in selected_frameworks():
        pytest.skip(f"{framework} not selected by CONVARITH_TEST_FRAMEWORKS")
    rng = random.Random(7)
    cases = {"torch": torch_cases, "tf_nn": tf_cases, "jax_lax": jax_cases}[framework](rng)
    checked = 0
    for case, answer in zip(cases, run_worker(cases), strict=True):
        shapes = None if framework == "torch" else {"x": tuple(case["shape"]), "w": tuple(case["filter"])}
        try:
            explanation = convarith.explain(
                case["expr"], tuple(case["shape"]) if shapes is None else None, shapes=shapes
            )
        except convarith.ConvArithError:
            continue  # refusals are the shape tests' business
        if "error" in answer:
            continue
        spatial = tuple(case["shape"][2:]) if framework != "tf_nn" else tuple(case["shape"][1:-1])
        if 0 in explanation.output_shape:
            continue  # no output: no gradient to compare
        assert expected_zeros(explanation, spatial) == answer["zero"], f"{case}\n{explanation}"
        checked += 1
    TALLY[framework, "reach"] += checked
    assert checked >= len(cases) // 2, f"only {checked} of {len(cases)} cases compared"
