"""_LiteralLed finds exactly what the regex it wraps finds (finditer and search, with pos and endpos)."""

from __future__ import annotations

import re
from re import _parser

import pytest

from aggregator import classify as engine

TEXT = (
    "no swaps were held, nor exchanges; without the exchange there is no new swap. the number of prisoners "
    "returned home rose. tally of children brought home: 40. end of june target missed, the end of july "
    "deadline stands; sides will agree on a date next week. they should agree on the date within days. "
    "nobody knows; a noexchange; minus  any  swaps. hand over the lists to kyiv. passed on, receipt of names"
)


def test_wraps_only_what_the_engine_cannot_skip_to() -> None:
    assert isinstance(engine._literal_led(re.compile(r"\bend\W+of")), engine._LiteralLed)
    assert isinstance(engine._literal_led(re.compile(r"(?:minus|no|nor)\s+swaps?")), engine._LiteralLed)
    assert isinstance(engine._literal_led(re.compile(r"hand\s+over")), re.Pattern)  # the engine's prefix
    assert isinstance(engine._literal_led(re.compile(r"\b\w+\s+of")), re.Pattern)  # no literal opens it
    assert isinstance(engine._literal_led(re.compile(r"(?i:no)\s+swap")), re.Pattern)  # flags: as it is
    assert isinstance(engine._literal_led(re.compile(r"(?:no|x?)\s+swap")), re.Pattern)  # may open otherwise
    led = engine._LiteralLed(re.compile("(?:no|nor|minus)"), ["no", "nor", "minus"])
    assert led._literals == ("no", "minus")  # "no" finds every "nor"


@pytest.mark.parametrize(
    "pattern",
    [
        engine._ARRANGING.pattern,
        engine._MONTH_END_TARGET.pattern,
        *(p.pattern for p, _ in engine.default_rules()._other_patterns),
        r"\b(?:no|nor|minus)\b\s*\w*",
        r"(?:the|then)\s+\w+",
    ],
)
def test_same_matches_as_the_regex(pattern: str) -> None:
    compiled = re.compile(pattern)
    fast = engine._literal_led(compiled)
    for pos, endpos in ((0, len(TEXT)), (0, 10**9), (7, 200), (120, 330), (3, 3)):
        assert [m.span() for m in fast.finditer(TEXT, pos, endpos)] == [
            m.span() for m in compiled.finditer(TEXT, pos, endpos)
        ]
        found, expected = fast.search(TEXT, pos, endpos), compiled.search(TEXT, pos, endpos)
        assert (found and found.span()) == (expected and expected.span())
    assert [m.span() for m in fast.finditer(TEXT)] == [m.span() for m in compiled.finditer(TEXT)]


@pytest.mark.parametrize(
    "text",
    [
        "Title\nRead more: x\nbody\n  -- Related: y\nREAD ALSO z\nSee also: w\n\nrelated\n: spans\nend\n",
        "T\n\nRelated stories: a\nMost read | b",
        "T\nrelated\n\n\n- tail",
        "Read more: t\nx",
        "\n\nRelated: a\n",
        "No links here\nat all.",
    ],
)
def test_page_links_blanked_as_by_the_regex(text: str) -> None:
    """_without_page_links tries _PAGE_LINK only at line starts: what re.sub over the body blanks."""
    for title_end in range(8):
        body = text[title_end:]
        expected = text[:title_end] + engine._PAGE_LINK.sub(lambda found: " " * len(found.group()), body)
        assert engine._without_page_links(text, title_end) == expected


def test_every_packaged_pattern_runs_on_a_fast_path() -> None:
    # a regex rule runs with the others at numbers, or by itself from a literal it opens with (the engine's
    # prefix search or a _LiteralLed); any other is tried at every character of every text
    rules = engine.default_rules()
    for compiled, index in rules._other_patterns:
        if isinstance(compiled, engine._LiteralLed):
            continue
        opening = _parser.parse(compiled.pattern).data[0]
        assert str(opening[0]) == "LITERAL", f"{rules._name[index]}: {compiled.pattern}"


@pytest.mark.parametrize(
    ("pattern", "pieces"),
    [
        (r"(?:number(?<!\wnumber)s? of|share(?<!\wshare) of)", {"number", "share"}),
        (r"\bend\W+of", {"end"}),
        (r"hand\s+over", {"hand"}),  # the engine's own prefix search: the literal all the same
        (r"(?:minus|no|nor)\s+swaps?", {"minus", "no"}),  # ("no" holds "nor")
        (r"no-deal\s+exit", {"no"}),  # the literal's word characters, up to the first other
        (r"(?:-no|nor)\s+swap", None),  # a literal that opens with another character
        (r"(?i:no)\s+swap", None),  # ignoring case: "NO" matches too
        (r"\b\w+\s+of", None),  # no literal opens it
    ],
)
def test_opening_pieces(pattern: str, pieces: set[str] | None) -> None:
    # (as _LiteralLed, or the regex itself when the engine's prefix search finds its literal)
    assert engine._opening_pieces(engine._literal_led(re.compile(pattern))) == pieces


def _rules_of_patterns(*patterns: str) -> engine.RuleSet:
    # one rule at numbers (so that the others run by themselves, gated by their pieces) and the patterns
    rules = [engine.Rule("n", "swap_phrase", pattern=r"\b\d+ for \d+", weight=1.0)]
    rules += [engine.Rule(f"p{n}", "return", pattern=text, weight=1.0) for n, text in enumerate(patterns)]
    return engine.RuleSet(rules, 0.5, engine.DEFAULT_SCORES, "test")


def _patterns_gated(rules: engine.RuleSet, norm: str) -> list[tuple[int, int, int]]:
    spaced, words = engine._split_words(norm)
    distinct = set(words)
    rules._learn(distinct)
    return rules.match_patterns(norm, spaced, distinct)


def test_patterns_gated_by_the_words_pieces_match_as_the_ungated() -> None:
    # a piece is found inside a word, not only at its start ("shorthand over"); a literal whose piece no word
    # holds is not looked for, one whose piece a word holds is ("tally of", beside an absent "number of")
    rules = _rules_of_patterns(
        r"hand\s+over", r"(?:number(?<!\wnumber)s? of|tally(?<!\wtally) of) \w+", r"(?:minus|no|nor)\s+swaps?"
    )
    texts = [
        TEXT,
        "a shorthand over there, 40 for 40",
        "the tally of captives rose; nor swaps",
        "nothing of note, 5 for 5",
        "",
        "україна: no swap",
    ]
    for norm in texts:
        gated = _patterns_gated(rules, norm)
        assert gated == rules.match_patterns(norm), norm
    shorthand = texts[1]
    assert [shorthand[start:end] for _, start, end in _patterns_gated(rules, shorthand)] == [
        "hand over",
        "40 for 40",
    ]
    assert not _patterns_gated(rules, "nothing of note")


def test_gated_patterns_hold_across_a_cleared_word_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    # the remembered words' pieces are forgotten with the rest of the cache, and learnt again
    monkeypatch.setattr(engine, "_STARTS_CACHE", 12)
    rules = _rules_of_patterns(r"hand\s+over", r"(?:minus|no|nor)\s+swaps?")
    texts = ["they hand over lists", "no swap today, and none tomorrow", "handy hand over; minus swaps"]
    for norm in texts * 3:
        assert _patterns_gated(rules, norm) == rules.match_patterns(norm), norm
    assert len(rules._seen) <= 12


def test_literal_led_looks_only_for_the_literals_whose_pieces_are_present() -> None:
    led = engine._LiteralLed(re.compile(r"(?:minus|no)\s+swaps?"), ["minus", "no"])
    text = "minus swaps and no swap"
    assert [m.group() for m in led.finditer(text, present={"no"})] == ["no swap"]
    assert [m.group() for m in led.finditer(text, present={"minus", "no"})] == ["minus swaps", "no swap"]
    assert [m.group() for m in led.finditer(text)] == ["minus swaps", "no swap"]
