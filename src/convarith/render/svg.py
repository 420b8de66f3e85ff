"""A scene laid out as shapes (cells, taps, labels), written as one SVG document.

The layout (``layout``) is shared with the GIF renderer: the heading, then each grid
(input above output) with its title and label lines. Every cell is one ``<rect>`` whose
class is its cell class; a grid is ``<g class="grid" data-role=... data-rows data-cols>``
with its whole-grid count per class (``data-input``, ``data-pad-before``, ...), elided
cells included. Kernel taps are ``<rect class="kernel">`` (``kernel excluded`` when the
window's count leaves the tap out); the chosen output cell is ``<rect class="selected">``.
"""

from __future__ import annotations

from html import escape

from .scene import CLASSES, Grid, Scene, UnitStrip

__all__ = ["PALETTE", "layout", "render"]

CELL = 14
MARGIN = 12
LINE = 16
CHAR = 7.2  # width of one character of the 12px monospace font, for sizing the document
GAP = 20
PALETTE = {
    "input": "#9ecae1",
    "pad-before": "#fdd49e",
    "pad-after": "#fc8d59",
    "inserted-zero": "#f7f7f7",
    "dropped": "#969696",
    "output": "#a1d99b",
    "kernel": "#b2182b",
    "selected": "#00441b",
    "text": "#222222",
}
STYLE = (
    "text{font:12px monospace;fill:#222}"
    ".grid rect{stroke:#fff;stroke-width:1}"
    + "".join(f".{name}{{fill:{PALETTE[name]}}}" for name in CLASSES)
    + ".inserted-zero{stroke:#bbb!important}"
    ".grid rect.kernel{fill:none;stroke:#b2182b;stroke-width:2}"
    ".grid rect.kernel.excluded{stroke-dasharray:3 2}"
    ".grid rect.selected{fill:none;stroke:#00441b;stroke-width:3}"
    ".count{font-size:9px;text-anchor:middle}"
    ".elided{text-anchor:middle;fill:#555}"
)


class Shape:
    """One laid-out item: a rect (x, y, w, h) or a text (x, y) with its classes and attributes."""

    __slots__ = ("kind", "x", "y", "w", "h", "cls", "text", "attrs", "fill")

    def __init__(self, kind, x, y, w=0, h=0, cls="", text="", attrs="", fill=""):
        self.kind, self.x, self.y, self.w, self.h = kind, x, y, w, h
        self.cls, self.text, self.attrs, self.fill = cls, text, attrs, fill


class Block:
    """A laid-out grid: its shapes and the attributes of its ``<g>``."""

    def __init__(self, grid: Grid, shapes: list[Shape]):
        self.grid, self.shapes = grid, shapes


def elided_runs(shown: list[int | None]) -> list[tuple[int, int]]:
    """The [first, last] grid positions each None of ``shown`` stands for."""
    return [(shown[i - 1] + 1, shown[i + 1] - 1) for i, g in enumerate(shown) if g is None]


def grid_labels(grid: Grid, rows: list, cols: list) -> list[str]:
    """The grid's label lines, with the elided ranges named."""
    lines = list(grid.labels)
    rows_n, cols_n = grid.size
    lines.insert(0, f"{grid.title}: {rows_n} x {cols_n} cells" if rows_n > 1 else f"{grid.title}: {cols_n} cells")
    for what, shown in (("rows", rows), ("columns", cols)):
        for a, b in elided_runs(shown):
            lines.append(f"{what} {a}-{b} not drawn ({b - a + 1} cells elided)")
    return lines


def grid_shapes(grid: Grid, x0: float, y0: float, cell: int) -> tuple[list[Shape], float, float]:
    """The cells, taps, chosen cell and stamp counts of ``grid`` from (x0, y0); with its size."""
    rows, cols = grid.rows.shown(), grid.cols.shown()
    shapes: list[Shape] = []
    taps: list[Shape] = []
    for i, r in enumerate(rows):
        if r is None:
            shapes.append(
                Shape("text", x0 + len(cols) * cell / 2, y0 + (i + 1) * cell - 3, cls="elided", text="\u22ee")
            )
    for j, c in enumerate(cols):
        if c is None:
            shapes.append(Shape("text", x0 + (j + 0.5) * cell, y0 + cell - 3, cls="elided", text="\u2026"))
    one_row = isinstance(grid.rows, UnitStrip)
    for i, j, name, tap, excluded, stamps in grid.cells():
        x, y = x0 + j * cell, y0 + i * cell
        if name is not None:
            shapes.append(Shape("rect", x, y, cell, cell, name, attrs=f' data-r="{rows[i]}" data-c="{cols[j]}"'))
            if stamps is not None:
                shapes.append(Shape("text", x + cell / 2, y + cell - 4, cls="count", text=str(stamps)))
        if tap is not None:
            where = f"{tap[1]}" if one_row else f"{tap[0]},{tap[1]}"
            kind = "kernel excluded" if excluded else "kernel"
            taps.append(Shape("rect", x + 2, y + 2, cell - 4, cell - 4, kind, attrs=f' data-tap="{where}"'))
    chosen = grid.chosen()
    if chosen is not None and chosen[0] in rows and chosen[1] in cols:
        x, y = x0 + cols.index(chosen[1]) * cell, y0 + rows.index(chosen[0]) * cell
        taps.append(Shape("rect", x + 1, y + 1, cell - 2, cell - 2, "selected"))
    return shapes + taps, len(cols) * cell, len(rows) * cell


def layout(scene: Scene, cell: int = CELL) -> tuple[float, float, list[Shape], list[Block]]:
    """(width, height, loose shapes, grid blocks) of ``scene``."""
    loose: list[Shape] = []
    blocks: list[Block] = []
    y = MARGIN
    width = 0.0

    def text(line: str, cls: str = "label") -> None:
        nonlocal y, width
        y += LINE
        loose.append(Shape("text", MARGIN, y - 4, cls=cls, text=line))
        width = max(width, MARGIN + len(line) * CHAR)

    for line in scene.heading:
        text(line, "heading")
    for grid in scene.grids:
        y += GAP / 2
        for line in grid_labels(grid, grid.rows.shown(), grid.cols.shown()):
            text(line)
        y += 4
        shapes, w, h = grid_shapes(grid, MARGIN, y, cell)
        blocks.append(Block(grid, shapes))
        width = max(width, MARGIN + w)
        y += h
    y += GAP / 2
    for line in scene.notes:
        text(line, "note")
    legend_y = y + 6
    x = MARGIN
    for name in (*CLASSES, "kernel"):
        loose.append(Shape("rect", x, legend_y, cell, cell, "swatch", fill=PALETTE[name]))
        loose.append(Shape("text", x + cell + 4, legend_y + cell - 3, cls="legend", text=name))
        x += cell + 12 + len(name) * CHAR
    width = max(width, x)
    return width + MARGIN, legend_y + cell + MARGIN, loose, blocks


def attributes(pairs) -> str:
    return "".join(f' {key}="{escape(str(value))}"' for key, value in pairs)


def shape_xml(shape: Shape) -> str:
    if shape.kind == "rect":
        style = f' style="fill:{shape.fill}"' if shape.fill else ""
        return (
            f'<rect x="{shape.x:g}" y="{shape.y:g}" width="{shape.w:g}" height="{shape.h:g}" '
            f'class="{shape.cls}"{style}{shape.attrs}/>'
        )
    return f'<text x="{shape.x:g}" y="{shape.y:g}" class="{shape.cls}">{escape(shape.text)}</text>'


def render(scene: Scene) -> str:
    """The SVG document of ``scene``."""
    width, height, loose, blocks = layout(scene)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}">',
        f"<title>{escape(scene.heading[0])}</title>",
        f"<style>{STYLE}</style>",
    ]
    parts += [shape_xml(shape) for shape in loose]
    for block in blocks:
        rows, cols = block.grid.size
        counts = [(f"data-{name}", count) for name, count in block.grid.counts().items()]
        parts.append(
            f'<g class="grid"{attributes([("data-role", block.grid.role), ("data-rows", rows), ("data-cols", cols), *counts])}>'
        )
        parts += [shape_xml(shape) for shape in block.shapes]
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
