"""Errors that end a command, each carrying the exit status the contract gives it.

Anything raised as a :class:`SyncdError` is shown to the user as one message without a
traceback; the CLI owns the wording of nothing else.
"""

from __future__ import annotations

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


class AuthError(SyncdError):
    """Medium refused the token."""

    exit_status = EXIT_AUTH


class MediumUnreachable(SyncdError):
    """Medium could not be reached, so nothing due was posted this time."""

    exit_status = EXIT_POST_FAILURES


class FirstRunRefused(SyncdError):
    """The first-run guard: too many posts at once on an empty ledger; the user decides."""

    exit_status = EXIT_USAGE
