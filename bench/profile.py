"""Profiles behind BENCHMARKS.md: where the real commands spend their time and memory.

    python bench/profile.py plan      pyinstrument on `syncd plan --json` (Jekyll 10k, full ledger)
    python bench/profile.py once      pyinstrument on `syncd --once` with nothing to do
    python bench/profile.py adopt     pyinstrument on `syncd adopt --all` (empty ledger)
    python bench/profile.py service   pyinstrument on the service, through 3 saves
    python bench/profile.py memory    tracemalloc: what a plan of the 10k site keeps in memory

pyinstrument is a bench tool, not a syncd dependency: ``pip install pyinstrument`` in the
virtualenv first (``memory`` needs nothing). Sites come from bench/sites/ (``bench/run``
makes them). Add ``--syncd SOURCE_TREE`` to profile another copy of syncd.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import suite


def pyinstrument(args: list[str], env: dict[str, str], out: Path) -> subprocess.Popen[bytes]:
    if shutil.which("pyinstrument", path=str(Path(sys.executable).parent)) is None:
        raise SystemExit("pyinstrument is not installed: pip install pyinstrument")
    argv = [sys.executable, "-m", "pyinstrument", "-r", "text", "-o", str(out), "-m", "syncd",
            *args]
    return subprocess.Popen(argv, env=env, cwd=suite.CHILD_CWD, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("plan", "once", "adopt", "service", "memory"))
    parser.add_argument("--syncd", metavar="SOURCE_TREE")
    parser.add_argument("--out", type=Path, default=Path("profile.txt"))
    args = parser.parse_args()
    run = suite.Run(argparse.Namespace(syncd=args.syncd, quick=True, repeat=1))
    try:
        if args.what == "memory":
            memory(run)
            return
        if args.what == "service":
            service(run, args.out)
        else:
            if args.what == "adopt":
                config = suite.write_config(run.work / "adopt", "jekyll",
                                            suite.site("jekyll", 10000, run))
                argv = ["adopt", "--all", "-q", "--config", str(config)]
            else:
                config = suite.adopted_ledger(run, "jekyll", 10000)
                argv = (["plan", "--json", "--config", str(config)] if args.what == "plan"
                        else ["--once", "-q", "--config", str(config)])
            pyinstrument(argv, run.env, args.out).wait()
        print(f"profile written to {args.out}")
    finally:
        shutil.rmtree(run.work, ignore_errors=True)


def service(run: suite.Run, out: Path) -> None:
    from syncd.sandbox import Sandbox

    source = suite.adopted_ledger(run, "jekyll", 10000)
    folder = run.work / "service"
    shutil.copytree(suite.site("jekyll", 10000, run), folder / "site", copy_function=os.link)
    server = Sandbox(host="127.0.0.1", port=0, tokens=[suite.TOKEN], daily_limit=0)
    server.start()
    config = suite.write_config(folder, "jekyll", folder / "site", server.api_url)
    shutil.copy2(source.parent / "ledger.json", folder / "ledger.json")
    listener = suite.NotifyListener(folder / "notify.sock")
    proc = pyinstrument(["-q", "--config", str(config)],
                        {**run.env, "NOTIFY_SOCKET": str(folder / "notify.sock")}, out)
    try:
        if listener.wait_for(lambda m: "READY=1" in m, 0, 300, proc) is None:
            raise SystemExit("the service never became ready")
        for index in range(3):
            before = len(server.posts())
            name, text = suite.saved_post(index)
            target = folder / "site" / "_posts" / "2025" / name
            temp = target.with_name("." + name + ".swp")
            temp.write_text(text, encoding="utf-8")
            os.replace(temp, target)
            while len(server.posts()) == before and proc.poll() is None:
                time.sleep(0.02)
            time.sleep(3)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        listener.close()
        server.stop()


def memory(run: suite.Run) -> None:
    """The biggest allocation sites still alive after a plan of the 10k site, in this process."""
    import tracemalloc

    if run.args.syncd:
        sys.path.insert(0, str(Path(run.args.syncd).resolve()))
    from syncd.app import make_plan
    from syncd.config import load_config

    config = load_config(suite.adopted_ledger(run, "jekyll", 10000))
    tracemalloc.start(1)
    result = make_plan(config)
    current, peak = tracemalloc.get_traced_memory()
    snapshot = tracemalloc.take_snapshot()
    print(f"plan of {len(result.items)} post files: {current / 2**20:.1f} MiB held after it, "
          f"{peak / 2**20:.1f} MiB at the peak (Python allocations only)")
    for stat in snapshot.statistics("lineno")[:12]:
        frame = stat.traceback[0]
        print(f"  {stat.size / 2**20:7.1f} MiB  {stat.count:8d} blocks  "
              f"{frame.filename.rsplit('site-packages/', 1)[-1]}:{frame.lineno}")


if __name__ == "__main__":
    main()
