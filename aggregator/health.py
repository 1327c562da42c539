"""Health and metrics for the daemon: Prometheus metrics and a small HTTP listener for /healthz and /metrics.

:class:`Metrics` keeps its own registry (never prometheus_client's global one, so that two daemons in one
process — the tests — do not collide). The daemon feeds it:

- ``observe_poll(report)`` after each poll: fetches by outcome, fetch errors by reason, fetch latency, items
  new / updated / relevant, alerts queued, each good feed's last success;
- ``observe_delivery(report, seconds)`` after each delivery round that attempted something;
- ``refresh(store)`` from its heartbeat: the gauges read from the database (events by type and status,
  alerts by status, queue depth, feeds by status, each feed's last success). They are swapped in as one
  snapshot, so a scrape never sees half of an update; ``aggregator_store_refreshed_timestamp_seconds`` says
  how old the snapshot is (it stops moving while the database is unavailable).

:class:`HealthServer` serves ``GET /healthz`` (200 ``ok``, or 503 with the reason the daemon's check gives)
and ``GET /metrics`` (Prometheus text format) from a daemon thread, bound only to the address it is given.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .logs import redact
from .models import FeedStatus

if TYPE_CHECKING:
    from .deliver import DeliveryReport
    from .pipeline import PollReport
    from .store import Store

log = logging.getLogger(__name__)

# Fetches end between a few milliseconds (a 304 on the LAN) and fetch_timeout (30 s by default; 60 s is
# the largest anyone should configure).
FETCH_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
# A delivery round sends up to a few hundred alerts, each bounded by the send timeout (20 s).
DELIVERY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
FETCH_OUTCOMES = ("ok", "not_modified", "unchanged", "error")
ALERT_STATUSES = ("pending", "failed", "sent", "dead")
QUEUED_STATUSES = ("pending", "failed")  # not sent yet and not given up on
# Events tracked are counted from Store.list_events, which returns whole rows: bounded so that a very old
# database cannot make a heartbeat slow. Years of talks make a few thousand events.
EVENTS_COUNTED_MAX = 100_000


@dataclass(frozen=True, slots=True)
class _StoreSnapshot:
    """What refresh() read from the database, swapped in whole."""

    refreshed_at: float | None = None
    events: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (type, status) -> count
    alerts: Mapping[str, int] = field(default_factory=dict)  # outbox status -> count
    feeds: Mapping[str, int] = field(default_factory=dict)  # feed status -> count


class _StoreCollector(Collector):
    """Gauges computed at scrape time from the latest snapshot and the feeds' last successes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot = _StoreSnapshot()
        self._last_success: dict[str, float] = {}

    def replace(self, snapshot: _StoreSnapshot, last_success: Mapping[str, float]) -> None:
        with self._lock:
            self._snapshot = snapshot
            self._last_success = dict(last_success)

    def feed_succeeded(self, name: str, at: float) -> None:
        with self._lock:
            self._last_success[name] = max(at, self._last_success.get(name, 0.0))

    def describe(self) -> Iterable[Metric]:
        return list(self._families(_StoreSnapshot(), {}))

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            snapshot, last_success = self._snapshot, dict(self._last_success)
        return list(self._families(snapshot, last_success))

    @staticmethod
    def _families(snapshot: _StoreSnapshot, last_success: Mapping[str, float]) -> Iterator[Metric]:
        events = GaugeMetricFamily(
            "aggregator_events", "Tracked events by type and status", labels=("type", "status")
        )
        for (event_type, status), count in sorted(snapshot.events.items()):
            events.add_metric((event_type, status), count)
        yield events
        alerts = GaugeMetricFamily("aggregator_alerts", "Outbox rows by status", labels=("status",))
        if snapshot.refreshed_at is not None:
            for status in sorted(set(ALERT_STATUSES) | set(snapshot.alerts)):
                alerts.add_metric((status,), snapshot.alerts.get(status, 0))
        yield alerts
        depth = GaugeMetricFamily(
            "aggregator_outbox_queue_depth", "Alerts waiting to be sent (pending or failed and retrying)"
        )
        if snapshot.refreshed_at is not None:
            depth.add_metric((), sum(snapshot.alerts.get(status, 0) for status in QUEUED_STATUSES))
        yield depth
        feeds = GaugeMetricFamily("aggregator_feeds", "Feeds by state", labels=("status",))
        if snapshot.refreshed_at is not None:
            for status in sorted({s.value for s in FeedStatus} | set(snapshot.feeds)):
                feeds.add_metric((status,), snapshot.feeds.get(status, 0))
        yield feeds
        success = GaugeMetricFamily(
            "aggregator_feed_last_success_timestamp_seconds",
            "When each feed was last fetched successfully (Unix time)",
            labels=("feed",),
        )
        for name, at in sorted(last_success.items()):
            success.add_metric((name,), at)
        yield success
        refreshed = GaugeMetricFamily(
            "aggregator_store_refreshed_timestamp_seconds",
            "When the database-backed gauges were last read (Unix time)",
        )
        if snapshot.refreshed_at is not None:
            refreshed.add_metric((), snapshot.refreshed_at)
        yield refreshed


class Metrics:
    """The daemon's metrics, in a registry of their own (``self.registry``)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.fetches = Counter("aggregator_fetches", "Feed fetches by outcome", ("outcome",), registry=r)
        self.fetch_errors = Counter(
            "aggregator_fetch_errors", "Failed fetches by reason code", ("reason",), registry=r
        )
        self.items_new = Counter("aggregator_items_new", "Items stored for the first time", registry=r)
        self.items_updated = Counter(
            "aggregator_items_updated", "Stored items whose content changed", registry=r
        )
        self.items_relevant = Counter(
            "aggregator_items_relevant", "New items the classifier found relevant", registry=r
        )
        self.alerts_queued = Counter("aggregator_alerts_queued", "Alerts written to the outbox", registry=r)
        self.polls = Counter("aggregator_polls", "Poll rounds run (most find nothing due)", registry=r)
        self.last_poll = Gauge(
            "aggregator_last_poll_timestamp_seconds",
            "When the last poll round finished (Unix time)",
            registry=r,
        )
        self.fetch_seconds = Histogram(
            "aggregator_fetch_duration_seconds", "Time to fetch one feed", buckets=FETCH_BUCKETS_S, registry=r
        )
        self.deliveries = Counter(
            "aggregator_deliveries", "Delivery attempts by result", ("result",), registry=r
        )
        self.delivery_seconds = Histogram(
            "aggregator_delivery_duration_seconds",
            "Time taken by a delivery round that sent or tried to send something",
            buckets=DELIVERY_BUCKETS_S,
            registry=r,
        )
        for outcome in FETCH_OUTCOMES:  # present from the start, so rate() sees the first one
            self.fetches.labels(outcome)
        for result in ("sent", "retrying", "dead", "skipped"):
            self.deliveries.labels(result)
        self._stored = _StoreCollector()
        r.register(self._stored)

    def observe_poll(self, report: PollReport) -> None:
        now = self.clock()
        for result in report.results:
            self.fetches.labels(result.outcome).inc()
            if result.outcome == "error":
                self.fetch_errors.labels(result.reason or "unknown").inc()
            else:
                self._stored.feed_succeeded(result.name, now)
            self.fetch_seconds.observe(max(0.0, result.duration_s))
        self.items_new.inc(report.new_items)
        self.items_updated.inc(report.updated_items)
        if report.stories is not None:
            self.items_relevant.inc(report.stories.relevant_items)
            self.alerts_queued.inc(report.stories.queued)
        self.polls.inc()
        self.last_poll.set(now)

    def observe_delivery(self, report: DeliveryReport, seconds: float) -> None:
        """Counts every result; the duration only of a round that attempted something (an idle round every
        few seconds would bury the real ones in the histogram)."""
        self.deliveries.labels("sent").inc(report.sent)
        self.deliveries.labels("retrying").inc(report.retrying)
        self.deliveries.labels("dead").inc(report.dead)
        self.deliveries.labels("skipped").inc(report.skipped)
        if report.attempted:
            self.delivery_seconds.observe(max(0.0, seconds))

    def refresh(self, store: Store) -> None:
        """Re-read the database-backed gauges (three reads). Raises StoreError if the database does not
        answer; the previous snapshot stays, and its timestamp shows its age."""
        alerts = store.outbox_counts()
        events: dict[tuple[str, str], int] = {}
        for event in store.list_events(limit=EVENTS_COUNTED_MAX):
            events[event.type, event.status] = events.get((event.type, event.status), 0) + 1
        feeds: dict[str, int] = {}
        last_success: dict[str, float] = {}
        for state in store.feed_states():
            feeds[str(state.status)] = feeds.get(str(state.status), 0) + 1
            if state.last_success_at is not None and state.status != FeedStatus.DISABLED:
                last_success[state.name] = state.last_success_at.timestamp()
        snapshot = _StoreSnapshot(refreshed_at=self.clock(), events=events, alerts=alerts, feeds=feeds)
        self._stored.replace(snapshot, last_success)

    def exposition(self) -> bytes:
        """The metrics in Prometheus text format."""
        return generate_latest(self.registry)


# --- the HTTP listener ------------------------------------------------------------------------------

HealthCheck = Callable[[], str | None]  # None when healthy, else why not


def parse_address(address: str) -> tuple[str, int]:
    """``"127.0.0.1:8089"``, ``"[::1]:8089"`` or ``"localhost:8089"`` → (host, port). A host is required:
    the listener binds where it is told, never to every interface by omission."""
    host, colon, port_text = address.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"{address!r} is not an address to listen on (write host:port, e.g. 127.0.0.1:8089)")
    return host, int(port_text)


class HealthServer:
    """``GET /healthz`` and ``GET /metrics`` on ``address``, from a daemon thread; anything else is 404 (an
    unknown path) or 405 (another method)."""

    def __init__(self, address: str, check: HealthCheck, metrics: Metrics) -> None:
        self.host, self.port = parse_address(address)
        self.check = check
        self.metrics = metrics
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind now (an address in use raises OSError here, in the caller) and serve from a thread."""
        if self._server is not None:
            raise RuntimeError("the health server is already running")
        family = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)[0][0]
        server = _Server((self.host, self.port), family, self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="health-server", daemon=True
        )
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the real port when it was given port 0)."""
        if self._server is None:
            return self.host, self.port
        bound = self._server.socket.getsockname()
        return str(bound[0]), int(bound[1])

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def close(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=2.0)

    def __enter__(self) -> HealthServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def health(self) -> tuple[int, str]:
        try:
            problem = self.check()
        except Exception as error:  # a broken check is itself a health problem, not a crashed listener
            log.warning("health check failed", exc_info=True)
            problem = f"health check failed: {type(error).__name__}: {error}"
        return (200, "ok") if problem is None else (503, redact(problem))


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a client that stalls mid-request must not hold up close()

    def __init__(self, address: tuple[str, int], family: int, owner: HealthServer) -> None:
        self.address_family = family
        self.owner = owner
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN (reverse DNS, which can hang): not needed here.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "aggregator"
    sys_version = ""
    protocol_version = "HTTP/1.0"  # one request per connection: nothing to keep alive for
    timeout = 10.0  # a client that opens a connection and sends nothing is dropped

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/healthz":
            status, reason = self.server.owner.health()
            self._reply(status, (reason + "\n").encode(), "text/plain; charset=utf-8")
        elif path == "/metrics":
            try:
                body = self.server.owner.metrics.exposition()
            except Exception:
                log.exception("rendering /metrics failed")
                self._reply(500, b"metrics failed\n", "text/plain; charset=utf-8")
                return
            self._reply(200, body, CONTENT_TYPE_LATEST)
        else:
            self._reply(404, b"not found: try /healthz or /metrics\n", "text/plain; charset=utf-8")

    def _refuse(self) -> None:
        self._reply(405, b"method not allowed: GET only\n", "text/plain; charset=utf-8", allow="GET")

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse

    def _reply(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            self.send_header(name.title(), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # The base class writes every request to stderr; scrapes every 15 s are not news.
        log.debug("http %s", format % args)
