"""JAX: ``jax.lax`` convolutions, spelled ``lax.X``, ``jax.lax.X`` or bare ``X``.

Tensors are names whose shapes come from ``shapes={'x': ..., 'w': ...}``.
``dimension_numbers`` (lhs, rhs, out spec strings) place the axes; the spatial
axes are ordered as their letters appear in the rhs spec. Output sizes below
zero give an empty array, as in JAX; only padding that crops more than the
whole (dilated) input is refused.

- ``conv_general_dilated``: out = floor(((n-1)*lhs_dilation + 1 + lo + hi - k_eff) / s) + 1;
  'SAME'/'SAME_LOWER' as TF (the odd pixel at the end / start), refused with lhs_dilation.
- ``conv_transpose``: a stride-1 conv of the input dilated by ``strides``, padded by
  (a, b): 'SAME' gives out = n*s, 'VALID' out = n*s + max(k_eff-s, 0); explicit pairs
  are (a, b) themselves unless ``use_consistent_padding=True`` (then k_eff-1-p).
"""

from __future__ import annotations

from ..core import arith
from ..core.arith import (
    conv_out,
    dilated_size,
    effective_kernel,
    jax_transpose_pads,
    same_out,
    same_pads,
    same_transpose_out,
)  # the fast path
from ..core.op import ConvOp, place
from ..errors import ConvArithError
from ..parse import MAX_INT, Call, Expression, Name
from ._common import (
    REQUIRED,
    Inputs,
    Mapped,
    Plan,
    any_of,
    array_rule,
    bind,
    check_bool,
    check_int,
    deferred,
    divisors_text,
    fail,
    fits,
    names_in,
    neutral_inputs,
    neutral_values,
    per_axis,
    raise_deferred,
    ref_shape,
    refuse,
    resolve_shapes,
    tensors_of,
    unevaluated,
    with_values,
)

FRAMEWORK = "JAX (jax.lax)"
FRAMEWORK_ID = "jax_lax"  # the numbers (reference.adapters) pick the framework by this
PREFIXES = ("", "lax.", "jax.lax.")
PAD_STRINGS = ("VALID", "SAME", "SAME_LOWER")
PRECISIONS = ("default", "high", "highest", "fastest", "float32", "bfloat16", "bfloat16_3x", "tensorfloat32")
FLOAT_TYPES = ("float32", "float16", "bfloat16", "float64")
TRANSPOSE_DEFAULTS = {
    2: ("NC", "IO", "NC"),
    3: ("NHC", "HIO", "NHC"),
    4: ("NHWC", "HWIO", "NHWC"),
    5: ("NHWDC", "HWDIO", "NHWDC"),
}
TAIL = (("precision", None), ("preferred_element_type", None))


def spatial_letters(rank: int) -> str:
    """Letters naming the spatial axes in the default layouts' text."""
    return "DHW"[3 - rank :] if rank <= 3 else "".join(str(i) for i in range(rank))


class Specs:
    """Dimension numbers as axis positions: ``lhs``/``out`` are (N, C, spatial...),
    ``rhs`` is (O, I, spatial...), spatial in the order of the rhs spec."""

    def __init__(self, strings: tuple[str, str, str]):
        self.strings = strings
        lhs_s, rhs_s, out_s = strings
        rhs_spatial = [i for i, c in enumerate(rhs_s) if c not in "OI"]
        order = [rhs_s[i] for i in rhs_spatial]
        self.rhs = (rhs_s.index("O"), rhs_s.index("I"), *rhs_spatial)
        self.lhs = (lhs_s.index("N"), lhs_s.index("C"), *(lhs_s.index(c) for c in order))
        self.out = (out_s.index("N"), out_s.index("C"), *(out_s.index(c) for c in order))

    @property
    def layout(self) -> str:
        return f"lhs {self.strings[0]}, rhs {self.strings[1]}, out {self.strings[2]}"


def dimension_numbers(value, ndim: int, label: str, default: tuple[str, str, str] | None) -> Specs:
    """Check dimension_numbers like jax.lax.conv_dimension_numbers does (written as a call of it,
    its spec; its shapes are checked per input by ``check_dimension_shapes``)."""
    bound = dimension_call(value)
    if bound is not None:
        value, default = bound["dimension_numbers"], None  # its None is jax's iota: NC..., OI..., NC...
    if value is None:
        if default is not None:
            return Specs(default)
        rank = ndim - 2
        letters = spatial_letters(rank)
        return Specs(("NC" + letters, "OI" + letters, "NC" + letters))
    example = ("NHWC", "HWIO", "NHWC")
    if not isinstance(value, (tuple, list)):
        kind = "a string" if isinstance(value, str) else repr(value)
        raise fail(
            label,
            f"dimension_numbers={value!r} must be None or a tuple of 3 spec strings, got {kind}. "
            "Rule: jax.lax takes (lhs, rhs, out) layout strings such as 'NHWC'. "
            f"Fix: dimension_numbers={example!r} (lhs, rhs, out).",
        )
    if len(value) != 3:
        raise fail(
            label,
            f"dimension_numbers={value!r} has {len(value)} entries. Rule: it needs 3 (lhs, rhs, out). Fix: dimension_numbers={example!r}.",
        )
    if not all(isinstance(item, str) for item in value):
        raise refuse(
            label,
            f"dimension_numbers={value!r} must hold 3 strings",
            "each of lhs, rhs and out is a layout string",
            f"dimension_numbers={example!r}",
        )
    for index, (spec, pair) in enumerate(zip(value, ("NC", "OI", "NC"))):
        which = ("lhs", "rhs", "out")[index]
        if len(spec) != ndim:
            raise fail(
                label,
                f"dimension_numbers {which} spec {spec!r} has {len(spec)} letters, but lhs and rhs have {ndim} dimensions. "
                f"Rule: one letter per axis. Fix: a {ndim}-letter spec.",
            )
        if spec.count(pair[0]) != 1 or spec.count(pair[1]) != 1:
            raise fail(
                label,
                f"dimension_numbers {which} spec {spec!r} must contain {pair[0]!r} and {pair[1]!r} exactly once "
                "(upper case). Rule: N/C mark batch and features of lhs and out, O/I the kernel's out- and in-features. "
                f"Fix: e.g. {pair + spatial_letters(ndim - 2)!r}.",
            )
        if len(set(spec)) != len(spec):
            raise fail(
                label,
                f"dimension_numbers {which} spec {spec!r} repeats a letter. Rule: each axis has its own letter. "
                f"Fix: e.g. {pair + spatial_letters(ndim - 2)!r}.",
            )
    spatial = [set(spec) - set(pair) for spec, pair in zip(value, ("NC", "OI", "NC"))]
    if not spatial[0] == spatial[1] == spatial[2]:
        raise fail(
            label,
            f"dimension_numbers={tuple(value)!r}: the three specs must use the same spatial letters, got "
            f"{', '.join(''.join(sorted(s)) for s in spatial)}. Rule: every spec names the same spatial axes. Fix: e.g. {example!r}.",
        )
    return Specs(tuple(value))


DIMENSION_CALLS = ("lax.conv_dimension_numbers", "jax.lax.conv_dimension_numbers", "conv_dimension_numbers")
DIMENSION_PARAMS = (("lhs_shape", REQUIRED), ("rhs_shape", REQUIRED), ("dimension_numbers", REQUIRED))


def dimension_call(value) -> dict | None:
    """The arguments of ``lax.conv_dimension_numbers(x.shape, w.shape, spec)`` written as dimension_numbers."""
    if isinstance(value, Call) and value.name in DIMENSION_CALLS:
        return bind(value, DIMENSION_PARAMS, "conv_dimension_numbers")
    return None


def check_dimension_shapes(value, lhs: tuple, inputs: Inputs, label: str) -> None:
    """What lax.conv_dimension_numbers(lhs_shape, rhs_shape, spec) checks of its shapes (read from shapes=)."""
    bound = dimension_call(value)
    if bound is None:
        return
    shapes = []
    for name in ("lhs_shape", "rhs_shape"):
        shape = resolve_shapes(bound[name], inputs, name, label)
        if not isinstance(shape, (tuple, list)) or not all(type(size) is int for size in shape):
            raise refuse(
                label,
                f"conv_dimension_numbers {name}={bound[name]!r} is not a shape",
                "it takes the shape of a tensor, read from shapes=",
                f"{name}=x.shape with shapes={{'x': (...)}}",
            )
        shapes.append(tuple(shape))
    lhs_shape, rhs_shape = shapes
    spec = bound["dimension_numbers"]
    if len(lhs_shape) != len(rhs_shape):
        raise refuse(
            label,
            f"conv_dimension_numbers has lhs_shape {lhs_shape} and rhs_shape {rhs_shape}",
            f"convolution requires lhs and rhs ndim to be equal, got {len(lhs_shape)} and {len(rhs_shape)} (TypeError)",
            "the shapes of the convolution's own lhs and rhs",
        )
    specs = spec if isinstance(spec, (tuple, list)) and all(isinstance(s, str) for s in spec) else ()
    for index, item in enumerate(specs):
        if len(item) != len(lhs_shape):
            raise refuse(
                label,
                f"conv_dimension_numbers spec {item!r} has {len(item)} letters for shapes of {len(lhs_shape)} dimensions",
                f"convolution dimension_numbers[{index}] must have len equal to the ndim of lhs and rhs (TypeError)",
                f"a {len(lhs_shape)}-letter spec, or the shapes of the convolution's own lhs and rhs",
            )
    if spec is None and len(lhs_shape) != len(lhs):
        raise refuse(
            label,
            f"conv_dimension_numbers(..., None) is built for {len(lhs_shape)} dimensions, but lhs has {len(lhs)}",
            "the dimension numbers must have one entry per dimension of lhs",
            "the shapes of the convolution's own lhs and rhs",
        )


def int_sequence(value, rank: int, name: str, label: str, minimum: int = 1) -> tuple[int, ...]:
    """A list/tuple of ``rank`` ints, each >= ``minimum`` (jax.lax takes no bare int)."""
    example = (1,) * rank
    if not isinstance(value, (tuple, list)):
        unread = unevaluated(value, name, label)
        if unread is not None:
            raise unread
        raise fail(
            label,
            f"{name}={value!r} must be a sequence of {rank} ints, one per spatial axis. "
            f"Rule: jax.lax does not repeat a bare int. Fix: {name}={example!r}.",
        )
    items = tuple(check_int(item, name, label) for item in value)
    if len(items) != rank:
        raise fail(
            label,
            f"{name}={value!r} has {len(items)} entries, but the kernel has {rank} spatial axes. "
            f"Rule: one entry per spatial axis. Fix: {name}={example!r}.",
        )
    if any(item < minimum for item in items):
        raise fail(
            label,
            f"{name}={value!r} must be >= {minimum} on every axis. Rule: XLA needs positive strides and dilations. "
            f"Fix: {name}={example!r}.",
        )
    return items


def int_sequence_or_ones(value, rank: int, name: str, label: str) -> tuple[int, ...]:
    """A dilation argument: None for 1 on every axis, else ``int_sequence``."""
    return (1,) * rank if value is None else int_sequence(value, rank, name, label)


def check_options(v: dict, label: str) -> None:
    """The precision, element type and (conv_general_dilated) out_sharding arguments."""
    check_precision(v["precision"], label)
    check_element_type(v["preferred_element_type"], label)
    if v.get("out_sharding") is not None:
        raise fail(
            label,
            f"out_sharding={v['out_sharding']!r} is not modelled. Rule: convarith models one device. Fix: out_sharding=None (it does not change the shape).",
        )


def check_precision(value, label: str) -> None:
    """None, a precision string, lax.Precision.X, or a pair of those."""
    items = value if isinstance(value, (tuple, list)) and len(value) == 2 else (value,)
    for item in items:
        if item is None or (isinstance(item, str) and item.lower() in PRECISIONS):
            continue
        owner, _, member = item.dotted.rpartition(".") if isinstance(item, Name) else ("", "", "")
        if owner.endswith("Precision") and member in ("DEFAULT", "HIGH", "HIGHEST"):
            continue
        raise fail(
            label,
            f"precision={value!r} is not a precision. Rule: None, lax.Precision.DEFAULT/HIGH/HIGHEST, "
            f"one of {', '.join(map(repr, PRECISIONS))}, or a pair of those. Fix: precision=None.",
        )


def check_element_type(value, label: str) -> None:
    """None or a floating dtype (the inputs are taken to be float32)."""
    if value is None:
        return
    name = value.dotted.rpartition(".")[2] if isinstance(value, Name) else value
    if name not in FLOAT_TYPES:
        raise fail(
            label,
            f"preferred_element_type={value!r} is not a floating dtype. Rule: convarith takes float inputs, and JAX "
            "accepts only a floating preferred_element_type for them. Fix: None or jnp.float32.",
        )


def operands(v: dict, inputs: Inputs, label: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Shapes of lhs and rhs, with equal ranks of at least 2."""
    lhs = ref_shape(v["lhs"], inputs, "lhs", label)
    rhs = ref_shape(v["rhs"], inputs, "rhs", label)
    if len(lhs) != len(rhs):
        raise fail(
            label,
            f"lhs {lhs} and rhs {rhs} must have the same number of dimensions, got {len(lhs)} and {len(rhs)}. "
            "Rule: both are (batch/out-features, features/in-features, spatial...). Fix: give the kernel one axis per input axis.",
        )
    if len(lhs) < 2:
        raise refuse(
            label,
            f"lhs {lhs} has {len(lhs)} dimensions",
            "lhs needs at least 2 (batch and features)",
            "reshape to (1, C, ...)",
        )
    return lhs, rhs


def check_kernel(kernel: tuple[int, ...], rhs: tuple[int, ...], label: str) -> None:
    if any(k == 0 for k in kernel):
        raise fail(
            label,
            f"kernel spatial size {kernel} (rhs shape {rhs}) has a 0. Rule: XLA needs every window size >= 1. "
            "Fix: a kernel of size >= 1 on every spatial axis.",
        )


def check_groups(groups: int, batch_groups: int, lhs, rhs, specs: Specs, label: str) -> None:
    """feature_group_count and batch_group_count checks (on the ints), in JAX's order."""
    features, batch = lhs[specs.lhs[1]], lhs[specs.lhs[0]]
    out_f, in_f = rhs[specs.rhs[0]], rhs[specs.rhs[1]]
    if groups <= 0:
        raise fail(
            label,
            f"feature_group_count={groups} must be a positive integer. Rule: JAX refuses a zero or negative count. "
            "Fix: feature_group_count=1 (no grouping).",
        )
    if features % groups:
        raise fail(
            label,
            f"feature_group_count={groups} must divide the input features C={features} (lhs shape {lhs}). "
            f"Rule: each group takes C / feature_group_count features. Fix: feature_group_count {divisors_text(features)}.",
        )
    if features // groups != in_f:
        fix = (
            f"feature_group_count={features // in_f}"
            if in_f and features % in_f == 0
            else f"a kernel with I={features // groups}"
        )
        raise fail(
            label,
            f"input features C={features} / feature_group_count={groups} = {features // groups} must equal the kernel's "
            f"in-features I={in_f} (rhs shape {rhs}). Rule: C = I * feature_group_count. Fix: {fix}.",
        )
    if out_f % groups:
        raise fail(
            label,
            f"kernel out-features O={out_f} must be a multiple of feature_group_count={groups}. "
            f"Rule: each group makes O/{groups} outputs. Fix: O={groups * max(out_f // groups, 1)}.",
        )
    if batch_groups <= 0:
        raise fail(
            label,
            f"batch_group_count={batch_groups} must be a positive integer. Rule: JAX refuses a zero or negative count. "
            "Fix: batch_group_count=1.",
        )
    if batch_groups > 1 and batch % batch_groups:
        raise fail(
            label,
            f"batch_group_count={batch_groups} must divide the lhs batch N={batch} (lhs shape {lhs}). "
            f"Rule: the output batch is N / batch_group_count. Fix: a batch that is a multiple of {batch_groups}.",
        )
    if out_f % batch_groups:
        raise fail(
            label,
            f"kernel out-features O={out_f} must be a multiple of batch_group_count={batch_groups}. "
            f"Rule: each batch group makes O / batch_group_count features. Fix: O={batch_groups * max(out_f // batch_groups, 1)}.",
        )
    if groups > 1 and batch_groups > 1:
        raise fail(
            label,
            f"feature_group_count={groups} and batch_group_count={batch_groups} are both > 1. "
            "Rule: at most one of them may be > 1. Fix: set one of them to 1.",
        )


def explicit_pairs(value, rank: int, label: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A sequence of ``rank`` (lo, hi) int pairs; negative values crop."""
    example = [(1, 1)] * rank
    if not isinstance(value, (tuple, list)) or not all(isinstance(p, (tuple, list)) and len(p) == 2 for p in value):
        raise fail(
            label,
            f"padding={value!r} must be 'SAME', 'VALID', 'SAME_LOWER' or a sequence of (low, high) pairs. "
            f"Rule: explicit padding is one (low, high) pair of ints per spatial axis. Fix: padding={example!r}.",
        )
    if len(value) != rank:
        raise fail(
            label,
            f"padding={value!r} has {len(value)} (low, high) pairs, but the kernel has {rank} spatial axes. "
            f"Rule: one pair per spatial axis. Fix: padding={example!r}.",
        )
    lo = tuple(check_int(p[0], "padding", label) for p in value)
    hi = tuple(check_int(p[1], "padding", label) for p in value)
    return lo, hi


def forward_padding(value, sizes, k_effs, strides, lhs_dilation, label) -> tuple[tuple, tuple, tuple]:
    """(lo, hi, rule texts) of conv_general_dilated's padding argument."""
    rank = len(sizes)
    if isinstance(value, str):
        if any(d != 1 for d in lhs_dilation):
            raise fail(
                label,
                f"padding={value!r} cannot be combined with lhs_dilation={lhs_dilation}. Rule: JAX does not compute "
                "string padding for a transposed convolution written with conv_general_dilated. "
                "Fix: explicit (low, high) pairs, or lax.conv_transpose.",
            )
        mode = value.upper()
        if mode not in PAD_STRINGS:
            raise refuse(
                label,
                f"padding={value!r} is not accepted",
                "jax.lax takes 'VALID', 'SAME' or 'SAME_LOWER' (any case), or (low, high) pairs",
                "padding='SAME'",
            )
        if mode == "VALID":
            return (0,) * rank, (0,) * rank, (f"{value!r}: no padding",) * rank
        pads = [
            arith.same_padding(n, k, s, extra_at_start=mode == "SAME_LOWER") for n, k, s in zip(sizes, k_effs, strides)
        ]
        return tuple(p.lo for p in pads), tuple(p.hi for p in pads), tuple(f"{value!r}: {p.text}" for p in pads)
    lo, hi = explicit_pairs(value, rank, label)
    rules = tuple(
        f"explicit (low, high) = ({a}, {b})" + (" (negative: crops the input)" if min(a, b) < 0 else "")
        for a, b in zip(lo, hi)
    )
    if any(d != 1 for d in lhs_dilation):
        rules = tuple(
            f"{rule}, on the input dilated by lhs_dilation={d}: ({n}-1)*{d}+1 = {arith.dilated_size(n, d)}"
            for rule, n, d in zip(rules, sizes, lhs_dilation)
        )
    return lo, hi, rules


def check_cropping(sizes, lhs_dilation, lo, hi, label) -> None:
    """JAX refuses padding that crops more than the whole (dilated) input."""
    for axis, (n, d, a, b) in enumerate(zip(sizes, lhs_dilation, lo, hi)):
        padded = arith.dilated_size(n, d) + a + b
        if padded < 0:
            name = arith.axis_names(len(sizes))[axis]
            raise fail(
                label,
                f"negative padding ({a}, {b}) crops more than the {name} axis holds: {arith.dilated_size(n, d)} + {a} + {b} "
                f"= {padded}. Rule: padded size must be >= 0 (smaller than the kernel gives an empty output). "
                f"Fix: low + high >= {-arith.dilated_size(n, d)}.",
            )


def xla_aborts(sizes, kernel, window_strides, lhs_dil, rhs_dil, lo, hi) -> list:
    """For (a, b) = (0, 1) and (1, 0) of a 2-D conv: whether it aborts the process in XLA's CPU algebraic
    simplifier (jaxlib 0.10.2, measured): axis a is shorter than its kernel and padded (padding >= 0 and
    > 0 in total, no dilation) while axis b has lhs_dilation 2, kernel 2, no padding, stride 1 and >= 3
    inputs (elementwise on arrays)."""
    found = []
    for a, b in ((0, 1), (1, 0)):
        single = (lhs_dil[a] == 1) & (rhs_dil[a] == 1) & (lo[a] >= 0) & (hi[a] >= 0) & (lo[a] + hi[a] > 0)
        single = single & (sizes[a] >= 1) & (sizes[a] < kernel[a])
        tiled = (lhs_dil[b] == 2) & (kernel[b] == 2) & (rhs_dil[b] == 1) & (window_strides[b] == 1)
        found.append(single & tiled & (lo[b] == 0) & (hi[b] == 0) & (sizes[b] >= 3))
    return found


def check_xla_abort(label, sizes, kernel, window_strides, lhs_dil, rhs_dil, lo, hi) -> None:
    """Refuse the 2-D case that aborts the process in XLA (``xla_aborts``)."""
    if len(sizes) != 2:
        return
    for (a, b), aborts in zip(((0, 1), (1, 0)), xla_aborts(sizes, kernel, window_strides, lhs_dil, rhs_dil, lo, hi)):
        if aborts:
            names = arith.axis_names(2)
            raise fail(
                label,
                f"this call aborts the process in JAX instead of returning (SIGABRT in XLA's algebraic simplifier: "
                f"'Window dimensions do not match RHS shape'). Rule: measured with jaxlib 0.10.2 on CPU: the {names[a]} "
                f"axis ({sizes[a]}) is shorter than its kernel ({kernel[a]}) and padded ({lo[a]}, {hi[a]}) while the "
                f"{names[b]} axis has lhs_dilation 2 with kernel 2. Fix: pad the {names[b]} axis, or make the "
                f"{names[a]} input at least as long as the kernel.",
            )


def general_params(name: str) -> tuple:
    """conv_general_dilated's, conv_with_general_padding's or conv's parameters, in order."""
    head = (("lhs", REQUIRED), ("rhs", REQUIRED), ("window_strides", REQUIRED), ("padding", REQUIRED))
    if name == "conv_general_dilated":
        return head + (
            ("lhs_dilation", None),
            ("rhs_dilation", None),
            ("dimension_numbers", None),
            ("feature_group_count", 1),
            ("batch_group_count", 1),
            *TAIL,
            ("out_sharding", None),
        )
    if name == "conv_with_general_padding":
        return head + (("lhs_dilation", REQUIRED), ("rhs_dilation", REQUIRED), *TAIL)
    return head + TAIL


class Ranked:
    """What a call fixes once the operands' number of dimensions is known: the dimension
    numbers, the per-axis arguments and the padding rule as data (``same`` None for
    fixed pads ``lo``/``hi``, else whether the odd pixel goes first; ``modes`` JAX's
    transposed rule per axis), or the first refusal of each stage (``error`` right after
    the operands, ``pad_error`` after the group checks). ``axes`` holds the fast path's
    per-axis data (None: no fast path)."""

    __slots__ = ("error", "pad_error", "specs", "rank", "strides", "lhs_dil", "rhs_dil", "same", "lo", "hi", "modes", "axes")  # fmt: skip

    def __init__(self) -> None:
        self.error = self.pad_error = self.same = self.modes = self.axes = None

    def compile_axes(self, strides: tuple[int, ...], lhs_dil: tuple[int, ...]) -> None:
        """The fast path's data per spatial axis (lhs axis, rhs axis, out axis, stride, lhs dilation,
        rhs dilation, lo, hi, transposed mode); none when the call may meet the XLA abort
        (check_xla_abort's conditions that the call alone fixes)."""
        specs, rank, rhs_dil = self.specs, self.rank, self.rhs_dil
        if rank == 2 and any(
            lhs_dil[a] == rhs_dil[a] == 1 and lhs_dil[b] == 2 and rhs_dil[b] == strides[b] == 1
            for a, b in ((0, 1), (1, 0))
        ):
            return
        fixed = self.same is None and self.modes is None
        lo, hi = (self.lo, self.hi) if fixed else ((0,) * rank, (0,) * rank)
        modes = self.modes or (None,) * rank
        self.axes = tuple(zip(specs.lhs[2:], specs.rhs[2:], specs.out[2:], strides, lhs_dil, rhs_dil, lo, hi, modes))


class CompiledPlan(Plan):
    """The shared part of both plans: the call bound once, a ``Ranked`` per number of dimensions;
    ``names`` are the lhs and rhs tensor names when the fast shape path applies (else None)."""

    __slots__ = ("label", "v", "late_error", "ranks", "names")

    def fast_operands(self, inputs: Inputs):
        """(lhs, rhs, ranked) for the fast path, or None (then ``resolve`` answers)."""
        lhs, rhs = inputs.pair(*self.names)
        if lhs is None or rhs is None or len(lhs) != len(rhs):
            return None
        ranked = self.ranks.get(len(lhs)) or self.ranked(len(lhs))
        return None if ranked.axes is None else (lhs, rhs, ranked)

    def ranked(self, ndim: int) -> Ranked:
        ranked = self.ranks.get(ndim)
        if ranked is None:
            ranked = self.ranks[ndim] = self.compile_rank(ndim)
        return ranked

    def operands(self, inputs: Inputs):
        """(lhs, rhs, ranked, kernel, sizes), after the stage refusals that follow the operands."""
        lhs, rhs = operands(self.v, inputs, self.label)
        check_dimension_shapes(self.v["dimension_numbers"], lhs, inputs, self.label)
        ranked = self.ranked(len(lhs))
        error = ranked.error
        if error is not None:
            raise ConvArithError(error) if type(error) is str else error(lhs, self.label)
        specs = ranked.specs
        kernel = tuple([rhs[a] for a in specs.rhs[2:]])
        if 0 in kernel:
            check_kernel(kernel, rhs, self.label)
        return lhs, rhs, ranked, kernel, tuple([lhs[a] for a in specs.lhs[2:]])


class GeneralPlan(CompiledPlan):
    """conv_general_dilated / conv / conv_with_general_padding, compiled."""

    __slots__ = ("groups", "batch_groups", "group_error")

    def __init__(self, call, name: str) -> None:
        super().__init__(call)
        self.label = label = call.base
        v = bind(call, general_params(name), label)  # first: the arguments in the signature's order
        for key, default in (("lhs_dilation", None), ("rhs_dilation", None), ("dimension_numbers", None)):
            v.setdefault(key, default)  # conv and conv_with_general_padding lack some of these
        for key, default in (("feature_group_count", 1), ("batch_group_count", 1), ("out_sharding", None)):
            v.setdefault(key, default)
        self.v, self.ranks = v, {}
        self.late_error = deferred(check_options, v, label)
        self.group_error = deferred(self.compile_groups, v, label)
        fast = self.group_error is None and self.groups == self.batch_groups == 1
        fast = fast and not isinstance(v["dimension_numbers"], Call)  # its shapes are checked in resolve()
        self.names = tensor_names(v) if fast else None

    def compile_groups(self, v: dict, label: str) -> None:
        self.groups = check_int(v["feature_group_count"], "feature_group_count", label)
        self.batch_groups = check_int(v["batch_group_count"], "batch_group_count", label)

    def compile_arguments(self, ranked: Ranked, ndim: int) -> None:
        """The dimension numbers, strides and dilations for operands of ``ndim`` dimensions."""
        label, v = self.label, self.v
        ranked.specs = dimension_numbers(v["dimension_numbers"], ndim, label, None)
        ranked.rank = rank = ndim - 2
        ranked.strides = int_sequence(v["window_strides"], rank, "window_strides", label)
        ranked.lhs_dil = int_sequence_or_ones(v["lhs_dilation"], rank, "lhs_dilation", label)
        ranked.rhs_dil = int_sequence_or_ones(v["rhs_dilation"], rank, "rhs_dilation", label)

    def compile_rank(self, ndim: int) -> Ranked:
        label, v, ranked = self.label, self.v, Ranked()
        ranked.error = deferred(self.compile_arguments, ranked, ndim)
        if ranked.error is not None:
            return ranked
        ranked.error = self.late_error
        compile_forward_padding(ranked, v["padding"], ranked.lhs_dil, label)
        if ranked.error is None and ranked.pad_error is None and ndim >= 3:
            ranked.compile_axes(ranked.strides, ranked.lhs_dil)
        return ranked

    def resolve(self, inputs: Inputs):
        """(lhs, rhs, ranked, kernel, sizes, lo, hi, out sizes) after every refusal."""
        label = self.label
        lhs, rhs, ranked, kernel, sizes = self.operands(inputs)
        raise_deferred(self.group_error)
        check_groups(self.groups, self.batch_groups, lhs, rhs, ranked.specs, label)
        raise_deferred(ranked.pad_error)
        k_effs = tuple(map(arith.effective_kernel, kernel, ranked.rhs_dil))
        strides, lhs_dil = ranked.strides, ranked.lhs_dil
        lo, hi = same_sides(ranked, sizes, k_effs, strides)
        check_cropping(sizes, lhs_dil, lo, hi, label)
        if ranked.rank == 2:
            check_xla_abort(label, sizes, kernel, strides, lhs_dil, ranked.rhs_dil, lo, hi)
        outs = tuple(map(arith.conv_out, sizes, k_effs, strides, lo, hi, lhs_dil))
        return lhs, rhs, ranked, kernel, sizes, lo, hi, outs

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        found = None if self.names is None else self.fast_operands(inputs)
        if found is not None:  # no groups: arithmetic only, resolve() when anything needs a refusal
            lhs, rhs, ranked = found
            specs = ranked.specs
            if lhs[specs.lhs[1]] == rhs[specs.rhs[1]]:
                shape = [lhs[specs.lhs[0]]] * len(lhs)
                shape[specs.out[1]] = rhs[specs.rhs[0]]
                extra = ranked.same
                for lhs_axis, rhs_axis, out_axis, s, lhs_d, rhs_d, lo, hi, _ in ranked.axes:
                    n, k = lhs[lhs_axis], rhs[rhs_axis]
                    if k == 0:
                        break
                    if extra is not None and lhs_d == 1:  # SAME: ceil(n/s) whatever the kernel, no crop
                        shape[out_axis] = same_out(n, s)
                        continue
                    k_eff = effective_kernel(k, rhs_d)
                    if extra is not None:
                        _, _, lo, hi = same_pads(n, k_eff, s, extra)
                    if lo + hi < 0 and dilated_size(n, lhs_d) + lo + hi < 0:  # cropping: resolve() refuses
                        break
                    size = conv_out(n, k_eff, s, lo, hi, lhs_d)
                    shape[out_axis] = size if size > 0 else 0
                else:
                    if max(shape) <= MAX_INT:
                        return tuple(shape)
        lhs, rhs, ranked, _, _, _, _, outs = self.resolve(inputs)
        specs = ranked.specs
        spatial = tuple([size if size > 0 else 0 for size in outs])
        batch = lhs[specs.lhs[0]] // self.batch_groups
        return fits(self.label, place(specs.out, batch, rhs[specs.rhs[0]], spatial))

    @staticmethod
    def sweep_rule(got: dict, same):
        """Over arrays (sweep), the fast path's arithmetic: refused on a stride or dilation below 1, an
        empty kernel, SAME with lhs_dilation, padding that crops more than the input, or (2-D) the
        shapes that abort XLA; an output size <= 0 is an empty axis (kept)."""
        strides, lhs_dil, rhs_dil, kernel, spatial = (
            got["strides"],
            got["lhs_dil"],
            got["rhs_dil"],
            got["kernel"],
            got["n"],
        )
        refused = any_of(v < 1 for v in (*strides, *lhs_dil, *rhs_dil, *kernel))
        k_effs = list(map(effective_kernel, kernel, rhs_dil))
        if same is None:
            lo, hi = got["lo"], got["hi"]
        else:
            refused = refused | any_of(d != 1 for d in lhs_dil)
            pads = [same_pads(n, k, s, same) for n, k, s in zip(spatial, k_effs, strides)]
            lo, hi = [p[2] for p in pads], [p[3] for p in pads]
        refused = refused | any_of(dilated_size(n, d) + a + b < 0 for n, d, a, b in zip(spatial, lhs_dil, lo, hi))
        if len(spatial) == 2:
            refused = refused | any_of(xla_aborts(spatial, kernel, strides, lhs_dil, rhs_dil, lo, hi))
        sizes = [arith.maximum(conv_out(*entry), 0) for entry in zip(spatial, k_effs, strides, lo, hi, lhs_dil)]
        return sizes, refused, False

    def map(self, inputs: Inputs) -> Mapped:
        lhs, rhs, ranked, kernel, sizes, lo, hi, outs = self.resolve(inputs)
        specs, lhs_dil, groups, batch_groups = ranked.specs, ranked.lhs_dil, self.groups, self.batch_groups
        op = ConvOp(
            "conv", lhs[specs.lhs[0]], lhs[specs.lhs[1]], rhs[specs.rhs[0]], sizes, kernel, ranked.strides,
            ranked.rhs_dil, lo, hi, specs.lhs, specs.out, lhs_dilation=lhs_dil, groups=groups,
            batch_groups=batch_groups,
        )  # fmt: skip
        k_effs = tuple(map(arith.effective_kernel, kernel, ranked.rhs_dil))
        _, _, rules = forward_padding(self.v["padding"], sizes, k_effs, ranked.strides, lhs_dil, self.label)
        notes = []
        if any(d != 1 for d in lhs_dil):
            notes.append(
                "lhs_dilation inserts d-1 zeros between input elements (a transposed convolution); padding applies after."
            )
        if batch_groups > 1:
            notes.append(
                f"batch_group_count={batch_groups}: the output batch is N / {batch_groups}, each group using O/{batch_groups} kernels."
            )
        if any(size <= 0 for size in outs):
            notes.append("an output size <= 0 gives an empty array (size 0); JAX does not refuse it.")
        return Mapped(
            FRAMEWORK,
            self.call,
            (op,),
            rules,
            tuple(notes),
            layout=specs.layout,
            arguments=tuple(self.v.items()),
            framework_id=FRAMEWORK_ID,
            padding_intent=padding_intent(self.v["padding"], len(sizes)),
        )


def compile_forward_padding(ranked: Ranked, value, lhs_dilation, label: str) -> None:
    """conv_general_dilated's padding argument as data on ``ranked``: fixed pads, or
    ``same`` (whether the odd pixel goes first); its refusal goes to ``pad_error``."""
    ones = (1,) * ranked.rank

    def pads() -> None:  # refuses what the call alone makes wrong
        ranked.lo, ranked.hi, _ = forward_padding(value, ones, ones, ones, lhs_dilation, label)

    ranked.pad_error = deferred(pads)
    if ranked.pad_error is None and isinstance(value, str) and value.upper() != "VALID":
        ranked.same = value.upper() == "SAME_LOWER"


def same_sides(ranked: Ranked, sizes, k_effs, strides) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(lo, hi) of the compiled padding on these sizes."""
    if ranked.same is None:
        return ranked.lo, ranked.hi
    extra = ranked.same
    pads = [arith.same_pads(n, k, s, extra) for n, k, s in zip(sizes, k_effs, strides)]
    return tuple([p[2] for p in pads]), tuple([p[3] for p in pads])


def transpose_pads(k_eff: int, s: int, padding) -> tuple[int, int, str]:
    """JAX's _conv_transpose_padding: forward pads (a, b) of the stride-dilated input, with its rule text."""
    a, b = arith.jax_transpose_pads(k_eff, s, padding)
    if padding == "SAME":
        why = f"k_eff-1 = {a} as stride {s} > k_eff-1" if s > k_eff - 1 else f"ceil({a + b}/2) = {a}"
        return a, b, f"JAX 'SAME' transposed: total pad k_eff+s-2 = {a + b}, before {why}, after {b}; out = n*s"
    if padding == "VALID":
        text = f"JAX 'VALID' transposed: total pad k_eff+s-2+max(k_eff-s,0) = {a + b}, before k_eff-1 = {a}, after {b}"
        return a, b, text + "; out = n*s + max(k_eff-s, 0)"
    lo, hi = padding
    return (
        a,
        b,
        f"use_consistent_padding: forward padding ({lo}, {hi}) -> k_eff-1-p = ({a}, {b}) on the stride-dilated input",
    )


TRANSPOSE_PARAMS = (
    ("lhs", REQUIRED), ("rhs", REQUIRED), ("strides", REQUIRED), ("padding", REQUIRED), ("rhs_dilation", None),
    ("dimension_numbers", None), ("transpose_kernel", False), *TAIL, ("use_consistent_padding", False),
)  # fmt: skip


class TransposePlan(CompiledPlan):
    """lax.conv_transpose, compiled: a stride-1 conv of the input dilated by strides, padded
    by the pads of the stride-dilated input (JAX's rule per axis, 'SAME'-like or fixed)."""

    __slots__ = ("flip", "consistent", "flag_error")

    def __init__(self, call) -> None:
        super().__init__(call)
        self.label = label = call.base
        self.v = v = bind(call, TRANSPOSE_PARAMS, label)
        self.ranks = {}
        self.flag_error = deferred(self.compile_flags, v, label)
        fast = self.flag_error is None and not isinstance(v["dimension_numbers"], Call)
        self.names = tensor_names(v) if fast else None

    def compile_flags(self, v: dict, label: str) -> None:
        self.flip = check_bool(v["transpose_kernel"], "transpose_kernel", label)
        self.consistent = check_bool(v["use_consistent_padding"], "use_consistent_padding", label)

    def compile_arguments(self, ranked: Ranked, ndim: int) -> None:
        """The dimension numbers, strides and dilations for operands of ``ndim`` dimensions, in JAX's order."""
        label, v = self.label, self.v
        ranked.specs = dimension_numbers(v["dimension_numbers"], ndim, label, TRANSPOSE_DEFAULTS.get(ndim))
        raise_deferred(self.flag_error)
        ranked.rank = rank = ndim - 2
        ranked.strides = int_sequence(v["strides"], rank, "strides", label)
        ranked.rhs_dil = int_sequence_or_ones(v["rhs_dilation"], rank, "rhs_dilation", label)
        check_options(v, label)

    def compile_rank(self, ndim: int) -> Ranked:
        label, v, ranked = self.label, self.v, Ranked()
        if v["dimension_numbers"] is None and ndim not in TRANSPOSE_DEFAULTS:
            ranked.error = no_default_specs  # its message shows the lhs
            return ranked
        ranked.error = deferred(self.compile_arguments, ranked, ndim)
        if ranked.error is not None:
            return ranked
        padding, rank, ones = v["padding"], ranked.rank, (1,) * ranked.rank
        ranked.pad_error = deferred(transpose_padding, padding, self.consistent, ones, ones, ranked.strides, label)
        if ranked.pad_error is not None:  # its call-only refusals
            return ranked
        ranked.modes = None
        if self.consistent or padding in ("SAME", "VALID"):
            ranked.modes = consistent_modes(padding, rank, [], label)
        elif isinstance(padding, str):
            compile_forward_padding(ranked, padding, ones, label)
        else:
            ranked.lo, ranked.hi = explicit_pairs(padding, rank, label)
        ranked.compile_axes((1,) * rank, ranked.strides)  # the input dilated by strides, convolved at stride 1
        return ranked

    def resolve(self, inputs: Inputs):
        """(lhs, rhs, ranked, kernel, sizes, features, out-features, a, b, output sizes) after every
        refusal; (a, b) pad the stride-dilated input."""
        label = self.label
        lhs, rhs, ranked, kernel, sizes = self.operands(inputs)
        features, out_f = transpose_features(lhs, rhs, ranked.specs, self.flip, label)
        raise_deferred(ranked.pad_error)
        k_effs = tuple(map(arith.effective_kernel, kernel, ranked.rhs_dil))
        strides, rank = ranked.strides, ranked.rank
        if ranked.modes is not None:
            sides = list(map(arith.jax_transpose_pads, k_effs, strides, ranked.modes))
            a, b = tuple([p for p, _ in sides]), tuple([q for _, q in sides])
        else:
            a, b = same_sides(ranked, sizes, k_effs, (1,) * rank)
        check_cropping(sizes, strides, a, b, label)
        if rank == 2:
            check_xla_abort(label, sizes, kernel, (1,) * rank, strides, ranked.rhs_dil, a, b)
        if 0 in sizes:
            outs = tuple(map(arith.conv_out, sizes, k_effs, (1,) * rank, a, b, strides))
        else:
            pads = list(map(arith.transposed_forward_pads, k_effs, a, b))  # its own inverse
            outs = tuple(
                [arith.transpose_out(n, k, s, p, q, 0) for n, k, s, (p, q) in zip(sizes, k_effs, strides, pads)]
            )
        return lhs, rhs, ranked, kernel, sizes, features, out_f, a, b, outs

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        found = None if self.names is None else self.fast_operands(inputs)
        if found is not None and len(found[0]) >= 3:  # arithmetic only, resolve() when anything needs a refusal
            lhs, rhs, ranked = found
            specs = ranked.specs
            in_axis, out_f_axis = (specs.rhs[0], specs.rhs[1]) if self.flip else (specs.rhs[1], specs.rhs[0])
            if lhs[specs.lhs[1]] == rhs[in_axis]:
                shape = [lhs[specs.lhs[0]]] * len(lhs)
                shape[specs.out[1]] = rhs[out_f_axis]
                extra = ranked.same
                for lhs_axis, rhs_axis, out_axis, _, s, rhs_d, a, b, mode in ranked.axes:
                    n, k = lhs[lhs_axis], rhs[rhs_axis]
                    if k == 0 or n == 0:
                        break
                    if mode == "SAME":  # n*s whatever the kernel, no crop
                        shape[out_axis] = same_transpose_out(n, s)
                        continue
                    k_eff = effective_kernel(k, rhs_d)
                    if mode is not None:
                        a, b = jax_transpose_pads(k_eff, s, mode)
                    elif extra is not None:
                        _, _, a, b = same_pads(n, k_eff, 1, extra)
                    if a + b < 0 and dilated_size(n, s) + a + b < 0:  # cropping: resolve() refuses
                        break
                    size = conv_out(n, k_eff, 1, a, b, s)  # the stride-1 conv of the input dilated by s
                    shape[out_axis] = size if size > 0 else 0
                else:
                    if max(shape) <= MAX_INT:
                        return tuple(shape)
        lhs, _, ranked, _, _, _, out_f, _, _, outs = self.resolve(inputs)
        specs = ranked.specs
        spatial = tuple([size if size > 0 else 0 for size in outs])
        return fits(self.label, place(specs.out, lhs[specs.lhs[0]], out_f, spatial))

    @staticmethod
    def sweep_rule(got: dict, modes, same, forward_string: bool):
        """Over arrays (sweep), the fast path's arithmetic (a stride-1 conv of the input dilated by
        the strides): refused on a stride or dilation below 1, an empty kernel, a padding string other
        than 'SAME'/'VALID' (``forward_string``) with strides, padding that crops more than the dilated
        input, or (2-D) the shapes that abort XLA; an empty input axis is left to output_shape, an
        output size <= 0 is an empty axis (kept)."""
        strides, rhs_dil, kernel, spatial = got["strides"], got["rhs_dil"], got["kernel"], got["n"]
        refused = any_of(v < 1 for v in (*strides, *rhs_dil, *kernel))
        if forward_string:
            refused = refused | any_of(s != 1 for s in strides)
        k_effs = list(map(effective_kernel, kernel, rhs_dil))
        ones = [1] * len(spatial)
        if modes is not None:
            a, b = zip(*map(jax_transpose_pads, k_effs, strides, modes))
        elif same is not None:
            pads = [same_pads(n, k, 1, same) for n, k in zip(spatial, k_effs)]
            a, b = [p[2] for p in pads], [p[3] for p in pads]
        else:
            a, b = got["lo"], got["hi"]
        refused = refused | any_of(dilated_size(n, s) + p + q < 0 for n, s, p, q in zip(spatial, strides, a, b))
        if len(spatial) == 2:
            refused = refused | any_of(xla_aborts(spatial, kernel, ones, strides, rhs_dil, a, b))
        sizes = [arith.maximum(conv_out(n, k, 1, p, q, s), 0) for n, k, s, p, q in zip(spatial, k_effs, strides, a, b)]
        return sizes, refused, any_of(n == 0 for n in spatial)

    def map(self, inputs: Inputs) -> Mapped:
        lhs, _, ranked, kernel, sizes, features, out_f, a, b, outs = self.resolve(inputs)
        specs, strides, rhs_dil, rank = ranked.specs, ranked.strides, ranked.rhs_dil, ranked.rank
        k_effs = tuple(map(arith.effective_kernel, kernel, rhs_dil))
        _, _, rules, notes = transpose_padding(self.v["padding"], self.consistent, sizes, k_effs, strides, self.label)
        if self.flip:
            notes.append(
                "transpose_kernel=True flips the kernel spatially and swaps its I and O axes (Keras/TF convention)."
            )
        common = dict(in_spec=specs.lhs, out_spec=specs.out)
        if all(n > 0 for n in sizes):
            pads = [arith.transposed_forward_pads(k, p, q) for k, p, q in zip(k_effs, a, b)]  # its own inverse
            lo, hi = tuple(p for p, _ in pads), tuple(q for _, q in pads)
            op = ConvOp(
                "conv_transpose", lhs[specs.lhs[0]], features, out_f, sizes, kernel, strides, rhs_dil, lo, hi, **common
            )
        else:
            op = ConvOp(
                "conv", lhs[specs.lhs[0]], features, out_f, sizes, kernel, (1,) * rank, rhs_dil, a, b,
                lhs_dilation=strides, **common,
            )  # fmt: skip
            notes.append("an empty spatial axis is dilated to size 0, then padded: the output need not be empty.")
        if any(size <= 0 for size in outs):
            notes.append("an output size <= 0 gives an empty array (size 0); JAX does not refuse it.")
        return Mapped(
            FRAMEWORK,
            self.call,
            (op,),
            tuple(rules),
            tuple(notes),
            layout=specs.layout,
            arguments=tuple(self.v.items()),
            framework_id=FRAMEWORK_ID,
            padding_intent=transpose_intent(self.v["padding"], op),
        )


def no_default_specs(lhs: tuple[int, ...], label: str) -> ConvArithError:
    """conv_transpose without dimension_numbers on an lhs of other than 2 to 5 dimensions."""
    return fail(
        label,
        f"lhs {lhs} has {len(lhs)} dimensions. Rule: conv_transpose has default dimension_numbers only for 2 to 5. "
        f"Fix: pass dimension_numbers, e.g. {('NC' + spatial_letters(len(lhs) - 2),) * 1 + ('OI' + spatial_letters(len(lhs) - 2),)}.",
    )


def transpose_features(lhs, rhs, specs: Specs, flip: bool, label: str) -> tuple[int, int]:
    """(input features, output features); the kernel's in-features (its O axis when flipped) must match."""
    in_axis, out_axis = (specs.rhs[0], specs.rhs[1]) if flip else (specs.rhs[1], specs.rhs[0])
    features, in_f, out_f = lhs[specs.lhs[1]], rhs[in_axis], rhs[out_axis]
    if features != in_f:
        letter = "O" if flip else "I"
        fix = "transpose_kernel=False" if flip and rhs[specs.rhs[1]] == features else (
            "transpose_kernel=True" if not flip and rhs[specs.rhs[0]] == features else f"a kernel with {letter}={features}"
        )  # fmt: skip
        raise fail(
            label,
            f"input features C={features} (lhs shape {lhs}) must equal the kernel's in-features {in_f}, its "
            f"{letter!r} axis (rhs shape {rhs}, spec {specs.strings[1]!r}"
            f"{', I and O swapped by transpose_kernel=True' if flip else ''}). Rule: the kernel's in-features match the "
            f"input's features. Fix: {fix}.",
        )
    return features, out_f


def transpose_padding(
    padding, consistent: bool, sizes, k_effs, strides, label: str
) -> tuple[tuple, tuple, tuple, list]:
    """(lo, hi, rule texts, notes): the forward padding of the stride-dilated input. 'SAME'/'VALID'
    (or use_consistent_padding) follow JAX's _conv_transpose_padding; other strings pad the
    stride-1 input as conv_general_dilated would; explicit pairs are used as they are."""
    rank = len(sizes)
    notes = [
        "JAX conv_transpose is a stride-1 convolution of the input dilated by strides (s-1 zeros between elements)."
    ]
    if consistent or padding in ("SAME", "VALID"):
        modes = consistent_modes(padding, rank, notes, label)
        found = [transpose_pads(k, s, mode) for k, s, mode in zip(k_effs, strides, modes)]
        a, b, rules = (tuple(item[i] for item in found) for i in range(3))
        if padding == "SAME":
            notes.append(
                "JAX 'SAME' transposed: out = n*s; the odd padding pixel goes at the start unless stride > k_eff-1."
            )
        elif padding == "VALID":
            notes.append("JAX 'VALID' transposed: out = n*s + max(k_eff-s, 0) (Keras/TF give (n-1)*s + k_eff).")
        return a, b, rules, notes
    if isinstance(padding, str):
        if any(s != 1 for s in strides):
            raise fail(
                label,
                f"padding={padding!r} needs strides of 1, got strides={strides}. Rule: conv_transpose computes only "
                "'SAME' and 'VALID' (upper case) itself; other strings go to conv_general_dilated, which refuses them "
                "with strides. Fix: padding='SAME' or 'VALID', or explicit (low, high) pairs.",
            )
        a, b, rules = forward_padding(padding, sizes, k_effs, (1,) * rank, (1,) * rank, label)
        notes.append(
            f"padding={padding!r} is not 'SAME'/'VALID': it is applied as a forward padding of the stride-1 input."
        )
        return a, b, rules, notes
    a, b = explicit_pairs(padding, rank, label)
    rules = tuple(f"explicit ({lo}, {hi}) pads the stride-dilated input directly" for lo, hi in zip(a, b))
    notes.append(
        "explicit padding pairs pad the stride-dilated input as they are; PyTorch's padding=p is "
        "(k_eff-1-p, k_eff-1-p) here, or pass use_consistent_padding=True."
    )
    return a, b, rules, notes


def consistent_modes(padding, rank: int, notes: list, label: str) -> tuple:
    """Per axis 'SAME', 'VALID' or a (lo, hi) pair, as use_consistent_padding reads them."""
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID") and rank:
            raise fail(
                label,
                f"padding={padding!r} is not a conv_transpose padding mode. Rule: with use_consistent_padding=True only "
                "'SAME', 'VALID' (upper case) or (low, high) tuples are accepted. Fix: padding='SAME'.",
            )
        return (padding,) * rank
    used = padding[:rank] if isinstance(padding, (tuple, list)) else padding
    if not isinstance(used, (tuple, list)) or not all(isinstance(p, tuple) and len(p) == 2 for p in used):
        raise fail(
            label,
            f"padding={padding!r} must be 'SAME', 'VALID' or a sequence of (low, high) tuples. "
            f"Rule: use_consistent_padding=True takes each pair as a tuple. Fix: padding={[(0, 0)] * rank!r}.",
        )
    if len(padding) > rank:
        notes.append(
            f"use_consistent_padding=True: JAX reads only the first {rank} padding pair(s) and ignores "
            f"the other {len(padding) - rank}."
        )
    lo, hi = explicit_pairs(used, rank, label)
    return tuple(zip(lo, hi))


def tensor_names(v: dict) -> tuple[str, str] | None:
    """The lhs and rhs names, when both are written as names."""
    lhs, rhs = v["lhs"], v["rhs"]
    return (lhs.dotted, rhs.dotted) if isinstance(lhs, Name) and isinstance(rhs, Name) else None


def general(name: str):
    """Compile function for conv_general_dilated, conv and conv_with_general_padding."""
    return lambda call: GeneralPlan(call, name)


def calls() -> dict:
    functions = {
        "conv_general_dilated": general("conv_general_dilated"),
        "conv_with_general_padding": general("conv_with_general_padding"),
        "conv": general("conv"),
        "conv_transpose": TransposePlan,
    }
    return {prefix + name: handler for prefix in PREFIXES for name, handler in functions.items()}


CALLS = calls()


# --- reduce_window (wip8-rearr) ------------------------------------------------------------------------------------

#: The computations convarith models, by the pooling kind they are.
LAX_REDUCERS = {"max": "max_pool", "min": "min_pool", "add": "sum_pool"}
NUMPY_REDUCERS = {"maximum": "max_pool", "minimum": "min_pool", "add": "sum_pool"}
REDUCERS = {f"{prefix}{name}": kind for prefix in ("lax.", "jax.lax.") for name, kind in LAX_REDUCERS.items()}
REDUCERS |= {f"{prefix}{name}": kind for prefix in ("jnp.", "jax.numpy.") for name, kind in NUMPY_REDUCERS.items()}
INFINITIES = ("jnp.inf", "jax.numpy.inf", "np.inf", "numpy.inf", "math.inf")
IDENTITIES = {"max_pool": float("-inf"), "min_pool": float("inf"), "sum_pool": 0.0}
WINDOW_PARAMS = (
    ("operand", REQUIRED), ("init_value", REQUIRED), ("computation", REQUIRED), ("window_dimensions", REQUIRED),
    ("window_strides", None), ("padding", "VALID"), ("base_dilation", None), ("window_dilation", None),
)  # fmt: skip


def init_number(value, label: str) -> float:
    """init_value as a number: an int or float literal, or +-jnp.inf / np.inf / math.inf."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = value.dotted if isinstance(value, Name) else value.text if isinstance(value, Expression) else ""
    if text.lstrip("-") in INFINITIES and text.count("-") <= 1:  # jnp.inf, or -jnp.inf (an Expression)
        return float("-inf") if text.startswith("-") else float("inf")
    raise refuse(
        label,
        f"init_value={value!r} is not a number convarith reads",
        "init_value is written as a number (0.0, -1) or as -jnp.inf, jnp.inf, np.inf, math.inf; "
        "nothing is evaluated, so float('-inf') or an array is not read",
        "init_value=-jnp.inf (max), jnp.inf (min) or 0.0 (add)",
    )


def window_ints(value, rank: int, name: str, label: str, minimum: int) -> tuple[int, ...]:
    """window_dimensions, window_strides or a dilation: a sequence of ``rank`` ints >= ``minimum``."""
    if not isinstance(value, (tuple, list)):
        raise refuse(
            label, f"{name}={value!r} is not a sequence", "jax.lax.reduce_window takes one int per operand axis",
            f"{name}={(max(minimum, 1),) * rank!r}",
        )  # fmt: skip
    items = tuple(check_int(item, name, label) for item in value)
    if any(item < minimum for item in items):
        rule = "every element must be strictly positive" if minimum else "every element must be >= 0"
        raise refuse(label, f"{name}={value!r}", rule, f"{name}={(max(minimum, 1),) * rank!r}")
    return items


class ReduceWindowPlan(Plan):
    """jax.lax.reduce_window(operand, init_value, computation, window_dimensions, window_strides,
    padding, base_dilation, window_dilation) with lax.max/min/add (or jnp.maximum/minimum/add):
    a window over every operand axis; padding cells and the holes of base_dilation hold init_value.
    out = max(floor(((n-1)*base_dilation + 1 + lo + hi - (d*(k-1)+1)) / s) + 1, 0) per axis;
    'SAME' pads from the undilated n (as jax computes it)."""

    __slots__ = ("label", "v", "kind", "init")

    def __init__(self, call) -> None:
        super().__init__(call)
        self.label = label = call.base
        self.v = v = bind(call, WINDOW_PARAMS, label)
        computation = v["computation"]
        self.kind = REDUCERS.get(computation.dotted) if isinstance(computation, Name) else None
        if self.kind is None:
            raise refuse(
                label,
                f"computation={computation!r} is not modelled",
                "convarith reduces windows with lax.max, lax.min, lax.add (or jnp.maximum, jnp.minimum, jnp.add)",
                "computation=lax.max",
            )
        self.init = init_number(v["init_value"], label)
        given = v["init_value"]
        if isinstance(given, int) and not (computation.dotted in ("lax.add", "jax.lax.add") and given == 0):
            raise refuse(
                label,
                f"init_value={given!r} is an int",
                "jax runs a reduction whose init is not lax.add's 0 as a general reduce_window, which needs the init "
                "value's dtype to be the operand's: an int init with a float operand is refused (TypeError)",
                f"init_value={float(given)!r}",
            )

    def map(self, inputs: Inputs) -> Mapped:
        label, v, kind = self.label, self.v, self.kind
        x = tuple(ref_shape(v["operand"], inputs, "operand", label))
        rank = len(x)
        dims = v["window_dimensions"]
        if not isinstance(dims, (tuple, list)):
            raise refuse(
                label, f"window_dimensions={dims!r}", "a sequence of ints, one per operand axis", f"{(1,) * rank!r}"
            )
        strides, padding = v["window_strides"], v["padding"]
        if isinstance(padding, str):
            mode = padding.upper()
            if mode not in PAD_STRINGS:
                raise refuse(
                    label,
                    f"padding={padding!r}",
                    "padding is 'VALID', 'SAME', 'SAME_LOWER' or (low, high) pairs",
                    "padding='VALID'",
                )
            if strides is None and mode != "VALID":
                raise refuse(
                    label, f"padding={padding!r} with window_strides=None",
                    "jax works the string out from the strides and fails (zip of unequal lengths) when none are given",
                    f"window_strides={(1,) * rank!r}",
                )  # fmt: skip
        elif not isinstance(padding, (tuple, list)) or any(
            not isinstance(p, (tuple, list)) or len(p) != 2 for p in padding
        ):
            raise refuse(
                label,
                f"padding={padding!r}",
                "explicit padding is one (low, high) pair per operand axis",
                f"padding={[(0, 0)] * rank!r}",
            )
        if rank == 0:
            raise refuse(
                label,
                "the operand is a scalar (shape ())",
                "convarith models windows over 1 or more axes",
                "an operand with axes",
            )
        window = window_ints(dims, rank, "window_dimensions", label, 1)
        stride = (1,) * len(window) if strides is None else window_ints(strides, rank, "window_strides", label, 1)
        base = (
            (1,) * len(window)
            if v["base_dilation"] is None
            else window_ints(v["base_dilation"], rank, "base_dilation", label, 0)
        )
        rate = (
            (1,) * len(window)
            if v["window_dilation"] is None
            else window_ints(v["window_dilation"], rank, "window_dilation", label, 0)
        )
        for name, items in (
            ("window_dimensions", window),
            ("window_strides", stride),
            ("base_dilation", base),
            ("window_dilation", rate),
        ):
            if len(items) != rank:
                raise refuse(
                    label, f"{name}={v[name]!r} has {len(items)} entries for an operand of shape {x}",
                    "one entry per operand axis", f"{name} with {rank} entries",
                )  # fmt: skip
        if 0 in base or 0 in rate:
            raise refuse(
                label,
                f"base_dilation={base!r}, window_dilation={rate!r}",
                "all dilations must be positive",
                "dilations of 1 or more",
            )
        k_effs = tuple(map(effective_kernel, window, rate))
        if isinstance(padding, str):
            mode = padding.upper()
            if mode == "VALID":
                lo, hi, rules = (0,) * rank, (0,) * rank, (f"{padding!r}: no padding",) * rank
            else:
                pads = [
                    arith.same_padding(n, k, s, extra_at_start=mode == "SAME_LOWER")
                    for n, k, s in zip(x, k_effs, stride)
                ]
                lo, hi = tuple(p.lo for p in pads), tuple(p.hi for p in pads)
                rules = tuple(
                    f"{padding!r}: {p.text}" + (" (from the undilated operand size)" if b != 1 else "")
                    for p, b in zip(pads, base)
                )
        else:
            if len(padding) != rank:
                raise refuse(
                    label,
                    f"padding={padding!r} has {len(padding)} pairs for an operand of shape {x}",
                    "one (low, high) pair per operand axis",
                    f"{rank} pairs",
                )
            lo = tuple(check_int(p[0], "padding", label) for p in padding)
            hi = tuple(check_int(p[1], "padding", label) for p in padding)
            rules = tuple(
                f"explicit (low, high) = ({a}, {b})" + (" (negative: crops)" if min(a, b) < 0 else "")
                for a, b in zip(lo, hi)
            )
        spec = (rank, rank + 1, *range(rank))  # the operand's own axes are all windowed; batch and channel are extra
        op = ConvOp(
            kind, 1, 1, 1, x, window, stride, rate, lo, hi, spec, spec, lhs_dilation=base,
            init_value=self.init,
        )  # fmt: skip
        spatial = tuple(max(size, 0) for size in arith.output_spatial(op))
        crops = max(*lo, *hi) <= 0 and min(*lo, *hi) < 0
        if set(window) == set(stride) == set(base) == {1} and crops and min(spatial) > 0:
            raise refuse(
                label,
                f"padding {tuple(zip(lo, hi))} only crops, with a window and stride of 1 on every axis: this call "
                "aborts the process in JAX instead of returning (XLA's CPU simplifier: 'RET_CHECK failure ... "
                "reduce-window vs maximum')",
                "measured with jaxlib 0.10.2 on CPU: a reduce_window that only crops is replaced by a wrongly shaped op",
                "crop with x[a:b] (lax.slice) instead",
            )
        identity = IDENTITIES[kind]
        what = {"max_pool": "max", "min_pool": "min", "sum_pool": "sum"}[kind]
        notes = (
            f"computation {v['computation']!r}: the window {what}; padding cells and base-dilation holes hold "
            f"init_value {self.init:g}, and every window starts from it"
            + (
                " (the identity: they change nothing)."
                if self.init == identity
                else f" (not the identity {identity:g})."
            ),
        )
        return Mapped(
            FRAMEWORK, self.call, (op,), rules, notes, layout="every axis windowed", shape_override=spatial,
            arguments=tuple(v.items()), framework_id=FRAMEWORK_ID, shown_input=x,
            padding_intent=padding_intent(padding, rank),
        )  # fmt: skip


CALLS.update({prefix + "reduce_window": ReduceWindowPlan for prefix in PREFIXES})
# --- sweeps: the rules over arrays (convarith.sweep) -------------------------------------------------------------


def vector_rule(call, inputs, candidates: set, strict: bool = True):
    """sweep's rule for conv_general_dilated / conv / conv_with_general_padding without groups and
    conv_transpose (padding a string or explicit pairs): the lhs and kernel spatial sizes, strides,
    dilations and explicit pads as arrays. The call compiled and answered with neutral values (its
    Ranked) gives the dimension numbers and the padding rule."""
    compile_function = CALLS.get(call.name)
    if compile_function is None or inputs.input_shape is not None or not inputs.shapes:
        return None
    transposed = compile_function is TransposePlan
    try:
        v = bind(call, TRANSPOSE_PARAMS if transposed else general_params(call.base), call.base)
        names = tensor_names(v)
        lhs, rhs = (inputs.shapes.get(name) for name in names) if names else (None, None)
        if not (isinstance(lhs, tuple) and isinstance(rhs, tuple) and len(lhs) == len(rhs) >= 3):
            return None
        default = TRANSPOSE_DEFAULTS.get(len(lhs)) if transposed else None
        specs = dimension_numbers(v.get("dimension_numbers"), len(lhs), call.base, default)
    except (ConvArithError, TypeError):
        return None
    rank = len(lhs) - 2
    keys = {"strides": "strides" if transposed else "window_strides", "rhs_dil": "rhs_dilation"}
    keys |= {} if transposed else {"lhs_dil": "lhs_dilation"}
    axes = {}
    for param, key in keys.items():
        value = v.get(key)
        axes[param] = (1,) * rank if value is None else per_axis(value, rank, False)
        if axes[param] is None or value is not None and not isinstance(value, (tuple, list)):
            return None
    padding = v["padding"]
    axes["lo"] = axes["hi"] = (0,) * rank  # a string's pads come from its rule ('VALID': none)
    if isinstance(padding, (tuple, list)):
        if not all(isinstance(p, (tuple, list)) and len(p) == 2 for p in padding):
            return None
        axes["lo"], axes["hi"] = (
            per_axis([p[0] for p in padding], rank, False),
            per_axis([p[1] for p in padding], rank, False),
        )
        if axes["lo"] is None or axes["hi"] is None:
            return None
    axes["kernel"] = tuple(rhs[a] for a in specs.rhs[2:])
    used = {*keys.values(), "padding", "lhs", "rhs"}  # (the tensors are named, not swept)
    others = set().union(*(names_in(value) for key, value in v.items() if key not in used))
    others |= names_in([lhs[a] for a in specs.lhs[:2]] + [rhs[a] for a in specs.rhs[:2]])
    rule = None
    if strict:
        try:
            plan = compile_function(with_values(call, neutral_values(v, candidates - tensors_of(v, ("lhs", "rhs")))))
            plan.shape(neutral_inputs(inputs))
        except ConvArithError:
            return None
        ranked = plan.ranked(len(lhs))
        if not isinstance(padding, (str, tuple, list)):
            return None
        if transposed and ranked.modes is not None and not isinstance(padding, str) or plan.names is None:
            return None  # use_consistent_padding pairs, groups
        if transposed:
            forward_string = ranked.modes is None and isinstance(padding, str)
            rule = lambda got: TransposePlan.sweep_rule(got, ranked.modes, ranked.same, forward_string)  # noqa: E731
        else:
            rule = lambda got: GeneralPlan.sweep_rule(got, ranked.same)  # noqa: E731
    spatial = tuple(lhs[a] for a in specs.lhs[2:])
    return array_rule(axes, spatial, others, candidates, strict, len(lhs), specs.out[2:], rule)


# --- translation (issue 12): the padding rule as data ------------------------------------------------------------

INTENTS = {"VALID": "valid", "SAME": "same_upper", "SAME_LOWER": "same_lower"}


def padding_intent(padding, rank: int) -> tuple[str, ...]:
    """Per spatial axis: 'valid', 'same_upper' ('SAME': the odd cell at the end), 'same_lower' or
    'explicit' (pairs as written)."""
    intent = INTENTS.get(padding.upper(), "explicit") if isinstance(padding, str) else "explicit"
    return (intent,) * rank


def transpose_intent(padding, op: ConvOp) -> tuple[str, ...]:
    """conv_transpose: 'SAME' keeps out = n*s, its odd crop cell at the end ('same_upper') or the start;
    'VALID' is 'valid' where it crops nothing; explicit pairs are 'explicit'."""
    if padding == "SAME":
        return tuple("same_upper" if lo <= hi else "same_lower" for lo, hi in zip(op.pad_lo, op.pad_hi))
    if padding == "VALID":
        return tuple("valid" if lo == hi == 0 else "explicit" for lo, hi in zip(op.pad_lo, op.pad_hi))
    return ("explicit",) * op.rank
