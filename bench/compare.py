"""Before and after: the same command from several syncd source trees, interleaved.

For checking a fix on a shared machine: each round runs the floor once and the command once
per tree, in turn, so load that comes and goes hits them all alike; prints medians and each
one's ratio to the floor. Trees are folders holding a ``syncd`` package (for the current
commit: ``git archive HEAD syncd | tar -x -C /tmp/before``).
Usage: python bench/compare.py plan|once|adopt before=/tmp/before after=/tmp/after [--rounds 7]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

import suite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("plan", "once", "adopt"))
    parser.add_argument("trees", nargs="+", metavar="NAME=SOURCE_TREE")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--posts", type=int, default=10000)
    args = parser.parse_args()
    run = suite.Run(argparse.Namespace(syncd=None, quick=False, repeat=args.rounds))
    try:
        root = suite.site("jekyll", args.posts, run)
        base = suite.adopted_ledger(run, "jekyll", args.posts)
        runs = {"floor": lambda: suite.checked(
            suite.timed(suite.floor_argv("jekyll", root), run.env), "floor")}
        for spec in args.trees:
            name, _, tree = spec.partition("=")
            env = {**run.env, "PYTHONPATH": str(Path(tree).resolve())}
            folder = run.work / f"tree-{name}"
            config = suite.write_config(folder, "jekyll", root)
            if args.command != "adopt":
                shutil.copy2(base.parent / "ledger.json", folder / "ledger.json")
            runs[name] = _runner(args.command, config, env)
        samples = suite.interleaved(runs, args.rounds)
    finally:
        shutil.rmtree(run.work, ignore_errors=True)
    floor = statistics.median(s.wall for s in samples["floor"])
    print(f"{args.command} on jekyll-{args.posts}, {args.rounds} rounds, medians:")
    for name, results in samples.items():
        wall = statistics.median(s.wall for s in results)
        rss = max(s.max_rss_mb for s in results)
        print(f"  {name:<12} {wall * 1000:8.0f} ms  {wall / floor:5.2f}× the floor  "
              f"peak RSS {rss:6.1f} MB")


def _runner(command: str, config: Path, env: dict[str, str]) -> suite.Callable[[], suite.Timed]:
    if command == "plan":
        argv = suite.syncd_argv("plan", "--json", "--config", str(config))
    elif command == "once":
        argv = suite.syncd_argv("--once", "-q", "--config", str(config))
    else:
        argv = suite.syncd_argv("adopt", "--all", "-q", "--config", str(config))

    def go() -> suite.Timed:
        if command == "adopt":
            suite.fresh_ledger(config)
        return suite.checked(suite.timed(argv, env), " ".join(argv[3:5]))

    return go


if __name__ == "__main__":
    sys.exit(main())
