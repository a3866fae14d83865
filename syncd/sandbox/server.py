"""The emulator on a real socket: the HTTP handler, the :class:`Sandbox` object, ``run_sandbox``.

A :class:`Sandbox` serves :mod:`syncd.sandbox.api` from a ``ThreadingHTTPServer`` in a daemon
thread (tests start one per test on port 0); :func:`run_sandbox` is ``syncd sandbox``: it
prints the startup lines, serves until SIGTERM or SIGINT and stops cleanly.

Faults are applied here because they are about the connection, not about Medium: a queued
fault is taken by the first request whose path matches (requests to ``/_sandbox/`` are never
faulted, so a test can always clear them) and then

- ``status``: answered with that status instead of being handled (with ``"after": true``,
  handled first, so a post is stored, and then answered with the error); ``body`` or
  ``body_base64`` make the answer any body at all, ``headers`` add headers (a
  ``Content-Type`` among them is the answer's), and ``location`` with a 3xx status makes it a
  redirect, e.g. ``{"status": 303, "location": "/v1/me", "after": true}``;
- ``delay_s``: handled normally after sleeping that long;
- ``drop``: the connection is closed without a single response byte, ``before`` handling
  (nothing stored) or ``after`` it (the post is stored, the client never hears);
- ``html_403``: answered with a CDN's HTML "you have been blocked" page;
- ``trickle_ms``: handled normally (a post is stored), then the whole answer, status line
  first, is sent one byte every ``trickle_ms`` milliseconds, as a server that never times a
  read out but never finishes either.

The per-request log is one line to the ``log`` stream (none by default) with the method,
the path without its query, the status and the time taken: never a header, so never a token.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import selectors
import signal
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, TextIO
from urllib.parse import parse_qsl

from syncd.sandbox.api import (
    Api,
    Request,
    Response,
    cdn_block_page,
    error_response,
    fault_response,
)
from syncd.sandbox.store import (
    CODE_BAD_REQUEST,
    ApiError,
    Fault,
    SandboxUser,
    StateError,
    Store,
)

MAX_BODY_BYTES = 32 * 1024 * 1024
IDLE_TIMEOUT_S = 30.0
INSPECTION_PREFIX = "/_sandbox/"
_HOST_HEADER = re.compile(r"^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$")


class _HTTPServer(ThreadingHTTPServer):
    """A threading server that stops at once, and ends idle keep-alive connections then."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # socketserver's 5 resets clients that connect all at once

    def __init__(
        self, address: tuple[str, int], api: Api, log: TextIO | None, family: socket.AddressFamily
    ) -> None:
        self.address_family = family
        self.api = api
        self.log = log
        self.log_lock = threading.Lock()
        self.base_url = ""
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._stopping = threading.Event()
        self._handling = 0  # requests being answered now
        self._idle = threading.Condition()
        self._wake_reader, self._wake_writer = socket.socketpair()
        try:
            super().__init__(address, _Handler)
        except BaseException:
            self._wake_reader.close()
            self._wake_writer.close()
            raise

    def serve(self) -> None:
        """Accept connections until :meth:`stop_serving`; unlike ``serve_forever`` it never
        polls, so an idle sandbox costs nothing and stops at once rather than on a tick."""
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self and not self._stopping.is_set():
                        self._handle_request_noblock()

    @contextlib.contextmanager
    def handling(self) -> Iterator[None]:
        """Counts a request as being answered, for :meth:`wait_idle`."""
        with self._idle:
            self._handling += 1
        try:
            yield
        finally:
            with self._idle:
                self._handling -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """Whether every request that arrived was answered (or dropped) within ``timeout_s``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._handling == 0, timeout_s)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop_serving(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup that can stall start.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away mid-request is normal here (faults, timeouts); stay quiet.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, applies any fault, lets :class:`Api` answer, writes the answer."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes on a kept-alive connection; with Nagle on, the
    # second waits for a delayed ACK and every answer took about 40 ms more.
    disable_nagle_algorithm = True
    server_version = "syncd-sandbox"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the default line echoes the request line, query string and all."""

    def _serve(self) -> None:
        with self.server.handling():
            self._answer()

    def _answer(self) -> None:
        started = time.monotonic()
        # Not urlsplit: it would read a path such as "//v1/me" as a host name.
        path, _, query = self.path.partition("?")
        path = path.split("#", 1)[0] or "/"
        try:
            body = self._read_body()
        except ApiError as error:
            self.close_connection = True
            self._finish(error_response(error), path, started)
            return
        store = self.server.api.store
        fault = None if path.startswith(INSPECTION_PREFIX) else store.take_fault(self.command, path)
        if fault is not None and fault.drop == "before":
            self._drop(path, started)
            return
        if fault is not None and fault.delay_s:
            time.sleep(fault.delay_s)
        if fault is not None and fault.html_403:
            self._finish(cdn_block_page(secrets.token_hex(8)), path, started)
            return
        if fault is not None and fault.status is not None and not fault.after:
            self._finish(_faulted(fault), path, started)
            return
        request = Request(
            method=self.command,
            path=path,
            query=dict(parse_qsl(query, keep_blank_values=True)),
            headers=self.headers,
            body=body,
            base_url=self._base_url(),
        )
        response = self.server.api.handle(request)
        if fault is not None and fault.drop == "after":
            self._drop(path, started)
            return
        if fault is not None and fault.status is not None:
            response = _faulted(fault)
        if fault is not None and fault.trickle_ms is not None:
            self._trickle(response, fault.trickle_ms / 1000, path, started)
            return
        self._finish(response, path, started)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise ApiError(
                411, "Send a Content-Length; chunked bodies are not read.", CODE_BAD_REQUEST
            )
        declared = self.headers.get("Content-Length")
        if declared is None:
            return b""
        try:
            length = int(declared)
        except ValueError:
            length = -1
        if length < 0:
            raise ApiError(400, "The Content-Length header is not a number.", CODE_BAD_REQUEST)
        if length > MAX_BODY_BYTES:
            raise ApiError(413, "The request body is too large.", CODE_BAD_REQUEST)
        body = self.rfile.read(length)
        if len(body) < length:
            raise ConnectionError("the client closed the connection mid-body")
        return body

    def _base_url(self) -> str:
        """The URL the client used to reach us, for the image URLs it is given back."""
        host = self.headers.get("Host", "")
        if _HOST_HEADER.match(host):
            return f"http://{host}"
        return self.server.base_url

    def _finish(self, response: Response, path: str, started: float) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        self._log(path, str(response.status), started)

    def _trickle(self, response: Response, pace_s: float, path: str, started: float) -> None:
        """Send the whole answer a byte at a time, then close; stops when the client leaves."""
        self.close_connection = True
        head = [f"HTTP/1.1 {response.status} {_phrase(response.status)}",
                f"Content-Type: {response.content_type}",
                f"Content-Length: {len(response.body)}", "Connection: close"]
        head += [f"{name}: {value}" for name, value in response.headers.items()]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body
        outcome = str(response.status)
        for index in range(len(raw)):
            if self.server.stopping:
                outcome = "trickle stopped"
                break
            try:
                self.wfile.write(raw[index:index + 1])
                self.wfile.flush()
            except OSError:
                outcome = "trickle cut by the client"
                break
            time.sleep(pace_s)
        self._log(path, outcome, started)

    def _drop(self, path: str, started: float) -> None:
        """Close the connection without answering: the client sees the server vanish."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self._log(path, "dropped", started)

    def _log(self, path: str, outcome: str, started: float) -> None:
        log = self.server.log
        if log is None:
            return
        elapsed_ms = (time.monotonic() - started) * 1000
        line = f"sandbox: {self.command} {path} {outcome} {elapsed_ms:.0f}ms\n"
        with self.server.log_lock, contextlib.suppress(OSError, ValueError):
            log.write(line)
            log.flush()


def _faulted(fault: Fault) -> Response:
    """The answer a ``status`` fault puts in place of the real one."""
    assert fault.status is not None
    if fault.body_base64 is not None:
        response = Response(fault.status, base64.b64decode(fault.body_base64),
                            "application/octet-stream")
    else:
        response = fault_response(fault.status, fault.body, fault.message, fault.code)
    for name, value in fault.headers.items():
        if name.lower() == "content-type":
            response.content_type = value
        else:
            response.headers[name] = value
    return response


def _phrase(status: int) -> str:
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Status"


class Sandbox:
    """A Medium emulator on a real socket, served from a background daemon thread.

    ``tokens`` are integration tokens, one user each (one is generated when none is given).
    ``clock`` (epoch seconds) lets tests move time for the daily limit and token expiry.
    ``log`` receives one line per request; ``None`` keeps the sandbox silent.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Iterable[str] = (),
        data_dir: str | os.PathLike[str] | None = None,
        daily_limit: int = 10,
        client_id: str | None = None,
        client_secret: str | None = None,
        clock: Callable[[], float] = time.time,
        log: TextIO | None = None,
    ) -> None:
        self.host = host or "0.0.0.0"
        self.port = port
        self.store = Store(
            list(tokens) or [secrets.token_hex(32)],
            daily_limit=daily_limit,
            data_dir=data_dir,
            client_id=client_id,
            client_secret=client_secret,
            clock=clock,
        )
        self._api = Api(self.store)
        self._log = log
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None
        self._stopped = False
        self._lifecycle = threading.Lock()

    @property
    def users(self) -> list[SandboxUser]:
        return list(self.store.users)

    @property
    def client_id(self) -> str:
        return self.store.client_id

    @property
    def client_secret(self) -> str:
        return self.store.client_secret

    @property
    def url(self) -> str:
        """The root URL, e.g. ``http://127.0.0.1:8787`` (what ``medium.BASE_PATH`` wants)."""
        if self._url is None:
            raise RuntimeError("the sandbox has not been started")
        return self._url

    @property
    def api_url(self) -> str:
        """The API base, ``<url>/v1`` (what syncd's ``api_url`` wants)."""
        return f"{self.url}/v1"

    def start(self) -> None:
        """Bind and listen, then serve in a daemon thread; returns once requests are accepted."""
        with self._lifecycle:
            if self._server is not None or self._stopped:
                raise RuntimeError("a Sandbox can be started once")
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            server = _HTTPServer((self.host, self.port), self._api, self._log, family)
            port = server.server_address[1]
            shown_host = f"[{self.host}]" if ":" in self.host else self.host
            self._url = server.base_url = f"http://{shown_host}:{port}"
            self._thread = threading.Thread(
                target=server.serve, name=f"sandbox-{port}", daemon=True
            )
            self._server = server
            self._thread.start()

    def stop(self) -> None:
        """Stop serving, close the listening socket and open connections, join the thread."""
        with self._lifecycle:
            if self._stopped:
                return
            self._stopped = True
            server, thread = self._server, self._thread
            if server is None or thread is None:
                return
            server.stop_serving()
            thread.join()
            server.server_close()
            server.close_connections()

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Return once no request is being answered: a delayed create has stored its post
        (or its fault dropped it), so :meth:`posts` is final for what was sent so far."""
        if self._server is None:
            raise RuntimeError("the sandbox has not been started")
        if not self._server.wait_idle(timeout_s):
            raise TimeoutError(f"the sandbox was still answering after {timeout_s:g} s")

    def posts(self) -> list[dict[str, Any]]:
        """The created posts, oldest first, as ``GET /_sandbox/posts`` lists them."""
        return self.store.records()

    def add_publication(
        self, name: str, contributors: Mapping[str, str] | None = None, description: str = ""
    ) -> str:
        """Create (or replace) a publication; ``contributors`` maps user id to its role."""
        return self.store.add_publication(name, contributors, description)

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        """Queue a fault, as ``POST /_sandbox/faults`` does with ``spec`` as its body."""
        return self.store.add_fault(spec)

    def faults(self) -> list[dict[str, Any]]:
        return self.store.faults()

    def clear_faults(self) -> int:
        return self.store.clear_faults()

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_sandbox(
    host: str = "127.0.0.1",
    port: int = 8787,
    data_dir: str | os.PathLike[str] | None = None,
    tokens: Iterable[str] = (),
    daily_limit: int = 10,
    client_id: str | None = None,
    client_secret: str | None = None,
    out: TextIO | None = None,
    log_requests: bool = True,
) -> int:
    """``syncd sandbox``: serve until SIGTERM or SIGINT, then stop cleanly and return 0.

    The startup lines go to ``out`` (standard output by default), flushed, one per line, so a
    script can read the port and the credentials. A failure to start (port taken, unreadable
    data folder) is one line on stderr and status 2.
    """
    out = sys.stdout if out is None else out
    given = list(tokens)
    signals = _StopSignals()
    signals.install()
    try:
        try:
            sandbox = Sandbox(
                host=host,
                port=port,
                tokens=given,
                data_dir=data_dir,
                daily_limit=daily_limit,
                client_id=client_id,
                client_secret=client_secret,
                log=sys.stderr if log_requests else None,
            )
        except (StateError, ValueError, OSError) as exc:
            _say(sys.stderr, f"sandbox: cannot start: {exc}")
            return 2
        try:
            sandbox.start()
        except OSError as exc:
            _say(sys.stderr, f"sandbox: cannot listen on {host}:{port}: {exc.strerror or exc}")
            return 2
        try:
            _say(out, f"sandbox: listening on {sandbox.url}")
            if not given:
                _say(out, f"sandbox: token {sandbox.users[0].token}")
            for user in sandbox.users:
                _say(out, f"sandbox: user {user.id} @{user.username}")
            _say(out, f"sandbox: oauth client_id {sandbox.client_id}")
            _say(out, f"sandbox: oauth client_secret {sandbox.client_secret}")
            signals.wait()
        finally:
            sandbox.stop()
        if log_requests:
            _say(sys.stderr, "sandbox: stopped")
        return 0
    finally:
        signals.restore()


class _StopSignals:
    """SIGTERM and SIGINT set a flag the main thread polls.

    The handler only sets a flag: taking a lock (``Event.set``) inside a signal handler can
    deadlock with the very code it interrupted, and raising would tear through ``stop``.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum

    def wait(self) -> None:
        while self.received is None:
            time.sleep(0.1)

    def restore(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()


def _say(stream: TextIO, line: str) -> None:
    """Print and flush one line; a closed pipe must not stop the sandbox."""
    with contextlib.suppress(OSError, ValueError):
        print(line, file=stream, flush=True)
