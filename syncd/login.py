"""``syncd login``: OAuth for legacy Medium apps (being written)."""

from __future__ import annotations

from collections.abc import Mapping

from syncd.config import Config, Secret
from syncd.errors import SyncdError


def run_login(config: Config, environ: Mapping[str, str], *, open_browser: bool,
              port: int) -> None:
    raise SyncdError("syncd login is not available yet")


def stored_token(config: Config, environ: Mapping[str, str]) -> Secret:
    raise SyncdError("token files written by syncd login are not supported yet")
