"""What every framework module shares: argument binding, value checks, refusals,
``Plan`` (a call compiled once, applied to many inputs) and ``Mapped``, the result
of mapping one call onto canonical ops."""

from __future__ import annotations

from collections import namedtuple

from ..core import arith
from ..core.op import ConvOp
from ..core.record import Record
from ..errors import ConvArithError
from ..parse import MAX_INT, Call, Name, int_text

__all__ = [
    "REQUIRED",
    "Inputs",
    "Mapped",
    "Plan",
    "bind",
    "check_bool",
    "check_choice",
    "check_int",
    "check_ints",
    "divisors_text",
    "fail",
    "fits",
    "mapped_fits",
    "ref_shape",
    "refuse",
]

REQUIRED = object()


class Inputs(namedtuple("Inputs", "input_shape shapes output_size", defaults=(None, (), None))):
    """What the user gave besides the call: the input shape (a tuple of ints or None), the
    named shapes ((name, shape) pairs) and the output size (a tuple: cheap to build and hash)."""

    __slots__ = ()

    def shape_of(self, name: str) -> tuple[int, ...] | None:
        for key, shape in self.shapes:
            if key == name:
                return shape
        return None

    def pair(self, first: str, second: str) -> tuple:
        """The shapes named ``first`` and ``second`` (None where not given), in one pass:
        the fast paths of the functional calls read their two tensors this way."""
        a = b = None
        for key, shape in self.shapes:
            if key == first:
                a = shape
            if key == second:
                b = shape
        return a, b


class Mapped(Record):
    """A framework call mapped onto canonical ops, applied in order.

    ``padding_rules`` says per spatial axis how this framework chose the
    padding of the first op; ``notes`` adds framework-specific remarks.
    ``batch_dims`` are the leading dims the framework flattened into the
    op's batch (None: just the batch); ``space_to_batch`` says the op runs as
    TF's space-to-batch (block = its dilation), whose windows with a stride
    are not those of a strided dilated convolution.
    ``arguments`` is the call bound once (``bind``): (parameter, value) pairs in the
    signature's order (positional arguments first, as the page's fields rely on),
    defaults filled in, which the numbers read instead of call positions.
    ``activation`` names the function a layer applies to its output after the
    bias (a canonical Keras name, '' for none). ``framework_id`` is the framework
    module's name (what the numbers dispatch on); ``layer`` says which family of
    layer made the ops where the ops alone do not ('depthwise', 'separable').
    """

    framework: str
    call: Call
    ops: tuple[ConvOp, ...]
    padding_rules: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    layout: str = ""
    squeeze_batch: bool = False
    shape_override: tuple[int, ...] | None = None
    batch_dims: tuple[int, ...] | None = None
    space_to_batch: bool = False
    arguments: tuple[tuple[str, object], ...] = ()
    activation: str = ""
    framework_id: str = ""
    layer: str = ""
    # names (issue 8): computed on batch 1 for an input given with a None batch, shown as None
    free_batch: bool = False
    # --- explicit padding (glpad) ---
    given_shape: tuple[int, ...] | None = None  # the input as given, where the op's layout cannot restore it

    @property
    def given_input_shape(self) -> tuple[int, ...]:
        """The input shape as the user gave it: an unbatched input without its
        batch axis, flattened leading dims restored (``given_shape`` where set: F.pad
        padding every axis, so the op's batch and channel axes were added)."""
        if self.given_shape is not None:
            return self.given_shape
        op = self.ops[0]
        shape, axis = op.input_shape, op.in_spec[0]
        dims = () if self.squeeze_batch else self.batch_dims
        if self.free_batch:
            return (None, *shape[1:])
        return shape if dims is None else shape[:axis] + dims + shape[axis + 1 :]

    def argument(self, name: str, default=None):
        """The bound value of parameter ``name``."""
        return dict(self.arguments).get(name, default)

    @property
    def output_shape(self) -> tuple[int, ...]:
        if self.shape_override is not None:
            shape = self.shape_override
        else:
            shape = arith.output_shape(self.ops[-1])
            shape = shape[1:] if self.squeeze_batch else shape
        return (None, *shape[1:]) if self.free_batch else shape


class Plan:
    """A call compiled once: bound, its call-only checks done, its padding rule as data.

    Each framework's compile function ``compile(call) -> Plan`` refuses what the
    call alone makes wrong. Per input, ``shape(inputs)`` gives the output shape
    (the fast path: arithmetic and input-dependent refusals only, no ConvOp) and
    ``map(inputs)`` the full ``Mapped`` for explain, forward and worksheets; both
    refuse alike and never disagree (the differential tests check it on every case).
    """

    __slots__ = ("call",)

    def __init__(self, call: Call) -> None:
        self.call = call

    def shape(self, inputs: Inputs) -> tuple[int, ...]:
        return mapped_fits(self.map(inputs)).output_shape

    def map(self, inputs: Inputs) -> Mapped:
        raise NotImplementedError


def fits(label: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """``shape``, or the refusal of a size beyond 64 bits."""
    if max(shape, default=0) > MAX_INT:
        raise fail(
            label,
            f"the output shape {'(' + ', '.join(map(int_text, shape)) + ')'} does not fit in 64 bits. "
            f"Rule: every framework stores sizes as 64-bit ints (<= {MAX_INT}). Fix: a smaller input, stride "
            "or kernel.",
        )
    return shape


def mapped_fits(mapped: Mapped) -> Mapped:
    """``mapped``, or the refusal of an op whose output does not fit in 64 bits."""
    for op in mapped.ops:
        fits(mapped.call.base, arith.output_shape(op))
    fits(mapped.call.base, mapped.output_shape)
    return mapped


def divisors_text(n: int, trials: int = 1000) -> str:
    """'among [1, 2, 4]': the divisors of n >= 1 found by trial division up to ``trials``
    with their cofactors (every one when n <= trials**2), 'such as [...]' when some may be missing."""
    from math import isqrt

    small = [d for d in range(1, min(isqrt(n), trials) + 1) if n % d == 0]
    found = sorted(set(small) | {n // d for d in small})
    return f"among {found}" if isqrt(n) <= trials else f"such as {found} (not every divisor of {n} is listed)"


def fail(label: str, message: str) -> ConvArithError:
    """A ConvArithError prefixed with the call's name, ready to raise."""
    return ConvArithError(f"{label}: {message}")


def refuse(label: str, what: str, rule: str, fix: str) -> ConvArithError:
    """The house message, ready to raise: what is wrong (parameter and value), the rule, a fix."""
    return fail(label, f"{what}. Rule: {rule}. Fix: {fix}.")


def bind(call: Call, params: tuple, label: str, keyword_only: tuple = ()) -> dict:
    """Bind a call's arguments to ``params`` ((name, default) pairs, in the
    framework's positional order) like Python would, refusing what it refuses."""
    names = [name for name, _ in params] + [name for name, _ in keyword_only]
    values = dict(params) | dict(keyword_only)
    if len(call.args) > len(params):
        raise fail(
            label,
            f"takes at most {len(params)} positional arguments, got {len(call.args)}. "
            f"Rule: the positional order is {', '.join(n for n, _ in params[:4])}... "
            "Fix: pass the extra ones by keyword.",
        )
    for (name, _), value in zip(params, call.args):
        values[name] = value
    for key, value in call.kwargs:
        if key not in values:
            import difflib  # only on this error path: keeps start-up lean

            close = difflib.get_close_matches(key, names, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(names)}."
            raise fail(label, f"unexpected keyword argument {key!r}. Rule: {label} has no such parameter. Fix: {hint}")
        if names.index(key) < len(call.args):
            raise fail(
                label,
                f"got multiple values for argument {key!r}. Rule: it is already given by position. "
                "Fix: drop the keyword or the positional value.",
            )
        values[key] = value
    missing = [name for name in names if values[name] is REQUIRED]
    if missing:
        raise fail(
            label, f"missing required argument {missing[0]!r}. Rule: {label} has no default for it. Fix: pass it."
        )
    return values


def check_int(value, name: str, label: str, minimum: int | None = None, fix: str = "") -> int:
    """An int argument (bools refused), optionally at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        guess = int(value) if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_INT else 1
        raise fail(
            label,
            f"{name} must be an int, got {value!r}. Rule: sizes are whole numbers. Fix: {fix or f'{name}={guess}'}.",
        )
    if minimum is not None and value < minimum:
        raise refuse(
            label,
            f"{name}={value!r} must be >= {minimum}",
            f"{label} needs {name} >= {minimum}",
            fix or f"{name}={minimum}",
        )
    return value


def check_ints(
    value, rank: int, name: str, label: str, minimum: int | None = None, allow_one: bool = False
) -> tuple[int, ...]:
    """An int (repeated per axis) or a tuple/list of ``rank`` ints."""
    if isinstance(value, (tuple, list)):
        items = tuple(value)
        if allow_one and len(items) == 1:
            items = items * rank
        if len(items) != rank:
            raise fail(
                label,
                f"{name}={value!r} must have {rank} entries, got {len(items)}. Rule: one value per spatial axis. "
                f"Fix: a single int, or a tuple of {rank}.",
            )
    else:
        items = (value,) * rank
    for item in items:
        check_int(item, name, label)
        if minimum is not None and item < minimum:
            raise refuse(
                label,
                f"{name}={value!r} must be >= {minimum} on every axis",
                f"{label} needs {name} >= {minimum} on each spatial axis",
                f"{name}={minimum} or more",
            )
    return items


def check_bool(value, name: str, label: str) -> bool:
    if not isinstance(value, bool):
        raise fail(
            label, f"{name} must be True or False, got {value!r}. Rule: it is a flag. Fix: {name}=True or False."
        )
    return value


def check_choice(value, choices: tuple, name: str, label: str, case_insensitive: bool = False) -> str:
    """A string argument from a fixed set (compared lower-case if asked)."""
    key = value.lower() if case_insensitive and isinstance(value, str) else value
    if key not in choices:
        raise fail(
            label,
            f"{name}={value!r} is not accepted. Rule: {name} is one of {', '.join(repr(c) for c in choices)}. "
            f"Fix: {name}={choices[0]!r}.",
        )
    return key


def ref_shape(value, inputs: Inputs, name: str, label: str) -> tuple[int, ...]:
    """The shape of a tensor argument written as a name (looked up in ``shapes``)."""
    if not isinstance(value, Name):
        raise refuse(
            label,
            f"{name} must be a tensor name such as x, got {value!r}",
            "tensors are written by name and their shapes given in shapes=",
            "write the name and pass shapes={'x': ...}",
        )
    shape = inputs.shape_of(value.dotted)
    if shape is None:
        known = ", ".join(key for key, _ in inputs.shapes) or "none"
        raise refuse(
            label,
            f"no shape given for {name}={value.dotted}",
            f"every tensor named in the call needs its shape; shapes given: {known}",
            f"pass shapes={{'{value.dotted}': (...)}} (--shape {value.dotted}=... in the CLI)",
        )
    return shape


# --- explicit padding (glpad) ---


def trailing_pad(x: tuple[int, ...], lo: tuple[int, ...], hi: tuple[int, ...], mode: str, value: float, label: str):
    """The ``pad`` op of padding the last len(lo) axes of a tensor of shape ``x``, and the Mapped
    fields that restore the tensor's own shape: (op, output shape, batch_dims, squeeze_batch,
    given_shape). Two or more untouched leading axes are (batch..., channel); one is the channel
    of an unbatched input; none (every axis padded) gets a batch and a channel of 1."""
    from math import prod

    from ..core.op import channels_first

    m = len(lo)
    lead = x[: len(x) - m]
    sizes = tuple(arith.pad_out(n, a, b) for n, a, b in zip(x[len(x) - m :], lo, hi))
    shape = fits(label, (*lead, *sizes))
    batch_dims, squeeze, given = None, False, None
    if len(lead) >= 2:
        batch, channels = prod(lead[:-1]), lead[-1]
        batch_dims = lead[:-1] if len(lead) > 2 else None
    elif len(lead) == 1:
        batch, channels, squeeze = 1, lead[0], True
    else:
        batch, channels, given = 1, 1, tuple(x)
    fits(label, (batch,))
    spec, ones = channels_first(m), (1,) * m
    op = ConvOp(
        "pad", batch, channels, channels, x[len(x) - m :], ones, ones, ones, tuple(lo), tuple(hi), spec, spec,
        pad_mode=mode, pad_value=value,
    )  # fmt: skip
    return op, shape, batch_dims, squeeze, given
