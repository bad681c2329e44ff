"""A local webhook receiver: an HTTP server in a thread that records every request and answers each with
the next status of its script (200 once the script is used up)."""

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


class Receiver:
    def __init__(self, statuses: list[int] | None = None):
        self.statuses = list(statuses or [])
        self.delay = 0.0  # seconds before each answer (a slow receiver)
        self.received: list[Received] = []
        self.secret = ""  # the endpoint's, set by the test that creates it
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body, status))
                time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("content-type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answered {status}".encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def answer(self, *statuses: int) -> None:
        with self.lock:
            self.statuses.extend(statuses)

    def events(self) -> list[dict]:
        """The verified payloads received, in order (a bad signature raises)."""
        return [verified(request, self.secret) for request in list(self.received)]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def verified(request: Received, secret: str) -> dict:
    """What the `standardwebhooks` package, an independent verifier, makes of a request."""
    return Webhook(secret).verify(request.body, request.headers)
