"""``run_sandbox`` as a real process: startup lines, serving, and a clean stop on a signal.

Every wait has a deadline, so a sandbox that hangs fails the test instead of blocking it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0


def sandbox_command(tokens: list[str], port: int = 0) -> list[str]:
    """`syncd sandbox` as a user runs it."""
    command = [sys.executable, "-m", "syncd", "sandbox", "--port", str(port)]
    for token in tokens:
        command += ["--token", token]
    return command


@dataclass
class Running:
    """A sandbox process, its stdout as a queue of lines, its stderr in a file."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str | None]
    stderr: IO[str]

    def next_line(self, timeout: float = STARTUP_TIMEOUT_S) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no output within {timeout}s; stderr: {self.error_text()}")
        if line is None:
            pytest.fail(f"the sandbox exited early; stderr: {self.error_text()}")
        return line.rstrip("\n")

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the sandbox did not stop within {STOP_TIMEOUT_S}s of {signum}")

    def error_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()


@pytest.fixture
def run() -> Iterator[Callable[..., Running]]:
    """Start sandbox processes; any still running at the end is killed."""
    started: list[Running] = []
    with contextlib.ExitStack() as files:

        def start(tokens: list[str], port: int = 0, args: tuple[str, ...] = (),
                  env: dict[str, str] | None = None) -> Running:
            stderr = files.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
            process = subprocess.Popen(
                sandbox_command(tokens, port) + list(args),
                cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
            lines: queue.Queue[str | None] = queue.Queue()

            def pump() -> None:
                assert process.stdout is not None
                for line in process.stdout:
                    lines.put(line)
                lines.put(None)

            threading.Thread(target=pump, daemon=True).start()
            running = Running(process, lines, stderr)
            started.append(running)
            return running

        yield start
        for running in started:
            if running.process.poll() is None:
                running.process.kill()
                running.process.wait(timeout=STOP_TIMEOUT_S)
            if running.process.stdout is not None:
                running.process.stdout.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_prints_startup_lines_serves_and_stops_cleanly(
    run: Callable[..., Running], signum: int
) -> None:
    sandbox = run(["t"])
    listening = re.fullmatch(
        r"sandbox: listening on (http://127\.0\.0\.1:(\d+))", sandbox.next_line()
    )
    assert listening, "the first line names the address"
    url, port = listening.group(1), int(listening.group(2))
    assert port > 0, "port 0 is shown as the real port"
    user = re.fullmatch(r"sandbox: user ([0-9a-f]{12,}) @(\S+)", sandbox.next_line())
    assert user
    client_id = re.fullmatch(r"sandbox: oauth client_id (\S+)", sandbox.next_line())
    client_secret = re.fullmatch(r"sandbox: oauth client_secret (\S+)", sandbox.next_line())
    assert client_id and client_secret

    me = requests.get(f"{url}/v1/me", headers={"Authorization": "Bearer t"}, timeout=5)
    assert me.status_code == 200
    assert (me.json()["data"]["id"], me.json()["data"]["username"]) == user.groups()

    assert sandbox.stop(signum) == 0
    errors = sandbox.error_text()
    assert "Traceback" not in errors
    assert "sandbox: GET /v1/me 200" in errors
    assert sandbox.lines.get(timeout=STOP_TIMEOUT_S) is None, "nothing more on stdout"
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{url}/v1/me", timeout=2)


def test_without_a_token_one_is_generated_and_printed(run: Callable[..., Running]) -> None:
    sandbox = run([])
    url = sandbox.next_line().rsplit(" ", 1)[1]
    token_line = re.fullmatch(r"sandbox: token ([0-9a-f]{32,})", sandbox.next_line())
    assert token_line, "the generated token comes right after the address"
    token = token_line.group(1)
    assert sandbox.next_line().startswith("sandbox: user ")
    assert sandbox.next_line().startswith("sandbox: oauth client_id ")
    assert sandbox.next_line().startswith("sandbox: oauth client_secret ")
    me = requests.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert me.status_code == 200
    assert sandbox.stop(signal.SIGTERM) == 0
    errors = sandbox.error_text()
    assert "Traceback" not in errors
    assert token not in errors, "the request log never shows a token"


def test_a_taken_port_is_one_line_and_status_2(run: Callable[..., Running]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        sandbox = run(["t"], port=taken.getsockname()[1])
        try:
            status = sandbox.process.wait(timeout=STARTUP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail("the sandbox kept running on a taken port")
    assert status == 2
    errors = sandbox.error_text()
    assert "Traceback" not in errors
    assert "cannot listen on 127.0.0.1:" in errors


def test_tokens_from_a_file_and_the_environment_stay_out_of_argv(
    run: Callable[..., Running], tmp_path: Path
) -> None:
    token_file = tmp_path / "tokens"
    token_file.write_text("# made-up tokens\nfile-one  file-two # trailing comment\n\n",
                          encoding="utf-8")
    sandbox = run(["argv-token"], args=("--token-file", str(token_file)),
                  env={"SYNCD_SANDBOX_TOKENS": "env-one\nenv-two"})
    url = sandbox.next_line().rsplit(" ", 1)[1]
    users = [sandbox.next_line() for _ in range(5)]
    assert all(line.startswith("sandbox: user ") for line in users)
    assert sandbox.next_line().startswith("sandbox: oauth client_id ")
    for token in ("argv-token", "file-one", "file-two", "env-one", "env-two"):
        me = requests.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {token}"},
                          timeout=5)
        assert me.status_code == 200, token
    with open(f"/proc/{sandbox.process.pid}/cmdline", "rb") as cmdline:
        argv = cmdline.read().decode()
    assert "file-one" not in argv and "env-one" not in argv
    assert sandbox.stop(signal.SIGTERM) == 0


def test_an_unreadable_token_file_is_one_line_and_status_2(
    run: Callable[..., Running], tmp_path: Path
) -> None:
    token_file = tmp_path / "tokens"
    token_file.write_bytes(b"\xff\xfe")
    sandbox = run([], args=("--token-file", str(token_file)))
    assert sandbox.process.wait(timeout=STARTUP_TIMEOUT_S) == 2
    missing = run([], args=("--token-file", str(tmp_path / "absent")))
    assert missing.process.wait(timeout=STARTUP_TIMEOUT_S) == 2
    for started, words in ((sandbox, "is not UTF-8 text"), (missing, "No such file")):
        errors = started.error_text()
        assert words in errors and "Traceback" not in errors


def test_the_help_example_uses_a_made_up_token() -> None:
    shown = subprocess.run([sys.executable, "-m", "syncd", "sandbox", "--help"], cwd=ROOT,
                           capture_output=True, text=True, timeout=30, check=True).stdout
    assert "MEDIUM_TOKEN\"" not in shown and "$MEDIUM_TOKEN" not in shown
    assert "--token-file" in shown and "SYNCD_SANDBOX_TOKENS" in shown
    assert "never needs a real Medium token" in " ".join(shown.split())
