"""aggregator.worker: the hostile-markup scans find what the plain regexes they replaced find."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from aggregator.models import RawEntry
from aggregator.worker import has_control_character, has_event_handler, has_unsafe_link, hostile_markup

# The definitions: correct, but they try every position (and the first backtracks over every tag).
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
UNSAFE_LINK = re.compile(r"(?:javascript|vbscript|data)\s*:", re.IGNORECASE)
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@given(st.text(alphabet="<> \t\nonONclickCx=a\"'/", max_size=60))
@example(" ONC=<<")  # an attribute at the second character, a "<" only after it (found by hypothesis in CI)
@settings(max_examples=3000)
def test_the_event_handler_scan_finds_what_the_regex_finds(text: str) -> None:
    assert has_event_handler(text.lower()) == bool(EVENT_HANDLER.search(text))


@given(st.text(alphabet=': \t\njavascriptJAVAvbSCRIPTdatDAT"x', max_size=40))
@settings(max_examples=3000)
def test_the_unsafe_link_scan_finds_what_the_regex_finds(text: str) -> None:
    assert has_unsafe_link(text.lower()) == bool(UNSAFE_LINK.search(text))


@given(
    st.text(
        alphabet=st.characters(max_codepoint=0x2FF) | st.sampled_from("\u0080\u009f\ud800😀"), max_size=30
    )
)
@example("\x7f")
@example("\ud800\x1b")
@settings(max_examples=3000)
def test_the_control_character_scan_finds_what_the_regex_finds(text: str) -> None:
    assert has_control_character(text) == bool(CONTROL.search(text))


def test_event_handlers_inside_tags_and_not_in_prose() -> None:
    assert has_event_handler('<img src="x" onerror="alert(1)">')
    assert has_event_handler("<a\nhref=x\tonclick = 'go()'>")
    assert has_event_handler('<p>text</p><div class="c" onmouseover=x>')
    assert not has_event_handler("talks resume on monday = good news")  # no tag open
    assert not has_event_handler('<p class="x">they met on friday</p> onload=1')  # the tag closed before
    assert not has_event_handler("< onload=1")  # "[^>]+" needs a character between "<" and the space
    assert not has_event_handler('<img src="x"onerror=1>')  # no space before the attribute


def test_hostile_markup_names_what_a_feed_carried() -> None:
    entries = [
        RawEntry(title="Talks on Monday", link="https://a.example/1", summary="<p>Plain</p>"),
        RawEntry(title="x", link="JavaScript :alert(1)", summary='<IMG SRC=x ONERROR="go()">'),
        RawEntry(title="y\u202ez", link="https://a.example/3", summary="<SCRIPT>bad()</script>\x07"),
    ]
    assert hostile_markup(entries[:1]) == []
    assert hostile_markup(entries) == [
        "bidi overrides",
        "control characters",
        "event handlers",
        "javascript: links",
        "scripts",
    ]
