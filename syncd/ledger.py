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
- ``adopted``: recorded as handled without being sent (an existing blog's old posts).

For edits after syndication (:mod:`syncd.edits`) a posted entry also keeps what was sent
(``sent``: title, tags and HTML, compressed when large), the fingerprint of what a reader
sees in it (``content_fingerprint``) and a cheap hash of the source it came from
(``source_hash``); ``seen_change`` is the source hash of an edit already reported, so each
edit is announced once.

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
from dataclasses import dataclass, fields
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
    source_hash: str | None = None
    content_fingerprint: str | None = None
    sent: Mapping[str, Any] | None = None
    seen_change: str | None = None
    acked_at: str | None = None

    @property
    def is_in_doubt(self) -> bool:
        return self.state in (POSTING, IN_DOUBT)

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Entry:
        values = {k: v for k, v in document.items() if k in _FIELD_SET}
        if "previous_urls" in values:
            values["previous_urls"] = tuple(values["previous_urls"])
        return cls(**values)


class AtomicJSONStorage(Storage):
    """TinyDB storage that replaces the file atomically instead of truncating it in place."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._backed_up = False

    def read(self) -> dict[str, Any] | None:
        key = _stat_key(self.path)
        known = _PARSED.get(self.path)
        if key is not None and known is not None and known[0] == key:
            # The file is as this process last read or wrote it. A shallow copy: TinyDB
            # replaces whole tables in what it is given, never a document in place.
            return dict(known[1])
        data = self._parse()
        if key is not None and data is not None:
            _PARSED[self.path] = (key, data)
            return dict(data)
        return data

    def _parse(self) -> dict[str, Any] | None:
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
        encoded = _encode(data)
        _PARSED.pop(self.path, None)
        try:
            if not self._backed_up:
                self._keep_last_good_copy()
            replace_file(self.path, encoded.encode("utf-8"))
        except OSError as exc:
            _ENTRIES.pop(self.path, None)
            raise LedgerError(
                f"cannot write the ledger {self.path}: {exc.strerror or exc}. Nothing more is "
                "posted until it can be written (free disk space, or fix the folder's "
                "permissions)"
            ) from None
        key = _stat_key(self.path)
        if key is not None:
            _PARSED[self.path] = (key, data)

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


# What this process last read or wrote of each ledger file, under the file's stat key: a
# service pass, or a put after a read, does not parse 3 MB of JSON again. Every write
# replaces the file by a rename, so a write by another process changes the key.
_PARSED: dict[Path, tuple[tuple[int, int, int, int], dict[str, Any]]] = {}
_ENTRIES: dict[Path, tuple[tuple[int, int, int, int], dict[str, Entry]]] = {}
_DOCUMENT = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
_LINES: dict[tuple[str, str, int], tuple[Any, str]] = {}


def _encode(data: dict[str, Any]) -> str:
    """The whole ledger as JSON, one record per line, in the tables' order (ascending ids,
    as TinyDB keeps them): C-encoder speed, readable diffs.

    A record is encoded once for as long as it is unchanged: documents are never edited in
    place (a change replaces the whole document), so the same object under the same id
    means the same line; the cache holds the object, so its id() cannot be reused.
    """
    known = _LINES.copy()
    _LINES.clear()
    encode = _DOCUMENT.encode
    tables = []
    for name in sorted(data):
        rows = []
        for doc_id, doc in data[name].items():
            key = (name, str(doc_id), id(doc))
            cached = known.get(key)
            row = cached[1] if cached is not None and cached[0] is doc else \
                f"{encode(str(doc_id))}: {encode(doc)}"
            _LINES[key] = (doc, row)
            rows.append(row)
        body = "{\n" + ",\n".join(rows) + "\n}" if rows else "{}"
        tables.append(f"{encode(name)}: {body}")
    return "{\n" + ",\n".join(tables) + "\n}\n"


def _stat_key(path: Path) -> tuple[int, int, int, int] | None:
    """Changes whenever the file is rewritten (every write replaces it by a rename)."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


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
        data = self._db.storage.read() or {}
        meta = data.get(META_TABLE)
        if not isinstance(meta, dict) or not isinstance(data.get(POSTS_TABLE, {}), dict):
            raise _corrupt(self.path, "its tables are not JSON objects")
        first = next(iter(meta.values()), None)
        version = first.get("schema") if isinstance(first, dict) else None
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
        """Every entry by canonical URL, from one read of the file (or none, when it is as
        this process last saw it)."""
        key = _stat_key(self.path)
        known = _ENTRIES.get(self.path)
        if key is not None and known is not None and known[0] == key:
            return dict(known[1])
        # The storage serves what _check_schema just parsed while the file is unchanged.
        documents = (self._db.storage.read() or {}).get(POSTS_TABLE, {}).values()
        entries = {doc["canonical_url"]: Entry.from_document(doc) for doc in documents}
        if key is not None:
            _ENTRIES[self.path] = (key, entries)
        return dict(entries)

    def put(self, entry: Entry) -> None:
        """Insert or replace the entry for ``entry.canonical_url`` in one durable write."""
        self.put_many([entry])

    def put_many(self, entries: Iterable[Entry]) -> None:
        """Insert or replace many entries in one read and one atomic write."""
        given = {e.canonical_url: e for e in entries}
        batch = {url: _document(e) for url, e in given.items()}
        if not batch:
            return
        self._ensure_meta()
        before = _stat_key(self.path)
        known = _ENTRIES.get(self.path)

        def merge(table: dict[int, Any]) -> None:
            pending = dict(batch)
            for doc_id, doc in table.items():
                replacement = pending.pop(doc.get("canonical_url"), None)
                if replacement is not None:
                    table[doc_id] = replacement
            next_id = max(table, default=0) + 1
            for offset, doc in enumerate(pending.values()):
                table[next_id + offset] = doc

        self._update(merge)
        after = _stat_key(self.path)
        if known is not None and before is not None and known[0] == before and after:
            # Under the write lock nobody else wrote in between: the known entries plus
            # these are the file's entries now.
            _ENTRIES[self.path] = (after, {**known[1], **given})

    def _update(self, change: Any) -> None:
        """One read-modify-write of the posts table (TinyDB's own primitive for it)."""
        _ENTRIES.pop(self.path, None)
        self._posts._update_table(change)
        self._posts._next_id = None

    def sweep_temp_files(self) -> int:
        """Remove temp files a killed writer left beside the ledger; call under the lock."""
        removed = 0
        for stray in self.path.parent.glob(f".{self.path.name}.*"):
            stray.unlink(missing_ok=True)
            removed += 1
        return removed

    def rekey(self, moves: Iterable[tuple[str, Entry]]) -> None:
        """Record posts under new canonical URLs, in one write: (old URL, new entry) pairs."""
        replacements = {old_url: _document(entry) for old_url, entry in moves}
        if not replacements:
            return

        def move(table: dict[int, Any]) -> None:
            for doc_id, doc in table.items():
                replacement = replacements.get(doc.get("canonical_url"))
                if replacement is not None:
                    table[doc_id] = replacement

        self._update(move)

    def remove(self, canonical_url: str) -> None:
        self._posts.remove(Query().canonical_url == canonical_url)

    def close(self) -> None:
        self._db.close()


_FIELD_NAMES = tuple(f.name for f in fields(Entry))
_FIELD_SET = frozenset(_FIELD_NAMES)


def _document(entry: Entry) -> dict[str, Any]:
    """The stored form: fields that are set (built directly: ``asdict`` deep-copies)."""
    document: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        value = getattr(entry, name)
        if value is None or value == ():
            continue
        document[name] = list(value) if isinstance(value, tuple) else value
    return document


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
