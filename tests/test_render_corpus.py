"""The render corpus: real-world posts (tests/data/render) as Medium will receive them.

Every post renders to HTML holding only the tags and attributes Medium keeps, loses none of
its text, has every URL absolute, and carries one warning per thing it had to degrade, with
the line; the emulator then receives exactly that HTML, and `syncd render` shows it.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import TEST_TOKEN
from sitekit import run_syncd

from syncd.config import load_config
from syncd.model import Post
from syncd.render import render_post
from syncd.render_context import RenderContext
from syncd.sandbox import Sandbox
from syncd.sites.jekyll import read_site
from syncd.sites.postfile import parse_post_file

CORPUS = Path(__file__).parent / "data" / "render"
MEDIUM_TAGS = {"h1", "h2", "p", "strong", "em", "a", "ul", "ol", "li", "blockquote", "pre",
               "code", "img", "figure", "figcaption", "hr", "br"}
MEDIUM_ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt"}}

# What each post had to give up, as `syncd plan` shows it: exactly these, in this order.
EXPECTED_WARNINGS = {
    "_posts/2024-01-10-code-with-html-characters.md": [],
    "_posts/2024-02-11-lists-and-tables.md": [
        "line 10: a nested list is folded into its parent items",
        "line 34: a table became preformatted text",
        "line 46: strikethrough is drawn with combining strokes",
        "line 48: math is shown as its LaTeX source",
        "line 50: math is shown as its LaTeX source in a code block",
        "tag 'a-tag-that-is-far-too-long-for-medium' is over 25 characters",
        "Medium keeps only 3 tags; not sent: extra-tag",
    ],
    "_posts/2024-03-12-liquid-everywhere.md": [
        "line 15: {% include figure.html src=\"/assets/images/plan.png\" %} removed",
        "line 28: {% callout %} is a Liquid tag syncd does not render; removed",
        "line 30: {% endcallout %} is a Liquid tag syncd does not render; removed",
        "line 32: {% post_url 2019-01-01-never-written %}: no such published post",
        "line 26: {{ page.subtitle }} is not defined",
    ],
    "_posts/2024-04-13-images-of-every-kind.md": [
        "line 13: an image inside a paragraph is shown after it",
        "line 19: an image inside a paragraph is shown after it",
        "line 21: an image inside a paragraph is shown after it",
        "line 23: image '/blog/assets/images/missing.png' is not in the site folder",
        "line 23: an image inside a paragraph is shown after it",
        "line 25: image '../../../../etc/passwd' left out: leads outside the site folder",
        "line 27: image 'file:///etc/passwd' left out: an absolute file path",
        "line 29: image 'data:image/png;base64,iVBORw0KGgo=' left out: a data: URL",
        "line 35: image '/blog/assets/images/escape.png' left out: is a symlink to a file "
        "outside the site folder",
    ],
    "_posts/2024-05-14-raw-html-and-embeds.md": [
        "line 8: <kbd> is not kept by Medium; reduced to its text",
        "line 10: event handler attributes on <div> removed",
        "line 10: <div> is not kept by Medium; reduced to its text",
        "line 10: <span> is not kept by Medium; reduced to its text",
        "line 14: <script> removed with its content",
        "line 16: <style> removed with its content",
        "line 18: <iframe> replaced by a bare link to https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "line 20: <script> replaced by a bare link to https://gist.github.com/octo/1234567",
        "line 22: a Twitter embed became a bare link to https://twitter.com/octo/status/1234567890",
        "line 28: <details> is not kept by Medium; reduced to its text",
        "line 28: <summary> is not kept by Medium; reduced to its text",
        "line 33: an HTML table became preformatted text",
        "line 38: a javascript: link was made plain text",
        "line 42: event handler attributes on <img> removed",
        "line 42: an image inside a paragraph is shown after it",
    ],
    "_posts/2024-06-15-footnotes-emoji-and-rtl.md": [
        "footnotes became numbered notes at the end of the post",
    ],
}
# Text the author wrote that Medium is not meant to get: tag arguments, script bodies, a
# tweet's text (Medium embeds the tweet from its link), Liquid comments,
# kramdown's markup, a refused image's alt text, a code block's language.
NOT_CONTENT = re.compile("|".join([
    r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", r"\{%.*?%\}", r"\{\{.*?\}\}",
    r"<script.*?</script>", r"<style.*?</style>", r"<iframe.*?</iframe>",
    r'<blockquote class="twitter-tweet">.*?</blockquote>', r"<!--.*?-->", r"<[^>]*>",
    r"\{:[^}]*\}", r"\{#[^}]*\}", r"!\[[^\]]*\]\([^)]*\)", r"\]\([^)]*\)",
    r"https?://[^\s{]+", r"\[\^\w+\]:?", r"^\s*[*-] TOC$", r"^[ \t]*(?:`{3,}|~{3,})[^\n]*$",
]), re.DOTALL | re.MULTILINE)
RAW_LIQUID = re.compile(r"\{%\s*raw\s*%\}(.*?)\{%\s*endraw\s*%\}", re.DOTALL)


class Inspect(HTMLParser):
    """Every tag, attribute and piece of text in rendered HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.pre_text: list[str] = []
        self._in_pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        self._in_pre -= tag == "pre"

    def handle_data(self, data: str) -> None:
        (self.pre_text if self._in_pre else self.text).append(data)


def inspect(markup: str) -> Inspect:
    parser = Inspect()
    parser.feed(markup)
    parser.close()
    return parser


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.replace("\u0336", "")))


@pytest.fixture
def corpus_site(tmp_path: Path) -> Path:
    """A copy of the Jekyll corpus, with a symlink that leads out of the site."""
    site = tmp_path / "site"
    shutil.copytree(CORPUS / "jekyll", site)
    outside = tmp_path / "outside-secret.png"
    outside.write_bytes((site / "assets" / "images" / "plan.png").read_bytes())
    (site / "assets" / "images" / "escape.png").symlink_to(outside)
    post = site / "_posts" / "2024-04-13-images-of-every-kind.md"
    post.write_text(post.read_text(encoding="utf-8")
                    + "\n![escape](/blog/assets/images/escape.png)\n", encoding="utf-8")
    return site


def rendered_corpus(site: Path) -> dict[str, tuple[Post, object]]:
    scan = read_site(site)
    context = RenderContext.build(scan.posts)
    return {post.source: (post, render_post(post, context)) for post in scan.posts
            if post.source in EXPECTED_WARNINGS}


def test_every_corpus_post_is_checked(corpus_site: Path) -> None:
    assert set(rendered_corpus(corpus_site)) == set(EXPECTED_WARNINGS)


@pytest.mark.parametrize("source", sorted(EXPECTED_WARNINGS))
def test_corpus_post_renders_to_medium_html_losing_nothing_silently(
    corpus_site: Path, source: str
) -> None:
    post, rendered = rendered_corpus(corpus_site)[source]
    found = inspect(rendered.html)
    for tag, attributes in found.tags:
        assert tag in MEDIUM_TAGS, f"{tag} is not kept by Medium"
        assert set(attributes) <= MEDIUM_ATTRIBUTES.get(tag, set()), (tag, attributes)
        for name in ("href", "src"):
            if name in attributes:
                url = attributes[name] or ""
                assert url.startswith(("https://", "mailto:")), url
                assert "localhost" not in url and "127.0.0.1" not in url
    text = " ".join(found.text)
    assert "{%" not in text and "{{" not in text, "raw Liquid reached the HTML"
    assert "stolen" not in rendered.html and "display: none" not in rendered.html
    assert "onclick" not in rendered.html and "javascript:" not in rendered.html
    source_text = RAW_LIQUID.sub(lambda m: " ".join(words(m.group(1))), post.body)
    expected = words(NOT_CONTENT.sub(" ", source_text))
    lost = expected - words(text + " " + " ".join(found.pre_text))
    assert not lost, f"text lost on the way to Medium: {sorted(lost)}"
    wanted = EXPECTED_WARNINGS[source]
    assert len(rendered.warnings) == len(wanted), rendered.warnings
    for warning, start in zip(rendered.warnings, wanted, strict=True):
        assert warning.startswith(start), (warning, start)
    footer = (f'<p><em>Originally published at <a href="{post.canonical_url}">'
              f"{post.canonical_url}</a></em></p>\n")
    assert rendered.html.endswith(footer)
    assert rendered.html.startswith(f"<h1>{rendered.title.replace('&', '&amp;')}"
                                    .replace("<HTML>", "&lt;HTML&gt;"))


def test_code_keeps_its_text_exactly(corpus_site: Path) -> None:
    _, rendered = rendered_corpus(corpus_site)["_posts/2024-01-10-code-with-html-characters.md"]
    html = rendered.html
    assert ('<pre><code>def escape(text: str) -&gt; str:\n\t"""A tab-indented line, then '
            'spaces."""\n    return text.replace("&amp;", "&amp;amp;").replace("&lt;", '
            '"&amp;lt;")\n\n\nprint(escape("&lt;b&gt;bold&lt;/b&gt; &amp; more"))\n'
            "</code></pre>") in html
    assert "<code>if a &lt; b &amp;&amp; c &gt; d</code>" in html
    assert '<pre><code>def greet(name)\n  puts "Hello, #{name} &lt;#{name.length}&gt;"\nend\n' \
           "</code></pre>" in html
    assert "<pre><code>{{ page.title | upcase }} {% if site.show %}shown{% endif %}\n" in html
    assert "<pre><code>```js\nconst x = 1 &lt; 2 &amp;&amp; 3 &gt; 2;\n```\n</code></pre>" in html
    assert "language" not in html and "linenos" not in html
    # The heading that repeats the title is not doubled; the description is the subtitle.
    assert html.startswith("<h1>Code with &lt;HTML&gt; &amp; friends</h1>\n<h2>Why angle "
                           "brackets and ampersands survive the trip.</h2>\n<p>Inline code")


def test_lists_tables_and_the_rest_take_a_medium_form(corpus_site: Path) -> None:
    _, rendered = rendered_corpus(corpus_site)["_posts/2024-02-11-lists-and-tables.md"]
    html = rendered.html
    indent = "\u00a0" * 4
    assert (f"<ul><li>Fruit<br>{indent}◦ Apples<br>{indent * 2}◦ Granny Smith<br>{indent}◦ "
            f"Pears</li><li>Vegetables<br>{indent}1. Leeks<br>{indent}2. Onions</li></ul>") in html
    # A code block splits the ordered list: numbered paragraphs keep the numbers right.
    assert ("<p>1. Install the tool:</p>\n<pre><code>pip install syncd\n</code></pre>\n"
            "<p>2. Write a config.</p>\n<p>3. Run it.</p>") in html
    assert "<ul><li>☑ Write the post</li><li>☐ Cross-post it</li></ul>" in html
    assert ("<pre><code>| Tool     | Stars |      Language       |\n"
            "|----------|-------|---------------------|\n"
            "| syncd    |    42 |       Python        |\n"
            "| 日本語   |     7 |        Ruby         |\n"
            "| emoji 😀 |     1 | Go (https://go.dev) |</code></pre>") in html
    assert "<p><strong>Term one</strong><br>The first definition.</p>" in html
    assert "T\u0336h\u0336i\u0336s\u0336 w\u0336a\u0336s\u0336" in html
    assert "<h1>Shopping</h1>" in html and "<h2>Steps</h2>" in html
    assert rendered.tags == ("writing", "medium", "formatting")


def test_liquid_tags_of_every_kind(corpus_site: Path) -> None:
    _, rendered = rendered_corpus(corpus_site)["_posts/2024-03-12-liquid-everywhere.md"]
    html = rendered.html
    assert ("<p>Welcome to Corpus Notes, hosted at <a href=\"https://corpus.example/blog\">"
            "https://corpus.example/blog</a>.</p>") in html
    assert '<a href="https://github.com/octo/corpus">' in html
    assert ('<a href="https://corpus.example/blog/2024/01/10/code-with-html-characters.html">'
            "the first post</a>") in html
    assert '<a href="https://corpus.example/blog/about.html">the about page</a>' in html
    assert ('<a href="https://corpus.example/blog/notes/2024/02/11/lists-and-tables.html">'
            "the lists</a>") in html
    assert '<img src="https://corpus.example/blog/assets/images/plan.png" alt="The plan">' in html
    assert "The site has a title.\nTag: jekyll. Tag: liquid." in html
    assert ('<p><a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">'
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ</a></p>") in html
    assert ('<p><a href="https://gist.github.com/octo/1234567">'
            "https://gist.github.com/octo/1234567</a></p>") in html
    assert "never published" not in html
    assert "<p>Careful with the stove.</p>" in html


def test_images_of_every_kind(corpus_site: Path) -> None:
    _, rendered = rendered_corpus(corpus_site)["_posts/2024-04-13-images-of-every-kind.md"]
    sources = [attrs["src"] for tag, attrs in inspect(rendered.html).tags if tag == "img"]
    assert sources == [
        "https://corpus.example/blog/assets/images/plan.png",
        "https://corpus.example/blog/assets/images/same-picture-again.png",
        "https://corpus.example/blog/assets/images/photo.gif",
        "https://corpus.example/blog/assets/images/diagram.svg",
        "https://images.example.org/cat.jpg",
        "https://cdn.example.org/dog.png",
        "https://corpus.example/blog/assets/images/missing.png",
        "https://corpus.example/blog/assets/images/plan.png",
    ]
    assert ("<figure><img src=\"https://corpus.example/blog/assets/images/plan.png\" "
            "alt=\"The plan\"><figcaption>Our plan, drawn</figcaption></figure>") in rendered.html
    assert ('<figcaption><a href="https://corpus.example/blog/plans/">Linked plan</a>'
            "</figcaption>") in rendered.html
    assert rendered.images == ()


def test_raw_html_and_embeds(corpus_site: Path) -> None:
    _, rendered = rendered_corpus(corpus_site)["_posts/2024-05-14-raw-html-and-embeds.md"]
    html = rendered.html
    assert rendered.title == "Raw HTML, scripts and embeds"
    assert rendered.tags == ("embeds", "security")
    assert rendered.publish_status == "unlisted"
    assert "<p>Press Ctrl+C to copy, <strong>bold</strong> and <em>italic</em> stay.</p>" in html
    assert ('<p>A note in a div, with a <a href="https://corpus.example/blog/about/">link</a>.'
            "</p>") in html
    assert html.count('<p><a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">') == 2
    assert html.count('<p><a href="https://gist.github.com/octo/1234567">') == 2
    assert ('<p><a href="https://twitter.com/octo/status/1234567890">'
            "https://twitter.com/octo/status/1234567890</a></p>") in html
    assert "<p>A bad link keeps its text.</p>" in html
    assert "an HTML comment" not in html


def test_footnotes_emoji_and_right_to_left_text(corpus_site: Path) -> None:
    _, rendered = rendered_corpus(corpus_site)["_posts/2024-06-15-footnotes-emoji-and-rtl.md"]
    html = rendered.html
    assert "<p>Emoji survive: 🚀 🐍 👩🏽‍💻, and so do accents: café, naïve.</p>" in html
    assert "العربية جميلة and עברית יפה" in html and "日本語のテキスト" in html
    assert "<p>A claim that needs a source.[1] Another one.[2]</p>" in html
    assert ('<a href="https://corpus.example/blog/2024/06/15/footnotes-emoji-and-rtl.html'
            '#details">the section below</a>') in html
    assert "<h1>Details</h1>" in html and "TOC" not in html and "lead" not in html
    assert ('<hr>\n<p>[1] The source, with a <a href="https://corpus.example/blog/about/">'
            "link</a>.</p>\n<p>[2] The second note.</p>\n<hr>\n") in html


def test_mdx_keeps_the_markdown_and_drops_the_javascript() -> None:
    root = (CORPUS / "gatsby").resolve()
    path = root / "content" / "blog" / "charts-in-mdx" / "index.mdx"
    front, body = parse_post_file(path)
    post = Post(source="content/blog/charts-in-mdx/index.mdx", path=path,
                canonical_url="https://gatsby.corpus.example/charts-in-mdx/",
                title=front["title"], date=dt.datetime(2024, 8, 17, tzinfo=dt.UTC), body=body,
                tags=tuple(front["tags"]), front_matter=front)
    rendered = render_post(post)
    assert rendered.html == (
        "<h1>Charts in MDX</h1>\n"
        "<p>Markdown between components is kept, <strong>bold</strong> and all.</p>\n"
        "<p>This tip is <em>Markdown</em> inside a component.</p>\n"
        '<figure><img src="https://gatsby.corpus.example/charts-in-mdx/chart.png" '
        'alt="A co-located chart"><figcaption>A co-located chart</figcaption></figure>\n'
        "<p>The answer is , and a comment  vanishes.</p>\n"
        '<pre><code>import React from "react"\nexport default () =&gt; &lt;Chart data={[1]} '
        "/&gt;\n</code></pre>\n<hr>\n"
        '<p><em>Originally published at <a href="https://gatsby.corpus.example/charts-in-mdx/">'
        "https://gatsby.corpus.example/charts-in-mdx/</a></em></p>\n")
    assert rendered.warnings == (
        "line 6: MDX `import` dropped: Medium cannot run JavaScript",
        "line 7: MDX `import` dropped: Medium cannot run JavaScript",
        "line 8: MDX `export` dropped: Medium cannot run JavaScript",
        "line 15: MDX component <Chart> dropped (its Markdown content is kept): Medium cannot "
        "run it",
        "line 17: MDX component <Callout> dropped (its Markdown content is kept): Medium "
        "cannot run it",
        "line 25: MDX expression {props.answer} dropped: Medium cannot run it",
        "line 23: image './chart.png' sits next to the post, and Gatsby publishes an image "
        "next to a post at a hashed /static/… address that syncd cannot compute; Medium will "
        "be sent https://gatsby.corpus.example/charts-in-mdx/chart.png, which is likely broken: "
        "set [medium] upload_images = true to upload it",
    )


def test_rendering_is_deterministic(corpus_site: Path) -> None:
    first = {source: r.html for source, (_, r) in rendered_corpus(corpus_site).items()}
    second = {source: r.html for source, (_, r) in rendered_corpus(corpus_site).items()}
    assert first == second


def test_the_emulator_receives_exactly_the_rendered_html(
    corpus_site: Path, sandbox: Sandbox
) -> None:
    config_path = corpus_site.parent / "syncd.toml"
    config_path.write_text(
        f'[site]\ngenerator = "jekyll"\nroot = "site"\n\n[medium]\napi_url = '
        f'"{sandbox.api_url}"\n\n[sync]\nledger = "state/ledger.json"\nfirst_run_limit = 100\n',
        encoding="utf-8")
    plan = run_syncd("plan", "--config", str(config_path))
    assert plan.returncode == 0, plan.stderr
    assert ("_posts/2024-02-11-lists-and-tables.md: line 34: a table became preformatted text"
            in " ".join(plan.stdout.split()))
    result = run_syncd("--once", "--config", str(config_path), env={"MEDIUM_TOKEN": TEST_TOKEN})
    assert result.returncode == 0, result.stderr
    config = load_config(config_path)
    scan = read_site(config.site.root)
    context = RenderContext.for_config(config, scan.posts)
    sent = {p["request"]["canonicalUrl"]: p["request"] for p in sandbox.posts()}
    assert len(sent) == len(EXPECTED_WARNINGS)
    for post in scan.posts:
        if post.source not in EXPECTED_WARNINGS:
            continue
        request = sent[post.canonical_url]
        assert request["content"] == render_post(post, context).html, post.source
        shown = run_syncd("render", post.source, "--config", str(config_path))
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.split("\n\n", 1)[1] == request["content"], post.source
    raw = sent["https://corpus.example/blog/2024/05/14/raw-html-and-embeds.html"]
    assert raw["title"] == "Raw HTML, scripts and embeds"
    assert raw["publishStatus"] == "unlisted" and raw["tags"] == ["embeds", "security"]
    page = sandbox_page(sandbox)
    assert "Granny Smith" in page and "<script>document" not in page


def sandbox_page(sandbox: Sandbox) -> str:
    import requests

    answer = requests.get(sandbox.url + "/", timeout=5)
    answer.raise_for_status()
    return answer.text
