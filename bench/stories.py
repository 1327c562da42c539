"""Story assignment cost: one item assigned with 1k, 10k and 100k items already stored.

Items are generated news about the talks (and the rest of the farm's topics), classified by the packaged
rules, and spread over time at a steady rate (a busy set-up: 300 relevant items a day). For each size the
story stage is first filled with that many items, then the next 2,000 are timed. Because the stage keeps an
index over a time window, not over everything stored, the cost per item must stay flat as the store grows.
It also times rebuilding the window from a real SQLite store, as a restarted daemon does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from classify import generate_items

from aggregator.classify import classify, default_rules
from aggregator.deduplicate import Deduplicator
from aggregator.models import StoryInput
from aggregator.pipeline import write_assignments
from aggregator.store import Store

RELEVANT_PER_DAY = 300
TIMED = 2_000


POOL = 6_000  # distinct relevant texts; longer runs reuse them weeks apart, beyond any story window


def relevant_inputs(count: int, per_day: int = RELEVANT_PER_DAY) -> list[StoryInput]:
    """`count` relevant items, published at a steady rate from 2025-01-01."""
    rules = default_rules()
    pool = []
    for title, summary, published in generate_items(POOL * 4, seed=11):
        verdict = classify(title, summary, published, rules)
        if verdict.relevant:
            pool.append((title, summary, verdict.events))
        if len(pool) == POOL:
            break
    start = datetime(2025, 1, 1, tzinfo=UTC)
    step = timedelta(days=1) / per_day
    return [
        StoryInput(
            str(n), f"outlet-{n % 40}", *pool[n % len(pool)][:2], start + step * n, pool[n % len(pool)][2]
        )
        for n in range(count)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--per-day", type=int, default=RELEVANT_PER_DAY, help="relevant items a day")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    started = time.perf_counter()
    items = relevant_inputs(max(sizes) + TIMED, args.per_day)
    print(
        f"stories: {len(items)} relevant items generated and classified "
        f"in {time.perf_counter() - started:.0f} s"
    )
    for size in sizes:
        deduplicator = Deduplicator()
        for item in items[:size]:
            deduplicator.assign(item)
        timed = items[size : size + TIMED]
        begun = time.process_time()
        for item in timed:
            deduplicator.assign(item)
        cost = (time.process_time() - begun) / len(timed)
        print(
            f"stories: {size:>7,} stored -> {cost * 1e6:,.0f} µs per item assigned "
            f"({deduplicator.story_count:,} stories in the window)"
        )
    with tempfile.TemporaryDirectory() as directory:
        store = Store.open(f"sqlite:///{directory}/stories.db")
        deduplicator = Deduplicator()
        batch = [deduplicator.assign(item) for item in items[: max(sizes)]]
        last = batch[-1].item.published
        begun = time.perf_counter()
        for first in range(0, len(batch), 5_000):
            write_assignments(store, batch[first : first + 5_000], last)
        written = time.perf_counter() - begun
        begun = time.perf_counter()
        since = last - deduplicator.settings.retention
        rebuilt = Deduplicator(store.recent_stories(since), store.recent_events(since))
        print(
            f"stories: {len(batch):,} assignments stored in {written:.1f} s; window rebuilt from the store "
            f"in {time.perf_counter() - begun:.2f} s ({rebuilt.story_count:,} stories)"
        )
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
