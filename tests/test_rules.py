"""The packaged rule set and rule validation: errors name the file and the rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.classify import (
    _ANCHORS,
    _CAN_WEIGH,
    CONCEPTS,
    DEFAULT_SCORES,
    Rule,
    RuleSet,
    _Hit,
    classify,
    load_rules,
    normalise_text,
)
from aggregator.errors import ConfigError

GOOD_RULE = '[[rules]]\nname = "talks.basic"\nconcept = "talks"\nweight = 0.6\nterms = ["talks"]\n'


def write_rules(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def rules_error(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_rules(write_rules(tmp_path, text))
    return caught.value


def test_the_packaged_rules_load_and_have_a_stable_version() -> None:
    first, second = load_rules(), load_rules()
    assert first.version == second.version
    assert len(first.version) == 12 and int(first.version, 16) >= 0
    assert 0 < first.threshold < 1
    assert {rule.concept for rule in first.rules} <= CONCEPTS
    names = [rule.name for rule in first.rules]
    assert len(names) == len(set(names))


def test_a_bad_pattern_names_the_file_the_index_and_the_rule(tmp_path: Path) -> None:
    error = rules_error(
        tmp_path, GOOD_RULE + '[[rules]]\nname = "round.near"\nconcept = "round"\npattern = "(round"\n'
    )
    assert error.key == "rules[1] (round.near)"
    assert "does not compile" in error.problem
    assert str(error).startswith(f"{tmp_path / 'rules.toml'}: rules[1] (round.near): pattern")


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ('name = "x"\nconcept = "talks"\nterms = ["talks"]\nwieght = 1\n', "unknown key wieght"),
        ('name = "x"\nconcept = "talkz"\nterms = ["talks"]\n', "concept"),
        ('name = "x"\nconcept = "talks"\nterms = ["talks"]\nweight = 9\n', "weight 9"),
        ('name = "x"\nconcept = "talks"\nterms = ["talks"]\nweight = "high"\n', "weight"),
        ('name = "x"\nconcept = "talks"\n', "needs terms or a pattern"),
        ('name = "x"\nconcept = "talks"\nterms = ["ne*"]\n', "shorter than"),
        ('name = "x"\nconcept = "talks"\nterms = ["*"]\n', "no words"),
        ('name = "x"\nconcept = "talks"\nterms = [""]\n', "non-empty"),
        ('name = "x"\nconcept = "ordinal"\nterms = ["third"]\n', "needs value"),
        ('name = "x"\nconcept = "venue"\nterms = ["geneva"]\n', "needs place"),
        ('name = "x"\nconcept = "talks"\npattern = "a*"\n', "empty string"),
        ('name = "x"\nconcept = "talks"\nterms = ["talks"]\nmask = ["nonsense"]\n', "unknown concept"),
        ('concept = "talks"\nterms = ["talks"]\n', "name is missing"),
    ],
)
def test_invalid_rules_are_refused_with_the_reason(tmp_path: Path, rule: str, fragment: str) -> None:
    error = rules_error(tmp_path, GOOD_RULE + "[[rules]]\n" + rule)
    assert error.key.startswith("rules[1]")
    assert fragment in error.problem


def test_duplicate_names_unknown_top_level_keys_and_bad_thresholds(tmp_path: Path) -> None:
    assert "already has this name" in rules_error(tmp_path, GOOD_RULE + GOOD_RULE).problem
    assert rules_error(tmp_path, "treshold = 0.5\n" + GOOD_RULE).key == "treshold"
    assert rules_error(tmp_path, "threshold = 1.5\n" + GOOD_RULE).key == "threshold"
    assert rules_error(tmp_path, "[scores]\nnope = 1\n" + GOOD_RULE).key == "scores.nope"
    assert "TOML syntax error" in rules_error(tmp_path, "[[rules]\n").problem
    with pytest.raises(ConfigError, match="not found"):
        load_rules(tmp_path / "missing.toml")


def test_a_custom_rule_file_replaces_the_default(tmp_path: Path) -> None:
    rules = load_rules(
        write_rules(tmp_path, GOOD_RULE + '[[rules]]\nname = "r"\nconcept = "russia"\nterms = ["moscow"]\n')
    )
    assert len(rules.rules) == 2
    assert rules.version != load_rules().version
    assert classify("Moscow talks", "", date(2025, 7, 1), rules).relevant
    assert not classify(
        "Ukraine peace deal", "", date(2025, 7, 1), rules
    ).relevant  # "ukraine" is unknown here


def test_extra_rules_add_or_replace_by_name_and_change_the_version() -> None:
    base = load_rules()
    extra = {"name": "talks.shuttle", "concept": "talks", "weight": 1.0, "terms": ["shuttle diplomacy"]}
    extended = load_rules(extra=[extra])
    assert extended.version != base.version
    assert extended.rule("talks.shuttle").weight == 1.0
    text = ("Kyiv welcomes shuttle diplomacy", "")
    assert not classify(*text, None, base).relevant
    assert classify(*text, None, extended).relevant
    replaced = load_rules(extra=[{"name": "talks.negotiations", "concept": "talks", "terms": ["parley"]}])
    assert len(replaced.rules) == len(base.rules)


def test_a_bad_extra_rule_names_its_source_and_index() -> None:
    with pytest.raises(ConfigError) as caught:
        load_rules(
            extra=[{"name": "x", "concept": "talks", "pattern": "("}],
            extra_source="feeds.toml",
            extra_key="classifier.terms",
        )
    assert caught.value.file == "feeds.toml"
    assert caught.value.key == "classifier.terms[0] (x)"


def test_threshold_override() -> None:
    strict = load_rules(threshold=0.99)
    assert strict.threshold == 0.99 and strict.version != load_rules().version
    text = ("Zelensky says peace talks with Russia must include Europe", "")
    assert classify(*text, None, load_rules()).relevant
    assert not classify(*text, None, strict).relevant


def test_masks_hide_overlapping_hits(tmp_path: Path) -> None:
    text = (
        GOOD_RULE
        + '[[rules]]\nname = "u"\nconcept = "ukraine"\nterms = ["ukraine"]\n'
        + '[[rules]]\nname = "swap"\nconcept = "swap_phrase"\nweight = 1.0\nterms = ["exchange"]\n'
        + '[[rules]]\nname = "market"\nconcept = "market"\nmask = ["swap_phrase"]\n'
        + 'terms = ["exchange rate"]\n'
    )
    rules = load_rules(write_rules(tmp_path, text))
    assert classify("Ukraine exchange", "", None, rules).relevant
    assert not classify("Ukraine exchange rate", "", None, rules).relevant


def test_regex_rules_match_the_normalised_text(tmp_path: Path) -> None:
    text = (
        '[[rules]]\nname = "u"\nconcept = "ukraine"\nterms = ["ukraine"]\n'
        '[[rules]]\nname = "n"\nconcept = "swap_phrase"\nweight = 1.0\npattern = \'\\d+ for \\d+\'\n'
    )
    rules = load_rules(write_rules(tmp_path, text))
    result = classify("UKRAINE: 84 FOR 84", "", None, rules)
    assert result.relevant
    assert any(evidence.rule == "n" and evidence.text == "84 FOR 84" for evidence in result.evidence)


def test_regex_rules_that_open_at_numbers_and_at_words_both_match(tmp_path: Path) -> None:
    # a rule that opens at a number runs on the fast path, one that opens at a word by itself: both match,
    # and overlapping matches of the two are both kept
    text = (
        '[[rules]]\nname = "n"\nconcept = "swap_phrase"\nweight = 1.0\npattern = \'\\b\\d+ for \\d+\'\n'
        '[[rules]]\nname = "w"\nconcept = "return"\nweight = 1.0\n'
        "pattern = 'hand(?<!\\whand)(?:ed)?\\s+(?:\\w+\\s+){1,4}?back\\b'\n"
    )
    rules = load_rules(write_rules(tmp_path, text))
    norm = "they handed 84 for 84 back and the shorthand 9 for 9 back"
    found = {(rules.rules[index].name, norm[start:end]) for index, start, end in rules.match_patterns(norm)}
    assert found == {("n", "84 for 84"), ("n", "9 for 9"), ("w", "handed 84 for 84 back")}


def test_the_cheap_gate_finds_every_anchor_word_and_only_whole_word_starts() -> None:
    rules = load_rules()
    anchors = ("kremlin", "zelenskyy", "kyiv's", "donbas", "azovstal", "normandy format", "україна", "путин")
    for word in anchors:
        assert rules.passes_gate(word), word
    for text in ("the fed holds rates", "a mukremlin town", "prussian history"):
        assert not rules.passes_gate(text), text


def _anchor_test_rules() -> RuleSet:
    return RuleSet(
        [
            Rule("venue", "talks_venue", terms=("in the uae", "in qatar", "turkish city")),
            Rule("grain", "humanitarian", terms=("grain deal", "grain corridor*")),
            Rule("minsk", "minsk", terms=("minsk", "minsk accord*")),
            Rule("person", "meeting", terms=("in person", "in the room")),  # not an anchor's
            Rule("ukraine", "ukraine", terms=("ukraine",)),
        ],
        0.5,
        DEFAULT_SCORES,
        "test",
    )


def test_longer_terms_end_in_their_last_words_and_stems() -> None:
    rules = _anchor_test_rules()
    rules._learn({"in", "grain", "minsk", "turkish"})
    assert rules._anchor_starts["in"] == (frozenset({"uae", "qatar"}), ())  # ("in person" is no anchor's)
    assert rules._anchor_starts["grain"] == (frozenset({"deal"}), ("corridor",))
    assert rules._anchor_starts["turkish"] == (frozenset({"city"}), ())
    assert "minsk" in rules._anchor_words and rules._anchor_starts["minsk"] == (frozenset(), ("accord",))
    assert rules._weighed_starts["in"] == (frozenset({"person", "room"}), ())


@pytest.mark.parametrize(
    "text",
    [
        "talks in the uae",
        "talks in the room, not in the uae",  # "in the" twice, one the venue's
        "in the end, uae officials",  # the last word, but not the term
        "in qatar",
        "a grain corridors plan",  # a stem's word
        "grain prices in the city",
        "in the city of kyiv, grain deals",  # neither term whole
        "the turkish city",
        "in ukraine",
        "nothing here at all",
    ],
)
def test_the_anchor_test_finds_what_matching_every_term_finds(text: str) -> None:
    # has_term_of turns a text away when it holds no last word of the longer terms its words start; what it
    # finds must be what a match over every word finds
    rules = _anchor_test_rules()
    words = normalise_text(text).split()
    for anchor, concepts in ((True, _ANCHORS), (False, _CAN_WEIGH)):
        expected = any(rules._concept[hit.rule] in concepts for hit in rules.match(words))
        distinct = set(words)
        rules._learn(distinct)
        assert rules.has_term_of(words, distinct, anchor=anchor) == expected, (text, anchor)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 8), st.integers(1, 3)), max_size=12))
@settings(max_examples=500)
def test_unmasked_keeps_what_no_mask_hides(spans: list[tuple[int, int, int]]) -> None:
    # the definition: a hit is kept unless a mask's hit that shares a word with it hides its concept
    rules = RuleSet(
        [
            Rule("m", "market", terms=("exchange rate",), mask=("swap_phrase",)),
            Rule("all", "sport", terms=("cup final",), mask=True),
            Rule("s", "swap_phrase", terms=("exchange",), weight=1.0),
            Rule("t", "talks", terms=("talks",), weight=1.0),
        ],
        0.5,
        DEFAULT_SCORES,
        "test",
    )
    hits = [_Hit(rule, first, first + length) for rule, first, length in spans]
    masks = [hit for hit in hits if rules._mask[hit.rule]]
    expected = [
        hit for hit in hits if rules._mask[hit.rule] or not any(rules._hides(mask, hit) for mask in masks)
    ]
    assert rules.unmasked(hits) == expected
