"""What rendering needs to know about the whole site, gathered once per pass.

A post alone is not enough to render it as its site shows it: ``{{ site.* }}`` comes from
``_config.yml``, ``{% post_url %}`` and ``{% link %}`` name other posts and pages, images
live in the site folder, and the author's render settings (footer, tags, uploads) come from
syncd's config. A :class:`RenderContext` holds all of that, read once: the executor builds
one per pass from the posts it was given, and ``syncd render``/``plan`` should build one
with :meth:`RenderContext.for_config`. :meth:`RenderContext.for_post` derives one from a
single post (site root from its path, settings at their defaults) for callers that have
nothing else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import yaml

from syncd.config import DEFAULT_API_URL, DEFAULT_FOOTER, MediumConfig
from syncd.images import ImageCache, SiteFiles
from syncd.model import Post

if TYPE_CHECKING:
    from syncd.config import Config

log = logging.getLogger("syncd")

JEKYLL_CONFIG = "_config.yml"
GATSBY_CONFIGS = ("gatsby-config.js", "gatsby-config.ts", "gatsby-config.mjs")
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mkdown", ".mkdn", ".mkd", ".html")


@dataclass(frozen=True)
class RenderOptions:
    """The author's render settings, from ``[medium]`` in syncd's config."""

    footer: str = DEFAULT_FOOTER
    tags_from_categories: bool = False
    upload_images: bool = False
    api_url: str = DEFAULT_API_URL
    tables: str = "text"
    table_font: Path | None = None

    @classmethod
    def from_medium(cls, medium: MediumConfig) -> RenderOptions:
        return cls(footer=medium.footer, tags_from_categories=medium.tags_from_categories,
                   upload_images=medium.upload_images, api_url=medium.api_url,
                   tables=medium.tables, table_font=medium.table_font)


class SiteIndex:
    """Absolute URLs of the site's posts (``post_url``) and files (``link``).

    ``posts`` is called at most once, when a post first needs it; ``post_url``'s names are
    indexed once too, since a post may name many others.
    """

    def __init__(self, root: Path | None, site_url: str | None, permalink_style: str,
                 posts: Callable[[], Mapping[str, str | None]]) -> None:
        self.root = root.resolve() if root is not None else None
        self.site_url = site_url
        self.permalink_style = permalink_style
        self._load_posts = posts
        self._posts: Mapping[str, str | None] | None = None
        self._by_name: dict[str, str | None] | None = None

    @property
    def posts(self) -> Mapping[str, str | None]:
        if self._posts is None:
            self._posts = self._load_posts()
        return self._posts

    def post_url(self, name: str) -> str | None:
        """Jekyll's ``post_url``: a post by its file name without extension (or subfolder
        path under ``_posts``)."""
        if self._by_name is None:
            by_name: dict[str, str | None] = {}
            for source, url in self.posts.items():
                by_name.setdefault(Path(source).stem, url)
                by_name.setdefault(source.split("_posts/", 1)[-1].rsplit(".", 1)[0], url)
            self._by_name = by_name
        return self._by_name.get(name.strip().strip("\"'").strip("/"))

    def link(self, path: str) -> str | None:
        """Jekyll's ``link``: the URL of the post, page or file at ``path``."""
        wanted = path.strip().strip("\"'").strip("/")
        if wanted in self.posts:
            return self.posts[wanted]
        if self.root is None or self.site_url is None or not wanted:
            return None
        file = (self.root / wanted).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            return None
        return urljoin(self.site_url + "/", self._page_path(wanted, file).lstrip("/"))

    def _page_path(self, relative: str, file: Path) -> str:
        """A page's URL path under the site, as Jekyll builds it for pages and static files."""
        suffix = file.suffix.lower()
        if suffix not in MARKDOWN_SUFFIXES:
            return "/" + relative
        from syncd.sites.postfile import PostFileError, parse_post_file

        try:
            front, _ = parse_post_file(file)
        except PostFileError:
            front = {}
        permalink = front.get("permalink")
        if isinstance(permalink, str) and permalink and ":" not in permalink:
            return permalink
        stem = relative[: -len(file.suffix)]
        if stem.startswith("_"):
            stem = stem[1:]
        folder, _, name = stem.rpartition("/")
        if name == "index":
            return f"/{folder}/" if folder else "/"
        if self.permalink_style == "pretty":
            return f"/{stem}/"
        return f"/{stem}.html"


@dataclass
class RenderContext:
    """Everything about the site that rendering one of its posts needs."""

    site_root: Path | None = None
    site_url: str | None = None
    generator: str = "jekyll"
    site_data: Mapping[str, Any] = field(default_factory=dict)
    options: RenderOptions = field(default_factory=RenderOptions)
    links: SiteIndex | None = None
    image_cache: ImageCache | None = None
    _site_files: tuple[tuple[Any, ...], SiteFiles] | None = field(default=None, repr=False,
                                                                  compare=False)

    @property
    def base_path(self) -> str:
        return urlsplit(self.site_url).path.rstrip("/") if self.site_url else ""

    def site_files(self) -> SiteFiles:
        """The site folder as image files; made once per context (it resolves the root)."""
        key = (self.site_root, self.site_url, self.generator)
        if self._site_files is None or self._site_files[0] != key:
            if self.generator == "gatsby":
                files = SiteFiles(self.site_root, self.base_path, static_dirs=("static",))
            else:
                files = SiteFiles(self.site_root, self.base_path, published_url=self.site_url)
            self._site_files = (key, files)
        return self._site_files[1]

    @classmethod
    def build(
        cls,
        posts: Iterable[Post],
        *,
        site_root: Path | None = None,
        site_url: str | None = None,
        generator: str | None = None,
        medium: MediumConfig | None = None,
        ledger: Path | None = None,
        canonical_urls: Collection[str] | None = None,
    ) -> RenderContext:
        """The context for a pass over ``posts`` (every post of the site, for ``post_url``);
        ``canonical_urls``, their URLs, when the caller has them at hand."""
        post_list = list(posts)
        root = site_root or next((r for r in map(site_root_of, post_list) if r), None)
        data = read_jekyll_config(root) if root is not None else {}
        if site_url:
            url: str | None = site_url.rstrip("/")
        else:
            if canonical_urls is None:
                canonical_urls = [p.canonical_url for p in post_list if p.canonical_url]
            url = effective_site_url(data, canonical_urls)
        kind = generator or guess_generator(root)
        site_data = dict(data)
        if url:
            parts = urlsplit(url)
            site_data["url"] = f"{parts.scheme}://{parts.netloc}"
            site_data["baseurl"] = parts.path.rstrip("/")
        links = SiteIndex(root, url, str(data.get("permalink") or "date"),
                          lambda: {post.source: post.canonical_url for post in post_list})
        return cls(
            site_root=root,
            site_url=url,
            generator=kind,
            site_data=site_data,
            options=RenderOptions.from_medium(medium) if medium else RenderOptions(),
            links=links,
            image_cache=ImageCache.beside(ledger) if ledger is not None else None,
        )

    @classmethod
    def for_config(cls, config: Config, posts: Iterable[Post],
                   canonical_urls: Collection[str] | None = None) -> RenderContext:
        """The context ``syncd render`` and ``plan`` use: exactly what a pass would send."""
        return cls.build(posts, site_root=config.site.root, site_url=config.site.url,
                         generator=config.site.generator, medium=config.medium,
                         ledger=config.sync.ledger, canonical_urls=canonical_urls)

    @classmethod
    def for_post(cls, post: Post) -> RenderContext:
        """A context from one post alone; the rest of the site is read only if needed."""
        context = cls.build([post])
        root, url, kind = context.site_root, context.site_url, context.generator
        if root is not None and context.links is not None:
            context.links = SiteIndex(root, url, context.links.permalink_style,
                                      lambda: _site_post_urls(root, url, kind))
        return context


def site_root_of(post: Post) -> Path | None:
    """The site folder, from a post's file path and its source (its path inside the site)."""
    parts = Path(post.source).parts
    if not parts or len(post.path.parts) < len(parts) or post.path.parts[-len(parts):] != parts:
        return None
    root = post.path
    for _ in parts:
        root = root.parent
    return root if root.is_dir() else None


def read_jekyll_config(root: Path) -> dict[str, Any]:
    """``_config.yml`` as Liquid's ``site``; a missing or broken one is empty (the site
    reader reports it)."""
    path = root / JEKYLL_CONFIG
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return {str(k): v for k, v in data.items()} if isinstance(data, dict) else {}


def guess_generator(root: Path | None) -> str:
    if root is not None and any((root / name).is_file() for name in GATSBY_CONFIGS):
        return "gatsby"
    return "jekyll"


def effective_site_url(data: Mapping[str, Any], canonical_urls: Collection[str]) -> str | None:
    """The site's public address (url + baseurl), as the posts' canonical URLs prove it.

    ``_config.yml`` may say ``http://localhost:4000`` while syncd's config overrides it; the
    canonical URLs were built with the real one, so they decide.
    """
    url = str(data.get("url") or "").rstrip("/")
    baseurl = str(data.get("baseurl") or "").strip("/")
    configured = url + ("/" + baseurl if baseurl else "")
    if not canonical_urls:
        return configured or None
    # Every URL starts with a prefix when the least and the greatest do (sorted order).
    least, greatest = min(canonical_urls), max(canonical_urls)
    if configured and least.startswith(configured + "/") and \
            greatest.startswith(configured + "/"):
        return configured
    first = urlsplit(next(iter(canonical_urls)))
    origin = f"{first.scheme}://{first.netloc}"
    with_base = origin + ("/" + baseurl if baseurl else "")
    if least.startswith(with_base + "/") and greatest.startswith(with_base + "/"):
        return with_base
    return origin


# Every post's URL per (root, site URL, generator), and when it was read: render_post(post)
# without a context, called for many posts in a row, reads the site once, not once per post
# with a {% post_url %}; after SITE_URLS_TTL_S seconds it is read again, so a caller that
# lives long sees new posts.
SITE_URLS_TTL_S = 30.0
_site_urls: dict[tuple[Path, str | None, str], tuple[float, dict[str, str | None]]] = {}


def _site_post_urls(root: Path, site_url: str | None, generator: str) -> dict[str, str | None]:
    key = (root, site_url, generator)
    now = time.monotonic()
    cached = _site_urls.get(key)
    if cached is None or now - cached[0] > SITE_URLS_TTL_S:
        cached = (now, _read_post_urls(root, site_url, generator))
        _site_urls[key] = cached
    return cached[1]


def _read_post_urls(root: Path, site_url: str | None, generator: str) -> dict[str, str | None]:
    """Every post's canonical URL, by source, from the site reader."""
    from syncd.config import SiteConfig
    from syncd.errors import SyncdError
    from syncd.sites import read_site

    try:
        scan = read_site(SiteConfig(generator=generator, root=root, url=site_url))
    except SyncdError as exc:
        log.warning("cannot read %s for post links: %s", root, exc)
        return {}
    return {post.source: post.canonical_url for post in scan.posts}
