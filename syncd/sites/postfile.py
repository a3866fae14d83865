"""Reading one post file: bytes to front matter and body, with a clear reason when it fails.

Shared by every site reader. A post that is not UTF-8, holds binary junk or has broken YAML
front matter raises :class:`PostFileError`, whose text names the problem (and the line, for
YAML), so the reader can report the file and go on with the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from syncd.errors import EXIT_POST_FAILURES, SyncdError
from syncd.model import Post, PostError

MAX_POST_BYTES = 10 * 1024 * 1024


class PostFileError(Exception):
    """The file cannot be read as a post; ``str()`` is the reason."""


class PostChanged(SyncdError):
    """A post's body was wanted again, and its file no longer reads as a post."""

    exit_status = EXIT_POST_FAILURES


@dataclass(frozen=True)
class BodyFromFile:
    """A post's body read again from its file on each use (``Post.body``), so that a scan
    does not hold every body; ``split`` is the reader's: whole text to body."""

    path: Path
    split: Callable[[str], str]

    def __call__(self) -> str:
        try:
            return self.split(read_post_text(self.path))
        except (PostFileError, ValueError) as exc:
            raise PostChanged(f"{self.path}: changed since syncd read it, and now cannot be "
                              f"read again: {exc}; run syncd again") from None


def markdown_body(text: str) -> str:
    """The body as :func:`parse_post_file` splits it, without reading the YAML again."""
    handler = frontmatter.YAMLHandler()
    return handler.split(text)[1] if handler.detect(text) else text


def parse_post_file(path: Path) -> tuple[dict[str, Any], str]:
    """Front matter (a dict, empty when there is none) and the body text.

    Only YAML between ``---`` lines is front matter; anything else is body. (The Jekyll
    reader splits and types front matter exactly as Jekyll does, from :func:`read_post_text`.)
    """
    text = read_post_text(path)
    handler = frontmatter.YAMLHandler()
    if not handler.detect(text):
        return {}, text
    try:
        front, body = handler.split(text)
    except ValueError:
        raise PostFileError("front matter is not closed by a line of ---") from None
    try:
        metadata = handler.load(front)
    except yaml.YAMLError as exc:
        raise PostFileError(f"bad YAML front matter: {yaml_problem(exc)}") from None
    except ValueError as exc:
        # PyYAML's own date type rejects impossible dates such as 2024-02-31.
        raise PostFileError(f"bad YAML front matter: {exc}") from None
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise PostFileError(
            f"front matter must be a YAML mapping (key: value lines), not a {yaml_kind(metadata)}"
        )
    return {str(k): v for k, v in metadata.items()}, body


def read_post_text(path: Path) -> str:
    """The whole file as text: UTF-8 (a byte-order mark dropped), not empty, not binary."""
    try:
        size = path.stat().st_size
        if size > MAX_POST_BYTES:
            raise PostFileError(
                f"too large for a post ({size / 1024 / 1024:.1f} MB; syncd reads posts up to "
                f"{MAX_POST_BYTES // 1024 // 1024} MB)"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PostFileError("disappeared while being read") from None
    except OSError as exc:
        raise PostFileError(f"cannot be read: {exc.strerror or exc}") from None
    if not raw.strip():
        raise PostFileError("the file is empty")
    if b"\x00" in raw:
        raise PostFileError("binary data (a NUL byte), not a text post")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PostFileError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); save it as UTF-8"
        ) from None
    return text


def yaml_kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )


def yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        # The front matter starts after the opening '---' line.
        return f"{problem} (front matter line {mark.line + 1}, column {mark.column + 1})"
    return str(problem)


def separate_url_clashes(posts: list[Post], advice: str) -> tuple[list[Post], list[PostError]]:
    """Posts that share one URL: the generator publishes one page there, so none is usable.

    ``advice`` ends each error: what the generator does there, and the fix.
    """
    by_url: dict[str, list[Post]] = {}
    for post in posts:
        if post.canonical_url is not None:
            by_url.setdefault(post.canonical_url, []).append(post)
    clashing = {post.source: group for group in by_url.values() if len(group) > 1
                for post in group}
    errors = []
    for post in posts:
        if post.source in clashing:
            others = ", ".join(sorted(p.source for p in clashing[post.source] if p is not post))
            errors.append(PostError(source=post.source, path=post.path,
                                    reason=f"has the same URL as {others} "
                                           f"({post.canonical_url}); {advice}"))
    return [post for post in posts if post.source not in clashing], errors
