"""Stories and tracked events: one story across outlets, one event across days, one alert per development.

Exact duplicates (the same canonical URL or fingerprint from another feed) are settled by the store when an
item is saved. This stage takes what is left — distinct relevant items with their classified events — and:

1. groups reports of the same development by different outlets into a Story. Wording alone is a weak
   signal across outlets (a TF-IDF cosine threshold reaches a pairwise F1 of about 0.4 on real reports),
   so an item is scored against the stories of its time window on four things: the words it shares with
   the story, weighted by how rare they are among recent stories, with named actors counting more; the
   events both carry and whether their facts agree (the same round, date, count or deadline) or clash;
   whether the development is at the same stage (a round announced is another story than the round held);
   and the time between them;
2. ties each event an item reports to a tracked Event (a round, a swap, a deadline) whose facts and status
   grow as reports come in, and whose status only moves forward;
3. decides, as a pure function of the event before and after the item, whether that is worth an alert:
   a new event, a changed key fact or a status that moved is; one more report of the same thing is not.

Everything here is in memory and bounded by time: stories and events older than the retention window are
forgotten, so assigning an item costs the same with 100k stored items as with 1k. The store persists what
:meth:`Deduplicator.assign` returns and hands the recent part back at start (no text is re-read).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import operator
import re
import unicodedata
import uuid
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

import snowballstemmer

from .models import (
    DATE_OF_PUBLICATION,
    STORY_RETENTION,
    AlertDecision,
    DetectedEvent,
    Event,
    Evidence,
    Story,
    StoryEvent,
    StoryInput,
)

# Status ladders: an event's status only moves to the right.
STATUSES: dict[str, tuple[str, ...]] = {
    "NEW_ROUND": ("proposed", "scheduled", "under_way", "held"),
    "EXCHANGE": ("agreed", "carried_out"),
    "DEADLINE": ("set", "approaching", "expired"),
}
# Stages that belong to one development: talk of a meeting before it vs the meeting itself.
_PHASE = {
    "proposed": 0,
    "scheduled": 0,
    "under_way": 1,
    "held": 1,
    "agreed": 0,
    "carried_out": 1,
    "set": 0,
    "approaching": 0,
    "expired": 1,
}
KEY_FACTS = ("round", "place", "date", "count", "deadline")

# A new event read only weakly (the classifier's score for it below this, by type) alerts once a second outlet
# reports it or a report reads it confidently: one outlet's misreading of a session or swap mentioned in
# passing is a common false alert. The levels are low on purpose: on the unread halves of our corpus, waiting
# below 0.9 cut false alerts most, but a development told by one outlet only (a swap or a deadline that one
# analysis names, as often in real coverage) would then never alert. Deadlines are not held back: their
# weakest readings were as often right as wrong. The digest lists such stories either way.
CORROBORATE_BELOW: Mapping[str, float] = MappingProxyType({"NEW_ROUND": 0.8, "EXCHANGE": 0.8})

# A new event that a report tells without any of its particulars (a round with no date and no number, a swap
# with no number of people, a deadline with no time) and not in its headline waits in the same way: such
# readings are mostly a session, swap or deadline recalled in passing. Every type, whatever the score: on our
# corpus's read halves they were right 3 times in 4, readings with a particular 39 times in 40. A development
# that is news is told with its particulars by some outlet, or in a headline.
CORROBORATE_BARE: frozenset[str] = frozenset(("NEW_ROUND", "EXCHANGE", "DEADLINE"))
# what makes a reading particular, by type: any one of these facts
PARTICULARS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"NEW_ROUND": ("date", "round"), "EXCHANGE": ("count",), "DEADLINE": ("deadline",)}
)
_LACKS = {"NEW_ROUND": "no date or round number", "EXCHANGE": "no number of people", "DEADLINE": "no time"}


@dataclass(frozen=True, slots=True)
class DedupSettings:
    """How stories and events are matched; defaults chosen on the development half of our own corpus."""

    story_window: timedelta = timedelta(hours=60)  # an item joins stories this close in time at most
    join_threshold: float = 0.5  # the lowest probability of "same development" that joins a story
    retention: timedelta = STORY_RETENTION  # stories kept for rarity figures and late items
    event_horizon: Mapping[str, timedelta] = field(
        default_factory=lambda: {
            "NEW_ROUND": timedelta(days=21),
            "EXCHANGE": timedelta(days=4),
            "DEADLINE": timedelta(days=45),
        }
    )
    # {} alerts every new event at once
    corroborate_below: Mapping[str, float] = field(default_factory=lambda: CORROBORATE_BELOW)
    # () alerts a new event told without its particulars at once
    corroborate_bare: Collection[str] = CORROBORATE_BARE

    @classmethod
    def alerting_at_once(cls) -> DedupSettings:
        """The defaults, but every new event alerts at its first report (``corroborate_weak = false``)."""
        return cls(corroborate_below={}, corroborate_bare=())


# --- what goes in and what comes out -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assignment:
    item: StoryInput
    story: Story
    new_story: bool
    score: float  # the join score (0 for a new story)
    events: tuple[Event, ...]
    decisions: tuple[AlertDecision, ...]


# --- text signature ------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# A separator between a digit and three more: "(?<=\d)[,. ](?=\d{3}\b)", opened with the separator so that the
# engine skips to those in C instead of trying the lookbehind at every character (same matches, half the time)
_THOUSANDS = re.compile(r"[,. ](?<=\d[,. ])(?=\d{3}\b)")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS = _words(
    """
    a about above after again against all also am an and any are around as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has have
    having he her here hers him his how i if in into is it its itself just me more most my no nor not now of
    off on once only or other our ours out over own same she should so some such than that the their theirs
    them then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours
    said says say saying told tells according reported reports report reporting news agency agencies
    added adding noted stated statement statements amid also however meanwhile week weeks day days today
    yesterday tomorrow monday tuesday wednesday thursday friday saturday sunday month months year years
    january february march april may june july august september october november december
    official officials source sources spokesman spokeswoman spokesperson people may might must shall
    one two new latest per via since still yet already back well like get got make made take took
    """
)
# Words nearly every relevant report carries: they say "this is about the talks", not "this development".
_COMMON_IN_DOMAIN = _words(
    """
    russia russian russians ukraine ukrainian ukrainians kyiv kiev moscow kremlin war peace talks
    negotiations negotiation negotiators sides side delegation delegations president minister foreign
    ministry government country countries conflict ceasefire deal agreement meeting
    """
)
_ACTOR_WEIGHT = 1.6
_COMMON_WEIGHT = 0.35
_MAX_TERMS = 96  # a story's signature keeps its most frequent words (up to twice as many between trims)
_SWEEP_EVERY = timedelta(hours=1)
_CROWDED = 32  # a word more stories of the window carry than this finds no particular story
_MOST_CANDIDATES = 24  # stories scored in full per item: those sharing the most telling words


_STEMMER = snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # "swap", "swaps", "swapped" are one word to a reader; the stemmer leaves other scripts alone.
    return _STEMMER.stemWord(word) if word.isascii() else word


_COMMON_STEMS = frozenset(_stem(word) for word in _COMMON_IN_DOMAIN)


StoryTerms = tuple[frozenset[str], frozenset[str]]  # (words, actors)


def text_terms(title: str, summary: str) -> StoryTerms:
    """(words, actors) of an item: stems of its content words, and of the capitalised ones in sentences."""
    text = unicodedata.normalize("NFKC", f"{title}. {summary}" if title else summary)
    text = _THOUSANDS.sub("", text)
    words: set[str] = set()
    actors: set[str] = set()
    add_word, add_actor = words.add, actors.add
    terms = _TERMS
    if len(terms) > _MOST_TERMS:
        terms.clear()
    sentence_start = True
    for match in _WORD.finditer(text):
        word = match.group()
        term = terms.get(word, _UNSEEN)
        if term is _UNSEEN:
            term = terms[word] = _term_of(word)
        if term is None:
            sentence_start = False
            continue
        stem, named = term
        add_word(stem)
        # (where a sentence starts matters only for a capitalised word: looked at only for those)
        if named and not sentence_start:
            start = match.start()
            before = text[start - 2 : start] if start else ""
            if _OPENERS.isdisjoint(before):
                add_actor(stem)
        sentence_start = False
    return frozenset(words), frozenset(actors)


def _term_of(word: str) -> tuple[str, bool] | None:
    """A word's stem and whether it names an actor when not at a sentence's start; None for a word no
    signature keeps. (A function of the word alone: text_terms remembers it for every word it meets.)"""
    folded = word.casefold()
    if folded in _STOPWORDS or (len(folded) < 3 and not folded.isdigit()):
        return None
    return _stem(folded), word[0].isupper() and folded not in _COMMON_IN_DOMAIN


_OPENERS = frozenset(".!?:\"'«“\n")  # a word one of these stands just before may start a sentence
_TERMS: dict[str, tuple[str, bool] | None] = {}  # word -> _term_of(word), emptied when it grows past:
_MOST_TERMS = 1 << 17
_UNSEEN = object()


# --- stages and event facts ----------------------------------------------------------------------------

# Cues of a stage in the words of an event's evidence (classified spans, so short: "took place", "be held").
_PAST_CUES = re.compile(
    r"\b(?:took place|(?<!be )(?<!been )held|met|ended|concluded|wrapped up|finished)\b"
    r"|\b(?:was|were|been) held\b"
)
_UNDER_WAY_CUES = re.compile(
    r"\b(?:under ?way|began|begins?|opened|opens|started|starts|kicked off|resumed)\b"
)
# "may" is left out: as a cue it is mostly the month.
_PROPOSAL_CUES = re.compile(r"\b(?:propos\w*|offer\w*|suggest\w*|invit\w*|floated|could|might|ready)\b")


def event_stage(event: DetectedEvent, published: date | None) -> str:
    """The stage of the development an item reports, from its stated dates and the wording of its evidence."""
    if event.type == "NEW_ROUND":
        when = _iso(event.facts.get("date"))
        if when and published and when < published:
            return "held"
        rules = {e.rule for e in event.evidence}
        cues = _cues(event.evidence)
        if when and published:
            if when == published:
                return "held" if "modality.past" in rules or _has(cues, _PAST_CUES) else "under_way"
            return "proposed" if _has(cues, _PROPOSAL_CUES) else "scheduled"
        if "modality.past" in rules or _has(cues, _PAST_CUES):
            return "held"
        if _has(cues, _UNDER_WAY_CUES):
            return "under_way"
        if _has(cues, _PROPOSAL_CUES) and "modality.concrete" not in rules:
            return "proposed"
        return "scheduled"
    if event.type == "EXCHANGE":
        when = _iso(event.facts.get("date"))
        if when and published and when < published:
            return "carried_out"
        if any(e.rule == "modality.carried_out" for e in event.evidence):
            return "carried_out"
        # Without a cue, "agreed": if the swap is in fact done, the report saying so is then an update, and
        # a swap that is only agreed never looks done already.
        return "agreed"
    deadline = _iso(event.facts.get("deadline"))
    if deadline and published:
        if published >= deadline:
            return "expired"
        if (deadline - published).days <= 3:
            return "approaching"
    return "set"


def _cues(spans: Sequence[Evidence]) -> str:
    """The words of an event's evidence, casefolded, one span after another."""
    # A span inside a longer one ("held" in "be held") is the same words read twice: keep the longer.
    # (A span is inside a longer one when another span, not the same, holds it. Read by start, the longest
    # first, those before a span are the others that start before it or with it and reach further: one of
    # them holds it when the furthest of their ends reaches its end. Spans compared pairwise were quadratic.)
    inside: set[tuple[int, int]] = set()
    furthest = -1
    for start, end in sorted({(e.start, e.end) for e in spans}, key=_start_longest_first):
        if furthest >= end:
            inside.add((start, end))
        furthest = max(furthest, end)
    return " | ".join(e.text.casefold() for e in spans if (e.start, e.end) not in inside)


def _start_longest_first(span: tuple[int, int]) -> tuple[int, int]:
    return span[0], -span[1]


def _has(text: str, cues: re.Pattern[str]) -> bool:
    return cues.search(text) is not None


def _iso(value: object) -> date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    return _iso_date(value)


@functools.lru_cache(maxsize=4096)
def _iso_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _fold(value: object) -> str:
    return _fold_text(str(value))


@functools.lru_cache(maxsize=4096)
def _fold_text(value: str) -> str:
    text = unicodedata.normalize("NFKD", value.casefold().replace("ı", "i"))
    return "".join(c for c in text if not unicodedata.combining(c)).strip()


def facts_agree(key: str, first: object, second: object) -> bool:
    """Two statements of one fact agree; dates may be a day apart (time zones, "overnight")."""
    if first == second:
        return True
    if key in ("date", "deadline"):
        a, b = _iso(first), _iso(second)
        if a and b:
            return abs((a - b).days) <= 1
    if key in ("round", "count"):
        try:
            return int(str(first).replace(",", "")) == int(str(second).replace(",", ""))
        except ValueError:
            pass
    return _fold(first) == _fold(second)


_AGREEMENTS: dict[tuple[str, object, object], bool] = {}
_MEMO_AGREEMENT = 1 << 16  # remembered comparisons at most (cleared when full)


def _agree(key: str, first: object, second: object) -> bool:
    """facts_agree, remembered for strings and integers: every candidate story and open event compares the
    same few values again. (A str never equals an int, so equal keys mean equal values of the same types;
    other types are compared afresh: 1 == 1.0 == True and 0.0 == -0.0, yet they fold apart.)"""
    if first.__class__ not in _MEMO_TYPES or second.__class__ not in _MEMO_TYPES:
        return facts_agree(key, first, second)
    memo_key = (key, first, second)
    agreed = _AGREEMENTS.get(memo_key)
    if agreed is None:
        if len(_AGREEMENTS) >= _MEMO_AGREEMENT:
            _AGREEMENTS.clear()
        agreed = _AGREEMENTS[memo_key] = facts_agree(key, first, second)
    return agreed


_MEMO_TYPES = frozenset((str, int))


def event_key(event_type: str, facts: Mapping[str, object]) -> str:
    parts = [event_type]
    for name in ("place", "round", "date", "count", "deadline"):
        value = facts.get(name)
        if value is not None:
            parts.append(f"{name}={_fold(value)}")
    return ":".join(parts)


# --- the in-memory state -------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)  # hashed and compared by identity: the index holds sets of them
class _StoryEntry:
    id: str
    first_seen: datetime
    last_seen: datetime
    headline: str
    item_count: int
    sources: set[str]
    terms: Counter[str]
    actors: set[str]
    facts: dict[str, dict[str, object]]  # event type -> fact -> value
    stages: dict[str, Counter[str]]  # event type -> stage -> items
    event_ids: dict[str, str]
    primaries: Counter[str] = field(default_factory=Counter)  # each item's main event type ("" for none)
    norm: float | None = None  # length of the story's word vector; None: to be computed
    day: int = 0  # the day its words are indexed under: its first report's, when it was indexed
    # What every candidate item is scored against, kept current as the story grows (see refresh):
    event_types: frozenset[str] = frozenset()  # the event types its items report
    main_event: str = ""  # the main event type most of its items report ("" for none)
    main_phase: int = -1  # the phase of that event's stage here (_PHASE), -1 for none
    # each event type's stage (see stage): read for every candidate and snapshot, the stages change less often
    stage_of: dict[str, str] = field(default_factory=dict)
    # Sorted copies for snapshots; sources and actors only grow, so an equal length means still current.
    sorted_sources: tuple[str, ...] = ()
    sorted_actors: tuple[str, ...] = ()
    # Whether no word counts more of its items than it has (true of every story built here): what the
    # ceiling of a dot product in Deduplicator._best_story assumes.
    bounded: bool = True

    def refresh(self) -> None:
        """Recompute what scoring reads of the story's events, after its stages or primaries changed."""
        self.stage_of = {kind: self._stage(kind) for kind in self.stages}
        self.event_types = frozenset(self.stages)
        primaries = self.primaries
        # primaries.most_common(1)[0][0]: the first of the most
        self.main_event = max(primaries, key=primaries.__getitem__) if primaries else ""
        self.main_phase = _PHASE[self.stage(self.main_event)] if self.main_event in self.stages else -1

    def snapshot(self) -> Story:
        if len(self.sorted_sources) != len(self.sources):
            self.sorted_sources = tuple(sorted(self.sources))
        if len(self.sorted_actors) != len(self.actors):
            self.sorted_actors = tuple(sorted(self.actors))
        return Story(
            id=self.id,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            headline=self.headline,
            item_count=self.item_count,
            sources=self.sorted_sources,
            events=tuple(
                StoryEvent(kind, dict(self.facts.get(kind, {})), self.stage(kind), dict(self.stages[kind]))
                for kind in sorted(self.stages)
            ),
            event_ids=dict(self.event_ids),
            terms=dict(self.terms),
            actors=self.sorted_actors,
            primaries=dict(self.primaries),
        )

    def stage(self, kind: str) -> str:
        found = self.stage_of.get(kind)
        return found if found is not None else self._stage(kind)

    def _stage(self, kind: str) -> str:
        stages = self.stages.get(kind)
        if not stages:
            return STATUSES[kind][0]
        return max(stages.items(), key=lambda pair: (pair[1], STATUSES[kind].index(pair[0])))[0]


@dataclass(slots=True, eq=False)  # compared by identity: the recency lists find an entry by it
class _EventEntry:
    id: str
    type: str
    status: str
    facts: dict[str, object]
    first_seen: datetime
    last_seen: datetime
    story_ids: list[str]
    sources: set[str]
    last_alert_story: str | None
    last_alert_at: datetime | None = None
    sorted_sources: tuple[str, ...] = ()  # for snapshots; sources only grow (see _StoryEntry)
    opened: int = 0  # the order it became open in (the order of Deduplicator._open_events)

    def snapshot(self) -> Event:
        if len(self.sorted_sources) != len(self.sources):
            self.sorted_sources = tuple(sorted(self.sources))
        return Event(
            id=self.id,
            type=self.type,
            key=event_key(self.type, self.facts),
            status=self.status,
            facts=dict(self.facts),
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            story_ids=tuple(self.story_ids),
            sources=self.sorted_sources,
            last_alert_story=self.last_alert_story,
            last_alert_at=self.last_alert_at,
        )


@dataclass(frozen=True, slots=True)
class _ItemProfile:
    """What scoring reads of an item's events, worked out once per item rather than once per candidate."""

    types: frozenset[str]
    main: str  # the event the item is mainly about ("" for none)
    main_phase: int  # phases[main], -1 for none (read for every candidate story)
    phases: Mapping[str, int]  # the phase of each event's stage in the item (_PHASE)
    # (event type, fact, value, its agreement with other values) of each event, in order
    facts: tuple[tuple[str, str, object, _Agreement], ...]
    # the figures of people the text states, when it reports a swap's count (_gives_the_other_sides_figure)
    figures: frozenset[int]

    @classmethod
    def of(
        cls, events: Sequence[DetectedEvent], stages: Mapping[str, str], words: frozenset[str]
    ) -> _ItemProfile:
        main = _primary_type(events)
        phases = {kind: _PHASE[stage] for kind, stage in stages.items()}
        return cls(
            types=frozenset(event.type for event in events),
            main=main,
            main_phase=phases.get(main, -1),
            phases=phases,
            facts=tuple(
                (event.type, name, value, _Agreement(name, value))
                for event in events
                for name, value in event.facts.items()
            ),
            # (text_terms keeps a figure as its digits, "1,200" as "1200")
            figures=frozenset(int(word) for word in words if word.isdigit() and len(word) < 8)
            if any("count" in event.facts for event in events)
            else frozenset(),
        )

    def stated(self, event_type: str) -> dict[str, object]:
        """The facts the item states of its event of this type."""
        return {name: value for kind, name, value, _ in self.facts if kind == event_type}


class _Agreement:
    """Whether other values of a fact agree with one value (facts_agree), remembered per value compared: an
    item's fact is compared with the same few values of many stories and open events."""

    __slots__ = ("known", "name", "value")

    def __init__(self, name: str, value: object) -> None:
        self.name = name
        self.value = value
        self.known: dict[object, bool] | None = {} if value.__class__ in _MEMO_TYPES else None

    def with_(self, other: object) -> bool:
        known = self.known
        # Only str and int are remembered: equal values of other types can fold apart (1, 1.0, True).
        if known is None or other.__class__ not in _MEMO_TYPES:
            return _agree(self.name, self.value, other)
        agreed = known.get(other)
        if agreed is None:
            agreed = known[other] = _agree(self.name, self.value, other)
        return agreed


class _Rarity(dict[int, tuple[float, float, float]]):
    """Document frequency -> a word's weight as a plain word, a common one and a named actor (see
    Deduplicator._weights), filled on demand for one number of stories (`stories`; emptied when it changes).
    A story's norm weighs its ~100 words again after each change of the story; they have a few dozen
    frequencies between them."""

    __slots__ = ("stories",)

    def __init__(self) -> None:
        super().__init__()
        self.stories = 0

    def __missing__(self, frequency: int) -> tuple[float, float, float]:
        rarity = math.log((self.stories + 25) / (1 + frequency))
        common = rarity * _COMMON_WEIGHT
        actor = rarity * _ACTOR_WEIGHT
        weights = self[frequency] = (
            rarity if rarity > 0 else 0.0,
            common if common > 0 else 0.0,
            actor if actor > 0 else 0.0,
        )
        return weights


_ZEROS = itertools.repeat(0)  # the default of every document frequency looked up by map()


class Deduplicator:
    """Assigns items to stories and events, one at a time, over a bounded window of recent ones."""

    def __init__(
        self,
        stories: Iterable[Story] = (),
        events: Iterable[Event] = (),
        settings: DedupSettings | None = None,
    ) -> None:
        self.settings = settings or DedupSettings()
        self._stories: dict[str, _StoryEntry] = {}
        self._events: dict[str, _EventEntry] = {}
        # Events a report could still be matched to, by type: what _event_for scans (the rest are kept only
        # until the stories that name them leave the window).
        self._open_events: dict[str, dict[str, _EventEntry]] = defaultdict(dict)
        # word -> day of the story's first report -> the stories carrying it: postings by day, so a lookup
        # reads only the days of the item's window, however many stories the retention keeps. One lookup per
        # word finds all its days; emptied levels are removed.
        self._by_term: dict[str, dict[int, set[_StoryEntry]]] = {}
        self._document_frequency: Counter[str] = Counter()  # word -> stories carrying it
        # (event type, fact, value) -> the stories stating it: candidates that share no telling word with a
        # report of the same development (another language, other words) are found by what they report
        self._by_fact: dict[tuple[str, str, object], set[_StoryEntry]] = {}
        # word -> stories carrying it indexed under the days of _carriers_days (the last item's window):
        # whether a word is telling, without summing its postings again for every item of the same days
        # (kept current as stories take and lose words; filled on demand, emptied when the days move).
        self._carriers: dict[str, int] = {}
        self._carriers_days: tuple[int, int] | None = None
        # word -> the stories of those days carrying it, for telling words (kept and emptied the same way)
        self._tellers: dict[str, set[_StoryEntry]] = {}
        self._rarity = _Rarity()  # see _rarities
        self._latest: datetime | None = None  # the newest publication time seen: the clock of retention
        self._swept: datetime | None = None
        for story in stories:
            self._add_story(_entry_from_story(story))
        # Open events by type, the last seen first and, of equals, the first opened: _event_for reads them in
        # the order it prefers them in, so it can stop at the first one that matches as well as any could.
        self._recency: dict[str, list[_EventEntry]] = defaultdict(list)
        self._opened = itertools.count()
        for event in events:
            self._events[event.id] = self._open_events[event.type][event.id] = _EventEntry(
                id=event.id,
                type=event.type,
                status=event.status,
                facts=dict(event.facts),
                first_seen=event.first_seen,
                last_seen=event.last_seen,
                story_ids=list(event.story_ids),
                sources=set(event.sources),
                last_alert_story=event.last_alert_story,
                last_alert_at=event.last_alert_at,
            )
        for kind, open_events in self._open_events.items():
            for entry in open_events.values():
                entry.opened = next(self._opened)
            # A stable sort, reversed or not, keeps equals in their order: the first opened first.
            self._recency[kind] = sorted(open_events.values(), key=_last_seen, reverse=True)

    @property
    def story_count(self) -> int:
        return len(self._stories)

    # -- stories --

    def assign(self, item: StoryInput) -> Assignment:
        stated = _stated_events(item.events)
        if stated is not item.events:
            item = dataclasses.replace(item, events=stated)
        published = item.published
        published_day = published.date()
        words, actors = item.terms if item.terms is not None else text_terms(item.title, item.summary)
        event_stages = [event_stage(event, published_day) for event in item.events]
        # By type: an item reporting one type twice is at the stage its last report of it says.
        stages = {event.type: stage for event, stage in zip(item.events, event_stages, strict=True)}
        profile = _ItemProfile.of(item.events, stages, words)
        best, best_score = self._best_story(profile, published, self._weights(words, actors))
        new_story = best is None
        if best is None:
            best = _StoryEntry(
                id=_new_id(),
                first_seen=published,
                last_seen=published,
                headline=item.title or _first_sentence(item.summary),
                item_count=0,
                sources=set(),
                terms=Counter(),
                actors=set(),
                facts={},
                stages={},
                event_ids={},
            )
            self._add_story(best)
            best_score = 0.0
        self._grow_story(best, item, words, actors, stages, profile.main)
        events, decisions = self._track_events(best, item, stages, event_stages, profile.figures)
        self._forget_old(published)
        return Assignment(item, best.snapshot(), new_story, round(best_score, 4), events, decisions)

    def add_source(
        self, story_id: str, source: str, item_key: str, at: datetime
    ) -> tuple[Story, tuple[Event, ...], tuple[AlertDecision, ...]] | None:
        """Another outlet carries an item of a story word for word (the store found the same URL or text):
        the story and its events count that outlet. None when the story has left the window."""
        story = self._stories.get(story_id)
        if story is None or source in story.sources:
            return None
        story.sources.add(source)
        events: list[Event] = []
        decisions: list[AlertDecision] = []
        item = StoryInput(key=item_key, source=source, title="", summary="", published=at)
        for event_id in story.event_ids.values():
            entry = self._events.get(event_id)
            if entry is None or source in entry.sources:
                continue
            entry.sources.add(source)
            after = entry.snapshot()
            events.append(after)
            decisions.append(
                _decision(after, story_id, item, False, "repeat", "the same report, another outlet")
            )
        return story.snapshot(), tuple(events), tuple(decisions)

    def _best_story(
        self, profile: _ItemProfile, published: datetime, vector: Mapping[str, float]
    ) -> tuple[_StoryEntry | None, float]:
        """The story the item joins (None: a new one) and its score: of the candidates, the one of the highest
        score at least the join threshold; of equal scores, the later candidate.

        Scoring a candidate in full looks all the item's common words up in it. A common word adds at most
        its squared weight to a dot product (a story's items carry a word once each, so it counts at most
        item_count of them), which gives each candidate a ceiling score; candidates are scored in full from
        the highest ceiling down, until a ceiling is below the best score found: the rest cannot win. Before
        that, the heaviest few common words are looked up, for a lower ceiling.
        """
        length = math.sqrt(sum(weight * weight for weight in vector.values()))
        candidates, common = self._candidates(published, vector, profile.facts)
        common_ceiling = sum(squared for _, squared in common)
        heavy = sorted(common, key=_second, reverse=True)[:_HEAVY] if len(common) > _HEAVY else []
        heavy_words = {word for word, _ in heavy}
        light_ceiling = sum(squared for word, squared in common if word not in heavy_words)
        exp = math.exp
        best: _StoryEntry | None = None
        best_score, best_position = self.settings.join_threshold, -1
        # (ceiling score, position, story, its norm, dot product over telling words, event logit, the logit's
        # part for days apart)
        ceilings: list[tuple[float, int, _StoryEntry, float, float, float, float]] = []
        for position, (dot, story) in enumerate(candidates):
            # A norm is computed again only when the story changed, with the word weights of the first item it
            # is then a candidate for, and read by later items: so every candidate's, even one not scored.
            if story.norm is None:
                story.norm = self._story_norm(story)
            norm = story.norm
            # Days from the story's first report: reports of one development follow it closely, and measuring
            # from the first (not the latest) keeps a story from drifting along loosely related reports.
            days = _JOIN_PER_DAY * (abs(published - story.first_seen).total_seconds() / 86400)
            event_logit = _event_logit(profile, story) + _later_stage(profile, story, published)
            if length and norm and story.bounded:
                most = _JOIN_BIAS + _JOIN_TEXT * ((dot + common_ceiling) * _CEILING_MARGIN / length / norm)
                # (a margin in the logit keeps rounding from making a ceiling lower than the score)
                ceiling = 1 / (1 + exp(-(most + event_logit - days + _LOGIT_MARGIN)))
                if ceiling >= best_score:
                    ceilings.append((ceiling, position, story, norm, dot, event_logit, days))
                continue
            cosine = self._add_common(dot, story, common) / length / norm if length and norm else 0.0
            score = 1 / (1 + exp(-(_JOIN_BIAS + _JOIN_TEXT * cosine + event_logit - days)))
            if score > best_score or (score == best_score and position > best_position):
                best, best_score, best_position = story, score, position
        ceilings.sort(key=_first, reverse=True)
        for ceiling, position, story, norm, dot, event_logit, days in ceilings:
            if ceiling < best_score:
                break  # nor can any after it beat (or equal) the best
            if heavy:
                terms = story.terms
                count = max(story.item_count, 1)
                most_common = light_ceiling
                for word, squared in heavy:
                    times = terms.get(word)
                    if times:
                        most_common += squared * times / count
                most = _JOIN_BIAS + _JOIN_TEXT * ((dot + most_common) * _CEILING_MARGIN / length / norm)
                if 1 / (1 + exp(-(most + event_logit - days + _LOGIT_MARGIN))) < best_score:
                    continue
            cosine = self._add_common(dot, story, common) / length / norm
            score = 1 / (1 + exp(-(_JOIN_BIAS + _JOIN_TEXT * cosine + event_logit - days)))
            if score > best_score or (score == best_score and position > best_position):
                best, best_score, best_position = story, score, position
        return best, best_score

    def _candidates(
        self,
        published: datetime,
        vector: Mapping[str, float],
        facts: Sequence[tuple[str, str, object, _Agreement]] = (),
    ) -> tuple[list[tuple[float, _StoryEntry]], list[tuple[str, float]]]:
        """Stories of the item's time window that share a telling word with it, with the dot product of the
        item's word vector with theirs over those words (accumulated over the index's postings: no story is
        scanned whole), the highest first (then by id), at most _MOST_CANDIDATES; and the item's common
        words with their squared weights, which the caller adds for the candidates it scores in full."""
        window = self.settings.story_window
        # A day either side more than the window: a story's first report can move earlier after indexing.
        first_day = _day(published - window) - 1
        last_day = _day(published + window) + 1
        if self._carriers_days != (first_day, last_day):
            self._carriers_days = (first_day, last_day)
            self._carriers.clear()
            self._tellers.clear()
        carriers = self._carriers
        tellers = self._tellers
        crowded = max(5, min(_CROWDED, len(self._stories) // 3))
        by_term = self._by_term
        dots: dict[_StoryEntry, float] = {}
        dot_of = dots.get
        common: list[tuple[str, float]] = []
        for word, weight in vector.items():
            carried = carriers.get(word)
            if carried is None:
                by_day = by_term.get(word)
                carried = carriers[word] = (
                    0 if by_day is None else sum(map(len, _in_days(by_day, first_day, last_day)))
                )
            if not carried:
                continue
            squared = weight * weight
            if carried > crowded or word in _COMMON_STEMS:
                common.append((word, squared))  # a word most stories carry finds no particular story
                continue
            holders = tellers.get(word)
            if holders is None:
                holders = tellers[word] = set().union(*_in_days(by_term[word], first_day, last_day))
            for story in holders:
                count = story.item_count
                dots[story] = dot_of(story, 0.0) + squared * (story.terms[word] / (count if count > 1 else 1))
        # first_seen - window <= published <= last_seen + window, with the window moved to the item's side.
        earliest, latest = published - window, published + window
        in_window = [
            (dot, story.id, story)
            for story, dot in dots.items()
            if story.first_seen <= latest and story.last_seen >= earliest
        ]
        # heapq.nlargest(_MOST_CANDIDATES, (dot, id) of in_window), which is this (and slower on a few dozen)
        in_window.sort(reverse=True)
        chosen = [(dot, story) for dot, _, story in in_window[:_MOST_CANDIDATES]]
        if facts:
            # stories of the window stating one of the item's facts and sharing no telling word with it: a
            # report in Russian of the round an English story tells (their dot product is over common words)
            by_fact = self._by_fact
            stating = {
                story
                for kind, name, value, _ in facts
                if name in _CANDIDATE_FACTS
                for story in by_fact.get((kind, name, value), ())
                if story not in dots and story.first_seen <= latest and story.last_seen >= earliest
            }
            # (only those whose facts all agree with the item's: with no words to go by, a clash of figures
            # or days is two developments, "nine children home" beside "300 for 300 agreed" the same day)
            agreeing = [story for story in stating if not _clashes(facts, story)]
            chosen += [(0.0, story) for story in sorted(agreeing, key=_story_id)[:_MOST_FACT_CANDIDATES]]
        return chosen, common

    @staticmethod
    def _add_common(dot: float, story: _StoryEntry, common: Sequence[tuple[str, float]]) -> float:
        """The dot product of the item's word vector with the story's, from the part over telling words."""
        terms = story.terms
        count = max(story.item_count, 1)
        for word, squared in common:
            times = terms.get(word)
            if times:
                dot += squared * times / count
        return dot

    def _weights(self, words: Iterable[str], actors: set[str] | frozenset[str]) -> dict[str, float]:
        """Each word's weight: its rarity among the stories we remember (a prior of unseen stories keeps
        early scores sane), more for a named actor, less for a word every report of the talks carries."""
        return {
            word: weights[2] if word in actors else weights[1] if word in _COMMON_STEMS else weights[0]
            for word, weights in zip(words, self._rarities(words), strict=True)
        }

    def _rarities(self, words: Iterable[str]) -> Iterator[tuple[float, float, float]]:
        """The weights of each word (see _Rarity), for the number of stories there are now."""
        rarity = self._rarity
        if rarity.stories != len(self._stories):
            rarity.clear()
            rarity.stories = len(self._stories)
        return map(rarity.__getitem__, map(self._document_frequency.get, words, _ZEROS))

    def _story_norm(self, story: _StoryEntry) -> float:
        count = max(story.item_count, 1)
        actors = story.actors
        terms = story.terms
        # the weights of _weights(terms, actors), inline
        return math.sqrt(
            sum(
                [
                    (
                        (
                            weights[2]
                            if word in actors
                            else weights[1]
                            if word in _COMMON_STEMS
                            else weights[0]
                        )
                        * times
                        / count
                    )
                    ** 2
                    for word, times, weights in zip(terms, terms.values(), self._rarities(terms), strict=True)
                ]
            )
        )

    def _carriers_on(self, day: int) -> dict[str, int] | None:
        """The counts of stories carrying each word in the cached candidate window, when ``day`` is in it:
        a story of that day indexed or unindexed changes them."""
        days = self._carriers_days
        return self._carriers if days is not None and days[0] <= day <= days[1] else None

    def _index(self, words: Iterable[str], story: _StoryEntry) -> None:
        """Index the story under words it did not carry; keep document frequencies, _carriers and _tellers
        current."""
        by_term, frequency = self._by_term, self._document_frequency
        day = story.day
        carriers = self._carriers_on(day)
        for word in words:
            by_day = by_term.get(word)
            if by_day is None:
                by_day = by_term[word] = {}
            stories = by_day.get(day)
            if stories is None:
                stories = by_day[day] = set()
            if story not in stories:
                stories.add(story)
                if carriers is not None:
                    carried = carriers.get(word)
                    if carried is not None:
                        carriers[word] = carried + 1
                    holders = self._tellers.get(word)
                    if holders is not None:
                        holders.add(story)
            frequency[word] += 1

    def _unindex(self, words: Iterable[str], story: _StoryEntry) -> None:
        """The reverse of _index, for words the story no longer carries."""
        by_term, frequency = self._by_term, self._document_frequency
        day = story.day
        carriers = self._carriers_on(day)
        for word in words:
            by_day = by_term.get(word)
            if by_day is not None:
                holders = by_day.get(day)
                if holders is not None and story in holders:
                    holders.remove(story)
                    if carriers is not None:
                        carried = carriers.get(word)
                        if carried is not None:
                            carriers[word] = carried - 1
                        tellers = self._tellers.get(word)
                        if tellers is not None:
                            tellers.discard(story)
                    if not holders:
                        del by_day[day]
                        if not by_day:
                            del by_term[word]
            frequency[word] -= 1
            if frequency[word] <= 0:
                del frequency[word]

    def _add_story(self, story: _StoryEntry) -> None:
        self._stories[story.id] = story
        story.day = _day(story.first_seen)
        self._index(story.terms, story)
        for kind, known in story.facts.items():
            for name, value in known.items():
                self._index_fact(kind, name, value, story)

    def _index_fact(self, kind: str, name: str, value: object, story: _StoryEntry) -> None:
        if name in _CANDIDATE_FACTS and value.__class__ in _MEMO_TYPES:
            self._by_fact.setdefault((kind, name, value), set()).add(story)

    def _unindex_facts(self, story: _StoryEntry) -> None:
        for kind, known in story.facts.items():
            for name, value in known.items():
                stating = self._by_fact.get((kind, name, value))
                if stating is not None:
                    stating.discard(story)
                    if not stating:
                        del self._by_fact[(kind, name, value)]
        self._latest = story.last_seen if self._latest is None else max(self._latest, story.last_seen)

    def _grow_story(
        self,
        story: _StoryEntry,
        item: StoryInput,
        words: frozenset[str],
        actors: frozenset[str],
        stages: Mapping[str, str],
        main_event: str,
    ) -> None:
        terms = story.terms
        self._index(words - terms.keys(), story)
        terms.update(words)
        story.norm = None
        if len(terms) > _MAX_TERMS * 2:
            self._trim_terms(story)
        story.actors.update(actors)
        story.item_count += 1
        story.sources.add(item.source)
        story.first_seen = min(story.first_seen, item.published)
        story.last_seen = max(story.last_seen, item.published)
        if not story.headline and item.title:
            story.headline = item.title
        story.primaries[main_event] += 1
        for event in item.events:
            known = story.facts.setdefault(event.type, {})
            for name, value in event.facts.items():
                if name not in known:
                    known[name] = value
                    self._index_fact(event.type, name, value, story)
            counts = story.stages.get(event.type)
            if counts is None:
                counts = story.stages[event.type] = Counter()
            counts[stages[event.type]] += 1
        story.refresh()

    def _trim_terms(self, story: _StoryEntry) -> None:
        """Keep the story's _MAX_TERMS words of most weight: how often its items carry a word times how
        telling the word is (rare, a named actor). Ties fall to the word itself, so that what a story keeps
        never depends on the order of a set."""
        terms = story.terms
        weights = self._weights(terms, story.actors)
        ranked = sorted(terms.items(), key=lambda pair: (-pair[1] * weights[pair[0]], pair[0]))
        kept = dict(ranked[:_MAX_TERMS])
        self._unindex(story.terms.keys() - kept.keys(), story)
        story.terms = Counter(kept)

    def _forget_old(self, now: datetime) -> None:
        if self._latest is None or now > self._latest:
            self._latest = now
        latest = self._latest
        if self._swept is not None and latest - self._swept < _SWEEP_EVERY:
            return  # sweeping scans the window: once per hour of news is enough
        self._swept = latest
        horizon = latest - self.settings.retention
        for story in [s for s in self._stories.values() if s.last_seen < horizon]:
            self._unindex(story.terms, story)
            self._unindex_facts(story)
            del self._stories[story.id]
        forgotten = latest - max(self.settings.event_horizon.values()) * 2
        for event in [e for e in self._events.values() if e.last_seen < forgotten]:
            del self._events[event.id]
            self._open_events[event.type].pop(event.id, None)
        late = latest - _LATE_GRACE
        for kind, events in self._open_events.items():
            horizon = self.settings.event_horizon[kind]
            # seen within the horizon of `late` (see _event_for), or a deadline still near
            earliest = late - horizon
            deadlines = kind == "DEADLINE"
            for event in [
                e
                for e in events.values()
                if e.last_seen < earliest and not (deadlines and _deadline_near(late, e))
            ]:
                del events[event.id]  # past its horizon: no new report can match it
            recent = self._recency[kind]
            if len(recent) != len(events):
                self._recency[kind] = [e for e in recent if e.id in events]

    # -- events --

    def _track_events(
        self,
        story: _StoryEntry,
        item: StoryInput,
        stages: Mapping[str, str],
        event_stages: Sequence[str],
        figures: frozenset[int],
    ) -> tuple[tuple[Event, ...], tuple[AlertDecision, ...]]:
        events: list[Event] = []
        decisions: list[AlertDecision] = []
        for detected, stage in zip(item.events, event_stages, strict=True):
            if any(e.type == detected.type for e in events):
                continue  # an item reporting one type twice reports one development
            entry = self._event_for(story, detected, stage, item.published, figures)
            before = entry.snapshot() if entry is not None else None
            last_seen = entry.last_seen if entry is not None else None
            if entry is None:
                entry = _EventEntry(
                    id=_new_id(),
                    type=detected.type,
                    status=STATUSES[detected.type][0],
                    facts={},
                    first_seen=item.published,
                    last_seen=item.published,
                    story_ids=[],
                    sources=set(),
                    last_alert_story=None,
                )
                self._events[entry.id] = entry
                self._open(entry)
            _update_event(entry, detected, stages[detected.type], story.id, item)
            if last_seen is not None and entry.last_seen != last_seen:
                self._seen_again(entry)
            story.event_ids[detected.type] = entry.id
            after = entry.snapshot()
            decision = decide(before, after, story.id, item, self.settings)
            if decision.alert:
                entry.last_alert_story = story.id
                entry.last_alert_at = item.published
                # The event as it now is: only what the alert changed differs from the snapshot decided on.
                after = dataclasses.replace(after, last_alert_story=story.id, last_alert_at=item.published)
            events.append(after)
            decisions.append(decision)
        return tuple(events), tuple(decisions)

    def _event_for(
        self,
        story: _StoryEntry,
        detected: DetectedEvent,
        stage: str,
        moment: datetime,
        figures: frozenset[int],
    ) -> _EventEntry | None:
        """The tracked event an item's report belongs to: its story's, else the best match among recent ones.

        Shared key facts (round, date, count, deadline) identify an event; a clash rules it out. A report that
        names at most the place is matched to an event still in progress (a round not yet over, a swap of
        the last days, a deadline not yet passed), the most recent first: "the talks in Istanbul" and "the
        talks" mean the round everybody is writing about, not a new one. (`stage` is the report's.)
        """
        known = self._events.get(story.event_ids.get(detected.type, ""))
        if known is not None and _fact_match(detected.facts, known.facts, detected.type) >= 0:
            return known  # the story's event, unless the report's facts say it is another one
        # The open events of the type, the most recent first (_fact_match unrolled, as this reads many of them
        # for most reports).
        stated = [
            (name, detected.facts[name], 1 if name == "place" else 2, _Agreement(name, detected.facts[name]))
            for name in KEY_FACTS
            if name in detected.facts
        ]
        best_possible = sum(weight for _, _, weight, _ in stated)
        horizon = self.settings.event_horizon[detected.type]
        earliest, latest = moment - horizon, moment + horizon
        deadlines = detected.type == "DEADLINE"
        # _in_progress of a round, unrolled: after a round, reports of it held within three days
        rounds = detected.type == "NEW_ROUND"
        held_lately = _PHASE[stage] == 1
        held_since = moment - timedelta(days=3)
        best: _EventEntry | None = None
        best_score = 0
        for event in self._recency[detected.type]:
            # event.first_seen - horizon <= moment <= event.last_seen + horizon, or a deadline still near
            if not (event.first_seen <= latest and event.last_seen >= earliest):
                if deadlines:
                    if not _deadline_near(moment, event):
                        continue
                elif event.last_seen < earliest:
                    break  # and so are all after it
                else:
                    continue
            score = 0
            facts = event.facts
            for name, value, weight, agreement in stated:
                if name in facts:
                    theirs = facts[name]
                    if not (value == theirs or agreement.with_(theirs)):  # (facts_agree's first test, inline)
                        if _clash_explained(
                            name, detected.type, detected.facts, facts, _same_stage(stage, event)
                        ):
                            continue
                        if (
                            name == "count"
                            and _gives_the_other_sides_figure(figures, detected.facts, facts)
                            and moment - event.last_seen <= _OTHER_SIDE_WINDOW
                        ):
                            score += weight
                            continue
                        score = -1
                        break
                    score += weight
            if score < 0:
                continue
            if score < 2:
                if rounds:
                    if event.status == "held" and not (held_lately and event.last_seen >= held_since):
                        continue
                elif not _in_progress(event, stage, moment):
                    continue
            # The highest (score, last seen), the first opened of equals: the first of the highest score here.
            if best is None or score > best_score:
                best, best_score = event, score
                if score == best_possible:
                    break
        return best

    def _open(self, entry: _EventEntry) -> None:
        entry.opened = next(self._opened)
        self._open_events[entry.type][entry.id] = entry
        _place(self._recency[entry.type], entry)

    def _seen_again(self, entry: _EventEntry) -> None:
        """Move an open event up the recency list of its type: its last_seen grew."""
        if entry.id in self._open_events[entry.type]:
            recent = self._recency[entry.type]
            recent.remove(entry)
            _place(recent, entry)


def _place(recent: list[_EventEntry], entry: _EventEntry) -> None:
    """Insert an event where it belongs in a recency list (reports come mostly in time order: at the top)."""
    seen, opened = entry.last_seen, entry.opened
    position = 0
    for other in recent:
        if other.last_seen < seen or (other.last_seen == seen and other.opened > opened):
            break
        position += 1
    recent.insert(position, entry)


def _last_seen(entry: _EventEntry) -> datetime:
    return entry.last_seen


def _in_progress(event: _EventEntry, stage: str, moment: datetime) -> bool:
    """Whether a report without identifying facts can still be about this event."""
    if event.type == "NEW_ROUND":
        if event.status in ("held",):
            # After a round, only reports of it having been held within days are about it.
            return _PHASE[stage] == 1 and moment - event.last_seen <= timedelta(days=3)
        return True
    if event.type == "EXCHANGE":
        return moment - event.last_seen <= timedelta(days=2)
    deadline = _iso(event.facts.get("deadline"))
    return deadline is None or moment.date() <= deadline + timedelta(days=3)


def _deadline_near(moment: datetime, event: _EventEntry) -> bool:
    """A deadline event stays matchable until three days after its deadline, however long ago it was set."""
    deadline = _iso(event.facts.get("deadline"))
    return bool(deadline) and moment.date() <= deadline + timedelta(days=3)


def _fact_match(stated: Mapping[str, object], known: Mapping[str, object], event_type: str) -> int:
    """How well an item's facts identify a known event: -1 when a key fact clashes, else the weight of the
    facts both state (a place counts 1, the others 2: a place names a venue, not a session). (Within a story,
    a swap's reports at different stages may still explain a clash: one story is one development.)"""
    shared = 0
    for name in KEY_FACTS:
        if name in stated and name in known:
            if not _agree(name, stated[name], known[name]):
                if _clash_explained(name, event_type, stated, known):
                    continue
                return -1
            shared += 1 if name == "place" else 2
    return shared


def _update_event(
    entry: _EventEntry, detected: DetectedEvent, stage: str, story_id: str, item: StoryInput
) -> None:
    ladder = STATUSES[entry.type]
    # A round already held keeps its day: reports that date it otherwise (its last day, a slip, the next
    # session proposed) do not move it; a round still to come may be moved ("pushed to Friday").
    held = entry.type == "NEW_ROUND" and _PHASE[entry.status] == 1
    if ladder.index(stage) > ladder.index(entry.status):
        entry.status = stage
    for name, value in detected.facts.items():
        if name not in entry.facts or (
            name in ("date", "deadline")
            and not _agree(name, entry.facts[name], value)
            and not (held and name == "date")
        ):
            entry.facts[name] = value
    if story_id not in entry.story_ids:
        entry.story_ids.append(story_id)
    entry.sources.add(item.source)
    entry.first_seen = min(entry.first_seen, item.published)
    entry.last_seen = max(entry.last_seen, item.published)


def decide(
    before: Event | None,
    after: Event,
    story_id: str,
    item: StoryInput,
    settings: DedupSettings | None = None,
) -> AlertDecision:
    """The alert decision for one item's report of one event: a pure function of the event before and after
    (and of the settings' corroboration: the defaults when None).

    A new event is an alert, unless the report reads it only weakly (below ``corroborate_below`` for its
    type, or, for a type in ``corroborate_bare``, without any of its particulars and not in the headline):
    it is then pending until a second outlet or a confident report confirms it, and that report makes its
    first alert. A status that moved forward or a key fact that changed is one update alert; a
    fact that only fills in a detail of the story that already alerted is not (more outlets of the same
    development add details, not news). Anything else is a repeat: the source count grows, nobody is paged.
    """

    def made(alert: bool, kind: str, reason: str) -> AlertDecision:
        return _decision(after, story_id, item, alert, kind, reason)

    if before is None or before.last_alert_story is None:  # new, or pending: not yet alerted
        weak = _weak_reading(after.type, item, settings or _DEFAULT_SETTINGS)
        if before is None:
            if weak is None:
                return made(True, "new", f"new {after.type} event ({after.status})")
            reason = f"new {after.type} event ({after.status}), {weak}: waits for a second outlet"
            return made(False, "pending", reason)
        if weak is None:
            return made(True, "new", f"{after.type} event ({after.status}) confirmed by a confident report")
        if len(after.sources) > len(before.sources):
            return made(True, "new", f"{after.type} event ({after.status}) confirmed by a second outlet")
        return made(False, "pending", f"{after.type} event still read weakly, by one outlet")
    if after.status != before.status:
        moved = f"status {before.status} -> {after.status}"
        if story_id == before.last_alert_story and _within_a_day_of_the_alert(before, item):
            # The story that alerted, told again the same day: "set to begin" and "began" are one development.
            return made(False, "repeat", f"same development, same day; {moved}")
        if _PHASE[after.status] != _PHASE[before.status] or story_id != before.last_alert_story:
            return made(True, "update", moved)
        # Within the story that alerted, "under way" becoming "held" is the same meeting told later.
        return made(False, "repeat", f"same development; {moved}")
    changed = [
        name
        for name in KEY_FACTS
        if name in after.facts
        and (name not in before.facts or not _agree(name, before.facts[name], after.facts[name]))
    ]
    moved = [name for name in changed if name in before.facts]
    if moved:
        return made(
            True, "update", ", ".join(f"{n} changed: {before.facts[n]} -> {after.facts[n]}" for n in moved)
        )
    if changed and story_id != before.last_alert_story:
        return made(True, "update", ", ".join(f"{n} now known: {after.facts[n]}" for n in changed))
    if changed:
        return made(False, "repeat", "same development; details added: " + ", ".join(changed))
    if (
        story_id not in before.story_ids
        and _later_development(before, item)
        and _main_event(item) == after.type
    ):
        # Reports mainly about the event on a later day make a story of their own (an analysis, a next
        # stage): one alert for it. Within hours of the last alert a second story is more likely the same
        # news, and a report about something else that mentions the event in passing is not news of it.
        return made(True, "update", "a later development of the event")
    return made(False, "repeat", f"same development, {len(after.sources)} sources")


_DEFAULT_SETTINGS = DedupSettings()


def _weak_reading(event_type: str, item: StoryInput, settings: DedupSettings) -> str | None:
    """How the item reads the event type weakly, if it does (else None): a score below the type's confident
    level, or no particular of the event in any of its readings and none in the headline."""
    readings = [event for event in item.events if event.type == event_type]
    if not readings:
        return None
    level = settings.corroborate_below.get(event_type)
    score = max(event.score for event in readings)
    if level is not None and score < level:
        return f"read weakly (score {score:.2f})"
    if event_type in settings.corroborate_bare and not any(
        _has_particulars(event) or _in_headline(event, item.title) for event in readings
    ):
        return f"told without its particulars ({_LACKS[event_type]}) and not in the headline"
    return None


def _has_particulars(event: DetectedEvent) -> bool:
    return any(name in event.facts for name in PARTICULARS[event.type])


def _in_headline(event: DetectedEvent, title: str) -> bool:
    """Whether the event's evidence opens in the headline (its facts' evidence aside: "on Friday" in a
    headline does not make a session the headline's). Evidence offsets count from the headline's start."""
    end = len(title.strip())
    own = [proof.start for proof in event.evidence if not proof.rule.startswith("fact.")]
    starts = own or [proof.start for proof in event.evidence]
    return bool(starts) and min(starts) < end


def _decision(
    event: Event, story_id: str, item: StoryInput, alert: bool, kind: str, reason: str
) -> AlertDecision:
    return AlertDecision(
        event_id=event.id,
        event_type=event.type,
        story_id=story_id,
        item_key=item.key,
        alert=alert,
        kind=kind,
        reason=reason,
        status=event.status,
        facts=dict(event.facts),
        sources=len(event.sources),
        decided_at=item.published,
        item_id=item.item_id,
    )


LATER_DEVELOPMENT = timedelta(hours=18)
SAME_DAY = timedelta(hours=24)


def _within_a_day_of_the_alert(before: Event, item: StoryInput) -> bool:
    return before.last_alert_at is not None and item.published - before.last_alert_at < SAME_DAY


def _main_event(item: StoryInput) -> str:
    return _primary_type(item.events)


FRESH_AFTER_EVENT = timedelta(days=3)


def _later_development(before: Event, item: StoryInput) -> bool:
    """A new story counts as news of the event a while after its last alert, and while the event is fresh:
    reports of a round held, or a swap done, more than days later mention it as background."""
    last = before.last_alert_at
    if last is not None and item.published - last < LATER_DEVELOPMENT:
        return False
    when = _iso(before.facts.get("date")) or _iso(before.facts.get("deadline"))
    return when is None or item.published.date() <= when + FRESH_AFTER_EVENT


# --- scoring helpers ------------------------------------------------------------------------------------


# Weights of the join model: fitted by logistic regression on pairs of reports at most two days apart in the
# development halves of our two labelled corpora, then rounded. Words matter, but across outlets they
# overlap little; what the reports are about (the same kind of event, facts that agree or clash) and the
# time between them weigh as much. A report the classifier found no event in is not evidence against.
_JOIN = {
    "bias": -0.55,
    "text": 0.95,  # per unit of 5 x cosine
    "same_main_event": 1.15,
    "same_event_types": 1.55,
    "neither_has_events": 0.85,
    "one_has_no_events": 1.2,
    "story_without_events": 0.85,  # a report of an event joining a story of none (an analysis, a reaction)
    "agreeing_fact": 0.15,  # per fact, at most three
    "clashing_fact": -1.0,
    "other_stage": -0.5,
    "crossed_main_event": 0.5,
    "per_day": 0.8,
}


_JOIN_BIAS = _JOIN["bias"]
_JOIN_TEXT = _JOIN["text"] * 5  # per unit of cosine
_JOIN_PER_DAY = _JOIN["per_day"]
# Room for rounding in the ceiling of a dot product (sums of a few hundred terms err by far less), and in
# the logit of a ceiling score.
_CEILING_MARGIN = 1 + 1e-9
_LOGIT_MARGIN = 1e-9
_first = operator.itemgetter(0)
_story_id = operator.attrgetter("id")
_second = operator.itemgetter(1)
_HEAVY = 4  # the common words looked up for a candidate's second ceiling: the heaviest


# Facts that name one development: when two reports state them differently, they report two developments.
# (Dates and places are stated loosely or resolved wrongly often enough to only weigh against.)
_IDENTITY_FACTS = frozenset(("round", "count"))
# The facts a story is found by when it shares no telling word with a report (see Deduplicator._candidates),
# and how many such stories are scored at most: what they report, not a guessed day
_CANDIDATE_FACTS = frozenset(("round", "place", "date", "count", "deadline"))
_MOST_FACT_CANDIDATES = 8
# ... unless the reports agree on when and where: then the number is what they got wrong. Long articles
# count rounds in several ways ("the sixth round, the third in Geneva", "the first trilateral meeting") and
# give a stage's count or the whole swap's; a session on the same day in the same city is one session, and a
# swap carried out on the same day is one swap.
_OCCASION_FACTS = {"NEW_ROUND": ("date", "place"), "EXCHANGE": ("date",)}


def _clash_explained(
    name: str,
    event_type: str,
    stated: Mapping[str, object],
    known: Mapping[str, object],
    same_stage: bool = True,
) -> bool:
    """Whether the other facts show one event despite a clash of this one: the same day (and place), where
    the number is what one report got wrong; or round 3 in Istanbul dated otherwise (a long round, a slip,
    a later session misread as it), or the round in Istanbul dated a day or two apart (see _same_round).

    For swaps, the same day shows one swap only when both reports tell it at the same stage (``same_stage``):
    the day of a swap only agreed is the day of the talks that agreed it, and nine children brought home that
    day are not the 300 prisoners the talks agreed to exchange."""
    if name in _IDENTITY_FACTS:
        if event_type == "EXCHANGE" and not same_stage:
            return False
        return _same_occasion(event_type, stated, known)
    return name == "date" and _same_round(event_type, stated, known)


def _same_stage(stage: str, event: _EventEntry) -> bool:
    """Whether a report tells its development at the stage the event it may belong to is at."""
    return stage == event.status


def _gives_the_other_sides_figure(
    figures: frozenset[int], stated: Mapping[str, object], known: Mapping[str, object]
) -> bool:
    """ "63 Russian servicemen returned ... In return, 116 prisoners of war were handed over": an unequal swap
    told by each side with its own figure is one swap when the report also gives the figure already known,
    and no date of the two says they are different swaps ("the last 303 came home on Sunday, after 390 on
    Friday" is the next stage, its own story). (An event also asks that it be within days: a swap told weeks
    later with another's figure as background is another.)"""
    return known.get("count") in figures and (
        "date" not in stated or "date" not in known or _agree("date", stated["date"], known["date"])
    )


_OTHER_SIDE_WINDOW = timedelta(days=2)
# How late a report may come and still find its event open: a poll assigns what it fetched in batches as feeds
# finish, so one outlet's report of Monday's swap may come after another's of Saturday's; a feed back after
# days of errors brings days-old reports. (In time order, the events kept open longer cost nothing: the
# search stops at the first too old for the report.)
_LATE_GRACE = timedelta(days=7)


def _same_occasion(event_type: str, stated: Mapping[str, object], known: Mapping[str, object]) -> bool:
    # The very day (facts_agree lets dates a day apart agree: a swap's stages are a day apart) and the place.
    needed = _OCCASION_FACTS.get(event_type, ())
    return bool(needed) and all(
        name in stated
        and name in known
        and (stated[name] == known[name] if name == "date" else _agree(name, stated[name], known[name]))
        for name in needed
    )


_DAYS_OF_A_ROUND = 2  # a round's first and last day, at most this far apart, when no number tells them


def _same_round(event_type: str, stated: Mapping[str, object], known: Mapping[str, object]) -> bool:
    """The same round number at the same place, whatever the dates (within the event horizon): a round of
    several days (one report dates its start, another its end), a report's slip, or a later session proposed
    and misread as this round; never another round. Without a number on one side, the same place within
    _DAYS_OF_A_ROUND: the days of one round (a week on is another session)."""
    if event_type != "NEW_ROUND" or not all(name in stated and name in known for name in ("place", "date")):
        return False
    if not _agree("place", stated["place"], known["place"]):
        return False
    first, second = _iso(stated["date"]), _iso(known["date"])
    if first is None or second is None:
        return False
    if "round" in stated and "round" in known:
        return stated["round"] == known["round"]
    return abs((first - second).days) <= _DAYS_OF_A_ROUND


def _primary_type(events: Sequence[DetectedEvent]) -> str:
    """The event an item is mainly about: the one whose evidence comes first (the headline's)."""
    if not events:
        return ""
    return min(events, key=lambda e: min((x.start for x in e.evidence), default=1 << 30)).type


def _later_stage(profile: _ItemProfile, story: _StoryEntry, published: datetime) -> float:
    """A report of the round held (the swap carried out) a day or more after a story that only announced it
    is the next development, a story of its own ("the round announced; then held"), whatever else the report
    leads with ("1,200 for 1,200 agreed as the third round ends"): told the same day, "set to begin" and
    "began" stay one story."""
    if (
        story.main_phase == 0
        and profile.phases.get(story.main_event) == 1
        and published - story.last_seen >= _LATER_STAGE_GAP
    ):
        return _LATER_STAGE
    return 0.0


# chosen on our read corpora (pairwise F1 0.839 -> 0.844 on average; the unread halves even). In session 24,
# when the rule came to apply to reports led by another event too, -2.5 read better on average (0.856 ->
# 0.868) but split a round from its analysis in another file (dossiers 0.947 -> 0.909): kept
_LATER_STAGE = -1.5
_LATER_STAGE_GAP = timedelta(hours=18)


def _event_logit(profile: _ItemProfile, story: _StoryEntry) -> float:
    story_types = story.event_types
    item_types = profile.types
    if not item_types and not story_types:
        return _JOIN["neither_has_events"]
    if not item_types or not story_types:
        return _JOIN["one_has_no_events"] if not item_types else _JOIN["story_without_events"]
    logit = 0.0
    main = profile.main
    if main == story.main_event:
        logit += _JOIN["same_main_event"]
        story_phase = story.main_phase
    else:
        if main in story_types and story.main_event in item_types:
            logit += _JOIN["crossed_main_event"]  # the talks led by their swap, the swap by its talks
        story_phase = _PHASE[story.stage(main)] if main in story_types else -1
    if profile.main_phase != story_phase and profile.main_phase >= 0 and story_phase >= 0:
        # the round announced is one story, the round held another; so is a swap carried out after the
        # talks that agreed it
        logit += _JOIN["other_stage"]
    if item_types == story_types:
        logit += _JOIN["same_event_types"]
    agreeing = clashing = 0
    story_facts = story.facts
    for kind, name, value, agreement in profile.facts:
        known = story_facts.get(kind)
        if known is not None and name in known:
            other = known[name]
            if value == other or agreement.with_(other):  # (facts_agree's first test, inline)
                agreeing += 1
            elif name == "count" and _gives_the_other_sides_figure(
                profile.figures, profile.stated(kind), known
            ):
                agreeing += 1  # the report gives the story's figure too: the other side's, of one swap
            elif name in _IDENTITY_FACTS and not _same_occasion(kind, profile.stated(kind), known):
                return -math.inf  # the fourth round is not the fifth, a swap of 84 is not one of 1,200
            else:
                clashing += 1
    logit += _JOIN["agreeing_fact"] * min(agreeing, 3)
    if clashing:
        logit += _JOIN["clashing_fact"]
    return logit


def _clashes(facts: Sequence[tuple[str, str, object, _Agreement]], story: _StoryEntry) -> bool:
    """Whether one of the item's facts disagrees with what the story states of the same event type."""
    story_facts = story.facts
    for kind, name, value, agreement in facts:
        known = story_facts.get(kind)
        if known is not None and name in known:
            other = known[name]
            if value != other and not agreement.with_(other):
                return True
    return False


def _stated_events(events: tuple[DetectedEvent, ...]) -> tuple[DetectedEvent, ...]:
    """The events with only the facts their item states: a date classify took from the publication day
    (a guess, if a good one) must not keep a report from the event it names, nor change the event's day.
    The same tuple when there is nothing to leave out."""
    stated = tuple(_without_guessed_date(event) for event in events)
    return events if all(a is b for a, b in zip(stated, events, strict=True)) else stated


def _without_guessed_date(event: DetectedEvent) -> DetectedEvent:
    if not any(e.rule == DATE_OF_PUBLICATION for e in event.evidence):
        return event
    return DetectedEvent(
        event.type,
        event.score,
        {name: value for name, value in event.facts.items() if name != "date"},
        tuple(e for e in event.evidence if e.rule != DATE_OF_PUBLICATION),
    )


def _day(moment: datetime) -> int:
    return moment.toordinal()


def _in_days(by_day: Mapping[int, set[_StoryEntry]], first_day: int, last_day: int) -> list[set[_StoryEntry]]:
    """A word's postings of the days first_day..last_day: by going through its days, or by looking the
    window's days up when the word has more days than the window. (A word of every day of a first poll's
    month of backlog would otherwise cost a month of days at each look-up, not a window's.)"""
    if len(by_day) <= last_day - first_day + 1:
        return [ids for day, ids in by_day.items() if first_day <= day <= last_day]
    return [ids for ids in map(by_day.get, range(first_day, last_day + 1)) if ids]


def _entry_from_story(story: Story) -> _StoryEntry:
    entry = _StoryEntry(
        id=story.id,
        first_seen=story.first_seen,
        last_seen=story.last_seen,
        headline=story.headline,
        item_count=story.item_count,
        sources=set(story.sources),
        terms=Counter(dict(story.terms)),
        actors=set(story.actors),
        facts={e.type: dict(e.facts) for e in story.events},
        stages={e.type: Counter(e.stage_counts or {e.stage: 1}) for e in story.events},
        event_ids=dict(story.event_ids),
        primaries=Counter(story.primaries),
    )
    entry.refresh()
    entry.bounded = max(entry.terms.values(), default=0) <= max(entry.item_count, 1)
    return entry


def _new_id() -> str:
    return uuid.uuid4().hex


def _first_sentence(text: str) -> str:
    head = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return head[:200]


def event_to_dict(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "key": event.key,
        "status": event.status,
        "facts": dict(event.facts),
        "first_seen": event.first_seen.isoformat(),
        "last_seen": event.last_seen.isoformat(),
        "stories": list(event.story_ids),
        "sources": list(event.sources),
    }


def decision_to_dict(decision: AlertDecision) -> dict[str, Any]:
    return {
        "event_id": decision.event_id,
        "event_type": decision.event_type,
        "story_id": decision.story_id,
        "item": decision.item_id if decision.item_id is not None else decision.item_key,
        "alert": decision.alert,
        "kind": decision.kind,
        "reason": decision.reason,
        "status": decision.status,
        "facts": dict(decision.facts),
        "sources": decision.sources,
        "decided_at": decision.decided_at.isoformat(),
    }


def story_to_dict(story: Story) -> dict[str, Any]:
    return {
        "id": story.id,
        "headline": story.headline,
        "first_seen": story.first_seen.isoformat(),
        "last_seen": story.last_seen.isoformat(),
        "items": story.item_count,
        "sources": list(story.sources),
        "events": [{"type": e.type, "stage": e.stage, "facts": dict(e.facts)} for e in story.events],
        "event_ids": dict(story.event_ids),
    }
