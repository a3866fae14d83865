"""syncd's canonical URLs against the real generators, on generated sites, character for character.

Three layers, all deterministic from ``SEED`` (``SYNCD_DIFF_SEED`` and ``SYNCD_DIFF_SCALE``
in the environment give other seeds and bigger runs):

1. The Ruby pieces Jekyll leans on (slugify, escape_path, absolute_url, Time.parse, Psych's
   typing, File.fnmatch/extname, Addressable) answer thousands of awkward strings in one
   ``ruby`` process running ``tests/oracles/jekyll_oracle.rb``; syncd must answer the same.
2. Whole Jekyll sites from ``tests/sitegen.py`` are built with ``jekyll build`` and a page
   that lists ``{{ post.url | absolute_url }}`` for every post in ``site.posts``; syncd's
   ``plan --json`` on the same folder must list exactly those posts with exactly those URLs,
   and mark every other post file draft, unpublished, future (defer) or a deliberate error.
3. Gatsby sites are read by gatsby-source-filesystem itself, and each markdown file's page
   path comes from ``createFilePath`` and Gatsby's trailing-slash rule
   (``tests/oracles/gatsby_urls.js``); syncd must give the same URLs.

Deliberate differences (syncd reports an error where the generator still writes a page):
two posts at one URL, a slug with no letters or digits (``/2020/01/02/.html``), an
impossible calendar date Ruby rolls into the next month. The generator's own output is
checked to really be in that situation.

Needs ``jekyll`` (``apt-get install jekyll``, which brings ``ruby``) and ``node`` with
``tests/oracles/node_modules`` (``npm install --prefix tests/oracles --ignore-scripts
--legacy-peer-deps``, versions pinned by its package-lock.json); ``.ci/run`` installs them.
Nothing is skipped when they are missing: the tests fail and say how to install them.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sitegen

from syncd.sites import jekyll, ruby, ruby_time

SEED = int(os.environ.get("SYNCD_DIFF_SEED", "20240611"))
SCALE = float(os.environ.get("SYNCD_DIFF_SCALE", "1"))
ORACLES = Path(__file__).parent / "oracles"
JEKYLL_SITES = max(1, round(28 * SCALE))
JEKYLL_POSTS = 50
WORKERS = max(2, os.cpu_count() or 2)

# A page, not a post, listing what Jekyll published (as tests/data/jekyll/record.py does).
HARNESS_NAME = "syncd-harness-urls.json"
HARNESS = """---
layout: null
permalink: /syncd-harness-urls.json
sitemap: false
---
[{% for post in site.posts %}
{"path": {{ post.path | jsonify }},
 "url": {{ post.url | absolute_url | jsonify }},
 "date": {{ post.date | date_to_xmlschema | jsonify }}}
{% unless forloop.last %},{% endunless %}{% endfor %}
]
"""

DELIBERATE = ("has the same URL as", "has no letters or digits", "day is out of range",
              "is not a real date", "the site's home page")


def _tool(name: str, install: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not installed; this test needs the real generator: {install}")
    return found


# 1. The Ruby pieces -----------------------------------------------------------------------


def ask_ruby(requests: list[list[Any]]) -> list[dict[str, Any]]:
    """Answers from the installed Jekyll, one per request (see jekyll_oracle.rb)."""
    _tool("ruby", "apt-get install jekyll")
    done = subprocess.run(
        ["ruby", str(ORACLES / "jekyll_oracle.rb")], input=json.dumps(requests),
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    assert len(answers) == len(requests)
    return answers


_ALPHABET = list("abcXYZ019 -_.~!$&'()*+,;=:@/?#[]%\"<>\\^`{|}\t\n") + [
    "é", "e\u0301", "ß", "İ", "Σ", "ﬁ", "Ｆ", "½", "🎉", "日", "\u0301", "\u00a0", "\u200b",
    "ǆ", "ſ", "\u0323", "Å", "Å", "한", "\u1100\u1161", "²",
]  # fmt: skip


def _awkward(rng: random.Random, most: int = 12) -> str:
    if rng.random() < 0.4:
        return sitegen.phrase(rng, sitegen.WORDS)
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, most)))


def _time_text(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") + value.isoformat()[-6:]


def _syncd_date(text: str, zone: ZoneInfo) -> str | None:
    """syncd's reading of a date; ``None`` where it refuses one Ruby reads."""
    try:
        return _time_text(ruby_time.time_parse(text, zone))
    except ruby_time.DateRefused:
        return None


def _primitive_cases(rng: random.Random, count: int) -> list[tuple[list[Any], Callable[[], Any]]]:
    """(request for Ruby, the same question to syncd) pairs."""
    cases: list[tuple[list[Any], Callable[[], Any]]] = []
    for _ in range(count):
        text = _awkward(rng)
        mode, cased = rng.choice(["default", "pretty"]), rng.random() < 0.5
        cases += [
            (["slugify", text, mode, cased], lambda t=text, m=mode, c=cased:
                jekyll.slugify(t, m, c)),
            (["escape_path", text], lambda t=text: jekyll.escape_path(t)),
            (["downcase", text], lambda t=text: ruby.downcase(t)),
            (["split", text], lambda t=text: ruby.split_words(t)),
            (["extname", text], lambda t=text: ruby.extname(t)),
            (["basename", text], lambda t=text: ruby.basename_without_ext(t)),
            (["normalize", "/" + text], lambda t=text: ruby.uri_normalize("/" + t)),
            (["encode", text], lambda t=text: ruby.uri_encode(t)),
            (["fnmatch", "/src/" + _awkward(rng, 6).replace("\n", ""), "/src/" + text],
             None),
        ]
        pattern, path = cases[-1][0][1], cases[-1][0][2]
        cases[-1] = (cases[-1][0], lambda p=pattern, q=path: ruby.fnmatch(p, q))
    for _ in range(count // 2):
        url = rng.choice(sitegen.URLS + ["https://u@ex.com", "https://EX.com:0080/"])
        base = rng.choice([b for b in sitegen.BASEURLS if b is not None] + ["/a/../b"])
        try:
            relative = jekyll.sanitize_url(jekyll.generate_url(
                "/:title/:slug", {"title": _awkward(rng, 6), "slug": _awkward(rng, 6)}))
        except jekyll.PostReadError:
            relative = "/x"
        cases.append((["absolute_url", url, base, relative],
                      lambda u=url, b=base, r=relative: jekyll.absolute_url(u, b, r)))
    for _ in range(count):
        zone = rng.choice(sitegen.ZONES)
        text, _quoted = sitegen.date_text(rng, sitegen.random_time(rng, rng.random() < 0.2))
        cases.append((["parse_date", text, zone],
                      lambda t=text, z=zone: _syncd_date(t, ZoneInfo(z))))
    return cases


def test_ruby_pieces_match_jekyll() -> None:
    """Every answer syncd gives equals Ruby's; where Ruby raises, syncd raises too. A date
    syncd does not read (``None``) is allowed only in forms it refuses by design."""
    rng = random.Random(SEED)
    cases = _primitive_cases(rng, round(500 * SCALE))
    answers = ask_ruby([request for request, _ in cases])
    mismatches = []
    refused = 0
    for (request, ours), answer in zip(cases, answers, strict=True):
        try:
            got, problem = ours(), None
        except (ruby.RubyError, ruby_time.TimeParseError, jekyll.PostReadError) as exc:
            got, problem = None, str(exc)
        if request[0] == "parse_date" and got is None and problem is None:
            refused += 1
            assert "error" in answer, (request, answer)
            continue
        if "error" in answer:
            if problem is None:
                mismatches.append((request, f"Ruby raised {answer['error']}", got))
        elif problem is not None or got != answer["ok"]:
            mismatches.append((request, answer["ok"], problem or got))
    assert not mismatches, "\n".join(repr(m) for m in mismatches[:20])
    assert refused < len(cases) // 20


# 2. Whole Jekyll sites --------------------------------------------------------------------


def _env(zone: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(TZ=zone, LANG="C.UTF-8", LC_ALL="C.UTF-8", JEKYLL_ENV="production")
    return env


def jekyll_publishes(site: Path, zone: str, workdir: Path, site_url: str | None = None,
                     future: bool = False) -> dict[str, dict[str, str]]:
    """``jekyll build`` on a copy of ``site`` with the harness page: what it published, by
    ``page.path``. ``site_url`` stands for syncd's ``[site] url`` (Jekyll's url with no
    baseurl); ``future`` builds with ``--future``."""
    source = workdir / "source"
    shutil.copytree(site, source, symlinks=True)
    (source / HARNESS_NAME).write_text(HARNESS, encoding="utf-8")
    configs = ["_config.yml"]
    if site_url:
        (source / "_syncd_url.yml").write_text(
            f"url: {json.dumps(site_url)}\nbaseurl: ''\n", encoding="utf-8")
        configs.append("_syncd_url.yml")
    destination = workdir / "out"
    done = subprocess.run(
        ["jekyll", "build", "--disable-disk-cache", "--source", str(source),
         "--destination", str(destination),
         "--config", ",".join(str(source / name) for name in configs)]
        + (["--future"] if future else []),
        capture_output=True, text=True, env=_env(zone), cwd=workdir, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, f"jekyll build failed for {site}:\n{done.stdout}\n{done.stderr}"
    listed = json.loads((destination / HARNESS_NAME).read_text(encoding="utf-8"))
    shutil.rmtree(source)
    shutil.rmtree(destination)
    return {entry["path"]: entry for entry in listed}


def syncd_plans(site: Path, generator: str, zone: str, workdir: Path,
                site_url: str | None = None, extra: str = "") -> list[dict[str, Any]]:
    """``syncd plan --json`` for a site, as a user would run it."""
    config = workdir / "syncd.toml"
    lines = ["[site]", f"generator = {json.dumps(generator)}", f"root = {json.dumps(str(site))}"]
    if site_url:
        lines.append(f"url = {json.dumps(site_url)}")
    lines += [extra, "", "[sync]", f"ledger = {json.dumps(str(workdir / 'ledger.json'))}",
              "first_run_limit = 1000000", ""]
    config.write_text("\n".join(lines), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "syncd", "plan", "--json", "--config", str(config)],
        capture_output=True, text=True, env=_env(zone), timeout=300,
    )
    assert done.returncode in (0, 1), f"syncd plan failed for {site}:\n{done.stderr}"
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def jekyll_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every generated Jekyll site, built by Jekyll and planned by syncd, in parallel."""
    _tool("jekyll", "apt-get install jekyll")
    rng = random.Random(SEED)
    base = tmp_path_factory.mktemp("jekyll-diff")
    sites = [sitegen.jekyll_site(rng, f"site{i:03d}", JEKYLL_POSTS, i)
             for i in range(JEKYLL_SITES)]

    def run(generated: sitegen.GeneratedSite) -> dict[str, Any]:
        root = base / generated.name / "site"
        generated.write(root)
        result: dict[str, Any] = {"site": generated, "root": root}
        try:
            with tempfile.TemporaryDirectory(dir=base) as scratch:
                result["published"] = jekyll_publishes(root, generated.machine_zone,
                                                       Path(scratch), generated.site_url)
                # What --future adds: the URLs of posts whose date has not come yet.
                result["eventually"] = result["published"] if not generated.future_posts \
                    else jekyll_publishes(root, generated.machine_zone, Path(scratch),
                                          generated.site_url, future=True)
            result["planned"] = syncd_plans(root, "jekyll", generated.machine_zone,
                                            base / generated.name, generated.site_url)
        except AssertionError as exc:
            result["failure"] = str(exc)
        result["now"] = dt.datetime.now(dt.UTC)
        return result

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        return {result["site"].name: result for result in pool.map(run, sites)}


def _jekyll_site_names() -> Iterator[str]:
    yield from (f"site{i:03d}" for i in range(JEKYLL_SITES))


@pytest.mark.parametrize("name", list(_jekyll_site_names()))
def test_jekyll_site_urls_match_jekyll_build(name: str, jekyll_results: dict[str, Any]) -> None:
    result = jekyll_results[name]
    assert "failure" not in result, result["failure"]
    generated: sitegen.GeneratedSite = result["site"]
    prefix = generated.collections_dir + "/" if generated.collections_dir else ""
    now = {prefix + path: entry["url"] for path, entry in result["published"].items()}
    later = {prefix + path: entry["url"] for path, entry in result["eventually"].items()}
    problems = compare_plan(result["planned"], now, later)
    assert not problems, f"{result['root']}:\n" + "\n".join(problems)


def compare_plan(planned_items: list[dict[str, Any]], now: dict[str, str],
                 later: dict[str, str]) -> list[str]:
    """Differences between syncd's plan and what the generator publishes now (``now``) and
    once every date has come (``later``), both by source path."""
    planned = {item["source"]: item for item in planned_items}
    shared = {url for url in later.values() if list(later.values()).count(url) > 1}
    problems = []
    for source, item in planned.items():
        action, reason, url = item["action"], item["reason"], item["canonical_url"]
        if action == "post":
            if now.get(source) != url:
                problems.append(f"{source}: syncd posts {url}; the generator publishes "
                                f"{now.get(source, 'no page')}")
        elif action == "defer":
            if reason != "future" or source in now or later.get(source) != url:
                problems.append(f"{source}: deferred ({reason}) at {url}; the generator "
                                f"publishes {now.get(source) or later.get(source) or 'no page'}")
        elif action == "skip":
            if reason not in ("draft", "unpublished") or source in later:
                problems.append(f"{source}: skipped ({reason}); the generator publishes "
                                f"{later.get(source, 'no page')}")
        elif action == "error" and source in later and any(d in reason for d in DELIBERATE):
            if reason.startswith(DELIBERATE[0]) and later[source] not in shared:
                problems.append(f"{source}: syncd reports a shared URL; the generator's "
                                f"{later[source]} is unique")
        else:
            problems.append(f"{source}: {action} ({reason}); the generator publishes "
                            f"{later.get(source, 'no page')}")
    for source, url in later.items():
        if source not in planned:
            problems.append(f"{source}: the generator publishes {url}; syncd does not list it")
    return problems


def test_jekyll_differential_is_big_and_varied(jekyll_results: dict[str, Any]) -> None:
    """The generated sites really exercise the rules: many posts, every outcome."""
    results = [r for r in jekyll_results.values() if "failure" not in r]
    assert len(results) == len(jekyll_results)
    items = [item for result in results for item in result["planned"]]
    published = sum(len(result["published"]) for result in results)
    actions = {(item["action"], item["reason"].split(" ")[0]) for item in items}
    assert published >= 400 * min(SCALE, 1)
    for expected in [("post", "new"), ("skip", "draft"), ("skip", "unpublished"),
                     ("defer", "future")]:
        assert expected in actions, expected
    urls = [item["canonical_url"] or "" for item in items]
    assert any("%" in url for url in urls)


# 3. Gatsby sites ----------------------------------------------------------------------------

GATSBY_SITES = max(1, round(20 * SCALE))
GATSBY_POSTS = 30


def gatsby_publishes(sites: list[tuple[Path, str | None]]) -> dict[str, Any]:
    """The posts Gatsby makes pages for, per site folder (see oracles/gatsby_urls.js); a
    site URL given with a folder replaces its siteUrl."""
    _tool("node", "apt-get install nodejs npm")
    modules = ORACLES / "node_modules"
    if not (modules / "gatsby-source-filesystem").is_dir():
        pytest.fail(f"{modules} is missing; install it with: npm install --prefix {ORACLES} "
                    "--ignore-scripts --legacy-peer-deps")
    env = dict(os.environ, NODE_PATH=str(modules))
    done = subprocess.run(
        ["node", str(ORACLES / "gatsby_urls.js")],
        input=json.dumps([[str(root), url] for root, url in sites]),
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def gatsby_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    rng = random.Random(SEED + 1)
    base = tmp_path_factory.mktemp("gatsby-diff")
    sites = [sitegen.gatsby_site(rng, f"gatsby{i:03d}", GATSBY_POSTS, i)
             for i in range(GATSBY_SITES)]
    for site in sites:
        site.write(base / site.name / "site")
    published = gatsby_publishes([((base / site.name / "site").resolve(), site.site_url)
                                  for site in sites])

    def plan(site: sitegen.GatsbySite) -> dict[str, Any]:
        root = (base / site.name / "site").resolve()
        extra = f"url_template = {json.dumps(site.url_template)}" if site.url_template else ""
        planned = syncd_plans(root, "gatsby", "UTC", base / site.name, site.site_url, extra)
        return {"site": site, "root": root, "published": published[str(root)],
                "planned": planned, "now": dt.datetime.now(dt.UTC)}

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        return {result["site"].name: result for result in pool.map(plan, sites)}


def compare_gatsby(result: dict[str, Any]) -> list[str]:
    """Gatsby makes a page for every post: syncd posts it at that URL, or skips it when the
    front matter opts out (draft, published: false), or defers it until its date."""
    pages = {post["source"]: post for post in result["published"]["posts"]}
    planned = {item["source"]: item for item in result["planned"]}
    urls = [post["url"] for post in pages.values()]
    problems = []
    for source, page in pages.items():
        item = planned.get(source)
        if item is None:
            problems.append(f"{source}: Gatsby makes {page['url']}; syncd does not list it")
            continue
        action, reason = item["action"], item["reason"]
        opted_out = page["draft"] or not page["published"]
        future = page["date"] is not None and _js_date(page["date"]) > result["now"]
        if opted_out:
            expected = ("skip", "draft" if page["draft"] else "unpublished")
            if (action, reason) != expected:
                problems.append(f"{source}: opted out; syncd says {action} ({reason})")
        elif action == "error":
            shared = reason.startswith(DELIBERATE[0]) and urls.count(page["url"]) > 1
            home = "home page" in reason and page["path"] == "/"
            if not (shared or home):
                problems.append(f"{source}: Gatsby makes {page['url']}; syncd: error ({reason})")
        elif (action, item["canonical_url"]) != ("defer" if future else "post", page["url"]):
            problems.append(f"{source}: Gatsby makes {page['url']} (future: {future}); syncd "
                            f"says {action} ({reason}) {item['canonical_url']}")
    for source in planned.keys() - pages.keys():
        problems.append(f"{source}: syncd lists it; Gatsby makes no page for it")
    return problems


def _js_date(text: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@pytest.mark.parametrize("name", [f"gatsby{i:03d}" for i in range(GATSBY_SITES)])
def test_gatsby_site_urls_match_gatsby(name: str, gatsby_results: dict[str, Any]) -> None:
    result = gatsby_results[name]
    assert "error" not in result["published"], result["published"].get("error")
    problems = compare_gatsby(result)
    assert not problems, f"{result['root']}:\n" + "\n".join(problems)


def test_gatsby_differential_is_big_and_varied(gatsby_results: dict[str, Any]) -> None:
    pages = [p for r in gatsby_results.values() for p in r["published"].get("posts", [])]
    items = [item for result in gatsby_results.values() for item in result["planned"]]
    actions = {(item["action"], item["reason"].split(" ")[0]) for item in items}
    assert len(pages) >= 300 * min(SCALE, 1)
    for expected in [("post", "new"), ("skip", "draft"), ("skip", "unpublished"),
                     ("defer", "future")]:
        assert expected in actions, expected
    assert any("%" in (item["canonical_url"] or "") for item in items)
