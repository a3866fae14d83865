"""Bad input and hostile conditions: each is reported with its file and reason, costs
nothing else, and loses nothing. Every case sits in one site beside good posts that must
all still go out."""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEST_TOKEN
from sitekit import make_site, run_syncd, write_config

import syncd.cli  # noqa: F401  (imported before forking: the unprivileged child cannot read /root)
import syncd.sync  # noqa: F401
from syncd.engine import Rules, plan
from syncd.ledger import POSTED, Entry
from syncd.model import Post, SiteScan
from syncd.sandbox import Sandbox
from syncd.sites.jekyll import read_site
from syncd.sites.postfile import PostFileError, parse_post_file

ENV = {"MEDIUM_TOKEN": TEST_TOKEN}

GOOD = {
    "_posts/2024-01-01-good-one.md": "---\ntitle: Good one\n---\nFine.\n",
    "_posts/2024-06-01-good-two.md": "---\ntitle: Good two\n---\nAlso fine.\n",
}

TEXT_CASES = {
    "_posts/2024-02-01-bad-yaml.md": "---\ntitle: [unclosed\n---\nx\n",
    "_posts/2024-02-02-unclosed.md": "---\ntitle: Never closed\n\nbody\n",
    "_posts/2024-02-03-list-front-matter.md": "---\n- a\n- b\n---\nx\n",
    "_posts/2024-02-04-bad-date.md": "---\ntitle: Bad date\ndate: next tuesday\n---\nx\n",
    "_posts/2024-02-05-impossible-date.md": "---\ntitle: Impossible\ndate: 2024-02-31\n---\nx\n",
    "_posts/2024-02-06-empty.md": "",
    "_posts/2024-02-07-no-title.md": "---\ntags: [x]\n---\nNo title here.\n",
    "_posts/2024-02-08-list-title.md": "---\ntitle: [a, b]\n---\nA list as title.\n",
    "_posts/2024-02-09-no-front-matter.md": "Just text, as Jekyll allows.\n",
}
BINARY_CASES = {
    "_posts/2024-03-01-latin1.md": b"---\ntitle: Caf\xe9\n---\nx\n",
    "_posts/2024-03-02-junk.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
}
EXPECTED_ERRORS = {
    "_posts/2024-02-01-bad-yaml.md": "bad YAML front matter",
    "_posts/2024-02-02-unclosed.md": "front matter is not closed",
    "_posts/2024-02-03-list-front-matter.md": "front matter must be a YAML mapping",
    "_posts/2024-02-04-bad-date.md": "front matter `date` is not a date",
    "_posts/2024-02-05-impossible-date.md": "bad YAML front matter: day is out of range",
    "_posts/2024-02-06-empty.md": "the file is empty",
    "_posts/2024-03-01-latin1.md": "not UTF-8 text (byte 0xe9 on line 2)",
    "_posts/2024-03-02-junk.md": "binary data",
    "_posts/2024-04-01-huge.md": "too large for a post (11.0 MB",
}
# Jekyll publishes these with a title made from the file name; so does syncd, with a warning.
FALLBACK_TITLES = {
    "_posts/2024-02-07-no-title.md": ("No Title", "no `title`"),
    "_posts/2024-02-08-list-title.md": ("List Title", "`title` is not text"),
    "_posts/2024-02-09-no-front-matter.md": ("No Front Matter", "no `title`"),
}


def hostile_site(root: Path) -> Path:
    make_site(root, {**GOOD, **TEXT_CASES})
    for relative, data in BINARY_CASES.items():
        (root / relative).write_bytes(data)
    with open(root / "_posts/2024-04-01-huge.md", "wb") as handle:
        handle.write(b"---\ntitle: Huge\n---\n")
        handle.truncate(11 * 1024 * 1024)
    (root / "_posts/loop").symlink_to("..", target_is_directory=True)
    (root / "_posts/2024-05-01-fifo.md").parent.mkdir(exist_ok=True)
    os.mkfifo(root / "_posts/2024-05-01-fifo.md")
    return root


def test_reader_reports_each_bad_file_and_reads_the_rest(tmp_path: Path) -> None:
    scan = read_site(hostile_site(tmp_path / "site"))
    errors = {e.source: e.reason for e in scan.errors}
    assert set(errors) == set(EXPECTED_ERRORS)
    for source, words in EXPECTED_ERRORS.items():
        assert words in errors[source], source
    posts = {p.source: p for p in scan.posts}
    assert set(posts) == set(GOOD) | set(FALLBACK_TITLES)
    for source, (title, warning) in FALLBACK_TITLES.items():
        assert posts[source].title == title
        assert any(warning in w for w in posts[source].warnings), posts[source].warnings


def test_a_pass_over_a_hostile_site_posts_every_good_post(tmp_path: Path,
                                                          sandbox: Sandbox) -> None:
    hostile_site(tmp_path / "site")
    config = write_config(tmp_path, sandbox.api_url)
    result = run_syncd("--once", "--config", str(config), env=ENV)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    titles = sorted(p["request"]["title"] for p in sandbox.posts())
    assert titles == sorted(["Good one", "Good two", *(t for t, _ in FALLBACK_TITLES.values())])
    for source, words in EXPECTED_ERRORS.items():
        assert f"{source}: cannot be read: {words}" in result.stderr
    for source, (_, warning) in FALLBACK_TITLES.items():
        assert f"warning: {source}: {warning}" in result.stderr
    items = {i["source"]: i for i in json.loads(
        run_syncd("plan", "--json", "--config", str(config)).stdout)}
    for source in EXPECTED_ERRORS:
        assert items[source]["action"] == "error"
    # The ledger holds exactly the posts that went out; a second pass sends nothing new.
    again = run_syncd("--once", "--config", str(config), env=ENV)
    assert again.returncode == 1
    assert len(sandbox.posts()) == len(titles)


def test_a_file_that_vanishes_before_it_is_read(tmp_path: Path) -> None:
    with pytest.raises(PostFileError, match="disappeared while being read"):
        parse_post_file(tmp_path / "_posts" / "2024-01-01-gone.md")


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder every user can enter (pytest's own tmp folders are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="syncd-perm-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _as_unprivileged(work: callable) -> int:  # type: ignore[valid-type]
    """Run ``work`` in a forked child that cannot bypass file permissions (not root)."""
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            import traceback
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            code = work()
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_permission_denied_on_one_file(shared_folder: Path) -> None:
    site = make_site(shared_folder / "site", GOOD)
    secret = site / "_posts/2024-03-03-private.md"
    secret.write_text("---\ntitle: Private\n---\nx\n")
    for path in [site, *site.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    secret.chmod(0)
    report = shared_folder / "report.json"
    report.touch()
    report.chmod(0o666)

    def work() -> int:
        scan = read_site(site)
        report.write_text(json.dumps({
            "posts": sorted(p.source for p in scan.posts),
            "errors": {e.source: e.reason for e in scan.errors},
        }))
        return 0

    assert _as_unprivileged(work) == 0
    seen = json.loads(report.read_text())
    assert seen["posts"] == sorted(GOOD)
    assert seen["errors"] == {"_posts/2024-03-03-private.md": "cannot be read: Permission denied"}


def test_a_read_only_ledger_folder_stops_the_pass_before_any_post(
    shared_folder: Path, sandbox: Sandbox
) -> None:
    make_site(shared_folder / "site", GOOD)
    config = write_config(shared_folder, sandbox.api_url)
    state = shared_folder / "state"
    state.mkdir(mode=0o755)
    for path in [shared_folder, *shared_folder.rglob("*")]:
        if path != state:
            path.chmod(0o777 if path.is_dir() else 0o644)
    log = shared_folder / "log.txt"

    def work() -> int:
        with open(log, "w") as out:
            sys.stderr = out
            os.environ["MEDIUM_TOKEN"] = TEST_TOKEN
            try:
                syncd.cli.cli.main(["--once", "--config", str(config)], prog_name="syncd")
            except SystemExit as exc:
                return int(exc.code or 0)
        return 0

    assert _as_unprivileged(work) == 4
    assert "error: cannot create the lock file" in log.read_text()
    assert "Permission denied" in log.read_text()
    assert sandbox.posts() == []


def _limit_file_size(limit: int) -> callable:  # type: ignore[valid-type]
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_full_disk_stops_the_pass_before_posting_anything_unrecorded(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    make_site(tmp_path / "site", GOOD)
    config = write_config(tmp_path, sandbox.api_url)
    import subprocess

    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "TZ": "UTC", **ENV}
    done = subprocess.run([sys.executable, "-m", "syncd", "--once", "--config", str(config)],
                          env=env, capture_output=True, text=True, timeout=60,
                          preexec_fn=_limit_file_size(0))
    assert done.returncode == 4, done.stderr
    assert "File too large" in done.stderr
    assert "Traceback" not in done.stderr
    assert sandbox.posts() == []
    # With room again, the same pass posts everything once.
    assert run_syncd("--once", "--config", str(config), env=ENV).returncode == 0
    assert sorted(p["request"]["title"] for p in sandbox.posts()) == ["Good one", "Good two"]


def test_a_clock_that_jumps_backwards_never_reposts() -> None:
    post = Post(source="_posts/2026-05-01-x.md", path=Path("/x"),
                canonical_url="https://e.com/x.html", title="X",
                date=dt.datetime(2026, 5, 1, tzinfo=dt.UTC), body="x")
    entries = {post.canonical_url: Entry(canonical_url="https://e.com/x.html",
                                         source=post.source, state=POSTED,
                                         posted_at="2026-05-02T00:00:00+00:00")}
    back_in_time = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    item = plan(SiteScan(posts=(post,)), entries, back_in_time, Rules())[0]
    assert (item.action, item.reason) == ("skip", "synced")


def test_token_file_readable_by_others_is_warned_about(tmp_path: Path,
                                                       sandbox: Sandbox) -> None:
    make_site(tmp_path / "site", GOOD)
    token = tmp_path / "token"
    token.write_text(TEST_TOKEN)
    token.chmod(0o644)
    config = write_config(tmp_path, sandbox.api_url, token_file="token")
    result = run_syncd("--once", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert f"warning: {token} can be read by other users" in result.stderr
    token.chmod(stat.S_IRUSR | stat.S_IWUSR)
    quiet = run_syncd("--once", "--config", str(config))
    assert "can be read by other users" not in quiet.stderr


def test_plain_http_api_url_is_refused_unless_loopback(tmp_path: Path) -> None:
    make_site(tmp_path / "site", GOOD)
    config = write_config(tmp_path, "http://medium.example/v1")
    result = run_syncd("plan", "--config", str(config))
    assert result.returncode == 2
    assert "medium.api_url: must be https" in result.stderr
    for loopback in ("http://127.0.0.1:8787/v1", "http://localhost:8787/v1",
                     "http://[::1]:8787/v1"):
        ok = run_syncd("plan", "--config", str(write_config(tmp_path, loopback)))
        assert ok.returncode == 0, ok.stderr
