"""A network service that goes away and comes back: an HTTP relay on a loopback port in
front of a real service (the demo PKI's TSA served by certomancer).

- :meth:`Relay.down` closes the listening socket: the port refuses connections, exactly
  as a stopped TSA does;
- :meth:`Relay.up` listens on the same port again and relays every request to the target;
- :meth:`Relay.hold` keeps each request waiting (until :meth:`up`), so a test can act while
  a task is in the middle of its signature — and :attr:`Relay.held` says one arrived.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from certs import free_port


class Relay:
    def __init__(self, target: str | None = None) -> None:
        self.target = target
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.relayed = 0
        self.held = threading.Event()
        self._release = threading.Event()
        self._release.set()
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not relay._release.is_set():
                    relay.held.set()
                    relay._release.wait(300)
                assert relay.target is not None
                answer = httpx.post(relay.target, content=body, timeout=30, headers={
                    "Content-Type": self.headers.get("Content-Type", "")})
                relay.relayed += 1
                try:
                    self.send_response(answer.status_code)
                    self.send_header("Content-Type", answer.headers.get("content-type", ""))
                    self.send_header("Content-Length", str(len(answer.content)))
                    self.end_headers()
                    self.wfile.write(answer.content)
                except OSError:
                    pass  # the caller died while held (a killed worker)

            def log_message(self, *_: object) -> None:
                pass

        return Handler

    def up(self) -> None:
        """Listen and relay (and let held requests go on)."""
        self._release.set()
        with self._lock:
            if self._server is None:
                self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
                self._server.daemon_threads = True
                threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        """Stop listening: connections to the port are refused."""
        with self._lock:
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()
                self._server = None

    def hold(self) -> None:
        """Take requests but keep them waiting until :meth:`up`."""
        self.held.clear()
        self._release.clear()
        self.up()
        self._release.clear()
