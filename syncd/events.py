"""Events out: run the user's ``[notify] command`` for what a pass did.

Each event (``posted``, ``in-doubt``, ``failed``, ``changed``, ``deferred``) runs the command
once through ``/bin/sh -c``, with its details in ``SYNCD_*`` environment variables, so a
one-line ``notify-send``, ``mail`` or ``curl`` is all a user writes. The command gets
syncd's environment minus every variable that may hold a secret (the token's, the OAuth
client secret's, systemd's credentials folder); it runs with a timeout, and its failure is
logged, never fatal: a notification must never stop a post or lose a ledger write.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from syncd.config import Config

log = logging.getLogger("syncd")

EVENTS = ("posted", "in-doubt", "failed", "changed", "deferred")
# Never handed to the command, whatever the config names: they may hold a secret.
ALWAYS_WITHHELD = ("MEDIUM_TOKEN", "MEDIUM_CLIENT_SECRET", "CREDENTIALS_DIRECTORY")


@dataclass(frozen=True)
class Event:
    """One thing that happened to one post."""

    name: str
    source: str
    title: str = ""
    canonical_url: str | None = None
    medium_url: str | None = None
    message: str = ""

    def variables(self) -> dict[str, str]:
        return {
            "SYNCD_EVENT": self.name,
            "SYNCD_SOURCE": self.source,
            "SYNCD_TITLE": self.title,
            "SYNCD_CANONICAL_URL": self.canonical_url or "",
            "SYNCD_MEDIUM_URL": self.medium_url or "",
            "SYNCD_MESSAGE": self.message,
        }


class EventHook:
    """Runs ``[notify] command`` per event; without a command, events are only logged."""

    def __init__(self, command: str | None, timeout_s: float, environ: Mapping[str, str],
                 withheld: tuple[str, ...] = ()) -> None:
        self.command = command
        self.timeout_s = timeout_s
        hidden = set(ALWAYS_WITHHELD) | set(withheld)
        self.base_environment = {k: v for k, v in environ.items() if k not in hidden}

    @classmethod
    def from_config(cls, config: Config, environ: Mapping[str, str]) -> EventHook:
        withheld = [config.medium.token_env or ""]
        if config.login is not None and config.login.client_secret_env:
            withheld.append(config.login.client_secret_env)
        return cls(config.notify.command, config.notify.timeout_s, environ,
                   tuple(name for name in withheld if name))

    def emit(self, event: Event) -> None:
        log.debug("event %s: %s", event.name, event.source)
        if not self.command:
            return
        environment = {**self.base_environment, **event.variables()}
        try:
            child = subprocess.Popen(
                ["/bin/sh", "-c", self.command], env=environment, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
            )
        except OSError as exc:
            log.warning("notify command for %s (%s) could not start: %s", event.name,
                        event.source, exc.strerror or exc)
            return
        try:
            _, said = child.communicate(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            # The whole process group: a shell's children would otherwise hold the pipe open.
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            log.warning("notify command for %s (%s) still running after %g s: stopped; "
                        "[notify] timeout_s sets the limit", event.name, event.source,
                        self.timeout_s)
            return
        if child.returncode != 0:
            lines = said.decode("utf-8", "replace").strip().splitlines()
            log.warning("notify command for %s (%s) exited with status %d%s", event.name,
                        event.source, child.returncode, f": {lines[-1]}" if lines else "")


def silent() -> EventHook:
    """A hook that runs nothing (dry runs, library callers)."""
    return EventHook(None, 0, os.environ)
