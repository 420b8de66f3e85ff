"""Resize and upsampling against the real frameworks: shapes, refusals and forward numbers.

Torch F.interpolate / F.upsample* / nn.Upsample* (every mode), Keras UpSampling1D-3D,
ONNX Resize (scales/sizes values in the call, see frameworks/onnx.py) and tf.image.resize.
About half the calls break one thing (a mode and rank mismatch, align_corners with nearest,
both size and scale_factor, an empty input, a zero scale...), so refusals are checked too.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.differential.compare import agree
from tests.differential.numerics import accepted, random, values_agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SCALES = [0.5, 1.5, 2, 2.0, 3, 0.7, 1.3, 2.5, 1 / 3, 0.25, 1.1, 1.75, 4]
TORCH_MODES = ["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"]
MODE_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def maybe(draw, weight=0.4) -> bool:
    hits = round(weight * 100)
    return draw(st.sampled_from([False] * (100 - hits) + [True] * hits))


def args_text(values: dict) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in values.items())


@st.composite
def torch_calls(draw, numeric: bool = False):
    """(expr, input_shape or None, shapes or None): a torch resize call, one thing broken ~half the time."""
    broken = not numeric and maybe(draw, 0.5)
    family = draw(st.sampled_from(["interpolate", "interpolate", "Upsample", "upsample", "UpsamplingNearest2d",
                                   "UpsamplingBilinear2d", "upsample_nearest", "upsample_bilinear"]))  # fmt: skip
    mode = draw(st.sampled_from(TORCH_MODES))
    fixed = {"UpsamplingNearest2d": "nearest", "upsample_nearest": "nearest", "UpsamplingBilinear2d": "bilinear",
             "upsample_bilinear": "bilinear"}  # fmt: skip
    mode = fixed.get(family, mode)
    rank = MODE_RANK.get(mode) or draw(st.integers(1, 3))
    if broken and maybe(draw, 0.3):
        rank = draw(st.integers(0, 4))
    batch = draw(st.integers(0 if broken else 1, 2))
    channels = draw(st.integers(0 if broken and maybe(draw, 0.3) else 1, 3))
    spatial = [draw(st.integers(0 if broken and maybe(draw, 0.2) else 1, 7)) for _ in range(rank)]
    kw = {}
    if draw(st.booleans()):
        sizes = [draw(st.integers(0 if broken and maybe(draw, 0.2) else 1, 11)) for _ in range(rank)]
        kw["size"] = sizes[0] if rank and maybe(draw, 0.3) else tuple(sizes)
    else:
        scales = [draw(st.sampled_from(SCALES + ([0.0, -1.0, 0.1] if broken else []))) for _ in range(rank)]
        kw["scale_factor"] = scales[0] if rank and maybe(draw, 0.4) else tuple(scales)
        if family in ("interpolate", "Upsample") and maybe(draw, 0.3):
            kw["recompute_scale_factor"] = draw(st.booleans())
    if broken and maybe(draw, 0.2):
        kw["size" if "scale_factor" in kw else "scale_factor"] = 2
    if family not in fixed:
        kw["mode"] = mode
        if (mode in MODE_RANK and maybe(draw, 0.4)) or (broken and maybe(draw, 0.2)):
            kw["align_corners"] = draw(st.booleans())
        if family == "interpolate" and (mode in ("bilinear", "bicubic") or broken) and maybe(draw, 0.3):
            kw["antialias"] = True
    if family == "interpolate" and rank == 2 and maybe(draw, 0.1):
        kw.pop("align_corners", None)
        kw.update(mode="lanczos", antialias=not (broken and maybe(draw, 0.3)))
    if broken and maybe(draw, 0.2) and "recompute_scale_factor" not in kw and family in ("interpolate", "Upsample"):
        kw["recompute_scale_factor"] = True
    shape = (batch, channels, *spatial)
    if family[0].islower():
        return f"F.{family}(x, {args_text(kw)})", None, {"x": shape}
    prefix = draw(st.sampled_from(["nn.", "torch.nn."]))
    return f"{prefix}{family}({args_text(kw)})", shape, None


@given(case=torch_calls())
@SETTINGS
def test_torch_resize_shapes(oracle, case):
    expr, shape, shapes = case
    agree(oracle("torch"), expr, shape, shapes=shapes)


@given(case=torch_calls(numeric=True), seed=st.integers(0, 2**16))
@SETTINGS
def test_torch_resize_numbers(oracle, case, seed):
    expr, shape, shapes = case
    if not accepted(expr, shape, shapes):
        return
    rng = np.random.default_rng(seed)
    import convarith

    if shapes:
        arrays = {"x": random(rng, shapes["x"])}
        try:
            convarith.forward(expr, arrays=arrays)
        except convarith.ConvArithError as error:
            assert "forward does not reproduce" in str(error), error
            return
        values_agree(oracle("torch"), expr, arrays=arrays)
    else:
        x = random(rng, shape)
        try:
            convarith.forward(expr, x, [])
        except convarith.ConvArithError as error:
            assert "forward does not reproduce" in str(error), error
            return
        values_agree(oracle("torch"), expr, x, [])


@st.composite
def keras_calls(draw, numeric: bool = False):
    broken = not numeric and maybe(draw, 0.5)
    rank = draw(st.integers(1, 3))
    prefix = draw(st.sampled_from(["keras.layers.", "layers.", ""]))
    fmt = draw(st.sampled_from(["channels_last", "channels_first"]))
    factors = [draw(st.integers(0 if broken and maybe(draw, 0.3) else 1, 3)) for _ in range(rank)]
    kw = {}
    if rank == 1:
        kw["size"] = factors[0]
    else:
        kw["size"] = factors[0] if maybe(draw, 0.3) else tuple(factors)
        kw["data_format"] = fmt
    if rank == 2 and maybe(draw, 0.6):
        choices = ["nearest", "bilinear", "bicubic", "area", "lanczos3", "lanczos5"]
        kw["interpolation"] = draw(st.sampled_from(choices + (["gaussian", "Bilinear"] if broken else [])))
    if broken and rank == 3 and maybe(draw, 0.2):
        kw["interpolation"] = "bilinear"
    batch = draw(st.integers(0 if broken else 1, 2))
    channels = draw(st.integers(0 if broken and maybe(draw, 0.3) else 1, 3))
    spatial = [draw(st.integers(0 if broken and maybe(draw, 0.3) else 1, 6)) for _ in range(rank)]
    shape = (batch, *spatial, channels) if rank == 1 or fmt == "channels_last" else (batch, channels, *spatial)
    if broken and maybe(draw, 0.15):
        shape = shape[:-1]
    return f"{prefix}UpSampling{rank}D({args_text(kw)})", shape


@given(case=keras_calls())
@SETTINGS
def test_keras_upsampling_shapes(oracle, case):
    agree(oracle("keras"), *case)


@given(case=keras_calls(numeric=True), seed=st.integers(0, 2**16))
@settings(SETTINGS, max_examples=80)
def test_keras_upsampling_numbers(oracle, case, seed):
    expr, shape = case
    if not accepted(expr, shape):
        return
    values_agree(oracle("keras"), expr, random(np.random.default_rng(seed), shape), [])


@st.composite
def onnx_calls(draw, numeric: bool = False):
    """(expr, shapes) of a Resize node; the scales or sizes values in the call."""
    broken = not numeric and maybe(draw, 0.5)
    mode = draw(st.sampled_from(["nearest", "linear", "cubic"]))
    rank = 2 if mode == "cubic" and not broken else draw(st.integers(1, 3))
    shape = (draw(st.integers(0 if broken else 1, 2)), draw(st.integers(1, 2)))
    shape += tuple(draw(st.integers(1, 7)) for _ in range(rank))
    attrs = {"mode": mode if not (broken and maybe(draw, 0.1)) else "bilinear"}
    coordinates = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
                   "tf_half_pixel_for_nn"] + ([] if numeric else ["tf_crop_and_resize"])  # fmt: skip
    if maybe(draw, 0.7):
        attrs["coordinate_transformation_mode"] = draw(st.sampled_from(coordinates))
    if mode == "nearest" and maybe(draw, 0.7):
        attrs["nearest_mode"] = draw(st.sampled_from(["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]))
    if (mode == "cubic" or broken) and maybe(draw, 0.4):
        attrs["exclude_outside"] = 1
    if mode == "cubic" and maybe(draw, 0.4):
        attrs["cubic_coeff_a"] = draw(st.sampled_from([-0.5, -0.75, -1.0]))
    axes = None
    use_scales = draw(st.booleans())
    if maybe(draw, 0.25):
        axes = list(range(2, 2 + rank))
        # negative axes only with scales: onnxruntime ignores a keep_aspect_ratio_policy over negative axes (not modelled)
        attrs["axes"] = axes if maybe(draw, 0.5) or not use_scales else [a - 2 - rank for a in axes]
    if use_scales:
        values = [draw(st.sampled_from(SCALES + ([0.0, -1.0] if broken else []))) for _ in range(rank)]
        values = [float(v) for v in values]
        values = values if axes else [1.0, 1.0, *values]
        inputs, attrs["scales"] = ["X", "", "scales"], values
    else:
        values = [draw(st.integers(0 if broken and maybe(draw, 0.2) else 1, 11)) for _ in range(rank)]
        values = values if axes else [*shape[:2], *values]
        inputs, attrs["sizes"] = ["X", "", "", "sizes"], values
        if axes and maybe(draw, 0.3):  # without axes the policy scales N and C too: not modelled
            attrs["keep_aspect_ratio_policy"] = draw(st.sampled_from(["not_larger", "not_smaller", "stretch"]))
    if broken and maybe(draw, 0.2):
        key = "scales" if use_scales else "sizes"
        attrs[key] = attrs[key][:-1] or [1.0]
    if broken and use_scales and maybe(draw, 0.1):  # refused with scales
        attrs["keep_aspect_ratio_policy"] = "not_larger"
    if maybe(draw, 0.25) and (mode != "nearest" or broken):
        attrs["antialias"] = 1
    parts = ["'Resize'", repr(inputs), "['Y']"] + [f"{key}={value!r}" for key, value in attrs.items()]
    return f"helper.make_node({', '.join(parts)})", {"X": shape}


@given(case=onnx_calls())
@SETTINGS
def test_onnx_resize_shapes(oracle, case):
    expr, shapes = case
    agree(oracle("onnx"), expr, shapes=shapes)


@given(case=onnx_calls(numeric=True), seed=st.integers(0, 2**16))
@SETTINGS
def test_onnx_resize_numbers(oracle, case, seed):
    expr, shapes = case
    if not accepted(expr, shapes=shapes):
        return
    values_agree(oracle("onnx"), expr, arrays={"X": random(np.random.default_rng(seed), shapes["X"])})


@st.composite
def tf_image_calls(draw, numeric: bool = False):
    broken = not numeric and maybe(draw, 0.5)
    methods = ["nearest", "bilinear", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic"]
    method = draw(st.sampled_from(methods + (["bogus"] if broken else [])))
    size = (draw(st.integers(0 if broken and maybe(draw, 0.3) else 1, 11)), draw(st.integers(1, 11)))
    low = 0 if broken and maybe(draw, 0.3) else 1
    shape = (draw(st.integers(low, 7)), draw(st.integers(low, 7)), draw(st.integers(low, 3)))
    if maybe(draw, 0.7):
        shape = (draw(st.integers(0 if broken else 1, 2)), *shape)
    if broken and maybe(draw, 0.2):
        shape = shape[1:] if len(shape) == 3 else shape[:2]
    kw = {"method": method}
    if maybe(draw, 0.4):
        kw["antialias"] = True
    if maybe(draw, 0.25):
        kw["preserve_aspect_ratio"] = True
    return f"tf.image.resize(x, {size!r}, {args_text(kw)})", {"x": shape}


@given(case=tf_image_calls())
@SETTINGS
def test_tf_image_resize_shapes(oracle, case):
    expr, shapes = case
    agree(oracle("tf_nn"), expr, shapes=shapes)


@given(case=tf_image_calls(numeric=True), seed=st.integers(0, 2**16))
@settings(SETTINGS, max_examples=80)
def test_tf_image_resize_numbers(oracle, case, seed):
    expr, shapes = case
    if not accepted(expr, shapes=shapes):
        return
    values_agree(oracle("tf_nn"), expr, arrays={"x": random(np.random.default_rng(seed), shapes["x"])})
