"""The parent side of the fuzz run: a long-lived child under a memory limit, a time bound per call,
and the CLI run as a real process under the same limits.

The child is killed and started again when it does not answer in time or dies; both are findings.
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import struct
import subprocess
import sys
from pathlib import Path

CHILD = Path(__file__).with_name("child.py")
SRC = Path(__file__).resolve().parents[2] / "src"
MEMORY_LIMIT = int(os.environ.get("CONVARITH_FUZZ_MEMORY", 3 * 2**30))  # address space; NumPy needs ~1 GiB of it
TIME_LIMIT = float(os.environ.get("CONVARITH_FUZZ_SECONDS", 10))
ENV = dict(
    os.environ,
    OPENBLAS_NUM_THREADS="1",
    OMP_NUM_THREADS="1",
    MKL_NUM_THREADS="1",
    PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
)


def examples(default: int) -> int:
    """$CONVARITH_FUZZ_EXAMPLES (the long run of `make fuzz`), else ``default`` (bounded for `make test`)."""
    return int(os.environ.get("CONVARITH_FUZZ_EXAMPLES", default))


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


class Child:
    """``run(request)`` -> the child's answer, or {"bad": ...} if it timed out or died."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD), str(MEMORY_LIMIT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=ENV,
        )
        answer = self.send({"ping": True}, timeout=120)
        if not answer.get("ready"):
            raise RuntimeError(f"fuzz child did not start: {answer}")

    def run(self, request: dict) -> dict:
        if self.process is None or self.process.poll() is not None:
            self.start()
        return self.send(request, TIME_LIMIT)

    def send(self, request: dict, timeout: float) -> dict:
        data = pickle.dumps(request)
        try:
            self.process.stdin.write(struct.pack("<Q", len(data)) + data)
            self.process.stdin.flush()
            header = self.read(8, timeout)
            return pickle.loads(self.read(struct.unpack("<Q", header)[0], timeout))
        except TimeoutError:
            self.kill()
            return {"bad": f"no answer within {timeout:g} s (child killed)"}
        except (BrokenPipeError, EOFError):
            code = self.process.wait()
            self.process = None
            return {"bad": f"child died with exit code {code}"}

    def read(self, count: int, timeout: float) -> bytes:
        chunks, fd = [], self.process.stdout.fileno()
        while count:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, count)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None


def run_cli(argv: list[str], cwd: str) -> subprocess.CompletedProcess | None:
    """``python -m convarith ARGV`` under the memory limit; None if it ran out of time."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "convarith", *argv],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIME_LIMIT + 20,  # + start-up of a fresh interpreter on a busy machine
            cwd=cwd,
            env=ENV,
            preexec_fn=limit_memory,
        )
    except subprocess.TimeoutExpired:
        return None


def reproducer(request: dict) -> str:
    """The failing request: arrays and files are specs, rebuilt exactly by tests/fuzz/child.py."""
    return f"answer_for({request!r}, scratch_dir)  # in tests/fuzz/child.py"
