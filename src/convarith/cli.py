"""The ``convarith`` command: a thin argparse layer over ``output_shape`` and ``explain``.

    convarith shape "nn.Conv2d(3, 8, 3)" --input 1,3,32,32
    convarith explain "keras.layers.Conv2DTranspose(3, 3, strides=2, padding='same')" --input 1,96,128,3 --json
    convarith forward "nn.Conv2d(3, 8, 3)" --input-file x.npy --weights-file w.npz --at 0,5,7,0 --out y.npy

Exit status: 0 success, 1 refused call or bad input (one ``error:`` line on
stderr), 2 usage error. No arithmetic here; everything comes from the library.
"""

from __future__ import annotations

import argparse
import os
import sys

from .api import map_call
from .errors import ConvArithError

__all__ = ["main"]


def parse_sizes(text: str, what: str) -> tuple[int, ...]:
    """'1,96,128,3' (or '(1, 96, 128, 3)', '1x96x128x3') as a tuple of ints."""
    cleaned = text.strip().strip("()[]").replace("x", ",")
    parts = [part.strip() for part in cleaned.split(",")]
    if parts and parts[-1] == "":
        parts.pop()
    try:
        return tuple(int(part) for part in parts)
    except ValueError:
        raise ConvArithError(f"{what} {text!r} is not a list of ints. Fix: write it like 1,96,128,3.") from None


def parse_named(items: list[str]) -> dict[str, tuple[int, ...]] | None:
    """['x=1,8,8,3', 'w=3,3,3,8'] as {'x': (1, 8, 8, 3), 'w': (3, 3, 3, 8)}."""
    if not items:
        return None
    named = {}
    for item in items:
        name, sep, sizes = item.partition("=")
        if not sep or not name.strip():
            raise ConvArithError(f"--shape {item!r} must be NAME=SIZES. Fix: write it like --shape x=1,8,8,3.")
        named[name.strip()] = parse_sizes(sizes, f"--shape {name.strip()}")
    return named


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convarith",
        description="Exact output shapes of convolution and pooling calls, written as in Keras, PyTorch, "
        "tf.nn, jax.lax or ONNX. Nothing is evaluated and no framework is imported.",
    )
    # prog= spares argparse building a help formatter (and importing shutil) on every run.
    commands = parser.add_subparsers(dest="command", required=True, metavar="{shape,explain,forward}", prog="convarith")
    for name, help_text in (
        ("shape", "print the output shape"),
        ("explain", "print how the output shape comes about, axis by axis"),
    ):
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("expr", help='the call, e.g. "nn.Conv2d(3, 8, 3)"')
        command.add_argument("--input", metavar="SIZES", help="input shape, e.g. 1,3,32,32")
        command.add_argument(
            "--shape",
            action="append",
            default=[],
            metavar="NAME=SIZES",
            help="shape of a tensor named in the call, e.g. x=1,8,8,3 (repeatable)",
        )
        command.add_argument(
            "--output-size", metavar="SIZES", help="output_size for transposed convolutions, e.g. 13,12"
        )
        command.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_forward(commands)
    return parser


def add_forward(commands) -> None:
    """The ``forward`` command: NumPy reference numbers from .npy/.npz files."""
    help_text = "compute the output values with convarith's NumPy reference"
    command = commands.add_parser("forward", help=help_text, description=help_text)
    command.add_argument("expr", help='the call, e.g. "nn.Conv2d(3, 8, 3)"')
    command.add_argument("--input-file", metavar="X.npy", help="the input, in the framework's layout")
    command.add_argument(
        "--weights-file",
        metavar="W.npz|W.npy",
        help="weights in the framework's order (np.savez(path, *weights)) or one .npy array",
    )
    command.add_argument(
        "--array",
        action="append",
        default=[],
        metavar="NAME=FILE.npy",
        help="an array named in a functional call, e.g. x=x.npy (repeatable)",
    )
    command.add_argument("--output-size", metavar="SIZES", help="output_size for transposed modules, e.g. 13,12")
    command.add_argument("--at", metavar="INDEX", help="print the worksheet of one output element, e.g. 0,5,7,0")
    command.add_argument("--out", metavar="Y.npy", help="write the output array here (.npy)")


def load_array(path: str, what: str):
    """A .npy array (no pickles), or ConvArithError naming the file."""
    import numpy as np

    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ConvArithError(f"{what} {path!r} cannot be read as a .npy array: {exc}") from None


def load_weights(path: str) -> list:
    """Weights from a .npz (in the order saved) or a single .npy file."""
    import numpy as np

    if not path.endswith(".npz"):
        return [load_array(path, "--weights-file")]
    try:
        with np.load(path, allow_pickle=False) as archive:
            return [archive[name] for name in archive.files]
    except (OSError, ValueError) as exc:
        raise ConvArithError(f"--weights-file {path!r} cannot be read as a .npz archive: {exc}") from None


def run_forward(args: argparse.Namespace) -> str:
    """Compute, then (only on success) write --out atomically; return the summary."""
    import numpy as np

    from . import forward, trace_element

    x = None if args.input_file is None else load_array(args.input_file, "--input-file")
    weights = None if args.weights_file is None else load_weights(args.weights_file)
    arrays = None
    if args.array:
        arrays = {}
        for item in args.array:
            name, sep, path = item.partition("=")
            if not sep or not name.strip():
                raise ConvArithError(f"--array {item!r} must be NAME=FILE.npy. Fix: write it like --array x=x.npy.")
            arrays[name.strip()] = load_array(path, f"--array {name.strip()}")
    output_size = None if args.output_size is None else parse_sizes(args.output_size, "--output-size")
    if args.out is not None and not args.out.endswith(".npy"):
        raise ConvArithError(f"--out {args.out!r} must end in .npy. Fix: --out y.npy.")
    y = forward(args.expr, x, weights, arrays=arrays, output_size=output_size)
    lines = [
        f"output shape {tuple(y.shape)}, dtype {y.dtype}",
        np.array2string(y, threshold=64, edgeitems=2, precision=5),
    ]
    if y.size:
        lines.insert(1, f"min {y.min():.6g}, max {y.max():.6g}, mean {y.mean():.6g}")
    if args.at is not None:
        index = parse_sizes(args.at, "--at")
        lines.append(str(trace_element(args.expr, index, x, weights, arrays=arrays, output_size=output_size)))
    if args.out is not None:
        partial = f"{args.out}.partial"
        with open(partial, "wb") as handle:
            np.save(handle, y)
        os.replace(partial, args.out)
        lines.append(f"wrote {args.out}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> str:
    """The text to print for parsed arguments; ConvArithError if refused."""
    if args.command == "forward":
        return run_forward(args)
    input_shape = None if args.input is None else parse_sizes(args.input, "--input")
    output_size = None if args.output_size is None else parse_sizes(args.output_size, "--output-size")
    shapes = parse_named(args.shape)
    if args.command == "shape":
        mapped = map_call(args.expr, input_shape, shapes=shapes, output_size=output_size)
        if not args.json:
            return str(mapped.output_shape)
        import json

        return json.dumps(
            {
                "shape": list(mapped.output_shape),
                "input_shape": None if input_shape is None else list(input_shape),
                "framework": mapped.framework,
                "call": mapped.call.text,
            }
        )
    from .api import explain

    explanation = explain(args.expr, input_shape, shapes=shapes, output_size=output_size)
    if not args.json:
        return str(explanation)
    import json

    return json.dumps(explanation.to_dict(), indent=2)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``convarith`` and ``python -m convarith``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        text = run(args)
    except ConvArithError as exc:
        message = " ".join(str(exc).split())
        print(f"error: {message}", file=sys.stderr)
        return 1
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `convarith explain ... | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
