"""A lying network and odd API answers: what each proves, and that none crashes or hangs syncd.

The real client (:mod:`syncd.medium`) and the real command line talk to the emulator over a
real socket; the emulator's faults (redirects, arbitrary bodies, trickled answers) stand in
for a misbehaving Medium, proxy or captive portal.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_TOKEN
from sitekit import POSTS, make_site, run_syncd, write_config

from syncd.config import Secret
from syncd.medium import (
    MAX_ANSWER_BYTES,
    MAX_WAIT_S,
    InDoubt,
    MediumClient,
    MediumError,
    NotSent,
    RateLimited,
)
from syncd.sandbox import Sandbox

ENV = {"MEDIUM_TOKEN": TEST_TOKEN}
POSTS_PATH = "/v1/users/*/posts"
ONE_POST = {"_posts/2024-01-05-first-steps.md": POSTS["_posts/2024-01-05-first-steps.md"]}


def client_for(sandbox: Sandbox, timeout_s: float = 5.0) -> MediumClient:
    return MediumClient(sandbox.api_url, Secret(TEST_TOKEN), timeout_s)


def create(sandbox: Sandbox, timeout_s: float = 5.0) -> Any:
    client = client_for(sandbox, timeout_s)
    try:
        return client.create_post(
            {"title": "Hello", "contentFormat": "html", "content": "<p>hi</p>"},
            user_id=sandbox.users[0].id,
        )
    finally:
        client.close()


def ledger_states(config: Path) -> dict[str, str]:
    status = json.loads(run_syncd("status", "--json", "--config", str(config)).stdout)
    return {post["source"]: post["state"] for post in status["posts"]}


# --- 1. redirects ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("after", [False, True], ids=["before-store", "after-store"])
def test_a_redirect_on_a_create_is_in_doubt_and_never_followed(
    sandbox: Sandbox, status: int, after: bool
) -> None:
    # 301-303 make requests turn the POST into a GET of /v1/me, whose 200 (the profile)
    # read as "created"; 307/308 made it send the same post again.
    target = "/v1/me" if status < 307 else f"/v1/users/{sandbox.users[0].id}/posts"
    sandbox.add_fault(path=POSTS_PATH, status=status, location=target, after=after)
    with pytest.raises(InDoubt, match=f"{status}, a redirect to {target}"):
        create(sandbox)
    assert len(sandbox.posts()) == (1 if after else 0)


@pytest.mark.parametrize("location", ["http://[::1", "/\u00e9t\u00e9", "", "//evil.example/"])
def test_a_redirect_whose_location_cannot_be_parsed_is_no_crash(
    sandbox: Sandbox, location: str
) -> None:
    # Found by the fuzzer: requests parsed Location even when told not to follow it, and an
    # unparsable one raised ValueError or UnicodeDecodeError out of the client.
    sandbox.add_fault(path=POSTS_PATH, status=303, location=location, after=True)
    with pytest.raises(InDoubt):
        create(sandbox)
    sandbox.add_fault(path="/v1/me", status=302, location=location)
    client = client_for(sandbox)
    try:
        with pytest.raises(NotSent):
            client.me()
    finally:
        client.close()


def test_a_redirected_create_is_recorded_in_doubt_not_posted(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    make_site(tmp_path / "site", ONE_POST)
    config = write_config(tmp_path, sandbox.api_url)
    sandbox.add_fault(path=POSTS_PATH, status=302, location="/v1/me", after=True)
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 1, result.stderr
    assert "IN DOUBT" in result.stderr and "a redirect" in result.stderr
    assert ledger_states(config) == {"_posts/2024-01-05-first-steps.md": "in-doubt"}
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 1
    assert len(sandbox.posts()) == 1


# --- 2. odd answers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (201, {"data": {"id": "0123456789ab", "url": "https://medium.com/@someone"}}),
        (201, {"data": {"id": "0123456789ab", "url": "https://medium.com/@x/other-ffffffffffff"}}),
        (201, {"data": {"id": "0123456789ab"}}),
        (201, {"data": {"id": "0123456789ab", "url": ""}}),
        (201, {"data": {"id": "0123456789ab", "url": "javascript:alert(1)//-0123456789ab"}}),
        (201, {"data": {"id": "0123456789ab", "url": "https://medium.com/@x/\x1b[2J-0123456789ab"}}),
        (201, {"data": {"id": "0123456789ab", "url": "https://medium.com/@x/a b-0123456789ab"}}),
        (201, {"data": {"url": "https://medium.com/@x/a-0123456789ab"}}),
        (201, {"data": {"id": {"nested": 1}, "url": "https://medium.com/@x/a-0123456789ab"}}),
        (201, {"data": {"id": "../../me", "url": "https://medium.com/@x/a-../../me"}}),
        (201, {"data": []}),
        (201, {"data": "created"}),
        (201, {"data": None}),
        (201, {"errors": [{"message": "nope"}]}),
        (201, "not json at all"),
        (201, "[" * 100_000),
        (202, {"data": {"id": "0123456789ab", "url": "https://medium.com/@x/a-0123456789ab"}}),
        (204, None),
    ],
)
def test_a_create_answer_that_is_not_a_post_is_in_doubt(
    sandbox: Sandbox, status: int, body: Any
) -> None:
    spec: dict[str, Any] = {"path": POSTS_PATH, "status": status, "after": True}
    if body is not None:
        spec["body"] = body
    if isinstance(body, str):
        spec["headers"] = {"Content-Type": "application/json"}
    sandbox.add_fault(**spec)
    with pytest.raises(InDoubt):
        create(sandbox)


def test_a_huge_answer_is_not_read_whole_and_a_create_is_in_doubt(sandbox: Sandbox) -> None:
    post = {"id": "0123456789ab", "url": "https://medium.com/@x/a-0123456789ab",
            "padding": "x" * (MAX_ANSWER_BYTES + 1)}
    sandbox.add_fault(path=POSTS_PATH, status=201, body={"data": post}, after=True)
    with pytest.raises(InDoubt, match="larger than"):
        create(sandbox)


@pytest.mark.parametrize(
    "body",
    [{"data": {"username": "nobody"}}, {"data": []}, {"data": "me"}, {"data": None},
     {"data": {"id": "a/../../b"}}, "<html>captive portal</html>", "[" * 100_000],
    ids=["no-id", "list", "string", "null", "path-in-id", "html", "deep-json"],
)
def test_an_odd_me_answer_is_a_clear_error_for_a_pass_and_for_check(
    tmp_path: Path, sandbox: Sandbox, body: Any
) -> None:
    sandbox.add_fault(path="/v1/me", status=200, body=body, times=3,
                      headers={"Content-Type": "application/json"})
    client = client_for(sandbox)
    try:
        with pytest.raises(NotSent):
            client.me()
    finally:
        client.close()
    make_site(tmp_path / "site", ONE_POST)
    config = write_config(tmp_path, sandbox.api_url)
    checked = run_syncd("check", "--config", str(config), env=ENV)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert f"✗ cannot reach {sandbox.api_url}" in checked.stdout
    assert "Traceback" not in checked.stderr
    synced = run_syncd("--once", "--config", str(config), env=ENV)
    assert synced.returncode == 1 and "Traceback" not in synced.stderr
    assert sandbox.posts() == []


def test_odd_publication_lists_do_not_crash_check(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", ONE_POST)
    config = write_config(tmp_path, sandbox.api_url, publication_id="abc")
    sandbox.add_fault(path="/v1/users/*/publications", status=200,
                      body={"data": ["a string", 7, None, {"id": "abc", "name": "A"}]})
    sandbox.add_fault(path="/v1/publications/*/contributors", status=200,
                      body={"data": [[], "x", {"userId": sandbox.users[0].id, "role": "editor"}]})
    checked = run_syncd("check", "--config", str(config), env=ENV)
    assert "Traceback" not in checked.stderr
    assert "✓ publication 'A': you are editor" in checked.stdout


# --- 3. Retry-After --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("inf", MAX_WAIT_S), ("1e999", MAX_WAIT_S), ("-Infinity", 0.0), ("nan", None),
     ("-5", 0.0), ("99999999999999999999", MAX_WAIT_S), ("120", 120.0),
     ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_WAIT_S), ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
     ("soon", None)],
)
def test_retry_after_is_finite_and_bounded(
    sandbox: Sandbox, value: str, expected: float | None
) -> None:
    sandbox.add_fault(path=POSTS_PATH, status=429, headers={"Retry-After": value},
                      message="rate limit for publishing today")
    with pytest.raises(RateLimited) as raised:
        create(sandbox)
    wait = raised.value.retry_after
    assert wait == expected
    assert wait is None or math.isfinite(wait)


def test_an_infinite_retry_after_does_not_crash_the_service_pass(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    make_site(tmp_path / "site", ONE_POST)
    config = write_config(tmp_path, sandbox.api_url)
    sandbox.add_fault(path=POSTS_PATH, status=429, headers={"Retry-After": "1e999"},
                      message="rate limit for publishing today")
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    assert f"retry in {MAX_WAIT_S:g} s" in result.stderr


# --- 4. a whole-request deadline -------------------------------------------------------------


def test_a_trickled_create_answer_is_in_doubt_by_the_deadline(sandbox: Sandbox) -> None:
    # Each byte comes within the 0.3 s read timeout, so only a deadline on the whole request
    # stops it; the full answer would take about 15 s.
    sandbox.add_fault(path=POSTS_PATH, trickle_ms=25)
    started = time.monotonic()
    with pytest.raises(InDoubt, match="no complete answer"):
        create(sandbox, timeout_s=0.3)
    assert time.monotonic() - started < 5
    assert len(sandbox.posts()) == 1


def test_a_trickled_read_fails_by_the_deadline(sandbox: Sandbox) -> None:
    sandbox.add_fault(path="/v1/me", trickle_ms=25, times=3)
    client = client_for(sandbox, timeout_s=0.3)
    try:
        with pytest.raises(NotSent, match="no complete answer"):
            client.me()
    finally:
        client.close()


def test_a_trickled_create_in_a_pass_is_in_doubt(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", ONE_POST)
    config = write_config(tmp_path, sandbox.api_url, timeout_s=0.3)
    sandbox.add_fault(path=POSTS_PATH, trickle_ms=25)
    result = run_syncd("--once", "--config", str(config), env=ENV, timeout=30)
    assert result.returncode == 1, result.stderr
    assert ledger_states(config) == {"_posts/2024-01-05-first-steps.md": "in-doubt"}


def test_a_client_error_never_carries_the_token(sandbox: Sandbox) -> None:
    sandbox.add_fault(path=POSTS_PATH, status=302, location=f"/?t={TEST_TOKEN[:8]}x")
    with pytest.raises(MediumError) as raised:
        create(sandbox)
    assert TEST_TOKEN not in str(raised.value)


# --- 5. tokens HTTP cannot carry -------------------------------------------------------------

SECRET_PART = "s3cr3tpart"


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (f"{SECRET_PART}\nInjected: header", "MEDIUM_TOKEN"),
        (f"{SECRET_PART}€", "MEDIUM_TOKEN"),
        (f"{SECRET_PART}é", "MEDIUM_TOKEN"),
        (f"{SECRET_PART} {SECRET_PART}", "MEDIUM_TOKEN"),
        (f"{SECRET_PART}\0x".encode(), "token.txt"),
        (b"\xff\xfe" + SECRET_PART.encode(), "token.txt"),
        (b"", "token.txt"),
        (None, "token.txt"),
    ],
    ids=["newline", "not-latin-1", "latin-1", "space", "nul-in-file", "not-utf-8", "empty-file",
         "directory"],
)
def test_a_token_http_cannot_carry_is_a_config_error_naming_its_source(
    tmp_path: Path, sandbox: Sandbox, raw: str | bytes | None, where: str
) -> None:
    make_site(tmp_path / "site", ONE_POST)
    if isinstance(raw, str):
        config = write_config(tmp_path, sandbox.api_url)
        env = {"MEDIUM_TOKEN": raw}
    else:
        token_file = tmp_path / "token.txt"
        if raw is None:
            token_file.mkdir()
        else:
            token_file.write_bytes(raw)
            token_file.chmod(0o600)
        config = write_config(tmp_path, sandbox.api_url, token_file="token.txt")
        env = {}
    synced = run_syncd("--once", "--config", str(config), env=env)
    assert synced.returncode == 2, synced.stderr
    assert where in synced.stderr and "Traceback" not in synced.stderr
    assert SECRET_PART not in synced.stderr + synced.stdout
    checked = run_syncd("check", "--config", str(config), env=env)
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert "Traceback" not in checked.stderr
    lines = checked.stdout.splitlines()
    assert lines[0].startswith("✓ config ") and lines[1].startswith("✓ site ")
    assert "✗ no Medium token" in checked.stdout and where in checked.stdout
    assert "    fix: " in checked.stdout
    assert SECRET_PART not in checked.stdout + checked.stderr
    assert sandbox.posts() == []


def test_a_systemd_credential_that_is_not_utf8_is_named(tmp_path: Path, sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", ONE_POST)
    config = write_config(tmp_path, sandbox.api_url)
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "medium-token").write_bytes(b"\xff" + SECRET_PART.encode())
    synced = run_syncd("--once", "--config", str(config),
                       env={"CREDENTIALS_DIRECTORY": str(credentials)})
    assert synced.returncode == 2, synced.stderr
    assert "medium-token is not UTF-8" in synced.stderr and "Traceback" not in synced.stderr
    assert SECRET_PART not in synced.stderr


def test_text_from_an_answer_reaches_the_terminal_without_control_characters(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    make_site(tmp_path / "site", ONE_POST)
    config = write_config(tmp_path, sandbox.api_url)
    sandbox.add_fault(path="/v1/me", status=200,
                      body={"data": {"id": "abc123", "username": "\x1b[2Jevil\nforged line"}})
    checked = run_syncd("check", "--config", str(config), env=ENV)
    assert "authenticated as @?[2Jevil?forged line" in checked.stdout
    sandbox.add_fault(path=POSTS_PATH, status=403,
                      body={"errors": [{"message": "\x1b]0;title\x07no" + "!" * 5000}]})
    synced = run_syncd("--once", "--config", str(config), env=ENV)
    assert synced.returncode == 1
    assert "\x1b" not in synced.stderr + checked.stdout + checked.stderr
    assert "!" * 400 not in synced.stderr
