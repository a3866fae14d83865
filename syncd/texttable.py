"""A table as monospaced text: what a Markdown or HTML table becomes on Medium, which has none.

Columns are padded to their widest cell by *display* width (a CJK character or an emoji
takes two columns in a monospaced font), so the grid lines up in Medium's code block.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def display_width(text: str) -> int:
    """Columns ``text`` takes in a monospaced font: wide characters 2, combining marks 0."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def text_table(header: Sequence[str] | None, rows: Sequence[Sequence[str]],
               aligns: Sequence[str | None] = ()) -> str:
    """The table as lines of ``| cell | cell |`` with a rule under the header."""
    all_rows = ([list(header)] if header else []) + [list(row) for row in rows]
    if not all_rows:
        return ""
    columns = max(len(row) for row in all_rows)
    for row in all_rows:
        row.extend("" for _ in range(columns - len(row)))
    widths = [max(1, *(display_width(row[i]) for row in all_rows)) for i in range(columns)]

    def line(cells: Sequence[str]) -> str:
        padded = []
        for index, cell in enumerate(cells):
            gap = widths[index] - display_width(cell)
            align = aligns[index] if index < len(aligns) else None
            if align == "right":
                padded.append(" " * gap + cell)
            elif align == "center":
                padded.append(" " * (gap // 2) + cell + " " * (gap - gap // 2))
            else:
                padded.append(cell + " " * gap)
        return ("| " + " | ".join(padded) + " |").rstrip()

    lines = []
    if header:
        lines.append(line(all_rows[0]))
        lines.append("|" + "|".join("-" * (width + 2) for width in widths) + "|")
        body = all_rows[1:]
    else:
        body = all_rows
    lines.extend(line(row) for row in body)
    return "\n".join(lines)
