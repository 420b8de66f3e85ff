"""Shared by the Keras translation tests: normalised call cases and the tally per source framework."""

from __future__ import annotations

from collections import Counter

import numpy as np

import convarith
from convarith.api import map_call
from convarith.reference import adapters, run_chain

TALLY: Counter = Counter()
REFUSED: Counter = Counter()  # (source framework, why) -> count
MAX_DIFF: dict = {}
ATOL, RTOL = 1e-4, 1e-5


def normalised(case, functional: bool = False) -> tuple:
    """(expr, input_shape, shapes, output_size) from any generator's case: the first list of ints is
    the input shape (``functional``: the shape of x), a second one the output size, a dict the shapes."""
    expr, *rest = case
    input_shape = shapes = output_size = None
    for item in rest:
        if isinstance(item, dict):
            shapes = item
        elif isinstance(item, (tuple, list)) and item and all(isinstance(v, int) for v in item):
            if input_shape is None:
                input_shape = tuple(item)
            elif output_size is None:
                output_size = tuple(item)
    if functional:
        input_shape, shapes = None, {"x": input_shape}
    return expr, input_shape, shapes, output_size


def mapped_case(case, seed: int):
    """(mapped, plan, y_ref in the source layout) or None where convarith refuses the call or its numbers."""
    expr, input_shape, shapes, output_size = case
    try:
        mapped = map_call(expr, input_shape, shapes=shapes, output_size=output_size)
        plan = adapters.random_plan(mapped, seed)
        y_ref = adapters.finish(plan, run_chain(plan)[-1])
    except convarith.ConvArithError:
        return None
    return mapped, plan, y_ref


def in_source_layout(mapped, plan, y: np.ndarray) -> np.ndarray:
    """A target's canonical y in the source framework's output layout (the target applied the activation)."""
    if mapped.activation:
        return adapters.from_canonical(y, mapped.ops[-1].out_spec)
    return adapters.finish(plan, y, activate=False)


def agree(framework: str, expr: str, theirs: np.ndarray, ours: np.ndarray) -> None:
    """Shapes equal, NaN at the same places, |difference| <= 1e-4 (+ 1e-5 relative); tallied."""
    assert theirs.shape == ours.shape, f"{expr}: shape {theirs.shape}, reference {ours.shape}"
    np.testing.assert_allclose(theirs, ours, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=expr)
    TALLY[framework, "agreed"] += 1
    finite = np.isfinite(ours) & np.isfinite(theirs)
    if finite.any():
        diff = float(np.abs(theirs[finite].astype(np.float64) - ours[finite]).max())
        MAX_DIFF[framework] = max(MAX_DIFF.get(framework, 0.0), diff)


def report(request, title: str) -> None:
    """The tally, written to the terminal past pytest's output capture."""
    plugins = request.config.pluginmanager
    terminal, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if not TALLY or terminal is None:
        return
    with capture.global_and_fixture_disabled():
        write(terminal, title)
    TALLY.clear()
    REFUSED.clear()
    MAX_DIFF.clear()


def write(terminal, title: str) -> None:
    terminal.write_line("")
    terminal.section(title)
    for name in sorted({framework for framework, _ in TALLY}):
        terminal.write_line(
            f"{name:8s} {TALLY[name, 'agreed']:5d} agreed (max |difference| {MAX_DIFF.get(name, 0.0):.1e}), "
            f"{TALLY[name, 'refused']:3d} refused with a rule"
        )
        for (source, why), count in sorted(REFUSED.items()):
            if source == name:
                terminal.write_line(f"         {count:4d} refused: {why}")
