"""What one ledger change costs on a big ledger: a full rewrite (``put``) against a journal
line (``record``), and the compaction that folds the journal back in.

    python bench/ledger_cost.py LEDGER.json [--rounds 20]

LEDGER.json is copied to a temporary folder first (e.g. the ledger ``syncd adopt --all``
leaves for the 10k bench site: ``bench/profile.py`` and ``bench/suite.py`` make one). Each
change is the pass's own: an intent for a new post, then its outcome, after an ``entries()``
as a pass reads the ledger first. Times are medians in milliseconds, in this process (the
ledger's memory of the files warm, as in the service).
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def forget(ledger_module: object) -> None:
    """What the ledger module remembers of the files, gone, as in a fresh process."""
    for memory in ("_PARSED", "_ENTRIES", "_LINES"):
        getattr(ledger_module, memory, {}).clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ledger", type=Path)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--syncd", metavar="SOURCE_TREE")
    args = parser.parse_args()
    if args.syncd:
        sys.path.insert(0, str(Path(args.syncd).resolve()))
    import syncd.ledger as ledger_module
    from syncd.ledger import POSTED, POSTING, Entry, Ledger

    folder = Path(tempfile.mkdtemp(prefix="syncd-ledger-cost-"))
    try:
        path = folder / "ledger.json"
        shutil.copy2(args.ledger, path)
        ledger = Ledger(path)
        size = path.stat().st_size
        count = len(ledger.entries())
        print(f"{path.name}: {count} entries, {size / 1e6:.1f} MB; syncd from "
              f"{Path(ledger_module.__file__).parent}")
        ledger.put(Entry(canonical_url="https://bench.example/warm-up", source="w.md",
                         state=POSTED))  # the once-per-process last good copy
        journal = hasattr(ledger, "record")
        puts, records, reads = [], [], []
        for n in range(args.rounds):
            url = f"https://bench.example/new-{n}.html"
            intent = Entry(canonical_url=url, source=f"_posts/new-{n}.md", state=POSTING)
            posted = Entry(canonical_url=url, source=intent.source, state=POSTED,
                           medium_id=f"id{n}", medium_url=f"https://medium.com/p/{n}")
            reads.append(timed(ledger.entries))
            puts.append(timed(lambda e=intent: ledger.put(e)))
            puts.append(timed(lambda e=posted: ledger.put(e)))
            if journal:
                url = f"https://bench.example/journal-{n}.html"
                intent = Entry(canonical_url=url, source=f"_posts/j-{n}.md", state=POSTING)
                posted = Entry(canonical_url=url, source=intent.source, state=POSTED)
                records.append(timed(lambda e=intent: ledger.record(e)))
                records.append(timed(lambda e=posted: ledger.record(e)))
                ledger.compact()
        print(f"entries() between changes: {statistics.median(reads):.2f} ms")
        print(f"put(), a full rewrite:      {statistics.median(puts):.1f} ms "
              f"(min {min(puts):.1f}, max {max(puts):.1f})")
        if journal:
            print(f"record(), a journal line:   {statistics.median(records):.2f} ms "
                  f"(min {min(records):.2f}, max {max(records):.2f})")
            compactions = []
            for n in range(max(3, args.rounds // 4)):
                for k in range(2):
                    ledger.record(Entry(canonical_url=f"https://bench.example/c-{n}-{k}",
                                        source="c.md", state=POSTED))
                compactions.append(timed(ledger.compact))
            print(f"compact() of 2 lines:       {statistics.median(compactions):.1f} ms "
                  f"(min {min(compactions):.1f}, max {max(compactions):.1f})")
            ledger.record(Entry(canonical_url="https://bench.example/cold", source="c.md",
                                state=POSTED))
        # A fresh process's first open and read (nothing remembered), and what stays alive.
        colds = []
        for _ in range(5):
            forget(ledger_module)
            colds.append(timed(lambda: Ledger(path).entries()))
        forget(ledger_module)
        gc.collect()
        tracemalloc.start()
        Ledger(path).entries()
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"first Ledger(path).entries() in a process: {statistics.median(colds):.0f} ms; "
              f"held after it {held / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB "
              "(tracemalloc)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
