"""A real webhook receiver on 127.0.0.1 for delivery tests: it records every POST and answers from a script.

with Receiver() as receiver:
    receiver.script(500, 200)             # the first POST gets 500, the next 200, later ones 200 too
    receiver.script((429, {"Retry-After": "120"}))
    receiver.hold = threading.Event()     # keep the next POST waiting (a send in flight)
    receiver.posts                       # [Post(path, headers, body)]
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


@dataclass(frozen=True, slots=True)
class Post:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.posts: list[Post] = []
        self._answers: deque[tuple[int, dict[str, str]]] = deque()
        self.hold: threading.Event | None = None  # set: answer; unset: wait (at most 30 s)
        self.received = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.posts.append(Post(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                receiver.received.set()
                if receiver.hold is not None:
                    receiver.hold.wait(30)
                status, headers = receiver._answers.popleft() if receiver._answers else (200, {})
                reply = b"ok" if status < 300 else f"error {status}".encode()
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
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def script(self, *answers: int | tuple[int, dict[str, str]]) -> None:
        for answer in answers:
            self._answers.append(answer if isinstance(answer, tuple) else (answer, {}))

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.hold is not None:
            self.hold.set()
        self._server.shutdown()
        self._server.server_close()
