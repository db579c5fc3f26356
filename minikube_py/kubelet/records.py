"""What a pod worker remembers about each container of its pod, between syncs.

The runtime knows only container *instances* (one per attempt); the pod's status speaks of
*containers* by name, with a restart count, the current state and the state before
(``lastState``). A ``ContainerRecord`` bridges the two: the instance running now (if any),
the runs that ended (newest last), why the container is waiting when it is not running
(``CrashLoopBackOff``, ``ErrImagePull``, …), and what the probes said. ``view`` turns it into
the ``status.ContainerView`` the status is computed from.
"""

from __future__ import annotations

import asyncio
from typing import Any

import attrs

from minikube_py.kubelet.status import ContainerView, Terminated
from minikube_py.runtime.protocol import ContainerStatus

Object = dict[str, Any]


@attrs.define
class ContainerRecord:
    spec: Object
    init: bool
    current: str | None = None  # the runtime id of the newest instance (running or ended)
    previous: str | None = None  # the instance before it (``kubectl logs --previous``)
    running: bool = False
    started_at: float | None = None
    runs: int = 0  # instances started; restartCount is one less
    ended: list[Terminated] = attrs.field(factory=list)  # newest last; two are kept
    exited_at: float | None = None  # when the worker saw the newest run end (backoff's origin)
    waiting: tuple[str, str] | None = None  # (reason, message) while it cannot run
    image_id: str = ""
    image: str = ""
    readiness_ok: bool = False
    startup_ok: bool = False
    kill: tuple[str, str] | None = None  # (probe kind, message) once a probe asked for a kill
    changed: bool = False  # its spec changed (a new image): restart it whatever the policy
    exit_status: ContainerStatus | None = None  # set by the watcher, consumed by the sync
    watcher: asyncio.Task[None] | None = None
    prober: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    @property
    def sidecar(self) -> bool:
        """An init container that keeps running beside the app (``restartPolicy: Always``)."""
        return self.init and self.spec.get("restartPolicy") == "Always"

    @property
    def restart_count(self) -> int:
        return max(0, self.runs - 1)

    @property
    def last_exit_code(self) -> int | None:
        return self.ended[-1].exit_code if self.ended else None

    @property
    def succeeded(self) -> bool:
        return not self.running and self.last_exit_code == 0

    def has_probe(self, kind: str) -> bool:
        return bool(self.spec.get(f"{kind}Probe"))

    def ready(self, probes_active: bool) -> bool:
        if not self.running or not self.started(probes_active):
            return False
        return self.readiness_ok if probes_active and self.has_probe("readiness") else True

    def started(self, probes_active: bool) -> bool:
        if not self.running:
            return False
        return self.startup_ok if probes_active and self.has_probe("startup") else True

    def ended_run(self, status: ContainerStatus, exited_at: float) -> None:
        """Record that the current instance ended with ``status``."""
        reason = status.reason or ("Completed" if status.exit_code == 0 else "Error")
        self.ended = [
            *self.ended[-1:],
            Terminated(
                exit_code=status.exit_code if status.exit_code is not None else 0,
                reason=reason,
                started_at=status.started_at or self.started_at,
                finished_at=status.finished_at or exited_at,
                container_id=status.id,
                signal=status.signal,
                message=status.message,
            ),
        ]
        self.running = False
        self.exited_at = exited_at
        self.readiness_ok = self.startup_ok = False
        self.kill = None

    def view(self, default_reason: str, probes_active: bool) -> ContainerView:
        common: dict[str, Any] = {
            "name": self.name,
            "image": self.image or str(self.spec.get("image", "")),
            "image_id": self.image_id,
            "container_id": self.current or "",
            "restart_count": self.restart_count,
            "ready": self.ready(probes_active),
            "started": self.started(probes_active),
            "sidecar": self.sidecar,
        }
        last = self.ended[-1] if self.ended else None
        if self.running:
            return ContainerView(state="running", started_at=self.started_at, last=last, **common)
        if self.waiting is not None:
            reason, message = self.waiting
            return ContainerView(
                state="waiting", reason=reason, message=message, last=last, **common
            )
        if last is not None:
            before = self.ended[-2] if len(self.ended) > 1 else None
            return ContainerView(state="terminated", terminated=last, last=before, **common)
        return ContainerView(state="waiting", reason=default_reason, **common)
