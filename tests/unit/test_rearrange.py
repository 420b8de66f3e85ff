"""The rearranging family (wip8-rearr): pixel shuffle, depth/space, unfold/fold, the tf.nn functions
built on others and jax.lax.reduce_window: shapes and refusals measured from the frameworks,
the block orders, explanations, forward's numbers by hand, and what is refused for the numbers."""

import numpy as np
import pytest

import convarith
from convarith.core import arith
from convarith.parse import parse_call

SHAPES = [  # (call, input_shape, shapes, the framework's answer, measured)
    ("nn.PixelShuffle(2)", (1, 8, 3, 3), None, (1, 2, 6, 6)),
    ("nn.PixelShuffle(2)", (2, 2, 8, 3, 3), None, (2, 2, 2, 6, 6)),
    ("nn.PixelShuffle(upscale_factor=3)", (9, 1, 2), None, (1, 3, 6)),
    ("nn.PixelUnshuffle(2)", (2, 4, 6), None, (8, 2, 3)),
    ("nn.PixelUnshuffle(2)", (0, 1, 2, 2), None, (0, 1, 2, 2)),  # torch returns an empty input unchanged
    ("F.pixel_shuffle(x, 2)", None, {"x": (1, 0, 3, 3)}, (1, 0, 6, 6)),
    ("nn.Unfold(2)", (1, 2, 5, 5), None, (1, 8, 16)),
    ("nn.Unfold((2, 3), 2, 1, 2)", (1, 2, 5, 5), None, (1, 12, 6)),
    ("F.unfold(x, 2)", None, {"x": (1, 2, 5)}, (4, 4)),  # 3-D is unbatched (C, H, W)
    ("nn.Fold(5, 2)", (1, 8, 16), None, (1, 2, 5, 5)),
    ("nn.Fold((3, 3), 2)", (8, 4), None, (2, 3, 3)),
    ("F.fold(x, (7, 6), (2, 3), 2, 1, 2)", None, {"x": (2, 18, 8)}, (2, 3, 7, 6)),  # L = 4*2
    ("tf.nn.depth_to_space(x, 2)", None, {"x": (1, 2, 3, 8)}, (1, 4, 6, 2)),
    ("tf.nn.depth_to_space(x, 2.5)", None, {"x": (1, 2, 3, 8)}, (1, 4, 6, 2)),  # TF truncates a float attr
    ("tf.nn.space_to_depth(x, 2)", None, {"x": (0, 4, 6, 2)}, (0, 2, 3, 8)),
    ("tf.nn.atrous_conv2d(x, w, 2, 'SAME')", None, {"x": (1, 9, 9, 3), "w": (3, 3, 3, 4)}, (1, 9, 9, 4)),
    ("tf.nn.atrous_conv2d(x, w, (2, 3), 'VALID')", None, {"x": (1, 9, 9, 3), "w": (3, 3, 3, 4)}, (1, 5, 3, 4)),
    ("tf.nn.atrous_conv2d(x, w, 2, 'VALID')", None, {"x": (1, 4, 4, 3), "w": (3, 3, 3, 4)}, (1, 0, 0, 4)),
    (
        "tf.nn.separable_conv2d(x, d, p, [1, 2, 2, 1], 'VALID', dilations=[2, 2])",
        None,
        {"x": (1, 9, 9, 3), "d": (3, 3, 3, 2), "p": (1, 1, 6, 5)},
        (1, 3, 3, 5),
    ),
    (
        "tf.nn.separable_conv2d(x, d, p, [1, 1, 1, 1], 'VALID')",
        None,
        {"x": (1, 9, 9, 6), "d": (3, 3, 6, 1), "p": (1, 1, 3, 4)},  # a grouped pointwise conv2d
        (1, 7, 7, 4),
    ),
    ("tf.nn.max_pool_with_argmax(x, [2, 3], [2, 1], 'SAME')", None, {"x": (1, 9, 9, 3)}, (1, 5, 9, 3)),
    ("tf.nn.max_pool_with_argmax(x, 10, 1, 'VALID')", None, {"x": (1, 9, 9, 3)}, (1, 0, 0, 3)),
    ("lax.reduce_window(x, 0., lax.add, (2,), (1,), 'same')", None, {"x": (5,)}, (5,)),
    ("lax.reduce_window(x, 0., lax.add, (2,), (1,), 'SAME', (2,), (2,))", None, {"x": (5,)}, (9,)),
    ("lax.reduce_window(x, 0., lax.add, (2,), (1,), [(-6, 0)])", None, {"x": (5,)}, (0,)),
    ("lax.reduce_window(x, -jnp.inf, lax.max, (1, 2), (1, 1), 'VALID')", None, {"x": (2, 3)}, (2, 2)),
    ("lax.reduce_window(x, 0, lax.add, (2,), (1,), 'VALID')", None, {"x": (5,)}, (4,)),
    ("helper.make_node('DepthToSpace', ['X'], ['Y'], blocksize=1)", None, {"X": (1, 8, 2, 3)}, (1, 8, 2, 3)),
    ("helper.make_node('SpaceToDepth', ['X'], ['Y'], blocksize=2)", None, {"X": (1, 2, 0, 6)}, (1, 8, 0, 3)),
]


@pytest.mark.parametrize(("expr", "input_shape", "shapes", "expected"), SHAPES, ids=[s[0][:48] for s in SHAPES])
def test_shapes(expr, input_shape, shapes, expected):
    assert convarith.output_shape(expr, input_shape, shapes=shapes) == expected
    assert convarith.explain(expr, input_shape, shapes=shapes).output_shape == expected


REFUSALS = [  # (call, input_shape, shapes, a piece of the message); each refused by the framework too
    ("nn.PixelShuffle(2)", (1, 7, 3, 3), None, "7 channels are not divisible by upscale_factor**2 = 4"),
    ("nn.PixelShuffle(0)", (1, 8, 3, 3), None, "needs a positive upscale_factor"),
    ("nn.PixelShuffle(2)", (8, 3), None, "at least 3 dimensions"),
    ("nn.PixelUnshuffle(2)", (1, 2, 5, 6), None, "height 5 is not divisible by downscale_factor=2"),
    ("nn.PixelShuffle(2.0)", (1, 8, 3, 3), None, "upscale_factor must be an int"),
    ("nn.Unfold(3)", (1, 2, 2, 2), None, "gives 0 x 0 sliding blocks"),
    ("nn.Unfold(2, stride=0)", (1, 2, 5, 5), None, "stride should be greater than zero"),
    ("nn.Unfold((2, 2, 2))", (1, 2, 5, 5), None, "it is expected kernel_size equals to 2"),
    ("nn.Unfold(2)", (1, 0, 5, 5), None, "every dimension but the batch non-empty"),
    ("nn.Unfold(2)", (1, 1, 2, 5, 5), None, "(C, H, W) or (N, C, H, W)"),
    ("nn.Fold(5, 2)", (1, 8, 15), None, "L = 15 blocks, but output_size=(5, 5) gives 4 * 4 = 16"),
    ("nn.Fold(5, 2)", (1, 7, 16), None, "7, not divisible by kernel_size 2*2 = 4"),
    ("nn.Fold(1, 3)", (1, 9, 1), None, "gives -1 x -1 sliding blocks"),  # (-1)*(-1) = 1 = L: then refused
    ("nn.Fold(5, 2)", (1, 8, 16, 1), None, "(C*kh*kw, L) or (N, C*kh*kw, L)"),
    ("tf.nn.depth_to_space(x, 2, data_format='NCHW')", None, {"x": (1, 8, 2, 3)}, "refused on CPU"),
    ("tf.nn.depth_to_space(x, 2, data_format='nhwc')", None, {"x": (1, 2, 3, 8)}, "is not accepted"),
    ("tf.nn.depth_to_space(x, 1)", None, {"x": (1, 2, 3, 8)}, "minimum of 2"),
    ("tf.nn.depth_to_space(x, 2)", None, {"x": (1, 2, 3, 7)}, "depth 7 is not divisible by block_size**2 = 4"),
    ("tf.nn.space_to_depth(x, 2)", None, {"x": (1, 5, 6, 2)}, "not both divisible by block_size=2"),
    ("tf.nn.space_to_depth(x, 2)", None, {"x": (4, 6, 2)}, "rank 4"),
    ("tf.nn.atrous_conv2d(x, w, 0, 'VALID')", None, {"x": (1, 9, 9, 3), "w": (3, 3, 3, 4)}, "must be positive"),
    ("tf.nn.atrous_conv2d(x, w, 2, 'same')", None, {"x": (1, 9, 9, 3), "w": (3, 3, 3, 4)}, "'SAME' or 'VALID'"),
    (
        "tf.nn.separable_conv2d(x, d, p, [1, 1, 1, 1], 'VALID')",
        None,
        {"x": (1, 9, 9, 3), "d": (3, 3, 3, 2), "p": (2, 1, 6, 5)},
        "the pointwise filter is 1 x 1",
    ),
    (
        "tf.nn.separable_conv2d(x, d, p, [1, 2, 1, 1], 'VALID')",
        None,
        {"x": (1, 9, 9, 3), "d": (3, 3, 3, 2), "p": (1, 1, 6, 5)},
        "equal strides",
    ),
    ("tf.nn.max_pool_with_argmax(x, 2, 2, 'SAME', data_format='NCHW')", None, {"x": (1, 9, 9, 3)}, "'NHWC'"),
    ("tf.nn.max_pool_with_argmax(x, 2, 2, 'VALID')", None, {"x": (0, 9, 9, 3)}, "must not be empty"),
    ("tf.nn.max_pool_with_argmax(x, [2, 2, 2], 2, 'VALID')", None, {"x": (1, 9, 9, 3)}, "length 1, 2 or 4"),
    ("lax.reduce_window(x, 1.0, lax.mul, (2,), (1,), 'VALID')", None, {"x": (5,)}, "lax.max, lax.min, lax.add"),
    ("lax.reduce_window(x, 0.0, lax.add, (2,), None, 'SAME')", None, {"x": (5,)}, "with window_strides=None"),
    ("lax.reduce_window(x, 0.0, lax.add, (2,), (1,), 'FULL')", None, {"x": (5,)}, "'VALID', 'SAME', 'SAME_LOWER'"),
    ("lax.reduce_window(x, 0.0, lax.add, (0,), (1,), 'VALID')", None, {"x": (5,)}, "strictly positive"),
    ("lax.reduce_window(x, 0.0, lax.add, (2, 2), (1, 1), 'VALID')", None, {"x": (5,)}, "one entry per operand axis"),
    ("lax.reduce_window(x, 0.0, lax.add, (2,), (1,), 'VALID', (0,))", None, {"x": (5,)}, "must be positive"),
    ("lax.reduce_window(x, 0, lax.max, (2,), (1,), 'VALID')", None, {"x": (5,)}, "an int init"),
    ("lax.reduce_window(x, 0.0, lax.add, (1,), (1,), [(0, -1)])", None, {"x": (5,)}, "aborts the process"),
    (
        "helper.make_node('DepthToSpace', ['X'], ['Y'], blocksize=2, mode='crd')",
        None,
        {"X": (1, 8, 2, 3)},
        "upper case",
    ),
    ("helper.make_node('SpaceToDepth', ['X'], ['Y'], blocksize=2, mode='CRD')", None, {"X": (1, 2, 4, 6)}, "mode"),
    ("helper.make_node('DepthToSpace', ['X'], ['Y'])", None, {"X": (1, 8, 2, 3)}, "requires the attribute blocksize"),
    ("helper.make_node('DepthToSpace', ['X'], ['Y'], blocksize=2)", None, {"X": (8, 2, 3)}, "4-dimensional"),
]


@pytest.mark.parametrize(("expr", "input_shape", "shapes", "piece"), REFUSALS, ids=[r[0][:48] for r in REFUSALS])
def test_refusals(expr, input_shape, shapes, piece):
    with pytest.raises(convarith.ConvArithError) as caught:
        convarith.output_shape(expr, input_shape, shapes=shapes)
    assert piece in str(caught.value)
    assert "Fix:" in str(caught.value)


def test_init_values_and_negated_names():
    assert [repr(value) for value in parse_call("f(-jnp.inf)").args] == ["-jnp.inf"]  # kept unevaluated
    for text in ("-jnp.inf", "-np.inf", "-math.inf", "jnp.inf", "0.0", "-1.5"):
        expr = f"lax.reduce_window(x, {text}, lax.max, (2,), (1,), 'VALID')"
        assert convarith.output_shape(expr, shapes={"x": (5,)}) == (4,)
    for text in ("float('-inf')", "jnp.nan", "y", "--jnp.inf"):
        with pytest.raises(convarith.ConvArithError):
            convarith.output_shape(f"lax.reduce_window(x, {text}, lax.max, (2,), (1,), 'VALID')", shapes={"x": (5,)})


def test_block_orders_differ_and_match_the_frameworks():
    """torch: channel c*r*r + i*r + j (CRD); TF: channel (i*r + j)*C + c (DCR), measured on arange."""
    torch_y = convarith.forward("nn.PixelShuffle(2)", np.arange(8.0, dtype=np.float32).reshape(1, 8, 1, 1))
    assert torch_y.ravel().tolist() == list(range(8))  # (C=2, H=2, W=2) in C order: c*4 + i*2 + j
    tf_y = convarith.forward(
        "tf.nn.depth_to_space(x, 2)", arrays={"x": np.arange(8.0, dtype=np.float32).reshape(1, 1, 1, 8)}
    )
    assert tf_y.ravel().tolist() == list(range(8))  # (H=2, W=2, C=2) in C order: (i*2 + j)*2 + c
    assert tf_y.transpose(0, 3, 1, 2).ravel().tolist() == [0, 2, 4, 6, 1, 3, 5, 7]
    x = {"X": np.arange(8.0, dtype=np.float32).reshape(1, 8, 1, 1)}
    onnx_dcr = convarith.forward("helper.make_node('DepthToSpace', ['X'], ['Y'], blocksize=2)", arrays=x)
    onnx_crd = convarith.forward("helper.make_node('DepthToSpace', ['X'], ['Y'], blocksize=2, mode='CRD')", arrays=x)
    assert onnx_dcr.ravel().tolist() == [0, 2, 4, 6, 1, 3, 5, 7] and onnx_crd.ravel().tolist() == list(range(8))


def test_space_to_depth_inverts_depth_to_space():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 12)).astype(np.float32)
    y = convarith.forward("tf.nn.depth_to_space(x, 2)", arrays={"x": x})
    back = convarith.forward("tf.nn.space_to_depth(y, 2)", arrays={"y": y})
    np.testing.assert_array_equal(back, x)
    z = convarith.forward("nn.PixelUnshuffle(2)", convarith.forward("nn.PixelShuffle(2)", x.transpose(0, 3, 1, 2)))
    np.testing.assert_array_equal(z, x.transpose(0, 3, 1, 2))


def test_unfold_then_fold_counts_the_windows():
    """fold(unfold(ones)) = how many windows hold each pixel: 1, 2, 2, ..., 4 inside for a 2 x 2 kernel."""
    ones = np.ones((1, 1, 3, 4), dtype=np.float32)
    cols = convarith.forward("nn.Unfold(2)", ones)
    assert cols.shape == (1, 4, 6) and (cols == 1).all()
    counts = convarith.forward("nn.Fold((3, 4), 2)", cols)
    assert counts[0, 0].tolist() == [[1, 2, 2, 1], [2, 4, 4, 2], [1, 2, 2, 1]]
    x = np.arange(12.0, dtype=np.float32).reshape(1, 1, 3, 4)
    first = convarith.forward("nn.Unfold(2, padding=1)", x)[0, :, 0]  # the window at (-1, -1)
    assert first.tolist() == [0, 0, 0, 0]
    assert convarith.forward("nn.Unfold(2, stride=2)", x)[0, :, 1].tolist() == [2, 3, 6, 7]


def test_reduce_window_numbers_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype=np.float32)
    run = lambda expr: convarith.forward(expr, arrays={"x": x}).tolist()  # noqa: E731
    assert run("lax.reduce_window(x, -jnp.inf, lax.max, (2,), (1,), [(1, 1)])") == [1, 2, 3, 4, 5, 5]
    assert run("lax.reduce_window(x, 3.0, lax.max, (2,), (1,), [(1, 1)])") == [3, 3, 3, 4, 5, 5]  # clamped by init
    assert run("lax.reduce_window(x, jnp.inf, lax.min, (2,), (1,), [(1, 0)])") == [1, 1, 2, 3, 4]
    assert run("lax.reduce_window(x, 0.0, lax.add, (2,), (1,), 'SAME')") == [3, 5, 7, 9, 5]
    assert run("lax.reduce_window(x, 0.0, lax.add, (2,), (1,), 'VALID', (2,), (2,))") == [
        3,
        0,
        5,
        0,
        7,
        0,
        9,
    ]  # holes: 0
    assert run("lax.reduce_window(x, -jnp.inf, lax.max, (1,), (1,), [(3, 0)])")[:3] == [-np.inf] * 3
    with pytest.raises(convarith.ConvArithError, match="init_value=1 are not modelled"):
        convarith.forward("lax.reduce_window(x, 1.0, lax.add, (2,), (1,), 'VALID')", arrays={"x": x})
    assert convarith.output_shape("lax.reduce_window(x, 1.0, lax.add, (2,), (1,), 'VALID')", shapes={"x": (5,)}) == (4,)


def test_argmax_and_separable_numbers():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 4, 4, 2)).astype(np.float32)
    y = convarith.forward("tf.nn.max_pool_with_argmax(x, 2, 2, 'VALID')", arrays={"x": x})
    assert np.array_equal(y, x.reshape(1, 2, 2, 2, 2, 2).max(axis=(2, 4)))
    d = rng.standard_normal((1, 1, 2, 1)).astype(np.float32)
    p = rng.standard_normal((1, 1, 2, 3)).astype(np.float32)
    z = convarith.forward("tf.nn.separable_conv2d(x, d, p, [1, 1, 1, 1], 'VALID')", arrays={"x": x, "d": d, "p": p})
    np.testing.assert_allclose(z, (x * d[0, 0, :, 0]) @ p[0, 0], rtol=1e-6)


def test_explanations_say_the_rule_in_numbers():
    text = str(convarith.explain("nn.PixelShuffle(2)", (1, 8, 3, 3)))
    assert "out = 3*2 = 6 (each cell becomes 2 cells, taken from the channels)" in text
    assert "input channel c*4 + i*2 + j goes to offset (i, j)" in text
    text = str(convarith.explain("tf.nn.space_to_depth(x, 3)", shapes={"x": (1, 6, 9, 2)}))
    assert "out = 9 / 3 = 3" in text and "channel (i*3 + j)*C + c comes from" in text
    text = str(convarith.explain("nn.Unfold(2, padding=1)", (1, 2, 5, 5)))
    assert "out = floor((5 + 1 + 1 - 2) / 1) + 1 = 6" in text and "L = 6*6 = 36 blocks" in text
    text = str(convarith.explain("nn.Fold(5, 2)", (1, 8, 16)))
    assert "input (1, 8, 16) -> output (1, 2, 5, 5)" in text
    assert "blocks = floor((5 + 0 + 0 - 2) / 1) + 1 = 4" in text
    text = str(convarith.explain("lax.reduce_window(x, -jnp.inf, lax.max, (3,), (2,), 'SAME')", shapes={"x": (7,)}))
    assert "input (7,) -> output (4,)" in text and "max pooling" in text and "(the identity" in text
    text = str(convarith.explain("tf.nn.max_pool_with_argmax(x, 2, 2, 'SAME')", shapes={"x": (1, 5, 5, 1)}))
    assert "argmax has the same shape" in text


def test_arith_formulas():
    assert arith.depth_to_space_out(7, 3) == 21 and arith.space_to_depth_out(9, 3) == 3
    assert arith.fold_blocks(5, 2, 1, 1, 0) == 4 and arith.fold_blocks(1, 3, 1, 1, 0) == -1
    assert arith.fold_blocks(7, 3, 2, 2, 1) == 3  # floor((7 + 2 - 5) / 2) + 1


def test_no_worksheet_for_rearrangements():
    with pytest.raises(convarith.ConvArithError, match="no window sum to list"):
        convarith.trace_element("nn.PixelShuffle(2)", (0, 0, 0, 0), np.zeros((1, 4, 1, 1), np.float32))


GOLDEN = {
    "rearrange_pixel_shuffle": ("nn.PixelShuffle(2)", (1, 8, 3, 3), None),
    "rearrange_fold": ("nn.Fold((4, 5), 2, padding=1, stride=2)", (1, 8, 9), None),
    "rearrange_separable": (
        "tf.nn.separable_conv2d(x, d, p, [1, 2, 2, 1], 'SAME')",
        None,
        {"x": (1, 9, 9, 3), "d": (3, 3, 3, 2), "p": (1, 1, 6, 5)},
    ),
    "rearrange_reduce_window": (
        "lax.reduce_window(x, 0.0, lax.add, (2, 3), (2, 1), 'SAME', (1, 2), (1, 2))",
        None,
        {"x": (5, 4)},
    ),
}


@pytest.mark.parametrize("name", GOLDEN)
def test_golden(golden, name):
    expr, shape, shapes = GOLDEN[name]
    golden(f"explain_{name}", str(convarith.explain(expr, shape, shapes=shapes)))
