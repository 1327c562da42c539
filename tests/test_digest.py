"""aggregator.digest: the digest's grouping, order and times, golden files of a realistic digest (text and
HTML, in tests/data/digest; regenerate with UPDATE_GOLDEN=1), template overrides, and hostile or malformed
content in every field (the HTML is parsed with lxml and checked to be inert). Sending is in test_email.py."""

from __future__ import annotations

import os
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import lxml.html
import pytest
from alerts import third_round_alert
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator.channels.email import EmailSettings, alert_context, alert_email
from aggregator.digest import is_empty, load_templates, render_digest
from aggregator.models import Digest, DigestEvent, DigestStory, Report

GOLDEN_DIR = Path(__file__).parent / "data" / "digest"
TEMPLATES = load_templates()
SINCE = datetime(2025, 7, 13, 4, 0, tzinfo=UTC)  # 07:00 in Kyiv (EEST, UTC+3)
UNTIL = datetime(2025, 7, 14, 4, 0, tzinfo=UTC)
HOSTILE = (
    '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    '<form action="https://evil.example/"><input name=q><button>Go</button></form>'
    "<a href='javascript:alert(1)'>x</a>[click](javascript:alert(1))"
    "\u202eevil\u2066\u200b\r\nBcc: victim@example.org\x00"
)
HOSTILE_URLS = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    'https://ok.example/"onmouseover="alert(1)',
    "https://ok.example/'><script>alert(1)</script>",
)
BIDI_AND_INVISIBLE = {
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
}
BIDI_AND_INVISIBLE |= {"\u200b", "\u200e", "\u200f", "\ufeff"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 7, day, hour, minute, tzinfo=UTC)


def report(outlet: str, title: str, url: str | None, published: datetime) -> Report:
    return Report(outlet=outlet, title=title, url=url, published=published)


def story(headline: str, **fields: Any) -> DigestStory:
    values: dict[str, Any] = {
        "headline": headline,
        "reports": (report("Meridian Wire", headline, "https://meridian-wire.example.org/a", at(13, 9)),),
        "outlets": ("Meridian Wire",),
        "first_seen": at(13, 9),
        "last_seen": at(13, 9),
        "event_types": (),
        "facts": {},
        "is_new": True,
    }
    values.update(fields)
    return DigestStory(**values)


def digest(**fields: Any) -> Digest:
    values: dict[str, Any] = {
        "channel": "desk-mail",
        "since": SINCE,
        "until": UNTIL,
        "timezone": "Europe/Kyiv",
        "stories_by_event": {},
        "other_stories": (),
        "events": (),
        "generated_at": UNTIL,
    }
    values.update(fields)
    return Digest(**values)


def realistic_digest() -> Digest:
    """A day of the talks as a desk would see it (every outlet, report and link invented)."""
    istanbul = story(
        "Russia and Ukraine to hold third round of talks in Istanbul on 23 July",
        reports=(
            report(
                "Meridian Wire",
                "Third round of Russia-Ukraine talks set for July 23 in Istanbul, sources say",
                "https://meridian-wire.example.org/world/2025/07/13/talks-third-round?utm_source=rss",
                at(13, 14, 52),
            ),
            report(
                "Kyiv Ledger",
                "Umerov: delegation ready to travel to Istanbul on Wednesday",
                "https://kyiv-ledger.example.com/news/umerov-istanbul-wednesday",
                at(13, 15, 3),
            ),
        ),
        outlets=(
            *("Meridian Wire", "Kyiv Ledger", "Eastern Dispatch", "Talks Tracker", "Volga Vestnik"),
            *("Dnipro Courier", "Border Bulletin", "Danube Daily"),
        ),
        first_seen=at(13, 14, 52),
        last_seen=at(14, 3, 40),
        event_types=("NEW_ROUND",),
        facts={"NEW_ROUND": {"round": 3, "place": "Istanbul", "date": "2025-07-23"}},
        is_new=True,
    )
    kremlin = story(
        "Kremlin: timing of the next meeting depends on Kyiv's answer to the memorandum",
        reports=(
            report(
                "Volga Vestnik",
                "Peskov says next round depends on Kyiv",
                "https://volga-vestnik.example.ru/politics/peskov-next-round",
                at(11, 8, 15),
            ),
        ),
        outlets=("Volga Vestnik", "Eastern Dispatch"),
        first_seen=at(11, 8, 15),
        last_seen=at(13, 10, 30),
        event_types=("NEW_ROUND",),
        facts={"NEW_ROUND": {"place": "Istanbul"}},
        is_new=False,
    )
    swap = story(
        "Ukraine and Russia swap 1,200 prisoners each in the largest exchange since spring",
        reports=(
            report(
                "Dnipro Courier",
                "1,200 defenders home: the largest exchange since spring",
                "https://dnipro-courier.example.net/2025/07/14/exchange",
                at(13, 17, 20),
            ),
        ),
        outlets=("Dnipro Courier", "Kyiv Ledger", "Meridian Wire", "Border Bulletin"),
        first_seen=at(13, 17, 20),
        last_seen=at(14, 1, 5),
        event_types=("EXCHANGE",),
        facts={"EXCHANGE": {"count": 1200, "date": "2025-07-13"}},
        is_new=True,
    )
    deadline = story(
        "White House gives Moscow 50 days to agree a ceasefire",
        reports=(
            report(
                "Talks Tracker",
                "50-day deadline for Moscow: what it means for the talks",
                "https://talks-tracker.example.org/briefs/50-days",
                at(13, 19, 45),
            ),
        ),
        outlets=("Talks Tracker", "Meridian Wire", "Eastern Dispatch"),
        first_seen=at(13, 19, 45),
        last_seen=at(13, 22, 10),
        event_types=("DEADLINE",),
        facts={"DEADLINE": {"deadline": "2025-09-01"}},
        is_new=True,
    )
    ministers = story(
        "EU foreign ministers discuss support for Kyiv ahead of the Istanbul meeting",
        reports=(report("Danube Daily", "Ministers meet in Brussels", None, at(13, 11, 0)),),
        outlets=("Danube Daily",),
        first_seen=at(13, 11, 0),
        last_seen=at(13, 11, 0),
        is_new=True,
    )
    analysis = story(
        "Analysis: what a third round in Istanbul can and cannot deliver",
        reports=(
            report(
                "Eastern Dispatch",
                "What Istanbul can and cannot deliver",
                "https://eastern-dispatch.example.com/analysis/istanbul-limits",
                at(12, 16, 0),
            ),
        ),
        outlets=("Eastern Dispatch", "Kyiv Ledger"),
        first_seen=at(12, 16, 0),
        last_seen=at(13, 12, 30),
        is_new=False,
    )
    events = (
        DigestEvent(
            "EXCHANGE", "carried_out", {"count": 1200, "date": "2025-07-13"}, at(13, 17), at(14, 1), 9
        ),
        DigestEvent("NEW_ROUND", "proposed", {"round": 4}, at(13, 20), at(13, 21), 2),
        DigestEvent(
            "NEW_ROUND",
            "scheduled",
            {"round": 3, "place": "Istanbul", "date": "2025-07-23"},
            at(10, 9),
            at(14, 3, 40),
            11,
        ),
        DigestEvent("DEADLINE", "set", {"deadline": "2025-09-01"}, at(13, 19, 45), at(13, 22, 10), 6),
        DigestEvent("DEADLINE", "approaching", {"deadline": "2025-07-20"}, at(1, 10), at(13, 8), 4),
        DigestEvent(
            "NEW_ROUND",
            "held",
            {"round": 2, "place": "Istanbul", "date": "2025-06-02"},
            at(1, 9),
            at(12, 10),
            14,
        ),
    )
    return digest(
        stories_by_event={"DEADLINE": (deadline,), "NEW_ROUND": (kremlin, istanbul), "EXCHANGE": (swap,)},
        other_stories=(analysis, ministers),
        events=events,
    )


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN_DIR / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no {path.name} in {GOLDEN_DIR}: run with UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8")


def assert_inert(html: str) -> Any:
    """No script, no form or other active element, no event handler, no link that is not http(s), nothing
    loaded from elsewhere. Returns the parsed page."""
    page = lxml.html.document_fromstring(html)
    active = {"script", "form", "input", "button", "textarea", "select", "iframe", "frame", "object", "embed"}
    active |= {
        "link",
        "style",
        "img",
        "video",
        "audio",
        "source",
        "base",
        "svg",
        "math",
        "applet",
        "template",
    }
    for element in page.iter():
        if not isinstance(element.tag, str):
            continue
        assert element.tag not in active, lxml.html.tostring(element)
        if element.tag == "meta":
            assert "http-equiv" not in element.attrib
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            assert name.lower() not in (
                "src",
                "srcset",
                "background",
                "action",
                "formaction",
                "poster",
                "srcdoc",
            )
            if name.lower() == "href":
                assert value.startswith(("https://", "http://")), value
            if name.lower() == "style":
                assert "url(" not in value.lower() and "expression" not in value.lower()
    return page


# --- a realistic digest -------------------------------------------------------------------------------------


def test_golden_realistic_digest() -> None:
    subject, text, html = render_digest(realistic_digest(), TEMPLATES)
    assert subject == "Russia–Ukraine talks digest, 14 July 2025: 6 stories, 4 new"
    check_golden("realistic.txt", text)
    check_golden("realistic.html", html)
    assert_inert(html)


def test_sections_come_in_event_order_then_other_stories() -> None:
    _, text, html = render_digest(realistic_digest(), TEMPLATES)
    titles = [
        "New rounds of talks (2)",
        "Prisoner exchanges (1)",
        "Deadlines (1)",
        "Other relevant stories (2)",
    ]
    positions = [text.index(f"== {title}") for title in titles]
    assert positions == sorted(positions)
    page = lxml.html.document_fromstring(html)
    assert [" ".join(h2.text_content().split()) for h2 in page.iter("h2")] == [*titles, "Tracked events"]


def test_new_stories_are_marked_and_come_first() -> None:
    _, text, _ = render_digest(realistic_digest(), TEMPLATES)
    new = text.index("* [NEW] Russia and Ukraine to hold third round")
    updated = text.index("* [updated] Kremlin: timing of the next meeting")
    assert new < updated


def test_story_shows_outlets_first_report_and_facts_in_the_digest_timezone() -> None:
    _, text, html = render_digest(realistic_digest(), TEMPLATES)
    assert "New round of talks: Round 3 · Istanbul · 23 July 2025" in text
    outlets = "Meridian Wire, Kyiv Ledger, Eastern Dispatch, Talks Tracker, Volga Vestnik, Dnipro Courier"
    assert f"8 outlets: {outlets} and 2 more" in text
    # 14:52 UTC is 17:52 in Kyiv in July
    assert "First report: Meridian Wire, 13 July 2025, 17:52 EEST" in text
    assert "https://meridian-wire.example.org/world/2025/07/13/talks-third-round?utm_source=rss" in text
    page = lxml.html.document_fromstring(html)
    links = [a.get("href") for a in page.iter("a")]
    assert "https://meridian-wire.example.org/world/2025/07/13/talks-third-round?utm_source=rss" in links
    # the story without a link is shown without one
    assert "EU foreign ministers discuss support" in text
    ministers = next(p for p in page.iter("p") if "EU foreign ministers" in p.text_content())
    assert ministers.find(".//a") is None


def test_times_follow_the_digest_timezone() -> None:
    _, text, _ = render_digest(replace(realistic_digest(), timezone="America/New_York"), TEMPLATES)
    assert "Stories from 13 July 2025, 00:00 EDT to 14 July 2025, 00:00 EDT (America/New_York)." in text
    assert "First report: Meridian Wire, 13 July 2025, 10:52 EDT" in text


def test_status_of_tracked_events() -> None:
    _, text, _ = render_digest(realistic_digest(), TEMPLATES)
    status = text[text.index("== Tracked events") :]
    order = [
        "Next round:",
        "Round 3 · Istanbul · 23 July 2025 (scheduled",  # dated, so before the undated fourth round
        "Round 4 (proposed",
        "Open deadlines:",
        "Deadline: 20 July 2025 (approaching",  # the sooner deadline first
        "Deadline: 1 September 2025 (set",
        "Recent exchanges:",
        "Prisoner exchange: 1,200 per side · 13 July 2025 (carried out",
        "Recently concluded:",
        "Round 2 · Istanbul · 2 June 2025 (held",
    ]
    positions = [status.index(part) for part in order]
    assert positions == sorted(positions)


def test_empty_digest() -> None:
    quiet = digest(events=realistic_digest().events)
    assert is_empty(quiet) and is_empty(digest(stories_by_event={"NEW_ROUND": ()}))
    assert not is_empty(realistic_digest())
    assert not is_empty(digest(other_stories=(story("Only other"),)))
    subject, text, html = render_digest(quiet, TEMPLATES)
    assert subject == "Russia–Ukraine talks digest, 14 July 2025: nothing new"
    assert "Nothing new was reported in this period." in text and "Nothing new was reported" in html
    assert "Next round:" in text  # the status of tracked events is still shown when asked for


def test_long_sections_are_cut_with_a_count() -> None:
    many = tuple(story(f"Report number {n}", last_seen=at(13, 9) + timedelta(minutes=n)) for n in range(40))
    _, text, html = render_digest(digest(other_stories=many), TEMPLATES)
    assert text.count("* [NEW] Report number") == 25
    assert "* [NEW] Report number 39" in text and "Report number 14\n" not in text  # the newest kept
    assert "... and 15 more stories in this section" in text
    assert "and 15 more stories in this section" in html


# --- templates --------------------------------------------------------------------------------------------


def test_user_templates_override_the_project_ones(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text("Custom: {{ subject }}\n", encoding="utf-8")
    (tmp_path / "digest.html.j2").write_text(
        "<p>{% for s in sections %}{{ s.stories[0].headline }}{% endfor %}</p>", encoding="utf-8"
    )
    custom = load_templates(tmp_path)
    hostile = digest(other_stories=(story("<b>bold</b> & <script>x</script>"),))
    subject, text, html = render_digest(hostile, custom)
    assert text == f"Custom: {subject}\n"
    assert html == "<p>&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;</p>"  # autoescaped
    # the alert templates were not overridden: the project's are used
    assert "Alert" in custom.get_template("alert.txt.j2").render(alert_context_for_test())


def test_templates_reject_undefined_variables(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text("{{ no_such_variable }}", encoding="utf-8")
    with pytest.raises(jinja2.UndefinedError):
        render_digest(realistic_digest(), load_templates(tmp_path))


def test_missing_template_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_templates(tmp_path / "nowhere")


def test_text_templates_are_not_escaped() -> None:
    _, text, _ = render_digest(digest(other_stories=(story('Talks & "truce" <draft>'),)), TEMPLATES)
    assert 'Talks & "truce" <draft>' in text


# --- hostile and malformed content --------------------------------------------------------------------------


def hostile_story(url: str, **fields: Any) -> DigestStory:
    values: dict[str, Any] = {
        "reports": (report(HOSTILE, HOSTILE, url, at(13, 9)), report(HOSTILE, HOSTILE, url, at(13, 10))),
        "outlets": (HOSTILE, HOSTILE),
        "event_types": ("NEW_ROUND", HOSTILE),
        "facts": {
            "NEW_ROUND": {"round": HOSTILE, "place": HOSTILE, "date": HOSTILE},
            HOSTILE: {HOSTILE: HOSTILE, "deadline": HOSTILE, "count": HOSTILE},
        },
    }
    values.update(fields)
    return story(HOSTILE, **values)


def hostile_digest() -> Digest:
    stories = tuple(hostile_story(url) for url in HOSTILE_URLS)
    return digest(
        channel=HOSTILE,
        timezone=HOSTILE,  # not a timezone: times are shown in UTC
        stories_by_event={"NEW_ROUND": stories, "EXCHANGE": stories[:2], HOSTILE: stories[2:4]},
        other_stories=stories,
        events=(
            DigestEvent(HOSTILE, HOSTILE, {HOSTILE: HOSTILE}, at(13, 9), at(13, 9), 3),
            DigestEvent(
                "NEW_ROUND", "scheduled", {"place": HOSTILE, "date": HOSTILE}, at(13, 9), at(13, 9), 1
            ),
        ),
    )


def test_hostile_content_in_every_field_renders_inert() -> None:
    subject, text, html = render_digest(hostile_digest(), TEMPLATES)
    page = assert_inert(html)
    shown = page.text_content()
    assert "<script>alert(1)</script>" in shown  # shown as text, escaped in the markup
    assert "[click](javascript:alert(1))" in shown
    # only the two http(s) URLs are links, and their quotes stayed inside the attribute (assert_inert)
    assert {a.get("href") for a in page.iter("a")} == set(HOSTILE_URLS[-2:])
    assert not BIDI_AND_INVISIBLE & set(html + text + subject)
    assert "\r" not in text and "\x00" not in text and "\x00" not in html
    for line in text.splitlines():  # the only lines that are links are http(s) links
        assert not line.strip().lower().startswith(("javascript", "data:", "vbscript", "java")), line
    assert "(UTC)" in text and "UTC" in shown


def test_hostile_but_well_formed_urls_stay_inside_their_attribute() -> None:
    urls = ('https://ok.example/"onmouseover="alert(1)', "https://ok.example/'><script>alert(1)</script>")
    _, _, html = render_digest(digest(other_stories=tuple(hostile_story(url) for url in urls)), TEMPLATES)
    page = assert_inert(html)
    assert {a.get("href") for a in page.iter("a")} == set(urls)


def test_one_poisoned_story_never_breaks_the_rest() -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("cannot be shown")

    good_before = story("Delegations arrive in Istanbul", last_seen=at(13, 12))
    good_after = story("Swap of 84 prisoners completed", last_seen=at(13, 8))
    poisoned = [
        story("Story with unreadable reports", reports=None, last_seen=at(13, 11)),
        story(
            "Story with an unprintable fact",
            event_types=("NEW_ROUND",),
            facts={"NEW_ROUND": {"x": Unprintable()}},
        ),
        story("Story with no first-seen time", first_seen=None),
        story(Unprintable(), last_seen=at(13, 10)),  # even the headline fails
    ]
    half_broken = story(
        "Story with one bad report",
        reports=(
            report("Bad", "Bad", "https://bad.example/", None),
            report("Good", "Good", "https://good.example/", at(13, 9)),
        ),
    )
    bad_event = DigestEvent("NEW_ROUND", "scheduled", {"round": 5}, at(13, 9), at(13, 9), "many")  # type: ignore[arg-type]
    good_event = DigestEvent("DEADLINE", "set", {"deadline": "2025-09-01"}, at(13, 9), at(13, 9), 6)
    bundle = digest(
        stories_by_event={"NEW_ROUND": (good_before, *poisoned, half_broken, good_after)},
        events=(bad_event, good_event),
    )
    subject, text, html = render_digest(bundle, TEMPLATES)
    assert_inert(html)
    assert "7 stories" in subject
    for headline in (
        "Delegations arrive in Istanbul",
        "Swap of 84 prisoners completed",
        "Story with one bad report",
    ):
        assert f"[NEW] {headline}" in text
    for headline in (
        "Story with unreadable reports",
        "Story with an unprintable fact",
        "Story with no first-seen",
    ):
        assert headline in text and headline in html
    assert text.count("(the details of this story could not be shown)") == 4
    assert "(this story could not be shown)" in text
    assert (
        "First report: Good, 13 July 2025, 12:00 EEST" in text
    )  # the bad report left out, the good one kept
    assert "Deadline: 1 September 2025 (set" in text and "Round 5" not in text


_text = st.text(st.characters(codec="utf-8"), max_size=60)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headline=_text, outlet=_text, title=_text, url=_text, place=_text, channel=_text)
def test_any_text_renders_inert(
    headline: str, outlet: str, title: str, url: str, place: str, channel: str
) -> None:
    item = story(
        headline,
        reports=(
            report(outlet, title, url, at(13, 9)),
            report(outlet, title, "https://x.example/" + url, at(13, 9)),
        ),
        outlets=(outlet,),
        event_types=("NEW_ROUND",),
        facts={"NEW_ROUND": {"place": place, "date": place}},
    )
    event = DigestEvent("NEW_ROUND", "scheduled", {"place": place}, at(13, 9), at(13, 9), 1)
    subject, _, html = render_digest(
        digest(
            channel=channel, stories_by_event={"NEW_ROUND": (item,)}, other_stories=(item,), events=(event,)
        ),
        TEMPLATES,
    )
    assert_inert(html)
    assert "\n" not in subject and "\r" not in subject
    joiners = "\u200c\u200d"  # kept: some scripts need them, and they cannot reorder or hide text
    assert not any(
        unicodedata.category(c) in ("Cc", "Cf") and c not in joiners for c in html.replace("\n", "")
    )


# --- the alert templates get the same treatment -------------------------------------------------------------


def alert_context_for_test(**changes: Any) -> dict[str, Any]:
    return alert_context(third_round_alert(**changes))


@pytest.mark.parametrize("url", HOSTILE_URLS[:6])
def test_alert_html_with_hostile_content_is_inert(url: str) -> None:
    message = third_round_alert(
        headline=HOSTILE,
        reason=HOSTILE,
        facts={"place": HOSTILE, "round": HOSTILE, HOSTILE: HOSTILE},
        reports=(report(HOSTILE, HOSTILE, url, at(13, 9)),) * 3,
        evidence=(HOSTILE,) * 3,
        idempotency_key=HOSTILE,
        event_type=HOSTILE,
        status=HOSTILE,
        kind=HOSTILE,
    )
    settings_ = EmailSettings(
        smtp_host="127.0.0.1", sender="alerts@example.org", recipients=("a@example.org",)
    )
    email = alert_email(message, settings_, TEMPLATES)
    html = email.get_body(("html",)).get_content()  # type: ignore[union-attr]
    page = assert_inert(html)
    assert "<script>alert(1)</script>" in page.text_content()
    assert [a.get("href") for a in page.iter("a")] == []
    assert not BIDI_AND_INVISIBLE & set(html)
