"""How Medium reads a post's ``content``: Markdown to HTML, the tags it keeps, the title it guesses.

The emulator needs this twice: to pick a title when the one sent is ignored (Medium does that
to titles over 100 characters and then takes the first heading, else the first text), and to
show on its page what a reader of the post on Medium would see. Medium keeps a small set of
tags (headings, paragraphs, emphasis, links, lists, block quotes, ``pre``/``code``, images,
figures, ``hr``, ``br``); everything else is dropped, and script-like elements go with their
text. The result is safe to put in a page: every attribute but a link's ``href`` and an
image's ``src``/``alt`` is removed, and those only keep ``http``, ``https`` or ``mailto`` URLs.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import mistune

MAX_TITLE_CHARS = 100
UNTITLED = "Untitled"

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
KEPT_TAGS = HEADINGS | frozenset(
    {"p", "strong", "em", "b", "i", "a", "ul", "ol", "li", "blockquote", "pre", "code", "img"}
    | {"figure", "figcaption", "hr", "br"}
)
VOID_TAGS = frozenset({"img", "hr", "br"})
# Elements whose text must not leak into the page once the element is dropped.
DROPPED_WITH_TEXT = frozenset(
    {"script", "style", "iframe", "noscript", "template", "object", "embed", "svg", "math"}
    | {"textarea", "select", "title", "head"}
)
LINK_SCHEMES = ("http", "https", "mailto")
IMAGE_SCHEMES = ("http", "https")
_CONTROL_CHARS = re.compile(r"[\x00-\x20\x7f]+")
_WHITESPACE = re.compile(r"\s+")


def to_html(content: str, content_format: str) -> str:
    """The post's HTML as Medium imports it: Markdown is converted, HTML is taken as sent."""
    if content_format == "markdown":
        return str(mistune.create_markdown(escape=False)(content))
    return content


def sanitize(markup: str) -> str:
    """Only the tags and attributes Medium keeps, balanced, with all text escaped."""
    cleaner = _Sanitizer()
    cleaner.feed(markup)
    return cleaner.result()


def derive_title(content: str, content_format: str) -> str:
    """The title Medium shows when it ignores the one sent: first heading, else first text."""
    finder = _TitleFinder()
    finder.feed(to_html(content, content_format))
    finder.close()
    text = finder.heading or finder.first_text or UNTITLED
    return text[:MAX_TITLE_CHARS].strip()


def safe_url(url: str, schemes: tuple[str, ...]) -> str | None:
    """``url`` when it is absolute with one of ``schemes``; browsers ignore control characters
    inside a scheme, so they are removed before the check rather than trusted."""
    cleaned = _CONTROL_CHARS.sub("", url)
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return None
    if parts.scheme.lower() not in schemes:
        return None
    if parts.scheme.lower() != "mailto" and not parts.netloc:
        return None
    return cleaned


class _Sanitizer(HTMLParser):
    """Rebuilds the markup from parser events, so nothing unparsed reaches the output."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._open: list[str] = []
        self._dropping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._dropping or tag in DROPPED_WITH_TEXT:
            if tag in DROPPED_WITH_TEXT:
                self._dropping.append(tag)
            return
        if tag not in KEPT_TAGS:
            return
        kept = self._attributes(tag, dict(attrs))
        if kept is None:
            return
        self._out.append(f"<{tag}{kept}>")
        if tag not in VOID_TAGS:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._dropping:
            if tag == self._dropping[-1]:
                self._dropping.pop()
            return
        if tag in VOID_TAGS or tag not in self._open:
            return
        while self._open:
            closed = self._open.pop()
            self._out.append(f"</{closed}>")
            if closed == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self._out.append(html.escape(data, quote=False))

    def result(self) -> str:
        self.close()
        self._out.extend(f"</{tag}>" for tag in reversed(self._open))
        self._open.clear()
        return "".join(self._out)

    @staticmethod
    def _attributes(tag: str, attrs: dict[str, str | None]) -> str | None:
        """The attribute text to keep, or ``None`` to drop an image that has no usable source."""
        if tag == "a":
            href = safe_url(attrs.get("href") or "", LINK_SCHEMES)
            if href is None:
                return ""
            return f' href="{html.escape(href)}" rel="nofollow noopener noreferrer"'
        if tag == "img":
            src = safe_url(attrs.get("src") or "", IMAGE_SCHEMES)
            if src is None:
                return None
            alt = attrs.get("alt") or ""
            return f' src="{html.escape(src)}" alt="{html.escape(alt)}"'
        return ""


class _TitleFinder(HTMLParser):
    """Collects the text of the first heading and the first visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.heading = ""
        self.first_text = ""
        self._in_heading = False
        self._heading_parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_WITH_TEXT:
            self._hidden += 1
        elif tag in HEADINGS and not self.heading:
            self._in_heading = True

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_WITH_TEXT:
            self._hidden = max(0, self._hidden - 1)
        elif tag in HEADINGS and self._in_heading:
            self._in_heading = False
            self.heading = _WHITESPACE.sub(" ", "".join(self._heading_parts)).strip()
            self._heading_parts.clear()

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._in_heading:
            self._heading_parts.append(data)
        text = _WHITESPACE.sub(" ", data).strip()
        if text and not self.first_text:
            self.first_text = text
