"""A seeded fuzzer of Medium's answers, driving syncd's real client through the emulator.

Each case queues one emulator fault (any status, Retry-After, Location, Content-Type and body,
answered before or after the post is stored) and makes one call, ``GET /me`` or a create,
with :class:`syncd.medium.MediumClient` over a real socket. The oracle, written apart from the
client, says what the answer proves; a **finding** is any of:

- an exception that is not a :class:`~syncd.medium.MediumError` (a crash in a pass);
- ``posted`` (a :class:`~syncd.medium.CreatedPost`) from an answer that is not a 200/201
  whose ``data`` is a post with an id and a URL ending in that id;
- a refusal (nothing created) from anything but a 4xx; a token refusal from anything but 401;
- a wait (``retry_after``) that is not finite or not within 0 and ``MAX_WAIT_S``;
- a user from ``/me`` without a well-formed id, or from an answer that is not a 2xx;
- a call that takes longer than :data:`CASE_CEILING_S`.

Used by ``tests/test_fuzz_api.py`` (a short fixed seed) and ``bench/fuzz_api.py`` (long runs).
"""

from __future__ import annotations

import base64
import json
import math
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from syncd.config import Secret
from syncd.medium import (
    MAX_ANSWER_BYTES,
    MAX_WAIT_S,
    CreatedPost,
    MediumClient,
    MediumError,
    MediumUser,
    RateLimited,
    Rejected,
    TokenRefused,
)
from syncd.sandbox import Sandbox

CASE_CEILING_S = 10.0
TIMEOUT_S = 2.0
_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")

STATUSES = [200, 200, 201, 201, 201, 202, 204, 206, 299, 300, 301, 302, 303, 304, 307, 308,
            400, 401, 403, 404, 405, 408, 409, 413, 422, 429, 429, 499, 500, 502, 503, 504,
            599]
RETRY_AFTERS = ["0", "1", "120", "-5", "inf", "-inf", "Infinity", "1e999", "-1e999", "nan",
                "NaN", "99999999999999999999999", "1e308", "3.5", "", "soon", "0x10", "1_000",
                "Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT",
                "Wed, 21 Oct 2015 07:28:00 GMT", "Mon, 32 Foo 2020 99:99:99 GMT",
                "Sun, 06 Nov 1994 08:49:37", "\u00e9t\u00e9"]
LOCATIONS = ["/v1/me", "/v1/users/x/posts", "https://medium.com/@someone",
             "https://evil.example/steal", "//evil.example/x", "", "javascript:alert(1)",
             "/\u00e9", "http://[::1", "/" + "a" * 5000]
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "text/html",
                 "text/plain", "application/octet-stream", "application/json; charset=utf-16",
                 "", "\u00e9"]
URLS = ["https://medium.com/@u/slug-{id}", "https://medium.com/@u/{id}",
        "https://medium.com/@u", "https://medium.com/@u/slug-other", "", "not a url",
        "ftp://medium.com/@u/slug-{id}", "http://[::1/slug-{id}", "https:///slug-{id}",
        "https://pub.example/slug-{id}/", "javascript:x//-{id}", None, 7, ["x"]]
IDS = ["0123456789ab", "abc", "", "../../me", "a/b", "x" * 200, None, 12, 1.5, True, [], {},
       "\u00e9\u00e9", "a b"]


@dataclass
class Summary:
    """What a run tried and found, by class."""

    cases: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    findings: Counter[str] = field(default_factory=Counter)
    examples: dict[str, dict[str, Any]] = field(default_factory=dict)
    slowest_s: float = 0.0

    def found(self, kind: str, spec: dict[str, Any], detail: str) -> None:
        self.findings[kind] += 1
        if kind not in self.examples:
            self.examples[kind] = {"spec": _short(spec), "detail": detail[:500]}


def run(seed: int, cases: int, *, huge_every: int = 50) -> Summary:
    """``cases`` random cases from ``seed`` against one emulator; findings are counted."""
    rng = random.Random(seed)
    summary = Summary()
    with Sandbox(host="127.0.0.1", port=0) as sandbox:
        user_id = sandbox.users[0].id
        client = MediumClient(sandbox.api_url, Secret(sandbox.users[0].token), TIMEOUT_S,
                              read_retry_delays=(0.0, 0.0))
        try:
            for number in range(cases):
                endpoint = rng.choice(["me", "create", "create"])
                spec = _fault(rng, endpoint, huge=huge_every > 0 and number % huge_every == 7)
                sandbox.clear_faults()
                sandbox.add_fault(**{k: v for k, v in spec.items() if k != "kind"})
                started = time.monotonic()
                try:
                    if endpoint == "me":
                        result: Any = client.me()
                    else:
                        result = client.create_post(
                            {"title": "T", "contentFormat": "html", "content": "<p>x</p>"},
                            user_id=user_id)
                except MediumError as exc:
                    result = exc
                except Exception as exc:  # noqa: BLE001 - a crash is exactly what is sought
                    summary.found(f"{endpoint}: uncaught {type(exc).__name__}", spec, repr(exc))
                    result = None
                elapsed = time.monotonic() - started
                summary.slowest_s = max(summary.slowest_s, elapsed)
                if elapsed > CASE_CEILING_S:
                    summary.found(f"{endpoint}: took {elapsed:.0f} s", spec, "")
                summary.cases += 1
                if result is not None:
                    summary.outcomes[f"{endpoint}: {type(result).__name__}"] += 1
                    for problem in _judge(endpoint, spec, result):
                        summary.found(f"{endpoint}: {problem}", spec, repr(result))
        finally:
            client.close()
    return summary


def _fault(rng: random.Random, endpoint: str, huge: bool) -> dict[str, Any]:
    path = "/v1/me" if endpoint == "me" else "/v1/users/*/posts"
    status = rng.choice(STATUSES)
    spec: dict[str, Any] = {"path": path, "status": status, "times": 3}
    if endpoint == "create":
        spec["after"] = rng.random() < 0.5
    headers: dict[str, str] = {}
    if rng.random() < 0.4 or status == 429:
        headers["Retry-After"] = rng.choice(RETRY_AFTERS)
    if 300 <= status < 400 and rng.random() < 0.8:
        spec["location"] = rng.choice(LOCATIONS)
    elif rng.random() < 0.1:
        headers["Location"] = rng.choice(LOCATIONS)
    if rng.random() < 0.5:
        headers["Content-Type"] = rng.choice(CONTENT_TYPES)
    if headers:
        spec["headers"] = headers
    body_kind, body = _body(rng, endpoint, huge)
    spec["kind"] = body_kind
    if isinstance(body, bytes):
        spec["body_base64"] = base64.b64encode(body).decode()
    elif body is not None:
        spec["body"] = body
    return spec


def _body(rng: random.Random, endpoint: str, huge: bool) -> tuple[str, Any]:
    if huge:
        filler = "x" * (MAX_ANSWER_BYTES + rng.randint(1, 1000))
        return "huge", {"data": {"id": "0123456789ab",
                                 "url": "https://medium.com/@u/slug-0123456789ab",
                                 "padding": filler}}
    kind = rng.choice(["post", "post", "user", "mangled", "data-type", "errors", "text",
                       "bytes", "deep", "none", "json-scalar"])
    if kind == "post":
        post_id = rng.choice(IDS) if rng.random() < 0.3 else f"{rng.getrandbits(48):012x}"
        url = rng.choice(URLS)
        if isinstance(url, str):
            url = url.replace("{id}", str(post_id))
        post: dict[str, Any] = {"id": post_id, "url": url, "publishStatus": "public"}
        for key in list(post):
            if rng.random() < 0.1:
                del post[key]
        return kind, {"data": post}
    if kind == "user":
        user: dict[str, Any] = {"id": rng.choice(IDS), "username": rng.choice(["u", 5, None]),
                                "name": "N", "url": rng.choice(URLS)}
        if rng.random() < 0.2:
            del user["id"]
        return kind, {"data": user}
    if kind == "mangled":
        good = json.dumps({"data": {"id": "0123456789ab",
                                    "url": "https://medium.com/@u/s-0123456789ab"}})
        cut = rng.randint(0, len(good) - 1)
        return kind, good[:cut]
    if kind == "data-type":
        return kind, {"data": rng.choice([[], [1, 2], "x", None, 3, True, 1e308])}
    if kind == "errors":
        message = rng.choice(["nope", "has reached the rate limit for publishing today", 5,
                              None, "\x1b[31mred\x1b[0m\nline", "m" * 10_000])
        errors = rng.choice([[{"message": message, "code": rng.choice([1, "x", None])}],
                             [], "x", [None], None])
        return kind, {"errors": errors}
    if kind == "text":
        return kind, rng.choice(["<html>ok</html>", "", "null", "NaN", "[", "{}", '"data"',
                                 '{"data": {"id": NaN}}', "\ufeff{}"])
    if kind == "bytes":
        return kind, bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
    if kind == "deep":
        depth = rng.choice([100, 10_000, 200_000])
        return kind, "[" * depth + "]" * depth * rng.randint(0, 1)
    if kind == "json-scalar":
        return kind, rng.choice([0, "s", True, None, [None], 1e308])
    return kind, None


def _judge(endpoint: str, spec: dict[str, Any], result: Any) -> list[str]:
    """What ``result`` claims that the answer does not prove."""
    status = spec["status"]
    problems: list[str] = []
    if isinstance(result, CreatedPost) and (
        status not in (200, 201) or not _proves_a_post(spec)
    ):
        problems.append(f"posted from a {status} {spec['kind']} answer")
    if isinstance(result, MediumUser) and (
        not 200 <= status < 300 or not _WELL_FORMED_ID.fullmatch(result.id)
    ):
        problems.append(f"a user from a {status} answer")
    if isinstance(result, TokenRefused) and status != 401:
        problems.append(f"token refused on a {status}")
    if isinstance(result, Rejected) and not 400 <= status < 500:
        problems.append(f"refused (nothing created) on a {status}")
    if isinstance(result, RateLimited):
        wait = result.retry_after
        if wait is not None and (not math.isfinite(wait) or not 0 <= wait <= MAX_WAIT_S):
            problems.append(f"a wait of {wait!r}")
    return problems


def _proves_a_post(spec: dict[str, Any]) -> bool:
    body = spec.get("body")
    data = body.get("data") if isinstance(body, dict) else None
    if spec["kind"] == "huge" or not isinstance(data, dict):
        return False
    post_id, url = data.get("id"), data.get("url")
    if not isinstance(post_id, str) or not _WELL_FORMED_ID.fullmatch(post_id):
        return False
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    last = parts.path.rstrip("/").split("/")[-1]
    return parts.scheme in ("http", "https") and bool(host) and (
        last == post_id or last.endswith("-" + post_id))


def _short(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec, with long values cut, for a readable example."""
    return {key: (value[:80] + "…" if isinstance(value, str) and len(value) > 80 else
                  "<large>" if len(repr(value)) > 300 else value)
            for key, value in spec.items()}
