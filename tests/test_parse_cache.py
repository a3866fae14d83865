"""The parse cache the service keeps between passes: unchanged files are not read again.

Whether a file was read is observed from outside, by the kernel: an inotify watch on the
posts folder reports every ``open`` of a file in it. (Taking the read permission away would
not do: syncd's tests run as root here, and a ``chmod`` changes the file's ctime, which is
part of the cache key.) Files written by a test are a few milliseconds old, which the cache
rightly refuses to trust (same-tick edits), so most tests give it a clock a minute ahead.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import json
import os
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEST_TOKEN
from sitekit import make_site, run_syncd, write_config

from syncd.engine import Rules, fingerprint, plan
from syncd.render import render_post
from syncd.render_context import RenderContext
from syncd.sandbox import Sandbox
from syncd.sites import gatsby, jekyll
from syncd.sites.parsecache import SETTLE_S, ParseCache, RestoredFrontMatter

IN_OPEN = 0x20
NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
ENV = {"MEDIUM_TOKEN": TEST_TOKEN}
CONFIG = "url: https://example.com\ntimezone: UTC\n"
POSTS = {
    "_posts/2024-01-01-one.md": "---\ntitle: One\n---\nFirst.\n",
    "_posts/2024-01-02-two.md": "---\ntitle: Two\n---\nSecond.\n",
    "_posts/2024-01-03-broken.md": "---\ntitle: [unclosed\n---\nBroken.\n",
}


class OpenWatch:
    """The names of the files opened in one folder, as inotify reports them."""

    def __init__(self, folder: Path) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, os.strerror(ctypes.get_errno())
        assert libc.inotify_add_watch(self.fd, os.fsencode(folder), IN_OPEN) >= 0

    def opened(self) -> list[str]:
        """Files opened since the last call (the kernel queues the events at open time)."""
        names = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return sorted(names)
            offset = 0
            while offset < len(data):
                _wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16: offset + 16 + length].rstrip(b"\0").decode()
                if mask & IN_OPEN and name:
                    names.append(name)
                offset += 16 + length

    def close(self) -> None:
        os.close(self.fd)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    for relative, text in {"_config.yml": CONFIG, **POSTS}.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def watch(site: Path) -> Iterator[OpenWatch]:
    opens = OpenWatch(site / "_posts")
    yield opens
    opens.close()


def later() -> float:
    """A clock a minute ahead: the files just written count as settled."""
    return time.time() + 60


def summary(scan: jekyll.SiteScan) -> dict[str, str]:
    found = {post.source: f"{post.title} {post.canonical_url}" for post in scan.posts}
    found.update({error.source: f"error: {error.reason}" for error in scan.errors})
    return found


def test_a_second_scan_reads_only_the_changed_file(site: Path, watch: OpenWatch) -> None:
    cache = ParseCache(clock=later)
    first = jekyll.read_site(site, cache=cache)
    assert watch.opened() == ["2024-01-01-one.md", "2024-01-02-two.md", "2024-01-03-broken.md"]
    assert sorted(summary(first)) == sorted(POSTS)

    changed = site / "_posts/2024-01-02-two.md"
    changed.write_text("---\ntitle: Two, edited\n---\nSecond.\n", encoding="utf-8")
    watch.opened()
    second = jekyll.read_site(site, cache=cache)

    assert watch.opened() == ["2024-01-02-two.md"]
    assert summary(second) == {**summary(first), "_posts/2024-01-02-two.md":
                               "Two, edited https://example.com/2024/01/02/two.html"}
    assert (cache.hits, cache.misses) == (2, 1)


def test_without_a_cache_every_scan_reads_every_file(site: Path, watch: OpenWatch) -> None:
    jekyll.read_site(site)
    watch.opened()
    jekyll.read_site(site)
    assert len(watch.opened()) == len(POSTS)


def test_a_file_changed_in_the_last_seconds_is_read_again(site: Path, watch: OpenWatch) -> None:
    cache = ParseCache()  # the real clock: every file here was written a moment ago
    jekyll.read_site(site, cache=cache)
    watch.opened()
    jekyll.read_site(site, cache=cache)
    assert len(watch.opened()) == len(POSTS)


def test_a_put_back_mtime_does_not_hide_an_edit(site: Path, watch: OpenWatch) -> None:
    cache = ParseCache(clock=later)
    path = site / "_posts/2024-01-01-one.md"
    before = path.stat()
    jekyll.read_site(site, cache=cache)
    path.write_text("---\ntitle: Six\n---\nFirst.\n", encoding="utf-8")  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `rsync -t` would
    watch.opened()

    scan = jekyll.read_site(site, cache=cache)

    assert watch.opened() == ["2024-01-01-one.md"]  # the ctime moved
    assert summary(scan)["_posts/2024-01-01-one.md"].startswith("Six ")


def test_a_replaced_file_is_read_again(site: Path, watch: OpenWatch) -> None:
    cache = ParseCache(clock=later)
    path = site / "_posts/2024-01-01-one.md"
    jekyll.read_site(site, cache=cache)
    replacement = site / "_posts/.one.tmp"
    replacement.write_text("---\ntitle: Ten\n---\nFirst.\n", encoding="utf-8")
    os.replace(replacement, path)  # as an editor saves
    watch.opened()

    scan = jekyll.read_site(site, cache=cache)

    assert watch.opened() == ["2024-01-01-one.md"]
    assert summary(scan)["_posts/2024-01-01-one.md"].startswith("Ten ")


def test_a_new_reader_config_reads_everything_again(site: Path, watch: OpenWatch) -> None:
    cache = ParseCache(clock=later)
    jekyll.read_site(site, cache=cache)
    (site / "_config.yml").write_text(CONFIG + "permalink: pretty\n", encoding="utf-8")
    watch.opened()

    scan = jekyll.read_site(site, cache=cache)

    assert len(watch.opened()) == len(POSTS)
    assert summary(scan)["_posts/2024-01-01-one.md"] == \
        "One https://example.com/2024/01/01/one/"
    jekyll.read_site(site, cache=cache)
    assert watch.opened() == []  # and the same config again: nothing


def test_a_fixed_file_and_a_deleted_one(site: Path, watch: OpenWatch) -> None:
    cache = ParseCache(clock=later)
    first = jekyll.read_site(site, cache=cache)
    assert summary(first)["_posts/2024-01-03-broken.md"].startswith("error: bad YAML")
    (site / "_posts/2024-01-03-broken.md").write_text("---\ntitle: Fixed\n---\nB.\n",
                                                      encoding="utf-8")
    (site / "_posts/2024-01-01-one.md").unlink()
    watch.opened()

    scan = jekyll.read_site(site, cache=cache)

    assert watch.opened() == ["2024-01-03-broken.md"]
    assert summary(scan) == {
        "_posts/2024-01-02-two.md": "Two https://example.com/2024/01/02/two.html",
        "_posts/2024-01-03-broken.md": "Fixed https://example.com/2024/01/03/broken.html",
    }
    assert len(cache) == 2


def test_gatsby_reads_only_the_changed_file(tmp_path: Path) -> None:
    root = tmp_path / "site"
    blog = root / "content" / "blog"
    for name in ("hello", "world"):
        (blog / name).mkdir(parents=True)
        (blog / name / "index.md").write_text(f"---\ntitle: {name}\ndate: 2024-01-01\n---\nHi.\n",
                                              encoding="utf-8")
    (root / "gatsby-config.js").write_text(
        'module.exports = { siteMetadata: { siteUrl: "https://example.com" } }\n',
        encoding="utf-8")
    watches = {name: OpenWatch(blog / name) for name in ("hello", "world")}
    try:
        cache = ParseCache(clock=later)
        gatsby.read_site(root, cache=cache)
        assert [w.opened() for w in watches.values()] == [["index.md"], ["index.md"]]
        (blog / "world" / "index.md").write_text("---\ntitle: World!\ndate: 2024-01-01\n---\n",
                                                 encoding="utf-8")
        watches["world"].opened()

        scan = gatsby.read_site(root, cache=cache)

        assert [w.opened() for w in watches.values()] == [[], ["index.md"]]
        assert sorted(post.title for post in scan.posts) == ["World!", "hello"]
    finally:
        for opens in watches.values():
            opens.close()


# The store beside the ledger ------------------------------------------------------------

RICH = {
    "_posts/2024-02-01-rich.md": (
        "---\ntitle: Rich\ndate: 2024-02-01 10:30:00 +0200\ntags: [a, b]\ncategories: x y\n"
        "syndicate: true\nextra: {k: [1, 2]}\n---\nLiquid {{ page.date }} and *text*.\n"
    ),
    "_posts/2024-02-02-out.md": "---\ntitle: Out\nsyndicate: false\n---\nNo.\n",
}


def stored_scan(site: Path, store: Path) -> jekyll.SiteScan:
    """A scan by a fresh cache that starts from ``store`` (as a new process would)."""
    cache = ParseCache(store=store, clock=later)
    scan = jekyll.read_site(site, cache=cache)
    cache.save()
    return scan


def plan_of(scan: jekyll.SiteScan) -> list[dict[str, object]]:
    return [item.to_json() for item in plan(scan, {}, NOW, Rules())]


def test_a_fresh_cache_starts_from_the_store_and_reads_nothing(site: Path, watch: OpenWatch,
                                                               tmp_path: Path) -> None:
    for relative, text in RICH.items():
        (site / relative).write_text(text, encoding="utf-8")
    store = tmp_path / "state" / "parse-cache.ledger.json"
    first = stored_scan(site, store)
    watch.opened()

    second = stored_scan(site, store)

    assert watch.opened() == []
    assert plan_of(second) == plan_of(first)
    assert [fingerprint(p) for p in second.posts] == [fingerprint(p) for p in first.posts]
    assert {item["reason"] for item in plan_of(second)} >= {"opted-out", "new"}
    assert watch.opened() == []  # judging them read no file either


def test_a_restored_post_is_the_post_when_it_is_rendered(site: Path, tmp_path: Path) -> None:
    for relative, text in RICH.items():
        (site / relative).write_text(text, encoding="utf-8")
    store = tmp_path / "parse-cache.ledger.json"
    fresh = {p.source: p for p in stored_scan(site, store).posts}
    restored = {p.source: p for p in stored_scan(site, store).posts}
    rich = "_posts/2024-02-01-rich.md"

    assert isinstance(restored[rich].front_matter, RestoredFrontMatter)
    assert restored[rich] == fresh[rich]  # every field, body and front matter read again
    assert type(restored[rich].date) is type(fresh[rich].date)
    assert restored[rich].date.tzinfo is fresh[rich].date.tzinfo
    context = RenderContext.build(list(fresh.values()))
    assert render_post(restored[rich], context) == render_post(fresh[rich], context)


def test_a_corrupt_store_is_read_as_no_store_and_written_again(
        site: Path, watch: OpenWatch, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = tmp_path / "parse-cache.ledger.json"
    store.write_text('{"syncd-parse-cache": 1, "identity": ', encoding="utf-8")

    scan = stored_scan(site, store)

    assert len(watch.opened()) == len(POSTS)
    assert sorted(summary(scan)) == sorted(POSTS)
    assert "is corrupt" in caplog.text
    stored_scan(site, store)
    assert watch.opened() == []


def test_a_store_made_for_another_config_is_not_used(site: Path, watch: OpenWatch,
                                                     tmp_path: Path) -> None:
    store = tmp_path / "parse-cache.ledger.json"
    stored_scan(site, store)
    (site / "_config.yml").write_text("url: https://moved.example\ntimezone: UTC\n")
    watch.opened()

    scan = stored_scan(site, store)

    assert len(watch.opened()) == len(POSTS)
    assert summary(scan)["_posts/2024-01-01-one.md"] == \
        "One https://moved.example/2024/01/01/one.html"


def test_a_changed_file_is_read_even_with_a_store(site: Path, watch: OpenWatch,
                                                  tmp_path: Path) -> None:
    store = tmp_path / "parse-cache.ledger.json"
    stored_scan(site, store)
    (site / "_posts/2024-01-02-two.md").write_text("---\ntitle: Two again\n---\nSecond.\n")
    watch.opened()

    scan = stored_scan(site, store)

    assert watch.opened() == ["2024-01-02-two.md"]
    assert summary(scan)["_posts/2024-01-02-two.md"].startswith("Two again ")


def test_once_keeps_the_store_and_plan_and_dry_runs_only_read_it(tmp_path: Path,
                                                                 sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", {"_posts/2024-01-01-first.md": "---\ntitle: First\n---\nA.\n",
                                  "_posts/2099-01-01-later.md": "---\ntitle: Later\n---\nB.\n"})
    config = write_config(tmp_path, sandbox.api_url)
    store = tmp_path / "state" / "parse-cache.ledger.json"
    time.sleep(SETTLE_S + 0.1)  # files younger than this are rightly not kept
    assert run_syncd("plan", "--config", str(config)).returncode == 0
    assert run_syncd("--once", "--dry-run", "--config", str(config), env=ENV).returncode == 0
    assert not store.exists()
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 0
    assert store.exists()
    assert len(sandbox.posts()) == 1
    opens = OpenWatch(tmp_path / "site" / "_posts")
    try:
        planned = run_syncd("plan", "--json", "--config", str(config))
        status = run_syncd("status", "--json", "--config", str(config))
        diffed = run_syncd("diff", "--config", str(config))
        acked = run_syncd("ack", "--all", "--config", str(config))
        assert opens.opened() == []
    finally:
        opens.close()
    assert [p["state"] for p in json.loads(status.stdout)["posts"]] == ["posted"]
    assert "No synced post was edited" in diffed.stdout and acked.returncode == 0
    assert [(i["source"], i["reason"]) for i in json.loads(planned.stdout)] == [
        ("_posts/2024-01-01-first.md", "synced"), ("_posts/2099-01-01-later.md", "future")]
    store.unlink()  # always safe: the next run reads the site in full
    assert run_syncd("plan", "--json", "--config", str(config)).stdout == planned.stdout


def test_a_new_folder_a_defaults_wildcard_matches_reads_the_posts_again(site: Path) -> None:
    (site / "_config.yml").write_text(CONFIG + "defaults:\n  - scope: {path: '_posts/*4'}\n"
                                      "    values: {permalink: /w/:title/}\n")
    cache = ParseCache(clock=later)
    before = summary(jekyll.read_site(site, cache=cache))
    (site / "_posts/2024").mkdir()  # Jekyll: the scope now applies to _posts/2024-*

    after = summary(jekyll.read_site(site, cache=cache))

    assert before["_posts/2024-01-01-one.md"] == "One https://example.com/2024/01/01/one.html"
    assert after["_posts/2024-01-01-one.md"] == "One https://example.com/w/one/"
    assert after == summary(jekyll.read_site(site))
