"""The emulator's state and Medium's rules: who may call, what was posted, what fails next.

Terms used here:

- **user**: one per integration token given at start. Its id, username and name are derived
  from the token (a salted sha256), so the same token is the same user after a restart.
- **grant**: what a bearer token allows: a user, a set of scopes and, for OAuth access tokens,
  an expiry. Integration tokens have every scope and never expire.
- **record**: one created post as the inspection endpoint shows it: when it was received,
  the path, the request body exactly as sent and the Post that was answered.
- **fault**: a misbehaviour queued by a test (an error status or any answer at all, a
  redirect, a delay, a dropped connection, a CDN's HTML page, an answer trickled a byte at a
  time) that the next matching requests suffer.

:class:`Store` holds all of it behind one lock, so concurrent requests see a consistent state.
It knows nothing of sockets: a refusal is an :class:`ApiError` carrying the HTTP status,
Medium's error code and message, which the HTTP layer turns into Medium's error body. With a
data folder, every change is written at once and atomically (temporary file, fsync, rename);
faults are never persisted, they belong to the run that queued them.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import fnmatch
import hashlib
import json
import math
import os
import re
import secrets
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from syncd.atomic import replace_file
from syncd.sandbox.content import MAX_TITLE_CHARS, derive_title

SCHEMA_VERSION = 1
STATE_FILE = "state.json"
IMAGES_DIR = "images"

DAY_S = 24 * 60 * 60
ACCESS_TOKEN_LIFETIME_S = 60 * DAY_S
CODE_LIFETIME_S = 10 * 60

SCOPES = ("basicProfile", "listPublications", "publishPost", "uploadImage")
CONTENT_FORMATS = ("html", "markdown")
PUBLISH_STATUSES = ("public", "draft", "unlisted")
ROLES = ("editor", "writer")
MAX_TAG_CHARS = 25
MAX_TAGS = 3
LICENSE_URLS = {
    "all-rights-reserved": "https://medium.com/policy/9db0094a1e0f",
    "cc-40-by": "https://creativecommons.org/licenses/by/4.0/",
    "cc-40-by-sa": "https://creativecommons.org/licenses/by-sa/4.0/",
    "cc-40-by-nd": "https://creativecommons.org/licenses/by-nd/4.0/",
    "cc-40-by-nc": "https://creativecommons.org/licenses/by-nc/4.0/",
    "cc-40-by-nc-nd": "https://creativecommons.org/licenses/by-nc-nd/4.0/",
    "cc-40-by-nc-sa": "https://creativecommons.org/licenses/by-nc-sa/4.0/",
    "cc-40-zero": "https://creativecommons.org/publicdomain/zero/1.0/",
    "public-domain": "https://creativecommons.org/publicdomain/mark/1.0/",
}
IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/tiff": "tiff"}
IMAGE_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|gif|tiff)$")

# Medium's error codes. 6000, 6004, 6005 and 6021 are the ones Medium is known to send; the
# others are the emulator's own picks, kept distinct so a test can tell the refusals apart.
CODE_TOKEN_REQUIRED = 6000
CODE_TOKEN_EXPIRED = 6003
CODE_USER_NOT_FOUND = 6004
CODE_APPLICATION_NOT_FOUND = 6005
CODE_NOT_FOUND = 6008
CODE_BAD_GRANT_TYPE = 6021
CODE_BAD_CODE = 6023
CODE_BAD_REFRESH_TOKEN = 6024
CODE_REDIRECT_MISMATCH = 6025
CODE_INVALID_FIELD = 6026
CODE_MISSING_SCOPE = 6027
CODE_FORBIDDEN = 6028
CODE_RATE_LIMIT = 6029
CODE_BAD_IMAGE = 6030
CODE_BAD_REQUEST = 6031
CODE_BAD_FAULT = 6040

Clock = Callable[[], float]


class ApiError(Exception):
    """A refusal answered with Medium's error body ``{"errors": [{"message", "code"}]}``."""

    def __init__(
        self, status: int, message: str, code: int, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


class StateError(Exception):
    """The data folder holds state this emulator cannot read."""


@dataclass(frozen=True)
class SandboxUser:
    """A Medium account backed by an integration token; ``token`` stays out of ``repr``."""

    id: str
    username: str
    name: str
    token: str = field(repr=False)

    @classmethod
    def from_token(cls, token: str) -> SandboxUser:
        """The same token always makes the same user, so persisted posts keep their author."""
        digest = hashlib.sha256(b"syncd-sandbox-user\0" + token.encode("utf-8")).hexdigest()
        return cls(
            id=digest[:24],
            username=f"sandbox-{digest[:8]}",
            name=f"Sandbox User {digest[:8]}",
            token=token,
        )

    def profile(self) -> dict[str, str]:
        """The body of ``GET /v1/me``."""
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "url": f"https://medium.com/@{self.username}",
            "imageUrl": f"https://cdn-images-1.medium.com/fit/c/400/400/{self.id}.png",
        }


@dataclass(frozen=True)
class Grant:
    """What one bearer token lets its holder do."""

    user: SandboxUser
    scopes: tuple[str, ...]


@dataclass
class Publication:
    """A publication and its contributors (user id to ``editor`` or ``writer``)."""

    id: str
    name: str
    description: str
    contributors: dict[str, str]

    def summary(self) -> dict[str, str]:
        slug = _slug(self.name) or self.id
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "url": f"https://medium.com/{slug}",
            "imageUrl": f"https://cdn-images-1.medium.com/fit/c/400/400/{self.id}.png",
        }


@dataclass
class PostRecord:
    """One created post; ``created_at`` (epoch seconds) drives the daily limit."""

    created_at: float
    received_at: str
    path: str
    request: Any
    post: dict[str, Any]

    def inspection(self) -> dict[str, Any]:
        """The object ``GET /_sandbox/posts`` lists."""
        return copy.deepcopy(
            {
                "received_at": self.received_at,
                "path": self.path,
                "request": self.request,
                "post": self.post,
            }
        )


@dataclass
class AuthorizationCode:
    """An OAuth code waiting to be exchanged once."""

    client_id: str
    redirect_uri: str
    user_id: str
    scopes: list[str]
    expires_at: float


@dataclass
class AccessToken:
    """An OAuth-issued bearer token; ``expires_at`` in epoch seconds."""

    user_id: str
    scopes: list[str]
    expires_at: float


@dataclass
class RefreshToken:
    """An OAuth refresh token; it does not expire."""

    user_id: str
    scopes: list[str]
    client_id: str


FAULT_KINDS = ("status", "delay_s", "drop", "html_403", "trickle_ms")
STATUS_OPTIONS = ("body", "body_base64", "message", "code", "headers", "location", "after")
FAULT_KEYS = frozenset({"path", "method", "times", *STATUS_OPTIONS, *FAULT_KINDS})
MAX_TRICKLE_MS = 10_000


@dataclass
class Fault:
    """A queued misbehaviour for requests whose path matches the glob ``path``.

    Exactly one of ``status``, ``delay_s``, ``drop``, ``html_403`` or ``trickle_ms`` is set.
    With ``status`` go its options: ``after`` handles the request first, storing the post, and
    then answers the fault; ``body`` (JSON, or a string sent as text) or ``body_base64`` (any
    bytes) replaces Medium's error body; ``headers`` adds headers (a ``Content-Type`` among
    them replaces the body's); ``location`` (3xx only) is the redirect's ``Location``.
    ``trickle_ms`` handles the request normally (a post is stored) and sends the whole answer,
    status line first, one byte every that many milliseconds.
    """

    path: str
    times: int = 1
    method: str | None = None
    status: int | None = None
    body: Any = None
    body_base64: str | None = None
    message: str | None = None
    code: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    after: bool = False
    delay_s: float | None = None
    drop: str | None = None
    html_403: bool = False
    trickle_ms: float | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and fnmatch.fnmatchcase(
            path, self.path
        )

    def describe(self) -> dict[str, Any]:
        """The fault as JSON, without the fields it does not use."""
        return {
            key: value
            for key, value in asdict(self).items()
            if key in ("path", "times")
            or (value is not None and value is not False and value != {})
        }

    @classmethod
    def parse(cls, spec: Any) -> Fault:
        """Validate a ``POST /_sandbox/faults`` body; a typo is a 400, not a silent no-op."""
        if not isinstance(spec, dict):
            raise _bad_fault("The fault must be a JSON object.")
        unknown = sorted(set(spec) - FAULT_KEYS)
        if unknown:
            raise _bad_fault(f"Unknown fault field(s): {', '.join(unknown)}.")
        path = spec.get("path")
        if not isinstance(path, str) or not path.startswith(("/", "*")):
            raise _bad_fault('"path" is required: a glob such as "/v1/users/*/posts".')
        kinds = [kind for kind in FAULT_KINDS if spec.get(kind) not in (None, False)]
        if len(kinds) != 1:
            raise _bad_fault(f"Give exactly one of {', '.join(FAULT_KINDS)}.")
        times = spec.get("times", 1)
        if not _is_int(times) or times < 1:
            raise _bad_fault('"times" must be a positive integer.')
        method = spec.get("method")
        if method is not None and (not isinstance(method, str) or not method.isalpha()):
            raise _bad_fault('"method" must be an HTTP method such as "POST".')
        fault = cls(path=path, times=times, method=method.upper() if method else None)
        kind = kinds[0]
        if kind == "status":
            fault.status = spec["status"]
            if not _is_int(fault.status) or not 200 <= fault.status <= 599:
                raise _bad_fault('"status" must be an HTTP status between 200 and 599.')
            fault.body = spec.get("body")
            fault.body_base64 = spec.get("body_base64")
            if fault.body_base64 is not None:
                if fault.body is not None:
                    raise _bad_fault('Give "body" or "body_base64", not both.')
                try:
                    base64.b64decode(fault.body_base64, validate=True)
                except (TypeError, ValueError):
                    raise _bad_fault('"body_base64" must be base64 text.') from None
            location = spec.get("location")
            if location is not None and (
                not isinstance(location, str) or not 300 <= fault.status < 400
            ):
                raise _bad_fault('"location" is a string, and goes with a 3xx "status".')
            fault.message = spec.get("message")
            fault.code = spec.get("code")
            fault.after = spec.get("after", False)
            headers = spec.get("headers", {})
            if fault.message is not None and not isinstance(fault.message, str):
                raise _bad_fault('"message" must be a string.')
            if fault.code is not None and not _is_int(fault.code):
                raise _bad_fault('"code" must be an integer.')
            if not isinstance(fault.after, bool):
                raise _bad_fault('"after" must be true or false.')
            if not isinstance(headers, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
            ):
                raise _bad_fault('"headers" must map header names to strings.')
            fault.headers = dict(headers)
            if location is not None:
                fault.headers["Location"] = location
        elif any(key in spec for key in STATUS_OPTIONS):
            raise _bad_fault(f"{', '.join(STATUS_OPTIONS)} go with \"status\".")
        if kind == "delay_s":
            delay = spec["delay_s"]
            if isinstance(delay, bool) or not isinstance(delay, int | float) or delay <= 0:
                raise _bad_fault('"delay_s" must be a positive number of seconds.')
            fault.delay_s = float(delay)
        elif kind == "drop":
            if spec["drop"] not in ("before", "after"):
                raise _bad_fault('"drop" must be "before" or "after".')
            fault.drop = spec["drop"]
        elif kind == "html_403":
            if spec["html_403"] is not True:
                raise _bad_fault('"html_403" must be true.')
            fault.html_403 = True
        elif kind == "trickle_ms":
            pace = spec["trickle_ms"]
            if isinstance(pace, bool) or not isinstance(pace, int | float) \
                    or not 0 < pace <= MAX_TRICKLE_MS:
                raise _bad_fault(f'"trickle_ms" must be a number of milliseconds between 0 and '
                                 f'{MAX_TRICKLE_MS}.')
            fault.trickle_ms = float(pace)
        return fault


@dataclass(frozen=True)
class PostRequest:
    """A validated create-post body."""

    title: str
    content_format: str
    content: str
    tags: list[str]
    canonical_url: str | None
    publish_status: str
    license: str
    published_at_ms: int | None


class Store:
    """Users, posts, images, publications, OAuth and faults behind one lock."""

    def __init__(
        self,
        tokens: Iterable[str],
        *,
        daily_limit: int = 10,
        data_dir: str | os.PathLike[str] | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        clock: Clock,
    ) -> None:
        if daily_limit < 0:
            raise ValueError("daily_limit must be 0 (no limit) or more")
        self._lock = threading.RLock()
        self._clock = clock
        self.daily_limit = daily_limit
        self.users: list[SandboxUser] = []
        for token in tokens:
            if not token or any(ch.isspace() for ch in token):
                raise ValueError("a token must be a non-empty string without spaces")
            if token not in (user.token for user in self.users):
                self.users.append(SandboxUser.from_token(token))
        if not self.users:
            raise ValueError("the sandbox needs at least one token")
        self._by_token = {user.token: user for user in self.users}
        self._by_id = {user.id: user for user in self.users}
        self._posts: list[PostRecord] = []
        self._images: dict[str, bytes] = {}
        self._publications: dict[str, Publication] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._faults: list[Fault] = []
        self._data_dir = Path(data_dir) if data_dir is not None else None
        # The first run with a data folder records the OAuth client, so an application set up
        # against it keeps working after a restart; explicit values override it for a run.
        self._stored_client: dict[str, str] = {}
        if self._data_dir is not None:
            self._stored_client = self._load()
        self.client_id = client_id or self._stored_client.get("client_id") or secrets.token_hex(6)
        self.client_secret = (
            client_secret or self._stored_client.get("client_secret") or secrets.token_hex(20)
        )
        if self._data_dir is not None and not self._stored_client:
            self._stored_client = {"client_id": self.client_id, "client_secret": self.client_secret}
            self._save()

    # --- authentication -------------------------------------------------------------------

    def authenticate(self, authorization: str | None, scope: str) -> SandboxUser:
        """The user behind an ``Authorization: Bearer`` header, if it grants ``scope``."""
        grant = self._grant(authorization)
        if scope not in grant.scopes:
            raise ApiError(
                401, f"This access token was not granted the {scope} scope.", CODE_MISSING_SCOPE
            )
        return grant.user

    def _grant(self, authorization: str | None) -> Grant:
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _token_required()
        with self._lock:
            user = self._by_token.get(token)
            if user is not None:
                return Grant(user, SCOPES)
            issued = self._access.get(token)
            if issued is None:
                raise _token_required()
            if issued.expires_at <= self._clock():
                raise ApiError(401, "This access token has expired.", CODE_TOKEN_EXPIRED)
            owner = self._by_id.get(issued.user_id)
            if owner is None:
                raise ApiError(401, "User not found", CODE_USER_NOT_FOUND)
            return Grant(owner, tuple(issued.scopes))

    # --- OAuth ----------------------------------------------------------------------------

    def authorize(self, params: Mapping[str, str]) -> str:
        """Where ``/m/oauth/authorize`` sends the browser back to, with a code or an error.

        A bad ``client_id`` or ``redirect_uri`` cannot be redirected (the target is not
        trusted), so it raises; other problems go back to the client as OAuth errors.
        """
        if params.get("client_id") != self.client_id:
            raise ApiError(400, "Unknown client_id: no application has that id.", CODE_NOT_FOUND)
        redirect_uri = params.get("redirect_uri", "")
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ApiError(
                400, "redirect_uri must be an absolute http or https URL.", CODE_INVALID_FIELD
            )
        state = params.get("state")
        if params.get("response_type") != "code":
            return _with_query(redirect_uri, error="unsupported_response_type", state=state)
        scopes = [scope.strip() for scope in params.get("scope", "").split(",") if scope.strip()]
        if not scopes or any(scope not in SCOPES for scope in scopes):
            return _with_query(redirect_uri, error="invalid_scope", state=state)
        if params.get("sandbox_deny", "") not in ("", "0"):
            return _with_query(redirect_uri, error="access_denied", state=state)
        user = self._authorizing_user(params.get("sandbox_user"))
        code = secrets.token_hex(16)
        with self._lock:
            self._codes[code] = AuthorizationCode(
                client_id=self.client_id,
                redirect_uri=redirect_uri,
                user_id=user.id,
                scopes=list(dict.fromkeys(scopes)),
                expires_at=self._clock() + CODE_LIFETIME_S,
            )
            self._save()
        return _with_query(redirect_uri, code=code, state=state)

    def _authorizing_user(self, wanted: str | None) -> SandboxUser:
        if not wanted:
            return self.users[0]
        for user in self.users:
            if wanted in (user.id, user.username, f"@{user.username}"):
                return user
        raise ApiError(400, f"sandbox_user {wanted!r} is not a sandbox user.", CODE_NOT_FOUND)

    def exchange_token(self, form: Mapping[str, str]) -> dict[str, Any]:
        """The ``POST /v1/tokens`` answer: a new access token for a code or a refresh token."""
        grant_type = form.get("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise ApiError(
                400,
                'grant_type must be "authorization_code" or "refresh_token".',
                CODE_BAD_GRANT_TYPE,
            )
        if form.get("client_id") != self.client_id or not secrets.compare_digest(
            form.get("client_secret", "").encode(), self.client_secret.encode()
        ):
            raise ApiError(
                401,
                "Application not found: check client_id and client_secret.",
                CODE_APPLICATION_NOT_FOUND,
            )
        with self._lock:
            now = self._clock()
            if grant_type == "authorization_code":
                code = self._codes.pop(form.get("code", ""), None)
                if code is None or code.expires_at <= now or code.client_id != self.client_id:
                    self._save()
                    raise ApiError(
                        400,
                        "The authorization code is unknown, expired or already used.",
                        CODE_BAD_CODE,
                    )
                if form.get("redirect_uri") != code.redirect_uri:
                    self._save()
                    raise ApiError(
                        400,
                        "redirect_uri does not match the one given at authorization.",
                        CODE_REDIRECT_MISMATCH,
                    )
                refresh_token = secrets.token_hex(32)
                self._refresh[refresh_token] = RefreshToken(
                    user_id=code.user_id, scopes=code.scopes, client_id=code.client_id
                )
                user_id, scopes = code.user_id, code.scopes
            else:
                refresh_token = form.get("refresh_token", "")
                held = self._refresh.get(refresh_token)
                if held is None or held.client_id != self.client_id:
                    raise ApiError(400, "The refresh token is unknown.", CODE_BAD_REFRESH_TOKEN)
                user_id, scopes = held.user_id, held.scopes
            access_token = secrets.token_hex(32)
            expires_at = now + ACCESS_TOKEN_LIFETIME_S
            self._access[access_token] = AccessToken(
                user_id=user_id, scopes=list(scopes), expires_at=expires_at
            )
            self._save()
        return {
            "token_type": "Bearer",
            "access_token": access_token,
            "refresh_token": refresh_token,
            "scope": list(scopes),
            "expires_at": int(expires_at * 1000),
        }

    # --- publications ---------------------------------------------------------------------

    def add_publication(
        self, name: str, contributors: Mapping[str, str] | None = None, description: str = ""
    ) -> str:
        """Create or replace the publication called ``name``; its id depends on the name only,
        so a script that sets up the same publication on every start keeps one publication."""
        if not name.strip():
            raise ValueError("a publication needs a name")
        roles = dict(contributors or {})
        for user_id, role in roles.items():
            if role not in ROLES:
                raise ValueError(f"contributor {user_id}: role must be editor or writer")
        publication_id = hashlib.sha256(b"publication\0" + name.encode("utf-8")).hexdigest()[:12]
        with self._lock:
            self._publications[publication_id] = Publication(
                id=publication_id, name=name, description=description, contributors=roles
            )
            self._save()
        return publication_id

    def publications_of(self, user: SandboxUser, user_id: str) -> list[dict[str, str]]:
        if user_id != user.id:
            raise ApiError(403, "You can only list your own publications.", CODE_FORBIDDEN)
        with self._lock:
            return [p.summary() for p in self._publications.values() if user.id in p.contributors]

    def contributors(self, publication_id: str) -> list[dict[str, str]]:
        with self._lock:
            publication = self._publication(publication_id)
            return [
                {"publicationId": publication.id, "userId": user_id, "role": role}
                for user_id, role in publication.contributors.items()
            ]

    def _publication(self, publication_id: str) -> Publication:
        publication = self._publications.get(publication_id)
        if publication is None:
            raise ApiError(404, "Publication not found.", CODE_NOT_FOUND)
        return publication

    # --- posts ----------------------------------------------------------------------------

    def create_post(
        self,
        user: SandboxUser,
        path: str,
        body: Any,
        *,
        author_id: str | None = None,
        publication_id: str | None = None,
    ) -> dict[str, Any]:
        """Validate and store a post the way Medium would, and return the Post answered."""
        if author_id is not None and author_id != user.id:
            raise ApiError(403, "You cannot publish as another user.", CODE_FORBIDDEN)
        with self._lock:
            role = None
            if publication_id is not None:
                role = self._publication(publication_id).contributors.get(user.id)
                if role is None:
                    raise ApiError(
                        403, "You are not a contributor to this publication.", CODE_FORBIDDEN
                    )
            wanted = validate_post(body)
            if role == "writer" and wanted.publish_status != "draft":
                raise ApiError(
                    403,
                    "Writers can only create drafts in this publication; an editor publishes them.",
                    CODE_FORBIDDEN,
                )
            now = self._clock()
            self._check_daily_limit(user, now)
            post_id = secrets.token_hex(6)
            while any(record.post["id"] == post_id for record in self._posts):
                post_id = secrets.token_hex(6)
            post: dict[str, Any] = {
                "id": post_id,
                "title": wanted.title,
                "authorId": user.id,
                "tags": wanted.tags,
                "url": _post_url(user.username, wanted.title, post_id),
            }
            if wanted.canonical_url is not None:
                post["canonicalUrl"] = wanted.canonical_url
            post["publishStatus"] = wanted.publish_status
            if wanted.publish_status != "draft":
                post["publishedAt"] = (
                    wanted.published_at_ms
                    if wanted.published_at_ms is not None
                    else int(now * 1000)
                )
            post["license"] = wanted.license
            post["licenseUrl"] = LICENSE_URLS[wanted.license]
            if publication_id is not None:
                post["publicationId"] = publication_id
            received_at = dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="milliseconds")
            self._posts.append(
                PostRecord(
                    created_at=now,
                    received_at=received_at,
                    path=path,
                    request=copy.deepcopy(body),
                    post=post,
                )
            )
            self._save()
            return copy.deepcopy(post)

    def _check_daily_limit(self, user: SandboxUser, now: float) -> None:
        if not self.daily_limit:
            return
        window = [
            record.created_at
            for record in self._posts
            if record.post["authorId"] == user.id and record.created_at > now - DAY_S
        ]
        if len(window) < self.daily_limit:
            return
        oldest = sorted(window)[len(window) - self.daily_limit]
        retry_after = max(1, math.ceil(oldest + DAY_S - now))
        raise ApiError(
            429,
            f"{user.username} has reached the rate limit for publishing today.",
            CODE_RATE_LIMIT,
            headers={"Retry-After": str(retry_after)},
        )

    def records(self) -> list[dict[str, Any]]:
        """Every created post, oldest first, as ``GET /_sandbox/posts`` shows it."""
        with self._lock:
            return [record.inspection() for record in self._posts]

    # --- images ---------------------------------------------------------------------------

    def save_image(self, data: bytes, content_type: str) -> tuple[str, str]:
        """Keep an uploaded image; returns its file name and md5 (the same bytes, one name)."""
        md5 = hashlib.md5(data).hexdigest()
        name = f"{md5}.{IMAGE_TYPES[content_type]}"
        with self._lock:
            if self._data_dir is not None:
                target = self._data_dir / IMAGES_DIR / name
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    replace_file(target, data)
            else:
                self._images[name] = data
        return name, md5

    def image(self, name: str) -> tuple[bytes, str] | None:
        """An uploaded image's bytes and content type, or ``None``."""
        match = IMAGE_NAME.match(name)
        if match is None:
            return None
        content_type = next(ct for ct, ext in IMAGE_TYPES.items() if ext == match.group(1))
        with self._lock:
            if self._data_dir is None:
                data = self._images.get(name)
            else:
                try:
                    data = (self._data_dir / IMAGES_DIR / name).read_bytes()
                except FileNotFoundError:
                    data = None
        return None if data is None else (data, content_type)

    # --- faults ---------------------------------------------------------------------------

    def add_fault(self, spec: Any) -> dict[str, Any]:
        fault = Fault.parse(spec)
        with self._lock:
            self._faults.append(fault)
        return fault.describe()

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.describe() for fault in self._faults]

    def clear_faults(self) -> int:
        with self._lock:
            count = len(self._faults)
            self._faults.clear()
        return count

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The first pending fault for this request, used up by one."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        del self._faults[index]
                    return copy.deepcopy(fault)
        return None

    # --- persistence ----------------------------------------------------------------------

    def _load(self) -> dict[str, str]:
        assert self._data_dir is not None
        path = self._data_dir / STATE_FILE
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StateError(f"cannot read {path}: {exc.strerror}") from None
        try:
            state = json.loads(raw)
            if state.get("schema") != SCHEMA_VERSION:
                raise StateError(
                    f"{path} has schema {state.get('schema')!r}; this sandbox reads "
                    f"schema {SCHEMA_VERSION}"
                )
            self._posts = [PostRecord(**record) for record in state["posts"]]
            self._publications = {item["id"]: Publication(**item) for item in state["publications"]}
            self._codes = {k: AuthorizationCode(**v) for k, v in state["codes"].items()}
            self._access = {k: AccessToken(**v) for k, v in state["access_tokens"].items()}
            self._refresh = {k: RefreshToken(**v) for k, v in state["refresh_tokens"].items()}
            client = state.get("oauth_client")
            if not client:
                return {}
            return {"client_id": client["client_id"], "client_secret": client["client_secret"]}
        except StateError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateError(f"{path} is not sandbox state ({exc.__class__.__name__})") from None

    def _save(self) -> None:
        """Write the whole state atomically; called with the lock held after every change."""
        if self._data_dir is None:
            return
        now = self._clock()
        self._codes = {k: v for k, v in self._codes.items() if v.expires_at > now}
        state = {
            "schema": SCHEMA_VERSION,
            "oauth_client": self._stored_client or None,
            "posts": [asdict(record) for record in self._posts],
            "publications": [asdict(p) for p in self._publications.values()],
            "codes": {k: asdict(v) for k, v in self._codes.items()},
            "access_tokens": {k: asdict(v) for k, v in self._access.items()},
            "refresh_tokens": {k: asdict(v) for k, v in self._refresh.items()},
        }
        self._data_dir.mkdir(parents=True, exist_ok=True)
        replace_file(
            self._data_dir / STATE_FILE,
            json.dumps(state, indent=1, ensure_ascii=False).encode("utf-8"),
        )


def validate_post(body: Any) -> PostRequest:
    """Medium's rules for a create-post body: 400 for a missing or disallowed value, and
    tags and an over-long title trimmed silently as Medium does."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", CODE_BAD_REQUEST)
    title = _required_string(body, "title")
    content_format = _required_string(body, "contentFormat")
    if content_format not in CONTENT_FORMATS:
        raise _invalid('contentFormat must be "html" or "markdown".')
    content = _required_string(body, "content")
    if len(title) > MAX_TITLE_CHARS:
        title = derive_title(content, content_format)

    tags = body.get("tags")
    if tags is None:
        tags = []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise _invalid("tags must be a list of strings.")
    tags = [tag.strip() for tag in tags if tag.strip() and len(tag.strip()) <= MAX_TAG_CHARS]
    tags = tags[:MAX_TAGS]

    canonical_url = body.get("canonicalUrl")
    if canonical_url is not None:
        parts = urlsplit(canonical_url) if isinstance(canonical_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise _invalid("canonicalUrl must be an absolute http or https URL.")

    publish_status = body.get("publishStatus")
    if publish_status is None:
        publish_status = "public"
    if publish_status not in PUBLISH_STATUSES:
        raise _invalid('publishStatus must be "public", "draft" or "unlisted".')

    license_name = body.get("license")
    if license_name is None:
        license_name = "all-rights-reserved"
    if license_name not in LICENSE_URLS:
        raise _invalid(f"license must be one of {', '.join(LICENSE_URLS)}.")

    notify = body.get("notifyFollowers")
    if notify is not None and not isinstance(notify, bool):
        raise _invalid("notifyFollowers must be true or false.")

    published_at_ms = None
    published_at = body.get("publishedAt")
    if published_at is not None:
        published_at_ms = _iso_to_ms(published_at)

    return PostRequest(
        title=title,
        content_format=content_format,
        content=content,
        tags=tags,
        canonical_url=canonical_url,
        publish_status=publish_status,
        license=license_name,
        published_at_ms=published_at_ms,
    )


def _required_string(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _invalid(f"{key} is required.")
    if not isinstance(value, str):
        raise _invalid(f"{key} must be a string.")
    return value


def _iso_to_ms(value: Any) -> int:
    if not isinstance(value, str):
        raise _invalid("publishedAt must be an ISO-8601 date.")
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise _invalid("publishedAt must be an ISO-8601 date.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def _invalid(message: str) -> ApiError:
    return ApiError(400, message, CODE_INVALID_FIELD)


def _bad_fault(message: str) -> ApiError:
    return ApiError(400, message, CODE_BAD_FAULT)


def _token_required() -> ApiError:
    return ApiError(401, "An access token is required.", CODE_TOKEN_REQUIRED)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _slug(text: str) -> str:
    """Lower case ASCII words joined by ``-``: accents folded, everything else a separator."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def _post_url(username: str, title: str, post_id: str) -> str:
    slug = _slug(title)
    return f"https://medium.com/@{username}/{slug + '-' if slug else ''}{post_id}"


def _with_query(url: str, **params: str | None) -> str:
    """``url`` with ``params`` appended to its query (``None`` values left out)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend((key, value) for key, value in params.items() if value is not None)
    return urlunsplit(parts._replace(query=urlencode(query)))
