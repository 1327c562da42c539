"""One poll over a farm of hostile feeds: each ends within its deadline, with bounded memory, marked errored
with a specific reason (or kept, when the content can be read safely), while the good feed is stored."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
from feedserver import FeedServer, drip_body, drip_headers, gzip_bomb, redirect, silent, truncated

from aggregator.config import load_config
from aggregator.pipeline import Poller
from aggregator.store import Store

NOW = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)
GOOD = (
    b"<?xml version='1.0'?><rss version='2.0'><channel><title>Good</title>"
    b"<item><guid>g1</guid><link>https://good.example/1</link><title>Delegations meet in Istanbul</title>"
    b"<description>Talks continue.</description><pubDate>Tue, 14 Jul 2026 08:00:00 GMT</pubDate></item>"
    b"</channel></rss>"
)


def entity_bomb() -> bytes:
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{lol}]><rss version="2.0"><channel>'
        f"<title>t</title><item><guid>e1</guid><title>&l9;</title><description>x</description></item>"
        f"</channel></rss>"
    ).encode()


def hostile_markup() -> bytes:
    return (
        "<rss version='2.0'><channel><title>m</title><item><guid>m1</guid>"
        "<link>javascript:alert(1)</link>"
        "<title>&lt;script&gt;alert(1)&lt;/script&gt;Talks \u202eresume\u202c <!channel> @everyone</title>"
        "<description><![CDATA[<img src=x onerror=alert(1)><a href='javascript:x'>link</a>\x07 text]]>"
        "</description><pubDate>Sun, 01 Jan 1899 00:00:00 GMT</pubDate></item>"
        "<item><guid>m2</guid><title>Future item</title>"
        "<pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>"
        "</channel></rss>"
    ).encode()


def many_attributes() -> bytes:
    # 1 MB: lxml's items() and feedparser's strict parser are quadratic in an element's attributes (minutes)
    attributes = " ".join(f"a{i}='v'" for i in range(100_000))
    return (
        f"<rss version='2.0'><channel><title>a</title><item><guid>a1</guid><title>t</title>"
        f"<link {attributes}>x</link></item></channel></rss>"
    ).encode()


def deep_nesting() -> bytes:
    # 1 MB of unclosed <div>: not well-formed, so feedparser's forgiving parser would spend 15 s on it
    return (
        "<rss version='2.0'><channel><title>d</title><item><guid>d1</guid><title>t</title>"
        f"<description>{'<div>' * 200_000}</description></item></channel></rss>"
    ).encode()


def flat_markup() -> bytes:
    # 1 MB of "<br/>", well-formed: the fast path leaves markup in a description to feedparser (14 s)
    return (
        "<rss version='2.0'><channel><title>f</title><item><guid>f1</guid><title>t</title>"
        f"<description>{'<br/>' * 200_000}</description></item></channel></rss>"
    ).encode()


def mis_encoded() -> bytes:
    # declared UTF-8, written in windows-1251: not valid UTF-8
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>x</title>"
        "<item><guid>c1</guid><title>Переговоры в Стамбуле</title></item></channel></rss>"
    ).encode("cp1251")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'h.db'}") as s:
        yield s


def test_a_poll_survives_every_hostile_feed_at_once(
    tmp_path: Path, feed_server: FeedServer, store: Store
) -> None:
    s = feed_server
    loop_a = s.url("/loop-a")
    s.route_handler("/loop-a", redirect(s.url("/loop-b")))
    s.route_handler("/loop-b", redirect(loop_a))
    feeds = {
        "good": s.route("/good.xml", GOOD),
        "drip-body": s.route_handler("/drip", drip_body(interval=0.3)),
        "drip-headers": s.route_handler("/drip-h", drip_headers(interval=0.3)),
        "silent": s.route_handler("/silent", silent()),
        "bomb": s.route_handler("/bomb", gzip_bomb(512 * 1024**2)),
        "huge": s.route("/huge", b"<rss>" + b"x" * (3 * 1024 * 1024)),
        "truncated": s.route_handler("/trunc", truncated(declared=len(GOOD) * 2, sent=len(GOOD), piece=GOOD)),
        "loop": loop_a,
        "ftp": s.route_handler("/ftp", redirect("ftp://files.example/feed.xml")),
        "entities": s.route("/entities", entity_bomb()),
        "markup": s.route("/markup", hostile_markup()),
        "attributes": s.route("/attributes", many_attributes()),
        "nesting": s.route("/nesting", deep_nesting()),
        "flat": s.route("/flat", flat_markup()),
        "mis-encoded": s.route("/enc", mis_encoded(), content_type="application/rss+xml"),
        "html": s.route(
            "/page", b"<html><head><title>x</title></head><body>hi</body></html>", content_type="text/html"
        ),
        "empty": s.route("/empty", b""),
        "error-page": s.route("/err", b"<html>Internal error</html>", status=503),
    }
    lines = [
        "[settings]",
        'database = "sqlite:///h.db"',
        "allow_private_networks = true",
        'fetch_timeout = "2s"',
        'max_feed_size = "2MiB"',
        "workers = 32",  # every feed at once: the bound below is about deadlines, not queueing
        "per_host = 32",
    ]
    for name, url in feeds.items():
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"']
    (tmp_path / "feeds.toml").write_text("\n".join(lines) + "\n")
    config = load_config(tmp_path / "feeds.toml")

    process = psutil.Process()
    rss_before = process.memory_info().rss
    started = time.monotonic()
    with Poller(config, store, parse_processes=0) as poller:  # parse in this process: its memory is measured
        report = poller.poll(NOW)
    elapsed = time.monotonic() - started
    growth_mib = (process.memory_info().rss - rss_before) / 2**20

    print(f"hostile poll: {elapsed:.2f} s, memory +{growth_mib:.0f} MiB")
    assert elapsed < 6.0, "hostile feeds held the poll beyond their deadlines"
    assert growth_mib < 120, f"memory grew by {growth_mib:.0f} MiB"
    results = {r.name: r for r in report.results}
    assert len(results) == len(feeds)
    reasons = {name: r.reason for name, r in results.items() if r.outcome == "error"}
    assert reasons == {
        "drip-body": "deadline",
        "drip-headers": "deadline",
        "silent": "deadline",
        "bomb": "too_large",
        "huge": "too_large",
        "truncated": "truncated",
        "loop": "bad_redirect",
        "ftp": "bad_redirect",
        "html": "not_a_feed",
        "empty": "not_a_feed",
        "error-page": "http_503",
        "attributes": "too_many_attributes",
        "nesting": "too_deep",
        "flat": "too_many_elements",
    }
    for name in reasons:
        assert results[name].error, f"{name} has no message"
    assert "<link> has 100,000 attributes" in (results["attributes"].error or "")
    assert "nested more than 512 deep" in (results["nesting"].error or "")
    assert results["good"].new_items == 1
    # entity declarations are stripped, never expanded; the item survives without the bomb
    assert results["entities"].outcome == "ok"
    assert results["mis-encoded"].outcome == "ok"  # recovered by the reference parser, with a recorded reason
    items = {i.title: i for i in store.list_items(limit=100)}
    [markup] = [i for title, i in items.items() if "resume" in title]
    assert "<script" not in markup.title and "\u202e" not in markup.title and "\x07" not in markup.summary
    assert markup.url is None or markup.url.startswith(("http://", "https://"))
    assert not any("lol" * 100 in title for title in items)
    assert "Переговоры в Стамбуле" in items  # read in its real encoding, not as mojibake
    states = {st.name: st for st in store.feed_states()}
    assert all(states[name].last_error for name in reasons)
    # what needed recovery is visible on the feed, not only in the log
    assert "read as cp1251" in (states["mis-encoded"].last_problem or "")
    assert "unusable dates" in (states["markup"].last_problem or "")
    assert "not well-formed" in (states["markup"].last_problem or "")
    problem = states["markup"].last_problem or ""
    for removed in ("bidi overrides", "control characters", "javascript: links", "scripts"):
        assert removed in problem.partition("hostile content removed: ")[2], removed
    assert states["good"].last_problem is None
