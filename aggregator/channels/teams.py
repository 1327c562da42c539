"""Microsoft Teams through a Workflows (Power Automate) webhook: one Adaptive Card.

What this relies on (Microsoft's Teams webhook and Adaptive Card documentation, checked for this module):

- Office 365 connectors are being retired; a Workflows flow started by "When a Teams webhook request is
  received" posts Adaptive Cards only (not the old MessageCard format). Its body is a message with one
  attachment: ``{"type": "message", "attachments": [{"contentType":
  "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": <AdaptiveCard>}]}``;
- the card is ``{"type": "AdaptiveCard", "version": "1.4", "body": [...], "actions": [...]}``; Teams
  renders schema 1.4 everywhere (1.5 only on some clients), so 1.4 it is. ``msteams.width: Full`` uses the
  channel's width;
- a Teams message is at most about 28 KB, counted in bytes: we keep the whole body under 27,000 UTF-8
  bytes and send ``charset=utf-8`` (without it the service counts two bytes a character);
- ``TextBlock.text`` and ``Fact.title``/``Fact.value`` take a Markdown subset: bold, italic, lists and
  ``[text](url)`` links; HTML is not supported. It is CommonMark-based, so a backslash before ``*``, ``_``,
  ``[`` or ``]`` shows the character itself: feed text gets those escapes, so ``[x](https://evil)`` is no
  link, and a leading ``-``, ``+``, ``>``, ``#`` or ``1.`` is escaped too, so it makes no list or heading.
  TextBlocks also expand ``{{DATE(…)}}`` and ``{{TIME(…)}}``: a zero-width space splits the braces;
- ``Action.OpenUrl`` only for http and https (safe_url), like every link in the card.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ..models import AlertMessage
from .base import (
    CHANGE_MAX,
    ZERO_WIDTH_SPACE,
    Detail,
    OutgoingRequest,
    backslash_escape,
    change_text,
    detail_rows,
    first_report_url,
    fit,
    fitting_request,
    headline_text,
    json_body,
    kind_label,
    markdown_why,
    report_entry,
    report_lines,
    shorten,
    summary_line,
)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.4"
MAX_BODY_BYTES = 27_000  # Teams' limit is about 28 KB for the whole message
TEXT_MAX = 2000  # no documented per-block limit; long blocks are unreadable on a card anyway

_INLINE = re.compile(r"([\\*_\[\]`~])")


def escape(text: str) -> str:
    """Plain text made inert in an Adaptive Card TextBlock or Fact."""
    text = backslash_escape(text, _INLINE)
    return text.replace("{{", "{" + ZERO_WIDTH_SPACE + "{").replace("}}", "}" + ZERO_WIDTH_SPACE + "}")


def _text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _card(message: AlertMessage, detail: Detail) -> dict[str, Any]:
    summary = summary_line(message)
    intro = f"**{kind_label(message.kind)}**"
    if message.kind == "update":
        intro += " · " + escape(shorten(change_text(message), CHANGE_MAX))
    body: list[dict[str, Any]] = [
        _text_block(fit(summary, TEXT_MAX, escape), size="Medium", weight="Bolder"),
        _text_block(intro, isSubtle=True, spacing="None"),
    ]
    headline = headline_text(message, detail)
    if headline:
        body.append(_text_block(fit(headline, TEXT_MAX, escape), spacing="Small"))
    body.append(
        {
            "type": "FactSet",
            "facts": [
                {"title": escape(label), "value": fit(value, 500, escape)}
                for label, value in detail_rows(message)
            ],
        }
    )
    reports = report_lines(message, detail.reports, detail.title_max)
    if reports:
        body.append(_text_block("**First reports**", spacing="Medium"))
        body += [_text_block(report_entry(report, escape), spacing="Small") for report in reports]
        extra = len(message.reports) - len(reports)
        if extra > 0:
            body.append(_text_block(f"_and {extra:,} more_", isSubtle=True, spacing="Small"))
    why = markdown_why(message, detail, escape, TEXT_MAX)
    if why:
        body.append(_text_block(why, isSubtle=True, size="Small"))
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    first_url = first_report_url(message)
    if first_url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the first report", "url": first_url}]
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card}],
    }


def limit_problems(payload: dict[str, Any]) -> list[str]:
    size = len(json_body(payload))
    return [f"{size} bytes"] if size > MAX_BODY_BYTES else []


def render(message: AlertMessage, now: datetime) -> OutgoingRequest:
    """``now`` is unused: the card does not depend on the moment it is sent."""
    return fitting_request(message, _card, limit_problems)
