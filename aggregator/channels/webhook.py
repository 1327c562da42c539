"""The generic JSON webhook: a documented, versioned schema, signed by the Standard Webhooks convention.

Schema ``aggregator.alert/1`` (fields are only ever added within a version; a change of meaning or a removal
makes ``aggregator.alert/2``)::

    {
      "schema": "aggregator.alert/1",
      "id": "<idempotency key>",          # the same on every retry of this alert to this channel
      "type": "alert.new" | "alert.update" | "alert.test",
      "timestamp": "2025-07-20T09:30:00Z", # when this request was made (a retry has a later one)
      "data": {
        "summary": "Third round of Russia–Ukraine talks set for 23 July in Istanbul",
        "kind": "new" | "update" | "test",
        "change": "was scheduled" | null,  # what an update changed, in words; null unless kind is update
        "reason": "new NEW_ROUND event (scheduled)",  # why it fired, as the event tracker recorded it
        "event": {"id": "...", "type": "NEW_ROUND" | "EXCHANGE" | "DEADLINE", "status": "scheduled",
                  "facts": {"round": 3, "place": "Istanbul", "date": "2025-07-23"}},
        "headline": "...",                 # the story's headline
        "reports": [{"outlet": "...", "title": "...", "url": "https://..." | null,
                     "published": "2025-07-20T08:55:00Z"}],   # the first reports, oldest first
        "reports_total": 12,               # how many reports the alert had (the list may be shorter)
        "outlets": 7,                      # outlets carrying the event so far
        "first_seen": "2025-07-20T08:55:00Z",
        "decided_at": "2025-07-20T09:00:00Z" | null,
        "evidence": ["third round", "will be held", "Istanbul"]   # phrases that made the classifier see it
      }
    }

Text is plain (no markup, no escaping: the receiver escapes for wherever it shows it), one line, with
control, bidi and zero-width characters removed. URLs are http or https, else null. Times are UTC, ISO 8601.
At most 20 reports and 50 evidence phrases; the body stays under 64 KiB.

Headers (Standard Webhooks, standardwebhooks.com): ``webhook-id`` is the ``id`` above; with a secret,
``webhook-timestamp`` (Unix seconds, the same moment as ``timestamp``) and ``webhook-signature`` =
``v1,`` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")), where the key is the
base64-decoded part of a ``whsec_…`` secret, or the secret's UTF-8 bytes otherwise. A receiver should
check the signature against the raw body, reject timestamps more than a few minutes off, and drop an ``id``
it has already processed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..models import AlertMessage
from .base import (
    Detail,
    OutgoingRequest,
    as_utc,
    change_text,
    clean_text,
    evidence_phrases,
    first_fitting,
    json_body,
    json_request,
    safe_url,
    shorten,
    summary_line,
)

SCHEMA = "aggregator.alert/1"
MAX_BODY_BYTES = 64 * 1024
REPORTS_MAX = 20
EVIDENCE_MAX = 50
HEADLINE_MAX = 1000
TEXT_MAX = 500

# A generic receiver has no markup limits, only size: it gets more of everything than a chat card.
LEVELS = (
    Detail(reports=REPORTS_MAX, evidence=EVIDENCE_MAX, title_max=HEADLINE_MAX),
    Detail(reports=REPORTS_MAX, evidence=10, title_max=500),
    Detail(reports=10, evidence=0, title_max=300),
    Detail(reports=3, evidence=0, title_max=200),
    Detail(reports=1, evidence=0, title_max=120),
)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def _fact_value(value: object) -> object:
    """Facts as JSON: numbers and booleans as they are, everything else as clean text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return shorten(clean_text(value), TEXT_MAX)


def _payload(message: AlertMessage, detail: Detail, now: datetime) -> dict[str, Any]:
    kind = clean_text(message.kind)
    reports = [
        {
            "outlet": shorten(clean_text(report.outlet), 200),
            "title": shorten(clean_text(report.title), detail.title_max),
            "url": safe_url(report.url),
            "published": _iso(report.published),
        }
        for report in message.reports[: detail.reports]
    ]
    return {
        "schema": SCHEMA,
        "id": message.idempotency_key,
        "type": f"alert.{kind}",
        "timestamp": _iso(now),
        "data": {
            "summary": summary_line(message),
            "kind": kind,
            "change": shorten(change_text(message), TEXT_MAX) if message.kind == "update" else None,
            "reason": shorten(clean_text(message.reason), TEXT_MAX),
            "event": {
                "id": clean_text(message.event_id),
                "type": clean_text(message.event_type),
                "status": clean_text(message.status),
                "facts": {
                    shorten(clean_text(name), 100): _fact_value(value)
                    for name, value in sorted((message.facts or {}).items(), key=lambda pair: str(pair[0]))
                },
            },
            "headline": shorten(clean_text(message.headline), max(detail.title_max, 120)),
            "reports": reports,
            "reports_total": len(message.reports),
            "outlets": message.outlets,
            "first_seen": _iso(message.first_seen),
            "decided_at": _iso(message.created_at),
            "evidence": evidence_phrases(message, detail.evidence),
        },
    }


def render(message: AlertMessage, now: datetime) -> OutgoingRequest:
    payload = first_fitting(
        lambda detail: _payload(message, detail, now),
        lambda p: len(json_body(p)) <= MAX_BODY_BYTES,
        levels=LEVELS,
    )
    return json_request(message, payload)
