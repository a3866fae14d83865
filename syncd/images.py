"""Images in a post: where each one really is, whether syncd may touch it, and uploads.

Medium fetches every ``<img src>`` when a post is created, and never again, so an image
must reach Medium at a public absolute URL or be uploaded first (``POST /v1/images``).

Terms:

- *image reference*: the ``src`` the author wrote (``/assets/x.png``, ``./x.png``,
  ``https://…``).
- *public URL*: where a browser reading the published post fetches it: the reference
  resolved against the post's canonical URL, exactly as the page itself resolves it.
- *local file*: the file in the site folder that is published at that URL (or sits next to
  the post, as Gatsby's co-located images do).

**Containment.** A local file is only ever read when its path, after every symlink is
resolved, is inside the site root. ``../../etc/passwd``, ``file:`` URLs, absolute file
paths and symlinks that lead out of the site are refused with a warning and never opened,
so a post cannot make syncd upload a file the site does not publish.

Uploads are cached by content hash (SHA-256) in a JSON file beside the ledger, so an image
is uploaded once however many posts and passes use it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urljoin, urlsplit

from syncd.atomic import replace_file

if TYPE_CHECKING:
    from syncd.medium import MediumClient

log = logging.getLogger("syncd")

# The types Medium's /v1/images accepts, told by their first bytes rather than the name.
UPLOADABLE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/tiff")
_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
CACHE_VERSION = 1
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")


@dataclass(frozen=True)
class ImageSource:
    """Where one image reference leads.

    ``url`` is what Medium is sent (absolute), or ``None`` when the reference is refused
    (``problem`` says why). ``file`` is the local file inside the site, when there is one.
    ``guessed`` says the file was found only next to the post and where the site publishes
    it is unknown (Gatsby's co-located images), so ``url`` is the reference resolved against
    the page: a guess that may not exist.
    """

    url: str | None
    file: Path | None = None
    problem: str | None = None
    is_local: bool = False
    guessed: bool = False


@dataclass(frozen=True)
class LocalImage:
    """An image the executor uploads before the post is created: a local file, or a
    picture syncd drew (``data``: a table), whose ``public_url`` is only a placeholder in
    the HTML until Medium gives it a URL."""

    public_url: str
    file: Path
    content_type: str
    data: bytes | None = None

    @property
    def drawn(self) -> bool:
        return self.data is not None

    def read(self) -> bytes:
        return self.data if self.data is not None else self.file.read_bytes()

    def size(self) -> int:
        return len(self.data) if self.data is not None else self.file.stat().st_size

    def digest(self) -> str:
        if self.data is not None:
            return hashlib.sha256(self.data).hexdigest()
        return content_hash(self.file)


class SiteFiles:
    """The site folder as a source of image files, with containment enforced.

    ``published_url`` is the site's address when the generator publishes every file outside
    ``_folders`` at its own path (Jekyll's static files), so a file found next to the post
    gets the URL it really has on the site.
    """

    def __init__(self, root: Path | None, base_path: str = "", static_dirs: Iterable[str] = (),
                 published_url: str | None = None) -> None:
        self.root = root.resolve() if root is not None else None
        self.base_path = base_path.rstrip("/")
        self.static_dirs = tuple(static_dirs)
        self.published_url = published_url.rstrip("/") if published_url else None

    def locate(self, reference: str, page_url: str | None, page_file: Path | None) -> ImageSource:
        """Resolve ``reference`` as written in the post at ``page_url`` (file ``page_file``)."""
        reference = reference.strip()
        parts = urlsplit(reference)
        scheme = parts.scheme.lower()
        if reference.startswith("//"):
            return ImageSource(url="https:" + reference)
        if scheme in ("http", "https") and parts.netloc:
            return ImageSource(url=reference)
        if scheme == "file" or _WINDOWS_PATH.match(reference) or reference.startswith(
                ("~", "\\")):
            return ImageSource(url=None, problem="an absolute file path, not a URL the site "
                               "publishes; refused, never read")
        if scheme:
            return ImageSource(url=None, problem=f"a {scheme}: URL, which Medium cannot fetch")
        if page_url is None:
            return ImageSource(url=None, problem="relative, and the post has no public URL")
        public_url = urljoin(page_url, reference)
        path = unquote(parts.path)
        if not path:
            return ImageSource(url=None, problem="empty image path")
        if self.root is None:
            return ImageSource(url=public_url, is_local=True)
        as_written, candidates = self._candidates(path, public_url, page_file)
        if not _lexically_inside(as_written, self.root):
            return ImageSource(url=None, problem="leads outside the site folder; refused, "
                               "never read", is_local=True)
        for candidate in candidates:
            if not _lexically_inside(candidate, self.root):
                continue
            try:
                real = candidate.resolve(strict=True)
            except (OSError, RuntimeError):
                continue
            if not real.is_relative_to(self.root):
                return ImageSource(url=None, problem="is a symlink to a file outside the site "
                                   "folder; refused, never read", is_local=True)
            if real.is_file():
                if candidate is as_written and not path.startswith("/"):
                    published = self._published_url(candidate)
                    return ImageSource(url=published or public_url, file=real, is_local=True,
                                       guessed=published is None)
                return ImageSource(url=public_url, file=real, is_local=True)
        return ImageSource(url=public_url, is_local=True)

    def _candidates(self, path: str, public_url: str,
                    page_file: Path | None) -> tuple[Path, list[Path]]:
        """The path as written (what containment judges) and the files that may be the image:
        the one published at its URL first, then the one next to the post."""
        assert self.root is not None
        published = unquote(urlsplit(public_url).path)
        if self.base_path and (published + "/").startswith(self.base_path + "/"):
            published = published[len(self.base_path):]
        at_url = self.root / published.lstrip("/")
        static = [self.root / folder / published.lstrip("/") for folder in self.static_dirs]
        if path.startswith("/"):
            as_written = self.root / path.lstrip("/")
            return as_written, [at_url, as_written, *static]
        folder = page_file.parent.resolve() if page_file is not None else self.root
        as_written = folder / path
        return as_written, [at_url, *static, as_written]

    def _published_url(self, file: Path) -> str | None:
        """Where the site publishes ``file`` (a file next to the post, found by its path)."""
        if self.published_url is None or self.root is None:
            return None
        relative = file.resolve().relative_to(self.root)
        if any(part.startswith(("_", ".")) for part in relative.parts):
            return None
        return self.published_url + "/" + quote(relative.as_posix())


def _lexically_inside(path: Path, root: Path) -> bool:
    """True when ``path`` stays inside ``root`` once its ``..`` are applied (symlinks are
    judged separately, when the file is resolved)."""
    return Path(os.path.normpath(path)).is_relative_to(root)


def sniff_type(file: Path) -> str | None:
    """The image type by its first bytes, or ``None`` when it is not one Medium takes."""
    try:
        with file.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return None
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    return None


def content_hash(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


class ImageCache:
    """Uploaded images by content hash, per API: ``{sha256: {api_url: medium_url}}``.

    A missing or unreadable cache is an empty one: the worst case is an image uploaded
    again, which Medium answers with the same picture.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, dict[str, str]] | None = None

    @classmethod
    def beside(cls, ledger: Path) -> ImageCache:
        from syncd.ledger import image_cache_path  # which also counts it as a trace of the ledger

        return cls(image_cache_path(ledger))

    def _load(self) -> dict[str, dict[str, str]]:
        if self._entries is None:
            self._entries = {}
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                return self._entries
            except (OSError, ValueError) as exc:
                log.warning("image cache %s cannot be read (%s); starting a new one",
                            self.path, exc)
                return self._entries
            images = data.get("images") if isinstance(data, dict) else None
            if isinstance(images, dict):
                for digest, urls in images.items():
                    if isinstance(urls, dict):
                        self._entries[str(digest)] = {
                            str(k): str(v) for k, v in urls.items() if isinstance(v, str)}
        return self._entries

    def get(self, digest: str, api_url: str) -> str | None:
        return self._load().get(digest, {}).get(api_url)

    def put(self, digest: str, api_url: str, medium_url: str) -> None:
        """Record one upload and write the cache at once (atomically)."""
        entries = self._load()
        entries.setdefault(digest, {})[api_url] = medium_url
        document = {"version": CACHE_VERSION, "images": entries}
        text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False)
        replace_file(self.path, text.encode("utf-8"))


@dataclass
class UploadResult:
    """What the upload step found: URLs to use, what it warned about, what failed outright."""

    urls: dict[str, str]
    warnings: list[str]
    failure: str | None = None


def cached_urls(images: Iterable[LocalImage], cache: ImageCache | None,
                api_url: str) -> dict[str, str]:
    """Medium URLs of images uploaded before, by public URL (for a preview: no network)."""
    if cache is None:
        return {}
    found: dict[str, str] = {}
    for image in images:
        try:
            url = cache.get(image.digest(), api_url)
        except OSError:
            continue
        if url:
            found[image.public_url] = url
    return found


def upload_images(images: Iterable[LocalImage], client: MediumClient, cache: ImageCache,
                  api_url: str) -> UploadResult:
    """Upload every image not in the cache; the Medium URL of each, by public URL.

    An image Medium refuses (a 4xx: the token lacks the ``uploadImage`` scope, the file is
    not an image after all) keeps its public URL, with a warning: that is what Medium
    would have fetched anyway. An upload that never got an answer is a ``failure``: the post
    is held back for the next pass rather than sent without the images the author asked
    to upload.
    """
    from syncd.medium import MediumError, Rejected, TokenRefused

    result = UploadResult(urls={}, warnings=[])
    done: dict[str, str] = {}
    for image in images:
        if image.public_url in result.urls:
            continue
        try:
            size = image.size()
            if size > MAX_UPLOAD_BYTES:
                result.warnings.append(
                    f"image {image.public_url} is {size / 1024 / 1024:.1f} MB, over the "
                    f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB syncd uploads; Medium fetches the URL")
                continue
            digest = image.digest()
            data = image.read()
        except OSError as exc:
            result.warnings.append(f"image {image.file} cannot be read ({exc.strerror}); "
                                   f"Medium fetches {image.public_url}")
            continue
        url = done.get(digest) or cache.get(digest, api_url)
        if url is None:
            try:
                url = client.upload_image(data, image.file.name, image.content_type)
            except (Rejected, TokenRefused) as exc:
                instead = "the table is sent as text" if image.drawn else \
                    f"Medium fetches {image.public_url} instead"
                result.warnings.append(
                    f"Medium refused the upload of {image.file.name} ({exc.message}); {instead}")
                continue
            except MediumError as exc:
                result.failure = f"uploading {image.file.name} failed: {exc.message}"
                return result
            cache.put(digest, api_url, url)
            log.info("uploaded %s → %s", image.file.name, url)
        done[digest] = url
        result.urls[image.public_url] = url
    return result


def substitute(html_text: str, urls: Mapping[str, str]) -> str:
    """``html_text`` with each image's public URL replaced by its Medium URL.

    Only ``<img src="…">`` attributes change: links to the original stay as they are.
    """
    from html import escape

    for public_url, medium_url in sorted(urls.items()):
        html_text = html_text.replace(f'<img src="{escape(public_url)}"',
                                      f'<img src="{escape(medium_url)}"')
    return html_text
