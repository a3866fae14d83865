"""Raw HTML written inside Markdown, reduced to the HTML Medium keeps.

Medium keeps headings, paragraphs, ``strong``/``em``, links, lists, block quotes,
``pre``/``code``, images, figures, ``hr`` and ``br``. In an author's raw HTML:

- those tags are kept (``b``/``i`` become ``strong``/``em``), with only a link's ``href``
  and an image's ``src``/``alt``: ``style``, ``class`` and every ``on…`` event attribute go;
- ``script``, ``style``, ``iframe`` and the like never pass, text and all; an ``iframe``
  or a Gist ``script`` with a source becomes a bare link paragraph, which Medium turns into
  an embed, as does a Twitter ``blockquote`` embed;
- a ``table`` becomes what a Markdown table becomes (the hooks' ``table``);
- any other tag (``div``, ``span``, ``kbd``, ``details``…) is reduced to its text.

Everything but the first kind is reported through the hooks' ``warn``. The text is parsed
by :class:`html.parser.HTMLParser` and written back out, so nothing unparsed reaches Medium.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Protocol
from urllib.parse import urlsplit

DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math",
    "canvas", "video", "audio", "form", "select", "textarea", "button", "head", "title",
    "frameset", "frame", "applet",
})
VOID = frozenset({"br", "hr", "img", "input", "embed", "wbr", "source", "track", "area",
                  "col", "meta", "link", "base", "param"})
INLINE_KEPT = {"strong": "strong", "b": "strong", "em": "em", "i": "em", "code": "code",
               "tt": "code"}
PARAGRAPH_LIKE = frozenset({"p", "div", "section", "article", "header", "footer", "main",
                            "aside", "nav", "details", "summary", "dl", "dt", "dd", "address",
                            "center", "fieldset", "legend", "caption", "hgroup", "figcaption"})
SILENT_BLOCKS = frozenset({"p"})
_WHITESPACE = re.compile(r"\s+")
_YOUTUBE_EMBED = re.compile(r"^/embed/([\w-]+)")
_GIST_SCRIPT = re.compile(r"^(https://gist\.github\.com/[\w.-]+/\w+)\.js$")
_TWEET = re.compile(r"^https://(?:mobile\.)?(?:twitter|x)\.com/\w+/status(?:es)?/\d+")


class HtmlHooks(Protocol):
    """What the converter asks of the renderer: URLs, figures, heading levels, warnings."""

    def link(self, href: str) -> str | None: ...

    def figure(self, src: str, alt: str, caption: str | None) -> str: ...

    def heading(self, level: int) -> str: ...

    def warn(self, message: str) -> None: ...

    def table(self, header: list[str], rows: list[list[str]]) -> str: ...


def convert_block(raw: str, hooks: HtmlHooks) -> str:
    """A raw HTML block as Medium blocks, one per line."""
    converter = _Converter(hooks, inline=False)
    converter.feed(raw)
    return converter.finish()


def convert_inline(fragment: str, hooks: HtmlHooks) -> tuple[str, list[str]]:
    """Inline HTML (a paragraph's content) and the figures its images became."""
    converter = _Converter(hooks, inline=True)
    converter.feed(fragment)
    return converter.finish(), converter.hoisted


def embed_url(src: str) -> str | None:
    """The page URL Medium embeds for an ``iframe`` or embed ``script`` source."""
    parts = urlsplit(src if not src.startswith("//") else "https:" + src)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.lower().removeprefix("www.")
    youtube = _YOUTUBE_EMBED.match(parts.path)
    if host in ("youtube.com", "youtube-nocookie.com") and youtube:
        return f"https://www.youtube.com/watch?v={youtube.group(1)}"
    if host == "player.vimeo.com" and parts.path.startswith("/video/"):
        return "https://vimeo.com/" + parts.path.removeprefix("/video/")
    gist = _GIST_SCRIPT.match(f"https://{host}{parts.path}")
    if gist:
        return gist.group(1)
    if host == "gist.github.com":
        return None
    return parts.geturl()


class _Converter(HTMLParser):
    """Rebuilds the markup from parser events, keeping only what Medium keeps."""

    def __init__(self, hooks: HtmlHooks, inline: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.hooks = hooks
        self.inline_mode = inline
        self.blocks: list[str] = []
        self.hoisted: list[str] = []
        self.buffer: list[str] = []
        self.open_inline: list[str] = []
        self.container: str | None = None
        self.list_stack: list[str] = []
        self.list_items: list[str] = []
        self.dropping: list[str] = []
        self.pre: list[str] | None = None
        self.table: list[list[str]] | None = None
        self.tweet: list[str] | None = None
        self.figure: dict[str, str] | None = None
        self.pending_figures: list[str] = []
        self.reduced: set[str] = set()
        self.warned_events = False

    # --- events ---------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if self.dropping:
            if tag == self.dropping[-1] and tag not in VOID:
                self.dropping.append(tag)
            return
        if self.tweet is not None:
            if tag == "a" and values.get("href"):
                self.tweet.append(values["href"])
            return
        if tag in DROPPED_WITH_CONTENT:
            self._drop(tag, values)
            return
        if any(name.startswith("on") for name in values) and not self.warned_events:
            self.warned_events = True
            self.hooks.warn(f"event handler attributes on <{tag}> removed")
        if self.pre is not None:
            return
        if self.table is not None:
            self._table_start(tag)
            return
        if tag == "img":
            self._image(values)
        elif tag == "br":
            self.buffer.append("<br>")
        elif tag == "a":
            href = self.hooks.link(values.get("href", "")) if values.get("href") else None
            if href is not None:
                self.buffer.append(f'<a href="{html.escape(href)}">')
                self.open_inline.append("a")
            else:
                self.open_inline.append("")
        elif tag in INLINE_KEPT:
            self.buffer.append(f"<{INLINE_KEPT[tag]}>")
            self.open_inline.append(INLINE_KEPT[tag])
        elif self.inline_mode:
            self._reduce(tag)
        else:
            self._block_start(tag, values)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.dropping:
            if tag == self.dropping[-1]:
                self.dropping.pop()
            return
        if self.tweet is not None:
            if tag == "blockquote":
                self._end_tweet()
            return
        if self.pre is not None:
            if tag == "pre":
                code = "".join(self.pre).strip("\n")
                self.pre = None
                self.blocks.append(f"<pre><code>{html.escape(code, quote=False)}</code></pre>")
            return
        if self.table is not None:
            if tag == "table":
                self._end_table()
            return
        if tag in ("a", *INLINE_KEPT):
            self._close_inline(tag)
        elif tag == "figure" and self.figure is not None:
            figure, self.figure = self.figure, None
            self._emit_block(self.hooks.figure(figure.get("src", ""), figure.get("alt", ""),
                                               figure.get("caption") or None))
        elif tag == "figcaption" and self.figure is not None:
            self.figure["caption"] = self._take_text()
            self.container = None
        elif not self.inline_mode:
            self._block_end(tag)

    def handle_data(self, data: str) -> None:
        if self.dropping or self.tweet is not None:
            return
        if self.pre is not None:
            self.pre.append(data)
        elif self.table is not None:
            if self.table and self.table[-1]:
                self.table[-1][-1] += data
        else:
            self.buffer.append(html.escape(data, quote=False))

    def handle_comment(self, data: str) -> None:
        """Comments are the author's notes, not content: they go, silently."""

    # --- pieces ---------------------------------------------------------------------------

    def _drop(self, tag: str, values: dict[str, str]) -> None:
        source = values.get("src", "")
        embed = embed_url(source) if source and tag in ("iframe", "script", "video",
                                                        "audio", "embed") else None
        if tag == "script" and "platform.twitter.com" in source:
            embed = None
        elif embed is not None:
            self.hooks.warn(f"<{tag}> replaced by a bare link to {embed}, which Medium shows "
                            "as an embed where it can")
            self._emit_block(f'<p><a href="{html.escape(embed)}">{html.escape(embed)}</a></p>')
        else:
            self.hooks.warn(f"<{tag}> removed with its content: Medium never runs or shows it")
        if tag not in VOID:
            self.dropping.append(tag)

    def _image(self, values: dict[str, str]) -> None:
        if self.figure is not None:
            self.figure.update(src=values.get("src", ""), alt=values.get("alt", ""))
            return
        figure = self.hooks.figure(values.get("src", ""), values.get("alt", ""),
                                   values.get("title") or None)
        if self.inline_mode:
            if figure:
                self.hoisted.append(figure)
        elif figure and _collapse("".join(self.buffer)):
            self.hooks.warn("an image inside a paragraph is shown after it (Medium has no "
                            "inline images)")
            self.pending_figures.append(figure)
        else:
            self._emit_block(figure)

    def _reduce(self, tag: str) -> None:
        if tag not in self.reduced and tag not in SILENT_BLOCKS:
            self.reduced.add(tag)
            self.hooks.warn(f"<{tag}> is not kept by Medium; reduced to its text")

    def _block_start(self, tag: str, values: dict[str, str]) -> None:
        if tag == "pre":
            self._flush()
            self.pre = []
        elif tag == "table":
            self._flush()
            self.table = []
        elif tag == "blockquote" and "twitter-tweet" in values.get("class", ""):
            self._flush()
            self.tweet = []
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._flush()
            self.container = self.hooks.heading(int(tag[1]))
        elif tag == "blockquote":
            self._flush()
            self.container = "blockquote"
        elif tag in ("ul", "ol"):
            self._flush()
            if self.list_stack:
                self.hooks.warn("a nested HTML list is flattened into its parent list")
            self.list_stack.append(tag)
        elif tag == "li":
            self._flush()
            self.container = "li"
        elif tag == "figure":
            self._flush()
            self.figure = {}
        elif tag == "figcaption":
            self._take_text()
        elif tag == "hr":
            self._flush()
            self._emit_block("<hr>")
        elif tag in PARAGRAPH_LIKE:
            self._flush()
            self._reduce(tag)
        else:
            self._reduce(tag)

    def _block_end(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "li") \
                or tag in PARAGRAPH_LIKE:
            self._flush()
            self.container = "li" if tag != "li" and self.list_stack else None
        elif tag in ("ul", "ol") and self.list_stack:
            self._flush()
            self.list_stack.pop()
            if not self.list_stack and self.list_items:
                items = "".join(f"<li>{item}</li>" for item in self.list_items)
                self.list_items = []
                self.blocks.append(f"<{tag}>{items}</{tag}>")

    def _table_start(self, tag: str) -> None:
        assert self.table is not None
        if tag == "tr":
            self.table.append([])
        elif tag in ("td", "th"):
            if not self.table:
                self.table.append([])
            self.table[-1].append("")

    def _end_table(self) -> None:
        assert self.table is not None
        rows = [[_WHITESPACE.sub(" ", cell).strip() for cell in row] for row in self.table if row]
        self.table = None
        if rows:
            self.blocks.append(self.hooks.table(rows[0], rows[1:]))
        else:
            self.hooks.warn("an empty HTML table was left out")

    def _end_tweet(self) -> None:
        links = [href for href in self.tweet or [] if _TWEET.match(href)]
        self.tweet = None
        if links:
            url = links[-1].split("?")[0]
            self.hooks.warn(f"a Twitter embed became a bare link to {url}, which Medium embeds")
            self._emit_block(f'<p><a href="{html.escape(url)}">{html.escape(url)}</a></p>')
        else:
            self.hooks.warn("a Twitter embed without a tweet link was removed")

    def _close_inline(self, tag: str) -> None:
        wanted = "a" if tag == "a" else INLINE_KEPT[tag]
        if wanted not in self.open_inline:
            return
        while self.open_inline:
            closed = self.open_inline.pop()
            if closed:
                self.buffer.append(f"</{closed}>")
            if closed == wanted or (wanted == "a" and closed == ""):
                break

    def _take_text(self) -> str:
        while self.open_inline:
            closed = self.open_inline.pop()
            if closed:
                self.buffer.append(f"</{closed}>")
        text = _collapse("".join(self.buffer))
        self.buffer = []
        return text

    def _emit_block(self, block: str) -> None:
        if not block:
            return
        if self.inline_mode:
            self.hoisted.append(block)
        else:
            self._flush()
            self.blocks.append(block)

    def _flush(self) -> None:
        """End the text gathered so far as a block of the current container."""
        if self.inline_mode:
            return
        text = self._take_text()
        if not text or text == "<br>":
            self.blocks.extend(self.pending_figures)
            self.pending_figures = []
            return
        container = self.container
        if container == "li" or (container is None and self.list_stack):
            self.list_items.append(text)
        elif container == "blockquote":
            self.blocks.append(f"<blockquote>{text}</blockquote>")
        elif container in ("h1", "h2", "h3", "h4"):
            self.blocks.append(f"<{container}>{text}</{container}>")
        else:
            self.blocks.append(f"<p>{text}</p>")
        self.blocks.extend(self.pending_figures)
        self.pending_figures = []

    def finish(self) -> str:
        self.close()
        if self.inline_mode:
            text = "".join(self.buffer)
            closing = "".join(f"</{tag}>" for tag in reversed(self.open_inline) if tag)
            return text + closing
        self._flush()
        if self.list_items:
            items = "".join(f"<li>{item}</li>" for item in self.list_items)
            self.blocks.append(f"<{self.list_stack[0] if self.list_stack else 'ul'}>{items}"
                               f"</{self.list_stack[0] if self.list_stack else 'ul'}>")
        return "\n".join(self.blocks)


def _collapse(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()

