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

import functools
import heapq
import math
import re
import unicodedata
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import snowballstemmer

from .models import AlertDecision, DetectedEvent, Event, Story, StoryEvent, StoryInput

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


@dataclass(frozen=True, slots=True)
class DedupSettings:
    """How stories and events are matched; defaults chosen on the development half of our own corpus."""

    story_window: timedelta = timedelta(hours=60)  # an item joins stories this close in time at most
    join_threshold: float = 0.5  # the lowest probability of "same development" that joins a story
    retention: timedelta = timedelta(days=30)  # stories kept for rarity figures and late items
    event_horizon: Mapping[str, timedelta] = field(
        default_factory=lambda: {
            "NEW_ROUND": timedelta(days=21),
            "EXCHANGE": timedelta(days=4),
            "DEADLINE": timedelta(days=45),
        }
    )


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
_THOUSANDS = re.compile(r"(?<=\d)[,. ](?=\d{3}\b)")


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
    sentence_start = True
    for match in _WORD.finditer(text):
        word = match.group()
        folded = word.casefold()
        before = text[match.start() - 2 : match.start()] if match.start() else ""
        starts = sentence_start or any(c in ".!?:\"'«“\n" for c in before)
        sentence_start = False
        if folded in _STOPWORDS or (len(folded) < 3 and not folded.isdigit()):
            continue
        stem = _stem(folded)
        words.add(stem)
        if word[0].isupper() and not starts and folded not in _COMMON_IN_DOMAIN:
            actors.add(stem)
    return frozenset(words), frozenset(actors)


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
    spans = event.evidence
    # A span inside a longer one ("held" in "be held") is the same words read twice: keep the longer.
    kept = [
        e
        for e in spans
        if not any(o.start <= e.start and e.end <= o.end and o.end - o.start > e.end - e.start for o in spans)
    ]
    cues = " | ".join(e.text.casefold() for e in kept)
    rules = {e.rule for e in event.evidence}
    when = _iso(event.facts.get("date"))
    if event.type == "NEW_ROUND":
        if when and published:
            if when < published:
                return "held"
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
        if when and published and when < published:
            return "carried_out"
        if "modality.carried_out" in rules:
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


def event_key(event_type: str, facts: Mapping[str, object]) -> str:
    parts = [event_type]
    for name in ("place", "round", "date", "count", "deadline"):
        value = facts.get(name)
        if value is not None:
            parts.append(f"{name}={_fold(value)}")
    return ":".join(parts)


# --- the in-memory state -------------------------------------------------------------------------------


@dataclass(slots=True)
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

    def snapshot(self) -> Story:
        return Story(
            id=self.id,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            headline=self.headline,
            item_count=self.item_count,
            sources=tuple(sorted(self.sources)),
            events=tuple(
                StoryEvent(kind, dict(self.facts.get(kind, {})), self.stage(kind), dict(self.stages[kind]))
                for kind in sorted(self.stages)
            ),
            event_ids=dict(self.event_ids),
            terms=dict(self.terms),
            actors=tuple(sorted(self.actors)),
            primaries=dict(self.primaries),
        )

    def stage(self, kind: str) -> str:
        stages = self.stages.get(kind)
        if not stages:
            return STATUSES[kind][0]
        return max(stages.items(), key=lambda pair: (pair[1], STATUSES[kind].index(pair[0])))[0]


@dataclass(slots=True)
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

    def snapshot(self) -> Event:
        return Event(
            id=self.id,
            type=self.type,
            key=event_key(self.type, self.facts),
            status=self.status,
            facts=dict(self.facts),
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            story_ids=tuple(self.story_ids),
            sources=tuple(sorted(self.sources)),
            last_alert_story=self.last_alert_story,
            last_alert_at=self.last_alert_at,
        )


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
        # (word, day of the story's first report) -> ids of stories carrying the word: postings by day, so a
        # lookup reads only the days of the item's window, however many stories the retention keeps.
        self._by_term: dict[tuple[str, int], set[str]] = defaultdict(set)
        self._document_frequency: Counter[str] = Counter()  # word -> stories carrying it
        self._latest: datetime | None = None  # the newest publication time seen: the clock of retention
        self._swept: datetime | None = None
        for story in stories:
            self._add_story(_entry_from_story(story))
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

    @property
    def story_count(self) -> int:
        return len(self._stories)

    # -- stories --

    def assign(self, item: StoryInput) -> Assignment:
        published_day = item.published.date()
        words, actors = item.terms if item.terms is not None else text_terms(item.title, item.summary)
        stages = {event.type: event_stage(event, published_day) for event in item.events}
        vector = self._weights(words, actors)
        length = math.sqrt(sum(weight * weight for weight in vector.values()))
        best, best_score = None, self.settings.join_threshold
        for story_id, dot in self._candidates(item, vector).items():
            story = self._stories[story_id]
            score = self._score(item, self._cosine(dot, length, story), story)
            if score >= best_score:
                best, best_score = story, score
        new_story = best is None
        if best is None:
            best = _StoryEntry(
                id=_new_id(),
                first_seen=item.published,
                last_seen=item.published,
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
        self._grow_story(best, item, words, actors, stages)
        events, decisions = self._track_events(best, item, stages, new_story)
        self._forget_old(item.published)
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

    def _candidates(self, item: StoryInput, vector: Mapping[str, float]) -> dict[str, float]:
        """Stories of the item's time window that share a telling word with it -> the dot product of the
        item's word vector with theirs (accumulated over the index's postings: no story is scanned whole)."""
        window = self.settings.story_window
        # A day either side more than the window: a story's first report can move earlier after indexing.
        days = range(_day(item.published - window) - 1, _day(item.published + window) + 2)
        crowded = max(5, min(_CROWDED, len(self._stories) // 3))
        dots: dict[str, float] = {}
        common: list[tuple[str, float]] = []
        for word, weight in vector.items():
            postings = [self._by_term.get((word, day)) for day in days]
            holders = [p for p in postings if p]
            if not holders:
                continue
            if word in _COMMON_STEMS or sum(len(p) for p in holders) > crowded:
                common.append((word, weight))  # a word most stories carry finds no particular story
                continue
            for story_ids in holders:
                for story_id in story_ids:
                    story = self._stories[story_id]
                    share = story.terms[word] / max(story.item_count, 1)
                    dots[story_id] = dots.get(story_id, 0.0) + weight * weight * share
        in_window = [
            (dot, story_id)
            for story_id, dot in dots.items()
            if self._stories[story_id].first_seen - window
            <= item.published
            <= self._stories[story_id].last_seen + window
        ]
        found: dict[str, float] = {}
        for dot, story_id in heapq.nlargest(_MOST_CANDIDATES, in_window):
            story = self._stories[story_id]
            for word, weight in common:
                times = story.terms.get(word)
                if times:
                    dot += weight * weight * times / max(story.item_count, 1)
            found[story_id] = dot
        return found

    def _weights(self, words: Iterable[str], actors: set[str] | frozenset[str]) -> dict[str, float]:
        """Each word's weight: its rarity among the stories we remember (a prior of unseen stories keeps
        early scores sane), more for a named actor, less for a word every report of the talks carries."""
        stories = len(self._stories) + 25
        frequency = self._document_frequency
        log = math.log
        weights = {}
        for word in words:
            weight = log(stories / (1 + frequency.get(word, 0)))
            if word in actors:
                weight *= _ACTOR_WEIGHT
            elif word in _COMMON_STEMS:
                weight *= _COMMON_WEIGHT
            weights[word] = weight if weight > 0 else 0.0
        return weights

    def _score(self, item: StoryInput, cosine: float, story: _StoryEntry) -> float:
        """The probability that the item reports the story's development (a logistic model, see _JOIN)."""
        logit = (
            _JOIN["bias"]
            + _JOIN["text"] * 5 * cosine
            + _event_logit(item, story)
            - _JOIN["per_day"] * _days_apart(item.published, story)
        )
        return 1 / (1 + math.exp(-logit))

    def _cosine(self, dot: float, length: float, story: _StoryEntry) -> float:
        """Cosine between the item's weighted words and the story's (each word weighted by the share of the
        story's items that carry it). The story's length is computed again only when the story changed."""
        if story.norm is None:
            story.norm = self._story_norm(story)
        if not length or not story.norm:
            return 0.0
        return dot / length / story.norm

    def _story_norm(self, story: _StoryEntry) -> float:
        count = max(story.item_count, 1)
        weights = self._weights(story.terms, story.actors)
        return math.sqrt(sum((weights[word] * times / count) ** 2 for word, times in story.terms.items()))

    def _add_story(self, story: _StoryEntry) -> None:
        self._stories[story.id] = story
        story.day = _day(story.first_seen)
        for word in story.terms:
            self._by_term[(word, story.day)].add(story.id)
            self._document_frequency[word] += 1
        self._latest = story.last_seen if self._latest is None else max(self._latest, story.last_seen)

    def _grow_story(
        self,
        story: _StoryEntry,
        item: StoryInput,
        words: frozenset[str],
        actors: frozenset[str],
        stages: Mapping[str, str],
    ) -> None:
        for word in words:
            if word not in story.terms:
                self._by_term[(word, story.day)].add(story.id)
                self._document_frequency[word] += 1
        story.terms.update(words)
        story.norm = None
        if len(story.terms) > _MAX_TERMS * 2:
            self._trim_terms(story)
        story.actors.update(actors)
        story.item_count += 1
        story.sources.add(item.source)
        story.first_seen = min(story.first_seen, item.published)
        story.last_seen = max(story.last_seen, item.published)
        if not story.headline and item.title:
            story.headline = item.title
        story.primaries[_primary_type(item.events)] += 1
        for event in item.events:
            known = story.facts.setdefault(event.type, {})
            for name, value in event.facts.items():
                known.setdefault(name, value)
            story.stages.setdefault(event.type, Counter())[stages[event.type]] += 1

    def _trim_terms(self, story: _StoryEntry) -> None:
        kept = dict(story.terms.most_common(_MAX_TERMS))
        for word in set(story.terms) - set(kept):
            self._unindex(word, story)
        story.terms = Counter(kept)

    def _unindex(self, word: str, story: _StoryEntry) -> None:
        holders = self._by_term.get((word, story.day))
        if holders is not None:
            holders.discard(story.id)
            if not holders:
                del self._by_term[(word, story.day)]
        self._document_frequency[word] -= 1
        if self._document_frequency[word] <= 0:
            del self._document_frequency[word]

    def _forget_old(self, now: datetime) -> None:
        if self._latest is None or now > self._latest:
            self._latest = now
        latest = self._latest
        if self._swept is not None and latest - self._swept < _SWEEP_EVERY:
            return  # sweeping scans the window: once per hour of news is enough
        self._swept = latest
        horizon = latest - self.settings.retention
        for story in [s for s in self._stories.values() if s.last_seen < horizon]:
            for word in story.terms:
                self._unindex(word, story)
            del self._stories[story.id]
        longest = max(self.settings.event_horizon.values())
        for event in [e for e in self._events.values() if e.last_seen < latest - longest * 2]:
            del self._events[event.id]
            self._open_events[event.type].pop(event.id, None)
        late = latest - timedelta(days=1)  # a day's grace for reports that arrive late
        for kind, events in self._open_events.items():
            horizon = self.settings.event_horizon[kind]
            for event in [e for e in events.values() if not _within(late, e, horizon)]:
                del events[event.id]  # past its horizon: no new report can match it

    # -- events --

    def _track_events(
        self, story: _StoryEntry, item: StoryInput, stages: Mapping[str, str], new_story: bool
    ) -> tuple[tuple[Event, ...], tuple[AlertDecision, ...]]:
        events: list[Event] = []
        decisions: list[AlertDecision] = []
        for detected in item.events:
            if any(e.type == detected.type for e in events):
                continue  # an item reporting one type twice reports one development
            entry = self._event_for(story, detected, item)
            before = entry.snapshot() if entry is not None else None
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
                self._events[entry.id] = self._open_events[entry.type][entry.id] = entry
            _update_event(entry, detected, stages[detected.type], story.id, item)
            story.event_ids[detected.type] = entry.id
            decision = decide(before, entry.snapshot(), story.id, item)
            if decision.alert:
                entry.last_alert_story = story.id
                entry.last_alert_at = item.published
            after = entry.snapshot()
            events.append(after)
            decisions.append(decision)
        return tuple(events), tuple(decisions)

    def _event_for(self, story: _StoryEntry, detected: DetectedEvent, item: StoryInput) -> _EventEntry | None:
        """The tracked event an item's report belongs to: its story's, else the best match among recent ones.

        Shared key facts (round, date, count, deadline) identify an event; a clash rules it out. A report that
        names at most the place is matched to an event still in progress (a round not yet over, a swap of
        the last days, a deadline not yet passed), the most recent first: "the talks in Istanbul" and "the
        talks" mean the round everybody is writing about, not a new one.
        """
        known = self._events.get(story.event_ids.get(detected.type, ""))
        if known is not None and _fact_match(detected.facts, known.facts) >= 0:
            return known  # the story's event, unless the report's facts say it is another one
        horizon = self.settings.event_horizon[detected.type]
        stage = event_stage(detected, item.published.date())
        best: _EventEntry | None = None
        best_rank: tuple[int, datetime] | None = None
        for event in self._open_events[detected.type].values():
            if not _within(item.published, event, horizon):
                continue
            score = _fact_match(detected.facts, event.facts)
            if score < 0 or (score < 2 and not _in_progress(event, stage, item.published)):
                continue
            rank = (score, event.last_seen)
            if best_rank is None or rank > best_rank:
                best, best_rank = event, rank
        return best


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


def _within(moment: datetime, event: _EventEntry, horizon: timedelta) -> bool:
    if event.type == "DEADLINE":
        deadline = _iso(event.facts.get("deadline"))
        if deadline and moment.date() <= deadline + timedelta(days=3):
            return True
    return event.first_seen - horizon <= moment <= event.last_seen + horizon


def _fact_match(stated: Mapping[str, object], known: Mapping[str, object]) -> int:
    """How well an item's facts identify a known event: -1 when a key fact clashes, else the weight of the
    facts both state (a place counts 1, the others 2: a place names a venue, not a session)."""
    shared = 0
    for name in KEY_FACTS:
        if name in stated and name in known:
            if not facts_agree(name, stated[name], known[name]):
                return -1
            shared += 1 if name == "place" else 2
    return shared


def _update_event(
    entry: _EventEntry, detected: DetectedEvent, stage: str, story_id: str, item: StoryInput
) -> None:
    ladder = STATUSES[entry.type]
    if ladder.index(stage) > ladder.index(entry.status):
        entry.status = stage
    for name, value in detected.facts.items():
        if name not in entry.facts or (
            name in ("date", "deadline") and not facts_agree(name, entry.facts[name], value)
        ):
            entry.facts[name] = value
    if story_id not in entry.story_ids:
        entry.story_ids.append(story_id)
    entry.sources.add(item.source)
    entry.first_seen = min(entry.first_seen, item.published)
    entry.last_seen = max(entry.last_seen, item.published)


def decide(before: Event | None, after: Event, story_id: str, item: StoryInput) -> AlertDecision:
    """The alert decision for one item's report of one event: a pure function of the event before and after.

    A new event is an alert. A status that moved forward or a key fact that changed is one update alert; a
    fact that only fills in a detail of the story that already alerted is not (more outlets of the same
    development add details, not news). Anything else is a repeat: the source count grows, nobody is paged.
    """

    def made(alert: bool, kind: str, reason: str) -> AlertDecision:
        return _decision(after, story_id, item, alert, kind, reason)

    if before is None:
        return made(True, "new", f"new {after.type} event ({after.status})")
    if after.status != before.status:
        moved = f"status {before.status} -> {after.status}"
        if _PHASE[after.status] != _PHASE[before.status] or story_id != before.last_alert_story:
            return made(True, "update", moved)
        # Within the story that alerted, "under way" becoming "held" is the same meeting told later.
        return made(False, "repeat", f"same development; {moved}")
    changed = [
        name
        for name in KEY_FACTS
        if name in after.facts
        and (name not in before.facts or not facts_agree(name, before.facts[name], after.facts[name]))
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
    "agreeing_fact": 0.15,  # per fact, at most three
    "clashing_fact": -1.0,
    "per_day": 0.8,
}


# Facts that name one development: when two reports state them differently, they report two developments.
# (Dates and places are stated loosely or resolved wrongly often enough to only weigh against.)
_IDENTITY_FACTS = frozenset(("round", "count"))


def _primary_type(events: Sequence[DetectedEvent]) -> str:
    """The event an item is mainly about: the one whose evidence comes first (the headline's)."""
    if not events:
        return ""
    return min(events, key=lambda e: min((x.start for x in e.evidence), default=1 << 30)).type


def _event_logit(item: StoryInput, story: _StoryEntry) -> float:
    story_types = set(story.stages)
    item_types = {event.type for event in item.events}
    if not item_types and not story_types:
        return _JOIN["neither_has_events"]
    if not item_types or not story_types:
        return _JOIN["one_has_no_events"]
    logit = 0.0
    main = story.primaries.most_common(1)[0][0] if story.primaries else ""
    if _primary_type(item.events) == main:
        logit += _JOIN["same_main_event"]
    if item_types == story_types:
        logit += _JOIN["same_event_types"]
    agreeing = clashing = 0
    for event in item.events:
        known = story.facts.get(event.type, {})
        for name, value in event.facts.items():
            if name in known:
                if facts_agree(name, value, known[name]):
                    agreeing += 1
                elif name in _IDENTITY_FACTS:
                    return -math.inf  # the fourth round is not the fifth, a swap of 84 is not one of 1,200
                else:
                    clashing += 1
    logit += _JOIN["agreeing_fact"] * min(agreeing, 3)
    if clashing:
        logit += _JOIN["clashing_fact"]
    return logit


def _day(moment: datetime) -> int:
    return moment.toordinal()


def _days_apart(moment: datetime, story: _StoryEntry) -> float:
    """Days from the story's first report: reports of one development follow it closely, and measuring from
    the first (not the latest) keeps a story from drifting along a chain of loosely related reports."""
    return abs(moment - story.first_seen).total_seconds() / 86400


def _entry_from_story(story: Story) -> _StoryEntry:
    return _StoryEntry(
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
