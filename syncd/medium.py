"""The Medium API client: the only code that speaks HTTP to Medium (or its emulator).

Every failure is translated here into what it *proves* about a create request, because
Medium has no idempotency key and no way to list or delete posts:

- :class:`Rejected`: Medium answered that it did not create the post (400, 403). Safe to
  report and move on.
- :class:`RateLimited`: the daily publishing limit; not created, try after ``retry_after``.
- :class:`InDoubt`: the request may have reached Medium and the answer is unknown (timeout
  while reading, dropped connection, 5xx, a redirect, or a "success" whose body is not a
  post with an id and a post URL). The post must never be re-sent automatically.
- :class:`NotSent`: the connection was never made; nothing reached Medium.
- :class:`TokenRefused`: 401; the whole pass stops.

An image upload is not a create: sending the same picture twice only stores it twice, so a
failed upload is retried once (:meth:`MediumClient.upload_image`).

Nothing here follows a redirect: requests would turn a redirected POST into a GET, and the
GET's 2xx (a profile page, say) would read as "created". Every request, connect to last byte,
must finish by a deadline (:data:`WHOLE_REQUEST_FACTOR`), and no answer is read past
:data:`MAX_ANSWER_BYTES`, so a server that trickles or floods cannot hold a pass.

The token is only ever placed in the Authorization header; no message carries it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import logging
import math
import re
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.connection
import urllib3.connectionpool
from requests.adapters import HTTPAdapter

from syncd import __version__
from syncd.config import Secret

USER_AGENT = f"syncd/{__version__} python-requests/{requests.__version__}"
READ_RETRY_DELAYS = (0.5, 1.5)
UPLOAD_RETRY_DELAYS = (1.0,)
log = logging.getLogger("syncd")
RATE_LIMIT_MESSAGE = re.compile(r"rate limit for publishing", re.IGNORECASE)

MAX_WAIT_S = 24 * 60 * 60.0
"""The longest wait syncd takes from anything Medium says (``Retry-After``). Medium's limit is
a rolling 24 hours, so a longer wait is never needed, and an absurd one (``inf``, ``1e999``, a
date in the year 3000) must neither park the service for ever nor overflow a timer."""

WHOLE_REQUEST_FACTOR = 2.0
"""A request's deadline, from connecting to its answer's last byte, is this many times
``medium.timeout_s``: the timeout alone bounds each socket operation, so a server sending a
byte at a time could otherwise hold a create for hours. Twice leaves a slow link its connect
plus a full timeout for the answer."""

MAX_ANSWER_BYTES = 4 * 1024 * 1024
"""Medium's answers are a few kilobytes; one bigger than this is not a Medium answer, and is
not read into memory whole."""

MAX_SHOWN_CHARS = 300
"""A message taken from an answer is cut to this length and stripped of control characters
before it reaches a log line or a terminal."""

_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


class MediumError(Exception):
    """Base of every client failure; ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class TokenRefused(MediumError):
    """Medium refused the token (401)."""


class Rejected(MediumError):
    """Medium answered and created nothing (a 4xx other than 401 and the daily limit)."""


class RateLimited(Rejected):
    """The daily publishing limit; nothing was created."""

    def __init__(self, message: str, status: int, retry_after: float | None) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class InDoubt(MediumError):
    """The request may have been acted on; its outcome is unknown."""


class NotSent(MediumError):
    """No connection was made, so Medium received nothing."""


class Unreadable(NotSent):
    """A read was answered, but not with what was asked (no ``data``, a redirect, no user id):
    asking again at once would get the same, so it is not retried."""


@dataclass(frozen=True)
class MediumUser:
    id: str
    username: str
    name: str
    url: str


@dataclass(frozen=True)
class CreatedPost:
    id: str
    url: str
    publish_status: str
    raw: dict[str, Any]


class MediumClient:
    """A thin, explicit client: one method per endpoint syncd uses."""

    def __init__(self, api_url: str, token: Secret, timeout_s: float = 30.0,
                 read_retry_delays: tuple[float, ...] = READ_RETRY_DELAYS) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout_s = timeout_s
        self.read_retry_delays = read_retry_delays
        self._session = open_session()
        self._session.headers.update(
            {
                "Authorization": f"Bearer {token.reveal()}",
                "Accept": "application/json",
                "Accept-Charset": "utf-8",
                "User-Agent": USER_AGENT,
            }
        )

    def close(self) -> None:
        self._session.close()

    def me(self) -> MediumUser:
        """GET /me: the token's user. A read, so a passing failure is retried with backoff."""
        data = self._read("/me")
        if not isinstance(data, dict) or not _is_id(data.get("id")):
            raise Unreadable("Medium's answer to /me holds no user id", 200)
        return MediumUser(
            id=str(data["id"]),
            username=printable(str(data.get("username", "")), 100),
            name=printable(str(data.get("name", "")), 100),
            url=printable(str(data.get("url", "")), 500),
        )

    def publications(self, user_id: str) -> list[dict[str, Any]]:
        """GET /users/{id}/publications: the publications the user belongs to."""
        data = self._read(f"/users/{user_id}/publications")
        return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []

    def contributors(self, publication_id: str) -> list[dict[str, Any]]:
        """GET /publications/{id}/contributors: who may post there, as editor or writer."""
        data = self._read(f"/publications/{publication_id}/contributors")
        return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []

    def _read(self, path: str) -> Any:
        """GET with a retry after each of ``read_retry_delays``; never used for a create."""
        for delay in self.read_retry_delays:
            try:
                return self._read_data(path)
            except Unreadable:
                raise
            except NotSent as exc:
                log.info("GET %s failed (%s); retrying in %g s", path, exc.message, delay)
                time.sleep(delay)
        return self._read_data(path)

    def create_post(
        self, body: dict[str, Any], *, user_id: str, publication_id: str | None = None
    ) -> CreatedPost:
        """POST one post, once. Never retried here: a second send could publish twice.

        Only a 200 or 201 whose data is a post, with an id and a URL ending in that id (as
        ``https://medium.com/@user/slug-<id>``), proves a post was created; any other answer
        that is not a refusal leaves the post in doubt.
        """
        if publication_id:
            path = f"/publications/{publication_id}/posts"
        else:
            path = f"/users/{user_id}/posts"
        answer = self._request("POST", path, json_body=body, creates=True)
        if answer.status not in (200, 201):
            raise InDoubt(f"Medium answered {answer.status}, which is not a created post",
                          answer.status)
        data = answer.data
        if not isinstance(data, dict) or not _is_id(data.get("id")):
            raise InDoubt(f"Medium answered {answer.status} without a post id", answer.status)
        post_id, url = str(data["id"]), data.get("url")
        if not isinstance(url, str) or not _is_post_url(url, post_id):
            raise InDoubt(f"Medium answered {answer.status} without the post's URL "
                          f"(got {printable(repr(url), 120)})", answer.status)
        status = data.get("publishStatus", body.get("publishStatus", ""))
        return CreatedPost(id=post_id, url=url, publish_status=str(status), raw=data)

    def upload_image(self, data: bytes, filename: str, content_type: str) -> str:
        """POST /images (multipart, one part named ``image``): the uploaded image's URL.

        Retried once after a failure that proves nothing (no connection, no answer, a 5xx):
        an upload creates nothing a reader sees, so a duplicate costs nothing. A refusal
        (4xx) is raised at once.
        """
        files = {"image": (filename, data, content_type)}
        for delay in UPLOAD_RETRY_DELAYS:
            try:
                answer = self._request("POST", "/images", files=files)
                break
            except (NotSent, InDoubt) as exc:
                log.info("image upload failed (%s); retrying in %g s", exc.message, delay)
                time.sleep(delay)
        else:
            answer = self._request("POST", "/images", files=files)
        url = answer.data.get("url") if isinstance(answer.data, dict) else None
        if not 200 <= answer.status < 300 or not isinstance(url, str) \
                or not url.startswith(("http://", "https://")):
            raise NotSent("Medium answered the image upload without an image URL")
        return url

    def _read_data(self, path: str) -> Any:
        """One GET's ``data``; a 2xx without it proves nothing and is a failure to read."""
        answer = self._request("GET", path)
        if not 200 <= answer.status < 300:
            raise Unreadable(f"Medium answered {answer.status} to GET {path}", answer.status)
        return answer.data

    def _request(
        self, method: str, path: str, json_body: dict[str, Any] | None = None,
        creates: bool = False, files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Answer:
        """One request, never redirected; an answer that is not a success is raised as what it
        proves. For ``creates`` (a write), a failure after sending is :class:`InDoubt`."""
        answer = send(self._session, method, self.api_url + path, timeout_s=self.timeout_s,
                      creates=creates, json=json_body, files=files)
        return _judge(answer, creates)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read whole: status, headers, the body's JSON (None when it is not
    JSON) and, for a 2xx wrapped as Medium does, its ``data``."""

    status: int
    headers: Mapping[str, str]
    body: Any
    data: Any = None


def open_session() -> requests.Session:
    """A session whose requests can be held to a deadline by :func:`send`."""
    session = requests.Session()
    adapter = _DeadlineAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def send(session: requests.Session, method: str, url: str, *, timeout_s: float,
         creates: bool, **kwargs: Any) -> Answer:
    """Send one request without following redirects, and read its whole answer by the
    deadline (``timeout_s`` × :data:`WHOLE_REQUEST_FACTOR`).

    Raises :class:`NotSent` when nothing can have reached the server, and otherwise, when no
    complete answer came back, :class:`InDoubt` for a write (``creates``) or :class:`NotSent`
    for a read. The answer itself is not judged here.
    """
    where = _origin(url)
    try:
        prepared = session.prepare_request(requests.Request(method, url, **kwargs))
        settings = session.merge_environment_settings(prepared.url, {}, True, None, None)
    except (ValueError, UnicodeError):
        raise NotSent(f"the request to {where} cannot be made (a header or the URL holds "
                      "characters HTTP cannot carry)") from None
    # The adapter, not Session.send: the session would read a redirect's Location even when
    # told not to follow it, and a Location it cannot parse raised out of the client.
    adapter = session.get_adapter(prepared.url or url)
    deadline = _Deadline(timeout_s * WHOLE_REQUEST_FACTOR)
    try:
        with deadline:
            response = adapter.send(prepared, stream=True, timeout=timeout_s,
                                    verify=settings["verify"], cert=settings["cert"],
                                    proxies=settings["proxies"])
            try:
                content = _read_capped(response)
            finally:
                response.close()
    except UnicodeEncodeError:
        raise NotSent(f"the request to {where} cannot be made (a header holds characters "
                      "HTTP cannot carry)") from None
    except requests.exceptions.ConnectTimeout:
        raise NotSent(f"could not connect to {where} (timed out)") from None
    except _AnswerTooBig:
        raise _doubt_or_not_sent(
            creates, f"the answer from {where} is larger than {MAX_ANSWER_BYTES} bytes"
        ) from None
    except requests.exceptions.ConnectionError as exc:
        if deadline.expired:
            raise _doubt_or_not_sent(creates, deadline.why(where)) from None
        if _never_connected(exc):
            raise NotSent(f"could not connect to {where}") from None
        raise _doubt_or_not_sent(creates, "the connection broke before Medium answered") \
            from None
    except requests.exceptions.Timeout:
        raise _doubt_or_not_sent(creates, f"no answer from Medium within {timeout_s:g} s") \
            from None
    except requests.exceptions.RequestException as exc:
        if deadline.expired:
            raise _doubt_or_not_sent(creates, deadline.why(where)) from None
        raise _doubt_or_not_sent(creates, f"request failed: {type(exc).__name__}") from None
    if deadline.expired:
        raise _doubt_or_not_sent(creates, deadline.why(where))
    return Answer(response.status_code, response.headers, _json_or_none(content))


class _AnswerTooBig(Exception):
    pass


def _read_capped(response: requests.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise _AnswerTooBig
        chunks.append(chunk)
    return b"".join(chunks)


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        return None


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    except ValueError:
        return "the configured address"


_watched = threading.local()


class _Deadline:
    """Shuts the request's socket at the deadline, which wakes any blocked read at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._connection: urllib3.connection.HTTPConnection | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        _watched.deadline = self
        self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._timer.cancel()
        _watched.deadline = None

    def why(self, where: str) -> str:
        return f"no complete answer from {where} within {self.seconds:g} s"

    def attach(self, connection: urllib3.connection.HTTPConnection) -> None:
        with self._lock:
            self._connection = connection
            expired = self.expired
        if expired:
            _shut(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            connection = self._connection
        if connection is not None:
            _shut(connection)


def _shut(connection: urllib3.connection.HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _attach(connection: urllib3.connection.HTTPConnection) -> None:
    deadline = getattr(_watched, "deadline", None)
    if deadline is not None:
        deadline.attach(connection)


class _Watched(urllib3.connection.HTTPConnection):
    """Hands its socket to the request's deadline, for plain and TLS connections alike."""

    def connect(self) -> None:
        super().connect()
        _attach(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)
        super().request(*args, **kwargs)


class _WatchedHTTPConnection(_Watched):
    pass


class _WatchedHTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _DeadlineAdapter(HTTPAdapter):
    """Builds its connections as the watched kinds, so :class:`_Deadline` can reach them."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the failure happened while connecting, before any byte was sent."""
    text = repr(exc)
    return any(
        marker in text
        for marker in ("NewConnectionError", "Connection refused", "Name or service not known",
                       "nodename nor servname", "Failed to resolve")
    )


def _doubt_or_not_sent(creates: bool, why: str) -> MediumError:
    return InDoubt(why) if creates else NotSent(why)


def _judge(answer: Answer, creates: bool) -> Answer:
    """The answer, when it is a 2xx; otherwise raised as what it proves."""
    status, body = answer.status, answer.body
    if 200 <= status < 300:
        data = body.get("data") if isinstance(body, dict) else None
        if data is None and not creates:
            raise Unreadable(f"Medium answered {status} with a body syncd cannot read", status)
        return Answer(status, answer.headers, body, data)
    if 300 <= status < 400:
        # No redirect proves the request was not acted on: a server may store a post and
        # then send the client elsewhere (303 is made for that), and one that says "try
        # over there" (307, 308) may still be a proxy that passed the request on.
        location = answer.headers.get("Location")
        to = f" to {printable(location, 120)}" if location else ""
        why = f"Medium answered {status}, a redirect{to}, not an answer (check medium.api_url)"
        raise InDoubt(why, status) if creates else Unreadable(why, status)
    message, code = _error_message(body, answer)
    if status == 401:
        raise TokenRefused(message, status, code)
    if status == 429 or (400 <= status < 500 and RATE_LIMIT_MESSAGE.search(message)):
        raise RateLimited(message, status, retry_after(answer.headers))
    if 400 <= status < 500:
        raise Rejected(message, status, code)
    raise _doubt_or_not_sent(creates, f"Medium answered {status}: {message}")


def _error_message(body: Any, answer: Answer) -> tuple[str, int | None]:
    """Medium's first error message, or a short description of a non-JSON answer."""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            code = first.get("code")
            message = printable(str(first.get("message", "")))
            return message or "no message", (
                code if isinstance(code, int) and not isinstance(code, bool) else None
            )
    kind = printable(answer.headers.get("Content-Type", "unknown type").split(";")[0], 60)
    return f"HTTP {answer.status} with a non-JSON body ({kind})", None


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP-date), within 0 and :data:`MAX_WAIT_S`;
    None when absent or unreadable."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_WAIT_S)


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def _is_post_url(url: str, post_id: str) -> bool:
    """A web address whose last path segment ends in the post's id: Medium's post URLs are
    ``https://medium.com/@user/slug-<id>`` (or a publication's domain and path), so a profile
    URL, the API's own address or an empty string is no proof of a post."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("https", "http") or not host or not url.isprintable() \
            or " " in url or len(url) > 2000:
        return False
    last = parts.path.rstrip("/").rpartition("/")[2]
    return last == post_id or last.endswith("-" + post_id)


def printable(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` safe for a log line: control characters replaced, cut to ``limit``."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text[: limit + 1])
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"
