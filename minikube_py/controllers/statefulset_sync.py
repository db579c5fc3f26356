"""One pass of a StatefulSet over its pods: create, fix, recreate and scale down.

Upstream's ``updateStatefulSet``. The claimed pods split into *replicas* (ordinals
``start … start + replicas - 1``, a slot per ordinal, a new pod for every empty slot) and
*condemned* (ordinals past the range, highest first). Then, per ``podManagementPolicy``:

- **OrderedReady** (*monotonic*, the default): replicas in ordinal order; the pass stops at the
  first pod it had to create, or that is terminating, not Running and Ready, or not yet
  available for ``minReadySeconds`` — so ``web-1`` is made only once ``web-0`` is available.
  Condemned pods go one at a time, highest ordinal first, only while every replica is healthy
  (or the pod is itself the first unhealthy one), each waited for until it is gone.
- **Parallel**: every replica and every condemned pod at once (in slow-start batches: 1, 2, 4 …
  stopping after a batch with a failure), nobody waiting for anybody.

A Failed (or Succeeded) pod is deleted with a ``RecreatingFailedPod`` (``RecreatingTerminated
Pod``) Event and made again under the same name in the same pass — at once if the deletion was
immediate, else a later pass once it is gone. A replica whose identity, volumes or claim
owners drifted is fixed by an update. A pod waits while a claim of its name still belongs to
an earlier pod (the garbage collector is about to delete it).

The pass yields the counted status; updating old pods (``statefulset_update.py``) comes after
it, if it got that far.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from minikube_py.client.events import EventRecorder
from minikube_py.controllers.statefulset_podcontrol import StatefulPodControl
from minikube_py.controllers.statefulset_pods import (
    identity_matches,
    in_ordinal_range,
    is_created,
    is_healthy,
    is_running_and_available,
    is_running_and_ready,
    is_terminating,
    new_versioned_pod,
    ordinal,
    phase,
    replicas,
    start_ordinal,
    storage_matches,
)

Object = dict[str, Any]
MAX_BATCH_SIZE = 500


@attrs.define
class Pass:
    """What one sync of one set works with."""

    sts: Object
    current_set: Object
    update_set: Object
    current: str  # the current revision's name
    update: str  # the update revision's name
    control: StatefulPodControl
    recorder: EventRecorder
    now: float
    replicas: list[Object] = attrs.field(factory=list)
    condemned: list[Object] = attrs.field(factory=list)
    first_unhealthy: Object | None = None

    @property
    def monotonic(self) -> bool:
        return (self.sts.get("spec") or {}).get("podManagementPolicy") != "Parallel"

    @property
    def min_ready(self) -> int:
        return int((self.sts.get("spec") or {}).get("minReadySeconds") or 0)

    def new_pod(self, number: int) -> Object:
        return new_versioned_pod(
            self.current_set, self.update_set, self.current, self.update, number
        )


def partition(run: Pass, pods: list[Object]) -> None:
    """Slot the pods into replicas (making the missing ones) and condemned."""
    start = start_ordinal(run.sts)
    slots: list[Object | None] = [None] * replicas(run.sts)
    for pod in pods:
        if in_ordinal_range(pod, run.sts):
            slots[ordinal(pod) - start] = pod
        elif ordinal(pod) >= 0:
            run.condemned.append(pod)
    run.replicas = [pod or run.new_pod(start + i) for i, pod in enumerate(slots)]
    run.condemned.sort(key=ordinal, reverse=True)
    unhealthy = [p for p in run.replicas if not is_healthy(p)]
    unhealthy += [p for p in reversed(run.condemned) if not is_healthy(p)]
    run.first_unhealthy = unhealthy[0] if unhealthy else None


async def run_for_all(count: int, step: Callable[[int], Awaitable[bool]], monotonic: bool) -> bool:
    """Run ``step`` over ``range(count)``: in order, stopping when one says stop, if
    monotonic; else in slow-start batches. True when the pass must end here."""
    if monotonic:
        for index in range(count):
            if await step(index):
                return True
        return False
    done, batch = 0, min(count, 1)
    while batch > 0:
        results = await asyncio.gather(
            *(step(i) for i in range(done, done + batch)), return_exceptions=True
        )
        if errors := [r for r in results if isinstance(r, BaseException)]:
            raise errors[0]
        done += batch
        batch = min(2 * batch, count - done, MAX_BATCH_SIZE)
    return False


async def process_replica(run: Pass, index: int) -> bool:
    """Bring replica ``index`` about; True when a monotonic pass must stop here."""
    sts, pod = run.sts, run.replicas[index]
    if phase(pod) in ("Failed", "Succeeded"):
        if is_terminating(pod):
            return True  # already going; its deletion wakes the set again
        await _announce_recreate(run, pod)
        await run.control.delete_pod(sts, pod)
        pod = run.replicas[index] = run.new_pod(start_ordinal(sts) + index)
    if not is_created(pod):
        if run.control.claim_is_stale(sts, pod):
            return True
        await run.control.create_pod(sts, pod)
        if run.monotonic:
            return True
    if phase(pod) == "Pending":
        await run.control.create_claims(sts, pod)
        await run.control.update_claims_for_policy(sts, pod)
    if run.monotonic and (
        is_terminating(pod)
        or not is_running_and_ready(pod)
        or not is_running_and_available(pod, run.min_ready, run.now)
    ):
        return True
    if not is_created(pod):
        return False  # made in this (parallel) pass: nothing to fix yet
    matches = await run.control.claims_match_policy(run.update_set, pod)
    if identity_matches(sts, pod) and storage_matches(sts, pod) and matches:
        return False
    await run.control.update_pod(run.update_set, pod)
    return False


async def _announce_recreate(run: Pass, pod: Object) -> None:
    meta, name = run.sts["metadata"], pod["metadata"]["name"]
    subject = {**run.sts, "apiVersion": "apps/v1", "kind": "StatefulSet"}
    where = f"StatefulSet {meta.get('namespace')}/{meta.get('name')}"
    if phase(pod) == "Failed":
        message = f"{where} is recreating failed Pod {name}"
        await run.recorder.record(
            subject, reason="RecreatingFailedPod", message=message, warning=True
        )
    else:
        message = f"{where} is recreating terminated Pod {name}"
        await run.recorder.record(subject, reason="RecreatingTerminatedPod", message=message)


async def fix_condemned_claims(run: Pass, index: int) -> bool:
    """A pod past the range: its claims now get the owners ``whenScaled`` wants."""
    pod = run.condemned[index]
    if not await run.control.claims_match_policy(run.update_set, pod):
        await run.control.update_claims_for_policy(run.update_set, pod)
    return False


async def process_condemned(run: Pass, index: int) -> bool:
    """Delete condemned pod ``index`` when its turn has come; True: stop (monotonic)."""
    pod = run.condemned[index]
    if is_terminating(pod):
        return run.monotonic  # wait until it is gone
    if run.monotonic and pod is not run.first_unhealthy:
        if not is_running_and_ready(pod):
            return True
        if not is_running_and_available(pod, run.min_ready, run.now):
            return True
    await run.control.delete_pod(run.sts, pod)
    return True


async def scale(run: Pass) -> bool:
    """Replicas, then condemned claims, then condemned pods; True when the pass ended early
    (blocked in monotonic mode)."""
    monotonic = run.monotonic
    if await run_for_all(len(run.replicas), lambda i: process_replica(run, i), monotonic):
        return True
    if await run_for_all(len(run.condemned), lambda i: fix_condemned_claims(run, i), monotonic):
        return True
    return await run_for_all(len(run.condemned), lambda i: process_condemned(run, i), monotonic)
