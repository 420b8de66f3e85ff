"""The real frameworks, each in a long-lived worker subprocess.

A framework can kill its process (TensorFlow raises SIGFPE on some empty
VALID pooling windows), so calls go to a worker; a dead worker is reported
as ``{"crash": ...}`` and started again for the next call.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

WORKER = Path(__file__).with_name("worker.py")
FRAMEWORKS = ("torch", "keras", "tf_nn", "jax_lax", "onnx")


class Oracle:
    """One framework's worker; ``run(request)`` returns the framework's answer."""

    def __init__(self, framework: str):
        self.framework = framework
        self.process: subprocess.Popen | None = None
        self.log = None

    def start(self) -> None:
        env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu")
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker: its stderr, read when it dies
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), self.framework],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
        )

    def run(self, request: dict) -> dict:
        if self.process is None or self.process.poll() is not None:
            self.start()
        data = pickle.dumps(request)
        try:
            self.process.stdin.write(struct.pack("<Q", len(data)) + data)
            self.process.stdin.flush()
            header = self.process.stdout.read(8)
            if len(header) < 8:
                raise BrokenPipeError
            return pickle.loads(self.process.stdout.read(struct.unpack("<Q", header)[0]))
        except BrokenPipeError:
            code = self.process.wait()
            self.process = None
            said = " ".join(self.last_words().split()[-60:])
            return {"crash": f"worker died with exit code {code}" + (f"; its last words: {said}" if said else "")}

    def last_words(self, limit: int = 2000) -> str:
        """The end of a dead worker's stderr (why it died); the log is closed."""
        self.log.seek(0, os.SEEK_END)
        self.log.seek(max(self.log.tell() - limit, 0))
        text = self.log.read().decode(errors="replace")
        self.log.close()
        return text

    def check_importable(self) -> None:
        """Fail (never skip) when the framework cannot be imported."""
        answer = self.run({"ping": True})
        if "crash" in answer or "error" in answer:
            raise RuntimeError(f"{self.framework} worker could not start: {answer}")

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        self.process = None
        if self.log is not None:
            self.log.close()
