"""Errors that end a command, each carrying the exit status the contract gives it.

Anything raised as a :class:`SyncdError` is shown to the user as one message without a
traceback; the CLI owns the wording of nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_POST_FAILURES = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_LEDGER = 4


class SyncdError(Exception):
    """A failure the user can act on; ``exit_status`` follows the contract."""

    exit_status = EXIT_USAGE


class ConfigError(SyncdError):
    """The configuration file is missing, unreadable or holds a bad value."""

    exit_status = EXIT_USAGE

    def __init__(self, file: str, key: str | None, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {problem}")


class LedgerError(SyncdError):
    """The ledger cannot be used: unreadable, corrupt, or of an unknown schema."""

    exit_status = EXIT_LEDGER


class LostLedger(LedgerError):
    """The ledger file is missing, but ``traces`` (what, and the file when it is one) show
    that a ledger was kept there: a new one would count every post as new and post it again."""

    def __init__(self, ledger: Path, traces: Sequence[tuple[str, Path | None]],
                 backup: Path | None) -> None:
        self.ledger = ledger
        self.traces = tuple(traces)
        self.backup = backup
        named = [f"{what} {path}" if path is not None else what for what, path in traces]
        found = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
        files = " ".join(str(path) for _, path in traces if path is not None)
        restore = (f"Restore its last good copy (cp {backup} {ledger}) or your own backup"
                   if backup is not None else f"Restore {ledger} from your own backup")
        super().__init__(
            f"the ledger {ledger} is missing, but {found} {'is' if len(named) == 1 else 'are'} "
            "there: syncd will not start a new ledger over a lost one (every post would count "
            f"as new, and Medium cannot say which it has). {restore}. Only if you really mean "
            f"to start afresh, delete {'it' if len(named) == 1 else 'them'} too (rm {files}); "
            "the first-run guard then asks before posting old posts"
        )


class AuthError(SyncdError):
    """Medium refused the token."""

    exit_status = EXIT_AUTH


class MediumUnreachable(SyncdError):
    """Medium could not be reached, so nothing due was posted this time."""

    exit_status = EXIT_POST_FAILURES


class FirstRunRefused(SyncdError):
    """The first-run guard: too many posts at once on an empty ledger; the user decides."""

    exit_status = EXIT_USAGE
