"""Application services: build the pieces from a Config and run one command's work.

The CLI and the demo call these; they own no wording of their own beyond log lines. Nothing
here parses argv or prints tables. The HTTP stack is imported only by the commands that
talk to Medium, so ``plan`` and ``status`` start in a fraction of the time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from syncd.config import Config, read_token
from syncd.engine import POST, PlanItem, Rules, plan
from syncd.errors import AuthError, MediumUnreachable
from syncd.ledger import Ledger, ledger_lock
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

    token = read_token(config.medium, config.path, environ)
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
