"""What ``syncd adopt --all`` adds to reading the site, against one json.dump of its records.

In one process: ``syncd.app.adopt`` (the function behind ``syncd adopt --all``) on an empty
ledger, with the site reading and deciding inside it (``syncd.app.decide``) timed on its
own, so that what adopting adds (building the records, fingerprints, the ledger write) is
the adopt's time minus that; then one ``json.dump`` of the very records the adopt wrote,
read back from the ledger. Prints the times as JSON. When ``decide`` is not where adopt
finds it, falls back to a separate ``make_plan`` before the adopt as the reading part.
Usage: python bench/adopt_cost.py CONFIG
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import syncd.app
from syncd.config import load_config


def main() -> None:
    config = load_config(Path(sys.argv[1]))
    if config.sync.ledger.exists():
        raise SystemExit(f"{config.sync.ledger} exists; adopt_cost needs an empty ledger")
    syncd.app.make_plan(config)  # warm: imports, and any cache a reader keeps
    start = time.perf_counter()
    syncd.app.make_plan(config)
    plan_s = time.perf_counter() - start
    deciding: list[float] = []
    decide = getattr(syncd.app, "decide", None)
    if decide is not None:
        def timed_decide(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return decide(*args, **kwargs)
            finally:
                deciding.append(time.perf_counter() - began)

        syncd.app.decide = timed_decide
    start = time.perf_counter()
    entries = syncd.app.adopt(config, [])
    adopt_s = time.perf_counter() - start
    reading_s = sum(deciding) if deciding else plan_s
    stored = json.loads(config.sync.ledger.read_text(encoding="utf-8"))
    records = list(stored["posts"].values())
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        with open(Path(folder) / "records.json", "w", encoding="utf-8") as handle:
            json.dump(records, handle)
        dump_s = time.perf_counter() - start
    print(json.dumps({
        "adopted": len(entries), "records": len(records), "plan_s": plan_s,
        "adopt_s": adopt_s, "reading_s": reading_s, "added_s": adopt_s - reading_s,
        "reading_timed_inside_adopt": bool(deciding), "dump_s": dump_s,
    }))


if __name__ == "__main__":
    main()
