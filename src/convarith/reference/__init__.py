"""Vectorised NumPy numbers for every call ``output_shape`` accepts.

Imported lazily by ``convarith.forward`` and friends: ``import convarith``
never loads NumPy.
"""

from __future__ import annotations

import numpy as np

from .adapters import finish, prepare, warn_nan
from .engine import run_op

__all__ = ["forward", "run_chain"]


def run_chain(plan, *, max_bytes: int | None = None) -> list:
    """Canonical results of every op in order (the last one is the output)."""
    results = []
    y = plan.x
    for op, (w, b) in zip(plan.mapped.ops, plan.params):
        y = run_op(op, y, w, b, max_bytes=max_bytes)
        results.append(y)
    return results


def forward(
    expr: str, x=None, weights=None, *, arrays=None, output_size=None, max_bytes: int | None = None
) -> np.ndarray:
    """The framework's output values for ``expr``, computed by convarith's NumPy engine."""
    plan = prepare(expr, x, weights, arrays, output_size)
    y = finish(plan, run_chain(plan, max_bytes=max_bytes)[-1])
    warn_nan(plan, y)
    return y
