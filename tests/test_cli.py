"""What the user sees: check, status and plan as tables and lines, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from conftest import TEST_TOKEN
from sitekit import make_site, run_syncd, write_config

from syncd.sandbox import Sandbox

ENV = {"MEDIUM_TOKEN": TEST_TOKEN}


@pytest.fixture
def blog(tmp_path: Path, sandbox: Sandbox) -> Path:
    make_site(tmp_path / "site")
    return write_config(tmp_path, sandbox.api_url)


def test_check_passes_line_by_line(blog: Path, sandbox: Sandbox) -> None:
    result = run_syncd("check", "--config", str(blog), env=ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"✓ config {blog} is valid"
    assert lines[1].startswith("✓ site ") and "6 post files, 4 published" in lines[1]
    assert lines[2].startswith("✓ no ledger yet at ")
    assert lines[3] == (f"✓ {sandbox.api_url} reached; authenticated as "
                        f"@{sandbox.users[0].username}")
    assert sandbox.posts() == []


@pytest.mark.parametrize(
    ("env", "status", "words"),
    [({}, 2, "✗ no Medium token"),
     ({"MEDIUM_TOKEN": "wrong" * 8}, 3, "✗ Medium refused the token")],
    ids=["no-token", "refused-token"],
)
def test_check_fails_with_the_fix(blog: Path, env: dict[str, str], status: int,
                                  words: str) -> None:
    result = run_syncd("check", "--config", str(blog), env=env)
    assert result.returncode == status
    assert words in result.stdout
    assert "    fix: " in result.stdout
    assert "wrong" * 8 not in result.stdout + result.stderr


def test_check_unreachable_api(tmp_path: Path) -> None:
    make_site(tmp_path / "site")
    config = write_config(tmp_path, "http://127.0.0.1:9/v1")
    result = run_syncd("check", "--config", str(config), env=ENV)
    assert result.returncode == 1
    assert "✗ cannot reach http://127.0.0.1:9/v1" in result.stdout


def test_check_publication_roles(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site")
    user = sandbox.users[0].id
    editor_of = sandbox.add_publication("Edited", contributors={user: "editor"})
    writer_of = sandbox.add_publication("Written", contributors={user: "writer"})
    stranger = sandbox.add_publication("Other", contributors={})
    cases = [
        (editor_of, "public", 0, "✓ publication 'Edited': you are editor"),
        (writer_of, "draft", 0, "✓ publication 'Written': you are writer"),
        (writer_of, "public", 1, "✗ you are a writer of 'Written', and writers may only create "
                                 "drafts"),
        (stranger, "draft", 1, f"✗ you are not a contributor of publication {stranger}"),
    ]
    for publication, publish_status, status, words in cases:
        config = write_config(tmp_path, sandbox.api_url, publication_id=publication,
                              publish_status=publish_status)
        result = run_syncd("check", "--config", str(config), env=ENV)
        assert result.returncode == status, result.stdout
        assert words in result.stdout


def test_status_shows_what_needs_the_user_first(blog: Path, sandbox: Sandbox) -> None:
    requests.post(f"{sandbox.url}/_sandbox/faults",
                  json={"path": "/v1/users/*/posts", "drop": "after", "times": 1},
                  timeout=5).raise_for_status()
    requests.post(f"{sandbox.url}/_sandbox/faults",
                  json={"path": "/v1/users/*/posts", "status": 400, "message": "Nope",
                        "times": 1}, timeout=5).raise_for_status()
    run_syncd("--once", "--config", str(blog), env=ENV)
    result = run_syncd("status", "--config", str(blog))
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ ")]
    states = [row.split("│")[1].strip() for row in rows if row.split("│")[1].strip()]
    assert states == ["in-doubt", "failed", "posted", "deferred"]
    assert "syncd resolve _posts/2024-01-05-first-steps.md --medium-url URL" in result.stdout
    assert "Medium refused it (400: Nope)" in result.stdout
    assert "posted by the first pass after 2099-01-01" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "1 posted, 0 adopted, 1 in doubt, 1 failed, 1 deferred (next: 'Far future' on "
        "2099-01-01)")


def test_empty_status_says_what_to_run(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", {"_posts/2024-01-01-a.md": "---\ntitle: A\n---\nx\n"})
    config = write_config(tmp_path, sandbox.api_url)
    result = run_syncd("status", "--config", str(config))
    assert "nothing has been posted yet" in result.stdout
    assert "syncd plan" in result.stdout


def test_plan_table_lists_render_warnings_and_the_first_run_guard(tmp_path: Path,
                                                                   sandbox: Sandbox) -> None:
    make_site(tmp_path / "site")
    config = write_config(tmp_path, sandbox.api_url, first_run_limit=1)
    result = run_syncd("plan", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "What Medium would not get as written:" in result.stdout
    assert ("_posts/2025-07-20-third-time.markdown: Medium keeps only 3 tags; not sent: four"
            in result.stdout)
    assert "First run: 3 posts are due on an empty ledger" in result.stdout
    assert "syncd adopt --all" in result.stdout
    assert "`[sync] since = YYYY-MM-DD`" in result.stdout


def test_every_command_has_help_with_an_example() -> None:
    top = run_syncd("--help")
    listing = top.stdout.split("Commands:\n")[1].split("\n\n")[0]
    commands = [line.split()[0] for line in listing.splitlines() if line.startswith("  ")
                and not line.startswith("    ")]
    assert {"plan", "status", "check", "adopt", "resolve", "render", "login", "sandbox",
            "demo"} <= set(commands)
    for command in commands:
        text = run_syncd(command, "--help").stdout
        assert "Example" in text, command


def _run_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run syncd with a pseudo-terminal as stdin, stdout and stderr; all it wrote."""
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    base = {"PATH": os.environ["PATH"], "HOME": "/tmp", "TZ": "UTC", "TERM": "xterm",
            "COLUMNS": "120", "LINES": "40", **env}
    proc = subprocess.Popen([sys.executable, "-m", "syncd", *args], stdin=slave, stdout=slave,
                            stderr=slave, env=base, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def test_a_long_pass_shows_progress_on_a_terminal_and_plain_lines_off_it(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    posts = {f"_posts/2024-01-{i + 1:02d}-p{i}.md": f"---\ntitle: P{i}\n---\nx\n"
             for i in range(8)}
    make_site(tmp_path / "site", posts)
    config = write_config(tmp_path, sandbox.api_url)
    requests.post(f"{sandbox.url}/_sandbox/faults",
                  json={"path": "/v1/users/*/posts", "delay_s": 0.25, "times": 8},
                  timeout=5).raise_for_status()
    status, screen = _run_on_a_terminal(["--once", "--config", str(config)], ENV)
    assert status == 0, screen
    assert "posting" in screen and "/8" in screen
    assert "\x1b[" in screen
    assert "8 posted" in screen
    assert len(sandbox.posts()) == 8
    # Under systemd or a pipe: the same pass prints plain lines, no bar and no colour.
    (tmp_path / "site/_posts/2024-02-01-more.md").write_text("---\ntitle: More\n---\nx\n")
    piped = run_syncd("--once", "--config", str(config), env=ENV)
    assert piped.returncode == 0
    assert "\x1b[" not in piped.stderr and "posting" not in piped.stderr
    assert "_posts/2024-02-01-more.md: posted 'More'" in piped.stderr


def test_a_pass_refuses_to_post_where_medium_would_refuse_every_post(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    make_site(tmp_path / "site")
    writer_of = sandbox.add_publication("Written", contributors={sandbox.users[0].id: "writer"})
    config = write_config(tmp_path, sandbox.api_url, publication_id=writer_of,
                          publish_status="public")
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 2
    assert "writers may only create drafts; nothing was posted" in result.stderr
    assert sandbox.posts() == []
    drafts = write_config(tmp_path, sandbox.api_url, publication_id=writer_of)
    assert run_syncd("--once", "--config", str(drafts), env=ENV).returncode == 0
    sent = sandbox.posts()
    assert len(sent) == 3
    assert {p["path"] for p in sent} == {f"/v1/publications/{writer_of}/posts"}
    assert {p["post"]["publicationId"] for p in sent} == {writer_of}


HOSTILE_TITLE = "[/] Evil \x1b[2J\x1b[31mred [bold]\x07\x9b"


def test_titles_with_markup_or_control_codes_are_shown_escaped(tmp_path: Path,
                                                              sandbox: Sandbox) -> None:
    """A title holding rich markup (`[/]`) crashed `syncd plan`'s table with a MarkupError;
    one holding escape sequences reached the terminal raw (here: clear the screen) and the
    journal as control codes. Tables and log lines show both as text."""
    posts = {"_posts/2024-01-05-evil.md": f"---\ntitle: {json.dumps(HOSTILE_TITLE)}\n---\nHi\n",
             "_posts/2024-01-06-[weird]\x1b[0m.md": "---\ntitle: Weird name\n---\nHi.\n"}
    make_site(tmp_path / "site", posts)
    config = write_config(tmp_path, sandbox.api_url)
    shown = r"[/] Evil \x1b[2J\x1b[31mred [bold]\x07\x9b"
    plan = run_syncd("plan", "--config", str(config), env=ENV)
    assert plan.returncode == 0, plan.stderr
    assert shown in plan.stdout
    assert r"_posts/2024-01-06-[weird]\x1b[0m.md" in plan.stdout
    posted = run_syncd("--once", "-v", "--config", str(config), env=ENV)
    assert posted.returncode == 0, posted.stderr
    status = run_syncd("status", "--config", str(config), env=ENV)
    assert status.returncode == 0, status.stderr
    assert shown in status.stdout
    evil = tmp_path / "site/_posts/2024-01-05-evil.md"
    evil.write_text(evil.read_text().replace("Hi", "Hi \x1b]0;owned\x07 there"))
    diff = run_syncd("diff", "--config", str(config), env=ENV)
    assert diff.returncode == 0, diff.stderr
    assert r"+Hi \x1b]0;owned\x07 there" in diff.stdout
    for result in (plan, posted, status, diff):
        assert "\x1b" not in result.stdout + result.stderr
        assert "\x07" not in result.stdout + result.stderr
    assert sorted(post["request"]["title"] for post in sandbox.posts()) == sorted(
        [HOSTILE_TITLE, "Weird name"])
