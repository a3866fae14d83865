"""Reusing what a site reader made of a file while the file has not changed.

The service reads the whole site on every pass (a save, the periodic rescan); parsing every
post again is most of that pass's cost. A :class:`ParseCache` kept between passes holds the
result of reading each post file (a ``Post`` or a ``PostError``) under the file's *stat key*,
``(st_size, st_mtime_ns, st_ctime_ns, st_ino)``, and hands it back while the key and the
reader's configuration are unchanged. ``st_ctime_ns`` catches a file whose mtime was put
back (``touch -d``, ``rsync -t``), ``st_ino`` one replaced by a rename.

A file changed less than :data:`SETTLE_S` before it was read is never kept: a second write
within the file system's timestamp tick leaves the key as it was, so such a read is not
trusted beyond the pass that made it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable
from pathlib import Path

from syncd.model import Post, PostError

SETTLE_S = 2.0

StatKey = tuple[int, int, int, int]
ReadResult = Post | PostError


def stat_key(stat: os.stat_result) -> StatKey:
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


class ParseCache:
    """Read results by file, reused while the file's stat key and the reader config hold.

    One scan is :meth:`start`, a :meth:`read` per post file, then :meth:`finish`, which
    forgets the files the scan did not see (deleted or renamed away).
    """

    def __init__(self, settle_s: float = SETTLE_S,
                 clock: Callable[[], float] = time.time) -> None:
        self._settle_s = settle_s
        self._clock = clock
        self._reader_key: object = None
        self._entries: dict[Hashable, tuple[StatKey, ReadResult]] = {}
        self._seen: dict[Hashable, tuple[StatKey, ReadResult]] = {}
        self.hits = 0
        self.misses = 0

    def start(self, reader_key: object) -> None:
        """Begin a scan by a reader configured as ``reader_key`` (compared with ``==``)."""
        if reader_key != self._reader_key:
            self._entries = {}
            self._reader_key = reader_key
        self._seen = {}
        self.hits = self.misses = 0

    def read(self, key: Hashable, path: Path, read: Callable[[], ReadResult]) -> ReadResult:
        """The cached result for ``key`` if ``path`` is unchanged, else ``read()`` (kept)."""
        try:
            stat = os.stat(path)
        except OSError:
            self.misses += 1
            return read()  # gone or unreachable: the reader says why
        current = stat_key(stat)
        cached = self._entries.get(key)
        if cached is not None and cached[0] == current:
            self._seen[key] = cached
            self.hits += 1
            return cached[1]
        self.misses += 1
        result = read()
        changed_at = max(stat.st_mtime_ns, stat.st_ctime_ns) / 1e9
        if self._clock() - changed_at >= self._settle_s:
            self._seen[key] = (current, result)
        return result

    def finish(self) -> None:
        """End the scan: keep only the files it saw."""
        self._entries = self._seen
        self._seen = {}

    def __len__(self) -> int:
        return len(self._entries)
