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

Each descriptor has one owner that closes it once: the log file its ``LogWriter``, the pipes
their transports, the terminal's master ``supervise``. Closing a number twice is never
harmless: between the two closes the number may have been handed to a file opened elsewhere
(another container's log), which the second close then takes away. Two rules follow:

- the cleanup at the end of ``supervise`` runs whatever went before it (a failed step, a
  cancellation), and the exit is always recorded, since ``stop_container`` and the runtime's
  ``close`` wait for it — an exception there once held a cluster's shutdown for 30 s;
- ``launch`` is not interrupted halfway through a spawn: a start cancelled between the
  process's creation and the handover of its pipes or terminal would leave a process nobody
  supervises and descriptors nobody owns (on uvloop, once, a pipe's file object that closed
  another container's log when it was collected). So the spawn is shielded: a cancelled start
  lets it finish, then kills the new leader and closes what it got through the usual owners.
  (The pipes themselves are read without file objects: ``pipereading``.)
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence

from .commands import ExecFailure, resolve_argv, start_error
from .containers import Container
from .execsession import drain
from .hygiene import Leader, clear_session, kill_session, spawn_leader
from .logfiles import LogWriter, pump
from .spawning import spawn_piped
from .terminal import TerminalReader, spawn_on_terminal

_Started = tuple[Leader, int | None]  # the leader, and the terminal's master if it has one


async def _spawn(container: Container, argv: Sequence[str]) -> _Started:
    wants_stdin = container.config.stdin
    if not container.config.tty and not wants_stdin:
        fast = await spawn_piped(argv, cwd=container.workdir, env=container.env)
        if fast is not None:
            return fast, None
    if container.config.tty:
        return await spawn_on_terminal(argv, cwd=container.workdir, env=container.env)
    leader = await spawn_leader(
        argv,
        stdin=asyncio.subprocess.PIPE if wants_stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=container.workdir,
        env=container.env,
    )
    return leader, None


def _abandon(started: asyncio.Future[_Started]) -> None:
    """A spawn that finished after its start was cancelled: end the new leader's session and
    close what it got, each through its owner."""
    if started.cancelled() or started.exception() is not None:
        return  # nothing was started, or the spawn cleaned up after itself
    leader, master = started.result()
    kill_session(leader.pid)
    leader.transport.close()  # the leader is reaped as usual: by asyncio, or by its pidfd watcher
    if master is not None:
        os.close(master)


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
    starting = asyncio.ensure_future(_spawn(container, argv))
    try:
        leader, container.terminal = await asyncio.shield(starting)
    except asyncio.CancelledError:
        writer.close()
        if starting.done():
            _abandon(starting)
        else:  # see the module docstring: the spawn must not be cut halfway
            starting.add_done_callback(_abandon)
        raise
    except OSError as spawn_error:  # found, but the kernel would not run it
        writer.close()
        reason = os.strerror(spawn_error.errno or 0).lower()
        error = start_error(f'exec: "{container.argv[0]}": {reason}')
        container.start_failed(error.message)
        raise error from None
    except BaseException:
        writer.close()
        raise
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
    returncode: int | None = None
    try:
        returncode = await leader.exited
        for session in list(container.execs):
            await session.kill()
        await clear_session(leader.pid)
        forget(leader.pid)
        pending = await drain(readers)
        if terminal is not None:
            terminal.stop()  # ends the output even if an escaped process holds the terminal
        for reader in pending:  # a process that left the session still holds the pipe
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    finally:
        # Also after a failure or a cancellation above (see the module docstring); nothing
        # here waits, so a second cancellation cannot skip a step.
        try:
            if terminal is not None:
                terminal.stop()  # idempotent; before its master is closed below
            for reader in readers:
                reader.cancel()  # those still reading: they find the writer closed, if they run
            master, container.terminal = container.terminal, None
            if master is not None:
                os.close(master)
            leader.transport.close()
            writer.close()  # the log is complete before the exit is known
        finally:
            if returncode is not None:
                container.record_exit(returncode)
