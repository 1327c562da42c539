"""Stories and events through the whole poll: a real HTTP server, the command line, a real SQLite file.

Three outlets report the same development (a prisoner swap agreed at talks in Istanbul) in their own words,
in RSS and Atom; two other items are not about the talks. A poll must make one story of the three reports,
one tracked event per kind of development they report, and one alert per event; polling again must decide
nothing new.
"""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from feed_xml import atom, rss
from feedserver import FeedServer
from items import news_item

from aggregator.classify import classify_item, default_rules
from aggregator.cli import build_parser, dispatch
from aggregator.config import Config, load_config
from aggregator.models import FetchLogEntry, PolledFeed, StoredVerdict
from aggregator.pipeline import Poller
from aggregator.store import Store

SWAP_A = (
    "Russia and Ukraine agree to swap 1,000 prisoners each at Istanbul talks",
    "Russian and Ukrainian delegations meeting in Istanbul agreed to exchange 1,000 prisoners of war each, "
    "the head of the Ukrainian delegation said.",
)
SWAP_B = (
    "Istanbul talks: Russia and Ukraine agree 1,000-for-1,000 prisoner swap",
    "Negotiators from Kyiv and Moscow agreed in Istanbul to release 1,000 prisoners of war each, officials "
    "said after the meeting.",
)
SWAP_C = (
    "Kyiv and Moscow to trade 1,000 captives each after Istanbul meeting",
    "Ukraine and Russia will exchange 1,000 prisoners of war each under a deal reached at the talks in "
    "Istanbul, Turkey's foreign minister said.",
)
RATES = (
    "Central bank leaves its key rate unchanged",
    "The central bank kept its benchmark rate at 16 percent, citing slowing inflation.",
)
FERRY = (
    "Ferry service to the islands resumes after storm",
    "Boats to the islands are running again after two days of high winds, the harbour master said.",
)


def serve_three_outlets(server: FeedServer, now: datetime) -> dict[str, str]:
    """Routes for the three outlets (with ETags, so an unchanged feed answers 304); feed name -> URL."""
    hours = [now - timedelta(hours=h) for h in (6, 5, 4, 3)]
    wire = rss(
        "Wire",
        [
            ("wa-1", "https://wire-a.example/swap", *SWAP_A, hours[0]),
            ("wa-2", "https://wire-a.example/rates", *RATES, hours[1]),
        ],
    )
    daily = atom("Daily", [("urn:daily:77", "https://daily-b.example/2026/swap-deal", *SWAP_B, hours[2])])
    post = rss(
        "Wire",
        [
            ("pc-9", "https://post-c.example/news/captives", *SWAP_C, hours[3]),
            ("pc-10", "https://post-c.example/news/ferry", *FERRY, hours[3]),
        ],
    )
    return {
        "wire-a": server.route("/wire-a.xml", wire, etag='"wa"'),
        "daily-b": server.route("/daily-b.atom", daily, content_type="application/atom+xml", etag='"db"'),
        "post-c": server.route("/post-c.xml", post, etag='"pc"'),
    }


def config_text(feeds: dict[str, str]) -> str:
    text = (
        '[settings]\ndatabase = "sqlite:///var/stories.db"\n'
        'allow_private_networks = true\nfetch_timeout = "3s"\n'
    )
    for name, url in feeds.items():
        text += f'[[feeds]]\nname = "{name}"\nurl = "{url}"\n'
    return text


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aggregator", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def cli_json(config: Path, *args: str) -> Any:
    result = cli(config, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def command(config: Path, *args: str) -> str:
    """A read-only command run in this process through the command line's own dispatch (saves a start-up)."""
    out = io.StringIO()
    assert dispatch(build_parser().parse_args(["--config", str(config), *args]), out) == 0
    return out.getvalue()


def command_json(config: Path, *args: str) -> Any:
    return json.loads(command(config, *args, "--json"))


STORY_FIGURES = ("relevant_items", "new_stories", "new_events", "alerts")  # what poll --json adds for stories


def decision_count(db_path: Path) -> int:
    with closing(sqlite3.connect(db_path)) as db:
        return db.execute("SELECT COUNT(*) FROM alert_decisions").fetchone()[0]


def test_a_poll_makes_one_story_of_three_outlets_and_alerts_once_per_event(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)  # the command line polls at the real time
    config = tmp_path / "feeds.toml"
    config.write_text(config_text(serve_three_outlets(feed_server, now)))
    db_path = tmp_path / "var" / "stories.db"

    first = cli_json(config, "poll", "--once")
    assert (first["fetched"], first["errors"], first["new_items"]) == (3, 0, 5)
    assert first["relevant_items"] == 3, "the rate decision and the ferry are not about the talks"
    assert first["new_stories"] == 1
    assert first["new_events"] == 2  # the swap agreed, and the talks in Istanbul where it was agreed
    assert first["alerts"] == first["new_events"], "one alert per event, not one per outlet"
    decided = decision_count(db_path)
    assert decided == 6  # each of the three reports, for each of the two events

    again = cli_json(config, "poll", "--once", "--force")  # every feed answers 304
    assert (again["not_modified"], again["new_items"]) == (3, 0)
    assert [again[key] for key in STORY_FIGURES] == [0, 0, 0, 0]
    assert decision_count(db_path) == decided, "a poll with nothing new decides nothing"

    with closing(sqlite3.connect(db_path)) as db:
        relevant_ids = sorted(
            row[0] for row in db.execute("SELECT item_id FROM classifications WHERE relevant")
        )
    assert len(relevant_ids) == 3
    [story] = cli_json(config, "stories")
    # the first report to arrive names the story: which feed answers first is up to the network
    assert story["headline"] in {SWAP_A[0], SWAP_B[0], SWAP_C[0]}
    assert story["items"] == 3 and sorted(story["item_ids"]) == relevant_ids
    assert story["sources"] == ["daily-b", "post-c", "wire-a"]
    assert story["first_seen"] == (now - timedelta(hours=6)).isoformat()
    assert story["last_seen"] == (now - timedelta(hours=3)).isoformat()
    by_type = {e["type"]: e for e in story["events"]}
    assert by_type.keys() == {"EXCHANGE", "NEW_ROUND"}
    assert (by_type["EXCHANGE"]["stage"], by_type["EXCHANGE"]["facts"]["count"]) == ("agreed", 1000)
    assert by_type["NEW_ROUND"]["facts"]["place"] == "Istanbul"

    events = command_json(config, "events")
    assert {e["id"] for e in events} == set(story["event_ids"].values())
    for event in events:
        assert story["event_ids"][event["type"]] == event["id"]
        assert event["stories"] == [story["id"]]
        assert event["sources"] == ["daily-b", "post-c", "wire-a"]
        assert event["first_seen"] == story["first_seen"]
        decisions = event["decisions"]  # oldest first
        assert [d["sources"] for d in decisions] == [1, 2, 3]
        # one alert: the first report's, or the first to confirm a report read only weakly (which report
        # comes first is up to the network); repeats after it
        kinds = [(d["alert"], d["kind"]) for d in decisions]
        alerted = kinds.index((True, "new"))
        assert kinds[:alerted] == [(False, "pending")] * alerted
        assert kinds[alerted + 1 :] == [(False, "repeat")] * (2 - alerted)
        assert all(d["reason"] and d["story_id"] == story["id"] for d in decisions)
        assert sorted(d["item"] for d in decisions) == relevant_ids
    exchange = next(e for e in events if e["type"] == "EXCHANGE")
    assert (exchange["status"], exchange["facts"]["count"]) == ("agreed", 1000)

    assert [s["id"] for s in command_json(config, "stories", "--event", "EXCHANGE")] == [story["id"]]
    assert command_json(config, "stories", "--event", "DEADLINE") == []
    tomorrow = (now + timedelta(days=1)).date().isoformat()
    assert command_json(config, "stories", "--since", tomorrow) == []

    text = command(config, "stories")
    assert story["headline"] in text and "3 items from 3 outlets" in text
    listed = command(config, "events")
    assert "EXCHANGE agreed" in listed and "1 alerts" in listed


# --- in process: crash recovery and what a later poll brings ---------------------------------------------

NOW = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)


def write_config(tmp_path: Path, feeds: dict[str, str]) -> Config:
    path = tmp_path / "feeds.toml"
    path.write_text(config_text(feeds).replace("var/stories.db", "poll.db"))
    return load_config(path)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'poll.db'}") as opened:
        yield opened


def test_items_stored_without_stories_are_assigned_when_a_poller_builds_its_deduplicator(
    tmp_path: Path, store: Store
) -> None:
    feeds = {"wire-a": "https://wire-a.example/rss", "daily-b": "https://daily-b.example/rss"}
    config = write_config(tmp_path, feeds)
    store.sync_feeds(list(feeds.items()), NOW)
    states = {state.name: state for state in store.feed_states()}
    rules = default_rules()
    batches = {
        "wire-a": [
            news_item("wire-a", "1", *SWAP_A, NOW - timedelta(hours=3)),
            news_item("wire-a", "2", *RATES, NOW - timedelta(hours=2)),
        ],
        "daily-b": [news_item("daily-b", "1", *SWAP_B, NOW - timedelta(hours=1))],
    }
    # a poll that stored its items and verdicts, then died before its stories were written
    store.record_polled(
        [
            PolledFeed(
                states[name],
                FetchLogEntry(feed_id=states[name].id, started_at=NOW, duration_s=0.1, outcome="ok"),
                tuple(items),
                tuple(StoredVerdict.of(classify_item(item, rules)) for item in items),
            )
            for name, items in batches.items()
        ],
        NOW,
    )
    assert store.list_stories() == [] and len(store.unstoried_items(NOW - timedelta(days=1))) == 2

    with Poller(config, store, parse_processes=0) as poller:
        poller.recover_unstoried(NOW)  # what a poll does first
        assert poller.window_built
        deduplicator = poller.deduplicator(NOW)
        assert deduplicator.story_count == 1
        assert poller.deduplicator(NOW) is deduplicator  # built once, the leftovers assigned once

    assert store.unstoried_items(NOW - timedelta(days=1)) == []
    [story] = store.list_stories()
    relevant = sorted(i.id for i in store.list_items() if i.relevant)
    assert store.story_item_ids(story.id) == relevant
    assert story.sources == ("daily-b", "wire-a")
    decisions = store.decisions()
    assert sorted((d.event_type, d.kind) for d in decisions if d.alert) == [
        ("EXCHANGE", "new"),
        ("NEW_ROUND", "new"),
    ]
    assert len(decisions) == 4

    with Poller(config, store, parse_processes=0) as restarted:  # nothing is left over the next time
        restarted.recover_unstoried(NOW + timedelta(minutes=5))
        assert not restarted.window_built  # nothing to do: the window is not read
        assert restarted.deduplicator(NOW + timedelta(minutes=5)).story_count == 1
    assert len(store.decisions()) == 4


def test_a_later_poll_adds_to_the_story_the_first_poll_made(
    tmp_path: Path, feed_server: FeedServer, store: Store
) -> None:
    first = rss("Wire", [("wa-1", "https://wire-a.example/swap", *SWAP_A, NOW - timedelta(hours=3))])
    url_a = feed_server.route("/a.xml", first)
    url_b = feed_server.route(
        "/b.atom", atom("Daily", [("urn:b:1", "https://daily-b.example/x", *FERRY, NOW)])
    )
    config = write_config(tmp_path, {"wire-a": url_a, "daily-b": url_b})
    with Poller(config, store, parse_processes=0) as poller:
        report = poller.poll(NOW)
    # the swap alerts; the talks it was agreed at, read only weakly by one outlet, wait for a second
    assert (report.stories.new_stories, report.stories.alerts) == (1, 1)  # type: ignore[union-attr]

    feed_server.route(
        "/b.atom",
        atom(
            "Daily",
            [
                ("urn:b:2", "https://daily-b.example/swap", *SWAP_B, NOW + timedelta(minutes=30)),
                ("urn:b:1", "https://daily-b.example/x", *FERRY, NOW),
            ],
        ),
    )
    with Poller(config, store, parse_processes=0) as poller:  # a new process: the window comes from the store
        report = poller.poll(NOW + timedelta(hours=1), force=True)
    figures = report.as_dict()
    # the second outlet confirms the waiting round (its state came from the store): its first alert
    assert [figures[key] for key in STORY_FIGURES] == [1, 0, 1, 1]
    [story] = store.list_stories()
    assert (story.item_count, story.sources) == (2, ("daily-b", "wire-a"))
    [round_event] = [event for event in store.list_events() if event.type == "NEW_ROUND"]
    kinds = [(d.kind, d.sources) for d in reversed(store.decisions(event_id=round_event.id))]
    assert kinds == [("pending", 1), ("new", 2)]


def test_with_corroborate_weak_off_a_weak_reading_alerts_at_once(
    tmp_path: Path, feed_server: FeedServer, store: Store
) -> None:
    url = feed_server.route(
        "/a.xml", rss("Wire", [("wa-1", "https://wire-a.example/swap", *SWAP_A, NOW - timedelta(hours=3))])
    )
    config = write_config(tmp_path, {"wire-a": url})
    config = replace(config, settings=replace(config.settings, corroborate_weak=False))
    with Poller(config, store, parse_processes=0) as poller:
        report = poller.poll(NOW)
    assert (report.stories.new_events, report.stories.alerts) == (2, 2)  # type: ignore[union-attr]
    assert sorted(d.kind for d in store.decisions()) == ["new", "new"]


def test_an_item_revised_into_relevance_is_assigned_in_the_same_poll(
    tmp_path: Path, feed_server: FeedServer, store: Store
) -> None:
    url = feed_server.route(
        "/a.xml", rss("Wire", [("wa-1", "https://wire-a.example/1", *FERRY, NOW - timedelta(hours=2))])
    )
    config = write_config(tmp_path, {"wire-a": url})
    with Poller(config, store, parse_processes=0) as poller:
        poller.poll(NOW)
        assert store.list_stories() == []
        # the outlet reuses the entry for the news of the day
        feed_server.route(
            "/a.xml", rss("Wire", [("wa-1", "https://wire-a.example/1", *SWAP_A, NOW - timedelta(hours=2))])
        )
        report = poller.poll(NOW + timedelta(hours=1), force=True)
    assert (report.updated_items, report.stories.relevant_items) == (1, 1)  # type: ignore[union-attr]
    assert len(store.list_stories()) == 1


def test_the_same_article_in_two_feeds_counts_both_outlets_in_its_story(
    tmp_path: Path, feed_server: FeedServer, store: Store
) -> None:
    entry = ("x-1", "https://wire-a.example/swap?utm_source=rss", *SWAP_A, NOW - timedelta(hours=2))
    url_a = feed_server.route("/a.xml", rss("Wire", [entry]))
    url_b = feed_server.route("/b.xml", rss("Wire", [("y-7", "https://wire-a.example/swap", *entry[2:])]))
    config = write_config(tmp_path, {"wire-a": url_a, "partner-b": url_b})
    with Poller(config, store, parse_processes=0) as poller:
        report = poller.poll(NOW)
    assert (report.new_items, report.other_source) == (1, 1)  # one article, carried by two feeds
    [story] = store.list_stories()
    assert story.sources == ("partner-b", "wire-a")
