"""busybox's ``wget`` for the busybox image: fetch a URL to a file or to stdout.

Pods use it to reach Services and each other (``wget -qO- http://web``), so it is a Python
program: the interpreter start-up hook then routes ``localhost`` to the pod's own address, as
in a real pod. Options and messages follow busybox: ``-q``, ``-O FILE`` (``-`` for stdout),
``-T SEC``, ``-U AGENT``, ``--header``, ``--spider``, ``-S``; ``wget: server returned error:
HTTP/1.1 404 Not Found``, ``wget: can't connect to remote host (…): Connection refused``,
``wget: bad address '…'``; exit code 1 on any failure. Redirects are followed. An absolute
output path lands inside the container root (``$MINIKUBE_PY_ROOT``).
"""

from __future__ import annotations

import getopt
import http.client
import os
import socket
import ssl
import sys
import urllib.parse
from dataclasses import dataclass, field

USAGE = (
    "Usage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR] [-U AGENT] [-T SEC] URL..."
)


@dataclass
class Options:
    quiet: bool = False
    output: str = ""
    agent: str = "Wget"
    timeout: float = 900.0
    spider: bool = False
    insecure: bool = False
    server_response: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def complain(message: str) -> int:
    print(f"wget: {message}", file=sys.stderr)
    return 1


def inside_root(path: str) -> str:
    root = os.environ.get("MINIKUBE_PY_ROOT")
    if not root or not path.startswith("/") or path.startswith(root.rstrip("/") + "/"):
        return path  # relative, or already placed under the root by the runtime
    return os.path.join(root, path.lstrip("/"))


def fetch(url: str, options: Options) -> int:
    quiet = options.quiet
    for _ in range(20):  # busybox's redirect limit is generous; so is this
        parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
        secure = parts.scheme == "https"
        host, port = parts.hostname or "", parts.port or (443 if secure else 80)
        try:
            address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][0]
        except (socket.gaierror, UnicodeError):
            return complain(f"bad address '{host}'")
        if not quiet:
            print(f"Connecting to {host} ({address}:{port})", file=sys.stderr)
        timeout = options.timeout
        connection: http.client.HTTPConnection
        if secure:
            context = ssl.create_default_context()
            if options.insecure:
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        path = parts.path or "/"
        path += f"?{parts.query}" if parts.query else ""
        try:
            method = "HEAD" if options.spider else "GET"
            connection.request(
                method,
                path,
                headers={"User-Agent": options.agent, "Connection": "close", **options.headers},
            )
            response = connection.getresponse()
        except TimeoutError:
            return complain("download timed out")
        except OSError as error:
            return complain(f"can't connect to remote host ({address}): {error.strerror}")
        if options.server_response:
            print(f"  HTTP/1.1 {response.status} {response.reason}", file=sys.stderr)
            for name, value in response.getheaders():
                print(f"  {name}: {value}", file=sys.stderr)
        if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
            url = urllib.parse.urljoin(
                f"{parts.scheme}://{parts.netloc}{path}", response.getheader("Location", "")
            )
            connection.close()
            continue
        if response.status >= 400:
            return complain(f"server returned error: HTTP/1.1 {response.status} {response.reason}")
        if options.spider:
            if not quiet:
                print("remote file exists", file=sys.stderr)
            return 0
        return save(response, parts.path, options)
    return complain("too many redirections")


def save(response: http.client.HTTPResponse, path: str, options: Options) -> int:
    target = options.output or os.path.basename(path) or "index.html"
    quiet = options.quiet
    try:
        data = response.read()
    except TimeoutError:
        return complain("download timed out")
    if target == "-":
        if not quiet:
            print("writing to stdout", file=sys.stderr)
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        if not quiet:
            print("written to stdout", file=sys.stderr)
        return 0
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if options.output else os.O_EXCL)
    try:
        descriptor = os.open(inside_root(target), flags, 0o644)
    except OSError as error:
        return complain(f"can't open '{target}': {error.strerror}")
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    if not quiet:
        print(f"saving to '{target}'\n'{target}' saved", file=sys.stderr)
    return 0


def main(argv: list[str]) -> int:
    try:
        pairs, urls = getopt.gnu_getopt(
            argv,
            "cqsSO:o:P:U:T:Y:",
            [
                "spider",
                "header=",
                "no-check-certificate",
                "quiet",
                "output-document=",
                "user-agent=",
                "timeout=",
                "server-response",
                "continue",
            ],
        )
    except getopt.GetoptError as error:
        print(f"wget: {error.msg}\n{USAGE}", file=sys.stderr)
        return 1
    options = Options()
    for flag, value in pairs:
        if flag in ("-q", "--quiet"):
            options.quiet = True
        elif flag in ("-O", "--output-document"):
            options.output = value
        elif flag in ("-U", "--user-agent"):
            options.agent = value
        elif flag in ("-T", "--timeout"):
            options.timeout = float(value)
        elif flag in ("-S", "--server-response"):
            options.server_response = True
        elif flag == "--spider":
            options.spider = True
        elif flag == "--no-check-certificate":
            options.insecure = True
        elif flag == "--header":
            name, _, content = value.partition(":")
            options.headers[name.strip()] = content.strip()
    if not urls:
        print(USAGE, file=sys.stderr)
        return 1
    for url in urls:
        code = fetch(url, options)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
