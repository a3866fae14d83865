"""The kill test: ``kill -9`` of a real ``syncd --once`` never posts twice and never loses a post.

Rounds of a fresh 40-post Jekyll site and a fresh emulator (slowed a little, so that kills
land mid-request too). In each round ``syncd --once`` runs as a real process and is killed
with SIGKILL at a random moment: during startup, between posts, while the emulator holds
the request, or after the emulator stored a post and before the ledger recorded it. After
every kill:

- the ledger is absent or valid JSON, and ``syncd status --json`` reads it (exit 0);
- no canonical URL is on the emulator twice;
- every post on the emulator has a ledger entry (``posted`` at that URL, or in doubt).

A round ends when a pass finishes by itself. Then every in-doubt entry is settled as a user
would (``syncd resolve``: ``--medium-url`` if the emulator holds it, else ``--not-posted``)
and ``syncd --once`` runs until it exits 0: every post is then on the emulator exactly once
and recorded as ``posted`` at the emulator's URL, and one more pass creates nothing.

At least ``SYNCD_CRASH_KILLS`` (default and minimum 50) kills land, on passes with work
left. The random draws come from ``SYNCD_CRASH_SEED`` (default: a fresh seed). A failure's
message carries the seed and every kill's timing and outcome, to replay it; a passing run
prints the same with a summary (``pytest -s``): how many kills landed where, how many left
an in-doubt entry, and how many of those had been created on the emulator.

A pass records intents and outcomes as lines appended to the ledger's journal and folds the
journal into the ledger file when it ends; those writes are short, so the second test aims
its kills at them: ``SYNCD_CRASH_JOURNAL_KILLS`` (default and minimum 30) kills of a process
that records and compacts in a loop, inside long appends (cut short) and compactions (while
the new file is written, or after its rename and before the journal's removal), each
followed by the checks a crash must pass: nothing acknowledged lost, nothing half-read.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import TEST_TOKEN
from sitekit import make_site, run_syncd, write_config

import syncd.ledger as ledger_module
from syncd.errors import LedgerError
from syncd.ledger import POSTED, POSTING, Entry, Ledger
from syncd.sandbox import Sandbox

KILLS = max(50, int(os.environ.get("SYNCD_CRASH_KILLS", "50")))
POSTS_PER_SITE = 40
CREATE_DELAY_S = 0.02  # the emulator holds each create this long before storing it
STARTUP_SHARE = 0.2  # share of kills timed from the process start rather than mid-pass
STARTUP_WINDOW_S = 0.6  # about the time from exec to the first create request
PASS_WINDOW_S = 0.25  # kills land up to this long after the pass's first create was stored
QUIET_S = 0.3  # the emulator has finished every request once its posts stop changing this long
PROCESS_TIMEOUT_S = 30

# Where in a pass a kill landed, as the ledger and the emulator tell afterwards.
STARTUP = "before the first intent"
BETWEEN_POSTS = "between posts"
BEFORE_SENT = "after the intent, before the request was sent"
HELD = "while the emulator held the request"
STORED = "after the emulator stored the post, before the ledger recorded it"
PHASES = (STARTUP, BETWEEN_POSTS, BEFORE_SENT, HELD, STORED)


@dataclass
class Kill:
    """One kill that landed, and what it left."""

    killed_at: float  # epoch seconds, the emulator's clock
    made_posts: bool  # the killed pass created at least one post
    new_in_doubt: str | None  # the canonical URL it left in doubt, if any

    def phase(self, copies: dict[str, list[dict[str, Any]]]) -> str:
        """Where in a pass the kill landed, told by the ledger and the emulator afterwards."""
        if self.new_in_doubt is None:
            return BETWEEN_POSTS if self.made_posts else STARTUP
        stored = copies.get(self.new_in_doubt)
        if not stored:
            return BEFORE_SENT
        stored_at = dt.datetime.fromisoformat(stored[0]["received_at"]).timestamp()
        return STORED if stored_at <= self.killed_at else HELD


@dataclass
class Tally:
    """What the kills did, for the summary and for replaying a failure."""

    seed: int
    kills: int = 0
    rounds: int = 0
    in_doubt: int = 0
    in_doubt_created: int = 0
    stray_temp_files: int = 0
    phases: Counter[str] = field(default_factory=Counter)
    events: list[str] = field(default_factory=list)

    def note(self, event: str) -> None:
        self.events.append(event)

    def summary(self) -> str:
        phases = ", ".join(f"{self.phases[phase]} {phase}" for phase in PHASES)
        return (
            f"seed {self.seed}: {self.kills} kills over {self.rounds} rounds ({phases}); "
            f"{self.in_doubt} left an in-doubt entry, {self.in_doubt_created} of them had been "
            f"created on the emulator; {self.stray_temp_files} stray ledger temp files"
        )

    def replay(self) -> str:
        return "\n".join([f"replay with SYNCD_CRASH_SEED={self.seed}", *self.events])


def site_posts(count: int) -> dict[str, str]:
    """``count`` posts titled ``Post N``, one a day from 2024-01-01."""
    first = dt.date(2024, 1, 1)
    posts = {}
    for n in range(count):
        day = first + dt.timedelta(days=n)
        posts[f"_posts/{day.isoformat()}-post-{n}.md"] = f"---\ntitle: Post {n}\n---\nBody {n}\n"
    return posts


def syncd_env() -> dict[str, str]:
    """The minimal environment ``run_syncd`` gives, with the emulator's token."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "MEDIUM_TOKEN": TEST_TOKEN,
    }


def start_pass(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """``syncd --once`` as a process of its own, its log written to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "syncd", "-v", "--once", "--config", str(config)],
            env=syncd_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for_posts(sandbox: Sandbox, count: int, proc: subprocess.Popen[bytes]) -> None:
    """Until the emulator holds ``count`` posts, or the pass has exited."""
    deadline = time.monotonic() + PROCESS_TIMEOUT_S
    while len(sandbox.posts()) < count and proc.poll() is None:
        assert time.monotonic() < deadline, "the pass made no post in time"
        time.sleep(0.002)


def sleep_unless_exited(seconds: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while proc.poll() is None and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.005))


def kill_at_a_random_moment(
    config: Path, log: Path, sandbox: Sandbox, rng: random.Random
) -> tuple[int, str, float]:
    """Run one pass and SIGKILL it at a random moment: its exit status, the timing drawn and
    when (epoch seconds) the signal was sent.

    The status is ``-SIGKILL`` when the kill landed, else the pass finished first.
    """
    created = len(sandbox.posts())
    from_start = rng.random() < STARTUP_SHARE
    delay = rng.uniform(0, STARTUP_WINDOW_S if from_start else PASS_WINDOW_S)
    killed_at = 0.0
    proc = start_pass(config, log)
    try:
        if not from_start:
            wait_for_posts(sandbox, created + 1, proc)
        sleep_unless_exited(delay, proc)
        if proc.poll() is None:
            killed_at = time.time()
            os.kill(proc.pid, signal.SIGKILL)
        status = proc.wait(timeout=PROCESS_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=PROCESS_TIMEOUT_S)
    moment = f"{'from start' if from_start else 'after a create'} +{delay:.3f}s"
    return status, moment, killed_at


def ledger_path(config: Path) -> Path:
    return config.parent / "state" / "ledger.json"


def ledger_status(config: Path) -> dict[str, dict[str, Any]]:
    """``syncd status --json`` by canonical URL, after checking the file is whole JSON."""
    path = ledger_path(config)
    if path.exists():
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise AssertionError(f"the ledger does not parse: {exc}") from None
    result = run_syncd("status", "--json", "--config", str(config), timeout=PROCESS_TIMEOUT_S)
    assert result.returncode == 0, f"status exit {result.returncode}: {result.stderr}"
    return {post["canonical_url"]: post for post in json.loads(result.stdout)["posts"]}


def emulator_copies(sandbox: Sandbox) -> dict[str, list[dict[str, Any]]]:
    """The emulator's records of created posts (``post``, ``received_at``...) by canonical
    URL."""
    copies: dict[str, list[dict[str, Any]]] = {}
    for record in sandbox.posts():
        copies.setdefault(record["request"]["canonicalUrl"], []).append(record)
    return copies


def in_doubt(entries: dict[str, dict[str, Any]]) -> set[str]:
    return {url for url, entry in entries.items() if entry["state"] == "in-doubt"}


def check_ledger_against_emulator(config: Path, sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """The ledger is readable and agrees with the emulator; returns the ledger's entries."""
    entries = ledger_status(config)
    copies = emulator_copies(sandbox)
    twice = sorted(url for url, posts in copies.items() if len(posts) > 1)
    assert not twice, f"posted twice: {twice}"
    unrecorded = sorted(url for url in copies if url not in entries)
    assert not unrecorded, f"on the emulator, not in the ledger: {unrecorded}"
    for url, entry in entries.items():
        if entry["state"] == "posted":
            assert [c["post"]["url"] for c in copies.get(url, [])] == [entry["medium_url"]], (
                f"{url} is posted in the ledger but not on the emulator at that URL"
            )
        else:
            assert entry["state"] == "in-doubt", f"{url}: {entry}"
    return entries


def crash_passes(
    config: Path, sandbox: Sandbox, rng: random.Random, tally: Tally, kills_wanted: int
) -> list[Kill]:
    """Kill passes at random moments until ``kills_wanted`` landed or a pass finished."""
    kills: list[Kill] = []
    entries = ledger_status(config)
    while len(kills) < kills_wanted:
        number = len(kills) + 1
        before = len(sandbox.posts())
        log = config.parent / f"pass-{number}.log"
        status, moment, killed_at = kill_at_a_random_moment(config, log, sandbox, rng)
        if status != -signal.SIGKILL:
            tally.note(
                f"round {tally.rounds} pass {number}: {moment}, finished first (exit {status})"
            )
            assert status in (0, 1), f"exit {status}, see {log}"
            return kills
        tally.kills += 1
        tally.note(f"round {tally.rounds} pass {number}: killed {moment}, {before} posts before")
        doubtful_before = in_doubt(entries)
        entries = check_ledger_against_emulator(config, sandbox)
        new_doubt = sorted(in_doubt(entries) - doubtful_before)
        after = len(sandbox.posts())
        tally.note(f"    then {after} posts; new in doubt: {new_doubt or 'none'}")
        assert len(new_doubt) <= 1, f"one kill, several in doubt: {new_doubt}"
        kills.append(Kill(killed_at, after > before, new_doubt[0] if new_doubt else None))
    return kills


def wait_until_emulator_is_quiet(sandbox: Sandbox) -> None:
    """A killed pass's last create may still be held by the emulator: let it land."""
    deadline = time.monotonic() + PROCESS_TIMEOUT_S
    count, since = len(sandbox.posts()), time.monotonic()
    while time.monotonic() - since < QUIET_S:
        assert time.monotonic() < deadline, "the emulator kept creating posts"
        time.sleep(0.02)
        if len(sandbox.posts()) != count:
            count, since = len(sandbox.posts()), time.monotonic()


def settle_in_doubt(config: Path, sandbox: Sandbox, kills: list[Kill], tally: Tally) -> None:
    """Resolve every in-doubt entry by what the emulator holds, as a user checking Medium;
    count where in a pass each kill had landed."""
    wait_until_emulator_is_quiet(sandbox)
    entries = check_ledger_against_emulator(config, sandbox)
    copies = emulator_copies(sandbox)
    tally.phases.update(kill.phase(copies) for kill in kills)
    for url in sorted(in_doubt(entries)):
        source = entries[url]["source"]
        tally.in_doubt += 1
        if url in copies:
            tally.in_doubt_created += 1
            how = ["--medium-url", copies[url][0]["post"]["url"]]
        else:
            how = ["--not-posted"]
        result = run_syncd(
            "resolve", source, *how, "--config", str(config), timeout=PROCESS_TIMEOUT_S
        )
        assert result.returncode == 0, f"resolve {source} {how}: {result.stderr}"
        tally.note(f"round {tally.rounds}: resolved {source} {' '.join(how)}")


def pass_until_done(config: Path, tally: Tally) -> None:
    """``syncd --once`` until it exits 0 (it should the first time: nothing kills it now)."""
    for attempt in range(1, 4):
        result = run_syncd(
            "--once", "--config", str(config), env=syncd_env(), timeout=PROCESS_TIMEOUT_S
        )
        assert result.returncode in (0, 1), f"exit {result.returncode}: {result.stderr}"
        if result.returncode == 0:
            if attempt > 1:
                tally.note(f"round {tally.rounds}: finishing took {attempt} passes")
            return
    raise AssertionError(f"no pass exited 0 after settling: {result.stderr}")


def planned_urls(config: Path) -> dict[str, str]:
    """Source to canonical URL for every post ``syncd plan`` would post."""
    result = run_syncd("plan", "--json", "--config", str(config), timeout=PROCESS_TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    return {item["source"]: item["canonical_url"] for item in items if item["action"] == "post"}


def assert_each_post_once(
    config: Path, sandbox: Sandbox, expected: dict[str, str], tally: Tally
) -> None:
    """Every post on the emulator exactly once and ``posted`` at that URL in the ledger."""
    copies = emulator_copies(sandbox)
    counts = {url: len(copies.get(url, [])) for url in expected.values()}
    wrong = {url: n for url, n in counts.items() if n != 1}
    assert not wrong, f"copies on the emulator, not 1: {wrong}"
    assert set(copies) == set(expected.values()), "unexpected posts"
    entries = ledger_status(config)
    for source, url in expected.items():
        entry, post = entries[url], copies[url][0]["post"]
        assert entry["source"] == source
        assert (entry["state"], entry["medium_url"], entry["medium_id"]) == (
            "posted",
            post["url"],
            post["id"],
        ), f"{source}: ledger {entry} vs emulator {post}"
    before = len(sandbox.posts())
    again = run_syncd("--once", "--config", str(config), env=syncd_env(), timeout=PROCESS_TIMEOUT_S)
    assert again.returncode == 0, again.stderr
    assert len(sandbox.posts()) == before, "a pass after the end created posts"


def count_stray_temp_files(config: Path) -> int:
    """Temp files a kill left beside the ledger (harmless: never read, never renamed)."""
    return len(list(ledger_path(config).parent.glob(f".{ledger_path(config).name}.*")))


def crash_round(folder: Path, rng: random.Random, tally: Tally, kills_wanted: int) -> None:
    """A fresh site and emulator, killed at random, then settled and checked."""
    tally.rounds += 1
    with Sandbox(host="127.0.0.1", port=0, tokens=[TEST_TOKEN], daily_limit=0) as sandbox:
        sandbox.add_fault(path="/v1/users/*/posts", delay_s=CREATE_DELAY_S, times=10_000)
        make_site(folder / "site", posts=site_posts(POSTS_PER_SITE))
        config = write_config(folder, sandbox.api_url, publish_status="public")
        expected = planned_urls(config)
        assert len(expected) == POSTS_PER_SITE
        kills = crash_passes(config, sandbox, rng, tally, kills_wanted)
        tally.stray_temp_files += count_stray_temp_files(config)
        settle_in_doubt(config, sandbox, kills, tally)
        pass_until_done(config, tally)
        assert_each_post_once(config, sandbox, expected, tally)


def test_kill_9_at_random_moments_never_posts_twice_nor_loses_a_post(tmp_path: Path) -> None:
    seed = int(os.environ.get("SYNCD_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    tally = Tally(seed)
    try:
        while tally.kills < KILLS:
            assert tally.rounds < KILLS, "rounds end before the kills land"
            crash_round(tmp_path / f"round-{tally.rounds + 1}", rng, tally, KILLS - tally.kills)
        assert tally.phases[HELD] + tally.phases[STORED] > 0, "no kill landed mid-request"
    except (AssertionError, subprocess.SubprocessError) as exc:
        raise AssertionError(f"{exc}\n{tally.summary()}\n{tally.replay()}") from None
    print(tally.summary())
    print(tally.replay())


# Kills aimed at the ledger's journal --------------------------------------------------------

JOURNAL_KILLS = max(30, int(os.environ.get("SYNCD_CRASH_JOURNAL_KILLS", "30")))
BIG_TITLE = 4 * 2**20  # every fourth intent is this long, so that a kill can cut its append

RECORDER = r"""
import sys
from pathlib import Path
from syncd.ledger import Entry, Ledger, write_lock
path, n, big = Path(sys.argv[1]), int(sys.argv[2]), "x" * int(sys.argv[3])
with write_lock(path):
    ledger = Ledger(path)
    print("ready", flush=True)
    while True:
        url, source = f"https://e.com/new/{n}", f"{n}.md"
        title = big if n % 4 == 0 else f"Post {n}"
        print(f"recording posting {n}", flush=True)
        ledger.record(Entry(canonical_url=url, source=source, state="posting", title=title))
        print(f"recorded posting {n}", flush=True)
        ledger.record(Entry(canonical_url=url, source=source, state="posted", title=f"Post {n}"))
        print(f"recorded posted {n}", flush=True)
        if n % 3 == 2:
            print("compacting", flush=True)
            ledger.compact()
            print("compacted", flush=True)
        n += 1
"""

# Where a kill landed, as the files tell afterwards.
CUT_APPEND = "inside an append (its line cut short)"
FOLDED_NOT_REMOVED = "after a compaction's rename, before the journal's removal"
MID_REWRITE = "while a compaction wrote the new file"
ELSEWHERE = "between writes"
UNREADABLE = "leaving a journal line that does not read"


def kill_recorder(path: Path, first: int, rng: random.Random) -> tuple[dict[int, str], str]:
    """Run a recorder from number ``first`` and SIGKILL it: aimed at a long append (as soon
    as the journal grows), at a compaction (soon after its temp file appears), or at any
    moment. Returns what it acknowledged (number to the last state whose record returned)
    and the aim."""
    aim = rng.choice(("append", "compaction", "anywhere"))
    journal = path.with_name(path.name + ".journal")
    proc = subprocess.Popen([sys.executable, "-c", RECORDER, str(path), str(first),
                             str(BIG_TITLE)], stdout=subprocess.PIPE, text=True)
    acknowledged: dict[int, str] = {}

    def note(line: str) -> list[str]:
        words = line.split()
        if words[:1] == ["recorded"]:
            acknowledged[int(words[2])] = words[1]
        return words

    def journal_size() -> int:
        try:
            return journal.stat().st_size
        except FileNotFoundError:
            return 0

    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        if aim == "anywhere":
            time.sleep(rng.uniform(0, 0.2))
        while aim != "anywhere":
            words = note(proc.stdout.readline())
            assert words, "the recorder stopped"
            if aim == "compaction" and words == ["compacting"]:
                deadline = time.monotonic() + 0.5  # until it writes the new file
                while not list(path.parent.glob(f".{path.name}.*")) \
                        and time.monotonic() < deadline:
                    pass
                time.sleep(rng.uniform(0, 0.001))
                break
            if aim == "append" and words[:2] == ["recording", "posting"] \
                    and int(words[2]) % 4 == 0:
                size, deadline = journal_size(), time.monotonic() + 2
                while journal_size() == size and time.monotonic() < deadline:
                    pass
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=PROCESS_TIMEOUT_S)
        for line in proc.stdout.read().splitlines():
            note(line)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return acknowledged, aim


def where_it_landed(path: Path) -> str:
    journal = path.with_name(path.name + ".journal")
    if list(path.parent.glob(f".{path.name}.*")):
        return MID_REWRITE
    if not journal.exists():
        return ELSEWHERE
    raw = journal.read_bytes()
    if raw and not raw.endswith(b"\n"):
        return CUT_APPEND
    stored = {doc["canonical_url"]: doc
              for doc in json.loads(path.read_text(encoding="utf-8"))["posts"].values()}
    try:
        changes = [json.loads(line) for line in raw.splitlines()]
    except ValueError:
        return UNREADABLE  # the check that follows says what is wrong
    replayed = dict(stored)
    for change in changes:
        if "put" in change:
            replayed[change["put"]["canonical_url"]] = change["put"]
        else:
            replayed.pop(change["remove"], None)
    return FOLDED_NOT_REMOVED if raw and replayed == stored else ELSEWHERE


def test_kill_9_in_journal_appends_and_compactions_loses_no_acknowledged_change(
        tmp_path: Path) -> None:
    """A recorder appends intents and outcomes to the journal and compacts it, and is
    killed, often inside a long append or a compaction. After every kill the ledger file is
    whole JSON, and the ledger (file and journal) holds every change whose record had
    returned, every entry an earlier check saw, and at most the one intent in flight. Then
    either the next recorder starts on what the kill left (and must fold that journal in
    before appending: its last line may be cut short), or, as ``syncd resolve`` would, the
    in-doubt entries are first settled with a rewrite."""
    seed = int(os.environ.get("SYNCD_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    path = tmp_path / "ledger.json"
    Ledger(path).put_many(Entry(canonical_url=f"https://e.com/old/{i}", source=f"{i}.md",
                                state=POSTED, title=f"Old post {i}") for i in range(300))
    known = {f"https://e.com/old/{i}": POSTED for i in range(300)}  # must stay as they are
    landed: Counter[str] = Counter()
    events: list[str] = []
    first = 0
    kill = 0

    def done() -> bool:
        aimed = landed[CUT_APPEND] and landed[MID_REWRITE] + landed[FOLDED_NOT_REMOVED]
        return kill >= JOURNAL_KILLS and bool(aimed) or kill >= 3 * JOURNAL_KILLS

    try:
        while not done():
            kill += 1
            acknowledged, aim = kill_recorder(path, first, rng)
            where = where_it_landed(path)
            landed[where] += 1
            events.append(f"kill {kill} aimed at {aim} from {first}: landed {where}; "
                          f"acknowledged {sorted(acknowledged.items())}")
            json.loads(path.read_text(encoding="utf-8"))  # the file alone is whole JSON
            ledger_module._ENTRIES.clear()
            states = {url: entry.state for url, entry in Ledger(path).entries().items()}
            changed = sorted(url for url, state in known.items() if states.get(url) != state)
            assert not changed, f"kill {kill}: earlier entries lost or changed: {changed}"
            for number, state in acknowledged.items():
                url = f"https://e.com/new/{number}"
                allowed = {POSTED} if state == POSTED else {POSTING, POSTED}
                assert states.get(url) in allowed, f"kill {kill}: {url} {states.get(url)}"
            in_flight = sorted(url for url in set(states) - set(known)
                               if int(url.rsplit("/", 1)[1]) not in acknowledged)
            assert len(in_flight) <= 1, f"kill {kill}: unacknowledged entries {in_flight}"
            assert all(states[url] == POSTING for url in in_flight), in_flight
            numbers = [int(url.rsplit("/", 1)[1]) for url in states if "/new/" in url]
            first = max(numbers, default=first - 1) + 1
            known = states
            Ledger(path).sweep_temp_files()
            if rng.random() < 0.5:
                # Settled, plus an entry of the settler's own, in one rewrite.
                settled = [url for url, state in states.items() if state != POSTED]
                settled.append(f"https://e.com/settled/{kill}")
                Ledger(path).put_many(Entry(canonical_url=url, source="settled.md",
                                            state=POSTED) for url in settled)
                assert not path.with_name("ledger.json.journal").exists()
                known.update((url, POSTED) for url in settled)
                events.append(f"    settled {len(settled) - 1} in doubt")
        assert landed[CUT_APPEND] > 0, "no kill cut an append short"
        assert landed[FOLDED_NOT_REMOVED] + landed[MID_REWRITE] > 0, \
            "no kill landed inside a compaction"
    except (AssertionError, LedgerError, subprocess.SubprocessError) as exc:
        raise AssertionError(f"{exc}\nreplay with SYNCD_CRASH_SEED={seed}\n"
                             + "\n".join(events)) from None
    print(f"seed {seed}: {kill} kills landed "
          + ", ".join(f"{count} {where}" for where, count in landed.most_common()))
