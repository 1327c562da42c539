"""aggregator.fetch against real servers on loopback: every guarantee of the fetcher, and hostile peers."""

from __future__ import annotations

import gc
import gzip
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
import warnings
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import psutil
import pytest
from feedserver import (
    Exchange,
    FeedServer,
    cut_gzip,
    drip_body,
    drip_headers,
    gzip_bomb,
    gzip_bomb_size,
    redirect,
    reset,
    silent,
    truncated,
)
from hypothesis import given
from hypothesis import strategies as st

from aggregator import USER_AGENT
from aggregator.errors import (
    BlockedAddressError,
    BodyTooLargeError,
    ConnectionFailedError,
    DeadlineExceededError,
    HTTPStatusError,
    RedirectError,
    TruncatedBodyError,
)
from aggregator.fetch import Fetcher, IPAddress, is_public_address, parse_retry_after
from aggregator.models import FetchLimits, FetchOutcome, FetchResult

MiB = 1024 * 1024
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Talks</title></channel></rss>'
LOCAL = ipaddress.ip_address("127.0.0.1")


def only_127_0_0_1(ip: IPAddress) -> bool:
    """Test policy: the loopback address the test servers use, and nothing else (not ::1, not 127.0.0.2)."""
    return ip == LOCAL


@contextmanager
def make_fetcher(
    policy: Callable[[IPAddress], bool] | None = only_127_0_0_1, **limits: Any
) -> Iterator[Fetcher]:
    with Fetcher(FetchLimits(**limits), address_allowed=policy) as fetcher:
        yield fetcher


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with make_fetcher(timeout_s=5) as fetcher:
        yield fetcher


def timed_fetch(fetcher: Fetcher, url: str, **kwargs: Any) -> tuple[FetchResult, float]:
    started = time.monotonic()
    result = fetcher.fetch(url, **kwargs)
    return result, time.monotonic() - started


def assert_error(result: FetchResult, error_type: type[Exception], reason: str) -> None:
    assert result.outcome is FetchOutcome.ERROR, result
    assert isinstance(result.error, error_type), result.error
    assert result.error.reason == reason
    assert result.body is None


def table_resolver(table: dict[str, list[str]]) -> Callable[..., list[tuple[Any, ...]]]:
    """A getaddrinfo stand-in answering from ``table`` (the fetcher's resolver seam; sockets stay real)."""

    def resolve(host: str, port: int, *_: Any) -> list[tuple[Any, ...]]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answers = []
        for address in table[host]:
            if ":" in address:
                answers.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                answers.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return answers

    return resolve


def send_encoded(body: bytes, coding: str, *, chunked: bool = False) -> Callable[[Exchange], None]:
    def handler(exchange: Exchange) -> None:
        if not chunked:
            exchange.send_response(200, body, [("Content-Encoding", coding)])
            return
        exchange.send_head(200, [("Content-Encoding", coding), ("Transfer-Encoding", "chunked")])
        for start in range(0, len(body), 1000):
            piece = body[start : start + 1000]
            exchange.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        exchange.send(b"0\r\n\r\n")

    return handler


# --- success, validators, request headers --------------------------------------------------------------


def test_ok_returns_the_body_validators_and_lower_case_headers(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    url = feed_server.route(
        "/feed.xml",
        FEED,
        etag='"v1"',
        last_modified="Mon, 13 Jul 2026 10:00:00 GMT",
        headers={"X-Source": "t"},
    )
    result = fetcher.fetch(url)
    assert result.outcome is FetchOutcome.OK
    assert (result.status, result.body, result.bytes_read) == (200, FEED, len(FEED))
    assert (result.etag, result.last_modified) == ('"v1"', "Mon, 13 Jul 2026 10:00:00 GMT")
    assert (result.requested_url, result.final_url, result.permanent_url) == (url, url, None)
    assert result.headers["x-source"] == "t"
    assert all(name == name.lower() for name in result.headers)
    assert result.error is None
    assert 0 < result.duration_s < 5


def test_sends_user_agent_accept_encoding_and_no_validators_unless_given(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    fetcher.fetch(feed_server.route("/feed", FEED))
    (request,) = feed_server.requests
    assert request.method == "GET"
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["accept-encoding"] == "gzip, deflate"
    assert "if-none-match" not in request.headers
    assert "if-modified-since" not in request.headers


def test_user_agent_from_the_limits_wins(feed_server: FeedServer) -> None:
    with make_fetcher(user_agent="peace-monitor/9") as fetcher:
        fetcher.fetch(feed_server.route("/feed", FEED))
    assert feed_server.requests[0].headers["user-agent"] == "peace-monitor/9"


def test_matching_etag_gives_not_modified_without_a_body(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/feed", FEED, etag='"v1"')
    result = fetcher.fetch(url, etag='"v1"')
    assert result.outcome is FetchOutcome.NOT_MODIFIED
    assert (result.status, result.body, result.etag, result.bytes_read) == (304, None, '"v1"', 0)
    assert feed_server.requests[0].headers["if-none-match"] == '"v1"'


def test_if_modified_since_is_sent_and_a_304_keeps_validators_it_did_not_repeat(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    stamp = "Mon, 13 Jul 2026 10:00:00 GMT"

    def bare_304(exchange: Exchange) -> None:
        exchange.send_response(304)

    url = feed_server.route_handler("/feed", bare_304)
    result = fetcher.fetch(url, last_modified=stamp)
    assert result.outcome is FetchOutcome.NOT_MODIFIED
    assert (result.etag, result.last_modified) == (None, None)  # the caller keeps its own
    assert feed_server.requests[0].headers["if-modified-since"] == stamp


def test_not_modified_answers_and_empty_redirects_keep_the_connection(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    url = feed_server.route("/feed", FEED, etag='"v1"')
    feed_server.route_handler("/old", redirect("/feed", 301))
    for _ in range(3):
        assert fetcher.fetch(url, etag='"v1"').outcome is FetchOutcome.NOT_MODIFIED
    assert fetcher.fetch(feed_server.url("/old")).body == FEED
    assert feed_server.connections_accepted == 1


def test_a_changed_etag_gives_the_new_body(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/feed", FEED, etag='"v2"')
    result = fetcher.fetch(url, etag='"v1"')
    assert (result.outcome, result.body, result.etag) == (FetchOutcome.OK, FEED, '"v2"')


def test_203_counts_as_ok(feed_server: FeedServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch(feed_server.route("/feed", FEED, status=203))
    assert (result.outcome, result.status, result.body) == (FetchOutcome.OK, 203, FEED)


def test_a_304_to_an_unconditional_request_is_an_error(feed_server: FeedServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch(feed_server.route("/feed", status=304))
    assert_error(result, HTTPStatusError, "http_304")


# --- content encodings ----------------------------------------------------------------------------------

BIG_FEED = FEED * 2000  # ~170 KB: several decode steps and network reads


def gzip_members(data: bytes) -> bytes:
    half = len(data) // 2
    return gzip.compress(data[:half]) + gzip.compress(data[half:])


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("gzip", gzip_members),
        ("deflate", zlib.compress),  # zlib-wrapped, as specified
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
        ("identity", lambda data: data),
    ],
    ids=["gzip", "x-gzip", "gzip-two-members", "deflate-zlib", "deflate-raw", "identity"],
)
@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_encoded_bodies_are_decoded(
    feed_server: FeedServer, fetcher: Fetcher, coding: str, encode: Callable[[bytes], bytes], chunked: bool
) -> None:
    url = feed_server.route_handler("/feed", send_encoded(encode(BIG_FEED), coding, chunked=chunked))
    result = fetcher.fetch(url)
    assert result.outcome is FetchOutcome.OK, result.error
    assert result.body == BIG_FEED
    assert result.bytes_read == len(BIG_FEED)


def test_an_unsupported_content_encoding_is_refused(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route_handler("/feed", send_encoded(b"\x1b\x00 not really brotli", "br"))
    result = fetcher.fetch(url)
    assert_error(result, Exception, "bad_encoding")
    assert "'br'" in str(result.error) and "gzip and deflate" in str(result.error)


def test_corrupt_gzip_is_an_error(feed_server: FeedServer, fetcher: Fetcher) -> None:
    data = bytearray(gzip.compress(BIG_FEED))
    data[40:60] = b"\xff" * 20
    result = fetcher.fetch(feed_server.route_handler("/feed", send_encoded(bytes(data), "gzip")))
    assert_error(result, Exception, "bad_encoding")
    assert "corrupt" in str(result.error)


# --- the wall-clock deadline ----------------------------------------------------------------------------


def test_a_body_dripping_forever_ends_at_the_deadline(feed_server: FeedServer) -> None:
    # 0.7 s apart, the deadline falls while a read is blocked: the watchdog's shutdown then looks like the
    # clean end of a close-delimited body, which must still be the deadline and never a short feed.
    url = feed_server.route_handler("/feed", drip_body(interval=0.7))
    with make_fetcher(timeout_s=2) as fetcher:
        result, elapsed = timed_fetch(fetcher, url)
    assert_error(result, DeadlineExceededError, "deadline")
    assert elapsed <= 3
    assert "within 2 s (deadline)" in str(result.error) and "reading the body" in str(result.error)
    assert result.status == 200 and result.bytes_read == 3


def test_a_dripping_body_with_a_content_length_is_also_the_deadline_not_a_truncation(
    feed_server: FeedServer,
) -> None:
    url = feed_server.route_handler("/feed", drip_body(interval=0.3, content_length=5000))
    with make_fetcher(timeout_s=1.5) as fetcher:
        result, elapsed = timed_fetch(fetcher, url)
    assert_error(result, DeadlineExceededError, "deadline")
    assert elapsed <= 2.5


def test_a_body_that_stalls_mid_way_is_cut_at_the_deadline_not_a_read_timeout_later(
    feed_server: FeedServer,
) -> None:
    # The read blocked at 1 s would only time out at 1 + 2 s; the watchdog must end it at 2 s.
    def stall_after_a_while(exchange: Exchange) -> None:
        exchange.send_head(200, [("Content-Length", "100")])
        exchange.send(b"<rss>")
        if exchange.pause(1.0):
            exchange.send(b"<channel>")
            exchange.hold(10)

    url = feed_server.route_handler("/feed", stall_after_a_while)
    with make_fetcher(timeout_s=2) as fetcher:
        result, elapsed = timed_fetch(fetcher, url)
    assert_error(result, DeadlineExceededError, "deadline")
    assert elapsed <= 2.6
    assert result.bytes_read == len(b"<rss><channel>")


def test_headers_that_never_end_are_cut_at_the_deadline(feed_server: FeedServer) -> None:
    url = feed_server.route_handler("/feed", drip_headers(interval=0.5))
    with make_fetcher(timeout_s=2) as fetcher:
        result, elapsed = timed_fetch(fetcher, url)
    assert_error(result, DeadlineExceededError, "deadline")
    assert elapsed <= 3
    assert "waiting for the response headers" in str(result.error)


def test_a_server_that_accepts_and_says_nothing_is_cut_at_the_deadline(feed_server: FeedServer) -> None:
    url = feed_server.route_handler("/feed", silent())
    with make_fetcher(timeout_s=2) as fetcher:
        result, elapsed = timed_fetch(fetcher, url)
    assert_error(result, DeadlineExceededError, "deadline")
    assert elapsed <= 3
    assert feed_server.hits["/feed"] == 1


def test_a_slow_but_finishing_body_within_the_deadline_is_ok(feed_server: FeedServer) -> None:
    def five_slow_pieces(exchange: Exchange) -> None:
        exchange.send_head(200, [("Content-Length", "5")])
        for piece in b"abcde":
            exchange.pause(0.2)
            exchange.send(bytes([piece]))

    url = feed_server.route_handler("/feed", five_slow_pieces)
    with make_fetcher(timeout_s=2) as fetcher:
        result = fetcher.fetch(url)
    assert (result.outcome, result.body) == (FetchOutcome.OK, b"abcde")


def test_the_deadline_covers_all_hops_together(feed_server: FeedServer) -> None:
    def slow_redirect(to: str) -> Callable[[Exchange], None]:
        def handler(exchange: Exchange) -> None:
            if exchange.pause(0.7):
                exchange.send_response(302, b"", [("Location", to)])

        return handler

    for hop in range(1, 5):
        feed_server.route_handler(f"/hop{hop}", slow_redirect(f"/hop{hop + 1}"))
    feed_server.route("/hop5", FEED)
    with make_fetcher(timeout_s=2) as fetcher:
        result, elapsed = timed_fetch(fetcher, feed_server.url("/hop1"))
    assert_error(result, DeadlineExceededError, "deadline")  # each hop alone is well inside 2 s
    assert elapsed <= 3
    assert feed_server.hits["/hop3"] == 1 and feed_server.hits["/hop5"] == 0


@contextmanager
def raw_tcp_server(behaviour: Callable[[socket.socket, threading.Event], None]) -> Iterator[int]:
    """A bare TCP listener on 127.0.0.1 running ``behaviour`` on each connection; yields the port."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    workers: list[threading.Thread] = []

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            worker = threading.Thread(target=serve, args=(connection,), daemon=True)
            workers.append(worker)
            worker.start()

    def serve(connection: socket.socket) -> None:
        with connection, suppress(OSError):  # the client hung up: that is how these tests end
            behaviour(connection, stop)

    acceptor = threading.Thread(target=accept_loop, daemon=True)
    acceptor.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        acceptor.join()
        for worker in workers:
            worker.join(5)
        listener.close()


def test_a_tls_handshake_that_drips_forever_is_cut_at_the_deadline() -> None:
    def endless_handshake(connection: socket.socket, stop: threading.Event) -> None:
        connection.recv(4096)  # the ClientHello
        connection.sendall(b"\x16\x03\x03\x40\x00")  # a handshake record header announcing 16 KiB ...
        while not stop.wait(0.3):  # ... whose bytes then arrive one at a time
            connection.sendall(b"\x00")

    # Bounded twice: CPython applies the socket timeout min(remaining, connect) to the whole handshake,
    # and the watchdog shuts the socket down at the deadline.
    with raw_tcp_server(endless_handshake) as port, make_fetcher(timeout_s=1.5) as fetcher:
        result, elapsed = timed_fetch(fetcher, f"https://127.0.0.1:{port}/feed")
    assert_error(result, DeadlineExceededError, "deadline")
    assert elapsed <= 2.5
    assert "TLS handshake" in str(result.error)


def test_a_hanging_dns_lookup_is_abandoned_at_the_deadline(feed_server: FeedServer) -> None:
    release = threading.Event()

    def hanging_getaddrinfo(*_: Any) -> list[tuple[Any, ...]]:
        release.wait(10)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    with make_fetcher(timeout_s=1) as fetcher:
        fetcher._getaddrinfo = hanging_getaddrinfo
        try:
            result, elapsed = timed_fetch(fetcher, "http://feeds.example/rss")
        finally:
            release.set()
    assert_error(result, DeadlineExceededError, "deadline")
    assert elapsed <= 2
    assert "resolving feeds.example" in str(result.error)


def test_dns_failure_is_a_connection_error_naming_the_host() -> None:
    with make_fetcher(timeout_s=2) as fetcher:
        fetcher._getaddrinfo = table_resolver({})
        result = fetcher.fetch("http://feeds.example/rss")
    assert_error(result, ConnectionFailedError, "connection")
    assert "cannot resolve feeds.example" in str(result.error)


def test_environment_proxies_are_ignored(feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with FeedServer() as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, proxy.base_url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        with make_fetcher(timeout_s=3) as fetcher:
            result = fetcher.fetch(feed_server.route("/feed", FEED))
        assert (result.outcome, result.body) == (FetchOutcome.OK, FEED)
        assert proxy.connections_accepted == 0


# --- the address policy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_default_policy_refuses_loopback_before_connecting(feed_server: FeedServer, host: str) -> None:
    url = feed_server.route("/feed", FEED).replace("127.0.0.1", host)
    with Fetcher(FetchLimits(timeout_s=2)) as fetcher:
        result = fetcher.fetch(url)
    assert_error(result, BlockedAddressError, "blocked_address")
    assert host in str(result.error) and "127.0.0.1 (loopback)" in str(result.error)
    assert feed_server.connections_accepted == 0 and feed_server.requests == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_allow_private_networks_allows_loopback(feed_server: FeedServer, host: str) -> None:
    url = feed_server.route("/feed", FEED).replace("127.0.0.1", host)
    with Fetcher(FetchLimits(timeout_s=2, allow_private_networks=True)) as fetcher:
        result = fetcher.fetch(url)
    assert (result.outcome, result.body) == (FetchOutcome.OK, FEED)


@pytest.mark.parametrize(
    ("second_hop_allowed", "outcome"), [(False, FetchOutcome.ERROR), (True, FetchOutcome.OK)]
)
def test_the_policy_is_checked_again_on_every_redirect_hop(
    feed_server: FeedServer, second_hop_allowed: bool, outcome: FetchOutcome
) -> None:
    allowed = {LOCAL} | ({ipaddress.ip_address("127.0.0.2")} if second_hop_allowed else set())
    with FeedServer(host="127.0.0.2") as inner:
        target = inner.route("/feed", FEED)
        url = feed_server.route_handler("/start", redirect(target, 302))
        with make_fetcher(policy=lambda ip: ip in allowed, timeout_s=3) as fetcher:
            result = fetcher.fetch(url)
        assert result.outcome is outcome
        assert feed_server.hits["/start"] == 1
        if second_hop_allowed:  # the control: the same redirect does work when the policy permits it
            assert (result.body, result.final_url) == (FEED, target)
        else:
            assert_error(result, BlockedAddressError, "blocked_address")
            assert "127.0.0.2" in str(result.error)
            assert result.final_url == target
            assert inner.connections_accepted == 0


@pytest.mark.parametrize("filtered", [True, False])
def test_refused_addresses_are_dropped_and_an_allowed_one_is_used(filtered: bool) -> None:
    # Two servers on the same port: 127.0.0.2 (listed first by the resolver) and 127.0.0.1.
    with FeedServer() as allowed, FeedServer(host="127.0.0.2", port=allowed.port) as refused:
        allowed.route("/feed", b"from 127.0.0.1")
        refused.route("/feed", b"from 127.0.0.2")
        policy = only_127_0_0_1 if filtered else None
        with make_fetcher(policy=policy, timeout_s=3, allow_private_networks=not filtered) as fetcher:
            fetcher._getaddrinfo = table_resolver({"feeds.test": ["127.0.0.2", "127.0.0.1"]})
            result = fetcher.fetch(f"http://feeds.test:{allowed.port}/feed")
        expected, other = (allowed, refused) if filtered else (refused, allowed)
        assert result.body == (b"from 127.0.0.1" if filtered else b"from 127.0.0.2")
        assert expected.requests[0].headers["host"] == f"feeds.test:{allowed.port}"  # host name kept
        assert other.connections_accepted == 0


def test_a_host_with_only_refused_addresses_names_them_all() -> None:
    with Fetcher(FetchLimits(timeout_s=2)) as fetcher:
        fetcher._getaddrinfo = table_resolver({"intranet.test": ["10.0.0.7", "169.254.169.254", "fd00::1"]})
        result = fetcher.fetch("http://intranet.test/feed")
    assert_error(result, BlockedAddressError, "blocked_address")
    message = str(result.error)
    assert "intranet.test" in message
    assert "10.0.0.7 (private)" in message and "169.254.169.254 (link-local)" in message
    assert "fd00::1 (unique-local)" in message
    assert result.error.hint and "allow_private_networks" in result.error.hint


REFUSED = [
    "127.0.0.1",
    "127.255.0.9",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "255.255.255.255",
    "224.0.0.251",
    "239.255.255.250",
    "192.0.2.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "240.0.0.1",
    "192.0.0.9",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "ff0e::1",
    "2001:db8::1",
    "100::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "::8.8.8.8",
    "64:ff9b::7f00:1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::8.8.8.8",
    "2002:7f00:1::1",
    "2002:a00:1::1",
    "2001::1",
]
ALLOWED = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "151.101.1.69",
    "100.63.255.255",
    "100.128.0.1",
    "172.32.0.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize("address", REFUSED)
def test_is_public_address_refuses(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is False


@pytest.mark.parametrize("address", ALLOWED)
def test_is_public_address_allows(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is True


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_ipv6_wrappings_of_an_ipv4_address_get_its_verdict(value: int) -> None:
    v4 = ipaddress.IPv4Address(value)
    verdict = is_public_address(v4)
    mapped = ipaddress.IPv6Address((0xFFFF << 32) | value)
    nat64 = ipaddress.IPv6Address((0x64FF9B << 96) | value)
    six_to_four = ipaddress.IPv6Address((0x2002 << 112) | (value << 80) | 1)
    assert is_public_address(mapped) is is_public_address(nat64) is is_public_address(six_to_four) is verdict
    if verdict:
        assert v4.is_global and not (v4.is_private or v4.is_loopback or v4.is_link_local or v4.is_multicast)


# --- redirects ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "permanent"),
    [((301, 308), True), ((301,), True), ((301, 302), False), ((307, 308), False), ((303,), False)],
)
def test_permanent_url_only_when_every_hop_was_permanent(
    feed_server: FeedServer, fetcher: Fetcher, statuses: tuple[int, ...], permanent: bool
) -> None:
    final = feed_server.route("/final", FEED)
    for index, status in enumerate(statuses):
        target = "/final" if index == len(statuses) - 1 else f"/r{index + 1}"
        feed_server.route_handler(f"/r{index}", redirect(target, status))
    result = fetcher.fetch(feed_server.url("/r0"))
    assert (result.outcome, result.body, result.final_url) == (FetchOutcome.OK, FEED, final)
    assert result.permanent_url == (final if permanent else None)


def test_relative_locations_are_resolved(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.route_handler("/a/b/start", redirect("../next?x=1", 302))
    feed_server.route_handler("/a/next", redirect(f"//127.0.0.1:{feed_server.port}/final.xml#frag", 302))
    feed_server.route("/final.xml", FEED)
    result = fetcher.fetch(feed_server.url("/a/b/start"))
    assert (result.outcome, result.final_url) == (FetchOutcome.OK, feed_server.url("/final.xml"))
    assert [request.path for request in feed_server.requests] == ["/a/b/start", "/a/next?x=1", "/final.xml"]


@pytest.mark.parametrize(("hops", "ok"), [(5, True), (6, False)])
def test_at_most_max_redirects_are_followed(feed_server: FeedServer, hops: int, ok: bool) -> None:
    for hop in range(hops):
        feed_server.route_handler(f"/r{hop}", redirect(f"/r{hop + 1}", 302))
    feed_server.route(f"/r{hops}", FEED)
    with make_fetcher(timeout_s=5, max_redirects=5) as fetcher:
        result = fetcher.fetch(feed_server.url("/r0"))
    if ok:
        assert (result.outcome, result.body) == (FetchOutcome.OK, FEED)
    else:
        assert_error(result, RedirectError, "bad_redirect")
        assert "more than 5 redirects" in str(result.error)
        assert feed_server.hits[f"/r{hops}"] == 0


def test_a_redirect_loop_ends_as_too_many_redirects(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.route_handler("/a", redirect("/b", 302))
    feed_server.route_handler("/b", redirect("/a", 302))
    result = fetcher.fetch(feed_server.url("/a"))
    assert_error(result, RedirectError, "bad_redirect")
    assert feed_server.hits["/a"] + feed_server.hits["/b"] == 6


@pytest.mark.parametrize(
    "target",
    [
        "file:///etc/passwd",
        "ftp://example.com/feed.xml",
        "data:text/xml,<rss/>",
        "gopher://example.com/1",
        "javascript:alert(1)",
        "ws://example.com/feed",
    ],
)
def test_redirects_to_other_schemes_are_refused(
    feed_server: FeedServer, fetcher: Fetcher, target: str
) -> None:
    result = fetcher.fetch(feed_server.route_handler("/feed", redirect(target, 301)))
    assert_error(result, RedirectError, "bad_redirect")
    scheme = target.split(":", 1)[0]
    assert f"redirect to {scheme}:" in str(result.error) and "only http and https" in str(result.error)


def test_a_redirect_without_location_is_an_error(feed_server: FeedServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch(feed_server.route("/feed", status=302))
    assert_error(result, RedirectError, "bad_redirect")
    assert "without a Location" in str(result.error)


def test_a_300_is_not_followed(feed_server: FeedServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch(feed_server.route("/feed", status=300, headers={"Location": "/other"}))
    assert_error(result, RedirectError, "bad_redirect")
    assert feed_server.hits["/other"] == 0


def test_validators_are_sent_on_every_hop(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.route_handler("/old", redirect("/feed", 301))
    feed_server.route("/feed", FEED, etag='"v3"')
    result = fetcher.fetch(
        feed_server.url("/old"), etag='"v3"', last_modified="Mon, 13 Jul 2026 10:00:00 GMT"
    )
    assert result.outcome is FetchOutcome.NOT_MODIFIED
    assert (result.final_url, result.permanent_url) == (feed_server.url("/feed"),) * 2
    assert all(request.headers.get("if-none-match") == '"v3"' for request in feed_server.requests)
    assert len(feed_server.requests) == 2


def test_cookies_set_on_a_redirect_are_sent_on_later_hops_of_that_fetch_only(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.route_handler("/consent", redirect("/feed", 302, headers=[("Set-Cookie", "ok=yes; Path=/")]))
    feed_server.route("/feed", FEED)
    assert fetcher.fetch(feed_server.url("/consent")).body == FEED
    assert fetcher.fetch(feed_server.url("/feed")).body == FEED
    first, second = feed_server.requests_to("/feed")
    assert first.headers.get("cookie") == "ok=yes"
    assert "cookie" not in second.headers


@pytest.mark.parametrize(
    "url", ["ftp://example.com/feed", "feeds.example.com/rss", "http:///no-host", "http://h:x/"]
)
def test_a_bad_feed_url_is_an_error_result(fetcher: Fetcher, url: str) -> None:
    result = fetcher.fetch(url)
    assert_error(result, Exception, "bad_url")
    assert result.requested_url == url


# --- body size ------------------------------------------------------------------------------------------


def test_a_content_length_over_the_cap_fails_before_reading(feed_server: FeedServer) -> None:
    url = feed_server.route_handler("/feed", drip_body(interval=0.5, content_length=2 * MiB))
    with make_fetcher(timeout_s=5, max_bytes=MiB) as fetcher:
        result, elapsed = timed_fetch(fetcher, url)
    assert_error(result, BodyTooLargeError, "too_large")
    assert elapsed < 1  # the dripping body was never waited for
    assert "exceeds 1 MiB" in str(result.error) and "Content-Length" in str(result.error)


@pytest.mark.parametrize("framing", ["close", "chunked"])
def test_an_identity_body_over_the_cap_without_a_length_fails(feed_server: FeedServer, framing: str) -> None:
    body = b"x" * (MiB + 10)

    def handler(exchange: Exchange) -> None:
        if framing == "close":
            exchange.send_head(200, [("Connection", "close")])
            exchange.send(body)
        else:
            send_encoded(body, "identity", chunked=True)(exchange)

    url = feed_server.route_handler("/feed", handler)
    with make_fetcher(timeout_s=5, max_bytes=MiB) as fetcher:
        result = fetcher.fetch(url)
    assert_error(result, BodyTooLargeError, "too_large")
    assert str(result.error) == "body exceeds 1 MiB"
    assert result.bytes_read <= MiB


@pytest.mark.parametrize("coding", ["identity", "gzip", "deflate"])
@pytest.mark.parametrize(("size", "fits"), [(64 * 1024, True), (64 * 1024 + 1, False)])
def test_the_cap_is_on_decoded_bytes_exactly(
    feed_server: FeedServer, coding: str, size: int, fits: bool
) -> None:
    body = b"a" * size
    encoded = {"identity": body, "gzip": gzip.compress(body), "deflate": zlib.compress(body)}[coding]
    url = feed_server.route_handler("/feed", send_encoded(encoded, coding))
    with make_fetcher(timeout_s=5, max_bytes=64 * 1024) as fetcher:
        result = fetcher.fetch(url)
    if fits:
        assert (result.outcome, result.body) == (FetchOutcome.OK, body)
    else:
        assert_error(result, BodyTooLargeError, "too_large")


class PeakRss:
    """Samples this process's resident memory in a thread; ``growth`` is the peak over the start."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._stop = threading.Event()
        self.baseline = self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def test_a_gzip_bomb_stops_at_the_cap_quickly_and_without_expanding_in_memory(
    feed_server: FeedServer,
) -> None:
    assert 1_000_000 <= gzip_bomb_size(1024**3) <= 5_000_000  # ~1 MB on the wire, 1 GiB inflated
    url = feed_server.route_handler("/bomb", gzip_bomb(1024**3))
    with make_fetcher(timeout_s=10) as fetcher:
        gc.collect()
        with PeakRss() as rss:
            result, elapsed = timed_fetch(fetcher, url)
    assert_error(result, BodyTooLargeError, "too_large")
    assert str(result.error) == "body exceeds 10 MiB after decompression"
    assert elapsed < 3
    assert result.bytes_read <= 10 * MiB
    assert rss.growth < 60 * MiB, f"RSS grew by {rss.growth / MiB:.1f} MiB"


# --- truncation -----------------------------------------------------------------------------------------


def test_a_body_shorter_than_its_content_length_is_truncated(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    result = fetcher.fetch(feed_server.route_handler("/feed", truncated(declared=1000, sent=400)))
    assert_error(result, TruncatedBodyError, "truncated")
    assert "400 of 1000 bytes" in str(result.error)


def test_a_gzip_stream_cut_in_the_middle_is_truncated(feed_server: FeedServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch(feed_server.route_handler("/feed", cut_gzip(BIG_FEED, keep=0.5)))
    assert_error(result, TruncatedBodyError, "truncated")
    assert "gzip stream ends before its end marker" in str(result.error)


def test_a_chunked_body_without_its_last_chunk_is_truncated(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    def unfinished_chunks(exchange: Exchange) -> None:
        exchange.send_head(200, [("Transfer-Encoding", "chunked")])
        exchange.send(b"a\r\n0123456789\r\n")

    result = fetcher.fetch(feed_server.route_handler("/feed", unfinished_chunks))
    assert_error(result, TruncatedBodyError, "truncated")
    assert "after 10 bytes" in str(result.error)


# --- statuses and connection failures ------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 403, 404, 410, 500, 502])
def test_error_statuses_become_http_status_errors(
    feed_server: FeedServer, fetcher: Fetcher, status: int
) -> None:
    result = fetcher.fetch(feed_server.route("/feed", b"<html>error page</html>", status=status))
    assert_error(result, HTTPStatusError, f"http_{status}")
    assert result.status == status and result.error.status == status
    assert str(result.error).startswith(f"HTTP {status} ")
    assert result.retry_after is None


def test_an_error_body_is_not_waited_for(feed_server: FeedServer) -> None:
    url = feed_server.route_handler("/feed", drip_body(status=500, interval=0.5))
    with make_fetcher(timeout_s=5) as fetcher:
        result, elapsed = timed_fetch(fetcher, url)
    assert_error(result, HTTPStatusError, "http_500")
    assert elapsed < 1


def test_429_retry_after_seconds(feed_server: FeedServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch(feed_server.route("/feed", status=429, headers={"Retry-After": "120"}))
    assert_error(result, HTTPStatusError, "http_429")
    assert result.retry_after == 120.0 == result.error.retry_after
    assert "retry after 120 s" in str(result.error)


def test_503_retry_after_http_date(feed_server: FeedServer, fetcher: Fetcher) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    result = fetcher.fetch(feed_server.route("/feed", status=503, headers={"Retry-After": when}))
    assert_error(result, HTTPStatusError, "http_503")
    assert result.retry_after is not None and 85 <= result.retry_after <= 90


def test_retry_after_is_ignored_on_other_statuses(feed_server: FeedServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch(feed_server.route("/feed", status=500, headers={"Retry-After": "120"}))
    assert result.retry_after is None


def test_206_is_not_a_feed(feed_server: FeedServer, fetcher: Fetcher) -> None:
    assert_error(fetcher.fetch(feed_server.route("/feed", FEED, status=206)), HTTPStatusError, "http_206")


def test_connection_refused(fetcher: Fetcher) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    result = fetcher.fetch(f"http://127.0.0.1:{port}/feed")
    assert_error(result, ConnectionFailedError, "connection")
    assert "refused" in str(result.error).lower() and f"port {port}" in str(result.error)


def test_connection_reset(feed_server: FeedServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch(feed_server.route_handler("/feed", reset()))
    assert_error(result, ConnectionFailedError, "connection")
    assert "reset" in str(result.error).lower()


def test_garbage_instead_of_http(feed_server: FeedServer, fetcher: Fetcher) -> None:
    def garbage(exchange: Exchange) -> None:
        exchange.send(b"SSH-2.0-OpenSSH_9.6\r\n")

    result = fetcher.fetch(feed_server.route_handler("/feed", garbage))
    assert_error(result, ConnectionFailedError, "connection")


def test_https_to_a_plain_http_server_is_a_tls_error(feed_server: FeedServer, fetcher: Fetcher) -> None:
    url = feed_server.route("/feed", FEED).replace("http://", "https://")
    result = fetcher.fetch(url)
    assert_error(result, ConnectionFailedError, "connection")
    assert "TLS" in str(result.error)


# --- TLS with a real certificate ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A throw-away CA and a certificate it signed for "localhost": (ca.pem, server.pem, server.key)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    steps = [
        [
            "req",
            "-x509",
            *ec,
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
        ["req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
        [
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    ]
    (folder / "server.ext").write_text(
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
        "extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid,issuer\nsubjectKeyIdentifier=hash\n"
    )
    for step in steps:
        subprocess.run(["openssl", *step], cwd=folder, check=True, capture_output=True, timeout=30)
    return folder / "ca.pem", folder / "server.pem", folder / "server.key"


@pytest.fixture
def tls_server(tls_files: tuple[Path, Path, Path]) -> Iterator[FeedServer]:
    _, certificate, key = tls_files
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    with FeedServer(ssl_context=context) as server:
        yield server


@pytest.mark.parametrize(("host", "ok"), [("localhost", True), ("127.0.0.1", False)])
def test_https_checks_the_certificate_against_the_host_name_not_the_address(
    tls_server: FeedServer, tls_files: tuple[Path, Path, Path], host: str, ok: bool
) -> None:
    tls_server.route("/feed", FEED)
    with make_fetcher(timeout_s=5) as fetcher:  # connects to 127.0.0.1 either way (::1 is refused)
        fetcher._session.verify = str(tls_files[0])
        result = fetcher.fetch(tls_server.url("/feed", host=host))
    if ok:
        assert (result.outcome, result.body) == (FetchOutcome.OK, FEED)
    else:  # the certificate names localhost only
        assert_error(result, ConnectionFailedError, "connection")
        assert "TLS" in str(result.error) and "127.0.0.1" in str(result.error)


def test_https_with_an_unknown_ca_is_refused(tls_server: FeedServer) -> None:
    tls_server.route("/feed", FEED)
    with make_fetcher(timeout_s=5) as fetcher:
        result = fetcher.fetch(tls_server.url("/feed", host="localhost"))
    assert_error(result, ConnectionFailedError, "connection")
    assert "certificate verify failed" in str(result.error)


# --- threads, connections and resources -----------------------------------------------------------------


def test_one_fetcher_serves_many_threads_at_once(feed_server: FeedServer) -> None:
    urls = {feed_server.route(f"/feed{n}", b"feed %d" % n): b"feed %d" % n for n in range(24)}
    slow = [feed_server.route_handler(f"/slow{n}", drip_body(interval=0.3)) for n in range(4)]
    with make_fetcher(timeout_s=2) as fetcher, ThreadPoolExecutor(max_workers=8) as pool:
        started = time.monotonic()
        results = dict(zip([*urls, *slow], pool.map(fetcher.fetch, [*urls, *slow]), strict=True))
        elapsed = time.monotonic() - started
    for url, body in urls.items():
        assert (results[url].outcome, results[url].body, results[url].final_url) == (
            FetchOutcome.OK,
            body,
            url,
        )
    for url in slow:
        assert_error(results[url], DeadlineExceededError, "deadline")
    assert elapsed < 4  # the four 2-second deadlines ran side by side


def test_connections_are_reused_and_a_cut_off_one_is_not(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", FEED)
    feed_server.route_handler("/slow", drip_body(interval=0.2))
    with make_fetcher(timeout_s=1) as fetcher:
        assert fetcher.fetch(url).body == FEED
        assert fetcher.fetch(url).body == FEED
        assert feed_server.connections_accepted == 1  # keep-alive: the second fetch reused the socket
        assert fetcher.fetch(feed_server.url("/slow")).error.reason == "deadline"  # on the same socket
        assert feed_server.connections_accepted == 1
        assert fetcher.fetch(url).body == FEED
    assert feed_server.connections_accepted == 2  # the socket cut at the deadline was not pooled again


def test_no_leaked_sockets_threads_or_resource_warnings() -> None:
    process = psutil.Process()
    with FeedServer() as server:
        routes = [
            server.route("/ok", FEED),
            server.route("/gz", FEED, gzip=True),
            server.route("/missing", status=404),
            server.route_handler("/redirect", redirect("/ok", 301)),
            server.route_handler("/drip", drip_body(interval=0.2)),
            server.route_handler("/silent", silent()),
            server.route_handler("/truncated", truncated()),
            server.route_handler("/reset", reset()),
            server.route_handler("/bomb", gzip_bomb(64 * MiB)),
        ]
        gc.collect()
        fds_before = process.num_fds()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with make_fetcher(timeout_s=0.5, max_bytes=MiB) as fetcher:
                for url in routes * 2:  # twice: pooled connections are reused and retired too
                    fetcher.fetch(url)
                fetcher.fetch(f"https://127.0.0.1:{server.port}/tls-to-plain-http")
            gc.collect()
        leftover = process.num_fds() - fds_before
        for _ in range(100):  # the server closes its ends as its handler threads notice
            if leftover <= 0:
                break
            time.sleep(0.02)
            leftover = process.num_fds() - fds_before
    assert leftover <= 0
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    alive = {thread.name for thread in threading.enumerate()}
    assert "fetch-watchdog" not in alive


def test_a_closed_fetcher_refuses_to_fetch(feed_server: FeedServer) -> None:
    fetcher = Fetcher(FetchLimits())
    fetcher.close()
    with pytest.raises(RuntimeError, match="closed"):
        fetcher.fetch(feed_server.url("/feed"))


# --- Retry-After parsing --------------------------------------------------------------------------------

NOW = datetime(2026, 7, 13, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("Mon, 13 Jul 2026 12:01:30 GMT", 90.0),  # IMF-fixdate
        ("Monday, 13-Jul-26 12:00:10 GMT", 10.0),  # RFC 850
        ("Mon Jul 13 12:00:05 2026", 5.0),  # asctime, no zone: UTC
        ("Mon, 13 Jul 2026 11:00:00 GMT", 0.0),  # in the past: now
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("١٢", None),
        ("Mon, 99 Foo 2026 25:00:00 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_parse_retry_after_with_a_naive_now_takes_it_as_utc() -> None:
    assert parse_retry_after("Mon, 13 Jul 2026 12:00:30 GMT", NOW.replace(tzinfo=None)) == 30.0
