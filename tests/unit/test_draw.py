"""convarith.draw: every cell of the picture against the canonical op, in all five frameworks.

The hypothesis calls come from the differential tests' generators (no framework runs here: the
counts are checked against the explanation's numbers and a brute-force walk of the windows)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convarith
from convarith import ConvArithError
from convarith.render import scene
from tests.differential import test_jax_lax, test_keras, test_onnx, test_tf_nn, test_torch
from tests.fuzz.strategies import draw_options
from tests.unit.robust_seeds import SEEDS

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"
SEED_INPUT = (1, 96, 128, 3)
SEED_CASES = (("valid", 1), ("valid", 2), ("same", 1), ("same", 2), ("same", 3))
CALLS = {
    "torch": st.one_of(
        test_torch.conv_calls(False, False),
        test_torch.conv_calls(True, False),
        test_torch.conv_calls(False, True),
        test_torch.conv_calls(True, True),
        test_torch.pool_calls(False),
        test_torch.pool_calls(True),
        test_torch.adaptive_calls(),
    ),
    "keras": st.one_of(
        test_keras.conv_calls(),
        test_keras.conv_transpose_calls(),
        test_keras.depthwise_calls(False),
        test_keras.depthwise_calls(True),
        test_keras.pool_calls(),
    ),
    "tf_nn": st.one_of(
        test_tf_nn.conv_calls(),
        test_tf_nn.depthwise_calls(),
        test_tf_nn.transpose_calls(),
        test_tf_nn.pool_calls(),
        test_tf_nn.generic_pool_calls(),
    ),
    "onnx": st.one_of(test_onnx.conv_nodes(False), test_onnx.conv_nodes(True), test_onnx.pool_nodes()),
    "jax_lax": st.one_of(test_jax_lax.general_calls(), test_jax_lax.transpose_calls()),
}  # the differential tests' generators: calls each framework mostly accepts, some broken
EXAMPLES = settings(max_examples=int(os.environ.get("CONVARITH_DRAW_EXAMPLES", "150")), deadline=None)


def seed_expr(padding: str, strides: int) -> str:
    return f"keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides={strides}, padding={padding!r})"


def arguments(case) -> tuple:
    """(expr, input_shape, shapes, output_size) from a generator's case, whatever its form."""
    expr, *rest = case
    shape = shapes = output_size = None
    if rest and isinstance(rest[0], dict):
        shapes = rest[0]
    elif rest:
        shape = rest[0]
        shapes = rest[1] if len(rest) > 1 else None
        output_size = rest[2] if len(rest) > 2 else None
    return expr, shape, shapes, output_size


def grids(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.get("data-role"): g for g in root.iter(f"{SVG}g") if g.get("class") == "grid"}


def classes(grid: ET.Element) -> Counter:
    """Rects per class attribute (exactly as written)."""
    return Counter(rect.get("class") for rect in grid.iter(f"{SVG}rect"))


def copied(u: int, n: int, mode: str) -> int:
    """The input cell a padding tap at u reaches when the padding copies the input."""
    if mode == "zeros" or 0 <= u < n:
        return u
    if mode == "replicate":
        return min(max(u, 0), n - 1)
    if mode == "circular":
        return u % n
    period = 2 * n - 2 if n > 1 else 1  # reflect: the edge cell itself is not repeated
    u %= period
    return period - u if u >= n else u


def axis_classes(facts: dict, kind: str, space_to_batch: bool, mode: str) -> tuple[list[str], int]:
    """One axis of the input grid by brute force over its windows: (classes in order, taps per window)."""
    n, k, d, s, out = facts["in"], facts["kernel"], facts["dilation"], facts["stride"], facts["out"]
    if kind.startswith("adaptive"):
        return ["input"] * n, 0
    if "as_forward" in facts:  # a transposed conv drawn as its forward conv: the explanation's own numbers
        spacing, lo, hi = s, facts["as_forward"]["pad_before"], facts["as_forward"]["pad_after"]
        spaced, s = facts["as_forward"]["dilated_input"], 1
        assert spaced == ((n - 1) * spacing + 1 if n else 0)
    else:
        spacing, lo, hi = facts.get("lhs_dilation", 1), facts["pad_before"], facts["pad_after"]
        spaced = (n - 1) * spacing + 1 if n else 0
    reached = set()
    for j in range(out):
        start = convarith.core.arith.space_to_batch_start(j, d, s, lo) if space_to_batch else j * s - lo
        reached.update(copied(start + t * d, n, mode) for t in range(k))
    cells = []
    for u in range(spaced):
        if u % spacing:
            cells.append("inserted-zero")
        else:
            cells.append("input" if u in reached or out <= 0 else "dropped")
    if "unreached" in facts and facts["unreached"]["count"] is not None and spacing == 1:
        assert cells.count("dropped") == facts["unreached"]["count"], "brute force and explain disagree"
    return ["pad-before"] * max(lo, 0) + cells + ["pad-after"] * max(hi, 0), k


def corner_rule(row: str, col: str) -> str:
    """The issue's rule: padding of the first axis, then of the second, then zeros, then dropped."""
    for name in ("pad-before", "pad-after"):
        if row == name:
            return row
    if col in ("pad-before", "pad-after"):
        return col
    for name in ("inserted-zero", "dropped"):
        if name in (row, col):
            return name
    return row


def expected_input(explanation) -> tuple[Counter, int, int]:
    """Cells per class of the drawn (first two) axes' input grid, and its rows and columns."""
    step = explanation.facts["steps"][0]
    axes = step["axes"][:2]
    mode = explanation.mapped.ops[0].pad_mode
    strips = [axis_classes(f, step["kind"], explanation.mapped.space_to_batch, mode) for f in axes]
    if len(strips) == 1:
        strips.insert(0, (["input"], 1))
    (rows, _), (cols, _) = strips
    return Counter(corner_rule(r, c) for r in rows for c in cols), len(rows), len(cols)


@pytest.mark.parametrize("framework", sorted(CALLS))
@given(data=st.data())
@settings(EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
def test_svg_cells_by_class_match_the_canonical_op(framework, data):
    expr, shape, shapes, output_size = arguments(data.draw(CALLS[framework], label="call"))
    try:
        explanation = convarith.explain(expr, shape, shapes=shapes, output_size=output_size)
    except ConvArithError as refusal:
        with pytest.raises(ConvArithError) as drawn:
            convarith.draw(expr, shape, shapes=shapes, output_size=output_size)
        assert str(drawn.value) == str(refusal)
        return
    if not explanation.facts["steps"][0]["axes"]:
        with pytest.raises(ConvArithError, match="no spatial axis to draw"):
            convarith.draw(expr, shape, shapes=shapes, output_size=output_size)
        return
    svg = convarith.draw(expr, shape, shapes=shapes, output_size=output_size)
    found = grids(svg)
    want, rows, cols = expected_input(explanation)
    drawn = classes(found["input"])
    kernel = drawn.pop("kernel", 0) + drawn.pop("kernel excluded", 0)
    assert drawn == +want, f"{expr} {shape or shapes}"
    assert (int(found["input"].get("data-rows")), int(found["input"].get("data-cols"))) == (rows, cols)
    assert {name: int(found["input"].get(f"data-{name}")) for name in want} == dict(want)
    step = explanation.facts["steps"][0]
    outs = [f["out"] for f in step["axes"]]
    drawn_out = classes(found["output"])
    assert drawn_out.pop("selected", 0) == (1 if min(outs) > 0 else 0)
    assert drawn_out == +Counter(output=math.prod(outs[:2])), expr
    if min(outs) > 0 and not step["kind"].startswith("adaptive"):  # every tap drawn, in padding too
        assert kernel == math.prod(f["kernel"] if f["dilation"] else 1 for f in step["axes"][:2])  # d=0: one cell


@given(
    case=st.one_of(test_torch.conv_calls(True, False), test_keras.conv_transpose_calls(), test_onnx.conv_nodes(True))
)
@settings(EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
def test_scatter_view_crops_to_the_shape(case):
    """Scatter: the stamped buffer (n-1)*s + k_eff per axis, cut per side to exactly the output,
    and the taps reaching the chosen cell are the forward view's taps on input cells."""
    expr, shape, shapes, output_size = arguments(case)
    try:
        explanation = convarith.explain(expr, shape, shapes=shapes, output_size=output_size)
    except ConvArithError:
        return
    step = explanation.facts["steps"][0]
    if step["kind"] != "conv_transpose":
        return
    outs = [f["out"] for f in step["axes"]]
    scatter = grids(convarith.draw(expr, shape, shapes=shapes, output_size=output_size, view="scatter"))
    output = classes(scatter["output"])
    output.pop("selected", None)
    assert output["output"] == math.prod(outs[:2])
    strips = []
    for f in step["axes"][:2]:
        full = (f["in"] - 1) * f["stride"] + f["effective_kernel"]
        before, after = f["pad_before"], f["pad_after"] - f["output_padding"]
        strips.append(["pad-before"] * max(before, 0) + ["output"] * f["out"] + ["pad-after"] * max(after, 0))
        assert len(strips[-1]) == max(full, before + f["out"]) - min(before, 0)
    if len(strips) == 1:
        strips.insert(0, ["output"])
    assert output == +Counter(corner_rule(r, c) for r in strips[0] for c in strips[1])
    if min(outs) > 0:
        forward = grids(convarith.draw(expr, shape, shapes=shapes, output_size=output_size))["input"]
        on_input = 0
        cells = {(rect.get("data-r"), rect.get("data-c")): rect.get("class") for rect in forward.iter(f"{SVG}rect")}
        for rect in forward.iter(f"{SVG}rect"):
            if rect.get("class") == "kernel":
                x, y = float(rect.get("x")) - 2, float(rect.get("y")) - 2
                for cell in forward.iter(f"{SVG}rect"):
                    if cell.get("x") == f"{x:g}" and cell.get("y") == f"{y:g}" and cell.get("class") == "input":
                        on_input += 1
        assert cells and classes(scatter["input"])["kernel"] == on_input


@given(seed=st.sampled_from(SEEDS), options=draw_options)
@settings(EXAMPLES, max_examples=300)
def test_draw_answers_or_refuses_any_option(seed, options):
    """The robust seeds with good and bad draw options: a bounded picture or a ConvArithError, quickly."""
    expr, shape, shapes, output_size = seed
    began = time.perf_counter()
    try:
        picture = convarith.draw(expr, shape, shapes=shapes, output_size=output_size, **options)
    except ConvArithError as refusal:
        assert str(refusal).strip() and "\n" not in str(refusal)
        return
    finally:
        assert time.perf_counter() - began < 5
    assert isinstance(picture, bytes if options.get("fmt") == "gif" else str) and len(picture) < 2**21


def cell_classes(svg: str, role: str) -> dict[tuple[int, int], str]:
    found = grids(svg)[role]
    return {
        (int(rect.get("data-r")), int(rect.get("data-c"))): rect.get("class")
        for rect in found.iter(f"{SVG}rect")
        if rect.get("data-r") is not None
    }


def test_corner_cells_take_the_first_axis_side():
    # ONNX pads=[h_lo, w_lo, h_hi, w_hi]: height 1 before, 0 after; width 2 before, 3 after
    svg = convarith.draw(
        "make_node('Conv', ['X', 'W'], ['Y'], pads=[1, 2, 0, 3])", shapes={"X": (1, 1, 4, 4), "W": (1, 1, 3, 3)}
    )
    cells = cell_classes(svg, "input")
    assert max(cells) == (4, 8)  # 1 + 4 + 0 rows, 2 + 4 + 3 columns
    assert cells[0, 0] == cells[0, 8] == "pad-before"  # a corner: the first axis's side
    assert cells[1, 0] == cells[1, 1] == "pad-before" and cells[1, 6] == cells[4, 8] == "pad-after"
    assert cells[1, 2] == "input"


def test_kernel_taps_respect_dilation_and_are_drawn_in_padding():
    expr, shape = "nn.Conv1d(1, 1, 3, dilation=2, padding=2)", (1, 1, 5)
    grid = grids(convarith.draw(expr, shape))["input"]
    assert grid.get("data-rows") == "1" and grid.get("data-cols") == "9"
    taps = [rect for rect in grid.iter(f"{SVG}rect") if rect.get("class") == "kernel"]
    assert [rect.get("data-tap") for rect in taps] == ["0", "1", "2"]
    lines = [convarith.draw(expr, shape, fmt="ascii", at=at).splitlines()[5] for at in (0, 1)]
    assert lines == ["  BbIiIiiaa", "  bBiIiIiaa"]  # taps every 2 cells, the first in the padding


def test_transposed_forward_view_is_zero_insertion_then_the_forward_pads():
    svg = convarith.draw(seed_expr("same", 2), (1, 5, 6, 3))
    found = grids(svg)["input"]
    counts = classes(found)
    # 9 x 11 zero-stuffed ((n-1)*s+1), forward pads 2 before, 1 after on both axes: 12 x 14
    assert (found.get("data-rows"), found.get("data-cols")) == ("12", "14")
    assert counts["input"] == 30 and counts["inserted-zero"] == 9 * 11 - 30
    assert counts["pad-before"] == 2 * 14 + 9 * 2 and counts["pad-after"] == 1 * 14 + 9 * 1
    assert counts["kernel"] == 9
    assert int(grids(svg)["output"].get("data-output")) == 10 * 12


def test_dropped_cells_are_explains_unreached_cells():
    expr, shape = "nn.Conv2d(1, 1, 2, stride=3)", (1, 1, 8, 7)
    cells = cell_classes(convarith.draw(expr, shape), "input")
    facts = convarith.explain(expr, shape).facts["steps"][0]["axes"]
    assert [f["unreached"]["count"] for f in facts] == [2, 3]  # rows 2, 5; columns 2, 5, 6
    assert {r for (r, c), name in cells.items() if name == "dropped" and c == 0} == {2, 5}
    assert {c for (r, c), name in cells.items() if name == "dropped" and r == 0} == {2, 5, 6}
    assert sum(name == "dropped" for name in cells.values()) == 8 * 7 - 6 * 4


def test_copying_padding_reaches_the_cells_it_copies():
    # taps at -2, 1, 4 of a 4-cell input: with zeros 0, 2, 3 are unreached; replicate copies cells 0 and 3
    expr = "nn.Conv1d(1, 1, 1, stride=3, padding=2, padding_mode='{}')"
    for mode, dropped in (("zeros", [2, 4, 5]), ("replicate", [4])):
        cells = cell_classes(convarith.draw(expr.format(mode), (1, 1, 4)), "input")
        assert sorted(c for (_, c), name in cells.items() if name == "dropped") == dropped, mode


def test_average_pooling_marks_the_taps_its_divisor_leaves_out():
    expr = "nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)"
    grid = grids(convarith.draw(expr, (1, 1, 5, 5)))["input"]
    counts = classes(grid)
    assert counts["kernel excluded"] == 5 and counts["kernel"] == 4  # the corner window: 2 x 2 input cells
    text = convarith.draw(expr, (1, 1, 5, 5), fmt="ascii")
    assert "divisor of this window: 4 cells" in text
    counted = classes(grids(convarith.draw(expr.replace("False", "True"), (1, 1, 5, 5)))["input"])
    assert counted["kernel"] == 9 and "kernel excluded" not in counted
    ceil = classes(grids(convarith.draw("nn.MaxPool1d(2, ceil_mode=True)", (1, 1, 5), at=2))["input"])
    assert ceil["kernel excluded"] == 1 and ceil["kernel"] == 1  # the last window runs past the input


def test_adaptive_pooling_draws_its_windows():
    grid = grids(convarith.draw("nn.AdaptiveAvgPool1d(3)", (1, 1, 7), at=1))["input"]
    taps = [rect for rect in grid.iter(f"{SVG}rect") if rect.get("class") == "kernel"]
    assert len(taps) == 3  # window 1 of 7 -> 3: [2, 5)


def test_one_and_three_dimensional_ops():
    one = grids(convarith.draw("nn.MaxPool1d(2)", (1, 1, 6)))
    assert one["input"].get("data-rows") == "1" and one["output"].get("data-cols") == "3"
    expr, shape = "nn.Conv3d(1, 1, (3, 2, 1), padding=(1, 0, 2))", (1, 1, 4, 5, 6)
    default = grids(convarith.draw(expr, shape))["input"]
    assert (default.get("data-rows"), default.get("data-cols")) == ("6", "5")  # depth x height
    chosen = grids(convarith.draw(expr, shape, axes=("height", "width")))["input"]
    assert (chosen.get("data-rows"), chosen.get("data-cols")) == ("5", "10")
    assert "depth not drawn: 4 -> 4" in convarith.draw(expr, shape, axes=(1, -1), fmt="ascii")


def test_large_grids_are_elided_and_bounded():
    cases = [
        ("nn.Conv2d(1, 1, 3, stride=2, padding=1)", (1, 1, 10**6, 10**9), {}),
        ("nn.Conv1d(1, 1, 1000000, dilation=3)", (1, 1, 10**8), {"at": 5}),
        ("nn.ConvTranspose2d(1, 1, 7, stride=1000)", (1, 1, 2**20, 3), {"view": "scatter"}),
        ("nn.ConvTranspose2d(1, 1, 7, stride=1000)", (1, 1, 2**20, 3), {"at": (2**29, 1)}),
        ("nn.AvgPool2d(5, stride=3, padding=2, ceil_mode=True)", (1, 1, 2**40, 2**40), {}),
        ("nn.AdaptiveMaxPool2d((7, 100000))", (1, 1, 10**12, 10**6), {"at": (3, 99999)}),
    ]
    for expr, shape, options in cases:
        began = time.perf_counter()
        svg = convarith.draw(expr, shape, **options)
        text = convarith.draw(expr, shape, fmt="ascii", **options)
        assert time.perf_counter() - began < 3, expr
        assert len(svg) < 800_000 and len(text) < 20_000, expr
        for grid in grids(svg).values():
            shown = sum(rect.get("data-r") is not None for rect in grid.iter(f"{SVG}rect"))
            assert shown <= (scene.LIMIT + 1) ** 2
        assert "elided" in text and str(max(shape)) in text, expr
    huge = grids(convarith.draw("nn.Conv2d(1, 1, 3)", (1, 1, 10**6, 10**9)))
    assert huge["input"].get("data-input") == str(10**15)
    assert huge["output"].get("data-rows") == str(10**6 - 2)


def test_refusals_have_a_rule_and_a_fix(monkeypatch):
    expr, shape = "nn.Conv2d(1, 1, 3)", (1, 1, 5, 5)
    for options in (
        {"fmt": "png"},
        {"fmt": None},
        {"view": "sideways"},
        {"view": "scatter"},
        {"axes": (0, 0)},
        {"axes": (0, 2)},
        {"axes": "depth"},
        {"axes": (0, 1, 0)},
        {"at": (3, 0)},
        {"at": (0,)},
        {"at": (-1, 0)},
        {"at": (True, 0)},
        {"at": "0,0"},
    ):
        with pytest.raises(ConvArithError, match=r"Rule: .*Fix: ") as refused:
            convarith.draw(expr, shape, **options)
        assert str(refused.value).count("\n") == 0, options
    with pytest.raises(ConvArithError, match="the output is empty"):
        convarith.draw("layers.MaxPooling1D(2)", (1, 1, 3), at=0)
    assert "the output is empty" in convarith.draw("layers.MaxPooling1D(2)", (1, 1, 3), fmt="ascii")
    monkeypatch.delitem(scene.FAMILIES, "conv")
    with pytest.raises(ConvArithError, match=r"cannot draw an op of kind 'conv'. Rule: .*Fix: use output_shape"):
        convarith.draw(expr, shape)


def test_gif_steps_over_the_output(monkeypatch):
    pil = pytest.importorskip("PIL.Image")
    import io

    data = convarith.draw("nn.Conv2d(1, 1, 3, stride=2, padding=1)", (1, 1, 6, 5), fmt="gif")
    image = pil.open(io.BytesIO(data))
    assert image.format == "GIF" and image.n_frames == 3 * 3
    many = pil.open(io.BytesIO(convarith.draw("nn.Conv1d(1, 1, 3)", (1, 1, 500), fmt="gif")))
    assert many.n_frames == convarith.render.gif.MAX_FRAMES
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ConvArithError, match=r"needs Pillow.*convarith\[gif\]"):
        convarith.draw("nn.Conv1d(1, 1, 3)", (1, 1, 5), fmt="gif")


def test_notebook_view_embeds_the_svg():
    html = convarith.explain(seed_expr("same", 2), (1, 9, 9, 3))._repr_html_()
    assert "<pre>" in html and "<svg" in html and html.index("</pre>") < html.index("<svg")


@pytest.mark.parametrize(("padding", "strides"), SEED_CASES)
def test_seed_drawings_golden(golden, padding, strides):
    expr = seed_expr(padding, strides)
    golden(f"draw_seed_{padding}_{strides}.svg", convarith.draw(expr, SEED_INPUT))
    golden(f"draw_seed_{padding}_{strides}.txt", convarith.draw(expr, SEED_INPUT, fmt="ascii"))


def test_readme_picture_is_made_by_convarith():
    committed = (ROOT / "docs" / "seed_same_stride2.svg").read_text()
    assert committed == convarith.draw(seed_expr("same", 2), SEED_INPUT, at=(191, 255))  # the last window
    assert "docs/seed_same_stride2.svg" in (ROOT / "README.md").read_text()


def run_cli(*argv, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.run(
        [sys.executable, "-m", "convarith", "draw", *argv], capture_output=True, text=True, cwd=cwd, env=env
    )


def test_cli_draw(tmp_path):
    shown = run_cli("nn.Conv2d(1, 1, 3, padding=1)", "--input", "1,1,4,4", cwd=tmp_path)
    assert shown.returncode == 0 and shown.stdout.startswith("nn.Conv2d") and "legend:" in shown.stdout
    assert shown.stdout == convarith.draw("nn.Conv2d(1, 1, 3, padding=1)", (1, 1, 4, 4), fmt="ascii")
    written = run_cli("nn.Conv2d(1, 1, 3, padding=1)", "--input", "1,1,4,4", "-o", "p.svg", "--at", "1,1", cwd=tmp_path)
    assert written.returncode == 0 and written.stdout.startswith("wrote p.svg (svg, ")
    expected = convarith.draw("nn.Conv2d(1, 1, 3, padding=1)", (1, 1, 4, 4), at=(1, 1))
    assert (tmp_path / "p.svg").read_text() == expected
    (tmp_path / "keep.svg").write_text("keep me")
    for argv in (
        ("nn.Conv2d(1, 1, 3, stride=2, padding='same')", "--input", "1,1,4,4", "-o", "keep.svg"),
        ("nn.Conv2d(1, 1, 3)", "--input", "1,1,4,4", "--at", "7,7", "-o", "keep.svg"),
        ("nn.Conv2d(1, 1, 3)", "--input", "1,1,4,4", "-o", "p.png"),
        ("nn.Conv2d(1, 1, 3)", "--input", "1,1,4,4", "--fmt", "gif"),
        ("nn.Conv2d(1, 1, 3)", "--input", "1,1,4,4", "--axes", "0,7"),
        ("nn.Conv2d(1, 1, 3)", "--input", "1,1,4,4", "-o", "missing/p.svg"),
    ):
        failed = run_cli(*argv, cwd=tmp_path)
        assert failed.returncode == 1 and failed.stdout == "", argv
        assert failed.stderr.startswith("error: ") and failed.stderr.count("\n") == 1, failed.stderr
    assert (tmp_path / "keep.svg").read_text() == "keep me"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["keep.svg", "p.svg"]
