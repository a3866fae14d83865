"""Replacing a file so that a reader, a crash or a full disk sees the old file or the new,
never half of one: a temporary file beside it, fsync, rename over, fsync of the folder.

The ledger, the token file written by ``syncd login`` and the emulator's state all use it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def replace_file(path: Path, content: bytes | Iterable[bytes], mode: int | None = None) -> None:
    """Atomically make ``path`` hold ``content`` (bytes, or pieces of them to write one after
    the other); ``mode`` is set before any byte is written.

    The temporary file is ``.<name>.<random>`` beside ``path``, so a sweep can find what a
    killed writer left behind.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            if isinstance(content, bytes):
                handle.write(content)
            else:
                for piece in content:
                    handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (some file systems cannot open a folder: skip)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
