"""valid_sizes against brute force (output_shape and explain per size), its rule text and refusals."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convarith
from convarith.periods import periodic
from convarith.valid import Step, valid_over_steps
from tests.unit.reach_brute import rows_reached

TORCH_UNET = [
    "nn.Conv2d(3, 16, 3, padding=1)",
    "nn.MaxPool2d(2)",
    "nn.Conv2d(16, 32, 3, padding=1)",
    "nn.MaxPool2d(2)",
    "nn.Conv2d(32, 64, 3, padding=1)",
    "nn.MaxPool2d(2)",
    "nn.ConvTranspose2d(64, 32, 2, stride=2)",
    "nn.ConvTranspose2d(32, 16, 2, stride=2)",
    "nn.ConvTranspose2d(16, 8, 2, stride=2)",
    "nn.Conv2d(8, 1, 1)",
]
KERAS_UNET = [
    *['keras.layers.Conv2D(8, 3, strides=2, padding="same")'] * 5,
    *['keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same")'] * 5,
]
# (model, input shape, axis, expected rule); the other spatial size is one every layer takes whole
MODELS = [
    (TORCH_UNET, (1, 3, 64, 64), 2, "n ≡ 0 (mod 8), n ≥ 8"),
    (TORCH_UNET, (1, 3, 64, 40), 3, "n ≡ 0 (mod 8), n ≥ 8"),
    (KERAS_UNET, (1, 64, 32, 3), 1, "n ≡ 0 (mod 32), n ≥ 32"),
    (KERAS_UNET, (1, 32, 64, 3), 2, "n ≡ 0 (mod 32), n ≥ 32"),
    (["nn.MaxPool2d(2)"] * 2, (1, 3, 64, 30), 3, "n ≡ 0 (mod 4), n ≥ 4"),  # an encoder along the width
    (["keras.layers.MaxPooling2D(2)", "keras.layers.MaxPooling2D(3)"], (1, 30, 64, 3), 2, "n ≡ 0 (mod 6), n ≥ 6"),
    (["nn.Conv2d(3, 3, 3, stride=2)"] * 2, (1, 3, 64, 15), 2, "n ≡ 3 (mod 4), n ≥ 7"),
    (["nn.MaxPool2d(2, ceil_mode=True)", "nn.AvgPool2d(3, stride=2)"], (1, 3, 64, 10), 2, "n ≡ 1 or 2 (mod 4), n ≥ 5"),
    (["nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True)", "nn.MaxPool1d(2)"], (1, 4, 64), 2, None),
    (["nn.Conv1d(2, 2, 3, dilation=2, stride=3, padding=2)"], (1, 2, 16), 2, None),
    (
        ["nn.Conv2d(3, 4, 3)", "nn.Unfold(2, stride=3)"],
        (1, 3, 64, 8),
        2,
        "n ≡ 1 (mod 3), n ≥ 4",
    ),  # the axis unfolded away
    (["nn.AdaptiveAvgPool1d(5)", "nn.Upsample(size=9, mode='linear')"], (1, 2, 16), 2, None),
    (["nn.Conv1d(1, 1, 3, padding=1)", "nn.Upsample(scale_factor=0.5)"], (1, 1, 16), 2, "n ≡ 0 (mod 2), n ≥ 2"),
    (["nn.Conv1d(1, 1, 2)", "nn.ConvTranspose1d(1, 1, 2, stride=2, padding=1)"], (1, 1, 16), 2, None),
    (  # original U-Net style: 'valid' convs shrink by design, so only the pools' rule applies
        [
            'keras.layers.Conv2D(8, 3, padding="valid")',
            "keras.layers.MaxPooling2D(2)",
            'keras.layers.Conv2D(8, 3, padding="valid")',
            "keras.layers.MaxPooling2D(2)",
            "keras.layers.UpSampling2D(2)",
            'keras.layers.Conv2D(8, 3, padding="valid")',
        ],
        (1, 64, 14, 3),
        1,
        "n ≡ 2 (mod 4), n ≥ 14",
    ),
    (  # a decoder that gives the size back for even sizes only
        [
            "nn.Conv2d(3, 8, 3, stride=2, padding=1)",
            "nn.ConvTranspose2d(8, 3, 3, stride=2, padding=1, output_padding=1)",
        ],
        (1, 3, 64, 64),
        2,
        "n ≡ 0 (mod 2), n ≥ 2",
    ),
]
SIZES = range(1, 161)
BRUTE_SIZES = range(1, 65)


def small_other_sizes(model, shape, axis):
    """``shape`` with the other sizes above 16 cut to 16 when every layer still takes it (a small batch
    for the engine; the rows along ``axis`` reach the output whatever the other sizes)."""
    trial = tuple(16 if i not in (0, axis) and size > 16 else size for i, size in enumerate(shape))
    try:
        current = trial
        for expr in model:
            current = convarith.output_shape(expr, current)
    except convarith.ConvArithError:
        return shape
    return trial if 0 not in current[:axis] + current[axis + 1 :] else shape


def brute_force(model, shape, axis, sizes):
    """Per size: every layer's output_shape, then whether every input row changes the output in
    convarith's NumPy engine (tests/unit/reach_brute.py), and the final size."""
    shape = small_other_sizes(model, shape, axis)
    reached = {}
    for n in sizes:
        current = tuple(n if i == axis else size for i, size in enumerate(shape))
        try:
            for expr in model:
                current = convarith.output_shape(expr, current)
        except convarith.ConvArithError:
            continue
        if 0 in current:
            continue
        if all(rows_reached(model, tuple(n if i == axis else size for i, size in enumerate(shape)), axis)):
            reached[n] = current
    back = [n for n, out in reached.items() if len(out) == len(shape) and out[axis] == n]
    if any(n >= 2 for n in back):
        return back, True
    return sorted(reached), False


@pytest.mark.parametrize(("model", "shape", "axis", "rule"), MODELS)
def test_matches_brute_force(model, shape, axis, rule):
    got = convarith.valid_sizes(model, shape, axis=axis, sizes=SIZES)
    expected, round_trip = brute_force(model, shape, axis, BRUTE_SIZES)
    assert [n for n in got.sizes if n in BRUTE_SIZES] == expected
    assert got.round_trip == round_trip
    if rule is not None:
        assert got.rule == rule
        assert got.minimum == got.sizes[0]
        assert all(n % got.modulus in got.residues for n in got.sizes)


def test_rule_fields():
    got = convarith.valid_sizes(KERAS_UNET, (1, 64, 64, 3), axis=1)
    assert (got.rule, got.modulus, got.residue, got.minimum) == ("n ≡ 0 (mod 32), n ≥ 32", 32, 0, 32)
    assert got.sizes == list(range(32, 1025, 32))
    assert "round trip" in str(got)


def test_default_range_is_fast():
    import time

    convarith.valid_sizes(TORCH_UNET, (1, 3, 64, 64), axis=2, sizes=range(1, 9))  # compile the plans
    times = []
    for _ in range(3):  # the best of three: the machine may be busy
        start = time.perf_counter()
        got = convarith.valid_sizes(TORCH_UNET, (1, 3, 64, 64), axis=2)
        times.append(time.perf_counter() - start)
    assert min(times) < 1.0
    assert got.sizes == list(range(8, 1025, 8))


def test_pure_encoder_keeps_only_the_cropping_condition():
    got = convarith.valid_sizes(["nn.MaxPool2d(2)"] * 3, (1, 3, 64, 64), axis=2, sizes=range(1, 100))
    assert not got.round_trip and got.rule == "n ≡ 0 (mod 8), n ≥ 8"
    forced = convarith.valid_sizes(["nn.MaxPool2d(2)", "nn.Upsample(scale_factor=2)"], (1, 3, 8, 8), axis=2,
                                   round_trip=False, sizes=range(1, 64))  # fmt: skip
    assert forced.rule == "n ≡ 0 (mod 2), n ≥ 2" and not forced.round_trip


def test_refusal_names_the_layer_that_drops_cells():
    model = ["nn.Conv2d(3, 8, 1)", "nn.Conv2d(8, 8, 1, stride=2)"]
    with pytest.raises(
        convarith.ConvArithError,
        match=r"layer 1 \(nn.Conv2d\(8, 8, 1, stride=2\)\): input cells "
        r"are left unreached .*size 2: input cells 1 reach no output; it reads none of the cells",
    ):
        convarith.valid_sizes(model, (1, 3, 64, 64), axis=2, sizes=range(2, 100))  # a size of 1 is whole


def test_cells_a_layer_skips_but_the_input_reaches_through_others_are_not_dropped():
    """A 1x1 stride-2 conv skips every other cell of its input, but after a 3x3 conv each input cell still
    reaches an even cell (ResNet's downsampling blocks): every size is valid, as the engine's rows say."""
    model = ["nn.Conv2d(3, 8, 3, padding=1)", "nn.Conv2d(8, 8, 1, stride=2)"]
    got = convarith.valid_sizes(model, (1, 3, 64, 16), axis=2, sizes=range(1, 41))
    assert got.sizes == list(range(1, 41))
    assert all(all(rows_reached(model, (1, 3, n, 4), 2)) for n in (7, 8, 40))


def test_refusal_names_the_layer_that_refuses_every_size():
    model = ["nn.Conv2d(3, 8, 3)", "nn.Conv2d(4, 8, 3)"]
    with pytest.raises(convarith.ConvArithError, match=r"layer 1 \(nn.Conv2d\(4, 8, 3\)\): it refuses every size"):
        convarith.valid_sizes(model, (1, 3, 64, 64), axis=2)


def test_forced_round_trip_that_never_holds():
    with pytest.raises(convarith.ConvArithError, match="no input size comes back along axis 2"):
        convarith.valid_sizes(["nn.Conv2d(3, 8, 3)"], (1, 3, 64, 64), axis=2, round_trip=True)


@pytest.mark.parametrize(
    ("model", "shape", "axis", "sizes", "match"),
    [
        ("nn.Conv2d(3, 8, 3)", (1, 3, 8, 8), 2, SIZES, "model is a str"),
        ([], (1, 3, 8, 8), 2, SIZES, "model is a list"),
        ([3], (1, 3, 8, 8), 2, SIZES, r"model\[0\] is a int"),
        (["nn.Conv2d(3, 8, 3)"], (1, 3, 8, 8), 4, SIZES, "axis=4 for an input of rank 4"),
        (["nn.Conv2d(3, 8, 3)"], (1, 3, 8, 8), True, SIZES, "axis=True"),
        (["nn.Conv2d(3, 8, 3)"], (1, 3, 8, 8), 2.0, SIZES, "axis=2.0"),
        (["nn.Conv2d(3, 8, 3)"], (1, 3, 8, 8), 2, [0, 1], "sizes must be"),
        (["nn.Conv2d(3, 8, 3)"], (1, 3, 8, 8), 2, ["8"], "sizes must be"),
        (["nn.Conv2d(3, 8, 3)"], (1, 3, 8, 8), 2, range(1, 1 << 40), "sizes must be 1 to 1048576 ints"),
        (["nn.Conv2d(3, 8, 3)"], (1, 3, 8, 8), 2, 8, "sizes must be"),
    ],
)
def test_bad_arguments(model, shape, axis, sizes, match):
    with pytest.raises(convarith.ConvArithError, match=match):
        convarith.valid_sizes(model, shape, axis=axis, sizes=sizes)


def test_sizes_from_a_generator():
    got = convarith.valid_sizes(["nn.MaxPool1d(2)"], (1, 1, 8), axis=-1, sizes=(n for n in (9, 4, 4, 2)))
    assert got.sizes == [2, 4] and got.axis == 2
    import numpy as np

    assert convarith.valid_sizes(["nn.MaxPool1d(2)"], (1, 1, 8), axis=np.int64(2), sizes=range(1, 9)).axis == 2


def test_periodic_rules():
    assert periodic(range(32, 1025, 32), range(1, 1025)).text == "n ≡ 0 (mod 32), n ≥ 32"
    assert periodic([n for n in range(5, 100) if n % 4 in (1, 2)], range(1, 100)).text == "n ≡ 1 or 2 (mod 4), n ≥ 5"
    assert periodic(range(3, 50), range(1, 50)).text == "every n ≥ 3"
    assert periodic([], range(1, 50)).text == "no n in 1..49"
    assert periodic([2, 3, 5, 7, 11, 13], range(1, 15)).modulus is None
    assert periodic(range(128, 1025, 128), range(1, 1025)).modulus == 128  # beyond the old limit of 64


POOL = [*TORCH_UNET[:3], *KERAS_UNET[:1], KERAS_UNET[-1], "nn.Conv2d(3, 3, 3, dilation=40)", "nn.Unfold(2)",
        "nn.Conv1d(3, 3, 2, stride=9)", "nn.Upsample(scale_factor=2)", "nn.Conv2d(3, 3, (", "F.conv2d(x, w)",
        "nn.MaxPool3d(2)", "keras.layers.Cropping2D(2)", "onnx.Conv(x)"]  # fmt: skip


@given(
    model=st.lists(st.sampled_from(POOL), min_size=1, max_size=4),
    shape=st.lists(st.integers(0, 12), min_size=1, max_size=5).map(tuple),
    axis=st.integers(-6, 6),
    sizes=st.one_of(st.just(range(1, 40)), st.lists(st.integers(-2, 50), max_size=6)),
)
@settings(max_examples=150, deadline=None)
def test_bad_values_give_conv_arith_error(model, shape, axis, sizes):
    try:
        found = convarith.valid_sizes(model, shape, axis=axis, sizes=sizes)
    except convarith.ConvArithError:
        return
    assert set(found.sizes) <= set(sizes) and found.sizes == sorted(found.sizes)


def added(shapes):
    """An Add of two tensors: the same shape, or ConvArithError (a merge step of a traced model)."""
    if shapes[0] != shapes[1]:
        raise convarith.ConvArithError(f"Add: shapes {shapes[0]} and {shapes[1]} differ.")
    return shapes[0]


@pytest.mark.parametrize(("up", "width", "rule"), [("nn.ConvTranspose2d(8, 3, 2, stride=2)", 32, "n ≡ 0 (mod 2), n ≥ 2"),
                                                   ("nn.ConvTranspose2d(8, 3, 3, stride=2, padding=1)", 33, "n ≡ 1 (mod 2), n ≥ 1")])  # fmt: skip
def test_steps_with_a_skip_connection(up, width, rule):
    steps = [Step("down", "nn.Conv2d(3, 8, 3, stride=2, padding=1)"), Step("up", up),
             Step("add", shape_of=added, inbound=(-1, 1)), Step("head", "nn.Conv2d(3, 1, 1)")]  # fmt: skip
    got = valid_over_steps(steps, (1, 3, 32, width), axis=2, sizes=range(1, 65))
    assert got.rule == rule and dict(got.removed)["add"] == 32


def test_steps_refusal_names_the_merge():
    steps = [Step("down", "nn.MaxPool2d(2, ceil_mode=True)"), Step("up", "nn.Upsample(scale_factor=2)"),
             Step("crop", "nn.Conv2d(3, 3, 2)"), Step("add", shape_of=added, inbound=(-1, 2))]  # fmt: skip
    with pytest.raises(convarith.ConvArithError, match=r"valid_sizes: add: it refuses every size .*Add: shapes"):
        valid_over_steps(steps, (1, 3, 32, 32), axis=2, sizes=range(1, 65))


@pytest.mark.parametrize("layer", ["nn.ConvTranspose1d(1, 1, 1, stride=2, padding=1)", "nn.Upsample(scale_factor=0.5)"])
def test_cells_cut_by_a_transposed_crop_or_skipped_by_nearest_downsampling(layer):
    """The transposed conv's crop cuts the first and last input cells; a nearest halving skips every other one."""
    with pytest.raises(convarith.ConvArithError, match=r"layer 0 .*input cells are left unreached for every size"):
        convarith.valid_sizes([layer], (1, 1, 8), axis=2, sizes=range(2, 40))
    assert not all(rows_reached([layer], (1, 1, 6), 2))
