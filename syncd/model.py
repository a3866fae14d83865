"""The values that flow between a site reader, the engine and the edges.

Terms used across syncd:

- *source*: a post file's path relative to the site root, with ``/`` separators (Jekyll's
  ``page.path``). It names a post in every message and in ``plan --json``.
- *canonical URL*: the absolute URL the site generator publishes the post at, byte for byte.
  It is what Medium's ``canonicalUrl`` points to, and the ledger's key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any


class _Body:
    """``Post.body``: the text itself, or a callable that reads it from the file again.

    A scan holds every post of the site (the service keeps them between passes), while a
    pass renders only the few it sends: holding 10,000 bodies costs about 45 MB. Readers
    give a reading callable; ``post.body`` reads on each access and keeps nothing.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        # The instance's own __dict__ entry of the same name (a data descriptor wins over
        # it), so that ``Post(**post.__dict__)`` still works.
        self.slot = name

    def __get__(self, post: object, owner: type | None = None) -> str:
        if post is None:
            raise AttributeError("body")  # no default: every Post is given one
        value = post.__dict__[self.slot]
        return value if isinstance(value, str) else value()

    def __set__(self, post: object, value: str | Callable[[], str]) -> None:
        post.__dict__[self.slot] = value


@dataclass(frozen=True)
class Post:
    """One post file as the site generator sees it, ready to be judged by the engine."""

    source: str
    path: Path
    canonical_url: str | None
    title: str
    date: datetime
    body: _Body = _Body()  # given as text or a reading callable; reads as text
    tags: tuple[str, ...] = ()
    published: bool = True
    draft: bool = False
    front_matter: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    # The generator holds a post dated in the future back until that time (Jekyll without
    # `future: true`), so it is deferred; False where the generator publishes it already.
    held_until_date: bool = True
    # text_fingerprint(title, body), when the reader computed it with the body at hand.
    fingerprint: str | None = field(default=None, compare=False, repr=False)
    # source_digest(title, front_matter, body), likewise: edit detection's cheap first check.
    source_hash: str | None = field(default=None, compare=False, repr=False)


def text_fingerprint(title: str, body: str) -> str:
    """What identifies a post's content across renames: its title and words, not spacing."""
    text = title.strip() + "\n" + " ".join(body.split())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def source_digest(title: str, front_matter: Mapping[str, Any], body: str) -> str:
    """The post as read: title, front matter and body, exactly (spacing matters in code).

    Only ever compared for equality, as a shortcut (:mod:`syncd.edits`): when it differs (a
    new key order, a new Python) the post is judged in full, so ``repr`` is good enough.
    """
    front = repr(sorted(front_matter.items(), key=lambda item: str(item[0])))
    text = f"{title.strip()}\n{front}\n{body}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class PostError:
    """A post file that cannot be read; it is reported and skipped, never fatal to the pass."""

    source: str
    path: Path
    reason: str


@dataclass(frozen=True)
class SiteScan:
    """Everything a site reader found: readable posts and the files it could not read."""

    posts: tuple[Post, ...]
    errors: tuple[PostError, ...] = ()

    @cached_property
    def by_url(self) -> Mapping[str, Post]:
        """The posts by canonical URL (a reader makes posts that share one URL errors)."""
        return {post.canonical_url: post for post in self.posts if post.canonical_url}

    @cached_property
    def by_source(self) -> Mapping[str, Post | PostError]:
        """Every file found, by source."""
        found: dict[str, Post | PostError] = {post.source: post for post in self.posts}
        found.update((error.source, error) for error in self.errors)
        return found

    @classmethod
    def indexed(cls, posts: tuple[Post, ...], errors: tuple[PostError, ...],
                by_url: Mapping[str, Post], by_source: Mapping[str, Post | PostError]
                ) -> SiteScan:
        """A scan whose indexes its maker keeps already (the service's ``LiveSite``): a
        pass over a large site then costs no walk over every post to build them."""
        scan = cls(posts, errors)
        scan.__dict__.update(by_url=by_url, by_source=by_source)
        return scan
