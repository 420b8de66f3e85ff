"""Every refusal says its rule and its fix: the seed calls of test_robust, each argument
and each input size replaced in turn, through output_shape; every ConvArithError message
must hold both "Rule:" and "Fix:"."""

from __future__ import annotations

import ast
from functools import lru_cache

import convarith
from convarith import ConvArithError
from tests.unit.robust_seeds import SEEDS

VALUES = ("0", "1", "2", "3", "5", "-1", "-2", "None", "True", "2.5", "'same'", "'SAME'", "'VALID'", "'valid'",
          "'causal'", "'SAME_UPPER'", "'SAME_LOWER'", "'NOTSET'", "'VALID_X'", "(2, 2)", "(1, 2, 3)", "[1, 2]",
          "[[1, 1], [1, 1]]", "[[0, 0], [1, 1], [1, 1], [0, 0]]", "((1, 1), (1, 1))", "[]", "k", "x", "w", "'NCHW'",
          "'NHWC'", "'channels_first'", "100")  # fmt: skip
SIZES = (0, 1, 2, 7, 40)


def replace_segment(text: str, node: ast.AST, new: str) -> str:
    return text[: node.col_offset] + new + text[node.end_col_offset :]


def variants(expr: str):
    """``expr`` with each piece of each argument replaced by each of VALUES."""
    call = ast.parse(expr, mode="eval").body
    arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
    for node in [node for arg in arguments for node in ast.walk(arg) if isinstance(node, ast.expr)]:
        for value in VALUES:
            yield replace_segment(expr, node, value)


def shape_variants(shape):
    """``shape`` with each size replaced by each of SIZES, one axis dropped, one added."""
    if shape is None:
        return [None]
    shape = tuple(shape)
    found = [shape, shape[:-1], (*shape, 3), (1, *shape)]
    found += [shape[:i] + (size,) + shape[i + 1 :] for i in range(len(shape)) for size in SIZES]
    return found


def cases():
    for expr, input_shape, shapes, output_size in SEEDS:
        for variant in variants(expr):
            yield variant, input_shape, shapes, output_size
        for changed in shape_variants(input_shape):
            yield expr, changed, shapes, output_size
        for name, shape in (shapes or {}).items():
            for changed in shape_variants(shape):
                yield expr, input_shape, {**shapes, name: changed}, output_size
        for changed in shape_variants(output_size):
            yield expr, input_shape, shapes, changed


@lru_cache(maxsize=1)
def refusals() -> dict[str, str]:
    """Each refusal message (one example call per message) of the corpus."""
    found = {}
    for expr, input_shape, shapes, output_size in cases():
        try:
            convarith.output_shape(expr, input_shape, shapes=shapes, output_size=output_size)
        except ConvArithError as exc:
            found.setdefault(str(exc), expr)
    return found


def test_the_corpus_reaches_many_refusals():
    assert len(refusals()) > 1000


def test_every_refusal_has_a_rule_and_a_fix():
    missing = sorted(message for message in refusals() if "Rule: " not in message or "Fix: " not in message)
    assert not missing, f"{len(missing)} refusals without a rule or a fix, e.g.:\n" + "\n".join(missing[:20])


# --- the refusals of api, parse, cli and reference, each triggered ------------------------------------------------


class Unreadable:
    """A shape whose items cannot be read."""

    def __iter__(self):
        raise TypeError("no")


def library_refusals():
    """(what, thunk) for each refusal of api, parse, sweeps and the numbers (reference/)."""
    import numpy as np

    conv, x, w = "nn.Conv1d(1, 1, 3)", np.ones((1, 1, 8), "float32"), [np.ones((1, 1, 3), "float32"), np.ones(1)]
    out = convarith.output_shape
    yield "expr not a string", lambda: out(123, (1, 1, 8))
    yield "shape a string", lambda: out(conv, "1,1,8")
    yield "shape unreadable", lambda: out(conv, Unreadable())
    yield "shape of a float", lambda: out(conv, (1, 1, 8.5))
    yield "negative size", lambda: out(conv, (1, 1, -8))
    yield "huge size", lambda: out(conv, (1, 1, 1 << 70))
    yield "no dimensions", lambda: out(conv, ())
    yield "too many dimensions", lambda: out(conv, (1,) * 9)
    yield "shapes not a dict", lambda: out("F.conv1d(x, w)", shapes=[1])
    yield "shapes key not a string", lambda: out("F.conv1d(x, w)", shapes={1: (1, 1, 8)})
    yield "sweep shapes not a dict", lambda: convarith.sweep("F.conv1d(x, w)", shapes=[1])
    yield "unknown name", lambda: out("nn.Conv9d(1)", (1, 1, 8))
    yield "unknown name with a suggestion", lambda: out("nn.Conv2D(1, 1, 3)", (1, 1, 8))
    yield "ambiguous bare name", lambda: out("conv2d(x, w)", shapes={"x": (1, 1, 8, 8), "w": (1, 1, 3, 3)})
    yield "solve without unknowns", lambda: convarith.solve("nn.Conv1d(1, 1, 3)", (1, 1, 8), target=(1, 1, 6))
    yield "draw of a bad format", lambda: convarith.draw("nn.Conv1d(1, 1, 3)", (1, 1, 8), fmt="bmp")
    for text in ("", "   ", "x" * 100_000, "(" * 400 + ")" * 400, "nn.Conv2d(", "f(1) + g(2)", "x", "a[0](1)",
                 "nn.Conv2d(3, 8, __import__(1))", "nn.Conv2d(3, 8, 1 + 2j)", b"f(1)"):  # fmt: skip
        yield f"parse {text[:20]!r}", lambda text=text: convarith.parse.parse_call(text)
    yield "forward: weight count", lambda: convarith.forward(conv, x, w[:1])
    yield "forward: weight layout", lambda: convarith.forward(conv, x, [w[0].reshape(1, 3, 1), w[1]])
    yield "forward: not numbers", lambda: convarith.forward(conv, x.astype(str), w)
    yield "forward: not an array", lambda: convarith.forward(conv, object(), w)
    yield "forward: missing array", lambda: convarith.forward("F.conv1d(x, w)", arrays={"x": x})
    yield "forward: function given x", lambda: convarith.forward("F.conv1d(x, w)", x)
    yield "forward: layer given arrays", lambda: convarith.forward(conv, arrays={"x": x})
    yield "forward: both", lambda: convarith.forward("F.conv1d(x, w)", x, arrays={"x": x})
    yield "forward: arrays not a dict", lambda: convarith.forward("F.conv1d(x, w)", arrays=[x])
    yield "forward: no x", lambda: convarith.forward(conv)
    yield "forward: expr not a string", lambda: convarith.forward(5, x, w)
    yield "forward: pool weights (torch)", lambda: convarith.forward("nn.MaxPool1d(2)", x, w)
    yield "forward: pool weights (keras)", lambda: convarith.forward("layers.MaxPooling1D(2)", x, w)
    yield "forward: budget", lambda: convarith.forward(conv, x, w, max_bytes=1)
    yield "views: not transposed", lambda: convarith.transposed_views("nn.MaxPool1d(2)", x)
    yield "trace: bad index", lambda: convarith.trace_element("nn.MaxPool1d(2)", (0, 0, 5), x)


def test_every_library_refusal_has_a_rule_and_a_fix():
    found = {}
    for what, thunk in library_refusals():
        try:
            thunk()
        except ConvArithError as exc:
            found[what] = str(exc)
        else:
            raise AssertionError(f"{what}: not refused")
    missing = [
        f"{what}: {message}" for what, message in found.items() if "Rule: " not in message or "Fix: " not in message
    ]
    assert not missing, "\n".join(missing)


def test_every_file_refusal_has_a_rule_and_a_fix(tmp_path):
    import io
    import zipfile

    import numpy as np

    from convarith.reference.files import load_array

    cases = {
        "missing": tmp_path / "none.npy",
        "folder": tmp_path,
        "text": tmp_path / "a.npy",
        "pickle dtype": tmp_path / "b.npy",
        "truncated": tmp_path / "c.npy",
        "npz of text": tmp_path / "d.npz",
        "npz too large": tmp_path / "e.npz",
    }
    cases["text"].write_text("not an array")
    np.save(cases["pickle dtype"], np.array([object()], dtype=object), allow_pickle=True)
    buffer = io.BytesIO()
    np.save(buffer, np.ones(100))
    cases["truncated"].write_bytes(buffer.getvalue()[:-40])
    with zipfile.ZipFile(cases["npz of text"], "w") as archive:
        archive.writestr("x.txt", "hello")
    np.savez(cases["npz too large"], np.ones(1000))
    missing = []
    for what, path in cases.items():
        try:
            load_array(str(path), "--weights-file", limit=1000 if what == "npz too large" else None)
        except ConvArithError as exc:
            if "Rule: " not in str(exc) or "Fix: " not in str(exc):
                missing.append(f"{what}: {exc}")
        else:
            raise AssertionError(f"{what}: not refused")
    assert not missing, "\n".join(missing)


def test_every_cli_refusal_has_a_rule_and_a_fix(tmp_path, capsys):
    from convarith.cli import main

    conv = "nn.Conv2d(3, 8, 3)"
    x = tmp_path / "x.npy"
    import numpy as np

    np.save(x, np.ones((1, 3, 4, 4), "float32"))
    argvs = [
        ["shape", conv, "--input", "1,3,a,32"],
        ["shape", "F.conv2d(x, w)", "--shape", "x"],
        ["shape", "nn.ConvTranspose2d(3, 8, 3)", "--input", "1,3,4,4", "--output-size", "4,y"],
        ["forward", "F.conv2d(x, w)", "--array", "x"],
        ["forward", "nn.MaxPool2d(2)", "--input-file", str(x), "--out", str(tmp_path / "y.txt")],
        ["forward", "nn.MaxPool2d(2)", "--input-file", str(x), "--out", str(tmp_path)],
        ["forward", "nn.MaxPool2d(2)", "--input-file", str(x), "--out", str(tmp_path / "no" / "y.npy")],
        ["shape", conv, "--input", "1,3,1,1"],
    ]
    missing = []
    for argv in argvs:
        assert main(argv) == 1, argv
        error = capsys.readouterr().err
        if "Rule: " not in error or "Fix: " not in error:
            missing.append(f"{argv}: {error}")
    assert not missing, "\n".join(missing)
