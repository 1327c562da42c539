"""Bytes to :class:`ParsedFeed`: JSON Feed, a fast lxml path, and feedparser as the reference.

``parse_feed`` is the entry point: JSON Feed is read with :mod:`json`; everything else first loses its
DOCTYPE (entity bombs), then goes through ``parse_fast`` (lxml, hardened) and, when the fast path is not
sure to read the document exactly as feedparser would, through ``parse_with_feedparser``. Markup beyond
what any feed uses (thousands of attributes on an element, elements nested hundreds deep), which would cost
a parser minutes, is refused on either path with a ParseError of its own reason (see MAX_ATTRIBUTES).

The fast path is an emulation of feedparser's element handlers for the elements that matter to a
RawEntry (title, link, id, summary, content, author, dates, language). It walks the lxml tree in
document order with the same state feedparser keeps (title depth, "has content", property depths,
xml:base and xml:lang scopes...) and gives up (returns None) on any element feedparser handles in a way
it does not mirror. It deliberately reuses feedparser's own small helpers (date parsing, URL joining, the
"does this look like HTML" guess, author e-mail splitting) so both paths decide identically; the
differential tests in tests/test_differential.py hold the two paths to the same normalised items.
"""

from __future__ import annotations

import calendar
import codecs
import contextlib
import html.entities
import io
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import charset_normalizer
import feedparser
from feedparser.datetimes import _parse_date
from feedparser.datetimes.rfc822 import timezone_names as rfc822_zone_hours
from feedparser.encodings import RE_XML_PI_ENCODING, convert_to_utf8, parse_content_type
from feedparser.exceptions import CharacterEncodingOverride, NonXMLContentType
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.sanitizer import _HTMLSanitizer
from feedparser.urls import _urljoin, make_safe_absolute_uri
from feedparser.util import FeedParserDict
from lxml import etree

from .errors import NotAFeedError, ParseError
from .models import ParsedFeed, RawEntry

log = logging.getLogger(__name__)

__all__ = [
    "parse_fast",
    "parse_feed",
    "parse_json_feed",
    "parse_with_feedparser",
    "strip_doctype",
]

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"text/plain", "text/html", "application/xhtml+xml"})
_JSON_TYPES = frozenset({"application/feed+json", "application/json"})


# =====================================================================================================
# Public entry points
# =====================================================================================================


def parse_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Parse a fetched body. Raises NotAFeedError (empty, HTML, not a feed) or ParseError (garbage)."""
    _reject_empty(body, url)
    if _is_json(body, headers):
        return parse_json_feed(body, headers, url)
    _reject_html(body, url)
    body, doctype_note = strip_doctype(body)
    fast = _parse_fast_prepared(body, headers, url)
    if fast is not None:
        return _with_problem(fast, doctype_note)
    body, headers, encoding_note = repair_encoding(body, headers)
    notes = "; ".join(note for note in (doctype_note, encoding_note) if note) or None
    return _parse_with_feedparser_prepared(body, headers, url, notes)


def parse_with_feedparser(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """The reference path: feedparser on the (DOCTYPE-stripped) bytes. It never fetches anything."""
    _reject_empty(body, url)
    _reject_html(body, url)
    body, doctype_note = strip_doctype(body)
    return _parse_with_feedparser_prepared(body, headers, url, doctype_note)


def parse_fast(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed | None:
    """lxml path for well-formed RSS 0.9x/2.0, RSS 1.0 and Atom 1.0; None when unsure to match feedparser.

    Raises ParseError (reason ``too_many_attributes``) for an element with more than MAX_ATTRIBUTES."""
    if not body or not body.strip():
        return None
    body, doctype_note = strip_doctype(body)
    parsed = _parse_fast_prepared(body, headers, url)
    return None if parsed is None else _with_problem(parsed, doctype_note)


# =====================================================================================================
# Sniffing: empty bodies, JSON, HTML pages, encodings
# =====================================================================================================

# BOMs and the "<?" / "<" patterns of the XML spec (appendix F) for encodings that are not ASCII-compatible.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_WIDE_MARKERS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x4c\x6f\xa7\x94", "cp037"),  # "<?xm" in EBCDIC
)


def _wide_codec(body: bytes) -> tuple[str | None, int]:
    """The codec of a body that is not ASCII-compatible (UTF-16/32, EBCDIC) and its BOM length."""
    for bom, codec in _BOMS:
        # feedparser's rule: FF FE 00 00 is UTF-32LE, not UTF-16LE followed by a NUL.
        if body.startswith(bom) and not (codec.startswith("utf-16") and body[2:4] == b"\x00\x00"):
            return codec, len(bom)
    for marker, codec in _WIDE_MARKERS:
        if body.startswith(marker):
            return codec, 0
    return None, 0


def _text_head(body: bytes, size: int = 4096) -> str:
    """The start of the body as text, good enough to look at markup (never raises)."""
    codec, bom = _wide_codec(body)
    if codec is None:
        head = body[:size]
        return head[3:].decode("latin-1") if head.startswith(codecs.BOM_UTF8) else head.decode("latin-1")
    return body[bom : bom + size * 4].decode(codec, "replace")


# NULs and BOM bytes count as nothing: a UTF-16 body of spaces is empty too.
_NOT_BLANK = re.compile(rb"[^ \t\r\n\x00\x0b\x0c\xef\xbb\xbf\xfe\xff]")


def _reject_empty(body: bytes, url: str) -> None:
    if _NOT_BLANK.search(body) is None:  # stops at the first byte that counts (bytes.strip would copy)
        raise NotAFeedError("empty body", url=url)


def _is_json(body: bytes, headers: Mapping[str, str]) -> bool:
    start = _text_head(body, 64).lstrip("\ufeff \t\r\n")
    if start.startswith("{"):
        return True
    mime, _ = parse_content_type(headers.get("content-type") or "")
    return mime.lower() in _JSON_TYPES and not start.startswith("<")


_MARKUP_SKIP = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.S)
_FIRST_TAG = re.compile(r"<!doctype\s+([a-z]+)|<([a-z][\w:.-]*)", re.I)


def _first_element(body: bytes) -> str | None:
    """Lower-cased name of the first element (or of an HTML DOCTYPE), skipping prolog noise."""
    head = _text_head(body).lstrip("\ufeff")
    pos = 0
    while (skip := _MARKUP_SKIP.match(head, pos)) is not None and skip.end() > pos:
        pos = skip.end()
    match = _FIRST_TAG.search(head, pos)
    if match is None:
        return None
    return (match.group(1) or match.group(2)).lower()


def _reject_html(body: bytes, url: str) -> None:
    if _first_element(body) in ("html", "head", "body"):
        raise NotAFeedError("an HTML page, not a feed", url=url)


def _with_problem(parsed: ParsedFeed, note: str | None) -> ParsedFeed:
    if not note:
        return parsed
    problem = note if not parsed.problem else f"{note}; {parsed.problem}"
    return _replace(parsed, problem=problem)


def _replace(parsed: ParsedFeed, **changes: Any) -> ParsedFeed:
    fields = {name: getattr(parsed, name) for name in ParsedFeed.__dataclass_fields__}
    fields.update(changes)
    return ParsedFeed(**fields)


# =====================================================================================================
# DOCTYPE stripping (entity expansion defence)
# =====================================================================================================

_ELEMENT_START = re.compile(rb"<\w")
_DTD_SPECIAL = re.compile(rb"[\"'<>\[\]]")
_DECL_SPECIAL = re.compile(rb"[\"'<>]")
_DOCTYPE_OPEN = re.compile(rb"<!doctype", re.I)
_ENTITY_DECL = re.compile(rb"<!entity", re.I)


def strip_doctype(body: bytes) -> tuple[bytes, str | None]:
    """Remove every DOCTYPE declaration (and stray markup declarations) before the root element.

    Internal subsets can declare entities that expand without limit in feedparser's fallback parser,
    so no parser ever sees them. Line breaks inside the removed text are kept so that error messages
    still point at the right line. Returns the new body and a note for ParsedFeed.problem (or None).
    """
    codec, bom = _wide_codec(body)
    if codec is None:
        return _strip_doctype_ascii(body)
    try:
        as_utf8 = body[bom:].decode(codec).encode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return body, None  # undecodable: no parser can read a declaration in it either
    stripped, note = _strip_doctype_ascii(as_utf8)
    if note is None:
        return body, None
    return body[:bom] + stripped.decode("utf-8").encode(codec), note


def _strip_doctype_ascii(data: bytes) -> tuple[bytes, str | None]:
    # The scan stops at the root element: a search of the whole body for "<!" would cost more.
    kept: list[bytes] = []
    notes: list[str] = []
    pos = copied = 0
    while (lt := data.find(b"<", pos)) >= 0:
        if data.startswith(b"<?", lt):
            pos = _find_end(data, b"?>", lt + 2)
        elif data.startswith(b"<!--", lt):
            pos = _find_end(data, b"-->", lt + 4)
        elif data.startswith(b"<!", lt):
            end, terminated = (
                _doctype_end(data, lt) if _DOCTYPE_OPEN.match(data, lt) else _declaration_end(data, lt)
            )
            notes.append(_describe_declaration(data[lt:end], terminated))
            kept += [data[copied:lt], b"\n" * data.count(b"\n", lt, end)]
            pos = copied = end
        elif _ELEMENT_START.match(data, lt):
            break
        else:
            pos = lt + 1  # a stray "<" in prolog junk
    if not notes:
        return data, None
    kept.append(data[copied:])
    return b"".join(kept), "; ".join(notes)


def _find_end(data: bytes, terminator: bytes, start: int) -> int:
    end = data.find(terminator, start)
    return len(data) if end < 0 else end + len(terminator)


def _doctype_end(data: bytes, start: int) -> tuple[int, bool]:
    """End of a DOCTYPE starting at ``start``: quotes, comments, PIs, nested declarations and brackets."""
    brackets = 0
    pos = start + len(b"<!doctype")
    while (match := _DTD_SPECIAL.search(data, pos)) is not None:
        char, at = match.group(), match.start()
        if char in (b'"', b"'"):
            close = data.find(char, at + 1)
            if close < 0:
                break
            pos = close + 1
        elif char == b"<":
            if data.startswith(b"<!--", at):
                pos = _find_end(data, b"-->", at + 4)
            elif data.startswith(b"<?", at):
                pos = _find_end(data, b"?>", at + 2)
            else:
                pos, terminated = _declaration_end(data, at)
                if not terminated:
                    break
        elif char == b"[":
            brackets += 1
            pos = at + 1
        elif char == b"]":
            brackets = max(0, brackets - 1)
            pos = at + 1
        elif brackets == 0:  # ">" outside the internal subset ends the DOCTYPE
            return at + 1, True
        else:
            pos = at + 1
    return len(data), False


def _declaration_end(data: bytes, start: int) -> tuple[int, bool]:
    """End of one markup declaration (``<!ENTITY ...>``, ``<![INCLUDE[...]]>``...), honouring quotes."""
    depth = 0
    pos = start
    while (match := _DECL_SPECIAL.search(data, pos)) is not None:
        char, at = match.group(), match.start()
        if char in (b'"', b"'"):
            close = data.find(char, at + 1)
            if close < 0:
                break
            pos = close + 1
        elif char == b"<":
            if data.startswith(b"<!--", at):
                pos = _find_end(data, b"-->", at + 4)
                continue
            depth += 1
            pos = at + 1
        else:
            depth -= 1
            pos = at + 1
            if depth <= 0:
                return pos, True
    return len(data), False


def _describe_declaration(declaration: bytes, terminated: bool) -> str:
    if not _DOCTYPE_OPEN.match(declaration):
        what = "a markup declaration outside a DOCTYPE removed"
    else:
        entities = len(_ENTITY_DECL.findall(declaration))
        what = "DOCTYPE declaration removed"
        if entities:
            what += f" with {entities} internal entit{'y' if entities == 1 else 'ies'} (not expanded)"
    return what if terminated else what + " (unterminated: the rest of the document went with it)"


# =====================================================================================================
# Markup limits: what a hostile document may cost
# =====================================================================================================

# No real feed comes near these. Feeds put a handful of attributes on an element (a root declaring
# namespaces, a media:content or an inline XHTML <img> a dozen or two), and nest a few levels; raw HTML left
# unclosed in an entry closes with that entry (see _check_markup). Beyond them parsing costs more than it can
# be worth: lxml's ``items()`` and feedparser's strict parser take time quadratic in the attributes of an
# element (20,000: 3 resp. 9 s; 100,000: over a minute resp. four). With at most 256, a 10 MB body of such
# elements parses in about as long as 10 MB of any markup. libxml2 itself refuses to nest deeper than 256
# without its "huge" option, so the fast path never sees more; MAX_DEPTH, twice that, is for feedparser's way.
MAX_ATTRIBUTES = 256
MAX_DEPTH = 512
# feedparser spends 25-80 µs on every tag however flat the markup (1 MB of "<br/>" in a description, which
# the fast path leaves to it: 14 s), so a document on its way there may hold this many start tags: about 8 s
# of its time, and 100 bytes a tag over a whole 10 MB feed (a well-formed feed takes the fast path instead;
# the farm's feeds carry at most 1,400).
MAX_FEEDPARSER_ELEMENTS = 100_000


def _too_many_attributes(name: str, count: int, line: int | None) -> ParseError:
    where = f" (line {line})" if line else ""
    return ParseError(
        f"an element <{name}> has {count:,} attributes{where}, more than the {MAX_ATTRIBUTES} a feed may use",
        reason="too_many_attributes",
    )


def _too_many_elements(line: int) -> ParseError:
    return ParseError(
        f"more than {MAX_FEEDPARSER_ELEMENTS:,} elements for the tolerant parser (by line {line})",
        reason="too_many_elements",
    )


def _too_deep(line: int) -> ParseError:
    return ParseError(
        f"elements nested more than {MAX_DEPTH} deep (line {line})",
        reason="too_deep",
    )


# One piece of markup: an end tag (group 1: its name), a start tag (2: its name; 3: the rest of it, when it
# is one as expat reads it), or a comment, CDATA section, PI or declaration (4, 5, 6: their end, when
# there is one). Quoted values may hold ">" but never "<", so no tag's match reaches past the next "<", and
# every pattern is possessive: the scan is linear. A comment or CDATA section ends where either of
# feedparser's parsers would end it (its forgiving sgmllib takes "-- >" and "] ]>", and ends PIs at ">").
_MARKUP_NAME = rb"[A-Za-z_:\x80-\xff][-.\w:\x80-\xff]*"
_MARKUP_TOKEN = re.compile(
    rb"<(?:/(" + _MARKUP_NAME + rb")"
    rb"|(" + _MARKUP_NAME + rb""")((?:[^<>"']++|"[^"<]*+"|'[^'<]*+')*+>)?"""
    rb"|!--(?:[^-]++|-(?!-\s*>))*+(--\s*>)?"
    rb"|!\[CDATA\[(?:[^\]]++|\](?!\s*\]\s*>))*+(\]\s*\]\s*>)?"
    rb"|[!?][^>]*+(>)?)"
)
# One attribute inside such a tag (group 1: its name).
_MARKUP_ATTRIBUTE = re.compile(rb"""([^\s"'=<>/]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>]*))?""")
# HTML elements that never hold content: an unclosed <br> nests nothing, in a browser as in feedparser.
_HTML_VOID_TAGS = frozenset(b"area base br col embed hr img input meta param track wbr".split())
# Elements that a start tag of the same name closes: HTML's (<li>one<li>two), so that a list or table written
# that way in an entry is not nesting either, and entries, which feedparser starts afresh at every <item> or
# <entry> (a feed that never closes its items still gives all of them).
_CLOSED_BY_THEIR_NEXT = frozenset(b"p li dt dd tr td th option item entry".split())


def _check_markup(data: bytes, url: str) -> None:
    """Refuse, before feedparser reads ``data`` (UTF-8, as feedparser will parse it), markup beyond the
    limits above: an element with more than MAX_ATTRIBUTES attributes (namespace declarations aside: no
    parser is slow on those), elements nested more than MAX_DEPTH deep, or more than MAX_FEEDPARSER_ELEMENTS
    start tags.

    The document need not be well-formed, as feedparser reads any. Depth is counted the forgiving way: an
    end tag closes the innermost open element of its name and everything opened inside it (none open: it is
    ignored), so raw HTML left unclosed in one entry ends with that entry; void elements, and a repeated
    <p>, <li> or <item>, open nothing more. 200,000 unclosed <div> in one description are refused after the
    first 512, whereas libxml2's recovery closes one element per end tag and would count a feed with two
    stray <br> an entry 256 deep after 128 entries. The scan costs 1-2 µs a tag, stops at the first excess,
    and only runs on the way to feedparser, which spends 25-60 µs on every tag.
    """
    stack: list[bytes] = []
    open_count: dict[bytes, int] = {}
    started = 0
    for token in _MARKUP_TOKEN.finditer(data):
        kind = token.lastindex
        if kind is None:  # a comment, CDATA section, PI or declaration that nothing ends
            return  # the rest is text to both of feedparser's parsers
        if kind > 3:  # one that ends: nothing in it is markup
            continue
        if kind == 1:
            name = token.group(1).lower()
            if open_count.get(name):
                _close(stack, open_count, name)
            continue
        name = token.group(2).lower()
        started += 1
        if started > MAX_FEEDPARSER_ELEMENTS:
            raise _with_url(_too_many_elements(data.count(b"\n", 0, token.start()) + 1), url)
        if kind == 3:
            rest_start, rest_end = token.span(3)
            if rest_end - rest_start > 2 * MAX_ATTRIBUTES:  # else too short: an attribute takes two bytes
                found = _MARKUP_ATTRIBUTE.finditer(data, rest_start, rest_end)
                count = sum(1 for attribute in found if not _is_declaration(attribute))
                if count > MAX_ATTRIBUTES:
                    line = data.count(b"\n", 0, token.start()) + 1
                    raise _with_url(_too_many_attributes(name.decode("utf-8", "replace"), count, line), url)
            if data[rest_end - 2] == 0x2F:  # "/>": an empty element
                continue
        if name in _HTML_VOID_TAGS:
            continue
        if name in _CLOSED_BY_THEIR_NEXT and open_count.get(name):
            _close(stack, open_count, name)
        stack.append(name)
        open_count[name] = open_count.get(name, 0) + 1
        if len(stack) > MAX_DEPTH:
            raise _with_url(_too_deep(data.count(b"\n", 0, token.start()) + 1), url)


def _close(stack: list[bytes], open_count: dict[bytes, int], name: bytes) -> None:
    """Close the innermost open ``name`` and everything inside it (each element is closed once: linear)."""
    while True:
        closed = stack.pop()
        open_count[closed] -= 1
        if closed == name:
            return


def _is_declaration(attribute: re.Match[bytes]) -> bool:
    name = attribute.group(1)
    return name == b"xmlns" or name.startswith(b"xmlns:")


def _with_url(error: ParseError, url: str) -> ParseError:
    error.url = url
    return error


# =====================================================================================================
# Shared: feedparser-shaped entry dicts to RawEntry
# =====================================================================================================


def _feedparser_headers(headers: Mapping[str, str], url: str, body: bytes) -> dict[str, str]:
    """Response headers for feedparser: lower-case names, the document URL as the base for links.

    A byte order mark names the encoding, whatever the HTTP charset says (RFC 7303 section 3.3, and the
    WHATWG encoding standard: the BOM wins). feedparser removes the BOM and decodes with the HTTP charset,
    so the charset is made the BOM's: a UTF-16 document served as "charset=utf-8" would not be read at all,
    and "charset=utf-16" would lose the byte order (big-endian documents come out garbled).
    """
    merged = {name.lower(): value for name, value in headers.items()}
    merged["content-location"] = url
    mime, charset = parse_content_type(merged.get("content-type") or "")
    if charset:
        codec = _bom_codec(body)
        if codec is not None and charset.lower() != codec:
            merged["content-type"] = f"{mime}; charset={codec}"
    return merged


def _bom_codec(body: bytes) -> str | None:
    """The codec a byte order mark at the start of the body names (with its byte order), or None."""
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8"
    codec, bom = _wide_codec(body)
    return codec if bom else None


# Charset labels that agree with a BOM's codec (the generic UTF-16/32 names leave the order to the BOM).
_AGREES_WITH_BOM = {
    "utf-8": frozenset({"utf-8", "utf-8-sig"}),
    "utf-16-le": frozenset({"utf-16", "utf-16-le"}),
    "utf-16-be": frozenset({"utf-16", "utf-16-be"}),
    "utf-32-le": frozenset({"utf-32", "utf-32-le"}),
    "utf-32-be": frozenset({"utf-32", "utf-32-be"}),
}


def _bom_overrides_charset(body: bytes, headers: Mapping[str, str]) -> str | None:
    """A note for ParsedFeed.problem when the HTTP charset names another encoding than the body's BOM."""
    codec = _bom_codec(body)
    if codec is None:
        return None
    content_type = next((value for name, value in headers.items() if name.lower() == "content-type"), "")
    _, charset = parse_content_type(content_type or "")
    if not charset:
        return None
    try:
        named = codecs.lookup(charset.strip()).name
    except LookupError:
        named = None
    if named in _AGREES_WITH_BOM[codec]:
        return None
    return f"declared as {charset} but the byte order mark says {codec}: read as {codec}"


def _struct_to_datetime(value: Any) -> datetime | None:
    """feedparser's UTC struct_time as an aware datetime (None when it is out of range)."""
    if not value:
        return None
    if isinstance(value, datetime):  # the fast path's dates are datetimes already
        return value
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (ValueError, TypeError):
        pass
    try:  # fields out of their ranges (a leap second...): let timegm carry them over
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


# Content types (as feeds write them) that feedparser's map_content_type turns into text resp. HTML types.
_TEXT_TYPE_SPELLINGS = _TEXT_TYPES | {"text", "plain", "html", "xhtml"}
_HTML_TYPE_SPELLINGS = _HTML_TYPES | {"html", "xhtml"}


def _is_html(detail: Mapping[str, Any] | None) -> bool:
    return bool(detail) and (detail.get("type") or "").lower() in _HTML_TYPE_SPELLINGS  # type: ignore[union-attr]


def _raw_entry(entry: Mapping[str, Any]) -> RawEntry:
    """One feedparser-shaped entry dict (from feedparser or the fast path) as a RawEntry."""
    get = dict.get  # FeedParserDict.get maps some keys (updated -> published) with a warning: bypass it
    contents = get(entry, "content") or ()
    if contents:
        contents = [c for c in contents if (c.get("type") or "").lower() in _TEXT_TYPE_SPELLINGS]
    content = contents[0] if contents else None
    summary = get(entry, "summary")
    summary_detail = get(entry, "summary_detail")
    if summary_detail:
        summary_html = _is_html(summary_detail)
    else:  # copied from a content element: that element says what it is
        summary_html = _is_html(next((c for c in contents if c.get("value") == summary), content))
    title_detail = get(entry, "title_detail")
    language = get(entry, "language")
    if not language:
        for detail in (title_detail, summary_detail, content):
            if detail and detail.get("language"):
                language = detail.get("language")
                break
    return RawEntry(
        guid=get(entry, "id") or None,
        link=get(entry, "link") or None,
        title=get(entry, "title") or None,
        title_html=_is_html(title_detail),
        summary=summary or None,
        summary_html=summary_html,
        content=(content.get("value") or None) if content else None,
        content_html=_is_html(content),
        author=get(entry, "author") or None,
        published=_struct_to_datetime(get(entry, "published_parsed")),
        updated=_struct_to_datetime(get(entry, "updated_parsed")),
        language=language or None,
    )


_map_content_type: Callable[[str], str] = _FeedParserMixin.map_content_type

# feedparser's guess whether RSS "plain text" is really HTML, with the patterns compiled once and an early
# exit for text without "<" or "&" (most titles).
_CLOSE_TAG = re.compile(r"</(\w+)>")
_ANY_REFERENCE = re.compile(r"&#?\w+;")
_TAG_NAME = re.compile(r"</?(\w+)")
_NAMED_REFERENCE = re.compile(r"&(\w+);")
_SANITIZER_ELEMENTS = frozenset(_HTMLSanitizer.acceptable_elements)
_ENTITY_NAMES = frozenset(html.entities.entitydefs)


def _looks_like_html(text: str) -> bool:
    if "<" not in text and "&" not in text:
        return False
    if not (_CLOSE_TAG.search(text) or _ANY_REFERENCE.search(text)):
        return False
    if any(tag.lower() not in _SANITIZER_ELEMENTS for tag in _TAG_NAME.findall(text)):
        return False
    return all(name in _ENTITY_NAMES for name in _NAMED_REFERENCE.findall(text))


# =====================================================================================================
# The reference path: feedparser
# =====================================================================================================

_SOFT_BOZO = (NonXMLContentType, CharacterEncodingOverride)


def _parse_with_feedparser_prepared(
    body: bytes, headers: Mapping[str, str], url: str, doctype_note: str | None
) -> ParsedFeed:
    notes = "; ".join(filter(None, (doctype_note, _bom_overrides_charset(body, headers)))) or None
    fp_headers = _feedparser_headers(headers, url, body)
    result = _run_feedparser(body, fp_headers, url)
    exc = result.get("bozo_exception") if result.get("bozo") else None
    hard_error = exc is not None and not isinstance(exc, _SOFT_BOZO)
    if hard_error and not result.get("entries") and _text_without_charset(fp_headers):
        # RFC 3023 reads text/* without a charset as US-ASCII, which garbles UTF-16 (and more): when that
        # reading fails, read again and let the document's BOM or declaration decide.
        retry = _run_feedparser(body, {**fp_headers, "content-type": "application/xml"}, url)
        if retry.get("entries") or not retry.get("bozo"):
            result, exc = retry, retry.get("bozo_exception") if retry.get("bozo") else None
            hard_error = exc is not None and not isinstance(exc, _SOFT_BOZO)
    entries = tuple(_raw_entry(entry) for entry in result.get("entries", ()))
    version = result.get("version") or ""
    if not entries:
        if hard_error:
            raise ParseError(f"not a usable feed: {_describe_bozo(exc, body)}", url=url)
        if not version:
            root = _first_element(body)
            raise NotAFeedError(
                f"not an RSS, Atom or RDF document (first element: <{root}>)"
                if root
                else "not an RSS, Atom or RDF document",
                url=url,
            )
    problem = None
    if hard_error:
        recovered = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} recovered"
        problem = f"{_describe_bozo(exc, body)}, {recovered}"
    elif isinstance(exc, CharacterEncodingOverride) and not _ascii_by_default(exc, fp_headers):
        problem = str(exc)
    feed = result.get("feed", {})
    parsed = ParsedFeed(
        format=version or "unknown",
        parser="feedparser",
        title=dict.get(feed, "title") or None,
        link=dict.get(feed, "link") or None,
        language=dict.get(feed, "language") or None,
        entries=entries,
        problem=problem,
    )
    return _with_problem(parsed, notes)


def _run_feedparser(body: bytes, headers: Mapping[str, str], url: str) -> Any:
    _check_markup(_as_feedparser_reads(body, headers), url)
    try:
        # A stream, never bytes or str: feedparser would take a string for a URL or a file name.
        return feedparser.parse(io.BytesIO(body), response_headers=dict(headers))
    except Exception as exc:  # feedparser's handlers can raise on hostile input (e.g. GeoRSS numbers)
        raise ParseError(f"feedparser failed: {type(exc).__name__}: {exc}", url=url) from exc


def _as_feedparser_reads(body: bytes, headers: Mapping[str, str]) -> bytes:
    """The UTF-8 bytes feedparser parses (its own decoding): markup in UTF-16 or in ISO-2022-JP is only
    markup, and only the markup it is, once decoded."""
    try:
        return convert_to_utf8(dict(headers), body, {})
    except Exception:  # feedparser will fail on it in its own way: look at the bytes as they are
        return body


def _ascii_by_default(exc: BaseException, headers: Mapping[str, str]) -> bool:
    """text/* without a charset "declares" US-ASCII (RFC 3023): reading UTF-8 instead is no news."""
    return _text_without_charset(headers) and "declared as us-ascii" in str(exc)


def _text_without_charset(headers: Mapping[str, str]) -> bool:
    mime, charset = parse_content_type(headers.get("content-type") or "")
    return mime.lower().startswith("text/") and not charset


def _describe_bozo(exc: BaseException | None, body: bytes) -> str:
    """feedparser's reason in words, e.g. "not well-formed XML (line 12: mismatched tag)"."""
    get_line = getattr(exc, "getLineNumber", None)
    get_message = getattr(exc, "getMessage", None)
    if get_line is not None and get_message is not None:
        line = get_line()
        # feedparser puts an XML declaration and a line break in front when the document has none.
        if isinstance(line, int) and not _text_head(body, 16).lstrip("\ufeff").startswith("<?xml"):
            line -= 1
        return f"not well-formed XML (line {line}: {get_message()})"
    return str(exc) or type(exc).__name__


# =====================================================================================================
# JSON Feed
# =====================================================================================================


def parse_json_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org). Raises NotAFeedError for JSON that is not a JSON Feed."""
    try:
        document = json.loads(_decode_json(body, headers))
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"invalid JSON: {exc}", url=url) from exc
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/"):
        raise NotAFeedError("JSON document is not a JSON Feed (no jsonfeed.org version)", url=url)
    items = document.get("items")
    if not isinstance(items, list):
        raise NotAFeedError("JSON Feed without an items list", url=url)
    feed_authors = _json_authors(document)
    entries = [_json_entry(item, url, feed_authors) for item in items if isinstance(item, dict)]
    return ParsedFeed(
        format="json11" if version.rstrip("/").endswith("1.1") else "json1",
        parser="json",
        title=_json_str(document.get("title")),
        link=_json_url(document.get("home_page_url"), url),
        language=_json_str(document.get("language")),
        entries=tuple(entries),
        skipped=len(items) - len(entries),
    )


def _decode_json(body: bytes, headers: Mapping[str, str]) -> str:
    codec, bom = _wide_codec(body)
    if codec is not None:
        return body[bom:].decode(codec, "replace")
    _, charset = parse_content_type(headers.get("content-type") or "")
    try:
        return body.decode(charset or "utf-8-sig", "replace")
    except LookupError:
        return body.decode("utf-8-sig", "replace")


def _json_str(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return value.strip() or None if isinstance(value, str) else None


def _json_url(value: Any, base: str) -> str | None:
    text = _json_str(value)
    if text is None:
        return None
    if _PLAIN_ABSOLUTE_URL.fullmatch(text) and _base_parses(base):
        return text  # urljoin would give it back unchanged (see _join_url)
    try:
        return urljoin(base, text) if base else text
    except ValueError:
        return None


def _json_authors(obj: Mapping[str, Any]) -> str | None:
    authors = obj.get("authors")
    if not isinstance(authors, list):
        authors = [obj.get("author")]  # JSON Feed 1.0
    names = [_json_str(a.get("name")) for a in authors if isinstance(a, dict)]
    return ", ".join(name for name in names if name) or None


def _json_entry(item: Mapping[str, Any], url: str, feed_authors: str | None) -> RawEntry:
    content_html = _json_str(item.get("content_html"))
    content = content_html or _json_str(item.get("content_text"))
    return RawEntry(
        guid=_json_str(item.get("id")),
        link=_json_url(item.get("url"), url) or _json_url(item.get("external_url"), url),
        title=_json_str(item.get("title")),
        title_html=False,
        summary=_json_str(item.get("summary")),
        summary_html=False,
        content=content,
        content_html=content_html is not None,
        author=_json_authors(item) or feed_authors,
        published=_json_date(item.get("date_published")),
        updated=_json_date(item.get("date_modified")),
        language=_json_str(item.get("language")),
    )


def _json_date(value: Any) -> datetime | None:
    text = _json_str(value)
    return _parse_feed_date(text) if text else None


# =====================================================================================================
# Dates: feedparser's parser, with a shortcut for the two shapes nearly every feed uses
# =====================================================================================================

# W3C/ISO 8601 with seconds and a zone, and RFC 822 with a four-digit year, seconds and a zone feedparser
# knows (fractions of seconds: at most nine digits, which float() cannot round up to the next second).
# For these, feedparser's first handler to accept the string (W3DTF, resp. RFC 822: W3DTF turns RFC
# 822 down) reads the fields exactly as below; a property test holds the shortcut to _parse_date. The
# fields are handed to datetime.fromisoformat (C, and it checks the ranges as datetime() does); times
# outside 00:00:00-23:59:59 are left to feedparser, so no version's leniency there can matter.
_CLOCK = r"([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])"
_W3DTF_DATE = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]" + _CLOCK + r"(?:\.[0-9]{1,9})?(?:[Zz]|([+-][0-9]{2}):([0-9]{2}))"
)
_RFC822_MONTHS = {
    name: f"{number:02d}"
    for number, name in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1
    )
}
_RFC822_ZONES = {name.upper(): timedelta(hours=hours) for name, hours in rfc822_zone_hours.items()}
_RFC822_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"([0-9]{4}) " + _CLOCK + r" (?:([+-][0-9]{2})([0-9]{2})|([A-Z]{1,4}))"
)


def _parse_feed_date(text: str) -> datetime | None:
    """feedparser's reading of a date (aware, UTC), or None when it has none."""
    try:
        if (match := _W3DTF_DATE.fullmatch(text)) is not None:
            date, hour, minute, second, hours, minutes = match.groups()
            shift = _offset(hours, minutes) if hours else _NO_SHIFT
            return datetime.fromisoformat(f"{date}T{hour}:{minute}:{second}+00:00") - shift
        if (match := _RFC822_DATE.fullmatch(text)) is not None:
            day, month_name, year, hour, minute, second, hours, minutes, zone = match.groups()
            shift = _offset(hours, minutes) if hours else _RFC822_ZONES.get(zone)
            if shift is not None:  # else a zone feedparser reads as UTC: let it
                month = _RFC822_MONTHS[month_name]
                return (
                    datetime.fromisoformat(f"{year}-{month}-{day:0>2}T{hour}:{minute}:{second}+00:00") - shift
                )
    except (ValueError, OverflowError):
        pass  # out of range: feedparser's other handlers may still read something
    return _struct_to_datetime(_parse_date(text))


_NO_SHIFT = timedelta(0)
_offsets: dict[tuple[str, str], timedelta] = {}


def _offset(hours: str, minutes: str) -> timedelta:
    """A zone offset as feedparser reads it: the sign applies to the minutes too."""
    shift = _offsets.get((hours, minutes))
    if shift is None:
        shift = timedelta(hours=int(hours), minutes=int(minutes) * (-1 if hours[0] == "-" else 1))
        if len(_offsets) < 4096:
            _offsets[hours, minutes] = shift
    return shift


# =====================================================================================================
# The fast path: lxml + an emulation of feedparser's handlers
# =====================================================================================================


class _Unsure(Exception):
    """The fast path cannot promise feedparser's result for this document."""


_PARSERS = threading.local()  # one parser a thread: lxml serialises threads that share a parser


def _xml_parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            recover=False,
            remove_comments=True,
            remove_pis=True,
            strip_cdata=True,
        )
        _PARSERS.parser = parser
    return parser


def _attribute_name_reader() -> etree.XPath:
    """A compiled ``name(@*[$position])`` for this thread (like the parser, not shared between threads)."""
    reader: etree.XPath | None = getattr(_PARSERS, "attribute_name", None)
    if reader is None:
        reader = _PARSERS.attribute_name = etree.XPath("name(@*[$position])")
    return reader


# feedparser's namespace table (lower-cased URIs) and its handler names.
_NAMESPACE_PREFIX = {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}
_ATOM10_NS = "http://www.w3.org/2005/atom"
_RSS10_NS = "http://purl.org/rss/1.0/"
_RSS090_NS = "http://my.netscape.com/rdf/simple/0.9/"
_FEEDPARSER_HANDLERS = frozenset(
    name.split("_", 2)[-1] if name.startswith("_start_") else name[len("_end_") :]
    for name in dir(feedparser.api.StrictFeedParser)
    if name.startswith(("_start_", "_end_"))
)
_KEYMAP = FeedParserDict.keymap

# Keys of a feedparser entry that RawEntry is built from: an unknown element storing under one of these
# names would change the result in a way the fast path does not follow.
_READ_KEYS = frozenset(
    {
        "id",
        "link",
        "links",
        "title",
        "title_detail",
        "summary",
        "summary_detail",
        "content",
        "author",
        "author_detail",
        "authors",
        "published_parsed",
        "updated_parsed",
        "language",
        "guidislink",
    }
)

# Elements with feedparser handlers that never touch the keys above or the state the fast path mirrors.
_HARMLESS = frozenset(
    {
        "category",
        "keywords",
        "dc_subject",
        "media_category",
        "media_keywords",
        "itunes_category",
        "itunes_keywords",
        "tags",
        "enclosure",
        "cloud",
        "generator",
        "width",
        "height",
        "created",
        "dcterms_created",
        "expirationdate",
        "newlocation",
        "media_content",
        "media_group",
        "media_thumbnail",
        "media_player",
        "media_credit",
        "media_rating",
        "media_restriction",
        "media_license",
        "itunes_image",
        "itunes_link",
        "itunes_block",
        "itunes_explicit",
        "contributor",
        "dc_contributor",
        "webmaster",
        "dc_publisher",
        "itunes_owner",
        "psc_chapters",
        "psc_chapter",
        "name",
        "itunes_name",
        "email",
        "itunes_email",
        "uri",
        "url",
        "homepage",
    }
)
# Harmless too, but feedparser reads them as text constructs: child elements would be serialised.
_HARMLESS_TEXT = frozenset(
    {
        "subtitle",
        "tagline",
        "itunes_subtitle",
        "rights",
        "copyright",
        "dc_rights",
        "info",
        "feedburner_browserfriendly",
    }
)
_TITLE = frozenset({"title", "dc_title", "media_title"})
_DESCRIPTION = frozenset({"description", "dc_description", "media_description"})
_SUMMARY = frozenset({"summary", "itunes_summary"})
_CONTENT_ENCODED = frozenset({"content_encoded", "fullitem"})
_AUTHOR = frozenset({"author", "dc_author", "dc_creator", "itunes_author", "managingeditor"})
_PUBLISHED = frozenset({"pubdate", "published", "issued", "dcterms_issued"})
_UPDATED = frozenset({"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"})
_LANGUAGE = frozenset({"language", "dc_language"})
_ENTRY = frozenset({"item", "entry"})
# At feed level these only fill feed fields the fast path does not report (the feed's id, dates...).
_FEED_LEVEL_HARMLESS = frozenset({"id", "guid"}) | _AUTHOR | _PUBLISHED | _UPDATED
_CONTENT_LIKE = _DESCRIPTION | _SUMMARY | _CONTENT_ENCODED | {"content", "body", "xhtml_body", "abstract"}

_RSS_VERSIONS = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}
_LINK_ENTITY = re.compile("&([A-Za-z0-9_]+);")


class _AuthorContext:
    """Lets feedparser's own author bookkeeping run on one of our dicts (same splitting of e-mails)."""

    _save_author = _FeedParserMixin._save_author
    _sync_author_detail = _FeedParserMixin._sync_author_detail

    def __init__(self, context: dict[str, Any]) -> None:
        self._context = context

    def _get_context(self) -> dict[str, Any]:
        return self._context


_C1_CONTROL = re.compile("[\x80-\x9f]")


def _fix_text(text: str) -> str:
    """feedparser's last touches on every text value: undo UTF-8 read as Latin-1, map C1 to cp1252."""
    if text.isascii():
        return text
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    return text.translate(_cp1252) if _C1_CONTROL.search(text) else text


# An absolute http(s) URL that urllib's urljoin (used by feedparser) gives back unchanged: lower-case
# scheme, a plain host, no parameters (";"), no fragment, no empty "?". Anything else takes the slow road.
_PLAIN_ABSOLUTE_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9\-._~%!$&'()*+,=:@/]*)?(?:\?[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]+)?"
)


# A URN or tag URI: urljoin gives it back unchanged (its scheme is never the base's, nor a relative one).
_OPAQUE_URI = re.compile(r"(?:[Uu][Rr][Nn]|[Tt][Aa][Gg]):(?!//)")


def _join_url(base: str, uri: str) -> str:
    """feedparser's URL joining (``_urljoin``), skipping urllib for URLs that are already absolute."""
    # urljoin parses the base first and fails (feedparser then gives "") on a bracketed or non-ASCII host.
    if (_PLAIN_ABSOLUTE_URL.fullmatch(uri) or _OPAQUE_URI.match(uri)) and _base_parses(base):
        return uri
    return _urljoin(base, uri)


def _base_parses(base: str) -> bool:
    return base.isascii() and "[" not in base and "]" not in base


# Names of tags in namespaces feedparser knows (or none): they do not depend on the document's prefixes.
_name_of_tag: dict[str, str] = {}


def _element_name(element: etree._Element) -> str:
    """The name feedparser dispatches on: known namespaces get feedparser's prefix, others the document's."""
    tag = element.tag
    name = _name_of_tag.get(tag)  # comments and PIs have callables for tags: they are simply not found
    if name is not None:
        return name
    if not isinstance(tag, str):
        raise _Unsure("unexpected node")
    if tag.startswith("{"):
        namespace, local = tag[1:].split("}", 1)
    else:
        namespace, local = "", tag
    lowered = namespace.lower()
    if "backend.userland.com/rss" in lowered:
        lowered = "http://backend.userland.com/rss"
    prefix = _NAMESPACE_PREFIX.get(lowered)
    known = prefix is not None
    if not known:
        prefix = element.prefix or ""
    name = f"{prefix.lower()}_{local.lower()}" if prefix else local.lower()
    if known and len(_name_of_tag) < 10_000:
        _name_of_tag[tag] = name
    return name


def _attributes(element: etree._Element) -> dict[str, str]:
    """Attributes as feedparser's strict parser names them (lower-case keys, rel/type values lower-cased).

    Raises ParseError for an element with more attributes than any feed needs: lxml's ``items()`` takes time
    quadratic in their number (100,000 attributes: over a minute). ``len(attrib)`` counts them in linear time.
    """
    count = len(element.attrib)
    if count > MAX_ATTRIBUTES:
        raise _too_many_attributes(etree.QName(element).localname, count, element.sourceline)
    result: dict[str, str] = {}
    for key, value in element.items():
        if key[0] != "{":  # no namespace: the common case
            _set_attribute(result, key, value)
            continue
        namespace, local = key[1:].split("}", 1)
        prefix = _NAMESPACE_PREFIX.get(namespace.lower(), "")
        _set_attribute(result, f"{prefix}:{local}" if prefix else local, value)
        given = _given_prefix(element, namespace, key)
        if given:
            _set_attribute(result, f"{given}:{local}", value)
    return result


def _set_attribute(attributes: dict[str, str], name: str, value: str) -> None:
    name = name.lower()
    attributes[name] = value.lower() if name in ("rel", "type") else value


def _given_prefix(element: etree._Element, namespace: str, key: str) -> str | None:
    """The prefix the document wrote on the attribute ``key`` (``{namespace}local``): feedparser keys
    attributes by it too.

    XPath reads it off the attribute itself: ``element.nsmap`` would build a dict of every namespace in
    scope for each attribute, which a feed declaring thousands of namespaces turns into minutes."""
    if namespace == "http://www.w3.org/XML/1998/namespace":
        return "xml"
    position = element.keys().index(key) + 1  # XPath counts attributes in the order lxml lists them
    qualified = _attribute_name_reader()(element, position=position)
    prefix, colon, _ = qualified.partition(":")
    return prefix if colon else None


def _parse_fast_prepared(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed | None:
    parsed = _read_fast(body, headers, url)
    return None if parsed is None else _with_problem(parsed, _bom_overrides_charset(body, headers))


def _read_fast(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed | None:
    fp_headers = _feedparser_headers(headers, url, body)
    if _charset_disagrees(body, fp_headers):
        return None
    if _decodes_as_utf8_anyway(body, fp_headers):
        data = body
    else:
        state: dict[str, Any] = {}
        try:
            data = convert_to_utf8(fp_headers, body, state)
        except Exception:  # anything odd in decoding belongs to the reference path
            return None
        if not state.get("encoding"):
            return None
    try:
        root = etree.fromstring(data, _xml_parser())
    except (etree.XMLSyntaxError, ValueError):
        return None
    try:
        return _FastReader(root, url, fp_headers.get("content-language")).read()
    except _Unsure as why:
        log.debug("fast path declined %s: %s", url, why)
        return None
    except ParseError as error:  # markup beyond the limits: no parser is to read it
        raise _with_url(error, url) from None


# An XML declaration lxml and expat read alike (version 1.0: feedparser rewrites any other to 1.0).
_PLAIN_XML_DECLARATION = re.compile(
    rb"<\?xml\s+version\s*=\s*[\"']1\.0[\"'](?:\s+encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"'])?"
    rb"(?:\s+standalone\s*=\s*[\"'](?:yes|no)[\"'])?\s*\?>"
)
_UTF8_NAMES = frozenset({"utf-8", "utf8"})
_APPLICATION_XML = frozenset(
    {"application/xml", "application/xml-dtd", "application/xml-external-parsed-entity"}
)


def _decodes_as_utf8_anyway(body: bytes, headers: Mapping[str, str]) -> bool:
    """True when feedparser's decoding would read the body as UTF-8 (or ASCII) without changing it.

    Then lxml can parse the bytes as they are, and feedparser's decode/re-encode step is skipped. The
    rules are feedparser's (RFC 3023); anything unusual says False and goes through convert_to_utf8.
    """
    if _wide_codec(body)[0] is not None:
        return False
    data = body[3:] if body.startswith(codecs.BOM_UTF8) else body
    xml_encoding = ""
    if data.startswith(b"<?xml"):
        declaration = _PLAIN_XML_DECLARATION.match(data)
        if declaration is None:
            return False
        if declaration.group(1) is not None and declaration.group(1).decode().lower() not in _UTF8_NAMES:
            return False
        feedparser_sees = RE_XML_PI_ENCODING.match(data)
        xml_encoding = feedparser_sees.group(1).decode().lower() if feedparser_sees else ""
    mime, charset = parse_content_type(headers.get("content-type") or "")
    if mime in _APPLICATION_XML or (mime.startswith("application/") and mime.endswith("+xml")):
        chosen = charset or xml_encoding or "utf-8"
    elif mime.startswith("text/"):
        chosen = charset or "us-ascii"
    elif "content-type" not in headers:
        chosen = xml_encoding or "iso-8859-1"
    else:
        chosen = xml_encoding or "utf-8"
    return chosen.lower() in ("utf-8", "utf8", "us-ascii", "ascii")


_XML_DECL_ENCODING = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']+)[\"']")


def _charset_disagrees(body: bytes, headers: Mapping[str, str]) -> bool:
    """True when the HTTP charset names another encoding than the document itself (BOM, declaration)."""
    _, http_charset = parse_content_type(headers.get("content-type") or "")
    if not http_charset:
        return False
    codec, _ = _wide_codec(body)
    if codec is not None:
        own = codec
    elif body.startswith(codecs.BOM_UTF8):
        own = "utf-8"
    else:
        match = _XML_DECL_ENCODING.match(body)
        own = match.group(1).decode("ascii", "replace") if match else "utf-8"
    return _codec_name(http_charset) != _codec_name(own)


def repair_encoding(body: bytes, headers: Mapping[str, str]) -> tuple[bytes, Mapping[str, str], str | None]:
    """A body that is not valid in the encoding it declares is re-read in the encoding it is really in.

    feedparser falls back to windows-1252 for such bytes, which turns a Cyrillic feed declared as UTF-8 into
    mojibake. Here the real encoding is detected (charset_normalizer), the text re-encoded as UTF-8 and the
    declaration rewritten to match; the note says what was done. Wide (UTF-16/32) bodies are left alone.
    """
    if _wide_codec(body)[0] is not None or body.startswith(codecs.BOM_UTF8):
        return body, headers, None
    _, http_charset = parse_content_type(headers.get("content-type") or "")
    match = _XML_DECL_ENCODING.match(body)
    declared = http_charset or (match.group(1).decode("ascii", "replace") if match else "utf-8")
    try:
        body.decode(declared)
        return body, headers, None
    except LookupError:
        pass  # an unknown encoding name: detect instead
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(body[:_DETECT_BYTES]).best()
    if best is None or _codec_name(best.encoding) == _codec_name(declared):
        return body, headers, None
    try:
        text = body.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return body, headers, None
    utf8 = text.encode("utf-8")
    if match:
        start, end = match.span(1)
        utf8 = b"%sutf-8%s" % (utf8[:start], utf8[end:])
    repaired = {k: v for k, v in headers.items() if k != "content-type"}
    media_type = (headers.get("content-type") or "application/xml").split(";")[0]
    repaired["content-type"] = media_type + "; charset=utf-8"
    return utf8, repaired, f"declared as {declared} but not valid {declared}: read as {best.encoding}"


_DETECT_BYTES = 256 * 1024  # enough text to tell encodings apart, cheap on a 10 MiB body


def _codec_name(label: str) -> str:
    try:
        name = codecs.lookup(label.strip()).name
    except LookupError:
        return "?" + label.lower()
    return (
        name.replace("utf-16-be", "utf-16")
        .replace("utf-16-le", "utf-16")
        .replace("utf-32-be", "utf-32")
        .replace("utf-32-le", "utf-32")
    )


class _FastReader:
    """Walks one lxml document the way feedparser's handlers would, collecting entry dicts."""

    def __init__(self, root: etree._Element, url: str, content_language: str | None) -> None:
        self.root = root
        self.url = url
        self.version = ""
        self.atom = False
        self.feed_language: str | None = content_language.replace("_", "-") if content_language else None
        self.base_language = content_language
        self.feed_title: str | None = None
        self.feed_link: str | None = None
        self.feed_has_summary = False
        self.infeed = False
        self.entries: list[dict[str, Any]] = []
        # Per-entry state, as feedparser keeps it.
        self.entry: dict[str, Any] = {}
        self.depth_of: dict[str, int] = {}
        self.title_depth = -1
        self.has_content = False
        self.in_source = False
        self.scratch: dict[str, Any] = {}

    # --- document level -------------------------------------------------------------------------

    def read(self) -> ParsedFeed:
        root = self.root
        name = _element_name(root)
        self.version = self._version(root, name)
        self.atom = self.version.startswith("atom")
        base = make_safe_absolute_uri(self.url, self.url) or self.url if self.url else ""
        attrs = _attributes(root) if root.attrib else {}
        base, lang = self._scope(attrs, base, self.base_language)
        if lang and name in ("feed", "rss"):
            self.feed_language = lang.replace("_", "-")
        if name == "feed":
            self.infeed = True
        self._walk_feed(root, 1, base, lang)
        return ParsedFeed(
            format=self.version,
            parser="fast",
            title=self.feed_title or None,
            link=self.feed_link or None,
            language=self.feed_language or None,
            entries=tuple(_raw_entry(entry) for entry in self.entries),
        )

    def _version(self, root: etree._Element, name: str) -> str:
        declared = [uri.lower() for uri in root.nsmap.values()]
        feed_namespaces = {uri for uri in declared if uri in (_ATOM10_NS, _RSS10_NS, _RSS090_NS)}
        if root.nsmap.get(None, "").lower() != _RSS090_NS:
            feed_namespaces.discard(_RSS090_NS)  # feedparser only takes RSS 0.90 as the default namespace
        if name == "rss":
            from_namespace = {_RSS10_NS: "rss10", _RSS090_NS: "rss090"}
            if len(feed_namespaces) == 1 and (ns := next(iter(feed_namespaces))) in from_namespace:
                return from_namespace[ns]
            if feed_namespaces - {_ATOM10_NS}:
                raise _Unsure("RSS root declaring several feed namespaces")
            version = root.get("version", "")
            return _RSS_VERSIONS.get(version) or ("rss20" if version.startswith("2.") else "rss")
        if len(feed_namespaces) != 1:
            raise _Unsure("no single feed namespace on the root")
        namespace = next(iter(feed_namespaces))
        if name == "feed" and namespace == _ATOM10_NS:
            return "atom10"
        if name == "rdf_rdf" and namespace in (_RSS10_NS, _RSS090_NS):
            return "rss10" if namespace == _RSS10_NS else "rss090"
        raise _Unsure(f"root element {name!r}")

    def _scope(self, attrs: Mapping[str, str], base: str, lang: str | None) -> tuple[str, str | None]:
        """xml:base and xml:lang of an element, as feedparser tracks them."""
        if _SCOPE_ATTRIBUTES.isdisjoint(attrs):
            return base, lang
        new_base = attrs.get("xml:base", attrs.get("base"))
        if new_base:
            if not base:
                raise _Unsure("xml:base without a document URL")  # feedparser's base would leak
            base = make_safe_absolute_uri(base, new_base) or base
        new_lang = attrs.get("xml:lang", attrs.get("lang"))
        if new_lang == "":
            lang = None
        elif new_lang is not None:
            lang = new_lang
        return base, lang

    def _walk_feed(self, parent: etree._Element, depth: int, base: str, lang: str | None) -> None:
        for element in parent:
            name = _element_name(element)
            attrs = _attributes(element) if element.attrib else {}
            child_base, child_lang = self._scope(attrs, base, lang)
            self._feed_element(element, name, attrs, depth + 1, child_base, child_lang)

    def _feed_element(
        self,
        element: etree._Element,
        name: str,
        attrs: dict[str, str],
        depth: int,
        base: str,
        lang: str | None,
    ) -> None:
        if name in _ENTRY:
            self._entry(element, attrs, depth, base, lang)
        elif name == "channel":
            if "lastmod" in attrs or "href" in attrs:
                raise _Unsure("CDF channel")
            self.infeed = True
            self._walk_feed(element, depth, base, lang)
            self.infeed = False
        elif name in ("image", "textinput"):
            if any(_element_name(e) in _ENTRY for e in element.iterdescendants()):
                raise _Unsure("entry inside an image or text input")
        elif name in _DESCRIPTION or name in _SUMMARY:
            # feedparser turns a second feed-level summary into content, and that leaks into entries.
            if self.feed_has_summary or len(element):
                raise _Unsure("feed-level summary it would treat as content")
            if name in _SUMMARY and self.infeed:
                self.feed_has_summary = True
        elif name in _LANGUAGE:
            text = _leaf_text(element)
            if self.infeed:
                self.feed_language = _pop(text)
        elif name in _TITLE:
            if name == "title" and self.infeed and self.feed_title is None and not len(element):
                self.feed_title = (element.text or "").strip() or None
        elif name == "link":
            if self.infeed:
                self._feed_link(element, attrs, base)
        elif name in ("rss", "feed", "source") or name in _CONTENT_LIKE:
            raise _Unsure(f"feed-level <{name}>")
        elif name in _FEED_LEVEL_HARMLESS:
            self._walk_feed(element, depth, base, lang)
        else:
            self._check_generic(element, name, attrs)
            self._walk_feed(element, depth, base, lang)

    def _feed_link(self, element: etree._Element, attrs: Mapping[str, str], base: str) -> None:
        if self.feed_link is not None:
            return
        href = attrs.get("href")
        if href is None:
            self.feed_link = _urljoin(base, (element.text or "").strip()) or None
        elif attrs.get("rel", "alternate") == "alternate":
            self.feed_link = _urljoin(base, href) or None

    @staticmethod
    def _check_generic(element: etree._Element, name: str, attrs: Mapping[str, str]) -> None:
        """Elements we do not mirror must be ones that cannot change what we read."""
        if name in _HARMLESS:
            return
        if name in _HARMLESS_TEXT:
            if len(element):
                raise _Unsure(f"markup inside <{name}>")
            return
        if name in _FEEDPARSER_HANDLERS:
            raise _Unsure(f"<{name}> has a feedparser handler the fast path does not mirror")
        key = _KEYMAP.get(name, name)
        if isinstance(key, list):
            key = key[0]
        if key in _READ_KEYS or f"{name}_parsed" in _READ_KEYS:
            raise _Unsure(f"unknown element <{name}> would overwrite {key!r}")

    # --- entries ------------------------------------------------------------------------------

    def _entry(
        self, element: etree._Element, attrs: Mapping[str, str], depth: int, base: str, lang: str | None
    ) -> None:
        if "lastmod" in attrs or "href" in attrs:
            raise _Unsure("CDF item")
        self.entry = {}
        self.depth_of = {}
        self.title_depth = -1
        self.in_source = False
        about = attrs.get("rdf:about")
        if about:
            self.entry["id"] = about
        self._walk_entry(element, depth, base, lang)
        self.entries.append(self.entry)
        self.has_content = False

    def _walk_entry(self, parent: etree._Element, depth: int, base: str, lang: str | None) -> None:
        depth += 1
        for element in parent:
            name, handler = _entry_dispatch.get(element.tag) or _entry_dispatch_of(element)
            if handler is None and base and name in _HARMLESS and not len(element):
                continue  # a category and the like: nothing to read, and its scope cannot fail with a base
            if element.keys():  # cheaper than element.attrib, which makes a proxy object
                attrs = _attributes(element)
                child_base, child_lang = self._scope(attrs, base, lang)
            else:
                attrs, child_base, child_lang = _NO_ATTRIBUTES, base, lang
            if handler is not None:
                handler(self, element, name, attrs, depth, child_base, child_lang)
            elif name in _NOT_IN_ENTRIES:
                raise _Unsure(f"<{name}> inside an entry")
            else:
                self._check_generic(element, name, attrs)
                if len(element) and name not in _HARMLESS_TEXT:
                    self._walk_entry(element, depth, child_base, child_lang)

    def _context(self) -> dict[str, Any]:
        return self.scratch if self.in_source else self.entry

    # feedparser's ``pop`` ends every element: strip, resolve URIs, guess HTML in RSS text, fix encodings.
    # It is done here by kind of element (text constructs, URLs, other values) rather than by one routine
    # that looks the kind up each time; of the elements read, feedparser resolves link, id (a guid that is
    # a permalink) and href (can_be_relative_uri, which a test holds to this).

    def _text_construct(self, element: etree._Element, content_type: str) -> tuple[str, str]:
        """A title, summary or content as ``pop`` leaves it, and its type (RSS "plain text" may be HTML)."""
        if content_type == "application/xhtml+xml":
            if not self.atom:
                raise _Unsure("inline XHTML outside Atom")
            out = _serialise_xhtml(element).strip()
        else:
            out = _leaf_text(element).strip()
            if content_type == "text/plain" and not self.atom and _looks_like_html(out):
                content_type = "text/html"
        return _fix_text(out), content_type

    def _store(self, key: str, out: str, depth: int) -> None:
        """Keep a value unless one was kept from a shallower element (feedparser's depth bookkeeping)."""
        if self.in_source:
            return
        old_depth = self.depth_of.get(key)
        if old_depth is None or depth <= old_depth:
            self.depth_of[key] = depth
            self.entry[key] = out

    def _store_text(self, key: str, out: str, depth: int, content_type: str, lang: str | None) -> None:
        """_store for a text construct, which also records its type and language (``*_detail``)."""
        if (key == "title" and -1 < self.title_depth <= depth) or self.in_source:
            return
        if key == "content":
            self.entry.setdefault("content", []).append(
                {"type": content_type, "value": out, "language": _dash(lang)}
            )
            return
        self._store(key, out, depth)
        self.entry[f"{key}_detail"] = {"type": content_type, "language": _dash(lang)}

    def _content_type(self, attrs: Mapping[str, str], default: str) -> str:
        if not attrs:
            return default  # the defaults are already feedparser's mapped names
        content_type = _map_content_type(attrs.get("type", default))
        if content_type not in _TEXT_TYPES or attrs.get("mode") == "base64":
            raise _Unsure(f"content of type {content_type!r}")
        return content_type

    def _title(
        self,
        element: etree._Element,
        name: str,
        attrs: Mapping[str, str],
        depth: int,
        base: str,
        lang: str | None,
    ) -> None:
        out, content_type = self._text_construct(element, self._content_type(attrs, "text/plain"))
        self._store_text("title", out, depth, content_type, lang)
        if out and name != "media_title":  # feedparser restores the depth after <media:title>
            self.title_depth = depth

    def _summary(
        self,
        element: etree._Element,
        name: str,
        attrs: Mapping[str, str],
        depth: int,
        base: str,
        lang: str | None,
    ) -> None:
        if self.in_source:
            raise _Unsure("summary inside <source>")
        if "summary" in self.entry and not self.has_content:
            # feedparser reads a second summary/description as the content.
            self._add_content(element, attrs, "text/plain", depth, lang)
            return
        default = "text/html" if name in _DESCRIPTION else "text/plain"
        out, content_type = self._text_construct(element, self._content_type(attrs, default))
        self._store_text("summary", out, depth, content_type, lang)

    def _content(
        self,
        element: etree._Element,
        name: str,
        attrs: Mapping[str, str],
        depth: int,
        base: str,
        lang: str | None,
    ) -> None:
        default = "text/plain" if name == "content" else "text/html"  # content:encoded holds HTML
        self._add_content(element, attrs, default, depth, lang)

    def _add_content(
        self, element: etree._Element, attrs: Mapping[str, str], default: str, depth: int, lang: str | None
    ) -> None:
        if self.in_source:
            raise _Unsure("content inside <source>")
        self.has_content = True
        out, content_type = self._text_construct(element, self._content_type(attrs, default))
        self._store_text("content", out, depth, content_type, lang)
        self.entry.setdefault("summary", out)

    def _link(
        self,
        element: etree._Element,
        name: str,
        attrs: Mapping[str, str],
        depth: int,
        base: str,
        lang: str | None,
    ) -> None:
        if not attrs:  # <link>text</link>, as RSS has it
            self._text_link(element, base)
            return
        # feedparser's defaults, and its href taken from url, uri or href (the first present, if not empty).
        rel = attrs.get("rel", "alternate")
        link_type = attrs.get("type", "application/atom+xml" if rel == "self" else "text/html")
        href = attrs.get("url", attrs.get("uri", attrs.get("href"))) or attrs.get("href")
        if href is None:
            self._text_link(element, base)
            return
        if len(element):
            raise _Unsure("markup inside <link href>")
        if rel == "alternate" and _map_content_type(link_type or "") in _HTML_TYPES:
            self._context()["link"] = _join_url(base, href)

    def _text_link(self, element: etree._Element, base: str) -> None:
        out = _pop_url(_leaf_text(element), base)
        if not self.in_source:
            if "&" in out:  # feedparser's repair of query strings read as entity references
                out = _LINK_ENTITY.sub(r"&\g<1>", out.replace("&amp;", "&"))
            self.entry["link"] = out

    def _guid(
        self,
        element: etree._Element,
        name: str,
        attrs: Mapping[str, str],
        depth: int,
        base: str,
        lang: str | None,
    ) -> None:
        guid_is_link = attrs.get("ispermalink", "true") == "true"
        text = _leaf_text(element)
        out = _pop_url(text, base) if guid_is_link else _pop(text)
        self._store("id", out, depth)
        if guid_is_link and not self.in_source:
            self.entry.setdefault("link", out)

    def _author(
        self,
        element: etree._Element,
        name: str,
        attrs: Mapping[str, str],
        depth: int,
        base: str,
        lang: str | None,
    ) -> None:
        if not len(element):
            # Plain text (RSS): feedparser's author bookkeeping then only fills author_detail.
            self._store("author", _pop(element.text or ""), depth)
            return
        context = self._context()
        if len(element) == 1 and not _AUTHOR_KEYS.intersection(context):
            child = element[0]
            if _element_name(child) in ("name", "itunes_name"):
                self._first_author_name(context, element, child, depth)
                return
        context.setdefault("authors", []).append(FeedParserDict())
        bookkeeping = _AuthorContext(context)
        pieces = [element.text or ""]
        for child in element:
            name = _element_name(child)
            if name in ("name", "itunes_name", "email", "itunes_email"):
                key = "email" if name.endswith("email") else "name"
                bookkeeping._save_author(key, _leaf_text(child).strip())
            elif name in ("uri", "url", "homepage"):
                child_attrs = _attributes(child) if child.attrib else {}
                child_base, _ = self._scope(child_attrs, base, lang)
                bookkeeping._save_author("href", _pop_url(_leaf_text(child), child_base))
            else:
                raise _Unsure(f"<{name}> inside an author")
            pieces.append(child.tail or "")
        self._store("author", _pop("".join(pieces)), depth)
        bookkeeping._sync_author_detail()

    def _first_author_name(
        self, context: dict[str, Any], element: etree._Element, child: etree._Element, depth: int
    ) -> None:
        """The common Atom case, ``<author><name>...</name></author>`` first in its entry: what feedparser's
        author bookkeeping leaves behind, without running it."""
        author = _leaf_text(child).strip()
        context["authors"] = [FeedParserDict(name=author)]
        context["author_detail"] = FeedParserDict(name=author)
        self._store("author", _pop((element.text or "") + (child.tail or "")), depth)
        if author:
            context["author"] = author

    def _language(
        self,
        element: etree._Element,
        name: str,
        attrs: Mapping[str, str],
        depth: int,
        base: str,
        lang: str | None,
    ) -> None:
        self._store("language", _pop(_leaf_text(element)), depth)

    def _date(
        self,
        element: etree._Element,
        name: str,
        attrs: Mapping[str, str],
        depth: int,
        base: str,
        lang: str | None,
    ) -> None:
        # feedparser also keeps the date's text (with _store's depth rule), but only the parsed date is read.
        out = _pop(_leaf_text(element))
        if not self.in_source:
            key = "published_parsed" if name in _PUBLISHED else "updated_parsed"
            self.entry[key] = _parse_feed_date(out) if out else None

    def _source(
        self,
        element: etree._Element,
        name: str,
        attrs: Mapping[str, str],
        depth: int,
        base: str,
        lang: str | None,
    ) -> None:
        if self.in_source:
            raise _Unsure("nested <source>")
        self.in_source = True
        self.title_depth = -1
        self.scratch = {}
        self._walk_entry(element, depth, base, lang)
        self.in_source = False


_NO_ATTRIBUTES: dict[str, str] = {}
_SCOPE_ATTRIBUTES = frozenset({"xml:base", "base", "xml:lang", "lang"})
_AUTHOR_KEYS = frozenset({"author", "authors", "author_detail"})
_EntryHandler = Callable[[_FastReader, etree._Element, str, Mapping[str, str], int, str, "str | None"], None]


_ENTRY_HANDLERS: dict[str, _EntryHandler] = {
    **dict.fromkeys(_TITLE, _FastReader._title),
    "link": _FastReader._link,
    "guid": _FastReader._guid,
    "id": _FastReader._guid,
    **dict.fromkeys(_DESCRIPTION | _SUMMARY, _FastReader._summary),
    **dict.fromkeys(_CONTENT_ENCODED | {"content"}, _FastReader._content),
    **dict.fromkeys(_AUTHOR, _FastReader._author),
    **dict.fromkeys(_PUBLISHED | _UPDATED, _FastReader._date),
    **dict.fromkeys(_LANGUAGE, _FastReader._language),
    "source": _FastReader._source,
}
# Tag -> (feedparser's name, its entry handler or None), for the tags whose name _element_name remembers.
_entry_dispatch: dict[str, tuple[str, _EntryHandler | None]] = {}


def _entry_dispatch_of(element: etree._Element) -> tuple[str, _EntryHandler | None]:
    name = _element_name(element)
    found = (name, _ENTRY_HANDLERS.get(name))
    if element.tag in _name_of_tag:  # a name that does not depend on the document's prefixes
        _entry_dispatch[element.tag] = found
    return found


_NOT_IN_ENTRIES = _ENTRY | {"channel", "feed", "rss", "image", "textinput", "body", "xhtml_body", "abstract"}


def _dash(lang: str | None) -> str | None:
    return lang.replace("_", "-") if lang else lang


def _leaf_text(element: etree._Element) -> str:
    if len(element):
        raise _Unsure(f"markup inside <{etree.QName(element).localname}>")
    return element.text or ""


def _pop(raw: str) -> str:
    """``pop`` for a value that is neither a URL nor a text construct."""
    return _fix_text(raw.strip())


def _pop_url(raw: str, base: str) -> str:
    """``pop`` for a value that may be a relative URL (link, id, href): resolved against the base."""
    out = raw.strip()
    return _fix_text(_join_url(base, out) if out else out)


# Inline XHTML: feedparser serialises it (no handlers run for its start tags, but end handlers do).
_XHTML_NS = "{http://www.w3.org/1999/xhtml}"
_VOID_ELEMENTS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)


def _serialise_xhtml(element: etree._Element) -> str:
    parts: list[str] = [_escape(element.text)]
    for child in element:
        _serialise_xhtml_element(child, parts)
    return "".join(parts)


def _serialise_xhtml_element(element: etree._Element, parts: list[str]) -> None:
    tag = element.tag
    if not isinstance(tag, str) or not tag.startswith(_XHTML_NS):
        raise _Unsure("non-XHTML element inside inline XHTML")
    local = tag[len(_XHTML_NS) :].lower()
    if f"xhtml_{local}" in _FEEDPARSER_HANDLERS:
        raise _Unsure(f"<{local}> inside inline XHTML")  # feedparser would run its end handler
    parts.append(f"<{local}>")
    parts.append(_escape(element.text))
    for child in element:
        _serialise_xhtml_element(child, parts)
    if local not in _VOID_ELEMENTS:
        parts.append(f"</{local}>")
    parts.append(_escape(element.tail))


def _escape(text: str | None) -> str:
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
