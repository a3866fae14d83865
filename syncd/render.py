"""Rendering: a post to exactly what Medium is sent (title, HTML content, tags, status).

Medium has no update endpoint, so whatever is sent first is what readers see. A post goes
through the same steps as on its own site, then through Medium's limits:

1. the source language: Jekyll's Liquid (:mod:`syncd.liquid`) and kramdown attribute lists,
   or Gatsby's MDX (:mod:`syncd.mdx`);
2. Markdown, parsed by mistune 3 (GFM tables, strikethrough, task lists, footnotes,
   definition lists, math, bare URLs);
3. the HTML Medium keeps (:mod:`syncd.medium_html`, :mod:`syncd.rawhtml`), every URL
   absolute, every image at a URL Medium can fetch (:mod:`syncd.images`);
4. the title as the first heading (Medium shows only ``content``), an optional subtitle
   (front matter ``subtitle`` or ``description``) under it, and the attribution footer
   linking the canonical URL (``[medium] footer``).

Whatever had to be degraded is a warning naming the line of the post file, shown by
``syncd plan`` and logged by a pass, before anything is posted. The output is
deterministic: the same post and context give the same bytes.

Front matter the author can use: ``medium_title``, ``medium_tags`` and ``medium_status``
override the title, tags and publish status for Medium only.
"""

from __future__ import annotations

import hashlib
import html
import ipaddress
import re
import string
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mistune
from mistune.core import BlockState

from syncd import rawhtml
from syncd.config import PUBLISH_STATUSES
from syncd.images import (
    MAX_UPLOAD_BYTES,
    ImageSource,
    LocalImage,
    cached_urls,
    sniff_type,
    substitute,
)
from syncd.mdx import strip_mdx
from syncd.medium_html import MediumRenderer, RawHtmlHooks, Warnings
from syncd.model import Post
from syncd.render_context import RenderContext, RenderOptions

MEDIUM_MAX_TAGS = 3
MEDIUM_MAX_TAG_LENGTH = 25
MEDIUM_MAX_TITLE_LENGTH = 100
MARKDOWN_PLUGINS = ("strikethrough", "footnotes", "table", "task_lists", "def_list", "math",
                    "url")

# kramdown's attribute lists ({: .class}, {:target="_blank"}) and extensions ({::comment}):
# styling Medium cannot keep, and text it must not show.
_KRAMDOWN_TOC = re.compile(r"^[ \t]*[*+-][ \t]+[^\n]*\n[ \t]*\{:toc\}[ \t]*$", re.MULTILINE)
_KRAMDOWN_COMMENT = re.compile(r"\{::comment\}.*?\{:/comment\}", re.DOTALL)
_KRAMDOWN_MARKUP = re.compile(r"\{::?[^}\n]*\}")
_KRAMDOWN_HEADER_ID = re.compile(r"[ \t]*\{#[\w:.-]+\}[ \t]*$", re.MULTILINE)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


@dataclass(frozen=True)
class Rendered:
    """Exactly what would be sent to Medium for one post, and what was lost on the way.

    ``images`` are local files (and drawn tables) to upload first when uploads are on;
    ``table_texts`` are, for each drawn table, its placeholder URL, its figure and the text
    block it falls back to; ``refusal`` says why the post must not be sent at all (its
    canonical URL is not a public address).
    """

    title: str
    html: str
    tags: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    publish_status: str | None = None
    images: tuple[LocalImage, ...] = ()
    refusal: str | None = None
    # The attribution footer that ``html`` ends with ("" for none): not the author's text.
    footer: str = ""
    table_texts: tuple[tuple[str, str, str], ...] = ()

    def with_image_urls(self, urls: dict[str, str]) -> Rendered:
        """This rendering with uploaded images at their Medium URLs; a drawn table that
        was not uploaded goes back to text, so a placeholder never reaches Medium."""
        content = self.html
        for placeholder, figure, text in self.table_texts:
            if placeholder not in urls:
                content = content.replace(figure, text)
        return replace(self, html=substitute(content, urls))


def render_post(post: Post, context: RenderContext | None = None) -> Rendered:
    """The Medium payload for ``post``: title heading first, then the body, then the footer.

    ``context`` (built once per pass) knows the site; without one it is derived from the
    post itself, with the default render settings.
    """
    context = context or RenderContext.for_post(post)
    return _PostRenderer(post, context).render()


class _PostRenderer:
    """One post's rendering: keeps its warnings and the images it found."""

    def __init__(self, post: Post, context: RenderContext) -> None:
        self.post = post
        self.context = context
        self.options: RenderOptions = context.options
        self.warnings = Warnings()
        self.offset: int | None = None
        self.images: list[LocalImage] = []
        self.table_texts: list[tuple[str, str, str]] = []
        self.site_files = context.site_files()
        page_file = post.path if post.path.is_file() else None
        self.page_file = page_file

    def file_line(self, body_line: int | None) -> int | None:
        """A body line as a line of the file. Warnings keep body lines until the end, so the
        file is read again for its front matter only when a warning names a line."""
        if body_line is None:
            return None
        if self.offset is None:
            self.offset = _body_offset(self.post)
        return body_line + self.offset

    def render(self) -> Rendered:
        post, front = self.post, self.post.front_matter
        title = _front_text(front, "medium_title") or post.title
        if len(title) > MEDIUM_MAX_TITLE_LENGTH:
            self.warnings.add(None, f"title is {len(title)} characters; Medium ignores titles "
                                    f"over {MEDIUM_MAX_TITLE_LENGTH}")
        renderer = MediumRenderer(canonical_url=post.canonical_url, title=title,
                                  image_url=self.image_url, warnings=self.warnings,
                                  table_image=self.table_image)
        blocks = [f"<h1>{_escape(title)}</h1>"]
        subtitle = _front_text(front, "subtitle") or _front_text(front, "description")
        if subtitle:
            blocks.append(f"<h2>{_escape(' '.join(subtitle.split()))}</h2>")
        blocks.extend(self.body_blocks(renderer))
        footer = self.footer(title)
        blocks.extend(footer)
        content = "\n".join(block for block in blocks if block) + "\n"
        if self.options.upload_images and self.images:
            known = cached_urls(self.images, self.context.image_cache, self.options.api_url)
            content = substitute(content, known)
        tags, tag_warnings = post_tags(post, self.options)
        for warning in tag_warnings:
            self.warnings.add(None, warning)
        return Rendered(
            title=title,
            html=content,
            tags=tags,
            warnings=tuple(_format(self.file_line(line), message)
                           for line, message in self.warnings.items),
            publish_status=self.publish_status(),
            images=tuple(dict.fromkeys(self.images)),
            refusal=public_url_problem(post.canonical_url),
            footer="\n".join(footer) + "\n" if footer else "",
            table_texts=tuple(dict.fromkeys(self.table_texts)),
        )

    def body_blocks(self, renderer: MediumRenderer) -> list[str]:
        text = self.post.body
        suffix = self.post.path.suffix.lower()
        if suffix == ".mdx":
            stripped = strip_mdx(text)
            text = stripped.text
            for line, message in stripped.warnings:
                self.warnings.add(line, message)
        elif self.context.generator == "jekyll":
            text = _strip_kramdown(text)
            if self.post.front_matter.get("render_with_liquid") is not False:
                text = self.liquid(text)
        if suffix == ".html" and self.context.generator == "jekyll":
            converted = rawhtml.convert_block(text, RawHtmlHooks(renderer))
            return [converted] if converted else []
        tokens = parse_markdown(text)
        return renderer.document(tokens)

    def liquid(self, text: str) -> str:
        if "{%" not in text and "{{" not in text:
            return text
        # Imported here: the Liquid engine costs a tenth of a second, and most posts have none.
        from syncd.liquid import render_liquid

        post = self.post
        page: dict[str, Any] = dict(post.front_matter)
        page.update(title=post.title, date=post.date, path=post.source, tags=list(post.tags))
        if post.canonical_url and self.context.site_url and \
                post.canonical_url.startswith(self.context.site_url):
            page["url"] = post.canonical_url[len(self.context.site_url):]
        links = self.context.links
        assert links is not None
        result = render_liquid(text, site=self.context.site_data, page=page, links=links,
                               site_url=self.context.site_url or "",
                               base_path=self.context.base_path)
        for line, message in result.warnings:
            self.warnings.add(line, message)
        return result.text

    def image_url(self, src: str, line: int | None) -> str | None:
        """The URL Medium is sent for an image reference, or ``None`` (warned) to leave it out."""
        located: ImageSource = self.site_files.locate(src, self.post.canonical_url,
                                                      self.page_file)
        shown = src if len(src) <= 80 else src[:77] + "..."
        if located.url is None:
            self.warnings.add(line, f"image {shown!r} left out: {located.problem}")
            return None
        if not located.is_local:
            return located.url
        if located.file is None:
            if self.context.site_root is not None:
                self.warnings.add(line, f"image {shown!r} is not in the site folder; Medium "
                                        f"will fetch {located.url}: make sure it is published")
            return located.url
        if self.options.upload_images:
            content_type = sniff_type(located.file)
            if content_type is not None:
                self.images.append(LocalImage(located.url, located.file, content_type))
                return located.url
            self.warnings.add(line, f"image {shown!r} is not JPEG, PNG, GIF or TIFF, so it "
                                    f"is not uploaded; Medium will fetch {located.url}")
        if located.guessed:
            self.warnings.add(line, self.guessed_url_warning(shown, located.url))
        return located.url

    def guessed_url_warning(self, shown: str, url: str) -> str:
        """Why the URL of an image found next to the post is only a guess, and the fix."""
        if self.context.generator == "gatsby":
            where = ("Gatsby publishes an image next to a post at a hashed /static/… "
                     "address that syncd cannot compute")
        else:
            where = "syncd cannot tell where the site publishes this file"
        fix = ("set [medium] upload_images = true to upload it" if not self.options.upload_images
               else "convert it to PNG or JPEG so it can be uploaded")
        return (f"image {shown!r} sits next to the post, and {where}; Medium will be sent "
                f"{url}, which is likely broken: {fix}")

    def table_image(self, header: list[str] | None, rows: list[list[str]],
                    aligns: list[str | None], text: str) -> tuple[str | None, str | None]:
        """With ``[medium] tables = "image"``: the table drawn as a PNG to upload, as a
        figure whose alt text is the table's text; or, when it cannot be, why not."""
        if self.options.tables != "image" or not (header or rows):
            return None, None
        if not self.options.upload_images:
            return None, "uploads are off ([medium] upload_images), and a drawn table " \
                         "must be uploaded"
        from syncd.tableimage import TableTooBig, check_size, table_png, undrawable

        try:
            check_size(header, rows)
        except TableTooBig as exc:
            return None, f"it is too big to draw: {exc}"
        font = str(self.options.table_font) if self.options.table_font else None
        missing = undrawable([*(header or []), *(cell for row in rows for cell in row)], font)
        if missing:
            shown = " ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
            fix = "" if font else " (set [medium] table_font to a font that has them)"
            return None, f"the table font cannot draw {shown}{fix}"
        try:
            png = table_png(header, rows, aligns, font)
        except TableTooBig as exc:
            return None, f"it is too big to draw: {exc}"
        if len(png) > MAX_UPLOAD_BYTES:
            return None, f"its picture is over {MAX_UPLOAD_BYTES // 1024 // 1024} MB"
        name = f"table-{hashlib.sha256(png).hexdigest()[:16]}.png"
        placeholder = f"syncd-table:{name}"
        self.images.append(LocalImage(placeholder, Path(name), "image/png", data=png))
        figure = (f'<figure><img src="{placeholder}" '
                  f'alt="{html.escape(_table_alt(header, rows))}"></figure>')
        self.table_texts.append((placeholder, figure, text))
        return figure, None

    def footer(self, title: str) -> list[str]:
        """``[medium] footer``, with ``{url}`` as a link to the canonical URL."""
        template = self.options.footer
        url = self.post.canonical_url
        if not template.strip() or not url:
            return []
        parts: list[str] = []
        for literal, name, _, _ in string.Formatter().parse(template):
            parts.append(_escape(literal))
            if name == "url":
                parts.append(f'<a href="{html.escape(url)}">{_escape(url)}</a>')
            elif name == "title":
                parts.append(_escape(title))
        return ["<hr>", f"<p><em>{''.join(parts)}</em></p>"]

    def publish_status(self) -> str | None:
        value = self.post.front_matter.get("medium_status")
        if value is None:
            return None
        if isinstance(value, str) and value in PUBLISH_STATUSES:
            return value
        listed = ", ".join(PUBLISH_STATUSES)
        self.warnings.add(None, f"medium_status {value!r} is not one of {listed}; the "
                                "configured publish_status is used")
        return None


def parse_markdown(text: str) -> list[dict[str, Any]]:
    """mistune's token tree for ``text``; top-level tokens carry their ``_line``."""
    tokens, _ = _markdown().parse(text, state=_LineState())
    assert isinstance(tokens, list)
    return tokens


@lru_cache(maxsize=1)
def _markdown() -> mistune.Markdown:
    markdown = mistune.create_markdown(renderer=None, plugins=list(MARKDOWN_PLUGINS))
    parse_method = markdown.block.parse_method

    def noting_lines(match: re.Match[str], state: BlockState) -> int | None:
        """mistune's own dispatch; the blocks it adds at the top get the line it matched."""
        if state.parent is not None or not isinstance(state, _LineState):
            return parse_method(match, state)
        tokens = state.tokens
        before = len(tokens)
        end = parse_method(match, state)
        if len(tokens) > before:
            line = state.line_at(match.start())
            for token in tokens[before:]:
                token.setdefault("_line", line)
        return end

    markdown.block.parse_method = noting_lines  # type: ignore[method-assign, assignment]
    return markdown


class _LineState(BlockState):
    """mistune's block state, noting the line each top-level block starts on."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._counted = (0, 1)

    def line_at(self, position: int) -> int:
        """The 1-based line of ``position``. Blocks are asked for in order, so newlines are
        counted (in C, by ``str.count``) only from the position asked before."""
        start, line = self._counted
        if position < start:
            start, line = 0, 1
        line += self.src.count("\n", start, position)
        self._counted = (position, line)
        return line

    def add_paragraph(self, text: str) -> None:
        last = self.last_token()
        extends = last is not None and last["type"] == "paragraph"
        super().add_paragraph(text)
        if self.parent is None and not extends:
            self.tokens[-1]["_line"] = self.line_at(self.cursor)


def post_tags(post: Post, options: RenderOptions) -> tuple[tuple[str, ...], list[str]]:
    """Medium's tags for ``post``: ``medium_tags``, else ``tags`` (plus ``categories`` when
    ``[medium] tags_from_categories``), normalised and cut to Medium's rules."""
    front = post.front_matter
    if front.get("medium_tags") is not None:
        raw = _words(front["medium_tags"])
    else:
        raw = list(post.tags)
        if options.tags_from_categories:
            raw.extend(_words(front.get("categories")) + _words(front.get("category")))
    seen: set[str] = set()
    unique: list[str] = []
    for tag in raw:
        tag = " ".join(tag.split())
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            unique.append(tag)
    tags, warnings = medium_tags(tuple(unique))
    return tags, warnings


def _words(value: Any) -> list[str]:
    """A front matter list, or a string of words (comma-separated when it has commas)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [w.strip() for w in (value.split(",") if "," in value else value.split())]
    if isinstance(value, list):
        return [str(v).strip() for v in value if v is not None]
    return [str(value)]


def medium_tags(tags: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
    """Tags Medium will keep: over-long ones dropped first, so three real ones survive."""
    warnings: list[str] = []
    kept: list[str] = []
    for tag in tags:
        if len(tag) > MEDIUM_MAX_TAG_LENGTH:
            warnings.append(
                f"tag {tag!r} is over {MEDIUM_MAX_TAG_LENGTH} characters; Medium would drop it"
            )
        elif tag not in kept:
            kept.append(tag)
    if len(kept) > MEDIUM_MAX_TAGS:
        dropped = ", ".join(kept[MEDIUM_MAX_TAGS:])
        warnings.append(f"Medium keeps only {MEDIUM_MAX_TAGS} tags; not sent: {dropped}")
    return tuple(kept[:MEDIUM_MAX_TAGS]), warnings


def public_url_problem(url: str | None) -> str | None:
    """Why ``url`` cannot be a post's canonical link on Medium, or ``None`` when it can."""
    if not url:
        return "the post has no canonical URL"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"its canonical URL {url!r} is not an absolute web address"
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith((".localhost", ".local")) or host == "":
        return (f"its canonical URL {url} points at this machine; set `url` in _config.yml "
                "or [site] url in syncd's config to the public address")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if address.is_loopback or address.is_private or address.is_unspecified or \
            address.is_link_local:
        return (f"its canonical URL {url} is a private address; set `url` in _config.yml or "
                "[site] url in syncd's config to the public address")
    return None


def payload_fields(rendered: Rendered) -> dict[str, Any]:
    """The content part of a create-post request body."""
    return {
        "title": rendered.title,
        "contentFormat": "html",
        "content": rendered.html,
        "tags": list(rendered.tags),
    }


def _strip_kramdown(text: str) -> str:
    """kramdown's ``{: …}`` attribute lists and ``{::…}`` extensions, outside code."""
    if "{:" not in text and "{#" not in text:
        return text
    pieces = _split_fenced(text)
    for index in range(0, len(pieces), 2):
        piece = _KRAMDOWN_TOC.sub(lambda m: "\n" * m.group(0).count("\n"), pieces[index])
        piece = _KRAMDOWN_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), piece)
        pieces[index] = _KRAMDOWN_HEADER_ID.sub("", _KRAMDOWN_MARKUP.sub("", piece))
    return "".join(pieces)


def _split_fenced(text: str) -> list[str]:
    """``text`` as [prose, code, prose, code, …] around fenced code blocks."""
    pieces: list[str] = []
    position = 0
    while True:
        opened = _FENCE.search(text, position)
        if opened is None:
            break
        fence = opened.group(1)
        closer = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$",
                            re.MULTILINE)
        line_end = text.find("\n", opened.end())
        closed = closer.search(text, line_end + 1) if line_end >= 0 else None
        end = closed.end() if closed else len(text)
        pieces.extend([text[position:opened.start()], text[opened.start():end]])
        position = end
    pieces.append(text[position:])
    return pieces


def _body_offset(post: Post) -> int:
    """Lines in the file before the body (the front matter), so warnings name file lines."""
    try:
        text = post.path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return 0
    body = post.body
    if body and text.endswith(body):
        return text[: len(text) - len(body)].count("\n")
    return 0


def _table_alt(header: list[str] | None, rows: list[list[str]]) -> str:
    """A table's text for a screen reader: each row's cells named by their column."""
    names = header or []
    lines = ["Table: " + ", ".join(names) + "." if names else "Table."]
    for row in rows:
        cells = [f"{names[i]}: {cell}" if i < len(names) and names[i] else cell
                 for i, cell in enumerate(row) if cell]
        lines.append("; ".join(cells) + ".")
    return " ".join(lines)


def _front_text(front: dict[str, Any] | Any, key: str) -> str | None:
    value = front.get(key) if hasattr(front, "get") else None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return None


def _format(line: int | None, message: str) -> str:
    return f"line {line}: {message}" if line is not None else message


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


__all__ = ["Rendered", "RenderContext", "RenderOptions", "medium_tags", "payload_fields",
           "post_tags", "render_post"]
