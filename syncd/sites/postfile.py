"""Reading one post file: bytes to front matter and body, with a clear reason when it fails.

Shared by every site reader. A post that is not UTF-8, holds binary junk or has broken YAML
front matter raises :class:`PostFileError`, whose text names the problem (and the line, for
YAML), so the reader can report the file and go on with the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import frontmatter
import yaml


class PostFileError(Exception):
    """The file cannot be read as a post; ``str()`` is the reason."""


def parse_post_file(path: Path) -> tuple[dict[str, Any], str]:
    """Front matter (a dict, empty when there is none) and the body text."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PostFileError(f"cannot be read: {exc.strerror}") from None
    if b"\x00" in raw:
        raise PostFileError("binary data (a NUL byte), not a text post")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PostFileError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); save it as UTF-8"
        ) from None
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        raise PostFileError(f"bad YAML front matter: {_yaml_problem(exc)}") from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise PostFileError(f"bad front matter: {exc}") from None
    metadata = post.metadata
    if not isinstance(metadata, dict):
        raise PostFileError("front matter must be a YAML mapping (key: value lines)")
    return {str(k): v for k, v in metadata.items()}, post.content


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        # The front matter starts after the opening '---' line.
        return f"{problem} (front matter line {mark.line + 1}, column {mark.column + 1})"
    return str(problem)
