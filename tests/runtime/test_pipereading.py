"""A container's output pipes: read whole, closed once, other threads' files left alone."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import uvloop

from minikube_py.runtime.pipereading import PipeReadTransport
from minikube_py.runtime.spawning import spawn_piped

LOOPS: dict[str, Callable[[Coroutine[Any, Any, None]], None]] = {
    "uvloop": uvloop.run,
    "asyncio": asyncio.run,
}


@pytest.mark.parametrize("run", LOOPS.values(), ids=LOOPS.keys())
def test_other_threads_files_survive_many_pipes_closing(
    run: Callable[[Coroutine[Any, Any, None]], None],
) -> None:
    """Threads that open and use files while containers' pipes close never lose one: the
    pipes are closed once (uvloop's own pipe transport closed each number twice, and 300
    starts gave the other threads EBADF, or crashed the interpreter)."""
    lost: list[OSError] = []
    stop = threading.Event()

    def use_files() -> None:
        while not stop.is_set():
            descriptor = os.open(os.devnull, os.O_RDONLY)
            try:
                os.fstat(descriptor)
                os.close(descriptor)
            except OSError as error:
                lost.append(error)

    async def start_many() -> None:
        for _ in range(300):
            leader = await spawn_piped(["/bin/echo", "hi"], cwd=Path("/"), env={})
            assert leader is not None and leader.process.stdout is not None
            assert await leader.process.stdout.read() == b"hi\n"
            assert await leader.exited == 0
            leader.transport.close()
            leader.transport.close()  # a second close is harmless

    threads = [threading.Thread(target=use_files) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        run(start_many())
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert lost == []


async def test_reads_everything_pausing_when_the_reader_is_full() -> None:
    """8 MiB through a reader whose buffer holds 64 KiB, consumed 4 KiB at a time: reading
    pauses and resumes, and all of it arrives in order; at the end the descriptor is closed."""
    read_end, write_end = os.pipe()
    payload = os.urandom(8 * 2**20)
    reader = asyncio.StreamReader(limit=2**16)
    transport = PipeReadTransport(asyncio.get_running_loop(), read_end, reader)

    def write_all() -> None:
        with open(write_end, "wb") as pipe:
            pipe.write(payload)

    writer = threading.Thread(target=write_all)
    writer.start()
    paused = False
    received = bytearray()
    while chunk := await reader.read(4096):
        received += chunk
        paused = paused or not transport.is_reading()
        await asyncio.sleep(0)  # the loop reads more meanwhile: the buffer outgrows its limit
    writer.join()
    assert bytes(received) == payload
    assert paused
    assert transport.is_closing()
    with pytest.raises(OSError):
        os.fstat(read_end)  # closed at the end of the stream
    transport.close()  # and closing again touches nothing
