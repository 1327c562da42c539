"""Classification speed: 100k generated news items (diplomacy, war, markets, sport) on one core.

Items are title + summary as the farm writes them (a few sentences each); the rules are the packaged ones.
``--full`` makes farm-size items instead: the summary and the full text of 3-6 paragraphs (~2 KB), as a
feed with full content gives them. Prints items per second, and how many were relevant, so a rule change
that makes matching slower shows; ``--phases`` adds where the time goes.
"""

from __future__ import annotations

import argparse
import html
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from farm import SHARED_TOPICS, _make_story, _TextMaker

from aggregator import classify as engine
from aggregator.classify import classify, default_rules


def generate_items(count: int, seed: int = 7, *, full: bool = False) -> list[tuple[str, str, datetime]]:
    rng = random.Random(seed)
    text = _TextMaker(rng)
    now = datetime(2026, 7, 1, tzinfo=UTC)
    items = []
    for _ in range(count):
        story = _make_story(text, rng.choice(SHARED_TOPICS), now, full=full)
        body = " ".join(story.summary_sentences)
        if full:  # the summary, then the paragraphs as plain text (the farm writes them HTML-escaped)
            body += "\n\n" + "\n\n".join(html.unescape(paragraph) for paragraph in story.paragraphs)
        items.append((story.title, body, story.published))
    return items


def phases(items: list[tuple[str, str, datetime]], rules: engine.RuleSet) -> dict[str, float]:
    """CPU seconds per phase of ``classify`` (the same steps, timed one by one), and items per outcome."""
    spent: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    clock = time.process_time
    for title, summary, published in items:
        started = clock()
        text = engine.classified_text(title, summary)
        analysis = engine._analyse(text, len(title.strip()), published.date(), rules)
        after_analysis = clock()
        if analysis is None:
            spent["rejected: no anchor or nothing to weigh"] += after_analysis - started
            outcomes["rejected"] += 1
            continue
        spent["analysis: words, terms, sentences"] += after_analysis - started
        contexts = engine._contexts(analysis)
        score, _ = engine._relevance(analysis, contexts)
        after_relevance = clock()
        spent["relevance"] += after_relevance - after_analysis
        if score < rules.threshold:
            outcomes["analysed, not relevant"] += 1
            continue
        outcomes["relevant"] += 1
        engine._detect_events(analysis, contexts)
        spent["events and facts"] += clock() - after_relevance
    print("classify: " + ", ".join(f"{count} {outcome}" for outcome, count in outcomes.most_common()))
    return dict(spent)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="farm-size items: summary and full text")
    parser.add_argument("--phases", action="store_true", help="also print the CPU time of each phase")
    args = parser.parse_args()
    started = time.perf_counter()
    items = generate_items(args.items, full=args.full)
    print(
        f"classify: {len(items)} {'full' if args.full else 'short'} items generated in "
        f"{time.perf_counter() - started:.1f} s "
        f"(avg {sum(len(t) + len(s) for t, s, _ in items) / len(items):.0f} chars)"
    )
    rules = default_rules()
    started = time.process_time()
    relevant = events = 0
    for title, summary, published in items:
        verdict = classify(title, summary, published, rules)
        relevant += verdict.relevant
        events += len(verdict.events)
    cpu = time.process_time() - started
    print(
        f"classify: {len(items) / cpu:,.0f} items/s on one core ({cpu:.1f} s CPU); "
        f"{relevant} relevant, {events} events"
    )
    if args.phases:  # a second pass: dates and words are cached by now, as in a long-running daemon
        spent = phases(items, rules)
        total = sum(spent.values())
        for phase, seconds in spent.items():
            print(
                f"  {phase:40s} {seconds:6.2f} s  {seconds / total:6.1%}  "
                f"{seconds / len(items) * 1e6:7.1f} µs per item"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
