"""Events out: run the user's ``[notify] command`` for what a pass did.

Each event (``posted``, ``in-doubt``, ``failed``, ``changed``, ``deferred``) runs the command
once through ``/bin/sh -c``, with its details in ``SYNCD_*`` environment variables, so a
one-line ``notify-send``, ``mail`` or ``curl`` is all a user writes. The command gets
syncd's environment minus every variable that may hold a secret (the token's, the OAuth
client secret's, systemd's credentials folder); it runs with a timeout that holds whatever
the children it leaves behind do, only the end of its output is kept, and its failure is
logged, never fatal: a notification must never stop a post or lose a ledger write.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import signal
import subprocess
import time
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
        assert child.stderr is not None
        said, finished = _watch(child, child.stderr.fileno(), self.timeout_s)
        child.stderr.close()
        if not finished:
            # The whole process group: the shell's children are stopped with it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            log.warning("notify command for %s (%s) still running after %g s: stopped; "
                        "[notify] timeout_s sets the limit", event.name, event.source,
                        self.timeout_s)
            return
        if child.returncode != 0:
            text = _CONTROL.sub("", said.tail.decode("utf-8", "replace"))
            lines = text.strip().splitlines()
            cut = f" (the last of {said.total} bytes)" if said.total > len(said.tail) else ""
            log.warning("notify command for %s (%s) exited with status %d%s", event.name,
                        event.source, child.returncode,
                        f": {lines[-1][-OUTPUT_LINE_LIMIT:]}{cut}" if lines else "")


# What is kept of a command's stderr (its end: the last line is logged), however much it says.
OUTPUT_KEPT = 4096
OUTPUT_LINE_LIMIT = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# How long stderr may stay open after the command exited (a child it left behind holds it).
OUTPUT_GRACE_S = 0.5
_POLL_S = 0.1


@dataclass
class _Said:
    """The end of what a command wrote to stderr, and how much it wrote in all."""

    tail: bytes = b""
    total: int = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.tail = (self.tail + chunk)[-OUTPUT_KEPT:]


def _watch(child: subprocess.Popen[bytes], fd: int, timeout_s: float) -> tuple[_Said, bool]:
    """Read the command's stderr until it exits; whether it exited within ``timeout_s``.

    Output is drained and only its end kept, so a command that writes gigabytes costs no
    memory. The wait ends with the command itself, not with its stderr: a child left
    running in the background (``cmd &``, a browser started by xdg-open) may hold the pipe
    for ever, so it is read for at most OUTPUT_GRACE_S more, then let go.
    """
    said = _Said()
    deadline = time.monotonic() + timeout_s
    let_go_at: float | None = None
    open_ = True
    while True:
        now = time.monotonic()
        if child.poll() is not None:
            if not open_:
                return said, True
            let_go_at = let_go_at or min(now + OUTPUT_GRACE_S, max(deadline, now))
            if now >= let_go_at:
                return said, True
        elif now >= deadline:
            return said, False
        if not open_:
            # Only waiting for the command now (its stderr is closed).
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=max(0.0, deadline - now))
            continue
        wait = min(_POLL_S, max(0.0, (let_go_at or deadline) - now))
        ready, _, _ = select.select([fd], [], [], wait)
        if ready:
            chunk = os.read(fd, 1 << 16)
            if chunk:
                said.add(chunk)
            else:
                open_ = False


def silent() -> EventHook:
    """A hook that runs nothing (dry runs, library callers)."""
    return EventHook(None, 0, os.environ)
