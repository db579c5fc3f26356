"""The TTL-after-finished controller: delete finished Jobs once their time-to-live has passed.

A Job with ``spec.ttlSecondsAfterFinished`` is deleted that many seconds after it finished —
after its ``Complete`` or ``Failed`` condition's ``lastTransitionTime`` — so finished Jobs do
not pile up (``0``: at once). As upstream's ``pkg/controller/ttlafterfinished``:

- the Job informer queues every finished Job with a TTL; a Job whose TTL has not expired yet
  comes back when it will have (the work queue sleeps on the injected clock);
- before deleting, the Job is read afresh from the API — the TTL may have been changed, or the
  Job replaced by a new one of the same name — and deleted only if it still expired, with a
  ``resourceVersion`` precondition so a change in between wins;
- the delete uses ``propagationPolicy: Background``: the Job goes at once and the garbage
  collector removes its pods after it.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.stamps import parse_time
from minikube_py.client.protocol import JOBS, ApiError
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.informers import SharedInformers

Object = dict[str, Any]


def finish_time(job: Object) -> float | None:
    """When the Job finished (its Complete/Failed condition turned true), None if it has not."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return parse_time(condition.get("lastTransitionTime"))
    return None


def needs_cleanup(job: Object) -> bool:
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    return (
        ttl is not None and finish_time(job) is not None and not _meta(job).get("deletionTimestamp")
    )


def time_left(job: Object, now: float) -> float | None:
    """Seconds until the Job expires (<= 0: expired); None if it never does."""
    finished = finish_time(job)
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    if finished is None or ttl is None:
        return None
    return finished + float(ttl) - now


class TTLAfterFinishedController(Controller):
    """Deletes finished Jobs whose ``ttlSecondsAfterFinished`` has passed."""

    name = "ttl-after-finished"
    workers = 5  # kube-controller-manager's --concurrent-ttl-after-finished-syncs

    def wire(self, informers: SharedInformers) -> None:
        self.jobs = informers.get(JOBS)
        self.jobs.on_add(self._maybe_enqueue)
        self.jobs.on_update(lambda _old, new: self._maybe_enqueue(new))

    def _maybe_enqueue(self, job: Object) -> None:
        if needs_cleanup(job):
            self.enqueue(job)

    async def reconcile(self, key: str) -> float | None:
        cached = self.jobs.get(key)
        if cached is None or not needs_cleanup(cached):
            return None
        left = time_left(cached, self.clock.now())
        if left is None:
            return None
        if left > 0:
            return left
        # the cache may be stale (a new TTL, a new Job of this name): decide on a fresh read
        namespace, name = _meta(cached)["namespace"], _meta(cached)["name"]
        try:
            fresh = await self.client.get(JOBS, namespace, name)
        except ApiError as error:
            if error.code == 404:
                return None
            raise
        if not needs_cleanup(fresh):
            return None
        left = time_left(fresh, self.clock.now())
        if left is None:
            return None
        if left > 0:
            return left
        self.log.info("cleaning up job", key=key)
        try:
            await self.client.delete(
                JOBS,
                namespace,
                name,
                propagation_policy="Background",
                preconditions={"resourceVersion": _meta(fresh)["resourceVersion"]},
            )
        except ApiError as error:
            if error.code != 404:
                raise
        return None


def _meta(obj: Object) -> Object:
    return obj.get("metadata") or {}
