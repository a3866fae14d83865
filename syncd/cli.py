"""The ``syncd`` command line: a few lines per command, calling syncd.app and syncd.output.

Every command takes ``--config``, ``-v`` and ``-q`` before or after its name. A
:class:`~syncd.errors.SyncdError` becomes one ``error:`` line and its exit status; the
contract's statuses are 0 done, 1 some posts failed or are in doubt, 2 usage, config or a
decision needed, 3 token refused, 4 ledger unusable.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from syncd import __version__, output
from syncd.config import Config, find_config, load_config
from syncd.errors import SyncdError

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("syncd")


@dataclass
class Options:
    """Options shared by every command, gathered from before and after the command name."""

    config_path: str | None = None
    verbosity: int = 0


def _options(ctx: click.Context) -> Options:
    root = ctx.find_root()
    if not isinstance(root.obj, Options):
        root.obj = Options()
    return root.obj


def _set_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        _options(ctx).config_path = value


def _add_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    _options(ctx).verbosity += value


def _add_quiet(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    _options(ctx).verbosity -= value


def common_options(command: F) -> F:
    """--config, -v, -q on a command; they merge with the same options given before it."""
    decorators = [
        click.option("--config", "config_path", metavar="PATH", expose_value=False,
                     callback=_set_config, help="The config file (else $SYNCD_CONFIG, "
                     "./syncd.toml, ~/.config/syncd/config.toml, /etc/syncd/config.toml)."),
        click.option("-v", "--verbose", count=True, expose_value=False, callback=_add_verbose,
                     help="More detail in the log."),
        click.option("-q", "--quiet", count=True, expose_value=False, callback=_add_quiet,
                     help="Only warnings and errors."),
    ]
    for decorate in reversed(decorators):
        command = decorate(command)
    return command


def handle_errors(function: F) -> F:
    """Turn SyncdError into one message and its exit status, without a traceback."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        output.setup_logging(_options(ctx).verbosity)
        try:
            return function(*args, **kwargs)
        except SyncdError as exc:
            log.error("%s", exc)
            ctx.exit(exc.exit_status)

    return wrapper  # type: ignore[return-value]


def load(ctx: click.Context) -> Config:
    """Find, read and validate the config once; warnings go to the log."""
    path = find_config(_options(ctx).config_path, os.environ)
    config = load_config(path)
    for warning in config.warnings:
        log.warning("%s", warning)
    return config


def secret_environ(config: Config) -> dict[str, str]:
    """The environment for a command that reads the token: a private copy, while the
    variables that may hold secrets leave the process's own environment, so the processes
    syncd starts (``[notify]`` commands, a browser) cannot find them there
    (:mod:`syncd.procenv`)."""
    from syncd.config import DEFAULT_TOKEN_ENV
    from syncd.procenv import withdraw

    environ = dict(os.environ)
    names = [DEFAULT_TOKEN_ENV, config.medium.token_env or "", "MEDIUM_CLIENT_SECRET"]
    if config.login is not None and config.login.client_secret_env:
        names.append(config.login.client_secret_env)
    withdraw(names)
    return environ


@click.group(
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Examples:
  syncd demo                      see it work on the bundled example site
  syncd plan --config site.toml   what would be posted, touching nothing
  syncd --once --dry-run          a full pass that sends and records nothing
  syncd --once                    post what is new, then exit
  syncd status --json             the ledger, for scripts""",
)
@click.option("--once", is_flag=True, help="One catch-up pass, then exit.")
@click.option("--dry-run", is_flag=True, help="With --once: send nothing, record nothing.")
@click.option("--backfill", is_flag=True,
              help="With --once, on a first run: post every old post, oldest first, backdated, "
              "as Medium's daily limit allows.")
@common_options
@click.version_option(__version__, prog_name="syncd")
@click.pass_context
@handle_errors
def cli(ctx: click.Context, once: bool, dry_run: bool, backfill: bool) -> None:
    """Cross-post new Jekyll posts to Medium, with a canonical link back, never twice.

    Without a command, syncd runs as the service: a catch-up pass, then it watches the site
    and posts each new post seconds after it is saved, until SIGTERM (SIGHUP reloads the
    config). With --once it does one pass and exits with 0 (done), 1 (some posts failed or
    are in doubt), 2 (usage or config, or a decision only you can make), 3 (Medium refused
    the token) or 4 (the ledger cannot be used, or another syncd holds it).
    """
    if ctx.invoked_subcommand is not None:
        if once or dry_run or backfill:
            raise click.UsageError("--once, --dry-run and --backfill go without a command")
        return
    if (dry_run or backfill) and not once:
        raise click.UsageError("--dry-run and --backfill go with --once")
    if not once:
        from syncd.service import run_service

        config = load(ctx)
        ctx.exit(run_service(config, secret_environ(config)))
    from syncd.app import run_once

    config = load(ctx)
    with output.pass_progress(enabled=sys.stderr.isatty()) as advance:
        report = run_once(config, secret_environ(config), dry_run=dry_run, backfill=backfill,
                          progress=advance)
    log.info("%s%s", "dry run: " if dry_run else "", report.summary())
    ctx.exit(report.exit_status)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The contract's JSON list, for scripts.")
@common_options
@click.pass_context
@handle_errors
def plan(ctx: click.Context, as_json: bool) -> None:
    """Show what `syncd --once` would do for every post, touching nothing.

    No network and no token are needed.

    \b
    Example:
      syncd plan --config site.toml --json | jq '.[] | select(.action == "post")'
    """
    from syncd.app import make_plan

    config = load(ctx)
    result = make_plan(config)
    if as_json:
        output.print_json([item.to_json() for item in result.items])
        return
    out = output.console()
    out.print(output.plan_table(result.items))
    out.print(output.plan_summary(result.items), markup=False)
    notes = _render_warnings(config, result.items)
    if notes:
        out.print("\nWhat Medium would not get as written:", markup=False)
        for note in notes:
            out.print(f"  {output.visible(note)}", markup=False, highlight=False)


def _render_warnings(config: Config, items: list[Any]) -> list[str]:
    """Reader and render warnings for the posts a pass would send (or the guard holds)."""
    from syncd.render import render_post
    from syncd.render_context import RenderContext

    context = RenderContext.for_config(config, [i.post for i in items if i.post is not None])
    notes = []
    for item in items:
        if item.post is not None and item.reason in ("new", "first-run"):
            for warning in item.post.warnings + render_post(item.post, context).warnings:
                notes.append(f"{item.source}: {warning}")
    return notes


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="A JSON object with a `posts` list.")
@common_options
@click.pass_context
@handle_errors
def status(ctx: click.Context, as_json: bool) -> None:
    """Show what the ledger holds: posted, adopted, changed, in doubt, failed.

    A post is `changed` when it was edited on the blog after it went to Medium, which
    syncd cannot update: `syncd diff` shows the edit, `syncd ack` records Medium as updated.

    \b
    Example:
      syncd status --json | jq '.posts[] | select(.state == "in-doubt")'
    """
    from syncd.app import status_view

    config = load(ctx)
    view = status_view(config)
    entries = sorted(view.entries, key=output.attention_first(view.changed))
    if as_json:
        output.print_json(output.status_json(entries, view.changed))
        return
    out = output.console()
    if not entries and not view.deferred:
        out.print(f"The ledger {config.sync.ledger} is empty: nothing has been posted yet. "
                  "`syncd plan` shows what the first pass would do.")
        return
    out.print(output.status_table(entries, view.deferred, view.changed, view.maybe_moved))
    out.print(output.status_summary(entries, view.deferred, view.changed, view.maybe_moved),
              markup=False)


@cli.command()
@click.argument("source")
@click.option("--open", "open_browser", is_flag=True,
              help="Write the post as an HTML page and open it in a browser (the page's "
              "file:// address is printed too), to copy it into Medium's editor with its "
              "formatting. The page goes in $XDG_RUNTIME_DIR/syncd, or a new private folder "
              "in the temp folder.")
@common_options
@click.pass_context
@handle_errors
def render(ctx: click.Context, source: str, open_browser: bool) -> None:
    """Print exactly the title, tags and HTML that would be sent for one post.

    SOURCE is the post's path relative to the site root, or a path to the file. For a post
    edited after it went to Medium, this is the new version to paste into Medium's editor.
    With [medium] upload_images, images uploaded before show their Medium URL; with
    [medium] tables = "image", a table not uploaded yet shows as syncd-table:NAME.png,
    which the pass uploads first (or sends as text if Medium refuses it).

    \b
    Examples:
      syncd render _posts/2025-03-14-notes.md
      syncd render _posts/2025-03-14-notes.md --open
    """
    from syncd.render import render_post
    from syncd.sites import read_site

    config = load(ctx)
    scan = read_site(config.site)
    wanted = _source_key(source, config.site.root)
    for error in scan.errors:
        if error.source == wanted:
            raise SyncdError(f"{error.source}: cannot be read: {error.reason}")
    post = next((p for p in scan.posts if p.source == wanted), None)
    if post is None:
        raise SyncdError(f"{source}: no such post in {config.site.root}")
    from syncd.render_context import RenderContext

    rendered = render_post(post, RenderContext.for_config(config, scan.posts))
    for warning in rendered.warnings:
        log.warning("%s: %s", post.source, warning)
    if open_browser:
        page = output.write_preview(post.source, rendered)
        click.echo(page.as_uri())
        if not output.open_in_browser(page.as_uri()):
            log.info("no browser to open here: open the address above on this machine")
        return
    click.echo(f"title: {rendered.title}")
    click.echo(f"tags: {', '.join(rendered.tags)}")
    click.echo(f"canonical_url: {post.canonical_url}")
    click.echo("")
    click.echo(rendered.html, nl=False)


@cli.command()
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
@common_options
@click.pass_context
@handle_errors
def diff(ctx: click.Context, sources: tuple[str, ...]) -> None:
    """Show what changed in synced posts since they went to Medium, as text.

    Without SOURCE, every post edited since it was posted. Medium's API cannot update a
    post: edit it on Medium (the Medium URL is printed; `syncd render SOURCE --open` gives
    the new version to paste), then `syncd ack SOURCE`. `syncd status --json` lists the
    changed posts for scripts.

    \b
    Examples:
      syncd diff
      syncd diff _posts/2025-03-14-notes.md
    """
    from syncd.app import edit_reports

    config = load(ctx)
    keys = [_source_key(source, config.site.root) for source in sources]
    reports = edit_reports(config, keys)
    if not reports:
        click.echo("No synced post was edited since it went to Medium.")
    for report in reports:
        output.print_edit(report, colour=sys.stdout.isatty())


@cli.command()
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
@click.option("--all", "ack_all", is_flag=True, help="Every post edited since it was posted.")
@common_options
@click.pass_context
@handle_errors
def ack(ctx: click.Context, sources: tuple[str, ...], ack_all: bool) -> None:
    """Record that Medium has the post as it is now (you updated it by hand, or chose not to).

    The post is `posted` again, and only a later edit is reported.

    \b
    Examples:
      syncd ack _posts/2025-03-14-notes.md
      syncd ack --all
    """
    from syncd.app import ack as acknowledge

    if bool(sources) == ack_all:
        raise click.UsageError("name SOURCE files, or give --all")
    config = load(ctx)
    keys = [_source_key(source, config.site.root) for source in sources]
    entries = acknowledge(config, keys)
    for entry in entries:
        log.info("%s: recorded as up to date on Medium", entry.source)
    if not entries:
        log.info("no synced post was edited since it went to Medium: nothing to record")


def _source_key(source: str, root: Path) -> str:
    path = Path(source)
    if path.is_absolute() or path.exists():
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return Path(source).as_posix()


@cli.command()
@click.argument("source")
@click.option("--medium-url", metavar="URL", help="It is on Medium, at this URL.")
@click.option("--not-posted", is_flag=True,
              help="It is not on Medium (a new post): post it next pass.")
@click.option("--moved", is_flag=True,
              help="Held as maybe moved: it is the synced post of the same title, renamed and "
              "edited; record it under its new URL, post nothing.")
@common_options
@click.pass_context
@handle_errors
def resolve(ctx: click.Context, source: str, medium_url: str | None, not_posted: bool,
            moved: bool) -> None:
    """Settle a post syncd will not settle by itself, after checking by hand.

    In doubt: a create whose answer never came (timeout, dropped connection, crash) may or
    may not have made the post, and Medium cannot be asked, so syncd never re-sends it by
    itself. Maybe moved: a new post file has the title of a synced post whose file is gone,
    but not its text; a title alone does not tell a renamed post from a new one ("Weekly
    notes"), so syncd holds it until you say.

    \b
    Examples:
      syncd resolve _posts/2025-03-14-notes.md --medium-url https://medium.com/@me/notes-1a2b3c4d5e6f
      syncd resolve _posts/2025-03-14-notes.md --not-posted
      syncd resolve _posts/2025-03-21-weekly-notes.md --moved
    """
    from syncd.app import resolve as settle

    if (medium_url is not None) + not_posted + moved != 1:
        raise click.UsageError("give exactly one of --medium-url URL, --not-posted and --moved")
    config = load(ctx)
    settle(config, _source_key(source, config.site.root), medium_url, moved=moved)


@cli.command()
@common_options
@click.pass_context
@handle_errors
def check(ctx: click.Context) -> None:
    """Check the config, the site, the ledger, the API and the token; post nothing.

    Each line is ✓ or ✗ with the fix. Exit 0 only when everything passes.

    \b
    Example:
      syncd check --config /etc/syncd/config.toml
    """
    from syncd.app import run_checks

    config = load(ctx)
    checks = run_checks(config, secret_environ(config))
    for item in checks:
        mark = "✓" if item.ok else "✗"
        line = f"{mark} {item.what}" + (f"\n    fix: {item.fix}" if not item.ok else "")
        click.echo(line)
    failed = [item for item in checks if not item.ok]
    ctx.exit(max((item.exit_status for item in failed), default=0))


@cli.command()
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
@click.option("--all", "adopt_all", is_flag=True,
              help="Every post a pass would post now (or the first-run guard holds).")
@click.option("--medium-url", metavar="URL",
              help="With one SOURCE: the Medium post you made of it by hand.")
@common_options
@click.pass_context
@handle_errors
def adopt(ctx: click.Context, sources: tuple[str, ...], adopt_all: bool,
          medium_url: str | None) -> None:
    """Record posts as already handled, without posting them (for a first install).

    \b
    Examples:
      syncd adopt --all                      # an existing blog: only new posts go out
      syncd adopt _posts/2024-05-01-old.md --medium-url https://medium.com/@me/old-0a1b2c3d4e5f
    """
    from syncd.app import adopt as record

    if bool(sources) == adopt_all:
        raise click.UsageError("name SOURCE files, or give --all")
    config = load(ctx)
    keys = [_source_key(source, config.site.root) for source in sources]
    entries = record(config, keys, medium_url)
    for entry in entries:
        log.debug("%s: adopted (%s)", entry.source, entry.canonical_url)
    log.info("adopted %d posts: they will not be posted; new posts from now on will be",
             len(entries))


@cli.command()
@click.option("--no-browser", is_flag=True,
              help="Print the authorization URL instead of opening a browser (headless hosts).")
@click.option("--port", default=0, show_default=True, type=int,
              help="Loopback port that catches Medium's redirect (0 picks a free one).")
@common_options
@click.pass_context
@handle_errors
def login(ctx: click.Context, no_browser: bool, port: int) -> None:
    """OAuth for legacy Medium apps: get a token and store it in medium.token_file.

    Needs [login] client_id (and the client secret in the environment or a file) and
    [medium] token_file in the config. Integration-token users never need this.

    \b
    Example:
      MEDIUM_CLIENT_SECRET=... syncd login --no-browser
    """
    from syncd.login import run_login

    config = load(ctx)
    run_login(config, secret_environ(config), open_browser=not no_browser, port=port)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8787, show_default=True, type=int, help="0 picks a free port.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None,
              help="Keep posts and images in this folder across restarts.")
@click.option("--token", "tokens", multiple=True,
              help="A made-up integration token the emulator accepts, one user each "
                   "(repeatable). Never your real Medium token: the emulator needs none.")
@click.option("--token-file", type=click.Path(dir_okay=False), default=None,
              help="Read more tokens from this file, whitespace-separated; # starts a comment.")
@click.option("--daily-limit", default=10, show_default=True, type=int,
              help="Posts per user per rolling 24 hours.")
@click.option("--client-id", default=None, help="The built-in OAuth client's id.")
@click.option("--client-secret", default=None, help="The built-in OAuth client's secret.")
@common_options
@handle_errors
def sandbox(host: str, port: int, data_dir: str | None, tokens: tuple[str, ...],
            token_file: str | None, daily_limit: int, client_id: str | None,
            client_secret: str | None) -> None:
    """Run the local Medium API emulator (for tests, the demo and dry runs).

    The emulator never needs a real Medium token, and must not be given one: make tokens
    up. Tokens come from --token, --token-file and the environment variable
    SYNCD_SANDBOX_TOKENS (whitespace-separated), all together; with none, one is made and
    printed. A file or the variable keeps them out of `ps`.

    \b
    Example:
      syncd sandbox --port 8787 --token test-token --data /tmp/medium
      # then: MEDIUM_TOKEN=test-token syncd --once, with in syncd.toml:
      # [medium] api_url = "http://127.0.0.1:8787/v1"
    """
    from syncd.sandbox import run_sandbox

    given = list(tokens) + _words(os.environ.get(SANDBOX_TOKENS_ENV, ""))
    if token_file is not None:
        try:
            given += _words(Path(token_file).read_text(encoding="utf-8"))
        except OSError as exc:
            raise SyncdError(f"cannot read the token file {token_file}: "
                             f"{exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise SyncdError(f"the token file {token_file} is not UTF-8 text") from None
    quiet = _options(click.get_current_context()).verbosity < 0
    sys.exit(run_sandbox(host=host, port=port, data_dir=data_dir, tokens=given,
                         daily_limit=daily_limit, client_id=client_id,
                         client_secret=client_secret, log_requests=not quiet))


SANDBOX_TOKENS_ENV = "SYNCD_SANDBOX_TOKENS"


def _words(text: str) -> list[str]:
    """Whitespace-separated words, each line cut at a ``#``."""
    return [word for line in text.splitlines() for word in line.split("#", 1)[0].split()]


@cli.command()
@click.option("--keep", is_flag=True, help="Leave the emulator running to browse its page.")
@common_options
@handle_errors
def demo(keep: bool) -> None:
    """Sync the bundled example site to a local Medium emulator, and show the result.

    Starts an emulator on a free port, copies the example Jekyll site to a temporary
    folder, runs a pass (posts are created), then a second pass (nothing is created).

    \b
    Example:
      syncd demo --keep    # then open the printed address in a browser
    """
    from syncd.demo import run_demo

    sys.exit(run_demo(keep=keep))


def main() -> None:
    cli(prog_name="syncd")
