"""One container of the process runtime: what was asked for, what runs, and how it ended.

A container goes ``created`` → ``running`` → ``exited`` and stays there until removed (a
restart is a new container, with the next ``attempt``). Its record holds the resolved command
line and environment, the leader process, and, once it ended, what pod status reports:

- the exit code, or 128 + N when signal N ended it (137 for SIGKILL), as the kubelet reports
  it (upstream leaves ``signal`` unset; it is kept here for whoever wants it);
- the reason: ``Completed`` for 0, ``Error`` otherwise, ``OOMKilled`` when the memory watcher
  killed it, ``StartError`` (exit code 128) when its command could not be started;
- the termination message: what the process wrote to its termination message file (at most
  4096 bytes, as upstream), read when it exits because the root goes away with the container.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import attrs

from .commands import compose_argv, container_env, parse_env
from .execsession import ProcessExecSession, exit_code
from .hygiene import Leader
from .images.store import Image
from .protocol import ContainerConfig, ContainerState, ContainerStatus
from .sandbox import ContainerPaths, Sandbox, prepare_root, under_root

MAX_MESSAGE = 4096  # the kubelet's cap on a termination message


@attrs.define(eq=False)
class Container:
    """A container's record; the runtime changes it, ``status()`` reports it."""

    id: str
    sandbox: Sandbox
    config: ContainerConfig
    image: Image
    paths: ContainerPaths
    argv: list[str]
    env: dict[str, str]
    workdir: Path
    created_at: float = attrs.field(factory=time.time)
    state: ContainerState = "created"
    leader: Leader | None = None
    terminal: int | None = None  # the pseudo-terminal's master while a tty container runs
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int | None = None
    signal: int | None = None
    reason: str | None = None
    message: str | None = None
    oom_killed: bool = False
    exited: asyncio.Event = attrs.field(factory=asyncio.Event)
    execs: set[ProcessExecSession] = attrs.field(factory=set)
    # Attached sessions' queues: each gets the output as it is read; None when it ends.
    listeners: set[asyncio.Queue[tuple[int, bytes] | None]] = attrs.field(factory=set)

    def broadcast(self, stream: str, data: bytes) -> None:
        for queue in self.listeners:
            queue.put_nowait((1 if stream == "stdout" else 2, data))

    @property
    def pid(self) -> int | None:
        return self.leader.pid if self.leader is not None else None

    def status(self) -> ContainerStatus:
        return ContainerStatus(
            id=self.id,
            name=self.config.name,
            state=self.state,
            image=self.config.image,
            image_id=self.image.id,
            pid=self.pid if self.state == "running" else None,
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            exit_code=self.exit_code,
            signal=self.signal,
            reason=self.reason,
            message=self.message,
        )

    def start_failed(self, message: str) -> None:
        """The command could not be started: exited at once, as containerd reports it."""
        self.state = "exited"
        # containerd never sets startedAt then: pod status shows 1970-01-01T00:00:00Z.
        self.started_at, self.finished_at = 0.0, time.time()
        self.exit_code, self.reason, self.message = 128, "StartError", message
        self.exited.set()

    def record_exit(self, returncode: int) -> None:
        """The leader ended with asyncio's ``returncode`` (negative for a signal)."""
        self.state = "exited"
        self.finished_at = time.time()
        self.exit_code = exit_code(returncode)
        self.signal = -returncode if returncode < 0 else None
        if self.oom_killed:
            self.reason = "OOMKilled"
        else:
            self.reason = "Completed" if self.exit_code == 0 else "Error"
        self.message = self.termination_message()
        self.exited.set()
        for queue in self.listeners:
            queue.put_nowait(None)

    def termination_message(self) -> str | None:
        path = under_root(self.paths.root, self.config.termination_message_path)
        try:
            with open(path, "rb") as file:
                data = file.read(MAX_MESSAGE)
        except OSError:
            return None
        return data.decode("utf-8", errors="replace") or None


async def build_container(
    container_id: str, sandbox: Sandbox, config: ContainerConfig, image: Image
) -> Container:
    """A new container's record, with its root prepared (copied off the event loop)."""
    image_config = image.config
    argv = compose_argv(
        image_config.get("Entrypoint") or [],
        image_config.get("Cmd") or [],
        config.command,
        config.args,
    )
    paths = ContainerPaths.of(sandbox.directory, config.name, config.attempt)
    workdir = await asyncio.to_thread(
        prepare_root,
        image.root,
        paths,
        mounts=config.mounts,
        working_dir=config.working_dir or image_config.get("WorkingDir") or "/",
        termination_message_path=config.termination_message_path,
        resolv_conf=config.resolv_conf,
    )
    env = container_env(
        parse_env(image_config.get("Env") or []),
        config.env,
        root=paths.root,
        pod_ip=sandbox.config.ip,
        hostname=sandbox.config.hostname,
        tty=config.tty,
        mounts=config.mounts,
    )
    return Container(container_id, sandbox, config, image, paths, argv, env, workdir)
