"""The public shape functions: parse, map onto canonical ops, compute."""

from __future__ import annotations

from functools import lru_cache

from .errors import ConvArithError
from .explain import Explanation
from .frameworks import handler_for
from .frameworks._common import Inputs, Mapped
from .parse import parse_call

__all__ = ["explain", "map_call", "output_shape"]

MAX_RANK = 8


def check_shape(shape, what: str) -> tuple[int, ...]:
    """A shape as a tuple of non-negative ints, or ConvArithError."""
    if type(shape) is tuple and 0 < len(shape) <= MAX_RANK and all(type(item) is int and item >= 0 for item in shape):
        return shape  # the common case, checked cheaply
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise ConvArithError(f"{what} must be a tuple of ints such as (1, 96, 128, 3), got {shape!r}.")
    items = tuple(shape)
    if not 1 <= len(items) <= MAX_RANK:
        raise ConvArithError(f"{what} must have 1 to {MAX_RANK} dimensions, got {len(items)}: {items!r}.")
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) and not hasattr(item, "__index__"):
            raise ConvArithError(f"{what} must hold ints, got {item!r} in {items!r}.")
        if int(item) < 0:
            raise ConvArithError(f"{what} has a negative size {int(item)} in {items!r}. Rule: sizes are >= 0.")
    return tuple(int(item) for item in items)


def check_expr(expr) -> None:
    """Refuse anything but a string as the call."""
    if not isinstance(expr, str):
        raise ConvArithError(f"expr must be a string holding the call, got {type(expr).__name__}.")


def make_inputs(input_shape, shapes, output_size) -> Inputs:
    named = ()
    if shapes is not None:
        if not isinstance(shapes, dict):
            raise ConvArithError(f"shapes must be a dict {{name: shape}}, got {type(shapes).__name__}.")
        named = tuple(sorted((str(key), check_shape(value, f"shapes[{key!r}]")) for key, value in shapes.items()))
    return Inputs(
        None if input_shape is None else check_shape(input_shape, "input_shape"),
        named,
        None if output_size is None else check_shape(output_size, "output_size"),
    )


@lru_cache(maxsize=8192)
def map_cached(expr: str, inputs: Inputs) -> Mapped:
    """Parse and map once per distinct (expr, inputs)."""
    call = parse_call(expr)
    return handler_for(call)(call, inputs)


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
