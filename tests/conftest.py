"""Shared fixtures. Keep this small: helpers live in their own modules (tests/feedserver.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from feedserver import FeedServer


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A live HTTP/1.1 server on 127.0.0.1 (free port), closed after the test; fails it if a handler broke."""
    with FeedServer() as server:
        yield server
    assert server.errors == [], f"feed server handlers raised: {server.errors!r}"
