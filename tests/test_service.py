"""The service (`syncd` with no flags) as a real process: real files, a real inotify observer,
the real emulator, real signals and a real sd_notify datagram socket."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from conftest import TEST_TOKEN
from sitekit import make_site, run_syncd, write_config
from test_parse_cache import OpenWatch

from syncd.sandbox import Sandbox
from syncd.sites.parsecache import SETTLE_S

DEBOUNCE_S = 0.6
WATCH = f"\n[watch]\ndebounce_s = {DEBOUNCE_S}\nrescan_s = 60\n"
ONE_POST = {"_posts/2024-01-01-first.md": "---\ntitle: First\n---\nThe first post.\n"}


@dataclass
class Daemon:
    """A running `syncd`, the sd_notify messages it sent, and its log."""

    proc: subprocess.Popen[str]
    notify: socket.socket
    log_path: Path
    messages: list[str] = field(default_factory=list)

    def read_notify(self, timeout_s: float = 0.2) -> list[str]:
        self.notify.settimeout(timeout_s)
        try:
            while True:
                self.messages.append(self.notify.recv(4096).decode())
                self.notify.settimeout(0.01)
        except (TimeoutError, BlockingIOError):
            pass
        return self.messages

    def wait_ready(self, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any("READY=1" in m for m in self.read_notify()):
                return
            assert self.proc.poll() is None, self.log()
        raise AssertionError("no READY=1\n" + self.log())

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout_s: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout_s)


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def start(config: Path, env: dict[str, str] | None = None, ready: bool = True) -> Daemon:
        address = str(tmp_path / f"notify-{len(started)}.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(address)
        log_path = tmp_path / f"daemon-{len(started)}.log"
        base = {"PATH": os.environ["PATH"], "HOME": "/tmp", "TZ": "UTC", "LANG": "C.UTF-8",
                "MEDIUM_TOKEN": TEST_TOKEN, "NOTIFY_SOCKET": address, **(env or {})}
        with open(log_path, "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "syncd", "-v", "--config",
                                     str(config)], env=base, stdout=log, stderr=log, text=True)
        daemon = Daemon(proc, listener, log_path)
        started.append(daemon)
        if ready:
            daemon.wait_ready()
        return daemon

    yield start
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()
        daemon.notify.close()


def wait_for(condition: Callable[[], bool], timeout_s: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def titles(sandbox: Sandbox) -> list[str]:
    return [p["request"]["title"] for p in sandbox.posts()]


def settle(sandbox: Sandbox, seconds: float = DEBOUNCE_S * 3) -> list[str]:
    """Wait long enough for any pass a change could cause; then what the emulator holds."""
    time.sleep(seconds)
    return titles(sandbox)


def save_atomically(path: Path, text: str) -> None:
    """As editors do: write a temporary file beside it, then rename it over."""
    temp = path.with_name(f".{path.name}.swp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


@pytest.fixture
def blog(tmp_path: Path, sandbox: Sandbox) -> Path:
    make_site(tmp_path / "site", ONE_POST)
    return write_config(tmp_path, sandbox.api_url, extra=WATCH)


def test_catch_up_then_a_saved_post_goes_out_once(blog: Path, sandbox: Sandbox,
                                                 start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon(blog)
    wait_for(lambda: titles(sandbox) == ["First"], what="the catch-up pass")
    save_atomically(blog.parent / "site/_posts/2024-02-01-second.md",
                    "---\ntitle: Second\n---\nSaved by an editor.\n")
    wait_for(lambda: titles(sandbox) == ["First", "Second"], what="the second post")
    assert settle(sandbox) == ["First", "Second"]
    assert daemon.stop() == 0
    assert "Traceback" not in daemon.log()


def test_a_slowly_written_post_is_posted_once_and_complete(
    blog: Path, sandbox: Sandbox, start_daemon: Callable[..., Daemon]
) -> None:
    start_daemon(blog)
    path = blog.parent / "site/_posts/2024-03-01-slow.md"
    chunks = ["---\ntitle: Slow\n", "---\nFirst paragraph.\n", "\nSecond paragraph.\n",
              "\nThe last words.\n"]
    with open(path, "w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(chunk)
            handle.flush()
            time.sleep(DEBOUNCE_S / 2)
    wait_for(lambda: "Slow" in titles(sandbox), what="the slow post")
    assert settle(sandbox).count("Slow") == 1
    sent = next(p for p in sandbox.posts() if p["request"]["title"] == "Slow")
    assert "The last words." in sent["request"]["content"]


def test_a_burst_of_200_files_posts_each_new_one_once(
    tmp_path: Path, start_daemon: Callable[..., Daemon]
) -> None:
    sandbox = Sandbox(host="127.0.0.1", port=0, tokens=[TEST_TOKEN], daily_limit=0)
    sandbox.start()
    make_site(tmp_path / "site", ONE_POST)
    config = write_config(tmp_path, sandbox.api_url, extra=WATCH, first_run_limit=1000)
    daemon = start_daemon(config)
    posts = tmp_path / "site/_posts"
    for i in range(200):
        day = dt.date(2023, 1, 1) + dt.timedelta(days=i)
        (posts / f"{day:%Y-%m-%d}-pulled-{i}.md").write_text(
            f"---\ntitle: Pulled {i}\n---\nFrom a git pull.\n", encoding="utf-8")
    wait_for(lambda: len(sandbox.posts()) == 201, timeout_s=90, what="201 posts")
    final = settle(sandbox)
    assert len(final) == 201 and len(set(final)) == 201
    assert daemon.stop() == 0
    sandbox.stop()


def test_editing_or_renaming_a_synced_post_posts_nothing(
    blog: Path, sandbox: Sandbox, start_daemon: Callable[..., Daemon]
) -> None:
    daemon = start_daemon(blog)
    wait_for(lambda: titles(sandbox) == ["First"], what="the catch-up pass")
    posts = blog.parent / "site/_posts"
    save_atomically(posts / "2024-01-01-first.md", "---\ntitle: First\n---\nA typo fixed.\n")
    assert settle(sandbox) == ["First"]
    save_atomically(posts / "2024-01-01-first.md", "---\ntitle: First\n---\nA typo fixed.\n")
    assert settle(sandbox) == ["First"]
    os.replace(posts / "2024-01-01-first.md", posts / "2024-01-09-first.md")
    assert settle(sandbox) == ["First"]
    assert daemon.stop() == 0
    status = json.loads(run_syncd("status", "--json", "--config", str(blog)).stdout)["posts"]
    assert [(p["source"], p["state"]) for p in status] == [
        ("_posts/2024-01-09-first.md", "changed")]
    assert "its URL changed" in daemon.log()
    # The edit is reported once, not again on the next save of the same text or the rename.
    assert daemon.log().count("edited since it went to Medium") == 1


def test_a_future_post_goes_out_when_its_time_comes(
    blog: Path, sandbox: Sandbox, start_daemon: Callable[..., Daemon]
) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=4)
    (blog.parent / "site/_posts" / f"{when:%Y-%m-%d}-soon.md").write_text(
        f"---\ntitle: Soon\ndate: {when:%Y-%m-%d %H:%M:%S} +0000\n---\nOn time.\n")
    start_daemon(blog)
    assert "Soon" not in titles(sandbox)
    wait_for(lambda: "Soon" in titles(sandbox), timeout_s=20, what="the future post")
    received = dt.datetime.fromisoformat(
        next(p for p in sandbox.posts() if p["request"]["title"] == "Soon")["received_at"])
    assert received >= when.replace(microsecond=0)


def test_sigterm_mid_pass_finishes_the_request_and_exits_0(
    tmp_path: Path, sandbox: Sandbox, start_daemon: Callable[..., Daemon]
) -> None:
    posts = {f"_posts/2024-01-{i + 1:02d}-p{i}.md": f"---\ntitle: P{i}\n---\nx\n"
             for i in range(5)}
    make_site(tmp_path / "site", posts)
    config = write_config(tmp_path, sandbox.api_url, extra=WATCH)
    requests.post(f"{sandbox.url}/_sandbox/faults",
                  json={"path": "/v1/users/*/posts", "delay_s": 1.0, "times": 5},
                  timeout=5).raise_for_status()
    daemon = start_daemon(config, ready=False)
    wait_for(lambda: "P0" in titles(sandbox) or daemon.proc.poll() is not None,
             what="the first create")
    started = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - started < 5
    ledger = json.loads((tmp_path / "state/ledger.json").read_text())
    recorded = {d["canonical_url"]: d["state"] for d in ledger["posts"].values()}
    sent = [p["request"]["canonicalUrl"] for p in sandbox.posts()]
    assert len(sent) == len(set(sent)) < 5
    assert all(recorded.get(url) == "posted" for url in sent), (recorded, sent)
    assert "in-doubt" not in recorded.values() and "posting" not in recorded.values()
    # The rest go out on the next start, each once.
    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=5)
    again = start_daemon(config)
    wait_for(lambda: len(sandbox.posts()) == 5, what="all five")
    assert sorted(settle(sandbox)) == [f"P{i}" for i in range(5)]
    assert again.stop() == 0


def test_a_second_instance_exits_4(blog: Path, start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon(blog)
    for args in ([], ["--once"]):
        other = run_syncd(*args, "--config", str(blog), env={"MEDIUM_TOKEN": TEST_TOKEN},
                          timeout=30)
        assert other.returncode == 4, other.stderr
        assert f"in use by another syncd (pid {daemon.proc.pid})" in other.stderr
    assert daemon.stop() == 0


def test_sd_notify_ready_status_watchdog_and_stopping(
    blog: Path, start_daemon: Callable[..., Daemon]
) -> None:
    daemon = start_daemon(blog, env={"WATCHDOG_USEC": "200000"})
    time.sleep(0.6)
    messages = daemon.read_notify()
    ready = next(m for m in messages if "READY=1" in m)
    assert "STATUS=watching " in ready
    assert sum("WATCHDOG=1" in m for m in messages) >= 2
    assert any(m.startswith("STATUS=") for m in messages)
    assert daemon.stop() == 0
    assert any("STOPPING=1" in m for m in daemon.read_notify())


def test_sighup_reloads_the_config(blog: Path, sandbox: Sandbox,
                                   start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon(blog)
    wait_for(lambda: titles(sandbox) == ["First"], what="the catch-up pass")
    blog.write_text(blog.read_text().replace("[sync]", 'publish_status = "public"\n\n[sync]'))
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "config reloaded" in daemon.log(), what="the reload")
    (blog.parent / "site/_posts/2024-04-01-after.md").write_text("---\ntitle: After\n---\nx\n")
    wait_for(lambda: "After" in titles(sandbox), what="the post after the reload")
    statuses = {p["request"]["title"]: p["request"]["publishStatus"] for p in sandbox.posts()}
    assert statuses == {"First": "draft", "After": "public"}
    blog.write_text(blog.read_text().replace('"public"', '"loud"'))
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "the config was not reloaded" in daemon.log(), what="the refusal")
    assert daemon.proc.poll() is None
    assert daemon.stop() == 0


def test_a_post_that_does_not_parse_yet_waits_for_its_next_save(
    blog: Path, sandbox: Sandbox, start_daemon: Callable[..., Daemon]
) -> None:
    daemon = start_daemon(blog)
    wait_for(lambda: titles(sandbox) == ["First"], what="the catch-up pass")
    path = blog.parent / "site/_posts/2024-05-01-draft.md"
    path.write_text("---\ntitle: [unfinished\n---\nx\n")
    assert settle(sandbox) == ["First"]
    save_atomically(path, "---\ntitle: Finished\n---\nNow it parses.\n")
    wait_for(lambda: "Finished" in titles(sandbox), what="the fixed post")
    assert daemon.log().count("2024-05-01-draft.md: cannot be read") == 1
    assert daemon.stop() == 0


def test_the_daily_limit_is_waited_out_not_hammered(
    blog: Path, sandbox: Sandbox, start_daemon: Callable[..., Daemon]
) -> None:
    daemon = start_daemon(blog)
    wait_for(lambda: titles(sandbox) == ["First"], what="the catch-up pass")
    requests.post(f"{sandbox.url}/_sandbox/faults", timeout=5, json={
        "path": "/v1/users/*/posts", "status": 429, "times": 1, "headers": {"Retry-After": "2"},
        "message": "sandbox has reached the rate limit for publishing today."},
    ).raise_for_status()
    (blog.parent / "site/_posts/2024-06-01-later.md").write_text("---\ntitle: Later\n---\nx\n")
    wait_for(lambda: "daily limit" in daemon.log(), what="the 429")
    refused_at = time.monotonic()
    wait_for(lambda: "Later" in titles(sandbox), what="the post after Retry-After")
    assert time.monotonic() - refused_at >= 1.5
    assert titles(sandbox).count("Later") == 1
    assert daemon.stop() == 0


def test_while_the_daily_limit_holds_no_create_is_attempted(
    tmp_path: Path, start_daemon: Callable[..., Daemon]
) -> None:
    sandbox = Sandbox(host="127.0.0.1", port=0, tokens=[TEST_TOKEN], daily_limit=2)
    sandbox.start()
    try:
        make_site(tmp_path / "site", ONE_POST)
        config = write_config(tmp_path, sandbox.api_url, extra=WATCH)
        daemon = start_daemon(config)
        wait_for(lambda: titles(sandbox) == ["First"], what="the catch-up pass")
        posts = tmp_path / "site/_posts"
        for name in ("a", "b", "c"):
            (posts / f"2024-07-0{ord(name) - 96}-{name}.md").write_text(
                f"---\ntitle: {name}\n---\nx\n")
            time.sleep(DEBOUNCE_S * 2)
        wait_for(lambda: "posts wait; the next goes in" in daemon.log(), what="the hold")
        settle(sandbox)
        refusals = daemon.log().count("not posted, Medium's daily limit")
        assert refusals == 1, daemon.log()
        assert len(sandbox.posts()) == 2
        assert daemon.stop() == 0
    finally:
        sandbox.stop()


def test_the_first_run_guard_waits_for_the_decision_without_exiting(
    tmp_path: Path, sandbox: Sandbox, start_daemon: Callable[..., Daemon]
) -> None:
    posts = {f"_posts/2020-0{i + 1}-01-old-{i}.md": f"---\ntitle: Old {i}\n---\nx\n"
             for i in range(6)}
    make_site(tmp_path / "site", posts)
    config = write_config(tmp_path, sandbox.api_url, extra=WATCH, first_run_limit=3)
    daemon = start_daemon(config)
    assert "first run" in daemon.log()
    assert any("waiting: a first run needs your decision" in m for m in daemon.read_notify())
    adopted = run_syncd("adopt", "--all", "--config", str(config))
    assert adopted.returncode == 0, adopted.stderr
    (tmp_path / "site/_posts/2026-01-01-new.md").write_text("---\ntitle: New\n---\nx\n")
    wait_for(lambda: titles(sandbox) == ["New"], what="only the new post")
    assert settle(sandbox) == ["New"]
    assert daemon.proc.poll() is None
    assert daemon.stop() == 0


QUEUE_LIMIT = Path("/proc/sys/fs/inotify/max_queued_events")


def test_an_inotify_overflow_triggers_a_rescan_not_a_lost_post(
    tmp_path: Path, start_daemon: Callable[..., Daemon]
) -> None:
    """The kernel's event queue is shrunk for the test so that a burst really overflows it."""
    sandbox = Sandbox(host="127.0.0.1", port=0, tokens=[TEST_TOKEN], daily_limit=0)
    sandbox.start()
    make_site(tmp_path / "site", ONE_POST)
    config = write_config(tmp_path, sandbox.api_url, first_run_limit=1000,
                          extra="\n[watch]\ndebounce_s = 0.6\nrescan_s = 3600\n")
    original = QUEUE_LIMIT.read_text()
    try:
        QUEUE_LIMIT.write_text("16\n")
        daemon = start_daemon(config)
        wait_for(lambda: titles(sandbox) == ["First"], what="the catch-up pass")
        os.kill(daemon.proc.pid, signal.SIGSTOP)  # nobody reads the queue while it fills
        posts = tmp_path / "site/_posts"
        for i in range(60):
            (posts / f"2022-01-01-burst-{i}.md").write_text(f"---\ntitle: Burst {i}\n---\nx\n")
        os.kill(daemon.proc.pid, signal.SIGCONT)
        wait_for(lambda: len(sandbox.posts()) == 61, timeout_s=30, what="61 posts")
        assert "inotify queue overflow" in daemon.log()
        assert len(set(settle(sandbox))) == 61
        assert daemon.stop() == 0
    finally:
        QUEUE_LIMIT.write_text(original)
        sandbox.stop()


def test_a_new_folder_and_a_new_permalink_are_followed(
    blog: Path, sandbox: Sandbox, start_daemon: Callable[..., Daemon]
) -> None:
    daemon = start_daemon(blog)
    wait_for(lambda: titles(sandbox) == ["First"], what="the catch-up pass")
    folder = blog.parent / "site/_posts/2024"
    folder.mkdir()
    (folder / "2024-08-01-nested.md").write_text("---\ntitle: Nested\n---\nIn a new folder.\n")
    wait_for(lambda: "Nested" in titles(sandbox), what="the post in a new folder")
    config_yml = blog.parent / "site/_config.yml"
    config_yml.write_text(config_yml.read_text() + "permalink: /:year/:title/\n")
    wait_for(lambda: "its URL changed" in daemon.log() or "changed URL" in daemon.log(),
             what="the move report")
    assert settle(sandbox) == ["First", "Nested"]
    assert daemon.stop() == 0


def test_own_ledger_writes_do_not_wake_the_service(
    tmp_path: Path, sandbox: Sandbox, start_daemon: Callable[..., Daemon]
) -> None:
    """A ledger folder whose name starts like the site's (blog, blog-state) included."""
    make_site(tmp_path / "blog", ONE_POST)
    config = tmp_path / "syncd.toml"
    config.write_text(
        f'[site]\ngenerator = "jekyll"\nroot = "blog"\n[medium]\napi_url = "{sandbox.api_url}"'
        f'\n[sync]\nledger = "blog-state/ledger.json"\n{WATCH}')
    daemon = start_daemon(config)
    wait_for(lambda: titles(sandbox) == ["First"], what="the catch-up pass")
    time.sleep(DEBOUNCE_S * 3)
    passes = daemon.log().count("post files,")
    time.sleep(DEBOUNCE_S * 5)
    assert daemon.log().count("post files,") == passes
    assert daemon.stop() == 0


def test_a_pass_reads_only_the_changed_posts_and_the_parse_cache_is_kept(
    blog: Path, sandbox: Sandbox, start_daemon: Callable[..., Daemon]
) -> None:
    time.sleep(SETTLE_S + 0.1)  # the cache trusts no file changed in the last SETTLE_S
    daemon = start_daemon(blog)
    wait_for(lambda: titles(sandbox) == ["First"], what="the catch-up pass")
    opens = OpenWatch(blog.parent / "site/_posts")
    try:
        save_atomically(blog.parent / "site/_posts/2024-02-01-second.md",
                        "---\ntitle: Second\n---\nSaved by an editor.\n")
        wait_for(lambda: titles(sandbox) == ["First", "Second"], what="the second post")
        assert "2024-01-01-first.md" not in opens.opened()
    finally:
        opens.close()
    assert daemon.stop() == 0
    store = json.loads((blog.parent / "state/parse-cache.ledger.json").read_text())
    assert sorted(Path(name).name for name in store["files"]) == ["2024-01-01-first.md"]


# Passes driven by the changed paths -------------------------------------------------------


def test_a_save_is_judged_alone_and_a_refused_post_is_retried_with_the_next_save(
    blog: Path, sandbox: Sandbox, start_daemon: Callable[..., Daemon]
) -> None:
    """A save's pass reads and judges the saved file, plus whatever earlier passes left
    due: a post Medium refused goes again with the next save, whatever file that is."""
    daemon = start_daemon(blog)
    wait_for(lambda: titles(sandbox) == ["First"], what="the catch-up pass")
    requests.post(f"{sandbox.url}/_sandbox/faults", timeout=5, json={
        "path": "/v1/users/*/posts", "status": 400, "message": "Bad post", "times": 1,
    }).raise_for_status()
    posts = blog.parent / "site/_posts"
    save_atomically(posts / "2024-02-01-refused.md", "---\ntitle: Refused\n---\nOnce.\n")
    wait_for(lambda: "Medium refused the post" in daemon.log(), what="the refusal")
    assert "judging 1 changed posts and 0 still due" in daemon.log()
    save_atomically(posts / "2024-03-01-later.md", "---\ntitle: Later\n---\nThen.\n")
    wait_for(lambda: sorted(titles(sandbox)) == ["First", "Later", "Refused"],
             what="the refused post, sent again with the next save")
    assert "judging 1 changed posts and 1 still due" in daemon.log()
    assert sorted(settle(sandbox)) == ["First", "Later", "Refused"]
    # Medium was asked whose token it is once, not once per pass.
    assert daemon.log().count("authenticated as") == 1
    assert daemon.stop() == 0


def test_a_folder_moved_into_the_site_is_read_in_full(
    tmp_path: Path, blog: Path, sandbox: Sandbox, start_daemon: Callable[..., Daemon]
) -> None:
    """A folder renamed into the site brings its files without events of their own, and
    a new `notes/_posts` is a post folder no earlier read knew."""
    daemon = start_daemon(blog)
    wait_for(lambda: titles(sandbox) == ["First"], what="the catch-up pass")
    outside = tmp_path / "elsewhere" / "notes"
    (outside / "_posts").mkdir(parents=True)
    (outside / "_posts" / "2023-05-01-moved-in.md").write_text(
        "---\ntitle: Moved in\n---\nHi.\n")
    os.rename(outside, blog.parent / "site/notes")
    wait_for(lambda: "Moved in" in titles(sandbox), what="the post in the moved folder")
    assert settle(sandbox) == ["First", "Moved in"]
    assert daemon.stop() == 0


def test_a_ledger_change_by_another_command_makes_the_next_pass_judge_every_post(
    blog: Path, sandbox: Sandbox, start_daemon: Callable[..., Daemon]
) -> None:
    """`syncd resolve --not-posted` on a post in doubt, while the service runs: the post
    goes out without waiting for the periodic rescan."""
    daemon = start_daemon(blog)
    wait_for(lambda: titles(sandbox) == ["First"], what="the catch-up pass")
    requests.post(f"{sandbox.url}/_sandbox/faults", timeout=5, json={
        "path": "/v1/users/*/posts", "drop": "before", "times": 1,
    }).raise_for_status()
    save_atomically(blog.parent / "site/_posts/2024-02-01-second.md",
                    "---\ntitle: Second\n---\nSaved.\n")
    wait_for(lambda: "IN DOUBT" in daemon.log(), what="the post in doubt")
    assert titles(sandbox) == ["First"]
    result = run_syncd("resolve", "_posts/2024-02-01-second.md", "--not-posted",
                       "--config", str(blog))
    assert result.returncode == 0, result.stderr
    wait_for(lambda: titles(sandbox) == ["First", "Second"], what="the resolved post")
    assert settle(sandbox) == ["First", "Second"]
    assert daemon.stop() == 0
