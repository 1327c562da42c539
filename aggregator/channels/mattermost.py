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
    backslash_escape,
    detail_rows,
    event_colour,
    event_footer,
    fit,
    fitting_request,
    headline_text,
    json_body,
    markdown_intro,
    markdown_why,
    neutralise_mentions,
    report_list,
    shorten,
    summary_line,
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
    return backslash_escape(neutralise_mentions(text), _INLINE)


def _attachment_text(message: AlertMessage, detail: Detail) -> str:
    parts = [markdown_intro(message, escape)]
    headline = headline_text(message, detail)
    if headline:
        parts.append("**Headline:** " + escape(headline))
    parts.append(
        report_list(
            message, detail, escape, heading="**First reports**", bullet="- ", more="- _and {extra:,} more_"
        )
    )
    parts.append(markdown_why(message, detail, escape))
    # too long for the target: limit_problems says so and the next, smaller detail level is tried
    return "\n\n".join(part for part in parts if part)


def _payload(message: AlertMessage, detail: Detail) -> dict[str, Any]:
    summary = summary_line(message)
    fields = [
        {"short": True, "title": label, "value": fit(value, FIELD_VALUE_MAX, escape)}
        for label, value in detail_rows(message)
        if label != "Event"
    ]
    attachment = {
        "fallback": shorten(neutralise_mentions(summary), FALLBACK_MAX),
        "color": event_colour(message, COLOURS, TEST_COLOUR),
        "text": _attachment_text(message, detail),
        "fields": fields,
        "footer": event_footer(message),
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
    return fitting_request(message, _payload, limit_problems)
