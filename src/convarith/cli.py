"""The ``convarith`` command: a thin argparse layer over ``output_shape`` and ``explain``.

    convarith shape "nn.Conv2d(3, 8, 3)" --input 1,3,32,32
    convarith explain "keras.layers.Conv2DTranspose(3, 3, strides=2, padding='same')" --input 1,96,128,3 --json
    convarith forward "nn.Conv2d(3, 8, 3)" --input-file x.npy --weights-file w.npz --at 0,5,7,0 --out y.npy

Exit status: 0 success, 1 refused call or bad input (one ``error:`` line on
stderr), 2 usage error. No arithmetic here; everything comes from the library.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings

from .api import map_call
from .errors import ConvArithError

__all__ = ["main"]


def parse_sizes(text: str, what: str, batch_none: bool = False) -> tuple:
    """'1,96,128,3' (or '(1, 96, 128, 3)', '1x96x128x3') as a tuple of ints; with ``batch_none``
    the first entry may be None (a Keras batch: 'None,200,2')."""
    cleaned = text.strip().strip("()[]").replace("x", ",")
    parts = [part.strip() for part in cleaned.split(",")]
    if parts and parts[-1] == "":
        parts.pop()
    if batch_none and len(parts) > 1 and parts[0] == "None":
        return (None, *parse_sizes(",".join(parts[1:]), what))
    try:
        return tuple(int(part) for part in parts)
    except ValueError:
        raise ConvArithError(
            f"{what} {text!r} is not a list of ints. Rule: sizes are ints separated by commas. "
            "Fix: write it like 1,96,128,3."
        ) from None


def parse_named(items: list[str]) -> dict[str, tuple[int, ...]] | None:
    """['x=1,8,8,3', 'w=3,3,3,8'] as {'x': (1, 8, 8, 3), 'w': (3, 3, 3, 8)}."""
    if not items:
        return None
    named = {}
    for item in items:
        name, sep, sizes = item.partition("=")
        if not sep or not name.strip():
            raise ConvArithError(
                f"--shape {item!r} must be NAME=SIZES. Rule: each --shape gives one tensor of the call its shape. "
                "Fix: write it like --shape x=1,8,8,3."
            )
        named[name.strip()] = parse_sizes(sizes, f"--shape {name.strip()}", batch_none=True)  # solve keeps it free
    return named


class Formatter(argparse.HelpFormatter):
    """argparse's help formatter, sized like shutil.get_terminal_size() without importing
    shutil (argparse builds a formatter for every argument added: shutil was on start-up)."""

    def __init__(self, prog: str, **kwargs) -> None:
        kwargs.setdefault("width", terminal_columns() - 2)
        super().__init__(prog, **kwargs)


def terminal_columns() -> int:
    """$COLUMNS, else the terminal's width, else 80 (shutil.get_terminal_size's rule)."""
    try:
        columns = int(os.environ.get("COLUMNS", 0))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or (``command`` one of COMMANDS) of that command alone: a run
    builds only the parser it uses, since argparse's parsers cost about 0.4 ms each at start-up
    (gettext looks up translations for each); a name that is no command gets them all, so that
    --help and argparse's "invalid choice" list every one."""
    parser = argparse.ArgumentParser(
        prog="convarith",
        formatter_class=Formatter,
        description="Exact output shapes of convolution and pooling calls, written as in Keras, PyTorch, "
        "tf.nn, jax.lax or ONNX. Nothing is evaluated and no framework is imported.",
    )
    # prog= spares argparse building a help formatter (and importing shutil) on every run.
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{" + ",".join(COMMANDS) + "}", prog="convarith"
    )
    for name, (help_text, add_arguments) in COMMANDS.items():
        if command not in COMMANDS or command == name:
            add_arguments(commands.add_parser(name, help=help_text, description=help_text, formatter_class=Formatter))
    return parser


def shape_arguments(command) -> None:
    """The ``shape`` and ``explain`` commands: the call, its inputs and --json."""
    add_call_arguments(command)
    command.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_call_arguments(command, expr_help: str = 'the call, e.g. "nn.Conv2d(3, 8, 3)"', output_size: bool = True):
    """The call and what it is applied to: EXPR, --input, --shape (repeatable), --output-size."""
    command.add_argument("expr", help=expr_help)
    command.add_argument("--input", metavar="SIZES", help="input shape, e.g. 1,3,32,32 (a None batch: None,200,2)")
    command.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="NAME=SIZES",
        help="shape of a tensor named in the call, e.g. x=1,8,8,3 (repeatable)",
    )
    if output_size:
        command.add_argument(
            "--output-size", metavar="SIZES", help="output_size for transposed convolutions, e.g. 13,12"
        )


def call_arguments(args: argparse.Namespace) -> dict:
    """The input_shape, shapes and output_size keyword arguments of ``add_call_arguments``' options."""
    given = {
        "input_shape": None if args.input is None else parse_sizes(args.input, "--input", batch_none=True),
        "shapes": parse_named(args.shape),
    }
    if getattr(args, "output_size", None) is not None:
        given["output_size"] = parse_sizes(args.output_size, "--output-size")
    return given


def solve_arguments(command) -> None:
    """The ``solve`` command: the values of the call's ``...`` arguments that give a target shape."""
    add_call_arguments(
        command, 'the call with unknowns as ..., e.g. "nn.Conv2d(3, 8, kernel_size=..., stride=...)"', output_size=False
    )
    command.add_argument("--target", required=True, metavar="SIZES", help="the output shape wanted, e.g. 1,8,16,16")
    command.add_argument(
        "--search", action="append", default=[], metavar="NAME=V1,V2",
        help="values to try for one parameter, e.g. stride=1,2,3 or padding=valid,same (repeatable)",
    )  # fmt: skip
    command.add_argument("--limit", type=int, default=10, help="at most this many answers (default 10)")
    command.add_argument("--json", action="store_true", help="print JSON instead of text")


def trace_arguments(command) -> None:
    """The ``trace`` command: every layer of a model file, as a table."""
    command.add_argument("file", help="a Keras model JSON (model.to_json()) or a convarith layer list (YAML/JSON)")
    command.add_argument("--input", metavar="SIZES", help="input shape, e.g. 1,224,224,3 (default: the model's own)")
    command.add_argument("--json", action="store_true", help="print JSON instead of the table")


def run_trace(args: argparse.Namespace) -> str:
    from .tracing import trace

    if not os.path.isfile(args.file):
        raise ConvArithError(f"trace: no file {args.file!r}. Rule: FILE is a model file. Fix: the path of one.")
    traced = trace(args.file, None if args.input is None else parse_sizes(args.input, "--input"))
    if args.json:
        import json

        return json.dumps(traced.to_dict(), indent=2)
    return str(traced)


def parse_search(items: list[str]) -> dict | None:
    """['stride=1,2', "padding=valid,same"] as {'stride': [1, 2], 'padding': ['valid', 'same']}."""
    if not items:
        return None
    search = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not name.strip() or not values.strip():
            raise ConvArithError(f"--search {item!r} must be NAME=V1,V2. Fix: write it like --search stride=1,2.")
        search[name.strip()] = [int(v) if v.strip().lstrip("-").isdigit() else v.strip().strip("'\"")
                                for v in values.split(",")]  # fmt: skip
    return search


def run_solve(args: argparse.Namespace) -> str:
    from .solver import solve

    answers = solve(
        args.expr,
        **call_arguments(args),
        target=parse_sizes(args.target, "--target", batch_none=True),
        search=parse_search(args.search),
        limit=args.limit,
    )
    if args.json:
        import json

        return json.dumps([{"expr": a.expr, "params": a.params, "shape": list(a.output_shape)} for a in answers])
    width = max(len(a.expr) for a in answers)
    return "\n".join(f"{a.expr.ljust(width)}  -> {a.output_shape}" for a in answers)


def valid_sizes_arguments(command) -> None:
    """The ``valid-sizes`` command: the input sizes a list of calls, or a model file, takes without silent cropping."""
    command.add_argument(
        "calls",
        nargs="+",
        help='the calls in order, e.g. "nn.MaxPool2d(2)" "nn.Upsample(scale_factor=2)", or one '
        "model file trace reads (Keras JSON, .onnx, a layer list .yaml/.json)",
    )
    command.add_argument("--input", required=True, metavar="SIZES",
                         help="input shape, e.g. 1,3,H,64 (a name other than the varied size stands for --max)")  # fmt: skip
    command.add_argument("--axis", type=int, help="the index of the varied size (default: the entry written as a name)")
    command.add_argument("--max", type=int, default=1024, metavar="N", help="try the sizes 1..N (default 1024)")
    command.add_argument("--every-layer", action="store_true",
                         help="each layer must read every cell of its own input too (no feature map cropped)")  # fmt: skip
    command.add_argument("--json", action="store_true", help="print JSON instead of text")


def run_valid_sizes(args: argparse.Namespace) -> str:
    from .valid import valid_sizes

    parts = [part.strip() for part in args.input.strip().strip("()[]").split(",") if part.strip()]
    named = [i for i, part in enumerate(parts) if not part.lstrip("-").isdigit()]
    axis = args.axis if args.axis is not None else named[0] if len(named) == 1 else None
    if axis is None:
        raise ConvArithError(
            f"--input {args.input!r} names {len(named)} sizes and no --axis is given. Rule: the varied size is "
            "given by --axis or as the one name in --input. Fix: --input 1,3,H,64, or --axis 2."
        )
    top = max(args.max, 1)
    shape = tuple(top if i in named else int(part) for i, part in enumerate(parts))  # a name: a size taken whole
    model = args.calls[0] if len(args.calls) == 1 and os.path.isfile(args.calls[0]) else args.calls
    found = valid_sizes(model, shape, axis=axis, sizes=range(1, top + 1), every_layer=args.every_layer)
    if args.json:
        import json

        fields = ("sizes", "rule", "modulus", "residue", "residues", "minimum", "round_trip", "axis")
        return json.dumps(
            {name: getattr(found, name) for name in fields} | {"removed": [list(r) for r in found.removed]}
        )
    return str(found)


def translate_arguments(command) -> None:
    """The ``translate`` command: the call, the target framework, --prove and --json."""
    add_call_arguments(command)
    command.add_argument("--to", required=True, metavar="FRAMEWORK", help="keras, torch, tf, jax or onnx")
    command.add_argument("--prove", action="store_true", help="run both frameworks on random arrays (both installed)")
    command.add_argument("--json", action="store_true", help="print JSON instead of the code")


def compare_arguments(command) -> None:
    """The ``compare`` command: the call, its inputs and --json."""
    add_call_arguments(command)
    command.add_argument("--json", action="store_true", help="print JSON instead of the table")


def run_translate(args: argparse.Namespace) -> str:
    from .translate import translate

    translation = translate(args.expr, args.to, **call_arguments(args))
    difference = translation.prove() if args.prove else None
    if args.json:
        import json

        return json.dumps(translation.to_dict() | ({"max_abs_difference": difference} if args.prove else {}))
    if not args.prove:
        return str(translation)
    return (
        f"{translation}\n# proven: both frameworks run on random input and weights (seed 0), "
        f"max |difference| = {difference:.3g}"
    )


def run_compare(args: argparse.Namespace) -> str:
    from .translate import compare

    comparison = compare(args.expr, **call_arguments(args))
    if args.json:
        import json

        return json.dumps(comparison.to_dict())
    return str(comparison)


def serve_arguments(command) -> None:
    """The ``serve`` command: the local web page (the optional extra convarith[web])."""
    command.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    command.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    command.add_argument("--open", action="store_true", help="open the page in a browser")


def run_serve(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; a host other than loopback is served with a warning."""
    from .web import serve

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: serving on {args.host}: anyone who can reach this address can use the page",
            file=sys.stderr,
        )
    serve(args.host, args.port, args.open)
    return 0


def forward_arguments(command) -> None:
    """The ``forward`` command: NumPy reference numbers from .npy/.npz files."""
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
    command.add_argument(
        "--max-bytes", metavar="N", help="memory budget in bytes for files and intermediates (default 512 MiB)"
    )


def run_forward(args: argparse.Namespace) -> str:
    """Compute, then (only on success) write --out atomically; return the summary."""
    import numpy as np

    from . import forward, trace_element
    from .reference.engine import max_bytes
    from .reference.files import load_array, load_arrays

    limit = None if args.max_bytes is None else max_bytes(parse_count(args.max_bytes))
    if args.out is not None:
        check_out(args.out)
    x = None if args.input_file is None else load_array(args.input_file, "--input-file", limit)
    weights = None if args.weights_file is None else load_arrays(args.weights_file, "--weights-file", limit)
    arrays = None
    if args.array:
        arrays = {}
        for item in args.array:
            name, sep, path = item.partition("=")
            if not sep or not name.strip():
                raise ConvArithError(
                    f"--array {item!r} must be NAME=FILE.npy. Rule: each --array gives one tensor of the call its "
                    "values. Fix: write it like --array x=x.npy."
                )
            arrays[name.strip()] = load_array(path, f"--array {name.strip()}", limit)
    output_size = None if args.output_size is None else parse_sizes(args.output_size, "--output-size")
    y = forward(args.expr, x, weights, arrays=arrays, output_size=output_size, max_bytes=limit)
    lines = [
        f"output shape {tuple(y.shape)}, dtype {y.dtype}",
        np.array2string(y, threshold=64, edgeitems=2, precision=5),
    ]
    if y.size:
        lines.insert(1, f"min {y.min():.6g}, max {y.max():.6g}, mean {y.mean():.6g}")
    if args.at is not None:
        index = parse_sizes(args.at, "--at")
        sheet = trace_element(args.expr, index, x, weights, arrays=arrays, output_size=output_size, max_bytes=limit)
        lines.append(str(sheet))
    if args.out is not None:
        write_npy(args.out, y)
        lines.append(f"wrote {args.out}")
    return "\n".join(lines)


def parse_count(text: str):
    """'1073741824' as an int; anything else is passed on for max_bytes() to refuse."""
    try:
        return int(text)
    except ValueError:
        return text


def check_out(path: str) -> None:
    """Refuse an --out that cannot be written, before any work is done."""
    if not path.endswith(".npy"):
        raise ConvArithError(
            f"--out {path!r} must end in .npy. Rule: the output is a NumPy .npy file. Fix: --out y.npy."
        )
    check_target(path, "--out", "y.npy")


def check_target(path: str, option: str, example: str) -> None:
    """Refuse an output file that cannot be written (a folder, a missing or read-only folder)."""
    folder = os.path.dirname(path) or "."
    if os.path.isdir(path):
        raise ConvArithError(
            f"{option} {path!r} is a folder. Rule: {option} names the file to write. Fix: name a file inside it, "
            f"e.g. {os.path.join(path, example)!r}."
        )
    if not os.path.isdir(folder):
        raise ConvArithError(
            f"{option} {path!r}: the folder {folder!r} does not exist. Rule: {option} writes into an existing folder. "
            "Fix: create it first."
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConvArithError(
            f"{option} {path!r}: the folder {folder!r} is not writable. Rule: {option} needs write access to its "
            "folder. Fix: write somewhere else."
        )


def write_npy(path: str, array) -> None:
    """Write ``array`` as .npy to ``path`` atomically (``write_atomic``)."""
    import numpy as np

    write_atomic(path, lambda stream: np.save(stream, array), "--out")


def write_atomic(path: str, write, option: str) -> None:
    """Call ``write(stream)`` on a temporary .partial file next to ``path``, then rename it over ``path``.
    On any failure (or Ctrl-C) the partial file is removed and ``path`` is left as it was."""
    import tempfile

    folder, name = os.path.split(path)
    partial = None
    try:
        handle, partial = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=folder or ".")
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(partial, path)
        partial = None
    except OSError as exc:
        raise ConvArithError(
            f"{option} {path!r} cannot be written: {exc.strerror or exc}. Rule: the system must accept the file. "
            "Fix: write somewhere else."
        ) from None
    finally:
        if partial is not None:
            with contextlib.suppress(OSError):
                os.unlink(partial)


DRAW_SUFFIXES = {".svg": "svg", ".gif": "gif", ".txt": "ascii"}


def draw_arguments(command) -> None:
    """The ``draw`` command: a picture of the call (text on stdout, or a file with -o)."""
    add_call_arguments(command)
    command.add_argument(
        "--fmt", choices=("svg", "ascii", "gif"), help="default: from -o's suffix (.svg, .gif, .txt), else ascii"
    )
    command.add_argument("-o", "--output", metavar="FILE", help="write the picture here (replaced atomically)")
    command.add_argument("--at", metavar="INDEX", help="the output cell whose kernel footprint is drawn, e.g. 0,3")
    command.add_argument("--axes", metavar="AXES", help="the spatial axes drawn, e.g. 0,1 or height,width")
    command.add_argument("--view", choices=("forward", "scatter"), default="forward", help="for transposed convs")


def run_draw(args: argparse.Namespace) -> str:
    """The picture as text, or (with -o) written to the file only when drawing succeeded."""
    from .render import draw

    fmt = args.fmt
    if args.output is not None:
        check_target(args.output, "-o", "picture.svg")
        fmt = fmt or DRAW_SUFFIXES.get(os.path.splitext(args.output)[1].lower())
        if fmt is None:
            raise ConvArithError(
                f"-o {args.output!r}: the format is not known from its suffix. Rule: .svg, .gif or .txt name "
                "the format. Fix: add --fmt svg (or ascii, gif), or name the file picture.svg."
            )
    fmt = fmt or "ascii"
    if fmt == "gif" and args.output is None:
        raise ConvArithError(
            "--fmt gif writes binary data. Rule: a GIF goes to a file, not the terminal. Fix: add -o picture.gif."
        )
    axes = None
    if args.axes is not None:
        axes = tuple(int(part) if part.strip().lstrip("-").isdigit() else part.strip() for part in args.axes.split(","))
    picture = draw(
        args.expr,
        **call_arguments(args),
        fmt=fmt,
        axes=axes,
        at=None if args.at is None else parse_sizes(args.at, "--at"),
        view=args.view,
    )
    if args.output is None:
        return picture.rstrip("\n")
    data = picture if isinstance(picture, bytes) else picture.encode()
    write_atomic(args.output, lambda stream: stream.write(data), "-o")
    return f"wrote {args.output} ({fmt}, {len(data)} bytes)"


# command -> (help line, the function adding its arguments), in the order --help lists them
COMMANDS = {
    "shape": ("print the output shape", shape_arguments),
    "explain": ("print how the output shape comes about, axis by axis", shape_arguments),
    "forward": ("compute the output values with convarith's NumPy reference", forward_arguments),
    "draw": (
        "draw the call: its input and output grids, padding, inserted zeros and one kernel footprint",
        draw_arguments,
    ),
    "solve": ("find the values of the call's ... arguments that give the target shape", solve_arguments),
    "valid-sizes": (
        "print the input sizes along one axis that the calls (applied in sequence) or a model file take whole",
        valid_sizes_arguments,
    ),
    "trace": (
        "print every layer's shape, padding, receptive field and parameters of a model file",
        trace_arguments,
    ),
    "translate": (
        "write the call in another framework (Python code defining layer(...)), optionally proven by running both",
        translate_arguments,
    ),
    "compare": (
        "print the call's intent in all five frameworks: each call, output shape, padding per side or refusal",
        compare_arguments,
    ),
    "serve": ("serve the local web page (type a call, see its shape, derivation and picture)", serve_arguments),
}


def run(args: argparse.Namespace) -> str:
    """The text to print for parsed arguments; ConvArithError if refused."""
    if args.command == "forward":
        return run_forward(args)
    if args.command == "solve":
        return run_solve(args)
    if args.command == "draw":
        return run_draw(args)
    if args.command == "valid-sizes":
        return run_valid_sizes(args)
    if args.command == "trace":
        return run_trace(args)
    if args.command == "translate":
        return run_translate(args)
    if args.command == "compare":
        return run_compare(args)
    given = call_arguments(args)
    input_shape, shapes, output_size = given["input_shape"], given["shapes"], given.get("output_size")
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
    """Entry point of ``convarith`` and ``python -m convarith``; returns the exit status.

    Success: the text on stdout, each distinct Python warning as one ``warning:`` line on
    stderr. Failure: exit 1 with exactly one ``error:`` line (warnings dropped), no traceback,
    no file written. Ctrl-C exits 130; a closed stdout (``| head``) is not an error."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    if args.command == "serve":
        try:
            return run_serve(args)
        except ConvArithError as exc:
            return fail(str(exc))
        except KeyboardInterrupt:
            return 130
    limit_digits = getattr(sys, "set_int_max_str_digits", lambda digits: None)  # Python >= 3.10.7
    digits = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    limit_digits(0)  # sizes are bounded by the expression's length: print them in full
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", DeprecationWarning)  # addressed to developers, not to users
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            text = run(args)
    except ConvArithError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except MemoryError:
        return fail(
            "out of memory. Rule: the arrays of the computation must fit in memory. "
            "Fix: a smaller input, or a lower budget with --max-bytes / CONVARITH_MAX_BYTES."
        )
    except Exception as exc:  # a bug: still one line, never a traceback (CONVARITH_DEBUG=1 shows it)
        if os.environ.get("CONVARITH_DEBUG"):
            raise
        return fail(
            f"internal error, please report it: {type(exc).__name__}: {str(exc)[:500]}. Rule: this is a fault in "
            "convarith, not a refusal of the call. Fix: report the command that gave it."
        )
    finally:
        limit_digits(digits)
    try:
        for message in dict.fromkeys(" ".join(str(w.message).split()) for w in caught):
            print(f"warning: {message}", file=sys.stderr)
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `convarith explain ... | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except KeyboardInterrupt:
        return 130
    return 0


def fail(message: str) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return 1
