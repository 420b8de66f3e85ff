"""The kernel stepping over the output, one frame per output cell, as an animated GIF
(Pillow, the optional extra ``convarith[gif]``). The frames are the SVG layout rasterised;
at most MAX_FRAMES of them, evenly spaced over the output cells when there are more."""

from __future__ import annotations

from ..frameworks._common import Mapped, refuse
from .scene import build_scene, drawn_axes
from .svg import PALETTE, layout

__all__ = ["MAX_FRAMES", "render"]

MAX_FRAMES = 48
CELL = 12
FRAME_MS = 400


def pillow(label: str):
    """PIL's Image, ImageDraw and ImageFont, or the refusal naming the extra to install."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise refuse(
            label,
            "fmt='gif' needs Pillow, which is not installed",
            "the GIF writer is the optional extra convarith[gif]",
            "pip install 'convarith[gif]' (or pip install Pillow), or use fmt='svg'",
        ) from None
    return Image, ImageDraw, ImageFont


def spread(size: int, count: int) -> list[int]:
    """``count`` indices of range(size), evenly spaced, the first and the last included."""
    if count >= size:
        return list(range(size))
    return [0] if count == 1 else [i * (size - 1) // (count - 1) for i in range(count)]


def frame_cells(mapped: Mapped, axes, at, view) -> tuple[list, int]:
    """The output cells animated (over the drawn axes, the others at ``at``'s index or 0)
    and how many output cells the drawn axes hold."""
    op = mapped.ops[0]
    grid = build_scene(mapped, axes=axes, at=at, view=view).grids[1]  # checks axes, at and view first
    drawn = drawn_axes(axes, op.rank, mapped.call.base)
    rows = grid.rows.out if len(drawn) == 2 else 1
    cols = grid.cols.out
    if grid.chosen() is None:
        return [], 0
    base = [0] * op.rank if at is None else list((at,) if isinstance(at, int) else at)
    total = rows * cols
    across = cols if total <= MAX_FRAMES else min(cols, MAX_FRAMES, max(1, round((MAX_FRAMES * cols / rows) ** 0.5)))
    down = min(rows, MAX_FRAMES // across)
    cells = []
    for row in spread(rows, down):  # a coarse tour of the output, first and last cells included
        for col in spread(cols, across):
            cell = list(base)
            cell[drawn[-1]] = col
            if len(drawn) == 2:
                cell[drawn[0]] = row
            cells.append(tuple(cell))
    return cells, total


def render(mapped: Mapped, *, axes=None, at=None, view="forward") -> bytes:
    """The GIF (bytes): one frame per output cell, at most MAX_FRAMES."""
    import io

    image_module, draw_module, font_module = pillow(mapped.call.base)
    cells, total = frame_cells(mapped, axes, at, view)
    scenes = [build_scene(mapped, axes=axes, at=cell, view=view) for cell in cells] or [
        build_scene(mapped, axes=axes, at=at, view=view)
    ]
    if total > len(cells) and cells:
        for scene in scenes:
            scene.notes.append(f"{len(cells)} frames, spread evenly over the {total} output cells")
    font = font_module.load_default()
    colours = ["#ffffff", *dict.fromkeys(PALETTE.values())]  # one fixed palette: no quantizing per frame
    ink = {colour: index for index, colour in enumerate(colours)}
    palette = [int(colour[i : i + 2], 16) for colour in colours for i in (1, 3, 5)]
    laid = [layout(scene, CELL) for scene in scenes]
    size = (int(max(item[0] for item in laid)), int(max(item[1] for item in laid)))  # one size for every frame
    frames = []
    for _, _, loose, blocks in laid:
        image = image_module.new("P", size, 0)
        image.putpalette(palette)
        pen = draw_module.Draw(image)
        for shape in loose + [shape for block in blocks for shape in block.shapes]:
            box = [shape.x, shape.y, shape.x + shape.w - 1, shape.y + shape.h - 1]
            if shape.kind == "text":
                words = shape.text.replace("\u22ee", ":").replace("\u2026", "...")  # glyphs the bitmap font lacks
                pen.text((shape.x, shape.y - 11), words, fill=ink[PALETTE["text"]], font=font)
            elif shape.cls == "swatch":
                pen.rectangle(box, fill=ink[shape.fill])
            elif shape.cls.startswith("kernel"):
                pen.rectangle(box, outline=ink[PALETTE["kernel"]], width=1 if "excluded" in shape.cls else 2)
            elif shape.cls == "selected":
                pen.rectangle(box, outline=ink[PALETTE["selected"]], width=2)
            else:
                pen.rectangle(box, fill=ink[PALETTE[shape.cls]], outline=0)
        frames.append(image)
    stream = io.BytesIO()
    frames[0].save(stream, "GIF", save_all=True, append_images=frames[1:], duration=FRAME_MS, loop=0)
    return stream.getvalue()
