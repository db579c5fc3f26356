"""Reading a container's CRI log file the way ``kubectl logs`` asks for it.

A container runtime writes each chunk of a container's output as one line of its log file,
in the CRI log format::

    2024-05-01T10:00:00.123456789Z stdout F hello world
    2024-05-01T10:00:01.5Z stderr P a long line, first part…
    2024-05-01T10:00:01.6Z stderr F …and its end

``F`` ends a line of the container's output; ``P`` is a *partial* record (the runtime cut a
long line), whose text has no newline of its own. The kubelet answers ``pods/log`` by reading
this file (upstream: ``pkg/kubelet/kuberuntime/logs``), and this module does the same with
the same semantics:

- ``tail_lines`` counts records from the end of the file (a cut line counts once per part);
- ``since_seconds`` / ``since_time`` skip records older than that moment;
- ``timestamps`` prefixes every record with its time in RFC 3339 with nanoseconds;
- ``limit_bytes`` stops after that many bytes of output, cutting the last record;
- ``follow`` keeps reading as the file grows, reopens it when the runtime rotates it (a new
  file appears at the same path), and ends once the container has exited and the file is
  drained — as upstream, only the current file is read, never rotated-away ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import BinaryIO

import attrs

from minikube_py.runtime.protocol import LogOptions

_BLOCK = 64 * 1024
_RECORD = re.compile(rb"^(\S+) (stdout|stderr) ([^ \n]+) ?(.*)$", re.DOTALL)
_TIME = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)$"
)


@attrs.frozen
class LogRecord:
    """One parsed line of a CRI log file."""

    timestamp: str  # RFC 3339 with nanoseconds, as kubectl prints it (trailing zeros cut)
    time: float  # the same moment as Unix seconds, for --since
    stream: str  # "stdout" or "stderr"
    partial: bool  # a "P" record: the text continues in the next record
    text: bytes  # the output, with its newline unless partial


def parse_time(text: str) -> tuple[float, str] | None:
    """``(unix seconds, text normalised as Go's RFC3339Nano)`` or ``None`` if not RFC 3339.
    Go prints fractional seconds without trailing zeros and keeps the zone it parsed."""
    match = _TIME.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone in ("Z", "z"):
        offset = datetime.timedelta(0)
        zone = "Z"
    else:
        sign = -1 if zone[0] == "-" else 1
        offset = sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    try:
        moment = datetime.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second),
            tzinfo=datetime.timezone(offset),
        )  # fmt: skip
    except ValueError:
        return None
    digits = (fraction or "").rstrip("0")
    seconds = moment.timestamp() + (int(digits) / 10 ** len(digits) if digits else 0.0)
    clock = f"{year}-{month}-{day}T{hour}:{minute}:{second}"
    return seconds, f"{clock}.{digits}{zone}" if digits else f"{clock}{zone}"


def parse_record(line: bytes) -> LogRecord | None:
    """A record from one line of the file (with or without its ``\\n``); ``None`` if the line
    is not in the CRI format (upstream logs such a line and skips it)."""
    match = _RECORD.match(line.rstrip(b"\n"))
    if match is None:
        return None
    stamp, stream, tag, text = match.groups()
    parsed = parse_time(stamp.decode("ascii", "replace"))
    if parsed is None:
        return None
    partial = tag.split(b":")[0] == b"P"
    return LogRecord(
        timestamp=parsed[1],
        time=parsed[0],
        stream=stream.decode(),
        partial=partial,
        text=text if partial else text + b"\n",
    )


def tail_offset(file: BinaryIO, lines: int) -> int:
    """Where the last ``lines`` lines of ``file`` start (0 if it has fewer), reading backwards
    in blocks so that a large file costs only its tail."""
    end = file.seek(0, os.SEEK_END)
    if lines <= 0:
        return end
    position, found = end, 0
    while position > 0:
        start = max(0, position - _BLOCK)
        file.seek(start)
        block = file.read(position - start)
        for index in range(len(block) - 1, -1, -1):
            if block[index] != 0x0A or start + index == end - 1:
                continue  # the newline ending the file's last line starts no line
            found += 1
            if found == lines:
                return start + index + 1
        position = start
    return 0


def since_moment(options: LogOptions, now: float) -> float | None:
    """The earliest record time ``options`` admit, or ``None`` for all of them."""
    if options.since_seconds is not None:
        return now - options.since_seconds
    if options.since_time is not None:
        parsed = parse_time(options.since_time)
        return parsed[0] if parsed else None
    return None


async def read_records(
    path: Path,
    *,
    tail_lines: int | None = None,
    follow: bool = False,
    running: Callable[[], Awaitable[bool]] | None = None,
    poll_interval: float = 0.1,
    offset: int | None = None,
) -> AsyncGenerator[LogRecord, None]:
    """The records of the log at ``path``: the last ``tail_lines`` of them (all if ``None``),
    then with ``follow`` every new one until ``running`` says the container has ended and
    the file is drained (without ``running``, ``follow`` stops at the end of the file). An
    idle file is polled every ``poll_interval`` seconds. ``offset`` starts reading at that
    byte of the file instead (what ``kubectl attach`` needs: the output from now on)."""
    limit = tail_lines if tail_lines is not None and not follow else -1
    try:
        file: BinaryIO = path.open("rb")
    except FileNotFoundError:
        return
    try:
        if offset is not None:
            file.seek(min(offset, file.seek(0, os.SEEK_END)))
        else:
            file.seek(tail_offset(file, tail_lines) if tail_lines is not None else 0)
        pending, last_pass, replaced = b"", False, False
        while limit != 0:
            chunk = file.read(_BLOCK)
            if chunk:
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    record = parse_record(line)
                    if record is None:
                        continue
                    yield record
                    limit -= 1
                    if limit == 0:
                        return
                continue
            if not follow:  # a last line without its newline still counts
                if pending and (record := parse_record(pending)) is not None:
                    yield record
                return
            if replaced:  # the old file is drained: go on with the new one
                file.close()
                try:
                    file = path.open("rb")
                except FileNotFoundError:
                    file = _empty_file()
                pending, replaced = b"", False
                continue
            if last_pass or running is None:
                return
            if not await running():
                last_pass = True  # read what the container wrote before it ended, then stop
                continue
            await asyncio.sleep(poll_interval)
            replaced = _replaced(file, path)  # if so, first read what the old file got last
    finally:
        file.close()


async def read_log(
    path: Path,
    options: LogOptions,
    *,
    running: Callable[[], Awaitable[bool]] | None = None,
    now: Callable[[], float] = time.time,
    poll_interval: float = 0.1,
) -> AsyncIterator[bytes]:
    """The log at ``path`` as ``kubectl logs`` prints it under ``options``, one chunk per
    record; see ``read_records`` for ``running`` and ``poll_interval``."""
    since = since_moment(options, now())
    remaining = options.limit_bytes if options.limit_bytes is not None else -1
    records = read_records(
        path,
        tail_lines=options.tail_lines,
        follow=options.follow,
        running=running,
        poll_interval=poll_interval,
    )
    async with contextlib.aclosing(records):
        async for record in records:
            if since is not None and record.time < since:
                continue
            data = record.text
            if options.timestamps:
                data = record.timestamp.encode() + b" " + data
            if 0 <= remaining <= len(data):
                if remaining:
                    yield data[:remaining]
                return
            if remaining > 0:
                remaining -= len(data)
            yield data


def _replaced(file: BinaryIO, path: Path) -> bool:
    """Whether the runtime rotated the log: the path now names another (or no) file. A file
    that shrank in place (copy-and-truncate rotation) counts too; it is read from its start."""
    try:
        current = os.stat(path)
    except FileNotFoundError:
        return False  # the rotation is in progress; the new file appears in a moment
    opened = os.fstat(file.fileno())
    if (current.st_dev, current.st_ino) != (opened.st_dev, opened.st_ino):
        return True
    if current.st_size < file.tell():
        file.seek(0)
    return False


def _empty_file() -> BinaryIO:
    """A placeholder at end of file until the rotated log appears."""
    return open(os.devnull, "rb")  # closed by read_records, like the file it stands for
