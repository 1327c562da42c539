"""Slack incoming webhooks: a Block Kit message with a plain ``text`` fallback.

What this relies on (Slack's Block Kit and formatting references, checked for this module):

- a message is ``{"text": ..., "blocks": [...]}``; with blocks, ``text`` is the fallback shown in
  notifications and by clients that cannot draw blocks. It is mrkdwn, so it is escaped like any section;
- at most 50 blocks in a message; a ``header`` block holds ``plain_text`` of at most 150 characters; a
  ``section``'s text at most 3000 characters and at most 10 ``fields`` of at most 2000 each; a ``context``
  block at most 10 elements (we keep each text element to 2000, under the text object limit);
- in mrkdwn, ``&``, ``<`` and ``>`` are the only control characters and must be sent as ``&amp;``, ``&lt;``
  and ``&gt;`` when they are not markup. Mentions (``<!channel>``, ``<!here>``, ``<@U123>``), channel links
  and links (``<https://…|text>``) all need a literal ``<``, so escaping those three makes any feed text
  inert. Bare ``@channel`` is only parsed with the legacy ``link_names`` option, which we never set; it gets
  a zero-width space anyway;
- ``plain_text`` objects (the header) are never parsed for mentions or links, so the summary line goes
  there as it is;
- ``unfurl_links``/``unfurl_media`` false: Slack does not fetch previews of feed links.

mrkdwn has no escape for ``*``, ``_`` or ``~``: a feed title can make its own words bold or italic, which is
harmless; it cannot make a link or a mention.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..models import AlertMessage
from .base import (
    CHANGE_MAX,
    Detail,
    OutgoingRequest,
    change_text,
    detail_rows,
    event_label,
    fit,
    fitting_request,
    headline_text,
    kind_label,
    neutralise_mentions,
    plain_words,
    report_list,
    shorten,
    summary_line,
    why_text,
)

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
CONTEXT_TEXT_MAX = 2000
CONTEXT_ELEMENTS_MAX = 10
BLOCKS_MAX = 50
FALLBACK_MAX = 3000  # Slack truncates ``text`` far later (40,000); a notification shows a line anyway


def escape(text: str) -> str:
    """Plain text made inert in Slack mrkdwn: ``&``, ``<``, ``>`` as entities, mentions neutralised."""
    text = neutralise_mentions(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str | None, text: str) -> str:
    """``<url|text>`` for an escaped ``text``: the url comes from safe_url, where ``|``, ``<`` and ``>`` are
    percent-encoded; its ``&`` is sent as ``&amp;`` like everywhere else in mrkdwn (Slack decodes it back)."""
    return f"<{url.replace('&', '&amp;')}|{text}>" if url else text


def _intro(message: AlertMessage, detail: Detail) -> str:
    line = f"*{escape(kind_label(message.kind))}* · {escape(event_label(message.event_type))}"
    line += f" · {escape(plain_words(message.status))}"
    if message.kind == "update":
        line += f"\n*Changed:* {escape(shorten(change_text(message), CHANGE_MAX))}"
    headline = headline_text(message, detail)
    if headline:
        room = SECTION_MAX - len(line) - len("\n*Headline:* ")
        line += "\n*Headline:* " + fit(headline, room, escape)
    return line


def _fields(message: AlertMessage) -> list[dict[str, str]]:
    rows = [row for row in detail_rows(message) if row[0] not in ("Event", "Status")][:FIELDS_MAX]
    fields = []
    for label, value in rows:
        head = f"*{escape(label)}*\n"
        fields.append({"type": "mrkdwn", "text": head + fit(value, FIELD_MAX - len(head), escape)})
    return fields


def _payload(message: AlertMessage, detail: Detail) -> dict[str, Any]:
    summary = summary_line(message)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": shorten(summary, HEADER_MAX), "emoji": False},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": _intro(message, detail)}},
    ]
    fields = _fields(message)
    if fields:
        blocks.append({"type": "section", "fields": fields})
    reports = report_list(
        message,
        detail,
        escape,
        heading="*First reports*",
        bullet="• ",
        more="_and {extra:,} more_",
        link=_link,
    )
    if reports:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": reports}})
    why = why_text(message, detail)
    if why:
        text = "*Why:* " + fit(why, CONTEXT_TEXT_MAX - len("*Why:* "), escape)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    return {
        "text": fit(summary, FALLBACK_MAX, escape),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def limit_problems(payload: dict[str, Any]) -> list[str]:
    """Every Slack limit this payload breaks (empty when Slack accepts it)."""
    problems = []
    blocks = payload.get("blocks", [])
    if len(blocks) > BLOCKS_MAX:
        problems.append(f"{len(blocks)} blocks")
    if len(payload.get("text", "")) > FALLBACK_MAX:
        problems.append("fallback text")
    for index, block in enumerate(blocks):
        text = block.get("text", {}).get("text", "")
        if block["type"] == "header" and len(text) > HEADER_MAX:
            problems.append(f"block {index}: header of {len(text)}")
        if block["type"] == "section":
            if len(text) > SECTION_MAX:
                problems.append(f"block {index}: section text of {len(text)}")
            fields = block.get("fields", [])
            if len(fields) > FIELDS_MAX or any(len(f["text"]) > FIELD_MAX for f in fields):
                problems.append(f"block {index}: fields")
        if block["type"] == "context":
            elements = block.get("elements", [])
            if len(elements) > CONTEXT_ELEMENTS_MAX or any(
                len(e["text"]) > CONTEXT_TEXT_MAX for e in elements
            ):
                problems.append(f"block {index}: context")
    return problems


def render(message: AlertMessage, now: datetime) -> OutgoingRequest:
    """``now`` is unused: a Slack payload does not depend on the moment it is sent."""
    return fitting_request(message, _payload, limit_problems)
