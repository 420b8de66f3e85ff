"""Rearranging layers and the functions built on others (wip8-rearr), against the real frameworks:
torch PixelShuffle/PixelUnshuffle/Unfold/Fold, tf.nn depth_to_space/space_to_depth/atrous_conv2d/
separable_conv2d/max_pool_with_argmax, jax.lax.reduce_window. Shapes and refusals (about half the
cases break one thing), the explanation, and forward's numbers."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convarith
from tests.differential.compare import TALLY, agree, plan_agrees
from tests.differential.numerics import accepted, random, values_agree

pytestmark = pytest.mark.differential
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NUMBERS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def broken(draw) -> bool:
    """About half the cases break one thing."""
    return draw(st.booleans())


def agree_flat(oracle, expr: str, input_shape=None, *, shapes=None, outs=None) -> dict:
    """compare.agree for an output whose spatial axes are not laid out one per axis (unfold's L,
    reduce_window's operand axes): same shape or same refusal, plan.shape == plan.map, and the
    explanation's per-axis outputs give the shape through ``outs(shape) -> per-axis sizes or their product``."""
    answer = oracle.run({"expr": expr, "input_shape": input_shape, "shapes": shapes, "output_size": None})
    try:
        ours, refusal = convarith.output_shape(expr, input_shape, shapes=shapes), None
    except convarith.ConvArithError as exc:
        ours, refusal = None, str(exc)
    where = f"{expr} on input_shape={input_shape} shapes={shapes}"
    plan_agrees(expr, input_shape, shapes, None, ours, refusal, where)
    if "shape" not in answer:
        assert refusal is not None, (
            f"{oracle.framework} refuses ({answer.get('error') or answer.get('crash')}) but convarith gives {ours}\n  {where}"
        )
        TALLY[oracle.framework, "refusal"] += 1
        return answer
    assert refusal is None, f"{oracle.framework} gives {answer['shape']} but convarith refused: {refusal}\n  {where}"
    assert ours == tuple(answer["shape"]), f"{oracle.framework} gives {answer['shape']}, convarith {ours}\n  {where}"
    explanation = convarith.explain(expr, input_shape, shapes=shapes)
    data = explanation.to_dict()
    given_shape = tuple(input_shape if input_shape is not None else shapes["x"])
    assert tuple(data["input_shape"]) == given_shape and explanation.output_shape == ours, where
    assert f"input {given_shape} -> output {ours}" in str(explanation), where
    assert outs(ours, [axis["out"] for axis in data["steps"][-1]["axes"]]), f"explained {data['steps']}\n  {where}"
    TALLY[oracle.framework, "shape"] += 1
    TALLY[oracle.framework, "explained"] += 1
    return answer


# --- torch ------------------------------------------------------------------------------------------------------------


@st.composite
def shuffle_calls(draw):
    """PixelShuffle/PixelUnshuffle (module or F.), on (*, C, H, W): a factor that does not divide, a bad
    factor, too few dimensions or an empty axis about half the time."""
    shuffle = draw(st.booleans())
    r = draw(st.integers(1, 3))
    lead = draw(st.sampled_from([(1,), (2,), (), (2, 1)]))
    c, h, w = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if shuffle:
        c *= r * r
    else:
        h, w = h * r, w * r
    if broken(draw):
        what = draw(st.sampled_from(["channels", "height", "width", "factor", "rank", "empty"]))
        if what == "channels":
            c += 1
        elif what == "height":
            h += 1
        elif what == "width":
            w += 1
        elif what == "factor":
            r = draw(st.sampled_from([0, -1]))
        elif what == "rank":
            lead, c = (), None
        else:
            lead = (0,)
    shape = (*lead, *((c,) if c is not None else ()), h, w)
    name = "PixelShuffle" if shuffle else "PixelUnshuffle"
    if draw(st.booleans()):
        keyword = "upscale_factor" if shuffle else "downscale_factor"
        factor = f"{keyword}={r}" if draw(st.booleans()) else f"{r}"
        return f"F.{name[:5].lower()}_{name[5:].lower()}(x, {factor})", None, {"x": shape}
    return f"nn.{name}({r})", shape, None


@given(shuffle_calls())
@SETTINGS
def test_pixel_shuffle(oracle, case):
    expr, input_shape, shapes = case
    agree(oracle("torch"), expr, input_shape, shapes=shapes)


def window_args(draw, *, broken_now: bool) -> tuple[str, dict]:
    """kernel_size, dilation, padding, stride for fold/unfold, an int or a pair; one of them
    out of range (or a pair of the wrong length) when ``broken_now``."""
    values = {
        "kernel_size": (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        "dilation": (draw(st.integers(1, 2)), draw(st.integers(1, 2))),
        "padding": (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
        "stride": (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
    }
    written = {}
    for name, pair in values.items():
        written[name] = pair[0] if pair[0] == pair[1] and draw(st.booleans()) else pair
    if broken_now:
        name = draw(st.sampled_from(list(values)))
        written[name] = draw(
            st.sampled_from([(0 if name != "padding" else -1), (1,), (1, 1, 1), [values[name][0]] * 2])
        )
    text = ", ".join(f"{name}={value!r}" for name, value in written.items() if value != 0 or name == "padding")
    return text, {name: (v, v) if isinstance(v, int) else tuple(v) for name, v in written.items()}


def blocks_of(size, args) -> tuple[int, ...]:
    """torch's sliding blocks per axis, computed here by the documented formula."""
    return tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, d, p, s in zip(size, args["kernel_size"], args["dilation"], args["padding"], args["stride"])
    )


@st.composite
def unfold_calls(draw):
    broken_now = broken(draw)
    text, _ = window_args(draw, broken_now=broken_now and draw(st.booleans()))
    batch = draw(st.sampled_from([(1,), (2,), (), (0,)]))
    shape = (*batch, draw(st.integers(1, 3)), draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    if broken_now and draw(st.booleans()):
        shape = draw(st.sampled_from([(1, 0, 4, 4), (1, 2, 0, 4), (1, 1, 2, 4, 4), (4, 4)]))
    if draw(st.booleans()):
        return f"F.unfold(x, {text})", None, {"x": shape}
    return f"nn.Unfold({text})", shape, None


def unfold_outs(shape, outs) -> bool:
    return shape[-1] == math.prod(outs)


@given(unfold_calls())
@SETTINGS
def test_unfold(oracle, case):
    expr, input_shape, shapes = case
    agree_flat(oracle("torch"), expr, input_shape, shapes=shapes, outs=unfold_outs)


@st.composite
def fold_calls(draw):
    """Fold with an input made to fit output_size (the L of its blocks, C*K planes), then sometimes
    one thing off: L, the planes, the rank, an empty axis, an argument, an output_size too small."""
    broken_now = broken(draw)
    text, args = window_args(draw, broken_now=broken_now and draw(st.booleans()))
    size = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    if broken_now and draw(st.booleans()):
        size = (draw(st.integers(-2, 1)), size[1])
    low = {"padding": 0}
    usable = {  # a broken argument aside, the values torch uses
        k: (max(v[0], low.get(k, 1)), max(v[-1], low.get(k, 1))) if len(v) else (1, 1) for k, v in args.items()
    }
    blocks = blocks_of(size, usable)
    taps = usable["kernel_size"][0] * usable["kernel_size"][1]
    planes = draw(st.integers(1, 3)) * taps
    length = max(blocks[0] * blocks[1], 1)
    if broken_now:
        what = draw(st.sampled_from(["L", "planes", "rank", "empty"]))
        length += what == "L"
        planes += what == "planes"
    else:
        what = ""
    batch = draw(st.sampled_from([(1,), (2,), ()]))
    shape = (*batch, planes, length)
    if what == "rank":
        shape = (1, *shape) if batch else (planes,)
    elif what == "empty":
        shape = (*batch, 0, length) if draw(st.booleans()) else (0, planes, length)
    size_text = repr(size) if size[0] != size[1] or draw(st.booleans()) else f"{size[0]}"
    if draw(st.booleans()):
        return f"F.fold(x, {size_text}, {text})", None, {"x": shape}
    return f"nn.Fold({size_text}, {text})", shape, None


@given(fold_calls())
@SETTINGS
def test_fold(oracle, case):
    expr, input_shape, shapes = case
    agree(oracle("torch"), expr, input_shape, shapes=shapes)


@given(st.one_of(shuffle_calls(), unfold_calls(), fold_calls()), st.integers(0, 2**32 - 1))
@NUMBERS
def test_torch_numbers(oracle, case, seed):
    expr, input_shape, shapes = case
    assume(accepted(expr, input_shape, shapes))
    rng = np.random.default_rng(seed)
    if shapes is not None:
        values_agree(oracle("torch"), expr, arrays={"x": random(rng, shapes["x"])})
    else:
        values_agree(oracle("torch"), expr, random(rng, input_shape), [])


# --- tf.nn ------------------------------------------------------------------------------------------------------------


@st.composite
def block_calls(draw):
    """depth_to_space / space_to_depth: block 2-3, NHWC; a block below 2, a depth or size that does not
    divide, NCHW (no CPU kernel), another rank, or a bad format name about half the time."""
    kind = draw(st.sampled_from(["depth_to_space", "space_to_depth"]))
    b = draw(st.integers(2, 3))
    n, h, w, c = draw(st.integers(0, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if kind == "depth_to_space":
        c *= b * b
    else:
        h, w = h * b, w * b
    fmt = None
    shape = (n, h, w, c)
    if broken(draw):
        what = draw(st.sampled_from(["block", "divide", "format", "rank", "name"]))
        if what == "block":
            b = draw(st.sampled_from([1, 0, -2]))
        elif what == "divide":
            shape = (n, h + (kind == "space_to_depth"), w, c + (kind == "depth_to_space"))
        elif what == "format":
            fmt = draw(st.sampled_from(["NCHW", "NCHW_VECT_C"]))
        elif what == "rank":
            shape = shape[1:]
        else:
            fmt = draw(st.sampled_from(["nhwc", "NWC"]))
    args = f"x, {b}" if draw(st.booleans()) else f"x, block_size={b}"
    if fmt is not None or draw(st.integers(0, 3)) == 0:
        args += f", data_format={fmt or 'NHWC'!r}"
    return f"tf.nn.{kind}({args})", {"x": shape}


@given(block_calls())
@SETTINGS
def test_depth_to_space(oracle, case):
    expr, shapes = case
    agree(oracle("tf_nn"), expr, shapes=shapes)


@st.composite
def atrous_calls(draw):
    """atrous_conv2d: rate 1-3 (an int or a pair), SAME/VALID; sometimes a rate below 1, lower-case or
    explicit padding, mismatched channels, an input too small for VALID."""
    rate = draw(st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=2, max_size=2)))
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    c, out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x = [draw(st.integers(1, 2)), draw(st.integers(1, 9)), draw(st.integers(1, 9)), c]
    w = [draw(st.integers(1, 3)), draw(st.integers(1, 3)), c, out]
    if broken(draw):
        what = draw(st.sampled_from(["rate", "padding", "channels", "rank"]))
        if what == "rate":
            rate = draw(st.sampled_from([0, -1, [1, 0]]))
        elif what == "padding":
            padding = draw(st.sampled_from(["same", [[0, 0], [1, 1], [1, 1], [0, 0]]]))
        elif what == "channels":
            w[2] = c + 1
        else:
            x = [1, *x]
    return f"tf.nn.atrous_conv2d(x, w, {rate!r}, {padding!r})", {"x": x, "w": w}


@given(atrous_calls())
@SETTINGS
def test_atrous_conv2d(oracle, case):
    expr, shapes = case
    agree(oracle("tf_nn"), expr, shapes=shapes)


@st.composite
def separable_calls(draw):
    """separable_conv2d: strides [1, s, s, 1], SAME/VALID, maybe dilations; sometimes unequal or batch
    strides, a pointwise filter of the wrong size or depth, strides with a dilation, a bad depth."""
    c, m, out = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    s = draw(st.integers(1, 2))
    strides = [1, s, s, 1]
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    dilations = draw(st.sampled_from([None, None, [1, 1], [2, 2], [2, 1]]))
    x = [draw(st.integers(1, 2)), draw(st.integers(1, 8)), draw(st.integers(1, 8)), c]
    dw = [draw(st.integers(1, 3)), draw(st.integers(1, 3)), c, m]
    pw = [1, 1, c * m, out]
    if broken(draw):
        what = draw(st.sampled_from(["strides", "pointwise", "depth", "groups", "rank", "zero"]))
        if what == "strides":
            strides = draw(st.sampled_from([[1, 2, 1, 1], [2, 1, 1, 1], [1, 1], [1, 1, 1, 2]]))
        elif what == "pointwise":
            pw = draw(st.sampled_from([[2, 1, c * m, out], [1, 1, c * m + 1, out], [1, c * m, out]]))
        elif what == "depth":
            dw[2] = c + 1
        elif what == "groups":  # a grouped pointwise conv: depth a multiple of its in-channels
            pw = [1, 1, 1, draw(st.integers(1, 3))]
        elif what == "zero":  # a channel multiplier of 0, a pointwise filter of depth 0 or of no outputs
            dw, pw = draw(st.sampled_from([([*dw[:3], 0], pw), (dw, [1, 1, 0, out]), (dw, [1, 1, c * m, 0])]))
        else:
            x = x[1:]
    args = f"x, d, p, {strides!r}, {padding!r}"
    if dilations is not None:
        args += f", dilations={dilations!r}"
    return f"tf.nn.separable_conv2d({args})", {"x": x, "d": dw, "p": pw}


@given(separable_calls())
@SETTINGS
def test_separable_conv2d(oracle, case):
    expr, shapes = case
    agree(oracle("tf_nn"), expr, shapes=shapes)


@st.composite
def argmax_calls(draw):
    """max_pool_with_argmax: ksize/strides as an int, 1, 2 or 4 values; SAME/VALID; sometimes NCHW,
    explicit padding, a 3-value ksize, a zero stride, an empty input, batch pooling, another rank."""

    def seq():
        return draw(
            st.one_of(
                st.integers(1, 3),
                st.lists(st.integers(1, 3), min_size=1, max_size=2),
                st.builds(lambda hw: [1, *hw, 1], st.lists(st.integers(1, 3), min_size=2, max_size=2)),
            )
        )

    ksize, strides = seq(), seq()
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    x = [draw(st.integers(1, 2)), draw(st.integers(1, 7)), draw(st.integers(1, 7)), draw(st.integers(1, 3))]
    extra = ""
    if broken(draw):
        what = draw(st.sampled_from(["format", "padding", "ksize", "stride", "empty", "batch", "rank"]))
        if what == "format":
            extra = ", data_format='NCHW'"
        elif what == "padding":
            padding = draw(st.sampled_from(["same", [[0, 0], [1, 1], [1, 1], [0, 0]]]))
        elif what == "ksize":
            ksize = [2, 2, 2]
        elif what == "stride":
            strides = 0
        elif what == "empty":
            x[draw(st.integers(0, 3))] = 0
        elif what == "batch":
            ksize = [2, 2, 2, 1]
        else:
            x = x[1:]
    if draw(st.booleans()):
        extra += ", include_batch_in_index=True"
    return f"tf.nn.max_pool_with_argmax(x, {ksize!r}, {strides!r}, {padding!r}{extra})", {"x": x}


@given(argmax_calls())
@SETTINGS
def test_max_pool_with_argmax(oracle, case):
    expr, shapes = case
    agree(oracle("tf_nn"), expr, shapes=shapes)


@given(st.one_of(block_calls(), atrous_calls(), separable_calls(), argmax_calls()), st.integers(0, 2**32 - 1))
@NUMBERS
def test_tf_nn_numbers(oracle, case, seed):
    expr, shapes = case
    assume(accepted(expr, shapes=shapes))
    assume("separable" not in expr or "[1, 1, 1, 1]" in expr or "dilations=[2" not in expr)  # space-to-batch strides
    rng = np.random.default_rng(seed)
    values_agree(oracle("tf_nn"), expr, arrays={k: random(rng, s) for k, s in shapes.items()})


# --- jax.lax ----------------------------------------------------------------------------------------------------------

INITS = {
    "lax.max": ["-jnp.inf", "-np.inf", "-math.inf", "0.0", "-1.0", "jnp.inf"],
    "jnp.maximum": ["-jnp.inf", "0.5"],
    "lax.min": ["jnp.inf", "np.inf", "0.0", "-jnp.inf"],
    "jnp.minimum": ["jnp.inf", "1"],
    "lax.add": ["0.0", "0", "-0.0"],
    "jnp.add": ["0.0"],
}


@st.composite
def window_calls(draw):
    """reduce_window over a 1-3 axis operand: window, strides, 'SAME'/'VALID'/'SAME_LOWER' or
    explicit (maybe negative) pairs, base and window dilation; sometimes a zero window or stride,
    a wrong count, a bad padding string, 'SAME' without strides, a zero dilation."""
    rank = draw(st.integers(1, 3))
    x = tuple(draw(st.integers(0 if draw(st.integers(0, 9)) == 0 else 1, 6)) for _ in range(rank))
    computation = draw(st.sampled_from(list(INITS)))
    init = draw(st.sampled_from(INITS[computation]))

    def ints(low, high):
        return tuple(draw(st.integers(low, high)) for _ in range(rank))

    window, strides = ints(1, 3), draw(st.one_of(st.none(), st.just(ints(1, 3))))
    padding = draw(
        st.one_of(
            st.sampled_from(["VALID", "SAME", "SAME_LOWER", "same"]),
            st.lists(st.tuples(st.integers(-1, 2), st.integers(-1, 2)), min_size=rank, max_size=rank),
        )
    )
    base, rate = draw(st.one_of(st.none(), st.just(ints(1, 2)))), draw(st.one_of(st.none(), st.just(ints(1, 2))))
    if isinstance(padding, str) and padding != "VALID" and strides is None:
        strides = ints(1, 3)
    if broken(draw):
        what = draw(st.sampled_from(["window", "stride", "count", "padding", "none", "dilation"]))
        if what == "window":
            window = (0, *window[1:])
        elif what == "stride":
            strides = (0, *(strides or window)[1:])
        elif what == "count":
            window = (*window, 1)
        elif what == "padding":
            padding = draw(st.sampled_from(["FULL", [(0, 0)] * (rank + 1)]))
        elif what == "none":
            padding, strides = "SAME", None
        else:
            base = (0, *(base or window)[1:])
    args = [f"{window!r}", f"{strides!r}", f"{padding!r}", f"{base!r}", f"{rate!r}"]
    while args[-1] == "None" and len(args) > 2:
        args.pop()
    return f"lax.reduce_window(x, {init}, {computation}, {', '.join(args)})", {"x": x}


def window_outs(shape, outs) -> bool:
    return tuple(shape) == tuple(outs)


@given(window_calls())
@SETTINGS
def test_reduce_window(oracle, case):
    expr, shapes = case
    agree_flat(oracle("jax_lax"), expr, shapes=shapes, outs=window_outs)


@given(window_calls(), st.integers(0, 2**32 - 1))
@NUMBERS
def test_reduce_window_numbers(oracle, case, seed):
    expr, shapes = case
    assume(accepted(expr, shapes=shapes))
    rng = np.random.default_rng(seed)
    values_agree(oracle("jax_lax"), expr, arrays={"x": random(rng, shapes["x"])})


# --- ONNX ------------------------------------------------------------------------------------------------------------


@st.composite
def onnx_block_calls(draw):
    """DepthToSpace (mode DCR/CRD) / SpaceToDepth: blocksize 1-3; sometimes blocksize <= 0 or missing, a
    lower-case or SpaceToDepth mode, a channel count or size that does not divide, another rank."""
    op = draw(st.sampled_from(["DepthToSpace", "SpaceToDepth"]))
    b = draw(st.integers(1, 3))
    n, c, h, w = draw(st.integers(0, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if op == "DepthToSpace":
        c *= b * b
    else:
        h, w = h * b, w * b
    attrs = {"blocksize": b}
    if op == "DepthToSpace" and draw(st.booleans()):
        attrs["mode"] = draw(st.sampled_from(["DCR", "CRD"]))
    shape = (n, c, h, w)
    if broken(draw):
        what = draw(st.sampled_from(["block", "missing", "mode", "divide", "rank"]))
        if what == "block":
            attrs["blocksize"] = draw(st.sampled_from([0, -2]))
        elif what == "missing":
            del attrs["blocksize"]
        elif what == "mode":
            attrs["mode"] = draw(st.sampled_from(["crd", "DCR"]))
        elif what == "divide" and b > 1:
            shape = (n, c + (op == "DepthToSpace"), h + (op == "SpaceToDepth"), w)
        else:
            shape = shape[1:]
    text = "".join(f", {key}={value!r}" for key, value in attrs.items())
    return f"helper.make_node({op!r}, ['X'], ['Y']{text})", {"X": shape}


@given(onnx_block_calls())
@SETTINGS
def test_onnx_depth_to_space(oracle, case):
    expr, shapes = case
    agree(oracle("onnx"), expr, shapes=shapes)


@given(onnx_block_calls(), st.integers(0, 2**32 - 1))
@NUMBERS
def test_onnx_depth_to_space_numbers(oracle, case, seed):
    expr, shapes = case
    assume(accepted(expr, shapes=shapes))
    rng = np.random.default_rng(seed)
    values_agree(oracle("onnx"), expr, arrays={"X": random(rng, shapes["X"])})
