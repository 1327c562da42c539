"""What the demo delivers to: a webhook receiver and an SMTP server on 127.0.0.1 that keep what they get.

The webhook receiver is also the one the delivery and daemon tests post to, so it can answer from a script
and hold a request."""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass(frozen=True, slots=True)
class Post:
    """One POST as the catcher got it."""

    path: str  # with the query string
    headers: dict[str, str]  # lower-case names
    body: bytes


class WebhookCatcher:
    """A webhook receiver on 127.0.0.1 that keeps every POST and answers it from a script: 200 when the script
    is empty. The demo delivers its alerts to it; delivery tests script failures and hold a send in flight.

        catcher.script(500, 200)                       # the first POST gets 500, the next 200, later ones 200
        catcher.script((429, {"Retry-After": "120"}))  # a status with headers
        catcher.hold = threading.Event()               # keep each POST waiting until it is set (at most 30 s)
        catcher.posted.wait(20)                        # set by the first POST
        catcher.posts                                  # [Post(path, headers, body)]
    """

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.posted = threading.Event()
        self.hold: threading.Event | None = None  # set: answer; unset: wait (at most 30 s)
        self._answers: deque[tuple[int, dict[str, str]]] = deque()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                catcher.posts.append(Post(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                catcher.posted.set()
                if catcher.hold is not None:
                    catcher.hold.wait(30)
                status, headers = catcher._answers.popleft() if catcher._answers else (200, {})
                # an error's body is what a deliverer records as the reply; success needs none
                reply = b"" if 200 <= status < 300 else f"error {status}".encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/desk"

    @property
    def received(self) -> list[tuple[dict[str, str], Any]]:
        """Each POST's headers and JSON body (None for a body that is not JSON), in the order they came."""
        return [(post.headers, _json_or_none(post.body)) for post in self.posts]

    def script(self, *answers: int | tuple[int, dict[str, str]]) -> None:
        """Answers for the next POSTs, in order: a status, or a status with headers."""
        for answer in answers:
            self._answers.append(answer if isinstance(answer, tuple) else (answer, {}))

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.hold is not None:
            self.hold.set()  # a held POST is answered now, not 30 s later
        self._server.shutdown()
        self._server.server_close()


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _free_port() -> int:
    # aiosmtpd checks its server by connecting to the port it was given, so it needs a real one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MailCatcher:
    """An aiosmtpd server (a dev dependency: `make demo` installs it) that keeps every message."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        catcher = self

        class Handler:
            async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
                message = message_from_bytes(envelope.content, policy=policy.default)
                catcher.messages.append(message)  # type: ignore[arg-type]
                return "250 OK"

        self.port = _free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._controller.stop()
