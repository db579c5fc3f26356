"""The work queue: de-duplication, one worker per key, delays, back-off and shut-down."""

from __future__ import annotations

import asyncio

import pytest

from minikube_py.controllers import ItemExponentialBackoff, QueueShutDown, WorkQueue
from tests.controllers.stepping import SteppingClock, eventually, turns


async def test_a_key_waiting_is_waiting_once() -> None:
    queue = WorkQueue()
    for key in ("ns/a", "ns/b", "ns/a", "ns/a"):
        queue.add(key)
    assert len(queue) == 2
    assert [await queue.get(), await queue.get()] == ["ns/a", "ns/b"]
    assert len(queue) == 0


async def test_a_key_added_while_processing_comes_back_after_done() -> None:
    queue = WorkQueue()
    queue.add("ns/a")
    assert await queue.get() == "ns/a"
    queue.add("ns/a")
    queue.add("ns/a")
    assert len(queue) == 0  # not handed to a second worker while the first holds it
    queue.done("ns/a")
    assert len(queue) == 1
    assert await queue.get() == "ns/a"
    queue.done("ns/a")
    assert len(queue) == 0  # processed again once, not once per add


async def test_a_waiting_get_receives_the_next_key() -> None:
    queue = WorkQueue()
    getter = asyncio.ensure_future(queue.get())
    await turns()
    assert not getter.done()
    queue.add("ns/a")
    assert await getter == "ns/a"


async def test_a_cancelled_getter_passes_its_key_on() -> None:
    queue = WorkQueue()
    first = asyncio.ensure_future(queue.get())
    second = asyncio.ensure_future(queue.get())
    await turns()
    queue.add("ns/a")  # wakes `first` ...
    first.cancel()  # ... which is cancelled before it runs
    async with asyncio.timeout(5):
        assert await second == "ns/a"


async def test_add_after_waits_on_the_clock_and_the_earliest_time_wins() -> None:
    clock = SteppingClock()
    queue = WorkQueue(clock=clock)
    queue.add_after("ns/a", 10)
    queue.add_after("ns/a", 5)
    queue.add_after("ns/a", 20)  # later than already planned: ignored
    await turns()
    clock.advance(4.9)
    await turns()
    assert len(queue) == 0
    clock.advance(0.1)
    await eventually(lambda: len(queue) == 1, "the key due at 5 s")
    assert await queue.get() == "ns/a"
    queue.done("ns/a")
    clock.advance(20)
    await turns()
    assert len(queue) == 0  # the superseded 10 s timer did not add it again


async def test_add_after_zero_adds_at_once() -> None:
    queue = WorkQueue(clock=SteppingClock())
    queue.add_after("ns/a", 0)
    assert len(queue) == 1


def test_backoff_doubles_from_5ms_up_to_1000s_and_forget_resets_it() -> None:
    limiter = ItemExponentialBackoff()
    delays = [limiter.when("ns/a") for _ in range(20)]
    assert delays[:4] == [0.005, 0.01, 0.02, 0.04]
    assert delays[17] == 655.36
    assert delays[18] == delays[19] == 1000.0
    assert limiter.requeues("ns/a") == 20
    assert limiter.when("ns/b") == 0.005  # per key
    limiter.forget("ns/a")
    assert limiter.requeues("ns/a") == 0
    assert limiter.when("ns/a") == 0.005
    for _ in range(100):
        limiter.when("ns/c")
    assert limiter.when("ns/c") == 1000.0


async def test_rate_limited_requeues_back_off_on_the_clock() -> None:
    clock = SteppingClock()
    queue = WorkQueue(clock=clock)
    queue.add_rate_limited("ns/a")  # 5 ms
    queue.add_rate_limited("ns/b")  # 5 ms: b's own count
    await turns()
    clock.advance(0.005)
    await eventually(lambda: len(queue) == 2, "both keys after 5 ms")
    key = await queue.get()
    queue.add_rate_limited(key)  # its second failure: 10 ms
    queue.done(key)
    assert queue.requeues(key) == 2
    await turns()
    clock.advance(0.009)
    await turns()
    assert len(queue) == 1
    clock.advance(0.001)
    await eventually(lambda: len(queue) == 2, "the key after 10 ms")
    queue.forget(key)
    assert queue.requeues(key) == 0


async def test_shut_down_drains_then_stops_getters() -> None:
    clock = SteppingClock()
    queue = WorkQueue(clock=clock)
    queue.add("ns/a")
    queue.add_after("ns/later", 1)
    queue.shut_down()
    queue.add("ns/b")  # ignored once shutting down
    assert await queue.get() == "ns/a"
    with pytest.raises(QueueShutDown):
        await queue.get()
    clock.advance(5)
    await turns()
    assert len(queue) == 0  # the delayed key was dropped with its timer


async def test_shut_down_wakes_a_waiting_getter() -> None:
    queue = WorkQueue()
    getter = asyncio.ensure_future(queue.get())
    await turns()
    queue.shut_down()
    with pytest.raises(QueueShutDown):
        await getter
