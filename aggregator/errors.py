"""The error hierarchy. Every error carries what a user needs to act on it.

AggregatorError
 ├── ConfigError            feeds.toml is wrong: file, key path, what is wrong
 ├── FeedError              one feed failed; recorded on the feed, never stops the others
 │    ├── FetchError        the HTTP side (``reason`` is a short machine-readable code)
 │    │    ├── BlockedAddressError    the host resolves to a loopback/private/... address
 │    │    ├── RedirectError          too many redirects, bad scheme, no Location
 │    │    ├── DeadlineExceededError  the whole fetch (headers + body) took too long
 │    │    ├── BodyTooLargeError      the decoded body is over the cap
 │    │    ├── TruncatedBodyError     the connection closed before the announced end
 │    │    ├── HTTPStatusError        a 4xx/5xx answer (status, retry_after)
 │    │    └── ConnectionFailedError  DNS, refused, reset, TLS
 │    └── ParseError        the bytes are not a usable feed
 │         └── NotAFeedError          empty body, an HTML page, an error page
 ├── StoreError             the database could not be opened or migrated
 └── DeliveryError          one attempt to deliver an alert failed (retryable, status, retry_after_s)
"""

from __future__ import annotations


class AggregatorError(Exception):
    """Base of every error the program raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} (hint: {self.hint})"


class ConfigError(AggregatorError):
    """The configuration file is invalid. ``str()`` is ``file: key: what is wrong``."""

    def __init__(self, file: str, key: str, problem: str, *, hint: str | None = None) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(where + problem, hint=hint)


class FeedError(AggregatorError):
    """One feed failed. ``reason`` is a short stable code (``deadline``, ``too_large``, ``http_404``...)."""

    reason: str = "feed_error"

    def __init__(
        self, message: str, *, url: str | None = None, reason: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.url = url
        if reason is not None:
            self.reason = reason


class FetchError(FeedError):
    reason = "fetch_error"


class BlockedAddressError(FetchError):
    reason = "blocked_address"
    hint = "set allow_private_networks = true in [settings] to poll feeds on private networks"


class RedirectError(FetchError):
    reason = "bad_redirect"


class DeadlineExceededError(FetchError):
    reason = "deadline"


class BodyTooLargeError(FetchError):
    reason = "too_large"


class TruncatedBodyError(FetchError):
    reason = "truncated"


class ConnectionFailedError(FetchError):
    reason = "connection"


class HTTPStatusError(FetchError):
    def __init__(
        self,
        status: int,
        *,
        url: str | None = None,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message or f"HTTP {status}", url=url, reason=f"http_{status}")


class ParseError(FeedError):
    reason = "parse_error"


class NotAFeedError(ParseError):
    reason = "not_a_feed"


class StoreError(AggregatorError):
    """The database could not be reached, opened or migrated."""


class DeliveryError(AggregatorError):
    """One attempt to deliver an alert or digest failed; the delivery loop decides what happens next.

    ``retryable``: try again later (timeouts, refused or dropped connections, SMTP 4xx, HTTP 5xx/408/429);
    else the row is dead (SMTP 5xx, HTTP 4xx, a certificate that does not verify). ``status`` is the SMTP
    reply code or HTTP status when there was one; ``retry_after_s`` is what the receiver asked for, if it did.
    The message carries the receiver's reply so that a dead row says why.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after_s: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.retryable = retryable
        self.status = status
        self.retry_after_s = retry_after_s
