"""Medium's HTTP surface, and the emulator's own: one parsed request in, one response out.

This is the part that speaks Medium: routes under ``/v1/`` with the ``{"data": …}`` envelope
(except ``/v1/tokens``, which answers the token object itself), Medium's error body, the
multipart image upload and the form-encoded OAuth exchange, plus the browser's
``/m/oauth/authorize`` page. The emulator's extras live under ``/_sandbox/`` and at ``/``.
Sockets, faults and threads are :mod:`syncd.sandbox.server`'s business; this module never
sees a connection, so every rule here is answered the same however the bytes arrived.
"""

from __future__ import annotations

import json
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from html import escape
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from syncd.sandbox.page import CONTENT_SECURITY_POLICY, render_index
from syncd.sandbox.store import (
    CODE_BAD_IMAGE,
    CODE_BAD_REQUEST,
    CODE_NOT_FOUND,
    IMAGE_TYPES,
    ApiError,
    SandboxUser,
    Store,
)

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
CODE_NO_ROUTE = 6010
CODE_BAD_METHOD = 6011
CODE_SERVER_ERROR = 6050


@dataclass
class Request:
    """What a route needs of an HTTP request; ``base_url`` is how the client reached us."""

    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes
    base_url: str


@dataclass
class Response:
    """A complete answer, written in one go by the server."""

    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(status, body, JSON_TYPE, dict(headers or {}))


def error_response(error: ApiError) -> Response:
    """Medium's error body: clients read the first entry of ``errors``."""
    payload = {"errors": [{"message": error.message, "code": error.code}]}
    return json_response(error.status, payload, error.headers)


Route = Callable[[Request, re.Match[str]], Response]


class Api:
    """Routes requests to the store, turning its refusals into Medium's error answers."""

    def __init__(self, store: Store) -> None:
        self.store = store
        segment = r"([^/]+)"
        self._routes: list[tuple[str, re.Pattern[str], Route]] = [
            ("GET", re.compile(r"/"), self._index),
            ("GET", re.compile(r"/v1/me"), self._me),
            ("GET", re.compile(rf"/v1/users/{segment}/publications"), self._publications),
            (
                "GET",
                re.compile(rf"/v1/publications/{segment}/contributors"),
                self._contributors,
            ),
            ("POST", re.compile(rf"/v1/users/{segment}/posts"), self._user_post),
            ("POST", re.compile(rf"/v1/publications/{segment}/posts"), self._publication_post),
            ("POST", re.compile(r"/v1/images"), self._upload_image),
            ("POST", re.compile(r"/v1/tokens"), self._tokens),
            ("GET", re.compile(r"/m/oauth/authorize"), self._authorize),
            ("GET", re.compile(r"/_sandbox/posts"), self._inspect_posts),
            ("GET", re.compile(rf"/_sandbox/images/{segment}"), self._image),
            ("GET", re.compile(r"/_sandbox/faults"), self._list_faults),
            ("POST", re.compile(r"/_sandbox/faults"), self._add_fault),
            ("DELETE", re.compile(r"/_sandbox/faults"), self._clear_faults),
        ]

    def handle(self, request: Request) -> Response:
        """Answer one request; a bug becomes a 500 with its traceback on stderr."""
        try:
            return self._dispatch(request)
        except ApiError as error:
            return error_response(error)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return error_response(ApiError(500, "Internal server error.", CODE_SERVER_ERROR))

    def _dispatch(self, request: Request) -> Response:
        allowed: list[str] = []
        for method, pattern, route in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            if method == request.method:
                return route(request, match)
            allowed.append(method)
        if allowed:
            raise ApiError(
                405,
                f"{request.method} is not allowed here.",
                CODE_BAD_METHOD,
                headers={"Allow": ", ".join(allowed)},
            )
        raise ApiError(404, f"No such endpoint: {request.path}", CODE_NO_ROUTE)

    # --- Medium ---------------------------------------------------------------------------

    def _me(self, request: Request, match: re.Match[str]) -> Response:
        user = self._user(request, "basicProfile")
        return json_response(200, {"data": user.profile()})

    def _publications(self, request: Request, match: re.Match[str]) -> Response:
        user = self._user(request, "listPublications")
        return json_response(200, {"data": self.store.publications_of(user, match.group(1))})

    def _contributors(self, request: Request, match: re.Match[str]) -> Response:
        self._user(request, "listPublications")
        return json_response(200, {"data": self.store.contributors(match.group(1))})

    def _user_post(self, request: Request, match: re.Match[str]) -> Response:
        user = self._user(request, "publishPost")
        post = self.store.create_post(
            user, request.path, _json_body(request), author_id=match.group(1)
        )
        return json_response(201, {"data": post})

    def _publication_post(self, request: Request, match: re.Match[str]) -> Response:
        user = self._user(request, "publishPost")
        post = self.store.create_post(
            user, request.path, _json_body(request), publication_id=match.group(1)
        )
        return json_response(201, {"data": post})

    def _upload_image(self, request: Request, match: re.Match[str]) -> Response:
        self._user(request, "uploadImage")
        data, content_type = _image_part(request)
        name, md5 = self.store.save_image(data, content_type)
        url = f"{request.base_url}/_sandbox/images/{name}"
        return json_response(201, {"data": {"url": url, "md5": md5}})

    def _tokens(self, request: Request, match: re.Match[str]) -> Response:
        # Form-encoded only, as Medium: a JSON body parses to no grant_type and is refused.
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        return json_response(201, self.store.exchange_token(form))

    def _authorize(self, request: Request, match: re.Match[str]) -> Response:
        try:
            location = self.store.authorize(request.query)
        except ApiError as error:
            page = (
                "<!DOCTYPE html><html><head><meta charset='utf-8'>"
                "<title>Authorization failed</title></head><body>"
                f"<h1>Authorization failed</h1><p>{escape(error.message)}</p></body></html>"
            )
            return Response(error.status, page.encode("utf-8"), HTML_TYPE)
        return Response(302, b"", HTML_TYPE, {"Location": location})

    def _user(self, request: Request, scope: str) -> SandboxUser:
        return self.store.authenticate(request.headers.get("Authorization"), scope)

    # --- the emulator's own ---------------------------------------------------------------

    def _index(self, request: Request, match: re.Match[str]) -> Response:
        page = render_index(self.store.records(), self.store.users)
        return Response(
            200,
            page.encode("utf-8"),
            HTML_TYPE,
            {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"},
        )

    def _inspect_posts(self, request: Request, match: re.Match[str]) -> Response:
        return json_response(200, self.store.records())

    def _image(self, request: Request, match: re.Match[str]) -> Response:
        found = self.store.image(match.group(1))
        if found is None:
            raise ApiError(404, "No such image.", CODE_NOT_FOUND)
        data, content_type = found
        return Response(200, data, content_type, {"X-Content-Type-Options": "nosniff"})

    def _list_faults(self, request: Request, match: re.Match[str]) -> Response:
        return json_response(200, self.store.faults())

    def _add_fault(self, request: Request, match: re.Match[str]) -> Response:
        return json_response(201, self.store.add_fault(_json_body(request)))

    def _clear_faults(self, request: Request, match: re.Match[str]) -> Response:
        return json_response(200, {"cleared": self.store.clear_faults()})


def fault_response(status: int, body: Any, message: str | None, code: int | None) -> Response:
    """The answer of a ``status`` fault: its body as given, else Medium's error body."""
    if isinstance(body, str):
        return Response(status, body.encode("utf-8"), "text/plain; charset=utf-8")
    if body is not None:
        return json_response(status, body)
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    payload = {"errors": [{"message": message or phrase, "code": status if code is None else code}]}
    return json_response(status, payload)


def cdn_block_page(ray_id: str) -> Response:
    """What Medium's CDN answers some cloud addresses: a 403 HTML page, not JSON."""
    page = f"""<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="UTF-8"><title>Attention Required! | Cloudflare</title></head>
<body>
<div id="cf-wrapper">
<h1>Sorry, you have been blocked</h1>
<h2>You are unable to access medium.com</h2>
<p>This website is using a security service to protect itself from online attacks.</p>
<p>Cloudflare Ray ID: <strong>{ray_id}</strong></p>
</div>
</body>
</html>
"""
    return Response(403, page.encode("utf-8"), "text/html; charset=UTF-8", {"CF-RAY": ray_id})


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "The request body is not valid JSON.", CODE_BAD_REQUEST) from None


def _image_part(request: Request) -> tuple[bytes, str]:
    """The one ``image`` part of a multipart upload, with its allowed content type."""
    usage = 'Upload the image as multipart/form-data with exactly one part, named "image".'
    parts = parse_multipart(request.headers.get("Content-Type", ""), request.body)
    if parts is None or len(parts) != 1:
        raise ApiError(400, usage, CODE_BAD_IMAGE)
    headers, data = parts[0]
    if headers.get_param("name", header="content-disposition") != "image":
        raise ApiError(400, usage, CODE_BAD_IMAGE)
    if not headers.get_filename():
        raise ApiError(400, "The image part needs a file name.", CODE_BAD_IMAGE)
    content_type = headers.get_content_type() if headers.get("Content-Type") else ""
    if content_type not in IMAGE_TYPES:
        raise ApiError(400, f"Image type must be one of {', '.join(IMAGE_TYPES)}.", CODE_BAD_IMAGE)
    if not data:
        raise ApiError(400, "The image is empty.", CODE_BAD_IMAGE)
    return data, content_type


def parse_multipart(content_type: str, body: bytes) -> list[tuple[Message, bytes]] | None:
    """The parts of a ``multipart/form-data`` body, bytes untouched; ``None`` if malformed.

    Part bodies are cut at the boundaries by hand so binary data comes back byte for byte;
    only each part's headers go through :mod:`email`.
    """
    outer = Message()
    outer["Content-Type"] = content_type
    boundary = outer.get_param("boundary")
    if outer.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    start = body.find(delimiter)
    if not boundary or start < 0:
        return None
    position = start + len(delimiter)
    parts: list[tuple[Message, bytes]] = []
    while not body.startswith(b"--", position):
        if not body.startswith(b"\r\n", position):
            return None
        position += 2
        if body.startswith(b"\r\n", position):
            header_bytes, content_start = b"", position + 2
        else:
            header_end = body.find(b"\r\n\r\n", position)
            if header_end < 0:
                return None
            header_bytes, content_start = body[position : header_end + 2], header_end + 4
        content_end = body.find(b"\r\n" + delimiter, content_start)
        if content_end < 0:
            return None
        headers = BytesHeaderParser().parsebytes(header_bytes)
        if headers.get_content_disposition() != "form-data":
            return None
        parts.append((headers, body[content_start:content_end]))
        position = content_end + 2 + len(delimiter)
    return parts
