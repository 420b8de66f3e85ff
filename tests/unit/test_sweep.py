"""convarith.sweep: the contract (grid order, shapes, ok, reason), its refusals, and
agreement with output_shape row by row in all five frameworks, refusals included."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convarith
from convarith import ConvArithError, output_shape, sweeps
from convarith.frameworks import torch as torch_rules


def answer(expr, arguments):
    """output_shape's shape as a list, or its refusal text."""
    try:
        return list(output_shape(expr, **arguments))
    except ConvArithError as error:
        return str(error)


def assert_row_agrees(result, i):
    expr, arguments = result.call(i)
    expected = answer(expr, arguments)
    if isinstance(expected, str):
        assert not result.ok[i], (expr, arguments)
        assert result.shapes[i].tolist() == [-1] * result.shapes.shape[1]
        assert result.reason(i) == expected
    else:
        assert result.ok[i], (expr, arguments, result.reason(i))
        assert result.shapes[i].tolist() == expected
        assert result.reason(i) is None


def test_rows_are_the_product_in_the_order_of_the_names():
    result = convarith.sweep("nn.Conv2d(3, 8, k, stride=2)", (1, 3, "h", "h"), h=[4, 5, 9], k=[1, 3])
    assert len(result) == 6
    assert result.grid["h"].tolist() == [4, 4, 5, 5, 9, 9]
    assert result.grid["k"].tolist() == [1, 3, 1, 3, 1, 3]
    assert result.shapes.tolist() == [
        [1, 8, 2, 2],
        [1, 8, 1, 1],
        [1, 8, 3, 3],
        [1, 8, 2, 2],
        [1, 8, 5, 5],
        [1, 8, 4, 4],
    ]
    assert result.ok.tolist() == [True] * 6
    assert result.shapes.dtype == np.int64 and result.ok.dtype == bool


def test_refused_rows_are_minus_one_with_output_shapes_reason():
    result = convarith.sweep("nn.MaxPool2d(2, padding=p)", (1, 3, 8, 8), p=[0, 1, 2])
    assert result.ok.tolist() == [True, True, False]
    assert result.shapes.tolist() == [[1, 3, 4, 4], [1, 3, 5, 5], [-1, -1, -1, -1]]
    with pytest.raises(ConvArithError) as refused:
        output_shape("nn.MaxPool2d(2, padding=2)", (1, 3, 8, 8))
    assert result.reason(2) == str(refused.value)
    assert result.reason(-1) == result.reason(2)
    assert result.reason(0) is None
    with pytest.raises(IndexError):
        result.reason(3)


def test_strings_and_bools_are_swept_and_the_grid_keeps_their_type():
    result = convarith.sweep("keras.layers.MaxPooling2D(2, padding=p)", (1, "h", 5, 3), p=["valid", "same"], h=[3, 4])
    assert result.shapes.tolist() == [[1, 1, 2, 3], [1, 2, 2, 3], [1, 2, 3, 3], [1, 2, 3, 3]]
    assert result.grid["p"].tolist() == ["valid", "valid", "same", "same"]
    flags = convarith.sweep("nn.MaxPool1d(3, 2, ceil_mode=c)", (1, 1, 8), c=[False, True])
    assert flags.grid["c"].dtype == bool and flags.shapes[:, 2].tolist() == [3, 4]


def test_a_name_both_in_the_call_and_the_shape_takes_one_value_per_row():
    result = convarith.sweep("nn.Conv1d(c, 4, 3)", (2, "c", 9), c=[1, 2])
    assert result.shapes.tolist() == [[2, 4, 7], [2, 4, 7]]


def test_named_shapes_and_dotted_names():
    result = convarith.sweep(
        "tf.nn.conv2d(x, w, s, 'SAME')", shapes={"x": (1, "h", 8, 3), "w": (3, 3, 3, 4)}, s=[1, 2], h=[5, 6]
    )
    assert result.shapes.tolist() == [[1, 5, 8, 4], [1, 6, 8, 4], [1, 3, 4, 4], [1, 3, 4, 4]]
    typed = convarith.sweep("nn.Conv1d(1, 1, k, dtype=torch.float32)", (1, 1, 4), k=[2])
    assert typed.shapes.tolist() == [[1, 1, 3]]


def test_a_sweep_with_no_row_kept():
    result = convarith.sweep("nn.Conv1d(1, 1, k)", (1, 1, 2), k=[3, 4])
    assert result.ok.tolist() == [False, False] and result.shapes.shape == (2, 0)
    assert "too small" in result.reason(0)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"k": [3]}, "the name h has no values in the grid"),
        ({"k": [3], "h": [4], "q": [1]}, "the grid entry q names nothing"),
        ({"k": [3.0], "h": [4]}, "grid entry k holds 3.0 (float)"),
        ({"k": [[1, 2]], "h": [4]}, "grid entry k holds [1, 2] (list)"),
        ({"k": [3], "h": [None]}, "h is an input size"),
        ({"k": [3], "h": ["4"]}, "h is an input size"),
        ({"k": [3], "h": [True]}, "h is an input size"),
        ({"k": 3, "h": [4]}, "is not a list of values"),
        ({"k": "same", "h": [4]}, "is not a list of values"),
        ({"k": [], "h": [4]}, "grid entry k is empty"),
        ({"k": range(1 << 11), "h": range(1 << 12)}, f"at most {sweeps.MAX_COMBINATIONS}"),
    ],
)
def test_refusals(grid, message):
    with pytest.raises(ConvArithError, match=re.escape(message)):
        convarith.sweep("nn.Conv1d(1, 1, k)", (1, 1, "h"), **grid)


def test_an_endless_grid_entry_is_refused():
    from itertools import count

    with pytest.raises(ConvArithError, match="at most"):
        convarith.sweep("nn.Conv1d(1, 1, k)", (1, 1, 8), k=count(1))


def test_import_convarith_loads_neither_numpy_nor_the_sweep_module():
    code = "import json, sys, convarith; print(json.dumps(['numpy' in sys.modules, 'convarith.sweeps' in sys.modules]))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(result.stdout) == [False, False]


# --- the vector path: every row of adversarial grids (zeros, negatives, refusals) --------------------------------

VECTOR_CASES = [
    (
        "nn.Conv2d(3, 8, k, stride=s, padding=p, dilation=d)",
        (2, 3, "h", "w"),
        {"h": range(-1, 9), "w": [1, 5], "k": range(-1, 5), "s": range(-1, 4), "p": range(-2, 4), "d": range(0, 3)},
    ),
    (
        "torch.nn.Conv1d(2, 4, (k,), stride=[s], padding=p, dilation=d)",
        (2, "h"),
        {"h": range(0, 9), "k": range(0, 5), "s": range(0, 3), "p": ["same", "valid", 1], "d": range(0, 3)},
    ),
    (
        "nn.ConvTranspose2d(3, 8, (k, 2), stride=s, padding=p, output_padding=o, dilation=d)",
        (2, 3, "h", 4),
        {
            "h": range(-1, 7),
            "k": range(-1, 5),
            "s": range(0, 4),
            "p": range(-1, 4),
            "o": range(-1, 3),
            "d": range(0, 3),
        },
    ),
    (
        "nn.ConvTranspose1d(1, 2, k, stride=s, padding=p)",
        (1, "h"),
        {"h": range(0, 6), "k": range(1, 4), "s": range(1, 4), "p": range(0, 4)},
    ),
    (
        "nn.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=c)",
        (1, 3, "h", "w"),
        {
            "h": range(-1, 9),
            "w": [3],
            "k": range(-1, 5),
            "s": range(-1, 4),
            "p": range(-1, 4),
            "d": range(0, 3),
            "c": [False, True],
        },
    ),
    (
        "nn.AvgPool3d(k, stride=s, padding=p, ceil_mode=c)",
        (3, "h", 4, 5),
        {"h": range(0, 9), "k": range(0, 5), "s": range(0, 3), "p": range(-1, 3), "c": [False, True]},
    ),
    (
        "nn.AvgPool1d(k, s, p, c, i)",
        (1, 2, "h"),
        {"h": range(0, 9), "k": range(0, 5), "s": [None, 1, 2], "p": range(-1, 3), "c": [True, False], "i": [True]},
    ),
]


@pytest.mark.parametrize(("expr", "shape", "grid"), VECTOR_CASES, ids=[case[0] for case in VECTOR_CASES])
def test_vector_rows_all_equal_output_shape(expr, shape, grid):
    result = convarith.sweep(expr, shape, **grid)
    assert result.exact_rows < len(result) // 4  # the arrays, not the exact path, gave the rows
    for i in range(len(result)):
        assert_row_agrees(result, i)


def test_large_vector_sweeps_are_checked_in_chunks(monkeypatch):
    monkeypatch.setattr(sweeps, "CHUNK_ROWS", 64)
    result = convarith.sweep(
        "nn.Conv2d(1, 2, k, stride=s, padding=p)", (1, 1, "h", "w"), h=range(1, 40), w=range(1, 9), k=range(1, 6),
        s=range(1, 4), p=range(0, 3),
    )  # fmt: skip
    assert result.exact_rows <= 2 * (len(result) // 64 + 64)
    for i in np.random.default_rng(0).choice(len(result), 500, replace=False):
        assert_row_agrees(result, int(i))


def test_a_disagreement_in_a_later_chunk_discards_the_earlier_chunks(monkeypatch):
    monkeypatch.setattr(sweeps, "CHUNK_ROWS", 2)
    rule = torch_rules.ConvPlan.sweep_conv

    def wrong(got, *rest):  # keeps h=2 (refused: unchecked in its chunk) and refuses h=5 (then checked)
        sizes, refused, unsure = rule(got, *rest)
        n = got["n"][0]
        return sizes, refused & (n != 2) | (n == 5), unsure

    monkeypatch.setattr(torch_rules.ConvPlan, "sweep_conv", staticmethod(wrong))
    result = convarith.sweep("nn.Conv1d(1, 1, 3)", (1, 1, "h"), h=[3, 2, 5])
    assert result.shapes[:, 2].tolist() == [1, -1, 3]
    assert result.ok.tolist() == [True, False, True]


def test_a_rule_that_disagrees_falls_back_to_the_exact_path(monkeypatch):
    monkeypatch.setattr(
        torch_rules.ConvPlan, "sweep_conv", staticmethod(lambda got, *rest: ([n + 1 for n in got["n"]], False, False))
    )
    result = convarith.sweep("nn.Conv1d(1, 1, 3)", (1, 1, "h"), h=range(1, 6))
    assert result.shapes[:, 2].tolist() == [-1, -1, 1, 2, 3]
    assert result.exact_rows == 6  # the check found the disagreement, then every row was asked


# --- property: random grids in all five frameworks, random rows against output_shape -----------------------------

SIZES = st.lists(st.integers(-1, 12), min_size=1, max_size=4, unique=True)
SMALL = st.lists(st.integers(-1, 4), min_size=1, max_size=3, unique=True)
TEMPLATES = {
    "torch": [
        ("nn.Conv2d(4, 6, k, stride=s, padding=p, groups=g)", (1, 4, "h", "w"), {"k": SMALL, "s": SMALL, "p": SMALL, "g": SMALL}),
        ("nn.ConvTranspose1d(2, 2, k, s, p, o)", ("b", 2, "h"), {"k": SMALL, "s": SMALL, "p": SMALL, "o": SMALL, "b": SMALL}),
        ("nn.LPPool1d(2, k, s)", (1, 1, "h"), {"k": SMALL, "s": SMALL}),
        ("F.avg_pool2d(x, k, s, p)", None, {"k": SMALL, "s": SMALL, "p": SMALL}),
    ],
    "keras": [
        ("keras.layers.Conv2D(4, k, strides=s, padding=m)", (1, "h", "w", 3), {"k": SMALL, "s": SMALL, "m": st.just(["valid", "same", "causal"])}),
        ("layers.Conv1DTranspose(2, k, strides=s, padding=m)", (1, "h", 2), {"k": SMALL, "s": SMALL, "m": st.just(["valid", "same"])}),
        ("keras.layers.AveragePooling1D(k, s, m)", (2, "h", 3), {"k": SMALL, "s": SMALL, "m": st.just(["valid", "same"])}),
    ],
    "tf_nn": [
        ("tf.nn.conv2d(x, w, s, m, dilations=d)", None, {"s": SMALL, "m": st.just(["SAME", "VALID"]), "d": SMALL}),
        ("tf.nn.max_pool1d(x, k, s, m)", None, {"k": SMALL, "s": SMALL, "m": st.just(["SAME", "VALID"])}),
    ],
    "jax_lax": [
        ("lax.conv_general_dilated(x, w, (s, 1), m, rhs_dilation=(d, 1))", None, {"s": SMALL, "m": st.just(["SAME", "VALID", "SAME_LOWER"]), "d": SMALL}),
        ("lax.conv_transpose(x, w, (s, 1), m, dimension_numbers=('NCHW', 'OIHW', 'NCHW'))", None, {"s": SMALL, "m": st.just(["SAME", "VALID"])}),
    ],
    "onnx": [
        ("onnx.helper.make_node('Conv', ['X', 'W'], ['Y'], strides=[s], pads=[a, b], auto_pad=m)", None, {"s": SMALL, "a": SMALL, "b": SMALL, "m": st.just(["NOTSET", "SAME_UPPER"])}),
        ("make_node('MaxPool', ['X'], ['Y'], kernel_shape=[k, k], strides=[s, 1], ceil_mode=c)", None, {"k": SMALL, "s": SMALL, "c": st.just([0, 1])}),
    ],
}  # fmt: skip
NAMED = {
    "F.avg_pool2d(x, k, s, p)": {"x": (1, 2, "h", "w")},
    "tf.nn.conv2d(x, w, s, m, dilations=d)": {"x": (1, "h", "w", 2), "w": (3, 2, 2, 3)},
    "tf.nn.max_pool1d(x, k, s, m)": {"x": (1, "h", 2)},
    "lax.conv_general_dilated(x, w, (s, 1), m, rhs_dilation=(d, 1))": {"x": (1, 2, "h", "w"), "w": (3, 2, 2, 1)},
    "lax.conv_transpose(x, w, (s, 1), m, dimension_numbers=('NCHW', 'OIHW', 'NCHW'))": {"x": (1, 2, "h", 3), "w": (3, 2, "k", 1)},
    "onnx.helper.make_node('Conv', ['X', 'W'], ['Y'], strides=[s], pads=[a, b], auto_pad=m)": {"X": (1, 2, "h"), "W": (3, 2, 3)},
    "make_node('MaxPool', ['X'], ['Y'], kernel_shape=[k, k], strides=[s, 1], ceil_mode=c)": {"X": (1, 1, "h", "w")},
}  # fmt: skip
CASES = [(framework, *case) for framework, cases in TEMPLATES.items() for case in cases]


@st.composite
def grids(draw):
    framework, expr, shape, strategies = draw(st.sampled_from(CASES))
    named = NAMED.get(expr)
    entries = {entry for item in (shape or (), *(named or {}).values()) for entry in item if isinstance(entry, str)}
    grid = {name: draw(strategy) for name, strategy in strategies.items()}
    grid |= {name: draw(SIZES) for name in sorted(entries)}
    order = draw(st.permutations(sorted(grid)))
    return expr, shape, named, {name: grid[name] for name in order}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids(), st.randoms(use_true_random=False))
def test_random_rows_equal_output_shape_in_every_framework(case, random):
    expr, shape, named, grid = case
    result = convarith.sweep(expr, shape, shapes=named, **grid)
    assert len(result) == int(np.prod([len(values) for values in grid.values()]))
    for i in random.sample(range(len(result)), min(len(result), 12)):
        assert_row_agrees(result, i)
        values = {name: result.grid[name].tolist()[i] for name in grid if name not in (named or {})}
        assert result.call(i)[0] == expr_with(expr, values)


def expr_with(expr, values):
    """The call with the values put in, by a plain rewrite of the names (the test's own substitution)."""
    return re.sub(r"(?<![\w.'])([a-z])(?![\w.'(])", lambda m: repr(values[m[1]]) if m[1] in values else m[1], expr)


def test_the_five_frameworks_are_covered():
    assert set(TEMPLATES) == set(convarith.frameworks.MODULES)


def test_names_outside_ascii_and_calls_over_several_lines():
    result = convarith.sweep("nn.Conv1d(3, 8, ķé,\n  stride=s)", (1, 3, "h"), **{"ķé": [1, 3]}, s=[2], h=[5])
    assert result.call(1)[0] == "nn.Conv1d(3, 8, 3,\n  stride=2)"
    assert result.shapes.tolist() == [[1, 8, 3], [1, 8, 2]]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((123,), {}, "expr must be a string"),
        (("nn.Conv2d(3, 8, k[0])",), {"k": [1]}, "a subscript is not allowed here"),
        (("nn.Conv2d(3, 8, k(1))",), {"k": [1]}, "grid entry k names nothing"),  # a called name is not swept
        (("nn.Conv2d(3, 8, k)",), {"k": [1], "shapes": 5}, "shapes must be a dict"),
    ],
)
def test_bad_calls_are_refused_up_front(args, kwargs, message):
    with pytest.raises(ConvArithError, match=re.escape(message)):
        convarith.sweep(*args, **kwargs)


def test_a_bad_input_refuses_every_row_with_output_shapes_text():
    result = convarith.sweep("nn.Conv2d(3, 8, k)", (1, 3, 8.5, 8), k=[1, 2])
    assert not result.ok.any() and "input_shape holds 8.5 (float)" in result.reason(1)


def test_channel_names_group_the_rows_and_sizes_stay_arrays():
    result = convarith.sweep("nn.Conv2d(c, 4, k, groups=2)", (1, "c", "h", 6), c=[2, 3, 4], h=range(1, 40), k=[1, 3])
    # two groups on arrays (one kept and one refused row checked each); the 3-channel group, refused
    # whatever h and k are, fails its check and is asked row by row
    assert result.exact_rows <= 2 * 2 + 1 + 39 * 2
    assert result.ok.reshape(3, 39, 2)[1].sum() == 0  # 3 channels do not split into 2 groups
    for i in range(len(result)):
        assert_row_agrees(result, i)


# --- the vector path in every framework: the plans' own rules over arrays, every row checked ---------------------

FRAMEWORK_VECTOR_CASES = [
    # (call, input_shape, shapes, grid)
    ("keras.layers.Conv2D(4, k, strides=s, padding=m, dilation_rate=d)", (2, "h", "w", 3), None,
     {"h": range(-1, 9), "w": [1, 5], "k": range(-1, 5), "s": range(-1, 4), "d": range(0, 3), "m": ["valid", "same"]}),
    ("keras.layers.Conv2D(4, k, strides=s, padding=m, groups=2)", (0, "h", "w", 4), None,
     {"h": range(0, 9), "w": [0, 5], "k": range(-1, 5), "s": range(-1, 4), "m": ["valid", "same"]}),
    ("keras.layers.Conv1D(4, k, strides=s, padding='causal', dilation_rate=d)", (2, "h", 3), None,
     {"h": range(0, 9), "k": range(0, 5), "s": range(0, 3), "d": range(0, 3)}),
    ("layers.Conv2DTranspose(2, k, strides=s, padding=m, output_padding=o)", (1, "h", 3, 2), None,
     {"h": range(0, 7), "k": range(0, 5), "s": range(0, 4), "o": range(-1, 3), "m": ["valid", "same"]}),
    ("layers.Conv3DTranspose(2, k, strides=s, padding=m)", (1, "h", 3, 2, 2), None,
     {"h": range(0, 7), "k": range(0, 5), "s": range(0, 4), "m": ["valid", "same"]}),
    ("layers.Conv1DTranspose(2, k, strides=s, padding=m, dilation_rate=d)", (1, "h", 2), None,
     {"h": range(0, 7), "k": range(0, 5), "s": range(0, 4), "d": range(0, 3), "m": ["valid", "same"]}),
    ("keras.layers.MaxPooling2D(k, s, m)", (2, "h", 5, 3), None,
     {"h": range(0, 9), "k": range(-1, 5), "s": range(0, 4), "m": ["valid", "same"]}),
    ("keras.layers.AveragePooling3D(k, s, m, data_format='channels_first')", (2, 3, "h", 5, 3), None,
     {"h": range(0, 9), "k": range(0, 5), "s": range(0, 4), "m": ["valid", "same"]}),
    ("tf.nn.conv2d(x, w, s, m, dilations=d)", None, {"x": (1, "h", 5, 2), "w": ("k", 2, 2, 3)},
     {"h": range(0, 9), "k": range(0, 5), "s": range(0, 4), "d": range(0, 3), "m": ["SAME", "VALID"]}),
    ("tf.nn.conv1d(x, w, s, m, dilations=d)", None, {"x": (0, "h", 2), "w": ("k", 2, 3)},
     {"h": range(0, 9), "k": range(0, 5), "s": range(0, 4), "d": range(0, 3), "m": ["SAME", "VALID"]}),
    ("tf.nn.conv3d(x, w, [1, s, 1, 1, 1], m, dilations=[1, d, 1, 1, 1])", None,
     {"x": (1, "h", 2, 2, 2), "w": ("k", 1, 1, 2, 3)},
     {"h": range(0, 7), "k": range(0, 4), "s": range(0, 3), "d": range(0, 3), "m": ["SAME", "VALID"]}),
    ("tf.nn.max_pool3d(x, [1, k, 2, 1, 1], s, m)", None, {"x": (1, "h", 3, 2, 2)},
     {"h": range(0, 9), "k": range(0, 5), "s": range(0, 4), "m": ["SAME", "VALID"]}),
    ("tf.nn.avg_pool(x, [k, 1], [s, 1], m)", None, {"x": (1, "h", 3, 2)},
     {"h": range(0, 9), "k": range(0, 5), "s": range(0, 4), "m": ["SAME", "VALID"]}),
    ("lax.conv_general_dilated(x, w, (s, 1), m, rhs_dilation=(d, 1))", None, {"x": (1, 2, "h", 3), "w": (3, 2, "k", 1)},
     {"h": range(0, 9), "k": range(0, 5), "s": range(0, 4), "d": range(0, 3), "m": ["SAME", "VALID", "SAME_LOWER"]}),
    ("lax.conv_general_dilated(x, w, (s, 1), [(a, b), (0, 0)], lhs_dilation=(l, 1))", None,
     {"x": (1, 2, "h", 3), "w": (3, 2, "k", 1)},
     {"h": range(0, 7), "k": range(0, 4), "s": range(1, 3), "a": range(-3, 2), "b": range(-1, 2), "l": range(0, 3)}),
    ("lax.conv_general_dilated(x, w, (1, 1), [(a, 0), (0, 0)], lhs_dilation=(1, l))", None,
     {"x": (1, 1, "h", "g"), "w": (1, 1, "k", 2)},
     {"h": range(0, 5), "g": range(1, 5), "k": range(0, 4), "a": range(0, 2), "l": range(1, 3)}),  # the XLA abort
    ("lax.conv_transpose(x, w, (s, 1), m, dimension_numbers=('NCHW', 'OIHW', 'NCHW'))", None,
     {"x": (1, 2, "h", 3), "w": (3, 2, "k", 1)},
     {"h": range(0, 7), "k": range(0, 5), "s": range(0, 4), "m": ["SAME", "VALID", "SAME_LOWER"]}),
    ("lax.conv_transpose(x, w, (s, 1), [(a, b), (0, 0)], rhs_dilation=(d, 1))", None,
     {"x": (1, "h", 3, 2), "w": ("k", 1, 2, 3)},
     {"h": range(0, 6), "k": range(0, 4), "s": range(1, 4), "a": range(-3, 2), "b": range(-2, 2), "d": [1, 2]}),
    ("tf.nn.conv2d(x, w, s, 'VALID', dilations=p)", None, {"x": (1, "h", "w", 3), "w": ("k", "k", 3, 8)},
     {"h": range(1, 6), "w": range(1, 6), "k": [1, 2], "s": [1, 2], "p": [1, 2]}),  # w: a tensor and a width
    ("lax.conv_general_dilated(x, w, (s, s), [(p, p), (p, p)])", None, {"x": (1, 3, "h", "w"), "w": (8, 3, "k", "k")},
     {"h": range(1, 6), "w": range(1, 6), "k": [1, 2], "s": [1, 2], "p": [0, 1]}),
    ("onnx.helper.make_node('Conv', ['X', 'W'], ['Y'], strides=[s], pads=[a, b], dilations=[d])", None,
     {"X": (1, 2, "h"), "W": (3, 2, "k")},
     {"h": range(0, 9), "k": range(-1, 5), "s": range(-1, 4), "a": range(-1, 3), "b": range(0, 3), "d": range(0, 3)}),
    ("onnx.helper.make_node('Conv', ['X', 'W'], ['Y'], strides=[s, 1], auto_pad=m, dilations=[d, 1])", None,
     {"X": (1, 2, "h", 3), "W": (3, 2, "k", 2)},
     {"h": range(0, 9), "k": range(-1, 5), "s": range(-1, 4), "d": range(0, 3),
      "m": ["SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET"]}),
    ("make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[s], pads=[a, b], output_padding=[o], dilations=[d])",
     None, {"X": (1, 2, "h"), "W": (2, 3, "k")},
     {"h": range(0, 6), "k": range(0, 4), "s": range(0, 4), "a": range(-1, 3), "b": range(0, 2), "o": range(-1, 3),
      "d": range(0, 3)}),
    ("make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[s, s, 1], auto_pad=m, output_padding=[o, 0, 0])", None,
     {"X": (1, 2, "h", 2, 3), "W": (2, 3, "k", 1, 2)},
     {"h": range(0, 5), "k": range(0, 4), "s": range(0, 4), "o": range(0, 3), "m": ["SAME_UPPER", "SAME_LOWER", "VALID"]}),
    ("make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[s, s, 1])", None,
     {"X": ("z", 2, "h", "g", 3), "W": (2, 3, 1, 1, 2)},
     {"h": range(0, 4), "g": range(0, 3), "s": range(1, 3), "z": [0, 1]}),  # the 3-D crash, with and without a batch
    ("make_node('MaxPool', ['X'], ['Y'], kernel_shape=[k, k], strides=[s, 1], ceil_mode=c, pads=[a, 0, b, 0], "
     "dilations=[d, 1])", None, {"X": (1, 1, "h", 4)},
     {"h": range(0, 9), "k": range(0, 5), "s": range(0, 4), "a": range(-1, 3), "b": range(0, 3), "d": range(0, 3),
      "c": [0, 1]}),
    ("make_node('MaxPool', ['X'], ['Y'], kernel_shape=[k], strides=[s], auto_pad=m, dilations=[d])", None,
     {"X": (0, 1, "h")},
     {"h": range(0, 9), "k": range(0, 5), "s": range(0, 5), "d": range(0, 3), "m": ["SAME_UPPER", "SAME_LOWER", "VALID"]}),
    ("make_node('AveragePool', ['X'], ['Y'], kernel_shape=[k, 2, 1], strides=[s, 1, 1], auto_pad=m, ceil_mode=c)",
     None, {"X": (2, 1, "h", 3, 2)},
     {"h": range(0, 9), "k": range(0, 5), "s": range(0, 5), "c": [0, 1], "m": ["SAME_UPPER", "NOTSET"]}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("expr", "shape", "named", "grid"), FRAMEWORK_VECTOR_CASES, ids=[case[0] for case in FRAMEWORK_VECTOR_CASES]
)
def test_every_framework_vector_rows_equal_output_shape(expr, shape, named, grid):
    result = convarith.sweep(expr, shape, shapes=named, **grid)
    assert result.vector_rows >= 0.85 * len(result)  # the plan's rule over arrays gave the rows
    assert result.exact_rows <= 0.15 * len(result) + 4
    for i in range(len(result)):
        assert_row_agrees(result, i)


def test_each_framework_module_offers_a_vector_rule_and_sweeps_names_none():
    from importlib import import_module

    for name in convarith.frameworks.MODULES:
        assert callable(import_module(f"convarith.frameworks.{name}").vector_rule)
    assert not [name for name in vars(sweeps) if name.endswith("_rule") and name != "vector_rule"]


def test_a_call_without_a_vector_rule_is_asked_row_by_row():
    result = convarith.sweep("nn.AdaptiveAvgPool1d(o)", (1, 2, "h"), o=[1, 2, 3], h=range(0, 5))
    assert result.vector_rows == 0 and result.exact_rows == len(result)
    for i in range(len(result)):
        assert_row_agrees(result, i)


@pytest.mark.parametrize(
    ("expr", "shape", "named"),
    [
        ("nn.ConvTranspose1d(1, 1, k, stride=s, dilation=d)", (1, 1, "h"), None),
        ("keras.layers.Conv1DTranspose(1, k, strides=s, dilation_rate=d)", (1, "h", 1), None),
        ("make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[s], dilations=[d])", None, {"X": (1, 1, "h"), "W": (1, 1, "k")}),
        ("lax.conv_general_dilated(x, w, (s,), [(d, d)], lhs_dilation=(d,), dimension_numbers=('NWC', 'WIO', 'NWC'))",
         None, {"x": (1, "h", 1), "w": ("k", 1, 1)}),
        ("tf.nn.conv1d(x, w, s, 'VALID', dilations=d)", None, {"x": (1, "h", 1), "w": ("k", 1, 1)}),
    ],
)  # fmt: skip
def test_sizes_near_the_vector_limit_stay_exact(expr, shape, named):
    big = sweeps.VECTOR_LIMIT - 1
    grid = {"h": [big, 2, 0], "k": [big, 3], "s": [big, 1], "d": [big, 1]}
    result = convarith.sweep(expr, shape, shapes=named, **grid)
    for i in range(len(result)):
        assert_row_agrees(result, i)
