"""Container log files in the CRI format, written as the output arrives and rotated by size.

A CRI runtime (containerd, CRI-O) does not hand a container's output to the kubelet; it writes
it to a file the kubelet reads for ``kubectl logs``. Each line of the file is one line of
output, tagged::

    2024-05-01T12:00:00.123456789Z stdout F hello world
    2024-05-01T12:00:00.2Z stderr P a long line is cut in pieces of 16 KiB, every piece but
    2024-05-01T12:00:00.2Z stderr F the last marked P (partial)

The timestamp is Go's RFC3339Nano (UTC, trailing zeros of the fraction dropped); ``F`` marks a
full line, ``P`` a partial one: a piece of a line longer than 16 KiB, or output that ended
without a newline (containerd's rule). Both streams go to one file, so their relative order is
kept. When the file would pass ``max_bytes`` it is renamed to ``<file>.1`` (replacing an older
one) and a new file starts: the kubelet's rotation, keeping one old file instead of five.
Appends are small writes to the page cache, so they are done on the event loop.

The log is a by-product: a write that fails (a full disk, the pod's directory removed under a
running container) drops that output and is logged once, so the pump keeps draining the pipe
and the container never blocks on its own output. ``close`` is idempotent and never raises,
so a container's exit is recorded, and the cluster stops, whatever happened to the file; it
never retries a failed close either, since the descriptor's number may already be another
file's by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from ..logs import get_logger

log = get_logger("runtime")

MAX_LINE = 16 * 1024  # containerd's maxContainerLogLineSize
READ_CHUNK = 64 * 1024


def rfc3339_nano(ns: int) -> str:
    """Go's ``time.RFC3339Nano`` rendering of ``ns`` nanoseconds since the epoch, in UTC."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


@attrs.frozen
class LogLine:
    """One parsed line of a CRI log file."""

    timestamp: str
    stream: str  # "stdout" or "stderr"
    partial: bool
    content: bytes


def parse_line(line: bytes) -> LogLine | None:
    """Parse one line of a CRI log file (without its newline); None if it is malformed."""
    parts = line.split(b" ", 3)
    if len(parts) < 3 or parts[1] not in (b"stdout", b"stderr") or parts[2] not in (b"F", b"P"):
        return None
    content = parts[3] if len(parts) == 4 else b""
    return LogLine(parts[0].decode(), parts[1].decode(), parts[2] == b"P", content)


class LogWriter:
    """Appends a container's output to its CRI log file; see the module docstring."""

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._clock_ns = clock_ns
        self._pending: dict[str, bytes] = {"stdout": b"", "stderr": b""}
        path.parent.mkdir(parents=True, exist_ok=True)
        # None once closed, or once writing failed: the rest of the output is dropped
        self._file: io.FileIO | None = open(path, "ab", buffering=0)  # noqa: SIM115
        self._size = self._file.tell()
        self._closed = False

    @property
    def rotated_path(self) -> Path:
        return self.path.with_name(self.path.name + ".1")

    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, stream: str, data: bytes) -> None:
        """Log ``data`` read from ``stream``; an unfinished last line waits for more."""
        if self._closed:
            return  # a reader still draining after the container's end: nowhere to go
        buffered = self._pending[stream] + data
        *lines, rest = buffered.split(b"\n")
        for line in lines:
            self._emit(stream, line.removesuffix(b"\r"), partial=False)
        while len(rest) > MAX_LINE:
            self._emit(stream, rest[:MAX_LINE], partial=True)
            rest = rest[MAX_LINE:]
        self._pending[stream] = rest

    def end(self, stream: str) -> None:
        """The stream closed: output left without a newline is logged as a partial line."""
        rest, self._pending[stream] = self._pending[stream], b""
        if rest:
            self._emit(stream, rest, partial=True)

    def _emit(self, stream: str, content: bytes, *, partial: bool) -> None:
        tag = b" P " if partial else b" F "
        while len(content) > MAX_LINE:  # a full line longer than the limit: pieces, then F
            self._append(stream, content[:MAX_LINE], b" P ")
            content = content[MAX_LINE:]
        self._append(stream, content, tag)

    def _append(self, stream: str, content: bytes, tag: bytes) -> None:
        if self._file is None:
            return
        record = rfc3339_nano(self._clock_ns()).encode() + b" " + stream.encode() + tag
        record += content + b"\n"
        try:
            if self._size and self._size + len(record) > self.max_bytes:
                self._rotate()
            assert self._file is not None
            self._file.write(record)
        except (OSError, ValueError) as error:  # ValueError: a file closed under us
            self._give_up(error)
            return
        self._size += len(record)

    def _rotate(self) -> None:
        assert self._file is not None
        old, self._file = self._file, None  # no file while between the two
        old.close()
        os.replace(self.path, self.rotated_path)
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115
        self._size = 0

    def _give_up(self, error: Exception) -> None:
        log.warning("container log not written", path=str(self.path), error=str(error))
        self._release()

    def _release(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            # FileIO forgets its descriptor before the close system call, so a failed close
            # (EBADF: something else closed that number) is never retried on a number that
            # may belong to another file by now.
            with contextlib.suppress(OSError):
                file.close()

    def close(self) -> None:
        """Log what is left of unfinished lines and close the file; idempotent, never raises."""
        if self._closed:
            return
        try:
            for stream in self._pending:
                self.end(stream)
        finally:
            self._closed = True
            self._release()


async def pump(
    reader: asyncio.StreamReader,
    stream: str,
    writer: LogWriter,
    listen: Callable[[str, bytes], None] | None = None,
) -> None:
    """Copy ``reader`` into ``writer`` until end of file, showing each chunk to ``listen``."""
    try:
        while True:
            data = await reader.read(READ_CHUNK)
            if not data:
                break
            writer.write(stream, data)
            if listen is not None:
                listen(stream, data)
    finally:
        writer.end(stream)
