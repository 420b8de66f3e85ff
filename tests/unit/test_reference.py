"""The NumPy reference: hand-checked numbers, views, worksheets, bad input and the memory budget."""

import numpy as np
import pytest

import convarith
from convarith import ConvArithError

X = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 4)
W = [np.array([[[1, 0, -1]]], np.float32), np.array([0.5], np.float32)]
CONV = "nn.Conv1d(1, 1, 3, padding=1)"


def refusal(function) -> str:
    with pytest.raises(ConvArithError) as info:
        function()
    return str(info.value)


def test_conv_by_hand():
    # padded [0, 1, 2, 3, 4, 0]; out[i] = p[i] - p[i+2] + 0.5
    np.testing.assert_array_equal(convarith.forward(CONV, X, W), [[[-1.5, -1.5, -1.5, 3.5]]])


def test_float32_in_float32_out_and_float64_stays():
    assert convarith.forward(CONV, X, W).dtype == np.float32
    assert convarith.forward(CONV, X.astype(np.float64), [w.astype(np.float64) for w in W]).dtype == np.float64


def test_transpose_by_hand():
    # each input value stamps [1, 1, 1] at stride 2: [1,1,1+2,2,2+3,3,3] then crop 1 on each side
    y = convarith.forward(
        "nn.ConvTranspose1d(1, 1, 3, stride=2, padding=1, bias=False)",
        np.array([[[1, 2, 3]]], np.float32),
        [np.ones((1, 1, 3), np.float32)],
    )
    np.testing.assert_array_equal(y, [[[1, 3, 2, 5, 3]]])


def test_avg_pool_divisors_by_hand():
    x = np.ones((1, 1, 4), np.float32)
    include = convarith.forward("nn.AvgPool1d(3, stride=2, padding=1)", x)
    exclude = convarith.forward("nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False)", x)
    np.testing.assert_allclose(include, [[[2 / 3, 1.0]]])
    np.testing.assert_allclose(exclude, [[[1.0, 1.0]]])


def test_onnx_average_pool_never_counts_cells_past_the_padded_input():
    # onnxruntime: one window [0, 4) over X = [1, 2] (trunc((2 - 4) / 3) + 1 = 1); the divisor counts
    # only cells inside [-pad_lo, n + pad_hi), so 3 / 2 = 1.5 with or without count_include_pad
    x = np.array([[[1.0, 2.0]]], dtype=np.float32)
    for include in (0, 1):
        expr = f"make_node('AveragePool', ['X'], ['Y'], kernel_shape=[4], strides=[3], count_include_pad={include})"
        assert convarith.forward(expr, arrays={"X": x}).tolist() == [[[1.5]]]
    padded = "make_node('AveragePool', ['X'], ['Y'], kernel_shape=[5], strides=[3], pads=[1, 1], count_include_pad=1)"
    assert convarith.forward(padded, arrays={"X": x}).tolist() == [[[0.75]]]  # (0 + 1 + 2 + 0) / 4


def test_torch_lp_pool_is_the_signed_mean_times_the_kernel():
    x = np.array([[[-1.0, 2.0, -3.0, 1.0, 2.0, 2.0, 5.0]]], dtype=np.float32)
    # p=1: the signed sum; p=3: a negative sum of cubes has no real cube root in torch (NaN)
    assert convarith.forward("nn.LPPool1d(1, 2)", x).tolist() == [[[1.0, -2.0, 4.0]]]
    cubes = convarith.forward("nn.LPPool1d(3, 2)", x)
    assert np.isnan(cubes[0, 0, :2]).tolist() == [False, True]
    # ceil_mode: the last window holds one cell (5) and is rescaled by kernel/cells = 2/1: sqrt(2 * 25)
    last = convarith.forward("nn.LPPool1d(2, 2, stride=2, ceil_mode=True)", x)[0, 0, -1]
    np.testing.assert_allclose(last, np.sqrt(50.0), rtol=1e-6)


def test_adaptive_avg_windows_overlap():
    x = np.arange(5, dtype=np.float32).reshape(1, 1, 5)
    # windows [0, 3) and [2, 5)
    np.testing.assert_allclose(convarith.forward("nn.AdaptiveAvgPool1d(2)", x), [[[1.0, 3.0]]])


def test_unbatched_input_keeps_its_rank():
    assert convarith.forward(CONV, X[0], W).shape == (1, 4)


def test_functional_arrays_by_name():
    y = convarith.forward("F.conv1d(inp, k, padding=1)", arrays={"inp": X, "k": W[0]})
    np.testing.assert_array_equal(y, [[[-2, -2, -2, 3]]])


def test_worksheet_names_padding_and_sums_to_forward():
    sheet = convarith.trace_element(CONV, (0, 0, 0), X, W)
    assert [t.source for t in sheet.terms] == ["padding", "input", "input"]
    assert sheet.terms[0].position == (-1,)
    assert sheet.total == -2.0 and sheet.bias == 0.5 and sheet.value == sheet.forward_value == -1.5
    text = str(sheet)
    assert "padding" in text and "value = -1.5 (equals forward: -1.5)" in text
    assert sheet.to_dict()["terms"][2]["product"] == -2.0


def test_worksheet_reflect_padding_reads_the_mirrored_cell():
    sheet = convarith.trace_element("nn.Conv1d(1, 1, 3, padding=1, padding_mode='reflect')", (0, 0, 0), X, W)
    assert sheet.terms[0].source == "padding (reflect)" and sheet.terms[0].input_value == 2.0


def test_transposed_views_print_grids_and_agree():
    views = convarith.transposed_views(
        "nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)",
        np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3),
        [np.ones((1, 1, 3, 3), np.float32), np.zeros(1, np.float32)],
    )
    assert views.agree
    text = str(views)
    assert "zero-inserted, padded input[0, 0]:" in text
    assert "    0 0 0 1 0 2 0 0" in text
    assert text.endswith("agree (max |difference| = 0)")


def test_wrong_weight_count():
    assert refusal(lambda: convarith.forward(CONV, X, W[:1])) == (
        "Conv1d: expected 2 weight array(s) (weight, bias), got 1. "
        "Rule: weights are given in the framework's own order and layout. Fix: pass the 2 array(s) weight, bias."
    )


def test_wrong_weight_layout():
    assert refusal(lambda: convarith.forward(CONV, X, [W[0].reshape(1, 3, 1), W[1]])) == (
        "Conv1d: weight has shape (1, 3, 1), expected (1, 1, 3). "
        "Rule: PyTorch weight layout is (out_channels, in_channels/groups, *kernel_size). "
        "Fix: an array of shape (1, 1, 3)."
    )


def test_non_numeric_input():
    assert refusal(lambda: convarith.forward(CONV, X.astype(str), W)) == (
        "Conv1d: input x has dtype <U32, which is not a real number type. Rule: the numbers are ints or floats. Fix: x.astype('float32')."
    )


def test_missing_named_array():
    assert refusal(lambda: convarith.forward("F.conv1d(x, w)", arrays={"x": X})) == (
        "conv1d: no array given for argument 2=w. Rule: every tensor named in the call needs its array; "
        "arrays given: x. Fix: pass arrays={name: ndarray} for each."
    )


def test_function_given_x():
    assert refusal(lambda: convarith.forward("F.conv1d(x, w)", X)) == (
        "conv1d is a function, but x=/weights= are given. Rule: a function's tensors are the names in the call "
        "(x, w). Fix: pass arrays={name: ndarray} keyed by them."
    )


def test_nan_is_reported_and_propagates():
    with pytest.warns(RuntimeWarning, match=r"MaxPool1d: input x holds 1 NaN value\(s\); they propagate."):
        y = convarith.forward("nn.MaxPool1d(2)", np.array([[[1, np.nan, 3, 4]]], np.float32))
    assert np.isnan(y[0, 0, 0]) and y[0, 0, 1] == 4


def test_memory_budget_refuses_with_the_estimate(monkeypatch):
    x = np.zeros((1, 64, 256, 256), np.float32)
    weights = [np.zeros((64, 64, 3, 3), np.float32), np.zeros(64, np.float32)]
    message = refusal(lambda: convarith.forward("nn.Conv2d(64, 64, 3)", x, weights, max_bytes=10 * 2**20))
    assert message.startswith(
        "conv on input (1, 64, 256, 256) needs about 95.1 MiB of intermediates, above the budget of 10.0 MiB."
    )
    monkeypatch.setenv("CONVARITH_MAX_BYTES", str(2**20))
    assert "budget of 1.0 MiB" in refusal(lambda: convarith.forward("nn.Conv2d(64, 64, 3)", x, weights))


def test_transposed_views_refuse_other_ops():
    assert refusal(lambda: convarith.transposed_views("nn.MaxPool1d(2)", X)) == (
        "MaxPool1d: transposed_views needs a transposed convolution, got max_pool. "
        "Rule: the three views are of a transposed convolution. Fix: use ConvTranspose/Conv2DTranspose/conv_transpose calls."
    )


def test_trace_index_out_of_range():
    assert refusal(lambda: convarith.trace_element("nn.MaxPool1d(2)", (0, 0, 5), X)) == (
        "MaxPool1d: index (0, 0, 5) is outside the output of shape (1, 1, 2). "
        "Rule: each index i satisfies -size <= i < size. Fix: an index inside the shape."
    )


def test_keras_channels_first_bias_follows_the_last_axis_when_it_has_filters_entries():
    """Measured Keras 3.15/TF rule: channels_first output whose last axis is as long as the
    filters gets the bias along that axis; the worksheet names the bias actually added."""
    expr = "keras.layers.Conv3D(2, 1, data_format='channels_first')"
    weights = [np.zeros((1, 1, 1, 1, 2), np.float32), np.array([10.0, 20.0], np.float32)]
    x = np.zeros((1, 1, 1, 3, 2), np.float32)
    y = convarith.forward(expr, x, weights)
    assert y[0, :, 0, 0, :].tolist() == [[10.0, 20.0], [10.0, 20.0]]
    sheet = convarith.trace_element(expr, (0, 0, 0, 1, 1), x, weights)
    assert sheet.bias == 20.0 and sheet.value == 20.0 and sheet.agrees
    wide = convarith.forward(expr, np.zeros((1, 1, 1, 3, 3), np.float32), weights)
    assert wide[0, :, 0, 0, 0].tolist() == [10.0, 20.0]


@pytest.mark.parametrize(
    "expr",
    [
        "lax.conv_with_general_padding(x, w, (1, 1), ((0, 0), (0, 0)), (1, 1), (1, 1))",
        "lax.conv_general_dilated(x, w, (1, 1), 'VALID', (1, 1), (1, 1), ('NCHW', 'OIHW', 'NCHW'))",
        "lax.conv(x, w, (1, 1), 'VALID')",
        "F.conv2d(weight=w, input=x)",
    ],
)
def test_positional_and_keyword_spellings_read_the_bound_arguments(expr):
    # every spelling output_shape accepts: the numbers read the mapping's bound arguments, not call positions
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 2, 2))
    expected = convarith.forward("F.conv2d(x, w)", arrays={"x": x, "w": w})
    assert convarith.output_shape(expr, shapes={"x": x.shape, "w": w.shape}) == expected.shape
    np.testing.assert_allclose(convarith.forward(expr, arrays={"x": x, "w": w}), expected)


def test_max_over_a_window_without_input_cells():
    # onnxruntime starts every max at the lowest float (a window of padding only gives it); torch gives -inf
    onnx = "make_node('MaxPool', ['X'], ['Y'], kernel_shape=[2], strides=[1], pads=[1, 1], dilations=[3])"
    x = np.array([[[1.0, 2.0]]], dtype=np.float32)
    assert convarith.forward(onnx, arrays={"X": x}).tolist() == [[[float(np.finfo(np.float32).min)]]]
    assert convarith.forward("nn.MaxPool1d(2, 1, 1, 3)", x).tolist() == [[[float("-inf")]]]
    assert convarith.trace_element("nn.MaxPool1d(2, 1, 1, 3)", (0, 0, 0), x).agrees


@pytest.mark.parametrize("activation", ["relu", "softmax", "glu"])
def test_keras_activation_follows_the_bias_in_forward_and_worksheet(activation):
    rng = np.random.default_rng(2)
    x, kernel, bias = rng.standard_normal((1, 5, 2)), rng.standard_normal((2, 2, 4)), rng.standard_normal(4)
    plain = convarith.forward("keras.layers.Conv1D(4, 2)", x, [kernel, bias])
    expr = f"keras.layers.Conv1D(4, 2, activation={activation!r})"
    y = convarith.forward(expr, x, [kernel, bias])
    if activation == "relu":
        np.testing.assert_allclose(y, np.maximum(plain, 0))
    elif activation == "softmax":
        np.testing.assert_allclose(y, np.exp(plain) / np.exp(plain).sum(axis=-1, keepdims=True))
    else:
        np.testing.assert_allclose(y, plain[..., :2] / (1 + np.exp(-plain[..., 2:])))
    sheet = convarith.trace_element(expr, (0, 3, 1), x, [kernel, bias])
    assert sheet.agrees and sheet.value == pytest.approx(float(y[0, 3, 1]))


@pytest.mark.parametrize(
    "limit",
    ["abc", [], float("inf"), -1, 0, True, 1.5, -(10**5000)],
    ids=["abc", "list", "inf", "-1", "0", "True", "1.5", "huge"],
)
def test_max_bytes_must_be_a_positive_int(limit):
    for function in (convarith.forward, convarith.transposed_views):
        message = refusal(lambda f=function: f("nn.ConvTranspose1d(1, 1, 3)", X, W, max_bytes=limit))
        assert "is not a budget. Rule: the memory budget is a positive whole number of bytes." in message
    message = refusal(lambda: convarith.trace_element(CONV, (0, 0, 0), X, W, max_bytes=limit))
    assert message.startswith("max_bytes=") and len(message) < 300


@pytest.mark.parametrize("text", ["abc", "-5", "0", "1e9", "9" * 5000], ids=["abc", "-5", "0", "1e9", "huge"])
def test_max_bytes_from_the_environment_is_checked(monkeypatch, text):
    monkeypatch.setenv("CONVARITH_MAX_BYTES", text)
    assert refusal(lambda: convarith.forward(CONV, X, W)).startswith("CONVARITH_MAX_BYTES=")


def test_numpy_int_budget_is_accepted():
    assert convarith.forward(CONV, X, W, max_bytes=np.int64(2**20)).shape == (1, 1, 4)


def test_worksheet_size_is_checked_before_it_is_built():
    """A 2000x2000 kernel lists 4e6 terms (~2 GB of Terms): refused from the estimate, in no time."""
    x = np.zeros((1, 1, 2000, 2000), np.float32)
    weights = [np.zeros((1, 1, 2000, 2000), np.float32), np.zeros(1, np.float32)]
    message = refusal(lambda: convarith.trace_element("nn.Conv2d(1, 1, 2000, stride=2)", (0, 0, 0, 0), x, weights))
    assert message.startswith("Conv2d: the worksheet of this element has 4000000 terms, about 1953.1 MiB")
    small = convarith.trace_element("nn.Conv1d(1, 1, 3, padding=1)", (0, 0, 1), X, W)
    assert small.agrees and len(small.terms) == 3
    assert "has 3 terms" in refusal(lambda: convarith.trace_element(CONV, (0, 0, 1), X, W, max_bytes=1000))


def test_worksheet_text_lists_some_terms_and_keeps_the_exact_total():
    x = np.ones((1, 1, 100), np.float64)
    weights = [np.arange(100, dtype=np.float64).reshape(1, 1, 100), np.zeros(1)]
    sheet = convarith.trace_element("nn.Conv1d(1, 1, 100)", (0, 0, 0), x, weights)
    text = str(sheet)
    assert "(conv, 100 terms)" in text and "... 40 more terms" in text
    assert "sum of products = 4950" in text and len(sheet.to_dict()["terms"]) == 100


@pytest.mark.parametrize(
    "index", [None, 0.5, (0, 0), (0, 0, 0, 0), (0, 0, -5), (0, 0, 4), (0, 0, 0.0), (True, 0, 0), "000", [None] * 3]
)
def test_trace_index_is_refused_unless_ints_inside_the_output(index):
    message = refusal(lambda: convarith.trace_element(CONV, index, X, W))
    assert message.startswith("Conv1d: index ") and "Rule: " in message and "Fix: " in message


@pytest.mark.parametrize(
    "index", [(0, 0, 3), (0, 0, -1), [0, 0, 3], np.array([0, 0, 3]), (np.int64(0), 0, np.int32(3))]
)
def test_trace_index_accepts_ints_lists_and_numpy_ints(index):
    sheet = convarith.trace_element(CONV, index, X, W)
    assert sheet.index == (0, 0, 3) and sheet.agrees


def test_transposed_views_budget_counts_the_index_grids():
    x = np.zeros((1, 8, 64), np.float32)
    weights = [np.zeros((8, 8, 32), np.float32), np.zeros(8, np.float32)]
    expr = "nn.ConvTranspose1d(8, 8, 32)"
    assert convarith.transposed_views(expr, x, weights).agree
    message = refusal(lambda: convarith.transposed_views(expr, x, weights, max_bytes=8 * 2**20))
    # the matrix alone is 1.5 MiB; the int64 grids that fill it are 9 MiB more
    assert "the matrix C of the forward convolution and its index grids need about 10.5 MiB" in message


@pytest.mark.parametrize(
    "expr",
    ["nn.AvgPool1d(3, 2, padding=1)", "nn.MaxPool1d(3, 2, padding=1, ceil_mode=True)", "nn.LPPool1d(2, 3, 2)",
     "nn.AdaptiveAvgPool1d(3)", "nn.AvgPool1d(3, 2, padding=1, count_include_pad=False)"],
)  # fmt: skip
def test_pool_worksheets_equal_forward_everywhere(expr):
    x = np.array([[[1.0, -2.0, 3.0, 4.0, -5.0, 6.0, 7.0]]], np.float32)
    y = convarith.forward(expr, x)
    for j in range(y.shape[-1]):
        sheet = convarith.trace_element(expr, (0, 0, j), x)
        assert sheet.agrees and sheet.value == pytest.approx(float(y[0, 0, j]), rel=1e-6)


@pytest.mark.parametrize("shape", [(1, 0, 9, 4), (1, 9, 0, 4), (0, 4, 4, 4)])
def test_transposed_views_refuse_empty_arrays(shape):
    """Found by the fuzz run: an empty input gave views of a different shape than forward (ValueError)."""
    expr = "keras.layers.Conv2DTranspose(1, 3, strides=[1, 3])"
    weights = [np.ones((3, 3, 1, 4), np.float32), np.zeros(1, np.float32)]
    x = np.zeros(shape, np.float32)
    assert convarith.forward(expr, x, weights).shape == convarith.output_shape(expr, shape)
    assert "transposed_views needs a non-empty input and output" in refusal(
        lambda: convarith.transposed_views(expr, x, weights)
    )


def test_adaptive_average_sums_each_window_on_its_own():
    """Found by the fuzz run: running sums cancelled 1 + 3 + 5 against 1e17 (torch gives the inputs back)."""
    x = np.array([[[1e17, 1.0, 3.0, 5.0]]])
    assert convarith.forward("nn.AdaptiveAvgPool1d(4)", x).tolist() == [[[1e17, 1.0, 3.0, 5.0]]]
    assert convarith.trace_element("nn.AdaptiveAvgPool1d(4)", (0, 0, 2), x).value == 3.0


def test_adaptive_average_of_an_empty_input_is_nan():
    """torch takes a plain mean for output size 1 and returns NaN on an empty input (found by the fuzz run)."""
    assert np.isnan(convarith.forward("nn.AdaptiveAvgPool1d(1)", np.zeros((1, 1, 0), np.float32))).all()
    y = convarith.forward("F.adaptive_avg_pool2d(x, 1)", arrays={"x": np.zeros((1, 2, 0, 0), np.float32)})
    assert y.shape == (1, 2, 1, 1) and np.isnan(y).all()


def test_worksheet_of_an_empty_adaptive_window_is_nan_like_forward():
    """Found by the fuzz run: the worksheet divided by the empty window's zero cell count."""
    x = np.zeros((1, 1, 0), np.float32)
    sheet = convarith.trace_element("nn.AdaptiveAvgPool1d(1)", (0, 0, 0), x)
    assert np.isnan(sheet.value) and np.isnan(convarith.forward("nn.AdaptiveAvgPool1d(1)", x)).all()


@pytest.mark.parametrize(
    "expr, shape",
    [
        ("nn.Conv2d(16, 16, 3, padding=1)", (1, 16, 64, 64)),
        ("nn.Conv2d(16, 32, 1)", (2, 16, 40, 40)),
        ("nn.Conv2d(3, 16, 7, stride=2, padding=3)", (1, 3, 96, 96)),
        ("nn.Conv2d(32, 32, 3, padding=1, groups=32)", (1, 32, 64, 64)),
        ("nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=4)", (1, 16, 64, 64)),
        ("nn.Conv2d(16, 16, 3, padding=1, padding_mode='reflect')", (1, 16, 48, 48)),
        ("nn.Conv1d(8, 8, 9, padding=4)", (1, 8, 20000)),
        ("nn.Conv3d(4, 8, 3, padding=1)", (1, 4, 12, 24, 24)),
        ("nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)", (1, 16, 48, 48)),
        ("nn.MaxPool2d(3, stride=2, padding=1)", (1, 16, 96, 96)),
        ("nn.AvgPool2d(3, stride=2, padding=1)", (1, 16, 96, 96)),
        ("nn.LPPool2d(2, 3, stride=2)", (1, 16, 96, 96)),
        ("nn.AdaptiveAvgPool2d(1)", (4, 256, 7, 7)),
        ("nn.AdaptiveMaxPool2d((5, 3))", (2, 32, 33, 17)),
        ("nn.AdaptiveAvgPool2d((5, 4))", (2, 32, 33, 16)),
    ],
)
def test_memory_estimate_covers_the_measured_peak(expr, shape):
    """estimate_bytes is what the budget refuses on: it must stay above the peak that
    tracemalloc measures for run_op (NumPy's allocations), or the budget lets through more."""
    import tracemalloc

    from convarith.api import map_call
    from convarith.reference.engine import estimate_bytes, run_op

    (op,) = map_call(expr, shape).ops
    rng = np.random.default_rng(0)
    x = rng.standard_normal(op.input_shape).astype(np.float32)
    w = b = None
    if op.kind == "conv":
        w = rng.standard_normal((op.out_channels, op.in_channels // op.groups, *op.kernel)).astype(np.float32)
    elif op.kind == "conv_transpose":
        w = rng.standard_normal((op.in_channels, op.out_channels // op.groups, *op.kernel)).astype(np.float32)
    if w is not None:
        b = rng.standard_normal(op.out_channels).astype(np.float32)
    tracemalloc.start()
    try:
        run_op(op, x, w, b)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 0 < peak <= estimate_bytes(op, 4)


def test_conv_without_spatial_axes_is_a_matmul():
    from convarith.api import map_call
    from convarith.reference.engine import run_op

    op = map_call("nn.Conv1d(3, 4, 1)", (2, 3, 1)).ops[0]
    flat = op.with_(in_size=(), kernel=(), stride=(), dilation=(), pad_lo=(), pad_hi=(), lhs_dilation=())
    flat = flat.with_(output_padding=(), in_spec=(0, 1), out_spec=(0, 1))
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_array_equal(run_op(flat, x, w, np.ones(4, np.float32)), x @ w.T + 1)


def test_conv_of_an_input_without_channels_is_zero():
    """torch runs nn.Conv2d(0, 4, 3), whose parameters() are a (4, 0, 3, 3) weight and a (4,)
    bias, on (1, 0, 8, 8) to an empty (1, 0, 6, 6) (measured)."""
    x = np.zeros((1, 0, 8, 8), np.float32)
    y = convarith.forward("nn.Conv2d(0, 4, 3)", x, [np.zeros((4, 0, 3, 3), np.float32), np.ones(4, np.float32)])
    assert y.shape == (1, 0, 6, 6)
    assert convarith.forward("F.conv2d(x, w)", arrays={"x": x, "w": np.zeros((4, 0, 3, 3), np.float32)}).shape == (
        1, 0, 6, 6,
    )  # fmt: skip
    with pytest.raises(ConvArithError, match=r"expected \(4, 0, 3, 3\)"):
        convarith.forward("nn.Conv2d(0, 4, 3)", x, [np.zeros((0, 0, 3, 3), np.float32), np.ones(4, np.float32)])
    from convarith.api import map_call
    from convarith.reference.engine import run_op

    op = map_call("nn.Conv2d(2, 4, 3)", (1, 2, 8, 8)).ops[0].with_(in_channels=0)
    y = run_op(
        op, np.zeros((1, 0, 8, 8), np.float32), np.zeros((4, 0, 3, 3), np.float32), np.arange(4, dtype=np.float32)
    )
    np.testing.assert_array_equal(y, np.broadcast_to(np.arange(4, dtype=np.float32).reshape(1, 4, 1, 1), (1, 4, 6, 6)))
