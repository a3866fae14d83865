"""The service on the example site: save-to-POST latency, and idle CPU and memory.

Starts a local emulator and `syncd` (the service) on a copy of the example site, saves 20
new posts one by one (each written to a temporary file and renamed, as editors do), and
times each save until the emulator received its create. Then leaves the service idle and
reads its CPU time and peak memory from /proc. Prints figures; asserts nothing.
Usage: python bench/service.py [--saves 20] [--idle 60] [--debounce 1.0]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from syncd.demo import example_site
from syncd.sandbox import Sandbox

TOKEN = "bench-token"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--debounce", type=float, default=1.0)
    args = parser.parse_args()
    server = Sandbox(host="127.0.0.1", port=0, tokens=[TOKEN], daily_limit=0)
    server.start()
    folder = Path(tempfile.mkdtemp(prefix="syncd-bench-service-"))
    shutil.copytree(example_site(), folder / "site")
    config = folder / "syncd.toml"
    config.write_text(
        f'[site]\ngenerator = "jekyll"\nroot = "site"\n[medium]\napi_url = "{server.api_url}"\n'
        f'[sync]\nledger = "ledger.json"\nfirst_run_limit = 100\n'
        f"[watch]\ndebounce_s = {args.debounce}\n"
    )
    env = {**os.environ, "MEDIUM_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "syncd", "-q", "--config", str(config)],
                            env=env)
    try:
        deadline = time.monotonic() + 30
        while len(server.posts()) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(args.debounce * 2)
        latencies = []
        posts = folder / "site" / "_posts"
        for i in range(args.saves):
            before = len(server.posts())
            temp = posts / f".bench-{i}.swp"
            temp.write_text(f"---\ntitle: Bench {i}\n---\nA post saved by the benchmark.\n")
            saved = time.time()
            os.replace(temp, posts / f"2025-01-{i % 28 + 1:02d}-bench-{i}.md")
            while len(server.posts()) == before:
                time.sleep(0.005)
            received = dt.datetime.fromisoformat(server.posts()[-1]["received_at"]).timestamp()
            latencies.append(received - saved)
            time.sleep(args.debounce * 1.5)
        time.sleep(args.debounce * 2)
        cpu_before = cpu_seconds(proc.pid)
        time.sleep(args.idle)
        idle_cpu = cpu_seconds(proc.pid) - cpu_before
        rss = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    latencies.sort()
    p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)]
    print(f"service on the example site, debounce {args.debounce:g} s, {args.saves} saves:")
    print(f"  save-to-POST  p50 {statistics.median(latencies) * 1000:7.0f} ms   "
          f"p95 {p95 * 1000:7.0f} ms   max {latencies[-1] * 1000:7.0f} ms")
    print(f"  idle          {idle_cpu:.3f} s CPU over {args.idle:g} s "
          f"({idle_cpu / args.idle * 100:.3f}% of a core)")
    print(f"  peak RSS      {rss:.1f} MB")


if __name__ == "__main__":
    main()
