"""Edits after syndication (#10), through the real CLI and the emulator.

A synced post edited on the blog is never posted again: `plan` says skip/changed, `status`
says changed, `diff` shows the edited sentence, `ack` clears it; edits a reader cannot see
count for nothing; the notify command hears every event, never the token.
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest
import requests
from conftest import TEST_TOKEN
from sitekit import make_site, run_syncd, write_config

from syncd.edits import Snapshot, pack, reader_text, unpack
from syncd.sandbox import Sandbox

ENV = {"MEDIUM_TOKEN": TEST_TOKEN}
NOTES = "_posts/2024-02-01-field-notes.md"
NOTES_TEXT = (
    "---\ntitle: Field notes\ntags: [birds, walks]\nlayout: post\n---\n"
    "We walked to the lake at dawn. The herons were already fishing.\n\n"
    "A second paragraph with a [link](https://example.org/heron) in it.\n\n"
    "```\nkeep  <this>  &  spacing\n```\n"
)
OTHER = "_posts/2024-03-01-other.md"
SITE = {
    NOTES: NOTES_TEXT,
    OTHER: "---\ntitle: Another post\n---\nNothing to see.\n",
}


@pytest.fixture
def blog(tmp_path: Path, sandbox: Sandbox) -> Path:
    make_site(tmp_path / "site", SITE)
    config = write_config(tmp_path, sandbox.api_url, publish_status="public")
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    assert len(sandbox.posts()) == 2
    return config


def edit(config: Path, source: str, old: str, new: str) -> None:
    path = config.parent / "site" / source
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def states(config: Path) -> dict[str, str]:
    result = run_syncd("status", "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    return {post["source"]: post["state"] for post in json.loads(result.stdout)["posts"]}


def reasons(config: Path) -> dict[str, str]:
    result = run_syncd("plan", "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    return {item["source"]: f"{item['action']}/{item['reason']}"
            for item in json.loads(result.stdout)}


def test_an_edited_post_is_reported_diffed_and_acked_never_posted_again(
        blog: Path, sandbox: Sandbox) -> None:
    edit(blog, NOTES, "The herons were already fishing.", "The herons had left.")

    again = run_syncd("--once", "--config", str(blog), env=ENV)
    assert again.returncode == 0, again.stderr
    assert len(sandbox.posts()) == 2
    assert "edited since it went to Medium" in again.stderr
    assert "1 edited since posted" in again.stderr
    assert reasons(blog)[NOTES] == "skip/changed"
    assert states(blog) == {NOTES: "changed", OTHER: "posted"}

    shown = run_syncd("diff", NOTES, "--config", str(blog))
    assert shown.returncode == 0, shown.stderr
    medium_url = next(p["post"]["url"] for p in sandbox.posts()
                      if p["request"]["title"] == "Field notes")
    assert medium_url in shown.stdout
    assert "-The herons were already fishing." in shown.stdout
    assert "+The herons had left." in shown.stdout
    assert "We walked to the lake at dawn." not in [
        line[1:] for line in shown.stdout.splitlines() if line[:1] in "+-"]
    every = run_syncd("diff", "--config", str(blog))
    assert every.returncode == 0 and "+The herons had left." in every.stdout

    planned = run_syncd("plan", "--config", str(blog))
    assert "1 synced post was edited after going to Medium" in planned.stdout
    table = run_syncd("status", "--config", str(blog))
    assert "changed" in table.stdout and f"syncd diff {NOTES}" in table.stdout

    acked = run_syncd("ack", NOTES, "--config", str(blog))
    assert acked.returncode == 0, acked.stderr
    assert states(blog) == {NOTES: "posted", OTHER: "posted"}
    assert reasons(blog)[NOTES] == "skip/synced"
    clean = run_syncd("diff", NOTES, "--config", str(blog))
    assert clean.returncode == 0 and "matches what Medium has" in clean.stdout

    edit(blog, NOTES, "The herons had left.", "The herons came back.")
    later = run_syncd("diff", "--config", str(blog))
    assert "-The herons had left." in later.stdout
    assert "+The herons came back." in later.stdout
    assert len(sandbox.posts()) == 2


@pytest.mark.parametrize("old, new", [
    ("at dawn. The herons", "at dawn.   The herons"),
    ("A second paragraph with", "A second\nparagraph    with"),
    ("layout: post\n", "layout: wide\nlast_modified_at: 2024-05-01\ncomments: true\n"),
    ("At", "At"),
], ids=["spaces", "rewrapped", "front-matter-not-sent", "untouched"])
def test_edits_no_reader_can_see_do_not_count(blog: Path, old: str, new: str) -> None:
    edit(blog, NOTES, old if old != "At" else "We", new if new != "At" else "We")
    assert reasons(blog)[NOTES] == "skip/synced"
    assert states(blog)[NOTES] == "posted"
    shown = run_syncd("diff", "--config", str(blog))
    assert shown.returncode == 0, shown.stdout
    assert "No synced post was edited" in shown.stdout


def test_tag_title_and_code_spacing_edits_count(blog: Path) -> None:
    edit(blog, NOTES, "tags: [birds, walks]", "tags: [birds, lakes]")
    shown = run_syncd("diff", NOTES, "--config", str(blog))
    assert shown.returncode == 0
    assert "-tags: birds, walks" in shown.stdout and "+tags: birds, lakes" in shown.stdout
    run_syncd("ack", "--all", "--config", str(blog))
    edit(blog, NOTES, "keep  <this>", "keep <this>")
    assert reasons(blog)[NOTES] == "skip/changed"
    shown = run_syncd("diff", NOTES, "--config", str(blog))
    assert "-    keep  <this>  &  spacing" in shown.stdout


def test_a_renamed_and_edited_post_is_recognised_not_posted(blog: Path,
                                                           sandbox: Sandbox) -> None:
    site = blog.parent / "site"
    old = site / NOTES
    renamed = site / "_posts/2024-02-01-notes-from-the-lake.md"
    renamed.write_text(old.read_text(encoding="utf-8").replace(
        "The herons were already fishing.", "Two herons were fishing."), encoding="utf-8")
    old.unlink()
    moved = run_syncd("--once", "--config", str(blog), env=ENV)
    assert moved.returncode == 0, moved.stderr
    assert len(sandbox.posts()) == 2
    source = "_posts/2024-02-01-notes-from-the-lake.md"
    assert states(blog)[source] == "changed"
    shown = run_syncd("diff", source, "--config", str(blog))
    assert "+Two herons were fishing." in shown.stdout


def test_adopted_posts_are_judged_by_title_and_text(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", SITE)
    config = write_config(tmp_path, sandbox.api_url)
    assert run_syncd("adopt", "--all", "--config", str(config)).returncode == 0
    edit(config, NOTES, "layout: post", "layout: other")
    assert states(config)[NOTES] == "adopted"
    edit(config, NOTES, "at dawn", "at noon")
    assert states(config)[NOTES] == "changed"
    shown = run_syncd("diff", NOTES, "--config", str(config))
    assert shown.returncode == 0 and "no copy of what Medium shows" in shown.stdout
    assert run_syncd("ack", NOTES, "--config", str(config)).returncode == 0
    assert states(config)[NOTES] == "adopted"
    edit(config, NOTES, "at noon", "at dusk")
    shown = run_syncd("diff", NOTES, "--config", str(config))
    assert "-We walked to the lake at noon." in shown.stdout
    assert len(sandbox.posts()) == 0


def test_ack_refuses_posts_that_are_not_on_medium(blog: Path) -> None:
    (blog.parent / "site/_posts/2024-04-01-fresh.md").write_text(
        "---\ntitle: Fresh\n---\nNew.\n", encoding="utf-8")
    refused = run_syncd("ack", "_posts/2024-04-01-fresh.md", "--config", str(blog))
    assert refused.returncode == 2
    assert "not on Medium according to the ledger" in refused.stderr
    assert run_syncd("ack", "--config", str(blog)).returncode == 2


def test_render_open_writes_a_page_and_hands_it_to_the_browser(blog: Path,
                                                                 tmp_path: Path) -> None:
    seen = tmp_path / "browser-got"
    browser = tmp_path / "fake-browser"
    browser.write_text(f"#!/bin/sh\necho \"$1\" > {seen}\n", encoding="utf-8")
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    result = run_syncd("render", NOTES, "--open", "--config", str(blog),
                       env={"BROWSER": str(browser)})
    assert result.returncode == 0, result.stderr
    address = result.stdout.strip()
    assert address.startswith("file://")
    assert seen.read_text(encoding="utf-8").strip() == address
    page = Path(address[len("file://"):]).read_text(encoding="utf-8")
    assert "<h1>Field notes</h1>" in page and "<meta charset=\"utf-8\">" in page
    assert "keep  &lt;this&gt;  &amp;  spacing" in page


def notify_config(blog: Path, command: str, timeout_s: float = 10) -> None:
    text = blog.read_text(encoding="utf-8")
    blog.write_text(text + f"\n[notify]\ncommand = {json.dumps(command)}\n"
                           f"timeout_s = {timeout_s}\n", encoding="utf-8")


def recorded(log: Path) -> list[dict[str, str]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


RECORDER = (f"{sys.executable} -c 'import json, os; print(json.dumps({{k: v for k, v in "
            "os.environ.items() if k.startswith((\"SYNCD_\", \"MEDIUM\"))}))' >> LOG")


def test_the_notify_command_hears_each_event_with_its_details_and_no_token(
        tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", SITE)
    config = write_config(tmp_path, sandbox.api_url, publish_status="public")
    log = tmp_path / "events.jsonl"
    notify_config(config, RECORDER.replace("LOG", str(log)))

    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 0
    posted = recorded(log)
    assert sorted(e["SYNCD_SOURCE"] for e in posted) == [NOTES, OTHER]
    by_source = {e["SYNCD_SOURCE"]: e for e in posted}
    notes = by_source[NOTES]
    assert notes["SYNCD_EVENT"] == "posted"
    assert notes["SYNCD_TITLE"] == "Field notes"
    assert notes["SYNCD_CANONICAL_URL"] == "https://blog.example/2024/02/01/field-notes.html"
    medium = {p["request"]["title"]: p["post"]["url"] for p in sandbox.posts()}
    assert notes["SYNCD_MEDIUM_URL"] == medium["Field notes"]
    assert all(not key.startswith("MEDIUM") for e in posted for key in e)
    assert not any(TEST_TOKEN in value for e in posted for value in e.values())

    edit(config, NOTES, "at dawn", "at noon")
    run_syncd("--once", "--config", str(config), env=ENV)
    run_syncd("--once", "--config", str(config), env=ENV)
    changed = recorded(log)[2:]
    assert [(e["SYNCD_EVENT"], e["SYNCD_SOURCE"]) for e in changed] == [("changed", NOTES)]
    assert changed[0]["SYNCD_MEDIUM_URL"] == medium["Field notes"]

    (tmp_path / "site/_posts/2024-04-01-refused.md").write_text(
        "---\ntitle: Refused\n---\nNo.\n", encoding="utf-8")
    requests.post(f"{sandbox.url}/_sandbox/faults",
                  json={"path": "/v1/users/*/posts", "status": 400, "message": "Bad post",
                        "times": 1}, timeout=5).raise_for_status()
    run_syncd("--once", "--config", str(config), env=ENV)
    failed = recorded(log)[3:]
    assert [(e["SYNCD_EVENT"], e["SYNCD_SOURCE"]) for e in failed] == [
        ("failed", "_posts/2024-04-01-refused.md")]
    assert failed[0]["SYNCD_MESSAGE"]


def test_in_doubt_and_deferred_events(tmp_path: Path, make_sandbox) -> None:
    sandbox = make_sandbox(daily_limit=1)
    make_site(tmp_path / "site", SITE)
    config = write_config(tmp_path, sandbox.api_url, publish_status="public")
    log = tmp_path / "events.jsonl"
    notify_config(config, RECORDER.replace("LOG", str(log)))
    run_syncd("--once", "--config", str(config), env=ENV)
    events = {e["SYNCD_SOURCE"]: e for e in recorded(log)}
    assert events[NOTES]["SYNCD_EVENT"] == "posted"
    assert events[OTHER]["SYNCD_EVENT"] == "deferred"
    assert "daily limit" in events[OTHER]["SYNCD_MESSAGE"]

    sandbox_doubt = make_sandbox()
    doubt_root = tmp_path / "doubt"
    make_site(doubt_root / "site", {NOTES: NOTES_TEXT})
    doubt_config = write_config(doubt_root, sandbox_doubt.api_url, publish_status="public")
    doubt_log = doubt_root / "events.jsonl"
    notify_config(doubt_config, RECORDER.replace("LOG", str(doubt_log)))
    requests.post(f"{sandbox_doubt.url}/_sandbox/faults",
                  json={"path": "/v1/users/*/posts", "status": 503, "times": 1},
                  timeout=5).raise_for_status()
    run_syncd("--once", "--config", str(doubt_config), env=ENV)
    [event] = recorded(doubt_log)
    assert event["SYNCD_EVENT"] == "in-doubt" and event["SYNCD_SOURCE"] == NOTES


def test_a_failing_or_hanging_notify_command_is_logged_never_fatal(
        tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", SITE)
    config = write_config(tmp_path, sandbox.api_url, publish_status="public")
    notify_config(config, "echo boom >&2; exit 3")
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    assert "exited with status 3: boom" in result.stderr
    assert len(sandbox.posts()) == 2

    edit(config, NOTES, "at dawn", "at noon")
    notify_config(config, "sleep 30 & sleep 30", timeout_s=0.5)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('[notify]\ncommand = "echo boom >&2; exit 3"\n'
                                   'timeout_s = 10\n', ""), encoding="utf-8")
    hung = run_syncd("--once", "--config", str(config), env=ENV, timeout=20)
    assert hung.returncode == 0, hung.stderr
    assert "still running after 0.5 s: stopped" in hung.stderr


def test_a_bad_notify_key_is_a_config_error(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", SITE)
    config = write_config(tmp_path, sandbox.api_url, extra='\n[notify]\ncommand = ""\n')
    result = run_syncd("plan", "--config", str(config))
    assert result.returncode == 2
    assert "notify.command" in result.stderr and str(config) in result.stderr


def test_reader_text_and_packing() -> None:
    html = ("<h1>T</h1>\n<p>One   two\nthree <a href=\"https://x.org/\">link</a>.</p>\n"
            "<blockquote><p>Quoted.</p></blockquote>\n<ul><li>a</li><li>b</li></ul>\n"
            "<pre><code>x  =  1\n  y</code></pre>\n<figure><img src=\"https://x.org/p.png\" "
            "alt=\"A heron\"><figcaption>A heron</figcaption></figure>\n<hr>\n<p>end</p>\n")
    assert reader_text(html).splitlines() == [
        "# T", "", "One two three link <https://x.org/>.", "", "> Quoted.", "", "• a", "",
        "• b", "", "    x  =  1", "      y", "", "[image: A heron]", "", "A heron", "",
        "* * *", "", "end"]
    big = Snapshot("T", ("a",), "<p>" + "words " * 2000 + "</p>", "")
    packed = pack(big)
    assert "zlib" in packed and len(json.dumps(packed)) < len(big.html) / 5
    assert unpack(packed) == big
    small = Snapshot("T", ("a",), "<p>x</p>", "<hr>")
    assert unpack(pack(small)) == small
