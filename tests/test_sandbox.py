"""The Medium emulator over a real socket: every endpoint, rule, fault and the persistence.

Each test talks HTTP to a sandbox on a loopback port with ``requests``, as syncd's client and
Medium's SDK do; nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from conftest import TEST_TOKEN, ManualClock

from syncd.sandbox import Sandbox, SandboxUser

OTHER_TOKEN = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
REDIRECT_URI = "https://blog.example/callback"
# Binary data with the bytes a naive multipart parser trips on.
IMAGE_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"\r\n--\r\n\r\n\n\r" + os.urandom(4096)


def auth(token: str = TEST_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create(
    sandbox: Sandbox,
    body: Any,
    token: str = TEST_TOKEN,
    author_id: str | None = None,
    **kwargs: Any,
) -> requests.Response:
    author = author_id or sandbox.users[0].id
    return requests.post(
        f"{sandbox.api_url}/users/{author}/posts", json=body, headers=auth(token), **kwargs
    )


def post_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Hello, World!",
        "contentFormat": "html",
        "content": "<h1>Hello, World!</h1><p>First post.</p>",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def assert_error(response: requests.Response, status: int, code: int | None = None) -> str:
    """The response is Medium's error body with ``status``; returns the message."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    errors = response.json()["errors"]
    assert isinstance(errors, list) and errors
    assert isinstance(errors[0]["message"], str) and errors[0]["message"]
    assert isinstance(errors[0]["code"], int)
    if code is not None:
        assert errors[0]["code"] == code
    return errors[0]["message"]


def authorize(sandbox: Sandbox, **params: str) -> dict[str, list[str]]:
    """Follow /m/oauth/authorize by hand and return the query it redirects back with."""
    query = {
        "client_id": sandbox.client_id,
        "scope": "basicProfile,publishPost",
        "state": "xyz",
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
    }
    query.update(params)
    response = requests.get(
        f"{sandbox.url}/m/oauth/authorize", params=query, allow_redirects=False, timeout=5
    )
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    return parse_qs(urlsplit(location).query)


def exchange(sandbox: Sandbox, **fields: str) -> requests.Response:
    form = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT_URI,
    }
    form.update(fields)
    return requests.post(f"{sandbox.api_url}/tokens", data=form, timeout=5)


def oauth_token(sandbox: Sandbox, scope: str = "basicProfile,publishPost") -> dict[str, Any]:
    code = authorize(sandbox, scope=scope)["code"][0]
    response = exchange(sandbox, code=code)
    assert response.status_code == 201, response.text
    return response.json()


# --- users and authentication -------------------------------------------------------------


def test_me_answers_the_profile_in_a_data_envelope(sandbox: Sandbox) -> None:
    response = requests.get(f"{sandbox.api_url}/me", headers=auth(), timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    user = sandbox.users[0]
    assert response.json() == {
        "data": {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "url": f"https://medium.com/@{user.username}",
            "imageUrl": response.json()["data"]["imageUrl"],
        }
    }
    assert response.json()["data"]["imageUrl"].startswith("https://")


def test_users_are_derived_from_their_tokens(make_sandbox: Callable[..., Sandbox]) -> None:
    first = make_sandbox(tokens=[TEST_TOKEN, OTHER_TOKEN])
    again = make_sandbox(tokens=[OTHER_TOKEN])
    assert [user.token for user in first.users] == [TEST_TOKEN, OTHER_TOKEN]
    assert first.users[1] == again.users[0]
    assert first.users[0].id != first.users[1].id
    assert re.fullmatch(r"[0-9a-f]{12,}", first.users[0].id)
    assert first.users[0].username.startswith("sandbox-")
    assert isinstance(first.users[0], SandboxUser)
    assert TEST_TOKEN not in repr(first.users[0])
    for token, user in ((TEST_TOKEN, first.users[0]), (OTHER_TOKEN, first.users[1])):
        me = requests.get(f"{first.api_url}/me", headers=auth(token), timeout=5).json()
        assert me["data"]["id"] == user.id


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Basic {TEST_TOKEN}"},
        {"Authorization": TEST_TOKEN},
    ],
    ids=["none", "unknown", "empty", "basic", "no-scheme"],
)
def test_missing_or_unknown_token_is_401_6000(sandbox: Sandbox, headers: dict[str, str]) -> None:
    for response in (
        requests.get(f"{sandbox.api_url}/me", headers=headers, timeout=5),
        requests.post(
            f"{sandbox.api_url}/users/{sandbox.users[0].id}/posts",
            json=post_body(),
            headers=headers,
            timeout=5,
        ),
    ):
        assert assert_error(response, 401, 6000) == "An access token is required."
    assert sandbox.posts() == []


def test_unknown_routes_and_methods_answer_json_errors(sandbox: Sandbox) -> None:
    assert_error(requests.get(f"{sandbox.api_url}/nothing", headers=auth(), timeout=5), 404)
    response = requests.delete(f"{sandbox.api_url}/me", headers=auth(), timeout=5)
    assert_error(response, 405)
    assert response.headers["Allow"] == "GET"


# --- creating posts -------------------------------------------------------------------------


def test_create_post_answers_201_with_the_post(sandbox: Sandbox) -> None:
    user = sandbox.users[0]
    response = create(sandbox, post_body())
    assert response.status_code == 201, response.text
    post = response.json()["data"]
    assert re.fullmatch(r"[0-9a-f]{12}", post["id"])
    assert post["title"] == "Hello, World!"
    assert post["authorId"] == user.id
    assert post["tags"] == []
    assert post["url"] == f"https://medium.com/@{user.username}/hello-world-{post['id']}"
    assert "canonicalUrl" not in post
    assert post["publishStatus"] == "public"
    assert abs(post["publishedAt"] - time.time() * 1000) < 60_000
    assert post["license"] == "all-rights-reserved"
    assert post["licenseUrl"].startswith("https://")
    assert "publicationId" not in post


def test_create_post_with_every_field(sandbox: Sandbox) -> None:
    body = post_body(
        title="Second",
        contentFormat="markdown",
        content="# Second\n\nWith *markdown*.",
        tags=["python", "posse"],
        canonicalUrl="https://blog.example/2020/01/02/second.html",
        publishStatus="unlisted",
        license="cc-40-by-sa",
        notifyFollowers=False,
        publishedAt="2020-01-02T03:04:05+00:00",
    )
    post = create(sandbox, body).json()["data"]
    assert post["tags"] == ["python", "posse"]
    assert post["canonicalUrl"] == "https://blog.example/2020/01/02/second.html"
    assert post["publishStatus"] == "unlisted"
    assert post["license"] == "cc-40-by-sa"
    assert post["licenseUrl"] == "https://creativecommons.org/licenses/by-sa/4.0/"
    backdated = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert post["publishedAt"] == int(backdated.timestamp() * 1000)


def test_drafts_have_no_published_at(sandbox: Sandbox) -> None:
    draft = create(sandbox, post_body(publishStatus="draft")).json()["data"]
    assert draft["publishStatus"] == "draft"
    assert "publishedAt" not in draft
    backdated = create(
        sandbox, post_body(publishStatus="draft", publishedAt="2020-01-02T00:00:00Z")
    ).json()["data"]
    assert "publishedAt" not in backdated


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": None},
        {"title": ""},
        {"title": 42},
        {"content": None},
        {"content": ""},
        {"contentFormat": None},
        {"contentFormat": "rst"},
        {"publishStatus": "scheduled"},
        {"license": "cc-by"},
        {"tags": "python"},
        {"tags": ["ok", 3]},
        {"canonicalUrl": "/relative/path.html"},
        {"canonicalUrl": "ftp://blog.example/x"},
        {"notifyFollowers": "yes"},
        {"publishedAt": "yesterday"},
    ],
    ids=lambda overrides: "-".join(f"{k}={v!r}" for k, v in overrides.items()),
)
def test_invalid_create_post_bodies_are_400(sandbox: Sandbox, overrides: dict[str, Any]) -> None:
    body = post_body()
    for key, value in overrides.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    message = assert_error(create(sandbox, body), 400)
    assert next(iter(overrides)) in message
    assert sandbox.posts() == []


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2]", b'"a string"', b"\xff\xfe"],
    ids=["broken", "list", "str", "bytes"],
)
def test_a_body_that_is_not_a_json_object_is_400(sandbox: Sandbox, raw: bytes) -> None:
    response = requests.post(
        f"{sandbox.api_url}/users/{sandbox.users[0].id}/posts",
        data=raw,
        headers={**auth(), "Content-Type": "application/json"},
        timeout=5,
    )
    assert_error(response, 400)
    assert sandbox.posts() == []


def test_posting_as_another_user_is_403(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(tokens=[TEST_TOKEN, OTHER_TOKEN])
    assert_error(create(sandbox, post_body(), author_id=sandbox.users[1].id), 403)
    assert_error(create(sandbox, post_body(), author_id="0123456789abcdef"), 403)
    assert sandbox.posts() == []


def test_tags_are_trimmed_as_medium_does(sandbox: Sandbox) -> None:
    tags = ["x" * 26, "python", "a" * 25, "web", "fourth", "fifth"]
    post = create(sandbox, post_body(tags=tags)).json()["data"]
    assert post["tags"] == ["python", "a" * 25, "web"]
    assert sandbox.posts()[0]["request"]["tags"] == tags


def test_a_title_over_100_characters_is_replaced_by_the_first_heading(sandbox: Sandbox) -> None:
    long_title = "T" * 101
    html_post = create(
        sandbox, post_body(title=long_title, content="<p>intro</p><h2>The  <em>real</em> one</h2>")
    ).json()["data"]
    assert html_post["title"] == "The real one"
    assert "/the-real-one-" in html_post["url"]
    markdown_post = create(
        sandbox,
        post_body(title=long_title, contentFormat="markdown", content="Just text.\n\n## Heading"),
    ).json()["data"]
    assert markdown_post["title"] == "Heading"
    no_heading = create(
        sandbox, post_body(title=long_title, content="<p>" + "word " * 40 + "</p>")
    ).json()["data"]
    assert no_heading["title"] == ("word " * 20).strip()
    assert len(no_heading["title"]) <= 100
    kept = create(sandbox, post_body(title="K" * 100)).json()["data"]
    assert kept["title"] == "K" * 100


def test_slugs_fold_accents_and_separators(sandbox: Sandbox) -> None:
    post = create(sandbox, post_body(title="Café  & Crème: déjà vu?")).json()["data"]
    assert post["url"].endswith(f"/cafe-creme-deja-vu-{post['id']}")
    bare = create(sandbox, post_body(title="!!!")).json()["data"]
    assert bare["url"] == f"https://medium.com/@{sandbox.users[0].username}/{bare['id']}"


# --- publications ---------------------------------------------------------------------------


@pytest.fixture
def team(make_sandbox: Callable[..., Sandbox]) -> tuple[Sandbox, str, str]:
    """A sandbox with three users and a publication: user 0 edits, user 1 writes."""
    third = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    sandbox = make_sandbox(tokens=[TEST_TOKEN, OTHER_TOKEN, third])
    editor, writer = sandbox.users[0], sandbox.users[1]
    publication = sandbox.add_publication(
        "The Team", contributors={editor.id: "editor", writer.id: "writer"}
    )
    return sandbox, publication, third


def test_publications_and_contributors(team: tuple[Sandbox, str, str]) -> None:
    sandbox, publication, third = team
    editor, writer, outsider = sandbox.users
    response = requests.get(
        f"{sandbox.api_url}/users/{editor.id}/publications", headers=auth(), timeout=5
    )
    assert response.status_code == 200
    [summary] = response.json()["data"]
    assert summary["id"] == publication and summary["name"] == "The Team"
    assert set(summary) == {"id", "name", "description", "url", "imageUrl"}
    empty = requests.get(
        f"{sandbox.api_url}/users/{outsider.id}/publications", headers=auth(third), timeout=5
    )
    assert empty.json() == {"data": []}
    assert_error(
        requests.get(
            f"{sandbox.api_url}/users/{writer.id}/publications", headers=auth(), timeout=5
        ),
        403,
    )
    contributors = requests.get(
        f"{sandbox.api_url}/publications/{publication}/contributors", headers=auth(), timeout=5
    ).json()["data"]
    assert sorted(contributors, key=lambda c: c["role"]) == [
        {"publicationId": publication, "userId": editor.id, "role": "editor"},
        {"publicationId": publication, "userId": writer.id, "role": "writer"},
    ]
    assert_error(
        requests.get(
            f"{sandbox.api_url}/publications/nope/contributors", headers=auth(), timeout=5
        ),
        404,
    )


def test_publication_posts_follow_the_roles(team: tuple[Sandbox, str, str]) -> None:
    sandbox, publication, third = team
    url = f"{sandbox.api_url}/publications/{publication}/posts"

    def post(token: str, status: str | None) -> requests.Response:
        return requests.post(
            url, json=post_body(publishStatus=status), headers=auth(token), timeout=5
        )

    editor_post = post(TEST_TOKEN, "public")
    assert editor_post.status_code == 201
    assert editor_post.json()["data"]["publicationId"] == publication
    assert editor_post.json()["data"]["authorId"] == sandbox.users[0].id
    assert post(TEST_TOKEN, "draft").status_code == 201
    assert post(OTHER_TOKEN, "draft").status_code == 201
    assert_error(post(OTHER_TOKEN, "public"), 403)
    assert_error(post(OTHER_TOKEN, None), 403)
    assert_error(post(third, "draft"), 403)
    assert_error(
        requests.post(
            f"{sandbox.api_url}/publications/unknown/posts",
            json=post_body(),
            headers=auth(),
            timeout=5,
        ),
        404,
    )
    records = sandbox.posts()
    assert len(records) == 3
    assert records[0]["path"] == f"/v1/publications/{publication}/posts"


def test_add_publication_is_idempotent_by_name(sandbox: Sandbox) -> None:
    user = sandbox.users[0]
    first = sandbox.add_publication("Same", contributors={user.id: "writer"})
    second = sandbox.add_publication("Same", contributors={user.id: "editor"})
    assert first == second
    contributors = requests.get(
        f"{sandbox.api_url}/publications/{first}/contributors", headers=auth(), timeout=5
    ).json()["data"]
    assert contributors == [{"publicationId": first, "userId": user.id, "role": "editor"}]
    with pytest.raises(ValueError):
        sandbox.add_publication("Bad", contributors={user.id: "owner"})


# --- the daily limit ------------------------------------------------------------------------


def test_daily_limit_429_with_retry_after_then_recovers(
    make_sandbox: Callable[..., Sandbox], clock: ManualClock
) -> None:
    sandbox = make_sandbox(tokens=[TEST_TOKEN, OTHER_TOKEN], daily_limit=3, clock=clock)
    first_created = clock.now
    assert create(sandbox, post_body(publishStatus="draft")).status_code == 201
    clock.advance(3600)
    assert create(sandbox, post_body()).status_code == 201
    clock.advance(3600)
    assert create(sandbox, post_body()).status_code == 201
    clock.advance(60)

    refused = create(sandbox, post_body())
    message = assert_error(refused, 429)
    assert (
        message == f"{sandbox.users[0].username} has reached the rate limit for publishing today."
    )
    assert "rate limit for publishing today" in message
    assert int(refused.headers["Retry-After"]) == int(first_created + 86400 - clock.now)
    assert len(sandbox.posts()) == 3

    other = create(sandbox, post_body(), token=OTHER_TOKEN, author_id=sandbox.users[1].id)
    assert other.status_code == 201, "the limit is per user"

    clock.advance(int(refused.headers["Retry-After"]) - 1)
    assert create(sandbox, post_body()).status_code == 429
    clock.advance(1)
    assert create(sandbox, post_body()).status_code == 201
    again = create(sandbox, post_body())
    assert again.status_code == 429
    assert int(again.headers["Retry-After"]) == 3600, "until the second post ages out"


def test_retry_after_is_at_least_one_second(
    make_sandbox: Callable[..., Sandbox], clock: ManualClock
) -> None:
    sandbox = make_sandbox(daily_limit=1, clock=clock)
    assert create(sandbox, post_body()).status_code == 201
    clock.advance(86400 - 0.2)
    assert create(sandbox, post_body()).headers["Retry-After"] == "1"


def test_a_zero_daily_limit_means_no_limit(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(daily_limit=0)
    for _ in range(12):
        assert create(sandbox, post_body()).status_code == 201


# --- faults ---------------------------------------------------------------------------------


def add_fault(sandbox: Sandbox, **spec: Any) -> requests.Response:
    return requests.post(f"{sandbox.url}/_sandbox/faults", json=spec, timeout=5)


def test_status_fault_answers_the_error_and_stores_nothing(sandbox: Sandbox) -> None:
    assert add_fault(sandbox, path="/v1/users/*/posts", status=500).status_code == 201
    assert assert_error(create(sandbox, post_body()), 500) == "Internal Server Error"
    assert sandbox.posts() == []
    assert create(sandbox, post_body()).status_code == 201, "a fault is used up by one request"


def test_status_fault_options(sandbox: Sandbox) -> None:
    limited = {"message": "Try later", "code": 9, "headers": {"Retry-After": "7"}}
    add_fault(sandbox, path="/v1/users/*/posts", method="post", status=503, times=2, **limited)
    add_fault(sandbox, path="/v1/me", status=502, body="<html>bad gateway</html>")
    add_fault(sandbox, path="/v1/me", method="POST", status=500)
    listed = requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json()
    assert [fault["status"] for fault in listed] == [503, 502, 500]
    assert listed[0]["times"] == 2 and listed[0]["method"] == "POST"

    for _ in range(2):
        response = create(sandbox, post_body())
        assert assert_error(response, 503, 9) == "Try later"
        assert response.headers["Retry-After"] == "7"
    assert create(sandbox, post_body()).status_code == 201

    gateway = requests.get(f"{sandbox.api_url}/me", headers=auth(), timeout=5)
    assert gateway.status_code == 502
    assert gateway.text == "<html>bad gateway</html>"
    assert requests.get(f"{sandbox.api_url}/me", headers=auth(), timeout=5).status_code == 200
    assert len(requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json()) == 1
    cleared = requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=5)
    assert cleared.json() == {"cleared": 1}
    assert requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json() == []


def test_status_fault_after_stores_the_post_then_fails(sandbox: Sandbox) -> None:
    add_fault(sandbox, path="/v1/users/*/posts", status=504, after=True)
    assert_error(create(sandbox, post_body()), 504)
    assert len(sandbox.posts()) == 1


@pytest.mark.parametrize("after", [False, True])
def test_redirect_fault_answers_a_3xx_with_its_location(sandbox: Sandbox, after: bool) -> None:
    add_fault(sandbox, path="/v1/users/*/posts", status=303, location="/v1/me", after=after)
    response = create(sandbox, post_body(), allow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"] == "/v1/me"
    assert len(sandbox.posts()) == (1 if after else 0)


def test_a_status_fault_can_answer_any_bytes_with_any_content_type(sandbox: Sandbox) -> None:
    add_fault(sandbox, path="/v1/me", status=200, body_base64="/w==",
              headers={"Content-Type": "application/json"})
    response = requests.get(f"{sandbox.api_url}/me", headers=auth(), timeout=5)
    assert response.status_code == 200
    assert response.content == b"\xff"
    assert response.headers["Content-Type"] == "application/json"


def test_trickle_fault_sends_the_answer_a_byte_at_a_time(sandbox: Sandbox) -> None:
    add_fault(sandbox, path="/v1/users/*/posts", trickle_ms=1)
    host, port = urlsplit(sandbox.url).hostname, urlsplit(sandbox.url).port
    with socket.create_connection((host, port), timeout=5) as conn:
        body = json.dumps(post_body()).encode()
        conn.sendall(f"POST /v1/users/{sandbox.users[0].id}/posts HTTP/1.1\r\n"
                     f"Host: x\r\nAuthorization: Bearer {TEST_TOKEN}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                     .encode() + body)
        pieces = []
        while piece := conn.recv(65536):
            pieces.append(piece)
    answer = b"".join(pieces)
    assert answer.startswith(b"HTTP/1.1 201 Created\r\n")
    assert len(pieces) > 20, "the answer came in many small pieces"
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["data"]["id"]
    assert len(sandbox.posts()) == 1


def test_delay_fault_answers_late_but_normally(sandbox: Sandbox) -> None:
    add_fault(sandbox, path="/v1/users/*/posts", delay_s=0.3)
    started = time.monotonic()
    response = create(sandbox, post_body(), timeout=5)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 201
    assert len(sandbox.posts()) == 1


def test_delay_fault_past_the_client_timeout_still_creates_the_post(sandbox: Sandbox) -> None:
    add_fault(sandbox, path="/v1/users/*/posts", delay_s=0.3)
    with pytest.raises(requests.exceptions.ReadTimeout):
        create(sandbox, post_body(), timeout=0.1)
    deadline = time.monotonic() + 5
    while not sandbox.posts() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(sandbox.posts()) == 1, "the post exists although the client gave up: in doubt"


def test_drop_before_closes_without_answer_and_stores_nothing(sandbox: Sandbox) -> None:
    add_fault(sandbox, path="/v1/users/*/posts", drop="before")
    with pytest.raises(requests.exceptions.ConnectionError):
        create(sandbox, post_body(), timeout=5)
    assert sandbox.posts() == []
    assert create(sandbox, post_body()).status_code == 201


def test_drop_after_closes_without_answer_but_stores_the_post(sandbox: Sandbox) -> None:
    add_fault(sandbox, path="/v1/users/*/posts", drop="after")
    with pytest.raises(requests.exceptions.ConnectionError):
        create(sandbox, post_body(title="Stored anyway"), timeout=5)
    [record] = sandbox.posts()
    assert record["post"]["title"] == "Stored anyway"


def test_a_dropped_connection_sends_no_bytes(sandbox: Sandbox) -> None:
    add_fault(sandbox, path="/v1/me", drop="before")
    host, port = urlsplit(sandbox.url).hostname, urlsplit(sandbox.url).port
    with socket.create_connection((host, port), timeout=5) as conn:
        conn.sendall(b"GET /v1/me HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        try:
            while chunk := conn.recv(4096):
                received += chunk
        except ConnectionResetError:
            pass
    assert received == b""


def test_html_403_fault_answers_a_cdn_page(sandbox: Sandbox) -> None:
    add_fault(sandbox, path="/v1/*", html_403=True)
    response = create(sandbox, post_body())
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html" in response.text.lower()
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert sandbox.posts() == []


@pytest.mark.parametrize(
    "spec",
    [
        {"status": 500},
        {"path": "/v1/me"},
        {"path": "/v1/me", "status": 500, "drop": "before"},
        {"path": "/v1/me", "drop": "sideways"},
        {"path": "/v1/me", "delay_s": -1},
        {"path": "/v1/me", "status": 500, "times": 0},
        {"path": "/v1/me", "status": 99},
        {"path": "/v1/me", "delay": 5},
        {"path": "/v1/me", "html_403": "yes"},
        {"path": "/v1/me", "drop": "after", "message": "x"},
        {"path": "/v1/me", "status": 200, "location": "/elsewhere"},
        {"path": "/v1/me", "status": 200, "body": "x", "body_base64": "eA=="},
        {"path": "/v1/me", "status": 200, "body_base64": "not base64!"},
        {"path": "/v1/me", "trickle_ms": 0},
        {"path": "/v1/me", "trickle_ms": 5, "location": "/x"},
    ],
)
def test_invalid_faults_are_400(sandbox: Sandbox, spec: dict[str, Any]) -> None:
    assert_error(add_fault(sandbox, **spec), 400)
    assert sandbox.faults() == []


def test_faults_never_touch_the_inspection_endpoints(sandbox: Sandbox) -> None:
    add_fault(sandbox, path="*", status=500, times=5)
    assert requests.get(f"{sandbox.url}/_sandbox/posts", timeout=5).status_code == 200
    assert requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=5).json() == {"cleared": 1}


def test_faults_from_python(sandbox: Sandbox) -> None:
    sandbox.add_fault(path="/v1/me", status=500, times=2)
    assert sandbox.faults()[0]["times"] == 2
    assert requests.get(f"{sandbox.api_url}/me", headers=auth(), timeout=5).status_code == 500
    assert sandbox.clear_faults() == 1


# --- images ---------------------------------------------------------------------------------


def upload(
    sandbox: Sandbox, files: Any, token: str = TEST_TOKEN, **kwargs: Any
) -> requests.Response:
    return requests.post(
        f"{sandbox.api_url}/images", files=files, headers=auth(token), timeout=5, **kwargs
    )


def test_image_upload_and_serving(sandbox: Sandbox) -> None:
    response = upload(sandbox, {"image": ("photo.png", IMAGE_BYTES, "image/png")})
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["md5"] == hashlib.md5(IMAGE_BYTES).hexdigest()
    assert data["url"].startswith(f"{sandbox.url}/_sandbox/images/")
    served = requests.get(data["url"], timeout=5)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/png"
    assert served.content == IMAGE_BYTES
    jpeg = upload(sandbox, {"image": ("photo.jpg", b"\xff\xd8\xff" + IMAGE_BYTES, "image/jpeg")})
    served_jpeg = requests.get(jpeg.json()["data"]["url"], timeout=5)
    assert served_jpeg.headers["Content-Type"] == "image/jpeg"
    images = f"{sandbox.url}/_sandbox/images"
    for missing in ("%2e%2e%2fstate.json", "0" * 32 + ".png", "photo.png"):
        assert requests.get(f"{images}/{missing}", timeout=5).status_code == 404


@pytest.mark.parametrize(
    "files",
    [
        {"image": ("photo.bmp", IMAGE_BYTES, "image/bmp")},
        {"image": ("photo.png", IMAGE_BYTES)},
        {"image": (None, IMAGE_BYTES, "image/png")},
        {"picture": ("photo.png", IMAGE_BYTES, "image/png")},
        {"image": ("photo.png", b"", "image/png")},
        [("image", ("a.png", IMAGE_BYTES, "image/png")), ("image", ("b.png", b"x", "image/png"))],
        [("image", ("a.png", IMAGE_BYTES, "image/png")), ("caption", (None, b"hello"))],
    ],
    ids=["bmp", "no-type", "no-filename", "wrong-name", "empty", "two-images", "extra-part"],
)
def test_invalid_image_uploads_are_400(sandbox: Sandbox, files: Any) -> None:
    assert_error(upload(sandbox, files), 400)


def test_an_image_upload_must_be_multipart(sandbox: Sandbox) -> None:
    response = requests.post(
        f"{sandbox.api_url}/images",
        data=IMAGE_BYTES,
        headers={**auth(), "Content-Type": "image/png"},
        timeout=5,
    )
    assert_error(response, 400)
    assert_error(upload(sandbox, {"image": ("a.png", IMAGE_BYTES, "image/png")}, token="x"), 401)


# --- OAuth ----------------------------------------------------------------------------------


def test_oauth_authorize_redirects_with_a_code_and_the_state(sandbox: Sandbox) -> None:
    query = authorize(sandbox)
    assert query["state"] == ["xyz"]
    assert re.fullmatch(r"[0-9a-f]{16,}", query["code"][0])
    kept = authorize(sandbox, redirect_uri=REDIRECT_URI + "?keep=1")
    assert kept["keep"] == ["1"] and "code" in kept


def test_oauth_token_exchange_is_form_encoded_and_unwrapped(
    make_sandbox: Callable[..., Sandbox], clock: ManualClock
) -> None:
    sandbox = make_sandbox(clock=clock)
    code = authorize(sandbox)["code"][0]
    response = exchange(sandbox, code=code)
    assert response.status_code == 201, response.text
    token = response.json()
    assert "data" not in token
    assert token["token_type"] == "Bearer"
    assert token["scope"] == ["basicProfile", "publishPost"]
    assert token["expires_at"] == int((clock.now + 60 * 86400) * 1000)
    assert token["access_token"] != token["refresh_token"]
    me = requests.get(f"{sandbox.api_url}/me", headers=auth(token["access_token"]), timeout=5)
    assert me.json()["data"]["id"] == sandbox.users[0].id
    post = create(sandbox, post_body(), token=token["access_token"])
    assert post.status_code == 201
    assert post.json()["data"]["authorId"] == sandbox.users[0].id

    reused = exchange(sandbox, code=code)
    assert_error(reused, 400)

    refreshed = requests.post(
        f"{sandbox.api_url}/tokens",
        data={
            "refresh_token": token["refresh_token"],
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "grant_type": "refresh_token",
        },
        timeout=5,
    )
    assert refreshed.status_code == 201
    renewed = refreshed.json()
    assert renewed["access_token"] != token["access_token"]
    assert renewed["scope"] == token["scope"]
    assert (
        requests.get(
            f"{sandbox.api_url}/me", headers=auth(renewed["access_token"]), timeout=5
        ).status_code
        == 200
    )


def test_oauth_access_tokens_expire_after_60_days_refresh_tokens_do_not(
    make_sandbox: Callable[..., Sandbox], clock: ManualClock
) -> None:
    sandbox = make_sandbox(clock=clock)
    token = oauth_token(sandbox)
    clock.advance(60 * 86400 - 1)
    assert (
        requests.get(
            f"{sandbox.api_url}/me", headers=auth(token["access_token"]), timeout=5
        ).status_code
        == 200
    )
    clock.advance(1)
    expired = requests.get(f"{sandbox.api_url}/me", headers=auth(token["access_token"]), timeout=5)
    assert_error(expired, 401)
    clock.advance(365 * 86400)
    refreshed = exchange(sandbox, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert refreshed.status_code == 201
    assert (
        requests.get(
            f"{sandbox.api_url}/me", headers=auth(refreshed.json()["access_token"]), timeout=5
        ).status_code
        == 200
    )


def test_oauth_tokens_have_only_the_scopes_asked_for(sandbox: Sandbox) -> None:
    profile_only = oauth_token(sandbox, scope="basicProfile")["access_token"]
    message = assert_error(create(sandbox, post_body(), token=profile_only), 401)
    assert "publishPost" in message
    image = {"image": ("a.png", IMAGE_BYTES, "image/png")}
    no_upload = oauth_token(sandbox)["access_token"]
    assert "uploadImage" in assert_error(upload(sandbox, image, token=no_upload), 401)
    with_upload = oauth_token(sandbox, scope="basicProfile,uploadImage")["access_token"]
    assert upload(sandbox, image, token=with_upload).status_code == 201
    assert upload(sandbox, image).status_code == 201, "integration tokens have every scope"
    lister = oauth_token(sandbox, scope="listPublications")["access_token"]
    assert (
        requests.get(
            f"{sandbox.api_url}/users/{sandbox.users[0].id}/publications",
            headers=auth(lister),
            timeout=5,
        ).status_code
        == 200
    )
    assert_error(requests.get(f"{sandbox.api_url}/me", headers=auth(lister), timeout=5), 401)


@pytest.mark.parametrize("grant_type", [None, "", "password", "client_credentials"])
def test_oauth_bad_grant_type_is_400_6021(sandbox: Sandbox, grant_type: str | None) -> None:
    code = authorize(sandbox)["code"][0]
    form = {"code": code, "client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    if grant_type is not None:
        form["grant_type"] = grant_type
    response = requests.post(f"{sandbox.api_url}/tokens", data=form, timeout=5)
    assert_error(response, 400, 6021)


def test_oauth_token_exchange_refuses_json(sandbox: Sandbox) -> None:
    code = authorize(sandbox)["code"][0]
    response = requests.post(
        f"{sandbox.api_url}/tokens",
        json={
            "code": code,
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT_URI,
        },
        timeout=5,
    )
    assert_error(response, 400, 6021)


def test_oauth_exchange_checks_client_code_and_redirect(sandbox: Sandbox) -> None:
    code = authorize(sandbox)["code"][0]
    assert_error(exchange(sandbox, code=code, client_secret="wrong"), 401)
    assert_error(exchange(sandbox, code=code, redirect_uri="https://elsewhere.example/"), 400)
    assert_error(exchange(sandbox, code=code), 400)  # used up by the mismatched attempt
    assert_error(exchange(sandbox, code="0" * 32), 400)
    assert_error(exchange(sandbox, grant_type="refresh_token", refresh_token="nope"), 400)


def test_oauth_codes_expire(make_sandbox: Callable[..., Sandbox], clock: ManualClock) -> None:
    sandbox = make_sandbox(clock=clock)
    code = authorize(sandbox)["code"][0]
    clock.advance(11 * 60)
    assert_error(exchange(sandbox, code=code), 400)


def test_oauth_authorize_errors(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(tokens=[TEST_TOKEN, OTHER_TOKEN])
    assert authorize(sandbox, sandbox_deny="1") == {"error": ["access_denied"], "state": ["xyz"]}
    assert authorize(sandbox, response_type="token")["error"] == ["unsupported_response_type"]
    assert authorize(sandbox, scope="everything")["error"] == ["invalid_scope"]
    for params in ({"client_id": "unknown"}, {"redirect_uri": "not-a-url"}, {"redirect_uri": ""}):
        query = {
            "client_id": sandbox.client_id,
            "scope": "basicProfile",
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            **params,
        }
        response = requests.get(
            f"{sandbox.url}/m/oauth/authorize", params=query, allow_redirects=False, timeout=5
        )
        assert response.status_code == 400
        assert "Location" not in response.headers
        assert response.headers["Content-Type"].startswith("text/html")

    second = sandbox.users[1]
    code = authorize(sandbox, sandbox_user=second.username)["code"][0]
    token = exchange(sandbox, code=code).json()["access_token"]
    me = requests.get(f"{sandbox.api_url}/me", headers=auth(token), timeout=5)
    assert me.json()["data"]["id"] == second.id


def test_oauth_client_can_be_given(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(client_id="myapp", client_secret="s3cret")
    assert (sandbox.client_id, sandbox.client_secret) == ("myapp", "s3cret")
    generated = make_sandbox()
    assert re.fullmatch(r"[0-9a-f]{12}", generated.client_id)
    assert len(generated.client_secret) >= 32


# --- inspection -----------------------------------------------------------------------------


def test_inspection_lists_posts_oldest_first_with_the_request_as_sent(sandbox: Sandbox) -> None:
    first = post_body(title="First", tags=["x" * 30, "kept"], extra={"unknown": [1, 2]})
    answered = create(sandbox, first).json()["data"]
    create(sandbox, post_body(title="Second"))
    response = requests.get(f"{sandbox.url}/_sandbox/posts", timeout=5)
    assert response.status_code == 200
    records = response.json()
    assert isinstance(records, list) and len(records) == 2
    record = records[0]
    assert set(record) == {"received_at", "path", "request", "post"}
    assert record["request"] == first
    assert record["post"] == answered
    assert record["path"] == f"/v1/users/{sandbox.users[0].id}/posts"
    received = dt.datetime.fromisoformat(record["received_at"])
    assert received.tzinfo is not None
    assert abs(received.timestamp() - time.time()) < 60
    assert records[1]["post"]["title"] == "Second"
    assert sandbox.posts() == records


def test_the_page_lists_posts_safely(sandbox: Sandbox) -> None:
    create(
        sandbox,
        post_body(
            title="Older <b>post</b>",
            content="<h1>Older</h1><script>alert(1)</script><p onclick='x()'>Body "
            "<a href='javascript:alert(2)'>bad</a> <a href='https://ok.example/'>good</a></p>"
            "<img src='https://img.example/a.png' onerror='alert(3)'>"
            "<iframe src='https://evil.example'>inside</iframe><table><tr><td>cell</td></tr></table>",
            tags=["python"],
            canonicalUrl="https://blog.example/older.html",
        ),
    )
    create(
        sandbox,
        post_body(
            title="Newer", contentFormat="markdown", content="# Newer\n\n**bold** <style>x</style>"
        ),
    )
    response = requests.get(f"{sandbox.url}/", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    page = response.text
    assert page.index("Newer") < page.index("Older")
    assert "Older &lt;b&gt;post&lt;/b&gt;" in page
    assert "<script" not in page.lower()
    assert "alert(" not in page
    assert "onclick" not in page and "onerror" not in page
    assert "javascript:" not in page
    assert "<iframe" not in page and "inside" not in page
    assert "<table" not in page and "cell" in page
    assert '<a href="https://ok.example/"' in page
    assert '<img src="https://img.example/a.png"' in page
    assert "<strong>bold</strong>" in page
    assert "https://blog.example/older.html" in page
    assert "python" in page
    assert "<style>x</style>" not in page
    assert TEST_TOKEN not in page


def test_the_page_without_posts(sandbox: Sandbox) -> None:
    page = requests.get(sandbox.url, timeout=5).text
    assert "No posts yet" in page
    assert sandbox.users[0].username in page


# --- persistence ----------------------------------------------------------------------------


def test_state_survives_a_restart_with_a_data_folder(
    make_sandbox: Callable[..., Sandbox], tmp_path: Any
) -> None:
    data = tmp_path / "data"
    first = make_sandbox(data_dir=data)
    publication = first.add_publication("Kept", contributors={first.users[0].id: "editor"})
    created = create(first, post_body(title="Persisted")).json()["data"]
    image = upload(first, {"image": ("a.gif", IMAGE_BYTES, "image/gif")}).json()["data"]
    token = oauth_token(first)
    code = authorize(first)["code"][0]
    client = (first.client_id, first.client_secret)
    first.stop()
    assert not [p for p in data.iterdir() if p.name.endswith(".tmp")]

    second = make_sandbox(data_dir=data)
    assert (second.client_id, second.client_secret) == client
    [record] = second.posts()
    assert record["post"] == created
    me = requests.get(f"{second.api_url}/me", headers=auth(token["access_token"]), timeout=5)
    assert me.status_code == 200
    assert exchange(second, code=code).status_code == 201
    contributors = requests.get(
        f"{second.api_url}/publications/{publication}/contributors", headers=auth(), timeout=5
    )
    assert contributors.status_code == 200
    served = requests.get(f"{second.url}/_sandbox/images/{image['url'].rsplit('/', 1)[1]}")
    assert served.content == IMAGE_BYTES
    assert "Persisted" in requests.get(second.url, timeout=5).text


def test_the_daily_limit_counts_posts_from_before_a_restart(
    make_sandbox: Callable[..., Sandbox], clock: ManualClock, tmp_path: Any
) -> None:
    first = make_sandbox(data_dir=tmp_path, daily_limit=1, clock=clock)
    assert create(first, post_body()).status_code == 201
    first.stop()
    second = make_sandbox(data_dir=tmp_path, daily_limit=1, clock=clock)
    assert create(second, post_body()).status_code == 429


def test_without_a_data_folder_nothing_is_kept(make_sandbox: Callable[..., Sandbox]) -> None:
    first = make_sandbox()
    create(first, post_body())
    first.stop()
    assert make_sandbox().posts() == []


def test_unreadable_state_is_refused(tmp_path: Any) -> None:
    from syncd.sandbox.store import StateError

    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(StateError):
        Sandbox(tokens=[TEST_TOKEN], data_dir=tmp_path)
    (tmp_path / "state.json").write_text(json.dumps({"schema": 99}))
    with pytest.raises(StateError, match="schema"):
        Sandbox(tokens=[TEST_TOKEN], data_dir=tmp_path)


# --- concurrency, logging, lifecycle --------------------------------------------------------


def test_concurrent_creates_are_all_stored_with_distinct_ids(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = make_sandbox(daily_limit=100)
    results: list[requests.Response] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def worker(number: int) -> None:
        barrier.wait()
        response = create(sandbox, post_body(title=f"Post {number}"), timeout=10)
        with lock:
            results.append(response)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert [r.status_code for r in results] == [201] * 20
    ids = {r.json()["data"]["id"] for r in results}
    assert len(ids) == 20
    assert {record["post"]["id"] for record in sandbox.posts()} == ids


def test_concurrent_creates_respect_the_daily_limit(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(daily_limit=5)
    statuses: list[int] = []

    def worker() -> None:
        statuses.append(create(sandbox, post_body(), timeout=10).status_code)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(statuses) == [201] * 5 + [429] * 7
    assert len(sandbox.posts()) == 5


def test_the_request_log_has_one_line_per_request_and_no_token(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    log = io.StringIO()
    sandbox = make_sandbox(log=log)
    requests.get(f"{sandbox.api_url}/me", headers=auth(), timeout=5)
    create(sandbox, post_body())
    token = oauth_token(sandbox)
    requests.get(f"{sandbox.api_url}/me", headers=auth(token["access_token"]), timeout=5)
    deadline = time.monotonic() + 5
    while len(log.getvalue().splitlines()) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)  # a line is written just after its answer is sent
    lines = log.getvalue().splitlines()
    assert len(lines) == 5
    assert lines[0].startswith("sandbox: GET /v1/me 200")
    assert lines[2].startswith("sandbox: GET /m/oauth/authorize 302")
    text = log.getvalue()
    for secret in (
        TEST_TOKEN,
        token["access_token"],
        token["refresh_token"],
        sandbox.client_secret,
    ):
        assert secret not in text
    assert "state=" not in text


def test_lifecycle(sandbox: Sandbox) -> None:
    assert sandbox.url.startswith("http://127.0.0.1:")
    assert sandbox.api_url == sandbox.url + "/v1"
    with pytest.raises(RuntimeError):
        sandbox.start()
    sandbox.stop()
    sandbox.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{sandbox.api_url}/me", headers=auth(), timeout=2)
    unstarted = Sandbox(tokens=[TEST_TOKEN])
    with pytest.raises(RuntimeError):
        _ = unstarted.url
    unstarted.stop()


def test_stop_closes_idle_keep_alive_connections(sandbox: Sandbox) -> None:
    session = requests.Session()
    assert session.get(f"{sandbox.api_url}/me", headers=auth(), timeout=5).status_code == 200
    started = time.monotonic()
    sandbox.stop()
    assert time.monotonic() - started < 2
    session.close()


def test_a_sandbox_without_tokens_makes_one(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(tokens=[])
    [user] = sandbox.users
    assert len(user.token) >= 32
    me = requests.get(f"{sandbox.api_url}/me", headers=auth(user.token), timeout=5)
    assert me.status_code == 200
