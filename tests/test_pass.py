"""End to end: `syncd --once` from a Jekyll folder to the emulator and the ledger, as a process.

Every test runs the real command line against the real emulator on a loopback port.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import TEST_TOKEN
from sitekit import make_site, run_syncd, write_config

from syncd.sandbox import Sandbox

ENV = {"MEDIUM_TOKEN": TEST_TOKEN}
DUE = [
    "_posts/2024-01-05-first-steps.md",
    "_posts/2024-03-10-second-thoughts.md",
    "_posts/2025-07-20-third-time.markdown",
]


@pytest.fixture
def blog(tmp_path: Path, sandbox: Sandbox) -> Path:
    make_site(tmp_path / "site")
    return write_config(tmp_path, sandbox.api_url, publish_status="public")


def plan_json(config: Path, env: dict[str, str] | None = None) -> list[dict[str, object]]:
    result = run_syncd("plan", "--json", "--config", str(config), env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def fault(sandbox: Sandbox, **spec: object) -> None:
    answer = requests.post(f"{sandbox.url}/_sandbox/faults", json=spec, timeout=5)
    answer.raise_for_status()


def test_full_pass_posts_each_new_post_once_with_planned_canonical_url(
    blog: Path, sandbox: Sandbox
) -> None:
    planned = {item["source"]: item for item in plan_json(blog)}
    assert {s for s, item in planned.items() if item["action"] == "post"} == set(DUE)

    result = run_syncd("--once", "--config", str(blog), env=ENV)
    assert result.returncode == 0, result.stderr
    assert "3 posted" in result.stderr

    sent = sandbox.posts()
    assert len(sent) == 3
    by_url = {p["request"]["canonicalUrl"]: p for p in sent}
    assert set(by_url) == {planned[s]["canonical_url"] for s in DUE}
    first = by_url["https://blog.example/2024/01/05/first-steps.html"]["request"]
    assert first["title"] == "First steps"
    assert first["contentFormat"] == "html"
    assert first["publishStatus"] == "public"
    assert first["tags"] == ["python", "posse"]
    assert first["content"].startswith("<h1>First steps</h1>")
    assert "if a &lt; b:" in first["content"]
    third = by_url["https://blog.example/2025/07/20/third-time.html"]["request"]
    assert third["tags"] == ["one", "two", "three"]
    second = by_url["https://blog.example/notes/2024/03/10/second-thoughts.html"]["request"]
    assert 'src="https://blog.example/assets/pic.png"' in second["content"]
    # Oldest first, so Medium's order matches the blog's.
    assert [p["request"]["title"] for p in sent] == ["First steps", "Second thoughts", "Third time"]


def test_second_pass_creates_nothing(blog: Path, sandbox: Sandbox) -> None:
    assert run_syncd("--once", "--config", str(blog), env=ENV).returncode == 0
    again = run_syncd("--once", "--config", str(blog), env=ENV)
    assert again.returncode == 0, again.stderr
    assert "0 posted" in again.stderr
    assert len(sandbox.posts()) == 3
    reasons = {i["source"]: i["reason"] for i in plan_json(blog)}
    assert all(reasons[s] == "synced" for s in DUE)


def test_status_json_reports_the_ledger(blog: Path, sandbox: Sandbox) -> None:
    run_syncd("--once", "--config", str(blog), env=ENV)
    result = run_syncd("status", "--json", "--config", str(blog))
    assert result.returncode == 0, result.stderr
    posts = json.loads(result.stdout)["posts"]
    assert sorted(p["source"] for p in posts) == DUE
    by_source = {p["source"]: p for p in posts}
    medium = {p["request"]["canonicalUrl"]: p["post"] for p in sandbox.posts()}
    for post in posts:
        assert post["state"] == "posted"
        assert post["medium_url"] == medium[post["canonical_url"]]["url"]
        assert post["medium_id"] == medium[post["canonical_url"]]["id"]
        assert post["posted_at"]
    table = run_syncd("status", "--config", str(blog))
    assert table.returncode == 0
    assert "First steps" in table.stdout and "3 posted" in table.stdout
    assert by_source


def test_dry_run_and_plan_touch_nothing(blog: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    dry = run_syncd("--once", "--dry-run", "--config", str(blog), env=ENV)
    assert dry.returncode == 0, dry.stderr
    assert "3 would be posted" in dry.stderr
    assert sandbox.posts() == []
    assert not (tmp_path / "state" / "ledger.json").exists()
    # plan needs neither a token nor the network: point it at a closed port.
    offline = write_config(tmp_path, "http://127.0.0.1:9/v1")
    items = plan_json(offline, env={})
    assert len(items) == 6
    assert not (tmp_path / "state" / "ledger.json").exists()


def test_plan_json_reasons(blog: Path) -> None:
    reasons = {i["source"]: (i["action"], i["reason"]) for i in plan_json(blog)}
    assert reasons == {
        **{s: ("post", "new") for s in DUE},
        "_posts/2025-08-01-not-yet.md": ("skip", "unpublished"),
        "_posts/2099-01-01-far-future.md": ("defer", "future"),
        "_drafts/an-idea.md": ("skip", "draft"),
    }
    items = plan_json(blog)
    assert [i["source"] for i in items] == sorted(i["source"] for i in items)
    assert set(items[0]) == {"source", "canonical_url", "title", "date", "action", "reason"}


def test_bad_token_exits_3_and_never_shows_the_token(blog: Path, sandbox: Sandbox) -> None:
    secret = "deadbeef" * 8
    result = run_syncd("--once", "--config", str(blog), env={"MEDIUM_TOKEN": secret})
    assert result.returncode == 3
    assert "refused the token" in result.stderr
    assert secret not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert sandbox.posts() == []


def test_missing_token_is_a_config_error(blog: Path) -> None:
    result = run_syncd("--once", "--config", str(blog), env={})
    assert result.returncode == 2
    assert "MEDIUM_TOKEN is not set" in result.stderr


def test_a_400_on_one_post_leaves_the_others_posted(blog: Path, sandbox: Sandbox) -> None:
    fault(sandbox, path="/v1/users/*/posts", status=400, message="Bad post", times=1)
    result = run_syncd("--once", "--config", str(blog), env=ENV)
    assert result.returncode == 1
    assert (
        "_posts/2024-01-05-first-steps.md: Medium refused the post (400): Bad post" in result.stderr
    )
    assert [p["request"]["title"] for p in sandbox.posts()] == ["Second thoughts", "Third time"]
    # Refused means not created: the next pass tries it again, and only it.
    again = run_syncd("--once", "--config", str(blog), env=ENV)
    assert again.returncode == 0, again.stderr
    assert [p["request"]["title"] for p in sandbox.posts()][-1] == "First steps"
    assert len(sandbox.posts()) == 3


@pytest.mark.parametrize(
    "spec",
    [
        {"drop": "after"},
        {"status": 502},
        {"delay_s": 3},
    ],
    ids=["connection-dropped-after-store", "server-error", "timeout"],
)
def test_an_unknown_outcome_is_in_doubt_and_never_resent(
    tmp_path: Path, sandbox: Sandbox, spec: dict[str, object]
) -> None:
    make_site(tmp_path / "site")
    config = write_config(tmp_path, sandbox.api_url, timeout_s=1)
    fault(sandbox, path="/v1/users/*/posts", times=1, **spec)
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 1
    assert "_posts/2024-01-05-first-steps.md: IN DOUBT" in result.stderr
    created = len(sandbox.posts())
    again = run_syncd("--once", "--config", str(config), env=ENV)
    assert again.returncode == 1
    assert "in doubt since an earlier pass" in again.stderr
    assert len(sandbox.posts()) == created
    titles = [p["request"]["title"] for p in sandbox.posts()]
    assert titles.count("Second thoughts") == 1 and titles.count("Third time") == 1
    status = json.loads(run_syncd("status", "--json", "--config", str(config)).stdout)
    states = {p["source"]: p["state"] for p in status["posts"]}
    assert states["_posts/2024-01-05-first-steps.md"] == "in-doubt"
    plan = {i["source"]: i["reason"] for i in plan_json(config)}
    assert plan["_posts/2024-01-05-first-steps.md"] == "in-doubt"

    # The user checks Medium and settles it; then it is on Medium exactly once. (A delayed
    # create may still be on its way: the user looks once it has landed, or not.)
    sandbox.wait_idle()
    source = "_posts/2024-01-05-first-steps.md"
    copies = [p["post"]["url"] for p in sandbox.posts() if p["request"]["title"] == "First steps"]
    if copies:
        settle = run_syncd("resolve", source, "--medium-url", copies[0], "--config", str(config))
    else:
        settle = run_syncd("resolve", source, "--not-posted", "--config", str(config))
    assert settle.returncode == 0, settle.stderr
    final = run_syncd("--once", "--config", str(config), env=ENV)
    assert final.returncode == 0, final.stderr
    titles = [p["request"]["title"] for p in sandbox.posts()]
    assert titles.count("First steps") == 1
    status = json.loads(run_syncd("status", "--json", "--config", str(config)).stdout)
    entry = next(p for p in status["posts"] if p["source"] == source)
    assert entry["state"] == "posted"
    assert entry["medium_url"] == next(
        p["post"]["url"] for p in sandbox.posts() if p["request"]["title"] == "First steps"
    )
    again = run_syncd("resolve", source, "--not-posted", "--config", str(config))
    assert again.returncode == 2
    assert "nothing in doubt to resolve" in again.stderr


def test_connection_refused_is_not_sent_and_ledger_untouched(tmp_path: Path) -> None:
    make_site(tmp_path / "site")
    config = write_config(tmp_path, "http://127.0.0.1:9/v1")
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 1
    assert "cannot reach Medium" in result.stderr
    assert not (tmp_path / "state" / "ledger.json").exists()


def test_bad_config_exits_2_naming_the_key(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site")
    config = write_config(tmp_path, sandbox.api_url, publish_status="loud")
    for args in (
        ["--once", "--config", str(config)],
        ["plan", "--config", str(config)],
        ["--config", str(config), "status"],
    ):
        result = run_syncd(*args, env=ENV)
        assert result.returncode == 2, args
        assert f"{config}: medium.publish_status: must be one of" in result.stderr
        assert "Traceback" not in result.stderr
    assert sandbox.posts() == []


def test_corrupt_ledger_exits_4_and_is_left_alone(
    blog: Path, tmp_path: Path, sandbox: Sandbox
) -> None:
    ledger = tmp_path / "state" / "ledger.json"
    ledger.parent.mkdir()
    ledger.write_text('{"posts": {"1": {"canonical_url": "x"')
    for args in (["--once"], ["plan"], ["status"]):
        result = run_syncd(*args, "--config", str(blog), env=ENV)
        assert result.returncode == 4, (args, result.stderr)
        assert "will not overwrite" in result.stderr
    assert ledger.read_text() == '{"posts": {"1": {"canonical_url": "x"'
    assert sandbox.posts() == []


def test_second_syncd_on_the_same_ledger_exits_4(blog: Path, tmp_path: Path) -> None:
    code = (
        "import sys, time; from pathlib import Path; from syncd.ledger import ledger_lock\n"
        "with ledger_lock(Path(sys.argv[1])):\n"
        "    print('held', flush=True); time.sleep(30)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "state/ledger.json")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = run_syncd("--once", "--config", str(blog), env=ENV)
        assert result.returncode == 4
        assert f"in use by another syncd (pid {holder.pid})" in result.stderr
    finally:
        holder.kill()
        holder.wait()


def test_daily_limit_holds_the_rest_without_failing(tmp_path: Path) -> None:
    server = Sandbox(host="127.0.0.1", port=0, tokens=[TEST_TOKEN], daily_limit=2)
    server.start()
    try:
        make_site(tmp_path / "site")
        config = write_config(tmp_path, server.api_url)
        result = run_syncd("--once", "--config", str(config), env=ENV)
        assert result.returncode == 0, result.stderr
        assert "daily limit" in result.stderr
        assert len(server.posts()) == 2
        plan = {i["source"]: i["action"] for i in plan_json(config)}
        assert plan["_posts/2025-07-20-third-time.markdown"] == "post"
    finally:
        server.stop()


def test_options_work_before_and_after_the_command(blog: Path) -> None:
    before = run_syncd("--config", str(blog), "plan", "--json")
    after = run_syncd("plan", "--json", "--config", str(blog))
    assert before.returncode == after.returncode == 0
    assert json.loads(before.stdout) == json.loads(after.stdout)
    quiet = run_syncd("-q", "--once", "--dry-run", "--config", str(blog), env=ENV)
    assert quiet.returncode == 0
    assert quiet.stderr.splitlines() == [
        "warning: _posts/2024-03-10-second-thoughts.md: line 8: image '/assets/pic.png' is not "
        "in the site folder; Medium will fetch https://blog.example/assets/pic.png: make sure "
        "it is published",
        "warning: _posts/2024-03-10-second-thoughts.md: line 8: an image inside a paragraph is "
        "shown after it (Medium has no inline images)",
        "warning: _posts/2025-07-20-third-time.markdown: Medium keeps only 3 tags; not sent: four",
    ]


def test_render_prints_exactly_what_would_be_sent(blog: Path, sandbox: Sandbox) -> None:
    result = run_syncd("render", "_posts/2025-07-20-third-time.markdown", "--config", str(blog))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "title: Third time\ntags: one, two, three\n"
        "canonical_url: https://blog.example/2025/07/20/third-time.html\n\n<h1>Third time</h1>\n"
    )
    assert "Medium keeps only 3 tags; not sent: four" in result.stderr
    run_syncd("--once", "--config", str(blog), env=ENV)
    sent = next(p for p in sandbox.posts() if p["request"]["title"] == "Third time")
    assert result.stdout.split("\n\n", 1)[1] == sent["request"]["content"]
    missing = run_syncd("render", "_posts/nope.md", "--config", str(blog))
    assert missing.returncode == 2
    assert "_posts/nope.md: no such post" in missing.stderr


def test_reads_are_retried_but_creates_never_are(blog: Path, sandbox: Sandbox) -> None:
    fault(sandbox, path="/v1/me", status=503, times=2)
    result = run_syncd("--once", "--config", str(blog), env=ENV)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("GET /me failed") == 2
    assert len(sandbox.posts()) == 3
    assert sandbox.faults() == []


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"html_403": True}, "Medium refused the post (403): HTTP 403 with a non-JSON body"),
        ({"status": 403, "message": "You may not publish here"},
         "Medium refused the post (403): You may not publish here"),
    ],
    ids=["cdn-html-403", "json-403"],
)
def test_a_403_is_reported_readably_and_the_pass_goes_on(
    blog: Path, sandbox: Sandbox, spec: dict[str, object], words: str
) -> None:
    fault(sandbox, path="/v1/users/*/posts", times=1, **spec)
    result = run_syncd("--once", "--config", str(blog), env=ENV)
    assert result.returncode == 1
    assert f"_posts/2024-01-05-first-steps.md: {words}" in result.stderr
    assert "<html" not in result.stderr.lower()
    assert len(sandbox.posts()) == 2


def test_429_with_retry_after_holds_the_post_without_recording_it(
    blog: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    fault(sandbox, path="/v1/users/*/posts", status=429, times=1,
          message="sandbox has reached the rate limit for publishing today.",
          headers={"Retry-After": "3600"})
    result = run_syncd("--once", "--config", str(blog), env=ENV)
    assert result.returncode == 0, result.stderr
    assert "Medium's daily limit" in result.stderr and "retry in 3600 s" in result.stderr
    assert sandbox.posts() == []
    assert json.loads(run_syncd("status", "--json", "--config", str(blog)).stdout) == {
        "posts": []}
    assert run_syncd("--once", "--config", str(blog), env=ENV).returncode == 0
    assert len(sandbox.posts()) == 3


def test_a_success_whose_body_cannot_be_read_is_in_doubt(blog: Path, sandbox: Sandbox) -> None:
    fault(sandbox, path="/v1/users/*/posts", status=201, body="<html>ok</html>", times=1,
          after=True)
    result = run_syncd("--once", "--config", str(blog), env=ENV)
    assert result.returncode == 1
    assert "_posts/2024-01-05-first-steps.md: IN DOUBT" in result.stderr
    assert len(sandbox.posts()) == 3
    again = run_syncd("--once", "--config", str(blog), env=ENV)
    assert len(sandbox.posts()) == 3
    assert again.returncode == 1


def test_the_token_appears_in_no_output_at_any_verbosity(
    blog: Path, sandbox: Sandbox
) -> None:
    fault(sandbox, path="/v1/users/*/posts", status=400, times=1)
    fault(sandbox, path="/v1/users/*/posts", drop="after", times=1)
    outputs = []
    for args in (["--once", "-v"], ["plan", "-v"], ["status", "-v", "--json"],
                 ["--once", "-v", "--dry-run"]):
        done = run_syncd(*args, "--config", str(blog), env=ENV)
        outputs.append(done.stdout + done.stderr)
    bad = run_syncd("--once", "-v", "--config", str(blog), env={"MEDIUM_TOKEN": "x" * 40})
    outputs.append(bad.stdout + bad.stderr)
    joined = "\n".join(outputs)
    assert "IN DOUBT" in joined and "refused the post" in joined
    assert TEST_TOKEN not in joined and "x" * 40 not in joined
    ledger = (blog.parent / "state" / "ledger.json").read_text()
    assert TEST_TOKEN not in ledger
    page = requests.get(sandbox.url + "/", timeout=5).text
    assert TEST_TOKEN not in page


def test_a_post_broken_between_the_read_and_its_turn_is_not_sent_and_the_rest_go(
        tmp_path: Path, sandbox: Sandbox) -> None:
    """A post file that stops reading as a post after the pass read the site (an editor
    saving half a file, a deploy) ended the whole pass (PostChanged), so every later post
    waited. The [notify] hook of the first post breaks the second, deterministically."""
    posts = {"_posts/2024-01-01-first.md": "---\ntitle: First\n---\nOne.\n",
             "_posts/2024-02-01-second.md": "---\ntitle: Second\n---\nTwo.\n",
             "_posts/2024-03-01-third.md": "---\ntitle: Third\n---\nThree.\n"}
    make_site(tmp_path / "site", posts)
    second = tmp_path / "site/_posts/2024-02-01-second.md"
    breaker = (f"{sys.executable} -c \"import pathlib; "
               f"pathlib.Path('{second}').write_bytes(b'---\\\\ntitle: Caf\\\\xe9\\\\n---\\\\n')\"")
    config = write_config(tmp_path, sandbox.api_url, extra=(
        f'\n[notify]\ncommand = {json.dumps(f"[ $SYNCD_TITLE = First ] && {breaker}; true")}\n'))
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 1, result.stderr
    assert "_posts/2024-02-01-second.md: not sent:" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p["request"]["title"] for p in sandbox.posts()) == ["First", "Third"]
    second.write_text(posts["_posts/2024-02-01-second.md"])
    again = run_syncd("--once", "--config", str(config), env=ENV)
    assert again.returncode == 0, again.stderr
    assert sorted(p["request"]["title"] for p in sandbox.posts()) == ["First", "Second", "Third"]
