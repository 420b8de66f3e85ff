"""Explicit padding and cropping: convarith's shapes, refusals and numbers against the real frameworks.

torch's padding modules and F.pad (every mode, negative pads, value), Keras ZeroPadding/Cropping
(every argument form, both layouts) and ONNX Pad (onnxruntime, every mode). Each generator draws a
call the framework mostly accepts and about half the time breaks one thing (an odd pad tuple, a
reflect pad as large as the input, a crop larger than the input, a wrong rank...)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from tests.differential.compare import agree
from tests.differential.numerics import accepted, random, values_agree

pytestmark = pytest.mark.differential
SHAPES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NUMBERS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
BROKEN = st.integers(0, 99).map(lambda roll: roll < 45)
TORCH_FAMILIES = ("ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad")
F_MODES = ("constant", "reflect", "replicate", "circular")


# --- PyTorch ---------------------------------------------------------------------------------------------------------


@st.composite
def torch_pads(draw, numbers: bool = False):
    """(expr, input_shape or None, shapes or None) of a padding module or F.pad."""
    functional = draw(st.booleans())
    broken = not numbers and draw(BROKEN)
    rank = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(F_MODES))
    amount = st.integers(-2, 3) if mode != "constant" or not numbers else st.integers(-2, 4)
    pads = [draw(amount) for _ in range(2 * rank)]
    ndim = rank + draw(st.sampled_from([1, 2, 2]))
    spatial_low = 0 if broken or numbers else 1  # numbers: an empty axis padded with a constant too
    shape = [draw(st.sampled_from([1, 2, 0] if not numbers else [1, 2]))] + [
        draw(st.integers(1, 3)) for _ in range(ndim - rank - 1)
    ]
    shape += [draw(st.integers(spatial_low, 6)) for _ in range(rank)]
    shape = shape[-ndim:]
    if mode == "constant" and draw(st.integers(0, 4)) == 0:  # pad the leading axes too
        ndim = len(shape)
        pads = [draw(st.integers(-1, 2)) for _ in range(2 * draw(st.integers(0, ndim)))]
    if broken:
        fault = draw(st.sampled_from(["odd", "long", "reflect", "circular", "crop", "value", "rank"]))
        pads = pads if len(pads) >= 2 else [1, 1]
        if fault == "odd":
            pads = pads[:-1]
        elif fault == "long":
            pads = pads + [1, 1] * (len(shape) + 1 - len(pads) // 2)
        elif fault == "reflect":
            mode, pads[0] = "reflect", shape[-1] + draw(st.integers(-1, 1))
        elif fault == "circular":
            mode, pads[1] = "circular", shape[-1] + draw(st.integers(0, 1))
        elif fault == "crop":
            pads[0] = -shape[-1] + draw(st.integers(-1, 1))
        elif fault == "rank":
            shape = shape[: draw(st.integers(1, len(shape)))]
    value = None
    if mode == "constant" and draw(st.booleans()):
        value = draw(st.sampled_from([0, 1.5, -2]))
    elif broken and draw(st.booleans()):
        value = draw(st.sampled_from([0, 1]))
    if functional:
        mode_text = "" if mode == "constant" and draw(st.booleans()) else f", mode={mode!r}"
        value_text = "" if value is None else f", value={value!r}"
        pad_text = tuple(pads) if draw(st.booleans()) else list(pads)
        expr = f"{draw(st.sampled_from(['F.', 'torch.nn.functional.']))}pad(x, {pad_text!r}{mode_text}{value_text})"
        return expr, None, {"x": tuple(shape)}
    family = {"constant": draw(st.sampled_from(["ZeroPad", "ConstantPad"])), "reflect": "ReflectionPad",
              "replicate": "ReplicationPad", "circular": "CircularPad"}[mode]  # fmt: skip
    padding = tuple(pads) if len(pads) != 2 * rank or draw(st.booleans()) else pads[0]
    args = repr(padding)
    if family == "ConstantPad":
        args += f", {value if value is not None else 0.5!r}"
    prefix = draw(st.sampled_from(["nn.", "torch.nn."]))
    return f"{prefix}{family}{rank}d({args})", tuple(shape), None


@given(torch_pads())
@SHAPES
def test_torch_padding_shapes(oracle, case):
    expr, shape, shapes = case
    answer = oracle("torch").run({"expr": expr, "input_shape": shape, "shapes": shapes, "output_size": None})
    if min(answer.get("shape", (0,)), default=0) < 0:
        # torch 2.13 returns a tensor with a negative size for an empty batch cropped past an axis
        # (ReflectionPad2d((0, 0, 0, -2)) on (0, 1, 1, 1) gives (0, 1, -1, 1)): convarith refuses it
        with pytest.raises(convarith.ConvArithError, match="negative dimension"):
            convarith.output_shape(expr, shape, shapes=shapes)
        return
    agree(oracle("torch"), expr, shape, shapes=shapes)


@given(torch_pads(numbers=True), st.integers(0, 2**32 - 1))
@NUMBERS
def test_torch_padding_numbers(oracle, case, seed):
    expr, shape, shapes = case
    assume(accepted(expr, shape, shapes))
    assume("forward() refuses" not in str(convarith.explain(expr, shape, shapes=shapes)))  # undefined values
    rng = np.random.default_rng(seed)
    if shapes is None:
        values_agree(oracle("torch"), expr, random(rng, shape), [])
    else:
        values_agree(oracle("torch"), expr, arrays={"x": random(rng, shapes["x"])})


# --- Keras --------------------------------------------------------------------------------------------------------


def keras_amounts(draw, rank: int, broken: bool):
    """A padding/cropping argument in one of Keras's forms: an int; in 1D a pair; in 2D/3D a tuple of
    per-axis ints or pairs (mixed too). Broken: a negative amount, a wrong length or a float."""
    amount = st.integers(0, 3)
    form = draw(st.integers(0, 3))
    if form == 0:
        value = draw(amount)
    elif rank == 1:
        value = (draw(amount), draw(amount))
    else:
        value = tuple(draw(amount) if draw(st.booleans()) else (draw(amount), draw(amount)) for _ in range(rank))
    if broken:
        fault = draw(st.sampled_from(["negative", "length", "float", "pair"]))
        if fault == "negative":
            value = -draw(st.integers(1, 2)) if form == 0 else (-1,) * (2 if rank == 1 else rank)
        elif fault == "length":
            value = (1,) * (rank + (1 if rank > 1 else 1))
        elif fault == "float":
            value = 1.0
        elif rank > 1:
            value = ((1, 2, 3),) + (1,) * (rank - 1)
    return value


@st.composite
def keras_pads(draw):
    rank = draw(st.integers(1, 3))
    crop = draw(st.booleans())
    broken = draw(BROKEN) and draw(st.booleans())
    value = keras_amounts(draw, rank, broken)
    first = draw(st.sampled_from([None, "channels_last", "channels_first", "Channels_First"]))
    if crop and rank == 1 and not broken:
        first = None  # Cropping1D takes no data_format
    name = ("Cropping" if crop else "ZeroPadding") + f"{rank}D"
    args = [] if crop and draw(st.integers(0, 5)) == 0 else [repr(value)]
    if first is not None:
        args.append(f"data_format={first!r}")
    prefix = draw(st.sampled_from(["layers.", "keras.layers."]))
    spatial = [draw(st.integers(0 if broken else 1, 7)) for _ in range(rank)]
    channels = draw(st.integers(1, 3))
    batch = draw(st.sampled_from([1, 2, 0]))
    channels_first = first is not None and first.lower() == "channels_first"
    shape = [batch, channels, *spatial] if channels_first else [batch, *spatial, channels]
    if draw(st.integers(0, 9)) == 0:
        shape = shape[1:]  # no batch axis: Keras refuses the rank
    return f"{prefix}{name}({', '.join(args)})", tuple(shape)


@given(keras_pads())
@SHAPES
def test_keras_padding_shapes(oracle, case):
    expr, shape = case
    agree(oracle("keras"), expr, shape)


@given(keras_pads(), st.integers(0, 2**32 - 1))
@NUMBERS
def test_keras_padding_numbers(oracle, case, seed):
    expr, shape = case
    assume(accepted(expr, shape))
    values_agree(oracle("keras"), expr, random(np.random.default_rng(seed), shape), [])


# --- ONNX (onnxruntime) ----------------------------------------------------------------------------------------------

ONNX_MODES = ("constant", "reflect", "edge", "wrap")


@st.composite
def onnx_pads(draw, numbers: bool = False):
    """make_node('Pad', ...) with its pads (and value, axes) as keywords, on an X of rank 1-5."""
    broken = not numbers and draw(BROKEN)
    rank = draw(st.integers(1, 5))
    shape = [draw(st.integers(1 if not (numbers or broken) else 0, 5)) for _ in range(rank)]
    mode = draw(st.sampled_from(ONNX_MODES))
    axes = None
    if draw(st.integers(0, 3)) == 0:
        axes = draw(st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=rank, unique_by=lambda a: a % rank))
    count = len(axes) if axes is not None else rank
    low = -2 if mode == "constant" else -1
    pads = [draw(st.integers(low, 3 if mode != "reflect" else 2)) for _ in range(2 * count)]
    if not numbers and axes is None and rank >= 3 and draw(st.booleans()):
        pads[0] = pads[1] = pads[rank] = pads[rank + 1] = 0  # the usual: N and C untouched
    if broken:
        fault = draw(st.sampled_from(["count", "reflect", "crop", "axes", "mode"]))
        if fault == "count":
            pads = pads[:-1]
        elif fault == "reflect":
            mode, pads[-1] = "reflect", shape[-1] + draw(st.integers(-1, 0))
        elif fault == "crop":
            pads[count - 1] = -shape[-1] - draw(st.integers(-1, 1))
        elif fault == "axes":
            axes = [0, rank] if draw(st.booleans()) else [0, -rank]
            pads = [1] * 4
        else:
            mode = "Reflect"
    inputs = ["X", "pads"] if draw(st.booleans()) else ["X"]
    keywords = [f"pads={pads!r}"]
    if draw(st.booleans()) or mode != "constant":
        keywords.insert(0, f"mode={mode!r}")
    if (mode == "constant" or draw(st.integers(0, 3)) == 0) and draw(st.booleans()):  # other modes ignore it
        keywords.append(f"value={draw(st.sampled_from([0.0, 1.5, -3.0]))!r}")
    if axes is not None:
        keywords.append(f"axes={axes!r}")
    prefix = draw(st.sampled_from(["helper.", "onnx.helper."]))
    return f"{prefix}make_node('Pad', {inputs!r}, ['Y'], {', '.join(keywords)})", {"X": tuple(shape)}


@given(onnx_pads())
@SHAPES
def test_onnx_pad_shapes(oracle, case):
    expr, shapes = case
    agree(oracle("onnx"), expr, shapes=shapes)


@given(onnx_pads(numbers=True), st.integers(0, 2**32 - 1))
@NUMBERS
def test_onnx_pad_numbers(oracle, case, seed):
    expr, shapes = case
    assume(accepted(expr, shapes=shapes))
    values_agree(oracle("onnx"), expr, arrays={"X": random(np.random.default_rng(seed), shapes["X"])})
