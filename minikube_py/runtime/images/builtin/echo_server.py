"""The ``kicbase/echo-server`` image (minikube's hello-minikube): echoes each request back.

The image is jmalloc's echo-server: a plain-text answer that starts with the serving host's
name, so a curl loop against a Service shows which pod answered each time::

    Request served by hello-minikube-59d4768566-4ldwq

    GET / HTTP/1.1

    Host: 127.96.0.14:8080
    Accept: */*
    User-Agent: curl/8.5.0

Request headers follow sorted, then the body after a blank line if there is one. It listens on
``$POD_IP`` and ``$PORT`` (8080), logs ``<client> | <method> <uri>`` per request like the real
one, honours ``SEND_SERVER_HOSTNAME=false``, and exits 0 on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def canonical(name: str) -> str:
    """Go's canonical header spelling (``user-agent`` → ``User-Agent``), as the original."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, as Go and nginx send

    def echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        client = f"{self.client_address[0]}:{self.client_address[1]}"
        print(f"{client} | {self.command} {self.path}", flush=True)
        wanted = self.headers.get("X-Send-Server-Hostname") or os.environ.get(
            "SEND_SERVER_HOSTNAME", ""
        )
        lines = []
        if wanted.lower() != "false":
            host = os.environ.get("HOSTNAME") or socket.gethostname()
            lines += [f"Request served by {host}", ""]
        lines += [f"{self.command} {self.path} {self.request_version}", ""]
        lines.append(f"Host: {self.headers.get('Host', '')}")
        headers = sorted(
            (canonical(name), value)
            for name, value in self.headers.items()
            if name.lower() != "host"
        )
        lines += [f"{name}: {value}" for name, value in headers]
        answer = "\n".join(lines).encode() + b"\n"
        if body:
            answer += b"\n" + body
        self.send_response_only(200)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = echo

    def log_message(self, format: str, *args: object) -> None:
        pass  # echo() logs the one line the original prints


def main() -> int:
    port = os.environ.get("PORT") or "8080"
    server = ThreadingHTTPServer((os.environ.get("POD_IP") or "127.0.0.1", int(port)), Echo)

    def on_signal(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"Echo server listening on port {port}.", flush=True)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
