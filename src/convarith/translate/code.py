"""A translation's code, assembled from the source's and the target's parts, and its proof.

``Translation.code`` is ``def layer(<source signature>)``: ``Source.to_canonical``, then
``Target.body``, then ``Source.from_canonical``, ``return y``, behind the target's imports and
NumPy. ``Translation.source_code`` is the same signature run by the source framework itself
(``Source.run``). ``prove`` runs both programs on the same random arrays in the source layout:
each program is compiled from the generated text alone (never from the user's text).
"""

from __future__ import annotations

import importlib.util

from ..api import map_call
from ..core.record import replace
from ..errors import ConvArithError
from ..frameworks._common import Mapped
from . import NAMES, module_for
from .parts import Source, Target

__all__ = ["Translation", "build", "program", "target_view", "weight_shapes"]

DISPLAY = {"keras": "Keras", "torch": "PyTorch", "tf_nn": "tf.nn", "jax_lax": "jax.lax", "onnx": "ONNX"}
# what a framework's code imports (the modules that must be installed) and the extra that installs them
INSTALLS = {
    "torch": (("torch",), "torch"),
    "keras": (("keras", "tensorflow"), "tensorflow"),
    "tf_nn": (("tensorflow",), "tensorflow"),
    "jax_lax": (("jax", "jaxlib"), "jax"),
    "onnx": (("onnx", "onnxruntime"), "onnx"),
}


def text_in_docstring(text: str) -> str:
    """``text`` written so that it stays inside a triple-quoted docstring."""
    text = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace('"""', '\\"\\"\\"')
    return text[:-1] + '\\"' if text.endswith('"') else text


def program(imports, signature: str, doc: str, lines) -> str:
    """Python source: the imports (NumPy first, each once), then ``def layer(signature)`` with the
    docstring ``doc``, the ``lines`` and ``return y``."""
    head = list(dict.fromkeys(("import numpy as np", *imports)))
    body = [f'    """{text_in_docstring(doc)}"""', *(f"    {line}" if line.strip() else "" for line in lines)]
    return "\n".join([*head, "", "", f"def layer({signature}):", *body, "    return y", ""])


def parameters(signature: str) -> list[str]:
    """The parameter names of a signature such as ``"x, weights=None"``."""
    return [part.split("=")[0].strip().lstrip("*") for part in signature.split(",") if part.strip()]


def bound_names(imports) -> set[str]:
    """The names the import lines bind (``import torch.nn.functional as F`` binds F)."""
    names = {"np"}
    for line in imports:
        words = line.replace(",", " ").split()
        if words[:1] == ["import"]:
            names.add(words[-1] if "as" in words else words[1].split(".")[0])
        elif words[:1] == ["from"]:
            names.add(words[-1])
    return names


def check_names(mapped: Mapped, signature: str, imports) -> None:
    """Refuse a tensor named like a module the code uses (the parameter would hide the module)."""
    clash = sorted(set(parameters(signature)) & bound_names(imports))
    if clash:
        raise ConvArithError(
            f"{mapped.call.base}: the tensor name {clash[0]!r} is also the name of a module the translated code "
            f"imports. Rule: layer()'s parameters are the call's tensor names, so they would hide the module. "
            f"Fix: rename the tensor in the call, e.g. {clash[0]}_."
        )


def weight_shapes(mapped: Mapped) -> list[tuple[int, ...]]:
    """The shapes of a layer's or module's weights in the framework's own order and layout
    (what ``forward`` takes as ``weights``): PyTorch ``parameters()``, Keras ``get_weights()``."""
    from ..reference.adapters import canonical_weight_shape

    op, last = mapped.ops[0], mapped.ops[-1]
    if op.weightless:
        return []
    if mapped.framework_id == "torch":
        return [canonical_weight_shape(op)] + ([(op.out_channels,)] if op.bias else [])
    if mapped.framework_id != "keras":
        raise ConvArithError(
            f"{mapped.call.base}: a {mapped.framework} call takes its tensors by name, not as weights. "
            "Rule: only layers and modules take weights. Fix: pass the named arrays."
        )
    bias = [(last.out_channels,)] if last.bias else []
    if mapped.layer in ("depthwise", "separable"):
        depthwise = (*op.kernel, op.in_channels, op.out_channels // max(op.in_channels, 1))
        if mapped.layer == "depthwise":
            return [depthwise, *bias]
        return [depthwise, (*(1,) * op.rank, op.out_channels, last.out_channels), *bias]
    if op.kind == "conv_transpose":
        return [(*op.kernel, op.out_channels, op.in_channels), *bias]
    return [(*op.kernel, op.in_channels // op.groups, op.out_channels), *bias]


def require(framework_id: str, what: str) -> None:
    """Refuse when a framework's modules are not installed, naming the extra that installs them."""
    modules, extra = INSTALLS[framework_id]
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise ConvArithError(
                f"{what}: {DISPLAY[framework_id]} is not installed (no module {module!r}). Rule: proving a "
                f"translation runs both frameworks. Fix: pip install 'convarith[{extra}]'."
            )


def run_programs(source: str, translation: str, args: tuple, kwargs: dict, what: str):
    """Both generated programs run on the same arrays in a child process (``prove_child``: each file
    imported as a module, so a framework that crashes takes only the child down); their outputs."""
    import os
    import pickle
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    import numpy as np

    with tempfile.TemporaryDirectory(prefix="convarith-prove-") as name:
        directory = Path(name)
        (directory / "source.py").write_text(source)
        (directory / "translation.py").write_text(translation)
        (directory / "arrays.pkl").write_bytes(pickle.dumps((args, kwargs)))
        package_root = str(Path(__file__).resolve().parents[2])  # convarith importable in the child, as here
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (package_root, os.environ.get("PYTHONPATH")))))
        done = subprocess.run(
            [sys.executable, "-m", "convarith.translate.prove_child", name], capture_output=True, text=True, env=env
        )
        if done.returncode != 0:
            said = " ".join(done.stderr.strip().splitlines()[-1:]) or f"exit code {done.returncode}"
            raise ConvArithError(
                f"{what}: running the programs failed ({said}). Rule: prove runs the source call and the "
                "translation in their frameworks. Fix: report this call (translation.code and "
                "translation.source_code are the two programs)."
            )
        return np.load(directory / "source.npy"), np.load(directory / "translation.npy")


def per_sample(mapped: Mapped, signature: str, code: str) -> str:
    """``code`` (written for batch 1) behind a ``layer`` that runs it once per sample of the input:
    the translation of a call whose input has a None batch takes any batch."""
    from ..reference.adapters import array_names, input_name

    label = mapped.call.base
    if any(op.batch_groups > 1 or op.kind == "max_unpool" for op in mapped.ops) or mapped.squeeze_batch:
        raise ConvArithError(
            f"{label}: a None batch cannot be translated for this call. Rule: a None batch is translated as one "
            "sample at a time, and this call mixes samples or reads a second batched array. Fix: give the batch, "
            "e.g. 1 in place of None."
        )
    tensor = input_name(mapped) if array_names(mapped.call) else "x"
    names = parameters(signature)
    inner = [name if name != tensor else f"np.take({tensor}, [i], axis={mapped.ops[0].in_spec[0]})" for name in names]
    empty = tuple(0 if n is None else n for n in mapped.output_shape)
    doc = code.split('"""')[1]
    lines = [
        f'    """{doc} A None batch: the code above runs once per sample."""',
        f"    parts = [layer_one({', '.join(inner)}) for i in range(np.shape({tensor})[{mapped.ops[0].in_spec[0]}])]",
        f"    return np.concatenate(parts, axis={mapped.ops[-1].out_spec[0]}) if parts else np.zeros({empty}, np.float32)",
    ]
    return (
        code.replace(f"def layer({signature}):", f"def layer_one({signature}):", 1)
        + "\n\n"
        + "\n".join([f"def layer({signature}):", *lines, ""])
    )


class Translation:
    """One call written in another framework: ``code``, ``notes``, ``calls``, ``prove()``."""

    def __init__(self, mapped: Mapped, source: Source, target: Target, target_id: str, given: dict):
        self.mapped = mapped
        self.source = source
        self.target = target
        self.target_id = target_id
        self.given = given  # input_shape, shapes, output_size as translate() was given them
        check_names(mapped, source.signature, (*target.imports, *source.run_imports))
        doc = f"{mapped.call.text} ({DISPLAY[mapped.framework_id]}) as {target.call} ({DISPLAY[target_id]})."
        lines = (*source.to_canonical, *target.body, *source.from_canonical)
        self.code = program(target.imports, source.signature, doc, lines)
        if mapped.free_batch:
            self.code = per_sample(mapped, source.signature, self.code)
        self.source_code = program(source.run_imports, source.signature, f"{mapped.call.text} itself.", source.run)

    @property
    def source_framework(self) -> str:
        """The source framework as ``to=`` names it (keras, torch, tf, jax, onnx)."""
        return NAMES[self.mapped.framework_id]

    @property
    def target_framework(self) -> str:
        return NAMES[self.target_id]

    @property
    def notes(self) -> tuple[str, ...]:
        """Why each step is there, in words: the source's layout changes, then the target's steps."""
        return (*self.source.notes, *self.target.notes)

    @property
    def calls(self) -> tuple[str, ...]:
        """Every target call in order (the main call alone when it is the only one)."""
        return self.target.calls or (self.target.call,)

    @property
    def output_shape(self) -> tuple:
        """The output shape, in the source framework's layout (what ``layer`` returns)."""
        return self.mapped.output_shape

    def arrays(self, seed: int = 0) -> tuple[tuple, dict]:
        """Seeded random float32 arrays in the source layout, as ``layer`` takes them: ``((x, weights), {})``
        for a layer or module, ``((), {name: array})`` for a function or an ONNX node."""
        import numpy as np

        from ..reference.adapters import array_names

        rng = np.random.default_rng(seed)

        def random(shape):
            return rng.standard_normal(tuple(2 if n is None else n for n in shape)).astype(np.float32)  # 2: per sample

        names = [name for _, name in array_names(self.mapped.call)]
        if not names:
            weights = [random(shape) for shape in weight_shapes(self.mapped)]
            return (random(self.mapped.given_input_shape), weights or None), {}
        shapes = dict(self.given.get("shapes") or {})
        missing = [name for name in dict.fromkeys(names) if name not in shapes]
        if missing:
            raise ConvArithError(
                f"{self.mapped.call.base}: no shape for the tensor {missing[0]!r}. Rule: random arrays are made in "
                f"the shapes given. Fix: translate(..., shapes={{{missing[0]!r}: ...}})."
            )
        return (), {name: random(shapes[name]) for name in dict.fromkeys(names)}

    def prove(self, seed: int = 0) -> float:
        """Run the source framework's own call and this translation on the same random arrays (in the
        source layout, seeded by ``seed``); the max absolute difference of their outputs."""
        import numpy as np

        what = f"{self.mapped.call.base} -> {self.target_framework}"
        require(self.mapped.framework_id, what)
        require(self.target_id, what)
        args, kwargs = self.arrays(seed)
        theirs, ours = run_programs(self.source_code, self.code, args, kwargs, what)
        if theirs.shape != ours.shape:
            raise ConvArithError(
                f"{what}: the translation gives shape {ours.shape}, {DISPLAY[self.mapped.framework_id]} gives "
                f"{theirs.shape}. Rule: a translation returns the source's output. Fix: report this call."
            )
        if not theirs.size:
            return 0.0
        a, b = ours.astype(np.float64), theirs.astype(np.float64)
        same = (a == b) | (np.isnan(a) & np.isnan(b))  # equal infinities and NaN in both count as agreeing
        with np.errstate(invalid="ignore"):
            return float(np.max(np.where(same, 0.0, np.abs(a - b))))

    def comments(self) -> list[str]:
        import textwrap

        head = f"# {self.mapped.call.text} ({DISPLAY[self.mapped.framework_id]}) -> {DISPLAY[self.target_id]}"
        lines = [head, f"#   {' -> '.join(self.calls)}"]
        for note in self.notes:
            lines += textwrap.wrap(note, 100, initial_indent="# - ", subsequent_indent="#   ")
        return lines

    def __str__(self) -> str:
        return "\n".join([*self.comments(), self.code.rstrip("\n")])

    def __repr__(self) -> str:
        return f"<Translation {self.mapped.call.text} -> {self.target_framework}: {' -> '.join(self.calls)}>"

    def to_dict(self) -> dict:
        return {
            "source": self.mapped.call.text,
            "source_framework": self.source_framework,
            "target_framework": self.target_framework,
            "calls": list(self.calls),
            "notes": list(self.notes),
            "output_shape": list(self.output_shape),
            "code": self.code,
        }

    def _repr_html_(self) -> str:
        from html import escape

        notes = "".join(f"<li>{escape(note)}</li>" for note in self.notes)
        return (
            f"<p>{escape(self.mapped.call.text)} ({DISPLAY[self.mapped.framework_id]}) as "
            f"<code>{escape(' -> '.join(self.calls))}</code> ({DISPLAY[self.target_id]})</p>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + f"<pre>{escape(self.code)}</pre>"
        )


def target_view(mapped: Mapped) -> Mapped:
    """``mapped`` as a target sees it: one sample of a None batch (``per_sample`` runs it per sample), and
    no bias on the last op where Keras adds a channels_first bias on the output's last axis (the source's
    ``from_canonical`` adds that one)."""
    from ..reference.adapters import keras_bias_on_last_axis

    one = replace(mapped, free_batch=False)
    if not keras_bias_on_last_axis(one):
        return one
    return replace(one, ops=(*one.ops[:-1], one.ops[-1].with_(bias=False)))


def build(expr: str, target_module, input_shape=None, *, shapes=None, output_size=None) -> Translation:
    """The translation of ``expr`` into the framework of ``target_module``."""
    mapped = map_call(expr, input_shape, shapes=shapes, output_size=output_size)
    source = module_for(mapped.framework_id).source(replace(mapped, free_batch=False))  # one sample: per_sample
    target = target_module.target(target_view(mapped))
    given = {"input_shape": input_shape, "shapes": shapes, "output_size": output_size}
    return Translation(mapped, source, target, target_module.FRAMEWORK_ID, given)
