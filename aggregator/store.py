"""The database: the only module that talks to it.

SQLAlchemy Core on SQLite by default (PostgreSQL works with the same code). Only the Alembic migrations in
``aggregator/migrations`` create and evolve the schema; the ``Table`` objects below describe it at head, and a
test checks that the two agree.

Every datetime crosses this boundary as an aware UTC ``datetime``; SQLite keeps it as naive UTC text.

Thread-safety: a ``Store`` must be used from ONE thread at a time. The pipeline gives it to its single writer
thread; other processes (the CLI, a second reader) may open the same SQLite file concurrently thanks to WAL.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.pool import StaticPool

from .errors import StoreError
from .models import (
    AlertDecision,
    AlertMessage,
    AlertRoute,
    Classification,
    DetectedEvent,
    Event,
    Evidence,
    FeedState,
    FeedStatus,
    FetchLogEntry,
    Item,
    OutboxRow,
    PolledFeed,
    Report,
    SaveResult,
    StoredVerdict,
    Story,
    StoryEvent,
    StoryInput,
    alert_message_to_json,
)

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
# The newest migration's revision (tests/test_store.py holds it equal to the scripts' head)
SCHEMA_HEAD = "0004"
SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 4_000
# Old SQLite builds allow 999 bound parameters per statement; chunked IN lists stay under that everywhere.
MAX_BOUND_PARAMS = 900
ALERT_REPORTS = 5  # first reports of a story shown in an alert
MAX_ALERT_EVIDENCE = 8
# Execution option that makes our SQLite BEGIN hook take the write lock up front (BEGIN IMMEDIATE), so a
# read-then-write transaction never fails half-way because another process wrote in between.
_WRITE_OPTION = "aggregator_write"

_T = TypeVar("_T")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in Python; ``timestamptz`` on PostgreSQL, naive UTC on SQLite.

    Naive datetimes are refused rather than guessed at: every stage is supposed to hand over aware ones.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the store only accepts aware datetimes")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- schema at head (the migrations create it; keep both in step) -------------------------------------

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

feeds_table = sa.Table(
    "feeds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("url", sa.Text, nullable=False),  # current address, after permanent redirects
    sa.Column("config_url", sa.Text, nullable=False),  # as written in the configuration
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("body_hash", sa.String(128)),
    sa.Column("next_due", UTCDateTime, index=True),
    sa.Column("error_count", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("last_error", sa.Text),
    sa.Column("last_error_reason", sa.String(64)),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_fetch_at", UTCDateTime),
    sa.Column("last_success_at", UTCDateTime),
    sa.Column("gone_reason", sa.Text),
    sa.Column("last_problem", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("status IN ('new', 'ok', 'error', 'gone', 'disabled')", name="status"),
)

items_table = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("canonical_url", sa.Text, index=True),
    sa.Column("fingerprint", sa.String(128), nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("content", sa.Text),
    sa.Column("author", sa.Text),
    sa.Column("language", sa.String(35)),
    sa.Column("published", UTCDateTime, nullable=False, index=True),
    sa.Column("updated", UTCDateTime),
    sa.Column("date_flag", sa.String(32)),
    sa.Column("content_hash", sa.String(128), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("last_seen", UTCDateTime, nullable=False),  # unindexed: touched every poll, scanned daily
    sa.UniqueConstraint("feed_id", "key"),
)

classifications_table = sa.Table(
    "classifications",
    metadata,
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("relevant", sa.Boolean, nullable=False, index=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("event_types", sa.String(64), nullable=False),  # "NEW_ROUND,EXCHANGE": cheap to filter on
    sa.Column("events", sa.JSON, nullable=False),  # [{type, score, facts, evidence}]
    sa.Column("evidence", sa.JSON, nullable=False),  # [{rule, start, end, text}]
    sa.Column("rules_version", sa.String(32), nullable=False),
    sa.Column("classified_at", UTCDateTime, nullable=False),
)

item_sources_table = sa.Table(
    "item_sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.UniqueConstraint("feed_id", "key"),
)

tombstones_table = sa.Table(
    "tombstones",
    metadata,
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("pruned_at", UTCDateTime, nullable=False),
)

fetch_log_table = sa.Table(
    "fetch_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("started_at", UTCDateTime, nullable=False, index=True),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("status", sa.Integer),
    sa.Column("reason", sa.String(64)),
    sa.Column("bytes", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("new_items", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("updated_items", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("error", sa.Text),
)


# --- stories and events (written by record_stories from what the deduplicate stage decided) ---------------

stories_table = sa.Table(
    "stories",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("headline", sa.Text, nullable=False),
    sa.Column("first_seen", UTCDateTime, nullable=False, index=True),
    sa.Column("last_seen", UTCDateTime, nullable=False, index=True),
    sa.Column("item_count", sa.Integer, nullable=False),
    sa.Column("source_count", sa.Integer, nullable=False),
    sa.Column("sources", sa.JSON, nullable=False),  # outlet names
    sa.Column("event_types", sa.String(64), nullable=False),
    sa.Column("events", sa.JSON, nullable=False),  # [{type, stage, facts}]
    sa.Column("event_ids", sa.JSON, nullable=False),  # {type: event id}
    sa.Column("terms", sa.JSON, nullable=False),  # the text signature: word -> items carrying it
    sa.Column("actors", sa.JSON, nullable=False),
    sa.Column("primaries", sa.JSON, nullable=False),  # main event type -> items
    # When we learned of it and of its latest report (first_seen/last_seen are publication times): what a
    # digest reports as new since the last one.
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False, index=True),
)

story_items_table = sa.Table(
    "story_items",
    metadata,
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "story_id", sa.String(32), sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("assigned_at", UTCDateTime, nullable=False),
)

events_table = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("type", sa.String(16), nullable=False, index=True),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("facts", sa.JSON, nullable=False),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("last_seen", UTCDateTime, nullable=False, index=True),
    sa.Column("story_ids", sa.JSON, nullable=False),
    sa.Column("sources", sa.JSON, nullable=False),
    sa.Column("source_count", sa.Integer, nullable=False),
    sa.Column("last_alert_story", sa.String(32)),
    sa.Column("last_alert_at", UTCDateTime),
)

alert_decisions_table = sa.Table(
    "alert_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "event_id", sa.String(32), sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("event_type", sa.String(16), nullable=False),
    sa.Column("story_id", sa.String(32), nullable=False),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="SET NULL")),
    sa.Column("item_key", sa.Text, nullable=False),
    sa.Column("alert", sa.Boolean, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # new, update, repeat
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("facts", sa.JSON, nullable=False),
    sa.Column("sources", sa.Integer, nullable=False),
    sa.Column("decided_at", UTCDateTime, nullable=False),  # the item's publication time
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)


# --- the outbox: one row per alert and channel, written in the transaction that records the decision ------

alerts_table = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("decision_id", sa.Integer, sa.ForeignKey("alert_decisions.id", ondelete="SET NULL")),
    sa.Column("event_id", sa.String(32), index=True),
    sa.Column("channel", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # alert, test, digest
    sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("claimed_until", UTCDateTime),  # a deliverer is sending it; after this, anyone may retry
    sa.Column("last_error", sa.Text),
    sa.Column("last_status", sa.Integer),
    sa.Column("message", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.CheckConstraint("status IN ('pending', 'failed', 'sent', 'dead')", name="status"),
    sa.Index(None, "status", "next_attempt_at"),
)

digests_table = sa.Table(
    "digests",
    metadata,
    sa.Column("channel", sa.String(200), primary_key=True),
    sa.Column("last_sent_at", UTCDateTime),
    sa.Column("last_period_end", UTCDateTime),  # the next digest reports what came after this
)


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as stored, for listings."""

    id: int
    feed: str  # name of the feed that first brought it
    key: str
    url: str | None
    canonical_url: str | None
    title: str
    summary: str
    published: datetime  # aware, UTC
    first_seen: datetime
    last_seen: datetime
    revision: int  # content changes since first seen
    sources: int  # distinct feeds carrying it, its own included (>= 1)
    relevant: bool | None = None  # None: not classified
    event_types: tuple[str, ...] = ()


# Fetch state a configuration change wipes: the feed may be a different document now.
_RESET_FETCH_STATE: dict[str, Any] = {
    "status": FeedStatus.NEW.value,
    "etag": None,
    "last_modified": None,
    "body_hash": None,
    "error_count": 0,
    "last_error": None,
    "last_error_reason": None,
    "last_status": None,
    "gone_reason": None,
    "last_problem": None,
}
# A feed that comes back into the configuration gets another chance, keeping its validators.
_READD_STATE: dict[str, Any] = {
    "status": FeedStatus.NEW.value,
    "error_count": 0,
    "last_error": None,
    "last_error_reason": None,
    "gone_reason": None,
}
_INACTIVE = (FeedStatus.GONE.value, FeedStatus.DISABLED.value)


class Store:
    """Feeds, items, their other sources, tombstones and the fetch log.

    Not thread-safe: call it from one thread only (the pipeline's writer thread). Each public method is one
    transaction. Open with :meth:`open`; close with :meth:`close` or use it as a context manager.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._shown_url = engine.url.render_as_string(hide_password=True)  # for messages
        self._writer = engine.execution_options(**{_WRITE_OPTION: True})
        self._bulk = _BulkInserter(engine.dialect)

    # --- lifecycle --------------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Store:
        """Connect to ``url`` (creating a SQLite file's directory) and, unless told not to, migrate it."""
        try:
            sa_url = sa.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise StoreError(f"invalid database URL {url!r}: {exc}") from exc
        shown = sa_url.render_as_string(hide_password=True)
        try:
            engine = (
                _sqlite_engine(sa_url) if sa_url.get_backend_name() == "sqlite" else _server_engine(sa_url)
            )
        except OSError as exc:
            raise StoreError(f"cannot create the database directory for {shown}: {exc}") from exc
        except (ImportError, sa.exc.ArgumentError) as exc:
            raise StoreError(
                f"cannot use database {shown}: {exc}", hint="install the database driver named in the URL"
            ) from exc
        store = cls(engine)
        if upgrade:
            try:
                store.upgrade()
            except BaseException:
                store.close()
                raise
        return store

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (``alembic upgrade head``); a no-op when it is there."""
        # Look before locking: opening an up-to-date database must not wait for another process's writes.
        if self._schema_is_current():
            return
        try:
            with self._writer.begin() as conn:  # the write lock serialises two processes migrating at once
                if _create_if_empty(conn):
                    return
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open or create the database {self._shown_url}: {_db_message(exc)}"
            ) from exc
        from alembic import command
        from alembic.config import Config
        from alembic.util import CommandError

        config = Config()
        # configparser interpolation would choke on a '%' in the path
        config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
        try:
            with self._writer.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except CommandError as exc:
            raise StoreError(
                f"cannot migrate the database {self._shown_url}: {exc}",
                hint="was it created by a newer version of aggregator?",
            ) from exc
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open or migrate the database {self._shown_url}: {_db_message(exc)}"
            ) from exc

    def _schema_is_current(self) -> bool:
        """The database is at SCHEMA_HEAD: every start of the CLI opens the store, and importing Alembic
        to learn that there is nothing to do costs a tenth of a second."""
        try:
            with self._engine.connect() as conn:
                versions = conn.scalars(sa.text("SELECT version_num FROM alembic_version")).all()
        except sa.exc.DBAPIError:
            return False  # no version table yet: a new database (upgrade creates its schema and stamps it)
        return versions == [SCHEMA_HEAD]

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- feeds ------------------------------------------------------------------------------------------

    def sync_feeds(self, feeds: Sequence[tuple[str, str]], now: datetime) -> None:
        """Make the feeds table match the configuration's ``(name, config_url)`` pairs.

        New names are inserted (NEW, due now). A changed config_url replaces url and resets the fetch state
        (NEW, validators and errors cleared, due now). Names no longer configured become DISABLED, keeping
        their items; a DISABLED name configured again becomes NEW and due now, keeping its validators.
        """
        configured = dict(feeds)
        if len(configured) != len(feeds):
            raise ValueError("feed names must be unique")
        with self._write() as conn:
            rows = conn.execute(
                sa.select(
                    feeds_table.c.id, feeds_table.c.name, feeds_table.c.config_url, feeds_table.c.status
                )
            ).all()
            known = {row.name: row for row in rows}
            new_rows = [
                {
                    "name": name,
                    "url": config_url,
                    "config_url": config_url,
                    **_RESET_FETCH_STATE,
                    "next_due": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for name, config_url in configured.items()
                if name not in known
            ]
            if new_rows:
                conn.execute(sa.insert(feeds_table), new_rows)
            for name, config_url in configured.items():
                row = known.get(name)
                if row is None:
                    continue
                if row.config_url != config_url:
                    changes = {"url": config_url, "config_url": config_url, **_RESET_FETCH_STATE}
                elif row.status == FeedStatus.DISABLED:
                    changes = dict(_READD_STATE)
                else:
                    continue
                conn.execute(
                    sa.update(feeds_table)
                    .where(feeds_table.c.id == row.id)
                    .values(**changes, next_due=now, updated_at=now)
                )
            dropped = [
                row.id for row in rows if row.name not in configured and row.status != FeedStatus.DISABLED
            ]
            for chunk in _chunks(dropped, MAX_BOUND_PARAMS):
                conn.execute(
                    sa.update(feeds_table)
                    .where(feeds_table.c.id.in_(chunk))
                    .values(status=FeedStatus.DISABLED.value, updated_at=now)
                )

    def feed_states(self) -> list[FeedState]:
        """Every feed, DISABLED and GONE ones included, ordered by name."""
        with self._read() as conn:
            return [
                _feed_state(row) for row in conn.execute(sa.select(feeds_table).order_by(feeds_table.c.name))
            ]

    def feed_state(self, name: str) -> FeedState | None:
        with self._read() as conn:
            row = conn.execute(sa.select(feeds_table).where(feeds_table.c.name == name)).one_or_none()
        return None if row is None else _feed_state(row)

    def due_feeds(
        self, now: datetime, names: Collection[str] | None = None, *, force: bool = False
    ) -> list[FeedState]:
        """Feeds to poll now: not GONE or DISABLED, and next_due unset or not after ``now``.

        ``names`` restricts the answer to those feeds (unknown names are ignored); ``force`` drops the
        due-time condition (never the status one). Most overdue first, never-scheduled ones before all.
        """
        stmt = sa.select(feeds_table).where(feeds_table.c.status.not_in(_INACTIVE))
        if names is not None:
            if not names:
                return []
            stmt = stmt.where(feeds_table.c.name.in_(sorted(names)))
        if not force:
            stmt = stmt.where(sa.or_(feeds_table.c.next_due.is_(None), feeds_table.c.next_due <= now))
        stmt = stmt.order_by(sa.nulls_first(feeds_table.c.next_due.asc()), feeds_table.c.name)
        with self._read() as conn:
            return [_feed_state(row) for row in conn.execute(stmt)]

    def update_feed(self, state: FeedState) -> None:
        """Write every fetch-state field of ``state`` to the feed with ``state.id``.

        ``name`` and ``config_url`` belong to the configuration (see :meth:`sync_feeds`) and are not written.
        """
        with self._write() as conn:
            self._update_feeds(conn, [state])

    def record_polled(self, outcomes: Sequence[PolledFeed], now: datetime) -> list[SaveResult]:
        """Store what a poll found for several feeds — items, feed state, fetch log — in ONE transaction.

        Per-feed transactions cost more than the work in them on a cold or 304-only poll; the pipeline
        batches finished feeds here. Each log entry's new/updated counts are filled from its save.
        """
        saved: list[SaveResult] = []
        states: list[FeedState] = []
        entries: list[FetchLogEntry] = []
        with self._write() as conn:
            for outcome in outcomes:
                verdicts = {
                    item.key: verdict
                    for item, verdict in zip(outcome.items, outcome.verdicts, strict=False)
                    if verdict is not None
                }
                result = self._save_items(conn, outcome.state.id, outcome.items, now, verdicts)
                entry = outcome.log
                if outcome.items:
                    entry = replace(entry, new_items=result.new, updated_items=result.updated)
                states.append(outcome.state)
                entries.append(entry)
                saved.append(result)
            # One executemany each: a 304-only poll of 500 feeds was 1,000 single statements
            self._update_feeds(conn, states)
            self._record_fetches(conn, entries)
        return saved

    @staticmethod
    def _update_feeds(conn: Connection, states: Sequence[FeedState]) -> None:
        if not states:
            return
        updated_at = datetime.now(UTC)
        rows = [  # every column but the last, updated_at, from the state
            {
                **{f"b_{name}": getattr(state, name) for name in _FEED_STATE_COLUMNS[:-1]},
                "b_id": state.id,
                "b_status": FeedStatus(state.status).value,
                "b_updated_at": updated_at,
            }
            for state in states
        ]
        result = conn.execute(_UPDATE_FEED, rows)
        # (a driver that cannot count an executemany's rows is trusted: SQLite and psycopg can)
        if result.rowcount < len(rows) and (len(rows) == 1 or result.supports_sane_multi_rowcount()):
            ids = {state.id for state in states}
            found = set(conn.scalars(sa.select(feeds_table.c.id).where(feeds_table.c.id.in_(ids))))
            raise LookupError(f"no feed with id {min(ids - found, default=states[0].id)}")

    # --- items ------------------------------------------------------------------------------------------

    def save_items(self, feed_id: int, batch: Sequence[Item], now: datetime) -> SaveResult:
        """Store one poll's items of one feed, in one transaction, with a fixed number of bulk statements.

        For each item, in this order:
        - (feed, key) is already an item: content_hash changed -> updated (fields, revision + 1); else
          unchanged. Either way last_seen = now.
        - (feed, key) is already another item's source -> unchanged (that item's last_seen = now).
        - (feed, key) is tombstoned -> ignored, counted tombstoned.
        - an item of ANOTHER feed has the same canonical_url (preferred) or fingerprint -> recorded as that
          item's source (other_source; that item's last_seen = now), no new item. Within one feed different
          keys are always different items, even with equal fingerprints: some feeds repeat boilerplate.
          An empty fingerprint or canonical_url never matches anything.
        - otherwise -> a new item (revision 0, first_seen = last_seen = now).
        A key repeated within ``batch`` is stored once (its first occurrence); repeats count as unchanged.
        """
        with self._write() as conn:
            return self._save_items(conn, feed_id, batch, now)

    def _save_items(
        self,
        conn: Connection,
        feed_id: int,
        batch: Sequence[Item],
        now: datetime,
        verdicts: Mapping[str, StoredVerdict] | None = None,
    ) -> SaveResult:
        unique, repeats = _first_per_key(batch)
        tally = _Tally(unchanged=repeats)
        if not unique:
            return tally.freeze()
        known = _known_keys(conn, feed_id, list(unique))
        touched: set[int] = set()  # items whose last_seen moves to now and nothing else
        changed: list[dict[str, Any]] = []
        changed_keys: list[str] = []
        candidates: list[Item] = []
        for key, item in unique.items():
            seen = known.get(key)
            if seen is None:
                candidates.append(item)
            elif seen.kind == _KeyKind.TOMBSTONE:
                tally.tombstoned += 1
            elif seen.kind == _KeyKind.OWN and seen.content_hash != item.content_hash:
                changed.append(_changed_row(seen.item_id, item, now))
                changed_keys.append(key)
                tally.updated += 1
            else:  # own and unchanged, or already recorded as another item's source
                touched.add(seen.item_id)
                tally.unchanged += 1
        new_items, source_rows = _place_candidates(conn, feed_id, candidates)
        touched.update(item_id for item_id, _, _ in source_rows)
        tally.new += len(new_items)
        tally.other_source += len(source_rows)
        last_id = None
        if new_items:
            last_id = self._last_item_id(conn) if verdicts else None
            self._bulk.insert(
                conn,
                items_table,
                _NEW_ITEM_COLUMNS,
                [(item.key, *_item_values(item)) for item in new_items],
                {"feed_id": feed_id, "revision": 0, "first_seen": now, "last_seen": now},
            )
        if source_rows:
            self._bulk.insert(
                conn,
                item_sources_table,
                _SOURCE_COLUMNS,
                source_rows,
                {"feed_id": feed_id, "first_seen": now},
                ignore_conflicts=True,
            )
        if changed:
            conn.execute(_UPDATE_CHANGED_ITEM, changed)
        for chunk in _chunks(sorted(touched), MAX_BOUND_PARAMS):
            conn.execute(_TOUCH_ITEMS, {"ids": chunk, "seen_at": now})
        if verdicts:
            # New and revised items get the verdict on their current text; unchanged ones keep theirs.
            revised = {row["b_id"]: key for row, key in zip(changed, changed_keys, strict=True)}
            fresh = self._new_item_ids(conn, feed_id, [item.key for item in new_items], last_id)
            self._write_classifications(
                conn, [(i, verdicts[k]) for i, k in revised.items() if k in verdicts], now, replace=True
            )
            self._write_classifications(
                conn, [(i, verdicts[k]) for i, k in fresh.items() if k in verdicts], now, replace=False
            )
            tally.new_relevant = [(k, i) for i, k in fresh.items() if k in verdicts and verdicts[k].relevant]
            now_relevant = [i for i, k in revised.items() if k in verdicts and verdicts[k].relevant]
            storied = self._storied(conn, now_relevant)
            tally.new_relevant += [(revised[i], i) for i in now_relevant if i not in storied]
        tally.new_sources = [(key, item_id) for item_id, key, _ in source_rows]
        return tally.freeze()

    def _last_item_id(self, conn: Connection) -> int | None:
        """The largest item id so far (0: none) on SQLite, where new items' ids follow from it."""
        if self._dialect != "sqlite":
            return None
        return conn.scalar(_MAX_ITEM_ID) or 0

    @staticmethod
    def _new_item_ids(conn: Connection, feed_id: int, keys: list[str], last_id: int | None) -> dict[int, str]:
        """id -> key of the items just inserted, in the order the lookup by key gives (by key, per chunk).

        SQLite gives a new row the largest rowid so far plus one: the ``keys`` just inserted in one
        statement after ``last_id`` took the ids after it, in order. Checked against the largest id now,
        not assumed (a table at the top of the rowid range numbers at random); else they are looked up.
        """
        if last_id is not None and keys and conn.scalar(_MAX_ITEM_ID) == last_id + len(keys):
            by_key = dict(zip(keys, range(last_id + 1, last_id + 1 + len(keys)), strict=True))
            return {
                by_key[key]: key for chunk in _chunks(keys, MAX_BOUND_PARAMS - 1) for key in sorted(chunk)
            }
        return _item_ids(conn, feed_id, keys)

    @staticmethod
    def _storied(conn: Connection, item_ids: Sequence[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for chunk in _chunks(item_ids, MAX_BOUND_PARAMS):
            stmt = sa.select(story_items_table.c.item_id, story_items_table.c.story_id).where(
                story_items_table.c.item_id.in_(chunk)
            )
            found.update({row.item_id: row.story_id for row in conn.execute(stmt)})
        return found

    def stories_of_items(self, item_ids: Sequence[int]) -> dict[int, str]:
        """item id -> the id of the story it belongs to, for those that belong to one."""
        with self._read() as conn:
            return self._storied(conn, item_ids)

    def stored_versions(self, feed_id: int) -> dict[str, str]:
        """key -> content_hash of the feed's own items: what a re-poll need not classify again."""
        stmt = sa.select(items_table.c.key, items_table.c.content_hash).where(
            items_table.c.feed_id == feed_id
        )
        with self._read() as conn:
            return {row.key: row.content_hash for row in conn.execute(stmt)}

    def save_classifications(self, verdicts: Sequence[tuple[int, Classification]], now: datetime) -> None:
        """Store (or replace) the verdicts of stored items, by item id: `reclassify` after a rules change."""
        stored = [(item_id, StoredVerdict.of(verdict)) for item_id, verdict in verdicts]
        with self._write() as conn:
            self._write_classifications(conn, stored, now)

    def _write_classifications(
        self,
        conn: Connection,
        verdicts: Sequence[tuple[int, StoredVerdict]],
        now: datetime,
        *,
        replace: bool = True,
    ) -> None:
        """Insert verdicts; with `replace`, drop the items' earlier ones first (new items have none)."""
        if not verdicts:
            return
        for chunk in _chunks(sorted(item_id for item_id, _ in verdicts) if replace else [], MAX_BOUND_PARAMS):
            conn.execute(sa.delete(classifications_table).where(classifications_table.c.item_id.in_(chunk)))
        as_json = self._bulk.takes_ready_values
        self._bulk.insert(
            conn,
            classifications_table,
            _VERDICT_COLUMNS,
            [_verdict_values(i, v, as_json=as_json) for i, v in verdicts],
            {"classified_at": now},
            ready=_VERDICT_JSON_COLUMNS if as_json else (),
        )

    def items_for_classification(
        self, *, since: datetime | None = None, after_id: int = 0, limit: int = 1000
    ) -> list[tuple[int, Item]]:
        """Stored items in id order, a page at a time (after_id): what `reclassify` re-reads."""
        stmt = (
            sa.select(items_table, feeds_table.c.name.label("feed_name"))
            .join_from(items_table, feeds_table, items_table.c.feed_id == feeds_table.c.id)
            .where(items_table.c.id > after_id)
            .order_by(items_table.c.id)
            .limit(limit)
        )
        if since is not None:
            stmt = stmt.where(items_table.c.published >= since)
        with self._read() as conn:
            return [(row.id, _stored_item(row)) for row in conn.execute(stmt)]

    # --- stories and events -------------------------------------------------------------------------------

    def record_stories(
        self,
        stories: Sequence[Story],
        events: Sequence[Event],
        members: Sequence[tuple[int, str, float]],
        decisions: Sequence[AlertDecision],
        now: datetime,
        routes: Sequence[AlertRoute] = (),
    ) -> int:
        """Store what the deduplicate stage decided for a batch of items, in ONE transaction.

        ``stories`` and ``events`` are their latest states (inserted or replaced by id); ``members`` are
        (item id, story id, join score); ``decisions`` are appended. Alerts for the outbox belong in this
        same transaction, so a decision is never recorded without its alerts, or the other way round.
        """
        with self._write() as conn:
            self._upsert(
                conn,
                stories_table,
                [{**_story_row(story), "recorded_at": now, "updated_at": now} for story in stories],
                keep=("recorded_at",),
            )
            self._upsert(conn, events_table, [_event_row(event) for event in events])
            self._bulk.insert(
                conn,
                story_items_table,
                ("item_id", "story_id", "score"),
                members,
                {"assigned_at": now},
                ignore_conflicts=True,
            )
            queued = 0
            if not routes and decisions:  # nobody to alert: the decisions are the record, in one statement
                rows = [_decision_row(decision, now) for decision in decisions]
                self._bulk.insert_rows(conn, alert_decisions_table, rows)
                decisions = ()
            for decision in decisions:
                decision_id = conn.execute(
                    alert_decisions_table.insert().returning(alert_decisions_table.c.id),
                    _decision_row(decision, now),
                ).scalar_one()
                queued += self._queue_alerts(conn, decision_id, decision, routes, now)
        return queued

    # --- the outbox -------------------------------------------------------------------------------------

    def _queue_alerts(
        self,
        conn: Connection,
        decision_id: int,
        decision: AlertDecision,
        routes: Sequence[AlertRoute],
        now: datetime,
    ) -> int:
        """Outbox rows for one decision: for each channel taking its event type, the alert when the decision
        is one, once enough outlets report the event (a channel's confirmation threshold). A channel that
        was waiting gets the event's latest alert when a later report brings the count up to its threshold."""
        routes = [r for r in routes if decision.event_type in r.events and decision.sources >= r.confirm]
        if not routes:
            return 0
        if decision.alert:
            due_id: int | None = decision_id
        else:  # a repeat: has a channel been waiting for outlets on the event's latest alert?
            due_id = conn.execute(
                sa.select(alert_decisions_table.c.id)
                .where(
                    alert_decisions_table.c.event_id == decision.event_id,
                    alert_decisions_table.c.alert.is_(True),
                )
                .order_by(alert_decisions_table.c.id.desc())
                .limit(1)
            ).scalar()
        if due_id is None:
            return 0
        queued = 0
        message: AlertMessage | None = None  # the same words for every channel: read once
        for route in routes:
            if self._has_alert(conn, due_id, route.channel):
                continue
            if message is None:
                message = self._alert_message(conn, due_id, decision.sources)
            keyed = replace(message, idempotency_key=idempotency_key(f"decision:{due_id}", route.channel))
            self._enqueue(conn, route.channel, "alert", keyed, now, decision_id=due_id)
            queued += 1
        return queued

    @staticmethod
    def _has_alert(conn: Connection, decision_id: int, channel: str) -> bool:
        stmt = sa.select(alerts_table.c.id).where(
            alerts_table.c.decision_id == decision_id, alerts_table.c.channel == channel
        )
        return conn.execute(stmt.limit(1)).first() is not None

    def _alert_message(self, conn: Connection, decision_id: int, outlets: int) -> AlertMessage:
        """The alert as it will be sent, fixed now: a resend after a crash sends the same words. The key is
        the caller's to set, per channel."""
        decision = conn.execute(
            sa.select(alert_decisions_table).where(alert_decisions_table.c.id == decision_id)
        ).one()
        story = conn.execute(
            sa.select(stories_table.c.headline, stories_table.c.first_seen).where(
                stories_table.c.id == decision.story_id
            )
        ).first()
        reports = conn.execute(
            sa.select(items_table.c.title, items_table.c.url, items_table.c.published, feeds_table.c.name)
            .join_from(story_items_table, items_table, items_table.c.id == story_items_table.c.item_id)
            .join(feeds_table, feeds_table.c.id == items_table.c.feed_id)
            .where(story_items_table.c.story_id == decision.story_id)
            .order_by(items_table.c.published, items_table.c.id)
            .limit(ALERT_REPORTS)
        ).all()
        evidence: list[str] = []
        if decision.item_id is not None:
            events = conn.execute(
                sa.select(classifications_table.c.events).where(
                    classifications_table.c.item_id == decision.item_id
                )
            ).scalar()
            for event in events or ():
                if event.get("type") == decision.event_type:
                    evidence = list(dict.fromkeys(e["text"] for e in event.get("evidence", ())))
        return AlertMessage(
            idempotency_key="",
            kind=decision.kind,
            event_type=decision.event_type,
            event_id=decision.event_id,
            status=decision.status,
            facts=dict(decision.facts),
            reason=decision.reason,
            headline=story.headline if story is not None else "",
            reports=tuple(Report(r.name, r.title, r.url, r.published) for r in reports),
            outlets=outlets,
            first_seen=story.first_seen if story is not None else decision.decided_at,
            evidence=tuple(evidence[:MAX_ALERT_EVIDENCE]),
            created_at=decision.recorded_at,
        )

    def _enqueue(
        self,
        conn: Connection,
        channel: str,
        kind: str,
        message: AlertMessage | Mapping[str, object],
        now: datetime,
        *,
        key: str | None = None,
        decision_id: int | None = None,
    ) -> bool:
        payload = alert_message_to_json(message) if isinstance(message, AlertMessage) else dict(message)
        key = message.idempotency_key if isinstance(message, AlertMessage) else key
        if key is None:
            raise ValueError("a message without an idempotency key")
        result = conn.execute(
            self._insert_ignoring_conflicts(alerts_table),
            {
                "decision_id": decision_id,
                "event_id": payload.get("event_id"),
                "channel": channel,
                "kind": kind,
                "idempotency_key": key,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "message": payload,
                "created_at": now,
            },
        )
        return result.rowcount > 0

    def enqueue(
        self,
        channel: str,
        kind: str,
        message: AlertMessage | Mapping[str, object],
        now: datetime,
        *,
        key: str | None = None,
    ) -> bool:
        """Queue a message outside a decision (a test alert, a digest). False: that key is queued already."""
        with self._write() as conn:
            return self._enqueue(conn, channel, kind, message, now, key=key)

    def claim_due_alerts(
        self, now: datetime, *, lease_s: float, limit: int = 100, ignore_backoff: bool = False
    ) -> list[OutboxRow]:
        """Rows due for sending, claimed for ``lease_s`` so that a second deliverer leaves them alone; a
        deliverer that dies mid-send loses its claim when the lease ends and the row is sent again (with the
        same key: at least once)."""
        due = alerts_table.c.status.in_(("pending", "failed"))
        if not ignore_backoff:
            due = sa.and_(due, alerts_table.c.next_attempt_at <= now)
        free = sa.or_(alerts_table.c.claimed_until.is_(None), alerts_table.c.claimed_until <= now)
        with self._write() as conn:
            rows = conn.execute(
                sa.select(alerts_table)
                .where(due, free)
                .order_by(alerts_table.c.next_attempt_at, alerts_table.c.id)
                .limit(limit)
            ).all()
            ids = [row.id for row in rows]
            for chunk in _chunks(ids, MAX_BOUND_PARAMS):
                conn.execute(
                    alerts_table.update()
                    .where(alerts_table.c.id.in_(chunk))
                    .values(claimed_until=now + timedelta(seconds=lease_s))
                )
        return [_outbox_row(row._asdict()) for row in rows]

    def mark_sent(self, alert_id: int, now: datetime, status: int | None = None) -> None:
        self._update_alert(alert_id, status="sent", sent_at=now, last_status=status, last_error=None)

    def mark_retry(
        self, alert_id: int, attempts: int, next_attempt_at: datetime, error: str, status: int | None
    ) -> None:
        self._update_alert(
            alert_id, status="failed", attempts=attempts, next_attempt_at=next_attempt_at, last_error=error,
            last_status=status,
        )  # fmt: skip

    def mark_dead(self, alert_id: int, attempts: int, error: str, status: int | None) -> None:
        self._update_alert(alert_id, status="dead", attempts=attempts, last_error=error, last_status=status)

    def release_alert(self, alert_id: int) -> None:
        """Give a claimed row back untouched (its channel is disabled, or the deliverer is stopping)."""
        self._update_alert(alert_id)

    def _update_alert(self, alert_id: int, **values: Any) -> None:
        with self._write() as conn:
            conn.execute(
                alerts_table.update()
                .where(alerts_table.c.id == alert_id)
                .values(claimed_until=None, **values)
            )

    def retry_alerts(self, now: datetime, *, alert_id: int | None = None, dead: bool = False) -> int:
        """Make dead (or failed) rows due now with a fresh attempt budget: replay after fixing a channel."""
        stmt = alerts_table.update().values(
            status="failed", attempts=0, next_attempt_at=now, claimed_until=None
        )
        if alert_id is not None:
            stmt = stmt.where(alerts_table.c.id == alert_id, alerts_table.c.status.in_(("dead", "failed")))
        elif dead:
            stmt = stmt.where(alerts_table.c.status == "dead")
        else:
            raise ValueError("say which alerts to retry")
        with self._write() as conn:
            return conn.execute(stmt).rowcount

    def list_alerts(self, *, status: str | None = None, limit: int = 50) -> list[OutboxRow]:
        stmt = sa.select(alerts_table).order_by(alerts_table.c.id.desc()).limit(limit)
        if status is not None:
            stmt = stmt.where(alerts_table.c.status == status)
        with self._read() as conn:
            return [_outbox_row(row._asdict()) for row in conn.execute(stmt)]

    def outbox_counts(self) -> dict[str, int]:
        stmt = sa.select(alerts_table.c.status, sa.func.count()).group_by(alerts_table.c.status)
        with self._read() as conn:
            return {status: count for status, count in conn.execute(stmt).all()}

    def claim_alert(self, alert_id: int, now: datetime, *, lease_s: float) -> OutboxRow | None:
        """Claim one row (an operator's test message) unless a deliverer holds it or it is done."""
        with self._write() as conn:
            updated = conn.execute(
                alerts_table.update()
                .where(
                    alerts_table.c.id == alert_id,
                    alerts_table.c.status.in_(("pending", "failed")),
                    sa.or_(alerts_table.c.claimed_until.is_(None), alerts_table.c.claimed_until <= now),
                )
                .values(claimed_until=now + timedelta(seconds=lease_s))
            ).rowcount
            if not updated:
                return None
            row = conn.execute(sa.select(alerts_table).where(alerts_table.c.id == alert_id)).one()
        return _outbox_row(row._asdict())

    def alert(self, *, alert_id: int | None = None, key: str | None = None) -> OutboxRow | None:
        stmt = sa.select(alerts_table)
        stmt = stmt.where(alerts_table.c.id == alert_id) if alert_id is not None else stmt
        stmt = stmt.where(alerts_table.c.idempotency_key == key) if key is not None else stmt
        with self._read() as conn:
            row = conn.execute(stmt.limit(1)).first()
        return _outbox_row(row._asdict()) if row is not None else None

    def queue_digest(
        self, channel: str, payload: Mapping[str, object], key: str, period_end: datetime, now: datetime
    ) -> bool:
        """Queue a rendered digest and move the channel's period on, in one transaction: a crash cannot
        leave a digest queued whose period would be reported again."""
        with self._write() as conn:
            queued = self._enqueue(conn, channel, "digest", payload, now, key=key)
            self._set_digest(conn, channel, period_end, now)
        return queued

    def stories_reported_between(
        self, since: datetime, until: datetime, *, limit: int = 200
    ) -> list[tuple[Story, tuple[Report, ...], datetime]]:
        """Stories that got a report between ``since`` and ``until`` (as recorded here, whatever the items'
        publication dates), newest first, each with its first reports and when it was first recorded."""
        stmt = (
            sa.select(stories_table)
            .where(stories_table.c.updated_at >= since, stories_table.c.recorded_at < until)
            .order_by(stories_table.c.last_seen.desc())
            .limit(limit)
        )
        found = []
        with self._read() as conn:
            for row in conn.execute(stmt).all():
                reports = conn.execute(
                    sa.select(
                        items_table.c.title, items_table.c.url, items_table.c.published, feeds_table.c.name
                    )
                    .join_from(
                        story_items_table, items_table, items_table.c.id == story_items_table.c.item_id
                    )
                    .join(feeds_table, feeds_table.c.id == items_table.c.feed_id)
                    .where(story_items_table.c.story_id == row.id)
                    .order_by(items_table.c.published, items_table.c.id)
                    .limit(ALERT_REPORTS)
                ).all()
                story = _story_from_row(row._asdict())
                shown = tuple(Report(r.name, r.title, r.url, r.published) for r in reports)
                found.append((story, shown, row.recorded_at))
        return found

    def prune_alerts(self, older_than: datetime) -> int:
        """Drop sent alerts older than ``older_than``; pending, failed and dead ones are kept whatever age."""
        with self._write() as conn:
            return conn.execute(
                alerts_table.delete().where(
                    alerts_table.c.status == "sent", alerts_table.c.sent_at < older_than
                )
            ).rowcount

    def check_writable(self) -> None:
        """Raise StoreError unless the database answers and would take a write now (the write lock is
        taken and released, nothing is written)."""
        with self._write() as conn:
            conn.execute(sa.text("SELECT 1"))

    def last_digest(self, channel: str) -> datetime | None:
        stmt = sa.select(digests_table.c.last_period_end).where(digests_table.c.channel == channel)
        with self._read() as conn:
            return conn.execute(stmt).scalar()

    def record_digest(self, channel: str, period_end: datetime, now: datetime) -> None:
        """A digest up to ``period_end`` was queued (or was empty) for ``channel``: the next starts there."""
        with self._write() as conn:
            self._set_digest(conn, channel, period_end, now)

    @staticmethod
    def _set_digest(conn: Connection, channel: str, period_end: datetime, now: datetime) -> None:
        updated = conn.execute(
            digests_table.update()
            .where(digests_table.c.channel == channel)
            .values(last_sent_at=now, last_period_end=period_end)
        ).rowcount
        if not updated:
            conn.execute(
                digests_table.insert().values(channel=channel, last_sent_at=now, last_period_end=period_end)
            )

    def _upsert(
        self, conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keep: Collection[str] = ()
    ) -> None:
        """Insert rows by id, or update the existing ones (but not their ``keep`` columns)."""
        if not rows:
            return
        ids = [row["id"] for row in rows]
        existing: set[str] = set()
        for chunk in _chunks(ids, MAX_BOUND_PARAMS):
            existing.update(conn.execute(sa.select(table.c.id).where(table.c.id.in_(chunk))).scalars())
        fresh = [row for row in rows if row["id"] not in existing]
        stale = [row for row in rows if row["id"] in existing]
        self._bulk.insert_rows(conn, table, fresh)
        if stale:
            columns = [c.name for c in table.columns if c.name != "id" and c.name not in keep]
            self._bulk.update_by_id(conn, table, columns, stale)

    def recent_stories(self, since: datetime) -> list[Story]:
        """Stories seen since ``since``: what the deduplicate stage needs to rebuild its window."""
        stmt = sa.select(stories_table).where(stories_table.c.last_seen >= since)
        with self._read() as conn:
            return [_story_from_row(row._asdict()) for row in conn.execute(stmt)]

    def recent_events(self, since: datetime) -> list[Event]:
        stmt = sa.select(events_table).where(events_table.c.last_seen >= since)
        with self._read() as conn:
            return [_event_from_row(row._asdict()) for row in conn.execute(stmt)]

    def unstoried_items(self, since: datetime) -> list[StoryInput]:
        """Relevant items published since ``since`` that belong to no story yet, oldest first.

        After a crash between storing items and storing their stories, these are assigned again at start.
        """
        stmt = (
            sa.select(
                items_table.c.id,
                feeds_table.c.name,
                items_table.c.title,
                items_table.c.summary,
                items_table.c.published,
                classifications_table.c.events,
            )
            .join_from(items_table, feeds_table, items_table.c.feed_id == feeds_table.c.id)
            .join(classifications_table, classifications_table.c.item_id == items_table.c.id)
            .outerjoin(story_items_table, story_items_table.c.item_id == items_table.c.id)
            .where(
                items_table.c.published >= since,
                classifications_table.c.relevant.is_(True),
                story_items_table.c.item_id.is_(None),
            )
            .order_by(items_table.c.published, items_table.c.id)
        )
        with self._read() as conn:
            return [
                StoryInput(
                    key=str(row.id),
                    source=row.name,
                    title=row.title,
                    summary=row.summary,
                    published=row.published,
                    events=tuple(_detected_event(raw) for raw in row.events),
                    item_id=row.id,
                )
                for row in conn.execute(stmt)
            ]

    def list_stories(
        self, *, event_type: str | None = None, since: datetime | None = None, limit: int = 50
    ) -> list[Story]:
        """Newest first by last report; ``event_type`` keeps stories that report such an event."""
        stmt = sa.select(stories_table).order_by(stories_table.c.last_seen.desc()).limit(limit)
        if since is not None:
            stmt = stmt.where(stories_table.c.last_seen >= since)
        if event_type is not None:
            stmt = stmt.where(stories_table.c.event_types.contains(event_type))
        with self._read() as conn:
            return [_story_from_row(row._asdict()) for row in conn.execute(stmt)]

    def list_events(self, *, limit: int = 50) -> list[Event]:
        stmt = sa.select(events_table).order_by(events_table.c.last_seen.desc()).limit(limit)
        with self._read() as conn:
            return [_event_from_row(row._asdict()) for row in conn.execute(stmt)]

    def decisions(self, *, event_id: str | None = None, limit: int = 200) -> list[AlertDecision]:
        stmt = sa.select(alert_decisions_table).order_by(alert_decisions_table.c.id.desc()).limit(limit)
        if event_id is not None:
            stmt = stmt.where(alert_decisions_table.c.event_id == event_id)
        with self._read() as conn:
            return [_decision_from_row(row._asdict()) for row in conn.execute(stmt)]

    def story_item_ids(self, story_id: str) -> list[int]:
        stmt = sa.select(story_items_table.c.item_id).where(story_items_table.c.story_id == story_id)
        with self._read() as conn:
            return list(conn.execute(stmt.order_by(story_items_table.c.item_id)).scalars())

    def record_fetch(self, entry: FetchLogEntry) -> None:
        with self._write() as conn:
            self._record_fetches(conn, [entry])

    @staticmethod
    def _record_fetches(conn: Connection, entries: Sequence[FetchLogEntry]) -> None:
        if not entries:
            return
        conn.execute(
            _INSERT_FETCH_LOG,
            [
                {
                    "feed_id": entry.feed_id,
                    "started_at": entry.started_at,
                    "duration_s": entry.duration_s,
                    "outcome": entry.outcome,
                    "status": entry.status,
                    "reason": entry.reason,
                    "bytes": entry.bytes,
                    "new_items": entry.new_items,
                    "updated_items": entry.updated_items,
                    "error": entry.error,
                }
                for entry in entries
            ],
        )

    def list_items(
        self,
        *,
        feed: str | None = None,
        limit: int = 50,
        since: datetime | None = None,
        relevant_only: bool = False,
    ) -> list[StoredItem]:
        """Newest first by published date; ``feed`` is a feed name (its own items, not those it also
        carries as a source); ``since`` keeps items published at or after it."""
        if limit < 0:
            raise ValueError("limit must not be negative")
        other_feeds = (
            sa.select(sa.func.count(sa.distinct(item_sources_table.c.feed_id)))
            .where(item_sources_table.c.item_id == items_table.c.id)
            .scalar_subquery()
        )
        stmt = (
            sa.select(
                items_table.c.id,
                feeds_table.c.name.label("feed"),
                items_table.c.key,
                items_table.c.url,
                items_table.c.canonical_url,
                items_table.c.title,
                items_table.c.summary,
                items_table.c.published,
                items_table.c.first_seen,
                items_table.c.last_seen,
                items_table.c.revision,
                (other_feeds + 1).label("sources"),
                classifications_table.c.relevant,
                classifications_table.c.event_types,
            )
            .join_from(items_table, feeds_table, items_table.c.feed_id == feeds_table.c.id)
            .outerjoin(classifications_table, classifications_table.c.item_id == items_table.c.id)
            .order_by(items_table.c.published.desc(), items_table.c.id.desc())
            .limit(limit)
        )
        if feed is not None:
            stmt = stmt.where(feeds_table.c.name == feed)
        if since is not None:
            stmt = stmt.where(items_table.c.published >= since)
        if relevant_only:
            stmt = stmt.where(classifications_table.c.relevant.is_(True))
        with self._read() as conn:
            return [_listed_item(row._asdict()) for row in conn.execute(stmt)]

    def count_items(self) -> int:
        with self._read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(items_table)).scalar_one()

    def item_sources(self, item_id: int) -> list[str]:
        """Names of the feeds carrying the item, its own feed first, then by first sighting; [] if unknown."""
        own = (
            sa.select(feeds_table.c.name)
            .join_from(items_table, feeds_table, items_table.c.feed_id == feeds_table.c.id)
            .where(items_table.c.id == item_id)
        )
        others = (
            sa.select(feeds_table.c.name)
            .join_from(item_sources_table, feeds_table, item_sources_table.c.feed_id == feeds_table.c.id)
            .where(item_sources_table.c.item_id == item_id)
            .order_by(item_sources_table.c.first_seen, item_sources_table.c.id)
        )
        with self._read() as conn:
            owner = conn.execute(own).scalar_one_or_none()
            if owner is None:
                return []
            names = [owner, *conn.execute(others).scalars()]
        return list(dict.fromkeys(names))  # a feed carrying it under two keys is listed once

    def prune_items(self, older_than: datetime) -> int:
        """Delete items last seen before ``older_than`` with their sources; returns how many items went.

        Their own (feed, key) and every source's (feed, key) become tombstones, so no feed still carrying
        them brings them back as new.
        """
        pruned_at = datetime.now(UTC)
        stale = items_table.c.last_seen < older_than
        stamp = sa.literal(pruned_at, UTCDateTime()).label("pruned_at")
        columns = ["feed_id", "key", "pruned_at"]
        own_keys = sa.select(items_table.c.feed_id, items_table.c.key, stamp).where(stale)
        source_keys = sa.select(item_sources_table.c.feed_id, item_sources_table.c.key, stamp).where(
            item_sources_table.c.item_id.in_(sa.select(items_table.c.id).where(stale))
        )
        with self._write() as conn:
            conn.execute(self._insert_ignoring_conflicts(tombstones_table).from_select(columns, source_keys))
            conn.execute(self._insert_ignoring_conflicts(tombstones_table).from_select(columns, own_keys))
            # item_sources rows go with their items (ON DELETE CASCADE)
            return conn.execute(sa.delete(items_table).where(stale)).rowcount

    def prune_fetch_log(self, older_than: datetime) -> int:
        """Delete fetch log rows started before ``older_than``; returns how many went."""
        with self._write() as conn:
            return conn.execute(
                sa.delete(fetch_log_table).where(fetch_log_table.c.started_at < older_than)
            ).rowcount

    # --- plumbing ---------------------------------------------------------------------------------------

    def _insert_ignoring_conflicts(self, table: sa.Table) -> Any:
        return _insert_statement(self._dialect, table, ignore_conflicts=True)

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        with _database_errors(), self._writer.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with _database_errors(), self._engine.connect() as conn:
            yield conn


class _BulkInserter:
    """Multi-row INSERTs, with a leaner SQLite path than SQLAlchemy's per-row parameter handling.

    Rows come as tuples in ``columns`` order; ``constants`` are columns with one value for every row. On
    SQLite the statement is compiled once per column set and the DBAPI gets ready tuples: each column's
    bind processor (the very one SQLAlchemy would apply, so stored values are identical) runs once per
    value, and once in all for a constant. Elsewhere (PostgreSQL) rows go through SQLAlchemy as dicts,
    keeping its dialect's own bulk strategies.
    """

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._fast = dialect.name == "sqlite" and dialect.paramstyle == "qmark"
        # (table, column names, ignore_conflicts) -> SQL text and its parameter names in positional order
        self._compiled: dict[tuple[str, frozenset[str], bool | str], tuple[str, tuple[str, ...]]] = {}
        self._processors: dict[tuple[str, str], Callable[[Any], Any] | None] = {}

    @property
    def takes_ready_values(self) -> bool:
        """Whether ``insert`` takes values already processed for the database (``ready``)."""
        return self._fast

    def insert(
        self,
        conn: Connection,
        table: sa.Table,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
        constants: Mapping[str, Any],
        *,
        ignore_conflicts: bool = False,
        ready: Collection[str] = (),
    ) -> None:
        """``ready`` names columns whose values are already as the database takes them (their type's bind
        processing done), which only the SQLite path accepts (see takes_ready_values)."""
        if not rows:
            return
        if ready and not self._fast:
            raise ValueError("ready values need the SQLite path")
        if not self._fast:
            names = (*columns, *constants)
            stmt = _insert_statement(self._dialect.name, table, ignore_conflicts)
            conn.execute(stmt, [dict(zip(names, (*row, *constants.values()), strict=True)) for row in rows])
            return
        sql, order = self._sql(table, (*columns, *constants), ignore_conflicts)
        self._execute(conn, sql, lambda: self._parameters(table, columns, rows, constants, order, ready))

    def insert_rows(self, conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """``insert`` of rows given as mappings, every one with the same keys (as an executemany needs)."""
        if rows:
            names = tuple(rows[0])
            self.insert(conn, table, names, [tuple(row[name] for name in names) for row in rows], {})

    def update_by_id(
        self, conn: Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Set ``columns`` of each row's "id" from the row (one executemany). On SQLite the statement text
        is made once and rows go to the DBAPI as processed tuples, as ``insert`` does."""
        if not rows:
            return
        if not self._fast:
            update = (
                table.update()
                .where(table.c.id == sa.bindparam("b_id"))
                .values({name: sa.bindparam("b_" + name) for name in columns})
            )
            conn.execute(update, [{"b_" + k: v for k, v in row.items()} for row in rows])
            return
        names = ("id", *columns)
        cache_key = (table.name, frozenset(names), "update")
        found = self._compiled.get(cache_key)
        if found is None:
            stmt = (
                table.update()
                .where(table.c.id == sa.bindparam("b_id", type_=table.c.id.type))
                .values({name: sa.bindparam("b_" + name, type_=table.c[name].type) for name in columns})
            )
            compiled = stmt.compile(dialect=self._dialect)
            order = tuple(name.removeprefix("b_") for name in compiled.positiontup or ())
            if sorted(order) != sorted(names):  # every value bound exactly once, nothing else
                raise AssertionError(f"unexpected parameters {order} for {sorted(names)}")
            found = self._compiled[cache_key] = (compiled.string, order)
        sql, order = found
        values = [tuple(row[name] for name in names) for row in rows]
        self._execute(conn, sql, lambda: self._parameters(table, names, values, {}, order, ()))

    @staticmethod
    def _execute(conn: Connection, sql: str, parameters: Callable[[], list[tuple[Any, ...]]]) -> None:
        try:
            params = parameters()
        except (ValueError, TypeError) as exc:  # a refused value: reported as SQLAlchemy itself would
            kind = f"{type(exc).__module__}.{type(exc).__name__}"
            raise sa.exc.StatementError(f"({kind}) {exc}", sql, None, exc) from exc
        conn.exec_driver_sql(sql, params)

    def _parameters(
        self,
        table: sa.Table,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
        constants: Mapping[str, Any],
        order: Sequence[str],
        ready: Collection[str],
    ) -> list[tuple[Any, ...]]:
        # Work column by column (map and zip loop in C); a constant is processed once and repeated.
        values: dict[str, Iterable[Any]] = {
            name: itertools.repeat(self._bind(table, name, value)) for name, value in constants.items()
        }
        for name, column in zip(columns, zip(*rows, strict=True), strict=True):
            process = None if name in ready else self._processor(table, name)
            values[name] = column if process is None else map(process, column)
        return list(zip(*(values[name] for name in order), strict=False))  # the repeats never run out

    def _sql(
        self, table: sa.Table, names: Collection[str], ignore_conflicts: bool
    ) -> tuple[str, tuple[str, ...]]:
        cache_key = (table.name, frozenset(names), ignore_conflicts)
        found = self._compiled.get(cache_key)
        if found is None:
            stmt = _insert_statement(self._dialect.name, table, ignore_conflicts).values(
                {name: sa.bindparam(name, type_=table.c[name].type) for name in names}
            )
            compiled = stmt.compile(dialect=self._dialect)
            order = tuple(compiled.positiontup or ())
            if sorted(order) != sorted(names):  # every value bound exactly once, nothing else
                raise AssertionError(f"unexpected parameters {order} for {sorted(names)}")
            found = self._compiled[cache_key] = (compiled.string, order)
        return found

    def _processor(self, table: sa.Table, name: str) -> Callable[[Any], Any] | None:
        cache_key = (table.name, name)
        if cache_key not in self._processors:
            column_type = table.c[name].type
            process = column_type.dialect_impl(self._dialect).bind_processor(self._dialect)
            if isinstance(column_type, UTCDateTime) and process is not None:
                process = _utc_text_first(process)
            self._processors[cache_key] = process
        return self._processors[cache_key]

    def _bind(self, table: sa.Table, name: str, value: Any) -> Any:
        process = self._processor(table, name)
        return value if process is None else process(value)


_SQLITE_DATETIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"  # SQLAlchemy's storage format for SQLite DATETIME


def _utc_text_first(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A UTCDateTime's SQLite bind processing (``process``), with the text of a UTC datetime (every value a
    poll stores) written directly: SQLAlchemy's chain of type decorator, conversion and formatting took
    2 µs a value, 0.1-0.3 s of a cold poll's writer. Anything else goes through ``process``, which also
    refuses naive datetimes. Used only where it writes what ``process`` writes for a probe value."""

    def direct(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is UTC:
            t = value
            return _SQLITE_DATETIME % (t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond)
        return process(value)

    probe = datetime(987, 6, 5, 4, 3, 2, 10, tzinfo=UTC)
    return direct if direct(probe) == process(probe) else process


def _insert_statement(dialect_name: str, table: sa.Table, ignore_conflicts: bool) -> Any:
    """INSERT, or INSERT that skips rows clashing with a unique key (the one dialect-specific statement)."""
    if not ignore_conflicts:
        return sa.insert(table)
    if dialect_name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    if dialect_name == "postgresql":
        # imported here: every start of the CLI on SQLite would pay 20 ms for PostgreSQL's dialect
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    raise StoreError(f"unsupported database dialect {dialect_name!r}", hint="use SQLite or PostgreSQL")


class _KeyKind(IntEnum):
    """What a (feed, key) already is; the lower value wins should a key be more than one."""

    OWN = 0
    SOURCE = 1
    TOMBSTONE = 2


@dataclass(frozen=True, slots=True)
class _KnownKey:
    kind: _KeyKind
    item_id: int  # the item it is or is a source of; 0 for a tombstone
    content_hash: str | None  # for OWN only


_FEED_ID = sa.bindparam("feed_id")
_KEYS = sa.bindparam("keys", expanding=True)
# Everything this feed's keys already are, in one round trip: items, other items' sources, tombstones.
_SELECT_KNOWN_KEYS = sa.union_all(
    sa.select(
        items_table.c.key,
        sa.literal_column(str(_KeyKind.OWN.value), sa.Integer).label("kind"),
        items_table.c.id.label("item_id"),
        items_table.c.content_hash,
    ).where(items_table.c.feed_id == _FEED_ID, items_table.c.key.in_(_KEYS)),
    sa.select(
        item_sources_table.c.key,
        sa.literal_column(str(_KeyKind.SOURCE.value), sa.Integer),
        item_sources_table.c.item_id,
        sa.cast(sa.null(), sa.String),
    ).where(item_sources_table.c.feed_id == _FEED_ID, item_sources_table.c.key.in_(_KEYS)),
    sa.select(
        tombstones_table.c.key,
        sa.literal_column(str(_KeyKind.TOMBSTONE.value), sa.Integer),
        sa.literal_column("0", sa.Integer),
        sa.cast(sa.null(), sa.String),
    ).where(tombstones_table.c.feed_id == _FEED_ID, tombstones_table.c.key.in_(_KEYS)),
)
_SELECT_OTHER_FEEDS_MATCHES = sa.select(
    items_table.c.id, items_table.c.canonical_url, items_table.c.fingerprint
).where(
    items_table.c.feed_id != _FEED_ID,
    sa.or_(
        items_table.c.canonical_url.in_(sa.bindparam("urls", expanding=True)),
        items_table.c.fingerprint.in_(sa.bindparam("fingerprints", expanding=True)),
    ),
)
_FEED_STATE_COLUMNS = (
    "url",
    "status",
    "etag",
    "last_modified",
    "body_hash",
    "next_due",
    "error_count",
    "last_error",
    "last_error_reason",
    "last_status",
    "last_fetch_at",
    "last_success_at",
    "gone_reason",
    "last_problem",
    "updated_at",
)
# Built once: a statement object reused keeps its cache key, so each execution skips rebuilding it.
_UPDATE_FEED = (
    sa.update(feeds_table)
    .where(feeds_table.c.id == sa.bindparam("b_id"))
    .values({name: sa.bindparam(f"b_{name}", type_=feeds_table.c[name].type) for name in _FEED_STATE_COLUMNS})
)
_INSERT_FETCH_LOG = sa.insert(fetch_log_table)
_TOUCH_ITEMS = (
    sa.update(items_table)
    .where(items_table.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(last_seen=sa.bindparam("seen_at", type_=UTCDateTime))
)


_FEED_HAS_KEYS = sa.select(
    sa.or_(
        sa.exists().where(items_table.c.feed_id == _FEED_ID),
        sa.exists().where(item_sources_table.c.feed_id == _FEED_ID),
        sa.exists().where(tombstones_table.c.feed_id == _FEED_ID),
    )
)


def _known_keys(conn: Connection, feed_id: int, keys: list[str]) -> dict[str, _KnownKey]:
    found: dict[str, _KnownKey] = {}
    # A feed with no key stored at all (every feed in a first poll) skips looking its keys up one by one:
    # three index probes instead of one per key and table, most of a cold poll's lookups.
    if not conn.scalar(_FEED_HAS_KEYS, {"feed_id": feed_id}):
        return found
    for chunk in _chunks(keys, MAX_BOUND_PARAMS // 3):  # the statement binds the list three times
        for row in conn.execute(_SELECT_KNOWN_KEYS, {"feed_id": feed_id, "keys": chunk}):
            current = found.get(row.key)
            if current is None or row.kind < current.kind:
                found[row.key] = _KnownKey(_KeyKind(row.kind), row.item_id, row.content_hash)
    return found


def _place_candidates(
    conn: Connection, feed_id: int, candidates: list[Item]
) -> tuple[list[Item], list[tuple[int, str, str | None]]]:
    """Split keys this feed never had into new items and (item_id, key, url) sources of other feeds' items."""
    by_url, by_fingerprint = _other_feeds_matches(conn, feed_id, candidates)
    new_items: list[Item] = []
    source_rows: list[tuple[int, str, str | None]] = []
    for item in candidates:
        target = by_url.get(item.canonical_url) if item.canonical_url else None
        if target is None and item.fingerprint:
            target = by_fingerprint.get(item.fingerprint)
        if target is None:
            new_items.append(item)
        else:
            source_rows.append((target, item.key, item.url))
    return new_items, source_rows


def _other_feeds_matches(
    conn: Connection, feed_id: int, candidates: list[Item]
) -> tuple[dict[str, int], dict[str, int]]:
    """The oldest item of another feed per canonical URL and per fingerprint among the candidates'."""
    by_url: dict[str, int] = {}
    by_fingerprint: dict[str, int] = {}
    for chunk in _chunks(candidates, MAX_BOUND_PARAMS // 2):
        urls = sorted({item.canonical_url for item in chunk if item.canonical_url})
        fingerprints = sorted({item.fingerprint for item in chunk if item.fingerprint})
        if not urls and not fingerprints:
            continue
        params = {"feed_id": feed_id, "urls": urls, "fingerprints": fingerprints}
        wanted_urls, wanted_fingerprints = set(urls), set(fingerprints)
        for row in conn.execute(_SELECT_OTHER_FEEDS_MATCHES, params):
            if row.canonical_url in wanted_urls:
                _keep_smallest(by_url, row.canonical_url, row.id)
            if row.fingerprint in wanted_fingerprints:
                _keep_smallest(by_fingerprint, row.fingerprint, row.id)
    return by_url, by_fingerprint


# An item's own fields: what a new row gets and a content change rewrites.
_ITEM_FIELDS = (
    "url",
    "canonical_url",
    "fingerprint",
    "title",
    "summary",
    "content",
    "author",
    "language",
    "published",
    "updated",
    "date_flag",
    "content_hash",
)
_NEW_ITEM_COLUMNS = ("key", *_ITEM_FIELDS)  # plus feed_id, revision, first_seen, last_seen: same for all
_SOURCE_COLUMNS = ("item_id", "key", "url")  # plus feed_id, first_seen
# Bulk UPDATE (executemany) of items whose content changed; "b_" names keep clear of the column names.
_CHANGED_ITEM_COLUMNS = (*_ITEM_FIELDS, "last_seen")
_UPDATE_CHANGED_ITEM = (
    sa.update(items_table)
    .where(items_table.c.id == sa.bindparam("b_id"))
    .values(
        {
            **{
                name: sa.bindparam(f"b_{name}", type_=items_table.c[name].type)
                for name in _CHANGED_ITEM_COLUMNS
            },
            "revision": items_table.c.revision + 1,
        }
    )
)


@dataclass(slots=True)
class _Tally:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    other_source: int = 0
    tombstoned: int = 0
    new_relevant: list[tuple[str, int]] = field(default_factory=list)
    new_sources: list[tuple[str, int]] = field(default_factory=list)

    def freeze(self) -> SaveResult:
        return SaveResult(
            new=self.new,
            updated=self.updated,
            unchanged=self.unchanged,
            other_source=self.other_source,
            tombstoned=self.tombstoned,
            new_relevant=tuple(self.new_relevant),
            new_sources=tuple(self.new_sources),
        )


def _item_values(item: Item) -> tuple[Any, ...]:
    """The item's stored fields in _ITEM_FIELDS order."""
    return (
        item.url,
        item.canonical_url,
        item.fingerprint,
        item.title,
        item.summary,
        item.content,
        item.author,
        item.language,
        item.published,
        item.updated,
        item.date_flag,
        item.content_hash,
    )


def _item_fields(item: Item) -> dict[str, Any]:
    return dict(zip(_ITEM_FIELDS, _item_values(item), strict=True))


def _listed_item(row: dict[str, Any]) -> StoredItem:
    types = row.pop("event_types")
    return StoredItem(**row, event_types=tuple(types.split(",")) if types else ())


_SELECT_ITEM_IDS = sa.select(items_table.c.id, items_table.c.key).where(
    items_table.c.feed_id == _FEED_ID, items_table.c.key.in_(_KEYS)
)


_MAX_ITEM_ID = sa.select(sa.func.max(items_table.c.id))


def _item_ids(conn: Connection, feed_id: int, keys: Sequence[str]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in _chunks(keys, MAX_BOUND_PARAMS - 1):
        rows = conn.execute(_SELECT_ITEM_IDS, {"feed_id": feed_id, "keys": chunk})
        found.update({row.id: row.key for row in rows})
    return found


_VERDICT_COLUMNS = ("item_id", "relevant", "score", "event_types", "events", "evidence", "rules_version")


_VERDICT_JSON_COLUMNS = ("events", "evidence")


def _verdict_values(item_id: int, verdict: StoredVerdict, *, as_json: bool) -> tuple[Any, ...]:
    """A verdict's values in _VERDICT_COLUMNS order (classified_at is added by the caller): the JSON columns
    as the text the column's type would make of them (json.dumps) with ``as_json``, else as their data."""
    events, evidence = verdict.events_json, verdict.evidence_json
    return (
        item_id,
        verdict.relevant,
        verdict.score,
        verdict.event_types,
        events if as_json else json.loads(events),
        evidence if as_json else json.loads(evidence),
        verdict.rules_version,
    )


def _story_row(story: Story) -> dict[str, Any]:
    return {
        "id": story.id,
        "headline": story.headline,
        "first_seen": story.first_seen,
        "last_seen": story.last_seen,
        "item_count": story.item_count,
        "source_count": len(story.sources),
        "sources": list(story.sources),
        "event_types": ",".join(event.type for event in story.events),
        "events": [
            {"type": e.type, "stage": e.stage, "facts": dict(e.facts), "stages": dict(e.stage_counts)}
            for e in story.events
        ],
        "event_ids": dict(story.event_ids),
        "terms": dict(story.terms),
        "actors": list(story.actors),
        "primaries": dict(story.primaries),
    }


def _story_from_row(row: dict[str, Any]) -> Story:
    return Story(
        id=row["id"],
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        headline=row["headline"],
        item_count=row["item_count"],
        sources=tuple(row["sources"]),
        events=tuple(
            StoryEvent(e["type"], e["facts"], e["stage"], e.get("stages", {})) for e in row["events"]
        ),
        event_ids=row["event_ids"],
        terms=row["terms"],
        actors=tuple(row["actors"]),
        primaries=row["primaries"],
    )


def _event_row(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "key": event.key,
        "status": event.status,
        "facts": dict(event.facts),
        "first_seen": event.first_seen,
        "last_seen": event.last_seen,
        "story_ids": list(event.story_ids),
        "sources": list(event.sources),
        "source_count": len(event.sources),
        "last_alert_story": event.last_alert_story,
        "last_alert_at": event.last_alert_at,
    }


def _event_from_row(row: dict[str, Any]) -> Event:
    return _from_row(Event, row, tuples=("story_ids", "sources"))


def _decision_row(decision: AlertDecision, now: datetime) -> dict[str, Any]:
    return {
        "event_id": decision.event_id,
        "event_type": decision.event_type,
        "story_id": decision.story_id,
        "item_id": decision.item_id,
        "item_key": decision.item_key,
        "alert": decision.alert,
        "kind": decision.kind,
        "reason": decision.reason,
        "status": decision.status,
        "facts": dict(decision.facts),
        "sources": decision.sources,
        "decided_at": decision.decided_at,
        "recorded_at": now,
    }


def _decision_from_row(row: dict[str, Any]) -> AlertDecision:
    return _from_row(AlertDecision, row)


_D = TypeVar("_D")


def _from_row(cls: type[_D], row: Mapping[str, Any], *, tuples: Collection[str] = ()) -> _D:
    """The dataclass whose fields are the row's columns of the same names (lists back to tuples)."""
    values = {f.name: row[f.name] for f in fields(cls)}  # type: ignore[arg-type]
    for name in tuples:
        values[name] = tuple(values[name])
    return cls(**values)


def idempotency_key(subject: str, channel: str) -> str:
    """A stable key per (decision, channel), in the Standard Webhooks "msg_" style; no secret in it."""
    digest = hashlib.sha256(f"{subject}\0{channel}".encode()).hexdigest()[:40]
    return f"msg_{digest}"


def _outbox_row(row: dict[str, Any]) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        channel=row["channel"],
        kind=row["kind"],
        idempotency_key=row["idempotency_key"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        payload=row["message"],
        created_at=row["created_at"],
        last_error=row["last_error"],
        last_status=row["last_status"],
        sent_at=row["sent_at"],
        decision_id=row["decision_id"],
        event_id=row["event_id"],
    )


def _detected_event(raw: Mapping[str, Any]) -> DetectedEvent:
    evidence = tuple(
        Evidence(rule=e["rule"], start=e["start"], end=e["end"], text=e["text"])
        for e in raw.get("evidence", ())
    )
    return DetectedEvent(type=raw["type"], score=raw["score"], facts=raw.get("facts", {}), evidence=evidence)


def _stored_item(row: Any) -> Item:
    return Item(
        feed=row.feed_name,
        key=row.key,
        url=row.url,
        canonical_url=row.canonical_url,
        title=row.title,
        summary=row.summary,
        content=row.content,
        author=row.author,
        published=row.published,
        updated=row.updated,
        date_flag=row.date_flag,
        language=row.language,
        fingerprint=row.fingerprint,
        content_hash=row.content_hash,
    )


def _changed_row(item_id: int, item: Item, now: datetime) -> dict[str, Any]:
    row = {f"b_{name}": value for name, value in _item_fields(item).items()}
    row.update(b_id=item_id, b_last_seen=now)
    return row


def _first_per_key(batch: Iterable[Item]) -> tuple[dict[str, Item], int]:
    unique: dict[str, Item] = {}
    repeats = 0
    for item in batch:
        if item.key in unique:
            repeats += 1
        else:
            unique[item.key] = item
    return unique, repeats


def _keep_smallest(mapping: dict[str, int], key: str, value: int) -> None:
    current = mapping.get(key)
    if current is None or value < current:
        mapping[key] = value


def _chunks(values: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _feed_state(row: sa.Row[Any]) -> FeedState:
    return FeedState(
        id=row.id,
        name=row.name,
        url=row.url,
        config_url=row.config_url,
        status=FeedStatus(row.status),
        etag=row.etag,
        last_modified=row.last_modified,
        body_hash=row.body_hash,
        next_due=row.next_due,
        error_count=row.error_count,
        last_error=row.last_error,
        last_error_reason=row.last_error_reason,
        last_status=row.last_status,
        last_fetch_at=row.last_fetch_at,
        last_success_at=row.last_success_at,
        gone_reason=row.gone_reason,
        last_problem=row.last_problem,
    )


def _db_message(exc: sa.exc.SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig) if orig is not None else str(exc).splitlines()[0]


@contextlib.contextmanager
def _database_errors() -> Iterator[None]:
    """Operational failures (locked, disk full, missing table) become StoreError; bugs stay what they are."""
    try:
        yield
    except sa.exc.OperationalError as exc:
        raise StoreError(f"database error: {_db_message(exc)}") from exc


# Alembic's own version table, as ``alembic stamp`` creates it (a new database is stamped without Alembic).
_alembic_version = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def _create_if_empty(conn: sa.Connection) -> bool:
    """Build the newest schema from the table definitions when the database holds none of them yet, and stamp
    it with SCHEMA_HEAD: Alembic's recipe for a new database ("create_all, then stamp head"). A first start
    then neither imports Alembic (its templates and their highlighter stay out of the daemon's memory, about
    10 MiB) nor replays every migration. False, and nothing done, when any of the tables exists or the
    version table names a revision: those databases are migrated."""
    existing = set(sa.inspect(conn).get_table_names())
    if existing & set(metadata.tables):
        return False
    if _alembic_version.name in existing:
        if conn.execute(sa.select(_alembic_version.c.version_num)).first() is not None:
            return False
    else:
        _alembic_version.create(conn)
    metadata.create_all(conn)
    conn.execute(_alembic_version.insert().values(version_num=SCHEMA_HEAD))
    return True


def _sqlite_engine(url: sa.URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    kwargs: dict[str, Any] = {}
    if in_memory:
        # one shared connection, or each thread/pool checkout would see its own empty database
        kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    elif not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, **kwargs)
    sa.event.listen(engine, "connect", _configure_sqlite_connection)
    sa.event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _server_engine(url: sa.URL) -> Engine:
    engine = sa.create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "postgresql":
        sa.event.listen(engine, "connect", _configure_postgresql_connection)
    return engine


def _configure_postgresql_connection(dbapi_connection: Any, _record: Any) -> None:
    # psycopg prepares statements it sees repeatedly; a generic plan made while a table was nearly empty
    # keeps scanning it whole as it grows (measured: cold polls 10x slower). Our queries plan in microseconds.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET plan_cache_mode = force_custom_plan")
    finally:
        cursor.close()
    dbapi_connection.commit()


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy emits BEGIN itself (see _begin_sqlite_transaction): sqlite3's legacy mode would run
    # SELECTs and DDL outside any transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")  # first: WAL switch may wait
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        # checkpoint (and fsync) every 16 MB of WAL rather than 4 MB: about 10% faster cold polls
        cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _begin_sqlite_transaction(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
