"""Starting a container's leader without copying the cluster's memory map.

``hygiene.spawn_leader`` sets the parent-death signal in a ``preexec_fn``, which makes Python
``fork()`` the whole cluster process (uvloop always forks): the kernel copies the page tables
of every mapped page, and the parent then pays copy-on-write faults for the pages it touches
while the child has not yet exec'd. With a few hundred MB of heap that is about 15 ms of CPU
per container, more than everything else a pod start costs. ``subprocess.Popen`` without a
``preexec_fn`` uses ``vfork()`` instead, which copies nothing (well under 1 ms).

The parent-death signal then comes from ``setpriv --pdeathsig KILL -- <argv>`` (util-linux):
the vfork'd child execs ``setpriv``, which sets the signal and execs the container's program
in the same process, so the pid, session and process group are the container's. Set by a
child of the event loop's thread, it fires when this process dies, as ``child_setup``'s does.
(vfork suspends the loop until the child has exec'd ``setpriv``: under 1 ms on an idle
machine, a few ms when the scheduler is slow to run the child; a spawner thread measured no
better.)
The one thing ``setpriv`` loses is the exact start error: if the kernel refuses the program,
``setpriv`` reports it and exits 126/127 instead of ``Popen`` raising it. So this path is only
taken for programs the kernel will plainly run — an ELF file with a sane header, or a ``#!``
script whose interpreter is one — and for containers without stdin or a terminal; everything
else goes through ``spawn_leader``, which reports every error in containerd's words.

The leader's exit is learnt from a pidfd (Linux 5.3) watched by the event loop, and its
stdout and stderr are read on the loop too (``pipereading``: no thread per container); the
leader is reaped here with ``waitpid`` (``hygiene.reap_zombies`` never touches leaders).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from .hygiene import Leader
from .pipereading import PipeReadTransport

SETPRIV = shutil.which("setpriv")
_ELF = b"\x7fELF"
_READ_LIMIT = 2**16  # as asyncio's subprocess streams


@attrs.define
class _Streams:
    stdin: asyncio.StreamWriter | None
    stdout: asyncio.StreamReader | None
    stderr: asyncio.StreamReader | None


@attrs.frozen
class _Transports:
    transports: tuple[asyncio.BaseTransport, ...]

    def close(self) -> None:
        for transport in self.transports:
            transport.close()


def _sane_elf(header: bytes) -> bool:
    # class 32/64-bit, byte order little/big, ident version 1: what the loader checks first
    return (
        len(header) >= 7
        and header[:4] == _ELF
        and header[4] in (1, 2)
        and header[5] in (1, 2)
        and header[6] == 1
    )


def plainly_executable(program: str, *, depth: int = 0) -> bool:
    """Whether the kernel will exec ``program``: a sane ELF, or a script whose ``#!``
    interpreter is one (absolute path). Anything unusual answers False."""
    try:
        with open(program, "rb") as file:
            header = file.read(256)
    except OSError:
        return False
    if _sane_elf(header):
        return os.access(program, os.X_OK)
    if header[:2] != b"#!" or depth > 0 or not os.access(program, os.X_OK):
        return False
    line = header[2:].split(b"\n", 1)[0].strip()
    interpreter = line.split()[0].decode(errors="replace") if line else ""
    return interpreter.startswith("/") and plainly_executable(interpreter, depth=depth + 1)


async def spawn_piped(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> Leader | None:
    """Start ``argv`` (resolved: ``argv[0]`` a path) as a new session's leader with stdin from
    /dev/null and stdout/stderr piped; None if this path does not apply (then use
    ``spawn_leader``). Call it on the event loop's thread, as ``spawn_leader``."""
    if SETPRIV is None or not hasattr(os, "pidfd_open") or not plainly_executable(argv[0]):
        return None
    loop = asyncio.get_running_loop()
    popen, out_read, err_read = _start(SETPRIV, argv, cwd=cwd, env=env)
    exited: asyncio.Future[int] = loop.create_future()
    pidfd = os.pidfd_open(popen.pid)

    def reap() -> None:
        try:
            pid, status = os.waitpid(popen.pid, os.WNOHANG)
            if pid == 0:
                return  # not over yet after all: keep watching
            code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:  # reaped by someone else: the status is lost
            code = 255
        loop.remove_reader(pidfd)
        os.close(pidfd)
        popen.returncode = code  # the Popen object must not try to reap it again
        if not exited.done():
            exited.set_result(code)

    loop.add_reader(pidfd, reap)
    stdout, out_transport = _read_pipe(loop, out_read)
    stderr, err_transport = _read_pipe(loop, err_read)
    streams = _Streams(None, stdout, stderr)
    return Leader(popen.pid, streams, exited, _Transports((out_transport, err_transport)))


def _start(
    setpriv: str, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]
) -> tuple[subprocess.Popen[bytes], int, int]:
    """vfork + exec: blocks only until the child has exec'd ``setpriv``. Returns the process
    and the read ends of its stdout and stderr."""
    out_read, out_write = os.pipe()  # both ends close-on-exec; Popen dup2s the child's
    err_read, err_write = os.pipe()
    try:
        popen = subprocess.Popen(
            [setpriv, "--pdeathsig", "KILL", "--", *argv],
            stdin=subprocess.DEVNULL,
            stdout=out_write,
            stderr=err_write,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
        )
    except OSError:
        os.close(out_read)
        os.close(err_read)
        raise
    finally:
        os.close(out_write)
        os.close(err_write)
    return popen, out_read, err_read


def _read_pipe(
    loop: asyncio.AbstractEventLoop, descriptor: int
) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
    # not ``loop.connect_read_pipe``: see ``pipereading`` (uvloop closes the number twice)
    reader = asyncio.StreamReader(limit=_READ_LIMIT, loop=loop)
    return reader, PipeReadTransport(loop, descriptor, reader)
