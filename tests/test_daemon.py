"""`aggregator run` as a real subprocess: real feeds over HTTP, a real webhook receiver, a real SQLite file.

Three invented outlets report one development (a prisoner exchange) in their own words, with unrelated items
beside them; the daemon polls them, decides one alert, and delivers it to a local receiver. Around that the
tests stop it (SIGTERM) while a fetch or a delivery is in flight, kill it (SIGKILL) mid-delivery and start it
again, reload it (SIGHUP) with a broken and then a changed feeds.toml, read /healthz and /metrics, listen on a
NOTIFY_SOCKET as systemd would, and read its JSON logs.

The daemon's own cadence is fixed (aggregator.daemon: a poll round and a delivery round every 5 s, a heartbeat
every 10 s), so each test waits for what it needs and no longer; every wait has a bound and says what it was
waiting for when it runs out. One wait is cut short on purpose: a send cut off by SIGKILL keeps its claim for
aggregator.deliver.LEASE_S (two minutes) before another deliverer may resend it, and the restart test ends
that claim in the database instead of sleeping through it.

Tests marked xfail(strict=True) show bugs of the daemon, each named in its reason.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from feed_xml import FeedEntry, atom, rss
from feedserver import FeedServer, drip_body, redirect, silent
from prometheus_client.parser import text_string_to_metric_families

from aggregator.daemon import HEARTBEAT_EVERY_S, POLL_EVERY_S
from aggregator.demo.catchers import Post, WebhookCatcher

# --- what the outlets publish ------------------------------------------------------------------------

SWAP_WIRE = (
    "Russia and Ukraine swap 84 prisoners of war each in UAE-brokered exchange",
    "Russia and Ukraine exchanged 84 prisoners of war each on Thursday in a swap mediated by the United Arab "
    "Emirates, both defence ministries said.",
)
SWAP_DAILY = (
    "Eighty-four Ukrainian soldiers return home in latest prisoner exchange",
    "Kyiv said 84 servicemen came home on Thursday after a prisoner exchange with Moscow; Russia received "
    "the same number of its troops, with the Emirates acting as mediator.",
)
SWAP_POST = (
    "Moscow and Kyiv trade 84 captives apiece with Emirati mediation",
    "In the latest exchange, 84 Russian and 84 Ukrainian prisoners of war were handed over on Thursday, the "
    "Russian defence ministry said, thanking the UAE for mediating.",
)
MUSEUM = (
    "Regional museum reopens after two-year renovation",
    "The museum of local history welcomed visitors again on Saturday after a renovation of its roof and "
    "halls.",
)
HARVEST = (
    "Wheat harvest forecast raised on spring rains",
    "Analysts raised their forecast for this year's wheat harvest after abundant rain in April and May.",
)
TRAMS = (
    "City council approves new tram line to the airport",
    "Construction of the eleven-kilometre line is to start next spring, the council said on Tuesday.",
)


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours)


def post_c_entries(*, with_trams: bool = False) -> list[FeedEntry]:
    entries: list[FeedEntry] = [
        ("pc-31", "https://post-c.example/news/captives", *SWAP_POST, hours_ago(2)),
        ("pc-32", "https://post-c.example/news/harvest", *HARVEST, hours_ago(2)),
    ]
    if with_trams:
        entries.append(("pc-33", "https://post-c.example/news/trams", *TRAMS, hours_ago(0.5)))
    return entries


def serve_outlets(server: FeedServer) -> dict[str, str]:
    """Three outlets (RSS, Atom, RSS) with ETags, so that an unchanged feed answers 304; name -> URL."""
    wire = rss(
        "wire-a",
        [
            ("wa-11", "https://wire-a.example/swap", *SWAP_WIRE, hours_ago(4)),
            ("wa-12", "https://wire-a.example/museum", *MUSEUM, hours_ago(5)),
        ],
    )
    daily = atom(
        "daily-b", [("urn:daily-b:4", "https://daily-b.example/2026/swap", *SWAP_DAILY, hours_ago(3))]
    )
    return {
        "wire-a": server.route("/wire-a.xml", wire, etag='"wa1"'),
        "daily-b": server.route(
            "/daily-b.atom", daily, etag='"db1"', content_type="application/atom+xml; charset=utf-8"
        ),
        "post-c": server.route("/post-c.xml", rss("post-c", post_c_entries()), etag='"pc1"'),
    }


RELEVANT_ITEMS = 3  # the three swap reports; the museum and the harvest are not about the talks
STORED_ITEMS = 5
WEBHOOK_TOKEN = "tok-5f1e9a7c33d04b"  # in the webhook URL's query, as many services put it
SECRET = "whsec_" + base64.b64encode(b"thirty-two bytes of signing key!").decode()

# --- configuration ------------------------------------------------------------------------------------

# The webhook channel most tests alert: its URL (with a token) and signing secret come from the environment.
DESK_CHANNEL = (
    '[[channels]]\nname = "desk"\ntype = "webhook"\nurl_env = "HOOK_URL"\nsecret_env = "HOOK_SECRET"\n'
)


def write_config(
    directory: Path,
    feeds: dict[str, str],
    *,
    intervals: dict[str, str] | None = None,
    http: str | None = None,
    fetch_timeout: str = "10s",
    channels: str | None = None,
) -> Path:
    intervals = intervals or {}
    lines = [
        "[settings]",
        'database = "sqlite:///agg.db"',
        "allow_private_networks = true",
        'poll_interval = "10s"',
        f'fetch_timeout = "{fetch_timeout}"',
    ]
    if http is not None:
        lines.append(f'http = "{http}"')
    for name, url in feeds.items():
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"']
        if name in intervals:
            lines.append(f'interval = "{intervals[name]}"')
    lines.append(DESK_CHANNEL if channels is None else channels)
    path = directory / "feeds.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def hook_env(receiver: WebhookCatcher) -> dict[str, str]:
    return {"HOOK_URL": f"{receiver.url}?token={WEBHOOK_TOKEN}", "HOOK_SECRET": SECRET}


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the daemon as a subprocess ------------------------------------------------------------------------


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what`` after ``timeout`` seconds."""
    ends = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= ends:
            pytest.fail(f"waited {timeout:.0f} s for {what}")
        time.sleep(interval)


class DaemonProcess:
    """`python -m aggregator --config X run` with stderr in a file; ended (with its process group) at exit."""

    def __init__(
        self, config: Path, env: dict[str, str], *, log_format: str = "text", name: str = "daemon"
    ) -> None:
        self.config = config
        self.log_path = config.parent / f"{name}.log"
        base = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM")}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "aggregator",
                    "--config",
                    str(config),
                    "run",
                    "--log-format",
                    log_format,
                ],
                env={**base, **env},
                cwd=config.parent,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,  # its parse workers share its process group: cleaned up together
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_lines(self) -> list[str]:
        return self.log_text().splitlines()

    def events(self, event: str) -> list[str]:
        """Text-format lines of ``event`` (the third word: timestamp, level, event)."""
        return [line for line in self.log_lines() if line.split(" ", 3)[2:3] == [event]]

    def wait_event(self, event: str, timeout: float, count: int = 1) -> list[str]:
        """Every ``event`` line once there are at least ``count``; fails if the daemon exits meanwhile."""

        def seen() -> list[str] | None:
            self.assert_running()
            lines = self.events(event)
            return lines if len(lines) >= count else None

        lines: list[str] = wait_for(f"{count} {event!r} log line(s)", seen, timeout)
        return lines

    def assert_running(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"the daemon exited with {self.process.returncode}:\n{self.log_text()[-3000:]}")

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 10.0) -> tuple[int, float]:
        """Send ``sig``; return (exit code, seconds it took); fail if it is still running after timeout."""
        sent = time.monotonic()
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {timeout:.0f} s after {sig.name}:\n{self.log_text()[-3000:]}")
        return code, time.monotonic() - sent

    def crash(self) -> None:
        """SIGKILL the daemon process alone, as the OOM killer or `kill -9 PID` would."""
        self.process.kill()
        self.process.wait(10)

    def helpers_alive(self) -> bool:
        """Whether any process of the daemon's process group (its parse workers and their forkserver, all
        started in the session it leads) is still there."""
        return _group_alive(self.pid)

    def kill_all(self) -> None:
        """SIGKILL the daemon's whole process group (systemd kills the whole cgroup): test clean-up."""
        if self.process.poll() is None or self.helpers_alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


@pytest.fixture
def start_daemon() -> Iterator[Callable[..., DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(config: Path, env: dict[str, str], **options: Any) -> DaemonProcess:
        daemon = DaemonProcess(config, env, **options)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill_all()  # whatever a failed test left running, and the workers of a crashed daemon


@pytest.fixture
def receiver() -> Iterator[WebhookCatcher]:
    with WebhookCatcher() as running:
        yield running


# --- reading what happened --------------------------------------------------------------------------


def query(db_path: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db_path, timeout=10)) as db:
        return db.execute(sql, params).fetchall()


def alert_rows(db_path: Path) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(db_path, timeout=10)) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM alerts ORDER BY id")]


def signature_valid(post: Post) -> bool:
    """Standard Webhooks, checked independently: HMAC-SHA256 of "id.timestamp.body" with the decoded key."""
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{post.headers['webhook-id']}.{post.headers['webhook-timestamp']}.".encode() + post.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return expected in post.headers["webhook-signature"].split()


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode().strip()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode().strip()


def metric_samples(base_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, text = http_get(base_url + "/metrics")
    assert status == 200, text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


# --- the tests ------------------------------------------------------------------------------------------


def test_one_signed_alert_per_development_reaches_the_receiver(
    tmp_path: Path,
    feed_server: FeedServer,
    receiver: WebhookCatcher,
    start_daemon: Callable[..., DaemonProcess],
) -> None:
    config = write_config(tmp_path, serve_outlets(feed_server))
    daemon = start_daemon(config, hook_env(receiver))

    assert receiver.posted.wait(20), f"no alert within 20 s:\n{daemon.log_text()[-3000:]}"
    db = tmp_path / "agg.db"
    wait_for("the outbox to be empty", lambda: all(r["status"] == "sent" for r in alert_rows(db)), 10)
    daemon.wait_event("poll", 10)  # the first poll has written everything it found
    code, _ = daemon.stop()

    assert code == 0
    [row] = alert_rows(db)  # three outlets, one development: one alert
    [post] = receiver.posts
    assert post.path == f"/hooks/desk?token={WEBHOOK_TOKEN}"
    assert post.headers["webhook-id"] == row["idempotency_key"]
    assert signature_valid(post)
    payload = json.loads(post.body)
    assert payload["id"] == row["idempotency_key"]
    assert payload["data"]["event"]["type"] == "EXCHANGE", payload
    assert query(db, "SELECT COUNT(*) FROM items") == [(STORED_ITEMS,)]
    assert query(db, "SELECT COUNT(*) FROM classifications WHERE relevant") == [(RELEVANT_ITEMS,)]
    started_line = daemon.events("started")[0]
    assert "systemd=false" in started_line  # no NOTIFY_SOCKET: runs all the same, telling no one


def test_sigterm_while_feeds_hang_exits_cleanly_within_10_s(
    tmp_path: Path, feed_server: FeedServer, start_daemon: Callable[..., DaemonProcess]
) -> None:
    feeds = {
        "wire-a": serve_outlets(feed_server)["wire-a"],
        "silent": feed_server.route_handler("/silent", silent(max_s=60)),  # never answers
        "drip": feed_server.route_handler("/drip", drip_body(interval=0.3, max_s=60)),  # never finishes
    }
    config = write_config(tmp_path, feeds, fetch_timeout="30s", channels="")  # the default limit
    daemon = start_daemon(config, {})
    wait_for(
        "both hanging feeds to be requested",
        lambda: feed_server.hits["/silent"] and feed_server.hits["/drip"],
        20,
    )
    db = tmp_path / "agg.db"
    wait_for(
        "wire-a to be stored while the others hang",
        lambda: query(db, "SELECT COUNT(*) FROM feeds WHERE name = 'wire-a' AND status = 'ok'") == [(1,)],
        10,
    )
    daemon.assert_running()

    code, took = daemon.stop(signal.SIGTERM, timeout=10)

    assert code == 0, daemon.log_text()[-3000:]
    assert took < 10
    # The abandoned fetches left no result: those feeds stay due, to be polled at the next start.
    assert query(
        db, "SELECT name, status, last_fetch_at FROM feeds WHERE name != 'wire-a' ORDER BY name"
    ) == [
        ("drip", "new", None),
        ("silent", "new", None),
    ]
    assert daemon.events("stopping") and daemon.events("stopped")


def test_sigterm_while_a_delivery_is_in_flight_exits_within_10_s_and_leaves_it_pending(
    tmp_path: Path,
    feed_server: FeedServer,
    receiver: WebhookCatcher,
    start_daemon: Callable[..., DaemonProcess],
) -> None:
    receiver.hold = threading.Event()  # the receiver takes the POST and keeps its answer back
    config = write_config(tmp_path, serve_outlets(feed_server))
    daemon = start_daemon(config, hook_env(receiver))
    assert receiver.posted.wait(20), f"no alert within 20 s:\n{daemon.log_text()[-3000:]}"

    code, took = daemon.stop(signal.SIGTERM, timeout=10)

    assert code == 0, daemon.log_text()[-3000:]
    assert took < 10
    # The send in flight had STOP_WITHIN_S to finish, did not, and was left behind.
    [stopped] = [line for line in daemon.events("stopped") if "abandoned=" in line]
    assert "abandoned=1" in stopped, stopped
    [row] = alert_rows(tmp_path / "agg.db")
    assert row["status"] == "pending", row  # never marked sent: no answer came back
    assert row["sent_at"] is None


def test_sigkill_mid_delivery_then_restart_keeps_items_schedule_and_resends_with_the_same_id(
    tmp_path: Path,
    feed_server: FeedServer,
    receiver: WebhookCatcher,
    start_daemon: Callable[..., DaemonProcess],
) -> None:
    feeds = serve_outlets(feed_server)
    # wire-a and daily-b are polled hourly: a restart must not poll them again at once. post-c keeps the
    # 10 s default, so the second daemon polls it again (with a new item) within the test.
    config = write_config(tmp_path, feeds, intervals={"wire-a": "1h", "daily-b": "1h"})
    db = tmp_path / "agg.db"
    receiver.hold = threading.Event()
    first = start_daemon(config, hook_env(receiver), name="first")
    first.wait_event("poll", 20)  # every feed stored (the send is held, not the poll)
    assert receiver.posted.wait(20), f"no alert within 20 s:\n{first.log_text()[-3000:]}"

    first.crash()  # SIGKILL, in the middle of a send: no answer recorded, no clean-up
    receiver.hold.set()
    receiver.hold = None
    items_before = query(db, "SELECT COUNT(*) FROM items")
    due_before = dict(query(db, "SELECT name, next_due FROM feeds"))
    hits_before = feed_server.hits
    [claimed] = alert_rows(db)
    assert claimed["status"] == "pending" and claimed["claimed_until"] is not None
    assert items_before == [(STORED_ITEMS,)]
    # The dead deliverer's claim lasts aggregator.deliver.LEASE_S (two minutes) so that a second deliverer
    # never sends a row that is being sent; end it here as those two minutes would.
    with closing(sqlite3.connect(db)) as connection, connection:
        connection.execute(
            "UPDATE alerts SET claimed_until = ? WHERE id = ?", (_sqlite_time(-1), claimed["id"])
        )
    feed_server.route("/post-c.xml", rss("post-c", post_c_entries(with_trams=True)), etag='"pc2"')

    second = start_daemon(config, hook_env(receiver), name="second")
    wait_for("the resend", lambda: len(receiver.posts) >= 2, 20)
    wait_for(
        "post-c to be polled again", lambda: feed_server.hits["/post-c.xml"] > hits_before["/post-c.xml"], 20
    )
    wait_for(
        "post-c's new item to be stored",
        lambda: query(db, "SELECT COUNT(*) FROM items") == [(STORED_ITEMS + 1,)],
        10,
    )
    code, _ = second.stop()

    assert code == 0
    first_post, resend = receiver.posts
    assert first_post.headers["webhook-id"] == resend.headers["webhook-id"] == claimed["idempotency_key"]
    # The same message, fixed when the alert was decided; only the send time differs.
    first_message, resent_message = json.loads(first_post.body), json.loads(resend.body)
    assert first_message["data"] == resent_message["data"]
    assert first_message["id"] == resent_message["id"]
    [row] = alert_rows(db)
    assert row["status"] == "sent"
    # No item stored twice: post-c's two old items were read again and recognised, one new item was added.
    assert query(db, "SELECT COUNT(*) FROM items") == [(STORED_ITEMS + 1,)]
    assert query(db, "SELECT feed_id, key FROM items GROUP BY feed_id, key HAVING COUNT(*) > 1") == []
    assert query(db, "SELECT COUNT(*) FROM alerts") == [(1,)], "the restart decided the development again"
    # The hourly feeds kept their next poll time and were not asked again.
    due_after = dict(query(db, "SELECT name, next_due FROM feeds"))
    for name in ("wire-a", "daily-b"):
        assert due_after[name] == due_before[name], name
        assert datetime.fromisoformat(due_after[name]).replace(tzinfo=UTC) > datetime.now(UTC) + timedelta(
            minutes=50
        )
    assert feed_server.hits["/wire-a.xml"] == hits_before["/wire-a.xml"] == 1
    assert feed_server.hits["/daily-b.atom"] == hits_before["/daily-b.atom"] == 1


def _sqlite_time(offset_s: float) -> str:
    """A moment as the store writes it to SQLite (naive UTC)."""
    moment = datetime.now(UTC) + timedelta(seconds=offset_s)
    return moment.replace(tzinfo=None).isoformat(sep=" ")


def test_sigkill_of_the_daemon_leaves_no_helper_processes_behind(
    tmp_path: Path, feed_server: FeedServer, start_daemon: Callable[..., DaemonProcess]
) -> None:
    config = write_config(tmp_path, serve_outlets(feed_server), channels="")
    daemon = start_daemon(config, {})
    daemon.wait_event("poll", 20)  # the parse workers have run
    assert daemon.helpers_alive()

    daemon.crash()

    wait_for("the crashed daemon's helper processes to exit", lambda: not daemon.helpers_alive(), 10)


def test_sighup_with_a_broken_file_keeps_running_and_a_valid_one_adds_the_feed(
    tmp_path: Path, feed_server: FeedServer, start_daemon: Callable[..., DaemonProcess]
) -> None:
    outlets = serve_outlets(feed_server)
    base = f"http://127.0.0.1:{free_port()}"
    config = write_config(
        tmp_path, {"wire-a": outlets["wire-a"]}, http=base.removeprefix("http://"), channels=""
    )
    daemon = start_daemon(config, {})
    daemon.wait_event("poll", 20)
    assert feed_server.hits["/wire-a.xml"] == 1
    good = config.read_text(encoding="utf-8")
    with_daily_b = good + f'[[feeds]]\nname = "daily-b"\nurl = "{outlets["daily-b"]}"\n'

    # A file that adds a feed but has a bad value: nothing of it may take effect.
    config.write_text(
        with_daily_b.replace('poll_interval = "10s"', 'poll_interval = "10x"'), encoding="utf-8"
    )
    daemon.process.send_signal(signal.SIGHUP)
    [bad_value] = daemon.wait_event("reload_failed", 10)
    assert "poll_interval" in bad_value and "10x" in bad_value, bad_value
    # A file cut short while an editor was saving it: not even TOML.
    config.write_text(with_daily_b[: with_daily_b.index("[[feeds]]") + 4], encoding="utf-8")
    daemon.process.send_signal(signal.SIGHUP)
    _, not_toml = daemon.wait_event("reload_failed", 10, count=2)
    assert "TOML" in not_toml, not_toml
    # Still the old configuration: wire-a polled again on its 10 s interval, daily-b never, still healthy.
    wait_for("wire-a to be polled again", lambda: feed_server.hits["/wire-a.xml"] >= 2, 20)
    assert http_get(base + "/healthz") == (200, "ok")
    daemon.assert_running()
    assert feed_server.hits["/daily-b.atom"] == 0
    assert len(daemon.events("reload_failed")) == 2  # one line per failed reload
    assert daemon.events("reloaded") == []

    config.write_text(with_daily_b, encoding="utf-8")
    daemon.process.send_signal(signal.SIGHUP)
    [reloaded] = daemon.wait_event("reloaded", 10)
    assert "feeds=2" in reloaded
    wait_for("the added feed to be polled", lambda: feed_server.hits["/daily-b.atom"], 3 * POLL_EVERY_S)
    wait_for(
        "daily-b to be stored",
        lambda: query(tmp_path / "agg.db", "SELECT status FROM feeds WHERE name = 'daily-b'") == [("ok",)],
        10,
    )
    code, _ = daemon.stop()

    assert code == 0
    assert len(daemon.events("reload_failed")) == 2
    assert daemon.events("job_failed") == []
    assert not any(line.startswith(" ") or "Traceback" in line for line in daemon.log_lines())


class NotifyListener:
    """An AF_UNIX datagram socket as systemd offers it; records every message with its arrival time."""

    def __init__(self) -> None:
        # sun_path holds 107 bytes: pytest's tmp_path can be longer than that.
        self._directory = tempfile.TemporaryDirectory(prefix="sdn-")
        self.path = str(Path(self._directory.name) / "notify")
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(self.path)
        self._socket.settimeout(0.2)
        self.messages: list[tuple[float, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._closing.is_set():
            try:
                data = self._socket.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self._lock:
                self.messages.append((time.monotonic(), fields))

    def with_field(self, name: str, value: str | None = None) -> list[tuple[float, dict[str, str]]]:
        with self._lock:
            return [(t, f) for t, f in self.messages if name in f and (value is None or f[name] == value)]

    def close(self) -> None:
        self._closing.set()
        self._thread.join(2)
        self._socket.close()
        self._directory.cleanup()


def test_notify_socket_healthz_and_metrics_tell_how_the_daemon_is_doing(
    tmp_path: Path, feed_server: FeedServer, start_daemon: Callable[..., DaemonProcess]
) -> None:
    """What systemd (NOTIFY_SOCKET) and the operator (/healthz, /metrics) are told, in one run: the
    watchdog needs two heartbeats, HEARTBEAT_EVERY_S apart, which is time enough for the rest."""
    listener = NotifyListener()
    try:
        base = f"http://127.0.0.1:{free_port()}"
        config = write_config(
            tmp_path, serve_outlets(feed_server), http=base.removeprefix("http://"), channels=""
        )
        daemon = start_daemon(config, {"NOTIFY_SOCKET": listener.path})
        started = time.monotonic()
        wait_for("READY=1", lambda: listener.with_field("READY", "1"), 20, interval=0.02)
        # READY=1 comes only once the scheduler runs and the database has answered: healthy already.
        health_at_ready = http_get(base + "/healthz")
        daemon.wait_event("poll", 20)
        wait_for(
            "a second WATCHDOG=1",
            lambda: len(listener.with_field("WATCHDOG", "1")) >= 2,
            HEARTBEAT_EVERY_S + 10,
        )
        samples = metric_samples(base)
        hits_when_scraped = feed_server.hits.total()  # a fetch is counted once it has been answered
        health_later = http_get(base + "/healthz")
        elsewhere = http_get(base + "/nothing-here")[0]
        code, _ = daemon.stop()
        time.sleep(0.3)  # the last datagram is in the socket's queue already; let the reader take it
    finally:
        listener.close()

    assert code == 0
    [(ready_at, ready)] = listener.with_field("READY")
    assert ready_at - started < 20
    assert "feeds" in ready.get("STATUS", ""), ready
    watchdogs = [t for t, _ in listener.with_field("WATCHDOG", "1")]
    gaps = [b - a for a, b in itertools.pairwise(watchdogs)]
    assert len(watchdogs) >= 2 and all(gap <= HEARTBEAT_EVERY_S * 1.5 for gap in gaps), gaps
    # The heartbeat after the poll says so: how many feeds, and when they were last polled.
    last_status = listener.with_field("WATCHDOG", "1")[-1][1]["STATUS"]
    assert last_status.startswith("3 feeds;") and "last poll not yet" not in last_status, last_status
    assert listener.with_field("STOPPING", "1"), "systemd was not told the service is stopping"
    assert "systemd=true" in daemon.events("started")[0]

    assert health_at_ready == health_later == (200, "ok")
    assert elsewhere == 404
    # Each feed fetched with content once; a poll after its 10 s interval may have found it unchanged (304).
    fetches = {
        dict(labels)["outcome"]: value
        for (name, labels), value in samples.items()
        if name == "aggregator_fetches_total"
    }
    assert fetches["ok"] == 3 and fetches["error"] == 0, fetches
    assert sum(fetches.values()) <= hits_when_scraped, (fetches, hits_when_scraped)
    assert samples[("aggregator_fetch_duration_seconds_count", ())] == sum(fetches.values())
    assert samples[("aggregator_items_new_total", ())] == STORED_ITEMS
    assert samples[("aggregator_items_relevant_total", ())] == RELEVANT_ITEMS
    assert samples[("aggregator_feeds", (("status", "ok"),))] == 3  # read from the database by the heartbeat
    succeeded = {
        dict(labels)["feed"] for (name, labels) in samples if name.startswith("aggregator_feed_last_success")
    }
    assert succeeded == {"wire-a", "daily-b", "post-c"}


def json_records(daemon: DaemonProcess) -> tuple[list[dict[str, Any]], list[str]]:
    """The daemon's stderr as JSON records, and every line that is not a JSON object with ts/level/event."""
    records: list[dict[str, Any]] = []
    strays: list[str] = []
    for line in daemon.log_lines():
        try:
            record = json.loads(line)
        except ValueError:
            strays.append(line)
            continue
        if isinstance(record, dict) and {"ts", "level", "event"} <= record.keys():
            records.append(record)
        else:
            strays.append(line)
    return records, strays


def test_json_logs_are_one_object_per_line_and_never_show_the_webhook_token(
    tmp_path: Path,
    feed_server: FeedServer,
    receiver: WebhookCatcher,
    start_daemon: Callable[..., DaemonProcess],
) -> None:
    feeds = serve_outlets(feed_server)
    # A feed whose URL carries the token and ends in a redirect loop: its error message names the URL.
    loop = f"/loop.xml?api_key={WEBHOOK_TOKEN}"
    feed_server.route_handler("/loop.xml", redirect(loop))
    feeds["looping"] = feed_server.url(loop)
    unreachable = f"http://127.0.0.1:{free_port()}/hook?token={WEBHOOK_TOKEN}"  # nobody listens there
    channels = DESK_CHANNEL + '[[channels]]\nname = "backup"\ntype = "webhook"\nurl_env = "BACKUP_URL"\n'
    config = write_config(tmp_path, feeds, channels=channels)
    daemon = start_daemon(config, {**hook_env(receiver), "BACKUP_URL": unreachable}, log_format="json")
    assert receiver.posted.wait(20), daemon.log_text()[-3000:]
    wait_for("the backup channel's failure to be logged", lambda: "alert_retry" in daemon.log_text(), 10)
    code, _ = daemon.stop(signal.SIGINT)  # Ctrl-C in a terminal: the same clean stop as SIGTERM

    assert code == 0
    records, strays = json_records(daemon)
    assert strays == []
    for record in records:
        assert datetime.fromisoformat(record["ts"].replace("Z", "+00:00")).utcoffset() == timedelta(0)
        assert record["level"] in ("debug", "info", "warning", "error", "critical")
    events = [r["event"] for r in records]
    assert "started" in events and "poll" in events and events[-1] == "stopped", events
    assert [r["signal"] for r in records if r["event"] == "stopping"] == ["SIGINT"]
    feed_errors = [r for r in records if r["event"] == "feed_error"]
    assert feed_errors, events
    for feed_error in feed_errors:
        assert feed_error["feed"] == "looping" and feed_error["reason"] == "bad_redirect"
        assert "api_key=***" in feed_error["error"]  # the URL was written, its secret masked
    assert any(r["event"] == "alert_retry" and r["channel"] == "backup" for r in records), events
    assert WEBHOOK_TOKEN not in daemon.log_text()


def test_json_logs_hold_the_configuration_warnings_too(
    tmp_path: Path,
    feed_server: FeedServer,
    receiver: WebhookCatcher,
    start_daemon: Callable[..., DaemonProcess],
) -> None:
    in_file = '[[channels]]\nname = "desk"\ntype = "webhook"\nurl = "' + receiver.url + '"\n'
    config = write_config(tmp_path, serve_outlets(feed_server), channels=in_file)
    daemon = start_daemon(config, {}, log_format="json")
    wait_for("the started line", lambda: any(r["event"] == "started" for r in json_records(daemon)[0]), 20)
    # (stopped in the middle of its first poll, while the parse workers start: on a loaded machine that
    # takes longer than the usual 10 s, and how fast a stop is has tests of its own)
    code, _ = daemon.stop(timeout=30)

    assert code == 0
    records, strays = json_records(daemon)
    assert strays == []
    assert any("url_env" in json.dumps(r) for r in records if r["level"] == "warning")


def test_sighup_during_a_poll_lets_the_poll_finish_with_the_old_configuration(
    tmp_path: Path, feed_server: FeedServer, start_daemon: Callable[..., DaemonProcess]
) -> None:
    feeds = {
        "wire-a": serve_outlets(feed_server)["wire-a"],
        "slow": feed_server.route_handler("/slow", silent(max_s=60)),  # the poll waits on it for 4 s
    }
    config = write_config(tmp_path, feeds, fetch_timeout="4s", channels="")
    daemon = start_daemon(config, {})
    wait_for("the slow feed to be requested", lambda: feed_server.hits["/slow"], 20)
    daemon.process.send_signal(signal.SIGHUP)  # while the poll is still waiting for the slow feed
    daemon.wait_event("reloaded", 15)
    [poll] = daemon.wait_event("poll", 15)
    assert "errors=1" in poll and "fetched=1" in poll, poll  # the slow feed timed out, wire-a was stored
    assert "job_failed" not in daemon.log_text()
    db = tmp_path / "agg.db"
    assert query(db, "SELECT status, last_error_reason FROM feeds WHERE name = 'slow'") == [
        ("error", "deadline")
    ]
    code, _ = daemon.stop(signal.SIGTERM, timeout=10)
    assert code == 0


def stop_in_a_script(tmp_path: Path, setup: str, before_run: str = "") -> tuple[str, float]:
    """Run a daemon in a process of its own (it leaves with os._exit when threads linger), with ``setup``
    before it is made and ``before_run`` after; a hang ends after 20 s. Its exit code and seconds running."""
    path = write_config(tmp_path, {"quiet": "http://127.0.0.1:9/feed.xml"}, channels="")  # never polled
    script = (
        "import faulthandler, os, signal, time\n"
        "from aggregator.config import load_config\n"
        "from aggregator.daemon import Daemon\n"
        "faulthandler.dump_traceback_later(20, exit=True)\n"
        f"{setup}"
        f"daemon = Daemon(load_config({str(path)!r}), {str(path)!r})\n"
        f"{before_run}"
        "started = time.monotonic()\n"
        "code = daemon.run()\n"
        "print(f'stopped {code} {time.monotonic() - started:.1f}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    code, seconds = done.stdout.split()[1:]
    return code, float(seconds)


def test_a_stop_before_the_scheduler_runs_still_stops_the_daemon(tmp_path: Path) -> None:
    # SIGTERM can land in the instant between the "started" line and the scheduler running (a loaded CI
    # machine hit it): the daemon has nothing to shut down yet, and once up it must stop by itself.
    code, seconds = stop_in_a_script(
        tmp_path, "", "daemon._on_stop(signal.SIGTERM, None)  # as a signal would, before run() starts it\n"
    )
    assert code == "0" and seconds < 10


def test_a_stop_that_lands_while_the_scheduler_submits_a_job_still_stops_the_daemon(tmp_path: Path) -> None:
    # A Python signal handler runs in the main thread between any two of its steps. The scheduler's loop,
    # submitting its first jobs just after "started", holds the thread pool's lock, which is not reentrant:
    # a handler that shut the scheduler down there waited on it for ever (a CI stop hung). The signal is sent
    # here from inside that lock, as a loaded machine timed it.
    setup = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "submit = ThreadPoolExecutor.submit\n"
        "def submit_when_stopped(self, *args, **kwargs):\n"
        "    ThreadPoolExecutor.submit = submit\n"
        "    with self._shutdown_lock:\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        time.sleep(0.2)  # the handler runs here, with the lock held\n"
        "    return submit(self, *args, **kwargs)\n"
        "ThreadPoolExecutor.submit = submit_when_stopped\n"
    )
    code, seconds = stop_in_a_script(tmp_path, setup)
    assert code == "0" and seconds < 10
