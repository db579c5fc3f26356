"""The nginx image's server: static files from ``/usr/share/nginx/html``, answered nginx's way.

It serves ``$MINIKUBE_PY_ROOT/usr/share/nginx/html`` (the welcome page and ``50x.html``, or
whatever a volume mounts there) on ``$POD_IP`` port 80 — ``NGINX_PORT`` overrides the port —
with nginx's ``Server`` header, its error pages and one access-log line per request on stdout
in the docker image's ``main`` format (``combined`` plus ``X-Forwarded-For``). Configuration
files are not read. SIGTERM and SIGQUIT end it with exit code 0, as they end nginx.

Ports below 1024: Linux lets only root (or a process with CAP_NET_BIND_SERVICE) bind them
unless ``sysctl net.ipv4.ip_unprivileged_port_start`` is lowered. When the bind is refused,
this program exits 1 and says exactly that, on stderr and in the termination-log file
(``$MINIKUBE_PY_ROOT/dev/termination-log``) so the pod's status carries it::

    cannot bind 127.244.0.5:80: permission denied — ports below 1024 need root or sysctl
    net.ipv4.ip_unprivileged_port_start=0; set env NGINX_PORT=8080 or run the cluster as root
"""

from __future__ import annotations

import email.utils
import errno
import mimetypes
import os
import posixpath
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = os.environ.get("NGINX_VERSION") or "1.27.3"
ROOT = os.environ.get("MINIKUBE_PY_ROOT") or "/"
HTML = os.path.join(ROOT, "usr/share/nginx/html")
REASONS = {
    301: "Moved Permanently",
    304: "Not Modified",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Not Allowed",
    500: "Internal Server Error",
}


def error_page(status: int) -> bytes:
    title = f"{status} {REASONS[status]}"
    lines = [
        "<html>",
        f"<head><title>{title}</title></head>",
        "<body>",
        f"<center><h1>{title}</h1></center>",
        f"<hr><center>nginx/{VERSION}</center>",
        "</body>",
        "</html>",
        "",
    ]
    return "\r\n".join(lines).encode()


class StaticFiles(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as nginx
    disable_nagle_algorithm = True  # headers and body go out at once, as Go and nginx send
    timeout = 65  # nginx's keepalive_timeout

    def version_string(self) -> str:
        return f"nginx/{VERSION}"

    def server_host(self) -> str:
        host, port = self.connection.getsockname()[:2]
        return f"{host}:{port}"

    def do_GET(self) -> None:
        self.serve(body=True)

    def do_HEAD(self) -> None:
        self.serve(body=False)

    def do_POST(self) -> None:  # static content: nginx refuses every other method
        self.reply(405, error_page(405))

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_POST

    def serve(self, *, body: bool) -> None:
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if not path.startswith("/") or ".." in path.split("/"):
            self.reply(400, error_page(400), body=body)
            return
        target = os.path.join(HTML, posixpath.normpath(path).lstrip("/"))
        if os.path.isdir(target):
            if not path.endswith("/"):
                host = self.headers.get("Host") or self.server_host()
                location = f"http://{host}{path}/"
                self.reply(301, error_page(301), body=body, extra={"Location": location})
                return
            target = os.path.join(target, "index.html")
            if not os.path.isfile(target):
                self.reply(403, error_page(403), body=body)
                return
        try:
            with open(target, "rb") as file:
                content, stat = file.read(), os.fstat(file.fileno())
        except (FileNotFoundError, NotADirectoryError):
            self.reply(404, error_page(404), body=body)
            return
        except OSError:
            self.reply(403, error_page(403), body=body)
            return
        etag = f'"{int(stat.st_mtime):x}-{stat.st_size:x}"'
        headers = {
            "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
            "ETag": etag,
            "Accept-Ranges": "bytes",
        }
        if self.headers.get("If-None-Match") == etag:
            self.reply(304, b"", body=False, extra=headers)
            return
        kind = mimetypes.guess_type(target)[0] or "application/octet-stream"
        self.reply(200, content, body=body, kind=kind, extra=headers)

    def reply(
        self,
        status: int,
        content: bytes,
        *,
        body: bool = True,
        kind: str = "text/html",
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status, REASONS.get(status))
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(content)))
        self.send_header("Connection", "keep-alive")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body and status != 304:
            self.wfile.write(content)
        self.access_log(status, len(content) if body else 0)

    def access_log(self, status: int, sent: int) -> None:
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z")
        quoted = [
            self.headers.get(name) or "-" for name in ("Referer", "User-Agent", "X-Forwarded-For")
        ]
        fields = " ".join(f'"{value}"' for value in quoted)
        print(
            f'{self.client_address[0]} - - [{stamp}] "{self.requestline}" {status} {sent} {fields}',
            flush=True,
        )

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # access_log writes the line once the body size is known

    def log_message(self, format: str, *args: object) -> None:
        pass


def notice(message: str) -> None:
    pid = os.getpid()
    print(
        f"{time.strftime('%Y/%m/%d %H:%M:%S')} [notice] {pid}#{pid}: {message}",
        file=sys.stderr,
        flush=True,
    )


def fail(message: str) -> int:
    """Say why nginx cannot start, where kubectl describe and the logs will show it."""
    print(message, file=sys.stderr, flush=True)
    path = os.path.join(ROOT, "dev", "termination-log")
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as log:
            log.write(message + "\n")
    except OSError:
        pass
    return 1


def unprivileged_start() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as setting:
            return int(setting.read())
    except (OSError, ValueError):
        return 1024


def main(argv: list[str]) -> int:
    if "-v" in argv or "-V" in argv:
        print(f"nginx version: nginx/{VERSION}", file=sys.stderr)
        return 0
    if "-t" in argv:
        print(
            "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
            "nginx: configuration file /etc/nginx/nginx.conf test is successful",
            file=sys.stderr,
        )
        return 0
    address = os.environ.get("POD_IP") or "127.0.0.1"
    port = int(os.environ.get("NGINX_PORT") or 80)
    try:
        server = ThreadingHTTPServer((address, port), StaticFiles)
    except PermissionError:
        below = unprivileged_start()
        return fail(
            f"cannot bind {address}:{port}: permission denied — ports below {below} "
            "need root or sysctl net.ipv4.ip_unprivileged_port_start=0; set env "
            "NGINX_PORT=8080 or run the cluster as root"
        )
    except OSError as error:
        code = error.errno or errno.EIO
        return fail(f"nginx: [emerg] bind() to {address}:{port} failed ({code}: {error.strerror})")

    def on_signal(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        notice(f"signal {signum} ({name}) received, exiting")
        # shutdown() waits for serve_forever to return, so it must run off the main thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    for signum in (signal.SIGTERM, signal.SIGQUIT, signal.SIGINT):
        signal.signal(signum, on_signal)
    print("/docker-entrypoint.sh: Configuration complete; ready for start up", flush=True)
    notice(f"nginx/{VERSION}")
    notice("start worker processes")
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    notice("exit")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
