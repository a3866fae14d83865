"""Jekyll rules that change what a pass does, pinned with exact values: ``future: true``,
the deliberate errors (shared URL, empty slug, impossible date, Ruby symbols), Psych's
booleans, ``[site] url`` and ``[site] jekyll_config``.

Every URL rule is also checked against a real ``jekyll build`` on many generated sites by
``tests/test_urls_differential.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sitekit import run_syncd

from syncd.engine import Rules, plan
from syncd.sites.jekyll import SiteError, read_site

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def site(root: Path, config: str, posts: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "_config.yml").write_text(config, encoding="utf-8")
    for relative, text in posts.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def decisions(root: Path) -> dict[str, tuple[str, str, str | None]]:
    return {item.source: (item.action, item.reason, item.canonical_url)
            for item in plan(read_site(root), {}, NOW, Rules())}


CONFIG = "url: https://example.com\ntimezone: UTC\n"


def test_a_future_post_waits_unless_future_is_true(tmp_path: Path) -> None:
    posts = {"_posts/2099-01-02-later.md": "---\ntitle: Later\n---\nx\n"}
    waiting = decisions(site(tmp_path / "a", CONFIG, posts))
    assert waiting == {"_posts/2099-01-02-later.md":
                       ("defer", "future", "https://example.com/2099/01/02/later.html")}
    published = decisions(site(tmp_path / "b", CONFIG + "future: true\n", posts))
    assert published == {"_posts/2099-01-02-later.md":
                         ("post", "new", "https://example.com/2099/01/02/later.html")}


@pytest.mark.parametrize(("value", "published"), [
    ("false", False), ("no", False), ("off", False), ("OFF", False), ("nO", False),
    ("~", False), ('"false"', True), ("0", True), ("yes", True),
])
def test_published_is_read_as_psych_reads_it(tmp_path: Path, value: str,
                                             published: bool) -> None:
    root = site(tmp_path, CONFIG, {"_posts/2020-01-02-x.md": f"---\npublished: {value}\n---\n"})
    (post,) = read_site(root).posts
    assert post.published is published


def test_unpublished_true_in_the_config_publishes_them(tmp_path: Path) -> None:
    root = site(tmp_path, CONFIG + "unpublished: true\n",
                {"_posts/2020-01-02-x.md": "---\npublished: false\n---\nx\n"})
    assert [p.canonical_url for p in read_site(root).posts] == [
        "https://example.com/2020/01/02/x.html"]


def test_deliberate_errors_where_jekyll_would_still_write_a_page(tmp_path: Path) -> None:
    root = site(tmp_path, CONFIG + "permalink: /:title/\n", {
        "_posts/2020-01-02-twin.md": "---\ntitle: One\n---\nx\n",
        "_posts/2021-03-04-twin.markdown": "---\ntitle: Two\n---\nx\n",
        "_posts/2020-01-05-🎉.md": "---\ntitle: Party\n---\nx\n",
        "_posts/2020-01-06-x.md": "---\ndate: 2020-02-30\n---\nx\n",
        "_posts/2020-01-07-y.md": "---\npermalink: :title/\n---\nx\n",
        "_posts/2020-01-08-z.md": "---\ndate: January 8\n---\nx\n",
        "_posts/2020-01-09-good.md": "---\ntitle: Fine\n---\nx\n",
    })
    scan = read_site(root)
    assert [p.canonical_url for p in scan.posts] == ["https://example.com/good/"]
    reasons = {e.source.removeprefix("_posts/"): e.reason for e in scan.errors}
    assert reasons == {
        "2020-01-02-twin.md": "has the same URL as _posts/2021-03-04-twin.markdown "
                              "(https://example.com/twin/); Jekyll writes only one page there, "
                              "so give one of them its own `permalink` or slug",
        "2021-03-04-twin.markdown": "has the same URL as _posts/2020-01-02-twin.md "
                                    "(https://example.com/twin/); Jekyll writes only one page "
                                    "there, so give one of them its own `permalink` or slug",
        "2020-01-05-🎉.md": "its slug '🎉' has no letters or digits, so Jekyll's :title is empty "
                           "and the post would be published at /; give it a `slug:` in its "
                           "front matter or rename the file",
        "2020-01-06-x.md": "bad YAML front matter: day is out of range in `date: 2020-02-30` "
                           "(2020-02 has no day 30; Ruby would roll it over into the next month)",
        "2020-01-07-y.md": "bad YAML front matter: ':title/' is a Ruby symbol (a plain value "
                           "starting with ':'), which Jekyll refuses to read; put it in quotes",
        "2020-01-08-z.md": "front matter `date` 'January 8' has no year: Jekyll would take the "
                           "year from the moment the site is built, so the post's date and URL "
                           "would change from build to build; write the full date",
    }


def test_dates_with_zones_ruby_knows_and_ignores(tmp_path: Path) -> None:
    root = site(tmp_path, "url: https://example.com\ntimezone: Europe/Paris\n", {
        "_posts/2020-01-01-a.md": "---\ndate: 2020-01-01 23:30:00 PST\n---\n",
        "_posts/2020-01-01-b.md": "---\ndate: 2020-01-01 23:30:00 CET\n---\n",
        "_posts/2020-01-01-c.md": '---\ndate: "2020-01-01 23:30 +5"\n---\n',
        "_posts/2020-01-01-d.md": "---\ndate: 2020-01-01 23:30:00 +5\n---\n",
        "_posts/2020-01-01-e.md": "---\ndate: 2020-01-01 23:30 CETX\n---\n",
    })
    dates = {p.source[-4:]: p.date.isoformat() for p in read_site(root).posts}
    assert dates == {
        "a.md": "2020-01-02T08:30:00+01:00",  # Pacific time, known to Ruby
        "b.md": "2020-01-01T23:30:00+01:00",  # the local zone's own name
        "c.md": "2020-01-01T23:30:00+01:00",  # Ruby's Time.parse ignores a one-digit offset
        "d.md": "2020-01-01T19:30:00+01:00",  # ...but YAML's timestamps read it (Psych)
        "e.md": "2020-01-01T23:30:00+01:00",  # a word Ruby does not know is no zone
    }


def test_site_url_and_jekyll_config_from_syncd_config(tmp_path: Path) -> None:
    site(tmp_path / "site", "url: http://localhost:4000\nbaseurl: /dev\ntimezone: UTC\n",
         {"_posts/2020-01-02-hello.md": "---\ntitle: Hello\n---\nx\n"})
    (tmp_path / "site" / "_config.production.yml").write_text(
        "url: https://blog.example\nbaseurl: /notes\n", encoding="utf-8")
    config = tmp_path / "syncd.toml"
    for extra, expected in [
        ("", "http://localhost:4000/dev/2020/01/02/hello.html"),
        ('jekyll_config = ["site/_config.yml", "site/_config.production.yml"]',
         "https://blog.example/notes/2020/01/02/hello.html"),
        ('url = "https://override.example/x/"', "https://override.example/x/2020/01/02/hello.html"),
    ]:
        config.write_text(f'[site]\ngenerator = "jekyll"\nroot = "site"\n{extra}\n\n'
                          '[sync]\nledger = "state/ledger.json"\n', encoding="utf-8")
        done = run_syncd("plan", "--json", "--config", str(config))
        assert done.returncode == 0, done.stderr
        assert [item["canonical_url"] for item in json.loads(done.stdout)] == [expected]


def test_a_url_that_is_not_absolute_is_refused(tmp_path: Path) -> None:
    root = site(tmp_path, "url: example.com\n", {"_posts/2020-01-02-x.md": "x\n"})
    with pytest.raises(SiteError, match="absolute http"):
        read_site(root)
