"""solve with a None batch (kept free) and with layout unknowns, in every framework."""

import pytest

import convarith

CASES = [
    ("nn.Conv2d(3, 8, kernel_size=..., stride=2, padding=...)", (None, 3, 32, 32), None, (None, 8, 16, 16)),
    ("keras.layers.Conv2D(8, 3, strides=2, padding=...)", (None, 32, 32, 3), None, (None, 16, 16, 8)),
    ("keras.layers.Conv2DTranspose(8, 3, strides=..., padding=..., output_padding=...)", (None, 16, 16, 3), None,
     (None, 33, 33, 8)),
    ("tf.nn.conv2d(x, w, strides=..., padding=...)", None, {"x": (None, 32, 32, 3), "w": (3, 3, 3, 8)},
     (None, 16, 16, 8)),
    ("tf.nn.conv1d(x, w, stride=..., padding=..., data_format=...)", None, {"x": (None, 32, 3), "w": (3, 3, 8)},
     (None, 16, 8)),
    ("tf.nn.conv2d_transpose(x, w, output_shape=[1, 33, 32, 3], strides=..., padding=...)", None,
     {"x": (1, 17, 16, 8), "w": (3, 3, 3, 8)}, (None, 33, 32, 3)),
    ("lax.conv_general_dilated(x, w, ..., 'SAME', dimension_numbers=...)", None,
     {"x": (None, 32, 32, 3), "w": (3, 3, 3, 8)}, (None, 16, 16, 8)),
    ("lax.conv_transpose(x, w, strides=..., padding=..., dimension_numbers=('NCHW', 'OIHW', 'NCHW'))", None,
     {"x": (None, 8, 16, 16), "w": (3, 8, 3, 3)}, (None, 3, 32, 32)),
    ("helper.make_node('Conv', ['X', 'W'], ['Y'], strides=..., pads=..., auto_pad=...)", None,
     {"X": (None, 3, 32, 32), "W": (8, 3, 3, 3)}, (None, 8, 16, 16)),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "input_shape", "shapes", "target"), CASES)
def test_a_free_batch_is_kept(expr, input_shape, shapes, target):
    answers = convarith.solve(expr, input_shape, shapes=shapes, target=target, limit=4)
    assert answers
    given = input_shape or next(iter(shapes.values()))
    for answer in answers:
        assert answer.output_shape[1:] == target[1:]
        assert answer.output_shape[0] == (None if given[0] is None else given[0])
        assert answer.explain().output_shape[1:] == target[1:]


def test_a_free_batch_in_the_target_matches_any_batch():
    (answer, *_) = convarith.solve("nn.Conv1d(3, 8, kernel_size=...)", (4, 3, 32), target=(None, 8, 30))
    assert answer.params == {"kernel_size": 3} and answer.output_shape == (4, 8, 30)


def test_layout_unknowns_have_default_ranges():
    (answer,) = convarith.solve("lax.conv_general_dilated(x, w, (1,), 'VALID', dimension_numbers=...)",
                                shapes={"x": (1, 5, 3), "w": (2, 3, 4)}, target=(1, 4, 4))  # fmt: skip
    assert answer.params == {"dimension_numbers": ("NHC", "HIO", "NHC")}
    with pytest.raises(convarith.ConvArithError, match="Nearest reachable: \\(None, 8, 30\\)"):
        convarith.solve("nn.Conv1d(3, 8, kernel_size=3, stride=...)", (None, 3, 32), target=(None, 8, 29))


def test_cli_solve_with_a_free_batch(capsys):
    import json

    from convarith.cli import main

    argv = ["solve", "tf.nn.conv2d(x, w, strides=..., padding=...)", "--shape", "x=None,32,32,3", "--shape",
            "w=3,3,3,8", "--target", "None,16,16,8", "--json"]  # fmt: skip
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)[0]["shape"] == [None, 16, 16, 8]
    assert main(["shape", "tf.nn.conv2d(x, w, strides=2)", "--shape", "x=None,32,32,3", "--shape", "w=3,3,3,8"]) == 1
    assert "holds None" in capsys.readouterr().err  # output_shape itself still needs every size
