"""aggregator.normalise: canonical URLs (with property tests), plain text, keys, dates, hashes."""

from __future__ import annotations

import dataclasses
import hashlib
import random
import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest
from feedparser.sanitizer import _HTMLSanitizer
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator import normalise
from aggregator.models import ParsedFeed, RawEntry
from aggregator.normalise import (
    TRACKING_PARAMETERS,
    canonical_url,
    clean_text,
    html_to_text,
    normalise_entries,
    normalise_feed,
)

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)


def feed_of(*entries: RawEntry, language: str | None = None) -> ParsedFeed:
    return ParsedFeed(format="rss20", parser="fast", language=language, entries=tuple(entries))


def one(entry: RawEntry, **feed: str | None) -> normalise.Item:
    items = normalise_entries("desk", feed_of(entry, **feed), now=NOW)
    assert len(items) == 1
    return items[0]


STORY = RawEntry(
    guid="story-1",
    link="https://news.example.org/a?utm_source=rss",
    title="Talks resume",
    summary="<p>Delegations met in <b>Geneva</b>.</p>",
    summary_html=True,
    published=datetime(2024, 6, 14, 9, 0, tzinfo=UTC),
)


# =====================================================================================================
# canonical_url
# =====================================================================================================


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://News.Example.ORG/a/b", "https://news.example.org/a/b"),
        ("http://news.example.org:80/", "http://news.example.org/"),
        ("https://news.example.org:443", "https://news.example.org/"),
        ("https://news.example.org:8443/x", "https://news.example.org:8443/x"),
        ("https://news.example.org/a#section-2", "https://news.example.org/a"),
        (
            "https://news.example.org/a?utm_source=rss&utm_medium=feed&id=7&fbclid=x&gclid=y",
            "https://news.example.org/a?id=7",
        ),
        ("https://news.example.org/a?UTM_Campaign=x&b=2&a=1&a=0", "https://news.example.org/a?a=1&a=0&b=2"),
        (
            "https://news.example.org/%7euser/%e2%82%ac?q=%7e%2f",
            "https://news.example.org/~user/%E2%82%AC?q=~%2F",
        ),
        ("https://news.example.org/a b/ü", "https://news.example.org/a%20b/%C3%BC"),
        ("https://news.example.org/a/./b/../c", "https://news.example.org/a/c"),
        ("https://user:secret@news.example.org/a", "https://news.example.org/a"),
        ("https://пример.укр/новини", "https://xn--e1afmkfd.xn--j1amh/%D0%BD%D0%BE%D0%B2%D0%B8%D0%BD%D0%B8"),
        ("https://xn--e1afmkfd.xn--j1amh/", "https://xn--e1afmkfd.xn--j1amh/"),
        ("https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"),
        ("  https://news.example.org/trim  ", "https://news.example.org/trim"),
        ("https://news.example.org/a?", "https://news.example.org/a"),
        ("https://news.example.org/a?&&x=1&", "https://news.example.org/a?x=1"),
    ],
)
def test_canonical_url_examples(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "javascript:alert(1)",
        "mailto:desk@example.org",
        "ftp://x.example/f",
        "data:text/html,hi",
        "//news.example.org/a",
        "/relative/path",
        "https://",
        "https://exa mple.org/",
        "https://news.example.org:99999/",
        "http://[::1/",
    ],
)
def test_canonical_url_rejects_what_is_not_an_http_address(raw: str | None) -> None:
    assert canonical_url(raw) is None


def test_tracking_parameters_are_a_documented_tuple() -> None:
    assert isinstance(TRACKING_PARAMETERS, tuple)
    assert {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "yclid",
        "_hsenc",
        "_hsmi",
        "igshid",
        "mkt_tok",
        "ref_src",
        "ocid",
        "cmpid",
        "ito",
    } <= set(TRACKING_PARAMETERS)


_KEYS = st.text(st.sampled_from("abcdefgxyz_"), min_size=1, max_size=6)
_VALUES = st.text(st.sampled_from("abc019-._~%+é/=:"), max_size=8)  # no raw spaces: URLs get stripped
_TRACKERS = st.sampled_from([*TRACKING_PARAMETERS, "utm_source", "UTM_Medium", "utm_x", "Fbclid"])
_PATH_SEGMENTS = st.sampled_from(["a", "B", "%7e", "%2F", "..", ".", "ü", "x y", "%zz", ""])
_PATHS = st.lists(_PATH_SEGMENTS, max_size=5).map("/".join)


@st.composite
def urls(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(st.sampled_from(["news.example.org", "NEWS.Example.org", "пример.укр", "127.0.0.1", "[::1]"]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    keys = draw(st.lists(_KEYS, unique=True, max_size=4))
    params = [(key, draw(_VALUES)) for key in keys]
    params += [(tracker, draw(_VALUES)) for tracker in draw(st.lists(_TRACKERS, max_size=3))]
    fragment = draw(st.sampled_from(["", "#top", "#!/spa/route", "#a?b=c"]))
    return f"{scheme}://{host}{port}/{draw(_PATHS)}", [*params, ("", fragment)]


def _build(base: str, params: list[tuple[str, str]]) -> str:
    fragment = next(value for key, value in params if key == "")
    query = "&".join(f"{key}={value}" for key, value in params if key)
    return base + ("?" + query if query else "") + fragment


@settings(max_examples=300, deadline=None)
@given(urls())
def test_canonical_url_is_idempotent(case: tuple[str, list[tuple[str, str]]]) -> None:
    canonical = canonical_url(_build(*case))
    assert canonical is not None
    assert canonical_url(canonical) == canonical


@settings(max_examples=300, deadline=None)
@given(urls())
def test_tracking_parameters_and_fragments_never_survive(case: tuple[str, list[tuple[str, str]]]) -> None:
    canonical = canonical_url(_build(*case))
    assert canonical is not None
    parts = urlsplit(canonical)
    assert parts.fragment == "" and "#" not in canonical
    names = {name.lower() for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    assert not names & set(TRACKING_PARAMETERS)
    assert not any(name.startswith("utm_") for name in names)


@settings(max_examples=300, deadline=None)
@given(urls(), st.randoms(use_true_random=False))
def test_query_parameter_order_does_not_matter(
    case: tuple[str, list[tuple[str, str]]], rng: random.Random
) -> None:
    base, params = case
    shuffled = params[:]
    rng.shuffle(shuffled)
    assert canonical_url(_build(base, params)) == canonical_url(_build(base, shuffled))


@settings(max_examples=300, deadline=None)
@given(urls())
def test_canonical_url_parses_as_http_with_a_lower_case_host(case: tuple[str, list[tuple[str, str]]]) -> None:
    canonical = canonical_url(_build(*case))
    assert canonical is not None
    parts = urlsplit(canonical)
    assert parts.scheme in ("http", "https")
    assert parts.hostname and parts.hostname == parts.hostname.lower()
    assert parts.netloc.isascii() and canonical.isascii()
    assert parts.path.startswith("/")


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80) | st.text(max_size=40).map(lambda tail: "https://" + tail))
def test_canonical_url_never_raises_and_is_idempotent_on_arbitrary_text(text: str) -> None:
    canonical = canonical_url(text)
    if canonical is not None:
        assert canonical_url(canonical) == canonical
        assert urlsplit(canonical).scheme in ("http", "https")


# =====================================================================================================
# Plain text
# =====================================================================================================


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>One</p><p>Two</p>", "One\nTwo"),
        ("Line<br>break<br/>again<BR />end", "Line\nbreak\nagain\nend"),
        ("<div>a <b>bold</b>  and\n  <i>spaced</i>\ttext</div>", "a bold and spaced text"),
        ("<ul><li>first</li><li>second</li></ul>", "first\nsecond"),
        ("<table><tr><td>cell</td><td>next</td></tr></table>", "cell next"),
        ("Before<script type='text/javascript'>var x = '<p>';</script>After", "BeforeAfter"),
        ("<style>p { color: red }</style>Visible", "Visible"),
        ("AT&amp;T &lt;tag&gt; &quot;q&quot; &#8217; &#x2014; &eacute; &nbsp;x", 'AT&T <tag> "q" ’ — é x'),
        ("Tom &amp;amp; Jerry &amp;#8217;s", "Tom & Jerry ’s"),
        ("&#150; cp1252 dash &#0; &#xD800;", "– cp1252 dash \ufffd \ufffd"),
        ("x < y and y > z", "x < y and y > z"),
        ('<a href="/x" title="a > b">link</a> text', "link text"),
        ("<![CDATA[raw]]>", "<![CDATA[raw]]>"),
        ("unclosed <script>alert(1)", "unclosed"),
        ("&lt;b&gt;escaped markup&lt;/b&gt;", "escaped markup"),
        ("", ""),
    ],
)
def test_html_to_text(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


def test_comments_are_dropped() -> None:
    assert html_to_text("Kept<!-- a <p>comment</p> --> text") == "Kept text"


def test_block_elements_are_ones_feedparsers_sanitiser_keeps() -> None:
    # Otherwise the two parse paths would give different line breaks for the same HTML.
    names = normalise._BLOCK_TAGS.replace("h[1-6]", "h1|h2|h3|h4|h5|h6").split("|")
    assert set(names) <= _HTMLSanitizer.acceptable_elements


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("evil\u202egnp.exe\u202c and \u2066isolate\u2069", "evilgnp.exe and isolate"),
        (
            "zero\u200bwidth\u200c\u200d\ufeff soft\u00adhyphen word\u2060joiner",
            "zerowidth softhyphen wordjoiner",
        ),
        ("marks\u200e\u200f\u061c gone", "marks gone"),
        ("bell\x07 null\x00 esc\x1b del\x7f c1\x85x", "bell null esc del c1\nx"),
        ("tab\tand  spaces\u00a0\u2003wide", "tab and spaces wide"),
        ("  line one \r\n\r\n\n line two \u2028line three  ", "line one\nline two\nline three"),
        ("cafe\u0301", "café"),
        ("", ""),
    ],
)
def test_clean_text(text: str, expected: str) -> None:
    assert clean_text(text) == expected


def test_clean_text_is_nfc() -> None:
    assert unicodedata.is_normalized("NFC", clean_text("Ukrai\u0308ne \u0438\u0306"))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_clean_text_removes_every_control_and_direction_character(text: str) -> None:
    cleaned = clean_text(text)
    forbidden = (
        set(range(0x00, 0x0A))
        | set(range(0x0B, 0x20))
        | set(range(0x7F, 0xA0))
        | {
            0x200B,
            0x200C,
            0x200D,
            0x200E,
            0x200F,
            0x202A,
            0x202B,
            0x202C,
            0x202D,
            0x202E,
            0x2066,
            0x2067,
            0x2068,
            0x2069,
            0xFEFF,
            0x00AD,
        }
    )
    assert not {ord(char) for char in cleaned} & forbidden
    assert clean_text(cleaned) == cleaned
    assert "  " not in cleaned and "\n\n" not in cleaned


# The characters where the fast path of clean_text could go wrong: every kind of space and line break,
# controls, invisible characters, combining marks, non-ASCII letters.
_TRICKY_TEXT = st.text(
    alphabet=st.sampled_from(
        list("ab Z.,\n\r\t\x0b\x0c\x00\x1f\x7f\x85\xa0\xad\u0301\u061c\u1680\u180e\u2000\u2001\u2003")
        + list(
            "\u200b\u200e\u2028\u2029\u202e\u2060\u2066\u3000\ufeff\ufffe\u0438\u0306\u00e9\u4e2d\U0001f600"
        )
    )
    | st.characters(),
    max_size=60,
)


def _clean_text_line_by_line(text: str) -> str:
    """clean_text's definition, written the plain way: every line on its own."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\x85", "\n")
    lines = []
    for line in text.split("\n"):
        if not line.isprintable():
            line = normalise._INVISIBLE.sub("", line)
        line = " ".join(line.split())
        if line:
            lines.append(line)
    return unicodedata.normalize("NFC", "\n".join(lines))


@settings(max_examples=500, deadline=None)
@given(_TRICKY_TEXT)
def test_clean_text_equals_cleaning_line_by_line(text: str) -> None:
    assert clean_text(text) == _clean_text_line_by_line(text)


@settings(max_examples=300, deadline=None)
@given(_TRICKY_TEXT)
def test_clean_text_leaves_single_spaces_and_line_breaks_only(text: str) -> None:
    # _item turns a title into one line by replacing the line breaks, which relies on this.
    cleaned = clean_text(text)
    assert " ".join(cleaned.split()) == cleaned.replace("\n", " ")


def test_plain_text_fields_decode_entities_and_lose_known_tags() -> None:
    item = one(RawEntry(guid="g", title="Talks &amp;amp; <b>more</b> <script>x()</script>: x < y"))
    assert item.title == "Talks & more : x < y"


def test_lengths_are_capped_on_a_word_boundary() -> None:
    long_words = " ".join(["ceasefire"] * 3000)  # 29,999 characters
    item = one(RawEntry(guid="g", title=long_words, summary=long_words, content=long_words * 5))
    assert len(item.title) <= 1000 and item.title.endswith("ceasefire…")
    assert len(item.summary) <= 10_000 and item.summary.endswith("ceasefire…")
    assert item.content is not None and len(item.content) <= 100_000 and item.content.endswith("…")
    assert item.content.rstrip("…").endswith("ceasefire")


# =====================================================================================================
# Items: summary, content, title, author, language
# =====================================================================================================


def test_summary_falls_back_to_the_start_of_the_content() -> None:
    content = "<p>" + " ".join(["talks"] * 400) + "</p>"
    item = one(RawEntry(guid="g", title="t", content=content, content_html=True))
    assert item.summary.startswith("talks talks") and item.summary.endswith("…")
    assert len(item.summary) <= normalise.SUMMARY_FROM_CONTENT_CHARS
    assert item.content == " ".join(["talks"] * 400)


def test_content_equal_to_the_summary_is_not_kept_twice() -> None:
    item = one(
        RawEntry(
            guid="g",
            title="t",
            summary="<p>Same text.</p>",
            summary_html=True,
            content="Same   text.",
            content_html=False,
        )
    )
    assert item.summary == "Same text." and item.content is None


def test_title_comes_from_the_summary_when_the_feed_has_none() -> None:
    item = one(RawEntry(guid="g", summary="Negotiators agreed on a prisoner exchange. " * 10))
    assert item.title.startswith("Negotiators agreed") and len(item.title) <= 160


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("desk@example.org (News Desk)", "News Desk"),
        ("Olena Koval (o.koval@example.org)", "Olena Koval"),
        ("Ivan Petrenko <ivan@example.org>", "Ivan Petrenko"),
        ("only@example.org", None),
        ("  Marta   Hlushko ", "Marta Hlushko"),
        (None, None),
    ],
)
def test_author_is_a_display_name(author: str | None, expected: str | None) -> None:
    assert one(RawEntry(guid="g", title="t", author=author)).author == expected


def test_author_names_are_remembered_only_for_short_bylines() -> None:
    normalise._AUTHOR_NAMES.clear()  # a cache: earlier tests may have filled it
    byline = "desk@example.org (Remembered Desk)"
    assert normalise._author(byline) == normalise._author(byline) == "Remembered Desk"
    assert normalise._AUTHOR_NAMES[byline] == "Remembered Desk"
    long_byline = "Olena " * 100
    assert normalise._author(long_byline) == normalise._author_name(long_byline)
    assert long_byline not in normalise._AUTHOR_NAMES


def test_language_is_the_entrys_else_the_feeds_lower_cased() -> None:
    assert one(RawEntry(guid="g", title="t", language="en-GB"), language="uk").language == "en-gb"
    assert one(RawEntry(guid="g", title="t"), language="RU_ru").language == "ru-ru"
    assert one(RawEntry(guid="g", title="t", language="not a tag!"), language="uk").language == "uk"
    assert one(RawEntry(guid="g", title="t")).language is None


def test_url_is_kept_only_for_http_links() -> None:
    assert one(RawEntry(guid="g", title="t", link="javascript:alert(1)")).url is None
    item = one(RawEntry(guid="g", title="t", link=" https://news.example.org/a?utm_source=x "))
    assert item.url == "https://news.example.org/a?utm_source=x"
    assert item.canonical_url == "https://news.example.org/a"


# =====================================================================================================
# Dates
# =====================================================================================================


@pytest.mark.parametrize(
    ("published", "updated", "expected", "flag"),
    [
        (datetime(2024, 6, 1, tzinfo=UTC), None, datetime(2024, 6, 1, tzinfo=UTC), None),
        (None, datetime(2024, 6, 2, tzinfo=UTC), datetime(2024, 6, 2, tzinfo=UTC), None),
        (None, None, NOW, "missing"),
        (datetime(1989, 12, 31, tzinfo=UTC), None, NOW, "before_1990"),
        (NOW + timedelta(days=1, seconds=1), None, NOW, "future"),
        (NOW + timedelta(hours=23), None, NOW + timedelta(hours=23), None),
        (
            datetime(1970, 1, 1, tzinfo=UTC),
            datetime(2024, 6, 3, tzinfo=UTC),
            datetime(2024, 6, 3, tzinfo=UTC),
            None,
        ),
        (
            datetime(2024, 6, 1, 12, tzinfo=timezone(timedelta(hours=3))),
            None,
            datetime(2024, 6, 1, 9, tzinfo=UTC),
            None,
        ),
    ],
)
def test_dates(
    published: datetime | None, updated: datetime | None, expected: datetime, flag: str | None
) -> None:
    item = one(RawEntry(guid="g", title="t", published=published, updated=updated))
    assert (item.published, item.date_flag) == (expected, flag)
    assert item.published.utcoffset() == timedelta(0)


def test_unusable_updated_is_dropped() -> None:
    item = one(
        RawEntry(
            guid="g",
            title="t",
            published=datetime(2024, 6, 1, tzinfo=UTC),
            updated=datetime(2099, 1, 1, tzinfo=UTC),
        )
    )
    assert item.updated is None and item.date_flag is None


# =====================================================================================================
# Keys, skipped entries
# =====================================================================================================


def test_key_is_the_guid_else_the_link_else_a_hash_of_the_text() -> None:
    items = normalise_entries(
        "desk",
        feed_of(
            RawEntry(guid="  guid-1 ", link="https://news.example.org/1", title="a"),
            RawEntry(link="https://News.example.org/2?utm_source=x#frag", title="b"),
            RawEntry(title="c", summary="only text"),
        ),
        now=NOW,
    )
    assert [item.key for item in items][:2] == ["guid-1", "https://news.example.org/2"]
    assert items[2].key.startswith("text:") and len(items[2].key) == len("text:") + 32


def test_repeated_guids_are_disambiguated_deterministically() -> None:
    entries = (
        RawEntry(guid="dup", link="https://news.example.org/1", title="First"),
        RawEntry(guid="dup", link="https://news.example.org/2", title="Second"),
        RawEntry(guid="dup", link="https://news.example.org/2", title="Second"),
        RawEntry(guid="dup#x", title="Unrelated"),
    )
    keys = [item.key for item in normalise_entries("desk", feed_of(*entries), now=NOW)]
    assert keys[0] == "dup"
    assert keys[1].startswith("dup#") and keys[2] == keys[1] + "-2"
    assert len(set(keys)) == 4
    again = [item.key for item in normalise_entries("desk", feed_of(*entries), now=NOW + timedelta(hours=1))]
    assert again == keys


def test_entries_with_nothing_to_show_are_skipped_and_counted() -> None:
    result = normalise_feed(
        "desk",
        feed_of(
            RawEntry(guid="g", title="kept"),
            RawEntry(summary="   ", content="<p> </p>", content_html=True),
            RawEntry(link="javascript:void(0)"),
            RawEntry(),
        ),
        now=NOW,
    )
    assert [item.title for item in result.items] == ["kept"]
    assert result.skipped == 3


# =====================================================================================================
# Fingerprint and content hash
# =====================================================================================================


def test_the_same_story_text_gives_the_same_fingerprint() -> None:
    a = one(
        RawEntry(
            guid="a",
            title="Grain corridor reopens!",
            summary="<p>Ships left — at dawn.</p>",
            summary_html=True,
        )
    )
    b = one(
        RawEntry(
            guid="b",
            link="https://other.example.com/x",
            title="GRAIN CORRIDOR REOPENS",
            summary="Ships left, at   dawn",
            author="Someone else",
        )
    )
    c = one(RawEntry(guid="c", title="Grain corridor reopens", summary="Ships left at noon"))
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert len(a.fingerprint) == 32 and int(a.fingerprint, 16) >= 0


def test_cyrillic_story_text_folds_the_same_way() -> None:
    a = one(RawEntry(guid="a", title="Обмен пленными «всех на всех»", summary="Стороны согласовали списки…"))
    b = one(RawEntry(guid="b", title="ОБМЕН ПЛЕННЫМИ: всех на всех", summary="Стороны согласовали списки"))
    assert a.fingerprint == b.fingerprint


@settings(max_examples=300, deadline=None)
@given(_TRICKY_TEXT, _TRICKY_TEXT)
def test_fingerprint_folds_runs_of_separators_like_splitting_into_words(title: str, summary: str) -> None:
    text = f"{title} {summary}".casefold()
    if not text.isascii():
        text = normalise._FOLD_MARKS.sub(" ", text)
    folded = text.encode("utf-8", "surrogatepass").translate(normalise._FOLD_ASCII)
    expected = hashlib.sha256(b" ".join(folded.split())).hexdigest()[:32]
    assert normalise._fingerprint(title, summary) == expected


def test_content_hash_changes_exactly_when_a_stored_field_changes() -> None:
    base = one(STORY)
    assert one(STORY).content_hash == base.content_hash
    later = normalise_entries("desk", feed_of(STORY), now=NOW + timedelta(days=3))[0]
    assert later.content_hash == base.content_hash
    undated = dataclasses.replace(STORY, published=None)
    assert (
        normalise_entries("desk", feed_of(undated), now=NOW)[0].content_hash
        == normalise_entries("desk", feed_of(undated), now=NOW + timedelta(hours=5))[0].content_hash
    )
    revisions = [
        dataclasses.replace(STORY, title="Talks resume in Geneva"),
        dataclasses.replace(STORY, summary="<p>Delegations met in <b>Vienna</b>.</p>"),
        dataclasses.replace(STORY, content="Full text"),
        dataclasses.replace(STORY, author="Marta"),
        dataclasses.replace(STORY, link="https://news.example.org/b"),
        dataclasses.replace(STORY, published=datetime(2024, 6, 14, 10, 0, tzinfo=UTC)),
        dataclasses.replace(STORY, updated=datetime(2024, 6, 14, 11, 0, tzinfo=UTC)),
    ]
    hashes = {one(revision).content_hash for revision in revisions}
    assert len(hashes) == len(revisions) and base.content_hash not in hashes
    # Markup that does not change the text is not a revision.
    same_text = dataclasses.replace(STORY, summary="<div>Delegations met in <i>Geneva</i>.</div>")
    assert one(same_text).content_hash == base.content_hash


def test_normalise_is_fast_enough_for_the_hot_path() -> None:
    entries = tuple(
        RawEntry(
            guid=f"g{i}",
            link=f"https://news.example.org/{i}?utm_source=rss",
            title=f"Переговоры, день {i}: делегации «согласовали» повестку",
            summary="<p>" + "Делегации встретились снова &amp; договорились продолжить. " * 5 + "</p>",
            summary_html=True,
            published=datetime(2024, 6, 1, tzinfo=UTC),
        )
        for i in range(200)
    )
    started = time.process_time()
    normalise_entries("desk", feed_of(*entries), now=NOW)
    assert time.process_time() - started < 1.0  # ~200 items: a generous bound, catches accidental O(n^2)


@settings(max_examples=500, deadline=None)
@given(urls(), st.sampled_from(["", "/a/./b", "/%7e", "/x.y/z", "//double"]))
def test_the_simple_url_shortcut_agrees_with_the_full_parse(
    case: tuple[str, list[tuple[str, str]]], extra_path: str
) -> None:
    url = _build(case[0].lower().rstrip("/") + extra_path, case[1])
    simple = normalise._SIMPLE_URL.fullmatch(url)
    if simple is not None and "/." not in (simple.group(3) or ""):
        assert normalise._canonical_simple(simple) == normalise._canonical(url)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "B", "=", "%7e", "%2F", "%26", "%zz", "%", "+", " ", "é", "?", "/", "&", "~"]),
        max_size=16,
    )
)
def test_query_escapes_normalised_at_once_split_like_each_parameter(pieces: list[str]) -> None:
    query = "".join(pieces)
    each = [normalise._normalise_escapes(part, normalise._QUERY_SAFE) for part in query.split("&")]
    assert normalise._normalise_escapes(query, normalise._QUERY_SAFE).split("&") == each


# --- the one-scan tag stripper must agree with the passes ------------------------------------------

_MARKUP_PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<br/>",
        "<P class='x'>",
        "<p-x>",
        "<p1>",
        "<pre>",
        "<h2>",
        "<h7>",
        "<td>",
        "<th>",
        "</TD>",
        "<thead>",
        "<tr>",
        '<a href="https://example.org/?a=1&amp;b=2">',
        "</a>",
        "<b>",
        "<span>",
        '<img alt="a > b">',
        "<div title='x<y'>",
        "<aſide>",
        "<ſection>",
        "<script>",
        "</script>",
        "<style>x</style>",
        "<applet>",
        "<!-- note -->",
        "<!--",
        "<!DOCTYPE x>",
        "<?pi x?>",
        "<",
        ">",
        '"',
        "'",
        " ",
        "  ",
        "\n",
        "text",
        "Київ",
        "&amp;",
        "&lt;b&gt;",
        "<o:p>",
        "<x.y>",
        "<_x>",
        "< p>",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_MARKUP_PIECES, max_size=14).map("".join))
def test_one_scan_tag_stripping_equals_the_passes(markup: str) -> None:
    reference = normalise._strip_tags_in_passes(markup)
    assert normalise._strip_tags(markup) == reference


@settings(max_examples=400, deadline=None)
@given(st.lists(_MARKUP_PIECES, max_size=14).map("".join))
def test_possessive_tag_patterns_find_the_tags_backtracking_ones_would(markup: str) -> None:
    backtracking = re.compile(normalise._TAG_SPLIT.pattern.replace("*+", "*"))
    assert "*+" in normalise._TAG_SPLIT.pattern
    assert normalise._TAG_SPLIT.split(markup) == backtracking.split(markup)


@pytest.mark.parametrize(
    "markup",
    [
        "<p>one</p><aſide>two</aſide>",  # "ſ" matches "s" under re.I: only the passes decide
        "<b title='a <p> b'>x</b>",  # a "<" that starts no tag
        "<p>a</p><script>hidden</script><p>b</p>",
        "<p>a<!-- c -->b</p>",
    ],
)
def test_markup_the_one_scan_declines_goes_through_the_passes(markup: str) -> None:
    assert normalise._strip_tags(markup) == normalise._strip_tags_in_passes(markup)
    assert normalise.html_to_text(markup) == normalise._plain_text(
        normalise._decode_entities(normalise._strip_tags_in_passes(markup)), decode=False
    )


def test_tidy_markup_is_classified_like_the_passes() -> None:
    markup = '<p class="a>b">one</p><td>x</td><th>y</th><h2>z</h2><em>w</em><p-x>v</p-x>'
    assert normalise._strip_tags(markup) == "\none\n x  y \nz\nw\nv\n"
    assert normalise._strip_tags(markup) == normalise._strip_tags_in_passes(markup)
