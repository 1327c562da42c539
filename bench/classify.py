"""Classification speed: 100k generated news items (diplomacy, war, markets, sport) on one core.

Items are title + summary as the farm writes them (a few sentences each); the rules are the packaged ones.
Prints items per second, and how many were relevant, so a rule change that makes matching slower shows.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from farm import SHARED_TOPICS, _make_story, _TextMaker

from aggregator.classify import classify, default_rules


def generate_items(count: int, seed: int = 7) -> list[tuple[str, str, datetime]]:
    rng = random.Random(seed)
    text = _TextMaker(rng)
    now = datetime(2026, 7, 1, tzinfo=UTC)
    items = []
    for _ in range(count):
        story = _make_story(text, rng.choice(SHARED_TOPICS), now, full=False)
        items.append((story.title, " ".join(story.summary_sentences), story.published))
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    started = time.perf_counter()
    items = generate_items(args.items)
    print(
        f"classify: {len(items)} items generated in {time.perf_counter() - started:.1f} s "
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
