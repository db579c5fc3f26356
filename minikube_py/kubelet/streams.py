"""A kubelet's answers to ``pods/log``, ``pods/exec`` and ``pods/attach``.

Upstream the API server forwards these requests to the kubelet of the pod's node (its HTTPS
API on port 10250), and the kubelet answers from what it knows of its own pods: which
container instance the status names (the running one, or with ``--previous`` the one before
it), that container's log file, and its runtime for exec. ``KubeletStreams`` is that part of
a kubelet; it implements ``runtime.protocol.NodeStreams`` and is what the cluster hands the
API server for each node.

It asks the kubelet for a pod through ``pods(namespace, name)``, which returns the pod with
the status the kubelet last computed (its ``containerStatuses`` carry ``containerID``
``minikube-py://<id>`` for the current and ``lastState.terminated`` instance), and picks the
container as upstream's ``validateContainerLogStatus`` does, with its error messages::

    container "web" in pod "x" is waiting to start: ContainerCreating
    previous terminated container "web" in pod "x" not found

``attach`` streams the container's own output from now on (its log, followed); writing to
the container's stdin needs a runtime with an ``attach`` of its own (the protocol has none),
so ``attach`` with ``stdin`` raises a ``ContainerError`` saying so unless the runtime has it.

``port_forward`` connects to a port on the pod's address, which is what upstream's kubelet
does inside the pod's network namespace; a pod's address here is its own loopback address.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from minikube_py.kubelet.logreader import read_log, read_records
from minikube_py.runtime.protocol import ContainerError, ContainerRuntime, ExecSession, LogOptions

Object = dict[str, Any]
PodLookup = Callable[[str, str], "Object | None"]


def runtime_id(container_id: str) -> str:
    """The runtime's id in a status ``containerID`` (``minikube-py://abc`` → ``abc``)."""
    return container_id.split("://", 1)[-1]


def _status_of(pod: Object, container: str) -> Object:
    name = pod["metadata"]["name"]
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for entry in status.get(key) or ():
            if entry.get("name") == container:
                return dict(entry)
    spec = pod.get("spec") or {}
    known = [c.get("name") for key in ("containers", "initContainers") for c in spec.get(key) or ()]
    if container in known:  # in the spec, not yet in the status: nothing has started
        return {"name": container, "state": {"waiting": {"reason": "ContainerCreating"}}}
    raise ContainerError("BadRequest", f"container {container} is not valid for pod {name}")


def container_for_logs(pod: Object, container: str, previous: bool) -> str:
    """The runtime id of the container instance whose log ``kubectl logs`` wants, as the
    kubelet's ``validateContainerLogStatus`` chooses it; ``ContainerError`` otherwise."""
    name = pod["metadata"]["name"]
    status = _status_of(pod, container)
    state = status.get("state") or {}
    last = (status.get("lastState") or {}).get("terminated") or {}
    running, terminated, waiting = (
        state.get("running"),
        state.get("terminated"),
        state.get("waiting"),
    )
    where = f'container "{container}" in pod "{name}"'
    found: str | None
    if previous:
        found = last.get("containerID")
        if not found:
            raise ContainerError(
                "BadRequest",
                f'previous terminated container "{container}" in pod "{name}" not found',
            )
    elif running is not None:
        found = status.get("containerID")
    elif terminated is not None:
        # A container that never started again after its last run has no id of its own.
        found = terminated.get("containerID") or status.get("containerID")
        found = found or last.get("containerID")
        if not found:
            raise ContainerError("BadRequest", f"{where} is terminated")
    elif last:  # waiting to restart (CrashLoopBackOff): the last run's log
        found = last.get("containerID")
        if not found:
            raise ContainerError("BadRequest", f"{where} is terminated")
    elif waiting is not None:
        reason = waiting.get("reason") or ""
        if reason == "ErrImagePull":
            reason = "image can't be pulled"
        elif reason == "ImagePullBackOff":
            reason = "trying and failing to pull image"
        raise ContainerError("BadRequest", f"{where} is waiting to start: {reason}")
    else:
        raise ContainerError("BadRequest", f"{where} is waiting to start - no logs yet")
    if not found:
        raise ContainerError("BadRequest", f"{where} is waiting to start - no logs yet")
    return runtime_id(found)


class KubeletStreams:
    """``NodeStreams`` for one kubelet: logs from its runtime's log files, exec through its
    runtime. ``pods`` is the kubelet's ``pod(namespace, name)``."""

    def __init__(
        self, runtime: ContainerRuntime, pods: PodLookup, *, poll_interval: float = 0.1
    ) -> None:
        self.runtime = runtime
        self.pods = pods
        self.poll_interval = poll_interval
        self.dial_timeout = 10.0  # a pod port that neither accepts nor refuses

    def _pod(self, namespace: str, name: str) -> Object:
        pod = self.pods(namespace, name)
        if pod is None:
            raise ContainerError("NotFound", f'pod "{name}" does not exist')
        return pod

    def _running_id(self, namespace: str, pod: str, container: str) -> str:
        """The running instance of ``container``, as the kubelet's exec and attach need it."""
        status = _status_of(self._pod(namespace, pod), container)
        if (status.get("state") or {}).get("running") is None or not status.get("containerID"):
            raise ContainerError("NotFound", f'container not found ("{container}")')
        return runtime_id(str(status["containerID"]))

    async def _is_running(self, container_id: str) -> bool:
        try:
            status = await self.runtime.container_status(container_id)
        except ContainerError:
            return False  # removed: nothing more will be written
        return status.state in ("created", "running")

    def logs(
        self, namespace: str, pod: str, container: str, options: LogOptions
    ) -> AsyncIterator[bytes]:
        """Raises ``ContainerError`` at once (not when iterated) for an unknown pod or a
        container without logs, so the API server can answer with an error status."""
        container_id = container_for_logs(self._pod(namespace, pod), container, options.previous)
        path = self.runtime.log_path(container_id)
        return read_log(
            path,
            options,
            running=lambda: self._is_running(container_id),
            poll_interval=self.poll_interval,
        )

    async def exec(
        self,
        namespace: str,
        pod: str,
        container: str,
        command: Sequence[str],
        *,
        stdin: bool = False,
        tty: bool = False,
    ) -> ExecSession:
        container_id = self._running_id(namespace, pod, container)
        return await self.runtime.exec(container_id, command, stdin=stdin, tty=tty)

    async def attach(
        self, namespace: str, pod: str, container: str, *, stdin: bool = False, tty: bool = False
    ) -> ExecSession:
        container_id = self._running_id(namespace, pod, container)
        native = getattr(self.runtime, "attach", None)
        if native is not None:
            session: ExecSession = await native(container_id, stdin=stdin, tty=tty)
            return session
        if stdin:
            raise ContainerError(
                "BadRequest",
                "attaching to a container's stdin is not supported by this container runtime;"
                " attach without stdin (kubectl attach without -i) to see its output",
            )
        return LogAttachment(self, container_id)

    async def port_forward(
        self, namespace: str, pod: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        found = self.pods(namespace, pod)
        status = (found or {}).get("status") or {}
        address = status.get("podIP")
        if found is None or not address or status.get("phase") in ("Succeeded", "Failed"):
            # upstream's kubelet finds no running sandbox under the pod's full name
            raise ContainerError("NotFound", f'pod not found ("{pod}_{namespace}")')
        return await dial(str(address), port, seconds=self.dial_timeout)


async def dial(
    address: str, port: int, *, seconds: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection, or ``ContainerError("Unavailable", …)`` with Go's dial error text."""
    target = f"dial tcp4 {address}:{port}"
    try:
        async with asyncio.timeout(seconds):
            return await asyncio.open_connection(address, port)
    except TimeoutError:
        raise ContainerError("Unavailable", f"{target}: i/o timeout") from None
    except OSError as error:
        why = os.strerror(error.errno or errno.ECONNREFUSED).lower()  # Go's words: lowercase
        raise ContainerError("Unavailable", f"{target}: connect: {why}") from None


class LogAttachment:
    """An ``ExecSession`` showing a running container's output from now on, read from its log
    file: what ``kubectl attach`` prints. It ends when the container does; ``kill`` detaches
    (the container goes on running)."""

    def __init__(self, streams: KubeletStreams, container_id: str) -> None:
        self._streams = streams
        self._id = container_id
        self._path = streams.runtime.log_path(container_id)
        try:  # the output from the moment of attaching on
            self._offset = self._path.stat().st_size
        except FileNotFoundError:
            self._offset = 0
        self._detached = asyncio.Event()

    async def write_stdin(self, data: bytes) -> None:
        raise ContainerError("BadRequest", "this attachment has no stdin")

    async def close_stdin(self) -> None:
        return None

    async def resize(self, width: int, height: int) -> None:
        return None  # output only: the container's terminal, if any, is not ours to size

    async def output(self) -> AsyncIterator[tuple[int, bytes]]:
        streams = self._streams
        records = read_records(
            self._path,
            offset=self._offset,
            follow=True,
            running=lambda: self._still_attached(),
            poll_interval=streams.poll_interval,
        )
        async with contextlib.aclosing(records):
            async for record in records:
                yield (1 if record.stream == "stdout" else 2), record.text

    async def _still_attached(self) -> bool:
        return not self._detached.is_set() and await self._streams._is_running(self._id)

    async def wait(self) -> int:
        """The container's exit code once it ends, or 0 at once after a detach."""
        ended = asyncio.ensure_future(self._streams.runtime.wait_container(self._id))
        detached = asyncio.ensure_future(self._detached.wait())
        try:
            await asyncio.wait({ended, detached}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (ended, detached):
                task.cancel()
        if ended.done() and not ended.cancelled() and ended.exception() is None:
            code = ended.result().exit_code
            return code if code is not None else 0
        return 0

    async def kill(self) -> None:
        self._detached.set()
