"""A local webhook receiver for `make run` (`portal webhook-sink`): it accepts every POST,
checks nothing (not even the signature), answers 200 and logs one line, so that the demo's
webhook endpoint gets real deliveries and /settings/webhooks shows them.

Only for a developer's machine: it listens on loopback by default, and the demo endpoint
reaches it because `make run` sets PORTAL_WEBHOOKS_ALLOW_PRIVATE=1 for its own processes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from portal.processes import wait_until_stopped

MAX_BODY = 1024 * 1024  # read (and drop) at most this much of a request


def make_sink(host: str, port: int, echo: Callable[[str], None]) -> ThreadingHTTPServer:
    """The receiver, bound to host:port (0: any free port) but not yet serving."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "PortalWebhookSink/1"

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            body = self.rfile.read(length)
            echo(f"webhook-sink: {_describe(self.path, self.headers, body)}")
            self._answer(200, b"ok\n")

        def do_GET(self) -> None:
            self._answer(405, b"POST webhooks here\n", allow="POST")

        def _answer(self, status: int, text: bytes, allow: str | None = None) -> None:
            self.send_response(status)
            if allow:
                self.send_header("Allow", allow)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's name)
            pass  # one line per delivery is echoed above

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def _describe(path: str, headers, body: bytes) -> str:
    """One line: what arrived, where, and which delivery and attempt it was."""
    event = headers.get("X-Portal-Event") or "?"
    try:
        event_id = json.loads(body).get("id", "")
    except (ValueError, AttributeError):
        event_id = ""
    delivery = headers.get("X-Portal-Delivery", "?")
    attempt = headers.get("X-Portal-Attempt", "?")
    what = " ".join(part for part in (path, event, event_id) if part)
    return f"POST {what} (delivery {delivery}, attempt {attempt}, {len(body)} bytes)"


def run_webhook_sink(
    host: str = "127.0.0.1", port: int = 8026, echo: Callable[[str], None] = print
) -> None:
    """Serve on host:port, answering 200 to every POST, until SIGTERM or SIGINT."""
    server = make_sink(host, port, echo)
    bound_host, bound_port = server.server_address[:2]
    serving = threading.Thread(target=server.serve_forever, name="webhook-sink", daemon=True)
    serving.start()
    echo(f"webhook-sink: answering 200 to every POST on http://{bound_host}:{bound_port}/")
    try:
        wait_until_stopped()
    finally:
        server.shutdown()
        server.server_close()
        echo("webhook-sink: stopped")
