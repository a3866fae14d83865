"""Fuzz Medium's answers for as long as asked: ``python bench/fuzz_api.py --seconds 300``.

Drives syncd's real client through the emulator with random statuses, headers and bodies
(see ``tests/apifuzz.py`` for the cases and the oracle) and prints how many cases were tried,
what they ended as, and each class of finding with one example. Exit status 1 when anything
was found.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import apifuzz  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="first seed (default 1)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to run")
    parser.add_argument("--batch", type=int, default=500, help="cases per seed")
    args = parser.parse_args()
    started = time.monotonic()
    cases, seeds, slowest = 0, 0, 0.0
    outcomes: Counter[str] = Counter()
    findings: Counter[str] = Counter()
    examples: dict[str, object] = {}
    seed = args.seed
    while time.monotonic() - started < args.seconds:
        summary = apifuzz.run(seed, args.batch)
        cases += summary.cases
        seeds += 1
        slowest = max(slowest, summary.slowest_s)
        outcomes.update(summary.outcomes)
        findings.update(summary.findings)
        for kind, example in summary.examples.items():
            examples.setdefault(kind, {"seed": seed, **example})
        seed += 1
    elapsed = time.monotonic() - started
    print(f"{cases} cases in {elapsed:.0f} s (seeds {args.seed}..{seed - 1}, "
          f"{args.batch} each); slowest call {slowest:.2f} s")
    print("outcomes:")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome}: {count}")
    if not findings:
        print("findings: none")
        return 0
    print(f"findings: {len(findings)} classes")
    for kind, count in findings.most_common():
        print(f"  {kind}: {count}")
        print("    e.g. " + json.dumps(examples[kind], default=str)[:600])
    return 1


if __name__ == "__main__":
    sys.exit(main())
