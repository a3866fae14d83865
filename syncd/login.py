"""``syncd login``: OAuth for legacy Medium apps, and the token file it leaves behind.

Most people give syncd an *integration token*, which never expires. Apps registered with
Medium before 2020 can use OAuth instead, and this module is all of it. Its terms:

- **client**: the legacy OAuth app, from the config's ``[login]`` section: ``client_id`` and
  the **client secret**, read from the environment or a file, never from the config text.
- **authorize URL**: Medium's page where the user lets the client act for them. It sends the
  browser back to the **redirect URI**, ``http://127.0.0.1:<port>/callback``, served by a
  one-shot **callback listener**, with a single-use **code** and the **state** syncd made up.
  A state that does not match means the answer is not the one syncd asked for (a forged or
  stale request), and its code is never used.
- **token object**: what ``POST /v1/tokens`` answers for a code or a refresh token:
  ``token_type``, ``access_token`` (good for 60 days), ``refresh_token`` (never expires),
  ``scope`` and ``expires_at`` (epoch milliseconds). syncd keeps it as JSON in
  ``medium.token_file``, written atomically and readable by its owner only.
- **refresh**: when the stored access token is within :data:`REFRESH_WITHIN_S` of expiring,
  :func:`stored_token` trades the refresh token for a new token object before syncd uses it.

No message here carries the access token, the refresh token, the code or the client secret.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import os
import secrets
import socketserver
import threading
import time
import webbrowser
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from syncd.atomic import replace_file
from syncd.config import Config, LoginConfig, Secret
from syncd.errors import AuthError, ConfigError, MediumUnreachable, SyncdError
from syncd.medium import (
    USER_AGENT,
    MediumClient,
    MediumError,
    TokenRefused,
    open_session,
    printable,
    send,
)

log = logging.getLogger("syncd")

SCOPES = ("basicProfile", "listPublications", "publishPost")
CALLBACK_PATH = "/callback"
LOGIN_TIMEOUT_S = 5 * 60.0
REFRESH_WITHIN_S = 7 * 24 * 60 * 60
LOGIN_AGAIN = "run `syncd login` again"
LATEST_EXPIRY_MS = 253_402_300_799_000
"""9999-12-31T23:59:59Z in epoch ms: a later (or infinite, or NaN) ``expires_at`` is no
date a token can have, and would overflow when shown or compared."""


@dataclass(frozen=True)
class _Client:
    """The OAuth client's credentials, checked before any browser is involved."""

    client_id: str
    secret: Secret
    authorize_url: str


@dataclass(frozen=True)
class StoredToken:
    """A token object as kept in ``medium.token_file``; ``expires_at`` in epoch ms."""

    access_token: str
    refresh_token: str | None
    expires_at: int
    token_type: str = "Bearer"
    scope: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"StoredToken(expires {self.expires_on()})"

    def seconds_left(self, now: float) -> float:
        return self.expires_at / 1000 - now

    def expires_on(self) -> str:
        moment = dt.datetime.fromtimestamp(self.expires_at / 1000, dt.UTC)
        return moment.strftime("%Y-%m-%d %H:%M UTC")

    def to_json(self) -> dict[str, Any]:
        return {
            "token_type": self.token_type,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "scope": list(self.scope),
            "expires_at": self.expires_at,
        }


def run_login(
    config: Config,
    environ: Mapping[str, str],
    *,
    open_browser: bool,
    port: int,
    timeout_s: float = LOGIN_TIMEOUT_S,
) -> None:
    """Send the user through Medium's authorize page and store the token object it yields.

    Everything that can be checked beforehand (the ``[login]`` section, the client secret,
    a writable token folder) is, so nobody authorizes an app only to lose the code.
    ``timeout_s`` bounds the wait for the browser's redirect.
    """
    token_file = _token_file(config)
    client = _client(config, environ)
    _check_writable(config, token_file)
    state = secrets.token_urlsafe(24)
    with _CallbackListener(port, state) as listener:
        redirect_uri = f"http://127.0.0.1:{listener.port}{CALLBACK_PATH}"
        url = _authorize_url(client, state, redirect_uri)
        _show(url, listener.port, open_browser)
        params = listener.wait(timeout_s)
    code = _code_from(params, state)
    token = _exchange(config, client, {
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
    })
    try:
        _write_private(token_file, token)
    except OSError as exc:
        raise SyncdError(
            f"Medium granted a token but it cannot be stored in {token_file}: "
            f"{exc.strerror or exc}; fix the folder's permissions and {LOGIN_AGAIN}"
        ) from None
    _greet(config, token, token_file)


def stored_token(config: Config, environ: Mapping[str, str]) -> Secret:
    """The access token from a token file written by ``syncd login``, refreshed when due.

    A token within :data:`REFRESH_WITHIN_S` of expiring is refreshed now, while a failed
    refresh can still fall back on it; only an expired token that cannot be refreshed stops
    syncd, with exit status 3.
    """
    token_file = _token_file(config)
    token = _read_stored(config, token_file)
    left = token.seconds_left(time.time())
    if left > REFRESH_WITHIN_S:
        return Secret(token.access_token)
    try:
        fresh = _refresh(config, environ, token)
    except SyncdError as exc:
        if left > 0:
            log.warning(
                "the Medium token in %s expires on %s and could not be refreshed (%s); "
                "using it until then", token_file, token.expires_on(), exc,
            )
            return Secret(token.access_token)
        if isinstance(exc, MediumUnreachable):
            raise
        raise AuthError(
            f"the Medium token in {token_file} expired on {token.expires_on()} and cannot be "
            f"refreshed ({exc}); {LOGIN_AGAIN}"
        ) from None
    try:
        _write_private(token_file, fresh)
    except OSError as exc:
        log.warning(
            "refreshed the Medium token but cannot store it in %s (%s); this run uses it, the "
            "next one refreshes again", token_file, exc.strerror or exc,
        )
    else:
        log.info("refreshed the Medium token (expires %s)", fresh.expires_on())
    return Secret(fresh.access_token)


# --- configuration -------------------------------------------------------------------------


def _token_file(config: Config) -> Path:
    if config.medium.token_file is None:
        raise ConfigError(
            str(config.path),
            "medium.token_file",
            'missing; syncd login stores the Medium token there: set e.g. token_file = '
            '"/var/lib/syncd/medium-token.json" in [medium] (and remove token_env)',
        )
    return config.medium.token_file


def _login_section(config: Config) -> LoginConfig:
    if config.login is None:
        raise ConfigError(
            str(config.path),
            "login",
            "missing section [login]: add client_id = \"<your legacy Medium app's id>\" and "
            "put its client secret in $MEDIUM_CLIENT_SECRET (or login.client_secret_file)",
        )
    return config.login


def _client(config: Config, environ: Mapping[str, str]) -> _Client:
    """The client id and secret; the secret comes from the environment or a file only."""
    login = _login_section(config)
    name = str(config.path)
    if login.client_secret_file is not None:
        try:
            secret = login.client_secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                name, "login.client_secret_file",
                f"cannot read {login.client_secret_file}: {exc.strerror or exc}",
            ) from None
        if not secret:
            raise ConfigError(name, "login.client_secret_file",
                              f"{login.client_secret_file} is empty; put the client secret in it")
    else:
        variable = login.client_secret_env or "MEDIUM_CLIENT_SECRET"
        secret = environ.get(variable, "").strip()
        if not secret:
            raise ConfigError(
                name, "login.client_secret_env",
                f"the environment variable {variable} is not set; export your Medium app's "
                "client secret in it, or set login.client_secret_file",
            )
    return _Client(login.client_id, Secret(secret), login.authorize_url)


def _check_writable(config: Config, token_file: Path) -> None:
    """Fail before the browser dance, not after it, when the token cannot be stored."""
    folder = token_file.parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(str(config.path), "medium.token_file",
                          f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    if token_file.is_dir():
        raise ConfigError(str(config.path), "medium.token_file",
                          f"{token_file} is a folder; name a file for the token")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(str(config.path), "medium.token_file",
                          f"cannot write in {folder}; pick a folder you own")


# --- the browser's round trip --------------------------------------------------------------


def _authorize_url(client: _Client, state: str, redirect_uri: str) -> str:
    query = urlencode(
        {
            "client_id": client.client_id,
            "scope": ",".join(SCOPES),
            "state": state,
            "response_type": "code",
            "redirect_uri": redirect_uri,
        },
        safe=",",
    )
    separator = "&" if urlsplit(client.authorize_url).query else "?"
    return f"{client.authorize_url}{separator}{query}"


def _show(url: str, port: int, open_browser: bool) -> None:
    """Print the authorize URL, then open it in a browser when asked to.

    The URL goes to stdout on a line of its own before any browser starts, so a person (or
    a script) has it even when the browser never appears or a console browser takes over.
    """
    if open_browser:
        print("Opening Medium's authorization page in your browser. If it does not appear, "
              "open this URL:", flush=True)
    else:
        print(f"Open this URL in a browser that can reach 127.0.0.1:{port} of this machine; "
              f"from another machine, forward that port first (ssh -L {port}:127.0.0.1:{port} "
              "<this host>):", flush=True)
    print(url, flush=True)
    if open_browser and not webbrowser.open(url):
        log.warning("no browser could be started; open the URL above in a browser that can "
                    "reach 127.0.0.1:%d on this machine (or use --no-browser)", port)
    log.info("waiting for Medium to send the browser back to 127.0.0.1:%d", port)


def _code_from(params: Mapping[str, str], state: str) -> str:
    """The code from the redirect, once it is known to answer syncd's own request."""
    error = params.get("error")
    if error == "access_denied":
        raise AuthError(
            "access denied: the Medium account did not authorize the app, so nothing was "
            f"stored; {LOGIN_AGAIN} and choose to allow it"
        )
    if not secrets.compare_digest(params.get("state", "").encode(), state.encode()):
        raise SyncdError(
            "the redirect's state does not match the one syncd sent (a stale or forged "
            f"request); its code was not used and nothing was stored; {LOGIN_AGAIN}"
        )
    if error:
        raise AuthError(f"Medium refused the authorization ({error}); check login.client_id "
                        f"and the app's settings on Medium, then {LOGIN_AGAIN}")
    code = params.get("code", "")
    if not code:
        raise SyncdError(f"Medium's redirect carried no code; {LOGIN_AGAIN}")
    return code


class _CallbackServer(ThreadingHTTPServer):
    """Serves ``/callback`` until the first redirect has been answered."""

    daemon_threads = True

    def __init__(self, port: int, state: str) -> None:
        self.state = state
        self.params: dict[str, str] | None = None
        self.answered = threading.Event()
        self.claim = threading.Lock()
        super().__init__(("127.0.0.1", port), _CallbackHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, a DNS query that can stall.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser that hangs up early is normal; anything else is not worth a traceback
        # in the user's terminal either, since only the first redirect matters.
        pass


class _CallbackHandler(BaseHTTPRequestHandler):
    """Catches Medium's redirect and answers the browser with a page saying what happened."""

    server: _CallbackServer
    timeout = 30  # a browser's speculative connection that never sends a request

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self._page(404, "Not found", "This address only receives Medium's redirect.")
            return
        with self.server.claim:
            first = self.server.params is None
            if first:
                self.server.params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if not first:
            self._page(409, "Already done", "syncd has already received Medium's answer; "
                       "you can close this tab.")
            return
        try:
            assert self.server.params is not None
            _code_from(self.server.params, self.server.state)
        except SyncdError as exc:
            self._page(400, "syncd login failed",
                       f"{exc}. You can close this tab; the terminal says the same.")
        else:
            self._page(200, "syncd login", "syncd received Medium's authorization. You can "
                       "close this tab and return to the terminal.")
        finally:
            self.server.answered.set()

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes each request line, code included, to stderr.
        pass

    def _page(self, status: int, title: str, text: str) -> None:
        body = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(body)


class _CallbackListener:
    """The one-shot listener on 127.0.0.1, served from a thread while the caller waits."""

    def __init__(self, port: int, state: str) -> None:
        try:
            self._server = _CallbackServer(port, state)
        except OSError as exc:
            raise SyncdError(
                f"cannot listen on 127.0.0.1:{port} for Medium's redirect: "
                f"{exc.strerror or exc}; pick another --port"
            ) from None
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
            name="syncd-login-callback", daemon=True,
        )

    def __enter__(self) -> _CallbackListener:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()

    def wait(self, timeout_s: float) -> dict[str, str]:
        """The redirect's query parameters, once the browser has been answered."""
        if not self._server.answered.wait(timeout_s):
            raise SyncdError(
                f"no answer from the browser within {timeout_s:g} s; {LOGIN_AGAIN} and open "
                "the URL it prints (the browser must reach this machine's 127.0.0.1)"
            )
        assert self._server.params is not None
        return self._server.params


# --- tokens --------------------------------------------------------------------------------


def _exchange(config: Config, client: _Client, form: dict[str, str]) -> StoredToken:
    """POST /v1/tokens (form-encoded, as Medium requires) and read the token object."""
    url = config.medium.api_url.rstrip("/") + "/tokens"
    body = {**form, "client_id": client.client_id, "client_secret": client.secret.reveal()}
    session = open_session()
    try:
        # Never redirected (a code is single-use, and a redirected POST becomes a GET), held
        # to a deadline, and never read past a size: the same rules as every call to Medium.
        answer = send(
            session, "POST", url, timeout_s=config.medium.timeout_s, creates=True, data=body,
            headers={"Accept": "application/json", "Accept-Charset": "utf-8",
                     "User-Agent": USER_AGENT},
        )
    except MediumError as exc:
        raise MediumUnreachable(
            f"no answer from Medium at {config.medium.api_url} ({exc.message}); check "
            "medium.api_url and the network"
        ) from None
    finally:
        session.close()
    status, token_answer = answer.status, answer.body
    if 300 <= status < 400:
        raise MediumUnreachable(
            f"Medium answered the {form['grant_type']} grant with a redirect ({status}) at "
            f"{url}; nothing was stored; check medium.api_url"
        )
    if not 200 <= status < 300:
        message = _error_message(token_answer, status, answer.headers)
        if 400 <= status < 500:
            raise AuthError(
                f"Medium refused the {form['grant_type']} grant ({message}); check "
                "login.client_id and the client secret"
            )
        raise MediumUnreachable(f"Medium answered {message} at {url}; try again later")
    if isinstance(token_answer, dict) and isinstance(token_answer.get("data"), dict):
        token_answer = token_answer["data"]
    token = _parse_token(token_answer)
    if token is None:
        raise SyncdError(f"Medium's answer at {url} is not a token object; try again later")
    return token


def _refresh(config: Config, environ: Mapping[str, str], token: StoredToken) -> StoredToken:
    """A new token object for the stored refresh token; the old refresh token is kept when
    Medium sends none, since refresh tokens do not expire."""
    if not token.refresh_token:
        raise SyncdError(f"{config.medium.token_file} holds no refresh token")
    client = _client(config, environ)
    fresh = _exchange(config, client, {
        "refresh_token": token.refresh_token,
        "grant_type": "refresh_token",
    })
    if fresh.refresh_token:
        return fresh
    return StoredToken(fresh.access_token, token.refresh_token, fresh.expires_at,
                       fresh.token_type, fresh.scope)


def _error_message(answer: Any, status: int, headers: Mapping[str, str]) -> str:
    if isinstance(answer, dict):
        errors = answer.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return f"HTTP {status}: {printable(str(errors[0].get('message', 'no message')))}"
    kind = printable(headers.get("Content-Type", "unknown type").split(";")[0], 60)
    return f"HTTP {status} with a non-JSON body ({kind})"


def _parse_token(value: Any) -> StoredToken | None:
    """A token object from JSON, or None when it lacks an access token or an expiry."""
    if not isinstance(value, dict):
        return None
    access = value.get("access_token")
    expires = value.get("expires_at")
    if not isinstance(access, str) or not access.strip():
        return None
    if isinstance(expires, bool) or not isinstance(expires, int | float) \
            or not 0 < expires < LATEST_EXPIRY_MS:
        return None
    refresh = value.get("refresh_token")
    scope = value.get("scope")
    if isinstance(scope, str):
        scope = scope.split(",")
    return StoredToken(
        access_token=access.strip(),
        refresh_token=refresh.strip() if isinstance(refresh, str) and refresh.strip() else None,
        expires_at=int(expires),
        token_type=str(value.get("token_type") or "Bearer"),
        scope=tuple(str(s) for s in scope) if isinstance(scope, list) else (),
    )


def _read_stored(config: Config, token_file: Path) -> StoredToken:
    try:
        raw = token_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(config.path), "medium.token_file",
                          f"cannot read {token_file}: {exc.strerror or exc}") from None
    try:
        token = _parse_token(json.loads(raw))
    except ValueError:
        token = None
    if token is None:
        raise ConfigError(
            str(config.path), "medium.token_file",
            f"{token_file} is not a token file written by syncd login (broken JSON, or no "
            f"access_token and expires_at); {LOGIN_AGAIN}",
        )
    return token


def _write_private(path: Path, token: StoredToken) -> None:
    """Replace ``path`` with the token object, atomically and readable by its owner only.

    The temporary file is made 0600 before the token is written into it, so the token is
    never in a file others can read, even briefly; a new folder for it is 0700.
    """
    content = (json.dumps(token.to_json(), indent=2) + "\n").encode("utf-8")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    replace_file(path, content, mode=0o600)


def _greet(config: Config, token: StoredToken, token_file: Path) -> None:
    """Confirm the new token works by asking Medium whose it is."""
    client = MediumClient(config.medium.api_url, Secret(token.access_token),
                          config.medium.timeout_s)
    try:
        user = client.me()
    except TokenRefused as exc:
        raise AuthError(
            f"the token was stored in {token_file}, but Medium refuses it ({exc.message}); "
            f"check the app's scopes on Medium, then {LOGIN_AGAIN}"
        ) from None
    except MediumError as exc:
        log.warning("token stored in %s (expires %s), but the account could not be checked "
                    "(%s); `syncd check` tries again", token_file, token.expires_on(),
                    exc.message)
        return
    finally:
        client.close()
    log.info("authenticated as @%s; token stored in %s (expires %s)", user.username,
             token_file, token.expires_on())
