"""What one pass costs on the bundled example site: wall time, CPU time and requests.

Runs the real `syncd` command as fresh processes against a local emulator and prints the
figures; nothing is asserted. Usage: python bench/example_pass.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from syncd.demo import example_site, write_demo_config
from syncd.sandbox import Sandbox

TOKEN = "bench-token"


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system of the child) and exit status."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "syncd", *args], env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    env = {**os.environ, "SYNCD_DEMO_TOKEN": TOKEN}
    rows: dict[str, list[tuple[float, float]]] = {
        "python -c pass (floor)": [], "plan --json": [], "--once (first pass)": [],
        "--once (nothing to do)": [],
    }
    for _ in range(repeat):
        server = Sandbox(host="127.0.0.1", port=0, tokens=[TOKEN])
        server.start()
        folder = Path(tempfile.mkdtemp(prefix="syncd-bench-"))
        try:
            shutil.copytree(example_site(), folder / "site")
            config = str(write_demo_config(folder, server.api_url))
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            rows["python -c pass (floor)"].append((time.perf_counter() - start, 0.0))
            for label, args in (("plan --json", ["plan", "--json", "--config", config]),
                                ("--once (first pass)", ["--once", "-q", "--config", config]),
                                ("--once (nothing to do)", ["--once", "-q", "--config", config])):
                wall, cpu, status = run(args, env)
                if status != 0:
                    raise SystemExit(f"{label}: exit {status}")
                rows[label].append((wall, cpu))
            created = len(server.posts())
        finally:
            server.stop()
            shutil.rmtree(folder, ignore_errors=True)
    print(f"example site, {created} posts created per first pass, {repeat} runs, median:")
    for label, samples in rows.items():
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        print(f"  {label:<26} wall {wall * 1000:7.1f} ms   cpu {cpu * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
