"""A scan's posts do not hold their bodies; ``post.body`` reads the file again when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.engine import fingerprint
from syncd.model import text_fingerprint
from syncd.sites import gatsby, jekyll
from syncd.sites.parsecache import ParseCache
from syncd.sites.postfile import PostChanged, parse_post_file

JEKYLL_POST = "---\ntitle: Hello\ntags: [a]\n---\nThe *body*,\n\n  with   spaces.\n"
GATSBY_POST = "---\ntitle: Hello\ndate: 2024-01-01\n---\nThe *body*.\n"


def jekyll_site(root: Path) -> Path:
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text("url: https://example.com\ntimezone: UTC\n")
    (root / "_posts/2024-01-01-hello.md").write_text(JEKYLL_POST, encoding="utf-8")
    (root / "_posts/2024-01-02-bare.md").write_text("No front matter.\n", encoding="utf-8")
    return root


def test_jekyll_posts_read_their_body_again(tmp_path: Path) -> None:
    posts = {p.source: p for p in jekyll.read_site(jekyll_site(tmp_path)).posts}
    hello, bare = posts["_posts/2024-01-01-hello.md"], posts["_posts/2024-01-02-bare.md"]

    assert not any(isinstance(vars(post)["body"], str) for post in posts.values())
    assert hello.body == "The *body*,\n\n  with   spaces.\n"
    assert bare.body == "No front matter.\n"
    assert fingerprint(hello) == text_fingerprint("Hello", hello.body)


def test_a_post_read_for_a_parse_cache_carries_the_fingerprint_of_what_was_read(
        tmp_path: Path) -> None:
    scan = jekyll.read_site(jekyll_site(tmp_path), cache=ParseCache())
    hello = next(p for p in scan.posts if p.source == "_posts/2024-01-01-hello.md")
    (tmp_path / "_posts/2024-01-01-hello.md").write_text("---\ntitle: Hello\n---\nEdited.\n")

    assert hello.fingerprint == text_fingerprint("Hello", "The *body*,\n\n  with spaces.")
    assert fingerprint(hello) == hello.fingerprint


def test_gatsby_posts_read_their_body_again(tmp_path: Path) -> None:
    (tmp_path / "content/blog/hello").mkdir(parents=True)
    (tmp_path / "content/blog/hello/index.md").write_text(GATSBY_POST, encoding="utf-8")
    (tmp_path / "gatsby-config.js").write_text(
        'module.exports = { siteMetadata: { siteUrl: "https://example.com" } }\n')
    (post,) = gatsby.read_site(tmp_path).posts

    assert not isinstance(vars(post)["body"], str)
    assert post.body == parse_post_file(post.path)[1] == "\nThe *body*.\n"
    assert fingerprint(post) == text_fingerprint("Hello", "The *body*.")


def test_a_body_that_cannot_be_read_again_says_so(tmp_path: Path) -> None:
    posts = {p.source: p for p in jekyll.read_site(jekyll_site(tmp_path)).posts}
    (tmp_path / "_posts/2024-01-01-hello.md").write_bytes(b"\x00binary")

    with pytest.raises(PostChanged, match="changed since syncd read it.*binary data"):
        _ = posts["_posts/2024-01-01-hello.md"].body


@pytest.mark.parametrize("generator", ["jekyll", "gatsby"])
def test_a_scanned_post_holds_only_the_judged_front_matter_keys(tmp_path: Path,
                                                                generator: str) -> None:
    """In the service's reading (lean), the keys every post is judged by are at hand; the
    rest of the front matter is read from the file when asked (it renders few of the
    posts it holds)."""
    front = "---\ntitle: Lean\ndate: 2024-01-01\nsyndicate: false\ndescription: Long\n---\nHi.\n"
    if generator == "jekyll":
        root = jekyll_site(tmp_path)
        path = root / "_posts/2024-01-03-lean.md"
        path.write_text(front, encoding="utf-8")
        reading = jekyll.JekyllSite(root, lean=True)
    else:
        root = tmp_path / "site"
        path = root / "content/blog/lean/index.md"
        path.parent.mkdir(parents=True)
        path.write_text(front, encoding="utf-8")
        (root / "gatsby-config.js").write_text(
            'module.exports = { siteMetadata: { siteUrl: "https://example.com" } }\n')
        reading = gatsby.GatsbySite(root, lean=True)
    post = next(p for p in reading.scan() if p.title == "Lean")
    assert post.front_matter["description"] == "Long"  # read again, in full
    post = next(p for p in reading.scan() if p.title == "Lean")
    path.unlink()
    assert post.front_matter["syndicate"] is False  # held: no file needed
    assert "medium" not in post.front_matter
    with pytest.raises(PostChanged):
        post.front_matter["description"]
