"""A scene as text for a terminal: one character per cell, the kernel taps in capitals, a legend."""

from __future__ import annotations

from .scene import Grid, Scene, UnitStrip
from .svg import grid_labels

__all__ = ["LEGEND", "render"]

LETTERS = {"input": "i", "pad-before": "b", "pad-after": "a", "inserted-zero": "z", "dropped": "x", "output": "o"}
LEGEND = (
    "legend: i input, b pad-before, a pad-after, z inserted-zero, x dropped (no window reaches it), o output; "
    "a capital (I B A Z) is a kernel tap of the chosen window, ! a tap its count leaves out "
    "(past the padded input, or padding an average does not divide by), @ the chosen output cell, "
    "~ elided cells"
)


def cell_char(name: str | None, tap, excluded: bool, chosen: bool) -> str:
    if tap is not None:
        return "!" if excluded else LETTERS[name].upper()
    if chosen:
        return "@"
    return " " if name is None else LETTERS[name]


def grid_lines(grid: Grid) -> list[str]:
    rows, cols = grid.rows.shown(), grid.cols.shown()
    chosen = grid.chosen()
    chart = [["~" if r is None or c is None else " " for c in cols] for r in rows]
    for i, j, name, tap, excluded, _ in grid.cells():
        chart[i][j] = cell_char(name, tap, excluded, chosen == (rows[i], cols[j]))
    lines = ["  " + "".join(line).rstrip() for line in chart]
    stamps = [grid.cols.stamps(c) for c in cols if c is not None]
    if stamps and stamps[0] is not None:  # the scatter buffer: stamps per cell are the product of these
        for what, strip, shown in (("row", grid.rows, rows), ("column", grid.cols, cols)):
            if isinstance(strip, UnitStrip):
                continue
            counts = " ".join("~" if g is None else str(strip.stamps(g)) for g in shown)
            lines.append(f"  stamps per {what} (a cell gets the product): {counts}")
    return lines


def render(scene: Scene) -> str:
    """The text picture of ``scene``."""
    lines = list(scene.heading)
    for grid in scene.grids:
        lines.append("")
        lines += grid_labels(grid, grid.rows.shown(), grid.cols.shown())
        lines += grid_lines(grid)
    lines.append("")
    lines += scene.notes
    lines.append(LEGEND)
    return "\n".join(lines) + "\n"
