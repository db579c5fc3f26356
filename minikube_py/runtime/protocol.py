"""The container runtime protocol: the seam between a kubelet and whatever runs containers.

Kubernetes' kubelet talks to its runtime through the CRI: it asks for a *pod sandbox* (here:
the pod's address and its directories), then creates, starts, stops and removes *containers*
inside it, and asks for their status, their logs and to run commands in them (exec). This
module is that seam in small. Two runtimes implement it:

- ``runtime.process.ProcessRuntime`` — each container is a real process group started from an
  image in the local image store (the default);
- ``runtime.fake.FakeRuntime`` — no processes: containers run until told to stop or to exit,
  so control-plane tests and the scheduler benchmark can run thousands of pods (kwok's idea).

Every method is async; blocking work (fork/exec, file copies) runs off the event loop inside
the runtime. Ids are opaque strings the runtime chooses (``containerID`` in pod status is
``minikube-py://<id>``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol

import attrs

ContainerState = Literal["created", "running", "exited", "unknown"]


class ContainerError(Exception):
    """A runtime operation failed; ``reason`` is the kubelet's word for it (``ErrImagePull``,
    ``CreateContainerError``, ``RunContainerError``, …) and the message says why in one line."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@attrs.frozen
class Mount:
    """A volume directory (or file) shown to the container at ``container_path``."""

    host_path: Path
    container_path: str
    read_only: bool = False


@attrs.frozen
class SandboxConfig:
    """What a pod's sandbox needs: who it is, its address, and where its files live."""

    uid: str
    namespace: str
    name: str
    ip: str  # the pod's address (from the node's pod CIDR), or the node's for hostNetwork
    hostname: str
    directory: Path  # the pod's directory on the node: container roots, logs, volumes


@attrs.frozen
class ContainerConfig:
    """One container to create: the kubelet has already resolved image, command and env."""

    name: str
    image: str
    command: Sequence[str] = ()  # pod's ``command`` (replaces the image entrypoint) if set
    args: Sequence[str] = ()  # pod's ``args`` (replaces the image cmd) if set
    env: Mapping[str, str] = attrs.field(factory=dict)  # after $(VAR) expansion
    working_dir: str | None = None  # pod's ``workingDir``, else the image's
    mounts: Sequence[Mount] = ()
    stdin: bool = False
    stdin_once: bool = False  # the first attach closing stdin closes the container's
    tty: bool = False
    memory_limit: int | None = None  # bytes; exceeding it ends the container as OOMKilled
    termination_message_path: str = "/dev/termination-log"
    attempt: int = 0  # restart count: a new container id per attempt, logs kept for --previous
    # The container's /etc/resolv.conf (the kubelet's, per dnsPolicy); None: the image's own.
    resolv_conf: str | None = None


@attrs.frozen
class ContainerStatus:
    """What the runtime knows of one container, in the terms pod status uses."""

    id: str
    name: str
    state: ContainerState
    image: str
    image_id: str
    pid: int | None = None
    created_at: float | None = None  # time.time() values
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int | None = None
    signal: int | None = None
    reason: str | None = None  # "Completed", "Error", "OOMKilled" when exited
    message: str | None = None  # the termination message file's content, or why it failed


class ExecSession(Protocol):
    """A command running in a container's context (``kubectl exec``), with its streams."""

    async def write_stdin(self, data: bytes) -> None: ...

    async def close_stdin(self) -> None: ...

    async def resize(self, width: int, height: int) -> None: ...

    def output(self) -> AsyncIterator[tuple[int, bytes]]:
        """``(stream, data)`` chunks until both streams end; stream 1 stdout, 2 stderr."""
        ...

    async def wait(self) -> int:
        """The command's exit code (128 + signal number when a signal ended it)."""
        ...

    async def kill(self) -> None: ...


@attrs.frozen
class LogOptions:
    """``kubectl logs`` options as the pods/log query carries them."""

    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    tail_lines: int | None = None
    since_seconds: int | None = None
    since_time: str | None = None  # RFC 3339
    limit_bytes: int | None = None


class NodeStreams(Protocol):
    """What the API server asks of a node's kubelet for pods/log, exec, attach and portforward
    (upstream: the kubelet's HTTPS API on port 10250). In one process the cluster hands the
    API server a ``{node name: NodeStreams}`` mapping; a node agent in another process will
    answer the same calls over HTTP. Errors are ``ContainerError`` (``reason`` ``NotFound``
    or ``BadRequest`` for an unknown pod or container, with upstream's message)."""

    def logs(
        self, namespace: str, pod: str, container: str, options: LogOptions
    ) -> AsyncIterator[bytes]:
        """The log bytes as ``kubectl logs`` prints them; with ``follow``, until the container
        ends or the caller stops iterating."""
        ...

    async def exec(
        self,
        namespace: str,
        pod: str,
        container: str,
        command: Sequence[str],
        *,
        stdin: bool = False,
        tty: bool = False,
    ) -> ExecSession: ...

    async def attach(
        self, namespace: str, pod: str, container: str, *, stdin: bool = False, tty: bool = False
    ) -> ExecSession:
        """The running container's own streams (its stdin only if ``stdin: true`` in spec)."""
        ...

    async def port_forward(
        self, namespace: str, pod: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A TCP connection to ``port`` on the pod's address, for pods/portforward (upstream:
        the kubelet dials inside the pod's network namespace). ``ContainerError``: reason
        ``NotFound`` for a pod this kubelet has no running sandbox for, ``Unavailable`` when
        the connection cannot be made, its message the dial error in Go's words
        (``dial tcp4 127.244.0.5:80: connect: connection refused``)."""
        ...


class ContainerRuntime(Protocol):
    """Sandboxes and containers; see the module docstring."""

    async def create_sandbox(self, config: SandboxConfig) -> str:
        """Prepare the pod's directories; returns the sandbox id."""
        ...

    async def remove_sandbox(self, sandbox_id: str) -> None:
        """Remove the pod's directories; every container must already be stopped."""
        ...

    async def image_status(self, image: str) -> str | None:
        """The id of ``image`` if it is on the node already (built or loaded there), else
        None: CRI ``ImageStatus``, asked before any pull."""
        ...

    async def pull_image(self, image: str) -> str:
        """Resolve ``image`` in the local store; returns its id (``sha256:…``). Raises
        ``ContainerError("ErrImagePull", …)`` when no such image exists."""
        ...

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str: ...

    async def start_container(self, container_id: str) -> None: ...

    async def stop_container(self, container_id: str, grace_seconds: float) -> None:
        """SIGTERM to the container's process group, SIGKILL after ``grace_seconds``."""
        ...

    async def remove_container(self, container_id: str) -> None: ...

    async def container_status(self, container_id: str) -> ContainerStatus: ...

    async def wait_container(self, container_id: str) -> ContainerStatus:
        """Return once the container has exited (at once if it already has)."""
        ...

    def log_path(self, container_id: str) -> Path:
        """The container's log file: one line per output line, ``<RFC3339Nano> <stream> <text>``
        (the CRI log format), so ``kubectl logs --timestamps`` and ``--since`` can be answered."""
        ...

    async def exec(
        self, container_id: str, command: Sequence[str], *, stdin: bool = False, tty: bool = False
    ) -> ExecSession:
        """Run ``command`` in the container's context: its root, working directory, env."""
        ...

    async def close(self) -> None:
        """Stop every container this runtime started; none of their processes remain."""
        ...
