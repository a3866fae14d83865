"""Realistic synthetic blogs for the benchmarks: Jekyll and Gatsby sites, deterministic from a seed.

Every post is 2–8 KB: front matter (title, date, tags, categories, description, sometimes
an image, a permalink, ``published: false`` or ``syndicate: false``), then Markdown with
headings, lists, links, quotes, and in a share of posts fenced code, tables, images and, on
Jekyll, Liquid (``{{ site.title }}``, ``{{ page.title }}``, ``{% raw %}``, ``{% highlight %}``,
``{% post_url %}``, ``{% link %}``, ``{% include %}``). A few titles and file names are not
ASCII, a few posts are dated in the future, and drafts sit in ``_drafts/``.

Jekyll posts live in several ``_posts`` folders, as Jekyll allows: ``_posts/<year>/`` (most
of them) and two category folders, ``notes/_posts/`` and ``til/_posts/``. Gatsby sites follow
gatsby-starter-blog: ``content/blog/<slug>/index.md``, some ``content/blog/<year>/<slug>/
index.md`` and some flat ``content/blog/<slug>.md``, with ``gatsby-config.js`` naming
``siteMetadata.siteUrl`` and a ``gatsby-source-filesystem`` entry for ``content/blog``.

The same (generator, count, seed) always gives byte-identical files. Usage:
python bench/sitegen.py jekyll 1000 --seed 1 --out /tmp/blog
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

# Bump when the output changes, so cached sites under bench/sites/ are rebuilt.
GENERATOR_VERSION = 2

JEKYLL_URL = "https://bench.example"
GATSBY_URL = "https://gatsby.bench.example"

_WORD_TEXT = """
about above access across action adapter after again agent algorithm allocate always
analysis answer api append archive argument array assert async atomic backup balance
batch before behaviour benchmark binary block blog boolean boundary branch buffer bug
build bundle byte cache call callback canonical capacity case channel check checksum
child class clean client clock close cluster code collect column command commit compile
component compute concurrency config connect consistent constant container context
contract copy core cost count crash create cron cursor daemon data database date debug
decide default delete deploy design detail diff directory disk domain draft driver
durable edge editor effect element empty encode engine entry error event example
exception execute exit export extension fail feature fetch field file filter first fix
flag float flush folder format frame function garbage gateway generate global graph
group guard handle hash header heap history hook host idempotent image import index
input insert install integer interface issue item iterate job journal json kernel key
label latency layer layout ledger library limit line link list load local lock log
loop machine map markdown measure memory merge message method metric migrate mirror
model module monitor mount name network node notebook number object offset open option
order output owner package page parallel parse partition patch path pattern payload
permission pipeline plan platform plugin pointer policy pool port post prefix process
profile program prompt protocol proxy publish query queue quota random range rate read
record recover reduce refactor reference region release reload remote render replica
report request reset resolve resource response restore result retry return review
route rule runtime safe sample scale schema scope script search secret section select
send sequence server service session shard shell signal simple site size slice slug
snapshot socket source split stack stage state static status storage stream string
structure style summary switch symbol sync syntax system table tag target task template
tenant test text thread ticket timeout token trace track transaction tree trigger tuple
type unit update upload user value variable vector version view volume wait watch
window worker write yaml zone
"""
WORDS = _WORD_TEXT.split()

TITLE_WORDS = [w for w in WORDS if len(w) > 3]
LANGUAGES = ["python", "ruby", "go", "rust", "javascript", "bash", "sql", "yaml", "c", ""]
TAGS = ["python", "ruby", "go", "rust", "devops", "databases", "writing", "linux",
        "testing", "performance", "security", "web", "jekyll", "career", "tools",
        "distributed-systems", "machine-learning", "open-source", "productivity", "music"]
CATEGORIES = ["programming", "ops", "essays", "notes", "tutorials", "reviews"]
# A few titles as real blogs have them: accents, punctuation YAML must quote, other scripts.
ODD_TITLES = ["Café crème: notes on caching", "Über-fast builds, a post-mortem",
              "Naïve retries & how they fail", "Ça marche: shipping on Friday",
              "Зачем нужен журнал", "Die Größe der Datei", "What’s new in “release 2”?",
              "100% uptime is a lie", "C# vs. F#: a fair fight?", "Tabs/spaces, again"]
CATEGORY_FOLDERS = ("notes", "til")
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478"
    "9c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082"
)


@dataclass(frozen=True)
class PostSpec:
    """What one generated post is, before it is written as a Jekyll or a Gatsby file."""

    index: int
    title: str
    slug: str
    date: dt.datetime
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    target_bytes: int


def post_specs(count: int, seed: int) -> list[PostSpec]:
    """``count`` posts, oldest first, from 2008 on; a few dated in 2099 (the future)."""
    rng = random.Random(f"specs-{seed}")
    start = dt.datetime(2008, 1, 1, tzinfo=dt.UTC)
    span = (dt.datetime(2025, 12, 31, tzinfo=dt.UTC) - start).total_seconds()
    offsets = sorted(rng.random() * span for _ in range(count))
    specs = []
    seen: set[tuple[str, str]] = set()
    for index, offset in enumerate(offsets):
        date = (start + dt.timedelta(seconds=offset)).replace(microsecond=0)
        if index % 997 == 500:
            date = date.replace(year=2099)
        if index % 101 == 7:
            title = ODD_TITLES[(index // 101) % len(ODD_TITLES)]
        else:
            words = rng.sample(TITLE_WORDS, rng.randint(3, 7))
            title = " ".join(words).capitalize()
            if rng.random() < 0.15:
                title += f", part {rng.randint(2, 9)}"
        slug = slugify(title)
        if (date.date().isoformat(), slug) in seen:
            slug = f"{slug}-{index}"
        seen.add((date.date().isoformat(), slug))
        specs.append(PostSpec(
            index=index,
            title=title,
            slug=slug,
            date=date,
            tags=tuple(rng.sample(TAGS, rng.randint(0, 5))),
            categories=tuple(rng.sample(CATEGORIES, rng.randint(0, 2))),
            target_bytes=int(2048 + (8192 - 2048) * rng.random() ** 1.5),
        ))
    return specs


def slugify(title: str) -> str:
    """A file-name slug as people write them: lower case, words joined by dashes."""
    out, dash = [], False
    for ch in title.lower():
        if ch.isalnum():
            out.append(ch)
            dash = False
        elif not dash:
            out.append("-")
            dash = True
    return "".join(out).strip("-")


class Body:
    """Markdown text of about a given size, with the features a share of posts has."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def sentence(self) -> str:
        words = self.rng.choices(WORDS, k=self.rng.randint(6, 18))
        if self.rng.random() < 0.15:
            words.insert(self.rng.randrange(len(words)), f"`{self.rng.choice(WORDS)}()`")
        if self.rng.random() < 0.1:
            words.insert(self.rng.randrange(len(words)), f"**{self.rng.choice(WORDS)}**")
        return " ".join(words).capitalize() + "."

    def paragraph(self) -> str:
        text = " ".join(self.sentence() for _ in range(self.rng.randint(2, 6)))
        if self.rng.random() < 0.3:
            word = self.rng.choice(WORDS)
            link = (f"https://{word}.example.org/docs/{self.rng.choice(WORDS)}"
                    if self.rng.random() < 0.7 else f"/{self.rng.choice(WORDS)}/")
            text += f" See [the {word} notes]({link})."
        return text

    def code(self) -> str:
        lines = [f"{self.rng.choice(WORDS)} = {self.rng.choice(WORDS)}({self.rng.choice(WORDS)},"
                 f" {self.rng.randint(0, 999)})" for _ in range(self.rng.randint(3, 12))]
        if self.rng.random() < 0.3:
            lines.append("if a < b and c > d: print('<&>')")
        return "```" + self.rng.choice(LANGUAGES) + "\n" + "\n".join(lines) + "\n```"

    def listing(self) -> str:
        mark = "-" if self.rng.random() < 0.7 else "1."
        return "\n".join(f"{mark} {self.sentence()}" for _ in range(self.rng.randint(2, 6)))

    def table(self) -> str:
        head = "| name | value | note |\n|---|---:|---|"
        rows = [f"| {self.rng.choice(WORDS)} | {self.rng.randint(1, 9999)} | "
                f"{self.rng.choice(WORDS)} {self.rng.choice(WORDS)} |"
                for _ in range(self.rng.randint(2, 6))]
        return head + "\n" + "\n".join(rows)

    def image(self, url: str) -> str:
        return f"![{self.rng.choice(WORDS)} {self.rng.choice(WORDS)} diagram]({url})"

    def heading(self) -> str:
        return "#" * self.rng.choice((2, 2, 3)) + " " + self.sentence()[:-1]

    def quote(self) -> str:
        return "> " + self.sentence()

    def build(self, target: int, extras: list[str]) -> str:
        """Paragraphs and the odd block until ``target`` bytes, with ``extras`` spread in."""
        blocks: list[str] = [self.paragraph()]
        size = len(blocks[0])
        pending = list(extras)
        while size < target:
            roll = self.rng.random()
            if pending and roll < 0.25:
                block = pending.pop(0)
            elif roll < 0.40:
                block = self.heading()
            elif roll < 0.50:
                block = self.listing()
            elif roll < 0.55:
                block = self.quote()
            else:
                block = self.paragraph()
            blocks.append(block)
            size += len(block.encode("utf-8")) + 2
        blocks.extend(pending)
        return "\n\n".join(blocks) + "\n"


def _yaml_text(value: str) -> str:
    """A YAML scalar: plain when safe, else double-quoted (JSON's quoting is valid YAML)."""
    if any(ch in value for ch in ':#&*!|>\'"%@`{}[],?') or value != value.strip():
        return json.dumps(value, ensure_ascii=False)
    return value


def _tags_yaml(key: str, values: tuple[str, ...], rng: random.Random) -> list[str]:
    if not values:
        return []
    style = rng.random()
    if style < 0.5:
        return [f"{key}: [{', '.join(values)}]"]
    if style < 0.75:
        return [f"{key}:"] + [f"  - {v}" for v in values]
    return [f"{key}: {' '.join(values)}"]


def _frame(front: list[str], target: int, builder: Body, extras: list[str]) -> str:
    header = "---\n" + "\n".join(front) + "\n---\n\n"
    return header + builder.build(max(256, target - len(header.encode("utf-8"))), extras)


# Jekyll -------------------------------------------------------------------------------------

JEKYLL_CONFIG = f"""\
title: Bench Blog
description: A synthetic blog for syncd's benchmarks
author: Bench Author
url: "{JEKYLL_URL}"
baseurl: ""
timezone: UTC
markdown: kramdown
highlighter: rouge
repository: bench/blog
permalink: date
exclude: [README.md, Gemfile, Gemfile.lock, vendor]
"""

JEKYLL_FILES = {
    "_layouts/default.html": (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>{{ page.title | default: site.title }}</title></head>\n"
        "<body><header><a href=\"{{ '/' | relative_url }}\">{{ site.title }}</a></header>\n"
        "<main>{{ content }}</main></body></html>\n"
    ),
    "_layouts/post.html": (
        "---\nlayout: default\n---\n<article><h1>{{ page.title }}</h1>\n"
        "<time>{{ page.date | date: \"%B %-d, %Y\" }}</time>\n{{ content }}</article>\n"
    ),
    "_includes/note.html": "<aside class=\"note\">{{ include.text | default: 'Note' }}</aside>\n",
    "index.md": "---\nlayout: default\ntitle: Home\n---\nThe newest posts are below.\n",
    "about.md": "---\nlayout: default\ntitle: About\npermalink: /about/\n---\nAbout me.\n",
    "README.md": "A synthetic blog made by syncd's bench/sitegen.py.\n",
}


def jekyll_post_path(spec: PostSpec, count: int) -> str:
    """Where the post lives: a category folder's ``_posts``, or ``_posts/<year>/``."""
    name = f"{spec.date:%Y-%m-%d}-{spec.slug}.{'markdown' if spec.index % 13 == 5 else 'md'}"
    if spec.index % 10 == 3:
        return f"{CATEGORY_FOLDERS[spec.index % 20 // 10]}/_posts/{name}"
    if spec.index % 10 == 4:
        return f"_posts/{name}"
    return f"_posts/{spec.date:%Y}/{name}"


def _post_url_name(path: str) -> str:
    """What ``{% post_url %}`` takes for a post file (see Jekyll's PostComparer)."""
    folder, _, name = path.rpartition("/")
    stem = name.rsplit(".", 1)[0]
    if folder.endswith("/_posts"):
        return f"{folder[: -len('/_posts')]}/{stem}"
    inside = folder[len("_posts"):].strip("/")
    return f"{inside}/{stem}" if inside else stem


def jekyll_post(spec: PostSpec, earlier: list[str], seed: int) -> str:
    rng = random.Random(f"jekyll-{seed}-{spec.index}")
    builder = Body(rng)
    front = ["layout: post", f"title: {_yaml_text(spec.title)}"]
    if rng.random() < 0.5:
        zone = rng.choice(("+0000", "+0100", "-0500", "+0530"))
        front.append(f"date: {spec.date:%Y-%m-%d %H:%M:%S} {zone}")
    front += _tags_yaml("tags", spec.tags, rng) + _tags_yaml("categories", spec.categories, rng)
    front.append(f"description: {_yaml_text(builder.sentence())}")
    extras = []
    if rng.random() < 0.3:
        image = f"/assets/img/{spec.slug[:20]}-{spec.index}.png"
        front.append(f"image: {image}")
        extras.append(builder.image(image))
    if rng.random() < 0.1:
        front.append("comments: true")
    if spec.index % 100 == 42:
        front.append(f"permalink: /writing/{spec.slug}/")
    if spec.index % 100 == 17:
        front.append("published: false")
    if spec.index % 200 == 99:
        front.append("syndicate: false")
    if rng.random() < 0.4:
        extras += [builder.code() for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.05:
        extras.append(builder.table())
    if rng.random() < 0.1:
        extras.append("{% highlight python %}\ndef hello(name):\n    return f\"hello {name}\"\n"
                      "{% endhighlight %}")
    if rng.random() < 0.1:
        extras.append("This blog is {{ site.title }}; you are reading “{{ page.title }}”, "
                      "kept at {{ site.repository }}.")
    if rng.random() < 0.05:
        extras.append("{% raw %}Templates look like {{ this }} and {% that %}.{% endraw %}")
    if earlier and rng.random() < 0.05:
        extras.append(f"Earlier: [the previous post]({{% post_url {rng.choice(earlier)} %}}).")
    if earlier and rng.random() < 0.03:
        extras.append("{% include note.html text=\"A note from the include.\" %}")
    return _frame(front, spec.target_bytes, builder, extras)


def make_jekyll_site(root: Path, count: int, seed: int = 1) -> Path:
    """A Jekyll site with ``count`` posts in its ``_posts`` folders, and a few drafts."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "_config.yml").write_text(JEKYLL_CONFIG, encoding="utf-8")
    for relative, text in JEKYLL_FILES.items():
        _write(root / relative, text)
    earlier: list[str] = []
    for spec in post_specs(count, seed):
        relative = jekyll_post_path(spec, count)
        _write(root / relative, jekyll_post(spec, earlier[-200:], seed))
        if spec.date.year < 2099 and spec.index % 100 != 17 and spec.index % 100 != 42:
            earlier.append(_post_url_name(relative))
    rng = random.Random(f"drafts-{seed}")
    for _ in range(max(1, count // 100)):
        title = " ".join(rng.sample(TITLE_WORDS, 4)).capitalize()
        _write(root / "_drafts" / f"{slugify(title)}.md",
               f"---\ntitle: {title}\ntags: [draft]\n---\n\n{Body(rng).build(2048, [])}")
    return root


# Gatsby -------------------------------------------------------------------------------------

GATSBY_CONFIG = f"""\
/**
 * Configure your Gatsby site with this file.
 * See: https://www.gatsbyjs.com/docs/reference/config-files/gatsby-config/
 */

module.exports = {{
  siteMetadata: {{
    title: `Bench Blog`,
    author: {{
      name: `Bench Author`,
      summary: `who writes synthetic posts for syncd's benchmarks.`,
    }},
    description: `A synthetic gatsby-starter-blog site.`,
    siteUrl: `{GATSBY_URL}/`,
    social: {{
      twitter: `bench`,
    }},
  }},
  plugins: [
    `gatsby-plugin-image`,
    {{
      resolve: `gatsby-source-filesystem`,
      options: {{
        path: `${{__dirname}}/content/blog`,
        name: `blog`,
      }},
    }},
    {{
      resolve: `gatsby-source-filesystem`,
      options: {{
        name: `images`,
        path: `${{__dirname}}/src/images`,
      }},
    }},
    {{
      resolve: `gatsby-transformer-remark`,
      options: {{
        plugins: [
          {{
            resolve: `gatsby-remark-images`,
            options: {{
              maxWidth: 630,
            }},
          }},
          {{
            resolve: `gatsby-remark-responsive-iframe`,
            options: {{
              wrapperStyle: `margin-bottom: 1.0725rem`,
            }},
          }},
          `gatsby-remark-prismjs`,
        ],
      }},
    }},
    `gatsby-transformer-sharp`,
    `gatsby-plugin-sharp`,
  ],
}}
"""

GATSBY_NODE = """\
const { createFilePath } = require(`gatsby-source-filesystem`)

exports.onCreateNode = ({ node, actions, getNode }) => {
  const { createNodeField } = actions

  if (node.internal.type === `MarkdownRemark`) {
    const value = createFilePath({ node, getNode })

    createNodeField({
      name: `slug`,
      node,
      value,
    })
  }
}
"""

GATSBY_PACKAGE = {
    "name": "bench-gatsby-blog",
    "private": True,
    "version": "0.1.0",
    "dependencies": {"gatsby": "^5.13.0", "gatsby-source-filesystem": "^5.13.0",
                     "gatsby-transformer-remark": "^6.13.0"},
}


def gatsby_post_path(spec: PostSpec, taken: set[str]) -> tuple[str, bool]:
    """The post's file and whether it has a folder of its own (for an image beside it).

    Gatsby's paths carry no date, so a slug already ``taken`` gets the post's index.
    """
    slug = spec.slug if spec.slug not in taken else f"{spec.slug}-{spec.index}"
    taken.add(slug)
    if spec.index % 10 == 3:
        return f"content/blog/{spec.date:%Y}/{slug}/index.md", True
    if spec.index % 10 == 4:
        return f"content/blog/{slug}.md", False
    return f"content/blog/{slug}/index.md", True


def gatsby_post(spec: PostSpec, own_folder: bool, seed: int) -> tuple[str, bool]:
    """The post's text, and whether it shows ``./cover.png`` (which must then be written)."""
    rng = random.Random(f"gatsby-{seed}-{spec.index}")
    builder = Body(rng)
    if rng.random() < 0.6:
        date = f'"{spec.date:%Y-%m-%dT%H:%M:%S}.{rng.randint(0, 999):03d}Z"'
    else:
        date = f"{spec.date:%Y-%m-%d}"
    front = [f"title: {_yaml_text(spec.title)}", f"date: {date}",
             f"description: {_yaml_text(builder.sentence())}"]
    front += _tags_yaml("tags", spec.tags, rng)
    extras = []
    with_image = own_folder and rng.random() < 0.3
    if with_image:
        extras.append(builder.image("./cover.png"))
    if rng.random() < 0.3:
        extras.append(builder.image(f"https://images.example.org/{spec.index}.jpg"))
    if spec.index % 100 == 17:
        front.append("draft: true")
    if rng.random() < 0.4:
        extras += [builder.code() for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.05:
        extras.append(builder.table())
    return _frame(front, spec.target_bytes, builder, extras), with_image


def make_gatsby_site(root: Path, count: int, seed: int = 1) -> Path:
    """A gatsby-starter-blog site with ``count`` posts under ``content/blog``."""
    root.mkdir(parents=True, exist_ok=True)
    _write(root / "gatsby-config.js", GATSBY_CONFIG)
    _write(root / "gatsby-node.js", GATSBY_NODE)
    _write(root / "package.json", json.dumps(GATSBY_PACKAGE, indent=2) + "\n")
    _write(root / "src/pages/index.js", "export default function Index() { return null }\n")
    (root / "src/images").mkdir(parents=True, exist_ok=True)
    (root / "src/images/profile-pic.png").write_bytes(PNG_1X1)
    taken: set[str] = set()
    for spec in post_specs(count, seed):
        relative, own_folder = gatsby_post_path(spec, taken)
        text, with_image = gatsby_post(spec, own_folder, seed)
        _write(root / relative, text)
        if with_image:
            (root / relative).with_name("cover.png").write_bytes(PNG_1X1)
    return root


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


MAKERS = {"jekyll": make_jekyll_site, "gatsby": make_gatsby_site}


def make_site(generator: str, root: Path, count: int, seed: int = 1) -> Path:
    """Write a fresh site at ``root`` (replacing what is there)."""
    if root.exists():
        shutil.rmtree(root)
    return MAKERS[generator](root, count, seed)


def post_files(generator: str, root: Path) -> list[Path]:
    """Every post file the generator publishes from (drafts excluded), sorted."""
    from floor import post_files as found

    return found(generator, root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("generator", choices=sorted(MAKERS))
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    make_site(args.generator, args.out, args.count, args.seed)
    files = post_files(args.generator, args.out)
    size = sum(p.stat().st_size for p in files)
    print(f"{args.out}: {len(files)} posts, {size / 1024 / 1024:.1f} MB")


if __name__ == "__main__":
    main()
