"""tf.nn: convarith's shapes and refusals against TensorFlow itself."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.differential.compare import agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

LAST = {1: "NWC", 2: "NHWC", 3: "NDHWC"}
FIRST = {1: "NCW", 2: "NCHW", 3: "NCDHW"}


def seq(draw, rank, low=1, high=3, full=True):
    """An int, a length-1/N list, or (sometimes) a full-rank list with batch/channel entries."""
    value = st.integers(low, high)
    options = [value, value, st.lists(value, min_size=rank, max_size=rank), st.lists(value, min_size=1, max_size=1)]
    if full:
        edge = st.sampled_from([1, 1, 1, 2])
        options.append(st.builds(lambda b, s, c: [b, *s, c], edge, st.lists(value, min_size=rank, max_size=rank), edge))
    return draw(st.one_of(options))


def padding(draw, rank, explicit=True):
    choices = [st.sampled_from(["SAME", "VALID"] * 4 + ["same", "FULL"])]
    if explicit:
        pair = st.lists(st.integers(0, 3), min_size=2, max_size=2)
        edge = st.sampled_from([[0, 0], [0, 0], [0, 0], [0, 1]])
        choices.append(st.builds(lambda b, s, c: [b, *s, c], edge, st.lists(pair, min_size=rank, max_size=rank), edge))
    return draw(st.one_of(choices))


def data_format(draw, rank):
    return draw(st.sampled_from([None, LAST[rank], LAST[rank], LAST[rank], LAST[rank], FIRST[rank], "NHWC", "NDHWC"]))


def spatial(draw, rank, low=1, high=9):
    return draw(st.lists(st.integers(low, high), min_size=rank, max_size=rank))


@st.composite
def conv_calls(draw):
    rank = draw(st.integers(1, 3))
    name = draw(st.sampled_from([f"tf.nn.conv{rank}d", "tf.nn.convolution"]))
    kernel = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    w_in = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 1, 2]))
    channels = w_in * groups + draw(st.sampled_from([0, 0, 0, 0, 1]))
    out_ch = draw(st.sampled_from([2, 4, 3]))
    lead = draw(st.sampled_from([[1], [2], [1], [2, 1]]))
    x = [*lead, *spatial(draw, rank), channels]
    w = [*kernel, w_in, out_ch]
    args = ["x", "w"]
    stride_name = "stride" if rank == 1 and name != "tf.nn.convolution" else "strides"
    if rank == 3 and name != "tf.nn.convolution" and draw(st.integers(0, 4)):
        stride = [1, *draw(st.lists(st.integers(1, 3), min_size=3, max_size=3)), 1]
    else:
        stride = seq(draw, rank)
    args.append(f"{stride_name}={stride!r}" if draw(st.booleans()) else repr(stride))
    args.append(f"padding={padding(draw, rank, explicit=rank == 2)!r}")
    fmt = data_format(draw, rank)
    if fmt is not None and draw(st.integers(0, 2)):
        args.append(f"data_format={fmt!r}")
    if draw(st.booleans()):
        dil = seq(draw, rank, 1, 2)
        if rank == 3 and name != "tf.nn.convolution" and draw(st.integers(0, 2)):
            dil = [1, *draw(st.lists(st.integers(1, 2), min_size=3, max_size=3)), 1]
        args.append(f"dilations={dil!r}")
    return f"{name}({', '.join(args)})", {"x": x, "w": w}


@given(conv_calls())
@SETTINGS
def test_conv(oracle, case):
    expr, shapes = case
    agree(oracle("tf_nn"), expr, shapes=shapes)


@st.composite
def depthwise_calls(draw):
    kernel = draw(st.lists(st.integers(1, 4), min_size=2, max_size=2))
    channels = draw(st.integers(1, 3))
    w = [*kernel, channels + draw(st.sampled_from([0, 0, 0, 0, 1])), draw(st.integers(1, 2))]
    x = [draw(st.integers(1, 2)), *spatial(draw, 2), channels]
    s = draw(st.integers(1, 3))
    strides = draw(st.sampled_from([[1, s, s, 1], [1, s, s, 1], [1, s, s, 1], [1, s, 1, 1], s, [s, s]]))
    args = ["x", "w", repr(strides), repr(padding(draw, 2))]
    if draw(st.booleans()):
        d = draw(st.lists(st.integers(1, 3), min_size=2, max_size=2))
        args.append(f"dilations={draw(st.sampled_from([d, d, d, d[0]]))!r}")
    if draw(st.integers(0, 4)) == 0:
        args.append(f"data_format={draw(st.sampled_from(['NHWC', 'NCHW']))!r}")
    return f"tf.nn.depthwise_conv2d({', '.join(args)})", {"x": x, "w": w}


@given(depthwise_calls())
@SETTINGS
def test_depthwise(oracle, case):
    expr, shapes = case
    agree(oracle("tf_nn"), expr, shapes=shapes)


@st.composite
def transpose_calls(draw):
    rank = draw(st.integers(1, 3))
    name = draw(st.sampled_from([f"tf.nn.conv{rank}d_transpose", f"conv{rank}d_transpose", "tf.nn.conv_transpose"]))
    kernel = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    channels, out_ch = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw(st.integers(1, 2))
    size = spatial(draw, rank, 1, 6)
    strides = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    pad = padding(draw, rank, explicit=True)
    # mostly aim at an output size TF accepts: (n-1)*s + k - total + [0, s)
    out = []
    for n, k, s in zip(size, kernel, strides):
        if pad == "SAME":
            base = (n - 1) * s + 1
        elif pad == "VALID":
            base = (n - 1) * s + k
        else:
            base = (n - 1) * s + k - 2
        out.append(max(0, base + draw(st.integers(-1, s))))
    out_shape = [
        batch + draw(st.sampled_from([0, 0, 0, 0, 0, 1])),
        *out,
        out_ch + draw(st.sampled_from([0, 0, 0, 0, 0, 1])),
    ]
    if draw(st.integers(0, 5)) == 0:
        out_shape = out  # spatial sizes only: conv2d_transpose accepts them, the others refuse
    x = [batch, *size, channels]
    w = [*kernel, out_ch, channels + draw(st.sampled_from([0, 0, 0, 0, 0, 1]))]
    args = ["x", "w", repr(out_shape), repr(draw(st.sampled_from([strides, strides, [1, *strides, 1], strides[0]])))]
    args.append(f"padding={pad!r}")
    if draw(st.integers(0, 4)) == 0:
        args.append(f"dilations={draw(st.sampled_from([1, 2, [1] * rank]))!r}")
    if draw(st.integers(0, 5)) == 0:
        args.append(f"data_format={draw(st.sampled_from([LAST[rank], FIRST[rank]]))!r}")
    return f"{name}({', '.join(args)})", {"x": x, "w": w}


@given(transpose_calls())
@SETTINGS
def test_conv_transpose(oracle, case):
    expr, shapes = case
    agree(oracle("tf_nn"), expr, shapes=shapes)


@st.composite
def pool_calls(draw):
    rank = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["max", "avg"]))
    name = draw(st.sampled_from([f"tf.nn.{kind}_pool{rank}d", f"tf.nn.{kind}_pool"]))
    x = [draw(st.integers(1, 2)), *spatial(draw, rank, 1, 8), draw(st.sampled_from([2, 4]))]
    ksize = seq(draw, rank, 1, 4)
    strides = seq(draw, rank, 1, 3)
    args = ["x", repr(ksize), repr(strides), repr(padding(draw, rank, explicit=True))]
    if draw(st.integers(0, 4)) == 0:
        args.append(f"data_format={data_format(draw, rank)!r}")
    return f"{name}({', '.join(args)})", {"x": x}


@given(pool_calls())
@SETTINGS
def test_pool(oracle, case):
    expr, shapes = case
    agree(oracle("tf_nn"), expr, shapes=shapes)


@st.composite
def generic_pool_calls(draw):
    rank = draw(st.integers(1, 3))
    window = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    x = [1, *spatial(draw, rank, 1, 8), 2]
    args = ["x", repr(window), repr(draw(st.sampled_from(["MAX", "AVG", "MAX", "AVG", "avg"])))]
    if draw(st.booleans()):
        args.append(f"strides={draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))!r}")
    args.append(f"padding={padding(draw, rank, explicit=True)!r}")
    if draw(st.booleans()):
        args.append(f"dilations={draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))!r}")
    if draw(st.integers(0, 5)) == 0:
        args.append(f"data_format={data_format(draw, rank)!r}")
    return f"tf.nn.pool({', '.join(args)})", {"x": x}


@given(generic_pool_calls())
@SETTINGS
def test_generic_pool(oracle, case):
    expr, shapes = case
    agree(oracle("tf_nn"), expr, shapes=shapes)
