"""A small, fast HTTP/1.1 server for documents held in memory.

The offline demo and the benchmark poll it instead of the internet. It behaves like a well-configured feed
host: keep-alive, strong validators (ETag and Last-Modified) with 304 answers, gzip for clients that accept
it, Content-Length on every answer with content, and 404 for unknown paths. Nothing is logged per request.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import Message
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from types import TracebackType
from typing import Any

__all__ = ["Document", "StaticFeedServer", "load_demo_documents"]

GZIP_LEVEL = 6  # zlib's sweet spot: most of level 9's ratio at a fraction of its cost
POLL_INTERVAL_S = 0.05  # how quickly close() stops the accept loop
IDLE_TIMEOUT_S = 60.0  # an idle keep-alive connection is dropped after this
CLOSE_TIMEOUT_S = 5.0  # close() waits this long at most for handlers still writing
NOT_FOUND_BODY = b"not found\n"

# Content types by file suffix, for the demo feeds. XML types carry no charset on purpose: the XML
# declaration names the encoding (one demo feed is windows-1251), and a charset here would override it.
_CONTENT_TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".xml": "application/xml",
    ".json": "application/feed+json; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Document:
    """One thing the server can answer with: the bytes and their media type."""

    body: bytes
    content_type: str


class _Prepared:
    """A document plus everything its responses need, computed once when it is put.

    The gzip body is made here rather than on first request, so that a benchmark's first poll measures
    the client, not this server compressing (about 1 s of CPU per 70 MB at level 6).
    """

    __slots__ = ("body", "content_type", "etag", "gzip_body", "gzip_etag", "last_modified", "last_modified_s")

    def __init__(self, document: Document) -> None:
        digest = hashlib.sha256(document.body).hexdigest()
        self.body = document.body
        self.content_type = document.content_type
        # mtime=0 keeps the compressed bytes (and so their length) the same on every run.
        self.gzip_body = gzip.compress(document.body, compresslevel=GZIP_LEVEL, mtime=0)
        # Each content coding is its own representation, so a strong validator must differ between them.
        self.etag = f'"{digest}"'
        self.gzip_etag = f'"{digest}-gzip"'
        self.last_modified_s = 0
        self.last_modified = ""

    def stamp(self, last_modified_s: int) -> None:
        self.last_modified_s = last_modified_s
        self.last_modified = formatdate(last_modified_s, usegmt=True)

    def matches_any(self, if_none_match: str) -> bool:
        """Weak comparison (RFC 9110 13.1.2) against either coding's tag: the content is the same."""
        if if_none_match.strip() == "*":
            return True
        for candidate in if_none_match.split(","):
            tag = candidate.strip().removeprefix("W/")
            if tag in (self.etag, self.gzip_etag):
                return True
        return False


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header allows gzip; an explicit ``gzip;q=0`` beats a ``*``."""
    if not accept_encoding:
        return False
    explicit: float | None = None
    wildcard: float | None = None
    for part in accept_encoding.split(","):
        name, _, params = part.partition(";")
        coding = name.strip().lower()
        if coding in ("gzip", "x-gzip"):
            explicit = max(explicit or 0.0, _quality(params))
        elif coding == "*":
            wildcard = _quality(params)
    if explicit is not None:
        return explicit > 0
    return wildcard is not None and wildcard > 0


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def _not_modified(prepared: _Prepared, headers: Message) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present; If-Modified-Since only without it."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        return prepared.matches_any(if_none_match)
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as the RFC asks
    if since.tzinfo is None:
        return False
    return prepared.last_modified_s <= since.timestamp()


class _Counters:
    """Request statistics, shared by every handler thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.not_modified = 0
        self.bytes = 0
        self.connections = 0

    def count_request(self, *, status: int, body_bytes: int) -> None:
        with self._lock:
            self.requests += 1
            self.bytes += body_bytes
            if status == 304:
                self.not_modified += 1

    def count_connection(self) -> None:
        with self._lock:
            self.connections += 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive by default; needs Content-Length on every answer
    server_version = "aggregator-demo"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out as separate writes: don't let them wait
    timeout = IDLE_TIMEOUT_S
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the demo's output and the benchmark's timings must not drown in access logs."""

    def _answer(self, *, send_body: bool) -> None:
        owner = self.server.owner
        prepared = owner._lookup(self.path)
        if prepared is None:
            self._send_content(404, NOT_FOUND_BODY, "text/plain; charset=utf-8", (), send_body=send_body)
            return
        use_gzip = accepts_gzip(self.headers.get("Accept-Encoding"))
        validators = (
            ("ETag", prepared.gzip_etag if use_gzip else prepared.etag),
            ("Last-Modified", prepared.last_modified),
            ("Vary", "Accept-Encoding"),
        )
        if _not_modified(prepared, self.headers):
            # No Content-Length: a 304 has no content, and a stated length would have to be the 200's.
            # Counted before answering, so a client that has its answer also sees it counted.
            owner._counters.count_request(status=304, body_bytes=0)
            self.send_response(304)
            for name, value in validators:
                self.send_header(name, value)
            self._say_if_closing()
            self.end_headers()
            return
        if use_gzip:
            body = prepared.gzip_body
            extra = (*validators, ("Content-Encoding", "gzip"))
        else:
            body = prepared.body
            extra = validators
        self._send_content(200, body, prepared.content_type, extra, send_body=send_body)

    def _send_content(
        self,
        status: int,
        body: bytes,
        content_type: str,
        extra: Iterable[tuple[str, str]],
        *,
        send_body: bool,
    ) -> None:
        self.server.owner._counters.count_request(status=status, body_bytes=len(body) if send_body else 0)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self._say_if_closing()
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _say_if_closing(self) -> None:
        # The client asked to close ("Connection: close") or spoke HTTP/1.0: say so in the answer. Without the
        # header a client takes the connection for reusable and may send its next request down it just as it
        # closes ("Remote end closed connection without response").
        if self.close_connection:
            self.send_header("Connection", "close")


class _HTTPServer(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops SYNs when a pool of clients connects at once

    def __init__(self, owner: StaticFeedServer, host: str, port: int) -> None:
        self.owner = owner
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._open: dict[socket.socket, threading.Thread] = {}
        self._open_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall on a machine without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def track(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open[connection] = threading.current_thread()
        self.owner._counters.count_connection()

    def untrack(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.pop(connection, None)

    def drop_open_connections(self, timeout_s: float) -> None:
        """End every open connection and wait for its handler thread.

        Handler threads are daemons, which server_close() does not join; one waiting on an idle keep-alive
        connection would otherwise live on (and keep answering) until the client hangs up.
        """
        with self._open_lock:
            open_now = list(self._open.items())
        for connection, _ in open_now:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout_s
        for _, thread in open_now:
            thread.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is normal traffic, not a fault worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class StaticFeedServer:
    """Serves in-memory documents over real HTTP on 127.0.0.1 (port 0 = any free port) in a daemon thread.

    Documents are keyed by path ("/wire.rss"); a query string is ignored when the exact path with it is
    not known. ``put`` adds or replaces a document while the server runs.
    """

    def __init__(
        self, documents: Mapping[str, Document] | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._host = host
        self._requested_port = port
        self._lock = threading.Lock()
        self._documents: dict[str, _Prepared] = {}
        self._counters = _Counters()
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        initial = dict(documents or {})
        # zlib and hashlib release the GIL, so a large set (the benchmark's farm) is prepared in parallel.
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for path, prepared in zip(initial, pool.map(_Prepared, initial.values()), strict=True):
                self._install(path, prepared)

    # --- life cycle ------------------------------------------------------------------------------------

    def start(self) -> StaticFeedServer:
        """Bind and start serving in a daemon thread; returns self so it chains."""
        if self._server is not None:
            raise RuntimeError("the server is already started")
        server = _HTTPServer(self, self._host, self._requested_port)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL_S},
            name=f"feed-server-{server.server_address[1]}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def close(self) -> None:
        """Stop serving, drop open connections and wait for their threads. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._server = self._thread = None
        server.shutdown()  # no new connections from here on
        server.drop_open_connections(CLOSE_TIMEOUT_S)
        server.server_close()
        thread.join()

    def __enter__(self) -> StaticFeedServer:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- addresses -------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._running().server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` with no trailing slash."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # --- content ---------------------------------------------------------------------------------------

    def put(self, path: str, document: Document) -> None:
        """Add or replace the document at ``path`` (thread-safe; takes effect for the next request)."""
        self._install(path, _Prepared(document))  # compressed outside the lock: requests keep flowing

    def _install(self, path: str, prepared: _Prepared) -> None:
        if not path.startswith("/"):
            raise ValueError(f"a path must start with '/': {path!r}")
        with self._lock:
            previous = self._documents.get(path)
            # Last-Modified has one-second resolution: a replacement must be visibly newer than what it
            # replaces, or a client asking If-Modified-Since would be told nothing changed.
            last_modified_s = int(time.time())
            if previous is not None:
                last_modified_s = max(last_modified_s, previous.last_modified_s + 1)
            prepared.stamp(last_modified_s)
            self._documents[path] = prepared

    @property
    def paths(self) -> list[str]:
        with self._lock:
            return sorted(self._documents)

    def _lookup(self, request_target: str) -> _Prepared | None:
        with self._lock:
            found = self._documents.get(request_target)
            if found is None and "?" in request_target:
                found = self._documents.get(request_target.partition("?")[0])
            return found

    # --- statistics ------------------------------------------------------------------------------------

    @property
    def requests_served(self) -> int:
        """Every answered request: 200, 304, 404 alike."""
        return self._counters.requests

    @property
    def not_modified_served(self) -> int:
        return self._counters.not_modified

    @property
    def bytes_served(self) -> int:
        """Content bytes written (compressed size where gzip was used); headers not included."""
        return self._counters.bytes

    @property
    def connections_accepted(self) -> int:
        return self._counters.connections

    def _running(self) -> _HTTPServer:
        if self._server is None:
            raise RuntimeError("the server is not started: call start() or use it as a context manager")
        return self._server


def load_demo_documents() -> dict[str, Document]:
    """The sample feeds shipped in aggregator/demo/feeds/, keyed by path ``/<filename>``."""
    documents: dict[str, Document] = {}
    folder = resources.files(__package__).joinpath("feeds")
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        suffix = "." + entry.name.rpartition(".")[2]
        content_type = _CONTENT_TYPES.get(suffix)
        if content_type is None or not entry.is_file():
            continue  # notes such as README.md are for people, not for the server
        documents["/" + entry.name] = Document(entry.read_bytes(), content_type)
    return documents
