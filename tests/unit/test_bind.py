"""_common.bind: arguments bound like Python binds them, with Python's refusals."""

import pytest

import convarith
from convarith import ConvArithError
from convarith.frameworks._common import REQUIRED, bind
from convarith.parse import Name, parse_call

PARAMS = (
    ("in_channels", REQUIRED),
    ("out_channels", REQUIRED),
    ("kernel_size", REQUIRED),
    ("stride", 1),
    ("padding", 0),
)
KEYWORD_ONLY = (("device", None),)


def bound(text: str) -> dict:
    return bind(parse_call(text), PARAMS, "Conv2d", KEYWORD_ONLY)


def refusal(text: str) -> str:
    with pytest.raises(ConvArithError) as info:
        bound(text)
    return str(info.value)


def test_positional_keyword_and_defaults():
    assert bound("Conv2d(3, 8, kernel_size=(3, 3), device=cpu)") == {
        "in_channels": 3,
        "out_channels": 8,
        "kernel_size": (3, 3),
        "stride": 1,
        "padding": 0,
        "device": Name("cpu"),
    }
    assert bound("Conv2d(padding=2, kernel_size=1, out_channels=4, in_channels=1)")["padding"] == 2


def test_unknown_keyword_with_a_suggestion():
    assert (
        refusal("Conv2d(3, 8, 3, kernal_size=3)")
        == "Conv2d: unexpected keyword argument 'kernal_size'. Rule: Conv2d has no such parameter. "
        "Fix: did you mean 'kernel_size'?"
    )
    assert (
        refusal("Conv2d(3, 8, 3, strides=2)")
        == "Conv2d: unexpected keyword argument 'strides'. Rule: Conv2d has no such parameter. Fix: did you mean 'stride'?"
    )


def test_unknown_keyword_without_a_close_match_lists_the_accepted_ones():
    assert refusal("Conv2d(3, 8, 3, zzz=1)") == (
        "Conv2d: unexpected keyword argument 'zzz'. Rule: Conv2d has no such parameter. "
        "Fix: use one of in_channels, out_channels, kernel_size, stride, padding, device."
    )


def test_too_many_positionals():
    assert refusal("Conv2d(3, 8, 3, 1, 0, 1)") == (
        "Conv2d: takes at most 5 positional arguments, got 6. "
        "Rule: the positional order is in_channels, out_channels, kernel_size, stride... "
        "Fix: pass the extra ones by keyword."
    )


def test_keyword_only_cannot_be_positional():
    # device is keyword-only: a sixth positional is refused even though device exists
    assert "takes at most 5 positional arguments" in refusal("Conv2d(3, 8, 3, 1, 0, cpu)")


def test_missing_required():
    assert refusal("Conv2d(3, 8)") == (
        "Conv2d: missing required argument 'kernel_size'. Rule: Conv2d has no default for it. Fix: pass it."
    )
    assert refusal("Conv2d(kernel_size=3)").startswith("Conv2d: missing required argument 'in_channels'.")


def test_duplicate_value():
    assert refusal("Conv2d(3, 8, 3, in_channels=3)") == (
        "Conv2d: got multiple values for argument 'in_channels'. Rule: it is already given by position. "
        "Fix: drop the keyword or the positional value."
    )
    assert refusal("Conv2d(3, 8, 3, 2, stride=2)").startswith("Conv2d: got multiple values for argument 'stride'.")


def test_value_checks_name_the_rule_and_a_fix():
    assert refusal_of("nn.Conv2d(3, 8, 3.0)") == (
        "Conv2d: kernel_size must be an int, got 3.0. Rule: sizes are whole numbers. Fix: kernel_size=3."
    )
    assert refusal_of("nn.Conv2d(3, 8, 3, bias=1)") == (
        "Conv2d: bias must be True or False, got 1. Rule: it is a flag. Fix: bias=True or False."
    )
    assert refusal_of("nn.Conv2d(3, 8, (3, 3, 3))") == (
        "Conv2d: kernel_size=(3, 3, 3) must have 2 entries, got 3. Rule: one value per spatial axis. "
        "Fix: a single int, or a tuple of 2."
    )
    assert refusal_of("nn.Conv2d(3, 8, 3, padding_mode='wrap')") == (
        "Conv2d: padding_mode='wrap' is not accepted. Rule: padding_mode is one of 'zeros', 'reflect', 'replicate', "
        "'circular'. Fix: padding_mode='zeros'."
    )


def refusal_of(expr: str) -> str:
    with pytest.raises(convarith.ConvArithError) as info:
        convarith.output_shape(expr, (1, 3, 8, 8))
    return str(info.value)
