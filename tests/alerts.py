"""The alert the e-mail and digest tests render: the third round of talks, set for 23 July in Istanbul."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aggregator.models import AlertMessage, Report

FIRST_REPORTED = datetime(2025, 7, 13, 9, 0, tzinfo=UTC)


def third_round_alert(**changes: Any) -> AlertMessage:
    """The alert with one report; ``changes`` replace any field."""
    values: dict[str, Any] = {
        "idempotency_key": "d41.desk-mail",
        "kind": "new",
        "event_type": "NEW_ROUND",
        "event_id": "ev-17",
        "status": "scheduled",
        "facts": {"round": 3, "place": "Istanbul", "date": "2025-07-23"},
        "reason": "new NEW_ROUND event (scheduled)",
        "headline": "Russia and Ukraine to hold third round of talks in Istanbul on 23 July",
        "reports": (
            Report("Meridian Wire", "Third round set", "https://meridian-wire.example.org/a", FIRST_REPORTED),
        ),
        "outlets": 4,
        "first_seen": FIRST_REPORTED,
    }
    values.update(changes)
    return AlertMessage(**values)
