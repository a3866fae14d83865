"""The ledger's journal: a pass's changes as appended, fsynced lines beside the ledger file,
read by every command, folded into the file at the end of a pass, refused when corrupt."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TEST_TOKEN
from sitekit import make_site, run_syncd, write_config

import syncd.ledger as ledger_module
from syncd.errors import LedgerError
from syncd.ledger import FAILED, POSTED, POSTING, Entry, Ledger, write_lock
from syncd.sandbox import Sandbox

A = Entry(canonical_url="https://e.com/a", source="a.md", state=POSTED, title="A")
B = Entry(canonical_url="https://e.com/b", source="b.md", state=POSTING, title="B")
C = Entry(canonical_url="https://e.com/c", source="c.md", state=POSTED, title="C")

STATES_OF = (
    "import json, sys; from pathlib import Path; from syncd.ledger import Ledger\n"
    "print(json.dumps({u: e.state for u, e in Ledger(Path(sys.argv[1])).entries().items()}))\n"
)


def states_in_a_fresh_process(path: Path) -> dict[str, str]:
    done = subprocess.run([sys.executable, "-c", STATES_OF, str(path)], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def journal_of(path: Path) -> Path:
    return path.with_name(path.name + ".journal")


def stored_posts(path: Path) -> dict[str, dict[str, object]]:
    """The ledger file alone, as ``jq`` or a backup sees it."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {doc["canonical_url"]: doc for doc in data["posts"].values()}


def test_a_record_is_seen_here_and_by_a_fresh_process_before_compaction(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    Ledger(path).put(A)
    before = path.read_bytes()
    ledger = Ledger(path)
    ledger.record(B)
    ledger.record(C)
    ledger.record(Entry(canonical_url=B.canonical_url, source="b.md", state=FAILED, error="no"))
    assert path.read_bytes() == before  # a record does not rewrite the file
    expected = {A.canonical_url: POSTED, B.canonical_url: FAILED, C.canonical_url: POSTED}
    assert {url: e.state for url, e in ledger.entries().items()} == expected
    assert {url: e.state for url, e in Ledger(path).entries().items()} == expected
    assert states_in_a_fresh_process(path) == expected
    lines = journal_of(path).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["put"]["canonical_url"] for line in lines] == [
        B.canonical_url, C.canonical_url, B.canonical_url]

    ledger.record_removal(C.canonical_url)
    ledger.compact()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json", "ledger.json.bak"]
    stored = stored_posts(path)
    assert {url: doc["state"] for url, doc in stored.items()} == {
        A.canonical_url: POSTED, B.canonical_url: FAILED}
    assert stored[B.canonical_url]["error"] == "no"
    # The last good copy is the ledger before this Ledger changed it.
    assert (tmp_path / "ledger.json.bak").read_bytes() == before
    assert states_in_a_fresh_process(path) == {A.canonical_url: POSTED, B.canonical_url: FAILED}
    ledger.compact()  # nothing left to fold
    assert path.exists() and not journal_of(path).exists()


def test_records_and_compaction_keep_what_this_process_knows_without_reading_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As the service does between saves: its own changes never make it parse the file."""
    path = tmp_path / "ledger.json"
    Ledger(path).put_many(Entry(canonical_url=f"https://e.com/{i}", source=f"{i}.md",
                                state=POSTED) for i in range(20))
    assert len(Ledger(path).entries()) == 20
    reads: list[Path] = []
    real_read = ledger_module._read_file
    monkeypatch.setattr(ledger_module, "_read_file",
                        lambda path: (reads.append(path), real_read(path))[1])
    for _ in range(3):
        ledger = Ledger(path)
        before = ledger.entries()
        ledger.record(B)
        ledger.record(Entry(canonical_url=B.canonical_url, source="b.md", state=POSTED))
        ledger.record(C)
        ledger.record_removal(C.canonical_url)
        assert ledger.entries() == {**before, B.canonical_url: ledger.entries()[B.canonical_url]}
        ledger.compact()
        ledger.close()
        assert len(Ledger(path).entries()) == 21
    assert reads == []  # compactions write the file from what this process knows
    ledger_module._ENTRIES.clear()
    monkeypatch.undo()
    fresh = Ledger(path).entries()
    assert fresh[B.canonical_url].state == POSTED and C.canonical_url not in fresh


def test_a_first_record_starts_the_ledger_file_beside_its_journal(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ledger.json"
    path.parent.mkdir()
    ledger = Ledger(path)
    ledger.record(B)
    assert json.loads(path.read_text())["meta"]["1"] == {"schema": 1}
    assert states_in_a_fresh_process(path) == {B.canonical_url: POSTING}
    ledger.compact()
    assert stored_posts(path)[B.canonical_url]["state"] == POSTING


def test_a_rewrite_folds_the_journal_in_first(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    ledger = Ledger(path)
    ledger.put(A)
    ledger.record(B)
    ledger.record(C)
    ledger.remove(A.canonical_url)
    assert not journal_of(path).exists()
    assert sorted(stored_posts(path)) == [B.canonical_url, C.canonical_url]
    ledger.record(A)
    Ledger(path).put(Entry(canonical_url=B.canonical_url, source="b.md", state=POSTED))
    assert not journal_of(path).exists()
    assert {url: doc["state"] for url, doc in stored_posts(path).items()} == {
        B.canonical_url: POSTED, C.canonical_url: POSTED, A.canonical_url: POSTED}
    # The first Ledger's journal was folded by the second: its next record starts a new one.
    ledger.record_removal(C.canonical_url)
    assert sorted(Ledger(path).entries()) == [A.canonical_url, B.canonical_url]


def test_replaying_a_journal_already_folded_in_changes_nothing(tmp_path: Path) -> None:
    """A crash after the compaction's rename and before it removed the journal."""
    path = tmp_path / "ledger.json"
    ledger = Ledger(path)
    ledger.put(A)
    ledger.record(B)
    ledger.record_removal(A.canonical_url)
    ledger.record(A)
    ledger.record(C)
    journal = journal_of(path).read_bytes()
    ledger.compact()
    folded = Ledger(path).entries()
    journal_of(path).write_bytes(journal)
    ledger_module._ENTRIES.clear()
    assert Ledger(path).entries() == folded
    Ledger(path).compact()
    assert Ledger(path).entries() == folded and not journal_of(path).exists()


def test_a_cut_short_last_line_is_ignored_and_nothing_is_appended_after_it(
        tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    Ledger(path).put(A)
    good = json.dumps({"put": {"canonical_url": B.canonical_url, "source": "b.md",
                               "state": POSTING}}) + "\n"
    cut = '{"put": {"canonical_url": "https://e.com/d", "source": "d.m'
    journal_of(path).write_text(good + cut, encoding="utf-8")
    expected = {A.canonical_url: POSTED, B.canonical_url: POSTING}
    assert states_in_a_fresh_process(path) == expected
    ledger = Ledger(path)
    assert {url: e.state for url, e in ledger.entries().items()} == expected

    ledger.record(C)
    # The journal found was folded in (its cut line dropped) before a new one was started.
    lines = journal_of(path).read_text(encoding="utf-8").split("\n")
    assert [json.loads(line)["put"]["canonical_url"] for line in lines[:-1]] == [C.canonical_url]
    assert lines[-1] == ""
    assert {url: doc["state"] for url, doc in stored_posts(path).items()} == expected
    # The last good copy is the ledger as found: the file with that journal.
    backup = json.loads((tmp_path / "ledger.json.bak").read_text(encoding="utf-8"))
    assert sorted(doc["canonical_url"] for doc in backup["posts"].values()) == [
        A.canonical_url, B.canonical_url]
    assert states_in_a_fresh_process(path) == {**expected, C.canonical_url: POSTED}


@pytest.mark.parametrize("bad", [
    "not json",
    '{"put": {"source": "x.md", "state": "posted"}}',
    '{"drop": "https://e.com/a"}',
    '{"put": {"canonical_url": "https://e.com/x"}, "remove": "https://e.com/a"}',
    "",
    '"\\u00e9"',
])
def test_a_bad_line_before_the_last_is_refused_and_both_files_are_left_alone(
        tmp_path: Path, bad: str) -> None:
    make_site(tmp_path / "site")
    config = write_config(tmp_path, "http://127.0.0.1:9/v1")
    path = tmp_path / "state" / "ledger.json"
    path.parent.mkdir()
    Ledger(path).put(A)
    line = json.dumps({"put": {"canonical_url": B.canonical_url, "source": "b.md",
                               "state": POSTING}})
    journal = journal_of(path)
    journal.write_text(f"{line}\n{bad}\n{line}\n", encoding="utf-8")
    before = (path.read_bytes(), journal.read_bytes())
    with pytest.raises(LedgerError) as caught:
        Ledger(path)
    message = str(caught.value)
    assert f"line 2 of its journal {journal}" in message
    assert "will not overwrite" in message
    assert caught.value.exit_status == 4
    for args in (["--once"], ["plan"], ["status"], ["adopt", "--all"],
                 ["resolve", "_posts/x.md", "--not-posted"]):
        result = run_syncd(*args, "--config", str(config), env={"MEDIUM_TOKEN": TEST_TOKEN})
        assert result.returncode == 4, (args, result.stderr)
        assert "will not overwrite" in result.stderr
    assert (path.read_bytes(), journal.read_bytes()) == before


def test_a_journal_without_its_ledger_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    ledger = Ledger(path)
    ledger.record(B)
    path.unlink()
    with pytest.raises(LedgerError) as caught:
        Ledger(path)
    assert f"its journal {journal_of(path)} is there" in str(caught.value)
    assert caught.value.exit_status == 4


FULL_DISK = (
    "import resource, sys\n"
    "from pathlib import Path\n"
    "from syncd.errors import LedgerError\n"
    "from syncd.ledger import Entry, Ledger\n"
    "ledger = Ledger(Path(sys.argv[1]))\n"
    "ledger.record(Entry(canonical_url='https://e.com/b', source='b.md', state='posting'))\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))\n"
    "try:\n"
    "    if sys.argv[3] == 'record':\n"
    "        ledger.record(Entry(canonical_url='https://e.com/c', source='c.md', state='posted',\n"
    "                            title='x' * 500))\n"
    "    else:\n"
    "        ledger.compact()\n"
    "except LedgerError as exc:\n"
    "    print(exc)\n"
    "    sys.exit(4)\n"
)


def test_a_failed_append_is_a_ledger_error_and_leaves_no_cut_line(tmp_path: Path) -> None:
    """A full disk, simulated with a file-size limit in a child process: the append of a
    long line is cut at the limit, and the cut part is taken back."""
    path = tmp_path / "ledger.json"
    Ledger(path).put(A)
    done = subprocess.run([sys.executable, "-c", FULL_DISK, str(path), "300", "record"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 4, done.stderr
    assert f"cannot record in the ledger {path}" in done.stdout
    assert "File too large" in done.stdout
    assert journal_of(path).read_text(encoding="utf-8").endswith("}\n")
    assert states_in_a_fresh_process(path) == {A.canonical_url: POSTED,
                                               B.canonical_url: POSTING}
    ledger = Ledger(path)
    ledger.record(C)
    assert all(json.loads(line) for line in journal_of(path).read_text().splitlines())
    assert sorted(ledger.entries()) == [A.canonical_url, B.canonical_url, C.canonical_url]


def test_a_failed_compaction_keeps_the_journal_for_the_next_writer(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    Ledger(path).put_many(
        Entry(canonical_url=f"https://e.com/{i}", source=f"{i}.md", state=POSTED)
        for i in range(30))
    before = path.read_bytes()
    done = subprocess.run([sys.executable, "-c", FULL_DISK, str(path), "1000", "compact"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 4, done.stderr
    assert f"cannot write the ledger {path}" in done.stdout
    assert path.read_bytes() == before
    assert states_in_a_fresh_process(path)["https://e.com/b"] == POSTING
    Ledger(path).put(C)
    assert not journal_of(path).exists()
    assert stored_posts(path)["https://e.com/b"]["state"] == POSTING


RACER = (
    "import sys; from pathlib import Path\n"
    "from syncd.ledger import Entry, Ledger, write_lock\n"
    "path = Path(sys.argv[1])\n"
    "with write_lock(path):\n"
    "    ledger = Ledger(path)\n"
    "    print('ready', flush=True)\n"
    "    for n in range(100000):\n"
    "        url = f'https://e.com/new-{n}'\n"
    "        ledger.record(Entry(canonical_url=url, source=f'{n}.md', state='posting'))\n"
    "        ledger.record(Entry(canonical_url=url, source=f'{n}.md', state='posted'))\n"
    "        if n % 2:\n"
    "            ledger.compact()\n"
)


def test_a_reader_racing_compactions_never_sees_the_ledger_go_back(tmp_path: Path) -> None:
    """A process records and compacts in a loop while this one reads without the lock:
    no read may lose an entry or a state an earlier read saw."""
    path = tmp_path / "ledger.json"
    Ledger(path).put_many(
        Entry(canonical_url=f"https://e.com/{i}", source=f"{i}.md", state=POSTED,
              title=f"Post number {i}") for i in range(1500))
    writer = subprocess.Popen([sys.executable, "-c", RACER, str(path)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        reader = Ledger(path)
        seen: dict[str, str] = {}
        reads = with_journal = 0
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline and writer.poll() is None:
            journal_there = journal_of(path).exists()
            ledger_module._ENTRIES.clear()  # read the files, as a fresh process does
            now = {url: e.state for url, e in reader.entries().items()}
            lost = sorted(set(seen) - set(now))
            assert not lost, f"read {reads}: entries gone: {lost[:5]}"
            back = [url for url, state in seen.items() if state == POSTED and now[url] != POSTED]
            assert not back, f"read {reads}: posted, then not: {back[:5]}"
            seen = now
            reads += 1
            with_journal += journal_there
        assert writer.poll() is None, "the writer stopped"
        new = sum(1 for url in seen if "/new-" in url)
        assert reads >= 20 and new >= 20 and with_journal >= 5, (reads, new, with_journal)
    finally:
        writer.kill()
        writer.wait()


@pytest.fixture
def blog(tmp_path: Path, sandbox: Sandbox) -> Path:
    make_site(tmp_path / "site")
    return write_config(tmp_path, sandbox.api_url, publish_status="public")


def test_a_dry_run_writes_no_journal_and_a_pass_leaves_none(
        blog: Path, tmp_path: Path, sandbox: Sandbox) -> None:
    env = {"MEDIUM_TOKEN": TEST_TOKEN}
    state = tmp_path / "state"
    path = state / "ledger.json"
    dry = run_syncd("--once", "--dry-run", "--config", str(blog), env=env)
    assert dry.returncode == 0, dry.stderr
    assert not path.exists() and not journal_of(path).exists()

    first = run_syncd("--once", "--config", str(blog), env=env)
    assert first.returncode == 0, first.stderr
    assert not journal_of(path).exists()
    assert len(stored_posts(path)) == 3
    after_first = path.read_bytes()

    (tmp_path / "site" / "_posts" / "2025-09-01-fourth.md").write_text(
        "---\ntitle: Fourth\n---\nNew.\n", encoding="utf-8")
    dry = run_syncd("--once", "--dry-run", "--config", str(blog), env=env)
    assert "1 would be posted" in dry.stderr
    assert path.read_bytes() == after_first and not journal_of(path).exists()
    second = run_syncd("--once", "--config", str(blog), env=env)
    assert second.returncode == 0, second.stderr
    assert not journal_of(path).exists()
    stored = stored_posts(path)
    assert len(stored) == 4 and {doc["state"] for doc in stored.values()} == {POSTED}
    # The last good copy: the ledger as the second pass found it.
    assert (state / "ledger.json.bak").read_bytes() == after_first
    assert len(sandbox.posts()) == 4


def test_a_pass_killed_right_after_its_intent_leaves_the_post_in_doubt(
        blog: Path, tmp_path: Path, sandbox: Sandbox) -> None:
    """SIGKILL of a real ``syncd --once`` as soon as its intent line is in the journal: the
    next commands find the post in doubt, and the next pass does not send it again."""
    env = {"MEDIUM_TOKEN": TEST_TOKEN}
    path = tmp_path / "state" / "ledger.json"
    sandbox.add_fault(path="/v1/users/*/posts", delay_s=0.5, times=10)
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncd", "--once", "--config", str(blog)],
        env={"PATH": "", "HOME": str(tmp_path), "LANG": "C.UTF-8", "TZ": "UTC", **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while b'"posting"' not in (journal_of(path).read_bytes()
                                   if journal_of(path).exists() else b""):
            assert time.monotonic() < deadline and proc.poll() is None, "no intent recorded"
            time.sleep(0.001)
        proc.kill()
    finally:
        proc.kill()
        proc.wait()
    intent = json.loads(journal_of(path).read_text(encoding="utf-8").splitlines()[0])["put"]
    assert intent["state"] == POSTING and intent["source"] == DUE_FIRST
    status = json.loads(run_syncd("status", "--json", "--config", str(blog)).stdout)
    assert {p["source"]: p["state"] for p in status["posts"]} == {DUE_FIRST: "in-doubt"}
    time.sleep(1)  # the emulator may still create the post it was holding
    created = len(sandbox.posts())
    again = run_syncd("--once", "--config", str(blog), env=env)
    assert again.returncode == 1, again.stderr
    assert "still in doubt from an earlier pass" in again.stderr
    assert not journal_of(path).exists()
    assert stored_posts(path)[intent["canonical_url"]]["state"] == POSTING
    titles = [p["request"]["title"] for p in sandbox.posts()]
    assert len(titles) == created + 2 and "First steps" not in titles[created:]


DUE_FIRST = "_posts/2024-01-05-first-steps.md"


def test_commands_see_what_a_killed_pass_left_in_the_journal(
        blog: Path, tmp_path: Path, sandbox: Sandbox) -> None:
    """The journal a crash leaves (not folded in) is the ledger too: status shows its entry
    in doubt, the next pass does not post it, resolve settles it and folds the journal."""
    env = {"MEDIUM_TOKEN": TEST_TOKEN}
    path = tmp_path / "state" / "ledger.json"
    assert run_syncd("--once", "--config", str(blog), env=env).returncode == 0
    source = "_posts/2025-09-01-fourth.md"
    (tmp_path / "site" / source).write_text("---\ntitle: Fourth\n---\nNew.\n", encoding="utf-8")
    url = "https://blog.example/2025/09/01/fourth.html"
    with write_lock(path):
        Ledger(path).record(Entry(canonical_url=url, source=source, state=POSTING))
    status = json.loads(run_syncd("status", "--json", "--config", str(blog)).stdout)
    assert {p["source"]: p["state"] for p in status["posts"]}[source] == "in-doubt"
    plan = json.loads(run_syncd("plan", "--json", "--config", str(blog)).stdout)
    assert {i["source"]: i["reason"] for i in plan}[source] == "in-doubt"
    again = run_syncd("--once", "--config", str(blog), env=env)
    assert again.returncode == 1 and "in doubt" in again.stderr
    assert len(sandbox.posts()) == 3
    assert not journal_of(path).exists()  # folded in by that pass
    resolved = run_syncd("resolve", source, "--not-posted", "--config", str(blog))
    assert resolved.returncode == 0, resolved.stderr
    assert run_syncd("--once", "--config", str(blog), env=env).returncode == 0
    assert len(sandbox.posts()) == 4
