"""Rendering: the title heads the content, code survives, URLs are absolute, tags fit Medium."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from syncd.model import Post
from syncd.render import medium_tags, render_post


def make(body: str, title: str = "Hello", tags: tuple[str, ...] = ()) -> Post:
    return Post(source="_posts/2020-01-02-hello.md", path=Path("/x"),
                canonical_url="https://example.com/2020/01/02/hello.html", title=title,
                date=dt.datetime(2020, 1, 2, tzinfo=dt.UTC), body=body, tags=tags)


def test_title_is_the_first_heading_and_not_doubled() -> None:
    rendered = render_post(make("# Hello\n\nFirst paragraph."))
    assert rendered.html.startswith("<h1>Hello</h1>\n")
    assert rendered.html.count("Hello") == 1
    assert "<p>First paragraph.</p>" in rendered.html
    other = render_post(make("## Background\n\ntext"))
    assert other.html.startswith("<h1>Hello</h1>\n<h2>Background</h2>")


def test_title_is_escaped() -> None:
    assert render_post(make("x", title="A <b> & C")).html.startswith("<h1>A &lt;b&gt; &amp; C</h1>")


def test_code_block_keeps_text_exactly() -> None:
    code = "if a < b && c:\n    print('<tag>')\n"
    html = render_post(make(f"```python\n{code}```\n")).html
    assert "<pre><code>if a &lt; b &amp;&amp; c:\n    print('&lt;tag&gt;')\n</code></pre>" in html
    assert "language-" not in html


def test_site_relative_urls_become_absolute() -> None:
    html = render_post(make("![pic](/assets/a.png) [next](../other.html) [ext](https://x.org/)")).html
    assert 'src="https://example.com/assets/a.png"' in html
    assert 'href="https://example.com/2020/01/other.html"' in html
    assert 'href="https://x.org/"' in html


def test_tags_follow_medium_rules_with_warnings() -> None:
    tags, warnings = medium_tags(("python", "a-tag-that-is-far-too-long-for-medium", "web",
                                  "python", "testing", "extra"))
    assert tags == ("python", "web", "testing")
    assert any("far-too-long" in w for w in warnings)
    assert any("extra" in w for w in warnings)
    assert medium_tags(("a", "b")) == (("a", "b"), [])
