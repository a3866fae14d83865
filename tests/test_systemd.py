"""The shipped systemd units are valid units, and wired to what syncd expects."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).parents[1] / "systemd"


@pytest.fixture
def units(tmp_path: Path) -> Path:
    """The units with ExecStart pointing at a binary that exists here."""
    for unit in UNITS.iterdir():
        text = unit.read_text().replace("/usr/local/bin/syncd", "/bin/true")
        (tmp_path / unit.name).write_text(text)
    shutil.copy(tmp_path / "syncd@.service", tmp_path / "syncd@blog.service")
    return tmp_path


def test_units_verify(units: Path) -> None:
    names = ["syncd.service", "syncd@blog.service", "syncd-once.service", "syncd-once.timer"]
    done = subprocess.run(["systemd-analyze", "verify", *names], cwd=units,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr


def test_service_is_hardened(units: Path) -> None:
    done = subprocess.run(["systemd-analyze", "security", "--offline=true", "syncd.service"],
                          cwd=units, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    score = float(done.stdout.split("Overall exposure level for syncd.service:")[1].split()[0])
    assert score <= 2.0, done.stdout


def test_service_matches_syncd() -> None:
    text = (UNITS / "syncd.service").read_text()
    assert "Type=notify" in text and "WatchdogSec=" in text
    assert "LoadCredential=medium-token:" in text
    assert "ExecReload=/bin/kill -HUP $MAINPID" in text
    assert "RestartPreventExitStatus=2 4" in text
    once = (UNITS / "syncd-once.service").read_text()
    assert "--once" in once
