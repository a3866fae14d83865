"""``syncd login`` and its token file, end to end against the emulator's OAuth.

The login runs as a real process (or in-process where a test must move the emulator's clock),
and the test plays the browser: it reads the printed authorize URL and follows the
emulator's redirect to syncd's loopback callback. Refresh is proved by the pass that uses
the token, and every run is checked for leaked secrets.
"""

from __future__ import annotations

import io
import json
import os
import queue
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests
from conftest import TEST_TOKEN, ManualClock
from sitekit import POSTS, make_site, run_syncd, write_config

from syncd.config import load_config
from syncd.errors import SyncdError
from syncd.login import run_login
from syncd.sandbox import Sandbox

DAY_S = 24 * 60 * 60
ONE_POST = {"_posts/2024-01-05-first-steps.md": POSTS["_posts/2024-01-05-first-steps.md"]}
LOGIN_SECTION = '\n[login]\nclient_id = "{client_id}"\nauthorize_url = "{authorize_url}"\n'


def login_config(folder: Path, sandbox: Sandbox, login: bool = True,
                 token_file: str | None = "state/token.json") -> Path:
    """A one-post site and a config whose token lives in ``state/token.json``."""
    make_site(folder / "site", ONE_POST)
    medium = {} if token_file is None else {"token_file": token_file}
    extra = LOGIN_SECTION.format(client_id=sandbox.client_id,
                                 authorize_url=sandbox.url + "/m/oauth/authorize")
    return write_config(folder, sandbox.api_url, extra if login else "", **medium)


def env_with(secret: str | None) -> dict[str, str]:
    return {} if secret is None else {"MEDIUM_CLIENT_SECRET": secret}


class LoginProcess:
    """``syncd login --no-browser`` as a real process, its stdout read line by line."""

    def __init__(self, config: Path, secret: str) -> None:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "MEDIUM_CLIENT_SECRET": secret,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "syncd", "login", "--no-browser", "--config", str(config)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.proc.stdout is not None
        stdout = self.proc.stdout
        threading.Thread(target=lambda: [self.lines.put(line) for line in stdout],
                         daemon=True).start()

    def authorize_url(self, timeout_s: float = 15) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            self.seen.append(line)
            if line.startswith("http"):
                return line.strip()

    def finish(self, timeout_s: float = 15) -> tuple[int, str]:
        """The exit status, and everything the process wrote on stdout and stderr."""
        assert self.proc.stderr is not None
        status = self.proc.wait(timeout=timeout_s)
        stderr = self.proc.stderr.read()
        time.sleep(0.05)  # let the reader thread drain the last stdout lines
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return status, "".join(self.seen) + stderr

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def start_login() -> Iterator[Callable[[Path, str], LoginProcess]]:
    """Start login processes; any still running at the end of the test is killed."""
    started: list[LoginProcess] = []

    def start(config: Path, secret: str) -> LoginProcess:
        process = LoginProcess(config, secret)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def assert_private_token(path: Path) -> dict[str, object]:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = json.loads(path.read_text(encoding="utf-8"))
    assert set(token) == {"token_type", "access_token", "refresh_token", "scope", "expires_at"}
    assert token["access_token"] and token["refresh_token"]
    assert not [p for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.")]
    return token


def write_token(folder: Path, expires_in_s: float) -> Path:
    """A token file as syncd login writes it, expiring ``expires_in_s`` from now."""
    token_file = folder / "state" / "token.json"
    token_file.parent.mkdir(exist_ok=True)
    token_file.write_text(json.dumps({
        "token_type": "Bearer", "access_token": "a" * 64, "refresh_token": "b" * 64,
        "scope": ["basicProfile", "publishPost"],
        "expires_at": int(time.time() + expires_in_s) * 1000,
    }), encoding="utf-8")
    token_file.chmod(0o600)
    return token_file


def login_in_process(config_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
                     ) -> None:
    """run_login with a "browser" that follows the authorize URL from another thread."""

    def browse(url: str) -> bool:
        threading.Thread(target=requests.get, args=(url,), kwargs={"timeout": 10},
                         daemon=True).start()
        return True

    monkeypatch.setattr("webbrowser.open", browse)
    config = load_config(config_path)
    run_login(config, {"MEDIUM_CLIENT_SECRET": sandbox.client_secret}, open_browser=True,
              port=0, timeout_s=10)


def test_login_stores_a_private_token_that_a_pass_then_uses(
    tmp_path: Path, sandbox: Sandbox, start_login: Callable[[Path, str], LoginProcess]
) -> None:
    config = login_config(tmp_path, sandbox)
    login = start_login(config, sandbox.client_secret)
    url = login.authorize_url()
    assert f"client_id={sandbox.client_id}" in url and "response_type=code" in url
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url and "publishPost" in url

    browser = requests.get(url, allow_redirects=True, timeout=10)
    assert browser.status_code == 200 and "close this tab" in browser.text
    code = dict(parse_qsl(urlsplit(browser.history[0].headers["Location"]).query))["code"]

    status, said = login.finish()
    assert status == 0, said
    assert f"authenticated as @{sandbox.users[0].username}" in said
    token = assert_private_token(tmp_path / "state" / "token.json")
    assert token["expires_at"] > (time.time() + 59 * DAY_S) * 1000

    synced = run_syncd("--once", "--config", str(config))
    assert synced.returncode == 0, synced.stderr
    assert [p["request"]["title"] for p in sandbox.posts()] == ["First steps"]
    for secret in (token["access_token"], token["refresh_token"], sandbox.client_secret, code):
        assert secret not in said + synced.stdout + synced.stderr


def test_denied_authorization_stores_nothing(
    tmp_path: Path, sandbox: Sandbox, start_login: Callable[[Path, str], LoginProcess]
) -> None:
    config = login_config(tmp_path, sandbox)
    login = start_login(config, sandbox.client_secret)
    browser = requests.get(with_query(login.authorize_url(), sandbox_deny="1"), timeout=10)
    assert browser.status_code == 400 and "access denied" in browser.text

    status, said = login.finish()
    assert status == 3
    assert "access denied" in said and "syncd login" in said
    assert not (tmp_path / "state" / "token.json").exists()


def test_a_redirect_with_the_wrong_state_is_refused_and_its_code_never_used(
    tmp_path: Path, sandbox: Sandbox, start_login: Callable[[Path, str], LoginProcess]
) -> None:
    config = login_config(tmp_path, sandbox)
    login = start_login(config, sandbox.client_secret)
    url = login.authorize_url()
    answer = requests.get(url, allow_redirects=False, timeout=10)
    callback = with_query(answer.headers["Location"], state="forged")
    code = dict(parse_qsl(urlsplit(callback).query))["code"]

    assert requests.get(callback, timeout=10).status_code == 400
    status, said = login.finish()
    assert status == 2
    assert "state does not match" in said and code not in said
    assert not (tmp_path / "state" / "token.json").exists()
    exchange = requests.post(sandbox.api_url + "/tokens", timeout=10, data={
        "code": code, "client_id": sandbox.client_id, "client_secret": sandbox.client_secret,
        "grant_type": "authorization_code",
        "redirect_uri": dict(parse_qsl(urlsplit(url).query))["redirect_uri"],
    })
    assert exchange.status_code == 201  # the code was still unused


def test_a_token_near_expiry_is_refreshed_before_the_pass_uses_it(
    tmp_path: Path, make_sandbox: Callable[..., Sandbox], clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.now = time.time() - 55 * DAY_S  # the token is issued 55 days ago
    sandbox = make_sandbox(clock=clock)
    config = login_config(tmp_path, sandbox)
    login_in_process(config, sandbox, monkeypatch)
    token_file = tmp_path / "state" / "token.json"
    old = assert_private_token(token_file)
    clock.now = time.time()  # 5 days of life left: inside the 7-day window

    synced = run_syncd("--once", "--config", str(config), env=env_with(sandbox.client_secret))
    assert synced.returncode == 0, synced.stderr
    assert "refreshed the Medium token (expires" in synced.stderr
    new = assert_private_token(token_file)
    assert new["access_token"] != old["access_token"]
    assert new["expires_at"] > (time.time() + 59 * DAY_S) * 1000
    assert len(sandbox.posts()) == 1
    for secret in (old["access_token"], new["access_token"], new["refresh_token"]):
        assert secret not in synced.stdout + synced.stderr


def test_a_failed_refresh_falls_back_on_a_token_still_valid(
    tmp_path: Path, make_sandbox: Callable[..., Sandbox], clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.now = time.time() - 55 * DAY_S
    sandbox = make_sandbox(clock=clock)
    config = login_config(tmp_path, sandbox)
    login_in_process(config, sandbox, monkeypatch)
    token_file = tmp_path / "state" / "token.json"
    before = token_file.read_bytes()

    synced = run_syncd("--once", "--config", str(config), env=env_with("not-the-secret"))
    assert synced.returncode == 0, synced.stderr
    assert "could not be refreshed" in synced.stderr and "not-the-secret" not in synced.stderr
    assert token_file.read_bytes() == before
    assert len(sandbox.posts()) == 1


def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = login_config(tmp_path, sandbox)
    token_file = write_token(tmp_path, expires_in_s=DAY_S)
    renewed_until = int(time.time() + 60 * DAY_S) * 1000
    # Medium may answer a refresh without a refresh token; this one hands out the sandbox's
    # integration token, so the pass can prove the refreshed token is the one used.
    sandbox.add_fault(path="/v1/tokens", method="POST", status=201, body={
        "token_type": "Bearer", "access_token": TEST_TOKEN, "scope": ["basicProfile"],
        "expires_at": renewed_until,
    })

    synced = run_syncd("--once", "--config", str(config), env=env_with(sandbox.client_secret))
    assert synced.returncode == 0, synced.stderr
    assert sandbox.faults() == []
    token = assert_private_token(token_file)
    assert token["access_token"] == TEST_TOKEN and token["refresh_token"] == "b" * 64
    assert token["expires_at"] == renewed_until
    assert len(sandbox.posts()) == 1


def test_an_expired_token_that_cannot_be_refreshed_stops_with_status_3(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = login_config(tmp_path, sandbox, login=False)
    write_token(tmp_path, expires_in_s=-DAY_S)

    synced = run_syncd("--once", "--config", str(config))
    assert synced.returncode == 3, synced.stderr
    assert "expired" in synced.stderr and "run `syncd login` again" in synced.stderr
    assert sandbox.posts() == []


def test_a_broken_token_file_names_the_key_and_the_fix(tmp_path: Path, sandbox: Sandbox) -> None:
    config = login_config(tmp_path, sandbox)
    token_file = tmp_path / "state" / "token.json"
    token_file.parent.mkdir()
    token_file.write_text('{"access_token": "half', encoding="utf-8")
    token_file.chmod(0o600)

    synced = run_syncd("--once", "--config", str(config))
    assert synced.returncode == 2
    assert "medium.token_file" in synced.stderr and "syncd login" in synced.stderr


@pytest.mark.parametrize(
    ("login", "token_file", "secret", "key"),
    [
        (False, "state/token.json", "s3cret", "login"),
        (True, None, "s3cret", "medium.token_file"),
        (True, "state/token.json", None, "login.client_secret_env"),
    ],
    ids=["no-login-section", "no-token-file", "no-client-secret"],
)
def test_login_config_errors_name_the_key(
    tmp_path: Path, sandbox: Sandbox, login: bool, token_file: str | None, secret: str | None,
    key: str,
) -> None:
    config = login_config(tmp_path, sandbox, login=login, token_file=token_file)
    result = run_syncd("login", "--no-browser", "--config", str(config), env=env_with(secret),
                       timeout=15)
    assert result.returncode == 2, result.stderr
    assert f"{config}: {key}: " in result.stderr
    assert "http" not in result.stdout  # no authorize URL: it failed before the browser


def test_no_redirect_within_the_wait_stores_nothing(
    tmp_path: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(login_config(tmp_path, sandbox))
    with pytest.raises(SyncdError, match="no answer from the browser"):
        run_login(config, {"MEDIUM_CLIENT_SECRET": sandbox.client_secret}, open_browser=False,
                  port=0, timeout_s=0.2)
    assert "ssh -L" in capsys.readouterr().out
    assert not (tmp_path / "state" / "token.json").exists()


@pytest.mark.parametrize("expires_at", [1e300, float("inf"), float("nan"), -1],
                         ids=["far", "infinite", "nan", "negative"])
def test_a_refresh_answer_whose_expiry_is_no_date_is_not_a_token(
    tmp_path: Path, sandbox: Sandbox, expires_at: float
) -> None:
    config = login_config(tmp_path, sandbox)
    token_file = write_token(tmp_path, expires_in_s=DAY_S)
    before = token_file.read_bytes()
    sandbox.add_fault(path="/v1/tokens", method="POST", status=201, body={
        "token_type": "Bearer", "access_token": TEST_TOKEN, "refresh_token": "c" * 64,
        "expires_at": expires_at,
    })

    synced = run_syncd("--once", "--config", str(config), env=env_with(sandbox.client_secret))
    assert "Traceback" not in synced.stderr
    assert "could not be refreshed" in synced.stderr and "not a token object" in synced.stderr
    assert token_file.read_bytes() == before
    assert synced.returncode == 3  # the old token, used until it expires, is not the sandbox's


def test_a_redirected_token_exchange_is_not_followed_so_the_secret_stays_home(
    tmp_path: Path, sandbox: Sandbox, make_sandbox: Callable[..., Sandbox]
) -> None:
    # A 307 asks the client to POST the same body, client secret and refresh token included,
    # wherever Location says; requests did, even to another host.
    elsewhere_log = io.StringIO()
    elsewhere = make_sandbox(log=elsewhere_log)
    config = login_config(tmp_path, sandbox)
    token_file = write_token(tmp_path, expires_in_s=DAY_S)
    before = token_file.read_bytes()
    sandbox.add_fault(path="/v1/tokens", method="POST", status=307,
                      location=f"{elsewhere.api_url}/tokens")

    synced = run_syncd("--once", "--config", str(config), env=env_with(sandbox.client_secret))
    assert "could not be refreshed" in synced.stderr and "redirect (307)" in synced.stderr
    assert "Traceback" not in synced.stderr
    assert token_file.read_bytes() == before
    assert elsewhere_log.getvalue() == ""
