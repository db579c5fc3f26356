"""Leader election on a Lease: one leader at a time, take-over after expiry, stepping down."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from minikube_py.api.stamps import micro_time
from minikube_py.client import EVENTS, LEASES, Client, Object
from minikube_py.client.events import EventRecorder
from minikube_py.controllers import LeaderElector
from tests.controllers.stepping import SteppingClock, eventually


class Work:
    """The leader's work: runs until cancelled, and says when it started and stopped."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()

    async def __call__(self) -> None:
        self.started.set()
        try:
            await asyncio.Event().wait()
        finally:
            self.stopped.set()


def elector(client: Client, clock: SteppingClock, identity: str, **kwargs: Any) -> LeaderElector:
    return LeaderElector(
        client, "kube-controller-manager", identity=identity, clock=clock, **kwargs
    )


async def lease(client: Client) -> Object:
    return await client.get(LEASES, "kube-system", "kube-controller-manager")


def seconds(micro: str) -> float:
    moment = datetime.datetime.strptime(micro, "%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.replace(tzinfo=datetime.UTC).timestamp()


def test_micro_time() -> None:
    assert micro_time(1767323045.123456) == "2026-01-02T03:04:05.123456Z"


async def test_only_one_leads_and_the_other_takes_over_an_expired_lease(
    client: Client, clock: SteppingClock
) -> None:
    work_a, work_b = Work(), Work()
    a, b = elector(client, clock, "a"), elector(client, clock, "b")
    task_a = asyncio.ensure_future(a.run(work_a))
    await eventually(work_a.started.is_set, "a leading")
    task_b = asyncio.ensure_future(b.run(work_b))
    try:
        await clock.settle(2)
        spec = (await lease(client))["spec"]
        assert spec["holderIdentity"] == "a"
        assert spec["leaseDurationSeconds"] == 15
        assert spec["leaseTransitions"] == 0
        assert spec["acquireTime"] == spec["renewTime"] == micro_time(clock.now())

        await clock.step(40, sleepers=2)
        assert a.is_leader and not b.is_leader and not work_b.started.is_set()
        spec = (await lease(client))["spec"]
        assert spec["holderIdentity"] == "a"
        assert clock.now() - seconds(spec["renewTime"]) <= 2  # renewed every retry period
        assert seconds(spec["acquireTime"]) == clock.now() - 40  # kept across renewals

        task_a.cancel()  # a stops renewing, without releasing the Lease
        await asyncio.gather(task_a, return_exceptions=True)
        assert work_a.stopped.is_set()
        last_renewal = seconds((await lease(client))["spec"]["renewTime"])
        while not work_b.started.is_set():
            assert clock.now() < last_renewal + 15 + 4, "b did not take over"
            await clock.step(0.5, sleepers=1)
        # b waits until the Lease stood still for its duration, by b's own clock
        assert clock.now() >= last_renewal + 15
        spec = (await lease(client))["spec"]
        assert spec["holderIdentity"] == "b"
        assert spec["leaseTransitions"] == 1
        assert spec["acquireTime"] == spec["renewTime"] == micro_time(clock.now())
    finally:
        for task in (task_a, task_b):
            task.cancel()
        await asyncio.gather(task_a, task_b, return_exceptions=True)


async def test_racing_candidates_elect_one(client: Client, clock: SteppingClock) -> None:
    works = [Work() for _ in range(3)]
    electors = [elector(client, clock, f"candidate-{n}") for n in range(3)]
    tasks = [asyncio.ensure_future(e.run(w)) for e, w in zip(electors, works, strict=True)]
    try:
        await eventually(lambda: any(w.started.is_set() for w in works), "a leader")
        await clock.settle(3)
        await clock.step(30, sleepers=3)
        leaders = [e.identity for e, w in zip(electors, works, strict=True) if w.started.is_set()]
        assert len(leaders) == 1
        assert (await lease(client))["spec"]["holderIdentity"] == leaders[0]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_leader_that_cannot_renew_stops_within_the_renew_deadline(
    client: Client, clock: SteppingClock
) -> None:
    work = Work()
    recorder = EventRecorder(client, "kube-controller-manager")
    a = elector(client, clock, "a", recorder=recorder)
    task = asyncio.ensure_future(a.run(work))
    await eventually(work.started.is_set, "a leading")
    await clock.settle(1)
    taken = await lease(client)  # someone else writes the Lease: a's renewals now fail
    taken["spec"].update(holderIdentity="intruder", renewTime=micro_time(clock.now()))
    await client.update(LEASES, "kube-system", taken)
    stolen_at = clock.now()
    while not task.done():
        assert clock.now() < stolen_at + 13, "a kept leading past its renew deadline"
        clock.advance(0.5)
        await eventually(lambda: clock.sleeping == 1 or task.done(), "a renewing or done")
    await task  # returns: leadership lost
    assert work.stopped.is_set() and not a.is_leader
    assert clock.now() >= stolen_at + 10  # it kept trying for the whole deadline
    assert (await lease(client))["spec"]["holderIdentity"] == "intruder"
    events = (await client.list(EVENTS, "kube-system"))["items"]
    assert sorted(e["message"] for e in events if e["reason"] == "LeaderElection") == [
        "a became leader",
        "a stopped leading",
    ]
    assert {e["involvedObject"]["kind"] for e in events} == {"Lease"}


async def test_release_on_cancel_lets_a_successor_take_over_at_once(
    client: Client, clock: SteppingClock
) -> None:
    work_a, work_b = Work(), Work()
    a = elector(client, clock, "a", release_on_cancel=True)
    b = elector(client, clock, "b")
    task_a = asyncio.ensure_future(a.run(work_a))
    await eventually(work_a.started.is_set, "a leading")
    task_b = asyncio.ensure_future(b.run(work_b))
    try:
        await clock.settle(2)
        task_a.cancel()
        await asyncio.gather(task_a, return_exceptions=True)
        assert (await lease(client))["spec"]["holderIdentity"] == ""
        await clock.step(2, sleepers=1)  # b's next try
        assert work_b.started.is_set()
        assert (await lease(client))["spec"]["leaseTransitions"] == 1
    finally:
        task_b.cancel()
        await asyncio.gather(task_b, return_exceptions=True)


async def test_work_that_fails_ends_the_term_with_its_error(
    client: Client, clock: SteppingClock
) -> None:
    async def failing() -> None:
        raise RuntimeError("controllers crashed")

    a = elector(client, clock, "a")
    try:
        async with asyncio.timeout(10):
            await a.run(failing)
    except RuntimeError as error:
        assert str(error) == "controllers crashed"
    else:
        raise AssertionError("the work's error was swallowed")
    assert not a.is_leader
