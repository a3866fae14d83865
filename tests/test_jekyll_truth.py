"""The Jekyll reader against URLs recorded from a real ``jekyll build --future``.

Each folder under ``tests/data/jekyll/`` is a small site with an ``expected.json`` written by
``tests/data/jekyll/record.py``; the bundled example site is recorded the same way into
``example_site_expected.json``. Re-record after changing a case: ``python3
tests/data/jekyll/record.py [case ...]`` (needs Jekyll: ``apt-get install jekyll``).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data" / "jekyll"
EXAMPLE_SITE = Path(__file__).parents[1] / "syncd" / "example_site"

# A machine zone far from every case's `timezone:`, so a reader that leans on the machine's
# zone instead of _config.yml gets days wrong here (recordings are made with TZ=UTC).
MACHINE_ZONE = "Pacific/Kiritimati"


def _cases() -> dict[str, tuple[Path, Path]]:
    cases = {
        folder.name: (folder, folder / "expected.json")
        for folder in sorted(DATA.iterdir())
        if (folder / "_config.yml").is_file()
    }
    cases["example_site"] = (EXAMPLE_SITE, DATA / "example_site_expected.json")
    return cases


CASES = _cases()


def _load(name: str) -> tuple[Path, dict[str, Any]]:
    site, expected = CASES[name]
    return site, json.loads(expected.read_text(encoding="utf-8"))


@pytest.fixture
def machine_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", MACHINE_ZONE)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("name", list(CASES))
def test_canonical_urls_match_jekyll(name: str, machine_zone: None) -> None:
    from syncd.sites.jekyll import read_site

    site, expected = _load(name)
    scan = read_site(site)
    got = {post.source: post.canonical_url for post in scan.posts if not post.draft}
    assert scan.errors == ()
    # A file Jekyll does not read at all (hidden, excluded, a backup, no date in its name)
    # is not a post to syncd either; one it reads but does not publish has no URL.
    published = {source: url for source, url in expected["posts"].items() if url is not None}
    assert {source: url for source, url in got.items() if url is not None} == published
    assert set(got) <= set(expected["posts"])
    # Drafts are never published (the recordings hold no key for them); a reader that
    # reports them marks them as drafts with no URL.
    drafts = {post.source: post.canonical_url for post in scan.posts if post.draft}
    assert set(drafts) <= set(_drafts(site))
    assert all(url is None for url in drafts.values())


def _drafts(site: Path) -> list[str]:
    folder = site / "_drafts"
    files = folder.rglob("*") if folder.is_dir() else []
    return sorted(path.relative_to(site).as_posix() for path in files if path.is_file())


@pytest.mark.parametrize("name", list(CASES))
def test_dates_and_titles_match_jekyll(name: str, machine_zone: None) -> None:
    """``post.date`` is the same instant in the same UTC offset as Jekyll's ``page.date``
    (the offset decides the URL's day), and the title is Jekyll's ``page.title``."""
    from syncd.sites.jekyll import read_site

    site, expected = _load(name)
    posts = {post.source: post for post in read_site(site).posts}
    dates = {
        source: (posts[source].date, posts[source].date.utcoffset())
        for source in expected["dates"]
        if source in posts
    }
    want = {
        source: (dt.datetime.fromisoformat(text), dt.datetime.fromisoformat(text).utcoffset())
        for source, text in expected["dates"].items()
    }
    assert dates == want
    titles = {source: posts[source].title for source in expected["titles"] if source in posts}
    assert titles == expected["titles"]


@pytest.mark.parametrize("name", list(CASES))
def test_recording_is_in_sync_with_its_site(name: str) -> None:
    """Every file in a ``_posts`` folder has a key and every key is a file; drafts are
    never keys; the site pins its zone so the recording does not depend on the machine."""
    site, expected = _load(name)
    files = sorted(
        path.relative_to(site).as_posix()
        for path in site.rglob("*")
        if path.is_file()
        and "_posts" in path.relative_to(site).parts[:-1]
        and path.relative_to(site).parts[0] not in ("_site", ".jekyll-cache")
    )
    assert files, f"{name}: no post files"
    assert sorted(expected["posts"]) == files
    assert not any(key.startswith("_drafts/") for key in expected["posts"])
    assert expected["jekyll"].startswith("jekyll ")
    published = {key for key, url in expected["posts"].items() if url is not None}
    assert set(expected["dates"]) == published
    assert set(expected["titles"]) == published
    config = (site / "_config.yml").read_text(encoding="utf-8")
    assert any(line.startswith("timezone:") for line in config.splitlines())


def test_every_case_is_recorded() -> None:
    for name, (_site, expected) in CASES.items():
        assert expected.is_file(), f"{name}: run tests/data/jekyll/record.py {name}"
