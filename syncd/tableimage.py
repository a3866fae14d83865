"""A table drawn as a PNG, for authors who want their tables on Medium as pictures.

Medium has no tables; with ``[medium] tables = "image"`` syncd draws each one and uploads
the picture. By default it is drawn with the font Pillow bundles (Aileron, inside Pillow
since 10.1), never a system font, so the same table gives the same PNG bytes on every machine
with the same Pillow: the upload cache (keyed by content hash) then uploads it once. That font
draws ASCII and a few symbols only; ``[medium] table_font`` names a TrueType/OpenType file
with more (DejaVu Sans covers most European scripts). :func:`undrawable` names what a table
would lose in the chosen font, and the caller keeps such a table as text instead of sending
boxes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

# Large enough to stay readable when Medium shrinks a wide table into its 700-pixel column;
# a cell wraps past MAX_CELL_WIDTH so one long cell does not make the whole table tiny.
FONT_SIZE = 28
PAD_X = 18
PAD_Y = 12
LINE = 2
MAX_CELL_WIDTH = 640
INK = 24
RULE = 170
HEADER_FILL = 232
PAPER = 255

# The biggest table drawn. A picture costs time and memory with its area (a 20,000-row
# table took 57 s and 2.4 GB) and is unreadable in Medium's column long before that; a
# bigger table stays text. At these limits a table draws in about a second, in a few MB.
MAX_ROWS = 100
MAX_COLUMNS = 12
MAX_CELLS = 600
MAX_TEXT = 10_000
MAX_PIXELS = 12_000_000


class TableTooBig(Exception):
    """A table over one of the limits above: ``what`` it has, over ``limit``."""

    def __init__(self, what: str, count: int, limit: int) -> None:
        super().__init__(f"{count:,} {what} (at most {limit:,})")
        self.what, self.count, self.limit = what, count, limit


def check_size(header: Sequence[str] | None, rows: Sequence[Sequence[str]]) -> None:
    """Raise :class:`TableTooBig` for a table too big to draw, before any font work."""
    all_rows = ([header] if header else []) + list(rows)
    columns = max((len(row) for row in all_rows), default=0)
    text = sum(len(cell) for row in all_rows for cell in row)
    for what, count, limit in (("rows", len(all_rows), MAX_ROWS),
                               ("columns", columns, MAX_COLUMNS),
                               ("cells", len(all_rows) * columns, MAX_CELLS),
                               ("characters", text, MAX_TEXT)):
        if count > limit:
            raise TableTooBig(what, count, limit)


@lru_cache(maxsize=4)
def _font(path: str | None = None) -> FreeTypeFont:
    """The bundled font, or the TrueType/OpenType file at ``path`` (checked by the config)."""
    from PIL import ImageFont

    if path is not None:
        return ImageFont.truetype(path, size=FONT_SIZE)
    font = ImageFont.load_default(size=FONT_SIZE)
    assert isinstance(font, ImageFont.FreeTypeFont), "Pillow was built without FreeType"
    return font


def font_problem(path: str) -> str | None:
    """Why the file at ``path`` cannot draw tables, or None when it can."""
    try:
        _font(path)
    except OSError as exc:
        return f"cannot be loaded as a TrueType or OpenType font ({exc})"
    return None


@lru_cache(maxsize=4)
def _missing_glyph(path: str | None) -> bytes:
    """What the font draws for a character it does not have (its .notdef box)."""
    return bytes(_font(path).getmask("\U0010fffd"))


@lru_cache(maxsize=8192)
def _drawable(char: str, path: str | None) -> bool:
    return char.isspace() or bytes(_font(path).getmask(char)) != _missing_glyph(path)


def undrawable(cells: Sequence[str], font_path: str | None = None) -> list[str]:
    """The characters of ``cells`` the font has no glyph for, in order of first use."""
    missing: dict[str, None] = {}
    for cell in cells:
        for char in cell:
            if not _drawable(char, font_path):
                missing.setdefault(char, None)
    return list(missing)


def table_png(header: Sequence[str] | None, rows: Sequence[Sequence[str]],
              aligns: Sequence[str | None] = (), font_path: str | None = None) -> bytes:
    """The table as a grayscale PNG: a shaded header row, ruled cells, long cells wrapped.

    Raises :class:`TableTooBig` for a table over the size limits or whose picture would be
    over MAX_PIXELS, before drawing anything."""
    from PIL import Image, ImageDraw

    check_size(header, rows)
    font = _font(font_path)
    all_rows = ([list(header)] if header else []) + [list(row) for row in rows]
    columns = max(len(row) for row in all_rows)
    for row in all_rows:
        row.extend("" for _ in range(columns - len(row)))
    widths = [min(MAX_CELL_WIDTH, max(1, *(int(font.getlength(row[i])) + 1 for row in all_rows)))
              for i in range(columns)]
    wrapped = [[_wrap(cell, widths[i], font) for i, cell in enumerate(row)] for row in all_rows]
    ascent, descent = font.getmetrics()
    line_height = ascent + descent
    heights = [max(len(lines) for lines in row) * line_height + 2 * PAD_Y for row in wrapped]
    xs = [LINE]
    for width in widths:
        xs.append(xs[-1] + width + 2 * PAD_X + LINE)
    ys = [LINE]
    for height in heights:
        ys.append(ys[-1] + height + LINE)
    if xs[-1] * ys[-1] > MAX_PIXELS:
        raise TableTooBig("pixels in its picture", xs[-1] * ys[-1], MAX_PIXELS)
    image = Image.new("L", (xs[-1], ys[-1]), PAPER)
    draw = ImageDraw.Draw(image)
    if header:
        draw.rectangle((0, 0, xs[-1] - 1, ys[1] - 1), fill=HEADER_FILL)
    for x in xs:
        draw.rectangle((x - LINE, 0, x - 1, ys[-1] - 1), fill=RULE)
    for y in ys:
        draw.rectangle((0, y - LINE, xs[-1] - 1, y - 1), fill=RULE)
    for r, row in enumerate(wrapped):
        for c, lines in enumerate(row):
            align = aligns[c] if c < len(aligns) else None
            for n, text in enumerate(lines):
                gap = widths[c] - int(font.getlength(text))
                offset = gap if align == "right" else gap // 2 if align == "center" else 0
                draw.text((xs[c] + PAD_X + offset, ys[r] + PAD_Y + n * line_height), text,
                          font=font, fill=INK)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _wrap(text: str, width: int, font: FreeTypeFont) -> list[str]:
    """``text`` in lines no wider than ``width`` pixels: at spaces, or inside a long word."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if current and font.getlength(current + char) > width:
                lines.append(current)
                current = ""
            current += char
    lines.append(current)
    return lines
