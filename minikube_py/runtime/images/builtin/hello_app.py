"""The ``hello-app`` image (gcr.io/google-samples/hello-app): greets with the pod's hostname.

The Kubernetes tutorials scale it up and curl its Service repeatedly; because every answer names
the pod that served it (``$HOSTNAME``), the spread across replicas is visible. It listens on
``$POD_IP`` (127.0.0.1 when absent) and ``$PORT`` (8080), and exits 0 on SIGTERM. Its version is
``$VERSION`` (the image derives it from its tag: ``hello-app:2.0`` answers ``Version: 2.0.0``).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = os.environ.get("VERSION") or "1.0.0"  # the image sets it from its tag


class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = (
            f"Hello, world!\nVersion: {VERSION}\n"
            f"Hostname: {os.environ.get('HOSTNAME') or socket.gethostname()}\n"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        # The real app logs one line per request to stdout, where `kubectl logs` finds it.
        print(f"Serving request: {self.path}", flush=True)


def main() -> int:
    address = os.environ.get("POD_IP") or "127.0.0.1"
    server = ThreadingHTTPServer((address, int(os.environ.get("PORT", "8080"))), Hello)

    def on_signal(signum: int, frame: object) -> None:
        # shutdown() blocks until serve_forever returns, so it must run off the main thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"Server listening on port {server.server_address[1]}", flush=True)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
