"""The service's copy of the site: read in full once, then patched from the watcher's paths.

A save's pass should cost what the saved file costs, not what the site costs: on a blog of
10,000 posts a full read (walk every ``_posts`` folder, ``stat`` every file, separate URL
clashes) takes a few hundred milliseconds even when nothing but one file changed.
:class:`LiveSite` keeps the result of the last full read, per file, and takes the paths the
watcher reports: a known post file is read again, a deleted one dropped, a new file is
asked of its reader (:meth:`SiteReading.locate`: is this a post file, by the generator's
own walking rules?). Whatever one file cannot settle (a config file, a folder that came or
went, a ``defaults:`` glob that may now match more) raises :class:`FullReadNeeded`, and the
service reads the whole site instead. Events are hints, not truth, so the service still
reads the whole site on its periodic rescan, after an inotify overflow and on SIGHUP.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from syncd.config import SiteConfig
from syncd.model import Post, PostError, SiteScan
from syncd.sites.parsecache import ParseCache

ReadResult = Post | PostError


class FullReadNeeded(Exception):
    """A changed path whose effect only a full read of the site can tell."""


class SiteReading(Protocol):
    """A site reader under one configuration (``jekyll.JekyllSite``, ``gatsby.GatsbySite``)."""

    clash_advice: str

    def scan(self, cache: ParseCache | None = None) -> list[ReadResult]:
        """Every post file's read result, in the generator's order (clashes not separated)."""

    def locate(self, path: str, new: bool) -> Callable[[], ReadResult] | None:
        """For an existing file (``new``: not seen by the last scan): how to read it if the
        generator reads it as a post, None if it does not; FullReadNeeded if one file cannot
        tell."""

    def is_config(self, path: str) -> bool:
        """A file whose change may change every post's URL or data."""


def open_reading(site: SiteConfig, lean: bool = False) -> SiteReading:
    """The configured site's reader (loads the generator's config: may raise SiteError);
    ``lean``: its posts hold only the front matter keys they are judged by."""
    if site.generator == "gatsby":
        from syncd.sites import gatsby

        return gatsby.GatsbySite(
            site.root, site.url, url_template=site.url_template,
            content=tuple(str(path) for path in site.content) if site.content else None,
            lean=lean)
    from syncd.sites import jekyll

    return jekyll.JekyllSite(
        site.root, site.url,
        config_files=tuple(str(path) for path in site.jekyll_config)
        if site.jekyll_config else None, lean=lean)


def scan_of(results: Iterable[ReadResult], advice: str) -> SiteScan:
    """The scan the engine judges: read results, with posts sharing one URL made errors."""
    from syncd.sites.postfile import separate_url_clashes

    posts: list[Post] = []
    errors: list[PostError] = []
    for result in results:
        if isinstance(result, PostError):
            errors.append(result)
        else:
            posts.append(result)
    kept, clashes = separate_url_clashes(posts, advice)
    return SiteScan(posts=tuple(kept), errors=tuple(errors + clashes))


class LiveSite:
    """The last full read of one site, per file, kept up to date from changed paths.

    Kept as :func:`scan_of` would make it, but by parts, so that a change costs what the
    changed files cost: posts and read errors by path, and the paths of the posts at each
    URL (more than one is a clash, which makes each of them an error).
    """

    def __init__(self, site: SiteConfig, cache: ParseCache) -> None:
        self.site = site
        self.cache = cache
        self._reading: SiteReading | None = None
        self._posts: dict[str, Post] = {}
        self._errors: dict[str, PostError] = {}
        self._at_url: dict[str, list[str]] = {}
        self._clashes: set[str] = set()  # URLs with more than one post
        self._by_url: dict[str, Post] = {}  # URLs with exactly one
        self._by_source: dict[str, ReadResult] = {}

    def read_all(self) -> SiteScan:
        """Read the whole site (through the parse cache) and remember it."""
        self._reading = None
        reading = open_reading(self.site, lean=True)
        results = reading.scan(self.cache)
        self._posts, self._errors, self._at_url, self._clashes = {}, {}, {}, set()
        self._by_url, self._by_source = {}, {}
        for result in results:
            self._add(str(result.path), result)
        self._reading = reading
        return self._scan(reading)

    def read_changes(self, paths: Iterable[str]) -> tuple[SiteScan, set[str]]:
        """The site after these paths changed, and the sources to judge again: the files
        read again, added or removed, and the posts sharing a URL with one of them.

        Raises FullReadNeeded when the paths say more than single files can (then nothing
        here has changed: the caller reads the whole site).
        """
        reading = self._reading
        if reading is None:
            raise FullReadNeeded("the site has not been read in full yet")
        updates: dict[str, Callable[[], ReadResult] | None] = {}
        for path in dict.fromkeys(paths):
            if reading.is_config(path):
                raise FullReadNeeded(f"{path} changed")
            known = path in self._posts or path in self._errors
            read = reading.locate(path, new=not known) if os.path.lexists(path) else None
            if read is not None or known:
                updates[path] = read
        touched: set[str] = set()
        for path, read in updates.items():
            before = self._remove(path)
            if before is not None:
                touched |= self._neighbours(before)
            if read is None:
                self.cache.forget(Path(path))
                continue
            result = self.cache.refresh(Path(path), read)
            self._add(path, result)
            touched |= self._neighbours(result)
        return self._scan(reading), touched

    def _add(self, path: str, result: ReadResult) -> None:
        self._by_source[result.source] = result
        if isinstance(result, PostError):
            self._errors[path] = result
            return
        self._posts[path] = result
        url = result.canonical_url
        if url is not None:
            holders = self._at_url.setdefault(url, [])
            holders.append(path)
            if len(holders) == 1:
                self._by_url[url] = result
            else:
                self._clashes.add(url)
                self._by_url.pop(url, None)

    def _remove(self, path: str) -> ReadResult | None:
        error = self._errors.pop(path, None)
        if error is not None:
            del self._by_source[error.source]
            return error
        post = self._posts.pop(path, None)
        if post is None:
            return None
        del self._by_source[post.source]
        url = post.canonical_url
        if url is not None:
            holders = self._at_url[url]
            holders.remove(path)
            if len(holders) == 1:
                self._clashes.discard(url)
                self._by_url[url] = self._posts[holders[0]]
            elif not holders:
                del self._at_url[url]
                del self._by_url[url]
        return post

    def _neighbours(self, result: ReadResult) -> set[str]:
        """The result's source and those of the other posts at its URL."""
        url = result.canonical_url if isinstance(result, Post) else None
        holders = self._at_url.get(url, []) if url is not None else []
        return {result.source, *(self._posts[path].source for path in holders)}

    def _scan(self, reading: SiteReading) -> SiteScan:
        """The scan, with its indexes copied (in C): the next change must not alter a scan
        a pass may still hold."""
        posts, errors = tuple(self._posts.values()), tuple(self._errors.values())
        by_source: dict[str, ReadResult] = dict(self._by_source)
        if self._clashes:
            clashing = {path for url in self._clashes for path in self._at_url[url]}
            clashed = scan_of((self._posts[path] for path in clashing),
                              reading.clash_advice).errors
            posts = tuple(post for path, post in self._posts.items() if path not in clashing)
            errors += clashed
            by_source.update((error.source, error) for error in clashed)
        return SiteScan.indexed(posts, errors, dict(self._by_url), by_source)
