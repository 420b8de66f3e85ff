"""convarith.solve: answers give exactly the target, ranked simplest first; no answer names
the nearest reachable shapes; bad questions are refused with a rule and a fix."""

import time

import pytest

import convarith
from convarith.solver import solve

CASES = [
    # (call with ..., input_shape, shapes, target)
    ("nn.ConvTranspose2d(64, 32, kernel_size=..., stride=..., padding=..., output_padding=...)", (1, 64, 48, 48),
     None, (1, 32, 96, 96)),
    ("nn.ConvTranspose2d(64, 32, 4, stride=..., padding=...)", (1, 64, 48, 48), None, (1, 32, 96, 96)),
    ("nn.Conv2d(3, 8, ..., stride=2, padding=...)", (1, 3, 224, 224), None, (1, 8, 112, 112)),
    ("nn.MaxPool2d(..., stride=...)", (1, 3, 32, 32), None, (1, 3, 16, 16)),
    ("keras.layers.Conv2DTranspose(3, ..., strides=..., padding=...)", (1, 96, 128, 3), None, (1, 192, 256, 3)),
    ("keras.layers.Conv1D(4, 3, strides=..., padding=..., dilation_rate=...)", (2, 50, 3), None, (2, 50, 4)),
    ("tf.nn.conv2d(x, w, strides=..., padding=...)", None, {"x": (1, 32, 32, 3), "w": (3, 3, 3, 8)}, (1, 16, 16, 8)),
    ("lax.conv_general_dilated(x, w, ..., ...)", None, {"x": (1, 3, 32, 32), "w": (8, 3, 3, 3)}, (1, 8, 16, 16)),
    ("onnx.helper.make_node('Conv', ['X', 'W'], ['Y'], strides=..., pads=...)", None,
     {"X": (1, 3, 32, 32), "W": (8, 3, 3, 3)}, (1, 8, 16, 16)),
    ("onnx.helper.make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=..., auto_pad=...)", None,
     {"X": (1, 3, 32, 32), "W": (3, 8, 3, 3)}, (1, 8, 64, 64)),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "input_shape", "shapes", "target"), CASES)
def test_every_answer_gives_the_target(expr, input_shape, shapes, target):
    answers = solve(expr, input_shape, target=target, shapes=shapes)
    assert answers
    for answer in answers:
        assert "..." not in answer.expr
        assert convarith.output_shape(answer.expr, input_shape, shapes=shapes) == target == answer.output_shape
        assert answer.explain().output_shape == target
    assert len({a.expr for a in answers}) == len(answers)


def test_every_target_answer_is_found():
    """Against a brute force over output_shape: the answers are exactly the rows that hit."""
    expr = "nn.Conv1d(1, 1, kernel_size=..., stride=..., padding=...)"
    found = {tuple(a.params.values()) for a in solve(expr, (1, 1, 20), target=(1, 1, 10), limit=10**6)}
    brute = set()
    for k in range(1, 8):
        for s in range(1, 5):
            for p in (*range(7), "valid", "same"):
                try:
                    shape = convarith.output_shape(
                        f"nn.Conv1d(1, 1, kernel_size={k}, stride={s}, padding={p!r})", (1, 1, 20)
                    )
                except convarith.ConvArithError:
                    continue
                if shape == (1, 1, 10):
                    brute.add((k, s, p))
    assert found == brute and len(found) > 5


def test_ranked_simplest_first():
    answers = solve("nn.ConvTranspose2d(64, 32, 3, stride=..., padding=..., output_padding=...)", (1, 64, 48, 48),
                    target=(1, 32, 96, 96), limit=50)  # fmt: skip
    assert answers[0].params == {"stride": 2, "padding": 1, "output_padding": 1}
    # fewest parameters away from their defaults first
    keras = solve("keras.layers.Conv2D(8, ..., padding=...)", (1, 32, 32, 3), target=(1, 32, 32, 8), limit=50)
    assert keras[0].params == {"kernel_size": 1, "padding": "valid"}
    assert [a.params["kernel_size"] for a in keras[1:4]] == [1, 2, 3]


def test_symmetric_padding_before_asymmetric():
    """Keras Conv1D 'same' pads (1, 1) and 'causal' (2, 0): the same shape, one parameter away
    from the defaults each, the same kernel: symmetric first, whatever the search order."""
    answers = solve("keras.layers.Conv1D(4, 3, padding=...)", (1, 20, 3), target=(1, 20, 4),
                    search={"padding": ["causal", "same"]})  # fmt: skip
    assert [a.params["padding"] for a in answers] == ["same", "causal"]


def test_search_overrides_the_defaults():
    answers = solve("nn.Conv2d(3, 8, 3, stride=..., padding=...)", (1, 3, 64, 64), target=(1, 8, 8, 8),
                    search={"stride": range(5, 10), "padding": [0, 1, 2]}, limit=100)  # fmt: skip
    assert {a.params["stride"] for a in answers} <= set(range(5, 10)) and answers


def test_no_answer_names_the_nearest():
    with pytest.raises(convarith.ConvArithError) as refused:
        solve("nn.Conv2d(3, 8, 3, stride=...)", (1, 3, 10, 10), target=(1, 8, 7, 7))
    message = str(refused.value)
    assert "(1, 8, 8, 8) with stride=1" in message and "Rule:" in message and "Fix:" in message


@pytest.mark.parametrize(
    ("expr", "kwargs", "says"),
    [
        ("nn.Conv2d(3, 8, 3)", {"target": (1, 8, 8, 8)}, "no unknown argument"),
        ("nn.Conv2d(3, 8, (3, ...))", {"target": (1, 8, 8, 8)}, "inside a tuple"),
        ("nn.Conv2d(3, 8, 3, groups=...)", {"target": (1, 8, 8, 8)}, "no default range for groups"),
        ("nn.Conv2d(3, 8, ...)", {"target": (1, 8, 8, 8), "search": {"stride": [1]}}, "does not leave unknown"),
        ("nn.Conv2d(3, 8, ...)", {"target": "big"}, "target"),
        ("nn.Conv2d(3, 8, ...)", {"target": (1, 8, 8, 8), "limit": 0}, "limit"),
        ("nn.Conv2d(3, 8, ...)", {"target": (1, 8, 8, 8), "search": {"kernel_size": []}}, "empty"),
        ("nn.Conv2d(4, 8, ...)", {"target": (1, 8, 8, 8)}, "refused"),
        ("nn.Conv9d(3, 8, ...)", {"target": (1, 8, 8, 8)}, "unknown layer"),
        ("__import__('os').system(...)", {"target": (1,)}, "Rule"),
    ],
)
def test_bad_questions(expr, kwargs, says):
    with pytest.raises(convarith.ConvArithError, match=says):
        solve(expr, (1, 3, 10, 10), **kwargs)


def test_typical_question_is_fast():
    """Not a timed assert of the target (that is make bench): a sanity bound, 20x looser."""
    solve("nn.ConvTranspose2d(64, 32, kernel_size=..., stride=..., padding=..., output_padding=...)",
          (1, 64, 48, 48), target=(1, 32, 96, 96))  # fmt: skip
    start = time.perf_counter()
    solve("keras.layers.Conv2DTranspose(3, ..., strides=..., padding=...)", (1, 96, 128, 3), target=(1, 192, 256, 3))
    assert time.perf_counter() - start < 1.0


INVERSES = [
    ("nn.Conv2d(3, 8, 3, stride=2, padding=1)", (1, 3, 32, 32)),
    ("nn.Conv2d(3, 8, 3, stride=2, padding=1)", (1, 3, 33, 30)),
    ("nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1)", (1, 8, 16, 16)),
    ("nn.Conv1d(3, 8, 5, stride=3)", (3, 100)),
    ("nn.Conv3d(2, 4, 3, stride=(1, 2, 3), dilation=2)", (1, 2, 9, 10, 11)),
    ("keras.layers.Conv2D(8, 3, strides=2, padding='same')", (1, 32, 32, 3)),
    ("keras.layers.Conv2D(8, 3, strides=2)", (1, 33, 32, 3)),
    ("keras.layers.Conv1DTranspose(8, 3, strides=2, padding='same')", (1, 32, 3)),
]


@pytest.mark.parametrize(("expr", "input_shape"), INVERSES)
def test_inverse_maps_the_output_back(expr, input_shape):
    back = convarith.inverse(expr, input_shape)
    out = convarith.output_shape(expr, input_shape)
    assert back.input_shape == out and back.output_shape == input_shape
    assert convarith.output_shape(back.expr, out) == input_shape
    assert back.explain().output_shape == input_shape


@pytest.mark.parametrize(
    ("expr", "input_shape", "spatial"),
    [(*INVERSES[0], (2, 3)), (*INVERSES[1], (2, 3)), (*INVERSES[3], (1,)), (*INVERSES[6], (1, 2))],
)
def test_round_trip_sizes_by_brute_force(expr, input_shape, spatial):
    back = convarith.inverse(expr, input_shape)
    for axis, sizes in zip(spatial, back.sizes):
        brute = []
        for n in range(1, 200):
            shape = list(input_shape)
            shape[axis] = n
            try:
                out = convarith.output_shape(expr, tuple(shape))
                if convarith.output_shape(back.expr, out) == tuple(shape):
                    brute.append(n)
            except convarith.ConvArithError:
                pass
        assert [n for n in sizes if n < 200] == brute


def test_inverse_rule_text():
    back = convarith.inverse("nn.Conv2d(3, 8, 3, stride=2, padding=1)", (1, 3, 32, 32))
    assert back.rules == ("n ≡ 0 (mod 2), n ≥ 2",) * 2
    assert "height: the round trip gives n back for n ≡ 0 (mod 2), n ≥ 2" in str(back)


@pytest.mark.parametrize(
    ("expr", "input_shape", "says"),
    [
        ("nn.Conv2d(3, 8, 4, padding='same')", (1, 3, 10, 10), "asymmetric"),
        ("nn.AdaptiveMaxPool2d(3)", (1, 3, 10, 10), "no inverse for the adaptive max pool"),
        ("lax.conv_general_dilated(x, w, (1, 1), 'VALID', feature_group_count=3)", None, "feature groups"),
    ],
)
def test_inverse_refusals(expr, input_shape, says):
    shapes = {"x": (1, 3, 8, 8), "w": (6, 1, 3, 3)} if input_shape is None else None
    with pytest.raises(convarith.ConvArithError, match=says):
        convarith.inverse(expr, input_shape, shapes=shapes)
