"""The redis image's server: a small key-value store speaking RESP, the Redis protocol.

Enough of Redis for the tutorials and for a guestbook-style app: ``PING``, ``ECHO``, ``SET``
(``EX``/``PX``/``NX``/``XX``/``KEEPTTL``/``GET``), ``GET``, ``DEL``, ``EXISTS``, ``KEYS`` with
glob patterns, ``INCR``/``DECR``/``INCRBY``/``DECRBY``, ``EXPIRE``/``TTL``/``PTTL``,
``DBSIZE``, ``FLUSHALL``/``FLUSHDB``, ``SAVE``, ``SELECT 0``, ``INFO`` and ``QUIT``, over RESP
arrays or inline commands (``printf 'PING\\r\\n' | nc redis 6379``). Errors are worded as Redis
words them (``ERR unknown command 'FOO', with args beginning with: ``). Values are strings.

It listens on ``$POD_IP`` port 6379 (``--port`` or a config file's ``port`` line override) and
keeps its data in ``dump.json`` in its working directory (the image's ``/data``, where a
volume usually is), written shortly after every batch of writes and on SIGTERM, read at start.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import ClassVar

VERSION = os.environ.get("REDIS_VERSION") or "7.4.1"
Reply = bytes


def bulk(value: bytes | None) -> Reply:
    return b"$-1\r\n" if value is None else b"$%d\r\n%s\r\n" % (len(value), value)


def integer(value: int) -> Reply:
    return b":%d\r\n" % value


def error(message: str) -> Reply:
    return f"-{message}\r\n".encode()


OK, NIL = b"+OK\r\n", b"$-1\r\n"


class Database:
    """The keyspace: values and their expiry times (unix milliseconds), saved as JSON."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.values: dict[bytes, bytes] = {}
        self.expires: dict[bytes, int] = {}
        self.dirty = asyncio.Event()

    def load(self) -> bool:
        try:
            with open(self.path) as file:
                saved = json.load(file)
        except (OSError, ValueError):
            return False
        # latin-1 maps bytes to text one to one, so any binary value survives JSON.
        self.values = {k.encode("latin-1"): v.encode("latin-1") for k, v in saved["values"].items()}
        self.expires = {k.encode("latin-1"): int(v) for k, v in saved["expires"].items()}
        return True

    def save(self) -> None:
        values = {k.decode("latin-1"): v.decode("latin-1") for k, v in self.values.items()}
        expires = {k.decode("latin-1"): v for k, v in self.expires.items()}
        data = {"values": values, "expires": expires}
        temporary = f"{self.path}.tmp"
        with open(temporary, "w") as file:
            json.dump(data, file)
        os.replace(temporary, self.path)  # a crash never leaves half a dump

    def live(self, key: bytes) -> bool:
        deadline = self.expires.get(key)
        if deadline is not None and deadline <= time.time() * 1000:
            self.values.pop(key, None)
            self.expires.pop(key, None)
            self.dirty.set()
        return key in self.values

    def get(self, key: bytes) -> bytes | None:
        return self.values[key] if self.live(key) else None

    def delete(self, key: bytes) -> bool:
        found = self.live(key)
        self.values.pop(key, None)
        self.expires.pop(key, None)
        return found


class Commands:
    """Each ``cmd_<name>`` takes the arguments after the command name and returns the reply."""

    # name → (minimum, maximum) argument count after the name; None means unbounded.
    ARITY: ClassVar[dict[str, tuple[int, int | None]]] = {
        "ping": (0, 1),
        "echo": (1, 1),
        "set": (2, None),
        "get": (1, 1),
        "del": (1, None),
        "exists": (1, None),
        "keys": (1, 1),
        "incr": (1, 1),
        "decr": (1, 1),
        "incrby": (2, 2),
        "decrby": (2, 2),
        "expire": (2, 2),
        "ttl": (1, 1),
        "pttl": (1, 1),
        "dbsize": (0, 0),
        "flushall": (0, 1),
        "flushdb": (0, 1),
        "save": (0, 0),
        "select": (1, 1),
        "info": (0, None),
        "quit": (0, None),
        "command": (0, None),
    }
    WRITES: ClassVar[frozenset[str]] = frozenset(
        {"set", "del", "incr", "decr", "incrby", "decrby", "expire", "flushall", "flushdb"}
    )

    def __init__(self, db: Database, port: int, clients: Callable[[], int]) -> None:
        self.db, self.port, self.clients, self.started = db, port, clients, time.time()

    def execute(self, command: list[bytes]) -> Reply:
        name = command[0].decode("utf-8", "replace")
        arity = self.ARITY.get(name.lower())
        if arity is None:
            quoted = "".join(f"'{arg.decode('utf-8', 'replace')[:128]}' " for arg in command[1:])
            return error(f"ERR unknown command '{name}', with args beginning with: {quoted}")
        count = len(command) - 1
        if count < arity[0] or (arity[1] is not None and count > arity[1]):
            return error(f"ERR wrong number of arguments for '{name.lower()}' command")
        reply: Reply = getattr(self, f"cmd_{name.lower()}")(command[1:])
        if name.lower() in self.WRITES and not reply.startswith(b"-"):
            self.db.dirty.set()
        return reply

    def cmd_ping(self, args: list[bytes]) -> Reply:
        return bulk(args[0]) if args else b"+PONG\r\n"

    def cmd_echo(self, args: list[bytes]) -> Reply:
        return bulk(args[0])

    def cmd_set(self, args: list[bytes]) -> Reply:
        key, value, options = args[0], args[1], [a.upper() for a in args[2:]]
        expire_ms: int | None = None
        condition, keep, get = None, False, False
        i = 0
        while i < len(options):
            option = options[i]
            if option in (b"EX", b"PX") and i + 1 < len(options):
                try:
                    amount = int(options[i + 1])
                except ValueError:
                    return error("ERR value is not an integer or out of range")
                if amount <= 0:
                    return error("ERR invalid expire time in 'set' command")
                expire_ms = amount * (1000 if option == b"EX" else 1)
                i += 1
            elif option in (b"NX", b"XX") and condition is None:
                condition = option
            elif option == b"KEEPTTL":
                keep = True
            elif option == b"GET":
                get = True
            else:
                return error("ERR syntax error")
            i += 1
        old = self.db.get(key)
        if (condition == b"NX" and old is not None) or (condition == b"XX" and old is None):
            return bulk(old) if get else NIL
        previous_expiry = self.db.expires.get(key) if keep else None
        self.db.delete(key)
        self.db.values[key] = value
        if expire_ms is not None:
            self.db.expires[key] = int(time.time() * 1000) + expire_ms
        elif previous_expiry is not None:
            self.db.expires[key] = previous_expiry
        return bulk(old) if get else OK

    def cmd_get(self, args: list[bytes]) -> Reply:
        return bulk(self.db.get(args[0]))

    def cmd_del(self, args: list[bytes]) -> Reply:
        return integer(sum(self.db.delete(key) for key in args))

    def cmd_exists(self, args: list[bytes]) -> Reply:
        return integer(sum(self.db.live(key) for key in args))

    def cmd_keys(self, args: list[bytes]) -> Reply:
        # Redis globs negate with [^…]; fnmatch spells it [!…].
        pattern = args[0].decode("latin-1").replace("[^", "[!")
        keys = [
            k
            for k in list(self.db.values)
            if self.db.live(k) and fnmatch.fnmatchcase(k.decode("latin-1"), pattern)
        ]
        return b"*%d\r\n" % len(keys) + b"".join(bulk(k) for k in keys)

    def add(self, key: bytes, amount: int) -> Reply:
        try:
            value = int(self.db.get(key) or b"0")
        except ValueError:
            return error("ERR value is not an integer or out of range")
        if not -(2**63) <= value + amount < 2**63:
            return error("ERR increment or decrement would overflow")
        self.db.values[key] = str(value + amount).encode()
        return integer(value + amount)

    def amount(self, text: bytes, sign: int, key: bytes) -> Reply:
        try:
            return self.add(key, sign * int(text))
        except ValueError:
            return error("ERR value is not an integer or out of range")

    def cmd_incr(self, args: list[bytes]) -> Reply:
        return self.add(args[0], 1)

    def cmd_decr(self, args: list[bytes]) -> Reply:
        return self.add(args[0], -1)

    def cmd_incrby(self, args: list[bytes]) -> Reply:
        return self.amount(args[1], 1, args[0])

    def cmd_decrby(self, args: list[bytes]) -> Reply:
        return self.amount(args[1], -1, args[0])

    def cmd_expire(self, args: list[bytes]) -> Reply:
        try:
            seconds = int(args[1])
        except ValueError:
            return error("ERR value is not an integer or out of range")
        if not self.db.live(args[0]):
            return integer(0)
        self.db.expires[args[0]] = int(time.time() * 1000) + seconds * 1000
        self.db.live(args[0])  # a past deadline deletes at once, as in Redis
        return integer(1)

    def remaining(self, key: bytes) -> int:
        if not self.db.live(key):
            return -2
        deadline = self.db.expires.get(key)
        return -1 if deadline is None else max(0, deadline - int(time.time() * 1000))

    def cmd_ttl(self, args: list[bytes]) -> Reply:
        left = self.remaining(args[0])
        return integer(left if left < 0 else (left + 500) // 1000)

    def cmd_pttl(self, args: list[bytes]) -> Reply:
        return integer(self.remaining(args[0]))

    def cmd_dbsize(self, args: list[bytes]) -> Reply:
        return integer(sum(self.db.live(k) for k in list(self.db.values)))

    def cmd_flushall(self, args: list[bytes]) -> Reply:
        self.db.values.clear()
        self.db.expires.clear()
        return OK

    cmd_flushdb = cmd_flushall

    def cmd_save(self, args: list[bytes]) -> Reply:
        self.db.save()
        return OK

    def cmd_select(self, args: list[bytes]) -> Reply:
        return OK if args[0] == b"0" else error("ERR DB index is out of range")

    def cmd_quit(self, args: list[bytes]) -> Reply:
        return OK

    def cmd_command(self, args: list[bytes]) -> Reply:
        return b"*0\r\n"  # clients ask for command docs; they cope with none

    def cmd_info(self, args: list[bytes]) -> Reply:
        keys = sum(self.db.live(k) for k in list(self.db.values))
        text = (
            f"# Server\r\nredis_version:{VERSION}\r\nredis_mode:standalone\r\nos:Linux\r\n"
            f"arch_bits:64\r\nprocess_id:{os.getpid()}\r\ntcp_port:{self.port}\r\n"
            f"uptime_in_seconds:{int(time.time() - self.started)}\r\n\r\n"
            f"# Clients\r\nconnected_clients:{self.clients()}\r\n\r\n"
            f"# Persistence\r\nloading:0\r\n\r\n# Keyspace\r\n"
        )
        if keys:
            text += f"db0:keys={keys},expires={len(self.db.expires)},avg_ttl=0\r\n"
        return bulk(text.encode())


async def read_command(reader: asyncio.StreamReader) -> list[bytes] | None:
    """One command, as a RESP array of bulk strings or an inline line; None at the end."""
    line = await reader.readline()
    if not line:
        return None
    if not line.startswith(b"*"):
        return line.split()  # inline command, as telnet and nc send them
    parts = []
    for _ in range(int(line[1:])):
        header = await reader.readline()
        if not header.startswith(b"$"):
            raise ValueError("Protocol error: expected '$'")
        data = await reader.readexactly(int(header[1:]) + 2)
        parts.append(data[:-2])
    return parts


def log(role: str, mark: str, message: str) -> None:
    now = time.time()
    stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
    print(f"{os.getpid()}:{role} {stamp} {mark} {message}", flush=True)


def options(argv: list[str]) -> int:
    """The port from ``--port N`` or a config file's ``port`` line (other settings ignored)."""
    port = 6379
    root = os.environ.get("MINIKUBE_PY_ROOT") or "/"
    if argv and not argv[0].startswith("-"):
        path = argv[0] if os.path.exists(argv[0]) else os.path.join(root, argv[0].lstrip("/"))
        with open(path) as conf:
            for line in conf:
                words = line.split()
                if len(words) == 2 and words[0].lower() == "port":
                    port = int(words[1])
    if "--port" in argv:
        port = int(argv[argv.index("--port") + 1])
    return port


async def serve(port: int) -> None:
    db = Database(os.path.join(os.getcwd(), "dump.json"))
    connections: set[asyncio.StreamWriter] = set()
    commands = Commands(db, port, lambda: len(connections))
    log("C", "#", "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo")
    log("C", "#", f"Redis version={VERSION}, bits=64, pid={os.getpid()}, just started")
    log("M", "*", "Server initialized")
    if db.load():
        log("M", "*", f"DB loaded from disk: {len(db.values)} keys")

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.add(writer)
        try:
            while (command := await read_command(reader)) is not None:
                if command:
                    writer.write(commands.execute(command))
                    await writer.drain()
                    if command[0].lower() == b"quit":
                        break
        except (ValueError, asyncio.IncompleteReadError, ConnectionError) as problem:
            if isinstance(problem, ValueError):
                writer.write(error(f"ERR {problem}"))
        finally:
            connections.discard(writer)
            writer.close()

    server = await asyncio.start_server(client, os.environ.get("POD_IP") or "127.0.0.1", port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log("M", "*", "Ready to accept connections tcp")

    async def saver() -> None:
        while True:
            await db.dirty.wait()
            await asyncio.sleep(0.05)  # one write per batch of commands, not per command
            db.dirty.clear()
            db.save()

    saving = asyncio.create_task(saver())
    await stop.wait()
    log("M", "#", "User requested shutdown...")
    saving.cancel()
    server.close()
    log("M", "*", "Saving the final RDB snapshot before exiting.")
    db.save()
    log("M", "*", "DB saved on disk")
    log("M", "#", "Redis is now ready to exit, bye bye...")


def main(argv: list[str]) -> int:
    if "--version" in argv or "-v" in argv:
        print(f"Redis server v={VERSION} sha=00000000:0 malloc=libc bits=64 build=minikube-py")
        return 0
    try:
        asyncio.run(serve(options(argv)))
    except OSError as problem:
        log("M", "#", f"Failed listening on port: {problem.strerror}, aborting.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
