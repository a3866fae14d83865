"""``syncd demo``: the whole loop on the bundled example site, against a local emulator.

It runs the same code as ``syncd --once``: a config file written to a temporary folder,
the ledger there, and the emulator as Medium. Nothing leaves the machine.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import time
from importlib import resources
from pathlib import Path

from syncd import output
from syncd.app import make_plan, run_once
from syncd.config import load_config
from syncd.errors import EXIT_POST_FAILURES
from syncd.sandbox import Sandbox

TOKEN_ENV = "SYNCD_DEMO_TOKEN"
log = logging.getLogger("syncd")


def example_site() -> Path:
    """The example site shipped inside the package."""
    return Path(str(resources.files("syncd") / "example_site"))


def write_demo_config(folder: Path, api_url: str) -> Path:
    config = folder / "syncd.toml"
    config.write_text(
        f"""# Written by `syncd demo`: the example site, synced to a local Medium emulator.
[site]
generator = "jekyll"
root = "site"

[medium]
api_url = "{api_url}"
token_env = "{TOKEN_ENV}"
publish_status = "public"

[sync]
ledger = "ledger.json"
# The example blog is small; a real first run with more than 3 new posts stops and asks.
first_run_limit = 10
""",
        encoding="utf-8",
    )
    return config


def run_demo(keep: bool = False) -> int:
    token = secrets.token_hex(32)
    server = Sandbox(host="127.0.0.1", port=0, tokens=[token])
    server.start()
    folder = Path(tempfile.mkdtemp(prefix="syncd-demo-"))
    try:
        shutil.copytree(example_site(), folder / "site")
        config = load_config(write_demo_config(folder, server.api_url))
        environ = {TOKEN_ENV: token}
        out = output.console()
        log.info("demo: Medium emulator at %s; site copied to %s", server.url, folder / "site")

        planned = make_plan(config).items
        out.print(output.plan_table(planned))
        out.print(output.plan_summary(planned) + "\n", markup=False)

        log.info("demo: first pass")
        first = run_once(config, environ)
        log.info("first pass: %s", first.summary())
        rows = [
            (
                entry["post"].get("title", ""),
                entry["post"].get("canonicalUrl", ""),
                entry["post"].get("url", ""),
                entry["post"].get("publishStatus", ""),
            )
            for entry in server.posts()
        ]
        out.print(output.created_table(rows))

        log.info("demo: second pass (nothing should be created)")
        second = run_once(config, environ)
        log.info("second pass: %s", second.summary())
        created_again = len(server.posts()) - len(rows)
        out.print(
            f"\nSecond pass created {created_again} posts; the emulator holds "
            f"{len(server.posts())} posts in all. Ledger: {config.sync.ledger}"
        )
        status = max(first.exit_status, second.exit_status)
        if keep:
            out.print(f"\nThe emulator stays up at {server.url}/ (Ctrl-C to stop).")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        return status if created_again == 0 else max(status, EXIT_POST_FAILURES)
    finally:
        server.stop()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
