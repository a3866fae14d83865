"""The ledger: durable entries keyed by canonical URL, refused when corrupt, locked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sitekit import make_site, run_syncd, write_config

from syncd.errors import LedgerError
from syncd.ledger import FAILED, POSTED, POSTING, SCHEMA_VERSION, Entry, Ledger, ledger_lock


def test_missing_ledger_is_empty_and_not_created_by_reading(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ledger.json"
    ledger = Ledger(path)
    assert ledger.entries() == {}
    assert not path.exists()


def test_entries_round_trip_and_replace_in_place(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    ledger = Ledger(path)
    intent = Entry(canonical_url="https://e.com/a.html", source="_posts/a.md", state=POSTING,
                   title="A", attempted_at="2026-01-01T00:00:00+00:00")
    ledger.put(intent)
    posted = Entry(canonical_url=intent.canonical_url, source=intent.source, state=POSTED,
                   title="A", medium_id="abc", medium_url="https://medium.com/@u/a-abc")
    ledger.put(posted)
    ledger.put(Entry(canonical_url="https://e.com/b.html", source="_posts/b.md", state=POSTED))
    ledger.close()
    reopened = Ledger(path).entries()
    assert reopened[intent.canonical_url] == posted
    assert len(reopened) == 2
    data = json.loads(path.read_text())
    assert data["meta"]["1"] == {"schema": SCHEMA_VERSION}
    assert len(data["posts"]) == 2


def test_put_many_is_one_batch(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.json")
    ledger.put_many(
        Entry(canonical_url=f"https://e.com/{i}", source=f"{i}.md", state=POSTED)
        for i in range(500)
    )
    assert len(ledger.entries()) == 500


@pytest.mark.parametrize("content", ["", "{not json", "[]", '{"posts": {}, "meta": {}}',
                                     '{"meta": {"1": {"schema": 99}}, "posts": {}}'])
def test_corrupt_or_unknown_ledger_is_refused_and_left_alone(tmp_path: Path,
                                                             content: str) -> None:
    path = tmp_path / "ledger.json"
    path.write_text(content)
    with pytest.raises(LedgerError) as caught:
        Ledger(path).entries()
    assert str(path) in str(caught.value)
    assert "will not overwrite" in str(caught.value)
    assert caught.value.exit_status == 4
    assert path.read_text() == content


def test_write_leaves_no_temp_files(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.json")
    for i in range(5):
        ledger.put(Entry(canonical_url=f"https://e.com/{i}", source="s", state=POSTED))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json"]




def test_second_process_is_refused_by_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    code = (
        "import sys, time; from pathlib import Path; from syncd.ledger import ledger_lock\n"
        "with ledger_lock(Path(sys.argv[1])):\n"
        "    print('held', flush=True); time.sleep(30)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LedgerError) as caught, ledger_lock(path):
            pass
        assert f"pid {holder.pid}" in str(caught.value)
        assert caught.value.exit_status == 4
    finally:
        holder.kill()
        holder.wait()
    with ledger_lock(path):
        pass


def test_last_good_copy_is_kept_beside_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    first = Ledger(path)
    first.put(Entry(canonical_url="https://e.com/a", source="a.md", state=POSTED))
    first.close()
    before = path.read_bytes()
    second = Ledger(path)
    second.put(Entry(canonical_url="https://e.com/b", source="b.md", state=POSTED))
    second.put(Entry(canonical_url="https://e.com/c", source="c.md", state=POSTED))
    assert (tmp_path / "ledger.json.bak").read_bytes() == before
    assert len(Ledger(path).entries()) == 3


def test_a_lost_ledger_with_its_copy_beside_it_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    ledger = Ledger(path)
    ledger.put(Entry(canonical_url="https://e.com/a", source="a.md", state=POSTED))
    Ledger(path).put(Entry(canonical_url="https://e.com/b", source="b.md", state=POSTED))
    path.unlink()
    with pytest.raises(LedgerError) as caught:
        Ledger(path)
    assert f"cp {tmp_path / 'ledger.json.bak'} {path}" in str(caught.value)
    assert caught.value.exit_status == 4


def test_a_failed_write_is_a_ledger_error_and_the_old_file_survives(tmp_path: Path) -> None:
    """A full disk, simulated with a file-size limit in a child process."""
    path = tmp_path / "ledger.json"
    ledger = Ledger(path)
    ledger.put(Entry(canonical_url="https://e.com/a", source="a.md", state=POSTED))
    before = path.read_text()
    code = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from syncd.errors import LedgerError\n"
        "from syncd.ledger import Entry, Ledger\n"
        "ledger = Ledger(Path(sys.argv[1]))\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))\n"
        "try:\n"
        "    ledger.put(Entry(canonical_url='https://e.com/b', source='b.md', state='posted'))\n"
        "except LedgerError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(4)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 4, done.stderr
    assert "cannot write the ledger" in done.stdout
    assert "File too large" in done.stdout
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_temp_files_of_a_killed_writer_are_swept(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    Ledger(path).put(Entry(canonical_url="https://e.com/a", source="a.md", state=POSTED))
    (tmp_path / ".ledger.json.abc123").write_text('{"half": ')
    (tmp_path / "other.json").write_text("{}")
    ledger = Ledger(path)
    assert ledger.sweep_temp_files() == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.json", "other.json"]
    assert len(ledger.entries()) == 1


def test_put_many_replaces_and_adds_in_one_write(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import syncd.ledger as ledger_module

    path = tmp_path / "l.json"
    ledger = Ledger(path)
    ledger.put_many(Entry(canonical_url=f"https://e.com/{i}", source=f"{i}.md", state=POSTED)
                    for i in range(3))
    writes: list[Path] = []
    real_replace = ledger_module.replace_file
    monkeypatch.setattr(ledger_module, "replace_file",
                        lambda target, content: (writes.append(target),
                                                 real_replace(target, content)))
    ledger.put_many([
        Entry(canonical_url="https://e.com/1", source="1.md", state=FAILED, error="400: no"),
        Entry(canonical_url="https://e.com/9", source="9.md", state=POSTED),
    ])
    assert writes == [path]
    entries = Ledger(path).entries()
    assert sorted(entries) == [f"https://e.com/{i}" for i in (0, 1, 2, 9)]
    assert entries["https://e.com/1"].state == FAILED


def test_ledger_file_is_json_with_one_record_per_line(tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    ledger = Ledger(path)
    ledger.put_many(Entry(canonical_url=f"https://e.com/{i}", source=f"{i}.md", state=POSTED,
                          title="Ünïcode, \"quoted\"\nand a newline") for i in range(20))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert sum(1 for line in lines if '"canonical_url"' in line) == 20
    assert "Ünïcode" in path.read_text(encoding="utf-8")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert list(document["posts"]) == [str(i) for i in range(1, 21)]
    assert Ledger(path).entries()["https://e.com/3"].title == "Ünïcode, \"quoted\"\nand a newline"


def test_the_file_stays_a_tinydb_database(tmp_path: Path) -> None:
    """Written from the entries, not through TinyDB: TinyDB itself still reads it."""
    from tinydb import TinyDB

    path = tmp_path / "l.json"
    ledger = Ledger(path)
    ledger.put_many(Entry(canonical_url=f"https://e.com/{i}", source=f"{i}.md", state=POSTED,
                          previous_urls=(f"https://e.com/old/{i}",)) for i in range(600))
    ledger.record(Entry(canonical_url="https://e.com/new", source="new.md", state=POSTING))
    ledger.compact()
    ledger.remove("https://e.com/3")
    with TinyDB(path) as db:
        stored = {doc["canonical_url"]: doc for doc in db.table("posts").all()}
        assert db.table("meta").all() == [{"schema": SCHEMA_VERSION}]
    assert len(stored) == 600 and "https://e.com/3" not in stored
    assert stored["https://e.com/new"]["state"] == POSTING
    assert stored["https://e.com/7"]["previous_urls"] == ["https://e.com/old/7"]
    assert {url: Entry.from_document(doc) for url, doc in stored.items()} == ledger.entries()


def test_opening_and_listing_read_the_file_once_and_never_serve_a_stale_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import syncd.ledger as ledger_module

    path = tmp_path / "l.json"
    Ledger(path).put(Entry(canonical_url="https://e.com/1", source="1.md", state=POSTED))
    ledger_module._ENTRIES.clear()  # as a fresh process finds it
    reads: list[int] = []
    real_read = ledger_module._read_file
    monkeypatch.setattr(ledger_module, "_read_file",
                        lambda path: (reads.append(1), real_read(path))[1])
    assert list(Ledger(path).entries()) == ["https://e.com/1"]
    assert len(reads) == 1
    opened = Ledger(path)
    Ledger(path).put(Entry(canonical_url="https://e.com/2", source="2.md", state=POSTED))
    assert sorted(opened.entries()) == ["https://e.com/1", "https://e.com/2"]


def test_what_this_process_remembers_of_the_ledger_never_hides_another_writer(
        tmp_path: Path) -> None:
    import syncd.ledger as ledger_module

    path = tmp_path / "l.json"
    ledger = Ledger(path)
    ledger.put_many(Entry(canonical_url=f"https://e.com/{i}", source=f"{i}.md", state=POSTED)
                    for i in range(50))
    assert len(Ledger(path).entries()) == 50
    ledger.put(Entry(canonical_url="https://e.com/7", source="7.md", state=FAILED, error="x"))
    remembered = Ledger(path).entries()
    ledger_module._ENTRIES.clear()
    assert Ledger(path).entries() == remembered
    assert remembered["https://e.com/7"].state == FAILED
    # Another process writes: this one must see it, not what it remembered.
    subprocess.run([sys.executable, "-c", (
        "import sys; from pathlib import Path; from syncd.ledger import Ledger, Entry; "
        "Ledger(Path(sys.argv[1])).put(Entry(canonical_url='https://e.com/new', "
        "source='new.md', state='posting'))"), str(path)], check=True)
    seen = Ledger(path).entries()
    assert seen["https://e.com/new"].state == POSTING and len(seen) == 51


def test_a_ledger_written_by_tinydb_itself_is_read(tmp_path: Path) -> None:
    """The format is TinyDB's, both ways: a database TinyDB made (its own layout, with its
    `_default` table, ids as it numbers them) is syncd's ledger."""
    from tinydb import TinyDB

    path = tmp_path / "l.json"
    with TinyDB(path) as db:
        db.insert({"unrelated": True})
        db.table("meta").insert({"schema": SCHEMA_VERSION})
        posts = db.table("posts")
        posts.insert({"canonical_url": "https://e.com/a", "source": "a.md", "state": POSTED})
        posts.insert({"canonical_url": "https://e.com/b", "source": "b.md", "state": "adopted",
                      "previous_urls": ["https://e.com/old-b"]})
    entries = Ledger(path).entries()
    assert list(entries) == ["https://e.com/a", "https://e.com/b"]
    assert entries["https://e.com/b"].previous_urls == ("https://e.com/old-b",)


GOOD_DOCUMENT = {"canonical_url": "https://blog.example/2024/01/05/first-steps.html",
                 "source": "_posts/2024-01-05-first-steps.md", "state": "posted",
                 "title": "First steps", "medium_url": "https://medium.com/@u/first-steps-1",
                 "posted_at": "2026-01-01T00:00:00+00:00"}


@pytest.mark.parametrize(("change", "named"), [
    ({"state": 5}, "state: 5 is not text"),
    ({"state": "weird"}, "state: 'weird' is not one of"),
    ({"canonical_url": None}, "canonical_url: None is not text"),
    ({"title": ["First steps"]}, "title: ['First steps'] is not text"),
    ({"source": 7}, "source: 7 is not text"),
    ({"posted_at": "yesterday"}, "posted_at: 'yesterday' is not an ISO 8601 time"),
    ({"posted_at": "2026-01-01T00:00:00"}, "posted_at: '2026-01-01T00:00:00' is not an ISO"),
    ({"previous_urls": "https://old.example/"}, "previous_urls: 'https://old.example/' is not"),
    ({"previous_urls": [1]}, "previous_urls: it holds something other than URLs"),
    ({"sent": "html"}, "sent: 'html' is not an object or null"),
    ({"source": None}, "source: None is not text"),
])
def test_a_hand_edited_entry_of_the_wrong_shape_stops_every_command_and_is_kept(
        tmp_path: Path, change: dict[str, object], named: str) -> None:
    """A ledger entry holding what syncd never writes (a careless hand edit) made `status`
    crash with a traceback (a rich markup error for an unknown state) and would have crashed
    the service's daily-limit reckoning; now every command refuses the ledger, naming the
    document and the field, and leaves the file as it was."""
    make_site(tmp_path / "site")
    config = write_config(tmp_path, "http://127.0.0.1:9/v1")
    ledger = tmp_path / "state" / "ledger.json"
    ledger.parent.mkdir()
    document = {**GOOD_DOCUMENT, **change}
    text = json.dumps({"meta": {"1": {"schema": SCHEMA_VERSION}}, "posts": {"1": document}})
    ledger.write_text(text)
    for command in (["status"], ["plan"], ["--once"]):
        result = run_syncd(*command, "--config", str(config), env={"MEDIUM_TOKEN": "t"})
        assert result.returncode == 4, (command, result.stderr)
        assert f"post document 1 cannot be read ({named}" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert ledger.read_text() == text


def test_a_journal_line_of_the_wrong_shape_is_named_by_its_line(
        tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    Ledger(path).put(Entry(canonical_url="https://x/a", source="a.md", state=POSTED))
    journal = path.with_name("ledger.json.journal")
    journal.write_text(json.dumps({"put": {"canonical_url": "https://x/b", "source": "b.md",
                                           "state": "posted", "posted_at": 3}}) + "\n")
    with pytest.raises(LedgerError) as caught:
        Ledger(path).entries()
    assert "line 1 of its journal cannot be read (posted_at: 3 is not text or null)" \
        in str(caught.value)
