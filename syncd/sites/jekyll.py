"""The Jekyll site reader: every post file, with the URL Jekyll 4 publishes it at.

Jekyll is the truth here, not its documentation: the rules below follow Jekyll 4.3's own
code, named in each docstring (``Reader#read_directories``, ``EntryFilter``,
``Document#populate_title``, ``FrontmatterDefaults``, ``Drops::UrlDrop``,
``URL#generate_url_from_drop``, ``URL.escape_path``, ``Utils.slugify``, the ``absolute_url``
filter), with the Ruby, Psych and Addressable behaviour they lean on in
:mod:`syncd.sites.ruby`. ``tests/test_urls_differential.py`` builds generated sites with the
real ``jekyll`` and compares every URL; ``tests/test_jekyll_truth.py`` keeps recorded cases.

The reader is split as Jekyll is: :func:`discover` finds post files, :func:`read_post`
reads one into Jekyll's document data, and :class:`Permalinks` turns that into its URL.

Where Jekyll would publish something that cannot be a canonical URL, the post is reported
as an error instead: an impossible date Ruby rolls over (``2024-02-31``), a slug with no
letters or digits (``…/.html``), two posts at one URL, a date without a year (Jekyll would
fill it from the build day) or outside the years 1 to 9999.
"""

from __future__ import annotations

import datetime as dt
import functools
import glob
import os
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from syncd.errors import SyncdError
from syncd.memory import batch
from syncd.model import Post, PostError, SiteScan, source_digest, text_fingerprint
from syncd.sites import ruby, ruby_time
from syncd.sites.live import FullReadNeeded, scan_of
from syncd.sites.parsecache import (
    ParseCache,
    Reread,
    lean_front_matter,
    localtime_zone,
    reader_identity,
)
from syncd.sites.postfile import (
    BodyFromFile,
    PostFileError,
    read_post_text,
    yaml_kind,
    yaml_problem,
)

CONFIG_FILES = ("_config.yml", "_config.yaml", "_config.toml")
POSTS_DIR = "_posts"
DRAFTS_DIR = "_drafts"
DEFAULT_MARKDOWN_EXT = "markdown,mkdown,mkdn,mkd,md"
DEFAULT_EXCLUDES = (
    ".sass-cache", ".jekyll-cache", "gemfiles", "Gemfile", "Gemfile.lock", "node_modules",
    "vendor/bundle/", "vendor/cache/", "vendor/gems/", "vendor/ruby/",
)  # fmt: skip

# Document::DATE_FILENAME_MATCHER and DATELESS_FILENAME_MATCHER.
DATE_FILENAME = re.compile(r"^(?>.+/)*?(\d{2,4}-\d{1,2}-\d{1,2})-([^/]*)(\.[^.]+)$")
DATELESS_FILENAME = re.compile(r"^(?:.+/)*(.*)(\.[^.]+)$")
# Document::YAML_FRONT_MATTER_REGEXP (Ruby's \s is ASCII whitespace).
FRONT_MATTER = re.compile(
    r"\A(---[ \t\r\n\f\v]*\n.*?\n?)^((?:---|\.\.\.)[ \t\r\n\f\v]*$\n?)", re.DOTALL | re.MULTILINE
)

STYLE_TO_PERMALINK = {
    "none": "/:categories/:title:output_ext",
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
}
_SPECIAL_LEADING = (".", "_", "#", "~")
_YAML_EXTS = (".yaml", ".yml")


class SiteError(SyncdError):
    """The site as a whole cannot be read (its _config.yml is broken, it has no URL)."""


class PostReadError(Exception):
    """One post file cannot be used; the message is the reason shown to the user."""


@dataclass(frozen=True)
class JekyllConfig:
    """The parts of ``_config.yml`` that decide which posts exist and where they live."""

    source: str
    url: str
    baseurl: str
    permalink: str
    timezone: dt.tzinfo
    markdown_ext: frozenset[str]
    include: tuple[Any, ...] = (".htaccess",)
    exclude: tuple[Any, ...] = DEFAULT_EXCLUDES
    defaults: tuple[Mapping[str, Any], ...] = ()
    collections_dir: str = ""
    future: bool = False
    unpublished: bool = False
    safe: bool = False
    site_url: str | None = None

    @property
    def collections_path(self) -> str:
        """``Site#collections_path``: where ``_posts`` folders are read from."""
        if not self.collections_dir:
            return self.source
        return os.path.normpath(os.path.join(self.source, self.collections_dir))


def read_site(root: Path, site_url: str | None = None,
              config_files: tuple[str, ...] | None = None,
              cache: ParseCache | None = None) -> SiteScan:
    """Read every post file under ``root``; ``site_url`` overrides url + baseurl.

    ``config_files`` are Jekyll's ``--config`` files, relative to ``root`` (default: the
    first of ``_config.yml``, ``_config.yaml``, ``_config.toml``). With a ``cache``, files
    unchanged since it last saw them under the same configuration are not read again.
    """
    site = JekyllSite(root, site_url, config_files)
    return scan_of(site.scan(cache), site.clash_advice)


class JekyllSite:
    """A Jekyll site under one configuration: every post file (:meth:`scan`), then single
    changed files (:meth:`locate`), for the service's passes driven by the watcher
    (:mod:`syncd.sites.live`)."""

    clash_advice = ("Jekyll writes only one page there, so give one of them its own "
                    "`permalink` or slug")

    def __init__(self, root: Path, site_url: str | None = None,
                 config_files: tuple[str, ...] | None = None, lean: bool = False) -> None:
        self.config = load_jekyll_config(root, site_url, config_files)
        # Posts keep only the judged front matter keys (the service: it holds every post,
        # renders few; a command that renders many would read each file twice).
        self.lean = lean
        self.permalinks = Permalinks(self.config)
        self.defaults = FrontmatterDefaults(self.config)
        self.fingerprints = True
        source = self.config.source
        self.config_paths = frozenset(
            os.path.normpath(os.path.join(source, name))
            for name in (config_files or CONFIG_FILES))
        self.wildcard_defaults = bool(self.defaults.wildcard_matches())
        # The post folders the last scan read (``<folder>/_posts``, ``<folder>/_drafts``).
        self.post_folders: dict[str, PostFolder] = {}

    def read(self, found: FoundPost, full: bool = False) -> Post | PostError:
        """One post file; when this reading is ``lean`` and not asked for ``full``, its front
        matter is held lean (the judged keys; the rest read again when asked: ``read_path``)."""
        again = Reread(self, found.path) if self.lean and not full else None
        try:
            return read_post(found, self.config, self.permalinks, self.defaults,
                             fingerprint=self.fingerprints, front_matter_again=again)
        except PostReadError as exc:
            return PostError(source=found.source, path=found.path, reason=str(exc))

    def read_path(self, path: Path) -> Post | PostError:
        """The post file at ``path`` read again, in full, found by the walk's rules."""
        found = self._found(str(path))
        if found is None:
            source = os.path.relpath(path, self.config.source).replace(os.sep, "/")
            return PostError(source=source, path=path,
                             reason="it is no longer a post file Jekyll reads")
        return self.read(found, full=True)

    @batch
    def scan(self, cache: ParseCache | None = None) -> list[Post | PostError]:
        """Every post file's read result, in Jekyll's reading order."""
        self.fingerprints = cache is not None and not cache.read_only
        if cache is not None:
            # What `defaults:` scopes with wildcards match among the site's files is part of
            # what a post's data depends on besides the post file itself.
            reader = (self.config, self.defaults.wildcard_matches())
            cache.start(reader, reader_identity(reader, self.config.timezone))
        walker = _Walker(self.config)
        results: list[Post | PostError] = []
        for found in walker.read_directories(""):
            if cache is None:
                results.append(self.read(found))
            else:
                results.append(cache.read(found.path, functools.partial(self.read, found),
                                          Reread(self, found.path)))
        if cache is not None:
            cache.finish()
        self.post_folders = walker.post_folders
        return results

    def is_config(self, path: str) -> bool:
        return path in self.config_paths

    def locate(self, path: str, new: bool) -> Callable[[], Post | PostError] | None:
        """Whether Jekyll reads this existing file as a post, by the walk's own rules,
        asked of the one file: inside a post folder the last scan read, no dot file or dot
        folder on the way, no symlinked folder (the walk enters neither), through
        EntryFilter, with a dated name (any name in ``_drafts``)."""
        if new and self.wildcard_defaults:
            raise FullReadNeeded(f"{path} is new, and `defaults:` globs may match it")
        found = self._found(path)
        return None if found is None else functools.partial(self.read, found)

    def _found(self, path: str) -> FoundPost | None:
        source = self.config.source
        folder = os.path.dirname(path)
        while folder not in self.post_folders:
            if len(folder) <= len(source) or folder == os.path.dirname(folder):
                return None
            folder = os.path.dirname(folder)
        directory, kind, draft = self.post_folders[folder]
        entry = path[len(folder) + 1:]
        parts = entry.split("/")
        if any(part.startswith(".") for part in parts):
            return None
        inner = folder
        for part in parts[:-1]:
            inner = os.path.join(inner, part)
            if os.path.islink(inner):
                return None
        if not os.path.isfile(path):
            return None
        walker = _Walker(self.config)
        if not walker.filter([entry], folder[len(source):]):
            return None
        if not (DATELESS_FILENAME if draft else DATE_FILENAME).match(entry):
            return None
        return walker.found(directory, kind, entry, draft)


# _config.yml ------------------------------------------------------------------------------


def load_jekyll_config(root: Path, site_url: str | None,
                       config_files: tuple[str, ...] | None = None) -> JekyllConfig:
    """Jekyll.configuration: the config files over Jekyll's defaults, for the keys syncd uses."""
    data: dict[str, Any] = {}
    names = config_files or (next((n for n in CONFIG_FILES if (root / n).is_file()),
                                  CONFIG_FILES[0]),)
    for name in names:
        data = deep_merge(data, _read_config_file(root / name, required=bool(config_files)))
    shown = root / names[-1]
    for option in ("include", "exclude"):
        if option in data and not isinstance(data[option], list):
            raise SiteError(f"{shown}: `{option}` should be a list, not {data[option]!r}")
    exclude = data.get("exclude")
    exclude_list = list(exclude) if isinstance(exclude, list) else []
    exclude_list += [e for e in DEFAULT_EXCLUDES if e not in exclude_list]
    include = data["include"] if isinstance(data.get("include"), list) else [".htaccess"]
    url, baseurl = _site_address(data, site_url, shown)
    defaults = data.get("defaults")
    collections_dir = data.get("collections_dir") or ""
    return JekyllConfig(
        source=os.path.abspath(root),
        url=url,
        baseurl=baseurl,
        permalink=_posts_permalink(data),
        timezone=_site_timezone(data.get("timezone"), shown),
        markdown_ext=frozenset(
            "." + e.strip().lower()
            for e in ruby.to_s(data.get("markdown_ext") or DEFAULT_MARKDOWN_EXT).split(",")
            if e.strip()
        ),
        include=tuple(include),
        exclude=tuple(exclude_list),
        defaults=tuple(d for d in defaults if _valid_default(d))
        if isinstance(defaults, list) else (),
        collections_dir=str(collections_dir),
        future=ruby.truthy(data.get("future", False)),
        unpublished=ruby.truthy(data.get("unpublished", False)),
        safe=ruby.truthy(data.get("safe", False)),
        site_url=site_url,
    )


def _read_config_file(path: Path, required: bool) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise SiteError(f"{path}: the Jekyll configuration file is missing")
        return {}
    try:
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix.lower() == ".toml":
            loaded: Any = tomllib.loads(text)
        else:
            loaded = ruby.load_yaml(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise SiteError(f"{path}: cannot be read: {_one_line(exc)}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise SiteError(f"{path}: must be a YAML mapping of settings")
    return {str(k): v for k, v in loaded.items()}


def _site_address(data: Mapping[str, Any], site_url: str | None, shown: Path) -> tuple[str, str]:
    """``url`` and ``baseurl`` as the absolute_url filter reads them; syncd's ``[site] url``
    stands for both when given."""
    if site_url:
        return site_url, ""
    url = ruby.to_s(data.get("url")) if _is_text(data.get("url")) else ""
    if not url:
        raise SiteError(
            f"{shown}: has no `url`, so the posts' public addresses are unknown; "
            "set `url` there or `[site] url` in syncd's config"
        )
    parsed = ruby.URI.parse(url)
    if (parsed.scheme or "").lower() not in ("http", "https") or not parsed.authority:
        raise SiteError(f"{shown}: `url` must be an absolute http(s) address, not {url!r}")
    baseurl = data.get("baseurl")
    return url, "" if baseurl is None else _text_or_fail(baseurl, shown, "baseurl")


def _is_text(value: Any) -> bool:
    return value is not None and not isinstance(value, (list, dict))


def _text_or_fail(value: Any, shown: Path, key: str) -> str:
    try:
        return ruby.to_s(value)
    except ruby.RubyError:
        raise SiteError(f"{shown}: `{key}` must be text, not {value!r}") from None


def _posts_permalink(data: Mapping[str, Any]) -> str:
    """Configuration#add_default_collections: ``collections.posts.permalink`` as written,
    else the site's ``permalink`` style (a name Jekyll knows) or template."""
    collections = data.get("collections")
    if isinstance(collections, list):
        collections = {str(name): {} for name in collections}
    if isinstance(collections, dict):
        posts = collections.get("posts")
        if isinstance(posts, dict) and ruby.truthy(posts.get("permalink")):
            return ruby.to_s(posts["permalink"])
    style = data.get("permalink")
    if style is None:
        style = "date"
    text = ruby.to_s(style)
    return STYLE_TO_PERMALINK.get(text, text)


def _valid_default(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("values"), dict)


def _site_timezone(name: Any, config_path: Path) -> dt.tzinfo:
    """The zone Jekyll converts every date to: ``timezone`` in _config.yml, else the machine's."""
    if ruby.truthy(name):
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            raise SiteError(f"{config_path}: timezone: unknown time zone {name!r}") from None
    return local_timezone()


def local_timezone() -> dt.tzinfo:
    """The machine's zone as Ruby sees it: $TZ, else /etc/localtime, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return localtime_zone()


# Discovery ------------------------------------------------------------------------------


# A folder Jekyll reads posts from: (the folder above it, as the walk names it with a
# leading "/"; "_posts" or "_drafts"; whether its files are drafts).
PostFolder = tuple[str, str, bool]


@dataclass(frozen=True)
class FoundPost:
    """A file Jekyll reads as a post (or a draft)."""

    path: Path
    source: str  # relative to the site root: syncd's name for the post
    relative_path: str  # relative to the collections folder: Jekyll's document path
    draft: bool


def discover(config: JekyllConfig) -> Iterator[FoundPost]:
    """Reader#read_directories: every ``_posts`` (and ``_drafts``) folder Jekyll reads.

    Folders are walked from the root, skipping what EntryFilter skips (names starting with
    ``.``, ``_``, ``#`` or ``~``, backups ending in ``~``, ``exclude:``), so
    ``blog/_posts`` and ``a/b/_posts`` are read and ``_old/_posts`` is not.
    """
    walker = _Walker(config)
    yield from walker.read_directories("")


class _Walker:
    def __init__(self, config: JekyllConfig) -> None:
        self.config = config
        self.source = config.source
        self.seen: set[str] = set()
        self.exclude = [p for p in config.exclude if p not in config.include]
        self.with_source: dict[str, str] = {}  # pattern -> File.join(source, pattern)
        self.asked_disk = False
        self.filter_key = (self.source, repr(config.include), repr(self.exclude))
        self.post_folders: dict[str, PostFolder] = {}

    def read_directories(self, directory: str) -> Iterator[FoundPost]:
        base = _file_join(self.source, directory) if directory else self.source
        real = os.path.realpath(base)
        if not os.path.isdir(base) or real in self.seen:
            return
        self.seen.add(real)
        try:
            names = sorted(os.listdir(base))
        except OSError:
            return
        kept = self.filter(names, directory)
        folders = [name for name in kept if os.path.isdir(os.path.join(base, name))]
        yield from self.retrieve_posts(directory)
        for name in folders:
            yield from self.read_directories(_file_join(directory, name))

    def retrieve_posts(self, directory: str) -> Iterator[FoundPost]:
        collections_dir = self.config.collections_dir
        if collections_dir and not directory.startswith("/" + collections_dir):
            return
        for entry in self.entries(directory, POSTS_DIR):
            if DATE_FILENAME.match(entry):
                yield self.found(directory, POSTS_DIR, entry, draft=False)
        for entry in self.entries(directory, DRAFTS_DIR):
            if DATELESS_FILENAME.match(entry):
                yield self.found(directory, DRAFTS_DIR, entry, draft=True)

    def found(self, directory: str, folder: str, entry: str, draft: bool) -> FoundPost:
        absolute = _file_join(self.source, directory, folder, entry)
        collections = self.config.collections_path
        relative_path = absolute.replace(collections + "/", "", 1)
        source = absolute[len(self.source) + 1:]
        if not (absolute.startswith(self.source + "/") and _is_plain_relative(source)):
            source = os.path.relpath(absolute, self.source).replace(os.sep, "/")
        path = _PATHS.get(absolute)
        if path is None and not _REMEMBER_WALKS:
            path = Path(absolute)
        elif path is None:
            if len(_PATHS) > WALK_MEMO_SIZE:
                _PATHS.clear()
            path = _PATHS[absolute] = Path(absolute)
        return FoundPost(path, source, relative_path, draft)

    def entries(self, directory: str, folder: str) -> list[str]:
        """Reader#get_entries: ``Dir["**/*"]`` in the folder (no dot files, symlinked folders
        not entered), through EntryFilter, folders dropped."""
        base = _file_join(self.source, directory, folder)
        if not os.path.isdir(base):
            return []
        self.post_folders[base] = (directory, folder, folder == DRAFTS_DIR)
        found: list[str] = []
        _walk_files(base, "", found)
        base_directory = base[len(self.source):] if base.startswith(self.source) else base
        return self.filter(found, base_directory)

    def filter(self, entries: list[str], base_directory: str) -> list[str]:
        """EntryFilter#filter; an answer is remembered across passes when it depended on the
        names alone (not in safe mode, and no folder test on the disk was needed)."""
        if self.config.safe or not _REMEMBER_WALKS:
            return self.filter_now(entries, base_directory)
        memo = _FILTER_MEMO.setdefault(self.filter_key, {})
        if len(memo) > WALK_MEMO_SIZE:
            memo.clear()
        kept = []
        for entry in entries:
            answer = memo.get((base_directory, entry))
            if answer is None:
                self.asked_disk = False
                answer = bool(self.filter_now([entry], base_directory))
                if not self.asked_disk:
                    memo[(base_directory, entry)] = answer
            if answer:
                kept.append(entry)
        return kept

    def filter_now(self, entries: list[str], base_directory: str) -> list[str]:
        kept = []
        for entry in entries:
            if entry.endswith("."):
                continue
            included = self.glob_include(self.config.include, entry) or \
                self.glob_include(self.config.include, entry.rsplit("/", 1)[-1])
            if not included and self.excluded(entry, base_directory):
                continue
            if self.unsafe_symlink(entry, base_directory):
                continue
            if included:
                kept.append(entry)
                continue
            basename = entry.rsplit("/", 1)[-1]
            if entry.startswith(_SPECIAL_LEADING) or basename.startswith(_SPECIAL_LEADING):
                continue
            if entry.endswith("~"):
                continue
            kept.append(entry)
        return kept

    def excluded(self, entry: str, base_directory: str) -> bool:
        return self.glob_include(self.exclude, _file_join(base_directory, entry))

    def unsafe_symlink(self, entry: str, base_directory: str) -> bool:
        """In safe mode (GitHub Pages), symlinks leading out of the site are skipped."""
        if not self.config.safe:
            return False
        path = _file_join(self.source, base_directory, entry)
        return os.path.islink(path) and not os.path.realpath(path).startswith(self.source)

    def glob_include(self, patterns: tuple[Any, ...] | list[Any], entry: str) -> bool:
        """EntryFilter#glob_include?: fnmatch, or a plain prefix, against the source path
        (``asked_disk`` records when the folder test had to look at the disk)."""
        with_source = _file_join(self.source, entry)
        for pattern in patterns:
            if not isinstance(pattern, str):
                continue
            pattern_with_source = self.with_source.get(pattern)
            if pattern_with_source is None:
                pattern_with_source = self.with_source[pattern] = \
                    _file_join(self.source, pattern)
            if ruby.fnmatch(pattern_with_source, with_source) \
                    or with_source.startswith(pattern_with_source):
                return True
            if pattern_with_source == with_source + "/":
                self.asked_disk = True
                if os.path.isdir(with_source):
                    return True
        return False


def remember_walks() -> None:
    """For a long-lived process (the service): keep the walk's answers between passes.

    A service walks the same 10k paths on every save's pass; a one-off command would only
    pay for filling the memory, so it does not call this.
    """
    global _REMEMBER_WALKS
    _REMEMBER_WALKS = True


_REMEMBER_WALKS = False
# EntryFilter#filter's answers by config and (folder, entry), when no disk test was needed.
_FILTER_MEMO: dict[tuple[str, str, str], dict[tuple[str, str], bool]] = {}
# Path objects are immutable: one per post file, reused by every pass.
_PATHS: dict[str, Path] = {}
WALK_MEMO_SIZE = 200_000


def _walk_files(folder: str, prefix: str, found: list[str]) -> None:
    """``os.walk`` order (a folder's files sorted, then each sub-folder in turn), without
    dot files or dot folders, not entering symlinked folders; files only (a symlink to a
    file counts). One ``scandir`` per folder instead of a ``stat`` per file."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return
    folders = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir():
                if not entry.is_symlink():
                    folders.append(entry)
            elif entry.is_file():
                found.append(prefix + entry.name)
        except OSError:
            continue
    for entry in folders:
        _walk_files(entry.path, f"{prefix}{entry.name}/", found)


def _is_plain_relative(path: str) -> bool:
    """A relative path ``os.path.relpath`` would return as it is: no empty, ``.`` or ``..``
    part."""
    return bool(path) and not any(part in ("", ".", "..") for part in path.split("/"))


def _file_join(*parts: str) -> str:
    """Ruby's ``File.join``: one ``/`` between parts, whatever they start or end with."""
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.rstrip("/") + "/" + part.lstrip("/")
    return joined


# One post -------------------------------------------------------------------------------


def read_post(found: FoundPost, config: JekyllConfig, permalinks: Permalinks,
              defaults: FrontmatterDefaults, fingerprint: bool = True,
              front_matter_again: Callable[[], Post | PostError] | None = None) -> Post:
    """Document#read: defaults, then front matter, then title, slug, date and categories.

    With ``fingerprint``, the post's fingerprint is computed now, from the body read here
    (a parse cache keeps it); otherwise the engine computes it from the body if it asks.
    With ``front_matter_again`` (a full read of the same file) the post keeps only the
    front matter keys every post is judged by (``parsecache.lean_front_matter``).
    """
    try:
        text = read_post_text(found.path)
    except PostFileError as exc:
        raise PostReadError(str(exc)) from None
    front, body = split_front_matter(text)
    if found.path.suffix in _YAML_EXTS and not found.draft:
        raise PostReadError(
            "Jekyll reads a .yml file in _posts as data, dated at build time, so it has no "
            "stable URL; syncd does not cross-post it"
        )
    document = Document(found.relative_path, config, defaults)
    data = document.read(front)
    published = (ruby.truthy(data.get("published", True)) or config.unpublished) \
        and not found.draft
    warnings: list[str] = []
    title = document.given_title
    usable = isinstance(title, (str, int, float)) and not isinstance(title, bool)
    if not usable or not str(title).strip():
        # Jekyll's own fallback (Utils.titleize_slug), so Medium shows what the site shows.
        fallback = titleize_slug(data["slug"] if isinstance(data.get("slug"), str) else "")
        if published:
            problem = "no `title`" if title is None else "`title` is not text"
            warnings.append(f"{problem} in the front matter; using {fallback!r} from the file name")
        title = fallback
    canonical_url = None
    if published:
        canonical_url = permalinks.absolute_url(permalinks.url(found, data))
    front_matter = {str(key): value for key, value in front.items()}
    return Post(
        source=found.source,
        path=found.path,
        canonical_url=canonical_url,
        title=ruby.to_s(title).strip(),
        date=data["date"],
        body=BodyFromFile(found.path, body_after_front_matter),
        fingerprint=text_fingerprint(ruby.to_s(title), body) if fingerprint else None,
        source_hash=source_digest(ruby.to_s(title), front_matter, body),
        tags=_tags(data, config.timezone),
        published=published,
        draft=found.draft,
        front_matter=front_matter if front_matter_again is None
        else lean_front_matter(front_matter, front_matter_again),
        warnings=tuple(warnings),
        held_until_date=not config.future,
    )


def body_after_front_matter(text: str) -> str:
    """The body :func:`split_front_matter` gives, without reading the YAML again."""
    found = FRONT_MATTER.match(text)
    return text if found is None else text[found.end():]


def split_front_matter(text: str) -> tuple[dict[Any, Any], str]:
    """Document#read_content: YAML between ``---`` lines (or ``---`` and ``...``), Psych-typed."""
    found = FRONT_MATTER.match(text)
    if found is None:
        if re.match(r"\A---[ \t\r\n\f\v]*\n", text):
            raise PostReadError("front matter is not closed by a line of ---")
        return {}, text
    yaml_text = found.group(1).split("\n", 1)[1] if "\n" in found.group(1) else ""
    try:
        loaded = ruby.load_yaml(yaml_text)
    except yaml.YAMLError as exc:
        raise PostReadError(f"bad YAML front matter: {yaml_problem(exc)}") from None
    if not ruby.truthy(loaded):
        return {}, text[found.end():]
    if not isinstance(loaded, dict):
        raise PostReadError(
            f"front matter must be a YAML mapping (key: value lines), not a {yaml_kind(loaded)}"
        )
    return loaded, text[found.end():]


@dataclass
class Document:
    """A post's data as Jekyll builds it (``Document#data``), for one file."""

    relative_path: str
    config: JekyllConfig
    defaults: FrontmatterDefaults
    data: dict[Any, Any] = field(default_factory=dict)
    given_title: Any = None  # the title from the front matter or defaults, before any fallback

    def read(self, front: Mapping[Any, Any]) -> dict[Any, Any]:
        self.categories_from_path()
        defaults = self.defaults.all(self.relative_path)
        if defaults:
            self.merge_data(defaults, "front matter defaults")
        if front:
            self.merge_data(dict(front), "front matter")
        self.given_title = self.data.get("title")
        self.populate_title()
        self.populate_categories()
        return self.data

    def categories_from_path(self) -> None:
        """Folders above ``_posts`` are categories; folders inside it are not."""
        if self.relative_path.startswith(POSTS_DIR):
            superdirs: list[str] = []
        else:
            above = re.sub(f"{POSTS_DIR}.*", "", self.relative_path, count=1, flags=re.DOTALL)
            basename = self.relative_path.rsplit("/", 1)[-1]
            superdirs = [part for part in above.split("/")
                         if part and part not in (POSTS_DIR, basename)]
        self.merge_data({"categories": superdirs}, "file path")

    def merge_data(self, other: dict[Any, Any], origin: str) -> None:
        """Document#merge_data!: categories are joined, a date is parsed at once."""
        if "categories" in other and other["categories"] is not None:
            categories = other["categories"]
            if isinstance(categories, str):
                categories = ruby.split_words(categories)
            if isinstance(self.data.get("categories"), list):
                if not isinstance(categories, list):
                    raise PostReadError(
                        f"`categories` in the {origin} must be a list or words separated by "
                        f"spaces, not {categories!r}"
                    )
                categories = _ruby_union(self.data["categories"], categories)
            other = {**other, "categories": categories}
        # Jekyll parses the date again after every merge; parsing a parsed date changes
        # nothing, so syncd parses when a merge brings one (a nil one keeps the old date).
        brings_date = "date" in other and (other["date"] is not None or "date" not in self.data)
        self.data = deep_merge(self.data, other)
        if brings_date:
            self.data["date"] = parse_date(self.data["date"], self.config, origin)

    def populate_title(self) -> None:
        """Document#populate_title: date, slug and title from the file name."""
        found = DATE_FILENAME.match(self.relative_path)
        if found:
            date_text, slug = found.group(1), found.group(2)
            if not ruby.truthy(self.data.get("date")):
                self.merge_data({"date": date_text}, "file name")
        else:
            dateless = DATELESS_FILENAME.match(self.relative_path)
            slug = dateless.group(1) if dateless else ruby.basename_without_ext(
                self.relative_path)
            if not ruby.truthy(self.data.get("date")):
                self.data["date"] = dt.datetime.fromtimestamp(
                    os.stat(os.path.join(self.config.collections_path,
                                         self.relative_path)).st_mtime,
                    self.config.timezone)
        slug = re.sub(r"\.*\Z", "", slug)
        if not ruby.truthy(self.data.get("title")):
            self.data["title"] = titleize_slug(slug)
        if not ruby.truthy(self.data.get("slug")):
            self.data["slug"] = slug

    def populate_categories(self) -> None:
        """Document#populate_categories: ``categories`` and ``category``, as text, once each."""
        own = self.data.get("categories")
        own_list = own if isinstance(own, list) else ([] if own is None else [own])
        try:
            words = [ruby.to_s(c, self.config.timezone)
                     for c in own_list + pluralized(self.data, "category", "categories")]
        except ruby.RubyError:
            raise PostReadError("`categories` holds a list or a mapping; Jekyll would turn it "
                                "into text like [\"a\", \"b\"]; write a flat list") from None
        self.merge_data({"categories": list(dict.fromkeys(words))}, "front matter")


def parse_date(value: Any, config: JekyllConfig, origin: str) -> dt.datetime:
    """``Utils.parse_date(value.to_s)``: ``Time.parse(text).localtime`` in the site's zone.

    Where Ruby raises, Jekyll stops the build; syncd reports the post. Where Ruby reads a
    time syncd will not publish under (:class:`ruby_time.DateRefused`), the post is reported
    with the reason.
    """
    zone = config.timezone
    if isinstance(value, ruby.PsychTime):
        try:
            # Jekyll reads the Time's text again, which has whole seconds.
            return value.replace(microsecond=0).astimezone(zone)
        except OverflowError:
            raise PostReadError(f"the {origin} `date` {value.isoformat()} is outside the years "
                                "1 to 9999 that syncd can handle") from None
    if value is None:
        raise PostReadError(f"the {origin} has an empty `date`")
    if isinstance(value, (list, dict)):
        raise PostReadError(f"the {origin} `date` is not a date: {value!r}")
    text = ruby.to_s(value, zone)
    try:
        return ruby_time.time_parse(text, zone)
    except (ruby_time.TimeParseError, ruby_time.DateRefused) as exc:
        raise PostReadError(_date_problem(text, origin, exc)) from None


def _date_problem(text: str, origin: str, exc: ValueError) -> str:
    """Why a post's date is not used, for the user."""
    if origin == "file name":
        return f"the file name's date {text!r} is not a real date"
    if isinstance(exc, ruby_time.TimeParseError):
        return (f"front matter `date` is not a date: {text!r} (Ruby's Time.parse: {exc}; "
                "Jekyll stops the build on it)")
    assert isinstance(exc, ruby_time.DateRefused)
    if exc.kind == "rollover":
        # A calendar date that does not exist: Ruby would roll it into the next month.
        return f"bad YAML front matter: day is out of range in `date: {text}` ({exc})"
    if exc.kind == "now":
        parts = " and ".join(exc.missing) if len(exc.missing) <= 2 else \
            ", ".join(exc.missing[:-1]) + " and " + exc.missing[-1]
        return (f"front matter `date` {text!r} has no {exc.missing[0]}: Jekyll would take the "
                f"{parts} from the moment the site is built, so the post's date and URL would "
                "change from build to build; write the full date")
    return f"front matter `date` {text!r}: {exc}"


def deep_merge(target: Mapping[Any, Any], other: Mapping[Any, Any]) -> dict[Any, Any]:
    """Utils.deep_merge_hashes: ``other`` wins, except that its nils keep what was there."""
    merged = dict(target)
    for key, value in other.items():
        if key in merged:
            if value is None:
                continue
            if isinstance(merged[key], dict) and isinstance(value, dict):
                merged[key] = deep_merge(merged[key], value)
                continue
        merged[key] = value
    return merged


def _ruby_union(first: list[Any], second: list[Any]) -> list[Any]:
    """``Array#|``: both, in order, each value once (1 and 1.0 and true stay apart)."""
    seen: set[Any] = set()
    out = []
    for value in first + second:
        key = (type(value).__name__, repr(value))
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def pluralized(data: Mapping[Any, Any], singular: str, plural: str) -> list[Any]:
    """Utils.pluralized_array_from_hash: the singular key if set, else the plural one."""
    value = data.get(singular)
    if not ruby.truthy(value):
        value = None
        if plural in data:
            many = data[plural]
            if isinstance(many, str):
                value = ruby.split_words(many)
            elif isinstance(many, list):
                value = [v for v in many if v is not None]
    return [v for v in _flatten([value]) if v is not None]


def _flatten(values: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for value in values:
        if isinstance(value, list):
            flat.extend(_flatten(value))
        else:
            flat.append(value)
    return flat


def titleize_slug(slug: str) -> str:
    """Utils.titleize_slug: words split on ``-`` (Ruby drops trailing empty ones), capitalised."""
    words = slug.split("-")
    while words and words[-1] == "":
        words.pop()
    return " ".join(word[:1].title() + ruby.downcase(word[1:]) for word in words)


def _tags(data: Mapping[Any, Any], zone: dt.tzinfo) -> tuple[str, ...]:
    """Utils.pluralized_array_from_hash(data, "tag", "tags"), as text."""
    values = []
    for value in pluralized(data, "tag", "tags"):
        try:
            values.append(ruby.to_s(value, zone).strip())
        except ruby.RubyError:
            continue
    return tuple(dict.fromkeys(v for v in values if v))


class FrontmatterDefaults:
    """``defaults:`` in _config.yml: values for posts whose path and type match a scope."""

    def __init__(self, config: JekyllConfig) -> None:
        self.config = config
        self.globbed: dict[str, frozenset[str]] = {}  # Jekyll globs each scope once per build

    def all(self, relative_path: str) -> dict[Any, Any]:
        defaults: dict[Any, Any] = {}
        old_scope: Mapping[str, Any] | None = None
        for entry in self.config.defaults:
            scope = entry.get("scope")
            if scope is not None and not (isinstance(scope, dict)
                                          and self.applies(scope, relative_path)):
                continue
            scope = scope if isinstance(scope, dict) else {}
            if self.has_precedence(old_scope, scope):
                defaults = deep_merge(defaults, entry["values"])
                old_scope = scope
            else:
                defaults = deep_merge(entry["values"], defaults)
        return defaults

    def applies(self, scope: Mapping[str, Any], path: str) -> bool:
        if "type" in scope:
            kind = {"post": "posts", "page": "pages", "draft": "drafts"}.get(
                str(scope["type"]), str(scope["type"]))
            if kind != "posts":
                return False
        scope_path = scope.get("path")
        if not isinstance(scope_path, str) or not scope_path:
            return True
        sanitized = _sanitize_scope_path(path)
        if "*" in scope_path:
            matches = self.glob_scope(scope_path)
            # The scope applies when one of the globbed paths is a prefix of this one.
            return any(sanitized[:end] in matches for end in range(len(sanitized) + 1))
        return sanitized.startswith(self.strip_collections_dir(scope_path))

    def wildcard_matches(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Every scope path with a ``*`` and what it matches now, in a stable order."""
        paths = [entry["scope"]["path"] for entry in self.config.defaults
                 if isinstance(entry.get("scope"), dict)
                 and isinstance(entry["scope"].get("path"), str) and "*" in entry["scope"]["path"]]
        return tuple((path, tuple(sorted(self.glob_scope(path)))) for path in dict.fromkeys(paths))

    def glob_scope(self, scope_path: str) -> frozenset[str]:
        """The paths a globbed scope matches, relative to the site (globbed once)."""
        if scope_path not in self.globbed:
            found = _ruby_glob(os.path.join(self.config.source, scope_path))
            self.globbed[scope_path] = frozenset(
                self.strip_collections_dir(os.path.relpath(match, self.config.source))
                for match in found
            )
        return self.globbed[scope_path]

    def strip_collections_dir(self, path: str) -> str:
        folder = self.config.collections_dir
        if folder and path.startswith(folder + "/"):
            return path.replace(folder + "/", "", 1)
        return path

    @staticmethod
    def has_precedence(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
        if old is None:
            return True
        new_path = _sanitize_scope_path(new.get("path"))
        old_path = _sanitize_scope_path(old.get("path"))
        if len(new_path) != len(old_path):
            return len(new_path) >= len(old_path)
        if "type" in new:
            return True
        return "type" not in old


def _sanitize_scope_path(path: Any) -> str:
    if not isinstance(path, str) or not path:
        return ""
    return path[1:] if path.startswith("/") else path


def _ruby_glob(pattern: str) -> list[str]:
    """Dir.glob with ``{a,b}`` alternatives, as Ruby's glob has them."""
    found = re.search(r"\{([^{}]*)\}", pattern)
    if found:
        results = []
        for choice in found.group(1).split(","):
            results += _ruby_glob(pattern[: found.start()] + choice + pattern[found.end():])
        return results
    return glob.glob(pattern, recursive=True)


# URLs -----------------------------------------------------------------------------------

_SHORT_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                 "Dec")
_LONG_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")
_SHORT_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Permalinks:
    """Jekyll's URL for a post: template, placeholders, escaping and the absolute_url filter."""

    def __init__(self, config: JekyllConfig) -> None:
        self.config = config
        self.plain_prefix = _plain_prefix(config.url, config.baseurl)

    def url(self, found: FoundPost, data: Mapping[Any, Any]) -> str:
        """The site-relative URL (Jekyll's ``page.url``): URL#to_s."""
        own = data.get("permalink")
        if ruby.truthy(own):
            if not isinstance(own, str):
                raise PostReadError(f"`permalink` must be text, not {own!r}")
            template = own
        else:
            template = self.config.permalink
        values = self.placeholders(found, data, own if isinstance(own, str) else None)
        url = sanitize_url(generate_url(template, values))
        used = _template_names(template)
        for name in ("title", "slug"):
            if (name in used or f"{name}_" in used) and values[name] == "":
                raise PostReadError(
                    f"its slug {data.get('slug')!r} has no letters or digits, so Jekyll's "
                    f":{name} is empty and the post would be published at {url}; give it a "
                    "`slug:` in its front matter or rename the file"
                )
        if url == "/":
            raise PostReadError("its permalink makes it the site's home page (/)")
        return url

    def placeholders(self, found: FoundPost, data: Mapping[Any, Any],
                     permalink: str | None) -> UrlDrop:
        """Drops::UrlDrop for a post."""
        slug = data.get("slug")
        if not isinstance(slug, str):
            raise PostReadError(f"`slug` must be text, not {slug!r}")
        categories = data.get("categories") or []
        try:
            category_words = [ruby.to_s(c, self.config.timezone) for c in categories]
        except ruby.RubyError:
            raise PostReadError("`categories` holds a list or a mapping") from None
        return UrlDrop(self, found, data["date"], slug, category_words, permalink)

    def output_ext(self, name: str, permalink: str | None) -> str:
        """Renderer#output_ext: the permalink's own extension, else the converter's."""
        if permalink and not permalink.endswith("/"):
            own = ruby.extname(permalink)
            if own:
                return own
        ext = ruby.extname(name)
        if ext.lower() in self.config.markdown_ext:
            return ".html"
        if ext.lower() in (".sass", ".scss"):
            return ".css"
        return ext

    @staticmethod
    def cleaned_relative_path(relative_path: str) -> str:
        """Document#cleaned_relative_path (the ``:path`` placeholder)."""
        ext = ruby.extname(relative_path)
        without_ext = relative_path[: -len(ext)] if ext else relative_path
        return re.sub(r"\.*\Z", "", without_ext.replace(POSTS_DIR, "", 1))

    def absolute_url(self, url: str) -> str:
        """``{{ page.url | absolute_url }}``.

        Addressable leaves a plain site address and a plain path as they are, so when both
        are plain the result is their concatenation, without normalising the whole URL.
        """
        if self.plain_prefix is not None and url.startswith("/") and "//" not in url \
                and _is_plain_path(url):
            return self.plain_prefix + url
        try:
            return absolute_url(self.config.url, self.config.baseurl, url)
        except ruby.RubyError as exc:
            raise PostReadError(f"Jekyll cannot build this post's URL ({url}): {exc}") from None


class UrlDrop(Mapping[str, str]):
    """Drops::UrlDrop: each value is computed when the permalink template asks for it
    (Jekyll's drop is lazy too); most templates use five of the twenty-five."""

    def __init__(self, permalinks: Permalinks, found: FoundPost, date: dt.datetime, slug: str,
                 category_words: list[str], permalink: str | None) -> None:
        self.permalinks = permalinks
        self.found = found
        self.date = date
        self.slug = slug
        self.category_words = category_words
        self.permalink = permalink
        self.computed: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        value = self.computed.get(name)
        if value is None:
            value = self.computed[name] = _URL_DROP[name](self)
        return value

    def __contains__(self, name: object) -> bool:
        return name in _URL_DROP

    def __iter__(self) -> Iterator[str]:
        return iter(_URL_DROP)

    def __len__(self) -> int:
        return len(_URL_DROP)


def _stem(drop: UrlDrop) -> str:
    return ruby.basename_without_ext(drop.found.relative_path.rsplit("/", 1)[-1])


_URL_DROP: dict[str, Callable[[UrlDrop], str]] = {
    "collection": lambda d: "posts",
    "path": lambda d: Permalinks.cleaned_relative_path(d.found.relative_path),
    "name": lambda d: slugify(_stem(d)),
    "title": lambda d: slugify(d.slug, mode="pretty", cased=True),
    "slug": lambda d: slugify(d.slug),
    "categories": lambda d: "/".join(dict.fromkeys(ruby.downcase(c) for c in d.category_words)),
    "slugified_categories": lambda d: "/".join(dict.fromkeys(slugify(c)
                                                             for c in d.category_words)),
    "year": lambda d: f"{d.date.year:04d}",
    "month": lambda d: f"{d.date.month:02d}",
    "day": lambda d: f"{d.date.day:02d}",
    "hour": lambda d: f"{d.date.hour:02d}",
    "minute": lambda d: f"{d.date.minute:02d}",
    "second": lambda d: f"{d.date.second:02d}",
    "i_day": lambda d: str(d.date.day),
    "i_month": lambda d: str(d.date.month),
    "short_month": lambda d: _SHORT_MONTHS[d.date.month - 1],
    "long_month": lambda d: _LONG_MONTHS[d.date.month - 1],
    "short_year": lambda d: f"{d.date.year % 100:02d}",
    "w_year": lambda d: f"{d.date.isocalendar()[0]:04d}",
    "week": lambda d: f"{d.date.isocalendar()[1]:02d}",
    "w_day": lambda d: str(d.date.isocalendar()[2]),
    "short_day": lambda d: _SHORT_DAYS[d.date.weekday()],
    "long_day": lambda d: _LONG_DAYS[d.date.weekday()],
    "y_day": lambda d: f"{d.date.timetuple().tm_yday:03d}",
    "output_ext": lambda d: d.permalinks.output_ext(d.found.path.name, d.permalink),
}


def absolute_url(site_url: str, baseurl: str, url: str) -> str:
    """Filters::URLFilters#absolute_url: url + the relative_url of baseurl + input."""
    def leading_slash(text: str) -> str:
        return text if not text or text.startswith("/") else "/" + text

    ruby.uri_parse(url)  # both filters first ask whether the input is already absolute
    base = baseurl[:-1] if baseurl.endswith("/") else baseurl
    relative = ruby.uri_normalize(leading_slash(base) + leading_slash(url))
    return ruby.uri_normalize(site_url + relative)


_PLACEHOLDER = re.compile(r":([a-z_]+)")
_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9._~-]*)*")
_PLAIN_SITE = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*")


def _is_plain_path(path: str) -> bool:
    """Unreserved characters and slashes only, with no ``.`` or ``..`` segment: a path that
    Addressable's normalisation returns unchanged, even appended to a plain prefix."""
    if _PLAIN_PATH.fullmatch(path) is None:
        return False
    return "/." not in path or not any(part in (".", "..") for part in path.split("/"))


def _plain_prefix(site_url: str, baseurl: str) -> str | None:
    """``url`` + ``baseurl`` when :func:`absolute_url` would keep both exactly as written
    (lowercase http(s) scheme and host, no port, no query; plain paths), else None."""
    base = baseurl[:-1] if baseurl.endswith("/") else baseurl
    if base and not base.startswith("/"):
        base = "/" + base
    found = _PLAIN_SITE.match(site_url)
    if found is None:
        return None
    site_path = site_url[found.end():]
    if not site_path.startswith("/") and site_path:
        return None
    path = site_path + base
    if not _is_plain_path(path) or "//" in path or path.endswith("/"):
        return None
    return site_url + base


@functools.lru_cache(maxsize=64)
def _template_names(template: str) -> frozenset[str]:
    return frozenset(_PLACEHOLDER.findall(template))


def generate_url(template: str, values: Mapping[str, str]) -> str:
    """URL#generate_url_from_drop: a placeholder may shed one trailing underscore."""

    def replace(found: re.Match[str]) -> str:
        name = found.group(1)
        # Ruby's `[name, name.chomp!("_")]` chomps the one string both entries share.
        winner = name[:-1] if name.endswith("_") else name
        if winner not in values:
            raise PostReadError(
                f"the permalink template {template!r} has an unknown placeholder :{name}"
            )
        try:
            replacement = escape_path(values[winner])
        except ruby.RubyError as exc:
            raise PostReadError(f"Jekyll cannot escape :{winner} ({values[winner]!r}): {exc}") \
                from None
        return found.group(0).replace(":" + winner, replacement, 1)

    return _PLACEHOLDER.sub(replace, template)


def sanitize_url(url: str) -> str:
    """URL#sanitize_url: a leading slash, ``..`` made ``/``, ``./`` dropped, no ``//``."""
    result = ("/" + url).replace("..", "/").replace("./", "")
    return re.sub(r"/{2,}", "/", result)


def escape_path(value: str) -> str:
    """URL.escape_path: plain paths as they are, anything else through Addressable."""
    if not value or re.search(r"^[a-zA-Z0-9./-]+$", value, re.MULTILINE):
        return value
    return ruby.uri_encode(value).replace("#", "%23", 1)


_PRETTY_KEEP = frozenset("._~!$&'()+,;=@")
_DEFAULT_ASCII_RUNS = re.compile(r"[^A-Za-z0-9]+")
_PRETTY_ASCII_RUNS = re.compile(r"[^A-Za-z0-9._~!$&'()+,;=@]+")


def slugify(text: str, mode: str = "default", cased: bool = False) -> str:
    """Utils.slugify for the ``default`` and ``pretty`` modes: runs of other characters
    become one ``-``, a ``-`` at either end is dropped, and unless ``cased`` it is lowercased.
    Letters and marks of every script are kept (``\\p{L}\\p{M}\\p{Nd}``)."""
    if text.isascii():
        # Of ASCII, only letters and digits are in those classes: one regex does it.
        pattern = _PRETTY_ASCII_RUNS if mode == "pretty" else _DEFAULT_ASCII_RUNS
        slug = pattern.sub("-", text).removeprefix("-").removesuffix("-")
        return slug if cased else slug.lower()
    out: list[str] = []
    in_run = False
    for ch in text:
        category = unicodedata.category(ch)
        keep = category[0] in ("L", "M") or category == "Nd"
        if mode == "pretty" and ch in _PRETTY_KEEP:
            keep = True
        if keep:
            out.append(ch)
            in_run = False
        elif not in_run:
            out.append("-")
            in_run = True
    slug = "".join(out).removeprefix("-").removesuffix("-")
    return slug if cased else ruby.downcase(slug)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
