"""The Job controller: run pods until enough of them succeed, or give up.

A Job says "run this pod template until ``completions`` pods succeed, ``parallelism`` at a
time". Its controller (upstream's ``pkg/controller/job``) reconciles each Job key:

1. **Done already?** A Job with ``Complete`` or ``Failed`` is left alone.
2. **Its pods:** every pod of the namespace its selector picks, finished ones too (claimed:
   adopted or released, ``claiming.py``); the *active* ones are neither finished nor going.
3. **Decide the outcome:** a ``FailJob`` pod-failure-policy match, more failed pods than
   ``backoffLimit`` (``BackoffLimitExceeded``), or running longer than
   ``activeDeadlineSeconds`` (``DeadlineExceeded``) decide failure — the active pods are
   deleted; enough successes decide success.
4. **Otherwise manage the pods:** a suspended Job deletes its active pods; else it keeps
   ``min(parallelism, completions - succeeded)`` pods active, deleting extras or creating the
   missing ones (``job_pods.py``; Indexed Jobs get the lowest free indexes,
   ``job_indexes.py``) — after the failure back-off (``job_backoff.py``) has passed.
5. **Count and write the status** (``job_tracking.py``): finished pods counted once through
   the tracking finalizer, the interim then the final condition, Events.

Time comes from the injected clock; the key comes back when the back-off or the active
deadline runs out.
"""

from __future__ import annotations

import copy
from typing import Any

from minikube_py.api.selectors import LabelSelector
from minikube_py.api.stamps import rfc3339
from minikube_py.client.events import EventRecorder
from minikube_py.client.informer import object_key
from minikube_py.client.protocol import PODS, Client
from minikube_py.clock import Clock
from minikube_py.controllers.claiming import claim_pods
from minikube_py.controllers.controller import Controller, controller_key
from minikube_py.controllers.expectations import Expectations
from minikube_py.controllers.informers import SharedInformers
from minikube_py.controllers.job_backoff import BackoffStore
from minikube_py.controllers.job_decisions import decide, manage
from minikube_py.controllers.job_indexes import parse_indexes, valid_index
from minikube_py.controllers.job_pods import JOB, JobPods
from minikube_py.controllers.job_tracking import StatusTracker, SyncContext, resource_version
from minikube_py.controllers.job_util import (
    has_tracking_finalizer,
    is_finished,
    is_indexed,
    is_pod_failed,
    is_terminating,
    meta,
    phase,
    spec,
)
from minikube_py.controllers.ranking import filter_active, is_ready

Object = dict[str, Any]
JOB_CONTROLLER_NAME = "kubernetes.io/job-controller"  # spec.managedBy of Jobs run here


class JobController(Controller):
    """Reconciles Jobs against their pods."""

    component = "job-controller"
    name = "job"
    workers = 5  # kube-controller-manager's --concurrent-job-syncs
    max_retries = 15  # upstream drops a key after this many failed syncs in a row

    def __init__(
        self,
        client: Client,
        *,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        workers: int | None = None,
    ) -> None:
        super().__init__(client, clock=clock, recorder=recorder, workers=workers)
        self.pod_control = JobPods(client, self.recorder)
        self.expectations = Expectations(self.clock)
        self.backoffs = BackoffStore()
        # Job key -> uids of pods whose finalizer removal the cache has not shown yet
        self.removals: dict[str, set[str]] = {}
        self.tracker = StatusTracker(
            client, self.pod_control, self.recorder, self.clock, self.backoffs, self.removals
        )

    # -- wiring -----------------------------------------------------------------------------

    def wire(self, informers: SharedInformers) -> None:
        self.jobs = informers.get(JOB.gvr)
        self.pods = informers.get(PODS)
        self.watch(self.jobs)
        self.pods.on_add(self._pod_added)
        self.pods.on_update(self._pod_updated)
        self.pods.on_delete(self._pod_deleted)

    def _owner(self, pod: Object) -> str | None:
        return controller_key(pod, "Job", "batch")

    def _pod_added(self, pod: Object) -> None:
        if meta(pod).get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        if key := self._owner(pod):
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif has_tracking_finalizer(pod):
            self._enqueue_selecting(pod)

    def _pod_updated(self, old: Object, new: Object) -> None:
        if meta(new).get("deletionTimestamp"):
            self._pod_deleted(new)
        for key in {self._owner(old), self._owner(new)}:
            if key is None:
                continue
            if not has_tracking_finalizer(new):
                self.removals.get(key, set()).discard(str(meta(new).get("uid")))
            self.queue.add(key)
        if self._owner(new) is None:
            self._enqueue_selecting(new)

    def _pod_deleted(self, pod: Object) -> None:
        key = self._owner(pod)
        if key is None:
            return
        self.expectations.deletion_observed(key, object_key(pod))
        if not self.pods.get(object_key(pod)):  # gone for good: its finalizer went with it
            self.removals.get(key, set()).discard(str(meta(pod).get("uid")))
        self.queue.add(key)

    def _enqueue_selecting(self, pod: Object) -> None:
        """An orphan (or a released pod): Jobs whose selector matches it may adopt it."""
        labels = meta(pod).get("labels") or {}
        for job in self.jobs.by_namespace(str(meta(pod).get("namespace") or "")):
            try:
                selector = LabelSelector.from_object(spec(job).get("selector"))
            except ValueError:
                continue
            if labels and selector.matches(labels):
                self.enqueue(job)

    # -- reconciling ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        cached = self.jobs.get(key)
        if cached is None:
            self.log.debug("job has been deleted", key=key)
            self.expectations.delete(key)
            self.removals.pop(key, None)
            self.backoffs.remove(key)
            self.tracker.written.pop(key, None)
            await self._release_orphans(key)
            return None
        if resource_version(cached) < self.tracker.written.get(key, 0):
            self.log.debug("job cache behind our own status write; waiting for it", key=key)
            return None  # the informer's event for our write brings the key back
        managed_by = spec(cached).get("managedBy")
        if managed_by not in (None, JOB_CONTROLLER_NAME):
            self.log.debug("skip syncing: managed by another controller", key=key, by=managed_by)
            return None  # JobManagedBy (beta in 1.32): another controller runs this Job
        if is_finished(cached):
            self.backoffs.remove(key)
            await self._release_orphans(key, finished=cached)
            return None
        mode = spec(cached).get("completionMode") or "NonIndexed"
        if mode not in ("NonIndexed", "Indexed"):
            await self.recorder.record(
                {**cached, "apiVersion": "batch/v1", "kind": "Job"},
                reason="UnknownCompletionMode",
                message="Skipped Job sync because completion mode is unknown",
                warning=True,
            )
            return None
        job = copy.deepcopy(cached)
        status = job.setdefault("status", {})
        satisfied = self.expectations.satisfied(key)
        namespace = meta(job)["namespace"]
        pods = await claim_pods(
            self.client, job, self.pods.by_namespace(namespace), controller_kind=JOB
        )
        ctx = self._context(key, job, pods)
        if status.get("startTime") is None and not spec(job).get("suspend"):
            status["startTime"] = rfc3339(self.clock.now())
        requeue = decide(ctx, self.clock.now())
        active, requeue_manage, changed, error = await manage(self, ctx, satisfied)
        requeue = _sooner(requeue, requeue_manage)
        needs_update = changed or active != int(status.get("active") or 0)
        needs_update |= ctx.ready != status.get("ready") or ctx.terminating != status.get(
            "terminating"
        )
        status["active"], status["ready"], status["terminating"] = (
            active,
            ctx.ready,
            ctx.terminating,
        )
        await self.tracker.track(ctx, needs_update)
        if error is not None:
            raise error
        return requeue

    def _context(self, key: str, job: Object, pods: list[Object]) -> SyncContext:
        status = job["status"]
        uncounted = status.get("uncountedTerminatedPods") or {}
        active = filter_active(pods)
        ctx = SyncContext(
            key=key,
            job=job,
            pods=pods,
            active=active,
            ready=sum(1 for pod in active if is_ready(pod)),
            terminating=sum(1 for pod in pods if is_terminating(pod)),
            expected_removals=set(self.removals.get(key, ())),
            uncounted_succeeded=set(uncounted.get("succeeded") or []),
            uncounted_failed=set(uncounted.get("failed") or []),
        )
        new_succeeded = self._new_finished(ctx, ctx.uncounted_succeeded, succeeded=True)
        new_failed = self._new_finished(ctx, ctx.uncounted_failed, succeeded=False)
        ctx.backoff = self.backoffs.next_record(key, new_succeeded, new_failed)
        ctx.new_failed = new_failed
        ctx.succeeded = int(status.get("succeeded") or 0) + len(new_succeeded)
        ctx.succeeded += len(ctx.uncounted_succeeded)
        ctx.failed = int(status.get("failed") or 0) + len(ctx.uncounted_failed)
        if is_indexed(job):
            completions = int(spec(job).get("completions") or 0)
            ctx.prev_indexes = parse_indexes(status.get("completedIndexes"), completions)
            ctx.succeeded_indexes = set(ctx.prev_indexes) | {
                index
                for pod in pods
                if phase(pod) == "Succeeded" and has_tracking_finalizer(pod)
                if (index := valid_index(pod, completions)) is not None
            }
            ctx.succeeded = len(ctx.succeeded_indexes)
        return ctx

    def _new_finished(
        self, ctx: SyncContext, uncounted: set[str], *, succeeded: bool
    ) -> list[Object]:
        """Finished pods not yet noted anywhere in the status (upstream getNewFinishedPods)."""
        completions = int(spec(ctx.job).get("completions") or 0)
        found = []
        for pod in ctx.pods:
            uid = str(meta(pod).get("uid"))
            if not has_tracking_finalizer(pod) or uid in uncounted or uid in ctx.expected_removals:
                continue
            if is_indexed(ctx.job) and valid_index(pod, completions) is None:
                continue
            done = phase(pod) == "Succeeded" if succeeded else is_pod_failed(pod, ctx.job)
            if done:
                found.append(pod)
        return found

    async def _release_orphans(self, key: str, finished: Object | None = None) -> None:
        """Drop the tracking finalizer from the pods of a Job that is gone or finished: nobody
        will count them any more, and the finalizer would keep them forever (upstream's
        orphan-pod clean-up)."""
        uid = meta(finished).get("uid") if finished is not None else None
        stuck = []
        for pod in self.pods.by_namespace(key.partition("/")[0]):
            if not has_tracking_finalizer(pod) or self._owner(pod) != key:
                continue
            if str(meta(pod).get("uid")) in self.removals.get(key, ()):
                continue  # already asked; the cache has not caught up
            if finished is None or _owner_uid(pod) == uid:
                stuck.append(pod)
        if stuck:
            await self.pod_control.remove_finalizers(stuck)


def _owner_uid(pod: Object) -> Any:
    for reference in meta(pod).get("ownerReferences") or []:
        if reference.get("controller"):
            return reference.get("uid")
    return None


def _sooner(first: float | None, second: float | None) -> float | None:
    candidates = [value for value in (first, second) if value is not None]
    return min(candidates) if candidates else None
