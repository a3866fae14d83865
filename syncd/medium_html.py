"""Markdown (as mistune 3 parses it) to the HTML Medium keeps, with a warning per loss.

Medium keeps headings, paragraphs, ``strong``/``em``, links, lists, block quotes,
``pre``/``code``, images, figures, ``hr`` and ``br``, and nothing else. Each Markdown
construct becomes:

- headings: Medium has two levels. The post title is the ``h1`` at the top; in the body, the
  highest level the author used (often ``##``) becomes ``h1`` (Medium's large heading) and
  every lower one ``h2`` (its small heading). A first heading repeating the title is dropped.
- code blocks: ``<pre><code>`` with the text exactly as written (whitespace, ``<``, ``&``);
  the language is dropped, since Medium keeps none. Inline code stays ``<code>``.
- nested lists: folded into their parent item, one ``<br>`` line per nested item, marked
  ``◦`` (or its number) and indented; a block inside an item (code, quote) follows the list.
  An ordered list that had to be split, or starts past 1, becomes numbered paragraphs, so
  Medium's own numbering never renumbers it.
- images: a ``<figure>`` with a ``<figcaption>`` from the title, else the alt text; an image
  inside a sentence follows its paragraph. A linked image links its caption.
- tables: monospaced text in a code block, or a picture of the table when the post
  renderer draws them (``[medium] tables = "image"``); footnotes: ``[1]`` in the text and
  numbered notes at the end; task lists: ☐ and ☑; definition lists: a bold term over its
  definitions; strikethrough: combining strokes (U+0336); math: its source as code.
- links: made absolute against the post's canonical URL (``#anchors`` too: Medium has
  no in-page anchors, so they point at the original post).
- raw HTML: see :mod:`syncd.rawhtml`.

Output is deterministic: the same tokens give the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from syncd import rawhtml
from syncd.texttable import text_table

Token = dict[str, Any]
# Draws a table (header, rows, aligns, its text block): the figure to send, or why not.
TableImage = Callable[[list[str] | None, list[list[str]], list[str | None], str],
                      tuple[str | None, str | None]]
SAFE_SCHEMES = ("http", "https", "mailto", "tel", "ftp")
STRIKE = "\u0336"
NESTED_INDENT = "\u00a0" * 4


@dataclass
class Warnings:
    """Warnings with the line of the post's body they belong to, in order, without repeats
    (the post renderer turns body lines into file lines)."""

    items: list[tuple[int | None, str]] = field(default_factory=list)

    def add(self, line: int | None, message: str) -> None:
        if (line, message) not in self.items:
            self.items.append((line, message))


class MediumRenderer:
    """Renders one post's token tree; create one per post."""

    def __init__(self, *, canonical_url: str | None, title: str,
                 image_url: Callable[[str, int | None], str | None], warnings: Warnings,
                 table_image: TableImage | None = None) -> None:
        self.canonical_url = canonical_url
        self.table_image = table_image
        self.title = title
        self.image_url = image_url
        self.warnings = warnings
        self.line: int | None = None
        self.top_level = 2
        self.footnotes: list[Token] = []
        self._strike = 0
        self._warned: set[str] = set()

    # --- document -------------------------------------------------------------------------

    def document(self, tokens: list[Token]) -> list[str]:
        """The body's blocks; a first heading that repeats the title is left out."""
        content = [t for t in tokens if t["type"] != "blank_line"]
        if content and content[0]["type"] == "heading" and \
                _same_text(plain_text(content[0].get("children", []), with_html=True),
                           self.title):
            content = content[1:]
        levels = [t["attrs"]["level"] for t in content if t["type"] == "heading"]
        self.top_level = min(levels) if levels else 2
        blocks: list[str] = []
        for token in content:
            self.line = token.get("_line")
            blocks.extend(self.block(token))
        if self.footnotes:
            blocks.extend(self._footnotes())
        return blocks

    def warn(self, message: str, once: str | None = None) -> None:
        """Warn about the current block; ``once`` names a warning given once per post."""
        if once is not None:
            if once in self._warned:
                return
            self._warned.add(once)
        self.warnings.add(self.line, message)

    def heading_tag(self, level: int) -> str:
        return "h1" if level <= self.top_level else "h2"

    # --- blocks ---------------------------------------------------------------------------

    def block(self, token: Token) -> list[str]:
        kind = token["type"]
        method = getattr(self, f"_block_{kind}", None)
        if method is not None:
            return list(method(token))
        if kind == "blank_line":
            return []
        text = plain_text(token.get("children", [])) or token.get("raw", "")
        self.warn(f"unknown Markdown construct {kind!r} kept as plain text")
        return [f"<p>{html.escape(text, quote=False)}</p>"] if text.strip() else []

    def _block_paragraph(self, token: Token) -> list[str]:
        inline, figures = self.inline(token.get("children", []))
        if not inline.strip() or inline.strip() == "<br>":
            return figures
        if figures:
            self.warn("an image inside a paragraph is shown after it (Medium has no inline "
                      "images)")
        return [f"<p>{inline.strip()}</p>", *figures]

    _block_block_text = _block_paragraph

    def _block_heading(self, token: Token) -> list[str]:
        inline, figures = self.inline(token.get("children", []))
        tag = self.heading_tag(token["attrs"]["level"])
        blocks = [f"<{tag}>{inline.strip()}</{tag}>"] if inline.strip() else []
        return blocks + figures

    def _block_block_code(self, token: Token) -> list[str]:
        return [_pre(token.get("raw", ""))]

    def _block_thematic_break(self, token: Token) -> list[str]:
        return ["<hr>"]

    def _block_block_html(self, token: Token) -> list[str]:
        converted = rawhtml.convert_block(token.get("raw", ""), RawHtmlHooks(self))
        return [converted] if converted else []

    def _block_block_math(self, token: Token) -> list[str]:
        self.warn("math is shown as its LaTeX source in a code block (Medium has no math)")
        return [_pre(token.get("raw", ""))]

    def _block_table(self, token: Token) -> list[str]:
        header: list[str] = []
        aligns: list[str | None] = []
        rows: list[list[str]] = []
        for part in token.get("children", []):
            if part["type"] == "table_head":
                header = [self.cell_text(cell) for cell in part["children"]]
                aligns = [cell.get("attrs", {}).get("align") for cell in part["children"]]
            else:
                rows.extend([self.cell_text(cell) for cell in row["children"]]
                            for row in part.get("children", []))
        return [self.table(header or None, rows, aligns, "a table")]

    def table(self, header: list[str] | None, rows: list[list[str]],
              aligns: list[str | None], what: str) -> str:
        """A table as Medium can show it: a picture when one is drawn, else aligned text."""
        text = _pre(text_table(header, rows, aligns))
        why_not = None
        if self.table_image is not None:
            figure, why_not = self.table_image(header, rows, aligns, text)
            if figure is not None:
                self.warn(f"{what} became an image (Medium has no tables); its text is the "
                          "image's alt text")
                return figure
        reason = f"; not an image: {why_not}" if why_not else ""
        self.warn(f"{what} became preformatted text (Medium has no tables){reason}")
        return text

    def cell_text(self, cell: Token) -> str:
        """A table cell as plain text: links keep their URL, images their alt text."""
        return " ".join(self.plain(cell.get("children", [])).split())

    def plain(self, children: list[Token]) -> str:
        parts: list[str] = []
        for child in children:
            kind = child["type"]
            if kind == "link":
                text = self.plain(child.get("children", []))
                url = self.link_url(child["attrs"].get("url", "")) or ""
                parts.append(text if not url or text == url else f"{text} ({url})")
            elif kind == "image":
                parts.append(f"[image: {self.plain(child.get('children', []))}]")
            elif kind in ("softbreak", "linebreak"):
                parts.append(" ")
            elif kind == "inline_html":
                continue
            elif "children" in child:
                parts.append(self.plain(child["children"]))
            else:
                parts.append(child.get("raw", ""))
        return "".join(parts)

    def _block_block_quote(self, token: Token) -> list[str]:
        blocks: list[str] = []
        for child in token.get("children", []):
            if child["type"] in ("paragraph", "block_text", "heading"):
                inline, figures = self.inline(child.get("children", []))
                if inline.strip():
                    blocks.append(f"<blockquote>{inline.strip()}</blockquote>")
                blocks.extend(figures)
            elif child["type"] == "block_quote":
                blocks.extend(self._block_block_quote(child))
            elif child["type"] != "blank_line":
                self.warn(f"a {child['type'].replace('_', ' ')} inside a block quote is shown "
                          "outside it (Medium quotes hold text only)")
                blocks.extend(self.block(child))
        return blocks

    def _block_list(self, token: Token) -> list[str]:
        attrs = token.get("attrs", {})
        ordered = bool(attrs.get("ordered"))
        start = int(attrs.get("start") or 1)
        segments: list[tuple[str, str]] = []
        for item in token.get("children", []):
            lines, blocks = self.list_item(item, depth=0)
            segments.append(("item", "<br>".join(lines) or "\u00a0"))
            segments.extend(("block", block) for block in blocks)
        split = any(kind == "block" for kind, _ in segments)
        if ordered and (split or start != 1):
            number = start
            out: list[str] = []
            for kind, content in segments:
                if kind == "item":
                    out.append(f"<p>{number}. {content}</p>")
                    number += 1
                else:
                    out.append(content)
            return out
        tag = "ol" if ordered else "ul"
        out = []
        items: list[str] = []
        for kind, content in segments:
            if kind == "item":
                items.append(f"<li>{content}</li>")
            else:
                if items:
                    out.append(f"<{tag}>{''.join(items)}</{tag}>")
                    items = []
                out.append(content)
        if items:
            out.append(f"<{tag}>{''.join(items)}</{tag}>")
        return out

    def list_item(self, item: Token, depth: int) -> tuple[list[str], list[str]]:
        """An item's lines (its text, then its nested items) and the blocks that follow it."""
        lines: list[str] = []
        blocks: list[str] = []
        for child in item.get("children", []):
            kind = child["type"]
            if kind in ("block_text", "paragraph"):
                inline, figures = self.inline(child.get("children", []))
                if inline.strip():
                    lines.append(inline.strip())
                blocks.extend(figures)
            elif kind == "list":
                self.warn("a nested list is folded into its parent items (Medium has no nested "
                          "lists)", once=f"nested-{self.line}")
                attrs = child.get("attrs", {})
                number = int(attrs.get("start") or 1)
                for nested in child.get("children", []):
                    nested_lines, nested_blocks = self.list_item(nested, depth + 1)
                    marker = f"{number}. " if attrs.get("ordered") else "◦ "
                    number += 1
                    first = nested_lines[0] if nested_lines else ""
                    lines.append(NESTED_INDENT * (depth + 1) + marker + first)
                    lines.extend(nested_lines[1:])
                    blocks.extend(nested_blocks)
            elif kind != "blank_line":
                blocks.extend(self.block(child))
        if item["type"] == "task_list_item":
            box = "☑ " if item.get("attrs", {}).get("checked") else "☐ "
            lines = [box + (lines[0] if lines else "")] + lines[1:]
        return lines, blocks

    def _block_def_list(self, token: Token) -> list[str]:
        blocks: list[str] = []
        current: list[str] = []
        after: list[str] = []

        def close() -> None:
            if current:
                blocks.append("<p>" + "<br>".join(current) + "</p>")
                current.clear()
            blocks.extend(after)
            after.clear()

        for child in token.get("children", []):
            if child["type"] == "def_list_head":
                close()
                inline, figures = self.inline(child.get("children", []))
                current.append(f"<strong>{inline.strip()}</strong>")
                after.extend(figures)
            elif child["type"] == "def_list_item":
                for part in child.get("children", []):
                    if part["type"] in ("block_text", "paragraph"):
                        inline, figures = self.inline(part.get("children", []))
                        current.append(inline.strip())
                        after.extend(figures)
                    elif part["type"] != "blank_line":
                        after.extend(self.block(part))
        close()
        return blocks

    def _block_footnotes(self, token: Token) -> list[str]:
        self.footnotes.extend(token.get("children", []))
        return []

    def _footnotes(self) -> list[str]:
        self.line = None
        self.warn("footnotes became numbered notes at the end of the post (Medium has no "
                  "footnotes or in-page links)")
        blocks = ["<hr>"]
        for item in self.footnotes:
            number = item.get("attrs", {}).get("index", "?")
            parts: list[str] = []
            after: list[str] = []
            for child in item.get("children", []):
                if child["type"] in ("paragraph", "block_text"):
                    inline, figures = self.inline(child.get("children", []))
                    parts.append(inline.strip())
                    after.extend(figures)
                elif child["type"] != "blank_line":
                    after.extend(self.block(child))
            blocks.append(f"<p>[{number}] " + "<br>".join(parts) + "</p>")
            blocks.extend(after)
        return blocks

    # --- inline ---------------------------------------------------------------------------

    def inline(self, children: list[Token]) -> tuple[str, list[str]]:
        """Inline HTML and the figures its images became (they follow the block)."""
        figures: list[str] = []
        text = "".join(self._inline_token(child, figures) for child in children)
        if _has_raw_html(children):
            text, hoisted = rawhtml.convert_inline(text, RawHtmlHooks(self))
            figures.extend(hoisted)
        return text, figures

    def _inline_token(self, token: Token, figures: list[str]) -> str:
        kind = token["type"]
        if kind == "text":
            return self._text(token.get("raw", ""))
        if kind in ("emphasis", "strong"):
            tag = "em" if kind == "emphasis" else "strong"
            inner = self._inline_children(token, figures)
            return f"<{tag}>{inner}</{tag}>" if inner.strip() else inner
        if kind == "codespan":
            return f"<code>{html.escape(token.get('raw', ''), quote=False)}</code>"
        if kind == "linebreak":
            return "<br>"
        if kind == "softbreak":
            return "\n"
        if kind == "link":
            return self._link(token, figures)
        if kind == "image":
            figure = self.figure(token["attrs"].get("url", ""), self.plain(token["children"]),
                                 token["attrs"].get("title"))
            if figure:
                figures.append(figure)
            return ""
        if kind == "inline_html":
            return token.get("raw", "")
        if kind == "strikethrough":
            self.warn("strikethrough is drawn with combining strokes (Medium has none)",
                      once="strike")
            self._strike += 1
            try:
                return self._inline_children(token, figures)
            finally:
                self._strike -= 1
        if kind == "footnote_ref":
            return f"[{token.get('attrs', {}).get('index', token.get('raw', '?'))}]"
        if kind == "inline_math":
            self.warn("math is shown as its LaTeX source (Medium has no math)", once="math")
            return f"<code>{html.escape(token.get('raw', ''), quote=False)}</code>"
        if "children" in token:
            return self._inline_children(token, figures)
        self.warn(f"unknown inline construct {kind!r} kept as text")
        return self._text(token.get("raw", ""))

    def _inline_children(self, token: Token, figures: list[str]) -> str:
        return "".join(self._inline_token(child, figures) for child in token.get("children", []))

    def _text(self, raw: str) -> str:
        if self._strike:
            raw = "".join(char + STRIKE if not char.isspace() else char for char in raw)
        return html.escape(raw, quote=False)

    def _link(self, token: Token, figures: list[str]) -> str:
        url = self.link_url(token["attrs"].get("url", ""))
        children = token.get("children", [])
        if children and all(child["type"] == "image" for child in children):
            for child in children:
                figure = self.figure(child["attrs"].get("url", ""), self.plain(child["children"]),
                                     child["attrs"].get("title"), link=url)
                if figure:
                    figures.append(figure)
            return ""
        inner = self._inline_children(token, figures)
        if url is None or not inner.strip():
            return inner
        return f'<a href="{html.escape(url)}">{inner}</a>'

    def link_url(self, url: str) -> str | None:
        """A link's absolute URL, or ``None`` when it cannot be a link on Medium."""
        url = url.strip()
        if not url:
            return None
        if url.startswith("//"):
            return "https:" + url
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme:
            if scheme in SAFE_SCHEMES:
                return url
            self.warn(f"a {scheme}: link was made plain text (Medium keeps web links only)")
            return None
        if self.canonical_url is None:
            self.warn(f"relative link {url!r} made plain text: the post has no public URL")
            return None
        if url.startswith("#"):
            base = urlsplit(self.canonical_url)
            return urlunsplit((base.scheme, base.netloc, base.path, base.query, url[1:]))
        return urljoin(self.canonical_url, url)

    def figure(self, src: str, alt: str, title: str | None, link: str | None = None) -> str:
        """``<figure>`` for one image, or "" when the image cannot be sent (warned)."""
        url = self.image_url(src, self.line)
        if url is None:
            return ""
        caption = (title or alt or "").strip()
        parts = [f'<figure><img src="{html.escape(url)}" alt="{html.escape(alt.strip())}">']
        if link is not None:
            text = html.escape(caption or link, quote=False)
            parts.append(f'<figcaption><a href="{html.escape(link)}">{text}</a></figcaption>')
        elif caption:
            parts.append(f"<figcaption>{html.escape(caption, quote=False)}</figcaption>")
        parts.append("</figure>")
        return "".join(parts)


class RawHtmlHooks:
    """What :mod:`syncd.rawhtml` needs of the renderer for the author's raw HTML."""

    def __init__(self, renderer: MediumRenderer) -> None:
        self.renderer = renderer

    def link(self, href: str) -> str | None:
        return self.renderer.link_url(href)

    def figure(self, src: str, alt: str, caption: str | None) -> str:
        return self.renderer.figure(src, alt, caption)

    def heading(self, level: int) -> str:
        return self.renderer.heading_tag(level)

    def warn(self, message: str) -> None:
        self.renderer.warn(message)

    def table(self, header: list[str], rows: list[list[str]]) -> str:
        return self.renderer.table(header, rows, [], "an HTML table")


def _pre(code: str) -> str:
    return f"<pre><code>{html.escape(code, quote=False)}</code></pre>"


def _has_raw_html(children: Iterable[Token]) -> bool:
    for child in children:
        if child["type"] == "inline_html":
            return True
        if "children" in child and _has_raw_html(child["children"]):
            return True
    return False


def plain_text(children: list[Token], with_html: bool = False) -> str:
    """The text of inline tokens, without markup (raw HTML kept as written if ``with_html``:
    a heading repeating the title ``A <b> tag`` parses as text and a tag)."""
    parts: list[str] = []
    for child in children:
        if "children" in child:
            parts.append(plain_text(child["children"], with_html))
        elif child["type"] in ("softbreak", "linebreak"):
            parts.append(" ")
        elif child["type"] != "inline_html" or with_html:
            parts.append(child.get("raw", ""))
    return "".join(parts)


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())
