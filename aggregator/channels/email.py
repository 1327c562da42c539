"""E-mail: one multipart/alternative message per alert, and the SMTP client that sends alerts and digests.

Header hygiene. This image's Python (3.11.7) has CVE-2024-6923: when the email generator refolds a header it
writes an RFC 2047 encoded word that decodes to CR/LF verbatim, so a feed title such as
``=?utf-8?q?x=0D=0ABcc:_victim@example.org?=`` turns into a real ``Bcc:`` line. So every header value that
can carry feed text goes through :func:`header_text` (no control characters, no line or paragraph
separators, no encoded-word openers, capped), and :func:`compose` re-parses the serialised header block and
refuses a message whose header names are not exactly the ones it set. The SMTP envelope always lists the
configured recipients, never addresses read from headers, so even a header that got through could not add
one.

Sending. ``smtplib`` waits forever by default; here every step (connect, TLS handshake, each command and
reply) has ``timeout_s``. STARTTLS and implicit TLS verify the server's certificate and host name with
``ssl.create_default_context()``. Failures become :class:`~aggregator.errors.DeliveryError`: SMTP 4xx,
timeouts, refused and dropped connections are retryable; SMTP 5xx, a certificate that does not verify and a
server that lacks what the settings ask for (STARTTLS, AUTH) are not, and carry the server's reply.

The text helpers here (:func:`clean_text`, :func:`safe_url`, :func:`format_time`, the fact formatting) are
shared with :mod:`aggregator.digest`. Month names, dates and times in words and the kind labels come from
:mod:`aggregator.channels.base`, as the chat targets have them. What stays here on purpose differs from
base's namesakes: :func:`clean_text` keeps zero-width (non-)joiners, turns other control characters into a
space (not nothing) and a lone surrogate into U+FFFD; :func:`shorten` chooses its word boundary and trims
its cut a little differently (a full stop goes before the ellipsis); :func:`safe_url` keeps an accepted URL
as written but for spaces, where base's percent-encodes markup characters and lower-cases the host, and
gives "" rather than None, as a Jinja filter; the event labels (``Prisoner exchange``) and the order and
labels of facts (``Count``, after the place) are the e-mail's own.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from email import policy
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2

from ..errors import DeliveryError
from ..models import AlertMessage, Report
from .base import KIND_LABELS, format_day, format_moment, summary_line

__all__ = [
    "EVENT_LABELS",
    "SECURITY_MODES",
    "EmailSettings",
    "alert_context",
    "alert_email",
    "clean_text",
    "compose",
    "fact_items",
    "fact_line",
    "format_time",
    "header_text",
    "message_id",
    "report_view",
    "safe_url",
    "send_email",
    "shorten",
    "zone",
    "zone_name",
]

SECURITY_MODES = ("starttls", "ssl", "none")
HEADER_LIMIT = 200  # characters of a Subject; folded over lines by the generator, far below the 998 limit
URL_LIMIT = 2048
ALERT_REPORTS = 5  # first reports listed in an alert
ALERT_EVIDENCE = 8

EVENT_LABELS = {"NEW_ROUND": "New round of talks", "EXCHANGE": "Prisoner exchange", "DEADLINE": "Deadline"}
_FACT_ORDER = ("round", "place", "count", "date", "deadline")
_FACT_LABELS = {"round": "Round", "place": "Place", "date": "Date", "count": "Count", "deadline": "Deadline"}
_JOINERS = "\u200c\u200d"  # zero-width (non-)joiners are format characters that some scripts need
_HEADERS = HeaderRegistry()
_ID_SAFE = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*")


# --- text -----------------------------------------------------------------------------------------------


def clean_text(value: object) -> str:
    """One line of plain text: no control, format (bidi, zero-width) or separator characters; spaces
    collapsed."""
    text = value if isinstance(value, str) else str(value)
    kept: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")  # CR, LF, NUL, NEL, U+2028, U+2029... all end a line somewhere
        elif category == "Cf" and char not in _JOINERS:
            continue
        elif category == "Cs":
            kept.append("\ufffd")  # a lone surrogate cannot be encoded; it would fail the whole message
        else:
            kept.append(char)
    return " ".join("".join(kept).split())


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a word boundary if there is one, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


def header_text(value: object, limit: int = HEADER_LIMIT) -> str:
    """A header value made from untrusted text: one clean line, no encoded-word opener, capped."""
    # "=?" starts an RFC 2047 encoded word; refolding decodes it, which is how CVE-2024-6923 gets a CR/LF in
    return shorten(clean_text(value).replace("=?", "= ?"), limit)


def safe_url(value: object) -> str:
    """``value`` if it is an absolute http(s) URL without credentials, else "" (a Jinja filter too)."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in url):
        return ""  # browsers drop tabs and newlines inside URLs: "java\tscript:" must not slip through
    url = url.replace(" ", "%20")
    if not url or len(url) > URL_LIMIT:
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return ""  # userinfo ("https://bank.example@evil.example/") only serves to mislead a reader
    return url


# --- times and facts --------------------------------------------------------------------------------------


def zone(name: str) -> tzinfo:
    """The IANA zone ``name``; UTC when it is not one (the configuration validates it; this never fails)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return UTC


def zone_name(where: tzinfo) -> str:
    """The IANA name of ``where`` as :func:`zone` resolved it ("UTC" when it fell back)."""
    return str(getattr(where, "key", "UTC"))


def format_time(moment: datetime, where: tzinfo) -> str:
    """``14 July 2025, 09:30 EEST``: a moment in the reader's zone (a naive moment is taken as UTC).

    Unlike :func:`~aggregator.channels.base.format_moment`, a missing moment is an error: the callers leave
    a report or story without one out, or show it as one that could not be shown."""
    if moment is None:
        raise TypeError("no moment to format")
    return format_moment(moment, where)


def _format_when(value: object, where: tzinfo) -> str:
    """A fact date: ISO date or date-time (as classified) in words; anything else shown as it is."""
    if isinstance(value, datetime):
        return format_time(value, where)
    if isinstance(value, date):
        return format_day(value)
    text = clean_text(value)
    try:
        if len(text) == 10:
            return format_day(date.fromisoformat(text))
        return format_time(datetime.fromisoformat(text), where)
    except ValueError:
        return shorten(text, 80)  # a span such as "50 days", or whatever a feed said


def _count(value: object) -> str:
    if isinstance(value, bool):
        return clean_text(value)
    if isinstance(value, int):
        return f"{value:,}"
    text = clean_text(value)
    return f"{int(text):,}" if text.isdigit() else shorten(text, 40)


def _ordered(facts: Mapping[str, object]) -> list[tuple[str, object]]:
    known = [(key, facts[key]) for key in _FACT_ORDER if key in facts]
    others = sorted((str(key), value) for key, value in facts.items() if key not in _FACT_ORDER)
    return [(key, value) for key, value in (*known, *others) if value is not None and value != ""]


def fact_items(facts: Mapping[str, object], where: tzinfo) -> list[dict[str, str]]:
    """The facts as label/value pairs for a list: Round 3, Place Istanbul, Date 23 July 2025..."""
    items = []
    for key, value in _ordered(facts):
        if key in ("date", "deadline"):
            shown = _format_when(value, where)
        elif key == "count":
            shown = f"{_count(value)} per side"
        else:
            shown = shorten(clean_text(value), 80)
        label = _FACT_LABELS.get(key) or shorten(clean_text(key).replace("_", " ").capitalize(), 40)
        items.append({"label": label, "value": shown})
    return items


def fact_line(facts: Mapping[str, object], where: tzinfo) -> str:
    """The facts on one line: ``Round 3 · Istanbul · 23 July 2025``, ``1,200 per side · 13 July 2025``."""
    parts = []
    for item, (key, _) in zip(fact_items(facts, where), _ordered(facts), strict=True):
        bare = key in ("place", "count", "date", "deadline")  # what they are is plain from the value
        parts.append(item["value"] if bare else f"{item['label']} {item['value']}")
    return " · ".join(parts)


def status_label(status: object) -> str:
    """``under_way`` as ``under way``."""
    return clean_text(status).replace("_", " ")


def report_view(report: Report, where: tzinfo) -> dict[str, str]:
    """A report as templates show it: plain one-line strings, the link only when it is http(s)."""
    return {
        "outlet": shorten(clean_text(report.outlet), 80),
        "title": shorten(clean_text(report.title), 300),
        "url": safe_url(report.url),
        "published": format_time(report.published, where),
    }


# --- alert e-mails ----------------------------------------------------------------------------------------


def alert_context(message: AlertMessage, *, timezone: str = "UTC") -> dict[str, Any]:
    """The variables alert.txt.j2 and alert.html.j2 see (documented in templates/README.md)."""
    where = zone(timezone)
    reports = []
    for report in message.reports[:ALERT_REPORTS]:
        try:
            reports.append(report_view(report, where))
        except Exception:  # one broken report must not cost the alert: it is left out
            continue
    return {
        "summary": header_text(summary_line(message)),
        "kind": clean_text(message.kind),
        "kind_label": KIND_LABELS.get(message.kind, clean_text(message.kind).capitalize()),
        "is_test": message.kind == "test",
        "reason": shorten(clean_text(message.reason), 300),
        "event_type": clean_text(message.event_type),
        "event_label": EVENT_LABELS.get(message.event_type, clean_text(message.event_type)),
        "status": status_label(message.status),
        "facts": fact_items(message.facts, where),
        "headline": shorten(clean_text(message.headline), 300),
        "reports": reports,
        "more_reports": max(0, len(message.reports) - ALERT_REPORTS),
        "outlets": message.outlets,
        "first_seen": format_time(message.first_seen, where),
        "evidence": [shorten(clean_text(phrase), 200) for phrase in message.evidence[:ALERT_EVIDENCE]],
        "key": clean_text(message.idempotency_key),
        "timezone": zone_name(where),
    }


def alert_email(
    message: AlertMessage, settings: EmailSettings, templates: jinja2.Environment, *, timezone: str = "UTC"
) -> EmailMessage:
    """One alert as an e-mail: Subject = the one-line summary, Message-ID from the idempotency key.

    Alerts about the same tracked event share a ``References`` header, so mail clients thread an event's
    updates together.
    """
    context = alert_context(message, timezone=timezone)
    return compose(
        subject=context["summary"],
        text=templates.get_template("alert.txt.j2").render(context),
        html=templates.get_template("alert.html.j2").render(context),
        settings=settings,
        message_id=message_id(message.idempotency_key),
        date=message.created_at,
        references=message_id(f"event.{message.event_id}"),
    )


def message_id(key: str) -> str:
    """``<key@aggregator>``: the same key gives the same Message-ID, so a resend after a crash is a repeat.

    A key with characters a Message-ID cannot hold keeps its readable part and gains a hash of the whole key.
    """
    if _ID_SAFE.fullmatch(key) and len(key) <= 128:
        return f"<{key}@aggregator>"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    readable = re.sub(r"[^A-Za-z0-9_+-]+", "-", key).strip("-")[:80].strip("-")
    return f"<{readable}.{digest}@aggregator>" if readable else f"<{digest}@aggregator>"


def compose(
    *,
    subject: str,
    text: str,
    html: str,
    settings: EmailSettings,
    message_id: str,
    date: datetime | None = None,
    references: str | None = None,
) -> EmailMessage:
    """A multipart/alternative message (plain text first, HTML preferred) with checked headers."""
    message = EmailMessage()
    message["Subject"] = header_text(subject)
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    moment = date or datetime.now(UTC)
    message["Date"] = format_datetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    message["Message-ID"] = message_id
    if references:
        message["References"] = references
    # automated mail: no out-of-office replies or auto-forward loops (RFC 3834; Exchange's own header)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    _check_headers(message)
    return message


def _check_headers(message: EmailMessage) -> None:
    """Refuse a message whose serialised header block does not parse back to the headers that were set.

    The last line of defence against header injection (CVE-2024-6923 and whatever comes next): the values
    are already clean, so this only fires if something got through :func:`header_text`.
    """
    expected = [name.lower() for name in message]
    try:
        raw = message.as_bytes(policy=policy.SMTP)
    except Exception as error:  # a fixed Python refuses such a header itself (HeaderWriteError)
        message_text = f"e-mail not sent: a header could not be written safely: {error}"
        raise DeliveryError(message_text, retryable=False) from error
    head = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    found = [name.lower() for name in BytesHeaderParser(policy=policy.default).parsebytes(head)]
    if found != expected:
        extra = sorted(set(found) - set(expected)) or found
        raise DeliveryError(
            f"e-mail not sent: its headers changed when written (header injection?): {', '.join(extra)}",
            retryable=False,
        )


# --- settings and sending ---------------------------------------------------------------------------------


def _has_breaks(value: str) -> bool:
    """Whether ``value`` holds a control, format or line-separator character (none belongs in a setting)."""
    return any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in value)


def _mailbox(value: object, what: str) -> Address:
    """One address (``a@example.org`` or ``Desk <a@example.org>``) or ValueError naming ``what``."""
    if not isinstance(value, str) or not value.strip() or _has_breaks(value):
        raise ValueError(f"{what}: {value!r} is not an e-mail address")
    header = _HEADERS("To", value)
    addresses = header.addresses  # type: ignore[attr-defined]
    if len(addresses) != 1 or header.defects or not addresses[0].username or not addresses[0].domain:
        raise ValueError(f"{what}: {value!r} is not one e-mail address")
    return addresses[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailSettings:
    """How to reach the SMTP server and whom to write to (built by the configuration from a channel)."""

    smtp_host: str
    smtp_port: int = 587
    security: str = "starttls"  # one of SECURITY_MODES: STARTTLS on a plain port, TLS from the start, none
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str
    recipients: tuple[str, ...]
    timeout_s: float = 30.0  # for every step: connect, TLS handshake, each command and reply

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(f"security: {self.security!r} is not one of {', '.join(SECURITY_MODES)}")
        if not self.smtp_host or _has_breaks(self.smtp_host) or any(c.isspace() for c in self.smtp_host):
            raise ValueError(f"smtp_host: {self.smtp_host!r} is not a host name")
        if not 0 < self.smtp_port < 65536:
            raise ValueError(f"smtp_port: {self.smtp_port!r} is not a port number")
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s: {self.timeout_s!r} must be positive")
        _mailbox(self.sender, "sender")
        if not self.recipients:
            raise ValueError("recipients: at least one address is needed")
        for index, recipient in enumerate(self.recipients):
            _mailbox(recipient, f"recipients[{index}]")

    @property
    def envelope_sender(self) -> str:
        return _mailbox(self.sender, "sender").addr_spec

    @property
    def envelope_recipients(self) -> list[str]:
        return [_mailbox(recipient, "recipients").addr_spec for recipient in self.recipients]


def send_email(message: EmailMessage, settings: EmailSettings) -> None:
    """Send ``message`` to the configured recipients, or raise :class:`DeliveryError`.

    The envelope is built from the settings, never from the message's headers. After the server accepted the
    message, a failing QUIT is ignored: the message is delivered, and a retry would only send it twice.
    """
    where = f"SMTP {settings.smtp_host}:{settings.smtp_port}"
    tls = ssl.create_default_context()
    client: smtplib.SMTP | None = None
    step = "connect"
    try:
        if settings.security == "ssl":
            step = "connect (TLS)"
            client = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=settings.timeout_s, context=tls
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout_s)
        step = "EHLO"
        client.ehlo()
        if settings.security == "starttls":
            step = "STARTTLS"
            client.starttls(context=tls)
            client.ehlo()
        if settings.username:
            step = "login"
            client.login(settings.username, settings.password or "")
        step = "sending"
        refused = client.send_message(
            message, from_addr=settings.envelope_sender, to_addrs=settings.envelope_recipients
        )
    except Exception as error:
        if client is not None:
            client.close()
        mapped = _delivery_error(error, where, step, settings.timeout_s)
        if mapped is None:
            raise
        raise mapped from error
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        client.close()
    if refused:  # some recipients refused, the others have the message
        raise _refused(refused, where, delivered=len(settings.recipients) - len(refused))


def _reply(value: object) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return shorten(clean_text(text), 500)


def _retryable(code: int) -> bool:
    """SMTP 5xx is permanent; 4xx is transient; anything else (no reply at all) is worth another try."""
    return not 500 <= code <= 599


def _refused(refused: Mapping[str, tuple[int, bytes]], where: str, *, delivered: int) -> DeliveryError:
    codes = [code for code, _ in refused.values()]
    replies = "; ".join(f"{address}: {code} {_reply(text)}" for address, (code, text) in refused.items())
    done = f"delivered to {delivered}, " if delivered else ""
    return DeliveryError(
        f"{where}: {done}recipients refused: {replies}",
        retryable=any(_retryable(code) for code in codes),
        status=codes[0] if codes else None,
    )


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _delivery_error(error: Exception, where: str, step: str, timeout_s: float) -> DeliveryError | None:
    """What a failed SMTP attempt means for the delivery loop; None for errors that are bugs, not delivery."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):  # every recipient refused
        return _refused(error.recipients, where, delivered=0)
    if isinstance(error, smtplib.SMTPResponseException):  # sender, data, greeting, HELO or login refused
        code = error.smtp_code
        return DeliveryError(
            f"{where}: {step} refused: {code} {_reply(error.smtp_error)}",
            retryable=_retryable(code),
            status=code if code > 0 else None,
            hint="check username and password_env" if step == "login" and not _retryable(code) else None,
        )
    if isinstance(error, ssl.SSLCertVerificationError):
        return DeliveryError(
            f"{where}: the server's certificate does not verify: {error.verify_message or error}",
            retryable=False,
            hint="smtp_host must be the name on the server's certificate",
        )
    if _caused_by(error, TimeoutError):
        return DeliveryError(f"{where}: no answer within {timeout_s:g} s ({step})", retryable=True)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return DeliveryError(f"{where}: the server closed the connection ({step}): {error}", retryable=True)
    if isinstance(error, smtplib.SMTPNotSupportedError):
        hint = 'set security = "ssl" or "none"' if step == "STARTTLS" else None
        return DeliveryError(f"{where}: {step}: {error}", retryable=False, hint=hint)
    if isinstance(error, smtplib.SMTPException):  # e.g. no authentication method both sides know
        return DeliveryError(f"{where}: {step}: {error}", retryable=False)
    if isinstance(error, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return DeliveryError(f"{where}: the connection was dropped during TLS ({step})", retryable=True)
    if isinstance(error, ssl.SSLError):  # a protocol mismatch, e.g. security = "ssl" on a STARTTLS port
        return DeliveryError(
            f"{where}: TLS failed ({step}): {error.reason or error}",
            retryable=False,
            hint='check smtp_port and security ("ssl" is usually port 465, "starttls" 587)',
        )
    if isinstance(error, OSError):  # refused, reset, unreachable, DNS
        return DeliveryError(f"{where}: {step} failed: {error.strerror or error}", retryable=True)
    return None
