"""Rendering: a post's Markdown to the payload Medium is sent (title, HTML content, tags).

Medium shows only ``content`` in the post body, so the title is also its first heading.
Medium fetches images when the post is created, so site-relative image and link URLs are
made absolute against the post's canonical URL. Tags follow Medium's rules (at most 3, each
at most 25 characters); what had to be dropped is reported as a warning, never silently.
Full Medium fidelity (tables, Liquid, embeds, raw HTML policy) builds on this module.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import mistune

from syncd.model import Post

MEDIUM_MAX_TAGS = 3
MEDIUM_MAX_TAG_LENGTH = 25
MEDIUM_MAX_TITLE_LENGTH = 100


@dataclass(frozen=True)
class Rendered:
    """Exactly what would be sent to Medium for one post, and what was lost on the way."""

    title: str
    html: str
    tags: tuple[str, ...]
    warnings: tuple[str, ...] = ()


class MediumHTMLRenderer(mistune.HTMLRenderer):
    """mistune's HTML renderer with URLs resolved against the post's own address."""

    def __init__(self, base_url: str | None) -> None:
        super().__init__(escape=False)
        self.base_url = base_url

    def _absolute(self, url: str) -> str:
        if self.base_url and not url.startswith(("#", "mailto:")):
            return urljoin(self.base_url, url)
        return url

    def link(self, text: str, url: str, title: str | None = None) -> str:
        return super().link(text, self._absolute(url), title)

    def image(self, text: str, url: str, title: str | None = None) -> str:
        return super().image(text, self._absolute(url), title)

    def block_code(self, code: str, info: str | None = None) -> str:
        # Medium drops code languages, so none is sent; the text is kept exactly.
        return "<pre><code>" + html.escape(code, quote=False) + "</code></pre>\n"


def render_post(post: Post) -> Rendered:
    """The Medium payload for ``post``: title heading first, then the body."""
    warnings: list[str] = []
    renderer = MediumHTMLRenderer(post.canonical_url)
    markdown = mistune.create_markdown(renderer=renderer, plugins=["strikethrough", "url"])
    body = _drop_leading_title_heading(post.body, post.title)
    content = f"<h1>{html.escape(post.title, quote=False)}</h1>\n" + str(markdown(body))
    title = post.title
    if len(title) > MEDIUM_MAX_TITLE_LENGTH:
        warnings.append(
            f"title is {len(title)} characters; Medium ignores titles over "
            f"{MEDIUM_MAX_TITLE_LENGTH}"
        )
    tags, tag_warnings = medium_tags(post.tags)
    warnings.extend(tag_warnings)
    return Rendered(title=title, html=content, tags=tags, warnings=tuple(warnings))


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


def _drop_leading_title_heading(body: str, title: str) -> str:
    """Remove a first ATX heading that repeats the title, so the title is not shown twice."""
    lines = body.lstrip("\n").split("\n", 1)
    first = lines[0].strip()
    if first.startswith("#"):
        text = first.lstrip("#").strip().rstrip("#").strip()
        if _same_text(text, title):
            return lines[1] if len(lines) > 1 else ""
    return body


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def payload_fields(rendered: Rendered) -> dict[str, Any]:
    """The content part of a create-post request body."""
    return {
        "title": rendered.title,
        "contentFormat": "html",
        "content": rendered.html,
        "tags": list(rendered.tags),
    }
