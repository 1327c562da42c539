"""RawEntry to Item: plain text, canonical URLs, stable keys, sane dates and fingerprints.

Choices worth knowing:

* Text: HTML is stripped with regular expressions (no tree: this runs for every item on the hot path);
  block elements become line breaks, table cells spaces, script/style/applet content is dropped (as
  feedparser's sanitiser does), entities are decoded twice when the first pass leaves entities behind
  (feeds double-encode: ``&amp;amp;``). Plain-text fields are decoded the same way and lose stray HTML
  tags of well-known elements (``<b>``, ``<script>...</script>``) but keep other angle brackets
  (``x < y``).
* Removed characters: C0/C1 controls (tab and line breaks become spaces or line breaks), the bidi
  embeddings, overrides and isolates (U+202A-202E, U+2066-2069), the invisible direction marks
  U+200E/U+200F/U+061C (they carry no meaning once the text is plain and they can reorder what a reader
  sees), zero-width characters (U+200B-200D, U+2060-2064, U+FEFF, U+180E) and the soft hyphen. The result
  is NFC.
* Title: the feed's, else the start of the summary (so that an alert always has a headline).
* Dates: published is the first usable date among (published, updated); when none is usable it is
  ``now`` and date_flag says why: ``missing``, ``before_1990`` or ``future`` (more than a day after now).
* content_hash covers the dates as the feed gives them (not ``now``), so that an item without dates does
  not look revised at every poll.
* canonical_url drops user info as well as fragments and tracking parameters.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html.entities
import ipaddress
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from .models import Item, ParsedFeed, RawEntry

log = logging.getLogger(__name__)

__all__ = [
    "TRACKING_PARAMETERS",
    "TRACKING_PREFIXES",
    "NormalisedFeed",
    "canonical_url",
    "clean_text",
    "html_to_text",
    "normalise_entries",
    "normalise_feed",
]

TITLE_MAX_CHARS = 1_000
SUMMARY_MAX_CHARS = 10_000
CONTENT_MAX_CHARS = 100_000
SUMMARY_FROM_CONTENT_CHARS = 1_000  # a summary taken from the content: its start
TITLE_FROM_SUMMARY_CHARS = 160  # a title taken from the summary: its start
AUTHOR_MAX_CHARS = 200
KEY_MAX_CHARS = 1_000  # longer guids are replaced by their hash
HTML_MAX_INPUT_CHARS = 1_000_000  # markup beyond this is never looked at
OLDEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)

# Query parameters that only track the reader (compared lower-cased, after percent-decoding).
TRACKING_PARAMETERS: tuple[str, ...] = (
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
    "twclid",
    "ttclid",
    "li_fat_id",
    "srsltid",
    "_ga",
    "_gl",
    "s_kwcid",
    "spm",
    "vero_id",
    "oly_enc_id",
    "oly_anon_id",
    "rb_clickid",
    "soc_src",
    "soc_trk",
    "wt.mc_id",
    "xtor",
    "at_medium",
    "at_campaign",
    "ns_mchannel",
    "ns_source",
    "ns_campaign",
    "ns_linkname",
    "ns_fee",
    "smid",
    "guccounter",
    "guce_referrer",
    "guce_referrer_sig",
)
TRACKING_PREFIXES: tuple[str, ...] = ("utm_",)
_TRACKING = frozenset(TRACKING_PARAMETERS)


@dataclass(frozen=True, slots=True)
class NormalisedFeed:
    items: list[Item]
    skipped: int  # entries with nothing to identify or show (no guid, link, title or text)


def normalise_entries(feed: str, parsed: ParsedFeed, *, now: datetime) -> list[Item]:
    """The feed's entries as Items (unusable entries are left out: see normalise_feed for the count)."""
    return normalise_feed(feed, parsed, now=now).items


def normalise_feed(feed: str, parsed: ParsedFeed, *, now: datetime) -> NormalisedFeed:
    now = _utc(now)
    feed_language = _language(parsed.language)
    items: list[Item] = []
    links: list[str | None] = []
    for entry in parsed.entries:
        item = _item(feed, entry, now, feed_language)
        if item is not None:
            items.append(item)
            links.append(entry.link)
    skipped = len(parsed.entries) - len(items)
    if skipped:
        log.info(
            "%s: %d entr%s without guid, link, title or text skipped",
            feed,
            skipped,
            "y" if skipped == 1 else "ies",
        )
    _make_keys_unique(items, links)
    return NormalisedFeed(items=items, skipped=skipped)


# =====================================================================================================
# One entry
# =====================================================================================================


def _item(feed: str, entry: RawEntry, now: datetime, feed_language: str | None) -> Item | None:
    """The entry as an Item whose key may still repeat an earlier one; None when there is nothing in it."""
    # One line: clean_text leaves no whitespace but single spaces within lines and the line breaks.
    title = _field_text(entry.title, entry.title_html).replace("\n", " ")
    summary = _field_text(entry.summary, entry.summary_html)
    content = _field_text(entry.content, entry.content_html)
    url = _http_url(entry.link)
    guid = (entry.guid or "").strip()
    if not (guid or url or title or summary or content):
        return None
    if not summary and content:
        summary = _cap(content, SUMMARY_FROM_CONTENT_CHARS)
    summary = _cap(summary, SUMMARY_MAX_CHARS)
    content = _cap(content, CONTENT_MAX_CHARS) if content and content != summary else None
    if not title:
        title = _cap(_one_line(summary), TITLE_FROM_SUMMARY_CHARS)
    title = _cap(title, TITLE_MAX_CHARS)
    published, updated, flag = _dates(entry, now)
    canonical = canonical_url(url)
    author = _author(entry.author)
    return Item(
        feed=feed,
        key=_base_key(guid, canonical or url, title, summary, content),
        url=url,
        canonical_url=canonical,
        title=title,
        summary=summary,
        content=content,
        author=author,
        published=published,
        updated=updated,
        date_flag=flag,
        language=_language(entry.language) or feed_language,
        fingerprint=_fingerprint(title, summary),
        content_hash=_content_hash(url, title, summary, content, author, entry.published, entry.updated),
    )


def _field_text(value: str | None, is_html: bool) -> str:
    if not value:
        return ""
    return html_to_text(value) if is_html else _plain_text(value)


def _http_url(link: str | None) -> str | None:
    if not link:
        return None
    link = link.strip()
    return link if _HTTP_URL.match(link) else None


_HTTP_URL = re.compile(r"https?://[^\s/?#]", re.I)


# --- keys ---------------------------------------------------------------------------------------------


def _base_key(guid: str, link: str | None, title: str, summary: str, content: str | None) -> str:
    if guid:
        return guid if len(guid) <= KEY_MAX_CHARS else "sha256:" + _sha256(guid)[:40]
    if link:
        return link if len(link) <= KEY_MAX_CHARS else "sha256:" + _sha256(link)[:40]
    return "text:" + _sha256(f"{title}\n{content or summary}")[:32]


def _make_keys_unique(items: list[Item], links: list[str | None]) -> None:
    """The first item keeps its key; later repeats get ``#`` + a hash of link and title, then -2, -3..."""
    used: set[str] = set()
    for index, item in enumerate(items):
        key = item.key
        if key in used:
            suffix = _sha256(f"{links[index] or ''}\n{item.title}")[:10]
            key = f"{item.key}#{suffix}"
            ordinal = 2
            while key in used:
                key = f"{item.key}#{suffix}-{ordinal}"
                ordinal += 1
            items[index] = dataclasses.replace(item, key=key)
        used.add(key)


# --- dates, language, author ------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _dates(entry: RawEntry, now: datetime) -> tuple[datetime, datetime | None, str | None]:
    latest = now + FUTURE_TOLERANCE
    published = _utc(entry.published) if entry.published is not None else None
    updated = _utc(entry.updated) if entry.updated is not None else None
    published_problem = _date_problem(published, latest) if published is not None else None
    updated_problem = _date_problem(updated, latest) if updated is not None else None
    if published is not None and published_problem is None:
        return published, updated if updated_problem is None else None, None
    if updated is not None and updated_problem is None:
        return updated, updated, None
    # Nothing usable: the first date's problem, or "missing" when there is none.
    return now, None, published_problem or updated_problem or "missing"


def _date_problem(moment: datetime, latest: datetime) -> str | None:
    if moment < OLDEST_DATE:
        return "before_1990"
    return "future" if moment > latest else None


_LANGUAGE_TAG = re.compile(r"[a-z]{1,8}(?:-[a-z0-9]{1,8})*")


def _language(value: str | None) -> str | None:
    if not value:
        return None
    tag = value.strip().lower().replace("_", "-")
    return tag if _LANGUAGE_TAG.fullmatch(tag) else None


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_EMAIL_THEN_NAME = re.compile(r"(?:mailto:)?[\w.+-]+@[\w-]+(?:\.[\w-]+)+\s*\((.+)\)")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|<\s*>|\[\s*\]|mailto:")


# Bylines repeat from entry to entry: their display names are remembered (short ones, a bounded number).
_AUTHOR_NAMES: dict[str, str | None] = {}
_AUTHOR_NAMES_MAX = 4096


def _author(value: str | None) -> str | None:
    """A display name: ``editor@example.org (Olena Koval)`` and ``Olena Koval (editor@...)`` give the name."""
    if not value:
        return None
    if value in _AUTHOR_NAMES:
        return _AUTHOR_NAMES[value]
    name = _author_name(value)
    if len(value) <= AUTHOR_MAX_CHARS and len(_AUTHOR_NAMES) < _AUTHOR_NAMES_MAX:
        _AUTHOR_NAMES[value] = name
    return name


def _author_name(value: str) -> str | None:
    text = _one_line(_plain_text(value))
    if "@" not in text and "mailto:" not in text and not _EMPTY_BRACKETS.search(text):
        return _cap(text.strip(" ,;:-"), AUTHOR_MAX_CHARS) or None
    match = _EMAIL_THEN_NAME.fullmatch(text)
    if match:
        text = match.group(1)
    text = _EMPTY_BRACKETS.sub("", _EMAIL.sub("", text))
    text = " ".join(text.split()).strip(" ,;:-")
    return _cap(text, AUTHOR_MAX_CHARS) or None


# --- hashes -------------------------------------------------------------------------------------------


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# Fingerprint folding: ASCII characters other than letters and digits, Latin-1 punctuation and symbols,
# and the Unicode punctuation blocks (dashes, quotes, ellipsis, bullets...) become separators. Done
# with a narrow character class and bytes.translate, several times faster than a regex on \\W.
_FOLD_ASCII = bytes(code if chr(code).isalnum() or code >= 0x80 else 0x20 for code in range(256))
_FOLD_MARKS = re.compile("[\u00a1-\u00bf\u00d7\u00f7\u2010-\u205e\u2e00-\u2e7f\u3000-\u303f]")


def _fingerprint(title: str, summary: str) -> str:
    """The story's text, casefolded, with punctuation and spacing folded away."""
    text = f"{title} {summary}".casefold()
    if not text.isascii():
        text = _FOLD_MARKS.sub(" ", text)
    data = text.encode("utf-8", "surrogatepass").translate(_FOLD_ASCII)
    # Only b" " is ASCII whitespace after the fold: collapsing its runs is b" ".join(data.split()),
    # without making a bytes object of every word.
    while b"  " in data:
        data = data.replace(b"  ", b" ")
    return hashlib.sha256(data.strip(b" ")).hexdigest()[:32]


def _content_hash(
    url: str | None,
    title: str,
    summary: str,
    content: str | None,
    author: str | None,
    published: datetime | None,
    updated: datetime | None,
) -> str:
    """Every stored field (dates as the feed gives them), length-prefixed so no two lists hash alike."""
    fields = (
        url,
        title,
        summary,
        content,
        author,
        published.isoformat() if published else None,
        updated.isoformat() if updated else None,
    )
    text = "\x1e".join(["-" if value is None else f"{len(value)}:{value}" for value in fields])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# =====================================================================================================
# Text
# =====================================================================================================

# Block-level elements (all of them kept by feedparser's sanitiser, so both parse paths agree).
_BLOCK_TAGS = (
    "address|article|aside|blockquote|br|caption|dd|details|dialog|dir|div|dl|dt|fieldset|figcaption"
    "|figure|footer|form|h[1-6]|header|hr|li|menu|ol|p|pre|section|table|tbody|tfoot|thead|tr|ul"
)
# Quoted values may hold ">". Possessive (*+): backtracking into a tag could never end it elsewhere, and
# the regex engine skips the bookkeeping for it.
_ATTRS = r"""[^<>"']*+(?:(?:"[^"<]*+"|'[^'<]*+')[^<>"']*+)*+"""
_DROPPED = re.compile(
    r"<!--.*?(?:-->|\Z)"  # comments
    r"|<(script|style|applet)\b" + _ATTRS + r">.*?(?:</\1\s*>|\Z)",  # content never shown
    re.S | re.I,
)
_BLOCK = re.compile(r"</?(?:" + _BLOCK_TAGS + r")\b" + _ATTRS + r"/?>", re.I)
_CELL = re.compile(r"</?t[dh]\b" + _ATTRS + r">", re.I)
_ANY_TAG = re.compile(r"</?[A-Za-z][\w:.-]*" + _ATTRS + r">|<![A-Za-z][^<>]*>|<\?[^<>]*>")
# The same tags as _ANY_TAG, for a split that keeps the tag's name (None for <!...> and <?...>).
_TAG_SPLIT = re.compile(r"</?([A-Za-z][\w:.-]*+)" + _ATTRS + r">|<![A-Za-z][^<>]*>|<\?[^<>]*>")
_TAG_REPLACEMENT: dict[str | None, str] = {None: ""}
_NAME_HEAD = re.compile(r"[A-Za-z0-9_]*")
_BLOCK_NAMES = frozenset(_BLOCK_TAGS.replace("h[1-6]", "h1|h2|h3|h4|h5|h6").split("|"))

# In plain text only tags of well-known HTML elements are taken for markup.
_KNOWN_ELEMENTS = (
    "a|abbr|b|big|blockquote|br|center|cite|code|dd|del|div|dl|dt|em|font|h[1-6]|hr|i|iframe|img|ins|kbd"
    "|li|mark|object|embed|ol|p|pre|q|s|small|span|strike|strong|sub|sup|table|tbody|td|th|thead|tr|tt|u|ul"
)
_PLAIN_DROPPED = re.compile(r"<(script|style)\b" + _ATTRS + r">.*?(?:</\1\s*>|\Z)", re.S | re.I)
_PLAIN_TAG = re.compile(r"</?(?:" + _KNOWN_ELEMENTS + r")\b" + _ATTRS + r"/?>", re.I)

_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2069\ufeff\ufff9-\ufffb\ufffe\uffff]"
)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: tags out, entities decoded, whitespace collapsed, one block a line."""
    if not html:
        return ""
    text = html[:HTML_MAX_INPUT_CHARS]
    # Line breaks in markup are just spaces; only block elements break lines.
    text = text.replace("\r", " ").replace("\n", " ")
    if "<" in text:
        text = _strip_tags(text)
    return _plain_text(_decode_entities(text), decode=False)


def _strip_tags(text: str) -> str:
    """Block tags to line breaks, cells to spaces, other tags out: in one scan when the markup is tidy.

    Tidy: every "<" starts a tag, tag names are ASCII and none is script, style or applet (a comment is
    not tidy: the "<" of "<!--" starts no tag). Tags then never overlap, and the passes of
    _strip_tags_in_passes (which cope with anything) would give the same text. Names are classified once
    and remembered.
    """
    pieces = _TAG_SPLIT.split(text)
    # pieces: text, tag name (None for <!...> and <?...>), text, name, ... : names sit at odd indexes.
    names = pieces[1::2]
    try:
        pieces[1::2] = [_TAG_REPLACEMENT[name] for name in names]
    except KeyError:
        replacements = [_tag_replacement(name) for name in names]
        if None in replacements:
            return _strip_tags_in_passes(text)
        pieces[1::2] = replacements
    stripped = "".join(pieces)
    if "<" in stripped:  # a "<" outside every tag (no replacement holds one): some "<" starts no tag
        return _strip_tags_in_passes(text)
    return stripped


def _tag_replacement(name: str | None) -> str | None:
    """What a tag of this name becomes; None when only the passes may decide (odd or dropped names)."""
    if name is None:  # <!...> and <?...>
        return ""
    if not name.isascii():
        return None
    # The passes' "\b" after an element name: the name ends there or goes on with ":", "." or "-".
    head = _NAME_HEAD.match(name)
    key = (head.group() if head else name).lower()
    if key in ("script", "style", "applet"):
        return None
    replacement = "\n" if key in _BLOCK_NAMES else " " if key in ("td", "th") else ""
    if len(_TAG_REPLACEMENT) < 2_000:  # a bounded cache of the names seen
        _TAG_REPLACEMENT[name] = replacement
    return replacement


def _strip_tags_in_passes(text: str) -> str:
    text = _DROPPED.sub("", text)
    text = _BLOCK.sub("\n", text)
    if "<t" in text or "<T" in text or "</t" in text or "</T" in text:
        text = _CELL.sub(" ", text)
    return _ANY_TAG.sub("", text)


def _plain_text(text: str, *, decode: bool = True) -> str:
    """Text that should hold no markup: decode entities, then drop what is still plainly HTML."""
    text = text[:HTML_MAX_INPUT_CHARS]
    if decode:
        text = _decode_entities(text)
    if "<" in text:  # tags written as text, or escaped twice: "&amp;lt;b&amp;gt;"
        text = _PLAIN_TAG.sub("", _PLAIN_DROPPED.sub("", text))
    return clean_text(text)


def clean_text(text: str) -> str:
    """Invisible and control characters out, NFC, spaces collapsed within lines, empty lines dropped.

    The only whitespace left is single spaces inside lines and the line breaks between them.
    """
    if not text:
        return ""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    ascii_only = text.isascii()
    if not ascii_only and ("\u2028" in text or "\u2029" in text or "\x85" in text):
        text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\x85", "\n")
    if _printable_lines(text, ascii_only):
        # The common case: no controls, no invisible characters, no whitespace but " " and the line
        # breaks (isprintable is False for every other space). Collapsing runs of spaces everywhere and
        # stripping each line then gives what _clean_line gives, without a Python loop over the lines.
        while "  " in text:
            text = text.replace("  ", " ")
        text = "\n".join(filter(None, map(str.strip, text.split("\n"))))
    else:
        text = "\n".join(filter(None, map(_clean_line, text.split("\n"))))
    if not ascii_only and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


# Printable ASCII (what str.isprintable accepts below 0x80) and the line break.
_PRINTABLE_ASCII_LINES = bytes(range(0x20, 0x7F)) + b"\n"


def _printable_lines(text: str, ascii_only: bool) -> bool:
    """Whether every line of the text is printable (str.isprintable, which reads ASCII text slowly)."""
    if ascii_only:
        return not text.encode("ascii").translate(None, _PRINTABLE_ASCII_LINES)
    return text.replace("\n", "").isprintable()


def _clean_line(line: str) -> str:
    if line.isprintable():
        return " ".join(line.split()) if "  " in line else line.strip(" ")
    return " ".join(_INVISIBLE.sub("", line).split())


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cap(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis when too long."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


# --- entities -----------------------------------------------------------------------------------------

_ENTITY = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[A-Za-z][A-Za-z0-9]{0,31})(;?)")
_ENTITY_LEFT = re.compile(r"&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[A-Za-z][A-Za-z0-9]{0,31});")
_HTML5_ENTITIES = html.entities.html5
_LEGACY_ENTITIES = html.entities.name2codepoint  # the HTML 4 names, also recognised without ";"
# Numeric references to C1 controls mean windows-1252 characters (as browsers and feedparser read them).
_CP1252 = {code: bytes([code]).decode("cp1252", "replace") for code in range(0x80, 0xA0)}


def _decode_entities(text: str) -> str:
    if "&" not in text:
        return text
    text = _ENTITY.sub(_entity_text, text)
    if "&" in text and _ENTITY_LEFT.search(text):  # double-encoded, e.g. "&amp;amp;" or "&amp;#8217;"
        text = _ENTITY.sub(_entity_text, text)
    return text


def _entity_text(match: re.Match[str]) -> str:
    name, semicolon = match.group(1), match.group(2)
    if name[0] == "#":
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        if code in _CP1252:
            return _CP1252[code]
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return "\ufffd"
        return chr(code)
    if semicolon:
        return _HTML5_ENTITIES.get(name + ";", match.group(0))
    code = _LEGACY_ENTITIES.get(name)
    return chr(code) if code is not None else match.group(0)


# =====================================================================================================
# URLs
# =====================================================================================================

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = "!$&'()*+,;=:@/"
_QUERY_SAFE = "!$'()*+,;=:@/?"  # "&" separates parameters and is handled apart
_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")


def canonical_url(url: str | None) -> str | None:
    """One spelling per http(s) address: see the module docstring. None for anything else; never raises."""
    if not url or not isinstance(url, str):
        return None
    try:
        url = url.strip()
        simple = _SIMPLE_URL.fullmatch(url)
        if simple is not None and "/." not in (simple.group(3) or ""):
            return _canonical_simple(simple)
        return _canonical(url)
    except (ValueError, UnicodeError):
        return None


# The common shape, already in canonical spelling but for query and fragment: lower-case http(s) scheme
# and host, no port, no user info, a path without escapes or dot segments. Same result as _canonical
# (a property test holds them together), without urllib's parsing.
_SIMPLE_URL = re.compile(
    r"(https?)://([a-z0-9_-]+(?:\.[a-z0-9_-]+)*)(/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*)?"
    r"(?:\?([^#\s]*))?(?:#.*)?",
    re.S,
)


def _canonical_simple(match: re.Match[str]) -> str | None:
    scheme, host, path, query = match.groups()
    if len(host) > 253:
        return None
    query = _query(query) if query else ""
    return f"{scheme}://{host}{path or '/'}" + (f"?{query}" if query else "")


def _canonical(url: str) -> str | None:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    host = _host(parts.hostname)
    if host is None:
        return None
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _remove_dot_segments(_normalise_escapes(parts.path, _PATH_SAFE)) or "/"
    if not path.startswith("/"):
        path = "/" + path
    return urlunsplit((scheme, netloc, path, _query(parts.query), ""))


def _host(hostname: str | None) -> str | None:
    if not hostname:
        return None
    host = hostname.rstrip(".").lower()
    if ":" in host:  # an IPv6 literal (urlsplit removed the brackets)
        return f"[{ipaddress.IPv6Address(host.split('%', 1)[0]).compressed}]"
    if not host.isascii():
        host = host.encode("idna").decode("ascii").lower()
    if len(host) > 253 or not _HOST.fullmatch(host):
        return None
    return host


def _query(query: str) -> str:
    if not query:
        return ""
    kept: list[tuple[str, str]] = []
    # Escapes never decode to "&" (it is not unreserved): normalising the whole query splits the same way.
    for parameter in _normalise_escapes(query, _QUERY_SAFE).split("&"):
        if not parameter:
            continue
        raw_name = parameter.partition("=")[0]
        name = (unquote_plus(raw_name) if "%" in raw_name or "+" in raw_name else raw_name).lower()
        if name in _TRACKING or name.startswith(TRACKING_PREFIXES):
            continue
        kept.append((raw_name, parameter))
    kept.sort(key=lambda pair: pair[0])  # stable: repeated names keep their order
    return "&".join(parameter for _, parameter in kept)


_ESCAPE_OR_UNSAFE = re.compile(r"%([0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/?]")


def _normalise_escapes(component: str, safe: str) -> str:
    """Decode escapes of unreserved characters, upper-case the others, escape what must be escaped."""

    def fix(match: re.Match[str]) -> str:
        hex_digits = match.group(1)
        if hex_digits is not None:
            char = chr(int(hex_digits, 16))
            return char if char in _UNRESERVED else "%" + hex_digits.upper()
        char = match.group(0)
        if char in safe:
            return char
        return "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))

    return _ESCAPE_OR_UNSAFE.sub(fix, component)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4."""
    if "." not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    return result if not path.startswith("/") or result.startswith("/") else "/" + result
