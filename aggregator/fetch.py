"""Fetch stage: one HTTP GET per feed that no server, network or resolver can turn into a hang or a crash.

``Fetcher.fetch`` returns a :class:`FetchResult` for everything a server or the network does; failures are
typed errors from :mod:`aggregator.errors` inside the result. The guarantees, and how they are kept:

* **Wall-clock deadline** (``limits.timeout_s``) over DNS, connect, TLS, headers and body of every hop.
  Socket timeouts only bound a single read, so a shared watchdog thread shuts the live socket down when the
  deadline passes and the blocked read returns at once. ``getaddrinfo`` cannot be interrupted, so lookups
  run in a small resolver pool and the fetch waits for them only as long as its deadline allows.
* **Address policy on the address actually connected to**, on every hop: the connection class resolves the
  host itself, drops refused addresses and connects to an allowed IP (TLS still verifies the host name).
* **Redirects by hand**, at most ``limits.max_redirects``, http and https only.
* **Body capped on decoded bytes**: the raw stream is decompressed here in bounded steps, so a gzip bomb
  never expands in memory beyond the cap.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import ipaddress
import itertools
import logging
import socket
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.cookiejar import DefaultCookiePolicy
from types import TracebackType
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import USER_AGENT
from .errors import (
    BlockedAddressError,
    BodyTooLargeError,
    ConnectionFailedError,
    DeadlineExceededError,
    FetchError,
    HTTPStatusError,
    RedirectError,
    TruncatedBodyError,
)
from .models import FetchLimits, FetchOutcome, FetchResult

__all__ = ["Fetcher", "IPAddress", "is_public_address", "parse_retry_after"]

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], bool]

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECT_STATUSES = frozenset({301, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})
ALLOWED_SCHEMES = ("http", "https")

READ_CHUNK = 64 * 1024  # raw bytes asked of the socket per read
DECODE_STEP = 256 * 1024  # most decoded bytes one decompress() call may produce
RESOLVER_THREADS = 4
POOL_HOSTS = 32  # per-host connection pools kept for keep-alive
POOL_CONNECTIONS_PER_HOST = 16  # above the usual worker count, so a busy host never logs "pool is full"
URL_IN_MESSAGE = 200  # longest URL quoted in an error message


# --- address policy ----------------------------------------------------------------------------------


def _networks(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


# Spelled out rather than trusting is_global alone: its tables changed between Python patch releases, and
# some ranges it calls global (IPv4-compatible ::a.b.c.d, 192.0.0.0/24 anycast) have no business here.
_REFUSED_IPV4 = _networks(
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
)
_REFUSED_IPV6 = _networks(
    "::/96",  # unspecified, loopback and the deprecated IPv4-compatible form
    "64:ff9b:1::/48",  # local-use NAT64
    "100::/64",  # discard-only
    "2001::/23",  # IETF protocol assignments, Teredo
    "2001:db8::/32",  # documentation
    "3fff::/20",  # documentation
    "5f00::/16",  # SRv6 SIDs
    "fc00::/7",  # unique-local
    "fe80::/10",  # link-local
    "fec0::/10",  # site-local (deprecated)
    "ff00::/8",  # multicast
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4): it is judged as that address."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def is_public_address(ip: IPAddress) -> bool:
    """The default policy: only globally routable unicast addresses, also when wrapped in IPv6."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public_address(embedded)
        refused: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = _REFUSED_IPV6
    else:
        refused = _REFUSED_IPV4
    if any(ip in network for network in refused):
        return False
    return ip.is_global and not ip.is_multicast


def _address_kind(ip: IPAddress) -> str:
    """Why the default policy refuses ``ip``, in words a user can act on."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return f"IPv6 form of {embedded}, {_address_kind(embedded)}"
        if ip in ipaddress.ip_network("fc00::/7"):
            return "unique-local"
    kinds = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("shared address space (CGNAT)", ip in ipaddress.ip_network("100.64.0.0/10")),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    )
    return next((kind for kind, applies in kinds if applies), "not publicly routable")


# --- Retry-After -------------------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date (past dates give 0).

    ``now`` should be aware; a naive ``now`` (or a date without a zone) is taken as UTC.
    Anything unparsable gives None: the caller then uses its own back-off.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


# --- small helpers -----------------------------------------------------------------------------------


def _format_size(size: int) -> str:
    mib, kib = 1024 * 1024, 1024
    if size >= mib and size % mib == 0:
        return f"{size // mib} MiB"
    if size >= kib and size % kib == 0:
        return f"{size // kib} KiB"
    return f"{size} bytes"


def _short(url: str) -> str:
    return url if len(url) <= URL_IN_MESSAGE else url[: URL_IN_MESSAGE - 1] + "…"


def _root_cause(exc: BaseException) -> str:
    """The innermost readable cause of a requests/urllib3 exception chain ("Connection refused" ...)."""
    current: BaseException = exc
    seen: set[int] = set()
    while id(current) not in seen:
        seen.add(id(current))
        inner: BaseException | None = None
        if isinstance(current, urllib3.exceptions.MaxRetryError):
            inner = current.reason
        elif current.args and isinstance(current.args[-1], BaseException):
            inner = current.args[-1]  # requests and ProtocolError keep the cause as an argument
        inner = inner or current.__cause__
        if inner is None:
            break
        current = inner
    if isinstance(current, OSError) and current.strerror:
        return current.strerror
    return str(current) or type(current).__name__


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _declared_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    try:
        lengths = {int(part) for part in value.split(",")}
    except ValueError:
        return None
    return lengths.pop() if len(lengths) == 1 else None


# --- per-fetch context, watchdog ---------------------------------------------------------------------

_active = threading.local()  # .context: the _FetchContext of the fetch running on this thread


class _FetchContext:
    """What one fetch's connections need: its deadline, address policy and resolver.

    Connections are created deep inside urllib3, so they find the context through a thread-local: a fetch
    runs entirely on its caller's thread. The watchdog calls :meth:`expire` from its own thread.
    """

    def __init__(
        self,
        *,
        deadline: float,
        timeout_s: float,
        connect_timeout_s: float,
        policy: AddressPolicy | None,
        custom_policy: bool,
        resolve: Callable[[str, int, float], list[tuple[int, Any]]],
    ) -> None:
        self.deadline = deadline
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.policy = policy
        self.custom_policy = custom_policy
        self.resolve = resolve
        self.phase = "starting"
        self.expired = False
        self._finished = False
        self._lock = threading.Lock()
        self._connections: list[_GuardedHTTPConnection] = []
        self._orphans: list[socket.socket] = []  # watch sockets of connections closed mid-fetch

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def deadline_error(self) -> DeadlineExceededError:
        return DeadlineExceededError(
            f"no complete response within {self.timeout_s:g} s (deadline) while {self.phase}"
        )

    def check_deadline(self) -> float:
        """The time left; raises once it is gone (the watchdog may be a moment late)."""
        remaining = self.remaining()
        if remaining <= 0 or self.expired:
            raise self.deadline_error()
        return remaining

    def attach(self, connection: _GuardedHTTPConnection) -> None:
        with self._lock:
            if self._finished:
                return
            connection.owner = self
            if connection not in self._connections:
                self._connections.append(connection)
            expired = self.expired
        if expired:  # attached after the watchdog fired: cut it off as well
            connection.interrupt(self)

    def adopt(self, watch: socket.socket) -> bool:
        """Keeps the watch socket of a connection closed while this fetch may still read from it.

        http.client closes the connection object as soon as a response says ``Connection: close`` and
        reads the body through the response; the socket lives on, and must stay interruptible.
        """
        with self._lock:
            if self._finished:
                return False
            if self.expired:
                _shutdown_quietly(watch)
            self._orphans.append(watch)
            return True

    def expire(self) -> None:
        """Watchdog callback: mark the fetch expired and unblock every read it is waiting in."""
        with self._lock:
            if self._finished:
                return
            self.expired = True
            connections = list(self._connections)
            for watch in self._orphans:  # under the lock: finish() closes them under it too
                _shutdown_quietly(watch)
        for connection in connections:
            connection.interrupt(self)

    def finish(self) -> None:
        with self._lock:
            self._finished = True
            connections, self._connections = self._connections, []
            orphans, self._orphans = self._orphans, []
            for watch in orphans:
                watch.close()
        for connection in connections:
            connection.release_owner(self)


def _shutdown_quietly(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already shut down, or never connected
        sock.shutdown(socket.SHUT_RDWR)


class _Alarm:
    __slots__ = ("action", "cancelled")

    def __init__(self, action: Callable[[], None]) -> None:
        self.action = action
        self.cancelled = False


class _Watchdog:
    """One timer thread for every fetch of a Fetcher: runs each fetch's expiry at its deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Alarm]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    def schedule(self, when: float, action: Callable[[], None]) -> _Alarm:
        alarm = _Alarm(action)
        with self._cond:
            if self._closed:
                raise RuntimeError("the Fetcher is closed")
            heapq.heappush(self._heap, (when, next(self._order), alarm))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fetch-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
        return alarm

    @staticmethod
    def cancel(alarm: _Alarm) -> None:
        alarm.cancelled = True  # dropped lazily when it reaches the top of the heap

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _next_due(self) -> _Alarm | None:
        """Waits for the earliest alarm to come due; None once closed."""
        with self._cond:
            while not self._closed:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                delay = self._heap[0][0] - time.monotonic()
                if delay <= 0:
                    return heapq.heappop(self._heap)[2]
                self._cond.wait(delay)
            return None

    def _run(self) -> None:
        while (alarm := self._next_due()) is not None:
            if alarm.cancelled:
                continue
            try:
                alarm.action()
            except Exception:  # a failing callback must not stop the deadlines of other fetches
                log.exception("fetch watchdog callback failed")


# --- connections that resolve, filter and can be interrupted ------------------------------------------


def _current_context() -> _FetchContext:
    context: _FetchContext | None = getattr(_active, "context", None)
    if context is None:
        raise RuntimeError("aggregator.fetch connections can only be used inside Fetcher.fetch()")
    return context


class _GuardedHTTPConnection(HTTPConnection):
    """An urllib3 connection that picks its address under the fetch's policy and obeys its deadline.

    It keeps a duplicate of its socket's descriptor (``_watch``): shutting that down ends any read or TLS
    handshake blocked on the connection, even after ssl has taken over the original socket object.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner: _FetchContext | None = None
        self._watch: socket.socket | None = None
        self._watch_lock = threading.Lock()

    # -- deadline plumbing --

    def interrupt(self, context: _FetchContext) -> None:
        with self._watch_lock:  # the watch is only ever closed after being detached under this lock
            if self.owner is context and self._watch is not None:
                _shutdown_quietly(self._watch)

    def release_owner(self, context: _FetchContext) -> None:
        with self._watch_lock:
            if self.owner is context:
                self.owner = None

    def _replace_watch(self, watch: socket.socket | None, *, may_have_reader: bool = True) -> None:
        with self._watch_lock:
            old, self._watch = self._watch, watch
            owner = self.owner
        if old is None:
            return
        if not (may_have_reader and owner is not None and owner.adopt(old)):
            old.close()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._replace_watch(None)

    def request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        # A pooled connection is reused without _new_conn: attach it to this fetch before any I/O.
        _current_context().attach(self)
        super().request(*args, **kwargs)

    # -- connecting --

    def _new_conn(self) -> socket.socket:
        context = _current_context()
        context.attach(self)
        host, port = self._dns_host, self.port
        candidates = self._allowed_addresses(context, host, port)
        failures: list[str] = []
        for family, sockaddr in candidates:
            remaining = context.check_deadline()
            context.phase = f"connecting to {host} ({sockaddr[0]} port {port})"
            try:
                sock = self._connect_to(family, sockaddr, min(remaining, context.connect_timeout_s))
            except OSError as exc:
                if context.expired or context.remaining() <= 0:
                    raise context.deadline_error() from exc
                reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
                failures.append(f"{sockaddr[0]}: {reason}")
                continue
            context.phase = f"waiting for the response headers from {host}"
            return sock
        raise ConnectionFailedError(f"cannot connect to {host} port {port}: {'; '.join(failures)}")

    def _allowed_addresses(self, context: _FetchContext, host: str, port: int) -> list[tuple[int, Any]]:
        context.phase = f"resolving {host}"
        addresses = context.resolve(host, port, context.check_deadline())
        if context.policy is None:
            return addresses
        allowed, refused = [], []
        for family, sockaddr in addresses:
            try:
                ip = ipaddress.ip_address(sockaddr[0])
            except ValueError:
                refused.append(f"{sockaddr[0]} (unparsable)")
                continue
            if context.policy(ip):
                allowed.append((family, sockaddr))
            else:
                why = "refused by the address policy" if context.custom_policy else _address_kind(ip)
                refused.append(f"{ip} ({why})")
        if not allowed:
            if len(addresses) == 1 and addresses[0][1][0] == host.strip("[]"):  # the URL names an IP
                raise BlockedAddressError(f"refusing to connect to {refused[0]}: blocked address")
            raise BlockedAddressError(
                f"refusing to connect to {host}: it resolves only to blocked addresses: {', '.join(refused)}"
            )
        return allowed

    def _connect_to(self, family: int, sockaddr: Any, timeout: float) -> socket.socket:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._replace_watch(sock.dup())
            self._interrupt_if_expired()
            for level, option, value in self.socket_options or ():
                sock.setsockopt(level, option, value)
            sock.settimeout(timeout)
            sock.connect(sockaddr)
        except BaseException:
            sock.close()
            self._replace_watch(None, may_have_reader=False)  # never connected: nothing reads from it
            raise
        return sock

    def _interrupt_if_expired(self) -> None:
        owner = self.owner
        if owner is not None and owner.expired:
            self.interrupt(owner)


class _GuardedHTTPSConnection(_GuardedHTTPConnection, HTTPSConnection):
    def connect(self) -> None:
        context = _current_context()
        super().connect()  # _new_conn, then the TLS handshake: SNI and certificate use the host name
        context.phase = f"waiting for the response headers from {self.host}"

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _current_context().phase = f"in the TLS handshake with {self.host}"
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


# --- body decoding -----------------------------------------------------------------------------------


def _content_coding(header: str | None) -> str:
    codings = [c.strip().lower() for c in (header or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return "identity"
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip"):
        return "gzip"
    if codings == ["deflate"]:
        return "deflate"
    raise FetchError(
        f"unsupported Content-Encoding {header!r}: only gzip and deflate are accepted", reason="bad_encoding"
    )


def _looks_like_zlib(head: bytes) -> bool:
    """A zlib header: deflate method, window ≤ 32 KiB, and the header checksum (RFC 1950)."""
    return (head[0] & 0x0F) == 8 and (head[0] >> 4) <= 7 and ((head[0] << 8) | head[1]) % 31 == 0


class _BodyDecoder:
    """Undoes the Content-Encoding in bounded steps; never produces more than ``cap`` bytes in total.

    ``deflate`` is accepted zlib-wrapped (as specified) or raw (as some servers send it); gzip may have
    several members. Bytes after the end of the compressed stream that do not start a new gzip member are
    ignored, as browsers do.
    """

    def __init__(self, coding: str, cap: int) -> None:
        self.coding = coding
        self.produced = 0
        self._cap = cap
        self._inflater: Any = None  # zlib Decompress object of the current member
        self._pending = b""  # input not yet handed to an inflater
        self._members = 0
        self._ignore_rest = False
        self._seen_input = False

    def feed(self, data: bytes) -> bytes:
        if not data:
            return b""
        self._seen_input = True
        if self.coding == "identity":
            self._account(len(data))
            return data
        if self._ignore_rest:
            return b""
        output = bytearray()
        self._pending += data
        while self._pending or self._inflater is not None:
            if self._inflater is None and not self._start_member():
                break
            if not self._inflate_step(output):
                break
        return bytes(output)

    def finish(self) -> None:
        """Raises unless the compressed stream ended properly."""
        if self.coding == "identity" or not self._seen_input or self._ignore_rest:
            return
        if self._inflater is not None or (self._members == 0 and self._pending):
            raise TruncatedBodyError(
                f"the {self.coding} stream ends before its end marker after "
                f"{self.produced} decoded bytes (body cut off)"
            )

    def _account(self, size: int) -> None:
        self.produced += size
        if self.produced > self._cap:
            after = "" if self.coding == "identity" else " after decompression"
            raise BodyTooLargeError(f"body exceeds {_format_size(self._cap)}{after}")

    def _start_member(self) -> bool:
        """Starts an inflater for the next member; False when more input is needed or the rest is junk."""
        if len(self._pending) < 2:
            return False
        if self._members > 0 and (self.coding != "gzip" or self._pending[:2] != b"\x1f\x8b"):
            self._ignore_rest, self._pending = True, b""
            return False
        if self.coding == "gzip":
            if self._pending[:2] != b"\x1f\x8b":
                raise FetchError(
                    "body is not gzip data although Content-Encoding says gzip", reason="bad_encoding"
                )
            wbits = 16 + zlib.MAX_WBITS
        else:
            wbits = zlib.MAX_WBITS if _looks_like_zlib(self._pending) else -zlib.MAX_WBITS
        self._inflater = zlib.decompressobj(wbits)
        return True

    def _inflate_step(self, output: bytearray) -> bool:
        """One bounded decompress call; False when the inflater needs more input."""
        limit = min(self._cap - self.produced + 1, DECODE_STEP)  # +1: enough to notice going over
        try:
            chunk = self._inflater.decompress(self._pending, limit)
        except zlib.error as exc:
            raise FetchError(f"{self.coding} body is corrupt: {exc}", reason="bad_encoding") from exc
        self._account(len(chunk))
        output += chunk
        if self._inflater.eof:
            self._pending, self._inflater = self._inflater.unused_data, None
            self._members += 1
            return True
        self._pending = self._inflater.unconsumed_tail
        # A full step may leave output inside zlib even with no input left: call again for it.
        return bool(self._pending) or len(chunk) == limit


# --- the fetcher -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Progress:
    """What is known so far about one fetch; turned into the FetchResult at the end."""

    requested_url: str
    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    bytes_read: int = 0
    hops: list[int] = field(default_factory=list)  # statuses of the redirects followed

    @property
    def permanent_url(self) -> str | None:
        if self.hops and all(status in PERMANENT_REDIRECT_STATUSES for status in self.hops):
            return self.url
        return None


POST_REPLY_BYTES = 2048
# What the network (or a server breaking the protocol) can raise out of requests before a response is read.
_NETWORK_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    OSError,
    http.client.HTTPException,
)


@dataclass(frozen=True, slots=True)
class PostResult:
    status: int
    reason: str
    headers: Mapping[str, str]  # lower-case names
    reply: str  # the start of the reply body
    duration_s: float


class Fetcher:
    """Thread-safe HTTP fetcher: one Session, shared by any number of worker threads.

    Close it (or leave its ``with`` block) once the workers have stopped: closing stops the deadline
    watchdog, and ``fetch`` then raises RuntimeError.
    """

    def __init__(self, limits: FetchLimits, *, address_allowed: AddressPolicy | None = None) -> None:
        self._limits = limits
        self._custom_policy = address_allowed is not None
        self._policy: AddressPolicy | None = (
            None if limits.allow_private_networks else (address_allowed or is_public_address)
        )
        # The seam a test uses to simulate a hanging resolver; production code never changes it.
        self._getaddrinfo: Callable[..., list[tuple[Any, ...]]] = socket.getaddrinfo
        self._resolver = ThreadPoolExecutor(max_workers=RESOLVER_THREADS, thread_name_prefix="fetch-dns")
        self._watchdog = _Watchdog()
        self._session = self._make_session(limits.user_agent or USER_AGENT)

    @staticmethod
    def _make_session(user_agent: str) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # an environment proxy would connect for us, past the address checks
        # Cookies live for one fetch only (see _follow): no state leaks between feeds or threads.
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        session.headers.update(
            {"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
        )
        adapter = _GuardedAdapter(
            pool_connections=POOL_HOSTS, pool_maxsize=POOL_CONNECTIONS_PER_HOST, max_retries=0
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._watchdog.close()
        self._resolver.shutdown(wait=False, cancel_futures=True)  # a hung lookup must not block us
        self._session.close()

    # -- public --

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET ``url`` (following redirects) within the limits. Never raises for server or network faults."""
        started = time.monotonic()
        context = _FetchContext(
            deadline=started + self._limits.timeout_s,
            timeout_s=self._limits.timeout_s,
            connect_timeout_s=self._limits.connect_timeout_s,
            policy=self._policy,
            custom_policy=self._custom_policy,
            resolve=self._resolve,
        )
        progress = _Progress(requested_url=url, url=url)
        alarm = self._watchdog.schedule(context.deadline, context.expire)
        _active.context = context
        try:
            result = self._follow(progress, context, etag, last_modified)
        except FetchError as error:
            if error.url is None:
                error.url = progress.url
            result = self._error_result(progress, error)
        except Exception as exc:  # a bug here must not take the daemon down with it
            log.exception("unexpected failure fetching %s", url)
            error = FetchError(
                f"unexpected {type(exc).__name__} while fetching: {exc}", url=progress.url, reason="internal"
            )
            result = self._error_result(progress, error)
        finally:
            self._watchdog.cancel(alarm)
            context.finish()
            _active.context = None
        duration = time.monotonic() - started
        log.debug("fetched %s: %s %s in %.2f s", url, result.outcome, result.status, duration)
        return replace(result, duration_s=duration)

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, timeout_s: float | None = None
    ) -> PostResult:
        """POST ``body`` to ``url`` (a webhook) under the same guards as a fetch: a wall-clock deadline
        over connect, headers and the reply, and the address policy on the address actually connected to.

        Redirects are not followed: a webhook that redirects is misconfigured, and following one with a
        body would resend it elsewhere. Raises FetchError (ConnectionFailedError, DeadlineExceededError,
        BlockedAddressError...) when no answer came; any answer, whatever its status, is returned.
        """
        started = time.monotonic()
        limit = timeout_s or self._limits.timeout_s
        context = _FetchContext(
            deadline=started + limit,
            timeout_s=limit,
            connect_timeout_s=min(self._limits.connect_timeout_s, limit),
            policy=self._policy,
            custom_policy=self._custom_policy,
            resolve=self._resolve,
        )
        alarm = self._watchdog.schedule(context.deadline, context.expire)
        _active.context = context
        try:
            _check_url(url, redirected=False)
            remaining = context.check_deadline()
            context.phase = f"waiting for a response from {urlsplit(url).hostname}"
            sent_headers = {"Accept": "*/*", "Accept-Encoding": "identity", **headers}
            try:
                response = self._session.post(
                    url,
                    data=body,
                    headers=sent_headers,
                    allow_redirects=False,
                    stream=True,
                    timeout=(min(remaining, context.connect_timeout_s), remaining),
                )
            except FetchError:
                raise
            except _NETWORK_ERRORS as exc:
                raise _network_failure(exc, context, url) from exc
            with contextlib.closing(response):
                reply = b""
                # The reply is only for the operator's error message: a little of it is enough.
                with contextlib.suppress(urllib3.exceptions.HTTPError, OSError, http.client.HTTPException):
                    reply = response.raw.read(POST_REPLY_BYTES, decode_content=False) or b""
            if context.expired:
                raise context.deadline_error()
            return PostResult(
                status=response.status_code,
                reason=response.reason or http.client.responses.get(response.status_code, ""),
                headers=_lower_headers(response.headers),
                reply=reply.decode("utf-8", "replace"),
                duration_s=time.monotonic() - started,
            )
        finally:
            self._watchdog.cancel(alarm)
            context.finish()
            _active.context = None

    # -- hops --

    def _request_headers(self, etag: str | None, last_modified: str | None) -> dict[str, str]:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return headers

    def _follow(
        self, progress: _Progress, context: _FetchContext, etag: str | None, last_modified: str | None
    ) -> FetchResult:
        headers = self._request_headers(etag, last_modified)
        cookies = RequestsCookieJar()  # carried across this fetch's hops only
        _check_url(progress.url, redirected=False)
        for _ in range(self._limits.max_redirects + 1):
            response = self._send(progress.url, headers, cookies, context)
            with contextlib.closing(response):
                progress.status = response.status_code
                progress.headers = _lower_headers(response.headers)
                if response.status_code not in REDIRECT_STATUSES:
                    return self._final(response, progress, context, conditional=bool(headers))
                extract_cookies_to_jar(cookies, response.request, response.raw)
                target = _redirect_target(progress.url, response)
                _release_if_bodyless(response)
            progress.hops.append(response.status_code)
            progress.url = target
        raise RedirectError(
            f"more than {self._limits.max_redirects} redirects; stopped at {_short(progress.url)}"
        )

    def _send(
        self, url: str, headers: dict[str, str], cookies: RequestsCookieJar, context: _FetchContext
    ) -> requests.Response:
        remaining = context.check_deadline()
        context.phase = f"waiting for a response from {urlsplit(url).hostname}"
        timeout = (min(remaining, self._limits.connect_timeout_s), remaining)
        try:
            return self._session.get(
                url, headers=headers, cookies=cookies, allow_redirects=False, stream=True, timeout=timeout
            )
        except FetchError:
            raise
        except _NETWORK_ERRORS as exc:
            raise _network_failure(exc, context, url) from exc

    def _final(
        self, response: requests.Response, progress: _Progress, context: _FetchContext, *, conditional: bool
    ) -> FetchResult:
        status = response.status_code
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        if status == 304 and conditional:
            _release_if_bodyless(response)
            return self._result(progress, FetchOutcome.NOT_MODIFIED, etag=etag, last_modified=last_modified)
        if 200 <= status < 300 and status != 206:
            body = self._read_body(response, progress, context)
            return self._result(progress, FetchOutcome.OK, body=body, etag=etag, last_modified=last_modified)
        raise _status_error(response, progress.url)

    def _read_body(self, response: requests.Response, progress: _Progress, context: _FetchContext) -> bytes:
        cap = self._limits.max_bytes
        decoder = _BodyDecoder(_content_coding(response.headers.get("Content-Encoding")), cap)
        declared = _declared_length(progress.headers)
        # Compressed data is never much bigger than what it decodes to; junk after it is not allowed to be.
        raw_cap = cap if decoder.coding == "identity" else cap + cap // 100 + READ_CHUNK
        if declared is not None and declared > raw_cap:
            raise BodyTooLargeError(f"body exceeds {_format_size(cap)}: Content-Length is {declared} bytes")
        body = bytearray()
        received = 0
        while True:
            context.check_deadline()
            context.phase = f"reading the body ({received} bytes received)"
            try:
                chunk = response.raw.read1(READ_CHUNK, decode_content=False)
            except (urllib3.exceptions.HTTPError, OSError, http.client.HTTPException) as exc:
                raise _body_failure(exc, context, received, declared) from exc
            if not chunk:
                break
            received += len(chunk)
            body += decoder.feed(chunk)  # raises once the decoded size passes the cap
            progress.bytes_read = len(body)
            if received > raw_cap:  # compressed junk that decodes to nothing
                raise BodyTooLargeError(f"body exceeds {_format_size(cap)} as sent (before decoding)")
        if context.expired:  # the watchdog's shutdown looks like a clean end of a close-delimited body
            raise context.deadline_error()
        if declared is not None and received < declared:
            raise TruncatedBodyError(f"connection closed after {received} of {declared} bytes of the body")
        decoder.finish()
        return bytes(body)

    # -- resolution --

    def _resolve(self, host: str, port: int, timeout: float) -> list[tuple[int, Any]]:
        """Addresses for host as (family, sockaddr), waiting at most ``timeout`` for the resolver."""
        literal = host.strip("[]")
        try:
            ip = ipaddress.ip_address(literal)
        except ValueError:
            pass
        else:  # no lookup needed, but still through getaddrinfo's sockaddr shape
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            sockaddr: tuple[Any, ...] = (literal, port, 0, 0) if ip.version == 6 else (literal, port)
            return [(family, sockaddr)]
        try:
            future = self._resolver.submit(self._getaddrinfo, host, port, 0, socket.SOCK_STREAM)
        except RuntimeError as exc:
            raise ConnectionFailedError(f"cannot resolve {host}: the fetcher is closed") from exc
        try:
            infos = future.result(timeout=timeout)
        except TimeoutError:
            future.cancel()
            raise _current_context().deadline_error() from None
        except (OSError, UnicodeError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConnectionFailedError(f"cannot resolve {host}: {detail}") from exc
        addresses: list[tuple[int, Any]] = []
        for family, _type, _proto, _name, sockaddr in infos:
            if family in (socket.AF_INET, socket.AF_INET6) and (family, sockaddr) not in addresses:
                addresses.append((family, sockaddr))
        if not addresses:
            raise ConnectionFailedError(f"cannot resolve {host}: no IPv4 or IPv6 address")
        return addresses

    # -- results --

    def _result(
        self,
        progress: _Progress,
        outcome: FetchOutcome,
        *,
        body: bytes | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        return FetchResult(
            requested_url=progress.requested_url,
            final_url=progress.url,
            outcome=outcome,
            status=progress.status,
            body=body,
            headers=progress.headers,
            etag=etag,
            last_modified=last_modified,
            permanent_url=progress.permanent_url,
            bytes_read=progress.bytes_read,
        )

    def _error_result(self, progress: _Progress, error: FetchError) -> FetchResult:
        return FetchResult(
            requested_url=progress.requested_url,
            final_url=progress.url,
            outcome=FetchOutcome.ERROR,
            status=progress.status,
            headers=progress.headers,
            error=error,
            retry_after=getattr(error, "retry_after", None),
            bytes_read=progress.bytes_read,
        )


def _release_if_bodyless(response: requests.Response) -> None:
    """Hands the connection back to the pool when the response has no body (304, empty redirects).

    Closing the response instead would close the connection: the next poll of the host, most often
    another 304, would pay for a new connection and TLS handshake.
    """
    if response.raw.length_remaining == 0:
        with contextlib.suppress(urllib3.exceptions.HTTPError, OSError, http.client.HTTPException):
            response.raw.read1(1, decode_content=False)  # reads nothing; marks the response complete


def _check_url(url: str, *, redirected: bool) -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise _bad_url(url, f"not a valid URL ({exc})", redirected) from exc
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        problem = "only http and https" if parts.scheme else "no scheme (only http and https)"
        raise _bad_url(url, problem, redirected)
    if not host:
        raise _bad_url(url, "the URL has no host", redirected)


def _bad_url(url: str, problem: str, redirected: bool) -> FetchError:
    if redirected:
        return RedirectError(f"redirect to {_short(url)} refused: {problem}")
    return FetchError(f"cannot fetch {_short(url)}: {problem}", reason="bad_url")


def _redirect_target(current: str, response: requests.Response) -> str:
    location = response.headers.get("Location")
    if not location or not location.strip():
        raise RedirectError(f"HTTP {response.status_code} redirect without a Location header")
    # http.client decodes header bytes as latin-1; servers mostly send UTF-8 (requests does the same).
    with contextlib.suppress(UnicodeError):
        location = location.encode("latin-1").decode("utf-8")
    target = urljoin(current, location.strip())
    _check_url(target, redirected=True)
    return target.split("#", 1)[0]


def _status_error(response: requests.Response, url: str) -> FetchError:
    status = response.status_code
    phrase = response.reason or http.client.responses.get(status, "")
    if status == 206:
        return HTTPStatusError(status, url=url, message="HTTP 206 Partial Content, which was not asked for")
    if status == 304:
        return HTTPStatusError(status, url=url, message="HTTP 304 Not Modified to an unconditional request")
    if 300 <= status < 400:
        return RedirectError(f"HTTP {status} {phrase} is not a redirect that can be followed", url=url)
    if status < 200:
        return HTTPStatusError(status, url=url, message=f"unexpected interim response HTTP {status} {phrase}")
    retry_after = None
    if status in RETRY_AFTER_STATUSES:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
    message = f"HTTP {status} {phrase}".rstrip()
    if retry_after is not None:
        message += f" (retry after {retry_after:g} s)"
    return HTTPStatusError(status, url=url, retry_after=retry_after, message=message)


def _network_failure(exc: BaseException, context: _FetchContext, url: str) -> FetchError:
    """Maps a failure before the response headers were complete to a typed error."""
    if context.expired or context.remaining() <= 0 or isinstance(exc, requests.exceptions.ReadTimeout):
        return context.deadline_error()  # the read timeout is the time left, so it is the deadline too
    cause = _root_cause(exc)
    host = urlsplit(url).hostname or url
    if isinstance(exc, requests.exceptions.SSLError):
        return ConnectionFailedError(f"TLS with {host} failed: {cause}")
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.URLRequired):
        return FetchError(f"cannot fetch {_short(url)}: {cause}", reason="bad_url")
    if isinstance(exc, requests.exceptions.ConnectionError | OSError):
        return ConnectionFailedError(f"connection to {host} failed: {cause}")
    return FetchError(f"invalid response from {host}: {cause}", reason="bad_response")


def _body_failure(
    exc: BaseException, context: _FetchContext, received: int, declared: int | None
) -> FetchError:
    if context.expired or context.remaining() <= 0 or isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return context.deadline_error()
    if declared is not None:
        return TruncatedBodyError(f"connection closed after {received} of {declared} bytes of the body")
    return TruncatedBodyError(f"connection broken after {received} bytes of the body: {_root_cause(exc)}")
