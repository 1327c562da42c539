"""What every chat and webhook target shares: the outgoing request, the one-line summary of an alert, its
rows of facts, and the text tools each renderer builds on.

Everything a feed wrote (headlines, report titles, evidence phrases, and facts the classifier copied out of
feed text, such as a deadline span) is untrusted. The order for any such string is always:

1. :func:`clean_text` removes control characters, bidi overrides and isolates, zero-width and other
   invisible format characters, lone surrogates, and (for one-line places) CR, LF and Unicode line breaks;
2. :func:`shorten` (or :func:`fit`) cuts it to the target's limit at a word boundary with an ellipsis;
3. the target's own escaping (in each target's module) makes its markup and mentions inert.

Links come only from :func:`safe_url`: http and https with a host and no credentials, anything else is
dropped (a ``javascript:`` or ``data:`` link is never rendered as a link anywhere).

Renderers are pure functions of an :class:`~aggregator.models.AlertMessage` and a moment: the same input
gives the same bytes, so golden files can pin each target's payload.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

from ..models import AlertMessage

__all__ = [
    "CHANGE_MAX",
    "DETAIL_LEVELS",
    "JSON_CONTENT_TYPE",
    "KIND_LABELS",
    "WHY_MAX",
    "ZERO_WIDTH_SPACE",
    "Detail",
    "OutgoingRequest",
    "ReportLine",
    "as_utc",
    "backslash_escape",
    "change_text",
    "clean_text",
    "detail_rows",
    "escape_line_starts",
    "event_colour",
    "event_footer",
    "event_label",
    "evidence_phrases",
    "fact_rows",
    "first_fitting",
    "first_report_url",
    "fit",
    "fitting_request",
    "format_day",
    "format_moment",
    "headline_text",
    "json_body",
    "json_request",
    "kind_label",
    "markdown_intro",
    "markdown_link",
    "markdown_why",
    "neutralise_mentions",
    "ordinal_word",
    "plain_words",
    "report_entry",
    "report_lines",
    "report_list",
    "report_tail",
    "safe_url",
    "shorten",
    "sign_request",
    "signing_key",
    "summary_line",
    "walk_strings",
    "why_text",
]

JSON_CONTENT_TYPE = "application/json; charset=utf-8"  # Teams counts bytes wrongly without the charset
ELLIPSIS = "…"
SUMMARY_MAX = 280  # the one-line summary before any target's own limit
MAX_URL = 2048


@dataclass(frozen=True, slots=True)
class OutgoingRequest:
    """One HTTP POST for a channel: the exact body bytes, every header to send (Content-Type included), and
    the content type on its own for callers that set it separately."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON_CONTENT_TYPE


# --- plain text ----------------------------------------------------------------------------------------

# Characters that are never shown as themselves: C0/C1 controls (Cc), format characters (Cf: bidi embeddings,
# overrides and isolates, LRM/RLM/ALM, zero-width space/joiners, word joiner, BOM, invisible tag characters),
# lone surrogates (Cs, which cannot even be encoded as UTF-8), and the Unicode line and paragraph separators.
_LINE_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_SPACES = re.compile(r"[^\S\n]+")


@functools.cache
def _invisible() -> re.Pattern[str]:
    """One character class of every Cc and Cf code point but the line feed, and the surrogates: built once
    from this Python's Unicode tables (a fifth of a second), then cleaning runs at regex speed."""
    points = [
        point
        for point in range(0x110000)
        if point != 0x0A and unicodedata.category(chr(point)) in ("Cc", "Cf")
    ]
    ranges: list[tuple[int, int]] = []
    for point in points:
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1] = (ranges[-1][0], point)
        else:
            ranges.append((point, point))
    ranges.append((0xD800, 0xDFFF))
    members = "".join(
        re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}"
        for low, high in ranges
    )
    return re.compile(f"[{members}]")


def clean_text(text: object, *, single_line: bool = True) -> str:
    """Feed text made plain and safe to place anywhere: invisible and control characters removed, runs of
    white space collapsed to one space. ``single_line`` also turns every line break into a space (titles,
    headers, summaries); otherwise line breaks become ``\\n`` and at most one blank line is kept."""
    if text is None:
        return ""
    value = _LINE_BREAKS.sub(" " if single_line else "\n", str(text)).replace("\t", " ")
    value = _SPACES.sub(" ", _invisible().sub("", value))
    if single_line:
        return value.strip()
    lines = [line.strip() for line in value.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def shorten(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """``text`` cut to at most ``limit`` characters: at the last word boundary that keeps most of it, with an
    ellipsis; a text without a usable boundary is cut mid-word. ``limit`` counts the ellipsis."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return text[:limit]
    room = limit - len(ellipsis)
    cut = text[:room]
    boundary = max(cut.rfind(" "), cut.rfind("\n"))
    # a word boundary in the last 40% costs little; further back it would throw away most of the room
    if boundary >= room * 0.6:
        cut = cut[:boundary]
    cut = cut.rstrip(" \n,;:-–—(")
    return (cut or text[:room]) + ellipsis


def fit(text: str, limit: int, render: Callable[[str], str]) -> str:
    """``render(shorten(text, n))`` for the largest ``n`` whose rendering is at most ``limit`` characters.

    Escaping grows text (``&`` becomes ``&amp;``, ``*`` becomes ``\\*``), so the raw text is shortened, never
    the rendered one: a cut can then never split an entity or leave a dangling backslash."""
    rendered = render(text)
    size = len(text)
    while len(rendered) > limit and size > 0:
        # every raw character renders as at least one: dropping the excess is never too little for long
        size = max(0, size - max(1, len(rendered) - limit))
        rendered = render(shorten(text, size))
    return rendered


_MENTION = re.compile(r"@(?=\w)")
_ANGLE_MENTION = re.compile(r"<(?=[!@#&])")
ZERO_WIDTH_SPACE = "\u200b"


def neutralise_mentions(text: str) -> str:
    """Every ``@word`` and ``<!…>``, ``<@…>``, ``<#…>`` made inert by a zero-width space after the ``@`` or
    ``<``: the text looks the same, but no chat server sees a mention, a broadcast or a channel link in it.

    Chat servers split words on anything that is not a letter or digit, so ``@\\u200beveryone`` is ``@``
    followed by the word ``everyone`` (the approach discord.py's ``escape_mentions`` takes, and what
    Mattermost's mention parser needs). Applied after :func:`clean_text`, which would remove the marker."""
    return _ANGLE_MENTION.sub("<" + ZERO_WIDTH_SPACE, _MENTION.sub("@" + ZERO_WIDTH_SPACE, text))


_LINE_START = re.compile(r"^([^\S\n]*)(?:([-+#>*])|(\d{1,9})([.)]))", re.MULTILINE)


def escape_line_starts(text: str) -> str:
    """A backslash before what would start a list, quote or heading at the start of a line (``- ``,
    ``+``, ``#``, ``>``, ``*``, ``1.``, ``1)``): CommonMark and Discord both show the character itself.
    For a numbered item the escape goes before the ``.`` or ``)``, since a backslash before a digit is not
    an escape."""

    def escaped(found: re.Match[str]) -> str:
        if found.group(2):
            return found.group(1) + "\\" + found.group(2)
        return found.group(1) + found.group(3) + "\\" + found.group(4)

    return _LINE_START.sub(escaped, text)


def backslash_escape(text: str, inline: re.Pattern[str]) -> str:
    """``text`` with a backslash before every character ``inline`` matches (its one group) and before what
    would start a list, quote or heading (:func:`escape_line_starts`): the Markdown dialects of Discord,
    Mattermost and Teams all show a backslash-escaped punctuation character as itself. Each target passes
    the characters its own dialect gives a meaning."""
    return escape_line_starts(inline.sub(r"\\\1", text))


# --- links ---------------------------------------------------------------------------------------------

_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f<>\"`{}|\\^]")


def safe_url(url: str | None) -> str | None:
    """``url`` as a link every target can carry, or None: only absolute http and https URLs with a host and
    no user name or password (``https://bank.example@evil.example/`` is a phishing trick), at most 2048
    characters. Characters with a meaning in the targets' link syntax (space, ``<``, ``>``, ``|``, ``(``,
    ``)``, quotes, backslash) are percent-encoded, so no markup can break out of a link."""
    if not url or not isinstance(url, str):
        return None
    candidate = url.strip()
    if _invisible().search(candidate):
        return None
    try:
        parts = urlsplit(candidate)
        port = parts.port  # raises on a malformed port
    except ValueError:
        return None
    del port
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return None
    if _URL_UNSAFE.search(parts.netloc):
        return None

    def encode(piece: str) -> str:
        # keep what is already percent-encoded and the URL's own delimiters; encode everything else
        return quote(piece, safe="/:@!$&'*+,;=%?-._~")

    rebuilt = urlunsplit(
        (
            parts.scheme.lower(),
            parts.netloc.lower(),
            encode(parts.path),
            encode(parts.query),
            encode(parts.fragment),
        )
    )
    # parentheses end a markdown link and '*' or '_' could start emphasis in a link text fallback
    rebuilt = rebuilt.replace("(", "%28").replace(")", "%29").replace("*", "%2A")
    if len(rebuilt) > MAX_URL:
        return None
    return rebuilt


# --- dates and words -----------------------------------------------------------------------------------

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ORDINALS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
)


def ordinal_word(number: int) -> str:
    """``3`` → ``third``; past twenty, ``21st``, ``22nd``, ``113th``."""
    if 1 <= number <= len(_ORDINALS):
        return _ORDINALS[number - 1]
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _as_day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def format_day(value: object, *, year: int | None = None) -> str:
    """An ISO date as people write it, ``23 July`` (the year only when it is not ``year``); anything that is
    not a date is returned as clean text (a deadline given as a span, ``50 days``)."""
    day = _as_day(value)
    if day is None:
        return clean_text(value)
    text = f"{day.day} {_MONTHS[day.month - 1]}"
    return text if day.year == year else f"{text} {day.year}"


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken as UTC already, like every time this project stores."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def format_moment(moment: datetime | None, where: tzinfo = UTC) -> str:
    """``20 July 2025, 09:14 UTC``, or in the reader's zone ``where``: ``20 July 2025, 12:14 EEST`` (naive
    moments are taken as UTC); "" for no moment."""
    if moment is None:
        return ""
    local = as_utc(moment).astimezone(where)
    return f"{format_day(local.date())}, {local:%H:%M} {local.tzname() or ''}".rstrip()


def plain_words(identifier: object) -> str:
    """A status or other identifier the classifier wrote (``under_way``) as words: ``under way``."""
    return clean_text(identifier).replace("_", " ")


_EVENT_LABELS = {"NEW_ROUND": "New round of talks", "EXCHANGE": "Exchange", "DEADLINE": "Deadline"}


def event_label(event_type: str) -> str:
    return _EVENT_LABELS.get(event_type) or plain_words(event_type).capitalize()


KIND_LABELS = {"new": "New", "update": "Update", "test": "Test"}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind) or clean_text(kind).capitalize()


# --- what happened, in one line --------------------------------------------------------------------------

_BODY_WORDS = re.compile(r"\b(bod(y|ies)|remains|fallen)\b|тел|тіл", re.IGNORECASE)
_CHILD_WORDS = re.compile(r"\b(child(ren)?|kids|minors|teenagers)\b|дет|діт", re.IGNORECASE)
_CAPTIVE_WORDS = re.compile(
    r"\b(prisoner|pows?\b|captive|soldier|servicem|defender|civilian|detain)|пленн|полон", re.I
)


def _count(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str) and value.strip().isdigit():
        return f"{int(value):,}"
    return clean_text(value) or None


def _fact(facts: object, name: str) -> object | None:
    try:
        value = facts[name]  # type: ignore[index]
    except (KeyError, TypeError, IndexError):
        return None
    return None if value is None or value == "" else value


def _round_line(message: AlertMessage, year: int) -> str:
    number = _fact(message.facts, "round")
    place = clean_text(_fact(message.facts, "place"))
    when = _fact(message.facts, "date")
    day = format_day(when, year=year) if when is not None else ""
    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
        subject = f"{ordinal_word(number).capitalize()} round of Russia–Ukraine talks"
    else:
        subject = "New round of Russia–Ukraine talks"
    at = f" in {place}" if place else ""
    on = f" on {day}" if day else ""
    status = message.status
    if status == "scheduled":
        return f"{subject} set for {day}{at}" if day else f"{subject} scheduled{at}"
    if status == "proposed":
        return f"{subject} proposed" + (f" for {day}" if day else "") + at
    if status == "under_way":
        return f"{subject} under way{at}"
    if status == "held":
        return f"{subject} held{at}{on}"
    return f"{subject} {plain_words(status)}{at}{on}".replace("  ", " ")


def _exchange_line(message: AlertMessage) -> str:
    count = _count(_fact(message.facts, "count"))
    said = " ".join(message.evidence)
    children = bool(_CHILD_WORDS.search(said)) and not _CAPTIVE_WORDS.search(said)
    bodies = bool(_BODY_WORDS.search(said)) and not _CAPTIVE_WORDS.search(said)
    agreed = message.status == "agreed"
    if children:
        what = f"{count} Ukrainian children" if count else "Ukrainian children"
        return f"Return of {what} agreed" if agreed else f"{what[0].upper()}{what[1:]} returned to Ukraine"
    noun = "bodies" if bodies else "prisoners"
    what = f"{count} {noun} each" if count else noun
    if agreed:
        return f"Russia and Ukraine agree to swap {what}"
    if message.status == "carried_out":
        return f"Russia and Ukraine swap {what}"
    return f"Russia and Ukraine swap {what} ({plain_words(message.status)})"


def _deadline_line(message: AlertMessage) -> str:
    deadline = _fact(message.facts, "deadline")
    when = format_day(deadline) if deadline is not None else ""
    lead = {"set": "Deadline set", "approaching": "Deadline approaching", "expired": "Deadline expired"}.get(
        message.status, f"Deadline {plain_words(message.status)}".strip()
    )
    return f"{lead}: {when}" if when else f"{lead} in the Russia–Ukraine talks"


_STATUS_CHANGE = re.compile(r"^status (\w+) -> (\w+)$")
_FACT_CHANGE = re.compile(r"(\w+) changed: (.*?) -> (.*?)(?=, \w+ changed: |$)")
_FACT_KNOWN = re.compile(r"(\w+) now known: ")


def change_text(message: AlertMessage) -> str:
    """What an update changed, in words: ``was scheduled``, ``date changed from 23 July to 24 July``,
    ``place now known``; the stored reason itself when it has another form."""
    reason = clean_text(message.reason)
    year = message.first_seen.year
    status = _STATUS_CHANGE.match(reason)
    if status:
        return f"was {plain_words(status.group(1))}"
    changes = _FACT_CHANGE.findall(reason)
    if changes:
        return "; ".join(
            f"{name} changed from {format_day(old, year=year)} to {format_day(new, year=year)}"
            for name, old, new in changes
        )
    known = _FACT_KNOWN.findall(reason)
    if known:
        return ", ".join(known) + " now known"
    return reason


def summary_line(message: AlertMessage) -> str:
    """What happened in one line, from the event type, status and facts, e.g. ``Third round of
    Russia–Ukraine talks set for 23 July in Istanbul``; ``Update: … (was scheduled)`` for an update and
    ``[TEST] …`` for a test message. Plain text, one line, at most 280 characters: each target escapes it."""
    year = message.first_seen.year
    if message.event_type == "NEW_ROUND":
        core = _round_line(message, year)
    elif message.event_type == "EXCHANGE":
        core = _exchange_line(message)
    elif message.event_type == "DEADLINE":
        core = _deadline_line(message)
    else:
        core = f"{event_label(message.event_type)}: {plain_words(message.status)}"
    core = clean_text(core)
    if message.kind == "update":
        change = shorten(change_text(message), 120)
        line = f"Update: {core} ({change})" if change else f"Update: {core}"
    elif message.kind == "test":
        line = f"[TEST] {core}"
    else:
        line = core
    return shorten(clean_text(line), SUMMARY_MAX)


# --- rows of facts -------------------------------------------------------------------------------------

_FACT_LABELS = {
    "round": "Round",
    "place": "Place",
    "date": "Date",
    "time": "Time",
    "count": "Count (each side)",
    "deadline": "Deadline",
}
FACT_VALUE_MAX = 200


def fact_rows(message: AlertMessage) -> list[tuple[str, str]]:
    """The event's facts as (label, plain text value) rows, known facts first in a fixed order, then any
    other the classifier adds, by name; empty facts are left out."""
    facts = dict(message.facts) if message.facts else {}
    ordered = [name for name in _FACT_LABELS if name in facts]
    ordered += sorted(str(name) for name in facts if name not in _FACT_LABELS)
    rows: list[tuple[str, str]] = []
    for name in ordered:
        raw = facts.get(name)
        if raw is None or raw == "":
            continue
        if name == "round" and isinstance(raw, int) and not isinstance(raw, bool):
            value = f"{raw} ({ordinal_word(raw)})"
        elif name in ("date", "deadline"):
            value = format_day(raw)
        elif name == "count":
            value = _count(raw) or ""
        else:
            value = clean_text(raw)
        # a name the classifier adds later becomes a label of letters, digits and spaces only: labels go
        # unescaped into places some targets do not parse as markup
        plain = re.sub(r"[^\w ]+", "", clean_text(name).replace("_", " ")).strip()
        label = _FACT_LABELS.get(name) or shorten(plain.capitalize(), 40) or "Fact"
        if value:
            rows.append((label, shorten(value, FACT_VALUE_MAX)))
    return rows


def detail_rows(message: AlertMessage) -> list[tuple[str, str]]:
    """Every row a card shows: the event, its status, its facts, how many outlets carry it, first seen."""
    rows = [("Event", event_label(message.event_type)), ("Status", plain_words(message.status))]
    rows += fact_rows(message)
    rows.append(("Outlets", f"{message.outlets:,}"))
    rows.append(("First seen", format_moment(message.first_seen)))
    return rows


EVIDENCE_PHRASE_MAX = 80


def evidence_phrases(message: AlertMessage, limit: int) -> list[str]:
    """Up to ``limit`` distinct matched phrases (case-insensitively), each clean and short."""
    seen: set[str] = set()
    phrases: list[str] = []
    for phrase in message.evidence:
        text = shorten(clean_text(phrase), EVIDENCE_PHRASE_MAX)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            phrases.append(text)
        if len(phrases) >= limit:
            break
    return phrases


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One first report, clean and short, ready for a target to escape."""

    title: str
    outlet: str
    published: str
    url: str | None  # from safe_url: http or https, or None (then the title is shown without a link)


OUTLET_MAX = 60


def report_lines(message: AlertMessage, limit: int, title_max: int) -> list[ReportLine]:
    """The first ``limit`` reports, oldest first as the message has them."""
    return [
        ReportLine(
            title=shorten(clean_text(report.title), title_max) or "(no title)",
            outlet=shorten(clean_text(report.outlet), OUTLET_MAX),
            published=format_moment(report.published),
            url=safe_url(report.url),
        )
        for report in message.reports[: max(limit, 0)]
    ]


def report_tail(report: ReportLine) -> str:
    """``Outlet, 20 July 2025, 08:55 UTC``: what follows a report's title in a list (plain text)."""
    return ", ".join(part for part in (report.outlet, report.published) if part)


def markdown_link(url: str | None, text: str) -> str:
    """``[text](url)`` for an already escaped ``text`` and a URL from :func:`safe_url`; the text alone
    without one."""
    return f"[{text}]({url})" if url else text


def report_entry(
    report: ReportLine,
    escape: Callable[[str], str],
    link: Callable[[str | None, str], str] = markdown_link,
) -> str:
    """One report in a target's markup: its escaped title as a link (``link`` gets the URL and the escaped
    title), then `` — `` and the escaped outlet and time."""
    tail = report_tail(report)
    return link(report.url, escape(report.title)) + (f" — {escape(tail)}" if tail else "")


def report_list(
    message: AlertMessage,
    detail: Detail,
    escape: Callable[[str], str],
    *,
    heading: str,
    bullet: str,
    more: str,
    link: Callable[[str | None, str], str] = markdown_link,
) -> str:
    """The first reports this detail level keeps, one :func:`report_entry` a line after ``bullet``, under
    ``heading``; then ``more`` (a format of ``extra``) when the message has reports left out. "" without
    reports."""
    lines = [
        bullet + report_entry(report, escape, link)
        for report in report_lines(message, detail.reports, detail.title_max)
    ]
    extra = len(message.reports) - len(lines)
    if lines and extra > 0:
        lines.append(more.format(extra=extra))
    return heading + "\n" + "\n".join(lines) if lines else ""


def first_report_url(message: AlertMessage) -> str | None:
    """The link of the earliest report that has a safe one."""
    return next((url for report in message.reports if (url := safe_url(report.url))), None)


def headline_text(message: AlertMessage, detail: Detail) -> str:
    return shorten(clean_text(message.headline), detail.title_max)


def why_text(message: AlertMessage, detail: Detail) -> str:
    """Why the alert fired: the stored reason, then the matched phrases this detail level keeps."""
    parts = []
    if detail.reason and clean_text(message.reason):
        parts.append(shorten(clean_text(message.reason), 200))
    phrases = evidence_phrases(message, detail.evidence)
    if phrases:
        parts.append("matched " + ", ".join(f"“{phrase}”" for phrase in phrases))
    return "; ".join(parts)


# --- pieces the Markdown cards share (Discord, Mattermost, Teams) -------------------------------------------

CHANGE_MAX = 300  # characters of what an update changed, on a card
WHY_MAX = 1500  # characters of the escaped "why" paragraph, on a card that does not set its own


def markdown_intro(message: AlertMessage, escape: Callable[[str], str]) -> str:
    """``**New** · New round of talks``; for an update, a second line ``**Changed:** …``. Only the change
    is escaped: the labels are this project's words, and an event type comes from the rules, not a feed."""
    intro = f"**{kind_label(message.kind)}** · {event_label(message.event_type)}"
    if message.kind == "update":
        intro += f"\n**Changed:** {escape(shorten(change_text(message), CHANGE_MAX))}"
    return intro


def markdown_why(
    message: AlertMessage, detail: Detail, escape: Callable[[str], str], limit: int = WHY_MAX
) -> str:
    """``**Why:** …``: :func:`why_text` escaped and fitted to ``limit``; "" when there is nothing to say."""
    why = why_text(message, detail)
    return "**Why:** " + fit(why, limit, escape) if why else ""


def event_footer(message: AlertMessage) -> str:
    """``aggregator · event <id>``: a footer is not Markdown, so the id is cleaned and its mentions made
    inert but nothing is escaped."""
    return shorten(f"aggregator · event {neutralise_mentions(clean_text(message.event_id))}", 200)


C = TypeVar("C")


def event_colour(message: AlertMessage, colours: Mapping[str, C], test_colour: C) -> C:
    """The card's accent colour: the event type's, or the grey ``test_colour`` for a test message and for
    a type without one."""
    return test_colour if message.kind == "test" else colours.get(message.event_type, test_colour)


# --- shortening budget ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Detail:
    """How much of an alert a payload carries. Renderers try :data:`DETAIL_LEVELS` in order and keep the
    first payload that fits the target, so the least important parts go first: evidence, then reports
    beyond the first, then long titles; the summary line is always there."""

    reports: int  # first reports listed
    evidence: int  # matched phrases listed under "why"
    title_max: int  # characters of each report title and of the headline
    reason: bool = True  # the stored reason ("why it fired")


T = TypeVar("T")

DETAIL_LEVELS: tuple[Detail, ...] = (
    Detail(reports=10, evidence=12, title_max=300),
    Detail(reports=10, evidence=5, title_max=300),
    Detail(reports=10, evidence=0, title_max=300),
    Detail(reports=5, evidence=0, title_max=200),
    Detail(reports=3, evidence=0, title_max=150),
    Detail(reports=1, evidence=0, title_max=120),
    Detail(reports=0, evidence=0, title_max=120, reason=False),
)


def first_fitting(
    build: Callable[[Detail], T], fits: Callable[[T], bool], levels: tuple[Detail, ...] = DETAIL_LEVELS
) -> T:
    """The payload of the first detail level that fits; the last level's otherwise (each renderer keeps
    its last level within the target's limits by construction, and its tests check it)."""
    for detail in levels[:-1]:
        payload = build(detail)
        if fits(payload):
            return payload
    return build(levels[-1])


# --- JSON bodies and Standard Webhooks signatures ----------------------------------------------------------

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def json_body(payload: object) -> bytes:
    """Compact UTF-8 JSON (non-ASCII kept as itself: limits in bytes count it once, not as ``\\uXXXX``)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def fitting_request(
    message: AlertMessage,
    build: Callable[[AlertMessage, Detail], dict[str, Any]],
    limit_problems: Callable[[dict[str, Any]], list[str]],
) -> OutgoingRequest:
    """The JSON request of the first detail level whose payload ``build`` makes breaks none of the target's
    limits (``limit_problems`` lists what a payload breaks)."""
    payload = first_fitting(lambda detail: build(message, detail), lambda p: not limit_problems(p))
    return json_request(message, payload)


def json_request(message: AlertMessage, payload: object) -> OutgoingRequest:
    """A JSON POST carrying the message's idempotency key as ``webhook-id`` (every target gets it, so a
    receiver or proxy that logs headers can match repeats)."""
    key = message.idempotency_key
    if not _IDEMPOTENCY_KEY.match(key):
        raise ValueError(f"idempotency key {key!r} must be 1-255 visible ASCII characters")
    return OutgoingRequest(
        body=json_body(payload),
        headers={"Content-Type": JSON_CONTENT_TYPE, "webhook-id": key},
        content_type=JSON_CONTENT_TYPE,
    )


def signing_key(secret: str) -> bytes:
    """The HMAC key for a secret: ``whsec_<base64>`` is base64-decoded (the Standard Webhooks convention for
    a serialised secret); any other string is used as its UTF-8 bytes. A malformed ``whsec_`` secret is a
    ValueError, so configuration checks can call this and name the key."""
    if not secret:
        raise ValueError("the signing secret is empty")
    if secret.startswith("whsec_"):
        encoded = secret[len("whsec_") :]
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError("a whsec_ secret must be base64 after the prefix") from error
        if not key:
            raise ValueError("a whsec_ secret must not be empty after the prefix")
        return key
    return secret.encode("utf-8")


def sign_request(request: OutgoingRequest, secret: str, now: datetime) -> OutgoingRequest:
    """``request`` with Standard Webhooks headers: ``webhook-timestamp`` (Unix seconds) and
    ``webhook-signature`` = ``v1,`` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))."""
    message_id = request.headers["webhook-id"]
    timestamp = str(int(now.timestamp()))
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + request.body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    headers = dict(request.headers)
    headers["webhook-timestamp"] = timestamp
    headers["webhook-signature"] = "v1," + base64.b64encode(digest).decode("ascii")
    return OutgoingRequest(body=request.body, headers=headers, content_type=request.content_type)


def walk_strings(value: object) -> Iterable[str]:
    """Every string in a parsed JSON value, keys included (tests and size checks use it)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from walk_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from walk_strings(item)
