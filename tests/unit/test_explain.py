"""Explanations: golden text for representative calls, plus checks that do not
rely on the golden files (sums add up, JSON-ready, HTML escaped)."""

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convarith

TORCH_CASES = {
    "torch_conv2d_dilated": ("nn.Conv2d(3, 8, 3, stride=2, dilation=2, padding=(1, 0))", (1, 3, 32, 31)),
    "torch_conv2d_unreached": ("nn.Conv2d(3, 8, 5, stride=3, padding=(1, 0))", (1, 3, 32, 31)),
    "torch_conv1d_same": ("nn.Conv1d(2, 4, 4, padding='same')", (1, 2, 10)),
    "torch_conv_transpose2d": ("nn.ConvTranspose2d(3, 8, 3, stride=2, padding=1, output_padding=1)", (1, 3, 32, 32)),
    "torch_conv_transpose1d_dilated": ("nn.ConvTranspose1d(3, 8, 3, stride=2, padding=3, dilation=2)", (1, 3, 10)),
    "torch_maxpool_ceil": ("nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True)", (1, 3, 5, 6)),
    "torch_adaptive_avg_pool": ("nn.AdaptiveAvgPool2d((5, 7))", (1, 3, 32, 31)),
}
KERAS_SEED = (("valid", 1), ("valid", 2), ("same", 1), ("same", 2), ("same", 3))
KERAS_SEED_SHAPES = ((1, 98, 130, 3), (1, 193, 257, 3), (1, 96, 128, 3), (1, 192, 256, 3), (1, 288, 384, 3))


def seed_expr(padding: str, strides: int) -> str:
    return f"keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides={strides}, padding={padding!r})"


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_torch_golden(golden, name):
    expr, shape = TORCH_CASES[name]
    golden(f"explain_{name}", str(convarith.explain(expr, shape)))


MORE_CASES = {
    "tf_depthwise_space_to_batch": (
        DEPTHWISE_CALL := "tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], 'SAME', dilations=[2, 2])",
        None,
        {"x": (1, 5, 6, 3), "w": (3, 3, 3, 2)},
    ),
    "torch_conv1d_dilated_taps": ("nn.Conv1d(1, 1, 2, dilation=4, stride=8)", (1, 1, 16), None),
    "torch_avg_pool_divisor": ("nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)", (1, 1, 7, 6), None),
    "keras_avg_pool_same_divisor": ("keras.layers.AveragePooling2D(3, strides=2, padding='same')", (1, 7, 6, 1), None),
    "jax_conv_transpose_negative_pad": (
        "lax.conv_transpose(x, w, (3,), 'SAME')",
        None,
        {"x": (1, 5, 1), "w": (2, 1, 1)},
    ),
    "torch_conv1d_huge": ("nn.Conv1d(1, 1, 3, dilation=5, stride=7, padding=4)", (1, 1, 2**63 - 1), None),
}


@pytest.mark.parametrize("name", sorted(MORE_CASES))
def test_more_golden(golden, name):
    expr, shape, shapes = MORE_CASES[name]
    golden(f"explain_{name}", str(convarith.explain(expr, shape, shapes=shapes)))


def test_keras_seed_golden(golden):
    shapes = tuple(convarith.output_shape(seed_expr(p, s), (1, 96, 128, 3)) for p, s in KERAS_SEED)
    assert shapes == KERAS_SEED_SHAPES
    texts = [str(convarith.explain(seed_expr(p, s), (1, 96, 128, 3))) for p, s in KERAS_SEED]
    golden("explain_keras_seed", "\n\n".join(texts))


def all_axes(explanation):
    for step in explanation.to_dict()["steps"]:
        yield from step["axes"]


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_to_dict_is_json_ready(name):
    expr, shape = TORCH_CASES[name]
    data = convarith.explain(expr, shape).to_dict()

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(key, str) and plain(item) for key, item in value.items())
        if isinstance(value, list):
            return all(plain(item) for item in value)
        return value is None or isinstance(value, (str, int, float, bool))

    assert plain(data)
    assert json.loads(json.dumps(data)) == data
    assert data["shape"] == list(convarith.output_shape(expr, shape))
    assert data["input_shape"] == list(shape)


@pytest.mark.parametrize("name", ["torch_conv_transpose2d", "torch_conv_transpose1d_dilated"])
def test_transposed_forward_view_and_textbook_add_up(name):
    expr, shape = TORCH_CASES[name]
    for facts in all_axes(convarith.explain(expr, shape)):
        forward = facts["as_forward"]
        stuffed = (facts["in"] - 1) * facts["stride"] + 1
        assert forward["dilated_input"] == stuffed
        assert stuffed + forward["pad_before"] + forward["pad_after"] - facts["effective_kernel"] + 1 == facts["out"]
        textbook = facts["textbook"]
        assert textbook["value"] == (facts["in"] - 1) * facts["stride"] + facts["kernel"] - 2 * facts["pad_before"]
        assert textbook["value"] + textbook["differs_by"] == facts["out"]


def test_textbook_names_the_differing_terms():
    expr, shape = TORCH_CASES["torch_conv_transpose2d"]
    text = str(convarith.explain(expr, shape))
    assert "textbook (n-1)*s + f - 2p = (32-1)*2 + 3 - 2*1 = 63; differs by +1: output_padding 1: +1" in text
    dilated = str(convarith.explain(*TORCH_CASES["torch_conv_transpose1d_dilated"]))
    assert "differs by +2: dilation 2 widens the kernel to 5: +2" in dilated


def listed_cells(found: dict, n: int) -> set[int]:
    """The cells of the listed runs of an ``unreached`` fact."""
    cells = set()
    for run in found["runs"]:
        assert run.get("offsets_total", 0) == len(run.get("offsets", ())), "pattern cut short: use a smaller case"
        for i in range(run["start"], min(run["stop"], n)):
            if "period" not in run or any(a <= (i - run["start"]) % run["period"] < b for a, b in run["offsets"]):
                cells.add(i)
    return cells


def tap_gaps(facts: dict) -> set[int]:
    """Input cells no tap of any window lands on, by brute force."""
    taps = {
        j * facts["stride"] - facts["pad_before"] + t * facts["dilation"]
        for j in range(facts["out"])
        for t in range(facts["kernel"])
    }
    return set(range(facts["in"])) - taps


@pytest.mark.parametrize(
    ("expr", "shape"),
    [
        TORCH_CASES["torch_conv2d_dilated"],
        TORCH_CASES["torch_conv2d_unreached"],
        ("nn.Conv1d(1, 1, 2, dilation=4, stride=8)", (1, 1, 16)),
        ("nn.Conv1d(1, 1, 3, dilation=3, stride=5, padding=2)", (1, 1, 40)),
        ("nn.MaxPool1d(2, stride=5, dilation=2)", (1, 1, 23)),
    ],
)
def test_unreached_cells_are_those_no_tap_reaches(expr, shape):
    for facts in all_axes(convarith.explain(expr, shape)):
        expected = tap_gaps(facts)
        assert facts["unreached"]["count"] == len(expected)
        assert facts["unreached"]["runs_total"] == len(facts["unreached"]["runs"])  # all listed: small input
        assert listed_cells(facts["unreached"], facts["in"]) == expected


def test_the_dilated_issue_case_lists_12_cells():
    text = str(convarith.explain("nn.Conv1d(1, 1, 2, dilation=4, stride=8)", (1, 1, 16)))
    assert "input cells no kernel tap reaches (12): [1-3, 5-7, ... every 4 cells up to 15]" in text


def test_shown_input_is_the_one_given():
    unbatched = convarith.explain("F.conv2d(x, w)", shapes={"x": (3, 9, 9), "w": (4, 3, 3, 3)})
    assert unbatched.to_dict()["input_shape"] == [3, 9, 9]
    assert str(unbatched).splitlines()[1] == "input (3, 9, 9) -> output (4, 7, 7)"
    leading = convarith.explain("tf.nn.conv2d(x, w, 1, 'VALID')", shapes={"x": (2, 3, 8, 8, 4), "w": (3, 3, 4, 5)})
    assert str(leading).splitlines()[1] == "input (2, 3, 8, 8, 4) -> output (2, 3, 6, 6, 5)"
    module = convarith.explain("nn.Conv1d(3, 4, 3)", (3, 9))
    assert str(module).splitlines()[1] == "input (3, 9) -> output (4, 7)"


DEPTHWISE = "tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], 'SAME', dilations=[2, 2])"


def test_depthwise_space_to_batch_axes_agree_with_the_shape():
    explanation = convarith.explain(DEPTHWISE, shapes={"x": (1, 5, 6, 3), "w": (3, 3, 3, 2)})
    data = explanation.to_dict()
    assert data["shape"] == [1, 3, 4, 6]
    assert [axis["out"] for axis in data["steps"][0]["axes"]] == [3, 4]
    text = str(explanation)
    assert "height: 5 -> 3" in text and "width: 6 -> 4" in text
    assert "rows of 2 adjacent windows, one row every 4 cells" in text


def test_space_to_batch_unreached_cells():
    # rate 3, stride 2, VALID on width 4: 4 padded to 6, 3 blocks of 2, one output per block,
    # interleaved 3 minus the 2 added = 1 output: its taps are cells 0 and 3 (TF, measured)
    call = "tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], 'VALID', dilations=[1, 3])"
    width = list(all_axes(convarith.explain(call, shapes={"x": (1, 1, 4, 1), "w": (1, 2, 1, 1)})))[1]
    assert width["out"] == 1
    assert width["unreached"]["count"] == 2
    assert listed_cells(width["unreached"], 4) == {1, 2}


def test_negative_padding_is_a_crop_not_minus_minus():
    text = str(convarith.explain("lax.conv_transpose(x, w, (3,), 'SAME')", shapes={"x": (1, 5, 1), "w": (2, 1, 1)}))
    assert "- -" not in text and "+ -" not in text and "after -" not in text
    assert "cut from the full output: before 0, after 1 added (a negative pad adds cells)" in text
    assert "out = (5-1)*3 + 2 - 0 + 1 + 0 = 15" in text
    cropped = str(convarith.explain("lax.conv(x, w, (1,), ((-1, -2),))", shapes={"x": (1, 1, 9), "w": (1, 1, 2)}))
    assert "crop 1 before, crop 2 after" in cropped and "+ -" not in cropped
    assert "input cells no kernel tap reaches (3): 0, 7-8" in cropped


def test_average_pooling_says_which_windows_divide_by_fewer():
    text = str(convarith.explain("nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)", (1, 1, 5, 5)))
    assert "divisor (cells counted on this axis): 2 for window 0; 3 for windows 1-3; 2 for window 4" in text
    assert "divisor of a window: the product of its per-axis counts, from 4 to 9" in text
    same = str(convarith.explain("keras.layers.AveragePooling1D(3, strides=2, padding='same')", (1, 7, 1)))
    assert "divisor (cells counted on this axis): 2 for window 0; 3 for windows 1-2; 2 for window 3" in same
    counted = str(convarith.explain("nn.AvgPool1d(3, stride=1, padding=1)", (1, 1, 5)))
    assert "divisor (cells counted on this axis): 3 for windows 0-4" in counted


def test_adaptive_window_sizes_are_counted():
    text = str(convarith.explain("nn.AdaptiveAvgPool1d(3)", (1, 1, 5)))
    assert "window sizes 2 (2 windows) or 3 (1 window)" in text


def test_a_long_pattern_lists_its_first_ranges_and_says_how_many():
    text = str(convarith.explain("nn.Conv1d(1, 1, 40, dilation=3, stride=200)", (1, 1, 10**6)))
    assert "input cells no kernel tap reaches (" in text
    assert "(40 ranges in every 200 cells) up to" in text  # 39 gaps between the 40 taps, then 118-199


@pytest.mark.parametrize(
    ("expr", "shape"),
    [
        ("nn.Conv1d(1, 1, 1)", (1, 1, 10**8)),
        ("nn.Conv1d(1, 1, 1)", (1, 1, 2**63 - 1)),
        ("nn.Conv1d(1, 1, 3, stride=4, padding=1)", (1, 1, 2**63 - 1)),
        ("nn.Conv1d(1, 1, 3, dilation=5, stride=7, padding=4)", (1, 1, 2**63 - 1)),
        ("nn.Conv1d(1, 1, 3, dilation=100000, stride=3)", (1, 1, 2**63 - 1)),
        ("nn.Conv1d(1, 1, 3, dilation=2, padding=2, padding_mode='reflect')", (1, 1, 2**62)),
        ("nn.AdaptiveAvgPool1d(100000000)", (1, 1, 2**63 - 1)),
        ("nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)", (1, 1, 2**63 - 1, 2**62 + 1)),
    ],
)
def test_explain_is_fast_on_any_size(expr, shape):
    began = time.perf_counter()
    explanation = convarith.explain(expr, shape)
    text = str(explanation)
    json.dumps(explanation.to_dict())
    assert time.perf_counter() - began < 0.1
    assert len(text) < 4000


def test_repr_html_escapes():
    explanation = convarith.explain("nn.Conv1d(2, 4, 4, padding='same')", (1, 2, 10))
    html = explanation._repr_html_()
    assert html.count("<pre>") == 1 and html.count("</pre>") == 1 and "<svg" in html  # the text beside its picture
    inner = html[html.index("<pre>") + len("<pre>") : html.index("</pre>")]
    assert "<" not in inner and ">" not in inner and "'" not in inner
    assert "-&gt;" in inner and "&#x27;same&#x27;" in inner


def test_repr_is_short():
    assert (
        repr(convarith.explain("nn.Conv2d(3, 8, 3)", (1, 3, 8, 8)))
        == "<Explanation nn.Conv2d(3, 8, 3) -> (1, 8, 6, 6)>"
    )


SIZES = st.one_of(st.integers(0, 60), st.integers(0, 2**63 - 1), st.just(2**63 - 1))
PARAMS = st.one_of(st.integers(1, 9), st.integers(1, 2**62))


@st.composite
def huge_calls(draw):
    k, s, d, p = draw(PARAMS), draw(PARAMS), draw(PARAMS), draw(st.one_of(st.integers(0, 4), PARAMS))
    kind = draw(st.sampled_from(["conv", "avg", "max", "adaptive", "transpose", "lax", "depthwise"]))
    if kind == "conv":
        mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
        return f"nn.Conv1d(1, 1, {k}, {s}, {p}, {d}, padding_mode={mode!r})", (1, 1, draw(SIZES)), None
    if kind == "avg":
        flags = f"ceil_mode={draw(st.booleans())}, count_include_pad={draw(st.booleans())}"
        return f"nn.AvgPool2d({k}, {s}, {p}, {flags})", (1, 1, draw(SIZES), draw(SIZES)), None
    if kind == "max":
        return f"nn.MaxPool1d({k}, {s}, {p}, {d}, ceil_mode={draw(st.booleans())})", (1, 1, draw(SIZES)), None
    if kind == "adaptive":
        return f"nn.AdaptiveAvgPool1d({draw(PARAMS)})", (1, 1, draw(SIZES)), None
    if kind == "transpose":
        return f"nn.ConvTranspose1d(1, 1, {k}, {s}, {p}, dilation={d})", (1, 1, draw(SIZES)), None
    if kind == "lax":
        lo, hi = draw(st.integers(-(2**62), 2**62)), draw(st.integers(-9, 9))
        expr = f"lax.conv_general_dilated(x, w, ({s},), (({lo}, {hi}),), rhs_dilation=({d},))"
        return expr, None, {"x": (1, 1, draw(SIZES)), "w": (1, 1, k)}
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    expr = f"tf.nn.depthwise_conv2d(x, w, [1, {s}, {s}, 1], {padding!r}, dilations=[{d}, {draw(PARAMS)}])"
    return expr, None, {"x": (1, draw(SIZES), draw(SIZES), 1), "w": (k, draw(PARAMS), 1, 2)}


@given(huge_calls())
@settings(max_examples=300, deadline=None)
def test_explain_never_raises_but_convarith_error_and_stays_fast(case):
    expr, shape, shapes = case
    began = time.perf_counter()
    try:
        explanation = convarith.explain(expr, shape, shapes=shapes)
    except convarith.ConvArithError:
        return
    text, data = str(explanation), explanation.to_dict()
    assert time.perf_counter() - began < 0.25
    assert tuple(data["shape"]) == convarith.output_shape(expr, shape, shapes=shapes)
    assert len(text) < 6000
