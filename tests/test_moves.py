"""A synced post whose URL changes is recognised, never posted again, and re-recorded."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from conftest import TEST_TOKEN
from sitekit import CONFIG_YML, make_site, run_syncd, write_config

from syncd.engine import Rules, fingerprint, plan
from syncd.ledger import POSTED, Entry
from syncd.model import Post, SiteScan
from syncd.sandbox import Sandbox

ENV = {"MEDIUM_TOKEN": TEST_TOKEN}
NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def post(source: str, url: str, title: str = "T", body: str = "words") -> Post:
    return Post(source=source, path=Path("/s") / source, canonical_url=url, title=title,
                date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), body=body)


def synced(p: Post, url: str | None = None, source: str | None = None) -> Entry:
    return Entry(canonical_url=url or p.canonical_url or "", source=source or p.source,
                 state=POSTED, title=p.title, fingerprint=fingerprint(p))


def reasons(posts: list[Post], entries: list[Entry]) -> dict[str, str]:
    items = plan(SiteScan(posts=tuple(posts)), {e.canonical_url: e for e in entries}, NOW,
                 Rules())
    return {i.source: i.reason for i in items}


def test_same_source_new_url_is_moved() -> None:
    now = post("_posts/2024-01-01-a.md", "https://e.com/new/a/")
    assert reasons([now], [synced(now, url="https://e.com/2024/01/01/a.html")]) == {
        now.source: "moved"}


def test_renamed_file_with_same_text_is_moved_even_with_other_spacing() -> None:
    before = post("_posts/2024-01-01-a.md", "https://e.com/2024/01/01/a.html", body="one two")
    after = post("_posts/2024-02-01-a.md", "https://e.com/2024/02/01/a.html",
                 body="one\n\n   two\n")
    assert reasons([after], [synced(before)]) == {after.source: "moved"}


def test_a_file_renamed_after_an_edit_is_moved_by_its_title() -> None:
    before = post("_posts/2024-01-01-a.md", "https://e.com/a.html", title="Hello",
                  body="first words")
    after = post("_posts/2024-02-01-a.md", "https://e.com/b.html", title="Hello",
                 body="edited words")
    assert reasons([after], [synced(before)]) == {after.source: "moved"}


def test_a_new_post_is_not_mistaken_for_a_move() -> None:
    old = post("_posts/2024-01-01-a.md", "https://e.com/a.html", body="old words")
    new = post("_posts/2024-02-01-b.md", "https://e.com/b.html", body="new words")
    assert reasons([old, new], [synced(old)]) == {old.source: "synced", new.source: "new"}
    # Same text but the old file is still there: a copy, not a move.
    copy = post("_posts/2024-03-01-c.md", "https://e.com/c.html", body="old words")
    assert reasons([old, copy], [synced(old)])[copy.source] == "new"


def test_one_old_entry_is_claimed_once() -> None:
    before = post("_posts/2024-01-01-a.md", "https://e.com/a.html")
    twin1 = post("_posts/2024-05-01-x.md", "https://e.com/x.html")
    twin2 = post("_posts/2024-05-02-y.md", "https://e.com/y.html")
    assert sorted(reasons([twin1, twin2], [synced(before)]).values()) == ["moved", "new"]


def _synced_blog(tmp_path: Path, sandbox: Sandbox, count: int) -> Path:
    posts = {f"_posts/2024-01-{i + 1:02d}-post-{i}.md": f"---\ntitle: Post {i}\n---\nText {i}.\n"
             for i in range(count)}
    make_site(tmp_path / "site", posts)
    config = write_config(tmp_path, sandbox.api_url)
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 0
    assert len(sandbox.posts()) == count
    return config


def test_a_site_wide_permalink_change_posts_nothing_and_says_so_once(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = _synced_blog(tmp_path, sandbox, 8)
    (tmp_path / "site/_config.yml").write_text(CONFIG_YML + "permalink: /blog/:title/\n")
    items = json.loads(run_syncd("plan", "--json", "--config", str(config)).stdout)
    assert {(i["action"], i["reason"]) for i in items} == {("skip", "moved")}
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    assert len(sandbox.posts()) == 8
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "8 synced posts changed URL at once" in warnings[0]
    status = json.loads(run_syncd("status", "--json", "--config", str(config)).stdout)["posts"]
    first = next(p for p in status if p["source"] == "_posts/2024-01-01-post-0.md")
    assert first["canonical_url"] == "https://blog.example/blog/post-0/"
    assert first["previous_urls"] == ["https://blog.example/2024/01/01/post-0.html"]
    assert first["state"] == "posted" and first["medium_url"]
    again = json.loads(run_syncd("plan", "--json", "--config", str(config)).stdout)
    assert {i["reason"] for i in again} == {"synced"}


def test_a_renamed_file_is_recognised_by_its_text(tmp_path: Path, sandbox: Sandbox) -> None:
    config = _synced_blog(tmp_path, sandbox, 2)
    site = tmp_path / "site/_posts"
    shutil.move(site / "2024-01-02-post-1.md", site / "2024-03-09-post-1.md")
    dry = run_syncd("--once", "--dry-run", "--config", str(config), env=ENV)
    assert "would record the new URL" in dry.stderr
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    assert ("_posts/2024-03-09-post-1.md: already synced, but its URL changed "
            "https://blog.example/2024/01/02/post-1.html → "
            "https://blog.example/2024/03/09/post-1.html") in result.stderr
    assert len(sandbox.posts()) == 2
    status = json.loads(run_syncd("status", "--json", "--config", str(config)).stdout)["posts"]
    assert sorted(p["source"] for p in status) == ["_posts/2024-01-01-post-0.md",
                                                   "_posts/2024-03-09-post-1.md"]
