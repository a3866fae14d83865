"""Application services: build the pieces from a Config and run one command's work.

The CLI and the demo call these; they own no wording of their own beyond log lines. Nothing
here parses argv or prints tables. The HTTP stack is imported only by the commands that
talk to Medium, so ``plan`` and ``status`` start in a fraction of the time.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from syncd.config import Config, read_token
from syncd.engine import POST, PlanItem, Rules, plan
from syncd.errors import AuthError, MediumUnreachable, SyncdError
from syncd.ledger import POSTED, Entry, Ledger, ledger_lock, now_iso
from syncd.sites import read_site

if TYPE_CHECKING:
    from syncd.medium import MediumClient
    from syncd.sync import PassReport

log = logging.getLogger("syncd")


@dataclass(frozen=True)
class PlanResult:
    items: list[PlanItem]
    ledger_exists: bool


def make_plan(config: Config, now: dt.datetime | None = None) -> PlanResult:
    """Read the site and the ledger once and decide; touches nothing."""
    ledger = Ledger(config.sync.ledger)
    try:
        return PlanResult(decide(config, ledger, now), ledger.exists)
    finally:
        ledger.close()


def decide(config: Config, ledger: Ledger, now: dt.datetime | None = None) -> list[PlanItem]:
    """The engine's plan for the site as it is now and the ledger as it is now."""
    scan = read_site(config.site)
    when = now or dt.datetime.now(dt.UTC)
    return plan(scan, ledger.entries(), when, Rules(since=config.sync.since))


def run_once(
    config: Config, environ: Mapping[str, str], *, dry_run: bool = False,
    now: dt.datetime | None = None,
) -> PassReport:
    """One catch-up pass under the ledger lock: read, plan, post what is due."""
    from syncd.sync import run_pass

    with ledger_lock(config.sync.ledger):
        ledger = Ledger(config.sync.ledger)
        try:
            items = decide(config, ledger, now)
            log.info(
                "%s: %d post files, %d due", config.site.root, len(items),
                sum(1 for item in items if item.action == POST),
            )
            client, user_id = None, None
            if any(item.action == POST for item in items):
                client, user_id = connect(config, environ)
            try:
                return run_pass(
                    items, ledger=ledger, client=client, user_id=user_id,
                    medium=config.medium, dry_run=dry_run,
                )
            finally:
                if client is not None:
                    client.close()
        finally:
            ledger.close()


def connect(config: Config, environ: Mapping[str, str]) -> tuple[MediumClient, str]:
    """A client with the configured token, and the token's user id (GET /me)."""
    from syncd.medium import MediumClient, MediumError, TokenRefused

    token = read_token(config, environ)
    client = MediumClient(config.medium.api_url, token, config.medium.timeout_s)
    try:
        user = client.me()
    except TokenRefused as exc:
        client.close()
        raise AuthError(
            f"Medium refused the token ({exc.message}). Make a new integration token in "
            "Medium's settings and put it where the config says"
        ) from None
    except MediumError as exc:
        client.close()
        raise MediumUnreachable(f"cannot reach Medium at {config.medium.api_url}: {exc.message}") \
            from None
    log.info("authenticated as @%s", user.username)
    return client, user.id


_MEDIUM_POST_ID = re.compile(r"-([0-9a-f]{8,16})$")


def resolve(config: Config, source: str, medium_url: str | None) -> Entry:
    """Settle an in-doubt post: on Medium at ``medium_url``, or (None) never created.

    The second case removes the entry, so the next pass posts it.
    """
    if medium_url is not None:
        parts = urlsplit(medium_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SyncdError(f"--medium-url must be the post's absolute URL, not {medium_url!r}")
    with ledger_lock(config.sync.ledger):
        ledger = Ledger(config.sync.ledger)
        try:
            entries = [e for e in ledger.entries().values()
                       if source in (e.source, e.canonical_url)]
            doubtful = [e for e in entries if e.is_in_doubt]
            if not doubtful:
                states = ", ".join(f"{e.canonical_url} is {e.state}" for e in entries)
                raise SyncdError(
                    f"{source}: nothing in doubt to resolve"
                    + (f" ({states})" if states else " (not in the ledger)")
                )
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
