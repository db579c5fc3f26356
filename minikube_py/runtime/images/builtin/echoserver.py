"""The ``registry.k8s.io/echoserver`` image: a text page describing the request it received.

The classic Kubernetes and minikube tutorials (``echoserver:1.4``, ``1.10``) show this page to
prove traffic arrived and from where; the name of the pod that served it comes first, so a
load-balancing demo sees replicas take turns::

    Hostname: hello-node-5f76cf6ccf-br9b5

    CLIENT VALUES:
    client_address=127.244.0.1
    command=GET
    real path=/
    query=nil
    request_version=1.1
    request_uri=http://127.96.0.14:8080/

    SERVER VALUES:
    server_version=nginx: 1.10.0 - lua: 10001

    HEADERS RECEIVED:
    accept=*/*
    host=127.96.0.14:8080
    user-agent=curl/8.5.0
    BODY:
    -no body in request-

It listens on ``$POD_IP`` port 8080 (``PORT`` overrides), logs one nginx access line per
request to stdout, and exits 0 on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NGINX = "1.10.0"


class Describe(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, as Go and nginx send

    def version_string(self) -> str:
        return f"nginx/{NGINX}"

    def describe(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        parts = urllib.parse.urlsplit(self.path)
        local, port = self.connection.getsockname()[:2]
        host = (self.headers.get("Host") or local).rsplit(":", 1)[0]
        lines = [
            f"Hostname: {os.environ.get('HOSTNAME') or socket.gethostname()}",
            "",
            "CLIENT VALUES:",
            f"client_address={self.client_address[0]}",
            f"command={self.command}",
            f"real path={urllib.parse.unquote(parts.path)}",
            f"query={parts.query or 'nil'}",
            f"request_version={self.request_version.removeprefix('HTTP/')}",
            f"request_uri=http://{host}:{port}{self.path}",
            "",
            "SERVER VALUES:",
            f"server_version=nginx: {NGINX} - lua: 10001",
            "",
            "HEADERS RECEIVED:",
            *sorted(f"{name.lower()}={value}" for name, value in self.headers.items()),
            "BODY:",
        ]
        text = "\n".join(lines).encode() + b"\n"
        text += body if body else b"-no body in request-"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(text)
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z")
        agent = self.headers.get("User-Agent") or "-"
        print(
            f'{self.client_address[0]} - - [{stamp}] "{self.requestline}" 200 {len(text)} '
            f'"-" "{agent}"',
            flush=True,
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = describe

    def log_message(self, format: str, *args: object) -> None:
        pass  # describe() writes the access line


def main() -> int:
    address = (os.environ.get("POD_IP") or "127.0.0.1", int(os.environ.get("PORT") or 8080))
    server = ThreadingHTTPServer(address, Describe)

    def on_signal(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
