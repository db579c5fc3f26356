"""The CRI log reader answers kubectl logs' options as the kubelet does, from handmade files."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from minikube_py.kubelet.logreader import parse_record, parse_time, read_log
from minikube_py.runtime.logfiles import LogWriter
from minikube_py.runtime.protocol import LogOptions

LOG = (
    b"2024-05-01T10:00:00.100000000Z stdout F one\n"
    b"2024-05-01T10:00:01.000000000Z stderr F two\n"
    b"2024-05-01T10:00:02.500Z stdout P thr\n"
    b"2024-05-01T10:00:02.600Z stdout F ee\n"
    b"2024-05-01T10:00:03Z stdout F four\n"
)
T0 = parse_time("2024-05-01T10:00:00Z")[0]  # type: ignore[index]


async def read(path: Path, **options: object) -> bytes:
    chunks = [chunk async for chunk in read_log(path, LogOptions(**options), now=lambda: T0 + 4)]  # type: ignore[arg-type]
    return b"".join(chunks)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "0.log"
    path.write_bytes(LOG)
    return path


def test_records_parse_partial_and_full_lines() -> None:
    record = parse_record(b"2024-05-01T10:00:02.500Z stdout P thr\n")
    assert record is not None and record.partial and record.text == b"thr"
    full = parse_record(b"2024-05-01T10:00:00.100000000Z stderr F one")
    assert full is not None and full.stream == "stderr" and full.text == b"one\n"
    assert full.timestamp == "2024-05-01T10:00:00.1Z"  # Go's RFC3339Nano trims zeros
    assert parse_record(b"not a log line") is None
    empty = parse_record(b"2024-05-01T10:00:00Z stdout F ")
    assert empty is not None and empty.text == b"\n"


def test_time_keeps_its_zone_and_nanoseconds() -> None:
    seconds, text = parse_time("2024-05-01T12:00:00.123456789+02:00")  # type: ignore[misc]
    assert text == "2024-05-01T12:00:00.123456789+02:00"
    assert seconds == pytest.approx(T0 + 0.123456789)


async def test_whole_log_joins_partial_records(log: Path) -> None:
    assert await read(log) == b"one\ntwo\nthree\nfour\n"


async def test_timestamps_prefix_every_record(log: Path) -> None:
    lines = (await read(log, timestamps=True)).split(b"\n")
    assert lines[0] == b"2024-05-01T10:00:00.1Z one"
    assert lines[1] == b"2024-05-01T10:00:01Z two"
    assert lines[2] == b"2024-05-01T10:00:02.5Z thr2024-05-01T10:00:02.6Z ee"


async def test_tail_counts_records_from_the_end(log: Path) -> None:
    assert await read(log, tail_lines=1) == b"four\n"
    assert await read(log, tail_lines=2) == b"ee\nfour\n"
    assert await read(log, tail_lines=100) == b"one\ntwo\nthree\nfour\n"
    assert await read(log, tail_lines=0) == b""


async def test_tail_of_a_file_larger_than_a_block(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    lines = [f"2024-05-01T10:00:00Z stdout F line {i:06d}\n".encode() for i in range(20000)]
    path.write_bytes(b"".join(lines))
    assert await read(path, tail_lines=3) == b"line 019997\nline 019998\nline 019999\n"


async def test_since_seconds_and_since_time(log: Path) -> None:
    # now is T0 + 4: two seconds back is T0 + 2, so "thr"+"ee" (2.5, 2.6) and "four" remain.
    assert await read(log, since_seconds=2) == b"three\nfour\n"
    assert await read(log, since_time="2024-05-01T10:00:01Z") == b"two\nthree\nfour\n"


async def test_limit_bytes_cuts_the_output(log: Path) -> None:
    assert await read(log, limit_bytes=6) == b"one\ntw"
    assert await read(log, limit_bytes=4) == b"one\n"


async def test_a_last_line_without_newline_is_read(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(LOG + b"2024-05-01T10:00:04Z stdout F five")
    assert (await read(path)).endswith(b"four\nfive\n")


async def test_missing_file_reads_as_empty(tmp_path: Path) -> None:
    assert await read(tmp_path / "none.log") == b""


class Container:
    """Says 'running' until stopped, as the runtime's status would."""

    def __init__(self) -> None:
        self.alive = True

    async def running(self) -> bool:
        return self.alive


async def next_chunk(stream: object) -> bytes:
    return await asyncio.wait_for(stream.__anext__(), 10)  # type: ignore[attr-defined]


async def test_follow_reads_appends_and_ends_with_the_container(log: Path) -> None:
    container = Container()
    stream = read_log(
        log, LogOptions(follow=True, tail_lines=1), running=container.running, poll_interval=0.01
    )
    assert await next_chunk(stream) == b"four\n"
    with log.open("ab") as file:
        file.write(b"2024-05-01T10:00:05Z stdout F fi")  # half a line: not yet shown
        file.flush()
        pending = asyncio.ensure_future(next_chunk(stream))
        await asyncio.sleep(0.05)
        assert not pending.done()
        file.write(b"ve\n")
    assert await pending == b"five\n"
    with log.open("ab") as file:
        file.write(b"2024-05-01T10:00:06Z stderr F last words\n")
    container.alive = False  # it wrote, then ended: the reader drains the file and stops
    rest = [chunk async for chunk in stream]
    assert rest == [b"last words\n"]


def rotate(log: Path, first: bytes) -> None:
    """Rotate as a runtime does: rename the file away, start a new one at the same path."""
    os.rename(log, log.with_suffix(".log.20240501-100007"))
    log.write_bytes(first)


async def test_follow_survives_rotation(log: Path) -> None:
    container = Container()
    stream = read_log(log, LogOptions(follow=True), running=container.running, poll_interval=0.01)
    assert b"".join([await next_chunk(stream) for _ in range(5)]) == b"one\ntwo\nthree\nfour\n"
    with log.open("ab") as file:  # a last line, then the rotation, before the reader looks
        file.write(b"2024-05-01T10:00:06Z stdout F before rotation\n")
    rotate(log, b"2024-05-01T10:00:07Z stdout F after rotation\n")
    assert await next_chunk(stream) == b"before rotation\n"
    assert await next_chunk(stream) == b"after rotation\n"
    container.alive = False
    assert [chunk async for chunk in stream] == []


async def test_follow_reads_what_the_runtime_log_writer_writes(tmp_path: Path) -> None:
    """The runtime's writer and this reader agree on the format, partial lines and rotation."""
    path = tmp_path / "web-0.log"
    writer = LogWriter(path, max_bytes=200)  # rotates every few lines
    container = Container()
    stream = read_log(path, LogOptions(follow=True), running=container.running, poll_interval=0.01)
    try:
        for number in range(20):
            writer.write("stdout", f"line {number}\n".encode())
            assert await next_chunk(stream) == f"line {number}\n".encode()
        writer.write("stderr", b"no newline at the end")
        writer.end("stderr")
        assert await next_chunk(stream) == b"no newline at the end"
        assert writer.rotated_path.exists()
    finally:
        writer.close()
        container.alive = False
        assert [chunk async for chunk in stream] == []
