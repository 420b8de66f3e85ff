"""The dropped cells explain flags beyond a forward conv's taps, against autograd in the real frameworks:
with all-ones weights (and inputs), d(sum(output))/d(input) is zero exactly on the flagged cells, for
transposed convolutions whose padding cuts taps, input-dilated convolutions, resizes that skip cells and
explicit crops."""

import random

import pytest

import convarith
from tests.conftest import selected_frameworks
from tests.differential.compare import TALLY
from tests.differential.test_explain_reach import expected_zeros, run_worker

pytestmark = pytest.mark.differential


def torch_cases(rng: random.Random) -> list[dict]:
    cases = []
    for _ in range(160):
        kind = rng.choice(["transpose", "transpose", "transpose2d", "resize", "resize", "resize2d", "crop"])
        n = rng.randint(1, 40)
        if kind.startswith("transpose"):
            rank = 2 if kind == "transpose2d" else 1
            k, s, d = rng.randint(1, 4), rng.randint(1, 4), rng.randint(1, 3)
            p = rng.randint(0, (k - 1) * d + 3)
            extra = rng.randrange(max(s, d))
            expr = (f"nn.ConvTranspose{rank}d(1, 1, {k}, stride={s}, padding={p}, output_padding={extra}, "
                    f"dilation={d}, bias=False)")  # fmt: skip
            shape = [1, 1, n] if rank == 1 else [1, 1, n, rng.randint(1, 12)]
        elif kind.startswith("resize"):
            scale = rng.choice([0.2, 0.25, 1 / 3, 0.4, 0.5, 0.6, 0.75, 0.9, 1.5])
            if kind == "resize2d":
                mode = rng.choice(["nearest", "bilinear", "nearest-exact"])
                shape = [1, 1, n, rng.randint(1, 20)]
            else:
                mode = rng.choice(["nearest", "linear", "nearest-exact"])
                shape = [1, 1, n]
            corners = ", align_corners=True" if mode in ("linear", "bilinear") and rng.random() < 0.3 else ""
            expr = f"nn.Upsample(scale_factor={scale!r}, mode={mode!r}{corners})"
        else:
            expr, shape = f"nn.ZeroPad1d(({rng.randint(-4, 2)}, {rng.randint(-4, 2)}))", [1, 1, n]
        cases.append({"framework": "torch", "expr": expr, "shape": shape})
    return cases


def tf_cases(rng: random.Random) -> list[dict]:
    cases = []
    for _ in range(60):
        n = rng.randint(1, 30)
        if rng.random() < 0.5:
            k, s = rng.randint(1, 4), rng.randint(1, 4)
            padding = rng.choice(["SAME", "VALID"])
            out = (
                max((n - 1) * s + k, n * s) - rng.randint(0, s - 1)
                if padding == "VALID"
                else n * s - rng.randint(0, s - 1)
            )
            expr = f"tf.nn.conv1d_transpose(x, w, output_shape=[1, {out}, 1], strides={s}, padding={padding!r})"
            cases.append({"framework": "tf_nn", "expr": expr, "shape": [1, n, 1], "filter": [k, 1, 1]})
        else:
            size = [max(1, int(n * rng.choice([0.25, 0.4, 0.5, 0.7]))), rng.randint(1, 12)]
            method = rng.choice(["nearest", "bilinear"])
            expr = f"tf.image.resize(x, {size}, method={method!r})"
            cases.append({"framework": "tf_nn", "expr": expr, "shape": [1, n, 12, 1], "filter": [1]})
    return cases


def jax_cases(rng: random.Random) -> list[dict]:
    cases = []
    for _ in range(80):
        n, k, d, s = rng.randint(1, 40), rng.randint(1, 4), rng.randint(1, 3), rng.randint(1, 4)
        lo, hi = rng.randint(-4, 4), rng.randint(-4, 4)
        if rng.random() < 0.5:
            expr = (f"lax.conv_transpose(x, w, ({s},), (({lo}, {hi}),), rhs_dilation=({d},), "
                    "dimension_numbers=('NCH', 'OIH', 'NCH'))")  # fmt: skip
        else:
            expr = (f"lax.conv_general_dilated(x, w, ({s},), (({lo}, {hi}),), lhs_dilation=({rng.randint(2, 4)},), "
                    f"rhs_dilation=({d},))")  # fmt: skip
        cases.append({"framework": "jax_lax", "expr": expr, "shape": [1, 1, n], "filter": [1, 1, k]})
    return cases


@pytest.mark.parametrize("framework", ["torch", "tf_nn", "jax_lax"])
def test_dropped_cells_are_the_zero_gradient_cells(framework):
    if framework not in selected_frameworks():
        pytest.skip(f"{framework} not selected by CONVARITH_TEST_FRAMEWORKS")
    rng = random.Random(11)
    cases = {"torch": torch_cases, "tf_nn": tf_cases, "jax_lax": jax_cases}[framework](rng)
    checked = flagged = 0
    for case, answer in zip(cases, run_worker(cases), strict=True):
        shapes = None if framework == "torch" else {"x": tuple(case["shape"]), "w": tuple(case["filter"])}
        try:
            explanation = convarith.explain(case["expr"], tuple(case["shape"]) if shapes is None else None,
                                            shapes=shapes)  # fmt: skip
        except convarith.ConvArithError:
            continue  # refusals are the shape tests' business
        if "error" in answer or 0 in explanation.output_shape:
            continue
        spatial = tuple(case["shape"][1:-1]) if framework == "tf_nn" else tuple(case["shape"][2:])
        zeros = expected_zeros(explanation, spatial)
        assert zeros == answer["zero"], f"{case}\n{explanation}"
        checked += 1
        flagged += bool(zeros)
    TALLY[framework, "dropped-cell gradients"] += checked
    assert checked >= len(cases) // 2 and flagged >= checked // 5, (checked, flagged, len(cases))
