"""Per-target payloads for alerts: pure functions from an :class:`~aggregator.models.AlertMessage` to the
exact HTTP request a channel sends.

    request = render("slack", message)                       # OutgoingRequest(body, headers, content_type)
    request = render("webhook", message, secret="whsec_…")   # signed by the Standard Webhooks convention
    requests.post(url, data=request.body, headers=request.headers, timeout=...)

Every request carries the message's idempotency key as ``webhook-id``. With a ``secret`` (meant for the
generic webhook, accepted for any target) it also carries ``webhook-timestamp`` and ``webhook-signature``.
``now`` is the moment of sending (the generic webhook's ``timestamp`` and the signature's); it defaults to
the current time, and tests pass a fixed one.

Feed text is escaped for each target's markup and every link is http or https: see each module's
docstring for the target's format and limits, and base.py for the shared rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ..models import AlertMessage
from . import discord, mattermost, slack, teams, webhook
from .base import OutgoingRequest, sign_request, signing_key, summary_line

__all__ = ["CHANNEL_TYPES", "OutgoingRequest", "Renderer", "render", "signing_key", "summary_line"]

Renderer = Callable[[AlertMessage, datetime], OutgoingRequest]

# type name (as in feeds.toml) -> renderer of one alert as an HTTP request
CHANNEL_TYPES: dict[str, Renderer] = {
    "webhook": webhook.render,
    "slack": slack.render,
    "discord": discord.render,
    "teams": teams.render,
    "mattermost": mattermost.render,
    # "email" is registered by aggregator/channels/email.py: it builds an e-mail message, not an HTTP request
}


def render(
    channel_type: str, message: AlertMessage, *, secret: str | None = None, now: datetime | None = None
) -> OutgoingRequest:
    """The request that delivers ``message`` to a channel of ``channel_type``.

    Raises KeyError for a type without an HTTP renderer, and ValueError for an idempotency key that cannot
    be a header or a malformed ``whsec_`` secret (configuration checks catch both earlier)."""
    try:
        renderer = CHANNEL_TYPES[channel_type]
    except KeyError:
        raise KeyError(f"no renderer for channel type {channel_type!r}") from None
    moment = datetime.now(UTC) if now is None else now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    request = renderer(message, moment)
    return sign_request(request, secret, moment) if secret else request
