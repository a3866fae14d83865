"""What people see: log lines on stderr, tables and JSON on stdout.

Logs are one line per event, plain when stderr is not a terminal (journald reads them) and
coloured by level on a terminal. Tables use rich, which prints plain text off a terminal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import logging
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from syncd.engine import PlanItem
from syncd.ledger import POSTING, Entry

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from syncd.edits import Report
    from syncd.render import Rendered

_LEVEL_STYLES = {
    logging.WARNING: ("warning", "\x1b[33m"),
    logging.ERROR: ("error", "\x1b[31m"),
    logging.CRITICAL: ("error", "\x1b[31m"),
}


# C0 and C1 control characters and DEL: from a post's title or name they could move the
# cursor, recolour or clear a terminal, or forge a journal line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """``text`` with each control character written as its escape (``\\x1b``)."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def cell(text: str) -> str:
    """Text from a post or the ledger, safe in a rich table: no markup, no control codes."""
    from rich.markup import escape

    return escape(visible(text))


class LineFormatter(logging.Formatter):
    """``warning: message`` / ``error: message``; info and debug lines are the message.

    One line per event whatever the message holds: its line breaks become spaces and other
    control characters their escapes."""

    def __init__(self, colour: bool) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        message = visible(" ".join(record.getMessage().splitlines()))
        label = _LEVEL_STYLES.get(record.levelno)
        if label is None:
            return message
        name, code = label
        prefix = f"{code}{name}:\x1b[0m" if self.colour else f"{name}:"
        return f"{prefix} {message}"


class CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time, so lines land above a progress bar
    (which swaps ``sys.stderr`` for a proxy while it is shown)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def setup_logging(verbosity: int, stream: TextIO | None = None) -> None:
    """Configure the ``syncd`` logger: -q shows warnings and errors, -v adds debug lines."""
    logger = logging.getLogger("syncd")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = CurrentStderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(LineFormatter(colour=(stream or sys.stderr).isatty()))
    logger.addHandler(handler)
    logger.propagate = False
    level = logging.INFO
    if verbosity < 0:
        level = logging.WARNING
    elif verbosity > 0:
        level = logging.DEBUG
    logger.setLevel(level)


def console(stream: TextIO | None = None) -> Console:
    """A console for tables; off a terminal it is wide enough that no URL is ever folded."""
    from rich.console import Console

    stream = stream or sys.stdout
    width = None if stream.isatty() else 1000
    return Console(file=stream, width=width, soft_wrap=False, highlight=False)


def print_json(value: Any, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    stream.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def plan_table(items: Sequence[PlanItem]) -> Table:
    from rich.table import Table

    table = Table(title="What the next pass would do", title_justify="left")
    table.add_column("action")
    table.add_column("reason")
    table.add_column("date")
    table.add_column("title / source", overflow="fold")
    table.add_column("canonical URL", overflow="fold")
    styles = {"post": "bold green", "defer": "yellow", "error": "bold red", "skip": "dim"}
    for item in items:
        title = (f"{cell(item.title)}\n[dim]{cell(item.source)}[/dim]" if item.title
                 else cell(item.source))
        table.add_row(
            f"[{styles.get(item.action, '')}]{item.action}[/]",
            cell(item.reason),
            item.date.strftime("%Y-%m-%d") if item.date else "",
            title,
            cell(item.canonical_url or ""),
        )
    return table


def plan_summary(items: Sequence[PlanItem]) -> str:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.action] = counts.get(item.action, 0) + 1
    order = ("post", "defer", "skip", "error")
    line = ", ".join(f"{counts[a]} {a}" for a in order if a in counts) or "no post files found"
    edited = sum(1 for item in items if item.reason == "changed")
    if edited:
        posts = "1 synced post was" if edited == 1 else f"{edited} synced posts were"
        line += (f"\n{posts} edited after going to Medium, which cannot be updated through its "
                 "API: `syncd diff` shows the edits.")
    maybe = sum(1 for item in items if item.reason == "maybe-moved")
    if maybe:
        posts = "1 post has" if maybe == 1 else f"{maybe} posts have"
        line += (f"\n{posts} the title of a synced post whose file is gone, but not its text: "
                 "held until you say whether each is a new post or that post renamed "
                 "(`syncd status` says how).")
    held = sum(1 for item in items if item.reason == "first-run")
    if held:
        line += (f"\nFirst run: {held} posts are due on an empty ledger, so the first-run guard "
                 "holds them all. Choose: `syncd adopt --all` (post none of them), "
                 "`[sync] since = YYYY-MM-DD` (only recent ones), or `syncd --once --backfill`.")
    return line


def status_state(entry: Entry, changed: Collection[str] = ()) -> str:
    """The contract's state names: an unfinished intent is shown as in doubt; a synced post
    edited on the blog since (its canonical URL in ``changed``) as ``changed``."""
    if entry.state == POSTING:
        return "in-doubt"
    if entry.canonical_url in changed:
        return "changed"
    return entry.state


def attention_first(changed: Collection[str] = ()) -> Callable[[Entry], tuple[int, str, str]]:
    """Sort key for status: what needs the user (in doubt, failed, changed) first, then by
    date."""
    def key(entry: Entry) -> tuple[int, str, str]:
        urgency = {"in-doubt": 0, "failed": 1, "changed": 2}.get(status_state(entry, changed), 3)
        return urgency, entry.posted_at or entry.attempted_at or "", entry.source

    return key


def status_json(entries: Iterable[Entry], changed: Collection[str] = ()) -> dict[str, Any]:
    return {
        "posts": [
            {
                "source": e.source,
                "canonical_url": e.canonical_url,
                "state": status_state(e, changed),
                "title": e.title,
                "medium_url": e.medium_url,
                "medium_id": e.medium_id,
                "publish_status": e.publish_status,
                "posted_at": e.posted_at,
                "attempted_at": e.attempted_at,
                "error": e.error,
                "previous_urls": list(e.previous_urls),
                "acked_at": e.acked_at,
            }
            for e in entries
        ]
    }


def status_table(entries: Sequence[Entry], deferred: Sequence[PlanItem] = (),
                 changed: Collection[str] = (), maybe_moved: Sequence[PlanItem] = ()) -> Table:
    """The ledger, what needs the user first, each with what to do; then deferred posts.
    Posts held as maybe moved (not in the ledger yet) come first: they wait for the user."""
    from rich.table import Table

    table = Table(title="The ledger", title_justify="left")
    table.add_column("state")
    table.add_column("date")
    table.add_column("title / source", overflow="fold")
    table.add_column("Medium URL, or what to do", overflow="fold")
    styles = {"posted": "green", "adopted": "cyan", "in-doubt": "bold red", "failed": "red",
              "deferred": "yellow", "changed": "magenta", "maybe-moved": "bold yellow"}
    for item in maybe_moved:
        table.add_row(
            f"[{styles['maybe-moved']}]maybe-moved[/]",
            item.date.strftime("%Y-%m-%d") if item.date else "",
            f"{cell(item.title or '')}\n[dim]{cell(item.source)}[/dim]",
            cell(_ask_if_moved(item)),
        )
    for entry in entries:
        state = status_state(entry, changed)
        when = (entry.posted_at or entry.attempted_at or "")[:10]
        table.add_row(
            f"[{styles.get(state, '')}]{state}[/]",
            when,
            f"{cell(entry.title)}\n[dim]{cell(entry.source)}[/dim]",
            cell(_what_to_do(entry, state)),
        )
    for item in deferred:
        table.add_row(
            f"[{styles['deferred']}]deferred[/]",
            item.date.strftime("%Y-%m-%d") if item.date else "",
            f"{cell(item.title or '')}\n[dim]{cell(item.source)}[/dim]",
            f"posted by the first pass after {item.date:%Y-%m-%d %H:%M %Z}" if item.date else "",
        )
    return table


def _ask_if_moved(item: PlanItem) -> str:
    old = item.entry.source if item.entry is not None else "?"
    return (f"not posted: a synced post of this title, {old}, is gone. A new post: syncd "
            f"resolve {item.source} --not-posted; {old} renamed and edited: syncd resolve "
            f"{item.source} --moved")


def _what_to_do(entry: Entry, state: str) -> str:
    if state == "in-doubt":
        return (f"sent, answer unknown ({entry.error or 'syncd stopped mid-request'}). Check "
                f"Medium, then: syncd resolve {entry.source} --medium-url URL, or --not-posted")
    if state == "failed":
        return f"Medium refused it ({entry.error}); fix the post, the next pass tries again"
    if state == "changed":
        where = entry.medium_url or "(Medium URL not recorded)"
        return f"{where}\nedited on the blog since it was posted: syncd diff {entry.source}"
    return entry.medium_url or ""


def status_summary(entries: Iterable[Entry], deferred: Sequence[PlanItem] = (),
                   changed: Collection[str] = (), maybe_moved: Sequence[PlanItem] = ()) -> str:
    """One line: how many posts are in each state, and when the next deferred one goes."""
    counts: dict[str, int] = {}
    for entry in entries:
        state = status_state(entry, changed)
        counts[state] = counts.get(state, 0) + 1
    order = ("posted", "adopted", "changed", "in-doubt", "failed")
    parts = [f"{counts.get(state, 0)} {state.replace('-', ' ')}" for state in order
             if counts.get(state) or state != "changed"]
    if maybe_moved:
        parts.append(f"{len(maybe_moved)} held as maybe moved")
    if deferred:
        first = min(deferred, key=lambda item: item.date or dt.datetime.max.replace(tzinfo=dt.UTC))
        when = f"{first.date:%Y-%m-%d}" if first.date else "later"
        parts.append(f"{len(deferred)} deferred (next: {visible(repr(first.title))} on {when})")
    return ", ".join(parts)


def created_table(rows: Sequence[tuple[str, str, str, str]]) -> Table:
    """Title, canonical URL, Medium URL and status of posts created in a pass."""
    from rich.table import Table

    table = Table(title="Created on Medium", title_justify="left")
    table.add_column("title", overflow="fold")
    table.add_column("canonical URL (on the site)", overflow="fold")
    table.add_column("Medium URL", overflow="fold")
    table.add_column("status")
    for row in rows:
        table.add_row(*(cell(value) for value in row))
    return table


PROGRESS_FROM = 5


@contextmanager
def pass_progress(enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr for a pass that posts many posts, on a terminal only.

    Yields ``advance(done, total)``; the bar appears once ``total`` reaches PROGRESS_FROM.
    """
    if not enabled:
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(TextColumn("posting"), BarColumn(), MofNCompleteColumn(),
                        console=Console(stderr=True), transient=True)
    task: list[Any] = []

    def advance(done: int, total: int) -> None:
        if total < PROGRESS_FROM:
            return
        if not task:
            progress.start()
            task.append(progress.add_task("posting", total=total))
        progress.update(task[0], completed=done, total=total)

    try:
        yield advance
    finally:
        if task:
            progress.stop()


def print_edit(report: Report, colour: bool = False, stream: TextIO | None = None) -> None:
    """One post's edit as a user reads it: where to fix it, then a text diff."""
    stream = stream or sys.stdout
    after = report.after
    lines = report.diff()
    if report.before is not None and not lines:
        stream.write(f"{report.source}: matches what Medium has; nothing to do.\n")
        return
    stream.write(visible(f"{report.source}: {after.title}") + "\n")
    if report.medium_url:
        stream.write(f"  edit on Medium:  {report.medium_url}\n")
    stream.write(f"  new version:     syncd render {report.source} --open\n")
    stream.write(f"  when done:       syncd ack {report.source}\n")
    if report.before is None:
        shown = "changed" if report.changed else "not changed"
        stream.write(f"  syncd adopted this post without sending it, so it has no copy of what "
                     f"Medium shows; its title and text have {shown} since.\n\n")
        return
    when = f" (as of {report.sent_at})" if report.sent_at else ""
    stream.write(f"\n--- on Medium{when}\n+++ on the blog now\n")
    styles = {"-": "\x1b[31m", "+": "\x1b[32m", "@": "\x1b[36m"}
    for line in lines[2:]:
        style = styles.get(line[:1], "") if colour else ""
        stream.write(f"{style}{visible(line)}{chr(27) + '[0m' if style else ''}\n")
    stream.write("\n")


def write_preview(source: str, rendered: Rendered) -> Path:
    """The rendered post as a standalone page in a folder only this user can enter, for a
    browser. Never a fixed name in a shared /tmp: another user could plant a symlink there
    and have syncd overwrite whatever it points to."""
    folder = preview_folder(os.environ)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", source).strip("-") or "post"
    page = folder / f"{name}.html"
    text = (
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(rendered.title)}</title>"
        "<style>body{max-width:42em;margin:2em auto;font:18px/1.6 Georgia,serif}"
        "pre{background:#f4f4f4;padding:1em;overflow:auto}</style></head><body>\n"
        "<!-- Select all, copy, and paste into Medium's editor -->\n"
        f"{rendered.html}</body></html>\n"
    )
    fd = os.open(page, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return page


def preview_folder(environ: Mapping[str, str]) -> Path:
    """``$XDG_RUNTIME_DIR/syncd`` when that is a folder of ours that nobody else can enter
    (pages reuse one place, and vanish at logout), else a fresh ``mkdtemp`` folder (0700)."""
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and _private_folder(Path(runtime)):
        folder = Path(runtime) / "syncd"
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
        if _private_folder(folder):
            return folder
    return Path(tempfile.mkdtemp(prefix="syncd-render-"))


def _private_folder(folder: Path) -> bool:
    """A real folder (not a symlink), owned by this user, closed to group and others."""
    try:
        info = folder.lstat()
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and not info.st_mode & 0o077)


def open_in_browser(url: str) -> bool:
    """Open ``url`` in the user's browser ($BROWSER is honoured); False when there is none."""
    import webbrowser

    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False
