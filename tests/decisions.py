"""Alert decisions made the way a poll makes them, for the delivery and health tests: real classification,
real story assignment, decisions and outbox rows written to the real store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from aggregator.classify import classify, default_rules
from aggregator.config import Config
from aggregator.deduplicate import Deduplicator
from aggregator.models import StoryInput
from aggregator.pipeline import alert_routes, write_assignments
from aggregator.store import Store


def record(
    config: Config,
    store: Store,
    deduplicator: Deduplicator,
    reports: Sequence[tuple[str, str, str]],
    *,
    now: datetime,
) -> int:
    """Classify and assign ``(outlet, title, summary)`` reports, ten minutes apart from ``now``, as a poll
    would; the number of outbox rows written. Every report must be relevant and name an event."""
    rules = default_rules()
    assignments = []
    for n, (outlet, title, summary) in enumerate(reports):
        published = now + timedelta(minutes=10 * n)
        verdict = classify(title, summary, published.date(), rules)
        assert verdict.relevant and verdict.events, title
        item = StoryInput(f"{outlet}-{n}", outlet, title, summary, published, verdict.events)
        assignments.append(deduplicator.assign(item))
    return write_assignments(store, assignments, now, routes=alert_routes(config))
