"""A post's ``date`` as Jekyll reads it: the forms real blogs write, and the edges.

Jekyll passes every front matter date through ``Time.parse`` (ported in
``syncd/sites/ruby_time.py``, checked string by string in ``tests/test_ruby_time.py``);
here whole posts are read, and a handful are built by the real ``jekyll`` to compare URLs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sitekit import run_syncd

from syncd.sites.jekyll import read_site

CONFIG = "url: https://example.com\ntimezone: Europe/Berlin\n"

# File, front matter date as written, and the date Jekyll gives the post (site zone Berlin).
REAL_FORMS = {
    # jekyllrb.com's own post, 2023-01-29-jekyll-3-9-3-released: the stray year stops Ruby
    # from seeing the zone, so it is Berlin's wall time.
    "2023-01-29-jekyll-3-9-3.md": ("2023-01-29 18:30:22 2023 -0800", "2023-01-29T18:30:22+01:00"),
    "2020-01-05-a.md": ("January 5, 2020", "2020-01-05T00:00:00+01:00"),
    "2020-01-05-b.md": ("5 January 2020 10:00 pm", "2020-01-05T22:00:00+01:00"),
    "2020-01-05-c.md": ("Jan 5th, 2020 at 3pm", "2020-01-05T15:00:00+01:00"),
    "2020-01-05-d.md": ("Sun, 05 Jan 2020 23:30:00 -0500", "2020-01-06T05:30:00+01:00"),
    "2020-01-05-e.md": ('"2020/01/05 23:59"', "2020-01-05T23:59:00+01:00"),
    "2020-01-05-f.md": ("20200105T101500Z", "2020-01-05T11:15:00+01:00"),
    "2020-01-05-g.md": ("20200105", "2020-01-05T00:00:00+01:00"),  # a YAML integer
    "2020-01-05-h.md": ("Sunday, January 5th 2020, 9:30 a.m. EST", "2020-01-05T15:30:00+01:00"),
    "2020-01-05-i.md": ("2020-01-05 24:00", "2020-01-06T00:00:00+01:00"),
    "2020-01-05-j.md": ("05 Jan 20 11:00 GMT", "2020-01-05T12:00:00+01:00"),
}


def _site(root: Path, posts: dict[str, str], config: str = CONFIG) -> Path:
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text(config, encoding="utf-8")
    for name, date in posts.items():
        (root / "_posts" / name).write_text(f"---\ntitle: {name}\ndate: {date}\n---\nx\n",
                                            encoding="utf-8")
    return root


def test_dates_real_blogs_write_are_read_as_jekyll_reads_them(tmp_path: Path) -> None:
    root = _site(tmp_path, {name: date for name, (date, _) in REAL_FORMS.items()})
    scan = read_site(root)
    assert not scan.errors, scan.errors
    dates = {post.source.removeprefix("_posts/"): post.date.isoformat() for post in scan.posts}
    assert dates == {name: want for name, (_, want) in REAL_FORMS.items()}
    urls = {post.source.removeprefix("_posts/"): post.canonical_url for post in scan.posts}
    assert urls["2020-01-05-d.md"] == "https://example.com/2020/01/06/d.html"
    assert urls["2023-01-29-jekyll-3-9-3.md"] == \
        "https://example.com/2023/01/29/jekyll-3-9-3.html"


def test_a_handful_match_jekyll_build(tmp_path: Path) -> None:
    """The same posts, built by the real Jekyll: the same URLs and instants."""
    if shutil.which("jekyll") is None:
        pytest.skip("`jekyll` is not installed (apt-get install jekyll); it is the oracle here")
    from test_urls_differential import jekyll_publishes

    root = _site(tmp_path / "site", {name: date for name, (date, _) in REAL_FORMS.items()})
    work = tmp_path / "work"
    work.mkdir()
    built = jekyll_publishes(root, "Europe/Berlin", work)
    ours = {post.source: post for post in read_site(root).posts}
    assert set(built) == set(ours)
    for source, entry in built.items():
        assert ours[source].canonical_url == entry["url"]
        assert ours[source].date.isoformat() == entry["date"], source


EDGES = {
    # Written as YAML timestamps (Psych makes Times), at the ends of what Python can hold.
    "2020-01-01-late.md": ("9999-12-31 23:00:00 -05:00",
                           "the front matter `date` 9999-12-31T23:00:00-05:00 is outside the "
                           "years 1 to 9999 that syncd can handle"),
    "2020-01-01-early.md": ("0001-01-01 00:30:00 +01:00",
                            "the front matter `date` 0001-01-01T00:30:00+01:00 is outside the "
                            "years 1 to 9999 that syncd can handle"),
    # UTC offsets of a day or more: Psych refuses them, and so does Ruby's Time.parse.
    "2020-01-01-plus24.md": ("2020-01-01 10:00:00 +24:00",
                             "front matter `date` is not a date: '2020-01-01 10:00:00 +24:00' "
                             "(Ruby's Time.parse: utc_offset out of range; Jekyll stops the "
                             "build on it)"),
    "2020-01-01-minus25.md": ("2020-01-01 10:00 -2500",
                              "front matter `date` is not a date: '2020-01-01 10:00 -2500' "
                              "(Ruby's Time.parse: utc_offset out of range; Jekyll stops the "
                              "build on it)"),
    "2020-01-01-far.md": ("10000-01-01", "front matter `date` '10000-01-01': it is outside the "
                                         "years 1 to 9999 that syncd can handle"),
    "2020-01-01-bc.md": ("5 Jan 44 BC", "front matter `date` '5 Jan 44 BC': it is outside the "
                                        "years 1 to 9999 that syncd can handle"),
    "2020-01-01-hour.md": ("2020-01-01 25:00", "front matter `date` is not a date: "
                                               "'2020-01-01 25:00' (Ruby's Time.parse: hour out "
                                               "of range; Jekyll stops the build on it)"),
    "2020-01-01-clock.md": ('"10:00 pm"',
                            "front matter `date` '10:00 pm' has no year: Jekyll would take the "
                            "year, month and day from the moment the site is built, so the "
                            "post's date and URL would change from build to build; write the "
                            "full date"),
    "2020-01-01-long.md": ("Jan 5 2020 " + "x" * 120,
                           "front matter `date` is not a date: 'Jan 5 2020 " + "x" * 120 + "' "
                           "(Ruby's Time.parse: string length (131) exceeds the limit 128; "
                           "Jekyll stops the build on it)"),
    "2020-01-01-maerz.md": ("5 März 2020", "front matter `date` '5 März 2020': it holds 'ä', a "
                                           "non-ASCII letter, digit or symbol, which syncd "
                                           "does not read in dates"),
}


def test_dates_at_the_edges_are_post_errors_not_a_crash(tmp_path: Path) -> None:
    """Years Python cannot hold and offsets of a day or more used to crash the whole pass
    (OverflowError, ValueError); each is now that post's error, and the rest still sync."""
    posts = {name: date for name, (date, _) in EDGES.items()}
    posts["2020-01-02-good.md"] = "2020-01-02 10:00"
    root = _site(tmp_path / "site", posts, "url: https://example.com\ntimezone: America/New_York\n")
    scan = read_site(root)
    assert [post.source for post in scan.posts] == ["_posts/2020-01-02-good.md"]
    assert {e.source.removeprefix("_posts/"): e.reason for e in scan.errors} == \
        {name: reason for name, (_, reason) in EDGES.items()}
    config = tmp_path / "syncd.toml"
    config.write_text('[site]\ngenerator = "jekyll"\nroot = "site"\n\n'
                      '[sync]\nledger = "state/ledger.json"\n', encoding="utf-8")
    done = run_syncd("plan", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    actions = {item["source"]: item["action"] for item in json.loads(done.stdout)}
    assert actions.pop("_posts/2020-01-02-good.md") != "error"
    assert set(actions.values()) == {"error"} and len(actions) == len(EDGES)
