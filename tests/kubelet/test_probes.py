"""Probe workers: timing, thresholds and startup gating on a fake clock, with exec probes
answered by a scripted runtime."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any, cast

import pytest

from minikube_py.kubelet.probes import ContainerProbes, prober_factory
from minikube_py.runtime.protocol import ContainerRuntime
from tests.kubelet.probe_helpers import FakeClock, ScriptedRuntime

POD: dict[str, Any] = {"metadata": {"name": "web", "namespace": "default"}, "spec": {}}


class Recorder:
    def __init__(self) -> None:
        self.results: list[tuple[str, bool, str]] = []
        self.events: list[tuple[str, str]] = []

    def on_result(self, kind: str, success: bool, message: str) -> None:
        self.results.append((kind, success, message))

    async def on_event(self, reason: str, message: str) -> None:
        self.events.append((reason, message))


def exec_probe(command: list[str], **timing: int) -> dict[str, Any]:
    return {"exec": {"command": command}, **timing}


class Health:
    """A container whose health checks pass while ``healthy`` is true."""

    def __init__(self) -> None:
        self.healthy: dict[str, bool] = {}

    def __call__(self, command: Sequence[str]) -> tuple[int, bytes]:
        ok = self.healthy.get(command[-1], True)
        return (0, b"ok\n") if ok else (1, f"cat: {command[-1]}: No such file\n".encode())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def launch(
    clock: FakeClock, runtime: ScriptedRuntime, container: dict[str, Any], recorder: Recorder
) -> ContainerProbes:
    probes = ContainerProbes(
        cast(ContainerRuntime, runtime),
        POD,
        container,
        "c1",
        "127.244.0.2",
        recorder.on_result,
        on_event=recorder.on_event,
        clock=clock,
        sleep=clock.sleep,
    )
    probes.start()
    return probes


async def test_liveness_fails_after_failure_threshold(clock: FakeClock) -> None:
    health, recorder = Health(), Recorder()
    health.healthy["/tmp/healthy"] = False
    runtime = ScriptedRuntime(health)
    spec = exec_probe(["cat", "/tmp/healthy"], initialDelaySeconds=5, periodSeconds=5)
    probes = launch(clock, runtime, {"name": "app", "livenessProbe": spec}, recorder)
    try:
        await clock.advance(4.9)
        assert runtime.commands == []  # initialDelaySeconds not over yet
        await clock.advance(0.1)
        assert len(runtime.commands) == 1 and probes.live  # one failure is below threshold
        await clock.advance(10)
        assert len(runtime.commands) == 3
        message = "cat: /tmp/healthy: No such file\n"
        event = f"Liveness probe failed: {message}"
        assert recorder.results == [("liveness", False, event)]
        assert recorder.events == [("Unhealthy", event)] * 3
        assert not probes.live
        await clock.advance(60)
        assert len(runtime.commands) == 3  # on hold until the container is restarted
    finally:
        await probes.stop()


async def test_readiness_follows_success_and_failure_thresholds(clock: FakeClock) -> None:
    health, recorder = Health(), Recorder()
    runtime = ScriptedRuntime(health)
    spec = exec_probe(["check", "/ready"], successThreshold=2, failureThreshold=2)
    probes = launch(clock, runtime, {"name": "app", "readinessProbe": spec}, recorder)
    try:
        assert not probes.ready and probes.started  # readiness starts out false
        await clock.advance(0)
        assert not probes.ready  # one success of two
        await clock.advance(10)
        assert probes.ready and recorder.results == [("readiness", True, "ok\n")]
        health.healthy["/ready"] = False
        await clock.advance(10)
        assert probes.ready  # one failure of two
        await clock.advance(10)
        assert not probes.ready and recorder.results[-1][:2] == ("readiness", False)
        health.healthy["/ready"] = True
        await clock.advance(20)
        assert probes.ready  # readiness keeps probing for the container's whole life
    finally:
        await probes.stop()


async def test_no_readiness_probe_means_ready_once_started(clock: FakeClock) -> None:
    probes = launch(clock, ScriptedRuntime(Health()), {"name": "app"}, Recorder())
    assert probes.started and probes.ready
    await probes.stop()


async def test_startup_probe_gates_liveness_and_readiness(clock: FakeClock) -> None:
    health, recorder = Health(), Recorder()
    health.healthy["/started"] = False
    runtime = ScriptedRuntime(health)
    container = {
        "name": "app",
        "startupProbe": exec_probe(["check", "/started"], periodSeconds=1, failureThreshold=30),
        "livenessProbe": exec_probe(["check", "/live"]),
        "readinessProbe": exec_probe(["check", "/ready"]),
    }
    probes = launch(clock, runtime, container, recorder)
    try:
        await clock.advance(25)
        assert {command[-1] for command in runtime.commands} == {"/started"}
        assert not probes.started and not probes.ready
        health.healthy["/started"] = True
        await clock.advance(1)
        assert probes.started and ("startup", True, "ok\n") in recorder.results
        startup_attempts = len(runtime.commands)
        await clock.advance(10)
        probed = [command[-1] for command in runtime.commands[startup_attempts:]]
        assert sorted(probed) == ["/live", "/ready"]  # startup itself stops probing
        assert probes.ready
    finally:
        await probes.stop()


async def test_startup_failure_is_reported_for_a_restart(clock: FakeClock) -> None:
    health, recorder = Health(), Recorder()
    health.healthy["/started"] = False
    runtime = ScriptedRuntime(health)
    spec = exec_probe(["check", "/started"], periodSeconds=2, failureThreshold=3)
    probes = launch(clock, runtime, {"name": "app", "startupProbe": spec}, recorder)
    try:
        await clock.advance(3.9)
        assert recorder.results == []
        await clock.advance(0.1)
        assert [r[:2] for r in recorder.results] == [("startup", False)]
        assert not probes.live and not probes.started
        assert recorder.events[0][1].startswith("Startup probe failed: cat: /started")
    finally:
        await probes.stop()


async def test_exec_probe_timeout_is_a_failure(clock: FakeClock) -> None:
    recorder = Recorder()
    runtime = ScriptedRuntime(Health())
    runtime.hang = True
    spec = exec_probe(["sleep", "10"], timeoutSeconds=1, failureThreshold=1)
    probes = launch(clock, runtime, {"name": "app", "livenessProbe": spec}, recorder)
    try:
        for _ in range(300):  # the timeout is real time: wait for the result, at most 3 s
            if recorder.results:
                break
            await clock.advance(0.01)
            await asyncio.sleep(0.01)
        message = 'Liveness probe failed: command "sleep 10" timed out'
        assert recorder.results == [("liveness", False, message)]
    finally:
        await probes.stop()


async def test_probe_command_expands_literal_env(clock: FakeClock) -> None:
    runtime = ScriptedRuntime(Health())
    container = {
        "name": "app",
        "env": [{"name": "FILE", "value": "/tmp/x"}, {"name": "REF", "valueFrom": {}}],
        "livenessProbe": exec_probe(["cat", "$(FILE)", "$(REF)", "$$(FILE)"]),
    }
    probes = launch(clock, runtime, container, Recorder())
    try:
        await clock.advance(0)
        assert runtime.commands == [["cat", "/tmp/x", "$(REF)", "$(FILE)"]]
    finally:
        await probes.stop()


class KubeletClock:
    """The pod worker's clock shape: ``now()`` and ``sleep()``."""

    def __init__(self, clock: FakeClock) -> None:
        self.now = clock
        self.sleep = clock.sleep


async def test_prober_factory_runs_until_cancelled(clock: FakeClock) -> None:
    health, recorder = Health(), Recorder()
    health.healthy["/live"] = False
    runtime = ScriptedRuntime(health)
    spec = exec_probe(["check", "/live"], periodSeconds=1, failureThreshold=2)
    runner = prober_factory(
        cast(ContainerRuntime, runtime),
        POD,
        {"name": "app", "livenessProbe": spec},
        "c1",
        "127.244.0.2",
        clock=KubeletClock(clock),
        on_result=recorder.on_result,
    )
    await clock.advance(5)
    assert runtime.commands == []  # nothing runs before run()
    task = asyncio.ensure_future(runner.run())
    await clock.advance(1)
    assert [r[:2] for r in recorder.results] == [("liveness", False)]
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert all(t.done() for t in runner.probes._tasks) and not runner.probes._tasks
