"""A scripted kubelet for the pods/log, exec and attach tests, and a server that uses it.

``FakeNodeStreams`` implements ``runtime.protocol.NodeStreams`` without processes: logs are
the chunks a test gives (with a pause between them, to see ``follow`` stream), and exec runs
a tiny command language — ``echo WORDS``, ``sh -c "exit N"``, ``cat`` (stdin back to
stdout until stdin closes), ``both`` (a line on stdout and one on stderr), ``big N`` (N bytes),
``tar`` (reads stdin until it closes), ``size`` (prints the first terminal size it gets),
``sleep`` (until killed); ``refuse`` fails to start.
Every session is kept, so tests can see whether stdin was closed or the command killed.
``serving`` runs a real API server (TLS, in-process, on a free loopback port) whose node
``minikube`` answers with such a fake.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minikube_py.apiserver.kubeconfig import write_kubeconfig
from minikube_py.apiserver.pki import Pki, ensure_pki
from minikube_py.apiserver.server import ApiServer
from minikube_py.client.protocol import PODS
from minikube_py.runtime.protocol import ContainerError, LogOptions
from minikube_py.store import open_store
from tests.clusters import seed_service_accounts


class FakeSession:
    """One running fake command."""

    def __init__(self, command: Sequence[str], *, stdin: bool, tty: bool) -> None:
        self.command = list(command)
        self.stdin, self.tty = stdin, tty
        self.received = bytearray()
        self.stdin_closed = asyncio.Event()
        self.killed = asyncio.Event()
        self.resizes: list[tuple[int, int]] = []
        self._resized = asyncio.Event()
        self._out: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue()
        self._code: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        words = self.command
        code = 0
        if words[:1] == ["echo"]:
            self._out.put_nowait((1, (" ".join(words[1:]) + "\n").encode()))
        elif words[:2] == ["sh", "-c"]:
            code = int(shlex.split(words[2])[1])
            self._out.put_nowait((2, b"about to exit\n"))
        elif words[:1] in (["cat"], ["tar"]):  # tar: kubectl cp's receiving end
            await self.stdin_closed.wait()
        elif words[:1] == ["both"]:
            self._out.put_nowait((1, b"to stdout\n"))
            self._out.put_nowait((2, b"to stderr\n"))
        elif words[:1] == ["big"]:
            self._out.put_nowait((1, b"x" * int(words[1])))
        elif words[:1] == ["size"]:  # a terminal program: prints the first size it is told
            await self._resized.wait()
            width, height = self.resizes[0]
            self._out.put_nowait((1, f"{width}x{height}\r\n".encode()))
        elif words[:1] == ["sleep"]:
            await self.killed.wait()
            code = 137
        self._out.put_nowait(None)
        if not self._code.done():
            self._code.set_result(code)

    async def write_stdin(self, data: bytes) -> None:
        self.received += data
        if self.command[:1] == ["cat"] and not self.stdin_closed.is_set():
            self._out.put_nowait((1, data))

    async def close_stdin(self) -> None:
        self.stdin_closed.set()

    async def resize(self, width: int, height: int) -> None:
        self.resizes.append((width, height))
        self._resized.set()

    async def output(self) -> AsyncIterator[tuple[int, bytes]]:
        while (item := await self._out.get()) is not None:
            yield item

    async def wait(self) -> int:
        return await self._code

    async def kill(self) -> None:
        self.killed.set()
        self.stdin_closed.set()
        await self._task


@dataclass
class FakeNodeStreams:
    """``NodeStreams`` for one node: logs per (pod, container), scripted exec sessions."""

    logs_by_container: dict[tuple[str, str], list[bytes]] = field(default_factory=dict)
    pause: float = 0.0  # between log chunks when following
    gate: asyncio.Event | None = None  # if set, each later chunk waits for it when following
    log_requests: list[tuple[str, str, str, LogOptions]] = field(default_factory=list)
    sessions: list[FakeSession] = field(default_factory=list)

    async def logs(
        self, namespace: str, pod: str, container: str, options: LogOptions
    ) -> AsyncIterator[bytes]:
        self.log_requests.append((namespace, pod, container, options))
        chunks = self.logs_by_container.get((pod, container))
        if chunks is None:
            raise ContainerError(
                "BadRequest",
                f'container "{container}" in pod "{pod}" is waiting to start: ContainerCreating',
            )
        if options.tail_lines is not None:
            chunks = chunks[len(chunks) - options.tail_lines :] if options.tail_lines else []
        for index, chunk in enumerate(chunks):
            if index and options.follow:
                await asyncio.sleep(self.pause)
                if self.gate is not None:
                    await self.gate.wait()
                    self.gate.clear()
            yield chunk

    async def exec(
        self,
        namespace: str,
        pod: str,
        container: str,
        command: Sequence[str],
        *,
        stdin: bool = False,
        tty: bool = False,
    ) -> FakeSession:
        if list(command[:1]) == ["refuse"]:
            raise ContainerError("NotFound", f'container "{container}" not found')
        session = FakeSession(command, stdin=stdin, tty=tty)
        self.sessions.append(session)
        return session

    async def attach(
        self, namespace: str, pod: str, container: str, *, stdin: bool = False, tty: bool = False
    ) -> FakeSession:
        return await self.exec(namespace, pod, container, ["cat"], stdin=stdin, tty=tty)


@dataclass
class Served:
    server: ApiServer
    pki: Pki
    kubeconfig: Path

    @property
    def url(self) -> str:
        return self.server.url

    async def create_pod(
        self,
        name: str,
        *containers: str,
        init: Sequence[str] = (),
        node: str = "minikube",
        phase: str = "Running",
    ) -> None:
        """A pod bound to ``node`` (empty: unscheduled) whose status says ``phase``."""
        spec: dict[str, Any] = {"containers": [{"name": c, "image": "busybox"} for c in containers]}
        if init:
            spec["initContainers"] = [{"name": c, "image": "busybox"} for c in init]
        if node:
            spec["nodeName"] = node
        manifest = {"metadata": {"name": name}, "spec": spec}
        client = self.server.client()
        created = await client.create(PODS, "default", manifest)
        created["status"] = {"phase": phase}
        await client.update_status(PODS, "default", created)


@contextlib.asynccontextmanager
async def serving(directory: Path, streams: FakeNodeStreams) -> AsyncIterator[Served]:
    """An API server on 127.0.0.1 whose node ``minikube`` answers with ``streams``."""
    store = await open_store("sqlite://")
    try:
        pki = ensure_pki(directory, addresses=["127.0.0.1"])
        server = ApiServer(store, pki, host="127.0.0.1", port=0, node_streams={"minikube": streams})
        await server.start()
        await seed_service_accounts(server.storage)  # what the controllers would have made
        try:
            kubeconfig = write_kubeconfig(
                profile="streams", server=server.url, pki=pki, path=directory / "kubeconfig"
            )
            yield Served(server, pki, kubeconfig)
        finally:
            await server.stop()
    finally:
        await store.close()
