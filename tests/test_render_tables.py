"""Tables as pictures (``[medium] tables = "image"``): drawn, uploaded, sent as a figure.

Medium has no tables. By default a table becomes aligned text; an author can ask for a
picture instead, which syncd draws with Pillow's bundled font and uploads through
``POST /v1/images``. End-to-end tests run the real command against the emulator.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import requests
from conftest import TEST_TOKEN
from PIL import Image
from sitekit import make_site, run_syncd, write_config

from syncd.config import load_config
from syncd.errors import ConfigError
from syncd.sandbox import Sandbox
from syncd.tableimage import table_png, undrawable

ENV = {"MEDIUM_TOKEN": TEST_TOKEN}
TABLE_POST = "_posts/2024-05-01-numbers.md"
POSTS = {
    TABLE_POST: (
        "---\ntitle: Numbers\n---\nSome numbers.\n\n"
        "| Tool   | Stars | Language |\n"
        "|:-------|------:|:--------:|\n"
        "| syncd  |    42 | Python   |\n"
        "| jekyll | 48000 | Ruby     |\n"
        "\nAnd one in HTML:\n\n"
        "<table><tr><th>Key</th><th>Value</th></tr><tr><td>a</td><td>1</td></tr></table>\n"
    ),
    "_posts/2024-05-02-accents.md": (
        "---\ntitle: Accents\n---\n| Word | Meaning |\n|---|---|\n| café | coffee |\n"),
}
HEADER = ["Tool", "Stars", "Language"]
ROWS = [["syncd", "42", "Python"], ["jekyll", "48000", "Ruby"]]
ALIGNS = ["left", "right", "center"]


def table_site(tmp_path: Path, api_url: str, **medium: object) -> Path:
    make_site(tmp_path / "site", POSTS)
    return write_config(tmp_path, api_url, **medium)


def sent(sandbox: Sandbox) -> dict[str, str]:
    return {p["request"]["title"]: p["request"]["content"] for p in sandbox.posts()}


@pytest.mark.parametrize(("medium", "problem"), [
    ({"tables": "picture", "upload_images": True}, 'must be one of "text", "image"'),
    ({"tables": True, "upload_images": True}, 'must be one of "text", "image"'),
    ({"tables": "image"}, '"image" needs upload_images = true'),
    ({"tables": "image", "upload_images": False}, '"image" needs upload_images = true'),
])
def test_a_bad_tables_setting_is_one_clear_error(tmp_path: Path, medium: dict[str, object],
                                                 problem: str) -> None:
    config = table_site(tmp_path, "http://127.0.0.1:9/v1", **medium)
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    assert raised.value.key == "medium.tables"
    assert problem in str(raised.value)
    result = run_syncd("plan", "--config", str(config))
    assert result.returncode == 2
    assert "medium.tables" in result.stderr and str(config) in result.stderr


def test_tables_are_text_by_default(tmp_path: Path, sandbox: Sandbox) -> None:
    config = table_site(tmp_path, sandbox.api_url, upload_images=True)
    assert load_config(config).medium.tables == "text"
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    content = sent(sandbox)["Numbers"]
    assert "<pre><code>| Tool   | Stars | Language |" in content and "<figure>" not in content


def test_a_table_is_uploaded_as_a_picture_and_sent_at_its_medium_url(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = table_site(tmp_path, sandbox.api_url, upload_images=True, tables="image")
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    content = sent(sandbox)["Numbers"]
    figures = re.findall(r'<figure><img src="([^"]+)" alt="([^"]*)"></figure>', content)
    assert len(figures) == 2, content
    (markdown_src, markdown_alt), (html_src, html_alt) = figures
    for src in (markdown_src, html_src):
        assert src.startswith(f"{sandbox.url}/_sandbox/images/"), src
    assert "syncd-table:" not in content and "<pre>" not in content and "<table" not in content
    # The picture Medium stores is the table, drawn exactly as syncd draws it.
    picture = requests.get(markdown_src, timeout=5).content
    assert picture == table_png(HEADER, ROWS, ALIGNS)
    with Image.open(io.BytesIO(picture)) as image:
        assert image.format == "PNG" and image.width > 300 and image.height > 100
    # Nothing is lost for a screen reader: the alt text carries every cell.
    assert markdown_alt == ("Table: Tool, Stars, Language. Tool: syncd; Stars: 42; "
                            "Language: Python. Tool: jekyll; Stars: 48000; Language: Ruby.")
    assert html_alt == "Table: Key, Value. Key: a; Value: 1."
    stderr = " ".join(result.stderr.split())
    assert (f"{TABLE_POST}: line 6: a table became an image (Medium has no tables); its text "
            "is the image's alt text") in stderr
    assert f"{TABLE_POST}: line 13: an HTML table became an image" in stderr
    # The accented table cannot be drawn by the bundled font: it stays text, and says why.
    accents = sent(sandbox)["Accents"]
    assert "<pre><code>| Word | Meaning |" in accents and "<figure>" not in accents
    assert ("_posts/2024-05-02-accents.md: line 4: a table became preformatted text (Medium "
            "has no tables); not an image: the table font cannot draw é") in stderr
    cache = json.loads((tmp_path / "state" / "medium-images.json").read_text(encoding="utf-8"))
    assert len(cache["images"]) == 2
    # `syncd render` now shows exactly what was sent: the cached Medium URLs.
    shown = run_syncd("render", TABLE_POST, "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split("\n\n", 1)[1] == content


def test_the_same_table_is_uploaded_once(tmp_path: Path, sandbox: Sandbox) -> None:
    config = table_site(tmp_path, sandbox.api_url, upload_images=True, tables="image")
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 0
    again = tmp_path / "site" / "_posts" / "2024-06-01-again.md"
    again.write_text("---\ntitle: Again\n---\n" + POSTS[TABLE_POST].split("---\n", 2)[2],
                     encoding="utf-8")
    # Every upload would now fail: the post goes out only if the cache is used.
    requests.post(f"{sandbox.url}/_sandbox/faults", timeout=5,
                  json={"path": "/v1/images", "status": 500, "times": 10}).raise_for_status()
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    posts = sent(sandbox)
    first = re.findall(r'<img src="([^"]+)"', posts["Numbers"])
    assert re.findall(r'<img src="([^"]+)"', posts["Again"]) == first


def test_a_refused_table_upload_sends_the_table_as_text(tmp_path: Path,
                                                        sandbox: Sandbox) -> None:
    config = table_site(tmp_path, sandbox.api_url, upload_images=True, tables="image")
    requests.post(f"{sandbox.url}/_sandbox/faults", timeout=5,
                  json={"path": "/v1/images", "status": 400, "times": 10}).raise_for_status()
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    content = sent(sandbox)["Numbers"]
    assert "syncd-table:" not in content and "<figure>" not in content
    assert "<pre><code>| Tool   | Stars | Language |" in content
    assert "<pre><code>| Key | Value |" in content
    assert re.search(r"Medium refused the upload of table-[0-9a-f]{16}\.png \([^)]*\); the "
                     "table is sent as text", result.stderr), result.stderr


def test_a_dry_run_sends_nothing_and_uploads_nothing(tmp_path: Path, sandbox: Sandbox) -> None:
    config = table_site(tmp_path, sandbox.api_url, upload_images=True, tables="image")
    result = run_syncd("--once", "--dry-run", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    assert sandbox.posts() == []
    assert not (tmp_path / "state" / "medium-images.json").exists()


def test_the_picture_is_deterministic_and_differs_per_table() -> None:
    first = table_png(HEADER, ROWS, ALIGNS)
    assert first == table_png(HEADER, ROWS, ALIGNS)
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert table_png(HEADER, ROWS, ["left", "left", "left"]) != first
    assert table_png(HEADER, [*ROWS, ["hugo", "7", "Go"]], ALIGNS) != first
    # A long cell wraps instead of making a picture too wide for Medium's column.
    with Image.open(io.BytesIO(table_png(["Note"], [["word " * 200]]))) as image:
        assert image.width < 720 and image.height > 300


def test_the_bundled_font_is_used_and_its_gaps_are_known() -> None:
    assert undrawable(["syncd 42 Python", "(a|b) -> c!"]) == []
    assert undrawable(["café", "日本", "ok 🐍"]) == ["é", "日", "本", "🐍"]


def test_a_placeholder_never_survives_the_upload_step(tmp_path: Path) -> None:
    """Before the upload, a drawn table is a placeholder figure; after it, either the Medium
    URL or, for a table that was not uploaded, its text."""
    from syncd.config import SiteConfig
    from syncd.render import render_post
    from syncd.render_context import RenderContext, RenderOptions
    from syncd.sites import read_site

    site = make_site(tmp_path / "site", POSTS)
    posts = read_site(SiteConfig(generator="jekyll", root=site)).posts
    context = RenderContext.build(posts, site_root=site,
                                  medium=load_config(table_site(tmp_path, "http://127.0.0.1:9/v1",
                                                                upload_images=True,
                                                                tables="image")).medium)
    assert context.options == RenderOptions(upload_images=True, api_url="http://127.0.0.1:9/v1",
                                            tables="image")
    rendered = render_post(next(p for p in posts if p.source == TABLE_POST), context)
    placeholders = [image.public_url for image in rendered.images]
    assert len(placeholders) == 2 and all(p.startswith("syncd-table:table-") for p in placeholders)
    assert all(f'<img src="{p}"' in rendered.html for p in placeholders)
    assert rendered.images[0].read() == table_png(HEADER, ROWS, ALIGNS)
    as_text = rendered.with_image_urls({}).html
    assert "syncd-table:" not in as_text and "<figure>" not in as_text
    assert "<pre><code>| Tool   | Stars | Language |" in as_text
    one = rendered.with_image_urls({placeholders[0]: "https://cdn.example/t.png"}).html
    assert '<img src="https://cdn.example/t.png"' in one and "syncd-table:" not in one
    assert "<pre><code>| Key | Value |" in one


# Debian's fonts-dejavu-core (installed by .ci/run when missing): a font with accents.
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def test_a_table_font_draws_what_the_bundled_one_cannot(tmp_path: Path,
                                                        sandbox: Sandbox) -> None:
    config = table_site(tmp_path, sandbox.api_url, upload_images=True, tables="image",
                        table_font=DEJAVU)
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 0, result.stderr
    accents = sent(sandbox)["Accents"]
    [(src, alt)] = re.findall(r'<figure><img src="([^"]+)" alt="([^"]*)"></figure>', accents)
    assert alt == "Table: Word, Meaning. Word: café; Meaning: coffee."
    assert requests.get(src, timeout=5).content == table_png(
        ["Word", "Meaning"], [["café", "coffee"]], [None, None], DEJAVU)
    assert "cannot draw" not in result.stderr
    assert undrawable(["café"], DEJAVU) == [] and undrawable(["café"]) == ["é"]


@pytest.mark.parametrize("font", ["missing.ttf", "not-a-font.ttf"])
def test_a_bad_table_font_is_one_clear_error(tmp_path: Path, sandbox: Sandbox,
                                             font: str) -> None:
    (tmp_path / "not-a-font.ttf").write_text("hello", encoding="utf-8")
    config = table_site(tmp_path, sandbox.api_url, upload_images=True, tables="image",
                        table_font=str(tmp_path / font))
    result = run_syncd("plan", "--config", str(config))
    assert result.returncode == 2
    assert "medium.table_font" in result.stderr and str(config) in result.stderr
    assert "cannot be loaded as a TrueType or OpenType font" in result.stderr
