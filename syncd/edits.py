"""Edits after syndication: notice them, show them, never post them twice.

Medium's API cannot update a post, so an edit made on the blog after syncd posted it can
only be reported. For each post it sends, syncd keeps (in the ledger entry):

- ``sent``: the title, tags and HTML it sent (compressed when large), so a later diff is
  exact;
- ``content_fingerprint``: a hash of what a reader sees in it: the text of the rendered
  HTML with spacing collapsed, link targets, and the tags; not the footer, which is syncd's
  attribution and follows the config, not the author's text;
- ``source_hash``: a hash of the post file as read (front matter and body), the cheap
  first check: while it is unchanged nothing is rendered. A pass that renders a post and
  finds the reader's view unchanged records the new source hash, so it renders it once.

A post whose source hash changed is rendered again and its reader's view compared, so a
whitespace edit, a front matter key syncd does not send, or a newer syncd producing the same
text never counts. Adopted posts were never sent by syncd: they are judged by their title
and words (the identity fingerprint) until ``syncd ack`` gives them a full baseline.

Everything here is pure except the ``render`` callables it is handed.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from syncd.engine import MAYBE_MOVED, PlanItem, fingerprint
from syncd.ledger import ADOPTED, POSTED, Entry
from syncd.model import Post, source_digest

if TYPE_CHECKING:
    from syncd.render import Rendered

CHANGED = "changed"
# Reasons of the plan items whose post is in the ledger as handled and may have been edited.
SETTLED_REASONS = ("synced", "adopted")
COMPRESS_FROM = 2048
# How close (difflib's ratio over the words a reader sees) a post sharing the title of a
# synced post whose file is gone must be to what Medium got, to be that post moved: a typo
# fixed, a link updated; a new post of a series shares far less.
NEAR_SAME = 0.9


@dataclass(frozen=True)
class Snapshot:
    """One version of a post as Medium shows it: title, tags, HTML (footer included)."""

    title: str
    tags: tuple[str, ...]
    html: str
    footer: str = ""

    @classmethod
    def of(cls, rendered: Rendered) -> Snapshot:
        return cls(rendered.title, tuple(rendered.tags), rendered.html, rendered.footer)

    @property
    def body_html(self) -> str:
        """The HTML without syncd's footer."""
        if self.footer and self.html.rstrip("\n").endswith(self.footer.rstrip("\n")):
            return self.html.rstrip("\n")[: -len(self.footer.rstrip("\n"))]
        return self.html

    def reader_text(self) -> str:
        """What a reader sees, one block per line; the tags last."""
        text = reader_text(self.body_html)
        return text + ("\n\ntags: " + ", ".join(self.tags) if self.tags else "")

    def fingerprint(self) -> str:
        return _hash(self.reader_text())


def pack(snapshot: Snapshot) -> dict[str, Any]:
    """The ledger's form of a snapshot: plain JSON, or zlib + base64 when it is large."""
    document = {"title": snapshot.title, "tags": list(snapshot.tags), "html": snapshot.html,
                "footer": snapshot.footer}
    if len(snapshot.html) < COMPRESS_FROM:
        return document
    raw = json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return {"zlib": base64.b64encode(zlib.compress(raw, 9)).decode("ascii")}


def unpack(document: Mapping[str, Any]) -> Snapshot:
    if "zlib" in document:
        document = json.loads(zlib.decompress(base64.b64decode(document["zlib"])))
    return Snapshot(title=str(document.get("title", "")),
                    tags=tuple(str(tag) for tag in document.get("tags", ())),
                    html=str(document.get("html", "")), footer=str(document.get("footer", "")))


def source_hash(post: Post) -> str:
    """The reader's digest of the post file (so the body is not read again), else computed."""
    return post.source_hash or source_digest(post.title, post.front_matter, post.body)


def baseline(rendered: Rendered, post: Post) -> dict[str, Any]:
    """The entry fields that record ``rendered`` as what Medium has of ``post``."""
    snapshot = Snapshot.of(rendered)
    return {"sent": pack(snapshot), "content_fingerprint": snapshot.fingerprint(),
            "source_hash": source_hash(post), "fingerprint": fingerprint(post)}


def renewed(entry: Entry, rendered: Rendered, post: Post, when: str) -> Entry:
    """``entry`` acknowledged: Medium now has ``rendered`` (the author updated it by hand)."""
    return replace(entry, seen_change=None, acked_at=when, **baseline(rendered, post))


def is_changed(entry: Entry, post: Post, render: Callable[[Post], Rendered]) -> bool:
    """Whether a reader of the blog now sees something the Medium copy does not have."""
    if entry.source_hash is not None and entry.source_hash == source_hash(post):
        return False
    if entry.content_fingerprint is not None:
        return Snapshot.of(render(post)).fingerprint() != entry.content_fingerprint
    if entry.fingerprint is None:
        return False
    return fingerprint(post) != entry.fingerprint


def flag_changed(items: list[PlanItem], render: Callable[[Post], Rendered]) -> list[PlanItem]:
    """The plan with every edited synced or adopted post's reason set to ``changed``."""
    flagged = []
    for item in items:
        if (item.action == "skip" and item.reason in SETTLED_REASONS and item.post is not None
                and item.entry is not None and item.entry.state in (POSTED, ADOPTED)
                and is_changed(item.entry, item.post, render)):
            item = replace(item, reason=CHANGED)
        flagged.append(item)
    return flagged


def recognise_edited_moves(items: list[PlanItem],
                           render: Callable[[Post], Rendered]) -> list[PlanItem]:
    """The plan with each ``maybe-moved`` post whose text is nearly what Medium got of the
    post it may be (a renamed file, lightly edited) set to ``moved``; only when exactly one
    post is that close to it. Adopted posts (nothing sent to compare) stay for the user."""
    close: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        entry = item.entry
        if (item.reason == MAYBE_MOVED and entry is not None and entry.sent
                and item.post is not None
                and _near_same(unpack(entry.sent), Snapshot.of(render(item.post)))):
            close.setdefault(entry.canonical_url, []).append(index)
    recognised = list(items)
    for indexes in close.values():
        if len(indexes) == 1:
            recognised[indexes[0]] = replace(items[indexes[0]], reason="moved")
    return recognised


def _near_same(before: Snapshot, after: Snapshot) -> bool:
    matcher = difflib.SequenceMatcher(None, before.reader_text().split(),
                                      after.reader_text().split(), autojunk=False)
    return (matcher.real_quick_ratio() >= NEAR_SAME and matcher.quick_ratio() >= NEAR_SAME
            and matcher.ratio() >= NEAR_SAME)


@dataclass(frozen=True)
class Report:
    """What changed for one post, for ``syncd diff``."""

    source: str
    medium_url: str | None
    before: Snapshot | None
    after: Snapshot
    changed: bool
    sent_at: str | None

    def diff(self) -> list[str]:
        """Unified diff of the reader's text, one sentence per line; empty when the same."""
        if self.before is None:
            return []
        old, new = _sentences(self.before.reader_text()), _sentences(self.after.reader_text())
        if old == new:
            return []
        return list(difflib.unified_diff(old, new, "on Medium", "on the blog now", n=1,
                                         lineterm=""))


def _sentences(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("    "):
            lines.append(line)
            continue
        lines.extend(part for part in _SENTENCE_END.split(line) if part)
        if not line:
            lines.append("")
    return lines


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


BLOCKS = {"h1", "h2", "h3", "h4", "p", "li", "blockquote", "pre", "figure", "figcaption", "hr",
          "ul", "ol"}
HEADING_MARKS = {"h1": "# ", "h2": "## ", "h3": "### ", "h4": "#### "}


def reader_text(html: str) -> str:
    """The text of Medium-subset HTML as a reader sees it, one block per line.

    Spacing inside a block is collapsed (Medium collapses it too), code keeps its lines,
    headings and list items keep a mark, links show their target, images their caption.
    """
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return "\n".join(_tidy(parser.blocks)).strip("\n")


def _tidy(blocks: Iterable[str]) -> Iterator[str]:
    previous_blank = True
    for block in blocks:
        if not block.strip():
            if not previous_blank:
                yield ""
            previous_blank = True
            continue
        yield block
        previous_blank = False


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.current: list[str] = []
        self.prefix = ""
        self.quotes = 0
        self.in_pre = 0
        self.links: list[str | None] = []

    def flush(self) -> None:
        if self.in_pre:
            return
        text = " ".join("".join(self.current).split())
        if text:
            self.blocks.append(self.prefix + text)
            self.blocks.append("")
        self.current = []
        self.prefix = "> " * self.quotes

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in BLOCKS:
            self.flush()
            if tag == "blockquote":
                self.quotes += 1
            self.prefix = "> " * self.quotes + HEADING_MARKS.get(tag, "• " if tag == "li" else "")
            if tag == "hr":
                self.blocks.extend(["* * *", ""])
            if tag == "pre":
                self.in_pre += 1
        elif tag == "br":
            if self.in_pre:
                self.current.append("\n")
            else:
                self.flush()
        elif tag == "a":
            self.links.append(attributes.get("href"))
        elif tag == "img":
            alt = (attributes.get("alt") or "").strip()
            self.current.append(f" [image{': ' + alt if alt else ''}] ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self.in_pre:
            self.in_pre -= 1
            code = "".join(self.current)
            self.blocks.extend("    " + line for line in code.strip("\n").splitlines())
            self.blocks.append("")
            self.current = []
            self.prefix = "> " * self.quotes
        elif tag in BLOCKS:
            self.flush()
            if tag == "blockquote" and self.quotes:
                self.quotes -= 1
                self.prefix = "> " * self.quotes
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href:
                self.current.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        self.current.append(data)

    def close(self) -> None:
        super().close()
        self.flush()
