"""The executor: carries out a plan's ``post`` items against Medium and the ledger.

For each due post, in date order: render it, durably record the intent (``posting``, one
appended line in the ledger's journal, fsynced), send one create request, then record what
the answer proves (see :mod:`syncd.medium`):
``posted``; ``failed`` (Medium refused it; a later pass tries again); ``in-doubt`` (never
re-sent automatically); or, when nothing reached Medium, the ledger is put back as it was.
A crash at any point leaves at worst a ``posting`` entry, which the next pass treats as in
doubt: syncd may fail to post, but it never posts twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from syncd.config import MediumConfig
from syncd.edits import CHANGED, SETTLED_REASONS, baseline, source_hash
from syncd.engine import DEFER, ERROR, MAYBE_MOVED, PlanItem, due, moved_entry
from syncd.errors import EXIT_OK, EXIT_POST_FAILURES, AuthError, LedgerError
from syncd.events import Event, EventHook, silent
from syncd.images import upload_images
from syncd.ledger import FAILED, IN_DOUBT, POSTED, POSTING, Entry, Ledger, now_iso
from syncd.model import Post
from syncd.render import Rendered, payload_fields, render_post
from syncd.render_context import RenderContext
from syncd.sites.postfile import PostChanged

if TYPE_CHECKING:
    from syncd.medium import CreatedPost, MediumClient

log = logging.getLogger("syncd")


@dataclass
class Outcome:
    """What happened to one post in a pass."""

    item: PlanItem
    result: str  # posted, would-post, failed, in-doubt, not-sent, rate-limited
    detail: str = ""
    medium_url: str | None = None
    retry_after: float | None = None


@dataclass
class PassReport:
    """Everything a pass did, for the summary line and the exit status."""

    outcomes: list[Outcome] = field(default_factory=list)
    read_errors: list[PlanItem] = field(default_factory=list)
    in_doubt_before: list[PlanItem] = field(default_factory=list)
    deferred: list[PlanItem] = field(default_factory=list)
    moved: list[PlanItem] = field(default_factory=list)
    maybe_moved: list[PlanItem] = field(default_factory=list)
    changed: list[PlanItem] = field(default_factory=list)
    dry_run: bool = False

    @property
    def rate_limited(self) -> bool:
        return any(o.result == "rate-limited" for o in self.outcomes)

    @property
    def retry_after(self) -> float | None:
        """Seconds Medium asked to wait before the next create, when it said."""
        waits = [o.retry_after for o in self.outcomes if o.retry_after is not None]
        return max(waits) if waits else None

    def count(self, result: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.result == result)

    def still_due(self) -> set[str]:
        """Sources of posts this pass found due or deferred and did not settle (not posted,
        not in doubt): a later pass must judge them again."""
        settled = ("posted", "in-doubt")
        due_now = {o.item.source for o in self.outcomes if o.result not in settled}
        return due_now | {item.source for item in self.deferred}

    @property
    def exit_status(self) -> int:
        troubled = {"failed", "in-doubt", "not-sent"}
        if (any(o.result in troubled for o in self.outcomes) or self.read_errors
                or self.in_doubt_before or self.maybe_moved):
            return EXIT_POST_FAILURES
        return EXIT_OK

    def summary(self) -> str:
        if self.dry_run:
            parts = [f"{self.count('would-post')} would be posted"]
        else:
            parts = [f"{self.count('posted')} posted"]
        labels = (("failed", "failed"), ("in-doubt", "in doubt"), ("not-sent", "not sent"),
                  ("rate-limited", "held by the daily limit"))
        for result, label in labels:
            if self.count(result):
                parts.append(f"{self.count(result)} {label}")
        if self.deferred:
            parts.append(f"{len(self.deferred)} deferred")
        if self.moved:
            parts.append(f"{len(self.moved)} moved to a new URL")
        if self.maybe_moved:
            parts.append(f"{len(self.maybe_moved)} held: new, or a synced post moved? "
                         "(syncd status)")
        if self.changed:
            parts.append(f"{len(self.changed)} edited since posted (syncd diff)")
        if self.in_doubt_before:
            parts.append(f"{len(self.in_doubt_before)} still in doubt from an earlier pass")
        if self.read_errors:
            parts.append(f"{len(self.read_errors)} unreadable")
        return ", ".join(parts)


def create_body(rendered: Rendered, canonical_url: str, medium: MediumConfig,
                published_at: dt.datetime | None = None) -> dict[str, Any]:
    """The create-post request body for one rendered post.

    The post's own ``medium_status`` wins over ``[medium] publish_status``; ``published_at``
    (the post's date, when backdating) becomes Medium's ``publishedAt``.
    """
    body = payload_fields(rendered)
    body["canonicalUrl"] = canonical_url
    body["publishStatus"] = rendered.publish_status or medium.publish_status
    if medium.license:
        body["license"] = medium.license
    if medium.notify_followers is not None:
        body["notifyFollowers"] = medium.notify_followers
    if published_at is not None:
        body["publishedAt"] = published_at.isoformat()
    return body


def run_pass(
    items: list[PlanItem],
    *,
    ledger: Ledger,
    client: MediumClient | None,
    user_id: str | None,
    medium: MediumConfig,
    dry_run: bool = False,
    backfill: bool = False,
    render: Callable[..., Rendered] = render_post,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    hold_posts: str | None = None,
    render_context: RenderContext | None = None,
    events: EventHook | None = None,
) -> PassReport:
    """Post every due item once; stop at a refused token (AuthError, exit 3).

    ``hold_posts`` (a reason) holds every due post back without a request.
    ``render_context`` describes the site for rendering; by default it is built from the
    items' posts (all of the site's posts: ``post_url`` needs them), ``[medium]`` and the
    ledger's folder (the image upload cache). ``events`` hears what happened to each post.
    """
    report = PassReport(dry_run=dry_run)
    events = events if events is not None and not dry_run else silent()
    if render_context is None:
        render_context = RenderContext.build(
            [item.post for item in items if item.post is not None], medium=medium,
            ledger=ledger.path)
    for item in items:
        if item.action == ERROR:
            report.read_errors.append(item)
            log.error("%s: cannot be read: %s", item.source, item.reason)
        elif item.reason == "in-doubt":
            report.in_doubt_before.append(item)
            log.warning(
                "%s: in doubt since an earlier pass (it may be on Medium already); check "
                "Medium, then `syncd resolve %s --medium-url URL` or `--not-posted`",
                item.source, item.source,
            )
        elif item.action == DEFER:
            report.deferred.append(item)
        elif item.reason == "moved":
            report.moved.append(item)
        elif item.reason == MAYBE_MOVED:
            report.maybe_moved.append(item)
            _ask_if_moved(item)
        elif item.reason == CHANGED:
            report.changed.append(item)
    if report.moved:
        _record_moves(report.moved, ledger, dry_run)
    _report_edits(items, ledger, dry_run, events)
    queue = due(items)
    if hold_posts is not None:
        # Medium's daily limit is still in force: asking again would only be refused.
        report.outcomes.extend(Outcome(item, "rate-limited", hold_posts) for item in queue)
        queue = []
    for index, item in enumerate(queue):
        if should_stop is not None and should_stop():
            log.info("stopping: %d due posts left for the next pass", len(queue) - index)
            break
        outcome = _post_one(item, ledger, client, user_id, medium, dry_run, backfill,
                            lambda post: render(post, render_context), render_context)
        report.outcomes.append(outcome)
        _announce(outcome, events)
        if progress is not None:
            progress(index + 1, len(queue))
        if outcome.result == "rate-limited":
            for later in queue[index + 1:]:
                report.outcomes.append(Outcome(later, "rate-limited", outcome.detail))
                _announce(report.outcomes[-1], events)
            break
    return report


ANNOUNCED = {"posted": "posted", "failed": "failed", "in-doubt": "in-doubt",
             "rate-limited": "deferred"}


def _announce(outcome: Outcome, events: EventHook) -> None:
    """The user's notify command hears of every post created, refused, in doubt or held."""
    name = ANNOUNCED.get(outcome.result)
    if name is None:
        return
    item = outcome.item
    message = outcome.detail
    if name == "deferred":
        message = f"held by Medium's daily limit: {outcome.detail}"
    events.emit(Event(name, item.source, item.title or "", item.canonical_url,
                      outcome.medium_url, message))


def _report_edits(items: list[PlanItem], ledger: Ledger, dry_run: bool,
                  events: EventHook) -> None:
    """Say once per edit that a synced post changed, and forget edits that were undone.

    ``seen_change`` in the entry remembers that this edit was reported, so neither the next
    save nor the next ``--once`` repeats it; it is cleared when the post matches Medium
    again (or by ``syncd ack``), so a later edit is reported anew.
    """
    updates = []
    for item in items:
        entry, post = item.entry, item.post
        if entry is None or post is None:
            continue
        if item.reason == CHANGED and entry.seen_change is None:
            medium = f" ({entry.medium_url})" if entry.medium_url else ""
            log.warning(
                "%s: edited since it went to Medium%s. Medium's API cannot update a post: "
                "`syncd diff %s` shows what changed, `syncd render %s --open` gives the new "
                "version to paste into Medium's editor, then `syncd ack %s`",
                item.source, medium, item.source, item.source, item.source)
            events.emit(Event("changed", item.source, item.title or "", item.canonical_url,
                              entry.medium_url, "edited on the blog since it was posted"))
            updates.append(replace(entry, seen_change=source_hash(post)))
        elif item.reason == CHANGED:
            log.debug("%s: its edit was reported already", item.source)
        elif item.reason in SETTLED_REASONS:
            current = source_hash(post)
            if entry.seen_change is not None:
                log.info("%s: matches its Medium copy again", item.source)
            if entry.seen_change is not None or (
                    entry.content_fingerprint is not None and entry.source_hash != current):
                # Rendered this pass and found the same for a reader: no need to next time.
                updates.append(replace(entry, seen_change=None, source_hash=current))
    if updates and not dry_run:
        # Each update stands alone (a crash may keep some): journal lines, not a rewrite.
        ledger.record_many(updates)


def _post_one(
    item: PlanItem,
    ledger: Ledger,
    client: MediumClient | None,
    user_id: str | None,
    medium: MediumConfig,
    dry_run: bool,
    backfill: bool,
    render: Callable[[Post], Rendered],
    render_context: RenderContext,
) -> Outcome:
    # Imported here: a pass with nothing due never loads the HTTP stack.
    from syncd.medium import InDoubt, NotSent, RateLimited, Rejected, TokenRefused

    assert item.post is not None and item.canonical_url is not None
    try:
        rendered = render(item.post)
    except PostChanged as exc:
        # Its file stopped reading as a post after the site was read: this post waits for
        # the next pass; the others go on.
        log.error("%s: not sent: %s", item.source, exc)
        return Outcome(item, "not-sent", str(exc))
    for warning in item.post.warnings + rendered.warnings:
        log.warning("%s: %s", item.source, warning)
    if rendered.refusal is not None:
        log.error("%s: not sent: %s", item.source, rendered.refusal)
        return Outcome(item, "not-sent", rendered.refusal)
    # An old post keeps its own date on Medium instead of arriving as news.
    backdated = item.date if (backfill or medium.backdate) else None
    if dry_run:
        log.info("%s: would post %r (%s)", item.source, rendered.title, item.canonical_url)
        return Outcome(item, "would-post")
    assert client is not None and user_id is not None
    if medium.upload_images and rendered.images:
        uploaded = _upload_images(item, rendered, client, render_context, medium)
        if isinstance(uploaded, Outcome):
            return uploaded
        rendered = uploaded
    elif rendered.table_texts:
        # A drawn table reaches Medium only uploaded; otherwise it goes as text.
        rendered = rendered.with_image_urls({})
    body = create_body(rendered, item.canonical_url, medium, backdated)
    previous = item.entry
    intent = Entry(
        canonical_url=item.canonical_url,
        source=item.source,
        state=POSTING,
        title=rendered.title,
        publish_status=body["publishStatus"],
        attempted_at=now_iso(),
        **baseline(rendered, item.post),
    )
    ledger.record(intent)
    try:
        created = client.create_post(body, user_id=user_id, publication_id=medium.publication_id)
    except TokenRefused as exc:
        _restore(ledger, item.canonical_url, previous)
        raise AuthError(
            f"Medium refused the token ({exc.message}). Make a new integration token in "
            "Medium's settings (Security and apps → Integration tokens) and put it where "
            f"the config says ({_token_place(medium)})"
        ) from None
    except RateLimited as exc:
        _restore(ledger, item.canonical_url, previous)
        wait = f"; Medium says retry in {exc.retry_after:g} s" if exc.retry_after else ""
        log.warning("%s: not posted, Medium's daily limit: %s%s", item.source, exc.message, wait)
        return Outcome(item, "rate-limited", exc.message, retry_after=exc.retry_after)
    except Rejected as exc:
        ledger.record(_replaced(intent, state=FAILED, error=f"{exc.status}: {exc.message}"))
        log.error("%s: Medium refused the post (%s): %s", item.source, exc.status, exc.message)
        return Outcome(item, "failed", exc.message)
    except NotSent as exc:
        _restore(ledger, item.canonical_url, previous)
        log.error("%s: not sent: %s", item.source, exc.message)
        return Outcome(item, "not-sent", exc.message)
    except InDoubt as exc:
        ledger.record(_replaced(intent, state=IN_DOUBT, error=exc.message))
        log.error(
            "%s: IN DOUBT: %s. It may or may not be on Medium; syncd will not send it again. "
            "Check Medium, then `syncd resolve %s --medium-url URL` or `--not-posted`",
            item.source, exc.message, item.source,
        )
        return Outcome(item, "in-doubt", exc.message)
    try:
        ledger.record(_posted(intent, created))
    except LedgerError:
        log.error(
            "%s: POSTED at %s, but the ledger cannot record it; it stays in doubt. Once the "
            "ledger can be written: syncd resolve %s --medium-url %s",
            item.source, created.url, item.source, created.url,
        )
        raise
    log.info("%s: posted %r → %s", item.source, rendered.title, created.url)
    return Outcome(item, "posted", medium_url=created.url)


def _upload_images(item: PlanItem, rendered: Rendered, client: MediumClient,
                   render_context: RenderContext, medium: MediumConfig) -> Rendered | Outcome:
    """Upload the post's local images (once each, by content), before the intent is recorded.

    An upload that got no answer holds the post back (``not-sent``): nothing was created,
    and the next pass tries again, rather than sending the post without its images.
    """
    cache = render_context.image_cache
    if cache is None:
        return rendered.with_image_urls({})
    try:
        result = upload_images(rendered.images, client, cache, medium.api_url)
    except OSError as exc:
        log.error("%s: not sent: the image cache %s cannot be written: %s", item.source,
                  cache.path, exc.strerror or exc)
        return Outcome(item, "not-sent", f"image cache: {exc.strerror or exc}")
    for warning in result.warnings:
        log.warning("%s: %s", item.source, warning)
    if result.failure is not None:
        log.error("%s: not sent: %s; the next pass tries again", item.source, result.failure)
        return Outcome(item, "not-sent", result.failure)
    return rendered.with_image_urls(result.urls)


SITE_WIDE_MOVE = 5


def _ask_if_moved(item: PlanItem) -> None:
    """A post that shares only its title with a synced post whose file is gone: say why it
    is held and how to settle it, each pass, as for a post in doubt."""
    assert item.entry is not None
    old = item.entry
    where = old.medium_url or "no Medium URL recorded"
    log.warning(
        "%s: not posted: its title %r is that of a synced post whose file is gone (%s, %s), "
        "but its text is not. If it is a new post: `syncd resolve %s --not-posted` (the next "
        "pass posts it); if it is that post, renamed and edited: `syncd resolve %s --moved`",
        item.source, item.title, old.source, where, item.source, item.source,
    )


def _record_moves(moved: list[PlanItem], ledger: Ledger, dry_run: bool) -> None:
    """Re-key synced posts under their new URLs (one write) and tell the user once."""
    moves = []
    for item in moved:
        assert item.entry is not None and item.post is not None and item.canonical_url
        moves.append((item.entry.canonical_url, moved_entry(item.entry, item.post)))
    if not dry_run:
        ledger.rekey(moves)
    verb = "would record" if dry_run else "recorded"
    if len(moves) > SITE_WIDE_MOVE:
        old_url, entry = moves[0]
        log.warning(
            "%d synced posts changed URL at once (e.g. %s → %s): a site-wide url, baseurl or "
            "permalink change? Nothing was posted; %s them under the new URLs. Their Medium "
            "copies keep the old canonical links, which Medium's API cannot change: keep the "
            "old URLs redirecting, or edit the links on Medium",
            len(moves), old_url, entry.canonical_url, verb,
        )
        for old_url, entry in moves:
            log.debug("%s: moved %s → %s", entry.source, old_url, entry.canonical_url)
        return
    for old_url, entry in moves:
        log.warning(
            "%s: already synced, but its URL changed %s → %s; not posted again, %s the new "
            "URL. Its Medium copy keeps the old canonical link, which Medium's API cannot "
            "change: keep the old URL redirecting, or edit the link on Medium",
            entry.source, old_url, entry.canonical_url, verb,
        )


def _posted(intent: Entry, created: CreatedPost) -> Entry:
    return _replaced(
        intent,
        state=POSTED,
        medium_id=created.id,
        medium_url=created.url,
        publish_status=created.publish_status or intent.publish_status,
        posted_at=now_iso(),
    )


def _replaced(entry: Entry, **changes: Any) -> Entry:
    return replace(entry, **changes)


def _restore(ledger: Ledger, canonical_url: str, previous: Entry | None) -> None:
    """Undo an intent when the answer proves nothing was created."""
    if previous is None:
        ledger.record_removal(canonical_url)
    else:
        ledger.record(previous)


def _token_place(medium: MediumConfig) -> str:
    if medium.token_file is not None:
        return f"medium.token_file = {medium.token_file}"
    return f"the environment variable {medium.token_env}"
