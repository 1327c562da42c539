"""text_terms (which remembers each word's stem and stopword test) gives what reading words afresh does."""

from __future__ import annotations

import re
import unicodedata

import pytest

from aggregator import deduplicate
from aggregator.deduplicate import text_terms


def reference_terms(title: str, summary: str) -> tuple[frozenset[str], frozenset[str]]:
    """text_terms as it was written first: every word folded, tested and stemmed where it stands."""
    text = unicodedata.normalize("NFKC", f"{title}. {summary}" if title else summary)
    text = re.sub(r"(?<=\d)[,. ](?=\d{3}\b)", "", text)
    words: set[str] = set()
    actors: set[str] = set()
    sentence_start = True
    for match in re.finditer(r"[^\W_]+", text):
        word = match.group()
        folded = word.casefold()
        before = text[match.start() - 2 : match.start()] if match.start() else ""
        starts = sentence_start or any(c in ".!?:\"'«“\n" for c in before)
        sentence_start = False
        if folded in deduplicate._STOPWORDS or (len(folded) < 3 and not folded.isdigit()):
            continue
        stem = deduplicate._stem(folded)
        words.add(stem)
        if word[0].isupper() and not starts and folded not in deduplicate._COMMON_IN_DOMAIN:
            actors.add(stem)
    return frozenset(words), frozenset(actors)


CASES = [
    ("Talks in Istanbul", "Russia and Ukraine met. Medinsky led; Umerov said: 'Turkey hosts'. 1,200 POWs"),
    ("", "The Kremlin said Peskov «Ankara» would host. Next: Geneva\nGeneva talks, 12.500 and 3 000 000"),
    ("A", 'a. B c D: E "F" G! H? I 1,2,345 1.234,567 Ärzte Übergabe Zelensky\'s_team x_y'),
    ("Swap of 84 for 84", "On Friday, Kyiv and Moscow swapped 84 for 84. Zelensky thanked the UAE."),
]


def test_same_terms_as_reading_each_word() -> None:
    for _ in range(2):  # the second time from remembered words
        for title, summary in CASES:
            assert text_terms(title, summary) == reference_terms(title, summary)


def test_forgets_words_past_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deduplicate, "_MOST_TERMS", 3)
    for title, summary in CASES:
        assert text_terms(title, summary) == reference_terms(title, summary)
    assert len(deduplicate._TERMS) < 40
