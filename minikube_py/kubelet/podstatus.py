"""A pod worker's reports: the pod status it writes, and when it writes it.

The kubelet is the only writer of a running pod's ``status`` (through the ``pods/status``
subresource, as upstream's status manager). Each pass of the pod worker computes the status
from what it knows — the containers' records, the sandbox, the pod's start time — and writes
it only if it differs from the last one written, so a pass that changed nothing costs no
write. A merge patch keeps what it does not name, so fields a status no longer has (a
``reason`` that no longer applies, the pod IP once the sandbox is gone) are named with
``null`` to be removed.

Some statuses are verdicts rather than observations: a pod the node rejected at admission
(``Failed`` with the admission's reason, nothing ever ran), a pod whose deadline ran out or
that was evicted, and a pod that had already ended when this kubelet first saw it (after a
restart of the kubelet): its containers are gone, and its phase must not move back. These
are the *override* (phase, reason, message) and *terminal* below.

The write names the pod's uid: if the pod was deleted and made again under the same name, the
API server refuses it (422 on ``metadata.uid``) and the worker knows its pod is gone, as
upstream's status manager skips such a write.
"""

from __future__ import annotations

import asyncio
from typing import Any

from minikube_py.api.stamps import parse_time
from minikube_py.client.protocol import PODS, ApiError
from minikube_py.kubelet.context import NodeContext
from minikube_py.kubelet.records import ContainerRecord
from minikube_py.kubelet.sandboxes import SandboxKeeper
from minikube_py.kubelet.status import pod_status

Object = dict[str, Any]
# Status fields a pass may drop; a merge patch must name them to remove them.
_DROPPABLE = ("reason", "message", "podIP", "podIPs", "initContainerStatuses", "startTime")


class StatusReporter(SandboxKeeper):
    """The status half of a pod worker (see ``podworker.PodWorker``)."""

    def __init__(
        self,
        ctx: NodeContext,
        pod: Object,
        init: list[ContainerRecord],
        app: list[ContainerRecord],
        *,
        rejected: tuple[str, str] | None,
    ) -> None:
        super().__init__(ctx, pod, init, app)
        status = pod.get("status") or {}
        self.start_time = parse_time(status.get("startTime"))
        self.override: tuple[str, str, str] | None = None
        self.rejected = rejected is not None
        if rejected is not None:
            self.override = ("Failed", rejected[0], f"Pod was rejected: {rejected[1]}")
        # A pod that ended before this kubelet saw it stays ended: its containers are gone.
        self.terminal = rejected is not None or status.get("phase") in ("Succeeded", "Failed")
        if self.terminal and rejected is None:
            reason, message = status.get("reason", ""), status.get("message", "")
            self.override = (str(status["phase"]), reason, message)
        self.written: Object | None = None
        self.gone = False  # the pod object was deleted (or re-made under its name)
        self._wake = asyncio.Event()
        self._wake.set()

    def wake(self) -> None:
        """Make the worker run a pass now."""
        self._wake.set()

    def current_pod(self) -> Object:
        """The pod with the status this worker last wrote (it may not be back from the API)."""
        if self.written is None:
            return self.pod
        return {**self.pod, "status": self.written}

    async def write_status(self) -> None:
        """Compute the status; write it if it differs from the last one written."""
        status = self._status()
        if status == self.written:
            return
        patch_status = {key: None for key in _DROPPABLE if key not in status}
        patch_status.update(status)
        meta = self.pod["metadata"]
        try:
            await self.ctx.client.patch(
                PODS,
                meta.get("namespace"),
                meta["name"],
                {"metadata": {"uid": self.uid}, "status": patch_status},
                subresource="status",
            )
        except ApiError as error:
            # 404: deleted; 422 on the uid: deleted and re-made under its name — either way
            # this worker's pod is gone (upstream's status manager skips such a write too).
            if error.code == 404 or (error.code == 422 and "metadata.uid" in str(error)):
                self.gone = True
                self.wake()
                return
            raise
        self.written = status

    def _status(self) -> Object:
        previous = self.written if self.written is not None else self.pod.get("status") or {}
        if self.rejected and self.override is not None:
            # Rejected at admission: nothing ran, only the verdict is reported (as upstream).
            phase, reason, message = self.override
            kept = [c for c in previous.get("conditions") or [] if c.get("type") == "PodScheduled"]
            return {"phase": phase, "reason": reason, "message": message, "conditions": kept}
        probes = self.ctx.prober_factory is not None
        default = "PodInitializing" if self.init else "ContainerCreating"
        return pod_status(
            {**self.pod, "status": previous},
            [r.view(default, probes) for r in self.init],
            [r.view(default, probes) for r in self.app],
            pod_ip=self.pod_ip,
            host_ip=self.ctx.node.address,
            start_time=self.start_time,
            sandbox_ready=self.sandbox is not None,
            now=self.ctx.clock.now(),
            phase_override=self.override,
        )
