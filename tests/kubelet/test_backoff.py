"""The kubelet's back-off (client-go's flowcontrol.Backoff) and its fake clock."""

from __future__ import annotations

import asyncio

import pytest

from minikube_py.clock import FakeClock
from minikube_py.kubelet.backoff import Backoff, go_duration


def test_delay_doubles_to_the_cap_and_resets_after_the_window() -> None:
    clock = FakeClock()
    backoff = Backoff(clock, initial=10, maximum=300, reset=600)
    delays = []
    for _ in range(8):
        delays.append(backoff.next("pod/web", clock.now()))
        clock.advance(delays[-1])
    assert delays == [10, 20, 40, 80, 160, 300, 300, 300]
    clock.advance(601)  # ten quiet minutes: the next failure starts over
    assert backoff.next("pod/web", clock.now()) == 10


def test_in_backoff_counts_from_the_failure() -> None:
    clock = FakeClock()
    backoff = Backoff(clock, initial=10, maximum=300, reset=600)
    assert backoff.remaining_since("k", clock.now()) == 0  # nothing failed yet
    exited = clock.now()
    backoff.next("k", exited)
    clock.advance(4)
    assert backoff.remaining_since("k", exited) == 6
    assert backoff.remaining_since_update("k") == 6
    clock.advance(6)
    assert backoff.remaining_since("k", exited) == 0
    backoff.forget("k")
    assert backoff.delay("k") == 0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.0004, "0s"),
        (0.001, "1ms"),
        (0.25, "250ms"),
        (1.5, "1.5s"),
        (10, "10s"),
        (80, "1m20s"),
        (300, "5m0s"),
        (3725.25, "1h2m5.25s"),
    ],
)
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


async def test_fake_clock_wakes_sleepers_when_due() -> None:
    clock = FakeClock()
    woke: list[int] = []

    async def sleeper(seconds: int) -> None:
        await clock.sleep(seconds)
        woke.append(seconds)

    tasks = [asyncio.ensure_future(sleeper(s)) for s in (5, 1, 3)]
    await asyncio.sleep(0)
    clock.advance(2)
    await asyncio.sleep(0)
    assert woke == [1]
    clock.advance(3)
    await asyncio.gather(*tasks)
    assert woke == [1, 3, 5]
