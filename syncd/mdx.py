"""Gatsby's MDX, reduced to the Markdown in it before rendering.

MDX is Markdown with JavaScript in it: ``import``/``export`` statements, JSX components
(``<Chart data={…} />``, ``<Callout>…</Callout>``) and ``{expressions}``. Medium can run
none of it, so each is dropped with a warning naming its line, and the Markdown between
them is kept and rendered as usual. Code (fenced blocks, inline code spans) is never
touched. Lines are kept where they were (a dropped statement leaves empty lines), so the
line numbers of later warnings still match the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})")
_STATEMENT = re.compile(r"^(import|export)\b")
_COMPONENT_START = re.compile(r"<(/?)([A-Z][\w.]*)?(?=[\s/>])")
_OPENERS = {"(": ")", "[": "]", "{": "}"}


@dataclass
class MdxResult:
    text: str
    warnings: list[tuple[int | None, str]] = field(default_factory=list)


def strip_mdx(body: str) -> MdxResult:
    """``body`` without MDX's JavaScript; Markdown, code and HTML tags are left as they are."""
    result = MdxResult(text="")
    lines = body.split("\n")
    out: list[str] = []
    fence: str | None = None
    index = 0
    pending: list[str] = []

    def flush() -> None:
        if pending:
            start = len(out) - len(pending)
            out[start:] = _strip_jsx("\n".join(pending), start, result).split("\n")
            pending.clear()

    while index < len(lines):
        line = lines[index]
        opened = _FENCE.match(line)
        if fence is not None:
            out.append(line)
            if opened and opened.group(2)[0] == fence[0] and len(opened.group(2)) >= len(fence) \
                    and not line[opened.end():].strip():
                fence = None
            index += 1
            continue
        if opened:
            flush()
            fence = opened.group(2)
            out.append(line)
            index += 1
            continue
        statement = _STATEMENT.match(line)
        if statement:
            flush()
            end = _statement_end(lines, index)
            result.warnings.append((index + 1, f"MDX `{statement.group(1)}` dropped: "
                                    "Medium cannot run JavaScript"))
            out.extend("" for _ in range(index, end + 1))
            index = end + 1
            continue
        out.append(line)
        pending.append(line)
        index += 1
    flush()
    result.text = "\n".join(out)
    return result


def _statement_end(lines: list[str], start: int) -> int:
    """The last line of an import/export statement: where its brackets are balanced."""
    depth = 0
    for index in range(start, len(lines)):
        depth += _bracket_balance(lines[index])
        if depth <= 0 and not lines[index].rstrip().endswith((",", "=", "(", "{", "[")):
            return index
    return len(lines) - 1


def _bracket_balance(line: str) -> int:
    balance = 0
    quote: str | None = None
    for char in line:
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'`":
            quote = char
        elif char in "([{":
            balance += 1
        elif char in ")]}":
            balance -= 1
    return balance


def _strip_jsx(text: str, first_line: int, result: MdxResult) -> str:
    """Remove JSX components and ``{expressions}`` from Markdown text outside code blocks."""
    out: list[str] = []
    position = 0
    warned: set[str] = set()
    while position < len(text):
        char = text[position]
        if char == "`":
            run = len(text) - len(text[position:].lstrip("`"))
            ticks = text[position:run]
            close = text.find(ticks, run)
            end = run if close < 0 else close + len(ticks)
            out.append(text[position:end])
            position = end
            continue
        if char == "\\" and position + 1 < len(text):
            out.append(text[position:position + 2])
            position += 2
            continue
        line = first_line + text.count("\n", 0, position) + 1
        if char == "<":
            found = _COMPONENT_START.match(text, position)
            if found and (found.group(2) or text.startswith(("<>", "</>"), position)):
                end = _tag_end(text, found.end())
                name = found.group(2) or "fragment"
                if name not in warned:
                    warned.add(name)
                    result.warnings.append((line, f"MDX component <{name}> dropped (its "
                                            "Markdown content is kept): Medium cannot run it"))
                out.append("\n" * text.count("\n", position, end))
                position = end
                continue
        if char == "{":
            end = _brace_end(text, position)
            expression = text[position + 1:end - 1].strip()
            if not (expression.startswith("/*") and expression.endswith("*/")):
                result.warnings.append((line, f"MDX expression {{{_short(expression)}}} "
                                        "dropped: Medium cannot run it"))
            out.append("\n" * text.count("\n", position, end))
            position = end
            continue
        out.append(char)
        position += 1
    return "".join(out)


def _tag_end(text: str, position: int) -> int:
    """Just past the ``>`` that closes a JSX tag, skipping quoted and braced attributes."""
    quote: str | None = None
    while position < len(text):
        char = text[position]
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "{":
            position = _brace_end(text, position)
            continue
        elif char == ">":
            return position + 1
        position += 1
    return len(text)


def _brace_end(text: str, position: int) -> int:
    """Just past the ``}`` matching the ``{`` at ``position``."""
    depth = 0
    quote: str | None = None
    while position < len(text):
        char = text[position]
        if quote:
            if char == "\\":
                position += 1
            elif char == quote:
                quote = None
        elif char in "\"'`":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return position + 1
        position += 1
    return len(text)


def _short(expression: str) -> str:
    flat = " ".join(expression.split())
    return flat if len(flat) <= 40 else flat[:37] + "..."
