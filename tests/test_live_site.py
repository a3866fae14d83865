"""The service's site copy, patched from changed paths, against a full read of the same files.

:class:`syncd.sites.live.LiveSite` must give the scan a fresh full read gives, after any
sequence of the file operations editors, ``git`` and people make, or say it cannot
(FullReadNeeded). Random sequences on real files, both generators, checked after every
step; plus the cases that must hand over to a full read, and that it reads only what changed.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sitekit import make_site
from test_parse_cache import OpenWatch

from syncd.config import SiteConfig
from syncd.engine import Rules, fingerprint, plan
from syncd.ledger import POSTED, Entry
from syncd.model import SiteScan
from syncd.sites import read_site
from syncd.sites.live import FullReadNeeded, LiveSite
from syncd.sites.parsecache import ParseCache


def summary(scan: SiteScan) -> dict[str, Any]:
    """Everything the engine judges a file by."""
    found: dict[str, Any] = {}
    for post in scan.posts:
        found[post.source] = ("post", post.canonical_url, post.title, post.date, post.tags,
                              post.published, post.draft, post.warnings, post.source_hash)
    for error in scan.errors:
        found[error.source] = ("error", error.reason)
    return found


def post_text(rng: random.Random, title: str) -> str:
    extra = rng.choice(["", "permalink: /same/\n", "published: false\n", "tags: [a, b]\n",
                        "date: 2023-05-06 07:08:09 +0000\n"])
    if rng.random() < 0.08:
        return f"---\ntitle: [{title}\n---\nbroken YAML\n"
    return f"---\ntitle: {title}\n{extra}---\nText of {title} {rng.random()}.\n"


class Operations:
    """Random changes to a site; each returns the paths the watcher would report, or None
    when a folder came or went (the service then reads the whole site)."""

    def __init__(self, root: Path, rng: random.Random, folders: list[str],
                 name: Callable[[random.Random, int], str]) -> None:
        self.root, self.rng, self.folders, self.name = root, rng, folders, name
        self.count = 0

    def files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file()
                      and not p.name.startswith(("_config", "gatsby-")))

    def create(self) -> list[str] | None:
        self.count += 1
        folder = self.root / self.rng.choice(self.folders)
        made_folder = not folder.exists()
        name = self.name(self.rng, self.count)
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(post_text(self.rng, f"Post {self.count}"), encoding="utf-8")
        return None if made_folder or path.parent != folder else [str(path)]

    def modify(self) -> list[str] | None:
        files = self.files()
        if not files:
            return self.create()
        path = self.rng.choice(files)
        self.count += 1
        path.write_text(post_text(self.rng, f"Edited {self.count}"), encoding="utf-8")
        return [str(path)]

    def save_through_temp(self) -> list[str] | None:
        files = self.files()
        if not files:
            return self.create()
        path = self.rng.choice(files)
        temp = path.with_name(f".{path.name}.swp")
        temp.write_text(post_text(self.rng, f"Saved {self.count}"), encoding="utf-8")
        os.replace(temp, path)
        return [str(temp), str(path)]

    def delete(self) -> list[str] | None:
        files = self.files()
        if not files:
            return []
        path = self.rng.choice(files)
        path.unlink()
        return [str(path)]

    def rename(self) -> list[str] | None:
        files = self.files()
        if not files:
            return []
        source = self.rng.choice(files)
        self.count += 1
        target = source.with_name(self.name(self.rng, self.count))
        os.replace(source, target)
        return [str(source), str(target)]

    def any(self) -> list[str] | None:
        step = self.rng.choice([self.create, self.create, self.modify, self.save_through_temp,
                                self.delete, self.rename])
        return step()


def jekyll_name(rng: random.Random, n: int) -> str:
    kind = rng.random()
    if kind < 0.7:
        return f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}-post-{n}.md"
    return rng.choice([f"undated-{n}.md", f".hidden-{n}.md", f"2024-01-01-backup-{n}.md~",
                       f"_under-{n}.md", f"2024-02-02-data-{n}.yml", f"2024-03-03-n{n}.markdown"])


def gatsby_name(rng: random.Random, n: int) -> str:
    return rng.choice([f"post-{n}.md", f"post-{n}.mdx", f"notes-{n}.txt", ".DS_Store",
                       f"post-{n}.MD", f"post-{n}.md.un~"])


def check_sequence(root: Path, site: SiteConfig, ops: Operations, steps: int) -> int:
    live = LiveSite(site, ParseCache())
    live.read_all()
    patched = 0
    for _ in range(steps):
        paths = ops.any()
        if paths is None:
            scan = live.read_all()
        else:
            try:
                scan, touched = live.read_changes(paths)
                patched += 1
            except FullReadNeeded:
                scan = live.read_all()
        expected = read_site(site)
        assert summary(scan) == summary(expected)
        # The indexes the live site keeps are the ones a plain scan computes.
        plain = SiteScan(scan.posts, scan.errors)
        assert {url: id(post) for url, post in scan.by_url.items()} == \
            {url: id(post) for url, post in plain.by_url.items()}
        assert {source: id(found) for source, found in scan.by_source.items()} == \
            {source: id(found) for source, found in plain.by_source.items()}
    return patched


@pytest.mark.parametrize("seed", range(6))
def test_jekyll_patched_scans_equal_full_reads(tmp_path: Path, seed: int) -> None:
    root = make_site(tmp_path / "site")
    (root / "_posts" / "2024").mkdir()
    (root / "notes" / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text(
        "url: https://blog.example\ntimezone: UTC\nexclude: [drafts-old]\n", encoding="utf-8")
    folders = ["_posts", "_posts/2024", "_posts/2025", "notes/_posts", "_drafts", "assets",
               "_posts/.git", "drafts-old/_posts"]
    ops = Operations(root, random.Random(seed), folders, jekyll_name)
    patched = check_sequence(root, SiteConfig("jekyll", root), ops, 40)
    assert patched >= 20  # most steps were single files, not full reads


@pytest.mark.parametrize("seed", range(4))
def test_gatsby_patched_scans_equal_full_reads(tmp_path: Path, seed: int) -> None:
    root = tmp_path / "site"
    blog = root / "content" / "blog"
    for folder in ("hello", "2024/world", "node_modules/pkg"):
        (blog / folder).mkdir(parents=True)
    (root / "gatsby-config.js").write_text(
        'module.exports = { siteMetadata: { siteUrl: "https://example.com" } }\n',
        encoding="utf-8")
    folders = ["content/blog", "content/blog/hello", "content/blog/2024/world",
               "content/blog/node_modules/pkg", "content/blog/new-one", "src/pages"]
    ops = Operations(root, random.Random(seed), folders, gatsby_name)
    patched = check_sequence(root, SiteConfig("gatsby", root), ops, 40)
    assert patched >= 20


def test_a_config_file_or_a_defaults_glob_hands_over_to_a_full_read(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    live = LiveSite(SiteConfig("jekyll", root), ParseCache())
    live.read_all()
    config = root / "_config.yml"
    config.write_text(config.read_text() + "permalink: /:title/\n", encoding="utf-8")
    with pytest.raises(FullReadNeeded):
        live.read_changes([str(config)])
    config.write_text(config.read_text() + 'defaults:\n  - scope: {path: "_posts/*"}\n'
                      "    values: {tags: [globbed]}\n", encoding="utf-8")
    live.read_all()
    new = root / "_posts" / "2024-09-09-new.md"
    new.write_text("---\ntitle: New\n---\nNew.\n", encoding="utf-8")
    with pytest.raises(FullReadNeeded):
        live.read_changes([str(new)])
    edited = root / "_posts" / "2024-01-05-first-steps.md"
    edited.write_text("---\ntitle: Edited\n---\nEdited.\n", encoding="utf-8")
    scan, touched = live.read_changes([str(edited)])  # an edit matches the same globs
    assert touched == {"_posts/2024-01-05-first-steps.md"}


def test_a_clash_made_or_undone_touches_both_posts(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", {
        "_posts/2024-01-01-a.md": "---\ntitle: A\npermalink: /a/\n---\nA.\n",
        "_posts/2024-01-02-b.md": "---\ntitle: B\npermalink: /b/\n---\nB.\n",
    })
    live = LiveSite(SiteConfig("jekyll", root), ParseCache())
    live.read_all()
    b = root / "_posts" / "2024-01-02-b.md"
    b.write_text("---\ntitle: B\npermalink: /a/\n---\nB.\n", encoding="utf-8")
    scan, touched = live.read_changes([str(b)])
    assert touched == {"_posts/2024-01-01-a.md", "_posts/2024-01-02-b.md"}
    assert not scan.posts and len(scan.errors) == 2
    b.write_text("---\ntitle: B\npermalink: /b/\n---\nB.\n", encoding="utf-8")
    scan, touched = live.read_changes([str(b)])
    assert touched == {"_posts/2024-01-01-a.md", "_posts/2024-01-02-b.md"}
    assert len(scan.posts) == 2


def test_a_change_reads_that_file_and_no_other(tmp_path: Path) -> None:
    posts = {f"_posts/2024-01-{day:02d}-p{day}.md": f"---\ntitle: P{day}\n---\nText.\n"
             for day in range(1, 21)}
    root = make_site(tmp_path / "site", posts)
    live = LiveSite(SiteConfig("jekyll", root), ParseCache())
    live.read_all()
    opens = OpenWatch(root / "_posts")
    try:
        new = root / "_posts" / "2024-02-01-new.md"
        new.write_text("---\ntitle: New\n---\nNew.\n", encoding="utf-8")
        edited = root / "_posts" / "2024-01-03-p3.md"
        edited.write_text("---\ntitle: P3 again\n---\nText.\n", encoding="utf-8")
        opens.opened()
        scan, touched = live.read_changes([str(new), str(edited)])
        assert sorted(opens.opened()) == ["2024-01-03-p3.md", "2024-02-01-new.md"]
    finally:
        opens.close()
    assert touched == {"_posts/2024-02-01-new.md", "_posts/2024-01-03-p3.md"}
    assert len(scan.posts) == 21


def test_a_plan_for_some_sources_is_the_full_plan_for_them(tmp_path: Path) -> None:
    """Moves are found over the whole site and their posts judged, asked for or not."""
    root = make_site(tmp_path / "site")
    scan = read_site(SiteConfig("jekyll", root))
    first = next(post for post in scan.posts if post.title == "First steps")
    # Synced under an old URL from a file since renamed: the post has moved.
    moved_from = Entry(canonical_url="https://blog.example/old/first.html",
                       source="_posts/2023-01-01-old-name.md", state=POSTED, title=first.title,
                       fingerprint=fingerprint(first))
    second = next(post for post in scan.posts if post.title == "Second thoughts")
    synced = Entry(canonical_url=second.canonical_url or "", source=second.source,
                   state=POSTED, title=second.title)
    entries = {e.canonical_url: e for e in (moved_from, synced)}
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    full = plan(scan, entries, now, Rules())
    rng = random.Random(1)
    sources = [item.source for item in full]
    for _ in range(20):
        only = set(rng.sample(sources, rng.randint(0, len(sources))))
        part = plan(scan, entries, now, Rules(), only)
        assert part == [item for item in full
                        if item.source in only or item.source == first.source]
    assert next(i for i in full if i.source == first.source).reason == "moved"
    shutil.rmtree(root)
