"""A missing ledger beside traces of one is lost, not a first run: syncd refuses (exit 4).

Medium cannot list a user's posts, so once the ledger is gone, only the files syncd left
beside it can tell that posts went out already; each one alone must be enough.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from conftest import TEST_TOKEN
from sitekit import make_site, run_syncd, write_config

from syncd.errors import LostLedger
from syncd.ledger import POSTING, Entry, Ledger, Trace
from syncd.sandbox import Sandbox
from syncd.sites.parsecache import SETTLE_S

ENV = {"MEDIUM_TOKEN": TEST_TOKEN}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def _posts(count: int) -> dict[str, str]:
    posts = {f"_posts/2024-01-{i + 1:02d}-post-{i}.md": f"---\ntitle: Post {i}\n---\nText {i}.\n"
             for i in range(count)}
    posts["_posts/2024-01-01-post-0.md"] += "\n![a picture](/assets/pic.png)\n"
    return posts


def _first_pass(tmp_path: Path, sandbox: Sandbox) -> Path:
    """A blog of three posts (one with an uploaded image), all posted by one pass."""
    make_site(tmp_path / "site", _posts(3))
    (tmp_path / "site/assets").mkdir()
    (tmp_path / "site/assets/pic.png").write_bytes(PNG)
    config = write_config(tmp_path, sandbox.api_url, first_run_limit=3, upload_images=True)
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    assert len(sandbox.posts()) == 3
    return config


def _refused(config: Path, sandbox: Sandbox, *names: str) -> str:
    """``--once`` posts nothing and exits 4, naming each of these files beside the ledger."""
    before = len(sandbox.posts())
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 4, result.stderr
    assert len(sandbox.posts()) == before
    state = config.parent / "state"
    assert f"the ledger {state / 'ledger.json'} is missing" in result.stderr
    for name in names:
        assert str(state / name) in result.stderr
    assert not (state / "ledger.json").exists()
    return result.stderr


def test_a_ledger_deleted_after_the_first_pass_is_not_a_first_run(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = _first_pass(tmp_path, sandbox)
    state = tmp_path / "state"
    assert not (state / "ledger.json.bak").exists()  # not yet: the guard needs no copy
    (state / "ledger.json").unlink()
    message = _refused(config, sandbox, "ledger.json.write.lock", "medium-images.json")
    assert "Restore" in message and "from your own backup" in message
    assert "rm " in message  # how to start afresh, if that is really meant


def _wait_until_settled(path: Path) -> None:
    changed = max(path.stat().st_mtime, path.stat().st_ctime)
    deadline = time.monotonic() + SETTLE_S + 5
    while time.time() - changed < SETTLE_S + 0.1:
        assert time.monotonic() < deadline
        time.sleep(0.05)


TRACES = ["ledger.json.bak", "ledger.json.journal", "ledger.json.write.lock",
          "parse-cache.ledger.json", "medium-images.json"]


def test_each_trace_alone_makes_a_missing_ledger_a_refusal(tmp_path: Path,
                                                           sandbox: Sandbox) -> None:
    config = _first_pass(tmp_path, sandbox)
    state = tmp_path / "state"
    later = tmp_path / "site/_posts/2024-02-01-later.md"
    later.write_text("---\ntitle: Later\n---\nLate.\n")
    _wait_until_settled(later)  # the parse cache keeps only files that stopped changing
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 0  # a .bak now
    # A pass stopped mid-request leaves its journal.
    Ledger(state / "ledger.json").record(
        Entry(canonical_url="https://blog.example/x.html", source="_posts/x.md", state=POSTING))
    (state / "ledger.json").unlink()
    kept = tmp_path / "kept"
    kept.mkdir()
    for name in TRACES:
        shutil.move(state / name, kept / name)
    for name in TRACES:
        shutil.copy(kept / name, state / name)
        message = _refused(config, sandbox, name)
        if name == "ledger.json.bak":
            assert f"cp {state / 'ledger.json.bak'} {state / 'ledger.json'}" in message
        (state / name).unlink()
    # With every trace gone, as the message says, it is a first run again: the guard asks.
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 2 and "first run" in result.stderr, result.stderr
    assert len(sandbox.posts()) == 4


def test_every_command_refuses_a_lost_ledger(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", _posts(2))
    config = write_config(tmp_path, sandbox.api_url)
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 0
    ledger = tmp_path / "state/ledger.json"
    ledger.unlink()
    for command in (["adopt", "--all"], ["adopt", "_posts/2024-01-02-post-1.md"],
                    ["resolve", "_posts/2024-01-02-post-1.md", "--not-posted"],
                    ["ack", "--all"], ["plan"], ["status"], ["check"]):
        result = run_syncd(*command, "--config", str(config), env=ENV)
        assert result.returncode == 4, (command, result.stderr)
        assert f"the ledger {ledger} is missing" in result.stdout + result.stderr, command
        assert not ledger.exists()
    assert len(sandbox.posts()) == 2


def test_a_first_run_stopped_by_the_guard_leaves_no_trace(tmp_path: Path,
                                                          sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", _posts(5))
    config = write_config(tmp_path, sandbox.api_url, first_run_limit=3)
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 2
    adopted = run_syncd("adopt", "--all", "--config", str(config))
    assert adopted.returncode == 0, adopted.stderr
    assert "adopted 5 posts" in adopted.stderr
    assert sandbox.posts() == []


def test_a_target_that_lists_its_posts_can_witness_a_lost_ledger(tmp_path: Path) -> None:
    class ListsItsPosts:
        def traces(self, ledger: Path) -> list[Trace]:
            return [Trace("2 posts on the target", None)]

    path = tmp_path / "ledger.json"
    with pytest.raises(LostLedger) as caught:
        Ledger(path, witnesses=[ListsItsPosts()])
    assert f"the ledger {path} is missing, but 2 posts on the target:" in str(caught.value)
    assert caught.value.exit_status == 4
    assert Ledger(path).entries() == {}  # no witness, no file beside it: a first run
