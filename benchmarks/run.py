"""Benchmarks for `make bench` (never part of the test suite).

(a) start-up: `convarith shape ...` against bare `python -c pass` and
    `python -c "import torch"`, median wall time of several runs each;
(b) throughput: output_shape calls per second per framework on distinct inputs,
    a repeated call (cache hits), and the time to parse a never-seen call,
    medians of several runs, next to a plain formula timed in the same run;
(c) convarith.sweep combinations per second for a conv, a transposed conv and
    a pool per framework family, beside a plain NumPy formula over the same grid
    timed in the same run, with the share of rows the vector rules gave.
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

CLI_TARGET = 3.0  # CLI time <= 3x bare Python start-up (issue 9)
TORCH_TARGET = 0.05  # CLI time <= 0.05x `import torch`
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


SHAPE_RATE_TARGET = 200_000  # output_shape calls per second on distinct inputs, every framework
REPEATED_TARGET = 500_000  # the same call again (a cache hit)
PARSE_TARGET_US = 15.0  # a never-seen call string parsed
SIZES = range(16, 16 + 1500)  # 1500 x 4 input sizes per call: more than any result cache holds

# framework -> representative calls (a convolution and a pooling or transposed one) and their inputs,
# as ("input", spatial -> input_shape) or ("shapes", spatial -> shapes dict)
FRAMEWORK_CALLS = {
    "torch": [
        ("nn.Conv2d(3, 8, 3, stride=2, padding=1)", lambda h, w: ((1, 3, h, w), None)),
        ("nn.MaxPool2d(3, stride=2, padding=1)", lambda h, w: ((1, 3, h, w), None)),
    ],
    "keras": [
        ("keras.layers.Conv2D(8, 3, strides=2, padding='same')", lambda h, w: ((1, h, w, 3), None)),
        ("keras.layers.MaxPooling2D(2)", lambda h, w: ((1, h, w, 3), None)),
    ],
    "tf_nn": [
        ("tf.nn.conv2d(x, w, 2, 'SAME')", lambda h, w: (None, {"x": (1, h, w, 3), "w": (3, 3, 3, 8)})),
        ("tf.nn.max_pool2d(x, 2, 2, 'VALID')", lambda h, w: (None, {"x": (1, h, w, 3)})),
    ],
    "jax_lax": [
        ("lax.conv(x, w, (2, 2), 'SAME')", lambda h, w: (None, {"x": (1, 3, h, w), "w": (8, 3, 3, 3)})),
        ("lax.conv_transpose(x, w, (2, 2), 'SAME')", lambda h, w: (None, {"x": (1, h, w, 3), "w": (3, 3, 3, 8)})),
    ],
    "onnx": [
        (
            "onnx.helper.make_node('Conv', ['X', 'W'], ['Y'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])",
            lambda h, w: (None, {"X": (1, 3, h, w), "W": (8, 3, 3, 3)}),
        ),
        (
            "onnx.helper.make_node('MaxPool', ['X'], ['Y'], kernel_shape=[2, 2], strides=[2, 2])",
            lambda h, w: (None, {"X": (1, 3, h, w)}),
        ),
    ],
}


def distinct_cases(calls: list) -> list[tuple]:
    """(expr, input_shape, shapes) triples, every input distinct; built before timing."""
    return [(expr, *inputs(h, h + extra)) for h in SIZES for extra in (0, 1, 5, 9) for expr, inputs in calls]


def calls_per_second(cases: list, seconds: float) -> float:
    """Calls per second of output_shape over ``cases`` (cycled) for about ``seconds``."""
    from convarith import output_shape

    calls = 0
    start = time.perf_counter()
    while True:
        for expr, shape, shapes in cases:
            output_shape(expr, shape, shapes=shapes)
        calls += len(cases)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def plain_formula_rate(seconds: float) -> float:
    """The load reference: a plain Python conv formula on 2 axes, calls per second."""

    def formula(h, w, k=3, s=2, p=1):
        return ((h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)

    sizes = [(h, h + 1) for h in SIZES]
    calls = 0
    start = time.perf_counter()
    while True:
        for h, w in sizes:
            formula(h, w)
        calls += len(sizes)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def parse_microseconds(count: int) -> float:
    """Microseconds per parse_call on ``count`` call strings never seen before (the cache is bypassed)."""
    from convarith.parse import parse_call

    stamp = time.perf_counter_ns()
    texts = [f"nn.Conv2d({stamp % 97 + 1}, {i}, 3, stride=2, padding=(1, {i % 7}), bias=False)" for i in range(count)]
    start = time.perf_counter()
    for text in texts:
        parse_call.__wrapped__(text)
    return (time.perf_counter() - start) / count * 1e6


def ast_parse_microseconds(count: int) -> float:
    """Microseconds per ast.parse alone on such strings: the floor under parse_call."""
    import ast

    texts = [f"nn.Conv2d({i % 97 + 1}, {i}, 3, stride=2, padding=(1, {i % 7}), bias=False)" for i in range(count)]
    start = time.perf_counter()
    for text in texts:
        ast.parse(text, mode="eval")
    return (time.perf_counter() - start) / count * 1e6


def rate_line(label: str, rate: float, target: float) -> str:
    return (
        f"{label:44s} {rate:10,.0f} calls/s  {rate / target:5.2f}x of target >= {target:,}  {verdict(rate >= target)}"
    )


def bench_rate(runs: int, seconds: float = 0.5, only: tuple = ()) -> None:
    """output_shape rates: per framework on distinct inputs, a repeated call, and parsing a new call."""
    reference = statistics.median(plain_formula_rate(seconds / 2) for _ in range(runs))
    print(f"load reference: a plain Python formula   {reference:10,.0f} calls/s (same run)")
    for name, calls in FRAMEWORK_CALLS.items():
        if only and name not in only:
            continue
        cases = distinct_cases(calls)
        rate = statistics.median(calls_per_second(cases, seconds) for _ in range(runs))
        print(rate_line(f"output_shape {name}, {len(cases)} distinct inputs", rate, SHAPE_RATE_TARGET))
        print(f"    ({reference / rate:.1f}x slower than the plain formula; {' and '.join(e for e, _ in calls)})")
    repeated = [("nn.Conv2d(3, 8, 3, stride=2, padding=1)", (1, 3, 224, 224), None)]
    rate = statistics.median(calls_per_second(repeated, seconds) for _ in range(runs))
    print(rate_line("output_shape, repeated call", rate, REPEATED_TARGET))
    micros = statistics.median(parse_microseconds(2000) for _ in range(runs))
    floor = statistics.median(ast_parse_microseconds(2000) for _ in range(runs))
    print(
        f"{'parse_call on a never-seen call string':44s} {micros:10.2f} us       "
        f"{micros / PARSE_TARGET_US:5.2f}x of target <= {PARSE_TARGET_US} us  {verdict(micros <= PARSE_TARGET_US)}"
    )
    print(f"    (ast.parse alone takes {floor:.2f} us on these strings, same run)")


NCHW = (1, 3, "h", "w")
NHWC = (1, "h", "w", 3)
SWEEP_CASES = (
    # (label, call, input_shape, shapes, the plain formula to compare with); every grid sweeps
    # h, w in 1..128, k in 1..7, s in 1..4 and p in 0..3 (or 1..4 where p is a dilation or a window)
    ("torch conv", "nn.Conv2d(3, 8, k, stride=s, padding=p)", NCHW, None, "conv"),
    ("torch transposed", "nn.ConvTranspose2d(3, 8, k, stride=s, padding=p)", NCHW, None, "transposed"),
    ("torch pool", "nn.MaxPool2d(k, stride=s, padding=p)", NCHW, None, "conv"),
    ("keras conv", "keras.layers.Conv2D(8, k, strides=s, dilation_rate=p)", NHWC, None, "conv"),
    ("keras transposed", "keras.layers.Conv2DTranspose(8, k, strides=s, output_padding=p)", NHWC, None, "transposed"),
    ("keras pool", "keras.layers.MaxPooling2D((k, p), strides=s, padding='same')", NHWC, None, "conv"),
    ("tf.nn conv", "tf.nn.conv2d(x, w, s, 'VALID', dilations=p)", None,
     {"x": NHWC, "w": ("k", "k", 3, 8)}, "conv"),
    ("tf.nn pool", "tf.nn.max_pool2d(x, (k, p), s, 'SAME')", None, {"x": NHWC}, "conv"),
    ("jax.lax conv", "lax.conv_general_dilated(x, w, (s, s), [(p, p), (p, p)])", None,
     {"x": NCHW, "w": (8, 3, "k", "k")}, "conv"),
    ("jax.lax transposed", "lax.conv_transpose(x, w, (s, s), 'SAME', rhs_dilation=(p, p), "
     "dimension_numbers=('NCHW', 'OIHW', 'NCHW'))", None, {"x": NCHW, "w": (8, 3, "k", "k")}, "transposed"),
    ("onnx conv", "make_node('Conv', ['X', 'W'], ['Y'], strides=[s, s], pads=[p, p, p, p])", None,
     {"X": NCHW, "W": (8, 3, "k", "k")}, "conv"),
    ("onnx transposed", "make_node('ConvTranspose', ['X', 'W'], ['Y'], strides=[s, s], pads=[p, p, p, p])", None,
     {"X": NCHW, "W": (3, 8, "k", "k")}, "transposed"),
    ("onnx pool", "make_node('MaxPool', ['X'], ['Y'], kernel_shape=[k, k], strides=[s, s], pads=[p, p, p, p])", None,
     {"X": NCHW}, "conv"),
)  # fmt: skip
ONE_BASED = ("dilation_rate=p", "dilations=p", "(k, p)", "rhs_dilation=(p, p)")  # p is a dilation or a window


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


def bench_sweep(runs: int, only: tuple[str, ...] = ()) -> None:
    """Sweep rate per case (``only``: the labels starting with one of these words), with the share
    of rows the plan's vector rule gave."""
    from convarith import sweep

    for label, expr, input_shape, shapes, reference in SWEEP_CASES:
        if only and not label.startswith(only):
            continue
        low = 1 if any(marker in expr for marker in ONE_BASED) else 0
        grid = {"h": range(1, 129), "w": range(1, 129), "k": range(1, 8), "s": range(1, 5), "p": range(low, low + 4)}
        count = 128 * 128 * 7 * 4 * 4
        sweep(expr, input_shape, shapes=shapes, h=[8], w=[8], k=[3], s=[1], p=[low])  # warm-up: imports and parse
        rates, plain = [], []
        for _ in range(runs):
            start = time.perf_counter()
            result = sweep(expr, input_shape, shapes=shapes, **grid)
            rates.append(count / (time.perf_counter() - start))
            start = time.perf_counter()
            plain_formula(grid, reference == "transposed")
            plain.append(count / (time.perf_counter() - start))
        rate, reference_rate = statistics.median(rates), statistics.median(plain)
        print(
            f"sweep, {label:18s} {rate:12,.0f} combinations/s  plain NumPy formula {reference_rate:12,.0f}/s  "
            f"ratio {rate / reference_rate:4.2f}  vectorised {result.vector_rows / count:6.1%}  "
            f"target >= {SWEEP_TARGET:,}/s  {verdict(rate >= SWEEP_TARGET)}"
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
    if sys.argv[1:2] == ["rate"]:  # `python benchmarks/run.py rate [framework ...]`: the output_shape part only
        bench_rate(runs=3, only=tuple(sys.argv[2:]))
    elif sys.argv[1:2] == ["sweep"]:  # `python benchmarks/run.py sweep [torch keras ...]`: the sweep part only
        bench_sweep(runs=3, only=tuple(sys.argv[2:]))
    else:
        main()
