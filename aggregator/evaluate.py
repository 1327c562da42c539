"""`aggregator eval`: the production classifier over a labelled corpus, scored against its labels.

The corpus is JSON Lines in the format of the project's labelling guide: id, source, url, published (ISO date
or null), title, summary, relevant, events, facts, story; other keys are ignored. Scores: precision, recall
and F1 for relevance and for each event type (per item), and the accuracy of each fact over the items whose
labels state it. Every miss is kept with the classifier's evidence, for the text report.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from .classify import EVENT_TYPES, RuleSet, classified_text, classify, item_facts
from .deduplicate import Deduplicator, DedupSettings, StoryInput
from .errors import AggregatorError
from .models import Classification

FACT_KEYS = ("round", "place", "date", "count", "deadline")
_REQUIRED = ("id", "title", "summary", "relevant", "events")


class CorpusError(AggregatorError):
    """The labelled corpus cannot be read: the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class LabelledItem:
    id: str
    source: str | None
    url: str | None
    published: date | None
    title: str
    summary: str
    relevant: bool
    events: frozenset[str]
    facts: dict[str, object]
    story: str | None


@dataclass(frozen=True, slots=True)
class Scores:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass(frozen=True, slots=True)
class Miss:
    item: LabelledItem
    what: str  # "relevance", an event type, or "fact:<key>"
    expected: object
    got: object
    classification: Classification


@dataclass(frozen=True, slots=True)
class Evaluation:
    n: int
    relevance: Scores
    events: dict[str, Scores]
    facts: dict[str, tuple[int, int]]  # key -> (correct, labelled)
    clustering: Scores = field(default_factory=lambda: Scores(0, 0, 0))  # pairs of relevant items
    alerts: AlertFigures | None = None
    misses: tuple[Miss, ...] = field(default=())
    story_misses: tuple[StoryMiss, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "relevance": self.relevance.as_dict(),
            "events": {name: scores.as_dict() for name, scores in self.events.items()},
            "facts": {
                key: {"accuracy": round(correct / labelled, 4) if labelled else None, "n": labelled}
                for key, (correct, labelled) in self.facts.items()
            },
            "clustering": self.clustering.as_dict(),
            "alerts": (self.alerts or AlertFigures(0, 0, 0)).as_dict(),
        }


@dataclass(frozen=True, slots=True)
class AlertFigures:
    sent: int  # alerts the replay would send
    gold: int  # distinct (story, event type) pairs among the labelled events
    alerted: int  # of those, pairs covered by at least one alert

    def as_dict(self) -> dict[str, float | int]:
        return {
            "sent": self.sent,
            "gold": self.gold,
            "per_gold": round(self.sent / self.gold, 4) if self.gold else 0.0,
            "gold_alerted": round(self.alerted / self.gold, 4) if self.gold else 1.0,
        }


@dataclass(frozen=True, slots=True)
class StoryMiss:
    """A pair of relevant items put in one story that the labels keep apart, or the other way round."""

    first: LabelledItem
    second: LabelledItem
    joined: bool  # True: we joined them, the labels do not


# -- reading the corpus ---------------------------------------------------------------------------------


def read_corpus(path: str | Path) -> list[LabelledItem]:
    source = Path(path)
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read the corpus: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 text") from exc
    items = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            items.append(_labelled_item(line, f"{path}:{number}"))
    if not items:
        raise CorpusError(f"{path}: the corpus has no items")
    return items


def _labelled_item(line: str, where: str) -> LabelledItem:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{where}: not JSON: {exc.msg}") from exc
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: each line must be a JSON object")
    missing = [key for key in _REQUIRED if key not in raw]
    if missing:
        raise CorpusError(f"{where}: missing {', '.join(missing)}")
    events = raw.get("events") or []
    unknown = [e for e in events if e not in EVENT_TYPES]
    if not isinstance(events, list) or unknown:
        raise CorpusError(f"{where}: events must be a list of {', '.join(EVENT_TYPES)} (got {events!r})")
    facts = raw.get("facts") or {}
    if not isinstance(facts, dict):
        raise CorpusError(f"{where}: facts must be an object")
    published = raw.get("published")
    try:
        day = date.fromisoformat(str(published)[:10]) if published else None
    except ValueError as exc:
        raise CorpusError(f"{where}: published {published!r} is not an ISO date") from exc
    return LabelledItem(
        id=str(raw["id"]),
        source=raw.get("source"),
        url=raw.get("url"),
        published=day,
        title=str(raw.get("title") or ""),
        summary=str(raw.get("summary") or ""),
        relevant=bool(raw["relevant"]),
        events=frozenset(events),
        facts={k: v for k, v in facts.items() if k in FACT_KEYS},
        story=raw.get("story"),
    )


# -- scoring --------------------------------------------------------------------------------------------


def same_fact(key: str, expected: object, got: object) -> bool:
    """Facts compare as the labels state them: numbers as numbers, text without case or accents."""
    if got is None:
        return False
    if key in ("round", "count"):
        try:
            return int(str(expected).replace(",", "")) == int(str(got).replace(",", ""))
        except ValueError:
            return False
    return _fold(str(expected)) == _fold(str(got))


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("ı", "i"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def evaluate(
    items: Sequence[LabelledItem], rules: RuleSet, settings: DedupSettings | None = None
) -> Evaluation:
    """Score the rules on the corpus, and replay it through the story stage with ``settings`` (the
    defaults when None, as a configuration without [settings] has them)."""
    relevance = [0, 0, 0]
    per_event = {name: [0, 0, 0] for name in EVENT_TYPES}
    facts = {key: [0, 0] for key in FACT_KEYS}
    misses: list[Miss] = []
    results: list[Classification] = []
    for item in items:
        result = classify(item.title, item.summary, item.published, rules)
        results.append(result)
        _count(relevance, item.relevant, result.relevant)
        if item.relevant != result.relevant:
            misses.append(Miss(item, "relevance", item.relevant, result.relevant, result))
        predicted = {event.type for event in result.events}
        for name in EVENT_TYPES:
            expected, got = name in item.events, name in predicted
            _count(per_event[name], expected, got)
            if expected != got:
                misses.append(Miss(item, name, expected, got, result))
        got_facts = item_facts(result)
        for key, expected in item.facts.items():
            facts[key][1] += 1
            if same_fact(key, expected, got_facts.get(key)):
                facts[key][0] += 1
            else:
                misses.append(Miss(item, f"fact:{key}", expected, got_facts.get(key), result))
    clustering, alerts, story_misses = replay(items, results, settings)
    return Evaluation(
        n=len(items),
        relevance=Scores(*relevance),
        events={name: Scores(*counts) for name, counts in per_event.items()},
        facts={key: (correct, labelled) for key, (correct, labelled) in facts.items()},
        clustering=clustering,
        alerts=alerts,
        misses=tuple(misses),
        story_misses=tuple(story_misses),
    )


def replay(
    items: Sequence[LabelledItem],
    results: Sequence[Classification],
    settings: DedupSettings | None = None,
) -> tuple[Scores, AlertFigures, list[StoryMiss]]:
    """Feed the corpus in publication order through the story stage, as a poll would, and score it.

    Clustering is scored pairwise over the items the labels call relevant, against their story keys; an
    item the classifier dropped is a story of its own. Alerts are what the replay would send, against the
    distinct (story, event type) pairs of the labels.
    """
    deduplicator = Deduplicator(settings=settings)
    story_of: dict[int, str] = {}
    alerted: set[tuple[str | None, str]] = set()
    sent = 0
    for index in _publication_order(items):
        item, result = items[index], results[index]
        if not result.relevant:
            continue
        assignment = deduplicator.assign(
            StoryInput(
                key=item.id,
                source=item.source or f"outlet-{index}",
                title=item.title,
                summary=item.summary,
                published=_moment(item, items, index),
                events=result.events,
            )
        )
        story_of[index] = assignment.story.id
        for decision in assignment.decisions:
            if decision.alert:
                sent += 1
                alerted.add((item.story, decision.event_type))
    gold = {(item.story, kind) for item in items if item.relevant for kind in item.events}
    relevant = [i for i, item in enumerate(items) if item.relevant]
    pairs = [0, 0, 0]
    story_misses: list[StoryMiss] = []
    for position, first in enumerate(relevant):
        for second in relevant[position + 1 :]:
            expected = items[first].story is not None and items[first].story == items[second].story
            got = first in story_of and story_of.get(first) == story_of.get(second)
            _count(pairs, expected, got)
            if expected != got:
                story_misses.append(StoryMiss(items[first], items[second], joined=got))
    figures = AlertFigures(sent=sent, gold=len(gold), alerted=len(gold & alerted))
    return Scores(*pairs), figures, story_misses


def _publication_order(items: Sequence[LabelledItem]) -> list[int]:
    """Indexes by publication date; an undated item keeps its place in the file after the one before it."""
    keys = []
    last: date | None = None
    for index, item in enumerate(items):
        last = item.published or last
        keys.append((last or date.min, index))
    return [index for _, index in sorted(keys)]


def _moment(item: LabelledItem, items: Sequence[LabelledItem], index: int) -> datetime:
    day = item.published
    for earlier in reversed(items[:index]):
        if day is not None:
            break
        day = earlier.published
    day = day or date(1970, 1, 1)
    return datetime.combine(day, time(12), tzinfo=UTC)


def _count(cell: list[int], expected: bool, got: bool) -> None:
    if expected and got:
        cell[0] += 1
    elif got:
        cell[1] += 1
    elif expected:
        cell[2] += 1


# -- the text report ------------------------------------------------------------------------------------


def format_report(evaluation: Evaluation, *, errors: bool = True) -> str:
    lines = [f"{evaluation.n} items", "", f"{'':<12} {'precision':>9} {'recall':>7} {'F1':>6}   tp  fp  fn"]
    rows: Iterable[tuple[str, Scores]] = [("relevance", evaluation.relevance), *evaluation.events.items()]
    for name, s in rows:
        lines.append(
            f"{name:<12} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f} {s.tp:>4} {s.fp:>3} {s.fn:>3}"
        )
    lines += ["", "facts        accuracy   n"]
    for key, (correct, labelled) in evaluation.facts.items():
        accuracy = f"{correct / labelled:.3f}" if labelled else "  -  "
        lines.append(f"{key:<12} {accuracy:>8} {labelled:>3}")
    c = evaluation.clustering
    lines += [
        "",
        f"{'stories':<12} {c.precision:>9.3f} {c.recall:>7.3f} {c.f1:>6.3f} {c.tp:>4} {c.fp:>3} {c.fn:>3}"
        "   (pairs of relevant items in one story)",
    ]
    if evaluation.alerts is not None:
        a = evaluation.alerts.as_dict()
        lines.append(
            f"alerts       {a['sent']} sent for {a['gold']} labelled (story, event) pairs: "
            f"{a['per_gold']:.2f} per pair, {a['gold_alerted']:.0%} of the pairs alerted"
        )
    if errors and evaluation.misses:
        lines += ["", f"errors ({len(evaluation.misses)})"]
        for miss in evaluation.misses:
            lines.append(_format_miss(miss))
    if errors and evaluation.story_misses:
        lines += ["", f"story errors ({len(evaluation.story_misses)} pairs)"]
        for pair in evaluation.story_misses:
            what = "joined, labelled apart" if pair.joined else "apart, labelled one story"
            first, second = pair.first, pair.second
            lines.append(f"- {what}: [{first.id}] {_headline(first)} / [{second.id}] {_headline(second)}")
    return "\n".join(lines)


def _headline(item: LabelledItem) -> str:
    return (item.title or item.summary)[:70]


def _format_miss(miss: Miss) -> str:
    item, result = miss.item, miss.classification
    headline = item.title or item.summary[:100]
    kind = {True: "missed", False: "false alarm"}
    if miss.what == "relevance" or miss.what in EVENT_TYPES:
        what = f"{miss.what} {kind[bool(miss.expected)]}"
    else:
        what = f"{miss.what}: expected {miss.expected!r}, got {miss.got!r}"
    evidence = _highlight(item, result)
    return f"- [{item.id}] {what} (score {result.score:.2f}) — {headline}\n    evidence: {evidence}"


def _highlight(item: LabelledItem, result: Classification) -> str:
    text = classified_text(item.title, item.summary)
    spans = [*result.evidence, *(e for event in result.events for e in event.evidence)]
    if not spans:
        return "none"
    shown = []
    for evidence in sorted(set(spans), key=lambda e: e.start)[:8]:
        start, end = max(0, evidence.start - 30), min(len(text), evidence.end + 30)
        context = (
            text[start : evidence.start]
            + "«"
            + text[evidence.start : evidence.end]
            + "»"
            + text[evidence.end : end]
        )
        shown.append(f"{evidence.rule}: …{' '.join(context.split())}…")
    return "\n              ".join(shown)
