"""The engine: decides, for every post file, what a pass does with it. Pure: no I/O.

:func:`plan` is a function of the site scan, the ledger entries, the current time and the
sync rules. It returns one :class:`PlanItem` per post file, in a stable order (by source);
the executor (:mod:`syncd.sync`) carries out the ``post`` items, oldest first.

Actions and reasons are the contract's (``plan --json``): ``post``/``new``;
``skip``/``synced``, ``adopted``, ``unpublished``, ``draft``, ``before-since``,
``opted-out``, ``in-doubt``; ``defer``/``future``; ``error`` with the read error as reason.

``defer``/``first-run`` (an extension) is the first-run guard: the ledger is empty and more
posts are due than ``first_run_limit``, so none is posted until the user decides (adopt
them, set ``since``, or ``--backfill``).

``skip``/``not-opted-in`` (an extension): ``[sync] require_opt_in`` is set and the post's
front matter does not say ``medium: true`` (or ``syndicate: true``).

``skip``/``moved`` (an extension) is an already-synced post whose URL changed: a permalink
or ``url`` change, a renamed file or a new date. It is recognised by its source path, or by
its fingerprint (title and text) when the file itself was renamed, and is never posted
again: the executor records it under its new URL.

``skip``/``maybe-moved`` (an extension) is a new post whose title is that of a synced post
whose file is gone, but whose text is not: a renamed and edited post, or a new post that
reuses a title ("Weekly notes"). A title alone never proves identity, so it is neither
posted nor recorded as moved until the user says which it is (``syncd resolve``); the
application may still recognise it as moved when its text is nearly what was sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from syncd.ledger import ADOPTED, FAILED, POSTED, Entry
from syncd.memory import batch
from syncd.model import Post, PostError, SiteScan, source_digest, text_fingerprint

POST = "post"
SKIP = "skip"
DEFER = "defer"
ERROR = "error"

MAYBE_MOVED = "maybe-moved"

# Front matter keys an author uses to keep one post off Medium.
OPT_OUT_KEYS = ("syndicate", "medium")


@dataclass(frozen=True)
class Rules:
    """The parts of the configuration that decide what is due."""

    since: dt.date | None = None
    first_run_limit: int | None = None
    backfill: bool = False
    require_opt_in: bool = False


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


@batch
def plan(
    scan: SiteScan, entries: Mapping[str, Entry], now: dt.datetime, rules: Rules,
    only: Collection[str] | None = None,
) -> list[PlanItem]:
    """One item per post file found, sorted by source.

    ``only`` (sources) asks for the items of those files alone, plus any post found to
    have moved: a pass driven by the files that changed. What depends on the whole site
    is still decided over all of it: moves here, URL clashes by the reader; and with an
    empty ledger every post is judged, for the first-run guard.
    """
    moved, maybe_moved = _find_moves(scan, entries)
    posts, errors = scan.posts, scan.errors
    if only is not None and entries:
        found = [scan.by_source[source] for source in {*only, *moved, *maybe_moved}
                 if source in scan.by_source]
        posts = tuple(post for post in found if isinstance(post, Post))
        errors = tuple(error for error in found if isinstance(error, PostError))
    items = [_judge(post, entries, moved.get(post.source), now, rules,
                    maybe_moved.get(post.source)) for post in posts]
    if _first_run_flood(items, entries, rules):
        items = [replace(item, action=DEFER, reason="first-run") if item.action == POST
                 else item for item in items]
    items.extend(_error_item(error) for error in errors)
    return sorted(items, key=lambda item: item.source)


def _first_run_flood(items: list[PlanItem], entries: Mapping[str, Entry], rules: Rules) -> bool:
    """An empty ledger and more posts due than the first-run limit: ask, do not flood."""
    if entries or rules.backfill or rules.first_run_limit is None:
        return False
    return sum(1 for item in items if item.action == POST) > rules.first_run_limit


def fingerprint(post: Post) -> str:
    """What identifies a post's content across renames: its title and words, not spacing
    (computed by the reader while it had the body, when it did)."""
    return post.fingerprint or text_fingerprint(post.title, post.body)


def _find_moves(scan: SiteScan, entries: Mapping[str, Entry]
                ) -> tuple[dict[str, Entry], dict[str, Entry]]:
    """Posts (by source) whose URL is new but which the ledger knows under an old URL, and
    posts that may be such a post: ``(moves, maybe_moves)``.

    Only entries whose URL no current post produces can have moved. A post claims such an
    entry by the same source path or, when the entry's old file is gone, by the same
    fingerprint (title and words) or the same file as syncd last read it (an edit it reported
    already, then a rename): that is a move. Exact claims are settled first, so a new
    post of the same title never takes an entry from the file that really is it. A post
    that shares only its title with an entry whose file is gone may be that post renamed
    and edited, or a new post of a series: it is held (maybe moved) for the user to say,
    unless the user said already that it is another post (``distinct_urls``). Guessing
    either way is wrong: a guessed move loses a new post; a guessed new post may publish a
    duplicate that can never be taken back.
    """
    # Set differences of the indexes (in C), not loops over every post and every entry.
    orphan_urls = entries.keys() - scan.by_url.keys()
    if not orphan_urls:
        return {}, {}
    orphans = [entries[url] for url in sorted(orphan_urls)]
    by_source = {e.source: e for e in orphans}
    gone = [e for e in orphans if e.source not in scan.by_source]
    by_fingerprint = {e.fingerprint: e for e in gone if e.fingerprint}
    # The file as syncd last read it (when posted, or when it reported an edit): the same
    # file renamed, whatever its edits since it went to Medium.
    by_digest = {digest: e for e in gone for digest in (e.source_hash, e.seen_change) if digest}
    by_title: dict[str, list[Entry]] = {}
    for e in gone:
        if e.title:
            by_title.setdefault(title_key(e.title), []).append(e)
    moves: dict[str, Entry] = {}
    claimed: set[str] = set()
    unsynced = sorted((scan.by_url[url] for url in scan.by_url.keys() - entries.keys()),
                      key=lambda p: p.source)
    unsynced = [post for post in unsynced if post.published and not post.draft]
    for post in unsynced:
        old = by_source.get(post.source) or by_fingerprint.get(fingerprint(post))
        if old is None and by_digest:
            old = by_digest.get(post.source_hash
                                or source_digest(post.title, post.front_matter, post.body))
        if old is not None and old.canonical_url not in claimed:
            claimed.add(old.canonical_url)
            moves[post.source] = old
    maybe: dict[str, Entry] = {}
    for post in unsynced:
        if post.source in moves:
            continue
        candidates = [e for e in by_title.get(title_key(post.title), ())
                      if e.canonical_url not in claimed
                      and post.canonical_url not in e.distinct_urls]
        if candidates:
            maybe[post.source] = max(candidates, key=lambda e: e.posted_at or "")
    return moves, maybe


def moved_entry(old: Entry, post: Post) -> Entry:
    """``old`` recorded under ``post``'s URL and source, keeping the URLs it had."""
    assert post.canonical_url is not None
    return replace(
        old,
        canonical_url=post.canonical_url,
        source=post.source,
        fingerprint=old.fingerprint or fingerprint(post),
        previous_urls=(*old.previous_urls, old.canonical_url),
    )


def due(items: list[PlanItem]) -> list[PlanItem]:
    """The items to post, oldest first (then by source, for a stable order)."""
    posts = [item for item in items if item.action == POST]
    return sorted(posts, key=lambda item: (item.date or dt.datetime.min.replace(tzinfo=dt.UTC),
                                           item.source))


def title_key(title: str) -> str:
    """Titles compared as a reader would: case and spacing aside."""
    return " ".join(title.casefold().split())


def _judge(post: Post, entries: Mapping[str, Entry], moved_from: Entry | None,
           now: dt.datetime, rules: Rules, maybe_from: Entry | None = None) -> PlanItem:
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
    if moved_from is not None:
        return item(SKIP, "moved", moved_from)
    if maybe_from is not None:
        return item(SKIP, MAYBE_MOVED, maybe_from)
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
    if rules.require_opt_in and not _opted_in(post):
        return item(SKIP, "not-opted-in", entry)
    if rules.since is not None and post.date.date() < rules.since:
        return item(SKIP, "before-since", entry)
    if post.held_until_date and post.date > now:
        return item(DEFER, "future", entry)
    if entry is not None and entry.state != FAILED:
        # A state this syncd does not know: never guess that it is safe to post.
        return item(SKIP, entry.state, entry)
    return item(POST, "new", entry)


def _opted_out(post: Post) -> bool:
    return any(post.front_matter.get(key) is False for key in OPT_OUT_KEYS)


def _opted_in(post: Post) -> bool:
    return any(post.front_matter.get(key) is True for key in OPT_OUT_KEYS)


def _error_item(error: PostError) -> PlanItem:
    return PlanItem(
        source=error.source,
        canonical_url=None,
        title=None,
        date=None,
        action=ERROR,
        reason=error.reason,
    )
