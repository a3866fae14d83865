"""Watching the site: file events become "this path changed at t", and nothing more.

The watchdog observer's callback only records the path and the time (and wakes the service
loop); the loop in :mod:`syncd.service` decides when to act. Events are hints, not truth:
they can be missed or repeated, so the loop also rescans, and a file only counts once it
has been *quiet* (no event, no new mtime) for the debounce delay: editors save through a
temporary file and a rename, ``git pull`` writes many files at once, and a half-written
post must never be posted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

# Folders no post lives in, which generators and tools rewrite all the time.
IGNORED_PARTS = frozenset({"_site", "node_modules", "public", ".cache", ".git",
                           ".jekyll-cache", ".sass-cache", ".jekyll-metadata"})


class Wakeup:
    """A self-pipe the service loop sleeps on: signals and file events both wake it."""

    def __init__(self) -> None:
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)

    def install_for_signals(self) -> None:
        """Let Python's C-level signal handler write to the pipe, so a signal wakes us."""
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)

    def poke(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            self._writer.send(b"\0")

    def wait(self, timeout_s: float) -> None:
        """Sleep until poked or ``timeout_s`` passes; drain what woke us."""
        ready, _, _ = select.select([self._reader], [], [], max(0.0, timeout_s))
        if ready:
            try:
                while self._reader.recv(4096):
                    pass
            except (BlockingIOError, OSError):
                pass

    def close(self) -> None:
        signal.set_wakeup_fd(-1)
        self._reader.close()
        self._writer.close()


@dataclass(frozen=True)
class Changes:
    """Paths that changed and are quiet now."""

    paths: list[str]
    # A folder was created, deleted or moved among them: the files inside it changed
    # without events of their own, so only a full read of the site can follow.
    folders: bool = False


class ChangeTracker:
    """Paths that changed, each with the monotonic time of its last event.

    Written by the observer's thread, read by the service loop; one lock between them.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._folders: set[str] = set()
        self._rescan = False

    def request_rescan(self) -> None:
        """Events were lost (the kernel's queue overflowed): only a full rescan is safe."""
        with self._lock:
            self._rescan = True

    def take_rescan_request(self) -> bool:
        with self._lock:
            requested, self._rescan = self._rescan, False
        return requested

    def touch(self, path: str, folder: bool = False) -> None:
        """``folder``: a folder was created, deleted or moved there (what it holds may have
        come or gone without an event of its own)."""
        with self._lock:
            self._last[path] = self._clock()
            if folder:
                self._folders.add(path)

    def take_quiet(self, debounce_s: float) -> list[str]:
        """Remove and return the paths that have been quiet for ``debounce_s``."""
        return self.take_quiet_changes(debounce_s).paths

    def take_quiet_changes(self, debounce_s: float) -> Changes:
        """Remove and return the paths quiet for ``debounce_s``, and whether a folder came,
        went or moved among them."""
        now = self._clock()
        with self._lock:
            quiet = [p for p, t in self._last.items() if now - t >= debounce_s]
            folders = False
            for path in quiet:
                del self._last[path]
                if path in self._folders:
                    self._folders.discard(path)
                    folders = True
        return Changes(quiet, folders)

    def next_quiet_in(self, debounce_s: float) -> float | None:
        """Seconds until the next pending path becomes quiet; None when nothing is pending."""
        now = self._clock()
        with self._lock:
            if not self._last:
                return None
            return max(0.0, min(t for t in self._last.values()) + debounce_s - now)

    def is_quiet(self, path: str, debounce_s: float) -> bool:
        with self._lock:
            last = self._last.get(path)
        return last is None or self._clock() - last >= debounce_s


def settled_file(path: Path, debounce_s: float, tracker: ChangeTracker) -> bool:
    """A file may be read for posting: no recent event and no recent modification."""
    if not tracker.is_quiet(str(path), debounce_s):
        return False
    try:
        modified = path.stat().st_mtime
    except OSError:
        return True  # gone or unreadable: the reader reports it
    return time.time() - modified >= debounce_s


class _Recorder(FileSystemEventHandler):
    """The observer's callback: record, wake, return. No reading, no deciding."""

    def __init__(self, tracker: ChangeTracker, wakeup: Wakeup,
                 relevant: Callable[[str], bool]) -> None:
        self._tracker = tracker
        self._wakeup = wakeup
        self._relevant = relevant

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = [event.src_path, getattr(event, "dest_path", "")]
        touched = False
        for raw in paths:
            path = os.fsdecode(raw) if raw else ""
            if path and self._relevant(path):
                self._tracker.touch(path, folder=event.is_directory)
                touched = True
        if touched:
            self._wakeup.poke()


def site_path_filter(root: Path) -> Callable[[str], bool]:
    """Events inside build output, caches and VCS folders are noise."""
    def relevant(path: str) -> bool:
        candidate = Path(path)
        relative = candidate.relative_to(root) if candidate.is_relative_to(root) else candidate
        return not any(part in IGNORED_PARTS for part in relative.parts)

    return relevant


class _OverflowListener(logging.Handler):
    """watchdog reports a kernel queue overflow only in its log; turn that into a rescan."""

    def __init__(self, tracker: ChangeTracker, wakeup: Wakeup) -> None:
        super().__init__(logging.WARNING)
        self._tracker = tracker
        self._wakeup = wakeup

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self._tracker.request_rescan()
            self._wakeup.poke()


WATCHDOG_LOGGERS = ("watchdog.observers.inotify_c", "watchdog.observers.inotify")

# Changes only. Without a filter, inotify also reports every open and every read-only close,
# so each pass's own reading of the site makes two events per post for the observer thread
# to decode (competing with the pass for the GIL), and can overflow the kernel's queue
# (16,384 events by default), which forces a rescan whose reads overflow it again.
# A folder's own "modified" event (a file came or went in it) is left out too: that file's
# event says which.
CHANGE_EVENTS = [FileCreatedEvent, FileModifiedEvent, FileMovedEvent, FileDeletedEvent,
                 FileClosedEvent, DirCreatedEvent, DirMovedEvent, DirDeletedEvent]


class SiteWatcher:
    """A watchdog observer on the site (recursive) and on the ledger's folder."""

    def __init__(self, site_root: Path, extra_folders: Iterable[Path], tracker: ChangeTracker,
                 wakeup: Wakeup) -> None:
        self._overflow = _OverflowListener(tracker, wakeup)
        self._observer = Observer()
        self._observer.daemon = True
        self._observer.schedule(_Recorder(tracker, wakeup, site_path_filter(site_root)),
                                str(site_root), recursive=True, event_filter=CHANGE_EVENTS)
        for folder in extra_folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._observer.schedule(_Recorder(tracker, wakeup, lambda _path: True),
                                    str(folder), recursive=False, event_filter=CHANGE_EVENTS)

    def start(self) -> None:
        for name in WATCHDOG_LOGGERS:
            logging.getLogger(name).addHandler(self._overflow)
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)
        for name in WATCHDOG_LOGGERS:
            logging.getLogger(name).removeHandler(self._overflow)
