"""Tables too big to draw stay text (``[medium] tables = "image"``), quickly, in little memory.

A 1.8 MB post once took 57 s and 2.4 GB to draw: a picture costs with its area. These tests
run the real ``syncd render`` and read its peak memory from the kernel (``wait4``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sitekit import make_site, write_config

from syncd import tableimage
from syncd.tableimage import MAX_ROWS, TableTooBig, table_png

LONG_ROWS = "_posts/2024-05-01-long.md"
HUGE_CELL = "_posts/2024-05-02-huge-cell.md"
SMALL = "_posts/2024-05-03-small.md"
POSTS = {
    LONG_ROWS: "---\ntitle: Long\n---\n| n | square |\n|---|---|\n"
               + "".join(f"| {n} | {n * n} |\n" for n in range(5000)),
    HUGE_CELL: "---\ntitle: Huge cell\n---\n| what | text |\n|---|---|\n"
               "| all of it | " + "word " * 200_000 + "|\n",
    SMALL: "---\ntitle: Small\n---\n| a | b |\n|---|---|\n| 1 | 2 |\n",
}


def render(config: Path, source: str) -> tuple[str, str, float, int]:
    """``syncd render SOURCE``: its output, log, seconds taken and peak memory in kB."""
    out, err = config.parent / "out", config.parent / "err"
    started = time.monotonic()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen([sys.executable, "-m", "syncd", "render", source,
                                  "--config", str(config)], stdout=stdout, stderr=stderr,
                                 env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8",
                                      "TZ": "UTC", "HOME": str(config.parent)})
        _, status, usage = os.wait4(child.pid, 0)
    took = time.monotonic() - started
    assert os.waitstatus_to_exitcode(status) == 0, err.read_text(encoding="utf-8")
    return (out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8"), took,
            usage.ru_maxrss)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tables")
    make_site(folder / "site", POSTS)
    return write_config(folder, "http://127.0.0.1:9/v1", upload_images=True, tables="image")


@pytest.mark.parametrize("source, why", [
    (LONG_ROWS, "it is too big to draw: 5,001 rows (at most 100)"),
    (HUGE_CELL, "it is too big to draw: 1,000,016 characters (at most 10,000)"),
])
def test_a_table_too_big_to_draw_stays_text_and_says_why(config: Path, source: str,
                                                          why: str) -> None:
    html, log, took, peak_kb = render(config, source)
    assert (f"{source}: line 4: a table became preformatted text (Medium has no tables); "
            f"not an image: {why}") in log
    assert "<pre><code>| " in html and "syncd-table:" not in html
    assert peak_kb < 250_000, f"syncd render peaked at {peak_kb} kB"
    assert took < 20, f"syncd render took {took:.1f} s"


def test_a_small_table_is_still_drawn(config: Path) -> None:
    html, log, _, _ = render(config, SMALL)
    assert "a table became an image" in log and "syncd-table:table-" in html


def test_the_limits_are_checked_before_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TableTooBig) as raised:
        table_png(["n"], [[str(n)] for n in range(MAX_ROWS)])
    assert (raised.value.what, raised.value.count) == ("rows", MAX_ROWS + 1)
    monkeypatch.setattr(tableimage, "MAX_PIXELS", 10_000)
    with pytest.raises(TableTooBig) as raised:
        table_png(["a", "b"], [["1", "2"]])
    assert raised.value.what == "pixels in its picture" and raised.value.limit == 10_000
