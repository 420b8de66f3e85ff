"""parse: the fast reader and the ast reader agree on every text the fast reader accepts.

The fast reader (one regex and a recursive-descent parser) answers the common text and
leaves the rest to the ast reader (ast.parse and the whitelist), which gives every refusal.
Checked here on hypothesis-generated call text (valid, near-valid and mutated), on every
call string written in the test suite and the fuzz strategies, and on the spellings this
grammar is for. Values are compared with their types (True == 1 and 1.0 == 1 in Python).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from convarith import ConvArithError
from convarith.ast_reader import read_ast
from convarith.parse import Call, Expression, List, Name, ShapeRef, Unread, parse_call, read_fast
from tests.fuzz.strategies import expressions

TESTS = Path(__file__).resolve().parents[1]


def typed(value):
    """``value`` with every type spelled out, so a bool never equals an int nor a tuple a list."""
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(typed(item) for item in value))
    if isinstance(value, Call):
        return ("Call", value.name, typed(value.args), tuple((k, typed(v)) for k, v in value.kwargs), value.text)
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def outcome(reader, text):
    try:
        return typed(reader(text))
    except ConvArithError as error:
        return ("refused", str(error))


def check_agreement(text: str) -> bool:
    """The fast reader's call equals the ast reader's, or it leaves the text to the ast reader;
    parse_call gives the ast reader's answer. True when the fast reader answered."""
    stripped = text.strip()
    try:
        fast = read_fast(stripped)
    except (Unread, ConvArithError, RecursionError, IndexError):
        fast = None
    slow = outcome(read_ast, stripped) if stripped else None
    if fast is not None:
        assert typed(fast) == slow, stripped
    if stripped and len(text) <= 4000:
        assert outcome(parse_call.__wrapped__, text) == slow, stripped
    return fast is not None


# -- generated text ---------------------------------------------------------------------------------

space = st.sampled_from(["", "", "", " ", "  ", "\n", "\t", " \n  ", "\r\n", "\x0c", "\\\n", " # c\n", "\xa0"])
names = st.sampled_from(["x", "w", "k", "in_channels", "nn.Conv2d", "torch.float32", "a.b.c", "_", "é", "if",
                         "None", "True", "False", "lambda", "match", "x1", "print", "cfg.k", "ﬁ"])  # fmt: skip
numbers = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.integers(0, 300).map(str),
    st.sampled_from(
        [
            "0",
            "00",
            "007",
            "0_0",
            "1_000",
            "1__0",
            "1_",
            "0x10",
            "0X1f",
            "0o17",
            "0b101",
            "0x",
            "1j",
            "1e-4",
            "1E+5",
            "1e400",
            ".5",
            "5.",
            "1.5e3",
            "1_0.5",
            "1.real",
            "0xe-1",
            "1e",
            "9" * 30,
            "0x" + "f" * 20,
            "2.",
            "1..2",
            "3e-0_1",
        ]
    ),  # fmt: skip
    st.floats(allow_nan=False).map(repr),
)
strings = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=6).map(repr),
    st.text(max_size=6).map(lambda s: "'" + s + "'"),
    st.text(max_size=6).map(lambda s: '"' + s + '"'),
    st.sampled_from(
        [
            "'same'",
            '"valid"',
            "r'\\d'",
            "b'x'",
            "f'{x}'",
            "u'a'",
            "'a' 'b'",
            "'''t'''",
            "'\\n'",
            "'\\N{BOGUS}'",
            "'#'",
            "'a",
            "'\\''",
            '"\\""',
        ]
    ),  # fmt: skip
)
shape_refs = st.sampled_from(["tf.shape(y)", "y.shape", "y.size()", "y.size(2)", "x.shape[1:3]", "x.shape[2]",
                              "x.shape[-2:]", "x.shape[::2]", "x.shape[::0]", "tf.shape(x)[0]", "x.shape[k]",
                              "x.shape[1, 2]", "x.shape[:]", "y.size()[2:]", "x.shape[1][0]", "np.shape(y)",
                              "tf.shape(y, out_type=1)", "f(x).shape", "x.shape.as_list()"])  # fmt: skip
operators = st.sampled_from([" + ", "-", " * ", " // ", " % ", " ** ", " / ", " @ ", " << ", "+-", " and ", " < "])


clean_space = st.sampled_from(["", "", " ", "\n    "])
clean_names = st.sampled_from(["x", "w", "k", "in_channels", "torch.float32", "a.b.c", "_", "None", "True", "cfg.k"])
clean_ints = st.one_of(st.integers(0, 9), st.integers(0, 9), st.integers(0, 2**40)).map(str)
clean_numbers = st.one_of(
    clean_ints,
    st.integers(-(2**64), 2**64).map(str),
    st.sampled_from(["0", "00", "0_0", "1_000", "0x10", "0o17", "0b101", "1e-4", "1E+5", "1e400", ".5", "5.", "2."]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
clean_strings = st.text(st.characters(categories=("L", "N", "P", "Zs"), exclude_characters="\\'\""), max_size=6)
valid_refs = st.sampled_from(["tf.shape(y)", "y.shape", "y.size()", "y.size(2)", "x.shape[1:3]", "x.shape[-2:]",
                              "x.shape[::2]", "tf.shape(x)[0]", "np.shape(y)", "x.shape[:]", "y.size()[2:]"])  # fmt: skip


def arithmetic_texts(depth: int):
    """Integer arithmetic on ints and names, in the grammar (only 1 // 0 or a huge power is refused)."""
    leaf = st.one_of(clean_ints, clean_ints, st.sampled_from(["k", "x", "cfg.k"]))
    if depth <= 0:
        return leaf
    inner = arithmetic_texts(depth - 1)
    operator = st.sampled_from([" + ", "-", " - ", " * ", "*", " // ", " % ", "**", " ** "])
    return st.one_of(
        leaf,
        st.tuples(inner, operator, inner).map("".join),
        st.tuples(st.sampled_from(["-", "+", "--", "- "]), inner).map("".join),
        inner.map(lambda x: f"({x})"),
    )


def values(depth: int, clean: bool):
    if clean:
        leaf = st.one_of(clean_numbers, clean_strings.map(repr), clean_names, valid_refs, arithmetic_texts(3))
    else:
        leaf = st.one_of(numbers, numbers, strings, names, shape_refs)
    if depth <= 0:
        return leaf
    inner = values(depth - 1, clean)
    signs = ["-", "+", "--"] if clean else ["-", "+", "- ", "--", "~", "not "]
    extra = [] if clean else [st.tuples(inner, operators, inner).map("".join)]
    return st.one_of(
        leaf,
        leaf,
        *extra,
        st.tuples(st.sampled_from(signs), clean_numbers if clean else inner).map("".join),
        st.lists(inner, max_size=3).map(lambda xs: "(" + ", ".join(xs) + ("," if len(xs) == 1 else "") + ")"),
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        inner.map(lambda x: f"({x})"),
        st.tuples(clean_names if clean else names, st.lists(inner, max_size=2)).map(
            lambda p: f"{p[0]}({', '.join(p[1])})"
        ),
    )


@st.composite
def call_texts(draw) -> str:
    """A call in the fast reader's grammar (clean), or with anything unusual mixed in, maybe mutated."""
    clean = draw(st.booleans())
    gap = lambda: draw(clean_space if clean else space)  # noqa: E731
    args = draw(st.lists(values(2, clean), max_size=4))
    keys = draw(
        st.lists(st.sampled_from(["stride", "padding", "k", "a"] + ([] if clean else ["if", "True"])), max_size=3)
    )
    pieces = [gap() + a + gap() for a in args] + [f"{gap()}{k}{gap()}={gap()}{draw(values(2, clean))}" for k in keys]
    text = f"{draw(clean_names if clean else names)}{gap()}({','.join(pieces)}{draw(st.sampled_from(['', ',', ', ']))}{gap()})"
    if not clean and draw(st.integers(0, 2)) == 0:  # a mutation: one character put in somewhere
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(list("()[],=:'\".-+*/%#\\\n 0a_é\x00"))) + text[at:]
    return text


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call_texts())
@example("nn.Conv2d(3, 8, 3, padding=(3 - 1) * 4)")
@example("f(-2 ** 2, 2 ** -1, 7 // -2, -7 % 3, 2 - -1, 2 ** 3 ** 2)")
@example("f(-1 + 2, -2 ** 2, 2 ** 3 ** 2, 1 - 2 - 3, 2 * 3 % 4, -(1 + 2) * 3, 8 // 2 // 2, k - 1 - 2)")
@example("f(x, tf.shape(y)[1:3], lax.conv_dimension_numbers(x.shape, w.shape, ('NHWC', 'HWIO', 'NHWC')))")
def test_the_readers_agree_on_generated_text(text):
    check_agreement(text)


# -- every call string the suite writes ------------------------------------------------------------


def suite_call_strings() -> list[str]:
    """Every string constant in the test suite that looks like a call."""
    found = set()
    for path in TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.match(r"\s*[\w.]+\s*\(", node.value)
            ):
                found.add(node.value)
    return sorted(found)


SUITE = suite_call_strings()


def test_the_readers_agree_on_every_call_string_of_the_suite():
    answered = sum(check_agreement(text) for text in SUITE)
    assert len(SUITE) > 500 and answered > 0.75 * len(SUITE)  # the fast reader takes most of them


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_the_readers_agree_on_the_fuzz_runs_calls(text):
    check_agreement(text)


# -- the common text takes the fast path ---------------------------------------------------------------

COMMON = [
    "nn.Conv2d(37, 5, 3, stride=2, padding=(1, 3), bias=False)",
    "keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides=2, padding='same')",
    "F.conv2d(x, w, stride=2, padding=1)",
    "lax.conv_general_dilated(x, w, (1, 1), [(1, 1), (2, 2)], dimension_numbers=('NHWC', 'HWIO', 'NHWC'))",
    "onnx.helper.make_node('Conv', ['x', 'w'], ['y'], kernel_shape=[3, 3], pads=[1, 1, 1, 1])",
    "nn.Conv2d(3, 8, kernel_size=2 * 2 + 1, padding=(3 - 1) * 4)",
    "tf.nn.conv2d_transpose(x, w, output_shape=tf.shape(y), strides=2, padding='SAME')",
    "F.interpolate(x, size=y.shape[2:], mode='bilinear')",
    'keras.layers.Conv2D(32, 3, kernel_regularizer=keras.regularizers.L2(1e-4), name="c1")',
    "nn.Conv2d(\n    in_channels=3,\n    out_channels=8,\n    kernel_size=3,\n)",
    "nn.AvgPool2d(2, stride=None, ceil_mode=True, divisor_override=None, eps=1e-5, scale=-0.5)",
]


@pytest.mark.parametrize("text", COMMON)
def test_common_text_takes_the_fast_path(text):
    assert check_agreement(text)


@pytest.mark.parametrize(
    "text",
    ["f(1) # c", "f('\\n')", "f(r'x')", "f('a' 'b')", "f(1\\\n)", "f(é)", "f(1 if 2 else 3)", "f(x=1, 2)",
     "f(a=1, a=2)", "f(" + "(" * 40 + "1" + ")" * 40 + ")", "f(" + "a." * 40 + "b)", "f(" + "1 + " * 40 + "1)",
     "f\n(1)", "f(007)", "f(1j)", "f(1 / 2)", "f(True=1)", "f('\x00')", "f(\xa01)"],
)  # fmt: skip
def test_unusual_text_is_left_to_the_ast_reader(text):
    """Comments, escapes, prefixes, concatenation, non-ASCII names, Python's own refusals, depth, refusals."""
    assert not check_agreement(text)


def test_values_of_the_grammar():
    call = read_fast("f(tf.shape(y)[1:3], y.size(2), k // 2, -k, l2(1e-4), [0x10, 1_000, .5, 5., -3e-2])")
    shape, entry, half, minus, regularizer, numbers = call.args
    assert shape == ShapeRef("y", "tf.shape(y)[1:3]", None, True, 1, 3, None)
    assert entry == ShapeRef("y", "y.size(2)", index=2)
    assert half == Expression("k // 2", ("k",), 2) and minus == Expression("-k", ("k",), 3)
    assert regularizer == Call("l2", (0.0001,), (), "l2(0.0001)") and repr(regularizer) == "l2(0.0001)"
    assert numbers == List([16, 1000, 0.5, 5.0, -0.03]) and isinstance(numbers, List)
    assert read_fast("f(x.shape)").args == (ShapeRef("x", "x.shape"),)
    assert read_fast("f(a.b)").args == (Name("a.b"),)
