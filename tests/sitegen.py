"""Deterministic generators of awkward text, Jekyll sites and Gatsby sites, from a seed.

Used by ``tests/test_urls_differential.py``, which builds every generated site with the real
generator and compares each post's URL with ``syncd plan --json``. Everything here is a pure
function of a ``random.Random``: the same seed makes byte-identical sites.

The text pools lean on what breaks URL code: scripts other than Latin, combining accents
(precomposed and decomposed, as macOS writes file names), ligatures and full-width forms that
NFKC folds, emoji, reserved URL characters, spaces, dots and runs of dashes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

# Pieces of text, from plain to hostile. Every piece is valid in a Linux file name.
WORDS = [
    "hello", "world", "Notes", "rust", "Python", "año", "café", "cafe\u0301", "naïve",
    "Straße", "İstanbul", "ǅemal", "ΟΔΟΣ", "Ελληνικά", "русский", "日本語", "中文", "한국어",
    "עברית", "العربية", "हिन्दी", "ﬁnal", "ＦＵＬＬ", "x²", "Ⅻ", "🎉", "🙂", "👩‍💻", "déjà-vu",
    "v1.2.3", "a_b", "snake_case", "UPPER", "MiXeD", "42", "2020", "one two", "tab\tbed",
    "q&a", "c++", "c#", "what?", "100%", "a/b", "x@y", "it's", "(paren)", "[br]", "{c}",
    "semi;colon", "a=b", "a+b", "a,b", "til~de", "$cash", "star*", "bang!", "pipe|", "^up",
    "back`tick", "quote\"d", "less<more>", "dots...", "trail.", ".lead", "--dash--",
    "nb\u00a0sp", "zero\u200bwidth", "ſ", "ﬀ", "½", "Å", "Å",
]  # fmt: skip

SAFE_WORDS = [w for w in WORDS if not any(c in w for c in "/\t\"")]
CATEGORY_WORDS = [w for w in WORDS if "\t" not in w]


def phrase(rng: random.Random, words: list[str] | None = None, most: int = 4) -> str:
    """A few words joined by a space, a dash, an underscore or nothing."""
    pool = words or SAFE_WORDS
    picked = [rng.choice(pool) for _ in range(rng.randint(1, most))]
    joiner = rng.choice([" ", "-", "-", "_", "", "  ", " - "])
    return joiner.join(picked)


ZONES = [
    "UTC", "America/New_York", "America/Los_Angeles", "Europe/Berlin", "Europe/London",
    "Asia/Kolkata", "Asia/Tokyo", "Australia/Adelaide", "Pacific/Kiritimati",
    "Pacific/Pago_Pago", "America/St_Johns", "Asia/Kathmandu", "Europe/Paris",
]  # fmt: skip


def random_time(rng: random.Random, future: bool = False) -> dt.datetime:
    """A wall time, often near midnight or a DST change, where zones move the day."""
    if future:
        day = dt.date(2090, 1, 1) + dt.timedelta(days=rng.randint(0, 3000))
    else:
        day = dt.date(2009, 1, 1) + dt.timedelta(days=rng.randint(0, 5800))
        if rng.random() < 0.15:
            day = rng.choice([dt.date(2021, 3, 14), dt.date(2021, 11, 7), dt.date(2021, 3, 28),
                              dt.date(2021, 10, 31), dt.date(2020, 12, 31), dt.date(2021, 1, 1),
                              dt.date(2016, 2, 29), dt.date(2020, 12, 28)])
    hour = rng.choice([0, 0, 1, 2, 2, 3, 12, 22, 23, 23, rng.randint(0, 23)])
    return dt.datetime(day.year, day.month, day.day, hour, rng.randint(0, 59), rng.randint(0, 59))


def date_text(rng: random.Random, when: dt.datetime) -> tuple[str, bool]:
    """A ``date:`` value as posts write it; and whether it must be quoted to stay text."""
    day = f"{when.year:04d}-{when.month:02d}-{when.day:02d}"
    clock = f"{when.hour:02d}:{when.minute:02d}"
    seconds = f"{clock}:{when.second:02d}"
    choice = rng.randint(0, 18)
    if choice == 0:
        return day, False
    if choice == 1:
        return f"{day} {seconds}", False
    if choice == 2:
        return f"{day}T{seconds}Z", False
    if choice == 3:
        sign = rng.choice("+-")
        return f"{day} {seconds} {sign}{rng.choice(['0100', '0530', '1000', '0000', '1400'])}", \
            False
    if choice == 4:
        sign = rng.choice("+-")
        return f"{day} {seconds} {sign}{rng.choice(['01:00', '05:45', '11:00', '00:30'])}", False
    if choice == 5:
        return f"{day} {clock}", True
    if choice == 6:
        return f"{day} {seconds}", True
    if choice == 7:
        return f"{day} {seconds} {rng.choice(['EST', 'PDT', 'UTC', 'GMT', 'CET', 'Z'])}", True
    if choice == 8:
        return f"{day}T{seconds}.{rng.randint(0, 999999):06d}+02:00", False
    if choice == 9:
        return f"{day} {clock} {rng.choice(['+05', '-08', '+0200'])}", True
    if choice == 10:
        return f"{when.year}-{when.month}-{when.day}", rng.random() < 0.5
    if choice == 11:
        return f"{day} {seconds} +5", False
    if choice == 12:
        return f"{day}T{seconds}", rng.random() < 0.5
    month = when.strftime("%B")
    hour12 = f"{when.hour % 12 or 12}:{when.minute:02d} {'pm' if when.hour >= 12 else 'am'}"
    if choice == 14:
        return f"{month} {when.day}, {when.year} {hour12}", rng.random() < 0.5
    if choice == 15:
        return f"{when.day} {month} {when.year}", rng.random() < 0.5
    if choice == 16:
        return f"{when:%a, %d %b %Y} {seconds} {rng.choice(['+0100', '-0500', 'GMT'])}", False
    if choice == 17:
        return f"{when.year}/{when.month:02d}/{when.day:02d} {clock}", rng.random() < 0.5
    if choice == 18:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(when.day % 10 if when.day // 10 != 1 else 0, "th")
        return f"{when:%b} {when.day}{suffix}, {when.year} at {hour12}", rng.random() < 0.5
    return f"{day} {seconds} -00:30", False


# Jekyll ---------------------------------------------------------------------------------

PERMALINK_STYLES = ["date", "pretty", "ordinal", "weekdate", "none"]
PLACEHOLDERS = [
    "year", "short_year", "month", "i_month", "short_month", "long_month", "day", "i_day",
    "y_day", "w_year", "week", "w_day", "short_day", "long_day", "hour", "minute", "second",
    "title", "slug", "name", "categories", "slugified_categories", "output_ext", "path",
]  # fmt: skip
URLS = [
    "https://example.com", "https://example.com/", "https://Example.COM", "http://blog.test:8080",
    "https://example.com:443", "https://example.com/site", "https://example.com/site/",
    "http://ÉXAMPLE.com",
]  # fmt: skip
BASEURLS = [None, "", "/", "/blog", "blog", "/blog/", "blog/", "/a/b", "/my blog", "/blög",
            "/x.y"]


def permalink_template(rng: random.Random) -> str:
    """A template mixing placeholders, literals, odd separators and a style's endings."""
    parts = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if kind < 0.65:
            parts.append(":" + rng.choice(PLACEHOLDERS))
        elif kind < 0.8:
            parts.append(rng.choice(["blog", "posts", "x", "archive", "Ünï", "a b", "W"]))
        else:
            parts.append(":" + rng.choice(["month", "day", "year"]) + "_")
    text = parts[0]
    for part in parts[1:]:
        # A literal glued to a placeholder would make an unknown one (":yeararchive").
        glued = (text[-1].isalnum() or text[-1] == "_") and (part[0].isalpha()
                                                             or part[0] == "_")
        # ":month__" or ":year_x" would be unknown placeholders too.
        if glued or text.endswith("_"):
            text += rng.choice(["/", "-", "."])
        else:
            text += rng.choice(["/", "/", "/", "-", ".", "_", ""])
        text += part
    text = ("/" if rng.random() < 0.85 else "") + text
    if "title" not in text and "slug" not in text and "name" not in text:
        text += "/:" + rng.choice(["title", "slug", "name"])
    ending = rng.choice(["", "/", ":output_ext", ".html", "/index.html", ""])
    return text + ending


@dataclass
class GeneratedSite:
    """Files to write, plus what the test needs to know about the site."""

    name: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    machine_zone: str = "UTC"
    site_url: str | None = None  # syncd's [site] url override
    collections_dir: str = ""
    future_posts: bool = False  # some posts are dated in the future (and not yet published)
    notes: list[str] = field(default_factory=list)

    def write(self, root: Path) -> None:
        for relative, content in self.files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")


def _yaml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def jekyll_site(rng: random.Random, name: str, posts: int, index: int = 0) -> GeneratedSite:
    """A Jekyll site with ``posts`` post files spread over folders, styles and front matter.

    Site ``index`` always uses placeholder ``PLACEHOLDERS[index]`` and, for the first few,
    each permalink style, so a run of ``len(PLACEHOLDERS)`` sites covers every one.
    """
    site = GeneratedSite(name=name, machine_zone=rng.choice(ZONES))
    config: list[str] = [f"title: {name}"]
    url = rng.choice(URLS)
    config.append(f"url: {_yaml_string(url)}")
    baseurl = rng.choice(BASEURLS)
    if baseurl is not None:
        config.append(f"baseurl: {_yaml_string(baseurl)}")
    if rng.random() < 0.1:
        site.site_url = rng.choice(["https://override.example/blog", "https://Over.example"])
    if rng.random() < 0.75:
        config.append(f"timezone: {rng.choice(ZONES)}")
    style = rng.random()
    if index < len(PERMALINK_STYLES):
        config.append(f"permalink: {PERMALINK_STYLES[index]}")
    elif index < len(PLACEHOLDERS) + len(PERMALINK_STYLES):
        forced = PLACEHOLDERS[(index - len(PERMALINK_STYLES)) % len(PLACEHOLDERS)]
        config.append(f"permalink: {_yaml_string(f'/:{forced}/' + permalink_template(rng))}")
    elif style < 0.45:
        config.append(f"permalink: {rng.choice(PERMALINK_STYLES)}")
    elif style < 0.85:
        config.append(f"permalink: {_yaml_string(permalink_template(rng))}")
    if rng.random() < 0.15:
        config.append("collections:\n  posts:\n    permalink: "
                      + _yaml_string(rng.choice([permalink_template(rng), "pretty"])))
    markdown_ext = ["markdown", "mkdown", "mkdn", "mkd", "md"]
    if rng.random() < 0.2:
        markdown_ext = ["md", "mdown", "txt"]
        config.append("markdown_ext: " + ",".join(markdown_ext))
    future = rng.random() < 0.2
    if future:
        config.append("future: true")
    # Future-dated posts in a third of the sites (each needs a second build to check them).
    site.future_posts = index % 3 == 0 and not future
    if rng.random() < 0.1:
        config.append("unpublished: true")
    excluded_dirs = []
    if rng.random() < 0.4:
        excluded_dirs = rng.sample(["old", "tech/deep", "drafts2", "_posts/archive"], 2)
        config.append("exclude:\n" + "".join(f"  - {d}\n" for d in excluded_dirs).rstrip())
    if rng.random() < 0.2:
        config.append("include:\n  - _special")
    if rng.random() < 0.3:
        scope = rng.choice(["", "blog", "tech", "_posts/sub"])
        values = rng.choice([
            f"permalink: {_yaml_string(permalink_template(rng))}",
            "categories: [Defaulted, Two]",
            "category: From Default",
            "published: false",
        ])
        config.append(f"defaults:\n  - scope:\n      path: {_yaml_string(scope)}\n"
                      f"      type: posts\n    values:\n      {values}")
    if rng.random() < 0.08:
        site.collections_dir = "my_collections"
        config.append("collections_dir: my_collections")
    site.files["_config.yml"] = "\n".join(config) + "\n"

    folders = ["", "", "", "blog/", "tech/deep/", "Écrits/", "old/", "my blog/", "_special/",
               "_ignored/", ".hidden/", "#temp/", "drafts2/", "a.b/"]
    inner = ["", "", "", "sub/", "sub/_x/", "_skip/", "2019/", ".dot/", "archive/"]
    extensions = [".md", ".md", ".md", ".markdown", ".MD", ".html", ".mkd", ".txt",
                  ".textile", ".htm", "." + rng.choice(markdown_ext)]
    prefix = site.collections_dir + "/" if site.collections_dir else ""
    for number in range(posts):
        future_post = (site.future_posts or future) and rng.random() < 0.2
        when = random_time(rng, future=future_post)
        slug = phrase(rng)
        if rng.random() < 0.05:
            slug = rng.choice(["🎉", "!!!", "---", "é", "ﬁ", "Σ"])
        month = f"{when.month:02d}" if rng.random() < 0.8 else str(when.month)
        day = f"{when.day:02d}" if rng.random() < 0.8 else str(when.day)
        file_name = f"{when.year}-{month}-{day}-{slug}{rng.choice(extensions)}"
        if rng.random() < 0.03:
            file_name = rng.choice([f"{slug}.md", f"{file_name}~", f".{file_name}",
                                    f"#{file_name}", f"{when.year}-{month}-{day}-{slug}"])
        folder = rng.choice(folders) + "_posts/" + rng.choice(inner)
        if rng.random() < 0.05:
            folder = rng.choice(folders) + "_drafts/"
        relative = prefix + folder + file_name
        if relative in site.files:
            continue
        site.files[relative] = _jekyll_post(rng, number, when, future_post)
    return site


def _jekyll_post(rng: random.Random, index: int, when: dt.datetime, future: bool) -> str:
    lines: list[str] = []
    if rng.random() < 0.9:
        lines.append(f"title: {_yaml_string(phrase(rng, WORDS))}")
    if rng.random() < 0.35:
        text, quoted = date_text(rng, when if rng.random() < 0.7 else random_time(rng, future))
        lines.append(f"date: {_yaml_string(text) if quoted else text}")
    if rng.random() < 0.3:
        many = [phrase(rng, CATEGORY_WORDS, most=2) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.3:
            many.append(many[0].upper())
        if rng.random() < 0.5:
            lines.append("categories: [" + ", ".join(_yaml_string(c) for c in many) + "]")
        else:
            lines.append("categories: " + _yaml_string(" ".join(many)))
    if rng.random() < 0.1:
        lines.append(f"categories: [{rng.randint(1990, 2030)}, {_yaml_string('Mixed')}]")
    if rng.random() < 0.12:
        lines.append(f"category: {_yaml_string(phrase(rng, most=2))}")
    if rng.random() < 0.12:
        lines.append(f"slug: {_yaml_string(phrase(rng))}")
    if rng.random() < 0.12:
        permalink = rng.choice([
            permalink_template(rng), "pretty", "/fixed/" + phrase(rng) + "/",
            "notes/:year/:title", "/:title:output_ext", "/page-" + str(index) + ".html",
            "/with space/:slug/", "/ünï/:categories/:title/", "/faq?x=:title",
            "/frag/#:slug", "/:year/:title/?ref=feed&x=1", "/%7Euser/:title/", "/ﬁle/:slug",
        ])
        last = permalink.rsplit("/", 1)[-1]
        if "." in last and ":" in last.rpartition(".")[2]:
            # An extension holding a ':' (".:title") crashes Jekyll's own build: not a site.
            permalink = permalink.replace(".", "-")
        lines.append(f"permalink: {_yaml_string(permalink)}")
    if rng.random() < 0.08:
        lines.append("published: " + rng.choice(["false", "no", "off", "Off", '"false"',
                                                  "true", "~"]))
    if rng.random() < 0.2:
        lines.append("tags: [a, b]")
    body = f"Post {index}.\n"
    if rng.random() < 0.05:
        return body
    text = "---\n" + "\n".join(lines) + "\n---\n" + body
    if rng.random() < 0.1:
        text = text.replace("\n", "\r\n")  # written on Windows
    if rng.random() < 0.05:
        text = "\ufeff" + text  # with a byte-order mark
    return text


# Gatsby ---------------------------------------------------------------------------------

SITE_URLS = ["https://example.com", "https://example.com/", "https://Blog.Example.COM",
             "http://localhost:8000", "https://example.com/prefix", "https://example.com:443"]
CONTENT_PATHS = [
    ("content/blog", "`${__dirname}/content/blog`"),
    ("content/blog", 'path.join(__dirname, "content", "blog")'),
    ("content/posts", "path.resolve(__dirname, 'content/posts')"),
    ("content/blog", '__dirname + "/content/blog/"'),
    ("content/blog", '"./content/blog"'),
    ("writing", "`writing`"),
]
NODE_VARIANTS = {
    # name: (createFilePath arguments, how the slug is chosen, syncd's url_template)
    "starter": ("{ node, getNode }", "value", None),
    "base-path": ('{ node, getNode, basePath: "pages" }', "value", None),
    "no-slash": ("{ node, getNode, trailingSlash: false }", "value", None),
    "front-slug": ("{ node, getNode }",
                   "node.frontmatter.slug ? `/blog/${node.frontmatter.slug}` : value",
                   ["/blog/{slug}", "{file}"]),
    "front-path": ("{ node, getNode }", "node.frontmatter.path || value", ["{path}", "{file}"]),
}


@dataclass
class GatsbySite(GeneratedSite):
    url_template: list[str] | None = None


def gatsby_site(rng: random.Random, name: str, posts: int, index: int = 0) -> GatsbySite:
    """A site built like gatsby-starter-blog, with its config and node files varied."""
    variant = list(NODE_VARIANTS)[index % len(NODE_VARIANTS)]
    arguments, choice, template = NODE_VARIANTS[variant]
    site = GatsbySite(name=name, url_template=template)
    content, expression = rng.choice(CONTENT_PATHS)
    quote = rng.choice(["'", '"', "`"])
    site_url = rng.choice(SITE_URLS)
    if rng.random() < 0.1:
        site.site_url = "https://override.example/blog"
    trailing = rng.choice([None, "always", "never", "ignore"])
    lines = [
        "/* Generated for syncd's differential test. */",
        'const path = require("path")',
        "",
        "module.exports = {",
        "  siteMetadata: {",
        f"    title: {quote}{name}{quote},",
        f"    siteUrl: {quote}{site_url}{quote}, // where the site lives",
        "  },",
    ]
    if trailing:
        lines.append(f'  trailingSlash: "{trailing}",')
    lines += [
        "  plugins: [",
        f"    {{ resolve: {quote}gatsby-source-filesystem{quote},",
        f"      options: {{ path: {expression}, name: `blog` }} }},",
        "    {",
        "      resolve: `gatsby-source-filesystem`,",
        "      options: {",
        "        name: `images`,",
        "        path: `${__dirname}/src/images`,",
        "      },",
        "    },",
        "    `gatsby-transformer-remark`,",
        "  ],",
        "}",
    ]
    site.files["gatsby-config.js"] = "\n".join(lines) + "\n"
    site.files["src/images/logo.png"] = b"\x89PNG\r\n\x1a\n"
    if rng.random() < 0.2:
        site.files["src/images/notes.md"] = "---\ntitle: A markdown file among images\n---\nx\n"
    site.files["gatsby-node.js"] = (
        'const { createFilePath } = require("gatsby-source-filesystem")\n\n'
        "exports.onCreateNode = ({ node, actions, getNode }) => {\n"
        "  const { createNodeField } = actions\n"
        '  if (node.internal.type === "MarkdownRemark" || node.internal.type === "Mdx") {\n'
        f"    const value = createFilePath({arguments})\n"
        f'    createNodeField({{ name: "slug", node, value: {choice} }})\n'
        "  }\n"
        "}\n"
    )
    extensions = ["/index.md", "/index.md", ".md", ".md", ".markdown", ".MD", ".mkd", ".mdx",
                  "/index.mdx", ".MDX", ".txt", ".Markdown"]
    folders = ["", "", "", "2020/", "nested/deeper/", "src/", "src/pages/", "pages/",
               "node_modules/", ".hidden/", "a b/", "café/"]
    for number in range(posts):
        stem = phrase(rng)
        if rng.random() < 0.05:
            stem = rng.choice(["index", ".draft", "..", "x.", "trailing. ", "🎉"])
        relative = f"{content}/{rng.choice(folders)}{stem}{rng.choice(extensions)}"
        if relative in site.files:
            continue
        site.files[relative] = _gatsby_post(rng, number, variant)
    return site


def _gatsby_post(rng: random.Random, number: int, variant: str) -> str:
    lines = [f"title: {_yaml_string(phrase(rng, WORDS))}"] if rng.random() < 0.9 else []
    when = random_time(rng, future=rng.random() < 0.1)
    if rng.random() < 0.9:
        if rng.random() < 0.7:
            lines.append(f"date: {when:%Y-%m-%d}")
        else:
            lines.append(f'date: "{when:%Y-%m-%dT%H:%M:%S}Z"')
    if rng.random() < 0.06:
        lines.append("draft: true")
    if rng.random() < 0.06:
        lines.append("published: false")
    if variant == "front-slug" and rng.random() < 0.6:
        lines.append(f"slug: {_yaml_string(phrase(rng))}")
    if variant == "front-path" and rng.random() < 0.6:
        lines.append(f"path: {_yaml_string('/' + phrase(rng) + rng.choice(['/', '', '.html']))}")
    if rng.random() < 0.2:
        lines.append("tags: [gatsby, posse]")
    return "---\n" + "\n".join(lines) + f"\n---\nPost {number}.\n"
