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
