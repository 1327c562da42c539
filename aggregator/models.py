"""Frozen dataclasses that cross stage boundaries. Library objects never leave the stage that made them."""

from __future__ import annotations

import dataclasses
import itertools
import json
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import FeedError

if TYPE_CHECKING:
    from .classify import RuleSet

_Class = TypeVar("_Class", bound=type)


def pickles_as_tuple(cls: _Class) -> _Class:
    """Pickle a frozen slots dataclass as its constructor call with its values. The default for slots
    dataclasses walks ``fields()`` once per object both ways: parse workers send tens of thousands of items
    and verdicts to the writer in a cold poll, and that walk cost the writer more time than storing them."""
    values = operator.attrgetter(*(f.name for f in dataclasses.fields(cls)))

    def __reduce__(self: object) -> tuple[object, tuple[object, ...]]:
        return (cls, values(self))

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


# --- fetch -------------------------------------------------------------------------------------------


class FetchOutcome(StrEnum):
    OK = "ok"  # 200 with a body
    NOT_MODIFIED = "not_modified"  # 304: validators matched, nothing to parse
    ERROR = "error"  # see FetchResult.error


@dataclass(frozen=True, slots=True)
class FetchLimits:
    timeout_s: float = 30.0  # wall clock for the whole fetch: connect, headers and body, every hop
    connect_timeout_s: float = 10.0
    max_bytes: int = 10 * 1024 * 1024  # on decoded bytes
    max_redirects: int = 5
    allow_private_networks: bool = False
    user_agent: str = ""


@dataclass(frozen=True, slots=True)
class FetchResult:
    requested_url: str
    final_url: str
    outcome: FetchOutcome
    status: int | None = None
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names, final response
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None  # every hop was 301/308: the feed's new address
    retry_after: float | None = None  # seconds, from Retry-After on 429/503
    error: FeedError | None = None
    bytes_read: int = 0
    duration_s: float = 0.0


# --- parse -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One entry as the feed states it. Text fields may hold HTML where the *_html flag says so."""

    guid: str | None = None
    link: str | None = None  # absolute where the feed gave a base to resolve against
    title: str | None = None
    title_html: bool = False
    summary: str | None = None
    summary_html: bool = False
    content: str | None = None
    content_html: bool = False
    author: str | None = None
    published: datetime | None = None  # aware, UTC
    updated: datetime | None = None  # aware, UTC
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    format: str  # rss20, rss10, atom10, json1 ... (feedparser's names where it has one)
    parser: str  # "fast" (lxml), "feedparser", or "json"
    title: str | None = None
    link: str | None = None
    language: str | None = None
    entries: tuple[RawEntry, ...] = ()
    problem: str | None = None  # why the feed needed recovery (feedparser's bozo), if it did
    skipped: int = 0  # entries dropped as unusable


# --- normalise ---------------------------------------------------------------------------------------


@pickles_as_tuple
@dataclass(frozen=True, slots=True)
class Item:
    feed: str  # feed name
    key: str  # stable identity within the feed
    url: str | None
    canonical_url: str | None
    title: str
    summary: str
    content: str | None
    author: str | None
    published: datetime  # aware, UTC; first-seen when the feed's date is unusable
    updated: datetime | None
    date_flag: str | None  # why published is first-seen: missing, before_1990, future, ...
    language: str | None
    fingerprint: str  # of the normalised text: the same story text from another feed
    content_hash: str  # of every stored field: a change means a revision


# --- feed state --------------------------------------------------------------------------------------


class FeedStatus(StrEnum):
    NEW = "new"  # never fetched
    OK = "ok"
    ERROR = "error"  # failing, backing off until next_due
    GONE = "gone"  # 410 or similar: not polled until the config changes
    DISABLED = "disabled"  # no longer in the configuration


@dataclass(frozen=True, slots=True)
class FeedState:
    id: int
    name: str
    url: str  # current address (after permanent redirects)
    config_url: str  # as written in feeds.toml
    status: FeedStatus = FeedStatus.NEW
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None  # sha256 of the last body: new content is decided by content
    next_due: datetime | None = None
    error_count: int = 0
    last_error: str | None = None
    last_error_reason: str | None = None
    last_status: int | None = None
    last_fetch_at: datetime | None = None
    last_success_at: datetime | None = None
    gone_reason: str | None = None
    last_problem: str | None = None  # the last good fetch needed recovery: malformed, mis-encoded, bad dates


@dataclass(frozen=True, slots=True)
class FetchLogEntry:
    feed_id: int
    started_at: datetime
    duration_s: float
    outcome: str  # ok, not_modified, unchanged, error
    status: int | None = None
    reason: str | None = None
    bytes: int = 0
    new_items: int = 0
    updated_items: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SaveResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    other_source: int = 0  # already stored from another feed: recorded as a source
    tombstoned: int = 0  # pruned earlier: never comes back as new
    # Where the story stage has work (routing, not counts: equality ignores them). (key, item id) of items
    # classified relevant that belong to no story yet, new or revised into relevance; and of other feeds'
    # items that this feed now also carries.
    new_relevant: tuple[tuple[str, int], ...] = field(default=(), compare=False)
    new_sources: tuple[tuple[str, int], ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class PolledFeed:
    """One feed's poll, as the pipeline hands it to the store: its new state, its log entry, its items."""

    state: FeedState
    log: FetchLogEntry
    items: tuple[Item, ...] = ()
    verdicts: tuple[StoredVerdict | None, ...] = ()  # one per item, in order; None: stored one still holds
    terms: tuple[tuple[frozenset[str], frozenset[str]] | None, ...] = ()  # story-stage words, relevant items


# --- classify ----------------------------------------------------------------------------------------

EVENT_TYPES = ("NEW_ROUND", "EXCHANGE", "DEADLINE")


@pickles_as_tuple
@dataclass(frozen=True, slots=True)
class ClassifierConfig:
    """The [classifier] section of the configuration: which rules classify items (default: the packaged
    set). Plain data here, not in config or classify: a parse worker receives it without importing what the
    configuration needs (SQLAlchemy, requests), and the configuration reads it without compiling the rules."""

    rules_path: Path | None = None  # replaces the packaged rules (relative ones anchored at the config)
    threshold: float | None = None  # overrides the rule set's relevance threshold
    terms: tuple[Mapping[str, Any], ...] = ()  # inline rules added to (or replacing, by name) the rule set

    def load_rules(self, source: str = "[classifier]") -> RuleSet:
        """The compiled rule set this section describes (ConfigError naming the file and the rule)."""
        from .classify import load_rules

        return load_rules(
            self.rules_path, extra=self.terms, threshold=self.threshold, extra_source=source,
            extra_key="classifier.terms",
        )  # fmt: skip


@pickles_as_tuple
@dataclass(frozen=True, slots=True)
class Evidence:
    """One matched span that contributed to a verdict (offsets into the classified text)."""

    rule: str  # the rule's name, e.g. "round.ordinal_near_talks"
    start: int
    end: int
    text: str  # the matched text, exactly as it appears in the classified text


# How long the story stage keeps stories and events for matching (DedupSettings.retention's default)
STORY_RETENTION = timedelta(days=30)

# The evidence rule of a date fact taken from the item's own day (classify), which the story stage does not
# match on: "The meeting ended" without a day is today's news, most likely, but not certainly
DATE_OF_PUBLICATION = "fact.date_of_publication"


@dataclass(frozen=True, slots=True)
class DetectedEvent:
    type: str  # "NEW_ROUND" | "EXCHANGE" | "DEADLINE"
    score: float
    # round:int, place:str, date:"YYYY-MM-DD", count:int, deadline:"YYYY-MM-DD" or a span like "50 days"
    facts: Mapping[str, object]
    evidence: tuple[Evidence, ...]

    def __reduce__(self) -> tuple[object, ...]:
        # Verdicts travel from parse workers to the writer; a read-only facts mapping would not pickle.
        return (DetectedEvent, (self.type, self.score, dict(self.facts), self.evidence))


@pickles_as_tuple
@dataclass(frozen=True, slots=True)
class Classification:
    relevant: bool
    score: float
    events: tuple[DetectedEvent, ...]
    evidence: tuple[Evidence, ...]  # what made it relevant (or not: exclusions too)
    rules_version: str  # a hash of the rule set: stored results say which rules made them


MAX_STORED_EVIDENCE = 24  # spans kept per verdict: enough to explain it, bounded for long articles


@pickles_as_tuple
@dataclass(frozen=True, slots=True)
class StoredVerdict:
    """A verdict as the store writes it, its events and evidence already JSON text: what a parse worker
    sends the writer. Made where the item was classified, in parallel; a cold poll's 30,000 verdicts carry
    110,000 evidence spans, and unpickling them one object each, then serialising them, was a tenth of the
    writer's time."""

    relevant: bool
    score: float
    event_types: str  # their types, comma-separated
    events_json: str
    evidence_json: str
    rules_version: str
    events: tuple[DetectedEvent, ...] = ()  # of a relevant verdict only: what the story stage reads

    @classmethod
    def of(cls, verdict: Classification) -> StoredVerdict:
        events = [
            {"type": ev.type, "score": ev.score, "facts": dict(ev.facts), "evidence": _evidence(ev.evidence)}
            for ev in verdict.events
        ]
        return cls(
            relevant=verdict.relevant,
            score=float(verdict.score),
            event_types=",".join(event.type for event in verdict.events),
            events_json=json.dumps(events) if events else "[]",
            evidence_json=_evidence_json(verdict.evidence),
            rules_version=verdict.rules_version,
            events=verdict.events if verdict.relevant else (),
        )


def _evidence(items: Iterable[Evidence]) -> list[dict[str, Any]]:
    return [
        {"rule": e.rule, "start": e.start, "end": e.end, "text": e.text}
        for e in itertools.islice(items, MAX_STORED_EVIDENCE)
    ]


def _evidence_json(items: Sequence[Evidence]) -> str:
    """json.dumps(_evidence(items)), written directly: a cold poll stores a verdict per item, and making
    dicts for json to take apart again cost more than the rest of making stored verdicts."""
    parts = []
    for e in itertools.islice(items, MAX_STORED_EVIDENCE):
        if not (type(e.rule) is str and type(e.start) is int and type(e.end) is int and type(e.text) is str):
            return json.dumps(_evidence(items))  # what the shortcut below does not spell the same
        parts.append(
            f'{{"rule": {_json_string(e.rule)}, "start": {e.start}, "end": {e.end}, '
            f'"text": {_json_string(e.text)}}}'
        )
    return f"[{', '.join(parts)}]"


_json_string = json.encoder.encode_basestring_ascii  # a str as json.dumps writes it (ensure_ascii)


# --- deduplicate -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoryInput:
    """One relevant item as this stage needs it."""

    key: str  # the item's identity for the caller: a database id or a corpus id
    source: str  # the outlet (feed name)
    title: str
    summary: str
    published: datetime  # UTC; the caller uses first-seen when the item has no date
    events: tuple[DetectedEvent, ...] = ()
    item_id: int | None = None
    # (words, actors) as deduplicate.text_terms makes them, when a worker process made them already
    terms: tuple[frozenset[str], frozenset[str]] | None = None


@dataclass(frozen=True, slots=True)
class StoryEvent:
    """What a story says about one event type: the facts its items agree on and its stage."""

    type: str
    facts: Mapping[str, object]
    stage: str
    stage_counts: Mapping[str, int] = field(default_factory=dict)  # stage -> the story's items reporting it


@dataclass(frozen=True, slots=True)
class Story:
    id: str
    first_seen: datetime
    last_seen: datetime
    headline: str
    item_count: int
    sources: tuple[str, ...]
    events: tuple[StoryEvent, ...]
    event_ids: Mapping[str, str]  # event type -> tracked event id
    terms: Mapping[str, int]  # word -> number of the story's items carrying it (the text signature)
    actors: tuple[str, ...]
    primaries: Mapping[str, int] = field(default_factory=dict)  # main event type -> items ("" none)


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    key: str  # built from the facts known so far, e.g. "NEW_ROUND:istanbul:round-3:2025-07-23"
    status: str
    facts: Mapping[str, object]
    first_seen: datetime
    last_seen: datetime
    story_ids: tuple[str, ...]
    sources: tuple[str, ...]
    last_alert_story: str | None = None  # the story whose item caused the last alert
    last_alert_at: datetime | None = None  # that item's publication time


@dataclass(frozen=True, slots=True)
class AlertDecision:
    """Whether one item's report of one event deserves an alert, and why."""

    event_id: str
    event_type: str
    story_id: str
    item_key: str
    alert: bool
    kind: str  # "new", "update", "repeat" or "pending" (a weak reading waiting for a second outlet)
    reason: str
    status: str
    facts: Mapping[str, object]
    sources: int  # independent outlets that reported the event so far
    decided_at: datetime
    item_id: int | None = None


# --- outbox and delivery ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Report:
    """One outlet's report of a story, as alerts and digests show it."""

    outlet: str
    title: str
    url: str | None
    published: datetime


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """Everything a channel needs to render one alert; plain data taken from the stored decision.

    ``idempotency_key`` is stable per (decision, channel): a resend after a crash carries the same key, so a
    receiver can drop the repeat (the `webhook-id` header, the JSON `id`, the e-mail Message-ID).
    """

    idempotency_key: str
    kind: str  # "new", "update" or "test"
    event_type: str  # NEW_ROUND, EXCHANGE, DEADLINE
    event_id: str
    status: str  # the event's status: proposed, scheduled, under_way, held, agreed, carried_out, set, ...
    facts: Mapping[str, object]  # round, place, date, count, deadline (as classified)
    reason: str  # why it fired: "new NEW_ROUND event (scheduled)", "status scheduled -> held", ...
    headline: str  # the story's headline (feed text: untrusted)
    reports: tuple[Report, ...]  # the first reports of the story, oldest first (feed text: untrusted)
    outlets: int  # how many outlets carry the event so far
    first_seen: datetime
    evidence: tuple[str, ...] = ()  # matched phrases that made the classifier see the event (untrusted)
    created_at: datetime | None = None  # when the decision was recorded


@dataclass(frozen=True, slots=True)
class DigestStory:
    headline: str
    reports: tuple[Report, ...]  # oldest first
    outlets: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    event_types: tuple[str, ...]
    facts: Mapping[str, Mapping[str, object]]  # event type -> facts
    is_new: bool  # first reported since the previous digest (else: updated since)


@dataclass(frozen=True, slots=True)
class DigestEvent:
    """A tracked event for the digest's status section (next round, open deadlines, recent swaps)."""

    type: str
    status: str
    facts: Mapping[str, object]
    first_seen: datetime
    last_seen: datetime
    outlets: int


@dataclass(frozen=True, slots=True)
class Digest:
    channel: str
    since: datetime  # the previous digest (or the start of the period)
    until: datetime
    timezone: str  # IANA name, for showing times
    stories_by_event: Mapping[str, tuple[DigestStory, ...]]  # NEW_ROUND, EXCHANGE, DEADLINE -> stories
    other_stories: tuple[DigestStory, ...]  # relevant stories without an event
    events: tuple[DigestEvent, ...]  # tracked events still open or recently changed
    generated_at: datetime


@dataclass(frozen=True, slots=True)
class AlertRoute:
    """Which alert decisions a channel receives, as the store needs to know when it writes the outbox."""

    channel: str
    events: frozenset[str]
    confirm: int = 1  # wait until this many outlets report the event


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    channel: str
    kind: str  # "alert", "test" or "digest"
    idempotency_key: str
    status: str  # pending, failed (will retry), sent, dead
    attempts: int
    next_attempt_at: datetime
    payload: Mapping[str, object]  # an AlertMessage (alert_message_to_json) or a rendered digest e-mail
    created_at: datetime
    last_error: str | None = None
    last_status: int | None = None
    sent_at: datetime | None = None
    decision_id: int | None = None
    event_id: str | None = None


def alert_message_to_json(message: AlertMessage) -> dict[str, object]:
    def when(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {
        "idempotency_key": message.idempotency_key,
        "kind": message.kind,
        "event_type": message.event_type,
        "event_id": message.event_id,
        "status": message.status,
        "facts": dict(message.facts),
        "reason": message.reason,
        "headline": message.headline,
        "reports": [
            {"outlet": r.outlet, "title": r.title, "url": r.url, "published": when(r.published)}
            for r in message.reports
        ],
        "outlets": message.outlets,
        "first_seen": when(message.first_seen),
        "evidence": list(message.evidence),
        "created_at": when(message.created_at),
    }


def alert_message_from_json(data: Mapping[str, object]) -> AlertMessage:
    def when(value: object) -> datetime | None:
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    reports = data.get("reports") or []
    assert isinstance(reports, list)
    return AlertMessage(
        idempotency_key=str(data["idempotency_key"]),
        kind=str(data["kind"]),
        event_type=str(data["event_type"]),
        event_id=str(data["event_id"]),
        status=str(data["status"]),
        facts=dict(data.get("facts") or {}),  # type: ignore[call-overload]
        reason=str(data.get("reason") or ""),
        headline=str(data.get("headline") or ""),
        reports=tuple(
            Report(
                outlet=str(r["outlet"]),
                title=str(r["title"]),
                url=r.get("url"),
                published=when(r.get("published")) or datetime.fromtimestamp(0).astimezone(),
            )
            for r in reports
        ),
        outlets=int(data.get("outlets") or 0),  # type: ignore[call-overload]
        first_seen=when(data.get("first_seen")) or datetime.fromtimestamp(0).astimezone(),
        evidence=tuple(str(e) for e in data.get("evidence") or ()),  # type: ignore[attr-defined]
        created_at=when(data.get("created_at")),
    )
