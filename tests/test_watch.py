"""The watcher on a real inotify observer: it hears changes, and not syncd's own reading."""

from __future__ import annotations

import time
from pathlib import Path

from syncd.watch import ChangeTracker, SiteWatcher, Wakeup


def test_reading_the_site_makes_no_events(tmp_path: Path) -> None:
    site = tmp_path / "site"
    posts = site / "_posts"
    posts.mkdir(parents=True)
    read_only = posts / "2024-01-01-old.md"
    read_only.write_text("---\ntitle: Old\n---\nOld.\n", encoding="utf-8")
    ledger_folder = tmp_path / "state"
    tracker, wakeup = ChangeTracker(), Wakeup()
    watcher = SiteWatcher(site, [ledger_folder], tracker, wakeup)
    watcher.start()
    try:
        for _ in range(50):
            read_only.read_bytes()  # what every pass does to every post
        marker = posts / "2024-01-02-new.md"
        marker.write_text("---\ntitle: New\n---\nNew.\n", encoding="utf-8")
        seen: set[str] = set()
        deadline = time.monotonic() + 10
        while str(marker) not in seen and time.monotonic() < deadline:
            wakeup.wait(0.1)
            seen.update(tracker.take_quiet(0.0))
    finally:
        watcher.stop()
        wakeup.close()
    # inotify delivers events in order, so the reads' events, if any, came before this one.
    assert str(marker) in seen
    assert str(read_only) not in seen
