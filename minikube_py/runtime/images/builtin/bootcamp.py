"""The ``kubernetes-bootcamp`` image of "Learn Kubernetes Basics": says hello and who answered.

The tutorial exposes it, scales it and rolls it from ``v1`` to ``v2``; each answer names the
pod and the version, so both the load balancing and the rollout are visible::

    Hello Kubernetes bootcamp! | Running on: kubernetes-bootcamp-5485cc6795-4kx8q | v=1

``$VERSION`` comes from the image tag. It listens on ``$POD_IP`` port 8080, logs one line per
request with the running total, and exits 0 on SIGTERM.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = os.environ.get("HOSTNAME") or socket.gethostname()
VERSION = os.environ.get("VERSION") or "1"
STARTED = time.time()
REQUESTS = itertools.count(1)


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, as Go and nginx send

    def do_GET(self) -> None:
        body = f"Hello Kubernetes bootcamp! | Running on: {HOST} | v={VERSION}\n".encode()
        self.send_response_only(200)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        uptime = time.time() - STARTED
        print(
            f"Running On: {HOST} | Total Requests: {next(REQUESTS)} | App Uptime: "
            f"{uptime:.3f} seconds | Log Time: {time.strftime('%a %b %d %Y %H:%M:%S GMT%z')}",
            flush=True,
        )

    def log_message(self, format: str, *args: object) -> None:
        pass  # do_GET writes the app's own line


def main() -> int:
    server = ThreadingHTTPServer((os.environ.get("POD_IP") or "127.0.0.1", 8080), Hello)

    def on_signal(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(STARTED))
    print(f"Kubernetes Bootcamp App Started At: {started} | Running On:  {HOST} \n", flush=True)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
