"""The public API: exported names, the exception type, and refusals of bad input."""

import inspect
import itertools

import numpy as np
import pytest

import convarith
from convarith import ConvArithError, frameworks, output_shape
from convarith.frameworks._common import Plan


def test_all_is_the_sorted_public_names():
    def public_name(name: str) -> bool:
        value = getattr(convarith, name)
        return not name.startswith("_") and (not inspect.ismodule(value) or callable(value))

    import convarith.tracing  # noqa: F401 - a submodule imported does not shadow convarith.trace
    import convarith.translate.parts  # noqa: F401 - the translate package, once imported, is callable as translate

    public = {name for name in dir(convarith) if public_name(name)}
    assert convarith.__all__ == sorted(convarith.__all__)
    assert set(convarith.__all__) == public


def test_error_is_a_value_error_shown_as_convarith():
    assert issubclass(ConvArithError, ValueError)
    assert repr(ConvArithError("x")) == "ConvArithError('x')"
    assert ConvArithError.__module__ == "convarith"


def test_shape_and_explain_agree():
    expr = "nn.ConvTranspose2d(3, 8, 3, stride=2, padding=1, output_padding=1)"
    assert output_shape(expr, (1, 3, 32, 32)) == (1, 8, 64, 64)
    assert convarith.explain(expr, [1, 3, 32, 32]).output_shape == (1, 8, 64, 64)
    assert convarith.explain(expr, [1, 3, 32, 32]).to_dict()["input_shape"] == [1, 3, 32, 32]


def test_named_shapes_and_output_size():
    assert output_shape("F.conv2d(x, w, stride=2)", shapes={"x": (1, 3, 9, 9), "w": (8, 3, 3, 3)}) == (1, 8, 4, 4)
    assert output_shape("nn.ConvTranspose2d(3, 8, 3, stride=2)", (1, 3, 6, 6), output_size=(14, 13)) == (1, 8, 14, 13)


NOT_AN_INT = (
    "Rule: sizes are ints (a flag, a float or an array is not read as one). "
    "Fix: write each size as an int, e.g. (1, 3, 8, 8)."
)
TOO_LARGE = "which is too large. Rule: sizes must fit in 64 bits (<= 9223372036854775807). Fix: write the real size."


@pytest.mark.parametrize(
    ("expr", "input_shape", "message"),
    [
        (
            123,
            (1, 3, 8, 8),
            "expr must be a string holding the call, got int. Rule: the call is given as its source text, never as an object. Fix: expr='nn.Conv2d(3, 8, 3)'.",
        ),
        (
            "nn.Conv2d(3, 8, 3)",
            "1,3,8,8",
            "input_shape must be a tuple of ints such as (1, 96, 128, 3), got '1,3,8,8' (str). Rule: a shape is a flat sequence of sizes. "
            "Fix: write the shape as a tuple of ints.",
        ),
        ("nn.Conv2d(3, 8, 3)", (1, 3, 8.0, 8), f"input_shape holds 8.0 (float) in (1, 3, 8.0, 8). {NOT_AN_INT}"),
        ("nn.Conv2d(3, 8, 3)", (1, 3, True, 8), f"input_shape holds True (bool) in (1, 3, True, 8). {NOT_AN_INT}"),
        (
            "nn.Conv2d(3, 8, 3)",
            (1, 3, -8, 8),
            "input_shape has a negative size -8 in (1, 3, -8, 8). Rule: sizes are >= 0. Fix: write the real size.",
        ),
        (
            "F.conv2d(x, w)",
            None,
            "conv2d: no shape given for input=x. Rule: every tensor named in the call needs its shape; shapes given: "
            "none. Fix: pass shapes={'x': (...)} (--shape x=... in the CLI).",
        ),
    ],
)
def test_bad_input_is_refused_with_its_message(expr, input_shape, message):
    with pytest.raises(ConvArithError) as caught:
        output_shape(expr, input_shape)
    assert str(caught.value) == message


def test_missing_input_shape_names_the_layer():
    with pytest.raises(ConvArithError, match=r"^Conv2d: .*input shape is missing\..* Fix: pass input_shape="):
        output_shape("nn.Conv2d(3, 8, 3)")


def test_shapes_must_be_a_dict():
    with pytest.raises(ConvArithError, match=r"^shapes must be a dict \{name: shape\}, got list\. Rule: "):
        output_shape("F.conv2d(x, w)", shapes=[(1, 3, 8, 8)])


def test_unknown_layer_suggests_the_close_spelling():
    with pytest.raises(ConvArithError) as caught:
        output_shape("nn.Conv2D(3, 8, 3)", (1, 3, 8, 8))
    assert str(caught.value).startswith("unknown layer or function 'nn.Conv2D'. Did you mean nn.Conv2d")


def test_evaluation_is_refused():
    with pytest.raises(ConvArithError, match="nothing is evaluated"):
        output_shape("nn.Conv2d(3, 8, __import__('os').getpid())", (1, 3, 8, 8))


def test_ambiguous_bare_name_is_refused_naming_both_spellings():
    with pytest.raises(ConvArithError) as caught:
        output_shape("conv2d(x, w, padding=1)", shapes={"x": (1, 3, 8, 8), "w": (4, 3, 3, 3)})
    assert str(caught.value) == (
        "'conv2d' is ambiguous: it exists in PyTorch as F.conv2d and TensorFlow (tf.nn) as tf.nn.conv2d. "
        "Rule: a bare name is read only when one framework has it. Fix: write the module prefix: F.conv2d or "
        "tf.nn.conv2d."
    )


def test_every_real_ambiguous_spelling_is_refused():
    _, owners = frameworks.table()
    for spelling in (name for name, owned in owners.items() if len(owned) > 1):
        with pytest.raises(ConvArithError, match="is ambiguous"):
            output_shape(f"{spelling}(x)", shapes={"x": (1, 3, 8, 8)})


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((1, 4, 10**5000, 8), f"input_shape has the size 100000...000 (5001 digits), {TOO_LARGE}"),  # issue 7
        ((1, 4, 2**63, 8), f"input_shape has the size 9223372036854775808, {TOO_LARGE}"),
        ((1, 3, np.array(8.7), 8), f"input_shape holds array(8.7) (ndarray) in (1, 3, array(8.7), 8). {NOT_AN_INT}"),
        (
            (1, 3, np.float64(8), 8),
            f"input_shape holds np.float64(8.0) (float64) in (1, 3, np.float64(8.0), 8). {NOT_AN_INT}",
        ),
        ((1, 3, np.True_, 8), f"input_shape holds np.True_ (bool) in (1, 3, np.True_, 8). {NOT_AN_INT}"),
        ((1, 3, None, 8), f"input_shape holds None (NoneType) in (1, 3, None, 8). {NOT_AN_INT}"),
        ((1, 3, [8], 8), f"input_shape holds [8] (list) in (1, 3, [8], 8). {NOT_AN_INT}"),
        (
            np.array([[1, 3, 8, 8]]),
            "input_shape must be a tuple of ints such as (1, 96, 128, 3), got array([[1, 3, 8, 8]]) (ndarray). Rule: a shape is a flat sequence of sizes. "
            "Fix: write the shape as a tuple of ints.",
        ),
        (
            np.array(8.7),
            "input_shape must be a tuple of ints such as (1, 96, 128, 3), got array(8.7) (ndarray). Rule: a shape is a flat sequence of sizes. "
            "Fix: write the shape as a tuple of ints.",
        ),
        (
            8,
            "input_shape must be a tuple of ints such as (1, 96, 128, 3), got 8 (int). Rule: a shape is a flat sequence of sizes. "
            "Fix: write the shape as a tuple of ints.",
        ),
        (
            {1: 3},
            "input_shape must be a tuple of ints such as (1, 96, 128, 3), got {1: 3} (dict). Rule: a shape is a flat sequence of sizes. "
            "Fix: write the shape as a tuple of ints.",
        ),
        (
            (),
            "input_shape has no dimensions: (). Rule: a shape has 1 to 8 dimensions. "
            "Fix: give the full shape, e.g. (1, 3, 8, 8).",
        ),
        (
            itertools.repeat(1),
            "input_shape has more than 8 dimensions: (1, 1, 1, 1, 1, 1, 1, 1, 1...). "
            "Rule: a shape has 1 to 8 dimensions. Fix: give the full shape, e.g. (1, 3, 8, 8).",
        ),
    ],
    ids=[
        "10**5000", "2**63", "float-array", "float64", "numpy-bool", "None", "list", "2-D", "0-D", "int",
        "dict", "empty", "endless",
    ],
)  # fmt: skip
def test_sizes_are_ints_that_fit_in_64_bits(shape, message):
    """Checked with operator.index, never int(): an array or a float is refused, not truncated."""
    for call in (
        lambda: output_shape("nn.Conv2d(4, 8, 3)", shape),
        lambda: output_shape("F.conv2d(x, w)", shapes={"x": shape, "w": (8, 4, 3, 3)}),
        lambda: output_shape("nn.ConvTranspose2d(4, 8, 3)", (1, 4, 5, 5), output_size=shape),
    ):
        with pytest.raises(ConvArithError) as info:
            call()
        where = str(info.value).split(" ", 1)[0]
        assert str(info.value) == message.replace("input_shape", where, 1)


def test_numpy_integer_shapes_are_read():
    assert output_shape("nn.Conv2d(3, 8, 3)", np.array([1, 3, 8, 8])) == (1, 8, 6, 6)
    assert output_shape("nn.Conv2d(3, 8, 3)", (np.int64(1), np.int32(3), np.array(8), np.uint8(8))) == (1, 8, 6, 6)
    assert output_shape("nn.Conv2d(3, 8, 3)", [1, 3, 8, 8]) == (1, 8, 6, 6)


def test_shapes_keys_are_names():
    with pytest.raises(ConvArithError) as info:
        output_shape("F.conv2d(x, w)", shapes={10**5000: (1, 3, 8, 8)})
    assert str(info.value) == (
        "shapes has the key 100000...000 (5001 digits) (int). Rule: keys are the tensor names used in the call. "
        "Fix: shapes={'x': (1, 3, 8, 8)}."
    )


MAX_INT = 2**63 - 1


@pytest.mark.parametrize(
    ("expr", "shape", "shapes", "expected"),
    [
        ("nn.Conv2d(3, 8, 3)", (1, 3, MAX_INT, MAX_INT), None, (1, 8, MAX_INT - 2, MAX_INT - 2)),
        ("nn.ConvTranspose2d(3, 8, 3, stride=2)", (MAX_INT, 3, 4, 4), None, (MAX_INT, 8, 9, 9)),
        ("nn.ConvTranspose1d(3, 8, 3, stride=MAX)", (1, 3, MAX_INT), None, None),
        ("keras.layers.Conv2D(8, 3, padding='same')", (1, MAX_INT, MAX_INT, 3), None, (1, MAX_INT, MAX_INT, 8)),
        ("tf.nn.conv2d(x, w, 1, 'SAME')", None, {"x": (1, MAX_INT, 2, 3), "w": (3, 3, 3, 4)}, (1, MAX_INT, 2, 4)),
        ("lax.conv(x, w, (1,), 'SAME')", None, {"x": (1, 3, MAX_INT), "w": (4, 3, 3)}, (1, 4, MAX_INT)),
        (
            "onnx.helper.make_node('MaxPool', ['X'], ['Y'], kernel_shape=[2], strides=[1])",
            None,
            {"X": (MAX_INT, MAX_INT, MAX_INT)},
            (MAX_INT, MAX_INT, MAX_INT - 1),
        ),
    ],
)
def test_sizes_near_the_64_bit_limit(expr, shape, shapes, expected):
    """Products of sizes (torch's oneDNN rule) and 64-bit sizes in messages: an answer or a refusal, fast."""
    expr = expr.replace("MAX", str(MAX_INT))
    if expected is None:
        with pytest.raises(ConvArithError) as info:
            output_shape(expr, shape, shapes=shapes)
        assert str(info.value) == (
            "ConvTranspose1d: the output shape (1, 8, 850705...445 (38 digits)) does not fit in 64 bits. "
            "Rule: every framework stores sizes as 64-bit ints (<= 9223372036854775807). "
            "Fix: a smaller input, stride or kernel."
        )
    else:
        assert output_shape(expr, shape, shapes=shapes) == expected


class Unreadable:
    """A shape-like object whose iteration and repr both fail."""

    def __iter__(self):
        raise ValueError("no")

    def __repr__(self):
        raise RuntimeError("no")


def test_an_unreadable_shape_is_refused():
    with pytest.raises(ConvArithError) as info:
        output_shape("nn.Conv2d(3, 8, 3)", Unreadable())
    assert str(info.value) == (
        "input_shape must be a tuple of ints such as (1, 96, 128, 3), got a Unreadable (Unreadable), which cannot be "
        "read item by item. Rule: a shape is a flat sequence of sizes. "
        "Fix: write the shape as a tuple of ints."
    )


def counting_table(monkeypatch, compile_function):
    """frameworks.table with one spelling, counted_pool2d, compiled by ``compile_function``."""
    table = ({"counted_pool2d": compile_function}, {"counted_pool2d": ["PyTorch"]})
    monkeypatch.setattr(frameworks, "table", lambda: table)


def test_a_call_is_compiled_once_and_applied_to_each_input(monkeypatch):
    compiled = []

    class Doubling(Plan):
        def shape(self, inputs):
            return tuple(2 * size for size in inputs.input_shape)

    def compile_function(call):
        compiled.append(call.text)
        return Doubling(call)

    counting_table(monkeypatch, compile_function)
    expr = "counted_pool2d(7)"
    assert [output_shape(expr, (1, n)) for n in (2, 3, 2)] == [(2, 4), (2, 6), (2, 4)]
    assert convarith.api.plan_for(expr) is convarith.api.plan_for(expr)
    assert compiled == [expr]


def test_a_compile_refusal_is_cached_and_raised_afresh(monkeypatch):
    compiled = []

    def compile_function(call):
        compiled.append(call.text)
        raise ConvArithError("counted_pool2d: no. Rule: r. Fix: f.")

    counting_table(monkeypatch, compile_function)
    raised = []
    for n in (2, 3):
        with pytest.raises(ConvArithError) as info:
            output_shape("counted_pool2d(8)", (1, n))
        raised.append(info.value)
    assert [str(error) for error in raised] == ["counted_pool2d: no. Rule: r. Fix: f."] * 2
    assert raised[0] is not raised[1]  # re-raising one object would grow its traceback on every call
    assert compiled == ["counted_pool2d(8)"]


@pytest.mark.parametrize("size", [8.0, True, np.float64(8)], ids=["float", "bool", "float64"])
def test_the_result_cache_never_answers_an_equal_but_invalid_shape(size):
    """(1, 3, 8.0, 8) == (1, 3, 8, 8) and hashes alike: the shape is checked before the cache is read."""
    assert output_shape("nn.Conv2d(3, 8, 3)", (1, 3, 8, 8)) == (1, 8, 6, 6)
    with pytest.raises(ConvArithError, match="Rule: sizes are ints"):
        output_shape("nn.Conv2d(3, 8, 3)", (1, 3, size, 8))
    with pytest.raises(ConvArithError, match="Rule: sizes are ints"):
        output_shape("F.conv2d(x, w)", shapes={"x": (1, 3, size, 8), "w": (8, 3, 3, 3)})


def test_the_result_cache_is_bounded():
    for n in range(convarith.api.RESULT_CACHE + 10):
        output_shape("nn.MaxPool1d(2)", (1, 1, n + 2))
    assert convarith.api.shape_cached.cache_info().currsize == convarith.api.RESULT_CACHE


def test_named_shapes_in_any_order_give_one_answer():
    x, w = (1, 3, 9, 9), (8, 3, 3, 3)
    assert output_shape("F.conv2d(x, w)", shapes={"x": x, "w": w}) == (1, 8, 7, 7)
    assert output_shape("F.conv2d(x, w)", shapes={"w": w, "x": x}) == (1, 8, 7, 7)
    assert output_shape("F.conv2d(x, w)", shapes={"w": w, "x": [1, 3, 9, 9]}) == (1, 8, 7, 7)
