"""`aggregator run`: the daemon. APScheduler drives the pipeline; systemd and the operator are told how it is.

Jobs (an in-memory job store rebuilt from feeds.toml at each start; what must survive a restart — each feed's
next due time and backoff, the outbox, the last digest — lives in the database):

- poll: every few seconds, poll the feeds that are due (each feed's own interval, spread by a little jitter);
- deliver: every few seconds, send the alerts that are due;
- one digest job per digest channel, on its crontab in its time zone (a digest missed while the service was
  down is sent once at start);
- retention: daily, prune items, the fetch log and sent alerts past their ages (tombstones stay);
- heartbeat: check the database answers and takes writes; then WATCHDOG=1 and a STATUS= line to systemd.

Every job has coalesce=True and max_instances=1: a poll that runs long is not stacked behind itself. Signals:
SIGTERM/SIGINT stop within seconds (fetches in flight are abandoned, their feeds simply stay due; a delivery
in flight finishes or stays pending, never marked sent unless sent); SIGHUP reloads feeds.toml, and a broken
new file keeps the old configuration running with one clear error line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .config import ChannelConfig, Config, load_config
from .deliver import Deliverer, queue_digest
from .errors import AggregatorError, ConfigError
from .health import HealthServer, Metrics
from .logs import log_event
from .pipeline import Poller, apply_retention
from .store import Store

log = logging.getLogger("aggregator.daemon")

POLL_EVERY_S = 5.0  # how often due feeds are looked for; each feed keeps its own interval
DELIVER_EVERY_S = 5.0
HEARTBEAT_EVERY_S = 10.0  # WATCHDOG=1 this often; the unit's WatchdogSec is several times longer
RETENTION_EVERY_S = 24 * 3600.0
POLL_JITTER = 0.1  # each feed's next poll moves by up to ±10% of its interval
STOP_WITHIN_S = 8.0  # after a signal, wait this long for running jobs before leaving them
STOP_LOCK_WAIT_S = 1.0  # and this long for a thread starting the parse workers (they end with the daemon)


class _SkippedRunFilter(logging.Filter):
    """A poll still running when its next tick comes is skipped by design (max_instances=1): not a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_SkippedRunFilter())


class SystemdNotifier:
    """The sd_notify protocol, directly: datagrams to $NOTIFY_SOCKET. A no-op outside systemd."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        address = (env if env is not None else os.environ).get("NOTIFY_SOCKET", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self._socket: socket.socket | None = None
        if self._address:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def notify(self, **fields: str) -> None:
        if self._socket is None:
            return
        message = "\n".join(f"{key.upper()}={value}" for key, value in fields.items())
        try:
            self._socket.sendto(message.encode(), self._address)
        except OSError as error:  # systemd gone or the socket full: the service itself must go on
            log_event(log, "notify_failed", level=logging.WARNING, error=str(error))

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


@dataclass(slots=True)
class DaemonState:
    """What /healthz, STATUS= and `aggregator status` report."""

    started_at: datetime
    last_poll_at: datetime | None = None
    last_heartbeat_at: datetime | None = None
    database_problem: str | None = None
    feeds: int = 0
    queue: int = 0
    dead: int = 0


class Daemon:
    def __init__(
        self,
        config: Config,
        config_path: str,
        *,
        notifier: SystemdNotifier | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.notifier = notifier or SystemdNotifier()
        self.clock = clock
        self.state = DaemonState(started_at=clock())
        self.metrics = Metrics()
        self.scheduler = BlockingScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        self.scheduler.add_listener(self._job_failed, EVENT_JOB_ERROR)
        self.store: Store | None = None
        self.poller: Poller | None = None
        self.deliverer: Deliverer | None = None
        self.health: HealthServer | None = None
        self._stopping = threading.Event()
        self._signal_pipe = -1  # the write end the signal handler uses (see _listen_for_signals)
        self._busy = 0  # jobs running now: at a stop, they get STOP_WITHIN_S to finish what they write
        # A reload swaps the poller and the deliverer: it waits for the poll or delivery in hand, so that
        # neither is closed under a job still using it.
        self._polling = threading.RLock()
        self._delivering = threading.RLock()
        self._idle = threading.Condition()

    # -- life cycle --

    def run(self) -> int:
        self.store = Store.open(self.config.settings.database)  # migrations run here
        self._start_workers(self.config)
        if self.config.settings.http:
            self.health = HealthServer(self.config.settings.http, self.health_problem, self.metrics)
            self.health.start()
        self._schedule(self.config)
        self._listen_for_signals()
        self.scheduler.add_job(self._ready, id="ready", name="ready")  # runs once the scheduler is up
        log_event(
            log,
            "started",
            config=self.config_path,
            feeds=len(self.config.feeds),
            channels=len(self.config.channels),
            systemd=self.notifier.enabled,
        )
        try:
            self.scheduler.start()  # blocks until a signal shuts it down
        except JobLookupError:
            # A stop from the signal thread can land while the loop finishes a one-off job (ready, reload):
            # once stopped, APScheduler no longer finds it to remove. The loop is over all the same.
            if not self._stopping.is_set():
                raise
        finally:
            self._shutdown()
        log_event(log, "stopped")
        return 0

    def _ready(self) -> None:
        if self._stopping.is_set():  # stopped before the scheduler was up (see _on_stop)
            self._stop_scheduler()
            return
        self._send_missed_digests()
        self._heartbeat()
        self.notifier.notify(ready="1", status=self._status_line())

    def _start_workers(self, config: Config) -> None:
        assert self.store is not None
        self.poller = Poller(config, self.store, jitter=POLL_JITTER)
        self.deliverer = Deliverer(config, self.store)

    def _stop_workers(self) -> None:
        if self.poller is not None:
            self.poller.stopping.set()
        if self.deliverer is not None:
            self.deliverer.stopping = True

    def _listen_for_signals(self) -> None:
        """Signals are acted on by a thread of their own. A Python handler runs in the main thread between
        any two of its steps, with whatever locks it holds: the scheduler's loop submitting a job holds the
        thread pool's (not reentrant) lock, and a handler that shut the scheduler down there waited on that
        lock for ever (a daemon stopped just after it started hung). The handler only writes the signal's
        number to a pipe; the thread reads it and stops or reloads."""
        read_end, self._signal_pipe = os.pipe()
        os.set_blocking(self._signal_pipe, False)

        def act() -> None:
            while data := os.read(read_end, 64):
                for signum in data:
                    if signum == signal.SIGHUP:
                        self._on_reload(signum, None)
                    else:
                        self._on_stop(signum, None)

        threading.Thread(target=act, name="signals", daemon=True).start()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        with contextlib.suppress(BlockingIOError):  # (a full pipe already holds a stop or reload to act on)
            os.write(self._signal_pipe, bytes([signum]))

    def _on_stop(self, signum: int, _frame: object) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        log_event(log, "stopping", signal=signal.Signals(signum).name)
        self.notifier.notify(stopping="1", status="stopping")
        self._stop_workers()
        # A signal in the instant between "started" and the scheduler running finds nothing to shut down:
        # the first job (_ready) sees the flag and shuts the scheduler down once it runs.
        if self.scheduler.running:
            self._stop_scheduler()

    def _stop_scheduler(self) -> None:
        with contextlib.suppress(SchedulerNotRunningError):  # (_ready and the signal thread may both stop it)
            self.scheduler.shutdown(wait=False)

    def _shutdown(self) -> None:
        """Leave within seconds: running jobs get STOP_WITHIN_S to write what they finished; then the
        process goes, abandoning fetches in flight (their feeds stay due) and unmarked sends (they stay
        pending and go again, with the same key)."""
        deadline = time.monotonic() + STOP_WITHIN_S
        with self._idle:
            while self._busy and time.monotonic() < deadline:
                self._idle.wait(max(0.0, deadline - time.monotonic()))
            abandoned = self._busy
        if self.health is not None:
            self.health.close()
        self.notifier.close()
        if abandoned:
            if self.poller is not None:
                self.poller.kill_parser(wait=STOP_LOCK_WAIT_S)  # a parse in flight cannot be stopped else
            log_event(log, "stopped", abandoned=abandoned, note="feeds stay due, alerts stay pending")
            logging.shutdown()
            os._exit(0)  # threads blocked in a socket read would hold the interpreter's exit
        if self.deliverer is not None:
            self.deliverer.close()
        if self.poller is not None:
            self.poller.close(wait=STOP_LOCK_WAIT_S)
        if self.store is not None:
            self.store.close()
        lingering = [
            t
            for t in threading.enumerate()
            if t.is_alive() and not t.daemon and t is not threading.current_thread()
        ]
        if lingering:
            # A fetch thread still blocked in a socket read (its job gave up on it) would hold the
            # interpreter's exit until its deadline; everything worth keeping is written and closed.
            log_event(log, "stopped", abandoned_threads=len(lingering))
            logging.shutdown()
            os._exit(0)

    # -- reload --

    def _on_reload(self, _signum: int, _frame: object) -> None:
        self.scheduler.add_job(self._reload, id="reload", name="reload", replace_existing=True)

    def _reload(self) -> None:
        try:
            config = load_config(self.config_path)
        except ConfigError as error:
            first = str(error).splitlines()[0]
            log_event(
                log, "reload_failed", level=logging.WARNING, error=first, kept="the running configuration"
            )
            return
        if config.settings.database != self.config.settings.database:
            log_event(
                log,
                "reload_failed",
                level=logging.WARNING,
                error="database cannot change while running; restart instead",
            )
            return
        with self._polling, self._delivering:
            old_poller, old_deliverer = self.poller, self.deliverer
            self.config = config
            self._start_workers(config)
            for old in (old_poller, old_deliverer):
                if old is not None:
                    old.close()
            self._schedule(config)
        log_event(log, "reloaded", feeds=len(config.feeds), channels=len(config.channels))

    # -- jobs --

    def _tracked(self, job: Callable[..., None]) -> Callable[..., None]:
        """A job that counts itself as running, and does not start once the daemon is stopping."""

        def run(*args: object) -> None:
            with self._idle:
                if self._stopping.is_set():
                    return
                self._busy += 1
            try:
                job(*args)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

        return run

    def _schedule(self, config: Config) -> None:
        for job in self.scheduler.get_jobs():
            if job.id not in ("ready", "reload"):
                job.remove()
        now = self.clock()
        self.scheduler.add_job(
            self._tracked(self._poll), IntervalTrigger(seconds=POLL_EVERY_S), id="poll", name="poll",
            next_run_time=now,
        )  # fmt: skip
        self.scheduler.add_job(
            self._tracked(self._deliver),
            IntervalTrigger(seconds=DELIVER_EVERY_S),
            id="deliver",
            name="deliver",
        )
        self.scheduler.add_job(
            self._heartbeat, IntervalTrigger(seconds=HEARTBEAT_EVERY_S), id="heartbeat", name="heartbeat"
        )
        self.scheduler.add_job(
            self._tracked(self._retention),
            IntervalTrigger(seconds=RETENTION_EVERY_S),
            id="retention",
            name="retention",
            next_run_time=now + timedelta(seconds=30),
        )
        for channel in config.channels:
            if channel.mode == "digest" and channel.enabled and channel.schedule:
                trigger = CronTrigger.from_crontab(channel.schedule, timezone=ZoneInfo(channel.timezone))
                self.scheduler.add_job(
                    self._tracked(self._digest), trigger, args=[channel.name], id=f"digest:{channel.name}",
                    name="digest",
                )  # fmt: skip

    def _poll(self) -> None:
        with self._polling:
            assert self.poller is not None
            report = self.poller.poll(self.clock())
        self.state.last_poll_at = self.clock()
        self.metrics.observe_poll(report)
        if report.feeds:
            stories = report.stories
            log_event(
                log,
                "poll",
                feeds=report.feeds,
                fetched=report.fetched,
                not_modified=report.not_modified,
                errors=report.errors,
                new=report.new_items,
                updated=report.updated_items,
                relevant=stories.relevant_items if stories else 0,
                alerts=stories.queued if stories else 0,
                duration_s=f"{report.duration_s:.2f}",
            )
            for result in report.results:
                if result.outcome == "error":
                    log_event(
                        log,
                        "feed_error",
                        level=logging.WARNING,
                        feed=result.name,
                        reason=result.reason,
                        error=result.error,
                    )

    def _deliver(self) -> None:
        started = time.monotonic()
        with self._delivering:
            assert self.deliverer is not None
            report = self.deliverer.deliver_due(self.clock())
        if report.attempted:
            self.metrics.observe_delivery(report, time.monotonic() - started)
            log_event(
                log, "deliver", attempted=report.attempted, sent=report.sent, retrying=report.retrying,
                dead=report.dead,
            )  # fmt: skip

    def _digest(self, channel_name: str) -> None:
        assert self.store is not None
        channel = self.config.channel(channel_name)
        queued = queue_digest(self.store, self.config, channel, self.clock())
        log_event(log, "digest", channel=channel.name, queued=queued)
        if queued:
            self._deliver()

    def _send_missed_digests(self) -> None:
        """A digest whose time passed while the service was down is sent once, now."""
        assert self.store is not None
        now = self.clock()
        for channel in self.config.channels:
            if channel.mode != "digest" or not channel.enabled or not channel.schedule:
                continue
            last = self.store.last_digest(channel.name)
            if last is not None and _missed(channel, last, now):
                log_event(
                    log,
                    "digest_missed",
                    level=logging.WARNING,
                    channel=channel.name,
                    last=last.isoformat(timespec="minutes"),
                )
                self._digest(channel.name)

    def _retention(self) -> None:
        assert self.store is not None
        now = self.clock()
        pruned = apply_retention(self.store, self.config, now)
        log_event(
            log, "retention", items=pruned.items_pruned, fetch_log=pruned.fetch_log_pruned,
            alerts=pruned.alerts_pruned,
        )  # fmt: skip

    def _heartbeat(self) -> None:
        """Systemd's watchdog is fed only while the database answers: a daemon that cannot store what it
        fetches is restarted rather than left running blind."""
        assert self.store is not None
        try:
            self.store.check_writable()
            counts = self.store.outbox_counts()
            self.state.feeds = len(self.config.feeds)
            self.state.queue = counts.get("pending", 0) + counts.get("failed", 0)
            self.state.dead = counts.get("dead", 0)
            self.metrics.refresh(self.store)
        except AggregatorError as error:
            self.state.database_problem = str(error)
            log_event(log, "database_unavailable", level=logging.WARNING, error=str(error))
            self.notifier.notify(status=f"database unavailable: {error}")
            return
        self.state.database_problem = None
        self.state.last_heartbeat_at = self.clock()
        self.notifier.notify(watchdog="1", status=self._status_line())

    def _status_line(self) -> str:
        last = self.state.last_poll_at.isoformat(timespec="seconds") if self.state.last_poll_at else "not yet"
        state = self.state
        return f"{state.feeds} feeds; last poll {last}; {state.queue} alerts queued; {state.dead} dead"

    def health_problem(self) -> str | None:
        """None when healthy; else why not (served by /healthz as a 503)."""
        if self.state.database_problem:
            return f"database: {self.state.database_problem}"
        beat = self.state.last_heartbeat_at
        if beat is None:
            return "starting"
        if self.clock() - beat > timedelta(seconds=3 * HEARTBEAT_EVERY_S):
            return f"the scheduler has not ticked since {beat.isoformat(timespec='seconds')}"
        return None

    def _job_failed(self, event: JobExecutionEvent) -> None:
        log_event(
            log, "job_failed", job=event.job_id, error=f"{type(event.exception).__name__}: {event.exception}"
        )


def _missed(channel: ChannelConfig, last: datetime, now: datetime) -> bool:
    assert channel.schedule is not None
    trigger = CronTrigger.from_crontab(channel.schedule, timezone=ZoneInfo(channel.timezone))
    due = trigger.get_next_fire_time(None, last + timedelta(seconds=1))
    return due is not None and due <= now


def run_daemon(config: Config, config_path: str) -> int:
    return Daemon(config, config_path).run()
