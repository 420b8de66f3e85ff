"""Keras 3 (TensorFlow backend): convarith's shapes and refusals against Keras itself.

Rare, refused choices (a zero stride, 'causal' where Keras refuses it, a wrong
input rank...) are drawn with fixed odds from a Random seeded by hypothesis, so
that about half of the cases are shapes and half refusals.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.differential.compare import agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=125, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PREFIXES = ["", "layers.", "keras.layers.", "tf.keras.layers."]


def pick(rnd, *weighted):
    """One value from (weight, value) pairs."""
    total = sum(weight for weight, _ in weighted)
    point = rnd.random() * total
    for weight, value in weighted:
        point -= weight
        if point < 0:
            return value
    return weighted[-1][1]


def per_axis(rnd, rank, low, high):
    """An int, or a tuple with one int per axis."""
    if rnd.random() < 0.5:
        return rnd.randint(low, high)
    return tuple(rnd.randint(low, high) for _ in range(rank))


def input_shape(rnd, rank, channels, data_format, largest):
    """A full input shape in data_format: sometimes tiny or empty, rarely of the wrong rank."""
    low = pick(rnd, (5, 1), (1, 0))
    spatial = [rnd.randint(low, pick(rnd, (3, largest), (2, 3))) for _ in range(rank)]
    batch = pick(rnd, (8, 1), (2, 2), (1, 0))
    shape = [batch, channels, *spatial] if data_format == "channels_first" else [batch, *spatial, channels]
    wrong = pick(rnd, (28, None), (1, "short"), (1, "long"))
    if wrong == "short":
        shape = shape[1:]
    elif wrong == "long":
        shape = [1, *shape]
    return shape


def spell(rnd, name, args, keywords):
    """name(args..., key=value...) with a random accepted prefix; keywords whose value is None are left out.

    ``keywords`` come in the layer's positional order, so when the required
    arguments are positional, a leading run of them may be written positionally."""
    args, keywords = list(args), list(keywords)
    if args and rnd.random() < 0.4:
        while keywords and keywords[0][1] is not None and rnd.random() < 0.7:
            args.append(keywords.pop(0)[1])
    text = [repr(a) for a in args] + [f"{key}={value!r}" for key, value in keywords if value is not None]
    return f"{rnd.choice(PREFIXES)}{name}({', '.join(text)})"


def data_format_of(rnd, channels_first=1):
    return pick(rnd, (6, None), (3, "channels_last"), (channels_first, "channels_first"))


@st.composite
def conv_calls(draw):
    rnd = draw(st.randoms(use_true_random=True))
    rank = rnd.randint(1, 3)
    name = pick(rnd, (3, f"Conv{rank}D"), (1, f"Convolution{rank}D"))
    groups = pick(rnd, (6, 1), (2, 2), (1, 3))
    filters = groups * rnd.randint(1, 2) + pick(rnd, (12, 0), (1, 1))
    channels = groups * rnd.randint(1, 2) + pick(rnd, (20, 0), (1, 1), (1, -groups))
    data_format = data_format_of(rnd, channels_first=2)
    strides = pick(rnd, (5, None), (4, per_axis(rnd, rank, 1, 3)), (1.5, 0))
    dilation = pick(rnd, (6, None), (3, per_axis(rnd, rank, 1, 3)))
    kernel = pick(rnd, (20, per_axis(rnd, rank, 1, 4)), (1, per_axis(rnd, rank, -1, 4)))
    padding = pick(rnd, (5, "valid"), (5, "same"), (1, "SAME"), (3 if rank == 1 else 1, "causal"), (1, "full"))
    keywords = [
        ("strides", strides),
        ("padding", padding),
        ("data_format", data_format),
        ("dilation_rate", dilation),
        ("groups", groups if groups > 1 else None),
        ("activation", pick(rnd, (3, None), (1, "relu"))),
        ("use_bias", pick(rnd, (3, None), (1, False))),
    ]
    if rnd.random() < 0.5:
        args = [filters, kernel]
    else:
        args, keywords = [], [("filters", filters), ("kernel_size", kernel), *keywords]
    shape = input_shape(rnd, rank, channels, data_format, 9 if rank < 3 else 6)
    return spell(rnd, name, args, keywords), shape


@given(conv_calls())
@SETTINGS
def test_conv(oracle, case):
    expr, shape = case
    agree(oracle("keras"), expr, shape)


@st.composite
def conv_transpose_calls(draw):
    rnd = draw(st.randoms(use_true_random=True))
    rank = rnd.randint(1, 3)
    name = pick(rnd, (3, f"Conv{rank}DTranspose"), (1, f"Convolution{rank}DTranspose"))
    data_format = data_format_of(rnd)
    strides = pick(rnd, (3, None), (6, per_axis(rnd, rank, 1, 3)))
    output_padding = pick(rnd, (6, None), (3, per_axis(rnd, rank, 0, 1)), (1, per_axis(rnd, rank, 0, 2)))
    keywords = [
        ("strides", strides),
        ("padding", pick(rnd, (4, "valid"), (5, "same"), (1, "Valid"), (1.5, "causal"))),
        ("output_padding", output_padding),
        ("data_format", data_format),
        ("dilation_rate", pick(rnd, (10, None), (1, 1), (1.5, 2))),
    ]
    if rank == 3:
        keywords[2], keywords[3] = keywords[3], keywords[2]
    args = [rnd.randint(1, 3), per_axis(rnd, rank, 1, 5)]
    channels = pick(rnd, (12, rnd.randint(1, 3)), (1, 0))
    shape = input_shape(rnd, rank, channels, data_format, 7 if rank < 3 else 5)
    return spell(rnd, name, args, keywords), shape


@given(conv_transpose_calls())
@SETTINGS
def test_conv_transpose(oracle, case):
    expr, shape = case
    agree(oracle("keras"), expr, shape)


@st.composite
def depthwise_calls(draw, separable: bool):
    rnd = draw(st.randoms(use_true_random=True))
    rank = rnd.randint(1, 2)
    data_format = data_format_of(rnd, channels_first=3)
    strides = pick(rnd, (3, None), (2, rnd.randint(1, 3)), (1, per_axis(rnd, rank, 1, 3)))
    keywords = [
        ("strides", strides),
        ("padding", pick(rnd, (5, "valid"), (5, "same"), (1, "causal"))),
        ("data_format", data_format),
        ("dilation_rate", pick(rnd, (2, None), (1, per_axis(rnd, rank, 1, 3)))),
        ("depth_multiplier", pick(rnd, (6, None), (6, rnd.randint(1, 3)), (1, 0))),
    ]
    kernel = per_axis(rnd, rank, 1, 4)
    if not separable:
        keywords = [keywords[0], keywords[1], keywords[4], keywords[2], keywords[3]]
    if separable:
        name = pick(rnd, (3, f"SeparableConv{rank}D"), (1, f"SeparableConvolution{rank}D"))
        args = [rnd.randint(1, 3), kernel]
    else:
        name, args = f"DepthwiseConv{rank}D", [kernel]
    channels = pick(rnd, (12, rnd.randint(1, 3)), (1, 0))
    return spell(rnd, name, args, keywords), input_shape(rnd, rank, channels, data_format, 9)


@given(depthwise_calls(False))
@SETTINGS
def test_depthwise(oracle, case):
    expr, shape = case
    agree(oracle("keras"), expr, shape)


@given(depthwise_calls(True))
@SETTINGS
def test_separable(oracle, case):
    expr, shape = case
    agree(oracle("keras"), expr, shape)


@st.composite
def pool_calls(draw):
    rnd = draw(st.randoms(use_true_random=True))
    rank = rnd.randint(1, 3)
    family = rnd.choice(["MaxPooling", "MaxPool", "AveragePooling", "AvgPool"])
    data_format = data_format_of(rnd, channels_first=3)
    pool_size = pick(rnd, (12, per_axis(rnd, rank, 1, 6)), (2 if family.startswith("Max") else 0.5, None), (1, 0))
    keywords = [
        ("strides", pick(rnd, (5, None), (6, per_axis(rnd, rank, 1, 4)), (1, 0))),
        ("padding", pick(rnd, (6, "valid"), (4, "same"), (1, "Same"), (1, "causal"))),
        ("data_format", data_format),
    ]
    args = [] if pool_size is None else [pool_size]
    channels = pick(rnd, (10, rnd.randint(1, 3)), (1, 0))
    shape = input_shape(rnd, rank, channels, data_format, 7 if rank < 3 else 5)
    return spell(rnd, f"{family}{rank}D", args, keywords), shape


@given(pool_calls())
@SETTINGS
def test_pool(oracle, case):
    expr, shape = case
    agree(oracle("keras"), expr, shape)
