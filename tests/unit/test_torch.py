"""PyTorch mapping: hand-checked shapes, spellings, and the exact refusal texts."""

import pytest

import convarith
from convarith.api import map_call, plan_for
from convarith.frameworks import torch as torch_module
from convarith.frameworks._common import Inputs
from tests.unit.fast_paths import assert_fast_path_agrees


def refusal(expr, input_shape=None, **kwargs) -> str:
    with pytest.raises(convarith.ConvArithError) as info:
        convarith.output_shape(expr, input_shape, **kwargs)
    return str(info.value)


@pytest.mark.parametrize(
    ("expr", "input_shape", "expected"),
    [
        # floor((9 + 2*1 - 3) / 2) + 1 = 5
        ("nn.Conv2d(3, 8, 3, stride=2, padding=1)", (1, 3, 9, 9), (1, 8, 5, 5)),
        # 'same', even kernel: total 1*(4-1) = 3 -> 1 before, 2 after; out = n
        ("nn.Conv1d(2, 4, 4, padding='same')", (2, 2, 7), (2, 4, 7)),
        # dilation 2: effective kernel 5; floor((10 - 5) / 1) + 1 = 6; unbatched keeps 2 dims
        ("torch.nn.Conv1d(2, 4, 3, dilation=2)", (2, 10), (4, 6)),
        # reflect pads 2 per side first: 5 + 4 - 3 + 1 = 7
        ("Conv1d(1, 1, 3, padding=2, padding_mode='reflect')", (1, 1, 5), (1, 1, 7)),
        # 'same' with reflect and a 1-entry dilation: the module pads only the height (2*(3-1) = 4);
        # the width is unpadded: 7 - 5 + 1 = 3
        ("nn.Conv2d(1, 1, 3, padding='same', dilation=(2,), padding_mode='reflect')", (1, 1, 7, 7), (1, 1, 7, 3)),
        # (5-1)*2 + 3 - 2*1 + 1 = 10
        ("nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)", (1, 4, 5, 5), (1, 2, 10, 10)),
        # ceil_mode: ceil((5 + 2 - 2) / 3) + 1 = 3, the last window would start in the padding -> 2
        ("nn.MaxPool1d(2, stride=3, padding=1, ceil_mode=True)", (1, 1, 5), (1, 1, 2)),
        # stride defaults to the kernel: floor((8 - 3) / 3) + 1 = 2
        ("nn.AvgPool2d(3)", (1, 3, 8, 8), (1, 3, 2, 2)),
        # LPPool is an unpadded AvgPool: ceil((8 - 3) / 2) + 1 = 4
        ("nn.LPPool2d(1.5, 3, stride=2, ceil_mode=True)", (1, 1, 8, 8), (1, 1, 4, 4)),
        ("nn.AdaptiveAvgPool2d((2, None))", (1, 3, 8, 6), (1, 3, 2, 6)),
        # output size 1 is a mean: torch does not refuse the empty input
        ("nn.AdaptiveAvgPool1d(1)", (2, 0), (2, 1)),
        # dilation 0 passes through oneDNN for groups > 1 on a 1-wide kernel: (5-1)*2 + 1 = 9
        ("nn.ConvTranspose1d(2, 2, 1, dilation=0, groups=2, stride=2)", (2, 5), (2, 9)),
        # ... and for a single input cell with stride >= kernel: (1-1)*3 + 0*(3-1)+1 = 1
        ("nn.ConvTranspose1d(2, 2, 3, stride=3, dilation=0, groups=2)", (2, 1), (2, 1)),
        # oneDNN (batch 2) returns an empty output: (2-1)*3 + 1 - 4 = 0
        ("nn.ConvTranspose1d(1, 1, 1, stride=3, padding=2)", (2, 1, 2), (2, 1, 0)),
    ],
)
def test_hand_checked_shapes(expr, input_shape, expected):
    assert convarith.output_shape(expr, input_shape) == expected


def test_functionals_take_shapes_by_name():
    shapes = {"x": (1, 2, 8, 8), "w": (3, 2, 2, 2), "b": (3,)}
    assert convarith.output_shape("F.conv2d(x, w, b, stride=2)", shapes=shapes) == (1, 3, 4, 4)
    # transposed weights are (in, out/groups, k...): out channels 3*2
    shapes = {"x": (1, 2, 8, 8), "w": (2, 3, 2, 2)}
    assert convarith.output_shape("nn.functional.conv_transpose2d(x, w, groups=2)", shapes=shapes) == (1, 6, 9, 9)
    # F.max_pool2d puts ceil_mode before return_indices (the module has them the other way round)
    assert convarith.output_shape("F.max_pool2d(x, 3, 2, 1, 1, True)", shapes={"x": (1, 1, 8, 8)}) == (1, 1, 5, 5)
    assert convarith.output_shape(
        "torch.nn.functional.adaptive_max_pool2d(x, (3, None), True)", shapes={"x": (1, 1, 8, 8)}
    ) == (1, 1, 3, 8)


def test_output_size_picks_output_padding():
    mapped = map_call("nn.ConvTranspose2d(1, 1, 3, stride=2)", (1, 1, 5, 5), output_size=(1, 1, 12, 11))
    assert mapped.output_shape == (1, 1, 12, 11)
    assert mapped.ops[0].output_padding == (1, 0)
    # unbatched input: the full form has C + spatial entries
    assert convarith.output_shape("nn.ConvTranspose1d(1, 1, 3, stride=2)", (1, 5), output_size=(1, 12)) == (1, 12)


def test_every_spelling_is_registered():
    for rank in (1, 2, 3):
        for name in ("Conv", "ConvTranspose", "MaxPool", "AvgPool", "LPPool", "AdaptiveAvgPool", "AdaptiveMaxPool"):
            for prefix in ("", "nn.", "torch.nn."):
                assert f"{prefix}{name}{rank}d" in torch_module.CALLS
        for name in (
            "conv",
            "conv_transpose",
            "max_pool",
            "avg_pool",
            "lp_pool",
            "adaptive_avg_pool",
            "adaptive_max_pool",
        ):
            for prefix in ("F.", "nn.functional.", "torch.nn.functional."):
                assert f"{prefix}{name}{rank}d" in torch_module.CALLS


def test_same_padding_rule_text():
    mapped = map_call("nn.Conv1d(2, 4, 4, padding='same')", (1, 2, 7))
    assert (mapped.ops[0].pad_lo, mapped.ops[0].pad_hi) == ((1,), (2,))
    assert mapped.padding_rules == (
        "'same' (stride 1): total pad = 1*(4-1) = 3 -> before 1, after 2, the odd pixel at the end",
    )


@pytest.mark.parametrize(
    ("expr", "input_shape", "kwargs", "message"),
    [
        (
            "nn.Conv2d(3, 8, 3, stride=2, padding='same')",
            (1, 3, 9, 9),
            {},
            "Conv2d: padding='same' needs stride=1, got stride=(2, 2). Rule: PyTorch only computes 'same' padding for "
            "unit stride. Fix: use stride=1, or an explicit padding such as padding=1.",
        ),
        (
            "nn.Conv2d(3, 8, 7)",
            (1, 3, 4, 4),
            {},
            "Conv2d: input height 4 is too small. Rule: out = floor((4 + 0 + 0 - 7) / 1) + 1 = -2, must be >= 1 "
            "(padded size 4 < effective kernel 7). Fix: padding>=2 or kernel_size<=4.",
        ),
        (
            "nn.Conv1d(3, 8, 0)",
            (1, 3, 4),
            {},
            "Conv1d: kernel_size=0 must be >= 1 on every axis. Rule: every kernel axis must be at least 1. "
            "Fix: kernel_size=1 or larger.",
        ),
        (
            "nn.Conv1d(3, 8, 3)",
            (1, 4, 9),
            {},
            "Conv1d: input shape (1, 4, 9) has 4 channels, expected 3. Rule: with groups=1 and 3 input channels per "
            "group the input needs 3*1 = 3 channels on dimension 1. Fix: in_channels=4.",
        ),
        (
            "nn.Conv2d(3, 8, 3, groups=2)",
            (1, 3, 9, 9),
            {},
            "Conv2d: in_channels=3 is not divisible by groups=2. Rule: each of the 2 groups needs the same number of "
            "input channels. Fix: groups dividing 3, or in_channels=2.",
        ),
        (
            "nn.Conv1d(2, 2, 3, padding=2, padding_mode='reflect')",
            (1, 2, 2),
            {},
            "Conv1d: padding_mode='reflect' with padding (2, 2) on the input length 2. Rule: a reflection pad must be "
            "smaller than the input size. Fix: padding <= 1, or padding_mode='replicate'.",
        ),
        (
            "nn.ConvTranspose1d(2, 2, 3, padding_mode='reflect')",
            (1, 2, 2),
            {},
            "ConvTranspose1d: padding_mode='reflect' is not supported. Rule: ConvTranspose1d only pads with zeros. "
            "Fix: padding_mode='zeros' (or pad the input with F.pad first).",
        ),
        (
            "nn.ConvTranspose1d(2, 2, 3, output_padding=1)",
            (1, 2, 5),
            {},
            "ConvTranspose1d: output_padding=1 on the length axis is too large. Rule: output padding must be smaller "
            "than either stride (1) or dilation (1). Fix: output_padding <= 0, or stride > 1.",
        ),
        (
            "nn.ConvTranspose1d(1, 1, 3, dilation=0)",
            (1, 1, 5),
            {},
            "ConvTranspose1d: dilation=0 must be >= 1 on every axis. Rule: torch's transposed convolution requires "
            "dilation > 0. Fix: dilation=1.",
        ),
        (
            "nn.ConvTranspose2d(1, 1, 3, stride=2)",
            (1, 1, 5, 5),
            {"output_size": (20, 20)},
            "ConvTranspose2d: output_size 20 on the height axis is out of reach. Rule: out = (5-1)*2 + 3 - 0 - 0 + 0 "
            "= 11 + output_padding, with 0 <= output_padding < stride=2, so valid sizes are 11 to 12. "
            "Fix: output_size between 11 and 12.",
        ),
        (
            "nn.ConvTranspose2d(1, 1, 3, stride=2)",
            (1, 1, 5, 5),
            {"output_size": (1, 11, 11)},
            "ConvTranspose2d: output_size=(1, 11, 11) has 3 entries. Rule: for a 4D input torch takes 2 (spatial) or "
            "4 (full shape) entries. Fix: output_size with 2 spatial sizes.",
        ),
        (
            "nn.ConvTranspose1d(1, 1, 1, padding=1)",
            (1, 1, 2),
            {},
            "ConvTranspose1d: input length 2 gives an empty output. Rule: out = (2-1)*1 + 1 - 1 - 1 + 0 = 0, "
            "must be >= 1. Fix: padding <= 0 or a larger input.",
        ),
        (
            "nn.MaxPool2d(3, padding=2, dilation=2)",
            (1, 1, 9, 9),
            {},
            "MaxPool2d: padding=2 on the height axis is too large for kernel_size=3. Rule: pad should be at most half "
            "of kernel size (padding <= kernel_size // 2, dilation not counted). Fix: padding <= 1, or pad the input first.",
        ),
        (
            "nn.MaxPool1d(2, dilation=2)",
            (1, 1, 2),
            {},
            "MaxPool1d: input length 2 is too small. Rule: out = floor((2 + 0 + 0 - 2*(2-1) - 1) / 2) + 1 = 0, "
            "must be >= 1. Fix: an input of at least 3, more padding, or a smaller kernel_size.",
        ),
        (
            "nn.AvgPool3d(2, ceil_mode=True)",
            (1, 1, 1, 1, 1),
            {},
            "AvgPool3d: input (1, 1, 1) is smaller than kernel_size (2, 2, 2). Rule: torch's 3D average pooling needs "
            "every input axis >= the kernel, padding and ceil_mode not counted. Fix: an input of at least (2, 2, 2), "
            "or a smaller kernel_size.",
        ),
        (
            "nn.AvgPool2d(3, divisor_override=0)",
            (1, 1, 9, 9),
            {},
            "AvgPool2d: divisor_override=0. Rule: the divisor must not be zero. Fix: divisor_override=None or a "
            "non-zero int.",
        ),
        (
            "nn.AdaptiveAvgPool2d((3,))",
            (1, 1, 5, 5),
            {},
            "AdaptiveAvgPool2d: output_size=(3,) has 1 entry. Rule: AdaptiveAvgPool2d needs one size per spatial axis "
            "(2). Fix: an int or 2 sizes.",
        ),
        (
            "nn.Conv2d(3, 8, 3)",
            (1, 3, 9, 9),
            {"output_size": (9, 9)},
            "Conv2d: output_size=(9, 9) was given. Rule: only nn.ConvTranspose1d/2d/3d and nn.MaxUnpool1d/2d/3d "
            "modules accept an output_size in forward; Conv2d raises TypeError. Fix: drop output_size (for transposed "
            "functionals use output_padding).",
        ),
        (
            "F.conv2d(x, w, b)",
            None,
            {"shapes": {"x": (1, 2, 8, 8), "w": (3, 2, 2, 2), "b": (4,)}},
            "conv2d: bias shape (4,) does not match weight (3, 2, 2, 2). Rule: bias must be 1D with one entry per "
            "output channel (3). Fix: a bias of shape (3,), or bias=None.",
        ),
        (
            "nn.Conv2d(3, 8, 3)",
            (3, 9),
            {},
            "Conv2d: input shape (3, 9) has 2 dimensions. Rule: Conv2d takes 3D (unbatched) or 4D (batched) input laid "
            "out (N, C, height, width). Fix: give a 4D shape such as (1, C, height, width).",
        ),
    ],
)
def test_refusal_messages(expr, input_shape, kwargs, message):
    assert refusal(expr, input_shape, **kwargs) == message


def test_zero_dilation_is_refused_on_the_native_path():
    # batch 1, groups 1, small input: torch's own kernel runs and checks dilation
    assert "dilation=0" in refusal("nn.ConvTranspose1d(1, 1, 1, dilation=0)", (1, 1, 5))
    # 3D never goes through the accepting path; a wider kernel is refused by oneDNN
    assert "dilation=0" in refusal("nn.ConvTranspose3d(2, 2, 1, dilation=0, groups=2)", (1, 2, 5, 5, 5))
    assert "dilation=0" in refusal("nn.ConvTranspose1d(2, 2, 3, dilation=0, groups=2)", (1, 2, 5))
    mapped = map_call("nn.ConvTranspose1d(2, 2, 1, dilation=0, groups=2)", (1, 2, 5))
    assert mapped.notes == (torch_module.ZERO_DILATION_NOTE,)


NEGATIVE_WEIGHT = "torch cannot create a weight with a negative dimension (RuntimeError when the module is built)"


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        # issue 7: answered (1, -1, 6, 6); torch: "Trying to create tensor with negative dimension -1"
        ("nn.Conv2d(1, -1, 3)", f"Conv2d: out_channels=-1 is negative. Rule: {NEGATIVE_WEIGHT}. Fix: out_channels=1 or more."),
        ("nn.Conv2d(-1, 4, 3)", f"Conv2d: in_channels=-1 is negative. Rule: {NEGATIVE_WEIGHT}. Fix: in_channels=1 or more."),
        ("nn.Conv1d(-2, -2, 3)", f"Conv1d: in_channels=-2 is negative. Rule: {NEGATIVE_WEIGHT}. Fix: in_channels=1 or more."),
        (
            "nn.ConvTranspose2d(1, -1, 3)",
            f"ConvTranspose2d: out_channels=-1 is negative. Rule: {NEGATIVE_WEIGHT}. Fix: out_channels=1 or more.",
        ),
        (
            "nn.ConvTranspose2d(-4, 4, 3, groups=2)",
            f"ConvTranspose2d: in_channels=-4 is negative. Rule: {NEGATIVE_WEIGHT}. Fix: in_channels=2 or more.",
        ),
        # torch checks divisibility first (ValueError), as convarith does
        ("nn.Conv2d(2, -3, 3, groups=2)", "Conv2d: out_channels=-3 is not divisible by groups=2."),
        # measured: in_channels=0 runs (an empty result), out_channels=0 is refused
        ("nn.Conv2d(1, 0, 3)", "Conv2d: the weight gives 0 output channels."),
        ("nn.Conv2d(2, 2, 3, groups=-1)", "Conv2d: groups=-1 is not positive."),
    ],
)  # fmt: skip
def test_negative_and_zero_counts_as_torch_measures_them(expr, message):
    shape = (1, max(int(expr.split("(")[1].split(",")[0]), 0), 8, 8)
    if "1d" in expr:
        shape = shape[:3]
    assert refusal(expr, shape).startswith(message)


def test_zero_in_channels_give_an_empty_result():
    assert convarith.output_shape("nn.Conv2d(0, 4, 3)", (1, 0, 8, 8)) == (1, 0, 6, 6)  # measured in torch 2.13


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (
            "nn.LPPool1d(2, k)",  # issue 7: was TypeError ('Name' object is not subscriptable)
            "LPPool1d: kernel_size is given as the variable k, whose value is needed. Rule: nothing is evaluated, "
            "so every number is read from the call itself. Fix: write the value in the call, or sweep it with "
            "convarith.sweep(expr, ..., k=[1, 2, 3]).",
        ),
        (
            "nn.LPPool1d(2, (3,))",
            "LPPool1d: kernel_size=(3,) is not an int. Rule: LPPool1d multiplies by kernel_size, which must be a "
            "plain int. Fix: kernel_size=3.",
        ),
        ("nn.Conv2d(3, 8, k)", "Conv2d: kernel_size is given as the variable k, whose value is needed. Rule: "),
        ("nn.Conv2d(3, 8, 3, padding=[])", "Conv2d: padding=[] must have 2 entries, got 0."),
        ("nn.Conv2d(3, 8, 3, padding_mode=[])", "Conv2d: padding_mode=[] is not accepted."),
        ("nn.Conv2d(3, 8, 3, stride=1e300)", "Conv2d: stride must be an int, got 1e+300. Rule: sizes are whole numbers. Fix: stride=1."),
        ("nn.Conv2d(3, 8, 3, bias=[])", "Conv2d: bias must be True or False, got []."),
        ("nn.MaxPool2d(2, ceil_mode=None)", "MaxPool2d: ceil_mode must be True or False, got None."),
        ("nn.AdaptiveAvgPool2d([[2]])", "AdaptiveAvgPool2d: output_size=[[2]] has 1 entry."),
    ],
)  # fmt: skip
def test_wrong_types_are_refused(expr, message):
    assert refusal(expr, (1, 3, 8, 8)).startswith(message)


@pytest.mark.parametrize(
    ("expr", "input_shape", "output_size", "first"),
    [
        # torch checks the input's rank before the stride: the compiled plan keeps the stride refusal waiting
        ("nn.Conv2d(3, 8, 3, stride=0)", (1, 3), None, "Conv2d: input shape (1, 3) has 2 dimensions. "),
        ("nn.Conv2d(3, 8, 3, stride=0)", (1, 3, 8, 8), None, "Conv2d: stride=0 must be >= 1 on every axis. "),
        ("nn.Conv2d(3, 8, 3, groups=0)", (1, 3, 8, 8), (4, 4), "Conv2d: output_size=(4, 4) was given. "),
        ("nn.Conv2d(3, 8, 3, groups=0)", (1, 3, 8, 8), None, "Conv2d: groups=0 is not positive. "),
        (
            "nn.MaxPool2d(3, padding=2)",
            (1, 0, 8, 8),
            None,
            "MaxPool2d: input shape (1, 0, 8, 8) is empty on dimension 1.",
        ),
        ("nn.MaxPool2d(3, padding=2)", (1, 3, 8, 8), None, "MaxPool2d: padding=2 on the height axis is too large "),
    ],
)
def test_call_refusals_wait_for_the_input_checks_torch_makes_first(expr, input_shape, output_size, first):
    for _ in range(2):  # the second time from the cached plan
        assert refusal(expr, input_shape, output_size=output_size).startswith(first)


@pytest.mark.parametrize(
    "expr",
    [
        "nn.Conv2d(3, 8, 3, stride=2, padding=1)",
        "nn.Conv2d(3, 8, 3, padding='same', dilation=2)",
        "nn.Conv2d(3, 6, 3, groups=3, padding_mode='circular', padding=1)",
        "nn.ConvTranspose2d(3, 8, 3, stride=2)",
        "nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)",
        "nn.AvgPool3d(2)",
        "nn.AdaptiveAvgPool2d((2, None))",
        "F.conv2d(x, w, stride=2, padding=1)",
        "F.conv2d(x, w, groups=3)",
        "F.max_pool2d(x, 2)",
    ],
)
def test_the_fast_shape_is_the_full_mapping(expr):
    """plan.shape (the fast path) and plan.map agree on batched, unbatched, empty and too small inputs."""
    plan = plan_for(expr)
    for input_shape in [(2, 3, 9, 7), (3, 9, 7), (0, 3, 9, 7), (1, 3, 2, 2), (1, 3, 0, 5), (1, 4, 9, 7), (1, 3, 1, 1)]:
        if "3d" in expr:
            input_shape = input_shape[:-1] + (4,) + input_shape[-1:]
        weight = (6, 1 if "groups" in expr else 3, 3, 3)
        inputs = Inputs(None, (("w", weight), ("x", input_shape))) if "F." in expr else Inputs(input_shape)
        assert_fast_path_agrees(plan, inputs)


@pytest.mark.parametrize(
    ("expr", "input_shape"),
    [("nn.Conv2d(3, 8, 3, stride=0)", (1, 3, 8, 8)), ("nn.ConvTranspose1d(2, 2, 3, output_padding=-1)", (1, 2, 5))],
)
def test_a_waiting_refusal_is_raised_afresh(expr, input_shape):
    """A new exception each time: re-raising one stored object would grow its traceback on every call."""
    errors = []
    for _ in range(3):
        with pytest.raises(convarith.ConvArithError) as info:
            convarith.output_shape(expr, input_shape)
        errors.append(info.value)
    assert len({id(error) for error in errors}) == 3 and len({str(error) for error in errors}) == 1
