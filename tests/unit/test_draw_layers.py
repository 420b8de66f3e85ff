"""convarith.draw for the layers that are not a kernel sliding over the input: explicit padding and
cropping, resize, pixel shuffle, unfold/fold, max unpooling, reduce_window pools, global pools and
multi-op calls. The hypothesis calls are the differential tests' generators (no framework runs
here): the cells per class against the explanation's numbers and a brute force of each kind's rule,
and the cells the chosen output cell reads against the reference engine (a one-hot input)."""

from __future__ import annotations

import math
import os
import time
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from convarith import ConvArithError
from convarith.api import map_call
from convarith.core.arith import output_shape
from convarith.core.op import place, split
from convarith.reference.layers import pad_sources
from convarith.reference.resize import filtered, sampling
from convarith.render import scene
from tests.differential import test_global_pool, test_padding, test_rearrange, test_resize, test_unpool
from tests.unit.test_draw import SVG, arguments, axis_classes, classes, corner_rule, grids

CALLS = {
    "pad": st.one_of(test_padding.torch_pads(), test_padding.keras_pads(), test_padding.onnx_pads()),
    "resize": st.one_of(
        test_resize.torch_calls(), test_resize.keras_calls(), test_resize.onnx_calls(), test_resize.tf_image_calls()
    ),
    "blocks": st.one_of(
        test_rearrange.shuffle_calls(), test_rearrange.block_calls(), test_rearrange.onnx_block_calls()
    ),
    "unfold_fold": st.one_of(test_rearrange.unfold_calls(), test_rearrange.fold_calls()),
    "reduce_window": test_rearrange.window_calls(),
    "global_separable": st.one_of(
        test_rearrange.separable_calls(),
        test_global_pool.onnx_globals(),
        test_global_pool.keras_globals().map(lambda case: case[:2]),
    ),
    "unpool": test_unpool.unpools().map(
        lambda case: (case[0], None, {"x": case[1], "idx": case[1]}) if case[3] else (case[0], case[1], None, case[2])
    ),
}  # torch, Keras, tf.nn, tf.image, ONNX and jax.lax spellings of every issue-8 layer kind
EXAMPLES = settings(
    max_examples=int(os.environ.get("CONVARITH_DRAW_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
WINDOWED = ("space_to_depth", "unfold", "min_pool", "sum_pool", "max_pool", "avg_pool", "lp_pool", "conv")
SCATTERED = ("fold", "max_unpool")


def resize_reads(op, axis: int) -> set[int]:
    """The input cells of a resize axis some output cell reads with a weight other than 0 (the engine's table)."""
    if op.in_size[axis] <= 0 or op.out_size[axis] <= 0:
        return set(range(op.in_size[axis]))  # an empty output: nothing drawn as dropped (as for windows)
    quirk = op.resize_arith == "torch" and op.antialias and op.out_size[-1] == 1 and op.in_size[0] != op.out_size[0]
    if axis == 0 and op.rank > 1 and quirk:
        return {0}  # the engine repeats row 0 (torch's vertical pass on a 1-wide output)
    cells, weights = filtered(op, axis) or sampling(op, axis)
    return set(cells[weights != 0].tolist())


def read_cells(f: dict, kind: str, mode: str, op, axis: int) -> list[str]:
    """One axis of the input grid: padding, then the input cells (dropped where nothing reads them)."""
    n, lo, hi = f["in"], f["pad_before"], f["pad_after"]
    if kind == "resize":
        read = resize_reads(op, axis)
        return ["input" if u in read else "dropped" for u in range(n)]
    if kind != "pad":
        return ["input"] * (f["blocks"] if kind == "fold" else n)
    source, inside = pad_sources(n, lo, hi, mode) if n else (np.zeros(0, int), np.zeros(0, bool))
    read = set(source[inside].tolist()) if f["out"] > 0 else set(range(n))  # an empty output: none dropped
    return (
        ["pad-before"] * max(lo, 0)
        + ["input" if u in read else "dropped" for u in range(n)]
        + ["pad-after"] * max(hi, 0)
    )


def result_cells(f: dict, kind: str) -> list[str]:
    """One axis of the output grid: the output, and for a scatter its buffer's cells cut per side."""
    if kind not in SCATTERED:
        return ["output"] * f["out"]
    n = f["blocks"] if kind == "fold" else f["in"]
    full = (n - 1) * f["stride"] + f["effective_kernel"]
    before, after = f["pad_before"], full - f["pad_before"] - f["out"]
    return ["pad-before"] * max(before, 0) + ["output"] * f["out"] + ["pad-after"] * max(after, 0)


def taps_wanted(f: dict, kind: str, at: int) -> int:
    """How many taps one axis of the chosen output cell has, by brute force over the kind's rule."""
    if kind == "pad" or kind == "depth_to_space":
        return 1
    if kind in SCATTERED:  # block (input cell) i adds offset t at i*s + t*d - lo
        n = f["blocks"] if kind == "fold" else f["in"]
        spots = [i * f["stride"] + t * f["dilation"] - f["pad_before"] for i in range(n) for t in range(f["kernel"])]
        return spots.count(at)
    return f["kernel"]


def grid_counts(grid) -> Counter:
    found = classes(grid)
    for name in ("kernel", "kernel excluded", "selected"):
        found.pop(name, None)
    return found


def tapped(grid) -> list[tuple[int, int]]:
    """The (row, column) grid positions of the cells under the kernel taps."""
    where = {(rect.get("x"), rect.get("y")): rect for rect in grid.iter(f"{SVG}rect") if rect.get("data-r")}
    cells = []
    for rect in grid.iter(f"{SVG}rect"):
        if rect.get("class", "").startswith("kernel"):
            cell = where[f"{float(rect.get('x')) - 2:g}", f"{float(rect.get('y')) - 2:g}"]
            cells.append((int(cell.get("data-r")), int(cell.get("data-c"))))
    return cells


@pytest.mark.parametrize("family", sorted(CALLS))
@given(data=st.data())
@EXAMPLES
def test_layer_cells_by_class_match_the_canonical_op(family, data):
    expr, shape, shapes, output_size = arguments(data.draw(CALLS[family], label="call"))
    try:
        explanation = convarith.explain(expr, shape, shapes=shapes, output_size=output_size)
    except ConvArithError as refusal:
        with pytest.raises(ConvArithError) as drawn:
            convarith.draw(expr, shape, shapes=shapes, output_size=output_size)
        assert str(drawn.value) == str(refusal)
        return
    options = {"shapes": shapes, "output_size": output_size}
    step = explanation.facts["steps"][0]
    kind, axes = step["kind"], step["axes"][:2]
    if not axes:
        with pytest.raises(ConvArithError, match="no spatial axis to draw"):
            convarith.draw(expr, shape, **options)
        return
    outs = [f["out"] for f in step["axes"]]
    at = tuple(data.draw(st.integers(0, max(out - 1, 0))) for out in outs) if min(outs) > 0 else None
    svg = convarith.draw(expr, shape, **options, at=at)
    found = grids(svg)
    mode = explanation.mapped.ops[0].pad_mode
    if kind in WINDOWED:
        sources = [axis_classes(f, kind, explanation.mapped.space_to_batch, mode)[0] for f in axes]
    else:
        op = explanation.mapped.ops[0]
        sources = [read_cells(f, kind, mode, op, a) for a, f in enumerate(axes)]
    results = [result_cells(f, kind) for f in axes]
    for role, strips in (("input", sources), ("output", results)):
        if len(strips) == 1:
            strips = [[role], *strips]
        want = Counter(corner_rule(r, c) for r in strips[0] for c in strips[1])
        grid = found[role]
        assert grid_counts(grid) == +want, f"{role} of {expr} {shape or shapes}"
        assert (int(grid.get("data-rows")), int(grid.get("data-cols"))) == (len(strips[0]), len(strips[1]))
        assert {name: int(grid.get(f"data-{name}")) for name in want} == dict(want)
    taps = len(tapped(found["input"]))
    if at is None:
        assert taps == 0 and "the output is empty" in convarith.draw(expr, shape, **options, fmt="ascii")
    elif kind != "resize" and not kind.startswith("adaptive"):  # resize: test_the_taps_are_the_cells_the_output_reads
        assert taps == math.prod(taps_wanted(f, kind, a) for f, a in zip(axes, at)), f"{expr} at={at}"


def one_hot_reads(expr, shape, shapes, at) -> tuple[set[tuple[int, ...]], set[tuple[int, ...]]]:
    """The input cells (spatial, first two axes) whose value changes output cell ``at``, and those that
    change no output cell (the reference engine run on a one-hot input: every batch, channel and
    undrawn axis set at that cell)."""
    mapped = map_call(expr, shape, shapes=shapes)
    op = mapped.ops[0]
    full = tuple(mapped.given_input_shape)
    batch, channels, spatial = split(op.in_spec, op.input_shape)
    name = None if shapes is None else next(iter(shapes))

    def run(x):
        y = convarith.forward(expr, x) if name is None else convarith.forward(expr, arrays={name: x})
        return np.asarray(y, dtype=np.float64).reshape(output_shape(op))  # the op's layout (unbatched: batch 1)

    index = [slice(None)] * (2 + op.rank)
    for axis, a in zip(op.out_spec[2:], at):
        index[axis] = a
    base = run(np.zeros(full, np.float32))  # the given shape holds the op's input as is (checked by the caller)
    reads, unread = set(), set()
    for cell in np.ndindex(*spatial[:2]):
        x = np.zeros(place(op.in_spec, batch, channels, spatial), np.float32)
        where = [slice(None)] * x.ndim
        for axis, c in zip(op.in_spec[2:], cell):
            where[axis] = c
        x[tuple(where)] = 1
        y = run(x.reshape(full))
        if not np.array_equal(y[tuple(index)], base[tuple(index)]):
            reads.add(cell)
        if np.array_equal(y, base):
            unread.add(cell)
    return reads, unread


def drawn_classes(svg: str, op) -> dict[tuple[int, ...], str]:
    """The class of each input cell (spatial index of the first two axes; padding left out)."""
    found = {}
    for rect in grids(svg)["input"].iter(f"{SVG}rect"):
        if rect.get("data-r") is None:
            continue
        position = (int(rect.get("data-r")), int(rect.get("data-c")))
        cell = tuple(g - max(lo, 0) for g, lo in zip(position if op.rank > 1 else position[1:], op.pad_lo))
        if all(0 <= u < n for u, n in zip(cell, op.in_size)):
            found[cell] = rect.get("class")
    return found


def drawn_reads(svg: str, op) -> set[tuple[int, ...]]:
    """The input cells the drawn taps name (a padding tap: the cell its copy mode reads)."""
    grid = grids(svg)["input"]
    found = set()
    for r, c in tapped(grid):
        cell = []
        for g, lo, n in zip((r, c) if op.rank > 1 else (c,), op.pad_lo, op.in_size):
            u = g - max(lo, 0)
            if not 0 <= u < n:
                if op.pad_mode == "zeros":
                    break
                u = convarith.core.arith.copy_source(u, n, op.pad_mode)
            cell.append(u)
        else:
            found.add(tuple(cell))
    return found


READ = {
    "pad": st.one_of(test_padding.torch_pads(True), test_padding.onnx_pads(True)),
    "resize": st.one_of(
        test_resize.torch_calls(True), test_resize.onnx_calls(True), test_resize.keras_calls(True),
        test_resize.tf_image_calls(True),
    ),
    "blocks": st.one_of(test_rearrange.shuffle_calls(), test_rearrange.block_calls()),
}  # fmt: skip


@pytest.mark.parametrize("family", sorted(READ))
@given(data=st.data())
@settings(EXAMPLES, max_examples=min(EXAMPLES.max_examples, 100))
def test_the_taps_are_the_cells_the_output_reads(family, data):
    """pad, resize, depth/space: the taps drawn over the input are the cells whose value reaches the
    chosen output cell in the reference engine (reflect/replicate padding: the cell it copies)."""
    expr, shape, shapes, _ = arguments(data.draw(READ[family], label="call"))
    try:
        mapped = map_call(expr, shape, shapes=shapes)
    except ConvArithError:
        assume(False)
    op = mapped.ops[0]
    outs = convarith.core.arith.output_spatial(op)
    assume(min(outs, default=0) > 0 and op.rank <= 2 and 0 < math.prod(mapped.given_input_shape) <= 512)
    assume(math.prod(op.input_shape) == math.prod(mapped.given_input_shape) and len(mapped.ops) == 1)
    assume(not (op.kind == "pad" and op.pad_mode == "circular" and min(op.pad_lo + op.pad_hi) < 0))
    at = tuple(data.draw(st.integers(0, out - 1)) for out in outs)
    svg = convarith.draw(expr, shape, shapes=shapes, at=at)
    reads, unread = one_hot_reads(expr, shape, shapes, at)
    assert drawn_reads(svg, op) == reads, f"{expr} {shape or shapes} at={at}"
    dropped = {cell for cell, name in drawn_classes(svg, op).items() if name == "dropped"}
    assert dropped == unread, f"{expr} {shape or shapes}: dropped cells"


GOLDEN = (
    ("pad_reflect", "nn.ReflectionPad2d((2, 1, 1, 0))", (1, 1, 3, 4), None, (1, 0)),
    ("crop", "keras.layers.Cropping2D(((1, 0), (2, 1)))", (1, 5, 6, 1), None, (2, 1)),
    ("resize_nearest", "nn.Upsample(scale_factor=(2, 1.5), mode='nearest')", (1, 1, 3, 4), None, (3, 4)),
    ("resize_bilinear", "tf.image.resize(x, (5, 7))", None, {"x": (1, 3, 4, 1)}, (2, 3)),
    ("pixel_shuffle", "nn.PixelShuffle(2)", (1, 8, 2, 3), None, (1, 3)),
    ("space_to_depth", "helper.make_node('SpaceToDepth', ['X'], ['Y'], blocksize=2)", None, {"X": (1, 1, 4, 6)}, (1, 2)),
    ("unfold", "nn.Unfold(kernel_size=(2, 3), padding=1, stride=2)", (1, 1, 4, 5), None, (1, 1)),
    ("fold", "nn.Fold((4, 5), kernel_size=2, dilation=(1, 2))", (1, 4, 9), None, (1, 2)),
    ("max_unpool", "nn.MaxUnpool2d(3, stride=2, padding=1)", (1, 1, 2, 3), None, (0, 1)),
    ("reduce_window_min", "lax.reduce_window(x, jnp.inf, lax.min, (2, 3), (2, 1), 'SAME')", None, {"x": (5, 4)}, None),
    ("global_average", "keras.layers.GlobalAveragePooling2D()", (1, 3, 4, 2), None, None),
    ("separable", "tf.nn.separable_conv2d(x, d, p, [1, 1, 1, 1], 'VALID')", None,
     {"x": (1, 4, 5, 2), "d": (3, 3, 2, 1), "p": (1, 1, 2, 4)}, None),
)  # fmt: skip


@pytest.mark.parametrize(("name", "expr", "shape", "shapes", "at"), GOLDEN, ids=[case[0] for case in GOLDEN])
def test_layer_drawings_golden(golden, name, expr, shape, shapes, at):
    golden(f"draw_layer_{name}.svg", convarith.draw(expr, shape, shapes=shapes, at=at))
    golden(f"draw_layer_{name}.txt", convarith.draw(expr, shape, shapes=shapes, at=at, fmt="ascii"))


def test_padding_says_what_it_copies_and_crops():
    text = convarith.draw("nn.ReflectionPad1d((2, 1))", (1, 1, 4), fmt="ascii")
    assert "reflect: padded cells are mirrored" in text and "before: input cells 2, 1; after: input cell 2" in text
    assert "cell 0 copies input cell 2" in text and "  Bbiiiia" in text
    text = convarith.draw("F.pad(x, (1, 0), mode='replicate')", shapes={"x": (1, 1, 3)}, fmt="ascii", at=2)
    assert "cell 2 is input cell 1" in text and "  biIi" in text
    crop = convarith.draw("nn.ZeroPad1d((-2, 1))", (1, 1, 5), fmt="ascii", at=1)
    assert "2 cropped cells drawn as dropped" in crop and "  xxiIia" in crop and "cell 1 is input cell 3" in crop
    assert "  xxiiiA" in convarith.draw("nn.ZeroPad1d((-2, 1))", (1, 1, 5), fmt="ascii", at=3)
    far = convarith.draw("nn.ReflectionPad1d((2, -4))", (1, 1, 5), fmt="ascii")
    assert "  Bbiiixx" in far  # cropped to cell 0, whose reflection reads cells 2 and 1: those are not dropped
    counts = grids(convarith.draw("nn.ZeroPad1d((-2, 1))", (1, 1, 5)))["input"]
    assert counts.get("data-dropped") == "2" and counts.get("data-pad-after") == "1"


def test_resize_marks_the_cells_the_output_reads():
    nearest = convarith.draw("keras.layers.UpSampling1D(3)", (1, 4, 1), fmt="ascii", at=7)
    assert "cell 7 reads input cell 2 (1)" in nearest and "  iiIi" in nearest
    linear = grids(convarith.draw("nn.Upsample(scale_factor=2, mode='bilinear')", (1, 1, 4, 4), at=(3, 4)))
    assert tapped(linear["input"]) == [(1, 1), (1, 2), (2, 1), (2, 2)]  # 2 x 2 neighbours, weights .25/.75
    huge = convarith.draw("nn.Upsample(scale_factor=2)", (1, 1, 10**6), fmt="ascii", at=5)
    assert "not worked out (over 65536 cells" in huge


def test_resize_quirk_of_torch_antialias_is_drawn():
    expr = "F.interpolate(x, size=(3, 1), mode='bilinear', antialias=True)"
    drawn = grids(convarith.draw(expr, shapes={"x": (1, 1, 2, 2)}, at=(2, 0)))["input"]
    assert drawn.get("data-dropped") == "2" and tapped(drawn) == [(0, 0), (0, 1)]  # row 0 only, as torch reads
    assert one_hot_reads(expr, None, {"x": (1, 1, 2, 2)}, (2, 0)) == ({(0, 0), (0, 1)}, {(1, 0), (1, 1)})


def test_unpool_and_fold_scatter_onto_the_output():
    unpool = convarith.draw("nn.MaxUnpool1d(3, stride=2, padding=1)", (1, 1, 3), fmt="ascii", at=1)
    assert "7 window cells ((n-1)*s + k_eff = (3-1)*2 + 3), pad 1 before, 1 after cut -> 5 cells" in unpool
    assert (
        "  IIi" in unpool
        and "  bo@oooa" in unpool
        and "stamps per column (a cell gets the product): 1 1 2 1 2 1 1" in unpool
    )
    fold = grids(convarith.draw("nn.Fold((3, 4), kernel_size=2)", (1, 4, 6), at=(1, 1)))
    assert len(tapped(fold["input"])) == 4  # the 2 x 2 blocks whose window covers image cell (1, 1)
    assert fold["output"].get("data-output") == "12" and fold["input"].get("data-input") == "6"


def test_notes_for_global_pools_channels_and_later_steps():
    text = convarith.draw("keras.layers.GlobalMaxPooling1D()", (2, 5, 3), fmt="ascii")
    assert "global pooling: one window over the whole input (keepdims=False" in text and "  IIIII" in text
    shuffle = convarith.draw("tf.nn.depth_to_space(x, 2)", shapes={"x": (1, 2, 2, 8)}, fmt="ascii", at=(1, 2))
    assert "output channel 0 of this cell is input channel 4 (DCR order)" in shuffle  # offset (1, 0): 2*2
    separable = convarith.draw("tf.nn.separable_conv2d(x, d, p, [1, 1, 1, 1], 'VALID')",
                               shapes={"x": (1, 4, 5, 2), "d": (3, 3, 2, 1), "p": (1, 1, 2, 4)}, fmt="ascii")  # fmt: skip
    assert "step 1 of 2 drawn; then conv (kernel 1x1, 2 -> 4 channels)" in separable
    window = convarith.draw("lax.reduce_window(x, 0.0, lax.add, (2,), (1,), [(1, 1)])", shapes={"x": (3,)}, fmt="ascii")
    assert "padding cells hold init_value 0" in window


def test_huge_layer_inputs_are_bounded():
    cases = [
        ("nn.ReflectionPad2d((10**6, 2, 0, 10**9))", (1, 1, 3 * 10**9, 4 * 10**6), None, None),
        ("nn.ZeroPad2d((-10**6, 5, 3, -10**9))", (1, 1, 3 * 10**9, 4 * 10**6), None, (5, 7)),
        ("nn.Upsample(scale_factor=3, mode='nearest')", (1, 1, 10**6, 10**7), None, (5, 10**7)),
        ("nn.Upsample(scale_factor=2, mode='bicubic')", (1, 1, 1000, 2000), None, (1999, 3999)),
        ("F.interpolate(x, size=(3, 5), mode='bilinear', antialias=True)", None, {"x": (1, 1, 10**9, 10**6)}, None),
        ("nn.PixelShuffle(3)", (1, 9, 10**8, 10**9), None, (5, 3 * 10**9 - 1)),
        ("nn.Fold((10**6, 10**7), kernel_size=3)", (1, 9, (10**6 - 2) * (10**7 - 2)), None, None),
        ("nn.MaxUnpool2d(3, stride=2)", (1, 1, 10**8, 10**9), None, (7, 9)),
        ("nn.Unfold(kernel_size=3)", (1, 1, 10**6, 10**7), None, None),
        ("keras.layers.GlobalMaxPooling2D()", (1, 10**6, 10**7, 3), None, None),
        ("lax.reduce_window(x, 0.0, lax.add, (2, 2), (2, 2), 'SAME')", None, {"x": (10**9, 10**9)}, None),
    ]
    for expr, shape, shapes, at in cases:
        began = time.perf_counter()
        svg = convarith.draw(expr, shape, shapes=shapes, at=at)
        text = convarith.draw(expr, shape, shapes=shapes, at=at, fmt="ascii")
        assert time.perf_counter() - began < 3, expr
        assert len(svg) < 800_000 and len(text) < 20_000, expr
        for grid in grids(svg).values():
            assert sum(rect.get("data-r") is not None for rect in grid.iter(f"{SVG}rect")) <= (scene.LIMIT + 1) ** 2
        assert "elided" in text, expr
