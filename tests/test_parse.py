"""aggregator.parse: errors with reasons, DOCTYPE stripping, encodings, JSON Feed, the fast path's limits,
and the golden fixtures in tests/data/parse (regenerate with UPDATE_GOLDEN=1, see the README there)."""

from __future__ import annotations

import codecs
import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
import psutil
import pytest
from feedparser.datetimes import _parse_date
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from aggregator.errors import NotAFeedError, ParseError
from aggregator.models import Item, ParsedFeed
from aggregator.normalise import normalise_feed
from aggregator.parse import (
    MAX_ATTRIBUTES,
    MAX_DEPTH,
    MAX_FEEDPARSER_ELEMENTS,
    _join_url,
    _json_url,
    _looks_like_html,
    _parse_feed_date,
    _struct_to_datetime,
    parse_fast,
    parse_feed,
    parse_json_feed,
    parse_with_feedparser,
    strip_doctype,
)

URL = "https://news.example.org/feeds/main.xml"
RSS_HEADERS = {"content-type": "application/rss+xml; charset=utf-8"}
GOLDEN_DIR = Path(__file__).parent / "data" / "parse"
GOLDEN_NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)


def rss(
    items: str,
    *,
    channel_extra: str = "",
    declaration: str = '<?xml version="1.0" encoding="utf-8"?>\n',
    namespaces: str = "",
) -> bytes:
    return (
        f'{declaration}<rss version="2.0"{namespaces}><channel><title>Peace desk</title>'
        f"<link>https://news.example.org/</link>{channel_extra}{items}</channel></rss>"
    ).encode()


ONE_ITEM = rss(
    "<item><title>Talks resume</title><link>https://news.example.org/a</link>"
    "<guid>https://news.example.org/a</guid><description>Delegations met.</description></item>"
)


# =====================================================================================================
# Golden fixtures
# =====================================================================================================


def golden_cases() -> list[Path]:
    return sorted(path for path in GOLDEN_DIR.iterdir() if path.is_dir())


def load_case(folder: Path) -> tuple[bytes, dict[str, str], str]:
    feed_file = next(folder.glob("feed.*"))
    headers_file = folder / "headers.json"
    headers = json.loads(headers_file.read_text()) if headers_file.exists() else {}
    return feed_file.read_bytes(), headers, f"https://feeds.example.org/{folder.name}/{feed_file.name}"


def item_as_json(item: Item) -> dict[str, Any]:
    fields = {name: getattr(item, name) for name in Item.__dataclass_fields__}
    return {
        name: value.isoformat() if isinstance(value, datetime) else value for name, value in fields.items()
    }


def golden_result(folder: Path) -> dict[str, Any]:
    body, headers, url = load_case(folder)
    try:
        parsed = parse_feed(body, headers, url)
    except ParseError as exc:
        return {"error": {"type": type(exc).__name__, "message": str(exc)}}
    normalised = normalise_feed(folder.name, parsed, now=GOLDEN_NOW)
    return {
        "feed": {
            "format": parsed.format,
            "parser": parsed.parser,
            "title": parsed.title,
            "link": parsed.link,
            "language": parsed.language,
            "problem": parsed.problem,
            "skipped_by_parser": parsed.skipped,
        },
        "skipped": normalised.skipped,
        "items": [item_as_json(item) for item in normalised.items],
    }


@pytest.mark.parametrize("folder", golden_cases(), ids=lambda path: path.name)
def test_golden(folder: Path) -> None:
    actual = golden_result(folder)
    expected_file = folder / "expected.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        expected_file.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert expected_file.exists(), f"no expected.json in {folder}: run with UPDATE_GOLDEN=1 and review it"
    assert actual == json.loads(expected_file.read_text(encoding="utf-8"))


def test_golden_cases_cover_the_brief() -> None:
    names = {path.name for path in golden_cases()}
    assert {
        "rss20_cdata",
        "atom_xhtml_base",
        "rss10_rdf",
        "jsonfeed11",
        "windows1251_declared",
        "windows1251_http_charset",
        "malformed_recoverable",
        "missing_guids",
        "repeated_guids",
        "entity_expansion",
        "html_page",
        "empty_body",
        "hostile_markup",
        "broken_future_dates",
        "same_story_utm",
    } <= names


# =====================================================================================================
# Errors with reasons, never "0 entries, OK"
# =====================================================================================================


@pytest.mark.parametrize("parse", [parse_feed, parse_with_feedparser])
@pytest.mark.parametrize(
    "body", [b"", b"   \n\t ", codecs.BOM_UTF16_LE + " \n".encode("utf-16-le"), codecs.BOM_UTF8 + b"\r\n"]
)
def test_empty_body_is_not_a_feed(parse: Callable[..., ParsedFeed], body: bytes) -> None:
    with pytest.raises(NotAFeedError, match="empty body"):
        parse(body, RSS_HEADERS, URL)


def test_a_body_with_one_character_after_much_blank_space_is_not_empty() -> None:
    body = b" \n\x00\xef\xbb\xbf" * 100_000 + b"x"
    with pytest.raises((NotAFeedError, ParseError)) as raised:
        parse_feed(body, RSS_HEADERS, URL)
    assert "empty body" not in str(raised.value)


@pytest.mark.parametrize("parse", [parse_feed, parse_with_feedparser])
@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html>\n<html><head><title>Moved</title></head><body><p>Gone</p></body></html>",
        b"\n  <!-- generated -->\n<HTML lang='en'><BODY>Maintenance</BODY></HTML>",
        b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><p>x</p></body></html>',
        b"<body><p>fragment of a page</p></body>",
    ],
)
def test_html_page_is_not_a_feed(parse: Callable[..., ParsedFeed], body: bytes) -> None:
    with pytest.raises(NotAFeedError, match="an HTML page, not a feed"):
        parse(body, {"content-type": "text/html; charset=utf-8"}, URL)


def test_garbage_is_a_parse_error_with_feedparsers_reason() -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(b"hello world, this is not XML at all", {"content-type": "text/plain"}, URL)
    assert not isinstance(caught.value, NotAFeedError)
    assert "syntax error" in str(caught.value)


def test_well_formed_xml_that_is_no_feed_names_its_root() -> None:
    body = b'<?xml version="1.0"?><urlset><url><loc>https://news.example.org/</loc></url></urlset>'
    with pytest.raises(NotAFeedError, match="urlset"):
        parse_feed(body, {"content-type": "application/xml"}, URL)


def test_valid_feed_without_entries_is_not_an_error() -> None:
    for parse in (parse_feed, parse_with_feedparser):
        parsed = parse(rss(""), RSS_HEADERS, URL)
        assert parsed.entries == ()
        assert parsed.format == "rss20"
        assert parsed.problem is None
    assert parse_feed(rss(""), RSS_HEADERS, URL).parser == "fast"


def test_recovered_feed_keeps_its_entries_and_says_why() -> None:
    body = rss(
        "<item><title>One</title><description>unclosed <b>bold</description></item>"
        "<item><title>Two</title><link>https://news.example.org/two</link></item>"
    )
    parsed = parse_feed(body, RSS_HEADERS, URL)
    assert parsed.parser == "feedparser"
    assert [entry.title for entry in parsed.entries] == ["One", "Two"]
    assert parsed.problem == "not well-formed XML (line 2: mismatched tag), 2 entries recovered"


def test_line_numbers_in_problems_count_lines_of_the_original_document() -> None:
    body = (
        b"<rss version='2.0'><channel>\n<item><title>a</title>\n<description>x <i>y</description>"
        b"</item>\n</channel></rss>"
    )
    parsed = parse_feed(body, RSS_HEADERS, URL)  # no XML declaration: feedparser adds one in front
    assert parsed.problem is not None and "(line 3: mismatched tag)" in parsed.problem


def test_feedparser_exceptions_become_parse_errors() -> None:
    # GeoRSS with a non-numeric EPSG code makes feedparser's handler raise ValueError.
    body = rss(
        '<item><title>t</title><georss:where><gml:Point srsName="EPSG:abc"><gml:pos>1 2</gml:pos>'
        "</gml:Point></georss:where></item>",
        namespaces=' xmlns:georss="http://www.georss.org/georss" xmlns:gml="http://www.opengis.net/gml"',
    )
    with pytest.raises(ParseError, match="feedparser failed: ValueError"):
        parse_feed(body, RSS_HEADERS, URL)


# =====================================================================================================
# feedparser never fetches or opens anything
# =====================================================================================================


def test_a_body_that_looks_like_a_path_is_never_opened(tmp_path: Path) -> None:
    feed_file = tmp_path / "feed.xml"
    feed_file.write_bytes(ONE_ITEM)
    with pytest.raises(ParseError):
        parse_with_feedparser(str(feed_file).encode(), {}, URL)
    with pytest.raises(ParseError):
        parse_feed(str(feed_file).encode(), {}, URL)


def test_a_body_that_looks_like_a_url_is_never_fetched(feed_server: Any) -> None:
    feed_url = feed_server.route("/feed.xml", body=ONE_ITEM)
    for parse in (parse_with_feedparser, parse_feed):
        with pytest.raises(ParseError):
            parse(feed_url.encode(), {}, URL)
    assert feed_server.hits["/feed.xml"] == 0


# =====================================================================================================
# DOCTYPE stripping
# =====================================================================================================

DOCTYPES = {
    "plain external": '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
    '"http://my.netscape.com/publish/formats/rss-0.91.dtd">',
    "internal entities": '<!DOCTYPE rss [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>',
    "lower case": '<!doctype rss [<!entity a "x">]>',
    "quoted ] and >": """<!DOCTYPE rss [<!ENTITY a "]>"> <!ENTITY b ']]>' >]>""",
    "comment with ]>": '<!DOCTYPE rss [<!-- ]> tricky --><!ENTITY a "x">]>',
    "processing instruction": '<!DOCTYPE rss [<?pi ]> ?><!ENTITY a "x">]>',
    "parameter entities": """<!DOCTYPE rss [<!ENTITY % p "<!ENTITY a 'x'>"> %p; <!ATTLIST i x CDATA "[">]>""",
    "conditional section": '<!DOCTYPE rss [<![INCLUDE[<!ENTITY a "x">]]>]>',
    "nested brackets": '<!DOCTYPE rss [ <!ELEMENT rss ANY> <!ENTITY a "[[]]"> ]>',
    "multi-line": '<!DOCTYPE rss\n  SYSTEM "rss.dtd"\n  [\n  <!ENTITY a "x">\n]\n>',
}


@pytest.mark.parametrize("doctype", DOCTYPES.values(), ids=DOCTYPES.keys())
@pytest.mark.parametrize(
    "prolog",
    [
        "",
        '<?xml version="1.0" encoding="utf-8"?>\n',
        '\ufeff<?xml version="1.0"?>\n<!-- generator: x -->\n<?xml-stylesheet href="s"?>\n',
    ],
)
def test_doctype_is_removed_wherever_it_hides(doctype: str, prolog: str) -> None:
    body = (prolog + doctype + "\n" + ONE_ITEM.decode().split("\n", 1)[1]).encode()
    stripped, note = strip_doctype(body)
    assert note is not None and "DOCTYPE declaration removed" in note
    assert b"DOCTYPE" not in stripped.upper() and b"<!ENTITY" not in stripped.upper()
    assert stripped.count(b"\n") == body.count(b"\n"), "line numbers must not move"
    root = etree.fromstring(stripped.removeprefix(codecs.BOM_UTF8))
    assert root.tag == "rss" and root.findtext("channel/item/title") == "Talks resume"


def test_doctype_after_a_processing_instruction_that_looks_like_markup() -> None:
    body = b'<?xml-stylesheet href="<a.xsl"?><!DOCTYPE rss [<!ENTITY a "x">]><rss version="2.0"/>'
    assert strip_doctype(body)[0] == b'<?xml-stylesheet href="<a.xsl"?><rss version="2.0"/>'


def test_internal_entities_are_counted_in_the_note() -> None:
    _, note = strip_doctype(rss("", declaration='<!DOCTYPE rss [<!ENTITY a "x"><!ENTITY b "y">]>'))
    assert note == "DOCTYPE declaration removed with 2 internal entities (not expanded)"


def test_document_without_doctype_is_left_alone() -> None:
    stripped, note = strip_doctype(ONE_ITEM)
    assert stripped is ONE_ITEM and note is None


def test_doctype_text_after_the_root_is_content_not_a_declaration() -> None:
    body = rss(
        '<item><title>t</title><description><![CDATA[<!DOCTYPE html [<!ENTITY x "y">]>]]>'
        "</description></item>"
    )
    assert strip_doctype(body) == (body, None)


def test_doctype_scan_stops_at_the_root_element() -> None:
    # Declarations and comments inside the document are content: the body comes back as it is.
    body = rss(
        "<item><title>t</title><description><![CDATA[<p>x</p>]]></description></item>"
        "<!-- <!DOCTYPE x> -->" * 1000
    )
    assert strip_doctype(body) == (body, None)
    plain = rss("<item><title>no declaration anywhere</title></item>")
    assert strip_doctype(plain) == (plain, None)


def test_doctype_in_utf16_is_removed_and_the_encoding_kept() -> None:
    text = '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE rss [<!ENTITY a "x">]><rss version="2.0"/>'
    body = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    stripped, note = strip_doctype(body)
    assert note is not None
    assert stripped.startswith(codecs.BOM_UTF16_BE)
    assert stripped[2:].decode("utf-16-be") == '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"/>'


def test_unterminated_doctype_fails_cleanly() -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "never closed><rss><channel/></rss>'
    stripped, note = strip_doctype(body)
    assert note is not None and "unterminated" in note
    assert b"<rss" not in stripped
    with pytest.raises(ParseError):
        parse_feed(body, RSS_HEADERS, URL)


def billion_laughs() -> bytes:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{"".join(f"&lol{i - 1};" for _ in range(10))}">' for i in range(1, 11)
    ]
    return rss(
        "<item><title>&lol10;</title><link>https://news.example.org/x</link>"
        "<description>Ceasefire talks &lol10;</description></item>",
        declaration=f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n{chr(10).join(levels)}\n]>\n',
    )


def one_big_entity(size: int = 1_000_000, references: int = 1000) -> bytes:
    # One declaration a line: that is the shape feedparser's own entity handling copies into its
    # fallback parser, which then expands every reference.
    return rss(
        f"<item><title>Talks</title><link>https://news.example.org/y</link>"
        f"<description>{'&big;' * references}</description></item>",
        declaration=f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY big "{"A" * size}">\n]>\n',
    )


def test_the_entity_attack_is_real_without_the_defence() -> None:
    small_bomb = one_big_entity(size=10_000, references=100)  # 1 MB once expanded
    unprotected = feedparser.parse(io.BytesIO(small_bomb))
    assert len(unprotected.entries[0].summary) == 1_000_000
    defended = parse_with_feedparser(small_bomb, RSS_HEADERS, URL)
    assert len(defended.entries[0].summary or "") < 1_000


@contextmanager
def peak_rss_growth() -> Iterator[list[int]]:
    """Samples this process's RSS every millisecond; yields a list that gets [growth in bytes]."""
    process = psutil.Process()
    start = process.memory_info().rss
    peak = [start]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result: list[int] = []
    try:
        yield result
    finally:
        done.set()
        sampler.join()
        peak[0] = max(peak[0], process.memory_info().rss)
        result.append(peak[0] - start)


@pytest.mark.parametrize("bomb", [billion_laughs, one_big_entity])
@pytest.mark.parametrize("parse", [parse_feed, parse_with_feedparser])
def test_entity_bombs_are_defused(bomb: Callable[[], bytes], parse: Callable[..., ParsedFeed]) -> None:
    body = bomb()
    with peak_rss_growth() as growth:
        started = time.perf_counter()
        try:
            parsed: ParsedFeed | None = parse(body, RSS_HEADERS, URL)
        except ParseError:
            parsed = None  # failing cleanly is acceptable too
        elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    assert growth[0] < 50 * 1024 * 1024
    if parsed is not None:
        assert parsed.problem is not None and "DOCTYPE declaration removed" in parsed.problem
        assert all(len(entry.summary or "") < 20_000 for entry in parsed.entries)


def test_standard_html_entities_still_become_characters() -> None:
    body = rss(
        "<item><title>Pourparlers &agrave; Gen&egrave;ve&nbsp;: d&eacute;l&eacute;gations</title>"
        "<link>https://news.example.org/fr</link></item>"
    )
    parsed = parse_feed(body, RSS_HEADERS, URL)
    assert parsed.entries[0].title == "Pourparlers à Genève\xa0: délégations"
    assert parsed.parser == "feedparser"  # undeclared entities: only the forgiving parser reads them


# =====================================================================================================
# Markup beyond the limits: refused before any parser spends minutes on it
# =====================================================================================================

UNDECLARED_ENTITY = "<item><title>Caf&eacute;</title></item>"  # not well-formed: feedparser's way


def many_attributes(count: int, *, value: str = "v", well_formed: bool = True) -> bytes:
    attributes = " ".join(f"a{i}='{value}'" for i in range(count))
    return rss(
        f"<item><guid>g1</guid><title>Talks</title><link {attributes}>https://news.example.org/a</link></item>"
        + ("" if well_formed else UNDECLARED_ENTITY)
    )


def deep_description(depth: int, *, closed: bool) -> bytes:
    markup = "<div>" * depth + ("</div>" * depth if closed else "")
    return rss(f"<item><guid>g1</guid><title>Talks</title><description>{markup}</description></item>")


def refused(parse: Callable[..., ParsedFeed], body: bytes, reason: str) -> ParseError:
    started = time.perf_counter()
    with pytest.raises(ParseError) as caught:
        parse(body, RSS_HEADERS, URL)
    assert caught.value.reason == reason
    assert caught.value.url == URL
    assert time.perf_counter() - started < 1.0  # without the limits: seconds to minutes
    return caught.value


@pytest.mark.parametrize("well_formed", [True, False], ids=["fast path", "feedparser's way"])
@pytest.mark.parametrize("parse", [parse_feed, parse_with_feedparser])
def test_an_element_with_thousands_of_attributes_is_refused(
    parse: Callable[..., ParsedFeed], well_formed: bool
) -> None:
    # lxml's items() and feedparser's strict parser are quadratic in them: 20,000 took 3 resp. 9 s.
    error = refused(parse, many_attributes(20_000, well_formed=well_formed), "too_many_attributes")
    assert "<link> has 20,000 attributes (line 2)" in str(error)


def test_attribute_values_holding_angle_brackets_are_counted_too() -> None:
    # ">" may stand in an attribute value: expat reads this tag whole, so must the count.
    refused(parse_feed, many_attributes(1_000, value="a>b", well_formed=False), "too_many_attributes")


@pytest.mark.parametrize("well_formed", [True, False], ids=["fast path", "feedparser's way"])
def test_attributes_up_to_the_limit_and_namespace_declarations_are_read(well_formed: bool) -> None:
    declarations = "".join(f' xmlns:ns{i}="https://ns.example.org/{i}"' for i in range(1_000))
    body = many_attributes(MAX_ATTRIBUTES, well_formed=well_formed).replace(
        b'<rss version="2.0"', b'<rss version="2.0"' + declarations.encode()
    )
    parsed = parse_feed(body, RSS_HEADERS, URL)
    assert parsed.parser == ("fast" if well_formed else "feedparser")
    assert parsed.entries[0].link == "https://news.example.org/a"


def test_namespaces_in_scope_do_not_slow_the_reading_of_attributes() -> None:
    # The fast path keys a namespaced attribute by its written prefix too, as feedparser does; looking it
    # up in element.nsmap cost 10 s here (20,000 namespaces in scope, 2,000 attributes).
    declarations = "".join(f' xmlns:ns{i}="https://ns.example.org/{i}"' for i in range(20_000))
    items = "".join(
        f"<item><guid>g{i}</guid><title>Talks {i}</title><ns{i}:extra ns{i + 1}:attribute='v'>x</ns{i}:extra>"
        f"</item>"
        for i in range(2_000)
    )
    body = rss(items).replace(b'<rss version="2.0"', b'<rss version="2.0"' + declarations.encode())
    started = time.perf_counter()
    parsed = parse_fast(body, RSS_HEADERS, URL)
    assert time.perf_counter() - started < 2.0
    assert parsed is not None and len(parsed.entries) == 2_000


@pytest.mark.parametrize("closed", [False, True], ids=["unclosed", "well-formed"])
@pytest.mark.parametrize("parse", [parse_feed, parse_with_feedparser])
def test_deeply_nested_markup_is_refused(parse: Callable[..., ParsedFeed], closed: bool) -> None:
    # feedparser took 15 s on 200,000 unclosed <div> (1 MB); lxml refuses more than 256 levels, so a
    # well-formed document that deep went to feedparser too.
    error = refused(parse, deep_description(20_000, closed=closed), "too_deep")
    assert f"nested more than {MAX_DEPTH} deep (line 2)" in str(error)


def test_nesting_up_to_the_limit_is_read() -> None:
    parsed = parse_feed(deep_description(MAX_DEPTH - 10, closed=True), RSS_HEADERS, URL)
    assert parsed.parser == "feedparser"  # deeper than lxml reads
    assert [entry.title for entry in parsed.entries] == ["Talks"]


def test_html_left_unclosed_in_every_entry_does_not_add_up_to_depth() -> None:
    # Each entry's HTML ends with its entry, as feedparser reads it: 400 entries, each leaving <br>, <p>,
    # <b>, list items and table cells open, are not 4,000 levels deep (libxml2's recovery would say so).
    items = "".join(
        f"<item><guid>g{i}</guid><title>Talks {i}</title><description>Day {i}<br><p>Delegations <b>met"
        f"<ul><li>one<li>two</ul><table><tr><td>a<td>b<tr><td>c</table><p>again</description></item>"
        for i in range(400)
    )
    parsed = parse_feed(rss(items), RSS_HEADERS, URL)
    assert parsed.parser == "feedparser"
    assert len(parsed.entries) == 400
    assert parsed.problem is not None and "400 entries recovered" in parsed.problem


@pytest.mark.parametrize("parse", [parse_feed, parse_with_feedparser])
def test_flat_markup_beyond_what_feedparser_can_afford_is_refused(parse: Callable[..., ParsedFeed]) -> None:
    # 1 MB of "<br/>" in a description: the fast path leaves it to feedparser, which took 14 s on it
    body = rss(
        f"<item><guid>g1</guid><title>Talks</title><description>{'<br/>' * 200_000}</description></item>"
    )
    error = refused(parse, body, "too_many_elements")
    assert f"more than {MAX_FEEDPARSER_ELEMENTS:,} elements" in str(error)


def test_entries_never_closed_are_not_nesting_either() -> None:
    # feedparser starts a new entry at every <item>: a feed that never closes them still gives all 600.
    items = "".join(f"<item><title>Talks {i}</title><description>Day {i}</description>" for i in range(600))
    parsed = parse_feed(rss(items), RSS_HEADERS, URL)
    assert len(parsed.entries) == 600


# =====================================================================================================
# Encodings
# =====================================================================================================

CYRILLIC_ITEM = (
    "<item><title>Переговоры продолжатся в пятницу</title>"
    "<link>https://vestnik.example.ru/a</link>"
    "<description>Делегации согласовали повестку.</description></item>"
)


@pytest.mark.parametrize(
    ("encoding", "declared", "headers", "parser"),
    [
        ("windows-1251", True, {"content-type": "application/rss+xml"}, "fast"),
        ("windows-1251", False, {"content-type": "application/rss+xml; charset=windows-1251"}, "feedparser"),
        ("koi8-r", True, {"content-type": "text/xml; charset=koi8-r"}, "fast"),
        ("koi8-r", True, {"content-type": "application/xml"}, "fast"),
        ("utf-8", True, {"content-type": "text/xml"}, "fast"),
        ("utf-8", False, {}, "fast"),
    ],
)
def test_single_byte_and_utf8_encodings(
    encoding: str, declared: bool, headers: dict[str, str], parser: str
) -> None:
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>\n' if declared else ""
    body = rss(CYRILLIC_ITEM, declaration=declaration).decode().encode(encoding)
    parsed = parse_feed(body, headers, URL)
    assert parsed.parser == parser
    assert parsed.entries[0].title == "Переговоры продолжатся в пятницу"
    assert parsed.entries[0].summary == "Делегации согласовали повестку."


@pytest.mark.parametrize(
    "bom_and_codec",
    [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF8, "utf-8")],
)
def test_byte_order_marks(bom_and_codec: tuple[bytes, str]) -> None:
    bom, codec = bom_and_codec
    declared = "utf-16" if codec.startswith("utf-16") else "utf-8"
    text = rss(CYRILLIC_ITEM, declaration=f'<?xml version="1.0" encoding="{declared}"?>\n').decode()
    parsed = parse_feed(bom + text.encode(codec), {"content-type": "application/rss+xml"}, URL)
    assert parsed.parser == "fast"
    assert parsed.entries[0].title == "Переговоры продолжатся в пятницу"


def test_utf16_served_as_text_xml_without_charset_is_still_read() -> None:
    text = rss(CYRILLIC_ITEM, declaration='<?xml version="1.0" encoding="utf-16"?>\n').decode()
    parsed = parse_feed(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), {"content-type": "text/xml"}, URL)
    assert parsed.entries[0].title == "Переговоры продолжатся в пятницу"


@pytest.mark.parametrize(
    ("bom", "codec", "declared", "charset"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16", "utf-8"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16", "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16", "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32", "utf-8"),
        (codecs.BOM_UTF8, "utf-8", "utf-8", "windows-1251"),
    ],
)
@pytest.mark.parametrize("parse", [parse_feed, parse_with_feedparser])
def test_a_byte_order_mark_wins_over_the_http_charset(
    parse: Callable[..., ParsedFeed], bom: bytes, codec: str, declared: str, charset: str
) -> None:
    # RFC 7303 section 3.3 and the WHATWG encoding standard: the BOM decides. Read by the charset,
    # UTF-16 was "not well-formed XML" and UTF-8 came out as mojibake.
    text = rss(CYRILLIC_ITEM, declaration=f'<?xml version="1.0" encoding="{declared}"?>\n').decode()
    headers = {"content-type": f"application/rss+xml; charset={charset}"}
    parsed = parse(bom + text.encode(codec), headers, URL)
    assert parsed.entries[0].title == "Переговоры продолжатся в пятницу"
    assert parsed.problem == f"declared as {charset} but the byte order mark says {codec}: read as {codec}"


def test_a_charset_that_agrees_with_the_byte_order_mark_is_no_problem() -> None:
    text = rss(CYRILLIC_ITEM, declaration='<?xml version="1.0" encoding="utf-16"?>\n').decode()
    body = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    for charset in ("utf-16", "UTF-16BE"):
        parsed = parse_feed(body, {"content-type": f"application/rss+xml; charset={charset}"}, URL)
        assert parsed.entries[0].title == "Переговоры продолжатся в пятницу"
        assert parsed.problem is None


def test_mis_declared_encoding_is_read_in_its_real_encoding() -> None:
    body = (
        rss(
            "<item><title>Café talks – day two</title><link>https://news.example.org/c</link></item>",
            declaration='<?xml version="1.0" encoding="utf-8"?>\n',
        )
        .decode()
        .encode("windows-1252")
    )
    parsed = parse_feed(body, {"content-type": "application/rss+xml"}, URL)
    assert parsed.parser == "feedparser"
    assert parsed.entries[0].title == "Café talks – day two"
    assert parsed.problem is not None
    assert "declared as utf-8 but not valid utf-8: read as" in parsed.problem


def test_mis_declared_cyrillic_is_not_turned_into_mojibake() -> None:
    text = "Делегации России и Украины встретились в Стамбуле для третьего раунда переговоров"
    body = (
        rss(
            f"<item><title>{text}</title><description>{text}. {text}.</description></item>",
            declaration='<?xml version="1.0" encoding="utf-8"?>\n',
        )
        .decode("utf-8")
        .encode("windows-1251")
    )  # rss() gives UTF-8 bytes: re-encode them as the lie
    parsed = parse_feed(body, {"content-type": "application/rss+xml"}, URL)
    assert parsed.entries[0].title == text
    assert parsed.problem is not None and "read as cp1251" in parsed.problem


def test_text_xml_without_charset_is_not_reported_as_a_problem() -> None:
    body = rss(CYRILLIC_ITEM).decode().encode("utf-8")
    assert parse_with_feedparser(body, {"content-type": "text/xml"}, URL).problem is None


def test_http_charset_that_disagrees_with_the_document_is_left_to_feedparser() -> None:
    body = rss(CYRILLIC_ITEM, declaration='<?xml version="1.0" encoding="windows-1251"?>\n').decode()
    encoded = body.encode("windows-1251")
    assert parse_fast(encoded, {"content-type": "application/rss+xml; charset=utf-8"}, URL) is None
    assert parse_fast(encoded, {"content-type": "application/rss+xml; charset=cp1251"}, URL) is not None


# =====================================================================================================
# JSON Feed
# =====================================================================================================


def test_json_feed_10_with_author_object_and_numeric_ids() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1",
        "title": "Tracker",
        "author": {"name": "Desk"},
        "items": [
            {
                "id": 17,
                "url": "https://tracker.example.org/17",
                "content_text": "Talks resumed.",
                "date_published": "2024-06-01T10:00:00+02:00",
            }
        ],
    }
    parsed = parse_feed(json.dumps(document).encode(), {"content-type": "application/feed+json"}, URL)
    assert parsed.parser == "json" and parsed.format == "json1"
    entry = parsed.entries[0]
    assert (entry.guid, entry.author, entry.content) == ("17", "Desk", "Talks resumed.")
    assert not entry.content_html
    assert entry.published == datetime(2024, 6, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'{"title": "not a feed", "items": []}', {}),
        (b"[1, 2, 3]", {"content-type": "application/json"}),
        (b'{"version": "https://example.org/other", "items": []}', {"content-type": "application/json"}),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": "nope"}', {}),
    ],
)
def test_json_that_is_not_a_json_feed(body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(NotAFeedError):
        parse_feed(body, headers, URL)


def test_broken_json_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="invalid JSON") as caught:
        parse_json_feed(b'{"version": "https://jsonfeed.org/version/1.1", "items": [', {}, URL)
    assert not isinstance(caught.value, NotAFeedError)


def test_xml_served_as_json_is_read_as_xml() -> None:
    assert parse_feed(ONE_ITEM, {"content-type": "application/json"}, URL).format == "rss20"


# =====================================================================================================
# Links, guids, languages (what feedparser does, on both paths)
# =====================================================================================================


@pytest.mark.parametrize("parse", [parse_fast, parse_with_feedparser])
def test_relative_links_resolve_against_xml_base_and_the_document_url(parse: Callable[..., Any]) -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://wire.example.com/peace/">'
        b"<title>w</title><id>urn:f</id>"
        b'<entry xml:base="sub/"><title>a</title><id>urn:a</id><link href="story-a"/></entry>'
        b'<entry><title>b</title><id>urn:b</id><link href="/root/story-b"/></entry>'
        b"</feed>"
    )
    parsed = parse(body, {"content-type": "application/atom+xml"}, URL)
    assert [entry.link for entry in parsed.entries] == [
        "https://wire.example.com/peace/sub/story-a",
        "https://wire.example.com/root/story-b",
    ]


@pytest.mark.parametrize("parse", [parse_fast, parse_with_feedparser])
def test_permalink_guid_is_the_link_when_there_is_none(parse: Callable[..., Any]) -> None:
    body = rss(
        "<item><title>a</title><guid>/p/1</guid></item>"
        '<item><title>b</title><guid isPermaLink="false">/p/2</guid></item>'
        "<item><title>c</title><link>https://news.example.org/c</link><guid>/p/3</guid></item>"
    )
    entries = parse(body, RSS_HEADERS, URL).entries
    assert [(entry.guid, entry.link) for entry in entries] == [
        ("https://news.example.org/p/1", "https://news.example.org/p/1"),
        ("/p/2", None),
        ("https://news.example.org/p/3", "https://news.example.org/c"),
    ]


@pytest.mark.parametrize("parse", [parse_fast, parse_with_feedparser])
def test_languages_from_elements_and_xml_lang(parse: Callable[..., Any]) -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="uk"><title>w</title><id>urn:f</id>'
        b"<entry><title>a</title><id>urn:a</id></entry>"
        b'<entry xml:lang="en-GB"><title>b</title><id>urn:b</id></entry></feed>'
    )
    parsed = parse(body, {"content-type": "application/atom+xml"}, URL)
    assert parsed.language == "uk"
    assert [entry.language for entry in parsed.entries] == ["uk", "en-GB"]


# =====================================================================================================
# The fast path: what it takes, what it leaves to feedparser
# =====================================================================================================


@pytest.mark.parametrize(
    "body",
    [
        rss("<item><title>unclosed</item>"),
        b'<?xml version="1.0"?><sitemap/>',
        rss("<item><title>t</title><item><title>nested</title></item></item>"),
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title>'
        b'<content type="application/octet-stream">aGVsbG8=</content></entry></feed>',
        b'<feed xmlns="http://purl.org/atom/ns#" version="0.3"><entry><title>Atom 0.3</title></entry></feed>',
        rss("<item><title>t &eacute;</title></item>"),
        rss("<item><title>t</title><description>raw <b>markup</b> in RSS</description></item>"),
    ],
    ids=[
        "malformed",
        "unknown root",
        "nested item",
        "base64 content",
        "atom 0.3",
        "html entity",
        "unescaped markup",
    ],
)
def test_fast_path_declines_what_it_cannot_promise(body: bytes) -> None:
    assert parse_fast(body, {"content-type": "application/xml"}, URL) is None


def test_fast_path_takes_a_typical_feed() -> None:
    parsed = parse_fast(ONE_ITEM, RSS_HEADERS, URL)
    assert parsed is not None and parsed.parser == "fast" and parsed.format == "rss20"
    assert parsed.entries[0].title == "Talks resume"


def test_parse_feed_says_which_parser_it_used() -> None:
    assert parse_feed(ONE_ITEM, RSS_HEADERS, URL).parser == "fast"
    assert parse_feed(rss("<item><title>&eacute;</title></item>"), RSS_HEADERS, URL).parser == "feedparser"
    json_feed = b'{"version": "https://jsonfeed.org/version/1.1", "items": []}'
    assert parse_feed(json_feed, {}, URL).parser == "json"


_URL_PIECES = st.sampled_from(
    [*"abcXYZ019-._~%!$&'()*+,;=:@/?#[] \\\"<>{}", "é", "п", "%2F", "%zz", "//", "/../"]
)


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
    host=st.sampled_from(["news.example.org", "NEWS.example.org", "x", "", "[::1]", "a_b.c"]),
    port=st.sampled_from(["", ":80", ":8443", ":"]),
    rest=st.lists(_URL_PIECES, max_size=20).map("".join),
    base=st.sampled_from(["https://news.example.org/feeds/main.xml", "http://x.example/a/b/", ""]),
)
def test_url_joining_shortcut_agrees_with_feedparser(
    scheme: str, host: str, port: str, rest: str, base: str
) -> None:
    uri = (f"{scheme}://" if scheme else "") + host + port + rest
    assert _join_url(base, uri) == _urljoin(base, uri)


@settings(max_examples=300, deadline=None)
@given(
    uri=st.lists(_URL_PIECES, max_size=12).map("".join)
    | st.sampled_from(["https://news.example.org/a?b=1", "HTTP://x.example/", "https://x.example:8443/p;q"]),
    base=st.sampled_from(
        ["https://news.example.org/feeds/main.json", "http://[::1/feed", "https://ü.example/", ""]
    ),
)
def test_json_feed_url_shortcut_agrees_with_urljoin(uri: str, base: str) -> None:
    text = uri.strip()
    try:
        expected = (urljoin(base, text) if base else text) if text else None
    except ValueError:
        expected = None
    assert _json_url(uri, base) == expected


def test_fast_path_is_much_faster_than_feedparser() -> None:
    items = "".join(
        f"<item><title>Ceasefire talks, day {i}</title><link>https://news.example.org/{i}?utm_source=rss</link>"
        f"<guid isPermaLink='false'>story-{i}</guid><pubDate>Tue, 04 Jun 2024 10:{i:02d}:00 GMT</pubDate>"
        f"<description><![CDATA[<p>Delegations met again on day {i} &amp; agreed to continue.</p>]]>"
        f"</description><category>Talks</category></item>"
        for i in range(60)
    )
    body = rss(items)

    def best_of(parse: Callable[..., Any], rounds: int) -> float:
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            normalise_feed("bench", parse(body, RSS_HEADERS, URL), now=GOLDEN_NOW)
            timings.append(time.perf_counter() - started)
        return min(timings)

    assert best_of(parse_fast, 5) * 3 < best_of(parse_with_feedparser, 2)


_HTML_PIECES = st.sampled_from(
    [*"<>/&#; abpix19", "script", "nbsp", "amp", "foo", "</b>", "<p>", "&amp;", "&#8217;", "</blink>", "&zz;"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_HTML_PIECES, max_size=12).map("".join))
def test_html_guess_agrees_with_feedparser(text: str) -> None:
    assert _looks_like_html(text) == _FeedParserMixin.looks_like_html(text)


# --- the date shortcut must read dates as feedparser does ------------------------------------------

_TWO_DIGITS = st.integers(0, 99).map(lambda n: f"{n:02d}") | st.sampled_from(["7", "60", "29", "31"])
_YEARS = st.sampled_from(["2025", "1999", "0000", "0001", "9999", "1970"])
_W3DTF_STRINGS = st.builds(
    "{}-{}-{}{}{}:{}:{}{}{}".format,
    _YEARS,
    _TWO_DIGITS,
    _TWO_DIGITS,
    st.sampled_from(["T", "t", " "]),
    _TWO_DIGITS,
    _TWO_DIGITS,
    _TWO_DIGITS,
    st.sampled_from(["", ".5", ".123456789", ".9999999999999"]),
    st.sampled_from(["Z", "z", "+02:00", "-05:30", "+99:99", "-00:00", "+0200", ""]),
)
_RFC822_STRINGS = st.builds(
    "{}{} {} {} {}:{}:{} {}".format,
    st.sampled_from(["Mon, ", "Sat, ", "Thu, ", "Tue, ", "Sun ", ""]),
    _TWO_DIGITS | st.sampled_from(["1", "9"]),
    st.sampled_from(["Jan", "Feb", "May", "Oct", "Dec", "JUN", "Sept"]),
    _YEARS,
    _TWO_DIGITS,
    _TWO_DIGITS,
    _TWO_DIGITS,
    st.sampled_from(["GMT", "UT", "Z", "EDT", "PST", "MEST", "A", "Y", "XYZ", "gmt"])
    | st.sampled_from(["+0200", "-0530", "+9959"]),
)


@settings(max_examples=500, deadline=None)
@given(_W3DTF_STRINGS | _RFC822_STRINGS)
def test_date_shortcut_reads_dates_as_feedparser_does(text: str) -> None:
    assert _parse_feed_date(text) == _struct_to_datetime(_parse_date(text))


@pytest.mark.parametrize(
    "text",
    [
        "2025-06-01T23:59:59Z",
        "2025-06-01T24:00:00Z",
        "2025-06-01T12:60:00+02:00",
        "2025-06-01T12:00:60-05:30",
        "2025-02-29T10:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "Sun, 01 Jun 2025 24:00:00 GMT",
        "1 Jun 2025 23:59:59 +0000",
        "01 Jun 2025 12:00:60 EDT",
    ],
)
def test_date_shortcut_at_the_edges_of_the_ranges(text: str) -> None:
    assert _parse_feed_date(text) == _struct_to_datetime(_parse_date(text))


def test_date_shortcut_examples() -> None:
    assert _parse_feed_date("Sun, 01 Jun 2025 08:23:41 +0200") == datetime(2025, 6, 1, 6, 23, 41, tzinfo=UTC)
    assert _parse_feed_date("2025-06-01T06:27:29.5-05:30") == datetime(2025, 6, 1, 11, 57, 29, tzinfo=UTC)
    assert _parse_feed_date("31 Feb 2025 08:00:00 GMT") is None  # out of range: feedparser finds nothing


@pytest.mark.parametrize(
    ("base", "uri"),
    [
        (URL, "urn:uuid:e0cb071c-0402-5ff1-9a0a-25c4cbded4c3"),
        (URL, "tag:example.org,2025:item-7"),
        (URL, "TAG:example.org,2025:item-7"),
        (URL, "urn://not-opaque/x"),
        ("http://[::1/feed", "urn:uuid:1"),  # a base urllib cannot parse: feedparser gives ""
        ("http://[::1/feed", "https://example.org/a"),
        ("", "tag:x,2025:1"),
    ],
)
def test_url_joining_shortcuts_agree_with_feedparser(base: str, uri: str) -> None:
    assert _join_url(base, uri) == _urljoin(base, uri)


def test_the_fast_path_resolves_urls_where_feedparser_does() -> None:
    # The fast path joins link, id and href against the base and nothing else it reads.
    resolved = set(_FeedParserMixin.can_be_relative_uri)
    assert {"link", "id", "href"} <= resolved
    assert resolved.isdisjoint({"title", "summary", "description", "content", "author", "language"})
    assert resolved.isdisjoint({"published", "updated", "pubdate", "dc_date", "name", "email"})
