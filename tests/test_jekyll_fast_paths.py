"""The Jekyll reader's shortcuts give what the full rules give, on many random inputs.

``slugify`` and ``ruby.downcase`` skip the per-character Unicode walk for ASCII text, and
``Permalinks.absolute_url`` skips Addressable's normalisation when the site address and the
path are plain. Each is checked here against the rule it shortcuts (the per-character rule as
Jekyll states it, and the full ``absolute_url``); ``tests/test_urls_differential.py`` checks
the whole reader against a real ``jekyll build``.
"""

from __future__ import annotations

import datetime as dt
import random
import string
import unicodedata
from pathlib import Path

import pytest

from syncd.sites import ruby
from syncd.sites.jekyll import (
    JekyllConfig,
    Permalinks,
    absolute_url,
    discover,
    load_jekyll_config,
    slugify,
)

ASCII = string.printable + "\x00\x01\x7f"
PRETTY_KEEP = "._~!$&'()+,;=@"


def slugify_per_character(text: str, mode: str, cased: bool) -> str:
    """Utils.slugify as Jekyll states it: keep \\p{L}\\p{M}\\p{Nd} (and, pretty, a few
    punctuation marks), any other run becomes one '-', trimmed, lowercased unless cased."""
    out: list[str] = []
    in_run = False
    for ch in text:
        category = unicodedata.category(ch)
        keep = category[0] in ("L", "M") or category == "Nd" or (
            mode == "pretty" and ch in PRETTY_KEEP)
        if keep:
            out.append(ch)
            in_run = False
        elif not in_run:
            out.append("-")
            in_run = True
    slug = "".join(out).removeprefix("-").removesuffix("-")
    return slug if cased else "".join(ch.lower() for ch in slug)


def test_slugify_of_ascii_text_is_the_per_character_rule() -> None:
    rng = random.Random(9)
    for _ in range(20000):
        text = "".join(rng.choice(ASCII) for _ in range(rng.randint(0, 24)))
        for mode, cased in (("default", False), ("pretty", True), ("pretty", False)):
            assert slugify(text, mode=mode, cased=cased) == \
                slugify_per_character(text, mode, cased), (text, mode, cased)


def test_downcase_of_ascii_text_is_the_per_character_rule() -> None:
    rng = random.Random(10)
    for _ in range(5000):
        text = "".join(rng.choice(ASCII) for _ in range(rng.randint(0, 24)))
        assert ruby.downcase(text) == "".join(ch.lower() for ch in text)


SITES = ["https://example.com", "http://example.com", "https://example.com/", "https://Example.com",
         "HTTPS://example.com", "https://example.com:443", "https://example.com:8080",
         "https://example.com/blog", "https://example.com/blog/", "https://example.com/a/.",
         "https://example.com/a/..", "https://example.com.", "https://xn--caf-dma.example",
         "https://example.com/caf%C3%A9", "https://example.com?q", "https://example.com#f",
         "https://user@example.com", "https://café.example", "https://example.com/a//b",
         "https://a-b.example.org/x.y/~z"]
BASEURLS = ["", "/", "//", "blog", "/blog", "/blog/", "/blog//", "/./", "/..", "/a/../b", "/b.c",
            "/caf%C3%A9", "/café", "/~u", "/a b"]
PATH_CHARS = "abcXYZ019-._~/%:@!$&'()*+,;=é #?"


def permalinks(site_url: str, baseurl: str) -> Permalinks:
    return Permalinks(JekyllConfig(source="/site", url=site_url, baseurl=baseurl,
                                   permalink="date", timezone=dt.UTC,
                                   markdown_ext=frozenset({".md"})))


def full_rule(site_url: str, baseurl: str, url: str) -> str:
    try:
        return absolute_url(site_url, baseurl, url)
    except ruby.RubyError as exc:
        return f"error: {exc}"


def shortcut(site_url: str, baseurl: str, url: str) -> str:
    try:
        return permalinks(site_url, baseurl).absolute_url(url)
    except Exception as exc:  # noqa: BLE001 (the reader's error wraps the RubyError)
        return f"error: {exc}"


@pytest.mark.parametrize("site_url", SITES)
def test_absolute_url_shortcut_is_the_full_rule(site_url: str) -> None:
    rng = random.Random(site_url)
    paths = ["/2020/01/02/hello.html", "/2020/01/02/hello/", "/a/./b", "/a/../b", "/..", "/.",
             "//x", "/x//y", "/x/.y", "/x/..y/", "/x~y_z-1.2"]
    paths += ["/" + "".join(rng.choice(PATH_CHARS) for _ in range(rng.randint(0, 16)))
              for _ in range(150)]
    for baseurl in BASEURLS:
        for url in paths:
            expected = full_rule(site_url, baseurl, url)
            got = shortcut(site_url, baseurl, url)
            if expected.startswith("error"):
                assert got.startswith("error"), (site_url, baseurl, url, got)
            else:
                assert got == expected, (site_url, baseurl, url)


def test_the_posts_walk_keeps_os_walk_order_and_skips_what_jekyll_skips(tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "_config.yml").parent.mkdir(parents=True)
    (root / "_config.yml").write_text("url: https://example.com\n", encoding="utf-8")
    names = ["_posts/2020-01-01-b.md", "_posts/2020-01-01-a.md", "_posts/2019/2019-01-01-c.md",
             "_posts/2019/deep/2019-01-02-d.md", "_posts/2018/2018-01-01-e.md",
             "_posts/.hidden/2020-01-01-f.md", "_posts/.2020-01-01-g.md",
             "elsewhere/2017-01-01-h.md"]
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("---\ntitle: T\n---\n", encoding="utf-8")
    (root / "_posts/2016-01-01-linked.md").symlink_to(root / "elsewhere/2017-01-01-h.md")
    (root / "_posts/2015-01-01-dangling.md").symlink_to(root / "nowhere.md")
    (root / "_posts/linked-folder").symlink_to(root / "elsewhere")

    found = [post.source for post in discover(load_jekyll_config(root, None))]

    assert found == ["_posts/2016-01-01-linked.md", "_posts/2020-01-01-a.md",
                     "_posts/2020-01-01-b.md", "_posts/2018/2018-01-01-e.md",
                     "_posts/2019/2019-01-01-c.md", "_posts/2019/deep/2019-01-02-d.md"]


def test_remembered_walk_answers_follow_the_config(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from syncd.sites import jekyll
    from syncd.sites.jekyll import read_site

    monkeypatch.setattr(jekyll, "_REMEMBER_WALKS", True)  # as the service sets it
    jekyll._FILTER_MEMO.clear()

    site = tmp_path / "site"
    for name in ("_posts/2024-01-01-a.md", "_posts/2024-01-02-b.md",
                 "drafts-area/_posts/2024-01-03-c.md"):
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text("---\ntitle: T\n---\nx\n", encoding="utf-8")
    config = site / "_config.yml"

    def sources() -> list[str]:
        return sorted(post.source for post in read_site(site, "https://e.com").posts)

    config.write_text("exclude: [_posts/2024-01-02-b.md]\n", encoding="utf-8")
    assert sources() == ["_posts/2024-01-01-a.md", "drafts-area/_posts/2024-01-03-c.md"]
    config.write_text("exclude: [drafts-area/]\n", encoding="utf-8")
    assert sources() == ["_posts/2024-01-01-a.md", "_posts/2024-01-02-b.md"]
    (site / "drafts-area" / "_posts" / "2024-01-03-c.md").unlink()
    (site / "drafts-area" / "_posts").rmdir()
    (site / "drafts-area").rmdir()
    (site / "drafts-area").write_text("now a file\n", encoding="utf-8")
    assert sources() == ["_posts/2024-01-01-a.md", "_posts/2024-01-02-b.md"]
    config.write_text("title: none excluded\n", encoding="utf-8")
    assert sources() == ["_posts/2024-01-01-a.md", "_posts/2024-01-02-b.md"]
    assert jekyll._FILTER_MEMO, "the answers were remembered"
