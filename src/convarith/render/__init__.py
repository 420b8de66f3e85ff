"""Pictures of a call: ``draw`` builds the scene of its canonical op (render.scene) and
writes it as SVG (render.svg), text (render.text) or an animated GIF (render.gif)."""

from __future__ import annotations

from ..frameworks._common import Mapped, refuse
from .scene import build_scene

__all__ = ["FORMATS", "draw", "draw_mapped"]

FORMATS = ("svg", "ascii", "gif")


def draw(expr, input_shape=None, *, shapes=None, output_size=None, fmt="svg", axes=None, at=None, view="forward"):
    """The picture of ``expr`` on this input: an SVG document (str), text (str) or a GIF (bytes)."""
    from ..api import map_call

    check_format(fmt)
    mapped = map_call(expr, input_shape, shapes=shapes, output_size=output_size)
    return draw_mapped(mapped, fmt=fmt, axes=axes, at=at, view=view)


def check_format(fmt) -> None:
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise refuse(
            "draw",
            f"fmt={fmt!r} is not a format",
            f"fmt is one of {', '.join(repr(name) for name in FORMATS)}",
            "fmt='svg' (or 'ascii' for a terminal)",
        )


def draw_mapped(mapped: Mapped, *, fmt="svg", axes=None, at=None, view="forward"):
    """``draw`` for an already mapped call (the explanation's notebook view uses it)."""
    check_format(fmt)
    if fmt == "gif":
        from .gif import render as animate

        return animate(mapped, axes=axes, at=at, view=view)
    scene = build_scene(mapped, axes=axes, at=at, view=view)
    if fmt == "ascii":
        from .text import render as write_text

        return write_text(scene)
    from .svg import render as write_svg

    return write_svg(scene)
