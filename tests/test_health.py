"""/healthz and /metrics from a real HTTP listener on 127.0.0.1; metrics fed real reports and a real Store."""

from __future__ import annotations

import base64
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from decisions import record
from prometheus_client.parser import text_string_to_metric_families

from aggregator.config import Config, load_config
from aggregator.deduplicate import Deduplicator
from aggregator.deliver import Deliverer, DeliveryReport
from aggregator.demo.catchers import WebhookCatcher
from aggregator.health import HealthServer, Metrics, parse_address
from aggregator.models import Event, FeedStatus
from aggregator.pipeline import FeedPollResult, PollReport, StoryTally
from aggregator.store import Store

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


class Check:
    """A health check the test can turn: None (healthy), a reason, or an exception."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self.error: Exception | None = None

    def __call__(self) -> str | None:
        if self.error is not None:
            raise self.error
        return self.problem


@pytest.fixture
def check() -> Check:
    return Check()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def server(check: Check, metrics: Metrics) -> Iterator[HealthServer]:
    with HealthServer("127.0.0.1:0", check, metrics) as running:
        yield running


def samples(server: HealthServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """GET /metrics, parsed by prometheus_client's own parser: {(sample name, labels): value}."""
    answer = requests.get(f"{server.url}/metrics", timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=")  # the exposition format
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def test_healthz_is_200_ok_then_503_with_the_reason(server: HealthServer, check: Check) -> None:
    answer = requests.get(f"{server.url}/healthz", timeout=5)
    assert (answer.status_code, answer.text.strip()) == (200, "ok")
    check.problem = "database: database is locked"
    answer = requests.get(f"{server.url}/healthz", timeout=5)
    assert (answer.status_code, answer.text.strip()) == (503, "database: database is locked")
    check.problem = "database: cannot open postgresql://agg:hunter2@db.example/agg"
    answer = requests.get(f"{server.url}/healthz", timeout=5)
    assert answer.status_code == 503 and "hunter2" not in answer.text  # reasons are redacted too
    check.problem, check.error = None, RuntimeError("the check itself broke")
    answer = requests.get(f"{server.url}/healthz?verbose=1", timeout=5)
    assert (answer.status_code, answer.text.strip()) == (
        503,
        "health check failed: RuntimeError: the check itself broke",
    )


def test_only_get_on_the_two_paths(server: HealthServer) -> None:
    assert requests.get(f"{server.url}/", timeout=5).status_code == 404
    assert requests.get(f"{server.url}/metrics/extra", timeout=5).status_code == 404
    for method in ("POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"):
        answer = requests.request(method, f"{server.url}/healthz", timeout=5)
        assert answer.status_code == 405, method
        assert answer.headers["Allow"] == "GET"


def test_metrics_after_a_poll_and_a_delivery(server: HealthServer, metrics: Metrics) -> None:
    before = time.time()
    report = PollReport(
        feeds=4,
        fetched=2,
        not_modified=1,
        unchanged=0,
        errors=1,
        new_items=7,
        updated_items=1,
        other_source=2,
        duration_s=3.2,
        results=(
            FeedPollResult("wire-a", "ok", status=200, new_items=5, entries=9, duration_s=0.3),
            FeedPollResult("daily-b", "ok", status=200, new_items=2, updated_items=1, duration_s=1.5),
            FeedPollResult("kyiv-c", "not_modified", status=304, duration_s=0.04),
            FeedPollResult(
                "gone-d",
                "error",
                status=None,
                error="no response in 30 s",
                reason="deadline",
                duration_s=30.0,
            ),
        ),
        stories=StoryTally(relevant_items=3, new_stories=1, new_events=1, alerts=1, queued=2),
    )
    metrics.observe_poll(report)
    metrics.observe_delivery(DeliveryReport(attempted=3, sent=2, retrying=1), 0.8)
    metrics.observe_delivery(DeliveryReport(), 0.001)  # an idle round: counted as nothing, not timed
    after = time.time()
    found = samples(server)
    assert found["aggregator_fetches_total", (("outcome", "ok"),)] == 2
    assert found["aggregator_fetches_total", (("outcome", "not_modified"),)] == 1
    assert found["aggregator_fetches_total", (("outcome", "error"),)] == 1
    assert found["aggregator_fetches_total", (("outcome", "unchanged"),)] == 0  # present before it happens
    assert found["aggregator_fetch_errors_total", (("reason", "deadline"),)] == 1
    assert found["aggregator_items_new_total", ()] == 7
    assert found["aggregator_items_updated_total", ()] == 1
    assert found["aggregator_items_relevant_total", ()] == 3
    assert found["aggregator_alerts_queued_total", ()] == 2
    assert found["aggregator_polls_total", ()] == 1
    assert before <= found["aggregator_last_poll_timestamp_seconds", ()] <= after
    # latency histograms: four fetches, 0.3 and 0.04 within half a second, the deadline in the 30 s bucket
    assert found["aggregator_fetch_duration_seconds_count", ()] == 4
    assert found["aggregator_fetch_duration_seconds_sum", ()] == pytest.approx(31.84)
    assert found["aggregator_fetch_duration_seconds_bucket", (("le", "0.5"),)] == 2
    assert found["aggregator_fetch_duration_seconds_bucket", (("le", "20.0"),)] == 3
    assert found["aggregator_fetch_duration_seconds_bucket", (("le", "30.0"),)] == 4
    assert found["aggregator_deliveries_total", (("result", "sent"),)] == 2
    assert found["aggregator_deliveries_total", (("result", "retrying"),)] == 1
    assert found["aggregator_delivery_duration_seconds_count", ()] == 1
    assert found["aggregator_delivery_duration_seconds_sum", ()] == pytest.approx(0.8)
    # the feeds that answered have a last success; the failing one has none
    for feed in ("wire-a", "daily-b", "kyiv-c"):
        assert before <= found["aggregator_feed_last_success_timestamp_seconds", (("feed", feed),)] <= after
    assert ("aggregator_feed_last_success_timestamp_seconds", (("feed", "gone-d"),)) not in found
    # the database-backed gauges wait for the first refresh rather than claim an empty outbox
    assert ("aggregator_outbox_queue_depth", ()) not in found

    metrics.observe_poll(report)
    assert samples(server)["aggregator_fetches_total", (("outcome", "ok"),)] == 4  # counters add up


def write_config(tmp_path: Path, url: str) -> Config:
    path = tmp_path / "feeds.toml"
    path.write_text(
        '[settings]\ndatabase = "sqlite:///agg.db"\nallow_private_networks = true\n'
        '[[feeds]]\nname = "wire-a"\nurl = "https://wire-a.example/rss"\n'
        '[[feeds]]\nname = "daily-b"\nurl = "https://daily-b.example/rss"\n'
        '[[channels]]\nname = "hook"\ntype = "webhook"\nurl_env = "HOOK_URL"\nsecret_env = "HOOK_SECRET"\n',
        encoding="utf-8",
    )
    secret = "whsec_" + base64.b64encode(b"thirty-two bytes of test secret!").decode()
    return load_config(path, env={"HOOK_URL": url, "HOOK_SECRET": secret})


ROUND = (
    "wire-a",
    "Russia and Ukraine to hold third round of talks in Istanbul on Wednesday",
    "Delegations from Russia and Ukraine will meet in Istanbul on Wednesday for a third round of direct "
    "talks.",
)
SWAP = (
    "daily-b",
    "Russia and Ukraine swap 150 prisoners of war each in UAE-brokered exchange",
    "Russia and Ukraine exchanged 150 prisoners of war each on Saturday in a swap mediated by the United "
    "Arab Emirates, both sides said.",
)


def test_refresh_reads_events_alerts_queue_and_feeds_from_a_real_store(
    tmp_path: Path, server: HealthServer, metrics: Metrics
) -> None:
    with WebhookCatcher() as receiver:
        config = write_config(tmp_path, receiver.url)
        with Store.open(config.settings.database) as store, Deliverer(config, store) as deliverer:
            store.sync_feeds([(feed.name, feed.url) for feed in config.feeds], NOW)
            wire = store.feed_state("wire-a")
            assert wire is not None
            store.update_feed(replace(wire, status=FeedStatus.OK, last_success_at=NOW))
            deduplicator = Deduplicator()
            assert record(config, store, deduplicator, [ROUND], now=NOW) == 1
            receiver.script(400)  # the receiver refuses it: dead at once
            started = time.monotonic()
            delivery = deliverer.deliver_due(NOW)
            metrics.observe_delivery(delivery, time.monotonic() - started)
            assert (delivery.attempted, delivery.dead) == (1, 1)
            assert record(config, store, deduplicator, [SWAP], now=NOW) == 1  # waits in the outbox
            events = store.list_events()
            before = time.time()
            metrics.refresh(store)
    found = samples(server)
    event_samples = {labels: value for (name, labels), value in found.items() if name == "aggregator_events"}
    assert event_samples == {
        (("status", events_status(events, "EXCHANGE")), ("type", "EXCHANGE")): 1,
        (("status", events_status(events, "NEW_ROUND")), ("type", "NEW_ROUND")): 1,
    }
    assert found["aggregator_alerts", (("status", "dead"),)] == 1
    assert found["aggregator_alerts", (("status", "pending"),)] == 1
    assert found["aggregator_alerts", (("status", "sent"),)] == 0
    assert found["aggregator_outbox_queue_depth", ()] == 1
    assert found["aggregator_feeds", (("status", "ok"),)] == 1
    assert found["aggregator_feeds", (("status", "new"),)] == 1
    assert found["aggregator_feed_last_success_timestamp_seconds", (("feed", "wire-a"),)] == NOW.timestamp()
    assert ("aggregator_feed_last_success_timestamp_seconds", (("feed", "daily-b"),)) not in found
    assert found["aggregator_store_refreshed_timestamp_seconds", ()] >= before
    assert found["aggregator_deliveries_total", (("result", "dead"),)] == 1


def events_status(events: list[Event], event_type: str) -> str:
    [status] = [event.status for event in events if event.type == event_type]
    return status


def test_a_slow_health_check_blocks_neither_the_caller_nor_the_metrics(metrics: Metrics) -> None:
    release = threading.Event()

    def slow_check() -> str | None:
        release.wait(10)
        return None

    started = time.monotonic()
    server = HealthServer("127.0.0.1:0", slow_check, metrics)
    server.start()
    assert time.monotonic() - started < 1.0  # start() returns at once; serving happens in a thread
    try:
        waiting: list[int] = []
        probe = threading.Thread(
            target=lambda: waiting.append(requests.get(f"{server.url}/healthz", timeout=15).status_code)
        )
        probe.start()
        assert requests.get(f"{server.url}/metrics", timeout=2).status_code == 200
        release.set()
        probe.join(15)
        assert waiting == [200]
    finally:
        release.set()
        server.close()


def test_close_stops_listening_and_frees_the_port(metrics: Metrics) -> None:
    server = HealthServer("127.0.0.1:0", lambda: None, metrics)
    server.start()
    host, port = server.address
    assert host == "127.0.0.1" and port > 0
    assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
    server.close()
    server.close()  # twice is harmless
    with pytest.raises(OSError), socket.create_connection((host, port), timeout=2):
        pass
    again = HealthServer(f"127.0.0.1:{port}", lambda: None, metrics)  # the port can be bound again at once
    again.start()
    again.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="127.0.0.2 reaches loopback on Linux")
def test_it_binds_only_to_the_address_it_is_given(server: HealthServer) -> None:
    _, port = server.address
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", port), timeout=2):
        pass  # another loopback address: refused, so the socket is not bound to every interface


def test_an_address_in_use_fails_in_the_caller(server: HealthServer, metrics: Metrics) -> None:
    _, port = server.address
    with pytest.raises(OSError):
        HealthServer(f"127.0.0.1:{port}", lambda: None, metrics).start()


def test_parse_address() -> None:
    assert parse_address("127.0.0.1:8089") == ("127.0.0.1", 8089)
    assert parse_address("[::1]:9100") == ("::1", 9100)
    assert parse_address("localhost:0") == ("localhost", 0)
    for bad in ("8089", ":8089", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", ""):
        with pytest.raises(ValueError, match="host:port"):
            parse_address(bad)


def test_two_metrics_objects_do_not_share_a_registry() -> None:
    first, second = Metrics(), Metrics()  # the global registry would refuse the second one's names
    first.items_new.inc(3)
    assert second.registry.get_sample_value("aggregator_items_new_total") == 0
    assert first.registry.get_sample_value("aggregator_items_new_total") == 3
