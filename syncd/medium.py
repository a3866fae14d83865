"""The Medium API client: the only code that speaks HTTP to Medium (or its emulator).

Every failure is translated here into what it *proves* about a create request, because
Medium has no idempotency key and no way to list or delete posts:

- :class:`Rejected`: Medium answered that it did not create the post (400, 403). Safe to
  report and move on.
- :class:`RateLimited`: the daily publishing limit; not created, try after ``retry_after``.
- :class:`InDoubt`: the request may have reached Medium and the answer is unknown (timeout
  while reading, dropped connection, 5xx). The post must never be re-sent automatically.
- :class:`NotSent`: the connection was never made; nothing reached Medium.
- :class:`TokenRefused`: 401; the whole pass stops.

An image upload is not a create: sending the same picture twice only stores it twice, so a
failed upload is retried once (:meth:`MediumClient.upload_image`).

The token is only ever placed in the Authorization header; no message carries it.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import requests

from syncd import __version__
from syncd.config import Secret

USER_AGENT = f"syncd/{__version__} python-requests/{requests.__version__}"
READ_RETRY_DELAYS = (0.5, 1.5)
UPLOAD_RETRY_DELAYS = (1.0,)
log = logging.getLogger("syncd")
RATE_LIMIT_MESSAGE = re.compile(r"rate limit for publishing", re.IGNORECASE)


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

    def __init__(self, api_url: str, token: Secret, timeout_s: float = 30.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout_s = timeout_s
        self._session = requests.Session()
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
        return MediumUser(
            id=str(data["id"]),
            username=str(data.get("username", "")),
            name=str(data.get("name", "")),
            url=str(data.get("url", "")),
        )

    def publications(self, user_id: str) -> list[dict[str, Any]]:
        """GET /users/{id}/publications: the publications the user belongs to."""
        data = self._read(f"/users/{user_id}/publications")
        return data if isinstance(data, list) else []

    def contributors(self, publication_id: str) -> list[dict[str, Any]]:
        """GET /publications/{id}/contributors: who may post there, as editor or writer."""
        data = self._read(f"/publications/{publication_id}/contributors")
        return data if isinstance(data, list) else []

    def _read(self, path: str) -> Any:
        """GET with a retry after each delay in READ_RETRY_DELAYS; never used for a create."""
        for delay in READ_RETRY_DELAYS:
            try:
                return self._request("GET", path)
            except NotSent as exc:
                log.info("GET %s failed (%s); retrying in %g s", path, exc.message, delay)
                time.sleep(delay)
        return self._request("GET", path)

    def create_post(
        self, body: dict[str, Any], *, user_id: str, publication_id: str | None = None
    ) -> CreatedPost:
        """POST one post, once. Never retried here: a second send could publish twice."""
        if publication_id:
            path = f"/publications/{publication_id}/posts"
        else:
            path = f"/users/{user_id}/posts"
        data = self._request("POST", path, json_body=body, creates=True)
        try:
            return CreatedPost(
                id=str(data["id"]),
                url=str(data["url"]),
                publish_status=str(data.get("publishStatus", body.get("publishStatus", ""))),
                raw=data,
            )
        except (KeyError, TypeError):
            raise InDoubt("Medium answered success without a post id and URL", 201) from None

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
        url = answer.get("url") if isinstance(answer, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise NotSent("Medium answered the image upload without an image URL")
        return url

    def _request(
        self, method: str, path: str, json_body: dict[str, Any] | None = None,
        creates: bool = False, files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Any:
        url = self.api_url + path
        try:
            response = self._session.request(method, url, json=json_body, files=files,
                                             timeout=self.timeout_s)
        except requests.exceptions.ConnectTimeout:
            raise NotSent(f"could not connect to {self.api_url} (timed out)") from None
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise NotSent(f"could not connect to {self.api_url}") from None
            raise _doubt_or_not_sent(
                creates, "the connection broke before Medium answered"
            ) from None
        except requests.exceptions.Timeout:
            raise _doubt_or_not_sent(
                creates, f"no answer from Medium within {self.timeout_s:g} s"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise _doubt_or_not_sent(creates, f"request failed: {type(exc).__name__}") from None
        return _read_answer(response, creates)


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


def _read_answer(response: requests.Response, creates: bool) -> Any:
    status = response.status_code
    body: Any = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if 200 <= status < 300:
        if isinstance(body, dict) and "data" in body:
            return body["data"]
        if creates:
            raise InDoubt(f"Medium answered {status} with a body syncd cannot read", status)
        raise NotSent(f"Medium answered {status} with a body syncd cannot read", status)
    message, code = _error_message(body, response)
    if status == 401:
        raise TokenRefused(message, status, code)
    if status == 429 or RATE_LIMIT_MESSAGE.search(message):
        raise RateLimited(message, status, _retry_after(response))
    if 400 <= status < 500:
        raise Rejected(message, status, code)
    if creates:
        raise InDoubt(f"Medium answered {status}: {message}", status, code)
    raise NotSent(f"Medium answered {status}: {message}", status, code)


def _error_message(body: Any, response: requests.Response) -> tuple[str, int | None]:
    """Medium's first error message, or a short description of a non-JSON answer."""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            code = first.get("code")
            return str(first.get("message", "")) or "no message", (
                code if isinstance(code, int) else None
            )
    kind = response.headers.get("Content-Type", "unknown type").split(";")[0]
    return f"HTTP {response.status_code} with a non-JSON body ({kind})", None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
