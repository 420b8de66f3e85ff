"""ONNX MaxUnpool against onnxruntime: shapes, output_shape, and the refusals measured there."""

import random

import pytest

from tests.differential.compare import agree

pytestmark = pytest.mark.differential


def node(attrs: str, output_shape=None) -> str:
    inputs = ["X", "I"] + (["output_shape"] if output_shape is not None else [])
    tail = "" if output_shape is None else f", output_shape={output_shape}"
    return f"make_node('MaxUnpool', {inputs}, ['Y'], {attrs}{tail})"


FIXED = [
    (node("kernel_shape=[2, 2], strides=[2, 2]"), (1, 3, 4, 4)),
    (node("kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 1, 1]"), (1, 3, 4, 4)),
    (node("kernel_shape=[2, 2], strides=[2, 2], pads=[1, -1, 1, 1]"), (1, 3, 4, 4)),  # a negative pad adds cells
    (node("kernel_shape=[2, 2], strides=[2, 2], pads=[2, 2, 2, 2]"), (1, 3, 4, 4)),  # pad >= kernel: refused
    (node("kernel_shape=[2, 2]"), (1, 3, 4, 4)),  # strides default 1
    (node("kernel_shape=[2], strides=[2]"), (1, 3, 4, 4)),  # wrong attribute size
    (node("kernel_shape=[2, 0], strides=[2, 2]"), (1, 3, 4, 4)),
    (node("kernel_shape=[2, 2], strides=[0, 2]"), (1, 3, 4, 4)),
    (node("kernel_shape=[2, 2], strides=[2, 2]"), (1, 3, 0, 4)),  # output not positive
    (node("kernel_shape=[2, 2], strides=[2, 2]"), (0, 3, 4, 4)),
    (node("kernel_shape=[2, 2, 2, 2], strides=[2, 2, 2, 2]"), (1, 3, 4, 4, 4, 4)),
    (node("kernel_shape=[2, 2], strides=[2, 2]", [1, 3, 9, 8]), (1, 3, 4, 4)),
    (node("kernel_shape=[2, 2], strides=[2, 2]", [1, 3, 7, 8]), (1, 3, 4, 4)),
    (node("kernel_shape=[2, 2], strides=[2, 2]", [1, 4, 8, 8]), (1, 3, 4, 4)),
    (node("kernel_shape=[2, 2], strides=[2, 2]", [1, 3, 20, 20]), (1, 3, 4, 4)),
    (node("kernel_shape=[2, 2], strides=[2, 2]", [1, 3, 8]), (1, 3, 4, 4)),
]


@pytest.mark.parametrize(("expr", "x"), FIXED)
def test_maxunpool_agrees(oracle, expr, x):
    agree(oracle("onnx"), expr, shapes={"X": x, "I": x})


def test_random_maxunpool_agrees(oracle):
    rng, worker = random.Random(5), oracle("onnx")
    for _ in range(120):
        rank = rng.randint(1, 3)
        x = (rng.randint(0, 2), rng.randint(0, 3), *(rng.randint(0, 6) for _ in range(rank)))
        k = [rng.randint(1, 4) for _ in range(rank)]
        attrs = f"kernel_shape={k}, strides={[rng.randint(1, 3) for _ in range(rank)]}"
        if rng.random() < 0.6:
            attrs += f", pads={[rng.randint(-1, kk) for kk in k * 2]}"
        wanted = None
        if rng.random() < 0.4:
            wanted = [x[0], x[1], *(rng.randint(0, 20) for _ in range(rank))]
        agree(worker, node(attrs, wanted), shapes={"X": x, "I": x})
