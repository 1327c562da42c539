"""The daily digest: what happened since the last one, rendered as plain text and HTML from Jinja2 templates.

Stories come grouped by event type (NEW_ROUND, EXCHANGE, DEADLINE, then any other type), then the other
relevant stories; each says whether it is new since the previous digest, which outlets carry it and where it
was first reported. A status section follows the tracked events: the next round, open deadlines, recent
exchanges, what recently concluded. Times are shown in the digest's timezone.

Feed text is untrusted. Every story and event is turned into plain strings here, one at a time, before a
template sees it, so a story whose fields are hostile or malformed still renders (escaped, by the HTML
template's autoescaping) or, at worst, is shown as one that could not be shown; it never costs the digest.
Links pass :func:`~aggregator.channels.email.safe_url` (http and https only) here and again in the templates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime, tzinfo
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import jinja2

from .channels.base import as_utc, format_day
from .channels.email import (
    EVENT_LABELS,
    EmailSettings,
    clean_text,
    compose,
    fact_line,
    format_time,
    message_id,
    report_view,
    safe_url,
    shorten,
    status_label,
    zone,
    zone_name,
)
from .models import Digest, DigestEvent, DigestStory

__all__ = ["PROJECT_TEMPLATES", "digest_email", "is_empty", "load_templates", "render_digest"]

log = logging.getLogger(__name__)

# The shipped templates: in a checkout, aggregator/templates links to the top-level templates/; an installed
# wheel carries a copy (package data), so e-mail works however the package was installed.
PROJECT_TEMPLATES = Path(__file__).resolve().parent / "templates"
EVENT_ORDER = ("NEW_ROUND", "EXCHANGE", "DEADLINE")
SECTION_TITLES = {
    "NEW_ROUND": "New rounds of talks",
    "EXCHANGE": "Prisoner exchanges",
    "DEADLINE": "Deadlines",
}
OTHER_TITLE = "Other relevant stories"
MAX_STORIES = 25  # per section: a digest has to stay readable (and under Gmail's ~100 KB clipping)
MAX_OUTLETS = 6  # named per story; the rest are counted
MAX_EVENTS = 10  # per status group
_OPEN = {"NEW_ROUND": ("proposed", "scheduled", "under_way"), "DEADLINE": ("set", "approaching")}
_BROKEN = "(this story could not be shown)"


def load_templates(override_dir: Path | None = None) -> jinja2.Environment:
    """The templates: the user's directory first (any template found there wins), then the project's.

    Autoescaping is on for ``*.html.j2`` and off for the plain-text ones; an undefined variable is an error
    rather than an empty string; ``safe_url`` is available as a filter.
    """
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        if not override_dir.is_dir():
            raise FileNotFoundError(f"templates directory {override_dir} does not exist")
        loaders.append(jinja2.FileSystemLoader(override_dir))
    loaders.append(jinja2.FileSystemLoader(PROJECT_TEMPLATES))
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["safe_url"] = safe_url
    return environment


def is_empty(digest: Digest) -> bool:
    """No story at all since the last digest (the status of tracked events alone is not news)."""
    return not digest.other_stories and not any(digest.stories_by_event.values())


def render_digest(digest: Digest, templates: jinja2.Environment) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of ``digest`` from digest.txt.j2 and digest.html.j2."""
    context = digest_context(digest)
    text = templates.get_template("digest.txt.j2").render(context)
    html = templates.get_template("digest.html.j2").render(context)
    return context["subject"], text, html


def digest_email(
    digest: Digest, settings: EmailSettings, templates: jinja2.Environment, key: str
) -> EmailMessage:
    """The digest as an e-mail whose Message-ID comes from ``key`` (stable per channel and period)."""
    subject, text, html = render_digest(digest, templates)
    return compose(
        subject=subject,
        text=text,
        html=html,
        settings=settings,
        message_id=message_id(key),
        date=digest.generated_at,
    )


# --- the templates' variables (documented in templates/README.md) ------------------------------------------


def digest_context(digest: Digest) -> dict[str, Any]:
    where = zone(digest.timezone)
    sections = []
    types = [kind for kind in EVENT_ORDER if kind in digest.stories_by_event]
    types += sorted(str(kind) for kind in digest.stories_by_event if kind not in EVENT_ORDER)
    for kind in types:
        stories = digest.stories_by_event[kind]
        if stories:
            title = _type_label(kind, SECTION_TITLES)
            sections.append(_section(clean_text(kind), title, stories, where))
    if digest.other_stories:
        sections.append(_section("", OTHER_TITLE, digest.other_stories, where))
    views = [story for section in sections for story in section["stories"]]
    total = sum(section["count"] for section in sections)
    new = sum(story["is_new"] for story in views)
    day = format_day(as_utc(digest.until).astimezone(where).date())
    if total:
        stories = "1 story" if total == 1 else f"{total} stories"
        subject = f"Russia–Ukraine talks digest, {day}: {stories}, {new} new"
    else:
        subject = f"Russia–Ukraine talks digest, {day}: nothing new"
    return {
        "subject": subject,
        "channel": shorten(clean_text(digest.channel), 80),
        "since": format_time(digest.since, where),
        "until": format_time(digest.until, where),
        "generated_at": format_time(digest.generated_at, where),
        "timezone": zone_name(where),
        "sections": sections,
        "status": _status(digest.events, where),
        "counts": {"stories": total, "new": new, "updated": len(views) - new},
        "empty": total == 0,
    }


def _section(kind: str, title: str, stories: Iterable[DigestStory], where: tzinfo) -> dict[str, Any]:
    views = sorted(
        (_story_view(story, where) for story in stories),
        key=lambda view: (view["broken"], not view["is_new"], -view["sort_key"]),
    )
    return {
        "type": kind,
        "title": title,
        "stories": views[:MAX_STORIES],
        "more": max(0, len(views) - MAX_STORIES),
        "count": len(views),
    }


def _story_view(story: DigestStory, where: tzinfo) -> dict[str, Any]:
    try:
        return _story_fields(story, where)
    except Exception:  # one poisoned story is shown as such; the digest goes out with all the others
        log.warning("digest: a story could not be rendered", exc_info=True)
        return _broken_story(story)


def _story_fields(story: DigestStory, where: tzinfo) -> dict[str, Any]:
    reports = []
    for report in story.reports:
        try:
            reports.append(report_view(report, where))
        except Exception:  # a malformed report is left out; the story still has its others
            log.warning("digest: a report could not be rendered", exc_info=True)
    outlets = [name for name in (shorten(clean_text(outlet), 60) for outlet in story.outlets) if name]
    facts = []
    for kind in story.event_types:
        line = fact_line(story.facts.get(kind) or {}, where)
        facts.append({"type": clean_text(kind), "label": _type_label(kind), "line": line})
    return {
        "headline": shorten(clean_text(story.headline), 300) or "(no headline)",
        "is_new": bool(story.is_new),
        "facts": facts,
        "outlets": outlets[:MAX_OUTLETS],
        "more_outlets": max(0, len(outlets) - MAX_OUTLETS),
        "outlet_count": len(outlets),
        "first_report": reports[0] if reports else None,
        "first_seen": format_time(story.first_seen, where),
        "last_seen": format_time(story.last_seen, where),
        "broken": False,
        "sort_key": as_utc(story.last_seen).timestamp(),
    }


def _broken_story(story: object) -> dict[str, Any]:
    try:
        headline = shorten(clean_text(getattr(story, "headline", "")), 300)
    except Exception:  # even the headline cannot be read
        headline = ""
    return {
        "headline": headline or _BROKEN,
        "is_new": False,
        "facts": [],
        "outlets": [],
        "more_outlets": 0,
        "outlet_count": 0,
        "first_report": None,
        "first_seen": "",
        "last_seen": "",
        "broken": True,
        "sort_key": 0.0,
    }


def _status(events: Iterable[DigestEvent], where: tzinfo) -> list[dict[str, Any]]:
    """Tracked events in four groups: next round, open deadlines, recent exchanges, recently concluded."""
    groups: dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {
        "Next round": [],
        "Open deadlines": [],
        "Recent exchanges": [],
        "Recently concluded": [],
    }
    for event in events:
        try:
            view = _event_view(event, where)
            if event.type in _OPEN and event.status in _OPEN[event.type]:
                group = "Next round" if event.type == "NEW_ROUND" else "Open deadlines"
                # soonest first: the round's date or the deadline; undated ones after the dated
                due = _day(event.facts.get("date" if event.type == "NEW_ROUND" else "deadline"))
                order: tuple[Any, ...] = (due is None, due or date.max, -view["sort_key"])
            else:
                group = "Recent exchanges" if event.type == "EXCHANGE" else "Recently concluded"
                order = (False, date.min, -view["sort_key"])
        except Exception:  # a malformed event is left out of the status; the rest is shown
            log.warning("digest: a tracked event could not be rendered", exc_info=True)
            continue
        groups[group].append((order, view))
    return [
        {
            "title": title,
            "events": [view for _, view in sorted(members, key=lambda pair: pair[0])[:MAX_EVENTS]],
            "more": max(0, len(members) - MAX_EVENTS),
        }
        for title, members in groups.items()
        if members
    ]


def _event_view(event: DigestEvent, where: tzinfo) -> dict[str, Any]:
    return {
        "type": clean_text(event.type),
        "label": _type_label(event.type),
        "status": status_label(event.status),
        "facts": fact_line(event.facts, where),
        "outlets": int(event.outlets),
        "first_seen": format_time(event.first_seen, where),
        "last_seen": format_time(event.last_seen, where),
        "sort_key": as_utc(event.last_seen).timestamp(),
    }


def _type_label(kind: str, labels: Mapping[str, str] = EVENT_LABELS) -> str:
    """An event type's label; a type without one as words (``CEASEFIRE_TALKS`` as ``Ceasefire talks``)."""
    return labels.get(kind) or clean_text(kind).replace("_", " ").capitalize()


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None
