"""convarith.forward against PyTorch CPU on two layers: median time and max difference."""

from __future__ import annotations

import statistics
import time

import numpy as np

CASES = (
    ("nn.Conv2d(64, 64, 3, padding=1)", (1, 64, 128, 128)),
    ("nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)", (1, 64, 64, 64)),
)
RUNS = 7


def median_seconds(function, runs: int = RUNS) -> float:
    function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare(expr: str, shape: tuple[int, ...]) -> str:
    """One line: both medians, their ratio and the largest absolute difference."""
    import torch
    from torch import nn

    import convarith

    torch.manual_seed(0)
    module = eval(expr, {"nn": nn})  # benchmark: builds the torch module being timed
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    weights = [p.detach().numpy() for p in module.parameters()]
    x_torch = torch.from_numpy(x)
    with torch.no_grad():
        expected = module(x_torch).numpy()
        torch_time = median_seconds(lambda: module(x_torch))
    ours = convarith.forward(expr, x, weights)
    ours_time = median_seconds(lambda: convarith.forward(expr, x, weights))
    diff = float(np.abs(ours - expected).max())
    return (
        f"{expr} on {shape}: convarith {ours_time * 1e3:.1f} ms, torch {torch_time * 1e3:.1f} ms, "
        f"ratio {ours_time / torch_time:.2f}x (target <= 3x), max abs diff {diff:.2e}"
    )


def main() -> None:
    """Print one line per benchmarked layer."""
    for expr, shape in CASES:
        print(compare(expr, shape))


if __name__ == "__main__":
    main()
