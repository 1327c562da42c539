"""Delivery through the outbox, against a real webhook receiver and a real SQLite file.

Alerts come from real decisions (the classifier and the story stage on texts written here), are written to
the outbox in the decision's transaction, and are sent by the Deliverer over real HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from decisions import record

from aggregator.config import Config, load_config
from aggregator.deduplicate import Deduplicator
from aggregator.deliver import FIRST_RETRY_S, LEASE_S, Deliverer, backoff_s
from aggregator.demo.catchers import WebhookCatcher
from aggregator.store import Store

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"a secret of thirty-two bytes!!!!").decode()
REPORTS = [
    (
        "wire-a",
        "Russia and Ukraine to hold third round of talks in Istanbul on Wednesday",
        "Delegations from Russia and Ukraine will meet in Istanbul on Wednesday for a third round of direct "
        "talks, Turkey's foreign ministry said.",
    ),
    (
        "daily-b",
        "Third round of Russia-Ukraine negotiations set for Istanbul",
        "Turkey will host a third round of negotiations between Russian and Ukrainian delegations in "
        "Istanbul on Wednesday, officials said.",
    ),
]


def write_config(tmp_path: Path, url: str, *, confirm: int = 1, attempts: int = 12) -> Config:
    path = tmp_path / "feeds.toml"
    path.write_text(
        '[settings]\ndatabase = "sqlite:///agg.db"\nallow_private_networks = true\n'
        '[[feeds]]\nname = "wire-a"\nurl = "https://wire-a.example/rss"\n'
        f'[[channels]]\nname = "hook"\ntype = "webhook"\nurl_env = "HOOK_URL"\nsecret_env = "HOOK_SECRET"\n'
        f"confirm = {confirm}\nmax_attempts = {attempts}\n",
        encoding="utf-8",
    )
    return load_config(path, env={"HOOK_URL": url, "HOOK_SECRET": SECRET})


@pytest.fixture
def receiver() -> Iterator[WebhookCatcher]:
    with WebhookCatcher() as running:
        yield running


def verify_signature(headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks, written again here: HMAC-SHA256 over id.timestamp.body with the decoded secret."""
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(part == f"v1,{expected}" for part in headers["webhook-signature"].split())


def test_one_alert_per_decision_signed_and_sent_once(tmp_path: Path, receiver: WebhookCatcher) -> None:
    config = write_config(tmp_path, receiver.url)
    with Store.open(config.settings.database) as store, Deliverer(config, store) as deliverer:
        queued = record(config, store, Deduplicator(), REPORTS, now=NOW)
        assert queued == 1  # two outlets, one development: one alert
        report = deliverer.deliver_due(NOW)
        assert (report.sent, report.dead) == (1, 0)
        assert deliverer.deliver_due(NOW + timedelta(hours=1)).attempted == 0  # nothing sent twice
        [row] = store.list_alerts()
    [post] = receiver.posts
    assert verify_signature(post.headers, post.body)
    assert post.headers["webhook-id"] == row.idempotency_key
    payload = json.loads(post.body)
    assert payload["id"] == row.idempotency_key
    assert row.status == "sent" and row.attempts == 0


def test_a_server_error_is_retried_with_the_same_key(tmp_path: Path, receiver: WebhookCatcher) -> None:
    config = write_config(tmp_path, receiver.url)
    receiver.script(500)
    with (
        Store.open(config.settings.database) as store,
        Deliverer(config, store, rng=random.Random(1)) as deliverer,
    ):
        record(config, store, Deduplicator(), REPORTS, now=NOW)
        first = deliverer.deliver_due(NOW)
        assert (first.sent, first.retrying) == (0, 1)
        [row] = store.list_alerts(status="failed")
        assert row.next_attempt_at >= NOW + timedelta(seconds=FIRST_RETRY_S * 0.8)
        assert deliverer.deliver_due(NOW).attempted == 0  # backing off
        assert deliverer.deliver_due(NOW, ignore_backoff=True).sent == 1
        [row] = store.list_alerts()
    assert row.status == "sent"
    assert [p.headers["webhook-id"] for p in receiver.posts] == [row.idempotency_key] * 2


def test_429_honours_retry_after(tmp_path: Path, receiver: WebhookCatcher) -> None:
    config = write_config(tmp_path, receiver.url)
    receiver.script((429, {"Retry-After": "3600"}))
    with Store.open(config.settings.database) as store, Deliverer(config, store) as deliverer:
        record(config, store, Deduplicator(), REPORTS, now=NOW)
        deliverer.deliver_due(NOW)
        [row] = store.list_alerts()
    assert row.status == "failed" and row.last_status == 429
    assert row.next_attempt_at >= NOW + timedelta(seconds=3600)


def test_400_is_dead_at_once_visible_and_replayable(tmp_path: Path, receiver: WebhookCatcher) -> None:
    config = write_config(tmp_path, receiver.url)
    receiver.script(400)
    with Store.open(config.settings.database) as store, Deliverer(config, store) as deliverer:
        record(config, store, Deduplicator(), REPORTS, now=NOW)
        report = deliverer.deliver_due(NOW)
        assert report.dead == 1 and "HTTP 400" in report.errors[0]
        [dead] = store.list_alerts(status="dead")
        assert dead.attempts == 1 and "HTTP 400" in (dead.last_error or "")
        assert store.retry_alerts(NOW, dead=True) == 1
        assert deliverer.deliver_due(NOW).sent == 1
    assert len(receiver.posts) == 2


def test_a_receiver_that_is_down_loses_nothing(tmp_path: Path) -> None:
    with WebhookCatcher() as gone:
        url = gone.url  # a port nobody listens on once this block ends
    config = write_config(tmp_path, url, attempts=3)
    with Store.open(config.settings.database) as store, Deliverer(config, store) as deliverer:
        record(config, store, Deduplicator(), REPORTS, now=NOW)
        for attempt in range(2):
            report = deliverer.deliver_due(NOW + timedelta(days=attempt))
            assert report.retrying == 1, report
        assert deliverer.deliver_due(NOW + timedelta(days=3)).dead == 1
        [row] = store.list_alerts()
    assert row.status == "dead" and row.attempts == 3
    assert "gave up after 3 attempts" in (row.last_error or "")


def test_confirmation_threshold_waits_for_a_second_outlet(tmp_path: Path, receiver: WebhookCatcher) -> None:
    config = write_config(tmp_path, receiver.url, confirm=2)
    deduplicator = Deduplicator()
    with Store.open(config.settings.database) as store:
        assert record(config, store, deduplicator, REPORTS[:1], now=NOW) == 0  # one outlet: not yet
        assert store.list_alerts() == []
        assert record(config, store, deduplicator, REPORTS[1:], now=NOW) == 1  # the second outlet confirms it
        [row] = store.list_alerts()
    assert row.status == "pending" and row.payload["outlets"] == 2


def test_a_crash_between_send_and_mark_resends_with_the_same_key(
    tmp_path: Path, receiver: WebhookCatcher
) -> None:
    config = write_config(tmp_path, receiver.url)
    with Store.open(config.settings.database) as store:
        record(config, store, Deduplicator(), REPORTS, now=NOW)
    receiver.hold = threading.Event()  # the receiver takes the POST and keeps the answer back
    env = {**os.environ, "HOOK_URL": receiver.url, "HOOK_SECRET": SECRET}
    child = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "--config", str(config.path), "deliver", "--once"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert receiver.posted.wait(30), "the deliverer never sent"
        child.send_signal(signal.SIGKILL)  # dies after sending, before marking
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    receiver.hold.set()
    receiver.hold = None
    with Store.open(config.settings.database) as store, Deliverer(config, store) as deliverer:
        [claimed] = store.list_alerts()
        assert claimed.status == "pending"  # never marked sent: it was not known to be sent
        assert deliverer.deliver_due(datetime.now(UTC)).attempted == 0  # the dead deliverer's lease holds
        later = datetime.now(UTC) + timedelta(seconds=LEASE_S + 1)
        assert deliverer.deliver_due(later).sent == 1
        [row] = store.list_alerts()
    keys = [p.headers["webhook-id"] for p in receiver.posts]
    assert keys == [row.idempotency_key] * 2  # the same key: the receiver can drop the repeat


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    waits = [backoff_s(n, rng) for n in range(1, 16)]
    assert FIRST_RETRY_S * 0.8 <= waits[0] <= FIRST_RETRY_S * 1.2
    assert waits[3] > waits[1] * 2.5
    assert max(waits) <= 4 * 3600 * 1.2
    total = sum(backoff_s(n, random.Random(n)) for n in range(1, 12))
    assert 12 * 3600 <= total <= 36 * 3600  # eleven waits between twelve attempts: about a day


class ScriptedSMTP:
    """A real SMTP server (aiosmtpd) answering DATA from a script: "451 ..." or "550 ..." or accept."""

    def __init__(self, *replies: str) -> None:
        from aiosmtpd.controller import Controller

        self.replies = list(replies)
        self.accepted: list[bytes] = []
        server = self

        class Handler:
            async def handle_DATA(self, smtp: object, session: object, envelope: Any) -> str:
                if server.replies:
                    return server.replies.pop(0)
                server.accepted.append(envelope.content)
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> ScriptedSMTP:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def write_email_config(tmp_path: Path, port: int) -> Config:
    path = tmp_path / "feeds.toml"
    path.write_text(
        '[settings]\ndatabase = "sqlite:///agg.db"\n'
        '[[feeds]]\nname = "wire-a"\nurl = "https://wire-a.example/rss"\n'
        f'[[channels]]\nname = "desk-mail"\ntype = "email"\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\n'
        'security = "none"\nfrom = "agg@example.org"\nto = ["desk@example.org"]\n',
        encoding="utf-8",
    )
    return load_config(path, env={})


def test_smtp_451_is_retried_and_550_is_dead_with_the_reply(tmp_path: Path) -> None:
    with ScriptedSMTP("451 4.3.0 try again later", "550 5.7.1 relaying denied") as smtp:
        config = write_email_config(tmp_path, smtp.port)
        with Store.open(config.settings.database) as store, Deliverer(config, store) as deliverer:
            record(config, store, Deduplicator(), REPORTS, now=NOW)
            assert deliverer.deliver_due(NOW).retrying == 1  # 451: later
            [row] = store.list_alerts(status="failed")
            assert row.last_status == 451
            report = deliverer.deliver_due(NOW, ignore_backoff=True)  # 550: never
            assert report.dead == 1
            [dead] = store.list_alerts(status="dead")
            assert "relaying denied" in (dead.last_error or "")
            store.retry_alerts(NOW, alert_id=dead.id)
            assert deliverer.deliver_due(NOW).sent == 1
        [content] = smtp.accepted
    assert (
        f"<{dead.idempotency_key}@aggregator>".encode() in content or dead.idempotency_key.encode() in content
    )


def test_each_channel_gets_its_own_row_and_key_for_one_decision(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    path.write_text(
        '[settings]\ndatabase = "sqlite:///agg.db"\n[[feeds]]\nname = "wire-a"\nurl = "https://wire-a.example/rss"\n'
        '[[channels]]\nname = "desk"\ntype = "slack"\nurl_env = "A"\n'
        '[[channels]]\nname = "ops"\ntype = "discord"\nurl_env = "B"\n'
        '[[channels]]\nname = "rounds-only"\ntype = "webhook"\nurl_env = "C"\nevents = ["NEW_ROUND"]\n',
        encoding="utf-8",
    )
    env = {name: f"https://{name.lower()}.example/hook" for name in "ABC"}
    config = load_config(path, env=env)
    with Store.open(config.settings.database) as store:
        assert record(config, store, Deduplicator(), REPORTS[:1], now=NOW) == 3
        rows = store.list_alerts()
    assert sorted(row.channel for row in rows) == ["desk", "ops", "rounds-only"]
    assert len({row.idempotency_key for row in rows}) == 3  # a receiver drops repeats per channel
    assert len({row.decision_id for row in rows}) == 1
    assert len({json.dumps(row.payload | {"idempotency_key": ""}, sort_keys=True) for row in rows}) == 1
