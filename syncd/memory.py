"""Keeping Python's cyclic garbage collector off the large batches syncd builds.

Reading a 10,000-post site, its parse cache or its ledger builds about a million objects
that live until the command ends, none of them in a reference cycle. Python's collector
is triggered by the number of objects allocated, so while they are built it walks the
growing heap again and again: a third of a cold ``syncd plan`` on a 10k site, and a cost
per post that grows with the site (``BENCHMARKS.md``, figures 1, 8 and 9). Those batches
run with the collector paused; it resumes after them, and collects as usual whatever
cycles the rest of the program makes. A long-lived process calls :func:`settle` after its
full reads, so that cycles frozen with a batch are collected then.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside (reference counting still frees what is dropped); what
    was built is then frozen (moved out of the collector's sight, not kept alive: it is
    freed as usual once unreferenced), since the first collection after the pause would
    otherwise walk all of it at once (70 ms after a plan of a 10k site)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def batch(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with the collector paused: it builds many long-lived objects."""

    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return function(*args, **kwargs)

    return paused


def settle() -> None:
    """For a long-lived process after a full read of the site: what is alive now is the
    site's posts and the ledger, kept until the next full read. Freezing them keeps the
    collector from walking those objects again during every later pass (a save's pass on
    a 10k site: 0.48-0.55 s -> 0.35-0.42 s before passes were driven by changed paths).
    Unfrozen and collected first, so what the previous full read held is not kept."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
