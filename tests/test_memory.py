"""The collector pause around large batches: state restored, nothing kept alive, cycles
collected by the next settle."""

from __future__ import annotations

import gc
import weakref

import pytest

from syncd.memory import batch, collector_paused, settle


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_the_collector_is_back_after_a_batch_even_a_failed_or_nested_one() -> None:
    assert gc.isenabled()

    @batch
    def nested() -> bool:
        with collector_paused():
            inner = gc.isenabled()
        return inner or gc.isenabled()

    assert nested() is False
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_what_a_batch_built_is_freed_when_dropped_and_its_cycles_by_settle() -> None:
    with collector_paused():
        plain, looped = Node(), Node()
        looped.other = looped
    plain_ref, looped_ref = weakref.ref(plain), weakref.ref(looped)
    del plain, looped
    assert plain_ref() is None  # reference counting frees it: frozen is not kept
    gc.collect()
    assert looped_ref() is not None  # a frozen cycle waits for the next settle
    settle()
    assert looped_ref() is None
    gc.unfreeze()
