"""Probe workers: when a container's probes run, and when their results change.

For each running container the kubelet runs one worker per probe it declares (upstream:
``pkg/kubelet/prober/worker.go``). A worker waits ``initialDelaySeconds`` after the
container started, then probes every ``periodSeconds`` (``probing.py`` runs one attempt),
and changes the container's result only after ``failureThreshold`` failures or
``successThreshold`` successes in a row (defaults: period 10, timeout 1, success 1,
failure 3). What each result means:

- *startup*: until it succeeds, the container is not ``started`` and its liveness and
  readiness probes do not run; once it has, it stops probing. Failing it restarts the
  container, like liveness.
- *liveness*: starts out healthy; failing it means the kubelet must kill and restart the
  container (``Killing``: "Container web failed liveness probe, will be restarted").
- *readiness*: starts out not ready; it keeps probing for the container's whole life and the
  container is ``ready`` while it passes. Without a readiness probe a started container is
  ready.

After a liveness or startup failure the worker holds: the kubelet restarts the container and
starts new probers for the new instance. Every failed attempt is an ``Unhealthy`` event
(``Liveness probe failed: HTTP probe failed with statuscode: 500``), counted up by the event
recorder as upstream's ``(x9 over 87s)``.

The seam for the pod worker is ``prober_factory`` → a task to ``run()`` until cancelled; under
it, ``ContainerProbes(...).start()`` (``.started``, ``.ready``, ``await .stop()``).
Two callbacks: ``on_result(kind, success, message)`` when a result changes (on a failure the
message is the event's, ``Liveness probe failed: …``; a failed startup probe is reported
even though "not started" was already its value), and the optional ``on_event(reason,
message)`` for every failed attempt (``Unhealthy``, ``ProbeWarning``), as upstream records.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

from minikube_py.clock import Clock
from minikube_py.kubelet.probing import Result, run_probe
from minikube_py.logs import get_logger
from minikube_py.runtime.protocol import ContainerRuntime

Object = dict[str, Any]
KINDS = ("startup", "liveness", "readiness")
ResultCallback = Callable[[str, bool, str], "Awaitable[None] | None"]
EventCallback = Callable[[str, str], "Awaitable[None] | None"]

_log = get_logger("kubelet.probes")


async def _call(callback: Callable[..., Awaitable[None] | None] | None, *args: object) -> None:
    """Run a sync or async callback; its failure is logged, never the prober's end."""
    if callback is None:
        return
    try:
        outcome = callback(*args)
        if inspect.isawaitable(outcome):
            await outcome
    except Exception:
        _log.exception("probe callback failed")


class ContainerProbes:
    """The probe workers of one container instance (one container id)."""

    def __init__(
        self,
        runtime: ContainerRuntime,
        pod: Object,
        container: Object,
        container_id: str,
        pod_ip: str,
        on_result: ResultCallback,
        *,
        on_event: EventCallback | None = None,
        started_at: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.runtime = runtime
        self.pod = pod
        self.container = container
        self.container_id = container_id
        self.pod_ip = pod_ip
        self.on_result = on_result
        self.on_event = on_event
        self.clock = clock
        self.sleep = sleep
        self.started_at = clock() if started_at is None else started_at
        self.specs: dict[str, Object] = {
            kind: container[f"{kind}Probe"] for kind in KINDS if container.get(f"{kind}Probe")
        }
        # The results as the kubelet keeps them: liveness starts healthy, readiness not
        # ready, startup unknown (not started) — upstream's initial values.
        self.results: dict[str, bool] = {"liveness": True, "readiness": False, "startup": False}
        self._startup_failed = False
        self.attempts = 0  # probe attempts made, all kinds together (for tests and metrics)
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def started(self) -> bool:
        """The container's ``started``: its startup probe has succeeded, or it has none."""
        return "startup" not in self.specs or self.results["startup"]

    @property
    def ready(self) -> bool:
        """The container's ``ready``: started, and passing its readiness probe if it has one."""
        return self.started and ("readiness" not in self.specs or self.results["readiness"])

    @property
    def live(self) -> bool:
        """False once a liveness or startup failure calls for a restart."""
        return self.results["liveness"] and not self._startup_failed

    def start(self) -> ContainerProbes:
        for kind, spec in self.specs.items():
            name = f"probe-{kind}-{self.container.get('name')}"
            self._tasks.append(asyncio.create_task(self._work(kind, spec), name=name))
        return self

    async def stop(self) -> None:
        """Stop every worker (the container stopped or is being restarted)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _work(self, kind: str, spec: Object) -> None:
        period = max(1, int(spec.get("periodSeconds") or 10))
        success_threshold = max(1, int(spec.get("successThreshold") or 1))
        failure_threshold = max(1, int(spec.get("failureThreshold") or 3))
        delay = self.started_at + int(spec.get("initialDelaySeconds") or 0) - self.clock()
        if delay > 0:
            await self.sleep(delay)
        last: bool | None = None
        run = 0
        while True:
            if kind == "startup" or self.started:  # others wait for the startup probe
                outcome, output = await self._attempt(spec)
                self.attempts += 1
                await self._report(kind, outcome, output)
                if outcome != "unknown":  # an errored probe's result is thrown away
                    success = outcome != "failure"
                    run = run + 1 if success == last else 1
                    last = success
                    threshold = success_threshold if success else failure_threshold
                    if run >= threshold:
                        # A failed startup probe keeps its (initial) False, yet is news.
                        news = self.results[kind] != success or kind == "startup"
                        self.results[kind] = success
                        if news:
                            said = output if success else _event_message(kind, outcome, output)
                            await _call(self.on_result, kind, success, said)
                    if not success and run >= failure_threshold and kind != "readiness":
                        self._startup_failed = kind == "startup"
                        return  # on hold: the container is restarted with new probers
                    if kind == "startup" and self.results["startup"]:
                        return  # started: nothing more for the startup probe to do
            await self.sleep(period)

    async def _attempt(self, spec: Object) -> tuple[Result, str]:
        try:
            return await run_probe(
                self.runtime, spec, self.container, self.container_id, self.pod_ip
            )
        except Exception as error:  # a broken probe must not end the worker: try again later
            _log.exception("probe attempt failed", container=self.container.get("name"))
            return "unknown", str(error) or type(error).__name__

    async def _report(self, kind: str, outcome: Result, output: str) -> None:
        if outcome != "success":
            reason = "ProbeWarning" if outcome == "warning" else "Unhealthy"
            await _call(self.on_event, reason, _event_message(kind, outcome, output))


def _event_message(kind: str, outcome: Result, output: str) -> str:
    """The event message of an attempt, as the kubelet's prober words it."""
    title = kind.capitalize()
    if outcome == "warning":
        return f"{title} probe warning: {output}"
    if outcome == "unknown":
        return f"{title} probe errored and resulted in unknown state: {output}"
    return f"{title} probe failed: {output}"


class ProbeTask:
    """The probers of one container as a task: ``await run()`` until cancelled. This is the
    shape the pod worker's ``NodeContext.prober_factory`` asks for (see ``prober_factory``)."""

    def __init__(self, probes: ContainerProbes) -> None:
        self.probes = probes

    async def run(self) -> None:
        self.probes.start()
        try:
            await asyncio.Event().wait()  # the probe workers do the work; this waits to end
        finally:
            await asyncio.shield(self.probes.stop())


def prober_factory(
    runtime: ContainerRuntime,
    pod: Object,
    container: Object,
    container_id: str,
    pod_ip: str,
    *,
    clock: Clock,
    on_result: ResultCallback,
    on_event: EventCallback | None = None,
) -> ProbeTask:
    """``ContainerProbes`` in the shape of ``kubelet.context.ProberFactory``: nothing runs until
    the returned task's ``run()`` does, and cancelling it stops every worker."""
    probes = ContainerProbes(
        runtime,
        pod,
        container,
        container_id,
        pod_ip,
        on_result,
        on_event=on_event,
        clock=clock.now,
        sleep=clock.sleep,
    )
    return ProbeTask(probes)
