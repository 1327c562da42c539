"""What a fetch means for a feed's state: a pure decision on (state, outcome, now).

Backoff is exponential from the feed's own interval and capped at six hours; a server that asks us to wait
(429/503 with Retry-After) is obeyed without counting as a hard failure; 410 Gone stops polling with a reason.
Nothing is silently dead: every failure leaves its reason and status on the feed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from .errors import FeedError, HTTPStatusError
from .models import FeedState, FeedStatus, FetchResult

MAX_BACKOFF_S = 6 * 3600.0
MAX_RETRY_AFTER_S = 24 * 3600.0  # a server asking for more than a day is capped: we still want to know


def backoff_delay_s(interval_s: float, error_count: int) -> float:
    """Delay before the next try after `error_count` consecutive failures (1 → the normal interval)."""
    exponent = max(0, min(error_count - 1, 16))
    return min(MAX_BACKOFF_S, interval_s * (2**exponent))


def after_success(
    state: FeedState,
    result: FetchResult,
    *,
    now: datetime,
    interval_s: float,
    body_hash: str | None,
    problem: str | None = None,
    parsed: bool = False,
) -> FeedState:
    """The feed answered with a usable feed (or 304, or the same body as last time).

    `parsed` says the body was read now: its `problem` (or None) replaces the last one. A 304 or an
    identical body keeps the last problem, which still describes the content.
    """
    url = state.url
    if result.permanent_url and result.permanent_url != state.url:
        url = result.permanent_url
    return replace(
        state,
        url=url,
        status=FeedStatus.OK,
        etag=result.etag if result.etag is not None else state.etag,
        last_modified=result.last_modified if result.last_modified is not None else state.last_modified,
        body_hash=body_hash if body_hash is not None else state.body_hash,
        next_due=now + timedelta(seconds=interval_s),
        error_count=0,
        last_error=None,
        last_error_reason=None,
        last_status=result.status,
        last_fetch_at=now,
        last_success_at=now,
        gone_reason=None,
        last_problem=problem if parsed else state.last_problem,
    )


def after_failure(
    state: FeedState,
    error: FeedError,
    *,
    now: datetime,
    interval_s: float,
    status: int | None = None,
) -> FeedState:
    """The fetch or the parse failed: back off, or stop for good on 410."""
    common = {
        "last_error": str(error),
        "last_error_reason": error.reason,
        "last_status": status,
        "last_fetch_at": now,
    }
    if isinstance(error, HTTPStatusError) and error.status == 410:
        return replace(
            state,
            status=FeedStatus.GONE,
            next_due=None,
            gone_reason=f"HTTP 410 Gone from {error.url or state.url} on {now:%Y-%m-%d %H:%M} UTC",
            error_count=state.error_count + 1,
            **common,
        )
    if isinstance(error, HTTPStatusError) and error.status in (429, 503) and error.retry_after is not None:
        # The server told us when to come back: obey it, and don't treat it as a hard failure.
        wait = min(MAX_RETRY_AFTER_S, max(error.retry_after, interval_s))
        return replace(
            state,
            status=FeedStatus.ERROR,
            next_due=now + timedelta(seconds=wait),
            error_count=max(state.error_count, 1),
            **common,
        )
    errors = state.error_count + 1
    return replace(
        state,
        status=FeedStatus.ERROR,
        next_due=now + timedelta(seconds=backoff_delay_s(interval_s, errors)),
        error_count=errors,
        **common,
    )
