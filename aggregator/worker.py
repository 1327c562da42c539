"""The parse worker: bytes of one feed → normalised, classified items, in a process of its own.

Parsing, normalising and classifying are CPU-bound, and a pathological feed must not stall or bloat the one
process that writes: the pipeline runs ``parse_and_normalise`` in worker processes. This module imports only
the stages it runs (no SQLAlchemy, no HTTP client), which keeps every worker about 20 MiB smaller.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from . import use_utc_clock
from .errors import FeedError
from .models import ClassifierConfig, Item, RawEntry, StoredVerdict

if TYPE_CHECKING:
    from .classify import RuleSet
    from .deduplicate import StoryTerms

# The stages a worker runs. This module imports them only where it runs them: the writer process imports it
# too (to name the job it sends and to read the outcome it gets back), and has no use for the parser's or
# the classifier's memory (feedparser, lxml, the rules' regexes). The workers' forkserver loads them all
# once, and every worker forked from it shares those pages.
WORKER_MODULES = (
    "aggregator.worker", "aggregator.parse", "aggregator.normalise", "aggregator.classify",
    "aggregator.deduplicate",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ParseOutcome:
    """What a parse worker sends back. Plain data: exceptions with custom __init__ do not pickle."""

    items: tuple[Item, ...] = ()
    verdicts: tuple[StoredVerdict | None, ...] = ()  # as the store writes them: made here, in parallel
    terms: tuple[StoryTerms | None, ...] = ()  # for relevant items: their words for the story stage
    entries: int = 0
    parser: str | None = None
    problem: str | None = None
    error: str | None = None
    reason: str | None = None


_worker_rules: RuleSet | None = None  # each worker process loads the rules once, at its start


def start_worker(classifier: ClassifierConfig, source: str, owner_pid: int | None = None) -> None:
    """Initialiser of a parse worker process (and of the in-process executor). ``source`` names the
    configuration's [classifier] section in errors."""
    global _worker_rules
    use_utc_clock()
    _worker_rules = classifier.load_rules(source)
    if owner_pid is not None:
        _exit_with_owner(owner_pid)


def _exit_with_owner(owner_pid: int) -> None:
    """A worker ends when the process that owns the pool is gone. Killed with -9, the owner cannot say so,
    and a worker would wait for work for ever, keeping the forkserver alive with it (it holds the
    forkserver's liveness pipe): orphans that pile up with every crash and restart."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(owner_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                os._exit(0)  # another user's process took the number: the owner is gone all the same

    threading.Thread(target=watch, name="watch-owner", daemon=True).start()


def parse_and_normalise(
    name: str,
    body: bytes,
    headers: dict[str, str],
    url: str,
    now: datetime,
    stored: Mapping[str, str] | None = None,
) -> ParseOutcome:
    """Runs in a worker process: bytes → classified Items, never raises for what a feed contains.

    `stored` maps the feed's stored keys to their content hashes: an item stored unchanged keeps its verdict
    and is not classified again (most of a re-polled feed).
    """
    from .classify import classify_item, default_rules
    from .deduplicate import text_terms
    from .normalise import normalise_feed
    from .parse import parse_feed

    stored = stored or {}
    try:
        parsed = parse_feed(body, headers, url)
        normalised = normalise_feed(name, parsed, now=now)
        rules = _worker_rules if _worker_rules is not None else default_rules()
        verdicts = tuple(
            None
            if stored.get(item.key) == item.content_hash
            else StoredVerdict.of(classify_item(item, rules))
            for item in normalised.items
        )
        # The story stage runs in the one writer process; its text work is done here, in parallel.
        terms = tuple(
            text_terms(item.title, item.summary) if verdict is not None and verdict.relevant else None
            for item, verdict in zip(normalised.items, verdicts, strict=True)
        )
    except FeedError as exc:
        return ParseOutcome(error=str(exc), reason=exc.reason)
    except Exception as exc:  # a parser bug must cost one feed, not the poll
        return ParseOutcome(error=f"parser failed: {type(exc).__name__}: {exc}", reason="parser_crash")
    notes = [parsed.problem] if parsed.problem else []
    if normalised.skipped:
        notes.append(f"{normalised.skipped} entries without id, link, title or text skipped")
    hostile = hostile_markup(parsed.entries)
    if hostile:
        notes.append(f"hostile content removed: {', '.join(hostile)}")
    flags = Counter(item.date_flag for item in normalised.items if item.date_flag)
    if flags:
        kinds = ", ".join(f"{n} {flag.replace('_', ' ')}" for flag, n in sorted(flags.items()))
        notes.append(f"{sum(flags.values())} entries with unusable dates ({kinds}): first-seen time used")
    problem = "; ".join(notes) or None
    return ParseOutcome(
        items=tuple(normalised.items),
        verdicts=verdicts,
        terms=terms,
        entries=len(parsed.entries),
        parser=parsed.parser,
        problem=problem,
    )


_SCRIPT_TAG = re.compile(r"<\s*script\b")
_HANDLER_ATTRIBUTE = re.compile(r"on[a-z]+\s*=")  # a literal prefix: the regex engine jumps between "on"s
_UNSAFE_SCHEMES = ("javascript", "vbscript", "data")
_BIDI_OVERRIDE = re.compile("[\u202a-\u202e\u2066-\u2069]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])  # no tab, LF, CR


def has_control_character(text: str) -> bool:
    """Whether text holds a C0 control character other than tab, LF and CR, or DEL. In UTF-8 each is one
    byte that no other character's encoding contains, so deleting them shortens the bytes exactly when
    one is there: a fourth of the time of a regex scan of every character (a third of the hostile scan)."""
    data = text.encode("utf-8", "surrogatepass")
    return len(data.translate(None, _CONTROL_BYTES)) != len(data)


def has_event_handler(folded: str) -> bool:
    """Whether an ``on...=`` attribute stands inside a tag of lower-cased text: what
    ``<[^>]+\\son[a-z]+\\s*=`` finds, in linear time. That regex tries every ``<`` and backtracks over the
    whole tag; with the unsafe-link and character scans below, it cost the worker 110 µs per entry."""
    for match in _HANDLER_ATTRIBUTE.finditer(folded):
        space = match.start() - 1  # the whitespace before the attribute
        if space < 0 or not folded[space].isspace():
            continue
        tag_end = folded.rfind(">", 0, space)  # a tag still open here began after the last ">"
        # and "[^>]+" needs one character before the space (an end below 0 would count from the far end)
        if folded.find("<", tag_end + 1, max(space - 1, 0)) != -1:
            return True
    return False


def has_unsafe_link(folded: str) -> bool:
    """Whether lower-cased text holds ``javascript:``, ``vbscript:`` or ``data:`` (space allowed before the
    colon). Found from the colons, which are few, rather than by trying a regex at every character."""
    colon = folded.find(":")
    while colon != -1:
        end = colon
        while end > 0 and folded[end - 1].isspace():
            end -= 1
        if folded.endswith(_UNSAFE_SCHEMES, 0, end):
            return True
        colon = folded.find(":", colon + 1)
    return False


# What to look for: each test gets the text and the text lower-cased.
_HOSTILE: tuple[tuple[str, Callable[[str, str], object]], ...] = (
    ("scripts", lambda _, folded: _SCRIPT_TAG.search(folded)),
    ("event handlers", lambda _, folded: has_event_handler(folded)),
    ("javascript: links", lambda _, folded: has_unsafe_link(folded)),
    ("bidi overrides", lambda text, _: not text.isascii() and _BIDI_OVERRIDE.search(text)),
    ("control characters", lambda text, _: has_control_character(text)),
)


def hostile_markup(entries: Iterable[RawEntry]) -> list[str]:
    """What hostile content the feed carried (normalise strips it all; the feed's state says it was there).
    Tags and schemes are matched without regard to case (on lower-cased text)."""
    found: set[str] = set()
    for entry in entries:
        text = " ".join(filter(None, (entry.title, entry.summary, entry.content, entry.link)))
        folded = text.lower()
        found.update(name for name, present in _HOSTILE if name not in found and present(text, folded))
    return sorted(found)
