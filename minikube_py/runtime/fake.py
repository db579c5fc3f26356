"""``FakeRuntime``: the container runtime protocol without processes (kwok's idea).

Control-plane tests and the scheduler benchmark need thousands of pods that "run" without
thousands of processes. Here a container is a small record: ``start_container`` makes it
running at once, and it runs until the kubelet stops it or a test ends it with
``fake.exit(container_id, code)`` (or ``fake.oom(container_id)``). Images resolve as the
process runtime's do — any tag of a built-in name, plus names a test adds to ``images`` —
and ``fail_images`` makes chosen names fail to pull. ``exec`` answers with the exit code that
``exec_handler`` returns (0 by default), which is what lifecycle hooks and exec probes see.

Everything is in memory and O(1) per call, so 5,000 pods cost little more than their records.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import attrs

from minikube_py.runtime.images.references import ImageNotFound, resolve_builtin
from minikube_py.runtime.protocol import (
    ContainerConfig,
    ContainerError,
    ContainerStatus,
    SandboxConfig,
)

ExecHandler = Callable[[str, Sequence[str]], int]


@attrs.define
class _Container:
    id: str
    sandbox: str
    config: ContainerConfig
    image_id: str
    status: ContainerStatus
    exited: asyncio.Event = attrs.field(factory=asyncio.Event)


class FakeExecSession:
    """A finished command: no output, the exit code the handler chose."""

    def __init__(self, code: int) -> None:
        self.code = code

    async def write_stdin(self, data: bytes) -> None:
        return None

    async def close_stdin(self) -> None:
        return None

    async def resize(self, width: int, height: int) -> None:
        return None

    async def output(self) -> AsyncIterator[tuple[int, bytes]]:
        return
        yield  # an async generator with nothing in it

    async def wait(self) -> int:
        return self.code

    async def kill(self) -> None:
        return None


class FakeRuntime:
    """Containers as records; see the module docstring."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        images: Sequence[str] = (),
        fail_images: Sequence[str] = (),
        clock: Callable[[], float] = time.time,
        exec_handler: ExecHandler | None = None,
    ) -> None:
        self.directory = directory
        self.images = set(images)
        self.fail_images = set(fail_images)
        self.clock = clock
        self.exec_handler: ExecHandler = exec_handler or (lambda _id, _command: 0)
        self.sandboxes: dict[str, SandboxConfig] = {}
        self.containers: dict[str, _Container] = {}
        self.exec_calls: list[tuple[str, tuple[str, ...]]] = []
        self.stop_calls: list[tuple[str, float]] = []
        self._ids = itertools.count(1)

    def _new_id(self, kind: str) -> str:
        return hashlib.sha256(f"{kind}-{next(self._ids)}".encode()).hexdigest()[:32]

    async def create_sandbox(self, config: SandboxConfig) -> str:
        sandbox_id = self._new_id("sandbox")
        self.sandboxes[sandbox_id] = config
        return sandbox_id

    async def remove_sandbox(self, sandbox_id: str) -> None:
        self.sandboxes.pop(sandbox_id, None)

    async def image_status(self, image: str) -> str | None:
        return None  # the fake runtime's images are all "pulled"

    async def pull_image(self, image: str) -> str:
        if image in self.fail_images:
            raise ContainerError("ErrImagePull", str(ImageNotFound(image)))
        if image not in self.images:
            try:
                resolve_builtin(image)
            except ImageNotFound as error:
                raise ContainerError("ErrImagePull", str(error)) from None
        return "sha256:" + hashlib.sha256(image.encode()).hexdigest()

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        if sandbox_id not in self.sandboxes:
            raise ContainerError("CreateContainerError", f"no sandbox {sandbox_id}")
        image_id = await self.pull_image(config.image)
        container_id = self._new_id("container")
        status = ContainerStatus(
            id=container_id,
            name=config.name,
            state="created",
            image=config.image,
            image_id=image_id,
            created_at=self.clock(),
        )
        self.containers[container_id] = _Container(
            container_id, sandbox_id, config, image_id, status
        )
        return container_id

    def _get(self, container_id: str) -> _Container:
        container = self.containers.get(container_id)
        if container is None:
            raise ContainerError("NotFound", f"no such container: {container_id}")
        return container

    async def start_container(self, container_id: str) -> None:
        container = self._get(container_id)
        if container.status.state != "created":
            raise ContainerError("RunContainerError", f"container {container_id} already ran")
        container.status = attrs.evolve(container.status, state="running", started_at=self.clock())

    def exit(
        self, container_id: str, code: int, *, reason: str | None = None, signal: int | None = None
    ) -> None:
        """End a running container as if its process had exited with ``code``."""
        container = self._get(container_id)
        if container.status.state != "running":
            return
        container.status = attrs.evolve(
            container.status,
            state="exited",
            exit_code=code,
            signal=signal,
            finished_at=self.clock(),
            reason=reason or ("Completed" if code == 0 else "Error"),
        )
        container.exited.set()

    def oom(self, container_id: str) -> None:
        """End a running container as the memory limit does: OOMKilled, exit code 137."""
        self.exit(container_id, 137, reason="OOMKilled", signal=9)

    def running(self, name: str | None = None) -> list[str]:
        """Ids of running containers (of that container name, if given)."""
        return [
            c.id
            for c in self.containers.values()
            if c.status.state == "running" and (name is None or c.config.name == name)
        ]

    async def stop_container(self, container_id: str, grace_seconds: float) -> None:
        self.stop_calls.append((container_id, grace_seconds))
        container = self._get(container_id)
        if container.status.state == "created":
            container.status = attrs.evolve(container.status, state="exited", exit_code=0)
            container.exited.set()
        self.exit(container_id, 143, signal=15)  # as if SIGTERM ended it

    async def remove_container(self, container_id: str) -> None:
        container = self.containers.pop(container_id, None)
        if container is not None:
            container.exited.set()

    async def container_status(self, container_id: str) -> ContainerStatus:
        return self._get(container_id).status

    async def wait_container(self, container_id: str) -> ContainerStatus:
        container = self._get(container_id)
        await container.exited.wait()
        return container.status

    def log_path(self, container_id: str) -> Path:
        base = self.directory or Path("/nonexistent")
        return base / "logs" / f"{container_id}.log"

    async def exec(
        self, container_id: str, command: Sequence[str], *, stdin: bool = False, tty: bool = False
    ) -> FakeExecSession:
        container = self._get(container_id)
        if container.status.state != "running":
            raise ContainerError("BadRequest", f"container {container.config.name} is not running")
        self.exec_calls.append((container_id, tuple(command)))
        return FakeExecSession(self.exec_handler(container_id, command))

    async def close(self) -> None:
        for container_id in list(self.containers):
            self.exit(container_id, 143, signal=15)
