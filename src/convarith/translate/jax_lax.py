"""jax.lax as the source and the target of a translation (issue 12).

Target bodies take canonical NumPy ``x`` (N, C, *spatial) and ``params`` and compute
canonical ``y`` with jax.lax functions on the canonical layout itself ('NCHW', 'OIHW',
'NCHW' dimension numbers), float32 and ``precision=lax.Precision.HIGHEST``:
convolutions with ``lax.conv_general_dilated`` (transposed ones with ``lax.conv_transpose``,
or an lhs-dilated conv of the flipped kernel where groups need it), pools with
``lax.reduce_window``, padding with ``lax.pad`` / ``jnp.pad``, rearranging with reshapes
and transposes, unfold/fold with ``lax.conv_general_dilated_patches`` / an identity-kernel
transposed conv, activations with ``jax.nn``. Each call is checked by mapping it back with
convarith (``map_call``) where jax.lax has it, so a string padding is only used when jax
computes the same pads from it.
"""

from __future__ import annotations

import math

from ..core import arith
from ..core.op import ConvOp
from ..errors import ConvArithError
from ..frameworks import jax_lax as spelling
from ..frameworks._common import Mapped, refuse
from . import steps
from .parts import Source, Target

__all__ = ["FRAMEWORK_ID", "emit", "input_steps", "output_steps", "rhs_steps", "source", "target"]

FRAMEWORK_ID = "jax_lax"
IMPORTS = ("import jax", "import jax.numpy as jnp", "from jax import lax", "import numpy as np")
HIGHEST = "precision=lax.Precision.HIGHEST"
NP_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
#: Keras activation names -> the jax expression applied to ``y`` ({axis}: the source output's last axis).
ACTIVATIONS = {
    "linear": "",
    "relu": "jax.nn.relu(y)",
    "relu6": "jax.nn.relu6(y)",
    "leaky_relu": "jax.nn.leaky_relu(y, negative_slope=0.2)",
    "elu": "jax.nn.elu(y)",
    "selu": "jax.nn.selu(y)",
    "celu": "jax.nn.celu(y)",
    "gelu": "jax.nn.gelu(y, approximate=False)",
    "sigmoid": "jax.nn.sigmoid(y)",
    "hard_sigmoid": "jax.nn.hard_sigmoid(y)",
    "sparse_sigmoid": "jax.nn.sparse_sigmoid(y)",
    "log_sigmoid": "jax.nn.log_sigmoid(y)",
    "silu": "jax.nn.silu(y)",
    "hard_silu": "jax.nn.hard_silu(y)",
    "mish": "jax.nn.mish(y)",
    "tanh": "jnp.tanh(y)",
    "hard_tanh": "jax.nn.hard_tanh(y)",
    "tanh_shrink": "y - jnp.tanh(y)",
    "softplus": "jax.nn.softplus(y)",
    "sparse_plus": "jax.nn.sparse_plus(y)",
    "squareplus": "jax.nn.squareplus(y)",
    "softsign": "jax.nn.soft_sign(y)",
    "soft_shrink": "jnp.where(y > 0.5, y - 0.5, jnp.where(y < -0.5, y + 0.5, 0.0))",
    "hard_shrink": "jnp.where(jnp.abs(y) > 0.5, y, 0.0)",
    "exponential": "jnp.exp(y)",
    "softmax": "jax.nn.softmax(y, axis={axis})",
    "log_softmax": "jax.nn.log_softmax(y, axis={axis})",
}


class Part:
    """The lines, calls and notes one op adds to a target body."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.calls: list[str] = []
        self.notes: list[str] = []

    def call(self, text: str, result: str = "y") -> None:
        self.lines.append(f"{result} = {text}")
        self.calls.append(text)


# --- layouts as data (reference.adapters.jax_params applies the same steps) -------------------------------------


def compose(first: tuple[int, ...], then: tuple[int, ...]) -> tuple[int, ...]:
    """The one transpose doing ``first`` and then ``then``."""
    return tuple(first[axis] for axis in then)


def rhs_steps(mapped: Mapped, ndim: int) -> tuple:
    """The rhs as the call takes it -> the canonical weight of the op: laid out by the rhs spec
    (O, I, spatial...); conv_transpose runs it (flipped, I/O swapped by transpose_kernel=True)
    as a stride-1 conv of the stride-dilated input, whose canonical transposed weight is that
    conv's kernel flipped and swapped back."""
    label = mapped.call.base
    transpose = label == "conv_transpose"
    default = spelling.TRANSPOSE_DEFAULTS.get(ndim) if transpose else None
    specs = spelling.dimension_numbers(mapped.argument("dimension_numbers"), ndim, label, default)
    perm = specs.rhs
    spatial = tuple(range(2, ndim))
    swap = (1, 0, *spatial)
    if not transpose:
        return (steps.Transpose(perm),)
    flip = bool(mapped.argument("transpose_kernel", False))
    forward_kernel_flipped = flip  # the forward conv kernel is the rhs flipped and swapped
    if mapped.ops[0].kind == "conv_transpose":  # canonical = that conv kernel flipped and swapped again
        forward_kernel_flipped = not flip
    if not forward_kernel_flipped:
        return (steps.Transpose(perm),)
    return (steps.Transpose(compose(perm, swap)), steps.Flip(spatial))


def input_steps(mapped: Mapped) -> tuple:
    """The input as given -> canonical (N, C, *spatial): an unbatched or reduce_window operand
    reshaped to the op's input shape first, then its axes put in canonical order."""
    first = mapped.ops[0]
    given = tuple(mapped.given_input_shape)
    found = () if given == tuple(first.input_shape) else (steps.Reshape(first.input_shape, given),)
    return (*found, steps.Transpose(first.in_spec))


def output_steps(mapped: Mapped) -> tuple:
    """Canonical y -> the call's output layout and shape."""
    last = mapped.ops[-1]
    spec = last.out_spec
    inverse = tuple(sorted(range(len(spec)), key=spec.__getitem__))
    canonical = (last.batch // last.batch_groups, last.out_channels, *(max(s, 0) for s in arith.output_spatial(last)))
    laid = tuple(canonical[axis] for axis in inverse)
    out = tuple(mapped.output_shape)
    found = (steps.Transpose(inverse),)
    return found if laid == out else (*found, steps.Reshape(out, laid))


# --- jax.lax as the source -------------------------------------------------------------------------------------------


def source(mapped: Mapped) -> Source:
    """How ``layer(<tensor names>)`` takes a jax.lax call's arrays and runs the real call."""
    from ..reference.adapters import array_names

    names = [name for _, name in array_names(mapped.call)]
    label = mapped.call.base
    values = dict(mapped.arguments)
    lhs_key = "operand" if label == "reduce_window" else "lhs"
    lhs = values[lhs_key].dotted
    x_code = contiguous(steps.code(input_steps(mapped), f"np.asarray({lhs}, np.float32)"))
    notes = [f"{lhs}: {mapped.layout or 'layout'} -> canonical (N, C, *spatial)"]
    if label == "reduce_window":
        to_canonical = (f"x, params = {x_code}, [(None, None)]",)
    else:
        rhs = values["rhs"].dotted
        w_code = contiguous(steps.code(rhs_steps(mapped, len(mapped.ops[0].in_spec)), f"np.asarray({rhs}, np.float32)"))
        to_canonical = (f"x, params = {x_code}, [({w_code}, None)]",)
        notes.append(f"{rhs}: the rhs spec's (O, I, spatial) order -> the canonical weight")
    return Source(
        signature=", ".join(names),
        to_canonical=to_canonical,
        from_canonical=(f"y = {contiguous(steps.code(output_steps(mapped), 'y'))}",),
        run_imports=run_imports(mapped),
        run=(f"y = np.asarray({run_text(mapped, set(names))})",),
        notes=tuple(notes),
    )


def contiguous(code: str) -> str:
    """``code`` as a C-contiguous array where its steps leave a view (a flip's negative strides)."""
    return f"np.ascontiguousarray({code})" if code.startswith(("np.transpose", "np.flip")) else code


def run_text(mapped: Mapped, tensors: set) -> str:
    """The call written out from its bound values: tensors as jnp arrays, defaults left out."""
    label = mapped.call.base
    params = {
        "reduce_window": spelling.WINDOW_PARAMS,
        "conv_transpose": spelling.TRANSPOSE_PARAMS,
    }.get(label) or spelling.general_params(label)
    defaults = dict(params)
    parts = []
    for name, value in mapped.arguments:
        if name not in defaults:
            continue
        if value is defaults[name] or (defaults[name] is not spelling.REQUIRED and value == defaults[name]):
            continue
        text = f"jnp.asarray({value.dotted})" if getattr(value, "dotted", None) in tensors else repr(value)
        parts.append(text if defaults[name] is spelling.REQUIRED else f"{name}={text}")
    return f"lax.{label}({', '.join(parts)})"


def run_imports(mapped: Mapped) -> tuple[str, ...]:
    """What the call's own names need (an init value may be math.inf or numpy.inf)."""
    text = repr(mapped.call).replace("jax.numpy.", "")
    extra = tuple(f"import {module}" for module in ("math", "numpy") if f"{module}." in text)
    return ("import jax", "import jax.numpy as jnp", "from jax import lax", "import numpy as np", *extra)


# --- emit: the reverse map ------------------------------------------------------------------------------------------


def spec_text(spec: tuple[int, ...], pair: str, letters: str) -> str:
    """A dimension-numbers string: ``pair`` (N, C or O, I) at spec[0], spec[1], ``letters`` at the rest."""
    text = [""] * len(spec)
    for axis, letter in zip(spec, pair + letters):
        text[axis] = letter
    return "".join(text)


def numbers(spec_in: tuple[int, ...], spec_out: tuple[int, ...]) -> tuple[str, str, str]:
    letters = spelling.spatial_letters(len(spec_in) - 2)
    return spec_text(spec_in, "NC", letters), "OI" + letters, spec_text(spec_out, "NC", letters)


def pairs(lo, hi) -> str:
    return repr([(a, b) for a, b in zip(lo, hi)])


def emit(op: ConvOp) -> str:
    """One jax.lax call (tensors named x and w, shapes in ``emit_shapes``) whose mapping is ``op``."""
    label = "jax.lax"
    if op.kind == "conv":
        dn = numbers(op.in_spec, op.out_spec)
        if op.pad_mode != "zeros":
            raise refuse(label, f"a conv with padding_mode={op.pad_mode!r}", "jax.lax convolutions pad with zeros",
                         "jnp.pad(x, ..., mode=...) first, then the conv with padding 'VALID'")  # fmt: skip
        if op.rounding != "floor":
            raise refuse(label, f"a conv with {op.rounding} rounding", "jax.lax convolutions round down",
                         "pad the end explicitly")  # fmt: skip
        return (
            f"lax.conv_general_dilated(x, w, window_strides={op.stride!r}, padding={pairs(op.pad_lo, op.pad_hi)}, "
            f"lhs_dilation={op.lhs_dilation!r}, rhs_dilation={op.dilation!r}, dimension_numbers={dn!r}, "
            f"feature_group_count={op.groups}, batch_group_count={op.batch_groups})"
        )
    if op.kind == "conv_transpose":
        if op.groups != 1:
            raise refuse(
                label, f"a transposed conv with groups={op.groups}", "lax.conv_transpose has no feature_group_count",
                "lax.conv_general_dilated with lhs_dilation=strides, feature_group_count and the kernel flipped "
                "with in/out swapped per group (what translate() writes)",
            )  # fmt: skip
        dn = numbers(op.in_spec, op.out_spec)
        return (
            f"lax.conv_transpose(x, w, strides={op.stride!r}, padding={pairs(*transposed_pairs(op))}, "
            f"rhs_dilation={op.dilation!r}, dimension_numbers={dn!r}, transpose_kernel=True)"
        )
    if op.kind in ("max_pool", "min_pool", "sum_pool") and op.rounding == "floor" and op.empty_max == "-inf":
        init = op.init_value if op.init_value is not None else spelling.IDENTITIES[op.kind]
        computation = {"max_pool": "lax.max", "min_pool": "lax.min", "sum_pool": "lax.add"}[op.kind]
        order = sorted(range(len(op.in_spec)), key=op.in_spec.__getitem__)  # spec entry of each tensor axis

        def laid(values, batch_channel) -> tuple:
            per = (*batch_channel, *values)
            return tuple(per[entry] for entry in order)

        whole = (op.batch, op.in_channels) != (1, 1) or len(op.in_spec) != op.rank + 2 or op.in_spec[:2] != (
            op.rank, op.rank + 1)  # fmt: skip
        if whole:  # batch and channel axes are windowed too, by windows of 1
            window, stride = laid(op.kernel, (1, 1)), laid(op.stride, (1, 1))
            base, rate = laid(op.lhs_dilation, (1, 1)), laid(op.dilation, (1, 1))
            padding = [(a, b) for a, b in zip(laid(op.pad_lo, (0, 0)), laid(op.pad_hi, (0, 0)))]
        else:
            window, stride, base, rate = op.kernel, op.stride, op.lhs_dilation, op.dilation
            padding = [(a, b) for a, b in zip(op.pad_lo, op.pad_hi)]
        return (
            f"lax.reduce_window(x, {init_text(init)}, {computation}, {window!r}, {stride!r}, {padding!r}, "
            f"base_dilation={base!r}, window_dilation={rate!r})"
        )
    raise refuse(
        label, f"a {op.kind.replace('_', ' ')}" + (f" with {op.rounding} rounding" if op.rounding != "floor" else ""),
        "jax.lax has no single call for it (a jax.lax conv pads with zeros and rounds down; reduce_window reduces by "
        "max, min or add)", "translate() builds it from several jax calls",
    )  # fmt: skip


def emit_shapes(op: ConvOp) -> dict:
    """The shapes of the tensors ``emit(op)`` names (rhs laid out 'OI' + spatial)."""
    if op.kind in ("conv", "conv_transpose"):
        from ..reference.adapters import canonical_weight_shape

        return {"x": op.input_shape, "w": canonical_weight_shape(op)}
    whole = (op.batch, op.in_channels) != (1, 1) or op.in_spec[:2] != (op.rank, op.rank + 1)
    return {"x": op.input_shape if whole else op.in_size}


def init_text(value: float) -> str:
    if value == math.inf:
        return "jnp.inf"
    if value == -math.inf:
        return "-jnp.inf"
    return repr(float(value))


def transposed_pairs(op: ConvOp) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A transposed conv's (a, b): the pads of the stride-dilated input of its stride-1 forward conv."""
    found = [
        arith.transposed_forward_pads(arith.effective_kernel(k, d), lo, hi, p)
        for k, d, lo, hi, p in zip(op.kernel, op.dilation, op.pad_lo, op.pad_hi, op.output_padding)
    ]
    return tuple(a for a, _ in found), tuple(b for _, b in found)


# --- jax.lax as the target ------------------------------------------------------------------------------------------


def canonical(op: ConvOp) -> ConvOp:
    """``op`` on the canonical layout (the layout the target body works in)."""
    spec = tuple(range(op.rank + 2))
    return op.with_(in_spec=spec, out_spec=spec)


def signature(op: ConvOp) -> tuple:
    """The numbers that decide an op's result (its layout and bias aside); a transposed conv's
    output_padding counted in its end crop (jax's mapping never has one)."""
    hi = op.pad_hi
    if op.kind == "conv_transpose":
        hi = tuple(h - p for h, p in zip(op.pad_hi, op.output_padding))
    return (
        op.kind, op.batch, op.in_channels, op.out_channels, op.in_size, op.kernel, op.stride, op.dilation, op.pad_lo,
        hi, op.lhs_dilation, op.groups, op.batch_groups,
    )  # fmt: skip


def maps_to(text: str, shapes: dict, op: ConvOp) -> bool:
    """Whether convarith maps the jax call ``text`` onto the numbers of ``op`` (and jax accepts it)."""
    from ..api import map_call

    try:
        got = map_call(text, shapes=shapes).ops
    except ConvArithError:
        return False
    return len(got) == 1 and signature(got[0]) == signature(op)


def conv_text(op: ConvOp, padding: str) -> str:
    """lax.conv_general_dilated of the (canonical) op, keywords at their defaults left out."""
    dn = numbers(op.in_spec, op.out_spec)
    args = [f"window_strides={op.stride!r}", f"padding={padding}"]
    if any(d != 1 for d in op.lhs_dilation):
        args.append(f"lhs_dilation={op.lhs_dilation!r}")
    if any(d != 1 for d in op.dilation):
        args.append(f"rhs_dilation={op.dilation!r}")
    args.append(f"dimension_numbers={dn!r}")
    if op.groups != 1:
        args.append(f"feature_group_count={op.groups}")
    if op.batch_groups != 1:
        args.append(f"batch_group_count={op.batch_groups}")
    return f"lax.conv_general_dilated(x, w, {', '.join(args)}, {HIGHEST})"


def string_pads(intent: str) -> str | None:
    """'SAME', 'SAME_LOWER' or 'VALID' when the padding intent names one (checked later)."""
    return {"same_upper": "'SAME'", "same_lower": "'SAME_LOWER'", "valid": "'VALID'"}.get(intent)


def intent_of(mapped: Mapped, index: int) -> str:
    """One padding intent for the op (the first op's, when every axis says the same)."""
    found = set(mapped.padding_intent) if index == 0 else set()
    return found.pop() if len(found) == 1 else "explicit"


def padded_lines(part: Part, lo, hi, mode: str, value: float = 0.0, dilation=None, var: str = "x") -> None:
    """``var`` padded (negative: cropped) on its spatial axes: constant with lax.pad (interior cells
    for a dilation), reflect / replicate with jnp.pad then a crop, circular after the crop."""
    rank = len(lo)
    if mode == "zeros":
        interior = tuple(d - 1 for d in dilation) if dilation else (0,) * rank
        config = [(0, 0, 0), (0, 0, 0), *zip(lo, hi, interior)]
        part.call(f"lax.pad({var}, {float(value)!r}, {config!r})", var)
        return
    crop = "[:, :, " + ", ".join(f"{max(-a, 0)}:{f'-{-b}' if b < 0 else ''}" for a, b in zip(lo, hi)) + "]"
    widths = [(0, 0), (0, 0), *((max(a, 0), max(b, 0)) for a, b in zip(lo, hi))]
    cropping = any(a < 0 or b < 0 for a, b in zip(lo, hi))
    if mode == "circular" and cropping:
        part.lines.append(f"{var} = {var}{crop}")
    if any(a > 0 or b > 0 for a, b in zip(lo, hi)):
        part.call(f"jnp.pad({var}, {widths!r}, mode={NP_MODES[mode]!r})", var)
    if mode != "circular" and cropping:
        part.lines.append(f"{var} = {var}{crop}")


def conv_part(op: ConvOp, index: int, intent: str) -> Part:
    part = Part()
    rank = op.rank
    part.lines.append(f"w = jnp.asarray(params[{index}][0], jnp.float32)")
    op = canonical(op)
    lo, hi = op.pad_lo, extended_hi(op)
    if hi != op.pad_hi:
        part.notes.append(f"{op.rounding} rounding keeps windows past the padded input: the end padding is {hi}.")
    if op.pad_mode != "zeros":
        padded_lines(part, lo, hi, op.pad_mode)
        part.notes.append(f"{op.pad_mode} padding is done by jnp.pad first (jax.lax convolutions pad with zeros).")
        lo = hi = (0,) * rank
        op = op.with_(in_size=padded_sizes(op, op.pad_lo, extended_hi(op)), pad_lo=lo, pad_hi=hi)
    target_op = op.with_(pad_hi=hi, rounding="floor", pad_mode="zeros")
    shapes = emit_shapes(target_op)
    candidates = []
    string = string_pads(intent) if all(d == 1 for d in op.lhs_dilation) else None
    if string is not None:
        candidates.append(conv_text(target_op, string))
    candidates.append(conv_text(target_op, pairs(lo, hi)))
    for text in candidates:
        if maps_to(text, shapes, target_op):
            part.call(text)
            break
    else:  # XLA aborts on a few padded shapes: pad (and dilate) with lax.pad, then an unpadded conv
        padded_lines(part, lo, hi, "zeros", dilation=op.lhs_dilation)
        plain = target_op.with_(
            in_size=padded_sizes(target_op, lo, hi), pad_lo=(0,) * rank, pad_hi=(0,) * rank, lhs_dilation=()
        )
        text = conv_text(plain, "'VALID'")
        if not maps_to(text, emit_shapes(plain), plain):
            raise refuse("jax.lax", f"the convolution {text}", "jax.lax refuses it even padded by lax.pad first",
                         "translate to another framework")  # fmt: skip
        part.notes.append("the padding is done by lax.pad first: XLA aborts on this padded convolution shape.")
        part.call(text)
    return part


def padded_sizes(op: ConvOp, lo, hi) -> tuple[int, ...]:
    return tuple(arith.dilated_size(n, d) + a + b for n, d, a, b in zip(op.in_size, op.lhs_dilation, lo, hi))


def extended_hi(op: ConvOp) -> tuple[int, ...]:
    """The end padding that gives floor-rounded windows the op's output size (ceil/trunc rounding
    keeps windows running past the padded input); the op's own where it already does."""
    out = arith.output_spatial(op)
    found = []
    for n, k, d, s, ld, lo, hi, m in zip(
        op.in_size, op.kernel, op.dilation, op.stride, op.lhs_dilation, op.pad_lo, op.pad_hi, out
    ):
        k_eff = arith.effective_kernel(k, d)
        if arith.conv_out(n, k_eff, s, lo, hi, ld) == m:
            found.append(hi)
        else:
            found.append((m - 1) * s + k_eff - arith.dilated_size(n, ld) - lo)
    return tuple(found)


def transpose_part(op: ConvOp, index: int, intent: str) -> Part:
    part = Part()
    op = canonical(op)
    rank = op.rank
    a, b = transposed_pairs(op)
    part.lines.append(f"w = jnp.asarray(params[{index}][0], jnp.float32)")
    if any(p for p in op.output_padding):
        part.notes.append(f"output_padding {op.output_padding} is padding added at the end of the lhs-dilated input.")
    dn = numbers(op.in_spec, op.out_spec)
    if op.groups == 1:
        shapes = emit_shapes(op)
        candidates = []
        if intent in ("same_upper", "same_lower", "valid"):
            candidates.append("'SAME'" if intent.startswith("same") else "'VALID'")
        candidates.append(pairs(a, b))
        for padding in candidates:
            text = (
                f"lax.conv_transpose(x, w, strides={op.stride!r}, padding={padding}, rhs_dilation={op.dilation!r}, "
                f"dimension_numbers={dn!r}, transpose_kernel=True, {HIGHEST})"
            )
            if maps_to(text, shapes, op):
                part.notes.append(
                    "lax.conv_transpose with transpose_kernel=True takes the (in, out, *kernel) weight as it is "
                    "(it flips the kernel and swaps in/out itself); padding is that of the stride-dilated input."
                )
                part.call(text)
                return part
    g, o = op.groups, op.out_channels
    part.lines[-1] = f"w = jnp.asarray({steps.code(forward_kernel_steps(op), f'params[{index}][0]')}, jnp.float32)"
    part.notes.append(
        "the transposed conv is a stride-1 conv of the input dilated by the strides (lhs_dilation), with the "
        "kernel flipped and its in/out axes swapped per group" + (f" ({g} groups)" if g > 1 else "") + "."
    )
    forward = op.with_(
        kind="conv", out_channels=o, stride=(1,) * rank, lhs_dilation=op.stride, pad_lo=a, pad_hi=b,
        output_padding=(),
    )  # fmt: skip
    text = conv_text(forward, pairs(a, b))
    if maps_to(text, emit_shapes(forward), forward):
        part.call(text)
        return part
    padded_lines(part, a, b, "zeros", dilation=op.stride)
    plain = forward.with_(in_size=padded_sizes(forward, a, b), pad_lo=(0,) * rank, pad_hi=(0,) * rank, lhs_dilation=())
    text = conv_text(plain, "'VALID'")
    if not maps_to(text, emit_shapes(plain), plain):
        raise refuse("jax.lax", f"the transposed convolution as {text}", "jax.lax refuses it even padded by "
                     "lax.pad first", "translate to another framework")  # fmt: skip
    part.notes.append("the dilation and padding are done by lax.pad first: XLA aborts on this padded shape.")
    part.call(text)
    return part


def forward_kernel_steps(op: ConvOp) -> tuple:
    """A transposed conv's canonical (C, O/g, *k) weight -> the (O, C/g, *k) kernel of its stride-1 forward
    conv: in/out swapped within each group, flipped spatially."""
    g, c, o, rank = op.groups, op.in_channels, op.out_channels, op.rank
    spatial = tuple(range(2, rank + 2))
    if g == 1:
        return steps.Transpose((1, 0, *spatial)), steps.Flip(spatial)
    return (
        steps.Reshape((g, c // g, o // g, *op.kernel), (c, o // g, *op.kernel)),
        steps.Transpose((0, 2, 1, *range(3, rank + 3))),
        steps.Reshape((o, c // g, *op.kernel), (g, o // g, c // g, *op.kernel)),
        steps.Flip(spatial),
    )


def reduce_text(var: str, init: str, computation: str, op: ConvOp, lo, hi, padding: str | None = None) -> str:
    """A canonical lax.reduce_window over the op's windows, padded by (lo, hi) or the ``padding`` string."""
    window, strides = (1, 1, *op.kernel), (1, 1, *op.stride)
    padding = padding or repr([(0, 0), (0, 0), *zip(lo, hi)])
    extra = ""
    if any(d != 1 for d in op.lhs_dilation):
        extra += f", base_dilation={(1, 1, *op.lhs_dilation)!r}"
    if any(d != 1 for d in op.dilation):
        extra += f", window_dilation={(1, 1, *op.dilation)!r}"
    return f"lax.reduce_window({var}, {init}, {computation}, {window!r}, {strides!r}, {padding}{extra})"


def reduce_lines(
    part: Part, var: str, init: float, computation: str, op: ConvOp, result: str = "y", intent: str = "explicit"
) -> None:
    """A canonical reduce_window of ``var`` over the op's windows (windows past the padded input
    hold ``init`` too); negative pads crop first (lax.pad), as XLA mishandles some crop-only windows.
    'SAME'/'SAME_LOWER'/'VALID' where the intent names it and jax pads alike."""
    lo, hi = op.pad_lo, extended_hi(op)
    if min(*lo, *hi) < 0:  # holes and padding hold the init value, in lax.pad as in reduce_window
        config = [(0, 0, 0), (0, 0, 0), *((a, b, d - 1) for a, b, d in zip(lo, hi, op.lhs_dilation))]
        part.call(f"lax.pad({var}, {init_text(init)}, {config!r})", var + "_padded")
        var, lo, hi = var + "_padded", (0,) * op.rank, (0,) * op.rank
        op = op.with_(lhs_dilation=())
        part.notes.append("negative padding crops: lax.pad does the crop (and any base dilation) first.")
    string = string_pads(intent) if hi == op.pad_hi else None
    if string is not None:
        shapes = {"x": (op.batch, op.in_channels, *op.in_size)}
        named = reduce_text("x", init_text(init), computation, op, lo, hi, string)
        explicit = reduce_text("x", init_text(init), computation, op, lo, hi)
        if same_mapping(named, explicit, shapes):
            part.call(reduce_text(var, init_text(init), computation, op, lo, hi, string), result)
            return
    part.call(reduce_text(var, init_text(init), computation, op, lo, hi), result)


def same_mapping(text: str, other: str, shapes: dict) -> bool:
    """Whether convarith maps two jax calls onto the same numbers."""
    from ..api import map_call

    try:
        return signature(map_call(text, shapes=shapes).ops[0]) == signature(map_call(other, shapes=shapes).ops[0])
    except ConvArithError:
        return False


def counted_lines(part: Part, op: ConvOp, include_pad: bool) -> None:
    """``count``: the cells each window counts (inside the input, or inside the padded input when
    the padding counts; never cells past the padded input), as a reduce_window of a ones mask."""
    lo, hi = op.pad_lo, extended_hi(op)
    ones = f"jnp.ones({(1, 1, *op.in_size)!r}, jnp.float32)"
    inner = [(0, 0, 0), (0, 0, 0), *((a, b, 0) for a, b in zip(lo, op.pad_hi))]
    mask = f"lax.pad({ones}, {1.0 if include_pad else 0.0!r}, {inner!r})"
    past = [(0, 0, 0), (0, 0, 0), *((0, e - h, 0) for e, h in zip(hi, op.pad_hi))]
    if any(e != h for e, h in zip(hi, op.pad_hi)):
        mask = f"lax.pad({mask}, 0.0, {past!r})"
    part.call(mask, "counted")
    plain = op.with_(pad_lo=(0,) * op.rank, pad_hi=(0,) * op.rank, rounding="floor")
    part.call(reduce_text("counted", "0.0", "lax.add", plain, (0,) * op.rank, (0,) * op.rank), "count")


def pool_part(op: ConvOp, index: int, intent: str = "explicit") -> Part:
    part = Part()
    op = canonical(op)
    kind = op.kind
    if extended_hi(op) != op.pad_hi:
        part.notes.append(
            f"{op.rounding} rounding keeps windows past the padded input: reduce_window pads the end to "
            f"{extended_hi(op)} with the init value, and those cells never count."
        )
    whole = op.kernel == op.in_size and not any(op.pad_lo) and not any(op.pad_hi)
    if kind in ("max_pool", "avg_pool") and whole and all(m == 1 for m in arith.output_spatial(op)):
        axes = tuple(range(2, op.rank + 2))
        divisor = float(op.divisor_override or math.prod(op.kernel))
        reduced = f"jnp.max(x, axis={axes}, keepdims=True)" if kind == "max_pool" else (
            f"jnp.sum(x, axis={axes}, keepdims=True) / {divisor!r}")  # fmt: skip
        part.call(reduced)
        part.notes.append("a window as large as the input is a global pool: one reduction over the spatial axes.")
        return part
    if kind in ("max_pool", "min_pool"):
        init = op.init_value if op.init_value is not None else spelling.IDENTITIES[kind]
        reduce_lines(part, "x", init, "lax.max" if kind == "max_pool" else "lax.min", op, intent=intent)
        if op.empty_max == "lowest":
            part.lines.append("y = jnp.maximum(y, jnp.finfo(jnp.float32).min)")
            part.notes.append("a window holding no input cell gives float32's lowest value (onnxruntime), not -inf.")
        return part
    if kind == "sum_pool":
        if op.init_value not in (None, 0.0):
            raise refuse("jax.lax", f"a lax.add reduction with init_value={op.init_value:g}",
                         "XLA leaves how often a non-identity init value is added open", "init_value=0.0")  # fmt: skip
        reduce_lines(part, "x", 0.0, "lax.add", op, intent=intent)
        return part
    if kind == "avg_pool":
        reduce_lines(part, "x", 0.0, "lax.add", op, "total", intent)
        if op.divisor_override:
            part.lines.append(f"y = total / {float(op.divisor_override)!r}")
            part.notes.append(f"the average divides the window sum by divisor_override={op.divisor_override}.")
            return part
        counted_lines(part, op, op.count_include_pad)
        part.lines.append("y = total / count")
        part.notes.append(
            "the average is a reduce_window sum divided by the cells each window counts ("
            + ("padding included" if op.count_include_pad else "padding excluded")
            + "; cells past the padded input never count)."
        )
        return part
    if kind == "lp_pool":
        p = float(op.norm_p)
        if op.lp_mode == "abs_sum":
            part.lines.append(f"powered = jnp.abs(x) ** {p!r}")
            reduce_lines(part, "powered", 0.0, "lax.add", op, "total")
            part.lines.append(f"y = total ** {1.0 / p!r}")
            part.notes.append(f"the Lp pool is (sum of |x|^{p:g})^(1/{p:g}): a reduce_window sum of powers.")
            return part
        part.lines.append(f"powered = x ** {p!r}")
        reduce_lines(part, "powered", 0.0, "lax.add", op, "total")
        counted_lines(part, op, False)
        part.lines.append(f"y = (total * {float(math.prod(op.kernel))!r} / count) ** {1.0 / p!r}")
        part.notes.append(
            "PyTorch's Lp pool: the sum of x^p (signed) rescaled by kernel cells / cells inside the input, to 1/p."
        )
        return part
    raise AssertionError(kind)


def adaptive_part(op: ConvOp) -> Part:
    part = Part()
    average = op.kind == "adaptive_avg_pool"
    if all(n % m == 0 for n, m in zip(op.in_size, op.out_size)):
        size = tuple(n // m for n, m in zip(op.in_size, op.out_size))
        plain = canonical(op).with_(kind="max_pool", kernel=size, stride=size)
        init = "0.0" if average else "-jnp.inf"
        computation = "lax.add" if average else "lax.max"
        zero = (0,) * op.rank
        text = reduce_text("x", init, computation, plain, zero, zero)
        part.call(f"{text} / {float(math.prod(size))!r}" if average else text)
        part.notes.append(f"adaptive pooling to {op.out_size} tiles the input: windows of {size}, stride {size}.")
        return part
    if sum(op.out_size) > MAX_GATHERED:
        raise refuse(
            "jax.lax", f"adaptive pooling to {op.out_size}", f"the translation lists every window, at most "
            f"{MAX_GATHERED}", "an output size that divides the input (one reduce_window), or a smaller one",
        )  # fmt: skip
    reduce = "jnp.mean" if average else "jnp.max"
    part.lines.append("y = x")
    for axis, (n, m) in enumerate(zip(op.in_size, op.out_size)):
        windows = tuple(arith.adaptive_window(i, n, m) for i in range(m))
        dim = axis + 2
        part.call(
            f"jnp.stack([{reduce}(lax.slice_in_dim(y, a, b, axis={dim}), axis={dim}) for a, b in {windows!r}], "
            f"axis={dim})"
        )
    part.notes.append(
        "adaptive pooling has no jax.lax call: each axis is reduced over its windows [floor(i*n/m), ceil((i+1)*n/m))."
    )
    return part


def pad_part(op: ConvOp) -> Part:
    part = Part()
    padded_lines(part, op.pad_lo, op.pad_hi, op.pad_mode, op.pad_value)
    part.lines.append("y = x")
    if op.pad_mode == "circular":
        part.notes.append("circular padding wraps the cropped input: the crop comes first, then jnp.pad(mode='wrap').")
    elif op.pad_mode != "zeros":
        part.notes.append(f"{op.pad_mode} padding copies about the input's edges: jnp.pad first, then the crop.")
    return part


def rearrange_part(op: ConvOp) -> Part:
    part = Part()
    from ..reference.rearrange import block_steps

    part.call(steps.code(block_steps(op), "x"))
    order = "channel-major (CRD)" if op.block_order == "CRD" else "block-major (DCR)"
    part.notes.append(f"{op.kind.replace('_', ' ')} is a reshape and a transpose in jax, channels {order}.")
    return part


def unfold_part(op: ConvOp) -> Part:
    part = Part()
    part.call(
        f"lax.conv_general_dilated_patches(x, {op.kernel!r}, {op.stride!r}, {pairs(op.pad_lo, op.pad_hi)}, "
        f"rhs_dilation={op.dilation!r}, {HIGHEST})"
    )
    part.notes.append("unfold (im2col) is lax.conv_general_dilated_patches: channel c*prod(kernel) + kernel offset.")
    return part


def fold_part(op: ConvOp) -> Part:
    """col2im as a transposed conv of the blocks with a one-hot kernel (in c*K + t -> out c, tap t)."""
    part = Part()
    rank, c = op.rank, op.out_channels
    taps = math.prod(op.kernel)
    a, b = [], []
    for blocks, k, d, s, lo, m in zip(op.in_size, op.kernel, op.dilation, op.stride, op.pad_lo, op.out_size):
        k_eff = arith.effective_kernel(k, d)
        a.append(k_eff - 1 - lo)
        b.append(m + k_eff - 1 - arith.dilated_size(blocks, s) - a[-1])
    part.lines.append(f"w = jnp.asarray(np.eye({c * taps}, dtype=np.float32).reshape({(c * taps, c, *op.kernel)!r}))")
    dn = numbers(tuple(range(rank + 2)), tuple(range(rank + 2)))
    part.call(
        f"lax.conv_transpose(x, w, strides={op.stride!r}, padding={pairs(a, b)}, rhs_dilation={op.dilation!r}, "
        f"dimension_numbers={dn!r}, transpose_kernel=True, {HIGHEST})"
    )
    part.notes.append(
        "fold (col2im) is a transposed conv of the blocks with a one-hot kernel: block value c*K + t goes to "
        "channel c at kernel tap t; overlapping taps add, the padding is cut."
    )
    return part


def unpool_part(op: ConvOp, index: int) -> Part:
    part = Part()
    out = tuple(arith.output_spatial(op))
    rows, plane = op.batch * op.in_channels, math.prod(out)
    part.lines.append(f"indices = jnp.asarray(params[{index}][0]).reshape({rows}, -1)")
    part.call(
        f"jnp.zeros(({rows}, {plane}), jnp.float32).at[jnp.arange({rows})[:, None], indices].set("
        f"x.reshape({rows}, -1)).reshape({(op.batch, op.in_channels, *out)!r})"
    )
    part.notes.append("max unpooling scatters each value to the flat position its index names (jnp .at[].set).")
    return part


RESIZE_METHODS = {  # convarith's resize modes -> (jax method, antialias) pairs worth trying, in order
    "nearest": (("nearest", False),),
    "linear": (("linear", False), ("linear", True)),
    "cubic": (("cubic", False), ("cubic", True), ("cubic-pytorch", False)),
    "lanczos3": (("lanczos3", True), ("lanczos3", False)),
    "lanczos5": (("lanczos5", True), ("lanczos5", False)),
    "area": (("area", False),),
}
EDGE_REACH = {"linear": 1, "cubic": 2}  # cells past the edge a kernel reads (repeated edge cells: jnp.pad 'edge')
MAX_CHECKED = 1 << 22  # (input, output) cell pairs of an axis whose sampling weights are compared
MAX_GATHERED = 4096  # output cells a nearest resize may list as gathered indices
WEIGHT_TOLERANCE = 2e-6  # per sampling weight: far below the 1e-4 the numbers are held to


def resize_part(op: ConvOp) -> Part:
    """jax.image.resize (or scale_and_translate, for other sample positions) where its sampling weights
    equal the op's on every axis (jax's weights worked out as jax.image computes them, in float32)."""
    if op.resize_arith == "torch" and op.antialias and op.out_size[-1] == 1 and op.in_size[0] != op.out_size[0]:
        raise resize_refusal(op, "torch repeats row 0 on a 1-wide antialiased output, which jax.image does not")
    if any(n * m > MAX_CHECKED for n, m in zip(op.in_size, op.out_size)):
        raise resize_refusal(op, f"an axis of more than {MAX_CHECKED} (input, output) cell pairs is not checked")
    wanted = [reference_weights(op, axis) for axis in range(op.rank)]
    shape = (op.batch, op.in_channels, *op.out_size)
    closest = math.inf
    for method, antialias in RESIZE_METHODS.get(op.resize_mode, ()):
        for placed, edge in ((False, 0), (True, 0), (True, EDGE_REACH.get(method, 0))):
            if (placed and method == "nearest") or (edge and antialias):
                continue
            scales = [sample_placement(op, axis) if placed else None for axis in range(op.rank)]
            if placed and None in scales:
                continue
            gaps = [
                weight_gap(want, jax_weights(n, m, method, antialias, scales[axis], edge))
                for axis, (want, n, m) in enumerate(zip(wanted, op.in_size, op.out_size))
            ]
            if max(gaps) <= WEIGHT_TOLERANCE:
                return resize_call(op, shape, method, antialias, scales if placed else None, edge)
            closest = min(closest, max(gaps))
    if op.resize_mode == "nearest" and sum(op.out_size) <= MAX_GATHERED:
        return nearest_gather(op, wanted)
    raise resize_refusal(op, f"no jax.image method samples as it does (closest: weights differ by {closest:.2g})")


def nearest_gather(op: ConvOp, wanted) -> Part:
    """A nearest resize jax.image does not round alike: each axis a gather (jnp.take) of the op's cells."""
    part = Part()
    part.lines.append("y = x")
    for axis, weights in enumerate(wanted):
        cells = [int(c) for c in weights.argmax(axis=0)]
        if cells != list(range(op.in_size[axis])):
            part.call(f"jnp.take(y, jnp.array({cells!r}), axis={axis + 2})")
    part.notes.append(
        f"jax.image.resize's nearest cell is floor((x + 0.5) * in/out); this {op.coordinate} nearest lookup "
        "picks other cells, so each axis is a gather of the cells it reads."
    )
    return part


def resize_refusal(op: ConvOp, why: str) -> ConvArithError:
    return refuse(
        "jax.image", f"a {op.resize_mode} resize ({op.coordinate} coordinates, {op.resize_arith} arithmetic): {why}",
        "jax.image.resize samples (x + 0.5) * in/out - 0.5 with its own kernels (linear, Keys cubic a=-0.5 or "
        "PyTorch's a=-0.75, lanczos, area), dropping taps outside the input; nearest takes floor((x + 0.5) * in/out)",
        "translate to the source framework's own resize (torch, tf or onnx), or resize with a mode jax.image shares",
    )  # fmt: skip


def resize_call(op: ConvOp, shape, method: str, antialias: bool, scales, edge: int = 0) -> Part:
    part = Part()
    if edge:
        part.call(f"jnp.pad(x, {[(0, 0), (0, 0)] + [(edge, edge)] * op.rank!r}, mode='edge')", "x")
        part.notes.append(
            f"the op repeats the edge cells where a sample reads past the input, and jax.image drops them: the input "
            f"is padded by {edge} repeated edge cell(s) first, the samples shifted onto it."
        )
        scales = [(s, t - edge * s) for s, t in scales]
    if scales is None:
        part.call(f"jax.image.resize(x, {shape!r}, method={method!r}, antialias={antialias}, {HIGHEST})")
        part.notes.append(f"jax.image.resize(method={method!r}) samples the cells and weights the op samples.")
        return part
    scale = [float(s) for s, _ in scales]
    shift = [float(t) for _, t in scales]
    part.call(
        f"jax.image.scale_and_translate(x, {shape!r}, {tuple(range(2, op.rank + 2))!r}, "
        f"jnp.array({scale!r}, jnp.float32), jnp.array({shift!r}, jnp.float32), method={method!r}, "
        f"antialias={antialias}, {HIGHEST})"
    )
    part.notes.append(
        f"jax.image.scale_and_translate places the samples as the op's {op.coordinate} coordinates do "
        f"(scale {scale}, translation {shift}), with method={method!r}."
    )
    return part


def sample_placement(op: ConvOp, axis: int):
    """(scale, translation) making jax's sample position (x + 0.5)/scale - translation/scale - 0.5 the op's
    (None where no placement does: the weights are compared afterwards anyway)."""
    n, m = op.in_size[axis], op.out_size[axis]
    given = op.sample_scale[axis] if op.sample_scale else 0.0
    factor = given or m / n  # the op's out/in ratio as sampled
    if op.coordinate == "align_corners" or (op.coordinate == "pytorch_half_pixel" and m == 1):
        if m == 1:  # the one sample is at cell 0
            return factor, 0.5 * (1 - factor)
        if n == 1:  # every sample reads the one cell
            return factor, 0.0
        scale = (m - 1) / (n - 1)
        return scale, 0.5 * (1 - scale)
    if op.coordinate == "asymmetric":
        return factor, 0.5 * (1 - factor)
    if op.coordinate in ("half_pixel", "pytorch_half_pixel"):
        return factor, 0.0
    if op.coordinate == "tf_half_pixel_for_nn":
        return factor, -0.5 * factor
    return None


def reference_weights(op: ConvOp, axis: int):
    """(in, out) weights of the reference resize along ``axis`` (its sampling or filter table)."""
    import numpy as np

    from ..reference.resize import filtered, sampling

    found = filtered(op, axis)
    cells, weights = found if found is not None else sampling(op, axis)
    dense = np.zeros((op.in_size[axis], op.out_size[axis]))
    np.add.at(dense, (cells, np.broadcast_to(np.arange(cells.shape[0])[:, None], cells.shape)), weights)
    return dense


def weight_gap(want, got) -> float:
    import numpy as np

    return float(np.abs(want - got).max(initial=0.0))


def jax_weights(n: int, m: int, method: str, antialias: bool, placed=None, edge: int = 0):
    """The (in, out) weights jax.image gives one axis (jax/_src/image/scale.py: compute_weight_mat, and
    _resize_nearest), in float32 as jax computes them; ``placed`` (scale, translation) for scale_and_translate;
    ``edge``: of the input padded by that many repeated edge cells (the padding's weights folded onto the edge)."""
    import numpy as np

    if edge:
        scale, shift = placed
        padded = jax_weights(n + 2 * edge, m, method, antialias, (scale, shift - edge * scale))
        folded = np.zeros((n, m))
        np.add.at(folded, np.clip(np.arange(n + 2 * edge) - edge, 0, n - 1), padded)
        return folded

    f = np.float32
    if method == "nearest":
        cells = np.floor((np.arange(m, dtype=f) + f(0.5)) * f(n) / f(m)).astype(np.int64)
        found = np.zeros((n, m))
        found[np.clip(cells, 0, n - 1), np.arange(m)] = 1.0
        return found if n != m else np.eye(n)
    if placed is None and n == m:
        return np.eye(n)  # resize leaves an axis of unchanged size alone
    scale, shift = (f(m / n), f(0.0)) if placed is None else (f(placed[0]), f(placed[1]))
    inv = f(1.0) / scale
    out = np.arange(m, dtype=f)
    if method == "area":
        left = out * inv - shift * inv
        right = left + inv
        cells = np.arange(n, dtype=f)
        w = np.maximum(
            f(0), np.minimum(right[None, :], cells[:, None] + f(1)) - np.maximum(left[None, :], cells[:, None])
        )
        return normalised(w, None, n).astype(np.float64)
    sample = (out + f(0.5)) * inv - shift * inv - f(0.5)
    edge = method == "cubic-pytorch" and not antialias
    kernel_scale = max(inv, f(1.0)) if antialias else f(1.0)
    reach = 2 if edge else 0
    cells = np.arange(-reach, n + reach, dtype=f)
    x = np.abs(sample[None, :] - cells[:, None]) / kernel_scale
    w = JAX_KERNELS[method.replace("-pytorch", "") if antialias else method](x).astype(f)
    if edge:
        folded = np.zeros((n, m), f)
        np.add.at(folded, np.clip(cells.astype(np.int64), 0, n - 1), w)
        return normalised(folded, None, n).astype(np.float64)
    return normalised(w, sample, n).astype(np.float64)


def normalised(w, sample, n: int):
    """jax's normalisation of a weight matrix (and zeroing of samples outside the input)."""
    import numpy as np

    total = w.sum(axis=0, keepdims=True)
    w = np.where(np.abs(total) > 1000.0 * float(np.finfo(np.float32).eps), w / np.where(total != 0, total, 1), 0)
    if sample is not None:
        w = np.where(((sample >= -0.5) & (sample <= n - 0.5))[None, :], w, 0)
    return w


def lanczos(radius: float):
    import numpy as np

    def kernel(x):
        y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius)
        out = np.where(x > 1e-3, y / np.where(x != 0, np.pi**2 * x**2, 1), 1)
        return np.where(x > radius, 0.0, out)

    return kernel


def keys(a: float):
    import numpy as np

    def kernel(x):
        near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
        far = ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
        return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, far, near))

    return kernel


JAX_KERNELS = {
    "linear": lambda x: (x * 0 + 1 - abs(x)).clip(0),
    "cubic": keys(-0.5),
    "cubic-pytorch": keys(-0.75),
    "lanczos3": lanczos(3.0),
    "lanczos5": lanczos(5.0),
}


def op_part(op: ConvOp, index: int, mapped: Mapped) -> Part:
    if any(s <= 0 for s in arith.output_spatial(op)) or op.batch == 0 or op.out_channels == 0:
        part = Part()
        shape = (op.batch // op.batch_groups, op.out_channels, *(max(s, 0) for s in arith.output_spatial(op)))
        part.call(f"jnp.zeros({shape!r}, jnp.float32)")
        part.notes.append(f"the output {shape} is empty: jax gives an empty array.")
        return part
    kind = op.kind
    if kind == "conv":
        return conv_part(op, index, intent_of(mapped, index))
    if kind == "conv_transpose":
        return transpose_part(op, index, intent_of(mapped, index))
    if kind in ("max_pool", "min_pool", "sum_pool", "avg_pool", "lp_pool"):
        return pool_part(op, index, intent_of(mapped, index))
    if kind.startswith("adaptive"):
        return adaptive_part(op)
    if kind == "pad":
        return pad_part(op)
    if kind in ("depth_to_space", "space_to_depth"):
        return rearrange_part(op)
    if kind == "unfold":
        return unfold_part(op)
    if kind == "fold":
        return fold_part(op)
    if kind == "max_unpool":
        return unpool_part(op, index)
    if kind == "resize":
        return resize_part(op)
    raise refuse("jax.lax", f"op kind {kind!r}", "no jax translation is written for it", "another target")


def activation_lines(mapped: Mapped) -> tuple[list[str], list[str]]:
    name = mapped.activation
    if not name or name == "linear":
        return [], []
    if name not in ACTIVATIONS and name != "sparsemax":
        raise refuse(
            mapped.call.base, f"activation={name!r}",
            "the translated layer keeps the op's output shape, and glu halves its last axis (jax.nn.glu)",
            "activation=None, and apply jax.nn.glu after the translated layer",
        )  # fmt: skip
    spec = mapped.ops[-1].out_spec
    axis = spec.index(max(spec))  # the canonical axis that is the source output's last one
    if name == "sparsemax":
        return sparsemax_lines(axis), [
            f"sparsemax (jax.nn has none) is max(y - tau, 0) along axis {axis}, the source output's last axis, "
            "tau from the cumulative sums over the support (as Keras computes it)."
        ]
    text = ACTIVATIONS[name].format(axis=axis)
    note = f"the activation {name!r} is {text.replace('(y', '(', 1) if '(y' in text else text}"
    if "{axis}" in ACTIVATIONS[name]:
        note += f"; axis {axis} of the canonical output is the last axis of the source layer's output"
    return [f"y = {text}"], [note + "."]


def sparsemax_lines(axis: int) -> list[str]:
    """Keras's sparsemax along ``axis`` in jnp, as Keras 3 computes it (tau from the sum of the cumulative
    sums over the support, reference.activations.sparsemax)."""
    return [
        f"z = jnp.moveaxis(y, {axis}, -1)",
        "ordered = -jnp.sort(-z, axis=-1)",
        "cumsum = jnp.cumsum(ordered, axis=-1)",
        "rank = jnp.arange(1, z.shape[-1] + 1, dtype=z.dtype)",
        "support = ordered - (cumsum - 1.0) / rank > 0",
        "count = jnp.sum(support, axis=-1, keepdims=True)",
        "tau = (jnp.sum(jnp.where(support, cumsum, 0.0), axis=-1, keepdims=True) - 1.0) / count",  # as Keras sums
        f"y = jnp.moveaxis(jnp.maximum(z - tau, 0.0), -1, {axis})",
    ]


def target(mapped: Mapped) -> Target:
    """jax.lax computing the canonical op chain of ``mapped`` (from any framework)."""
    if mapped.space_to_batch and any(s > 1 for op in mapped.ops for s in op.stride):
        raise refuse(
            mapped.call.base, "a dilated depthwise convolution with strides > 1",
            "TensorFlow runs it as space-to-batch, whose windows with a stride are not those of the strided "
            "dilated convolution, and convarith does not model its numbers", "strides=1 (then a strided slice)",
        )  # fmt: skip
    lines = ["x = jnp.asarray(x, jnp.float32)"]
    calls, notes = [], []
    for index, op in enumerate(mapped.ops):
        if index:
            lines.append("x = y")
        part = op_part(op, index, mapped)
        lines += part.lines
        if op.bias and op.kind in ("conv", "conv_transpose") and all(s > 0 for s in arith.output_spatial(op)):
            lines.append(f"y = y + jnp.asarray(params[{index}][1], jnp.float32).reshape({(1, -1, *(1,) * op.rank)!r})")
        calls += part.calls
        notes += part.notes
    extra, said = activation_lines(mapped)
    lines += extra
    notes += said
    lines.append("y = np.asarray(y)")
    main = next((c for c in calls if c.startswith(("lax.conv", "lax.reduce_window"))), calls[0] if calls else "x")
    return Target(call=main, imports=IMPORTS, body=tuple(lines), notes=tuple(notes), calls=tuple(calls))
