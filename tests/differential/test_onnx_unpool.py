"""ONNX MaxUnpool (issue 12) as onnxruntime runs it: shapes and refusals of generated nodes (X, I and an
optional output_shape input), and forward's numbers with the indices a MaxPool gives (within each plane)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.differential.compare import agree
from tests.differential.numerics import accepted, values_agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def unpool_nodes(draw, numbers: bool = False):
    """(make_node text, shapes): kernel, strides, pads (sometimes not below the kernel), output_shape (sometimes
    too small, of another rank or batch), I of another shape, a rank of 0 or 4 spatial axes, an empty axis."""
    rank = draw(st.integers(1, 3))
    kernel = [draw(st.integers(1, 3)) for _ in range(rank)]
    attrs = [f"kernel_shape={kernel}"]
    strides = [draw(st.integers(1, 3)) for _ in range(rank)]
    if draw(st.booleans()):
        attrs.append(f"strides={strides}")
    else:
        strides = [1] * rank
    pads = [draw(st.integers(0, k - 1 if numbers else k)) for k in kernel * 2]
    if draw(st.booleans()):
        attrs.append(f"pads={pads}")
    else:
        pads = [0] * (2 * rank)
    x = [
        draw(st.integers(1, 2)),
        draw(st.integers(1, 2)),
        *(draw(st.integers(0 if not numbers else 1, 4)) for _ in range(rank)),
    ]
    names = ["X", "I"]
    inferred = [(n - 1) * s + k - a - b for n, s, k, a, b in zip(x[2:], strides, kernel, pads[:rank], pads[rank:])]
    if draw(st.booleans()):
        grow = [draw(st.integers(-1, 2)) for _ in range(rank)]
        wanted = [*x[:2], *(m + g for m, g in zip(inferred, grow))]
        if not numbers and draw(st.integers(0, 5)) == 0:
            wanted = draw(st.sampled_from([wanted[1:], [x[0] + 1, *wanted[1:]]]))
        names.append("output_shape")
        attrs.append(f"output_shape={wanted}")
    i_shape = list(x)
    if not numbers and draw(st.integers(0, 7)) == 0:
        i_shape[-1] += 1
    if not numbers and draw(st.integers(0, 9)) == 0:
        x, i_shape = x + [1], i_shape + [1]  # a spatial axis more than the attributes have
    return f"onnx.helper.make_node('MaxUnpool', {names}, ['Y'], {', '.join(attrs)})", {
        "X": tuple(x),
        "I": tuple(i_shape),
    }


@given(unpool_nodes())
@SETTINGS
def test_unpool_shapes(oracle, case):
    expr, shapes = case
    agree(oracle("onnx"), expr, shapes=shapes)


@given(unpool_nodes(numbers=True), st.integers(0, 2**32 - 1))
@SETTINGS
def test_unpool_numbers(oracle, case, seed):
    """Indices within each (batch, channel) plane of the output, distinct (what MaxPool returns)."""
    import convarith

    expr, shapes = case
    assume(accepted(expr, shapes=shapes))
    out = convarith.output_shape(expr, shapes=shapes)
    x_shape = shapes["X"]
    cells, plane = int(np.prod(x_shape[2:])), int(np.prod(out[2:]))
    assume(cells <= plane)
    rng = np.random.default_rng(seed)
    planes = [rng.permutation(plane)[:cells] + p * plane for p in range(x_shape[0] * x_shape[1])]
    arrays = {"X": rng.standard_normal(x_shape).astype(np.float32), "I": np.stack(planes).reshape(x_shape)}
    values_agree(oracle("onnx"), expr, arrays=arrays)


def test_indices_outside_their_plane_are_refused():
    import convarith

    expr = "make_node('MaxUnpool', ['X', 'I'], ['Y'], kernel_shape=[2], strides=[2])"
    arrays = {"X": np.ones((1, 2, 2), np.float32), "I": np.array([[[0, 5], [4, 7]]])}
    with pytest.raises(convarith.ConvArithError, match="outside their own .batch, channel. plane"):
        convarith.forward(expr, arrays=arrays)
