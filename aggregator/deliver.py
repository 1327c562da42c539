"""The outbox loop: due rows → their channel → sent, retried later, or dead; at least once, none lost.

Alert rows are written by the store in the transaction that records the decision (see Store.record_stories);
this module only sends what is due. A row is claimed for a lease before it is sent, so two deliverers (the
daemon and an operator's `deliver --once`) never send it at the same time; a deliverer that dies between
sending and marking loses its claim when the lease ends, and the row is sent again with the same idempotency
key, which receivers use to drop the repeat.

Outcomes: a 2xx answer (or an accepted e-mail) is sent. 408, 429, 5xx, timeouts and dropped connections are
retried with exponential backoff and jitter (429 and 503 honour Retry-After). 400 and the other 4xx, a refused
address and a permanent SMTP error are dead at once: retrying cannot help. After the channel's max_attempts
the row is dead too. Dead rows stay in the table, visible (`aggregator alerts --status dead`) and replayable
(`aggregator alerts retry`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .channels import render
from .channels.email import EmailSettings, alert_email, send_email
from .config import ChannelConfig, Config
from .digest import digest_email, is_empty, load_templates, render_digest
from .errors import BlockedAddressError, ConfigError, DeliveryError, FetchError
from .fetch import Fetcher, PostResult, parse_retry_after
from .logs import log_event
from .models import (
    AlertMessage,
    Digest,
    DigestEvent,
    DigestStory,
    Event,
    OutboxRow,
    Report,
    alert_message_from_json,
)
from .store import Store, idempotency_key

log = logging.getLogger(__name__)

FIRST_RETRY_S = 30.0
MAX_RETRY_S = 4 * 3600.0  # 30 s doubling: 12 attempts span about a day
MAX_RETRY_AFTER_S = 24 * 3600.0
LEASE_S = 120.0  # a send takes at most the timeout; the lease outlives it
SEND_TIMEOUT_S = 20.0
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(slots=True)
class DeliveryReport:
    attempted: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    skipped: int = 0  # the channel is disabled or gone: left as it was
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "attempted": self.attempted,
            "sent": self.sent,
            "retrying": self.retrying,
            "dead": self.dead,
            "skipped": self.skipped,
            "errors": list(self.errors),
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to: sent, or why not and whether trying again can help."""

    sent: bool
    retryable: bool = False
    status: int | None = None
    error: str | None = None
    retry_after_s: float | None = None


def backoff_s(attempts: int, rng: random.Random) -> float:
    """Seconds before the next attempt after ``attempts`` failures: doubling, capped, with ±20% jitter so
    that alerts that failed together (a receiver down) do not all come back at the same second."""
    base = min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** max(0, attempts - 1))
    return base * rng.uniform(0.8, 1.2)


def next_attempt(now: datetime, attempts: int, outcome: Outcome, rng: random.Random) -> datetime:
    wait = backoff_s(attempts, rng)
    if outcome.retry_after_s is not None:
        wait = max(wait, min(outcome.retry_after_s, MAX_RETRY_AFTER_S))
    return now + timedelta(seconds=wait)


class Deliverer:
    """Sends due outbox rows. Holds the HTTP client (with the feeds' address policy) across rounds."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        fetcher: Fetcher | None = None,
        clock: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.fetcher = fetcher or Fetcher(config.settings.fetch_limits())
        self._own_fetcher = fetcher is None
        self.clock = clock
        self.rng = rng or random.Random()
        self.stopping = False  # set from a signal handler: finish the row in hand, claim no more

    def close(self) -> None:
        if self._own_fetcher:
            self.fetcher.close()

    def __enter__(self) -> Deliverer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def deliver_due(self, now: datetime, *, ignore_backoff: bool = False, limit: int = 200) -> DeliveryReport:
        report = DeliveryReport()
        channels = {channel.name: channel for channel in self.config.channels}
        rows = self.store.claim_due_alerts(now, lease_s=LEASE_S, limit=limit, ignore_backoff=ignore_backoff)
        for row in rows:
            if self.stopping:
                self.store.release_alert(row.id)
                continue
            channel = channels.get(row.channel)
            if channel is None or not channel.enabled:
                report.skipped += 1
                self.store.release_alert(row.id)  # kept for when the channel comes back
                continue
            report.attempted += 1
            outcome = self.attempt(channel, row)
            self._record(row, channel, outcome, now if self.clock is None else self.clock(), report)
        return report

    def send_now(self, channel: ChannelConfig, message: AlertMessage, now: datetime) -> OutboxRow:
        """Queue ``message`` for ``channel`` and send it at once through the real path (`alerts test`)."""
        self.store.enqueue(channel.name, message.kind, message, now)
        row = self.store.alert(key=message.idempotency_key)
        assert row is not None
        claimed = self.store.claim_alert(row.id, now, lease_s=LEASE_S)
        if claimed is not None:
            self._record(claimed, channel, self.attempt(channel, claimed), now, DeliveryReport())
        final = self.store.alert(alert_id=row.id)
        assert final is not None
        return final

    def attempt(self, channel: ChannelConfig, row: OutboxRow) -> Outcome:
        """One delivery attempt; never raises for what a receiver or the network does."""
        try:
            if channel.type == "email":
                return self._send_email(channel, row)
            return self._post(channel, row)
        except DeliveryError as error:
            return Outcome(False, error.retryable, error.status, str(error), error.retry_after_s)
        except Exception as exc:  # a rendering bug must cost one row an attempt, not the loop
            log.exception("delivery of alert %s to %s failed", row.id, channel.name)
            return Outcome(False, True, None, f"internal error: {type(exc).__name__}: {exc}")

    def _post(self, channel: ChannelConfig, row: OutboxRow) -> Outcome:
        assert channel.url is not None
        message = alert_message_from_json(row.payload)
        request = render(channel.type, message, secret=channel.secret)
        headers = {"Content-Type": request.content_type, **request.headers}
        try:
            answer = self.fetcher.post(channel.url, request.body, headers, timeout_s=SEND_TIMEOUT_S)
        except BlockedAddressError as error:
            return Outcome(False, False, None, f"refused: {error}")
        except FetchError as error:
            return Outcome(False, True, getattr(error, "status", None), f"{error.reason}: {error}")
        return _http_outcome(answer)

    def _send_email(self, channel: ChannelConfig, row: OutboxRow) -> Outcome:
        settings = email_settings(channel)
        templates = load_templates(self.config.settings.templates)
        if row.kind == "digest":
            digest = digest_from_json(row.payload)
            message = digest_email(digest, settings, templates, row.idempotency_key)
        else:
            message = alert_email(alert_message_from_json(row.payload), settings, templates)
        send_email(message, settings)
        return Outcome(True)

    def _record(
        self, row: OutboxRow, channel: ChannelConfig, outcome: Outcome, now: datetime, report: DeliveryReport
    ) -> None:
        attempts = row.attempts + 1
        if outcome.sent:
            self.store.mark_sent(row.id, now, outcome.status)
            report.sent += 1
            log_event(log, "alert_sent", id=row.id, channel=channel.name, key=row.idempotency_key)
            return
        error = outcome.error or "failed"
        if outcome.retryable and attempts < channel.max_attempts:
            when = next_attempt(now, attempts, outcome, self.rng)
            self.store.mark_retry(row.id, attempts, when, error, outcome.status)
            report.retrying += 1
            log_event(
                log, "alert_retry", level=logging.WARNING, id=row.id, channel=channel.name, attempt=attempts,
                next=when.isoformat(timespec="seconds"), error=error,
            )  # fmt: skip
            return
        why = error if not outcome.retryable else f"{error} (gave up after {attempts} attempts)"
        self.store.mark_dead(row.id, attempts, why, outcome.status)
        report.dead += 1
        report.errors.append(f"{channel.name}: alert {row.id} is dead: {why}")
        log_event(log, "alert_dead", level=logging.ERROR, id=row.id, channel=channel.name, error=why)


def _http_outcome(answer: PostResult) -> Outcome:
    status = answer.status
    if 200 <= status < 300:
        return Outcome(True, status=status)
    reply = " ".join(answer.reply.split())[:200]
    error = f"HTTP {status} {answer.reason}".strip() + (f": {reply}" if reply else "")
    retry_after = parse_retry_after(answer.headers.get("retry-after"), datetime.now(UTC))
    if status in RETRYABLE_STATUSES:
        return Outcome(False, True, status, error, retry_after)
    if 300 <= status < 400:
        error += " (webhooks are not followed through redirects: fix the URL)"
    return Outcome(False, False, status, error)


def email_settings(channel: ChannelConfig) -> EmailSettings:
    email = channel.email
    assert email is not None
    return EmailSettings(
        smtp_host=email.smtp_host,
        smtp_port=email.smtp_port,
        security=email.security,
        username=email.username,
        password=email.password,
        sender=email.sender,
        recipients=email.recipients,
        timeout_s=SEND_TIMEOUT_S,
    )


def outbox_row_to_dict(row: OutboxRow) -> Mapping[str, object]:
    return {
        "id": row.id,
        "channel": row.channel,
        "kind": row.kind,
        "key": row.idempotency_key,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at.isoformat(),
        "last_error": row.last_error,
        "last_status": row.last_status,
        "created_at": row.created_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
    }


# --- test messages and digests ---------------------------------------------------------------------------


def test_message(channel: ChannelConfig, now: datetime) -> AlertMessage:
    """A clearly marked test alert: it goes through rendering, signing and sending like a real one."""
    return AlertMessage(
        idempotency_key=idempotency_key(f"test:{now.isoformat()}", channel.name),
        kind="test",
        event_type="NEW_ROUND",
        event_id="test",
        status="scheduled",
        facts={"round": 1, "place": "Testville", "date": now.date().isoformat()},
        reason=f"a test of channel {channel.name}, sent by `aggregator alerts test`: no real event",
        headline="TEST — aggregator test alert, not a real development",
        reports=(Report("aggregator", "Test alert from aggregator", None, now),),
        outlets=1,
        first_seen=now,
        evidence=("test",),
        created_at=now,
    )


def digest_channel(config: Config, name: str | None) -> ChannelConfig:
    digests = [c for c in config.channels if c.mode == "digest"]
    if name is not None:
        channel = config.channel(name)
        if channel.mode != "digest":
            raise ConfigError(str(config.path), "channels", f"channel {name!r} is not a digest channel")
        return channel
    if not digests:
        raise ConfigError(
            str(config.path), "channels", 'no digest channel (a [[channels]] with mode = "digest")'
        )
    return digests[0]


DIGEST_FIRST_PERIOD = timedelta(days=1)
OPEN_EVENT_DAYS = 14
FINAL_STATUSES = frozenset({"held", "carried_out", "expired"})


def collect_digest(store: Store, channel: ChannelConfig, now: datetime) -> Digest:
    """What the channel's digest reports: stories since its last digest (a day for the first), grouped by
    the events the channel takes, and the tracked events still open or recently changed."""
    since = store.last_digest(channel.name) or now - DIGEST_FIRST_PERIOD
    by_event: dict[str, list[DigestStory]] = {kind: [] for kind in channel.events}
    others: list[DigestStory] = []
    for story, reports, recorded_at in store.stories_reported_between(since, now):
        types = tuple(e.type for e in story.events)
        entry = DigestStory(
            headline=story.headline,
            reports=reports,
            outlets=story.sources,
            first_seen=story.first_seen,
            last_seen=story.last_seen,
            event_types=types,
            facts={e.type: dict(e.facts) for e in story.events},
            is_new=recorded_at >= since,
        )
        home = next((kind for kind in channel.events if kind in types), None)
        if home is not None:
            by_event[home].append(entry)
        elif not types:
            others.append(entry)
    recent = now - timedelta(days=OPEN_EVENT_DAYS)

    def worth_showing(event: Event) -> bool:
        still_open = event.status not in FINAL_STATUSES and event.last_seen >= recent
        return event.type in channel.events and (still_open or event.last_seen >= since)

    events = tuple(
        DigestEvent(e.type, e.status, dict(e.facts), e.first_seen, e.last_seen, len(e.sources))
        for e in store.list_events(limit=100)
        if worth_showing(e)
    )
    return Digest(
        channel=channel.name,
        since=since,
        until=now,
        timezone=channel.timezone,
        stories_by_event={kind: tuple(stories) for kind, stories in by_event.items()},
        other_stories=tuple(others),
        events=events,
        generated_at=now,
    )


def preview_digest(store: Store, config: Config, channel: ChannelConfig, now: datetime) -> str:
    _, _, html = render_digest(collect_digest(store, channel, now), load_templates(config.settings.templates))
    return html


def queue_digest(
    store: Store, config: Config, channel: ChannelConfig, now: datetime, *, force: bool = False
) -> bool:
    """Queue the channel's digest for delivery and move its period on. An empty digest is not sent unless
    the channel asks for it (send_empty) or an operator does (force). False when nothing was queued."""
    digest = collect_digest(store, channel, now)
    if is_empty(digest) and not (channel.send_empty or force):
        store.record_digest(channel.name, now, now)
        return False
    key = idempotency_key(f"digest:{now.isoformat()}", channel.name)
    return store.queue_digest(channel.name, digest_to_json(digest), key, now, now)


def digest_to_json(digest: Digest) -> dict[str, object]:
    def story(s: DigestStory) -> dict[str, object]:
        return {
            "headline": s.headline,
            "reports": [
                {"outlet": r.outlet, "title": r.title, "url": r.url, "published": r.published.isoformat()}
                for r in s.reports
            ],
            "outlets": list(s.outlets),
            "first_seen": s.first_seen.isoformat(),
            "last_seen": s.last_seen.isoformat(),
            "event_types": list(s.event_types),
            "facts": {k: dict(v) for k, v in s.facts.items()},
            "is_new": s.is_new,
        }

    return {
        "subject": f"digest {digest.channel} {digest.until.isoformat()}",
        "channel": digest.channel,
        "since": digest.since.isoformat(),
        "until": digest.until.isoformat(),
        "timezone": digest.timezone,
        "stories_by_event": {k: [story(s) for s in v] for k, v in digest.stories_by_event.items()},
        "other_stories": [story(s) for s in digest.other_stories],
        "events": [
            {
                "type": e.type,
                "status": e.status,
                "facts": dict(e.facts),
                "first_seen": e.first_seen.isoformat(),
                "last_seen": e.last_seen.isoformat(),
                "outlets": e.outlets,
            }
            for e in digest.events
        ],
        "generated_at": digest.generated_at.isoformat(),
    }


def digest_from_json(data: Mapping[str, object]) -> Digest:
    """The digest as it was collected when queued: a resend renders the same content."""

    def when(value: object) -> datetime:
        return datetime.fromisoformat(str(value))

    def story(s: Mapping[str, Any]) -> DigestStory:
        return DigestStory(
            headline=s["headline"],
            reports=tuple(
                Report(r["outlet"], r["title"], r.get("url"), when(r["published"])) for r in s["reports"]
            ),
            outlets=tuple(s["outlets"]),
            first_seen=when(s["first_seen"]),
            last_seen=when(s["last_seen"]),
            event_types=tuple(s["event_types"]),
            facts=s["facts"],
            is_new=bool(s["is_new"]),
        )

    raw: Mapping[str, Any] = data
    return Digest(
        channel=raw["channel"],
        since=when(raw["since"]),
        until=when(raw["until"]),
        timezone=raw["timezone"],
        stories_by_event={k: tuple(story(s) for s in v) for k, v in raw["stories_by_event"].items()},
        other_stories=tuple(story(s) for s in raw["other_stories"]),
        events=tuple(
            DigestEvent(
                e["type"], e["status"], e["facts"], when(e["first_seen"]), when(e["last_seen"]), e["outlets"]
            )
            for e in raw["events"]
        ),
        generated_at=when(raw["generated_at"]),
    )
