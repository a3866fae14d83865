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
        files = [f"{what} {path}" for what, path in traces if path is not None]
        signs = [f"{_joined(files)} {'is' if len(files) == 1 else 'are'} there"] if files else []
        signs += [what for what, path in traces if path is None]
        restore = (f"Restore its last good copy (cp {backup} {ledger}; it is the ledger as it "
                   "was before the last run that changed it, so posts of that run show in "
                   "`syncd plan` as new: adopt them with `syncd adopt SOURCE --medium-url "
                   "URL`) or your own backup"
                   if backup is not None else f"Restore {ledger} from your own backup")
        afresh = ""
        if files:
            paths = " ".join(str(path) for _, path in traces if path is not None)
            afresh = (f" Only if you really mean to start afresh, delete "
                      f"{'it' if len(files) == 1 else 'them'} too (rm {paths}); a new ledger "
                      "then starts as on a first run, and the first-run guard holds back an "
                      "old blog's posts")
        super().__init__(
            f"the ledger {ledger} is missing, but {'; '.join(signs)}: syncd will not start a "
            "new ledger over a lost one (every post would count as new, and Medium cannot say "
            f"which it has). {restore}.{afresh}"
        )


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class AuthError(SyncdError):
    """Medium refused the token."""

    exit_status = EXIT_AUTH


class MediumUnreachable(SyncdError):
    """Medium could not be reached, so nothing due was posted this time."""

    exit_status = EXIT_POST_FAILURES


class FirstRunRefused(SyncdError):
    """The first-run guard: too many posts at once on an empty ledger; the user decides."""

    exit_status = EXIT_USAGE
