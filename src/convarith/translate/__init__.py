"""Translate one layer call into the same function in another framework, proven by numbers.

``translate(expr, to, ...)`` maps the call (``api.map_call``), asks the source framework's
module how its arrays come in and go out (``Source``) and the target framework's module how it
computes the canonical op chain (``Target``), and assembles them into ``Translation.code``.
``compare(expr, ...)`` asks every framework at once. The framework modules (``torch``,
``keras``, ``tf_nn``, ``jax_lax``, ``onnx``: the framework modules' names) are imported
when first asked; none imports its framework.
"""

from __future__ import annotations

import importlib
import sys
import types

from ..errors import ConvArithError

__all__ = ["TARGETS", "Comparison", "Translation", "compare", "module_for", "target_module", "translate"]

TARGETS = {"keras": "keras", "torch": "torch", "tf": "tf_nn", "jax": "jax_lax", "onnx": "onnx"}  # to= -> module
NAMES = {module: name for name, module in TARGETS.items()}  # framework module -> to=


def module_for(framework_id: str):
    """The translation module of a framework module id (``Mapped.framework_id``)."""
    if framework_id not in NAMES:
        raise ConvArithError(
            f"translate: calls of {framework_id or 'this framework'} are not translated. Rule: translations cover "
            f"{', '.join(TARGETS)}. Fix: write the call in one of them."
        )
    return importlib.import_module(f"{__name__}.{framework_id}")


def target_module(to):
    """The translation module named by ``to=`` (one of TARGETS), or a ConvArithError listing them."""
    if not isinstance(to, str) or to not in TARGETS:
        shown = repr(to) if isinstance(to, str) and len(to) <= 40 else f"a {type(to).__name__}"
        raise ConvArithError(
            f"translate: to={shown} is not a framework convarith translates into. Rule: to= is one of "
            f"{', '.join(repr(name) for name in TARGETS)}. Fix: e.g. to='torch'."
        )
    return module_for(TARGETS[to])


def translate(expr: str, to: str, input_shape=None, *, shapes=None, output_size=None):
    """``expr`` as the same function in framework ``to`` (a ``Translation``: ``.code``, ``.notes``, ``.prove()``).

    >>> t = translate("nn.Conv2d(3, 8, 3, padding=1)", "keras", (1, 3, 32, 32))  # doctest: +SKIP
    >>> print(t.code)  # doctest: +SKIP
    """
    from .code import build

    target = target_module(to)  # a bad to= is refused before the call is read
    return build(expr, target, input_shape, shapes=shapes, output_size=output_size)


def compare(expr: str, input_shape=None, *, shapes=None, output_size=None):
    """``expr`` in all five frameworks side by side (a ``Comparison``: call, output shape or refusal, padding)."""
    from .comparison import compare as run

    return run(expr, input_shape, shapes=shapes, output_size=output_size)


def __getattr__(name: str):
    if name == "Translation":
        from .code import Translation

        return Translation
    if name == "Comparison":
        from .comparison import Comparison

        return Comparison
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class CallableModule(types.ModuleType):
    """This package, callable as ``translate``: importing ``convarith.translate.<module>`` binds the
    package to ``convarith.translate`` (the import system does), where the function was."""

    def __call__(self, expr: str, to: str, input_shape=None, *, shapes=None, output_size=None):
        return translate(expr, to, input_shape, shapes=shapes, output_size=output_size)


sys.modules[__name__].__class__ = CallableModule
