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

Files. The ledger file (``ledger.json``) is a TinyDB database: TinyDB's JSON layout (a
``meta`` table with the schema version, a ``posts`` table of documents by id), one document
per line, and syncd reads it through TinyDB's tables. syncd writes it itself rather than
through TinyDB's ``Storage.write``, which takes the whole database as one parsed dict: a
rewrite is made from the ``Entry`` objects this process holds (a field this syncd does not
know is not kept), streamed a few hundred lines at a time, and replaces the file atomically
(temp file, fsync, rename, fsync of the folder), so a crash never leaves a cut file. Only the
``Entry`` objects stay in memory, under the stat keys of the file and its journal (see
``_ENTRIES``): parsing and re-encoding the whole 4 MB file at each rewrite kept 40 MB more
resident in the service (``BENCHMARKS.md``, figure 6b).
A pass does not rewrite the file for each post: it *records* the intent and then the outcome as
lines appended to the *journal* beside it (``ledger.json.journal``), each line one JSON
object, ``{"put": <entry>}`` or ``{"remove": <canonical URL>}``, written with one ``write``
and fsynced before the call returns. The ledger is the file with its journal replayed over
it, line by line. ``compact`` folds the journal into the file (one atomic rewrite) and then
removes it; a pass compacts when it ends, so between passes the file alone is the whole
ledger. Replaying a journal again changes nothing, so a crash between the rename and the
removal is harmless. A last line without its newline is an append a crash cut short: it had
not returned, so nothing was sent for it; it is ignored, and the next writer, which folds in
any journal it did not write before appending, drops it. Any other line that does not read
makes the ledger corrupt.

A ledger that does not parse is refused, never overwritten. Before a ``Ledger`` first
rewrites the file it keeps the ledger as it was beside it (``ledger.json.bak``, the last
good copy). A lock file beside the ledger keeps two syncd processes apart.

A missing ledger is a first run only when nothing shows that a ledger was kept there: its
last good copy, its journal, the parse cache or the image upload cache (written only while a
ledger exists), or its write lock file, which notes the ledger once there is one (a careless
``rm ledger.json`` after the first pass leaves those). Otherwise it is lost (:class:`LostLedger`,
exit 4). A target that can list its posts could tell too (:class:`Witness`); Medium cannot.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from tinydb import TinyDB
from tinydb.storages import Storage

from syncd.atomic import fsync_folder, replace_file
from syncd.errors import LedgerError, LostLedger
from syncd.memory import batch

log = logging.getLogger("syncd")

SCHEMA_VERSION = 1
POSTS_TABLE = "posts"
META_TABLE = "meta"

POSTING = "posting"
IN_DOUBT = "in-doubt"
POSTED = "posted"
FAILED = "failed"
ADOPTED = "adopted"
STATES = (POSTING, IN_DOUBT, POSTED, FAILED, ADOPTED)

# The journal's two kinds of line.
PUT = "put"
REMOVE = "remove"


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
    # Canonical URLs of later posts with this title that the user said are other posts
    # (``syncd resolve --not-posted``): never taken for this one moved.
    distinct_urls: tuple[str, ...] = ()

    @property
    def is_in_doubt(self) -> bool:
        return self.state in (POSTING, IN_DOUBT)

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Entry:
        """The entry a stored document holds; ``InvalidEntry`` when a field has a value this
        syncd never writes (a hand edit, another program), so nothing downstream meets it."""
        if not isinstance(document, Mapping):
            raise InvalidEntry("", f"it is {type(document).__name__}, not an object")
        values = {k: v for k, v in document.items() if k in _FIELD_SET}
        for name in _REQUIRED_FIELDS:
            if name not in values:
                raise InvalidEntry(name, "it is missing")
        for name, value in values.items():
            kind = _FIELD_TYPES[name]
            if not isinstance(value, kind):
                raise InvalidEntry(name, f"{value!r:.80} is not {_TYPE_WORDS[kind]}")
        if values["state"] not in STATES:
            raise InvalidEntry("state", f"{values['state']!r:.80} is not one of "
                                        f"{', '.join(STATES)}")
        for name in _TIME_FIELDS:
            if values.get(name) is not None and not _is_aware_time(values[name]):
                raise InvalidEntry(name, f"{values[name]!r:.80} is not an ISO 8601 time "
                                         "with its UTC offset")
        for name in ("previous_urls", "distinct_urls"):
            if name in values:
                if not all(isinstance(url, str) for url in values[name]):
                    raise InvalidEntry(name, "it holds something other than URLs")
                values[name] = tuple(values[name])
        return cls(**values)


class InvalidEntry(ValueError):
    """A stored document that is not an entry this syncd wrote: ``field`` and ``why``."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}" if field else why)
        self.field = field
        self.why = why


def _is_aware_time(text: str) -> bool:
    try:
        return dt.datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


StatKey = tuple[int, int, int, int]
# The ledger file's stat key and its journal's (None: no such file): one state of the ledger.
FilesKey = tuple[StatKey | None, StatKey | None]
# One journal line: (PUT, stored document) or (REMOVE, canonical URL).
Change = tuple[str, Any]

# Tries before a reader gives up on a ledger replaced under it every time it reads.
READ_ATTEMPTS = 100


def journal_path(ledger: Path) -> Path:
    """``<ledger>.journal``: not ``.<ledger>.*``, the temp files ``sweep_temp_files`` removes."""
    return ledger.with_name(ledger.name + ".journal")


def backup_path(ledger: Path) -> Path:
    return ledger.with_name(ledger.name + ".bak")


def parse_cache_path(ledger: Path) -> Path:
    """The parse cache's store (:mod:`syncd.sites.parsecache`), named after its ledger."""
    return ledger.with_name(f"parse-cache.{ledger.name}")


def image_cache_path(ledger: Path) -> Path:
    """The image upload cache (:mod:`syncd.images`), in the ledger's folder."""
    return ledger.parent / "medium-images.json"


def write_lock_path(ledger: Path) -> Path:
    return ledger.with_name(ledger.name + ".write.lock")


class Trace(NamedTuple):
    """A sign that a ledger was kept at a path: what it is, and its file when it is one."""

    what: str
    path: Path | None


class Witness(Protocol):
    """Something other than the ledger's folder that can tell a ledger existed, such as a
    target that lists the posts it holds (Medium cannot): its traces, none when it knows
    of no post."""

    def traces(self, ledger: Path) -> list[Trace]: ...


def ledger_traces(ledger: Path, witnesses: Sequence[Witness] = ()) -> list[Trace]:
    """What shows that a ledger was kept at ``ledger``: files syncd writes beside it only
    once it exists (the lock files also exist after a first run the guard stopped; only
    the write lock's note counts), then what the witnesses say."""
    found = [Trace(what, path) for what, path in (
        ("its last good copy", backup_path(ledger)),
        ("its journal", journal_path(ledger)),
        ("its parse cache", parse_cache_path(ledger)),
        ("the image upload cache", image_cache_path(ledger)),
    ) if path.exists()]
    lock = write_lock_path(ledger)
    with suppress(OSError):
        if lock.stat().st_size > 0:
            found.append(Trace("its lock file", lock))
    for witness in witnesses:
        found.extend(witness.traces(ledger))
    return found


def _lost(ledger: Path, traces: list[Trace]) -> LostLedger:
    backup = backup_path(ledger)
    return LostLedger(ledger, traces, backup if backup.exists() else None)


@dataclass(frozen=True)
class _Files:
    """The ledger file and its journal, read as one state of the ledger."""

    key: FilesKey
    data: dict[str, Any] | None  # the file's document; None when there is no file yet
    changes: list[Change]  # the journal's whole lines, in order
    torn: bool  # the journal ends with a line cut short


@batch
def _read_files(path: Path) -> _Files:
    """The ledger file, then its journal; again if the file was replaced in between.

    A compaction renames the new file into place before it removes the journal, so a reader
    that got the old file and then no journal would see the ledger rolled back; the file's
    stat key tells. A rewrite is a rename too, so the check also covers a reader that holds
    no lock while another syncd writes.
    """
    journal = journal_path(path)
    for _ in range(READ_ATTEMPTS):
        file_key, data = _read_file(path)
        journal_key, changes, torn = _read_journal(journal, path)
        if _stat_key(path) != file_key:
            continue
        if data is None and journal_key is not None:
            raise _lost(path, ledger_traces(path))
        return _Files((file_key, journal_key), data, changes, torn)
    raise LedgerError(f"the ledger {path} was replaced during each of {READ_ATTEMPTS} reads; "
                      "try again")


def _read_file(path: Path) -> tuple[StatKey | None, dict[str, Any] | None]:
    """The ledger file's document and the stat key of the file it was read from."""
    try:
        with path.open("rb") as handle:
            key = _key_of(os.fstat(handle.fileno()))
            text = handle.read().decode("utf-8")  # the bytes go at once: 4 MB less at the peak
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        raise LedgerError(f"ledger {path} cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise LedgerError(f"ledger {path} cannot be read: {exc}") from None
    if not text.strip():
        raise _corrupt(path, "the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _corrupt(path, f"it is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise _corrupt(path, "it is not a JSON object")
    return key, data


def _read_journal(journal: Path, ledger: Path) -> tuple[StatKey | None, list[Change], bool]:
    """The journal's changes, whether its last line is cut short, and the stat key of exactly
    the bytes read (an append may be under way: a later read sees a new key)."""
    try:
        with journal.open("rb") as handle:
            status = os.fstat(handle.fileno())
            raw = handle.read(status.st_size)
    except FileNotFoundError:
        return None, [], False
    except OSError as exc:
        raise LedgerError(f"the journal {journal} of the ledger {ledger} cannot be read: "
                          f"{exc.strerror or exc}") from None
    *lines, tail = raw.split(b"\n")
    changes = []
    for number, line in enumerate(lines, 1):
        changes.append(_journal_change(line, number, ledger))
    if tail:
        log.debug("%s: its last line is cut short (an append under way, or stopped by a "
                  "crash before it returned): ignored", journal)
    return _key_of(status), changes, bool(tail)


def _journal_change(line: bytes, number: int, ledger: Path) -> Change:
    try:
        value = json.loads(line)
    except ValueError as exc:  # not JSON, or not UTF-8
        raise _corrupt_journal(ledger, number, f"it is not valid JSON ({exc})") from None
    if isinstance(value, dict) and len(value) == 1:
        document = value.get(PUT)
        if isinstance(document, dict) and isinstance(document.get("canonical_url"), str):
            return PUT, document
        url = value.get(REMOVE)
        if isinstance(url, str):
            return REMOVE, url
    raise _corrupt_journal(ledger, number, 'it is neither {"put": ENTRY} nor {"remove": URL}')


class _Parsed(Storage):
    """TinyDB over a ledger file syncd has read already, with the stat key of exactly
    those bytes (see ``_read_files``); syncd writes the file itself (``_encoded``)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def read(self) -> dict[str, Any]:
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        raise LedgerError("the ledger's TinyDB view is read-only: syncd writes the file itself")


@batch
def _entries_of(files: _Files, path: Path) -> dict[str, Entry]:
    """Every entry by canonical URL, in the file's order (TinyDB's documents, by id), then
    the journal's additions."""
    entries: dict[str, Entry] = {}
    where = "its posts table"
    try:
        if files.data is not None:
            with TinyDB(files.data, storage=_Parsed) as database:
                for document in database.table(POSTS_TABLE, cache_size=0):
                    where = f"post document {document.doc_id}"
                    entries[document["canonical_url"]] = Entry.from_document(document)
        for number, (kind, value) in enumerate(files.changes, 1):
            if kind == PUT:
                where = f"line {number} of its journal"
                entries[value["canonical_url"]] = Entry.from_document(value)
            else:
                entries.pop(value, None)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise _corrupt(path, f"{where} cannot be read ({exc})") from None
    return entries


def _check_document(path: Path, data: dict[str, Any]) -> None:
    meta = data.get(META_TABLE)
    if not isinstance(meta, dict) or not isinstance(data.get(POSTS_TABLE, {}), dict):
        raise _corrupt(path, "its tables are not JSON objects")
    first = next(iter(meta.values()), None)
    version = first.get("schema") if isinstance(first, dict) else None
    if version != SCHEMA_VERSION:
        raise _corrupt(
            path,
            f"its schema version is {version!r}, and this syncd reads version "
            f"{SCHEMA_VERSION}",
        )


# The entries of each ledger as this process last read or changed it, under the stat keys of
# the file and its journal: a service pass, or a command's second look, does not parse 4 MB
# of JSON again, and a rewrite or a compaction writes them without reading the file. Only
# the Entry objects are kept, not the parsed documents. The file is only ever replaced by a
# rename and the journal only appended to, so a change by another process changes a key.
_ENTRIES: dict[Path, tuple[FilesKey, dict[str, Entry]]] = {}
_DOCUMENT = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def _document_encoder() -> Callable[[Any], str]:
    """``_DOCUMENT.encode`` for the many documents of a rewrite: one C encoder made once,
    without the cycle check (documents hold no cycles), where ``encode`` makes one per call;
    the same text in about 2/3 of the time (19 against 28 ms for 10k documents)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _DOCUMENT.encode
    chunks = make(None, _DOCUMENT.default, json.encoder.encode_basestring, None,
                  _DOCUMENT.key_separator, _DOCUMENT.item_separator, True, False, True)
    return lambda document: "".join(chunks(document, 0))


_encode_document = _document_encoder()


def _encoded(entries: Mapping[str, Entry]) -> Iterator[bytes]:
    """The ledger file for these entries, in pieces: TinyDB's layout (tables by name,
    documents by id), one document per line for readable diffs, ids in the entries' order.

    Made from the ``Entry`` objects, never from a parse of the old file, and a few hundred
    lines at a time: a rewrite (after each of the service's passes, the compaction) then
    allocates little, where parsing and encoding the whole 4 MB file churned through
    40 MB that the allocator kept as resident memory."""
    encode = _encode_document
    yield (f'{{\n"{META_TABLE}": {{\n"1": {encode({"schema": SCHEMA_VERSION})}\n}},\n'
           f'"{POSTS_TABLE}": {{').encode()
    rows: list[str] = []
    separator = "\n"
    for number, entry in enumerate(entries.values(), 1):
        rows.append(f'"{number}": {encode(_document(entry))}')
        if len(rows) == _ROWS_PER_PIECE:
            yield (separator + ",\n".join(rows)).encode("utf-8")
            rows.clear()
            separator = ",\n"
    if rows:
        yield (separator + ",\n".join(rows)).encode("utf-8")
    yield b"\n}\n}\n" if entries else b"}\n}\n"


_ROWS_PER_PIECE = 500


def _file_pieces(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while piece := handle.read(1 << 20):
            yield piece


def _journal_lines(changes: list[Change]) -> bytes:
    """One line per change; JSON escapes every newline inside a value."""
    encode = _DOCUMENT.encode
    return "".join(f"{encode({kind: value})}\n" for kind, value in changes).encode("utf-8")


def _key_of(status: os.stat_result) -> StatKey:
    return status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


def _stat_key(path: Path) -> StatKey | None:
    """Changes whenever the file is replaced (by a rename) or appended to."""
    try:
        return _key_of(path.stat())
    except OSError:
        return None


def _files_key(path: Path) -> FilesKey | None:
    """The stat keys of the file and its journal, taken together; None when the file was
    replaced between them (as in ``_read_files``)."""
    journal = journal_path(path)
    for _ in range(READ_ATTEMPTS):
        file_key = _stat_key(path)
        journal_key = _stat_key(journal)
        if _stat_key(path) == file_key:
            return file_key, journal_key
    return None


def _corrupt(path: Path, why: str) -> LedgerError:
    return LedgerError(
        f"ledger {path} cannot be used: {why}. syncd will not overwrite it. Restore the last "
        f"good copy (cp {backup_path(path)} {path}) or your own backup; or move it away "
        "to start a new ledger (every post would then count as new)."
    )


def _corrupt_journal(path: Path, number: int, why: str) -> LedgerError:
    journal = journal_path(path)
    return LedgerError(
        f"ledger {path} cannot be used: line {number} of its journal {journal} is not a "
        f"ledger change: {why}. syncd will not overwrite either file. The lines before it "
        'are whole: fix or remove that line (each is {"put": ENTRY} or {"remove": URL}), or '
        "restore your own backup of both files; without the journal, the posts it records "
        "would count as new."
    )


class Ledger:
    """The ledger, opened once per command; every change is durable when it returns.

    ``record``, ``record_many`` and ``record_removal`` append to the journal (cheap: a pass's
    intent and outcome); ``put``, ``put_many``, ``rekey`` and ``remove`` rewrite the file,
    after folding the journal in; ``compact`` folds it in alone.
    """

    def __init__(self, path: Path, witnesses: Sequence[Witness] = ()) -> None:
        self.path = path
        self.journal_path = journal_path(path)
        self._journal_fd: int | None = None  # the journal this Ledger appends to
        self._journal_size = 0  # its size after this Ledger's last append
        self._backed_up = False  # the last good copy is kept (before the first rewrite)
        self._check_schema(witnesses)

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def _check_schema(self, witnesses: Sequence[Witness]) -> None:
        if not self.path.exists():
            traces = ledger_traces(self.path, witnesses)
            if traces:
                raise _lost(self.path, traces)
            return
        self._current()

    def _current(self) -> dict[str, Entry]:
        """The entries as the files hold them now (not a copy); the files are read, and the
        schema checked, only when they changed since this process last read or wrote them."""
        key = _files_key(self.path)
        known = _ENTRIES.get(self.path)
        if key is not None and known is not None and known[0] == key:
            return known[1]
        files = _read_files(self.path)
        if files.data is not None:
            _check_document(self.path, files.data)
        entries = _entries_of(files, self.path)
        if files.key[0] is not None:
            _ENTRIES[self.path] = (files.key, entries)
        return entries

    def entries(self) -> dict[str, Entry]:
        """Every entry by canonical URL, from one read of the files (or none, when they are
        as this process last saw them)."""
        return dict(self._current())

    # Journal: one appended line per change -------------------------------------------------

    def record(self, entry: Entry) -> None:
        """Insert or replace the entry for ``entry.canonical_url`` with one appended,
        fsynced journal line: durable when it returns."""
        self._append([(PUT, _document(entry))])

    def record_many(self, entries: Iterable[Entry]) -> None:
        """Several entries in one append and one fsync, a line each. A crash during the
        append may keep some of them and not the rest: for changes that stand alone."""
        self._append([(PUT, _document(entry)) for entry in entries])

    def record_removal(self, canonical_url: str) -> None:
        """Forget the entry for ``canonical_url`` with one appended, fsynced journal line."""
        self._append([(REMOVE, canonical_url)])

    def _append(self, changes: list[Change]) -> None:
        if not changes:
            return
        payload = _journal_lines(changes)
        fd = self._journal_for_append()
        before = _files_key(self.path)
        known = _ENTRIES.get(self.path)
        size = self._journal_size
        try:
            written = 0
            while written < len(payload):  # a second write only to learn why a first fell short
                written += os.write(fd, payload[written:])
            os.fsync(fd)
        except OSError as exc:
            self._abandon_journal(size)
            raise LedgerError(
                f"cannot record in the ledger {self.path} (its journal {self.journal_path}): "
                f"{exc.strerror or exc}. Nothing more is posted until it can be written (free "
                "disk space, or fix the folder's permissions)"
            ) from None
        self._journal_size = size + written
        if known is None or before is None or known[0] != before:
            _ENTRIES.pop(self.path, None)
            return
        # Under the write lock nobody else changed the files: what this process knew, with
        # these changes, is the ledger now. (entries() hands out copies: changed in place.)
        entries = known[1]
        for kind, value in changes:
            if kind == PUT:
                entries[value["canonical_url"]] = Entry.from_document(value)
            else:
                entries.pop(value, None)
        _ENTRIES[self.path] = ((before[0], _key_of(os.fstat(fd))), entries)

    def _journal_for_append(self) -> int:
        """This Ledger's journal, open for appending. A journal it did not write (a crashed
        or failed writer's, perhaps ending with a cut-short line that nothing may follow) is
        folded into the file first, and a new one is started."""
        if self._journal_fd is not None:
            if self._journal_is_ours():
                return self._journal_fd
            self._close_journal()
        if self.journal_path.exists():
            self.compact()
        if not self.path.exists():
            self._rewrite({})  # a journal never exists without the file
            _ENTRIES[self.path] = ((_stat_key(self.path), None), {})
        before = _files_key(self.path)
        known = _ENTRIES.get(self.path)
        try:
            fd = os.open(self.journal_path,
                         os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                         0o600)
        except OSError as exc:
            raise LedgerError(
                f"cannot create the journal {self.journal_path} of the ledger {self.path}: "
                f"{exc.strerror or exc}. Nothing more is posted until it can be written (free "
                "disk space, or fix the folder's permissions)"
            ) from None
        fsync_folder(self.path.parent)
        self._journal_fd, self._journal_size = fd, 0
        if known is not None and before is not None and known[0] == before:
            # An empty journal changes no entry: what this process knows still holds.
            _ENTRIES[self.path] = ((before[0], _key_of(os.fstat(fd))), known[1])
        return fd

    def _journal_is_ours(self) -> bool:
        """The file at the journal's path is the one this Ledger appends to, as it left it
        (not folded in and replaced by another Ledger of this process)."""
        assert self._journal_fd is not None
        try:
            on_disk = self.journal_path.stat()
        except FileNotFoundError:
            return False
        mine = os.fstat(self._journal_fd)
        return ((on_disk.st_dev, on_disk.st_ino) == (mine.st_dev, mine.st_ino)
                and mine.st_size == self._journal_size)

    def _abandon_journal(self, size: int) -> None:
        """After a failed append: cut off what it wrote, and append to this journal no more
        (if the cut fails too, the next writer folds the journal in and drops the rest)."""
        _ENTRIES.pop(self.path, None)
        if self._journal_fd is not None:
            with suppress(OSError):
                os.ftruncate(self._journal_fd, size)
        self._close_journal()

    def _close_journal(self) -> None:
        if self._journal_fd is not None:
            os.close(self._journal_fd)
            self._journal_fd = None

    def compact(self) -> None:
        """Fold the journal into the file with one atomic rewrite, then remove it (a crash
        in between is harmless: replaying it again changes nothing). Without a journal,
        nothing to do. Call it under the write lock."""
        own = self._journal_fd is not None and self._journal_is_ours()
        self._close_journal()
        if not self.journal_path.exists():
            return
        key, entries, changes, torn = self._folded()
        if key[1] is None:
            return
        if torn:
            log.warning("%s: its last line was cut short by a crash (nothing was sent for it): "
                        "dropped", self.journal_path)
        if changes:
            # The ledger as it was before this Ledger changed it: the file alone when the
            # journal is this Ledger's own; with a journal another writer left (a crash, a
            # failed compaction), what is written now.
            self._rewrite(entries, keep=None if own else entries)
        try:
            self.journal_path.unlink(missing_ok=True)
        except OSError as exc:
            _ENTRIES.pop(self.path, None)
            raise LedgerError(
                f"cannot remove the journal {self.journal_path} once folded into the ledger "
                f"{self.path}: {exc.strerror or exc}"
            ) from None
        fsync_folder(self.path.parent)
        _ENTRIES[self.path] = ((_stat_key(self.path), None), entries)

    def _folded(self) -> tuple[FilesKey, dict[str, Entry], list[Change], bool]:
        """The files' key, the entries they hold, and the journal's changes and cut-short
        tail. The file is parsed only if this process does not know its entries already
        (the service's own passes: it reads the small journal alone)."""
        key = _files_key(self.path)
        known = _ENTRIES.get(self.path)
        if key is not None and known is not None and known[0] == key:
            journal_key, changes, torn = _read_journal(self.journal_path, self.path)
            if journal_key == key[1]:
                return key, known[1], changes, torn
        files = _read_files(self.path)
        if files.data is not None:
            _check_document(self.path, files.data)
        return files.key, _entries_of(files, self.path), files.changes, files.torn

    # Rewrites of the whole file ------------------------------------------------------------

    def put(self, entry: Entry) -> None:
        """Insert or replace the entry for ``entry.canonical_url`` in one durable rewrite."""
        self.put_many([entry])

    def put_many(self, entries: Iterable[Entry]) -> None:
        """Insert or replace many entries in one atomic rewrite."""
        given = {e.canonical_url: e for e in entries}
        if given:
            self._change(lambda current: current.update(given))

    def rekey(self, moves: Iterable[tuple[str, Entry]]) -> None:
        """Record posts under new canonical URLs, in one write: (old URL, new entry) pairs;
        each keeps its place in the file."""
        replacements = dict(moves)
        if not replacements:
            return

        def move(current: dict[str, Entry]) -> None:
            moved = [replacements.get(url, entry) for url, entry in current.items()]
            current.clear()
            current.update((entry.canonical_url, entry) for entry in moved)

        self._change(move)

    def remove(self, canonical_url: str) -> None:
        """Forget the entry for ``canonical_url`` in one durable rewrite."""
        self._change(lambda current: current.pop(canonical_url, None))

    def _change(self, change: Callable[[dict[str, Entry]], object]) -> None:
        """One read-modify-write of the whole file, under the write lock.

        The journal is folded in by a compaction of its own first: a rewrite that folded
        it in along with its own changes, and were then stopped before removing it, would
        leave the journal's older changes to be replayed over its own.
        """
        self.compact()
        entries = dict(self._current())
        change(entries)
        self._rewrite(entries)
        _ENTRIES[self.path] = ((_stat_key(self.path), None), entries)

    def _rewrite(self, entries: Mapping[str, Entry],
                 keep: Mapping[str, Entry] | None = None) -> None:
        """Replace the file with these entries. Before this Ledger's first rewrite, keep the
        ledger as it was beside it (the last good copy): ``keep``, else the file."""
        try:
            if not self._backed_up:
                if keep is not None:
                    replace_file(backup_path(self.path), _encoded(keep))
                elif self.path.exists():
                    replace_file(backup_path(self.path), _file_pieces(self.path))
                self._backed_up = True
            replace_file(self.path, _encoded(entries))
        except OSError as exc:
            _ENTRIES.pop(self.path, None)
            raise LedgerError(
                f"cannot write the ledger {self.path}: {exc.strerror or exc}. Nothing more is "
                "posted until it can be written (free disk space, or fix the folder's "
                "permissions)"
            ) from None

    def sweep_temp_files(self) -> int:
        """Remove temp files a killed writer left beside the ledger; call under the lock."""
        removed = 0
        for stray in self.path.parent.glob(f".{self.path.name}.*"):
            stray.unlink(missing_ok=True)
            removed += 1
        return removed

    def close(self) -> None:
        self._close_journal()


_FIELD_NAMES = tuple(f.name for f in fields(Entry))
_FIELD_SET = frozenset(_FIELD_NAMES)
_REQUIRED_FIELDS = ("canonical_url", "source", "state")
_OPTIONAL_TEXT = (str, type(None))
# What each stored field may hold: text, or null where the field is optional.
_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    name: str if name in (*_REQUIRED_FIELDS, "title") else _OPTIONAL_TEXT
    for name in _FIELD_NAMES
}
_FIELD_TYPES["previous_urls"] = _FIELD_TYPES["distinct_urls"] = list
_FIELD_TYPES["sent"] = (dict, type(None))
_TYPE_WORDS: dict[type | tuple[type, ...], str] = {
    str: "text", list: "a list", _OPTIONAL_TEXT: "text or null",
    (dict, type(None)): "an object or null",
}
_TIME_FIELDS = ("posted_at", "attempted_at", "acked_at")


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
    """The lock file, never through a symlink: in a folder others can write, one planted
    there would make syncd truncate whatever file it points to."""
    try:
        lock_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LedgerError(f"the lock file {lock_path} is a symlink; syncd does not write "
                              "through one: remove it") from None
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
    fd = _open_lock_file(write_lock_path(ledger_path))
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
        _note_ledger(fd, ledger_path)
        try:
            yield
        finally:
            _note_ledger(fd, ledger_path)
    finally:
        os.close(fd)


def _note_ledger(fd: int, ledger_path: Path) -> None:
    """Write in the (empty) write lock file that a ledger is kept here, once there is one:
    a trace that outlives a careless ``rm ledger.json``, even before there is a ``.bak``."""
    with suppress(OSError):
        if os.fstat(fd).st_size == 0 and ledger_path.exists():
            os.pwrite(fd, f"syncd keeps its ledger {ledger_path.name} here\n".encode(), 0)
