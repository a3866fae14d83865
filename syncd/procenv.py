"""Taking secrets out of syncd's own process environment once they are read.

Every process syncd starts (a ``[notify]`` command, a browser) runs as the same user, and
on Linux a process of the same user can read ``/proc/PID/environ`` of syncd. That file is
the environment block the process *started* with: removing a variable from ``os.environ``
(``unsetenv``) does not change it. So syncd also overwrites the variable's value in that
block, which it can do in its own memory, where the kernel reports the block to be. What is
left in ``/proc/PID/environ`` is ``NAME=`` followed by zero bytes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, MutableMapping
from pathlib import Path

log = logging.getLogger("syncd")


def withdraw(names: Iterable[str], environ: MutableMapping[str, str] | None = None
             ) -> dict[str, str]:
    """Remove ``names`` from the process environment (``os.environ`` and the start-up block
    ``/proc/self/environ`` shows) and return the values that were set."""
    environ = os.environ if environ is None else environ
    taken: dict[str, str] = {}
    for name in dict.fromkeys(names):
        if name and name in environ:
            taken[name] = environ.pop(name)
    if taken and environ is os.environ:
        _blank_startup_values(taken)
    return taken


def _startup_block() -> tuple[int, int] | None:
    """Where the kernel keeps this process's start-up environment (``/proc/self/stat``
    fields 50 and 51, Linux 3.5+); None elsewhere."""
    try:
        fields = Path("/proc/self/stat").read_bytes().rsplit(b")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])
    except (OSError, IndexError, ValueError):
        return None
    return (start, end) if 0 < start < end else None


def _blank_startup_values(names: Iterable[str]) -> None:
    """Zero the values of ``names`` in the start-up block. Only after ``unsetenv``: then no
    C code points at those bytes any more, and the other variables are left as they are."""
    try:
        import ctypes
    except ImportError:  # a Python built without it
        block = None
    else:
        block = _startup_block()
    if block is None:
        log.debug("cannot reach this process's start-up environment; it still holds %s",
                  ", ".join(names))
        return
    start, end = block
    data = ctypes.string_at(start, end - start)
    for name in names:
        prefix = name.encode() + b"="
        at = 0
        while True:
            at = data.find(prefix, at)
            if at < 0:
                break
            if at == 0 or data[at - 1] == 0:
                value_at = at + len(prefix)
                value_end = data.find(b"\0", value_at)
                value_end = len(data) if value_end < 0 else value_end
                ctypes.memset(start + value_at, 0, value_end - value_at)
            at += len(prefix)
