"""The author's render settings and per-post overrides, from config to what Medium receives.

Config keys: ``[medium] footer``, ``tags_from_categories``, ``backdate``, ``upload_images``
and ``[sync] require_opt_in``; front matter: ``medium_title``, ``medium_tags``,
``medium_status``, ``medium: true/false``. Every end-to-end test runs the real command
against the emulator.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import TEST_TOKEN
from sitekit import make_site, run_syncd, write_config

from syncd.config import load_config
from syncd.errors import ConfigError
from syncd.sandbox import Sandbox

ENV = {"MEDIUM_TOKEN": TEST_TOKEN}
POSTS = {
    "_posts/2024-01-05-first.md": (
        "---\ntitle: First\ntags: [python]\ncategories: [notes, tools]\n---\nThe first.\n"),
    "_posts/2024-02-06-second.md": (
        "---\ntitle: Second\nmedium: true\nmedium_title: Second, for Medium\n"
        "medium_tags: [one, two]\nmedium_status: public\n---\nThe second.\n"),
    "_posts/2024-03-07-third.md": "---\ntitle: Third\nmedium: false\n---\nThe third.\n",
}


def sent_by_title(sandbox: Sandbox) -> dict[str, dict[str, object]]:
    return {p["request"]["title"]: p["request"] for p in sandbox.posts()}


@pytest.mark.parametrize(("line", "key", "problem"), [
    ('footer = "By {author}: {url}"', "medium.footer", "unknown placeholder {author}"),
    ('footer = "Thanks for reading"', "medium.footer", "must contain {url}"),
    ('footer = "Read {url"', "medium.footer", "is not a valid template"),
    ("upload_images = \"yes\"", "medium.upload_images", "must be true or false"),
    ("backdate = 1", "medium.backdate", "must be true or false"),
    ("tags_from_categories = []", "medium.tags_from_categories", "must be true or false"),
])
def test_bad_render_settings_are_one_clear_error(tmp_path: Path, line: str, key: str,
                                                  problem: str) -> None:
    make_site(tmp_path / "site", {})
    config = write_config(tmp_path, "http://127.0.0.1:9/v1")
    text = config.read_text(encoding="utf-8").replace("[medium]\n", f"[medium]\n{line}\n")
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    assert raised.value.key == key
    assert problem in str(raised.value)
    result = run_syncd("plan", "--config", str(config))
    assert result.returncode == 2 and key in result.stderr


def test_require_opt_in_must_be_a_boolean(tmp_path: Path) -> None:
    make_site(tmp_path / "site", {})
    config = write_config(tmp_path, "http://127.0.0.1:9/v1", extra='require_opt_in = "yes"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    assert raised.value.key == "sync.require_opt_in"


def test_defaults_footer_and_overrides_reach_medium(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", POSTS)
    config = write_config(tmp_path, sandbox.api_url)
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    sent = sent_by_title(sandbox)
    assert set(sent) == {"First", "Second, for Medium"}
    first = sent["First"]
    assert first["tags"] == ["python"] and first["publishStatus"] == "draft"
    assert "publishedAt" not in first
    assert str(first["content"]).endswith(
        '<hr>\n<p><em>Originally published at <a href="https://blog.example/notes/tools/2024/01/'
        '05/first.html">https://blog.example/notes/tools/2024/01/05/first.html</a></em></p>\n')
    second = sent["Second, for Medium"]
    assert second["tags"] == ["one", "two"] and second["publishStatus"] == "public"
    assert str(second["content"]).startswith("<h1>Second, for Medium</h1>\n<p>The second.</p>")


def test_custom_footer_categories_and_backdating(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", POSTS)
    config = write_config(tmp_path, sandbox.api_url, footer="“{title}” first appeared on {url}.",
                          tags_from_categories=True, backdate=True)
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    first = sent_by_title(sandbox)["First"]
    assert first["tags"] == ["python", "notes", "tools"]
    assert first["publishedAt"] == "2024-01-05T00:00:00+00:00"
    assert str(first["content"]).endswith(
        '<p><em>“First” first appeared on <a href="https://blog.example/notes/tools/2024/01/05/'
        'first.html">https://blog.example/notes/tools/2024/01/05/first.html</a>.</em></p>\n')
    assert sent_by_title(sandbox)["Second, for Medium"]["publishedAt"] == \
        "2024-02-06T00:00:00+00:00"


def test_an_empty_footer_sends_none(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", POSTS)
    config = write_config(tmp_path, sandbox.api_url, footer="")
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 0
    assert sent_by_title(sandbox)["First"]["content"] == "<h1>First</h1>\n<p>The first.</p>\n"


def test_require_opt_in_posts_only_opted_in_posts(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", POSTS)
    config = write_config(tmp_path, sandbox.api_url, extra="require_opt_in = true\n")
    plan = run_syncd("plan", "--json", "--config", str(config))
    assert plan.returncode == 0, plan.stderr
    reasons = {item["source"]: item["reason"] for item in json.loads(plan.stdout)}
    assert reasons == {
        "_posts/2024-01-05-first.md": "not-opted-in",
        "_posts/2024-02-06-second.md": "new",
        "_posts/2024-03-07-third.md": "opted-out",
    }
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 0
    assert list(sent_by_title(sandbox)) == ["Second, for Medium"]


def test_a_post_whose_canonical_url_is_localhost_is_never_sent(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    site = make_site(tmp_path / "site", {"_posts/2024-01-05-first.md": POSTS[
        "_posts/2024-01-05-first.md"]})
    (site / "_config.yml").write_text('url: "http://localhost:4000"\ntimezone: UTC\n',
                                      encoding="utf-8")
    config = write_config(tmp_path, sandbox.api_url)
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 1
    assert "points at this machine" in result.stderr and "[site] url" in result.stderr
    assert sandbox.posts() == []
    fixed = config.read_text(encoding="utf-8").replace(
        'root = "site"', 'root = "site"\nurl = "https://blog.example"')
    config.write_text(fixed, encoding="utf-8")
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 0
    [post] = sandbox.posts()
    assert "localhost" not in json.dumps(post["request"])
