"""Shared fixtures: a real Medium emulator on a loopback port, and scratch copies of sites."""

from __future__ import annotations

from collections.abc import Iterator

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
