"""Starting and stopping one container of a pod, with the events the kubelet records.

Starting a container is upstream's ``startContainer`` in a few steps, each of which can leave
the container *waiting* with a reason the status shows:

- the crash-loop back-off: a container that failed before waits 10 s, 20 s, 40 s … (at most
  5 min) after each exit — ``CrashLoopBackOff`` and a ``BackOff`` event;
- the image (``pulling.py``): ``ErrImagePull``, then ``ImagePullBackOff``, if it cannot be
  had;
- the config (``containerconfig.py``): environment and ``$(VAR)`` expansion, the Services'
  variables, the resolver file and the mounts; a missing ConfigMap, Secret or key is
  ``CreateContainerConfigError``;
- create (``Created``), start (``Started``), then the postStart hook (``hooks.py``) — if it
  fails the container is killed (``FailedPostStartHook``) — and the probes.

Stopping runs the preStop hook, records ``Killing`` and asks the runtime to stop the
container with the grace period left.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from minikube_py.kubelet.backoff import go_duration
from minikube_py.kubelet.containerconfig import ContainerConfigs
from minikube_py.kubelet.environment import ConfigError
from minikube_py.kubelet.hooks import run_hook
from minikube_py.kubelet.portconflicts import explain_exit
from minikube_py.kubelet.pulling import image_key, pull_image
from minikube_py.kubelet.records import ContainerRecord
from minikube_py.runtime.protocol import ContainerError

Object = dict[str, Any]


class ContainerStarter(ContainerConfigs):
    """The container half of a pod worker (see ``podworker.PodWorker``)."""

    # -- exits and probes ------------------------------------------------------------------

    def collect_exits(self) -> None:
        """Fold the exits the watchers saw into the records."""
        for record in self.records:
            if record.exit_status is not None:
                status, record.exit_status = record.exit_status, None
                self._stop_prober(record)
                record.ended_run(status, self.ctx.clock.now())

    async def _watch(self, record: ContainerRecord, instance: str) -> None:
        with contextlib.suppress(ContainerError):
            status = await self.ctx.runtime.wait_container(instance)
            status = await explain_exit(self.ctx, self.pod, record, status, self.pod_ip)
            if record.current == instance and record.running:
                record.exit_status = status
                self.wake()

    def _on_probe(
        self, record: ContainerRecord, instance: str, kind: str, ok: bool, msg: str
    ) -> None:
        if record.current != instance or not record.running:
            return
        if kind == "readiness":
            record.readiness_ok = ok
        elif kind == "startup":
            record.startup_ok = ok
        if not ok and kind in ("liveness", "startup"):
            record.kill = (kind, msg)
        self.wake()

    async def _probe_event(self, record: ContainerRecord, reason: str, message: str) -> None:
        """Each failed probe attempt is an Event (``Unhealthy``), as upstream's prober records."""
        await self.event(reason, message, warning=True, record=record)

    async def handle_probe_verdicts(self) -> None:
        """Restart the containers whose liveness (or startup) probe failed."""
        for record in self.records:
            if record.kill is not None and record.running and record.current:
                kind, _ = record.kill
                record.kill = None
                message = f"Container {record.name} failed {kind} probe, will be restarted"
                await self.event("Killing", message, record=record)
                await self.kill(record, self._grace_of_spec())

    def _grace_of_spec(self) -> float:
        return float((self.pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30))

    def _start_prober(self, record: ContainerRecord, instance: str) -> None:
        factory = self.ctx.prober_factory
        if factory is None or self.pod_ip is None:
            return
        if not any(record.has_probe(kind) for kind in ("liveness", "readiness", "startup")):
            return
        runner = factory(
            self.ctx.runtime,
            self.pod,
            record.spec,
            instance,
            self.pod_ip,
            clock=self.ctx.clock,
            on_result=lambda kind, ok, msg: self._on_probe(record, instance, kind, ok, msg),
            on_event=lambda reason, message: self._probe_event(record, reason, message),
        )
        record.prober = asyncio.ensure_future(runner.run())

    def _stop_prober(self, record: ContainerRecord) -> None:
        if record.prober is not None:
            record.prober.cancel()
            record.prober = None

    def cancel_tasks(self) -> None:
        for record in self.records:
            self._stop_prober(record)
            if record.watcher is not None:
                record.watcher.cancel()
                record.watcher = None

    # -- starting -------------------------------------------------------------------------

    async def start(self, record: ContainerRecord) -> float | None:
        """Start ``record``'s next instance; if it must wait, the clock time it may retry at
        (absolute, so time passing while this pass awaits the API does not push it back)."""
        meta = self.pod["metadata"]
        now = self.ctx.clock.now()
        if record.ended and record.exited_at is not None:
            key = f"{self.uid}/{record.name}"
            remaining = self.ctx.crash_backoff.remaining_since(key, record.exited_at)
            if remaining > 0:
                delay = go_duration(self.ctx.crash_backoff.delay(key))
                record.waiting = (
                    "CrashLoopBackOff",
                    f"back-off {delay} restarting failed container={record.name} "
                    f"pod={self.pod_ref}",
                )
                message = (
                    f"Back-off restarting failed container {record.name} in pod "
                    f"{meta['name']}_{meta.get('namespace')}({self.uid})"
                )
                await self.event("BackOff", message, warning=True, record=record)
                return now + remaining
            self.ctx.crash_backoff.next(key, record.exited_at)
        image_id = await pull_image(self.ctx, self.uid, record, self.event)
        if image_id is None:
            return now + max(
                self.ctx.image_backoff.remaining_since_update(image_key(self.uid, record)),
                self.ctx.image_backoff.initial if record.waiting else 0.0,
            )
        try:
            config = await self._config(record)
            instance = await self.ctx.runtime.create_container(self.sandbox or "", config)
        except ConfigError as error:
            return await self._cannot_run(record, "CreateContainerConfigError", str(error))
        except ContainerError as error:
            return await self._cannot_run(record, error.reason, error.message)
        await self.event("Created", f"Created container: {record.name}", record=record)
        try:
            await self.ctx.runtime.start_container(instance)
        except ContainerError as error:
            return await self._cannot_run(record, "RunContainerError", error.message)
        await self.event("Started", f"Started container {record.name}", record=record)
        older, record.previous, record.current = record.previous, record.current, instance
        if older is not None:
            with contextlib.suppress(ContainerError):
                await self.ctx.runtime.remove_container(older)
        status = await self.ctx.runtime.container_status(instance)
        record.running, record.waiting, record.runs = True, None, record.runs + 1
        record.changed = False
        record.started_at = status.started_at or self.ctx.clock.now()
        record.image_id = status.image_id or image_id
        record.image = status.image or record.image
        record.watcher = asyncio.ensure_future(self._watch(record, instance))
        if await self._post_start(record, instance):
            self._start_prober(record, instance)
        return None

    async def _cannot_run(self, record: ContainerRecord, reason: str, message: str) -> float:
        record.waiting = (reason, message)
        retry_at = self.ctx.clock.now() + self.ctx.crash_backoff.initial
        await self.event("Failed", f"Error: {message}", warning=True, record=record)
        return retry_at

    # -- hooks and stopping ---------------------------------------------------------------

    async def _post_start(self, record: ContainerRecord, instance: str) -> bool:
        hook = ((record.spec.get("lifecycle") or {}).get("postStart")) or None
        if not hook:
            return True
        failure = await run_hook(
            self.ctx.runtime, record, instance, hook, self._grace_of_spec(), self.pod_ref
        )
        if failure is None:
            return True
        await self.event("FailedPostStartHook", failure, warning=True, record=record)
        await self.event("Killing", "FailedPostStartHook", record=record)
        await self.kill(record, self._grace_of_spec())
        self.wake()  # the next pass restarts it, as restartPolicy says
        return False

    async def stop(self, record: ContainerRecord, grace: float) -> None:
        """Stop a running container for good: preStop hook, ``Killing``, stop."""
        assert record.current is not None
        hook = ((record.spec.get("lifecycle") or {}).get("preStop")) or None
        if hook:
            began = self.ctx.clock.now()
            failure = await run_hook(
                self.ctx.runtime, record, record.current, hook, max(grace, 0.001), self.pod_ref
            )
            if failure is not None:
                await self.event("FailedPreStopHook", failure, warning=True, record=record)
            grace -= self.ctx.clock.now() - began  # the hook's time counts against the grace
        await self.event("Killing", f"Stopping container {record.name}", record=record)
        await self.kill(record, grace)

    async def kill(self, record: ContainerRecord, grace: float) -> None:
        instance = record.current
        if instance is None:
            return
        # upstream never kills with less than two seconds' grace (minimumGracePeriodInSeconds)
        await self.ctx.runtime.stop_container(instance, max(grace, 2.0))
        status = await self.ctx.runtime.container_status(instance)
        if record.current == instance and record.running:
            if record.watcher is not None:
                record.watcher.cancel()
                record.watcher = None
            self._stop_prober(record)
            record.exit_status = None
            record.ended_run(status, self.ctx.clock.now())
