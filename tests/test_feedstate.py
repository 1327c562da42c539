"""Feed state after a fetch: backoff, Retry-After, 410, permanent redirects, reset on success."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from aggregator.errors import DeadlineExceededError, HTTPStatusError
from aggregator.feedstate import MAX_BACKOFF_S, after_failure, after_success, backoff_delay_s
from aggregator.models import FeedState, FeedStatus, FetchOutcome, FetchResult

NOW = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)
INTERVAL = 900.0


def feed(**changes: object) -> FeedState:
    base = FeedState(id=1, name="wire", url="https://a.example/rss", config_url="https://a.example/rss")
    return FeedState(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})  # type: ignore[attr-defined]


def ok(**changes: object) -> FetchResult:
    return FetchResult(
        requested_url="https://a.example/rss",
        final_url="https://a.example/rss",
        outcome=FetchOutcome.OK,
        status=200,
        **changes,
    )  # type: ignore[arg-type]


def test_backoff_doubles_from_the_interval_and_is_capped_at_six_hours() -> None:
    delays = [backoff_delay_s(INTERVAL, n) for n in range(1, 10)]
    assert delays[:4] == [900, 1800, 3600, 7200]
    assert all(b >= a for a, b in itertools.pairwise(delays))
    assert max(delays) == MAX_BACKOFF_S == 6 * 3600


def test_consecutive_failures_back_off_further_each_time() -> None:
    state = feed(status=FeedStatus.OK)
    error = DeadlineExceededError("no complete response within 30 s", url=state.url)
    dues = []
    for _ in range(4):
        state = after_failure(state, error, now=NOW, interval_s=INTERVAL)
        assert state.next_due is not None
        dues.append(state.next_due - NOW)
    assert dues == [timedelta(seconds=s) for s in (900, 1800, 3600, 7200)]
    assert state.status is FeedStatus.ERROR
    assert state.error_count == 4
    assert state.last_error_reason == "deadline"
    assert "30 s" in (state.last_error or "")


def test_success_resets_the_backoff_and_clears_the_error() -> None:
    failing = feed(
        status=FeedStatus.ERROR, error_count=5, last_error="HTTP 500", last_error_reason="http_500"
    )
    state = after_success(failing, ok(etag='"v2"'), now=NOW, interval_s=INTERVAL, body_hash="abc")
    assert state.status is FeedStatus.OK
    assert state.error_count == 0
    assert state.last_error is None
    assert state.next_due == NOW + timedelta(seconds=INTERVAL)
    assert state.etag == '"v2"'
    assert state.body_hash == "abc"
    assert state.last_success_at == NOW


def test_validators_are_kept_when_a_304_does_not_repeat_them() -> None:
    state = feed(etag='"v1"', last_modified="Mon, 13 Jul 2026 10:00:00 GMT", body_hash="h1")
    result = FetchResult(
        requested_url=state.url, final_url=state.url, outcome=FetchOutcome.NOT_MODIFIED, status=304
    )
    after = after_success(state, result, now=NOW, interval_s=INTERVAL, body_hash=None)
    assert (after.etag, after.last_modified, after.body_hash) == (state.etag, state.last_modified, "h1")


def test_permanent_redirect_updates_the_stored_url() -> None:
    state = after_success(
        feed(), ok(permanent_url="https://b.example/feed"), now=NOW, interval_s=INTERVAL, body_hash="x"
    )
    assert state.url == "https://b.example/feed"
    assert state.config_url == "https://a.example/rss"


def test_410_marks_the_feed_gone_with_a_reason() -> None:
    state = after_failure(
        feed(), HTTPStatusError(410, url="https://a.example/rss"), now=NOW, interval_s=INTERVAL, status=410
    )
    assert state.status is FeedStatus.GONE
    assert state.next_due is None
    assert state.gone_reason is not None and "410" in state.gone_reason
    assert state.last_status == 410


def test_retry_after_is_honoured_without_escalating_the_backoff() -> None:
    error = HTTPStatusError(429, url="https://a.example/rss", retry_after=7200)
    state = after_failure(feed(status=FeedStatus.OK), error, now=NOW, interval_s=INTERVAL, status=429)
    assert state.next_due == NOW + timedelta(seconds=7200)
    again = after_failure(state, error, now=NOW, interval_s=INTERVAL, status=429)
    assert again.error_count == state.error_count == 1


def test_a_short_retry_after_never_polls_faster_than_the_interval() -> None:
    error = HTTPStatusError(503, url="https://a.example/rss", retry_after=5)
    state = after_failure(feed(), error, now=NOW, interval_s=INTERVAL, status=503)
    assert state.next_due == NOW + timedelta(seconds=INTERVAL)
