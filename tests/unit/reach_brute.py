"""Brute force for valid_sizes: which input rows along an axis change a chain's output, computed by
convarith's NumPy engine (``reference``), not by the links valid_sizes follows. One batch of copies
of one positive draw: item 0 as drawn, item i+1 with row i raised by 100; every weight 1, every bias
0, so a raised row raises every output it feeds (sums, averages, maxima, interpolations)."""

import numpy as np

import convarith
from convarith.reference import run_chain
from convarith.reference.adapters import finish, random_plan


def ones_forward(expr: str, x):
    plan = random_plan(convarith.api.map_call(expr, x.shape), 0, x, limit=1 << 30)
    plan.params = [(None if w is None else np.ones_like(w), None if b is None else np.zeros_like(b))
                   for w, b in plan.params]  # fmt: skip
    plan.x = plan.x.astype(np.float64)
    return finish(plan, run_chain(plan)[-1])


def rows_reached(model, shape, axis) -> list[bool]:
    """Per input row along ``axis``: whether raising it changes the chain's output."""
    n = shape[axis]
    x = np.repeat(np.random.default_rng(n).uniform(1, 2, (1, *shape[1:])), n + 1, axis=0)
    for row in range(n):
        index = [slice(None)] * len(shape)
        index[0], index[axis] = row + 1, row
        x[tuple(index)] += 100
    for expr in model:
        x = ones_forward(expr, x)
    flat = x.reshape(n + 1, -1)
    return [bool((flat[row + 1] != flat[0]).any()) for row in range(n)]
