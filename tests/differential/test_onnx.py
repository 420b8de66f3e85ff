"""ONNX: convarith's shapes and refusals against onnxruntime itself.

Calls are onnx.helper.make_node nodes run by onnxruntime (opset 21, CPU); the
values tests check where convarith says the SAME/output_shape padding goes by
running the same node again with convarith's explicit pads.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from convarith.api import map_call
from tests.differential.compare import agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=160, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SPELLINGS = ["make_node", "helper.make_node", "onnx.helper.make_node"]
AUTO_PADS = ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER", "SAME_UPPER", "SAME_LOWER", "", "same_upper"]


def ints(draw, rank, low, high, odd=0.04):
    """A list of ``rank`` ints, now and then of the wrong length or type."""
    values = draw(st.lists(st.integers(low, high), min_size=rank, max_size=rank))
    if maybe(draw, odd):
        return values[0] if maybe(draw, 0.5) else values[:-1] or [*values, 1]
    return values


def node(draw, op_type, inputs, outputs, attrs) -> str:
    spelling = draw(st.sampled_from(SPELLINGS))
    parts = [repr(op_type), repr(inputs), repr(outputs)] + [f"{key}={value!r}" for key, value in attrs.items()]
    return f"{spelling}({', '.join(parts)})"


def maybe(draw, weight=0.4) -> bool:
    """True with about ``weight`` probability (hypothesis favours index 0, so True goes last)."""
    hits = round(weight * 100)
    return draw(st.sampled_from([False] * (100 - hits) + [True] * hits))


@st.composite
def conv_nodes(draw, transposed: bool):
    rank = draw(st.sampled_from([1, 2, 2, 3]))
    group = draw(st.sampled_from([1, 1, 1, 2, 3] + ([0, -1] if maybe(draw, 0.1) else [])))
    g = max(group, 1)
    channels = g * draw(st.integers(1, 2)) + (1 if maybe(draw, 0.05) else 0)
    per_group = draw(st.integers(1, 2))
    kernel = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    if transposed:
        w = [channels + (1 if maybe(draw, 0.05) else 0), per_group, *kernel]
    else:
        w = [g * per_group + (1 if maybe(draw, 0.05) else 0), channels // g + (1 if maybe(draw, 0.05) else 0), *kernel]
    if maybe(draw, 0.04):
        w = w[:-1]
    spatial = draw(st.lists(st.integers(0 if maybe(draw, 0.1) else 1, 9), min_size=rank, max_size=rank))
    x = [draw(st.integers(0 if maybe(draw, 0.05) else 1, 2)), channels, *spatial]
    shapes = {"X": tuple(x), "W": tuple(w)}
    inputs = ["X", "W"]
    attrs = {}
    if maybe(draw):
        attrs["strides"] = ints(draw, rank, 0 if maybe(draw, 0.05) else 1, 3)
    if maybe(draw):
        attrs["dilations"] = ints(draw, rank, 0 if maybe(draw, 0.05) else 1, 3)
    if maybe(draw, 0.45):
        attrs["auto_pad"] = draw(st.sampled_from(AUTO_PADS))
    if maybe(draw, 0.15 if "auto_pad" in attrs else 0.5):
        attrs["pads"] = ints(draw, 2 * rank, -1 if maybe(draw, 0.05) else 0, 3)
    if maybe(draw, 0.2):
        attrs["kernel_shape"] = kernel if maybe(draw, 0.7) else [k + 1 for k in kernel]
    if group != 1 or maybe(draw, 0.1):
        attrs["group"] = group
    if transposed:
        if maybe(draw):
            attrs["output_padding"] = ints(draw, rank, 0, 1)
        if maybe(draw, 0.35):
            stride = attrs.get("strides") if isinstance(attrs.get("strides"), list) else [1] * rank
            attrs["output_shape"] = [
                max((n - 1) * s + k + draw(st.integers(-3, 2)), 0)
                for n, s, k in zip(spatial, stride + [1] * rank, kernel)
            ]
    if maybe(draw, 0.25):
        inputs.append("B")
        out_channels = per_group * g if transposed else w[0]
        shapes["B"] = (out_channels + (1 if maybe(draw, 0.2) else 0),)
    if maybe(draw, 0.03):
        attrs[draw(st.sampled_from(["ceil_mode", "foo", "p"]))] = 1
    return node(draw, "ConvTranspose" if transposed else "Conv", inputs, ["Y"], attrs), shapes


@given(conv_nodes(False))
@SETTINGS
def test_conv(oracle, case):
    expr, shapes = case
    agree(oracle("onnx"), expr, shapes=shapes)


@given(conv_nodes(True))
@SETTINGS
def test_conv_transpose(oracle, case):
    expr, shapes = case
    agree(oracle("onnx"), expr, shapes=shapes)


@st.composite
def pool_nodes(draw):
    op_type = draw(st.sampled_from(["MaxPool", "AveragePool", "LpPool"]))
    rank = draw(st.sampled_from([1, 2, 2, 3] + ([4] if maybe(draw, 0.05) else [])))
    kernel = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    attrs = {"kernel_shape": kernel[1:] or [0] if maybe(draw, 0.04) else kernel}
    if maybe(draw, 0.6):
        attrs["strides"] = ints(draw, rank, 1, 4)
    if maybe(draw, 0.35):
        attrs["dilations"] = ints(draw, rank, 1, 3)
    if maybe(draw, 0.45):
        attrs["auto_pad"] = draw(st.sampled_from(AUTO_PADS))
    if maybe(draw, 0.15 if "auto_pad" in attrs else 0.5):
        attrs["pads"] = ints(draw, 2 * rank, 0, 3 if maybe(draw, 0.2) else min(kernel) - 1)
    if maybe(draw, 0.5):
        attrs["ceil_mode"] = draw(st.sampled_from([0, 1, 1, 2]))
    outputs = ["Y"]
    if op_type == "MaxPool":
        if maybe(draw, 0.2):
            attrs["storage_order"] = draw(st.sampled_from([0, 1, 2]))
        if maybe(draw, 0.15):
            outputs.append("I")
    if op_type == "AveragePool" and maybe(draw):
        attrs["count_include_pad"] = draw(st.integers(0, 1))
    if op_type == "LpPool" and maybe(draw):
        attrs["p"] = draw(st.integers(1, 3))
    if maybe(draw, 0.03):
        attrs[draw(st.sampled_from(["group", "p", "storage_order"]))] = 1
    spatial = draw(st.lists(st.integers(0 if maybe(draw, 0.05) else 1, 9), min_size=rank, max_size=rank))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *spatial)
    return node(draw, op_type, ["X"], outputs, attrs), {"X": shape}


@given(pool_nodes())
@settings(SETTINGS, max_examples=260)
def test_pools(oracle, case):
    expr, shapes = case
    agree(oracle("onnx"), expr, shapes=shapes)


def explicit(expr: str, shapes: dict, attrs: str) -> str:
    """The same node with auto_pad/output_shape replaced by convarith's explicit pads."""
    op = map_call(expr, shapes=shapes).ops[0]
    pads = [*op.pad_lo, *op.pad_hi]
    assume(min(pads) >= 0)
    extra = f", output_padding={list(op.output_padding)}" if op.kind == "conv_transpose" else ""
    assume(op.kind != "conv_transpose" or all(p < s for p, s in zip(op.output_padding, op.stride)))
    return expr.replace(attrs, f"pads={pads}{extra}")


@st.composite
def padded_nodes(draw):
    """Nodes whose padding onnxruntime derives: auto_pad SAME_* or output_shape."""
    op_type = draw(st.sampled_from(["Conv", "ConvTranspose", "ConvTranspose", "MaxPool", "AveragePool"]))
    rank = draw(st.integers(1, 2))
    kernel = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    stride = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    spatial = draw(st.lists(st.integers(1, 8), min_size=rank, max_size=rank))
    shapes = {"X": (1, 2, *spatial)}
    if op_type == "ConvTranspose" and maybe(draw, 0.6):
        wanted = [(n - 1) * s + k - draw(st.integers(0, k - 1)) for n, s, k in zip(spatial, stride, kernel)]
        derived = f"output_shape={wanted}"
        extra = draw(st.sampled_from(["", ", auto_pad='SAME_UPPER'", ", auto_pad='SAME_LOWER'"]))
    else:
        derived = f"auto_pad={draw(st.sampled_from(['SAME_UPPER', 'SAME_LOWER']))!r}"
        extra = ""
    if op_type in ("Conv", "ConvTranspose"):
        shapes["W"] = (2, 3, *kernel) if op_type == "ConvTranspose" else (3, 2, *kernel)
        expr = f"make_node('{op_type}', ['X', 'W'], ['Y'], strides={stride}, {derived}{extra})"
    else:
        expr = f"make_node('{op_type}', ['X'], ['Y'], kernel_shape={kernel}, strides={stride}, {derived})"
    return expr, shapes, derived + extra


@given(padded_nodes(), st.integers(0, 2**31 - 1))
@settings(SETTINGS, max_examples=100)
def test_derived_padding_values(oracle, case, seed):
    """onnxruntime's SAME/output_shape output equals the node with convarith's explicit pads."""
    expr, shapes, derived = case
    try:
        convarith.output_shape(expr, shapes=shapes)
    except convarith.ConvArithError:
        assume(False)
    rng = np.random.default_rng(seed)
    arrays = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()}
    request = {"shapes": shapes, "arrays": arrays, "values": True}
    derived_run = oracle("onnx").run({**request, "expr": expr})
    explicit_run = oracle("onnx").run({**request, "expr": explicit(expr, shapes, derived)})
    assert "values" in derived_run and "values" in explicit_run, (derived_run, explicit_run)
    np.testing.assert_allclose(derived_run["values"], explicit_run["values"], rtol=1e-5, atol=1e-5, err_msg=expr)


@pytest.mark.parametrize(
    "x_shape",
    [
        (1, 2, 0, 1, 1),
        (1, 2, 1, 0, 1),
        (2, 2, 1, 0, 3),
        (1, 2, 0, 0, 1),
        (1, 2, 1, 1, 0),
        (1, 2, 0, 0, 0),
        (0, 2, 0, 1, 1),
    ],
)
def test_conv_transpose_3d_empty_axes(oracle, x_shape):
    """onnxruntime segfaults on some empty 3-D inputs (a crash must be refused) and not on others."""
    agree(oracle("onnx"), "make_node('ConvTranspose', ['X', 'W'], ['Y'])", shapes={"X": x_shape, "W": (2, 1, 2, 2, 2)})
