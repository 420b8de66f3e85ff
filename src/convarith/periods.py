"""The rule a set of sizes follows: ``n ≡ r (mod m), n ≥ low`` among the sizes asked.

Shared by ``inverse`` (the sizes a round trip gives back) and ``valid_sizes``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Periodic", "periodic"]


@dataclass(frozen=True)
class Periodic:
    """``sizes`` (among ``asked``) as ``n ≡ residues (mod modulus), n ≥ minimum``; ``modulus`` is
    None when no period fits (or no size holds), and then ``text`` says so."""

    modulus: int | None
    residues: tuple[int, ...]
    minimum: int | None
    text: str


def periodic(sizes, asked) -> Periodic:
    """The smallest period m such that, from the smallest size on, a size asked is in ``sizes``
    exactly when its residue mod m is one of theirs (m at most half the span asked, so at
    least two periods are seen)."""
    import numpy as np

    asked = np.unique(np.asarray(list(asked), dtype=np.int64))
    wanted = np.unique(np.asarray(list(sizes), dtype=np.int64))
    if not len(wanted):
        shown = f"{asked[0]}..{asked[-1]}" if len(asked) else "the sizes asked"
        return Periodic(None, (), None, f"no n in {shown}")
    low = int(wanted[0])
    tail = asked[asked >= low]
    member = np.isin(tail, wanted)
    for modulus in range(1, max(1, (int(tail[-1]) - low + 1) // 2) + 1):
        held = np.zeros(modulus, dtype=bool)
        held[wanted % modulus] = True
        if np.array_equal(member, held[tail % modulus]):
            residues = tuple(int(r) for r in np.flatnonzero(held))
            if modulus == 1:
                return Periodic(1, (0,), low, f"every n ≥ {low}")
            shown = " or ".join(map(str, residues))
            return Periodic(modulus, residues, low, f"n ≡ {shown} (mod {modulus}), n ≥ {low}")
    text = f"{len(wanted)} sizes from {low} to {int(wanted[-1])} (no period)"
    return Periodic(None, (), low, text)
