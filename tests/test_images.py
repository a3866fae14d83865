"""Images: uploaded once through the emulator's /v1/images, and never read outside the site.

Every test runs the real `syncd` command against the emulator on a loopback port.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import requests
from conftest import TEST_TOKEN
from sitekit import run_syncd

from syncd.images import SiteFiles
from syncd.sandbox import Sandbox

CORPUS = Path(__file__).parent / "data" / "render" / "jekyll"
ENV = {"MEDIUM_TOKEN": TEST_TOKEN}
IMAGES_POST = "_posts/2024-04-13-images-of-every-kind.md"


def image_site(tmp_path: Path, api_url: str, extra_medium: str = "") -> Path:
    """The corpus site with only its images post, uploads on; a FIFO outside the site is the
    target of a symlink inside it: reading it would hang the pass, so a pass that finishes
    proves it was never opened."""
    site = tmp_path / "site"
    shutil.copytree(CORPUS, site)
    for post in (site / "_posts").iterdir():
        if post.name != Path(IMAGES_POST).name:
            post.unlink()
    trap = tmp_path / "outside.png"
    os.mkfifo(trap)
    (site / "assets" / "images" / "escape.png").symlink_to(trap)
    post = site / IMAGES_POST
    post.write_text(post.read_text(encoding="utf-8")
                    + "\n![escape](/blog/assets/images/escape.png)\n", encoding="utf-8")
    config = tmp_path / "syncd.toml"
    config.write_text(
        f'[site]\ngenerator = "jekyll"\nroot = "site"\n\n[medium]\napi_url = "{api_url}"\n'
        f"upload_images = true\n{extra_medium}\n[sync]\nledger = \"state/ledger.json\"\n",
        encoding="utf-8")
    return config


def fault(sandbox: Sandbox, **spec: object) -> None:
    requests.post(f"{sandbox.url}/_sandbox/faults", json=spec, timeout=5).raise_for_status()


def test_local_images_are_uploaded_once_and_their_medium_urls_sent(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = image_site(tmp_path, sandbox.api_url)
    result = run_syncd("--once", "--config", str(config), env=ENV, timeout=60)
    assert result.returncode == 0, result.stderr
    [sent] = sandbox.posts()
    content = sent["request"]["content"]
    sources = re.findall(r'<img src="([^"]+)"', content)
    uploaded = [src for src in sources if src.startswith(f"{sandbox.url}/_sandbox/images/")]
    # plan.png (twice) and same-picture-again.png are the same bytes: one upload, one URL;
    # photo.gif is the other.
    assert len(uploaded) == 4 and len(set(uploaded)) == 2, content
    assert uploaded[0] == uploaded[1] == uploaded[3]
    for url in set(uploaded):
        answer = requests.get(url, timeout=5)
        assert answer.status_code == 200 and answer.content[:4] in (b"\x89PNG", b"GIF8")
    # Not an upload type: Medium fetches the published URL, with a warning.
    assert 'src="https://corpus.example/blog/assets/images/diagram.svg"' in content
    assert "diagram.svg' is not JPEG, PNG, GIF or TIFF, so it is not uploaded" in result.stderr
    # Remote and missing images keep their URLs; refused ones are not sent at all.
    assert 'src="https://images.example.org/cat.jpg"' in content
    assert 'src="https://corpus.example/blog/assets/images/missing.png"' in content
    assert "escape.png" not in content and "passwd" not in content
    assert "is a symlink to a file outside the site folder; refused, never read" in result.stderr
    assert "leads outside the site folder; refused, never read" in result.stderr
    cache = json.loads((tmp_path / "state" / "medium-images.json").read_text(encoding="utf-8"))
    assert len(cache["images"]) == 2


def test_a_second_post_reuses_the_cached_upload(tmp_path: Path, sandbox: Sandbox) -> None:
    config = image_site(tmp_path, sandbox.api_url)
    assert run_syncd("--once", "--config", str(config), env=ENV, timeout=60).returncode == 0
    (tmp_path / "site" / "_posts" / "2024-09-01-again.md").write_text(
        "---\ntitle: Again\n---\n![same](/blog/assets/images/plan.png)\n", encoding="utf-8")
    # Every upload would now fail: the post goes out only if the cache is used.
    fault(sandbox, path="/v1/images", status=500, times=10)
    result = run_syncd("--once", "--config", str(config), env=ENV, timeout=60)
    assert result.returncode == 0, result.stderr
    second = sandbox.posts()[-1]["request"]
    first = sandbox.posts()[0]["request"]
    url = re.findall(r'<img src="([^"]+)"', second["content"])[0]
    assert "/_sandbox/images/" in url and url in first["content"]


def test_a_failed_upload_is_retried_once(tmp_path: Path, sandbox: Sandbox) -> None:
    config = image_site(tmp_path, sandbox.api_url)
    fault(sandbox, path="/v1/images", status=503, times=1)
    result = run_syncd("--once", "--config", str(config), env=ENV, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "/_sandbox/images/" in sandbox.posts()[0]["request"]["content"]


def test_an_upload_that_keeps_failing_holds_the_post_for_the_next_pass(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = image_site(tmp_path, sandbox.api_url)
    fault(sandbox, path="/v1/images", status=503, times=2)
    held = run_syncd("--once", "--config", str(config), env=ENV, timeout=60)
    assert held.returncode == 1
    assert "not sent: uploading" in held.stderr and "the next pass tries again" in held.stderr
    assert sandbox.posts() == []
    again = run_syncd("--once", "--config", str(config), env=ENV, timeout=60)
    assert again.returncode == 0, again.stderr
    assert len(sandbox.posts()) == 1


def test_a_refused_upload_keeps_the_published_url(tmp_path: Path, sandbox: Sandbox) -> None:
    config = image_site(tmp_path, sandbox.api_url)
    fault(sandbox, path="/v1/images", status=400, times=10)
    result = run_syncd("--once", "--config", str(config), env=ENV, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Medium refused the upload of plan.png" in result.stderr
    content = sandbox.posts()[0]["request"]["content"]
    assert 'src="https://corpus.example/blog/assets/images/plan.png"' in content


@pytest.mark.parametrize("reference", [
    "../../etc/passwd", "../../../../../../etc/passwd", "/../../etc/passwd",
    "file:///etc/passwd", "C:\\Windows\\win.ini", "~/secret.png", "/blog/assets/images/out.png",
])
def test_references_that_leave_the_site_are_refused(tmp_path: Path, reference: str) -> None:
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "assets" / "images").mkdir(parents=True)
    (tmp_path / "secret.png").write_bytes(b"\x89PNG\r\n\x1a\nsecret")
    (site / "assets" / "images" / "out.png").symlink_to(tmp_path / "secret.png")
    files = SiteFiles(site, "/blog", published_url="https://e.example/blog")
    found = files.locate(reference, "https://e.example/blog/2024/01/01/x.html",
                         site / "_posts" / "2024-01-01-x.md")
    assert found.url is None and found.file is None
    assert "refused, never read" in (found.problem or "")


def test_files_inside_the_site_are_found(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "assets").mkdir(parents=True)
    (site / "assets" / "a b.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (site / "assets" / "link.png").symlink_to(site / "assets" / "a b.png")
    files = SiteFiles(site, "/blog", published_url="https://e.example/blog")
    page = "https://e.example/blog/2024/01/01/x.html"
    found = files.locate("/blog/assets/a%20b.png", page, None)
    assert found.file == (site / "assets" / "a b.png").resolve()
    assert found.url == "https://e.example/blog/assets/a%20b.png"
    assert files.locate("/blog/assets/link.png", page, None).file == found.file


GATSBY_CONFIG = ('module.exports = {\n  siteMetadata: { siteUrl: `https://gatsby.example` },\n'
                 '  plugins: [{ resolve: `gatsby-source-filesystem`,\n'
                 '              options: { path: `${__dirname}/content/blog` } }],\n}\n')
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def gatsby_site(tmp_path: Path, api_url: str, upload: bool) -> Path:
    """A Gatsby site whose post shows a co-located image and one from static/."""
    site = tmp_path / "site"
    post = site / "content" / "blog" / "hello" / "index.md"
    post.parent.mkdir(parents=True)
    (site / "static").mkdir()
    (site / "gatsby-config.js").write_text(GATSBY_CONFIG, encoding="utf-8")
    post.write_text("---\ntitle: Hello\ndate: 2024-03-01\n---\nA cover:\n\n"
                    "![the cover](./cover.png)\n\n![a logo](/logo.png)\n", encoding="utf-8")
    (post.parent / "cover.png").write_bytes(PNG)
    (site / "static" / "logo.png").write_bytes(PNG + b"logo")
    config = tmp_path / "syncd.toml"
    config.write_text(
        f'[site]\ngenerator = "gatsby"\nroot = "site"\n\n[medium]\napi_url = "{api_url}"\n'
        f"upload_images = {'true' if upload else 'false'}\n\n"
        '[sync]\nledger = "state/ledger.json"\n', encoding="utf-8")
    return config


def test_a_gatsby_co_located_image_warns_that_its_url_is_a_guess(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = gatsby_site(tmp_path, sandbox.api_url, upload=False)
    plan = run_syncd("plan", "--config", str(config))
    assert plan.returncode == 0, plan.stderr
    warning = ("content/blog/hello/index.md: line 7: image './cover.png' sits next to the post, "
               "and Gatsby publishes an image next to a post at a hashed /static/… address "
               "that syncd cannot compute; Medium will be sent "
               "https://gatsby.example/hello/cover.png, which is likely broken: set [medium] "
               "upload_images = true to upload it")
    assert warning in " ".join(plan.stdout.split())
    result = run_syncd("--once", "--config", str(config), env=ENV, timeout=60)
    assert result.returncode == 0, result.stderr
    assert warning in " ".join(result.stderr.split())
    # A file in static/ is published at its own path: its URL is known, no warning.
    assert "logo.png" not in result.stderr
    content = sandbox.posts()[0]["request"]["content"]
    assert 'src="https://gatsby.example/hello/cover.png"' in content
    assert 'src="https://gatsby.example/logo.png"' in content


def test_uploading_a_gatsby_co_located_image_needs_no_guess(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = gatsby_site(tmp_path, sandbox.api_url, upload=True)
    result = run_syncd("--once", "--config", str(config), env=ENV, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "sits next to the post" not in result.stderr
    sources = re.findall(r'<img src="([^"]+)"', sandbox.posts()[0]["request"]["content"])
    assert len(sources) == 2
    assert all(src.startswith(f"{sandbox.url}/_sandbox/images/") for src in sources)


def test_a_jekyll_image_in_an_unpublished_folder_warns_too(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_posts" / "beside.png").write_bytes(PNG)
    (site / "_config.yml").write_text("url: https://e.example\n", encoding="utf-8")
    (site / "_posts" / "2024-01-01-x.md").write_text(
        "---\ntitle: X\n---\n![beside](beside.png)\n", encoding="utf-8")
    config = tmp_path / "syncd.toml"
    config.write_text('[site]\ngenerator = "jekyll"\nroot = "site"\n\n[sync]\nledger = '
                      '"state/ledger.json"\n', encoding="utf-8")
    plan = run_syncd("plan", "--config", str(config))
    assert plan.returncode == 0, plan.stderr
    assert ("_posts/2024-01-01-x.md: line 4: image 'beside.png' sits next to the post, and "
            "syncd cannot tell where the site publishes this file; Medium will be sent "
            "https://e.example/2024/01/01/beside.png, which is likely broken") \
        in " ".join(plan.stdout.split())
