"""convarith.forward against PyTorch CPU on common layers: time ratio, memory ratio, same numbers.

Each row runs the layer in torch (no_grad) and in convarith.forward on the same float32 input
and weights and prints the max abs difference. Times are medians of RUNS calls:

- "1 thread": torch.set_num_threads(1) and OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=1 in the
  subprocess's environment before NumPy is imported (threadpoolctl, when installed, confirms
  it); torch and convarith called in turn in one subprocess, the ratio is the median of the
  ratios of adjacent calls, so that both see the same machine load;
- "default": both libraries at their own default thread count, each side timed in its own
  subprocess (in one process torch's spinning OpenMP workers would take the cores from
  OpenBLAS's threads); the ratio is that of the medians.

Peak memory: each side runs the layer once in its own fresh subprocess (one thread) after a
warm-up on a small input of the same layer; the figure is the peak resident set during that
call (VmHWM, reset through /proc/self/clear_refs just before it) minus the resident set before
it, which counts torch's allocator and NumPy alike. MALLOC_MMAP_THRESHOLD_ is fixed at 64 KiB
there so that freed large blocks go back to the system and a reused block is counted again.
The NumPy side also reports its tracemalloc peak (NumPy's own allocations only). Peaks
under MEMORY_FLOOR on both sides count as within target: there page granularity and the
allocators' caches decide the ratio.

Every subprocess runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from its
environment (they slow a current NumPy; the parent's environment is left as it is).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

TIME_TARGET = 2.0  # convarith time <= 2x torch's, per row and thread setting
MEMORY_TARGET = 2.0  # convarith peak memory growth <= 2x torch's
MEMORY_FLOOR = 2**20  # peaks below 1 MiB on both sides are within target (pages, allocator caches)
RUNS = 15
# (label, torch module expression, input shape)
ROWS = (
    ("3x3 conv 64->64, 128^2", "nn.Conv2d(64, 64, 3, padding=1)", (1, 64, 128, 128)),
    ("1x1 conv 256->64, 56^2", "nn.Conv2d(256, 64, 1)", (1, 256, 56, 56)),
    ("7x7 s2 stem 3->64, 224^2", "nn.Conv2d(3, 64, 7, stride=2, padding=3)", (1, 3, 224, 224)),
    ("3x3 s2 conv 64->128, 112^2", "nn.Conv2d(64, 128, 3, stride=2, padding=1)", (1, 64, 112, 112)),
    ("5x5 conv 32->32, 128^2", "nn.Conv2d(32, 32, 5, padding=2)", (1, 32, 128, 128)),
    ("depthwise 3x3, 128x56^2", "nn.Conv2d(128, 128, 3, padding=1, groups=128)", (1, 128, 56, 56)),
    ("depthwise 3x3 s2, 128x112^2", "nn.Conv2d(128, 128, 3, stride=2, padding=1, groups=128)", (1, 128, 112, 112)),
    ("groups=4 3x3 64->64, 128^2", "nn.Conv2d(64, 64, 3, padding=1, groups=4)", (1, 64, 128, 128)),
    ("dilation 2 3x3 64->64, 128^2", "nn.Conv2d(64, 64, 3, padding=2, dilation=2)", (1, 64, 128, 128)),
    ("batch 8 3x3 conv 64->64, 56^2", "nn.Conv2d(64, 64, 3, padding=1)", (8, 64, 56, 56)),
    ("ConvTranspose2d 4x4 s2 64->32", "nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)", (1, 64, 64, 64)),
    ("Conv1d k=9 32->32, 16000", "nn.Conv1d(32, 32, 9, padding=4)", (1, 32, 16000)),
    ("Conv3d 3x3x3 16->32, 16x32^2", "nn.Conv3d(16, 32, 3, padding=1)", (1, 16, 16, 32, 32)),
    ("MaxPool2d 3 s2 p1, 64x112^2", "nn.MaxPool2d(3, stride=2, padding=1)", (1, 64, 112, 112)),
    ("AvgPool2d 3 s2 p1, 64x112^2", "nn.AvgPool2d(3, stride=2, padding=1)", (1, 64, 112, 112)),
    ("AvgPool2d 2, 64x112^2", "nn.AvgPool2d(2)", (1, 64, 112, 112)),
    ("AdaptiveAvgPool2d 1, 8x2048x7^2", "nn.AdaptiveAvgPool2d(1)", (8, 2048, 7, 7)),
)
UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def child_env(one_thread: bool) -> dict[str, str]:
    """The parent's environment without the OpenBLAS tuning variables, and with or
    without every BLAS/OpenMP thread limit."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET and k not in THREAD_VARS}
    if one_thread:
        env.update(dict.fromkeys(THREAD_VARS, "1"))
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def run_child(args: list[str], one_thread: bool):
    """Run this file with ``args`` in a fresh subprocess; its last stdout line is JSON."""
    env = child_env(one_thread)
    if args[0] == "--memory":
        env["MALLOC_MMAP_THRESHOLD_"] = str(2**16)
    done = subprocess.run(
        [sys.executable, os.path.abspath(__file__), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child {args} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def build(expr: str, shape):
    """The torch module, its input (NumPy and torch) and its weights as NumPy arrays."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    module = eval(expr, {"nn": nn})  # benchmark: builds the torch module being timed
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    weights = [p.detach().numpy() for p in module.parameters()]
    return module, x, torch.from_numpy(x), weights


def blas_info() -> str:
    """Which OpenBLAS kernel NumPy runs and with how many threads (threadpoolctl if installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return ", ".join(
                f"{p['internal_api']} {p.get('version')} kernel {p.get('architecture')} "
                f"{p['num_threads']} threads (threadpoolctl)"
                for p in pools
            )
    import ctypes
    import glob

    libs = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "libscipy_openblas*.so"))
    if not libs:
        return f"unknown (NumPy {np.__version__}; threadpoolctl not installed)"
    lib = ctypes.CDLL(libs[0])
    for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""), ("openblas_", "")):
        corename = getattr(lib, f"{prefix}get_corename{suffix}", None)
        threads = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
        if corename is not None and threads is not None:
            corename.restype = ctypes.c_char_p
            return f"OpenBLAS kernel {corename().decode()}, {threads()} threads (read with ctypes)"
    return f"unknown (NumPy {np.__version__})"


def interleaved_times(functions: dict, runs: int = RUNS) -> dict:
    """Seconds of each of ``runs`` calls of each function, called in turn (after one warm-up)."""
    times = {name: [] for name in functions}
    for function in functions.values():
        function()
    for _ in range(runs):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return times


def child_times(one_thread: bool, sides: list[str]) -> dict:
    """Per row: the call times of each side in ``sides`` (torch, convarith), and the max abs
    difference of their results (torch's computed after the timing, so that its threads do
    not compete with NumPy's while convarith is timed)."""
    import torch

    import convarith

    if one_thread:
        torch.set_num_threads(1)
    rows = []
    for _label, expr, shape in ROWS:
        module, x, x_torch, weights = build(expr, shape)
        calls = {
            "torch": lambda m=module, t=x_torch: m(t),
            "convarith": lambda e=expr, a=x, w=weights: convarith.forward(e, a, w),
        }
        with torch.no_grad():
            row = interleaved_times({side: calls[side] for side in sides})
            row["diff"] = float(np.abs(convarith.forward(expr, x, weights) - module(x_torch).numpy()).max())
        rows.append(row)
    from convarith.reference import engine, kernels

    return {
        "rows": rows,
        "blas": blas_info(),
        "torch_threads": torch.get_num_threads(),
        "compiled": kernels.compiled_tap_sum() is not None,
        "threads": engine.worker_threads(),
    }


def resident_kib() -> tuple[int, int]:
    """(current, peak) resident set of this process in KiB, from /proc/self/status."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def child_memory(index: int, side: str) -> dict:
    """Peak resident-set growth (bytes) of one call of row ``index`` on ``side``: the peak
    is reset (/proc/self/clear_refs) just before the call, after a warm-up on a small input."""
    import tracemalloc

    _label, expr, shape = ROWS[index]
    small = shape[:2] + tuple(min(s, 9) for s in shape[2:])
    if side == "torch":
        import torch

        torch.set_num_threads(1)
        module, _x, x_torch, _weights = build(expr, shape)
        call = lambda: module(x_torch)  # noqa: E731
        with torch.no_grad():
            module(build(expr, small)[2])
        traced = None
    else:
        import convarith

        _module, x, _x_torch, weights = build(expr, shape)
        call = lambda: convarith.forward(expr, x, weights)  # noqa: E731
        convarith.forward(expr, np.zeros(small, np.float32), weights)
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    before, _ = resident_kib()
    if side == "torch":
        with torch.no_grad():
            call()
    else:
        tracemalloc.start()
        call()
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    _, peak = resident_kib()
    return {"rss": (peak - before) * 1024, "traced": traced}


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    """Print the table: per row, time ratios at 1 and default threads, memory ratio, difference."""
    load = os.getloadavg()
    single = run_child(["--times", "1", "torch,convarith"], one_thread=True)
    default = {side: run_child(["--times", "default", side], one_thread=False) for side in ("torch", "convarith")}
    print(f"forward vs torch CPU (numerics): NumPy BLAS at 1 thread: {single['blas']}")
    print(f"  default threads: {default['convarith']['blas']}; torch threads {default['torch']['torch_threads']}")
    ours = default["convarith"]
    compiled = "compiled (numba, convarith[fast])" if ours["compiled"] else "NumPy einsums (numba not installed)"
    print(f"  depthwise loops: {compiled}; convarith threads {single['threads']} / {ours['threads']} (default)")
    print(f"  env of the measuring subprocesses: {', '.join(UNSET)} unset; load average before {load[0]:.2f}")
    print(
        f"  {'layer':32s} {'1 thread ms (ours/torch)':>25s} {'ratio':>6s}  {'default ms':>15s} {'ratio':>6s}"
        f"  {'peak MiB (ours/torch)':>22s} {'ratio':>6s}  max|diff|  target <= {TIME_TARGET}x time, "
        f"<= {MEMORY_TARGET}x memory (or both under {MEMORY_FLOOR // 2**20} MiB)"
    )
    for index, (label, _expr, _shape) in enumerate(ROWS):
        one = single["rows"][index]
        ours_one, torch_one = statistics.median(one["convarith"]), statistics.median(one["torch"])
        ratio_one = statistics.median(a / b for a, b in zip(one["convarith"], one["torch"]))
        ours_many = statistics.median(default["convarith"]["rows"][index]["convarith"])
        torch_many = statistics.median(default["torch"]["rows"][index]["torch"])
        ratio_many = ours_many / torch_many
        diff = max(one["diff"], default["convarith"]["rows"][index]["diff"])
        ours_mem = run_child(["--memory", str(index), "convarith"], one_thread=True)
        torch_mem = run_child(["--memory", str(index), "torch"], one_thread=True)
        memory_ratio = ours_mem["rss"] / max(torch_mem["rss"], 1)
        misses = [
            what
            for what, ok in (
                ("1 thread", ratio_one <= TIME_TARGET),
                ("default threads", ratio_many <= TIME_TARGET),
                ("memory", memory_ratio <= MEMORY_TARGET or max(ours_mem["rss"], torch_mem["rss"]) < MEMORY_FLOOR),
            )
            if not ok
        ]
        print(
            f"  {label:32s} {ours_one * 1e3:11.2f} / {torch_one * 1e3:8.2f} {ratio_one:5.2f}x "
            f" {ours_many * 1e3:6.2f} / {torch_many * 1e3:6.2f} {ratio_many:5.2f}x "
            f" {ours_mem['rss'] / 2**20:7.1f} / {torch_mem['rss'] / 2**20:6.1f} "
            f"(traced {ours_mem['traced'] / 2**20:5.1f}) {memory_ratio:5.2f}x  "
            f"{diff:.1e}  {verdict(not misses)}{' (' + ', '.join(misses) + ')' if misses else ''}"
        )
    print(f"  load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--times"]:
        print(json.dumps(child_times(sys.argv[2] == "1", sys.argv[3].split(","))))
    elif sys.argv[1:2] == ["--memory"]:
        print(json.dumps(child_memory(int(sys.argv[2]), sys.argv[3])))
    else:
        main()
