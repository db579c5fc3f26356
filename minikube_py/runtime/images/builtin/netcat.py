"""busybox's ``nc`` for the busybox image: raw TCP to a host and port, or listening on one.

``nc HOST PORT`` copies stdin to the connection and the connection to stdout (stdin's end
half-closes the connection, so ``printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc web 80`` works);
``-z`` only checks that the port is open (``-v`` says so: ``web (127.96.0.3:80) open``);
``-w SEC`` bounds the connect and the final reads; ``-l -p PORT`` listens on the pod's address
(``-k`` keeps listening after a client leaves). As a Python program it reaches ``localhost``
through the interpreter hook, i.e. its own pod. Messages and exit codes follow busybox.
"""

from __future__ import annotations

import getopt
import os
import socket
import sys
import threading

USAGE = "Usage: nc [-lkzv] [-w SEC] [-p PORT] [HOST] [PORT]"


def pump_stdin(connection: socket.socket) -> None:
    """Copy stdin to the connection, then half-close it so the peer sees the end."""
    try:
        while chunk := os.read(sys.stdin.fileno(), 65536):
            connection.sendall(chunk)
        connection.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def converse(connection: socket.socket, timeout: float | None) -> None:
    threading.Thread(target=pump_stdin, args=(connection,), daemon=True).start()
    connection.settimeout(timeout)
    try:
        while chunk := connection.recv(65536):
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
    except OSError:  # a timeout or a reset ends the conversation as EOF would
        pass
    connection.close()


def listen(port: int, *, keep: bool, verbose: bool, timeout: float | None) -> int:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind((os.environ.get("POD_IP") or "0.0.0.0", port))
    except OSError as error:
        print(f"nc: bind: {error.strerror}", file=sys.stderr)
        return 1
    server.listen(1)
    if verbose:
        host, bound = server.getsockname()
        print(f"listening on {host}:{bound} ...", file=sys.stderr)
    while True:
        connection, peer = server.accept()
        if verbose:
            print(
                f"connect to {server.getsockname()[0]}:{port} from {peer[0]}:{peer[1]}",
                file=sys.stderr,
            )
        converse(connection, timeout)
        if not keep:
            return 0


def connect(host: str, port: int, *, scan: bool, verbose: bool, timeout: float | None) -> int:
    try:
        address = str(socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0])
    except (socket.gaierror, UnicodeError):
        print(f"nc: bad address '{host}'", file=sys.stderr)
        return 1
    try:
        connection = socket.create_connection((address, port), timeout=timeout)
    except OSError as error:
        reason = "Connection timed out" if isinstance(error, TimeoutError) else error.strerror
        if verbose or not scan:
            print(f"nc: can't connect to remote host ({address}): {reason}", file=sys.stderr)
        return 1
    if scan:
        if verbose:
            print(f"{host} ({address}:{port}) open", file=sys.stderr)
        connection.close()
        return 0
    converse(connection, timeout)
    return 0


def main(argv: list[str]) -> int:
    try:
        pairs, rest = getopt.getopt(argv, "lkzvnp:w:q:")
    except getopt.GetoptError as error:
        print(f"nc: {error.msg}\n{USAGE}", file=sys.stderr)
        return 1
    flags = {flag: value for flag, value in pairs}
    timeout = float(flags["-w"]) if "-w" in flags else None
    verbose = "-v" in flags
    try:
        if "-l" in flags:
            port = flags.get("-p") or (rest[0] if rest else "")
            return listen(int(port), keep="-k" in flags, verbose=verbose, timeout=timeout)
        host, port = rest[0], rest[1]
        return connect(host, int(port), scan="-z" in flags, verbose=verbose, timeout=timeout)
    except (IndexError, ValueError):
        print(USAGE, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
