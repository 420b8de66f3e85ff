"""One module per framework; each maps its own calls onto canonical ops.

A module exposes ``FRAMEWORK`` (display name) and ``CALLS``: every accepted
spelling (``Conv2d``, ``nn.Conv2d``, ``torch.nn.Conv2d``) mapped to a compile
function ``compile(call) -> Plan`` (see ``_common.Plan``). No module imports
its framework. Every spelling's bare name (its last component) is registered
too: it resolves when one framework has it and is refused as ambiguous when
several do. Names convarith does not compute are in ``names.py``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module

from ..errors import ConvArithError
from ..parse import Call

__all__ = ["MODULES", "compiler_for", "spellings", "table"]

MODULES = ("keras", "torch", "tf_nn", "jax_lax", "onnx")
# the module prefixes only one framework uses: such a call imports just that module
ROUTES = {
    "layers": "keras", "keras.layers": "keras", "tf.keras.layers": "keras",
    "nn": "torch", "torch.nn": "torch", "F": "torch", "nn.functional": "torch", "torch.nn.functional": "torch",
    "torch": "torch",
    "tf.nn": "tf_nn", "tf.image": "tf_nn", "lax": "jax_lax", "jax.lax": "jax_lax", "helper": "onnx", "onnx.helper": "onnx",
}  # fmt: skip


def routed(name: str):
    """The compile function of a prefixed spelling, importing only its module; None for a
    bare or unknown name (the full table answers those, with its hints)."""
    module = ROUTES.get(name.rpartition(".")[0])
    if module is None:
        return None
    return import_module(f"{__name__}.{module}").CALLS.get(name)


def preferred(spelling: str) -> tuple:
    """Sort key of a framework's spellings of one bare name: the shortest prefixed one first
    (F.conv2d before torch.conv2d and torch.nn.functional.conv2d; the bare one last)."""
    return ("." not in spelling, len(spelling), spelling)


@lru_cache(maxsize=1)
def spellings() -> dict[str, dict[str, str]]:
    """bare name -> {framework: its preferred prefixed spelling}, over every module's CALLS."""
    found: dict[str, dict[str, list]] = {}
    for name in MODULES:
        module = import_module(f"{__name__}.{name}")
        for spelling in module.CALLS:
            found.setdefault(spelling.rpartition(".")[2], {}).setdefault(module.FRAMEWORK, []).append(spelling)
    return {bare: {fw: min(names, key=preferred) for fw, names in owned.items()} for bare, owned in found.items()}


@lru_cache(maxsize=1)
def table() -> tuple[dict, dict]:
    """(spelling -> compile function, spelling -> frameworks) over all modules, bare names included
    (an ambiguous bare name has several frameworks, and is refused by compiler_for)."""
    compilers: dict = {}
    owners: dict = {}
    for name in MODULES:
        module = import_module(f"{__name__}.{name}")
        for spelling, function in module.CALLS.items():
            owners.setdefault(spelling, []).append(module.FRAMEWORK)
            compilers[spelling] = function
    modules = {import_module(f"{__name__}.{name}").FRAMEWORK: import_module(f"{__name__}.{name}") for name in MODULES}
    for bare, owned in spellings().items():
        if bare not in compilers:  # a bare name no module lists itself: F.conv2d's conv2d
            first = next(iter(owned.items()))
            compilers[bare] = modules[first[0]].CALLS[first[1]]
        owners[bare] = list(owned)
    return compilers, owners


def compiler_for(call: Call):
    """The compile function for ``call.name``; ConvArithError if unknown or ambiguous."""
    function = routed(call.name)
    if function is not None:
        return function
    compilers, owners = table()
    if call.name not in compilers:
        from .names import unknown  # only on this error path: keeps start-up lean

        raise unknown(call.name, compilers)
    if len(owners[call.name]) > 1:
        owned = spellings().get(call.name) or {fw: f"<prefix>.{call.name}" for fw in owners[call.name]}
        written = " and ".join(f"{fw} as {spelled}" for fw, spelled in owned.items())
        raise ConvArithError(
            f"{call.name!r} is ambiguous: it exists in {written}. Rule: a bare name is read only when one "
            f"framework has it. Fix: write the module prefix: {' or '.join(owned.values())}."
        )
    return compilers[call.name]
