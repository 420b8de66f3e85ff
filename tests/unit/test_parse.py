"""parse: the whitelist accepts literal calls and refuses the rest, evaluating nothing."""

import pytest

from convarith import ConvArithError
from convarith.parse import MAX_DEPTH, MAX_EXPR_CHARS, MAX_INT, Call, Name, int_text, parse_call, short

LITERAL_RULE = (
    "Rule: arguments must be literals (numbers, strings, tuples, lists, True/False/None), names, "
    "integer arithmetic on int literals, or calls of names; nothing is evaluated. "
    "Fix: write the value itself, e.g. kernel_size=3."
)


def refusal(text) -> str:
    with pytest.raises(ConvArithError) as info:
        parse_call(text)
    return str(info.value)


def test_accepted_literals():
    call = parse_call("  nn.Conv2d(3, 8, (3, 5), stride=[2, 1], padding='same', bias=False, device=None, scale=0.5)  ")
    assert call == Call(
        "nn.Conv2d",
        (3, 8, (3, 5)),
        (("stride", [2, 1]), ("padding", "same"), ("bias", False), ("device", None), ("scale", 0.5)),
        "nn.Conv2d(3, 8, (3, 5), stride=[2, 1], padding='same', bias=False, device=None, scale=0.5)",
    )
    assert (call.base, call.prefix) == ("Conv2d", "nn")


def test_negative_numbers_and_unary_plus():
    call = parse_call("f(-1, padding=(-2, +3), alpha=-0.5, nested=[[-1], ()])")
    assert call.args == (-1,)
    assert call.kwargs == (("padding", (-2, 3)), ("alpha", -0.5), ("nested", [[-1], ()]))
    assert parse_call(f"f({-MAX_INT})").args == (-MAX_INT,)


def test_names_stay_names():
    call = parse_call("F.conv2d(x, weight=w, dtype=torch.float32)")
    assert call.args == (Name("x"),)
    assert call.kwargs == (("weight", Name("w")), ("dtype", Name("torch.float32")))
    assert repr(call.kwargs[1][1]) == "torch.float32"
    assert call.name == "F.conv2d"
    assert parse_call("Conv2d()").prefix == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("f(lambda: 1)", f"f: positional argument 1: a lambda is not allowed here. {LITERAL_RULE}"),
        ("f(k=x[0])", f"f: argument k: a subscript is not allowed here. {LITERAL_RULE}"),
        ("f(f'{x}')", f"f: positional argument 1: an f-string is not allowed here. {LITERAL_RULE}"),
        ("f(1, 2 @ 3)", f"f: positional argument 2: an arithmetic expression is not allowed here. {LITERAL_RULE}"),
        ("f(g(1)(2))", f"f: positional argument 1: a call is not allowed here. {LITERAL_RULE}"),
        ("f(*x)", f"f: positional argument 1: a starred argument is not allowed here. {LITERAL_RULE}"),
        ("f({'a': 1})", f"f: positional argument 1: a dict is not allowed here. {LITERAL_RULE}"),
        (
            "f(-'a')",
            f"f: positional argument 1: a sign or operator on a non-number is not allowed here. {LITERAL_RULE}",
        ),
        ("f(b'x')", f"f: positional argument 1: the bytes constant b'x' is not allowed here. {LITERAL_RULE}"),
        (
            "f(**k)",
            "f: **kwargs is not allowed. Rule: nothing is evaluated, so a dict cannot be unpacked. "
            "Fix: write each keyword argument out.",
        ),
        (
            "f(a=1, a=2)",
            "f: keyword argument 'a' is repeated. Rule: Python refuses a repeated keyword. Fix: give a once.",
        ),
        (
            "f(1,",
            "expr is not valid Python: '(' was never closed in 'f(1,'. Rule: expr is one Python call. "
            "Fix: check brackets, commas and quotes, e.g. nn.Conv2d(3, 8, 3, padding='same').",
        ),
        (
            "   ",
            'expr is empty. Rule: expr is one call written as in framework code. Fix: write the call, e.g. "nn.Conv2d(3, 8, 3)".',
        ),
        (
            "x",
            "expr must be a single call, got a bare name: 'x'. "
            'Rule: expr is one layer or function call with its arguments, nothing else. Fix: write the call, e.g. "nn.Conv2d(3, 8, 3)".',
        ),
        (
            "f(1) + g(2)",
            "expr must be a single call, got an arithmetic expression: 'f(1) + g(2)'. "
            'Rule: expr is one layer or function call with its arguments, nothing else. Fix: write the call, e.g. "nn.Conv2d(3, 8, 3)".',
        ),
        (
            f"f({MAX_INT + 1})",
            f"f: positional argument 1: the integer {MAX_INT + 1} is too large. "
            f"Rule: sizes must fit in 64 bits (|n| <= {MAX_INT}). Fix: write the real size.",
        ),
        (
            "f(x=-" + "9" * 30 + ")",
            "f: argument x: the integer 999999...999 (30 digits) is too large. "
            f"Rule: sizes must fit in 64 bits (|n| <= {MAX_INT}). Fix: write the real size.",
        ),
        (
            "f(" + "-" * 3000 + "1)",
            "expr is nested too deeply. Rule: Python's parser gives up on it. Fix: write plain literal arguments.",
        ),
        (
            "(lambda: 1)()",
            "expr: the called object lambda: 1 is not a plain dotted name because it contains a lambda. "
            "Rule: only a name such as nn.Conv2d is called, and nothing is evaluated. "
            "Fix: write the layer or function name itself, e.g. nn.Conv2d(3, 8, 3).",
        ),  # fmt: skip
        (
            "layers[0](3)",
            "expr: the called object layers[0] is not a plain dotted name because it contains a subscript. "
            "Rule: only a name such as nn.Conv2d is called, and nothing is evaluated. "
            "Fix: write the layer or function name itself, e.g. nn.Conv2d(3, 8, 3).",
        ),
    ],
)
def test_refusals(text, message):
    assert refusal(text) == message


def test_nested_call_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "marker"
    text = f"__import__('os').system('touch {marker}')"
    assert refusal(text) == (
        "expr: the called object __import__('os').system is not a plain dotted name because it contains a call. "
        "Rule: only a name such as nn.Conv2d is called, and nothing is evaluated. "
        "Fix: write the layer or function name itself, e.g. nn.Conv2d(3, 8, 3)."
    )
    # the same payload as an argument is refused too
    assert refusal(f"nn.Conv2d(__import__('os').system('touch {marker}'))").startswith(
        "nn.Conv2d: positional argument 1: a call is not allowed here."
    )
    assert not marker.exists()


def test_too_long_and_not_a_string():
    text = "f(" + "1, " * (MAX_EXPR_CHARS // 3) + ")"
    assert refusal(text) == (
        f"expr is {len(text)} characters long. Rule: at most {MAX_EXPR_CHARS} characters are accepted. "
        "Fix: write one call with literal arguments."
    )
    assert (
        refusal(b"f(1)")
        == "expr must be a string holding the call, got bytes. Rule: the call is given as its source text, never as an object. Fix: expr='nn.Conv2d(3, 8, 3)'."
    )


def test_long_syntax_errors_are_cut():
    text = "f(" + "1, " * 100
    message = refusal(text)
    assert message.startswith("expr is not valid Python: '(' was never closed in 'f(1, 1, ")
    assert f"... ({len(text.strip())} characters). Rule:" in message


DEEP = (
    "expr is nested {depth} levels deep: {shown}. Rule: at most 32 levels (brackets, signs, dots and calls inside "
    "one another) are read. Fix: write one call with plain literal arguments, e.g. nn.Conv2d(3, 8, (3, 3))."
)


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("nn.Conv2d(3, 8, " + "-" * 1000 + "3)", 1002),  # issue 7: was RecursionError
        ("nn.Conv2d" + "(1)" * 400, 403),  # issue 7: was RecursionError
        ("f(" + "-" * 31 + "1)", 33),
        ("f(" + "(" * 40 + "1" + ",)" * 40 + ")", 42),
        ("f(" + "[" * 40 + "1" + "]" * 40 + ")", 42),
        ("f(" + ".".join("a" * 1500) + ")", 1502),
        ("f(" + "not " * 900 + "x)", 903),
        ("f(x" + "[0]" * 900 + ")", 903),
        ("a" + ".b" * 1900 + "(1)", 1903),
        ("f(" + "+-" * 300 + "1)", 602),
    ],
)
def test_deep_nesting_is_refused_without_recursion(text, depth):
    assert refusal(text) == DEEP.format(depth=depth, shown=short(text))


def test_nesting_up_to_the_limit_is_read():
    text = "f(" + "(" * (MAX_DEPTH - 3) + "1" + ",)" * (MAX_DEPTH - 3) + ")"
    value = parse_call(text).args[0]
    for _ in range(MAX_DEPTH - 3):
        value = value[0]
    assert value == 1
    assert parse_call("f(" + "-" * (MAX_DEPTH - 2) + "1)").args == (1,)  # an even count of minus signs


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("f('\\N{BOGUS}')", "expr is not valid Python: (unicode error)"),
        ("f('\x00')", "expr is not valid Python: source code string cannot contain null bytes"),
        ("f(1)\x00", "expr is not valid Python: source code string cannot contain null bytes"),
        ("f(" + "(" * 300 + ")" * 300 + ")", "expr is not valid Python: too many nested parentheses"),
    ],
)
def test_text_python_refuses_is_a_convarith_error(text, start):
    assert refusal(text).startswith(start)


def test_unicode_long_strings_and_float_extremes_are_plain_values():
    assert parse_call("f('\\N{LATIN SMALL LETTER E WITH ACUTE}', '\u00e9', 'ß')").args == ("\u00e9", "\u00e9", "ß")
    long = "s" * (MAX_EXPR_CHARS - 10)
    assert parse_call(f"f('{long}')").args == (long,)
    assert parse_call("f(1e400, -1e400, 1e-400)").args == (float("inf"), float("-inf"), 0.0)


def test_a_giant_integer_is_named_by_its_length():
    """Python refuses str() past 4300 digits; the message never prints the number in full."""
    text = "f(0x" + "f" * 3600 + ")"  # 4335 decimal digits
    assert refusal(text) == (
        "f: positional argument 1: the integer 679105...375 (4335 digits) is too large. "
        f"Rule: sizes must fit in 64 bits (|n| <= {MAX_INT}). Fix: write the real size."
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (MAX_INT, str(MAX_INT)),
        (10**24 - 1, "9" * 24),
        (10**24, "100000...000 (25 digits)"),
        (-(10**5000) - 7, "-100000...007 (5001 digits)"),
        (2**64 * 10**30, "184467...000 (50 digits)"),
    ],
    ids=["max-int", "24-digits", "25-digits", "5001-digits", "50-digits"],
)
def test_int_text(value, text):
    assert int_text(value) == text


def test_lists_are_hashable_so_table_lookups_never_raise():
    value = parse_call("f([1, [2]], ['MAX'])").args
    assert value == ([1, [2]], ["MAX"]) and isinstance(value[0], list)
    assert value[1] not in {"MAX": 1} and hash(value[0]) == hash((1, (2,)))


def test_no_warning_escapes(recwarn):
    assert parse_call("f('\\d')").args == ("\\d",)
    assert not recwarn.list
