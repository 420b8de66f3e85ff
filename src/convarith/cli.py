"""The ``convarith`` command: a thin argparse layer over ``output_shape`` and ``explain``.

    convarith shape "nn.Conv2d(3, 8, 3)" --input 1,3,32,32
    convarith explain "keras.layers.Conv2DTranspose(3, 3, strides=2, padding='same')" --input 1,96,128,3 --json

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
    commands = parser.add_subparsers(dest="command", required=True, metavar="{shape,explain}", prog="convarith")
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
    return parser


def run(args: argparse.Namespace) -> str:
    """The text to print for parsed arguments; ConvArithError if refused."""
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
