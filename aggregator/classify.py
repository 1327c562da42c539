"""Relevance to the Russia–Ukraine talks and the NEW_ROUND / EXCHANGE / DEADLINE events, with their facts.

A pure function of the item's text, its publication date and a rule set. The rule set is data
(``aggregator/rules/talks.toml``): vocabularies ("concepts") with weights, aliases and spelling variants,
cues of tense and modality, confounders, a relevance threshold and a few engine scores. This module is the
engine that reads them sentence by sentence:

* Text is normalised once (NFKC, casefold, apostrophes and dashes unified) and split into words and
  sentences (the title is a sentence of its own and weighs more).
* Every term of every rule is matched in one pass over the words: a dictionary keyed by each phrase's first
  word (exact words, or stems like ``negotiat*`` keyed by their first four letters), so the cost does not
  grow with the number of rules. Regex rules are combined into one alternation. Rules marked ``mask`` hide
  the hits they overlap ("Moscow Exchange" hides "Moscow" and "exchange").
* An item is relevant when sentences anchored to Russia/Ukraine carry enough topical weight (the talks,
  peace, ceasefire, exchanges, ultimatums), position-weighted (headline > lead > body), minus confounders
  (markets, sport, the IMF, other conflicts...). Items with no term of either kind are rejected before any
  of this, by set arithmetic on their distinct words (remembered: which words are, or start, such terms).
* An event is asserted by one sentence with the event's trigger, concrete modality and the right actors,
  that is not background (old dates, "previous", a lower round than the one in the news...).
* Facts come from the asserting sentences; dates are resolved with dateparser against the publication date.
  A sentence whose score cannot reach the threshold asserts nothing: it is dropped before the costly parts
  (its background, its dates, its facts).
"""

from __future__ import annotations

import bisect
import calendar
import hashlib
import itertools
import json
import math
import operator
import re
import sys
import tomllib
import unicodedata
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from dateutil.easter import EASTER_ORTHODOX, easter

from .errors import ConfigError
from .models import (
    DATE_OF_PUBLICATION,
    EVENT_TYPES,
    Classification,
    ClassifierConfig,
    DetectedEvent,
    Evidence,
    Item,
)

__all__ = [
    "CONCEPTS",
    "EVENT_TYPES",
    "ClassifierConfig",
    "RuleSet",
    "classification_to_dict",
    "classified_text",
    "classify",
    "classify_item",
    "item_facts",
    "load_rules",
]

# The concepts the engine understands; a rule feeds exactly one. (What each means is in talks.toml.)
CONCEPTS = frozenset({
    # actors
    "russia", "ukraine", "ukraine_topic", "ukraine_place", "mediator", "other_conflict", "both_sides",
    # others meeting without one side (Europeans; the US and Russia), or one side said to be absent
    "third_party", "us_russia_pair", "one_side_absent", "one_sided_pair",
    # topical vocabulary (carries relevance weight); "diplomacy" is weaker: it never names a session
    "talks", "diplomacy", "peace", "ceasefire", "humanitarian", "minsk", "swap_phrase", "deadline", "threat",
    # event parts and facts ("talks_venue": where the talks meet, named or described: "the Turkish city")
    "round", "meeting", "exchange", "captives", "war_captives", "bodies", "children", "return", "venue",
    "talks_venue", "ordinal",
    # tense and modality
    "concrete", "future", "past", "tentative", "unscheduled", "pause", "background", "strong_background",
    "fresh", "carried_out", "agreed", "proposal", "withdrawn", "denial",
    "record",  # "hours earlier", "earlier than planned": hides a background cue, says nothing itself
    # confounders
    "market", "sport", "imf", "gas_transit", "tax", "embassy", "accession", "us_russia_swap", "not_a_swap",
    "not_a_round", "arms_control",
    "trade",  # trade negotiations: a round at a venue of the talks that names neither party is theirs
})  # fmt: skip

# Engine scores a rule file may tune in its [scores] table (validated: unknown keys are errors).
DEFAULT_SCORES: Mapping[str, float] = MappingProxyType(
    {
        "exchange_with_captives": 0.8,  # relevance weight of a sentence with a swap verb and prisoners/bodies
        "session_of_both": 0.6,  # ... of a meeting, round or talks that names both parties
        "ultimatum": 0.6,  # ... of a time limit or deadline with a threat or a mediator, aimed at Russia
        "title_factor": 1.5,  # position weights of a sentence's relevance contribution
        "lead_factor": 1.0,
        "body_factor": 0.7,
        "tail_factor": 0.4,
        "sentence_cap": 1.5,  # one sentence contributes at most this much
        "round_window": 6,  # words between "round"/an ordinal and "talks"/"meeting"
        "new_round_threshold": 0.6,
        # a session told past the lead (from this sentence of the body on) asserts a round alone only with
        # this score (see _an_aside)
        "body_round_from": 2,
        "body_round_threshold": 0.75,
        "exchange_threshold": 0.6,
        "deadline_threshold": 0.6,
        "background_days": 10,  # a round or swap dated this long before publication is background
        # ... and deep in the body (from this sentence of the body on), this long before: a long article's
        # recap of last week's meeting, where its lead would be an analysis of it
        "deep_body": 4,
        "deep_background_days": 4,
        # an item that reports no event is relevant only this far above the threshold (0: from it; the
        # packaged rules set 0.15)
        "eventless_margin": 0.0,
    }
)

_PACKAGED_RULES = "talks.toml"
_RULE_KEYS = ("name", "concept", "terms", "pattern", "weight", "mask", "value", "place")
_TOP_KEYS = ("description", "threshold", "scores", "rules")
_MIN_STEM = 3
_STEM_KEY = 3  # stems (at least this long) are indexed by their first letters
_STARTS_CACHE = 200_000  # distinct words remembered per rule set


# --- text normalisation ------------------------------------------------------------------------------

_UNIFY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201b": "'", "\u02bc": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"', "\u201e": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u0130": "i",  # Turkish dotted capital I: casefold would add a combining dot (İstanbul)
    "\u00a0": " ", "\u202f": " ", "\u2009": " ",
})  # fmt: skip


# str.translate looks every character up in the table (~50 ns each); the characters to unify are rare, so
# finding them with a regex and replacing only those is several times faster, with the same result
_TO_UNIFY = re.compile("[" + "".join(re.escape(chr(code)) for code in _UNIFY) + "]")


def _unify(text: str) -> str:
    """``text.translate(_UNIFY)``, faster."""
    if _TO_UNIFY.search(text) is None:
        return text
    return _TO_UNIFY.sub(lambda found: _UNIFY[ord(found.group())], text)  # type: ignore[index]


# the characters to unify an ASCII text can have ("`"): a str.replace each is cheaper than a regex search
_ASCII_UNIFY = tuple((chr(code), new) for code, new in _UNIFY.items() if code < 128)


def _normalise(text: str) -> tuple[str, list[int] | None]:
    """Casefolded, NFKC-normalised text and, when its length differs from ``text``, a map from each of its
    characters to the index of the original character (None: the offsets are the same)."""
    if text.isascii():
        lowered = text.lower()
        for character, replacement in _ASCII_UNIFY:
            if character in lowered:
                lowered = lowered.replace(character, replacement)
        return lowered, None
    unified = _unify(text)
    # (most text is NFKC already: the check is several times cheaper than normalising, and unifying again
    # changes nothing the first pass made)
    if unicodedata.is_normalized("NFKC", unified):
        folded = unified.casefold()
    else:
        folded = _unify(unicodedata.normalize("NFKC", unified)).casefold()
    if len(folded) == len(text):
        return folded, None
    pieces: list[str] = []
    origin: list[int] = []
    for index, character in enumerate(text):
        piece = unicodedata.normalize("NFKC", character.translate(_UNIFY)).translate(_UNIFY).casefold()
        pieces.append(piece)
        origin.extend([index] * len(piece))
    return "".join(pieces), origin


def normalise_text(text: str) -> str:
    """The form terms and patterns are matched against (exposed for tools that write rules)."""
    return _normalise(text)[0]


# --- rules -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    concept: str
    terms: tuple[str, ...] = ()
    pattern: str | None = None
    weight: float = 0.0  # contribution to relevance (negative for confounders)
    mask: bool | tuple[str, ...] = False  # hits hide the other rules' hits they overlap (True: every concept)
    value: int | None = None  # the ordinal of an "ordinal" rule
    place: str | None = None  # the canonical name of a "venue" rule

    def canonical(self) -> dict[str, object]:
        return {
            "name": self.name, "concept": self.concept, "terms": list(self.terms), "pattern": self.pattern,
            "weight": self.weight, "mask": list(self.mask) if isinstance(self.mask, tuple) else self.mask,
            "value": self.value, "place": self.place,
        }  # fmt: skip


class _Node:
    """A word trie: the next word exactly, or a stem its first three letters index; rules ending here."""

    __slots__ = ("exact", "reach", "rules", "stems")

    def __init__(self) -> None:
        self.exact: dict[str, _Node] = {}
        self.stems: dict[str, list[tuple[str, _Node]]] = {}
        self.rules: list[int] = []
        self.reach: frozenset[int] = frozenset()  # the rules of this node and of the nodes below it

    def children(self) -> list[_Node]:
        return [*self.exact.values(), *(child for bucket in self.stems.values() for _, child in bucket)]

    def settle(self) -> frozenset[int]:
        """Sets ``reach`` here and below (once the trie is built)."""
        below = [child.settle() for child in self.children()]
        self.reach = frozenset(self.rules).union(*below)
        return self.reach

    def add(self, words: Sequence[tuple[str, bool]], rule: int) -> None:
        node = self
        for word, is_stem in words:
            if is_stem:
                bucket = node.stems.setdefault(word[:_STEM_KEY], [])
                child = next((child for stem, child in bucket if stem == word), None)
                if child is None:
                    child = _Node()
                    bucket.append((word, child))
            else:
                child = node.exact.setdefault(word, _Node())
            node = child
        if rule not in node.rules:
            node.rules.append(rule)


class RuleSet:
    """A validated, compiled rule set. Build it with ``load_rules``; it is immutable and shareable."""

    def __init__(self, rules: Sequence[Rule], threshold: float, scores: Mapping[str, float], source: str):
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.threshold = threshold
        self.scores: Mapping[str, float] = MappingProxyType(dict(scores))
        self.source = source
        self.version = _version(self.rules, threshold, self.scores)
        # the verdict on an item with nothing to weigh (immutable: one serves them all)
        self._rejected = Classification(False, 0.0, (), (), self.version)
        self._trie = _Node()
        self._starts: dict[str, _Start] = {}  # word -> where it starts terms (a cache)
        self._start_of: dict[
            tuple[_Node, ...], _Start
        ] = {}  # trie nodes -> where a word of theirs starts terms
        self._seen: set[str] = set()  # the words looked up so far (most start nothing)
        # the remembered words that are a term of an anchor's concept (or of one relevance weighs), and those
        # that start a longer term of one, with where those terms end (see _term_ends)
        self._anchor_words: set[str] = set()
        self._weighed_words: set[str] = set()
        self._anchor_starts: dict[str, _Ends] = {}
        self._weighed_starts: dict[str, _Ends] = {}
        self._ends_of: dict[tuple[tuple[_Node, ...], bool], _Ends] = {}  # (trie nodes, anchor) -> their ends
        self._mask = tuple(rule.mask for rule in self.rules)
        self._concept = tuple(rule.concept for rule in self.rules)
        self._weight = tuple(rule.weight for rule in self.rules)
        self._name = tuple(rule.name for rule in self.rules)
        for index, rule in enumerate(self.rules):
            for term in rule.terms:
                self._trie.add(_term_words(term), index)
        self._trie.settle()
        # Regex rules whose every match begins a word with a digit ("84 for 84") run together, at the words
        # str calls find; any other runs by itself, so that one of them does not make the engine try the
        # rest at every word ("hand(?<!\\whand)..." opens with a literal the engine skips to in C)
        patterned = [(index, rule) for index, rule in enumerate(self.rules) if rule.pattern]
        at_numbers = [(index, rule) for index, rule in patterned if _opens_at_numbers(rule.pattern)]
        fast = {index for index, _ in at_numbers}
        # (with no rule at numbers there is no fast path to keep: all run together)
        combined = at_numbers or patterned
        self._pattern, self._pattern_rules = _combine_patterns(combined)
        self._pattern_starts = _starts_regex([rule.pattern for _, rule in combined])
        self._patterns_at_numbers = bool(at_numbers)
        self._other_patterns = [
            (_literal_led(re.compile(rule.pattern or "")), index)
            for index, rule in patterned
            if fast and index not in fast
        ]
        # the word pieces one of which every match of each of those holds (None: not known): a text none of
        # whose words holds one has no match, and the regex is not run on it (see _opening_pieces)
        self._other_pieces = [_opening_pieces(pattern) for pattern, _ in self._other_patterns]
        self._pieces = frozenset(piece for pieces in self._other_pieces if pieces for piece in pieces)
        self._piece_words: dict[str, frozenset[str]] = {}  # remembered words -> the pieces they hold
        pattern_concepts = {rule.concept for rule in self.rules if rule.pattern}
        self.patterns_may_anchor = not pattern_concepts.isdisjoint(_ANCHORS)
        self.patterns_may_weigh = not pattern_concepts.isdisjoint(_CAN_WEIGH)

    def __repr__(self) -> str:
        return f"RuleSet({len(self.rules)} rules from {self.source}, version {self.version})"

    def rule(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)

    def score(self, key: str) -> float:
        return self.scores[key]

    # -- matching --

    def passes_gate(self, norm: str) -> bool:
        """Whether the text may name Russia or Ukraine (or a process of theirs): no, and nothing scores.
        (The test ``classify`` makes before matching, on a normalised text.)"""
        return self._names_concept_in(norm, anchor=True)

    def may_weigh(self, norm: str) -> bool:
        """Whether the text may have something relevance weighs: no, and nothing scores."""
        return self._names_concept_in(norm, anchor=False)

    def _names_concept_in(self, norm: str, *, anchor: bool) -> bool:
        spaced, words = _split_words(norm)
        distinct = set(words)
        self._learn(distinct)
        return self.names_concept(
            words, distinct, lambda: self.match_patterns(norm, spaced, distinct), anchor=anchor
        )

    def names_concept(
        self,
        words: Sequence[str],
        distinct: set[str],
        patterns: Callable[[], list[tuple[int, int, int]]],
        *,
        anchor: bool,
    ) -> bool:
        """Whether the words (``distinct``: their set, learnt) have a hit of an anchor's concept (else: of one
        relevance weighs), before masking; the regex rules (``patterns``: their matches, found when asked)
        are run only when they could add what the words lack."""
        if self.has_term_of(words, distinct, anchor=anchor):
            return True
        by_patterns = self.patterns_may_anchor if anchor else self.patterns_may_weigh
        concepts = _ANCHORS if anchor else _CAN_WEIGH
        return by_patterns and any(self._concept[rule] in concepts for rule, _, _ in patterns())

    def _starts_of(self, word: str) -> tuple[_Node, ...]:
        """The trie nodes a word starts terms at."""
        starts: list[_Node] = []
        node = self._trie.exact.get(word)
        if node is not None:
            starts.append(node)
        bucket = self._trie.stems.get(word[:_STEM_KEY])
        if bucket is not None:
            starts += [child for stem, child in bucket if word.startswith(stem)]
        return tuple(starts)

    def _learn(self, distinct: set[str]) -> None:
        """Remembers where the words start terms (news vocabulary repeats, so after warming up what a text's
        words start is set arithmetic in C rather than a lookup per word in Python)."""
        if self._seen.issuperset(distinct):
            return
        unseen = distinct - self._seen
        if len(self._seen) + len(unseen) > _STARTS_CACHE:
            self._seen.clear()
            self._starts.clear()
            self._piece_words.clear()
            for remembered in self._cheap_test_sets():
                remembered.clear()
            unseen = distinct
        concept_of = self._concept
        pieces = self._pieces
        for word in unseen:
            if pieces:
                held = frozenset(piece for piece in pieces if piece in word)
                if held:
                    self._piece_words[word] = held
            nodes = self._starts_of(word)
            if not nodes:
                continue
            start = self._start_of.get(nodes)
            if start is None:  # (the words a stem takes share theirs: "russian", "russians")
                start = self._start_of[nodes] = _start(nodes)
            self._starts[word] = start
            alone = {concept_of[rule] for node in nodes for rule in node.rules}
            longer = {concept_of[rule] for node in nodes for child in node.children() for rule in child.reach}
            for anchor, concepts, words, starts in (
                (True, _ANCHORS, self._anchor_words, self._anchor_starts),
                (False, _CAN_WEIGH, self._weighed_words, self._weighed_starts),
            ):
                if not alone.isdisjoint(concepts):
                    words.add(word)
                if not longer.isdisjoint(concepts):
                    ends = self._ends_of.get((nodes, anchor))
                    if ends is None:
                        ends = self._ends_of[nodes, anchor] = _term_ends(nodes, concepts, concept_of)
                    starts[word] = ends
        self._seen |= unseen

    def _cheap_test_sets(self) -> tuple[set[str] | dict[str, _Ends], ...]:
        return self._anchor_words, self._weighed_words, self._anchor_starts, self._weighed_starts

    def _starters(self, words: Sequence[str]) -> set[str]:
        """The distinct words that start terms."""
        distinct = set(words)
        self._learn(distinct)
        return self._starts.keys() & distinct  # (a view and a set: iterates the smaller)

    def has_term_of(self, words: Sequence[str], distinct: set[str], *, anchor: bool) -> bool:
        """Whether the words have a term of an anchor's concept (else: of one relevance weighs), before
        masking. (``distinct``: the words' set, learnt.) Set arithmetic, or a match from the few words that
        start a longer such term."""
        if anchor:
            alone, longer, concepts = self._anchor_words, self._anchor_starts, _ANCHORS
        else:
            alone, longer, concepts = self._weighed_words, self._weighed_starts, _CAN_WEIGH
        if not alone.isdisjoint(distinct):
            return True
        starters = longer.keys() & distinct
        # a hit from those is of a longer term, whose last word the text then holds: most texts hold none
        if not any(_holds_an_end(distinct, *longer[starter]) for starter in starters):
            return False
        concept_of = self._concept
        return any(concept_of[hit.rule] in concepts for hit in self.match(words, starters))

    def match(self, words: Sequence[str], starters: set[str] | None = None) -> list[_Hit]:
        """Every term hit over the words: one walk down the trie from each word that starts a term.
        (``starters``: the distinct words that start terms, if known; or the only ones to start from.)"""
        hits: list[_Hit] = []
        if starters is None:
            starters = self._starters(words)
        if not starters:
            return hits
        count = len(words)
        last = count - 1
        known = self._starts
        append = hits.append
        # most words start no term: visit only the positions of those that do
        for first in _positions(words, starters):
            alone, next_words, next_stems, nodes = known[words[first]]
            # walk on only when the next word can continue a term (most multi-word starts stop here)
            if first < last:
                following = words[first + 1]
                if following in next_words or (next_stems and following[:_STEM_KEY] in next_stems):
                    for node in nodes:
                        for rule in node.rules:
                            append(_new_hit(_Hit, (rule, first, first + 1, -1, -1)))
                        if following in node.exact or (node.stems and following[:_STEM_KEY] in node.stems):
                            self._walk(node, words, first, first + 1, count, hits)
                    continue
            for rule in alone:
                append(_new_hit(_Hit, (rule, first, first + 1, -1, -1)))
        return hits

    @staticmethod
    def _walk(
        node: _Node, words: Sequence[str], first: int, position: int, count: int, hits: list[_Hit]
    ) -> None:
        """The rest of multi-word terms from ``node``, whose next word is ``words[position]``."""
        pending = [(node, position)]
        while pending:
            node, position = pending.pop()
            if position >= count:
                continue
            word = words[position]
            child = node.exact.get(word)
            following = [] if child is None else [child]
            if node.stems:
                bucket = node.stems.get(word[:_STEM_KEY])
                if bucket:
                    following += [child for stem, child in bucket if word.startswith(stem)]
            after = position + 1
            for child in following:
                for rule in child.rules:
                    hits.append(_new_hit(_Hit, (rule, first, after, -1, -1)))
                if child.exact or child.stems:
                    pending.append((child, after))

    def match_patterns(
        self, norm: str, spaced: str | None = None, distinct: set[str] | None = None
    ) -> list[tuple[int, int, int]]:
        """(rule, start, end) of every regex rule's match in the normalised text. (``spaced``: the text with
        a space for each character that is no word's, if known; ``distinct``: the set of its words, learnt,
        if known: a regex that runs by itself is then run only when one of its pieces is in one of them.)"""
        if self._pattern is None:
            return []
        present = None if distinct is None else self._pieces_in(distinct)
        found: list[tuple[int, int, int]] = []
        for (pattern, index), pieces in zip(self._other_patterns, self._other_pieces, strict=True):
            if present is None or pieces is None:
                matches = pattern.finditer(norm)
            elif pieces.isdisjoint(present):
                continue
            elif isinstance(pattern, _LiteralLed):
                matches = pattern.finditer(norm, present=present)
            else:
                matches = pattern.finditer(norm)
            found += [(index, match.start(), match.end()) for match in matches if match.end() > match.start()]
        if self._pattern_starts is None:
            for match in self._pattern.finditer(norm):
                if match.lastgroup is not None and match.end() > match.start():
                    found.append((self._pattern_rules[match.lastgroup], match.start(), match.end()))
            return found
        # what finditer does, trying only where a match can start (a match of every rule is non-empty)
        if spaced is not None and self._patterns_at_numbers and spaced.isascii():
            starts: Iterable[int] = _number_starts(spaced)
        else:
            starts = (candidate.start() for candidate in self._pattern_starts.finditer(norm))
        match_at, position = self._pattern.match, 0
        for start in starts:
            if start < position:
                continue
            match = match_at(norm, start)
            if match is not None:
                if match.lastgroup is not None:
                    found.append((self._pattern_rules[match.lastgroup], match.start(), match.end()))
                position = match.end()
        return found

    def _pieces_in(self, distinct: set[str]) -> set[str]:
        """The pieces (see _opening_pieces) the words hold (``distinct``: a text's words, learnt)."""
        present: set[str] = set()
        piece_words = self._piece_words
        for word in piece_words.keys() & distinct:
            present |= piece_words[word]
        return present

    def unmasked(self, hits: list[_Hit]) -> list[_Hit]:
        return self._unmasked(hits)

    def _unmasked(self, hits: list[_Hit]) -> list[_Hit]:
        mask_of = self._mask
        masks = [hit for hit in hits if mask_of[hit.rule]]
        if not masks:
            return hits
        # a mask hides only hits that share a word with it: the others are kept without comparing
        covered = {word for mask in masks for word in range(mask.first, mask.last)}
        return [
            hit
            for hit in hits
            if mask_of[hit.rule]
            or (
                hit.first not in covered  # (most hits are of one word: a lookup, not a range)
                if hit.last - hit.first == 1
                else covered.isdisjoint(range(hit.first, hit.last))
            )
            or not any(self._hides(mask, hit) for mask in masks)
        ]

    def _hides(self, mask: _Hit, hit: _Hit) -> bool:
        if not (mask.first < hit.last and hit.first < mask.last):
            return False
        hidden = self._mask[mask.rule]
        return hidden is True or (isinstance(hidden, tuple) and self._concept[hit.rule] in hidden)


# where the longer terms of some concepts that begin with a word end: their last words, and the last stems
_Ends = tuple[frozenset[str], tuple[str, ...]]


def _term_ends(nodes: Sequence[_Node], concepts: frozenset[str], concept_of: Sequence[str]) -> _Ends:
    """Where the concepts' terms that go on from these trie nodes (those a word starts terms at) end: a text
    with a hit of one holds one of the last words, or a word that begins with one of the last stems."""
    words: set[str] = set()
    stems: set[str] = set()
    pending = list(nodes)
    while pending:
        node = pending.pop()
        following = [
            *((word, False, child) for word, child in node.exact.items()),
            *((stem, True, child) for bucket in node.stems.values() for stem, child in bucket),
        ]
        for word, is_stem, child in following:
            if any(concept_of[rule] in concepts for rule in child.reach):  # (a term of theirs goes on here)
                if any(concept_of[rule] in concepts for rule in child.rules):
                    (stems if is_stem else words).add(word)
                pending.append(child)
    return frozenset(words), tuple(sorted(stems))


def _holds_an_end(distinct: set[str], words: frozenset[str], stems: tuple[str, ...]) -> bool:
    """Whether a text's words (``distinct``) hold one of the words, or a word that begins with a stem."""
    if not words.isdisjoint(distinct):
        return True
    return bool(stems) and any(word.startswith(stems) for word in distinct)


_NUMBER_MARKS = str.maketrans({chr(code): "9" if chr(code).isdigit() else "a" for code in range(33, 128)})


def _number_starts(spaced: str) -> list[int]:
    """Where the words of an ASCII spaced text (a space for each character that is no word's) that begin
    with a digit start."""
    marked = " " + spaced.translate(_NUMBER_MARKS)  # (a digit is "9", another word character "a")
    starts = []
    found = marked.find(" 9")
    while found >= 0:
        starts.append(found)  # (the space before the digit is where the digit is in the text)
        found = marked.find(" 9", found + 2)
    return starts


def _positions(words: Sequence[str], these: set[str]) -> Iterable[int]:
    """Where the words are one of these, in order."""
    if len(these) > 3 or not isinstance(words, list):
        return itertools.compress(itertools.count(), map(these.__contains__, words))
    # a few distinct words: list.index finds each of them in C
    found = []
    for word in these:
        index = -1
        try:
            while True:
                index = words.index(word, index + 1)
                found.append(index)
        except ValueError:
            pass
    return sorted(found)


# where a word starts terms: the rules it alone hits (its nodes' in order), the words that can follow it in a
# term (exact, and the first letters of stems), and its trie nodes
_Start = tuple[tuple[int, ...], frozenset[str], frozenset[str], tuple[_Node, ...]]


def _start(nodes: tuple[_Node, ...]) -> _Start:
    return (
        tuple(rule for node in nodes for rule in node.rules),
        frozenset(word for node in nodes for word in node.exact),
        frozenset(key for node in nodes for key in node.stems),
        nodes,
    )


class _Hit(NamedTuple):
    """A rule's hit. (A named tuple: an item has dozens, and ``_new_hit(_Hit, (...))`` makes one in C.)"""

    rule: int
    first: int  # word index, inclusive
    last: int  # word index, exclusive
    start: int = -1  # character offsets in the normalised text (-1: from the words)
    end: int = -1


_new_hit = tuple.__new__


_TERM_WORD = re.compile(r"\w+\*?")


def _term_words(term: str) -> tuple[tuple[str, bool], ...]:
    """A term split into words exactly as text is (so "Russia-Ukraine" is two words); "word*" is a stem."""
    return tuple((word.rstrip("*"), word.endswith("*")) for word in _TERM_WORD.findall(_normalise(term)[0]))


def _check_term(term: object) -> str | None:
    """What is wrong with a term, or None."""
    if not isinstance(term, str) or not term.strip():
        return f"term {json.dumps(term, ensure_ascii=False)} must be a non-empty string"
    shown = json.dumps(term, ensure_ascii=False)
    norm = _normalise(term)[0]
    if not _TERM_WORD.findall(norm) or "*" in _TERM_WORD.sub("", norm):
        return f'term {shown} has no words, or a * that does not end a word (write stems as "negotiat*")'
    for word, is_stem in _term_words(term):
        if is_stem and len(word) < _MIN_STEM:
            return f"term {shown}: stem {word}* is shorter than {_MIN_STEM} letters"
    return None


def _combine_patterns(rules: Sequence[tuple[int, Rule]]) -> tuple[re.Pattern[str] | None, dict[str, int]]:
    """One regex of the (index, rule) pairs' patterns, and its groups' rule indexes."""
    groups = {f"r{index}": index for index, rule in rules if rule.pattern}
    if not groups:
        return None, {}
    patterns = dict(rules)
    combined = "|".join(f"(?P<{group}>{patterns[index].pattern})" for group, index in groups.items())
    return re.compile(combined), groups


def _opens_at_numbers(pattern: str | None) -> bool:
    """Whether every match of the pattern begins a word with a digit."""
    starts = _starts_regex([pattern]) if pattern else None
    return starts is not None and starts.pattern == r"[\d](?<!\w[\d])"


def _starts_regex(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """A regex that finds, quickly, every place where a match of one of the patterns can start; or None.

    A pattern that opens with ``\\b`` (or any other assertion) makes the regex engine try it at every
    character; a regex that opens with a character class lets the engine skip to that class's characters in
    C. So: the characters a match of each pattern can begin with, read from its parsed form, as one class,
    followed by "not after a word character" when each pattern asserts ``\\b`` before word characters.
    None when a pattern's first character cannot be told, or its match may be empty: the patterns are then
    run as they are."""
    try:
        from re import _parser  # the regex module's own parser; whatever it cannot read is run as is

        parts: list[str] = []
        bounded = True
        for pattern in patterns:
            parsed = _parser.parse(pattern)
            opening = _opening(list(parsed.data)) if parsed.state.flags == re.UNICODE else None
            if opening is None:
                return None
            parts += opening[0]
            bounded = bounded and opening[1]
        # (the boundary is "not after a word character" only before a word character)
        # (re.escape leaves word characters alone)
        bounded = bounded and all(
            part in (r"\d", r"\w") or (len(part) == 1 and _WORD.fullmatch(part)) for part in parts
        )
        joined = "".join(dict.fromkeys(parts))
        return re.compile(f"[{joined}](?<!\\w[{joined}])" if bounded else f"[{joined}]")
    except Exception:  # whatever the parser makes of a pattern, running the patterns as they are is right
        return None


def _literal_openings(items: list[tuple[Any, Any]]) -> list[str] | None:
    """The literal strings one of which every match of the parsed items begins with, after any zero-width
    assertions; None when there is a match that begins otherwise (or they cannot be told)."""
    for at, (op, argument) in enumerate(items):
        name = str(op)
        if name in ("AT", "ASSERT", "ASSERT_NOT"):  # zero-width: the match begins after them all the same
            continue
        if name == "LITERAL":
            literal = []
            for following, value in items[at:]:
                if str(following) != "LITERAL":
                    break
                literal.append(chr(value))
            return ["".join(literal)]
        if name == "SUBPATTERN":
            _, add_flags, del_flags, inner = argument
            return None if add_flags or del_flags else _literal_openings(list(inner.data))
        if name == "BRANCH":
            openings = [_literal_openings(list(alternative.data)) for alternative in argument[1]]
            if any(opening is None for opening in openings):
                return None
            return [literal for opening in openings for literal in opening]  # type: ignore[union-attr]
        return None
    return None


class _LiteralLed:
    """A compiled regex whose every match begins with one of a few literals, found with str.find.

    The regex engine skips to a literal a pattern opens with in C, but not when ``\\b`` or an alternation
    comes first (``\\bend\\W+of``, ``(?:number|share|tally) of``): then it tries the whole pattern at every
    character (20-40 µs over a 2 KB article, for each such regex). Trying it only where one of its literals
    stands finds the same matches: ``finditer`` and ``search`` here give what the regex's own give."""

    __slots__ = ("_literals", "_match", "pattern", "pieces")

    def __init__(self, compiled: re.Pattern[str], literals: Sequence[str]) -> None:
        self.pattern = compiled.pattern
        self._match = compiled.match
        # a literal that another one begins is found with it: "no" finds every "nor"
        self._literals = tuple(
            literal
            for literal in dict.fromkeys(literals)
            if not any(other != literal and literal.startswith(other) for other in literals)
        )
        self.pieces = tuple(_opening_word(literal) for literal in self._literals)  # (see _opening_pieces)

    def _starts(self, string: str, pos: int, endpos: int, present: Container[str] | None = None) -> list[int]:
        starts: list[int] = []
        find = string.find
        for literal, piece in zip(self._literals, self.pieces, strict=True):
            if present is not None and piece and piece not in present:
                continue  # (the string has no word that holds the literal's piece: nor the literal)
            at = find(literal, pos, endpos)
            while at >= 0:
                starts.append(at)
                at = find(literal, at + 1, endpos)
        if len(self._literals) > 1:
            starts.sort()  # (no two literals begin at one place: neither begins the other)
        return starts

    def finditer(
        self, string: str, pos: int = 0, endpos: int = sys.maxsize, *, present: Container[str] | None = None
    ) -> Iterator[re.Match[str]]:
        """The regex's finditer. (``present``: the pieces the string's words hold, if known: a literal whose
        piece is not among them is not looked for.)"""
        # (no match is empty: each holds a literal, so the next is looked for from where one ends)
        after = pos
        match = self._match
        for start in self._starts(string, pos, endpos, present):
            if start >= after:
                found = match(string, start, endpos)
                if found is not None:
                    yield found
                    after = found.end()

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        match = self._match
        for start in self._starts(string, pos, endpos):
            found = match(string, start, endpos)
            if found is not None:
                return found
        return None


def _opening_word(literal: str) -> str:
    """The word characters a literal opens with ("" when it opens with another character)."""
    found = _WORD.match(literal)
    return found.group() if found is not None else ""


def _opening_pieces(pattern: re.Pattern[str] | _LiteralLed) -> frozenset[str] | None:
    """Pieces of word characters one of which every match of the regex holds, inside one word of the text:
    the word characters each literal it opens with opens with (a run of word characters lies inside one
    word, a maximal run). None when they cannot be told, or a literal opens with another character."""
    if isinstance(pattern, _LiteralLed):
        pieces = list(pattern.pieces)
    else:
        try:
            from re import _parser

            parsed = _parser.parse(pattern.pattern)
            if parsed.state.flags != re.UNICODE or pattern.flags != re.UNICODE:
                return None  # (ignoring case, a literal stands for other characters too)
            literals = _literal_openings(list(parsed.data))
        except Exception:  # whatever the parser makes of a pattern, running it on every text is right
            return None
        if not literals:
            return None
        pieces = [_opening_word(literal) for literal in literals]
    return None if not pieces or not all(pieces) else frozenset(pieces)


def _literal_led(compiled: re.Pattern[str]) -> re.Pattern[str] | _LiteralLed:
    """The regex as a _LiteralLed when that finds its matches faster: it opens with literals, but not with
    one the engine would skip to by itself. Else the regex."""
    try:
        from re import _parser

        parsed = _parser.parse(compiled.pattern)
        if parsed.state.flags != re.UNICODE or compiled.flags != re.UNICODE:
            return compiled
        items = list(parsed.data)
        if items and str(items[0][0]) == "LITERAL":
            return compiled  # the engine's own prefix search
        literals = _literal_openings(items)
    except Exception:  # whatever the parser makes of a pattern, running it as it is is right
        return compiled
    if not literals or not all(literals):
        return compiled
    return _LiteralLed(compiled, literals)


_CATEGORIES = {
    "CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D", "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S", "CATEGORY_WORD": r"\w", "CATEGORY_NOT_WORD": r"\W",
}  # fmt: skip
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


def _opening(items: list[tuple[Any, Any]]) -> tuple[list[str], bool] | None:
    """The characters a match of the parsed items begins with (as parts of a regex class: a literal escaped,
    or a category like ``\\d``), and whether ``\\b`` is asserted there; None when they cannot be told or
    the match may be empty."""
    boundary = False
    for op, argument in items:
        name = str(op)
        if name == "AT":  # zero-width: the next item starts at the same place
            boundary = boundary or str(argument) == "AT_BOUNDARY"
            continue
        if name in ("ASSERT", "ASSERT_NOT"):
            continue
        if name == "LITERAL":
            return [re.escape(chr(argument))], boundary
        if name == "IN":
            parts = []
            for kind, value in argument:
                if str(kind) == "LITERAL":
                    parts.append(re.escape(chr(value)))
                elif str(kind) == "CATEGORY" and str(value) in _CATEGORIES:
                    parts.append(_CATEGORIES[str(value)])
                else:  # a range, a negation
                    return None
            return parts, boundary
        if name == "SUBPATTERN":
            _, add_flags, del_flags, inner = argument
            opening = None if add_flags or del_flags else _opening(list(inner.data))
            return None if opening is None else (opening[0], boundary or opening[1])
        if name == "BRANCH":
            openings = [_opening(list(alternative.data)) for alternative in argument[1]]
            if any(opening is None for opening in openings):
                return None
            parts = [part for opening in openings for part in opening[0]]  # type: ignore[index]
            return parts, boundary or all(opening[1] for opening in openings)  # type: ignore[index]
        if name in _REPEATS and argument[0] >= 1:
            opening = _opening(list(argument[2].data))
            return None if opening is None else (opening[0], boundary or opening[1])
        return None
    return None


# Relevance needs an anchor (a sentence about Russia or Ukraine, or a self-anchored process) and something
# to weigh; masks only ever remove hits, so lacking either before masking means a score of 0, no evidence
# (a venue of the talks too: "the second Istanbul round" names neither party, see _implies_the_talks)
_ANCHORS = frozenset(
    ("russia", "ukraine", "ukraine_topic", "ukraine_place", "minsk", "humanitarian", "talks_venue")
)

# The concepts relevance evidence is made of: weighted words, and the parts of the engine's own scores (a
# swap's verb, a session's words, an ultimatum's threat or mediator). See _relevance.
_CAN_WEIGH = frozenset((
    "talks", "diplomacy", "peace", "ceasefire", "humanitarian", "minsk", "swap_phrase", "deadline", "threat",
    "meeting", "round", "market", "sport", "imf", "gas_transit", "tax", "embassy", "accession",
    "us_russia_swap", "exchange", "return", "mediator", "arms_control",
))  # fmt: skip


def _version(rules: Sequence[Rule], threshold: float, scores: Mapping[str, float]) -> str:
    document = {"threshold": threshold, "scores": dict(scores), "rules": [rule.canonical() for rule in rules]}
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _rule_error(source: str, key: str, problem: str) -> ConfigError:
    return ConfigError(source, key, problem)


def parse_rule(raw: object, source: str, key: str) -> Rule:
    """One rule table → Rule, or ConfigError naming ``source`` and ``key`` (e.g. "rules[12] (round.x)")."""
    if not isinstance(raw, Mapping):
        raise _rule_error(source, key, "expected a table")
    name = raw.get("name")
    where = f"{key} ({name})" if isinstance(name, str) and name else key
    unknown = sorted(set(raw) - set(_RULE_KEYS))
    if unknown:
        raise _rule_error(source, where, f"unknown key {unknown[0]} (rule keys: {', '.join(_RULE_KEYS)})")
    if not isinstance(name, str) or not name.strip():
        raise _rule_error(source, where, 'name is missing (every rule needs a name, e.g. "round.near_talks")')
    concept = raw.get("concept")
    if concept not in CONCEPTS:
        raise _rule_error(
            source, where, f"concept {json.dumps(concept)} is not one of: {', '.join(sorted(CONCEPTS))}"
        )
    terms = raw.get("terms", [])
    pattern = raw.get("pattern")
    if not isinstance(terms, list):
        raise _rule_error(source, where, "terms must be an array of strings")
    if not terms and pattern is None:
        raise _rule_error(source, where, "needs terms or a pattern")
    for term in terms:
        problem = _check_term(term)
        if problem:
            raise _rule_error(source, where, problem)
    if pattern is not None:
        _check_pattern(pattern, source, where)
    weight = raw.get("weight", 0.0)
    if (
        isinstance(weight, bool)
        or not isinstance(weight, int | float)
        or not math.isfinite(weight)
        or not -5.0 <= weight <= 5.0
    ):
        raise _rule_error(source, where, f"weight {weight!r} must be a number from -5 to 5")
    mask = raw.get("mask", False)
    if isinstance(mask, list) and mask and all(isinstance(concept, str) for concept in mask):
        wrong = [concept for concept in mask if concept not in CONCEPTS]
        if wrong:
            raise _rule_error(source, where, f"mask names an unknown concept {json.dumps(wrong[0])}")
        mask = tuple(mask)
    elif not isinstance(mask, bool):
        raise _rule_error(source, where, f"mask {mask!r} must be true, false or a list of concepts to hide")
    value = raw.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100):
        raise _rule_error(
            source,
            where,
            f"value {value!r} must be an integer from 1 to 100 (an ordinal's number or a venue's preference)",
        )
    if concept == "ordinal" and value is None:
        raise _rule_error(source, where, "an ordinal rule needs value (the number it stands for)")
    place = raw.get("place")
    if place is not None and (not isinstance(place, str) or not place.strip()):
        raise _rule_error(source, where, "place must be a non-empty string (the venue's canonical name)")
    if concept == "venue" and place is None:
        raise _rule_error(source, where, 'a venue rule needs place (its canonical name, e.g. "Istanbul")')
    return Rule(
        name=name,
        concept=concept,
        terms=tuple(terms),
        pattern=pattern,
        weight=float(weight),
        mask=mask,
        value=value,
        place=place,
    )


def _check_pattern(pattern: object, source: str, where: str) -> None:
    if not isinstance(pattern, str) or not pattern:
        raise _rule_error(source, where, "pattern must be a non-empty string")
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise _rule_error(source, where, f"pattern {json.dumps(pattern)} does not compile: {error}") from None
    if compiled.groupindex:
        raise _rule_error(source, where, f"pattern {json.dumps(pattern)}: named groups are not allowed")
    if compiled.match(""):
        raise _rule_error(source, where, f"pattern {json.dumps(pattern)} matches the empty string")


def _check_threshold(value: object, source: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < value < 1.0:
        raise ConfigError(source, key, f"{value!r} must be a number between 0 and 1 (exclusive)")
    return float(value)


def _read_scores(raw: object, source: str) -> dict[str, float]:
    scores = dict(DEFAULT_SCORES)
    if raw is None:
        return scores
    if not isinstance(raw, Mapping):
        raise ConfigError(source, "scores", "expected a table")
    for key, value in raw.items():
        if key not in DEFAULT_SCORES:
            raise ConfigError(source, f"scores.{key}", f"unknown key (known: {', '.join(DEFAULT_SCORES)})")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1000:
            raise ConfigError(source, f"scores.{key}", f"{value!r} must be a number from 0 to 1000")
        scores[key] = float(value)
    return scores


def _read_rule_document(path: Path | None) -> tuple[dict[str, Any], str]:
    if path is None:
        source = f"rules/{_PACKAGED_RULES}"
        text = resources.files("aggregator.rules").joinpath(_PACKAGED_RULES).read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ConfigError(source, "", "rules file not found") from None
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(source, "", f"cannot read the rules file: {error}") from None
    try:
        return tomllib.loads(text), source
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, "", f"TOML syntax error: {error}") from None


def load_rules(
    path: str | Path | None = None,
    *,
    extra: Iterable[Mapping[str, Any]] | None = None,
    threshold: float | None = None,
    extra_source: str = "inline rules",
    extra_key: str = "terms",
) -> RuleSet:
    """The rule set in ``path`` (None: the packaged default), plus ``extra`` rule tables (a rule with the
    name of an existing one replaces it; others are added) and an optional ``threshold`` override.

    Raises ConfigError naming the file and the rule: ``rules/talks.toml: rules[12] (round.x): ...``.
    """
    document, source = _read_rule_document(None if path is None else Path(path))
    unknown = sorted(set(document) - set(_TOP_KEYS))
    if unknown:
        raise ConfigError(source, unknown[0], f"unknown key (known: {', '.join(_TOP_KEYS)})")
    raw_rules = document.get("rules", [])
    if not isinstance(raw_rules, list):
        raise ConfigError(source, "rules", "expected an array of tables ([[rules]])")
    rules = [parse_rule(raw, source, f"rules[{index}]") for index, raw in enumerate(raw_rules)]
    _check_unique(rules, source, "rules")
    for index, raw in enumerate(extra or ()):
        added = parse_rule(raw, extra_source, f"{extra_key}[{index}]")
        names = [rule.name for rule in rules]
        if added.name in names:
            rules[names.index(added.name)] = added
        else:
            rules.append(added)
    set_threshold = _check_threshold(document.get("threshold", 0.5), source, "threshold")
    if threshold is not None:
        set_threshold = _check_threshold(threshold, extra_source, "threshold")
    return RuleSet(rules, set_threshold, _read_scores(document.get("scores"), source), source)


def _check_unique(rules: Sequence[Rule], source: str, key: str) -> None:
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if rule.name in seen:
            raise ConfigError(source, f"{key}[{index}] ({rule.name})", "another rule already has this name")
        seen.add(rule.name)


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """The packaged rule set, loaded once."""
    return load_rules()


# --- the analysed text -------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
_ASCII_NOT_WORD = str.maketrans({chr(code): " " for code in range(128) if not _WORD.match(chr(code))})
_NONSPACE = re.compile(r"\S")  # \s is str.isspace(): the same whitespace str.strip() removes
# A sentence ends at [.!?]+, closing quotes or brackets and whitespace; at "; "; at a newline. Every
# alternative starts with a literal character so that the regex engine can skip ahead to the candidates
# (a leading [.!?]+ makes it try every position: 4x slower)
_BOUNDARY = re.compile(r"\.[.!?]*[\"')\]]*(?=\s)|![.!?]*[\"')\]]*(?=\s)|\?[.!?]*[\"')\]]*(?=\s)|;(?=\s)|\n")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "gen",
        "lt",
        "col",
        "sgt",
        "capt",
        "sen",
        "rep",
        "gov",
        "pres",
        "prof",
        "jr",
        "sr",
        "vs",
        "no",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "approx",
        "est",
        "inc",
        "corp",
        "ltd",
        "co",
    ]
)


_ABBREVIATION_WINDOW = max(map(len, _ABBREVIATIONS)) + 2  # a longer word is no abbreviation, cut or not
_LETTERS_TO_END = re.compile(r"[^\W_]*\Z")  # the letters and digits (str.isalnum) that end the searched span


def classified_text(title: str, summary: str) -> str:
    """The text ``classify`` reads and Evidence offsets point into: the title, a blank line, the summary."""
    title, summary = title.strip(), summary.strip()
    if title and summary:
        return f"{title}\n\n{summary}"
    return title or summary


@dataclass(slots=True)
class _Sentence:
    index: int
    start: int  # normalised-text offsets
    end: int
    is_title: bool
    body_index: int  # position among the body's sentences (-1 for the title)
    first_word: int = 0  # index of its first word in _Analysis.words
    concepts: dict[str, list[_Hit]] = field(default_factory=dict)
    dates: dict[bool, list[_DateMention]] = field(default_factory=dict)  # by "forward"
    date_matches: list[re.Match[str]] | None = None  # _DATE's matches, shared by both directions
    limits: list[re.Match[str]] | None = None  # its time limits ("in 50 days"), found when first asked
    last_word: int = 0  # index after its last word in _Analysis.words
    non_alpha: bool | None = None  # a word not all letters ("2nd", a year)? Found when first asked
    word_starts: list[int] | None = None  # its words' offsets in norm, found when first asked
    heading: bool = False  # a topic heading ("Tariffs.", "Ukraine." before a digest's bullet)

    def hits(self, *concepts: str) -> list[_Hit]:
        """The hits of the concepts, in that order. (Callers never change the list: a concept's own may
        be returned.)"""
        found = self.concepts
        if len(concepts) == 1:
            return found.get(concepts[0]) or []
        lists = [found[concept] for concept in concepts if concept in found]
        if len(lists) == 1:
            return lists[0]
        return [hit for hits in lists for hit in hits]


@dataclass(slots=True)
class _Analysis:
    text: str
    norm: str
    origin: list[int] | None
    words: list[str]
    sentences: list[_Sentence]
    published: date | None
    rules: RuleSet

    all_starts: list[int] | None = None  # each word's offset in norm, or None: found sentence by sentence
    word_sentence: list[int] = field(default_factory=list)  # each word's sentence index
    spaced: str | None = None  # norm with a space for every character that is no word's (see _spaced)
    padded: str | None = None  # " " + spaced + " ", made when first needed
    proofs: dict[tuple[int, int, int, str | None], Evidence] = field(default_factory=dict)  # made so far

    def starts_in(self, sentence: _Sentence) -> list[int]:
        """Where the sentence's words start in norm (found when first asked, from the spaced text: evidence
        and dates need those of a few sentences)."""
        starts = sentence.word_starts
        if starts is None:
            if self.all_starts is not None:
                starts = self.all_starts[sentence.first_word : sentence.last_word]
            else:
                starts = _word_starts(self.spaced[sentence.start : sentence.end], sentence.start)  # type: ignore[index]
            sentence.word_starts = starts
        return starts

    def word_start(self, word: int) -> int:
        sentence = self.sentences[self.word_sentence[word]]
        if sentence.word_starts is not None or self.spaced is None:
            return self.starts_in(sentence)[word - sentence.first_word]
        # the word's place is that of the n-th " word " from the sentence's start in the padded spaced text
        # (n: how often the sentence says the word before it): evidence needs a few words' places
        if self.padded is None:
            self.padded = f" {self.spaced} "
        text = self.words[word]
        needle = f" {text} "
        place = self.padded.find(needle, sentence.start)
        for _ in range(self.words[sentence.first_word : word].count(text)):
            place = self.padded.find(needle, place + 1)
        return place  # (the padded text's " " before the word is where the word is in the text)

    @property
    def word_starts(self) -> list[int]:
        """Each word's offset in norm."""
        if self.all_starts is None:
            self.all_starts = [start for sentence in self.sentences for start in self.starts_in(sentence)]
        return self.all_starts

    def word_of(self, offset: int) -> int:
        """The index of the word at or before a character offset of norm."""
        sentences = self.sentences
        index = bisect.bisect_right(sentences, offset, key=_sentence_start) - 1
        if index < 0:
            return 0
        sentence = sentences[index]
        # (the words of the sentences before this one all start before the offset, the later ones' after it)
        return max(sentence.first_word + bisect.bisect_right(self.starts_in(sentence), offset) - 1, 0)

    def word_spans(self, sentence: _Sentence) -> list[tuple[int, int]]:
        """Character offsets of the sentence's words in norm."""
        first, last = sentence.first_word, sentence.last_word
        return [
            (start, start + len(word))
            for start, word in zip(self.starts_in(sentence), self.words[first:last], strict=True)
        ]

    def span(self, hit: _Hit) -> tuple[int, int]:
        if hit.start >= 0:
            return hit.start, hit.end
        start = self.word_start(hit.first)
        last = hit.last - 1
        return start, (start if last == hit.first else self.word_start(last)) + len(self.words[last])

    def evidence(self, hit: _Hit, name: str | None = None) -> Evidence:
        # relevance and the events often show the same hit: make its Evidence once
        key = (hit.rule, hit.first, hit.last, name)
        made = self.proofs.get(key)
        if made is None:
            if hit.start >= 0:
                start, end = hit.start, hit.end
            else:
                start = self.word_start(hit.first)
                last = hit.last - 1
                end = (start if last == hit.first else self.word_start(last)) + len(self.words[last])
            if self.origin is not None:
                made = self.evidence_span((start, end), name or self.rules._name[hit.rule])
            else:
                made = Evidence(name or self.rules._name[hit.rule], start, end, self.text[start:end])
            self.proofs[key] = made
        return made

    def materialise(self, proof: _Proof) -> Evidence:
        what, name = proof
        if isinstance(what, _Hit):
            return self.evidence(what, name)
        return self.evidence_span(what, name or "")

    def evidence_span(self, span: tuple[int, int], name: str) -> Evidence:
        start, end = span
        if self.origin is not None:
            start = self.origin[start] if start < len(self.origin) else len(self.text)
            end = self.origin[end - 1] + 1 if end > 0 else 0
        return Evidence(rule=name, start=start, end=end, text=self.text[start:end])

    def sentence_text(self, sentence: _Sentence) -> str:
        return self.norm[sentence.start : sentence.end]


def _sentence_start(sentence: _Sentence) -> int:
    return sentence.start


def _split_sentences(
    text: str,
    norm: str,
    origin: list[int] | None,
    title_end: int,
    words: Sequence[str] | None = None,
    word_starts: Sequence[int] | None = None,
    marks: str | None = None,
) -> list[tuple[int, int]]:
    """The sentences' (start, end) in norm. (``words`` and their ``word_starts``, or the text's ``marks``
    (see _word_marks), when known, tell the word before a dot without a regex.)"""
    bounds: list[tuple[int, int]] = []
    start = 0
    length = len(norm)
    for found in _BOUNDARY.finditer(norm):
        dot, end = found.span()
        mark = norm[dot]
        if mark == "." and marks is not None:  # what _ends_sentence tells, inline (most boundaries are dots)
            if marks[dot] == "1":  # the word that ends at the dot, after its last "_"
                word = norm[marks.rfind("01", 0, dot + 1) : dot]
                if "_" in word:
                    word = word.rpartition("_")[2]
                if (len(word) == 1 and not word.isdigit()) or word in _ABBREVIATIONS:
                    continue  # (an initial; a day's number ends a sentence: "expires on August 8. The")
            following = end + 1  # (a space follows the boundary: mostly the character after it)
            if following >= length or norm[following].isspace() or not norm[end].isspace():
                if (found_after := _NONSPACE.search(norm, end)) is None:
                    following = -1
                else:
                    following = found_after.start()
            if following >= 0 and (text[following] if origin is None else text[origin[following]]).islower():
                continue
        elif mark == "." and not _ends_sentence(text, norm, origin, dot, end, words, word_starts, marks):
            continue
        # (only a newline can end a sentence of nothing but spaces: the others are part of it)
        if mark != "\n" or _NONSPACE.search(norm, start, end):
            bounds.append((start, end))
        start = end
    if _NONSPACE.search(norm, start):
        bounds.append((start, len(norm)))
    bounds = _join_agency_dateline(norm, bounds, title_end)
    if title_end:  # the title is always a sentence of its own
        split: list[tuple[int, int]] = []
        for start, end in bounds:
            if start < title_end < end:
                # (every bound has a non-space character; its two parts may not)
                split += [
                    (low, high)
                    for low, high in ((start, title_end), (title_end, end))
                    if _NONSPACE.search(norm, low, high)
                ]
            else:
                split.append((start, end))
        bounds = split
    return bounds


_AGENCY_DATELINE_LENGTH = 40  # characters, at most, of one part


def _join_agency_dateline(norm: str, bounds: list[tuple[int, int]], title_end: int) -> list[tuple[int, int]]:
    """The body's first bounds joined while they are parts of an agency's dateline ("moscow, may 23.",
    "/tass/."), so that the lead is one sentence that begins with its dateline."""
    first = next((index for index, (start, _) in enumerate(bounds) if start >= title_end), None)
    if first is None:
        return bounds
    last = first
    while (
        last + 1 < len(bounds)
        and bounds[last][1] - bounds[last][0] <= _AGENCY_DATELINE_LENGTH
        and "\n" not in norm[bounds[last][0] : bounds[last][1]].strip()
        and _AGENCY_DATELINE_PART.fullmatch(norm, bounds[last][0], bounds[last][1])
    ):
        last += 1
    if last == first:
        return bounds
    return [*bounds[:first], (bounds[first][0], bounds[last][1]), *bounds[last + 1 :]]


def _ends_sentence(
    text: str,
    norm: str,
    origin: list[int] | None,
    dot: int,
    after: int,
    words: Sequence[str] | None = None,
    word_starts: Sequence[int] | None = None,
    marks: str | None = None,
) -> bool:
    # the letters and digits before the dot; only short runs matter (initials, abbreviations)
    if marks is not None:
        # the word that ends at the dot (the last that starts before it), after its last "_"
        word = norm[marks.rfind("01", 0, dot + 1) : dot].rpartition("_")[2] if marks[dot] == "1" else ""
    elif words is not None and word_starts is not None:
        # the word that ends at the dot, after its last "_" (str.isalnum does not take it: a \w does)
        index = bisect.bisect_left(word_starts, dot) - 1
        word = ""
        if index >= 0 and word_starts[index] + len(words[index]) == dot:
            word = words[index].rpartition("_")[2]
    else:  # (a run longer than the window is no abbreviation, cut or not)
        word = _LETTERS_TO_END.search(norm, max(0, dot - _ABBREVIATION_WINDOW), dot).group()  # type: ignore[union-attr]
    if (len(word) == 1 and not word.isdigit()) or word in _ABBREVIATIONS:  # "U.S. officials", "Gen. Budanov"
        return False
    # the first non-space character after the boundary (which a space follows): mostly the next one
    position = after + 1
    if position >= len(norm) or norm[position].isspace() or not norm[after].isspace():
        # (not norm[after:].lstrip(): that copies the rest each time)
        following = _NONSPACE.search(norm, after)
        if following is None:
            return True
        position = following.start()
    original = text[origin[position]] if origin is not None else text[position]
    return not original.islower()


def _split_words(norm: str) -> tuple[str | None, list[str]]:
    """The text's words, and its spaced form when it has one: those of the spaced text are \\w's, and
    str.split finds them several times faster than the regex."""
    spaced = _spaced(norm)
    return spaced, (spaced.split() if spaced is not None else _WORD.findall(norm))


def _analyse(text: str, title_end: int, published: date | None, rules: RuleSet) -> _Analysis | None:
    norm, origin = _normalise(text)
    spaced, words = _split_words(norm)
    distinct = set(words)
    rules._learn(distinct)
    found_patterns: list[list[tuple[int, int, int]]] = []

    def patterns() -> list[tuple[int, int, int]]:  # the regex rules' matches, found when first asked
        if not found_patterns:
            found_patterns.append(rules.match_patterns(norm, spaced, distinct))
        return found_patterns[0]

    if not _may_be_weighed(rules, words, distinct, patterns):
        return None  # relevance 0 without evidence, however the sentences fall: skip the rest
    # Sentence boundaries never cut a word (they fall between punctuation or a newline and what follows), so
    # the item's words are the same read whole or sentence by sentence: match them before splitting
    hits = rules.match(words, rules._starts.keys() & distinct)
    # where each word starts: from marks that count the words before a place in C (the offsets themselves
    # are found for the few words evidence and dates need); else by one scan of the text
    marks = _word_marks(spaced) if spaced is not None else None
    all_starts = None if marks is not None else [found.start() for found in _WORD.finditer(norm)]
    norm_title_end = title_end
    if origin is not None and title_end:
        norm_title_end = bisect.bisect_left(origin, title_end)
    sentences: list[_Sentence] = []
    word_sentence: list[int] = []
    first = body_index = previous_end = 0
    for index, (start, end) in enumerate(
        _split_sentences(text, norm, origin, norm_title_end, words, all_starts, marks)
    ):
        is_title = start < norm_title_end
        sentence = _Sentence(index, start, end, is_title, -1 if is_title else body_index, first)
        # (what lies between sentences has no words: this sentence's words follow the previous one's)
        if marks is not None:  # the words that start from the previous sentence's end to this one's
            first += marks.count("01", previous_end, end + 1)
            previous_end = end
        else:
            first = bisect.bisect_left(all_starts, end, first)  # type: ignore[arg-type]
        sentence.last_word = first
        word_sentence += [index] * (first - sentence.first_word)
        sentences.append(sentence)
        # (a topic heading, "Ukraine." before a digest's bullet, takes no place in the lead from it)
        sentence.heading = _heads_a_paragraph(norm, sentence, words)
        body_index += 0 if is_title or sentence.heading else 1
    analysis = _Analysis(
        text, norm, origin, words, sentences, published, rules, all_starts, word_sentence, spaced
    )
    for rule, start, end in patterns():
        hits.append(_pattern_hit(analysis, rule, start, end))
    concept_of = rules._concept
    for hit in rules.unmasked(hits):
        concept = concept_of[hit.rule]
        if concept in _PLACES and (
            (hit.last < len(words) and words[hit.last] in _SPEAKS and _speaks(analysis, hit))
            or _cited(words, hit.first)
        ):
            # "Ankara says Turkey is an ideal venue", "lasted forty minutes, according to the Vatican": a
            # capital that speaks is its government
            continue
        sentence = sentences[word_sentence[hit.first]]
        sentence.concepts.setdefault(concept, []).append(hit)
    for sentence in sentences:
        if "background" in sentence.concepts:
            _drop_record_cues(analysis, sentence)
        if "us_russia_swap" in sentence.concepts and "war_captives" in sentence.concepts:
            # "64 defenders and a US citizen freed in new exchange": a war's swap that freed an American too
            # (a US–Russia swap frees citizens and journalists, never soldiers)
            del sentence.concepts["us_russia_swap"]
    return analysis


_PLACES = frozenset(("venue", "talks_venue"))
_FORMATS = frozenset(("format", "formula", "process", "track"))  # "the Vienna format", "the Istanbul process"


def _cited(words: list[str], first: int) -> bool:
    """Whether the words before a name cite it as a source: "according to (the) ..."."""
    before = words[max(0, first - 3) : first]
    return before[-2:] == ["according", "to"] or before == ["according", "to", "the"]


# verbs of a government's voice: a venue's name just before one is the government, not the place
_SPEAKS = frozenset((
    "says", "said", "say", "urges", "urged", "warns", "warned", "insists", "insisted", "denies", "denied",
    "rejects", "rejected", "accuses", "accused", "claims", "claimed", "offers", "offered", "proposes",
    "proposed", "wants", "welcomes", "welcomed", "hopes", "believes", "confirms", "confirmed", "tells",
    "told", "demands", "demanded", "dismisses", "dismissed", "vows", "vowed", "pledges", "pledged",
    "threatens", "threatened", "signals", "signalled", "signaled", "responds", "responded", "criticises",
    "criticizes", "criticised", "criticized", "praises", "praised", "slams", "slammed", "expects", "thinks",
    "sees",
))  # fmt: skip


def _speaks(analysis: _Analysis, hit: _Hit) -> bool:
    """Whether the place is the subject of the word after it ("Ankara says"): that word follows at once (not
    after a comma: "the session in Istanbul, said Fidan"), and no preposition puts the place in a phrase ("the
    talks in Istanbul confirmed a pattern")."""
    if hit.first > 0 and analysis.words[hit.first - 1] in _PLACE_PREPOSITIONS:
        return False
    end = analysis.span(hit)[1]
    return analysis.norm[end : analysis.word_start(hit.last)].isspace()


_PLACE_PREPOSITIONS = frozenset((
    "in", "at", "to", "from", "near", "outside", "inside", "into", "via", "of", "for", "toward", "towards",
    "across", "around", "between", "through", "on", "by",
))  # fmt: skip


# a record set now is compared with the past, not told as past: "the largest exchange since the start of the
# invasion", "the shortest round so far". (Found in code, only in sentences with a background cue: as a rule
# pattern it would be tried at most words of every item.)
_RECORD = re.compile(
    r"\b(?:largest|biggest|first|longest|shortest|most \w+|highest|lowest|smallest|worst|best|deadliest|"
    r"heaviest|toughest)\b(?:\W+\w+){0,6}?\W+(?:so far|to date|since the start|since the beginning)\b"
)


def _drop_record_cues(analysis: _Analysis, sentence: _Sentence) -> None:
    records = [
        (sentence.start + found.start(), sentence.start + found.end())
        for found in _RECORD.finditer(analysis.sentence_text(sentence))
    ]
    if not records:
        return
    kept = [
        hit
        for hit in sentence.concepts["background"]
        if not any(start <= analysis.word_start(hit.first) < end for start, end in records)
    ]
    if kept:
        sentence.concepts["background"] = kept
    else:
        del sentence.concepts["background"]


# the ASCII characters \w does not match (a space each in the spaced text), as str and UTF-8 translations
_ASCII_NOT_WORD_BYTES = bytes(
    ord(" ") if _WORD.match(chr(code)) is None else code for code in range(128)
) + bytes(range(128, 256))
_NOT_WORD_NOT_ASCII = re.compile(r"[^\w\x00-\x7f]")


def _spaced(norm: str) -> str | None:
    r"""The text with a space for each character \w does not match (same offsets, same words), or None when
    that is not cheap: a character that is neither ASCII nor a word's (rare after normalisation)."""
    if norm.isascii():
        return norm.translate(_ASCII_NOT_WORD)  # (an ASCII text translates in C without lookups)
    if _NOT_WORD_NOT_ASCII.search(norm) is not None:
        return None
    # every character beyond ASCII is a word's and stays: translate the UTF-8 bytes of the ASCII ones
    return norm.encode().translate(_ASCII_NOT_WORD_BYTES).decode()


def _word_starts(spaced: str, offset: int = 0) -> list[int]:
    """Where the words of a text whose only non-word characters are spaces start (plus ``offset``): split
    at each space, a piece starts after the pieces and spaces before it; the non-empty pieces are the words.
    (Iterators in C: several times faster than a regex match object per word.)"""
    pieces = spaced.split(" ")
    offsets = map(
        operator.add, itertools.accumulate(itertools.chain((offset,), map(len, pieces))), itertools.count()
    )
    return list(itertools.compress(offsets, pieces))


_MARK_WORDS = str.maketrans({" ": "0", **{chr(code): "1" for code in range(128) if _WORD.match(chr(code))}})


_MARK_WORDS_BYTES = bytes(
    ord("0") if code == ord(" ") else ord("1") if _WORD.match(chr(code)) or code == ord("?") else code
    for code in range(256)
)


def _word_marks(spaced: str) -> str:
    """ "0" and, for each character of a spaced text (a space for each character that is no word's), "1"
    for a word's character and "0" for a space: a word starts at i where "01" is at i, so
    ``marks.count("01", a, b + 1)`` is the number of words that start in [a, b)."""
    if spaced.isascii():
        return "0" + spaced.translate(_MARK_WORDS)
    # ("?" for each character beyond ASCII, all words' in a spaced text; none is left of the text's own)
    return "0" + spaced.encode("ascii", "replace").translate(_MARK_WORDS_BYTES).decode("ascii")


def _may_be_weighed(
    rules: RuleSet, words: list[str], distinct: set[str], patterns: Callable[[], list[tuple[int, int, int]]]
) -> bool:
    """Whether the text has a hit of an anchor's concept and one of a concept relevance weighs (before
    masking: masks only ever remove hits). Without both the score is 0 without evidence; most items stop
    here, before their terms are matched."""
    return rules.names_concept(words, distinct, patterns, anchor=True) and rules.names_concept(
        words, distinct, patterns, anchor=False
    )


def _pattern_hit(analysis: _Analysis, rule: int, start: int, end: int) -> _Hit:
    """A regex match as a hit over the words it covers (for masking and proximity)."""
    sentences = analysis.sentences
    sentence = sentences[max(bisect.bisect_right(sentences, start, key=_sentence_start) - 1, 0)]
    word_starts, lowest = analysis.starts_in(sentence), sentence.first_word
    # the sentence's last word that starts at or before the match, else its first word
    first = max(bisect.bisect_right(word_starts, start) - 1, 0) + lowest
    last = bisect.bisect_left(word_starts, end) + lowest
    return _Hit(rule, first, max(last, first + 1), start, end)


# --- relevance ---------------------------------------------------------------------------------------

_TOPICAL = (
    "talks",
    "diplomacy",
    "peace",
    "ceasefire",
    "humanitarian",
    "minsk",
    "swap_phrase",
    "deadline",
    "threat",
    "meeting",
    "round",
)
_CONFOUNDERS = (
    "market", "sport", "imf", "gas_transit", "tax", "embassy", "accession", "us_russia_swap", "arms_control",
)  # fmt: skip
_WEIGHTED = (*_TOPICAL, *_CONFOUNDERS)
_SELF_ANCHORED = ("minsk", "humanitarian")  # these name the Russia–Ukraine process on their own


@dataclass(slots=True)
class _Context:
    """Who a sentence is about, after inheriting from the sentence before when it names no one."""

    russia: bool
    ukraine: bool  # as a party or as the war's country
    other: bool  # another conflict (and not Ukraine)
    implied: bool = False  # named by no one: a round or swap at one of the talks' venues implies both parties


def _own_context(sentence: _Sentence, rules: Sequence[Rule]) -> _Context:
    concepts = sentence.concepts
    # the Black Sea grain deal is Russia's and Ukraine's, whoever is named ("The Black Sea grain deal, due to
    # expire this weekend, has been extended ..., Turkish and UN officials said")
    grain_deal = any(rules[hit.rule].name == _GRAIN_DEAL for hit in sentence.hits("humanitarian"))
    russia = ("russia" in concepts) or grain_deal
    ukraine = (
        grain_deal
        or ("ukraine" in concepts)
        or ("ukraine_topic" in concepts)
        or ("ukraine_place" in concepts)
    )
    other = (("other_conflict" in concepts) or ("us_russia_swap" in concepts)) and not ukraine
    return _Context(russia, ukraine, other)


def _names_rounds_or_sides(sentence: _Sentence) -> bool:
    """A round, the delegations or sides, or a swap of soldiers or bodies: what only parties at war that
    negotiate have."""
    concepts = sentence.concepts
    return (
        "round" in concepts
        or "both_sides" in concepts
        or "minsk" in concepts  # the Normandy format, the contact group
        or ("war_captives" in concepts and _has_exchange_trigger(sentence))
    )


def _implies_the_talks(sentence: _Sentence) -> bool:
    """Talks, a meeting, a round or a swap at a venue of the talks ("the second Istanbul round", "the
    meeting in the Turkish city ended"): outlets that follow the talks often name neither party."""
    concepts = sentence.concepts
    if "talks_venue" not in concepts:
        return False
    return "talks" in concepts or "meeting" in concepts or _names_rounds_or_sides(sentence)


def _contexts(analysis: _Analysis) -> list[_Context]:
    contexts: list[_Context] = []
    own = [_own_context(sentence, analysis.rules.rules) for sentence in analysis.sentences]
    # a sentence at a venue of the talks, in an item that names no one (neither party nor another conflict)
    # and has a round, the sides or a war's swap somewhere (talks in a capital alone could be anyone's), and
    # is not about trade ("a fourth round of free-trade talks in Doha": those venues host others' talks too)
    if (
        not any(
            context.russia or context.ukraine or context.other or ("us_russia_swap" in sentence.concepts)
            for sentence, context in zip(analysis.sentences, own, strict=True)
        )
        and any(_names_rounds_or_sides(sentence) for sentence in analysis.sentences)
        and not any("trade" in sentence.concepts for sentence in analysis.sentences)
    ):
        for index, (sentence, context) in enumerate(zip(analysis.sentences, own, strict=True)):
            if not (context.russia or context.ukraine) and _implies_the_talks(sentence):
                own[index] = _Context(True, True, False, implied=True)
    # a headline or lead that names no one ("Thousand-for-thousand exchange completed") is about whoever
    # the item names first
    pairs = zip(analysis.sentences, own, strict=True)
    named = (_lent(s, c) for s, c in pairs if c.russia or c.ukraine or c.other)
    previous = next(named, _Context(False, False, False))
    title_context: _Context | None = None
    digest = sum(sentence.heading for sentence in analysis.sentences) >= _DIGEST_HEADINGS
    for sentence, context in zip(analysis.sentences, own, strict=True):
        if (
            digest
            and sentence.heading
            and not (context.russia or context.ukraine or context.other)
            and sentence.concepts.keys().isdisjoint(_TALKS_HEADINGS)
        ):
            # "Tariffs." heads a digest's next item: what follows is about whoever it names, not the last
            # (but "Exchanges." or "Deadlines." heads a section of the talks' own news)
            previous = title_context = _Context(False, False, False)
        if not (context.russia or context.ukraine or context.other):
            # "The talks lasted two hours." inherits who the talks are between
            context = previous
            if title_context is not None and not (previous.russia or previous.ukraine or previous.other):
                context = title_context
            if context.implied:  # the parties, not the session: "no new round is planned" is no session
                context = _Context(context.russia, context.ukraine, context.other)
        if sentence.is_title:
            title_context = context
        contexts.append(context)
        previous = _lent(sentence, context)
    return contexts


_HEADING_WORDS = 3  # at most, in a digest's topic heading ("Tariffs.", "Teacher freed.", "Quote of the day:")
_DIGEST_HEADINGS = 3  # at least, in an item of many topics (a report's "Key points:" heads its own news)
# what a heading of the talks' own news names ("Exchanges.", "Deadlines.", "The summit.")
_TALKS_HEADINGS = frozenset((
    "round", "meeting", "talks", "diplomacy", "mediator", "peace", "ceasefire", "humanitarian", "minsk",
    "exchange", "swap_phrase", "captives", "war_captives", "bodies", "children", "return", "deadline",
))  # fmt: skip


def _heads_a_paragraph(norm: str, sentence: _Sentence, words: Sequence[str]) -> bool:
    """A paragraph that opens with a few words and a full stop or colon ("Tariffs.", "Gaza.") before its
    first sentence: a newsletter's or briefing's next topic (not "He refused.", a sentence of its own)."""
    if sentence.is_title or not 0 < sentence.last_word - sentence.first_word <= _HEADING_WORDS:
        return False
    text = norm[sentence.start : sentence.end].strip()
    return (
        text.endswith((".", ":"))
        and any(char.isalpha() for char in text)
        and norm[: sentence.start].rstrip(" ").endswith("\n")
        and not norm[sentence.end :].lstrip(" ").startswith("\n")  # the paragraph goes on
        and _HEADING_WORDS_NOT.isdisjoint(words[sentence.first_word : sentence.last_word])
    )


# words a sentence has and a heading has not ("It expires Friday.", "He refused.", "Talks are over.")
_HEADING_WORDS_NOT = frozenset((
    "he", "she", "it", "they", "we", "i", "you", "this", "that", "there", "was", "were", "is", "are", "has",
    "have", "had", "said", "says", "will", "would", "did", "does", "not", "no", "be", "been",
))  # fmt: skip


def _lent(sentence: _Sentence, context: _Context) -> _Context:
    """What a sentence lends the sentences after it that name no one: its context, but another's when it
    tells a US–Russia swap ("Ballerina freed in Abu Dhabi swap" over "Karelina, a US-Russian citizen jailed
    for a donation to a Ukrainian charity, was freed ..."): Ukraine is named there, not at the swap."""
    if "us_russia_swap" in sentence.concepts and not context.other:
        return _Context(False, False, True)
    return context


def _position_factor(sentence: _Sentence, scores: Mapping[str, float]) -> float:
    if sentence.is_title:
        return scores["title_factor"]
    if sentence.body_index < 2:
        return scores["lead_factor"]
    if sentence.body_index < 6:
        return scores["body_factor"]
    return scores["tail_factor"]


def _has_exchange_trigger(sentence: _Sentence) -> bool:
    if "swap_phrase" in sentence.concepts:
        return True
    objects = (
        ("captives" in sentence.concepts)
        or ("war_captives" in sentence.concepts)
        or ("bodies" in sentence.concepts)
        or ("children" in sentence.concepts)
    )
    if objects:
        return ("exchange" in sentence.concepts) or ("return" in sentence.concepts)
    # "The exchange, carried out at a checkpoint ...": a swap noun with a verb of release on another word
    swaps = sentence.concepts.get("exchange")
    if not swaps:
        return False
    released = sentence.hits("carried_out", "return")
    return any(hit.first != swap.first for hit in released for swap in swaps)


def _swap_of_ukraine(sentence: _Sentence, context: _Context) -> bool:
    """Whether a swap told here is Ukraine's: Ukraine is named, or Russia is and the captives are a war's
    (soldiers, POWs, bodies) or the sides are both ("bodies handed over by Russia"); a US–Russia swap frees
    citizens and journalists, never soldiers."""
    if context.ukraine:
        return True
    return context.russia and (("war_captives" in sentence.concepts) or ("both_sides" in sentence.concepts))


def _names_a_session_of_both(analysis: _Analysis, sentence: _Sentence) -> _Hit | None:
    """A meeting, round or talks in a sentence that names both parties, or held where the talks meet, not
    years ago and not a mediator with one party ("after the second round in Istanbul"; not "US and Russian
    officials met in Abu Dhabi"): the talks themselves."""
    concepts = sentence.concepts
    if not (
        ("both_sides" in concepts)
        or (("russia" in concepts) and ("ukraine" in concepts))
        or (
            "talks_venue" in concepts
            and not ("mediator" in concepts and (("russia" in concepts) != ("ukraine" in concepts)))
            and not _names_past_year(analysis, sentence)
        )
    ):
        return None
    # (a round in a sentence about a bout or a match is the game's: "stopped him in the ninth round")
    sessions = (
        sentence.hits("meeting", "talks")
        if "sport" in concepts
        else sentence.hits("meeting", "round", "talks")
    )
    return sessions[0] if sessions else None


def _ultimatum_hit(analysis: _Analysis, sentence: _Sentence, context: _Context) -> _Hit | None:
    """A deadline or time limit with a threat or a mediator, where Russia is concerned, or a mediator's
    deadline for Ukraine ("Kyiv has less than a week to answer Washington's plan"): an ultimatum."""
    if context.other or not (("threat" in sentence.concepts) or ("mediator" in sentence.concepts)):
        return None
    if not (context.russia or (context.ukraine and ("mediator" in sentence.concepts))):
        return None
    if "deadline" in sentence.concepts:
        return sentence.hits("deadline")[0]
    if _limits(analysis, sentence) and "tax" not in sentence.concepts:
        return (sentence.hits("threat") or sentence.hits("mediator"))[0]
    return None


def _relevance(analysis: _Analysis, contexts: list[_Context]) -> tuple[float, list[Evidence]]:
    rules, scores = analysis.rules, analysis.rules.scores
    weights = rules._weight
    swap_worth, session_worth = scores["exchange_with_captives"], scores["session_of_both"]
    ultimatum_worth, cap = scores["ultimatum"], scores["sentence_cap"]
    total = 0.0
    shown: list[_Hit] = []
    war_unnamed = None
    headline_weighed = False  # whether a headline gave weight either way
    # an item that opens on a bout or a match ("stopped Reeve in the ninth round of their heavyweight bout"):
    # its rounds are the game's
    sporting = sum(len(s.hits("sport")) for s in analysis.sentences[:3]) >= 2
    for sentence, context in zip(analysis.sentences, contexts, strict=True):
        concepts = sentence.concepts
        present = concepts.keys()
        if present.isdisjoint(_CAN_WEIGH):
            continue  # nothing to weigh, no swap, session or ultimatum: most sentences of a long item
        if "us_russia_pair" in present or "one_sided_pair" in present:
            if war_unnamed is None:
                # ("Ukraine is not on the agenda of these talks" names it only to leave it out)
                war_unnamed = all(
                    s.concepts.keys().isdisjoint(_OF_THE_WAR) or _leaves_ukraine_out(analysis, s)
                    for s in analysis.sentences
                )
            if war_unnamed:
                continue  # the US and Russia meeting on something else: Ukraine and the war go unnamed
        if sentence.is_title and context.other and not (context.ukraine or context.russia):
            # "Qatar's mediation secures US-Venezuela prisoner exchange": another conflict's news, whatever
            # its body recalls of Ukraine's
            total -= _position_factor(sentence, scores)
            continue
        if present.isdisjoint(_SELF_ANCHORED) and not (
            (context.ukraine or context.russia) and not context.other
        ):
            continue  # not anchored
        weight, used = 0.0, []
        swap_weight = 0.0
        seen_rules: set[int] = set()
        weighted = _WEIGHTED_SET.intersection(present)
        for concept in sorted(weighted, key=_WEIGHTED_ORDER.__getitem__) if len(weighted) > 1 else weighted:
            for hit in concepts[concept]:
                rule = hit.rule
                if rule in seen_rules:
                    continue  # a word repeated in one sentence says nothing new
                if sporting and concept == "round":
                    continue  # the game's round
                seen_rules.add(rule)
                if concept == "swap_phrase" and not _swap_of_ukraine(sentence, context):
                    continue  # a swap without Ukraine is someone else's (US–Russia)
                rule_weight = weights[rule]
                if rule_weight:
                    weight += rule_weight
                    used.append(hit)
                    swap_weight += rule_weight if concept == "swap_phrase" else 0.0
        if (
            _has_exchange_trigger(sentence)
            and swap_weight < swap_worth
            and _swap_of_ukraine(sentence, context)
        ):
            weight += swap_worth - swap_weight  # a swap is worth this much, however told
            used += (
                sentence.hits("exchange", "return")[:1]
                + sentence.hits("captives", "war_captives", "bodies", "children")[:1]
            )
        session = _names_a_session_of_both(analysis, sentence)
        if session is not None:
            weight += session_worth
            used.append(session)
        ultimatum = _ultimatum_hit(analysis, sentence, context)
        if ultimatum is not None:
            weight += ultimatum_worth
            used.append(ultimatum)
        if not used:
            continue
        headline_weighed = headline_weighed or sentence.is_title
        # (a lead counts as the headline when the headline weighed nothing: "Korniienko wins in Riyadh", then
        # "Ukrainian heavyweight Korniienko beat Reeve in the ninth round in Riyadh on Saturday")
        if (sentence.is_title or (sentence.body_index == 0 and not headline_weighed)) and (
            (weight < 0 and not _HEADLINE_CONFOUNDERS.isdisjoint(sentence.concepts))
            or _leads_with_markets(analysis, sentence)
        ):
            # A headline about a title fight, a market or another matter (_HEADLINE_CONFOUNDERS) weighs
            # against the whole item: the body's words about captives or talks are asides ("dedicated the
            # title to the soldiers coming home") or the market's news ("stocks swing as talks open").
            shown += used
            total -= abs(weight) * _position_factor(sentence, scores)
            continue
        contribution = min(max(weight, 0.0), cap)
        if contribution > 0 or any(weights[hit.rule] < 0 for hit in used):  # (a confounder shows)
            shown += used
        total += contribution * _position_factor(sentence, scores)
    return 1.0 - math.exp(-max(total, 0.0)), [analysis.evidence(hit) for hit in shown]


# what a headline may be about that makes the talks it names an aside: a title fight, an arms treaty, the
# embassies, EU accession, taxes, gas transit, the IMF, trade
_HEADLINE_CONFOUNDERS = frozenset(
    ("sport", "arms_control", "embassy", "accession", "tax", "gas_transit", "imf", "trade")
)


def _headed_by_markets(analysis: _Analysis) -> bool:
    """Whether the item's headline (its first sentence, when it has none) has a market for subject."""
    first = analysis.sentences[0] if analysis.sentences else None
    return (
        first is not None
        and (first.is_title or first.body_index == 0)
        and _leads_with_markets(analysis, first)
    )


# A headline whose subject is a market ("Moscow stocks swing as Istanbul talks open"): market news, however
# much the talks moved it. Trade words alone are not ("threatens Russia's trading partners").
_MARKET_SUBJECTS = frozenset(("stocks", "shares", "rouble", "ruble", "hryvnia", "bonds", "equities", "moex"))


def _leads_with_markets(analysis: _Analysis, sentence: _Sentence) -> bool:
    if "market" not in sentence.concepts:
        return False
    # (after the dateline: "MOSCOW, Dec 9 (Agency) - Russian stocks fell on Wednesday")
    first = _after_dateline(analysis, sentence)
    return not _MARKET_SUBJECTS.isdisjoint(analysis.words[first : first + 4]) or any(
        # a market named in words opens it: "Moscow Exchange extends gains", "Oil prices slip as ..."
        hit.first < first + 2 and hit.last - hit.first > 1
        for hit in sentence.hits("market")
    )


_UKRAINE_LEFT_OUT = "confounder.ukraine_left_out"
_US_RUSSIA_VENUE = "actor.us_russia_venue"  # where only the US and Russia have met
_GRAIN_DEAL = "humanitarian.grain_deal"


def _leaves_ukraine_out(analysis: _Analysis, sentence: _Sentence) -> bool:
    rules = analysis.rules.rules
    return any(rules[hit.rule].name == _UKRAINE_LEFT_OUT for hit in sentence.hits("embassy"))


# Ukraine, the war, its settlement or an ultimatum named (a meeting of the US and Russia may be about it)
_OF_THE_WAR = frozenset((
    "ukraine", "ukraine_topic", "ukraine_place", "peace", "ceasefire", "humanitarian", "minsk", "captives",
    "deadline", "threat",
))  # fmt: skip
_WEIGHTED_SET = frozenset(_WEIGHTED)
_WEIGHTED_ORDER = {concept: index for index, concept in enumerate(_WEIGHTED)}


# --- dates -------------------------------------------------------------------------------------------

_MONTH_NAMES = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
    "|января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
    "|січня|лютого|березня|квітня|травня|червня|липня|серпня|вересня|жовтня|листопада|грудня"
)
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_ENGLISH_MONTHS = _MONTH_NAMES.split("|")[:12]
_ENGLISH_MONTH_NAMES = "|".join(_ENGLISH_MONTHS)

# "MOSCOW, May 23. /TASS/. Under the ...": a news agency's dateline ends in dots, but begins the lead
_AGENCY_DATELINE_PART = re.compile(
    rf"\s*(?:[^\W\d_][\w'-]*(?:[ .'-]+[^\W\d_][\w'-]*){{0,2}},\s*(?:{_MONTH_NAMES})\.?\s+\d{{1,2}}\.?"
    r"|/[^/\s]{1,30}/\.?)\s*"
)


def _not_the_month_of_publication(analysis: _Analysis, month: str) -> bool:
    """Whether an English month's name (lower case) is another month than the publication's."""
    published = analysis.published
    return published is not None and _ENGLISH_MONTHS.index(month) + 1 != published.month


# Russian and Ukrainian weekday forms (nominative, accusative, genitive) → the English name dateparser reads
_FOREIGN_WEEKDAYS = {
    "monday": "понедельник понедельника понеділок понеділка",
    "tuesday": "вторник вторника вівторок вівторка",
    "wednesday": "среда среду среды середа середу середи",
    "thursday": "четверг четверга четвер",
    "friday": "пятница пятницу пятницы п'ятниця п'ятницю п'ятниці",
    "saturday": "суббота субботу субботы субота суботу суботи",
    "sunday": "воскресенье воскресенья неділя неділю неділі",
}
_WEEKDAY_OF_FORM = {form: name for name, forms in _FOREIGN_WEEKDAYS.items() for form in forms.split()}
_FOREIGN_WEEKDAY_FORMS = "|".join(sorted(_WEEKDAY_OF_FORM, key=len, reverse=True))
_DATE = re.compile(
    rf"\b(?P<md>(?:{_MONTH_NAMES})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?)"
    rf"|\b(?P<range>\d{{1,2}}(?:st|nd|rd|th)?\s*(?:and|to|-)\s*\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?"
    rf"(?:{_MONTH_NAMES})\b(?:,?\s+\d{{4}}\b)?)"
    rf"|\b(?P<dm>\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTH_NAMES})\b(?:,?\s+\d{{4}}\b)?)"
    r"|\b(?P<iso>\d{4}-\d{2}-\d{2})\b"
    # "Tuesday, February 15", "Tuesday 15 February": the date it states, not the next Tuesday
    rf"|\b(?P<wdate>(?:{_WEEKDAYS}),?\s+(?:(?:{_MONTH_NAMES})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTH_NAMES}))\b(?:,?\s+\d{{4}}\b)?)"
    rf"|\b(?P<wd>(?:(?:last|next|this|coming)\s+)?(?:{_WEEKDAYS}|{_FOREIGN_WEEKDAY_FORMS}))\b"
    r"|\b(?P<rel>today|tonight|tomorrow|yesterday|this (?:morning|afternoon|evening))\b"
    rf"|\b(?P<part>(?:early|mid|late)-?\s?(?:{_MONTH_NAMES}))\b"
    # "22.07.2025", "on 23.07" (a bare "1.5" is a number: without a year, only after on/by/from/until/since)
    r"|\b(?P<num>\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})\b"
    r"|(?:(?<=\bon )|(?<=\bby )|(?<=\bfrom )|(?<=\buntil )|(?<=\bsince )|(?<=\btill ))\d{1,2}\.\d{1,2}\b)"
    r"(?![.,]\d|\s*(?:%|percent|per cent|million|billion|bn\b))"
)
_VAGUE_MONTH = re.compile(rf"\b(?P<month>{_MONTH_NAMES})\b")


_LEADING_WEEKDAY = re.compile(r"^\w+,?\s+")


@lru_cache(maxsize=64)
def _date_parser(base: date, prefer: str) -> Any:
    """One dateparser parser per (publication date, preference): building settings is the slow part."""
    from dateparser.date import DateDataParser  # imported on first use: it takes ~0.3 s to load

    settings = {
        "RELATIVE_BASE": datetime(base.year, base.month, base.day, 12),
        "PREFER_DATES_FROM": prefer,
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DAY_OF_MONTH": "first",
    }
    return DateDataParser(languages=["en", "ru", "uk"], settings=settings)


@lru_cache(maxsize=8192)
def _parse_date(span: str, base: date, prefer: str) -> date | None:
    """``span`` resolved by dateparser against ``base`` (cached: dateparser takes milliseconds)."""
    found = _date_parser(base, prefer).get_date_data(span)
    moment = found.date_obj if found is not None else None
    return moment.date() if moment is not None else None


_PAST_TENSE_AHEAD_DAYS = 60


def _nearest_year(moment: date, base: date) -> date:
    """A day-and-month without a year is the one nearest the publication date (glue over dateparser)."""
    candidates = []
    for year in (base.year - 1, base.year, base.year + 1):
        try:
            candidates.append(moment.replace(year=year))
        except ValueError:  # 29 February
            continue
    return min(candidates, key=lambda candidate: abs((candidate - base).days))


# dateparser reads day-and-month spans against this base and the item's year is chosen afterwards, so its
# (slow) answers are cached per span rather than per span and publication date; a leap year, for 29 February
_NEUTRAL_BASE = date(2024, 1, 1)
_NEEDS_A_BASE = frozenset(("rel", "wd", "part"))  # kinds of date read from the publication's, year or not
_STATES_A_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


def _weekday_from(name: str, base: date, forward: bool) -> date:
    """The next (or last) such weekday strictly after (before) ``base``: what dateparser answers for a bare
    weekday with PREFER_DATES_FROM future (past), without a dateparser call per publication date."""
    index = _WEEKDAY_INDEX[name]
    if forward:
        return base + timedelta(days=(index - base.weekday()) % 7 or 7)
    return base - timedelta(days=(base.weekday() - index) % 7 or 7)


@lru_cache(maxsize=16384)  # pure; news repeats its dates ("on Monday", "June 2") item after item
def _resolve_date(kind: str, span: str, base: date, forward: bool) -> date | None:
    if kind == "part":  # "in mid-May": the 5th, 15th or 25th of the month nearest the publication date
        part, month_name = re.match(r"(early|mid|late)-?\s?(.+)", span).groups()  # type: ignore[union-attr]
        month = _parse_date(month_name, _NEUTRAL_BASE, "current_period")
        day = {"early": 5, "mid": 15, "late": 25}[part]
        return _year_by_tense(month.replace(day=day), base, forward) if month else None
    if kind == "range":  # "23 and 24 January", "23-24 January": the first day
        first, month = re.match(r"(\d+)\D*?\s*(?:and|to|-)\s*\d+(?:st|nd|rd|th)?\s+(.+)", span).groups()  # type: ignore[union-attr]
        return _resolve_date("dm", f"{first} {month}", base, forward)
    if kind == "num":  # day.month[.year]
        day, month, *year = (int(part) for part in span.split("."))
        try:
            moment = date(year[0] + (2000 if year[0] < 100 else 0) if year else base.year, month, day)
        except ValueError:
            return None
        return moment if year else _nearest_year(moment, base)
    if kind == "wdate":  # the weekday adds nothing to the date after it
        return _resolve_date("md", _LEADING_WEEKDAY.sub("", span), base, forward)
    if kind == "rel":
        offsets = {"tomorrow": 1, "yesterday": -1}
        return base + timedelta(days=offsets.get(span.split()[0], 0))
    if kind == "wd":
        *prefix, name = span.split()
        name = _WEEKDAY_OF_FORM.get(name, name)
        if prefix and prefix[0] in ("last", "next", "coming"):
            forward = prefix[0] != "last"  # "last Friday" is past, "next Friday" ahead, whatever the tense
        elif prefix and prefix[0] == "this":
            # "this Friday" is the Friday of the week it is said in (said on a Tuesday, three days ahead),
            # whatever tense the sentence's verb of saying has; a day of it already past, in a sentence about
            # what is to come, is next week's
            moment = base + timedelta(days=_WEEKDAY_INDEX[name] - base.weekday())
            return moment if moment >= base or not forward else moment + timedelta(days=7)
        elif _WEEKDAY_INDEX[name] == base.weekday():
            return base
        return _weekday_from(name, base, forward)
    moment = _parse_date(re.sub(r"(?<=\d)(?:st|nd|rd|th)\b", "", span), _NEUTRAL_BASE, "current_period")
    if moment is None:
        return None
    has_year = re.search(r"\d{4}", span) is not None
    if has_year:
        return moment
    return _year_by_tense(moment, base, forward)


def _year_by_tense(moment: date, base: date, forward: bool) -> date:
    """A day and month without a year: the one nearest publication, but told in the past tense (not looking
    forward), a day months ahead is last year's ("direct talks resumed in Istanbul on May 16", "last met in
    late March", in a review written in December)."""
    nearest = _nearest_year(moment, base)
    if not forward and (nearest - base).days > _PAST_TENSE_AHEAD_DAYS:
        earlier = _nearest_year(moment, base.replace(year=base.year - 1, day=min(base.day, 28)))
        return earlier if earlier < base else nearest
    return nearest


_WEEKDAY_INDEX = {name: index for index, name in enumerate(_WEEKDAYS.split("|"))}


class _DateMention(NamedTuple):  # (a tuple: several times cheaper to make than a frozen dataclass)
    start: int
    end: int
    value: date | None
    relative: bool  # today, tonight, a weekday: resolved from the publication date
    of_speech: bool = False  # "said on Tuesday": when something was said, not when it happens
    of_holding: bool = False  # "held in Abu Dhabi on Friday": when the thing before it took place


def _dates_in(analysis: _Analysis, sentence: _Sentence, *, forward: bool) -> list[_DateMention]:
    """The dates a sentence names, resolved against the publication date (cached on the sentence)."""
    cached = sentence.dates.get(forward)
    if cached is None:
        cached = sentence.dates[forward] = _find_dates(analysis, sentence, forward=forward)
    return cached


def _may_name(analysis: _Analysis, sentence: _Sentence, hint_words: frozenset[str]) -> bool:
    """Whether the sentence has a word some costly regex needs (a set lookup per word is far cheaper than
    running the regex over every sentence of a relevant item)."""
    words = analysis.words[sentence.first_word : sentence.last_word]
    return not hint_words.isdisjoint(words) or _has_non_alpha_word(analysis, sentence)


def _has_non_alpha_word(analysis: _Analysis, sentence: _Sentence) -> bool:
    """Whether one of the sentence's words is not all letters (a number, a year, "2nd")."""
    if sentence.non_alpha is None:
        # words are never empty, so they are all letters exactly when their concatenation is (one C call)
        words = analysis.words[sentence.first_word : sentence.last_word]
        sentence.non_alpha = bool(words) and not "".join(words).isalpha()
    return sentence.non_alpha


# the words a _DATE match can begin with (a weekday "п'ятниця" is the words "п" and "ятниця"), besides words
# that begin with a digit or these letters ("mid-May", "midjune")
_DATE_OPENERS = frozenset(
    (_MONTH_NAMES + "|" + _WEEKDAYS + "|" + _FOREIGN_WEEKDAY_FORMS).split("|")
    + [form.split("'")[0] for form in _FOREIGN_WEEKDAY_FORMS.split("|")]
    + ["last", "next", "this", "coming", "today", "tonight", "tomorrow", "yesterday"]
)
_DATE_PREFIXES = ("early", "mid", "late")

# every _DATE match has a digit or one of these words (an apostrophe splits "п'ятниця" into "п", "ятниця")
_DATE_HINTS = frozenset(
    (_MONTH_NAMES + "|" + _WEEKDAYS + "|" + _FOREIGN_WEEKDAY_FORMS).replace("'", "|").split("|")
).union(("today", "tonight", "tomorrow", "yesterday", "morning", "afternoon", "evening"))


def _scan(
    analysis: _Analysis,
    sentence: _Sentence,
    pattern: re.Pattern[str],
    openers: frozenset[str],
    prefixes: tuple[str, ...],
) -> list[re.Match[str]]:
    """``pattern.finditer`` over the sentence's text, tried only where a match can begin: every match of the
    pattern begins a word that is one of ``openers``, starts with one of ``prefixes`` or with a character
    that is not a letter (a digit). (At a handful of words, rather than at every character: the regex
    engine's cost for such patterns.)"""
    first, last = sentence.first_word, sentence.last_word
    text = analysis.sentence_text(sentence)
    offset, end = sentence.start, 0
    found = []
    for word, start in zip(analysis.words[first:last], analysis.starts_in(sentence), strict=True):
        if (word in openers or not word[0].isalpha() or word.startswith(prefixes)) and start - offset >= end:
            match = pattern.match(text, start - offset)
            if match is not None:
                found.append(match)
                end = match.end()
    return found


def _find_dates(analysis: _Analysis, sentence: _Sentence, *, forward: bool) -> list[_DateMention]:
    if sentence.date_matches is None:
        sentence.date_matches = (
            _scan(analysis, sentence, _DATE, _DATE_OPENERS, _DATE_PREFIXES)
            if _may_name(analysis, sentence, _DATE_HINTS)
            else []
        )
    if not sentence.date_matches:
        return []
    text = analysis.sentence_text(sentence)
    base = analysis.published
    mentions: list[_DateMention] = []
    for found in sentence.date_matches:
        kind = found.lastgroup or ""
        span = found.group()
        way = forward
        of_holding = _HELD_THERE_BEFORE.search(text, max(0, found.start() - 90), found.start()) is not None
        if kind == "wd":  # the words just before a weekday say which one it is, whatever the tense
            before = text[max(0, found.start() - 24) : found.start()]
            if mentions and mentions[-1].relative and _PAIRED_BEFORE.search(before):
                # "on Friday and Saturday": the second day goes the way the first went
                way = mentions[-1].value is None or base is None or mentions[-1].value >= base
                of_holding = mentions[-1].of_holding
            elif _FORWARD_BEFORE.search(before):
                way = True
            elif of_holding or _BACKWARD_BEFORE.search(before):
                way = False
            elif (
                not way
                and _PROPOSED_EARLIER.search(text, max(0, found.start() - 110), found.start())
                and not _SPEECH_BEFORE.search(before)
            ):
                way = True
            elif way and _PAST_AFTER_POSSESSIVE.match(text, found.end()):
                way = False  # "Thursday's talks at the palace also produced an understanding": that was
        value = _resolve_date(kind, span, base, way) if base is not None else None
        if base is None and kind == "iso":
            value = date.fromisoformat(span) if _is_iso_date(span) else None
        elif base is None and kind not in _NEEDS_A_BASE and _STATES_A_YEAR.search(span):
            # an undated item's "on 23 July 2033" is that day all the same
            value = _resolve_date(kind, span, _NEUTRAL_BASE, way)
        start = sentence.start + found.start()
        # (a possessive day is the thing's it qualifies: "said yesterday's meeting had been constructive")
        # ("Zelensky on Thursday proposed that the delegations meet": the verb may follow the day, too)
        # ("told journalists on Thursday after the second round": that day dates the round, too)
        of_speech = (
            (
                _SPEECH_BEFORE.search(text, max(0, found.start() - 24), found.start()) is not None
                or _SPEECH_AFTER.match(text, found.end()) is not None
                # ("said after his call with Vladimir Putin on Monday": a call's day, told, is no session's)
                or _CALL_BEFORE.search(text, max(0, found.start() - 48), found.start()) is not None
            )
            and not text.startswith(("'s", "\u2019s"), found.end())
            and _AFTER_THE_SESSION.match(text, found.end()) is None
        )
        mentions.append(
            _DateMention(start, start + len(span), value, kind in ("rel", "wd"), of_speech, of_holding)
        )
    dateline = _opens_with_dateline(analysis, sentence)
    if dateline is not None:
        filed = analysis.word_start(_dateline_end(analysis, sentence, dateline))
        if filed > sentence.start:
            # "New Delhi, March 1 (DWS): The first round, held on Monday, ...": the dateline dates the filing,
            # and the sentence's own date the session
            told = [mention for mention in mentions if mention.start >= filed]
            if len(mentions) > 1 and any(not mention.of_speech for mention in told):
                mentions = told
            elif dateline.group("agency"):
                # "MOSCOW, January 3. /TASS/. Following negotiations, 248 servicemen have come home": the day
                # of the filing, as a day of saying (the swap's, but not the session's)
                mentions = [m._replace(of_speech=True) if m.start < filed else m for m in mentions]
    return mentions


# "for Friday's talks", "ahead of Monday", "until Sunday": the coming one; "after Friday's meeting", "since
# Monday", "expired on Monday": the last one
# "Thursday's talks ... produced", "Monday's meeting in Geneva ended": a session of that day told in the past
_PAST_AFTER_POSSESSIVE = re.compile(
    r"(?:'s|\u2019s)\s+(?:[\w-]+\s+){0,5}?(?:talks|meeting|round|session|negotiations|summit)\s+"
    r"(?:[\w,.-]+\s+){0,6}?"
    r"(?:produced|ended|yielded|brought|was|were|lasted|went|concluded|broke up|failed)\b"
)
_FORWARD_BEFORE = re.compile(
    r"\b(?:for|before|ahead of|until|till|by|from|starting|due|set for|scheduled for|planned for)"
    r"\s+(?:on\s+)?$"
)
_BACKWARD_BEFORE = re.compile(
    r"\b(?:after|since|following|expired|ended|began|started|took place|was held|were held|met|returned"
    r"|freed|released|came home|went home|arrived|landed)\s+(?:on\s+)?$"
)
# "held near the Belarusian border on Monday": a past verb a few words before the day (not "to be held")
_HELD_THERE_BEFORE = re.compile(
    r"(?<!\bbe )\b(?:held|took place|met|ended|began|started|concluded|opened|closed|wrapped up)"
    r"(?:\s+(?!will\b|would\b|to\b|be\b|and\b|but\b)[\w'-]+){1,5}\s+on\s+$"
)
# "Putin proposed that the delegations resume talks in Istanbul on Thursday", "accept his offer of talks on
# Thursday": what is proposed is still to come, whatever the tense of the proposing (but "proposed on Sunday"
# dates the proposal, and a past verb in between, "... which were held on Monday", dates what happened)
_PROPOSED_EARLIER = re.compile(
    r"\b(?:propos(?:ed|es|ing|al|als)|offer(?:ed|s|ing)?|invit(?:ed|es|ing|ation)|suggest(?:ed|s|ing))"
    r"(?:\s+(?!(?:was|were|had|held|met|took|began|started|ended|returned)\b)[\w'\u2019,-]+){1,14}\s+on\s+$"
)
_PAIRED_BEFORE = re.compile(r"\b(?:and|or|to|through|till|until)\s+$|-\s*$")
_SPEECH_BEFORE = re.compile(
    r"\b(?:said|says|told|stated|added|announced|confirmed|reported|wrote|warned|pressed|urged|proposed"
    r"|suggested)(?:\s+(?:reporters|journalists|the\s+press|lawmakers|parliament))?(?:\s+(?:on|late|early))?\s+$"
)
_CALL_BEFORE = re.compile(r"\b(?:phone\s+)?calls?\s+(?:with\s+(?:[\w.'-]+\s+){1,3}?)?(?:on\s+)?$")
_AFTER_THE_SESSION = re.compile(
    r"\s+(?:right\s+|just\s+|shortly\s+)?after\s+(?:the\s+)?(?:[\w-]+\s+){0,3}?"
    r"(?:round|talks|meeting|negotiations|session)\b"
)
_SPEECH_AFTER = re.compile(
    r"\s+(?:said|stated|announced|proposed|suggested|welcomed|rejected|accepted|dismissed|urged|warned"
    r"|insisted|wrote|denied|reiterated"
    # one side's act told with its day: "the president on Tuesday gave Russia and Ukraine 10 days"
    r"|gave|set|threatened|demanded|offered|called)\b"
)


def _is_iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


# --- event detection: shared ---------------------------------------------------------------------------

# Each detector's candidates have one of its concepts (a session's words; a swap's trigger; a deadline or the
# talk around one): a sentence with none is passed over by a set operation, before any call
_ROUND_TRIGGERS = frozenset(("round", "talks", "meeting"))
_EXCHANGE_TRIGGERS = frozenset(("swap_phrase", "exchange", "return"))  # see _has_exchange_trigger
_DEADLINE_CONTEXT = ("threat", "talks", "peace", "ceasefire", "humanitarian", "agreed")
# (proposal: a meeting's target; mediator: a demand, "the US envoy wants it initialled by August 1")
_DEADLINE_TRIGGERS = frozenset(("deadline", "proposal", "mediator", *_DEADLINE_CONTEXT))


_Proof = tuple["_Hit | tuple[int, int]", str | None]  # a hit (named by its rule) or a span with a name


@dataclass(slots=True)
class _Candidate:
    sentence: _Sentence
    score: float
    evidence: list[_Proof]  # turned into Evidence only for asserting sentences
    facts: dict[str, object]
    reckoned: bool = False  # its deadline is counted from publication ("in 50 days"), not a date stated
    staged: bool = False  # its count is a stage's, of a larger swap it names ("303 each, completing ...")
    # its date is only the day something was said of it ("the ministry said on Thursday")
    spoken: bool = False
    filed: bool = False  # its date is its dateline's ("ISTANBUL, July 24 (Wire) - ... agreed at talks")


def _near(first: Sequence[_Hit], second: Sequence[_Hit], window: float) -> bool:
    return any(abs(a.first - b.first) <= window for a in first for b in second)


def _is_background(analysis: _Analysis, sentence: _Sentence, dates: Sequence[_DateMention]) -> bool:
    """Old news inside the item: a background cue, or a date well before publication."""
    return _cued_as_background(sentence) or _dated_old(analysis, sentence, dates)


def _cued_as_background(sentence: _Sentence) -> bool:
    """Whether the sentence has a cue of old news ("last year", "previously", "in March 2022")."""
    return "background" in sentence.concepts or "strong_background" in sentence.concepts


def _dated_old(analysis: _Analysis, sentence: _Sentence, dates: Sequence[_DateMention]) -> bool:
    """A date well before publication, or a past year, in the sentence (background without its cues)."""
    return _has_old_date(analysis, dates) or _names_past_year(analysis, sentence)


def _has_old_date(analysis: _Analysis, dates: Sequence[_DateMention], days: float | None = None) -> bool:
    """A date well before publication (``days``, by default background_days), and none close to it
    ("returned on Friday, continuing the exchanges agreed on 2 June" is Friday's news)."""
    if analysis.published is None:
        return False
    days = analysis.rules.scores["background_days"] if days is None else days
    limit = analysis.published - timedelta(days=days)
    values = [mention.value for mention in dates if mention.value is not None]
    return any(value < limit for value in values) and not any(value >= limit for value in values)


def _deep_and_old(analysis: _Analysis, sentence: _Sentence, dates: Sequence[_DateMention]) -> bool:
    """A session or swap dated days before publication, told deep in the body: the recap of a long article
    ("the swap was the only result of the May 16 meeting"), not its news."""
    scores = analysis.rules.scores
    if sentence.is_title or sentence.body_index < scores["deep_body"]:
        return False
    return _has_old_date(analysis, dates, days=scores["deep_background_days"]) or _deep_and_weeks_back(
        analysis, sentence, dates
    )


def _deep_and_weeks_back(analysis: _Analysis, sentence: _Sentence, dates: Sequence[_DateMention]) -> bool:
    """ "Met in Istanbul last week and agreed another swap", told deep in the body: a week or more back,
    though no day is named (and none close to publication is)."""
    scores = analysis.rules.scores
    days = scores["deep_background_days"]
    published = analysis.published
    return (
        published is not None
        and not sentence.is_title
        and sentence.body_index >= scores["deep_body"]
        and not any(
            mention.value is not None and (published - mention.value).days < days for mention in dates
        )
        and _WEEKS_BACK.search(analysis.sentence_text(sentence)) is not None
    )


_WEEKS_BACK = re.compile(
    r"\blast\s+week\b|\b(?:a|one|two|three|four|\d)\s+weeks?\s+(?:ago|earlier|before)\b"
    r"|\b(?:a|one|two|three|four|\d)\s+weeks?\s+after\s+the\s+(?:[\w'-]+\s+){0,3}?"
    r"(?:meeting|talks|round|session|summit|negotiations)\b"
)


# what a session agreed, named before it: "the swap that the delegations struck in Istanbul on Monday",
# "humanitarian arrangements agreed at talks in Istanbul", "under an arrangement reached at the talks"
_AGREED_THERE = re.compile(
    r"(?:\b(?:swaps?|exchanges?|repatriations?|arrangements?|deals?|agreements?|accords?|terms|releases?|"
    r"handovers?|commitments?|steps?|ceasefire|truce|moratorium|pause)\s+"
    # ("the moratorium on strikes against energy facilities, agreed at")
    r"(?:(?:of|on|for)\s+(?:[\w'-]+,?\s+){0,5}?[\w'-]+)?,?\s*"
    # ("the exchange that was agreed at", "the deal their delegations agreed in")
    r"(?:(?:that|which)\s+(?:[\w'-]+\s+){0,4}?|(?:[\w'-]+\s+){1,3}?)?(?:(?:was|were|had\s+been)\s+)?"
    r"|\bas\s+(?:was\s+)?)"  # "exchanged on Tuesday, as agreed at the talks"
    r"(?:agreed|reached|struck|brokered|negotiated|sealed|secured|hammered\s+out)\s+"
    # ("the exchange was agreed on Tuesday at the meeting of the delegations")
    r"(?:(?:on|last|earlier\s+this)\s+[\w-]+\s+)?"
    r"(?:at|in|during|under|within|by|through)\b"
)


_AGREED_THERE_GAP = 3  # words between "agreed at" and the session's ("the Russian-Ukrainian talks")


def _agreed_at_the_session(words: list[str], agreed: _Hit, sessions: Sequence[_Hit]) -> bool:
    """Whether "agreed" is followed at once by "at" or "during" and a session ("agreed at their third
    meeting", "agreed during Wednesday's talks")."""
    return words[agreed.last : agreed.last + 1] in (["at"], ["during"]) and any(
        0 < one.first - agreed.last <= _AGREED_THERE_GAP for one in sessions
    )


def _agreed_clause(analysis: _Analysis, sentence: _Sentence) -> tuple[int, int] | None:
    """The words of a clause that says where a swap or deal was agreed, from its noun to just past "agreed
    at" ("the prisoner exchange agreed in Abu Dhabi", "an arrangement reached at the direct talks")."""
    found = _AGREED_THERE.search(analysis.sentence_text(sentence))
    if found is None:
        return None
    starts = analysis.starts_in(sentence)
    first = bisect.bisect_left(starts, sentence.start + found.start()) + sentence.first_word
    after = bisect.bisect_left(starts, sentence.start + found.end()) + sentence.first_word
    return first, after + _AGREED_THERE_GAP + _time_before_session(analysis.words, after)


_PAST_UNITS = frozenset({"week", "month", "weekend", "year"})


def _time_before_session(words: Sequence[str], at: int) -> int:
    """How many words a possessive time takes before the session's ("agreed at last week's talks": 'last
    week s', three words; "Friday's talks" fits the usual gap)."""
    if words[at : at + 1] == ["last"] and words[at + 1 : at + 2] and words[at + 1] in _PAST_UNITS:
        return 3 if words[at + 2 : at + 3] == ["s"] else 0
    return 0


def _agreed_there(clause: tuple[int, int] | None, sessions: Sequence[_Hit]) -> bool:
    """Whether the session stands in the sentence only as where something was agreed (``clause``, from
    _agreed_clause), a clause about a swap or deal that is the sentence's news ("returned under an
    arrangement reached at the talks"): the talks are the swap's origin, told as background."""
    if clause is None or any(hit.first < clause[0] for hit in sessions):
        return False  # (named before the clause: "the sides met and agreed at once on a swap ...")
    # the session follows at once ("agreed at the direct talks"), not only in a clause of its own further on
    return any(hit.first <= clause[1] for hit in sessions)


# a year, unless it follows "since" ("the first talks since 2022" is news, not history)
_YEAR = re.compile(r"(?<!since )\b(?:19[5-9]\d|20\d\d)\b")


def _agreed_now(analysis: _Analysis, sentence: _Sentence, clause: tuple[int, int] | None) -> bool:
    """ "Moscow and Kiev have agreed on a swap of 300 per side, reached at the first round at the Vatican":
    the sentence's own verb agrees the swap (before the clause that places it) and nothing is carried out
    yet, so the session it was reached at is news with it (a swap done "under the deal agreed at the talks"
    has them as its origin)."""
    if clause is None or "carried_out" in sentence.concepts:
        return False
    return any(hit.last <= clause[0] for hit in sentence.hits("agreed"))


def _names_past_year(analysis: _Analysis, sentence: _Sentence, *, since: bool = False) -> bool:
    """ "In 2022", "the 2023 swap": a year before the publication year (with ``since``, "since 2022" too)."""
    if analysis.published is None or not _has_non_alpha_word(analysis, sentence):
        return False  # (a year is a word of digits)
    text = analysis.sentence_text(sentence)
    return any(
        int(found.group()) < analysis.published.year
        and (since or _SINCE_BEFORE.search(text, max(0, found.start() - 40), found.start()) is None)
        for found in _YEAR.finditer(text)
    )


_SINCE_BEFORE = re.compile(r"\bsince\s+(?:[\w-]+\s+){0,5}$")  # "since March 2022", "since the spring of 2022"


class _InheritedBackground:
    """Whether each sentence continues an old-news passage: the sentence before is strongly background and
    this one has no time or freshness of its own ("Moscow and Kyiv agreed ..." after "held on June 2").
    Computed on demand, from the sentence asked about back to the first that decides: most items never ask.

    A sentence carries the passage on (``carrying``) when it is strongly background itself, or continues it:
    not a title, without time of its own, after a sentence that carries it on."""

    def __init__(self, analysis: _Analysis) -> None:
        self.analysis = analysis
        self.carrying: dict[int, bool] = {}  # by sentence index, found so far

    def __getitem__(self, index: int) -> bool:
        sentence = self.analysis.sentences[index]
        if sentence.is_title or self._own_time(sentence)[0]:
            return False
        return self._carries(index - 1)

    def _own_time(self, sentence: _Sentence) -> tuple[bool, list[_DateMention]]:
        dates = _dates_in(self.analysis, sentence, forward=False)
        return ("fresh" in sentence.concepts) or bool(dates), dates

    def _carries(self, index: int) -> bool:
        analysis, carrying = self.analysis, self.carrying
        passed: list[int] = []  # sentences that carry on whatever the one before them carries
        result = False
        while index >= 0:
            if index in carrying:
                result = carrying[index]
                break
            sentence = analysis.sentences[index]
            if sentence.is_title:
                break
            own_time, dates = self._own_time(sentence)
            if (
                ("strong_background" in sentence.concepts)
                or _names_past_year(analysis, sentence)
                or _has_old_date(analysis, dates)
            ):
                result = True
                break
            if own_time:
                break
            passed.append(index)
            index -= 1
        for passed_index in passed:
            carrying[passed_index] = result
        if index >= 0:
            carrying[index] = result
        return result


# --- NEW_ROUND -----------------------------------------------------------------------------------------


def _ordinal_hits(analysis: _Analysis, sentence: _Sentence) -> list[tuple[int, _Hit]]:
    """Ordinals that number a session: "third round", "round three", "the 2nd meeting", "third Istanbul
    talks", "will meet ... for the third time"."""
    sessions = sentence.hits("round", "meeting", "talks")
    if not sessions:
        return []
    words, rules = analysis.words, analysis.rules
    found = []
    for hit in sentence.hits("ordinal"):
        numbers = any(
            0 <= session.first - hit.first <= 3 or session.first == hit.first for session in sessions
        )
        if not numbers and hit.last < len(words) and words[hit.last] == "time":
            numbers = any(0 < hit.first - session.first <= 10 for session in sessions)
        if numbers:
            found.append((rules.rules[hit.rule].value or 0, hit))
    return found


def _session_hits(analysis: _Analysis, sentence: _Sentence) -> list[_Hit]:
    """The words naming one negotiating session: a round near talks, an ordinal before a meeting, or talks
    and meetings anchored by a place or a time."""
    window = analysis.rules.scores["round_window"]
    rounds = sentence.hits("round")
    talks = sentence.hits("talks", "meeting", "peace")
    ordinals = [hit for _, hit in _ordinal_hits(analysis, sentence)]
    if rounds and (_near(rounds, talks, window) or _near(rounds, ordinals, 2)):
        return rounds
    meetings = sentence.hits("meeting")
    if ordinals and _near(ordinals, meetings + sentence.hits("talks"), 3):
        return meetings or sentence.hits("talks")
    return sorted(rounds + talks, key=lambda hit: hit.first)  # "the session in Istanbul ... the negotiator"


# "three rounds", "two previous meetings", "several sessions": sessions counted are a recap, not one session
_SESSION_PLURALS = frozenset(("rounds", "meetings", "sessions", "summits", "встречи", "раунда", "раундов"))
_SESSION_COUNTS = frozenset((
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "several", "previous", "earlier",
    "past", "many", "multiple", "numerous", "few", "prior", "both", "all", "those", "these",
))  # fmt: skip


def _counted_sessions(analysis: _Analysis, hit: _Hit) -> bool:
    words = analysis.words
    if words[hit.first] not in _SESSION_PLURALS:
        return False
    before = words[max(0, hit.first - 2) : hit.first]
    return any(word in _SESSION_COUNTS or word.isdigit() for word in before)


# "the pause (in strikes) is linked to the second round": a pause for the session's sake, not of it
_PAUSE_FOR_THE_SESSION = re.compile(
    r"\bpause\s+(?:\w+\s+){0,2}?(?:is|was|has\s+been)\s+(?:linked|tied|connected|timed)\s+to\b"
)


def _came_after(analysis: _Analysis, sentence: _Sentence, sessions: Sequence[_Hit]) -> bool:
    """ "The exchange came days after the negotiators held talks in Istanbul": every session is told after
    "came days after", the mark of what the news is measured from, not of the news."""
    found = _CAME_AFTER.search(analysis.sentence_text(sentence))
    if found is None or not sessions:
        return False
    after = sentence.start + found.end()
    return all(analysis.span(hit)[0] >= after for hit in sessions)


def _origin_of_a_swap_done(analysis: _Analysis, sentence: _Sentence, dates: Sequence[_DateMention]) -> bool:
    """A session in the body of an item whose headline reports a swap carried out, and not dated the day
    before publication or later: where the swap was agreed ("At their meeting in Istanbul at the start of
    June, the delegations agreed to free the wounded"), told as its origin. A session of the swap's own day
    or the day before is news with it."""
    if analysis.published is None or not _headline_reports_a_swap_done(analysis):
        return False
    recent = analysis.published - timedelta(days=1)
    # (the dateline's day is the report's: "MOSCOW, Oct 13 - ... brought back following talks")
    dateline = _opens_with_dateline(analysis, sentence)
    filed = -1 if dateline is None else sentence.start + dateline.end()
    return not any(
        mention.value is not None and mention.value >= recent and mention.start >= filed for mention in dates
    )


def _headline_reports_a_swap_done(analysis: _Analysis) -> bool:
    """Whether the headline (the lead of an untitled item) reports a swap or return, and no session,
    agreement or plan: "Next stage of the exchange: wounded defenders come home"."""
    head = next((s for s in analysis.sentences if _in_headline_or_lead(s)), None)
    # (a headline's present tense tells what is done: "Russia and Ukraine swap 390 prisoners")
    if head is None or not head.hits("exchange", "swap_phrase", "return"):
        return False
    # "Istanbul after three years: a swap, not a truce" is about the session; "Vatican deal" names the deal
    words = analysis.words
    for hit in head.hits("venue", "talks_venue"):
        if hit.last >= len(words) or words[hit.last] not in _DEAL_NAMES:
            return False
    return head.concepts.keys().isdisjoint(_NOT_A_SWAP_DONE)


# what makes a headline more than a swap done: a session, an agreement, a plan or a hope
_NOT_A_SWAP_DONE = frozenset(("round", "meeting", "talks", "agreed", "future", "tentative", "proposal"))
_DEAL_NAMES = frozenset((
    "deal", "deals", "agreement", "agreements", "accord", "accords", "arrangement", "arrangements", "swap",
    "swaps", "exchange", "exchanges",
))  # fmt: skip


_CAME_AFTER = re.compile(
    r"\b(?:came|comes|coming|follows|followed|following)\s+(?:just\s+|only\s+)?"
    r"(?:days|hours|weeks|a\s+day|a\s+week|a\s+few\s+days|(?:two|three|four|five|six|\d)\s+(?:days|weeks))"
    r"\s+after\b"
)


def _says_who_led(analysis: _Analysis, hit: _Hit) -> bool:
    """Whether a session's word only says whom a man led: "Medinsky, who led the Russian delegation"."""
    start = analysis.span(hit)[0]
    return _LED_BEFORE.search(analysis.norm, max(0, start - 40), start) is not None


_LED_BEFORE = re.compile(
    r"\b(?:led|leads|leading|headed|heads|heading|head\s+of|chief\s+of|members?\s+of)\s+"
    r"(?:the\s+|his\s+|her\s+|its\s+)?(?:[\w-]+\s+)?$"
)


# the words before a date that make it a time limit: "by September 1", "no later than Friday"; but a
# meeting "to take place by 1 September" is dated by it
_CONTINUED_BEFORE = re.compile(r"\bcontinu(?:e|es|ed|ing)\s+(?:on\s+|until\s+|through\s+)?$")
_LIMIT_BEFORE = re.compile(r"\b(?:by|no\s+later\s+than|until|till)\s+(?:the\s+)?$")
_MEETING_BY = re.compile(
    r"\b(?:take\s+place|be\s+held|meet|convene|happen|sit\s+down)\s+(?:[\w-]+\s+)?"
    r"(?:by|no\s+later\s+than|before)\s+(?:the\s+)?$"
)


def _sessions_at_several_venues(analysis: _Analysis, sentence: _Sentence, sessions: Sequence[_Hit]) -> bool:
    """ "The trilateral sessions in Abu Dhabi and Geneva": sessions in the plural at more than one venue, a
    recap of several."""
    words = analysis.words
    if not sessions or any(words[hit.last - 1] not in _SESSION_PLURALS for hit in sessions):
        return False
    rules = analysis.rules.rules
    return len({rules[hit.rule].place for hit in sentence.hits("venue")}) >= 2


def _shuttles_between_capitals(analysis: _Analysis, sentence: _Sentence) -> bool:
    """ "Fidan met Zelensky in Kyiv on Tuesday, a day after holding talks with Lavrov in Moscow": a mediator
    in one side's capital and then the other's meets each side alone (the sides' rounds are never held
    there)."""
    if "mediator" not in sentence.concepts:
        return False
    words = analysis.words[sentence.first_word : sentence.last_word]
    visited = {
        words[index + 1]
        for index, word in enumerate(words[:-1])
        if word in _VISITING and words[index + 1] in _SIDES_CAPITALS
    }
    return "moscow" in visited and bool(visited & {"kyiv", "kiev"})


_VISITING = frozenset(("in", "to", "visited", "visiting", "visit", "visits"))
_SIDES_CAPITALS = frozenset(("kyiv", "kiev", "moscow"))


def _met_repeatedly(analysis: _Analysis, sentence: _Sentence) -> bool:
    """ "The sides have sat down twice this year", "met three times since May": meetings counted, a recap."""
    words = analysis.words
    for hit in sentence.hits("meeting"):
        after = words[hit.last : hit.last + 3]
        if "twice" in after[:2]:
            return True
        if "times" in after[1:] or "occasions" in after[1:]:
            count = after[after.index("times" if "times" in after[1:] else "occasions") - 1]
            if count in _SESSION_COUNTS or count.isdigit():
                return True
    return False


_LATER_SESSION = frozenset(("next", "further", "another", "new", "following", "subsequent", "future"))


_IDENTIFIES_THE_SESSION = re.compile(
    r"\s*(?:the|these|this|today's|yesterday's|\w+'s)\s+(?:[\w-]+\s+)?"
    r"(?:talks|meeting|session|negotiations|consultations)(?:\s+(?:in|at|on)\s+[\w-]+)?\s+"
    r"(?:was|were|are|is)\s+the\s+(?:[\w-]+\s+){0,2}?(?:round|meeting|session)\b"
)


def _being_arranged(analysis: _Analysis) -> bool:
    """Whether the item says the date of a session will be agreed within days ("I think we will be able to
    agree on the date next week"): a round being arranged, not bare readiness."""
    return _ARRANGING.search(analysis.norm) is not None


_ARRANGING = _literal_led(  # (searched over the whole text, several times an item)
    re.compile(
        r"\b(?:will(?:\s+be\s+able\s+to)?|expects?\s+to|expected\s+to|plans?\s+to|should)\s+(?:\w+\s+)?agree\s+"
        r"(?:on\s+)?(?:a|the)\s+(?:new\s+)?(?:date|dates|time)\b[^.;]{0,40}?"
        r"\b(?:next\s+week|this\s+week|in\s+the\s+coming\s+days|within\s+days|tomorrow|in\s+the\s+next\s+few\s+days)"
    )
)


def _unsettles_a_session(analysis: _Analysis, sentence: _Sentence) -> bool:
    """Whether the sentence's "no date", "not on the agenda" is about a session: the agenda's and the table's
    need one named ("a new round is not on the agenda"; "political questions were not on the agenda" is the
    talks' subject matter)."""
    words = analysis.words
    if any(
        words[hit.last - 1] not in _AGENDA_WORDS and _DECIDED.isdisjoint(words[hit.first : hit.last])
        for hit in sentence.hits("unscheduled")
    ):
        return True
    # ("no decision on the meeting"; "Putin has not decided whether to prolong the pause" is the pause's)
    return not sentence.concepts.keys().isdisjoint(("round", "meeting", "talks"))


_AGENDA_WORDS = frozenset(("agenda", "table"))
_DECIDED = frozenset(("decision", "decided"))


def _of_a_later_session(analysis: _Analysis, sentence: _Sentence) -> bool:
    """Whether a "no date" sentence is about a later session: one it names, or, when it names none and
    points back ("No date is given for them"), one the sentence before it names ("further meetings may
    follow")."""
    if _names_a_later_session(analysis, sentence, first_to_come=True):
        return True
    if sentence.index == 0 or not sentence.concepts.keys().isdisjoint(("round", "meeting", "talks")):
        return False
    if _POINTS_BACK.isdisjoint(analysis.words[sentence.first_word : sentence.last_word]):
        return False  # ("He did not give any dates": whatever the sentence before named)
    return _names_a_later_session(analysis, analysis.sentences[sentence.index - 1], first_to_come=True)


_POINTS_BACK = frozenset(("them", "it", "they", "such"))


def _names_a_later_session(analysis: _Analysis, sentence: _Sentence, first_to_come: bool = False) -> bool:
    """Whether a sentence speaks of a later session than the one at hand ("the next round", "further
    meetings"; with ``first_to_come``, also a first one or one again in words to come: "did not say when the
    new council would first meet", "when the delegations might meet again")."""
    words = analysis.words
    to_come = first_to_come and not sentence.concepts.keys().isdisjoint(("future", "tentative"))
    later = _LATER_SESSION_OR_FIRST if to_come else _LATER_SESSION
    for hit in sentence.hits("round", "meeting", "talks"):
        if not later.isdisjoint(words[max(sentence.first_word, hit.first - 2) : hit.first]):
            return True
        # "agreed only that they would meet again" (not "met again on Monday", the session itself)
        again = hit.last < len(words) and words[hit.last] == "again"
        if again and (to_come or words[hit.last - 1] == "meet"):
            return True
    return False


_LATER_SESSION_OR_FIRST = _LATER_SESSION | {"first"}


def _looks_forward(analysis: _Analysis, sentence: _Sentence) -> bool:
    """Whether a bare weekday in the sentence is the next one (a future cue, or a schedule without a past
    tense) rather than the last one."""
    if ("future" in sentence.concepts or "concrete" in sentence.concepts) and _TOLD_AFTER_THE_SESSION.search(
        analysis.sentence_text(sentence)
    ):
        # "groups which would work online, Medinsky told journalists after the round on Wednesday": the
        # session is over when it is told of, whatever else the sentence looks ahead to
        return False
    if "future" in sentence.concepts:
        return True
    if sentence.is_title and sentence.concepts.keys().isdisjoint(_TENSES):
        # an untensed headline ("meeting in the Emirates on Friday and Saturday"): as its lead tells it
        lead = next((other for other in analysis.sentences if other.body_index == 0), None)
        return lead is not None and _looks_forward(analysis, lead)
    return (
        ("concrete" in sentence.concepts)
        and "past" not in sentence.concepts
        and "carried_out" not in sentence.concepts
        and not _says_held(analysis, sentence)
    )


_TENSES = frozenset(("future", "concrete", "past", "carried_out"))
_MOVED_TO = re.compile(
    r"\b(?:postponed|delayed|moved|pushed\s+back|put\s+(?:off|back)|rescheduled|brought\s+forward)\s+"
    r"(?:until|till|to|for)\s"
)
_TOLD_AFTER_THE_SESSION = re.compile(
    r"\b(?:told|said|briefed)\b(?:\s+[\w'-]+){0,3}?\s+after\s+(?:the\s+)?(?:[\w-]+\s+){0,5}?"
    r"(?:round|talks|negotiations|meeting|session|consultations)\b"
)
_BEFORE_A_SCHEDULE = frozenset(("be", "being"))


def _says_held(analysis: _Analysis, sentence: _Sentence) -> bool:
    """ "Russia and Ukraine held their third round ... on Wednesday", "the talks were held": "held" as a past
    tense, where "to be held" and "will be held" schedule."""
    words = analysis.words
    return any(
        words[hit.first] == "held"
        and hit.last == hit.first + 1
        and words[hit.first - 1] not in _BEFORE_A_SCHEDULE
        for hit in sentence.hits("concrete")
        if hit.first > sentence.first_word
    )


class _Participants(NamedTuple):
    """Who the item names anywhere: both parties, or one of them and no mediator (so that "the talks in
    Istanbul on Monday" with only the Kremlin named are still the Russia–Ukraine talks)."""

    russia: bool
    ukraine: bool
    mediator: bool

    @property
    def both(self) -> bool:
        return self.russia and self.ukraine

    @property
    def one_without_mediator(self) -> bool:
        return (self.russia or self.ukraine) and not self.mediator


def _session_of_both(
    analysis: _Analysis,
    sentence: _Sentence,
    participants: _Participants,
    context: _Context,
    is_dated: Callable[[], bool],
) -> bool:
    """Whether the sentence's session has both parties at the table: named in it (or a format that is both,
    like the Normandy format, or implied by a venue of the talks when no one is named), named in the item
    and the session is a round or has a venue, or negotiations of one party at a venue or on a day with no
    mediator in the sentence (a mediator with one side is not a round). (The time is asked last: finding a
    sentence's dates costs more than the rest.)"""
    concepts = sentence.concepts
    if ("russia" in concepts or "ukraine" in concepts) and (
        dateline := _opens_with_dateline(analysis, sentence)
    ) is not None:
        concepts = _without_dateline(analysis, sentence, dateline)
    if "one_side_absent" in concepts:
        return False  # "the summit in Anchorage, to which Ukraine was not invited"
    if "mediator" in concepts and _between_one_side_and_a_mediator(analysis, sentence):
        return False  # "Thursday's talks between the Russian president and the US envoy were useful"
    if "us_russia_pair" in concepts and (
        ("ukraine" not in concepts and "both_sides" not in concepts)
        or any(
            "summit" in analysis.words[hit.first : hit.last]
            or analysis.rules.rules[hit.rule].name == _US_RUSSIA_VENUE
            for hit in concepts["us_russia_pair"]
        )
    ):
        # "the US and Russia agreed ... on ending the war in Ukraine": Ukraine is the topic; "the Alaska
        # summit" was the two of them, whoever its sentence names ("a swap a day before the US and Russian
        # presidents meet in Alaska")
        return False
    if "mediator" in concepts and "ukraine" in concepts and _only_a_topic(analysis, concepts["ukraine"]):
        # "Dmitriev's talks with Witkoff in Miami, where the sides discussed the Ukrainian settlement"
        concepts = {name: hits for name, hits in concepts.items() if name != "ukraine"}
    if "mediator" in concepts and "russia" in concepts and _only_the_war(analysis, concepts["russia"]):
        # "the cardinal met Ukraine's ombudsman and prayed in Bucha, where civilians died under Russian
        # occupation": Russia named as the war, not at the table
        concepts = {name: hits for name, hits in concepts.items() if name != "russia"}
    if (
        "mediator" in concepts
        and (("russia" in concepts) != ("ukraine" in concepts))
        and "both_sides" in concepts
        and all(_generic_sides(analysis, hit) for hit in concepts["both_sides"])
    ):
        return False  # "Putin met Witkoff in the Kremlin, which both sides called productive": those two
    if "mediator" in concepts and _only_talks_with_a_mediator(analysis, concepts):
        return False  # "Lavrov said after talks with Turkish Foreign Minister Cavusoglu that Kiev must ..."
    if (("russia" in concepts) and ("ukraine" in concepts)) or ("both_sides" in concepts) or context.implied:
        return True
    if "third_party" in concepts:
        return False  # "European leaders met in Paris": others meeting, whoever the item names
    if "minsk" in concepts:
        return True  # the Normandy format, the contact group: both parties by definition
    if "mediator" in concepts and (("russia" in concepts) or ("ukraine" in concepts)):
        return (
            False  # "Zelensky met Erdogan in Ankara": a mediator with one side, whoever else the item names
        )
    placed = ("venue" in concepts) or ("talks_venue" in concepts)
    if participants.both and (("round" in concepts) or placed):
        return True
    if "mediator" in concepts:
        return False
    negotiating = ("talks" in concepts) or ("round" in concepts)
    if "talks_venue" in concepts and "meeting" in concepts:
        negotiating = True  # "Wednesday's meeting in Istanbul", with Moscow named and no mediator
    if not negotiating or not (participants.both or participants.one_without_mediator):
        return False
    if not (context.russia or context.ukraine):
        return False  # "Tariffs. The EU said it would ... while it negotiates": a digest's next topic
    return (placed and participants.one_without_mediator) or is_dated()


_BETWEEN_GAP = 4  # words from "between" to the first it names, and from one named to the next


def _between_one_side_and_a_mediator(analysis: _Analysis, sentence: _Sentence) -> bool:
    """Whether the sentence's session is one "between" one party and a mediator, by its own words ("talks
    between the Russian president and the US special envoy"), and none names both parties so."""
    words = analysis.words
    actors = _actors_in(sentence, ("russia", "ukraine", "mediator"))
    one_sided = False
    for session in sentence.hits("talks", "meeting", "round"):
        if words[session.last : session.last + 1] != ["between"]:
            continue
        named: set[str] = set()
        reach = session.last + 1 + _BETWEEN_GAP
        ands = (at for at in range(session.last + 1, reach + 8) if words[at : at + 1] == ["and"])
        joined = next(ands, reach)
        for first, last, name in actors:
            if first <= session.last or first > reach:
                continue
            named.add(name)
            if first > joined:
                break  # "between A and B": B is the last ("between the US, Russia and Ukraine")
            reach = max(reach, last + _BETWEEN_GAP)
        if {"russia", "ukraine"} <= named:
            return False
        one_sided = one_sided or (len(named) == 2 and "mediator" in named)
    return one_sided


def _actors_in(sentence: _Sentence, names: Sequence[str]) -> list[tuple[int, int, str]]:
    """The sentence's hits of those actor concepts as (first word, last word, concept), in word order."""
    return sorted((hit.first, hit.last, name) for name in names for hit in sentence.hits(name))


def _only_a_topic(analysis: _Analysis, hits: Sequence[_Hit]) -> bool:
    """Whether a side is named only as what is discussed ("the Ukrainian settlement", "the Ukraine issue"),
    not as someone at the table."""
    words = analysis.words
    return all(
        _followed_by(words, hit, _TOPIC_NOUNS)
        # "to discuss the return of Ukrainian children": the people a mediator asks for, not a side present
        or _followed_by(words, hit, _PEOPLE_ASKED_FOR)
        # "the situation around Ukraine", "a mission of peace for Ukraine", "the war in Ukraine"
        or (
            hit.first >= 2
            and words[hit.first - 1] in _TOPIC_PREPOSITIONS
            and words[hit.first - 2] in _TOPIC_BEFORE
        )
        for hit in hits
    )


def _only_talks_with_a_mediator(analysis: _Analysis, concepts: Mapping[str, list[_Hit]]) -> bool:
    """Whether every session the sentence names is someone's talks WITH a mediator ("said after talks with
    Turkish Foreign Minister Cavusoglu", "used Tuesday's meeting with Cardinal Zuppi", "after consultations
    with a UN delegation"), with no side in that company: the other side is then named for something else
    (the topic, the war, a demand). Not "talks with Russia and the United States", "talks with US mediators"
    (mediation of a session) or "Russia and Ukraine agreed at talks with ...", where both sides are at the
    table."""
    sessions = [*concepts.get("talks", ()), *concepts.get("meeting", ())]
    if not sessions or "both_sides" in concepts:
        return False  # ("trilateral talks with the United States": the rules read "trilateral" as both sides)
    words = analysis.words
    side_starts = {hit.first for name in ("russia", "ukraine") for hit in concepts.get(name, ())}
    if any(words[start + 1 : start + 2] == ["and"] and start + 2 in side_starts for start in side_starts):
        return False  # "Russia and Ukraine agreed at talks with US mediators": both sides named together
    mediators = concepts["mediator"]
    for session in sessions:
        if any(m.last == session.first and "with" in words[max(0, m.first - 2) : m.first] for m in mediators):
            continue  # "after consultations with a UN delegation": the mediator's own team
        with_at = _with_after(words, session.last)
        if with_at is None:
            return False
        mediator = next((m for m in mediators if with_at < m.first <= with_at + 4), None)
        if mediator is None:
            return False
        company = range(with_at + 1, mediator.last)
        if words[mediator.last : mediator.last + 1] == ["and"]:  # "with X and Ukrainian officials"
            company = range(session.last + 1, mediator.last + 4)
        if any(start in company for start in side_starts) or any(
            words[i].startswith("mediat") for i in company if i < len(words)
        ):
            return False
    return True


def _with_after(words: Sequence[str], end: int) -> int | None:
    """Where "with" follows a session's word, at once or after where and when it was ("talks in Geneva on
    Monday with the UN trade chief"): None when it does not."""
    if words[end : end + 1] == ["with"]:
        return end
    if words[end : end + 1] not in (["in"], ["on"], ["at"]):
        return None
    for index in range(end + 1, min(end + _WITH_GAP, len(words))):
        if words[index] == "with":
            return index
        if words[index] in _NOT_WHERE_OR_WHEN:
            return None
    return None


_WITH_GAP = 7  # "in geneva on monday with": words from the session to "with"
_NOT_WHERE_OR_WHEN = frozenset({"and", "between", "that", "which", "where", "who", "to", "of", "for", "by"})


def _only_the_war(analysis: _Analysis, hits: Sequence[_Hit]) -> bool:
    """Whether a side is named only as the war it wages ("Russian occupation", "Russian missiles")."""
    return all(_followed_by(analysis.words, hit, _WAR_NOUNS) for hit in hits)


def _followed_by(words: Sequence[str], hit: _Hit, nouns: frozenset[str]) -> bool:
    return hit.last < len(words) and words[hit.last] in nouns


_TOPIC_NOUNS = frozenset((
    "settlement", "crisis", "conflict", "issue", "issues", "question", "file", "dossier", "problem", "war",
))  # fmt: skip
_PEOPLE_ASKED_FOR = frozenset((
    "children", "child", "prisoners", "captives", "pows", "detainees", "civilians", "citizens", "families",
    "servicemen", "defenders", "soldiers",
))  # fmt: skip
_TOPIC_PREPOSITIONS = frozenset(("around", "in", "for", "over", "on", "about"))
_TOPIC_BEFORE = _TOPIC_NOUNS | frozenset((
    "situation", "peace", "mission", "questions", "ceasefire", "fighting",
    # "to discuss Washington's peace proposals for Ukraine": a plan for a side is no side at the table
    "proposals", "proposal", "plan", "plans", "framework", "deal", "guarantees", "solution", "roadmap",
    "initiative", "aid", "support",
))  # fmt: skip
_WAR_NOUNS = frozenset((
    "occupation", "invasion", "aggression", "attack", "attacks", "strike", "strikes", "missile", "missiles",
    "drone", "drones", "shelling", "bombing", "troops", "forces", "army", "soldiers", "captivity",
))  # fmt: skip


_GENERIC_SIDES = frozenset((
    "both sides", "the two sides", "two sides", "the sides", "both parties", "the two parties", "the parties",
    "each side", "both teams", "delegations", "both delegations", "the two delegations", "two delegations",
    "the delegations",
))  # fmt: skip


def _generic_sides(analysis: _Analysis, hit: _Hit) -> bool:
    """ "Both sides", "the parties": whoever the sentence names, not Russia and Ukraine by name."""
    return " ".join(analysis.words[hit.first : hit.last]) in _GENERIC_SIDES


# a wire dateline before the lead: "MOSCOW/KYIV, Dec 3 (Agency) -", "KYIV, July 21 (Reuters) —"
_DATELINE = re.compile(
    r"[^\W\d]+(?:[/ .'-]+(?!(?:and|the|in|of|on|to)\b)[^\W\d]+){0,2}"  # a place: "new delhi", "moscow/kyiv"
    r"(?:\s*\[[^\]\d]{1,30}\])?"  # and its country in brackets: "kyiv [ukraine], february 6:"
    r"(?:(?P<agency>,[^-\u2013\u2014:()/]{0,20}\d{1,2}\.?\s*/[^/\s]{1,30}/\.?)"  # ", May 23. /TASS/."
    r"|,[^-\u2013\u2014:()]{0,20}\d[^-\u2013\u2014:()]{0,8}"  # ", July 21"
    # " (Agency) -", " (Agency) The", " --" (a double hyphen for a dash: "BEIJING, March 1 --")
    r"(?:\([^)]{1,40}\)(?:\s*(?:--|[-\u2013\u2014:]))?|\s*(?:--|[-\u2013\u2014:]))"
    r"|\s*\([^)]{1,40}\)\s*(?:--|[-\u2013\u2014:])"
    # ", October 27. The Russian delegation ...", ", 27 October."
    rf"|,\s*(?:(?:{_ENGLISH_MONTH_NAMES})\s+\d{{1,2}}|\d{{1,2}}\s+(?:{_ENGLISH_MONTH_NAMES}))\."
    r"|\s+(?:--|[-\u2013\u2014]))\s"  # " — ", " - ", " -- "
)


def _dateline_end(analysis: _Analysis, sentence: _Sentence, dateline: re.Match[str]) -> int:
    """The first word after the sentence's dateline (the match _opens_with_dateline gave)."""
    return analysis.word_of(sentence.start + dateline.end())


def _after_dateline(analysis: _Analysis, sentence: _Sentence) -> int:
    """The first word after the dateline that opens the sentence; its first word when none does."""
    dateline = _opens_with_dateline(analysis, sentence)
    return sentence.first_word if dateline is None else _dateline_end(analysis, sentence, dateline)


_DATELINE_LINES = 10  # body sentences, at most, before a line that opens with a dateline


def _opens_with_dateline(analysis: _Analysis, sentence: _Sentence) -> re.Match[str] | None:
    """The dateline that opens the article: the lead's, or that of a line a little further down, after a
    page's summary ("Synopsis", "Key Takeaways" and their bullets, then "Istanbul, Apr 24 (Agency) The
    delegations ..."), when it names a day or an agency."""
    if sentence.is_title or sentence.body_index > _DATELINE_LINES:
        return None
    found = _DATELINE.match(analysis.sentence_text(sentence))
    if found is None or sentence.body_index == 0:
        return found
    norm = analysis.norm
    if not norm[max(0, sentence.start - 4) : sentence.start].rstrip(" ").endswith("\n"):
        return None
    return found if found.group("agency") or any(c.isdigit() for c in found.group()) else None


def _without_dateline(
    analysis: _Analysis, sentence: _Sentence, dateline: re.Match[str]
) -> dict[str, list[_Hit]]:
    """The lead's concepts without the actors of its dateline: the cities a report was filed from are not
    the parties at the table."""
    end = _dateline_end(analysis, sentence, dateline)
    if end == sentence.first_word:
        return sentence.concepts
    concepts = dict(sentence.concepts)
    for actor in ("russia", "ukraine"):
        kept = [hit for hit in concepts.get(actor, ()) if hit.first >= end]
        if kept:
            concepts[actor] = kept
        else:
            concepts.pop(actor, None)
    return concepts


# "after Friday's talks", "following the meeting": the session is over, so it was held
_HELD_BEFORE = frozenset(("after", "following", "после", "після"))
_HELD_WINDOW = 4  # words from a past verb to the session's word ("the talks ended")
_AFTER_WINDOW = 5  # words from "after" to the session's word ("after a day of humanitarian talks")


# words that deny the tense after them ("neither side announced", "no date was announced", "did not take
# place"), and the words that may stand between ("has not yet been scheduled")
_NEGATORS = frozenset(("not", "never", "neither", "nor", "no", "t"))  # ("t": "didn't", "hasn't")
_NEGATED_THROUGH = frozenset((
    "was", "were", "been", "be", "is", "are", "has", "have", "had", "did", "does", "do", "will", "would",
    "yet", "ever", "side", "sides", "party", "date", "venue", "formally", "officially", "publicly",
))  # fmt: skip
_NEGATION_REACH = 3  # words back from a tense to the word that denies it


def _negated(analysis: _Analysis, sentence: _Sentence, hit: _Hit) -> bool:
    words = analysis.words
    for at in range(hit.first - 1, max(sentence.first_word, hit.first - _NEGATION_REACH) - 1, -1):
        word = words[at]
        if word in _NEGATORS:
            return word != "t" or (at > 0 and words[at - 1].endswith("n"))
        if word not in _NEGATED_THROUGH:
            return False
    return False


def _asserted(analysis: _Analysis, sentence: _Sentence, hits: list[_Hit]) -> tuple[list[_Hit], list[_Hit]]:
    """The tense hits the sentence does not deny, and those it denies."""
    if not hits:
        return hits, hits
    asserted: list[_Hit] = []
    denied: list[_Hit] = []
    for hit in hits:
        (denied if _negated(analysis, sentence, hit) else asserted).append(hit)
    return asserted, denied


_SINCE_REACH = 3  # words from "since" to the session it counts from ("since the last round")


def _a_reference_session(analysis: _Analysis, sentence: _Sentence, hit: _Hit) -> bool:
    """Whether a session's word names a session the time is counted from ("since the Vienna talks began",
    "the first meeting since the third round") or points back ("the first such meeting")."""
    words = analysis.words
    if hit.first > sentence.first_word and words[hit.first - 1] == "such":
        return True
    return "since" in words[max(sentence.first_word, hit.first - _SINCE_REACH) : hit.first]


def _held_cue(analysis: _Analysis, sentence: _Sentence, sessions: Sequence[_Hit]) -> bool:
    words = analysis.words
    for hit in sessions:
        lowest = max(sentence.first_word, hit.first - _AFTER_WINDOW)
        if not _HELD_BEFORE.isdisjoint(words[lowest : hit.first]):
            return True
    return False


def _word_of(analysis: _Analysis, offset: int) -> int:
    """The index of the word at or before a character offset of the normalised text."""
    return analysis.word_of(offset)


_ATTACHED_WINDOW = 5  # words between a session's word and its day ("the talks in Abu Dhabi on Friday")


def _attached_dates(
    analysis: _Analysis, dates: Sequence[_DateMention], sessions: Sequence[_Hit], others: Sequence[_Hit]
) -> list[_DateMention]:
    """The dates that belong to the session ("Friday's talks", "the meeting in Istanbul on Monday"): near one
    of its words, and nearer to it than to any of ``others`` (a swap's words: "exchanged on Sunday")."""
    attached = []
    for mention in dates:
        if mention.value is None:
            continue
        position = _word_of(analysis, mention.start)
        to_session = min(abs(position - hit.first) for hit in sessions)
        if to_session > _ATTACHED_WINDOW and not _across_the_parties(analysis, sessions, position):
            continue
        if others and min(abs(position - hit.first) for hit in others) < to_session:
            continue
        attached.append(mention)
    return attached


# the words that name who sits at the table: "the talks with Russia and the United States in Istanbul on
# Friday" put the day as near the talks as "the talks in Istanbul on Friday" does
_PARTIES = frozenset((
    "with", "between", "and", "the", "of", "russia", "russian", "russians", "ukraine", "ukrainian",
    "ukrainians", "united", "states", "us", "u", "s", "america", "american", "americans", "usa", "kyiv",
    "kiev", "moscow", "washington", "delegations", "delegation", "sides", "mediators", "envoys",
    "talks", "negotiations",  # the session's own words: "the round of talks between ... in Doha on Tuesday"
))  # fmt: skip


def _across_the_parties(analysis: _Analysis, sessions: Sequence[_Hit], position: int) -> bool:
    """Whether a day after a session's word is within _ATTACHED_WINDOW of it once the words naming the parties
    between them are left out."""
    words = analysis.words
    # (only where the day follows the session's place: "in Istanbul on Friday")
    sentence = analysis.sentences[analysis.word_sentence[position]]
    if not any(position - 2 <= hit.last <= position for hit in sentence.hits("venue")):
        return False
    for hit in sessions:
        if hit.first < position:
            between = words[hit.last : position]
            if sum(word not in _PARTIES for word in between) < _ATTACHED_WINDOW:
                return True
    return False


def _nearer_to(
    analysis: _Analysis, mention: _DateMention, these: Sequence[_Hit], those: Sequence[_Hit]
) -> bool:
    """Whether a date stands by one of ``these`` hits (a few words off), nearer than to any of ``those``."""
    position = _word_of(analysis, mention.start)
    nearest = min(abs(position - hit.first) for hit in these)
    return nearest <= _BY_WINDOW and nearest < min(abs(position - hit.first) for hit in those)


_BY_WINDOW = 3  # "the round on 23 July", "the talks in Istanbul on Monday"


_DOUBT_BEFORE = 10  # words a "ready to", "could", "hope" may stand before the session it doubts
_DOUBT_AFTER = 4  # ... and after it ("a meeting of the presidents could take place")


# a wish or offer for a session on a day to come is a proposal, which is news ("Moscow wants the delegations
# to meet on 2 June in Istanbul"), where readiness or hope is not
_PROPOSING = frozenset(
    ("want", "wants", "wanted", "offered", "offers", "offer", "call", "calls", "called", "calling", "seek",
     "seeks", "seeking", "would", "urge", "urges", "urged", "urging", "insist", "insists", "insisted")
)  # fmt: skip
_PROPOSAL_HORIZON = 30  # days ahead a proposed session may be dated


def _doubts_the_session(
    analysis: _Analysis, sentence: _Sentence, sessions: Sequence[_Hit], dates: Sequence[_DateMention]
) -> bool:
    """Readiness, hope or doubt about the session itself, not about something else the sentence reports
    ("said after Monday's round that common positions could be foreseen"), nor across an "after" that tells
    a session over ("no settlement is possible, the Kremlin said after the meeting"), nor a party's wish for
    a session on a coming day (a proposal: ``dates`` are the session's)."""
    words = analysis.words
    published = analysis.published
    proposed_for = published is not None and any(
        mention.value is not None and 0 <= (mention.value - published).days <= _PROPOSAL_HORIZON
        for mention in dates
    )
    return any(
        -_DOUBT_AFTER <= session.first - doubt.first <= _DOUBT_BEFORE
        and _HELD_BEFORE.isdisjoint(words[doubt.last : session.first])
        and not (proposed_for and words[doubt.first] in _PROPOSING)
        for doubt in sentence.hits("tentative")
        for session in sessions
    )


def _denies_the_session(denied: Sequence[_Hit], sessions: Sequence[_Hit]) -> bool:
    """Whether a tense the sentence denies is the session's ("neither side announced a date for the next
    round", "the meeting has not been scheduled"), in the reach a doubt has; not a denial further on ("the
    round ended on Tuesday, and no breakthrough was announced")."""
    return any(
        -_DOUBT_AFTER <= session.first - hit.first <= _DOUBT_BEFORE for hit in denied for session in sessions
    )


_REPORT_WORDS = frozenset((
    "report", "reports", "reported", "reporting", "rumour", "rumours", "rumor", "rumors", "speculation",
    "claim", "claims", "сообщения", "повідомлення",
))  # fmt: skip
_REPORT_REACH = 10  # words from "a report" to the session it tells of ("a report ... of a fourth round")


def _a_report_denied(analysis: _Analysis, sentence: _Sentence, sessions: Sequence[_Hit]) -> bool:
    """Whether the session is what a report tells of, and the sentence denies it ("A report in an Austrian
    paper of a fourth round in Vienna on June 24 was denied by both", "Peskov dismissed reports of a
    meeting in Riyadh")."""
    if "denial" not in sentence.concepts:
        return False
    words, opening = analysis.words, sentence.first_word
    return any(
        not _REPORT_WORDS.isdisjoint(words[max(opening, session.first - _REPORT_REACH) : session.first])
        for session in sessions
    )


_ACTORS = ("russia", "ukraine", "mediator", "third_party")
_PARTY_ACTORS = frozenset(("russia", "ukraine"))
_LOCATING = frozenset(("in", "to", "from", "at", "with", "of", "for", "on", "by", "near"))
_TAKEN_UP = frozenset(("accepted", "accepts", "accept", "agreed", "agrees", "request", "requested", "took"))
_OFFER_REACH = 15  # words from an offer to its session ("offer, made by ..., to host the next round")


def _offered_by_another(analysis: _Analysis, sentence: _Sentence, sessions: Sequence[_Hit]) -> bool:
    """Whether the session is a venue or a meeting offered by someone other than the parties, and not taken
    up in the sentence ("Austria's foreign minister offers Vienna for a fourth round", "Erdogan offered to
    host the next round"): a host's offer is no step of a session; a party's is a proposal."""
    offers = [hit for hit in sentence.hits("proposal") if analysis.words[hit.first].startswith("offer")]
    if not offers:
        return False
    words = analysis.words
    if not _TAKEN_UP.isdisjoint(words[sentence.first_word : sentence.last_word]):
        return False  # "Moscow accepted Turkey's offer to host the talks"
    actors = _actors_in(sentence, _ACTORS)
    for offer in offers:
        if not any(0 < session.first - offer.first <= _OFFER_REACH for session in sessions):
            continue
        at = offer.first
        if at >= 2 and words[at - 1] == "s":  # "Austria's offer": the word before the 's is the offerer
            by = next((name for first, last, name in actors if first <= at - 2 < last), "another")
        else:  # the nearest actor before it that is not a place it is made in ("in Kyiv, offers Vienna")
            by = next(
                (
                    name
                    for first, last, name in reversed(actors)
                    if last <= at and not (first > sentence.first_word and words[first - 1] in _LOCATING)
                ),
                None,
            )
        if by in _PARTY_ACTORS or _mediator_at_the_table(analysis, sentence, offer):
            continue  # (a mediator that sits at the table it offers is one of its parties)
        if by is not None or "ukraine" not in sentence.concepts or "russia" not in sentence.concepts:
            return True  # (unnamed, it is a party only where both parties are named)
    return False


_THREE_WAY = frozenset(("trilateral", "tripartite"))
_THREE_SIDED = frozenset(("way", "sided", "party"))  # "three-way", "three-sided", "three-party"


def _mediator_at_the_table(analysis: _Analysis, sentence: _Sentence, offer: _Hit) -> bool:
    """Whether the session the mediator offers is one it sits at: three-way, or named with the mediator
    among its members after the offer."""
    words = analysis.words[sentence.first_word : sentence.last_word]
    if not _THREE_WAY.isdisjoint(words) or any(
        word == "three" and following in _THREE_SIDED for word, following in itertools.pairwise(words)
    ):
        return True
    return any(hit.first > offer.last for hit in sentence.hits("mediator"))


def _nearer(hits: Sequence[_Hit], these: Sequence[_Hit], those: Sequence[_Hit]) -> list[_Hit]:
    """The hits nearer to one of ``these`` than to any of ``those``."""
    return [
        hit
        for hit in hits
        if min(abs(hit.first - one.first) for one in these)
        < min(abs(hit.first - other.first) for other in those)
    ]


def _title_placed(analysis: _Analysis) -> bool:
    """Whether the headline names a venue ("Long night in Minsk" over "The summit ended with a document").
    (It anchors the session, but is no place fact: a headline's city need not be the session's.)"""
    title = analysis.sentences[0] if analysis.sentences and analysis.sentences[0].is_title else None
    return title is not None and "venue" in title.concepts


_HOLDING_WINDOW = 8  # words from a session to the day it was held ("talks held in Abu Dhabi on Friday")


def _near_a_session(analysis: _Analysis, mention: _DateMention, sessions: Sequence[_Hit]) -> bool:
    position = _word_of(analysis, mention.start)
    return any(0 < position - hit.first <= _HOLDING_WINDOW for hit in sessions)


def _nearest(analysis: _Analysis, mentions: Sequence[_DateMention], hits: Sequence[_Hit]) -> _DateMention:
    """The mention nearest to the hits (the event's own day rather than the first day the sentence names)."""
    if not hits:
        return mentions[0]
    return min(
        mentions,
        key=lambda mention: min(abs(_word_of(analysis, mention.start) - hit.first) for hit in hits),
    )


def _talks_of_another_negotiation(analysis: _Analysis, sentence: _Sentence) -> bool:
    """Talks of another negotiation (an IMF programme, EU accession, gas transit): named in the sentence
    ("Russia, Ukraine and the EU hold a new round of gas transit talks"); or, with Russia not named, in the
    sentence before or in an item led by one ("The IMF is negotiating a programme with Kyiv. A mission is due
    next month for another round of talks."; "The next round of screening meetings is in November.")."""
    concepts = sentence.concepts
    if any((name in concepts) for name in _OTHER_NEGOTIATIONS):
        return True
    if "russia" in concepts or "both_sides" in concepts:
        return False
    if sentence.index > 0 and any(
        (name in analysis.sentences[sentence.index - 1].concepts) for name in _OTHER_NEGOTIATIONS
    ):
        return True
    return any(
        (name in other.concepts)
        for other in analysis.sentences
        if other.is_title or 0 <= other.body_index < 2
        for name in _OTHER_NEGOTIATIONS
    )


_OTHER_NEGOTIATIONS = ("imf", "accession", "gas_transit", "arms_control")


def _round_candidate(
    analysis: _Analysis,
    sentence: _Sentence,
    participants: _Participants,
    context: _Context,
    inherited: _InheritedBackground,
) -> _Candidate | None:
    concepts = sentence.concepts
    if not (("round" in concepts) or ("talks" in concepts) or ("meeting" in concepts)):
        return None
    if ("other_conflict" in concepts) and "ukraine" not in concepts:
        return None
    if _talks_of_another_negotiation(analysis, sentence):
        return None
    if not (("talks" in concepts) or ("meeting" in concepts)) and any(
        ("sport" in other.concepts) for other in analysis.sentences
    ):
        return None  # "edge India in the seventh round", in an item about a tournament: a round of games

    def session_dates() -> list[_DateMention]:
        # the session's own time: "Putin said on Tuesday that the talks ..." dates the saying, and "agree
        # the framework by September 1" is a time limit
        norm = analysis.norm
        mentions = _dates_in(analysis, sentence, forward=_looks_forward(analysis, sentence))
        # "talks expected on Thursday were postponed until Friday": the day it was moved to (no time limit)
        moved = _MOVED_TO.search(norm, sentence.start, sentence.end)
        if moved is not None and (to := [m for m in mentions if m.start == moved.end()]):
            return to
        return [
            m
            for m in mentions
            if not m.of_speech
            and not (
                _LIMIT_BEFORE.search(norm, max(0, m.start - 16), m.start)
                and not _MEETING_BY.search(norm, max(0, m.start - 40), m.start)
            )
            # "the talks are due to continue tomorrow": a day of the session under way, not its own
            and not _CONTINUED_BEFORE.search(norm, max(0, m.start - 24), m.start)
        ]

    # who is at the table before which words name the session: most sentences fail here, more cheaply
    if not _session_of_both(analysis, sentence, participants, context, lambda: bool(session_dates())):
        return None  # a mediator meeting one side, or talks between others
    sessions = _session_hits(analysis, sentence)
    # "Medinsky, who led the Russian delegation in Istanbul, said ...": the delegation says who he is
    sessions = [hit for hit in sessions if not _says_who_led(analysis, hit)]
    # "the first such meeting since the Vienna talks began": a session the time is counted from, or one
    # named before ("such"), is not the one the sentence tells
    sessions = [hit for hit in sessions if not _a_reference_session(analysis, sentence, hit)]
    if not sessions:
        return None
    if (
        all(_counted_sessions(analysis, hit) for hit in sessions)
        or _met_repeatedly(analysis, sentence)
        or _sessions_at_several_venues(analysis, sentence, sessions)
        or _shuttles_between_capitals(analysis, sentence)
    ):
        return None  # no session, or only a recap of several
    dates = session_dates()
    venues = sorted(
        sentence.hits("venue"), key=lambda hit: (analysis.rules.rules[hit.rule].value or 50, hit.first)
    )

    @cache
    def clause() -> tuple[int, int] | None:  # where a swap or deal was agreed, read when first asked
        return _agreed_clause(analysis, sentence)

    if len(venues) > 1 and (dateline := _opens_with_dateline(analysis, sentence)) is not None:
        # "ABU DHABI - Monday's second round in Istanbul ...": where the report was filed is not the venue
        filed = _dateline_end(analysis, sentence, dateline)
        venues = [hit for hit in venues if hit.first >= filed] or venues
    if len(venues) > 1 and (agreed := clause()) is not None:
        # "completed the exchange agreed in Abu Dhabi, and the sides will meet in Geneva": the swap's venue
        venues = [hit for hit in venues if not agreed[0] <= hit.first <= agreed[1]] or venues
    if len(venues) > 1:
        # "the Vienna format moves to Istanbul": a format named for the city of its first round is a name
        words = analysis.words
        named = [hit for hit in venues if hit.last < len(words) and words[hit.last] in _FORMATS]
        venues = [hit for hit in venues if hit not in named] or venues
    placed = bool(venues) or ("talks_venue" in concepts)
    ordinals = _ordinal_hits(analysis, sentence)
    swap = _has_exchange_trigger(sentence)
    swap_words = sentence.hits("swap_phrase", "exchange", "return") if swap else []
    if swap_words:  # "an exchange negotiated for weeks": in a swap's sentence, that verb is the swap's
        sessions = [hit for hit in sessions if not analysis.words[hit.last - 1].endswith("ed")]
        if not sessions:
            return None
    # "neither side announced a date", "has not yet been scheduled": a tense denied tells nothing held or set
    concrete, denied = _asserted(analysis, sentence, sentence.hits("concrete", "future"))
    if swap_words:  # "will release every prisoner they hold": those verbs are the swap's, not the session's
        concrete = _nearer(concrete, sessions, swap_words)
    if not concrete and (dates or placed or ordinals) and not swap:
        # "Monday's talks near the river produced no ceasefire", "agreed at talks in Riyadh on Tuesday":
        # a past tense or an agreement with a time or place reports a session held (in a swap's sentence
        # they are the swap's: "exchanged on Sunday under the deal agreed at the talks in Istanbul")
        concrete = _asserted(analysis, sentence, sentence.hits("past", "agreed"))[0]
    elif not concrete and (dates or placed or ordinals) and swap_words:
        # "The first round of talks at the Vatican was businesslike, ... agreed to exchange 300": a past tense
        # or agreement ("the delegations agreed in Geneva to carry out an exchange") that follows the session
        # closely, before the swap or its people are told, is the session's
        told = [*swap_words, *sentence.hits("captives", "war_captives", "bodies", "children")]
        first_swap = min(hit.first for hit in told)
        # (an agreement only where it is placed: "agreed in Geneva to")
        placed_at = {hit.first for hit in venues}
        concrete = [
            hit
            for hit in [
                *sentence.hits("past"),
                *(hit for hit in sentence.hits("agreed") if {hit.last + 1, hit.last + 2} & placed_at),
            ]
            if hit.last <= first_swap
            and any(0 < hit.first - one.first <= _HOLDING_WINDOW for one in sessions)
        ] or [
            # "Ukraine and Russia agreed at their third meeting in Istanbul on Wednesday to exchange 1,200":
            # the sides agreed at the session named next, before the swap is told
            hit
            for hit in sentence.hits("agreed")
            if hit.last <= first_swap and _agreed_at_the_session(analysis.words, hit, sessions)
        ]
        agreed = clause()
        if not concrete and _agreed_there(agreed, sessions) and _agreed_now(analysis, sentence, agreed):
            # "have agreed on a swap of 300 per side, reached at the first round at the Vatican": the round
            # the swap was just reached at was held
            concrete = [
                hit for hit in sentence.hits("agreed") if agreed is not None and hit.last <= agreed[0]
            ]
    # a session over ("after the talks") or with its own day ("Friday's meeting in Istanbul") is held or set,
    # whatever the verbs say
    held = _held_cue(analysis, sentence, sessions)
    # (a day may belong to the talks where the session's word is a round further on: "agreed at Wednesday's
    # talks in Istanbul ..., describing the third round as useful")
    named = sessions if not swap_words else sorted({*sessions, *sentence.hits("talks", "meeting")})
    attached = _attached_dates(analysis, dates, named, swap_words) if dates else []
    cues = min(len({hit.rule for hit in concrete}) + held + bool(attached), 2)
    # a session in particular: dated, placed, numbered, a round, a Normandy summit, or under a headline that
    # names its venue ("Long night in Minsk" over "The summit ended with a document")
    anchored = bool(
        dates
        or placed
        or ordinals
        or ("round" in concepts)
        or ("minsk" in concepts)
        or _title_placed(analysis)
    )
    if not cues and not (sentence.is_title and anchored):
        return None
    # "No date has been set for the next round" does not unsettle the round this sentence reports as held
    held_or_over = held or bool(sentence.hits("past"))
    score = 0.45 + 0.15 * cues
    score += 0.1 * bool(dates) + 0.1 * placed + 0.1 * bool(ordinals)
    score += 0.15 * sentence.is_title
    if not anchored:
        score -= 0.3  # "talks will continue": no session in particular
    doubted = (
        ("unscheduled" in concepts)
        or _doubts_the_session(analysis, sentence, sessions, dates)
        or _denies_the_session(denied, sessions)
        or _a_report_denied(analysis, sentence, sessions)
        or _offered_by_another(analysis, sentence, sessions)
    )
    # (in an item that says the date will be agreed next week, "ready to send its delegation ... the date
    # has not been agreed" is a round being arranged: LABELS' "expect to agree a date next week")
    if analysis.sentence_text(sentence).rstrip().endswith("?") or (doubted and not _being_arranged(analysis)):
        score -= 0.6
    elif (
        not doubted
        and not dates
        and any(
            ("unscheduled" in other.concepts)
            and _unsettles_a_session(analysis, other)
            and not (held_or_over and _of_a_later_session(analysis, other))
            for other in analysis.sentences
        )
        and not _being_arranged(analysis)
    ):
        score -= 0.3  # "The Kremlin said no venue had been agreed": the item's session is not yet fixed
    if _near(
        sentence.hits("pause"), sessions, analysis.rules.scores["round_window"]
    ) and not _PAUSE_FOR_THE_SESSION.search(analysis.sentence_text(sentence)):
        score -= (
            0.6  # "talks on pause", "postponed the meeting" (a pause elsewhere in it is not the session's)
        )
    # what follows only lowers the score, and a sentence below the threshold asserts nothing: stop before
    # the costly look at the background (this sentence's dates, and the sentences' before it)
    threshold = analysis.rules.scores["new_round_threshold"]
    if score < threshold:
        return None
    # the session's own day decides ("returned on Friday under the deal agreed at the talks on 2 June"; "the
    # third round opened in Geneva on Tuesday, after two rounds in Abu Dhabi" is news)
    # "The talks were the fifth round of direct negotiations ...": the item's session, numbered
    identity = _IDENTIFIES_THE_SESSION.match(analysis.sentence_text(sentence)) is not None
    if attached:
        background = _has_old_date(analysis, attached)
    elif identity:  # (its cues are the clauses' that follow: "a group the sides set up earlier this year")
        background = _dated_old(analysis, sentence, dates)
    else:
        background = _is_background(analysis, sentence, dates) or inherited[sentence.index]
    if not background and not sentence.is_title:
        background = _agreed_there(clause(), sessions) and not _agreed_now(analysis, sentence, clause())
    if not background:
        background = _deep_and_old(analysis, sentence, attached or dates)
    if not background:
        background = _long_after_the_session(analysis, sentence, sessions)
    if not background and not sentence.is_title:
        background = _came_after(analysis, sentence, sessions)
    if not background and not sentence.is_title:
        background = _origin_of_a_swap_done(analysis, sentence, dates)
    if background:
        score -= 0.7
    if (
        not sentence.is_title
        and sentence.body_index >= 4
        and not dates
        and "future" not in concepts
        and not identity
    ):
        score -= 0.3  # a past session deep in the body, undated: most likely background
    if score < threshold:
        return None
    # the words that tell the tense first, a past tense near the session among them ("Talks end": a headline's
    # present for what is over); a session's word that is also one of them ("met") once
    past = [hit for hit in sentence.hits("past") if _near([hit], sessions, _HELD_WINDOW)]
    past_spans = {(hit.first, hit.last): hit for hit in past}
    told = [past_spans.pop((hit.first, hit.last), hit) for hit in concrete[:2]]
    told += list(past_spans.values())[:1]
    spans = {(hit.first, hit.last) for hit in told}
    shown = [*told, *(hit for hit in sessions[:2] if (hit.first, hit.last) not in spans), *venues[:1]]
    evidence: list[_Proof] = [(hit, None) for hit in shown]
    facts: dict[str, object] = {}
    if ordinals:
        # "Second round agrees on corridors, third round soon": the round looked forward to is not the one
        # the sentence reports, where another is numbered
        reported = [pair for pair in ordinals if not _a_later_round(analysis, pair[1])] or ordinals
        value, hit = max(reported, key=lambda pair: pair[0])
        facts["round"] = value
        evidence.append((hit, None))
    if venues:
        facts["place"] = analysis.rules.rules[venues[0].rule].place
    # "the talks held in Abu Dhabi on Friday": the day of the holding, before any nearer day of the saying
    held_on = [
        mention for mention in dates
        if mention.of_holding and mention.value is not None and _near_a_session(analysis, mention, sessions)
    ]  # fmt: skip
    # (a day the sentence gives a deadline is not the session's: "pushes back the deadline to Sept. 15 as
    # talks set to resume", "its deadline ..., to September 15, after both sides agreed to a round")
    unattached = [] if "deadline" in concepts else [mention for mention in dates if mention.value is not None]
    dated = held_on or attached or unattached
    if dated and "deadline" in concepts:
        limits = [
            (sentence.start + found.start(), sentence.start + found.end())
            for found in _limits(analysis, sentence)
        ]
        dated = [
            mention for mention in dated if not any(start <= mention.start < end for start, end in limits)
        ]
    filed = False
    if dated:
        day = _nearest(analysis, dated, sessions)
        facts["date"] = day.value.isoformat() if day.value else None
        evidence.append(((day.start, day.end), "fact.date"))
        dateline = _opens_with_dateline(analysis, sentence)
        filed = dateline is not None and day.start < sentence.start + dateline.end()
    elif (counted_back := _days_after_the_session(analysis, sentence, sessions)) is not None:
        value, span = counted_back
        facts["date"] = value.isoformat()
        evidence.append((span, "fact.date"))
    return _Candidate(sentence, score, evidence, facts, filed=filed)


_LATER_AFTER = frozenset(
    ("soon", "expected", "planned", "later", "possible", "likely", "would", "will", "could")
)  # after a round still to come


def _a_later_round(analysis: _Analysis, ordinal: _Hit) -> bool:
    """Whether an ordinal numbers a round still to come: "third round soon", "a third round is expected"."""
    words = analysis.words
    after = words[ordinal.last : ordinal.last + 4]  # ("third round soon", "round three soon")
    return not _LATER_AFTER.isdisjoint(after) or (ordinal.first > 0 and words[ordinal.first - 1] == "next")


def _an_aside(analysis: _Analysis, candidate: _Candidate) -> bool:
    """Whether a candidate is a session told past the lead with a low score: alone, it asserts no round (a
    long article's aside with a single cue is most often an earlier or another meeting), though with a
    round asserted elsewhere it may still give its facts."""
    scores = analysis.rules.scores
    return (
        not candidate.sentence.is_title
        and candidate.sentence.body_index >= scores["body_round_from"]
        and candidate.score < scores["body_round_threshold"] - _SCORE_EPSILON
    )


# scores are sums of tenths and twentieths: a sum that should equal a threshold may fall a hair below it
_SCORE_EPSILON = 1e-9


# "two days after", "a week since": a count of days from something ("since" only where a span is read)
_DAYS_AFTER_TEXT = r"\b(?P<n>a|one|two|three|four|five|six|seven|\d{1,2})\s+(?P<unit>days?|weeks?)\s+"
# "Two days after Russia and Ukraine held their second round, ...": the session's day, counted back
_DAYS_AFTER = re.compile(_DAYS_AFTER_TEXT + r"after\b")
_DAYS_AFTER_WINDOW = 10  # words from "after" to the session's
_LOOKS_AHEAD = frozenset(("future", "proposal", "tentative", "background", "strong_background"))


def _days_after_the_session(
    analysis: _Analysis, sentence: _Sentence, sessions: Sequence[_Hit]
) -> tuple[date, tuple[int, int]] | None:
    """The day of a session a headline or lead counts from ("a week after the talks in Geneva ended, ..."):
    the publication date less the days it names. Deeper in the body, the count may run from another day."""
    if analysis.published is None or sentence.body_index > 1 or not sentence.hits("past", "concrete"):
        return None
    if not sentence.concepts.keys().isdisjoint(_LOOKS_AHEAD):
        # "proposed a new meeting, seven weeks after the delegations last met": counted from the last one
        return None
    found = _DAYS_AFTER.search(analysis.sentence_text(sentence))
    if found is None:
        return None
    after = _word_of(analysis, sentence.start + found.end())
    if not any(0 <= hit.first - after <= _DAYS_AFTER_WINDOW for hit in sessions):
        return None
    amount = _amount(found.group("n")) or 0
    span = (sentence.start + found.start(), sentence.start + found.end("unit"))
    return analysis.published - _span(amount, found.group("unit")), span


# "Six months after Russian and Ukrainian negotiators first sat down in Vienna", "Five years after Paris", "a
# month after the first round opened": time counted from a session, which is then long past
_LONG_AFTER = re.compile(
    r"\b(?P<n>a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d{1,2})\s+"
    r"(?P<unit>days?|weeks?|months?|years?)\s+(?:after|since)\b"
)
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


def _long_after_the_session(analysis: _Analysis, sentence: _Sentence, sessions: Sequence[_Hit]) -> bool:
    """Whether the sentence counts a time from the session ("six months after ... first sat down in Vienna")
    longer than what is news (background_days)."""
    text = analysis.sentence_text(sentence)
    if "after" not in text and "since" not in text:
        return False
    for found in _LONG_AFTER.finditer(text):
        amount = 1 if found.group("n") == "an" else _amount(found.group("n")) or 0
        days = amount * _UNIT_DAYS[found.group("unit").rstrip("s")]
        if days < analysis.rules.scores["background_days"]:
            continue
        after = _word_of(analysis, sentence.start + found.end())
        if any(0 <= hit.first - after <= _DAYS_AFTER_WINDOW for hit in sessions):
            return True
    return False


def _detect_new_round(
    analysis: _Analysis, contexts: list[_Context], inherited: _InheritedBackground
) -> DetectedEvent | None:
    if _reports_a_one_sided_meeting(analysis):
        return None
    participants = _Participants(
        any(("russia" in sentence.concepts) for sentence in analysis.sentences),
        any(("ukraine" in sentence.concepts) for sentence in analysis.sentences),
        any(("mediator" in sentence.concepts) for sentence in analysis.sentences),
    )
    candidates = [
        candidate
        for sentence, context in zip(analysis.sentences, contexts, strict=True)
        if not context.other
        and not sentence.concepts.keys().isdisjoint(_ROUND_TRIGGERS)
        and (candidate := _round_candidate(analysis, sentence, participants, context, inherited))
    ]
    if not candidates:
        return None
    threshold = analysis.rules.scores["new_round_threshold"]
    asserted = [candidate for candidate in candidates if candidate.score >= threshold]
    absent_at = _places_one_side_is_absent_from(analysis)
    if absent_at:  # "84 return on the eve of the Anchorage summit" ... "to which Ukraine was not invited"
        asserted = [candidate for candidate in asserted if not _at_a_session_without(candidate, absent_at)]
    if all(_an_aside(analysis, candidate) for candidate in asserted):
        return None  # (none at all, too)
    # a session held, reported with the one proposed after it ("proposed holding a further meeting between
    # June 20 and 30"): the held one is the news, unless the headline is about the next
    held = [
        c for c in asserted
        if "past" in c.sentence.concepts and not _names_a_later_session(analysis, c.sentence)
    ]  # fmt: skip
    if held:
        asserted = [
            c for c in asserted if c.sentence.is_title or not _names_a_later_session(analysis, c.sentence)
        ]
    # one round is the news: the headline's, else the best-told one (the latest of equals). Round two in a
    # third-round story is background; a round only looked forward to ("before a second meeting") does not
    # make the one just held history
    numbered = [c for c in asserted if "round" in c.facts]
    if numbered:
        news = max(numbered, key=lambda c: (c.sentence.is_title, round(c.score, 6), c.facts["round"]))
        asserted = [c for c in asserted if c.facts.get("round", news.facts["round"]) == news.facts["round"]]
    _prefer_a_city(analysis, asserted)
    if any("date" in c.facts and not c.filed for c in asserted):
        # the dateline's day is the filing's: a session's own day told elsewhere ("Wednesday's meeting was
        # the third round", "expected to open on Monday") is the session's (alone, it may be: a report filed
        # the day of the talks)
        for candidate in asserted:
            if candidate.filed:
                candidate.facts.pop("date", None)
    for candidate in asserted:
        if isinstance(candidate.facts.get("date"), str):
            candidate.facts["date"] = _first_day(analysis, date.fromisoformat(str(candidate.facts["date"])))
    if not any("round" in candidate.facts for candidate in asserted):
        titled = _roman_round_in_title(analysis)  # "Istanbul III: working groups, not a ceasefire"
        if titled is not None:
            place, value = titled
            for candidate in asserted:
                if candidate.facts.get("place", place) == place:
                    candidate.facts["round"] = value
        else:
            told = _round_told_elsewhere(analysis)
            if told is not None:
                asserted[0].facts["round"] = told
    event = _event("NEW_ROUND", asserted, analysis, ("round", "place", "date"))
    return _dated_by_publication(analysis, event, asserted, "past")


def _reports_a_one_sided_meeting(analysis: _Analysis) -> bool:
    """Whether the item tells of a meeting of one party with the US, or of the US with Russia ("US and
    Ukrainian officials met in Florida", "talks between Ukraine and the United States"), and names no
    session of both parties ("Russian and Ukrainian delegations", "trilateral"), looking back aside: its
    "talks", "the sides" and "the delegations" are then those two."""
    one_sided = False
    for sentence in analysis.sentences:
        concepts = sentence.concepts
        if _cued_as_background(sentence):
            continue
        hoped_for = "tentative" in concepts and "past" not in concepts
        if not hoped_for and any(not _generic_sides(analysis, hit) for hit in sentence.hits("both_sides")):
            return False  # (a session of both only hoped for, "a trilateral at some point", is not one)
        if not hoped_for and _joins_the_third_party(analysis, sentence):
            return False
        one_sided = one_sided or "one_sided_pair" in concepts
    return one_sided


_PAIR_WITH_WINDOW = 4  # words from "with" to the pair it joins ("for talks with representatives of Kiev and")


def _joins_the_third_party(analysis: _Analysis, sentence: _Sentence) -> bool:
    """Whether a pair of one party and the US is what the other party meets: "Russia and Ukraine will hold
    talks in Qatar with U.S. officials taking part", "a Russian delegation will travel to Doha for talks with
    representatives of Kiev and Washington" (the party the pair leaves out is named before the "with")."""
    if "one_sided_pair" not in sentence.concepts:
        return False
    words = analysis.words
    opening = _after_dateline(analysis, sentence)
    first_with = next((at for at in range(opening, sentence.last_word) if words[at] == "with"), None)
    for pair in sentence.hits("one_sided_pair"):
        lowest = max(opening, pair.first - _PAIR_WITH_WINDOW)
        if first_with is None or not lowest <= first_with <= pair.first:
            continue  # (the parties the sentence names before its first "with" hold the talks)
        named = set(words[pair.first : pair.last])
        russia_in = any(word.startswith(("russia", "moscow", "kremlin")) for word in named)
        ukraine_in = any(word.startswith(("ukrain", "kyiv", "kiev")) for word in named)
        russia_before = any(opening <= hit.first < first_with for hit in sentence.hits("russia"))
        ukraine_before = any(opening <= hit.first < first_with for hit in sentence.hits("ukraine"))
        if (russia_in or russia_before) and (ukraine_in or ukraine_before) and not (russia_in and ukraine_in):
            return True
    return False


_BEGAN_BEFORE = re.compile(r"\b(?:began|begun|opened|started|kicked off|got under way)\s+(?:on\s+)?$")


def _first_day(analysis: _Analysis, day: date) -> str:
    """A session of several days is dated by its first: "talks ended on Saturday ... The meeting, which began
    on Friday" is Friday's round."""
    for sentence in analysis.sentences:
        if not sentence.hits("round", "meeting", "talks"):
            continue
        text = analysis.sentence_text(sentence)
        for mention in _dates_in(analysis, sentence, forward=False):
            if mention.value is None or not 0 < (day - mention.value).days <= 3:
                continue
            offset = mention.start - sentence.start
            if _BEGAN_BEFORE.search(text, max(0, offset - 24), offset):
                return mention.value.isoformat()
    return day.isoformat()


_ROMAN = {"ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10}


def _roman_round_in_title(analysis: _Analysis) -> tuple[str, int] | None:
    """A headline's venue numbered in Roman figures, as the press names a series' rounds ("Geneva II")."""
    words, rules = analysis.words, analysis.rules.rules
    for sentence in analysis.sentences:
        if not sentence.is_title:
            continue
        for hit in sentence.hits("venue"):
            value = _ROMAN.get(words[hit.last]) if hit.last < sentence.last_word else None
            place = rules[hit.rule].place
            if value is not None and place:
                return place, value
    return None


_THIS_SESSION = frozenset(("this", "it", "that"))
_IS = frozenset(("was", "is", "will", "marks", "marked", "became", "becomes", "would", "were"))
_BEFORE_NOW = frozenset(("previous", "past", "earlier", "prior", "last"))


def _small_number(word: str) -> int:
    """ "two" or "2" → 2 (up to 99, "a" aside); 0 for anything else."""
    if word.isdigit():
        return int(word) if len(word) < 3 else 0
    return _NUMBER_WORDS.get(word, 0) if word != "a" else 0


def _round_told_elsewhere(analysis: _Analysis) -> int | None:
    """The number of a round told where no sentence reports the session itself: "This was the third meeting
    in the Turkish city", or counted from the ones before it ("the venue of the previous two rounds")."""
    words = analysis.words
    headed = _round_of_headline_and_lead(analysis)
    if headed is not None:
        return headed
    for sentence in analysis.sentences:
        ordinals = _ordinal_hits(analysis, sentence)
        if not ordinals:
            continue
        start = sentence.first_word
        opening = words[start : min(start + 2, sentence.last_word)]
        if len(opening) == 2 and opening[0] in _THIS_SESSION and opening[1] in _IS:
            numbered = [value for value, hit in ordinals if hit.first < start + 6]
            if numbered:
                return numbered[0]
        # "..., and the Geneva meeting on Friday was the second round since ...": a number stated of a
        # session, unless in a year gone by ("In 2022 the talks were the fifth round")
        stated = [
            value
            for value, hit in ordinals
            if hit.first >= start + 2 and words[hit.first - 1] == "the" and words[hit.first - 2] in _IS
        ]
        if stated and not _cued_as_background(sentence) and not _names_past_year(analysis, sentence):
            return stated[0]
    for sentence in analysis.sentences:
        for hit in sentence.hits("round", "meeting"):
            if words[hit.first] not in _SESSION_PLURALS:
                continue
            before = words[max(sentence.first_word, hit.first - 2) : hit.first]
            if len(before) == 2 and not _BEFORE_NOW.isdisjoint(before):
                counted = max(_small_number(word) for word in before)
                if 0 < counted < 10:
                    return counted + 1
    return None


def _round_of_headline_and_lead(analysis: _Analysis) -> int | None:
    """The one session number the headline and the lead give ("Qatar ready to host third round"), where the
    sentence that reports the session does not number it. None when they give two (one is background)."""
    values = {
        value
        for sentence in analysis.sentences
        if _in_headline_or_lead(sentence) and not _cued_as_background(sentence)
        for value, _ in _ordinal_hits(analysis, sentence)
        if value
    }
    return values.pop() if len(values) == 1 else None


# the words that make an absence a side's, not one man's ("Putin will not attend")
_UNREPRESENTED = frozenset((
    "represented", "present", "officials", "delegation", "representatives", "negotiators", "russians",
    "table", "part", "include",
))  # fmt: skip


def _at_a_session_without(candidate: _Candidate, absent_at: set[str]) -> bool:
    """Whether a candidate tells of the session one side is absent from: at its venue, or "the meeting" with
    neither a place nor a round ("the Kremlin would keep an eye on the meeting")."""
    place = candidate.facts.get("place")
    return "round" not in candidate.facts if place is None else place in absent_at


def _holds_a_session_of_both(analysis: _Analysis) -> bool:
    """Whether the item tells of a session of both parties held, naming them ("the fifth round of direct
    Russian-Ukrainian talks, held in Istanbul")."""
    return any(
        any(not _generic_sides(analysis, hit) for hit in sentence.hits("both_sides"))
        and ("past" in sentence.concepts or _says_held(analysis, sentence))
        for sentence in analysis.sentences
    )


def _a_mediator_met_each_side_apart(analysis: _Analysis, sentence: _Sentence, held_of_both: bool) -> bool:
    """Whether the sentence's absence is only a mediator meeting each side apart ("its envoys were in
    Istanbul and met both delegations separately"), in an item that tells of the two delegations' own session
    held. (Where no session of both is told, "met the delegations separately" still says there was none.)"""
    if not held_of_both:
        return False
    words = analysis.words
    return all(
        not {"separately", "separate"}.isdisjoint(words[hit.first : hit.last])
        for hit in sentence.hits("one_side_absent")
    )


def _told_as_past(analysis: _Analysis, sentence: _Sentence) -> bool:
    """A background cue, a past year or another month than the publication's in the sentence."""
    return _is_background(analysis, sentence, ()) or _names_another_month(analysis, sentence)


def _in_headline_or_lead(sentence: _Sentence) -> bool:
    return sentence.is_title or sentence.body_index == 0


_SIDE_WORD = re.compile(r"(?:russia|ukrain|kyiv|kiev|moscow|kremlin)")


def _only_a_mediator_absent(analysis: _Analysis, sentence: _Sentence) -> bool:
    """Whether who "was not represented" is a mediator: the sentence names one and no side, in the absence
    ("no Russian officials were") or elsewhere. A mediator away from the table leaves the sides' session."""
    if "mediator" not in sentence.concepts or "russia" in sentence.concepts or "ukraine" in sentence.concepts:
        return False
    return not any(
        _SIDE_WORD.match(word)
        for hit in sentence.hits("one_side_absent")
        for word in analysis.words[hit.first : hit.last]
    )


def _places_one_side_is_absent_from(analysis: _Analysis) -> set[str]:
    """The venues of the sentences that say one side will not be at the table, or of the sentence before
    one that names none ("... meet Putin in Alaska on Friday. Ukraine will not be represented.")."""
    rules = analysis.rules.rules
    places = set()
    held_of_both = None
    for sentence in analysis.sentences:
        if "one_side_absent" not in sentence.concepts:
            continue
        if held_of_both is None:
            held_of_both = _holds_a_session_of_both(analysis)
        if _cued_as_background(sentence):
            continue  # "last year the Saudi capital hosted separate meetings": not this round's venue
        if _a_mediator_met_each_side_apart(analysis, sentence, held_of_both):
            continue
        venues = sentence.hits("venue")
        unrepresented = any(
            not _UNREPRESENTED.isdisjoint(analysis.words[hit.first : hit.last])
            for hit in sentence.hits("one_side_absent")
        )  # (a side, where "Putin will not attend" is one man)
        if unrepresented and _only_a_mediator_absent(analysis, sentence):
            continue  # "Washington, which was not represented, welcomed the outcome": the host's round stands
        if not venues and unrepresented:
            before = analysis.sentences[sentence.index - 1] if sentence.index > 0 else None
            if (
                before is not None
                and _told_as_past(analysis, before)
                and before.hits("meeting", "round", "talks")
            ):
                continue  # "... hosted a meeting in November. That meeting did not include Ukraine."
            if before is not None:
                venues = before.hits("venue")
            if not venues:
                # "The talks took place at the US mission. No Russian officials were involved.": the session
                # the item reports, its headline's and lead's
                leads = [lead for lead in analysis.sentences if _in_headline_or_lead(lead)]
                venues = [hit for lead in leads for hit in lead.hits("venue")]
        places.update(place for hit in venues if (place := rules[hit.rule].place))
    return places


def _prefer_a_city(analysis: _Analysis, asserted: list[_Candidate]) -> None:
    """ "Turkey to host the talks ... in Istanbul": a country (a venue of preference 90 or more) gives way
    to a city the asserting sentences, or failing them the item, name (not a sentence that looks back: "wary
    of new formats since the Doha meetings of 2028" names no city of this round)."""
    rules = analysis.rules
    countries = {rule.place for rule in rules.rules if rule.concept == "venue" and (rule.value or 50) >= 90}
    if not any(candidate.facts.get("place") in countries for candidate in asserted):
        return
    sentences = [candidate.sentence for candidate in asserted] + [
        sentence
        for sentence in analysis.sentences
        if "venue" in sentence.concepts
        and not _cued_as_background(sentence)
        and not _names_past_year(analysis, sentence, since=True)
    ]
    cities = [
        rules.rules[hit.rule].place
        for sentence in sentences
        for hit in sentence.hits("venue")
        if (rules.rules[hit.rule].value or 50) < 90
    ]
    for candidate in asserted:
        if candidate.facts.get("place") in countries:
            if cities:
                candidate.facts["place"] = cities[0]
            else:  # a country is no place (LABELS: a city or venue); it would clash with the city named later
                del candidate.facts["place"]


_LEAD_WEIGHT = 0.25  # what the lead states outranks a better-scoring aside further down


def _fact_rank(candidate: _Candidate) -> tuple[bool, float, int]:
    """Facts come from the headline first, then by score, the lead's two sentences weighing more: a story
    states its main fact first ("gives Russia 10 or 12 days"), and a target date in paragraph eight (a
    meeting proposed "before the end of August") is an aside."""
    sentence = candidate.sentence
    lead = 0 <= sentence.body_index < 2
    return (not sentence.is_title, -candidate.score - _LEAD_WEIGHT * lead, sentence.index)


def _event(
    kind: str, asserted: list[_Candidate], analysis: _Analysis, fact_order: Sequence[str]
) -> DetectedEvent:
    """The event from its asserting sentences: the best score; facts in ``_fact_rank`` order, each from the
    first sentence that states it."""
    ordered = sorted(asserted, key=_fact_rank)
    facts: dict[str, object] = {}
    for candidate in ordered:
        for key in fact_order:
            if key not in facts and candidate.facts.get(key) is not None:
                facts[key] = candidate.facts[key]
    evidence: list[Evidence] = []
    for candidate in ordered[:3]:
        evidence += [analysis.materialise(proof) for proof in candidate.evidence]
    score = min(1.0, max(c.score for c in asserted))
    return DetectedEvent(kind, round(score, 3), MappingProxyType(facts), _unique(evidence))


_AUXILIARIES = frozenset(("was", "were", "had", "has", "have", "is", "are", "been"))


def _dated_by_publication(
    analysis: _Analysis, event: DetectedEvent, asserted: list[_Candidate], tense: str
) -> DetectedEvent:
    """A session or swap that the headline or lead reports as done (``tense``: a concept, "ended",
    "returned"), without naming a day, is dated by the report's own day: wires tell today's news without
    "today" ("The meeting at Dolmabahce ended with one result"). The evidence names the date's origin, and
    the story stage leaves such a date out of its matching."""
    if "date" in event.facts or analysis.published is None:
        return event
    told = [
        hit
        for candidate in sorted(asserted, key=_fact_rank)
        if candidate.sentence.body_index <= 1  # (a title's is below 0)
        and candidate.sentence.concepts.keys().isdisjoint(_LOOKS_AHEAD)
        for hit in candidate.sentence.hits(tense)
        if analysis.words[hit.first] not in _AUXILIARIES  # ("had been constructive": done, but when?)
    ]
    if not told:
        return event
    lead = _lead_day(analysis, asserted, analysis.published)
    if lead is not None:  # "19 children reunited" over "Nineteen children went to their relatives on Monday"
        day, span = lead
        facts = {**event.facts, "date": day.isoformat()}
        evidence = _unique((*event.evidence, analysis.materialise((span, "fact.date"))))
        return DetectedEvent(event.type, event.score, MappingProxyType(facts), evidence)
    facts = {**event.facts, "date": analysis.published.isoformat()}
    evidence = _unique((*event.evidence, analysis.materialise((told[0], DATE_OF_PUBLICATION))))
    return DetectedEvent(event.type, event.score, MappingProxyType(facts), evidence)


def _lead_day(
    analysis: _Analysis, asserted: list[_Candidate], published: date
) -> tuple[date, tuple[int, int]] | None:
    """The day of the last few days that the lead gives, not as a day of saying, and where it says it, when
    the event it reports as done is told without one: wires date the news in the lead's first clause
    ("Nineteen children went to their relatives on Monday, the commissioner said on Tuesday"), whatever
    sentence asserts it."""
    asserting = {candidate.sentence.index for candidate in asserted}
    days = [
        (mention.value, (mention.start, mention.end))
        for sentence in analysis.sentences
        if sentence.body_index == 0 and sentence.index not in asserting
        for mention in _dates_in(analysis, sentence, forward=False)
        if mention.value is not None
        and not mention.of_speech
        and 0 < (published - mention.value).days <= _LEAD_DAY_AGO
    ]
    return max(days, key=operator.itemgetter(0)) if days else None


_LEAD_DAY_AGO = 3  # days: the news of a wire's lead is of the last few days


def _unique(evidence: Iterable[Evidence]) -> tuple[Evidence, ...]:
    """Each piece of evidence once, in text order. (Keyed by a tuple of its fields: hashing the frozen
    dataclass itself runs its generated __hash__ in Python, several times slower.)"""
    by_key = {(e.start, e.end, e.rule, e.text): e for e in evidence}
    return tuple(by_key[key] for key in sorted(by_key))


# --- EXCHANGE ------------------------------------------------------------------------------------------

_NUMBER = r"\d{1,3}(?:,\d{3})+|\d{1,3}(?: \d{3})+(?!\d)|\d+"
_CAPTIVE_WORDS = (
    r"(?:prisoners?|pows?|captives?|servicem[ae]n|soldiers|troops|defenders|civilians|citizens|nationals|"
    r"people|detainees|"
    r"youngsters|minors|teenagers|"
    r"fighters|marines|individuals|persons|ukrainians|russians|bodies|remains|children|kids|sailors|men|"
    r"women|dead|пленных|военнопленных|военнопленными|полонених|військовополонених|тел|тіл|человек|людей|осіб|"
    r"військових|цивільних|захисників|военных|бойцов)"
)
_NUMBER_WORD_COUNTS = {
    "a thousand": 1000, "one thousand": 1000, "thousand": 1000,
    "a hundred": 100, "one hundred": 100, "hundred": 100,
}  # fmt: skip
# numbers written out, as headlines and leads often do ("Seventy-three Ukrainians", "a thousand prisoners")
_UNIT_WORDS = [
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
]  # fmt: skip
_TENS_WORDS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_BELOW_HUNDRED = rf"(?:{'|'.join(_TENS_WORDS)})(?:-(?:{'|'.join(_UNIT_WORDS[:9])}))?|{'|'.join(_UNIT_WORDS)}"
# its hundreds or thousands ("two hundred and fifty": the whole, not its "fifty")
_SCALED = rf"\s+(?:hundred|thousand)(?:\s+and\s+(?:{_BELOW_HUNDRED}))?"
_SPELLED = rf"(?:{_BELOW_HUNDRED}|a)(?:{_SCALED})?"


def _spelled_value(text: str) -> int | None:
    """ "seventy-three" → 73, "a thousand" → 1000, "twelve hundred" → 1200, "two hundred and fifty" → 250;
    None for a bare "a"."""
    head, _, rest = text.partition(" and ")
    if rest:
        value = _spelled_value(head)
        return None if value is None else value + (_spelled_value(rest) or 0)
    words = text.split()
    head, scale = words[0], {"hundred": 100, "thousand": 1000}.get(words[-1], 1) if len(words) > 1 else 1
    if head == "a":
        return scale if scale > 1 else None
    tens, _, unit = head.partition("-")
    if tens in _TENS_WORDS:
        value = 20 + 10 * _TENS_WORDS.index(tens) + (_UNIT_WORDS.index(unit) + 1 if unit else 0)
    else:
        value = _UNIT_WORDS.index(head) + 1
    return value * scale


# a number written out before its hundreds or thousands ("six thousand for six thousand")
_SPELLED_SCALED = rf"\b(?:{_BELOW_HUNDRED}){_SCALED}"
_PER_SIDE = re.compile(
    rf"(?P<a>{_NUMBER}|{_SPELLED_SCALED}|(?:(?:a|one)\s+)?thousand|(?:(?:a|one)\s+)?hundred)"
    rf"(?:\s+[\w-]+){{0,2}}?\s*-?\s*"
    rf"(?:for|on|на)\s*-?\s*(?:a[\s-]+)?(?P<b>{_NUMBER}|{_SPELLED_SCALED}|thousand|hundred)\b"
)
_EACH = re.compile(
    rf"(?P<n>{_NUMBER})\s+(?:[\w-]+\s+){{0,3}}?(?:each|apiece|per side|from each side|on each side|"
    rf"from both sides|on both sides|each side|с каждой стороны|з кожного боку|з кожної сторони)\b"
    rf"|\beach (?:side|party) (?:\w+\s+){{0,3}}?(?P<m>{_NUMBER})\b"
    rf"|\beach\s+(?:\w+\s+){{1,2}}?(?P<k>{_NUMBER})\s+(?:[\w-]+\s+){{0,2}}?{_CAPTIVE_WORDS}"
)
# (a number written out takes at most one word before its noun: "three years agree big prisoner swap"; and
# one that numbers a round or a stage counts nobody: "round two yields bodies deal")
_STATED = re.compile(
    # (an age is no count: "under-25 prisoners"; nor its last digits)
    rf"(?<!under-)(?<!\d)(?P<n>{_NUMBER})\s+(?:[\w-]+\s+){{0,3}}?{_CAPTIVE_WORDS}\b"
    rf"|(?<!round )(?<!stage )(?<!phase )(?<!part )\b(?P<w>{_SPELLED})\s+(?:[\w-]+\s+)?{_CAPTIVE_WORDS}\b"
)


def _to_int(text: str) -> int | None:
    digits = re.sub(r"[,\s]", "", text)
    if not digits.isdigit():
        return None
    value = int(digits)
    return value if 0 < value < 100_000 else None


def _count(analysis: _Analysis, sentence: _Sentence) -> tuple[int, _Proof] | None:
    """The per-side figure of a swap ("1,200 for 1,200", "84 each"), else the stated figure; a stage of a
    larger swap carried out is its own figure ("390 Ukrainians home as the 1,000-for-1,000 swap begins")."""
    counted = _whole_count(analysis, sentence)
    if counted is None or not sentence.hits("carried_out", "return"):
        return counted
    total, _ = counted
    text = analysis.sentence_text(sentence)
    if not _PER_SIDE.search(text):
        return counted
    for pattern, group in ((_EACH, "n"), (_STATED, "n")):
        for found in pattern.finditer(text):
            value = _count_value(found, group)
            if value is not None and value < total and not _PER_SIDE.match(text, found.start()):
                return value, ((sentence.start + found.start(), sentence.start + found.end()), "fact.count")
    return counted


def _whole_count(analysis: _Analysis, sentence: _Sentence) -> tuple[int, _Proof] | None:
    text = analysis.sentence_text(sentence)
    # a per-side figure wherever it is in the sentence, the first one; else the first stated figure
    for patterns, groups in (((_PER_SIDE, _EACH), ("a", "n", "m", "k")), ((_STATED,), ("n", "w"))):
        found_values = []
        for pattern in patterns:
            for found in pattern.finditer(text):
                value = next(
                    (
                        v
                        for group in groups
                        if group in found.groupdict() and (v := _count_value(found, group))
                    ),
                    None,
                )
                if value is not None:
                    found_values.append((found.start(), value, found.end()))
                    break
        if found_values:
            start, value, end = min(found_values)
            if patterns[0] is _STATED and (whole := _AMONG.match(text, end)) is not None:
                # "Two marines among the 500 freed": a few of the group, which is the figure
                if (group := _count_value(whole, "n")) is not None:
                    value, end = group, whole.end()
            elif patterns[0] is _STATED:  # "270 soldiers and 120 civilians came home": the group is both
                more = _AND_MORE.match(text, end)
                if (
                    more is not None
                    and (added := _count_value(more, "n")) is not None
                    and not _of_both_sides(text[start:end], more.group())
                ):
                    value, end = value + added, more.end()
            return value, ((sentence.start + start, sentence.start + end), "fact.count")
    return None


_AND_MORE = re.compile(rf"\s+and\s+(?P<n>{_NUMBER})\s+(?:[\w-]+\s+)?{_CAPTIVE_WORDS}\b")
_AMONG = re.compile(rf"\s+(?:were\s+)?(?:among|of)\s+(?:the\s+)?(?P<n>{_NUMBER})\b")


def _of_both_sides(first: str, second: str) -> bool:
    """ "130 Ukrainian prisoners and 90 Russian prisoners": one figure per side, not one group of two parts
    (an unequal swap has no per-side figure; the first stated one stands)."""
    first, second = first.lower(), second.lower()
    return ("ukrain" in first and "russia" in second) or ("russia" in first and "ukrain" in second)


def _count_value(found: re.Match[str], group: str) -> int | None:
    number = found.group(group)
    if not number:
        return None
    if number in _NUMBER_WORD_COUNTS:
        return _NUMBER_WORD_COUNTS[number]
    if not number[0].isdigit():
        return _spelled_value(number)
    value = _to_int(number)
    if value is None or (1900 <= value <= 2100 and "," not in number):
        return None  # a year, not a number of people
    return value


# words that tell a swap new only where it is done or agreed: "a further exchange" is otherwise one to come
_FRESH_ONCE_DONE = frozenset(("further",))


def _exchange_candidate(
    analysis: _Analysis,
    sentence: _Sentence,
    context: _Context,
    inherited: _InheritedBackground,
    ukraine: bool,
    round_is_news: bool,
) -> _Candidate | None:
    if not _has_exchange_trigger(sentence) or context.other:
        return None
    if not (ukraine or _swap_of_ukraine(sentence, context)):
        return None
    if "us_russia_swap" in sentence.concepts:
        return None
    triggers = sentence.hits("swap_phrase", "exchange", "return")
    if _swap_of_another_conflict(sentence, triggers):
        return None
    objects = sentence.hits("captives", "war_captives", "bodies", "children")
    done = (
        sentence.hits("carried_out", "agreed")
        or _promised(sentence, triggers)
        or [hit for hit in triggers if analysis.words[hit.first] == "handed"]  # "handed the bodies back"
    )
    # ("ready to host a new meeting ... the humanitarian track, including prisoner exchanges": the meeting's)
    fresh = [hit for hit in sentence.hits("fresh") if _near([hit], triggers, _FRESH_WINDOW)]
    if fresh and not done:  # "the question of further exchanges", "the modalities of a further exchange"
        fresh = [hit for hit in fresh if analysis.words[hit.first] not in _FRESH_ONCE_DONE]
    doubted = _doubts_the_swap(analysis, sentence, triggers)
    threshold = analysis.rules.scores["exchange_threshold"]
    # a date close to publication is the most the sentence's dates can add: below the threshold even with
    # one, it asserts nothing, and its dates are not worth finding
    lead = _in_lead(analysis, sentence)
    if _swap_score(sentence, bool(done), True, doubted, lead) < threshold:
        return None
    dates = _dates_in(analysis, sentence, forward=("future" in sentence.concepts))
    recent = [
        m for m in dates if m.value is not None and analysis.published is not None
        and abs((m.value - analysis.published).days) <= 3
    ]  # fmt: skip
    # "the parties agreed a swap of 1,200 each", deep in the report of a round held today: its outcome, news
    # like the round (a date in the sentence other than recent makes it a look back)
    outcome = (
        round_is_news
        and not dates
        and _agreed_in_past(analysis, sentence)
        and not _names_another_month(analysis, sentence)
    )
    score = _swap_score(sentence, bool(done), bool(fresh or recent or outcome), doubted, lead)
    # the background only lowers the score, and a sentence below the threshold asserts nothing (nor are its
    # facts read): stop before the costly parts
    if score < threshold:
        return None
    if (
        (_is_background(analysis, sentence, dates) and not _cues_explained(analysis, sentence, dates, fresh))
        or inherited[sentence.index]
        or _deep_and_old(analysis, sentence, dates)
        or any(_counted_sessions(analysis, hit) for hit in sentence.hits("round", "meeting"))
        or (not (sentence.is_title or lead or recent) and _names_another_month(analysis, sentence))
        or _told_as_what_came_before(analysis, sentence, triggers)
    ):  # ("three rounds since May produced swaps but no ceasefire" is a recap; so, in December, is "an
        # exchange of 1,000 prisoners per side in May", told in the body)
        score -= 0.7
    if score < threshold:
        return None
    evidence = [(hit, None) for hit in (*triggers[:2], *objects[:1], *done[:1], *fresh[:1])]
    facts: dict[str, object] = {}
    counted = _count(analysis, sentence)
    staged = False
    if counted is not None:
        facts["count"] = counted[0]
        evidence.append(counted[1])
        text = analysis.sentence_text(sentence)
        # a larger per-side figure beside it is the whole swap's ("each freed 303 soldiers, completing the
        # exchange of 1,000 prisoners per side", "303 home as the 1,000-for-1,000 swap ends")
        totals = [_count_value(found, "a") for found in _PER_SIDE.finditer(text)] + [
            next((v for group in ("n", "m", "k") if (v := _count_value(found, group))), None)
            for found in _EACH.finditer(text)
        ]
        staged = any(total is not None and counted[0] < total for total in totals)
    dated = [mention for mention in dates if mention.value is not None]
    sessions = sentence.hits("round", "talks", "meeting")
    if dated and sessions:  # "the third round on 23 July ... the outcome was a swap": the round's day
        dated = [mention for mention in dated if not _nearer_to(analysis, mention, sessions, triggers)]
    if dated and _only_agreed(analysis, sentence, triggers) and analysis.published is not None:
        # a swap only agreed has not happened: a past day in its sentence is the agreement's ("the exchange
        # agreed in Istanbul on Monday"), a coming one its schedule
        dated = [mention for mention in dated if mention.value >= analysis.published]  # type: ignore[operator]
    spoken = False
    if dated:
        told = [mention for mention in dated if not mention.of_speech]
        day = _nearest(analysis, told or dated, triggers)
        facts["date"] = day.value.isoformat() if day.value else None
        evidence.append(((day.start, day.end), "fact.date"))
        spoken = day.of_speech
    return _Candidate(sentence, score, evidence, facts, staged=staged, spoken=spoken)


_BULLETS = ("-", "\u2022", "*", "\u2013", "\u2014")


def _told_as_what_came_before(analysis: _Analysis, sentence: _Sentence, triggers: Sequence[_Hit]) -> bool:
    """ "The Kremlin said no date had been set, days after the two countries carried out a prisoner exchange":
    every word of the swap sits in a clause of what came days before the news."""
    if not triggers:
        return False
    text = analysis.sentence_text(sentence)
    for hit in triggers:
        at = analysis.span(hit)[0] - sentence.start
        if _IN_A_CLAUSE_OF_DAYS_BEFORE.search(text, max(0, at - 90), at) is None:
            return False
    return True


_IN_A_CLAUSE_OF_DAYS_BEFORE = re.compile(
    r"\b(?:days|weeks|months|a\s+week|a\s+month|a\s+fortnight)\s+(?:after|since)\b[^,;:.]*$"
)


def _swap_of_another_conflict(sentence: _Sentence, triggers: Sequence[_Hit]) -> bool:
    """ "A day after the release of the last hostages from Gaza in exchange for 2,000 Palestinian prisoners,
    Trump turned to the war in Ukraine": the swap is told with the other conflict, before Ukraine or Russia
    is named."""
    others = sentence.hits("other_conflict")
    if not others or not triggers:
        return False
    named = sentence.hits("ukraine", "ukraine_topic", "russia")
    first_named = min((hit.first for hit in named), default=None)
    if first_named is None:
        return True
    return min(hit.first for hit in others) < first_named and all(hit.first < first_named for hit in triggers)


def _in_lead(analysis: _Analysis, sentence: _Sentence) -> bool:
    """The lead: the body's first two sentences, or a bullet of the summary that opens it ("Key takeaways:
    - each side will free 1,000 prisoners")."""
    if 0 <= sentence.body_index < 2:
        return True
    return 0 <= sentence.body_index < 6 and analysis.sentence_text(sentence).lstrip().startswith(_BULLETS)


def _swap_score(sentence: _Sentence, done: bool, new: bool, doubted: bool, lead: bool) -> float:
    """A swap sentence's score before its background: told as done, with something new (fresh, or dated
    close to publication), where in the item, doubted."""
    score = 0.45 + 0.25 * done + 0.2 * new
    score += 0.2 * sentence.is_title + 0.15 * lead
    if not (sentence.is_title or lead or new):
        score -= 0.25  # a swap told deep in the story without anything new: most likely a look back
    if not done and not sentence.is_title:
        score -= 0.2
    if doubted:
        score -= 0.6
    return score


# an English month named in the (lower-case) text; "may" only where it cannot be the verb
_MONTH_MENTION = re.compile(
    rf"\b(?P<month>{'|'.join(month for month in _ENGLISH_MONTHS if month != 'may')})\b"
    r"|\b(?:in|since|early|late|mid-?|of|until|from|last)\s+may\b|\bmay\s+\d"
)


def _names_another_month(analysis: _Analysis, sentence: _Sentence) -> bool:
    """A month other than the publication's named in the sentence ("in May the parties agreed a swap", told
    in July): a look back, though no day is given."""
    return any(
        _not_the_month_of_publication(analysis, found.group("month") or "may")
        for found in _MONTH_MENTION.finditer(analysis.sentence_text(sentence))
    )


def _agreed_in_past(analysis: _Analysis, sentence: _Sentence) -> bool:
    """The sentence tells a swap agreed: "the sides agreed an all-for-all swap", "agreed that a thousand
    prisoners from each side would be released"."""
    words = analysis.words
    triggers = sentence.hits("swap_phrase", "exchange", "return")
    return any(
        words[hit.first] == "agreed" and any(hit.last <= trigger.first for trigger in triggers)
        for hit in sentence.hits("agreed")
    )


def _only_agreed(analysis: _Analysis, sentence: _Sentence, triggers: Sequence[_Hit]) -> bool:
    """Whether the sentence tells a swap agreed or promised ("agreed to exchange", "will hand over") and not
    one carried out."""
    if sentence.hits("carried_out"):
        return False
    words = analysis.words
    agreed = [
        hit
        for hit in sentence.hits("agreed")
        if words[hit.first].startswith(("agree", "decid", "to", "will"))
    ]
    return bool(agreed or _promised(sentence, triggers))


def _promised(sentence: _Sentence, triggers: Sequence[_Hit]) -> list[_Hit]:
    """ "Will" just before the swap's verb ("Russia will also hand over 6,000 bodies"): a swap announced as
    settled, like one agreed. (Doubt near it still counts against it.)"""
    return [
        will
        for will in sentence.hits("future")
        if any(0 < trigger.first - will.first <= 3 for trigger in triggers)
    ]


_DEAL_NOUNS = frozenset(("agreement", "agreements", "deal"))
_FRESH_WINDOW = 15  # words between a swap and the "new", "latest" or "today" that makes it news
_DOUBT_WINDOW = 10  # words between a swap and the "proposed", "could" or "hope" that makes it uncertain


# nouns that name a body when it speaks ("the Bring Kids Back UA initiative said"), not a proposal
_BODIES_NAMED = frozenset(("initiative", "project", "platform", "campaign", "programme", "program"))


def _cues_explained(
    analysis: _Analysis, sentence: _Sentence, dates: Sequence[_DateMention], fresh: Sequence[_Hit]
) -> bool:
    """Whether a swap sentence's background cues belong to something else, and no date or year in it is
    old: all in the clause that places the agreement, after the swap's own words ("exchanged 900 each on
    Tuesday, as agreed at the talks in Geneva last month"), or all a "since" the swap is counted from with a
    fresh word by it ("another 390 came home today, the 70th exchange since the start of the invasion")."""
    cues = sentence.hits("background", "strong_background")
    if _dated_old(analysis, sentence, dates):
        return False
    words = analysis.words
    if fresh and cues and all(words[hit.first] == "since" for hit in cues):
        return True
    clause = _agreed_clause(analysis, sentence)
    triggers = sentence.hits("swap_phrase", "exchange", "return")
    return (
        clause is not None
        and bool(triggers)
        and min(hit.first for hit in triggers) < clause[0]
        and all(hit.first >= clause[0] for hit in cues)
    )


def _on_the_agenda(analysis: _Analysis, sentence: _Sentence, triggers: Sequence[_Hit]) -> bool:
    """Whether the swap is told as what an agenda includes ("the agenda should include ... a new exchange of
    prisoners", "with a prisoner exchange high on the agenda"): "agenda" a few words before or just after
    every trigger, nothing carried out in the sentence and no agreement next to the swap."""
    if analysis.norm.find("agenda", sentence.start, sentence.end) < 0:
        return False  # (most sentences: one search in C before any word is looked at)
    if not triggers or "carried_out" in sentence.concepts or _near(sentence.hits("agreed"), triggers, 3):
        return False
    words = analysis.words
    first = sentence.first_word
    last = sentence.last_word
    return all(
        "agenda" in words[max(first, hit.first - _AGENDA_WINDOW) : hit.first]
        or "agenda" in words[hit.last : min(last, hit.last + _AGENDA_AFTER)]
        for hit in triggers
    )


_AGENDA_WINDOW = 15  # words from "agenda" to the swap it lists ("should include a halt to ... and a swap")
_AGENDA_AFTER = 8  # words from the swap to the agenda it is on ("of prisoners of war high on the agenda")


_TOPIC_OF = frozenset(("on", "about", "over", "regarding", "concerning"))


def _topic_of_a_session(analysis: _Analysis, sentence: _Sentence, triggers: Sequence[_Hit]) -> bool:
    """Whether the swap is only what a session is about ("to meet the Russian side in Doha on the return of
    children tomorrow", "talks on prisoner exchanges"): every trigger follows the session's word and "on" or
    "about" stands just before it, and nothing in the sentence is agreed or done."""
    if not triggers or sentence.hits("agreed", "carried_out"):
        return False
    sessions = sentence.hits("meeting", "talks", "round")
    words = analysis.words
    return bool(sessions) and all(
        any(session.last <= trigger.first for session in sessions)
        and not _TOPIC_OF.isdisjoint(words[max(sentence.first_word, trigger.first - 2) : trigger.first])
        for trigger in triggers
    )


def _governed(hit: _Hit, doubts: Sequence[_Hit]) -> bool:
    """Whether a doubt stands just before the verb ("must first agree", "hope to agree")."""
    return any(0 <= hit.first - doubt.last <= 1 for doubt in doubts)


def _doubts_the_swap(analysis: _Analysis, sentence: _Sentence, triggers: Sequence[_Hit]) -> bool:
    """A proposal or doubt about the swap itself ("proposed an exchange", "the swap could take place"), not
    about something else in the sentence ("revived talk of a summit"); a swap called agreed stands."""
    words = analysis.words
    # (an initiative that speaks is a body, no proposal: "the Bring Kids Back UA initiative said")
    doubts = [
        hit
        for hit in sentence.hits("proposal", "tentative")
        if not (hit.last < len(words) and words[hit.last - 1] in _BODIES_NAMED and words[hit.last] in _SPEAKS)
    ]
    if _on_the_agenda(analysis, sentence, triggers) or _topic_of_a_session(analysis, sentence, triggers):
        return True  # "the agenda should include a new exchange", "talks on the return of children"
    if not doubts or not _near(doubts, triggers, _DOUBT_WINDOW):
        return False
    # (a verb that settles it: "agreement" can be the thing hoped for, "hoped for agreement on a new swap")
    # ("must first agree an exchange": the verb a doubt governs settles nothing)
    governed = {hit.first for hit in sentence.hits("concrete", "agreed") if _governed(hit, doubts)}
    settled = [
        hit
        for hit in sentence.hits("concrete", "agreed", "carried_out")
        if words[hit.first] not in _DEAL_NOUNS and hit.first not in governed
    ]
    if any(
        cue.last <= trigger.first
        and any(doubt.last <= cue.first for doubt in doubts)
        # (not "proposed that the delegations meet ... to discuss a prisoner swap": a doubt after the verb)
        and not any(cue.last <= doubt.first and doubt.last <= trigger.first for doubt in doubts)
        for cue in settled
        for trigger in triggers
    ):
        return False  # "proposes working groups, confirms the exchange": the doubt is the other thing's
    agreed = [
        hit
        for hit in sentence.hits("agreed")
        if not any(hit.first < trigger.last and trigger.first < hit.last for trigger in triggers)
        and hit.first not in governed
    ]
    if agreed and all(trigger.last <= doubt.first for doubt in doubts for trigger in triggers):
        # "agreed that a thousand prisoners would be released and that each would prepare a proposal": what
        # follows the swap is the other thing's doubt
        first = min(trigger.first for trigger in triggers)
        if any(hit.last <= first for hit in agreed):
            return False
    return not _near(agreed, triggers, 2)


def _round_is_news(analysis: _Analysis, new_round: DetectedEvent | None) -> bool:
    """Whether the item reports a round of talks as its news: one detected, dated (when it is) within days of
    publication."""
    if new_round is None:
        return False
    day = new_round.facts.get("date")
    if not isinstance(day, str) or analysis.published is None:
        return True
    return abs((date.fromisoformat(day) - analysis.published).days) <= 3


def _detect_exchange(
    analysis: _Analysis,
    contexts: list[_Context],
    inherited: _InheritedBackground,
    round_is_news: bool,
) -> DetectedEvent | None:
    """``round_is_news``: the item reports a round of talks held or under way now, whose outcome a swap
    agreed further down the item is."""
    # Ukraine a party somewhere in the item, and no US–Russia swap: "Russia's negotiator said ..." counts
    ukraine = not any(("us_russia_swap" in sentence.concepts) for sentence in analysis.sentences) and any(
        ("ukraine" in sentence.concepts) for sentence in analysis.sentences
    )
    candidates = [
        candidate
        for sentence, context in zip(analysis.sentences, contexts, strict=True)
        if not sentence.concepts.keys().isdisjoint(_EXCHANGE_TRIGGERS)
        and (candidate := _exchange_candidate(analysis, sentence, context, inherited, ukraine, round_is_news))
    ]
    threshold = analysis.rules.scores["exchange_threshold"]
    asserted = [candidate for candidate in candidates if candidate.score >= threshold]
    if not asserted:
        return None
    stage = next((candidate.facts["count"] for candidate in asserted if candidate.staged), None)
    if stage is not None:  # "Thousand-for-thousand exchange completed" over "303 each ..., completing it"
        for candidate in asserted:
            if "count" in candidate.facts:
                candidate.facts["count"] = stage
    if any("date" in candidate.facts and not candidate.spoken for candidate in asserted):
        # "The ministry said on Thursday ... The exchange was carried out on Wednesday": the swap's own day
        for candidate in asserted:
            if candidate.spoken:
                candidate.facts.pop("date", None)
    counts = {
        candidate.facts["count"] for candidate in asserted if isinstance(candidate.facts.get("count"), int)
    }
    halves = {count for count in counts if 2 * count in counts}
    if counts and not halves:
        # ("400 captives freed" over "the release of 400 prisoners of war, 200 from each side, in the first
        # stage of the exchange agreed last month": a sentence the swap's agreement puts in the background
        # may still give its per-side figure)
        halves = {count // 2 for count in counts if count % 2 == 0} & _per_side_figures(analysis)
    if halves:  # "exchange of 600 captives" in the headline, "300 from each side" in the lead: per side
        for candidate in asserted:
            if candidate.facts.get("count") in {2 * half for half in halves}:
                candidate.facts["count"] = candidate.facts["count"] // 2
    if not any("count" in candidate.facts for candidate in asserted):
        counted = _count_told_elsewhere(analysis, contexts, inherited)
        if counted is not None:
            best = max(asserted, key=lambda c: (c.sentence.is_title, c.score))
            best.facts["count"] = counted[0]
            best.evidence.append(counted[1])
    event = _event("EXCHANGE", asserted, analysis, ("count", "date"))
    return _dated_by_publication(analysis, event, asserted, "carried_out")


def _per_side_figures(analysis: _Analysis) -> set[int]:
    """The per-side figures ("200 from each side", "84 for 84") the headline's and the lead's swap sentences
    give (further down, such a figure is as likely an earlier swap's)."""
    figures = set()
    for sentence in analysis.sentences:
        if not _in_headline_or_lead(sentence) or not _has_exchange_trigger(sentence):
            continue
        text = analysis.sentence_text(sentence)
        for pattern, groups in ((_PER_SIDE, ("a",)), (_EACH, ("n", "m", "k"))):
            for found in pattern.finditer(text):
                figures.update(value for group in groups if (value := _count_value(found, group)) is not None)
    return figures


def _count_told_elsewhere(
    analysis: _Analysis, contexts: list[_Context], inherited: _InheritedBackground
) -> tuple[int, _Proof] | None:
    """The size of a swap that the sentences reporting it leave out, from the first sentence that does give
    it: a quote ("a large exchange of prisoners, 1,000 for 1,000"), a host's statement, the terms agreed
    ("the return of 6,000 bodies by each side"). Background sentences and other parties' swaps do not."""
    for sentence, context in zip(analysis.sentences, contexts, strict=True):
        if context.other or not _has_exchange_trigger(sentence) or "us_russia_swap" in sentence.concepts:
            continue
        if not sentence.hits("captives", "war_captives", "bodies", "children") and not sentence.hits(
            "swap_phrase"
        ):
            continue
        counted = _count(analysis, sentence)
        if counted is None:
            continue
        dates = _dates_in(analysis, sentence, forward=("future" in sentence.concepts))
        if (
            inherited[sentence.index]
            or _is_background(analysis, sentence, dates)
            or _deep_and_old(analysis, sentence, dates)
            or _doubts_the_swap(analysis, sentence, sentence.hits("swap_phrase", "exchange", "return"))
            # ("the last large exchange took place in February, when each side handed over 157")
            or (not sentence.is_title and _names_another_month(analysis, sentence))
        ):
            continue
        return counted
    return None


# --- DEADLINE ------------------------------------------------------------------------------------------

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60, "ninety": 90, "a": 1, "a couple of": 2,
}  # fmt: skip
_AMOUNT = (
    r"\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|twenty"
    r"|thirty|forty-five|forty|fifty|sixty|ninety|a couple of|a"
)
_UNIT = r"days?|weeks?|months?|hours?"
# the rest of a range, whose first number is the limit: "10 or 12 days", "10 to 12 days", "10-12 days"
_OR_MORE = r"(?:\s+(?:or|to)\s+\d{1,3}|-\d{1,3})?"
# a day of a month, as a time limit names it
_DAY_OF_MONTH = (
    rf"(?:(?:{_MONTH_NAMES})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?"  # "August 8", "Sept. 15"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTH_NAMES}))"  # "8 August", "15th of May"
)
# a year after a day or a month a time limit names ("by 31 March 2028", "the end of March, 2028")
_YEAR_AFTER = r"(?:,?\s+(?:19|20)\d\d\b)?"
# "midnight on", "24:00 Moscow time on", "23:59 on": the end of the day named next
_MIDNIGHT_TIME = r"(?:midnight|24:00|23:59|00:00)"
_MIDNIGHT = rf"{_MIDNIGHT_TIME}\s+(?:[a-z]+\s+time\s+)?(?:on\s+)?"
_LIMIT = re.compile(
    rf"\b(?:with)?in\s+(?:the\s+next\s+)?(?P<in_n>{_AMOUNT}){_OR_MORE}\s+(?P<in_unit>{_UNIT})\b"
    # ("within a day of taking office", "within 100 days of signing": counted from an event, not from now)
    r"(?!\s+(?:of|after)\s+(?!today\b|now\b)\w)"
    rf"|\b(?:(?:gave|give|gives|giving|given|grant(?:ed|s)?)\s+(?:\w+\s+){{0,3}}?"
    r"|(?:has|have|had)\s+(?:(?:only|just|now|still|got|left|another|a\s+further|exactly|about|around"
    r"|roughly)\s+){0,2})[\"'\u201c\u2018]?"
    rf"(?P<give_n>{_AMOUNT}){_OR_MORE}\s+(?P<give_unit>{_UNIT})\b"  # "10 or 12 days": the first
    rf"(?!\s+from\s+(?:today|now|{_WEEKDAYS})\b)"  # (a span "from Monday" is read by itself, below)
    rf"|\b(?:deadline|ultimatum|window)\s+(?:\w+\s+){{0,3}}?to\s+[\"'\u201c\u2018]?"
    rf"(?P<cut_n>{_AMOUNT}){_OR_MORE}\s+(?P<cut_unit>days?|weeks?)\b"  # "cut the deadline to"
    rf"|\b(?P<ahead_n>{_AMOUNT})\s+(?P<ahead_unit>days?|weeks?)\s+(?:before|ahead\s+of)\s+(?:\S+\s+){{0,5}}?"
    r"(?:deadline|expiry|ultimatum)\b"
    # ("Friday's deadline", "the Friday noon deadline"; not "on Wednesday extended his deadline")
    rf"|\b(?P<day_of>{_WEEKDAYS}|year-end|end-of-year|end-of-(?:{_ENGLISH_MONTH_NAMES})|{_DAY_OF_MONTH})"
    r"(?:'s)?\s+"
    rf"(?:(?!(?:his|her|its|their|the|a|an)\b|[\w-]+ed\b)[\w-]+\s+){{0,2}}?"
    r"(?:deadline|ultimatum|target)\b"
    # "Thursday is the deadline", "Friday will be the final deadline"
    rf"|\b(?P<day_is>{_WEEKDAYS})\s+(?:is|will\s+be)\s+(?:the|an?|his|their|its)\s+"
    r"(?:[\w\"'\u201c\u201d-]+\s+){0,2}?(?:deadline|ultimatum)\b"
    rf"|\b(?P<span_n>\d{{1,3}}|{_AMOUNT})[- ](?P<span_unit>days?|weeks?)"
    r"(?:[- ](?:deadline|ultimatum|window|grace)\b"
    # "the 50 days Trump gave Russia (on Monday)": a span told by who gave it (the day given, if any, after)
    # (its giver next: not "for 30 days and that he had given the military an order")
    r"|(?=\s+(?:that\s+|which\s+)?(?:(?!(?:and|but|or|that|which)\b)[\w'.-]+\s+){1,3}?"
    r"(?:gave|had\s+given|has\s+given|granted)\b))"
    rf"|\b(?P<hold>(?:two|three|\d)\s+or\s+(?:three|four|\d)\s+weeks)\b"
    rf"|\bvalid\s+for\s+(?P<valid_n>{_AMOUNT})\s+(?P<valid_unit>{_UNIT})\b"
    # "ten days from Tuesday", "10 days from today" (but "a halt for thirty days from Friday" is a length)
    rf"|(?<!for )\b(?P<from_n>{_AMOUNT}){_OR_MORE}\s+(?P<from_unit>days?|weeks?)\s+from\s+"
    rf"(?P<from_day>today|now|{_WEEKDAYS})\b"
    # "beyond 18 March, when the current arrangement lapses": that day
    rf"|\b(?P<when_day>{_DAY_OF_MONTH}),?\s+when\s+(?:the\s+|it\s+)?(?:[\w-]+\s+){{0,3}}?"
    r"(?:lapses|expires|ends|runs\s+out)\b"
    # a deal in force "extended for two more months": its new expiry
    # (the deadline named between: "extended the deadline for Russia's answer by two weeks")
    rf"|\bextended\s+(?:(?:the|its|his|her|their)\s+(?:[\w'-]+\s+){{0,10}}?)?(?:by|for)\s+"
    rf"(?:another\s+|a\s+further\s+)?(?P<ext_n>{_AMOUNT})\s+"
    rf"(?:more\s+|further\s+|additional\s+)?(?P<ext_unit>{_UNIT})\b"
    rf"|\b(?P<verb>by|until|till|before|no later than|expir(?:e[sd]?|y|ing)(?:\s+(?:on|at))?|ends?\s+on"
    rf"|ends?\s+at|ended\s+at(?=\s+{_MIDNIGHT_TIME})"
    rf"|r[au]ns?\s+out(?:\s+on|\s+at(?=\s+{_MIDNIGHT_TIME}))?|lapsed on"
    rf"|lapse[sd]?\s+at(?=\s+(?:{_MIDNIGHT_TIME}|the\s+end\s+of)\b)"  # "lapse at the end of the day"
    r"|ends?(?=\s+(?:today|tonight)\b)|cease[sd]?\s+to\s+be\s+valid(?:\s+on)?"  # "ends today"
    r"|(?:window|period|deadline)\s+(?:that|which)\s+(?:closes|shuts|ends)\s+on"  # "a window that closes on"
    # a ceasefire demanded by a day: "must begin on Monday, 12 May" (not "will begin": a truce's start)
    r"|must\s+(?:begin|start|take\s+effect)(?:\s+(?:on|by|from))?"
    # "called on Russia to accept a 30-day ceasefire starting on Monday": kept only after a demand
    r"|(?:starting|beginning)\s+(?:on|from)"
    rf"|lapses?(?:\s+on)?"
    rf"|passed(?:\s+on|\s+at(?=\s+{_MIDNIGHT_TIME}))?"  # "passed at midnight Friday"
    # a deadline moved: "moved forward to August 8", "pushes back Ukraine peace deadline to Sept. 15"
    rf"|(?:mov|bring|brought|pull|push|put)(?:e[sd]?|s|ed|ing)?\s+(?:forward|up|back)\s+(?:[\w'.-]+\s+){{0,4}}?to"
    rf"|shortened\s+to|extended\s+to"
    rf"|deadline(?:\s+(?:of|on|is|was|falls(?:\s+on)?|set\s+for))?"
    rf"|falls\s+on)\s+"
    rf"(?P<by>(?:the\s+)?(?:year-end|end-of-year|year's\s+end|year\s+is\s+out)"
    rf"|(?:the\s+)?(?:end|beginning|start|middle|close)\s+of\s+(?:the\s+)?(?:summer|spring|autumn|fall|winter)"
    rf"|(?:the\s+)?(?:end|beginning|start|middle|close)\s+of\s+(?:(?:{_MONTH_NAMES}){_YEAR_AFTER}"
    rf"|(?:the|this|next)\s+(?:month|year|week|day)|(?:19|20)\d\d)"
    # "until the end of Saturday", "the end of 10 May": that day
    rf"|(?:the\s+)?end\s+of\s+(?:{_WEEKDAYS}|{_DAY_OF_MONTH}|today)"
    rf"|mid-?\s?(?:{_MONTH_NAMES})"
    rf"|(?:{_MIDNIGHT})?{_DAY_OF_MONTH}{_YEAR_AFTER}"
    rf"|(?:{_MIDNIGHT})?(?:(?:next|this|coming)\s+)?(?:{_WEEKDAYS})(?:\s+midnight)?|midnight|tomorrow|tonight"
    r"|today(?!['\u2019]s)"  # "expires today" (not "before today's session")
    rf"|thanksgiving|christmas\s+eve|christmas|new\s+year'?s?\s+eve|new year|(?:orthodox\s+)?easter"
    rf"|(?:{_MONTH_NAMES}))\b"
)


def _limits(analysis: _Analysis, sentence: _Sentence) -> list[re.Match[str]]:
    """The sentence's time limits (remembered: relevance and DEADLINE both ask)."""
    if sentence.limits is None:
        found = (
            _scan(analysis, sentence, _LIMIT, _LIMIT_OPENERS, ())
            if _may_name(analysis, sentence, _LIMIT_HINTS)
            else []
        )
        sentence.limits = [
            limit for limit in found if not _looked_back_over(limit) and not _an_undemanded_start(limit)
        ]
    return sentence.limits


def _an_undemanded_start(limit: re.Match[str]) -> bool:
    """Whether a limit is a truce's start ("a ceasefire starting on Monday") that no one demands: the start of
    a truce is no deadline, but one demanded by a day is ("called on Russia to accept ... starting on
    Monday")."""
    verb = limit.group("verb") or ""
    return verb.startswith(("starting", "beginning")) and (
        _DEMANDED_BEFORE.search(limit.string, 0, limit.start()) is None
    )


_DEMANDED_BEFORE = re.compile(r"\b(?:called\s+on|calls\s+on|demand(?:s|ed)?|urged|insisted|must)\b")


def _looked_back_over(limit: re.Match[str]) -> bool:
    """ "The first exchange in five months", "the biggest strike in weeks": a span looked back over, not
    one ahead; "five days after the end-of-May target": a time limit the news is measured from."""
    if limit.group("day_of") is not None:
        return _AFTER_BEFORE.search(limit.string, max(0, limit.start() - 20), limit.start()) is not None
    # ("the delegations agreed this exchange in two days": how long it took, not a limit ahead)
    return limit.group("in_n") is not None and (
        _SUPERLATIVE_BEFORE.search(limit.string, max(0, limit.start() - 40), limit.start()) is not None
        or (
            _TOOK_BEFORE.search(limit.string, max(0, limit.start() - 50), limit.start()) is not None
            # ("tariffs unless a deal was reached within 50 days": reported speech of a condition ahead)
            and _CONDITION_BEFORE.search(limit.string, max(0, limit.start() - 60), limit.start()) is None
        )
    )


_TOOK_BEFORE = re.compile(  # (not "unless a deal is reached within 50 days": a condition ahead)
    r"(?<!\bis )(?<!\bare )(?<!\bbe )(?<!\bbeen )"
    r"\b(?:agreed|negotiated|reached|struck|sealed|completed|finished|built|drafted|written|arranged"
    r"|organi[sz]ed|prepared|hammered\s+out|put\s+together)"
    r"(?:\s+(?!to\b|would\b|will\b|must\b)[\w'-]+){0,3}\s+$"
)
# a condition the span follows, whatever its tense ("unless a deal was reached within 50 days")
_CONDITION_BEFORE = re.compile(r"\b(?:unless|if|provided)\b[^.;:]*$")
_AFTER_BEFORE = re.compile(r"\b(?:after|since)\s+(?:the\s+|an?\s+)?$")


_SUPERLATIVE_BEFORE = re.compile(
    r"\b(?:first|the\s+only|\w+iest|biggest|largest|lowest|highest|worst|best|longest|shortest|strongest"
    r"|weakest|smallest|fiercest|greatest|most|least)\s+(?:[\w-]+\s+){0,2}$"
)


# the words a _LIMIT match can begin with, besides words that begin with a digit
_LIMIT_OPENERS = frozenset((
    "in", "within", "gave", "give", "gives", "giving", "given", "grant", "granted", "grants", "has", "have",
    "had", "valid", "by", "until", "till", "before", "no", "expire", "expires", "expired", "expiry",
    "expiring", "end", "ends", "ended", "extended", "run", "runs", "ran", "lapsed", "lapse", "lapses",
    "passed", "deadline", "must", "cease", "ceases", "ceased", "starting", "beginning",
    "falls", "year", "move", "moves", "moved", "bring", "brings", "brought", "pull", "pulls", "pulled",
    "push", "pushes", "pushed", "put", "puts", "shortened",
    "ultimatum", "window", "period", *_WEEKDAYS.split("|"),
    *(amount.split("-")[0].split()[0] for amount in _AMOUNT.split("|")[1:]),
    # "July 17, when its current term ends", "the July 17 deadline" (a day written month first)
    *_ENGLISH_MONTH_NAMES.split("|"),
))  # fmt: skip

# every _LIMIT match has a unit of time or one of these words
_LIMIT_HINTS = frozenset((
    "day", "days", "week", "weeks", "month", "months", "hour", "hours", "by", "until", "till", "before",
    "later", "expire", "expires", "expired", "expiry", "expiring", "end", "ends", "run", "runs", "ran",
    "lapsed", "lapse", "lapses", "deadline", "falls", "ultimatum", "target", "year-end", "end-of-year",
    "ended", "forward",
    "back", "shortened", "extended", "must", "cease", "ceases", "ceased", "closes", "shuts", "starting",
    "beginning",
))  # fmt: skip


_LENGTH_ONLY = re.compile(r"\b\d{1,3}[- ]days?[- ](?:ceasefire|truce|pause|moratorium)")


def _holiday(name: str, base: date) -> date | None:
    """Holidays dateparser does not know, the next one on or after ``base``."""
    for year in (base.year, base.year + 1):
        if name == "christmas":
            moment = date(year, 12, 25)
        elif name == "christmas eve":
            moment = date(year, 12, 24)
        elif name in ("new year's eve", "new year s eve"):
            moment = date(year, 12, 31)
        elif name == "new year":
            moment = date(year + 1, 1, 1) if year == base.year else date(year, 1, 1)
        elif name == "thanksgiving":  # the fourth Thursday of November (US)
            first = date(year, 11, 1)
            moment = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
        elif name in ("easter", "orthodox easter"):  # the Orthodox Easter Sunday both Russia and Ukraine keep
            moment = easter(year, EASTER_ORTHODOX)
        else:
            return None
        if moment >= base:
            return moment
    return None


def _month_part(
    part: str, month_name: str, base: date, just_past: bool = False, year: int | None = None
) -> date | None:
    """ "the end/beginning/middle of August" → the last/first/15th day of that month, this year unless
    it is already past (said in August, "the end of August" is this one; with ``just_past``, a limit told
    as passed, so is the month before: "the end-of-May target has passed", said on 1 June); a ``year``
    named ("the end of March 2028") is that year."""
    month = _parse_date(month_name, _NEUTRAL_BASE, "current_period")
    if month is None:
        return None
    first = date(year or base.year, month.month, 1)
    if year is None and first < _months_after(base.replace(day=1), -1 if just_past else 0):
        first = first.replace(year=first.year + 1)
    if part in ("beginning", "start"):
        return first
    if part in ("middle", "mid"):
        return first.replace(day=15)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _amount(text: str) -> int | None:
    return int(text) if text.isdigit() else _NUMBER_WORDS.get(text)


def _deadline_fact(found: re.Match[str], base: date | None, given_on: date | None = None) -> object | None:
    """An ISO date where it can be computed, else the stated span ("50 days"). ``given_on``: the day the
    sentence says a span was given ("on 29 July he gave Russia ten days"), which it counts from."""
    groups = found.groupdict()
    if groups.get("from_n") and base is not None:  # "ten days from Tuesday": from the last Tuesday
        amount = _amount(groups["from_n"])
        if amount is None:
            return None
        day = groups["from_day"]
        said_on = given_on or base  # ("today" is the day it was said)
        start = said_on if day in ("today", "now") else _weekday_from(day, said_on + timedelta(days=1), False)
        return (start + _span(amount, groups["from_unit"])).isoformat()
    if groups.get("day_is"):  # "Thursday is the deadline": the coming one
        return _deadline_date(groups["day_is"], base, True) if base is not None else groups["day_is"]
    if groups.get("day_of"):  # "Friday's deadline", "the year-end target"
        if base is None:
            return _undated_deadline(groups["day_of"])
        after = found.string[found.end() : found.end() + 90]
        before = found.string[max(0, found.start() - 40) : found.start()]
        way: bool | None = None  # a date: the nearest
        if _PASSED.match(after) or _TOLD_AS_PAST.match(after) or _PASSED_BEFORE.search(before):
            way = False  # "Monday's deadline passed", "since Monday's deadline"
        elif groups["day_of"] in _WEEKDAY_INDEX or _NEARS.match(after):
            # a weekday's deadline told as no past is still to come: "sets Monday deadline", "ahead of
            # Monday's deadline" (the Monday two days gone would be told as passed)
            way = True
        return _deadline_date(groups["day_of"], base, way)
    for number_key, unit_key, computable in (
        ("in_n", "in_unit", True),
        ("give_n", "give_unit", True),
        ("valid_n", "valid_unit", True),
        ("ahead_n", "ahead_unit", True),  # "two days before the deadline": said that day
        ("cut_n", "cut_unit", True),
        ("ext_n", "ext_unit", True),
        ("span_n", "span_unit", given_on is not None),  # ("the 50-day ultimatum set on 14 July")
    ):
        if groups.get(number_key):
            amount = _amount(groups[number_key])
            unit = groups[unit_key].rstrip("s")
            if amount is None:
                return None
            if computable and base is not None and unit in ("day", "week"):
                given = given_on or base - _days_ago(found.string[: found.start()])
                return (given + _span(amount, unit)).isoformat()
            if computable and base is not None and unit == "month" and amount <= 24:
                return _months_after(base, amount).isoformat()
            return f"{amount} {unit}s" if amount != 1 else f"1 {unit}"
    if groups.get("hold"):
        return groups["hold"]
    if groups.get("when_day"):
        return (
            _deadline_date(groups["when_day"], base)
            if base is not None
            else _undated_deadline(groups["when_day"])
        )
    by = groups.get("by")
    if not by:
        return by
    if base is None:
        return _undated_deadline(by)
    if (
        by.endswith("end of the day")
        and (named := _ON_THE_DAY.match(found.string, found.end())) is not None
        and (day := named.group("date") or named.group("weekday"))
    ):
        by = day  # "until the end of the day on Friday, Jan. 1": that day
    if by in _WEEKDAY_INDEX and (dated := _WEEKDAY_DATED.match(found.string, found.end())) is not None:
        by = dated.group("date")  # "until Monday, July 6": the date says which Monday
    elif by in _WEEKDAY_INDEX and _OF_NEXT_WEEK.match(found.string, found.end()):
        # "until Friday of next week": that week's Friday
        return (base + timedelta(days=7 - base.weekday() + _WEEKDAY_INDEX[by])).isoformat()
    way = _weekday_way(groups.get("verb") or "")
    if way and _PASSED.match(found.string, found.end(), found.end() + 90):
        way = False  # "by the end of May has passed"
    elif way and _EXPIRY_OF.search(found.string, max(0, found.start() - 60), found.start()):
        way = None  # "the expiry of its deadline on Friday": as "its expiry on Friday", the nearest one
    return _deadline_date(by, base, way)


_EXPIRY_OF = re.compile(
    r"\b(?:expiry|expiration|lapse|lapsing|passing)\s+of\s+(?:(?:the|its|his|their|this|that)\s+)?"
    r"(?:[\w'-]+\s+){0,2}$"
)
_OF_NEXT_WEEK = re.compile(r"\s+(?:of\s+)?next\s+week\b")
_ON_THE_DAY = re.compile(
    rf"\s+on\s+(?:(?P<weekday>{_WEEKDAYS})\b,?\s*)?(?:the\s+)?(?P<date>{_DAY_OF_MONTH})?"
)
_WEEKDAY_DATED = re.compile(rf",?\s+(?:the\s+)?(?P<date>{_DAY_OF_MONTH})\b")


_DAY_AND_MONTH = re.compile(_DAY_OF_MONTH)


def _span(amount: int, unit: str) -> timedelta:
    """ "10 days", "two weeks" as a timedelta (``unit``: day(s) or week(s))."""
    return timedelta(days=amount * (7 if unit.startswith("week") else 1))


def _months_after(base: date, months: int) -> date:
    """The same day ``months`` later (the month's last day where it is shorter: 31 March + 1 → 30 April)."""
    index = base.month - 1 + months
    year, month = base.year + index // 12, index % 12 + 1
    return date(year, month, min(base.day, calendar.monthrange(year, month)[1]))


_AGO = re.compile(_DAYS_AFTER_TEXT + r"(?:after|since)\s+(?:[\w'-]+\s+){0,6}$")


def _days_ago(before: str) -> timedelta:
    """ "a week after Trump gave Moscow 50 days": the span was given that long before publication."""
    found = _AGO.search(before[-80:])
    if found is None:
        return timedelta()
    return _span(_amount(found.group("n")) or 0, found.group("unit"))


# what follows "Friday's deadline ...": it is over (the last Friday), or still to come (the next one)
_PASSED = re.compile(r"\s*(?:[\w-]+\s+){0,8}?(?:passed|expired|lapsed|ran out|came and went|missed)\b")
_NEARS = re.compile(r"\s*(?:[\w-]+\s+){0,8}?(?:nears|looms|approaches|is approaching|will)\b")
# what comes before it: "since Monday's deadline", "let Monday's deadline (pass)": the last Monday
_PASSED_BEFORE = re.compile(
    r"\b(?:after|since|following|past|beyond|missed|ignored|defied|let)\s+(?:the\s+)?$"
)
_TOLD_AS_PAST = re.compile(r"\s*(?:was|were|had)\b")  # "Friday's deadline was meant to bring tariffs"


def _weekday_way(verb: str) -> bool | None:
    """Which weekday a time limit's verb points at: "expired on Monday" the last one, "its expiry on Monday"
    the nearest (None), "by Friday" and "expires on Monday" the next one (True)."""
    word = verb.split()[0] if verb else ""
    if word in ("expired", "ended", "ran", "lapsed", "passed"):
        return False
    return None if word == "expiry" else True


_PART_OF_YEAR = {"end": (12, 31), "close": (12, 31), "beginning": (1, 1), "start": (1, 1), "middle": (7, 1)}
_PART_OF_PERIOD = re.compile(r"(end|close|beginning|start|middle) of (the|this|next) (year|month|week|day)")


def _part_of_period(part: str, which: str, unit: str, base: date) -> date:
    """ "the end of the month", "the beginning of next week": that day of this (or the next) period."""
    ahead = 1 if which == "next" else 0
    if unit == "day":
        return base + timedelta(days=ahead)
    if unit == "week":  # Monday to Sunday
        monday = base - timedelta(days=base.weekday() - 7 * ahead)
        return monday + timedelta(days={"beginning": 0, "start": 0, "middle": 3}.get(part, 6))
    if unit == "month":
        first = _months_after(base.replace(day=1), ahead)
        last = calendar.monthrange(first.year, first.month)[1]
        return first.replace(day={"beginning": 1, "start": 1, "middle": 15}.get(part, last))
    month, day = _PART_OF_YEAR[part]
    return date(base.year + ahead, month, day)


_SEASON_PART = re.compile(
    r"(end|beginning|start|middle|close)\s+of\s+(?:the\s+)?(summer|spring|autumn|fall|winter)"
)
_SEASON_MONTHS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 14)}


def _undated_deadline(stated: str) -> str:
    """A deadline an item without a publication date states: its ISO date when it names its year ("by 1
    September 2031"), else as stated ("Friday" says nothing without the day it was said)."""
    if _STATES_A_YEAR.search(stated) is None:
        return stated
    return _deadline_date(stated, _NEUTRAL_BASE, None) or stated


def _deadline_date(by: str, base: date, forward: bool | None = True) -> str | None:
    by = re.sub(r"^the\s+", "", by)
    if by.startswith("end-of-") and by != "end-of-year":
        by = by.replace("-", " ")  # "the end-of-May target"
    if by.startswith("end of ") and not by.startswith("end of the "):
        day = by.removeprefix("end of ")
        if day in _WEEKDAY_INDEX or day == "today" or _DAY_AND_MONTH.fullmatch(day):
            by = day  # "the end of Saturday" is Saturday
    season = _SEASON_PART.fullmatch(by)
    if season is not None:  # "by the start of summer": its first month's first day
        kind, name = season.groups()
        first, last = _SEASON_MONTHS[name]
        month = first if kind in ("beginning", "start") else last if kind in ("end", "close") else first + 1
        moment = _month_part(kind if kind != "close" else "end", _ENGLISH_MONTHS[(month - 1) % 12], base)
        return moment.isoformat() if moment else None
    part = re.match(
        rf"(end|beginning|start|middle|close)\s+of\s+({_MONTH_NAMES})(?:,?\s+((?:19|20)\d\d))?$"
        rf"|mid-?\s?({_MONTH_NAMES})$",
        by,
    )
    if part:
        kind = part.group(1) or "mid"
        moment = _month_part(
            "end" if kind == "close" else kind,
            part.group(2) or part.group(4),
            base,
            just_past=forward is False,
            year=int(part.group(3)) if part.group(3) else None,
        )
        return moment.isoformat() if moment else None
    if by in ("year-end", "end-of-year", "year's end", "year is out"):
        return date(base.year, 12, 31).isoformat()
    of_year = re.fullmatch(r"(end|close|beginning|start|middle) of ((?:19|20)\d\d)", by)
    if of_year:  # "by the end of 2019"
        month, day = _PART_OF_YEAR[of_year.group(1)]
        return date(int(of_year.group(2)), month, day).isoformat()
    of_period = _PART_OF_PERIOD.fullmatch(by)
    if of_period:  # "the end of the month", "the beginning of next week"
        part, which, unit = of_period.groups()
        moment = _part_of_period(part, which, unit, base)
        if moment < base:  # "by the beginning of the month", said on the 23rd: the next one
            moment = _part_of_period(part, "next", unit, base)
        return moment.isoformat()
    holiday = _holiday(by, base)
    if holiday is not None:
        return holiday.isoformat()
    if by.startswith("00:00"):  # "until 00:00 on Monday": the end of Sunday
        moment = _deadline_date(by.replace("00:00", "midnight", 1), base, forward)
        return (date.fromisoformat(moment) - timedelta(days=1)).isoformat() if moment else None
    cleaned = re.sub(
        r"\bmidnight\b|\b24:00\b|\b23:59\b|\b[a-z]+\s+time\b|\bon\b|^(?:next|this|coming)\b", " ", by
    ).strip()
    if cleaned == "tomorrow":
        return (base + timedelta(days=1)).isoformat()
    if cleaned in ("tonight", "today", ""):
        return base.isoformat()
    if cleaned in _WEEKDAY_INDEX:
        if _WEEKDAY_INDEX[cleaned] == base.weekday() and not by.startswith("next"):
            return base.isoformat()  # "expires at midnight on Sunday", said on Sunday: today
        if forward is None:  # the nearest such day, before or after
            ahead, behind = _weekday_from(cleaned, base, True), _weekday_from(cleaned, base, False)
            moment = ahead if (ahead - base) <= (base - behind) else behind
        else:
            moment = _weekday_from(cleaned, base, forward=forward)
    elif _VAGUE_MONTH.fullmatch(cleaned):  # "by September": before it begins
        return _month_part("beginning", cleaned, base).isoformat()  # type: ignore[union-attr]
    else:
        # a day and month: the year nearest publication; after "expired on", not one months ahead
        moment = _resolve_date("md", cleaned, base, forward is not False)
    return moment.isoformat() if moment else None


_NEXT_SESSION = re.compile(
    r"\b(?:next|further|another|new|second|third|fourth|fifth|sixth)\s+(?:round|meeting|session|summit)\b"
)


def _deadline_candidate(
    analysis: _Analysis,
    sentence: _Sentence,
    context: _Context,
    inherited: _InheritedBackground,
    swap_target: bool = False,  # whether it may set a target date (_may_set_a_swap_target, a month's end)
) -> _Candidate | None:
    if (
        context.other
        or not (context.ukraine or context.russia)
        or ("tax" in sentence.concepts)
        # "a transit contract to replace the one expiring in December", "the New START treaty expires today"
        or ("gas_transit" in sentence.concepts)
        or ("arms_control" in sentence.concepts)
    ):
        return None
    words = sentence.hits("deadline")
    has_context = not sentence.concepts.keys().isdisjoint(_DEADLINE_CONTEXT)
    proposed_meeting = ("proposal" in sentence.concepts) and ("meeting" in sentence.concepts)
    if (
        not words
        and not has_context
        and not proposed_meeting
        and not swap_target
        and "mediator" not in sentence.concepts
    ):
        return None  # before the costly time-limit regex: most sentences stop here
    concepts = sentence.concepts
    if not words and not proposed_meeting and not swap_target:
        # what the time limits would not change below (without a proposed meeting there is no target, and
        # without a mediator no demand): stop before finding them
        if "threat" not in concepts and (("meeting" in concepts) or ("round" in concepts)):
            return None
        if "mediator" not in concepts and not any(
            (c in concepts) for c in ("threat", "ceasefire", "humanitarian", "agreed")
        ):
            return None
    text = analysis.sentence_text(sentence)
    limits = _limits(analysis, sentence)
    if not words and not limits:
        return None
    if not words and _LENGTH_ONLY.search(text) and not has_context:
        return None
    # a bare "until Tuesday" in talk of the talks is timing, not a time limit: that needs a threat, a
    # ceasefire or deal in force, or a mediator's "by Thanksgiving"; "meet again in two weeks" times a
    # session, but a meeting proposed "by the end of August" has a target date (the next session of the
    # talks proposed "before the end of June" is their timetable)
    target = (
        proposed_meeting
        and any(found.group().startswith(("by ", "before ", "no later than ", "within ")) for found in limits)
        and not _NEXT_SESSION.search(text)
    )
    if (
        not words
        and not target
        and "threat" not in sentence.concepts
        and (("meeting" in sentence.concepts) or ("round" in sentence.concepts))
    ):
        return None
    # "the exchange is to be completed by the end of August", "we want everyone home by 24 August": a swap's
    # target date
    if swap_target and any(_is_target(found) or _is_month_end_target(found) for found in limits):
        target = has_context = True
    demanded = target or (("mediator" in sentence.concepts) and any(_is_demand(found) for found in limits))
    if (
        not words
        and not demanded
        and not any((c in sentence.concepts) for c in ("threat", "ceasefire", "humanitarian", "agreed"))
    ):
        return None
    # (a meeting proposed by a date has a target date as plainly as a deadline word says one)
    score = 0.35 + 0.2 * has_context + 0.2 * bool(words or target or demanded) + 0.15 * sentence.is_title
    if ("proposal" in sentence.concepts) and "threat" not in sentence.concepts and not limits:
        score -= 0.3  # "awaiting proposals on deadlines": a timetable under discussion, not a time limit
    if "withdrawn" in sentence.concepts:
        score -= 1.0
    if (
        not words
        and ("proposal" in sentence.concepts)
        and ("ceasefire" in sentence.concepts)
        and "threat" not in sentence.concepts
        and limits
        and all(found.group().startswith("until") for found in limits)
    ):
        score -= 0.3  # "a proposal for a halt to strikes until the end of September": a truce's length
    # a stated time limit adds 0.1 and the rest only lowers the score: without that much, the sentence
    # cannot assert a deadline, so its facts (dates resolved by dateparser) are not worth reading
    threshold = analysis.rules.scores["deadline_threshold"]
    if score + 0.1 < threshold:
        return None
    evidence = [(hit, None) for hit in (*words[:1], *sentence.hits("threat")[:1])]
    facts: dict[str, object] = {}
    reckoned = False
    given_on = _day_given(analysis, sentence, limits)
    stated = [
        (found, value) for found in limits if (value := _deadline_fact(found, analysis.published, given_on))
    ]
    if stated:
        # a date wins over a span ("a two-week window ... would expire on 5 September"), and a date stated
        # over one counted ("gave Russia ten days, which means the deadline falls on 8 August")
        found, value = next(
            ((f, v) for f, v in stated if _is_iso_date(str(v)) and not _counted(f)),
            next(((f, v) for f, v in stated if _is_iso_date(str(v))), stated[0]),
        )
        facts["deadline"] = value
        reckoned = _counted(found) and given_on is None  # (counted from publication: may be a day off)
        shifted = _SHIFTED.search(text, found.end())
        if shifted is not None and _is_iso_date(str(value)) and not _counted(found):
            # "which was to expire on September 1, has been pushed back by two weeks"
            amount = _amount(shifted.group("n")) or 0
            sign = -1 if shifted.group("way") in ("forward", "up") else 1
            moved = date.fromisoformat(str(value)) + sign * _span(amount, shifted.group("unit"))
            facts["deadline"] = moved.isoformat()
        span = (sentence.start + found.start(), sentence.start + found.end())
        evidence.append((span, "fact.deadline"))
        score += 0.1
    old = (
        _is_old_deadline(facts.get("deadline"), analysis.published)
        or _lapsed_months_ago(analysis, text)
        or _TRUCE_OVER.search(text) is not None
        or _WOULD_HAVE_LAPSED.search(text) is not None
        or (_PAST_LAPSE.search(text) is not None and not _is_iso_date(str(facts.get("deadline"))))
        # "In July Donald Trump gave Moscow 50 days", told in March: counted from March it would be wrong
        or (reckoned and _given_months_ago(analysis, text))
        # "after Trump gave the Kremlin 50 days", told last week: counted from publication, it would be wrong
        or (
            reckoned
            and _deep_and_weeks_back(analysis, sentence, _dates_in(analysis, sentence, forward=False))
        )
    )
    if (
        old
        or ("strong_background" in sentence.concepts)
        or (inherited[sentence.index] and "deadline" not in facts)
    ):
        score -= 0.7
    elif (
        "background" in sentence.concepts and not _background_of_replaced(analysis, sentence, text)
    ) or _SUPERSEDED.search(text):
        score -= 0.3
    if not words and not demanded and "threat" not in sentence.concepts and _only_possible(text, limits):
        score -= 0.3  # "the lists may lead to a swap before Easter": a possibility, no time limit
    if score < threshold:
        return None
    return _Candidate(sentence, score, evidence, facts, reckoned=bool(stated) and reckoned)


_LAPSED = re.compile(
    r"\b(?:lapsed|expired|ran\s+out|ended)\s+(?:in|at\s+the\s+end\s+of|in\s+(?:early|mid|late)-?\s?)\s*"
    rf"(?P<month>{'|'.join(_ENGLISH_MONTHS)})\b(?!\s+\d)"
)


# ("may" the verb, not the month: "until 18 May")
_ONLY_POSSIBLE = re.compile(
    r"\b(?:might|could)\b|\bmay\s+(?:not\s+|well\s+|also\s+)?"
    r"(?:be|lead|come|happen|take|bring|follow|see|get|have|need|slip|result|produce|open)\b"
)


_POSSIBLE_WINDOW = 50  # characters before a time limit a "may" or "could" may stand


def _only_possible(text: str, limits: Sequence[re.Match[str]]) -> bool:
    """Whether every time limit follows a "may", "might" or "could" closely ("may lead to a swap before
    Easter")."""
    return bool(limits) and all(
        _ONLY_POSSIBLE.search(text, max(0, found.start() - _POSSIBLE_WINDOW), found.start())
        for found in limits
    )


# a stated deadline moved by a span: "pushed back by two weeks", "brought forward by three days"
_SHIFTED = re.compile(
    rf"\b(?:(?:pushed|put|moved|set)\s+(?P<way>back|forward|up)|(?P<later>extended|postponed|delayed))\s+by\s+"
    rf"(?P<n>{_AMOUNT})\s+(?P<unit>days?|weeks?)\b"
)


# "originally gave Russia 50 days", "the earlier deadline": a deadline since moved
def _background_of_replaced(analysis: _Analysis, sentence: _Sentence, text: str) -> bool:
    """Whether every look back in the sentence stands in an "instead of" or "rather than" clause: "10 to 12
    days instead of the 50 announced two weeks earlier" looks back at the limit it replaces, not this one."""
    clauses = [(found.start(), found.end()) for found in _REPLACED_CLAUSE.finditer(text)]
    if not clauses:
        return False
    for hit in sentence.hits("background"):
        start = analysis.span(hit)[0] - sentence.start
        if not any(first <= start < last for first, last in clauses):
            return False
    return True


# "instead of the 50 announced earlier", up to the clause's end
_REPLACED_CLAUSE = re.compile(r"\b(?:instead\s+of|rather\s+than)\b[^,;:]*")

_SUPERSEDED = re.compile(
    r"\b(?:originally|initially|original\s+(?:deadline|ultimatum)|(?:earlier|previous|old)\s+(?:deadline|ultimatum)"
    r"|superseded)\b"
)


# "The 50-day ultimatum would have run out today": a time limit since replaced, told as what might have been
_WOULD_HAVE_LAPSED = re.compile(
    r"\bwould\s+have\s+(?:run\s+out|expired|ended|lapsed|passed|been\s+the\s+(?:day|deadline))\b"
)


# "resumed strikes following a brief pause that was to last until Sunday": the truce and its end are over
_TRUCE_OVER = re.compile(
    r"\bresum(?:ed|ing)\b[^.;]{0,60}\b(?:after|following)\s+(?:a|an|the)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:pause|truce|ceasefire|moratorium|lull)\b"
)


# A time limit told as over: "the lapsed April deadline", "one expired American deadline", "since a
# moratorium lapsed" (the deadline word is an adjective of the past, or what has passed since): background
_PAST_LAPSE = _literal_led(
    re.compile(
        r"\b(?:the|an|one|its|their|that|this|last)\s+(?:[\w-]+\s+){0,2}?(?:lapsed|expired)\s+"
        r"(?:(?!(?:and|but|or|on|at|in|the|a|an|as|when|while)\b)[\w-]+\s+){0,2}?"
        r"(?:deadline|ultimatum|moratorium|truce|ceasefire|deal|agreement|grain\s+deal)s?\b"
        r"|\bsince\s+(?:the|a|an|its|their|that|this)\s+(?:[\w-]+\s+){0,3}?(?:lapsed|expired|ran\s+out)\b"
    )
)


_COUNTED_GROUPS = ("in_n", "give_n", "valid_n", "ahead_n", "cut_n", "ext_n", "from_n")
_GIVEN_WITHIN = 14  # days before publication a span may have been given on


def _counted(found: re.Match[str]) -> bool:
    """Whether a time limit is a span counted from a day ("in 50 days"), not a date stated."""
    return any(found.group(key) for key in _COUNTED_GROUPS)


def _day_given(analysis: _Analysis, sentence: _Sentence, limits: Sequence[re.Match[str]]) -> date | None:
    """The day a span was given, when the sentence states it before the span: "on 29 July he gave Russia
    ten days", "Speaking late on Tuesday, Trump said Russia had 10 days" (published on Wednesday)."""
    published = analysis.published
    spans = [found for found in limits if _counted(found) or found.group("span_n")]
    if published is None or not spans:
        return None
    first, first_end = spans[0].start(), spans[0].end()
    text = analysis.sentence_text(sentence)
    before = []
    for mention in _dates_in(analysis, sentence, forward=False):
        if mention.value is None or not 0 < (published - mention.value).days <= _GIVEN_WITHIN:
            continue
        start, end = mention.start - sentence.start, mention.end - sentence.start
        if start < first and _gives_on(text, start, end):
            before.append(mention.value)
        elif start >= first_end and _GIVEN_BETWEEN.fullmatch(text, first_end, start):
            return mention.value  # "the 50-day ultimatum that Trump announced on Monday"
    return before[-1] if before else None


# between a span and the day it was given: "ultimatum that Trump announced on Monday", "deadline set on 14
# July"
_GIVEN_BETWEEN = re.compile(
    r"\s+(?:(?:that|which)\s+)?(?:[\w.'-]+\s+){0,5}?(?:announced|set|issued|gave|given|imposed|declared)"
    r"\s+(?:(?!on\b|last\b)[\w.'-]+\s+){0,2}?(?:on\s+|last\s+)?"  # ("gave Russia on Monday")
)


# the day is the giving's: "speaking late on Tuesday, Trump said ...", "said on Tuesday", "said in Scotland
# on Monday", "on 29 July he gave" (not "Zelensky on Tuesday welcomed Trump's decision to give ...")
_SPOKEN_ON = re.compile(
    r"\b(?:speaking|said|says|told|announced|stated|declared)(?:\s+in\s+[\w-]+(?:\s+[\w-]+)?)?"
    r"(?:\s+(?:late|early|on|at))*\s+$"
)
_GIVEN_AFTER = re.compile(r"\W*(?:\w+\W+){0,2}?(?:gave|gives|set|has\s+given|granted|told|said)\b")


def _gives_on(text: str, start: int, end: int) -> bool:
    return _SPOKEN_ON.search(text, max(0, start - 30), start) is not None or (
        _GIVEN_AFTER.match(text, end) is not None
    )


def _given_months_ago(analysis: _Analysis, text: str) -> bool:
    """Whether a sentence tells a span given in another month than the publication's, or an earlier year:
    "In July Trump gave Moscow 50 days", "last summer Washington gave Russia ten days"."""
    return _told_months_ago(analysis, _GIVEN_IN.search(text)) or _told_months_ago(
        analysis, _GIVEN_THEN.search(text)
    )


# "Trump gave Russia fifty days in July": the month after the span
_GIVEN_THEN = re.compile(
    r"\b(?:gave|set|issued|imposed|granted)\b(?:\s+[\w'-]+){1,5}?\s+in\s+(?:early\s+|mid-?\s?|late\s+)?"
    rf"(?:(?P<month>{_ENGLISH_MONTH_NAMES})|(?P<year>20\d\d))\b"
)
_GIVEN_IN = re.compile(
    rf"\b(?:in\s+(?:early\s+|mid-?\s?|late\s+)?(?:(?P<month>{_ENGLISH_MONTH_NAMES})|(?P<year>20\d\d))"
    r"|last\s+(?:year|spring|summer|autumn|fall|winter))\b"
    r"(?:,?\s+[\w'-]+){0,4}?\s+(?:gave|set|issued|announced|imposed|granted)\b"
)


def _lapsed_months_ago(analysis: _Analysis, text: str) -> bool:
    """ "The moratorium, which lapsed in May" told in June: a deadline over weeks ago, background."""
    return _told_months_ago(analysis, _LAPSED.search(text))


def _told_months_ago(analysis: _Analysis, found: re.Match[str] | None) -> bool:
    """Whether a time a regex found (its "month", its "year", or neither: "last summer") is before the
    publication's month."""
    if found is None or analysis.published is None:
        return False
    groups = found.groupdict()
    if groups.get("month"):
        return _not_the_month_of_publication(analysis, groups["month"])
    if groups.get("year"):
        return int(groups["year"]) < analysis.published.year
    return True


_TO_COME = frozenset(("future", "tentative", "agreed", "carried_out"))


def _names_a_month_end_target(analysis: _Analysis, sentence: _Sentence) -> bool:
    """ "Complaints that an end-of-May target had been missed": a target with its date before it."""
    return _MONTH_END_TARGET.search(analysis.norm, sentence.start, sentence.end) is not None


_MONTH_END_TARGET = _literal_led(
    re.compile(rf"\bend\W+of\W+(?:{_ENGLISH_MONTH_NAMES})\W+(?:target|deadline|goal)\b")
)


def _is_month_end_target(found: re.Match[str]) -> bool:
    return (found.group("day_of") or "").startswith("end-of-")


def _may_set_a_swap_target(analysis: _Analysis, sentence: _Sentence) -> bool:
    """Whether the sentence may give a swap a date to be done by: it tells the swap or its people in words
    to come ("is to be completed", "will be freed", "want everyone home"), not in the past."""
    concepts = sentence.concepts
    if "past" in concepts or concepts.keys().isdisjoint(_TO_COME):
        return False
    if _has_exchange_trigger(sentence):
        return True
    return "home" in analysis.words[sentence.first_word : sentence.last_word] and (
        "return" in concepts or "exchange" in concepts or _swap_told_before(analysis, sentence)
    )


def _swap_told_before(analysis: _Analysis, sentence: _Sentence) -> bool:
    """Whether one of the two sentences before this one tells a swap ("We agreed on 300 for 300. ... We want
    everyone home by 24 August")."""
    first = max(0, sentence.index - 2)
    return any(_has_exchange_trigger(other) for other in analysis.sentences[first : sentence.index])


def _is_target(found: re.Match[str]) -> bool:
    """ "by the end of August", "no later than 24 August", "completed before the end of the month": a date
    something is to be done by ("a swap before Easter" is only its timing)."""
    if found.group().startswith(("by ", "no later than ")):
        return True
    return found.group().startswith("before ") and bool(
        _DONE_BEFORE.search(found.string, max(0, found.start() - _DONE_WINDOW), found.start())
    )


_DONE_WINDOW = 30  # characters before "before" that may say what is to be done
_DONE_BEFORE = re.compile(r"\b(?:complet\w*|finish\w*|done|over|home)\W+(?:\w+\W+)?$")


def _is_demand(found: re.Match[str]) -> bool:
    """ "by Thanksgiving", "no later than Friday", "within 100 days", "gave Kyiv a week", "Kyiv has until
    Thursday": a time limit set on someone."""
    if found.group("give_n") is not None or found.group().startswith(("by ", "no later than", "within ")):
        return True  # ("end the war within 100 days": a limit set on a goal)
    return (
        found.group().startswith("until ")
        and _HAS_BEFORE.search(found.string, max(0, found.start() - _HAS_WINDOW), found.start()) is not None
    )


_HAS_WINDOW = 40  # characters before "until" that may say who has the time ("has until")
# ("has until", "gave Kyiv until", "gave Russia and Ukraine until")
_HAS_BEFORE = re.compile(r"\b(?:has|have|had|given|gave|gives|giving)\s+(?:[\w'.-]+\s+){0,3}$")


def _is_old_deadline(value: object, published: date | None) -> bool:
    return _days_before(value, published) > _OLD_DEADLINE_DAYS


def _days_before(value: object, published: date | None) -> int:
    """How many days an ISO date (a fact's value) is before publication; 0 for anything else: a span, no
    date, or no publication date."""
    if not isinstance(value, str) or published is None or not _is_iso_date(value):
        return 0
    return (published - date.fromisoformat(value)).days


# A time limit that ran out more than this many days before publication is background ("the Easter truce,
# which ended at midnight on Sunday, is already forgotten", read on Thursday): the lapse is news the day it
# happens and the next, not in the week's analyses (7 before session 24: read halves' false DEADLINEs 15 -> 13
# at 3, none more right at 2; unread halves 42 -> 39, no true one lost)
_OLD_DEADLINE_DAYS = 3


def _detect_deadline(
    analysis: _Analysis, contexts: list[_Context], inherited: _InheritedBackground
) -> DetectedEvent | None:
    # (one search of the whole text, before any sentence's)
    month_end = _MONTH_END_TARGET.search(analysis.norm) is not None
    candidates = []
    for sentence, context in zip(analysis.sentences, contexts, strict=True):
        may_target = _may_set_a_swap_target(analysis, sentence) or (
            month_end and _names_a_month_end_target(analysis, sentence)
        )
        if may_target or not sentence.concepts.keys().isdisjoint(_DEADLINE_TRIGGERS):
            candidate = _deadline_candidate(analysis, sentence, context, inherited, may_target)
            if candidate is not None:
                candidates.append(candidate)
    threshold = analysis.rules.scores["deadline_threshold"]
    asserted = [candidate for candidate in candidates if candidate.score >= threshold]
    if asserted and analysis.sentences and analysis.sentences[0].is_title and _EXPLAINS.match(analysis.text):
        # (the headline, as classify reads it for _of_the_day, which then keeps only events of the day)
        # an opinion or explainer retells spans given weeks ago ("in 2025 Moscow was given 50 days"): counted
        # from its publication they are no day's news (but "Washington has given Moscow 50 days" is)
        asserted = [candidate for candidate in asserted if not _retold_span(analysis, candidate)]
    if asserted and any(
        ("withdrawn" in sentence.concepts) and ("deadline" in sentence.concepts)
        for sentence in analysis.sentences
    ):  # "Trump lets go of his deadline" over "he no longer had a deadline": what states no date of its own
        asserted = [candidate for candidate in asserted if "deadline" in candidate.facts]
    if asserted:
        # "There is no end-of-August deadline": the date a sentence denies is not asserted by another
        denied = _denied_deadlines(analysis)
        asserted = [candidate for candidate in asserted if candidate.facts.get("deadline") not in denied]
    if not asserted:
        return None
    _prefer_stated_dates(asserted, analysis.published)
    return _event("DEADLINE", asserted, analysis, ("deadline",))


def _retold_span(analysis: _Analysis, candidate: _Candidate) -> bool:
    """Whether a candidate's deadline is a span counted from publication ("50 days", or the date 50 days
    after it) that its sentence tells as given in the past."""
    value = candidate.facts.get("deadline")
    counted = candidate.reckoned or (value is not None and not _is_iso_date(str(value)))
    return counted and _GIVEN_IN_THE_PAST.search(analysis.sentence_text(candidate.sentence)) is not None


_GIVEN_IN_THE_PAST = re.compile(
    r"\b(?:gave|(?:was|were|had\s+been)\s+(?:given|told|set|offered)|had\s+given|ran\s+out|expired|lapsed"
    # ("since 2025 Washington has given Moscow deadlines of fifty days, ...": a record, not the news)
    r"|since\s+(?:\d{4}|last\s+year))\b"
)


# "no end-of-August deadline", "not setting a deadline", "never set a 1 September ultimatum"
_NO_DEADLINE = re.compile(
    r"(?<!\w)(?:no|not|never)\s+(?:(?:set|setting|give|giving|gave)\s+)?(?:[\w-]+\s+){0,3}?"
    r"(?:deadline|ultimatum)s?\b"
)


def _denied_deadlines(analysis: _Analysis) -> set[object]:
    """Deadlines named inside a denial of one: "there is no end-of-August deadline" (not "Moscow said it does
    not work with deadlines", of a deadline told in the same sentence)."""
    denied: set[object] = set()
    for sentence in analysis.sentences:
        if "deadline" not in sentence.concepts:
            continue
        denials = [m.span() for m in _NO_DEADLINE.finditer(analysis.sentence_text(sentence))]
        if not denials:
            continue
        limits = _limits(analysis, sentence)
        given_on = _day_given(analysis, sentence, limits)
        for found in limits:
            if any(start <= found.start() and found.end() <= end + 1 for start, end in denials):
                value = _deadline_fact(found, analysis.published, given_on)
                if value:
                    denied.add(value)
    return denied


def _prefer_stated_dates(asserted: list[_Candidate], published: date | None) -> None:
    """ "Gives Russia 10 days", published a day later, and "expires on August 8" in one item: the same
    deadline, and the date the item states is exact where a span counted from publication may be a day off
    (a headline's "10-day ultimatum", a span not counted, is that date too)."""
    stated = [
        date.fromisoformat(str(candidate.facts["deadline"]))
        for candidate in asserted
        if not candidate.reckoned and _is_iso_date(str(candidate.facts.get("deadline")))
    ]
    for candidate in asserted:
        value = str(candidate.facts.get("deadline"))
        span = _STATED_SPAN.fullmatch(value)
        if span is not None and published is not None and stated:
            reckoned = published + _span(int(span.group(1)), span.group(2))
        elif candidate.reckoned and _is_iso_date(value):
            reckoned = date.fromisoformat(value)
        else:
            continue
        close = [day for day in stated if abs((day - reckoned).days) <= 3]
        if close:
            candidate.facts["deadline"] = min(close, key=lambda day: abs((day - reckoned).days)).isoformat()


_STATED_SPAN = re.compile(r"(\d+) (days?|weeks?)")  # a span _deadline_fact could not count: "10 days"


# --- the public API ----------------------------------------------------------------------------------


def _as_date(published: datetime | date | None) -> date | None:
    if isinstance(published, datetime):
        return published.date()
    return published


def classify(title: str, summary: str, published: datetime | date | None, rules: RuleSet) -> Classification:
    """Relevance, events, facts and evidence for one text. Pure: same input, same output.

    Evidence offsets point into ``classified_text(title, summary)``.
    """
    title = title or ""
    text = classified_text(title, summary or "")
    title_end = len(title.strip()) if title.strip() else 0
    analysis = _analyse(_without_page_links(text, title_end), title_end, _as_date(published), rules)
    if analysis is None:
        return rules._rejected
    contexts = _contexts(analysis)
    score, evidence = _relevance(analysis, contexts)
    # a headline whose subject is a market ("Russian stocks give back Doha gains as talks end"): market news,
    # however much the talks moved it
    relevant = score >= rules.threshold and not _headed_by_markets(analysis)
    events = _detect_events(analysis, contexts) if relevant else ()
    if not events and score < rules.threshold + rules.scores["eventless_margin"]:
        relevant = False
    if events and _EXPLAINS.match(title):
        events = tuple(event for event in events if _of_the_day(event, analysis.published))
    return Classification(relevant, round(score, 3), events, _unique(evidence), rules.version)


def _of_the_day(event: DetectedEvent, published: date | None) -> bool:
    """Whether an event an explainer or opinion tells is the day's news: a time limit still to come, or a
    round or swap the text dates within days of publication (not one dated by the publication alone)."""
    day = event.facts.get("deadline") if event.type == "DEADLINE" else event.facts.get("date")
    if not isinstance(day, str):
        return False
    if event.type != "DEADLINE" and not any(proof.rule == "fact.date" for proof in event.evidence):
        return False
    try:
        moment = date.fromisoformat(day)
    except ValueError:
        return event.type == "DEADLINE"  # a span ("50 days"), counted from now
    if published is None:
        return False
    if event.type == "DEADLINE":
        return moment >= published
    return abs((moment - published).days) <= _NEWS_DAYS


_NEWS_DAYS = 3


# A headline that names the piece an explainer, an opinion or a fact check: it is about the talks, but the
# rounds, swaps and deadlines it tells are mostly the news' background, not its own (see _of_the_day)
_EXPLAINS = re.compile(
    r"\s*(?:explainer|factbox|fact[ -]?check|q\s*&\s*a|opinion|op-ed|editorial)"
    r"\s*[:|\u2014\u2013-]",
    re.IGNORECASE,
)


# A line of a web page that links to other stories ("Read also: ...", "Related: ...", "READ MORE ..."): a
# scraped article or a feed's full content carries them, and what they name is not what the item reports
# (another swap, an older round, a deadline from last month)
_PAGE_LINK = re.compile(
    r"^[^\w\n]*(?:"
    r"(?i:read (?:also|more|next)|also read|see also|related(?: (?:stories|articles|coverage|reading|news))?"
    r"|more on (?:this|the) (?:story|topic|subject)|recommended(?: for you)?|further reading|editor'?s picks?"
    r"|you (?:may|might) also (?:like|be interested in)|most (?:read|popular|viewed))"
    r"\s*(?::|\||»|›|>>?|—|–|-(?=\s))"
    r"|(?:READ (?:ALSO|MORE|NEXT)|ALSO READ|SEE ALSO|RELATED)\s(?=\S)"
    r")[^\n]*",
    re.MULTILINE,
)


def _without_page_links(text: str, title_end: int) -> str:
    """The text with the body's links to other stories blanked (spaces of the same length: evidence offsets
    still point into the text as it was)."""
    if "\n" not in text:
        return text
    # _PAGE_LINK.sub(_blank, body), with the regex tried only where a line starts (where its ^ can match):
    # the engine would try it at every character. Its matches are never empty.
    body = text[title_end:]
    match = _PAGE_LINK.match
    pieces: list[str] = []
    done = line = 0  # where the text after the last match starts; where the line tried starts
    while True:
        if line >= done:
            found = match(body, line)
            if found is not None:
                start, end = found.span()
                pieces += (body[done:start], " " * (end - start))  # (what _blank made of it)
                done = end
        newline = body.find("\n", line)
        if newline < 0:
            break
        line = newline + 1
    return text if not pieces else text[:title_end] + "".join(pieces) + body[done:]


def _detect_events(analysis: _Analysis, contexts: list[_Context]) -> tuple[DetectedEvent, ...]:
    """The events a relevant item reports, in NEW_ROUND, EXCHANGE, DEADLINE order."""
    inherited = _InheritedBackground(analysis)
    new_round = _detect_new_round(analysis, contexts, inherited)
    exchange = _detect_exchange(analysis, contexts, inherited, _round_is_news(analysis, new_round))
    deadline = _detect_deadline(analysis, contexts, inherited)
    return tuple(
        event
        for event in (new_round, exchange, deadline)
        if event is not None and not _long_past(event, analysis.published)
    )


def _long_past(event: DetectedEvent, published: date | None) -> bool:
    """Whether a round or swap is dated more than _LONG_PAST_DAYS before publication: a look back (LABELS:
    past rounds, an old swap), however its sentence tells it."""
    return event.type != "DEADLINE" and _days_before(event.facts.get("date"), published) > _LONG_PAST_DAYS


# (read halves in session 24: NEW_ROUND FP 31 -> 29 and EXCHANGE FP 18 -> 17 at 7 days, no true event lost;
# at 5 days true ones go; the unread halves did not move)
_LONG_PAST_DAYS = 7


def item_text_parts(item: Item) -> tuple[str, str]:
    """The title and the body classify_item reads: the summary, and the content when it adds to it."""
    summary = item.summary or ""
    content = item.content or ""
    if not content.strip() or content.strip() == summary.strip():
        return item.title, summary
    if summary.strip() and summary.strip()[:200] in content:
        return item.title, content  # the content repeats the summary: read it once
    return item.title, f"{summary}\n\n{content}" if summary.strip() else content


def classify_item(item: Item, rules: RuleSet) -> Classification:
    title, body = item_text_parts(item)
    return classify(title, body, item.published, rules)


def item_facts(classification: Classification) -> dict[str, object]:
    """The facts of all events merged, as a labelled corpus states them per item (NEW_ROUND's date wins)."""
    merged: dict[str, object] = {}
    for event_type in EVENT_TYPES:
        for event in classification.events:
            if event.type == event_type:
                for key, value in event.facts.items():
                    merged.setdefault(key, value)
    return merged


def _evidence_dict(evidence: Evidence) -> dict[str, object]:
    return {"rule": evidence.rule, "start": evidence.start, "end": evidence.end, "text": evidence.text}


def classification_to_dict(classification: Classification) -> dict[str, object]:
    """A JSON-serialisable form (for storage and ``--json``)."""
    return {
        "relevant": classification.relevant,
        "score": classification.score,
        "rules_version": classification.rules_version,
        "events": [
            {
                "type": event.type,
                "score": event.score,
                "facts": dict(event.facts),
                "evidence": [_evidence_dict(evidence) for evidence in event.evidence],
            }
            for event in classification.events
        ],
        "evidence": [_evidence_dict(evidence) for evidence in classification.evidence],
    }
