"""The public shape functions: a call compiled once into a plan (cached on its text),
then applied to each input: ``plan.shape`` for output_shape, ``plan.map`` for the rest."""

from __future__ import annotations

import operator
from functools import lru_cache
from itertools import islice

from .core.record import replace
from .errors import ConvArithError
from .explain import Explanation
from .frameworks import compiler_for
from .frameworks._common import Inputs, Mapped, Plan, mapped_fits
from .parse import MAX_INT, expr_type_error, int_text, parse_call

__all__ = ["explain", "map_call", "output_shape", "plan_for"]

MAX_RANK = 8
RESULT_CACHE = 4096  # output shapes kept for repeated calls


def size_text(item) -> str:
    """One shape entry for a message (a huge int by its length, anything else cut short)."""
    if isinstance(item, int):
        return int_text(item)
    try:
        text = repr(item)
    except Exception:  # a user's object whose repr fails is still named
        return f"a {type(item).__name__}"
    return text if len(text) <= 40 else text[:30] + "..."


def check_size(item, what: str, shown: str) -> int:
    """One size: an int or an integer NumPy scalar, 0 <= size <= MAX_INT."""
    try:
        if isinstance(item, bool) or type(item).__name__ in ("bool", "bool_"):  # NumPy's bool too
            raise TypeError
        size = operator.index(item)  # never int(): it would truncate 8.7 or an array
    except TypeError:
        raise ConvArithError(
            f"{what} holds {size_text(item)} ({type(item).__name__}) in {shown}. Rule: sizes are ints "
            "(a flag, a float or an array is not read as one). Fix: write each size as an int, e.g. (1, 3, 8, 8)."
        ) from None
    if size < 0:
        raise ConvArithError(
            f"{what} has a negative size {int_text(size)} in {shown}. Rule: sizes are >= 0. Fix: write the real size."
        )
    if size > MAX_INT:
        raise ConvArithError(
            f"{what} has the size {int_text(size)}, which is too large. Rule: sizes must fit in 64 bits "
            f"(<= {MAX_INT}). Fix: write the real size."
        )
    return size


def check_shape(shape, what: str) -> tuple[int, ...]:
    """A shape as a tuple of 1 to MAX_RANK ints, each 0 <= size <= MAX_INT, or ConvArithError."""
    if shape_ok(shape):
        return shape  # the common case, checked cheaply
    if isinstance(shape, (str, bytes, dict)) or not hasattr(shape, "__iter__") or getattr(shape, "ndim", 1) != 1:
        raise ConvArithError(
            f"{what} must be a tuple of ints such as (1, 96, 128, 3), got {size_text(shape)} "
            f"({type(shape).__name__}). Rule: a shape is a flat sequence of sizes. Fix: write the shape as a tuple of ints."
        )
    try:
        items = tuple(islice(shape, MAX_RANK + 1))  # an endless iterable stops here
    except (TypeError, ValueError):
        raise ConvArithError(
            f"{what} must be a tuple of ints such as (1, 96, 128, 3), got {size_text(shape)} "
            f"({type(shape).__name__}), which cannot be read item by item. Rule: a shape is a flat sequence of sizes. "
            "Fix: write the shape as a tuple of ints."
        ) from None
    shown = "(" + ", ".join(size_text(item) for item in items) + ("...)" if len(items) > MAX_RANK else ")")
    if not 1 <= len(items) <= MAX_RANK:
        raise ConvArithError(
            f"{what} has {'more than ' + str(MAX_RANK) if items else 'no'} dimensions: {shown}. "
            f"Rule: a shape has 1 to {MAX_RANK} dimensions. Fix: give the full shape, e.g. (1, 3, 8, 8)."
        )
    return tuple(check_size(item, what, shown) for item in items)


def check_input(shape) -> tuple:
    """The input shape: as check_shape, or with a None batch first, as Keras users write
    ``(None, 200, 2)`` (kept as None; the answer has None there too)."""
    if type(shape) in (tuple, list) and len(shape) > 1 and shape[0] is None:
        return (None, *check_shape(tuple(shape[1:]), "input_shape"))
    return check_shape(shape, "input_shape")


def concrete(plan: Plan, inputs: Inputs) -> tuple[Inputs, bool]:
    """The inputs a plan computes on: a layer's own ``input_shape=`` when none is given (Keras
    builds (None, *input_shape)), and a None batch computed as batch 1 (then True)."""
    x = inputs.input_shape
    if x is None:
        x = getattr(plan, "default_input", None)
        if x is None:
            return inputs, False
        if None in x[1:]:
            raise ConvArithError(
                f"{plan.call.base}: input_shape={x[1:]} has a None size and no input was given. Rule: convarith "
                "computes fixed sizes (only the batch may be None). Fix: pass the input shape, e.g. "
                f"output_shape(expr, {(None, *(8 if n is None else n for n in x[1:]))})."
            )
        inputs = inputs._replace(input_shape=x)
    if x[0] is not None:
        return inputs, False
    return inputs._replace(input_shape=(1, *x[1:])), True


def free_batch(mapped: Mapped) -> Mapped:
    """``mapped`` (computed on batch 1) with its batch shown as None; refused where the first
    axis is not a batch that the output carries on its first axis."""
    first, last = mapped.ops[0], mapped.ops[-1]
    if mapped.squeeze_batch or first.in_spec[0] != 0 or last.out_spec[0] != 0 or mapped.batch_dims is not None:
        raise ConvArithError(
            f"{mapped.call.base}: input_shape {(None, *mapped.given_input_shape[1:])} has None first, but its first "
            f"axis is not the batch here (layout {mapped.layout or first.in_spec}). Rule: None stands for the batch "
            "only. Fix: write every size as an int, or give the batched shape with None first."
        )
    return replace(mapped, free_batch=True)


def check_expr(expr) -> None:
    """Refuse anything but a string as the call."""
    if not isinstance(expr, str):
        raise expr_type_error(expr)


def shape_ok(shape) -> bool:
    """Whether ``shape`` is already a valid shape: a tuple of 1 to MAX_RANK ints in range
    (a plain loop: about twice as fast as all() over a generator)."""
    if type(shape) is not tuple or not 0 < len(shape) <= MAX_RANK:
        return False
    for item in shape:  # noqa: SIM110 (a plain loop is faster here)
        if type(item) is not int or not 0 <= item <= MAX_INT:
            return False
    return True


def checked_shapes(shapes) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """``shapes`` as (name, shape) pairs sorted by name, each shape checked."""
    if type(shapes) is dict:  # the common case, checked cheaply (a plain loop)
        items = tuple(shapes.items())
        for key, value in items:
            if type(key) is not str or not shape_ok(value):
                break
        else:
            if len(items) == 2:  # most calls name two tensors: one comparison instead of a sort
                return items if items[0][0] < items[1][0] else (items[1], items[0])
            return items if len(items) < 2 else tuple(sorted(items))
    if not isinstance(shapes, dict):
        raise shapes_type_error(shapes)
    for key in shapes:
        if not isinstance(key, str):
            raise ConvArithError(
                f"shapes has the key {size_text(key)} ({type(key).__name__}). Rule: keys are the tensor names "
                "used in the call. Fix: shapes={'x': (1, 3, 8, 8)}."
            )
    return tuple(sorted((key, check_shape(value, f"shapes[{size_text(key)}]")) for key, value in shapes.items()))


def shapes_type_error(shapes) -> ConvArithError:
    return ConvArithError(
        f"shapes must be a dict {{name: shape}}, got {type(shapes).__name__}. Rule: shapes= gives each tensor named "
        "in the call its shape. Fix: shapes={'x': (1, 3, 8, 8), 'w': (8, 3, 3, 3)}."
    )


def make_inputs(input_shape, shapes, output_size) -> Inputs:
    named = () if shapes is None else checked_shapes(shapes)  # checked first, as before
    fields = (
        None if input_shape is None else check_input(input_shape),
        named,
        None if output_size is None else check_shape(output_size, "output_size"),
    )
    return tuple.__new__(Inputs, fields)  # Inputs(*fields), without the keyword handling


@lru_cache(maxsize=4096)
def compiled(expr: str) -> Plan | ConvArithError:
    """Parse and compile once per call text; a refusal is kept too, as the exception."""
    try:
        call = parse_call(expr)
        return compiler_for(call)(call)
    except ConvArithError as exc:
        return exc


def plan_for(expr: str) -> Plan:
    """The compiled plan of ``expr`` (cached on the text), or its ConvArithError."""
    check_expr(expr)
    plan = compiled(expr)
    if isinstance(plan, ConvArithError):
        raise ConvArithError(*plan.args)  # a new one: re-raising the cached one would grow its traceback
    return plan


@lru_cache(maxsize=8192)
def map_cached(expr: str, inputs: Inputs) -> Mapped:
    """The full mapping, once per distinct (expr, inputs); every op's shape fits in 64 bits."""
    plan = plan_for(expr)
    given, free = concrete(plan, inputs)
    if not free:
        return mapped_fits(plan.map(given))
    try:
        return free_batch(mapped_fits(plan.map(given)))
    except ConvArithError as error:
        shown = "(" + ", ".join(map(str, (None, *given.input_shape[1:]))) + ")"
        raise ConvArithError(f"{error} (The input {shown} was read with its None batch as 1.)") from None


def map_call(expr: str, input_shape=None, *, shapes=None, output_size=None) -> Mapped:
    """Map a call onto canonical ops (the shared first step of every feature)."""
    check_expr(expr)
    return map_cached(expr, make_inputs(input_shape, shapes, output_size))


@lru_cache(maxsize=RESULT_CACHE)
def shape_cached(expr: str, inputs: Inputs) -> tuple[int, ...]:
    """plan.shape, kept for repeated calls (a refusal is not kept)."""
    plan = compiled(expr)
    if type(plan) is ConvArithError:
        plan = plan_for(expr)  # raises it afresh
    x = inputs.input_shape
    if (x is None and not inputs.shapes) or (
        x is not None and x[0] is None
    ):  # a layer's own input_shape=, a None batch
        given, free = concrete(plan, inputs)
        return map_cached(expr, inputs).output_shape if free else plan.shape(given)
    return plan.shape(inputs)


def output_shape(expr: str, input_shape=None, *, shapes=None, output_size=None) -> tuple[int, ...]:
    """The exact output shape the framework gives for ``expr`` on this input.

    >>> output_shape("keras.layers.Conv2DTranspose(3, 3, strides=2, padding='same')", (1, 96, 128, 3))
    (1, 192, 256, 3)
    """
    if type(expr) is not str:
        check_expr(expr)
    if shapes is None and output_size is None:  # the common case: one input shape, checked cheaply
        if not shape_ok(input_shape) and input_shape is not None:
            input_shape = check_input(input_shape)
        return shape_cached(expr, tuple.__new__(Inputs, (input_shape, (), None)))  # Inputs(input_shape), fast
    if input_shape is None and output_size is None and type(shapes) is dict:  # a function's tensors, inline
        items = tuple(shapes.items())
        if len(items) == 2:
            (key_a, a), (key_b, b) = items
            if type(key_a) is str and type(key_b) is str and shape_ok(a) and shape_ok(b):
                named = items if key_a < key_b else (items[1], items[0])
                return shape_cached(expr, tuple.__new__(Inputs, (None, named, None)))
        elif len(items) == 1 and type(items[0][0]) is str and shape_ok(items[0][1]):
            return shape_cached(expr, tuple.__new__(Inputs, (None, items, None)))
    return shape_cached(expr, make_inputs(input_shape, shapes, output_size))


def explain(expr: str, input_shape=None, *, shapes=None, output_size=None) -> Explanation:
    """The derivation of ``output_shape``: padding per side and formula per axis."""
    mapped = map_call(expr, input_shape, shapes=shapes, output_size=output_size)
    shown = mapped.given_input_shape if input_shape is None else check_input(input_shape)
    return Explanation(mapped, shown)
