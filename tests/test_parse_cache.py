"""The parse cache the service keeps between passes: unchanged files are not read again.

Whether a file was read is observed from outside, by the kernel: an inotify watch on the
posts folder reports every ``open`` of a file in it. (Taking the read permission away would
not do: syncd's tests run as root here, and a ``chmod`` changes the file's ctime, which is
part of the cache key.) Files written by a test are a few milliseconds old, which the cache
rightly refuses to trust (same-tick edits), so most tests give it a clock a minute ahead.
"""

from __future__ import annotations

import ctypes
import os
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.sites import gatsby, jekyll
from syncd.sites.parsecache import ParseCache

IN_OPEN = 0x20
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
