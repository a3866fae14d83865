"""The engine: decides, for every post file, what a pass does with it. Pure: no I/O.

:func:`plan` is a function of the site scan, the ledger entries, the current time and the
sync rules. It returns one :class:`PlanItem` per post file, in a stable order (by source);
the executor (:mod:`syncd.sync`) carries out the ``post`` items, oldest first.

Actions and reasons are the contract's (``plan --json``): ``post``/``new``;
``skip``/``synced``, ``adopted``, ``unpublished``, ``draft``, ``before-since``,
``opted-out``, ``in-doubt``; ``defer``/``future``; ``error`` with the read error as reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from syncd.ledger import ADOPTED, FAILED, POSTED, Entry
from syncd.model import Post, PostError, SiteScan

POST = "post"
SKIP = "skip"
DEFER = "defer"
ERROR = "error"

# Front matter keys an author uses to keep one post off Medium.
OPT_OUT_KEYS = ("syndicate", "medium")


@dataclass(frozen=True)
class Rules:
    """The parts of the configuration that decide what is due."""

    since: dt.date | None = None


@dataclass(frozen=True)
class PlanItem:
    """What a pass does with one post file, and why."""

    source: str
    canonical_url: str | None
    title: str | None
    date: dt.datetime | None
    action: str
    reason: str
    post: Post | None = None
    entry: Entry | None = None

    def to_json(self) -> dict[str, object]:
        """The contract's ``plan --json`` object."""
        return {
            "source": self.source,
            "canonical_url": self.canonical_url,
            "title": self.title,
            "date": self.date.isoformat() if self.date else None,
            "action": self.action,
            "reason": self.reason,
        }


def plan(
    scan: SiteScan, entries: Mapping[str, Entry], now: dt.datetime, rules: Rules
) -> list[PlanItem]:
    """One item per post file found, sorted by source."""
    items = [_judge(post, entries, now, rules) for post in scan.posts]
    items.extend(_error_item(error) for error in scan.errors)
    return sorted(items, key=lambda item: item.source)


def due(items: list[PlanItem]) -> list[PlanItem]:
    """The items to post, oldest first (then by source, for a stable order)."""
    posts = [item for item in items if item.action == POST]
    return sorted(posts, key=lambda item: (item.date or dt.datetime.min.replace(tzinfo=dt.UTC),
                                           item.source))


def _judge(post: Post, entries: Mapping[str, Entry], now: dt.datetime, rules: Rules) -> PlanItem:
    def item(action: str, reason: str, entry: Entry | None = None) -> PlanItem:
        return PlanItem(
            source=post.source,
            canonical_url=post.canonical_url,
            title=post.title,
            date=post.date,
            action=action,
            reason=reason,
            post=post,
            entry=entry,
        )

    if post.draft:
        return item(SKIP, "draft")
    if not post.published or post.canonical_url is None:
        return item(SKIP, "unpublished")
    entry = entries.get(post.canonical_url)
    if entry is not None:
        if entry.is_in_doubt:
            return item(SKIP, "in-doubt", entry)
        if entry.state == POSTED:
            return item(SKIP, "synced", entry)
        if entry.state == ADOPTED:
            return item(SKIP, "adopted", entry)
    if _opted_out(post):
        return item(SKIP, "opted-out", entry)
    if rules.since is not None and post.date.date() < rules.since:
        return item(SKIP, "before-since", entry)
    if post.date > now:
        return item(DEFER, "future", entry)
    if entry is not None and entry.state != FAILED:
        # A state this syncd does not know: never guess that it is safe to post.
        return item(SKIP, entry.state, entry)
    return item(POST, "new", entry)


def _opted_out(post: Post) -> bool:
    return any(post.front_matter.get(key) is False for key in OPT_OUT_KEYS)


def _error_item(error: PostError) -> PlanItem:
    return PlanItem(
        source=error.source,
        canonical_url=None,
        title=None,
        date=None,
        action=ERROR,
        reason=error.reason,
    )
