"""Small RSS 2.0 and Atom documents for tests that serve feeds (the daemon and story pipeline tests)."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

FeedEntry = tuple[str, str, str, str, datetime]  # guid, link, title, summary, published


def rss(outlet: str, entries: list[FeedEntry]) -> bytes:
    """An RSS 2.0 feed titled ``outlet`` (its site is https://<outlet in lower case>.example/)."""
    items = "".join(
        f"<item><guid isPermaLink='false'>{guid}</guid><link>{link}</link><title>{escape(title)}</title>"
        f"<description>{escape(summary)}</description><pubDate>{format_datetime(published)}</pubDate></item>"
        for guid, link, title, summary, published in entries
    )
    return (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{outlet}</title>"
        f"<link>https://{outlet.lower()}.example/</link>{items}</channel></rss>"
    ).encode()


def atom(outlet: str, entries: list[FeedEntry]) -> bytes:
    """An Atom feed titled ``outlet`` (its id is urn:<outlet in lower case>), as new as its first entry."""
    body = "".join(
        f"<entry><id>{guid}</id><link href='{link}'/><title>{escape(title)}</title>"
        f"<summary>{escape(summary)}</summary><updated>{published.isoformat()}</updated></entry>"
        for guid, link, title, summary, published in entries
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<title>{outlet}</title><id>urn:{outlet.lower()}</id><updated>{entries[0][4].isoformat()}</updated>{body}"
        "</feed>"
    ).encode()
