"""Spellings the parser reads (issue 8): integer arithmetic in arguments and shapes by reference,
against the real frameworks, which evaluate the same text. Arithmetic folded must also give
exactly what the literal value gives."""

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import convarith
from tests.differential.compare import agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def arithmetic(target: int):
    """Integer arithmetic text (+ - * // % ** and signs, parentheses, spacing) worth ``target`` or near it."""
    small = st.integers(0, 4).map(str)
    pieces = st.one_of(
        st.just(str(target)),
        st.integers(0, 6).map(lambda a: f"{target + a} - {a}"),
        st.integers(0, 6).map(lambda a: f"-{a} + {target + a}"),
        st.integers(1, 3).map(lambda a: f"({target} * {a}) // {a}"),
        st.integers(2, 5).map(lambda a: f"{target * a + a - 1}//{a}"),
        st.integers(1, 3).map(lambda a: f"(({target} + {a}) % {target + a + 1}) - {a}"),
        st.just(f"-(-{target})"),
        st.just(f"{target} * 1 ** 5"),
    )
    noise = st.tuples(small, st.sampled_from([" + ", " - ", " * ", " // ", " % "]), small).map("".join)
    return st.one_of(pieces, pieces, pieces, noise)  # noise: some other value (maybe 0, negative, or 1 // 0)


def worked_out(text: str) -> str | None:
    """``text`` (arithmetic or a tuple of it) worked out by Python: the test's own oracle (None: 1 // 0)."""
    try:
        return repr(eval(text, {"__builtins__": {}}))  # test oracle: literal int arithmetic only
    except ZeroDivisionError:
        return None


@st.composite
def torch_calls(draw):
    rank = draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["Conv", "Conv", "MaxPool", "ConvTranspose"]))
    kernel = draw(arithmetic(draw(st.integers(1, 4))))
    stride = draw(arithmetic(draw(st.integers(1, 3))))
    padding = draw(arithmetic(draw(st.integers(0, 2))))
    if draw(st.booleans()):
        padding = "(" + ", ".join(draw(arithmetic(draw(st.integers(0, 2)))) for _ in range(rank)) + ")"
    channels = [] if kind == "MaxPool" else [draw(arithmetic(2)), draw(arithmetic(3))]
    arguments = [*channels, kernel, f"stride={stride}", f"padding={padding}"]
    values = [worked_out(a.partition("=")[2] or a) for a in arguments]
    literal = None
    if None not in values:
        literal = ", ".join(f"{a.partition('=')[0]}={v}" if "=" in a else v for a, v in zip(arguments, values))
        literal = f"nn.{kind}{rank}d({literal})"
    expr = f"nn.{kind}{rank}d({', '.join(arguments)})"
    shape = (1, 2, *draw(st.lists(st.integers(1, 9), min_size=rank, max_size=rank)))
    return expr, shape, literal


@given(torch_calls())
@SETTINGS
def test_torch_arithmetic(oracle, case):
    expr, shape, literal = case
    answer = agree(oracle("torch"), expr, shape)
    if literal is not None:  # folded, the arithmetic gives what its value gives: shape or refusal
        try:
            ours = convarith.output_shape(literal, shape)
        except convarith.ConvArithError:
            ours = None
        assert ours == (tuple(answer["shape"]) if "shape" in answer else None), (expr, literal)


@st.composite
def keras_calls(draw):
    filters = draw(arithmetic(draw(st.integers(1, 4))))
    kernel = draw(arithmetic(draw(st.integers(1, 4))))
    strides = f"({draw(arithmetic(draw(st.integers(1, 3))))}, {draw(arithmetic(draw(st.integers(1, 2))))})"
    padding = draw(st.sampled_from(["'valid'", "'same'"]))
    name = draw(st.sampled_from(["Conv2D", "Conv2DTranspose", "MaxPooling2D"]))
    if name == "MaxPooling2D":
        expr = f"keras.layers.MaxPooling2D({kernel}, strides={strides}, padding={padding})"
    else:
        expr = f"keras.layers.{name}({filters}, {kernel}, strides={strides}, padding={padding})"
    return expr, (1, *draw(st.lists(st.integers(1, 9), min_size=2, max_size=2)), 2)


@given(keras_calls())
@SETTINGS
def test_keras_arithmetic(oracle, case):
    expr, shape = case
    agree(oracle("keras"), expr, shape)


@st.composite
def transposed_output_shapes(draw):
    """tf.nn.conv{1,2,3}d_transpose with output_shape=tf.shape(y), y.shape, a list of entries or a slice."""
    rank = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 3))
    spatial = draw(st.lists(st.integers(1, 6), min_size=rank, max_size=rank))
    kernel = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    padding = draw(st.sampled_from(["SAME", "VALID"]))  # (drawn before the target sizes, which it decides)
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if padding == "SAME":  # mostly a size TF accepts (ceil(out / s) == n), sometimes one off
        target = [n * stride - draw(st.integers(0, stride - 1)) for n in spatial]
    else:  # (out - k) // s + 1 == n
        target = [(n - 1) * stride + k + draw(st.integers(0, stride - 1)) for n, k in zip(spatial, kernel)]
    target = [t + draw(st.sampled_from([0, 0, 0, 0, 0, 1, -1])) for t in target]
    y = [draw(st.sampled_from([1, 1, 1, 2])), *target, draw(st.sampled_from([c_out, c_out, c_out, c_out + 1]))]
    form = draw(st.sampled_from(["tf.shape(y)", "y.shape", "entries", "missing"] + (["slice"] if rank == 2 else [])))
    if form == "entries":
        output_shape = "[x.shape[0], " + ", ".join(map(str, target)) + f", {c_out}]"
    elif form == "slice":
        output_shape = "tf.shape(y)[1:3]"
    elif form == "missing":
        output_shape = "tf.shape(z)"
    else:
        output_shape = form
    name = draw(st.sampled_from([f"tf.nn.conv{rank}d_transpose", "tf.nn.conv_transpose"]))
    expr = f"{name}(x, w, output_shape={output_shape}, strides={stride}, padding={padding!r})"
    shapes = {"x": [1, *spatial, c_in], "w": [*kernel, c_out, c_in], "y": y}
    return expr, shapes


TRANSPOSED = {"x": [1, 4, 4, 2], "w": [3, 3, 3, 2], "y": [1, 8, 8, 3]}


@given(transposed_output_shapes())
@example(("tf.nn.conv2d_transpose(x, w, output_shape=tf.shape(y), strides=2, padding='SAME')", TRANSPOSED))
@example(("tf.nn.conv2d_transpose(x, w, tf.shape(y)[1:3], 2)", TRANSPOSED))
@example(("tf.nn.conv_transpose(x, w, tf.shape(y)[1:3], 2)", TRANSPOSED))
@example(("tf.nn.conv2d_transpose(x, w, [x.shape[0], 8, 8, 3], 2, 'VALID')", TRANSPOSED))
@example(("tf.nn.conv2d_transpose(x, w, [x.shape[-4], y.shape[1], 8, w.shape[2]], 2)", TRANSPOSED))
@SETTINGS
def test_tf_nn_output_shape_by_reference(oracle, case):
    expr, shapes = case
    answer = agree(oracle("tf_nn"), expr, shapes=shapes)
    if "shape" in answer and "y)" in expr and "[" not in expr:  # the whole of y's shape: the same as writing it
        literal = expr.replace("tf.shape(y)", repr(shapes["y"])).replace("y.shape", repr(shapes["y"]))
        assert convarith.output_shape(literal, shapes=shapes) == tuple(answer["shape"])


SPECS = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC")}


@st.composite
def jax_dimension_numbers(draw):
    """conv_general_dilated / conv_transpose with dimension_numbers=lax.conv_dimension_numbers(x.shape, w.shape, spec)."""
    rank = draw(st.integers(1, 2))
    letters = "HW"[2 - rank :] if rank == 2 else "W"
    lhs = "".join(draw(st.permutations("NC" + letters)))
    rhs = "".join(draw(st.permutations("OI" + letters)))
    out = "".join(draw(st.permutations("NC" + letters)))
    spec = draw(st.sampled_from([f"({lhs!r}, {rhs!r}, {out!r})", "None", f"({lhs!r}, {rhs!r})"]))
    sizes = {"N": 1, "C": draw(st.integers(1, 3)), "O": draw(st.integers(1, 3)), "I": None}
    sizes["I"] = sizes["C"]
    x = [draw(st.integers(1, 7)) if c not in "NC" else sizes[c] for c in (lhs if spec != "None" else "NC" + letters)]
    w = [draw(st.integers(1, 3)) if c not in "OI" else sizes[c] for c in (rhs if spec != "None" else "OI" + letters)]
    second = draw(st.sampled_from(["w.shape", "w.shape", "w.shape", "z.shape"]))
    numbers = f"lax.conv_dimension_numbers(x.shape, {second}, {spec})"
    strides = "(" + ", ".join(str(draw(st.integers(1, 2))) for _ in range(rank)) + ",)"
    padding = draw(st.sampled_from(["'SAME'", "'VALID'"]))
    name = draw(st.sampled_from(["lax.conv_general_dilated", "lax.conv_transpose"]))
    expr = f"{name}(x, w, {strides}, {padding}, dimension_numbers={numbers})"
    return expr, {"x": x, "w": w, "z": w[:-1]}


@given(jax_dimension_numbers())
@SETTINGS
def test_jax_conv_dimension_numbers(oracle, case):
    expr, shapes = case
    answer = agree(oracle("jax_lax"), expr, shapes=shapes)
    if "shape" in answer and "None" not in expr:  # the same as writing the spec itself
        literal = expr.replace("lax.conv_dimension_numbers(x.shape, w.shape, ", "").removesuffix(")")
        assert convarith.output_shape(literal, shapes=shapes) == tuple(answer["shape"])
