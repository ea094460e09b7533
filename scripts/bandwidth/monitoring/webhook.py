"""`bandwidth alert-webhook`: Alertmanager's webhook receiver (payload version 4) on the standard library's http.server.

POST / with the notification's JSON: each alert opens, updates or closes its GitHub issue
(bandwidth.github.alert_issues). Answers: 200 when done; 400 with a message for a body that is not
Alertmanager's (Alertmanager does not retry a 4xx); 502 when GitHub failed (it retries, and what was
done already is not done twice); 404/405 elsewhere. One line per request on standard error, no traceback.
"""

from __future__ import annotations

import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bandwidth.errors import UsageError
from bandwidth.escape import printable
from bandwidth.github import alert_issues

MAX_BODY = 4 * 1024 * 1024  # bytes; Alertmanager's notifications are far smaller
_log_lock = threading.Lock()


def log(message: str) -> None:
    with _log_lock:
        print(f"bandwidth alert-webhook: {printable(message)}", file=sys.stderr, flush=True)


def address(text: str) -> tuple[str, int]:
    """HOST:PORT ([::1]:PORT for IPv6; port 0: any free port) -> (host, port); UsageError naming --listen."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9098")
    return host, int(port)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, listen: tuple[str, int], issues: alert_issues.AlertIssues):
        self.address_family = socket.AF_INET6 if ":" in listen[0] else socket.AF_INET
        self.issues = issues
        super().__init__(listen, Handler)


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "bandwidth-alert-webhook"
    protocol_version = "HTTP/1.1"

    def log_request(self, code="-", size="-"):  # _answer logs each request, with what was done
        pass

    def log_message(self, format, *args):  # what http.server itself refuses (a malformed request line)
        log(format % args)

    def _answer(self, status: int, message: str) -> None:
        log(f"{self.command} {self.path[:200]} -> {status}: {message}")
        data = (message + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        if self.path != "/":
            self.close_connection = True  # the body is not read
            self._answer(404, f"not found: POST the notifications to / (not {self.path[:200]})")
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            self._answer(411, "a Content-Length is required")
            return
        if int(length) > MAX_BODY:
            self.close_connection = True
            self._answer(413, f"the body is over {MAX_BODY} bytes")
            return
        data = self.rfile.read(int(length))
        try:
            alerts = alert_issues.parse(data)
        except alert_issues.PayloadError as exc:
            self._answer(400, f"bad request: {exc}")
            return
        try:
            done = self.server.issues.handle(alerts)
        except alert_issues.ApiError as exc:
            self._answer(502, f"GitHub failed: {exc}")
            return
        except Exception as exc:  # a defect here must not take the server down, nor answer with a traceback
            self._answer(500, f"internal error: {type(exc).__name__}: {exc}")
            return
        self._answer(200, "; ".join(done) or "no alerts")

    def do_GET(self):
        self.close_connection = True
        self._answer(405, "only POST / (Alertmanager's webhook)")

    do_PUT = do_DELETE = do_PATCH = do_GET


def serve(listen: str, repo: str) -> int:
    """Serve until interrupted; the address is printed once the socket is bound (port 0: the one chosen)."""
    try:
        github = alert_issues.GitHub()
    except alert_issues.ApiError as exc:
        raise UsageError(str(exc)) from None
    if not github.token:
        raise UsageError("GITHUB_TOKEN is not set: the webhook writes issues")
    try:
        server = Server(address(listen), alert_issues.AlertIssues(github, repo))
    except OSError as exc:
        raise UsageError(f"--listen {listen!r}: {exc.strerror or exc}") from None
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    log(f"listening on http://{shown}:{port}/ for {repo} ({github.api})")
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
