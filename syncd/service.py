"""The service (``syncd`` with no flags): a catch-up pass, then watch and post until stopped.

One thread runs everything that decides and acts (this loop); the observer's thread only
records changed paths (:mod:`syncd.watch`). The loop sleeps until the earliest of: a changed
file becoming quiet, a future post's time, the end of Medium's rate-limit wait, the periodic
rescan, or the systemd watchdog's keep-alive; then it runs a pass, the same pass as
``--once``, with files still being written left out. Passes never overlap, and the runner
lock keeps a second service or ``--once`` out (exit 4) while admin commands (``adopt``,
``resolve``) still work between passes.

Signals: SIGTERM and SIGINT end the pass after the request in flight and exit 0; SIGHUP
re-reads the config (a bad one is reported and the old one kept).
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from syncd.app import KnownUser, locked_pass
from syncd.config import Config, load_config
from syncd.errors import AuthError, FirstRunRefused, MediumUnreachable, SyncdError
from syncd.ledger import POSTED, Ledger, ledger_lock, write_lock
from syncd.memory import settle
from syncd.model import SiteScan
from syncd.notify import Notifier
from syncd.sites.jekyll import remember_walks
from syncd.sites.live import FullReadNeeded, LiveSite
from syncd.sites.parsecache import ParseCache
from syncd.sync import PassReport
from syncd.watch import ChangeTracker, SiteWatcher, Wakeup, settled_file

log = logging.getLogger("syncd")

RETRY_AFTER_AUTH_S = 600.0
RETRY_AFTER_NETWORK_S = (30.0, 60.0, 120.0, 300.0, 600.0)
MEDIUM_WINDOW = dt.timedelta(hours=24)
MAX_SLEEP_S = 3600.0


@dataclass
class _Signals:
    """Flags set by signal handlers (plain assignments only) and read by the loop."""

    stop: bool = False
    reload: bool = False

    def on_stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stop = True

    def on_reload(self, signum: int, _frame: FrameType | None) -> None:
        self.reload = True


class Service:
    """The watching service for one config (one site, one ledger)."""

    def __init__(self, config: Config, environ: Mapping[str, str]) -> None:
        self.config = config
        self.environ = environ
        self.notifier = Notifier(environ)
        self.signals = _Signals()
        self.wakeup = Wakeup()
        self.tracker = ChangeTracker()
        remember_walks()
        # Kept between passes (and on disk beside the ledger): only changed files are re-read.
        # Written after the catch-up pass, the periodic rescans and at the end, not after
        # every save (rewriting it costs as much as the rest of a save's pass).
        self.parse_cache = ParseCache.beside(config.sync.ledger)
        self.save_parse_cache = True
        # The site as last read, patched from changed paths between full reads.
        self.live = LiveSite(config.site, self.parse_cache)
        self.read_all = True  # the next pass reads the whole site (the catch-up pass does)
        self.judge_all = True  # the next pass judges every post, not only the changed ones
        self.changed_paths: set[str] = set()
        self.still_due: set[str] = set()  # sources the last passes left due or deferred
        self.known_user = KnownUser()
        self.watcher: SiteWatcher | None = None
        now = time.monotonic()
        self.pass_due_at: float | None = now  # the catch-up pass
        self.next_rescan_at = now + config.watch.rescan_s
        self.next_keepalive_at = now
        self.network_failures = 0
        self.waiting_for_decision = False
        self.ledger_stamp: tuple[float, int] | None = None
        self.rate_limited_until: float | None = None

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; 0 then. A ledger that cannot be used ends it (4)."""
        previous = {
            signal.SIGTERM: signal.signal(signal.SIGTERM, self.signals.on_stop),
            signal.SIGINT: signal.signal(signal.SIGINT, self.signals.on_stop),
            signal.SIGHUP: signal.signal(signal.SIGHUP, self.signals.on_reload),
        }
        self.wakeup.install_for_signals()
        try:
            with ledger_lock(self.config.sync.ledger):
                self._start_watching()
                log.info("watching %s (debounce %g s, rescan every %g s)",
                         self.config.site.root, self.config.watch.debounce_s,
                         self.config.watch.rescan_s)
                self._loop()
            return 0
        finally:
            self.notifier.stopping()
            if self.watcher is not None:
                self.watcher.stop()
            self._save_parse_cache()
            self.wakeup.close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            log.info("stopped")

    def _start_watching(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.watcher = SiteWatcher(self.config.site.root, [self.config.sync.ledger.parent],
                                   self.tracker, self.wakeup)
        self.watcher.start()

    def _loop(self) -> None:
        ready_sent = False
        while not self.signals.stop:
            if self.signals.reload:
                self.signals.reload = False
                self._reload()
            self._take_changes()
            now = time.monotonic()
            if now >= self.next_rescan_at:
                self.next_rescan_at = now + self.config.watch.rescan_s
                self.pass_due_at = now
                self.read_all = True
            if self.pass_due_at is not None and now >= self.pass_due_at:
                self.pass_due_at = None
                self._pass()
                if self.save_parse_cache:
                    self._save_parse_cache()
                    settle()
                if not ready_sent:
                    self.notifier.ready(self._status_line())
                    ready_sent = True
            if time.monotonic() >= self.next_keepalive_at:
                self.notifier.watchdog()
                interval = (self.notifier.watchdog_s or MAX_SLEEP_S * 2) / 2
                self.next_keepalive_at = time.monotonic() + interval
            if self.signals.stop:
                break
            self.wakeup.wait(self._sleep_s())

    def _take_changes(self) -> None:
        """Quiet changed paths make a pass due; our own ledger writes do not."""
        if self.tracker.take_rescan_request():
            log.warning("the kernel dropped file events (inotify queue overflow); rescanning")
            self.pass_due_at = time.monotonic() + self.config.watch.debounce_s
            self.read_all = True
        quiet = self.tracker.take_quiet_changes(self.config.watch.debounce_s)
        ledger = str(self.config.sync.ledger)
        site_changes = [p for p in quiet.paths if self._is_site_path(Path(p))]
        ledger_changed = ledger in quiet.paths and self._ledger_stamp() != self.ledger_stamp
        if site_changes or ledger_changed:
            log.debug("changed: %s", ", ".join(sorted(site_changes)[:5]) or ledger)
            self.pass_due_at = min(self.pass_due_at or time.monotonic(), time.monotonic())
            self.changed_paths.update(site_changes)
            # Another command changed the ledger (adopt, resolve, ack): any post's
            # judgement may have changed with it.
            self.judge_all |= ledger_changed
            self.read_all |= quiet.folders and bool(site_changes)

    def _is_site_path(self, path: Path) -> bool:
        """The ledger's own folder (the ledger, its copy, locks, temp files) is not the site."""
        folder = self.config.sync.ledger.parent
        return path.is_relative_to(self.config.site.root) or folder not in (path, path.parent)

    def _sleep_s(self) -> float:
        now = time.monotonic()
        deadlines = [self.next_rescan_at, self.next_keepalive_at, now + MAX_SLEEP_S]
        if self.pass_due_at is not None:
            deadlines.append(self.pass_due_at)
        quiet_in = self.tracker.next_quiet_in(self.config.watch.debounce_s)
        if quiet_in is not None:
            deadlines.append(now + quiet_in)
        return max(0.0, min(deadlines) - now)

    def _settled(self, path: Path) -> bool:
        if settled_file(path, self.config.watch.debounce_s, self.tracker):
            return True
        self.changed_paths.add(str(path))  # read and judged again by the next pass
        self._schedule(self.config.watch.debounce_s, f"{path.name} is still being written")
        return False

    def _site(self) -> tuple[SiteScan, set[str] | None]:
        """The pass's scan and the sources it judges (None: all): the whole site after a
        full read or when told to, otherwise only the changed files and what is still due."""
        changed, self.changed_paths = self.changed_paths, set()
        if not self.read_all:
            try:
                scan, touched = self.live.read_changes(changed)
            except FullReadNeeded as exc:
                log.debug("reading the whole site: %s", exc)
                self.read_all = True
        if self.read_all:
            self.read_all = False
            self.judge_all = True
            self.save_parse_cache = True
            scan = self.live.read_all()
            log.debug("read %d post files, %d unchanged since the last pass",
                      self.parse_cache.misses, self.parse_cache.hits)
        if self.judge_all:
            self.judge_all = False
            return scan, None
        log.debug("judging %d changed posts and %d still due", len(touched),
                  len(self.still_due))
        return scan, touched | self.still_due

    def _schedule(self, delay_s: float, why: str) -> None:
        at = time.monotonic() + max(0.0, delay_s)
        if self.pass_due_at is None or at < self.pass_due_at:
            self.pass_due_at = at
            log.debug("next pass in %s: %s", _duration(delay_s), why)

    def _pass(self) -> None:
        self.notifier.status("checking the site")
        hold = None
        if self.rate_limited_until is not None:
            if time.monotonic() < self.rate_limited_until:
                hold = "waiting for Medium's daily limit"
            else:
                self.rate_limited_until = None
        try:
            report = locked_pass(self.config, self.environ, settled=self._settled,
                                 should_stop=lambda: self.signals.stop, hold_posts=hold,
                                 cache=self.parse_cache, site=self._site,
                                 known_user=self.known_user)
        except SyncdError as exc:
            # What this pass judged is unknown to the next one: it judges everything.
            self.judge_all = True
            self.known_user.forget()
            self._pass_failed(exc)
        else:
            self.still_due = report.still_due()
            self.waiting_for_decision = False
            self.network_failures = 0
            self._after(report)
            self.notifier.status(self._status_line(report))
        self.ledger_stamp = self._ledger_stamp()

    def _pass_failed(self, exc: SyncdError) -> None:
        """Report why the pass stopped and schedule the next one; a ledger that cannot be
        used (exit status 4) ends the service."""
        if isinstance(exc, FirstRunRefused):
            if not self.waiting_for_decision:
                log.error("%s", exc)
                log.warning("waiting for that decision; the service goes on once it is made")
            self.waiting_for_decision = True
            self.notifier.status("waiting: a first run needs your decision (see the log)")
        elif isinstance(exc, AuthError):
            log.error("%s; trying again in %g s (or on SIGHUP)", exc, RETRY_AFTER_AUTH_S)
            self.notifier.status("Medium refused the token")
            self._schedule(RETRY_AFTER_AUTH_S, "token refused")
        elif isinstance(exc, MediumUnreachable):
            wait = RETRY_AFTER_NETWORK_S[min(self.network_failures,
                                             len(RETRY_AFTER_NETWORK_S) - 1)]
            self.network_failures += 1
            log.error("%s; trying again in %g s", exc, wait)
            self.notifier.status("Medium unreachable; retrying")
            self._schedule(wait, "Medium unreachable")
        elif exc.exit_status == 4:
            raise exc
        else:
            log.error("%s", exc)
            self.notifier.status(f"error: {exc}")

    def _after(self, report: PassReport) -> None:
        """Log what the pass did and schedule the passes its deferrals need."""
        if report.outcomes or report.moved or report.read_errors:
            log.info("%s", report.summary())
        now = dt.datetime.now(dt.UTC)
        future = [item.date for item in report.deferred
                  if item.reason == "future" and item.date is not None]
        if future:
            soonest = min(future)
            self._schedule((soonest - now).total_seconds() + 0.5,
                           f"a post is due at {soonest.isoformat()}")
        if report.rate_limited:
            if self.rate_limited_until is None:
                wait = report.retry_after or self._medium_window_left(now)
                self.rate_limited_until = time.monotonic() + wait
                log.info("Medium's daily limit: %d posts wait; the next goes in %s",
                         report.count("rate-limited"), _duration(wait))
            self._schedule(self.rate_limited_until - time.monotonic(), "Medium's daily limit")

    def _medium_window_left(self, now: dt.datetime) -> float:
        """Without Retry-After: until the oldest post of the last 24 hours ages out."""
        ledger = Ledger(self.config.sync.ledger)
        try:
            times = []
            for entry in ledger.entries().values():
                if entry.state == POSTED and entry.posted_at:
                    posted = dt.datetime.fromisoformat(entry.posted_at)
                    if now - posted < MEDIUM_WINDOW:
                        times.append(posted)
        finally:
            ledger.close()
        if not times:
            return MEDIUM_WINDOW.total_seconds()
        return max(60.0, (min(times) + MEDIUM_WINDOW - now).total_seconds())

    def _save_parse_cache(self) -> None:
        self.save_parse_cache = False
        if not self.parse_cache.unsaved or not self.config.sync.ledger.exists():
            return  # only beside a ledger, whose trace it then is (see syncd.ledger)
        try:
            with write_lock(self.config.sync.ledger):
                self.parse_cache.save()
        except SyncdError as exc:
            log.warning("the parse cache was not saved: %s", exc)

    def _reload(self) -> None:
        try:
            config = load_config(self.config.path)
        except SyncdError as exc:
            log.error("SIGHUP: the config was not reloaded, the old one stays: %s", exc)
            return
        for warning in config.warnings:
            log.warning("%s", warning)
        if config.sync.ledger != self.config.sync.ledger:
            log.error("SIGHUP: sync.ledger cannot change while running; restart syncd")
            return
        moved_site = config.site.root != self.config.site.root
        self.config = config
        self.live = LiveSite(config.site, self.parse_cache)
        self.read_all = True
        if moved_site:
            self._start_watching()
        log.info("SIGHUP: config reloaded from %s", config.path)
        self.pass_due_at = time.monotonic()

    def _ledger_stamp(self) -> tuple[float, int] | None:
        try:
            stat = self.config.sync.ledger.stat()
        except OSError:
            return None
        return stat.st_mtime, stat.st_size

    def _status_line(self, report: PassReport | None = None) -> str:
        last = f"; last pass: {report.summary()}" if report is not None else ""
        return f"watching {self.config.site.root}{last}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def run_service(config: Config, environ: Mapping[str, str]) -> int:
    return Service(config, environ).run()
