"""The public API: exported names, the exception type, and refusals of bad input."""

import inspect

import pytest

import convarith
from convarith import ConvArithError, frameworks, output_shape


def test_all_is_the_sorted_public_names():
    public = {
        name for name in dir(convarith) if not name.startswith("_") and not inspect.ismodule(getattr(convarith, name))
    }
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


@pytest.mark.parametrize(
    ("expr", "input_shape", "message"),
    [
        (123, (1, 3, 8, 8), "expr must be a string holding the call, got int."),
        (
            "nn.Conv2d(3, 8, 3)",
            "1,3,8,8",
            "input_shape must be a tuple of ints such as (1, 96, 128, 3), got '1,3,8,8'.",
        ),
        ("nn.Conv2d(3, 8, 3)", (1, 3, 8.0, 8), "input_shape must hold ints, got 8.0 in (1, 3, 8.0, 8)."),
        ("nn.Conv2d(3, 8, 3)", (1, 3, True, 8), "input_shape must hold ints, got True in (1, 3, True, 8)."),
        (
            "nn.Conv2d(3, 8, 3)",
            (1, 3, -8, 8),
            "input_shape has a negative size -8 in (1, 3, -8, 8). Rule: sizes are >= 0.",
        ),
        (
            "F.conv2d(x, w)",
            None,
            "conv2d: no shape given for input=x. Fix: pass shapes={'x': (...)} (--shape x=... in the CLI); "
            "shapes given: none.",
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
    with pytest.raises(ConvArithError, match=r"^shapes must be a dict \{name: shape\}, got list\.$"):
        output_shape("F.conv2d(x, w)", shapes=[(1, 3, 8, 8)])


def test_unknown_layer_suggests_the_close_spelling():
    with pytest.raises(ConvArithError) as caught:
        output_shape("nn.Conv2D(3, 8, 3)", (1, 3, 8, 8))
    assert str(caught.value).startswith("unknown layer or function 'nn.Conv2D'. Did you mean nn.Conv2d")


def test_evaluation_is_refused():
    with pytest.raises(ConvArithError, match="nothing is evaluated"):
        output_shape("nn.Conv2d(3, 8, __import__('os').getpid())", (1, 3, 8, 8))


def test_ambiguous_bare_name_is_refused(monkeypatch):
    def handler(call, inputs):
        raise AssertionError("an ambiguous spelling must not be mapped")

    table = ({"ambiguous_pool2d": handler}, {"ambiguous_pool2d": ["PyTorch", "tf.nn"]})
    monkeypatch.setattr(frameworks, "table", lambda: table)
    with pytest.raises(ConvArithError) as caught:
        output_shape("ambiguous_pool2d(x, 2)", shapes={"x": (1, 3, 8, 8)})
    assert str(caught.value) == (
        "'ambiguous_pool2d' is ambiguous: it exists in PyTorch and tf.nn. "
        "Fix: write the module prefix, e.g. tf.nn.ambiguous_pool2d or F.ambiguous_pool2d."
    )


def test_every_real_ambiguous_spelling_is_refused():
    _, owners = frameworks.table()
    for spelling in (name for name, owned in owners.items() if len(owned) > 1):
        with pytest.raises(ConvArithError, match="is ambiguous"):
            output_shape(f"{spelling}(x)", shapes={"x": (1, 3, 8, 8)})
