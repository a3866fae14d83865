"""Application services: build the pieces from a Config and run one command's work.

The CLI and the demo call these; they own no wording of their own beyond log lines. Nothing
here parses argv or prints tables. The HTTP stack is imported only by the commands that
talk to Medium, so ``plan`` and ``status`` start in a fraction of the time.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from syncd.config import Config, read_token
from syncd.edits import (
    CHANGED,
    SETTLED_REASONS,
    Report,
    Snapshot,
    flag_changed,
    recognise_edited_moves,
    renewed,
    source_hash,
    unpack,
)
from syncd.engine import MAYBE_MOVED, POST, PlanItem, Rules, plan
from syncd.errors import AuthError, FirstRunRefused, LedgerError, MediumUnreachable, SyncdError
from syncd.ledger import ADOPTED, POSTED, Entry, Ledger, ledger_lock, now_iso, write_lock
from syncd.memory import batch
from syncd.model import Post, SiteScan
from syncd.sites import read_site
from syncd.sites.parsecache import ParseCache

if TYPE_CHECKING:
    from syncd.medium import MediumClient
    from syncd.render import Rendered
    from syncd.render_context import RenderContext
    from syncd.sync import PassReport

log = logging.getLogger("syncd")


@dataclass(frozen=True)
class PlanResult:
    items: list[PlanItem]
    ledger_exists: bool


def make_plan(config: Config, now: dt.datetime | None = None) -> PlanResult:
    """Read the site and the ledger once and decide; touches nothing (the parse cache the
    passes keep beside the ledger is read, not written)."""
    ledger = Ledger(config.sync.ledger)
    try:
        cache = ParseCache.beside(config.sync.ledger, read_only=True)
        return PlanResult(decide(config, ledger, now, cache=cache), ledger.exists)
    finally:
        ledger.close()


@batch
def decide(config: Config, ledger: Ledger, now: dt.datetime | None = None,
           backfill: bool = False,
           settled: Callable[[Path], bool] | None = None,
           cache: ParseCache | None = None,
           renderers: list[SiteRenderer] | None = None,
           scan: SiteScan | None = None,
           only: Collection[str] | None = None) -> list[PlanItem]:
    """The engine's plan for the site as it is now and the ledger as it is now.

    Synced posts edited since are marked ``changed`` (:mod:`syncd.edits`). Files for which
    ``settled`` says no are left out of what is acted on, as if not written yet; they still
    count for the first-run guard and for recognising moved posts. A ``cache``
    (:mod:`syncd.sites.parsecache`) spares re-reading unchanged files; a ``scan`` given
    (the service's :class:`~syncd.sites.live.LiveSite`) spares reading the site at all,
    and ``only`` limits the plan to those sources (see :func:`syncd.engine.plan`).
    ``renderers``, when given, receives the site's renderer, for a caller that renders more.
    """
    if scan is None:
        scan = read_site(config.site, cache)
    when = now or dt.datetime.now(dt.UTC)
    rules = Rules(since=config.sync.since, first_run_limit=config.sync.first_run_limit,
                  backfill=backfill, require_opt_in=config.sync.require_opt_in)
    render = SiteRenderer(config, scan.posts, scan.by_url.keys())
    if renderers is not None:
        renderers.append(render)
    items = recognise_edited_moves(
        flag_changed(plan(scan, ledger.entries(), when, rules, only), render), render)
    if settled is None:
        return items
    found = scan.by_source
    unsettled = {item.source for item in items
                 if item.source in found and not settled(found[item.source].path)}
    return [item for item in items
            if item.source not in unsettled or item.reason == "first-run"]


class SiteRenderer:
    """``render_post`` with one context for the whole site, built on first use (most passes
    render nothing), and shared by everything a command renders."""

    def __init__(self, config: Config, posts: Sequence[Post],
                 urls: Collection[str] | None = None) -> None:
        self.config = config
        self.posts = posts
        self.urls = urls  # the posts' canonical URLs, when the caller has them at hand
        self._context: RenderContext | None = None

    @property
    def context(self) -> RenderContext:
        if self._context is None:
            from syncd.render_context import RenderContext

            self._context = RenderContext.for_config(self.config, self.posts, self.urls)
        return self._context

    def __call__(self, post: Post) -> Rendered:
        from syncd.render import render_post

        return render_post(post, self.context)


def run_once(
    config: Config, environ: Mapping[str, str], *, dry_run: bool = False,
    backfill: bool = False, now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PassReport:
    """One catch-up pass under the ledger lock: read, plan, post what is due."""
    with ledger_lock(config.sync.ledger):
        return locked_pass(config, environ, dry_run=dry_run, backfill=backfill, now=now,
                           progress=progress)


def locked_pass(
    config: Config, environ: Mapping[str, str], *, dry_run: bool = False,
    backfill: bool = False, now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    settled: Callable[[Path], bool] | None = None,
    should_stop: Callable[[], bool] | None = None,
    hold_posts: str | None = None,
    cache: ParseCache | None = None,
    site: Callable[[], tuple[SiteScan, Collection[str] | None]] | None = None,
    known_user: KnownUser | None = None,
) -> PassReport:
    """A pass by the holder of ``ledger_lock`` (``--once`` or the service).

    ``settled`` leaves out files still being written (the service's debounce),
    ``should_stop`` ends the pass between two posts (a stop signal), and ``hold_posts``
    (a reason) posts nothing while Medium's daily limit is known to be in force. ``cache``
    is the service's parse cache (the service saves it); without it the one beside the
    ledger is read and, unless ``dry_run``, written back. ``site`` (the service's), called
    under the write lock, gives the scan and the sources to judge (None: all of them)
    instead of a read of the whole site; ``known_user`` (the service's) spares asking
    Medium whose token it is on every pass.
    """
    from syncd.events import EventHook
    from syncd.sync import run_pass

    save_cache = cache is None and not dry_run
    if cache is None:
        cache = ParseCache.beside(config.sync.ledger)
    with write_lock(config.sync.ledger):
        ledger = Ledger(config.sync.ledger)
        try:
            if ledger.sweep_temp_files():
                log.debug("removed temp files left by an interrupted ledger write")
            renderers: list[SiteRenderer] = []
            scan, only = site() if site is not None else (read_site(config.site, cache), None)
            items = decide(config, ledger, now, backfill=backfill, settled=settled,
                           cache=cache, renderers=renderers, scan=scan, only=only)
            refuse_first_run_flood(config, items)
            due_count = sum(1 for item in items if item.action == POST)
            files = len(scan.posts) + len(scan.errors)
            log.log(logging.INFO if due_count else logging.DEBUG,
                    "%s: %d post files, %d due", config.site.root, files, due_count)
            client, user_id = None, None
            if hold_posts is None and any(item.action == POST for item in items):
                client, user_id = connect(config, environ, known_user)
            try:
                return run_pass(
                    items, ledger=ledger, client=client, user_id=user_id,
                    medium=config.medium, dry_run=dry_run, backfill=backfill,
                    progress=progress, should_stop=should_stop, hold_posts=hold_posts,
                    render_context=renderers[0].context,
                    events=EventHook.from_config(config, environ),
                )
            finally:
                if client is not None:
                    client.close()
        finally:
            try:
                if not dry_run:
                    fold_journal(ledger)
            finally:
                if save_cache and ledger.exists:
                    # Only beside a ledger: the cache is then a trace of it (a first run the
                    # guard stopped leaves none, so it is still a first run next time).
                    cache.save()
                ledger.close()


def fold_journal(ledger: Ledger) -> None:
    """End of a pass: fold what it recorded in the journal into the ledger file, so that
    between passes the file alone is the ledger (backups, ``jq``). If that fails (a full
    disk), the journal still holds everything, and the next pass or command folds it in."""
    try:
        ledger.compact()
    except LedgerError as exc:
        log.warning("the ledger's journal stays beside it for now: %s", exc)


NEWEST_SHOWN = 5


def refuse_first_run_flood(config: Config, items: list[PlanItem]) -> None:
    """The first-run guard: say what was found and how to go on, then stop (exit 2)."""
    held = [item for item in items if item.reason == "first-run"]
    if not held:
        return
    newest = sorted(held, key=lambda item: item.date or dt.datetime.min.replace(tzinfo=dt.UTC),
                    reverse=True)[:NEWEST_SHOWN]
    log.warning("first run: the ledger is empty and %d posts are due; the newest:", len(held))
    for item in newest:
        day = item.date.strftime("%Y-%m-%d") if item.date else "?"
        log.warning("  %s  %s  (%s)", day, item.title, item.source)
    log.warning("choose one:")
    log.warning("  syncd adopt --all          record them all as handled, post nothing "
                "(the usual choice for an existing blog)")
    log.warning("  [sync] since = YYYY-MM-DD  in %s: only posts from that day on", config.path)
    log.warning("  syncd --once --backfill    post them all, oldest first, as Medium's daily "
                "limit allows (publish_status = %r)", config.medium.publish_status)
    raise FirstRunRefused(
        f"nothing was posted: {len(held)} posts are due on a first run, more than "
        f"[sync] first_run_limit = {config.sync.first_run_limit}; choose one of the above"
    )


class KnownUser:
    """For the service: whose token it is, asked of Medium (GET /me) once per token and
    ``[medium]`` settings rather than once per save. The client itself is new for each
    pass: reusing a connection Medium closed while idle would leave a create in doubt."""

    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self.user_id: str | None = None

    def recall(self, key: tuple[object, ...]) -> str | None:
        return self.user_id if key == self._key else None

    def remember(self, key: tuple[object, ...], user_id: str) -> None:
        self._key, self.user_id = key, user_id

    def forget(self) -> None:
        """After a refused token or an unreachable Medium: ask again next time."""
        self._key = self.user_id = None


def connect(config: Config, environ: Mapping[str, str],
            known: KnownUser | None = None) -> tuple[MediumClient, str]:
    """A client with the configured token, and the token's user id (GET /me, unless
    ``known`` remembers it for this token)."""
    from syncd.medium import MediumClient, MediumError, TokenRefused

    token = read_token(config, environ)
    client = MediumClient(config.medium.api_url, token, config.medium.timeout_s)
    key = (token, config.medium)
    user_id = known.recall(key) if known is not None else None
    if user_id is not None:
        return client, user_id
    try:
        user = client.me()
        if config.medium.publication_id:
            check = _publication_check(client, user.id, config)
            if not check.ok:
                raise SyncdError(f"{check.what}; nothing was posted. Fix: {check.fix}")
    except SyncdError:
        client.close()
        raise
    except TokenRefused as exc:
        client.close()
        fix = ("run `syncd login` again" if config.login is not None else
               "make a new integration token in Medium's settings and put it where the config "
               "says")
        raise AuthError(f"Medium refused the token ({exc.message}); {fix}") from None
    except MediumError as exc:
        client.close()
        raise MediumUnreachable(f"cannot reach Medium at {config.medium.api_url}: {exc.message}") \
            from None
    log.info("authenticated as @%s", user.username)
    if known is not None:
        known.remember(key, user.id)
    return client, user.id


_MEDIUM_POST_ID = re.compile(r"-([0-9a-f]{8,16})$")


def resolve(config: Config, source: str, medium_url: str | None, moved: bool = False) -> Entry:
    """Settle a post syncd cannot settle by itself.

    In doubt: on Medium at ``medium_url``, or (None) never created; the second case removes
    the entry, so the next pass posts it. Maybe moved (its title is that of a synced post
    whose file is gone): ``moved`` records it as that post under its new URL; otherwise it
    is a new post, which the next pass posts.
    """
    if medium_url is not None:
        parts = urlsplit(medium_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SyncdError(f"--medium-url must be the post's absolute URL, not {medium_url!r}")
    with write_lock(config.sync.ledger):
        ledger = Ledger(config.sync.ledger)
        try:
            entries = [e for e in ledger.entries().values()
                       if source in (e.source, e.canonical_url)]
            doubtful = [e for e in entries if e.is_in_doubt]
            if not doubtful:
                held = _maybe_moved_item(config, ledger, source)
                if held is not None:
                    return _settle_maybe_moved(ledger, held, medium_url, moved)
                states = ", ".join(f"{e.canonical_url} is {e.state}" for e in entries)
                raise SyncdError(
                    f"{source}: nothing in doubt to resolve"
                    + (f" ({states})" if states else " (not in the ledger)")
                )
            if moved:
                raise SyncdError(f"{source}: its creation is in doubt, not a possible move: "
                                 "give --medium-url URL or --not-posted")
            settled = []
            for entry in doubtful:
                if medium_url is None:
                    ledger.remove(entry.canonical_url)
                    log.info("%s: recorded as not posted; the next pass posts it", entry.source)
                    settled.append(entry)
                    continue
                found = _MEDIUM_POST_ID.search(urlsplit(medium_url).path)
                posted = replace(entry, state=POSTED, medium_url=medium_url,
                                 medium_id=found.group(1) if found else None,
                                 posted_at=entry.attempted_at or now_iso(), error=None)
                ledger.put(posted)
                log.info("%s: recorded as posted at %s", entry.source, medium_url)
                settled.append(posted)
            return settled[0]
        finally:
            ledger.close()


def _maybe_moved_item(config: Config, ledger: Ledger, source: str) -> PlanItem | None:
    """The plan's item for ``source`` when it is held as maybe moved."""
    items = decide(config, ledger, cache=ParseCache.beside(config.sync.ledger))
    return next((item for item in items
                 if item.source == source and item.reason == MAYBE_MOVED), None)


def _settle_maybe_moved(ledger: Ledger, item: PlanItem, medium_url: str | None,
                        moved: bool) -> Entry:
    """It is the synced post it shares its title with (``moved``, or that post's Medium URL
    given): re-keyed under its new URL, as a move found by its text would be. Else it is a
    new post: every entry of that title notes that this URL is another post, so the next
    pass posts it."""
    from syncd.engine import moved_entry, title_key

    assert item.entry is not None and item.post is not None and item.canonical_url
    old = item.entry
    if medium_url is not None and medium_url != old.medium_url:
        raise SyncdError(
            f"{item.source}: {medium_url} is not the Medium URL of {old.source} "
            f"({old.medium_url or 'none recorded'}), the post it may be. If it is that post, "
            "give --moved; if it is a new post that is on Medium already, "
            f"`syncd adopt {item.source} --medium-url {medium_url}`")
    if moved or medium_url is not None:
        entry = moved_entry(old, item.post)
        ledger.rekey([(old.canonical_url, entry)])
        log.info("%s: recorded as %s moved (%s → %s); it is not posted", item.source,
                 old.source, old.canonical_url, entry.canonical_url)
        return entry
    same_title = [replace(e, distinct_urls=(*e.distinct_urls, item.canonical_url))
                  for e in ledger.entries().values()
                  if title_key(e.title) == title_key(item.title or "")
                  and item.canonical_url not in e.distinct_urls]
    ledger.put_many(same_title)
    log.info("%s: recorded as a new post, not %s moved; the next pass posts it",
             item.source, old.source)
    return old


@dataclass(frozen=True)
class StatusView:
    """The ledger, with what only the site can tell: edits since posting, deferred posts."""

    entries: list[Entry]
    deferred: list[PlanItem]
    changed: frozenset[str]
    maybe_moved: list[PlanItem] = field(default_factory=list)


def status_view(config: Config) -> StatusView:
    """Read the ledger and, when it can be read, the site; touches nothing."""
    ledger = Ledger(config.sync.ledger)
    try:
        entries = list(ledger.entries().values())
        try:
            items = decide(config, ledger, cache=ParseCache.beside(config.sync.ledger))
        except SyncdError as exc:
            log.warning("the site cannot be read, so edits and deferred posts are not shown: "
                        "%s", exc)
            items = []
    finally:
        ledger.close()
    changed = frozenset(item.canonical_url for item in items
                        if item.reason == CHANGED and item.canonical_url)
    return StatusView(entries, [item for item in items if item.reason == "future"], changed,
                      [item for item in items if item.reason == MAYBE_MOVED])


def edit_reports(config: Config, sources: list[str]) -> list[Report]:
    """What changed in each named synced post (or in every ``changed`` one) since Medium
    got it; touches nothing."""
    ledger = Ledger(config.sync.ledger)
    renderers: list[SiteRenderer] = []
    try:
        items = decide(config, ledger, renderers=renderers,
                       cache=ParseCache.beside(config.sync.ledger))
    finally:
        ledger.close()
    render = renderers[0]
    if sources:
        chosen = _synced_items(items, sources)
    else:
        chosen = [item for item in items if item.reason == CHANGED]
    reports = []
    for item in chosen:
        assert item.entry is not None and item.post is not None
        entry = item.entry
        reports.append(Report(
            source=item.source, medium_url=entry.medium_url,
            before=unpack(entry.sent) if entry.sent else None,
            after=Snapshot.of(render(item.post)),
            changed=item.reason == CHANGED,
            sent_at=entry.acked_at or entry.posted_at,
        ))
    return reports


def ack(config: Config, sources: list[str]) -> list[Entry]:
    """The author brought Medium up to date by hand (or chose not to): record the post as it
    is now as what Medium has, in one write. No ``sources``: every ``changed`` post."""
    with write_lock(config.sync.ledger):
        ledger = Ledger(config.sync.ledger)
        try:
            renderers: list[SiteRenderer] = []
            items = decide(config, ledger, renderers=renderers,
                           cache=ParseCache.beside(config.sync.ledger))
            if sources:
                chosen = _synced_items(items, sources)
            else:
                chosen = [item for item in items if item.reason == CHANGED]
            when = now_iso()
            entries = []
            for item in chosen:
                assert item.entry is not None and item.post is not None
                entries.append(renewed(item.entry, renderers[0](item.post), item.post, when))
            ledger.put_many(entries)
            return entries
        finally:
            ledger.close()


def _synced_items(items: list[PlanItem], sources: list[str]) -> list[PlanItem]:
    """The named posts, each of which must be on Medium (posted or adopted)."""
    chosen = _named_readable(items, sources)
    for item in chosen:
        if item.reason not in (*SETTLED_REASONS, CHANGED) or item.entry is None:
            state = f"its plan says {item.action}/{item.reason}"
            raise SyncdError(f"{item.source}: not on Medium according to the ledger ({state})")
    return chosen


def _named_readable(items: list[PlanItem], sources: list[str]) -> list[PlanItem]:
    """The plan items of the named post files, each of which must exist and be readable."""
    by_source = {item.source: item for item in items}
    chosen = []
    for source in sources:
        item = by_source.get(source)
        if item is None:
            raise SyncdError(f"{source}: no such post file in the site")
        if item.action == "error":
            raise SyncdError(f"{source}: cannot be read: {item.reason}")
        chosen.append(item)
    return chosen


ADOPTABLE = {"new", "first-run", "rate-limit"}


@batch
def adopt(config: Config, sources: list[str], medium_url: str | None = None,
          now: dt.datetime | None = None) -> list[Entry]:
    """Record posts as already handled, without posting them, in one batch write.

    With no ``sources``, every post a pass would post (or the first-run guard holds) is
    adopted. Named sources may also be future posts, which then never go out.
    """
    from syncd.engine import fingerprint

    if medium_url is not None and len(sources) != 1:
        raise SyncdError("--medium-url goes with exactly one SOURCE")
    with write_lock(config.sync.ledger):
        ledger = Ledger(config.sync.ledger)
        try:
            cache = ParseCache.beside(config.sync.ledger)
            items = decide(config, ledger, now, cache=cache)
            if sources:
                chosen = _named_items(items, sources)
            else:
                chosen = [item for item in items if item.reason in ADOPTABLE]
            recorded = now_iso()
            entries = []
            for item in chosen:
                assert item.post is not None and item.canonical_url is not None
                entries.append(Entry(
                    canonical_url=item.canonical_url, source=item.source, state=ADOPTED,
                    title=item.title or "", medium_url=medium_url, posted_at=recorded,
                    fingerprint=fingerprint(item.post), source_hash=source_hash(item.post),
                ))
            ledger.put_many(entries)
            if ledger.exists:
                cache.save()
            return entries
        finally:
            ledger.close()


def _named_items(items: list[PlanItem], sources: list[str]) -> list[PlanItem]:
    """The named posts, none of which may be in the ledger already."""
    chosen = _named_readable(items, sources)
    for item in chosen:
        if item.canonical_url is None:
            raise SyncdError(f"{item.source}: Jekyll publishes no page for it ({item.reason})")
        if item.reason == "in-doubt":
            raise SyncdError(f"{item.source}: its creation is in doubt; use syncd resolve")
        if item.reason in ("synced", "adopted", "moved", CHANGED):
            raise SyncdError(f"{item.source}: already in the ledger ({item.reason})")
    return chosen


@dataclass(frozen=True)
class Check:
    """One line of ``syncd check``: what was checked, and the fix when it failed."""

    ok: bool
    what: str
    fix: str = ""
    exit_status: int = 1


def run_checks(config: Config, environ: Mapping[str, str]) -> list[Check]:
    """Everything a pass needs, checked in order, without posting or recording anything."""
    from syncd.errors import EXIT_AUTH, EXIT_LEDGER, EXIT_USAGE, ConfigError, LedgerError
    from syncd.medium import MediumClient, MediumError, TokenRefused

    checks = [Check(True, f"config {config.path} is valid")]
    checks.extend(Check(False, warning, "fix or remove the key") for warning in config.warnings)
    try:
        scan = read_site(config.site)
    except SyncdError as exc:
        checks.append(Check(False, f"site {config.site.root} cannot be read", str(exc)))
    else:
        published = sum(1 for post in scan.posts if post.canonical_url)
        checks.append(Check(True, f"site {config.site.root}: {len(scan.posts)} post files, "
                                  f"{published} published"))
        if scan.errors:
            checks.append(Check(False, f"{len(scan.errors)} post files cannot be read",
                                "`syncd plan` lists them with the reason"))
    try:
        ledger = Ledger(config.sync.ledger)
        try:
            count = len(ledger.entries())
        finally:
            ledger.close()
    except LedgerError as exc:
        checks.append(Check(False, "the ledger cannot be used", str(exc), EXIT_LEDGER))
    else:
        what = (f"ledger {config.sync.ledger}: {count} entries" if config.sync.ledger.exists()
                else f"no ledger yet at {config.sync.ledger}: the first pass starts it")
        folder = _existing_folder(config.sync.ledger.parent)
        if os.access(folder, os.W_OK):
            checks.append(Check(True, what))
        else:
            checks.append(Check(False, f"{what}, but {folder} is not writable",
                                "give syncd's user write access to it", EXIT_LEDGER))
    try:
        token = read_token(config, environ)
    except ConfigError as exc:
        checks.append(Check(False, "no Medium token", str(exc), EXIT_USAGE))
        return checks
    except SyncdError as exc:
        checks.append(Check(False, "no Medium token", str(exc), exc.exit_status))
        return checks
    client = MediumClient(config.medium.api_url, token, config.medium.timeout_s)
    try:
        user = client.me()
        checks.append(Check(True, f"{config.medium.api_url} reached; authenticated as "
                                  f"@{user.username}"))
        if config.medium.publication_id:
            checks.append(_publication_check(client, user.id, config))
    except TokenRefused as exc:
        checks.append(Check(False, f"Medium refused the token ({exc.message})",
                            "make a new integration token in Medium's settings", EXIT_AUTH))
    except MediumError as exc:
        checks.append(Check(False, f"cannot reach {config.medium.api_url}: {exc.message}",
                            "check the address and the network"))
    finally:
        client.close()
    return checks


def _publication_check(client: MediumClient, user_id: str, config: Config) -> Check:
    """The user must belong to the publication, and a writer may only create drafts."""
    publication_id = config.medium.publication_id
    ids = {str(p.get("id")): str(p.get("name", "")) for p in client.publications(user_id)}
    if publication_id not in ids:
        return Check(False, f"you are not a contributor of publication {publication_id}",
                     "ask its editors to add you, or remove medium.publication_id")
    roles = {str(c.get("userId")): str(c.get("role")) for c in
             client.contributors(str(publication_id))}
    role = roles.get(user_id, "unknown")
    name = ids[str(publication_id)]
    if role == "writer" and config.medium.publish_status != "draft":
        return Check(False, f"you are a writer of {name!r}, and writers may only create drafts",
                     'set medium.publish_status = "draft"')
    return Check(True, f"publication {name!r}: you are {role}")


def _existing_folder(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder
