"""The public shape functions: parse, map onto canonical ops, compute."""

from __future__ import annotations

import operator
from functools import lru_cache
from itertools import islice

from .core import arith
from .errors import ConvArithError
from .explain import Explanation
from .frameworks import handler_for
from .frameworks._common import Inputs, Mapped
from .parse import MAX_INT, int_text, parse_call

__all__ = ["explain", "map_call", "output_shape"]

MAX_RANK = 8


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
    if (
        type(shape) is tuple
        and 0 < len(shape) <= MAX_RANK
        and all(type(item) is int and 0 <= item <= MAX_INT for item in shape)
    ):
        return shape  # the common case, checked cheaply
    if isinstance(shape, (str, bytes, dict)) or not hasattr(shape, "__iter__") or getattr(shape, "ndim", 1) != 1:
        raise ConvArithError(
            f"{what} must be a tuple of ints such as (1, 96, 128, 3), got {size_text(shape)} "
            f"({type(shape).__name__}). Fix: write the shape as a tuple of ints."
        )
    try:
        items = tuple(islice(shape, MAX_RANK + 1))  # an endless iterable stops here
    except (TypeError, ValueError):
        raise ConvArithError(
            f"{what} must be a tuple of ints such as (1, 96, 128, 3), got {size_text(shape)} "
            f"({type(shape).__name__}), which cannot be read item by item. Fix: write the shape as a tuple of ints."
        ) from None
    shown = "(" + ", ".join(size_text(item) for item in items) + ("...)" if len(items) > MAX_RANK else ")")
    if not 1 <= len(items) <= MAX_RANK:
        raise ConvArithError(
            f"{what} has {'more than ' + str(MAX_RANK) if items else 'no'} dimensions: {shown}. "
            f"Rule: a shape has 1 to {MAX_RANK} dimensions. Fix: give the full shape, e.g. (1, 3, 8, 8)."
        )
    return tuple(check_size(item, what, shown) for item in items)


def check_expr(expr) -> None:
    """Refuse anything but a string as the call."""
    if not isinstance(expr, str):
        raise ConvArithError(f"expr must be a string holding the call, got {type(expr).__name__}.")


def make_inputs(input_shape, shapes, output_size) -> Inputs:
    named = ()
    if shapes is not None:
        if not isinstance(shapes, dict):
            raise ConvArithError(f"shapes must be a dict {{name: shape}}, got {type(shapes).__name__}.")
        for key in shapes:
            if not isinstance(key, str):
                raise ConvArithError(
                    f"shapes has the key {size_text(key)} ({type(key).__name__}). Rule: keys are the tensor names "
                    "used in the call. Fix: shapes={'x': (1, 3, 8, 8)}."
                )
        named = tuple(sorted((key, check_shape(value, f"shapes[{size_text(key)}]")) for key, value in shapes.items()))
    return Inputs(
        None if input_shape is None else check_shape(input_shape, "input_shape"),
        named,
        None if output_size is None else check_shape(output_size, "output_size"),
    )


@lru_cache(maxsize=8192)
def map_cached(expr: str, inputs: Inputs) -> Mapped:
    """Parse and map once per distinct (expr, inputs)."""
    call = parse_call(expr)
    mapped = handler_for(call)(call, inputs)
    for shape in (*(arith.output_shape(op) for op in mapped.ops), mapped.output_shape):
        if any(size > MAX_INT for size in shape):
            raise ConvArithError(
                f"{call.base}: the output shape {'(' + ', '.join(map(int_text, shape)) + ')'} does not fit in 64 bits. "
                f"Rule: every framework stores sizes as 64-bit ints (<= {MAX_INT}). Fix: a smaller input, stride "
                "or kernel."
            )
    return mapped


@lru_cache(maxsize=8192)
def shape_cached(expr: str, inputs: Inputs) -> tuple[int, ...]:
    """The output shape, cached on its own so a repeated call skips the arithmetic too."""
    return map_cached(expr, inputs).output_shape


def map_call(expr: str, input_shape=None, *, shapes=None, output_size=None) -> Mapped:
    """Map a call onto canonical ops (the shared first step of every feature)."""
    check_expr(expr)
    return map_cached(expr, make_inputs(input_shape, shapes, output_size))


def output_shape(expr: str, input_shape=None, *, shapes=None, output_size=None) -> tuple[int, ...]:
    """The exact output shape the framework gives for ``expr`` on this input.

    >>> output_shape("keras.layers.Conv2DTranspose(3, 3, strides=2, padding='same')", (1, 96, 128, 3))
    (1, 192, 256, 3)
    """
    check_expr(expr)
    return shape_cached(expr, make_inputs(input_shape, shapes, output_size))


def explain(expr: str, input_shape=None, *, shapes=None, output_size=None) -> Explanation:
    """The derivation of ``output_shape``: padding per side and formula per axis."""
    mapped = map_call(expr, input_shape, shapes=shapes, output_size=output_size)
    shown = mapped.given_input_shape if input_shape is None else check_shape(input_shape, "input_shape")
    return Explanation(mapped, shown)
