#!/usr/bin/env python3
"""Record the URLs a real Jekyll publishes, as the truth for ``tests/test_jekyll_truth.py``.

Each case is a folder beside this script holding a ``_config.yml`` and ``_posts/`` (and
maybe ``_drafts/``). For every case the script copies the folder to a temporary directory,
adds a harness page that lists ``site.posts`` as JSON, runs ``jekyll build --future`` there
with ``TZ=UTC``, and writes ``<case>/expected.json``::

    {"jekyll": "jekyll 4.3.1",
     "posts": {"_posts/2020-01-02-hello.md": "https://example.com/2020/01/02/hello.html",
               "_posts/2020-03-04-hidden.md": null},
     "dates": {"_posts/2020-01-02-hello.md": "2020-01-02T00:00:00+00:00"},
     "titles": {"_posts/2020-01-02-hello.md": "Hello"}}

``posts`` has one key per file under a ``_posts`` folder (``page.path``): the value is
``{{ post.url | absolute_url }}``, or null when Jekyll publishes no page for that file.
``dates`` and ``titles`` are ``post.date`` (as ``date_to_xmlschema``) and ``post.title`` for
the posts Jekyll published. Drafts are never keys.

The bundled example site (``syncd/example_site``) is recorded the same way, into
``example_site_expected.json`` beside this script.

Usage (stdlib only; needs ``jekyll`` on PATH)::

    python3 tests/data/jekyll/record.py            # every case and the example site
    python3 tests/data/jekyll/record.py dates      # some cases ("example_site" names it)
    python3 tests/data/jekyll/record.py --check    # exit 1 if a recording is out of date

To add a case, make a folder here with ``_config.yml`` (with ``url`` and ``timezone``) and
``_posts/``, then run the script with its name.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
EXAMPLE_SITE = REPO / "syncd" / "example_site"
EXAMPLE_NAME = "example_site"
EXPECTED = "expected.json"

# A page, not a post: the name must not start with "_" or "." (Jekyll would skip it).
HARNESS_NAME = "syncd-harness-urls.json"
HARNESS = """---
layout: null
permalink: /syncd-harness-urls.json
sitemap: false
---
[{% for post in site.posts %}
{"path": {{ post.path | jsonify }},
 "url": {{ post.url | absolute_url | jsonify }},
 "date": {{ post.date | date_to_xmlschema | jsonify }},
 "title": {{ post.title | jsonify }}}{% unless forloop.last %},{% endunless %}{% endfor %}
]
"""

# What a copy of a site leaves behind: earlier builds and the recordings themselves.
SKIP = shutil.ignore_patterns(EXPECTED, "_site", ".jekyll-cache", ".jekyll-metadata")


def case_dirs() -> dict[str, Path]:
    """Every recorded site by name: the case folders, then the example site."""
    cases = {p.name: p for p in sorted(HERE.iterdir()) if (p / "_config.yml").is_file()}
    cases[EXAMPLE_NAME] = EXAMPLE_SITE
    return cases


def expected_path(name: str, site: Path) -> Path:
    if name == EXAMPLE_NAME:
        return HERE / f"{EXAMPLE_NAME}_{EXPECTED}"
    return site / EXPECTED


def post_files(site: Path) -> list[str]:
    """Every file in a ``_posts`` folder (at any depth), as Jekyll's ``page.path``."""
    found = []
    for path in site.rglob("*"):
        relative = path.relative_to(site)
        if relative.parts[0] in ("_site", ".jekyll-cache") or not path.is_file():
            continue
        if "_posts" in relative.parts[:-1]:
            found.append(relative.as_posix())
    return sorted(found)


def jekyll_version() -> str:
    done = subprocess.run(
        ["jekyll", "--version"], capture_output=True, text=True, check=True, env=_env()
    )
    return done.stdout.strip()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(TZ="UTC", LANG="C.UTF-8", LC_ALL="C.UTF-8", JEKYLL_ENV="production")
    return env


def build(site: Path) -> list[dict[str, str]]:
    """Build a copy of ``site`` with ``--future`` and return the harness page's entries."""
    with tempfile.TemporaryDirectory(prefix="syncd-jekyll-") as scratch:
        source = Path(scratch) / "site"
        shutil.copytree(site, source, ignore=SKIP)
        if (source / HARNESS_NAME).exists():
            raise SystemExit(f"{site}: already has a file named {HARNESS_NAME}")
        (source / HARNESS_NAME).write_text(HARNESS, encoding="utf-8")
        dest = Path(scratch) / "out"
        done = subprocess.run(
            ["jekyll", "build", "--future", "--disable-disk-cache", "--trace",
             "--source", str(source), "--destination", str(dest)],
            capture_output=True, text=True, env=_env(), cwd=scratch,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"{site}: jekyll build failed\n{done.stdout}\n{done.stderr}")
        for line in (done.stdout + done.stderr).splitlines():
            if "warning" in line.lower() or "error" in line.lower():
                print(f"  jekyll: {line.strip()}", file=sys.stderr)
        return json.loads((dest / HARNESS_NAME).read_text(encoding="utf-8"))


def record(site: Path, version: str) -> dict[str, object]:
    entries = build(site)
    posts: dict[str, str | None] = dict.fromkeys(post_files(site))
    dates: dict[str, str] = {}
    titles: dict[str, str] = {}
    for entry in entries:
        path = entry["path"]
        if path not in posts:
            raise SystemExit(f"{site}: Jekyll published {path!r}, which is not a _posts file")
        if posts[path] is not None:
            raise SystemExit(f"{site}: Jekyll listed {path!r} twice")
        posts[path] = entry["url"]
        dates[path] = entry["date"]
        titles[path] = entry["title"]
    return {
        "jekyll": version,
        "posts": posts,
        "dates": dict(sorted(dates.items())),
        "titles": dict(sorted(titles.items())),
    }


def dump(data: dict[str, object]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument(
        "--check", action="store_true", help="compare with the recordings instead of writing"
    )
    args = parser.parse_args(argv)
    cases = case_dirs()
    names = args.cases or list(cases)
    unknown = [name for name in names if name not in cases]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(cases)}")
    version = jekyll_version()
    stale = []
    for name in names:
        site = cases[name]
        target = expected_path(name, site)
        text = dump(record(site, version))
        if args.check:
            current = target.read_text(encoding="utf-8") if target.exists() else ""
            status = "ok" if current == text else "OUT OF DATE"
            if current != text:
                stale.append(name)
        else:
            target.write_text(text, encoding="utf-8")
            status = f"wrote {target.relative_to(REPO)}"
        print(f"{name}: {status}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
