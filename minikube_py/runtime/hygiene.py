"""Process hygiene: no container process outlives its container, and none stays a zombie.

Every container (and every exec) is started as the leader of a new *session* (``setsid``), so
its session id, process group id and pid are one number, inherited by everything it forks. A
container is over when its leader exits; then, as the kernel does when a pid namespace's init
dies, every process left in that session is SIGKILLed (``kill_session``). Killing by session
rather than by process group also catches a shell's job-control groups.

Three mechanisms cover the cluster process dying, even by SIGKILL:

- ``PR_SET_PDEATHSIG(SIGKILL)`` in each direct child (``child_setup``, run by ``subprocess``
  between fork and exec as ``preexec_fn``). The kernel ties it to the *thread* that forked, so
  containers are started from the event loop's thread, never from a short-lived executor
  thread. ``preexec_fn`` runs Python in the child of a multi-threaded parent, where taking a
  lock another thread held at fork time would deadlock; ours only calls ``prctl`` and
  ``ioctl`` through ctypes functions resolved at import, ``os.getppid`` and ``os._exit``. It
  also makes ``subprocess`` use ``fork`` instead of ``vfork`` (a few ms in a large parent).
- the supervisor in ``reaper`` for grandchildren, which no parent-death signal reaches;
- ``PR_SET_CHILD_SUBREAPER`` on the cluster process (``acquire_subreaper``): orphans of a
  container re-parent to us instead of to PID 1, so we can reap them (``reap_zombies``). Not
  every PID 1 reaps orphans (this project's CI machine's does not), and a zombie is a process
  table entry that never goes away. The flag is process-wide: daemons other code in this
  process starts (``pg_ctl start``) are adopted too; we reap only members of our sessions,
  and the flag is cleared again when the last runtime closes.

``spawn_leader`` starts a leader with all of this, and learns of its exit from the transport
rather than from ``Process.wait()``, which also waits for every holder of its pipes.

A process that calls ``setsid()`` itself leaves its container's session and escapes all of
this, as ``nohup setsid`` would; a later runtime with cgroups would close that gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Protocol, cast

import attrs

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
TIOCSCTTY = 0x540E

# Resolved once at import so that the code run in a forked child calls them without loading.
_libc = ctypes.CDLL(None, use_errno=True)
_prctl = _libc.prctl
_prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_prctl.restype = ctypes.c_int
_ioctl = _libc.ioctl
_ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong]
_ioctl.restype = ctypes.c_int


def child_setup(*, controlling_tty: bool = False) -> Callable[[], None]:
    """A ``preexec_fn``: die with the parent; optionally take fd 0 as controlling terminal."""
    parent = os.getpid()

    def setup() -> None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: no signal would come
            os._exit(137)
        if controlling_tty:
            _ioctl(0, TIOCSCTTY, 0)  # after setsid: a pty slave becomes the session's terminal

    return setup


_subreaper_users = 0


def acquire_subreaper() -> None:
    """Make this process the reaper of its descendants' orphans while a runtime needs it."""
    global _subreaper_users
    _subreaper_users += 1
    if _subreaper_users == 1:
        _prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def release_subreaper() -> None:
    """The last runtime closed: orphans go back to the system's reaper (PID 1)."""
    global _subreaper_users
    _subreaper_users -= 1
    if _subreaper_users == 0:
        _prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


@attrs.frozen
class ProcessInfo:
    """The fields of ``/proc/<pid>/stat`` hygiene and the memory watcher need."""

    pid: int
    state: str
    ppid: int
    pgid: int
    sid: int
    rss_pages: int
    cpu_ticks: int = 0  # utime + stime + cutime + cstime, for usage sampling


PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def scan(sessions: Collection[int]) -> list[ProcessInfo]:
    """Every process whose session is in ``sessions`` (zombies included).

    One ``getsid`` system call per process finds the members (psutil knows no session ids, and
    reading every ``/proc/<pid>/stat`` costs ten times more); only members' files are read."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getsid(int(entry)) not in sessions:
                continue
            info = _stat(int(entry))
        except OSError:  # it ended while we looked
            continue
        if info.sid in sessions:
            found.append(info)
    return found


def _stat(pid: int) -> ProcessInfo:
    descriptor = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    try:
        text = os.read(descriptor, 4096)
    finally:
        os.close(descriptor)
    # The command name is in parentheses and may hold spaces or parentheses itself.
    fields = text[text.rfind(b")") + 2 :].split()
    return ProcessInfo(
        pid, fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[3]), int(fields[21]),
        sum(int(ticks) for ticks in fields[11:15]),
    )  # fmt: skip


def kill_session(sid: int) -> None:
    """SIGKILL the process group ``sid`` and every other process still in session ``sid``."""
    _killpg(sid)
    _sweep({sid}, kill=True)


def reap_zombies(sessions: Collection[int]) -> list[ProcessInfo]:
    """Reap our zombie children from ``sessions``; return the members still present.

    A session's leader (pid == sid) is left alone: asyncio waits for it, and taking its exit
    status here would lose the container's exit code."""
    return _sweep(sessions, kill=False)


async def clear_session(sid: int, *, patience: float = 2.0) -> bool:
    """Kill what is left of session ``sid`` and reap it; True once nothing of it remains.

    Zombies whose parent is not us (no subreaper, or another reaper) are not ours to reap and
    count as gone: they no longer run."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        _killpg(sid)
        left = _sweep({sid}, kill=True)  # one look at /proc both kills and reaps
        if not any(process.state != "Z" or process.ppid == os.getpid() for process in left):
            return True
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)


def _killpg(sid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(sid, signal.SIGKILL)


def _sweep(sessions: Collection[int], *, kill: bool) -> list[ProcessInfo]:
    """One scan of ``sessions``: reap our zombies (leaders excepted, see ``reap_zombies``),
    SIGKILL the living ones if ``kill``; return the members still present."""
    me = os.getpid()
    left = []
    for process in scan(sessions):
        if process.state == "Z" and process.ppid == me and process.pid != process.sid:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(process.pid, os.WNOHANG)
                continue
        elif kill and process.state != "Z":
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(process.pid, signal.SIGKILL)
        left.append(process)
    return left


class _LeaderProtocol(asyncio.subprocess.SubprocessStreamProtocol):
    """asyncio's stream protocol, plus a future set when the process itself has exited.

    ``Process.wait()`` (Python 3.11) returns only once every pipe is closed too, so a
    grandchild holding stdout would hide the leader's exit; the transport knows earlier."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=2**16, loop=loop)
        self.exited: asyncio.Future[int] = loop.create_future()
        self._leader: asyncio.SubprocessTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # uvloop's process transport does not derive from asyncio's class, but behaves as one.
        self._leader = cast(asyncio.SubprocessTransport, transport)

    def process_exited(self) -> None:
        assert self._leader is not None
        returncode = self._leader.get_returncode()  # before the base class may close it
        if not self.exited.done() and returncode is not None:
            self.exited.set_result(returncode)
        super().process_exited()


class Pipes(Protocol):
    """A leader's ends of its standard streams (``asyncio.subprocess.Process`` has them)."""

    stdin: asyncio.StreamWriter | None
    stdout: asyncio.StreamReader | None
    stderr: asyncio.StreamReader | None


class Closable(Protocol):
    def close(self) -> None: ...


@attrs.frozen
class Leader:
    """A started session leader: its pipes, a future of its returncode (negative for a
    signal), set as soon as it exits, whoever still holds its pipes, and what to close once
    it is over (asyncio's transport, or the pipes of a ``spawning.spawn_piped`` leader)."""

    pid: int
    process: Pipes
    exited: asyncio.Future[int]
    transport: Closable


async def spawn_leader(
    argv: Sequence[str],
    *,
    stdin: int,
    stdout: int,
    stderr: int,
    cwd: Path,
    env: Mapping[str, str],
    controlling_tty: bool = False,
) -> Leader:
    """Start ``argv`` as a new session's leader that dies with us.

    Call it on the event loop's thread (see the module docstring on the parent-death
    signal)."""
    loop = asyncio.get_running_loop()
    protocol = _LeaderProtocol(loop)
    transport, _ = await loop.subprocess_exec(
        lambda: protocol,
        *argv,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        cwd=cwd,
        env=dict(env),
        start_new_session=True,
        preexec_fn=child_setup(controlling_tty=controlling_tty),
    )
    process = asyncio.subprocess.Process(transport, protocol, loop)
    return Leader(process.pid, process, protocol.exited, transport)
