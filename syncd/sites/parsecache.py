"""Reusing what a site reader made of a file while the file has not changed.

The service reads the whole site on every pass (a save, the periodic rescan), and every
``syncd plan`` or ``--once`` reads it again; parsing every post is most of that cost. A
:class:`ParseCache` holds the result of reading each post file (a ``Post`` or a
``PostError``) under the file's *stat key*, ``(st_size, st_mtime_ns, st_ctime_ns,
st_ino)``, and hands it back while the key and the reader's configuration are unchanged.
``st_ctime_ns`` catches a file whose mtime was put back (``touch -d``, ``rsync -t``),
``st_ino`` one replaced by a rename. A file changed less than :data:`SETTLE_S` before it
was read is never kept: a second write within the file system's timestamp tick leaves the
key as it was, so such a read is not trusted beyond the pass that made it.

The service keeps one in memory between passes. It is also kept on disk beside the ledger
(the *store*, ``parse-cache.<ledger name>``), so that a fresh process does not parse the
unchanged posts again: per file, its stat key and what the engine judges a post by (URL,
title, date, tags, flags, fingerprints, warnings; never the body). The store is written
atomically under the ledger's write lock, belongs to one *reader identity* (a hash of the
reader's configuration, syncd's reader code and the libraries it parses with) and is
ignored for any other; a corrupt store is logged and rebuilt, and deleting it is always
safe. It never decides what has been posted: that is the ledger's alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import yaml

from syncd.atomic import replace_file
from syncd.memory import batch
from syncd.model import Post, PostError
from syncd.sites import ruby

log = logging.getLogger("syncd")

SETTLE_S = 2.0
STORE_FORMAT = 3
# The front matter keys the engine reads for every post (engine.OPT_OUT_KEYS): a restored
# post answers them without reading its file.
JUDGED_KEYS = ("syndicate", "medium")

StatKey = tuple[int, int, int, int]
ReadResult = Post | PostError
_Entry = tuple[StatKey, ReadResult | None, dict[str, Any] | None]
Read = Callable[[], ReadResult]
_SCALARS = (str, int, float, bool, type(None))


def stat_key(stat: os.stat_result) -> StatKey:
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


class ParseCache:
    """Read results by file, reused while the file's stat key and the reader config hold.

    One scan is :meth:`start`, a :meth:`read` per post file, then :meth:`finish`, which
    forgets the files the scan did not see (deleted or renamed away). With a ``store``,
    the first scan starts from what it holds, and :meth:`save` writes it back.
    """

    def __init__(self, store: Path | None = None, settle_s: float = SETTLE_S,
                 clock: Callable[[], float] = time.time, read_only: bool = False) -> None:
        self.store = store
        # A read-only cache is never saved, so its readers need not fingerprint every post.
        self.read_only = read_only
        self._settle_s = settle_s
        self._clock = clock
        self._reader_key: object = None
        self._identity: str | None = None
        # Per file: its stat key, the read result (None until a stored record is used) and
        # the stored record (None until the result is recorded).
        self._entries: dict[str, _Entry] = {}
        self._seen: dict[str, _Entry] = {}
        self._dirty = False
        self.hits = 0
        self.misses = 0

    @classmethod
    def beside(cls, ledger: Path, read_only: bool = False) -> ParseCache:
        """The cache whose store sits next to ``ledger``."""
        from syncd.ledger import parse_cache_path  # which also counts it as a trace of the ledger

        return cls(store=parse_cache_path(ledger), read_only=read_only)

    def start(self, reader_key: object, identity: str) -> None:
        """Begin a scan by a reader configured as ``reader_key`` (compared with ``==``);
        ``identity`` (see :func:`reader_identity`) names it in the store."""
        if reader_key != self._reader_key or identity != self._identity:
            self._reader_key, self._identity = reader_key, identity
            self._entries = self._load()
            self._dirty = False
        self._seen = {}
        self.hits = self.misses = 0

    def read(self, path: Path, read: Read, again: Read | None = None) -> ReadResult:
        """The cached result for ``path`` if it is unchanged, else ``read()`` (kept).

        ``again`` reads the file again in full, later (a ``Reread``): a post restored from
        the store keeps it, for its body and the rest of its front matter. By default,
        ``read``."""
        key = str(path)
        try:
            stat = os.stat(path)
        except OSError:
            self.misses += 1
            return read()  # gone or unreachable: the reader says why
        current = stat_key(stat)
        cached = self._entries.get(key)
        if cached is not None and cached[0] == current:
            _, result, kept = cached
            if result is None and kept is not None:
                result = restore(kept, path, again or read)
            if result is not None:
                self._seen[key] = (current, result, kept)
                self.hits += 1
                return result
        self.misses += 1
        result = read()
        if self._settled(stat):
            self._seen[key] = (current, result, None)
            self._dirty = True
        return result

    def refresh(self, path: Path, read: Read) -> ReadResult:
        """Outside a scan: ``read()`` a file the watcher says changed, kept as :meth:`read`
        keeps results (whatever its stat key says: a same-tick rewrite keeps the key)."""
        self.forget(path)
        try:
            stat = os.stat(path)
        except OSError:
            return read()  # gone or unreachable: the reader says why
        result = read()
        if self._settled(stat):
            self._entries[str(path)] = (stat_key(stat), result, None)
            self._dirty = True
        return result

    def _settled(self, stat: os.stat_result) -> bool:
        """Whether a read made after this ``stat`` may be kept: the file last changed at
        least ``settle_s`` ago (a second write in the same tick would keep its key)."""
        changed_at = max(stat.st_mtime_ns, stat.st_ctime_ns) / 1e9
        return self._clock() - changed_at >= self._settle_s

    def forget(self, path: Path) -> None:
        """Outside a scan: drop what is known of a file (deleted, or about to be re-read)."""
        if self._entries.pop(str(path), None) is not None:
            self._dirty = True

    def finish(self) -> None:
        """End the scan: keep only the files it saw."""
        if self._seen.keys() != self._entries.keys():
            self._dirty = True
        self._entries = self._seen
        self._seen = {}

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def unsaved(self) -> bool:
        """Whether :meth:`save` has something to write."""
        return (self.store is not None and not self.read_only and self._identity is not None
                and self._dirty)

    @batch
    def save(self) -> None:
        """Write the store, if it has one and learnt something; call under the ledger's write
        lock. A failure is logged, never raised: the store only saves time."""
        if not self.unsaved or self.store is None:
            return
        files = {}
        for key, (stat, result, kept) in self._entries.items():
            if kept is None and result is not None:
                kept = record(result)
                self._entries[key] = (stat, result, kept)
            if kept is not None:
                files[key] = [*stat, kept]
        data = {"syncd-parse-cache": STORE_FORMAT, "identity": self._identity, "files": files}
        try:
            for stray in self.store.parent.glob(f".{self.store.name}.*"):
                stray.unlink(missing_ok=True)  # left by a writer killed mid-write
            replace_file(self.store, json.dumps(data, ensure_ascii=False,
                                                separators=(",", ":")).encode("utf-8"))
        except OSError as exc:
            log.warning("the parse cache %s was not written (%s); the next run reads the "
                        "site in full", self.store, exc.strerror or exc)
            return
        self._dirty = False
        # A record whose post is in memory is made again by the next save (after the next
        # full read, in the service): not kept beside the post meanwhile (8 MB for 10k).
        self._entries = {key: (stat, result, None if result is not None else kept)
                         for key, (stat, result, kept) in self._entries.items()}

    def _load(self) -> dict[str, _Entry]:
        if self.store is None:
            return {}
        try:
            raw = self.store.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            log.warning("the parse cache %s cannot be read (%s); reading the site in full",
                        self.store, exc.strerror or exc)
            return {}
        try:
            data = json.loads(raw)
            if data["syncd-parse-cache"] != STORE_FORMAT or data["identity"] != self._identity:
                log.info("the parse cache %s was made by another syncd or site "
                         "configuration; reading the site in full", self.store)
                return {}
            entries = {}
            for key, row in data["files"].items():
                stat = tuple(int(part) for part in row[:4])
                if len(stat) != 4 or not isinstance(row[4], dict):
                    raise ValueError(f"bad entry for {key}")
                entries[key] = (stat, None, row[4])
            return entries  # type: ignore[return-value]
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            log.warning("the parse cache %s is corrupt (%s); reading the site in full and "
                        "writing it again", self.store, exc)
            return {}


# The store's records ------------------------------------------------------------------


def record(result: ReadResult) -> dict[str, Any] | None:
    """What the store keeps of one read; None when it cannot keep it exactly."""
    if isinstance(result, PostError):
        return {"source": result.source, "error": result.reason}
    date = _date_record(result.date)
    judged = {key: result.front_matter[key] for key in JUDGED_KEYS
              if key in result.front_matter}
    if result.fingerprint is None or result.source_hash is None or date is None or \
            not all(isinstance(value, _SCALARS) for value in judged.values()):
        return None
    return {
        "source": result.source, "canonical_url": result.canonical_url, "title": result.title,
        "date": date, "tags": list(result.tags), "published": result.published,
        "draft": result.draft, "judged": judged, "warnings": list(result.warnings),
        "held_until_date": result.held_until_date, "fingerprint": result.fingerprint,
        "source_hash": result.source_hash,
    }


def restore(kept: dict[str, Any], path: Path, read: Read) -> ReadResult | None:
    """A record made a Post again (body and front matter read from the file on use, by
    ``read``, which must read it in full); None when the record is not one this syncd
    wrote."""
    try:
        if "error" in kept:
            return PostError(source=str(kept["source"]), path=path, reason=str(kept["error"]))
        return Post(
            source=str(kept["source"]), path=path, canonical_url=kept["canonical_url"],
            title=str(kept["title"]), date=_date(kept["date"]),
            body=read.body if isinstance(read, Reread) else lambda: _read_again(read).body,
            tags=tuple(str(tag) for tag in kept["tags"]), published=bool(kept["published"]),
            draft=bool(kept["draft"]),
            front_matter=lean_front_matter(kept["judged"], read),
            warnings=tuple(str(w) for w in kept["warnings"]),
            held_until_date=bool(kept["held_until_date"]), fingerprint=str(kept["fingerprint"]),
            source_hash=str(kept["source_hash"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _read_again(read: Read) -> Post:
    from syncd.sites.postfile import PostChanged

    result = read()
    if isinstance(result, PostError):
        raise PostChanged(f"{result.path}: changed since syncd read it, and now cannot be "
                          f"read again: {result.reason}; run syncd again")
    return result


class FullReader(Protocol):
    def read_path(self, path: Path) -> ReadResult:
        """The file read again, with its whole front matter."""


class Reread:
    """How a post held lean reads its file again, later: its reader and its path, and
    nothing else per post (a scan holds every post of the site)."""

    __slots__ = ("_path", "_reader")

    def __init__(self, reader: FullReader, path: Path) -> None:
        self._reader = reader
        self._path = path

    def __call__(self) -> ReadResult:
        return self._reader.read_path(self._path)

    def body(self) -> str:
        return _read_again(self).body


_NO_KEYS: Mapping[str, Any] = MappingProxyType({})


def lean_front_matter(front: Mapping[str, Any], read: Read) -> RestoredFrontMatter:
    """Front matter that keeps only the keys the engine judges every post by; anything
    else reads the file again (``read`` must give the post with its full front matter).
    A scan holds every post of the site, and a pass renders only the few it sends: the
    rest of 10,000 front matters is about 6 MB."""
    judged = {key: front[key] for key in JUDGED_KEYS if key in front}
    return RestoredFrontMatter(judged or _NO_KEYS, read)


class RestoredFrontMatter(Mapping[str, Any]):
    """The front matter of a post restored from the store or read by a scan: the keys the
    engine judges every post by are at hand, anything else reads the file again (once)."""

    __slots__ = ("_full", "_judged", "_read")

    def __init__(self, judged: Mapping[str, Any], read: Read) -> None:
        self._judged = judged
        self._read = read
        self._full: Mapping[str, Any] | None = None

    @property
    def full(self) -> Mapping[str, Any]:
        if self._full is None:
            self._full = _read_again(self._read).front_matter
        return self._full

    def __getitem__(self, key: str) -> Any:
        if self._full is None and key in JUDGED_KEYS:
            return self._judged[key]
        return self.full[key]

    def __contains__(self, key: object) -> bool:
        if self._full is None and key in JUDGED_KEYS:
            return key in self._judged
        return key in self.full

    def __iter__(self) -> Iterator[str]:
        return iter(self.full)

    def __len__(self) -> int:
        return len(self.full)


def _date_record(date: dt.datetime) -> dict[str, Any] | None:
    zone = date.tzinfo
    if type(date) not in (dt.datetime, ruby.PsychTime) or zone is None:
        return None
    if zone is dt.UTC:
        name = "UTC"
    elif isinstance(zone, ZoneInfo):
        name = "zone:" + str(zone.key)
    elif isinstance(zone, dt.timezone):
        offset = zone.utcoffset(None)
        if zone.tzname(None) != dt.timezone(offset).tzname(None):
            return None
        name = f"offset:{int(offset.total_seconds())}"
    else:
        return None
    return {"local": date.replace(tzinfo=None).isoformat(), "fold": date.fold, "zone": name,
            "psych": type(date) is ruby.PsychTime,
            "psych_zone": getattr(date, "__dict__", {}).get("zone")}


def _date(kept: dict[str, Any]) -> dt.datetime:
    kind = ruby.PsychTime if kept["psych"] else dt.datetime
    name = str(kept["zone"])
    if name == "UTC":
        zone: dt.tzinfo = dt.UTC
    elif name == "zone:localtime":
        zone = localtime_zone()
    elif name.startswith("zone:"):
        zone = ZoneInfo(name[5:])
    elif name.startswith("offset:"):
        zone = dt.timezone(dt.timedelta(seconds=int(name[7:])))
    else:
        raise ValueError(name)
    moment = kind.fromisoformat(kept["local"]).replace(tzinfo=zone, fold=int(kept["fold"]))
    if kept.get("psych_zone") is not None:
        moment.zone = str(kept["psych_zone"])  # type: ignore[attr-defined]
    return moment


def localtime_zone() -> dt.tzinfo:
    """/etc/localtime, read once per version of the file (UTC when there is none)."""
    try:
        stat = os.stat("/etc/localtime")
    except OSError:
        return dt.UTC
    return _zone_from_file(stat_key(stat))


@functools.lru_cache(maxsize=4)
def _zone_from_file(key: StatKey) -> dt.tzinfo:
    """Once per version, so that two readings of one ``_config.yml`` give equal configs."""
    try:
        with open("/etc/localtime", "rb") as handle:
            return ZoneInfo.from_file(handle, key="localtime")
    except (OSError, ValueError):
        return dt.UTC


# Reader identity ----------------------------------------------------------------------


def reader_identity(config: object, zone: dt.tzinfo | None = None) -> str:
    """A hash of everything a reader's results depend on besides the file itself: its
    configuration (``repr``), the zone's rules when it is the machine's, and the code and
    libraries that read (syncd's readers, Python's Unicode tables, PyYAML, frontmatter)."""
    digest = hashlib.sha256(_code_identity())
    digest.update(_stable_repr(config).encode("utf-8", "surrogateescape"))
    if isinstance(zone, ZoneInfo) and zone.key == "localtime":
        with contextlib.suppress(OSError):
            digest.update(Path("/etc/localtime").read_bytes())
    return digest.hexdigest()


def _stable_repr(value: object) -> str:
    """``repr``, but the same in every process: sets sorted (their order follows the
    per-process string hash)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ", ".join(f"{f.name}={_stable_repr(getattr(value, f.name))}"
                           for f in dataclasses.fields(value))
        return f"{type(value).__name__}({fields})"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(_stable_repr(item) for item in value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_stable_repr(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_stable_repr(k)}: {_stable_repr(v)}"
                               for k, v in value.items()) + "}"
    return repr(value)


@functools.lru_cache(maxsize=1)
def _code_identity() -> bytes:
    import unicodedata

    import frontmatter

    from syncd import __version__

    digest = hashlib.sha256()
    for part in (__version__, sys.version, unicodedata.unidata_version, yaml.__version__,
                 str(getattr(yaml, "__with_libyaml__", "")),
                 str(getattr(frontmatter, "__version__", ""))):
        digest.update(part.encode() + b"\0")
    package = Path(__file__).resolve().parent.parent
    readers = sorted(["model.py", *(f"sites/{p.name}" for p in (package / "sites").glob("*.py"))])
    for name in readers:
        try:
            digest.update(name.encode() + b"\0" + (package / name).read_bytes())
        except OSError:
            digest.update(name.encode() + b"\0?")
    return digest.digest()
