"""The ``hashicorp/http-echo`` image: answers every request with the text it was started with.

``-text=hello`` (or ``ECHO_TEXT``) is the answer, ``-listen=:5678`` the address (an empty host
means the pod's address), ``-status-code`` the status, ``/health`` answers
``{"status":"ok"}``. Flags are spelled as Go's ``flag`` package takes them (``-text=x``,
``-text x``, ``--text=x``). Headers ``X-App-Name`` / ``X-App-Version`` as upstream, plus
``X-Served-By: <pod>`` so load-balancing demos can tell replicas apart without changing the
body, which stays exactly the text (ingress examples compare it). One log line per request on
stdout in upstream's format; SIGTERM exits 0.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "1.0.0"


def parse(argv: list[str]) -> dict[str, str]:
    """Go-style flags: ``-name=value``, ``--name=value`` or ``-name value``."""
    flags = {"listen": ":5678", "text": "", "status-code": "200"}
    rest = list(argv)
    while rest:
        word = rest.pop(0)
        if not word.startswith("-") or word in ("-", "--"):
            raise SystemExit("Too many arguments!")
        name, equals, value = word.lstrip("-").partition("=")
        if name == "version":
            flags["version"] = "true"
            continue
        if name not in flags:
            raise SystemExit(f"flag provided but not defined: -{name}")
        if not equals:
            if not rest:
                raise SystemExit(f"flag needs an argument: -{name}")
            value = rest.pop(0)
        flags[name] = value
    return flags


def handler(text: str, status: int) -> type[BaseHTTPRequestHandler]:
    class Echo(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, as Go sends

        def answer(self) -> None:
            started = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            if length > 0:
                self.rfile.read(length)  # upstream drains the body before answering
            health = self.path.split("?")[0] == "/health"
            body = ('{"status":"ok"}' if health else text).encode() + b"\n"
            code = 200 if health else status
            self.send_response_only(code)
            self.send_header("Date", self.date_time_string())
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-App-Name", "http-echo")
            self.send_header("X-App-Version", VERSION)
            self.send_header("X-Served-By", os.environ.get("HOSTNAME") or socket.gethostname())
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            if not health:
                took = (time.monotonic() - started) * 1e6
                client = f"{self.client_address[0]}:{self.client_address[1]}"
                print(
                    f"{time.strftime('%Y/%m/%d %H:%M:%S')} {self.headers.get('Host', '')} "
                    f'{client} "{self.command} {self.path.split("?")[0]} '
                    f'{self.request_version}" {code} {len(body)} '
                    f'"{self.headers.get("User-Agent", "")}" {took:.1f}µs',
                    flush=True,
                )

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Echo


def main(argv: list[str]) -> int:
    try:
        flags = parse(argv)
    except SystemExit as problem:
        print(str(problem).strip(), file=sys.stderr)
        return 127 if "many" in str(problem) else 2
    if "version" in flags:
        print(f"http-echo v{VERSION}", file=sys.stderr)
        return 0
    text = flags["text"] or os.environ.get("ECHO_TEXT", "")
    if not text:
        print("Missing -text option OR ENV var TEXT is empty!", file=sys.stderr)
        return 127
    host, _, port = flags["listen"].rpartition(":")
    if host in ("", "0.0.0.0"):
        host = os.environ.get("POD_IP") or "127.0.0.1"
    server = ThreadingHTTPServer((host, int(port)), handler(text, int(flags["status-code"])))

    def on_signal(signum: int, frame: object) -> None:
        log("[INFO] received interrupt, shutting down...")
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log(f"[INFO] server is listening on {flags['listen']}")
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


def log(message: str) -> None:
    print(f"{time.strftime('%Y/%m/%d %H:%M:%S')} {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
