"""The ledger: a TinyDB file recording every post syncd has handled, keyed by canonical URL.

A *ledger entry* remembers the post's source, its state and, once created, the Medium id
and URL. States:

- ``posting``: written *before* a create request is sent (a write-ahead intent). An entry
  still ``posting`` when a pass starts means syncd stopped mid-request: the post is
  **in doubt** and is never re-posted automatically.
- ``in-doubt``: the create was sent but its outcome is unknown (timeout, dropped
  connection, server error).
- ``posted``: Medium answered with the created post.
- ``failed``: Medium refused the post (proven not created); a later pass tries again.

Storage is atomic (temp file, fsync, rename, fsync of the folder) so a crash never leaves a
cut file, and the file carries a schema version. A ledger that does not parse is refused,
never overwritten. A lock file beside the ledger keeps two syncd processes apart.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB
from tinydb.storages import Storage

from syncd.atomic import replace_file
from syncd.errors import LedgerError

SCHEMA_VERSION = 1
POSTS_TABLE = "posts"
META_TABLE = "meta"

POSTING = "posting"
IN_DOUBT = "in-doubt"
POSTED = "posted"
FAILED = "failed"
ADOPTED = "adopted"
STATES = (POSTING, IN_DOUBT, POSTED, FAILED, ADOPTED)


@dataclass(frozen=True)
class Entry:
    """One ledger document: what syncd knows about one canonical URL."""

    canonical_url: str
    source: str
    state: str
    title: str = ""
    medium_id: str | None = None
    medium_url: str | None = None
    publish_status: str | None = None
    posted_at: str | None = None
    attempted_at: str | None = None
    error: str | None = None
    fingerprint: str | None = None
    previous_urls: tuple[str, ...] = ()

    @property
    def is_in_doubt(self) -> bool:
        return self.state in (POSTING, IN_DOUBT)

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Entry:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in document.items() if k in known}
        if "previous_urls" in values:
            values["previous_urls"] = tuple(values["previous_urls"])
        return cls(**values)


class AtomicJSONStorage(Storage):
    """TinyDB storage that replaces the file atomically instead of truncating it in place."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._backed_up = False

    def read(self) -> dict[str, Any] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise LedgerError(f"ledger {self.path} cannot be read: {exc}") from None
        if not text.strip():
            raise _corrupt(self.path, "the file is empty")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _corrupt(self.path, f"it is not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise _corrupt(self.path, "it is not a JSON object")
        return data

    def write(self, data: dict[str, Any]) -> None:
        encoded = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)
        try:
            if not self._backed_up:
                self._keep_last_good_copy()
            replace_file(self.path, encoded.encode("utf-8"))
        except OSError as exc:
            raise LedgerError(
                f"cannot write the ledger {self.path}: {exc.strerror or exc}. Nothing more is "
                "posted until it can be written (free disk space, or fix the folder's "
                "permissions)"
            ) from None

    def _keep_last_good_copy(self) -> None:
        """Once per process, before the first change: the ledger as it was, beside it."""
        if self.path.exists():
            replace_file(self.backup_path, self.path.read_bytes())
        self._backed_up = True

    @property
    def backup_path(self) -> Path:
        return backup_path(self.path)

    def close(self) -> None:
        pass


def backup_path(ledger: Path) -> Path:
    return ledger.with_name(ledger.name + ".bak")


def _corrupt(path: Path, why: str) -> LedgerError:
    return LedgerError(
        f"ledger {path} cannot be used: {why}. syncd will not overwrite it. Restore the last "
        f"good copy (cp {backup_path(path)} {path}) or your own backup; or move it away "
        "to start a new ledger (every post would then count as new)."
    )


class Ledger:
    """The ledger file, opened once per command; every write is durable when it returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = TinyDB(str(path), storage=AtomicJSONStorage)
        self._posts = self._db.table(POSTS_TABLE, cache_size=0)
        self._check_schema()

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def _check_schema(self) -> None:
        if not self.path.exists():
            if backup_path(self.path).exists():
                raise LedgerError(
                    f"the ledger {self.path} is missing, but its last good copy "
                    f"{backup_path(self.path)} is there: syncd will not start a new ledger "
                    f"over a lost one. Restore it (cp {backup_path(self.path)} {self.path}), "
                    "or delete the copy too if you really mean to start afresh"
                )
            return
        meta = self._db.table(META_TABLE, cache_size=0).all()
        version = meta[0].get("schema") if meta else None
        if version != SCHEMA_VERSION:
            raise _corrupt(
                self.path,
                f"its schema version is {version!r}, and this syncd reads version "
                f"{SCHEMA_VERSION}",
            )

    def _ensure_meta(self) -> None:
        if not self.path.exists():
            self._db.table(META_TABLE).insert({"schema": SCHEMA_VERSION})

    def entries(self) -> dict[str, Entry]:
        """Every entry by canonical URL, from one read of the file."""
        return {doc["canonical_url"]: Entry.from_document(doc) for doc in self._posts.all()}

    def put(self, entry: Entry) -> None:
        """Insert or replace the entry for ``entry.canonical_url`` in one durable write."""
        self.put_many([entry])

    def put_many(self, entries: Iterable[Entry]) -> None:
        """Record many entries with at most two writes (new ones, then replaced ones).

        Each write is atomic on its own, so a crash between them loses no entry.
        """
        self._ensure_meta()
        batch = {e.canonical_url: _document(e) for e in entries}
        if not batch:
            return
        known = {doc["canonical_url"] for doc in self._posts.all()}
        new = [doc for url, doc in batch.items() if url not in known]
        if new:
            self._posts.insert_multiple(new)
        replaced = [
            (_replace_with(doc), Query().canonical_url == url)
            for url, doc in batch.items()
            if url in known
        ]
        if replaced:
            self._posts.update_multiple(replaced)

    def sweep_temp_files(self) -> int:
        """Remove temp files a killed writer left beside the ledger; call under the lock."""
        removed = 0
        for stray in self.path.parent.glob(f".{self.path.name}.*"):
            stray.unlink(missing_ok=True)
            removed += 1
        return removed

    def rekey(self, moves: Iterable[tuple[str, Entry]]) -> None:
        """Record posts under new canonical URLs, in one write: (old URL, new entry) pairs."""
        updates = [
            (_replace_with(_document(entry)), Query().canonical_url == old_url)
            for old_url, entry in moves
        ]
        if updates:
            self._posts.update_multiple(updates)

    def remove(self, canonical_url: str) -> None:
        self._posts.remove(Query().canonical_url == canonical_url)

    def close(self) -> None:
        self._db.close()


def _document(entry: Entry) -> dict[str, Any]:
    return {k: v for k, v in asdict(entry).items() if v is not None and v != ()}


def _replace_with(document: dict[str, Any]) -> Any:
    def replace(existing: dict[str, Any]) -> None:
        existing.clear()
        existing.update(document)

    return replace


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _open_lock_file(lock_path: Path) -> int:
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise LedgerError(f"cannot create the lock file {lock_path}: {exc.strerror}") from None


@contextmanager
def ledger_lock(ledger_path: Path) -> Iterator[None]:
    """Hold ``<ledger>.lock`` for the life of a command; a second syncd gets exit 4."""
    lock_path = ledger_path.with_name(ledger_path.name + ".lock")
    fd = _open_lock_file(lock_path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            raise LedgerError(
                f"the ledger {ledger_path} is in use by another syncd "
                f"({holder or 'another process'}); wait for it to finish or stop it"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}\n".encode(), 0)
        except OSError as exc:
            raise LedgerError(
                f"cannot write the lock file {lock_path}: {exc.strerror or exc}"
            ) from None
        yield
    finally:
        os.close(fd)


@contextmanager
def write_lock(ledger_path: Path, timeout_s: float = 60.0) -> Iterator[None]:
    """Serialise changes to the ledger between a running service and admin commands.

    ``ledger_lock`` keeps a second service or ``--once`` out for good; this one is held only
    around a pass or an ``adopt``/``resolve``, so those work while the service runs.
    """
    fd = _open_lock_file(ledger_path.with_name(ledger_path.name + ".write.lock"))
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LedgerError(
                        f"the ledger {ledger_path} stayed busy for {timeout_s:g} s (a running "
                        "syncd is in the middle of a pass); try again in a moment"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)
