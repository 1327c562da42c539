"""The fast parse path against feedparser on the benchmark's generated farm: the bytes the speed figures
are measured on must give exactly what the reference parser gives, item by item, after normalisation."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from farm import Farm, generate_farm

from aggregator.normalise import normalise_entries
from aggregator.parse import parse_fast, parse_with_feedparser

NOW = datetime(2026, 7, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def farm() -> Farm:
    return generate_farm(24, seed=5, min_items=10, max_items=30, now=NOW)


def test_fast_path_equals_feedparser_on_the_farm(farm: Farm) -> None:
    checked = 0
    for path in farm.feed_paths:
        document = farm.documents[path]
        headers = {"content-type": document.content_type}
        if "json" in document.content_type:
            continue  # JSON Feed has one parser; feedparser does not read it
        url = f"http://farm.example{path}"
        fast = parse_fast(document.body, headers, url)
        assert fast is not None, f"{path}: the fast path declined a well-formed farm feed"
        reference = parse_with_feedparser(document.body, headers, url)
        fast_items = normalise_entries("farm", fast, now=NOW)
        reference_items = normalise_entries("farm", reference, now=NOW)
        assert fast_items == reference_items, path
        checked += len(fast_items)
    assert checked > 200
