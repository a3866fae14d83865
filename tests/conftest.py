"""Shared fixtures: a real Medium emulator on a loopback port, and scratch copies of sites."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from syncd.sandbox import Sandbox

TEST_TOKEN = "2b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfe"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A Medium emulator serving on 127.0.0.1 on a free port, one user per token."""
    server = Sandbox(host="127.0.0.1", port=0, tokens=[TEST_TOKEN])
    server.start()
    try:
        yield server
    finally:
        server.stop()


class ManualClock:
    """A clock (epoch seconds) that only moves when a test says so."""

    def __init__(self, now: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock to hand to ``Sandbox(clock=...)``: the daily limit and token expiry."""
    return ManualClock()


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with custom options (loopback, port 0, TEST_TOKEN unless given);
    every one started is stopped at the end of the test."""
    started: list[Sandbox] = []

    def make(**options: Any) -> Sandbox:
        options.setdefault("host", "127.0.0.1")
        options.setdefault("port", 0)
        options.setdefault("tokens", [TEST_TOKEN])
        server = Sandbox(**options)
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
