"""Worker subprocess: runs calls in one real framework, answering over pipes.

Started as ``python worker.py FRAMEWORK``. Each request and answer is a
pickled dict behind an 8-byte length. The framework's own printing goes to
stderr so that stdout carries only answers.
"""

import importlib
import os
import pickle
import struct
import sys
import traceback


def main() -> None:
    framework = sys.argv[1]
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    runner = importlib.import_module(f"runners.{framework}")
    requests = sys.stdin.buffer
    while True:
        header = requests.read(8)
        if len(header) < 8:
            return
        request = pickle.loads(requests.read(struct.unpack("<Q", header)[0]))
        try:
            answer = runner.run(request)
        except Exception as exc:  # noqa: BLE001 - every framework error is an answer
            message = str(exc).strip() or type(exc).__name__
            answer = {"error": f"{type(exc).__name__}: {message}", "trace": traceback.format_exc(limit=3)}
        data = pickle.dumps(answer)
        answers.write(struct.pack("<Q", len(data)) + data)
        answers.flush()


if __name__ == "__main__":
    main()
