"""Reading a container's output pipe on the event loop, with one owner for its descriptor.

A container started through ``spawning`` writes its stdout and stderr into pipes whose read
ends this process holds. asyncio's way to read such a pipe is ``loop.connect_read_pipe(
protocol, file_object)``, and it hands the *file object* to the loop. uvloop's transport then
closes the pipe twice: libuv closes the descriptor, and right after, the transport closes the
file object too, expecting EBADF. In a process where other threads open files at the same
time (the runtime's own threads copy image roots, write volumes, run SQLite), one of them can
be given that number between the two closes — and the second close takes its file away: its
next write fails with EBADF, or a file it opens next lands on the number libuv still watches.
A cluster starting 500 pods met it: ``pod sync failed: [Errno 9] Bad file descriptor``.

``PipeReadTransport`` is the small part of a transport a ``StreamReader`` needs, over the raw
descriptor: the loop says when the pipe is readable (``add_reader``), ``os.read`` takes what is
there, the reader is fed (and pauses the reading when its buffer is full, as with any
transport), and ``close`` closes the descriptor once, whoever calls it how often. It behaves
the same on uvloop and on asyncio's own loop.
"""

from __future__ import annotations

import asyncio
import os

READ_SIZE = 2**16  # per read, as asyncio's pipe transports


class PipeReadTransport(asyncio.ReadTransport):
    """The read end ``descriptor`` of a pipe, feeding ``reader``; it owns the descriptor."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, descriptor: int, reader: asyncio.StreamReader
    ) -> None:
        super().__init__()
        self._loop = loop
        self._descriptor = descriptor
        self._reader = reader
        self._reading = False
        self._closed = False
        os.set_blocking(descriptor, False)
        reader.set_transport(self)
        self.resume_reading()

    def _readable(self) -> None:
        try:
            data = os.read(self._descriptor, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return  # woken for nothing: wait for the next readiness
        except OSError as error:  # the pipe broke: the reader learns it as asyncio's would
            self._reader.set_exception(error)
            self.close()
            return
        if data:
            self._reader.feed_data(data)
        else:  # every writer has closed its end
            self._reader.feed_eof()
            self.close()

    def is_reading(self) -> bool:
        return self._reading

    def pause_reading(self) -> None:
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._descriptor)

    def resume_reading(self) -> None:
        if not self._reading and not self._closed:
            self._reading = True
            self._loop.add_reader(self._descriptor, self._readable)

    def is_closing(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop reading and close the descriptor (once; the loop stops watching it first)."""
        if self._closed:
            return
        self.pause_reading()
        self._closed = True
        os.close(self._descriptor)
