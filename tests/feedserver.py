"""A real HTTP/1.1 server on a loopback address for tests: feed routes with validators, and hostile peers.

    with FeedServer() as server:                       # 127.0.0.1, a free port, a daemon thread
        url = server.route("/feed.xml", body=b"<rss/>", etag='"v1"')   # answers 304 by itself
        server.route_handler("/slow", drip_body(interval=0.5))          # one byte every 0.5 s
        ...
        server.requests      # every request seen: RecordedRequest(method, path, headers)
        server.hits["/feed.xml"]

Static routes speak correct HTTP/1.1 with keep-alive. Custom handlers get an :class:`Exchange` with raw
control of the connection (the connection is closed after the handler returns). Every hostile handler is
bounded (``max_s``, 60 s by default), stops as soon as the client has gone, and stops when the server
closes, so no handler thread outlives its test by more than a moment.

``FeedServer(host="127.0.0.2")`` serves on another loopback address (Linux routes all of 127.0.0.0/8 to
``lo``); ``host="::1"`` serves IPv6; ``FeedServer(ssl_context=ctx)`` serves HTTPS (``url()`` says https).
"""

from __future__ import annotations

import contextlib
import functools
import gzip as gzip_module
import select
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any, NamedTuple, Self
from urllib.parse import urlsplit

__all__ = [
    "MAX_HOSTILE_S",
    "Exchange",
    "FeedServer",
    "Handler",
    "RecordedRequest",
    "cut_gzip",
    "drip_body",
    "drip_headers",
    "gzip_bomb",
    "redirect",
    "reset",
    "silent",
    "truncated",
]

MAX_HOSTILE_S = 60.0  # the longest any hostile handler keeps going, whatever the client does
IDLE_KEEPALIVE_S = 30  # a kept-alive connection with no new request is closed after this
JOIN_TIMEOUT_S = 5.0  # close() waits this long for handler threads, then leaves them (daemon threads)

HeaderItems = Mapping[str, str] | Iterable[tuple[str, str]]
Handler = Callable[["Exchange"], None]


class RecordedRequest(NamedTuple):
    method: str
    path: str  # as requested, with the query string
    headers: dict[str, str]  # lower-case names


def _header_pairs(headers: HeaderItems | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


class Exchange:
    """One request, as a custom handler sees it, with raw control over what goes back on the wire."""

    def __init__(self, handler: _RequestHandler, server: FeedServer, request: RecordedRequest) -> None:
        self._handler = handler
        self.server = server
        self.method = request.method
        self.path = request.path
        self.headers = request.headers
        self.keep_alive = False  # custom handlers close the connection unless they set this
        self.gone = False  # set once a write failed: the client has left

    @property
    def socket(self) -> socket.socket:
        return self._handler.connection

    def send(self, data: bytes) -> bool:
        """Writes raw bytes; False once the client has gone or the server is closing."""
        if self.gone or self.server.closing:
            return False
        try:
            self._handler.wfile.write(data)
        except OSError:
            self.gone = True
            return False
        return True

    def send_head(
        self, status: int = 200, headers: HeaderItems | None = None, *, reason: str | None = None
    ) -> bool:
        """Status line and headers exactly as given (no Content-Length or Date added)."""
        return self.send(_head(status, headers, reason))

    def send_response(self, status: int, body: bytes = b"", headers: HeaderItems | None = None) -> bool:
        """A complete, well-framed response (Content-Length added; no body for HEAD or 304)."""
        pairs = _header_pairs(headers)
        if not any(name.lower() == "content-length" for name, _ in pairs):
            pairs.append(("Content-Length", str(len(body))))
        if not self.keep_alive:
            pairs.append(("Connection", "close"))
        bodyless = self.method == "HEAD" or status == 304 or 100 <= status < 200 or status == 204
        return self.send(_head(status, pairs) + (b"" if bodyless else body))  # one write: no Nagle stall

    def pause(self, seconds: float) -> bool:
        """Sleeps; False (at once) if the server is closing."""
        return not self.server._closing.wait(seconds)

    def client_gone(self) -> bool:
        """True once the client has closed its end (checked without blocking)."""
        if self.gone:
            return True
        try:
            readable, _, _ = select.select([self.socket], [], [], 0)
            if readable and self.socket.recv(1, socket.MSG_PEEK) == b"":
                self.gone = True
        except OSError:
            self.gone = True
        return self.gone

    def drip(self, piece: bytes, interval: float, max_s: float = MAX_HOSTILE_S) -> None:
        """Sends ``piece`` every ``interval`` seconds until the client goes, the server closes, or max_s."""
        ends = time.monotonic() + max_s
        while time.monotonic() < ends and self.send(piece) and self.pause(interval):
            if self.client_gone():
                return

    def hold(self, max_s: float = MAX_HOSTILE_S) -> None:
        """Keeps the connection open, sending nothing, until the client goes, the server closes, or max_s."""
        ends = time.monotonic() + max_s
        while time.monotonic() < ends and not self.client_gone() and self.pause(0.05):
            pass

    def abort(self) -> None:
        """Ends the connection with a TCP reset instead of an orderly close."""
        with contextlib.suppress(OSError):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.socket.close()
        self.gone = True


def _head(status: int, headers: HeaderItems | None, reason: str | None = None) -> bytes:
    phrase = reason if reason is not None else _REASONS.get(status, "Status")
    lines = [f"HTTP/1.1 {status} {phrase}", *(f"{name}: {value}" for name, value in _header_pairs(headers))]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


_REASONS = {
    200: "OK",
    203: "Non-Authoritative Information",
    204: "No Content",
    206: "Partial Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


# --- static routes -----------------------------------------------------------------------------------


def _not_newer(last_modified: str, since: str) -> bool | None:
    """Whether last_modified is at or before since; None if either date is unreadable."""
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class _StaticRoute:
    body: bytes
    status: int
    headers: tuple[tuple[str, str], ...]
    etag: str | None
    last_modified: str | None
    gzip: bool
    content_type: str

    def not_modified(self, request_headers: Mapping[str, str]) -> bool:
        """RFC 9110 §13.2.2: If-None-Match decides when present; else If-Modified-Since."""
        if_none_match = request_headers.get("if-none-match")
        if if_none_match is not None:
            if self.etag is None:
                return False
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or self.etag.removeprefix("W/") in tags
        if_modified_since = request_headers.get("if-modified-since")
        if if_modified_since is None or self.last_modified is None:
            return False
        verdict = _not_newer(self.last_modified, if_modified_since)
        return verdict if verdict is not None else if_modified_since == self.last_modified

    def serve(self, exchange: Exchange) -> None:
        validators = [("ETag", self.etag)] if self.etag else []
        if self.last_modified:
            validators.append(("Last-Modified", self.last_modified))
        if 200 <= self.status < 300 and self.not_modified(exchange.headers):
            exchange.send_response(304, b"", [*validators, *self.headers])
            return
        body = gzip_module.compress(self.body, mtime=0) if self.gzip else self.body
        headers = [("Content-Type", self.content_type), *validators]
        if self.gzip:
            headers.append(("Content-Encoding", "gzip"))
        exchange.send_response(self.status, body, [*headers, *self.headers])


# --- hostile and special handlers ---------------------------------------------------------------------


def drip_body(
    *,
    interval: float = 0.5,
    piece: bytes = b"<",
    status: int = 200,
    content_length: int | None = None,
    max_s: float = MAX_HOSTILE_S,
) -> Handler:
    """Headers at once, then the body one ``piece`` per ``interval``, for ever (up to max_s)."""

    def handler(exchange: Exchange) -> None:
        headers = [("Content-Type", "application/rss+xml"), ("Connection", "close")]
        if content_length is not None:
            headers.append(("Content-Length", str(content_length)))
        if exchange.send_head(status, headers):
            exchange.drip(piece, interval, max_s)

    return handler


def drip_headers(*, interval: float = 0.5, max_s: float = MAX_HOSTILE_S) -> Handler:
    """The status line, then one byte of a header line per ``interval``: the headers never end."""

    def handler(exchange: Exchange) -> None:
        if exchange.send(b"HTTP/1.1 200 OK\r\nX-Never-Ends: "):
            exchange.drip(b"z", interval, max_s)

    return handler


def silent(*, max_s: float = MAX_HOSTILE_S) -> Handler:
    """Reads the request and then says nothing at all, keeping the connection open."""

    def handler(exchange: Exchange) -> None:
        exchange.hold(max_s)

    return handler


def truncated(
    *, declared: int = 1000, sent: int = 400, piece: bytes = b"x", headers: HeaderItems | None = None
) -> Handler:
    """Announces ``declared`` bytes, sends ``sent`` of them, and closes."""

    def handler(exchange: Exchange) -> None:
        head = [
            ("Content-Type", "application/rss+xml"),
            ("Content-Length", str(declared)),
            *_header_pairs(headers),
            ("Connection", "close"),
        ]
        if exchange.send_head(200, head):
            exchange.send((piece * sent)[:sent])

    return handler


def cut_gzip(body: bytes, *, keep: float = 0.5) -> Handler:
    """A gzip body cut off at ``keep`` of its length, close-delimited (no Content-Length): only the gzip
    stream itself can tell that it is incomplete."""
    compressed = gzip_module.compress(body, mtime=0)
    cut = compressed[: max(1, int(len(compressed) * keep))]

    def handler(exchange: Exchange) -> None:
        head = [
            ("Content-Type", "application/rss+xml"),
            ("Content-Encoding", "gzip"),
            ("Connection", "close"),
        ]
        if exchange.send_head(200, head):
            exchange.send(cut)

    return handler


def redirect(to: str, status: int = 302, *, headers: HeaderItems | None = None) -> Handler:
    """A redirect to ``to`` (absolute or relative, sent as given)."""

    def handler(exchange: Exchange) -> None:
        exchange.keep_alive = True
        exchange.send_response(status, b"", [("Location", to), *_header_pairs(headers)])

    return handler


def reset() -> Handler:
    """Reads the request, then resets the connection without answering."""

    def handler(exchange: Exchange) -> None:
        exchange.abort()

    return handler


_BOMB_BLOCK = 1024 * 1024


@functools.cache
def _bomb_pieces() -> tuple[bytes, bytes]:
    """gzip of 1 MiB of zeros as (first block with the gzip header, every later block).

    After a full flush the compressor starts afresh, so every later block compresses to the same bytes:
    a bomb of any size is the first block and N-1 copies of the repeat, never built in memory at once.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(_BOMB_BLOCK)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH) == repeat
    return first, repeat


def gzip_bomb_size(expanded: int = 1024**3) -> int:
    """Bytes on the wire of ``gzip_bomb(expanded)``."""
    first, repeat = _bomb_pieces()
    return len(first) + (expanded // _BOMB_BLOCK - 1) * len(repeat)


def gzip_bomb(expanded: int = 1024**3, *, max_s: float = MAX_HOSTILE_S) -> Handler:
    """About 1 MB of gzip (with Content-Length) that would expand to ``expanded`` bytes of zeros.

    The stream has no gzip trailer: a client that inflates it all is already broken.
    """
    blocks = expanded // _BOMB_BLOCK

    def handler(exchange: Exchange) -> None:
        first, repeat = _bomb_pieces()
        head = [
            ("Content-Type", "application/rss+xml"),
            ("Content-Encoding", "gzip"),
            ("Content-Length", str(gzip_bomb_size(expanded))),
            ("Connection", "close"),
        ]
        if not (exchange.send_head(200, head) and exchange.send(first)):
            return
        ends = time.monotonic() + max_s
        batch = repeat * 64
        left = blocks - 1
        while left > 0 and time.monotonic() < ends:
            count = min(64, left)
            if not exchange.send(batch if count == 64 else repeat * count):
                return
            left -= count

    return handler


# --- the server --------------------------------------------------------------------------------------


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_KEEPALIVE_S
    server: _TCPServer

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection)
        # Drips must leave at once, not wait for an ACK (Nagle) that the client delays.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()  # here, not in the accept loop: a slow client blocks only itself

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read server.requests; access logs on stderr are noise

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # a request body is not used, but must not desync keep-alive
        self.server.owner._dispatch(self)

    do_GET = do_HEAD = do_POST = _dispatch


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False  # FeedServer.close joins the handler threads itself, with a time limit

    def __init__(self, owner: FeedServer, address: tuple[str, int], family: socket.AddressFamily) -> None:
        self.owner = owner
        self.address_family = family
        super().__init__(address, _RequestHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        if self.owner.ssl_context is not None:
            connection = self.owner.ssl_context.wrap_socket(
                connection, server_side=True, do_handshake_on_connect=False
            )
        return connection, address

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="feedserver-handler",
            daemon=True,
        )
        self.owner._add_thread(thread)
        thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):  # the client went away mid-answer: routine for hostile tests
            return
        if error is not None:
            self.owner.errors.append(error)
        super().handle_error(request, client_address)


class FeedServer:
    """A threading HTTP/1.1 test server; see the module docstring."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.ssl_context = ssl_context
        self.errors: list[BaseException] = []  # unexpected exceptions raised by handlers
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._routes: dict[str, _StaticRoute | Handler] = {}
        self._requests: list[RecordedRequest] = []
        self._hits: Counter[str] = Counter()
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self.connections_accepted = 0
        self._server = _TCPServer(self, (host, port), family)
        self.port: int = self._server.server_address[1]
        self._serve_thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"feedserver-{self.port}",
            daemon=True,
        )
        self._serve_thread.start()

    # -- addresses --

    @property
    def base_url(self) -> str:
        return self.url("")[:-1]

    def url(self, path: str = "/", *, host: str | None = None) -> str:
        """The URL of ``path`` here; ``host`` replaces the address in it (e.g. "localhost" for TLS)."""
        name = host or self.host
        name = f"[{name}]" if ":" in name else name
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{name}:{self.port}" + (path if path.startswith("/") else "/" + path)

    # -- routes --

    def route(
        self,
        path: str,
        body: bytes = b"",
        *,
        status: int = 200,
        headers: HeaderItems | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        gzip: bool = False,
        content_type: str = "application/rss+xml; charset=utf-8",
    ) -> str:
        """Serves ``body`` at ``path`` (replacing any earlier route there); returns its URL.

        With ``etag``/``last_modified`` the route sends them and answers a matching conditional GET with
        304 by itself. ``gzip=True`` sends the body gzip-encoded (Content-Encoding: gzip).
        """
        route = _StaticRoute(
            body, status, tuple(_header_pairs(headers)), etag, last_modified, gzip, content_type
        )
        with self._lock:
            self._routes[path] = route
        return self.url(path)

    def route_handler(self, path: str, handler: Handler) -> str:
        """Serves ``path`` with ``handler(exchange)``: raw control, connection closed afterwards."""
        with self._lock:
            self._routes[path] = handler
        return self.url(path)

    # -- what happened --

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if urlsplit(request.path).path == path]

    @property
    def hits(self) -> Counter[str]:
        """Requests per path (without the query string), including paths with no route (404)."""
        with self._lock:
            return Counter(self._hits)

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    # -- life cycle --

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stops accepting, ends every live connection and waits (bounded) for the handler threads."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._server.shutdown()
        self._serve_thread.join()
        with self._lock:
            live = list(self._connections)
            threads = list(self._threads)
        for connection in live:  # wakes handlers blocked reading an idle keep-alive connection
            with contextlib.suppress(OSError):
                # socket.socket's own shutdown: SSLSocket's would also drop its TLS state under the reader
                socket.socket.shutdown(connection, socket.SHUT_RDWR)
        ends = time.monotonic() + JOIN_TIMEOUT_S
        for thread in threads:
            thread.join(max(0.0, ends - time.monotonic()))
        self._server.server_close()

    # -- internals used by the handler classes --

    def _add_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            self.connections_accepted += 1

    def _track(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _dispatch(self, handler: _RequestHandler) -> None:
        path = urlsplit(handler.path).path
        request = RecordedRequest(
            handler.command, handler.path, {name.lower(): value for name, value in handler.headers.items()}
        )
        with self._lock:
            self._requests.append(request)
            self._hits[path] += 1
            route = self._routes.get(path)
        exchange = Exchange(handler, self, request)
        exchange.keep_alive = isinstance(route, _StaticRoute) or route is None
        if route is None:
            exchange.send_response(404, b"no such route\n", [("Content-Type", "text/plain")])
        elif isinstance(route, _StaticRoute):
            route.serve(exchange)
        else:
            route(exchange)
        if not exchange.keep_alive or exchange.gone:
            handler.close_connection = True
