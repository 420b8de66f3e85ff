"""translate()'s core: the registry, the code assembly, prove(), compare() and the CLI, on a stand-in
framework module (only nn.Conv2d / F.conv2d, as torch) so that they are checked apart from the real ones."""

from __future__ import annotations

import ast
import json
import sys
import types

import pytest

import convarith
from convarith import ConvArithError, cli
from convarith.core.record import replace
from convarith.translate import code as translate_code
from convarith.translate.parts import Source, Target


def fake_source(mapped):
    op = mapped.ops[0]
    names = [name for _, name in __import__("convarith.reference.adapters", fromlist=["x"]).array_names(mapped.call)]
    if names:  # F.conv2d(x, w, ...)
        signature, given = ", ".join(names), names
        weights = f"[({names[1]}, {names[2] if len(names) > 2 else None})]"
    else:
        signature, given = "x, weights=None", ["x"]
        weights = "[(weights[0], weights[1] if len(weights) > 1 else None)]"
    padding = tuple(op.pad_lo)
    run = (
        f"inputs = torch.from_numpy(np.asarray({given[0]}))",
        f"w, b = {weights}[0]",
        "b = None if b is None else torch.from_numpy(np.asarray(b))",
        f"y = F.conv2d(inputs, torch.from_numpy(np.asarray(w)), b, stride={op.stride}, padding={padding}).numpy()",
    )
    return Source(
        signature,
        (f"x = np.asarray({given[0]}, np.float32)", f"params = {weights}"),
        (),
        ("import torch", "import torch.nn.functional as F"),
        run,
        notes=("the input stays (N, C, H, W)",),
    )


def fake_target(mapped):
    op = mapped.ops[0]
    if op.kind != "conv":
        raise ConvArithError(f"{mapped.call.base}: a stand-in. Rule: conv only. Fix: a conv.")
    pads = (op.pad_lo[1], op.pad_hi[1], op.pad_lo[0], op.pad_hi[0])
    call = f"nn.Conv2d({op.in_channels}, {op.out_channels}, {op.kernel}, stride={op.stride}, bias={op.bias})"
    body = (
        "w, b = params[0]",
        f"conv = torch.nn.Conv2d({op.in_channels}, {op.out_channels}, {op.kernel}, stride={op.stride}, bias={op.bias})",
        "with torch.no_grad():",
        "    conv.weight.copy_(torch.from_numpy(np.asarray(w)))",
        "    if b is not None:",
        "        conv.bias.copy_(torch.from_numpy(np.asarray(b)))",
        f"    y = conv(F.pad(torch.from_numpy(x), {pads})).numpy()",
    )
    calls = (f"F.pad(x, {pads})", call) if any(pads) else ()
    notes = ("F.pad pads each side as the source does",) if any(pads) else ()
    return Target(call, ("import torch", "import torch.nn.functional as F"), body, notes, calls)


@pytest.fixture
def fake(monkeypatch):
    """convarith.translate.torch replaced by the stand-in (also as every other target)."""
    module = types.ModuleType("convarith.translate.torch")
    module.FRAMEWORK_ID = "torch"
    module.source, module.target = fake_source, fake_target
    monkeypatch.setitem(sys.modules, "convarith.translate.torch", module)
    return module


CALL = "nn.Conv2d(3, 4, 3, stride=2, padding=1)"


def test_the_code_is_the_source_steps_the_target_body_and_return_y(fake):
    t = convarith.translate(CALL, "torch", (1, 3, 9, 9))
    tree = ast.parse(t.code)
    (layer,) = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert layer.name == "layer" and ast.unparse(layer.args) == "x, weights=None"
    assert ast.get_docstring(layer) == f"{CALL} (PyTorch) as {t.target.call} (PyTorch)."
    assert ast.unparse(layer.body[-1]) == "return y"
    assert t.code.splitlines()[0] == "import numpy as np"  # NumPy first, each import once
    assert t.code.count("import torch\n") == 1
    assert t.calls == ("F.pad(x, (1, 1, 1, 1))", t.target.call)
    assert t.notes == ("the input stays (N, C, H, W)", "F.pad pads each side as the source does")
    assert (t.source_framework, t.target_framework, t.output_shape) == ("torch", "torch", (1, 4, 5, 5))
    assert str(t).startswith(f"# {CALL} (PyTorch) -> PyTorch\n#   F.pad") and "# - F.pad pads" in str(t)
    assert "<pre>" in t._repr_html_() and "&gt;" in t._repr_html_()


def test_prove_runs_both_programs_and_sees_a_wrong_translation(fake, monkeypatch):
    t = convarith.translate(CALL, "torch", (2, 3, 9, 8))
    assert t.prove(seed=1) < 1e-5
    args, _ = t.arrays(1)
    assert [a.shape for a in (args[0], *args[1])] == [(2, 3, 9, 8), (4, 3, 3, 3), (4,)]

    def off_by_one(mapped):  # the padding of one side lost: prove must see it
        target = fake_target(mapped)
        return replace(target, body=tuple(line.replace("(1, 1, 1, 1)", "(0, 1, 0, 1)") for line in target.body))

    monkeypatch.setattr(fake, "target", off_by_one)
    with pytest.raises(ConvArithError, match="gives shape"):
        convarith.translate(CALL, "torch", (2, 3, 9, 8)).prove()
    monkeypatch.setattr(fake, "target", lambda m: replace(off_by_one(m), body=(*off_by_one(m).body[:-1],
        "    y = conv(F.pad(torch.from_numpy(x), (1, 1, 1, 1)).flip(-1)).numpy()")))  # fmt: skip
    assert convarith.translate(CALL, "torch", (2, 3, 9, 8)).prove() > 0.1


def test_a_function_takes_its_named_tensors(fake):
    t = convarith.translate(
        "F.conv2d(x, w, b, stride=2)", "torch", shapes={"x": (1, 3, 7, 7), "w": (5, 3, 3, 3), "b": (5,)}
    )
    assert "def layer(x, w, b):" in t.code
    assert sorted(t.arrays()[1]) == ["b", "w", "x"]
    assert t.prove() < 1e-5


def test_a_tensor_named_like_an_imported_module_is_refused(fake):
    with pytest.raises(ConvArithError, match="'F' is also the name of a module"):
        convarith.translate("F.conv2d(x, F)", "torch", shapes={"x": (1, 3, 7, 7), "F": (5, 3, 3, 3)})


@pytest.mark.parametrize("doc", ['padding=\'"""\\\\n\'', 'f(x, "SAME")', 'a""', 'a""""', "two\nlines"])
def test_the_docstring_keeps_quotes_and_backslashes_as_text(doc):
    text = translate_code.program((), "x", doc, ("y = x",))
    assert ast.get_docstring(ast.parse(text).body[-1], clean=False) == doc


@pytest.mark.parametrize("to", ["pytorch", "tf_nn", "", None, 3])
def test_a_bad_to_lists_the_five_names(to):
    with pytest.raises(ConvArithError, match="'keras', 'torch', 'tf', 'jax', 'onnx'"):
        convarith.translate(CALL, to, (1, 3, 9, 9))


def test_prove_names_the_extra_of_a_missing_framework(fake, monkeypatch):
    t = convarith.translate(CALL, "torch", (1, 3, 9, 9))
    real = translate_code.importlib.util.find_spec
    monkeypatch.setattr(
        translate_code.importlib.util, "find_spec", lambda name: None if name == "torch" else real(name)
    )
    with pytest.raises(ConvArithError, match=r"PyTorch is not installed .* pip install 'convarith\[torch\]'"):
        t.prove()


def refuse(mapped):
    raise ConvArithError("X: no. Rule: r. Fix: f.")


@pytest.fixture
def refusing(monkeypatch):
    """Every framework but the stand-in torch refuses every call."""
    for name in ("keras", "tf_nn", "jax_lax", "onnx"):
        module = types.ModuleType(f"convarith.translate.{name}")
        module.FRAMEWORK_ID, module.target = name, refuse
        monkeypatch.setitem(sys.modules, f"convarith.translate.{name}", module)


def test_compare_maps_each_frameworks_calls(fake, refusing):
    c = convarith.compare(CALL, (1, 3, 9, 9))
    torch_entry = c["torch"]
    assert torch_entry.output_shape == (1, 4, 5, 5)
    assert torch_entry.padding == (((1, 1), (1, 1)), ((0, 0), (0, 0)))  # F.pad's op, then the conv's
    assert c["keras"].refusal == "X: no. Rule: r. Fix: f."
    data = c.to_dict()
    assert data["frameworks"]["torch"]["output_shape"] == [1, 4, 5, 5]
    assert data["frameworks"]["onnx"]["refusal"].startswith("X: no")
    lines = str(c).splitlines()
    assert lines[0] == f"{CALL} on (1, 3, 9, 9) [PyTorch]"
    assert lines[3].startswith("torch") and "(1, 4, 5, 5)" in lines[3] and "(1, 1), (1, 1); (0, 0), (0, 0)" in lines[3]
    assert lines[2].startswith("keras      refused: X: no")
    assert "<table>" in c._repr_html_()


def test_cli_translate_and_compare(fake, refusing, capsys):
    assert cli.main(["translate", CALL, "--to", "torch", "--input", "1,3,9,9", "--prove"]) == 0
    out = capsys.readouterr().out
    assert (
        "def layer(x, weights=None):" in out
        and "# proven: both frameworks run on random input and weights (seed 0), max |difference| = " in out
    )
    assert cli.main(["translate", CALL, "--to", "torch", "--input", "1,3,9,9", "--json"]) == 0
    assert '"calls": ["F.pad(x, (1, 1, 1, 1))"' in capsys.readouterr().out
    assert cli.main(["translate", CALL, "--to", "caffe", "--input", "1,3,9,9"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: translate: to='caffe'") and err.count("\n") == 1
    assert cli.main(["compare", CALL, "--input", "1,3,9,9"]) == 0
    assert capsys.readouterr().out == str(convarith.compare(CALL, (1, 3, 9, 9))) + "\n"
    assert cli.main(["compare", CALL, "--input", "1,3,9,9", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == convarith.compare(CALL, (1, 3, 9, 9)).to_dict()
    assert cli.main(["compare", "nn.Conv2d(3, 8, 3, stride=2, padding='same')", "--input", "1,3,9,9"]) == 1
    assert capsys.readouterr().err.startswith("error: Conv2d: padding='same' needs stride=1")


def test_import_convarith_leaves_translate_for_later():
    import subprocess

    code = (
        "import sys, convarith; assert 'convarith.translate' not in sys.modules; "
        "assert callable(convarith.translate) and 'numpy' not in sys.modules; "
        "import convarith.translate.parts; assert callable(convarith.translate); "
        "print(convarith.Translation.__name__, convarith.Comparison.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["Translation", "Comparison"]


def test_the_page_answer_carries_the_comparison(fake, refusing):
    from convarith.web import handlers

    status, _, body = handlers.shape({"expr": CALL, "input": "1,3,9,9"})
    assert status == 200
    assert list(body["compare"]) == ["keras", "torch", "tf", "jax", "onnx"]
    assert body["compare"]["torch"] == convarith.compare(CALL, (1, 3, 9, 9)).to_dict()["frameworks"]["torch"]


def test_a_keras_last_axis_bias_is_added_by_the_source_side_only():
    """Keras adds a channels_first 3-D conv's bias on the output's last axis: the source's from_canonical
    adds it, so no target adds a bias of its own (tf.nn's bias_add was given None)."""
    expr = "keras.layers.Conv3D(3, 1, strides=2, use_bias=True, data_format='channels_first')"
    for to in ("tf", "torch", "onnx", "jax"):
        translation = convarith.translate(expr, to, (1, 1, 3, 3, 5))
        assert "last_axis_bias" in translation.code
        assert "bias_add" not in translation.code and "params[0][1]" not in translation.code, to


def test_compare_keeps_a_none_batch():
    comparison = convarith.compare("nn.Conv2d(3, 8, 3, stride=2, padding=1)", (None, 3, 9, 9))
    shapes = [entry["output_shape"] for entry in comparison.to_dict()["frameworks"].values()]
    assert shapes and all(shape[0] is None for shape in shapes), shapes
