"""Mattermost incoming webhooks: Slack-compatible ``text`` and one message attachment.

What this relies on (Mattermost's incoming-webhook and message-attachment documentation, checked for this
module):

- the body is ``{"text": ..., "attachments": [{"fallback", "color", "text", "fields", "footer"}]}``; a
  ``text`` is Markdown; attachment ``text`` and field values are Markdown too; ``fallback`` is plain text;
- a post's message holds at most 16,383 characters (4,000 on servers older than 5.0): ``text`` stays
  under 4,000 and the whole body under 16,000 characters;
- Mattermost's Markdown honours a backslash before punctuation, so feed text gets one before every
  character with a meaning (``*``, ``_``, ``~``, `````, ``[``, ``]``, ``<``, ``|``, and ``-``, ``+``,
  ``#``, ``>``, ``1.`` at the start of a line): no link (``[x](https://evil)``), image, table, quote or
  heading can come from a feed;
- mentions: the server notifies for ``@channel``, ``@all``, ``@here`` and ``@username`` in the text, the
  attachment's pretext, text, title and field values, and it turns Slack's ``<!channel>``/``<!here>`` into
  ``@channel``/``@here`` first. A backslash does not stop that, so every ``@`` followed by a letter and
  every ``<!``/``<@`` in feed text gets a zero-width space after it: the server splits words on it and
  sees no mention, the reader sees the same text.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ..models import AlertMessage
from .base import (
    Detail,
    OutgoingRequest,
    change_text,
    clean_text,
    detail_rows,
    escape_line_starts,
    event_label,
    first_fitting,
    fit,
    headline_text,
    json_body,
    json_request,
    kind_label,
    neutralise_mentions,
    report_lines,
    shorten,
    summary_line,
    why_text,
)

TEXT_MAX = 4000
ATTACHMENT_TEXT_MAX = 8000
FIELD_VALUE_MAX = 500
FALLBACK_MAX = 500
BODY_MAX_CHARACTERS = 16_000

COLOURS = {"NEW_ROUND": "#1F6FEB", "EXCHANGE": "#2DA44E", "DEADLINE": "#D29922"}
TEST_COLOUR = "#8C959F"

# Characters with a meaning anywhere in a line (``(``, ``)`` and ``!`` only matter next to ``[``/``]``).
_INLINE = re.compile(r"([\\`*_~\[\]<|])")


def escape(text: str) -> str:
    """Plain text made inert in Mattermost Markdown: mentions neutralised, markup backslash-escaped."""
    text = _INLINE.sub(r"\\\1", neutralise_mentions(text))
    return escape_line_starts(text)


def _attachment_text(message: AlertMessage, detail: Detail) -> str:
    parts = [f"**{kind_label(message.kind)}** · {event_label(message.event_type)}"]
    if message.kind == "update":
        parts[0] += f"\n**Changed:** {escape(shorten(change_text(message), 300))}"
    headline = headline_text(message, detail)
    if headline:
        parts.append("**Headline:** " + escape(headline))
    lines = []
    for report in report_lines(message, detail.reports, detail.title_max):
        title = escape(report.title)
        link = f"[{title}]({report.url})" if report.url else title
        tail = ", ".join(part for part in (report.outlet, report.published) if part)
        lines.append(f"- {link}" + (f" — {escape(tail)}" if tail else ""))
    extra = len(message.reports) - len(lines)
    if lines and extra > 0:
        lines.append(f"- _and {extra:,} more_")
    if lines:
        parts.append("**First reports**\n" + "\n".join(lines))
    why = why_text(message, detail)
    if why:
        parts.append("**Why:** " + fit(why, 1500, escape))
    # too long for the target: limit_problems says so and the next, smaller detail level is tried
    return "\n\n".join(parts)


def _payload(message: AlertMessage, detail: Detail) -> dict[str, Any]:
    summary = summary_line(message)
    fields = [
        {"short": True, "title": label, "value": fit(value, FIELD_VALUE_MAX, escape)}
        for label, value in detail_rows(message)
        if label != "Event"
    ]
    attachment = {
        "fallback": shorten(neutralise_mentions(summary), FALLBACK_MAX),
        "color": TEST_COLOUR if message.kind == "test" else COLOURS.get(message.event_type, TEST_COLOUR),
        "text": _attachment_text(message, detail),
        "fields": fields,
        "footer": shorten(f"aggregator · event {neutralise_mentions(clean_text(message.event_id))}", 200),
    }
    return {"text": "**" + fit(summary, TEXT_MAX - 4, escape) + "**", "attachments": [attachment]}


def limit_problems(payload: dict[str, Any]) -> list[str]:
    problems = []
    if len(payload.get("text", "")) > TEXT_MAX:
        problems.append("text")
    if any(len(a.get("text", "")) > ATTACHMENT_TEXT_MAX for a in payload.get("attachments", [])):
        problems.append("attachment text")
    size = len(json_body(payload).decode("utf-8"))
    if size > BODY_MAX_CHARACTERS:
        problems.append(f"body of {size} characters")
    return problems


def render(message: AlertMessage, now: datetime) -> OutgoingRequest:
    """``now`` is unused: the post does not depend on the moment it is sent."""
    payload = first_fitting(lambda detail: _payload(message, detail), lambda p: not limit_problems(p))
    return json_request(message, payload)
