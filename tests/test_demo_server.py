"""The demo's feed server (real HTTP on 127.0.0.1), its sample feeds, and the benchmark's feed farm."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import importlib.util
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest
import requests
from lxml import etree

from aggregator.classify import classify_item, default_rules
from aggregator.deduplicate import Deduplicator
from aggregator.demo.server import Document, StaticFeedServer, accepts_gzip, load_demo_documents
from aggregator.models import StoryInput
from aggregator.normalise import normalise_feed
from aggregator.parse import parse_feed

RSS = "application/rss+xml"
FEED_BODY = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>\n" * 20
IDENTITY = {"Accept-Encoding": "identity"}
ATOM_NS = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def server() -> Iterator[StaticFeedServer]:
    with StaticFeedServer({"/feed.rss": Document(FEED_BODY, RSS)}) as running:
        yield running


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as client:
        yield client


def quoted_sha256(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()}"'


# --- the server ----------------------------------------------------------------------------------------


def test_get_answers_200_with_body_etag_last_modified_and_length(server, session):
    response = session.get(server.url("/feed.rss"), headers=IDENTITY, timeout=5)

    assert response.status_code == 200
    assert response.content == FEED_BODY
    assert response.headers["Content-Type"] == RSS
    assert response.headers["Content-Length"] == str(len(FEED_BODY))
    assert "Content-Encoding" not in response.headers
    assert response.headers["ETag"] == quoted_sha256(FEED_BODY)
    last_modified = parsedate_to_datetime(response.headers["Last-Modified"])
    assert abs(last_modified.timestamp() - time.time()) < 60
    assert server.requests_served == 1
    assert server.not_modified_served == 0


def test_matching_if_none_match_gets_304_without_body(server, session):
    first = session.get(server.url("/feed.rss"), headers=IDENTITY, timeout=5)
    etag = first.headers["ETag"]

    for if_none_match in (etag, f"W/{etag}", f'"something-else", {etag}', "*"):
        again = session.get(
            server.url("/feed.rss"), headers={**IDENTITY, "If-None-Match": if_none_match}, timeout=5
        )
        assert again.status_code == 304, if_none_match
        assert again.content == b""
        assert again.headers["ETag"] == etag
        assert "Content-Length" not in again.headers
    assert server.not_modified_served == 4
    assert server.requests_served == 5


def test_stale_if_none_match_gets_the_body_even_with_a_matching_date(server, session):
    first = session.get(server.url("/feed.rss"), timeout=5)
    headers = {"If-None-Match": '"stale"', "If-Modified-Since": first.headers["Last-Modified"]}

    again = session.get(server.url("/feed.rss"), headers=headers, timeout=5)

    assert again.status_code == 200  # If-None-Match decides when present (RFC 9110 13.2.2)
    assert again.content == FEED_BODY


def test_if_modified_since_gets_304_unless_the_document_is_newer(server, session):
    last_modified = session.get(server.url("/feed.rss"), timeout=5).headers["Last-Modified"]
    earlier = formatdate(parsedate_to_datetime(last_modified).timestamp() - 1, usegmt=True)

    same = session.get(server.url("/feed.rss"), headers={"If-Modified-Since": last_modified}, timeout=5)
    older = session.get(server.url("/feed.rss"), headers={"If-Modified-Since": earlier}, timeout=5)
    garbage = session.get(server.url("/feed.rss"), headers={"If-Modified-Since": "yesterday"}, timeout=5)

    assert same.status_code == 304
    assert older.status_code == 200
    assert garbage.status_code == 200


def test_gzip_when_the_client_accepts_it(server, session):
    with session.get(
        server.url("/feed.rss"), headers={"Accept-Encoding": "gzip"}, stream=True, timeout=5
    ) as response:
        raw = response.raw.read(decode_content=False)

    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert int(response.headers["Content-Length"]) == len(raw) < len(FEED_BODY)
    assert gzip.decompress(raw) == FEED_BODY
    # Another coding is another representation, so it carries its own strong tag; both revalidate.
    gzip_etag = response.headers["ETag"]
    assert gzip_etag != quoted_sha256(FEED_BODY)
    revalidated = session.get(
        server.url("/feed.rss"), headers={**IDENTITY, "If-None-Match": gzip_etag}, timeout=5
    )
    assert revalidated.status_code == 304


def test_no_gzip_when_the_client_refuses_it(server, session):
    for accept in ("identity", "gzip;q=0", "gzip;q=0, *", "br"):
        response = session.get(server.url("/feed.rss"), headers={"Accept-Encoding": accept}, timeout=5)
        assert "Content-Encoding" not in response.headers, accept
        assert response.content == FEED_BODY


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("GZIP", True),
        ("deflate, gzip;q=0.5", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0, *", False),
        ("*;q=0", False),
        ("br, deflate", False),
        ("gzip;q=bogus", False),
    ],
)
def test_accept_encoding_parsing(header, expected):
    assert accepts_gzip(header) is expected


def test_unknown_path_is_404_with_a_length(server, session):
    response = session.get(server.url("/missing.rss"), timeout=5)

    assert response.status_code == 404
    assert response.headers["Content-Length"] == str(len(response.content))
    assert server.requests_served == 1


def test_a_query_string_falls_back_to_the_path(server, session):
    response = session.get(server.url("/feed.rss?utm_source=test"), timeout=5)

    assert response.status_code == 200
    assert response.content == FEED_BODY


def test_head_sends_headers_only(server, session):
    response = session.head(server.url("/feed.rss"), headers=IDENTITY, timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(FEED_BODY))
    assert response.content == b""
    # The connection is still usable: HEAD must not leave a body on the wire.
    assert session.get(server.url("/feed.rss"), headers=IDENTITY, timeout=5).content == FEED_BODY


def test_put_replaces_a_document_with_a_new_etag_and_a_later_date(server, session):
    old = session.get(server.url("/feed.rss"), headers=IDENTITY, timeout=5)
    new_body = FEED_BODY.replace(b"<title>t</title>", b"<title>changed</title>")

    server.put("/feed.rss", Document(new_body, RSS))
    conditional = {**IDENTITY, "If-None-Match": old.headers["ETag"]}
    after = session.get(server.url("/feed.rss"), headers=conditional, timeout=5)

    assert after.status_code == 200
    assert after.content == new_body
    assert after.headers["ETag"] == quoted_sha256(new_body) != old.headers["ETag"]
    # Put within the same second as the original: Last-Modified must still move forward.
    assert parsedate_to_datetime(after.headers["Last-Modified"]) > parsedate_to_datetime(
        old.headers["Last-Modified"]
    )
    by_date = session.get(
        server.url("/feed.rss"), headers={"If-Modified-Since": old.headers["Last-Modified"]}, timeout=5
    )
    assert by_date.status_code == 200


def test_put_adds_a_new_path_while_running(server, session):
    assert session.get(server.url("/late.json"), timeout=5).status_code == 404

    server.put("/late.json", Document(b"{}", "application/feed+json"))

    assert session.get(server.url("/late.json"), timeout=5).content == b"{}"
    with pytest.raises(ValueError, match="must start with '/'"):
        server.put("late.json", Document(b"{}", "application/json"))


def test_keep_alive_serves_many_requests_on_one_connection(server, session):
    for _ in range(5):
        assert session.get(server.url("/feed.rss"), timeout=5).status_code == 200
    assert server.connections_accepted == 1

    # The counter does count connections: when each answer closes its connection, the first request still
    # rides the open one and the next two need a new connection each.
    for _ in range(3):
        response = session.get(server.url("/feed.rss"), headers={"Connection": "close"}, timeout=5)
        assert response.status_code == 200
        # said in the answer too: a client would otherwise reuse the connection as it closes
        assert response.headers.get("Connection") == "close"
    assert server.connections_accepted == 3


def test_close_is_prompt_even_with_an_idle_keep_alive_connection(session):
    running = StaticFeedServer({"/feed.rss": Document(FEED_BODY, RSS)}).start()
    url = running.url("/feed.rss")
    assert session.get(url, timeout=5).status_code == 200

    started = time.perf_counter()
    running.close()
    elapsed = time.perf_counter() - started

    assert elapsed < 1.0
    with pytest.raises(requests.ConnectionError):
        session.get(url, timeout=2)
    running.close()  # a second close is harmless


def test_addresses_need_a_started_server():
    idle = StaticFeedServer()
    with pytest.raises(RuntimeError, match="not started"):
        idle.url("/x")
    with idle:
        assert idle.url("x") == idle.url("/x") == f"http://127.0.0.1:{idle.port}/x"
        assert idle.port > 0


def test_many_concurrent_conditional_requests_are_fast():
    documents = {f"/feeds/{i:03d}.rss": Document(FEED_BODY + str(i).encode(), RSS) for i in range(500)}
    with StaticFeedServer(documents) as running:
        paths = list(documents)
        etags: dict[str, str] = {}
        assert fetch_all(running, paths, etags, workers=16) == []
        assert len(etags) == 500

        started = time.perf_counter()
        errors = fetch_all(running, paths, etags, workers=16)
        elapsed = time.perf_counter() - started

        assert errors == []
        assert running.not_modified_served == 500
        assert running.connections_accepted == 32  # one per worker and round: keep-alive under load
        assert elapsed < 1.0, f"500 conditional GETs took {elapsed:.2f} s"


def fetch_all(
    running: StaticFeedServer, paths: list[str], etags: dict[str, str], *, workers: int
) -> list[str]:
    """GET every path over ``workers`` keep-alive connections; 200s record ETags, then 304s are expected.

    http.client rather than requests: this measures the server, and requests' own overhead is several
    times the server's cost per 304.
    """
    errors: list[str] = []
    lock = threading.Lock()

    def work(share: list[str]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
        try:
            for path in share:
                headers = {"Accept-Encoding": "gzip"}
                if path in etags:
                    headers["If-None-Match"] = etags[path]
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                expected = 304 if "If-None-Match" in headers else 200
                with lock:
                    if response.status != expected:
                        errors.append(f"{path}: {response.status}")
                    etags[path] = response.getheader("ETag", "")
        except OSError as error:
            with lock:
                errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(paths[i::workers],)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


# --- the demo feeds ------------------------------------------------------------------------------------

DEMO_FEEDS = {
    "/meridian-wire.rss": ("rss20", RSS),
    "/dnipro-courier.rss": ("rss20", RSS),
    "/volga-vestnik.rss": ("rss20", RSS),
    "/eastern-dispatch.atom": ("atom10", "application/atom+xml"),
    "/kyiv-ledger.atom": ("atom10", "application/atom+xml"),
}
STORY_WINDOW = (datetime(2026, 6, 29, tzinfo=UTC), datetime(2026, 7, 21, tzinfo=UTC))


@pytest.fixture(scope="module")
def demo() -> dict[str, Document]:
    return load_demo_documents()


def test_demo_documents_are_the_feed_files_only(demo):
    assert sorted(demo) == sorted([*DEMO_FEEDS, "/talks-tracker.json", "/border-bulletin.xml"])
    for path, (_, content_type) in DEMO_FEEDS.items():
        assert demo[path].content_type == content_type
    assert demo["/talks-tracker.json"].content_type.startswith("application/feed+json")


@pytest.mark.parametrize("path", sorted(DEMO_FEEDS))
def test_demo_xml_feeds_are_valid_with_8_to_20_dated_entries(demo, path):
    body = demo[path].body
    etree.fromstring(body)  # well-formed, or this raises

    parsed = feedparser.parse(body)

    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == DEMO_FEEDS[path][0]
    assert 8 <= len(parsed.entries) <= 20
    for entry in parsed.entries:
        assert entry.title and entry.link
        published = datetime(*entry.published_parsed[:6], tzinfo=UTC)
        assert STORY_WINDOW[0] <= published <= STORY_WINDOW[1], entry.title


def test_demo_json_feed_is_json_feed_1_1(demo):
    feed = json.loads(demo["/talks-tracker.json"].body)

    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert 8 <= len(feed["items"]) <= 20
    assert len({item["id"] for item in feed["items"]}) == len(feed["items"])
    for item in feed["items"]:
        assert item["title"] and item["url"] and ("content_html" in item or "content_text" in item)
        published = datetime.fromisoformat(item["date_published"])
        assert published.tzinfo is not None
        assert STORY_WINDOW[0] <= published <= STORY_WINDOW[1]


def test_the_russian_feed_is_windows_1251_named_only_in_the_xml_declaration(demo):
    document = demo["/volga-vestnik.rss"]

    assert document.body.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    assert "charset" not in document.content_type  # a charset here would override the declaration
    with pytest.raises(UnicodeDecodeError):
        document.body.decode("utf-8")
    titles = [entry.title for entry in feedparser.parse(document.body).entries]
    assert "Кремль: Россия готова к новому раунду переговоров с Украиной" in titles


def test_the_broken_feed_is_malformed_but_recoverable(demo):
    body = demo["/border-bulletin.xml"].body
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(body)

    parsed = feedparser.parse(body)
    recovered = etree.fromstring(body, etree.XMLParser(recover=True)).findall(".//item")

    assert parsed.bozo
    assert len(parsed.entries) == len(recovered) == 5
    assert parsed.entries[1].title == "Three men from Sumy region among prisoners freed on Sunday"


def test_one_feed_has_no_guids(demo):
    assert b"<guid" not in demo["/dnipro-courier.rss"].body
    assert all(entry.link for entry in feedparser.parse(demo["/dnipro-courier.rss"].body).entries)


def test_the_same_article_appears_in_several_feeds_with_different_utm_parameters(demo):
    article = (
        "https://www.meridianwire.example/world/europe/russia-ukraine-istanbul-talks-prisoner-swap-2026-07-14"
    )
    sources: dict[str, str] = {}
    for path, document in demo.items():
        if path.endswith(".json"):
            links = [item["url"] for item in json.loads(document.body)["items"]]
        else:
            links = [entry.link for entry in feedparser.parse(document.body).entries]
        for link in links:
            if link.startswith(article + "?"):
                sources[path] = parse_qs(urlsplit(link).query)["utm_source"][0]

    assert set(sources) == {"/meridian-wire.rss", "/eastern-dispatch.atom", "/talks-tracker.json"}
    assert len(set(sources.values())) == 3


def test_wire_copy_is_shared_word_for_word(demo):
    wire = {entry.title: entry.summary for entry in feedparser.parse(demo["/meridian-wire.rss"].body).entries}
    dispatch = {
        entry.title: entry.summary for entry in feedparser.parse(demo["/eastern-dispatch.atom"].body).entries
    }

    shared = set(wire) & set(dispatch)

    assert len(shared) == 3
    assert all(wire[title] == dispatch[title] for title in shared)


def test_the_server_serves_the_demo_feeds_byte_for_byte(demo, session):
    with StaticFeedServer(demo) as running:
        for path, document in demo.items():
            response = session.get(running.url(path), timeout=5)
            assert response.status_code == 200
            assert response.content == document.body


# --- the benchmark's farm ------------------------------------------------------------------------------

NOW = datetime(2026, 7, 20, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def farm_module() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "bench" / "farm.py"
    spec = importlib.util.spec_from_file_location("bench_farm_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def small_farm(farm_module):
    return farm_module.generate_farm(20, seed=3, min_items=30, max_items=40, now=NOW)


def test_the_farm_is_deterministic(farm_module, small_farm):
    again = farm_module.generate_farm(20, seed=3, min_items=30, max_items=40, now=NOW)
    other_seed = farm_module.generate_farm(20, seed=4, min_items=30, max_items=40, now=NOW)

    assert again.documents == small_farm.documents
    assert other_seed.documents != small_farm.documents


def test_the_farm_mixes_formats_and_counts_honestly(small_farm):
    suffixes = Counter(path.rsplit(".", 1)[1] for path in small_farm.feed_paths)
    assert suffixes == {"xml": 12, "atom": 6, "json": 2}
    assert small_farm.feed_paths == list(small_farm.documents)

    items = 0
    for path, document in small_farm.documents.items():
        entries = farm_entries(path, document)
        assert 30 <= len(entries) <= 40
        items += len(entries)
    assert small_farm.total_items == items
    assert small_farm.total_bytes == sum(len(document.body) for document in small_farm.documents.values())
    assert 1000 <= small_farm.total_bytes / small_farm.total_items <= 4000  # ≈ 1-4 KB per item


def test_farm_entries_have_dated_8_to_15_word_titles_within_30_days(small_farm):
    for path, document in small_farm.documents.items():
        for title, published in farm_entries(path, document):
            assert 8 <= len(title.split()) <= 15, title
            assert NOW - timedelta(days=30) <= published <= NOW


def test_a_general_news_farm_carries_no_foreign_news(farm_module, small_farm):
    general = farm_module.generate_farm(20, seed=3, min_items=30, max_items=40, now=NOW, mix="general")
    sections = Counter(
        urlsplit(link).path.split("/")[1]
        for path, document in general.documents.items()
        for link in farm_links(path, document)
    )
    assert set(sections) == {"business", "sport"}
    talks = Counter(
        urlsplit(link).path.split("/")[1]
        for path, document in small_farm.documents.items()
        for link in farm_links(path, document)
    )
    assert {"world", "war"} <= set(talks)
    with pytest.raises(ValueError, match="mix"):
        farm_module.generate_farm(2, mix="sports")


def test_about_a_tenth_of_farm_items_are_shared_between_feeds(small_farm):
    feeds_by_article: dict[str, set[str]] = {}
    feeds_by_title: dict[str, set[str]] = {}
    links: list[str] = []
    for path, document in small_farm.documents.items():
        for link in farm_links(path, document):
            links.append(link)
            feeds_by_article.setdefault(link.split("?")[0], set()).add(path)
        for title, _ in farm_entries(path, document):
            feeds_by_title.setdefault(title, set()).add(path)

    shared_copies = sum(len(feeds) for feeds in feeds_by_title.values() if len(feeds) > 1)
    assert 0.05 <= shared_copies / small_farm.total_items <= 0.2
    wire_articles = [article for article, feeds in feeds_by_article.items() if len(feeds) > 1]
    assert wire_articles, "no article is carried by two feeds under one link"
    wire_links = {link for link in links if link.split("?")[0] == wire_articles[0]}
    assert len(wire_links) >= 2  # the same article, each feed with its own utm parameters
    assert any(
        len(feeds) > 1 and title_article_differs(title, small_farm) for title, feeds in feeds_by_title.items()
    )


def farm_entries(path: str, document: Document) -> list[tuple[str, datetime]]:
    if path.endswith(".json"):
        feed = json.loads(document.body)
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        return [(item["title"], datetime.fromisoformat(item["date_published"])) for item in feed["items"]]
    root = etree.fromstring(document.body)  # well-formed, or this raises
    if root.tag == "rss":
        return [
            (item.findtext("title"), parsedate_to_datetime(item.findtext("pubDate")))
            for item in root.iter("item")
        ]
    return [
        (entry.findtext(f"{ATOM_NS}title"), datetime.fromisoformat(entry.findtext(f"{ATOM_NS}published")))
        for entry in root.iter(f"{ATOM_NS}entry")
    ]


def farm_links(path: str, document: Document) -> list[str]:
    if path.endswith(".json"):
        return [item["url"] for item in json.loads(document.body)["items"]]
    root = etree.fromstring(document.body)
    if root.tag == "rss":
        return [item.findtext("link") for item in root.iter("item")]
    return [entry.find(f"{ATOM_NS}link").get("href") for entry in root.iter(f"{ATOM_NS}entry")]


def title_article_differs(title: str, farm) -> bool:
    """Whether some copies of ``title`` sit under different articles (syndicated text, not wire links)."""
    articles = set()
    for path, document in farm.documents.items():
        entries = farm_entries(path, document)
        for (entry_title, _), link in zip(entries, farm_links(path, document), strict=True):
            if entry_title == title:
                articles.add(link.split("?")[0])
    return len(articles) > 1


def _demo_reports(demo: dict[str, Document]) -> list[StoryInput]:
    """Every relevant item of the demo feeds as the story stage gets it (parsed, normalised, classified)."""
    rules = default_rules()
    now = datetime(2026, 7, 20, tzinfo=UTC)
    reports = []
    for path, document in demo.items():
        parsed = parse_feed(document.body, {"content-type": document.content_type}, f"http://demo{path}")
        for item in normalise_feed(path, parsed, now=now).items:
            verdict = classify_item(item, rules)
            if verdict.relevant:
                reports.append(
                    StoryInput(
                        key=f"{path}#{item.key}",
                        source=path,
                        title=item.title,
                        summary=item.summary,
                        published=item.published,
                        events=verdict.events,
                    )
                )
    return reports


@pytest.mark.parametrize("order", ["published", "feed", "reversed feed"])
def test_the_demos_fourth_round_is_one_event_whatever_order_its_reports_arrive_in(demo, order):
    # A poll hands reports over as feeds finish, not in publication order; the Russian outlet's "the fourth
    # round ended" must not open a round of its own when it comes after the English reports.
    reports = _demo_reports(demo)
    if order == "published":
        reports.sort(key=lambda report: report.published)
    elif order == "reversed feed":
        reports.reverse()
    deduplicator = Deduplicator()
    rounds = {}
    for report in reports:
        for event in deduplicator.assign(report).events:
            if event.type == "NEW_ROUND" and event.facts.get("round") == 4:
                rounds[event.id] = event
    assert len(rounds) == 1, [event.key for event in rounds.values()]
