"""Brute force for valid_sizes: which input rows along an axis change a chain's output, computed by
convarith's NumPy engine (``reference``), not by the links valid_sizes follows. One batch of copies
of one positive draw: item 0 as drawn, item i+1 with row i raised by 100; every weight 1/fan-in (an
average), every bias 0, so a raised row raises every output it feeds (sums, averages, maxima, interpolations)."""

import numpy as np

import convarith
from convarith.reference import run_chain
from convarith.reference.adapters import finish, random_plan


def ones_forward(expr: str, x):
    plan = random_plan(convarith.api.map_call(expr, x.shape), 0, x, limit=1 << 30)
    plan.params = [
        (None if w is None else np.full(w.shape, 1 / w[0].size), None if b is None else np.zeros_like(b))
        for w, b in plan.params
    ]  # fmt: skip (averages: values stay near the input's through deep models)
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


def model_rows_reached(model, shape, axis) -> list[bool]:
    """``rows_reached`` of a traced model (Keras calls, torch modules and functionals): window layers by
    the engine, merges summed (broadcast) or concatenated, other layers passed on (Flatten reshaped)."""
    from convarith.tracing import kinds, trace

    n = shape[axis]
    x = np.repeat(np.random.default_rng(n).uniform(1, 2, (1, *shape[1:])), n + 1, axis=0)
    for row in range(n):
        index = [slice(None)] * len(shape)
        index[0], index[axis] = row + 1, row
        x[tuple(index)] += 100
    values = {}
    traced = trace(model, (n + 1, *shape[1:]))
    for layer in traced.layers:
        ins = [values[name] for name in layer.inbound]
        if layer.kind == "InputLayer":
            values[layer.name] = x
        elif layer.call.startswith("F."):
            plan = random_plan(convarith.api.map_call(layer.call, shapes={"x": ins[0].shape}), 0, ins[0], limit=1 << 30)
            plan.params = [(None, None) for _ in plan.params]
            values[layer.name] = finish(plan, run_chain(plan)[-1])
        elif layer.call:
            values[layer.name] = ones_forward(layer.call, ins[0])
        elif layer.kind in kinds.CONCATS:
            axis_of = {"torch.cat": 1, "onnx.Concat": 1}.get(layer.kind, -1)
            values[layer.name] = np.concatenate(ins, axis=axis_of)
        elif layer.kind in kinds.MERGES:
            values[layer.name] = sum(ins[1:], ins[0])
        elif layer.kind in kinds.REARRANGING:
            values[layer.name] = ins[0].reshape(layer.output_shape)
        else:
            values[layer.name] = ins[0]
    flat = values[traced.layers[-1].name].reshape(n + 1, -1)
    return [bool((flat[row + 1] != flat[0]).any()) for row in range(n)]
