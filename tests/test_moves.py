"""A synced post whose URL changes is recognised, never posted again, and re-recorded."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import replace
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


def test_a_title_alone_is_not_taken_for_a_move() -> None:
    before = post("_posts/2024-01-01-a.md", "https://e.com/a.html", title="Hello",
                  body="first words")
    after = post("_posts/2024-02-01-a.md", "https://e.com/b.html", title="Hello",
                 body="edited words")
    assert reasons([after], [synced(before)]) == {after.source: "maybe-moved"}


def test_a_new_post_of_the_same_title_never_takes_the_renamed_file_s_entry() -> None:
    before = post("_posts/2024-01-01-weekly.md", "https://e.com/a.html", title="Weekly notes",
                  body="week one")
    renamed = post("_posts/2024-01-09-weekly.md", "https://e.com/c.html", title="Weekly notes",
                   body="week one")
    new = post("_posts/2024-01-08-weekly.md", "https://e.com/b.html", title="Weekly notes",
               body="week two")
    assert reasons([new, renamed], [synced(before)]) == {renamed.source: "moved",
                                                         new.source: "new"}


def test_a_post_said_to_be_another_is_not_asked_about_again() -> None:
    before = post("_posts/2024-01-01-weekly.md", "https://e.com/a.html", title="Weekly notes",
                  body="week one")
    new = post("_posts/2024-01-08-weekly.md", "https://e.com/b.html", title="Weekly notes",
               body="week two")
    entry = replace(synced(before), distinct_urls=("https://e.com/b.html",))
    assert reasons([new], [entry]) == {new.source: "new"}


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


WEEK_ONE = "_posts/2024-01-05-weekly-notes.md"
WEEK_TWO = "_posts/2024-01-12-weekly-notes.md"


def _weekly_series(tmp_path: Path, sandbox: Sandbox) -> Path:
    """Week one posted, then its file deleted and week two written, with the same title."""
    make_site(tmp_path / "site", {
        WEEK_ONE: "---\ntitle: Weekly notes\n---\nRead a book about rivers and their towns.\n",
        "_posts/2024-01-06-other.md": "---\ntitle: Other\n---\nOther text.\n",
    })
    config = write_config(tmp_path, sandbox.api_url)
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 0
    (tmp_path / "site" / WEEK_ONE).unlink()
    (tmp_path / "site" / WEEK_TWO).write_text(
        "---\ntitle: Weekly notes\n---\nPlanted tomatoes, fixed the fence, baked bread.\n")
    return config


def _plan(config: Path) -> dict[str, tuple[str, str]]:
    items = json.loads(run_syncd("plan", "--json", "--config", str(config)).stdout)
    return {i["source"]: (i["action"], i["reason"]) for i in items}


def _status(config: Path) -> dict[str, dict[str, object]]:
    posts = json.loads(run_syncd("status", "--json", "--config", str(config)).stdout)["posts"]
    return {p["source"]: p for p in posts}


def test_a_new_post_with_a_recurring_title_is_held_then_posted_once_when_said_new(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = _weekly_series(tmp_path, sandbox)
    assert _plan(config)[WEEK_TWO] == ("skip", "maybe-moved")
    plan_text = run_syncd("plan", "--config", str(config)).stdout
    assert "maybe-moved" in plan_text and "syncd status" in plan_text
    held = run_syncd("--once", "--config", str(config), env=ENV)
    assert held.returncode == 1, held.stderr
    assert f"`syncd resolve {WEEK_TWO} --not-posted`" in held.stderr
    assert f"`syncd resolve {WEEK_TWO} --moved`" in held.stderr
    assert "1 held" in held.stderr
    assert len(sandbox.posts()) == 2
    assert WEEK_TWO not in _status(config)  # not marked synced, not given the old URL
    status = run_syncd("status", "--config", str(config)).stdout
    assert "maybe-moved" in status
    assert f"syncd resolve {WEEK_TWO} --not-posted" in status

    result = run_syncd("resolve", WEEK_TWO, "--not-posted", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "recorded as a new post" in result.stderr
    assert _plan(config)[WEEK_TWO] == ("post", "new")
    for _ in range(2):
        once = run_syncd("--once", "--config", str(config), env=ENV)
        assert once.returncode == 0, once.stderr
    sent = [p["request"] for p in sandbox.posts()]
    assert [r["title"] for r in sent].count("Weekly notes") == 2
    assert sum("Planted tomatoes" in r["content"] for r in sent) == 1
    status_now = _status(config)
    assert status_now[WEEK_TWO]["state"] == "posted"
    assert status_now[WEEK_TWO]["medium_url"] != status_now[WEEK_ONE]["medium_url"]


def test_a_post_held_as_maybe_moved_can_be_recorded_as_moved(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = _weekly_series(tmp_path, sandbox)
    old_url = _status(config)[WEEK_ONE]["medium_url"]
    result = run_syncd("resolve", WEEK_TWO, "--moved", "--config", str(config))
    assert result.returncode == 0, result.stderr
    once = run_syncd("--once", "--config", str(config), env=ENV)
    assert once.returncode == 0, once.stderr
    assert len(sandbox.posts()) == 2
    status = _status(config)
    assert WEEK_ONE not in status
    assert status[WEEK_TWO]["medium_url"] == old_url
    assert status[WEEK_TWO]["previous_urls"] == ["https://blog.example/2024/01/05/weekly-notes.html"]
    assert status[WEEK_TWO]["state"] == "changed"  # its text is not what Medium has


def test_a_renamed_file_with_a_small_edit_is_still_a_move(tmp_path: Path,
                                                          sandbox: Sandbox) -> None:
    words = " ".join(f"word{i}" for i in range(40))
    make_site(tmp_path / "site", {WEEK_ONE: f"---\ntitle: Weekly notes\n---\n{words} teh end.\n"})
    config = write_config(tmp_path, sandbox.api_url)
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 0
    (tmp_path / "site" / WEEK_ONE).unlink()
    (tmp_path / "site" / WEEK_TWO).write_text(
        f"---\ntitle: Weekly notes\n---\n{words} the end.\n")
    assert _plan(config)[WEEK_TWO] == ("skip", "moved")
    once = run_syncd("--once", "--config", str(config), env=ENV)
    assert once.returncode == 0, once.stderr
    assert "already synced, but its URL changed" in once.stderr
    assert len(sandbox.posts()) == 1
