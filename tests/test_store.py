"""Store: migrations, feeds, items and their sources, tombstones, pruning, concurrency. Real SQLite files."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import sqlite

from aggregator.errors import StoreError
from aggregator.models import (
    Classification,
    DetectedEvent,
    Evidence,
    FeedState,
    FeedStatus,
    FetchLogEntry,
    Item,
    PolledFeed,
    SaveResult,
    StoredVerdict,
)
from aggregator.store import (
    MIGRATIONS_DIR,
    SCHEMA_HEAD,
    Store,
    StoredItem,
    _utc_text_first,
    _verdict_values,
    items_table,
    metadata,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PG_URL = os.environ.get("AGGREGATOR_TEST_PG_URL")


HEAD = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()  # the newest migration in the package


def make_item(feed: str, key: str, **changes: object) -> Item:
    """An item whose URL, canonical URL and fingerprint are unique to (feed, key) unless overridden."""
    item = Item(
        feed=feed,
        key=key,
        url=f"https://{feed}.example/{key}",
        canonical_url=f"https://{feed}.example/{key}",
        title=f"Talks in Istanbul: {key}",
        summary=f"Delegations met again ({feed}/{key}).",
        content=None,
        author="Desk",
        published=NOW - timedelta(hours=1),
        updated=None,
        date_flag=None,
        language="en",
        fingerprint=hashlib.sha256(f"text of {feed}/{key}".encode()).hexdigest(),
        content_hash="v1",
    )
    return replace(item, **changes)  # type: ignore[arg-type]


def db_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "dir" / "aggregator.sqlite"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store.open(db_url(db_path)) as opened:
        yield opened


@pytest.fixture
def feed_ids(store: Store) -> dict[str, int]:
    store.sync_feeds(
        [
            ("alpha", "https://alpha.example/rss"),
            ("beta", "https://beta.example/rss"),
            ("gamma", "https://gamma.example/rss"),
        ],
        NOW,
    )
    return {state.name: state.id for state in store.feed_states()}


def raw(db_path: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Query the file with plain sqlite3, behind the store's back."""
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(sql, params).fetchall()
    conn.close()
    return rows


# --- migrations and connection settings ------------------------------------------------------------


def test_open_creates_the_directory_and_migrates_to_head(db_path: Path) -> None:
    assert not db_path.parent.exists()
    with Store.open(db_url(db_path)):
        pass
    tables = {name for (name,) in raw(db_path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables >= {"feeds", "items", "item_sources", "tombstones", "fetch_log", "alembic_version"}
    assert raw(db_path, "SELECT version_num FROM alembic_version") == [(HEAD,)]


def test_upgrade_is_idempotent_and_keeps_data(db_path: Path) -> None:
    with Store.open(db_url(db_path)) as store:
        store.sync_feeds([("alpha", "https://alpha.example/rss")], NOW)
        store.upgrade()
    with Store.open(db_url(db_path)) as store:
        store.upgrade()
        assert [state.name for state in store.feed_states()] == ["alpha"]
    assert raw(db_path, "SELECT version_num FROM alembic_version") == [(HEAD,)]


def test_the_schema_head_the_store_checks_is_the_newest_migration() -> None:
    assert SCHEMA_HEAD == HEAD


def migration_modules_loaded_by_opening(db_path: Path) -> str:
    """The Alembic and Mako modules a fresh process has loaded after opening the store on the file."""
    script = (
        "import sys\n"
        "from aggregator.store import Store\n"
        f"Store.open({db_url(db_path)!r}).close()\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('alembic', 'mako')))\n"
    )
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return shown.stdout.strip()


def test_opening_an_up_to_date_database_does_not_load_alembic(db_path: Path) -> None:
    with Store.open(db_url(db_path)):
        pass
    assert migration_modules_loaded_by_opening(db_path) == "[]"


def run_alembic(db_path: Path, action: str, revision: str) -> list[str]:
    """Run ``alembic upgrade|downgrade revision`` on the file; the tables there after."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    db_path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(db_url(db_path), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            getattr(command, action)(config, revision)
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def downgrade(db_path: Path, revision: str) -> list[str]:
    return run_alembic(db_path, "downgrade", revision)


def schema(db_path: Path) -> dict[str, object]:
    """Everything the inspector sees of every table: columns, keys, indexes, constraints."""
    engine = sa.create_engine(db_url(db_path), poolclass=sa.pool.NullPool)
    try:
        inspector = sa.inspect(engine)
        return {
            table: {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], c.get("default"), c.get("autoincrement"))
                    for c in inspector.get_columns(table)
                ],
                "primary key": inspector.get_pk_constraint(table),
                "foreign keys": sorted(map(repr, inspector.get_foreign_keys(table))),
                "indexes": sorted(map(repr, inspector.get_indexes(table))),
                "unique": sorted(map(repr, inspector.get_unique_constraints(table))),
                "checks": sorted(map(repr, inspector.get_check_constraints(table))),
            }
            for table in sorted(inspector.get_table_names())
        }
    finally:
        engine.dispose()


def test_a_new_database_is_built_as_the_migrations_build_it(tmp_path: Path) -> None:
    # A new database is created from the table definitions and stamped, not migrated step by step: the two
    # must give the same schema (and the same version), or the next migration would meet a different one.
    migrated, created = tmp_path / "migrated.sqlite", tmp_path / "created.sqlite"
    run_alembic(migrated, "upgrade", "head")
    with Store.open(db_url(created)):
        pass
    assert schema(created) == schema(migrated)
    assert raw(created, "SELECT version_num FROM alembic_version") == [(HEAD,)]
    # and the comparison sees a difference where there is one (the check above can fail)
    [(index,)] = raw(
        migrated, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL LIMIT 1"
    )
    with closing(sqlite3.connect(migrated)) as conn:
        conn.execute(f"DROP INDEX {index}")
    assert schema(created) != schema(migrated)


def test_a_new_database_is_created_without_loading_alembic_and_alembic_finds_it_at_head(
    db_path: Path,
) -> None:
    assert migration_modules_loaded_by_opening(db_path) == "[]"
    assert "alembic_version" in run_alembic(db_path, "upgrade", "head")  # nothing to do, and no error
    assert raw(db_path, "SELECT version_num FROM alembic_version") == [(HEAD,)]
    run_alembic(db_path, "downgrade", "-1")  # the stamp is one Alembic migrates from
    assert raw(db_path, "SELECT version_num FROM alembic_version") not in ([(HEAD,)], [])


def test_an_empty_version_table_and_no_tables_make_a_new_database(db_path: Path, tmp_path: Path) -> None:
    with Store.open(db_url(db_path)):
        pass
    assert downgrade(db_path, "base") == ["alembic_version"]  # every table gone, the version table empty
    with Store.open(db_url(db_path)) as store:
        store.sync_feeds([("alpha", "https://alpha.example/rss")], NOW)
    assert raw(db_path, "SELECT version_num FROM alembic_version") == [(HEAD,)]
    migrated = tmp_path / "migrated.sqlite"
    run_alembic(migrated, "upgrade", "head")
    assert schema(db_path) == schema(migrated)


def test_a_database_one_migration_behind_is_upgraded(db_path: Path) -> None:
    with Store.open(db_url(db_path)):
        pass
    downgrade(db_path, "-1")
    assert raw(db_path, "SELECT version_num FROM alembic_version") != [(HEAD,)]
    with Store.open(db_url(db_path)):
        pass
    assert raw(db_path, "SELECT version_num FROM alembic_version") == [(HEAD,)]


def test_a_database_from_a_newer_version_is_refused_with_a_hint(db_path: Path) -> None:
    with Store.open(db_url(db_path)):
        pass
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="cannot migrate") as raised:
        Store.open(db_url(db_path))
    assert "newer version" in str(raised.value.hint)


def test_migrations_downgrade_to_nothing_and_back(store: Store, db_path: Path) -> None:
    assert downgrade(db_path, "base") == ["alembic_version"]
    run_alembic(db_path, "upgrade", "head")  # every migration, in turn (the store would create a new schema)
    assert _schema_diffs(db_url(db_path), metadata) == []


def test_open_without_upgrade_leaves_an_empty_file_unmigrated(db_path: Path) -> None:
    with (
        Store.open(db_url(db_path), upgrade=False) as store,
        pytest.raises(StoreError, match="no such table"),
    ):
        store.feed_states()


def _schema_diffs(url: str, target: sa.MetaData) -> list[object]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(context, target))
    finally:
        engine.dispose()


def test_migrated_schema_equals_the_metadata(db_path: Path) -> None:
    run_alembic(db_path, "upgrade", "head")
    assert _schema_diffs(db_url(db_path), metadata) == []


def test_schema_comparison_does_notice_a_difference(store: Store, db_path: Path) -> None:
    # guards the test above: a metadata that differs from the migrations must produce diffs
    altered = sa.MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(altered)
    sa.Table("items", altered, sa.Column("story_id", sa.Integer), extend_existing=True)
    diffs = _schema_diffs(db_url(db_path), altered)
    assert any(diff[0] == "add_column" and diff[3].name == "story_id" for diff in diffs)  # type: ignore[index]


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(store: Store, db_path: Path) -> None:
    assert raw(db_path, "PRAGMA journal_mode") == [("wal",)]  # persistent in the file
    with store._engine.connect() as conn:  # per-connection settings, on the store's own connection
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_open_reports_unusable_databases_as_store_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="invalid database URL"):
        Store.open("not a url at all")
    with pytest.raises(StoreError, match=r"postgresql\+psycopg2://u:\*\*\*@127\.0\.0\.1:1/db"):
        Store.open("postgresql+psycopg2://u:secret@127.0.0.1:1/db")  # no driver here, or nothing listening
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a database"):
        Store.open(db_url(garbage))


def test_a_database_from_a_newer_version_is_refused(db_path: Path) -> None:
    with Store.open(db_url(db_path)):
        pass
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    with pytest.raises(StoreError, match="9999") as caught:
        Store.open(db_url(db_path))
    assert caught.value.hint is not None and "newer" in caught.value.hint


def test_in_memory_database_works_across_threads() -> None:
    with Store.open("sqlite://") as store:
        store.sync_feeds([("alpha", "https://alpha.example/rss")], NOW)
        states: list[FeedState] = []
        worker = threading.Thread(target=lambda: states.extend(store.feed_states()))
        worker.start()
        worker.join()
        assert [state.name for state in states] == ["alpha"]


# --- feeds -----------------------------------------------------------------------------------------


def test_sync_feeds_inserts_new_feeds_due_now(store: Store) -> None:
    store.sync_feeds([("beta", "https://beta.example/rss"), ("alpha", "https://alpha.example/rss")], NOW)
    states = store.feed_states()
    assert [state.name for state in states] == ["alpha", "beta"]
    alpha = states[0]
    assert alpha.url == alpha.config_url == "https://alpha.example/rss"
    assert alpha.status is FeedStatus.NEW
    assert alpha.next_due == NOW and alpha.next_due.tzinfo is UTC
    assert alpha.error_count == 0 and alpha.etag is None
    assert store.feed_state("beta") == states[1]
    assert store.feed_state("nope") is None


def test_sync_feeds_resets_a_feed_whose_config_url_changed(store: Store, feed_ids: dict[str, int]) -> None:
    alpha = store.feed_state("alpha")
    assert alpha is not None
    store.update_feed(
        replace(
            alpha,
            url="https://moved.example/rss",
            status=FeedStatus.GONE,
            etag='"e1"',
            last_modified="Sun, 01 Mar 2026 10:00:00 GMT",
            body_hash="b" * 64,
            next_due=NOW + timedelta(days=30),
            error_count=4,
            last_error="HTTP 410",
            last_error_reason="http_410",
            last_status=410,
            gone_reason="410 Gone",
        )
    )
    store.save_items(feed_ids["alpha"], [make_item("alpha", "a1")], NOW)
    later = NOW + timedelta(hours=2)

    store.sync_feeds(
        [
            ("alpha", "https://alpha.example/atom"),
            ("beta", "https://beta.example/rss"),
            ("gamma", "https://gamma.example/rss"),
        ],
        later,
    )

    reset = store.feed_state("alpha")
    assert reset is not None
    assert (reset.url, reset.config_url) == ("https://alpha.example/atom", "https://alpha.example/atom")
    assert reset.status is FeedStatus.NEW and reset.next_due == later
    assert (reset.etag, reset.last_modified, reset.body_hash) == (None, None, None)
    assert (reset.error_count, reset.last_error, reset.gone_reason, reset.last_status) == (
        0,
        None,
        None,
        None,
    )
    assert reset.id == feed_ids["alpha"]
    assert [item.key for item in store.list_items(feed="alpha")] == ["a1"]  # items stay


def test_sync_feeds_leaves_unchanged_feeds_alone(store: Store, feed_ids: dict[str, int]) -> None:
    beta = store.feed_state("beta")
    assert beta is not None
    gone = replace(
        beta,
        url="https://cdn.beta.example/rss",
        status=FeedStatus.GONE,
        gone_reason="410",
        next_due=NOW + timedelta(days=1),
        etag='"x"',
    )
    store.update_feed(gone)
    store.sync_feeds(
        [
            ("alpha", "https://alpha.example/rss"),
            ("beta", "https://beta.example/rss"),
            ("gamma", "https://gamma.example/rss"),
        ],
        NOW + timedelta(hours=1),
    )
    assert store.feed_state("beta") == gone  # a GONE feed stays gone until its configuration changes


def test_sync_feeds_disables_removed_feeds_and_brings_back_readded_ones(
    store: Store, feed_ids: dict[str, int]
) -> None:
    store.save_items(feed_ids["gamma"], [make_item("gamma", "g1")], NOW)
    gamma = store.feed_state("gamma")
    assert gamma is not None
    store.update_feed(
        replace(
            gamma,
            status=FeedStatus.ERROR,
            etag='"g"',
            error_count=3,
            last_error="boom",
            next_due=NOW + timedelta(hours=6),
        )
    )

    store.sync_feeds([("alpha", "https://alpha.example/rss"), ("beta", "https://beta.example/rss")], NOW)
    disabled = store.feed_state("gamma")
    assert disabled is not None and disabled.status is FeedStatus.DISABLED
    assert [state.name for state in store.due_feeds(NOW)] == ["alpha", "beta"]
    assert [item.key for item in store.list_items(feed="gamma")] == ["g1"]

    back_at = NOW + timedelta(days=1)
    store.sync_feeds(
        [
            ("alpha", "https://alpha.example/rss"),
            ("beta", "https://beta.example/rss"),
            ("gamma", "https://gamma.example/rss"),
        ],
        back_at,
    )
    back = store.feed_state("gamma")
    assert back is not None
    assert back.id == gamma.id and back.status is FeedStatus.NEW and back.next_due == back_at
    assert back.etag == '"g"'  # validators survive: the first poll back may be a cheap 304
    assert (back.error_count, back.last_error) == (0, None)


def test_sync_feeds_refuses_duplicate_names(store: Store) -> None:
    with pytest.raises(ValueError, match="unique"):
        store.sync_feeds([("alpha", "https://a.example/1"), ("alpha", "https://a.example/2")], NOW)
    assert store.feed_states() == []


def test_due_feeds_by_time_status_names_and_force(store: Store, feed_ids: dict[str, int]) -> None:
    store.sync_feeds(
        [
            ("alpha", "https://alpha.example/rss"),
            ("beta", "https://beta.example/rss"),
            ("gamma", "https://gamma.example/rss"),
            ("delta", "https://delta.example/rss"),
            ("omega", "https://omega.example/rss"),
        ],
        NOW,
    )
    states = {state.name: state for state in store.feed_states()}
    store.update_feed(replace(states["alpha"], status=FeedStatus.OK, next_due=NOW + timedelta(minutes=10)))
    store.update_feed(replace(states["beta"], status=FeedStatus.ERROR, next_due=NOW - timedelta(minutes=5)))
    store.update_feed(replace(states["gamma"], status=FeedStatus.GONE, next_due=None))
    store.update_feed(replace(states["delta"], status=FeedStatus.OK, next_due=None))
    # omega: NEW, due exactly NOW

    assert [s.name for s in store.due_feeds(NOW)] == ["delta", "beta", "omega"]
    assert [s.name for s in store.due_feeds(NOW + timedelta(minutes=10))] == [
        "delta",
        "beta",
        "omega",
        "alpha",
    ]
    assert [s.name for s in store.due_feeds(NOW - timedelta(minutes=6))] == ["delta"]
    assert [s.name for s in store.due_feeds(NOW, names={"alpha", "beta", "nope"})] == ["beta"]
    assert [s.name for s in store.due_feeds(NOW, names=["alpha", "gamma"], force=True)] == ["alpha"]
    assert [s.name for s in store.due_feeds(NOW, force=True)] == ["delta", "beta", "omega", "alpha"]
    assert store.due_feeds(NOW, names=[]) == []


def test_update_feed_round_trips_every_field(store: Store, feed_ids: dict[str, int]) -> None:
    kyiv = timezone(timedelta(hours=2))
    alpha = store.feed_state("alpha")
    assert alpha is not None
    written = replace(
        alpha,
        url="https://new.alpha.example/feed",
        status=FeedStatus.ERROR,
        etag='W/"abc"',
        last_modified="Sun, 01 Mar 2026 11:00:00 GMT",
        body_hash="f" * 64,
        next_due=datetime(2026, 3, 1, 15, 30, 0, 123456, tzinfo=kyiv),
        error_count=7,
        last_error="connection reset by peer",
        last_error_reason="connection",
        last_status=503,
        last_fetch_at=datetime(2026, 3, 1, 13, 0, tzinfo=kyiv),
        last_success_at=NOW - timedelta(days=2),
        gone_reason="not yet",
    )
    store.update_feed(written)
    back = store.feed_state("alpha")
    assert back == written  # aware datetimes compare by instant
    assert back is not None and back.next_due is not None and back.last_fetch_at is not None
    assert back.next_due.tzinfo is UTC and back.next_due.hour == 13 and back.next_due.microsecond == 123456
    assert back.last_fetch_at == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert back.name == "alpha" and back.config_url == "https://alpha.example/rss"
    beta = store.feed_state("beta")
    assert beta is not None and beta.status is FeedStatus.NEW  # only the one row changed


def test_update_feed_of_an_unknown_id_raises(store: Store) -> None:
    with pytest.raises(LookupError):
        store.update_feed(
            FeedState(id=4242, name="x", url="https://x.example", config_url="https://x.example")
        )


def test_a_polls_batch_naming_an_unknown_feed_raises_and_writes_nothing(
    store: Store, feed_ids: dict[str, int], db_path: Path
) -> None:
    alpha = store.feed_state("alpha")
    assert alpha is not None
    polled = [
        PolledFeed(
            state=replace(alpha, status=FeedStatus.OK, etag='"a2"'),
            log=FetchLogEntry(feed_id=alpha.id, started_at=NOW, duration_s=0.1, outcome="ok", status=200),
            items=(make_item("alpha", "a1"),),
        ),
        PolledFeed(
            state=FeedState(id=4242, name="x", url="https://x.example", config_url="https://x.example"),
            log=FetchLogEntry(feed_id=alpha.id, started_at=NOW, duration_s=0.1, outcome="not_modified"),
        ),
    ]
    with pytest.raises(LookupError, match="4242"):
        store.record_polled(polled, NOW)
    # One transaction: the known feed's state, its item and both log rows are rolled back with it
    assert store.feed_state("alpha") == alpha
    assert raw(db_path, "SELECT count(*) FROM items") == [(0,)]
    assert raw(db_path, "SELECT count(*) FROM fetch_log") == [(0,)]


def test_a_polls_batch_writes_each_feeds_state_and_log(
    store: Store, feed_ids: dict[str, int], db_path: Path
) -> None:
    states = [store.feed_state(name) for name in ("alpha", "beta")]
    assert states[0] is not None and states[1] is not None
    polled = [
        PolledFeed(
            state=replace(state, status=FeedStatus.OK, etag=f'"{state.name}"', last_status=304),
            log=FetchLogEntry(
                feed_id=state.id, started_at=NOW, duration_s=0.5, outcome="not_modified", status=304
            ),
        )
        for state in states
        if state is not None
    ]
    store.record_polled(polled, NOW)
    for state in states:
        assert state is not None
        back = store.feed_state(state.name)
        assert back is not None and back.etag == f'"{state.name}"' and back.status is FeedStatus.OK
    assert raw(db_path, "SELECT feed_id, outcome, status FROM fetch_log ORDER BY feed_id") == sorted(
        (state.id, "not_modified", 304) for state in states if state is not None
    )


def test_naive_datetimes_are_refused(store: Store, feed_ids: dict[str, int]) -> None:
    alpha = store.feed_state("alpha")
    assert alpha is not None
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        store.update_feed(replace(alpha, next_due=datetime(2026, 3, 1, 12, 0)))
    assert store.feed_state("alpha") == alpha


@pytest.mark.parametrize("top_of_range", [False, True], ids=["ids in sequence", "ids at random"])
def test_a_polls_verdicts_are_stored_on_their_own_new_items(
    store: Store, feed_ids: dict[str, int], db_path: Path, top_of_range: bool
) -> None:
    if top_of_range:  # an item at the largest rowid: SQLite numbers the next ones at random
        store.save_items(feed_ids["beta"], [make_item("beta", "b1")], NOW)
        raw(db_path, "UPDATE items SET id = 9223372036854775807")
    alpha = store.feed_state("alpha")
    assert alpha is not None
    keys = ["k3", "k1", "k2", "k0"]  # not in key order
    verdicts = tuple(
        StoredVerdict.of(
            Classification(
                relevant=n % 2 == 0,
                score=float(n),
                events=(),
                evidence=(Evidence("rule", 0, 2, key),),
                rules_version="v",
            )
        )
        for n, key in enumerate(keys)
    )
    polled = PolledFeed(
        state=alpha,
        log=FetchLogEntry(feed_id=alpha.id, started_at=NOW, duration_s=0.1, outcome="ok", status=200),
        items=tuple(make_item("alpha", key) for key in keys),
        verdicts=verdicts,
    )
    (saved,) = store.record_polled([polled], NOW)
    stored = raw(
        db_path,
        "SELECT i.key, i.id, c.score FROM items i JOIN classifications c ON c.item_id = i.id"
        " WHERE i.feed_id = ? ORDER BY i.key",
        alpha.id,
    )
    assert [(key, score) for key, _, score in stored] == [("k0", 3.0), ("k1", 1.0), ("k2", 2.0), ("k3", 0.0)]
    ids = {key: item_id for key, item_id, _ in stored}
    assert saved.new_relevant == (("k2", ids["k2"]), ("k3", ids["k3"]))  # by key, as a lookup gives them


def test_verdicts_json_written_directly_is_what_json_dumps_writes() -> None:
    texts = [
        "plain",
        'quote " and \\ backslash',
        "tab\tnew\nline\x00\x1f\x7f",
        "Zürich – «talks»",
        "emoji 🙂",
        "\ud800",
    ]
    evidence = tuple(Evidence(f"rule.{n}", n, n + len(text), text) for n, text in enumerate(texts))
    odd = (Evidence("rule.odd", True, 2, "x"),)  # not an int: left to json itself
    many = tuple(Evidence("r", n, n + 1, "x") for n in range(40))  # more than are stored

    def stored(spans: tuple[Evidence, ...]) -> list[dict[str, object]]:
        return [{"rule": e.rule, "start": e.start, "end": e.end, "text": e.text} for e in spans[:24]]

    for spans in (evidence, odd, many, ()):
        facts = {"round": 3, "place": "Genève"}
        event = DetectedEvent("NEW_ROUND", 0.75, facts, spans)
        as_data = {"type": "NEW_ROUND", "score": 0.75, "facts": facts, "evidence": stored(spans)}
        for events in ((), (event,)):
            data = [as_data] * len(events)
            verdict = StoredVerdict.of(Classification(True, 1.5, events, spans, "v1"))
            assert verdict.evidence_json == json.dumps(stored(spans))
            assert verdict.events_json == json.dumps(data)
            as_json = _verdict_values(7, verdict, as_json=True)
            plain = _verdict_values(7, verdict, as_json=False)  # for a database driver that takes data
            assert as_json == (7, True, 1.5, "NEW_ROUND" if events else "", json.dumps(data),
                               json.dumps(stored(spans)), "v1")  # fmt: skip
            assert plain[4:6] == (data, stored(spans)) and plain[:4] + plain[6:] == as_json[:4] + as_json[6:]


def test_the_bulk_path_writes_datetimes_as_sqlalchemy_does() -> None:
    dialect = sqlite.dialect()
    process = items_table.c.published.type.dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    direct = _utc_text_first(process)
    assert direct is not process  # the probe agreed: UTC datetimes are written directly
    values = [
        datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 0, 5, 123, tzinfo=UTC),
        datetime(7, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
        None,
    ]
    assert [direct(v) for v in values] == [process(v) for v in values]
    assert direct(values[1]) == "2026-03-01 12:00:05.000123"
    with pytest.raises(ValueError, match="naive datetime"):
        direct(datetime(2026, 3, 1, 12, 0))


def test_a_stored_verdict_carries_its_events_for_the_story_stage_when_relevant() -> None:
    event = DetectedEvent("EXCHANGE", 0.5, {"count": 40}, (Evidence("swap", 0, 4, "swap"),))
    assert StoredVerdict.of(Classification(True, 1.0, (event,), (), "v1")).events == (event,)
    irrelevant = StoredVerdict.of(Classification(False, 0.1, (event,), (), "v1"))
    assert irrelevant.events == () and irrelevant.event_types == "EXCHANGE"


# --- save_items ------------------------------------------------------------------------------------


def test_new_unchanged_and_updated_items(store: Store, feed_ids: dict[str, int], db_path: Path) -> None:
    alpha = feed_ids["alpha"]
    first = [make_item("alpha", "a1"), make_item("alpha", "a2")]
    assert store.save_items(alpha, first, NOW) == SaveResult(new=2)

    later = NOW + timedelta(minutes=15)
    edited = make_item(
        "alpha",
        "a2",
        title="Talks resume in Istanbul",
        summary="Edited.",
        content_hash="v2",
        updated=later,
        published=NOW - timedelta(hours=3),
    )
    assert store.save_items(alpha, [make_item("alpha", "a1"), edited], later) == SaveResult(
        updated=1, unchanged=1
    )

    latest = NOW + timedelta(minutes=30)
    edited_again = replace(edited, summary="Edited twice.", content_hash="v3")
    assert store.save_items(alpha, [edited_again], latest) == SaveResult(updated=1)

    items = {item.key: item for item in store.list_items(feed="alpha")}
    assert store.count_items() == 2
    assert (items["a1"].revision, items["a1"].first_seen, items["a1"].last_seen) == (0, NOW, later)
    a2 = items["a2"]
    assert (a2.revision, a2.first_seen, a2.last_seen) == (2, NOW, latest)
    assert (a2.title, a2.summary, a2.published) == (
        "Talks resume in Istanbul",
        "Edited twice.",
        edited.published,
    )
    # the bulk UPDATE stores datetimes exactly like the INSERT does (comparisons in SQL depend on it)
    stored = dict(raw(db_path, "SELECT key, published FROM items"))
    assert stored == {"a1": "2026-03-01 11:00:00.000000", "a2": "2026-03-01 09:00:00.000000"}


def test_repeating_a_batch_is_idempotent(store: Store, feed_ids: dict[str, int]) -> None:
    batch = [make_item("alpha", f"a{i}") for i in range(10)]
    assert store.save_items(feed_ids["alpha"], batch, NOW) == SaveResult(new=10)
    for minutes in (5, 10):
        assert store.save_items(feed_ids["alpha"], batch, NOW + timedelta(minutes=minutes)) == SaveResult(
            unchanged=10
        )
    assert store.count_items() == 10
    assert {item.revision for item in store.list_items()} == {0}


def test_a_key_repeated_within_a_batch_is_stored_once(store: Store, feed_ids: dict[str, int]) -> None:
    batch = [
        make_item("alpha", "a1"),
        make_item("alpha", "a1", content_hash="other"),
        make_item("alpha", "a2"),
    ]
    assert store.save_items(feed_ids["alpha"], batch, NOW) == SaveResult(new=2, unchanged=1)
    assert store.save_items(feed_ids["alpha"], [make_item("alpha", "a1")], NOW) == SaveResult(unchanged=1)
    assert store.save_items(feed_ids["alpha"], [], NOW) == SaveResult()


def test_same_canonical_url_from_another_feed_is_a_source(store: Store, feed_ids: dict[str, int]) -> None:
    original = make_item("alpha", "a1", canonical_url="https://news.example/story")
    store.save_items(feed_ids["alpha"], [original], NOW)
    carried = make_item(
        "beta", "b-77", canonical_url="https://news.example/story", url="https://beta.example/x"
    )
    later = NOW + timedelta(minutes=20)
    assert store.save_items(feed_ids["beta"], [carried], later) == SaveResult(other_source=1)

    assert store.count_items() == 1
    (item,) = store.list_items()
    assert (item.feed, item.key, item.sources, item.last_seen) == ("alpha", "a1", 2, later)
    assert store.item_sources(item.id) == ["alpha", "beta"]
    assert store.list_items(feed="beta") == []  # a source is not the feed's own item
    # seen again from beta: still that item's source, nothing new, and it keeps the item alive
    latest = NOW + timedelta(minutes=40)
    assert store.save_items(feed_ids["beta"], [carried], latest) == SaveResult(unchanged=1)
    assert store.list_items()[0].last_seen == latest
    assert store.item_sources(item.id) == ["alpha", "beta"]


def test_same_fingerprint_from_another_feed_is_a_source(store: Store, feed_ids: dict[str, int]) -> None:
    store.save_items(feed_ids["alpha"], [make_item("alpha", "a1", fingerprint="fp-ceasefire")], NOW)
    syndicated = make_item(
        "gamma", "g1", fingerprint="fp-ceasefire", canonical_url="https://gamma.example/g1"
    )
    assert store.save_items(feed_ids["gamma"], [syndicated], NOW) == SaveResult(other_source=1)
    again = make_item("beta", "b1", fingerprint="fp-ceasefire", canonical_url=None)
    assert store.save_items(feed_ids["beta"], [again], NOW) == SaveResult(other_source=1)
    (item,) = store.list_items()
    assert store.item_sources(item.id) == ["alpha", "gamma", "beta"]
    assert item.sources == 3


def test_canonical_url_match_wins_over_fingerprint_match(store: Store, feed_ids: dict[str, int]) -> None:
    store.save_items(feed_ids["alpha"], [make_item("alpha", "a1", canonical_url="https://x.example/1")], NOW)
    store.save_items(feed_ids["gamma"], [make_item("gamma", "g1", fingerprint="fp-shared")], NOW)
    both = make_item("beta", "b1", canonical_url="https://x.example/1", fingerprint="fp-shared")
    assert store.save_items(feed_ids["beta"], [both], NOW) == SaveResult(other_source=1)
    by_key = {item.key: item for item in store.list_items()}
    assert store.item_sources(by_key["a1"].id) == ["alpha", "beta"]
    assert store.item_sources(by_key["g1"].id) == ["gamma"]


def test_within_one_feed_different_keys_stay_different_items(store: Store, feed_ids: dict[str, int]) -> None:
    boilerplate = [
        make_item("alpha", f"a{i}", fingerprint="fp-same-summary", canonical_url="https://a/x")
        for i in range(3)
    ]
    assert store.save_items(feed_ids["alpha"], boilerplate, NOW) == SaveResult(new=3)
    assert store.save_items(
        feed_ids["alpha"], [make_item("alpha", "a9", fingerprint="fp-same-summary")], NOW
    ) == SaveResult(new=1)
    assert store.count_items() == 4
    assert all(store.item_sources(item.id) == ["alpha"] for item in store.list_items())


def test_empty_fingerprints_and_missing_canonical_urls_never_match(
    store: Store, feed_ids: dict[str, int]
) -> None:
    store.save_items(feed_ids["alpha"], [make_item("alpha", "a1", fingerprint="", canonical_url=None)], NOW)
    other = make_item("beta", "b1", fingerprint="", canonical_url=None)
    assert store.save_items(feed_ids["beta"], [other], NOW) == SaveResult(new=1)
    assert store.count_items() == 2


def test_no_new_item_when_the_story_came_from_another_feed_first(
    store: Store, feed_ids: dict[str, int]
) -> None:
    # two keys of beta carry alpha's story: both are recorded, alpha is listed once per feed
    store.save_items(feed_ids["alpha"], [make_item("alpha", "a1", canonical_url="https://n.example/s")], NOW)
    copies = [make_item("beta", key, canonical_url="https://n.example/s") for key in ("b1", "b2")]
    assert store.save_items(feed_ids["beta"], copies, NOW) == SaveResult(other_source=2)
    (item,) = store.list_items()
    assert store.item_sources(item.id) == ["alpha", "beta"]
    assert item.sources == 2


def _allow_999_variables(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)


def test_a_large_batch_beyond_the_sqlite_variable_limit(store: Store, feed_ids: dict[str, int]) -> None:
    # Emulate an old SQLite build (999 variables per statement; newer ones allow 32,766) on the store's
    # connections, and check the limit really is in force.
    sa.event.listen(store._engine, "connect", _allow_999_variables)
    store._engine.dispose()
    too_many = sa.text("SELECT 1 WHERE 1 IN :values").bindparams(sa.bindparam("values", expanding=True))
    with (
        store._engine.connect() as conn,
        pytest.raises(sa.exc.OperationalError, match="too many SQL variables"),
    ):
        conn.execute(too_many, {"values": list(range(1_000))})
    count = 5_000
    alpha_items = [make_item("alpha", f"a{i}", canonical_url=f"https://n.example/{i}") for i in range(count)]
    assert store.save_items(feed_ids["alpha"], alpha_items, NOW) == SaveResult(new=count)
    changed = [replace(item, content_hash="v2") if i % 2 else item for i, item in enumerate(alpha_items)]
    assert store.save_items(feed_ids["alpha"], changed, NOW) == SaveResult(
        updated=count // 2, unchanged=count // 2
    )
    beta_items = [make_item("beta", f"b{i}", canonical_url=f"https://n.example/{i}") for i in range(count)]
    assert store.save_items(feed_ids["beta"], beta_items, NOW) == SaveResult(other_source=count)
    assert store.save_items(feed_ids["beta"], beta_items, NOW) == SaveResult(unchanged=count)
    assert store.count_items() == count


# --- pruning ---------------------------------------------------------------------------------------


def test_prune_items_leaves_tombstones_for_items_and_their_sources(
    store: Store, feed_ids: dict[str, int], db_path: Path
) -> None:
    old = make_item("alpha", "a-old", canonical_url="https://n.example/old")
    fresh = make_item("alpha", "a-fresh")
    store.save_items(feed_ids["alpha"], [old, fresh], NOW - timedelta(days=40))
    store.save_items(
        feed_ids["beta"],
        [make_item("beta", "b-old", canonical_url="https://n.example/old")],
        NOW - timedelta(days=40),
    )
    store.save_items(feed_ids["alpha"], [fresh], NOW)  # fresh is seen again; old is not

    assert store.prune_items(NOW - timedelta(days=30)) == 1
    assert [item.key for item in store.list_items()] == ["a-fresh"]
    assert raw(db_path, "SELECT count(*) FROM item_sources") == [(0,)]  # went with the item (cascade)
    assert sorted(raw(db_path, "SELECT key FROM tombstones")) == [("a-old",), ("b-old",)]

    # neither feed brings the story back, whatever else changed about it
    assert store.save_items(feed_ids["alpha"], [replace(old, content_hash="v9")], NOW) == SaveResult(
        tombstoned=1
    )
    assert store.save_items(feed_ids["beta"], [make_item("beta", "b-old")], NOW) == SaveResult(tombstoned=1)
    assert store.count_items() == 1
    assert store.prune_items(NOW - timedelta(days=30)) == 0


def test_a_story_still_carried_by_another_feed_is_not_pruned(store: Store, feed_ids: dict[str, int]) -> None:
    store.save_items(
        feed_ids["alpha"],
        [make_item("alpha", "a1", canonical_url="https://n.example/s")],
        NOW - timedelta(days=40),
    )
    store.save_items(
        feed_ids["beta"],
        [make_item("beta", "b1", canonical_url="https://n.example/s")],
        NOW - timedelta(days=1),
    )
    assert store.prune_items(NOW - timedelta(days=30)) == 0
    assert store.count_items() == 1


def test_prune_fetch_log(store: Store, feed_ids: dict[str, int], db_path: Path) -> None:
    for days in (40, 31, 29, 0):
        store.record_fetch(
            FetchLogEntry(
                feed_id=feed_ids["alpha"],
                started_at=NOW - timedelta(days=days),
                duration_s=0.25,
                outcome="ok",
                status=200,
                bytes=1234,
                new_items=2,
                updated_items=1,
            )
        )
    store.record_fetch(
        FetchLogEntry(
            feed_id=feed_ids["beta"],
            started_at=NOW,
            duration_s=30.0,
            outcome="error",
            reason="deadline",
            error="took too long",
        )
    )
    assert store.prune_fetch_log(NOW - timedelta(days=30)) == 2
    rows = raw(
        db_path,
        "SELECT feed_id, outcome, status, reason, bytes, new_items, updated_items, error "
        "FROM fetch_log ORDER BY started_at, id",
    )
    assert rows == [
        (feed_ids["alpha"], "ok", 200, None, 1234, 2, 1, None),
        (feed_ids["alpha"], "ok", 200, None, 1234, 2, 1, None),
        (feed_ids["beta"], "error", None, "deadline", 0, 0, 0, "took too long"),
    ]
    assert store.prune_fetch_log(NOW - timedelta(days=30)) == 0


# --- listing ---------------------------------------------------------------------------------------


def test_list_items_filters_orders_and_limits(store: Store, feed_ids: dict[str, int]) -> None:
    for feed in ("alpha", "beta"):
        batch = [
            make_item(feed, f"{feed}-{hour}", published=NOW - timedelta(hours=hour)) for hour in range(5)
        ]
        store.save_items(feed_ids[feed], batch, NOW)

    newest_first = store.list_items(limit=100)
    assert len(newest_first) == 10
    assert [item.published for item in newest_first] == sorted(
        (i.published for i in newest_first), reverse=True
    )
    assert all(isinstance(item, StoredItem) and item.published.tzinfo is UTC for item in newest_first)
    assert [item.key for item in store.list_items(feed="beta", limit=2)] == ["beta-0", "beta-1"]
    since = store.list_items(feed="alpha", since=NOW - timedelta(hours=2))
    assert [item.key for item in since] == ["alpha-0", "alpha-1", "alpha-2"]
    assert store.list_items(feed="nope") == []
    assert store.list_items(limit=0) == []
    with pytest.raises(ValueError):
        store.list_items(limit=-1)
    assert store.item_sources(999_999) == []


# --- concurrency (WAL) -----------------------------------------------------------------------------


def test_writes_proceed_while_another_connection_holds_a_read_snapshot(
    store: Store, feed_ids: dict[str, int], db_path: Path
) -> None:
    store.save_items(feed_ids["alpha"], [make_item("alpha", "a1")], NOW)
    reader = sqlite3.connect(db_path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM items").fetchone() == (1,)
        started = time.monotonic()
        # in rollback-journal mode this commit would wait for the reader (busy timeout, then fail)
        store.save_items(feed_ids["alpha"], [make_item("alpha", f"n{i}") for i in range(50)], NOW)
        assert time.monotonic() - started < 2.0
        assert reader.execute("SELECT count(*) FROM items").fetchone() == (1,)  # its snapshot
        reader.execute("COMMIT")
        assert reader.execute("SELECT count(*) FROM items").fetchone() == (51,)
    finally:
        reader.close()


def test_another_process_reads_while_a_write_transaction_is_open(
    store: Store, feed_ids: dict[str, int], db_path: Path
) -> None:
    store.save_items(feed_ids["alpha"], [make_item("alpha", f"a{i}") for i in range(3)], NOW)
    writer = sqlite3.connect(db_path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock, uncommitted rows inside
        writer.execute("DELETE FROM items")
        script = textwrap.dedent(f"""
            import time
            from aggregator.store import Store
            started = time.monotonic()
            with Store.open({db_url(db_path)!r}) as store:
                print(store.count_items(), [s.name for s in store.feed_states()], time.monotonic() - started)
        """)
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        # the committed state, not the writer's pending delete; and no waiting for its lock (timeout 10 s)
        assert done.stdout.startswith("3 ['alpha', 'beta', 'gamma'] "), done.stdout
        assert float(done.stdout.split()[-1]) < 5.0
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert store.count_items() == 3


# --- throughput (measured and printed, never asserted) ----------------------------------------------


def test_cold_poll_throughput(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    feeds, per_feed = 100, 65
    store.sync_feeds([(f"feed{f:03d}", f"https://f{f}.example/rss") for f in range(feeds)], NOW)
    ids = {state.name: state.id for state in store.feed_states()}
    batches = [
        [make_item(f"feed{f:03d}", f"k{i}", summary="Delegations met again. " * 12) for i in range(per_feed)]
        for f in range(feeds)
    ]
    started = time.perf_counter()
    results = [store.save_items(ids[f"feed{f:03d}"], batch, NOW) for f, batch in enumerate(batches)]
    seconds = time.perf_counter() - started
    assert sum(result.new for result in results) == feeds * per_feed == store.count_items()
    with capsys.disabled():
        print(
            f"\n[store] cold poll: {feeds} feeds x {per_feed} items in {seconds:.2f} s "
            f"= {feeds * per_feed / seconds:,.0f} items/s"
        )


# --- PostgreSQL (only when a server is provided) ----------------------------------------------------


@pytest.mark.skipif(not PG_URL, reason="set AGGREGATOR_TEST_PG_URL to run against PostgreSQL")
def test_postgresql_end_to_end() -> None:
    assert PG_URL is not None
    engine = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:  # a clean schema for this run
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    with Store.open(PG_URL) as store:
        store.upgrade()
        assert _schema_diffs(PG_URL, metadata) == []
        store.sync_feeds([("alpha", "https://alpha.example/rss"), ("beta", "https://beta.example/rss")], NOW)
        ids = {state.name: state.id for state in store.feed_states()}
        batch = [make_item("alpha", f"a{i}", canonical_url=f"https://n.example/{i}") for i in range(2_000)]
        assert store.save_items(ids["alpha"], batch, NOW) == SaveResult(new=2_000)
        assert store.save_items(ids["alpha"], batch[:10], NOW) == SaveResult(unchanged=10)
        copies = [make_item("beta", f"b{i}", canonical_url=f"https://n.example/{i}") for i in range(3)]
        assert store.save_items(ids["beta"], copies, NOW + timedelta(days=1)) == SaveResult(other_source=3)
        alpha = store.feed_state("alpha")
        assert alpha is not None
        store.update_feed(replace(alpha, next_due=NOW + timedelta(hours=1), status=FeedStatus.OK))
        assert [s.name for s in store.due_feeds(NOW)] == ["beta"]
        assert store.feed_state("alpha") == replace(
            alpha, next_due=NOW + timedelta(hours=1), status=FeedStatus.OK
        )
        assert store.prune_items(NOW + timedelta(hours=1)) == 1_997
        assert store.save_items(ids["alpha"], batch, NOW) == SaveResult(tombstoned=1_997, unchanged=3)
        (top,) = store.list_items(limit=1)
        assert top.published.tzinfo is UTC and top.sources == 2
        store.record_fetch(FetchLogEntry(feed_id=ids["alpha"], started_at=NOW, duration_s=1.0, outcome="ok"))
        assert store.prune_fetch_log(NOW + timedelta(seconds=1)) == 1


def test_a_naive_item_date_is_refused_and_nothing_is_stored(store: Store, feed_ids: dict[str, int]) -> None:
    naive = make_item("alpha", "k1", published=datetime(2026, 3, 1, 12, 0))
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        store.save_items(feed_ids["alpha"], [make_item("alpha", "k0"), naive], NOW)
    assert store.count_items() == 0


def test_bulk_inserted_rows_are_stored_as_sqlalchemy_would_store_them(
    store: Store, feed_ids: dict[str, int], db_path: Path
) -> None:
    moment = datetime(2026, 3, 1, 14, 30, 5, 123, tzinfo=timezone(timedelta(hours=2)))
    store.save_items(feed_ids["alpha"], [make_item("alpha", "k1", published=moment, updated=None)], NOW)
    reference = metadata.tables["items"]
    engine = sa.create_engine(db_url(db_path))
    try:
        with engine.begin() as conn:  # the same item through SQLAlchemy's own parameter handling
            row = raw(db_path, "SELECT * FROM items WHERE key = 'k1'")[0]
            columns = [column.name for column in reference.columns]
            values = dict(zip(columns, row, strict=True))
            conn.execute(sa.text("DELETE FROM items"))
            conn.execute(
                sa.insert(reference),
                [{**values, "published": moment, "first_seen": NOW, "last_seen": NOW}],
            )
    finally:
        engine.dispose()
    assert raw(db_path, "SELECT * FROM items WHERE key = 'k1'") == [row]
    assert raw(db_path, "SELECT published, typeof(published) FROM items") == [
        ("2026-03-01 12:30:05.000123", "text")
    ]
