"""Port conflicts: telling a pod that another program's wildcard bind took its port.

In Kubernetes every pod has its own network namespace, so two pods may both listen on
``0.0.0.0:8080``. In the process runtime all pods share the host's network stack: a pod is an
address on loopback (``$POD_IP``), and a program should bind that address. Python programs do
without knowing (the runtime's start-up hook rewrites their wildcard binds to ``$POD_IP``),
but a non-Python program that binds ``0.0.0.0:8080`` (or ``[::]:8080``) takes port 8080 on
*every* address, and the next pod whose program binds ``$POD_IP:8080`` dies with "address
already in use" — something that never happens on a real cluster.

When a container ends by itself with a failure (not a signal), ``explain_exit`` looks for the
culprit: for the ports the container declares (when it failed within ``SOON`` seconds of
starting) and those its log tail names beside an "address already in use" error, it lists the
listening TCP sockets (``psutil.net_connections``) and their owners. An owner whose
environment holds ``MINIKUBE_PY_ROOT`` is a container of the pod whose directory that path
lies in (``<pod dir>/containers/<name>-<attempt>/rootfs``); any other owner is a host program.
A socket of another pod, or of a host program, that holds the port on every address is
reported; with the log's evidence a socket on another single address is too, because then the
failing program bound the wildcard itself. The report is a Warning event ``PortConflict``
(upstream has no such event: it cannot happen there) and the same text in the terminated
state's ``message``, after whatever the program wrote to its termination message file.

Without root, sockets of other users' processes show no owner; they are reported as held by
a program this user cannot inspect. Only TCP is checked: UDP sockets do not listen.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import attrs
import psutil

from minikube_py.client.protocol import PODS, ApiError
from minikube_py.kubelet.context import NodeContext
from minikube_py.kubelet.records import ContainerRecord
from minikube_py.logs import get_logger
from minikube_py.runtime.protocol import ContainerError, ContainerStatus

Object = dict[str, Any]
_log = get_logger("kubelet")
REASON = "PortConflict"
SOON = 10.0  # seconds: a failure this soon after the start may well be a failed bind
_TAIL_BYTES = 8192
_MAX_MESSAGE = 4096  # the kubelet's cap on a termination message
_IN_USE = re.compile(r"address already in use|address in use|EADDRINUSE", re.IGNORECASE)
# A port named near the error: "0.0.0.0:80", "('127.0.0.1', 8000)", "port 8080".
_PORTS = re.compile(r":(\d{1,5})\b|, (\d{1,5})\)|\bport (\d{1,5})\b", re.IGNORECASE)
WILDCARDS = frozenset({"0.0.0.0", "::"})


@attrs.frozen
class Holder:
    """A listening socket and what is known of its owner."""

    address: str
    port: int
    pid: int | None = None
    process: str = ""
    pod_uid: str | None = None  # set when the owner runs in a minikube_py pod
    container: str | None = None
    hostname: str | None = None  # the owner's $HOSTNAME: the pod's name, as a fallback

    @property
    def wildcard(self) -> bool:
        return self.address in WILDCARDS

    @property
    def bound(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def pod_of_root(root: str) -> tuple[str, str] | None:
    """``(pod uid, container name)`` for a ``MINIKUBE_PY_ROOT`` value, if it has the shape
    ``<pod dir>/containers/<name>-<attempt>/rootfs`` (the pod directory is named by uid)."""
    path = Path(root)
    attempt_dir = path.parent
    if path.name != "rootfs" or attempt_dir.parent.name != "containers":
        return None
    name, _, attempt = attempt_dir.name.rpartition("-")
    if not name or not attempt.isdigit():
        return None
    return attempt_dir.parent.parent.name, name


def _owner(holder: Holder) -> Holder:
    if holder.pid is None:
        return holder
    try:
        process = psutil.Process(holder.pid)
        name = process.name()
        env = process.environ()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return attrs.evolve(holder, process="")
    root = env.get("MINIKUBE_PY_ROOT")
    found = pod_of_root(root) if root else None
    if found is None:
        return attrs.evolve(holder, process=name)
    return attrs.evolve(
        holder, process=name, pod_uid=found[0], container=found[1], hostname=env.get("HOSTNAME")
    )


def listeners(ports: Collection[int] | None = None) -> list[Holder]:
    """Listening TCP sockets (on ``ports``, or all), with their owners. Blocking: psutil reads
    every process's descriptors, so call it off the event loop."""
    try:
        sockets = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError) as error:  # not on Linux; kept for other systems
        _log.info("cannot list sockets", error=str(error))
        return []
    found = set()
    for socket in sockets:
        address = socket.laddr
        if socket.status != psutil.CONN_LISTEN or not isinstance(address, tuple) or not address:
            continue
        ip, port = str(address[0]), int(address[1])
        if ports is None or port in ports:
            found.add(Holder(ip, port, socket.pid))
    return [_owner(h) for h in sorted(found, key=lambda h: (h.port, h.address, h.pid or 0))]


def blockers(
    ports: Collection[int] | None, *, pod_uid: str, pod_ip: str, evidence: bool
) -> list[Holder]:
    """The sockets of other pods and host programs that keep this pod from binding ``ports``
    (``None``: any port another pod holds on every address), wildcard holders first."""
    found = []
    for holder in listeners(ports):
        if holder.pod_uid == pod_uid:
            continue  # its own pod: a conflict a real cluster would have too
        if ports is None and (holder.pod_uid is None or not holder.wildcard):
            continue
        if holder.wildcard or (evidence and holder.address != pod_ip):
            found.append(holder)
    return sorted(found, key=lambda h: (not h.wildcard, h.pod_uid is None))


def describe(holder: Holder, owner: str | None) -> str:
    """The sentence for one blocking socket; ``owner`` is ``namespace/name`` of its pod."""
    port = holder.port
    if holder.pid is None:
        who = "a program this user cannot inspect (run the cluster as root to see it)"
    elif holder.pod_uid is not None:
        pod = owner or f"{holder.hostname or '?'} (uid {holder.pod_uid})"
        who = f"pod {pod} (process {holder.process or '?'}, pid {holder.pid})"
    else:
        who = f"the host program {holder.process or '?'} (pid {holder.pid})"
    shared = "in minikube_py pods share the host's network"
    if holder.wildcard:
        fix = "make that program bind $POD_IP instead"
        if holder.pod_uid is None:
            fix = "stop that program or make it bind one address instead"
        return (
            f"port {port} is held on every address by {who}, which bound {holder.bound}; "
            f"{shared}, so {fix}"
        )
    return (
        f"port {port} is held at {holder.address} by {who}, so a bind to every address "
        f"(0.0.0.0:{port}) cannot succeed; {shared}, so make this container's program bind "
        "$POD_IP instead"
    )


def declared_ports(spec: Object) -> set[int]:
    return {
        int(p["containerPort"])
        for p in spec.get("ports") or []
        if isinstance(p.get("containerPort"), int) and p.get("protocol", "TCP") == "TCP"
    }


def log_evidence(lines: Iterable[str]) -> tuple[bool, set[int]]:
    """Whether the lines report an address in use, and the ports named on those lines."""
    seen, ports = False, set()
    for line in lines:
        if _IN_USE.search(line):
            seen = True
            for match in _PORTS.finditer(line):
                number = int(next(group for group in match.groups() if group))
                if 0 < number < 65536:
                    ports.add(number)
    return seen, ports


def _tail(path: Path) -> list[str]:
    """The text of the log's last records (CRI lines ``<time> <stream> <tag> <text>``)."""
    try:
        with open(path, "rb") as file:
            size = file.seek(0, 2)
            file.seek(max(0, size - _TAIL_BYTES))
            data = file.read()
    except OSError:
        return []
    return [line.split(" ", 3)[-1] for line in data.decode("utf-8", "replace").splitlines()]


async def _owner_name(ctx: NodeContext, holder: Holder) -> str | None:
    try:
        pods = await ctx.client.list(PODS)
    except ApiError:
        return None
    for pod in pods.get("items") or []:
        meta = pod.get("metadata") or {}
        if meta.get("uid") == holder.pod_uid:
            return f"{meta.get('namespace')}/{meta.get('name')}"
    return None


async def explain_exit(
    ctx: NodeContext,
    pod: Object,
    record: ContainerRecord,
    status: ContainerStatus,
    pod_ip: str | None,
) -> ContainerStatus:
    """``status``, with the port conflict that made the container fail in its message (and
    a ``PortConflict`` event recorded), or unchanged; see the module docstring. Never raises:
    it only explains, and the exit must be reported whatever happens here."""
    if status.exit_code in (None, 0) or status.signal is not None or status.reason != "Error":
        return status
    try:
        return await _explain(ctx, pod, record, status, pod_ip or "")
    except Exception:  # an explanation must never lose the exit itself
        _log.exception("port conflict check failed", container=record.name)
        return status


async def _explain(
    ctx: NodeContext, pod: Object, record: ContainerRecord, status: ContainerStatus, pod_ip: str
) -> ContainerStatus:
    lines: list[str] = []
    with contextlib.suppress(ContainerError):
        lines = await asyncio.to_thread(_tail, ctx.runtime.log_path(status.id))
    evidence, named = log_evidence(lines)
    ran = (status.finished_at or 0.0) - (status.started_at or 0.0)
    ports: set[int] | None = named
    if not evidence and ran <= SOON:
        ports = declared_ports(record.spec)
    elif evidence:
        ports = (named | declared_ports(record.spec)) or None
    if ports == set():
        return status
    uid = str(pod["metadata"]["uid"])
    found = await asyncio.to_thread(blockers, ports, pod_uid=uid, pod_ip=pod_ip, evidence=evidence)
    if not found:
        return status
    holder = found[0]
    owner = await _owner_name(ctx, holder) if holder.pod_uid is not None else None
    message = describe(holder, owner)
    field_path = f"spec.{'initContainers' if record.init else 'containers'}{{{record.name}}}"
    await ctx.recorder.record(
        pod, reason=REASON, message=message, warning=True, field_path=field_path
    )
    written = f"{status.message.rstrip()}\n" if status.message else ""
    return attrs.evolve(status, message=(written + message)[:_MAX_MESSAGE])
