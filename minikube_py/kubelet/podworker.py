"""The pod worker: one per pod, it makes the node's containers match the pod's spec.

Upstream's kubelet gives every pod its own goroutine (``podWorkers``) that runs ``syncPod``
whenever something about the pod changes. This is that loop, level-triggered: each pass looks
at the pod object and at what it knows of the pod's containers, does the next thing that is
due, writes the status if it changed, and then sleeps until something new happens — the pod
object changed, a container exited, a probe reported — or a timer it asked for runs out (a
back-off, ``activeDeadlineSeconds``). A pass, in order:

1. deleting (``deletionTimestamp`` set, or the object gone): run preStop hooks, stop every
   container with the pod's grace period, write the final status, tear the sandbox down and
   delete the object for good (grace 0), as the kubelet does;
2. the sandbox (``sandboxes.py``): the pod's address, directory, volumes and host ports;
3. init containers one at a time, each until it exits 0; a failed one is restarted (with
   back-off) unless ``restartPolicy`` is Never, which fails the pod. A *sidecar* (an init
   container with ``restartPolicy: Always``) only has to start, then runs beside the app and
   is always restarted;
4. then every app container; one that exits is restarted as ``restartPolicy`` says, after the
   crash-loop back-off once it has failed before (``starting.py`` does the starting); one
   whose image was changed in the spec is restarted with the new image;
5. when nothing runs and nothing will restart, the pod is Succeeded or Failed for good.

The worker is built in layers, each a module: the containers' configuration
(``containerconfig.py``), starting them (``starting.py``), the sandbox (``sandboxes.py``), the
status it writes after each pass (``podstatus.py``), and this loop on top.
"""

from __future__ import annotations

import asyncio
from typing import Any

from minikube_py.client.protocol import PODS, ApiError
from minikube_py.kubelet.context import NodeContext
from minikube_py.kubelet.eviction import exceeded, size_limits
from minikube_py.kubelet.podstatus import StatusReporter
from minikube_py.kubelet.records import ContainerRecord
from minikube_py.logs import get_logger
from minikube_py.runtime.protocol import ContainerError

Object = dict[str, Any]
_log = get_logger("kubelet")
RETRY = 1.0  # seconds before a pass that failed (an API error) is tried again
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


def _beyond_status(pod: Object) -> tuple[Any, Any]:
    """The parts of a pod a worker acts on: the spec, and the metadata but for the fields
    every write changes."""
    meta = {
        key: value
        for key, value in (pod.get("metadata") or {}).items()
        if key not in ("resourceVersion", "managedFields")
    }
    return pod.get("spec"), meta


class PodWorker(StatusReporter):
    """Keeps one pod's containers as its spec says; ``run`` until the pod is gone."""

    def __init__(
        self, ctx: NodeContext, pod: Object, *, rejected: tuple[str, str] | None = None
    ) -> None:
        spec = pod.get("spec") or {}
        super().__init__(
            ctx,
            pod,
            [ContainerRecord(c, True) for c in spec.get("initContainers") or []],
            [ContainerRecord(c, False) for c in spec.get("containers") or []],
            rejected=rejected,
        )
        self.finished = False
        self.measured: float | None = None  # when its limited emptyDirs were last measured

    # -- what the kubelet calls --------------------------------------------------------------

    def update(self, pod: Object) -> None:
        old, self.pod = self.pod, pod
        # A change of the status alone (most often the one this worker just wrote) needs no
        # pass: as upstream's pod config, only spec and metadata changes are news.
        if _beyond_status(old) != _beyond_status(pod):
            self.wake()

    def removed(self, pod: Object) -> None:
        self.pod = pod
        self.gone = True
        self.wake()

    def container_id(self, name: str, previous: bool = False) -> str | None:
        for record in self.records:
            if record.name == name:
                return record.previous if previous else record.current
        return None

    async def run(self) -> None:
        try:
            while not self.finished:
                self._wake.clear()
                try:
                    wake_at = await self.sync()
                except (ApiError, ContainerError, OSError) as error:
                    _log.warning("pod sync failed", pod=self.key, error=str(error))
                    wake_at = self.ctx.clock.now() + RETRY
                except Exception:  # a bug must not leave the pod unmanaged: log, retry
                    _log.exception("pod sync crashed", pod=self.key)
                    wake_at = self.ctx.clock.now() + RETRY
                if self.finished:
                    break
                await self._sleep(wake_at)
        finally:
            self.cancel_tasks()

    async def _sleep(self, wake_at: float | None) -> None:
        """Until woken, or until the clock reads ``wake_at``."""
        if self._wake.is_set():
            return
        if wake_at is None:
            await self._wake.wait()
            return
        delay = wake_at - self.ctx.clock.now()
        if delay <= 0:
            return
        waiter = asyncio.ensure_future(self._wake.wait())
        # Until the moment, not for the delay: the sleeper starts a little later, and a test's
        # clock may have moved by then.
        sleeper = asyncio.ensure_future(self.ctx.clock.sleep_until(wake_at))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            sleeper.cancel()

    # -- one pass ----------------------------------------------------------------------------

    async def sync(self) -> float | None:
        """Do what is due; the clock time the next pass must happen anyway (or None)."""
        if self.gone or (self.pod.get("metadata") or {}).get("deletionTimestamp"):
            await self._terminate()
            return None
        self.collect_exits()
        if self.terminal:
            await self.write_status()
            return None
        now = self.ctx.clock.now()
        if self.start_time is None:
            self.start_time = now
        if self.sandbox is None and not await self._create_sandbox():
            return now + self.ctx.crash_backoff.initial
        deadline = self._deadline()
        if deadline is not None and deadline <= now:
            await self._end("DeadlineExceeded", DEADLINE_MESSAGE)
            return None
        measure_at = self._measure_at(now)
        if measure_at is not None and measure_at <= now:
            self.measured = now
            message = await exceeded(self.pod, self.volumes)
            if message is not None:
                await self._end("Evicted", message)
                return None
        await self.handle_probe_verdicts()
        await self._apply_spec_changes()
        wake_at = [t for t in await self._start_due() if t is not None]
        if self._status()["phase"] in ("Succeeded", "Failed"):
            # Ended for good: tear the sandbox down first, so one write reports both.
            self.terminal = True
            await self._stop_all(self._grace())  # sidecars outlive the app; not the pod
            await self._teardown(keep_logs=True)
            await self.write_status()
            return None
        await self.write_status()
        wake_at += [t for t in (deadline, self._measure_at(now)) if t is not None]
        return min(wake_at) if wake_at else None

    async def _start_due(self) -> list[float | None]:
        """Start (or restart) the containers that should run now."""
        due: list[float | None] = []
        for record in self.init:
            if record.sidecar:
                if not record.running:
                    due.append(await self.start(record))
                if not record.started(self.ctx.prober_factory is not None):
                    return due  # the next init container waits until this sidecar started
                continue
            if record.succeeded:
                continue
            if record.running or (record.ended and not self.should_restart(record)):
                return due
            return [*due, await self.start(record)]
        for record in self.app:
            if not record.running and (not record.ended or self.should_restart(record)):
                due.append(await self.start(record))
        return due

    def should_restart(self, record: ContainerRecord) -> bool:
        if record.changed or record.sidecar:
            return True
        policy = (self.pod.get("spec") or {}).get("restartPolicy", "Always")
        if record.init:
            return policy != "Never" and not record.succeeded
        return policy == "Always" or (policy == "OnFailure" and not record.succeeded)

    async def _apply_spec_changes(self) -> None:
        """A container whose image changed (the one mutable part) is restarted with it."""
        spec = self.pod.get("spec") or {}
        new = {
            c.get("name"): c
            for key in ("initContainers", "containers")
            for c in spec.get(key) or []
        }
        for record in self.records:
            changed = new.get(record.name)
            if changed is None or changed.get("image") == record.spec.get("image"):
                continue
            record.spec, record.image, record.changed = changed, "", True
            if record.running:
                message = f"Container {record.name} definition changed, will be restarted"
                await self.event("Killing", message, record=record)
                await self.kill(record, self._grace())

    def _deadline(self) -> float | None:
        """When ``activeDeadlineSeconds`` runs out (counted from the pod's start time)."""
        seconds = (self.pod.get("spec") or {}).get("activeDeadlineSeconds")
        if not isinstance(seconds, int) or self.start_time is None:
            return None
        return self.start_time + seconds

    def _measure_at(self, now: float) -> float | None:
        """When the pod's limited emptyDirs are next measured (``eviction.py``); None: it has
        none."""
        if not size_limits(self.pod):
            return None
        if self.measured is None:
            self.measured = now
        return self.measured + self.ctx.eviction_period

    async def _end(self, reason: str, message: str) -> None:
        """Stop every container and end the pod ``Failed`` for ``reason``: its deadline ran
        out (``DeadlineExceeded``) or the kubelet evicts it (``Evicted``)."""
        await self.event(reason, message, warning=True)
        await self._stop_all(self._grace())
        self.override = ("Failed", reason, message)
        self.terminal = True
        await self._teardown(keep_logs=True)
        await self.write_status()

    # -- termination --------------------------------------------------------------------------

    def _grace(self) -> float:
        meta, spec = self.pod.get("metadata") or {}, self.pod.get("spec") or {}
        grace = meta.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds", 30)
        return float(grace)

    async def _stop_all(self, grace: float) -> None:
        running = [r for r in self.records if r.running and r.current]
        await asyncio.gather(*(self.stop(record, grace) for record in running))

    async def _terminate(self) -> None:
        """Stop everything, report it, then let the API server remove the pod."""
        self.collect_exits()
        await self._stop_all(self._grace())
        if not self.terminal and not self.gone:
            ended_ok = all(r.succeeded for r in self.app)
            # A pod stopped for deletion has ended: its phase says how (upstream 1.27+).
            phase = "Succeeded" if ended_ok else "Failed"
            status = (self.written or {}).get("phase")
            self.override = (status, "", "") if status in ("Succeeded", "Failed") else None
            self.override = self.override or (phase, "", "")
        await self._teardown()
        if not self.gone:
            await self.write_status()
            meta = self.pod["metadata"]
            try:
                await self.ctx.client.delete(
                    PODS,
                    meta.get("namespace"),
                    meta["name"],
                    grace_period_seconds=0,
                    preconditions={"uid": self.uid},
                )
            except ApiError as error:
                if error.code not in (404, 409):
                    raise
        self.ctx.crash_backoff.forget(self.uid)
        self.ctx.image_backoff.forget(self.uid)
        self.finished = True
