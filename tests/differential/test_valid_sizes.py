"""valid_sizes' round trips re-run layer by layer in the real framework: the sizes it accepts come back,
the sizes it rejects do not (or a layer refuses them)."""

import pytest

import convarith
from tests.differential.compare import agree
from tests.unit.test_valid_sizes import KERAS_UNET, TORCH_UNET

pytestmark = pytest.mark.differential

CASES = [
    ("torch", TORCH_UNET, (1, 3, 8, 16), 2),
    ("torch", TORCH_UNET, (1, 3, 16, 8), 3),
    (
        "torch",
        [
            "nn.Conv2d(3, 8, 3, stride=2, padding=1)",
            "nn.ConvTranspose2d(8, 3, 3, stride=2, padding=1, output_padding=1)",
        ],
        (1, 3, 8, 8),
        2,
    ),  # fmt: skip
    ("keras", KERAS_UNET, (1, 32, 32, 3), 1),
    ("keras", KERAS_UNET, (1, 32, 32, 3), 2),
]


def framework_size(worker, model, shape, axis):
    """The size along ``axis`` after every layer as the framework runs them (None: a layer refuses)."""
    for expr in model:
        answer = agree(worker, expr, shape)
        if "shape" not in answer:
            return None
        shape = tuple(answer["shape"])
    return shape[axis]


@pytest.mark.parametrize(("framework", "model", "shape", "axis"), CASES)
def test_round_trip_in_the_framework(oracle, framework, model, shape, axis):
    worker = oracle(framework)
    found = convarith.valid_sizes(model, shape, axis=axis, sizes=range(1, 97))
    assert found.round_trip
    accepted = found.sizes[:3]
    rejected = [n for n in range(1, 97) if n not in found.sizes][:3] + [found.sizes[0] + 1, found.sizes[-1] - 1]
    for n in accepted + rejected:
        given = tuple(n if i == axis else size for i, size in enumerate(shape))
        assert (framework_size(worker, model, given, axis) == n) == (n in found.sizes), (n, found.rule)


ENCODERS = [
    ("torch", ["nn.MaxPool2d(2)", "nn.AvgPool2d(3, stride=2)"], (1, 1, 8, 10), 2),
    ("torch", ["nn.MaxPool2d(3, stride=2, ceil_mode=True)", "nn.MaxPool2d(2)"], (1, 1, 8, 12), 3),
    ("keras", ["keras.layers.MaxPooling2D(2)", "keras.layers.AveragePooling2D(3, strides=2)"], (1, 8, 10, 1), 1),
    ("torch", ["nn.Conv2d(1, 2, 3, stride=2)", "nn.Conv2d(2, 1, 3, stride=2)"], (1, 1, 8, 7), 2),  # random weights
    (
        "keras",
        ['keras.layers.Conv2D(2, 3, strides=2, padding="same")', "keras.layers.Conv2D(1, 3, strides=2)"],
        (1, 9, 9, 1),
        2,
    ),
]


def accepted_chain(model, shape, axis, n) -> bool:
    """Whether convarith computes every layer's shape for size n (a refused size proves nothing here)."""
    current = tuple(n if i == axis else size for i, size in enumerate(shape))
    try:
        for expr in model:
            current = convarith.output_shape(expr, current)
    except convarith.ConvArithError:
        return False
    return current[axis] > 0


def rows_reached(worker, model, shape, axis):
    """Per input row along ``axis``: whether raising it by 100 changes the framework's output
    (one batch of copies of one draw: item 0 as drawn, item i+1 with row i raised)."""
    import numpy as np

    n = shape[axis]
    x = np.repeat(np.random.default_rng(n).standard_normal((1, *shape[1:])).astype(np.float32), n + 1, axis=0)
    for row in range(n):
        index = [slice(None)] * len(shape)
        index[0], index[axis] = row + 1, row
        x[tuple(index)] += 100
    for expr in model:
        answer = worker.run({"expr": expr, "input_shape": x.shape, "arrays": {"input": x}, "weights": None,
                             "output_size": None, "values": True})  # fmt: skip
        x = np.asarray(answer["values"])
    return [bool((x[row + 1] != x[0]).any()) for row in range(n)]


@pytest.mark.parametrize(("framework", "model", "shape", "axis"), ENCODERS)
def test_rejected_sizes_leave_rows_unused_in_the_framework(oracle, framework, model, shape, axis):
    """valid_sizes says no cell is dropped exactly when every input row changes the framework's output."""
    worker = oracle(framework)
    found = convarith.valid_sizes(model, shape, axis=axis, sizes=range(1, 41))
    assert not found.round_trip
    taken = [n for n in range(1, 41) if accepted_chain(model, shape, axis, n)]
    rejected = [n for n in taken if n not in found.sizes][:4]
    assert rejected and found.sizes
    for n in found.sizes[:3] + rejected:
        given = tuple(n if i == axis else size for i, size in enumerate(shape))
        assert all(rows_reached(worker, model, given, axis)) == (n in found.sizes), (n, found.rule)
