"""The Gatsby site reader: every markdown post, with the URL Gatsby 5 publishes its page at.

For sites built like gatsby-starter-blog: ``gatsby-source-filesystem`` sources a content
folder (``content/blog``), every ``.md``/``.markdown``/``.mkd`` (gatsby-transformer-remark) and
``.mdx`` (gatsby-plugin-mdx) file in it is a post, ``gatsby-node.js`` gives each one the
slug ``createFilePath`` makes, and that slug is the page path. Gatsby itself is the truth:
``tests/test_urls_differential.py`` runs the real gatsby-source-filesystem, the site's own
``gatsby-config.js`` and ``gatsby-node.js``, and gatsby-page-utils on generated sites.

- The content folders, ``siteMetadata.siteUrl`` and ``trailingSlash`` are read from
  ``gatsby-config.js`` as text (never executed); ``createFilePath``'s ``basePath`` and
  ``trailingSlash`` arguments from ``gatsby-node.js``. ``[site] content`` and ``[site] url``
  override them.
- A slug is ``createFilePath``'s, exactly: no slugifying, ``index`` dropped, one extension
  removed, Node's path rules (so ``content/blog/src/x.md`` becomes ``/x/``).
- Sites whose ``gatsby-node.js`` takes the page path from front matter say so with
  ``[site] url_template``: templates tried in order, the first whose fields the post has
  wins (``["{path}", "/blog/{slug}/", "{file}"]``, where ``{file}`` is createFilePath's slug).
- The page path goes through Gatsby's ``trailingSlash`` option (default ``always``); the
  canonical URL is ``siteUrl`` plus the path as a browser sends it (WHATWG percent-encoding,
  and ``%``, ``\\``, tab and newlines escaped so the URL names the page's own file).
- Gatsby publishes every file: ``draft: true`` and ``published: false`` are honoured only as
  opt-outs from cross-posting. The front matter ``date`` (which Gatsby never uses for URLs)
  orders posts, feeds ``[sync] since``, and a post dated in the future waits for its date.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import posixpath
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from syncd.errors import SyncdError
from syncd.memory import batch
from syncd.model import Post, PostError, SiteScan, source_digest, text_fingerprint
from syncd.sites.live import FullReadNeeded, scan_of
from syncd.sites.parsecache import ParseCache, Reread, lean_front_matter, reader_identity
from syncd.sites.postfile import (
    BodyFromFile,
    PostFileError,
    markdown_body,
    parse_post_file,
)

CONFIG_FILES = ("gatsby-config.js", "gatsby-config.ts", "gatsby-config.mjs", "gatsby-config.cjs")
NODE_FILES = ("gatsby-node.js", "gatsby-node.ts", "gatsby-node.mjs", "gatsby-node.cjs")
DEFAULT_CONTENT = "content/blog"
FILESYSTEM_PLUGIN = "gatsby-source-filesystem"
TRAILING_SLASH_OPTIONS = ("always", "never", "ignore")
# mime's types for gatsby-transformer-remark (text/markdown, text/x-markdown), any case.
MARKDOWN_EXTENSIONS = (".md", ".markdown", ".mkd")
# gatsby-plugin-mdx's default `extensions`, compared with the file's extension as written.
MDX_EXTENSION = ".mdx"
# gatsby-source-filesystem's own ignore list (the names it never sources).
IGNORED_NAMES = (".DS_Store", ".gitignore", ".npmignore", ".babelrc", "yarn.lock",
                 "bower_components", "node_modules")
# gatsby-page-utils' applyTrailingSlashOption leaves paths with these endings alone.
TRAILING_SLASH_EXEMPT = (".html", ".json", ".js", ".map", ".txt", ".xml", ".pdf")


class SiteError(SyncdError):
    """The Gatsby site as a whole cannot be read (no content folder, no site URL)."""


class PostReadError(Exception):
    """One post file cannot be used; the message is the reason shown to the user."""


@dataclass(frozen=True)
class GatsbyConfig:
    """What decides which files are posts and where their pages live."""

    root: Path
    content_dirs: tuple[Path, ...]
    site_url: str
    trailing_slash: str = "always"
    base_path: str = "src/pages"
    file_path_trailing_slash: bool = True
    url_templates: tuple[str, ...] = ("{file}",)


def read_site(root: Path, site_url: str | None = None,
              url_template: Sequence[str] | None = None,
              content: Sequence[str] | None = None,
              cache: ParseCache | None = None) -> SiteScan:
    """Read every markdown post under the site's content folders.

    With a ``cache``, files unchanged since it last saw them under the same configuration
    are not read again.
    """
    site = GatsbySite(root, site_url, url_template, content)
    return scan_of(site.scan(cache), site.clash_advice)


class GatsbySite:
    """A Gatsby site under one configuration: every post file (:meth:`scan`), then single
    changed files (:meth:`locate`), for the service's passes driven by the watcher
    (:mod:`syncd.sites.live`)."""

    clash_advice = "Gatsby keeps only one page there"

    def __init__(self, root: Path, site_url: str | None = None,
                 url_template: Sequence[str] | None = None,
                 content: Sequence[str] | None = None, lean: bool = False) -> None:
        self.root = root
        self.config = load_gatsby_config(root, site_url, url_template, content)
        self.lean = lean  # as JekyllSite.lean
        self.fingerprints = True
        self.config_paths = frozenset(str(root / name) for name in CONFIG_FILES + NODE_FILES)

    def read(self, path: Path, source: str, full: bool = False) -> Post | PostError:
        """One post file; when this reading is ``lean`` and not asked for ``full``, its front
        matter is held lean (the judged keys; the rest read again when asked: ``read_path``)."""
        again = Reread(self, path) if self.lean and not full else None
        try:
            return read_post(path, source, self.config, fingerprint=self.fingerprints,
                             front_matter_again=again)
        except PostReadError as exc:
            return PostError(source=source, path=path, reason=str(exc))

    def read_path(self, path: Path) -> Post | PostError:
        """The post file at ``path`` read again, in full."""
        return self.read(path, self.source_of(path), full=True)

    def source_of(self, path: Path) -> str:
        """The post's name: its path inside the site."""
        text, prefix = str(path), str(self.root) + "/"
        if text.startswith(prefix) and prefix != "//":
            return text[len(prefix):]
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) \
            else path.as_posix()

    @batch
    def scan(self, cache: ParseCache | None = None) -> list[Post | PostError]:
        """Every post file's read result, in the order gatsby-source-filesystem finds them."""
        self.fingerprints = cache is not None and not cache.read_only
        if cache is not None:
            cache.start(self.config, reader_identity(self.config))
        results: list[Post | PostError] = []
        for path in discover(self.config):
            source = self.source_of(path)
            if cache is None:
                results.append(self.read(path, source))
            else:
                results.append(cache.read(path, functools.partial(self.read, path, source),
                                          Reread(self, path)))
        if cache is not None:
            cache.finish()
        return results

    def is_config(self, path: str) -> bool:
        return path in self.config_paths

    def locate(self, path: str, new: bool) -> Callable[[], Post | PostError] | None:
        """Whether gatsby-source-filesystem sources this existing file as a post, by
        :func:`discover`'s rules asked of the one file: under a content folder, nothing
        ignored on the way, a markdown name. A symlinked folder on the way could be one the
        walk reads under another name: only a full read tells."""
        folder = next((str(f) for f in self.config.content_dirs
                       if path.startswith(str(f) + "/")), None)
        if folder is None:
            return None
        parts = path[len(folder) + 1:].split("/")
        name = parts[-1]
        if any(part in IGNORED_NAMES for part in parts) or name.endswith(".un~") \
                or not is_post_file(name):
            return None
        inner = folder
        for part in parts[:-1]:
            inner = os.path.join(inner, part)
            if os.path.islink(inner):
                raise FullReadNeeded(f"{inner} is a symbolic link")
        if not os.path.isfile(path):
            return None
        found = Path(path)
        return functools.partial(self.read, found, self.source_of(found))


# gatsby-config.js and gatsby-node.js, read as text ---------------------------------------


def load_gatsby_config(root: Path, site_url: str | None = None,
                       url_template: Sequence[str] | None = None,
                       content: Sequence[str] | None = None) -> GatsbyConfig:
    config_path = next((root / n for n in CONFIG_FILES if (root / n).is_file()), None)
    tokens = tokenize(_read_text(config_path)) if config_path else []
    shown = config_path or root / CONFIG_FILES[0]
    if content:
        dirs = tuple((root / c).resolve() for c in content)
    else:
        dirs = tuple(_filesystem_sources(tokens, root, shown)) or ((root / DEFAULT_CONTENT),)
    for folder in dirs:
        if not folder.is_dir():
            raise SiteError(f"{shown}: the content folder {folder} does not exist "
                            "(Gatsby stops on it too); set [site] content in syncd's config")
    url = site_url or _string_after(tokens, "siteUrl")
    if not url:
        raise SiteError(f"{shown}: has no `siteMetadata.siteUrl` written as text, so the posts' "
                        "public addresses are unknown; set `[site] url` in syncd's config")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise SiteError(f"{shown}: siteUrl must be an absolute http(s) address, not {url!r}")
    trailing = _string_after(tokens, "trailingSlash") or "always"
    if trailing not in TRAILING_SLASH_OPTIONS:
        raise SiteError(f"{shown}: trailingSlash must be one of {', '.join(TRAILING_SLASH_OPTIONS)}"
                        f", not {trailing!r}")
    node_path = next((root / n for n in NODE_FILES if (root / n).is_file()), None)
    base_path, file_slash = "src/pages", True
    if node_path is not None:
        node_tokens = tokenize(_read_text(node_path))
        call = _call_arguments(node_tokens, "createFilePath")
        if call is None and not url_template:
            raise SiteError(
                f"{node_path}: does not call createFilePath, so syncd cannot tell each post's "
                "page path; say how it is made with `[site] url_template` in syncd's config"
            )
        if call is not None:
            base_path = _string_after(call, "basePath") or base_path
            file_slash = _literal_after(call, "trailingSlash") != "false"
    return GatsbyConfig(
        root=root,
        content_dirs=dirs,
        site_url=url,
        trailing_slash=trailing,
        base_path=base_path,
        file_path_trailing_slash=file_slash,
        url_templates=tuple(url_template) if url_template else ("{file}",),
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteError(f"{path}: cannot be read: {exc}") from None


@dataclass(frozen=True)
class Token:
    """A JavaScript token: ``kind`` is ``string`` (``value`` unquoted), ``template`` (raw
    text between backticks), ``name`` or ``punct``."""

    kind: str
    value: str


_NAME = re.compile(r"[A-Za-z_$][\w$]*")


def tokenize(text: str) -> list[Token]:
    """Just enough JavaScript: strings, template literals, names and punctuation, with
    comments skipped, so a config can be read without running it."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = len(text) if i < 0 else i
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        elif ch in "'\"":
            value, i = _quoted(text, i)
            tokens.append(Token("string", value))
        elif ch == "`":
            value, i = _template(text, i)
            tokens.append(Token("template", value))
        elif ch.isspace():
            i += 1
        elif found := _NAME.match(text, i):
            tokens.append(Token("name", found.group(0)))
            i = found.end()
        else:
            tokens.append(Token("punct", ch))
            i += 1
    return tokens


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _quoted(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text) and text[i] != quote:
        if text[i] == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and re.match(r"[0-9a-fA-F]{4}", text[i + 2: i + 6]):
                out.append(chr(int(text[i + 2: i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out), i + 1


def _template(text: str, start: int) -> tuple[str, int]:
    i = start + 1
    depth = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}" and depth:
            depth -= 1
        elif text[i] == "`" and not depth:
            return text[start + 1: i], i + 1
        i += 1
    return text[start + 1:], len(text)


def _matching(tokens: list[Token], start: int) -> int:
    """Index of the bracket closing ``tokens[start]``."""
    pairs = {"{": "}", "[": "]", "(": ")"}
    opening = tokens[start].value
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i].kind != "punct":
            continue
        if tokens[i].value == opening:
            depth += 1
        elif tokens[i].value == pairs[opening]:
            depth -= 1
            if depth == 0:
                return i
    return len(tokens)


def _enclosing_object(tokens: list[Token], index: int) -> list[Token]:
    """The tokens of the innermost ``{ ... }`` around ``tokens[index]``."""
    for start in range(index, -1, -1):
        if tokens[start].kind == "punct" and tokens[start].value == "{":
            end = _matching(tokens, start)
            if end > index:
                return tokens[start: end + 1]
    return []


def _value_after(tokens: list[Token], key: str) -> list[Token] | None:
    """The tokens of the value written after ``key:``, up to the next ``,`` or closing
    bracket at its own depth."""
    for i, token in enumerate(tokens[:-1]):
        if token.kind in ("name", "string") and token.value == key and \
                tokens[i + 1] == Token("punct", ":"):
            value: list[Token] = []
            depth = 0
            for nxt in tokens[i + 2:]:
                if nxt.kind == "punct" and nxt.value in "{[(":
                    depth += 1
                elif nxt.kind == "punct" and nxt.value in "}])":
                    if depth == 0:
                        break
                    depth -= 1
                elif nxt == Token("punct", ",") and depth == 0:
                    break
                value.append(nxt)
            return value
    return None


def _string_after(tokens: list[Token], key: str) -> str | None:
    """A value that is one plain string (or a template with no ``${}``)."""
    value = _value_after(tokens, key)
    if value and len(value) == 1 and value[0].kind in ("string", "template") and \
            "${" not in value[0].value:
        return value[0].value
    return None


def _literal_after(tokens: list[Token], key: str) -> str | None:
    value = _value_after(tokens, key)
    return value[0].value if value and len(value) == 1 else None


def _call_arguments(tokens: list[Token], function: str) -> list[Token] | None:
    for i, token in enumerate(tokens[:-1]):
        if token == Token("name", function) and tokens[i + 1] == Token("punct", "("):
            return tokens[i + 1: _matching(tokens, i + 1) + 1]
    return None


def _filesystem_sources(tokens: list[Token], root: Path, shown: Path) -> Iterator[Path]:
    """The ``path`` option of every gatsby-source-filesystem entry in gatsby-config."""
    for i, token in enumerate(tokens):
        if token.kind not in ("string", "template") or token.value != FILESYSTEM_PLUGIN:
            continue
        entry = _enclosing_object(tokens, i)
        options = _value_after(entry, "options")
        path_value = _value_after(options, "path") if options else None
        if not path_value:
            continue
        folder = _evaluate_path(path_value, root)
        if folder is None:
            raise SiteError(
                f"{shown}: cannot read the gatsby-source-filesystem path without running the "
                f"file ({' '.join(t.value for t in path_value)}); set [site] content in "
                "syncd's config"
            )
        yield folder


_ROOT_NAMES = ("${__dirname}", "${process.cwd()}", "${path.resolve()}", "${path.resolve('.')}",
               '${path.resolve(".")}')
_PATH_WORDS = {"__dirname", "path", "join", "resolve", "require", "process", "cwd", "posix"}


def _evaluate_path(value: list[Token], root: Path) -> Path | None:
    """The folder a ``path:`` expression names, for the usual forms: a string or template
    (``${__dirname}/content/blog``), ``__dirname + "/content"``, ``path.join(__dirname, ..)``,
    ``path.resolve(..)``. ``None`` when it depends on anything else."""
    pieces: list[str] = []
    concatenated = any(t == Token("punct", "+") for t in value)
    # require("path") names a module, not a folder.
    value = [t for i, t in enumerate(value)
             if not (t.kind in ("string", "template") and i >= 2
                     and value[i - 2] == Token("name", "require"))]
    for token in value:
        if token.kind == "string":
            pieces.append(token.value)
        elif token.kind == "template":
            text = token.value
            for name in _ROOT_NAMES:
                text = text.replace(name, "")
            if "${" in text:
                return None
            pieces.append(text)
        elif token.kind == "name" and token.value not in _PATH_WORDS:
            return None
    if not pieces:
        return None
    if not any(t.value in ("__dirname", "cwd") or "${" in t.value for t in value):
        joined = "".join(pieces) if concatenated else posixpath.join(*pieces)
        return (root / joined).resolve() if not joined.startswith("/") else Path(joined)
    joined = "".join(pieces) if concatenated else "/".join(pieces)
    return (root / joined.lstrip("/")).resolve()


# Files ------------------------------------------------------------------------------------


def discover(config: GatsbyConfig) -> Iterator[Path]:
    """The markdown files gatsby-source-filesystem sources (dot files included; its ignore
    list and node_modules not), following symbolic links as chokidar does."""
    seen: set[object] = set()  # folders walked, by device and inode: a symlink loop ends
    for folder in config.content_dirs:
        for current, dirnames, filenames in os.walk(folder, followlinks=True):
            try:
                found = os.stat(current)
                real: object = (found.st_dev, found.st_ino)
            except OSError:
                real = os.path.realpath(current)
            if real in seen:
                dirnames[:] = []
                continue
            seen.add(real)
            dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_NAMES)
            for name in sorted(filenames):
                if name in IGNORED_NAMES or name.endswith(".un~") or not is_post_file(name):
                    continue
                if os.path.isfile(os.path.join(current, name)):
                    yield Path(current, name)


def is_post_file(name: str) -> bool:
    ext = node_parse(name)[2]
    return ext.lower() in MARKDOWN_EXTENSIONS or ext == MDX_EXTENSION


def read_post(path: Path, source: str, config: GatsbyConfig, fingerprint: bool = True,
              front_matter_again: Callable[[], Post | PostError] | None = None) -> Post:
    """One post file; with ``fingerprint``, its fingerprint computed from the body read here
    (a parse cache keeps it), otherwise left for the engine to compute if it asks. With
    ``front_matter_again`` (a full read of the same file) the post keeps only the front
    matter keys every post is judged by (``parsecache.lean_front_matter``)."""
    try:
        front, body = parse_post_file(path)
    except PostFileError as exc:
        raise PostReadError(str(exc)) from None
    relative = _relative_to_source(path, config)
    file_slug = create_file_path(relative, config.base_path, config.file_path_trailing_slash)
    draft = front.get("draft") is True
    published = front.get("published") is not False and not draft
    warnings: list[str] = []
    date = _post_date(front.get("date"), path, warnings)
    title = front.get("title")
    if not isinstance(title, str) or not title.strip():
        title = file_slug.strip("/") or path.stem
        if published:
            warnings.append(f"no `title` in the front matter; using {title!r}")
    canonical_url = None
    if published:
        page = page_path(_fill_template(config.url_templates, front, file_slug),
                         config.trailing_slash)
        if page == "/":
            raise PostReadError("its page path is /, the site's home page; give it a `slug` "
                                "or move it into a folder of its own")
        canonical_url = absolute_url(config.site_url, page)
    return Post(
        source=source,
        path=path,
        canonical_url=canonical_url,
        title=title.strip(),
        date=date,
        body=BodyFromFile(path, markdown_body),
        fingerprint=text_fingerprint(title, body) if fingerprint else None,
        source_hash=source_digest(title, front, body),
        tags=_tags(front),
        published=published,
        draft=draft,
        front_matter=front if front_matter_again is None
        else lean_front_matter(front, front_matter_again),
        warnings=tuple(warnings),
    )


def _relative_to_source(path: Path, config: GatsbyConfig) -> str:
    """The File node's ``relativePath``: the file's path inside its content folder."""
    for folder in config.content_dirs:
        if path.is_relative_to(folder):
            return path.relative_to(folder).as_posix()
    return path.name


def _post_date(value: Any, path: Path, warnings: list[str]) -> dt.datetime:
    """The front matter date as YAML reads it; a date or time without a zone is UTC."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, str) and value.strip():
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise PostReadError(f"front matter `date` is not a date: {value!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if value is not None:
        raise PostReadError(f"front matter `date` is not a date: {value!r}")
    warnings.append("no `date` in the front matter; using the file's modification time")
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)


def _tags(front: dict[str, Any]) -> tuple[str, ...]:
    tags = front.get("tags")
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    if not isinstance(tags, list):
        return ()
    return tuple(dict.fromkeys(str(t).strip() for t in tags if t is not None and str(t).strip()))


# Paths and URLs ---------------------------------------------------------------------------


def node_parse(path: str) -> tuple[str, str, str]:
    """Node's ``path.posix.parse``: dir, name and ext (``..md`` is name ``.`` and ext ``.md``;
    ``.md`` alone is a name with no ext)."""
    absolute = path.startswith("/")
    start = 1 if absolute else 0
    start_dot, start_part, end = -1, 0, -1
    matched_slash = True
    pre_dot_state = 0
    i = len(path) - 1
    while i >= start:
        ch = path[i]
        if ch == "/":
            if not matched_slash:
                start_part = i + 1
                break
            i -= 1
            continue
        if end == -1:
            matched_slash = False
            end = i + 1
        if ch == ".":
            if start_dot == -1:
                start_dot = i
            elif pre_dot_state != 1:
                pre_dot_state = 1
        elif start_dot != -1:
            pre_dot_state = -1
        i -= 1
    name = ext = ""
    if end != -1:
        first = 1 if start_part == 0 and absolute else start_part
        if start_dot == -1 or pre_dot_state == 0 or (
            pre_dot_state == 1 and start_dot == end - 1 and start_dot == start_part + 1
        ):
            name = path[first:end]
        else:
            name, ext = path[first:start_dot], path[start_dot:end]
    directory = path[: start_part - 1] if start_part > 0 else ("/" if absolute else "")
    return directory, name, ext


def node_relative(start: str, target: str) -> str:
    """Node's ``path.posix.relative``, both paths taken from the same working folder."""
    start_parts = [p for p in posixpath.normpath("/" + start).split("/") if p]
    target_parts = [p for p in posixpath.normpath("/" + target).split("/") if p]
    common = 0
    while common < min(len(start_parts), len(target_parts)) and \
            start_parts[common] == target_parts[common]:
        common += 1
    ups = [".."] * (len(start_parts) - common)
    return "/".join(ups + target_parts[common:])


def node_join(*parts: str) -> str:
    """Node's ``path.posix.join``: joined, then ``.`` and ``..`` resolved, one ``/`` each,
    a trailing ``/`` kept."""
    joined = "/".join(p for p in parts if p)
    if not joined:
        return "."
    trailing = joined.endswith("/")
    absolute = joined.startswith("/")
    out: list[str] = []
    for segment in joined.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not absolute:
                out.append("..")
            continue
        out.append(segment)
    result = ("/" if absolute else "") + "/".join(out)
    if trailing and result and not result.endswith("/"):
        result += "/"
    return result or ("/" if absolute else ".")


def create_file_path(relative_path: str, base_path: str = "src/pages",
                     trailing_slash: bool = True) -> str:
    """gatsby-source-filesystem's ``createFilePath`` for a file at ``relative_path``."""
    relative = node_relative(base_path.replace("\\", "/"), relative_path.replace("\\", "/"))
    directory, name, _ext = node_parse(relative)
    return node_join("/", directory, "" if name == "index" else name,
                     "/" if trailing_slash else "")


def page_path(path: str, option: str) -> str:
    """What ``createPage`` stores: gatsby-page-utils' ``applyTrailingSlashOption``, then a
    leading ``/`` if the path has none."""
    if path != "/" and not path.endswith(TRAILING_SLASH_EXEMPT):
        if option == "always" and not path.endswith("/"):
            path += "/"
        elif option == "never" and path.endswith("/"):
            path = path[:-1]
    return path if path.startswith("/") else "/" + path


_TEMPLATE_FIELD = re.compile(r"\{([A-Za-z_][\w.-]*)\}")


def _fill_template(templates: tuple[str, ...], front: dict[str, Any], file_slug: str) -> str:
    """The first ``url_template`` whose fields this post has."""
    missing: list[str] = []
    for template in templates:
        values: dict[str, str] = {}
        for field in _TEMPLATE_FIELD.findall(template):
            if field == "file":
                values[field] = file_slug
                continue
            value = front.get(field)
            if value is None or isinstance(value, (bool, list, dict)) or not str(value).strip():
                missing.append(field)
                break
            values[field] = str(value)
        else:
            return _fill(template, values)
    raise PostReadError(
        "has no " + " or ".join(f"`{f}`" for f in dict.fromkeys(missing))
        + " in its front matter, which [site] url_template needs"
    )


def _fill(template: str, values: dict[str, str]) -> str:
    return _TEMPLATE_FIELD.sub(lambda found: values[found.group(1)], template)


# The WHATWG path percent-encode set: C0 controls, space, " # < > ? ` { }, and non-ASCII.
_PATH_KEEP = frozenset(chr(c) for c in range(0x21, 0x7F)) - set('"#<>?`{}')
# Characters a URL parser would eat (tab, newlines) or read as syntax (\ and %): escaped
# first, so the URL names the page's own folder.
_PRE_ESCAPE = {"%": "%25", "\\": "%5C", "\t": "%09", "\n": "%0A", "\r": "%0D"}


def encode_path(path: str) -> str:
    """A page path as a browser sends it (``url.pathname = path``): percent-encoded, ``.``
    and ``..`` segments resolved."""
    text = "".join(_PRE_ESCAPE.get(ch, ch) for ch in path)
    segments: list[str] = []
    parts = text.split("/")[1:] if text.startswith("/") else text.split("/")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        lowered = part.lower()
        if lowered in ("..", ".%2e", "%2e.", "%2e%2e"):
            if segments:
                segments.pop()
            if last:
                segments.append("")
        elif lowered in (".", "%2e"):
            if last:
                segments.append("")
        else:
            segments.append("".join(
                ch if ch in _PATH_KEEP else "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
                for ch in part
            ))
    return "/" + "/".join(segments)


def absolute_url(site_url: str, path: str) -> str:
    """``siteUrl`` (its scheme and host lowercased, a default port dropped, no trailing
    ``/``) followed by the encoded page path."""
    parts = urlsplit(site_url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host.lower()
    except UnicodeError:
        host = host.lower()
    netloc = host
    if parts.port is not None and (scheme, parts.port) not in (("http", 80), ("https", 443)):
        netloc += f":{parts.port}"
    if parts.username:
        netloc = parts.username + (f":{parts.password}" if parts.password else "") + "@" + netloc
    prefix = parts.path[:-1] if parts.path.endswith("/") else parts.path
    return f"{scheme}://{netloc}{encode_path(prefix + path)}"
