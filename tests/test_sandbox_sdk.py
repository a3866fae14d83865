"""Medium's own Python SDK (``medium`` 0.3.0) against the emulator.

If Medium's official client works unchanged against the sandbox, the sandbox speaks Medium
rather than a dialect of our own: paths, envelope, form-encoded token exchange, multipart
upload and error bodies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import medium
import pytest
import requests
from conftest import TEST_TOKEN

from syncd.sandbox import Sandbox

REDIRECT_URI = "https://blog.example/oauth/callback"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


@pytest.fixture
def medium_at(sandbox: Sandbox) -> Iterator[Sandbox]:
    """Point the SDK's module-level BASE_PATH at the sandbox, and put it back afterwards."""
    saved = medium.BASE_PATH
    medium.BASE_PATH = sandbox.url
    try:
        yield sandbox
    finally:
        medium.BASE_PATH = saved


@pytest.fixture
def client(medium_at: Sandbox) -> medium.Client:
    return medium.Client(access_token=TEST_TOKEN)


def test_get_current_user(client: medium.Client, medium_at: Sandbox) -> None:
    user = client.get_current_user()
    assert user["id"] == medium_at.users[0].id
    assert user["username"] == medium_at.users[0].username
    assert set(user) == {"id", "username", "name", "url", "imageUrl"}


def test_create_post_with_every_option(client: medium.Client, medium_at: Sandbox) -> None:
    user = client.get_current_user()
    post = client.create_post(
        user_id=user["id"],
        title="From the SDK",
        content="<h1>From the SDK</h1><p>Hello.</p>",
        content_format="html",
        tags=["python", "medium", "sdk", "fourth"],
        canonical_url="https://blog.example/from-the-sdk.html",
        publish_status="draft",
        license="cc-40-by",
    )
    assert post["title"] == "From the SDK"
    assert post["authorId"] == user["id"]
    assert post["tags"] == ["python", "medium", "sdk"]
    assert post["canonicalUrl"] == "https://blog.example/from-the-sdk.html"
    assert post["publishStatus"] == "draft"
    assert post["license"] == "cc-40-by"
    assert "publishedAt" not in post
    [record] = medium_at.posts()
    assert record["post"] == post
    assert record["request"]["contentFormat"] == "html"


def test_create_post_with_defaults(client: medium.Client) -> None:
    user = client.get_current_user()
    post = client.create_post(user["id"], "Defaults", "# Defaults\n\nText.", "markdown")
    assert post["publishStatus"] == "public"
    assert post["license"] == "all-rights-reserved"
    assert "canonicalUrl" not in post
    assert isinstance(post["publishedAt"], int)


def test_errors_reach_the_sdk_as_medium_errors(client: medium.Client, medium_at: Sandbox) -> None:
    user = client.get_current_user()
    with pytest.raises(medium.MediumError) as invalid:
        client.create_post(user["id"], "Bad", "<p>x</p>", "html", license="mine")
    assert invalid.value.code == 6026
    assert "license" in invalid.value.msg

    with pytest.raises(medium.MediumError) as unauthorized:
        medium.Client(access_token="not-a-token").get_current_user()
    assert unauthorized.value.code == 6000
    assert unauthorized.value.msg == "An access token is required."
    assert medium_at.posts() == []


def test_the_daily_limit_reaches_the_sdk(
    make_sandbox: Callable[..., Sandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = make_sandbox(daily_limit=1)
    monkeypatch.setattr(medium, "BASE_PATH", sandbox.url)
    client = medium.Client(access_token=TEST_TOKEN)
    user_id = sandbox.users[0].id
    client.create_post(user_id, "One", "<p>one</p>", "html")
    with pytest.raises(medium.MediumError) as limited:
        client.create_post(user_id, "Two", "<p>two</p>", "html")
    assert "rate limit for publishing today" in limited.value.msg


def test_upload_image(client: medium.Client, medium_at: Sandbox, tmp_path: Path) -> None:
    picture = tmp_path / "picture.png"
    picture.write_bytes(PNG_BYTES)
    image = client.upload_image(str(picture), "image/png")
    assert set(image) == {"url", "md5"}
    served = requests.get(image["url"], timeout=5)
    assert served.status_code == 200
    assert served.content == PNG_BYTES
    assert served.headers["Content-Type"] == "image/png"


def test_oauth_code_and_refresh_exchange(medium_at: Sandbox) -> None:
    app = medium.Client(
        application_id=medium_at.client_id, application_secret=medium_at.client_secret
    )
    authorize_url = app.get_authorization_url(
        "state-123", REDIRECT_URI, ["basicProfile", "publishPost", "uploadImage"]
    )
    assert authorize_url.startswith("https://medium.com/m/oauth/authorize?")
    local = authorize_url.replace("https://medium.com", medium_at.url, 1)
    answer = requests.get(local, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["state-123"]

    granted = app.exchange_authorization_code(query["code"][0], REDIRECT_URI)
    assert granted["token_type"] == "Bearer"
    assert granted["scope"] == ["basicProfile", "publishPost", "uploadImage"]
    assert app.access_token == granted["access_token"]
    me = app.get_current_user()
    assert me["id"] == medium_at.users[0].id
    post = app.create_post(me["id"], "Via OAuth", "<p>hi</p>", "html")
    assert post["authorId"] == me["id"]

    with pytest.raises(medium.MediumError):
        app.exchange_authorization_code(query["code"][0], REDIRECT_URI)

    refreshed = app.exchange_refresh_token(granted["refresh_token"])
    assert refreshed["access_token"] != granted["access_token"]
    assert app.access_token == refreshed["access_token"]
    assert app.get_current_user()["id"] == me["id"]


def test_oauth_denied_comes_back_as_an_error(medium_at: Sandbox) -> None:
    app = medium.Client(application_id=medium_at.client_id)
    authorize_url = app.get_authorization_url("s", REDIRECT_URI, ["basicProfile"])
    local = authorize_url.replace("https://medium.com", medium_at.url, 1) + "&sandbox_deny=1"
    location = requests.get(local, allow_redirects=False, timeout=5).headers["Location"]
    assert parse_qs(urlsplit(location).query) == {"error": ["access_denied"], "state": ["s"]}
