"""The child process of ``Translation.prove``: ``python -m convarith.translate.prove_child DIR``.

DIR holds ``source.py`` and ``translation.py`` (code convarith generated, each defining ``layer``) and
``arrays.pkl`` ((args, kwargs), written by the parent). Each file is imported as a module and its
``layer`` called on the arrays; the results go to ``source.npy`` and ``translation.npy``. A framework
that fails or crashes does so here, not in the caller's process.
"""

from __future__ import annotations

import importlib.util
import pickle
import sys
from pathlib import Path

import numpy as np


def run(directory: Path, name: str, args: tuple, kwargs: dict) -> None:
    spec = importlib.util.spec_from_file_location(f"convarith_{name}", directory / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    np.save(directory / f"{name}.npy", np.asarray(module.layer(*args, **kwargs)), allow_pickle=False)


def main() -> None:
    directory = Path(sys.argv[1])
    args, kwargs = pickle.loads((directory / "arrays.pkl").read_bytes())  # written by the parent, just now
    for name in ("source", "translation"):
        run(directory, name, args, kwargs)


if __name__ == "__main__":
    main()
