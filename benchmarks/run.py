"""Benchmarks for `make bench` (never part of the test suite).

(a) start-up: `convarith shape ...` against bare `python -c pass` and
    `python -c "import torch"`, median wall time of several runs each;
(b) throughput: output_shape calls per second, repeated call (cache hits)
    and varied inputs (mostly cache misses), median of several runs;
(c) convarith.sweep combinations per second for a conv, a transposed conv and
    a pool, beside a plain NumPy formula over the same grid timed in the same run.
Each line prints its target and PASS or MISS.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

CLI_TARGET = 6.0  # CLI time <= 6x bare Python start-up
TORCH_TARGET = 0.05  # CLI time <= 0.05x `import torch`
RATE_TARGET = 50_000  # output_shape calls per second
SWEEP_TARGET = 10_000_000  # sweep combinations per second
CLI_ARGS = ("shape", "nn.Conv2d(3, 8, 3)", "--input", "1,3,32,32")


def wall_time(command: list[str], runs: int) -> float:
    """Median wall time of ``command`` in seconds (one warm-up run first)."""
    subprocess.run(command, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cli_command() -> list[str]:
    """The installed `convarith` script next to this Python, else `python -m convarith`."""
    script = Path(sys.executable).with_name("convarith")
    return [str(script), *CLI_ARGS] if script.exists() else [sys.executable, "-m", "convarith", *CLI_ARGS]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def compile_package() -> None:
    """Write convarith's bytecode, as pip does on install, so start-up is not
    measured compiling sources (PYTHONDONTWRITEBYTECODE=1 would otherwise force it)."""
    import compileall
    import importlib.util

    for location in importlib.util.find_spec("convarith").submodule_search_locations:
        compileall.compile_dir(location, quiet=1)


def bench_startup(runs: int) -> None:
    compile_package()
    bare = wall_time([sys.executable, "-c", "pass"], runs)
    cli = wall_time(cli_command(), runs)
    print(f"python -c pass         {bare * 1000:8.1f} ms  (median of {runs})")
    print(
        f"convarith shape ...    {cli * 1000:8.1f} ms  {cli / bare:5.2f}x bare Python   target <= {CLI_TARGET}x   {verdict(cli / bare <= CLI_TARGET)}"
    )
    try:
        torch = wall_time([sys.executable, "-c", "import torch"], max(3, runs // 3))
    except subprocess.CalledProcessError:
        print("python -c 'import torch' failed: torch is not installed, ratio skipped")
        return
    print(
        f"python -c 'import torch' {torch * 1000:6.1f} ms  CLI is {cli / torch:5.3f}x of it  target <= {TORCH_TARGET}x  {verdict(cli / torch <= TORCH_TARGET)}"
    )


def varied_cases(count: int) -> list[tuple[str, tuple[int, ...]]]:
    """``count`` distinct (expr, input_shape) pairs: more than the caches hold."""
    exprs = [
        f"nn.Conv2d(3, 8, {k}, stride={s}, padding={p})" for k in (1, 3, 5, 7) for s in (1, 2, 3) for p in (0, 1, 2)
    ] + [f"nn.ConvTranspose2d(3, 8, {k}, stride={s}, padding=1)" for k in (3, 4, 5) for s in (1, 2, 3)]
    cases = []
    size = 16
    while len(cases) < count:
        for expr in exprs:
            cases.append((expr, (1, 3, size, size + 1)))
        size += 1
    return cases[:count]


def calls_per_second(cases: list, seconds: float) -> float:
    """Calls per second of output_shape over ``cases`` (cycled) for about ``seconds``."""
    from convarith import output_shape

    calls = 0
    start = time.perf_counter()
    while True:
        for expr, shape in cases:
            output_shape(expr, shape)
        calls += len(cases)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def bench_rate(runs: int) -> None:
    repeated = [("nn.Conv2d(3, 8, 3, stride=2, padding=1)", (1, 3, 224, 224))]
    varied = varied_cases(20_000)
    for label, cases in (("repeated call (cache hits)", repeated), (f"varied inputs ({len(varied)} distinct)", varied)):
        rates = [calls_per_second(cases, 0.5) for _ in range(runs)]
        rate = statistics.median(rates)
        print(
            f"output_shape, {label:32s} {rate:10,.0f} calls/s  target >= {RATE_TARGET:,}  {verdict(rate >= RATE_TARGET)}"
        )


SWEEP_CASES = (
    ("conv", "nn.Conv2d(3, 8, k, stride=s, padding=p)"),
    ("transposed conv", "nn.ConvTranspose2d(3, 8, k, stride=s, padding=p)"),
    ("pool", "nn.MaxPool2d(k, stride=s, padding=p)"),
)


def plain_formula(grid: dict, transposed: bool):
    """The bare NumPy size formula over the same grid (no checks, no refusals): the reference."""
    import numpy as np

    h, w, k, s, p = (
        np.asarray(grid[name]).reshape([-1 if i == j else 1 for j in range(5)]) for i, name in enumerate("hwksp")
    )
    table = np.empty((h.size, w.size, k.size, s.size, p.size, 4), np.int64)
    table[..., :2] = (1, 8)
    for slot, n in ((2, h), (3, w)):
        table[..., slot] = (n - 1) * s + k - 2 * p if transposed else (n + 2 * p - k) // s + 1
    return table.reshape(-1, 4)


def bench_sweep(runs: int) -> None:
    from convarith import sweep

    grid = {"h": range(1, 129), "w": range(1, 129), "k": range(1, 8), "s": range(1, 5), "p": range(0, 4)}
    count = 128 * 128 * 7 * 4 * 4
    for label, expr in SWEEP_CASES:
        sweep(expr, (1, 3, "h", "w"), h=[8], w=[8], k=[3], s=[1], p=[0])  # warm-up: imports and parse
        rates, plain = [], []
        for _ in range(runs):
            start = time.perf_counter()
            sweep(expr, (1, 3, "h", "w"), **grid)
            rates.append(count / (time.perf_counter() - start))
            start = time.perf_counter()
            plain_formula(grid, "Transpose" in expr)
            plain.append(count / (time.perf_counter() - start))
        rate, reference = statistics.median(rates), statistics.median(plain)
        print(
            f"sweep, {label:16s} {rate:12,.0f} combinations/s  plain NumPy formula {reference:12,.0f}/s  "
            f"ratio {rate / reference:4.2f}  target >= {SWEEP_TARGET:,}/s  {verdict(rate >= SWEEP_TARGET)}"
        )


def main() -> None:
    names = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "PYTHONDONTWRITEBYTECODE")
    blas = ", ".join(f"{name}={os.environ.get(name, '(unset)')}" for name in names)
    print(f"env: Python {platform.python_version()} ({sys.executable}), {blas}, {os.cpu_count()} CPUs")
    bench_startup(runs=15)
    bench_rate(runs=5)
    bench_sweep(runs=5)
    from numerics import main as bench_numerics

    bench_numerics()


if __name__ == "__main__":
    main()
