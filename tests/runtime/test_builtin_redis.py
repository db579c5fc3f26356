"""The built-in redis: RESP commands, persistence in /data across restarts, and redis-cli."""

from __future__ import annotations

import json
import socket

from tests.runtime import test_images_harness as harness
from tests.runtime.test_images_harness import Container, Containers

containers = harness.containers  # the fixture


def resp(*words: str) -> bytes:
    return b"*%d\r\n" % len(words) + b"".join(
        b"$%d\r\n%s\r\n" % (len(w.encode()), w.encode()) for w in words
    )


def talk(redis: Container, *commands: tuple[str, ...], inline: bytes = b"") -> bytes:
    """Send the commands (pipelined) and QUIT; everything the server answered."""
    with socket.create_connection((redis.pod_ip, 6379), timeout=10) as connection:
        connection.sendall(b"".join(resp(*c) for c in commands) + inline + resp("QUIT"))
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.endswith(b"+OK\r\n")  # QUIT's answer, then the server closed
    return answer[: -len(b"+OK\r\n")]


def test_commands_answer_as_redis_does(containers: Containers) -> None:
    redis = containers.run("redis:7", name="redis")
    redis.wait_for_port(6379)
    assert talk(
        redis,
        ("PING",),
        ("ECHO", "hi"),
        ("SET", "a", "1"),
        ("GET", "a"),
        ("GET", "missing"),
        ("INCR", "a"),
        ("INCRBY", "a", "10"),
        ("EXISTS", "a", "b"),
        ("SET", "b", "x", "NX"),
        ("SET", "b", "y", "NX"),
        ("DEL", "b", "c"),
    ) == (b"+PONG\r\n$2\r\nhi\r\n+OK\r\n$1\r\n1\r\n$-1\r\n:2\r\n:12\r\n:1\r\n+OK\r\n$-1\r\n:1\r\n")
    assert (
        talk(redis, ("SET", "user:1", "ann"), ("SET", "user:2", "bob"), ("KEYS", "user:*"))
        == b"+OK\r\n+OK\r\n*2\r\n$6\r\nuser:1\r\n$6\r\nuser:2\r\n"
    )
    assert talk(
        redis,
        ("FOO", "bar", "baz"),
        ("GET",),
        ("SET", "k", "v", "EX", "0"),
        ("SET", "user:1", "x", "BOGUS"),
        ("INCR", "user:1"),
    ) == (
        b"-ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' \r\n"
        b"-ERR wrong number of arguments for 'get' command\r\n"
        b"-ERR invalid expire time in 'set' command\r\n"
        b"-ERR syntax error\r\n"
        b"-ERR value is not an integer or out of range\r\n"
    )
    assert talk(redis, ("SET", "t", "v", "PX", "1"), inline=b"PING\r\n") == b"+OK\r\n+PONG\r\n"
    harness.wait_until(lambda: talk(redis, ("GET", "t")) == b"$-1\r\n", "expiry")
    assert b"redis_version:7.4.1" in talk(redis, ("INFO",))
    assert talk(redis, ("FLUSHALL",), ("DBSIZE",)) == b"+OK\r\n:0\r\n"
    assert "Ready to accept connections tcp" in redis.stdout()
    assert redis.terminate() == 0


def test_data_survives_a_restart_in_the_data_volume(containers: Containers) -> None:
    first = containers.run("redis", name="redis")
    first.wait_for_port(6379)
    talk(first, ("SET", "visits", "41"), ("INCR", "visits"), ("SET", "bin", "\u00e9\n"))
    assert first.terminate() == 0
    saved = json.loads((first.root / "data/dump.json").read_text())
    assert saved["values"]["visits"] == "42"
    # A new container of the same pod (same address) on the same root, as after a restart.
    second = containers.create("redis", name="redis", pod_ip=first.pod_ip, root=first.root)
    second.start(second.image.config["Cmd"])
    second.wait_for_port(6379)
    assert talk(second, ("GET", "visits"), ("GET", "bin")) == (b"$2\r\n42\r\n$3\r\n\xc3\xa9\n\r\n")
    assert "DB loaded from disk" in second.stdout()


def test_writes_reach_the_disk_without_a_shutdown(containers: Containers) -> None:
    redis = containers.run("redis")
    redis.wait_for_port(6379)
    talk(redis, ("SET", "k", "v"))
    dump = redis.root / "data/dump.json"
    harness.wait_until(
        lambda: dump.exists() and json.loads(dump.read_text())["values"] == {"k": "v"},
        "the write batch to be saved",
    )


def test_redis_cli_reaches_its_own_pod_and_prints_like_redis_cli(containers: Containers) -> None:
    redis = containers.run("redis", name="redis")
    redis.wait_for_port(6379)
    assert redis.exec(["redis-cli", "SET", "greeting", "hello world"]).stdout == b"OK\n"
    # Not a terminal (kubectl exec without -t): raw output, as redis-cli prints it.
    assert redis.exec(["redis-cli", "GET", "greeting"]).stdout == b"hello world\n"
    assert redis.exec(["redis-cli", "GET", "nothing"]).stdout == b"\n"
    # --no-raw: what a terminal shows.
    tty = ["redis-cli", "--no-raw"]
    assert redis.exec([*tty, "PING"]).stdout == b"PONG\n"
    assert redis.exec([*tty, "GET", "greeting"]).stdout == b'"hello world"\n'
    assert redis.exec([*tty, "GET", "nothing"]).stdout == b"(nil)\n"
    assert redis.exec([*tty, "INCR", "n"]).stdout == b"(integer) 1\n"
    redis.exec([*tty, "SET", "n2", "x"])
    assert redis.exec([*tty, "KEYS", "n*"]).stdout in (b'1) "n"\n2) "n2"\n', b'1) "n2"\n2) "n"\n')
    assert redis.exec([*tty, "KEYS", "zz*"]).stdout == b"(empty array)\n"
    assert redis.exec([*tty, "NOPE"]).stdout == (
        b"(error) ERR unknown command 'NOPE', with args beginning with: \n"
    )
    # Commands on stdin, one per line (what `kubectl exec -i … redis-cli` sends).
    session = redis.exec(["redis-cli"], input=b'SET q "a b"\nGET q\nDEL q\n')
    assert session.stdout == b"OK\na b\n1\n"


def test_redis_cli_when_nothing_listens(containers: Containers) -> None:
    redis = containers.create("redis", pod_ip=harness.loopback_address())
    done = redis.exec(["redis-cli", "-p", "6390", "PING"])
    assert done.returncode == 1
    assert done.stderr == b"Could not connect to Redis at 127.0.0.1:6390: Connection refused\n"
