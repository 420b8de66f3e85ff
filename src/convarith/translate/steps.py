"""Array layout changes as data: applied with NumPy, or written out as NumPy code.

A framework's weight and tensor layouts are described once as a tuple of steps
(from the framework's layout to canonical). ``reference.adapters`` applies them
to arrays; ``translate`` writes them into the generated code, and inverts them
to go from canonical to a target framework's layout.
"""

from __future__ import annotations

from ..core.record import Record

__all__ = ["Flip", "Reshape", "Transpose", "apply", "code", "inverse"]


class Transpose(Record):
    """``np.transpose(a, perm)``."""

    perm: tuple[int, ...]


class Reshape(Record):
    """``a.reshape(shape)``; ``before`` is the shape it reshapes from (to invert it)."""

    shape: tuple[int, ...]
    before: tuple[int, ...]


class Flip(Record):
    """``np.flip(a, axes)``: reverse the axes (a kernel turned by 180 degrees)."""

    axes: tuple[int, ...]


def apply(steps: tuple, array):
    """``array`` with ``steps`` applied in order (NumPy imported by the caller's layer)."""
    import numpy as np

    for step in steps:
        if isinstance(step, Transpose):
            if step.perm != tuple(range(len(step.perm))):
                array = np.transpose(array, step.perm)
        elif isinstance(step, Reshape):
            array = array.reshape(step.shape)
        else:
            array = np.flip(array, step.axes)
    return array


def code(steps: tuple, var: str) -> str:
    """The NumPy expression applying ``steps`` to the variable ``var``."""
    text = var
    for step in steps:
        if isinstance(step, Transpose):
            if step.perm != tuple(range(len(step.perm))):
                text = f"np.transpose({text}, {step.perm})"
        elif isinstance(step, Reshape):
            text = f"{text}.reshape({step.shape})"
        else:
            text = f"np.flip({text}, {step.axes})"
    return text


def inverse(steps: tuple) -> tuple:
    """The steps that undo ``steps`` (canonical back to the framework's layout)."""
    undone = []
    for step in reversed(steps):
        if isinstance(step, Transpose):
            undone.append(Transpose(tuple(sorted(range(len(step.perm)), key=step.perm.__getitem__))))
        elif isinstance(step, Reshape):
            undone.append(Reshape(step.before, step.shape))
        else:
            undone.append(step)
    return tuple(undone)
