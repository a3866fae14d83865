"""Local security: what other users of the machine, and the user's own hooks, can reach.

Another local user can plant symlinks in shared folders (/tmp) and in folders they can write;
syncd must never write through them. A ``[notify]`` command runs as syncd's own user: it must
not find the token in its environment, and must never hang a pass or fill syncd's memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import sys
import time
from pathlib import Path

import pytest
from conftest import TEST_TOKEN
from sitekit import make_site, run_syncd, write_config

from syncd.sandbox import Sandbox

ENV = {"MEDIUM_TOKEN": TEST_TOKEN}
NOTES = "_posts/2024-02-01-field-notes.md"
SITE = {NOTES: "---\ntitle: Field notes\n---\nWe walked to the lake at dawn.\n"}


@pytest.fixture
def blog(tmp_path: Path, sandbox: Sandbox) -> Path:
    make_site(tmp_path / "site", SITE)
    return write_config(tmp_path, sandbox.api_url, publish_status="public")


def fake_browser(folder: Path) -> tuple[Path, Path]:
    """A $BROWSER that only records the address it was given."""
    seen = folder / "browser-got"
    browser = folder / "fake-browser"
    browser.write_text(f"#!/bin/sh\necho \"$1\" > {seen}\n", encoding="utf-8")
    browser.chmod(0o700)
    return browser, seen


def assert_private_page(address: str) -> Path:
    page = Path(address.removeprefix("file://"))
    info = page.parent.lstat()
    assert stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert not page.is_symlink() and stat.S_IMODE(page.stat().st_mode) == 0o600
    assert "<h1>Field notes</h1>" in page.read_text(encoding="utf-8")
    return page


def test_render_open_never_writes_through_a_symlink_planted_in_the_shared_tmp(
        blog: Path, tmp_path: Path) -> None:
    shared_tmp = tmp_path / "shared-tmp"
    planted = tmp_path / "attacker"
    shared_tmp.mkdir()
    planted.mkdir()
    precious = tmp_path / "precious"
    precious.write_text("do not touch\n", encoding="utf-8")
    # What an attacker could prepare before the victim runs `syncd render --open`: the old
    # fixed folder name, pointing at their folder, holding the page's name as a symlink.
    (shared_tmp / f"syncd-render-{os.getuid()}").symlink_to(planted)
    (planted / "_posts-2024-02-01-field-notes.md.html").symlink_to(precious)
    browser, seen = fake_browser(tmp_path)

    result = run_syncd("render", NOTES, "--open", "--config", str(blog),
                       env={"BROWSER": str(browser), "TMPDIR": str(shared_tmp)})

    assert result.returncode == 0, result.stderr
    assert precious.read_text(encoding="utf-8") == "do not touch\n"
    address = result.stdout.strip()
    assert seen.read_text(encoding="utf-8").strip() == address
    page = assert_private_page(address)
    assert page.parent.parent == shared_tmp and page.parent.name != f"syncd-render-{os.getuid()}"


def test_render_open_uses_the_runtime_folder_only_when_it_is_private(
        blog: Path, tmp_path: Path) -> None:
    browser, _ = fake_browser(tmp_path)
    runtime = tmp_path / "run-user"
    runtime.mkdir(mode=0o700)
    result = run_syncd("render", NOTES, "--open", "--config", str(blog),
                       env={"BROWSER": str(browser), "XDG_RUNTIME_DIR": str(runtime),
                            "TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert assert_private_page(result.stdout.strip()).parent == runtime / "syncd"

    runtime.chmod(0o777)  # anyone could have planted things there: not used
    result = run_syncd("render", NOTES, "--open", "--config", str(blog),
                       env={"BROWSER": str(browser), "XDG_RUNTIME_DIR": str(runtime),
                            "TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    page = assert_private_page(result.stdout.strip())
    assert page.parent.parent == tmp_path and page.parent.name.startswith("syncd-render-")


def notify(config: Path, command: str, timeout_s: float) -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text + f"\n[notify]\ncommand = {json.dumps(command)}\n"
                             f"timeout_s = {timeout_s}\n", encoding="utf-8")


def detached_sleeper(pid_file: Path) -> str:
    """Shell words starting a process in its own session, holding the command's stderr (as a
    browser started by xdg-open does): killing the command's process group misses it."""
    return (f"{sys.executable} -c 'import os, time; os.setsid(); time.sleep(60)' >&2 & "
            f"echo $! > {pid_file}")


def stop(pid_file: Path) -> None:
    with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
        os.kill(int(pid_file.read_text(encoding="utf-8")), signal.SIGKILL)


@pytest.mark.parametrize("then, timeout_s, logged", [
    ("exit 0", 5, None),
    ("sleep 60", 1, "still running after 1 s: stopped"),
])
def test_a_notify_command_leaving_a_child_on_its_stderr_never_holds_the_pass(
        blog: Path, tmp_path: Path, sandbox: Sandbox, then: str, timeout_s: float,
        logged: str | None) -> None:
    pid_file = tmp_path / "sleeper.pid"
    notify(blog, f"{detached_sleeper(pid_file)}; {then}", timeout_s)
    try:
        started = time.monotonic()
        result = run_syncd("--once", "--config", str(blog), env=ENV, timeout=40)
        took = time.monotonic() - started
    finally:
        stop(pid_file)
    assert result.returncode == 0, result.stderr
    assert len(sandbox.posts()) == 1
    assert pid_file.exists()  # the command did run
    assert took < timeout_s + 4, f"the pass took {took:.1f} s"
    if logged:
        assert logged in result.stderr


def test_a_notify_command_writing_hundreds_of_megabytes_costs_syncd_no_memory(
        blog: Path, tmp_path: Path, sandbox: Sandbox) -> None:
    peak = tmp_path / "syncd-peak"
    # syncd's peak memory is read by the command itself, once it has said everything.
    notify(blog, f"head -c 300000000 /dev/zero >&2; grep VmHWM /proc/$PPID/status > {peak}; "
                 "echo last words >&2; exit 7", 30)
    result = run_syncd("--once", "--config", str(blog), env=ENV, timeout=60)
    assert result.returncode == 0, result.stderr
    assert len(sandbox.posts()) == 1
    [line] = [line for line in result.stderr.splitlines() if "notify command" in line]
    assert "exited with status 7: last words (the last of 300000011 bytes)" in line
    assert len(line) < 1000
    peak_kb = int(peak.read_text(encoding="utf-8").split()[1])
    assert peak_kb < 150_000, f"syncd peaked at {peak_kb} kB"


HOOK_LOOKS_AROUND = ("cat /proc/$PPID/environ > {out}/syncd-environ; env > {out}/own-environ; "
                     "echo $CREDENTIALS_DIRECTORY > {out}/credentials")


@pytest.mark.parametrize("how", ["token_env", "custom token_env", "token_file"])
def test_a_notify_command_finds_no_token_in_its_environment_or_in_syncds(
        tmp_path: Path, sandbox: Sandbox, how: str) -> None:
    make_site(tmp_path / "site", SITE)
    env = {"SOME_OTHER_SETTING": "kept"}
    if how == "token_file":
        token_file = tmp_path / "medium-token"
        token_file.write_text(TEST_TOKEN + "\n", encoding="utf-8")
        token_file.chmod(0o600)
        config = write_config(tmp_path, sandbox.api_url, token_file=str(token_file))
    elif how == "custom token_env":
        config = write_config(tmp_path, sandbox.api_url, token_env="BLOG_TOKEN")
        env["BLOG_TOKEN"] = TEST_TOKEN
    else:
        config = write_config(tmp_path, sandbox.api_url)
        env["MEDIUM_TOKEN"] = TEST_TOKEN
    notify(config, HOOK_LOOKS_AROUND.format(out=tmp_path), 10)

    result = run_syncd("--once", "--config", str(config), env=env)

    assert result.returncode == 0, result.stderr
    assert len(sandbox.posts()) == 1
    syncd_environ = (tmp_path / "syncd-environ").read_bytes()
    own_environ = (tmp_path / "own-environ").read_bytes()
    assert b"SOME_OTHER_SETTING=kept" in syncd_environ  # it did read syncd's environment
    assert TEST_TOKEN.encode() not in syncd_environ
    if how != "token_file":  # what the README says is left: the name, its value blanked
        name = "BLOG_TOKEN" if how == "custom token_env" else "MEDIUM_TOKEN"
        assert f"{name}=".encode() in syncd_environ
    assert TEST_TOKEN.encode() not in own_environ
    assert (tmp_path / "credentials").read_text(encoding="utf-8") == "\n"


def test_syncds_files_beside_the_ledger_are_private(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", {NOTES: SITE[NOTES] + "\n| a | b |\n|---|---|\n| 1 | 2 |\n"})
    config = write_config(tmp_path, sandbox.api_url, upload_images=True, tables="image")
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 0
    (tmp_path / "site/_posts/2024-03-01-second.md").write_text(
        "---\ntitle: Second\n---\nMore.\n", encoding="utf-8")
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    assert len(sandbox.posts()) == 2

    state = tmp_path / "state"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in state.iterdir()}
    assert {"ledger.json", "ledger.json.bak", "ledger.json.lock", "ledger.json.write.lock",
            "medium-images.json"} <= set(modes)
    assert modes == dict.fromkeys(modes, 0o600)


@pytest.mark.parametrize("lock", ["ledger.json.lock", "ledger.json.write.lock"])
def test_a_lock_file_planted_as_a_symlink_is_refused_never_written_through(
        blog: Path, tmp_path: Path, sandbox: Sandbox, lock: str) -> None:
    # A ledger folder that others can write: they can plant names in it.
    state = tmp_path / "state"
    state.mkdir(mode=0o777)
    precious = tmp_path / "precious"
    precious.write_text("do not touch\n", encoding="utf-8")
    (state / lock).symlink_to(precious)

    result = run_syncd("--once", "--config", str(blog), env=ENV)

    assert precious.read_text(encoding="utf-8") == "do not touch\n"
    assert result.returncode == 4
    assert f"the lock file {state / lock} is a symlink" in result.stderr
    assert sandbox.posts() == []
