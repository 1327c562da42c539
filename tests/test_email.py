"""aggregator.channels.email: alert e-mails and the SMTP client, against a real SMTP server (aiosmtpd in a
thread on 127.0.0.1), servers that refuse (451, 550), servers that never answer, and STARTTLS/TLS with a
certificate made for the test. Digest rendering is in test_digest.py; its delivery is here."""

from __future__ import annotations

import email
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from alerts import third_round_alert

from aggregator.channels.email import (
    EmailSettings,
    _check_headers,
    alert_email,
    compose,
    header_text,
    message_id,
    safe_url,
    send_email,
)
from aggregator.digest import digest_email, load_templates
from aggregator.errors import DeliveryError
from aggregator.models import AlertMessage, Digest, DigestStory, Report

TEMPLATES = load_templates()
CREATED = datetime(2025, 7, 13, 15, 7, tzinfo=UTC)
INJECTED = "\r\nBcc: victim@example.org"
ENCODED_INJECTION = "=?utf-8?q?x=0D=0ABcc:_victim@example.org?="  # what CVE-2024-6923 turns into a header
EXPECTED_HEADERS = (
    *("subject", "from", "to", "date", "message-id", "references"),
    *("auto-submitted", "x-auto-response-suppress", "mime-version", "content-type"),
)
LINE_BREAKS = ["\r\n", "\r", "\n", "\x00", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


# --- a real SMTP server ------------------------------------------------------------------------------------


class SMTPServer(Controller):
    """aiosmtpd on 127.0.0.1 on a port the OS chose: the socket is bound before the server thread starts."""

    def __init__(self, handler: object, **kwargs: Any) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self.listener.getsockname()[1], **kwargs)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self.listener, ssl=self.ssl_context)


@contextmanager
def smtp_server(handler: object, **kwargs: Any) -> Iterator[SMTPServer]:
    server = SMTPServer(handler, **kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    authenticated: bool

    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


class Inbox:
    """Accepts every message; ``refuse`` maps a stage ("MAIL", "RCPT", "DATA") to the reply given there,
    ``refuse_rcpt`` maps single recipients to theirs."""

    def __init__(
        self, refuse: dict[str, str] | None = None, refuse_rcpt: dict[str, str] | None = None
    ) -> None:
        self.refuse = refuse or {}
        self.refuse_rcpt = refuse_rcpt or {}
        self.received: list[Received] = []

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if "MAIL" in self.refuse:
            return self.refuse["MAIL"]
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if "RCPT" in self.refuse:
            return self.refuse["RCPT"]
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if "DATA" in self.refuse:
            return self.refuse["DATA"]
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.content,
                server.transport.get_extra_info("ssl_object") is not None,  # STARTTLS or implicit
                bool(session.authenticated),
            )
        )
        return "250 2.0.0 Accepted"


def settings_for(server: SMTPServer | int, **changes: Any) -> EmailSettings:
    port = server if isinstance(server, int) else server.port
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "security": "none",
        "sender": "Talks Desk <alerts@example.org>",
        "recipients": ("analyst@example.org", "Policy Desk <desk@example.net>"),
        "timeout_s": 5.0,
    }
    values.update(changes)
    return EmailSettings(**values)


# --- a hostile peer that accepts connections and says nothing (or only its greeting) ------------------------


@contextmanager
def mute_server(greeting: bytes = b"") -> Iterator[int]:
    """A TCP server that accepts, optionally greets, then never answers; closed when the block ends."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.1)
    stop = threading.Event()
    accepted: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(connection)
            if greeting:
                connection.sendall(greeting)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        for connection in accepted:
            connection.close()
        listener.close()


# --- certificates for STARTTLS and TLS ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (made with the openssl command line tool)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
            ),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def check_password(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and auth_data == LoginPassword(b"desk", b"s3cret")
    return AuthResult(success=good, handled=False)  # handled=False: the server sends 535 itself


# --- messages -----------------------------------------------------------------------------------------------


def alert(**changes: Any) -> AlertMessage:
    """The third-round alert as the e-mail tests know it: two reports, evidence, a decision time."""
    values: dict[str, Any] = {
        "reports": (
            Report(
                "Meridian Wire",
                "Third round of Russia-Ukraine talks set for July 23 in Istanbul",
                "https://meridian-wire.example.org/world/talks-third-round?utm_source=rss",
                datetime(2025, 7, 13, 14, 52, tzinfo=UTC),
            ),
            Report(
                "Kyiv Ledger",
                "Umerov: delegation ready for Istanbul on Wednesday",
                "https://kyiv-ledger.example.com/news/umerov-istanbul",
                datetime(2025, 7, 13, 15, 3, tzinfo=UTC),
            ),
        ),
        "first_seen": datetime(2025, 7, 13, 14, 52, tzinfo=UTC),
        "evidence": ("third round", "will be held", "Istanbul", "23 July"),
        "created_at": CREATED,
    }
    values.update(changes)
    return third_round_alert(**values)


def parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}  # type: ignore[attr-defined]


# --- alert e-mails ------------------------------------------------------------------------------------------


def test_alert_email_is_multipart_alternative_with_text_and_html() -> None:
    settings = settings_for(2525)
    message = alert_email(alert(), settings, TEMPLATES)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Subject"] == "Third round of Russia–Ukraine talks set for 23 July in Istanbul"
    assert message["Message-ID"] == "<d41.desk-mail@aggregator>"
    assert message["From"] == "Talks Desk <alerts@example.org>"
    assert message["To"] == "analyst@example.org, Policy Desk <desk@example.net>"
    assert message["Date"] == "Sun, 13 Jul 2025 15:07:00 +0000"
    assert message["References"] == "<event.ev-17@aggregator>"
    assert message["Auto-Submitted"] == "auto-generated"
    text = parts(message)["text/plain"]
    for expected in (
        "Third round of Russia–Ukraine talks set for 23 July in Istanbul",
        "Why it fired: new NEW_ROUND event (scheduled)",
        "Round: 3",
        "Place: Istanbul",
        "Date: 23 July 2025",
        "Carried by 4 outlets; first seen 13 July 2025, 14:52 UTC.",
        "Umerov: delegation ready for Istanbul on Wednesday (Kyiv Ledger, 13 July 2025, 15:03 UTC)",
        "https://kyiv-ledger.example.com/news/umerov-istanbul",
        '"third round", "will be held", "Istanbul", "23 July"',
    ):
        assert expected in text
    page = lxml.html.document_fromstring(parts(message)["text/html"])
    assert [a.get("href") for a in page.iter("a")] == [report.url for report in alert().reports]
    assert page.findtext(".//h1") == message["Subject"]


def test_alert_times_in_the_given_timezone() -> None:
    text = parts(alert_email(alert(), settings_for(2525), TEMPLATES, timezone="Europe/Kyiv"))["text/plain"]
    assert "first seen 13 July 2025, 17:52 EEST" in text


def test_test_alert_is_marked_as_a_test() -> None:
    message = alert_email(alert(kind="test"), settings_for(2525), TEMPLATES)
    assert message["Subject"].startswith("[TEST] ")
    assert "This is a test message" in parts(message)["text/plain"]
    assert "This is a test message" in parts(message)["text/html"]


def test_message_id_comes_from_the_key_and_is_stable() -> None:
    settings = settings_for(2525)
    first = alert_email(alert(), settings, TEMPLATES)
    again = alert_email(alert(created_at=None, outlets=9), settings, TEMPLATES)  # a resend, hours later
    other = alert_email(alert(idempotency_key="d42.desk-mail"), settings, TEMPLATES)
    assert first["Message-ID"] == again["Message-ID"] == "<d41.desk-mail@aggregator>"
    assert other["Message-ID"] != first["Message-ID"]
    # keys with characters a Message-ID cannot carry: still stable, still distinct, still well-formed
    odd = ["alert:41/desk mail", "alert:41/desk-mail", "ключ 41", "<41>@x", "a" * 300, ""]
    ids = [message_id(key) for key in odd]
    assert ids == [message_id(key) for key in odd]
    assert len(set(ids)) == len(ids)
    for value in ids:
        assert re.fullmatch(r"<[A-Za-z0-9_+.-]{1,120}@aggregator>", value), value


# --- header injection (CVE-2024-6923) -----------------------------------------------------------------------


@pytest.mark.parametrize("brk", LINE_BREAKS)
def test_header_text_is_one_clean_line(brk: str) -> None:
    value = header_text(f"Talks in Istanbul{brk}Bcc: victim@example.org \u202eevil\u2066 =?utf-8?q?x?=")
    assert value == "Talks in Istanbul Bcc: victim@example.org evil = ?utf-8?q?x?="
    assert value.splitlines() == [value]


def test_header_text_is_capped() -> None:
    value = header_text("word " * 200)
    assert len(value) <= 200 and value.endswith("…")


def test_check_headers_refuses_an_injection_that_got_past_the_cleaning() -> None:
    """On this Python an encoded CR/LF becomes a real header line when written; the check notices."""
    message = EmailMessage()
    message["Subject"] = f"Talks {ENCODED_INJECTION}"
    message["From"] = "alerts@example.org"
    message["To"] = "analyst@example.org"
    message.set_content("body")
    with pytest.raises(DeliveryError) as caught:
        _check_headers(message)
    assert caught.value.retryable is False


def hostile_alert() -> AlertMessage:
    return alert(
        event_type="DEADLINE",
        status="set",
        facts={"deadline": f"Friday{INJECTED} {ENCODED_INJECTION}", "place": f"Istanbul{INJECTED}\u2028X: 1"},
        headline=f"Talks{INJECTED}",
        reports=(Report(f"Wire{INJECTED}", f"Title{INJECTED}", "https://example.org/a", CREATED),),
        evidence=(f"deadline{INJECTED}",),
    )


def test_hostile_alert_yields_no_injected_header_and_no_extra_recipient() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as server:
        settings = settings_for(server)
        send_email(alert_email(hostile_alert(), settings, TEMPLATES), settings)
    [received] = inbox.received
    assert received.rcpt_tos == ["analyst@example.org", "desk@example.net"]
    message = received.parsed()
    assert "Bcc" not in message
    assert "X" not in message
    names = [name.lower() for name in message]
    assert sorted(names) == sorted(EXPECTED_HEADERS)
    assert "\r" not in message["Subject"] and "\n" not in message["Subject"]
    assert message["Subject"].startswith("Deadline set: Friday Bcc: victim@example.org")


@pytest.mark.parametrize(
    "subject", [f"Digest{INJECTED}", ENCODED_INJECTION, "x\u2028Bcc: victim@example.org"]
)
def test_compose_cleans_any_subject(subject: str) -> None:
    message = compose(
        subject=subject, text="t", html="<p>h</p>", settings=settings_for(2525), message_id="<k@aggregator>"
    )
    reparsed = email.message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert "Bcc" not in reparsed
    assert "victim@example.org" in reparsed["Subject"]


# --- sending ------------------------------------------------------------------------------------------------


def test_send_alert_through_a_real_smtp_server() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as server:
        settings = settings_for(server)
        message = alert_email(alert(), settings, TEMPLATES)
        send_email(message, settings)
        send_email(message, settings)  # a resend after a crash: the same Message-ID
    first, second = inbox.received
    assert first.mail_from == "alerts@example.org"
    assert first.rcpt_tos == ["analyst@example.org", "desk@example.net"]
    parsed = first.parsed()
    assert parsed["Message-ID"] == second.parsed()["Message-ID"] == "<d41.desk-mail@aggregator>"
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["Subject"] == "Third round of Russia–Ukraine talks set for 23 July in Istanbul"


def test_send_digest_through_a_real_smtp_server() -> None:
    story = DigestStory(
        headline="Ukraine and Russia swap 1,200 prisoners each",
        reports=(Report("Dnipro Courier", "Swap", "https://dnipro-courier.example.net/swap", CREATED),),
        outlets=("Dnipro Courier",),
        first_seen=CREATED,
        last_seen=CREATED,
        event_types=("EXCHANGE",),
        facts={"EXCHANGE": {"count": 1200}},
        is_new=True,
    )
    digest = Digest(
        channel="desk-mail",
        since=datetime(2025, 7, 13, 4, tzinfo=UTC),
        until=datetime(2025, 7, 14, 4, tzinfo=UTC),
        timezone="Europe/Kyiv",
        stories_by_event={"EXCHANGE": (story,)},
        other_stories=(),
        events=(),
        generated_at=datetime(2025, 7, 14, 4, tzinfo=UTC),
    )
    inbox = Inbox()
    with smtp_server(inbox) as server:
        settings = settings_for(server)
        send_email(digest_email(digest, settings, TEMPLATES, "digest.desk-mail.2025-07-14"), settings)
    parsed = inbox.received[0].parsed()
    assert parsed["Message-ID"] == "<digest.desk-mail.2025-07-14@aggregator>"
    assert parsed["Subject"] == "Russia–Ukraine talks digest, 14 July 2025: 1 story, 1 new"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert "1,200 per side" in parsed.get_body(("plain",)).get_content()


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_451_is_retryable(stage: str) -> None:
    with smtp_server(Inbox(refuse={stage: "451 4.7.1 Greylisted, try again in 5 minutes"})) as server:
        settings = settings_for(server)
        with pytest.raises(DeliveryError) as caught:
            send_email(alert_email(alert(), settings, TEMPLATES), settings)
    assert caught.value.retryable is True
    assert caught.value.status == 451
    assert "Greylisted, try again in 5 minutes" in str(caught.value)


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_550_is_not_retryable_and_keeps_the_reply(stage: str) -> None:
    with smtp_server(Inbox(refuse={stage: "550 5.7.1 Message rejected: policy violation"})) as server:
        settings = settings_for(server)
        with pytest.raises(DeliveryError) as caught:
            send_email(alert_email(alert(), settings, TEMPLATES), settings)
    assert caught.value.retryable is False
    assert caught.value.status == 550
    assert "550 5.7.1 Message rejected: policy violation" in str(caught.value)


def test_one_recipient_refused_is_reported_after_the_others_got_it() -> None:
    inbox = Inbox(refuse_rcpt={"desk@example.net": "550 5.1.1 No such user"})
    with smtp_server(inbox) as server:
        settings = settings_for(server)
        with pytest.raises(DeliveryError) as caught:
            send_email(alert_email(alert(), settings, TEMPLATES), settings)
    assert [received.rcpt_tos for received in inbox.received] == [["analyst@example.org"]]
    assert caught.value.retryable is False
    assert "delivered to 1" in str(caught.value)
    assert "desk@example.net: 550 5.1.1 No such user" in str(caught.value)


@pytest.mark.parametrize(
    "greeting", [b"", b"220 mute.example ESMTP\r\n"], ids=["silent", "greets-then-silent"]
)
def test_a_server_that_never_answers_times_out_within_the_timeout(greeting: bytes) -> None:
    with mute_server(greeting) as port:
        settings = settings_for(port, timeout_s=0.5)
        started = time.monotonic()
        with pytest.raises(DeliveryError) as caught:
            send_email(alert_email(alert(), settings, TEMPLATES), settings)
        elapsed = time.monotonic() - started
    assert caught.value.retryable is True
    assert "no answer within 0.5 s" in str(caught.value)
    assert 0.4 <= elapsed < 2.0


def test_a_refused_connection_is_retryable() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as reserved:  # bound, not listening: refused
        reserved.bind(("127.0.0.1", 0))
        settings = settings_for(reserved.getsockname()[1])
        with pytest.raises(DeliveryError) as caught:
            send_email(alert_email(alert(), settings, TEMPLATES), settings)
    assert caught.value.retryable is True
    assert "refused" in str(caught.value).lower()


def test_starttls_verifies_the_certificate_then_logs_in(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust our test certificate, and only it
    inbox = Inbox()
    tls = server_tls(certificate)
    with smtp_server(inbox, tls_context=tls, require_starttls=True, authenticator=check_password) as server:
        settings = settings_for(server, security="starttls", username="desk", password="s3cret")
        send_email(alert_email(alert(), settings, TEMPLATES), settings)
        wrong = replace(settings, password="guess")
        with pytest.raises(DeliveryError) as caught:
            send_email(alert_email(alert(), wrong, TEMPLATES), wrong)
    [received] = inbox.received
    assert received.tls and received.authenticated
    assert caught.value.retryable is False and caught.value.status == 535
    assert "s3cret" not in repr(settings) and "guess" not in str(caught.value)


def test_starttls_refuses_a_certificate_that_does_not_verify(certificate: tuple[Path, Path]) -> None:
    inbox = Inbox()
    with smtp_server(inbox, tls_context=server_tls(certificate), require_starttls=True) as server:
        settings = settings_for(server, security="starttls")
        with pytest.raises(DeliveryError) as caught:
            send_email(alert_email(alert(), settings, TEMPLATES), settings)
    assert inbox.received == []
    assert caught.value.retryable is False
    assert "certificate" in str(caught.value)


def test_starttls_asked_but_not_offered_is_not_retryable() -> None:
    with smtp_server(Inbox()) as server:
        settings = settings_for(server, security="starttls")
        with pytest.raises(DeliveryError) as caught:
            send_email(alert_email(alert(), settings, TEMPLATES), settings)
    assert caught.value.retryable is False
    assert "STARTTLS" in str(caught.value)


def test_implicit_tls(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    inbox = Inbox()
    with smtp_server(inbox, ssl_context=server_tls(certificate)) as server:
        settings = settings_for(server, security="ssl")
        send_email(alert_email(alert(), settings, TEMPLATES), settings)
    assert [received.tls for received in inbox.received] == [True]


def test_implicit_tls_against_a_plain_server_is_not_retryable() -> None:
    with smtp_server(Inbox()) as server:
        settings = settings_for(server, security="ssl", timeout_s=2.0)
        with pytest.raises(DeliveryError) as caught:
            send_email(alert_email(alert(), settings, TEMPLATES), settings)
    assert caught.value.retryable is False
    assert "TLS" in str(caught.value)


# --- settings and links -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"security": "tls"}, "security"),
        ({"recipients": ()}, "recipients"),
        ({"recipients": ("analyst@example.org", f"desk@example.net{INJECTED}")}, "recipients[1]"),
        ({"recipients": ("a@example.org, b@example.org",)}, "recipients[0]"),
        ({"sender": "not an address"}, "sender"),
        ({"smtp_host": "mail.example.org\r\nX: 1"}, "smtp_host"),
        ({"smtp_port": 0}, "smtp_port"),
        ({"timeout_s": 0}, "timeout_s"),
    ],
)
def test_settings_are_checked(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        settings_for(2525, **changes)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a?b=1#c", "https://example.org/a?b=1#c"),
        ("  http://example.org/a b  ", "http://example.org/a%20b"),
        ("javascript:alert(1)", ""),
        ("JavaScript:alert(1)", ""),
        ("java\tscript:alert(1)", ""),
        ("https://example.org/\u202eevil", ""),
        ("data:text/html,<script>alert(1)</script>", ""),
        ("vbscript:msgbox(1)", ""),
        ("//example.org/protocol-relative", ""),
        ("/relative/path", ""),
        ("https://bank.example@evil.example/", ""),
        ("https://example.org:99999/", ""),
        ("https:///no-host", ""),
        (None, ""),
        (42, ""),
    ],
)
def test_safe_url(url: object, expected: str) -> None:
    assert safe_url(url) == expected
