"""A floor under the classifier on our own labelled corpus (tests/data/corpus/talks.jsonl).

The floors sit a little below today's figures, so a change that makes the classifier worse fails here; raise
them as it improves. The corpus was written independently of the rules (see its README).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aggregator.classify import default_rules
from aggregator.evaluate import Evaluation, evaluate, read_corpus

CORPUS = Path(__file__).parent / "data" / "corpus" / "talks.jsonl"
FLOORS = {"relevance": 0.95, "NEW_ROUND": 0.85, "EXCHANGE": 0.91, "DEADLINE": 0.9}
FACT_FLOORS = {"round": 0.72, "place": 0.86, "date": 0.87, "count": 0.88, "deadline": 0.68}


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    return evaluate(read_corpus(CORPUS), default_rules())


def test_the_corpus_is_large_and_mostly_hard() -> None:
    items = read_corpus(CORPUS)
    assert len(items) >= 150
    assert sum(not item.title for item in items) >= 10  # empty titles occur in real feeds


@pytest.mark.parametrize("name", FLOORS)
def test_f1_holds_its_floor(evaluation: Evaluation, name: str) -> None:
    scores = evaluation.relevance if name == "relevance" else evaluation.events[name]
    assert scores.f1 >= FLOORS[name], f"{name} F1 {scores.f1:.3f} fell below {FLOORS[name]}"


@pytest.mark.parametrize("key", FACT_FLOORS)
def test_fact_accuracy_holds_its_floor(evaluation: Evaluation, key: str) -> None:
    correct, labelled = evaluation.facts[key]
    assert labelled > 0
    assert correct / labelled >= FACT_FLOORS[key], f"{key}: {correct}/{labelled}"


# Story stage, replayed in publication order over both corpora (tests/data/corpus/STORIES.md describes the
# second, written for it: several outlets per development, events followed over several stories).
STORIES = Path(__file__).parent / "data" / "corpus" / "stories.jsonl"
# Full-length articles (tests/data/corpus/ARTICLES.md), written blind to the rules: long bodies recap past
# rounds, swaps and deadlines. Its floors are lower: it is our estimate of unseen text, not a tuning set.
ARTICLES = Path(__file__).parent / "data" / "corpus" / "articles.jsonl"
# A second blind set of full-length articles (tests/data/corpus/REPORTS.md), in more outlets' styles.
REPORTS = Path(__file__).parent / "data" / "corpus" / "reports.jsonl"
DISPATCHES = Path(__file__).parent / "data" / "corpus" / "dispatches.jsonl"  # a third (DISPATCHES.md)
BRIEFINGS = Path(__file__).parent / "data" / "corpus" / "briefings.jsonl"  # a fourth (BRIEFINGS.md)
WIRES = Path(__file__).parent / "data" / "corpus" / "wires.jsonl"  # a fifth, most stories told 3-4 times
LEDGERS = (
    Path(__file__).parent / "data" / "corpus" / "ledgers.jsonl"
)  # a sixth, dates and deadlines stated every way
# a seventh (ROUNDUPS.md): rounds recapped at length, one side with a mediator, one development told many ways
ROUNDUPS = Path(__file__).parent / "data" / "corpus" / "roundups.jsonl"
# an eighth (CHRONICLES.md): facts told every way, swaps only hoped for, same-day developments kept apart
CHRONICLES = Path(__file__).parent / "data" / "corpus" / "chronicles.jsonl"
# a ninth (GAZETTES.md): look-alikes of a round, and one round or ultimatum followed by many outlets for days
GAZETTES = Path(__file__).parent / "data" / "corpus" / "gazettes.jsonl"
# a tenth (BULLETINS.md): a plain sample of ten feeds' reporting, hard cases only as often as they come
BULLETINS = Path(__file__).parent / "data" / "corpus" / "bulletins.jsonl"
# an eleventh (NOTICES.md): a plain sample with a third of the items as short as feed summaries
NOTICES = Path(__file__).parent / "data" / "corpus" / "notices.jsonl"
# a twelfth (COLUMNS.md): weeks when a meeting of the sides was in the air, told as outlets tell them
COLUMNS = Path(__file__).parent / "data" / "corpus" / "columns.jsonl"
# a thirteenth (JOURNALS.md): weeks of swaps carried out in stages and deadlines set, extended and missed
JOURNALS = Path(__file__).parent / "data" / "corpus" / "journals.jsonl"
# a fourteenth (DAILIES.md): most developments told by three to five outlets, same-day ones kept apart
DAILIES = Path(__file__).parent / "data" / "corpus" / "dailies.jsonl"
# a fifteenth (ANALYSES.md): the briefings and analysis between developments, events buried in them
ANALYSES = Path(__file__).parent / "data" / "corpus" / "analyses.jsonl"
# a sixteenth (REVIEWS.md): weekly reviews, briefing transcripts, explainers; an event in one section
REVIEWS = Path(__file__).parent / "data" / "corpus" / "reviews.jsonl"
# a seventeenth (STATEMENTS.md): what officials said, reported by several outlets; a minority of it news
STATEMENTS = Path(__file__).parent / "data" / "corpus" / "statements.jsonl"
# an eighteenth (AGENCIES.md): news agencies' flashes, feed items and articles in their own house idiom
AGENCIES = Path(__file__).parent / "data" / "corpus" / "agencies.jsonl"
# a nineteenth (FEATURES.md): long articles with the background real outlets add to every story
FEATURES = Path(__file__).parent / "data" / "corpus" / "features.jsonl"
# a twentieth (WORLDFEED.md): a general world-news feed on days the talks are in it, half of it close misses
WORLDFEED = Path(__file__).parent / "data" / "corpus" / "worldfeed.jsonl"
# a twenty-first (PAGES.md): whole web pages as a scraper extracts them, furniture and links to other stories
PAGES = Path(__file__).parent / "data" / "corpus" / "pages.jsonl"
# a twenty-second (CROWDS.md): few developments, each told by five to seven outlets within two days
CROWDS = Path(__file__).parent / "data" / "corpus" / "crowds.jsonl"
# a twenty-third (ECHOES.md): ten developments of another series in crowds, a swap in stages, a deadline moved
ECHOES = Path(__file__).parent / "data" / "corpus" / "echoes.jsonl"
# a twenty-fourth (TIDINGS.md): eight developments among many items about the talks that report none
TIDINGS = Path(__file__).parent / "data" / "corpus" / "tidings.jsonl"
# a twenty-fifth (CABLES.md): eleven developments of a 2031 series told by 3-5 outlets in full articles
CABLES = Path(__file__).parent / "data" / "corpus" / "cables.jsonl"
# a twenty-sixth (DOSSIERS.md): fourteen developments of a 2033 series, analyses carrying all three events
DOSSIERS = Path(__file__).parent / "data" / "corpus" / "dossiers.jsonl"
# a twenty-seventh (MISSIVES.md): a 2035 series at venues outside the gazetteer (Tashkent, Samarkand)
MISSIVES = Path(__file__).parent / "data" / "corpus" / "missives.jsonl"
# a twenty-eighth (COURIERS.md): a 2037 series told mostly in feed teasers and first paragraphs
COURIERS = Path(__file__).parent / "data" / "corpus" / "couriers.jsonl"
# a twenty-ninth (ANNALS.md): October 2025 - March 2026 told by feeds, most of its traps deadlines and rounds
ANNALS = Path(__file__).parent / "data" / "corpus" / "annals.jsonl"
# a thirtieth (FOLIOS.md): May - September 2025 in long articles, each development told by 3-5 outlets
FOLIOS = Path(__file__).parent / "data" / "corpus" / "folios.jsonl"
# a thirty-first (SCROLLS.md): February 2022 - December 2024 in long articles, told by 3-5 outlets
SCROLLS = Path(__file__).parent / "data" / "corpus" / "scrolls.jsonl"
# a thirty-second (RELAYS.md): 2025 wire reports relayed by 5-8 outlets, look-alike stages days apart
RELAYS = Path(__file__).parent / "data" / "corpus" / "relays.jsonl"
# a thirty-third (GLOSSES.md): 2025 analyses, op-eds and explainers, most of whose events are background
GLOSSES = Path(__file__).parent / "data" / "corpus" / "glosses.jsonl"
# a thirty-fourth (HERALDS.md): 2022-2025 in the house styles of state and national news agencies
HERALDS = Path(__file__).parent / "data" / "corpus" / "heralds.jsonl"
# a thirty-fifth (EDICTS.md): 2022-2025 deadlines set, looming, passed, extended and withdrawn
EDICTS = Path(__file__).parent / "data" / "corpus" / "edicts.jsonl"
# a thirty-sixth (DIGESTS.md): 2022-2025 briefings, newsletters and live blogs where the talks are one topic
DIGESTS = Path(__file__).parent / "data" / "corpus" / "digests.jsonl"
# a thirty-seventh (SYNDICS.md): 2022-2025 rewrites of agency copy by outlets of Asia, Africa and the Gulf
SYNDICS = Path(__file__).parent / "data" / "corpus" / "syndics.jsonl"
# a thirty-eighth (MARGINS.md): 2022-2025 Ukraine news where the talks stand at the edge, or only their words
MARGINS = Path(__file__).parent / "data" / "corpus" / "margins.jsonl"
# a thirty-ninth (LONGREADS.md): 2022-2025 articles of 4,000-7,200 characters, the live news deep in them
LONGREADS = Path(__file__).parent / "data" / "corpus" / "longreads.jsonl"
# a fortieth (REGISTERS.md): February 2022 - December 2024 in full articles of many outlets
REGISTERS = Path(__file__).parent / "data" / "corpus" / "registers.jsonl"
# a forty-first (PICKUPS.md): twelve developments of 2025-2026 followed day by day, each day told by 2-6
# outlets in English, Russian and Ukrainian
PICKUPS = Path(__file__).parent / "data" / "corpus" / "pickups.jsonl"
# a forty-second (COMMENTARIES.md): 2022-2026 analyses, briefs and explainers, most events background
COMMENTARIES = Path(__file__).parent / "data" / "corpus" / "commentaries.jsonl"
# a forty-third (ACCOUNTS.md): 2025 full articles in the house styles of agencies of many countries
ACCOUNTS = Path(__file__).parent / "data" / "corpus" / "accounts.jsonl"
STORY_FLOORS = {
    CORPUS.name: {"clustering": 0.6, "gold_alerted": 0.8, "per_gold": 1.0},
    STORIES.name: {"clustering": 0.65, "gold_alerted": 0.78, "per_gold": 1.0},
    ARTICLES.name: {"clustering": 0.82, "gold_alerted": 0.84, "per_gold": 1.2},
    REPORTS.name: {"clustering": 0.73, "gold_alerted": 0.9, "per_gold": 1.2},
    DISPATCHES.name: {"clustering": 0.87, "gold_alerted": 0.9, "per_gold": 1.25},
    BRIEFINGS.name: {"clustering": 0.74, "gold_alerted": 0.85, "per_gold": 1.0},
    WIRES.name: {"clustering": 0.8, "gold_alerted": 0.9, "per_gold": 1.1},
    LEDGERS.name: {"clustering": 0.6, "gold_alerted": 0.82, "per_gold": 1.45},
    ROUNDUPS.name: {"clustering": 0.7, "gold_alerted": 0.95, "per_gold": 1.25},
    CHRONICLES.name: {"clustering": 0.82, "gold_alerted": 0.95, "per_gold": 1.35},
    GAZETTES.name: {"clustering": 0.85, "gold_alerted": 0.8, "per_gold": 1.35},
    BULLETINS.name: {"clustering": 0.87, "gold_alerted": 0.88, "per_gold": 1.2},
    NOTICES.name: {"clustering": 0.85, "gold_alerted": 0.77, "per_gold": 1.15},
    COLUMNS.name: {"clustering": 0.88, "gold_alerted": 0.92, "per_gold": 1.3},
    JOURNALS.name: {"clustering": 0.77, "gold_alerted": 0.82, "per_gold": 1.1},
    DAILIES.name: {"clustering": 0.94, "gold_alerted": 0.95, "per_gold": 1.35},
    ANALYSES.name: {"clustering": 0.77, "gold_alerted": 0.88, "per_gold": 1.5},
    REVIEWS.name: {"clustering": 0.8, "gold_alerted": 0.9, "per_gold": 1.65},
    STATEMENTS.name: {"clustering": 0.9, "gold_alerted": 0.95, "per_gold": 1.95},
    AGENCIES.name: {"clustering": 0.83, "gold_alerted": 0.95, "per_gold": 1.05},
    FEATURES.name: {"clustering": 0.92, "gold_alerted": 0.95, "per_gold": 1.6},
    WORLDFEED.name: {"clustering": 0.87, "gold_alerted": 0.95, "per_gold": 1.25},
    PAGES.name: {"clustering": 0.93, "gold_alerted": 0.95, "per_gold": 1.65},
    CROWDS.name: {"clustering": 0.9, "gold_alerted": 0.95, "per_gold": 1.6},
    ECHOES.name: {"clustering": 0.83, "gold_alerted": 0.9, "per_gold": 1.5},
    TIDINGS.name: {"clustering": 0.93, "gold_alerted": 0.95, "per_gold": 2.2},
    CABLES.name: {"clustering": 0.9, "gold_alerted": 0.85, "per_gold": 1.75},
    DOSSIERS.name: {"clustering": 0.88, "gold_alerted": 0.88, "per_gold": 1.4},
    MISSIVES.name: {"clustering": 0.9, "gold_alerted": 0.95, "per_gold": 1.4},
    COURIERS.name: {"clustering": 0.82, "gold_alerted": 0.9, "per_gold": 1.55},
    ANNALS.name: {"clustering": 0.68, "gold_alerted": 0.95, "per_gold": 1.85},
    FOLIOS.name: {"clustering": 0.78, "gold_alerted": 0.9, "per_gold": 1.55},
    SCROLLS.name: {"clustering": 0.73, "gold_alerted": 0.9, "per_gold": 1.35},
    RELAYS.name: {"clustering": 0.85, "gold_alerted": 0.9, "per_gold": 1.1},
    GLOSSES.name: {"clustering": 0.8, "gold_alerted": 0.82, "per_gold": 1.2},
    HERALDS.name: {"clustering": 0.82, "gold_alerted": 0.92, "per_gold": 1.05},
    EDICTS.name: {"clustering": 0.62, "gold_alerted": 0.73, "per_gold": 1.0},
    DIGESTS.name: {"clustering": 0.82, "gold_alerted": 0.93, "per_gold": 1.15},
    SYNDICS.name: {"clustering": 0.83, "gold_alerted": 0.93, "per_gold": 1.15},
    MARGINS.name: {"clustering": 0.95, "gold_alerted": 0.9, "per_gold": 1.15},
    LONGREADS.name: {"clustering": 0.85, "gold_alerted": 0.78, "per_gold": 0.95},
    REGISTERS.name: {"clustering": 0.72, "gold_alerted": 0.95, "per_gold": 1.5},
    PICKUPS.name: {"clustering": 0.48, "gold_alerted": 0.85, "per_gold": 1.1},
    COMMENTARIES.name: {"clustering": 0.95, "gold_alerted": 0.82, "per_gold": 1.05},
    ACCOUNTS.name: {"clustering": 0.87, "gold_alerted": 0.81, "per_gold": 1.12},
}
LONG_FLOORS = {
    ARTICLES.name: {"relevance": 0.93, "NEW_ROUND": 0.88, "EXCHANGE": 0.9, "DEADLINE": 0.92},
    REPORTS.name: {"relevance": 0.95, "NEW_ROUND": 0.92, "EXCHANGE": 0.93, "DEADLINE": 0.89},
    DISPATCHES.name: {"relevance": 0.95, "NEW_ROUND": 0.92, "EXCHANGE": 0.92, "DEADLINE": 0.77},
    BRIEFINGS.name: {"relevance": 0.95, "NEW_ROUND": 0.9, "EXCHANGE": 0.92, "DEADLINE": 0.94},
    WIRES.name: {"relevance": 0.95, "NEW_ROUND": 0.92, "EXCHANGE": 0.86, "DEADLINE": 0.86},
    LEDGERS.name: {"relevance": 0.94, "NEW_ROUND": 0.87, "EXCHANGE": 0.83, "DEADLINE": 0.93},
    ROUNDUPS.name: {"relevance": 0.95, "NEW_ROUND": 0.87, "EXCHANGE": 0.86, "DEADLINE": 0.95},
    CHRONICLES.name: {"relevance": 0.97, "NEW_ROUND": 0.64, "EXCHANGE": 0.92, "DEADLINE": 0.78},
    GAZETTES.name: {"relevance": 0.96, "NEW_ROUND": 0.8, "EXCHANGE": 0.94, "DEADLINE": 0.84},
    BULLETINS.name: {"relevance": 0.98, "NEW_ROUND": 0.8, "EXCHANGE": 0.89, "DEADLINE": 0.9},
    NOTICES.name: {"relevance": 0.97, "NEW_ROUND": 0.88, "EXCHANGE": 0.9, "DEADLINE": 0.6},
    COLUMNS.name: {"relevance": 0.95, "NEW_ROUND": 0.8, "EXCHANGE": 0.95, "DEADLINE": 0.84},
    JOURNALS.name: {"relevance": 0.96, "NEW_ROUND": 0.78, "EXCHANGE": 0.87, "DEADLINE": 0.83},
    DAILIES.name: {"relevance": 0.96, "NEW_ROUND": 0.86, "EXCHANGE": 0.95, "DEADLINE": 0.88},
    ANALYSES.name: {"relevance": 0.94, "NEW_ROUND": 0.66, "EXCHANGE": 0.77, "DEADLINE": 0.73},
    REVIEWS.name: {"relevance": 0.94, "NEW_ROUND": 0.78, "EXCHANGE": 0.82, "DEADLINE": 0.8},
    STATEMENTS.name: {"relevance": 0.95, "NEW_ROUND": 0.68, "EXCHANGE": 0.72, "DEADLINE": 0.78},
    AGENCIES.name: {"relevance": 0.96, "NEW_ROUND": 0.93, "EXCHANGE": 0.87, "DEADLINE": 0.85},
    FEATURES.name: {"relevance": 0.97, "NEW_ROUND": 0.83, "EXCHANGE": 0.89, "DEADLINE": 0.8},
    WORLDFEED.name: {"relevance": 0.91, "NEW_ROUND": 0.9, "EXCHANGE": 0.82, "DEADLINE": 0.95},
    PAGES.name: {"relevance": 0.93, "NEW_ROUND": 0.94, "EXCHANGE": 0.93, "DEADLINE": 0.87},
    CROWDS.name: {"relevance": 0.96, "NEW_ROUND": 0.83, "EXCHANGE": 0.9, "DEADLINE": 0.78},
    ECHOES.name: {"relevance": 0.98, "NEW_ROUND": 0.84, "EXCHANGE": 0.94, "DEADLINE": 0.78},
    TIDINGS.name: {"relevance": 0.95, "NEW_ROUND": 0.55, "EXCHANGE": 0.84, "DEADLINE": 0.8},
    CABLES.name: {"relevance": 0.97, "NEW_ROUND": 0.9, "EXCHANGE": 0.93, "DEADLINE": 0.75},
    DOSSIERS.name: {"relevance": 0.97, "NEW_ROUND": 0.9, "EXCHANGE": 0.88, "DEADLINE": 0.86},
    MISSIVES.name: {"relevance": 0.96, "NEW_ROUND": 0.86, "EXCHANGE": 0.96, "DEADLINE": 0.95},
    COURIERS.name: {"relevance": 0.97, "NEW_ROUND": 0.78, "EXCHANGE": 0.88, "DEADLINE": 0.76},
    ANNALS.name: {"relevance": 0.96, "NEW_ROUND": 0.9, "EXCHANGE": 0.88, "DEADLINE": 0.78},
    FOLIOS.name: {"relevance": 0.98, "NEW_ROUND": 0.93, "EXCHANGE": 0.93, "DEADLINE": 0.92},
    SCROLLS.name: {"relevance": 0.97, "NEW_ROUND": 0.9, "EXCHANGE": 0.92, "DEADLINE": 0.73},
    RELAYS.name: {"relevance": 0.96, "NEW_ROUND": 0.96, "EXCHANGE": 0.98, "DEADLINE": 0.9},
    GLOSSES.name: {"relevance": 0.97, "NEW_ROUND": 0.7, "EXCHANGE": 0.9, "DEADLINE": 0.84},
    HERALDS.name: {"relevance": 0.98, "NEW_ROUND": 0.93, "EXCHANGE": 0.95, "DEADLINE": 0.92},
    EDICTS.name: {"relevance": 0.98, "NEW_ROUND": 0.8, "EXCHANGE": 0.93, "DEADLINE": 0.83},
    DIGESTS.name: {"relevance": 0.93, "NEW_ROUND": 0.83, "EXCHANGE": 0.9, "DEADLINE": 0.73},
    SYNDICS.name: {"relevance": 0.96, "NEW_ROUND": 0.93, "EXCHANGE": 0.96, "DEADLINE": 0.91},
    MARGINS.name: {"relevance": 0.89, "NEW_ROUND": 0.78, "EXCHANGE": 0.83, "DEADLINE": 0.95},
    LONGREADS.name: {"relevance": 0.97, "NEW_ROUND": 0.76, "EXCHANGE": 0.9, "DEADLINE": 0.86},
    REGISTERS.name: {"relevance": 0.95, "NEW_ROUND": 0.7, "EXCHANGE": 0.85, "DEADLINE": 0.55},
    PICKUPS.name: {"relevance": 0.95, "NEW_ROUND": 0.9, "EXCHANGE": 0.85, "DEADLINE": 0.83},
    COMMENTARIES.name: {"relevance": 0.92, "NEW_ROUND": 0.8, "EXCHANGE": 0.79, "DEADLINE": 0.92},
    ACCOUNTS.name: {"relevance": 0.96, "NEW_ROUND": 0.77, "EXCHANGE": 0.93, "DEADLINE": 0.85},
}
LONG_FACT_FLOORS = {
    ARTICLES.name: {"round": 0.75, "place": 0.86, "date": 0.83, "count": 0.85, "deadline": 0.78},
    REPORTS.name: {"round": 0.86, "place": 0.88, "date": 0.84, "count": 0.95, "deadline": 0.78},
    DISPATCHES.name: {"round": 0.86, "place": 0.9, "date": 0.8, "count": 0.8, "deadline": 0.72},
    BRIEFINGS.name: {"round": 0.85, "place": 0.88, "date": 0.72, "count": 0.84, "deadline": 0.75},
    WIRES.name: {"round": 0.73, "place": 0.8, "date": 0.87, "count": 0.73, "deadline": 0.62},
    LEDGERS.name: {"round": 0.65, "place": 0.83, "date": 0.65, "count": 0.75, "deadline": 0.77},
    ROUNDUPS.name: {"round": 0.8, "place": 0.8, "date": 0.75, "count": 0.68, "deadline": 0.6},
    CHRONICLES.name: {"round": 0.95, "place": 0.75, "date": 0.74, "count": 0.75, "deadline": 0.58},
    GAZETTES.name: {"round": 0.45, "place": 0.88, "date": 0.92, "count": 0.95, "deadline": 0.8},
    BULLETINS.name: {"round": 0.75, "place": 0.75, "date": 0.72, "count": 0.85, "deadline": 0.9},
    NOTICES.name: {"round": 0.6, "place": 0.75, "date": 0.7, "count": 0.97, "deadline": 0.4},
    COLUMNS.name: {"round": 0.95, "place": 0.87, "date": 0.85, "count": 0.95, "deadline": 0.7},
    JOURNALS.name: {"round": 0.6, "place": 0.8, "date": 0.85, "count": 0.93, "deadline": 0.55},
    DAILIES.name: {"round": 0.95, "place": 0.95, "date": 0.93, "count": 0.8, "deadline": 0.83},
    ANALYSES.name: {"round": 0.6, "place": 0.85, "date": 0.75, "count": 0.95, "deadline": 0.72},
    REVIEWS.name: {"round": 0.8, "place": 0.95, "date": 0.85, "count": 0.95, "deadline": 0.72},
    STATEMENTS.name: {"place": 0.95, "date": 0.9, "count": 0.85, "deadline": 0.85},  # (no round labelled)
    AGENCIES.name: {"place": 0.85, "date": 0.87, "count": 0.95, "deadline": 0.75},  # (no round labelled)
    FEATURES.name: {"round": 0.75, "place": 0.83, "date": 0.9, "count": 0.9, "deadline": 0.95},
    WORLDFEED.name: {"round": 0.95, "place": 0.95, "date": 0.77, "count": 0.75, "deadline": 0.62},
    PAGES.name: {"round": 0.85, "place": 0.95, "date": 0.85, "count": 0.95, "deadline": 0.95},
    CROWDS.name: {"round": 0.85, "place": 0.88, "date": 0.88, "count": 0.95, "deadline": 0.65},
    ECHOES.name: {"round": 0.9, "place": 0.9, "date": 0.78, "count": 0.85, "deadline": 0.65},
    TIDINGS.name: {"round": 0.7, "place": 0.8, "date": 0.85, "count": 0.95, "deadline": 0.85},
    CABLES.name: {"round": 0.9, "place": 0.9, "date": 0.85, "count": 0.85, "deadline": 0.95},
    DOSSIERS.name: {"round": 0.9, "place": 0.9, "date": 0.85, "count": 0.93, "deadline": 0.9},
    # (place: the file's venues are not in the gazetteer)
    MISSIVES.name: {"round": 0.9, "place": 0.4, "date": 0.9, "count": 0.8, "deadline": 0.95},
    COURIERS.name: {"round": 0.9, "place": 0.9, "date": 0.85, "count": 0.95, "deadline": 0.8},
    ANNALS.name: {"round": 0.9, "place": 0.9, "date": 0.85, "count": 0.9, "deadline": 0.8},
    FOLIOS.name: {"round": 0.82, "place": 0.88, "date": 0.75, "count": 0.78, "deadline": 0.9},
    SCROLLS.name: {"round": 0.85, "place": 0.55, "date": 0.9, "count": 0.75, "deadline": 0.73},
    RELAYS.name: {"round": 0.93, "place": 0.93, "date": 0.85, "count": 0.98, "deadline": 0.9},
    GLOSSES.name: {"round": 0.84, "place": 0.98, "date": 0.84, "count": 0.9, "deadline": 0.65},
    # (place: "Gomel region" is labelled, as in SCROLLS)
    HERALDS.name: {"round": 0.98, "place": 0.8, "date": 0.83, "count": 0.9, "deadline": 0.87},
    EDICTS.name: {"round": 0.98, "place": 0.98, "date": 0.9, "count": 0.98, "deadline": 0.87},
    DIGESTS.name: {"round": 0.88, "place": 0.76, "date": 0.8, "count": 0.78, "deadline": 0.76},
    # (place: "Gomel region" is labelled, as in SCROLLS and HERALDS)
    SYNDICS.name: {"round": 0.91, "place": 0.68, "date": 0.9, "count": 0.98, "deadline": 0.78},
    # (place: "Gomel region" is labelled, as in SCROLLS)
    MARGINS.name: {"round": 0.98, "place": 0.4, "date": 0.85, "count": 0.98, "deadline": 0.98},
    LONGREADS.name: {"round": 0.88, "place": 0.75, "date": 0.74, "count": 0.6, "deadline": 0.73},
    # (place: "Gomel region" is labelled, as in SCROLLS)
    REGISTERS.name: {"round": 0.8, "place": 0.55, "date": 0.8, "count": 0.8, "deadline": 0.7},
    PICKUPS.name: {"round": 0.85, "place": 0.77, "date": 0.8, "count": 0.62, "deadline": 0.68},
    COMMENTARIES.name: {"round": 0.95, "place": 0.65, "date": 0.74, "count": 0.65, "deadline": 0.55},
    ACCOUNTS.name: {"round": 0.95, "place": 0.87, "date": 0.9, "count": 0.95, "deadline": 0.8},
}


LONG = [
    ARTICLES,
    REPORTS,
    DISPATCHES,
    BRIEFINGS,
    WIRES,
    LEDGERS,
    ROUNDUPS,
    CHRONICLES,
    GAZETTES,
    BULLETINS,
    NOTICES,
    COLUMNS,
    JOURNALS,
    DAILIES,
    ANALYSES,
    REVIEWS,
    STATEMENTS,
    AGENCIES,
    FEATURES,
    WORLDFEED,
    PAGES,
    CROWDS,
    ECHOES,
    TIDINGS,
    CABLES,
    DOSSIERS,
    MISSIVES,
    COURIERS,
    ANNALS,
    FOLIOS,
    SCROLLS,
    RELAYS,
    GLOSSES,
    HERALDS,
    EDICTS,
    DIGESTS,
    SYNDICS,
    MARGINS,
    LONGREADS,
    REGISTERS,
    PICKUPS,
    COMMENTARIES,
    ACCOUNTS,
]


@pytest.fixture(scope="module", params=LONG, ids=lambda path: path.name)
def long_articles(request: pytest.FixtureRequest) -> tuple[str, Evaluation]:
    path: Path = request.param
    return path.name, evaluate(read_corpus(path), default_rules())


def test_f1_on_full_articles_holds_its_floor(long_articles: tuple[str, Evaluation]) -> None:
    name, evaluated = long_articles
    for kind, floor in LONG_FLOORS[name].items():
        scores = evaluated.relevance if kind == "relevance" else evaluated.events[kind]
        assert scores.f1 >= floor, f"{name}: {kind} F1 {scores.f1:.3f} fell below {floor}"


def test_fact_accuracy_on_full_articles_holds_its_floor(long_articles: tuple[str, Evaluation]) -> None:
    name, evaluated = long_articles
    for key, floor in LONG_FACT_FLOORS[name].items():
        correct, labelled = evaluated.facts[key]
        assert labelled > 0 and correct / labelled >= floor, f"{name}: {key} {correct}/{labelled}"


REPLAYED = [CORPUS, STORIES, *LONG]


@pytest.fixture(scope="module", params=REPLAYED, ids=lambda path: path.name)
def replayed(request: pytest.FixtureRequest) -> tuple[str, dict[str, object]]:
    path: Path = request.param
    return path.name, evaluate(read_corpus(path), default_rules()).as_dict()


def test_stories_hold_their_floor(replayed: tuple[str, dict[str, object]]) -> None:
    name, figures = replayed
    clustering, alerts = figures["clustering"], figures["alerts"]
    floors = STORY_FLOORS[name]
    assert clustering["f1"] >= floors["clustering"], clustering  # type: ignore[index]
    assert alerts["gold_alerted"] >= floors["gold_alerted"], alerts  # type: ignore[index]
    assert alerts["per_gold"] <= floors["per_gold"], alerts  # type: ignore[index]


def test_stories_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """Set and dict orders of strings change with PYTHONHASHSEED; which story an item joins must not (a
    story trimmed to its heaviest words kept an arbitrary few of the tied ones, and replays differed)."""
    figures = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-m", "aggregator", "eval", str(REPORTS), "--json"],
            capture_output=True, text=True, env=env, check=True, cwd=tmp_path,
        )  # fmt: skip
        replay = json.loads(done.stdout)
        figures.append((replay["clustering"], replay["alerts"]))
    assert figures[0] == figures[1]
