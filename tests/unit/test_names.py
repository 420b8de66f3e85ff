"""Names (issue 8): bare names, ambiguity, "did you mean" among same-meaning spellings, known but
unsupported layers, torch aliases, Keras base-layer keywords, calls as keyword values, a None batch."""

from __future__ import annotations

import pytest

import convarith
from convarith import ConvArithError, explain, frameworks, output_shape
from convarith.cli import main
from convarith.frameworks import names
from convarith.parse import Call, parse_call

X = {"x": (1, 3, 8, 8), "w": (4, 3, 3, 3)}


# --- bare names and ambiguity --------------------------------------------------------------------------------------


def test_every_bare_name_is_registered_and_resolves_or_is_ambiguous():
    compilers, owners = frameworks.table()
    spelled = frameworks.spellings()
    for bare, owned in spelled.items():
        assert bare in compilers and owners[bare] == list(owned)
        if len(owned) == 1:
            (spelling,) = owned.values()
            assert frameworks.compiler_for(parse_call(f"{bare}(x)")) is compilers[spelling], bare
        else:
            with pytest.raises(ConvArithError) as caught:
                frameworks.compiler_for(parse_call(f"{bare}(x)"))
            assert all(f" as {spelling}" in str(caught.value) for spelling in owned.values()), caught.value


def test_ambiguous_bare_names_include_the_torch_and_tf_nn_ones():
    owners = frameworks.table()[1]
    ambiguous = {name for name, owned in owners.items() if len(owned) > 1}
    assert {"conv2d", "conv3d", "max_pool2d", "avg_pool2d"} <= ambiguous
    assert frameworks.spellings()["conv2d"] == {"PyTorch": "F.conv2d", "TensorFlow (tf.nn)": "tf.nn.conv2d"}


def test_a_unique_bare_name_resolves():
    assert output_shape("conv_transpose2d(x, w, stride=2)", shapes={"x": (1, 4, 5, 5), "w": (4, 2, 3, 3)}) == (
        1, 2, 11, 11,
    )  # fmt: skip
    assert output_shape("conv2d_transpose(x, w, (1, 10, 10, 2), 2)", shapes={"x": (1, 5, 5, 4), "w": (3, 3, 2, 4)})
    assert output_shape("adaptive_avg_pool2d(x, 2)", shapes={"x": (1, 3, 8, 8)}) == (1, 3, 2, 2)


# --- did you mean: same family, dimension and style ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("keras.layers.MaxPooling2D", "F.max_pool2d", False),  # class and function
        ("keras.layers.MaxPooling2D", "nn.MaxPool2d", True),
        ("keras.layers.GlobalAveragePooling2D", "keras.layers.AveragePooling2D", False),
        ("keras.layers.GlobalAveragePooling2D", "keras.layers.GlobalAvgPool2D", True),
        ("torch.conv2d", "nn.Conv2d", False),
        ("torch.conv2d", "F.conv2d", True),
        ("nn.Conv2d", "nn.Conv3d", False),
        ("tf.nn.conv2d_transpose", "F.conv_transpose2d", True),
        ("nn.LazyConv2d", "nn.Conv2d", False),
    ],
)
def test_meaning(first, second, same):
    assert (names.meaning(first) == names.meaning(second)) is same


def test_suggestions_mean_the_same_thing():
    table = ["keras.layers.AveragePooling2D", "keras.layers.GlobalAveragePooling2D", "nn.Conv2d", "F.conv2d"]
    assert names.suggestions("keras.layers.GlobalAveragePoling2D", table) == ["keras.layers.GlobalAveragePooling2D"]
    assert names.suggestions("keras.layers.GlobalAveragePooling2D", table[:1]) == []
    assert names.suggestions("torch.Conv2d", ["nn.Conv2d", "F.conv2d"]) == ["F.conv2d"]  # torch. holds functions
    assert names.suggestions("Torch.nn.Conv2D", ["nn.Conv2d", "F.conv2d"]) == ["nn.Conv2d"]  # by case


def test_unknown_names_suggest_only_the_same_meaning():
    with pytest.raises(ConvArithError, match=r"Did you mean nn\.Conv2d\? Rule"):
        output_shape("nn.Conv2D(3, 8, 3)", (1, 3, 8, 8))
    with pytest.raises(ConvArithError, match=r"Did you mean tf\.nn\.conv2d\? Rule"):
        output_shape("tf.nn.Conv2d(x, w, 1, 'SAME')", shapes=X)
    with pytest.raises(ConvArithError, match=r"Did you mean layers\.MaxPool2D or layers\.MaxPooling2D\? Rule"):
        output_shape("layers.MaxPool2d(2)", (1, 8, 8, 3))
    with pytest.raises(ConvArithError) as caught:
        output_shape("nn.Conv2x(3, 8, 3)", (1, 3, 8, 8))
    assert "Did you mean" not in str(caught.value)


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        ("keras.layers.Dense(10)", names.LAST_AXIS),
        ("tf.keras.layers.BatchNormalization()", names.SHAPE_KEEPING),
        ("nn.BatchNorm2d(3)", names.SHAPE_KEEPING),
        ("torch.nn.LSTM(3, 4)", names.RECURRENT),
        ("F.grid_sample(x, g)", names.GRID),
        ("keras.ops.conv(x, w)", names.KERAS_OPS),
    ],
)
def test_known_but_unsupported_is_said_plainly(expr, why):
    with pytest.raises(ConvArithError) as caught:
        output_shape(expr, (1, 3, 8, 8))
    name = expr.partition("(")[0]
    assert str(caught.value).startswith(f"convarith knows {name} but does not compute it: {why}. Rule: ")


# --- torch aliases -------------------------------------------------------------------------------------------------


def test_torch_namespace_aliases():
    assert output_shape("torch.conv2d(x, w, padding=1)", shapes=X) == (1, 4, 8, 8)
    assert output_shape("torch.max_pool2d(x, 2)", shapes=X) == (1, 3, 4, 4)
    assert output_shape("torch.avg_pool1d(x, 3)", shapes={"x": (1, 3, 9)}) == (1, 3, 3)
    with pytest.raises(ConvArithError, match="unexpected keyword argument 'return_indices'"):
        output_shape("torch.max_pool2d(x, 2, return_indices=True)", shapes=X)
    with pytest.raises(ConvArithError, match="takes at most 6 positional arguments, got 7"):
        output_shape("torch.max_pool1d(x, 2, 2, 0, 1, False, True)", shapes={"x": (1, 3, 9)})
    assert output_shape("F.max_pool1d(x, 2, 2, 0, 1, False, True)", shapes={"x": (1, 3, 9)}) == (1, 3, 4)
    with pytest.raises(ConvArithError, match="unknown layer or function 'torch.avg_pool2d'"):
        output_shape("torch.avg_pool2d(x, 2)", shapes=X)


def test_lazy_modules_read_in_channels_from_the_input():
    assert output_shape("nn.LazyConv2d(8, 3)", (1, 5, 9, 9)) == (1, 8, 7, 7)
    assert output_shape("nn.LazyConv1d(8, 3)", (5, 9)) == (8, 7)
    assert output_shape("nn.LazyConvTranspose2d(8, 3, 2)", (1, 5, 4, 4)) == (1, 8, 9, 9)
    assert "in_channels = 5, read from the input" in str(explain("nn.LazyConv2d(8, 3)", (1, 5, 9, 9)))
    with pytest.raises(ConvArithError, match="unexpected keyword argument 'in_channels'"):
        output_shape("nn.LazyConv2d(8, 3, in_channels=5)", (1, 5, 9, 9))
    with pytest.raises(ConvArithError, match="not divisible by groups=2"):
        output_shape("nn.LazyConv2d(8, 3, groups=2)", (1, 5, 9, 9))


# --- Keras base-layer keywords and calls as values -----------------------------------------------------------------


def test_a_call_as_a_keyword_value_is_kept_as_text():
    call = parse_call("Conv2D(8, 3, kernel_regularizer=keras.regularizers.L2(l2=1e-4))")
    (value,) = [v for _, v in call.kwargs]
    assert isinstance(value, Call) and value.name == "keras.regularizers.L2"
    assert value.text == "keras.regularizers.L2(l2=0.0001)"
    with pytest.raises(ConvArithError, match="a call is not allowed here"):
        parse_call("Conv2D(8, 3, kernel_regularizer=l2(__import__('os')))")
    with pytest.raises(ConvArithError, match="filters=l2\\(1\\) is a call, which is not evaluated"):
        output_shape("keras.layers.Conv2D(l2(1), 3)", (1, 8, 8, 3))


def test_keras_base_and_weight_keywords_are_accepted():
    expr = (
        "keras.layers.Conv2D(8, 3, name='c1', dtype='mixed_float16', trainable=False, kernel_regularizer=l2(1e-4), "
        "kernel_initializer=keras.initializers.HeNormal(), bias_initializer='zeros', bias_constraint='non_neg', "
        "activity_regularizer='l1')"
    )
    assert output_shape(expr, (1, 9, 9, 3)) == (1, 7, 7, 8)
    assert output_shape("layers.MaxPool2D(2, name='p', activity_regularizer='l2')", (1, 8, 8, 3)) == (1, 4, 4, 3)


@pytest.mark.parametrize(
    ("keyword", "message"),
    [
        ("batch_size=2", "batch_size=2 is a Keras 2 keyword. Rule: Keras 3 layers refuse it"),
        ("input_length=5", "input_length=5 is a Keras 2 keyword"),
        ("name='a/b'", "name='a/b' is refused"),
        ("name=3", "name=3 is refused"),
        ("dtype='int8'", "dtype='int8' is not a dtype or policy Keras takes"),
        ("trainable=1", "trainable=1 is not a bool"),
        ("kernel_initializer='he_nrmal'", "kernel_initializer='he_nrmal' is not a Keras initializer. Rule: "),
        ("kernel_regularizer='l1_l2'", "kernel_regularizer='l1_l2' is not a Keras regularizer"),
        ("kernel_constraint=3", "kernel_constraint=3 is not a Keras constraint"),
    ],
)
def test_keras_refuses_base_keywords_as_keras_does(keyword, message):
    with pytest.raises(ConvArithError) as caught:
        output_shape(f"keras.layers.Conv2D(8, 3, {keyword})", (1, 9, 9, 3))
    assert str(caught.value).startswith(f"Conv2D: {message}")


def test_input_shape_keyword_gives_the_input_with_a_none_batch():
    assert output_shape("Conv2D(8, 3, input_shape=(28, 28, 1))") == (None, 26, 26, 8)
    assert output_shape("Conv2D(8, 3, input_shape=(28, 28, 1))", (2, 10, 10, 1)) == (2, 8, 8, 8)  # x wins
    assert (
        str(explain("Conv1D(4, 3, input_shape=[10, 2])")).splitlines()[1]
        == "input (None, 10, 2) -> output (None, 8, 4)"
    )
    with pytest.raises(ConvArithError, match=r"expected a 4D input .*got shape \(1, 3\)"):
        output_shape("MaxPooling2D(2, input_dim=3)")  # Keras: input_shape = (input_dim,)


# --- a None batch --------------------------------------------------------------------------------------------------


def test_a_none_batch_is_kept():
    assert output_shape("keras.layers.Conv1D(4, 3)", (None, 200, 2)) == (None, 198, 4)
    assert output_shape("keras.layers.Conv1D(4, 3)", [None, 200, 2]) == (None, 198, 4)
    assert output_shape("nn.Conv1d(2, 4, 3)", (None, 2, 9)) == (None, 4, 7)
    e = explain("keras.layers.Conv1D(4, 3)", (None, 200, 2))
    assert e.output_shape == (None, 198, 4) and e.to_dict()["input_shape"] == [None, 200, 2]
    assert str(e).splitlines()[1] == "input (None, 200, 2) -> output (None, 198, 4)"
    assert output_shape("keras.layers.Conv1D(4, 3)", (5, 200, 2)) == (5, 198, 4)  # ints as before


def test_a_none_that_is_not_the_batch_is_refused():
    with pytest.raises(ConvArithError, match=r"has None first, but its first axis is not the batch"):
        output_shape("nn.Conv1d(1, 4, 3)", (None, 9))  # unbatched: the first axis is the channels
    with pytest.raises(ConvArithError, match=r"holds None"):
        output_shape("keras.layers.Conv1D(4, 3)", (1, None, 2))
    with pytest.raises(ConvArithError, match=r"read with its None batch as 1"):
        output_shape("nn.Conv1d(3, 4, 3)", (None, 2, 9))


def test_forward_needs_numbers():
    with pytest.raises(ConvArithError, match="forward needs the input x=ndarray"):
        convarith.forward("Conv2D(8, 3, input_shape=(28, 28, 1))")


def test_cli_reads_a_none_batch(capsys):
    assert main(["shape", "keras.layers.Conv1D(4, 3)", "--input", "None,200,2"]) == 0
    assert capsys.readouterr().out.strip() == "(None, 198, 4)"
    assert main(["shape", "keras.layers.Conv1D(4, 3)", "--input", "1,None,2"]) == 1


def test_a_sweep_refuses_a_none_batch_plainly():
    with pytest.raises(ConvArithError, match=r"has a None batch. Rule: a sweep returns a table of ints"):
        convarith.sweep("keras.layers.Conv1D(4, k)", (None, 9, 2), k=[1, 3])
    assert convarith.sweep("nn.LazyConv1d(4, k)", (1, 3, 9), k=[1, 3]).shapes.tolist() == [[1, 4, 9], [1, 4, 7]]


def test_an_input_shape_keyword_with_a_none_size_needs_the_input():
    with pytest.raises(ConvArithError, match=r"input_shape=\(None, 3\) has a None size and no input was given"):
        output_shape("Conv1D(4, 3, input_shape=(None, 3))")
    assert output_shape("Conv1D(4, 3, input_shape=(None, 3))", (None, 20, 3)) == (None, 18, 4)
    with pytest.raises(ConvArithError, match="input shape is missing"):
        output_shape("Conv1D(4, 3, input_shape=3)")  # Keras keeps it; no input can be built from it
