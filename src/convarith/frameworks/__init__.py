"""One module per framework; each maps its own calls onto canonical ops.

A module exposes ``FRAMEWORK`` (display name) and ``CALLS``: every accepted
spelling (``Conv2d``, ``nn.Conv2d``, ``torch.nn.Conv2d``) mapped to a compile
function ``compile(call) -> Plan`` (see ``_common.Plan``). No module imports
its framework.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module

from ..errors import ConvArithError
from ..parse import Call, short

__all__ = ["MODULES", "compiler_for", "table"]

MODULES = ("keras", "torch", "tf_nn", "jax_lax", "onnx")
# the module prefixes only one framework uses: such a call imports just that module
ROUTES = {
    "layers": "keras", "keras.layers": "keras", "tf.keras.layers": "keras",
    "nn": "torch", "torch.nn": "torch", "F": "torch", "nn.functional": "torch", "torch.nn.functional": "torch",
    "tf.nn": "tf_nn", "tf.image": "tf_nn", "lax": "jax_lax", "jax.lax": "jax_lax", "helper": "onnx", "onnx.helper": "onnx",
}  # fmt: skip


def routed(name: str):
    """The compile function of a prefixed spelling, importing only its module; None for a
    bare or unknown name (the full table answers those, with its hints)."""
    module = ROUTES.get(name.rpartition(".")[0])
    if module is None:
        return None
    return import_module(f"{__name__}.{module}").CALLS.get(name)


@lru_cache(maxsize=1)
def table() -> tuple[dict, dict]:
    """(spelling -> compile function, spelling -> frameworks) over all modules."""
    compilers: dict = {}
    owners: dict = {}
    for name in MODULES:
        module = import_module(f"{__name__}.{name}")
        for spelling, function in module.CALLS.items():
            owners.setdefault(spelling, []).append(module.FRAMEWORK)
            compilers[spelling] = function
    return compilers, owners


def compiler_for(call: Call):
    """The compile function for ``call.name``; ConvArithError if unknown or ambiguous."""
    function = routed(call.name)
    if function is not None:
        return function
    compilers, owners = table()
    if call.name not in compilers:
        import difflib  # only on this error path: keeps start-up lean

        close = difflib.get_close_matches(call.name, list(compilers), n=3, cutoff=0.75)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        raise ConvArithError(
            f"unknown layer or function {short(call.name)}.{hint} Rule: convarith knows Keras layers, torch.nn modules and "
            "torch.nn.functional, tf.nn, jax.lax and onnx.helper.make_node convolution and pooling calls."
        )
    if len(owners[call.name]) > 1:
        raise ConvArithError(
            f"{call.name!r} is ambiguous: it exists in {' and '.join(owners[call.name])}. "
            f"Fix: write the module prefix, e.g. tf.nn.{call.name} or F.{call.name}."
        )
    return compilers[call.name]
