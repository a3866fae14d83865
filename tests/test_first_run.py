"""The first run: an existing blog and an empty ledger must never flood Medium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import TEST_TOKEN
from sitekit import make_site, run_syncd, write_config

from syncd.sandbox import Sandbox

ENV = {"MEDIUM_TOKEN": TEST_TOKEN}


def blog_posts(count: int) -> dict[str, str]:
    return {
        f"_posts/20{20 + i // 12:02d}-{i % 12 + 1:02d}-15-post-{i}.md":
            f"---\ntitle: Post {i}\n---\nText of post {i}.\n"
        for i in range(count)
    }


@pytest.fixture
def old_blog(tmp_path: Path, sandbox: Sandbox) -> Path:
    make_site(tmp_path / "site", blog_posts(12))
    return write_config(tmp_path, sandbox.api_url, first_run_limit=3)


def plan(config: Path) -> dict[str, tuple[str, str]]:
    items = json.loads(run_syncd("plan", "--json", "--config", str(config)).stdout)
    return {i["source"]: (i["action"], i["reason"]) for i in items}


def test_guard_posts_nothing_and_says_how_to_go_on(old_blog: Path, sandbox: Sandbox) -> None:
    assert set(plan(old_blog).values()) == {("defer", "first-run")}
    for args in (["--once"], ["--once", "--dry-run"]):
        result = run_syncd(*args, "--config", str(old_blog), env=ENV)
        assert result.returncode == 2
        assert "first run: the ledger is empty and 12 posts are due" in result.stderr
        assert "Post 11  (_posts/2020-12-15-post-11.md)" in result.stderr  # the newest first
        for way in ("syncd adopt --all", "[sync] since = YYYY-MM-DD", "syncd --once --backfill"):
            assert way in result.stderr
        assert "first_run_limit = 3" in result.stderr
    assert sandbox.posts() == []
    assert not (old_blog.parent / "state" / "ledger.json").exists()


def test_a_few_new_posts_on_a_first_run_just_go(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", blog_posts(3))
    config = write_config(tmp_path, sandbox.api_url, first_run_limit=3)
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 0
    assert len(sandbox.posts()) == 3


def test_adopt_all_then_only_new_posts_go_out(old_blog: Path, sandbox: Sandbox) -> None:
    result = run_syncd("adopt", "--all", "--config", str(old_blog))
    assert result.returncode == 0, result.stderr
    assert "adopted 12 posts" in result.stderr
    assert set(plan(old_blog).values()) == {("skip", "adopted")}
    new = old_blog.parent / "site/_posts/2026-01-01-brand-new.md"
    new.write_text("---\ntitle: Brand new\n---\nFresh.\n")
    once = run_syncd("--once", "--config", str(old_blog), env=ENV)
    assert once.returncode == 0, once.stderr
    assert [p["request"]["title"] for p in sandbox.posts()] == ["Brand new"]
    status = json.loads(run_syncd("status", "--json", "--config", str(old_blog)).stdout)
    states = sorted(p["state"] for p in status["posts"])
    assert states == ["adopted"] * 12 + ["posted"]


def test_adopt_one_post_with_its_hand_made_medium_url(old_blog: Path,
                                                      sandbox: Sandbox) -> None:
    source = "_posts/2020-01-15-post-0.md"
    url = "https://medium.com/@me/post-0-0a1b2c3d4e5f"
    result = run_syncd("adopt", source, "--medium-url", url, "--config", str(old_blog))
    assert result.returncode == 0, result.stderr
    status = json.loads(run_syncd("status", "--json", "--config", str(old_blog)).stdout)
    assert [(p["source"], p["state"], p["medium_url"]) for p in status["posts"]] == [
        (source, "adopted", url)]
    # The ledger is no longer empty: the guard is for the first run only.
    assert plan(old_blog)["_posts/2020-02-15-post-1.md"] == ("post", "new")
    for args, words in (
        ([source], "already in the ledger"),
        (["_posts/nope.md"], "no such post file"),
        (["--all", source], "name SOURCE files, or give --all"),
        ([], "name SOURCE files, or give --all"),
    ):
        bad = run_syncd("adopt", *args, "--config", str(old_blog))
        assert bad.returncode == 2 and words in bad.stderr, (args, bad.stderr)
    assert sandbox.posts() == []


def test_since_lets_only_recent_posts_through(old_blog: Path, sandbox: Sandbox) -> None:
    text = old_blog.read_text().replace("first_run_limit = 3", "first_run_limit = 3\n"
                                        "since = 2020-11-01")
    old_blog.write_text(text)
    reasons = plan(old_blog)
    assert sorted(s for s, r in reasons.items() if r == ("post", "new")) == [
        "_posts/2020-11-15-post-10.md", "_posts/2020-12-15-post-11.md"]
    assert list(reasons.values()).count(("skip", "before-since")) == 10
    assert run_syncd("--once", "--config", str(old_blog), env=ENV).returncode == 0
    assert [p["request"]["title"] for p in sandbox.posts()] == ["Post 10", "Post 11"]


def test_backfill_posts_oldest_first_backdated_as_the_limit_allows(tmp_path: Path) -> None:
    server = Sandbox(host="127.0.0.1", port=0, tokens=[TEST_TOKEN], daily_limit=5)
    server.start()
    try:
        make_site(tmp_path / "site", blog_posts(12))
        config = write_config(tmp_path, server.api_url, first_run_limit=3)
        result = run_syncd("--once", "--backfill", "--config", str(config), env=ENV)
        assert result.returncode == 0, result.stderr
        assert "daily limit" in result.stderr
        sent = [p["request"] for p in server.posts()]
        assert [r["title"] for r in sent] == [f"Post {i}" for i in range(5)]
        assert sent[0]["publishedAt"].startswith("2020-01-15T00:00:00")
        # The ledger is no longer empty, so later passes go on without --backfill.
        assert plan(config)["_posts/2020-06-15-post-5.md"] == ("post", "new")
    finally:
        server.stop()
