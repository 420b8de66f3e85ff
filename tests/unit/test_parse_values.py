"""Values the parser reads (issue 8): integer arithmetic folded, shapes by reference resolved
from shapes=, calls kept as values, and the one message for a variable where a number belongs."""

import pytest

import convarith
from convarith import ConvArithError
from convarith.frameworks._common import Inputs, resolve_shapes
from convarith.parse import MAX_INT, Call, Expression, ShapeRef, parse_call

ARITHMETIC_RULE = (
    "Rule: only integer arithmetic (+ - * // % ** and signs) on int literals is folded; nothing else is evaluated."
)


def refusal(function, *args, **kwargs) -> str:
    with pytest.raises(ConvArithError) as info:
        function(*args, **kwargs)
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("(3 - 1) * 4", 8),
        ("2 * 2 + 1", 5),
        ("3 // 2", 1),
        ("-7 // 2", -4),  # Python's floor division
        ("7 % -3", -2),
        ("-2 ** 2", -4),  # ** binds tighter than the sign
        ("2 ** 3 ** 2", 512),  # and to the right
        ("2 - -1", 3),
        ("(1 + 1, 2 * 3)", (2, 6)),
        ("[0x10 - 1, 1_000 // 10]", [15, 100]),
        (f"{MAX_INT} - 0", MAX_INT),
        ("2 ** 62 + (2 ** 62 - 1)", MAX_INT),
    ],
)
def test_integer_arithmetic_is_folded(text, value):
    assert parse_call(f"f({text})").args == (value,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("6 / 2", f"6 / 2 is a true division, which gives a float. {ARITHMETIC_RULE} Fix: 6 // 2 (floor division), "
                  "or the value itself."),
        ("0.5 * 2", f"0.5 * 2 computes with the float 0.5. {ARITHMETIC_RULE} Fix: write the result as a number."),
        ("'a' * 2", f"'a' * 2 computes with str 'a'. {ARITHMETIC_RULE} Fix: write the value itself, e.g. kernel_size=3."),
        ("True + 1", f"True + 1 computes with bool True. {ARITHMETIC_RULE} Fix: write the value itself, "
                     "e.g. kernel_size=3."),
        ("(1, 2) * 2", f"(1, 2) * 2 computes with (1, 2). {ARITHMETIC_RULE} Fix: write the value itself, "
                       "e.g. kernel_size=3."),
        ("x.shape[1] * 2", f"x.shape[1] * 2 computes with the shape reference x.shape[1]. {ARITHMETIC_RULE} "
                           "Fix: write the numbers of the shape, e.g. [1, 64, 64, 3]."),
        ("1 // 0", "1 // 0 divides by zero. Rule: Python refuses it. Fix: a nonzero divisor."),
        ("2 ** -1", f"2 ** -1 has a negative exponent, which gives a float. {ARITHMETIC_RULE} Fix: the value itself."),
        (f"{MAX_INT} + 1", "the integer 9223372036854775808 is too large. Rule: sizes must fit in 64 bits "
                           f"(|n| <= {MAX_INT}). Fix: write the real size."),
        ("2 ** 100000", f"2 ** 100000 is beyond 64 bits. Rule: sizes must fit in 64 bits (|n| <= {MAX_INT}). "
                        "Fix: write the real size."),  # refused before it is worked out
        ("3 @ 4", "an arithmetic expression is not allowed here."),
    ],
)  # fmt: skip
def test_other_arithmetic_is_refused(text, message):
    assert refusal(parse_call, f"nn.Conv2d(3, 8, padding={text})").startswith(f"nn.Conv2d: argument padding: {message}")


def test_folded_arithmetic_gives_the_literal_answer_in_every_framework():
    pairs = [
        ("nn.Conv2d(3, 8, kernel_size=2 * 2 + 1, padding=(3 - 1) * 4)", "nn.Conv2d(3, 8, kernel_size=5, padding=8)",
         (1, 3, 9, 9), None),
        ("keras.layers.Conv2D(4 * 2, (3 - 1) * 2 + 1, strides=3 // 2)", "keras.layers.Conv2D(8, 5, strides=1)",
         (1, 9, 9, 3), None),
        ("tf.nn.conv2d(x, w, strides=[1, 1 + 1, 2, 1], padding='SAME')", "tf.nn.conv2d(x, w, [1, 2, 2, 1], 'SAME')",
         None, {"x": (1, 9, 9, 3), "w": (3, 3, 3, 4)}),
        ("lax.conv(x, w, (2 - 1, 4 // 2), 'VALID')", "lax.conv(x, w, (1, 2), 'VALID')",
         None, {"x": (1, 3, 9, 9), "w": (4, 3, 3, 3)}),
        ("onnx.helper.make_node('MaxPool', ['x'], ['y'], kernel_shape=[1 + 1, 3 % 2 + 1], pads=[-0, 0, 0, 0])",
         "onnx.helper.make_node('MaxPool', ['x'], ['y'], kernel_shape=[2, 2], pads=[0, 0, 0, 0])",
         None, {"x": (1, 3, 9, 9)}),
    ]  # fmt: skip
    for arithmetic, literal, shape, shapes in pairs:
        folded = convarith.output_shape(arithmetic, shape, shapes=shapes)
        assert folded == convarith.output_shape(literal, shape, shapes=shapes)
        assert convarith.explain(arithmetic, shape, shapes=shapes).output_shape == folded


def test_shape_references_are_values():
    call = parse_call("f(tf.shape(y), y.shape, y.size(), x.shape[1:3], x.shape[-1], np.shape(z)[::2], y.size(0))")
    assert [ref.tensor for ref in call.args] == ["y", "y", "y", "x", "x", "z", "y"]
    assert all(isinstance(ref, ShapeRef) for ref in call.args)
    assert repr(call.args[3]) == "x.shape[1:3]" and repr(call.args[5]) == "np.shape(z)[::2]"
    inputs = Inputs(None, (("x", (1, 3, 8, 8)), ("y", (2, 4, 6)), ("z", (5, 6, 7, 8))))
    got = [resolve_shapes(ref, inputs, "output_shape", "f") for ref in call.args]
    assert got == [(2, 4, 6), (2, 4, 6), (2, 4, 6), (3, 8), 8, (5, 7), 2]
    mixed = parse_call("f([x.shape[0], 16, (y.shape[-1], 3)])").args[0]
    assert resolve_shapes(mixed, inputs, "output_shape", "f") == [1, 16, (6, 3)]
    plain = parse_call("f([1, (2, 3)])").args[0]
    assert resolve_shapes(plain, inputs, "output_shape", "f") is plain  # nothing to resolve: the same object


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tf.shape(q)", "f: output_shape=tf.shape(q) needs the shape of q, which is not given. Rule: a shape "
                        "reference is read from shapes=; shapes given: x. Fix: pass shapes={'q': (...)} "
                        "(--shape q=... in the CLI)."),
        ("x.shape[4]", "f: output_shape=x.shape[4] is out of range: x has shape (1, 3, 8, 8). Rule: an index of a "
                       "shape with 4 entries is from -4 to 3. Fix: an index in that range, e.g. x.shape[3]."),
    ],
)  # fmt: skip
def test_unresolved_references_are_refused(text, message):
    ref = parse_call(f"f({text})").args[0]
    assert refusal(resolve_shapes, ref, Inputs(None, (("x", (1, 3, 8, 8)),)), "output_shape", "f") == message


def test_calls_are_values_named_as_written():
    value = parse_call("keras.layers.Conv2D(8, 3, kernel_regularizer=keras.regularizers.L2(l2=1e-4))").kwargs[0][1]
    assert value == Call("keras.regularizers.L2", (), (("l2", 0.0001),), "keras.regularizers.L2(l2=0.0001)")
    assert refusal(parse_call, "f(g(1)(2))").startswith("f: positional argument 1: a call is not allowed here.")


RULE = "Rule: nothing is evaluated, so every number is read from the call itself."


@pytest.mark.parametrize(
    ("expr", "shape", "shapes", "message"),
    [
        ("nn.Conv2d(in_channels, out_channels, 3)", (1, 3, 8, 8), None,
         f"Conv2d: in_channels is given as the variable in_channels, whose value is needed. {RULE} Fix: write the "
         "value in the call, or sweep it with convarith.sweep(expr, ..., in_channels=[1, 2, 3])."),
        ("nn.Conv2d(3, 8, k // 2 + j)", (1, 3, 8, 8), None,
         f"Conv2d: kernel_size is given as k // 2 + j, which uses k and j, whose values are needed. {RULE} "
         "Fix: write the values in the call, or sweep it with convarith.sweep(expr, ..., k=[1, 2, 3])."),
        ("nn.Conv2d(3, 8, 3, stride=cfg.stride)", (1, 3, 8, 8), None,
         f"Conv2d: stride is given as the variable cfg.stride, whose value is needed. {RULE} "
         "Fix: write the value in the call."),
        ("keras.layers.Conv2D(filters, 3)", (1, 8, 8, 3), None,
         f"Conv2D: filters is given as the variable filters, whose value is needed. {RULE} Fix: write the value in "
         "the call, or sweep it with convarith.sweep(expr, ..., filters=[1, 2, 3])."),
        ("tf.nn.conv2d(x, w, strides=s, padding='SAME')", None, {"x": (1, 8, 8, 3), "w": (3, 3, 3, 8)},
         f"tf.nn.conv2d: strides is given as the variable s, whose value is needed. {RULE} Fix: write the value in "
         "the call, or sweep it with convarith.sweep(expr, ..., s=[1, 2, 3])."),
        ("lax.conv(x, w, s, 'SAME')", None, {"x": (1, 3, 8, 8), "w": (8, 3, 3, 3)},
         f"conv: window_strides is given as the variable s, whose value is needed. {RULE} Fix: write the value in "
         "the call, or sweep it with convarith.sweep(expr, ..., s=[1, 2, 3])."),
        ("onnx.helper.make_node('Conv', ['x', 'w'], ['y'], kernel_shape=[k, k])", None,
         {"x": (1, 3, 8, 8), "w": (8, 3, 3, 3)},
         f"Conv: kernel_shape is given as the variable k, whose value is needed. {RULE} Fix: write the value in "
         "the call, or sweep it with convarith.sweep(expr, ..., k=[1, 2, 3])."),
        ("nn.Conv2d(3, 8, l2(3))", (1, 3, 8, 8), None,
         f"Conv2d: kernel_size=l2(3) is a call, which is not evaluated. {RULE} Fix: write the value it gives."),
        ("nn.Conv2d(3, 8, x.shape[1])", (1, 3, 8, 8), None,
         "Conv2d: kernel_size=x.shape[1] is a shape reference, which kernel_size does not take. Rule: shapes given "
         "in shapes= are read where a call takes a whole shape or size (such as output_shape=). Fix: write the number."),
    ],
)  # fmt: skip
def test_a_variable_where_a_number_belongs_says_its_value_is_needed(expr, shape, shapes, message):
    assert refusal(convarith.output_shape, expr, shape, shapes=shapes) == message


def test_sweep_fills_in_a_name_used_in_arithmetic():
    result = convarith.sweep("nn.Conv2d(3, 8, k, padding=k // 2)", (1, 3, 9, 9), k=[1, 3, 5])
    assert result.shapes.tolist() == [[1, 8, 9, 9]] * 3
    assert parse_call("nn.Conv2d(3, 8, k, padding=k // 2)").kwargs[0][1] == Expression("k // 2", ("k",), 2)
