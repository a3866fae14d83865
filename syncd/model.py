"""The values that flow between a site reader, the engine and the edges.

Terms used across syncd:

- *source*: a post file's path relative to the site root, with ``/`` separators (Jekyll's
  ``page.path``). It names a post in every message and in ``plan --json``.
- *canonical URL*: the absolute URL the site generator publishes the post at, byte for byte.
  It is what Medium's ``canonicalUrl`` points to, and the ledger's key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Post:
    """One post file as the site generator sees it, ready to be judged by the engine."""

    source: str
    path: Path
    canonical_url: str | None
    title: str
    date: datetime
    body: str
    tags: tuple[str, ...] = ()
    published: bool = True
    draft: bool = False
    front_matter: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    # The generator holds a post dated in the future back until that time (Jekyll without
    # `future: true`), so it is deferred; False where the generator publishes it already.
    held_until_date: bool = True


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
