"""`syncd demo`: the README's first command, run as a user runs it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sitekit import run_syncd

EXPECTED = Path(__file__).parent / "data" / "jekyll" / "example_site_expected.json"


def test_demo_posts_every_due_example_post_once_and_nothing_on_the_second_pass() -> None:
    result = run_syncd("demo", timeout=120)
    assert result.returncode == 0, result.stderr
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    now = dt.datetime.now(dt.UTC)
    due = {
        source: url
        for source, url in expected["posts"].items()
        if url is not None and dt.datetime.fromisoformat(expected["dates"][source]) <= now
    }
    assert len(due) >= 5
    created = [line for line in result.stdout.splitlines() if "https://medium.com/@" in line]
    assert len(created) == len(due)
    for source, url in due.items():
        row = next(line for line in created if f" {url} " in line)
        assert expected["titles"][source] in row
        assert f"{source}: posted" in result.stderr
    assert f"first pass: {len(due)} posted" in result.stderr
    assert "second pass: 0 posted" in result.stderr
    assert f"Second pass created 0 posts; the emulator holds {len(due)} posts" in result.stdout
