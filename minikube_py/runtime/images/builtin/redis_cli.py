"""The redis image's ``redis-cli``: sends commands to a Redis server and prints the replies.

As in the real image it talks to ``127.0.0.1:6379`` unless told otherwise (``-h``, ``-p``) —
which in a pod means the pod's own server, so ``127.0.0.1`` and ``localhost`` are sent to
``$POD_IP``. ``redis-cli SET a 1`` runs one command; without a command it reads commands from
stdin, with the ``127.0.0.1:6379>`` prompt when stdin is a terminal. Replies print as
redis-cli prints them: on a terminal ``PONG``, ``"value"``, ``(nil)``, ``(integer) 1``,
``1) "a"``, ``(error) ERR …``, ``(empty array)``; otherwise (a pipe, ``kubectl exec`` without
``-t``) raw: ``value``, an empty line for nil, ``1``, one element per line. ``--raw`` and
``--no-raw`` choose explicitly. Error replies still exit 0, as redis-cli does without ``-e``.
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
from typing import BinaryIO

Reply = bytes | int | list["Reply"] | None


class ServerError(Exception):
    """An error reply (``-ERR …``)."""


class Status(str):
    """A simple-string reply (``+OK``): printed without quotes."""


def read_reply(stream: BinaryIO) -> Reply | Status | ServerError:
    line = stream.readline()
    if not line:
        raise ConnectionError("Server closed the connection")
    kind, rest = line[:1], line[1:].rstrip(b"\r\n")
    if kind == b"+":
        return Status(rest.decode("utf-8", "replace"))
    if kind == b"-":
        return ServerError(rest.decode("utf-8", "replace"))
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else stream.read(size + 2)[:-2]
    if kind == b"*":
        count = int(rest)
        return None if count < 0 else [read_reply(stream) for _ in range(count)]  # type: ignore[misc]
    raise ConnectionError(f"Protocol error, got {kind!r} as reply type byte")


def quote(data: bytes) -> str:
    """redis-cli's ``sdscatrepr``: double quotes, C escapes, ``\\xHH`` for the rest."""
    escapes = {
        0x5C: "\\\\",
        0x22: '\\"',
        0x0A: "\\n",
        0x0D: "\\r",
        0x09: "\\t",
        0x07: "\\a",
        0x08: "\\b",
    }
    text = "".join(escapes.get(b, chr(b) if 32 <= b < 127 else f"\\x{b:02x}") for b in data)
    return f'"{text}"'


def tty_format(reply: object, prefix: str = "") -> str:
    if isinstance(reply, ServerError):
        return f"(error) {reply}\n"
    if isinstance(reply, Status):
        return f"{reply}\n"
    if isinstance(reply, int):
        return f"(integer) {reply}\n"
    if isinstance(reply, bytes):
        return quote(reply) + "\n"
    if reply is None:
        return "(nil)\n"
    assert isinstance(reply, list)
    if not reply:
        return "(empty array)\n"
    width = len(str(len(reply)))
    inner = prefix + " " * (width + 2)
    out = ""
    for index, element in enumerate(reply, 1):
        out += f"{prefix if index > 1 else ''}{index:>{width}}) " + tty_format(element, inner)
    return out


def raw_format(reply: object) -> str:
    if isinstance(reply, ServerError):
        return f"{reply}\n"
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    if reply is None:
        return ""
    if isinstance(reply, list):
        return "\n".join(raw_format(element) for element in reply)
    return str(reply)


class Client:
    def __init__(self, host: str, port: int, *, raw: bool) -> None:
        self.host, self.port, self.raw = host, port, raw
        # In a pod, 127.0.0.1 is the pod itself; on this shared loopback that is $POD_IP.
        target = host
        if host in ("127.0.0.1", "localhost") and os.environ.get("POD_IP"):
            target = os.environ["POD_IP"]
        self.connection = socket.create_connection((target, port), timeout=30)
        self.stream = self.connection.makefile("rb")

    def run(self, words: list[str]) -> str:
        encoded = [word.encode() for word in words]
        request = b"*%d\r\n" % len(encoded) + b"".join(
            b"$%d\r\n%s\r\n" % (len(word), word) for word in encoded
        )
        self.connection.sendall(request)
        reply = read_reply(self.stream)
        if words[0].lower() == "info" and isinstance(reply, bytes):
            return reply.decode("utf-8", "replace")  # printed verbatim, as redis-cli does
        return raw_format(reply) + "\n" if self.raw else tty_format(reply)


def repl(client: Client | None, prompt: str) -> int:
    interactive = sys.stdin.isatty()
    while True:
        try:
            line = input(prompt if client else "not connected> ") if interactive else input()
        except EOFError:
            return 0
        try:
            words = shlex.split(line)
        except ValueError:
            print("Invalid argument(s)")
            continue
        if not words:
            continue
        if words[0].lower() in ("quit", "exit"):
            return 0
        if client is None:
            print(f"Could not connect to Redis at {prompt[:-2]}: Connection refused")
            continue
        sys.stdout.write(client.run(words))
        sys.stdout.flush()


def main(argv: list[str]) -> int:
    host, port, raw = "127.0.0.1", 6379, not sys.stdout.isatty()
    words = list(argv)
    while words and words[0].startswith("-"):
        flag = words.pop(0)
        if flag == "-h" and words:
            host = words.pop(0)
        elif flag == "-p" and words:
            port = int(words.pop(0))
        elif flag in ("-n", "-a", "--user", "--pass") and words:
            words.pop(0)
        elif flag == "--raw":
            raw = True
        elif flag == "--no-raw":
            raw = False
        elif flag in ("-v", "--version"):
            print("redis-cli 7.4.1")
            return 0
        else:
            print(f"Unrecognized option or bad number of args for: '{flag}'", file=sys.stderr)
            return 1
    try:
        client: Client | None = Client(host, port, raw=raw)
    except OSError as error:
        if words:
            print(f"Could not connect to Redis at {host}:{port}: {error.strerror}", file=sys.stderr)
            return 1
        client = None
    if not words:
        return repl(client, f"{host}:{port}> ")
    assert client is not None
    try:
        sys.stdout.write(client.run(words))
    except (OSError, ConnectionError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
