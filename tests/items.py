"""Stored items made for the story tests: unique URL per (feed, key), the text given."""

from __future__ import annotations

from datetime import datetime

from aggregator.models import Item


def news_item(
    feed: str,
    key: str,
    title: str,
    summary: str,
    published: datetime,
    *,
    fingerprint: str | None = None,
    content_hash: str | None = None,
) -> Item:
    """An item of ``feed``; its fingerprint and content hash are unique to (feed, key) unless given."""
    return Item(
        feed=feed,
        key=key,
        url=f"https://{feed}.example/{key}",
        canonical_url=f"https://{feed}.example/{key}",
        title=title,
        summary=summary,
        content=None,
        author=None,
        published=published,
        updated=None,
        date_flag=None,
        language="en",
        fingerprint=fingerprint or f"fp-{feed}-{key}",
        content_hash=content_hash or f"h-{feed}-{key}",
    )
