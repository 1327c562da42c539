"""Stories, events and alert decisions in the store: a real SQLite file, real items, the real classifier."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from items import news_item

from aggregator.classify import RuleSet, classify_item, default_rules
from aggregator.deduplicate import Assignment, Deduplicator
from aggregator.models import FetchLogEntry, Item, PolledFeed, StoredVerdict, StoryInput
from aggregator.pipeline import write_assignments
from aggregator.store import MIGRATIONS_DIR, Store, metadata

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# (feed, key, hours after Monday 09:00, title, summary): three outlets on one announcement, a swap, and an
# item the classifier finds irrelevant
REPORTS = [
    (
        "wire-a",
        "a1",
        0,
        "Russia and Ukraine to hold fourth round of talks in Geneva on Thursday",
        "Delegations from Russia and Ukraine will meet in Geneva on Thursday for a fourth round of direct "
        "peace talks, the Swiss foreign ministry said on Monday.",
    ),
    (
        "wire-b",
        "b1",
        2,
        "Fourth round of Russia-Ukraine negotiations set for Geneva this week",
        "Kyiv and Moscow have agreed to send negotiators to Geneva on Thursday for their fourth round of "
        "talks, Ukrainian negotiator Rustem Umerov confirmed.",
    ),
    (
        "wire-c",
        "c1",
        5,
        "Geneva to host fourth round of Ukraine peace talks, officials say",
        "A fourth round of negotiations between Ukraine and Russia will take place in Geneva on March 5, "
        "Kremlin spokesman Dmitry Peskov told reporters.",
    ),
    (
        "wire-b",
        "b2",
        3,
        "Russia and Ukraine exchange 84 prisoners of war each",
        "Russia and Ukraine exchanged 84 prisoners of war each on Sunday in a swap mediated by the United "
        "Arab Emirates, both sides said.",
    ),
    (
        "wire-c",
        "c2",
        4,
        "Central bank leaves its key rate unchanged",
        "The central bank kept its benchmark rate at 16 percent, citing slowing inflation and a strong "
        "harvest.",
    ),
]
FEEDS = ("wire-a", "wire-b", "wire-c")


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return default_rules()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "stories.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{db_path}") as opened:
        opened.sync_feeds([(name, f"https://{name}.example/rss") for name in FEEDS], NOW)
        yield opened


def make_item(feed: str, key: str, published: datetime, title: str, summary: str) -> Item:
    # the fingerprint of the text: the same words from another feed are that item's other source
    return news_item(
        feed,
        key,
        title,
        summary,
        published,
        fingerprint=hashlib.sha256(f"{title} {summary}".encode()).hexdigest(),
        content_hash=hashlib.sha256(f"{feed}/{key}/{title}".encode()).hexdigest(),
    )


def store_reports(
    store: Store, rules: RuleSet, reports: Sequence[tuple[str, str, int, str, str]] = REPORTS
) -> dict[str, int]:
    """Store items with their verdicts as a poll would (record_polled), and no stories: key -> item id."""
    states = {state.name: state for state in store.feed_states()}
    polled = []
    for feed in FEEDS:
        items = [
            make_item(f, key, MONDAY + timedelta(hours=hours), title, summary)
            for f, key, hours, title, summary in reports
            if f == feed
        ]
        if items:
            log = FetchLogEntry(feed_id=states[feed].id, started_at=NOW, duration_s=0.1, outcome="ok")
            verdicts = tuple(StoredVerdict.of(classify_item(item, rules)) for item in items)
            polled.append(PolledFeed(states[feed], log, tuple(items), verdicts))
    store.record_polled(polled, NOW)
    return {item.key: item.id for item in store.list_items(limit=100)}


def assign(store: Store, deduplicator: Deduplicator, since: datetime = MONDAY) -> list[Assignment]:
    """Assign every stored item without a story and record the outcome, as the pipeline does."""
    assignments = [deduplicator.assign(item) for item in store.unstoried_items(since)]
    write_assignments(store, assignments, NOW)
    return assignments


def test_unstoried_items_are_the_relevant_items_without_a_story_oldest_first(
    store: Store, rules: RuleSet
) -> None:
    ids = store_reports(store, rules)
    pending = store.unstoried_items(MONDAY)
    assert [p.key for p in pending] == [str(ids[k]) for k in ("a1", "b1", "b2", "c1")]  # c2 is not relevant
    assert [p.item_id for p in pending] == [ids[k] for k in ("a1", "b1", "b2", "c1")]
    first = pending[0]
    assert (first.source, first.published) == ("wire-a", MONDAY)
    assert first.title == REPORTS[0][3] and first.summary == REPORTS[0][4]
    # the events come back as the classifier made them: facts, score and evidence
    fresh = classify_item(make_item("wire-a", "a1", MONDAY, REPORTS[0][3], REPORTS[0][4]), rules)
    assert first.events == fresh.events
    assert store.unstoried_items(MONDAY + timedelta(hours=4)) == [pending[-1]]  # published since then


def test_assigned_items_are_no_longer_unstoried_and_new_ones_are(store: Store, rules: RuleSet) -> None:
    ids = store_reports(store, rules)
    deduplicator = Deduplicator()
    assignments = assign(store, deduplicator)
    assert len(assignments) == 4
    assert store.unstoried_items(MONDAY) == []

    later = [
        (
            "wire-a",
            "a3",
            6,
            "Kremlin confirms Geneva venue for the fourth round",
            "Moscow will send its delegation to Geneva for the fourth round of negotiations with Kyiv on "
            "Thursday, Peskov said.",
        )
    ]
    ids |= store_reports(store, rules, later)
    [pending] = store.unstoried_items(MONDAY)
    assert pending.item_id == ids["a3"]


def test_record_stories_round_trip(store: Store, rules: RuleSet) -> None:
    ids = store_reports(store, rules)
    assignments = assign(store, Deduplicator())
    stories = {a.story.id: a.story for a in assignments}
    events = {e.id: e for a in assignments for e in a.events}
    assert len(stories) == 2 and len(events) == 2  # the round's story and the swap's

    stored_stories = {s.id: s for s in store.recent_stories(MONDAY)}
    assert stored_stories == stories  # every field, the text signature and the event facts included
    assert {e.id: e for e in store.recent_events(MONDAY)} == events
    round_story = next(s for s in stories.values() if s.item_count == 3)
    assert round_story.first_seen.tzinfo is not None
    assert store.story_item_ids(round_story.id) == sorted(ids[k] for k in ("a1", "b1", "c1"))

    decisions = store.decisions()
    assert len(decisions) == 4
    assert list(reversed(decisions)) == [d for a in assignments for d in a.decisions]  # newest first
    round_event = round_story.event_ids["NEW_ROUND"]
    per_event = store.decisions(event_id=round_event)
    assert [(d.alert, d.kind, d.sources) for d in reversed(per_event)] == [
        (True, "new", 1),
        (False, "repeat", 2),
        (False, "repeat", 3),
    ]


def test_the_same_story_recorded_twice_is_updated_not_duplicated(
    store: Store, rules: RuleSet, db_path: Path
) -> None:
    store_reports(store, rules)
    deduplicator = Deduplicator()
    pending = store.unstoried_items(MONDAY)
    first = [deduplicator.assign(pending[0])]
    write_assignments(store, first, NOW)
    [stored] = store.recent_stories(MONDAY)
    assert (stored.item_count, stored.sources) == (1, ("wire-a",))

    rest = [deduplicator.assign(item) for item in pending[1:]]
    write_assignments(store, rest, NOW + timedelta(minutes=1))
    by_id = {s.id: s for s in store.recent_stories(MONDAY)}
    assert len(by_id) == 2
    updated = by_id[stored.id]
    assert (updated.item_count, updated.sources) == (3, ("wire-a", "wire-b", "wire-c"))
    assert updated.last_seen == MONDAY + timedelta(hours=5)
    [event] = [e for e in store.recent_events(MONDAY) if e.type == "NEW_ROUND"]
    assert event.sources == ("wire-a", "wire-b", "wire-c")
    with closing(sqlite3.connect(db_path)) as db:
        rows = db.execute(
            "SELECT item_count, source_count FROM stories WHERE id = ?", (stored.id,)
        ).fetchall()
        counts = db.execute("SELECT COUNT(*) FROM stories").fetchone()
    assert rows == [(3, 3)] and counts == (2,)


def test_recording_the_same_members_again_is_harmless(store: Store, rules: RuleSet) -> None:
    store_reports(store, rules)
    assignments = assign(store, Deduplicator())
    write_assignments(store, assignments, NOW)  # a retried batch: members are kept once
    story = assignments[0].story
    assert len(store.story_item_ids(story.id)) == 3


def test_recent_stories_and_events_by_time(store: Store, rules: RuleSet) -> None:
    store_reports(store, rules)
    assignments = assign(store, Deduplicator())
    round_story = next(a.story for a in assignments if a.story.item_count == 3)
    swap_story = next(a.story for a in assignments if a.story.events[0].type == "EXCHANGE")
    # the round's story was last reported at 14:00, the swap's at 12:00
    assert {s.id for s in store.recent_stories(MONDAY + timedelta(hours=4))} == {round_story.id}
    assert {s.id for s in store.recent_stories(MONDAY + timedelta(hours=3))} == {
        round_story.id,
        swap_story.id,
    }
    assert store.recent_stories(MONDAY + timedelta(hours=6)) == []
    assert {e.type for e in store.recent_events(MONDAY + timedelta(hours=4))} == {"NEW_ROUND"}
    assert {e.type for e in store.recent_events(MONDAY)} == {"NEW_ROUND", "EXCHANGE"}


def test_list_stories_filters_by_event_type_and_date_newest_first(store: Store, rules: RuleSet) -> None:
    store_reports(store, rules)
    assign(store, Deduplicator())
    listed = store.list_stories()
    assert [s.item_count for s in listed] == [3, 1]  # newest last report first
    assert [s.item_count for s in store.list_stories(event_type="EXCHANGE")] == [1]
    assert [s.item_count for s in store.list_stories(event_type="NEW_ROUND")] == [3]
    assert store.list_stories(event_type="DEADLINE") == []
    assert [s.item_count for s in store.list_stories(since=MONDAY + timedelta(hours=4))] == [3]
    assert len(store.list_stories(limit=1)) == 1
    assert [e.type for e in store.list_events()] == ["NEW_ROUND", "EXCHANGE"]


def test_a_deduplicator_rebuilt_from_the_store_continues_the_same_story(store: Store, rules: RuleSet) -> None:
    store_reports(store, rules, REPORTS[:2])
    live = Deduplicator()
    first = assign(store, live)
    rebuilt = Deduplicator(store.recent_stories(MONDAY - timedelta(days=30)), store.recent_events(MONDAY))
    store_reports(store, rules, REPORTS[2:3])
    [pending] = store.unstoried_items(MONDAY)
    from_live, from_rebuilt = live.assign(pending), rebuilt.assign(pending)
    assert from_rebuilt.story.id == from_live.story.id == first[0].story.id
    assert (from_rebuilt.score, from_rebuilt.decisions) == (from_live.score, from_live.decisions)


def test_pruning_an_item_drops_its_membership_and_keeps_the_decision(
    store: Store, rules: RuleSet, db_path: Path
) -> None:
    ids = store_reports(store, rules)
    assignments = assign(store, Deduplicator())
    with closing(sqlite3.connect(db_path)) as db:  # age one item, as if no feed had carried it for months
        db.execute("UPDATE items SET last_seen = '2025-01-01 00:00:00.000000' WHERE id = ?", (ids["a1"],))
        db.commit()
    assert store.prune_items(NOW - timedelta(days=90)) == 1
    story = assignments[0].story
    assert store.story_item_ids(story.id) == sorted(ids[k] for k in ("b1", "c1"))
    first_decision = store.decisions(event_id=story.event_ids["NEW_ROUND"])[-1]
    assert (first_decision.kind, first_decision.item_id, first_decision.item_key) == (
        "new",
        None,
        str(ids["a1"]),
    )


# --- migration 0003 ----------------------------------------------------------------------------------------

STORY_TABLES = {"stories", "story_items", "events", "alert_decisions"}


def alembic(db_path: Path, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = sa.create_engine(f"sqlite:///{db_path}", poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()


def tables(db_path: Path) -> set[str]:
    with closing(sqlite3.connect(db_path)) as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migration_0003_downgrades_and_upgrades_keeping_the_items(
    store: Store, rules: RuleSet, db_path: Path
) -> None:
    store_reports(store, rules)
    assign(store, Deduplicator())
    alembic(db_path, "downgrade", "0002")
    assert not tables(db_path) & STORY_TABLES
    assert store.count_items() == len(REPORTS)
    alembic(db_path, "upgrade", "head")
    assert tables(db_path) >= STORY_TABLES
    assert store.recent_stories(MONDAY) == []
    assert len(store.unstoried_items(MONDAY)) == 4  # the items lost their stories with the tables
    engine = sa.create_engine(f"sqlite:///{db_path}", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert list(compare_metadata(context, metadata)) == []
    finally:
        engine.dispose()


def test_stored_stories_keep_aware_utc_times_whatever_zone_they_came_in(store: Store, rules: RuleSet) -> None:
    store_reports(store, rules, REPORTS[:1])
    [pending] = store.unstoried_items(MONDAY)
    assert isinstance(pending, StoryInput)
    in_kyiv = MONDAY.astimezone(ZoneInfo("Europe/Kyiv"))
    write_assignments(store, [Deduplicator().assign(replace(pending, published=in_kyiv))], NOW)
    [story] = store.recent_stories(MONDAY)
    assert story.first_seen == MONDAY and story.first_seen.utcoffset() == timedelta(0)
    [decision] = store.decisions()
    assert decision.decided_at == MONDAY and decision.decided_at.tzinfo is not None
