"""Small builders for tests: a Jekyll site on disk, a syncd config, and running the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

POSTS = {
    "_posts/2024-01-05-first-steps.md": (
        "---\ntitle: First steps\ntags: [python, posse]\n---\n"
        "Hello from the **first** post.\n\n```python\nif a < b:\n    print('&')\n```\n"
    ),
    "_posts/2024-03-10-second-thoughts.md": (
        "---\ntitle: Second thoughts\ntags: [writing]\ncategories: [notes]\n---\n"
        "## A heading\n\nA [link](https://example.org/) and ![a picture](/assets/pic.png).\n"
    ),
    "_posts/2025-07-20-third-time.markdown": (
        "---\ntitle: Third time\ndate: 2025-07-20 09:30:00 +0200\n"
        "tags: [one, two, three, four]\n---\nThird body.\n"
    ),
    "_posts/2025-08-01-not-yet.md": "---\ntitle: Not yet\npublished: false\n---\nHidden.\n",
    "_posts/2099-01-01-far-future.md": "---\ntitle: Far future\n---\nLater.\n",
    "_drafts/an-idea.md": "---\ntitle: An idea\n---\nSomeday.\n",
}

CONFIG_YML = 'title: Test blog\nurl: https://blog.example\nbaseurl: ""\ntimezone: UTC\n'


def make_site(root: Path, posts: dict[str, str] | None = None) -> Path:
    """A Jekyll site with the given post files (default: POSTS)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "_config.yml").write_text(CONFIG_YML, encoding="utf-8")
    for relative, text in (POSTS if posts is None else posts).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def write_config(folder: Path, api_url: str, extra: str = "", first_run_limit: int = 100,
                 **medium: Any) -> Path:
    """A syncd.toml for ``folder/site`` with its ledger in ``folder``.

    The first-run guard is opened wide (``first_run_limit``) unless a test is about it.
    """
    lines = [f'api_url = "{api_url}"'] + [f"{k} = {json.dumps(v)}" for k, v in medium.items()]
    config = folder / "syncd.toml"
    config.write_text(
        '[site]\ngenerator = "jekyll"\nroot = "site"\n\n[medium]\n'
        + "\n".join(lines)
        + f'\n\n[sync]\nledger = "state/ledger.json"\nfirst_run_limit = {first_run_limit}\n'
        + extra,
        encoding="utf-8",
    )
    return config


def run_syncd(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``syncd ARGS`` as a real process; the environment is minimal unless given."""
    base = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
    }
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "syncd", *args],
        env=base,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
