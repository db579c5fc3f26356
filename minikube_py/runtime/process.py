"""The process container runtime: each container is a real process group on this machine.

``ProcessRuntime`` implements the ``ContainerRuntime`` protocol the kubelet drives. A sandbox
is the pod's directory (``sandbox``); creating a container copies its image's root and works
out its command line and environment (``commands``, ``containers``); starting it spawns the
command as the leader of a new session with stdout and stderr piped into its CRI log file
(``running``, ``logfiles``). From then on:

- when the leader exits, what it left in its session is killed and reaped (``hygiene``), and
  the exit is recorded with upstream's reasons and the termination message (``containers``);
- ``stop_container`` sends SIGTERM to the process group and SIGKILL after the grace period;
- a memory watcher kills a container past its memory limit as ``OOMKilled`` (``memory``) and
  samples every container's CPU seconds and memory for ``usage`` (``usage``);
- if this process dies, even by SIGKILL, the containers' direct children die with it
  (parent-death signal) and a supervisor kills the rest (``reaper``);
- ``exec`` runs a command in the container's context, ``attach`` joins the container's own
  streams (``entering``, ``execsession``, ``attachment``; ``attach`` is not in the protocol,
  the kubelet looks for it).

A container or exec with ``tty: true`` gets a pseudo-terminal instead of pipes (``terminal``).
CPU limits are not enforced.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from ..logs import get_logger
from .attachment import Attachment
from .containers import Container, build_container
from .entering import attach_to, exec_in
from .execsession import ProcessExecSession
from .hygiene import acquire_subreaper, kill_session, release_subreaper
from .images.references import ImageNotFound
from .images.store import Image, ImageStore
from .logfiles import LogWriter
from .memory import MemoryWatcher
from .protocol import ContainerConfig, ContainerError, ContainerStatus, SandboxConfig
from .reaper import Reaper
from .running import launch, supervise
from .sandbox import Sandbox
from .usage import Usage

log = get_logger("runtime")
MiB = 1024 * 1024


class ProcessRuntime:
    """Containers as process groups; see the module docstring.

    ``directory`` is the runtime's own state directory (it keeps nothing there yet: a pod's
    files live in the directory its ``SandboxConfig`` names). ``subreaper`` makes this process
    adopt and reap the orphans of its containers (``hygiene``); leave it on unless something
    else reaps them."""

    def __init__(
        self,
        directory: Path,
        images: ImageStore,
        *,
        memory_poll_interval: float = 0.25,
        usage_interval: float = 10.0,
        log_max_bytes: int = 10 * MiB,
        subreaper: bool = True,
    ) -> None:
        self.directory = directory
        self.images = images
        self.log_max_bytes = log_max_bytes
        self._subreaper = subreaper
        self._subreaper_held = False
        self._sandboxes: dict[str, Sandbox] = {}
        self._containers: dict[str, Container] = {}
        self._logs: dict[str, tuple[str, Path]] = {}  # id → (sandbox id, log), after removal too
        self._tasks: set[asyncio.Task[None]] = set()
        self._execs: set[ProcessExecSession] = set()
        self._reaper = Reaper()
        self._memory = MemoryWatcher(
            memory_poll_interval, self._memory_exceeded, usage_interval=usage_interval
        )
        self._image_lock = asyncio.Lock()
        self._images_known: set[str] = set()  # references the store has answered
        self._closed = False

    # ---- sandboxes and images ----

    async def create_sandbox(self, config: SandboxConfig) -> str:
        self._check_open()
        await asyncio.to_thread(config.directory.mkdir, parents=True, exist_ok=True)
        sandbox = Sandbox(secrets.token_hex(32), config)
        self._sandboxes[sandbox.id] = sandbox
        return sandbox.id

    async def remove_sandbox(self, sandbox_id: str) -> None:
        sandbox = self._sandboxes.pop(sandbox_id, None)
        if sandbox is None:
            return  # removing twice is fine, as in the CRI
        await asyncio.gather(*(self.remove_container(cid) for cid in list(sandbox.containers)))
        for container_id, (owner, _) in list(self._logs.items()):
            if owner == sandbox_id:
                del self._logs[container_id]
        await asyncio.to_thread(shutil.rmtree, sandbox.directory, ignore_errors=True)

    async def _image(self, reference: str) -> Image:
        # The store is synchronous and may materialise a built-in image on first use; once it
        # has answered, it answers from memory: no thread hop (dearer than the lookup) then.
        if reference in self._images_known:
            with contextlib.suppress(ImageNotFound, ValueError):
                return self.images.get(reference)
        async with self._image_lock:
            try:
                image = await asyncio.to_thread(self.images.get, reference)
                self._images_known.add(reference)
                return image
            except ImageNotFound as error:
                raise ContainerError("ErrImagePull", str(error)) from None
            except ValueError:
                raise ContainerError(
                    "InvalidImageName",
                    f'Failed to apply default image tag "{reference}": couldn\'t parse image '
                    f'name "{reference}": invalid reference format',
                ) from None

    async def image_status(self, image: str) -> str | None:
        # on the loop: a built-in image is answered without I/O (the common case, every pod
        # start), another by reading the store's small tag index
        return self.images.local(image)

    async def pull_image(self, image: str) -> str:
        return (await self._image(image)).id

    # ---- containers ----

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        self._check_open()
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None:
            raise ContainerError("CreateContainerError", f"sandbox {sandbox_id} not found")
        for other in sandbox.containers:
            taken = self._containers[other].config
            if (taken.name, taken.attempt) == (config.name, config.attempt):
                pod = sandbox.config
                name = f"{config.name}_{pod.name}_{pod.namespace}_{pod.uid}_{config.attempt}"
                raise ContainerError(
                    "CreateContainerError",
                    f'failed to reserve container name "{name}": name "{name}" is reserved '
                    f'for "{other}"',
                )
        image = await self._image(config.image)
        container = await build_container(secrets.token_hex(32), sandbox, config, image)
        self._containers[container.id] = container
        self._logs[container.id] = (sandbox.id, container.paths.log)
        sandbox.containers.add(container.id)
        return container.id

    async def start_container(self, container_id: str) -> None:
        self._check_open()
        container = self._container(container_id)
        if container.state != "created":
            raise ContainerError(
                "RunContainerError", f"container {container_id} is {container.state}, not created"
            )
        self._start_hygiene()
        leader, writer = await launch(container, log_max_bytes=self.log_max_bytes)
        self._reaper.register(leader.pid)
        container.leader = leader
        container.state = "running"
        container.started_at = time.time()
        self._memory.watch(container.id, leader.pid, container.config.memory_limit)
        task = asyncio.get_running_loop().create_task(self._supervise(container, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        log.debug("container started", id=container.id, name=container.config.name, pid=leader.pid)

    async def _supervise(self, container: Container, writer: LogWriter) -> None:
        def forget(pid: int) -> None:
            self._memory.unwatch(container.id)
            self._reaper.unregister(pid)

        await supervise(container, writer, forget=forget)
        log.debug(
            "container exited",
            id=container.id,
            exit_code=container.exit_code,
            reason=container.reason,
        )

    def _memory_exceeded(self, container_id: str, rss: int) -> None:
        container = self._containers.get(container_id)
        if container is not None:
            container.oom_killed = True

    async def stop_container(self, container_id: str, grace_seconds: float) -> None:
        container = self._container(container_id)
        if container.state != "running" or container.pid is None:
            return
        pid = container.pid
        if grace_seconds > 0:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace_seconds):
                    await container.exited.wait()
        if not container.exited.is_set():
            kill_session(pid)
            await container.exited.wait()

    async def remove_container(self, container_id: str) -> None:
        container = self._containers.get(container_id)
        if container is None:
            return
        await self.stop_container(container_id, 0)
        del self._containers[container_id]
        container.sandbox.containers.discard(container_id)
        await asyncio.to_thread(shutil.rmtree, container.paths.directory, ignore_errors=True)

    async def container_status(self, container_id: str) -> ContainerStatus:
        return self._container(container_id).status()

    async def wait_container(self, container_id: str) -> ContainerStatus:
        container = self._container(container_id)
        await container.exited.wait()
        return container.status()

    def log_path(self, container_id: str) -> Path:
        entry = self._logs.get(container_id)
        if entry is None:
            raise ContainerError("NotFound", f'container "{container_id}" not found')
        return entry[1]

    async def exec(
        self, container_id: str, command: Sequence[str], *, stdin: bool = False, tty: bool = False
    ) -> ProcessExecSession:
        container = self._container(container_id)
        session = await exec_in(
            container, command, stdin=stdin, tty=tty, reaper=self._reaper, memory=self._memory
        )
        self._execs.add(session)  # for close(), should a session outlive its container
        session.add_done_callback(self._execs.discard)
        return session

    async def attach(
        self, container_id: str, *, stdin: bool = False, tty: bool = False
    ) -> Attachment:
        """The running container's own streams (``kubectl attach``); see ``attachment``."""
        return attach_to(self._container(container_id), stdin=stdin)

    # ---- the runtime as a whole ----

    def _start_hygiene(self) -> None:
        if self._subreaper and not self._subreaper_held:
            acquire_subreaper()
            self._subreaper_held = True

    @property
    def supervisor_pid(self) -> int | None:
        """The pid of this runtime's reaper supervisor, once a container has started."""
        return self._reaper.pid

    def memory_usage(self, container_id: str) -> int | None:
        """The running container's last sampled memory in bytes."""
        sampled = self._memory.usage(container_id)
        return sampled.memory_bytes if sampled is not None else None

    def usage(self, container_id: str) -> Usage | None:
        """The running container's last usage sample (``usage``), for a metrics API."""
        return self._memory.usage(container_id)

    def _container(self, container_id: str) -> Container:
        container = self._containers.get(container_id)
        if container is None:
            raise ContainerError("NotFound", f'container "{container_id}" not found')
        return container

    def _check_open(self) -> None:
        if self._closed:
            raise ContainerError("RunContainerError", "the container runtime is closed")

    async def close(self) -> None:
        """Stop every container at once (no grace), end the supervisor; nothing remains."""
        self._closed = True
        running = [cid for cid, c in self._containers.items() if c.state == "running"]
        await asyncio.gather(*(self.stop_container(cid, 0) for cid in running))
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for session in list(self._execs):  # normally ended with their container already
            await session.kill()
        await asyncio.gather(*(session.wait() for session in self._execs), return_exceptions=True)
        await self._memory.close()
        await asyncio.to_thread(self._reaper.close)
        if self._subreaper_held:
            release_subreaper()
            self._subreaper_held = False
