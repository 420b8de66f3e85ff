"""What every framework module shares: argument binding, value checks, refusals,
``Plan`` (a call compiled once, applied to many inputs) and ``Mapped``, the result
of mapping one call onto canonical ops."""

from __future__ import annotations

from collections import namedtuple

from ..core import arith
from ..core.op import ConvOp
from ..core.record import Record
from ..errors import ConvArithError
from ..parse import MAX_INT, Call, Expression, List, Name, ShapeRef, int_text

__all__ = [
    "REQUIRED",
    "Inputs",
    "Mapped",
    "Plan",
    "VectorRule",
    "any_of",
    "array_rule",
    "bind",
    "check_bool",
    "check_choice",
    "check_int",
    "check_ints",
    "deferred",
    "divisors_text",
    "fail",
    "fits",
    "mapped_fits",
    "names_in",
    "neutral_inputs",
    "neutral_values",
    "per_axis",
    "raise_deferred",
    "ref_shape",
    "refuse",
    "tensors_of",
    "with_values",
    "resolve_shapes",
    "unevaluated",
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
    ``shown_input`` is the input shape as given when the op's own layout differs from it
    (fold's (N, C*K, L) input, a reduce_window operand without batch or channel axes).
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
    # --- rearranging and reduce_window (wip8-rearr) ---
    shown_input: tuple[int, ...] | None = None
    # --- explicit padding (glpad) ---
    given_shape: tuple[int, ...] | None = None  # the input as given, where the op's layout cannot restore it
    # --- translation (issue 12): the padding rule as data, one entry per spatial axis of the first op ---
    # 'explicit' (numbers as written), 'valid', 'same_upper' (the SAME total, an odd cell at the end),
    # 'same_lower' (an odd cell at the start); () where the framework module has not said.
    padding_intent: tuple[str, ...] = ()

    @property
    def given_input_shape(self) -> tuple[int, ...]:
        """The input shape as the user gave it: an unbatched input without its
        batch axis, flattened leading dims restored (``shown_input`` or ``given_shape`` where set:
        a reduce_window's operand, F.pad padding every axis, where the op's layout cannot restore it)."""
        if self.shown_input is not None:
            return self.shown_input
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


def unevaluated(value, name: str, label: str) -> ConvArithError | None:
    """The refusal of a value written where a number belongs but not a number convarith can read:
    a variable (``nn.Conv2d(in_channels, 8, 3)``), arithmetic on one, a call or a shape reference
    (None for any other value: the caller's own message says what it wants)."""
    rule = "nothing is evaluated, so every number is read from the call itself"
    if isinstance(value, (Name, Expression)):
        names = [value.dotted] if isinstance(value, Name) else list(value.names)
        shown = " and ".join(names)
        written = f"the variable {shown}" if isinstance(value, Name) else f"{value!r}, which uses {shown}"
        bare = [n for n in names if "." not in n]
        sweep = f", or sweep it with convarith.sweep(expr, ..., {bare[0]}=[1, 2, 3])" if bare else ""
        return refuse(
            label,
            f"{name} is given as {written}, whose {'values are' if len(names) > 1 else 'value is'} needed",
            rule,
            f"write the {'values' if len(names) > 1 else 'value'} in the call{sweep}",
        )
    if isinstance(value, Call):
        return refuse(label, f"{name}={value!r} is a call, which is not evaluated", rule, "write the value it gives")
    if isinstance(value, ShapeRef):
        return refuse(
            label,
            f"{name}={value!r} is a shape reference, which {name} does not take",
            "shapes given in shapes= are read where a call takes a whole shape or size (such as output_shape=)",
            "write the number",
        )
    return None


def resolve_shapes(value, inputs: Inputs, name: str, label: str):
    """``value`` with every ShapeRef in it (``tf.shape(y)``, ``y.shape[1:3]``, ``x.shape[0]``, also inside
    tuples and lists) replaced by the shape, slice or entry it names in ``inputs.shapes``; the same
    object when it holds none. The one reader of shape references."""
    if isinstance(value, ShapeRef):
        shape = inputs.shape_of(value.tensor)
        if shape is None:
            raise no_shape(label, f"{name}={value!r} needs the shape of {value.tensor}, which is not given",
                           "a shape reference is read from shapes=", value.tensor, inputs)  # fmt: skip
        picked = value.pick(shape)
        if picked is None:
            raise refuse(
                label,
                f"{name}={value!r} is out of range: {value.tensor} has shape {shape}",
                f"an index of a shape with {len(shape)} entries is from {-len(shape)} to {len(shape) - 1}",
                f"an index in that range, e.g. {value.tensor}.shape[{len(shape) - 1}]",
            )
        return picked
    if isinstance(value, (tuple, list)):
        items = [resolve_shapes(item, inputs, name, label) for item in value]
        if any(new is not old for new, old in zip(items, value)):
            return tuple(items) if isinstance(value, tuple) else List(items)
    return value


def check_int(value, name: str, label: str, minimum: int | None = None, fix: str = "") -> int:
    """An int argument (bools refused), optionally at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        unread = unevaluated(value, name, label)
        if unread is not None:
            raise unread
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
        raise no_shape(label, f"no shape given for {name}={value.dotted}",
                       "every tensor named in the call needs its shape", value.dotted, inputs)  # fmt: skip
    return shape


def no_shape(label: str, what: str, rule: str, tensor: str, inputs: Inputs) -> ConvArithError:
    """The refusal of a tensor whose shape is not in ``shapes=``."""
    known = ", ".join(key for key, _ in inputs.shapes) or "none"
    return refuse(
        label,
        what,
        f"{rule}; shapes given: {known}",
        f"pass shapes={{'{tensor}': (...)}} (--shape {tensor}=... in the CLI)",
    )


# --- resize ---


def shape_value(value, inputs: Inputs, name: str, label: str):
    """``value`` with shape references (``size=y.shape[2:]``, ``tf.shape(y)[1:3]``) read from shapes=:
    the hook for the parser's ShapeRef (``resolve_shapes``, issue 8) once it is there; until then
    plain values pass through."""
    resolve = globals().get("resolve_shapes")
    return value if resolve is None else resolve(value, inputs, name, label)


# --- sweeps: a plan's rule over arrays (convarith.sweep) ----------------------------------------------------------


class VectorRule:
    """How a framework answers a group of sweep rows as arrays (its module's ``vector_rule``).

    ``names``: the int names taken as arrays; ``slots``: positions in the output shape
    of the spatial sizes ``evaluate`` returns; ``evaluate(env)`` -> (sizes, refused,
    unsure), env mapping every name to its value or array, the masks broadcasting
    over the arrays (or False). ``unsure`` rows are asked of output_shape one by one;
    ``fixed_entries`` (the other output entries) are read from one exact row."""

    def __init__(self, names, rank: int, slots, evaluate):
        self.names, self.rank, self.slots, self.evaluate = frozenset(names), rank, tuple(slots), evaluate
        self.fixed_entries = None

    def fix(self, shape) -> None:
        self.fixed_entries = tuple((slot, shape[slot]) for slot in range(len(shape)) if slot not in self.slots)


def per_axis(value, rank: int, allow_one: bool):
    """A parameter's value as ``rank`` entries (ints or Names), or None when not of that form."""
    if isinstance(value, (tuple, list)):
        items = tuple(value)
        if allow_one and len(items) == 1:
            items *= rank
        if len(items) != rank:
            return None
    else:
        items = (value,) * rank
    if all(isinstance(item, Name) or type(item) is int for item in items):
        return items
    return None


def names_in(value) -> set:
    """The swept names (Names) a bound value holds."""
    if isinstance(value, Name):
        return {value.dotted}
    if isinstance(value, (tuple, list)):
        return set().union(*(names_in(item) for item in value))
    return set()


def any_of(masks):
    """The elementwise or of a list of masks (False for none)."""
    result = False
    for mask in masks:
        result = result | mask
    return result


def array_rule(axes: dict, spatial: tuple, others: set, candidates: set, strict: bool, rank: int, slots, evaluate):
    """The VectorRule over the names of ``axes`` (parameter -> per-axis ints or Names) and of
    ``spatial`` (the input's spatial sizes), or None when another value (``others``) holds one.
    ``evaluate(got)`` gets each parameter as a list of per-axis values or arrays and ``got["n"]``
    the spatial sizes; a negative size is refused here (as output_shape refuses it).
    ``strict=False``: only which candidates the rule would take (the sweep's grouping)."""
    slot_names = set().union(*(names_in(value) for value in axes.values())) | names_in(spatial)
    names = candidates & slot_names - others
    if not strict:
        return VectorRule(names, rank, (), None) if names else None
    if names != slot_names or not names:
        return None

    def run(env):
        def value(item):
            return env[item.dotted] if isinstance(item, Name) else item

        got = {param: [value(item) for item in entries] for param, entries in axes.items()}
        got["n"] = [value(item) for item in spatial]
        sizes, refused, unsure = evaluate(got)
        return sizes, refused | any_of(n < 0 for n in got["n"]), unsure

    return VectorRule(names, rank, slots, run)


def with_values(call: Call, values: dict) -> Call:
    """``call`` with the Names in ``values`` replaced by their values (in tuples and lists too)."""

    def put(item):
        if isinstance(item, Name):
            return values.get(item.dotted, item)
        if isinstance(item, (tuple, list)):
            return type(item)(put(entry) for entry in item)
        return item

    return Call(
        call.name, tuple(map(put, call.args)), tuple((key, put(value)) for key, value in call.kwargs), call.text
    )


def neutral_values(bound: dict, names: set, zero_params: tuple = ()) -> dict:
    """A value for each of ``names`` in a bound call that passes the call-only checks: 1 (a kernel,
    stride or dilation), 0 in ``zero_params`` (paddings): a vector rule compiles the call's plan
    with them to learn its structure, the arrays then take the names' place."""
    return {name: 0 if key in zero_params else 1 for key, value in bound.items() for name in names_in(value) & names}


def tensors_of(bound: dict, keys: tuple) -> set:
    """The names a call gives its tensors (named, never swept)."""
    return set().union(*(names_in(bound.get(key)) for key in keys))


def neutral_inputs(inputs) -> Inputs:
    """A sweep's inputs (shapes whose swept entries are Names) with every swept size 1."""

    def filled(shape):
        return tuple(1 if isinstance(item, Name) else item for item in shape) if isinstance(shape, tuple) else shape

    named = tuple(sorted((key, filled(shape)) for key, shape in (inputs.shapes or {}).items()))
    return Inputs(filled(inputs.input_shape), named, inputs.output_size)


# --- refusals the call alone makes, which the framework makes only later ------------------------------------------


def deferred(step, *args) -> str | None:
    """The refusal text of ``step(*args)``, None when it passes: a plan computes a call-only
    refusal once, at compile, and raises it (``raise_deferred``) at the stage the framework does."""
    try:
        step(*args)
    except ConvArithError as error:
        return str(error)
    return None


def raise_deferred(text: str | None) -> None:
    """Raise a refusal kept by ``deferred`` (a new exception each time), if there is one."""
    if text is not None:
        raise ConvArithError(text)


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
