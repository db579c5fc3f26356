"""Port conflicts, found with real listening sockets on loopback.

A helper process plays another pod's program: it binds the wildcard address (or one address)
on a free port, with ``MINIKUBE_PY_ROOT`` pointing into a pod directory as the runtime sets
it, and holds the port until the test ends it.
"""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from minikube_py.kubelet.portconflicts import (
    REASON,
    Holder,
    blockers,
    describe,
    explain_exit,
    listeners,
    log_evidence,
    pod_of_root,
)
from minikube_py.kubelet.records import ContainerRecord
from minikube_py.runtime.protocol import ContainerStatus

OTHER_UID = "0b1c2d3e-0000-4000-8000-00000000000a"
OUR_UID = "0b1c2d3e-0000-4000-8000-00000000000b"
OUR_IP = "127.244.0.9"

# Without the runtime's start-up hook (no PYTHONPATH), Python binds what it is told.
_HOLD = (
    "import socket, sys\n"
    "s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)\n"
    "s.bind((sys.argv[1], 0)); s.listen()\n"
    "print(s.getsockname()[1], flush=True)\n"
    "sys.stdin.read()\n"
)


class Held:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process, self.port = process, port


@pytest.fixture
def hold(tmp_path: Path) -> Iterator[Any]:
    started: list[subprocess.Popen[str]] = []

    def start(address: str, *, pod_uid: str | None = OTHER_UID) -> Held:
        env = {"PATH": "/usr/bin:/bin"}
        if pod_uid is not None:
            root = tmp_path / "pods" / pod_uid / "containers" / "web-0" / "rootfs"
            env |= {"MINIKUBE_PY_ROOT": str(root), "HOSTNAME": "web-a"}
        process = subprocess.Popen(
            [sys.executable, "-c", _HOLD, address],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        started.append(process)
        assert process.stdout is not None
        return Held(process, int(process.stdout.readline()))

    yield start
    for process in started:  # closing stdin ends it; kill by pid if it does not
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_pod_root_names_its_pod_and_container() -> None:
    root = f"/var/x/pods/{OTHER_UID}/containers/my-app-3/rootfs"
    assert pod_of_root(root) == (OTHER_UID, "my-app")
    assert pod_of_root("/srv/www") is None
    assert pod_of_root(f"/var/x/pods/{OTHER_UID}/containers/app/rootfs") is None


def test_a_wildcard_listener_of_another_pod_is_found_with_its_owner(hold: Any) -> None:
    held = hold("0.0.0.0")
    # The premise: while it listens on every address, the pod's own address is taken.
    with socket.socket() as ours, pytest.raises(OSError) as failure:
        ours.bind((OUR_IP, held.port))
    assert failure.value.errno == errno.EADDRINUSE

    [holder] = listeners({held.port})
    assert (holder.address, holder.port, holder.pid) == ("0.0.0.0", held.port, held.process.pid)
    assert (holder.pod_uid, holder.container, holder.hostname) == (OTHER_UID, "web", "web-a")
    assert holder.process.startswith("python")
    found = blockers({held.port}, pod_uid=OUR_UID, pod_ip=OUR_IP, evidence=False)
    assert found == [holder]
    # The pod's own sockets are not a conflict of minikube_py's making.
    assert blockers({held.port}, pod_uid=OTHER_UID, pod_ip=OUR_IP, evidence=True) == []


def test_an_ipv6_wildcard_listener_counts_too(hold: Any) -> None:
    held = hold("::")
    [holder] = blockers({held.port}, pod_uid=OUR_UID, pod_ip=OUR_IP, evidence=False)
    assert holder.bound == f"[::]:{held.port}"


def test_one_address_blocks_only_a_wildcard_bind_so_it_needs_the_logs_word(hold: Any) -> None:
    held = hold("127.0.0.1", pod_uid=None)
    assert blockers({held.port}, pod_uid=OUR_UID, pod_ip=OUR_IP, evidence=False) == []
    [holder] = blockers({held.port}, pod_uid=OUR_UID, pod_ip=OUR_IP, evidence=True)
    assert (holder.pod_uid, holder.address) == (None, "127.0.0.1")
    assert describe(holder, None) == (
        f"port {held.port} is held at 127.0.0.1 by the host program {holder.process} "
        f"(pid {held.process.pid}), so a bind to every address (0.0.0.0:{held.port}) cannot "
        "succeed; in minikube_py pods share the host's network, so make this container's "
        "program bind $POD_IP instead"
    )


def test_without_declared_ports_any_wildcard_port_of_another_pod_is_suspect(hold: Any) -> None:
    held = hold("0.0.0.0")
    host = hold("0.0.0.0", pod_uid=None)  # a host program's wildcard: not suspect without a port
    found = blockers(None, pod_uid=OUR_UID, pod_ip=OUR_IP, evidence=True)
    ours = [(h.port, h.pod_uid) for h in found if h.port in (held.port, host.port)]
    assert ours == [(held.port, OTHER_UID)]


def test_the_message_names_the_pod_the_process_and_the_fix() -> None:
    holder = Holder("0.0.0.0", 8080, 1234, "nginx", OTHER_UID, "nginx", "web-a")
    assert describe(holder, "default/web-a") == (
        "port 8080 is held on every address by pod default/web-a (process nginx, pid 1234), "
        "which bound 0.0.0.0:8080; in minikube_py pods share the host's network, so make that "
        "program bind $POD_IP instead"
    )
    host = Holder("::", 8080, 99, "caddy")
    assert "by the host program caddy (pid 99), which bound [::]:8080" in describe(host, None)
    assert "stop that program or make it bind one address" in describe(host, None)
    hidden = Holder("0.0.0.0", 8080)
    assert "a program this user cannot inspect" in describe(hidden, None)


def test_the_log_says_address_in_use_and_names_the_port() -> None:
    nginx = "2026/01/01 [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)"
    uvicorn = "ERROR: [Errno 98] error while attempting to bind on address ('127.244.0.3', 8000): address already in use"  # noqa: E501
    go = "listen tcp :8080: bind: address already in use"
    assert log_evidence([nginx, "other"]) == (True, {80})
    assert log_evidence([uvicorn]) == (True, {8000})
    assert log_evidence([go]) == (True, {8080})
    assert log_evidence(["OSError: [Errno 98] Address already in use"]) == (True, set())
    assert log_evidence(["listening on :8080"]) == (False, set())


class _Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def record(self, obj: Any, **event: Any) -> None:
        self.events.append(event)


class _Client:
    async def list(self, gvr: Any, namespace: str | None = None, **_: Any) -> dict[str, Any]:
        other = {"metadata": {"namespace": "shop", "name": "web-a", "uid": OTHER_UID}}
        return {"items": [other]}


class _Runtime:
    def __init__(self, log: Path) -> None:
        self.log = log

    def log_path(self, container_id: str) -> Path:
        return self.log


class _Context:
    def __init__(self, log: Path) -> None:
        self.runtime, self.client, self.recorder = _Runtime(log), _Client(), _Recorder()


def _status(*, exit_code: int = 1, message: str | None = None, ran: float = 0.5) -> Any:
    return ContainerStatus(
        id="c1", name="app", state="exited", image="python", image_id="sha256:x",
        started_at=100.0, finished_at=100.0 + ran, exit_code=exit_code, reason="Error",
        message=message,
    )  # fmt: skip


async def test_a_failed_exit_gets_the_event_and_the_message(hold: Any, tmp_path: Path) -> None:
    held = hold("0.0.0.0")
    log = tmp_path / "0.log"
    log.write_text("2026-01-01T00:00:00.1Z stderr F OSError: [Errno 98] Address in use\n")
    ctx = _Context(log)
    pod = {"metadata": {"uid": OUR_UID, "name": "web-b", "namespace": "shop"}}
    spec = {"name": "app", "ports": [{"containerPort": held.port}]}
    status = await explain_exit(
        ctx,  # type: ignore[arg-type]
        pod, ContainerRecord(spec, False), _status(message="bye"), OUR_IP,
    )  # fmt: skip
    expected = (
        f"port {held.port} is held on every address by pod shop/web-a (process "
        f"{listeners({held.port})[0].process}, pid {held.process.pid}), which bound "
        f"0.0.0.0:{held.port}; in minikube_py pods share the host's network, so make that "
        "program bind $POD_IP instead"
    )
    assert status.message == f"bye\n{expected}"
    assert ctx.recorder.events == [
        {
            "reason": REASON,
            "message": expected,
            "warning": True,
            "field_path": "spec.containers{app}",
        }
    ]


async def test_other_exits_are_left_alone(hold: Any, tmp_path: Path) -> None:
    held = hold("0.0.0.0")
    ctx = _Context(tmp_path / "missing.log")
    pod = {"metadata": {"uid": OUR_UID, "name": "web-b", "namespace": "shop"}}
    record = ContainerRecord({"name": "app", "ports": [{"containerPort": held.port}]}, False)
    for status in (_status(exit_code=0), _status(ran=60.0)):  # success; long after the start
        assert await explain_exit(ctx, pod, record, status, OUR_IP) == status  # type: ignore[arg-type]
    bare = ContainerRecord({"name": "app"}, False)  # no ports declared, no word in the log
    assert await explain_exit(ctx, pod, bare, _status(), OUR_IP) == _status()  # type: ignore[arg-type]
    assert ctx.recorder.events == []
