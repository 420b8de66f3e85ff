"""What each framework's translation module gives: the source side and the target side.

A translation is written as ``def layer(<source signature>)``:

1. ``Source.to_canonical``: the user's arrays, in the source framework's layout and
   order, become NumPy ``x`` (N, C, *spatial) and ``params`` [(w, b), ...] (one pair
   per op of ``Mapped.ops``, canonical layout as in ``reference.adapters``; None
   where an op has no weight or bias);
2. ``Target.body``: the target framework computes canonical ``y`` from ``x`` and
   ``params`` (converting to and from its own layout itself);
3. ``Source.from_canonical``: ``y`` back to the source framework's output layout.

``Source.run`` is the same signature run by the real source framework (what
``Translation.prove`` compares against). Code lines are plain Python using ``np``
and the names imported by ``imports``; no user text is ever executed: calls are
written out from the parsed call's values.
"""

from __future__ import annotations

from ..core.record import Record

__all__ = ["Source", "Target"]


class Source(Record):
    """How a source framework's call takes and gives its arrays."""

    signature: str  # the parameters of layer(...), e.g. "x, weights" or "x, w, b"
    to_canonical: tuple[str, ...]  # NumPy lines: signature arrays -> x, params
    from_canonical: tuple[str, ...]  # NumPy lines: canonical y -> y in the source layout
    run_imports: tuple[str, ...]  # the imports of ``run``
    run: tuple[str, ...]  # lines running the real source call on the signature's arrays -> NumPy y
    notes: tuple[str, ...] = ()  # e.g. "Keras kernel (kh, kw, C, O) -> canonical (O, C, kh, kw)"


class Target(Record):
    """How a target framework computes the canonical op chain."""

    call: str  # the main target call, as a user would write it (compare, the page)
    imports: tuple[str, ...]  # e.g. ("import torch", "import torch.nn.functional as F")
    body: tuple[str, ...]  # lines: canonical x, params -> canonical y (NumPy), target framework + np only
    notes: tuple[str, ...] = ()  # why each extra step is there, in words
    calls: tuple[str, ...] = ()  # every target call in order (pad, conv, crop ...), for display
