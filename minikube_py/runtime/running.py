"""Running a container: starting its leader process and seeing it through to its exit.

``launch`` resolves the command in the container's root (a command that cannot be run fails
the start as containerd would, with exit code 128 and reason ``StartError``) and spawns it as
the leader of a new session from the event loop's thread (the parent-death signal belongs to
the thread that forks, and executor threads come and go) -- through ``spawning.spawn_piped``
(vfork, no copy of this process's memory map) when it can -- with stdin a pipe only when the
container asked for one and stdout/stderr pipes into its log — or, for ``tty: true``, a
pseudo-terminal (``terminal``) whose merged output is logged as stdout, as upstream does.

``supervise`` then copies the output into the log (and to attached sessions) until the leader
exits. At that moment the container is over, as when a pid namespace's init dies: its exec
sessions are killed, whatever is left of its session is killed and reaped, the output that was
already written is drained (a process that escaped the session and still holds the pipe gets
``DRAIN_TIMEOUT``), and the exit is recorded.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from .commands import ExecFailure, resolve_argv, start_error
from .containers import Container
from .execsession import DRAIN_TIMEOUT
from .hygiene import Leader, clear_session, spawn_leader
from .logfiles import LogWriter, pump
from .spawning import spawn_piped
from .terminal import TerminalReader, spawn_on_terminal


async def launch(container: Container, *, log_max_bytes: int) -> tuple[Leader, LogWriter]:
    """Start the container's leader; ``ContainerError`` (RunContainerError) if it cannot."""
    try:
        mounts = [mount.container_path for mount in container.config.mounts]
        argv = resolve_argv(
            container.argv, container.env, container.paths.root, container.workdir, mounts
        )
    except ExecFailure as failure:
        error = start_error(failure.cause)
        container.start_failed(error.message)
        raise error from None
    writer = LogWriter(container.paths.log, max_bytes=log_max_bytes)
    wants_stdin = container.config.stdin
    try:
        fast = None
        if not container.config.tty and not wants_stdin:
            fast = await spawn_piped(argv, cwd=container.workdir, env=container.env)
        if fast is not None:
            leader = fast
        elif container.config.tty:
            leader, container.terminal = await spawn_on_terminal(
                argv, cwd=container.workdir, env=container.env
            )
        else:
            leader = await spawn_leader(
                argv,
                stdin=asyncio.subprocess.PIPE if wants_stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=container.workdir,
                env=container.env,
            )
    except OSError as spawn_error:  # found, but the kernel would not run it
        writer.close()
        reason = os.strerror(spawn_error.errno or 0).lower()
        error = start_error(f'exec: "{container.argv[0]}": {reason}')
        container.start_failed(error.message)
        raise error from None
    return leader, writer


async def supervise(
    container: Container, writer: LogWriter, *, forget: Callable[[int], None]
) -> None:
    """Log the output until the leader exits, clean up, record the exit. ``forget(pid)`` is
    called once the session is empty, to stop watching and supervising it."""
    leader = container.leader
    assert leader is not None
    terminal: TerminalReader | None = None
    readers: list[asyncio.Future[None]]
    if container.terminal is not None:

        def show(data: bytes) -> None:
            writer.write("stdout", data)  # a terminal merges both streams, as upstream logs it
            container.broadcast("stdout", data)

        terminal = TerminalReader(container.terminal, show)
        readers = [terminal.closed]
    else:
        process = leader.process
        assert process.stdout is not None and process.stderr is not None
        loop = asyncio.get_running_loop()
        readers = [
            loop.create_task(pump(process.stdout, "stdout", writer, container.broadcast)),
            loop.create_task(pump(process.stderr, "stderr", writer, container.broadcast)),
        ]
    returncode = await leader.exited
    for session in list(container.execs):
        await session.kill()
    await clear_session(leader.pid)
    forget(leader.pid)
    _, pending = await asyncio.wait(readers, timeout=DRAIN_TIMEOUT)
    if terminal is not None and container.terminal is not None:
        terminal.stop()  # ends the output even if an escaped process holds the terminal
        os.close(container.terminal)
        container.terminal = None
    for reader in pending:  # a process that left the session still holds the pipe
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    leader.transport.close()
    writer.close()
    container.record_exit(returncode)
