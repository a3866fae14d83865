"""The Gatsby reader on small hand-written sites: what it reads from gatsby-config.js and
gatsby-node.js, the page path and URL of each post, opt-outs, and per-post errors.

The URLs themselves are checked against the real Gatsby packages, on many generated sites, by
``tests/test_urls_differential.py``; these tests pin the behaviour a reader of the README
relies on, with the exact expected values written out.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sitekit import run_syncd

from syncd.engine import Rules, plan
from syncd.sites import gatsby
from syncd.sites.gatsby import SiteError, read_site

STARTER_CONFIG = """module.exports = {
  siteMetadata: {
    title: `Gatsby Starter Blog`,
    siteUrl: `https://gatsbystarterblogsource.gatsbyjs.io/`,
  },
  plugins: [
    `gatsby-plugin-image`,
    {
      resolve: `gatsby-source-filesystem`,
      options: {
        path: `${__dirname}/content/blog`,
        name: `blog`,
      },
    },
    {
      resolve: `gatsby-source-filesystem`,
      options: {
        name: `images`,
        path: `${__dirname}/src/images`,
      },
    },
  ],
}
"""

STARTER_NODE = """const { createFilePath } = require(`gatsby-source-filesystem`)
exports.onCreateNode = ({ node, actions, getNode }) => {
  const { createNodeField } = actions
  if (node.internal.type === `MarkdownRemark`) {
    const value = createFilePath({ node, getNode })
    createNodeField({ name: `slug`, node, value })
  }
}
"""


def make_site(root: Path, posts: dict[str, str], config: str = STARTER_CONFIG,
              node: str | None = STARTER_NODE) -> Path:
    (root / "src" / "images").mkdir(parents=True, exist_ok=True)
    (root / "gatsby-config.js").write_text(config, encoding="utf-8")
    if node is not None:
        (root / "gatsby-node.js").write_text(node, encoding="utf-8")
    for relative, text in posts.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "content" / "blog").mkdir(parents=True, exist_ok=True)
    return root


def post(title: str = "A post", date: str = "2021-05-01", **extra: str) -> str:
    lines = [f"title: {json.dumps(title)}", f"date: {date}"]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return "---\n" + "\n".join(lines) + "\n---\nBody.\n"


def urls(root: Path, **options: object) -> dict[str, str | None]:
    scan = read_site(root, **options)  # type: ignore[arg-type]
    assert scan.errors == (), scan.errors
    return {p.source: p.canonical_url for p in scan.posts}


def test_the_starter_blog_layout(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        "content/blog/hello-world/index.md": post("Hello World"),
        "content/blog/my-second-post/index.md": post(),
        "content/blog/new-beginnings/index.md": post(),
        "content/blog/a single file.md": post(),
        "content/blog/Café Crème/index.markdown": post(),
        "content/blog/nested/deeper/v1.2.3.md": post(),
        "content/blog/what?/index.md": post(),
        "content/blog/100%.mdx": post(),
        "content/blog/notes.txt": "not a post",
        "content/blog/node_modules/x/index.md": post(),
        "content/blog/.hidden-draft.md": post(),
        "src/images/about.md": post(),
    })
    assert urls(site) == {
        "content/blog/hello-world/index.md": "https://gatsbystarterblogsource.gatsbyjs.io/hello-world/",
        "content/blog/my-second-post/index.md": "https://gatsbystarterblogsource.gatsbyjs.io/my-second-post/",
        "content/blog/new-beginnings/index.md": "https://gatsbystarterblogsource.gatsbyjs.io/new-beginnings/",
        "content/blog/a single file.md": "https://gatsbystarterblogsource.gatsbyjs.io/a%20single%20file/",
        "content/blog/Café Crème/index.markdown": "https://gatsbystarterblogsource.gatsbyjs.io/Caf%C3%A9%20Cr%C3%A8me/",
        "content/blog/nested/deeper/v1.2.3.md": "https://gatsbystarterblogsource.gatsbyjs.io/nested/deeper/v1.2.3/",
        "content/blog/what?/index.md": "https://gatsbystarterblogsource.gatsbyjs.io/what%3F/",
        "content/blog/100%.mdx": "https://gatsbystarterblogsource.gatsbyjs.io/100%25/",
        # gatsby-source-filesystem sources dot files too; markdown among images is a post.
        "content/blog/.hidden-draft.md": "https://gatsbystarterblogsource.gatsbyjs.io/.hidden-draft/",
        "src/images/about.md": "https://gatsbystarterblogsource.gatsbyjs.io/about/",
    }  # fmt: skip


@pytest.mark.parametrize("expression", [
    "`${__dirname}/writing`",
    "`${__dirname}/writing/`",
    'path.join(__dirname, "writing")',
    "path.resolve(__dirname, 'writing')",
    'require("path").join(__dirname, `writing`)',
    '__dirname + "/writing"',
    '"./writing"',
    "`writing`",
])
def test_the_content_folder_is_read_from_gatsby_config(tmp_path: Path, expression: str) -> None:
    config = (
        "// path: `${__dirname}/not-this-one` (a comment)\n"
        'const path = require("path")\n'
        "/* { resolve: 'gatsby-source-filesystem', options: { path: 'nor-this' } } */\n"
        "module.exports = {\n"
        "  siteMetadata: { siteUrl: 'https://example.com' },\n"
        f"  plugins: [{{ resolve: 'gatsby-source-filesystem', options: {{ name: 'blog', "
        f"path: {expression} }} }}],\n"
        "}\n"
    )
    site = make_site(tmp_path, {"writing/first/index.md": post()}, config=config)
    assert urls(site) == {"writing/first/index.md": "https://example.com/first/"}


def test_esm_and_typescript_configs_are_read(tmp_path: Path) -> None:
    config = (
        'import type { GatsbyConfig } from "gatsby"\n'
        "const config: GatsbyConfig = {\n"
        '  siteMetadata: { siteUrl: "https://ts.example" },\n'
        '  trailingSlash: "never",\n'
        '  plugins: [{ resolve: "gatsby-source-filesystem",\n'
        "    options: { path: `${__dirname}/posts` } }],\n"
        "}\n"
        "export default config\n"
    )
    (tmp_path / "posts").mkdir()
    make_site(tmp_path, {"posts/x/index.md": post()}, config="", node=None)
    (tmp_path / "gatsby-config.js").unlink()
    (tmp_path / "gatsby-config.ts").write_text(config, encoding="utf-8")
    assert urls(tmp_path) == {"posts/x/index.md": "https://ts.example/x"}


@pytest.mark.parametrize(("option", "expected"), [
    (None, ["/a/", "/b/", "/feed.xml", "/page.html"]),
    ("always", ["/a/", "/b/", "/feed.xml", "/page.html"]),
    ("never", ["/a", "/b", "/feed.xml", "/page.html"]),
    ("ignore", ["/a/", "/b", "/feed.xml", "/page.html"]),
])
def test_the_trailing_slash_option(tmp_path: Path, option: str | None,
                                   expected: list[str]) -> None:
    config = STARTER_CONFIG.replace("  plugins:", f'  trailingSlash: "{option}",\n  plugins:') \
        if option else STARTER_CONFIG
    node = STARTER_NODE.replace("value })", "value: node.frontmatter.path || value })")
    site = make_site(tmp_path, {
        "content/blog/a/index.md": post(),
        "content/blog/b.md": post(path="/b"),
        "content/blog/c.md": post(path="/feed.xml"),
        "content/blog/d.md": post(path="/page.html"),
    }, config=config, node=node)
    got = urls(site, url_template=["{path}", "{file}"])
    base = "https://gatsbystarterblogsource.gatsbyjs.io"
    assert sorted(got.values()) == sorted(base + path for path in expected)


def test_create_file_path_arguments_are_read_from_gatsby_node(tmp_path: Path) -> None:
    node = STARTER_NODE.replace("{ node, getNode }",
                                "{ node, getNode, basePath: `pages`, trailingSlash: false }")
    site = make_site(tmp_path, {"content/blog/pages/x.md": post(),
                                "content/blog/other/index.md": post()}, node=node)
    # Gatsby's default trailingSlash ("always") puts the slash back on the page path.
    assert sorted(urls(site).values()) == [
        "https://gatsbystarterblogsource.gatsbyjs.io/other/",
        "https://gatsbystarterblogsource.gatsbyjs.io/x/",
    ]


@pytest.mark.parametrize(("relative", "slug"), [
    ("hello/index.md", "/hello/"),
    ("index.md", "/"),
    ("a.b.c.md", "/a.b.c/"),
    ("..md", "/"),
    ("x/index.mdx", "/x/"),
    ("src/pages/y.md", "/y/"),  # createFilePath's basePath quirk: src/pages is dropped
    ("src/z.md", "/z/"),
    ("back\\slash.md", "/back/slash/"),
])
def test_create_file_path(relative: str, slug: str) -> None:
    assert gatsby.create_file_path(relative) == slug


def test_front_matter_fields_choose_the_page_path(tmp_path: Path) -> None:
    node = STARTER_NODE.replace(
        "value })", "value: node.frontmatter.slug ? `/blog/${node.frontmatter.slug}` : value })")
    site = make_site(tmp_path, {
        "content/blog/a/index.md": post(slug="custom-slug"),
        "content/blog/b/index.md": post(),
    }, node=node)
    got = urls(site, url_template=["/blog/{slug}", "{file}"])
    assert got == {
        "content/blog/a/index.md": "https://gatsbystarterblogsource.gatsbyjs.io/blog/custom-slug/",
        "content/blog/b/index.md": "https://gatsbystarterblogsource.gatsbyjs.io/b/",
    }
    scan = read_site(site, url_template=["/blog/{slug}"])
    assert [(e.source, e.reason) for e in scan.errors] == [
        ("content/blog/b/index.md",
         "has no `slug` in its front matter, which [site] url_template needs")]


def test_opt_outs_future_posts_and_per_post_errors(tmp_path: Path) -> None:
    site = make_site(tmp_path, {
        "content/blog/good/index.md": post(),
        "content/blog/draft/index.md": post(draft="true"),
        "content/blog/unpublished/index.md": post(published="false"),
        "content/blog/later/index.md": post(date="2099-01-01"),
        "content/blog/bad-date/index.md": post(date='"next tuesday"'),
        "content/blog/bad-yaml/index.md": "---\ntitle: [unclosed\n---\nx\n",
        "content/blog/index.md": post(),
        "content/blog/twin.md": post(),
        "content/blog/twin/index.md": post(),
    })
    scan = read_site(site)
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    items = {i.source.removeprefix("content/blog/"):
             (i.action, i.reason.split(" (")[0].split(": expected")[0].split(": did not")[0])
             for i in plan(scan, {}, now, Rules())}
    assert items == {
        "good/index.md": ("post", "new"),
        "draft/index.md": ("skip", "draft"),
        "unpublished/index.md": ("skip", "unpublished"),
        "later/index.md": ("defer", "future"),
        "bad-date/index.md": ("error", "front matter `date` is not a date: 'next tuesday'"),
        "bad-yaml/index.md": ("error", "bad YAML front matter"),
        "index.md": ("error", "its page path is /, the site's home page; give it a `slug` or "
                              "move it into a folder of its own"),
        "twin.md": ("error", "has the same URL as content/blog/twin/index.md"),
        "twin/index.md": ("error", "has the same URL as content/blog/twin.md"),
    }


def test_site_level_problems_name_the_fix(tmp_path: Path) -> None:
    no_url = STARTER_CONFIG.replace("siteUrl: `https://gatsbystarterblogsource.gatsbyjs.io/`,",
                                    "siteUrl: process.env.URL,")
    site = make_site(tmp_path, {"content/blog/a/index.md": post()}, config=no_url)
    with pytest.raises(SiteError, match=r"siteUrl.*\[site\] url"):
        read_site(site)
    assert urls(site, site_url="https://mine.example") == {
        "content/blog/a/index.md": "https://mine.example/a/"}
    (site / "gatsby-node.js").write_text("exports.onCreateNode = () => {}\n", encoding="utf-8")
    with pytest.raises(SiteError, match="url_template"):
        read_site(site, site_url="https://mine.example")
    missing = STARTER_CONFIG.replace("/content/blog", "/content/nowhere")
    (site / "gatsby-config.js").write_text(missing, encoding="utf-8")
    with pytest.raises(SiteError, match="content/nowhere does not exist"):
        read_site(site, site_url="https://mine.example", url_template=["{file}"])
    assert urls(site, site_url="https://mine.example", url_template=["{file}"],
                content=[str(site / "content/blog")]) \
        == {"content/blog/a/index.md": "https://mine.example/a/"}


def test_plan_json_for_a_gatsby_site(tmp_path: Path) -> None:
    make_site(tmp_path / "site", {"content/blog/hello world/index.md": post("Hello")})
    config = tmp_path / "syncd.toml"
    config.write_text('[site]\ngenerator = "gatsby"\nroot = "site"\n\n'
                      '[sync]\nledger = "state/ledger.json"\n', encoding="utf-8")
    done = run_syncd("plan", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{
        "source": "content/blog/hello world/index.md",
        "canonical_url": "https://gatsbystarterblogsource.gatsbyjs.io/hello%20world/",
        "title": "Hello",
        "date": "2021-05-01T00:00:00+00:00",
        "action": "post",
        "reason": "new",
    }]


def test_the_example_configs_gatsby_block_is_valid(tmp_path: Path) -> None:
    """config.example.toml shows a Gatsby [site] in `##` lines; it must work as written."""
    from syncd.config import load_config

    example = (Path(__file__).parents[1] / "config.example.toml").read_text(encoding="utf-8")
    block = [line[3:] for line in example.splitlines()
             if line.startswith("## ") and " = " in line]
    make_site(tmp_path / "gatsby-blog", {"content/blog/a/index.md": post()})
    text = "[site]\n" + "\n".join(block).replace("/srv/", "") + \
        '\n\n[sync]\nledger = "ledger.json"\n'
    (tmp_path / "syncd.toml").write_text(text, encoding="utf-8")
    config = load_config(tmp_path / "syncd.toml")
    assert config.warnings == ()
    assert config.site.generator == "gatsby"
    assert config.site.url_template == ("/blog/{slug}/", "{file}")
    assert config.site.content == ((tmp_path / "gatsby-blog/content/blog").resolve(),)
