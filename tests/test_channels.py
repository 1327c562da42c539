"""aggregator.channels: every target's payload shape, its limits under huge input, hostile feed text made
inert, delivery through a real HTTP receiver on 127.0.0.1 that checks Standard Webhooks signatures with its
own implementation, and golden files in tests/data/channels (regenerate with UPDATE_GOLDEN=1 and review the
diff)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from aggregator.channels import CHANNEL_TYPES, OutgoingRequest, render
from aggregator.channels.base import (
    clean_text,
    fit,
    safe_url,
    shorten,
    signing_key,
    summary_line,
)
from aggregator.models import AlertMessage, Report

GOLDEN_DIR = Path(__file__).parent / "data" / "channels"
TARGETS = ("webhook", "slack", "discord", "teams", "mattermost")
NOW = datetime(2025, 7, 20, 9, 30, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
FIRST_SEEN = datetime(2025, 7, 20, 8, 55, tzinfo=UTC)


def alert(**changes: Any) -> AlertMessage:
    """A realistic alert: the third round announced, carried by several outlets."""
    message = AlertMessage(
        idempotency_key="alert-1842.desk-chat",
        kind="new",
        event_type="NEW_ROUND",
        event_id="evt-3f9a51",
        status="scheduled",
        facts={"round": 3, "place": "Istanbul", "date": "2025-07-23"},
        reason="new NEW_ROUND event (scheduled)",
        headline="Third round of Russia-Ukraine talks to be held in Istanbul on Wednesday, Zelensky says",
        reports=(
            Report(
                outlet="meridian-wire",
                title="Zelensky says third round of talks with Russia set for Istanbul on July 23",
                url="https://meridian-wire.example/world/2025/07/20/third-round-istanbul",
                published=FIRST_SEEN,
            ),
            Report(
                outlet="kyiv-ledger",
                title="Umerov: delegations to meet in Istanbul for a third round",
                url="https://kyiv-ledger.example/news/umerov-istanbul-third-round?ref=rss",
                published=FIRST_SEEN + timedelta(minutes=12),
            ),
            Report(
                outlet="baltic-courier",
                title="Kremlin confirms new round of Istanbul talks, expects 'difficult' session",
                url="https://baltic-courier.example/a/88412",
                published=FIRST_SEEN + timedelta(minutes=31),
            ),
        ),
        outlets=7,
        first_seen=FIRST_SEEN,
        evidence=("Third", "round", "will be held", "Istanbul", "23 July"),
        created_at=FIRST_SEEN + timedelta(minutes=2),
    )
    return replace(message, **changes)


def payload(request: OutgoingRequest) -> Any:
    return json.loads(request.body.decode("utf-8"))


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


# --- the summary line --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "Third round of Russia–Ukraine talks set for 23 July in Istanbul"),
        ({"status": "proposed", "facts": {}}, "New round of Russia–Ukraine talks proposed"),
        (
            {"status": "under_way", "facts": {"round": 25, "place": "Riyadh"}},
            "25th round of Russia–Ukraine talks under way in Riyadh",
        ),
        (
            {
                "kind": "update",
                "status": "held",
                "reason": "status scheduled -> held",
                "facts": {"round": 2, "place": "Istanbul", "date": "2025-06-02"},
            },
            "Update: Second round of Russia–Ukraine talks held in Istanbul on 2 June (was scheduled)",
        ),
        (
            {
                "kind": "update",
                "reason": "date changed: 2025-07-23 -> 2025-07-24",
                "facts": {"round": 3, "date": "2025-07-24"},
            },
            "Update: Third round of Russia–Ukraine talks set for 24 July"
            " (date changed from 23 July to 24 July)",
        ),
        (
            {"kind": "update", "reason": "place now known: Geneva", "facts": {"round": 3, "place": "Geneva"}},
            "Update: Third round of Russia–Ukraine talks scheduled in Geneva (place now known)",
        ),
        (
            {
                "event_type": "EXCHANGE",
                "status": "carried_out",
                "facts": {"count": 1000, "date": "2025-07-18"},
                "evidence": ("exchanged", "1,000 prisoners each"),
            },
            "Russia and Ukraine swap 1,000 prisoners each",
        ),
        (
            {"event_type": "EXCHANGE", "status": "agreed", "facts": {}, "evidence": ("swap",)},
            "Russia and Ukraine agree to swap prisoners",
        ),
        (
            {
                "event_type": "EXCHANGE",
                "status": "carried_out",
                "facts": {"count": 22},
                "evidence": ("children",),
            },
            "22 Ukrainian children returned to Ukraine",
        ),
        (
            {"event_type": "DEADLINE", "status": "set", "facts": {"deadline": "2025-08-08"}},
            "Deadline set: 8 August 2025",
        ),
        (
            {"event_type": "DEADLINE", "status": "approaching", "facts": {"deadline": "50 days"}},
            "Deadline approaching: 50 days",
        ),
        (
            {"kind": "test", "event_type": "DEADLINE", "status": "set", "facts": {"deadline": "2025-08-08"}},
            "[TEST] Deadline set: 8 August 2025",
        ),
        (
            {"facts": {"round": 3, "place": "Istanbul", "date": "2026-01-15"}},
            "Third round of Russia–Ukraine talks set for 15 January 2026 in Istanbul",
        ),
    ],
)
def test_summary_line_says_what_happened_in_one_line(changes: dict[str, Any], expected: str) -> None:
    assert summary_line(alert(**changes)) == expected


def test_summary_line_of_hostile_facts_is_one_clean_line() -> None:
    message = alert(facts={"round": 3, "place": "Istan\u202ebul\r\nBcc: x@example.org", "date": "not a date"})
    line = summary_line(message)
    assert "\r" not in line and "\n" not in line and "\u202e" not in line
    assert line.startswith("Third round of Russia–Ukraine talks set for not a date in Istanbul Bcc:")


# --- text helpers -------------------------------------------------------------------------------------


def test_clean_text_removes_controls_bidi_zero_width_and_line_breaks() -> None:
    hostile = "a\x00b\x1bc\u202ed\u2066e\u200bf\u200dg\ufeffh\U000e0041i\ud800j\r\nk\u2028l\x85m\tn"
    assert clean_text(hostile) == "abcdefghij k l m n"
    assert clean_text("one\r\ntwo\n\n\n\nthree\u2029four", single_line=False) == "one\ntwo\n\nthree\nfour"
    assert clean_text(None) == "" and clean_text(42) == "42"


def test_shorten_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    text = "Third round of Russia–Ukraine talks set for 23 July in Istanbul"
    assert shorten(text, 100) == text
    assert shorten(text, 30) == "Third round of Russia–Ukraine…"
    assert len(shorten(text, 30)) <= 30
    assert shorten("x" * 50, 10) == "x" * 9 + "…"  # no boundary: cut mid-word
    assert shorten(text, 0) == ""


def test_fit_never_splits_an_escape() -> None:
    def escape(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;")

    for size in range(1, 60):
        rendered = fit("&<" * 40, size, escape)
        assert len(rendered) <= size
        assert re.fullmatch(r"(&amp;|&lt;)*…?", rendered), rendered


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example/a?b=1&c=2#x", "https://news.example/a?b=1&c=2#x"),
        ("HTTP://News.Example/Path", "http://news.example/Path"),
        ("https://news.example/a b|c<d>(e)", "https://news.example/a%20b%7Cc%3Cd%3E%28e%29"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("ftp://files.example/x", None),
        ("/relative/path", None),
        ("https://bank.example@evil.example/", None),
        ("https://user:secret@news.example/", None),
        ("https://news.example/\u202eexe.txt", None),
        ("https://news.example:99999/", None),
        ("https:///no-host", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url_keeps_only_http_and_https(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_signing_key_follows_the_whsec_convention() -> None:
    assert signing_key("whsec_" + base64.b64encode(b"\x00\x01key").decode()) == b"\x00\x01key"
    assert signing_key("plain secret ü") == "plain secret ü".encode()
    for bad in ("whsec_not*base64", "whsec_", ""):
        with pytest.raises(ValueError):
            signing_key(bad)


# --- the registry -------------------------------------------------------------------------------------


def test_every_target_is_registered_and_carries_the_idempotency_key() -> None:
    assert set(TARGETS) <= set(CHANNEL_TYPES)
    for target in TARGETS:
        request = render(target, alert(), now=NOW)
        assert request.headers["webhook-id"] == "alert-1842.desk-chat"
        assert request.headers["Content-Type"] == request.content_type == "application/json; charset=utf-8"
        assert "webhook-signature" not in request.headers
        payload(request)  # valid JSON
    with pytest.raises(KeyError, match="carrier-pigeon"):
        render("carrier-pigeon", alert())
    with pytest.raises(ValueError, match="idempotency key"):
        render("slack", alert(idempotency_key="a\r\nInjected: 1"))


def test_rendering_is_deterministic_and_a_secret_signs_any_target() -> None:
    for target in TARGETS:
        first = render(target, alert(), now=NOW, secret=SECRET)
        assert first == render(target, alert(), now=NOW, secret=SECRET)
        assert first.headers["webhook-timestamp"] == str(int(NOW.timestamp()))
        assert verify_standard_webhook(first.headers, first.body, SECRET, at=NOW.timestamp())


# --- payload shapes -----------------------------------------------------------------------------------


def test_slack_payload_is_block_kit_with_a_text_fallback() -> None:
    body = payload(render("slack", alert(), now=NOW))
    assert body["text"] == "Third round of Russia–Ukraine talks set for 23 July in Istanbul"
    kinds = [block["type"] for block in body["blocks"]]
    assert kinds == ["header", "section", "section", "section", "context"]
    header = body["blocks"][0]["text"]
    assert header == {"type": "plain_text", "text": body["text"], "emoji": False}
    fields = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in body["blocks"][2]["fields"]}
    assert fields["*Round*"] == "3 (third)" and fields["*Place*"] == "Istanbul" and fields["*Outlets*"] == "7"
    reports = body["blocks"][3]["text"]["text"]
    assert (
        "<https://meridian-wire.example/world/2025/07/20/third-round-istanbul|Zelensky says third" in reports
    )
    assert "“will be held”" in body["blocks"][4]["elements"][0]["text"]
    assert body["unfurl_links"] is False


def test_discord_payload_has_content_one_embed_and_no_mentions() -> None:
    body = payload(render("discord", alert(), now=NOW))
    assert body["content"] == "Third round of Russia–Ukraine talks set for 23 July in Istanbul"
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["url"] == "https://meridian-wire.example/world/2025/07/20/third-round-istanbul"
    assert embed["title"].startswith("Third round of Russia")
    assert {f["name"]: f["value"] for f in embed["fields"]}["Place"] == "Istanbul"
    assert (
        "[Umerov: delegations to meet in Istanbul for a third round](https://kyiv-ledger.example/"
        in embed["description"]
    )
    assert embed["timestamp"] == "2025-07-20T08:55:00Z"


def test_teams_payload_is_one_adaptive_card_attachment() -> None:
    body = payload(render("teams", alert(), now=NOW))
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] in ("1.4", "1.5")
    assert card["body"][0] == {
        "type": "TextBlock",
        "text": "Third round of Russia–Ukraine talks set for 23 July in Istanbul",
        "wrap": True,
        "size": "Medium",
        "weight": "Bolder",
    }
    facts = {
        fact["title"]: fact["value"]
        for block in card["body"]
        if block["type"] == "FactSet"
        for fact in block["facts"]
    }
    assert facts["Round"] == "3 (third)" and facts["Date"] == "23 July 2025" and facts["Outlets"] == "7"
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open the first report",
            "url": "https://meridian-wire.example/world/2025/07/20/third-round-istanbul",
        }
    ]


def test_mattermost_payload_is_slack_compatible() -> None:
    body = payload(render("mattermost", alert(), now=NOW))
    assert body["text"] == "**Third round of Russia–Ukraine talks set for 23 July in Istanbul**"
    (attachment,) = body["attachments"]
    assert attachment["fallback"] == "Third round of Russia–Ukraine talks set for 23 July in Istanbul"
    assert attachment["color"].startswith("#")
    assert {f["title"]: f["value"] for f in attachment["fields"]}["Place"] == "Istanbul"
    assert "- [Zelensky says third round" in attachment["text"]


def test_webhook_payload_follows_its_versioned_schema() -> None:
    body = payload(render("webhook", alert(kind="update", reason="status proposed -> scheduled"), now=NOW))
    assert body["schema"] == "aggregator.alert/1"
    assert body["id"] == "alert-1842.desk-chat"
    assert body["type"] == "alert.update"
    assert body["timestamp"] == "2025-07-20T09:30:00Z"
    data = body["data"]
    assert data["summary"].startswith("Update: Third round")
    assert data["change"] == "was proposed"
    assert data["event"] == {
        "id": "evt-3f9a51",
        "type": "NEW_ROUND",
        "status": "scheduled",
        "facts": {"date": "2025-07-23", "place": "Istanbul", "round": 3},
    }
    assert [r["outlet"] for r in data["reports"]] == ["meridian-wire", "kyiv-ledger", "baltic-courier"]
    assert data["reports"][1]["published"] == "2025-07-20T09:07:00Z"
    assert data["reports_total"] == 3 and data["outlets"] == 7
    assert data["first_seen"] == "2025-07-20T08:55:00Z" and data["decided_at"] == "2025-07-20T08:57:00Z"
    assert data["evidence"] == ["Third", "round", "will be held", "Istanbul", "23 July"]


def test_a_test_message_is_marked_in_every_target() -> None:
    for target in TARGETS:
        texts = [t.replace("\\", "") for t in strings(payload(render(target, alert(kind="test"), now=NOW)))]
        assert any(t.startswith("[TEST] Third round") for t in texts), target


# --- limits -------------------------------------------------------------------------------------------


def huge_alert() -> AlertMessage:
    """Everything far past every target's limits, with text that grows when escaped (&, <, *, Cyrillic)."""
    word = "переговоры&<*_ "
    reports = tuple(
        Report(
            outlet=f"outlet-{n}-" + "x" * 300,
            title=(word * 400) + f"#{n}",
            url=f"https://wire{n}.example/" + "p/" * 900,
            published=FIRST_SEEN + timedelta(minutes=n),
        )
        for n in range(500)
    )
    return alert(
        headline=word * 5000,
        reports=reports,
        evidence=tuple(f"phrase {n} " + word * 300 for n in range(1000)),
        facts={"round": 3, "place": "Istanbul " + word * 100, "date": "2025-07-23", "count": 10**12},
        reason="new NEW_ROUND event (scheduled) " + word * 500,
    )


def slack_problems(body: dict[str, Any]) -> list[str]:
    problems = []
    if len(body["blocks"]) > 50:
        problems.append("more than 50 blocks")
    if len(body["text"]) > 40_000:
        problems.append("text")
    for block in body["blocks"]:
        if block["type"] == "header" and len(block["text"]["text"]) > 150:
            problems.append("header")
        if block["type"] == "section":
            if len(block.get("text", {}).get("text", "")) > 3000:
                problems.append("section text")
            if len(block.get("fields", [])) > 10 or any(
                len(f["text"]) > 2000 for f in block.get("fields", [])
            ):
                problems.append("fields")
        if block["type"] == "context":
            elements = block["elements"]
            if len(elements) > 10 or any(len(e["text"]) > 3000 for e in elements):
                problems.append("context")
    return problems


def discord_problems(body: dict[str, Any]) -> list[str]:
    problems = []
    if len(body["content"]) > 2000:
        problems.append("content")
    for embed in body["embeds"]:
        fields = embed.get("fields", [])
        total = len(embed.get("title", "")) + len(embed.get("description", "")) + len(embed["footer"]["text"])
        total += sum(len(f["name"]) + len(f["value"]) for f in fields)
        if len(embed.get("title", "")) > 256 or len(embed.get("description", "")) > 4096:
            problems.append("title or description")
        if len(fields) > 25 or any(len(f["name"]) > 256 or len(f["value"]) > 1024 for f in fields):
            problems.append("fields")
        if len(embed["footer"]["text"]) > 2048 or total > 6000:
            problems.append(f"embed total {total}")
    return problems


def test_slack_stays_within_block_kit_limits() -> None:
    body = payload(render("slack", huge_alert(), now=NOW))
    assert slack_problems(body) == []
    assert body["blocks"][0]["text"]["text"].startswith("Third round of Russia–Ukraine talks set for 23 July")


def test_discord_stays_within_embed_limits() -> None:
    body = payload(render("discord", huge_alert(), now=NOW))
    assert discord_problems(body) == []
    assert body["content"].startswith("Third round of Russia–Ukraine talks set for 23 July")


def test_teams_card_stays_under_28_kb() -> None:
    request = render("teams", huge_alert(), now=NOW)
    assert len(request.body) < 28 * 1000
    card = payload(request)["attachments"][0]["content"]
    assert card["body"][0]["text"].startswith("Third round of Russia–Ukraine talks set for 23 July")


def test_mattermost_stays_under_its_post_limits() -> None:
    request = render("mattermost", huge_alert(), now=NOW)
    body = payload(request)
    assert len(body["text"]) <= 4000
    assert len(request.body.decode("utf-8")) <= 16_383
    assert body["text"].startswith("**Third round of Russia–Ukraine talks set for 23 July")


def test_webhook_stays_under_64_kib_and_keeps_the_summary() -> None:
    request = render("webhook", huge_alert(), now=NOW)
    assert len(request.body) <= 64 * 1024
    data = payload(request)["data"]
    assert data["summary"].startswith("Third round of Russia–Ukraine talks set for 23 July")
    assert data["reports_total"] == 500 and 1 <= len(data["reports"]) <= 20


def test_evidence_goes_before_reports() -> None:
    """Ten long-titled reports and long evidence overflow a Discord description: evidence is cut, every
    report stays."""
    reports = tuple(
        Report(
            f"outlet-{n}",
            f"Report {n} " + "talks in Istanbul " * 20,
            f"https://r{n}.example/story",
            FIRST_SEEN,
        )
        for n in range(10)
    )
    message = alert(
        reports=reports, evidence=tuple(f"evidence {n} " + "matched words " * 8 for n in range(12))
    )
    full = payload(render("webhook", message, now=NOW))["data"]
    assert len(full["evidence"]) == 12  # a generic receiver gets everything
    embed = payload(render("discord", message, now=NOW))["embeds"][0]
    for n in range(10):
        assert f"](https://r{n}.example/story)" in embed["description"]
    assert 0 < embed["description"].count("“evidence") < 12


def test_the_last_resort_still_says_what_happened() -> None:
    """A headline so long and reports so many that only the summary and the facts remain."""
    for target in TARGETS:
        text = json.dumps(payload(render(target, huge_alert(), now=NOW)), ensure_ascii=False)
        assert "Third round of Russia–Ukraine talks set for 23 July" in text, target


# --- hostile feed text ----------------------------------------------------------------------------------

HOSTILE = (
    "<!channel> <!here> <!everyone> <@U123ABC> <#C42> @everyone @here @channel @all @admin "
    "<script>alert(1)</script> [x](https://evil.example/md) <https://evil.example/slack|click> "
    "![img](https://evil.example/i.png) {{DATE(2017-02-14T06:08:00Z,SHORT)}} "
    "\r\nBcc: victim@example.org\n\u202eevil\u202c \u2066iso\u2069 zero\u200bwidth\u200d\ufeff end"
)
EVIL_URLS = (
    "javascript:alert(document.cookie)",
    "https://bank.example@evil.example/login",
    "data:text/html;base64,PHNjcmlwdD4=",
    " JAVASCRIPT:alert(1)",
)
ALLOWED_URL = "https://good.example/story?id=1"
BIDI_AND_CONTROLS = re.compile(
    r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ufeff\r\x00-\x09\x0b-\x1f\x7f]"
)


def hostile_alert() -> AlertMessage:
    reports = (
        *(
            Report(outlet="evil-" + HOSTILE[:40], title=HOSTILE, url=url, published=FIRST_SEEN)
            for url in EVIL_URLS
        ),
        Report(outlet="good-wire", title=HOSTILE, url=ALLOWED_URL, published=FIRST_SEEN),
    )
    return alert(
        headline=HOSTILE,
        reports=reports,
        evidence=(HOSTILE, "<!channel>", "@everyone"),
        facts={"round": 3, "place": "Istanbul <!channel> @here", "date": "2025-07-23"},
        event_id="evt-<!channel>",
    )


def markdown_link_targets(text: str) -> list[str]:
    """Targets of ``[text](url)`` links whose ``]`` is not backslash-escaped (CommonMark and Discord)."""
    return re.findall(r"(?<!\\)\]\(([^)\s]*)\)", text)


def assert_clean(body: Any, target: str) -> None:
    for text in strings(body):
        assert not BIDI_AND_CONTROLS.search(text), (target, text[:80])


def test_hostile_text_is_inert_in_slack() -> None:
    body = payload(render("slack", hostile_alert(), now=NOW))
    assert_clean(body, "slack")
    mrkdwn = [body["text"]] + [
        text
        for block in body["blocks"]
        for text in [block.get("text", {}).get("text", "")]
        + [f["text"] for f in block.get("fields", [])]
        + [e["text"] for e in block.get("elements", [])]
        if block.get("text", {}).get("type") != "plain_text"
    ]
    for text in mrkdwn:
        # the only control sequences left are our links to allowed addresses
        for token in re.findall(r"<([^>]*)>", text):
            assert token.startswith(ALLOWED_URL + "|"), token
        assert "<script" not in text and "<!" not in text and "<@" not in text and "<#" not in text
        assert "@everyone" not in text and "@here" not in text and "@channel" not in text
    assert "\n" not in body["blocks"][0]["text"]["text"]


def test_hostile_text_is_inert_in_discord() -> None:
    body = payload(render("discord", hostile_alert(), now=NOW))
    assert_clean(body, "discord")
    assert body["allowed_mentions"] == {"parse": []}
    embed = body["embeds"][0]
    assert embed["url"] == ALLOWED_URL
    texts = [body["content"], embed["title"], embed["description"], embed["footer"]["text"]]
    texts += [part for f in embed["fields"] for part in (f["name"], f["value"])]
    for text in texts:
        assert "@everyone" not in text and "@here" not in text and "@channel" not in text
        assert not re.search(r"(?<!\\)<[@#!&]", text), text  # no mention, channel or role markup
        assert set(markdown_link_targets(text)) <= {ALLOWED_URL}, text
        assert not re.search(r"(?<!\\)\[x\]", text)
    assert markdown_link_targets(embed["description"]) == [ALLOWED_URL]
    assert "\n" not in body["content"] and "\n" not in embed["title"]


def test_hostile_text_is_inert_in_teams() -> None:
    body = payload(render("teams", hostile_alert(), now=NOW))
    assert_clean(body, "teams")
    card = body["attachments"][0]["content"]
    texts = [b["text"] for b in card["body"] if b["type"] == "TextBlock"]
    texts += [part for b in card["body"] if b["type"] == "FactSet" for f in b["facts"] for part in f.values()]
    for text in texts:
        assert set(markdown_link_targets(text)) <= {ALLOWED_URL}, text
        assert "{{" not in text and "}}" not in text
        assert not re.search(r"(?<!\\)!?\[(x|img)\]", text)
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open the first report", "url": ALLOWED_URL}
    ]
    links = [t for t in texts if markdown_link_targets(t)]
    assert len(links) == 1


def test_hostile_text_is_inert_in_mattermost() -> None:
    body = payload(render("mattermost", hostile_alert(), now=NOW))
    assert_clean(body, "mattermost")
    attachment = body["attachments"][0]
    texts = [body["text"], attachment["text"], attachment["fallback"], attachment["footer"]]
    texts += [part for f in attachment["fields"] for part in (f["title"], f["value"])]
    for text in texts:
        for mention in ("@channel", "@all", "@here", "@everyone", "@admin", "<!channel>", "<!here>", "<!"):
            assert mention not in text, (mention, text)
        assert set(markdown_link_targets(text)) <= {ALLOWED_URL}, text
        assert not re.search(r"(?<!\\)!?\[(x|img)\]", text)
        assert not re.search(r"(?<!\\)<script", text)
    assert markdown_link_targets(attachment["text"]) == [ALLOWED_URL]
    assert "\n" not in body["text"]


def test_hostile_text_in_the_generic_webhook_is_plain_and_links_are_http() -> None:
    body = payload(render("webhook", hostile_alert(), now=NOW))
    assert_clean(body, "webhook")
    reports = body["data"]["reports"]
    assert [r["url"] for r in reports] == [None, None, None, None, ALLOWED_URL]
    # plain text for the receiver to escape: the words are there, the line breaks and bidi are not
    assert "<script>alert(1)</script>" in reports[0]["title"]
    assert "\n" not in reports[0]["title"] and "Bcc: victim@example.org" in reports[0]["title"]


@pytest.mark.parametrize("target", TARGETS)
def test_no_target_links_anywhere_but_http(target: str) -> None:
    text = render(target, hostile_alert(), now=NOW).body.decode("utf-8")
    for scheme in ("javascript:", "data:", "JAVASCRIPT:"):
        for found in re.finditer(re.escape(scheme), text):
            before = text[max(0, found.start() - 2) : found.start()]
            # only as words inside text, never as a link target or url value
            assert before not in ("](", '":', "<", "|"), (target, text[found.start() - 20 : found.end() + 20])
    parsed = payload(render(target, hostile_alert(), now=NOW))
    stack = [parsed]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("url", "title_link") and item is not None:
                    assert item == ALLOWED_URL, (target, item)
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)


# --- golden files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_golden(target: str) -> None:
    request = render(target, alert(), now=NOW, secret=SECRET if target == "webhook" else None)
    actual = {"headers": request.headers, "body": payload(request)}
    expected_file = GOLDEN_DIR / f"{target}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
        expected_file.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert expected_file.exists(), f"no {expected_file.name}: run with UPDATE_GOLDEN=1 and review it"
    assert actual == json.loads(expected_file.read_text(encoding="utf-8"))


# --- delivery through a real receiver -----------------------------------------------------------------


def verify_standard_webhook(
    headers: Any, body: bytes, secret: str, *, at: float, tolerance: float = 300
) -> bool:
    """The receiver's side of Standard Webhooks, written from the spec without the project's code."""
    message_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (message_id and timestamp and signatures) or not timestamp.isdigit():
        return False
    if abs(at - int(timestamp)) > tolerance:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_")) if secret.startswith("whsec_") else secret.encode()
    expected = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    for signature in signatures.split(" "):
        version, _, encoded = signature.partition(",")
        if version == "v1" and hmac.compare_digest(base64.b64decode(encoded), expected):
            return True
    return False


def test_the_receivers_verifier_agrees_with_the_published_test_vector() -> None:
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    body = b'{"test": 2432232314}'
    assert verify_standard_webhook(headers, body, SECRET, at=1614265330)
    assert not verify_standard_webhook(headers, body + b" ", SECRET, at=1614265330)
    assert not verify_standard_webhook(headers, body, SECRET, at=1614265330 + 301)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool | None


class Receiver:
    """A real HTTP server on 127.0.0.1 that records every POST and, for paths with a secret, answers 401
    unless the Standard Webhooks signature verifies (204 otherwise)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.secrets: dict[str, str] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                secret = receiver.secrets.get(self.path)
                verified = (
                    None if secret is None else verify_standard_webhook(headers, body, secret, at=time.time())
                )
                receiver.received.append(Received(self.path, headers, body, verified))
                self.send_response(401 if verified is False else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def post(url: str, request: OutgoingRequest) -> requests.Response:
    return requests.post(url, data=request.body, headers=request.headers, timeout=5)


@pytest.mark.parametrize("target", TARGETS)
def test_delivery_to_a_real_receiver(receiver: Receiver, target: str) -> None:
    receiver.secrets[f"/{target}"] = SECRET
    request = render(target, hostile_alert(), secret=SECRET)  # signed now, by the real clock
    response = post(receiver.url(f"/{target}"), request)
    assert response.status_code == 204
    (got,) = receiver.received
    assert got.verified is True
    assert got.body == request.body
    assert got.headers["webhook-id"] == "alert-1842.desk-chat"
    assert got.headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(got.body) == payload(request)


def test_a_plain_secret_signs_too(receiver: Receiver) -> None:
    receiver.secrets["/hook"] = "a plain shared secret"
    assert (
        post(receiver.url("/hook"), render("webhook", alert(), secret="a plain shared secret")).status_code
        == 204
    )


def test_the_receiver_rejects_a_wrong_secret_a_changed_body_and_an_old_signature(receiver: Receiver) -> None:
    receiver.secrets["/hook"] = SECRET
    other = "whsec_" + base64.b64encode(b"another key of the same size!!!!").decode()
    assert post(receiver.url("/hook"), render("webhook", alert(), secret=other)).status_code == 401

    signed = render("webhook", alert(), secret=SECRET)
    tampered = OutgoingRequest(
        signed.body.replace(b"Istanbul", b"Istambul"), signed.headers, signed.content_type
    )
    assert post(receiver.url("/hook"), tampered).status_code == 401

    stale = render("webhook", alert(), secret=SECRET, now=datetime.now(UTC) - timedelta(minutes=10))
    assert post(receiver.url("/hook"), stale).status_code == 401

    assert post(receiver.url("/hook"), render("webhook", alert())).status_code == 401  # unsigned
    assert [r.verified for r in receiver.received] == [False, False, False, False]


def test_a_resend_carries_the_same_id(receiver: Receiver) -> None:
    """What a receiver dedupes on: the id is the same on every attempt, the timestamp and signature not."""
    receiver.secrets["/hook"] = SECRET
    first = render("webhook", alert(), secret=SECRET, now=datetime.now(UTC) - timedelta(seconds=90))
    second = render("webhook", alert(), secret=SECRET)
    assert post(receiver.url("/hook"), first).status_code == 204
    assert post(receiver.url("/hook"), second).status_code == 204
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert ids == ["alert-1842.desk-chat"] * 2
    assert [json.loads(r.body)["id"] for r in receiver.received] == ids
    assert (
        receiver.received[0].headers["webhook-signature"] != receiver.received[1].headers["webhook-signature"]
    )


def test_every_string_in_every_payload_is_valid_unicode_text() -> None:
    """Lone surrogates in feed text would make the body unencodable; they are removed before rendering."""
    message = alert(
        headline="bad \ud800 surrogate", reports=(Report("o", "t\udfff", "https://a.example/", FIRST_SEEN),)
    )
    for target in TARGETS:
        body = payload(render(target, message, now=NOW))
        for text in strings(body):
            assert all(unicodedata.category(ch) != "Cs" for ch in text)
