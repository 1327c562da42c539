"""The whole poll against a real HTTP server and a real SQLite file: fetch → parse → normalise → store."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from feedserver import Exchange, FeedServer, drip_body, redirect

from aggregator.config import Config, load_config
from aggregator.models import FeedStatus
from aggregator.pipeline import Poller
from aggregator.store import Store

NOW = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)


def rss(*items: tuple[str, str, str], title: str = "Wire") -> bytes:
    """items: (guid, link, title) — descriptions are derived from the title."""
    body = "".join(
        f"<item><guid isPermaLink='false'>{g}</guid><link>{link}</link><title>{t}</title>"
        f"<description>&lt;p&gt;{t}: delegations met for a second day.&lt;/p&gt;</description>"
        f"<pubDate>Tue, 14 Jul 2026 09:00:00 +0000</pubDate></item>"
        for g, link, t in items
    )
    return (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{title}</title>"
        f"<link>https://wire.example/</link>{body}</channel></rss>"
    ).encode()


def write_config(tmp_path: Path, feeds: dict[str, str], **settings: str) -> Config:
    lines = [
        "[settings]",
        'database = "sqlite:///poll.db"',
        "allow_private_networks = true",
        'fetch_timeout = "2s"',
        'poll_interval = "15m"',
    ]
    lines += [f"{k} = {v}" for k, v in settings.items()]
    for name, url in feeds.items():
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"']
    path = tmp_path / "feeds.toml"
    path.write_text("\n".join(lines) + "\n")
    return load_config(path)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'poll.db'}") as s:
        yield s


def poll(config: Config, store: Store, now: datetime = NOW, **kw: object):  # type: ignore[no-untyped-def]
    with Poller(config, store, parse_processes=0) as poller:
        return poller.poll(now, **kw)  # type: ignore[arg-type]


def test_second_poll_is_all_304_and_stores_nothing_new(
    tmp_path: Path, feed_server: FeedServer, store: Store
) -> None:
    a = feed_server.route("/a.xml", rss(("a1", "https://wire.example/1", "Round announced")), etag='"a"')
    b = feed_server.route(
        "/b.xml",
        rss(("b1", "https://daily.example/9", "Swap agreed")),
        last_modified="Tue, 14 Jul 2026 08:00:00 GMT",
    )
    config = write_config(tmp_path, {"a": a, "b": b})
    first = poll(config, store)
    assert (first.fetched, first.new_items, first.errors) == (2, 2, 0)
    second = poll(config, store, NOW + timedelta(hours=1))
    assert (second.not_modified, second.new_items, second.fetched) == (2, 0, 0)
    conditional = feed_server.requests_to("/a.xml")[-1].headers
    assert conditional["if-none-match"] == '"a"'
    assert (
        feed_server.requests_to("/b.xml")[-1].headers["if-modified-since"] == "Tue, 14 Jul 2026 08:00:00 GMT"
    )
    assert store.count_items() == 2


def test_the_cli_loads_the_parsing_stages_only_in_its_workers_and_not_at_all_for_a_304(
    tmp_path: Path, feed_server: FeedServer, store: Store
) -> None:
    """The CLI starts for every poll; the parser, the classifier and the story stage are only loaded when
    there is something to parse (a tenth of a second of regexes, feedparser, lxml and the stemmer), and
    then by the worker processes, not by the writer (about 10 MiB it would keep for nothing)."""
    a = feed_server.route("/a.xml", rss(("a1", "https://wire.example/1", "Round announced")), etag='"a"')
    config = write_config(tmp_path, {"a": a})
    assert poll(config, store).new_items == 1
    script = (
        "import sys\n"
        "from aggregator.cli import main\n"
        f"code = main(['--config', {str(config.path)!r}, 'poll', '--once', '--force', '--json'])\n"
        "stages = ('classify', 'parse', 'normalise', 'deduplicate', 'worker', 'evaluate')\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('feedparser', 'lxml', 'snowballstemmer')]\n"
        "loaded += [m for m in sys.modules if m in {f'aggregator.{stage}' for stage in stages}]\n"
        "print(code, sorted(loaded), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert '"not_modified": 1' in run.stdout
    assert run.stderr.strip().splitlines()[-1] == "0 []"
    # A poll that fetches something new parses and classifies it in the worker processes: the writer loads
    # only the light module that names their job (the check above can fail: this one loads something).
    feed_server.route("/a.xml", rss(("a2", "https://wire.example/2", "Swap agreed")), etag='"b"')
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert '"new_items": 1' in run.stdout
    assert run.stderr.strip().splitlines()[-1] == "0 ['aggregator.worker']"
    with closing(sqlite3.connect(tmp_path / "poll.db")) as db:  # and the workers did classify the new item
        assert db.execute("SELECT COUNT(*) FROM classifications").fetchone() == (2,)


def test_feeds_not_due_are_not_fetched(tmp_path: Path, feed_server: FeedServer, store: Store) -> None:
    a = feed_server.route("/a.xml", rss(("a1", "https://wire.example/1", "Round announced")))
    config = write_config(tmp_path, {"a": a})
    poll(config, store)
    again = poll(config, store, NOW + timedelta(minutes=5))
    assert again.feeds == 0
    assert feed_server.hits["/a.xml"] == 1


def test_new_etag_with_the_same_body_is_not_parsed_again(
    tmp_path: Path, feed_server: FeedServer, store: Store
) -> None:
    body = rss(("a1", "https://wire.example/1", "Round announced"))
    url = feed_server.route("/a.xml", body, etag='"one"')
    config = write_config(tmp_path, {"a": url})
    poll(config, store)
    feed_server.route("/a.xml", body, etag='"two"')  # a server that changes validators on every request
    report = poll(config, store, NOW + timedelta(hours=1))
    assert report.results[0].outcome == "unchanged"
    assert report.new_items == report.updated_items == 0
    state = store.feed_state("a")
    assert state is not None and state.etag == '"two"'


def test_changed_item_is_a_revision_not_a_new_item(
    tmp_path: Path, feed_server: FeedServer, store: Store
) -> None:
    url = feed_server.route("/a.xml", rss(("a1", "https://wire.example/1", "Round announced")))
    config = write_config(tmp_path, {"a": url})
    poll(config, store)
    feed_server.route(
        "/a.xml", rss(("a1", "https://wire.example/1", "Round announced for Friday in Istanbul"))
    )
    report = poll(config, store, NOW + timedelta(hours=1))
    assert (report.new_items, report.updated_items) == (0, 1)
    [item] = store.list_items()
    assert item.revision == 1
    assert "Friday" in item.title


def test_same_story_with_tracking_parameters_in_two_feeds_is_one_item(
    tmp_path: Path, feed_server: FeedServer, store: Store
) -> None:
    a = feed_server.route(
        "/a.xml", rss(("a1", "https://news.example/story?utm_source=rss&id=7", "Swap done"))
    )
    b = feed_server.route(
        "/b.xml", rss(("zz", "https://NEWS.example/story?id=7&fbclid=abc#top", "Swap done"))
    )
    config = write_config(tmp_path, {"a": a, "b": b})
    report = poll(config, store)
    assert report.new_items == 1
    assert report.other_source == 1
    [item] = store.list_items()
    assert item.sources == 2
    assert item.canonical_url == "https://news.example/story?id=7"


def test_hostile_and_failing_feeds_never_stop_the_others(
    tmp_path: Path, feed_server: FeedServer, store: Store
) -> None:
    good = feed_server.route("/good.xml", rss(("g1", "https://wire.example/g", "Talks resume")))
    drip = feed_server.route_handler("/drip.xml", drip_body(interval=0.5))
    gone = feed_server.route("/gone.xml", b"gone", status=410)
    broken = feed_server.route("/500.xml", b"oops", status=500)
    html = feed_server.route(
        "/page.html", b"<!doctype html><html><body>Not a feed</body></html>", content_type="text/html"
    )
    config = write_config(
        tmp_path, {"good": good, "drip": drip, "gone": gone, "broken": broken, "html": html}
    )
    started = time.monotonic()
    report = poll(config, store)
    assert time.monotonic() - started < 4.0  # the drip feed is cut at its 2 s deadline
    by_name = {r.name: r for r in report.results}
    assert by_name["good"].outcome == "ok" and by_name["good"].new_items == 1
    assert by_name["drip"].reason == "deadline"
    assert by_name["broken"].reason == "http_500"
    assert by_name["html"].reason == "not_a_feed"
    assert report.errors == 4
    states = {s.name: s for s in store.feed_states()}
    assert states["gone"].status is FeedStatus.GONE and "410" in (states["gone"].gone_reason or "")
    assert states["broken"].status is FeedStatus.ERROR and states["broken"].next_due is not None
    assert states["drip"].last_error and "deadline" in states["drip"].last_error
    # gone feeds are never polled again; failing ones are not retried before their backoff
    later = poll(config, store, NOW + timedelta(minutes=1))
    assert later.feeds == 0


def test_permanent_redirect_updates_the_stored_url(
    tmp_path: Path, feed_server: FeedServer, store: Store
) -> None:
    new = feed_server.route("/new.xml", rss(("n1", "https://wire.example/n", "Moved feed")))
    old = feed_server.route_handler("/old.xml", redirect(new, 301))
    config = write_config(tmp_path, {"moved": old})
    poll(config, store)
    state = store.feed_state("moved")
    assert state is not None and state.url == new and state.config_url == old
    poll(config, store, NOW + timedelta(hours=1))
    assert feed_server.hits["/old.xml"] == 1  # the second poll went straight to the new address


def test_per_host_limit_holds_while_other_hosts_proceed(tmp_path: Path, store: Store) -> None:
    active: dict[str, int] = {"127.0.0.1": 0, "127.0.0.2": 0}
    peak = dict(active)
    overlapped: list[bool] = []  # seen: both hosts being served at the same moment
    lock = threading.Lock()

    def slow_feed(host: str):  # type: ignore[no-untyped-def]
        def handler(exchange: Exchange) -> None:
            with lock:
                active[host] += 1
                peak[host] = max(peak[host], active[host])
                if all(active.values()):
                    overlapped.append(True)
            exchange.pause(0.3)
            with lock:
                active[host] -= 1
            body = rss(
                (exchange.path, f"https://{host}.example{exchange.path}", f"Item {host} {exchange.path}")
            )
            exchange.send_response(200, body, {"Content-Type": "application/rss+xml"})

        return handler

    with FeedServer(host="127.0.0.1") as one, FeedServer(host="127.0.0.2") as two:
        feeds = {}
        for i in range(6):
            feeds[f"one{i}"] = one.route_handler(f"/f{i}", slow_feed("127.0.0.1"))
            feeds[f"two{i}"] = two.route_handler(f"/f{i}", slow_feed("127.0.0.2"))
        config = write_config(tmp_path, feeds, per_host="2", workers="8")
        report = poll(config, store)
    assert report.errors == 0 and report.new_items == 12
    assert peak == {"127.0.0.1": 2, "127.0.0.2": 2}
    assert overlapped, "the two hosts were fetched one after the other, not side by side"


def test_worker_processes_parse_the_same_as_in_process(
    tmp_path: Path, feed_server: FeedServer, store: Store
) -> None:
    urls = {
        f"f{i}": feed_server.route(f"/f{i}.xml", rss((f"g{i}", f"https://w.example/{i}", f"Story {i}")))
        for i in range(4)
    }
    config = write_config(tmp_path, urls)
    with Poller(config, store, parse_processes=2) as poller:
        report = poller.poll(NOW)
    assert (report.new_items, report.errors) == (4, 0)
    assert {r.parser for r in report.results} == {"fast"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes are set on Linux only")
def test_the_workers_outcomes_pipe_holds_a_whole_outcome(tmp_path: Path, store: Store) -> None:
    # At the default 64 KiB a worker waits for the writer's pool thread to read each chunk of an outcome.
    import fcntl

    from aggregator.pipeline import RESULT_PIPE_BYTES

    config = write_config(tmp_path, {"f": "http://127.0.0.1:9/f.xml"})
    with Poller(config, store, parse_processes=1) as poller:
        pool = poller._parser()
        reader = pool._result_queue._reader  # type: ignore[attr-defined]
        assert fcntl.fcntl(reader.fileno(), fcntl.F_GETPIPE_SZ) == RESULT_PIPE_BYTES


def test_fetch_log_records_every_attempt(tmp_path: Path, feed_server: FeedServer, store: Store) -> None:
    ok = feed_server.route("/ok.xml", rss(("o", "https://w.example/o", "Ok")))
    bad = feed_server.route("/bad.xml", b"no", status=404)
    config = write_config(tmp_path, {"ok": ok, "bad": bad})
    poll(config, store)
    with closing(
        sqlite3.connect(tmp_path / "poll.db")
    ) as db:  # read the log the store wrote, as a user would
        rows = db.execute("SELECT outcome, status, reason FROM fetch_log").fetchall()
    outcomes = sorted(rows)
    assert outcomes == [("error", 404, "http_404"), ("ok", 200, None)]


def test_a_re_poll_classifies_only_new_and_changed_items(
    tmp_path: Path, feed_server: FeedServer, store: Store
) -> None:
    first = rss(("a", "https://w.example/a", "Talks resume"), ("b", "https://w.example/b", "Swap agreed"))
    url = feed_server.route("/f.xml", first)
    config = write_config(tmp_path, {"f": url})
    poll(config, store)
    db_path = tmp_path / "poll.db"
    with closing(sqlite3.connect(db_path)) as db:  # mark the stored verdicts, as an older rule set would have
        db.execute("UPDATE classifications SET rules_version = 'earlier'")
        db.commit()
    changed = rss(
        ("a", "https://w.example/a", "Talks resume"),  # unchanged: keeps its verdict
        ("b", "https://w.example/b", "Swap agreed and carried out"),  # revised: classified again
        ("c", "https://w.example/c", "Round announced"),  # new
    )
    feed_server.route("/f.xml", changed)
    report = poll(config, store, NOW + timedelta(hours=1))
    assert (report.new_items, report.updated_items) == (1, 1)
    with closing(sqlite3.connect(db_path)) as db:
        versions = dict(
            db.execute(
                "SELECT items.key, rules_version FROM classifications JOIN items ON items.id = item_id"
            ).fetchall()
        )
    assert versions["a"] == "earlier"
    assert versions["b"] != "earlier" and versions["c"] != "earlier"


def test_a_workers_outcome_comes_back_equal_through_pickle() -> None:
    # Items and verdicts pickle as constructor calls (cheaper for the writer); nothing may be lost on the way.
    import pickle

    from aggregator.worker import parse_and_normalise

    body = rss(
        ("g1", "https://wire.example/a?utm_source=x", "Delegations to meet in Istanbul for a third round"),
        ("g2", "https://wire.example/b", "Ukraine and Russia swap 1,000 prisoners each"),
        ("g3", "https://wire.example/c", "Football: third round draw"),
    )
    outcome = parse_and_normalise(
        "wire", body, {"content-type": "application/rss+xml"}, "https://w.example/", NOW
    )
    assert outcome.error is None and len(outcome.items) == 3
    assert any(v is not None and v.events for v in outcome.verdicts)  # verdicts with events and evidence
    copy = pickle.loads(pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
    assert copy == outcome
    assert [type(i) for i in copy.items] == [type(i) for i in outcome.items]
    relevant = [(v, c) for v, c in zip(outcome.verdicts, copy.verdicts, strict=True) if v and v.relevant]
    assert relevant and all(c.events == v.events and c.events[0].evidence for v, c in relevant)


def test_the_parse_worker_module_leaves_the_database_and_http_libraries_out() -> None:
    # Every worker process imports aggregator.worker: SQLAlchemy and requests there would cost each ~20 MiB.
    import subprocess
    import sys

    heavy = "{'sqlalchemy', 'requests', 'alembic'}"
    probe = f"import sys, aggregator.worker; print(sorted({heavy} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
