"""`aggregator run`: poll each feed when it is due, until SIGTERM/SIGINT.

A plain loop for now: it sleeps until the earliest due feed (at most a minute), polls what is due, and stops
between polls or during a sleep within a second of a signal. Feed schedules live in the database, so a restart
picks up where the last run stopped.
"""

from __future__ import annotations

import signal
import sys
import threading
from datetime import UTC, datetime

from .config import Config
from .pipeline import Poller, apply_retention
from .store import Store

MAX_SLEEP_S = 60.0
RETENTION_EVERY_S = 24 * 3600.0


def log(event: str, **fields: object) -> None:
    parts = " ".join(f"{k}={v}" for k, v in fields.items())
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"{stamp} {event} {parts}".rstrip(), file=sys.stderr, flush=True)


def seconds_until_next_due(store: Store, now: datetime) -> float:
    dues = [
        s.next_due
        for s in store.feed_states()
        if s.next_due is not None and s.status not in ("gone", "disabled")
    ]
    if not dues:
        return MAX_SLEEP_S
    return max(1.0, min(MAX_SLEEP_S, (min(dues) - now).total_seconds()))


def run_daemon(config: Config, config_path: str) -> int:
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log("stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with Store.open(config.settings.database) as store, Poller(config, store) as poller:
        log("started", config=config_path, feeds=len(config.feeds))
        last_retention: datetime | None = None
        while not stop.is_set():
            now = datetime.now(UTC)
            if last_retention is None or (now - last_retention).total_seconds() >= RETENTION_EVERY_S:
                pruned = apply_retention(store, config, now)
                log("retention", items=pruned.items_pruned, fetch_log=pruned.fetch_log_pruned)
                last_retention = now
            report = poller.poll(datetime.now(UTC))
            if report.feeds:
                log(
                    "poll",
                    feeds=report.feeds,
                    new=report.new_items,
                    updated=report.updated_items,
                    errors=report.errors,
                    duration_s=f"{report.duration_s:.2f}",
                )
            stop.wait(seconds_until_next_due(store, datetime.now(UTC)))
    log("stopped")
    return 0
