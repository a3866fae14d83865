"""Rendering: the title heads the content, code survives, URLs are absolute, tags fit Medium."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sitekit import make_site

from syncd import render_context
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
    # The body's highest heading level is Medium's large heading; the title stays first.
    assert other.html.startswith("<h1>Hello</h1>\n<h1>Background</h1>")


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


def test_medium_has_two_heading_levels() -> None:
    html = render_post(make("## Big\n\n### Small\n\n#### Smaller\n\n##### Tiny\n")).html
    assert "<h1>Big</h1>\n<h2>Small</h2>\n<h2>Smaller</h2>\n<h2>Tiny</h2>" in html


def test_a_bare_embed_url_stays_a_bare_link_paragraph() -> None:
    html = render_post(make("Watch:\n\nhttps://www.youtube.com/watch?v=abc\n")).html
    assert ('<p><a href="https://www.youtube.com/watch?v=abc">'
            "https://www.youtube.com/watch?v=abc</a></p>") in html


def test_render_with_liquid_false_leaves_liquid_as_text_jekyll_shows() -> None:
    post = make("Literal {{ site.url }}.")
    literal = render_post(Post(**{**post.__dict__, "front_matter": {"render_with_liquid": False}}))
    assert "<p>Literal {{ site.url }}.</p>" in literal.html
    # Without a site folder, site.url is what the canonical URL proves it to be.
    assert '<p>Literal <a href="https://example.com">https://example.com</a>.</p>' in \
        render_post(post).html


def test_attribution_footer_links_the_canonical_url() -> None:
    html = render_post(make("Body.")).html
    assert html.endswith(
        '<hr>\n<p><em>Originally published at <a href="https://example.com/2020/01/02/'
        'hello.html">https://example.com/2020/01/02/hello.html</a></em></p>\n')


def test_render_post_without_a_context_reads_the_site_once(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """``render_post(post)`` alone, for every post of a site whose posts link each other:
    the site's post URLs are read once, not once per post (it was 23× slower than mistune)."""
    from syncd.config import SiteConfig
    from syncd.sites import read_site

    site = make_site(tmp_path / "site", {
        f"_posts/2024/2024-01-{day:02d}-day-{day}.md":
            f"---\ntitle: Day {day}\n---\nSee {{% post_url 2024-01-01-day-1 %}} and "
            f"{{% post_url 2024/2024-01-0{min(day, 9)}-day-{min(day, 9)} %}}.\n\n"
            "| a | b |\n|---|---|\n| 1 | 2 |\n"
        for day in range(1, 10)})
    posts = read_site(SiteConfig(generator="jekyll", root=site)).posts
    reads: list[Path] = []
    real = render_context._read_post_urls

    def counting(root: Path, *args: object) -> dict[str, str | None]:
        reads.append(root)
        return real(root, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(render_context, "_read_post_urls", counting)
    rendered = [render_post(post) for post in posts]
    assert len(reads) == 1
    first = "https://blog.example/2024/01/01/day-1.html"
    for post, result in zip(posts, rendered, strict=True):
        assert f'See <a href="{first}">' in result.html
        assert f' and <a href="{post.canonical_url}">' in result.html
        # Warnings name file lines: the table is on line 6 of every post file.
        assert "line 6: a table became preformatted text (Medium has no tables)" \
            in result.warnings


def test_the_site_address_from_canonical_urls_is_the_every_url_rule() -> None:
    """effective_site_url checks only the least and greatest URL; the same answer as
    checking every one, on random sets."""
    import random

    from syncd.render_context import effective_site_url

    def every_url_rule(data: dict[str, str], urls: list[str]) -> str | None:
        configured = data["url"].rstrip("/") + ("/" + data["baseurl"].strip("/")
                                                if data["baseurl"].strip("/") else "")
        if not urls:
            return configured or None
        if configured and all(u.startswith(configured + "/") for u in urls):
            return configured
        first = urls[0].split("/")
        origin = "/".join(first[:3])
        base = data["baseurl"].strip("/")
        with_base = origin + ("/" + base if base else "")
        return with_base if all(u.startswith(with_base + "/") for u in urls) else origin

    rng = random.Random(7)
    hosts = ["https://a.example", "https://b.example", "http://a.example"]
    for _ in range(2000):
        data = {"url": rng.choice(hosts + [""]), "baseurl": rng.choice(["", "/blog", "blog/"])}
        urls = [f"{rng.choice(hosts[:2] if rng.random() < 0.1 else hosts[:1])}"
                f"{rng.choice(['/blog', '/blogx', '', '/b'])}/{rng.randint(0, 9)}.html"
                for _ in range(rng.randint(0, 6))]
        assert effective_site_url(data, urls) == every_url_rule(data, urls), (data, urls)
