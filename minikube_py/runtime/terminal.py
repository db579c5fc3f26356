"""Pseudo-terminals: what a container or exec with ``tty: true`` gets instead of pipes.

A pseudo-terminal is a pair: the *slave* side is the process's stdin, stdout, stderr and
controlling terminal (so ``isatty()`` is true, line editing and Ctrl-C work, and a shell shows
a prompt); the *master* side stays with the runtime, which reads the process's output from it
and writes the user's keystrokes to it. Output of both streams arrives merged, which is why
kubectl shows a terminal session as stream 1 only. Reading the master after every holder of
the slave has gone fails with EIO: that is the terminal's end of file. Resizing is an ioctl on
the master (``TIOCSWINSZ``), which also sends the process SIGWINCH.

The master is non-blocking and read through the event loop's ``add_reader``, so it works the
same on asyncio's loop and on uvloop.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import struct
import termios
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .hygiene import Leader, spawn_leader

END_OF_INPUT = b"\x04"  # Ctrl-D: what a terminal user types to end input


def open_terminal() -> tuple[int, int]:
    """A new pseudo-terminal: (master, slave); the master is non-blocking."""
    master, slave = os.openpty()
    os.set_blocking(master, False)
    return master, slave


class TerminalReader:
    """Hands each chunk read from a master to ``on_data``; ``closed`` resolves at its end."""

    def __init__(self, master: int, on_data: Callable[[bytes], None]) -> None:
        self._master = master
        self._on_data = on_data
        self._loop = asyncio.get_running_loop()
        self.closed: asyncio.Future[None] = self._loop.create_future()
        self._loop.add_reader(master, self._ready)
        self._reading = True  # not ``closed.done()``: someone may cancel that future

    def _ready(self) -> None:
        try:
            data = os.read(self._master, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: every holder of the slave side has gone
            data = b""
        if data:
            self._on_data(data)
        else:
            self.stop()

    def stop(self) -> None:
        """Stop reading (idempotent); the caller still owns and closes the descriptor, and
        must call this first: a number closed while the loop still watches it may be
        watched on behalf of whatever file gets it next."""
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._master)
        if not self.closed.done():
            self.closed.set_result(None)


async def write_terminal(
    master: int, data: bytes, *, is_open: Callable[[], bool] = lambda: True
) -> None:
    """Type ``data`` into the terminal, waiting while its input buffer is full.

    ``is_open`` tells whether ``master`` is still the terminal's: it is asked before every
    write, because while this waits the owner may close the master, and its number may then
    be given to another file, which must not receive the keystrokes."""
    while data and is_open():
        try:
            written = os.write(master, data)
        except BlockingIOError:
            await asyncio.sleep(0.01)
            continue
        except OSError:  # the terminal is gone
            return
        data = data[written:]


def resize_terminal(master: int, width: int, height: int) -> None:
    with contextlib.suppress(OSError):
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


async def spawn_on_terminal(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]
) -> tuple[Leader, int]:
    """Start ``argv`` as a session leader whose stdio and controlling terminal is a new
    pseudo-terminal; returns the leader and the master, which the caller closes."""
    master, slave = open_terminal()
    try:
        leader = await spawn_leader(
            argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, controlling_tty=True
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)  # the child has its copies; ours would keep the terminal open forever
    return leader, master
