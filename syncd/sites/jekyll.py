"""The Jekyll site reader: every post file, with the URL Jekyll 4 publishes it at.

Jekyll is the truth here, not its documentation: the rules below follow Jekyll's own code
(``Document#populate_title``, ``Drops::UrlDrop``, ``URL#generate_url_from_drop``,
``URL.escape_path``, ``Utils.slugify``, the ``absolute_url`` filter), and the tests compare
them with URLs recorded from a real ``jekyll build`` (``tests/data/jekyll``).

The reader is split so that later rules slot in: :func:`discover` finds post files,
:func:`read_post` parses one, and :class:`Permalinks` turns a post into its URL.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from syncd.errors import SyncdError
from syncd.model import Post, PostError, SiteScan
from syncd.sites.postfile import PostFileError, parse_post_file

CONFIG_FILE = "_config.yml"
POSTS_DIR = "_posts"
DRAFTS_DIR = "_drafts"
DEFAULT_MARKDOWN_EXT = "markdown,mkdown,mkdn,mkd,md"

# Document::DATE_FILENAME_MATCHER, applied to a file name.
DATE_FILENAME = re.compile(r"^(\d{2,4}-\d{1,2}-\d{1,2})-(.*)(\.[^.]+)$")

STYLE_TO_PERMALINK = {
    "none": "/:categories/:title:output_ext",
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
}

# Characters Addressable leaves unescaped in a path (RFC 3986 pchar plus "/").
_PATH_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/"
)
_PLAIN_PATH = re.compile(r"^[a-zA-Z0-9./-]+$")
_PRETTY_KEEP = frozenset("._~!$&'()+,;=@")


class SiteError(SyncdError):
    """The site as a whole cannot be read (its _config.yml is broken, it has no URL)."""


@dataclass(frozen=True)
class JekyllConfig:
    """The parts of ``_config.yml`` that decide which posts exist and where they live."""

    url: str
    baseurl: str
    permalink: str
    timezone: dt.tzinfo
    markdown_ext: frozenset[str]

    @property
    def site_url(self) -> str:
        return self.url + self.baseurl.rstrip("/")


def read_site(root: Path, site_url: str | None = None) -> SiteScan:
    """Read every post file under ``root``; ``site_url`` overrides url + baseurl."""
    config = load_jekyll_config(root, site_url)
    permalinks = Permalinks(config)
    posts: list[Post] = []
    errors: list[PostError] = []
    for path, draft in discover(root, config):
        source = path.relative_to(root).as_posix()
        try:
            post = read_post(root, path, source, draft, config, permalinks)
        except PostReadError as exc:
            errors.append(PostError(source=source, path=path, reason=str(exc)))
        else:
            posts.append(post)
    return SiteScan(posts=tuple(posts), errors=tuple(errors))


def load_jekyll_config(root: Path, site_url: str | None) -> JekyllConfig:
    """Read ``_config.yml`` with Jekyll's defaults for every key syncd uses."""
    config_path = root / CONFIG_FILE
    data: dict[str, Any] = {}
    if config_path.is_file():
        try:
            loaded = yaml.safe_load(config_path.read_text(encoding="utf-8-sig"))
        except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
            raise SiteError(f"{config_path}: cannot be read: {_one_line(exc)}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise SiteError(f"{config_path}: must be a YAML mapping of settings")
        data = loaded or {}
    if site_url:
        url, baseurl = site_url.rstrip("/"), ""
    else:
        url = str(data.get("url") or "").rstrip("/")
        baseurl = str(data.get("baseurl") or "")
        if not url:
            raise SiteError(
                f"{config_path}: has no `url`, so the posts' public addresses are unknown; "
                "set `url` there or `[site] url` in syncd's config"
            )
    if baseurl and not baseurl.startswith("/"):
        baseurl = "/" + baseurl
    permalink = _posts_permalink(data)
    extensions = str(data.get("markdown_ext") or DEFAULT_MARKDOWN_EXT)
    return JekyllConfig(
        url=url,
        baseurl=baseurl,
        permalink=permalink,
        timezone=_site_timezone(data.get("timezone"), config_path),
        markdown_ext=frozenset("." + e.strip().lower() for e in extensions.split(",") if e),
    )


def _posts_permalink(data: Mapping[str, Any]) -> str:
    """``collections.posts.permalink``, else the site's ``permalink`` style or template."""
    collections = data.get("collections")
    if isinstance(collections, dict):
        posts = collections.get("posts")
        if isinstance(posts, dict) and posts.get("permalink"):
            return str(posts["permalink"])
    style = data.get("permalink", "date")
    if style is None:
        style = "date"
    return STYLE_TO_PERMALINK.get(str(style), str(style))


def _site_timezone(name: Any, config_path: Path) -> dt.tzinfo:
    """The zone Jekyll converts every date to: ``timezone`` in _config.yml, else the machine's."""
    if name:
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            raise SiteError(f"{config_path}: timezone: unknown time zone {name!r}") from None
    return local_timezone()


def local_timezone() -> dt.tzinfo:
    """The machine's zone as Ruby sees it: $TZ, else /etc/localtime, else UTC."""
    import os

    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as handle:
            return ZoneInfo.from_file(handle, key="localtime")
    except (OSError, ValueError):
        return dt.UTC


def discover(root: Path, config: JekyllConfig) -> Iterator[tuple[Path, bool]]:
    """Post files in a stable order: ``_posts/`` (dated names) then ``_drafts/``."""
    posts_dir = root / POSTS_DIR
    for path in _walk(posts_dir):
        if DATE_FILENAME.match(path.name) and _is_post_extension(path, config):
            yield path, False
    for path in _walk(root / DRAFTS_DIR):
        if _is_post_extension(path, config):
            yield path, True


def _walk(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).parts
        if any(_is_ignored_name(part) for part in relative):
            continue
        if path.is_file():
            yield path


def _is_ignored_name(name: str) -> bool:
    """Jekyll's EntryFilter: hidden, special and backup names are not content."""
    return name.startswith((".", "_", "#")) or name.endswith("~")


def _is_post_extension(path: Path, config: JekyllConfig) -> bool:
    suffix = path.suffix.lower()
    return suffix in config.markdown_ext or suffix == ".html"


class PostReadError(Exception):
    """One post file cannot be used; the message is the reason shown to the user."""


def read_post(
    root: Path,
    path: Path,
    source: str,
    draft: bool,
    config: JekyllConfig,
    permalinks: Permalinks,
) -> Post:
    try:
        front, body = parse_post_file(path)
    except PostFileError as exc:
        raise PostReadError(str(exc)) from None
    published = _published(front) and not draft
    match = DATE_FILENAME.match(path.name)
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    slug = match.group(2) if match else stem
    slug = slug.rstrip(".")
    date = _post_date(front, match, path, config)
    warnings: list[str] = []
    title = front.get("title")
    usable = isinstance(title, (str, int, float)) and not isinstance(title, bool)
    if not usable or not str(title).strip():
        # Jekyll's own fallback (Utils.titleize_slug), so Medium shows what the site shows.
        fallback = _titleize_slug(slug)
        if published:
            problem = "no `title`" if title is None else "`title` is not text"
            warnings.append(f"{problem} in the front matter; using {fallback!r} from the file name")
        title = fallback
    canonical_url = None
    if published:
        canonical_url = permalinks.absolute_url(
            permalinks.url(source=source, path=path, front=front, slug=slug, date=date)
        )
    return Post(
        source=source,
        path=path,
        canonical_url=canonical_url,
        title=str(title).strip(),
        date=date,
        body=body,
        tags=_tags(front),
        published=published,
        draft=draft,
        front_matter=front,
        warnings=tuple(warnings),
    )


def _published(front: Mapping[str, Any]) -> bool:
    """Jekyll publishes unless ``published`` is false, or present and empty (Ruby's nil)."""
    if "published" not in front:
        return True
    return front["published"] is not False and front["published"] is not None


def _titleize_slug(slug: str) -> str:
    return " ".join(word.capitalize() for word in slug.split("-"))


def _tags(front: Mapping[str, Any]) -> tuple[str, ...]:
    """Utils.pluralized_array_from_hash(data, "tag", "tags")."""
    values = _pluralized(front, "tag", "tags")
    return tuple(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))


def _pluralized(front: Mapping[str, Any], singular: str, plural: str) -> list[Any]:
    if front.get(singular) is not None:
        value = front[singular]
        return _flatten(value if isinstance(value, list) else [value])
    value = front.get(plural)
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return _flatten([v for v in value if v is not None])
    return []


def _flatten(values: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for value in values:
        if isinstance(value, list):
            flat.extend(_flatten(value))
        elif value is not None:
            flat.append(value)
    return flat


def _categories(front: Mapping[str, Any]) -> list[str]:
    """Document#populate_categories for a post in the root ``_posts`` folder."""
    own = front.get("categories")
    if isinstance(own, str):
        own_list: list[Any] = own.split()
    elif isinstance(own, list):
        own_list = _flatten(own)
    elif own is None:
        own_list = []
    else:
        own_list = [own]
    merged = [str(c) for c in own_list + _pluralized(front, "category", "categories")]
    return list(dict.fromkeys(merged))


# Dates --------------------------------------------------------------------------------------

_DATE_TEXT = re.compile(
    r"^\s*(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[Tt ]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d+))?)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[-+]\d{1,2}(?::?\d{2})?)?\s*$"
)


def _post_date(
    front: Mapping[str, Any], match: re.Match[str] | None, path: Path, config: JekyllConfig
) -> dt.datetime:
    """The post's time in the site's zone, as Jekyll's ``Utils.parse_date`` makes it."""
    tz = config.timezone
    value = front.get("date")
    if value is not None:
        parsed = _parse_date_value(value, tz)
        if parsed is None:
            raise PostReadError(f"front matter `date` is not a date: {value!r}")
        return parsed
    if match:
        parsed = _parse_date_text(match.group(1), tz)
        if parsed is None:
            raise PostReadError(f"the file name's date {match.group(1)!r} is not a real date")
        return parsed
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz)


def _parse_date_value(value: Any, tz: dt.tzinfo) -> dt.datetime | None:
    # YAML's own timestamps are UTC when they carry no zone (Ruby's YAML does the same).
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(tz)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=tz)
    if isinstance(value, str):
        return _parse_date_text(value, tz)
    return None


def _parse_date_text(text: str, tz: dt.tzinfo) -> dt.datetime | None:
    """Ruby's Time.parse for the forms posts use; a time without a zone is the site's zone."""
    found = _DATE_TEXT.match(text)
    if not found:
        return None
    parts = found.groupdict()
    fraction = (parts["f"] or "0")[:6].ljust(6, "0")
    try:
        naive = dt.datetime(
            int(parts["y"]), int(parts["m"]), int(parts["d"]),
            int(parts["H"] or 0), int(parts["M"] or 0), int(parts["S"] or 0), int(fraction),
        )
    except ValueError:
        return None
    zone = parts["tz"]
    if zone is None:
        # Through UTC, so a wall time skipped by a DST change moves forward as Ruby's does.
        return naive.replace(tzinfo=tz).astimezone(dt.UTC).astimezone(tz)
    return naive.replace(tzinfo=_fixed_zone(zone)).astimezone(tz)


def _fixed_zone(text: str) -> dt.tzinfo:
    if text in ("Z", "UTC", "GMT"):
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
    return dt.timezone(sign * dt.timedelta(hours=int(hours), minutes=int(minutes)))


# URLs ---------------------------------------------------------------------------------------


class Permalinks:
    """Jekyll's URL for a post: template, placeholders, escaping and the absolute_url filter."""

    def __init__(self, config: JekyllConfig) -> None:
        self.config = config

    def url(
        self, *, source: str, path: Path, front: Mapping[str, Any], slug: str, date: dt.datetime
    ) -> str:
        """The site-relative URL (Jekyll's ``page.url``)."""
        own = front.get("permalink")
        template = str(own) if own else self.config.permalink
        values = placeholders(source=source, path=path, front=front, slug=slug, date=date)
        return sanitize_url(generate_url(template, values))

    def absolute_url(self, url: str) -> str:
        """``{{ page.url | absolute_url }}``."""
        return normalize_url(self.config.url + self.config.baseurl.rstrip("/") + url)


def placeholders(
    *, source: str, path: Path, front: Mapping[str, Any], slug: str, date: dt.datetime
) -> dict[str, str]:
    """Drops::UrlDrop for a post."""
    front_slug = front.get("slug")
    slug_data = str(front_slug) if front_slug is not None else slug
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    categories = _categories(front)
    relative_in_posts = source.split(POSTS_DIR, 1)[-1] if POSTS_DIR in source else "/" + stem
    cleaned_path = relative_in_posts[: -len(path.suffix)] if path.suffix else relative_in_posts
    return {
        "collection": "posts",
        "path": cleaned_path.rstrip("."),
        "name": slugify(stem),
        "title": slugify(slug_data, mode="pretty", cased=True),
        "slug": slugify(slug_data),
        "categories": "/".join(dict.fromkeys(c.lower() for c in categories)),
        "slugified_categories": "/".join(dict.fromkeys(slugify(c) for c in categories)),
        "year": f"{date.year:04d}",
        "month": f"{date.month:02d}",
        "day": f"{date.day:02d}",
        "hour": f"{date.hour:02d}",
        "minute": f"{date.minute:02d}",
        "second": f"{date.second:02d}",
        "i_day": str(date.day),
        "i_month": str(date.month),
        "short_month": date.strftime("%b").upper(),
        "long_month": date.strftime("%B"),
        "short_year": date.strftime("%y"),
        "w_year": f"{date.isocalendar()[0]:04d}",
        "week": f"{date.isocalendar()[1]:02d}",
        "w_day": str(date.isoweekday()),
        "short_day": date.strftime("%a").upper(),
        "long_day": date.strftime("%A"),
        "y_day": date.strftime("%j"),
        "output_ext": ".html",
    }


_PLACEHOLDER = re.compile(r":([a-z_]+)")


def generate_url(template: str, values: Mapping[str, str]) -> str:
    """URL#generate_url_from_drop: a placeholder may shed one trailing underscore."""

    def replace(found: re.Match[str]) -> str:
        name = found.group(1)
        pool = [name, name[:-1]] if name.endswith("_") else [name]
        winner = next((key for key in pool if key in values), None)
        if winner is None:
            raise PostReadError(
                f"the permalink template {template!r} has an unknown placeholder :{name}"
            )
        return found.group(0).replace(":" + winner, escape_path(values[winner]), 1)

    return _PLACEHOLDER.sub(replace, template)


def sanitize_url(url: str) -> str:
    """URL#sanitize_url: a leading slash, no ``..`` or ``./``, no repeated slashes."""
    result = ("/" + url).replace("..", "/").replace("./", "")
    return re.sub(r"/{2,}", "/", result)


def escape_path(value: str) -> str:
    """URL.escape_path: percent-encode (UTF-8, upper-case hex) all but RFC 3986 path chars."""
    if not value or _PLAIN_PATH.match(value):
        return value
    return "".join(
        ch if ch in _PATH_SAFE else "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
        for ch in value
    )


def normalize_url(url: str) -> str:
    """Addressable's normalize for the URLs Jekyll builds: case of scheme and host, port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    netloc = host
    if parts.port and not (
        (parts.scheme == "http" and parts.port == 80)
        or (parts.scheme == "https" and parts.port == 443)
    ):
        netloc = f"{host}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def slugify(text: str, mode: str = "default", cased: bool = False) -> str:
    """Utils.slugify for the ``default`` and ``pretty`` modes."""
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
    slug = "".join(out)
    slug = slug.removeprefix("-")
    slug = slug.removesuffix("-")
    return slug if cased else slug.lower()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
