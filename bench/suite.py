"""syncd's benchmark suite: nine figures, each a ratio to a reference measured in the same run.

Absolute times drift on a shared machine, so every figure is divided by a reference taken
in the same run, on the same files, interleaved with it where both are short:

1. cold plan: ``syncd plan --json`` (fresh process, Jekyll 10k) / the floor;
2. nothing to do: ``syncd --once`` (fresh process, every post in the ledger) / the floor;
3. against the generator: cold plan on Jekyll 1k / ``jekyll build`` of the same site;
4. incremental: the service's work from noticing a change to the create arriving / cold plan;
5. latency: save-to-POST p50 and p95 over 20 saves / the configured debounce;
6. idle: the service's CPU over 60 idle seconds, and its peak RSS, on the 10k site;
7. render: posts per second through syncd's renderer / through plain ``mistune.html``;
8. scaling: per-post cost of the cold plan at 10k / at 1k;
9. adopt: what ``syncd adopt --all`` adds to reading the site / one ``json.dump`` of its records.

The floor (``bench/floor.py``) is a fresh Python process that reads every post and parses its
front matter with python-frontmatter, and nothing else. Sites come from ``bench/sitegen.py``
(cached under ``bench/sites/``). Figures go to ``bench/results.json`` and to the table in
``BENCHMARKS.md``; see that file for how each one is measured and why.
Usage: bench/run [--quick] [--only GROUP ...] [--syncd SOURCE_TREE] [--out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sitegen

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SITES = BENCH / "sites"
TOKEN = "bench-token"
SEED = 1
GROUPS = ("plan", "adopt", "jekyll", "render", "service", "gatsby")
TABLE_BEGIN = "<!-- bench/run results: begin (generated, do not edit by hand) -->"
TABLE_END = "<!-- bench/run results: end -->"
JEKYLL_INSTALL = ("sudo apt-get install jekyll   (Debian/Ubuntu), or: gem install jekyll "
                  "(Ruby ≥ 2.7); or set JEKYLL=/path/to/jekyll")


# Results -----------------------------------------------------------------------------------

@dataclass
class Figure:
    """One line of the table: a measurement, its reference, the ratio and the verdict."""

    number: str
    name: str
    site: str
    measured: float | None = None
    measured_what: str = ""
    reference: float | None = None
    reference_what: str = ""
    ratio: float | None = None
    target: str = ""
    status: str = "NOT MEASURED"
    unit: str = "s"
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def judge(self, ok: bool) -> None:
        self.status = "PASS" if ok else "MISS"

    def skip(self, why: str) -> None:
        self.status = "NOT MEASURED"
        self.note = why

    def ratio_text(self) -> str:
        if self.ratio is None:
            return "-"
        if self.unit == "%":
            return f"{self.ratio * 100:.3f}% of a core"
        if self.target.endswith("%"):
            return f"{self.ratio * 100:.1f}%"
        return f"{self.ratio:.3g}×"

    def line(self) -> str:
        if self.status == "NOT MEASURED":
            return f"  {self.number:<3} {self.name:<34} NOT MEASURED: {self.note}"
        ratio = self.ratio_text()
        return (f"  {self.number:<3} {self.name:<34} {_show(self.measured, self.unit):>10} vs "
                f"{_show(self.reference, self.unit):>10} = {ratio:>8}  (target {self.target})"
                f"  {self.status}")


def _show(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        if value < 0.01:
            return f"{value * 1e6:.0f} µs"
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    if unit == "posts/s":
        return f"{value:.0f}/s"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "%":
        return f"{value:.3f}%"
    return f"{value:.3g} {unit}"


class Run:
    """Shared state of one suite run: options, environment, figures, work folder."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.figures: dict[str, Figure] = {}
        self.notes: list[str] = []
        self.facts: dict[str, Any] = {}
        self.work = Path(tempfile.mkdtemp(prefix="syncd-bench-"))
        global CHILD_CWD
        CHILD_CWD = self.work
        self.env = dict(os.environ)
        self.env.pop("SYNCD_CONFIG", None)
        self.env["MEDIUM_TOKEN"] = TOKEN
        if args.syncd:
            self.env["PYTHONPATH"] = os.pathsep.join(
                [str(Path(args.syncd).resolve()), self.env.get("PYTHONPATH", "")]).rstrip(":")
        self.repeat = 3 if args.quick else args.repeat

    def figure(self, number: str, name: str, site: str) -> Figure:
        figure = Figure(number, name, site)
        self.figures[number] = figure
        return figure

    def say(self, text: str) -> None:
        print(text, flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.say(f"  note: {text}")


# Processes ---------------------------------------------------------------------------------

@dataclass
class Timed:
    wall: float
    cpu: float
    max_rss_mb: float
    status: int
    stdout: str = ""
    stderr: str = ""


# Children run in the work folder: with the repository as their current folder, Python would
# import syncd from ./syncd before anything on PYTHONPATH (and --syncd would not work).
CHILD_CWD = Path(tempfile.gettempdir())


def timed(argv: list[str], env: dict[str, str], cwd: Path | None = None,
          keep_stdout: bool = False) -> Timed:
    """Run one fresh process; its wall time, CPU time and peak RSS (from wait4)."""
    cwd = cwd or CHILD_CWD
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Timed(wall=wall, cpu=usage.ru_utime + usage.ru_stime,
                     max_rss_mb=usage.ru_maxrss / 1024, status=proc.returncode,
                     stdout=out.read().decode("utf-8", "replace") if keep_stdout else "",
                     stderr=err.read().decode("utf-8", "replace")[-4000:])


def syncd_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "syncd", *args]


def floor_argv(generator: str, root: Path) -> list[str]:
    return [sys.executable, str(BENCH / "floor.py"), generator, str(root)]


def checked(result: Timed, what: str, ok: tuple[int, ...] = (0,)) -> Timed:
    if result.status not in ok:
        raise BenchError(f"{what}: exit {result.status}\n{result.stderr.strip()}")
    return result


class BenchError(Exception):
    """A step of the suite failed; the figures that depend on it are not measured."""


def median(values: list[float]) -> float:
    return statistics.median(values)


def interleaved(runs: dict[str, Callable[[], Timed]], repeat: int) -> dict[str, list[Timed]]:
    """One unmeasured warm-up of each, then ``repeat`` rounds, each command once per round."""
    for run in runs.values():
        run()
    samples: dict[str, list[Timed]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            samples[name].append(run())
    return samples


# Sites and configs -------------------------------------------------------------------------

FRESH_FILES_S = 2.5


def site(generator: str, count: int, run: Run) -> Path:
    """The generated site, from the cache under bench/sites/ when it is complete there."""
    root = SITES / f"{generator}-{count}-s{SEED}-v{sitegen.GENERATOR_VERSION}"
    marker = root / ".bench-complete"
    for stale in SITES.glob(f"{generator}-{count}-s{SEED}-v*"):
        if stale != root:
            shutil.rmtree(stale, ignore_errors=True)
    if not marker.exists():
        start = time.perf_counter()
        sitegen.make_site(generator, root, count, SEED)
        marker.write_text("generated by bench/sitegen.py\n")
        run.say(f"  generated {root.relative_to(REPO)} ({count} posts) in "
                f"{time.perf_counter() - start:.1f} s")
        # A blog's files are not seconds old, and syncd's parse cache keeps no read of a
        # file changed in the last 2 s (parsecache.SETTLE_S): measured at once, a freshly
        # generated site would be measured without the cache its adopt leaves.
        time.sleep(FRESH_FILES_S)
    for stale in (root / ".jekyll-cache", root / "_site"):
        shutil.rmtree(stale, ignore_errors=True)
    return root


def write_config(folder: Path, generator: str, root: Path, api_url: str = "http://127.0.0.1:9/v1",
                 debounce_s: float = 1.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "syncd.toml"
    config.write_text(
        f'[site]\ngenerator = "{generator}"\nroot = "{root}"\n\n'
        f'[medium]\napi_url = "{api_url}"\n\n'
        '[sync]\nledger = "ledger.json"\nfirst_run_limit = 100000\n\n'
        f"[watch]\ndebounce_s = {debounce_s}\n",
        encoding="utf-8",
    )
    return config


def fresh_ledger(config: Path) -> None:
    for path in config.parent.glob("ledger.json*"):
        path.unlink()


def adopted_ledger(run: Run, generator: str, count: int) -> Path:
    """A config whose ledger holds every post of the site (``syncd adopt --all``)."""
    folder = run.work / f"{generator}-{count}"
    config = folder / "syncd.toml"
    if not (folder / "ledger.json").exists():
        config = write_config(folder, generator, site(generator, count, run))
        checked(timed(syncd_argv("adopt", "--all", "-q", "--config", str(config)), run.env),
                f"syncd adopt --all on {generator}-{count}")
    return config


def plan_items(run: Run, config: Path) -> list[dict[str, Any]]:
    result = checked(timed(syncd_argv("plan", "--json", "--config", str(config)), run.env,
                           keep_stdout=True), "syncd plan --json")
    return json.loads(result.stdout)


def check_counts(run: Run, generator: str, root: Path, items: list[dict[str, Any]]) -> None:
    """Say when syncd's plan does not list every post file the generator publishes from."""
    expected = {p.relative_to(root).as_posix() for p in sitegen.post_files(generator, root)}
    seen = {item["source"] for item in items}
    missing = sorted(expected - seen)
    run.facts[f"{root.name}: post files"] = len(expected)
    run.facts[f"{root.name}: post files in syncd's plan"] = len(expected & seen)
    if missing:
        folders = sorted({m.rsplit("/", 1)[0] for m in missing})[:4]
        run.note(f"{root.name}: syncd's plan lists {len(expected & seen)} of {len(expected)} "
                 f"post files; missing e.g. {missing[0]} (folders: {', '.join(folders)})")


# The groups --------------------------------------------------------------------------------

def group_plan(run: Run, generator: str = "jekyll", prefix: str = "") -> None:
    """Figures 1, 2 and 8: cold plan and nothing-to-do against the floor; scaling."""
    name = generator.capitalize()
    one = run.figure(f"1{prefix}", f"Cold plan, {name} 10k", f"{generator}-10000")
    two = run.figure(f"2{prefix}", f"Nothing to do, {name} 10k", f"{generator}-10000")
    eight = run.figure(f"8{prefix}", f"Scaling, {name} 10k vs 1k", f"{generator}-10000")
    big = site(generator, 10000, run)
    config = adopted_ledger(run, generator, 10000)
    check_counts(run, generator, big, plan_items(run, config))
    runs = {
        "floor": lambda: checked(timed(floor_argv(generator, big), run.env), "floor"),
        "plan": lambda: checked(timed(syncd_argv("plan", "--json", "--config", str(config)),
                                      run.env), "syncd plan --json"),
    }
    if not prefix:
        runs["once"] = lambda: checked(
            timed(syncd_argv("--once", "-q", "--config", str(config)), run.env),
            "syncd --once")
    run.say(f"  {generator}-10000: floor, plan --json{', --once' if not prefix else ''}, "
            f"{run.repeat} rounds")
    samples = interleaved(runs, run.repeat)
    floor = median([s.wall for s in samples["floor"]])
    plan = median([s.wall for s in samples["plan"]])
    run.facts[f"cold plan {generator} 10k"] = plan
    one.measured, one.measured_what = plan, "syncd plan --json, fresh process"
    one.reference, one.reference_what = floor, "floor: fresh process, python-frontmatter"
    one.ratio, one.target = plan / floor, "≤ 1.3×"
    one.judge(one.ratio <= 1.3)
    one.details = {"plan_s": [s.wall for s in samples["plan"]],
                   "floor_s": [s.wall for s in samples["floor"]],
                   "plan_max_rss_mb": max(s.max_rss_mb for s in samples["plan"]),
                   "floor_max_rss_mb": max(s.max_rss_mb for s in samples["floor"])}
    if "once" in samples:
        once = median([s.wall for s in samples["once"]])
        two.measured, two.measured_what = once, "syncd --once, every post in the ledger"
        two.reference, two.reference_what = floor, one.reference_what
        two.ratio, two.target = once / floor, "≤ 1.3×"
        two.judge(two.ratio <= 1.3)
        two.details = {"once_s": [s.wall for s in samples["once"]],
                       "once_max_rss_mb": max(s.max_rss_mb for s in samples["once"])}
    else:
        del run.figures[two.number]
    run.say(one.line())
    if two.number in run.figures:
        run.say(two.line())
    # Scaling: the marginal cost per post, (T(n) - T(100)) / (n - 100), so that the fixed
    # start-up cost does not flatter the big site. The three sizes are timed in the same
    # rounds: the ratio of two differences drifts with the machine's load otherwise.
    sizes = {n: adopted_ledger(run, generator, n) for n in (100, 1000)}
    sizes[10000] = config
    scale = interleaved({str(n): (lambda c=c: checked(
        timed(syncd_argv("plan", "--json", "--config", str(c)), run.env), "syncd plan"))
        for n, c in sizes.items()}, 2 * run.repeat)
    t100 = median([s.wall for s in scale["100"]])
    t1k = median([s.wall for s in scale["1000"]])
    t10k = median([s.wall for s in scale["10000"]])
    run.facts[f"cold plan {generator} 1k"] = t1k
    per_1k = (t1k - t100) / 900
    per_10k = (t10k - t100) / 9900
    eight.measured, eight.measured_what = per_10k, "per post at 10k: (T10k − T100) / 9,900"
    eight.reference, eight.reference_what = per_1k, "per post at 1k: (T1k − T100) / 900"
    eight.ratio, eight.target = per_10k / per_1k, "≤ 1.2×"
    eight.judge(eight.ratio <= 1.2)
    eight.details = {"plan_100_s": [s.wall for s in scale["100"]],
                     "plan_1k_s": [s.wall for s in scale["1000"]],
                     "plan_10k_s": [s.wall for s in scale["10000"]],
                     "plain_per_post_ratio": (t10k / 10000) / (t1k / 1000)}
    eight.note = (f"plain T/n ratio {eight.details['plain_per_post_ratio']:.2f}×; "
                  f"T100 {t100 * 1000:.0f} ms, T1k {t1k * 1000:.0f} ms")
    run.say(eight.line())


def group_adopt(run: Run) -> None:
    """Figure 9: what adopt adds to reading the site, against one json.dump of its records."""
    nine = run.figure("9", "Adopt, Jekyll 10k", "jekyll-10000")
    root = site("jekyll", 10000, run)
    config = write_config(run.work / "adopt", "jekyll", root)
    walls = []
    for _ in range(2 if run.args.quick else 3):
        fresh_ledger(config)
        walls.append(checked(timed(syncd_argv("adopt", "--all", "-q", "--config", str(config)),
                                   run.env), "syncd adopt --all").wall)
    rounds = []
    for _ in range(2 if run.args.quick else 3):
        fresh_ledger(config)
        result = checked(timed([sys.executable, str(BENCH / "adopt_cost.py"), str(config)],
                               run.env, keep_stdout=True), "bench/adopt_cost.py")
        rounds.append(json.loads(result.stdout))
    added = median([r["added_s"] for r in rounds])
    dump = median([r["dump_s"] for r in rounds])
    inside = all(r["reading_timed_inside_adopt"] for r in rounds)
    nine.measured = added
    nine.measured_what = ("adopt − its own site reading" if inside
                          else "adopt − a plan, same process")
    nine.reference, nine.reference_what = dump, "one json.dump of the same records"
    nine.ratio, nine.target = added / dump, "≤ 3×"
    nine.judge(nine.ratio <= 3)
    nine.details = {"rounds": rounds, "command_wall_s": walls,
                    "records": rounds[0]["records"]}
    nine.note = (f"the whole command, fresh process: {median(walls):.2f} s for "
                 f"{rounds[0]['records']} records ({median(walls) / dump:.0f}× the json.dump)")
    run.say(nine.line())


def group_jekyll(run: Run) -> None:
    """Figure 3: the cold plan on Jekyll 1k against ``jekyll build`` of the same site."""
    three = run.figure("3", "Cold plan vs jekyll build, 1k", "jekyll-1000")
    three.target = "≤ 5%"
    jekyll = os.environ.get("JEKYLL") or shutil.which("jekyll")
    if not jekyll:
        three.skip(f"jekyll is not installed here; to measure it: {JEKYLL_INSTALL}")
        run.say(three.line())
        return
    version = subprocess.run([jekyll, "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    run.facts["jekyll"] = version
    root = site("jekyll", 1000, run)
    config = adopted_ledger(run, "jekyll", 1000)
    destination = run.work / "jekyll-site"

    def build() -> Timed:
        shutil.rmtree(root / ".jekyll-cache", ignore_errors=True)
        shutil.rmtree(destination, ignore_errors=True)
        return checked(timed([jekyll, "build", "--source", str(root), "--destination",
                              str(destination)], run.env, cwd=root), "jekyll build")

    runs = {"jekyll": build,
            "plan": lambda: checked(timed(syncd_argv("plan", "--json", "--config", str(config)),
                                          run.env), "syncd plan --json")}
    run.say(f"  jekyll-1000: {version}, jekyll build and plan --json, "
            f"{min(run.repeat, 3)} rounds")
    samples = interleaved(runs, min(run.repeat, 3))
    built = median([s.wall for s in samples["jekyll"]])
    plan = median([s.wall for s in samples["plan"]])
    three.measured, three.measured_what = plan, "syncd plan --json, fresh process"
    three.reference, three.reference_what = built, f"{version} build (no cache)"
    three.ratio = plan / built
    three.judge(three.ratio <= 0.05)
    three.details = {"jekyll_s": [s.wall for s in samples["jekyll"]],
                     "plan_s": [s.wall for s in samples["plan"]]}
    three.note = f"{three.ratio * 100:.1f}% of the build"
    run.say(three.line())
    check_urls(run, config, destination)
    shutil.rmtree(root / ".jekyll-cache", ignore_errors=True)


def check_urls(run: Run, config: Path, destination: Path) -> None:
    """Every canonical URL syncd computed must be a page jekyll wrote (a sanity check)."""
    from urllib.parse import unquote, urlsplit

    published = 0
    absent = []
    for item in plan_items(run, config):
        if not item["canonical_url"] or item["reason"] in ("draft", "unpublished", "future"):
            continue
        published += 1
        path = unquote(urlsplit(item["canonical_url"]).path)
        page = destination / path.lstrip("/")
        if path.endswith("/"):
            page = page / "index.html"
        if not page.is_file():
            absent.append(item["canonical_url"])
    run.facts["jekyll-1000: canonical URLs checked against jekyll's output"] = published
    if absent:
        run.note(f"{len(absent)} of {published} canonical URLs are not pages jekyll wrote, "
                 f"e.g. {absent[0]}")
    else:
        run.say(f"  check: all {published} canonical URLs syncd computed are pages jekyll wrote")


def group_render(run: Run) -> None:
    """Figure 7: posts per second through syncd's renderer against plain mistune.html."""
    seven = run.figure("7", "Render, Jekyll 1k", "jekyll-1000")
    root = site("jekyll", 1000, run)
    result = checked(timed([sys.executable, str(BENCH / "render_speed.py"), "jekyll", str(root),
                            "2" if run.args.quick else "3"], run.env, keep_stdout=True),
                     "bench/render_speed.py")
    data = json.loads(result.stdout)
    seven.unit = "posts/s"
    seven.measured, seven.measured_what = data["syncd_posts_per_s"], "syncd.render.render_post"
    seven.reference, seven.reference_what = data["mistune_posts_per_s"], "mistune.html"
    seven.ratio, seven.target = seven.measured / seven.reference, "≥ 0.5×"
    seven.judge(seven.ratio >= 0.5)
    seven.details = data
    seven.note = (f"{data['posts']} of {data['site_posts']} posts, {data['bytes'] / 1e6:.1f} MB "
                  f"of Markdown; {data['called_as']}")
    if data.get("context_build_s") is not None:
        seven.note += f" (context built in {data['context_build_s'] * 1000:.0f} ms)"
    run.say(seven.line())


# The service -------------------------------------------------------------------------------

class NotifyListener:
    """An sd_notify socket: records (time, message) for every datagram the service sends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.messages.append((time.time(), data.decode("utf-8", "replace")))

    def after(self, moment: float) -> list[tuple[float, str]]:
        with self._lock:
            return [m for m in self.messages if m[0] > moment]

    def wait_for(self, predicate: Callable[[str], bool], after: float, timeout: float,
                 proc: subprocess.Popen[bytes]) -> tuple[float, str] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            for moment, text in self.after(after):
                if predicate(text):
                    return moment, text
            time.sleep(0.01)
        return None

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        self.sock.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def saved_post(index: int) -> tuple[str, str]:
    """A new post as an author saves it: its file name and its text (about 4 KB)."""
    rng = random.Random(f"save-{index}")
    day = dt.date(2025, 6, 1) + dt.timedelta(days=index)
    title = f"Benchmark save {index}: " + " ".join(rng.sample(sitegen.TITLE_WORDS, 3))
    body = sitegen.Body(rng).build(4000, [sitegen.Body(rng).code()])
    text = f"---\nlayout: post\ntitle: \"{title}\"\ntags: [bench, save]\n---\n\n{body}"
    return f"{day:%Y-%m-%d}-benchmark-save-{index}.md", text


def group_service(run: Run) -> None:
    """Figures 4, 5 and 6: the real service on the 10k site against the emulator."""
    from syncd.sandbox import Sandbox

    four = run.figure("4", "Incremental, Jekyll 10k", "jekyll-10000")
    five = run.figure("5", "Latency save→POST, Jekyll 10k", "jekyll-10000")
    six = run.figure("6a", "Idle CPU, Jekyll 10k", "jekyll-10000")
    rss = run.figure("6b", "Peak RSS, Jekyll 10k", "jekyll-10000")
    saves, idle_s, debounce = run.args.saves, run.args.idle, run.args.debounce
    if run.args.quick:
        saves, idle_s = min(saves, 5), min(idle_s, 10.0)
    source_config = adopted_ledger(run, "jekyll", 10000)
    folder = run.work / "service"
    site_copy = folder / "site"
    # A copy made of hard links: new posts land in the copy only, the cached site stays as is.
    shutil.copytree(site("jekyll", 10000, run), site_copy, copy_function=os.link)
    server = Sandbox(host="127.0.0.1", port=0, tokens=[TOKEN], daily_limit=0)
    server.start()
    config = write_config(folder, "jekyll", site_copy, server.api_url, debounce)
    shutil.copy2(source_config.parent / "ledger.json", folder / "ledger.json")
    listener = NotifyListener(folder / "notify.sock")
    env = {**run.env, "NOTIFY_SOCKET": str(folder / "notify.sock")}
    started = time.time()
    proc = subprocess.Popen(syncd_argv("-q", "--config", str(config)), env=env,
                            cwd=run.work, stderr=subprocess.PIPE)
    try:
        ready = listener.wait_for(lambda m: "READY=1" in m, 0, 300, proc)
        if ready is None:
            raise BenchError(f"the service never said READY=1 (exit {proc.poll()})")
        run.say(f"  service ready after {ready[0] - started:.1f} s (catch-up pass on 10k); "
                f"{saves} saves, debounce {debounce:g} s")
        time.sleep(debounce * 2)
        posts_dir = site_copy / "_posts" / "2025"
        latencies, works, noticed, cpu_per_save = [], [], [], []
        for index in range(saves):
            before = len(server.posts())
            name, text = saved_post(index)
            temp = posts_dir / f".{name}.swp"
            temp.write_text(text, encoding="utf-8")
            cpu_before = cpu_seconds(proc.pid)
            saved = time.time()
            os.replace(temp, posts_dir / name)
            deadline = time.monotonic() + 120
            while len(server.posts()) == before:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise BenchError(f"save {index}: no post reached the emulator")
                time.sleep(0.02)
            received = dt.datetime.fromisoformat(server.posts()[-1]["received_at"]).timestamp()
            status = [m for m in listener.after(saved) if "STATUS=" in m[1]]
            started_pass = status[0][0] if status and status[0][0] <= received + 0.002 else None
            end = listener.wait_for(lambda m: "STATUS=" in m, received, 60, proc)
            cpu_per_save.append(cpu_seconds(proc.pid) - cpu_before)
            latencies.append(received - saved)
            if started_pass is None:
                started_pass = saved + debounce
            noticed.append(started_pass - saved)
            works.append(received - started_pass)
            if end is None:
                raise BenchError(f"save {index}: the pass never ended")
            time.sleep(0.2)
        time.sleep(debounce * 2)
        cpu_before = cpu_seconds(proc.pid)
        idle_from = time.time()
        time.sleep(idle_s)
        idle_cpu = cpu_seconds(proc.pid) - cpu_before
        idle_passes = sum("STATUS=checking" in m for _, m in listener.after(idle_from))
        peak = proc_status_mb(proc.pid, "VmHWM")
        resident = proc_status_mb(proc.pid, "VmRSS")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, stderr = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
        listener.close()
        server.stop()
    log = stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        run.note(f"the service exited {proc.returncode} on SIGTERM: {log[-300:]}")
    passes = sum("STATUS=checking" in m for _, m in listener.messages)
    overflows = log.count("dropped file events")
    run.facts["service: passes (catch-up, saves, rescans)"] = passes
    run.facts["service: passes while idle"] = idle_passes
    run.facts["service: inotify overflow rescans"] = overflows
    if passes > saves + 1 or overflows:
        run.note(f"the service ran {passes} passes for {saves} saves (+1 catch-up), "
                 f"{idle_passes} while idle; {overflows} were rescans after the kernel "
                 "dropped file events (inotify queue overflow)")
    ordered = sorted(latencies)
    p50 = median(latencies)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    cold = run.facts.get("cold plan jekyll 10k")
    work = median(works)
    four.measured, four.measured_what = work, "service: pass start → create received"
    four.target = "≤ 2%"
    four.details = {"work_s": works, "noticed_after_s": noticed, "cpu_per_save_s": cpu_per_save}
    four.note = (f"daemon CPU per save {median(cpu_per_save) * 1000:.0f} ms; pass started "
                 f"{median(noticed) * 1000:.0f} ms after the save (debounce "
                 f"{debounce * 1000:.0f} ms)")
    if cold:
        four.reference, four.reference_what = cold, "cold plan (figure 1)"
        four.ratio = work / cold
        four.judge(four.ratio <= 0.02)
    else:
        four.status = "NOT MEASURED"
        four.note = "the cold plan (group plan) was not run: no reference. " + four.note
    five.measured, five.measured_what = p95, "p95 of save → create received"
    five.reference, five.reference_what = debounce, "the configured debounce"
    five.ratio, five.target = p95 / debounce, f"p95 ≤ debounce + 200 ms ({debounce + 0.2:g} s)"
    five.judge(p95 <= debounce + 0.2)
    five.details = {"latency_s": latencies, "p50_s": p50, "p95_s": p95, "max_s": ordered[-1]}
    five.note = f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    six.unit = "%"
    six.measured, six.measured_what = idle_cpu / idle_s * 100, "CPU over the idle window"
    six.reference, six.reference_what = 100.0, "one core"
    six.ratio, six.target = idle_cpu / idle_s, "≤ 0.5% of a core"
    six.judge(six.ratio <= 0.005)
    six.details = {"idle_s": idle_s, "idle_cpu_s": idle_cpu}
    six.note = f"{idle_cpu:.3f} s CPU in {idle_s:g} s"
    rss.unit = "MB"
    rss.measured, rss.measured_what = peak, "VmHWM of the service"
    rss.reference, rss.reference_what = 80.0, "the 80 MB budget"
    rss.ratio, rss.target = peak / 80.0, "≤ 80 MB"
    rss.judge(peak <= 80)
    rss.details = {"vm_hwm_mb": peak, "vm_rss_mb_at_end": resident}
    rss.note = f"{resident:.0f} MB resident at the end"
    for figure in (four, five, six, rss):
        run.say(figure.line())


# Gatsby ------------------------------------------------------------------------------------

def gatsby_reader_state(run: Run) -> str | None:
    """None when syncd reads Gatsby sites; else why not, in syncd's own words."""
    config = write_config(run.work / "gatsby-probe", "gatsby", site("gatsby", 100, run))
    result = timed(syncd_argv("plan", "--json", "--config", str(config)), run.env,
                   keep_stdout=True)
    if result.status == 0:
        return None
    last = result.stderr.strip().splitlines()[-1:] or [f"exit {result.status}"]
    return last[0]


def group_gatsby(run: Run) -> None:
    """Figures 1 and 8 again on a Gatsby site, once syncd has a Gatsby reader."""
    for count in (100, 1000, 10000):
        site("gatsby", count, run)
    why = gatsby_reader_state(run)
    if why is not None:
        for number, name in (("1g", "Cold plan, Gatsby 10k"), ("8g", "Scaling, Gatsby 10k vs 1k")):
            figure = run.figure(number, name, "gatsby-10000")
            figure.skip(f"syncd cannot read Gatsby sites yet ({why})")
            run.say(figure.line())
        return
    group_plan(run, "gatsby", prefix="g")


# Output ------------------------------------------------------------------------------------

def environment(run: Run) -> dict[str, Any]:
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "syncd")
    import yaml

    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {cpu}".strip(", "),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "syncd": f"{version('syncd')} at {commit or '?'}{' + local changes' if dirty else ''}"
                 + (f" (source: {run.args.syncd})" if run.args.syncd else ""),
        "packages": {name: version(name) for name in
                     ("python-frontmatter", "PyYAML", "mistune", "tinydb", "watchdog", "click")},
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
        "jekyll": run.facts.get("jekyll", "not measured"),
    }


def _order(figure: Figure) -> tuple[int, str]:
    digits = re.match(r"\d+", figure.number)
    return (int(digits.group(0)) if digits else 99, figure.number)


def _git(*args: str) -> str:
    """A read-only git query about the repository; empty when git or the history is absent."""
    try:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                              check=False).stdout.strip()
    except OSError:
        return ""


def write_results(run: Run, started: dt.datetime, elapsed: float, path: Path) -> dict[str, Any]:
    data = {
        "date": started.isoformat(timespec="seconds"),
        "total_s": round(elapsed, 1),
        "quick": run.args.quick,
        "groups": run.args.only or list(GROUPS),
        "environment": environment(run),
        "figures": [asdict(f) for f in sorted(run.figures.values(), key=_order)],
        "facts": run.facts,
        "notes": run.notes,
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return data


def markdown_table(data: dict[str, Any]) -> str:
    env = data["environment"]
    lines = [
        TABLE_BEGIN,
        f"Run of {data['date']} in {data['total_s']:.0f} s: {env['machine']}; {env['os']}; "
        f"Python {env['python']}; syncd {env['syncd']}; "
        + ", ".join(f"{k} {v}" for k, v in env["packages"].items())
        + f" (libyaml {'yes' if env['libyaml'] else 'no'}); {env['jekyll']}.",
        "",
        "| # | figure | measured | reference | ratio | target | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in data["figures"]:
        figure = Figure(**f)
        if f["status"] == "NOT MEASURED":
            lines.append(f"| {f['number']} | {f['name']} | – | – | – | {f['target'] or '–'} | "
                         f"not measured: {f['note']} |")
            continue
        ratio = figure.ratio_text()
        measured = f"{_show(f['measured'], f['unit'])} ({f['measured_what']})"
        reference = f"{_show(f['reference'], f['unit'])} ({f['reference_what']})"
        note = f"<br>{f['note']}" if f["note"] else ""
        lines.append(f"| {f['number']} | {f['name']} | {measured} | {reference} | {ratio} | "
                     f"{f['target']} | **{f['status']}**{note} |")
    if data["notes"]:
        lines += ["", "Notes from this run:", ""] + [f"- {n}" for n in data["notes"]]
    verdicts = []
    for f in data["figures"]:
        figure = Figure(**f)
        if figure.status == "NOT MEASURED":
            verdicts.append(f"{figure.number} {figure.name}: not measured")
        else:
            verdicts.append(f"{figure.number} {figure.name}: {figure.ratio_text()} "
                            f"(target {figure.target}) {figure.status}")
    lines += ["", "The ratios of this run: " + "; ".join(verdicts) + "."]
    lines.append(TABLE_END)
    return "\n".join(lines)


def update_benchmarks_md(data: dict[str, Any]) -> None:
    path = REPO / "BENCHMARKS.md"
    table = markdown_table(data)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    pattern = re.compile(re.escape(TABLE_BEGIN) + r".*?" + re.escape(TABLE_END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: table, text)
    else:
        text = text.rstrip("\n") + "\n\n" + table + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds, 5 saves, 10 idle seconds (a smoke run; figures are "
                        "rough and BENCHMARKS.md is left alone)")
    parser.add_argument("--only", nargs="+", choices=GROUPS, metavar="GROUP",
                        help=f"run only these groups: {', '.join(GROUPS)}")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of the short commands")
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--debounce", type=float, default=1.0)
    parser.add_argument("--syncd", metavar="SOURCE_TREE",
                        help="measure the syncd package in this source tree (put first on "
                        "PYTHONPATH) instead of the installed one")
    parser.add_argument("--out", type=Path, help="where the JSON goes (default: "
                        "bench/results.json for a full run, bench/results-partial.json else)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    full = not (args.quick or args.only or args.syncd)
    out = args.out or BENCH / ("results.json" if full else "results-partial.json")
    run = Run(args)
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    run.say(f"syncd benchmarks: {', '.join(args.only or GROUPS)}; work folder {run.work}")
    steps = {"adopt": group_adopt, "plan": group_plan, "jekyll": group_jekyll,
             "render": group_render, "service": group_service, "gatsby": group_gatsby}
    try:
        for name in GROUPS:
            if args.only and name not in args.only:
                continue
            run.say(f"[{name}] {time.perf_counter() - clock:.0f} s")
            try:
                steps[name](run)
            except BenchError as exc:
                run.note(f"group {name} failed: {exc}")
    finally:
        if not args.keep:
            shutil.rmtree(run.work, ignore_errors=True)
    elapsed = time.perf_counter() - clock
    data = write_results(run, started, elapsed, out)
    if full:
        update_benchmarks_md(data)
    run.say(f"\nsyncd benchmarks, {elapsed:.0f} s ({elapsed / 60:.1f} min); "
            f"figures in {out.relative_to(REPO) if out.is_relative_to(REPO) else out}"
            + (" and BENCHMARKS.md" if full else ""))
    for figure in sorted(run.figures.values(), key=_order):
        run.say(figure.line())
    missed = [f.number for f in sorted(run.figures.values(), key=_order) if f.status == "MISS"]
    if missed:
        run.say(f"missed: {', '.join(missed)} (BENCHMARKS.md explains each, with a profile)")


if __name__ == "__main__":
    main()
