"""The busybox image: host shell tools plus busybox's network applets that follow the pod."""

from __future__ import annotations

import io
import socket
import tarfile
import threading

from tests.runtime import test_images_harness as harness
from tests.runtime.test_images_harness import Containers

containers = harness.containers  # the fixture


def test_the_shell_and_the_classic_commands(containers: Containers) -> None:
    box = containers.run(
        "busybox:1.28",
        name="box",
        command=[
            "sh",
            "-c",
            "echo The app is running!; env; sleep 30",
        ],
    )
    harness.wait_until(lambda: "HOSTNAME=box" in box.stdout(), "the container's output")
    assert box.stdout().splitlines()[0] == "The app is running!"
    assert f"POD_IP={box.pod_ip}" in box.stdout()
    assert box.exec(["hostname"]).stdout == b"box\n"
    assert box.exec(["hostname", "-i"]).stdout == f"{box.pod_ip}\n".encode()
    assert box.exec(["false"]).returncode == 1
    assert box.terminate() == -15  # sh does not catch SIGTERM: killed by it, as in busybox


def test_wget_fetches_from_a_pod_and_from_its_own_localhost(containers: Containers) -> None:
    web = containers.run("nginx", name="web", env={"NGINX_PORT": "8080"})
    web.wait_for_port(8080)
    client = containers.create("busybox")
    fetched = client.exec(["wget", "-qO-", f"http://{web.pod_ip}:8080/"])
    assert fetched.returncode == 0 and b"Welcome to nginx!" in fetched.stdout
    # A sidecar: the same pod address, so localhost reaches nginx.
    sidecar = containers.create("busybox", pod_ip=web.pod_ip)
    loud = sidecar.exec(["wget", "-O-", "http://localhost:8080/"])
    assert b"Welcome to nginx!" in loud.stdout
    assert loud.stderr.decode().splitlines() == [
        f"Connecting to localhost ({web.pod_ip}:8080)",
        "writing to stdout",
        "written to stdout",
    ]
    saved = sidecar.exec(["wget", "-q", "-O", "/tmp/page.html", "http://localhost:8080/"])
    assert saved.returncode == 0
    assert b"Welcome" in (sidecar.root / "tmp/page.html").read_bytes()
    # a path the runtime already placed under the root (a file in a volume) is not placed twice
    inside = f"{sidecar.root}/tmp/again.html"
    assert sidecar.exec(["wget", "-q", "-O", inside, "http://localhost:8080/"]).returncode == 0
    assert b"Welcome" in (sidecar.root / "tmp/again.html").read_bytes()
    missing = sidecar.exec(["wget", "-q", "http://localhost:8080/nope"])
    assert (missing.returncode, missing.stderr) == (
        1,
        b"wget: server returned error: HTTP/1.1 404 Not Found\n",
    )
    refused = containers.create("busybox").exec(["wget", "-qO-", "http://localhost:8080/"])
    assert refused.returncode == 1
    assert refused.stderr.startswith(b"wget: can't connect to remote host (127.77.")


def test_nc_probes_and_talks_to_a_port(containers: Containers) -> None:
    redis = containers.run("redis")
    redis.wait_for_port(6379)
    box = containers.create("busybox", pod_ip=redis.pod_ip)
    scan = box.exec(["nc", "-zv", "localhost", "6379"])
    assert scan.returncode == 0
    assert scan.stderr == f"localhost ({redis.pod_ip}:6379) open\n".encode()
    assert box.exec(["nc", "-z", "localhost", "6399"]).returncode == 1
    talk = box.exec(["nc", "-w", "2", "localhost", "6379"], input=b"PING\r\nQUIT\r\n")
    assert talk.stdout == b"+PONG\r\n+OK\r\n"


def test_nc_listens_on_the_pod_address(containers: Containers) -> None:
    box = containers.run("busybox", command=["nc", "-l", "-p", "7000"])
    box.wait_for_port(7000)  # the probe connection is the one nc serves; it then exits
    assert box.process is not None and box.process.wait(timeout=10) == 0
    listener = containers.run("busybox", pod_ip=box.pod_ip, command=["nc", "-lk", "-p", "7001"])
    received = threading.Event()

    def send() -> None:
        with socket.create_connection((box.pod_ip, 7001), timeout=5) as connection:
            connection.sendall(b"hello\n")
        received.set()

    harness.wait_until(lambda: probe(box.pod_ip, 7001), "nc -l to listen")
    threading.Thread(target=send, daemon=True).start()
    harness.wait_until(lambda: "hello" in listener.stdout(), "nc to print what it got")


def probe(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=1).close()
    except OSError:
        return False
    return True


def test_nslookup(containers: Containers) -> None:
    box = containers.create("busybox")
    found = box.exec(["nslookup", "localhost"])
    assert found.returncode == 0
    assert f"Name:\tlocalhost\nAddress: {box.pod_ip}\n" in found.stdout.decode()
    lost = box.exec(["nslookup", "myservice.default.svc.cluster.local"])
    assert lost.returncode == 1
    assert b"** server can't find myservice.default.svc.cluster.local: NXDOMAIN" in lost.stdout


def test_tar_names_members_as_inside_the_container(containers: Containers) -> None:
    """`kubectl cp pod:/tmp/x` runs ``tar cf - /tmp/x`` and insists on members named ``tmp/x``."""
    box = containers.create("busybox")
    (box.root / "tmp" / "x").write_text("copied\n")
    packed = box.exec(["tar", "cf", "-", "/tmp/x"])
    assert packed.returncode == 0, packed.stderr
    with tarfile.open(fileobj=io.BytesIO(packed.stdout)) as archive:
        assert archive.getnames() == ["tmp/x"]
        member = archive.extractfile("tmp/x")
        assert member is not None and member.read() == b"copied\n"
