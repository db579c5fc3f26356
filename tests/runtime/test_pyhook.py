"""The start-up hook: Python programs in pods bind and reach their pod's address unchanged."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from minikube_py.runtime import pyhook
from tests.runtime.test_images_harness import loopback_address, wait_for_port

# Binds the wildcard, reports where it landed, answers each connection with its pod's address.
SERVER = """
import os, socket, sys
server = socket.socket()
server.bind(("0.0.0.0", int(sys.argv[1])))
server.listen()
print(server.getsockname()[0], flush=True)
while True:
    connection, _ = server.accept()
    connection.sendall(os.environ["POD_IP"].encode())
    connection.close()
"""


class Programs:
    """Python programs started with the hook; all killed and reaped at the end."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[str]] = []

    def env(self, pod_ip: str | None, pythonpath: str | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("POD_IP", "PYTHONPATH")}
        env["PYTHONPATH"] = pythonpath or str(pyhook.directory())
        if pod_ip:
            env["POD_IP"] = pod_ip
        return env

    def start(self, args: list[str], pod_ip: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, *args],
            env=self.env(pod_ip),
            text=True,
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        self.started.append(process)
        return process

    def complete(
        self, code: str, pod_ip: str | None, pythonpath: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=self.env(pod_ip, pythonpath),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        return done

    def run(self, code: str, pod_ip: str | None, pythonpath: str | None = None) -> str:
        return self.complete(code, pod_ip, pythonpath).stdout

    def close(self) -> None:
        for process in self.started:
            process.kill()
            process.wait()


@pytest.fixture
def programs() -> Iterator[Programs]:
    runner = Programs()
    try:
        yield runner
    finally:
        runner.close()


def free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def answer(address: str, port: int) -> str:
    with socket.create_connection((address, port), timeout=5) as connection:
        return connection.recv(100).decode()


def test_two_pods_bind_the_wildcard_on_the_same_port_side_by_side(programs: Programs) -> None:
    first, second = loopback_address(), loopback_address()
    port = free_port(first)
    servers = [programs.start(["-c", SERVER, str(port)], ip) for ip in (first, second)]
    for server, ip in zip(servers, (first, second), strict=True):
        assert server.stdout is not None
        assert server.stdout.readline().strip() == ip  # landed on the pod address
        wait_for_port(ip, port, server)
    assert (answer(first, port), answer(second, port)) == (first, second)
    with pytest.raises(ConnectionRefusedError):  # not on every address, unlike 0.0.0.0
        answer("127.0.0.1", port)


def test_http_server_replicas_on_one_port(programs: Programs) -> None:
    pods = [loopback_address() for _ in range(3)]
    port = free_port(pods[0])
    for ip in pods:
        server = programs.start(["-m", "http.server", str(port)], ip)
        wait_for_port(ip, port, server)
        with urllib.request.urlopen(f"http://{ip}:{port}/", timeout=5) as reply:
            assert reply.status == 200


def test_localhost_connections_reach_the_pod(programs: Programs) -> None:
    pod = loopback_address()
    port = free_port(pod)
    server = programs.start(["-c", SERVER, str(port)], pod)
    wait_for_port(pod, port, server)
    client = f"""
import socket, urllib.request
for host in ("localhost", "127.0.0.1"):
    print(socket.create_connection((host, {port})).recv(100).decode())
raw = socket.socket()
print(raw.connect_ex(("127.0.0.1", {port})), raw.recv(100).decode())
six = socket.socket(socket.AF_INET6)
six.connect(("::1", {port}))
print(six.recv(100).decode())
print(socket.gethostbyname("localhost"))
"""
    assert programs.run(client, pod).split() == [pod, pod, "0", pod, pod, pod]


def test_ipv6_and_dual_stack_servers(programs: Programs) -> None:
    pod = loopback_address()
    port = free_port(pod)
    code = f"""
import asyncio, socket
six = socket.socket(socket.AF_INET6)
six.bind(("::", {port}))
six.listen()
print(six.getsockname()[0])
print(socket.create_connection(("{pod}", {port})).getpeername()[0])
six.close()
async def main():
    server = await asyncio.start_server(lambda r, w: w.close(), host=None, port={port})
    reader, writer = await asyncio.open_connection("{pod}", {port})
    print(len(server.sockets), "dual-stack ok")
    writer.close()
    server.close()
asyncio.run(main())
"""
    assert programs.run(code, pod).splitlines() == [f"::ffff:{pod}", pod, "2 dual-stack ok"]


def test_without_pod_ip_nothing_changes(programs: Programs) -> None:
    code = "import socket; s = socket.socket(); s.bind(('0.0.0.0', 0)); print(s.getsockname()[0])"
    assert programs.run(code, None).strip() == "0.0.0.0"


def test_programs_without_sockets_do_not_import_socket(programs: Programs) -> None:
    code = "import sys; print('socket' in sys.modules)"
    without_hook = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert programs.run(code, loopback_address()).strip() == without_hook.stdout.strip()


def test_another_sitecustomize_still_runs_and_a_broken_one_breaks_nothing(
    programs: Programs, tmp_path: Path
) -> None:
    other, broken = tmp_path / "other", tmp_path / "broken"
    other.mkdir()
    broken.mkdir()
    (other / "sitecustomize.py").write_text("import builtins; builtins.MARK = 'chained'\n")
    (broken / "sitecustomize.py").write_text("raise RuntimeError('broken on purpose')\n")
    hook = str(pyhook.directory())
    pod = loopback_address()
    code = (
        "import builtins, socket; print(getattr(builtins, 'MARK', '-'));"
        "s = socket.socket(); s.bind(('', 0)); print(s.getsockname()[0])"
    )
    assert programs.run(code, pod, f"{hook}:{other}").split() == ["chained", pod]
    done = programs.complete(code, pod, f"{hook}:{broken}")
    assert "Error in sitecustomize" in done.stderr and "broken on purpose" in done.stderr
    assert done.stdout.split() == ["-", pod]


def test_uvloop_connections_to_localhost_reach_the_pod(programs: Programs) -> None:
    pytest.importorskip("uvloop")
    pod = loopback_address()
    code = """
import asyncio, uvloop
async def main():
    server = await asyncio.get_running_loop().create_server(asyncio.Protocol, "0.0.0.0", 0)
    port = server.sockets[0].getsockname()[1]
    for host in ("localhost", "127.0.0.1"):
        reader, writer = await asyncio.open_connection(host, port)
        print(writer.get_extra_info("peername")[0])
        writer.close()
uvloop.install()
asyncio.run(main())
"""
    assert programs.run(code, pod).split() == [pod, pod]
