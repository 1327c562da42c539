"""Discord webhooks: the summary as message content and one embed with the details.

What this relies on (Discord's Execute Webhook, embed and allowed-mentions references, checked for this
module):

- the body is ``{"content": ..., "embeds": [...], "allowed_mentions": ...}``; content at most 2000
  characters; an embed's title at most 256, description 4096, at most 25 fields with names of 256 and
  values of 1024, footer text 2048, and title + description + field names and values + footer + author
  name together at most 6000 characters;
- ``allowed_mentions: {"parse": []}`` stops every mention in the message from notifying anyone, whatever
  the text says. We also escape the text, so it does not even look like a mention (defence in depth: a
  later change of ``parse`` must not reopen the hole): ``@everyone``, ``@here`` and ``<@…>`` get a
  zero-width space after ``@`` or ``<``, as discord.py's ``escape_mentions`` does;
- Discord markdown treats a backslash before a punctuation character as an escape, so ``\\*``, ``\\_``,
  ``\\[`` … render as the character itself. Escaping ``[``, ``]``, ``(`` and ``)`` stops masked links
  (``[x](https://evil)``) in feed text; our own links go through safe_url (http/https, parentheses
  percent-encoded). Footer text is not markdown, so only our own words go there;
- the embed's ``url`` (the title's link) is set only for an http or https address.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ..models import AlertMessage
from .base import (
    Detail,
    OutgoingRequest,
    backslash_escape,
    detail_rows,
    event_colour,
    event_footer,
    first_report_url,
    fit,
    fitting_request,
    headline_text,
    markdown_intro,
    markdown_why,
    neutralise_mentions,
    report_list,
    summary_line,
)

CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
FIELDS_BUDGET = 2500

COLOURS = {"NEW_ROUND": 0x1F6FEB, "EXCHANGE": 0x2DA44E, "DEADLINE": 0xD29922}
TEST_COLOUR = 0x8C959F

# Characters with a meaning anywhere in a line; ``(``/``)`` only matter after ``]``, which is escaped.
_INLINE = re.compile(r"([\\*_~`|<\[\]])")


def escape(text: str) -> str:
    """Plain text made inert in Discord markdown: markup characters backslash-escaped (the fewest that do
    it, since push notifications show the raw text), mentions neutralised."""
    return backslash_escape(neutralise_mentions(text), _INLINE)


def _description(message: AlertMessage, detail: Detail) -> str:
    parts = [markdown_intro(message, escape)]
    parts.append(
        report_list(
            message, detail, escape, heading="**First reports**", bullet="• ", more="*and {extra:,} more*"
        )
    )
    parts.append(markdown_why(message, detail, escape))
    # too long for the target: limit_problems says so and the next, smaller detail level is tried
    return "\n\n".join(part for part in parts if part)


def _fields(message: AlertMessage) -> list[dict[str, Any]]:
    rows = detail_rows(message)[1:]  # all but the event, which the description names
    fields: list[dict[str, Any]] = []
    used = 0
    for label, value in rows[:FIELDS_MAX]:
        field = {
            "name": fit(label, FIELD_NAME_MAX, escape),
            "value": fit(value, FIELD_VALUE_MAX, escape) or "—",
            "inline": True,
        }
        used += len(field["name"]) + len(field["value"])
        if used > FIELDS_BUDGET:  # facts never crowd out the summary and the reports
            break
        fields.append(field)
    return fields


def _payload(message: AlertMessage, detail: Detail) -> dict[str, Any]:
    summary = summary_line(message)
    headline = headline_text(message, detail) or summary
    first_url = first_report_url(message)
    embed: dict[str, Any] = {
        "title": fit(headline, TITLE_MAX, escape),
        "description": _description(message, detail),
        "color": event_colour(message, COLOURS, TEST_COLOUR),
        "fields": _fields(message),
        # footers are not markdown: no escapes, but no mention-looking text either
        "footer": {"text": event_footer(message)},
        "timestamp": message.first_seen.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    if first_url:
        embed["url"] = first_url
    return {
        "content": fit(summary, CONTENT_MAX, escape),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }


def embed_characters(embed: dict[str, Any]) -> int:
    """What Discord counts toward the 6000 characters of an embed."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    total += len(embed.get("footer", {}).get("text", "")) + len(embed.get("author", {}).get("name", ""))
    return total


def limit_problems(payload: dict[str, Any]) -> list[str]:
    """Every Discord limit this payload breaks (empty when Discord accepts it)."""
    problems = []
    if len(payload.get("content", "")) > CONTENT_MAX:
        problems.append("content")
    for embed in payload.get("embeds", []):
        if len(embed.get("title", "")) > TITLE_MAX:
            problems.append("title")
        if len(embed.get("description", "")) > DESCRIPTION_MAX:
            problems.append("description")
        fields = embed.get("fields", [])
        if len(fields) > FIELDS_MAX:
            problems.append("field count")
        if any(len(f["name"]) > FIELD_NAME_MAX or len(f["value"]) > FIELD_VALUE_MAX for f in fields):
            problems.append("field size")
        if embed_characters(embed) > EMBED_TOTAL_MAX:
            problems.append(f"embed of {embed_characters(embed)} characters")
    return problems


def render(message: AlertMessage, now: datetime) -> OutgoingRequest:
    """``now`` is unused: a Discord payload does not depend on the moment it is sent."""
    return fitting_request(message, _payload, limit_problems)
