"""Configuration: find the TOML file, validate every key once, hand out typed values.

A bad file is reported as one :class:`~syncd.errors.ConfigError` naming the file, the key
and the problem, before syncd touches anything. Unknown keys are warnings (a typo should
not stop a running service, but it should be seen). Relative paths are relative to the
folder of the config file. The Medium token is never part of the config text: the config
only says where to read it (:func:`read_token`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import re
import string
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from syncd.errors import ConfigError

GENERATORS = ("jekyll", "gatsby")
PUBLISH_STATUSES = ("draft", "public", "unlisted")
TABLE_FORMS = ("text", "image")
LICENSES = (
    "all-rights-reserved",
    "cc-40-by",
    "cc-40-by-sa",
    "cc-40-by-nd",
    "cc-40-by-nc",
    "cc-40-by-nc-nd",
    "cc-40-by-nc-sa",
    "cc-40-zero",
    "public-domain",
)
log = logging.getLogger("syncd")

DEFAULT_API_URL = "https://api.medium.com/v1"
DEFAULT_TOKEN_ENV = "MEDIUM_TOKEN"
SECRET_KEYS = ("token", "access_token", "integration_token", "medium_token")
DEFAULT_FOOTER = "Originally published at {url}"
FOOTER_FIELDS = ("url", "title")


@dataclass(frozen=True)
class SiteConfig:
    """``[site]``: which generator, where its source is, and how its URLs are made.

    ``url`` stands for Jekyll's url + baseurl or Gatsby's siteUrl. ``jekyll_config`` lists
    the files Jekyll is built with (``--config``); ``content`` the folders Gatsby's posts are
    in; ``url_template`` how a Gatsby site's own gatsby-node.js makes a page path from front
    matter (first template whose fields a post has).
    """

    generator: str
    root: Path
    url: str | None = None
    jekyll_config: tuple[Path, ...] | None = None
    content: tuple[Path, ...] | None = None
    url_template: tuple[str, ...] | None = None


@dataclass(frozen=True)
class MediumConfig:
    api_url: str = DEFAULT_API_URL
    token_env: str | None = DEFAULT_TOKEN_ENV
    token_file: Path | None = None
    publish_status: str = "draft"
    publication_id: str | None = None
    license: str | None = None
    notify_followers: bool | None = None
    timeout_s: float = 30.0
    upload_images: bool = False
    backdate: bool = False
    footer: str = DEFAULT_FOOTER
    tags_from_categories: bool = False
    tables: str = "text"
    table_font: Path | None = None


@dataclass(frozen=True)
class LoginConfig:
    """A legacy Medium OAuth app, for ``syncd login``; its secret is read like the token."""

    client_id: str
    client_secret_env: str | None = "MEDIUM_CLIENT_SECRET"
    client_secret_file: Path | None = None
    authorize_url: str = "https://medium.com/m/oauth/authorize"


@dataclass(frozen=True)
class SyncConfig:
    ledger: Path
    since: dt.date | None = None
    first_run_limit: int = 3
    require_opt_in: bool = False


@dataclass(frozen=True)
class WatchConfig:
    debounce_s: float = 1.0
    rescan_s: float = 300.0


@dataclass(frozen=True)
class NotifyConfig:
    """``[notify]``: a command run for each event (see :mod:`syncd.events`)."""

    command: str | None = None
    timeout_s: float = 10.0


@dataclass(frozen=True)
class Config:
    """The whole validated configuration, and the file it came from."""

    path: Path
    site: SiteConfig
    medium: MediumConfig
    sync: SyncConfig
    watch: WatchConfig = field(default_factory=WatchConfig)
    login: LoginConfig | None = None
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    warnings: tuple[str, ...] = ()


class Secret:
    """A token that never shows itself in a repr, a log line or a traceback's locals."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one place that needs it: the Authorization header."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def find_config(explicit: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Path:
    """The config file: --config, $SYNCD_CONFIG, ./syncd.toml, XDG config, /etc/syncd."""
    if explicit:
        return Path(explicit)
    if environ.get("SYNCD_CONFIG"):
        return Path(environ["SYNCD_CONFIG"])
    candidates = [Path("syncd.toml")]
    xdg = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")) / ".config")
    candidates.append(Path(xdg) / "syncd" / "config.toml")
    candidates.append(Path("/etc/syncd/config.toml"))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise ConfigError(
        "syncd.toml",
        None,
        f"no configuration found (looked at --config, $SYNCD_CONFIG, {looked}); "
        "copy config.example.toml and pass --config PATH",
    )


def load_config(path: Path) -> Config:
    """Read and validate ``path``; raise one ConfigError naming the first bad key."""
    name = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(name, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, None, f"cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(name, None, f"not valid TOML: {exc}") from None
    return _Validator(path, raw).config()


def read_token(config: Config, environ: Mapping[str, str]) -> Secret:
    """The Medium token, never from the config: ``token_file``, else the systemd credential
    ``$CREDENTIALS_DIRECTORY/medium-token``, else the ``token_env`` variable.

    A token file written by ``syncd login`` (JSON, with a refresh token) is handed to
    :mod:`syncd.login`, which refreshes the token before it expires.
    """
    medium = config.medium
    name = str(config.path)
    if medium.token_file is not None:
        try:
            token = medium.token_file.read_text(encoding="utf-8").strip()
            if medium.token_file.stat().st_mode & 0o077:
                log.warning(
                    "%s can be read by other users; it holds the Medium token: chmod 600 it",
                    medium.token_file,
                )
        except OSError as exc:
            raise ConfigError(
                name, "medium.token_file",
                f"cannot read {medium.token_file}: {exc.strerror or type(exc).__name__}",
            ) from None
        except UnicodeDecodeError:
            raise ConfigError(
                name, "medium.token_file",
                f"{medium.token_file} is not UTF-8 text; put the token in it as one line",
            ) from None
        if not token:
            raise ConfigError(name, "medium.token_file", f"{medium.token_file} is empty")
        if token.startswith("{"):
            from syncd.login import stored_token

            stored = stored_token(config, environ)
            return _sendable(stored, name, "medium.token_file",
                             f"the access token in {medium.token_file}")
        return _sendable(Secret(token), name, "medium.token_file", str(medium.token_file))
    credential = _systemd_credential(environ, name)
    if credential is not None:
        return credential
    variable = medium.token_env or DEFAULT_TOKEN_ENV
    token = environ.get(variable, "").strip()
    if not token:
        raise ConfigError(
            name,
            "medium.token_env",
            f"the environment variable {variable} is not set; export your Medium integration "
            "token in it, or set medium.token_file",
        )
    return _sendable(Secret(token), name, "medium.token_env",
                     f"the environment variable {variable}")


_HEADER_SAFE_TOKEN = re.compile(r"[\x21-\x7e]+")


def _sendable(token: Secret, config_name: str, key: str | None, where: str) -> Secret:
    """The token, once it is known to fit an HTTP header (visible ASCII, as every Medium
    token is); otherwise a config error naming where it came from, never the token."""
    if _HEADER_SAFE_TOKEN.fullmatch(token.reveal()):
        return token
    raise ConfigError(
        config_name, key,
        f"the token in {where} holds a character an HTTP header cannot carry (a space, a line "
        "break, a control or non-ASCII character); copy the token again, exactly as Medium "
        "shows it",
    )


SYSTEMD_CREDENTIAL = "medium-token"


def _systemd_credential(environ: Mapping[str, str], config_name: str) -> Secret | None:
    """The token systemd passed with ``LoadCredential=medium-token:…``, if any."""
    folder = environ.get("CREDENTIALS_DIRECTORY")
    if not folder:
        return None
    path = Path(folder) / SYSTEMD_CREDENTIAL
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    except UnicodeDecodeError:
        raise ConfigError(config_name, None, f"the systemd credential {path} is not UTF-8 text; "
                          "put the token in it as one line") from None
    if not token:
        return None
    return _sendable(Secret(token), config_name, None, f"the systemd credential {path}")


class _Validator:
    """Turns the parsed TOML into typed sections, one key at a time."""

    def __init__(self, path: Path, raw: dict[str, Any]) -> None:
        self.path = path
        self.base = path.parent
        self.raw = raw
        self.warnings: list[str] = []

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(str(self.path), key, problem)

    def section(self, name: str, known: tuple[str, ...], required: bool = False) -> dict[str, Any]:
        value = self.raw.get(name)
        if value is None:
            if required:
                raise self.fail(name, f"missing section [{name}]")
            return {}
        if not isinstance(value, dict):
            raise self.fail(name, f"must be a table ([{name}])")
        for key in value:
            if key in SECRET_KEYS:
                raise self.fail(
                    f"{name}.{key}",
                    "a token never goes in the config file; put it in the environment "
                    "(medium.token_env) or a file (medium.token_file)",
                )
            if key not in known:
                self.warnings.append(f"{self.path}: {name}.{key}: unknown key, ignored")
        return value

    def get(
        self,
        table: dict[str, Any],
        section: str,
        key: str,
        kind: type | tuple[type, ...],
        describe: str,
        default: Any = None,
        required: bool = False,
    ) -> Any:
        if key not in table:
            if required:
                raise self.fail(f"{section}.{key}", f"missing; it must be {describe}")
            return default
        value = table[key]
        if isinstance(value, bool) and bool not in _as_tuple(kind):
            raise self.fail(f"{section}.{key}", f"must be {describe}, not {value!r}")
        if not isinstance(value, kind):
            raise self.fail(f"{section}.{key}", f"must be {describe}, not {value!r}")
        return value

    def choice(self, table: dict[str, Any], section: str, key: str, choices: tuple[str, ...],
               default: str | None) -> str | None:
        listed = ", ".join(f'"{c}"' for c in choices)
        value = self.get(table, section, key, str, f"one of {listed}", default)
        if value is not None and value not in choices:
            raise self.fail(f"{section}.{key}", f"must be one of {listed}, not {value!r}")
        return value

    def path_value(self, table: dict[str, Any], section: str, key: str,
                   required: bool = False) -> Path | None:
        value = self.get(table, section, key, str, "a path", required=required)
        if value is None:
            return None
        if not value.strip():
            raise self.fail(f"{section}.{key}", "must not be empty")
        return (self.base / Path(value).expanduser()).resolve()

    def number(self, table: dict[str, Any], section: str, key: str, default: float,
               check: Callable[[float], bool], rule: str) -> float:
        value = self.get(table, section, key, (int, float), f"a number {rule}", default)
        if not check(value):
            raise self.fail(f"{section}.{key}", f"must be a number {rule}, not {value!r}")
        return float(value)

    def url(self, table: dict[str, Any], section: str, key: str, default: str | None) -> str | None:
        value = self.get(table, section, key, str, "an absolute http(s) URL", default)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.fail(f"{section}.{key}", f"must be an absolute http(s) URL, not {value!r}")
        return value.rstrip("/")

    def api_url(self, table: dict[str, Any]) -> str:
        """Medium's API; plain http only to this machine, since the token travels with it."""
        value = self.url(table, "medium", "api_url", DEFAULT_API_URL) or DEFAULT_API_URL
        parts = urlsplit(value)
        if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
            raise self.fail(
                "medium.api_url",
                f"must be https unless it is a loopback address (the token is sent with every "
                f"request), not {value!r}",
            )
        return value

    def config(self) -> Config:
        for name in self.raw:
            if name not in ("site", "medium", "sync", "watch", "login", "notify"):
                self.warnings.append(f"{self.path}: [{name}]: unknown section, ignored")
        return Config(
            path=self.path,
            site=self.site(),
            medium=self.medium(),
            sync=self.sync(),
            watch=self.watch(),
            login=self.login(),
            notify=self.notify(),
            warnings=tuple(self.warnings),
        )

    def site(self) -> SiteConfig:
        table = self.section(
            "site", ("generator", "root", "url", "jekyll_config", "content", "url_template"),
            required=True,
        )
        generator = self.choice(table, "site", "generator", GENERATORS, None)
        if generator is None:
            raise self.fail("site.generator", 'missing; it must be "jekyll" or "gatsby"')
        root = self.path_value(table, "site", "root", required=True)
        assert root is not None
        if not root.is_dir():
            raise self.fail("site.root", f"{root} is not a folder")

        def texts(key: str, describe: str) -> tuple[str, ...] | None:
            value = self.get(table, "site", key, (str, list), describe)
            if value is None:
                return None
            items = [value] if isinstance(value, str) else value
            if not items or not all(isinstance(i, str) and i.strip() for i in items):
                raise self.fail(f"site.{key}", f"must be {describe}, not {value!r}")
            return tuple(items)

        for key in ("jekyll_config", "content", "url_template"):
            wanted = "jekyll" if key == "jekyll_config" else "gatsby"
            if key in table and generator != wanted:
                raise self.fail(f"site.{key}", f'is only for generator = "{wanted}"')
        jekyll_config = texts("jekyll_config", 'a file or a list of files, like '
                                               '["site/_config.yml", "site/_config.prod.yml"]')
        content = texts("content", 'a folder or a list of folders, like "site/content/blog"')
        templates = texts("url_template", 'a template or a list of them, like '
                                          '["/blog/{slug}/", "{file}"]')
        for template in templates or ():
            try:
                fields = [f for _, f, spec, _ in string.Formatter().parse(template)
                          if f is not None and not spec]
            except ValueError:
                fields = []
            if not fields or not all(f and f[0].isalpha() for f in fields):
                raise self.fail("site.url_template", (
                    f"{template!r} must name front matter fields in braces, like {{slug}}, "
                    "or {file} for the slug createFilePath makes"))

        def paths(names: tuple[str, ...] | None) -> tuple[Path, ...] | None:
            return tuple((self.base / Path(n).expanduser()).resolve() for n in names) \
                if names else None

        return SiteConfig(
            generator=generator,
            root=root,
            url=self.url(table, "site", "url", None),
            jekyll_config=paths(jekyll_config),
            content=paths(content),
            url_template=templates,
        )

    def medium(self) -> MediumConfig:
        known = ("api_url", "token_env", "token_file", "publish_status", "publication_id",
                 "license", "notify_followers", "timeout_s", "upload_images", "backdate",
                 "footer", "tags_from_categories", "tables", "table_font")
        table = self.section("medium", known)
        token_env = self.get(table, "medium", "token_env", str, "an environment variable name")
        token_file = self.path_value(table, "medium", "token_file")
        if token_env is not None and token_file is not None:
            raise self.fail("medium.token_file", "set token_env or token_file, not both")
        if token_env is not None and not token_env.strip():
            raise self.fail("medium.token_env", "must not be empty")
        publication_id = self.get(table, "medium", "publication_id", str, "a publication id")
        if publication_id is not None and not publication_id.strip():
            raise self.fail("medium.publication_id", "must not be empty")
        upload_images = self.get(table, "medium", "upload_images", bool, "true or false", False)
        tables = self.choice(table, "medium", "tables", TABLE_FORMS, "text") or "text"
        if tables == "image" and not upload_images:
            # A drawn table has no address on the site for Medium to fetch.
            raise self.fail("medium.tables", '"image" needs upload_images = true: a table '
                            "drawn by syncd is not on your site, so it must be uploaded to "
                            'Medium (or set tables = "text")')
        table_font = self.path_value(table, "medium", "table_font")
        if table_font is not None:
            from syncd.tableimage import font_problem

            problem = font_problem(str(table_font))
            if problem:
                raise self.fail("medium.table_font", f"{table_font} {problem}")
        return MediumConfig(
            api_url=self.api_url(table),
            token_env=None if token_file is not None else (token_env or DEFAULT_TOKEN_ENV),
            token_file=token_file,
            publish_status=self.choice(
                table, "medium", "publish_status", PUBLISH_STATUSES, "draft") or "draft",
            publication_id=publication_id,
            license=self.choice(table, "medium", "license", LICENSES, None),
            notify_followers=self.get(table, "medium", "notify_followers", bool, "true or false"),
            timeout_s=self.number(table, "medium", "timeout_s", 30.0,
                                  lambda v: 0 < v <= 600, "between 0 and 600 (seconds)"),
            upload_images=upload_images,
            backdate=self.get(table, "medium", "backdate", bool, "true or false", False),
            footer=self.footer(table),
            tags_from_categories=self.get(table, "medium", "tags_from_categories", bool,
                                          "true or false", False),
            tables=tables,
            table_font=table_font,
        )

    def footer(self, table: dict[str, Any]) -> str:
        """The attribution line: text with ``{url}`` (the canonical link) and ``{title}``."""
        describe = "text such as " + repr(DEFAULT_FOOTER) + ', or "" for none'
        value = self.get(table, "medium", "footer", str, describe, DEFAULT_FOOTER)
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
        except ValueError as exc:
            raise self.fail("medium.footer", f"is not a valid template ({exc}); write a "
                            "literal brace as {{ or }}") from None
        for name in fields:
            if name not in FOOTER_FIELDS:
                raise self.fail("medium.footer", f"unknown placeholder {{{name}}}; use {{url}} "
                                "(the post's canonical URL, as a link) or {title}")
        if value.strip() and "url" not in fields:
            raise self.fail("medium.footer", "must contain {url}, the link back to the "
                            'original post (or be "" for no footer)')
        return value

    def sync(self) -> SyncConfig:
        table = self.section("sync", ("ledger", "since", "first_run_limit", "require_opt_in"),
                             required=True)
        ledger = self.path_value(table, "sync", "ledger", required=True)
        assert ledger is not None
        since = self.get(table, "sync", "since", (dt.date, str), "a date like 2026-01-01")
        if isinstance(since, str):
            try:
                since = dt.date.fromisoformat(since)
            except ValueError:
                raise self.fail("sync.since", f"must be a date like 2026-01-01, not {since!r}") \
                    from None
        if isinstance(since, dt.datetime):
            since = since.date()
        limit = self.get(table, "sync", "first_run_limit", int, "a whole number ≥ 0", 3)
        if limit < 0:
            raise self.fail("sync.first_run_limit", f"must be a whole number ≥ 0, not {limit}")
        require_opt_in = self.get(table, "sync", "require_opt_in", bool, "true or false", False)
        return SyncConfig(ledger=ledger, since=since, first_run_limit=limit,
                          require_opt_in=require_opt_in)

    def login(self) -> LoginConfig | None:
        known = ("client_id", "client_secret_env", "client_secret_file", "authorize_url")
        table = self.section("login", known + ("client_secret",))
        if not table:
            return None
        if "client_secret" in table:
            raise self.fail(
                "login.client_secret",
                "the OAuth client secret never goes in the config file; put it in the "
                "environment (login.client_secret_env) or a file (login.client_secret_file)",
            )
        client_id = self.get(table, "login", "client_id", str, "your OAuth app's client id",
                             required=True)
        secret_env = self.get(table, "login", "client_secret_env", str,
                              "an environment variable name")
        secret_file = self.path_value(table, "login", "client_secret_file")
        if secret_env is not None and secret_file is not None:
            raise self.fail("login.client_secret_file",
                            "set client_secret_env or client_secret_file, not both")
        return LoginConfig(
            client_id=client_id,
            client_secret_env=None if secret_file else (secret_env or "MEDIUM_CLIENT_SECRET"),
            client_secret_file=secret_file,
            authorize_url=self.url(table, "login", "authorize_url",
                                   "https://medium.com/m/oauth/authorize")
            or "https://medium.com/m/oauth/authorize",
        )

    def watch(self) -> WatchConfig:
        table = self.section("watch", ("debounce_s", "rescan_s"))
        return WatchConfig(
            debounce_s=self.number(table, "watch", "debounce_s", 1.0,
                                   lambda v: 0 <= v <= 3600, "between 0 and 3600 (seconds)"),
            rescan_s=self.number(table, "watch", "rescan_s", 300.0,
                                 lambda v: 1 <= v <= 86400, "between 1 and 86400 (seconds)"),
        )


    def notify(self) -> NotifyConfig:
        table = self.section("notify", ("command", "timeout_s"))
        command = self.get(table, "notify", "command", str, "a shell command")
        if command is not None and not command.strip():
            raise self.fail("notify.command", "must not be empty (leave it out for no command)")
        return NotifyConfig(
            command=command,
            timeout_s=self.number(table, "notify", "timeout_s", 10.0,
                                  lambda v: 0 < v <= 3600, "between 0 and 3600 (seconds)"),
        )


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
